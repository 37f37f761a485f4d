"""Kernel-side stand-in for the packages that NumPy-only functions may not use: they import, they cannot be used.

In the kernel that runs the NumPy-only functions the sandbox binds this file into the package folder,
beside a .pth file that calls `install` at start-up with the names of every other installed package.
Each then imports as an unavailable package, so a notebook's import cell still runs to its end
(`import keras` comes before `import numpy as np` in the released notebooks), while any use of it
raises ImportError naming it. None of the real packages' files are there: this file guards nothing,
it only keeps the notebook running and the message clear.
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


class Finder:
    """Meta path finder, last on the path: each of `names` (a package whose files the kernel cannot see) and
    every submodule of an unavailable package (`matplotlib.pyplot`) imports as unavailable."""

    unavailable_finder = True

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, fullname, path=None, target=None):
        root, dot, _ = fullname.partition(".")
        if fullname in self.names or (dot and getattr(sys.modules.get(root), "__unavailable__", False)):
            return ModuleSpec(fullname, self, is_package=True)
        return None

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        _make_unavailable(module.__dict__, module.__name__)


def install(names):
    """Make each of `names` import as unavailable (the .pth file calls this as the kernel's interpreter starts)."""
    if not any(getattr(finder, "unavailable_finder", False) for finder in sys.meta_path):
        sys.meta_path.append(Finder(names))
