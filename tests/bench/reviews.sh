#!/usr/bin/env bash
# tests/bench/reviews.sh [build-dir] — the reviews benchmark (listing and voting on a tool with 10,000 reviews).
#
# Starts a throwaway stack (scripts/stack, TEST config: --test, plus workers = 2 x CPUs) in a
# temporary directory, creates one developer and one published free tool through the API, then
# seeds straight into MariaDB (over the stack's socket, as the stack's admin user) 10,000 visible
# reviews of that tool by 10,000 distinct users, with a spread of ratings, the helpful/unhelpful
# votes behind them (review_votes rows by other seeded users, so a later recount agrees), the
# Wilson bound computed exactly as core/wilson.c does, a developer reply on every tenth review,
# the tool's rating_* counters recounted from the rows, and BENCH_VOTERS voter accounts with
# session tokens (a session is a SHA-256 of the token text, core/auth.c, so no password hashing).
# Direct SQL is the bench's shortcut, not how the product writes: registering 10,000 users through
# the API would hash 10,000 passwords.
#
# Before measuring it checks the seed against the server: the tool's rating counts 10,000 reviews,
# a vote and its withdrawal leave a review's counts and Wilson bound as seeded (the server recounted
# them), and page 1 and page 200 of every sort list the ids the SQL order gives; after the vote phase
# every review's counts still equal a recount of review_votes.
#
# Then wrk through nginx, same threads, connections and duration for every target, in one run:
#   1. GET /health                                          (the baseline)
#   2. GET /tools/{tool}/reviews?sort=helpful&page=1
#   3. GET /tools/{tool}/reviews?sort=helpful&page=200      (per_page 20: OFFSET 3980)
#   3b. the same at pages 1..500 in a scattered order       (misses the workers' page caches)
#   4. POST /reviews/{id}/votes {helpful: true|false}       (rotating voter tokens and review ids)
# and prints requests/s, p50, p99, the ratio to /health and the non-2xx/socket-error count of each
# (any error fails the script), then EXPLAIN and ANALYZE of the statements review_list issues: the
# tool lookup every request makes, and the page statements for page 1 and page 200 a cache miss runs. It prints figures; it is not a test. The stack is stopped at the end
# (Ctrl-C included) by the PIDs it recorded (scripts/stack stop).
#
# Settings (environment): BENCH_DURATION (s per target, 10), BENCH_THREADS (2), BENCH_CONNECTIONS
# (16), BENCH_WARMUP (s, 2), BENCH_WORKERS (2 x CPUs), BENCH_REVIEWS (10000), BENCH_VOTERS (200).
# Needs: wrk, curl, jq, nginx, MariaDB (scripts/install-deps); builds the marketplace when missing.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_build_dir "${1:-}"
bench_need wrk curl jq nginx mariadb openssl
THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
WARMUP="${BENCH_WARMUP:-2}"
REVIEWS="${BENCH_REVIEWS:-10000}"
VOTERS="${BENCH_VOTERS:-200}"
PAGE_FAR=200
(( REVIEWS >= 20 * PAGE_FAR )) || die "BENCH_REVIEWS must be at least $(( 20 * PAGE_FAR )) so page $PAGE_FAR is full"

BIN="$BUILD_DIR/marketplace"
# shellcheck disable=SC2119  # no extra targets: the marketplace is all this bench runs
bench_build

bench_workdir reviews

# ---- the stack ------------------------------------------------------------------------------------
port="$(bench_free_port)"
STACK_DIR="$TMP/stack"
say "starting a stack (test config) in $STACK_DIR (port $port, $WORKERS workers)"
"$STACK" start --dir "$STACK_DIR" --bin "$BIN" --port "$port" --test --set "workers=$WORKERS" \
    >"$TMP/stack.log" 2>&1 || { cat "$TMP/stack.log" >&2; die "the stack did not start"; }
env_get() { sed -n "s/^$1=//p" "$STACK_DIR/stack.env" | tail -n1; }
URL="$(env_get MKT_URL)"
API="$URL/api/marketplace"
DB_SOCKET="$(env_get MKT_DB_SOCKET)"
[[ -n "$URL" && -S "$DB_SOCKET" ]] || die "incomplete $STACK_DIR/stack.env"

sql() { mariadb --no-defaults --socket="$DB_SOCKET" -u "$(id -un)" --batch --skip-column-names marketplace "$@"; }
sql_table() { mariadb --no-defaults --socket="$DB_SOCKET" -u "$(id -un)" --table marketplace "$@"; }

