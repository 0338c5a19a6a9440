#!/usr/bin/env bash
# `make test`: set up the environment and run the whole suite against a real Kafka broker that the
# test session starts itself (tests/conftest.py), unless TEST_KAFKA_BOOTSTRAP_SERVERS is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh requirements-dev.txt
scripts/kafka.sh fetch >/dev/null
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
