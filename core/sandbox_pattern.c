/* string.find/match/gmatch/gsub for the sandbox: Lua 5.4 pattern semantics, written here so that every
 * matcher step is charged to the work counter. Lua's own matcher runs in C where the count hook never
 * fires; a pattern like '.-.-.-.-.-.-b' backtracks polynomially and would hold the worker for hours.
 * Recursion is bounded (PM_MAX_DEPTH) like Lua's, so the C stack is safe too.
 * Nothing here owns C memory: a charge may raise (longjmp) at any step. */
#include "core/sandbox_internal.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>

#define PM_MAX_CAPTURES 32
#define PM_MAX_DEPTH 200       /* nested match calls, as in Lua ("pattern too complex") */
#define PM_CHARGE_EVERY 1024   /* steps batched per sandbox_charge */
#define PM_CAP_UNFINISHED (-1)
#define PM_CAP_POSITION (-2)
#define PM_ESC '%'

typedef struct {
    lua_State *L;
    const char *src_init, *src_end, *p_end;
    int depth_left;
    int level; /* captures opened so far */
    int64_t steps;
    struct {
        const char *init;
        ptrdiff_t len;
    } capture[PM_MAX_CAPTURES];
} pm_state;

static const char *pm_match(pm_state *ms, const char *s, const char *p);

static inline void pm_step(pm_state *ms)
{
    if (++ms->steps >= PM_CHARGE_EVERY) {
        int64_t steps = ms->steps;
        ms->steps = 0;
        sandbox_charge(ms->L, steps);
    }
}

static void pm_settle(pm_state *ms)
{
    int64_t steps = ms->steps;
    ms->steps = 0;
    sandbox_charge(ms->L, steps);
}

static void pm_init(pm_state *ms, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    ms->L = L;
    ms->src_init = s;
    ms->src_end = s + ls;
    ms->p_end = p + lp;
    ms->steps = 0;
}

static void pm_reset(pm_state *ms)
{
    ms->level = 0;
    ms->depth_left = PM_MAX_DEPTH;
}

/* %a, %d, ... (uppercase: complement); any other character after % stands for itself. */
static int pm_class(int c, int cl)
{
    int r;
    switch (tolower(cl)) {
    case 'a': r = isalpha(c); break;
    case 'c': r = iscntrl(c); break;
    case 'd': r = isdigit(c); break;
    case 'g': r = isgraph(c); break;
    case 'l': r = islower(c); break;
    case 'p': r = ispunct(c); break;
    case 's': r = isspace(c); break;
    case 'u': r = isupper(c); break;
    case 'w': r = isalnum(c); break;
    case 'x': r = isxdigit(c); break;
    case 'z': r = c == 0; break; /* deprecated, but stock 5.4 still accepts it */
    default: return cl == c;
    }
    return isupper(cl) ? !r : r != 0;
}

