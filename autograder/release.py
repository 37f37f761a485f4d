"""Generating student notebooks with `nbgrader generate_assignment`, and checking they are current."""
import fnmatch
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader import utils as nbgrader_utils
from nbgrader.coursedir import CourseDirectory
from nbgrader.api import Gradebook
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, ClearSolutions, ComputeChecksums,
                                    IncludeHeaderFooter, LockCells, SaveCells)

from .course import CourseError


def generate(assignment, release_root, db_url):
    """Run nbgrader generate_assignment into `release_root`/<id>, recording the assignment in `db_url`."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment.id, "--force",
               f"--db={db_url}", f"--CourseDirectory.release_directory={release_root}"]
    done = subprocess.run(command, cwd=assignment.root, capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(f"nbgrader generate_assignment {assignment.id} failed:\n{done.stderr[-3000:]}")
    return Path(release_root) / assignment.id


# generate_assignment's preprocessors up to its SaveCells, which records the checksums they leave
BEFORE_SAVING = (IncludeHeaderFooter, LockCells, ClearSolutions, ClearOutput, CheckCellMetadata, ComputeChecksums)


def _through(assignment, preprocessors, resources):
    """The source notebook through nbgrader's `preprocessors`, configured as the course says."""
    config, nb = assignment.nbgrader_config, nbformat.read(assignment.source_notebook_path, as_version=4)
    for preprocessor in preprocessors:
        nb, resources = preprocessor(config=config).preprocess(nb, resources)
    return nb


def cell_checksums(assignment):
    """{cell name: checksum} that `generate_assignment` would record in a gradebook for the source
    notebook as it is now, computed in this process with the course's nbgrader configuration."""
    nb = _through(assignment, BEFORE_SAVING, {})
    return {cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader["checksum"] for cell in nb.cells
            if nbgrader_utils.is_grade(cell) or nbgrader_utils.is_solution(cell) or nbgrader_utils.is_locked(cell)}


def record(assignment, db_url):
    """Record the source notebook in the gradebook as `generate_assignment` does (the assignment under
    the course's id, then its SaveCells), in this process: no subprocess and no release written."""
    with Gradebook(db_url, assignment.course_id) as gb:
        gb.update_or_create_assignment(assignment.id)
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment.id, "notebook": assignment.notebook_id}}
    _through(assignment, (*BEFORE_SAVING, SaveCells), resources)


# nbgrader's CourseDirectory.ignore: caches and checkpoints that running or opening a released
# notebook leaves behind, never part of a release.
IGNORED = tuple(CourseDirectory().ignore)


def ignored(relative_path):
    """Whether nbgrader leaves this file out of a release."""
    return any(fnmatch.fnmatch(part, pattern) for part in Path(relative_path).parts for pattern in IGNORED)


def _contents(folder):
    return {path.relative_to(folder).as_posix(): path.read_bytes()
            for path in sorted(Path(folder).rglob("*")) if path.is_file() and not ignored(path.relative_to(folder))}


def stale_files(assignment, db_url):
    """Files of release/<id> that differ from a fresh generation (empty when up to date).

    The generation also records the assignment in the gradebook at `db_url`.
    """
    with tempfile.TemporaryDirectory() as scratch:
        fresh = generate(assignment, Path(scratch), db_url)
        expected, committed = _contents(fresh), _contents(assignment.release_dir)
    return sorted(name for name in expected.keys() | committed.keys()
                  if expected.get(name) != committed.get(name))


def release(assignment, db_url):
    """Regenerate release/<id> in place."""
    generate(assignment, assignment.root / "release", db_url)


