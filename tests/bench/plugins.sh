#!/usr/bin/env bash
# tests/bench/plugins.sh [build-dir] — what plugin chains cost an execution, and what resolving a set costs.
#
# Starts a throwaway stack (scripts/stack, TEST config, workers = 2 x CPUs) in a temporary directory and,
# through the API: a developer, 50 trivial plugins (tool:beforeExecute returning its input, priorities
# 0..49), four copies of the same trivial published tool (input {n} -> {n + 1}) with 0, 1, 10 and 50 of
# those plugins attached, and a diamond-shaped registry for resolution (10 bases with two versions each,
# 50 tops each depending on two bases). Then, in one run:
#   1. wrk through nginx on POST /tools/{tool}/execute of each copy (same threads, connections and
#      duration), the added p50 against the copy without plugins, per execution and per plugin;
#      "hooks ms" is the chain's own time as the server measured it (the trace's duration_us summed,
#      median of 50 traced runs), free of the load on the machine between requests;
#   2. PUT /tools/{tool}/plugins of the 50 diamond tops (60 plugins resolved and stored), timed with curl
#      (median of BENCH_PUTS): the database reads of the registry, resolution, the transaction;
#   3. build/tests/bench/bench_plugins: the same chains and a 50-plugin resolution in-process.
# Goals: a chain of 10 adds under 1 ms per execution; resolving 50 takes under 5 ms.
# Prints figures; it is not a test. The stack is stopped at the end (Ctrl-C included).
#
# Settings (environment): BENCH_DURATION (s per target, 10), BENCH_THREADS (1), BENCH_CONNECTIONS (1:
# latency without queueing, so the p50 difference is the chain's cost), BENCH_WARMUP (s, 2),
# BENCH_WORKERS (2 x CPUs), BENCH_PUTS (20), BENCH_ROUNDS (3: the four targets alternate, each keeps its
# best p50). Needs: wrk, curl, jq, nginx, MariaDB.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq nginx mariadb
THREADS="${BENCH_THREADS:-1}"
CONNECTIONS="${BENCH_CONNECTIONS:-1}"
WARMUP="${BENCH_WARMUP:-2}"
PUTS="${BENCH_PUTS:-20}"
ROUNDS="${BENCH_ROUNDS:-3}"

BIN="$BUILD_DIR/marketplace"
bench_build "$BUILD_DIR/tests/bench/bench_plugins"
bench_workdir plugins

port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers)"
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --set "workers=$WORKERS" \
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
call POST /developers "$DEV" '{"display_name":"Bench Plugins"}' >/dev/null

say "publishing 50 trivial plugins and the diamond registry"
hook='function hook(input, context) return input end'
plugin() { # name version priority dependencies-json
    local body
    body="$(jq -cn --arg n "$1" --arg v "$2" --argjson p "$3" --argjson d "$4" --arg h "$hook" \
        '{name: $n, version: $v, hooks: {"tool:beforeExecute": $h}, dependencies: $d, priority: $p}')"
    if [[ "$2" == 1.0.0 ]]; then
        call POST /plugins "$DEV" "$body" >/dev/null
    else
        call POST "/plugins/$1/versions" "$DEV" "$(jq -c 'del(.name)' <<<"$body")" >/dev/null
    fi
}
prefix="b${run_id//-/}"
for i in $(seq -w 0 49); do plugin "$prefix-t$i" 1.0.0 "$((10#$i))" '{}'; done
for i in $(seq 0 9); do
    plugin "$prefix-base$i" 1.0.0 0 '{}'
    plugin "$prefix-base$i" 1.2.0 0 '{}'
done
for i in $(seq 0 49); do
    plugin "$prefix-top$i" 1.0.0 "$(( i % 7 ))" \
        "{\"$prefix-base$(( i % 10 ))\": \"^1.0.0\", \"$prefix-base$(( (i * 7 + 3) % 10 ))\": \"~1.2.0\"}"
done

set_of() { # count: the first count trivial plugins as a PUT body
    local i out="["
    for (( i = 0; i < $1; i++ )); do
        out+="$( (( i )) && printf ',')$(printf '{"name":"%s-t%02d","range":"^1"}' "$prefix" "$i")"
    done
    printf '%s]' "$out"
}

declare -A TOOL
for n in 0 1 10 50; do
    slug="bench-chain-$n-$run_id"
    call POST /tools "$DEV" "{\"slug\":\"$slug\",\"name\":\"Bench chain $n\",\"category\":\"developer-tools\",
      \"input_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]},
      \"output_schema\":{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}},
      \"code\":\"function handler(input) return {n = input.n + 1} end\",
      \"tests\":[{\"name\":\"inc\",\"input\":{\"n\":1},\"expected\":{\"n\":2}}]}" >/dev/null
    call POST "/tools/$slug/publish" "$DEV" '{"version":"1.0.0"}' >/dev/null
    (( n )) && call PUT "/tools/$slug/plugins" "$DEV" "$(set_of "$n")" >/dev/null
    out="$(call POST "/tools/$slug/execute?trace=1" "$DEV" '{"input":{"n":41}}')"
    [[ "$(jq -r '.output.n' <<<"$out")" == 42 && "$(jq -r '.trace | length' <<<"$out")" == "$n" ]] ||
        die "execute with $n plugins does not work: $out"
    TOOL[$n]="$slug"
