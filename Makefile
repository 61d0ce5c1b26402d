# One target per check; CI (.ci/run) and people use the same ones.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck bench install

$(BIN)/catalyst: pyproject.toml
	PYTHON=$(PYTHON) scripts/bootstrap.sh
	touch $@

install: $(BIN)/catalyst

demo: install
	$(BIN)/catalyst demo --config config/

test: install
	scripts/test.sh

lint: install
	$(BIN)/ruff check catalyst tests bench
	$(BIN)/ruff format --check catalyst tests bench
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/simulated_day.py
	$(BIN)/python bench/alpaca_cycle.py
	$(BIN)/python bench/breach_to_flat.py
	$(BIN)/python bench/halted_requests.py
	$(BIN)/python bench/technicals.py
	$(BIN)/python bench/cycle.py
	$(BIN)/python bench/cycle_stalls.py --runs 3
	$(BIN)/python bench/strategy.py
