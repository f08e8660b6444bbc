# asyncprims developer commands.
#
#   make lab        open JupyterLab on notebooks/ (creates .venv on first use)
#   make test       every check CI runs: lint, types, tests on every Python, notebooks
#   make notebooks  re-execute the notebooks in place (tools/run_notebooks.py)
#   make bench      run the benchmarks (benchmarks/run.py)
#
# `make test`, step by step:
#   1. .venv (PYTHON, 3.11 here) with -e '.[test,dev]'; ruff check; mypy asyncprims
#   2. pytest tests            everything: unit, property, CPython suite, e2e browser test
#   3. pytest --nbval          the notebooks, strict (outputs must match exactly)
#   4. for 3.10, 3.12, 3.13:   .venv-3.X with only -e '.[unit]' (pytest, hypothesis,
#                              xdist), running tests/ minus $(UNIT_MARKERS) and tests/e2e.
#      Tests that need Jupyter, matplotlib or a browser must carry the marker
#      `notebook`, `plotting` or `e2e` (registered in pyproject.toml) and import those
#      packages inside the test, not at module level, or the extra runs cannot collect them.
#      An interpreter that is not installed prints "SKIPPED: python3.X not installed".
# Any failing step fails the target; pytest's exit 5 (no tests collected) is a failure.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRA_PYTHONS ?= 3.10 3.12 3.13
UNIT_MARKERS ?= not notebook and not e2e and not plotting
PYTEST_XDIST ?= -n auto --dist loadfile
# A hung test must not eat CI's 90 minutes: each pytest run gets STEP_TIMEOUT seconds,
# then SIGINT (pytest prints where it was), then SIGKILL 30 s later.
STEP_TIMEOUT ?= 1200
LIMIT := timeout --signal=INT --kill-after=30 $(STEP_TIMEOUT)
NBVAL_SANITIZE := $(wildcard tests/nbval_sanitize.cfg)
NOTEBOOKS := $(wildcard notebooks/*.ipynb)

# Keep Jupyter quiet and deterministic; nbval compares stderr.
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help lab test lint typecheck pytest nbval other-pythons notebooks bench clean
.PHONY: conformance

help:
	@sed -n '3,6p' Makefile | sed 's/^# \{0,1\}//'

# ------------------------------------------------------------------ environments
# A stamp per extras set: re-install when pyproject.toml changes.
$(VENV)/.stamp-notebooks: pyproject.toml
	@[ -x "$(BIN)/python" ] || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv "$(VENV)"; }
	@echo "==> installing -e '.[notebooks]' into $(VENV)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[notebooks]'
	@touch $@

$(VENV)/.stamp-test: pyproject.toml
	@[ -x "$(BIN)/python" ] || { echo "==> creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv "$(VENV)"; }
	@echo "==> installing -e '.[test,dev]' into $(VENV) ($$($(BIN)/python --version))"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	@touch $@

# ------------------------------------------------------------------ day to day
lab: $(VENV)/.stamp-notebooks
	$(BIN)/jupyter lab notebooks/

notebooks: $(VENV)/.stamp-test
	@if [ -f tools/run_notebooks.py ]; then \
		echo "==> re-executing notebooks in place"; \
		env -u MPLBACKEND $(BIN)/python tools/run_notebooks.py; \
	else \
		echo "tools/run_notebooks.py does not exist yet"; exit 1; \
	fi

bench: $(VENV)/.stamp-test
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

# ------------------------------------------------------------------ the full check
# --keep-going: a lint error must not hide the test results; any failed step still fails.
CHECKS := lint typecheck pytest nbval other-pythons
test:
	@$(MAKE) --no-print-directory --keep-going $(CHECKS) \
		|| { echo "FAILED: make test (a step above failed)"; exit 1; }
	@echo "==> make test: all steps passed"

lint: $(VENV)/.stamp-test
	@echo "==> ruff check"
	$(BIN)/ruff check .

typecheck: $(VENV)/.stamp-test
	@echo "==> mypy asyncprims"
	$(BIN)/mypy asyncprims

pytest: $(VENV)/.stamp-test
	@echo "==> pytest tests on $$($(BIN)/python --version)"
	$(LIMIT) $(BIN)/python -m pytest tests $(PYTEST_XDIST)

nbval: $(VENV)/.stamp-test
ifeq ($(strip $(NOTEBOOKS)),)
	@echo "FAILED: nbval - notebooks/ holds no .ipynb files"; exit 1
else
	@echo "==> pytest --nbval (strict) on $(words $(NOTEBOOKS)) notebooks"
	$(LIMIT) env -u MPLBACKEND $(BIN)/python -m pytest --nbval --nbval-current-env -p no:randomly \
		$(if $(NBVAL_SANITIZE),--nbval-sanitize-with $(NBVAL_SANITIZE)) \
		$(PYTEST_XDIST) notebooks/
endif

# Finds python3.X under `pyenv root`, else on PATH (and checks it really runs).
define find_python
found=""; \
if command -v pyenv >/dev/null 2>&1; then \
	for candidate in $$(ls -d "$$(pyenv root)"/versions/$(1).* 2>/dev/null | sort -V -r); do \
		if [ -x "$$candidate/bin/python3" ]; then found="$$candidate/bin/python3"; break; fi; \
	done; \
fi; \
if [ -z "$$found" ] && command -v python$(1) >/dev/null 2>&1 \
		&& python$(1) -c 'import sys' >/dev/null 2>&1; then \
	found="$$(command -v python$(1))"; \
fi
endef

other-pythons:
	@failed=""; \
	for version in $(EXTRA_PYTHONS); do \
		$(call find_python,$$version); \
		if [ -z "$$found" ]; then echo "SKIPPED: python$$version not installed"; continue; fi; \
		venv=".venv-$$version"; \
		if [ ! -x "$$venv/bin/python" ]; then \
			echo "==> creating $$venv with $$found"; \
			"$$found" -m venv "$$venv"; \
		fi; \
		if [ ! -f "$$venv/.stamp-unit" ] || [ pyproject.toml -nt "$$venv/.stamp-unit" ]; then \
			echo "==> installing -e '.[unit]' into $$venv"; \
			"$$venv/bin/python" -m pip install --quiet --upgrade pip; \
			"$$venv/bin/python" -m pip install --quiet -e '.[unit]'; \
			touch "$$venv/.stamp-unit"; \
		fi; \
		echo "==> pytest tests (-m '$(UNIT_MARKERS)') on $$("$$venv/bin/python" --version)"; \
		$(LIMIT) "$$venv/bin/python" -m pytest tests --ignore=tests/e2e -m '$(UNIT_MARKERS)' $(PYTEST_XDIST) \
			|| failed="$$failed $$version"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED: pytest on python$$failed"; exit 1; fi

# CPython's whole test.test_asyncio package, unpatched then with asyncprims.patch(), on
# every installed Python (3.10 to 3.13): fails if any test's outcome differs.  Not part of
# `make test` (CI runs a large subset on its default Python: tests/test_asyncio_conformance.py).
conformance:
	$(PYTHON) tools/conformance.py

clean:
	rm -rf build dist *.egg-info .mypy_cache .ruff_cache .hypothesis
