/* npm-style ranges: parsing into plain comparators, matching and formatting. */
#include "core/semver_internal.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/grow.h"

typedef enum { SEMVER_OP_EQ, SEMVER_OP_LT, SEMVER_OP_LE, SEMVER_OP_GT, SEMVER_OP_GE } semver_op;

typedef struct {
    semver_op op;
    semver v;
} semver_comparator;

/* Comparators that must all hold; none at all admits every release. */
typedef struct {
    semver_comparator *items;
    size_t count, cap;
} semver_set;

struct semver_range {
    semver_set *sets;   /* alternatives: any one may hold */
    size_t count;
};

/* Operators as written in a range; the sugar ones become plain comparators when parsed. */
typedef enum {
    SEMVER_TOKEN_NONE,
    SEMVER_TOKEN_EQ,
    SEMVER_TOKEN_LT,
    SEMVER_TOKEN_LE,
    SEMVER_TOKEN_GT,
    SEMVER_TOKEN_GE,
    SEMVER_TOKEN_TILDE,
    SEMVER_TOKEN_CARET,
} semver_token_op;

/* ---- ranges: building ---- */

static int semver_set_add(semver_set *set, semver_op op, const uint64_t num[3], const char *pre, size_t pre_len)
{
    if (grow_for_one(&set->items, &set->cap, set->count, sizeof *set->items) < 0)
        return -1;
    semver_comparator *c = &set->items[set->count];
    c->op = op;
    if (semver_fill(&c->v, num[0], num[1], num[2], pre, pre_len, NULL, 0) < 0)
        return -1;
    set->count++;
    return 0;
}

/* npm's way to write "nothing": no version is below 0.0.0-0. */
static int semver_set_add_nothing(semver_set *set)
{
    static const uint64_t zero[3] = {0, 0, 0};
    return semver_set_add(set, SEMVER_OP_LT, zero, "0", 1);
}

/* Raises part `part` (0 major, 1 minor, 2 patch) by one and zeroes the later parts. An overflow carries
 * upward, which bounds the same versions (no minor exceeds SEMVER_NUMBER_MAX); -1 when even major overflows. */
static int semver_bump(uint64_t num[3], int part)
{
    for (int i = part; i >= 0; i--) {
        if (num[i] != SEMVER_NUMBER_MAX) {
            num[i]++;
            for (int j = i + 1; j < 3; j++)
                num[j] = 0;
            return 0;
        }
    }
    return -1;
}

/* "<X-0" where X is the spec bumped at `part`: below every version of the next major/minor/patch,
 * pre-releases included. When the bump overflows nothing lies above, so there is no bound to add. */
static int semver_set_add_below(semver_set *set, const semver_spec *spec, int part)
{
    uint64_t num[3] = {spec->num[0], part >= 1 ? spec->num[1] : 0, part >= 2 ? spec->num[2] : 0};
    if (semver_bump(num, part) < 0)
        return 0;
    return semver_set_add(set, SEMVER_OP_LT, num, "0", 1);
}

/* The spec with missing parts as zeros, and its pre-release when complete. */
static int semver_set_add_at(semver_set *set, semver_op op, const semver_spec *spec)
{
    uint64_t num[3] = {spec->num[0], spec->parts > 1 ? spec->num[1] : 0, spec->parts > 2 ? spec->num[2] : 0};
    return semver_set_add(set, op, num, spec->pre, spec->pre_len);
}

/* Turns one written comparator into plain ones, following node-semver's replaceTilde, replaceCaret and
 * replaceXRange. `parts` counts the numbers given; 0 means the version is a bare wildcard. */
