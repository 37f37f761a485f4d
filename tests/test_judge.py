"""The judge's own bookkeeping: a faulty check costs only itself, and says so."""
from autograder import checks, judge
from autograder.outcome import Outcome, Status, Trip


def passing(student, rng):
    rng.normal()


def faulty(student, rng):
    raise ZeroDivisionError("a bug in the check, not in the submission")


def test_a_check_that_crashes_costs_only_itself_and_marks_a_grader_error():
    both = [checks.Check("faulty", "test_a", ("f",), 3, faulty), checks.Check("passing", "test_a", ("f",), 2, passing)]
    results, trips = judge.run_checks(both, student=None, seed=1)
    assert [r.points for r in results] == [0, 2]
    assert "ZeroDivisionError" in results[0].message
    assert trips == [Trip(Status.GRADER_ERROR, "check faulty failed in the grader's own code", "faulty")]
    assert Outcome(trips).verdict() == ("grader-error", "check faulty failed in the grader's own code")
