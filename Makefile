# Two commands: `make demo` (install and start Tropa with demo data) and
# `make test` (install and run the whole suite on SQLite and PostgreSQL).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST := $(BIN)/python -m pytest -p no:cacheprovider

.PHONY: demo test test-sqlite test-postgres test-scaleout lint messages bench audit-deps fuzz clean

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
	$(MAKE) lint test-sqlite test-postgres test-scaleout
	# A known vulnerability (exit 1) fails the run; a machine that cannot reach any
	# vulnerability service (exit 2) says so loudly and goes on.
	$(BIN)/python scripts/audit_deps.py || [ $$? -eq 2 ]

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

# The scale-out deployment (docs/deployment.md): nginx, two web instances, two job
# workers and two bot workers on one PostgreSQL and one Redis, with crashes in between.
test-scaleout: $(VENV)/.installed-test
	bash scripts/with-postgres.sh bash scripts/with-redis.sh $(PYTEST) -m scaleout tests/scaleout

# pip-audit over the exact pins in pyproject.toml. It needs OSV or PyPI's
# per-version JSON API; without either it fails (exit 2) after a loud COULD NOT
# AUDIT, except with CI=true when the cause is the network (exit 0;
# scripts/audit_deps.py says why). `make test` runs it last.
audit-deps: $(VENV)/.installed-test
	$(BIN)/python scripts/audit_deps.py

# S10, the long run: tests/fuzz with FUZZ_EXAMPLES examples per test (CI runs the same
# tests with small fixed budgets), then each Atheris harness in fuzz/ for FUZZ_SECONDS.
# Corpus, crashing inputs and logs go to var/fuzz/<harness>/.
FUZZ_EXAMPLES ?= 1000
FUZZ_SECONDS ?= 60

$(VENV)/.installed-fuzz: $(VENV)/.installed-test
	$(BIN)/python -m pip install --quiet -e '.[test,fuzz]'
	touch $@

fuzz: $(VENV)/.installed-fuzz
	TROPA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) tests/fuzz
	$(BIN)/python fuzz/run.py --seconds $(FUZZ_SECONDS)

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
