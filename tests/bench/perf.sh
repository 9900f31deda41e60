#!/usr/bin/env bash
# tests/bench/perf.sh [build-dir] — every hot route in one run, against the ceiling (a bare libfcgi
# responder behind the SAME nginx) and against GET /health, with wrk; prints requests/s, p50/p99,
# the ratios and the workers' RSS. It prints figures; it is not a pass/fail test.
#
# Starts a throwaway stack (scripts/stack --test: cheap password hashing, so thousands of sessions
# can be made quickly; workers = BENCH_WORKERS, 2 x CPUs) in a temporary directory, seeds a
# generated catalogue of BENCH_TOOLS tools (marketplace seed --tools), publishes one trivial tool,
# makes BENCH_SESSIONS sessions of one buyer, adds `location = /bare/` to the stack's nginx, then:
#   bare            the bare handler (the ceiling)
#   health          GET /health (one ping)
#   me              GET /me, one bearer token (session and profile cached)
#   me-cold         GET /me rotating over BENCH_SESSIONS tokens: more than a worker caches
#                   (AUTH_CACHE_SLOTS), so most requests resolve the session in MariaDB
#   tool-anon       GET /tools/{slug} without credentials (nginx's microcache may answer)
#   tool            GET /tools/{slug} with a bearer token (never microcached: the server's own caches)
#   tool-304        GET /tools/{slug} with a bearer token and the ETag in If-None-Match
#   tool-cold       GET /tools/{slug} with a bearer token rotating over every seeded tool: more tools
#                   than a worker caches, so most requests read the tool from MariaDB
#   reviews         GET /tools/{slug}/reviews of the seeded tool with the most reviews, anonymous
#   execute         POST /tools/{slug}/execute of a trivial free tool (bearer)
# Besides the rates it prints the CPU time the workers ("wrk µs/rq": all of them, user + system) and
# MariaDB ("db µs/rq") spent per answered request during each measured run: a figure the other jobs
# on a shared machine move far less than the rates (for bare, the workers are the server's, idle).
# BENCH_KEEPALIVE=compare measures FastCGI connection reuse instead: bare, health, me and tool, each at
# every count of BENCH_CONNECTIONS (default "32 64": more clients than workers) with nginx keeping
# connections (scripts/stack --keepalive on, and the same pool for the bare handler) and without,
# back to back on the same stack and data (nginx reloaded between them; the order alternates), and
# prints the two side by side. BENCH_KEEPALIVE=on runs the usual table with reuse on.
# Everything it started is stopped by PID when it ends (Ctrl-C included). A completed purchase is
# measured by tests/bench/money.sh (it needs its own stack settings).
#
# Settings (environment): BENCH_DURATION (s, 10), BENCH_THREADS (2), BENCH_CONNECTIONS (32),
# BENCH_WORKERS (2 x CPUs), BENCH_WARMUP (s, 2), BENCH_TOOLS (2000), BENCH_SESSIONS (2000),
# BENCH_ONLY (space-separated keys from the list above; bare and health always run), BENCH_PERF (1: perf
# record the workers during each route and print its five hottest symbols; needs perf, run as root),
# BENCH_KEEPALIVE (off, on or compare; off).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"

THREADS="${BENCH_THREADS:-2}"
KEEPALIVE="${BENCH_KEEPALIVE:-off}"
[[ "$KEEPALIVE" =~ ^(off|on|compare)$ ]] || die "BENCH_KEEPALIVE must be off, on or compare"
if [[ "$KEEPALIVE" == compare ]]; then CONNECTION_COUNTS="${BENCH_CONNECTIONS:-32 64}"; else CONNECTION_COUNTS="${BENCH_CONNECTIONS:-32}"; fi
CONNECTIONS="${CONNECTION_COUNTS%% *}"
WARMUP="${BENCH_WARMUP:-2}"
TOOLS="${BENCH_TOOLS:-2000}"
SESSIONS="${BENCH_SESSIONS:-2000}"
ONLY="${BENCH_ONLY:-me me-cold tool-anon tool tool-304 tool-cold reviews execute}"
[[ "$KEEPALIVE" == compare ]] && ONLY="${BENCH_ONLY:-me tool}"

