#!/usr/bin/env bash
# tests/bench/execute.sh — HTTP POST /tools/{tool}/execute of a trivial tool against GET /health,
# both through nginx and in the same run, with wrk: requests/s, p99 latency and the ratio
# execute/health (the goal: at least 50 %), with GET /me (authentication + one query) as a
# reference for what every signed-in route pays. Prints figures; it is not a pass/fail test.
#
#   tests/bench/execute.sh [--bin BUILD/marketplace] [--url http://127.0.0.1:PORT]
#                          [-d SECONDS] [-c CONNECTIONS] [-t THREADS] [--workers N (2 x CPUs)]
#
# Without --url it starts a throwaway stack (scripts/stack, test config) in a temporary directory and
# stops it afterwards by the PIDs the stack recorded. With --url it uses a running stack (for example
# `scripts/run --detach`). The tool and the users it needs are made fresh each run.
set -euo pipefail

readonly REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="$REPO_DIR/build/marketplace" URL="" DURATION=10 CONNECTIONS=16 THREADS=2 WORKERS="$(( 2 * $(nproc) ))"
while (( $# )); do
    case "$1" in
        --bin) BIN="$2"; shift 2 ;;
        --url) URL="${2%/}"; shift 2 ;;
        -d) DURATION="$2"; shift 2 ;;
        -c) CONNECTIONS="$2"; shift 2 ;;
        -t) THREADS="$2"; shift 2 ;;
        --workers) WORKERS="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "execute.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
command -v wrk >/dev/null || { echo "execute.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v curl >/dev/null || { echo "execute.sh: curl is not installed" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mkt-bench-execute.XXXXXX")"
STACK_DIR=""
cleanup() {
    if [[ -n "$STACK_DIR" ]]; then
        "$REPO_DIR/scripts/stack" stop --dir "$STACK_DIR" >/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "$URL" ]]; then
    [[ -x "$BIN" ]] || { echo "execute.sh: no server binary at $BIN (build first or pass --bin)" >&2; exit 2; }
    STACK_DIR="$WORK/stack"
    settings=()
    [[ -n "$WORKERS" ]] && settings+=(--set "workers=$WORKERS")
    # request logging and max_requests respawns stay as configured: the bench measures the real path
    "$REPO_DIR/scripts/stack" start --dir "$STACK_DIR" --bin "$BIN" --test "${settings[@]+"${settings[@]}"}" >"$WORK/stack.log" 2>&1 ||
        { cat "$WORK/stack.log" >&2; exit 1; }
    URL="$(sed -n 's/^MKT_URL=//p' "$STACK_DIR/stack.env")"
fi
API="$URL/api/marketplace"

# ---- data: a developer, a trivial published tool, a buyer --------------------------------------

json_field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" | head -n 1; }
post() { # path token body
    curl -sS -X POST "$API$1" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$3"
}
register() {
    local email="bench-$$-$1-$RANDOM@example.test"
    post /auth/register "" "{\"email\":\"$email\",\"password\":\"bench-password-123\",\"display_name\":\"Bench $1\"}" |
        json_field token
}

DEV_TOKEN="$(register dev)"
BUYER_TOKEN="$(register buyer)"
[[ -n "$DEV_TOKEN" && -n "$BUYER_TOKEN" ]] || { echo "execute.sh: registering users failed" >&2; exit 1; }
post /developers "$DEV_TOKEN" '{"display_name":"Bench Lab"}' >/dev/null
SLUG="bench-echo-$$-$RANDOM"
post /tools "$DEV_TOKEN" "{\"slug\":\"$SLUG\",\"name\":\"Bench echo\",\"category\":\"developer-tools\",
  \"input_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},
  \"output_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}},
  \"code\":\"function handler(input) return {n = input.n + 1} end\",
  \"tests\":[{\"name\":\"inc\",\"input\":{\"n\":1},\"expected\":{\"n\":2}}]}" >"$WORK/create.json"
grep -q "\"slug\":\"$SLUG\"" "$WORK/create.json" || { cat "$WORK/create.json" >&2; exit 1; }
post "/tools/$SLUG/publish" "$DEV_TOKEN" '{"version":"1.0.0"}' >"$WORK/publish.json"
grep -q '"version":"1.0.0"' "$WORK/publish.json" || { cat "$WORK/publish.json" >&2; exit 1; }
check="$(post "/tools/$SLUG/execute" "$BUYER_TOKEN" '{"input":{"n":41}}')"
[[ "$check" == *'"n":42'* ]] || { echo "execute.sh: execute does not work: $check" >&2; exit 1; }

# ---- wrk ---------------------------------------------------------------------------------------------

cat >"$WORK/report.lua" <<'EOF'
done = function(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d\n",
        summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
        latency:percentile(99) / 1000, summary.requests, e.status + e.connect + e.read + e.write + e.timeout))
end
EOF
cat >"$WORK/execute.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"input":{"n":41}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $BUYER_TOKEN"
$(cat "$WORK/report.lua")
EOF
# GET /me: authentication plus one query, the floor of any signed-in route, for reference
cat >"$WORK/me.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $BUYER_TOKEN"
$(cat "$WORK/report.lua")
EOF

run() { # name url script
    local out
    out="$(wrk -t "$THREADS" -c "$CONNECTIONS" -d "${DURATION}s" --latency -s "$3" "$2")"
    printf '%s\n' "$out" >"$WORK/$1.txt"
    printf '%s\n' "$out" | sed -n 's/^RESULT //p'
}

echo "bench: wrk -t $THREADS -c $CONNECTIONS -d ${DURATION}s against $URL ($(nproc) CPUs)"
wrk -t "$THREADS" -c "$CONNECTIONS" -d 2s "$API/health" >/dev/null # warm-up: workers, statements, caches
HEALTH="$(run health "$API/health" "$WORK/report.lua")"
EXECUTE="$(run execute "$API/tools/$SLUG/execute" "$WORK/execute.lua")"
ME="$(run me "$API/me" "$WORK/me.lua")"

field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
printf '%-28s %12s %10s %10s %8s\n' endpoint requests/s p50_ms p99_ms errors
printf '%-28s %12s %10s %10s %8s\n' "GET /health" "$(field "$HEALTH" rps)" "$(field "$HEALTH" p50_ms)" \
    "$(field "$HEALTH" p99_ms)" "$(field "$HEALTH" errors)"
printf '%-28s %12s %10s %10s %8s\n' "POST /tools/{tool}/execute" "$(field "$EXECUTE" rps)" \
    "$(field "$EXECUTE" p50_ms)" "$(field "$EXECUTE" p99_ms)" "$(field "$EXECUTE" errors)"
printf '%-28s %12s %10s %10s %8s\n' "GET /me (reference)" "$(field "$ME" rps)" "$(field "$ME" p50_ms)" \
    "$(field "$ME" p99_ms)" "$(field "$ME" errors)"
awk -v e="$(field "$EXECUTE" rps)" -v h="$(field "$HEALTH" rps)" \
    'BEGIN { if (h > 0) printf "execute/health ratio: %.1f %% (goal >= 50 %%)\n", 100 * e / h }'