static int semver_desugar(semver_set *set, semver_token_op op, const semver_spec *spec)
{
    int parts = spec->parts;
    int last = parts - 1; /* the last given part, the one a partial bound moves */
    switch (op) {
    case SEMVER_TOKEN_NONE:
    case SEMVER_TOKEN_EQ:
        if (parts == 0)
            return 0;
        if (parts == 3)
            return semver_set_add_at(set, SEMVER_OP_EQ, spec);
        return semver_set_add_at(set, SEMVER_OP_GE, spec) | semver_set_add_below(set, spec, last);
    case SEMVER_TOKEN_TILDE:
        if (parts == 0)
            return 0;
        return semver_set_add_at(set, SEMVER_OP_GE, spec) | semver_set_add_below(set, spec, parts == 1 ? 0 : 1);
    case SEMVER_TOKEN_CARET: {
        if (parts == 0)
            return 0;
        /* The first non-zero part given is the one that may not change; 0.0.x and ^0.0 keep minor. */
        int fixed = 0;
        if (spec->num[0] == 0 && parts >= 2)
            fixed = (spec->num[1] == 0 && parts == 3) ? 2 : 1;
        return semver_set_add_at(set, SEMVER_OP_GE, spec) | semver_set_add_below(set, spec, fixed);
    }
    case SEMVER_TOKEN_GT: {
        if (parts == 0)
            return semver_set_add_nothing(set);
        if (parts == 3)
            return semver_set_add_at(set, SEMVER_OP_GT, spec);
        /* >1.2 means >=1.3.0 */
        uint64_t num[3] = {spec->num[0], parts > 1 ? spec->num[1] : 0, 0};
        if (semver_bump(num, last) < 0)
            return semver_set_add_nothing(set);
        return semver_set_add(set, SEMVER_OP_GE, num, NULL, 0);
    }
    case SEMVER_TOKEN_GE:
        return parts == 0 ? 0 : semver_set_add_at(set, SEMVER_OP_GE, spec);
    case SEMVER_TOKEN_LT: {
        if (parts == 0)
            return semver_set_add_nothing(set);
        if (parts == 3)
            return semver_set_add_at(set, SEMVER_OP_LT, spec);
        /* <1.2 excludes 1.2.0's pre-releases as well: <1.2.0-0 */
        uint64_t num[3] = {spec->num[0], parts > 1 ? spec->num[1] : 0, 0};
        return semver_set_add(set, SEMVER_OP_LT, num, "0", 1);
    }
    case SEMVER_TOKEN_LE:
        if (parts == 0)
            return 0;
        if (parts == 3)
            return semver_set_add_at(set, SEMVER_OP_LE, spec);
        return semver_set_add_below(set, spec, last); /* <=1.2 means <1.3.0-0 */
    }
    return 0;
}

/* ---- ranges: parsing ---- */

static int semver_is_space(char c)
{
    return c == ' ' || c == '\t';
}

typedef struct {
    semver_token_op op;
    const char *text;
    size_t len;
} semver_token;

/* Reads the operator at *p, if any. Two-character operators are tried first. */
static semver_token_op semver_read_op(const char **p, const char *end)
{
    static const struct {
        const char *text;
        semver_token_op op;
    } ops[] = {
        {"<=", SEMVER_TOKEN_LE}, {">=", SEMVER_TOKEN_GE}, {"~>", SEMVER_TOKEN_TILDE}, {"<", SEMVER_TOKEN_LT},
        {">", SEMVER_TOKEN_GT},  {"=", SEMVER_TOKEN_EQ},  {"~", SEMVER_TOKEN_TILDE},  {"^", SEMVER_TOKEN_CARET},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if ((size_t)(end - *p) >= n && memcmp(*p, ops[i].text, n) == 0) {
            *p += n;
            return ops[i].op;
        }
    }
    return SEMVER_TOKEN_NONE;
}

static int semver_range_fail(mkt_error *err, const semver_token *token, const char *why)
{
    if (token && semver_echoable(token->text, token->len))
        return error_set(err, ERROR_VALIDATION, "invalid range: \"%.*s\": %s", (int)token->len, token->text, why);
    return error_set(err, ERROR_VALIDATION, "invalid range: %s", why);
}

/* Scans a token's version: an optional "v" (as npm allows in ranges), then a partial version. */
static const char *semver_scan_token(const semver_token *token, semver_spec *spec)
{
    const char *s = token->text, *end = token->text + token->len;
    if (s < end && *s == 'v')
        s++;
    return semver_scan(s, end, 1, spec);
}

/* Splits [p, end) into tokens; `tokens` has room for one per two characters plus one, which is more than
 * whitespace-separated tokens can need. */
