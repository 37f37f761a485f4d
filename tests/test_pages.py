"""The pages people read, after the shared backprop grading run, rendered in headless Chromium: a
student's feedback.html and the class's report.html load, say what result.json and grades.csv say,
show nothing hidden, and turn nothing a student wrote into markup. Screenshots go to test-output/
for a person to look at."""
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


def hidden_lines():
    """Lines of the hidden checks long enough to mean something if a page showed them."""
    source = (ROOT / "reference" / "backprop_checks.py").read_text()
    return [line.strip() for line in source.splitlines() if len(line.strip()) > 25]


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    shot = SCREENSHOTS / name
    done = chromium("--window-size=1100,1600", f"--screenshot={shot}", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def rendered(page):
    """The page's DOM once Chromium has loaded it, which must raise no script error."""
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0 and "Uncaught" not in dom.stderr, dom.stderr[-2000:]
    return dom.stdout


def test_a_students_feedback_loads_in_a_browser_and_says_what_result_json_says(graded):
    page = graded["output"] / "bob" / "feedback.html"
    result = graded["results"]["bob"]
    dom = rendered(page)
    assert f"<h1>backprop: {result['score']:g} / 100</h1>" in dom
    for check in result["checks"]:
        assert f"<td>{check['name']}</td>" in dom and f"{check['points']:g} / {check['max_points']:g}" in dom
    assert dom.count('<tr class="fail">') == sum(c["points"] < c["max_points"] for c in result["checks"]) > 0
    assert not [line for line in hidden_lines() if line in dom]
    screenshot(page, "feedback-backprop-bob.png")


def test_the_class_report_loads_in_a_browser_and_agrees_with_grades_csv(graded):
    page = graded["output"] / "report.html"
    rows = report.read_grades(graded["output"] / "grades.csv")
    dom = rendered(page)
    assert f"<p>{len(rows)} submissions;" in dom
    for status, count in Counter(row["status"] for row in rows).items():
        assert f'<td>{status}</td><td class="num">{count}</td>' in dom
    bob_lost = [c["name"] for c in graded["results"]["bob"]["checks"] if c["points"] < c["max_points"]]
    assert all(f"<td>{name}</td>" in dom for name in bob_lost)
    assert not [line for line in hidden_lines() if line in dom]
    screenshot(page, "class-report-backprop.png")


def test_what_a_student_wrote_stays_text():
    attack = '<img src=x onerror="alert(1)">'
    result = {"student_id": attack, "assignment": "backprop", "score": 1, "max_score": 2, "status": "graded",
              "message": attack, "seconds": 9.0,
              "checks": [{"name": "c", "grade_id": "g", "functions": [attack], "points": 1, "max_points": 2,
                          "message": attack}]}
    for page in (class_report.render("backprop", [result]), report.feedback_html(result)):
        assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
