"""What the sandbox costs: grading one correct `backprop` notebook inside bubblewrap and unconfined.

Both executors grade the same notebook in this one process, alternating run by run so that
machine noise falls on both; the ratio of the medians is what counts.
Run: `make benchmark` (or `python benchmarks/sandbox_overhead.py [--repeat N]`).
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from autograder import course, gradebook, grading, questions, samples, sandbox
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
    times = {name: [] for name in executors}
    with tempfile.TemporaryDirectory() as scratch:
        path = samples.write_submission(Path(scratch), "alice", assignment.notebook_id,
                                        samples.submission(assignment, {}))
        db_url = f"sqlite:///{scratch}/gradebook.db"
        gradebook.prepare(assignment, db_url)
        for _ in range(repeat):
            for name, executor in executors.items():
                started = time.perf_counter()
                result = grading.grade_notebook(assignment, path, "alice", db_url, executor, questions.fresh_secret())
                times[name].append(time.perf_counter() - started)
                assert result["score"] == result["max_score"], result["message"]
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, median in medians.items():
        print(f"{name:>10}: median {median:.2f} s per submission over {repeat} runs")
    print(f"ratio sandboxed / unconfined: {medians['sandboxed'] / medians['unconfined']:.2f}")


if __name__ == "__main__":
    main()
