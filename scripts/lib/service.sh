# Shared by scripts/kafka.sh and scripts/registry.sh: logging, Java, and the life of one local
# process started from a data dir (pid file, readiness, stop). Source it after setting SERVICE.
# Callers define `answers ARG` (does the service answer?) before using wait_ready.

info() { printf '%s: %s\n' "$SERVICE" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

JAVA=
require_java() {  # PURPOSE DEBIAN-PACKAGE -> sets JAVA to a Java 17+ binary, or dies saying how to get one
    [[ -n $JAVA ]] && return 0
    local purpose=$1 package=$2 candidate=
    if [[ -n ${JAVA_HOME:-} && -x ${JAVA_HOME}/bin/java ]]; then
        candidate=$JAVA_HOME/bin/java
    elif command -v java >/dev/null 2>&1; then
        candidate=$(command -v java)
    fi
    local hint="install it (Debian: apt-get install $package) or set JAVA_HOME"
    [[ -n $candidate ]] || die "Java 17+ is required $purpose: $hint"
    local line major
    line=$("$candidate" -version 2>&1 | head -n 1) || true
    # openjdk version "17.0.15" 2025-04-15  |  java version "1.8.0_392"
    major=$(sed -nE 's/.*version "(1\.)?([0-9]+).*/\2/p' <<<"$line")
    if [[ -z $major || $major -lt 17 ]]; then
        die "Java 17+ is required $purpose, found ${line:-nothing usable} at $candidate: $hint"
    fi
    JAVA=$candidate
}

tcp_open() {  # HOST PORT
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# The pid in PIDFILE if that process is alive and its command line holds every PATTERN (a recycled
# pid is not ours); else nothing, status 1.
owned_pid() {  # PIDFILE PATTERN...
    local pidfile=$1
    shift
    [[ -f $pidfile ]] || return 1
    local pid
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r /proc/$pid/cmdline ]]; then
        local cmdline pattern
        cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
        for pattern in "$@"; do
            [[ $cmdline == *"$pattern"* ]] || return 1
        done
    fi
    printf '%s\n' "$pid"
}

wait_ready() {  # PID ANSWERS-ARG TIMEOUT -> 0 when it answers, 1 on timeout, 2 if the process died
    local pid=$1 target=$2 deadline=$((SECONDS + $3))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 2
        answers "$target" && return 0
        sleep 0.3
    done
    return 1
}

stop_pid() {  # PID TIMEOUT-SECONDS: SIGTERM, then SIGKILL after the time-out; returns once it is gone
    local pid=$1 timeout=$2
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
        info "still running after ${timeout}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
}