bench_need wrk curl nginx mariadb xargs
BIN="$BUILD_DIR/marketplace"
BARE="$BUILD_DIR/tests/bench/bench_bare_fcgi"
bench_build "$BARE"

BARE_PID=""
perf_cleanup() {
    if [[ -n "$BARE_PID" ]] && kill -0 "$BARE_PID" 2>/dev/null; then
        kill -TERM "$BARE_PID" 2>/dev/null || true
        wait "$BARE_PID" 2>/dev/null || true
    fi
    bench_cleanup
}
bench_workdir perf
trap perf_cleanup EXIT

# ---- the stack --------------------------------------------------------------------------------------
port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers)"
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --set "workers=$WORKERS" \
    --keepalive "$([[ "$KEEPALIVE" == on ]] && echo on || echo off)" >"$TMP/stack.log" 2>&1 ||
    { cat "$TMP/stack.log" >&2; die "the stack did not start"; }
env_get() { sed -n "s/^$1=//p" "$STACK_DIR/stack.env" | tail -n1; }
URL="$(env_get MKT_URL)"
API="$URL/api/marketplace"
CONF="$(env_get MKT_CONFIG)"
MASTER_PID="$(env_get MKT_MASTER_PID)"
NGINX_PID="$(env_get MKT_NGINX_PID)"
DB_PID="$(env_get MKT_DB_PID)"
FCGI_SOCKET="$(env_get MKT_FCGI_SOCKET)"
NGINX_CONF="$STACK_DIR/nginx/nginx.conf"

# ---- the bare handler behind the same nginx ---------------------------------------------------------
BARE_SOCKET="$(dirname "$FCGI_SOCKET")/bare-$$.sock"
"$BARE" "$BARE_SOCKET" "$WORKERS" >"$TMP/bare.log" 2>&1 &
BARE_PID=$!
for _ in $(seq 50); do [[ -S "$BARE_SOCKET" ]] && break; sleep 0.1; done
[[ -S "$BARE_SOCKET" ]] || { cat "$TMP/bare.log" >&2; die "bench_bare_fcgi did not create $BARE_SOCKET"; }
# nginx_mode on|off: the stack's nginx with FastCGI connection reuse on or off (scripts/stack
# nginx-conf), the bare location added with the same pool per nginx process, reloaded.
BARE_POOL=$(( WORKERS / 2 > 0 ? WORKERS / 2 : 1 ))
nginx_mode() {
    "$STACK" nginx-conf --dir "$STACK_DIR" --port "$port" --test --keepalive "$1" >"$TMP/nginx-conf.log" 2>&1 ||
        { cat "$TMP/nginx-conf.log" >&2; die "scripts/stack nginx-conf failed"; }
    bench_nginx_add_bare "$NGINX_CONF" "$BARE_SOCKET" "$([[ "$1" == on ]] && echo "$BARE_POOL" || echo 0)" \
        >"$TMP/nginx.conf" || die "no 'location / {' or 'upstream marketplace {' in $NGINX_CONF"
    cp -f "$TMP/nginx.conf" "$NGINX_CONF"
    kill -HUP "$NGINX_PID"
    sleep 1 # the old nginx processes finish their requests and leave
    for _ in $(seq 50); do
        [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/bare/" || true)" == 200 ]] && break
        sleep 0.1
    done
    [[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/bare/")" == 200 ]] || die "$URL/bare/ does not answer 200"
}
nginx_mode "$([[ "$KEEPALIVE" == on ]] && echo on || echo off)"

# ---- data -------------------------------------------------------------------------------------------
say "seeding $TOOLS tools"
"$BIN" seed --tools "$TOOLS" --config "$CONF" >"$TMP/seed.log" 2>&1 || { cat "$TMP/seed.log" >&2; die "seed failed"; }
sql() {
    local pw
    pw="$(sed -n 's/^db_password = //p' "$CONF")"
    mariadb --socket="$(env_get MKT_DB_SOCKET)" -umarketplace -p"$pw" marketplace -N -B -e "$1"
}
# every worker indexes the new catalogue for search in the background: let that finish before measuring
for _ in $(seq 60); do
    caught="$(grep -c 'caught up' "$(env_get MKT_SERVER_LOG)" 2>/dev/null || true)"
    (( ${caught:-0} >= WORKERS )) && break
    curl -s -o /dev/null "$API/search?q=json" || true
    sleep 1
