# Two commands on a fresh machine: `make run` and `make test`.
# Both build .venv from requirements.txt when needed and start project-local
# PostgreSQL/Redis under .devstack/ unless DATABASE_URL / REDIS_URL are set.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test quick env bench lint format

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) -m skillstudio.devstack run

test: $(VENV)/.installed
	$(PY) -m skillstudio.devstack test $(PYTEST_ARGS)

# The local loop: the same checks and suite without the tests marked `slow`
# (schema fuzzing, browser, Celery worker and bench smoke tests). CI runs `make test`.
quick: $(VENV)/.installed
	$(PY) -m skillstudio.devstack test -m "not slow" $(PYTEST_ARGS)

env: $(VENV)/.installed
	$(PY) -m skillstudio.devstack env

# Scale benchmark (bench/run.py): its own database, gunicorn, a separate load generator.
# BENCH_ARGS passes options, e.g. BENCH_ARGS=--reseed; see `python -m bench.run --help`.
bench: $(VENV)/.installed
	$(PY) -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff check --fix . && $(PY) -m ruff format .
