# Two entry points for a fresh machine (see README): `make demo` and `make test`.
# Both build .venv from requirements.lock (exact versions), so numbers do not drift.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP   := $(VENV)/.installed

.PHONY: demo test check chromium fonts lint bench report clean-venv lock

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode --no-deps -e .
	# rfc3987-syntax adds ~4.5 s to every process that imports nbformat (docs: tooling notes)
	$(BIN)/uv pip uninstall --quiet --python $(BIN)/python rfc3987-syntax || true
	touch $(STAMP)

## The main job: the plan against the baseline; tables, chart, report and the briefing
## (results/demo/briefing.html, one page to open in a browser) under results/demo/
demo: $(STAMP) fonts
	$(BIN)/simcity-quality compare scenarios/baseline.toml scenarios/the_plan.toml \
		--replications 20 --seed 2010 --out results/demo --briefing results/demo/briefing.html

## The tests: unit tests, notebooks under nbval, and lint
test: $(STAMP) chromium fonts
	$(BIN)/ruff check simcity_quality tests benchmarks
	$(BIN)/python -m pytest tests --nbval-lax --nbval-current-env notebooks \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -p no:cacheprovider

## The fast loop while working: lint and the tests not marked slow (under a minute here);
## `make test` is the whole suite, notebooks and browser included
check: $(STAMP)
	$(BIN)/ruff check simcity_quality tests benchmarks
	$(BIN)/python -m pytest tests -m "not slow" -q -p no:cacheprovider

## Debian's Chromium for the browser test (tests/browser/): installed with apt when missing and
## run as root (CI starts bare); otherwise a message, and the browser test fails saying the same
chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  else echo "chromium is missing and this is not root: run 'sudo apt-get install -y" \
	    "chromium' (tests/browser/test_panel_browser.py fails without it)." >&2; fi; }

## Debian's Noto CJK fonts, so Chinese text in charts and briefings renders as characters, not
## boxes (simcity_quality/interface/fonts.py finds them): installed with apt when missing and run as
## root, like chromium; otherwise a message, and the briefing warns that Chinese cannot be drawn
fonts:
	@fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y fonts-noto-cjk; \
	  else echo "fonts-noto-cjk is missing and this is not root: run 'sudo apt-get install -y" \
	    "fonts-noto-cjk' (Chinese text in charts and briefings renders as boxes without it)." >&2; fi; }

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_run.py

## Every notebook at full size (notebooks/reports.toml) with papermill, HTML and manifest.json
## into results/reports; the checked-in notebooks are not touched. ONLY=02_reward_levels for one.
report: $(STAMP)
	$(BIN)/simcity-quality report --out results/reports --size full $(if $(ONLY),--only $(ONLY))

## Regenerate the lock file after changing dependencies in pyproject.toml
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean-venv:
	rm -rf $(VENV)
