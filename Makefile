# `make demo` and `make test` each create .venv when missing and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-output
ASSIGNMENT ?= backprop

.PHONY: demo test benchmark clean bwrap browser

# The sandbox needs bubblewrap: found on PATH, or installed with apt-get where we are root.
bwrap:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; } || \
		echo "bubblewrap is missing: install it (apt-get install bubblewrap) or grade with --unsafe-no-sandbox"

# The tests render the feedback pages in headless Chromium (Debian's package), installed the same way.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium is missing: install it (apt-get install chromium) for the browser tests"

$(BIN)/autograder: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: $(BIN)/autograder bwrap
	$(BIN)/autograder release $(ASSIGNMENT)
	rm -rf $(DEMO)
	$(BIN)/autograder samples $(ASSIGNMENT) --output $(DEMO)/submissions
	$(BIN)/autograder grade $(ASSIGNMENT) --submissions $(DEMO)/submissions --output $(DEMO)/graded

test: $(BIN)/autograder bwrap browser
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest

# Each benchmark imports this checkout's autograder, as the commands it times do (like pytest's pythonpath).
BENCH := PATH="$(abspath $(BIN)):$$PATH" PYTHONPATH="$(CURDIR)" $(BIN)/python

benchmark: $(BIN)/autograder bwrap
	$(BENCH) benchmarks/grade_one.py
	$(BENCH) benchmarks/sandbox_overhead.py
	$(BENCH) benchmarks/runtime_policy.py
	$(BENCH) benchmarks/throughput.py

clean:
	rm -rf $(VENV) $(DEMO) gradebook.db
