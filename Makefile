# Two commands for people: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app survey
# The browser tests (tests/browser) need Debian's Chromium and axe-core from npm (see package.json).
CHROMIUM := /usr/bin/chromium
NODE_STAMP := node_modules/.installed
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The translation catalogues compile in the build (never committed as binaries): one .mo per .po.
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard survey/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test lint migrate demo clean messages catalogues

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Debian's build, because `playwright install` downloads a browser of its own, which fails on closed networks.
$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium

# `npm ci` empties node_modules first, so a stamp inside it means a complete install of the locked versions.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

catalogues: $(CATALOGUES)

## Set up from nothing, migrate the SQLite database, load demo data when empty, serve on http://127.0.0.1:5000
run: $(STAMP) $(CATALOGUES)
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) run --host 127.0.0.1 --port 5000

## Set up when needed and run every test (on PostgreSQL too when TEST_DATABASE_URL is set)
# Two test processes (pytest-xdist), one per core; each has its own databases and Redis key prefix.
test: $(STAMP) $(CHROMIUM) $(NODE_STAMP) $(CATALOGUES)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2

# For whoever changes a text: the template of every message, merged into each language's catalogue (new
# messages then show as missing in tests/test_translations.py until translated).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--ignore-dirs='.* _* node_modules tests bench' -o survey/translations/messages.pot .
	for po in survey/translations/*/LC_MESSAGES/messages.po; do \
		[ -e "$$po" ] && $(BIN)/pybabel update -i survey/translations/messages.pot -o "$$po" \
			-l "$$(basename $$(dirname $$(dirname $$po)))"; \
	done; true

migrate: $(STAMP)
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules test-artifacts $(CATALOGUES)
