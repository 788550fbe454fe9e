# The two commands a new machine needs:  `make run`  and  `make test`.
# Both set everything up first (virtualenv, Python and npm dependencies), so a fresh clone works.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
EMULATOR_PORT ?= 8788

.PHONY: setup run test lint typecheck check messages clean

$(BIN)/.installed: requirements/base.txt requirements/prod.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $@

static/vendor/chart.umd.min.js: package.json package-lock.json scripts/copy-vendor.js
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed static/vendor/chart.umd.min.js

## Set up, migrate, create the demo tenant (password printed) and start the app with the emulator.
run: setup
	PORT=$(PORT) EMULATOR_PORT=$(EMULATOR_PORT) scripts/run-dev.sh

## Set up and run the whole test suite (SQLite and local memory unless DATABASE_URL/CACHE_URL are set).
test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates apps --lint
	$(BIN)/lint-imports
	$(BIN)/bandit -c pyproject.toml -ll -q -r .

typecheck: setup
	$(BIN)/mypy

messages: setup
	$(BIN)/python manage.py makemessages -l sv --ignore=.venv --ignore=node_modules
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