# call METHOD PATH TOKEN [BODY]: one JSON request; the answer on stdout, dies on any 4xx/5xx.
call() {
    curl -sS --fail-with-body -X "$1" "$API$2" ${3:+-H "Authorization: Bearer $3"} \
        -H 'Content-Type: application/json' ${4:+--data-binary "$4"} || die "$1 $2 failed"
}

# ---- a developer and a published free tool, through the API ---------------------------------------
run_id="$(date +%s)-$$"
DEV="$(call POST /auth/register "" \
    "{\"email\":\"bench-dev-$run_id@example.test\",\"password\":\"benchmark password\",\"display_name\":\"Bench Dev\"}" |
    jq -er .token)"
call POST /developers "$DEV" '{"display_name":"Bench Tools"}' >/dev/null
SLUG="bench-reviews-$run_id"
jq -n --arg slug "$SLUG" '{
    slug: $slug, name: "Reviews bench tool", summary: "The tool the reviews benchmark lists",
    category: "text", tags: ["bench"], pricing: {model: "free"},
    input_schema: {type: "object", required: ["text"], properties: {text: {type: "string"}}},
    output_schema: {type: "object", required: ["words"], properties: {words: {type: "integer"}}},
    code: "function handler(input)\n  local n = 0\n  for _ in string.gmatch(input.text, \"%S+\") do n = n + 1 end\n  return {words = n}\nend\n",
    tests: [{name: "two", input: {text: "a b"}, expected: {words: 2}}]
}' >"$TMP/tool.json"
call POST /tools "$DEV" "@$TMP/tool.json" >/dev/null
TOOL="$(call POST "/tools/$SLUG/publish" "$DEV" '{"version":"1.0.0","changelog":"bench"}' | jq -er .tool_id)"
DEVELOPER_ID="$(sql -e "SELECT developer_id FROM tools WHERE id = $TOOL")"

# ---- seeding: users, reviews, votes, replies, voters (multi-row INSERTs) --------------------------
# Explicit ids above everything that exists, so reviews and votes can name their users directly.
UBASE=$(( $(sql -e "SELECT COALESCE(MAX(id), 0) FROM users") + 1000 ))
RBASE=$(( $(sql -e "SELECT COALESCE(MAX(id), 0) FROM reviews") + 1000 ))
VBASE=$(( UBASE + REVIEWS + 1000 ))
say "seeding $REVIEWS users and reviews of tool $TOOL, their votes and $VOTERS voters"
for (( j = 0; j < VOTERS; j++ )); do
    openssl rand -base64 32 | tr '+/' '-_' | tr -d '=\n'
    echo
done >"$TMP/tokens"

