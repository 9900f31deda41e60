#!/usr/bin/env bash
# tests/bench/foundation.sh [build-dir] — the foundation benchmark (ratios against a bare FastCGI handler).
#
# Brings up a stack (MariaDB + marketplace + nginx) in BUILD/benchstack with workers = 2 x CPUs,
# starts a bare libfcgi responder (bench_bare_fcgi) with as many processes and puts it behind the
# SAME nginx (a `location = /bare/` added to the running nginx and reloaded), then runs wrk against
#   1. the bare handler              (the ceiling)
#   2. GET /api/marketplace/health
#   3. GET /api/marketplace/me       with a bearer token
# and prints requests/s, p50 and p99 latency, the ratio to the ceiling, and the RSS of the master
# and of one worker. Everything it started is stopped by PID when it ends (Ctrl-C included);
# a stack that was already running in BUILD/benchstack is left running.
#
# Settings (environment): BENCH_DURATION (s, default 10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_WORKERS (2 x CPUs), BENCH_WARMUP (s, 2), BENCH_PORT (a free port).
# Needs: wrk, curl, nginx, MariaDB (scripts/install-deps), a built marketplace and bench_bare_fcgi
# (built here when missing).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
STACK_DIR="$BUILD_DIR/benchstack"

THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
WARMUP="${BENCH_WARMUP:-2}"

bench_need wrk curl nginx

# ---- build ----------------------------------------------------------------------------------------
BIN="$BUILD_DIR/marketplace"
BARE="$BUILD_DIR/tests/bench/bench_bare_fcgi"
bench_build "$BARE"
SANITIZE="$(sed -n 's/^SANITIZE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)"

# ---- cleanup (by PID, in reverse order of starting) -----------------------------------------------
STARTED_STACK=0 BARE_PID="" NGINX_CONF="" NGINX_PID="" CONF_BACKUP="" TMP=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$BARE_PID" ]] && kill -0 "$BARE_PID" 2>/dev/null; then
        kill -TERM "$BARE_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$BARE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BARE_PID" 2>/dev/null || true
        wait "$BARE_PID" 2>/dev/null || true
    fi
    if [[ -n "$CONF_BACKUP" && -f "$CONF_BACKUP" ]]; then
        cp -f "$CONF_BACKUP" "$NGINX_CONF"
        [[ "$STARTED_STACK" == 1 ]] || kill -HUP "$NGINX_PID" 2>/dev/null || true
    fi
    if [[ "$STARTED_STACK" == 1 ]]; then
        "$STACK" stop --dir "$STACK_DIR" >&2 || true
    fi
    [[ -n "$TMP" ]] && rm -rf "$TMP"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
TMP="$(mktemp -d /tmp/mkt-bench.XXXXXX)"

# ---- the stack ------------------------------------------------------------------------------------
env_get() { sed -n "s/^$1=//p" "$STACK_DIR/stack.env" | tail -n1; }

if "$STACK" status --dir "$STACK_DIR" >/dev/null 2>&1; then
    say "using the stack already running in $STACK_DIR (left running afterwards)"
else
    port="${BENCH_PORT:-$(bench_free_port)}"
    say "starting a stack in $STACK_DIR (port $port, $WORKERS workers)"
    STARTED_STACK=1
    "$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --set "workers=$WORKERS" >&2
fi
URL="$(env_get MKT_URL)"
MASTER_PID="$(env_get MKT_MASTER_PID)"
NGINX_PID="$(env_get MKT_NGINX_PID)"
FCGI_SOCKET="$(env_get MKT_FCGI_SOCKET)"
NGINX_CONF="$STACK_DIR/nginx/nginx.conf"
[[ -n "$URL" && -n "$MASTER_PID" && -n "$NGINX_PID" && -f "$NGINX_CONF" ]] || die "incomplete $STACK_DIR/stack.env"

children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null || ps -o pid= --ppid "$1" 2>/dev/null || true; }
actual_workers="$(children_of "$MASTER_PID" | wc -w)"

# ---- the bare handler behind the same nginx -------------------------------------------------------
BARE_SOCKET="$(dirname "$FCGI_SOCKET")/bare-$$.sock"
"$BARE" "$BARE_SOCKET" "$actual_workers" >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
for _ in $(seq 50); do [[ -S "$BARE_SOCKET" ]] && break; sleep 0.1; done
[[ -S "$BARE_SOCKET" ]] || { cat "$TMP/bare.log" >&2; die "bench_bare_fcgi did not create $BARE_SOCKET"; }

