# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export DO_NOT_TRACK := 1
export GX_ANALYTICS_ENABLED := false

.PHONY: demo test lint browser docs bench soak lock clean generate

# The stamp file makes the set-up run once, and again when the lock changes. --compile-bytecode: uv does not
# write .pyc files by default, and a process run with PYTHONDONTWRITEBYTECODE (or on a read-only .venv) then
# compiles dbt and pandas from source on every start: 3-4 s more for each vt, dbt and GX process.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python --require-hashes -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

demo: $(VENV)/.installed
	$(BIN)/vt demo

# Both cores: one pytest-xdist worker per core, each taking the next test when it is done (--maxschedchunk 1: the
# slow tests, which run first, spread over the workers). TEST_WORKERS=0 runs the suite in one process.
TEST_WORKERS ?= auto
test: lint browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist load --maxschedchunk 1 --durations 25

# The publication and codebook tests open their HTML pages in Debian's chromium (a test tool's own browser
# download fails here); the release test runs the SPSS syntax in GNU PSPP, Debian's pspp.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 && command -v pspp >/dev/null 2>&1 \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver \
		pspp >/dev/null; }

# ruff lints and checks the format of the Python (its rules: pyproject.toml, [tool.ruff]); sqlfluff renders the
# models with dbt itself and gets a throw-away warehouse folder of its own.
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	mkdir -p build/lint
	VT_HOME=build/lint $(BIN)/sqlfluff lint --processes 0 models tests/dbt

# The dbt documentation as one self-contained page (docs/dbt/index.html), made from the project alone (no demo);
# one of the files `make generate` writes (a test fails while it is stale).
docs: generate

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_loader.py --repeat 3
	$(BIN)/python bench/bench_build.py --repeat 2
	$(BIN)/python bench/bench_quality.py
	$(BIN)/python bench/bench_refresh.py
	$(BIN)/python bench/bench_refresh.py --first 2023H1
	$(BIN)/python bench/bench_release_files.py --repeat 3
	$(BIN)/python bench/bench_scale.py --scales 1,3,10

# Long fault soak (not part of `make test`): a five-year refresh interrupted at random points ends in the state of
# an uninterrupted one. About 15 minutes here.
soak: $(VENV)/.installed
	$(BIN)/python soak/soak_refresh.py --faults 8
	VT_FUZZ_EXAMPLES=2000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_portal_fuzz.py tests/test_opendata_fuzz.py

# Every file made from a registry (the layout, the rules): vt_warehouse/derived.py; a test fails while one is stale.
generate: $(VENV)/.installed
	$(BIN)/vt dev generate

# Regenerate the lock after changing pyproject.toml (needs the package registry).
lock: $(VENV)/.installed
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) warehouse build target
