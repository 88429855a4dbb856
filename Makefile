# Two commands for a fresh clone: `make demo` and `make test`. Everything else is for the curious.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export FUPIN_HOME ?= $(CURDIR)/var

.PHONY: demo test install serve bench docs migration clean lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)  ## set up and run the month on the embedded defaults, with demo data
	$(BIN)/python scripts/demo.py

test: $(STAMP)  ## set up and run the whole test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

serve: $(STAMP)  ## a local Prefect server, the deployments and a worker
	$(BIN)/fupin serve

bench: $(STAMP)  ## the speed benchmarks (minutes; figures in the README)
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/labor.py
	$(BIN)/python bench/warehouse.py
	$(BIN)/python bench/soak.py
	$(BIN)/python bench/web_platform.py

docs: $(STAMP)  ## regenerate docs/warehouse.md from config/ and the schema
	$(BIN)/fupin docs

migration: $(STAMP)  ## generate an Alembic revision from warehouse/schema.py: make migration m="why"
	$(BIN)/python -m warehouse.migrate "$(m)"

lint: $(STAMP)  ## the gates: ruff's rules and format, mypy over the packages, the import layers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache
