#!/usr/bin/env bash
# tests/bench/hosts.sh [build-dir] — one app host against two behind nginx's upstream, in one run
# (docs/scaling.md, "Capacity model").
#
# Starts a throwaway stack with two app hosts (scripts/stack --hosts 2, test config, BENCH_WORKERS
# workers per host) in a temporary directory, loads the demo accounts and a generated catalogue
# (marketplace seed --tools BENCH_TOOLS), signs one user in, and then runs wrk through nginx with
# the same threads, connections and duration on:
#   1. GET /health through host 1's own port                  (the baseline)
#   2. the read-heavy mix through host 1's own port            (one app host)
#   3. the same mix through the upstream of both hosts         (two app hosts)
#   4. each route of the mix alone through the upstream        (the per-route figures of the model)
#   5. with BENCH_REPLICA=1 (the default) the stack also runs a read replica (scripts/stack --replica)
#      and the mix runs once more through host 1 with the replica stopped (every read on the primary)
#      and started again (tool views, review lists and categories on the replica); it prints the
#      requests the replica served (marketplace_replica_reads_total)
# The mix, per 10 requests: 4 tool views (GET /tools/{slug}, slugs of the catalogue in turn),
# 2 searches (GET /search?q=<word>), 2 review lists, 1 GET /categories, 1 signed-in GET /me.
# It prints requests/s, p50, p99 and errors of each, and the cluster poll's cost: the polls and
# changes counted in each host's /metrics. Both hosts share this machine's cores, so the figure of
# interest is what a second host costs (poll, upstream), not a speed-up. It prints figures; it is not a
# test. The stack is stopped at the end (Ctrl-C included) by the PIDs it recorded.
#
# Settings (environment): BENCH_DURATION (s per target, 10), BENCH_THREADS (2), BENCH_CONNECTIONS
# (16), BENCH_WARMUP (s, 2), BENCH_WORKERS (per host, 2 x CPUs), BENCH_TOOLS (2000), BENCH_WARM_ALL
# (s of unmeasured mix through both hosts before the first figure, 15), BENCH_REPLICA (1: with a replica).
# Needs: wrk, curl, jq, nginx, MariaDB (scripts/install-deps); builds the marketplace when missing.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq nginx mariadb
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WARMUP="${BENCH_WARMUP:-2}"
TOOLS="${BENCH_TOOLS:-2000}"
WARM_ALL="${BENCH_WARM_ALL:-15}"
REPLICA_RUN="${BENCH_REPLICA:-1}"

BIN="$BUILD_DIR/marketplace"
# shellcheck disable=SC2119  # no extra targets: the marketplace is all this bench runs
bench_build

bench_workdir hosts

# ---- the stack ------------------------------------------------------------------------------------
port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack with two app hosts in $STACK_DIR (port $port, $WORKERS workers per host)"
replica_opt=()
(( REPLICA_RUN )) && replica_opt=(--replica)
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --hosts 2 --set "workers=$WORKERS" "${replica_opt[@]}" \
    >"$TMP/stack.log" 2>&1 || { cat "$TMP/stack.log" >&2; die "the stack did not start"; }
env_get() { sed -n "s/^$1=//p" "$STACK_DIR/stack.env" | tail -n1; }
URL="$(env_get MKT_URL)"
HOST1="$(env_get MKT_HOST1_URL)"
HOST2="$(env_get MKT_HOST2_URL)"

say "seeding $TOOLS tools"
"$BIN" seed --tools "$TOOLS" --seed 1 --config "$(env_get MKT_CONFIG)" >"$TMP/seed.log" 2>&1 \
    || { tail -n 20 "$TMP/seed.log" >&2; die "seed failed"; }
sql() { mariadb --no-defaults --socket="$(env_get MKT_DB_SOCKET)" -u "$(id -un)" -N -B marketplace -e "$1"; }
TOKEN="$(curl -fsS -X POST "$URL/api/marketplace/auth/login" -H 'Content-Type: application/json' \
    --data '{"email":"buyer@demo.test","password":"demo-password"}' | jq -er .token)"

