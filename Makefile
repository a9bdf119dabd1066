# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONSTRAINTS := requirements/constraints.txt
PYTEST_ARGS ?=
# the import contracts in pyproject.toml ([tool.importlinter]), checked on this checkout's src/
LINT_IMPORTS := PYTHONPATH=src $(BIN)/lint-imports --no-cache

.PHONY: demo test test-slow lint lint-imports format bench clean venv

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	$(BIN)/python -m pip check
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/medadapt demo --out demo-output

# --no-loadscope-reorder: the longest groups start first (tests/conftest.py, LONGEST_FIRST)
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(LINT_IMPORTS)
	$(BIN)/python -m pytest -n 2 --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(LINT_IMPORTS)

lint-imports: $(STAMP)
	$(LINT_IMPORTS)

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) demo-output .pytest_cache
