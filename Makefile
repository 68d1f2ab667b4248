# joinedup: two commands matter. `make demo` and `make test`. The rest are their parts.
#
# Needs only Python 3.11+, Node 20+ and make. Everything else is installed here,
# from the lock files: .venv (requirements.lock, hash-pinned), node_modules (package-lock.json).
# After changing dependencies in pyproject.toml, run `make lock` and commit requirements.lock.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := var/tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
ASSETS := var/assets-vendor
NHSUK := node_modules/nhsuk-frontend/dist/nhsuk
# SUITE=all (default) runs every tier; core = unit + integration; functional = the browser tier;
# spark = the warehouse aggregations on PySpark in local mode, compared with DuckDB.
SUITE ?= all
PEOPLE ?= 30000
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_NO_CONFIG := 1
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test install lock lint typecheck check pytest browser benchmarks clean help
help:
	@echo "make demo   - install, build the demo data and serve http://127.0.0.1:8000"
	@echo "make test   - install and run every check (SUITE=core|functional|spark|all)"

demo: install
	$(BIN)/joinedup demo --people $(PEOPLE)

test: install browser lint typecheck pytest

install: $(VENV)/.installed $(ASSETS)/.installed

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "joinedup needs Python 3.11 or newer: set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml requirements.lock
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	@touch $@

lock: $(UV)
	$(UV) lock --python $(PYTHON)
	$(UV) export --frozen --all-groups --no-emit-project --format requirements-txt --output-file requirements.lock

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "joinedup needs Node 20+ and npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The NHS.UK frontend's compiled assets, served under /assets/ (nothing third-party is committed).
$(ASSETS)/.installed: node_modules/.installed
	rm -rf $(ASSETS) && mkdir -p $(ASSETS)
	cp $(NHSUK)/nhsuk-frontend.min.css $(NHSUK)/nhsuk-frontend.min.js $(ASSETS)/
	cp -r $(NHSUK)/assets/images $(NHSUK)/assets/manifest.json $(ASSETS)/
	@touch $@

# The browser tier drives Debian's Chromium; Playwright's own browser download fails here.
browser:
	@if [ "$(SUITE)" != core ] && [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)); \
	  else \
	    echo "note: /usr/bin/chromium is missing; install Debian's chromium package for the browser tests"; \
	  fi; \
	fi

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	@case "$(SUITE)" in \
	  all) args="tests" ;; \
	  core) args="tests/unit tests/integration" ;; \
	  functional) args="tests/functional" ;; \
	  spark) args="tests/spark" ;; \
	  *) echo "SUITE must be all, core, functional or spark"; exit 2 ;; \
	esac; \
	$(BIN)/pytest $$args $(PYTEST_ARGS)

benchmarks: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) node_modules var/assets-vendor var/tools
