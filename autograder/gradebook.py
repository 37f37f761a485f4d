"""The nbgrader gradebook stays the record: the assignment's cells, then each student's scores."""
import warnings

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from . import release


def recorded_checksums(assignment, db_url):
    """{cell name: checksum} the gradebook holds for the assignment's notebook (empty when it has none)."""
    with Gradebook(db_url) as gb:
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


def record(db_url, assignment, student_id, scores):
    """Store each grade cell's autograded score for `student_id` (creating the student if new)."""
    with Gradebook(db_url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush notices, harmless
        gb.update_or_create_student(student_id)
        gb.update_or_create_submission(assignment.id, student_id)
        for grade_id, score in scores.items():
            grade = gb.find_grade(grade_id, assignment.notebook_id, assignment.id, student_id)
            grade.auto_score = score
            grade.needs_manual_grade = False
        gb.db.commit()
