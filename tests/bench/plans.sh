#!/usr/bin/env bash
# tests/bench/plans.sh [build-dir] — what exact quota accounting costs an execution.
#
# Starts a throwaway stack (scripts/stack, TEST config, workers = 2 x CPUs) in a temporary directory and,
# through the API: a developer, two copies of the same trivial published tool (input {n} -> {n + 1}),
# one sold on a free plan with a quota (10^12 executions a month: never reached, so every execution
# takes a unit through core/quota's shared pool and its leases), the other on a free plan without a
# quota, and a buyer. Then wrk through nginx, in one run and alternating for BENCH_ROUNDS rounds (each
# target keeps its best round): GET /health, POST /tools/{tool}/execute of the unlimited copy and of the
# quota-limited copy. Prints the table, the quota's cost against the unlimited execute rate (goal:
# under 10 %) and what GET /me/usage counted afterwards (the pool leases quota_lease_max units per
# MariaDB transaction and writes back about once a second per worker). Prints figures; it is not a
# test. The stack is stopped at the end (Ctrl-C included).
#
# Settings (environment): BENCH_DURATION (s per target and round, 10), BENCH_THREADS (2),
# BENCH_CONNECTIONS (16), BENCH_WARMUP (s, 2), BENCH_WORKERS (2 x CPUs), BENCH_ROUNDS (3).
# Needs: wrk, curl, jq, nginx, MariaDB.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq nginx mariadb
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WARMUP="${BENCH_WARMUP:-2}"
ROUNDS="${BENCH_ROUNDS:-3}"

BIN="$BUILD_DIR/marketplace"
bench_build
bench_workdir plans

port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers)"
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --set "workers=$WORKERS" \
    --set api_key_rate_per_minute=1000000 \
    >"$TMP/stack.log" 2>&1 || { cat "$TMP/stack.log" >&2; die "the stack did not start"; }
URL="$(sed -n 's/^MKT_URL=//p' "$STACK_DIR/stack.env" | tail -n1)"
API="$URL/api/marketplace"

# call METHOD PATH TOKEN [BODY]: one JSON request; the answer on stdout, dies on any 4xx/5xx.
call() {
    curl -sS --fail-with-body -X "$1" "$API$2" ${3:+-H "Authorization: Bearer $3"} \
        -H 'Content-Type: application/json' ${4:+--data-binary "$4"} || die "$1 $2 failed"
}

# ---- data ---------------------------------------------------------------------------------------------
run_id="$(date +%s)-$$"
DEV="$(call POST /auth/register "" \
    "{\"email\":\"bench-dev-$run_id@example.test\",\"password\":\"benchmark password\",\"display_name\":\"Bench\"}" |
    jq -er .token)"
BUYER="$(call POST /auth/register "" \
    "{\"email\":\"bench-buyer-$run_id@example.test\",\"password\":\"benchmark password\",\"display_name\":\"Buyer\"}" |
    jq -er .token)"
call POST /developers "$DEV" '{"display_name":"Bench Plans"}' >/dev/null
KEY="$(call POST /me/api-keys "$BUYER" '{"name":"bench"}' | jq -er .key)"

tool() { # slug plans-json
    call POST /tools "$DEV" "$(jq -cn --arg s "$1" '{slug: $s, name: "Bench counter", category: "developer-tools",
        input_schema: {type: "object", properties: {n: {type: "integer"}}, required: ["n"]},
        output_schema: {type: "object", properties: {n: {type: "integer"}}},
        code: "function handler(input) return {n = input.n + 1} end",
        tests: [{name: "inc", input: {n: 1}, expected: {n: 2}}]}')" >/dev/null
    call POST "/tools/$1/publish" "$DEV" '{"version": "1.0.0"}' >/dev/null
    call PUT "/tools/$1/plans" "$DEV" "$2" >/dev/null
    [[ "$(call POST "/tools/$1/execute" "$BUYER" '{"input": {"n": 41}}' | jq -r .output.n)" == 42 ]] ||
        die "execute of $1 does not work"
}
UNLIMITED="bench-plans-open-$run_id"
LIMITED="bench-plans-quota-$run_id"
tool "$UNLIMITED" '[{"name": "Free", "model": "free"}]'
tool "$LIMITED" '[{"name": "Free", "model": "free", "quota": 1000000000000}]'

