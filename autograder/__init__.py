"""A Keras/NumPy course autograder built on nbgrader, with a judge students cannot fool."""
import os
import sys

# nbgrader's Gradebook runs `alembic` by name: find the one beside this interpreter even when
# the virtual environment is not activated (CI, cron, a worker process).
_BIN = os.path.dirname(sys.executable)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_BIN, os.environ.get("PATH", "")])

# jsonschema, which nbformat and nbgrader import, compiles 39 grammars (about 1 s, in this process and in
# every worker) when rfc3987-syntax is installed (jupyter-events pulls it in), for the "iri" and "uri"
# formats that validating a notebook never checks: refuse that import, and jsonschema goes without them.
sys.modules.setdefault("rfc3987_syntax", None)
