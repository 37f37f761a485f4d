"""OUT/report.html after the shared backprop grading run, rendered in headless Chromium: it loads,
its figures match grades.csv, nothing a student wrote becomes markup, and nothing hidden shows.
The screenshot goes to test-output/ for a person to look at."""
import shutil
import subprocess
from collections import Counter

import pytest

from autograder import class_report, report
from conftest import ROOT

SCREENSHOTS = ROOT / "test-output"


def chromium(*args):
    """Run headless Chromium (Debian's `chromium`: `make test` installs it where it can)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is missing: apt-get install chromium")
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=120)


def test_the_class_report_loads_in_a_browser_and_agrees_with_grades_csv(graded):
    page = graded["output"] / "report.html"
    rows = report.read_grades(graded["output"] / "grades.csv")
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0 and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    assert f"<p>{len(rows)} submissions;" in dom.stdout
    for status, count in Counter(row["status"] for row in rows).items():
        assert f'<td>{status}</td><td class="num">{count}</td>' in dom.stdout
    bob_lost = [c["name"] for c in graded["results"]["bob"]["checks"] if c["points"] < c["max_points"]]
    assert all(f"<td>{name}</td>" in dom.stdout for name in bob_lost)
    checks_source = (ROOT / "reference" / "backprop_checks.py").read_text()
    assert not [line for line in checks_source.splitlines() if len(line.strip()) > 25 and line.strip() in dom.stdout]
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / "class-report-backprop.png"
    done = chromium("--window-size=1100,1600", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_what_a_student_wrote_stays_text():
    attack = '<img src=x onerror="alert(1)">'
    result = {"student_id": attack, "assignment": "backprop", "score": 1, "max_score": 2, "status": "graded",
              "message": attack, "seconds": 9.0,
              "checks": [{"name": "c", "grade_id": "g", "functions": [attack], "points": 1, "max_points": 2,
                          "message": attack}]}
    page = class_report.render("backprop", [result])
    assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
