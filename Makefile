# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Both build .venv from requirements.lock (exact versions), so numbers do not drift.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP   := $(VENV)/.installed

.PHONY: demo test lint bench clean-venv lock

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps -e .
	# rfc3987-syntax adds ~4.5 s to every process that imports nbformat (docs: tooling notes)
	$(BIN)/uv pip uninstall --quiet --python $(BIN)/python rfc3987-syntax || true
	touch $(STAMP)

## The main job: the plan against the baseline, report and PNGs under results/
demo: $(STAMP)
	$(BIN)/simcity-quality compare scenarios/baseline.toml scenarios/the_plan.toml \
		--replications 20 --seed 2010 --out results/demo

## The tests: unit tests, notebooks under nbval, and lint
test: $(STAMP)
	$(BIN)/ruff check simcity_quality tests benchmarks
	$(BIN)/python -m pytest tests --nbval-lax --nbval-current-env notebooks \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

## Regenerate the lock file after changing dependencies in pyproject.toml
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean-venv:
	rm -rf $(VENV)
