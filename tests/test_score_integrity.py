"""Score integrity through the real CLI (docs/design.md, the trust model).

A library a NumPy-only function may not use earns that function nothing, whatever route reaches
it; the penalty falls on the functions that really call it and no others; a check's inputs
cannot be learnt from one feedback and replayed in the next; a regrade asks the same questions.
"""
import json
import re

import pytest

from autograder import notebook
from conftest import edited, run_cli, write_notebook

# Each route reaches scipy.special (installed, and not allowed in NumPy-only code) in one leaf
# function of `backprop`; `2 * expit(0.0)` is 1.0, so every value stays right.
STATIC_ROUTES = {  # each cell names only what another cell bound: the scan follows it, `policy` before anything runs
    "sigmoid": "def sigmoid(x):\n"  # an alias of the parent package
               "    return 2 * sp.special.expit(0.0) * np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), "
               "np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))\n",
    "sigmoid_grad": "def sigmoid_grad(s):\n    return 2 * expit(0.0) * s * (1.0 - s)\n",  # a star import
    "mse_loss": "def mse_loss(Y_hat, Y):\n"  # bound by `global` in a helper
                "    return float(2 * special.expit(0.0) * np.mean((Y_hat - Y) ** 2))\n",
    "sgd_update": "def sgd_update(params, grads, lr):\n"  # a walrus
                  "    return {k: v - 2 * walrus.expit(0.0) * lr * grads[k] for k, v in params.items()}\n",
}
ELSEWHERE = "init_params"  # the cell of another function binds the names
ELSEWHERE_CODE = ("import scipy\nsp = scipy\nfrom scipy.special import *\n(walrus := sp.special)\n\n\n"
                  "def _setup():\n    global special\n    import scipy.special as special\n\n\n_setup()\n\n\n")
RUNTIME_ROUTES = {  # computed names: only the confined kernel stops these
    "numerical_gradient": "def numerical_gradient(f, x, eps=1e-5):\n"
                          "    exec('import scipy' + '.special as _sp', globals())\n"
                          "    grad = np.zeros_like(x, dtype=np.float64)\n"
                          "    for i in np.ndindex(x.shape):\n"
                          "        old = x[i]\n        x[i] = old + eps\n        up = f()\n"
                          "        x[i] = old - eps\n        down = f()\n        x[i] = old\n"
                          "        grad[i] = 2 * _sp.expit(0.0) * (up - down) / (2 * eps)\n"
                          "    return grad\n",
    "sgd_update": "def sgd_update(params, grads, lr):\n"
                  "    import importlib\n    special = importlib.import_module('sci' + 'py.special')\n"
                  "    return {k: v - 2 * special.expit(0.0) * lr * grads[k] for k, v in params.items()}\n",
    "init_params": "get_ipython().run_line_magic('time', 'import scipy' + '.special as _magic')\n\n\n"
                   "def init_params(n_in, n_hidden, n_out, rng):\n"
                   "    one = 2 * _magic.expit(0.0)\n"
                   "    W1 = one * rng.normal(0, np.sqrt(1 / n_in), (n_in, n_hidden))\n"
                   "    W2 = rng.normal(0, np.sqrt(1 / n_hidden), (n_hidden, n_out))\n"
                   "    return {'W1': W1, 'b1': np.zeros(n_hidden), 'W2': W2, 'b2': np.zeros(n_out)}\n",
}
# Silenced overflow, wrong at the extremes: exp(1e4) / (1 + exp(1e4)) is inf / inf.
QUIET_OVERFLOW = {"sigmoid": "def sigmoid(x):\n    with np.errstate(all='ignore'):\n"
                             "        return np.exp(x) / (1.0 + np.exp(x))\n"}
# Shows the student its own input in its own exception message, as any student can.
LEAKY = {"sigmoid_grad": "def sigmoid_grad(s):\n    raise ValueError('INPUT' + repr(s.tolist()))\n"}


def by_grade_cell(result):
    cells = {}
    for item in result["checks"]:
        earned, total = cells.get(item["grade_id"], (0, 0))
        cells[item["grade_id"]] = (earned + item["points"], total + item["max_points"])
    return cells