# ---- the mix --------------------------------------------------------------------------------------
{
    echo "local slugs = {"
    sql "SELECT CONCAT('\"', slug, '\",') FROM tools WHERE status = 'published' ORDER BY id LIMIT 500"
    echo "}"
    echo "local words = {\"json\", \"csv\", \"text\", \"fast\", \"convert\", \"clean\", \"diff\", \"hex\"}"
    echo "local token = \"$TOKEN\""
    cat <<'LUA'
local api = "/api/marketplace"
local n = 0
local only = os.getenv("BENCH_ROUTE") or ""
local function route(r, slug)
    if r == "tool" then return wrk.format("GET", api .. "/tools/" .. slug) end
    if r == "search" then return wrk.format("GET", api .. "/search?q=" .. words[(n % #words) + 1]) end
    if r == "reviews" then return wrk.format("GET", api .. "/tools/" .. slug .. "/reviews") end
    if r == "categories" then return wrk.format("GET", api .. "/categories") end
    return wrk.format("GET", api .. "/me", {["Authorization"] = "Bearer " .. token})
end
local mix = {"tool", "search", "tool", "reviews", "tool", "categories", "search", "tool", "reviews", "me"}
request = function()
    n = n + 1
    local slug = slugs[(n * 7919) % #slugs + 1]
    if only ~= "" then return route(only, slug) end
    return route(mix[(n % #mix) + 1], slug)
end
LUA
} >"$TMP/mix.lua"

metrics() {  # metrics HOST_URL NAME -> the counter's value
    curl -fsS "$1/api/marketplace/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
polls_before=$(( $(metrics "$HOST1" marketplace_cluster_poll_failures_total) ))

# Every worker builds its search index on its first searches (seconds on a large catalogue): the
# mix runs unmeasured through both hosts first, so no measurement pays for a build.
say "warming both hosts (${WARM_ALL}s of the mix, not measured)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARM_ALL}s" -s "$TMP/mix.lua" "$URL/" >/dev/null 2>&1 || true
bench_wrk health "$HOST1/api/marketplace/health"
bench_wrk one_host "$HOST1/" -s "$TMP/mix.lua"
bench_wrk two_hosts "$URL/" -s "$TMP/mix.lua"
for r in tool search reviews categories me; do
    export BENCH_ROUTE="$r"
    bench_wrk "route_$r" "$URL/" -s "$TMP/mix.lua"
done
unset BENCH_ROUTE
if (( REPLICA_RUN )); then
    "$STACK" replica-stop --dir "$STACK_DIR" >>"$TMP/stack.log" 2>&1
    sleep 2
    bench_wrk no_replica "$HOST1/" -s "$TMP/mix.lua"
    "$STACK" replica-start --dir "$STACK_DIR" >>"$TMP/stack.log" 2>&1
    sleep 3
    replica_before=$(( $(metrics "$HOST1" marketplace_replica_reads_total) ))
    bench_wrk with_replica "$HOST1/" -s "$TMP/mix.lua"
    replica_served=$(( $(metrics "$HOST1" marketplace_replica_reads_total) - replica_before ))
fi

# ---- the figures ----------------------------------------------------------------------------------
printf '\n%-34s %10s %9s %9s %7s\n' "target ($WORKERS workers/host, $CPUS cores)" "req/s" "p50 ms" "p99 ms" "errors"
row() { printf '%-34s %10s %9s %9s %7s\n' "$1" "${RPS[$2]}" "${P50[$2]}" "${P99[$2]}" "${ERRS[$2]}"; }
row "GET /health, host 1" health
row "read mix, 1 app host" one_host
row "read mix, 2 app hosts (upstream)" two_hosts
for r in tool search reviews categories me; do row "  route $r alone, 2 hosts" "route_$r"; done
if (( REPLICA_RUN )); then
    row "read mix, 1 host, replica stopped" no_replica
    row "read mix, 1 host, with the replica" with_replica
    printf 'requests the replica served during the last run: %s\n' "$replica_served"
fi
printf '\ncluster poll: host 1 applied %s changes, host 2 %s; poll failures on host 1 during the run: %s\n' \
    "$(metrics "$HOST1" marketplace_cluster_changes_total)" "$(metrics "$HOST2" marketplace_cluster_changes_total)" \
    "$(( $(metrics "$HOST1" marketplace_cluster_poll_failures_total) - polls_before ))"
errors=0
for k in "${!ERRS[@]}"; do errors=$(( errors + ERRS[$k] )); done
(( errors == 0 )) || die "$errors requests failed"
