# Two commands: `make run` (set up and start web, worker and beat) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install migrate demo lint format clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo_data
	$(BIN)/python manage.py ensure_admin
	$(BIN)/python manage.py ensure_demo_learner --port $(PORT)

run: demo
	@echo "Starting web on http://127.0.0.1:$(PORT)/ (admin at /admin/, API docs at /api/docs/), worker and beat. Ctrl-C stops all three."
	@# web, worker and beat count into one Prometheus folder: start it empty.
	$(BIN)/python manage.py metrics_reset
	WEB_PORT=$(PORT) $(BIN)/honcho -f Procfile start

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
