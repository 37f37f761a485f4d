"""OUT/report.html: the class as a whole after a grading run, for the instructor.

Score histogram, pass rate per check (which check the class struggled with), status counts, the
slowest submissions and the time per submission; drawn with HTML and CSS only, rendered by Jinja2
with autoescaping, so nothing a student wrote (a message quoting their error) becomes markup.
"""
import statistics
from collections import Counter

from . import report
from .outcome import Status

BINS = 10
SLOWEST = 5
UNRUN = {Status.INVALID_NOTEBOOK, Status.INVALID_SUBMISSION}  # no check ran: left out of the pass rates


def _histogram(results):
    """[(label, count)] over BINS equal ranges of the score, as percentages of the maximum (100 % in the last)."""
    counts = [0] * BINS
    for result in results:
        share = result["score"] / result["max_score"] if result["max_score"] else 0
        counts[min(int(share * BINS), BINS - 1)] += 1
    return [(f"{100 * i // BINS}–{100 * (i + 1) // BINS} %", count) for i, count in enumerate(counts)]


def _pass_rates(results):
    """[(check, functions, passed, ran)] of every check, the least passed first."""
    rows = {}
    for result in results:
        if result["status"] in UNRUN:
            continue
        for check in result["checks"]:
            row = rows.setdefault(check["name"], [check["name"], ", ".join(check["functions"]), 0, 0])
            row[2] += check["points"] == check["max_points"]
            row[3] += 1
    return sorted((tuple(row) for row in rows.values()), key=lambda row: (row[2] / row[3], row[0]))


def summary(assignment_id, results):
    """What the page shows, as plain data."""
    seconds = [result["seconds"] for result in results if "seconds" in result]
    return {
        "assignment": assignment_id, "count": len(results),
        "mean": statistics.fmean(r["score"] for r in results) if results else 0,
        "max_score": max((r["max_score"] for r in results), default=0),
        "statuses": Counter(r["status"] for r in results).most_common(),
        "histogram": _histogram(results), "checks": _pass_rates(results),
        "slowest": sorted((r for r in results if "seconds" in r), key=lambda r: -r["seconds"])[:SLOWEST],
        "seconds": {"mean": statistics.fmean(seconds), "median": statistics.median(seconds),
                    "max": max(seconds)} if seconds else None,
    }


def render(assignment_id, results):
    return report.PAGES.get_template("report.html").render(**summary(assignment_id, results))


def write(output_dir, assignment_id, results):
    report.atomic_write(output_dir / "report.html", render(assignment_id, results))
