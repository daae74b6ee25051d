# Two commands: `make demo` (install and start Tropa with demo data) and
# `make test` (install and run the whole suite on SQLite and PostgreSQL).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: demo test test-sqlite test-postgres lint messages bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/tropa demo

test: $(VENV)/.installed-test
	bash scripts/system-deps.sh
	$(MAKE) lint test-sqlite test-postgres

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.:src \
		$(BIN)/python -m django makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.:src \
		$(BIN)/python -m django flows check

test-sqlite: $(VENV)/.installed-test
	$(PYTEST)

# The demo-server and browser tests ran on SQLite above: the demo is SQLite by design.
test-postgres: $(VENV)/.installed-test
	bash scripts/with-postgres.sh $(PYTEST) -m "not server"

# Every performance target beside a reference measured in the same run (JSON in var/).
bench: $(VENV)/.installed-test
	mkdir -p var
	$(BIN)/tropa bench --json var/bench.json

messages: $(VENV)/.installed-test
	# Django needs settings to run these; the demo's data dir gives it secrets.
	mkdir -p var && TROPA_DATA_DIR=$(CURDIR)/var $(BIN)/tropa secrets init >/dev/null
	cd src/tropa && TROPA_DATA_DIR=$(CURDIR)/var ../../$(BIN)/tropa makemessages -l ru -l en \
		--no-location --no-obsolete -i "migrations/*" \
		&& TROPA_DATA_DIR=$(CURDIR)/var ../../$(BIN)/tropa compilemessages

clean:
	rm -rf $(VENV) var