# Review i is written by user UBASE+i; its n votes come from users UBASE+i+1 .. UBASE+i+n (mod N),
# h of them helpful. wilson repeats core/wilson.c operation for operation in doubles (gawk numbers
# are C doubles) and is printed with 17 significant digits, so the stored value is the C value.
seed_sql() {
    awk -v N="$REVIEWS" -v UB="$UBASE" -v RB="$RBASE" -v VB="$VBASE" -v TOOL="$TOOL" -v DEVID="$DEVELOPER_ID" \
        -v RUN="$run_id" -v TOKENS="$TMP/tokens" '
    function wilson(h, u,    n, p, z, z2, centre, spread, low) {
        if (h + u == 0) return 0
        z = 1.96; n = h + u; p = h / n; z2 = z * z
        centre = p + z2 / (2.0 * n)
        spread = z * sqrt((p * (1.0 - p) + z2 / (4.0 * n)) / n)
        low = (centre - spread) / (1.0 + z2 / n)
        return low < 0 ? 0 : low
    }
    function flush(table, cols, batch) {
        if (batch != "") print "INSERT INTO " table " (" cols ") VALUES " substr(batch, 2) ";"
    }
    BEGIN {
        srand(20261201)
        filler = "It does what the page says and it did it quickly on my inputs. The output schema is clear, " \
                 "the errors name the field, and the examples helped. Would use again for small jobs."
        print "SET unique_checks = 0; START TRANSACTION;"
        for (i = 0; i < N; i++) {
            users = users sprintf(",(%d,'\''bench-reviewer-%d-%s@example.test'\'','\''Reviewer %d'\'','\''-'\'')",
                                  UB + i, i, RUN, i)
            if ((i + 1) % 1000 == 0 || i == N - 1) { flush("users", "id, email, display_name, password_hash", users); users = "" }
        }
        for (i = 0; i < N; i++) {
            x = rand()  # ratings: 40% 5, 25% 4, 15% 3, 8% 2, 12% 1
            rating = x < 0.40 ? 5 : x < 0.65 ? 4 : x < 0.80 ? 3 : x < 0.88 ? 2 : 1
            n = int(rand() * rand() * 31)    # 0..30 votes, most reviews few
            share = rand(); h = 0
            for (k = 1; k <= n; k++) {
                helpful = rand() < share
                h += helpful
                votes = votes sprintf(",(%d,%d,%d)", RB + i, UB + (i + k) % N, helpful)
            }
            reviews = reviews sprintf(",(%d,%d,%d,%d,'\''Review %d of the bench tool'\'','\''%s'\'',%d,%d,%d,%.17g," \
                                      "UTC_TIMESTAMP(6) - INTERVAL %d MINUTE,UTC_TIMESTAMP(6) - INTERVAL %d MINUTE)",
                                      RB + i, TOOL, UB + i, rating, i, filler, i % 3 == 0, h, n - h, wilson(h, n - h),
                                      N - i, N - i)
            if ((i + 1) % 500 == 0 || i == N - 1) {
                flush("reviews", "id, tool_id, user_id, rating, title, content, verified_purchase, helpful_count," \
                      " unhelpful_count, wilson, created_at, updated_at", reviews)
                reviews = ""
                # the votes refer to reviews: written after the reviews they name
                flush("review_votes", "review_id, user_id, helpful", votes); votes = ""
            }
            if (i % 10 == 0) replies = replies sprintf(",(%d,%d,'\''Thanks for review %d.'\'')", RB + i, DEVID, i)
        }
        flush("review_responses", "review_id, developer_id, content", replies)
        j = 0
        while ((getline token < TOKENS) > 0) {
            voters = voters sprintf(",(%d,'\''bench-voter-%d-%s@example.test'\'','\''Voter %d'\'','\''-'\'')", VB + j, j, RUN, j)
            sessions = sessions sprintf(",(%d,UNHEX(SHA2('\''%s'\'',256)),UTC_TIMESTAMP(6) + INTERVAL 1 DAY)", VB + j, token)
            j++
        }
        flush("users", "id, email, display_name, password_hash", voters)
        flush("sessions", "user_id, token_hash, expires_at", sessions)
        # the counters count the visible reviews (core/tool_record)
        print "UPDATE tools t JOIN (SELECT tool_id, COUNT(*) c, SUM(rating) s, SUM(rating = 1) r1, SUM(rating = 2) r2," \
              " SUM(rating = 3) r3, SUM(rating = 4) r4, SUM(rating = 5) r5 FROM reviews WHERE tool_id = " TOOL \
              " AND status = '\''visible'\'' GROUP BY tool_id) a ON a.tool_id = t.id SET t.rating_count = a.c," \
              " t.rating_sum = a.s, t.rating_1 = a.r1, t.rating_2 = a.r2, t.rating_3 = a.r3, t.rating_4 = a.r4," \
              " t.rating_5 = a.r5;"
        print "COMMIT;"
        print "ANALYZE TABLE users, reviews, review_votes, review_responses;"
    }'
}
seed_start=$SECONDS
seed_sql | sql >/dev/null 2>"$TMP/seed.err" || { tail -c 600 "$TMP/seed.err" >&2; die "seeding failed"; }
say "seeded in $(( SECONDS - seed_start ))s"

mapfile -t TOKENS <"$TMP/tokens"
SEEDED_VOTES="$(sql -e "SELECT COUNT(*) FROM review_votes v JOIN reviews r ON r.id = v.review_id WHERE r.tool_id = $TOOL")"
FIRST_VOTER="${TOKENS[0]}"

