"""Generating student notebooks with `nbgrader generate_assignment`, and checking they are current."""
import fnmatch
import subprocess
import sys
import tempfile
from pathlib import Path

from nbgrader.coursedir import CourseDirectory

from .course import CourseError


def generate(assignment, release_root, db_url):
    """Run nbgrader generate_assignment into `release_root`/<id>, recording the assignment in `db_url`."""
    command = [sys.executable, "-m", "nbgrader", "generate_assignment", assignment.id, "--force",
               f"--db={db_url}", f"--CourseDirectory.release_directory={release_root}"]
    done = subprocess.run(command, cwd=assignment.root, capture_output=True, text=True)
    if done.returncode != 0:
        raise CourseError(f"nbgrader generate_assignment {assignment.id} failed:\n{done.stderr[-3000:]}")
    return Path(release_root) / assignment.id


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