/* The end of the single-character class starting at p (after '%x', '[...]' or one character). */
static const char *pm_class_end(pm_state *ms, const char *p)
{
    char c = *p++;
    if (c == PM_ESC) {
        if (p >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c != '[')
        return p;
    if (p < ms->p_end && *p == '^')
        p++;
    for (int first = 1;; first = 0) { /* a ']' right after '[' or '[^' is literal */
        if (p >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        if (*p == ']' && !first)
            return p + 1;
        if (*p == PM_ESC && ++p >= ms->p_end)
            luaL_error(ms->L, "malformed pattern (missing ']')");
        p++;
    }
}

/* c against the set [ ... ] spanning p ('[') to close (']'). */
static int pm_set(int c, const char *p, const char *close)
{
    int negate = 0;
    p++;
    if (*p == '^') {
        negate = 1;
        p++;
    }
    for (; p < close; p++) {
        if (*p == PM_ESC) {
            p++;
            if (pm_class(c, (unsigned char)*p))
                return !negate;
        } else if (p + 2 < close && p[1] == '-') {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return !negate;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return !negate;
        }
    }
    return negate;
}

static int pm_single(pm_state *ms, const char *s, const char *p, const char *ep)
{
    if (s >= ms->src_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case PM_ESC: return pm_class(c, (unsigned char)p[1]);
    case '[': return pm_set(c, p, ep - 1);
    default: return (unsigned char)*p == c;
    }
}

/* %bxy: a balanced run from x to the matching y. */
static const char *pm_balance(pm_state *ms, const char *s, const char *p)
{
    if (p + 1 >= ms->p_end)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != p[0])
        return NULL;
    int open = 1;
    for (const char *q = s + 1; q < ms->src_end; q++) {
        pm_step(ms);
        if (*q == p[1]) {
            if (--open == 0)
                return q + 1;
        } else if (*q == p[0]) {
            open++;
        }
    }
    return NULL;
}

/* Greedy: take as many as possible, then give back one at a time. */
static const char *pm_max_expand(pm_state *ms, const char *s, const char *p, const char *ep)
{
    ptrdiff_t n = 0;
    while (pm_single(ms, s + n, p, ep)) {
        pm_step(ms);
        n++;
    }
    for (; n >= 0; n--) {
        const char *r = pm_match(ms, s + n, ep + 1);
        if (r)
            return r;
    }
    return NULL;
}

/* Lazy: try the rest first, take one more only when it fails. */
static const char *pm_min_expand(pm_state *ms, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = pm_match(ms, s, ep + 1);
        if (r)
            return r;
        if (!pm_single(ms, s, p, ep))
            return NULL;
        s++;
    }
}

static const char *pm_open_capture(pm_state *ms, const char *s, const char *p, ptrdiff_t what)
{
    if (ms->level >= PM_MAX_CAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->capture[ms->level].init = s;
    ms->capture[ms->level].len = what;
    ms->level++;
    const char *r = pm_match(ms, s, p);
    if (!r)
        ms->level--;
    return r;
}

static const char *pm_close_capture(pm_state *ms, const char *s, const char *p)
{
    int l = ms->level - 1;
    while (l >= 0 && ms->capture[l].len != PM_CAP_UNFINISHED)
        l--;
    if (l < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->capture[l].len = s - ms->capture[l].init;
    const char *r = pm_match(ms, s, p);
    if (!r)
        ms->capture[l].len = PM_CAP_UNFINISHED;
    return r;
}

/* %1..%9: the text of an earlier, closed capture. */
static const char *pm_backref(pm_state *ms, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == PM_CAP_UNFINISHED)
        luaL_error(ms->L, "invalid capture index %%%d in pattern", l + 1);
    size_t len = (size_t)ms->capture[l].len;
    if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0)
        return s + len;
    return NULL;
}

/* The match of pattern p at s: the end of the match, or NULL. Single-item steps loop; quantifiers and
 * captures recurse. */
