#!/usr/bin/env bash
# tests/bench/search.sh [build-dir] — the search benchmark: GET /search, /search/suggest and
# /tools/trending on generated catalogues of 10,000 and 100,000 tools.
#
# For each catalogue size N (BENCH_SEARCH_SIZES) it starts a throwaway stack (scripts/stack, TEST
# config: --test, plus workers = 2 x CPUs) in a temporary directory. scripts/stack fixes MariaDB's
# buffer pool at 128M and has no setting for it, so the bench resizes it on the running server
# (innodb_buffer_pool_size is dynamic; BENCH_SEARCH_BUFFER_POOL, 1G: the 100,000-tool database is
# about half of that) before loading `marketplace seed --tools N --seed 1`.
# The seed scores every tool that ran (its execution days); the bench replaces those scores with its
# own long tail, inserting tool_activity rows straight into MariaDB (over the stack's socket, as the
# stack's admin user) for 15% of the tools: weights 1 to 1000 with most near 1, the newest event spread over the last 10 days (so
# about 70% fall in trending's default 7-day window), score_log = log2(weight) + t / 72 h as
# core/trending writes it for one event. Direct SQL is the bench's shortcut, not how the product
# writes activity (an execution, a purchase or a review does, one upsert each).
#
# The query words come from the seeded data (search_terms, the title words of core/search), picked
# on the first size and reused on the others so the sizes compare the same queries:
#   rare      the alphabetic title word of 4+ letters in the fewest tools (at least 2)
#   common    the title word in the most tools; its share of the published tools (FULLTEXT, the
#             exact word) is printed and must be >= 20%
#   two       common plus the title word most often beside it that is not a category
#   category  common with category = the category with the most tools
#   tag       tags = the most used tag (no text; relevance without text means rating)
#   rating    sort=rating, no text, no filter
#   page 50   page 50 of common (per_page 20: OFFSET 980)
#   suggest   /search/suggest?q= the first 2 letters of the most common first word of a name
#   trending  GET /tools/trending (7 days, page 1)
# Each runs through nginx with wrk, same threads, connections and duration, /health first as the
# baseline in the same run, each once the workers are idle again (what a slow target leaves queued
# would slow the next one); the table has requests/s, the requests answered in the duration, p50,
# p99, the ratio to /health, non-2xx and socket errors (any fails the script), the latency of one
# request at a time (median of 5: the cost without queueing) and the result total of each
# (suggestions: their count).
# Then, for every query, the statements it sends, as MariaDB's general log recorded them for one
# request (so they stay true to core/search.c and core/activity.c), each with its EXPLAIN and its
# ANALYZE FORMAT=JSON r_total_time_ms, and the full ANALYZE of the slowest one. After every size: the
# N-to-N cost ratios (p50 and requests/s) per query, and the goals: p99 < 20 ms for every query at the
# largest size, suggest p99 < 5 ms, the smallest-to-largest ratio under 2. It prints figures; it is
# not a test. The stack is stopped at the end (Ctrl-C included) by the PIDs it recorded.
#
# The table is what users see: a worker reuses its answer to the same query for up to a second
# (search_answer_cache_ms) until a write changes its index. After it, the searches run again with
# that cache off (a reload with search_answer_cache_ms = 0), every request running the index.
# Then the uncached searches, suggest and trending once more with BENCH_LIGHT_CONNECTIONS connections
# (one per CPU by default), the response time of a busy server below saturation: with 16 connections
# on 2 cores a request mostly queues behind the others, so that table measures capacity.
# After each size's tables: the same queries on the in-memory index in-process (bench_search_index,
# the CPU time of one query over the exported documents).
# Settings (environment): BENCH_SEARCH_SIZES ("10000 100000"), BENCH_DURATION (s per target, 10),
# BENCH_THREADS (2), BENCH_CONNECTIONS (16), BENCH_WARMUP (s, 2), BENCH_WORKERS (2 x CPUs),
# BENCH_TIMEOUT (s, 30: wrk's per-request timeout), BENCH_SEARCH_BUFFER_POOL (1G), BENCH_SEARCH_EXPLAIN
# (1; 0 skips the statements), BENCH_LIGHT_CONNECTIONS (CPUs), BENCH_LIGHT_DURATION (s, 5).
# Needs: wrk, curl, jq, nginx, MariaDB (scripts/install-deps); builds the marketplace when missing.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq nginx mariadb
SIZES="${BENCH_SEARCH_SIZES:-10000 100000}"
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WARMUP="${BENCH_WARMUP:-2}"
BUFFER_POOL="${BENCH_SEARCH_BUFFER_POOL:-1G}"
EXPLAIN="${BENCH_SEARCH_EXPLAIN:-1}"
# A request slower than wrk's default 2 s would count as a socket error, not as a latency; this stays
# under nginx's fastcgi_read_timeout (60 s), so a slow query is measured as slow.
TIMEOUT="${BENCH_TIMEOUT:-30}"
LIGHT_CONNECTIONS="${BENCH_LIGHT_CONNECTIONS:-$CPUS}"
LIGHT_DURATION="${BENCH_LIGHT_DURATION:-5}"
SEED=1
HALF_LIFE_S=$(( 72 * 3600 ))  # activity_half_life_hours' default, which the test config keeps

