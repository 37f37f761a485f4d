"""The plain-data format that crosses the trust boundary."""
import json

import numpy as np
import pytest

from autograder import judge, wire


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


def test_an_int_past_float64_arrives_opaque_and_fails_as_the_students_value():
    value = wire.decode(json.dumps({"__tuple__": [10**400, -(10**400), 2**1023]}))
    assert [getattr(item, "type_name", item) for item in value] == [
        "int too large for a float", "int too large for a float", 2**1023]
    with pytest.raises(judge.Fail, match="not an array of numbers"):
        judge.as_float(value[0], "the loss")
