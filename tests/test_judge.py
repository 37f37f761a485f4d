"""The judge's own bookkeeping: a faulty check costs only itself, and says so."""
import numpy as np
import pytest

from autograder import judge
from autograder.outcome import Outcome, Status, Trip


def passing(student, rng):
    rng.normal()


def faulty(student, rng):
    raise ZeroDivisionError("a bug in the check, not in the submission")


def test_a_check_that_crashes_costs_only_itself_and_marks_a_grader_error():
    checks = [judge.Check("faulty", "test_a", ("f",), 3, faulty), judge.Check("passing", "test_a", ("f",), 2, passing)]
    results, trips = judge.run_checks(checks, student=None, seed=1)
    assert [r.points for r in results] == [0, 2]
    assert "ZeroDivisionError" in results[0].message
    assert trips == [Trip(Status.GRADER_ERROR, "check faulty failed in the grader's own code", "faulty")]
    assert Outcome(trips).verdict() == ("grader-error", "check faulty failed in the grader's own code")


def test_numerical_gradient_is_centred_and_leaves_its_input_alone():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    grad = judge.numerical_gradient(lambda value: float(np.sum(np.sin(value) * 3.0)), x)
    assert np.allclose(grad, 3.0 * np.cos(x), atol=1e-9) and np.array_equal(x, before)


def test_a_wrong_token_list_is_named_by_the_students_first_wrong_token_not_the_graders_text():
    judge.expect_tokens(["a", "b"], ["a", "b"], "tokenize(text)")
    with pytest.raises(judge.Fail, match=r"returned 3 tokens; they first go wrong at token 1 \('x'\)$") as failure:
        judge.expect_tokens(["a", "x", "c"], ["a", "secret", "c"], "tokenize(text)")
    assert "secret" not in str(failure.value)
