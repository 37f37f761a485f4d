"""Static policy: the modules each graded function may not use, found without running anything.

Every graded function obeys `forbidden`, dotted module names matched as prefixes: forbidding
`scipy.special` catches `scipy.special.softmax` but not `scipy.linalg`. A `numpy_only` function may
use nothing but NumPy, the Python standard library and the modules the course releases.

A function is in violation when its solution cell, or a definition of it elsewhere, reaches a module
it may not use: by importing it, or through a name bound to it anywhere in the notebook, directly or
through helper functions, variables, aliases, star imports, `global`, getattr, sys.modules, IPython
magics and exec'd strings. The run-time policy is the guarantee; this scan gives the early, clear
message, so it flags only real references to such a module and may miss what only running shows.
"""
import ast
import builtins
import functools
import re
import sys
from dataclasses import dataclass, field

from IPython.core.inputtransformer2 import TransformerManager

from . import notebook

MAX_SCANNED_CELL = 64 * 1024  # characters; a longer cell is not parsed (a solution cell has a few hundred)
MAX_SCANNED_NOTEBOOK = 256 * 1024  # characters parsed per notebook, solution cells first: ~300 MB, ~4 s at most
MAX_EMBEDDED_DEPTH = 3  # exec("exec('...')") is followed this deep
MAX_ROUNDS = 50  # of propagation: real notebooks settle in two or three
MAX_PATHS = 8  # modules one name may stand for
CODE_MAGICS = {"time", "timeit", "prun", "capture", "debug"}  # magics that run their text as Python
PREDEFINED = set(dir(builtins)) | {"get_ipython", "display", "In", "Out"}
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
BODIES = (*DEFINITIONS, ast.Lambda)  # scopes that own the names bound in comprehensions inside them
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclass(frozen=True)
class Rule:
    """What one graded function may not use; functions with equal rules are scanned together."""
    forbidden: frozenset = frozenset()  # dotted prefixes
    numpy_only: bool = False
    course_modules: frozenset = frozenset()  # top-level modules the course releases: allowed

    def violation(self, path: str) -> str | None:
        """What using the dotted `path` breaks this rule with (the forbidden prefix, or for a NumPy-only
        function the whole path, such as `scipy.special.logsumexp`), or None."""
        module = next((m for m in sorted(self.forbidden) if path == m or path.startswith(m + ".")), None)
        root = path.split(".")[0]
        if module or not self.numpy_only or root == "numpy" or root in sys.stdlib_module_names:
            return module
        return None if root in self.course_modules else path

    def describe(self, function: str, module: str) -> str:
        """The reason given to the student; it starts with "uses <module>"."""
        if module in self.forbidden:
            return f"uses {module}, which is forbidden in this function"
        return f"uses {module}, but {function} may use only NumPy and the Python standard library"


def rules(settings, functions, course_modules=()):
    """{function: Rule} from an assignment's settings `forbidden` and `numpy_only`."""
    forbidden, numpy_only = frozenset(settings.get("forbidden", ())), set(settings.get("numpy_only", ()))
    return {function: Rule(forbidden, function in numpy_only, frozenset(course_modules)) for function in functions}


@functools.lru_cache(maxsize=256)
def _ipython_to_python(source):
    """The Python that IPython runs for a cell (its magics and prompts transformed), or the source itself where
    its transformers fail. Remembered: most cells are the instructor's, the same in every submission, and
    tokenizing each for IPython was half the cost of a scan (at most 64 KB a cell: a few MB in all)."""
    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython's transformers on input they do not expect
        return source


def _parse(source):
    """The AST of a cell, IPython syntax included, or None: nothing in a notebook may make the scan fail."""
    if len(source) > MAX_SCANNED_CELL or len(source.encode("utf-8", "surrogatepass")) > MAX_SCANNED_CELL:
        return None
    for text in dict.fromkeys((_ipython_to_python(source), source)):
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError, SystemError):
            pass  # broken or pathological code: nothing to see statically
    return None


def _constant(node):
    """The value of a constant string, else None."""
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _module_names(node):
    """{'a.b'} when `node` is the constant string of a dotted module name, else nothing."""
    name = _constant(node)
    return {name} if name and all(part.isidentifier() for part in name.split(".")) else set()


