"""What every assignment's samples must show when graded through the real CLI (docs/assignments.md, docs/design.md)."""
import json

from autograder import course, samples
from conftest import ROOT, every_core_busy, hidden_lines, lost, rendered, run_cli, screenshot


class SampleContract:
    """Mixed into each assignment's `TestSamples`, which supplies a module-scoped `results` fixture
    ({student: result} of one `autograder grade` run on two workers), `assignment_id`, `bugs`
    ({student: (function, ...)}), `extra`: {student: edits} graded beside the samples, `options`:
    what the `results` run added to `autograder grade`, and `figures`: how many figures of each
    kind a correct solution's feedback shows."""

    assignment_id = None
    bugs = {}
    extra = {}
    options = ()
    figures = {}

    def test_correct_solutions_in_any_style_earn_full_marks(self, results):
        for student in ("alice", "other_style"):
            assert results[student]["status"] == "graded", results[student]["message"]
            assert results[student]["score"] == 100, (student, lost(results[student]))

    def test_alices_feedback_shows_her_own_results_in_a_browser_and_nothing_hidden(self, results):
        shown = [figure for check in results["alice"]["checks"] for figure in check["figures"]]
        assert {kind: sum(f["kind"] == kind for f in shown) for kind in self.figures} == self.figures
        page = results.output / "alice" / "feedback.html"
        dom = rendered(page)
        assert dom.count('src="data:image/svg+xml;base64,') == sum(f["kind"] != "table" for f in shown)
        assert all(f"<caption>{f['title']}</caption>" in dom for f in shown if f["kind"] == "table")
        assert not [line for line in hidden_lines(self.assignment_id) if line in dom]
        screenshot(page, f"feedback-{self.assignment_id}-alice.png")

    def test_blank_stub_earns_zero(self, results):
        assert results["blank"]["score"] == 0 and results["blank"]["max_score"] == 100

    def test_a_bug_in_one_function_costs_its_own_checks_and_only_checks_that_name_it(self, results):
        for student, (function, *_) in self.bugs.items():
            missed, result = lost(results[student]), results[student]
            assert any(c["grade_id"] == f"test_{function}" for c in missed), (student, "not caught by its own checks")
            assert all(function in c["functions"] for c in missed), (student, missed)
            assert result["status"] == "graded", (student, result["message"])


class RegradedUnderLoad:
    """Mixed in beside SampleContract, with `regraded`: a sample whose grade depends on a time limit
    (rnn_textgen's `slow`). The engine's promise that load changes no grade is tested there and on
    backprop (test_grade_cli), the same code for every assignment, rather than once per assignment."""

    regraded = None

    def test_a_regrade_on_one_worker_with_every_core_busy_gives_the_same_result(self, results, tmp_path):
        """The same questions (they come from the secret, not the worker) and the same verdicts
        (time limits are on CPU time, not on the wall clock of a loaded machine)."""
        assignment = course.load(ROOT, self.assignment_id)
        edits = assignment.hidden_module(f"{assignment.id}_samples").samples(assignment.reference_sources)
        edits.update(self.extra)
        samples.write_submission(tmp_path / "submissions", self.regraded, assignment.notebook_id,
                                 samples.submission(assignment, edits[self.regraded]))
        with every_core_busy():
            done = run_cli("grade", assignment.id, "--submissions", str(tmp_path / "submissions"),
                           "--output", str(tmp_path / "out"), "--workers", "1", *self.options)
        assert done.returncode == 0, done.stdout + done.stderr
        again = json.loads((tmp_path / "out" / self.regraded / "result.json").read_text())
        assert again["checks"] == results[self.regraded]["checks"]
        assert any(c["points"] < c["max_points"] for c in again["checks"])
