"""The plain-data format that crosses the trust boundary."""
import json

import numpy as np
import pytest

from autograder import wire


def test_round_trip_keeps_arrays_tuples_dicts_and_scalars():
    value = {"W": np.arange(6, dtype=np.float32).reshape(2, 3), "t": (1, 2.5, "x", None, True),
             "l": [np.int64(3), np.float64(0.25)], "n": float("nan")}
    back = wire.decode(wire.encode(value))
    assert back["W"].dtype == np.float32 and np.array_equal(back["W"], value["W"])
    assert back["t"] == (1, 2.5, "x", None, True) and back["l"] == [3, 0.25] and np.isnan(back["n"])


def test_objects_become_opaque_without_calling_their_methods():
    class Liar:
        def __eq__(self, other):
            raise AssertionError("never called")
    back = wire.decode(wire.encode({"x": Liar(), "o": np.array([Liar()], dtype=object)}))
    assert isinstance(back["x"], wire.Opaque) and back["x"].type_name == "Liar"
    assert isinstance(back["o"], wire.Opaque)


@pytest.mark.parametrize("payload, problem", [
    ({"__ndarray__": "AAAA", "dtype": "|O", "shape": [1]}, "not allowed"),
    ({"__ndarray__": "AAAA", "dtype": "<f8", "shape": [5]}, "does not match"),
    ({"__ndarray__": "AAAA", "dtype": "<f8", "shape": [-1]}, "negative"),
    ({"__pickle__": "x"}, "unknown tagged"),
])
def test_malformed_or_dangerous_data_is_refused(payload, problem):
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(json.dumps(payload))


def test_oversized_and_deeply_nested_data_is_refused(monkeypatch):
    with pytest.raises(wire.WireError, match="malformed"):
        wire.decode("[" * 100000 + "]" * 100000)
    monkeypatch.setattr(wire, "MAX_WIRE_BYTES", 10)
    with pytest.raises(wire.WireError, match="limit"):
        wire.decode(json.dumps([1] * 10))
