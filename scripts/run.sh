#!/usr/bin/env bash
# `make run`: set up and serve the dashboard on its embedded default (README: "Run it").
# Without KAFKA_BOOTSTRAP_SERVERS it starts the local Kafka and the demo workload; Ctrl-C stops
# everything this script started (and nothing it did not start).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh requirements.txt
PY=.venv/bin/python

demo_pid=""
started_kafka=0
started_registry=0
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -TERM "$demo_pid" 2>/dev/null || true
    wait "$demo_pid" 2>/dev/null || true
  fi
  if [ "$started_kafka" = 1 ]; then
    scripts/kafka.sh down || true
  fi
  if [ "$started_registry" = 1 ]; then
    scripts/registry.sh down || true
  fi
}
trap cleanup INT TERM EXIT

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ -z "${KAFKA_CLUSTERS:-}" ] && [ -z "${KAFKA_CLUSTERS_FILE:-}" ]; then
  if ! scripts/kafka.sh status >/dev/null 2>&1; then
    started_kafka=1
  fi
  scripts/kafka.sh up
  export KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:${KAFKA_PORT:-9092}"
  # The local schema registry (docs/schemas.md) for the demo's Avro and Protobuf topics, when this
  # machine can build it (the first build takes minutes; later starts take seconds).
  if [ -z "${KAFKA_SCHEMA_REGISTRY_URL:-}" ] && command -v mvn >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
    if ! scripts/registry.sh status >/dev/null 2>&1; then
      started_registry=1
    fi
    if registry_out=$(scripts/registry.sh up); then
      export KAFKA_SCHEMA_REGISTRY_URL="${registry_out#url: }"
    else
      echo "the schema registry did not start; the demo runs without its Avro and Protobuf topics"
    fi
  fi
  mkdir -p var/demo  # the README's walk-through: `touch var/demo/bug-fixed`
  echo "starting the demo workload (log: var/demo.log)"
  $PY manage.py seed_demo >var/demo.log 2>&1 &
  demo_pid=$!
else
  echo "using the configured cluster(s) (no demo data is written to them)"
fi

$PY manage.py migrate --noinput -v 0
$PY manage.py ensure_operator
$PY manage.py serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
