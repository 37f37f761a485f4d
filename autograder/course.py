"""A course on disk: nbgrader's folders, plus the hidden reference and checks of each assignment."""
import importlib
import inspect
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader

from . import notebook, policy, probes
from .checks import Check
from .limits import Limits
from .student import Student


class CourseError(RuntimeError):
    """The course folder or an assignment in it is missing or inconsistent."""


def find_root(start=None):
    """The folder holding nbgrader_config.py: $AUTOGRADER_COURSE, or the nearest one above `start`."""
    if os.environ.get("AUTOGRADER_COURSE"):
        return Path(os.environ["AUTOGRADER_COURSE"]).resolve()
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "nbgrader_config.py").is_file():
            return folder
    raise CourseError(f"no nbgrader_config.py in {here} or above: run this inside a course folder "
                      "or set AUTOGRADER_COURSE")


@dataclass(frozen=True)
class Assignment:
    """One assignment: its nbgrader source and release, its reference and its checks."""

    id: str
    root: Path

    @property
    def notebook_id(self):
        return self.id

    @property
    def source_notebook_path(self):
        return self.root / "assignments" / self.id / f"{self.id}.ipynb"

    @property
    def release_dir(self):
        return self.root / "release" / self.id

    @property
    def release_notebook_path(self):
        return self.release_dir / f"{self.id}.ipynb"

    @cached_property
    def nbgrader_config(self):
        """The course's nbgrader configuration (nbgrader_config.py), as nbgrader's own tools read it."""
        return PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()

    @cached_property
    def coursedir(self):
        """nbgrader's CourseDirectory as the course configures it: its id, its gradebook, its folders."""
        return CourseDirectory(config=self.nbgrader_config)

    @property
    def course_id(self):
        """The course id nbgrader records the course's gradebook rows under."""
        return self.coursedir.course_id

    @property
    def db_url(self):
        """The course's gradebook, where nbgrader_config.py puts it (nbgrader's default: gradebook.db in the course)."""
        return self.coursedir.db_url

    @cached_property
    def source_notebook(self):
        return nbformat.read(self.source_notebook_path, as_version=4)

    @cached_property
    def settings(self):
        """Per-assignment settings, kept in the source notebook's metadata under `autograder`."""
        return dict(self.source_notebook.metadata.get("autograder", {}))

    @property
    def limits(self):
        return Limits(**self.settings.get("limits", {}))

    @property
    def hidden_packages(self):
        """Modules forbidden in every graded function: the sandbox hides the installed ones."""
        return tuple(self.settings.get("forbidden", ()))

    @property
    def numpy_only(self):
        """Graded functions that may use only NumPy and the standard library (probed in a kernel that has no more)."""
        return frozenset(self.settings.get("numpy_only", ()))

    @cached_property
    def rules(self):
        """{function: policy.Rule}; the course's own released modules count as allowed."""
        modules = [path.stem for path in self.release_dir.glob("*.py")]
        return policy.rules(self.settings, self.functions, modules)

    @cached_property
    def functions(self):
        """The graded functions, one per solution cell, in notebook order."""
        return list(notebook.solution_cells(self.source_notebook))

    @cached_property
    def reference(self):
        return self.hidden_module(self.id)

    @cached_property
    def checks(self):
        """The checks in the order they run: the checks module's CHECKS.

        Order matters once a kernel breaks (the checks after it are not run), so it is written
        down, cheap checks first and trainings last.
        """
        module = self.hidden_module(f"{self.id}_checks")
        checks = list(getattr(module, "CHECKS", ()))
        self._validate(module, checks)
        self._validate_probes()
        return checks

    @cached_property
    def reference_sources(self):
        """{function: source of the reference function}, pasted into solution cells."""
        return {name: inspect.getsource(getattr(self.reference, name)) for name in self.functions}

    def hidden_module(self, name):
        """Import `reference.<name>` from the course (hidden from students)."""
        if str(self.root) not in sys.path:
            sys.path.insert(0, str(self.root))
        return importlib.import_module(f"reference.{name}")

    def _validate_probes(self):
        """Every function of reference/<id>_probes.py must be sendable to a kernel (see `autograder.probes`)."""
        if not (self.root / "reference" / f"{self.id}_probes.py").is_file():
            return
        try:
            probes.validate(self.hidden_module(f"{self.id}_probes"))
        except probes.ProbeError as error:
            raise CourseError(f"{self.id}: {error}") from None

    def _validate(self, module, checks):
        """CHECKS must list each check of the module once; they must add up to each grade cell's points and name
        real functions, none of which may shadow what `student.<name>` already means."""
        defined = {value.name for value in vars(module).values() if isinstance(value, Check)}
        listed = [item.name for item in checks]
        if sorted(listed) != sorted(defined):
            extra = sorted({name for name in listed if listed.count(name) > 1 or name not in defined})
            raise CourseError(f"{self.id}: CHECKS in {module.__file__} must list each check of the file once "
                              f"(missing: {sorted(defined - set(listed)) or 'none'}; repeated or unknown: "
                              f"{extra or 'none'})")
        if clashes := sorted(set(self.functions) & set(dir(Student))):
            raise CourseError(f"{self.id}: graded functions may not be named {', '.join(clashes)} (a method of the "
                              "checks' `student`)")
        points = notebook.grade_cell_points(self.source_notebook)
        for grade_id, cell_points in points.items():
            total = sum(c.points for c in checks if c.grade_id == grade_id)
            if abs(total - cell_points) > 1e-9:
                raise CourseError(f"{self.id}: checks of {grade_id} add up to {total:g} points, "
                                  f"the notebook gives it {cell_points:g}")
        for item in checks:
            if item.grade_id not in points or not set(item.functions) <= set(self.functions):
                raise CourseError(f"{self.id}: check {item.name} names an unknown grade cell or function")


def assignment_ids(root):
    return sorted(p.name for p in (root / "assignments").iterdir()
                  if (p / f"{p.name}.ipynb").is_file())


def load(root, assignment_id):
    """The assignment `assignment_id` of the course at `root`, or CourseError."""
    if assignment_id not in assignment_ids(root):
        raise CourseError(f"no assignment '{assignment_id}' in {root / 'assignments'} "
                          f"(known: {', '.join(assignment_ids(root)) or 'none'})")
    return Assignment(assignment_id, root)
