"""Kernel-side stand-in for a package that NumPy-only functions may not use: it imports, it cannot be used.

The sandbox binds this one file over every such package in the kernel that runs the NumPy-only
functions, so a notebook's import cell still runs to its end (`import keras` comes before
`import numpy as np` in the released notebooks), while any use of the package raises ImportError
naming it. None of the real package's files are there: this file guards nothing, it only keeps
the notebook running and the message clear.
"""
import sys
from importlib.machinery import ModuleSpec

MESSAGE = "{} is not available here: this function may use only NumPy and the Python standard library"


class Unavailable:
    """Any attribute of an unavailable package; calling, indexing, iterating or subclassing it raises."""

    def __init__(self, name):
        self.__dict__["_name"] = name

    def __getattr__(self, attribute):
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return Unavailable(f"{self._name}.{attribute}")

    def _refuse(self, *args, **kwargs):
        raise ImportError(MESSAGE.format(self._name.partition(".")[0]))

    __call__ = __getitem__ = __iter__ = __mro_entries__ = _refuse

    def __repr__(self):
        return f"<unavailable {self._name}>"


def _make_unavailable(namespace, name):
    """Turn a module's namespace into an unavailable package called `name`."""
    namespace.update(__unavailable__=True, __path__=[],
                     __getattr__=lambda attribute: getattr(Unavailable(name), attribute))


class Submodules:
    """Meta path finder: every submodule of an unavailable package (`matplotlib.pyplot`) is unavailable too."""

    unavailable_finder = True

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        root = sys.modules.get(fullname.partition(".")[0])
        if "." in fullname and getattr(root, "__unavailable__", False):
            return ModuleSpec(fullname, Submodules, is_package=True)
        return None

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        _make_unavailable(module.__dict__, module.__name__)


if not __package__:  # bound over a top-level package in the kernel, not imported as autograder.unavailable
    if not any(getattr(finder, "unavailable_finder", False) for finder in sys.meta_path):
        sys.meta_path.append(Submodules)
    _make_unavailable(globals(), __name__)
