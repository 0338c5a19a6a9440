#!/usr/bin/env bash
# Local single-node KRaft Apache Kafka for development and tests. See docs/local-kafka.md.
#
#   scripts/kafka.sh fetch              make a Kafka distribution available, print its libs dir
#   scripts/kafka.sh up                 start the broker (idempotent), print "bootstrap: HOST:PORT"
#   scripts/kafka.sh down [--purge]     stop it (idempotent); --purge also deletes the data dir
#   scripts/kafka.sh status             running/stopped + bootstrap; exit 0 running, 3 stopped
#   scripts/kafka.sh tool NAME ARGS...  run a Kafka CLI tool (kafka-topics, kafka-consumer-groups, ...)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

KAFKA_VERSION=${KAFKA_VERSION:-4.3.1}
SCALA_VERSION=2.13
CACHE_ROOT=${KAFKA_CACHE_DIR:-$REPO/.cache/kafka}
CACHE=$CACHE_ROOT/$KAFKA_VERSION
# Unset: Apache's archive. Set to empty: skip the archive (go straight to Maven Central).
ARCHIVE_URL=${KAFKA_ARCHIVE_URL-https://archive.apache.org/dist/kafka/$KAFKA_VERSION/kafka_$SCALA_VERSION-$KAFKA_VERSION.tgz}

PORT=${KAFKA_PORT:-9092}
[[ $PORT =~ ^[0-9]+$ ]] || { echo "error: KAFKA_PORT must be a port number, not '$PORT'" >&2; exit 1; }
CPORT=${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
[[ $CPORT =~ ^[0-9]+$ ]] || { echo "error: KAFKA_CONTROLLER_PORT must be a port number, not '$CPORT'" >&2; exit 1; }
HOST=127.0.0.1
DATA=${KAFKA_DATA_DIR:-$REPO/.kafka}
[[ $DATA == /* ]] || DATA=$PWD/$DATA
DATA=${DATA%/}
PIDFILE=$DATA/kafka.pid
PROPS=$DATA/server.properties
MARKER_NAME=.kafka-local-data  # marks a data dir as ours, so `down --purge` may delete it

BROKER_LOG4J=$SCRIPT_DIR/kafka/log4j2.properties
TOOLS_LOG4J=$SCRIPT_DIR/kafka/tools-log4j2.properties

SERVICE=kafka
# shellcheck source=lib/service.sh
source "$SCRIPT_DIR/lib/service.sh"

# --------------------------------------------------------------------------------------- fetch

LIBS=

valid_libs() {  # DIR: holds a Kafka broker jar?
    compgen -G "$1/kafka_$SCALA_VERSION-*.jar" >/dev/null 2>&1
}

libs_version() {  # DIR -> Kafka version of the broker jar in it
    local jar
    jar=$(compgen -G "$1/kafka_$SCALA_VERSION-*.jar" | grep -v -e '-test' -e '-sources' -e '-javadoc' | head -n 1) || true
    jar=${jar##*/kafka_"$SCALA_VERSION"-}
    printf '%s\n' "${jar%.jar}"
}

sha512_of() { sha512sum "$1" | cut -d' ' -f1; }

# Apache .sha512 files come as "HEX  name" (sha512sum) or "name: HEX HEX ..." (gpg --print-md).
parse_sha512() {
    local text
    text=$(tr -d '\r' <"$1")
    if [[ $text =~ ^([0-9a-fA-F]{128})[[:space:]] ]]; then
        printf '%s\n' "${BASH_REMATCH[1],,}"
    else
        text=${text#*:}
        text=$(tr -d '[:space:]' <<<"$text")
        printf '%s\n' "${text,,}"
    fi
}

fetch_archive() {  # -> 0 and LIBS set, or 1 (quietly) so the caller falls through
    [[ -n $ARCHIVE_URL ]] || return 1
    command -v curl >/dev/null 2>&1 || { info "curl not found; skipping Apache's archive"; return 1; }
    local tmp=$CACHE/.download
    rm -rf "$tmp" && mkdir -p "$tmp"
    # Reachability probe with a hard 20 s limit; the download itself only needs to keep moving.
    if ! curl -fsSI --max-time 20 -o /dev/null "$ARCHIVE_URL" 2>/dev/null; then
        info "Apache's archive not reachable ($ARCHIVE_URL); trying Maven Central"
        rm -rf "$tmp"
        return 1
    fi
    info "downloading $ARCHIVE_URL"
    if ! curl -fsS --connect-timeout 20 --speed-limit 10240 --speed-time 60 \
            -o "$tmp/kafka.tgz" "$ARCHIVE_URL" 2>"$tmp/curl.err"; then
        info "download failed ($(head -c 200 "$tmp/curl.err" | tr '\n' ' ')); trying Maven Central"
        rm -rf "$tmp"
        return 1
    fi
    if curl -fsS --max-time 20 -o "$tmp/kafka.tgz.sha512" "$ARCHIVE_URL.sha512" 2>/dev/null; then
        local want got
        want=$(parse_sha512 "$tmp/kafka.tgz.sha512")
        got=$(sha512_of "$tmp/kafka.tgz")
        if [[ $want != "$got" ]]; then
            rm -rf "$tmp"
            die "checksum mismatch for $ARCHIVE_URL (expected $want, got $got)"
        fi
    else
        info "no .sha512 next to the archive; not verified"
    fi
    tar -xzf "$tmp/kafka.tgz" -C "$tmp" || { info "could not unpack the archive; trying Maven Central"; rm -rf "$tmp"; return 1; }
    local top
    top=$(compgen -G "$tmp/kafka_$SCALA_VERSION-*/" | head -n 1) || true
    if [[ -z $top ]] || ! valid_libs "$top/libs"; then
        info "the archive has no kafka_$SCALA_VERSION-*/libs; trying Maven Central"
        rm -rf "$tmp"
        return 1
    fi
    rm -rf "$CACHE/dist"
    mv "${top%/}" "$CACHE/dist"
    rm -rf "$tmp"
    LIBS=$CACHE/dist/libs
}

fetch_maven() {
    require_java "to run Kafka" openjdk-17-jre-headless  # Maven needs it too
    command -v mvn >/dev/null 2>&1 ||
        die "Maven (mvn) is required to fetch Kafka from Maven Central: install it (Debian: apt-get install maven) or set KAFKA_HOME to an unpacked Kafka distribution"
    local out=$CACHE/.libs.tmp
    local -a extra=()
    # Extra Maven arguments, e.g. KAFKA_MVN_ARGS="-Dmaven.repo.local=/tmp/m2 -s settings.xml"
    read -r -a extra <<<"${KAFKA_MVN_ARGS:-}"
    info "resolving Kafka $KAFKA_VERSION from Maven Central"
    local log4j_version=
    for _ in 1 2; do
        rm -rf "$out"
        local -a args=(-B -q -f "$SCRIPT_DIR/kafka/pom.xml" dependency:copy-dependencies
            -DincludeScope=runtime "-DoutputDirectory=$out" "-Dkafka.version=$KAFKA_VERSION")
        [[ -n $log4j_version ]] && args+=("-Dlog4j.version=$log4j_version")
        if ! mvn "${args[@]}" "${extra[@]}" >"$CACHE/mvn.log" 2>&1; then
            tail -n 20 "$CACHE/mvn.log" >&2
            die "Maven could not resolve Kafka $KAFKA_VERSION (full log: $CACHE/mvn.log)"
        fi
        # The SLF4J binding must match the log4j-core Kafka pulls in; re-resolve once if not.
        local core impl
        core=$(compgen -G "$out/log4j-core-*.jar" | head -n 1) || true
        impl=$(compgen -G "$out/log4j-slf4j-impl-*.jar" | head -n 1) || true
        core=${core##*/log4j-core-}; core=${core%.jar}
        impl=${impl##*/log4j-slf4j-impl-}; impl=${impl%.jar}
        if [[ -n $core && $core != "$impl" && -z $log4j_version ]]; then
            info "log4j-core is $core but log4j-slf4j-impl is ${impl:-missing}; re-resolving"
            log4j_version=$core
            continue
        fi
        break
    done
    valid_libs "$out" || die "Maven finished but $out has no kafka_$SCALA_VERSION jar"
    rm -rf "$CACHE/libs"
    mv "$out" "$CACHE/libs"
    LIBS=$CACHE/libs
}

# Sets LIBS. Sources in order: $KAFKA_HOME, the cache, Apache's archive, Maven Central.
resolve_libs() {
    [[ -n $LIBS ]] && return 0
    if [[ -n ${KAFKA_HOME:-} ]]; then
        if valid_libs "$KAFKA_HOME/libs"; then
            LIBS=$(cd "$KAFKA_HOME/libs" && pwd)
            local v
            v=$(libs_version "$LIBS")
            [[ $v == "$KAFKA_VERSION" ]] || info "using KAFKA_HOME=$KAFKA_HOME (Kafka $v, not $KAFKA_VERSION)"
            return 0
        fi
        info "ignoring KAFKA_HOME=$KAFKA_HOME: no libs/kafka_$SCALA_VERSION-*.jar there"
    fi
    local complete=$CACHE/.complete
    if [[ -f $complete ]]; then
        LIBS=$(<"$complete")
        valid_libs "$LIBS" && return 0
        LIBS=
    fi
    mkdir -p "$CACHE"
    # Serialize concurrent fetches of the same version (e.g. two `up`s at once).
    exec 8>"$CACHE/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 900 8 || die "another fetch of Kafka $KAFKA_VERSION holds $CACHE/.lock"
    fi
    if [[ -f $complete ]]; then  # someone else finished while we waited
        LIBS=$(<"$complete")
        valid_libs "$LIBS" && { exec 8>&-; return 0; }
        LIBS=
    fi
    require_java "to run Kafka" openjdk-17-jre-headless  # fail before downloading anything: without it there is no point
    local t0
    t0=$(now)
    fetch_archive || fetch_maven
    printf '%s\n' "$LIBS" >"$complete.tmp" && mv "$complete.tmp" "$complete"
    info "Kafka $KAFKA_VERSION ready in $LIBS ($(compgen -G "$LIBS/*.jar" | wc -l) jars, $(elapsed "$t0") s)"
    exec 8>&-
}

cmd_fetch() {
    resolve_libs
    printf '%s\n' "$LIBS"
}

# -------------------------------------------------------------------------------------- broker

# PID of the broker started from $DATA, if it is alive and really ours (kafka.Kafka on our properties).
broker_pid() { owned_pid "$PIDFILE" kafka.Kafka "$PROPS"; }

# The bootstrap address a running broker advertises (from its server.properties).
running_bootstrap() {
    local line entry
    line=$(grep -E '^advertised\.listeners=' "$PROPS" 2>/dev/null | tail -n 1) || true
    local -a entries=()
    IFS=, read -r -a entries <<<"${line#*=}"
    for entry in "${entries[@]}"; do
        entry=${entry//[[:space:]]/}
        if [[ $entry == PLAINTEXT://* ]]; then
            printf '%s\n' "${entry#PLAINTEXT://}"
            return 0
        fi
    done
    printf '%s\n' "$HOST:$PORT"
}

# Does a broker answer a metadata request at HOST:PORT?
answers() {  # HOST:PORT
    local hostport=$1
    tcp_open "${hostport%:*}" "${hostport##*:}" || return 1
    local py=$REPO/.venv/bin/python
    [[ -x $py ]] || return 0  # no venv: a listening port is the best we can check
    "$py" - "$hostport" 2>/dev/null <<'PY'
import sys
from confluent_kafka.admin import AdminClient
md = AdminClient({"bootstrap.servers": sys.argv[1], "log_level": 0}).list_topics(timeout=2)
sys.exit(0 if md.brokers else 1)
PY
}

write_props() {  # FILE
    {
        echo "# Generated by scripts/kafka.sh up; regenerated on every start. Do not edit:"
        echo "# set KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_OFFSETS_PARTITIONS, KAFKA_EXTRA_PROPERTIES."
        echo "process.roles=broker,controller"
        echo "node.id=1"
        echo "controller.quorum.voters=1@$HOST:$CPORT"
        echo "controller.listener.names=CONTROLLER"
        echo "listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT"
        echo "advertised.listeners=PLAINTEXT://$HOST:$PORT"
        echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
        echo "inter.broker.listener.name=PLAINTEXT"
        echo "log.dirs=$DATA/kraft-logs"
        echo "num.partitions=1"
        echo "auto.create.topics.enable=false"
        echo "offsets.topic.replication.factor=1"
        echo "offsets.topic.num.partitions=${KAFKA_OFFSETS_PARTITIONS:-10}"
        echo "transaction.state.log.replication.factor=1"
        echo "transaction.state.log.min.isr=1"
        echo "transaction.state.log.num.partitions=4"
        echo "share.coordinator.state.topic.replication.factor=1"
        echo "share.coordinator.state.topic.min.isr=1"
        echo "group.initial.rebalance.delay.ms=0"
        if [[ -n ${KAFKA_EXTRA_PROPERTIES:-} ]]; then
            echo "# from KAFKA_EXTRA_PROPERTIES (later lines win over earlier ones)"
            printf '%s\n' "$KAFKA_EXTRA_PROPERTIES"
        fi
    } >"$1"
}

port_owner() {  # PORT -> a short description of who listens there, if ss can tell
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*))' | head -n 1 || true
}

SERVER_LOG_OFFSET=0  # size of server.log when this start began: show only this run's lines

show_logs() {
    local console=$DATA/logs/console.log server=$DATA/logs/server.log
    if [[ -s $console ]]; then  # WARN and up only: the errors, without the INFO noise
        echo "---- last lines of $console" >&2
        tail -n 40 "$console" >&2
    elif [[ -s $server ]]; then
        echo "---- last lines of $server" >&2
        tail -c "+$((SERVER_LOG_OFFSET + 1))" "$server" | tail -n 30 >&2
    fi
}

cmd_up() {
    require_java "to run Kafka" openjdk-17-jre-headless
    mkdir -p "$DATA/logs"
    touch "$DATA/$MARKER_NAME"
    local timeout=${KAFKA_START_TIMEOUT:-90}

    # One `up` at a time per data dir.
    exec 9>"$DATA/.up.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w $((timeout + 30)) 9 || die "another 'scripts/kafka.sh up' on $DATA holds $DATA/.up.lock"
    fi

    local pid bootstrap
    if pid=$(broker_pid); then
        bootstrap=$(running_bootstrap)
        local wanted
        wanted=$(mktemp)
        write_props "$wanted"
        if ! diff -q <(grep -v '^#' "$PROPS") <(grep -v '^#' "$wanted") >/dev/null; then
            local changes
            changes=$(diff --old-line-format='running: %L' --new-line-format='wanted: %L' \
                --unchanged-line-format='' <(grep -v '^#' "$PROPS") <(grep -v '^#' "$wanted") |
                tr '\n' ' ') || true
            rm -f "$wanted"
            die "a broker from $DATA is already running (pid $pid, $bootstrap) with other settings (${changes% }); run 'scripts/kafka.sh down' first"
        fi
        rm -f "$wanted"
        if answers "$bootstrap"; then
            info "already running (pid $pid)"
            echo "bootstrap: $bootstrap"
            return 0
        fi
        info "pid $pid is running but $bootstrap does not answer yet; waiting up to ${timeout}s"
        local rc=0
        wait_ready "$pid" "$bootstrap" "$timeout" || rc=$?
        if ((rc == 0)); then
            echo "bootstrap: $bootstrap"
            return 0
        fi
        show_logs
        die "broker pid $pid from $DATA does not answer on $bootstrap; see $DATA/logs (or run 'scripts/kafka.sh down')"
    fi
    rm -f "$PIDFILE"

    local p
    for p in "$PORT" "$CPORT"; do
        if tcp_open "$HOST" "$p"; then
            local owner
            owner=$(port_owner "$p")
            die "port $HOST:$p is already in use by another process${owner:+ $owner} (not a broker from $DATA); stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
        fi
    done

    resolve_libs

    write_props "$PROPS"
    local -a base=("$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
        "-Dlog4j2.configurationFile=$TOOLS_LOG4J" -cp "$LIBS/*")
    if [[ ! -f $DATA/kraft-logs/meta.properties ]]; then
        local uuid
        uuid=$("${base[@]}" kafka.tools.StorageTool random-uuid | tail -n 1)
        [[ -n $uuid ]] || die "kafka.tools.StorageTool random-uuid printed nothing"
        "${base[@]}" kafka.tools.StorageTool format -t "$uuid" -c "$PROPS" >"$DATA/logs/format.log" 2>&1 || {
            cat "$DATA/logs/format.log" >&2
            die "formatting the storage in $DATA/kraft-logs failed"
        }
        info "formatted $DATA/kraft-logs (cluster id $uuid)"
    fi

    local t0
    t0=$(now)
    : >"$DATA/logs/console.log"
    SERVER_LOG_OFFSET=$(stat -c %s "$DATA/logs/server.log" 2>/dev/null || echo 0)
    # setsid: its own session, so stopping the caller (make, a test runner) leaves it alone.
    # The inner bash writes its own pid and then becomes java (exec), so the pid file is exact.
    # shellcheck disable=SC2016  # $$ and $@ are for the inner bash
    nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-up "$PIDFILE" \
        "$JAVA" -Xms256m "-Xmx${KAFKA_HEAP:-1g}" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError \
        -Djava.awt.headless=true "-Dlog4j2.configurationFile=$BROKER_LOG4J" \
        "-Dkafka.logs.dir=$DATA/logs" -cp "$LIBS/*" kafka.Kafka "$PROPS" \
        </dev/null >>"$DATA/logs/console.log" 2>&1 8>&- 9>&- &
    local launcher=$!
    pid=
    for _ in $(seq 100); do
        pid=$(cat "$PIDFILE" 2>/dev/null) || true
        [[ $pid =~ ^[0-9]+$ ]] && break
        sleep 0.05
    done
    [[ $pid =~ ^[0-9]+$ ]] || pid=$launcher
    info "starting broker (pid $pid, data $DATA)"

    bootstrap=$HOST:$PORT
    local rc=0
    wait_ready "$pid" "$bootstrap" "$timeout" || rc=$?
    if ((rc != 0)); then
        show_logs
        if ((rc == 2)); then
            rm -f "$PIDFILE"
            die "the broker exited during start-up; logs in $DATA/logs"
        fi
        die "the broker (pid $pid) did not answer on $bootstrap within ${timeout}s; logs in $DATA/logs (stop it with 'scripts/kafka.sh down')"
    fi
    info "started in $(elapsed "$t0") s"
    echo "bootstrap: $bootstrap"
}

cmd_down() {
    local purge=0
    case ${1:-} in
        --purge) purge=1 ;;
        "") ;;
        *) die "usage: scripts/kafka.sh down [--purge]" ;;
    esac
    local pid
    if pid=$(broker_pid); then
        info "stopping broker (pid $pid)"
        stop_pid "$pid" "${KAFKA_STOP_TIMEOUT:-30}"
        info "stopped"
    else
        info "not running ($DATA)"
    fi
    rm -f "$PIDFILE"
    if ((purge)) && [[ -e $DATA ]]; then
        local real
        real=$(cd "$DATA" && pwd -P)
        case $real in
            / | "$HOME" | "$(cd "$REPO" && pwd -P)") die "refusing to delete $real" ;;
        esac
        if [[ -f $real/$MARKER_NAME || -z $(ls -A "$real") ]]; then
            rm -rf "$real"
            info "deleted $real"
        else
            die "refusing to delete $real: it was not created by scripts/kafka.sh (no $MARKER_NAME)"
        fi
    fi
    return 0
}

cmd_status() {
    local pid
    if pid=$(broker_pid); then
        local bootstrap
        bootstrap=$(running_bootstrap)
        if answers "$bootstrap"; then
            echo "running (pid $pid, data $DATA)"
        else
            echo "running but not answering (pid $pid, data $DATA)"
        fi
        echo "bootstrap: $bootstrap"
        return 0
    fi
    echo "stopped (data $DATA)"
    echo "bootstrap: $HOST:$PORT"
    return 3
}

# ---------------------------------------------------------------------------------------- tool

tool_class() {  # NAME -> main class
    case $1 in
        kafka-topics) echo org.apache.kafka.tools.TopicCommand ;;
        kafka-consumer-groups) echo org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
        kafka-share-groups) echo org.apache.kafka.tools.consumer.group.ShareGroupCommand ;;
        kafka-streams-groups) echo org.apache.kafka.tools.streams.StreamsGroupCommand ;;
        kafka-groups) echo org.apache.kafka.tools.GroupsCommand ;;
        kafka-console-producer) echo org.apache.kafka.tools.ConsoleProducer ;;
        kafka-console-consumer) echo org.apache.kafka.tools.consumer.ConsoleConsumer ;;
        kafka-configs) echo kafka.admin.ConfigCommand ;;
        kafka-get-offsets) echo org.apache.kafka.tools.GetOffsetShell ;;
        kafka-delete-records) echo org.apache.kafka.tools.DeleteRecordsCommand ;;
        kafka-storage) echo kafka.tools.StorageTool ;;
        kafka-acls) echo org.apache.kafka.tools.AclCommand ;;
        kafka-transactions) echo org.apache.kafka.tools.TransactionsCommand ;;
        kafka-metadata-quorum) echo org.apache.kafka.tools.MetadataQuorumCommand ;;
        kafka-features) echo org.apache.kafka.tools.FeatureCommand ;;
        kafka-cluster) echo org.apache.kafka.tools.ClusterTool ;;
        kafka-broker-api-versions) echo org.apache.kafka.tools.BrokerApiVersionsCommand ;;
        kafka-log-dirs) echo org.apache.kafka.tools.LogDirsCommand ;;
        kafka-leader-election) echo org.apache.kafka.tools.LeaderElectionCommand ;;
        kafka-reassign-partitions) echo org.apache.kafka.tools.reassign.ReassignPartitionsCommand ;;
        kafka-producer-perf-test) echo org.apache.kafka.tools.ProducerPerformance ;;
        kafka-consumer-perf-test) echo org.apache.kafka.tools.ConsumerPerformance ;;
        kafka-dump-log) echo org.apache.kafka.tools.DumpLogSegments ;;
        *) return 1 ;;
    esac
}

TOOL_NAMES="kafka-topics kafka-consumer-groups kafka-share-groups kafka-streams-groups kafka-groups kafka-console-producer
kafka-console-consumer kafka-configs kafka-get-offsets kafka-delete-records kafka-storage kafka-acls
kafka-transactions kafka-metadata-quorum kafka-features kafka-cluster kafka-broker-api-versions
kafka-log-dirs kafka-leader-election kafka-reassign-partitions kafka-producer-perf-test
kafka-consumer-perf-test kafka-dump-log"

cmd_tool() {
    (($# >= 1)) || die "usage: scripts/kafka.sh tool NAME [ARGS...]; NAME is one of: ${TOOL_NAMES//$'\n'/ }"
    local name=${1%.sh}
    shift
    local class
    if ! class=$(tool_class "$name"); then
        if [[ $name == *.* && $name != *.sh ]]; then
            class=$name  # a fully qualified main class
        elif [[ -n ${KAFKA_HOME:-} && -x $KAFKA_HOME/bin/$name.sh ]]; then
            exec "$KAFKA_HOME/bin/$name.sh" "$@"
        else
            die "unknown tool '$name'; known: ${TOOL_NAMES//$'\n'/ }"
        fi
    fi
    require_java "to run Kafka" openjdk-17-jre-headless
    resolve_libs
    exec "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
        "-Dlog4j2.configurationFile=$TOOLS_LOG4J" -cp "$LIBS/*" "$class" "$@"
}

# ---------------------------------------------------------------------------------------- main

usage() {
    sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
        fetch) cmd_fetch ;;
        up) cmd_up ;;
        down) cmd_down "$@" ;;
        status) cmd_status ;;
        tool) cmd_tool "$@" ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
