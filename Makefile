# Quick start: `make run` serves the embedded mode on http://127.0.0.1:5000; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

.PHONY: install run test lock migrate seed clean

$(VENV)/.installed: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed

run: seed
	@echo "Serving on http://127.0.0.1:$(PORT)  (sign in as admin / admin123)"
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 1 --threads 8 --access-logfile - wsgi:app

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Re-pin every dependency (with hashes) after changing pyproject.toml: requirements.lock for
# development and CI (runtime + test extra), requirements.runtime.lock for the container image.
lock: install
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --extra test \
		--output-file requirements.lock pyproject.toml
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--output-file requirements.runtime.lock pyproject.toml

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