static size_t semver_tokenize(const char *p, const char *end, semver_token *tokens, const char **why)
{
    size_t count = 0;
    *why = NULL;
    for (;;) {
        while (p < end && semver_is_space(*p))
            p++;
        if (p == end)
            return count;
        const char *start = p;
        semver_token_op op = semver_read_op(&p, end);
        while (p < end && semver_is_space(*p))
            p++; /* npm allows ">= 1.2.3" */
        const char *text = p;
        while (p < end && !semver_is_space(*p))
            p++;
        tokens[count] = (semver_token){op, text, (size_t)(p - text)};
        if (text == p) {
            tokens[count].text = start;
            tokens[count].len = (size_t)(p - start);
            *why = "an operator without a version";
            return count + 1;
        }
        count++;
    }
}

static int semver_token_is_hyphen(const semver_token *t)
{
    return t->op == SEMVER_TOKEN_NONE && t->len == 1 && t->text[0] == '-';
}

static int semver_parse_hyphen(semver_set *set, const semver_token *tokens, size_t count, mkt_error *err)
{
    if (count != 3 || !semver_token_is_hyphen(&tokens[1]) || tokens[0].op != SEMVER_TOKEN_NONE ||
        tokens[2].op != SEMVER_TOKEN_NONE)
        return semver_range_fail(err, NULL, "a hyphen range is written \"A - B\" with nothing else beside it");
    semver_spec low, high;
    const char *why;
    if ((why = semver_scan_token(&tokens[0], &low)))
        return semver_range_fail(err, &tokens[0], why);
    if ((why = semver_scan_token(&tokens[2], &high)))
        return semver_range_fail(err, &tokens[2], why);
    int rc = low.parts ? semver_set_add_at(set, SEMVER_OP_GE, &low) : 0;
    /* A partial upper end includes all of it: 1.2.3 - 2.3 means <2.4.0-0 */
    if (high.parts == 3)
        rc |= semver_set_add_at(set, SEMVER_OP_LE, &high);
    else if (high.parts > 0)
        rc |= semver_set_add_below(set, &high, high.parts - 1);
    return rc ? error_set(err, ERROR_INTERNAL, "%s", semver_oom) : 0;
}

static int semver_parse_set(semver_set *set, const char *p, const char *end, mkt_error *err)
{
    semver_token *tokens = malloc(((size_t)(end - p) / 2 + 1) * sizeof *tokens);
    if (!tokens)
        return error_set(err, ERROR_INTERNAL, "%s", semver_oom);
    const char *why;
    size_t count = semver_tokenize(p, end, tokens, &why);
    int rc = 0;
    if (why) {
        rc = semver_range_fail(err, &tokens[count - 1], why);
    } else if (count >= 2 && semver_token_is_hyphen(&tokens[1])) {
        rc = semver_parse_hyphen(set, tokens, count, err);
    } else {
        for (size_t i = 0; i < count && rc == 0; i++) {
            semver_spec spec;
            if (semver_token_is_hyphen(&tokens[i]))
                rc = semver_range_fail(err, NULL, "a hyphen range is written \"A - B\" with nothing else beside it");
            else if ((why = semver_scan_token(&tokens[i], &spec)))
                rc = semver_range_fail(err, &tokens[i], why);
            else if (semver_desugar(set, tokens[i].op, &spec) < 0)
                rc = error_set(err, ERROR_INTERNAL, "%s", semver_oom);
        }
    }
    free(tokens);
    return rc;
}

/* The end of the alternative starting at p: the next "||" or the end. A lone '|' is an error. */
static const char *semver_find_or(const char *p, const char *end, const char **why)
{
    *why = NULL;
    for (; p < end; p++) {
        if (*p != '|')
            continue;
        if (p + 1 < end && p[1] == '|')
            return p;
        *why = "a single '|' (alternatives are separated by \"||\")";
        return p;
    }
    return end;
}

semver_range *semver_range_parse(const char *text, mkt_error *err)
{
    if (!text) {
        error_set(err, ERROR_VALIDATION, "invalid range: missing");
        return NULL;
    }
    size_t len = strnlen(text, SEMVER_RANGE_MAX_LENGTH + 1);
    if (len > SEMVER_RANGE_MAX_LENGTH) {
        error_set(err, ERROR_VALIDATION, "invalid range: longer than %d characters", SEMVER_RANGE_MAX_LENGTH);
        return NULL;
    }
    semver_range *range = calloc(1, sizeof *range);
    size_t alternatives = 1;
    for (size_t i = 0; i + 1 < len; i++)
        if (text[i] == '|' && text[i + 1] == '|')
            alternatives++, i++;
    if (!range || !(range->sets = calloc(alternatives, sizeof *range->sets))) {
        free(range);
        error_set(err, ERROR_INTERNAL, "%s", semver_oom);
        return NULL;
    }
    const char *p = text, *end = text + len;
    for (;;) {
        const char *why;
        const char *stop = semver_find_or(p, end, &why);
        if (why) {
            semver_range_fail(err, NULL, why);
            semver_range_free(range);
            return NULL;
        }
        /* counted before filling, so a failed set is freed with the range */
        semver_set *set = &range->sets[range->count++];
        if (semver_parse_set(set, p, stop, err) < 0) {
            semver_range_free(range);
            return NULL;
        }
        if (stop == end)
            break;
        p = stop + 2;
    }
    return range;
}

