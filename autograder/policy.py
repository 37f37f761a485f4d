"""Static policy: forbidden libraries per graded function, found without running anything.

A function is in violation when its solution cell imports a forbidden module or
uses a name that any cell binds to one, directly or through helper functions and
variables defined anywhere in the notebook. Modules are dotted paths matched as
prefixes: forbidding `scipy.special` catches `scipy.special.softmax` but not
`scipy.linalg`.
"""
import ast
import re

from . import notebook

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPES = (*FUNCTIONS, ast.ClassDef)


def rules(settings, functions):
    """{function: forbidden modules} from an assignment's settings.

    `forbidden` applies to every graded function; `forbidden_in` adds `modules`
    for the listed `functions` only (NumPy parts of an assignment that uses Keras elsewhere).
    """
    everywhere = set(settings.get("forbidden", ()))
    extra = settings.get("forbidden_in", {})
    restricted = set(extra.get("functions", ()))
    return {function: frozenset(everywhere | (set(extra.get("modules", ())) if function in restricted else set()))
            for function in functions}


def _matching(path, forbidden):
    """The forbidden module that the dotted `path` is or lies inside, or None."""
    return next((module for module in sorted(forbidden) if path == module or path.startswith(module + ".")), None)


def _imported_modules(node):
    """Dotted modules that `node` imports, including __import__('x') and importlib.import_module('x')."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return [module] + [f"{module}.{alias.name}" for alias in node.names]
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


def _outer_nodes(tree):
    """The nodes of a cell outside any function or class body: what runs when the cell runs."""
    pending = list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, SCOPES):
            pending.extend(ast.iter_child_nodes(node))


def _bindings(trees):
    """{name: dotted module} for the names that imports at cell level bind."""
    bound = {}
    for tree in trees:
        for node in _outer_nodes(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    root = alias.name.split(".")[0]  # `import a.b` binds `a`; `import a.b as c` binds `c`
                    bound[alias.asname or root] = alias.name if alias.asname else root
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    bound[alias.asname or alias.name] = f"{node.module or ''}.{alias.name}"
    return bound


def _dotted(node, bindings):
    """`np.linalg.norm` -> 'numpy.linalg.norm' when `np` is bound to numpy; None otherwise."""
    attributes = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in bindings:
        return ".".join([bindings[node.id], *reversed(attributes)])
    return None


def _local_names(node):
    """Arguments and assigned names inside the functions of `node`: they shadow cell-level names."""
    local = set()
    for scope in ast.walk(node):
        if isinstance(scope, FUNCTIONS):
            local.update(arg.arg for arg in ast.walk(scope.args) if isinstance(arg, ast.arg))
            local.update(n.id for n in ast.walk(scope) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store))
    return local


def _reaches(node, forbidden, bindings, tainted):
    """The forbidden module that `node` imports, refers to, or uses through a tainted name, or None."""
    local = _local_names(node)
    bindings = {name: path for name, path in bindings.items() if name not in local}
    tainted = {name: module for name, module in tainted.items() if name not in local}
    for sub in ast.walk(node):
        paths = _imported_modules(sub)
        if isinstance(sub, (ast.Name, ast.Attribute)):
            paths.append(_dotted(sub, bindings))
        for path in filter(None, paths):
            module = _matching(path, forbidden)
            if module:
                return module
        if isinstance(sub, ast.Name) and sub.id in tainted:
            return tainted[sub.id]
    return None


def _defined_by(node):
    """Names a top-level statement defines: a function or class, or the targets of an assignment."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return []


def _violations(trees, cells, forbidden, functions):
    bindings = _bindings(trees)
    tainted = {name: module for name, path in bindings.items() if (module := _matching(path, forbidden))}
    definitions = [node for tree in trees for node in tree.body if _defined_by(node)]
    changed = True
    while changed:  # a helper or variable that reaches a forbidden module taints its own names
        changed = False
        for node in definitions:
            names = [name for name in _defined_by(node) if name not in tainted]
            module = names and _reaches(node, forbidden, bindings, tainted)
            if module:
                tainted.update(dict.fromkeys(names, module))
                changed = True
    violations = {}
    for function in functions:
        tree = _parse(cells[function].source) if function in cells else None
        module = tainted.get(function)  # a redefinition elsewhere counts too
        module = module or (tree and _reaches(tree, forbidden, bindings, tainted))
        if module:
            violations[function] = f"uses {module}, which is forbidden in this function"
    return violations


def scan(nb, forbidden_by_function):
    """{function: reason} for each function whose code reaches one of its forbidden modules."""
    trees = [tree for cell in nb.cells if cell.cell_type == "code" and (tree := _parse(cell.source))]
    cells = notebook.solution_cells(nb)
    groups = {}
    for function, forbidden in forbidden_by_function.items():
        groups.setdefault(frozenset(forbidden), []).append(function)
    violations = {}
    for forbidden, functions in groups.items():
        if forbidden:
            violations.update(_violations(trees, cells, forbidden, functions))
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
            names.update(_defined_by(node))
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
