.PHONY: install install-test run stack up down test test-fast bench lint typecheck imports migrate lock clean

PY := .venv/bin/python
SOURCES := app worker core cli devstack bench tests

install:            ## venv + locked deps + ffmpeg when missing
	scripts/bootstrap.sh run

install-test:
	scripts/bootstrap.sh test

run: install        ## API on :8000 + one worker, embedded default (SQLite, filesystem broker)
	$(PY) -m devstack run

stack: install-test  ## nginx :8080 → gunicorn → Postgres/Redis/S3 + Celery worker, natively
	$(PY) -m devstack stack

COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

up:                 ## the same topology with Docker (compose v2 or v1, whichever exists)
	$(COMPOSE) up -d --build

down:
	$(COMPOSE) down

migrate: install
	.venv/bin/alembic upgrade head

test: install-test  ## lint, import contract, types, then the whole suite (real servers)
	.venv/bin/ruff check $(SOURCES)
	.venv/bin/lint-imports
	.venv/bin/mypy $(SOURCES)
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install-test  ## the in-process tier only: no server process, seconds
	$(PY) -m pytest -m fast $(PYTEST_ARGS)

bench: install-test ## capacity tests vs bare baselines → docs/BENCHMARKS.md (BENCH_ARGS=--quick)
	$(PY) -m bench $(BENCH_ARGS)

lint: install-test  ## what .pre-commit-config.yaml runs on every commit
	.venv/bin/ruff check $(SOURCES)
	.venv/bin/ruff format --check $(SOURCES) README.md docs  # also the Python in the docs
	.venv/bin/lint-imports
	.venv/bin/mypy $(SOURCES)

typecheck: install-test
	.venv/bin/mypy $(SOURCES)

imports: install-test  ## the import contract alone
	.venv/bin/lint-imports

lock:               ## re-resolve the locks: requirements.lock (runtime, the images) ⊂ requirements-dev.lock
	$(PY) -m pip install -q uv
	.venv/bin/uv pip compile -q pyproject.toml --extra dev -o requirements-dev.lock
	.venv/bin/uv pip compile -q pyproject.toml -c requirements-dev.lock -o requirements.lock

clean:
	rm -rf var .pytest_cache
