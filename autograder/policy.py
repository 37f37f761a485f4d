"""Static policy: forbidden libraries per graded function, found without running anything.

A function is in violation when its solution cell imports a forbidden module or
uses a name that any cell binds to one, directly or through helper functions
defined anywhere in the notebook.
"""
import ast
import re

from . import notebook


def _root(module_name):
    return (module_name or "").split(".")[0]


def _imported_modules(node):
    """Modules that `node` imports, including __import__('x') and importlib.import_module('x')."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [node.module or ""]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def _parse(source):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
        return None  # IPython magics, broken or pathological code: nothing to see statically


def _names_and_imports(tree):
    names, imports = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        imports.update(_root(module) for module in _imported_modules(node))
    return names, imports


def scan(nb, forbidden, functions):
    """{function: reason} for each of `functions` whose code reaches a `forbidden` module."""
    forbidden = set(forbidden)
    trees = [_parse(cell.source) for cell in nb.cells if cell.cell_type == "code"]
    tainted = {}  # name -> forbidden module it leads to
    for tree in filter(None, trees):
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    module = _root(node.module if isinstance(node, ast.ImportFrom) else alias.name)
                    if module in forbidden:
                        tainted[(alias.asname or alias.name).split(".")[0]] = module
    definitions = [node for tree in filter(None, trees) for node in tree.body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))]
    changed = True
    while changed:  # a helper that uses a tainted name taints its own name
        changed = False
        for node in definitions:
            names, imports = _names_and_imports(node)
            reached = sorted(imports & forbidden) or [tainted[n] for n in sorted(names) if n in tainted]
            if reached and node.name not in tainted:
                tainted[node.name] = reached[0]
                changed = True
    violations = {}
    cells = notebook.solution_cells(nb)
    for function in functions:
        tree = _parse(cells[function].source) if function in cells else None
        names, imports = _names_and_imports(tree) if tree else (set(), set())
        names.add(function)  # a redefinition elsewhere counts too
        reached = sorted(imports & forbidden) or sorted({tainted[n] for n in names if n in tainted})
        if reached:
            violations[function] = f"uses {reached[0]}, which is forbidden in this function"
    return violations


TOP_LEVEL_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)


def defined_names(nb):
    """Names that some code cell binds at top level (def, class, assignment, import).

    A cell the parser rejects (IPython magics, or CPython 3.11's spurious "AST constructor
    recursion depth mismatch") still counts its top-level `def`s: this only improves messages,
    and must never call a function missing that the kernel will define.
    """
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tree = _parse(cell.source)
        if tree is None:
            names.update(TOP_LEVEL_DEF.findall(cell.source))
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
