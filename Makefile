# Two commands matter: `make run` (the site on http://127.0.0.1:5000) and `make test` (everything).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1

.PHONY: run test bench lint format clean

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	@[ -e /usr/share/fonts/truetype/arphic/uming.ttc ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-arphic-uming >/dev/null; } \
		|| echo "fonts-arphic-uming is missing: PDF downloads will offer the CSV instead (apt-get install fonts-arphic-uming)."
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test
	bash .ci/test

bench: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e '.[bench]'
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; }
	$(BIN)/python bench/poll.py
	$(BIN)/python bench/login.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .hypothesis .coverage build *.egg-info
