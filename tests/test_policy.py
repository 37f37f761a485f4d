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
    violations = policy.scan(make_notebook(*cells), FORBIDDEN, ["f", "g"])
    assert {f: reason.split()[1].rstrip(",") for f, reason in violations.items()} == expected


def test_defined_names_sees_defs_and_assignments():
    nb = make_notebook(("f", "def f(x):\n    return x"), (None, "g = lambda x: x\nimport numpy as np"))
    assert {"f", "g", "np"} <= policy.defined_names(nb)
    assert "h" not in policy.defined_names(nb)