def _callee(call):
    """'f' for `f(...)` and `x.f(...)`."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _embedded_code(call):
    """The constant Python text that a call runs: exec/eval/compile, IPython's run_cell and code magics."""
    name, args = _callee(call), call.args
    if name in ("exec", "eval", "compile", "run_cell"):
        text = args[:1]
    elif name in ("run_line_magic", "run_cell_magic") and args and _constant(args[0]) in CODE_MAGICS:
        text = args[1:2] if name == "run_line_magic" else args[2:3]
    else:
        return None
    return _constant(text[0]) if text else None


def _tree(source, depth=0):
    """The cell's AST, where each call that runs a constant string of code gets that code's AST as one
    more argument: every walk below then sees the code in the scope where it runs."""
    tree = _parse(source)
    if tree is not None and depth < MAX_EMBEDDED_DEPTH:
        for call in [node for node in ast.walk(tree) if isinstance(node, ast.Call)]:
            code = _embedded_code(call)
            embedded = code is not None and _tree(code, depth + 1)
            if embedded:
                call.args.append(embedded)
    return tree


def _bound(node):
    """(name, value, alias) for each name that `node` binds. The value is a dotted module for an import,
    else the expression or definition whose result the name holds; alias when the name is that very
    value (`sp = scipy`), so that `sp.special` resolves like `scipy.special`."""
    if isinstance(node, ast.Import):  # `import a.b` binds `a`; `import a.b as c` binds `c`
        return [(a.asname or a.name.split(".")[0], a.name if a.asname else a.name.split(".")[0], True)
                for a in node.names]
    if isinstance(node, ast.ImportFrom):
        return [] if node.level else [(a.asname or a.name, f"{node.module}.{a.name}", True)
                                      for a in node.names if a.name != "*"]
    if isinstance(node, DEFINITIONS):
        return [(node.name, node, False)]
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value:
        targets, value = [node.target], node.value
    elif isinstance(node, (ast.For, ast.AsyncFor)):
        targets, value = [node.target], node.iter
    elif isinstance(node, ast.withitem) and node.optional_vars:
        targets, value = [node.optional_vars], node.context_expr
    else:
        return []
    alias = not isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.withitem)) and all(
        isinstance(target, ast.Name) for target in targets)
    return [(name.id, value, alias) for target in targets for name in ast.walk(target)
            if isinstance(name, ast.Name) and isinstance(name.ctx, ast.Store)]


def _declarations(scope):
    """(local names, names declared global) of a function, class or comprehension: locals shadow."""
    if isinstance(scope, COMPREHENSIONS):
        return {n.id for g in scope.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}, set()
    local, declared, outer = set(), set(), set()
    pending = list(ast.iter_child_nodes(scope))
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            (declared if isinstance(node, ast.Global) else outer).update(node.names)
        elif isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            local.add(node.id)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            local.add(node.name)
        local.update(name for name, _, _ in _bound(node))
        if not isinstance(node, BODIES):  # what a nested function or class binds is its own
            pending.extend(ast.iter_child_nodes(node))
    return local - declared - outer, declared


def _resolve(name, stack, declarations):
    """The scope whose `name` a use inside `stack` (innermost last) refers to; None: the notebook's globals.
    Like Python, it skips the bodies of enclosing classes."""
    for scope in reversed(stack):
        if scope not in declarations:
            declarations[scope] = _declarations(scope)
        local, declared = declarations[scope]
        if name in declared:
            return None
        if name in local and (scope is stack[-1] or not isinstance(scope, ast.ClassDef)):
            return scope
    return None


@dataclass
class _Index:
    """What the notebook binds, whatever the rule."""
    scopes: dict = field(default_factory=dict)  # Name node -> scope node of its binding; None: global
    sites: list = field(default_factory=list)  # ([(scope, name)], value or definition that they hold)
    bindings: dict = field(default_factory=dict)  # (scope, name) -> dotted modules it stands for
    stars: list = field(default_factory=list)  # modules star-imported
    global_names: set = field(default_factory=set)
    references: dict = field(default_factory=dict)  # id(node) -> what it refers to (`_references`)