static const char *pm_match(pm_state *ms, const char *s, const char *p)
{
    if (ms->depth_left-- == 0)
        luaL_error(ms->L, "pattern too complex");
    for (;;) {
        pm_step(ms);
        if (p >= ms->p_end)
            break;
        if (*p == '(') {
            s = p + 1 < ms->p_end && p[1] == ')' ? pm_open_capture(ms, s, p + 2, PM_CAP_POSITION)
                                                 : pm_open_capture(ms, s, p + 1, PM_CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            s = pm_close_capture(ms, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == ms->p_end) {
            s = s == ms->src_end ? s : NULL;
            break;
        }
        if (*p == PM_ESC && p + 1 < ms->p_end && p[1] == 'b') {
            s = pm_balance(ms, s, p + 2);
            if (!s)
                break;
            p += 4;
            continue;
        }
        if (*p == PM_ESC && p + 1 < ms->p_end && p[1] == 'f') {
            p += 2;
            if (p >= ms->p_end || *p != '[')
                luaL_error(ms->L, "missing '[' after '%%f' in pattern");
            const char *ep = pm_class_end(ms, p);
            int prev = s == ms->src_init ? 0 : (unsigned char)s[-1];
            int cur = s < ms->src_end ? (unsigned char)*s : 0;
            if (pm_set(prev, p, ep - 1) || !pm_set(cur, p, ep - 1)) {
                s = NULL;
                break;
            }
            p = ep;
            continue;
        }
        if (*p == PM_ESC && p + 1 < ms->p_end && isdigit((unsigned char)p[1])) {
            s = pm_backref(ms, s, (unsigned char)p[1]);
            if (!s)
                break;
            p += 2;
            continue;
        }
        /* a single-character class, maybe followed by a quantifier */
        const char *ep = pm_class_end(ms, p);
        char q = ep < ms->p_end ? *ep : '\0';
        int m = pm_single(ms, s, p, ep);
        if (q == '?') {
            const char *r;
            if (m && (r = pm_match(ms, s + 1, ep + 1)) != NULL) {
                s = r;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            s = m ? pm_max_expand(ms, s + 1, p, ep) : NULL;
            break;
        }
        if (q == '*') {
            s = pm_max_expand(ms, s, p, ep);
            break;
        }
        if (q == '-') {
            s = pm_min_expand(ms, s, p, ep);
            break;
        }
        if (!m) {
            s = NULL;
            break;
        }
        s++;
        p = ep;
    }
    ms->depth_left++;
    return s;
}

/* ---- captures to Lua values ---- */

static void pm_push_capture(pm_state *ms, int i, const char *s, const char *e)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s)); /* no captures: the whole match */
        return;
    }
    ptrdiff_t len = ms->capture[i].len;
    if (len == PM_CAP_UNFINISHED)
        luaL_error(ms->L, "unfinished capture");
    if (len == PM_CAP_POSITION)
        lua_pushinteger(ms->L, (ms->capture[i].init - ms->src_init) + 1);
    else
        lua_pushlstring(ms->L, ms->capture[i].init, (size_t)len);
}

/* Pushes all captures (the whole match when there are none and s is given); returns how many. */
static int pm_push_captures(pm_state *ms, const char *s, const char *e)
{
    int n = ms->level == 0 && s ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        pm_push_capture(ms, i, s, e);
    return n;
}

/* ---- the library functions ---- */

/* Lua 5.4's init rule: negative counts from the end, 0 and below -len clamp to 1. */
static size_t pm_start(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

static int pm_has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++)
        if (strchr("^$*+?.([%-", p[i]) && p[i] != '\0')
            return 1;
    return 0;
}

static int pm_find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = pm_start(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !pm_has_specials(p, lp))) {
        /* glibc memmem is linear; still charge the scan so a loop of long searches adds up */
        sandbox_charge(L, (int64_t)((ls - init) / 16));
        const char *hit = memmem(s + init, ls - init, p, lp);
        if (!hit) {
            luaL_pushfail(L);
            return 1;
        }
        lua_pushinteger(L, (hit - s) + 1);
        lua_pushinteger(L, (hit - s) + (lua_Integer)lp);
        return 2;
    }
    pm_state ms;
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    pm_init(&ms, L, s, ls, p, lp);
    const char *start = s + init;
    do {
        pm_reset(&ms);
        const char *e = pm_match(&ms, start, p);
        if (e) {
            pm_settle(&ms);
            if (!find)
                return pm_push_captures(&ms, start, e);
            lua_pushinteger(L, (start - s) + 1);
            lua_pushinteger(L, e - s);
            return pm_push_captures(&ms, NULL, NULL) + 2;
        }
    } while (start++ < ms.src_end && !anchor);
    pm_settle(&ms);
    luaL_pushfail(L);
    return 1;
}

static int pm_find(lua_State *L)
{
    return pm_find_or_match(L, 1);
}