void semver_range_free(semver_range *range)
{
    if (!range)
        return;
    for (size_t i = 0; i < range->count; i++) {
        for (size_t j = 0; j < range->sets[i].count; j++)
            semver_free(&range->sets[i].items[j].v);
        free(range->sets[i].items);
    }
    free(range->sets);
    free(range);
}

/* ---- ranges: matching ---- */

static int semver_comparator_test(const semver_comparator *c, const semver *v)
{
    int cmp = semver_compare(v, &c->v);
    switch (c->op) {
    case SEMVER_OP_EQ: return cmp == 0;
    case SEMVER_OP_LT: return cmp < 0;
    case SEMVER_OP_LE: return cmp <= 0;
    case SEMVER_OP_GT: return cmp > 0;
    case SEMVER_OP_GE: return cmp >= 0;
    }
    return 0;
}

static int semver_set_test(const semver_set *set, const semver *v)
{
    for (size_t i = 0; i < set->count; i++)
        if (!semver_comparator_test(&set->items[i], v))
            return 0;
    if (!v->prerelease || !*v->prerelease)
        return 1;
    /* npm's rule: someone asking for ^1.2.3 has not opted into 1.3.0-alpha. A pre-release only matches
     * when the range itself names a pre-release of the same MAJOR.MINOR.PATCH. */
    for (size_t i = 0; i < set->count; i++) {
        const semver *c = &set->items[i].v;
        if (c->prerelease && *c->prerelease && c->major == v->major && c->minor == v->minor && c->patch == v->patch)
            return 1;
    }
    return 0;
}

int semver_range_satisfies(const semver_range *range, const semver *v)
{
    if (!range || !v)
        return 0;
    for (size_t i = 0; i < range->count; i++)
        if (semver_set_test(&range->sets[i], v))
            return 1;
    return 0;
}

int semver_range_max_satisfying(const semver_range *range, const semver *versions, size_t n)
{
    int best = -1;
    if (n > INT_MAX)
        n = INT_MAX; /* the index must fit the return type */
    for (size_t i = 0; i < n; i++) {
        if (semver_range_satisfies(range, &versions[i]) &&
            (best < 0 || semver_compare(&versions[i], &versions[best]) > 0))
            best = (int)i;
    }
    return best;
}

/* ---- ranges: formatting ---- */

static int semver_append(char **buf, size_t *len, const char *s)
{
    size_t n = strlen(s);
    char *grown = realloc(*buf, *len + n + 1);
    if (!grown)
        return -1;
    memcpy(grown + *len, s, n + 1);
    *buf = grown;
    *len += n;
    return 0;
}

char *semver_range_format(const semver_range *range)
{
    static const char *const op_text[] = {
        [SEMVER_OP_EQ] = "", [SEMVER_OP_LT] = "<", [SEMVER_OP_LE] = "<=", [SEMVER_OP_GT] = ">", [SEMVER_OP_GE] = ">=",
    };
    char *buf = NULL;
    size_t len = 0;
    int rc = semver_append(&buf, &len, "");
    for (size_t i = 0; range && i < range->count && rc == 0; i++) {
        const semver_set *set = &range->sets[i];
        if (i > 0)
            rc |= semver_append(&buf, &len, " || ");
        if (set->count == 0)
            rc |= semver_append(&buf, &len, "*");
        for (size_t j = 0; j < set->count && rc == 0; j++) {
            char *version = semver_format(&set->items[j].v);
            rc |= !version || (j > 0 && semver_append(&buf, &len, " ")) ||
                  semver_append(&buf, &len, op_text[set->items[j].op]) || semver_append(&buf, &len, version);
            free(version);
        }
    }
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}
