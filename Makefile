# Two commands on a fresh machine: `make demo` (install + the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.docsage-installed

.PHONY: install demo test test-fast lint bench calibrate clean llamacpp tune

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Optional: the llamacpp extra and its real-server tests (a cached ~8 min compile, see the script).
llamacpp: install
	PYTHON=$(BIN)/python scripts/install-llamacpp.sh

# Optional: the tune extra (`docsage tune`; torch 2.13 CPU, ~750 MB, about 3 minutes) so that
# its real fine-tune tests run too.
tune: install
	$(BIN)/python -m pip install --quiet -e ".[dev,tune]"

demo: install
	$(BIN)/docsage demo

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/vulture src/docsage vulture_allowlist.py --min-confidence 60

# The suite includes tests against a real llama.cpp server: `llamacpp` builds its wheel once
# (about 4 minutes on 2 cores, cached in ~/.cache/docsage-wheels) and installs it; and a
# real fine-tune of the embedder (`tune`).
test: lint llamacpp tune
	$(BIN)/pytest -q

# The quick loop while editing: lint plus every test not marked slow (no real embedding model,
# no server process, no real corpus), under two minutes on an idle 2-core machine.
test-fast: lint
	$(BIN)/pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/retrieval.py

calibrate: install
	$(BIN)/python benchmarks/calibrate.py

clean:
	rm -rf $(VENV) .bench .pytest_cache .mypy_cache .ruff_cache