BIN="$BUILD_DIR/marketplace"
bench_build "$BUILD_DIR/tests/bench/bench_search_index"

bench_workdir search

# ---- the stack ------------------------------------------------------------------------------------
env_get() { sed -n "s/^$1=//p" "$STACK_DIR/stack.env" | tail -n1; }
sql() { mariadb --no-defaults --socket="$DB_SOCKET" -u "$(id -un)" --batch --skip-column-names marketplace "$@"; }
sql_table() { mariadb --no-defaults --socket="$DB_SOCKET" -u "$(id -un)" --table marketplace "$@"; }

stack_start() {  # stack_start N
    STACK_DIR="$TMP/stack-$1"
    local port
    port="$(bench_free_port)"
    say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers)"
    "$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --set "workers=$WORKERS" \
        >"$TMP/stack-$1.log" 2>&1 || { cat "$TMP/stack-$1.log" >&2; die "the stack did not start"; }
    URL="$(env_get MKT_URL)"
    API="$URL/api/marketplace"
    DB_SOCKET="$(env_get MKT_DB_SOCKET)"
    [[ -n "$URL" && -S "$DB_SOCKET" ]] || die "incomplete $STACK_DIR/stack.env"
    buffer_pool_resize
}

stack_stop() {
    "$STACK" stop --dir "$STACK_DIR" >&2 || true
    STACK_DIR=""
}

# The resize runs in the background in chunks; the size reads back as asked once it is done.
buffer_pool_resize() {
    local want
    want="$(numfmt --from=iec "$BUFFER_POOL")"
    sql -e "SET GLOBAL innodb_buffer_pool_size = $want"
    for _ in $(seq 300); do
        [[ "$(sql -e 'SELECT @@innodb_buffer_pool_size')" -ge "$want" ]] && return 0
        sleep 0.1
    done
    die "the buffer pool did not grow to $BUFFER_POOL: $(sql -e "SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'")"
}

# ---- the catalogue and its activity ---------------------------------------------------------------
seed_catalogue() {  # seed_catalogue N
    local start=$SECONDS
    say "seed --tools $1 --seed $SEED"
    "$BIN" seed --config "$STACK_DIR/marketplace.conf" --tools "$1" --seed "$SEED" >"$TMP/seed-$1.out" 2>&1 ||
        { tail -n 20 "$TMP/seed-$1.out" >&2; die "seed --tools $1 failed"; }
    SEED_S[$1]=$(( SECONDS - start ))
}

# One event per tool (the newest), as core/trending scores it: log2(w) + t / h. Weights 1 + 1000 / k
# for k uniform in 1..1000 (most tools near 1, a few near 1000); CRC32 keeps it deterministic.
seed_activity() {
    sql <<SQL
DELETE FROM tool_activity;
INSERT INTO tool_activity (tool_id, score_log, last_at)
SELECT a.id, LOG2(a.w) + UNIX_TIMESTAMP(a.at) / $HALF_LIFE_S, a.at
  FROM (SELECT t.id, 1 + 1000 / (1 + CRC32(CONCAT('w', t.id)) % 1000) AS w,
               UTC_TIMESTAMP(6) - INTERVAL CRC32(CONCAT('t', t.id)) % (10 * 86400) SECOND AS at
          FROM tools t WHERE t.status = 'published' AND CRC32(CONCAT('a', t.id)) % 100 < 15) a;
ANALYZE TABLE tools, tool_tags, tool_activity, search_documents, search_terms, search_vocabulary;
SQL
} >/dev/null

