#!/usr/bin/env bash
# tests/bench/seed.sh [build-dir] — how long `marketplace seed --tools N` takes on a fresh database.
#
# For each N it starts a throwaway stack (scripts/stack, the production MariaDB settings unless
# BENCH_SEED_STACK_TEST=1 asks for the test stack's relaxed durability) in a temporary directory,
# times `marketplace seed --tools N --seed S` (the demo accounts, then the catalogue), times the same
# command again (it finds everything there and writes nothing), prints the row counts the catalogue
# made and the database's size, and stops the stack (Ctrl-C included) by the PIDs it recorded. It
# prints figures; it is not a test.
#
# Settings (environment): BENCH_SEED_TOOLS (the Ns, "10000 100000"), BENCH_SEED (the seed, 1),
# BENCH_SEED_STACK_TEST (0).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need nginx mysql awk
SIZES="${BENCH_SEED_TOOLS:-10000 100000}"
SEED="${BENCH_SEED:-1}"
STACK_TEST=()
[[ "${BENCH_SEED_STACK_TEST:-0}" == 1 ]] && STACK_TEST=(--test)

BIN="$BUILD_DIR/marketplace"
# shellcheck disable=SC2119  # no extra targets: the marketplace is all this bench runs
bench_build

bench_workdir seed

# seconds since the epoch, to the nanosecond; since START: seconds elapsed
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }

# sql DIR QUERY: one value from the stack's database, with the server's own credentials.
sql() {
    mysql --socket="$(sed -n 's/^MKT_DB_SOCKET=//p' "$1/stack.env")" -u marketplace \
        -p"$(cat "$1/secrets/db_password")" -N -B marketplace -e "$2"
}

echo "seed bench: build $BUILD_DIR (${BUILD_TYPE:-?}), $CPUS CPUs, seed $SEED," \
     "MariaDB settings: ${STACK_TEST[*]:-production (durable)}"
for n in $SIZES; do
    STACK_DIR="$TMP/stack-$n"
    port="$(bench_free_port)"
    say "starting a fresh stack in $STACK_DIR (port $port)"
    "$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" "${STACK_TEST[@]}" >"$TMP/stack-$n.log" 2>&1 ||
        { cat "$TMP/stack-$n.log" >&2; die "the stack did not start"; }
    start="$(now)"
    "$BIN" seed --config "$STACK_DIR/marketplace.conf" --tools "$n" --seed "$SEED" >"$TMP/seed-$n.out" 2>"$TMP/seed-$n.err" ||
        { cat "$TMP/seed-$n.err" "$TMP/seed-$n.out" >&2; die "seed --tools $n failed"; }
    first="$(since "$start")"
    start="$(now)"
    "$BIN" seed --config "$STACK_DIR/marketplace.conf" --tools "$n" --seed "$SEED" >"$TMP/seed-$n.again" 2>"$TMP/seed-$n.again.err" ||
        { cat "$TMP/seed-$n.again.err" "$TMP/seed-$n.again" >&2; die "the second seed --tools $n failed"; }
    again="$(since "$start")"
    rows="$(sql "$STACK_DIR" "SELECT CONCAT((SELECT COUNT(*) FROM tools), ' tools, ', (SELECT COUNT(*) FROM tool_tags),
        ' tags, ', (SELECT COUNT(*) FROM tool_versions), ' versions, ', (SELECT COUNT(*) FROM reviews), ' reviews, ',
        (SELECT COUNT(*) FROM tool_execution_days), ' execution days, ', (SELECT COUNT(*) FROM users), ' users')")"
    # fresh statistics first: information_schema's sizes of a table just filled lag far behind
    sql "$STACK_DIR" "ANALYZE TABLE tools, tool_tags, tool_versions, reviews, tool_execution_days, users" >/dev/null
    size="$(sql "$STACK_DIR" "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.tables
        WHERE table_schema = 'marketplace'")"
    printf 'seed --tools %-7s %8.1f s  (%.0f tools/s)   again: %.1f s (%s)\n' "$n" "$first" \
        "$(awk -v n="$n" -v s="$first" 'BEGIN { print n / s }')" "$again" "$(head -c 60 "$TMP/seed-$n.again" | tr -d '\n')"
    printf '    rows: %s; %s MiB of data and indexes\n' "$rows" "$size"
    "$STACK" stop --dir "$STACK_DIR" >&2 || true
    STACK_DIR=""
done
