# Two commands for a new machine: `make run` (the site, with demo data) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
REQ_HASH := $(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(REQ_HASH)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve venv migrate demo messages lint bench clean fuzz

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# (this machine's pip config names extra local indexes that may be absent; hide that noise only)
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2> >(grep -v '^WARNING: Location' >&2)
	@rm -f $(VENV)/.installed-* && touch $@

messages: venv
	@# The compiled catalogues are committed; recompile when gettext is there to pick up edits.
	@if command -v msgfmt >/dev/null && [ -d locale ]; then $(PY) manage.py compilemessages --ignore=.venv -v0; fi

migrate: venv
	$(PY) manage.py migrate --noinput -v1

demo: migrate
	$(PY) manage.py seed_demo

run: venv messages demo
	@echo "Starting the site at http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv messages
	@$(PY) -m core.testenv
	$(PY) -m pytest $(PYTEST_ARGS)

# Schemathesis over /api/schema/ with the API token of each role: no request may answer 5xx.
# FUZZ_EXAMPLES is the number of generated requests per operation and role.
FUZZ_EXAMPLES ?= 100
fuzz: venv
	@$(PY) -m core.testenv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/core/test_fuzz_api.py -q $(PYTEST_ARGS)

serve: venv messages
	@bash scripts/serve.sh

# ruff, then the import contracts of pyproject.toml (docs/architecture.md: core imports no app,
# rules modules only the kernel, apps only the apps they build on).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Issue 12: every figure in one table (a million guarantees and a million loan projects).
bench: venv
	$(PY) manage.py bench

clean:
	rm -rf $(VENV) db.sqlite3 .test-db.sqlite3 staticfiles .test-media