# Every worker builds its in-memory index in batches when idle (again when a catalogue's worth of
# changes waits) and applies a smaller burst of changes (seed_activity writes one per active tool) a
# part at a time: until then SQL answers. The wrk runs wait until every worker's last word in the log
# is a complete index of all the published tools ("N tools built" or "caught up ...: N tools"), twice
# in a row with searches in between (a search makes a worker read the feed and find a burst).
workers_ready() {  # workers_ready N_PUBLISHED
    local log="$STACK_DIR/log/marketplace.log" pid last
    for pid in $(pgrep -P "$(env_get MKT_MASTER_PID)"); do
        last="$(grep -E "^marketplace\[$pid\] info: search: (building|in-memory index)" "$log" | tail -n1)"
        [[ "$last" == *"index of $1 tools built"* || "$last" == *"caught up with the change feed: $1 tools" ]] ||
            return 1
    done
}
wait_indexes() {  # wait_indexes N_PUBLISHED
    local ready=0
    for _ in $(seq 900); do
        for _ in $(seq $(( 2 * WORKERS ))); do curl -s -o /dev/null "$API/search/suggest?q=zz"; done
        if workers_ready "$1"; then
            ready=$(( ready + 1 ))
            (( ready >= 2 )) && return 0
        else
            ready=0
        fi
        sleep 1
    done
    say "the workers' indexes were not all built within 15 minutes; measuring anyway"
}

# The in-memory index in-process (tests/bench/search_index_bench.c) on the same documents, exported
# with the columns core/search.c reads (SEARCH_MEM_COLUMNS), and the same queries: CPU time per
# query, without nginx, FastCGI, MariaDB or queueing.
in_process() {  # in_process N
    local docs="$TMP/docs-$1.tsv"
    sql -e "SELECT t.id, s.slug, s.name_norm, s.title, s.body, t.category, t.pricing_model, t.price_cents,
        t.rating_count, t.rating_sum, t.downloads, t.developer_id,
        CAST(UNIX_TIMESTAMP(t.published_at) * 1000000 AS SIGNED), a.score_log,
        (SELECT GROUP_CONCAT(g.tag SEPARATOR ' ') FROM tool_tags g WHERE g.tool_id = t.id), t.name,
        CAST(UNIX_TIMESTAMP(a.last_at) * 1000000 AS SIGNED)
        FROM search_documents s JOIN tools t ON t.id = s.tool_id LEFT JOIN tool_activity a ON a.tool_id = t.id
        WHERE t.status = 'published' ORDER BY t.id" >"$docs"
    echo
    echo "-- the in-memory index in-process at $1 tools (bench_search_index: CPU time of one query, 200 runs)"
    "$BUILD_DIR/tests/bench/bench_search_index" "$docs" 200 "q=$RARE" "q=$COMMON" "q=$COMMON $SECOND" \
        "q=$COMMON&category=$CATEGORY" "tags=$TAG" "sort=rating" "q=$COMMON&page=50" "suggest=$PREFIX" \
        "trend_days=7"
    rm -f "$docs"
}

