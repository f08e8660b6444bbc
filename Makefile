# asyncprims developer commands.
#
#   make venv       create or update .venv from the lock (uv; also done by every target)
#   make lab        open JupyterLab on notebooks/ (creates .venv on first use)
#   make test       every check CI runs: lint, types, docs, tests on every Python, wheel
#   make docs       build the documentation site into docs/_build/html (warnings are errors)
#   make notebooks  re-execute the notebooks in place (tools/run_notebooks.py)
#   make lock       upgrade every pin in requirements/ (then run make test and commit)
#   make relock     after editing dependencies in pyproject.toml: re-resolve, keep other pins
#   make dist-check build the sdist and wheel, twine check, smoke-test the wheel
#   make format     ruff format (files listed in [tool.ruff.format] exclude are left alone)
#   make bench      run the benchmarks (benchmarks/run.py)
#   make gallery    regenerate docs/gallery/ (every demo chart and the course's charts)
#   make soak       the full run() soak: 1,000 random programs (tests/soak.py)
#
# Environments come from the lock, requirements/dev.txt (uv pip compile --universal: one
# pinned set per Python, 3.10 to 3.13), installed with uv (pinned to UV_VERSION, installed
# with pip into .venv-uv on first use). pyproject.toml keeps open lower bounds.
#
# `make test`, step by step (each step is timed; the timings are printed at the end):
#   venv           .venv (PYTHON, 3.11 here): `uv pip sync requirements/dev.txt`, then
#                  asyncprims itself, editable, with no dependencies
#   lint           ruff check
#   typecheck      mypy asyncprims (strict)
#   docs           sphinx-build -W: README, notebooks (stored outputs), API reference
#   pytest         tests/: unit, property, CPython suite, packaging, and the browser tests
#                  (JupyterLab runs every notebook; the built docs site is checked)
#   nbval          the notebooks, strict (outputs must match exactly)
#   other-pythons  for 3.10, 3.12, 3.13: .venv-3.X with only -e '.[unit]', constrained by
#                  the lock, running tests/ minus $(UNIT_MARKERS) and tests/e2e.
#      Tests that need Jupyter, matplotlib or a browser must carry the marker
#      `notebook`, `plotting` or `e2e` (registered in pyproject.toml) and import those
#      packages inside the test, not at module level, or the extra runs cannot collect them.
#      An interpreter that is not installed prints "SKIPPED: python3.X not installed".
#   dist-check     uv build (sdist, then the wheel from it), twine check --strict, then the
#                  wheel in a clean venv per interpreter (tools/check_dist.py)
# Any failing step fails the target; pytest's exit 5 (no tests collected) is a failure.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRA_PYTHONS ?= 3.10 3.12 3.13
UNIT_MARKERS ?= not notebook and not e2e and not plotting and not packaging
LOCK := requirements/dev.txt
BUILD_LOCK := requirements/build.txt
UV_VERSION ?= 0.13.9
UV_HOME := .venv-uv
UV := $(UV_HOME)/bin/uv
UV_STAMP := $(UV_HOME)/.stamp-$(UV_VERSION)
DOCS_BUILD := docs/_build
DOCS_HTML := $(DOCS_BUILD)/html
DOCS_STAMP := $(DOCS_BUILD)/.stamp
DOCS_SOURCES := docs/conf.py $(wildcard docs/*.md docs/_extra/* docs/_static/*) README.md \
	CONTRIBUTING.md CHANGELOG.md $(wildcard asyncprims/*.py notebooks/*.ipynb)
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
# uv uses the machine's interpreters only: it never downloads one.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON_PREFERENCE := only-system
export UV_NO_PROGRESS := 1

.PHONY: help lab test venv lint typecheck docs pytest nbval other-pythons dist-check \
	notebooks bench gallery soak lock relock format format-check clean
.PHONY: conformance


help:
	@sed -n '3,15p' Makefile | sed 's/^# \{0,1\}//'

# ------------------------------------------------------------------ environments
$(UV_STAMP):
	@echo "==> installing uv $(UV_VERSION) into $(UV_HOME)"
	rm -rf "$(UV_HOME)"
	$(PYTHON) -m venv "$(UV_HOME)"
	$(UV_HOME)/bin/python -m pip install --quiet "uv==$(UV_VERSION)"
	@touch $@

# Exactly the lock (uv pip sync removes anything else), then asyncprims itself, editable.
# Re-synced when pyproject.toml or the lock changes.
$(VENV)/.stamp-test: pyproject.toml $(LOCK) | $(UV_STAMP)
	@[ -x "$(BIN)/python" ] || { echo "==> creating $(VENV) with $(PYTHON)"; \
		$(UV) venv --quiet --python "$(PYTHON)" "$(VENV)"; }
	@echo "==> installing $(LOCK) into $(VENV) ($$($(BIN)/python --version))"
	$(UV) pip sync --quiet --python "$(BIN)/python" $(LOCK)
	$(UV) pip install --quiet --python "$(BIN)/python" --no-deps -e .
	@touch $@

venv: $(VENV)/.stamp-test
	@:

# ------------------------------------------------------------------ day to day
# JupyterLab on notebooks/, headless: open the URL it prints (token included). Port LAB_PORT,
# or the next free one if that is taken (the printed URL says which). JupyterLab's news
# pop-up and update check are off (jupyterlab-settings/overrides.json); --allow-root is
# added only when run as root. Stop it with Ctrl-C twice, or from another shell with
# `.venv/bin/jupyter server stop PORT`. LAB_ARGS adds options, e.g. LAB_ARGS=--ip=0.0.0.0.
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: $(VENV)/.stamp-test
	@echo "==> JupyterLab on notebooks/ at port $(LAB_PORT) (or the next free one): open the URL below, with its token; Ctrl-C twice stops it"
	$(BIN)/jupyter lab --no-browser --ServerApp.root_dir=notebooks --ServerApp.port=$(LAB_PORT) \
		--LabApp.app_settings_dir="$(CURDIR)/jupyterlab-settings" \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

notebooks: $(VENV)/.stamp-test
	@if [ -f tools/run_notebooks.py ]; then \
		echo "==> re-executing notebooks in place"; \
		env -u MPLBACKEND $(BIN)/python tools/run_notebooks.py; \
	else \
		echo "tools/run_notebooks.py does not exist yet"; exit 1; \
	fi

gallery: $(VENV)/.stamp-test
	$(BIN)/python tools/gallery.py

bench: $(VENV)/.stamp-test
	$(BIN)/python benchmarks/run.py

format: $(VENV)/.stamp-test
	$(BIN)/ruff format .

format-check: $(VENV)/.stamp-test
	$(BIN)/ruff format --check .

# ------------------------------------------------------------------ the lock
# One universal lock for every environment: `uv pip compile --universal` resolves every
# extra for Python 3.10 to 3.13 at once (a package may get a different pin per Python,
# written as an environment marker). requirements/build.txt pins the build backend for
# `uv build`. tools/lock.py then rewrites environment.yml's pins from the lock.
lock: $(UV_STAMP)
	$(PYTHON) tools/lock.py --uv $(UV) --upgrade

relock: $(UV_STAMP)
	$(PYTHON) tools/lock.py --uv $(UV)

# Random programs mixing virtual sleeps, subprocesses, sockets, executors and threads,
# some with a planted deadlock; 2 worker processes, each program under a timeout.
SOAK_PROGRAMS ?= 1000
soak: $(VENV)/.stamp-test
	$(BIN)/python tests/soak.py --programs $(SOAK_PROGRAMS)

# ------------------------------------------------------------------ the full check
# Every step runs even when an earlier one failed (a lint error must not hide the test
# results); any failed step fails the target. Each step's wall time is printed at the end.
CHECKS := venv lint typecheck docs pytest nbval other-pythons dist-check
test:
	@failed=""; timings=""; \
	for step in $(CHECKS); do \
		started=$$SECONDS; \
		if $(MAKE) --no-print-directory $$step; then status=ok; else status=FAILED; failed="$$failed $$step"; fi; \
		timings="$$timings$$(printf '    %-14s %-6s %4d s' "$$step" "$$status" $$((SECONDS - started)))\n"; \
	done; \
	printf '==> make test: step timings\n%b' "$$timings"; \
	if [ -n "$$failed" ]; then echo "FAILED: make test:$$failed"; exit 1; fi; \
	echo "==> make test: all steps passed"

lint: $(VENV)/.stamp-test
	@echo "==> ruff check"
	$(BIN)/ruff check .

typecheck: $(VENV)/.stamp-test
	@echo "==> mypy asyncprims"
	$(BIN)/mypy asyncprims

# A clean build whenever a source changed (so every warning shows again), into a fresh
# folder; the stamp is written only when sphinx-build succeeded.
docs: $(DOCS_STAMP)
	@:

$(DOCS_STAMP): $(DOCS_SOURCES) $(VENV)/.stamp-test
	@echo "==> sphinx-build -W (warnings are errors) -> $(DOCS_HTML)"
	rm -rf "$(DOCS_BUILD)"
	$(LIMIT) $(BIN)/sphinx-build -W --keep-going -q -b html -c docs -d "$(DOCS_BUILD)/doctrees" . "$(DOCS_HTML)"
	@touch $@
	@echo "==> open $(DOCS_HTML)/index.html"

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

other-pythons: | $(UV_STAMP)
	@failed=""; \
	for version in $(EXTRA_PYTHONS); do \
		$(call find_python,$$version); \
		if [ -z "$$found" ]; then echo "SKIPPED: python$$version not installed"; continue; fi; \
		venv=".venv-$$version"; \
		if [ ! -x "$$venv/bin/python" ]; then \
			echo "==> creating $$venv with $$found"; \
			$(UV) venv --quiet --python "$$found" "$$venv"; \
		fi; \
		if [ ! -f "$$venv/.stamp-unit" ] || [ pyproject.toml -nt "$$venv/.stamp-unit" ] \
				|| [ $(LOCK) -nt "$$venv/.stamp-unit" ]; then \
			echo "==> installing -e '.[unit]' into $$venv (pinned by $(LOCK))"; \
			$(UV) pip install --quiet --python "$$venv/bin/python" -c $(LOCK) -e '.[unit]'; \
			touch "$$venv/.stamp-unit"; \
		fi; \
		echo "==> pytest tests (-m '$(UNIT_MARKERS)') on $$("$$venv/bin/python" --version)"; \
		$(LIMIT) "$$venv/bin/python" -m pytest tests --ignore=tests/e2e -m '$(UNIT_MARKERS)' $(PYTEST_XDIST) \
			|| failed="$$failed $$version"; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED: pytest on python$$failed"; exit 1; fi

# The sdist and the wheel into dist/, checked; then the wheel installed with no extras into
# a clean venv on every interpreter found (PYTHON and EXTRA_PYTHONS) and smoke-tested.
dist-check: $(VENV)/.stamp-test
	@echo "==> uv build (sdist, then the wheel from the sdist) into dist/"
	rm -rf dist
	$(UV) build --quiet --python "$(BIN)/python" --build-constraint $(BUILD_LOCK) --out-dir dist
	$(BIN)/twine check --strict dist/*
	@pythons="--python $(BIN)/python"; \
	for version in $(EXTRA_PYTHONS); do \
		$(call find_python,$$version); \
		if [ -n "$$found" ]; then pythons="$$pythons --python $$found"; fi; \
	done; \
	echo "==> tools/check_dist.py dist $$pythons"; \
	$(BIN)/python tools/check_dist.py dist --uv $(UV) $$pythons
# CPython's whole test.test_asyncio package, unpatched then with asyncprims.patch(), on
# every installed Python (3.10 to 3.13): fails if any test's outcome differs.  Not part of
# `make test` (CI runs a large subset on its default Python: tests/test_asyncio_conformance.py).
conformance:
	$(PYTHON) tools/conformance.py

clean:
	rm -rf build dist *.egg-info .mypy_cache .ruff_cache .hypothesis docs/_build
