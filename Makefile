# The two commands of the README: `make book` and `make test`. Both create
# .venv and install the pinned environment (constraints.txt) on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BOOK_HTML := _build/html/index.html
BINDER := .binder-check

.PHONY: book test test-without-numba mutation notebooks nbval book-strict browser binder-check verify bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test,bench]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --all
	@echo "The book is at $(CURDIR)/$(BOOK_HTML)"

# nbval runs in the Binder check: in the environment readers get (see binder-check).
test: $(STAMP)
	$(BIN)/python -m pytest tests --ignore=tests/browser
	$(MAKE) test-without-numba
	$(MAKE) binder-check
	$(MAKE) book-strict
	$(BIN)/python -m pytest tests/browser

# The numeric tests once more as on a machine without numba: fit's NumPy engine (tests/conftest.py).
NUMERIC_TESTS := tests/test_core.py tests/test_fit.py tests/test_options.py tests/test_magnitudes.py \
	tests/test_errors.py tests/test_properties.py tests/test_engines.py tests/test_fused.py \
	tests/test_multivariate.py tests/test_sklearn.py tests/test_cli.py
test-without-numba: $(STAMP)
	GMMDERIVE_WITHOUT_NUMBA=1 $(BIN)/python -m pytest -q $(NUMERIC_TESTS)

# Mutation testing of the numeric code (slow; not part of make test). Results: tests/MUTATION.md.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet "mutmut==3.8.1"
	rm -rf mutants
	GMMDERIVE_ENGINE=numpy $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

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
# .[book] at the pins), then every notebook from a copy of book/ alone, with nbval. The
# environment is made once (like .venv); the package itself is reinstalled on every run.
BINDER_STAMP := $(BINDER)/venv/.installed

$(BINDER_STAMP): requirements.txt pyproject.toml constraints.txt
	rm -rf $(BINDER)/venv
	$(PYTHON) -m venv $(BINDER)/venv
	$(BINDER)/venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(BINDER)/venv/bin/python -m pip install --quiet -r requirements.txt nbval pytest
	touch $(BINDER_STAMP)

binder-check: $(BINDER_STAMP)
	rm -rf build  # setuptools' build/ keeps files that are gone from the source tree
	$(BINDER)/venv/bin/python -m pip install --quiet --no-deps --force-reinstall .
	rm -rf $(BINDER)/run
	mkdir -p $(BINDER)/run
	cp -r book tests/nbval_sanitize.cfg $(BINDER)/run/
	printf "[pytest]\n" > $(BINDER)/run/pytest.ini
	cd $(BINDER)/run && ../venv/bin/python -m pytest -p no:cacheprovider -q --nbval --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg book
	@echo "Binder check passed: every notebook runs from a normal install of requirements.txt"

verify: $(STAMP)
	$(BIN)/python -m gmmderive verify

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_em.py

clean:
	rm -rf _build .pytest_cache $(BINDER)

notebooks: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py