# ---- the query words, from the data ---------------------------------------------------------------
WORD_RE='^[a-z]{3,}$'
pick_words() {
    RARE="$(sql -e "SELECT word FROM search_terms WHERE word REGEXP '^[a-z]{4,}\$' GROUP BY word
        HAVING COUNT(*) >= 2 ORDER BY COUNT(*), word LIMIT 1")"
    COMMON="$(sql -e "SELECT word FROM search_terms WHERE word REGEXP '$WORD_RE' GROUP BY word
        ORDER BY COUNT(*) DESC, word LIMIT 1")"
    SECOND="$(sql -e "SELECT b.word FROM search_terms a JOIN search_terms b ON b.tool_id = a.tool_id
        WHERE a.word = '$COMMON' AND b.word <> a.word AND b.word REGEXP '$WORD_RE'
          AND b.word NOT IN (SELECT name FROM categories)
        GROUP BY b.word ORDER BY COUNT(*) DESC, b.word LIMIT 1")"
    CATEGORY="$(sql -e "SELECT category FROM tools WHERE status = 'published' GROUP BY category
        ORDER BY COUNT(*) DESC, category LIMIT 1")"
    TAG="$(sql -e "SELECT tag FROM tool_tags GROUP BY tag ORDER BY COUNT(*) DESC, tag LIMIT 1")"
    PREFIX="$(sql -e "SELECT LEFT(SUBSTRING_INDEX(name_norm, ' ', 1), 2) FROM search_documents
        GROUP BY SUBSTRING_INDEX(name_norm, ' ', 1) ORDER BY COUNT(*) DESC LIMIT 1")"
    [[ -n "$RARE" && -n "$COMMON" && -n "$SECOND" && -n "$CATEGORY" && -n "$TAG" && ${#PREFIX} == 2 ]] ||
        die "could not pick the query words from the data (rare '$RARE', common '$COMMON', second '$SECOND')"
    NAMES=(health rare common two category tag rating page50 suggest trending)
    declare -gA PATHS LABELS
    PATHS=([health]="/health" [rare]="/search?q=$RARE" [common]="/search?q=$COMMON"
        [two]="/search?q=$COMMON%20$SECOND" [category]="/search?q=$COMMON&category=$CATEGORY"
        [tag]="/search?tags=$TAG" [rating]="/search?sort=rating" [page50]="/search?q=$COMMON&page=50"
        [suggest]="/search/suggest?q=$PREFIX" [trending]="/tools/trending")
    LABELS=([health]="GET /health (baseline)" [rare]="search q=$RARE (rare word)"
        [common]="search q=$COMMON (common word)" [two]="search q=$COMMON $SECOND (two words)"
        [category]="search q=$COMMON&category=$CATEGORY" [tag]="search tags=$TAG (tag filter)"
        [rating]="search sort=rating (no text)" [page50]="search q=$COMMON&page=50"
        [suggest]="suggest q=$PREFIX" [trending]="GET /tools/trending")
}

# The share of published tools a word or tag is in, in percent, straight from the tables.
share() {  # share N SQL-COUNT
    awk -v c="$(sql -e "$2")" -v n="$1" 'BEGIN { printf "%d tools, %.1f%%", c, 100 * c / n }'
}
check_shares() {  # check_shares N
    local published common_n
    published="$(sql -e "SELECT COUNT(*) FROM tools WHERE status = 'published'")"
    PUBLISHED[$1]=$published
    common_n="$(sql -e "SELECT COUNT(*) FROM search_documents s JOIN tools t ON t.id = s.tool_id
        WHERE t.status = 'published' AND MATCH(s.title, s.body) AGAINST ('+$COMMON' IN BOOLEAN MODE)")"
    SHARES[$1]="common '$COMMON' in $(share "$published" "SELECT $common_n");"
    SHARES[$1]+=" rare '$RARE' in $(share "$published" "SELECT COUNT(*) FROM search_documents s JOIN tools t
        ON t.id = s.tool_id WHERE t.status = 'published' AND MATCH(s.title, s.body) AGAINST ('+$RARE' IN BOOLEAN MODE)");"
    SHARES[$1]+=" tag '$TAG' on $(share "$published" "SELECT COUNT(*) FROM tool_tags WHERE tag = '$TAG'");"
    SHARES[$1]+=" $(sql -e "SELECT COUNT(*) FROM tool_activity") tools with activity"
    (( common_n * 5 >= published )) || die "'$COMMON' is in $common_n of $published tools, under 20%"
}

# ---- wrk ------------------------------------------------------------------------------------------
# A target's requests still queued or running when wrk stops (nginx gives up on them, the workers
# do not) would slow the next target down: each starts once no worker has had a statement running
# for a second. (On 100,000 tools a slow target leaves seconds of work behind.)
wait_idle() {
    local quiet=0
    for _ in $(seq 1200); do
        if [[ "$(sql -e "SELECT COUNT(*) FROM information_schema.processlist
                WHERE user = 'marketplace' AND command <> 'Sleep'")" == 0 ]]; then
            quiet=$(( quiet + 1 ))
            (( quiet >= 5 )) && return 0
        else
            quiet=0
        fi
        sleep 0.2
    done
    say "the workers were still busy after 4 minutes; measuring anyway"
}

# Every request asks past nginx's microcache (which would answer repeated anonymous reads for a
# second): these figures are the server's.
PAST_CACHE="Cache-Control: no-cache"

# The latency of one request at a time (no queueing): the median of 5, in ms.
single_ms() {  # single_ms URL
    for _ in 1 2 3 4 5; do
        curl -sS -H "$PAST_CACHE" -o /dev/null -w '%{time_total}\n' "$1"
    done | sort -n | awk 'NR == 3 { printf "%.1f", $1 * 1000 }'
}

run_wrk() {  # run_wrk N NAME
    local key="$1:$2" url="$API${PATHS[$2]}"
    wait_idle
    ONE[$key]="$(single_ms "$url")"
    bench_wrk "$key" "$url" --timeout "${TIMEOUT}s" -H "$PAST_CACHE"
    if [[ "${ANSWERED[$key]:-0}" == 0 ]]; then  # none finished within the duration: no latency to show
        P50[$key]=- P99[$key]=-
    fi
    [[ "${ERRS[$key]}" == 0 ]] || failed=1
}

run_all() {  # run_all KEY_PREFIX NAME...: run_wrk on each
    local at="$1" name
    shift
    for name in "$@"; do
        run_wrk "$at" "$name"
    done
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }

report_rows() {  # report_rows KEY_PREFIX NAME...
    local at="$1" name key
    shift
    printf '%-42s %9s %6s %8s %8s %9s %7s %8s %7s\n' "target" "req/s" "done" "p50 ms" "p99 ms" "vs health" \
        "non-2xx" "1-conn" "total"
    printf '%-42s %9s %6s %8s %8s %9s %7s %8s %7s\n' "------------------------------------------" "---------" "------" \
        "--------" "--------" "---------" "-------" "--------" "-------"
    for name in "$@"; do
        key="$at:$name"
        printf '%-42s %9s %6s %8s %8s %9s %7s %8s %7s\n' "${LABELS[$name]}" "${RPS[$key]}" "${ANSWERED[$key]}" \
            "${P50[$key]}" "${P99[$key]}" "$(ratio "${RPS[$key]}" "${RPS[$at:health]}")" "${ERRS[$key]}" \
            "${ONE[$key]}" "${TOTAL[$key]:-${TOTAL[${at%%-*}:$name]:-}}"
    done
    echo "   done: requests answered in the ${DURATION}s; 1-conn: ms for one request at a time (median of 5, idle server)"
}

report_size() {  # report_size N
    local n="$1"
    echo
    echo "== $n tools ($(( ${PUBLISHED[$n]} )) published; seeded in ${SEED_S[$n]}s; $(sql -e "SELECT ROUND(SUM(data_length +
        index_length) / 1048576) FROM information_schema.tables WHERE table_schema = 'marketplace'") MiB of data and indexes)"
    echo "   ${SHARES[$n]}"
    # the machine may be shared: a load well above the bench's own makes every figure pessimistic
    echo "   load average before the wrk runs: ${LOAD[$n]}, after: $(cut -d' ' -f1-3 /proc/loadavg)"
    report_rows "$n" "${NAMES[@]}"
}

# The same searches with every request running the index: search_answer_cache_ms = 0 (a reload
# replaces the workers, which build their indexes again). wrk repeats one query, which the workers'
# answer cache (core/query_cache) would otherwise answer after the first time each second.
UNCACHED=(health rare common two category tag rating page50)
uncached_pass() {  # uncached_pass N
    local n="$1"
    echo "search_answer_cache_ms = 0" >>"$STACK_DIR/marketplace.conf"
    kill -HUP "$(env_get MKT_MASTER_PID)"
    sleep 2
    wait_indexes "${PUBLISHED[$n]}"
    run_all "$n-uncached" "${UNCACHED[@]}"
    echo
    echo "-- the same searches at $n tools without the answer cache (search_answer_cache_ms = 0)"
    report_rows "$n-uncached" "${UNCACHED[@]}"
}

# The uncached searches, suggest and trending again with LIGHT_CONNECTIONS connections (one per core
# by default): with 16 connections on 2 cores a request mostly waits behind the others (even
# /health's p99 is several ms there), so that table is the capacity; this one is the response time
# of a server that is busy but not saturated.
LIGHT=(health rare common two category tag rating page50 suggest trending)
light_pass() {  # light_pass N (after uncached_pass: search_answer_cache_ms = 0)
    local n="$1" saved_threads="$THREADS" saved_connections="$CONNECTIONS" saved_duration="$DURATION"
    THREADS=1 CONNECTIONS="$LIGHT_CONNECTIONS" DURATION="$LIGHT_DURATION"
    run_all "$n-light" "${LIGHT[@]}"
    echo
    echo "-- light load at $n tools, uncached: $CONNECTIONS connections, 1 thread, ${DURATION}s each"
    report_rows "$n-light" "${LIGHT[@]}"
    THREADS="$saved_threads" CONNECTIONS="$saved_connections" DURATION="$saved_duration"
}

# ---- the statements, from the general log ---------------------------------------------------------
# One request per query with the general log on (to a table, so each statement is one row), before
# any load: MariaDB writes an executed prepared statement with its parameters filled in only when it
# was prepared while the log was on, and the workers keep their statements prepared. So this runs
# first, on workers that have prepared nothing of search yet. The SELECTs the workers sent (user
# marketplace) are that request's statements; the worker hooks' own statements (prepared earlier,
# so still showing a '?' outside quotes, or the search backfill's lock and scan) are left out. The
# answer gives the query's result total.
capture() {  # capture N NAME
    local body="$TMP/body-$1-$2.json"
    sql -e "SET GLOBAL log_output = 'TABLE'; TRUNCATE mysql.general_log; SET GLOBAL general_log = 1"
    curl -sS --fail-with-body -o "$body" "$API${PATHS[$2]}" || die "GET ${PATHS[$2]} failed: $(cat "$body")"
    sql -e "SET GLOBAL general_log = 0"
    sql --raw -e "SELECT REPLACE(REPLACE(CONVERT(argument USING utf8mb4), '\n', ' '), '\t', ' ')
        FROM mysql.general_log WHERE user_host LIKE 'marketplace[%' AND command_type IN ('Query', 'Execute')
        ORDER BY event_time" |
        grep -E '^[[:space:]]*SELECT' | grep -vE 'GET_LOCK|RELEASE_LOCK|s\.tool_id IS NULL' |
        awk '{ t = $0; gsub(/'\''[^'\'']*'\''/, "", t); if (index(t, "?") == 0) print }' >"$TMP/stmts-$1-$2.sql" || true
    TOTAL[$1:$2]="$(jq -r 'if has("suggestions") and (has("tools") | not) then (.suggestions | length)
        else (.total // "-") end' "$body")"
}

capture_all() {  # capture_all N
    local name
    for name in "${NAMES[@]}"; do
        capture "$1" "$name"
    done
}

analyze_ms() {  # analyze_ms SQL
    sql --raw -e "ANALYZE FORMAT=JSON $1" | jq -r '.query_block.r_total_time_ms // "-"' 2>/dev/null || echo -
}

explain_size() {  # explain_size N
    local n="$1" name stmt ms i slowest_ms=0 slowest_stmt="" slowest_name=""
    echo
    echo "-- the statements of each query at $n tools (general log of one request), EXPLAIN and r_total_time_ms"
    for name in "${NAMES[@]}"; do
        [[ "$name" == health ]] && continue
        mapfile -t STMTS <"$TMP/stmts-$n-$name.sql"
        echo
        echo "==== ${LABELS[$name]}: GET ${PATHS[$name]} (${#STMTS[@]} statements)"
        i=0
        for stmt in "${STMTS[@]}"; do
            i=$(( i + 1 ))
            ms="$(analyze_ms "$stmt")"
            echo
            echo "[$i] r_total_time_ms $ms: $stmt;"
            sql_table -e "EXPLAIN $stmt"
            if [[ "$ms" != - ]] && awk -v a="$ms" -v b="$slowest_ms" 'BEGIN { exit !(a > b) }'; then
                slowest_ms="$ms" slowest_stmt="$stmt" slowest_name="${LABELS[$name]}"
            fi
        done
    done
    [[ -n "$slowest_stmt" ]] || return 0
    echo
    echo "-- the slowest statement at $n tools ($slowest_ms ms, $slowest_name): ANALYZE"
    echo "$slowest_stmt;"
    sql_table -e "ANALYZE $slowest_stmt"
    sql --raw -e "ANALYZE FORMAT=JSON $slowest_stmt"
}

# ---- the run --------------------------------------------------------------------------------------
declare -A ONE TOTAL SEED_S PUBLISHED SHARES LOAD
echo "Search benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine: $CPUS CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr)"
echo "  build:   $BUILD_DIR (CMAKE_BUILD_TYPE=${BUILD_TYPE:-?}); stack config: test (--test), $WORKERS workers," \
     "MariaDB buffer pool $BUFFER_POOL"
echo "  data:    marketplace seed --tools N --seed $SEED; tool_activity for 15% of the tools (direct SQL)"
echo "  wrk:     ${DURATION}s per target after ${WARMUP}s warm-up, $THREADS threads, $CONNECTIONS connections," \
     "${TIMEOUT}s timeout, through nginx"
failed=0
for n in $SIZES; do
    stack_start "$n"
    seed_catalogue "$n"
    seed_activity
    [[ -n "${COMMON:-}" ]] || pick_words
    check_shares "$n"
    wait_indexes "${PUBLISHED[$n]}"
    capture_all "$n"
    LOAD[$n]="$(cut -d' ' -f1-3 /proc/loadavg)"
    run_all "$n" "${NAMES[@]}"
    report_size "$n"
    uncached_pass "$n"
    light_pass "$n"
    in_process "$n"
    [[ "$EXPLAIN" == 1 ]] && explain_size "$n"
    stack_stop
done

# ---- across sizes ---------------------------------------------------------------------------------
read -r -a SIZE_LIST <<<"$SIZES"
FIRST="${SIZE_LIST[0]}" LAST="${SIZE_LIST[-1]}"
# a missing figure (nothing answered in the duration) is no ratio and misses every goal
cost() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "-" && a > 0 && b != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
goal() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "-" && a != "" && a + 0 < b + 0) ? "yes" : "NO" }'; }
echo
echo "== summary: $FIRST -> $LAST tools (cost ratio: p50 at $LAST / p50 at $FIRST, req/s at $FIRST / req/s at $LAST)"
printf '%-46s %9s %9s %8s %8s %11s %11s\n' "target" "p50 ratio" "rps ratio" "p99 ms" "p99 goal" "ratio < 2" "total"
printf '%-46s %9s %9s %8s %8s %11s %11s\n' "----------------------------------------------" "---------" "---------" \
    "--------" "--------" "-----------" "-----------"
