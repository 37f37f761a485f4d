"""Plain data across the trust boundary: JSON with tagged arrays and tuples, never pickle.

This module is also sent as source into the student's kernel (it imports only
json, base64 and numpy), so both sides speak the same format. Decoding builds
only dicts, lists, tuples, numbers, strings and numeric arrays, within caps on
the text's size, its number of elements and its nesting: parsed JSON takes tens
of times the memory of its text, so elements are counted in the text, before
json.loads builds anything.
"""
import base64
import json

import numpy as np

MAX_WIRE_BYTES = 64 * 2**20
# Elements are counted as the "[", "{" and "," of the text (one per list and dict, one per item
# past a container's first; commas inside strings count too, base64 has none). The checks' largest
# witness has about 20,000 (4,000 arrays of 6 ids, as 5 each); 100,000 parse in under 20 MB.
MAX_WIRE_ELEMENTS = 100_000
MAX_WIRE_DEPTH = 64  # lists, tuples, dicts and arrays inside one another; the checks' reach 5
ARRAY_KINDS = "biuf"  # bool, signed, unsigned, float: never objects, strings or structs
LARGEST_INT = 2**1024  # from here on an int has no float64


class WireError(ValueError):
    """The data could not be encoded or decoded as plain data."""


def _to_plain(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, np.generic):
        return _to_plain(value.item())
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.kind not in ARRAY_KINDS:
            return {"__object__": f"ndarray of dtype {array.dtype}"}
        return {
            "__ndarray__": base64.b64encode(array.tobytes()).decode("ascii"),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if isinstance(value, tuple):
        return {"__tuple__": [_to_plain(item) for item in value]}
    if isinstance(value, list):
        return [_to_plain(item) for item in value]
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {"__dict__": {key: _to_plain(item) for key, item in value.items()}}
    return {"__object__": type(value).__name__}


def encode(value):
    """JSON text for a tree of None, bools, numbers, strings, arrays, lists, tuples and dicts.

    Anything else becomes an opaque `{"__object__": type name}`: its methods
    (`__eq__`, `__float__`, ...) are never called, here or in the judge.
    """
    return json.dumps(_to_plain(value))


def _decode_array(tagged):
    dtype = np.dtype(tagged["dtype"])
    if dtype.kind not in ARRAY_KINDS or dtype.hasobject:
        raise WireError(f"array of dtype {dtype} is not allowed")
    shape = tuple(int(n) for n in tagged["shape"])
    if any(n < 0 for n in shape):
        raise WireError("array with a negative dimension")
    data = base64.b64decode(tagged["__ndarray__"], validate=True)
    if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise WireError("array data does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _from_plain(value, depth=0):
    if isinstance(value, (list, dict)) and depth >= MAX_WIRE_DEPTH:
        raise RecursionError  # json.loads raises it too, at about 1000
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= LARGEST_INT:
        return Opaque("int too large for a float")  # `10 ** 400`: no judge may stumble on it
    if isinstance(value, list):
        return [_from_plain(item, depth + 1) for item in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return _decode_array(value)
    if "__tuple__" in value:
        return tuple(_from_plain(item, depth + 1) for item in value["__tuple__"])
    if "__dict__" in value:
        return {str(key): _from_plain(item, depth + 1) for key, item in value["__dict__"].items()}
    if "__object__" in value:
        return Opaque(str(value["__object__"])[:100])
    raise WireError("unknown tagged value")


class Opaque:
    """Stands for a value that was not plain data; it only knows its type's name."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} object>"


def decode(text):
    """Parse wire text into plain values, refusing anything oversized or malformed."""
    if len(text) > MAX_WIRE_BYTES:
        raise WireError(f"{len(text)} bytes exceeds the {MAX_WIRE_BYTES}-byte limit")
    if sum(map(text.count, "[{,")) > MAX_WIRE_ELEMENTS:
        raise WireError(f"more than {MAX_WIRE_ELEMENTS} elements")
    try:
        return _from_plain(json.loads(text))
    except WireError:
        raise
    except RecursionError:
        raise WireError(f"nested more than {MAX_WIRE_DEPTH} deep") from None
    except (ValueError, TypeError, KeyError) as error:
        raise WireError(f"malformed data: {type(error).__name__}") from None