cat >"$TMP/execute.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input":{"n":41}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

# ---- rounds ---------------------------------------------------------------------------------------------
declare -A BEST_RPS BEST_P50 BEST_P99 TOTAL_ERRS
ROUND_LINES=()
keep() { # name key
    TOTAL_ERRS[$1]=$(( ${TOTAL_ERRS[$1]:-0} + ${ERRS[$2]} ))
    if awk -v a="${RPS[$2]}" -v b="${BEST_RPS[$1]:-0}" 'BEGIN { exit !(a > b) }'; then
        BEST_RPS[$1]="${RPS[$2]}" BEST_P50[$1]="${P50[$2]}" BEST_P99[$1]="${P99[$2]}"
    fi
}
for round in $(seq 1 "$ROUNDS"); do
    say "round $round of $ROUNDS"
    bench_wrk "health-$round" "$API/health"
    keep health "health-$round"
    bench_wrk "open-$round" "$API/tools/$UNLIMITED/execute" -s "$TMP/execute.lua"
    keep open "open-$round"
    bench_wrk "quota-$round" "$API/tools/$LIMITED/execute" -s "$TMP/execute.lua"
    keep quota "quota-$round"
    ROUND_LINES+=("$(printf 'round %s: /health %s, without quota %s, with quota %s requests/s' "$round" \
        "${RPS[health-$round]}" "${RPS[open-$round]}" "${RPS[quota-$round]}")")
done

sleep 2 # every worker writes back what it used (about once a second)
usage="$(call GET "/me/usage?tool=$LIMITED" "$BUYER" | jq -c '.items[0] | {used, quota}')"
answered=0
for round in $(seq 1 "$ROUNDS"); do answered=$(( answered + ${ANSWERED[quota-$round]:-0} )); done

echo
printf 'plans bench: %s rounds of %ss, wrk -t%s -c%s, %s workers, %s CPUs, %s build\n' "$ROUNDS" "$DURATION" \
    "$THREADS" "$CONNECTIONS" "$WORKERS" "$CPUS" "${BUILD_TYPE:-?}"
printf '%-36s %12s %10s %10s %8s\n' target requests/s p50_ms p99_ms errors
printf '%-36s %12s %10s %10s %8s\n' "GET /health" "${BEST_RPS[health]}" "${BEST_P50[health]}" "${BEST_P99[health]}" \
    "${TOTAL_ERRS[health]}"
printf '%-36s %12s %10s %10s %8s\n' "execute, plan without quota" "${BEST_RPS[open]}" "${BEST_P50[open]}" \
    "${BEST_P99[open]}" "${TOTAL_ERRS[open]}"
printf '%-36s %12s %10s %10s %8s\n' "execute, plan with quota" "${BEST_RPS[quota]}" "${BEST_P50[quota]}" \
    "${BEST_P99[quota]}" "${TOTAL_ERRS[quota]}"
awk -v o="${BEST_RPS[open]}" -v q="${BEST_RPS[quota]}" -v h="${BEST_RPS[health]}" 'BEGIN {
    if (o > 0) printf "quota accounting costs %.1f %% of the unlimited execute rate (goal: under 10 %%)\n", 100 * (o - q) / o
    if (h > 0) printf "execute/health: %.1f %% without quota, %.1f %% with\n", 100 * o / h, 100 * q / h }'
printf '%s\n' "${ROUND_LINES[@]}"
printf 'quota-limited executions measured (plus warm-ups and the check): %s; GET /me/usage says %s\n' "$answered" "$usage"
