"""What a grading run writes: result.json and feedback.html per student, grades.csv for all."""
import csv
import hashlib
import io
import json
import os
import re
import tempfile
from pathlib import Path

import jinja2

from . import drawing

CSV_FIELDS = ("student_id", "assignment", "score", "max_score", "status", "message")
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
# what `grade` writes beside the students' folders (SQLite adds its journals): no student id may be one
GRADER_FILES = {"grades.csv", "gradebook.db", "gradebook.db-journal", "gradebook.db-wal", "gradebook.db-shm"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet runs a cell that starts so
# the pages people read (autograder/templates), autoescaped: nothing a student wrote becomes markup
PAGES = jinja2.Environment(loader=jinja2.PackageLoader("autograder", "templates"), autoescape=True,
                           trim_blocks=True, lstrip_blocks=True)
PAGES.filters["drawn"] = drawing.data_uri


def id_problem(student_id):
    """Why `student_id` cannot name a folder of the output, or None when it can."""
    if not STUDENT_ID.match(student_id):
        return "the folder name is not a usable student id"
    if student_id.casefold() in GRADER_FILES:
        return f"the folder name {student_id} is a file the grader writes"
    return None


def student_folder(output_dir, student_id):
    """Where a student's files go; an unusable id (say `-rf`, `.x` or `grades.csv`) goes under `_invalid/<hash>`."""
    if id_problem(student_id) is None:
        return Path(output_dir) / student_id
    return Path(output_dir) / "_invalid" / hashlib.sha256(student_id.encode("utf-8", "replace")).hexdigest()[:16]


def atomic_write(path, text):
    """Write `text` to `path` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def inert(value):
    """A CSV cell a spreadsheet shows as text: a leading quote before a string that starts like a formula."""
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_START) else value


def write_grades(path, results):
    """grades.csv, one row per result; no cell starts as a formula (OWASP's CSV injection advice)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({field: inert(result.get(field)) for field in CSV_FIELDS} for result in results)
    atomic_write(path, buffer.getvalue())


def read_grades(path):
    """The rows of a grades.csv, each cell as it was before `write_grades` made it inert."""
    with open(path, newline="", encoding="utf-8") as stream:
        return [{field: value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value
                 for field, value in row.items()} for row in csv.DictReader(stream)]


def feedback_html(result):
    """A student's feedback: each check by name, functions and points; never hidden code or answers."""
    return PAGES.get_template("feedback.html").render(**result)


def write_student(output_dir, result):
    folder = student_folder(output_dir, result["student_id"])
    atomic_write(folder / "feedback.html", feedback_html(result))
    atomic_write(folder / "result.json", json.dumps(result, indent=2) + "\n")


def read_result(output_dir, student_id):
    """The finished result.json of `student_id`, or None when there is none to trust."""
    path = student_folder(output_dir, student_id) / "result.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
