SHELL := /bin/bash
.DEFAULT_GOAL := help

PY := .venv/bin/python
KAFKA := scripts/kafka.sh
REGISTRY := scripts/registry.sh

.PHONY: help run test lint format bench kafka-fetch kafka-up kafka-down kafka-purge kafka-status \
	registry-fetch registry-up registry-down registry-status

help:
	@echo "Targets:"
	@echo "  run            set up and serve the dashboard (local Kafka + demo unless KAFKA_BOOTSTRAP_SERVERS is set)"
	@echo "  test           set up and run the whole test suite against a real Kafka broker"
	@echo "  lint           ruff check, format check and the layering contracts (.importlinter)"
	@echo "  kafka-fetch    make a Kafka distribution available (KAFKA_HOME, Apache archive, Maven Central)"
	@echo "  kafka-up       start the local single-node KRaft broker (idempotent)"
	@echo "  kafka-down     stop it (idempotent)"
	@echo "  kafka-purge    stop it and delete its data dir"
	@echo "  kafka-status   running/stopped and the bootstrap address"
	@echo "  registry-up    build (once, cached) and start the local schema registry (Apicurio, docs/schemas.md)"
	@echo "  registry-down  stop it"
	@echo "See docs/local-kafka.md for the environment variables (KAFKA_PORT, KAFKA_DATA_DIR, ...)."

# ---- app: run / test / lint ----------------------------------------------------------------

run:
	@scripts/run.sh

test:
	@scripts/test.sh

lint:
	@scripts/venv.sh requirements-dev.txt
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .
	@.venv/bin/lint-imports --no-cache

format:
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

# ---- local Kafka (docs/local-kafka.md) ---------------------------------------------------

kafka-fetch:
	@$(KAFKA) fetch

kafka-up:
	@$(KAFKA) up

kafka-down:
	@$(KAFKA) down

kafka-purge:
	@$(KAFKA) down --purge

kafka-status:
	@$(KAFKA) status

# ---- local schema registry (docs/schemas.md) ---------------------------------------------

registry-fetch:
	@$(REGISTRY) fetch

registry-up:
	@$(REGISTRY) up

registry-down:
	@$(REGISTRY) down

registry-status:
	@$(REGISTRY) status

# ---- benchmarks (bench/RESULTS.md) -------------------------------------------------------

.PHONY: bench bench-quick bench-load bench-scale bench-scale-downstream bench-scale-rss

bench:
	@$(PY) bench/run_all.py

bench-quick:
	@$(PY) bench/run_all.py --quick --output bench/RESULTS-quick.md

# Load (issue 7): 300 websockets + 50 requests/s for 10 min per mode, embedded then scaled-out
# (about 25 min; needs redis-server). Not part of `make bench`. Figures: bench/LOAD.md.
bench-load:
	@$(PY) bench/bench_load.py --json-out bench/load-results.json

# Scale (issue 20): the collector at 5,000, 20,000 and 50,000 groups x 10 partitions with churn, on
# one broker, then 50,000 on two brokers, against the admin source and kafka-consumer-groups
# (about 30 min). Not part of `make bench`. Figures: bench/RESULTS.md, "Scale".
bench-scale:
	@$(PY) bench/bench_scale.py --json-out bench/scale-results.json

# Everything after a snapshot (figures, store, history, /metrics, alerts, publisher, pages) at W4:
# 50,000 groups x 10 partitions, a synthetic snapshot, no broker (about 15 min; bench/RESULTS.md).
bench-scale-downstream:
	@$(PY) bench/bench_scale_downstream.py --json-out bench/scale-downstream-results.json
	@$(PY) bench/scale_downstream_report.py bench/scale-downstream-results.json

# The RSS of every dashboard process together at W4 (`manage.py serve`, its collector child and
# readers) on a real broker (about 20 min: past the 900 s trend window; bench/RESULTS.md, "Memory of every process").
bench-scale-rss:
	@$(PY) bench/bench_scale_rss.py --json-out bench/scale-rss-results.json
