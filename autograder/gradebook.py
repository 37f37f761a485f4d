"""The nbgrader gradebook stays the record: the assignment's cells, then each student's scores, recorded
as nbgrader's own autograde leaves them."""
import warnings

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import AssignLatePenalties
from sqlalchemy.exc import SAWarning

from . import release


def recorded_checksums(assignment, db_url):
    """{cell name: checksum} the gradebook holds for the assignment's notebook (empty when it has none)."""
    with Gradebook(db_url, assignment.course_id) as gb:
        try:
            notebook = gb.find_notebook(assignment.notebook_id, assignment.id)
        except MissingEntry:
            return {}
        return {cell.name: cell.checksum for cell in notebook.source_cells}


def prepare(assignment, db_url):
    """Make sure the gradebook knows the assignment's current notebook, cells and checksums, recording
    them (`release.record`) only when the gradebook's checksums differ from the source notebook's.
    Returns whether it recorded."""
    if recorded_checksums(assignment, db_url) == release.cell_checksums(assignment):
        return False
    release.record(assignment, db_url)
    return True


def record(db_url, assignment, student_id, scores, comments, timestamp=None):
    """Store each grade cell's autograded score for `student_id` as nbgrader's SaveAutoGrades does (a
    manual score a grader gave stays, and its cell goes back to the grading queue) and the automatic
    comment of each solution cell in `comments` ({grade_id: text or None}, what the formgrader shows).
    Then the submission's `timestamp` when known, and nbgrader's AssignLatePenalties under the course's configuration.
    Returns (seconds late, the late penalty nbgrader recorded, or None)."""
    with Gradebook(db_url, assignment.course_id) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, harmless
        gb.update_or_create_student(student_id)
        gb.update_or_create_submission(assignment.id, student_id, **({"timestamp": timestamp} if timestamp else {}))
        for grade_id, score in scores.items():
            grade = gb.find_grade(grade_id, assignment.notebook_id, assignment.id, student_id)
            grade.auto_score = score
            grade.needs_manual_grade = grade.manual_score is not None
        for grade_id, text in comments.items():
            gb.find_comment(grade_id, assignment.notebook_id, assignment.id, student_id).auto_comment = text
        gb.db.commit()
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment.id, "notebook": assignment.notebook_id,
                              "student": student_id}}
    AssignLatePenalties(config=assignment.nbgrader_config).preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db_url, assignment.course_id) as gb:
        notebook = gb.find_submission_notebook(assignment.notebook_id, assignment.id, student_id)
        return gb.find_submission(assignment.id, student_id).total_seconds_late, notebook.late_submission_penalty