done

# ---- 1. executions through nginx ------------------------------------------------------------------------
cat >"$TMP/execute.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"input":{"n":41}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $BUYER"
EOF
# Rounds alternate the four tools and each keeps its best p50, so a burst of load from elsewhere on
# the machine during one target does not pass for the chain's cost.
declare -A BEST_P50 BEST_RPS BEST_P99 ALL_ERRS
for round in $(seq "$ROUNDS"); do
    for n in 0 1 10 50; do
        bench_wrk "$n-$round" "$API/tools/${TOOL[$n]}/execute" -s "$TMP/execute.lua"
        if [[ -z "${BEST_P50[$n]:-}" ]] || awk -v a="${P50[$n-$round]}" -v b="${BEST_P50[$n]}" 'BEGIN { exit !(a < b) }'; then
            BEST_P50[$n]="${P50[$n-$round]}" BEST_RPS[$n]="${RPS[$n-$round]}" BEST_P99[$n]="${P99[$n-$round]}"
        fi
        ALL_ERRS[$n]=$(( ${ALL_ERRS[$n]:-0} + ${ERRS[$n-$round]} ))
    done
done

# The chain's own time as the server measured it: the sum of the trace's duration_us (median of 50 runs).
declare -A TRACE_MS
for n in 0 1 10 50; do
    TRACE_MS[$n]="$(for _ in $(seq 50); do
        call POST "/tools/${TOOL[$n]}/execute?trace=1" "$DEV" '{"input":{"n":41}}' | jq '[.trace[].duration_us] | add // 0'
    done | sort -n | awk '{ a[NR] = $1 } END { printf "%.3f", a[int((NR + 1) / 2)] / 1000 }')"
done

# ---- 2. resolution over HTTP ---------------------------------------------------------------------------
slug="bench-resolve-$run_id"
call POST /tools "$DEV" "{\"slug\":\"$slug\",\"name\":\"Bench resolve\",\"category\":\"developer-tools\",
  \"input_schema\":{\"type\":\"object\"},\"output_schema\":{\"type\":\"object\"},
  \"code\":\"function handler(input) return input end\",\"tests\":[]}" >/dev/null
tops="$(for i in $(seq 0 49); do printf '{"name":"%s-top%d","range":"^1"}\n' "$prefix" "$i"; done | jq -cs .)"
resolved="$(call PUT "/tools/$slug/plugins" "$DEV" "$tops" | jq '.plugins | length')"
[[ "$resolved" == 60 ]] || die "the diamond set resolved to $resolved plugins, not 60"
for _ in $(seq "$PUTS"); do
    curl -sS -o /dev/null -w '%{time_total}\n' -X PUT "$API/tools/$slug/plugins" -H "Authorization: Bearer $DEV" \
        -H 'Content-Type: application/json' --data-binary "$tops"
done | sort -n >"$TMP/puts.txt"
PUT_MEDIAN="$(awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] * 1000 }' "$TMP/puts.txt")"

# ---- the table ---------------------------------------------------------------------------------------
echo
echo "plugins bench: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s x $ROUNDS rounds (best p50 of each), $WORKERS workers, $CPUS CPUs, build $BUILD_TYPE"
printf '%-34s %10s %9s %9s %14s %14s %12s %7s\n' "POST /tools/{tool}/execute" "req/s" "p50 ms" "p99 ms" \
    "added p50 ms" "per plugin ms" "hooks ms" errors
for n in 0 1 10 50; do
    added="$(awk -v a="${BEST_P50[$n]}" -v b="${BEST_P50[0]}" 'BEGIN { printf "%.3f", a - b }')"
    per="$(awk -v a="${BEST_P50[$n]}" -v b="${BEST_P50[0]}" -v n="$n" 'BEGIN { if (n) printf "%.3f", (a - b) / n; else print "-" }')"
    printf '%-34s %10s %9s %9s %14s %14s %12s %7s\n' "with $n trivial plugins" "${BEST_RPS[$n]}" "${BEST_P50[$n]}" \
        "${BEST_P99[$n]}" "$added" "$per" "${TRACE_MS[$n]}" "${ALL_ERRS[$n]}"
done
printf '%-34s %10s %9s\n' "PUT 50 diamond tops (60 resolved)" "-" "$PUT_MEDIAN"
echo
"$BUILD_DIR/tests/bench/bench_plugins" "${BENCH_INPROCESS_SECONDS:-2}"