def _index(trees):
    """Walk every cell once, knowing the scope of each node."""
    index, declarations, aliases, sites = _Index(), {}, [], []
    pending = [(tree, ()) for tree in reversed(trees)]
    while pending:
        node, stack = pending.pop()
        if isinstance(node, ast.Name):
            index.scopes[node] = _resolve(node.id, stack, declarations)
        if isinstance(node, ast.ImportFrom) and not node.level and any(a.name == "*" for a in node.names):
            index.stars.append(node.module)
        keys = []
        for name, value, alias in _bound(node):
            key = (_resolve(name, stack, declarations), name)
            if key[0] is None:
                index.global_names.add(name)
            if alias:
                aliases.append((key, value))
            if not isinstance(value, str):
                keys.append(key)
        if keys:  # a node binds all its names to one value
            sites.append((keys, value, alias))
        inner = (*stack, node) if isinstance(node, (*BODIES, *COMPREHENSIONS)) else stack
        pending.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))
    _settle(lambda: _alias_round(index, aliases))
    # a name that stands for modules is judged by them: `sp = __import__('scipy.special')` is scipy
    index.sites = [(keys, value) for keys, value, alias in sites if not (alias and _paths(value, index))]
    return index


def _settle(round_):
    """Repeat a propagation round until it changes nothing (bounded, for pathological notebooks)."""
    for _ in range(MAX_ROUNDS):
        if not round_():
            return


def _alias_round(index, aliases):
    """Bind each alias to the modules its value stands for: `sp = scipy` makes `sp` stand for scipy."""
    changed = False
    for key, value in aliases:
        known = index.bindings.setdefault(key, set())
        paths = {value} if isinstance(value, str) else _paths(value, index)
        new = sorted(paths - known)[:MAX_PATHS - len(known)]
        known.update(new)
        changed = changed or bool(new)
    return changed


def _chain(node):
    """(base, '.b.c') for the expression `base.b.c`."""
    attributes = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    return node, "".join(f".{a}" for a in reversed(attributes))


def _name_paths(node, index):
    """The modules that a chain `a.b.c` may stand for, through the name `a`: what it is bound to, or
    for a name bound nowhere, what the star imports may have brought."""
    base, suffix = _chain(node)
    if not isinstance(base, ast.Name) or not isinstance(base.ctx, ast.Load):
        return set()
    scope = index.scopes.get(base)
    paths = index.bindings.get((scope, base.id))
    if paths is None and scope is None and base.id not in index.global_names and base.id not in PREDEFINED:
        paths = [f"{star}.{base.id}" for star in index.stars]
    return {path + suffix for path in paths or ()}


def _paths(node, index):
    """The dotted modules an expression stands for: `sp.special` is 'scipy.special' after `import scipy as sp`;
    so are `getattr(scipy, 'special')`, `sys.modules['scipy.special']` and `importlib.import_module(...)`."""
    base, suffix = _chain(node)
    if isinstance(base, ast.Call):
        name, args = _callee(base), base.args
        if name == "getattr" and len(args) >= 2 and _constant(args[1]):
            bases = {f"{path}.{args[1].value}" for path in _paths(args[0], index)}
        elif name == "get" and args and "sys.modules" in _name_paths(base.func.value, index):
            bases = _module_names(args[0])
        elif name == "__import__" and args and len(args) < 4 and not base.keywords:
            bases = {module.split(".")[0] for module in _module_names(args[0])}  # no fromlist: the package
        else:
            bases = _imported(base)
    elif isinstance(base, ast.Subscript) and "sys.modules" in _name_paths(base.value, index):
        bases = _module_names(base.slice)
    else:
        return _name_paths(node, index)
    return {path + suffix for path in bases}


