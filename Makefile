# The README's commands: `make run` and `make test`; also `make bench`, `make lint`, `make faults`, `make screenshots`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app shop
PORT ?= 5000
STRIPE_PORT ?= 12111
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench faults screenshots translations clean

# What uv.lock pins (the shop, its dev extra, the Stripe stand-in from stripe_emulator/);
# --locked refuses a lock file that no longer matches pyproject.toml (README: updating it);
# --inexact leaves uv itself in place.
UV_VERSION ?= 0.13.9
$(STAMP): pyproject.toml uv.lock stripe_emulator/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --locked --inexact --extra dev
	@touch $(STAMP)

install: $(STAMP)

# The embedded default: SQLite, tasks in-process, the local Stripe stand-in, mail and packing
# orders to the console (receipt PDFs into instance/mail/), a demo admin, a demo review word.
run: export STRIPE_API_BASE ?= http://127.0.0.1:$(STRIPE_PORT)
run: export PUBLIC_URL ?= http://127.0.0.1:$(PORT)
# A person trying the demo opens many payment pages from one address and one email: the
# card-testing limits stay on, at levels a demo does not reach (production keeps its defaults).
run: export CHECKOUT_LIMIT_PER_ADDRESS ?= 120 per minute
run: export CHECKOUT_LIMIT_PER_EMAIL ?= 120 per minute
run: export MAIL_SAVE_DIR ?= instance/mail
run: export NOTE_REVIEW_TERMS ?= review
run: install
	$(FLASK) db upgrade
	$(FLASK) seed
	@$(BIN)/python -m stripe_emulator --host 127.0.0.1 --port $(STRIPE_PORT) \
	    --webhook-url http://127.0.0.1:$(PORT)/stripe/webhook \
	    --webhook-secret "$${STRIPE_WEBHOOK_SECRET:-whsec_local_emulator}" & emulator=$$!; \
	trap 'kill $$emulator 2>/dev/null' EXIT INT TERM; \
	for i in $$(seq 50); do $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', $(STRIPE_PORT)), 0.2)" 2>/dev/null && break; sleep 0.1; done; \
	$(FLASK) stripe-webhook-setup --url http://127.0.0.1:$(PORT)/stripe/webhook; \
	login=$$($(FLASK) demo-staff) || exit 1; \
	$(FLASK) sweep --every 60 & sweeper=$$!; \
	trap 'kill $$emulator $$sweeper 2>/dev/null' EXIT INT TERM; \
	echo ""; echo "  The shop is at http://127.0.0.1:$(PORT)/  (Stripe stand-in on :$(STRIPE_PORT))"; \
	echo "  $$login  (at http://127.0.0.1:$(PORT)/staff/login; a new password each run)"; \
	echo "  A note of support with the word \"$$NOTE_REVIEW_TERMS\" waits for staff in /staff/notes."; \
	echo "  Receipt PDFs are written to $$MAIL_SAVE_DIR/; mail and packing orders print here."; \
	echo ""; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# Tests in TEST_PROCESSES processes (pytest-xdist); each has its own databases and Redis db.
TEST_PROCESSES ?= 3
test: lint
	$(BIN)/pytest -n $(TEST_PROCESSES)

# The growth table (PostgreSQL only: BENCH_DATABASE_URL or TEST_DATABASE_URL) seeds up to
# BENCH_SCALE orders; it takes several minutes at a million.
BENCH_SCALE ?= 1000000
bench: install
	$(BIN)/python -m bench
	$(BIN)/python -m bench.pages
	$(BIN)/python -m bench.growth --scale $(BENCH_SCALE)

# Strings marked with _() into shop/translations/messages.pot, then each locale's catalog
# updated and compiled (commit the .po and .mo files).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -o shop/translations/messages.pot \
	    --project=care-package-shop --no-location --sort-output .
	$(BIN)/pybabel update -i shop/translations/messages.pot -d shop/translations \
	    --no-location --ignore-obsolete
	$(BIN)/pybabel compile -d shop/translations

# The donor and staff pages at 360 and 1280 px into docs/screenshots/, and the page report.
screenshots: install
	$(BIN)/python -m bench.pages --screenshots docs/screenshots

# Every fault scenario, slow ones too, on PostgreSQL and Redis; then the README's table.
FAULTS_REPORT ?= instance/faults.jsonl
faults: export TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
faults: export REQUIRE_SERVICES = 1
faults: export FAULTS_REPORT := $(abspath $(FAULTS_REPORT))
faults: install
	@mkdir -p $(dir $(FAULTS_REPORT)) && rm -f $(FAULTS_REPORT)
	@$(BIN)/pytest tests/faults -m "" -q; status=$$?; \
	echo ""; $(BIN)/python -m tests.faults.report $(FAULTS_REPORT) && exit $$status

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache .hypothesis