CONF_BACKUP="$TMP/nginx.conf.orig"
cp -f "$NGINX_CONF" "$CONF_BACKUP"
bench_nginx_add_bare "$CONF_BACKUP" "$BARE_SOCKET" >"$TMP/nginx.conf" || die "could not find 'location / {' in $NGINX_CONF"
cp -f "$TMP/nginx.conf" "$NGINX_CONF"
nginx -t -q -p "$STACK_DIR/nginx" -e "$STACK_DIR/log/nginx-error.log" -c "$NGINX_CONF" \
    || die "nginx rejected the configuration with /bare/"
kill -HUP "$NGINX_PID"
for _ in $(seq 50); do
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/bare/" || true)" == 200 ]] && break
    sleep 0.1
done
[[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/bare/")" == 200 ]] || die "$URL/bare/ does not answer 200"

# ---- a user for /me -------------------------------------------------------------------------------
email="bench-$$-$(date +%s)@example.test"
answer="$(curl -sS -X POST "$URL/api/marketplace/auth/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"benchmark password\",\"display_name\":\"Bench\"}")"
TOKEN="$(printf '%s' "$answer" | sed -n 's/.*"token":"\([A-Za-z0-9_-]*\)".*/\1/p')"
[[ -n "$TOKEN" ]] || die "register failed: $answer"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/api/marketplace/me")" == 200 ]] \
    || die "GET /me with the new token does not answer 200"

# ---- measuring ------------------------------------------------------------------------------------
bench_wrk bare "$URL/bare/"
bench_wrk health "$URL/api/marketplace/health"
# RSS is sampled in the middle of the /me run, while the workers hold what they need under load.
(
    sleep "$(( DURATION / 2 + WARMUP ))"
    rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
    worker="$(children_of "$MASTER_PID" | awk '{ print $1; exit }')"
    bare_child="$(children_of "$BARE_PID" | awk '{ print $1; exit }')"
    printf '%s %s %s %s\n' "$(rss_kb "$MASTER_PID")" "$worker" "$(rss_kb "$worker")" "$(rss_kb "$bare_child")" \
        >"$TMP/rss"
) &
sampler=$!
bench_wrk me "$URL/api/marketplace/me" -H "Authorization: Bearer $TOKEN"
wait "$sampler" || true
read -r MASTER_RSS WORKER_PID WORKER_RSS BARE_RSS <"$TMP/rss" || true

# ---- report ---------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
mib() { awk -v k="${1:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo
echo "Foundation benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine: $CPUS CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr)"
echo "  build:   $BUILD_DIR (CMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}${SANITIZE:+, SANITIZE=$SANITIZE})"
echo "  server:  $actual_workers workers (master $MASTER_PID); bare handler: $actual_workers processes; nginx $(nginx -v 2>&1 | sed 's/.*\///')"
echo "  wrk:     ${DURATION}s per target after ${WARMUP}s warm-up, $THREADS threads, $CONNECTIONS connections, through nginx on $URL"
echo
printf '%-34s %12s %10s %10s %10s %8s\n' "target" "requests/s" "p50 ms" "p99 ms" "vs bare" "errors"
printf '%-34s %12s %10s %10s %10s %8s\n' "----------------------------------" "------------" "----------" "----------" "----------" "--------"
row() {
    printf '%-34s %12s %10s %10s %10s %8s\n' "$1" "${RPS[$2]}" "${P50[$2]}" "${P99[$2]}" "$(ratio "${RPS[$2]}" "${RPS[bare]}")" "${ERRS[$2]}"
}
row "bare FastCGI handler (ceiling)" bare
row "GET /api/marketplace/health" health
row "GET /api/marketplace/me (bearer)" me
echo
echo "RSS under load (VmRSS):"
echo "  marketplace master (pid $MASTER_PID):  $(mib "$MASTER_RSS")"
echo "  marketplace worker (pid ${WORKER_PID:-?}):  $(mib "$WORKER_RSS")"
echo "  bare handler process:              $(mib "$BARE_RSS")"
