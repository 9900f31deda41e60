# shellcheck shell=bash disable=SC2034  # the variables set here are read by the sourcing script
# tests/bench/lib.sh — what the bench scripts share; sourced, not run. Sets REPO_DIR, STACK, CPUS,
# and the settings every bench takes, DURATION (BENCH_DURATION, s, 10) and WORKERS (BENCH_WORKERS,
# 2 x CPUs); defines:
#   say / die             messages on stderr ("bench: ..."); die exits 1
#   bench_build_dir ARG   BUILD_DIR from the script's first argument (default REPO_DIR/build), absolute
#   bench_need TOOL...    dies naming the first tool not on PATH
#   bench_build BIN...    builds the marketplace and the given targets when any of BIN is missing
#                         (paths under BUILD_DIR; the target is the file name); sets BUILD_TYPE
#   bench_free_port       prints a port nothing listens on, below the ephemeral range
#   bench_wrk KEY URL [WRK OPTION...]
#                         wrk through nginx with the script's THREADS, CONNECTIONS, WARMUP (a warm-up run
#                         first, not measured) and DURATION; the measured output in TMP/wrk-KEY.txt; fills
#                         RPS[KEY], P50[KEY] and P99[KEY] (ms), ANSWERED[KEY] (requests completed) and
#                         ERRS[KEY] (non-2xx answers + socket errors); dies when wrk itself fails; calls
#                         bench_measure_start KEY and bench_measure_end KEY around the measured run when
#                         the script defines them
#   bench_nginx_add_bare CONF SOCKET [POOL]
#                         CONF with `location = /bare/` (bench_bare_fcgi on SOCKET), on stdout; with a
#                         POOL > 0 through an upstream keeping POOL connections (fastcgi_keep_conn on)
#   bench_to_ms LATENCY   wrk's "812.00us", "1.23ms", "2.01s" -> milliseconds
#   bench_workdir NAME    makes TMP (/tmp/mkt-bench-NAME.XXXXXX) and sets STACK_DIR empty; on exit (Ctrl-C
#                         included) the stack in STACK_DIR, once a script sets it, is stopped by the PIDs
#                         scripts/stack recorded, TMP is removed, and the script's exit status is kept
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="$REPO_DIR/scripts/stack"
CPUS="$(getconf _NPROCESSORS_ONLN 2>/dev/null || nproc)"
DURATION="${BENCH_DURATION:-10}"
WORKERS="${BENCH_WORKERS:-$(( 2 * CPUS ))}"

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

bench_build_dir() {
    BUILD_DIR="${1:-$REPO_DIR/build}"
    [[ "$BUILD_DIR" = /* ]] || BUILD_DIR="$PWD/$BUILD_DIR"
}

bench_need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool not found (Debian package: $tool; scripts/install-deps installs the rest)"
    done
}

bench_build() {
    local bin missing=0 targets=()
    for bin in "$BUILD_DIR/marketplace" "$@"; do
        [[ -x "$bin" ]] || missing=1
        targets+=("$(basename "$bin")")
    done
    if (( missing )); then
        [[ -f "$BUILD_DIR/CMakeCache.txt" ]] || cmake -S "$REPO_DIR" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
        cmake --build "$BUILD_DIR" -j"$CPUS" --target "${targets[@]}" >&2
    fi
    BUILD_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"
}

bench_free_port() {
    local port=""
    for _ in $(seq 100); do
        port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+)
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
    done
    printf '%s\n' "$port"
}

bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$STACK_DIR" ]]; then
        "$STACK" stop --dir "$STACK_DIR" >&2 || true
    fi
    rm -rf "$TMP"
    exit "$rc"
}

bench_workdir() {
    TMP="$(mktemp -d "/tmp/mkt-bench-$1.XXXXXX")"
    STACK_DIR=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_to_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000
        printf "%.3f", n }'
}

declare -A RPS P50 P99 ERRS ANSWERED
bench_wrk() {
    local key="$1" url="$2" out="$TMP/wrk-$1.txt" non2xx socket
    shift 2
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" "$@" "$url" >/dev/null 2>&1 || true
    say "wrk ${DURATION}s, $THREADS threads, $CONNECTIONS connections: $key"
    if declare -F bench_measure_start >/dev/null; then bench_measure_start "$key"; fi
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" >"$out" 2>&1 \
        || { cat "$out" >&2; die "wrk failed on $url"; }
    if declare -F bench_measure_end >/dev/null; then bench_measure_end "$key"; fi
    ANSWERED[$key]="$(awk '/ requests in / { print $1 }' "$out")"
    RPS[$key]="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    P50[$key]="$(bench_to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")"
    P99[$key]="$(bench_to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")"
    non2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
    socket="$(awk '/Socket errors:/ { gsub(/[^0-9]+/, " "); n = 0; for (i = 1; i <= NF; i++) n += $i; print n }' "$out")"
    ERRS[$key]=$(( ${non2xx:-0} + ${socket:-0} ))
}

# bench_nginx_add_bare CONF SOCKET [POOL]: prints nginx config CONF with `location = /bare/` (the bare
# libfcgi responder of tests/bench/bare_fcgi.c on SOCKET) added before `location / {`: the same server
# block, headers and fastcgi parameters as /api/marketplace/, another socket. With POOL > 0 the
# location passes to an upstream `bench_bare` (added before `upstream marketplace {`) that keeps POOL
# idle connections per nginx process, as the stack's --keepalive on does for the server. Fails when
# either line is missing.
bench_nginx_add_bare() {
    awk -v sock="$2" -v pool="${3:-0}" '
        pool > 0 && !up && /^[[:space:]]*upstream marketplace \{/ {
            print "    upstream bench_bare {"
            print "        server unix:" sock ";"
            print "        keepalive " pool ";"
            print "    }"
            print ""
            up = 1
        }
        !done && /^[[:space:]]*location \/ \{/ {
            print "        location = /bare/ {"
            if (pool > 0) {
                print "            fastcgi_pass bench_bare;"
                print "            fastcgi_keep_conn on;"
            } else {
                print "            fastcgi_pass unix:" sock ";"
            }
            print "            include fastcgi_params;"
            print "            fastcgi_param HTTP_X_REQUEST_ID $request_id;"
            print "            fastcgi_param HTTP_PROXY \"\";"
            print "        }"
            print ""
            done = 1
        }
        { print }
        END { if (!done || (pool > 0 && !up)) exit 1 }
    ' "$1"
}
