"""Proof that an assignment is sound: reference full marks, blank stub zero, release up to date."""
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import executors, grading, questions, release, samples
from .outcome import Status


@dataclass
class SelfCheck:
    assignment: str
    reference_score: float
    blank_score: float
    max_score: float
    stale: list
    messages: list

    @property
    def ok(self):
        return not self.stale and self.reference_score == self.max_score and self.blank_score == 0


def run(assignment, workers=2):
    """Grade the reference and the blank release through the real pipeline, and diff the release."""
    with tempfile.TemporaryDirectory() as scratch:
        db_url = f"sqlite:///{scratch}/gradebook.db"
        stale = release.stale_files(assignment, db_url)
        submissions = Path(scratch) / "submissions"
        for student, edits in (("reference", {}), ("blank", None)):
            samples.write_submission(submissions, student, assignment.notebook_id,
                                     samples.submission(assignment, edits))
        grader = grading.Grader(str(assignment.root), assignment.id, assignment.limits, True, questions.fresh_secret())
        results = {r["student_id"]: r for r in grading.grade_all(
            assignment, submissions, Path(scratch) / "out", db_url, grader, executors.LocalPool(workers), force=True)}
    reference, blank = results["reference"], results["blank"]
    messages = [f"reference: {c['name']}: {c['message']}" for c in reference["checks"]
                if c["points"] < c["max_points"]]
    messages += [f"blank: {c['name']} earned {c['points']:g}" for c in blank["checks"] if c["points"] > 0]
    if reference["status"] != Status.GRADED:
        messages.append(f"reference status {reference['status']}: {reference['message']}")
    return SelfCheck(assignment.id, reference["score"], blank["score"], reference["max_score"], stale, messages)
