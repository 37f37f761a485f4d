"""What every assignment's samples must show when graded through the real CLI (ASSIGNMENTS.md, DESIGN.md)."""
from conftest import lost


class SampleContract:
    """Mixed into each assignment's `TestSamples`, which supplies a module-scoped `results` fixture
    ({student: result} of one `autograder grade` run) and `bugs` ({student: (function, ...)})."""

    bugs = {}

    def test_correct_solutions_in_any_style_earn_full_marks(self, results):
        for student in ("alice", "other_style"):
            assert results[student]["status"] == "graded", results[student]["message"]
            assert results[student]["score"] == 100, (student, lost(results[student]))

    def test_blank_stub_earns_zero(self, results):
        assert results["blank"]["score"] == 0 and results["blank"]["max_score"] == 100

    def test_a_bug_in_one_function_costs_its_own_checks_and_only_checks_that_name_it(self, results):
        for student, (function, *_) in self.bugs.items():
            missed, result = lost(results[student]), results[student]
            assert any(c["grade_id"] == f"test_{function}" for c in missed), (student, "not caught by its own checks")
            assert all(function in c["functions"] for c in missed), (student, missed)
            assert result["status"] == "graded", (student, result["message"])
