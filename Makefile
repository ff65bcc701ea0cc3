# The two commands of the README: `make book` and `make test`. Both create
# .venv and install the pinned environment (constraints.txt) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BOOK_HTML := _build/html/index.html
BINDER := .binder-check

.PHONY: book test lint test-floors test-without-numba mutation notebooks nbval book-strict browser binder-check verify bench bench-defaults clean

# pyproject.toml's requires-python: an older Python gets one line that says so, not pip's resolver.
define check_python
	@command -v $(PYTHON) >/dev/null || { echo "gmmderive needs Python >= 3.11; found no $(PYTHON); set PYTHON=python3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v >= (3, 11) else "gmmderive needs Python >= 3.11; found %d.%d at $(PYTHON); set PYTHON=python3.11" % v)'
endef

$(STAMP): pyproject.toml constraints.txt
	$(check_python)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,bench]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all
	@echo "The book is at $(CURDIR)/$(BOOK_HTML)"

# Every check once (README, "What make test runs"). nbval runs in the Binder check, in the
# environment readers get. Each environment compiles numba's kernels into a cache of its own.
# pytest-xdist spreads a suite over the cores (-n auto); --dist loadfile keeps a file's tests
# (a notebook's cells, a module's fixtures) on one worker.
XDIST := -n auto --dist loadfile
STAGE = @echo "== $$(date -u +%H:%M:%S) $(1)"
test: $(STAMP)
	$(call STAGE,lint)
	$(MAKE) lint
	$(call STAGE,tests)
	NUMBA_CACHE_DIR=$(CURDIR)/$(VENV)/numba-cache $(BIN)/python -m pytest $(XDIST) tests --ignore=tests/browser
	$(call STAGE,test-without-numba)
	$(MAKE) test-without-numba
	$(call STAGE,test-floors)
	$(MAKE) test-floors
	$(call STAGE,binder-check)
	$(MAKE) binder-check
	$(call STAGE,book-strict)
	$(MAKE) book-strict
	$(call STAGE,browser)
	$(BIN)/python -m pytest tests/browser
	$(call STAGE,done)

# Another processor, on any processor (#22): a result that depends on the vector width (the
# order of a vectorized sum, FMA or not) must show on a developer's machine too. The floors
# compile numba's kernels for the generic x86-64 (SSE2, no FMA; elsewhere numba's own generic);
# the run without numba and the Binder check limit NumPy's dispatch to its baseline (the names
# of NumPy 2; a name the machine or NumPy does not have is ignored).
OTHER_NUMBA_TARGET := NUMBA_CPU_NAME=generic
OTHER_NUMPY_DISPATCH := NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

# The tests that depend on fit's engine, once more as on a machine without numba (fit's NumPy
# engine) and without Dask: the minimal install. Chosen by the marker `engine` (tests/conftest.py
# lists the files); NumPy's dispatch at its baseline.
test-without-numba: $(STAMP)
	GMMDERIVE_WITHOUT_NUMBA=1 GMMDERIVE_WITHOUT_DASK=1 $(OTHER_NUMPY_DISPATCH) \
		$(BIN)/python -m pytest $(XDIST) -q -rs -m engine tests --ignore=tests/browser

# ruff, configured in pyproject.toml ([tool.ruff]); the pre-commit hook runs the same version.
lint: $(STAMP)
	$(BIN)/ruff check .

# The tests that depend on the versions (marker `versions`: the numeric and symbolic ones,
# tests/conftest.py) at the lowest versions that pyproject.toml declares for the runtime
# dependencies (numpy, sympy, and numba, llvmlite, matplotlib, dask of the extras fast, plot and
# dask), read from it by tools/floors.py, in their own environment .floors/ (pytest,
# pytest-xdist and hypothesis at their pins; wheels only, so a floor without a wheel fails
# instead of compiling). numba compiles there for the generic target (OTHER_NUMBA_TARGET).
FLOORS := .floors
FLOORS_STAMP := $(FLOORS)/.installed

$(FLOORS_STAMP): pyproject.toml constraints.txt tools/floors.py | $(STAMP)
	$(check_python)
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(BIN)/python tools/floors.py fast plot dask > $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(FLOORS)/bin/python -m pip install --quiet --only-binary=:all: -r $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet -c constraints.txt pytest pytest-xdist hypothesis
	$(FLOORS)/bin/python -m pip install --quiet --no-deps -e .
	$(FLOORS)/bin/python -m pip check
	touch $(FLOORS_STAMP)

test-floors: $(FLOORS_STAMP)
	@echo "Floors: $$(tr '\n' ' ' < $(FLOORS)/floors.txt)"
	NUMBA_CACHE_DIR=$(CURDIR)/$(FLOORS)/numba-cache $(OTHER_NUMBA_TARGET) \
		$(FLOORS)/bin/python -m pytest $(XDIST) -q -p no:cacheprovider -m versions tests --ignore=tests/browser

