"""Static forbidden-API checks, per function."""
import nbformat
import pytest

from autograder import policy

FORBIDDEN = policy.Rule(frozenset({"tensorflow", "torch", "jax"}))
SCIPY_SPECIAL = policy.Rule(frozenset({"scipy.special"}))
NUMPY_ONLY = policy.Rule(numpy_only=True, course_modules=frozenset({"word2vec_data"}))


def make_notebook(*cells):
    """Cells as (grade_id or None, source); named ones are solution cells."""
    nb = nbformat.v4.new_notebook()
    for grade_id, source in cells:
        cell = nbformat.v4.new_code_cell(source)
        if grade_id:
            cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "locked": False,
                                         "schema_version": 3, "solution": True, "task": False}
        nb.cells.append(cell)
    return nb


def modules(violations):
    """{function: module} from {function: reason}; reasons start with "uses <module>"."""
    return {function: reason.split()[1].rstrip(",") for function, reason in violations.items()}


@pytest.mark.parametrize("cells, expected", [
    ([("f", "def f(x):\n    import tensorflow as tf\n    return tf.sigmoid(x)")], {"f": "tensorflow"}),
    ([(None, "import torch.nn as tnn"), ("f", "def f(x):\n    return tnn.functional.relu(x)")], {"f": "torch"}),
    ([(None, "from jax import grad"), (None, "def helper(x):\n    return grad(x)"),
      (None, "def outer(x):\n    return helper(x)"), ("f", "def f(x):\n    return outer(x)")], {"f": "jax"}),
    ([("f", "def f(x):\n    return __import__('torch').ones(1)")], {"f": "torch"}),
    ([("f", "def f(x):\n    import importlib\n    return importlib.import_module('jax.numpy')")], {"f": "jax"}),
    ([("f", "def f(x):\n    return x"), (None, "import tensorflow as tf\ndef f(x):\n    return tf.nn.relu(x)")],
     {"f": "tensorflow"}),
    ([(None, "import tensorflow as tf"), ("f", "def f(x):\n    return x + 1"),
      ("g", "def g(x):\n    return %time x")], {}),
])
def test_forbidden_use_is_found_per_function(cells, expected):
    assert modules(policy.scan(make_notebook(*cells), {"f": FORBIDDEN, "g": FORBIDDEN})) == expected


@pytest.mark.parametrize("source, expected", [
    ("from scipy.special import softmax\ndef f(z):\n    return softmax(z)", "scipy.special"),
    ("from scipy import special\ndef f(z):\n    return special.softmax(z)", "scipy.special"),
    ("import scipy\ndef f(z):\n    return scipy.special.logsumexp(z)", "scipy.special"),
    ("import scipy.special as sp\ndef f(z):\n    return sp.expit(z)", "scipy.special"),
    ("import scipy\nlse = scipy.special.logsumexp\ndef f(z):\n    return lse(z)", "scipy.special"),
    ("import scipy\ndef f(z):\n    return scipy.linalg.norm(z)", None),
    ("import scipy.linalg\ndef f(z):\n    return scipy.linalg.norm(z)", None),
])
def test_dotted_modules_are_forbidden_as_prefixes(source, expected):
    violations = policy.scan(make_notebook(("f", source)), {"f": SCIPY_SPECIAL})
    assert modules(violations).get("f") == expected


