"""What the run-time library policy costs: one correct notebook graded with the NumPy-only functions
probed in a confined kernel of their own, against every probe in one sandboxed kernel (the static
scan only). Both are sandboxed; the difference is the second kernel and its run of the notebook.

Run: `make benchmark` (or `python benchmarks/runtime_policy.py [--repeat N] [ID ...]`).
"""
import argparse
import os
from pathlib import Path

from alternate import median_seconds, report

from autograder import course, logs, sandbox

ROOT = Path(__file__).resolve().parents[1]


class OneKernel(sandbox.SandboxedKernel):
    """The sandbox without the NumPy-only kernel: every probe runs in the notebook's own kernel."""

    confines = False


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("ids", nargs="*", default=["softmax", "textcnn"])
    args = parser.parse_args()
    sandbox.check_available()
    for assignment_id in args.ids:
        assignment = course.load(ROOT, assignment_id)
        with logs.stderr_to(os.devnull):
            assignment.checks  # their import may start Keras: TensorFlow's start-up lines stay off the output
        executors = {"two kernels": sandbox.SandboxedKernel(assignment.limits, assignment.hidden_packages),
                     "one kernel": OneKernel(assignment.limits, assignment.hidden_packages)}
        report(f"{assignment_id}, one correct submission", median_seconds(assignment, executors, args.repeat),
               args.repeat)


if __name__ == "__main__":
    main()