static int pm_match_fn(lua_State *L)
{
    return pm_find_or_match(L, 0);
}

/* gmatch's iterator; upvalues: subject, pattern, next start offset, end offset of the last match (-1). */
static int pm_gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
    lua_Integer last = lua_tointeger(L, lua_upvalueindex(4));
    pm_state ms;
    pm_init(&ms, L, s, ls, p, lp);
    for (const char *src = s + pos; src <= ms.src_end; src++) {
        pm_reset(&ms);
        const char *e = pm_match(&ms, src, p);
        if (e && (last < 0 || e != s + last)) { /* an empty match right after the last one is skipped */
            pm_settle(&ms);
            lua_pushinteger(L, e - s);
            lua_copy(L, -1, lua_upvalueindex(3));
            lua_replace(L, lua_upvalueindex(4));
            return pm_push_captures(&ms, src, e);
        }
    }
    pm_settle(&ms);
    lua_pushinteger(L, (lua_Integer)ls + 1);
    lua_replace(L, lua_upvalueindex(3));
    return 0;
}

/* gmatch(s, pattern [, init]); '^' is not an anchor here, as in Lua 5.4. */
static int pm_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = pm_start(luaL_optinteger(L, 3, 1), ls) - 1;
    if (init > ls)
        init = ls + 1; /* past the end: no matches */
    lua_settop(L, 2);
    lua_pushinteger(L, (lua_Integer)init);
    lua_pushinteger(L, -1);
    lua_pushcclosure(L, pm_gmatch_next, 4);
    return 1;
}

/* Appends the replacement string (argument 3) with %0-%9 and %% expanded. */
static void pm_add_string(pm_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    size_t l;
    const char *r = lua_tolstring(ms->L, 3, &l);
    const char *end = r + l;
    const char *q;
    while ((q = memchr(r, PM_ESC, (size_t)(end - r))) != NULL) {
        luaL_addlstring(b, r, (size_t)(q - r));
        q++;
        if (q < end && *q == PM_ESC) {
            luaL_addchar(b, PM_ESC);
        } else if (q < end && *q == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (q < end && isdigit((unsigned char)*q)) {
            pm_push_capture(ms, *q - '1', s, e);
            luaL_tolstring(ms->L, -1, NULL); /* a position capture is an integer */
            lua_remove(ms->L, -2);
            luaL_addvalue(b);
        } else {
            luaL_error(ms->L, "invalid use of '%c' in replacement string", PM_ESC);
        }
        r = q + 1;
    }
    luaL_addlstring(b, r, (size_t)(end - r));
}

/* One replacement: string template, table lookup or function call; false/nil keeps the original text. */
static void pm_add_value(pm_state *ms, luaL_Buffer *b, const char *s, const char *e, int type)
{
    lua_State *L = ms->L;
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = pm_push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (type == LUA_TTABLE) {
        pm_push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        pm_add_string(ms, b, s, e);
        return;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return;
    }
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
}

static int pm_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    int type = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    luaL_argexpected(L, type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE,
                     3, "string/function/table");
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    pm_state ms;
    pm_init(&ms, L, src, ls, p, lp);
    const char *last = NULL;
    lua_Integer n = 0;
    while (n < max) {
        pm_reset(&ms);
        const char *e = pm_match(&ms, src, p);
        if (e && e != last) {
            n++;
            pm_add_value(&ms, &b, src, e, type);
            src = last = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    pm_settle(&ms);
    luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

void sandbox_patterns_open(lua_State *L, int idx)
{
    static const luaL_Reg fns[] = {
        {"find", pm_find}, {"match", pm_match_fn}, {"gmatch", pm_gmatch}, {"gsub", pm_gsub}, {NULL, NULL}};
    idx = lua_absindex(L, idx);
    lua_pushvalue(L, idx);
    luaL_setfuncs(L, fns, 0);
    lua_pop(L, 1);
}
