"""Time to grade one correct `backprop` submission: our pipeline against plain `nbgrader autograde`.

Both run in this one process's session, on the same notebook and machine; the ratio is what counts.
Run: `make benchmark` (or `python benchmarks/grade_one.py [--repeat N]`).
"""
import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import course, gradebook, samples

ROOT = Path(__file__).resolve().parents[1]


def timed(command):
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    assignment = course.load(ROOT, "backprop")
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        for folder in ("ours", "submitted"):
            (scratch / folder / "alice" / "backprop").mkdir(parents=True)
        notebook = samples.submission(assignment, {})
        nbformat.write(notebook, scratch / "ours" / "alice" / "backprop.ipynb")
        nbformat.write(notebook, scratch / "submitted" / "alice" / "backprop" / "backprop.ipynb")
        db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        gradebook.prepare(assignment, db_url)
        for run in range(repeat):
            ours.append(timed([sys.executable, "-m", "autograder", "grade", "backprop", "--submissions",
                               str(scratch / "ours"), "--output", str(scratch / f"out{run}"), "--db", db_url]))
            theirs.append(timed([sys.executable, "-m", "nbgrader", "autograde", "backprop", "--force",
                                 f"--db={db_url}", f"--CourseDirectory.submitted_directory={scratch / 'submitted'}",
                                 f"--CourseDirectory.autograded_directory={scratch / 'autograded'}"]))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"autograder grade (1 submission, whole command): median {ours_s:.2f} s over {repeat} runs")
    print(f"nbgrader autograde (same notebook, whole command): median {theirs_s:.2f} s over {repeat} runs")
    print(f"ratio autograder / nbgrader: {ours_s / theirs_s:.2f}")


if __name__ == "__main__":
    main()