done
sql "SELECT slug FROM tools WHERE status = 'published' ORDER BY id" >"$TMP/slugs"
REVIEWED="$(sql "SELECT slug FROM tools WHERE status = 'published' ORDER BY rating_count DESC, id LIMIT 1")"

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1; }
post() { # path token body
    curl -sS -X POST "$API$1" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$3"
}
PASSWORD="bench-password-123"
register() {
    post /auth/register "" "{\"email\":\"$1\",\"password\":\"$PASSWORD\",\"display_name\":\"Bench\"}" | json_field token
}
DEV_TOKEN="$(register "perf-dev-$$@example.test")"
BUYER_EMAIL="perf-buyer-$$@example.test"
BUYER_TOKEN="$(register "$BUYER_EMAIL")"
[[ -n "$DEV_TOKEN" && -n "$BUYER_TOKEN" ]] || die "registering users failed"
post /developers "$DEV_TOKEN" '{"display_name":"Bench Lab"}' >/dev/null
SLUG="perf-echo-$$"
post /tools "$DEV_TOKEN" "{\"slug\":\"$SLUG\",\"name\":\"Bench echo\",\"category\":\"developer-tools\",
  \"summary\":\"A trivial tool for the benchmark\",
  \"input_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},
  \"output_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}},
  \"code\":\"function handler(input) return {n = input.n + 1} end\",
  \"tests\":[{\"name\":\"inc\",\"input\":{\"n\":1},\"expected\":{\"n\":2}}]}" >"$TMP/create.json"
grep -q "\"slug\":\"$SLUG\"" "$TMP/create.json" || { cat "$TMP/create.json" >&2; die "creating the tool failed"; }
post "/tools/$SLUG/publish" "$DEV_TOKEN" '{"version":"1.0.0"}' | grep -q '"version":"1.0.0"' || die "publish failed"
[[ "$(post "/tools/$SLUG/execute" "$BUYER_TOKEN" '{"input":{"n":41}}')" == *'"n":42'* ]] || die "execute does not work"
ETAG="$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $BUYER_TOKEN" "$API/tools/$SLUG" |
    sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p')"

if [[ " $ONLY " == *" me-cold "* ]]; then
    say "making $SESSIONS sessions"
    seq "$SESSIONS" | xargs -P 4 -I{} curl -sS -X POST "$API/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$BUYER_EMAIL\",\"password\":\"$PASSWORD\"}" -o "$TMP/login-{}.json"
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$TMP"/login-*.json >"$TMP/tokens"
    rm -f "$TMP"/login-*.json
    # a loaded machine may refuse some logins (nginx's rate limit on /auth/): half are plenty, far
    # more than a worker's AUTH_CACHE_SLOTS
    (( $(wc -l <"$TMP/tokens") >= SESSIONS / 2 )) || die "only $(wc -l <"$TMP/tokens") of $SESSIONS logins worked"
fi

# ---- wrk scripts ------------------------------------------------------------------------------------
# rotate FILE HEADER PREFIX PATH_PREFIX: each request takes the next line of FILE, either as the value
# of HEADER (prefixed) or appended to the path; each thread starts at a random line.
rotate_script() {
    cat <<EOF
local lines = {}
for line in io.lines("$1") do lines[#lines + 1] = line end
local i = 0
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)); i = math.random(#lines) end
request = function()
    i = i % #lines + 1
    local headers = {}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    if "$2" ~= "" then headers["$2"] = "$3" .. lines[i]; return wrk.format("GET", "$4", headers) end
    return wrk.format("GET", "$4" .. lines[i], headers)
end
EOF
}
rotate_script "$TMP/tokens" Authorization "Bearer " "/api/marketplace/me" >"$TMP/me-cold.lua"
rotate_script "$TMP/slugs" "" "" "/api/marketplace/tools/" >"$TMP/tool-cold.lua"
cat >"$TMP/execute.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"input":{"n":41}}'
wrk.headers["Content-Type"] = "application/json"
EOF

