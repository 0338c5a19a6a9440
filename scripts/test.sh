#!/usr/bin/env bash
# `make test`: set up the environment and run the whole suite against a real Kafka broker that the
# test session starts itself (tests/conftest.py), unless TEST_KAFKA_BOOTSTRAP_SERVERS is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh requirements-dev.txt
scripts/kafka.sh fetch >/dev/null
# The schema registry's tests (tests/integration/test_schemas.py): build it before pytest's per-test
# timeout applies (once per machine, minutes; cached after that, docs/schemas.md).
scripts/registry.sh fetch >/dev/null || echo "note: the schema registry could not be built (see the lines above)"

# The browser tests drive Debian's Chromium (never a downloaded browser build).
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "note: no chromium found: browser tests will be skipped (apt-get install chromium, or set CHROMIUM_PATH)"
  fi
fi

# axe-core for the accessibility checks of the browser tests (package.json pins it).
if command -v npm >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --silent >/dev/null
else
  echo "note: no npm: the accessibility checks will be skipped (apt-get install npm)"
fi

.venv/bin/ruff check .
# The layering rules (.importlinter): kafka_admin without Django, the dashboard without confluent_kafka,
# features apart, only entry points above the poller.
.venv/bin/lint-imports --no-cache
# Workers (pytest-xdist), each with a broker of its own (tests/conftest.py): most of a test's time is
# spent waiting on a broker, a poll cycle or a JVM, so three workers fit two cores. A file's tests
# stay on one worker (module fixtures: a Spring JVM, a Connect worker, a dashboard server).
# TEST_WORKERS=0 runs in this process, in order.
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-3}" --dist loadfile "$@"
