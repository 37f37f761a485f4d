"""The `rnn_textgen` notebook as a student runs it: a fully correct one passes `autograder check`,
its demo cells (training on the Lee corpus, generation, the vanishing-gradient plot) included."""
from autograder import course, notebook, samples
from conftest import ROOT, run_cli


def test_a_fully_correct_notebook_passes_every_visible_check_within_its_limits(tmp_path):
    assignment = course.load(ROOT, "rnn_textgen")
    nb = samples.submission(assignment, {})  # the release notebook with every solution cell filled in
    path = samples.write_submission(tmp_path, "me", assignment.notebook_id, nb)
    done = run_cli("check", str(path))
    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    visible = notebook.grade_cell_points(nb)
    assert len(visible) == 11, visible
    rows = [line for line in done.stdout.splitlines() if any(grade_id in line for grade_id in visible)]
    assert len(rows) == len(visible) and all("passed" in row for row in rows), report
    # a demo cell that fails or runs past its limit is reported as a note; a policy violation as policy
    assert "note:" not in done.stdout and "policy:" not in done.stdout, report