# ---- measuring --------------------------------------------------------------------------------------
AUTH=(-H "Authorization: Bearer $BUYER_TOKEN")
children_of() { cat "/proc/$1/task/$1/children" 2>/dev/null || ps -o pid= --ppid "$1" 2>/dev/null || true; }
# BENCH_PERF=1: perf record (flat, user and kernel) of the marketplace workers during each route's run;
# the five hottest symbols per route are printed after the table.
perf_start() {
    [[ "${BENCH_PERF:-0}" == 1 && "$1" != bare ]] || return 0
    local pids
    pids="$(children_of "$MASTER_PID" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
    perf record -q -F 499 -o "$TMP/perf-$1.data" -p "$pids" >/dev/null 2>&1 &
    PERF_PID=$!
}
perf_stop() {
    [[ -n "${PERF_PID:-}" ]] || return 0
    kill -INT "$PERF_PID" 2>/dev/null || true
    wait "$PERF_PID" 2>/dev/null || true
    PERF_PID=""
    perf report -q -i "$TMP/perf-$1.data" --no-children --sort dso,sym --stdio 2>/dev/null |
        awk 'NF && $1 ~ /%$/ { $1 = sprintf("%7s", $1); print }' | head -n 5 >"$TMP/perf-$1.top" || true
}
# CPU time per answered request, which other jobs on the machine move far less than rates: the
# workers' (user + system, /proc/PID/stat) and MariaDB's, sampled around each measured run.
cpu_ticks() { # PID... -> summed utime + stime in clock ticks
    local pid sum=0 fields
    for pid in "$@"; do
        fields="$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
        sum=$(( sum + $(awk '{ print $12 + $13 }' <<<"$fields") ))
    done
    echo "$sum"
}
declare -A CPU_W CPU_DB
bench_measure_start() {
    # shellcheck disable=SC2046  # one PID per word
    CPU_W[$1]="$(cpu_ticks $(children_of "$MASTER_PID"))"
    CPU_DB[$1]="$(cpu_ticks "$DB_PID")"
}
bench_measure_end() {
    # shellcheck disable=SC2046
    CPU_W[$1]=$(( $(cpu_ticks $(children_of "$MASTER_PID")) - CPU_W[$1] ))
    CPU_DB[$1]=$(( $(cpu_ticks "$DB_PID") - CPU_DB[$1] ))
}
per_request_us() { # TICKS KEY
    awk -v t="$1" -v n="${ANSWERED[$2]:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }'
}
run() {
    local key="$1"
    shift
    [[ "$key" == bare || "$key" == health || " $ONLY " == *" $key "* ]] || return 0
    perf_start "$key"
    bench_wrk "$key" "$@"
    perf_stop "$key"
}
if [[ "$KEEPALIVE" == compare ]]; then
    compare_key() { printf '%s-c%s-%s' "$1" "$2" "$3"; }
    flip=0
    for CONNECTIONS in $CONNECTION_COUNTS; do
        for target in "bare $URL/bare/" "health $API/health" "me $API/me" "tool $API/tools/$SLUG"; do
            read -r key url <<<"$target"
            [[ "$key" == bare || "$key" == health || " $ONLY " == *" $key "* ]] || continue
            auth=()
            [[ "$key" == me || "$key" == tool ]] && auth=("${AUTH[@]}")
            if (( flip )); then modes="on off"; else modes="off on"; fi
            flip=$(( 1 - flip ))
            for mode in $modes; do
                nginx_mode "$mode"
                bench_wrk "$(compare_key "$key" "$CONNECTIONS" "$mode")" "$url" "${auth[@]}"
            done
        done
    done
    nginx_mode off
    echo
    echo "FastCGI connection reuse — $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo "  machine: $CPUS CPUs; build $BUILD_DIR (${BUILD_TYPE:-?}); $WORKERS workers (bare: $WORKERS processes); pool $BARE_POOL per nginx process"
    echo "  wrk:     ${DURATION}s per target after ${WARMUP}s warm-up, $THREADS threads, through nginx; off and on back to back"
    echo
    printf '%-7s %5s | %9s %8s %8s %6s | %9s %8s %8s %6s | %7s %7s\n' key conns "off req/s" "p50 ms" "p99 ms" errors \
        "on req/s" "p50 ms" "p99 ms" errors "rps on÷off" "p99 on÷off"
    for c in $CONNECTION_COUNTS; do
        for key in bare health me tool; do
            off="$(compare_key "$key" "$c" off)" on="$(compare_key "$key" "$c" on)"
            [[ -n "${RPS[$off]:-}" && -n "${RPS[$on]:-}" ]] || continue
            printf '%-7s %5s | %9s %8s %8s %6s | %9s %8s %8s %6s | %7s %7s\n' "$key" "$c" \
                "${RPS[$off]}" "${P50[$off]}" "${P99[$off]}" "${ERRS[$off]}" \
                "${RPS[$on]}" "${P50[$on]}" "${P99[$on]}" "${ERRS[$on]}" \
                "$(awk -v a="${RPS[$on]}" -v b="${RPS[$off]}" 'BEGIN { printf "%.2f", a / b }')" \
                "$(awk -v a="${P99[$on]}" -v b="${P99[$off]}" 'BEGIN { printf "%.2f", a / b }')"
        done
    done
    exit 0
