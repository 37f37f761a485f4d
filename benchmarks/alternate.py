"""Grade one correct notebook with several executors in this one process, alternating run by run so
that machine noise falls on all of them; the medians and their ratio are what count."""
import statistics
import tempfile
import time
from pathlib import Path

from autograder import gradebook, grading, questions, samples


def median_seconds(assignment, executors, repeat):
    """{executor name: median seconds to grade the reference submission}; every run must earn full marks."""
    times = {name: [] for name in executors}
    with tempfile.TemporaryDirectory() as scratch:
        path = samples.write_submission(Path(scratch), "alice", assignment.notebook_id,
                                        samples.submission(assignment, {}))
        db_url = f"sqlite:///{scratch}/gradebook.db"
        gradebook.prepare(assignment, db_url)
        secret = questions.fresh_secret()
        for _ in range(repeat):
            for name, executor in executors.items():
                started = time.perf_counter()
                nb = grading.restored(assignment, path, db_url)
                result = grading.grade_notebook(assignment, nb, "alice", executor, secret)
                times[name].append(time.perf_counter() - started)
                assert result["score"] == result["max_score"], result["message"]
    return {name: statistics.median(values) for name, values in times.items()}


def report(title, medians, repeat):
    """Print each median and the ratio of the first executor to the second."""
    (first, a), (second, b) = list(medians.items())[:2]
    print(title)
    for name, median in medians.items():
        print(f"  {name:>12}: median {median:.2f} s per submission over {repeat} runs")
    print(f"  ratio {first} / {second}: {a / b:.2f} ({a - b:+.2f} s)")
