"""Sample submissions built from the reference: for `make demo`, selfcheck and the tests."""

import nbformat

from . import notebook


def replaced(source, old, new):
    """`source` with `old` replaced by `new`; fails loudly when the reference no longer has `old`."""
    if old not in source:
        raise ValueError(f"sample edit out of date: {old!r} is not in the reference source")
    return source.replace(old, new)


def edited(source, function, old, new):
    """One sample's edit: {function: its reference source with `old` replaced by `new`}."""
    return {function: replaced(source[function], old, new)}


def with_bugs(source, other_style, bugs):
    """The samples every assignment has: the reference, the blank stub, a correct solution written
    `other_style`, and one sample per `bugs` entry {student: (function, old, new)}."""
    return {"alice": {}, "blank": None, "other_style": other_style,
            **{student: edited(source, *bug) for student, bug in bugs.items()}}


def submission(assignment, edits):
    """The release notebook with reference solutions, except the cells in `edits` (None: blank)."""
    stub = nbformat.read(assignment.release_notebook_path, as_version=4)
    if edits is None:
        return stub
    return notebook.with_solutions(stub, {**assignment.reference_sources, **edits})


def write_submission(folder, student, notebook_id, nb):
    """Write `nb` where `grade` looks for it: `folder/<student>/<notebook_id>.ipynb`; return the path."""
    path = folder / student / f"{notebook_id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_samples(assignment, folder):
    """Write the assignment's samples into `folder`, one student each; return the student ids."""
    module = assignment.hidden_module(f"{assignment.id}_samples")
    students = module.samples(assignment.reference_sources)
    for student, edits in students.items():
        write_submission(folder, student, assignment.notebook_id, submission(assignment, edits))
    return list(students)
