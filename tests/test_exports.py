"""`autograder export` on the shared backprop grading run: each format re-read and checked against what
the run graded; Gradescope's files against the schema its documentation gives; nothing hidden leaks."""
import csv
import json

import jsonschema
import pytest

from conftest import ROOT, run_cli

# Gradescope's autograder output format (its "Autograder Specifications", results.json), as documented
VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GRADESCOPE = {
    "type": "object",
    "required": ["tests"],
    "properties": {
        "score": {"type": "number"}, "execution_time": {"type": "number"}, "output": {"type": "string"},
        "visibility": VISIBILITY, "stdout_visibility": VISIBILITY, "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["score", "max_score", "name"],
            "properties": {"score": {"type": "number"}, "max_score": {"type": "number"},
                           "status": {"enum": ["passed", "failed"]}, "name": {"type": "string"},
                           "number": {"type": "string"}, "output": {"type": "string"},
                           "tags": {"type": "array", "items": {"type": "string"}}, "visibility": VISIBILITY,
                           "extra_data": {"type": "object"}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}


def export(graded, to, folder):
    done = run_cli("export", "backprop", "--to", to, "--from", str(graded["output"]), "--output", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_the_csv_has_each_students_totals_and_a_column_per_check(graded, tmp_path):
    export(graded, "csv", tmp_path)
    rows = {row["student_id"]: row for row in csv.DictReader(open(tmp_path / "backprop-grades.csv"))}
    assert rows.keys() == graded["results"].keys()
    for student, result in graded["results"].items():
        row = rows[student]
        assert float(row["score"]) == result["score"] == float(row["final_score"])
        assert sum(float(row[check["name"]]) for check in result["checks"]) == pytest.approx(result["score"])


def test_the_canvas_import_matches_students_on_their_login_and_gives_points_possible(graded, tmp_path):
    export(graded, "canvas", tmp_path)
    header, possible, *rows = list(csv.reader(open(tmp_path / "backprop-canvas.csv")))
    assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "backprop"]
    assert possible[0] == "Points Possible" and float(possible[-1]) == 100
    scores = {row[3]: float(row[-1]) for row in rows}
    assert scores == {student: result["score"] for student, result in graded["results"].items()}


def test_gradescope_results_follow_its_schema_and_carry_no_hidden_code(graded, tmp_path):
    export(graded, "gradescope", tmp_path)
    checks_source = (ROOT / "reference" / "backprop_checks.py").read_text()
    hidden_lines = [line.strip() for line in checks_source.splitlines() if len(line.strip()) > 25]
    for student, result in graded["results"].items():
        text = (tmp_path / student / "results.json").read_text()
        results = json.loads(text)
        jsonschema.validate(results, GRADESCOPE)
        assert results["score"] == result["score"]
        assert sum(test["score"] for test in results["tests"]) == pytest.approx(result["score"])
        assert [test["name"] for test in results["tests"]] == [check["name"] for check in result["checks"]]
        assert not [line for line in hidden_lines if line in text], student
    failed = json.loads((tmp_path / "bob" / "results.json").read_text())["tests"]
    assert any(test["status"] == "failed" and test["output"] for test in failed)


def test_an_export_from_a_folder_that_grade_did_not_write_names_what_is_missing(tmp_path):
    done = run_cli("export", "backprop", "--to", "canvas", "--from", str(tmp_path), "--output", str(tmp_path / "x"))
    assert done.returncode == 2
    assert f"{tmp_path / 'grades.csv'} is missing" in " ".join(done.stdout.split()) and "Traceback" not in done.stderr


def test_run_grades_one_notebook_into_gradescopes_results(graded, tmp_path):
    """What a Gradescope run_autograder calls: the submission under any file name, the assignment named;
    as the same student, the same questions and the same points as `grade` gave."""
    upload = tmp_path / "bob (2).ipynb"
    upload.write_bytes((graded["submissions"] / "bob" / "backprop.ipynb").read_bytes())
    done = run_cli("run", str(upload), "--id", "backprop", "--student", "bob", "--output", str(tmp_path / "results"))
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    jsonschema.validate(results, GRADESCOPE)
    checks = graded["results"]["bob"]["checks"]
    assert [(t["name"], t["score"]) for t in results["tests"]] == [(c["name"], c["points"]) for c in checks]
    assert results["score"] == graded["results"]["bob"]["score"] < 100


def test_run_names_a_notebook_that_is_no_assignment(tmp_path):
    upload = tmp_path / "homework.ipynb"
    upload.write_text("{}")
    done = run_cli("run", str(upload), "--output", str(tmp_path / "results"))
    assert done.returncode == 2 and "no assignment 'homework'" in done.stdout
    assert not (tmp_path / "results" / "results.json").exists()
