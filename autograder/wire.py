"""Plain data across the trust boundary: JSON with tagged arrays and tuples, never pickle.

This module is also sent as source into the student's kernel (it imports only
json, base64 and numpy), so both sides speak the same format. Decoding builds
only dicts, lists, tuples, numbers, strings and numeric arrays, within size caps.
"""
import base64
import json

import numpy as np

MAX_WIRE_BYTES = 64 * 2**20
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


def _from_plain(value):
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= LARGEST_INT:
        return Opaque("int too large for a float")  # `10 ** 400`: no judge may stumble on it
    if isinstance(value, list):
        return [_from_plain(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__ndarray__" in value:
        return _decode_array(value)
    if "__tuple__" in value:
        return tuple(_from_plain(item) for item in value["__tuple__"])
    if "__dict__" in value:
        return {str(key): _from_plain(item) for key, item in value["__dict__"].items()}
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
    try:
        return _from_plain(json.loads(text))
    except WireError:
        raise
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        raise WireError(f"malformed data: {type(error).__name__}") from None
