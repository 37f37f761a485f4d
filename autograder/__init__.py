"""A Keras/NumPy course autograder built on nbgrader, with a judge students cannot fool."""
import os
import sys

# nbgrader's Gradebook runs `alembic` by name: find the one beside this interpreter even when
# the virtual environment is not activated (CI, cron, a worker process).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])
