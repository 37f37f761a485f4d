"""Probes: kernel-side Python a check sends into the student's kernel, written as real functions.

A course keeps them in `reference/<id>_probes.py`: plain functions whose first parameter is
`student`, the student's functions (`student.build_textcnn(...)`). In the kernel `student` is a
namespace of the notebook's globals; in a unit test it is the reference module, so a probes file
is linted and tested like any module. Everything in a probes file reaches the student's kernel
and nothing in a checks file does: the trust boundary is the file.

A probe is sent by source with the kernel-side functions it uses (its own module's, and
`autograder.keras_probes`'), so a probes file holds only a docstring, functions that import
what they use, and imports of other kernel-side functions.
"""
import ast
import builtins
import functools
import inspect
import symtable
import sys
import textwrap
from dataclasses import dataclass

KERNEL_SIDE_SUFFIX = "_probes"  # reference/<id>_probes.py and autograder/keras_probes.py
STUDENT = "student"
STUDENT_NAMESPACE = "__autograder_student"


class ProbeError(Exception):
    """A probes file breaks the rules above (an authoring error, named by file and line)."""


@dataclass(frozen=True)
class Probe:
    """One probe function, ready to send: its source with its helpers, and the contract functions it reads."""

    name: str
    source: str
    reads: frozenset  # every `student.<name>` in it and its helpers

    def code(self, input_names):
        """The cell body that runs the probe on the inputs the harness binds, setting `result`."""
        arguments = "".join(f", {name}={name}" for name in input_names)
        return (f"{STUDENT_NAMESPACE} = __import__('types').SimpleNamespace(**globals())\n"
                f"{self.source}\nresult = {self.name}({STUDENT_NAMESPACE}{arguments})\n")


def kernel_side(function):
    """Whether `function` is written to run in the student's kernel (defined in a probes module)."""
    return inspect.isfunction(function) and function.__module__.endswith(KERNEL_SIDE_SUFFIX)


@functools.cache
def _tree(module_name):
    module = sys.modules[module_name]
    path = inspect.getsourcefile(module)
    tree = ast.parse(inspect.getsource(module), path)
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        kernel_import = isinstance(node, ast.ImportFrom) and (node.module or "").endswith(KERNEL_SIDE_SUFFIX)
        if not (docstring or kernel_import or isinstance(node, ast.FunctionDef)):
            raise ProbeError(f"{path}, line {node.lineno}: a probes file holds only functions (which import what "
                             "they use) and imports of kernel-side functions; this statement would not reach "
                             "the kernel")
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _definition(function):
    node = _tree(function.__module__).get(function.__name__)
    if node is None:
        raise ProbeError(f"{function.__qualname__} is not a top-level function of {function.__module__}")
    return node


def _helpers(function, node):
    """The kernel-side functions that `function`'s body names, each a (function, node)."""
    for name in sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}):
        value = function.__globals__.get(name)
        if kernel_side(value) and value is not function:
            yield value, _definition(value)


def _reads(node):
    return {n.attr for n in ast.walk(node)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == STUDENT}


def _unsent_globals(source):
    """Global names the functions of `source` read that neither it nor the builtins define."""
    table = symtable.symtable(source, "<probe>", "exec")
    defined = {child.get_name() for child in table.get_children()}
    missing, tables = set(), list(table.get_children())
    while tables:
        current = tables.pop()
        tables += current.get_children()
        if current.get_type() == "function":
            missing.update(name for name in current.get_globals()
                           if name not in defined and not hasattr(builtins, name))
    return missing


@functools.cache
def probe(function):
    """The Probe of a kernel-side function: its source after those of its helpers, each once."""
    if not kernel_side(function):
        raise ProbeError(f"{getattr(function, '__qualname__', function)!r} is not a function of a probes module")
    node = _definition(function)
    if not node.args.args or node.args.args[0].arg != STUDENT:
        raise ProbeError(f"probe {function.__name__} should take `{STUDENT}` as its first parameter")
    ordered, seen = [], set()

    def visit(item, item_node):
        if item in seen:
            return
        seen.add(item)
        for helper, helper_node in _helpers(item, item_node):
            visit(helper, helper_node)
        ordered.append((item, item_node))

    visit(function, node)
    source = "\n\n".join(textwrap.dedent(inspect.getsource(item)) for item, _ in ordered)
    if missing := _unsent_globals(source):
        raise ProbeError(f"probe {function.__name__} uses {', '.join(sorted(missing))}, which would not reach the "
                         "kernel: import it inside the function, or pass it as an input")
    return Probe(function.__name__, source, frozenset().union(*(_reads(n) for _, n in ordered)))


def validate(module):
    """Raise ProbeError unless every probe of the probes `module` can be sent (authoring errors surface at load)."""
    for name, node in _tree(module.__name__).items():
        if node.args.args and node.args.args[0].arg == STUDENT:
            probe(getattr(module, name))
