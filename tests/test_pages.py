"""The pages people read, after the shared backprop grading run, rendered in headless Chromium: a
student's feedback.html and the class's report.html load, say what result.json and grades.csv say,
show nothing hidden, and turn nothing a student wrote into markup. Screenshots go to test-output/
for a person to look at."""
from collections import Counter

from autograder import class_report, report
from conftest import hidden_lines, rendered, screenshot

def test_a_students_feedback_loads_in_a_browser_and_says_what_result_json_says(graded):
    page = graded["output"] / "bob" / "feedback.html"
    result = graded["results"]["bob"]
    dom = rendered(page)
    assert f"<h1>backprop: {result['score']:g} / 100</h1>" in dom
    for check in result["checks"]:
        assert f"<td>{check['name']}</td>" in dom and f"{check['points']:g} / {check['max_points']:g}" in dom
    assert dom.count('<tr class="fail">') == sum(c["points"] < c["max_points"] for c in result["checks"]) > 0
    assert not [line for line in hidden_lines("backprop") if line in dom]
    screenshot(page, "feedback-backprop-bob.png")


def test_a_correct_solutions_feedback_shows_its_own_loss_curve_against_the_pass_line(graded):
    train = next(c for c in graded["results"]["alice"]["checks"] if c["name"] == "train_learns_xor")
    [figure] = train["figures"]
    assert figure["kind"] == "curve" and figure["pass_line"] == 0.02 and figure["series"]["loss"][-1][1] < 0.02
    dom = rendered(graded["output"] / "alice" / "feedback.html")
    assert dom.count('<tr class="figure"><td colspan="4">') == 1 and 'src="data:image/svg+xml;base64,' in dom
    screenshot(graded["output"] / "alice" / "feedback.html", "feedback-backprop-alice.png")


def test_the_class_report_loads_in_a_browser_and_agrees_with_grades_csv(graded):
    page = graded["output"] / "report.html"
    rows = report.read_grades(graded["output"] / "grades.csv")
    dom = rendered(page)
    assert f"<p>{len(rows)} submissions;" in dom
    for status, count in Counter(row["status"] for row in rows).items():
        assert f'<td>{status}</td><td class="num">{count}</td>' in dom
    bob_lost = [c["name"] for c in graded["results"]["bob"]["checks"] if c["points"] < c["max_points"]]
    assert all(f"<td>{name}</td>" in dom for name in bob_lost)
    assert not [line for line in hidden_lines("backprop") if line in dom]
    screenshot(page, "class-report-backprop.png")


def test_what_a_student_wrote_stays_text():
    attack = '<img src=x onerror="alert(1)">'
    result = {"student_id": attack, "assignment": "backprop", "score": 1, "max_score": 2, "status": "graded",
              "message": attack, "seconds": 9.0,
              "checks": [{"name": "c", "grade_id": "g", "functions": [attack], "points": 1, "max_points": 2,
                          "message": attack}]}
    for page in (class_report.render("backprop", [result]), report.feedback_html(result)):
        assert "<img" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page
