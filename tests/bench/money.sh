#!/usr/bin/env bash
# tests/bench/money.sh [build-dir] — the money benchmark (completed purchases and payouts against MariaDB doing the same writes).
#
# Starts a throwaway stack (scripts/stack, TEST config: --test, plus workers = 2 x CPUs and
# min_payout_cents = the payout size) in a temporary directory, then runs bench_money_load
# (tests/bench/money_load.c) against it:
#   a) completed purchases/s: POST /transactions (unique Idempotency-Key) + a payment.succeeded webhook
#      signed with the stack's secret (HMAC-SHA256), per purchase, through nginx
#   b) payouts/s: POST /developers/me/payouts (small amounts against the balance the purchases made)
#   c) the MariaDB baseline on the same server in the same run: transactions with the same row writes
#      as one completed purchase (3 transactions, 12 writes) and one payout (1 transaction, 5 writes)
#      on scratch tables, same concurrency, through the stack's socket with the server's credentials
# and prints rate, p50/p99 and the ratio server/baseline. It prints figures; it is not a test.
# The stack is stopped at the end (Ctrl-C included) by the PIDs it recorded (scripts/stack stop).
#
# Settings (environment): BENCH_DURATION (s per phase, 10), BENCH_CLIENTS (16), BENCH_WORKERS
# (2 x CPUs), BENCH_PRICE (cents, 5000), BENCH_PAYOUT (cents, 100).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need nginx curl
CLIENTS="${BENCH_CLIENTS:-16}"
PRICE="${BENCH_PRICE:-5000}"
PAYOUT="${BENCH_PAYOUT:-100}"

BIN="$BUILD_DIR/marketplace"
LOAD="$BUILD_DIR/tests/bench/bench_money_load"
bench_build "$LOAD"

bench_workdir money

port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers, min_payout_cents=$PAYOUT)"
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test \
    --set "workers=$WORKERS" --set "min_payout_cents=$PAYOUT" >"$TMP/stack.log" 2>&1 ||
    { cat "$TMP/stack.log" >&2; die "the stack did not start"; }

echo "money bench: build $BUILD_DIR (${BUILD_TYPE:-?}), $CPUS CPUs, $WORKERS workers, stack config: test (--test)," \
     "client and server on the same host"
MKT_TEST_STACK="$STACK_DIR" "$LOAD" -c "$CLIENTS" -d "$DURATION" --price "$PRICE" --payout "$PAYOUT"
