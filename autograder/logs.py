"""Where the grader's messages go: the console at the level -q/-v ask, everything to --log-file,
and native libraries' chatter on stderr (TensorFlow's absl start-up lines) off the console."""
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from rich.text import Text

LEVELS = {-1: logging.WARNING, 0: logging.INFO, 1: logging.DEBUG}
STYLES = {logging.DEBUG: "dim", logging.WARNING: "yellow", logging.ERROR: "red"}


class ConsoleHandler(logging.Handler):
    """Messages on a rich console, so they print above a live progress bar: plain for INFO,
    dimmed for DEBUG, and named and coloured from WARNING up."""

    def __init__(self, console, level):
        super().__init__(level)
        self.console = console

    def emit(self, record):
        prefix = f"{record.levelname.lower()}: " if record.levelno >= logging.WARNING else ""
        style = STYLES.get(min(record.levelno, logging.ERROR), "")
        self.console.print(Text(prefix + self.format(record), style=style), highlight=False)


def configure(console, verbosity=0, log_file=None):
    """Log to `console` at WARNING (-q), INFO or DEBUG (-v); and, with `log_file`, everything there too."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(logging.DEBUG)
    root.addHandler(ConsoleHandler(console, LEVELS[verbosity]))
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(to_file)
    # libraries that log their workings at DEBUG: matplotlib scores every font it finds (2,500 lines a run)
    for noisy in ("distributed", "asyncio", "traitlets", "tensorflow", "absl", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def redirect_stderr(path):
    """Point this process's file descriptor 2 at `path` (appending) for good; None leaves it."""
    if path:
        with open(path, "ab") as stream:
            os.dup2(stream.fileno(), 2)


@contextmanager
def stderr_to(path):
    """For the duration, what is written to file descriptor 2 goes to `path` (None: stays)."""
    if not path:
        yield
        return
    saved = os.dup(2)
    try:
        redirect_stderr(path)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
