"""Reading, validating and restoring notebooks, with nbgrader's own preprocessors."""
import copy
import json
import re

import nbformat
from nbgrader import utils as nbgrader_utils
from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds,
                                    OverwriteCells, OverwriteKernelspec)

MAX_NOTEBOOK_BYTES = 100 * 2**20
# parsed JSON takes tens of times the memory of its text: the "[", "{" and "," of the text bound
# what json.loads builds (a course notebook has a few thousand; 1,000 cells of long logs, ~1 million)
MAX_ELEMENTS = 2_000_000
MAX_CELLS = 5000  # course notebooks have a few hundred; 20,000 empty cells would only burn kernel time
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.DOTALL)


class InvalidNotebook(ValueError):
    """The file is not a notebook the grader can read; the message says why."""


def load(path):
    """Read an nbformat-4 notebook, or raise InvalidNotebook naming the file and the problem."""
    try:
        size = path.stat().st_size
        if size > MAX_NOTEBOOK_BYTES:
            raise InvalidNotebook(f"{path.name} is {size / 2**20:.0f} MB, over the "
                                  f"{MAX_NOTEBOOK_BYTES // 2**20} MB limit")
        if size == 0:
            raise InvalidNotebook(f"{path.name} is empty")
        text = path.read_bytes().decode("utf-8")
        if sum(map(text.count, "[{,")) > MAX_ELEMENTS:
            raise InvalidNotebook(f"{path.name} has more than {MAX_ELEMENTS} JSON elements: "
                                  "clear its outputs (Kernel > Restart & Clear Output) and save it again")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebook(f"{path.name} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise InvalidNotebook(f"{path.name} is not valid JSON ({error.msg} at line {error.lineno}, "
                              f"column {error.colno})") from None
    except RecursionError:
        raise InvalidNotebook(f"{path.name} is nested too deeply to be a notebook") from None
    except OSError as error:
        raise InvalidNotebook(f"{path.name} could not be read ({error.strerror or error})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidNotebook(f"{path.name} is JSON but not a Jupyter notebook")
    if data.get("nbformat") != 4:
        raise InvalidNotebook(f"{path.name} is in nbformat {data.get('nbformat')}; only nbformat 4 is "
                              "graded (open it in a current Jupyter and save it again)")
    if isinstance(data.get("cells"), list) and len(data["cells"]) > MAX_CELLS:
        raise InvalidNotebook(f"{path.name} has {len(data['cells'])} cells, over the {MAX_CELLS} limit")
    for cell in data.get("cells", []):
        if isinstance(cell, dict) and isinstance(cell.get("outputs"), list):
            cell["outputs"] = []  # never graded (restore clears them), and most of a big file
    try:
        nb = nbformat.v4.to_notebook(data)  # what nbformat.reads makes of the parsed JSON, without parsing again
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise InvalidNotebook(f"{path.name} does not follow the nbformat 4 schema: "
                              f"{error.message[:300]}") from None
    return nb


class DeduplicateGradeIds(DeduplicateIds):
    """nbgrader's DeduplicateIds, which leaves `nbgrader: {}` on the dropped copies; OverwriteCells
    then fails on them (KeyError 'grade_id'). A duplicated cell becomes a plain cell instead."""

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader") == {}:
                del cell.metadata["nbgrader"]
        return nb, resources


def restore(nb, assignment_id, notebook_id, db_url):
    """Restore locked and test cells, points and kernelspec from the gradebook (nbgrader's sanitizing)."""
    resources = {"nbgrader": {"db_url": db_url, "assignment": assignment_id, "notebook": notebook_id}}
    for preprocessor in (ClearOutput(), DeduplicateGradeIds(), OverwriteKernelspec(),
                         OverwriteCells(add_missing_cells=True), CheckCellMetadata()):
        try:
            nb, resources = preprocessor.preprocess(nb, resources)
        except Exception as error:  # nbgrader's own validation of student-edited metadata
            raise InvalidNotebook(f"{notebook_id}.ipynb has cell metadata nbgrader cannot "
                                  f"repair: {error}") from None
    return nb


def is_test_cell(cell):
    """An nbgrader grade cell: its verdict comes from the judge, never from running it."""
    return nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell)


def without_closing_demos(nb):
    """A copy of `nb` that ends with the last code cell a student writes (a solution cell, or one the student
    added): the instructor's cells after it are demos, and a contract function gets what it needs as arguments."""
    written = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code" and
               (nbgrader_utils.is_solution(cell) or "nbgrader" not in cell.metadata)]
    trimmed = copy.deepcopy(nb)
    trimmed.cells = trimmed.cells[:written[-1] + 1] if written else []
    return trimmed


def solution_cells(nb):
    """{grade_id: cell} of the solution cells, one per graded function."""
    return {cell.metadata.nbgrader["grade_id"]: cell for cell in nb.cells
            if nbgrader_utils.is_solution(cell) and cell.cell_type == "code"}


def with_solutions(nb, sources):
    """A copy of `nb` whose solution cells named in `sources` hold the given code."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for grade_id, cell in solution_cells(nb).items():
        if grade_id in sources:
            cell.source = sources[grade_id]
    return nb


def grade_cell_points(nb):
    """{grade_id: points} of the test cells, in notebook order."""
    return {cell.metadata.nbgrader["grade_id"]: float(cell.metadata.nbgrader.get("points", 0))
            for cell in nb.cells if is_test_cell(cell)}
