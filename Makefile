# ALPR Workbench: `make demo` and `make test` do all set-up themselves (a .venv beside this file).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
READS  ?= 200000
SEED   ?= 7

.PHONY: install sandbox browser demo test test-postgres test-fast notebook-db notebooks notebook-outputs lint docs bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ALPR Workbench needs Python 3.11 or newer: run make PYTHON=/path/to/python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: install sandbox
	$(BIN)/workbench demo --reads $(READS) --seed $(SEED)
	@echo
	@echo "The synthetic city is ready. With the demo password printed above:"
	@echo "  export WORKBENCH_PASSWORD=<demo password>; $(BIN)/workbench info --user analyst; $(BIN)/workbench --help"
	@echo "Starting the dashboards at http://127.0.0.1:8866 (log in as investigator; Ctrl-C stops them)..."
	$(BIN)/workbench serve --port 8866

# Notebook and dashboard kernels run in bubblewrap's sandbox; install it when missing and we may (root, apt-get).
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing bubblewrap, the kernels' sandbox (apt-get)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "The servers run kernels in a sandbox: sudo apt-get install bubblewrap"; fi; }

# Browser tests drive Debian's Chromium; kernels run in bubblewrap's sandbox. Install them when missing and
# we may (root, apt-get).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Chromium (browser tests) and bubblewrap (the kernels' sandbox) with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium bubblewrap >/dev/null; \
	  else echo "The tests need Chromium and bubblewrap: sudo apt-get install chromium bubblewrap"; fi; }

NB_DB   := $(CURDIR)/.venv/notebook-demo.db
# The notebooks' kernels reach the city only through the door: `workbench door` serves it while nbval runs,
# and the kernels' environment names no database.
# The notebooks' city is a fixed past month (their saved outputs come from it): their department keeps reads
# long enough to cover it, or retention would hide every read.
NB_RETENTION := $(shell echo $$(( ($$(date +%s) - $$(date -d 2026-10-01 +%s)) / 86400 + 90 )))
NB_ENV  := WORKBENCH_DB_URL=sqlite:///$(NB_DB) WORKBENCH_USER=analyst WORKBENCH_PASSWORD=synthetic-demo-pass-2026 \
           WORKBENCH_DATA_DIR=$(CURDIR)/.venv/notebook-data WORKBENCH_RETENTION_DAYS=$(NB_RETENTION)
DOOR    := $(BIN)/workbench door --
NBVAL   := -p no:cacheprovider -o filterwarnings= -q

test: install browser
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory notebooks
	$(MAKE) --no-print-directory test-postgres

# The whole suite again on PostgreSQL: a throwaway cluster on loopback (PostgreSQL is installed with apt-get
# when missing and we are root), stopped and removed afterwards whatever the outcome.
test-postgres: install
	@dir=$$(mktemp -d /tmp/alpr-pg.XXXXXX) && chmod 755 $$dir; \
	url=$$(scripts/pg-test-cluster start $$dir/cluster) || { rm -rf $$dir; exit 1; }; \
	echo "PostgreSQL run against $$url"; \
	ALPR_TEST_POSTGRES=$$url $(BIN)/python -m pytest -p no:cacheprovider; rc=$$?; \
	scripts/pg-test-cluster stop $$dir/cluster; rm -rf $$dir; exit $$rc

# The notebooks against a fresh demo city (the same one their saved outputs come from): analyst and
# training notebooks compared output for output, dashboards executed. Each notebook runs as the member it is
# written for: analysts by default, the evidence release as an investigator, the audit review as a supervisor.
NB_INVESTIGATOR := notebooks/06-evidence-release.ipynb
NB_SUPERVISOR   := notebooks/training/03-audit-review.ipynb
NB_SANITIZE     := --nbval-sanitize-with notebooks/sanitize.cfg

notebook-db: install
	rm -rf $(NB_DB) $(NB_DB)-wal $(NB_DB)-shm $(CURDIR)/.venv/notebook-data/keys
	$(NB_ENV) WORKBENCH_DEMO_PASSWORD=synthetic-demo-pass-2026 $(BIN)/workbench demo --reads 30000 --seed 7 \
	  --start 2026-10-01 --db sqlite:///$(NB_DB) > /dev/null

notebooks: notebook-db
	$(NB_ENV) $(DOOR) $(BIN)/python -m pytest --nbval notebooks $(NB_SANITIZE) $(NBVAL) \
	  --ignore $(NB_INVESTIGATOR) --ignore $(NB_SUPERVISOR)
	$(NB_ENV) WORKBENCH_USER=investigator $(DOOR) $(BIN)/python -m pytest --nbval $(NB_INVESTIGATOR) $(NB_SANITIZE) $(NBVAL)
	$(NB_ENV) WORKBENCH_USER=supervisor $(DOOR) $(BIN)/python -m pytest --nbval $(NB_SUPERVISOR) $(NB_SANITIZE) $(NBVAL)
	$(NB_ENV) $(DOOR) $(BIN)/python -m pytest --nbval-lax voila_apps $(NBVAL)

# Re-run every notebook in place on a fresh demo city, saving the outputs that `make notebooks` compares.
# Review the diff before committing it: a changed output is a changed behaviour.
notebook-outputs: notebook-db
	for nb in $(filter-out $(NB_INVESTIGATOR) $(NB_SUPERVISOR),$(wildcard notebooks/*.ipynb notebooks/training/*.ipynb)); do \
	  $(NB_ENV) $(DOOR) $(BIN)/jupyter nbconvert --to notebook --execute --inplace $$nb || exit 1; done
	$(NB_ENV) WORKBENCH_USER=investigator $(DOOR) $(BIN)/jupyter nbconvert --to notebook --execute --inplace $(NB_INVESTIGATOR)
	$(NB_ENV) WORKBENCH_USER=supervisor $(DOOR) $(BIN)/jupyter nbconvert --to notebook --execute --inplace $(NB_SUPERVISOR)

test-fast: install
	$(BIN)/python -m pytest -m "not slow" -x -q

lint: install
	$(BIN)/ruff check alpr_lib workbench tests benchmarks

docs: install
	$(BIN)/cog -r docs/admin-guide.md docs/cli.md

bench: install
	$(BIN)/python -m pip install --quiet -e '.[bench]'  # DuckDB, the peer column of bench_analytics
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_audit.py
	$(BIN)/python benchmarks/bench_analytics.py
	$(BIN)/python benchmarks/bench_dashboards.py
	$(BIN)/python benchmarks/bench_recognition.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis *.egg-info
