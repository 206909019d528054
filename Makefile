.PHONY: install install-test run stack up down test bench lint typecheck migrate lock clean

install:            ## venv + locked deps + ffmpeg when missing
	scripts/bootstrap.sh run

install-test:
	scripts/bootstrap.sh test

run: install        ## API on :8000 + one worker, embedded default (SQLite, filesystem broker)
	scripts/run.sh

stack: install-test  ## nginx :8080 → gunicorn → Postgres/Redis/S3 + Celery worker, natively
	.venv/bin/python scripts/stack.py

up:                 ## the same topology with Docker (needs a Docker engine)
	docker compose up -d --build

down:
	docker compose down

migrate: install
	.venv/bin/alembic upgrade head

test: install-test  ## lint, types, then the whole suite (starts throwaway Postgres and Redis)
	.venv/bin/ruff check app worker tests scripts
	.venv/bin/mypy app worker
	.venv/bin/python -m pytest $(PYTEST_ARGS)

bench: install-test ## capacity tests vs bare baselines → docs/BENCHMARKS.md (BENCH_ARGS=--quick)
	.venv/bin/python scripts/bench.py $(BENCH_ARGS)

lint: install-test
	.venv/bin/ruff check app worker tests scripts
	.venv/bin/ruff format --check app worker tests scripts

typecheck: install-test
	.venv/bin/mypy app worker

lock:               ## re-resolve requirements.lock from pyproject.toml
	.venv/bin/python -m pip install -q uv && .venv/bin/uv pip compile pyproject.toml --extra dev -o requirements.lock

clean:
	rm -rf var .pytest_cache
