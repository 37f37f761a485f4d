"""The reference solution standing in for a student, in the test's own process.

It answers `student.<function>(...)`, `student.probe(...)` and `student.call_noting_warnings(...)`
as the kernel would, every value through the wire both ways, so a checks file and its probes
are unit-tested without a kernel.
"""
import warnings

from autograder import wire


def sent(value):
    """`value` as it arrives on the other side of the wire."""
    return wire.decode(wire.encode(value))


class ReferenceStudent:
    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        function = getattr(self._module, name)
        return lambda *args: sent(function(*sent(list(args))))

    def probe(self, function, **inputs):
        return sent(function(self._module, **sent(inputs)))

    probe_once = probe

    def call_noting_warnings(self, function, *args):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(self, function)(*args)
        return value, sorted({w.category.__name__ for w in caught})