def _imported(node):
    """Dotted modules that `node` imports, including __import__('x') and importlib.import_module('x')."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return set() if node.level else {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    if isinstance(node, ast.Call) and node.args and _callee(node) in ("__import__", "import_module"):
        return _module_names(node.args[0])
    return set()


def _walk(node):
    """The nodes under `node`, but of a chain `a.b.c` only the whole chain and its base `a`."""
    pending = [node]
    while pending:
        node = pending.pop()
        yield node
        pending.extend([_chain(node)[0]] if isinstance(node, ast.Attribute) else ast.iter_child_nodes(node))


def _certain(paths, rule):
    """The module that `paths` use against `rule` when every one of them does, else None: a name bound
    in several places, or a star-imported one, may come from an allowed module."""
    modules = [rule.violation(path) for path in sorted(paths)]
    return modules[0] if modules and all(modules) else None


def _references(node, index):
    """What the nodes under `node` refer to, whatever the rule, in walk order: for each that refers to anything,
    (the modules it imports, the modules it stands for, the (scope, name) it loads or None). Worked out once
    per node and kept in `index`: every rule, and every round of propagation, asks again."""
    if id(node) not in index.references:
        found = []
        for sub in _walk(node):
            base = _chain(sub)[0]
            loaded = (index.scopes.get(base), base.id) if isinstance(base, ast.Name) and isinstance(base.ctx, ast.Load) \
                else None
            imported, paths = sorted(_imported(sub)), _paths(sub, index)
            if imported or paths or loaded:
                found.append((imported, paths, loaded))
        index.references[id(node)] = found
    return index.references[id(node)]


def _reach(node, rule, index, tainted):
    """The module that `node` uses against `rule`: by importing it, naming it, or using a tainted name."""
    for imported, paths, loaded in _references(node, index):
        module = next(filter(None, map(rule.violation, imported)), None) or _certain(paths, rule) or \
            tainted.get(loaded)
        if module:
            return module
    return None


def _tainted(index, rule):
    """{(scope, name): module} for names bound to a module, or to a value or definition that uses a
    module, against `rule`: helpers and variables taint whatever uses them in turn."""
    tainted = {key: module for key, paths in index.bindings.items() if (module := _certain(paths, rule))}

    def round_():
        changed = False
        for keys, value in index.sites:
            if any(key not in tainted for key in keys) and (module := _reach(value, rule, index, tainted)):
                tainted.update({key: module for key in keys if key not in tainted})
                changed = True
        return changed
    _settle(round_)
    return tainted


def _scanned_cells(nb):
    """The code cells the scan reads, solution cells first, within MAX_SCANNED_NOTEBOOK: what a hostile
    notebook can make the grader parse is bounded; the run-time policy still covers the rest."""
    solutions = [id(cell) for cell in notebook.solution_cells(nb).values()]
    cells = sorted((cell for cell in nb.cells if cell.cell_type == "code" and len(cell.source) <= MAX_SCANNED_CELL),
                   key=lambda cell: id(cell) not in solutions)
    budget = MAX_SCANNED_NOTEBOOK
    for cell in cells:
        budget -= len(cell.source)
        if budget < 0:
            return
        yield cell


def parsed(nb):
    """{id(cell): AST} of the cells the scan reads that parse: what `scan` and `defined_names` share."""
    return {id(cell): tree for cell in _scanned_cells(nb) if (tree := _tree(cell.source))}


def scan(nb, rules, trees=None):
    """{function: reason} for each function whose solution cell or definitions elsewhere reach a module
    that its rule disallows. `trees`: the notebook `parsed`, where the caller has it already."""
    trees = parsed(nb) if trees is None else trees
    index = _index(list(trees.values()))
    solutions = {function: trees.get(id(cell)) for function, cell in notebook.solution_cells(nb).items()}
    groups = {}
    for function, rule in rules.items():
        if rule.forbidden or rule.numpy_only:
            groups.setdefault(rule, []).append(function)
    violations = {}
    for rule, functions in groups.items():
        tainted = _tainted(index, rule)
        for function in functions:
            tree = solutions.get(function)
            if module := tainted.get((None, function)) or (tree and _reach(tree, rule, index, tainted)):
                violations[function] = rule.describe(function, module)
    return violations


TOP_LEVEL_DEF = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)


def defined_names(nb, trees=None):
    """Names that some code cell binds at top level (def, class, assignment, import); `trees` as for `scan`.

    A cell the parser rejects or does not read (broken code, past the scan's bounds, or CPython 3.11's spurious
    "AST constructor recursion depth mismatch") still counts its top-level `def`s: this only improves
    messages, and must never call a function missing that the kernel will define.
    """
    names, trees = set(), parsed(nb) if trees is None else trees
    for cell in nb.cells:
        if cell.cell_type == "code":
            tree = trees.get(id(cell))
            names.update(TOP_LEVEL_DEF.findall(cell.source) if tree is None
                         else (name for node in tree.body for name, _, _ in _bound(node)))
    return names
