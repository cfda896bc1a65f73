# Everything installs into a local virtual environment; nothing touches the system Python.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-clocks lint typecheck docs clean bench-verify bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The main job on the shipped example content: validate it, then build the demo QMS repository
# (people with their own keys, a year of signed work) and its site in build/demo/.
demo: install
	$(BIN)/qms validate
	rm -rf build/demo
	$(BIN)/qms demo --dir build/demo

# Every test, plus the linters and the type checker.
test: install lint typecheck
	$(BIN)/pytest -n auto

# The date-sensitive tests with the system clock moved by libfaketime (Debian package faketime):
# just before midnight UTC at a year's end, and years ahead.
test-clocks: install
	.ci/clocks

lint: install
	$(BIN)/ruff check tools tests
	$(BIN)/ruff format --check tools tests

typecheck: install
	$(BIN)/mypy

# Regenerate docs/cli.md from the commands' own help, docs/kinds.md from kind.schema.json.
docs: install
	$(BIN)/python -m gitqms.cli.reference > docs/cli.md
	$(BIN)/python -m gitqms.records.kind_reference > docs/kinds.md

clean:
	rm -rf $(VENV) site build .pytest_cache .mypy_cache .ruff_cache

# Time `qms verify` against git's own signature check on a generated repository of 2,000
# SSH-signed commits; results in benchmarks/results/verify-2000.json.
bench-verify: install
	$(BIN)/python benchmarks/verify_bench.py --signatures 2000

# Time qms validate, verify and log against raw baselines on a generated repository of SIZE
# S (200 records, 2,000 commits), M (2,000, 20,000) or L (10,000, 100,000), cached in .bench/;
# results in benchmarks/results/bench-SIZE.json.
SIZE ?= S
bench: install
	$(BIN)/python benchmarks/run.py --size $(SIZE)
