#!/usr/bin/env bash
# Local Confluent-compatible schema registry (Apicurio Registry, in-memory) for development and
# tests, built from Maven Central. See docs/schemas.md.
#
#   scripts/registry.sh fetch            build the registry if needed (cached per machine), print its dir
#   scripts/registry.sh build            the same, but always rebuild
#   scripts/registry.sh up               start it (idempotent), print "url: http://HOST:PORT/apis/ccompat/v7"
#   scripts/registry.sh down             stop it (idempotent)
#   scripts/registry.sh status           running/stopped + url; exit 0 running, 3 stopped
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)

APICURIO_VERSION=2.4.2.Final
# Outside the clone: one build per machine, shared by worktrees (the first build takes minutes).
CACHE_ROOT=${REGISTRY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kafka-dashboard/registry}
CACHE=$CACHE_ROOT/$APICURIO_VERSION
# Every repository the POMs name goes through this one (the parent POM lists some that fail).
MIRROR=${REGISTRY_MAVEN_MIRROR:-https://repo.maven.apache.org/maven2}

PORT=${REGISTRY_PORT:-8081}
[[ $PORT =~ ^[0-9]+$ ]] || { echo "error: REGISTRY_PORT must be a port number, not '$PORT'" >&2; exit 1; }
HOST=127.0.0.1
DATA=${REGISTRY_DATA_DIR:-$REPO/.registry}
[[ $DATA == /* ]] || DATA=$PWD/$DATA
DATA=${DATA%/}
PIDFILE=$DATA/registry.pid
PORTFILE=$DATA/registry.port
CCOMPAT=/apis/ccompat/v7

SERVICE=registry
# shellcheck source=lib/service.sh
source "$SCRIPT_DIR/lib/service.sh"

# --------------------------------------------------------------------------------------- build

APP=  # the built quarkus-app directory (holds quarkus-run.jar)

# A digest of the Maven projects: a change to them invalidates the cached build.
sources_digest() {
    (cd "$SCRIPT_DIR/registry" && find . -type f ! -path '*/target/*' -print0 | sort -z |
        xargs -0 sha256sum) | sha256sum | cut -c1-16
}

write_settings() {  # FILE
    cat >"$1" <<EOF
<settings xmlns="http://maven.apache.org/SETTINGS/1.2.0">
  <localRepository>$CACHE/m2</localRepository>
  <mirrors>
    <mirror>
      <id>central-for-all</id>
      <mirrorOf>*</mirrorOf>
      <url>$MIRROR</url>
    </mirror>
  </mirrors>
</settings>
EOF
}

mvn_run() {  # LOG PROJECT-DIR GOALS... (quiet unless it fails)
    local log=$1 dir=$2
    shift 2
    local -a extra=()
    # Extra Maven arguments, e.g. REGISTRY_MVN_ARGS="-o" (offline once the cache is warm).
    read -r -a extra <<<"${REGISTRY_MVN_ARGS:-}"
    if ! mvn -B -s "$CACHE/settings.xml" -f "$dir/pom.xml" "$@" "${extra[@]}" >"$log" 2>&1; then
        grep -E '^\[ERROR\]' "$log" | head -n 20 >&2 || tail -n 20 "$log" >&2
        die "Maven failed in $dir (full log: $log)"
    fi
}

do_build() {
    require_java "for the registry" openjdk-17-jdk-headless
    command -v mvn >/dev/null 2>&1 ||
        die "Maven (mvn) is required to build the registry: install it (Debian: apt-get install maven)"
    command -v javac >/dev/null 2>&1 ||
        die "a JDK (javac) is required to build the registry's stand-in module: apt-get install openjdk-17-jdk-headless"
    local digest t0
    digest=$(sources_digest)
    t0=$(now)
    mkdir -p "$CACHE"
    write_settings "$CACHE/settings.xml"
    # Build from a copy so target/ directories live in the cache, not in the clone.
    rm -rf "$CACHE/src"
    mkdir -p "$CACHE/src"
    cp -r "$SCRIPT_DIR/registry/." "$CACHE/src/"
    info "building the config-index stand-in (log: $CACHE/stand-in.log)"
    mvn_run "$CACHE/stand-in.log" "$CACHE/src/stand-in" install -DskipTests
    info "building Apicurio Registry $APICURIO_VERSION from Maven Central (log: $CACHE/app.log; the first build downloads ~250 MB)"
    # The app jar asks for a legacy (thin) jar; a fast-jar is one directory that starts quicker.
    mvn_run "$CACHE/app.log" "$CACHE/src/app" package -DskipTests -Dquarkus.package.type=fast-jar
    local app=$CACHE/src/app/target/quarkus-app
    [[ -f $app/quarkus-run.jar ]] || die "Maven finished but $app/quarkus-run.jar is missing"
    rm -rf "$CACHE/app"
    mv "$app" "$CACHE/app"
    rm -rf "$CACHE/src/app/target"
    printf '%s %s\n' "$digest" "$CACHE/app" >"$CACHE/.complete.tmp"
    mv "$CACHE/.complete.tmp" "$CACHE/.complete"
    APP=$CACHE/app
    info "registry built in $APP ($(elapsed "$t0") s)"
}

# Sets APP; builds once per machine (and again when scripts/registry/ changes). FORCE=1 rebuilds.
resolve_app() {
    local force=${1:-0}
    [[ -n $APP ]] && return 0
    mkdir -p "$CACHE"
    local complete=$CACHE/.complete digest
    digest=$(sources_digest)
    if ((!force)) && [[ -f $complete ]]; then
        local d a
        read -r d a <"$complete"
        if [[ $d == "$digest" && -f $a/quarkus-run.jar ]]; then
            APP=$a
            return 0
        fi
    fi
    # Serialize concurrent builds (two test sessions, or `up` while `build` runs).
    exec 8>"$CACHE/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 1800 8 || die "another build of the registry holds $CACHE/.lock"
    fi
    if ((!force)) && [[ -f $complete ]]; then  # someone else finished while we waited
        local d a
        read -r d a <"$complete"
        if [[ $d == "$digest" && -f $a/quarkus-run.jar ]]; then
            APP=$a
            exec 8>&-
            return 0
        fi
    fi
    do_build
    exec 8>&-
}

cmd_fetch() {
    resolve_app "${1:-0}"
    printf '%s\n' "$APP"
}

# ------------------------------------------------------------------------------------ registry

# PID of the registry started from $DATA, if it is alive and really ours (our quarkus-run.jar).
registry_pid() { owned_pid "$PIDFILE" quarkus-run.jar "-Dkafkadashboard.data=$DATA"; }

running_port() {
    cat "$PORTFILE" 2>/dev/null || printf '%s\n' "$PORT"
}

answers() {  # PORT: does the Confluent-compatible API answer?
    tcp_open "$HOST" "$1" || return 1
    curl -fsS --max-time 2 -o /dev/null "http://$HOST:$1$CCOMPAT/subjects" 2>/dev/null
}

show_logs() {
    echo "---- last lines of $DATA/logs/registry.log" >&2
    tail -n 40 "$DATA/logs/registry.log" >&2 || true
}

cmd_up() {
    require_java "for the registry" openjdk-17-jdk-headless
    command -v curl >/dev/null 2>&1 || die "curl is required to check that the registry answers"
    mkdir -p "$DATA/logs"
    local timeout=${REGISTRY_START_TIMEOUT:-90}
    exec 9>"$DATA/.up.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w $((timeout + 1800)) 9 || die "another 'scripts/registry.sh up' on $DATA holds $DATA/.up.lock"
    fi

    local pid port
    if pid=$(registry_pid); then
        port=$(running_port)
        [[ $port == "$PORT" ]] ||
            die "a registry from $DATA is already running (pid $pid) on port $port, not $PORT; run 'scripts/registry.sh down' first"
        local rc=0
        wait_ready "$pid" "$port" "$timeout" || rc=$?
        ((rc == 0)) || { show_logs; die "registry pid $pid from $DATA does not answer on port $port"; }
        info "already running (pid $pid)"
        echo "url: http://$HOST:$port$CCOMPAT"
        return 0
    fi
    rm -f "$PIDFILE"
    tcp_open "$HOST" "$PORT" && die "port $HOST:$PORT is already in use by another process; stop it or set REGISTRY_PORT"

    resolve_app

    local t0
    t0=$(now)
    printf '%s\n' "$PORT" >"$PORTFILE"
    # setsid: its own session, so stopping the caller (make, a test runner) leaves it alone; the
    # inner bash writes its pid and becomes java, so the pid file is exact.
    # shellcheck disable=SC2016  # $$ is for the inner bash
    nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' registry-up "$PIDFILE" \
        "$JAVA" "-Xmx${REGISTRY_HEAP:-256m}" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -XX:+ExitOnOutOfMemoryError "-Dkafkadashboard.data=$DATA" \
        "-Dquarkus.http.host=$HOST" "-Dquarkus.http.port=$PORT" \
        -Dquarkus.log.level=WARN -Dquarkus.log.category.io.apicurio.level=WARN \
        -jar "$APP/quarkus-run.jar" </dev/null >>"$DATA/logs/registry.log" 2>&1 8>&- 9>&- &
    local launcher=$!
    pid=
    for _ in $(seq 100); do
        pid=$(cat "$PIDFILE" 2>/dev/null) || true
        [[ $pid =~ ^[0-9]+$ ]] && break
        sleep 0.05
    done
    [[ $pid =~ ^[0-9]+$ ]] || pid=$launcher
    info "starting registry (pid $pid, port $PORT, data $DATA)"
    local rc=0
    wait_ready "$pid" "$PORT" "$timeout" || rc=$?
    if ((rc != 0)); then
        show_logs
        ((rc == 2)) && { rm -f "$PIDFILE"; die "the registry exited during start-up; log in $DATA/logs"; }
        die "the registry (pid $pid) did not answer on port $PORT within ${timeout}s (stop it with 'scripts/registry.sh down')"
    fi
    info "started in $(elapsed "$t0") s"
    echo "url: http://$HOST:$PORT$CCOMPAT"
}

cmd_down() {
    local pid
    if pid=$(registry_pid); then
        info "stopping registry (pid $pid)"
        stop_pid "$pid" "${REGISTRY_STOP_TIMEOUT:-20}"
        info "stopped"
    else
        info "not running ($DATA)"
    fi
    rm -f "$PIDFILE"
    return 0
}

cmd_status() {
    local pid port
    if pid=$(registry_pid); then
        port=$(running_port)
        if answers "$port"; then
            echo "running (pid $pid, data $DATA)"
        else
            echo "running but not answering (pid $pid, data $DATA)"
        fi
        echo "url: http://$HOST:$port$CCOMPAT"
        return 0
    fi
    echo "stopped (data $DATA)"
    echo "url: http://$HOST:$PORT$CCOMPAT"
    return 3
}

usage() {
    sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

main() {
    local cmd=${1:-}
    (($#)) && shift
    case $cmd in
        fetch) cmd_fetch ;;
        build) cmd_fetch 1 ;;
        up) cmd_up ;;
        down) cmd_down ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *) usage >&2; exit 2 ;;
    esac
}

main "$@"
