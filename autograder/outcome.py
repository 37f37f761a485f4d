"""What happened to one submission, and the one status its result gets.

Every status a result can carry is a `Status`; what stopped part of a submission is a `Trip`
(a notebook cell's failure or a check's); an `Outcome` gathers them with the static policy's
findings and decides the status and the message the student reads.
"""
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    GRADED = "graded"
    POLICY = "policy"  # a function used a library the assignment does not allow it
    TIMEOUT = "timeout"
    CPU_TIME = "cpu-time"
    MEMORY = "memory"
    PROCESSES = "processes"
    FILE_SIZE = "file-size"
    DISK_SPACE = "disk-space"
    OUTPUT_LIMIT = "output-limit"
    KERNEL_DIED = "kernel-died"
    PROTOCOL_ERROR = "protocol-error"  # the kernel sent what is not Jupyter's protocol or plain data
    INVALID_NOTEBOOK = "invalid-notebook"
    INVALID_SUBMISSION = "invalid-submission"  # the folder itself is unusable: a link, an unusable id
    GRADER_ERROR = "grader-error"  # the grader's own fault: zero for what it touched, and please report it


@dataclass(frozen=True)
class Trip:
    """A limit, a run-time policy breach, a broken kernel or a grader fault that stopped a cell or a check.

    `status` is None for a notebook cell that only raised: the student's own error, no limit.
    """

    status: Status | None
    note: str
    source: str | None = None  # the notebook cell's grade_id, or the check's name


@dataclass
class Outcome:
    """A graded submission's trips, in the order things ran, and the static policy's notes."""

    trips: list = field(default_factory=list)
    policy_notes: list = field(default_factory=list)

    def verdict(self):
        """(status, message): the first limit or run-time breach the submission hit (a fork bomb's
        `processes` rather than the broken kernel it leaves), then a static policy breach, else graded.
        Points already earned are kept in every case."""
        notes = "; ".join(dict.fromkeys(trip.note for trip in self.trips))
        limits = [trip.status for trip in self.trips if trip.status]
        if limits:
            return limits[0], notes
        if self.policy_notes:
            return Status.POLICY, "; ".join(sorted(set(self.policy_notes)) + ([notes] if notes else []))
        return Status.GRADED, notes
