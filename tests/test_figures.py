"""What a check shows the student of their own results: recorded as plain data while the check runs,
never failing it whatever the student's output is, and drawn as an inert SVG image."""
import base64
import json

import numpy as np

from autograder import drawing, figures, judge
from autograder.checks import check, curve, expect_near_reference, table


@check("test_x", points=2, functions=["train"])
def shows_then_fails(student, rng):
    curve("your losses", {"loss": student.losses}, "step", "loss", pass_line=0.1, log=True)
    table("what it wrote", ["temperature", "text"], student.samples)
    expect_near_reference(0.5, 0.9, 0.1, "the accuracy")


class Student:
    def __init__(self, losses, samples):
        self.losses, self.samples = losses, samples


def test_a_check_records_its_figures_even_when_it_fails_and_the_result_carries_them_as_plain_data():
    results, trips = judge.run_checks([shows_then_fails], Student(np.linspace(1, 0, 10_000), [[0.5, "<b>hi</b>"]]), 1)
    result = results[0].as_dict()
    assert result["points"] == 0 and trips == [] and "needs at least 0.8" in result["message"]
    assert [f["kind"] for f in result["figures"]] == ["curve", "table", "pass_line"]
    loss = result["figures"][0]["series"]["loss"]
    assert len(loss) == figures.MAX_POINTS and loss[0] == [1, 1.0] and loss[-1][0] == 9981
    assert result["figures"][2] == {"kind": "pass_line", "title": "the accuracy", "value": 0.5, "pass_line": 0.8,
                                    "higher_is_better": True, "unit": ""}
    assert json.loads(json.dumps(result)) == result  # it travels as JSON, to result.json


def test_a_student_output_that_cannot_be_drawn_leaves_the_figure_out_and_never_fails_the_check():
    for losses, samples in [(None, None), ("abc", 7), ({"a": 1}, [[object()]]), ([float("nan"), 1.0], [])]:
        results, trips = judge.run_checks([shows_then_fails], Student(losses, samples), 1)
        assert trips == [] and results[0].message.startswith("the accuracy is 0.5"), results[0].message
    results, _ = judge.run_checks([shows_then_fails], Student([float("nan"), 1.0], []), 1)
    assert results[0].figures[0]["series"]["loss"] == [[1, None], [2, 1.0]]  # a gap in the line, not a failure


def test_a_curve_whose_series_are_not_labelled_values_is_left_out():
    with figures.recording() as shown:
        for series in (None, 3, "loss", [1.0, 2.0], object()):
            curve("your History's losses", series, "epoch", "loss")
        table("samples", ["t"], None)
    assert shown == []


def test_outside_a_check_nothing_is_recorded_and_nothing_fails():
    curve("loose", {"loss": [1, 2]}, "step", "loss")
    with figures.recording() as shown:
        pass
    assert shown == []


def test_a_figure_is_drawn_as_an_svg_image_with_no_script_in_it():
    for figure in ({"kind": "curve", "title": "<script>alert(1)</script>", "series": {"loss": [[1, 1.0], [2, 0.5]]},
                    "xlabel": "step", "ylabel": "loss", "pass_line": 0.1, "log": True},
                   {"kind": "pass_line", "title": "accuracy", "value": 0.7, "pass_line": 0.8, "higher_is_better": True,
                    "unit": ""}):
        uri = drawing.data_uri(figure)
        assert uri.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(uri.split(",", 1)[1]).decode()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<script" not in svg  # text is drawn as paths
