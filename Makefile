# Two commands matter: `make run` and `make test`. Both build .venv from the pinned constraints.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "нужен $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/ejournal serve --port $${PORT:-8000} --workers $${EJOURNAL_WORKERS:-0}

# The suite in two processes (pytest-xdist), then the tests that measure time, fairness or
# memory alone (marked `serial`): a second process would skew what they measure.
test: $(STAMP)
	$(BIN)/python -m pytest -n $${EJOURNAL_TEST_PROCESSES:-2} -m 'not serial'
	$(BIN)/python -m pytest -m serial

lint: $(STAMP)
	$(BIN)/ruff check domain projections adapters api tests bench
	$(BIN)/ruff format --check domain projections adapters api tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -O bench/write_path.py
	$(BIN)/python -O bench/pages.py
	$(BIN)/python -O bench/run.py
	$(BIN)/python -O bench/read_models.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
