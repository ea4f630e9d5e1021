# govaudit — everything a fresh clone needs: `make demo`, `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium
CHROMIUM_SHELL ?= /usr/lib/chromium/chromium-headless-shell

.PHONY: all install chromium doctools servers demo test lint format bench docs clean

all: install

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP) chromium doctools servers

# Debian's Chromium: Playwright cannot download its own browser on these machines. The
# headless shell (same Chromium, no desktop UI processes) is what govaudit runs by default:
# it needs ~300 MB less per browser; chromium stays for pa11y-ci in bench/ and as fallback.
chromium:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMIUM_SHELL) ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then \
	  echo "installing Debian's chromium, chromium-headless-shell and a Chinese font (apt-get)"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-headless-shell fonts-wqy-microhei >/dev/null; \
	fi
	@test -x $(CHROMIUM) || { echo "chromium not installed at $(CHROMIUM)"; exit 1; }
	@test -x $(CHROMIUM_SHELL) || { echo "chromium-headless-shell not installed at $(CHROMIUM_SHELL)"; exit 1; }

# Debian's antiword (and catdoc as its fallback) read old Word .doc attachments; poppler's
# pdftotext reads PDFs (pypdf is the fallback).
doctools:
	@if ! command -v antiword >/dev/null || ! command -v catdoc >/dev/null || ! command -v pdftotext >/dev/null; then \
	  echo "installing antiword, catdoc and poppler-utils (apt-get)"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq antiword catdoc poppler-utils >/dev/null; \
	fi

# Debian's Redis and PostgreSQL: the distributed service (executor = "celery",
# database_url = postgresql) and its tests, which start their own servers on loopback.
servers:
	@if ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing redis-server and postgresql (apt-get)"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server postgresql >/dev/null; \
	fi

demo: install
	$(BIN)/govaudit demo --out out/demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Two workers (one per core), each test file on one worker (its module fixtures: servers,
# databases): 574 tests take about 7.5 minutes instead of 13.7 on these 2 cores.
JOBS ?= 2
test: install lint
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadfile

docs: $(STAMP)
	$(BIN)/python -m govaudit.docs

bench: install
	@if ! command -v nginx >/dev/null; then (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; fi
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python bench/links_bench.py

clean:
	rm -rf $(VENV) out govaudit-data .pytest_cache .ruff_cache