# ---- checks before measuring ----------------------------------------------------------------------
stats="$(curl -sS "$API/tools/$TOOL" | jq -c .rating)"
[[ "$(jq -r .count <<<"$stats")" == "$REVIEWS" ]] || die "GET /tools/$TOOL rating does not count $REVIEWS reviews: $stats"
# A vote and its withdrawal make the server recount a review's votes and recompute its Wilson bound:
# both must come back to the seeded values, or the seed is not what the product would have written.
probe="$(sql -e "SELECT id FROM reviews WHERE tool_id = $TOOL AND helpful_count > 0 AND unhelpful_count > 0 LIMIT 1")"
before="$(sql -e "SELECT helpful_count, unhelpful_count, wilson FROM reviews WHERE id = $probe")"
call POST "/reviews/$probe/votes" "$FIRST_VOTER" '{"helpful":true}' >/dev/null
call DELETE "/reviews/$probe/votes" "$FIRST_VOTER" >/dev/null
after="$(sql -e "SELECT helpful_count, unhelpful_count, wilson FROM reviews WHERE id = $probe")"
[[ "$before" == "$after" ]] || die "review $probe: seeded (helpful, unhelpful, wilson) $before, server recount $after"
# Each sort's pages hold what the order says (guards review_list's statements, whatever their shape).
for order in "helpful:wilson DESC, id DESC" "newest:id DESC" "rating:rating DESC, id DESC"; do
    for page in 1 "$PAGE_FAR"; do
        got="$(curl -sS "$API/tools/$TOOL/reviews?sort=${order%%:*}&page=$page" | jq -r '[.items[].id] | join(" ")')"
        want="$(sql -e "SELECT id FROM reviews WHERE tool_id = $TOOL AND status = 'visible'
            ORDER BY ${order#*:} LIMIT 20 OFFSET $(( (page - 1) * 20 ))" | paste -sd' ')"
        [[ -n "$want" && "$got" == "$want" ]] || die "sort=${order%%:*}&page=$page lists [$got], the order says [$want]"
    done
done

# ---- measuring ------------------------------------------------------------------------------------
# The vote phase's wrk script: each thread starts at its own place and walks voters and reviews.
{
    echo "local tokens = {"
    printf '  "%s",\n' "${TOKENS[@]}"
    echo "}"
    cat <<LUA
local rbase, reviews, path = $RBASE, $REVIEWS, "/api/marketplace/reviews/"
local threads, n = 0, 0
function setup(thread)
  thread:set("start", threads * 7919)
  threads = threads + 1
end
function init(args)
  n = start
end
function request()
  n = n + 1
  local body = (n % 3 == 0) and '{"helpful":false}' or '{"helpful":true}'
  return wrk.format("POST", path .. (rbase + (n * 7) % reviews) .. "/votes",
    {["Authorization"] = "Bearer " .. tokens[n % #tokens + 1], ["Content-Type"] = "application/json"}, body)
end
LUA
} >"$TMP/votes.lua"

# The uncached phase's wrk script: pages 1..500 of sort=helpful in a scattered order, so nearly every
# request misses the workers' page caches (64 pages each) and reads the database.
cat >"$TMP/pages.lua" <<LUA
local n = 0
function init(args)
  n = math.random(1, 500)
end
function request()
  n = n + 1
  return wrk.format("GET", "/api/marketplace/tools/$TOOL/reviews?sort=helpful&page=" .. ((n * 137) % 500 + 1))
end
LUA

bench_wrk health "$API/health"
bench_wrk page1 "$API/tools/$TOOL/reviews?sort=helpful&page=1"
bench_wrk page200 "$API/tools/$TOOL/reviews?sort=helpful&page=$PAGE_FAR"
bench_wrk pages "$URL/" -s "$TMP/pages.lua"
bench_wrk votes "$URL/" -s "$TMP/votes.lua"

# The votes moved counters under load: they must still equal a recount of review_votes.
mismatched="$(sql -e "SELECT COUNT(*) FROM reviews r LEFT JOIN (SELECT review_id, SUM(helpful) h, SUM(NOT helpful) u
    FROM review_votes GROUP BY review_id) v ON v.review_id = r.id
    WHERE r.tool_id = $TOOL AND (r.helpful_count <> COALESCE(v.h, 0) OR r.unhelpful_count <> COALESCE(v.u, 0))")"

# ---- report ---------------------------------------------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
echo
echo "Reviews benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  machine: $CPUS CPUs, $(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); $(uname -sr)"
echo "  build:   $BUILD_DIR (CMAKE_BUILD_TYPE=${BUILD_TYPE:-?}); stack config: test (--test), $WORKERS workers"
echo "  data:    tool $TOOL with $REVIEWS visible reviews, $SEEDED_VOTES votes (before the vote phase), $VOTERS voters; rating $stats"
echo "  wrk:     ${DURATION}s per target after ${WARMUP}s warm-up, $THREADS threads, $CONNECTIONS connections, through nginx on $URL"
echo
printf '%-52s %11s %9s %9s %10s %7s\n' "target" "requests/s" "p50 ms" "p99 ms" "vs health" "non-2xx"
printf '%-52s %11s %9s %9s %10s %7s\n' "----------------------------------------------------" "-----------" "---------" \
    "---------" "----------" "-------"
row() {
    printf '%-52s %11s %9s %9s %10s %7s\n' "$1" "${RPS[$2]}" "${P50[$2]}" "${P99[$2]}" \
        "$(ratio "${RPS[$2]}" "${RPS[health]}")" "${ERRS[$2]}"
}
row "GET /health (baseline)" health
row "GET /tools/{tool}/reviews?sort=helpful&page=1" page1
row "GET /tools/{tool}/reviews?sort=helpful&page=$PAGE_FAR" page200
row "GET .../reviews?sort=helpful&page=1..500 (uncached)" pages
row "POST /reviews/{id}/votes (rotating voters, reviews)" votes
echo
echo "vote counters equal a recount of review_votes after the run: $([[ "$mismatched" == 0 ]] && echo yes || echo "NO ($mismatched reviews differ)")"

# ---- the list statements --------------------------------------------------------------------------
# A copy of what review_list (core/review_manager.c) sends for sort=helpful, with the parameters
# filled in: the first page selects its rows directly, a later one through a deferred join. Keep it
# in step with that file.
list_sql() {  # list_sql PAGE
    local offset=$(( ($1 - 1) * 20 ))
    if (( offset == 0 )); then
        cat <<SQL
SELECT r.id, r.tool_id, r.user_id, u.display_name, r.rating, r.title, r.content, r.verified_purchase, r.helpful_count, r.unhelpful_count, r.status, DATE_FORMAT(r.created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(r.updated_at, '%Y-%m-%dT%H:%i:%sZ'), rr.content, DATE_FORMAT(rr.created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(rr.updated_at, '%Y-%m-%dT%H:%i:%sZ') FROM reviews r JOIN users u ON u.id = r.user_id LEFT JOIN review_responses rr ON rr.review_id = r.id WHERE r.tool_id = $TOOL AND r.status = 'visible' ORDER BY r.wilson DESC, r.id DESC LIMIT 20 OFFSET 0
SQL
    else
        cat <<SQL
SELECT r.id, r.tool_id, r.user_id, u.display_name, r.rating, r.title, r.content, r.verified_purchase, r.helpful_count, r.unhelpful_count, r.status, DATE_FORMAT(r.created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(r.updated_at, '%Y-%m-%dT%H:%i:%sZ'), rr.content, DATE_FORMAT(rr.created_at, '%Y-%m-%dT%H:%i:%sZ'), DATE_FORMAT(rr.updated_at, '%Y-%m-%dT%H:%i:%sZ') FROM (SELECT r.id FROM reviews r WHERE r.tool_id = $TOOL AND r.status = 'visible' ORDER BY r.wilson DESC, r.id DESC LIMIT 20 OFFSET $offset) page JOIN reviews r ON r.id = page.id JOIN users u ON u.id = r.user_id LEFT JOIN review_responses rr ON rr.review_id = r.id ORDER BY r.wilson DESC, r.id DESC
SQL
    fi
}
GLANCE_SQL="SELECT id, developer_id, rating_count, reviews_version, status FROM tools WHERE id = $TOOL"
explain() {  # explain TITLE SQL
    echo
    echo "== $1"
    echo "$2;"
    sql_table -e "EXPLAIN $2"
    sql_table -e "ANALYZE $2"
    printf 'r_total_time_ms (ANALYZE FORMAT=JSON): %s\n' \
        "$(sql --raw -e "ANALYZE FORMAT=JSON $2" | jq -r '.query_block.r_total_time_ms // "-"' 2>/dev/null || echo -)"
}
explain "the tool lookup every list request runs (a cached page needs nothing else)" "$GLANCE_SQL"
explain "sort=helpful, page 1" "$(list_sql 1)"
explain "sort=helpful, page $PAGE_FAR" "$(list_sql "$PAGE_FAR")"
(( ERRS[health] + ERRS[page1] + ERRS[page200] + ERRS[pages] + ERRS[votes] == 0 )) || die "some answers were not 2xx (see non-2xx)"
[[ "$mismatched" == 0 ]] || die "vote counters differ from a recount of review_votes"
