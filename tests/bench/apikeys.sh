#!/usr/bin/env bash
# tests/bench/apikeys.sh — POST /tools/{tool}/execute of a trivial tool with an API key against the
# same with a session token and against GET /health, through nginx, in one run (wrk): requests/s,
# p50/p99 and the ratios. The key path adds its own authentication (cached per worker like a session),
# the per-key throttle in shared memory and the batched per-key usage count; the stack runs with
# api_key_rate_per_minute = 1000000 so the throttle counts every request without refusing any.
# Prints figures; it is not a pass/fail test.
#
#   tests/bench/apikeys.sh [BUILD_DIR]     (BENCH_DURATION seconds per run, default 10;
#                                           BENCH_WORKERS, default 2 x CPUs)
set -euo pipefail
# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq
bench_build
bench_workdir apikeys
THREADS=2 CONNECTIONS=16 WARMUP=2

STACK_DIR="$TMP/stack"
"$STACK" start --dir "$STACK_DIR" --bin "$BUILD_DIR/marketplace" --test --set "workers=$WORKERS" \
    --set api_key_rate_per_minute=1000000 >"$TMP/stack.log" 2>&1 || { cat "$TMP/stack.log" >&2; die "stack start failed"; }
URL="$(sed -n 's/^MKT_URL=//p' "$STACK_DIR/stack.env")"
API="$URL/api/marketplace"

post() { # path token body
    curl -sS -X POST "$API$1" -H 'Content-Type: application/json' ${2:+-H "Authorization: Bearer $2"} -d "$3"
}
register() {
    post /auth/register "" "{\"email\":\"bench-$$-$1-$RANDOM@example.test\",\"password\":\"bench-password-123\",\"display_name\":\"Bench $1\"}" |
        jq -r .token
}
DEV="$(register dev)"
BUYER="$(register buyer)"
post /developers "$DEV" '{"display_name":"Bench Lab"}' >/dev/null
SLUG="bench-keys-$$-$RANDOM"
post /tools "$DEV" "{\"slug\":\"$SLUG\",\"name\":\"Bench inc\",\"category\":\"developer-tools\",
  \"input_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},
  \"output_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}},
  \"code\":\"function handler(input) return {n = input.n + 1} end\",
  \"tests\":[{\"name\":\"inc\",\"input\":{\"n\":1},\"expected\":{\"n\":2}}]}" | jq -e .id >/dev/null || die "tool not created"
post "/tools/$SLUG/publish" "$DEV" '{"version":"1.0.0"}' | jq -e .version >/dev/null || die "tool not published"
KEY="$(post /me/api-keys "$BUYER" '{"name":"bench"}' | jq -r .key)"
[[ "$KEY" == mk_* ]] || die "no API key"
for credential in "$BUYER" "$KEY"; do
    [[ "$(post "/tools/$SLUG/execute" "$credential" '{"input":{"n":41}}' | jq -r .output.n)" == 42 ]] || die "execute does not work"
done

for who in session key; do
    credential="$BUYER"
    [[ "$who" == key ]] && credential="$KEY"
    cat >"$TMP/$who.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"input":{"n":41}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $credential"
LUA
done

say "$WORKERS workers, $CPUS CPUs"
bench_wrk health "$API/health"
bench_wrk session "$API/tools/$SLUG/execute" -s "$TMP/session.lua"
bench_wrk key "$API/tools/$SLUG/execute" -s "$TMP/key.lua"
sleep 2 # the workers write back the per-key counts when idle
USED="$(curl -sS "$API/me/api-keys" -H "Authorization: Bearer $BUYER" | jq -r '.items[0].requests_today')"

printf '%-34s %12s %10s %10s %8s\n' endpoint requests/s p50_ms p99_ms errors
row() { printf '%-34s %12s %10s %10s %8s\n' "$1" "${RPS[$2]}" "${P50[$2]}" "${P99[$2]}" "${ERRS[$2]}"; }
row "GET /health" health
row "POST execute (session token)" session
row "POST execute (API key)" key
awk -v k="${RPS[key]}" -v s="${RPS[session]}" -v h="${RPS[health]}" 'BEGIN {
    if (s > 0) printf "API key / session execute: %.1f %%\n", 100 * k / s
    if (h > 0) printf "API key execute / health: %.1f %%\n", 100 * k / h }'
echo "requests the key's usage counted today: $USED (wrk answered ${ANSWERED[key]} in the measured run, plus its warm-up and the check)"
