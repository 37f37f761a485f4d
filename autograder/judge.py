"""The judge: runs an assignment's checks in the grader's own process.

The checks (written with `autograder.checks`) ask the student's kernels for raw outputs through
`autograder.student.Student` and decide here, against the reference. This module only runs
them in order and turns what each one raised into points, a message and, where a limit or a
kernel was hit, a Trip for the submission's status.
"""
import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import figures
from .checks import Fail
from .execution import CellTimedOut, SessionBroken
from .outcome import Status, Trip
from .student import PolicyBreach, StudentError
from .wire import WireError


@dataclass
class CheckResult:
    name: str
    grade_id: str
    functions: list
    points: float
    max_points: float
    message: str
    figures: list = field(default_factory=list)  # what it showed of the student's results (autograder.figures)

    def as_dict(self):
        return {"name": self.name, "grade_id": self.grade_id, "functions": self.functions, "points": self.points,
                "max_points": self.max_points, "message": self.message, "figures": self.figures}


def _check_seed(seed, name):
    return [seed, int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")]


def run_checks(checks, student, seed):
    """Run every check through `student`; return (results, trips).

    `trips` has a Trip for each check that hit a limit, broke a kernel, breached the policy
    while running, or failed in its own code (a grader error: zero for that check only, and a
    status that asks for a look).
    A check's rng depends only on the seed and its name, so a regrade is identical.
    """
    results, trips, broken = [], [], []
    for item in checks:
        points, message = 0, "passed"
        try:
            with figures.recording() as shown:
                item.run(student, np.random.default_rng(_check_seed(seed, item.name)))
            points = item.points
        except PolicyBreach as breach:
            message = str(breach)
            trips.append(Trip(Status.POLICY, message, item.name))
        except Fail as failure:
            message = str(failure)
        except StudentError as error:
            message = str(error)
            if error.limit:
                trips.append(Trip(error.limit, f"check {item.name} hit the {error.limit} limit", item.name))
        except CellTimedOut as timeout:
            message = f"timeout: {timeout}"
            trips.append(Trip(Status.TIMEOUT, f"check {item.name} hit the timeout limit", item.name))
        except WireError as error:
            message = f"the output could not be read: {error}"
        except SessionBroken as error:
            if error in broken:  # a kernel that broke earlier: its status is noted already
                message = f"not run: {error}"
            else:
                message = str(error)
                broken.append(error)
                trips.append(Trip(error.status, message, item.name))
        except Exception as error:  # a fault of this check's own code: the others still run
            message = f"grader error in this check ({type(error).__name__}: {error}); please report it"
            trips.append(Trip(Status.GRADER_ERROR, f"check {item.name} failed in the grader's own code", item.name))
        results.append(CheckResult(item.name, item.grade_id, list(item.functions), points, item.points, message,
                                   shown))
    return results, trips
