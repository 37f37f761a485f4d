"""The plain-data format that crosses the trust boundary."""
import functools
import json
import subprocess
import sys

import numpy as np
import pytest

from autograder import checks, wire
from conftest import ROOT


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


def test_oversized_data_is_refused(monkeypatch):
    monkeypatch.setattr(wire, "MAX_WIRE_BYTES", 10)
    with pytest.raises(wire.WireError, match="limit"):
        wire.decode(json.dumps([1] * 10))


def test_data_with_too_many_elements_is_refused():
    most = wire.MAX_WIRE_ELEMENTS
    assert len(wire.decode(json.dumps([0] * most))) == most  # one "[" and most - 1 commas
    for text in (json.dumps([0] * (most + 1)), json.dumps([[]] * (most // 2 + 1)),
                 wire.encode({str(i): i for i in range(most)}), wire.encode([np.zeros(2)] * (most // 4))):
        with pytest.raises(wire.WireError, match=f"more than {most} elements"):
            wire.decode(text)


def nested(depth):
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text", [
    nested(wire.MAX_WIRE_DEPTH + 1),
    nested(5000),  # past json.loads's own recursion limit
    wire.encode(functools.reduce(lambda inner, _: {"x": (inner,)}, range(wire.MAX_WIRE_DEPTH // 2 + 1), 0)),
])
def test_too_deeply_nested_data_is_refused(text):
    with pytest.raises(wire.WireError, match=f"nested more than {wire.MAX_WIRE_DEPTH} deep"):
        wire.decode(text)
    assert wire.decode(nested(wire.MAX_WIRE_DEPTH))


def test_a_witness_as_large_as_the_checks_make_still_decodes():
    rng = np.random.default_rng(0)
    tokens = [f"word{i % 700}" for i in range(5000)]
    draws = [rng.integers(0, 50, size=6) for _ in range(4000)]  # word2vec's sample_negatives check
    value = {"result": (draws, tokens, {"a": {"b": {"c": (1.5, [2, None])}}}),
             "inputs_after": {"tokens": tokens, "noise": np.full(50, 0.02)}}
    back = wire.decode(wire.encode(value))
    assert back["result"][1] == tokens == back["inputs_after"]["tokens"]
    assert all(np.array_equal(a, b) for a, b in zip(back["result"][0], draws, strict=True))
    assert back["result"][2] == {"a": {"b": {"c": (1.5, [2, None])}}}


CAP_TEXTS = """
import json
from autograder import wire

def outcome(text):
    try:
        return len(wire.decode(text))
    except wire.WireError as error:
        return str(error)

cap, half = wire.MAX_WIRE_BYTES, wire.MAX_WIRE_ELEMENTS // 2 - 1
worst = outcome('[' + '[],' * (cap // 3 - 1) + '[]]')
largest = outcome('[' + '[],' * half + '"' + 'x' * (cap - 3 * half - 4) + '"]')
# VmHWM, not ru_maxrss: that one starts from the parent's peak (Linux keeps it across exec)
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps([worst, largest, peak_kb // 1024]))
"""


def test_decoding_texts_at_the_byte_cap_keeps_memory_small():
    """`[[],[],...]` at the cap once peaked at 3.2 GB (and 35 s): it is refused before parsing now, and
    the largest text that passes (its elements, then one long string) decodes within 400 MB."""
    done = subprocess.run([sys.executable, "-c", CAP_TEXTS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    worst, largest, peak_mb = json.loads(done.stdout)
    assert peak_mb < 400, f"decoding peaked at {peak_mb} MB"
    assert worst == f"more than {wire.MAX_WIRE_ELEMENTS} elements" and largest == wire.MAX_WIRE_ELEMENTS // 2


def test_an_int_past_float64_arrives_opaque_and_fails_as_the_students_value():
    value = wire.decode(json.dumps({"__tuple__": [10**400, -(10**400), 2**1023]}))
    assert [getattr(item, "type_name", item) for item in value] == [
        "int too large for a float", "int too large for a float", 2**1023]
    with pytest.raises(checks.Fail, match="not an array of numbers"):
        checks.as_float(value[0], "the loss")
