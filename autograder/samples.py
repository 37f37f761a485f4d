"""Sample submissions built from the reference: for `make demo`, selfcheck and the tests."""

import nbformat

from . import notebook


def replaced(source, old, new):
    """`source` with `old` replaced by `new`; fails loudly when the reference no longer has `old`."""
    if old not in source:
        raise ValueError(f"sample edit out of date: {old!r} is not in the reference source")
    return source.replace(old, new)


def submission(assignment, edits):
    """The release notebook with reference solutions, except the cells in `edits` (None: blank)."""
    stub = nbformat.read(assignment.release_notebook_path, as_version=4)
    if edits is None:
        return stub
    return notebook.with_solutions(stub, {**assignment.reference_sources, **edits})


def write_samples(assignment, folder):
    """Write the assignment's samples as `folder/<student>/<id>.ipynb`; return the student ids."""
    module = assignment.hidden_module(f"{assignment.id}_samples")
    students = module.samples(assignment.reference_sources)
    for student, edits in students.items():
        (folder / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(submission(assignment, edits), folder / student / f"{assignment.notebook_id}.ipynb")
    return list(students)
