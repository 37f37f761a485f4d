"""`autograder check`, the student's own report of the visible checks, through the real CLI and kernel."""
import os
import re

import nbformat

from autograder import course, notebook, samples
from conftest import ROOT, cell, edited, run_cli, write_notebook

ROW = re.compile(r"^\W*(test_\w+)\W+[\d.]+\W+(passed|failed|not run)\b", re.MULTILINE)


def check(path, columns):
    """`autograder check path` printed `columns` wide (a rich console's width when it is not a terminal)."""
    return run_cli("check", str(path), env={**os.environ, "COLUMNS": str(columns)})


def results(stdout):
    """{grade_id: result} of the report's table."""
    return dict(ROW.findall(stdout))


def test_checks_after_the_notebook_timeout_are_not_run(backprop, tmp_path):
    def spin_after_mse_loss(nb):
        nb.cells.insert(nb.cells.index(cell(nb, "test_mse_loss")) + 1, nbformat.v4.new_code_cell("while True:\n    pass"))
        nb.metadata.autograder.limits.notebook_timeout = 3
        for count, code in enumerate(c for c in nb.cells if c.cell_type == "code"):
            code.execution_count = count + 1  # saved by the student's own run: not this one's
    done = check(write_notebook(tmp_path, "me", edited(backprop, change=spin_after_mse_loss)), columns=200)
    assert done.returncode == 1, done.stdout + done.stderr
    before = ["test_sigmoid", "test_sigmoid_grad", "test_init_params", "test_forward", "test_mse_loss"]
    after = ["test_backward", "test_numerical_gradient", "test_sgd_update", "test_train"]
    assert results(done.stdout) == {**dict.fromkeys(before, "passed"), **dict.fromkeys(after, "not run")}
    assert done.stdout.count("not run: the notebook ran past its 3 s limit") == 4
    assert "total: 38/100 points in visible checks passed (5 passed, 4 not run)" in done.stdout


def test_a_failing_demo_cell_is_a_note_and_the_checks_still_pass(backprop, tmp_path):
    def add_demos(nb):
        nb.cells.append(nbformat.v4.new_code_cell("plt.plot(demo_history)"))
        nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('the second demo broke too')"))
    done = check(write_notebook(tmp_path, "me", edited(backprop, change=add_demos)), columns=200)
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(results(done.stdout).values()) == {"passed"} and len(results(done.stdout)) == 9
    assert "total: 100/100 points in visible checks passed (9 passed)" in done.stdout
    assert re.search(r"note: cell \d+ raised NameError: name 'demo_history' is not defined", done.stdout)
    assert re.search(r"note: cell \d+ raised RuntimeError: the second demo broke too", done.stdout)


def test_the_report_fits_80_columns_with_long_messages(backprop, tmp_path):
    def long_demo(nb):
        nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('x' * 300 + ' and more words' * 30)"))
    wrong_sigmoid = {"sigmoid": "def sigmoid(x):\n    return x * 0 + 0.4\n"}
    done = check(write_notebook(tmp_path, "me", edited(backprop, wrong_sigmoid, long_demo)), columns=80)
    assert done.returncode == 1, done.stdout + done.stderr
    assert max(map(len, done.stdout.splitlines())) <= 80, done.stdout
    assert results(done.stdout)["test_sigmoid"] == "failed" and "Mismatched" in done.stdout
    assert "…" in done.stdout and "more words" not in done.stdout  # the note's 750 characters shortened
    assert re.search(r"^total: \d+/100 points in visible checks passed \(\d passed, \d failed\)$", done.stdout,
                     re.MULTILINE)


def test_a_visible_check_stands_on_its_own_while_training_is_unfinished(tmp_path):
    """softmax: build_keras_classifier's visible check used to read W, b from the training demo."""
    softmax = course.load(ROOT, "softmax")
    unfinished = "def train_softmax_classifier(X, y, n_classes, lr, epochs, reg, seed):\n    raise NotImplementedError\n"
    nb = edited(softmax, {"train_softmax_classifier": unfinished})
    done = check(samples.write_submission(tmp_path, "me", softmax.notebook_id, nb), columns=200)
    found = results(done.stdout)
    assert found["test_train_softmax_classifier"] == "failed", done.stdout
    assert {grade_id: result for grade_id, result in found.items() if grade_id != "test_train_softmax_classifier"} \
        == dict.fromkeys(notebook.grade_cell_points(nb).keys() - {"test_train_softmax_classifier"}, "passed")
    assert done.returncode == 1