fi

run bare "$URL/bare/"
run health "$API/health"
run me "$API/me" "${AUTH[@]}"
run me-cold "$URL" -s "$TMP/me-cold.lua"
run tool-anon "$API/tools/$SLUG"
run tool "$API/tools/$SLUG" "${AUTH[@]}"
run tool-304 "$API/tools/$SLUG" "${AUTH[@]}" -H "If-None-Match: ${ETAG:-none}"
run tool-cold "$URL" -s "$TMP/tool-cold.lua" "${AUTH[@]}"
run reviews "$API/tools/$REVIEWED/reviews"
run execute "$API/tools/$SLUG/execute" -s "$TMP/execute.lua" "${AUTH[@]}"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
max_rss=0
for w in $(children_of "$MASTER_PID"); do
    r="$(rss_kb "$w")"
    (( r > max_rss )) && max_rss="$r"
done

# ---- report -----------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
echo
echo "perf benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "  machine: $CPUS CPUs; build $BUILD_DIR (${BUILD_TYPE:-?}); $WORKERS workers; $TOOLS seeded tools"
echo "  wrk:     ${DURATION}s per target after ${WARMUP}s warm-up, $THREADS threads, $CONNECTIONS connections, through nginx"
echo
printf '%-12s %-52s %10s %8s %8s %7s %7s %6s %9s %9s\n' key target "req/s" "p50 ms" "p99 ms" "÷bare" "÷health" errors \
    "wrk µs/rq" "db µs/rq"
describe() {
    case "$1" in
        bare) echo "bare libfcgi handler (the ceiling)" ;;
        health) echo "GET /health (one ping)" ;;
        me) echo "GET /me (one token: cached)" ;;
        me-cold) echo "GET /me ($(wc -l <"$TMP/tokens") tokens: mostly not cached)" ;;
        tool-anon) echo "GET /tools/{slug} anonymous" ;;
        tool) echo "GET /tools/{slug} signed in" ;;
        tool-304) echo "GET /tools/{slug} signed in, If-None-Match" ;;
        tool-cold) echo "GET /tools/{slug} signed in, $TOOLS tools rotating" ;;
        reviews) echo "GET /tools/{slug}/reviews (most reviewed tool)" ;;
        execute) echo "POST /tools/{slug}/execute (trivial, free)" ;;
    esac
}
for key in bare health me me-cold tool-anon tool tool-304 tool-cold reviews execute; do
    [[ -n "${RPS[$key]:-}" ]] || continue
    printf '%-12s %-52s %10s %8s %8s %7s %7s %6s %9s %9s\n' "$key" "$(describe "$key")" "${RPS[$key]}" "${P50[$key]}" \
        "${P99[$key]}" "$(ratio "${RPS[$key]}" "${RPS[bare]}")" "$(ratio "${RPS[$key]}" "${RPS[health]}")" "${ERRS[$key]}" \
        "$(per_request_us "${CPU_W[$key]:-0}" "$key")" "$(per_request_us "${CPU_DB[$key]:-0}" "$key")"
done
echo
echo "largest worker RSS after the runs (VmRSS): $(awk -v k="$max_rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
for key in health me me-cold tool-anon tool tool-304 tool-cold reviews execute; do
    [[ -s "$TMP/perf-$key.top" ]] || continue
    echo
    echo "perf: the five hottest symbols in the workers during $key ($(describe "$key"))"
    cat "$TMP/perf-$key.top"
done