@pytest.mark.parametrize("cells", [
    # an alias of a parent package continues like the package
    [(None, "import scipy"), (None, "sp = scipy"), ("f", "def f(z):\n    return sp.special.softmax(z)")],
    # a star import in another cell
    [(None, "from scipy.special import *"), ("f", "def f(z):\n    return logsumexp(z)")],
    # a name that a helper binds through `global`
    [(None, "def setup():\n    global sp\n    import scipy.special as sp"), (None, "setup()"),
     ("f", "def f(z):\n    return sp.softmax(z)")],
    # walrus, at cell level and inside an expression
    [(None, "import scipy\n(sp := scipy.special)"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "import scipy\nprint([sp := scipy.special])"), ("f", "def f(z):\n    return sp.softmax(z)")],
    # for and with targets, augmented assignment, tuple targets
    [(None, "import scipy\nfor sp in [scipy.special]:\n    pass"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "import contextlib, scipy\nwith contextlib.nullcontext(scipy.special) as sp:\n    pass"),
     ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "import scipy\nsp = None\nsp += scipy.special"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "import scipy\nfor sp, _ in [(scipy.special, 1)]:\n    pass"),
     ("f", "def f(z):\n    return sp.softmax(z)")],
    # getattr and sys.modules
    [(None, "import scipy"), ("f", "def f(z):\n    return getattr(scipy, 'special').softmax(z)")],
    [(None, "import scipy\nsp = getattr(scipy, 'special')"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "import sys"), ("f", "def f(z):\n    return sys.modules['scipy.special'].softmax(z)")],
    # IPython syntax, and code in strings that exec and IPython run
    [(None, "import numpy as np\n%time import scipy.special as sp"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [(None, "%%time\nimport scipy.special as sp"), ("f", "def f(z):\n    return sp.softmax(z)")],
    # Python reads the second line as an annotation of In[1]; IPython strips the prompt and binds sp
    [(None, "import scipy.special\nIn [1]: sp = scipy.special"), ("f", "def f(z):\n    return sp.softmax(z)")],
    [("f", "def f(z):\n    exec('import scipy.special')\n    return z")],
    [("f", "def f(z):\n    get_ipython().run_cell('import scipy.special as sp')\n    return sp.softmax(z)")],
    [(None, "exec(\"exec('from scipy import special as sp')\")"), ("f", "def f(z):\n    return sp.softmax(z)")],
])
def test_indirect_references_are_followed(cells):
    assert modules(policy.scan(make_notebook(*cells), {"f": SCIPY_SPECIAL})) == {"f": "scipy.special"}


@pytest.mark.parametrize("cells, expected", [
    ([(None, "%time import keras"), ("f", "def f(x):\n    return keras.ops.relu(x)")], "keras.ops.relu"),
    ([("f", "def f(x):\n    exec('import keras')\n    return x")], "keras"),
    ([(None, "import sys"), ("f", "def f(x):\n    return sys.modules.get('keras').ops.relu(x)")],
     "keras.ops.relu"),
    ([("f", "def f(x):\n    import sklearn\n    return x")], "sklearn"),
    ([("f", "import pandas\ndef f(x):\n    return x")], "pandas"),  # the solution cell counts as a whole
    ([(None, "import matplotlib.pyplot as plt"), ("f", "def f(x):\n    plt.plot(x)\n    return x")],
     "matplotlib.pyplot.plot"),
    ([(None, "import gensim.utils"), ("f", "def f(x):\n    return gensim.utils.tokenize(x)")],
     "gensim.utils.tokenize"),
    ([("f", "import math, collections\nfrom numpy import exp\nimport numpy.linalg as la\nimport word2vec_data\n"
            "def f(x):\n    return la.norm(exp(x)) + math.pi + len(collections.Counter(word2vec_data.words()))")],
     None),
])
def test_numpy_only_allows_numpy_the_standard_library_and_course_modules(cells, expected):
    violations = policy.scan(make_notebook(*cells), {"f": NUMPY_ONLY})
    assert modules(violations).get("f") == expected


def test_reasons_name_the_module_and_the_rule():
    nb = make_notebook((None, "import keras, scipy.special"), ("f", "def f(x):\n    return keras.ops.relu(x)"),
                       ("g", "def g(x):\n    return scipy.special.expit(x)"))
    rule = policy.Rule(frozenset({"scipy.special"}), numpy_only=True)
    assert policy.scan(nb, {"f": rule, "g": rule}) == {
        "f": "uses keras.ops.relu, but f may use only NumPy and the Python standard library",
        "g": "uses scipy.special, which is forbidden in this function"}


def test_rules_restrict_the_numpy_only_functions_and_leave_keras_to_the_others():
    settings = {"forbidden": ["torch"], "numpy_only": ["f"]}
    rules = policy.rules(settings, ["f", "g"], ["word2vec_data"])
    assert rules == {"f": policy.Rule(frozenset({"torch"}), True, frozenset({"word2vec_data"})),
                     "g": policy.Rule(frozenset({"torch"}), False, frozenset({"word2vec_data"}))}
    nb = make_notebook((None, "import keras"), ("f", "def f(x):\n    return keras.ops.relu(x)"),
                       ("g", "def g(n):\n    return keras.Sequential([keras.layers.Dense(n)])"))
    assert list(policy.scan(nb, rules)) == ["f"]


@pytest.mark.parametrize("cells", [
    # an alias of the parent package used for an allowed submodule
    [(None, "import scipy\nsp = scipy"), ("f", "def f(z):\n    return sp.linalg.norm(z) + scipy.linalg.norm(z)")],
    # a star import that the name may come from as well as an allowed one
    [(None, "from numpy import *\nfrom scipy.special import *"), ("f", "def f(z):\n    return exp(z)")],
    [(None, "sp = __import__('scipy.special')"), ("f", "def f(z):\n    return sp.linalg.norm(z)")],  # sp is scipy
    # a name that may be bound to an allowed module as well
    [(None, "try:\n    import scipy.special as sp\nexcept ImportError:\n    import numpy as sp"),
     ("f", "def f(z):\n    return sp.exp(z)")],
    # a function's own names shadow the notebook's
    [(None, "import scipy.special as sp"),
     ("f", "def f(z):\n    import scipy.linalg as sp\n    return sp.norm(z)")],
    [(None, "import scipy.special as sp"),
     ("f", "def f(z):\n    match z:\n        case [sp]:\n            return sp\n    return [sp for sp in z]")],
    # a method named like the graded function, in a class that may use anything
    [(None, "import scipy.special\nclass Model:\n    def f(self, z):\n        return scipy.special.expit(z)"),
     ("f", "def f(z):\n    return z")],
    # text that IPython writes to a file rather than runs
    [(None, "%%writefile helper.py\nimport scipy.special as sp"), ("f", "def f(z):\n    return z")],
])
def test_no_false_positives(cells):
    assert policy.scan(make_notebook(*cells), {"f": SCIPY_SPECIAL}) == {}


@pytest.mark.parametrize("source, flagged", [
    ("import sys\nx = sys.modules" + "['scipy.special']" * 2000, True),
    ("x = scipy" + ".special" * 2000, True),
    ("x = " + "lambda: " * 2000 + "scipy.special", True),
    ("x = " + "getattr(" * 199 + "scipy" + ", 'special')" * 199, True),
    ("x = " + "-" * 2000 + "scipy.special.expit(1)", True),
    ("x = " + "-" * 100_000 + "scipy.special.expit(1)", False),  # too deep for Python's parser
    ("x = scipy.special\ny = '\ud800'", False),
    ("x = scipy.special\0", False),
    ("x = scipy.special\n" + "#" * policy.MAX_SCANNED_CELL, False),
])
def test_pathological_cells_do_not_break_the_scan(source, flagged):
    nb = make_notebook((None, "import scipy"), (None, source), ("f", "def f(z):\n    return x"))
    assert modules(policy.scan(nb, {"f": SCIPY_SPECIAL})) == ({"f": "scipy.special"} if flagged else {})
    assert "f" in policy.defined_names(nb)


def test_the_scan_reads_solution_cells_first_and_stops_at_its_budget():
    filler = [(None, "#" * (policy.MAX_SCANNED_CELL - 10))
              for _ in range(policy.MAX_SCANNED_NOTEBOOK // policy.MAX_SCANNED_CELL + 1)]
    own = make_notebook(*filler, ("f", "def f(z):\n    import scipy.special\n    return scipy.special.expit(z)"))
    assert modules(policy.scan(own, {"f": SCIPY_SPECIAL})) == {"f": "scipy.special"}
    elsewhere = make_notebook(*filler, (None, "import scipy.special as sp"), ("f", "def f(z):\n    return sp.expit(z)"))
    assert policy.scan(elsewhere, {"f": SCIPY_SPECIAL}) == {}  # past the budget: the run-time policy's part
    assert "f" in policy.defined_names(elsewhere)


def test_defined_names_sees_defs_and_assignments():
    nb = make_notebook(("f", "def f(x):\n    return x"), (None, "g = lambda x: x\nimport numpy as np"),
                       (None, "%time h = 1\ndef k():\n    pass"))
    assert {"f", "g", "np", "k"} <= policy.defined_names(nb)
    assert "h" not in policy.defined_names(nb)


def test_a_variable_elsewhere_does_not_taint_an_argument_of_the_same_name():
    nb = make_notebook((None, "import keras\nlogits = keras.ops.ones(3)"),
                       ("f", "def f(logits):\n    return logits.max()"),
                       ("g", "def g(z):\n    return logits + z"))
    keras = policy.Rule(frozenset({"keras"}))
    assert list(policy.scan(nb, {"f": keras, "g": keras})) == ["g"]

