# readerstudy — the two commands: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test lint unit unit-postgres integration venv vendor clean help

help:
	@echo "make demo   install into .venv, seed a demo study, serve it with a worker"
	@echo "make test   install what the tests need and run the whole suite"

$(VENV)/.created:
	bash scripts/ensure-python.sh
	python3 -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24" wheel setuptools
	touch $@

$(VENV)/.installed: pyproject.toml | $(VENV)/.created
	$(PIP) install -q -e .
	# PyRadiomics 3.0.1 builds against the installed numpy (its sdist has no build isolation)
	$(PIP) install -q --no-build-isolation "pyradiomics==3.0.1"
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PIP) install -q -e ".[test]"
	touch $@

$(VENV)/.installed-r: pyproject.toml $(VENV)/.installed-test
	$(PIP) install -q -e ".[test,r]"
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py demo_setup
	$(PY) manage.py rundemo --port $(PORT)

lint: $(VENV)/.installed-test frontend/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	cd frontend && npm run --silent lint
	$(VENV)/bin/mypy --config-file pyproject.toml

unit: $(VENV)/.installed-test
	$(PY) -m pytest -m "not integration" -q

# The database-backed unit tests again on PostgreSQL (as deployed: server-side binding and
# prepared statements), beside the SQLite run.
PG_UNIT_DIRS = tests/accounts tests/ai tests/audit tests/cases tests/core tests/exports tests/panels tests/reading tests/studies

unit-postgres: $(VENV)/.installed-test
	set -a; eval "$$(bash scripts/ensure-services.sh)"; set +a; \
	  $(PY) -m pytest -m "not integration" -q $(PG_UNIT_DIRS)

integration: $(VENV)/.installed-test
	set -a; eval "$$(bash scripts/ensure-services.sh)"; set +a; \
	  READERSTUDY_REAL_CELERY=1 $(PY) -m pytest -m integration -q

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

test:
	bash scripts/ensure-test-system.sh
	$(MAKE) $(VENV)/.installed-r frontend/node_modules/.package-lock.json
	$(MAKE) lint
	$(MAKE) unit
	$(MAKE) unit-postgres
	$(MAKE) integration

vendor:
	cd frontend && npm ci && node build.mjs

clean:
	rm -rf var .pytest_cache