def grade(backprop, base, submissions, *options):
    folder, output = base / "submissions", base / "out"
    for student, nb in submissions.items():
        write_notebook(folder, student, nb)
    done = run_cli("grade", "backprop", "--submissions", str(folder), "--output", str(output), *options)
    assert done.returncode == 0, done.stdout + done.stderr
    return {path.parent.name: json.loads(path.read_text()) for path in output.glob("*/result.json")}


def with_code_elsewhere(nb):
    cell = notebook.solution_cells(nb)[ELSEWHERE]
    cell.source = ELSEWHERE_CODE + cell.source


@pytest.fixture(scope="module")
def results(backprop, tmp_path_factory):
    return grade(backprop, tmp_path_factory.mktemp("integrity"), {
        "static_routes": edited(backprop, STATIC_ROUTES, with_code_elsewhere),
        "runtime_routes": edited(backprop, RUNTIME_ROUTES),
        "quiet_overflow": edited(backprop, QUIET_OVERFLOW),
        "leaky": edited(backprop, LEAKY),
        "leaky_changed": edited(backprop, {**LEAKY, "sgd_update": backprop.reference_sources["sgd_update"] + "# v2\n"}),
    }, "--workers", "2")


def test_each_static_route_to_a_disallowed_library_zeroes_its_function(results):
    result = results["static_routes"]
    assert result["status"] == "policy"
    for function in [*STATIC_ROUTES, ELSEWHERE]:
        assert f"policy: {function} uses scipy" in result["message"]
    cells = by_grade_cell(result)
    for function in STATIC_ROUTES:
        assert cells[f"test_{function}"][0] == 0, function
        own = [c["message"] for c in result["checks"] if c["grade_id"] == f"test_{function}"]
        assert all(m.startswith(f"policy: {function} uses scipy.special") for m in own), own
    assert cells["test_numerical_gradient"] == (cells["test_numerical_gradient"][1],) * 2


def test_each_run_time_route_is_stopped_where_the_code_runs(results):
    result = results["runtime_routes"]
    assert result["status"] == "policy"
    cells = by_grade_cell(result)
    for function in RUNTIME_ROUTES:
        assert cells[f"test_{function}"][0] == 0, function
        messages = [c["message"] for c in result["checks"] if c["grade_id"] == f"test_{function}"]
        assert all(f"policy: {function} used scipy while it ran" in m for m in messages), messages
    for untouched in ("test_sigmoid", "test_sigmoid_grad", "test_forward", "test_mse_loss", "test_backward"):
        assert cells[untouched][0] == cells[untouched][1], untouched


def test_silenced_overflow_is_judged_on_its_values(results):
    result = results["quiet_overflow"]
    lost = {c["name"]: c["message"] for c in result["checks"] if c["points"] < c["max_points"]}
    assert "sigmoid_is_stable" in lost and "NaN" in lost["sigmoid_is_stable"]
    assert "sigmoid_matches_reference" not in lost


def leaked_inputs(result):
    message = next(c["message"] for c in result["checks"] if c["name"] == "sigmoid_grad_matches_reference")
    return json.loads(re.search(r"INPUT(\[.*\])", message)[1])


def test_a_changed_resubmission_is_asked_new_questions(results):
    assert leaked_inputs(results["leaky"]) != leaked_inputs(results["leaky_changed"])


def test_answers_replayed_from_a_feedback_earn_nothing_and_a_regrade_is_identical(backprop, results, tmp_path):
    table = leaked_inputs(results["leaky"])
    replay = {"sigmoid_grad": f"TABLE = {table!r}\n\n\ndef sigmoid_grad(s):\n"
                              "    if s.tolist() == TABLE:\n        return s * (1.0 - s)\n"
                              "    return np.zeros_like(s)\n"}
    again = grade(backprop, tmp_path, {"leaky": edited(backprop, replay)}, "--workers", "1")["leaky"]
    assert next(c for c in again["checks"] if c["name"] == "sigmoid_grad_matches_reference")["points"] == 0
    regrade = grade(backprop, tmp_path / "regrade", {"leaky": edited(backprop, LEAKY)}, "--workers", "1")["leaky"]
    assert regrade["checks"] == results["leaky"]["checks"]
