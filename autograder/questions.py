"""The judge's seed: questions a student cannot predict, and a regrade reproduces.

Every input a check sends into the kernel comes from a seed keyed by a course secret that
never reaches students, the assignment, the student and the submission's own content. The
same notebook regraded is asked the same questions; a resubmission that changes any cell is
asked new ones, so inputs seen in one feedback (or leaked by the student's own code) are
worth nothing in the next.
"""
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

SECRET_VARIABLE = "AUTOGRADER_SECRET"
SECRET_FILE = ".autograder-secret"  # in the course folder, ignored by git


def course_secret(root, announce=print):
    """The course secret: $AUTOGRADER_SECRET, else the course's secret file, made on first use."""
    if os.environ.get(SECRET_VARIABLE):
        return os.environ[SECRET_VARIABLE].encode()
    path = Path(root, SECRET_FILE)
    if not path.is_file():
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "w") as stream:
            stream.write(secrets.token_hex(32) + "\n")
        announce(f"made a new course secret in {path}: keep it, and keep it from students "
                 f"(in CI, set {SECRET_VARIABLE} instead)")
    return path.read_text().strip().encode()


def fresh_secret():
    """A secret of its own for a run that must pass on any questions (selfcheck)."""
    return secrets.token_bytes(32)


def content_digest(nb):
    """What the student wrote: every cell's type and source; outputs and metadata do not count."""
    cells = [[cell.cell_type, cell.source] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def seed(secret, assignment_id, student_id, nb):
    """The judge's seed for one submission."""
    message = json.dumps([assignment_id, student_id, content_digest(nb)]).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big")
