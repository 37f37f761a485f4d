"""Time to grade one correct `backprop` submission: our pipeline against plain `nbgrader autograde`.

Both run in this one process's session, on the same notebook and machine; the ratio is what counts.
Run: `make benchmark` (or `python benchmarks/grade_one.py [--repeat N]`).
"""
import argparse
import statistics
import tempfile
from pathlib import Path

from classroom import ROOT, autograder_grade, nbgrader_autograde, timed, write_class

from autograder import course, gradebook


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    assignment = course.load(ROOT, "backprop")
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        submitted = scratch / "submitted"
        write_class(assignment, submitted, 1)
        db_url = f"sqlite:///{scratch / 'gradebook.db'}"
        gradebook.prepare(assignment, db_url)
        for run in range(repeat):
            ours.append(timed(autograder_grade("backprop", submitted, scratch / f"out{run}", "--db", db_url)))
            theirs.append(timed(nbgrader_autograde("backprop", db_url, submitted, scratch / "autograded")))
    ours_s, theirs_s = statistics.median(ours), statistics.median(theirs)
    print(f"autograder grade (1 submission, whole command): median {ours_s:.2f} s over {repeat} runs")
    print(f"nbgrader autograde (same notebook, whole command): median {theirs_s:.2f} s over {repeat} runs")
    print(f"ratio autograder / nbgrader: {ours_s / theirs_s:.2f}")


if __name__ == "__main__":
    main()
