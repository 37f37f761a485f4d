"""Static forbidden-API checks, per function."""
import nbformat
import pytest

from autograder import policy

FORBIDDEN = ["tensorflow", "torch", "jax"]


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
    violations = policy.scan(make_notebook(*cells), {"f": FORBIDDEN, "g": FORBIDDEN})
    assert {f: reason.split()[1].rstrip(",") for f, reason in violations.items()} == expected


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
    violations = policy.scan(make_notebook(("f", source)), {"f": ["scipy.special"]})
    assert (violations["f"].split()[1].rstrip(",") if violations else None) == expected


def test_rules_add_modules_for_the_listed_functions_only():
    settings = {"forbidden": ["torch"], "forbidden_in": {"functions": ["f"], "modules": ["keras"]}}
    rules = policy.rules(settings, ["f", "g"])
    assert rules == {"f": {"torch", "keras"}, "g": {"torch"}}
    nb = make_notebook((None, "import keras"), ("f", "def f(x):\n    return keras.ops.relu(x)"),
                       ("g", "def g(n):\n    return keras.Sequential([keras.layers.Dense(n)])"))
    assert list(policy.scan(nb, rules)) == ["f"]


def test_defined_names_sees_defs_and_assignments():
    nb = make_notebook(("f", "def f(x):\n    return x"), (None, "g = lambda x: x\nimport numpy as np"))
    assert {"f", "g", "np"} <= policy.defined_names(nb)
    assert "h" not in policy.defined_names(nb)


def test_a_variable_elsewhere_does_not_taint_an_argument_of_the_same_name():
    nb = make_notebook((None, "import keras\nlogits = keras.ops.ones(3)"),
                       ("f", "def f(logits):\n    return logits.max()"),
                       ("g", "def g(z):\n    return logits + z"))
    assert list(policy.scan(nb, {"f": ["keras"], "g": ["keras"]})) == ["g"]
