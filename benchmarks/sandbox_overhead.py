"""What the sandbox costs: grading one correct `backprop` notebook inside bubblewrap and unconfined.

Run: `make benchmark` (or `python benchmarks/sandbox_overhead.py [--repeat N]`).
"""
import argparse
from pathlib import Path

from alternate import median_seconds, report

from autograder import course, sandbox
from autograder.execution import LocalKernel

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    sandbox.check_available()
    assignment = course.load(ROOT, "backprop")
    executors = {"sandboxed": sandbox.SandboxedKernel(assignment.limits, assignment.hidden_packages),
                 "unconfined": LocalKernel(assignment.limits)}
    report("backprop, one correct submission", median_seconds(assignment, executors, repeat), repeat)


if __name__ == "__main__":
    main()
