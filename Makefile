# Two commands matter: `make run` (the site on http://127.0.0.1:5000) and `make test` (everything).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1
WORKERS ?= 4

.PHONY: run serve test bench lint format clean translations screenshots

$(VENV)/.installed: setup.cfg pyproject.toml
	@$(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e .
	$(BIN)/pybabel compile -d translations -D messages >/dev/null
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

run: $(VENV)/.installed
	@[ -e /usr/share/fonts/truetype/arphic/uming.ttc ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-arphic-uming >/dev/null; } \
		|| echo "fonts-arphic-uming is missing: PDF downloads will offer the CSV instead (apt-get install fonts-arphic-uming)."
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi run --host $(HOST) --port $(PORT)

# Production (README "Production"): migrate, then gunicorn with $(WORKERS) workers. The settings
# come from FLASK_* variables / instance/config.py; with FLASK_PRODUCTION=true the site refuses
# to start on SQLite, the simulator, a fixed CAPTCHA, debug, a missing or short SECRET_KEY or
# in-memory rate limits. gunicorn's own access log stays off: the site writes one JSON line per
# request to stdout (path without query string, hand-off tokens replaced, no personal data).
serve: $(VENV)/.installed
	$(BIN)/flask --app wsgi db upgrade
	exec $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) \
		--timeout 30 --graceful-timeout 30 --keep-alive 5 \
		--max-requests 10000 --max-requests-jitter 1000 \
		--error-logfile - --log-level info $(GUNICORN_ARGS) wsgi:app

test: $(VENV)/.installed-test
	bash .ci/test

# bench/run.py exits 1 when a goal of issue 14 is missed (bench/goals.py); the throttled
# timings still run, and make bench fails after them.
bench: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -e '.[bench]'
	@need=""; command -v wrk >/dev/null || need="$$need wrk"; \
	 ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	 command -v chromium >/dev/null || need="$$need chromium"; \
	 [ -z "$$need" ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; } \
	 || { echo "make bench needs:$$need (apt-get install$$need)" >&2; exit 1; }
	@status=0; $(BIN)/python bench/run.py || status=$$?; \
	 $(BIN)/python bench/throttled.py && exit $$status

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# PNGs of every step, desktop 1280x900 and phone 390x844, zh-TW and English, in docs/screenshots/
# (docs/screenshots.py: the site with the demo data on a loopback port, driven by Chromium).
screenshots: $(VENV)/.installed-test
	@need=""; command -v chromium >/dev/null || need="$$need chromium"; \
	 [ -e /usr/share/fonts/truetype/arphic/uming.ttc ] || need="$$need fonts-arphic-uming"; \
	 [ -z "$$need" ] || { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; } \
	 || { echo "make screenshots needs:$$need (apt-get install$$need; without a CJK font the zh-TW text is boxes)" >&2; exit 1; }
	$(BIN)/python docs/screenshots.py

# The English catalogue: extract every string (babel.cfg), merge into
# translations/en/LC_MESSAGES/messages.po, compile the .mo (committed, and compiled again by the
# install step and .ci/test). tests/web/test_i18n.py fails while a string is untranslated.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ --no-location --sort-output \
		--project "BLI mobile phone authentication" -o translations/messages.pot wizard templates
	$(BIN)/pybabel update -i translations/messages.pot -d translations -D messages -w 100
	$(BIN)/pybabel compile -d translations -D messages

clean:
	rm -rf $(VENV) .hypothesis .coverage build *.egg-info