for name in "${NAMES[@]}"; do
    p50r="$(cost "${P50[$LAST:$name]}" "${P50[$FIRST:$name]}")"
    rpsr="$(cost "${RPS[$FIRST:$name]}" "${RPS[$LAST:$name]}")"
    limit=20
    [[ "$name" == suggest ]] && limit=5
    printf '%-46s %9s %9s %8s %8s %11s %11s\n' "${LABELS[$name]}" "$p50r" "$rpsr" "${P99[$LAST:$name]}" \
        "$(goal "${P99[$LAST:$name]}" "$limit") <$limit" "$(goal "$p50r" 2)/$(goal "$rpsr" 2)" \
        "$([[ "$name" == health ]] && echo - || echo "${TOTAL[$FIRST:$name]}->${TOTAL[$LAST:$name]}")"
done
pass_rows() {  # pass_rows PASS NAME...: the summary rows of the -PASS keys (uncached, light)
    local pass="$1" name p50r rpsr limit
    shift
    for name in "$@"; do
        p50r="$(cost "${P50[$LAST-$pass:$name]}" "${P50[$FIRST-$pass:$name]}")"
        rpsr="$(cost "${RPS[$FIRST-$pass:$name]}" "${RPS[$LAST-$pass:$name]}")"
        limit=20
        [[ "$name" == suggest ]] && limit=5
        printf '%-46s %9s %9s %8s %8s %11s %11s\n' "${LABELS[$name]}, $pass" "$p50r" "$rpsr" \
            "${P99[$LAST-$pass:$name]}" "$(goal "${P99[$LAST-$pass:$name]}" "$limit") <$limit" \
            "$(goal "$p50r" 2)/$(goal "$rpsr" 2)" "-"
    done
}
pass_rows uncached "${UNCACHED[@]:1}"
pass_rows light "${LIGHT[@]:1}"
echo "goals: p99 < 20 ms for every query at $LAST tools (suggest < 5 ms); the $FIRST -> $LAST ratio under 2 (p50/req/s)"
echo "uncached: the same searches with search_answer_cache_ms = 0, every request running the index"
echo "light: uncached, with $LIGHT_CONNECTIONS connections instead of $CONNECTIONS (the response time below saturation)"
(( failed == 0 )) || die "some answers were not 2xx (see non-2xx)"