# Mutation testing of the numeric code (slow; not part of make test). Results: tests/MUTATION.md.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet "mutmut==3.8.1"
	rm -rf mutants
	GMMDERIVE_ENGINE=numpy $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

# The random-fit harness (tests/test_fuzz.py) at scale: make test runs 32 small cases; this runs
# FUZZ_CASES larger ones (N up to 1e5, every case on both engines) from seed FUZZ_SEED.
FUZZ_CASES ?= 1000
FUZZ_SEED ?= 1000
.PHONY: fuzz
fuzz: $(STAMP)
	GMMDERIVE_FUZZ_SCALE=large GMMDERIVE_FUZZ_CASES=$(FUZZ_CASES) GMMDERIVE_FUZZ_SEED=$(FUZZ_SEED) \
		$(BIN)/python -m pytest -q -rf -p no:cacheprovider tests/test_fuzz.py

# nbval in the development environment (.venv), for a quick look while editing.
nbval: $(STAMP)
	$(BIN)/python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg book

book-strict: $(STAMP)
	rm -rf _build
	$(BIN)/jupyter-book build . -W -n --keep-going --all
	@echo "Strict book build passed; HTML at $(CURDIR)/$(BOOK_HTML)"

browser: $(STAMP)
	$(BIN)/python -m pytest tests/browser

# What Binder does: an environment from requirements.txt (a normal, non-editable install of
# .[notebooks] and JupyterLab with jupyterlab-myst, at the pins) on runtime.txt's Python, then
# every notebook from a copy of book/ alone, with nbval (installed beside it, at its pin). The
# environment is made once (like .venv); the package itself is reinstalled on every run.
# Without runtime.txt's Python on PATH the check runs on $(PYTHON) and says so.
BINDER_STAMP := $(BINDER)/venv/.installed
RUNTIME_VERSION := $(shell sed -n 's/^python-//p' runtime.txt)
BINDER_PYTHON := $(or $(shell command -v python$(RUNTIME_VERSION) 2>/dev/null),$(PYTHON))
define binder_python_note
	@[ "$(BINDER_PYTHON)" != "$(PYTHON)" ] || echo "binder-check: no python$(RUNTIME_VERSION) (runtime.txt) on PATH; using $(PYTHON), Python $$($(PYTHON) -c 'import platform; print(platform.python_version())')" >&2
endef

$(BINDER_STAMP): requirements.txt pyproject.toml constraints.txt runtime.txt
	$(binder_python_note)
	rm -rf $(BINDER)/venv
	$(BINDER_PYTHON) -m venv $(BINDER)/venv
	$(BINDER)/venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(BINDER)/venv/bin/python -m pip install --quiet -r requirements.txt nbval pytest pytest-xdist
	$(BINDER)/venv/bin/python -m pip check
	touch $(BINDER_STAMP)

binder-check: $(BINDER_STAMP)
	$(binder_python_note)
	rm -rf build  # setuptools' build/ keeps files that are gone from the source tree
	$(BINDER)/venv/bin/python -m pip install --quiet --no-deps --force-reinstall .
	$(BINDER)/venv/bin/jupyter labextension list 2>&1 | grep -E "jupyterlab-myst v[0-9.]+ .*enabled.*OK"  # installed, compatible
	rm -rf $(BINDER)/run
	mkdir -p $(BINDER)/run
	cp -r book tests/nbval_sanitize.cfg $(BINDER)/run/
	printf "[pytest]\n" > $(BINDER)/run/pytest.ini
	cd $(BINDER)/run && NUMBA_CACHE_DIR=$(CURDIR)/$(BINDER)/numba-cache $(OTHER_NUMBA_TARGET) $(OTHER_NUMPY_DISPATCH) \
		../venv/bin/python -m pytest $(XDIST) -p no:cacheprovider -q --nbval --nbval-current-env \
		--nbval-sanitize-with nbval_sanitize.cfg book
	@echo "Binder check passed: every notebook runs from a normal install of requirements.txt ($$($(BINDER)/venv/bin/python -c 'import platform; print("Python", platform.python_version())'))"

verify: $(STAMP)
	$(BIN)/python -m gmmderive verify

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

# Default against default (#26): gmmderive.fit(x, D) beside scikit-learn's, mclust's and mixtools'
# defaults (the R peers where installed: apt-get install r-cran-mclust r-cran-mixtools), N up to
# 1e5; benchmarks/README.md has the full table's command.
bench-defaults: $(STAMP)
	$(BIN)/python benchmarks/bench_defaults.py --quick

clean:
	rm -rf _build .pytest_cache $(BINDER) $(FLOORS)

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py
