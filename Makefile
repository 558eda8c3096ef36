# company_service: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= development.ini

.DEFAULT_GOAL := help
.PHONY: help install run initdb test lint format bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

install: $(STAMP) ## Create .venv and install the package with its test tools

initdb: $(STAMP) ## Migrate the development database to head and add sample data
	$(BIN)/company-service initdb $(CONFIG) --sample-data

run: initdb ## Serve the API on http://localhost:6543 with development.ini
	@echo
	@echo "Get a token:   $(BIN)/company-service create-token $(CONFIG) --role editor"
	@echo "First request: curl -H \"Authorization: Bearer <token>\" http://localhost:6543/api/v1/employees"
	@echo
	$(BIN)/pserve $(CONFIG)

test: $(STAMP) ## Run the tests (SQLite; set TEST_DATABASE_URL for another database)
	$(BIN)/pytest $(PYTEST_ARGS)

fuzz: $(STAMP) ## Fuzz the live server with schemathesis (FUZZ_DATABASE_URL, else SQLite)
	$(BIN)/python fuzz/run.py $(FUZZ_ARGS)

lint: $(STAMP) ## Check style and common mistakes with ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Reformat and fix what ruff can fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) ## Service vs a bare-Core baseline on SQLite and PostgreSQL, 10k-1M rows (needs wrk)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean: ## Remove .venv and caches (not the database)
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
