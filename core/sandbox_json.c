/* JSON <-> Lua for the sandbox: the one place that converts (rules in core/sandbox.h). */
#include "core/sandbox_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

/* Registry keys and the json.null sentinel: addresses of these are unique per process. */
static const char sandbox_json_null = 0;
static const char sandbox_json_array_key = 0;

#define JSON_NULL_UD ((void *)&sandbox_json_null)
#define JSON_PATH_MAX 256
#define JSON_KEY_IN_PATH_MAX 48

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, <= U+10FFFF), 0 if
 * invalid. */
static size_t json_utf8_seq(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (left < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

/* Size of the string in compact JSON (quotes and escapes as jansson writes them), or 0 if it is not valid
 * UTF-8 (a valid string is at least 2). */
static size_t json_string_cost(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t cost = 2;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t n = json_utf8_seq(s + i, len - i);
            if (!n)
                return 0;
            cost += n;
            i += n;
            continue;
        }
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            cost += 2;
        else if (c < 0x20)
            cost += 6;
        else
            cost += 1;
        i++;
    }
    return cost;
}

void sandbox_utf8_clean(char *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t out = 0;
    for (size_t i = 0; i < len;) {
        size_t n = json_utf8_seq(s + i, len - i);
        if (n == 1 && s[i] == '\0')
            n = 0; /* a C string ends at NUL: show it as '?' instead */
        size_t put = n ? n : 1;
        if (out + put >= cap)
            break;
        if (n)
            memcpy(dst + out, s + i, n);
        else
            dst[out] = '?';
        out += put;
        i += put;
    }
    dst[out] = '\0';
}

/* ---- JSON -> Lua ---- */

static void json_push_value(lua_State *L, const json_t *value, int depth);

static void json_push_array_marker(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &sandbox_json_array_key);
}

static void json_push_container(lua_State *L, const json_t *value, int depth)
{
    if (depth > SANDBOX_MAX_DEPTH)
        luaL_error(L, "nested deeper than %d levels", SANDBOX_MAX_DEPTH);
    luaL_checkstack(L, 4, "input nesting");
    if (json_is_array(value)) {
        size_t n = json_array_size(value);
        lua_createtable(L, n > INT32_MAX ? 0 : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            const json_t *item = json_array_get(value, i);
            if (json_is_null(item))
                lua_pushlightuserdata(L, JSON_NULL_UD); /* keeps the positions after it */
            else
                json_push_value(L, item, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        json_push_array_marker(L);
        lua_setmetatable(L, -2);
        return;
    }
    size_t n = json_object_size(value);
    lua_createtable(L, 0, n > INT32_MAX ? 0 : (int)n);
    for (void *it = json_object_iter((json_t *)value); it; it = json_object_iter_next((json_t *)value, it)) {
        const json_t *item = json_object_iter_value(it);
        if (json_is_null(item))
            continue; /* null members read as absent keys */
#if JANSSON_VERSION_HEX >= 0x020e00
        lua_pushlstring(L, json_object_iter_key(it), json_object_iter_key_len(it)); /* keys may hold NUL */
#else
        lua_pushstring(L, json_object_iter_key(it));
#endif
        json_push_value(L, item, depth + 1);
        lua_rawset(L, -3);
    }
}

static void json_push_value(lua_State *L, const json_t *value, int depth)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT:
    case JSON_ARRAY: json_push_container(L, value, depth); break;
    case JSON_STRING: lua_pushlstring(L, json_string_value(value), json_string_length(value)); break;
    case JSON_INTEGER: lua_pushinteger(L, (lua_Integer)json_integer_value(value)); break;
    case JSON_REAL: lua_pushnumber(L, (lua_Number)json_real_value(value)); break;
    case JSON_TRUE: lua_pushboolean(L, 1); break;
    case JSON_FALSE: lua_pushboolean(L, 0); break;
    default: lua_pushnil(L); break;
    }
}

void sandbox_push_json(lua_State *L, const json_t *value)
{
    if (!value)
        lua_pushnil(L);
    else
        json_push_value(L, value, 1);
}

/* ---- Lua -> JSON ---- */

typedef struct {
    lua_State *L;
    mkt_error *err;
    size_t size, max;                         /* compact JSON bytes so far, cap */
    const void *open[SANDBOX_MAX_DEPTH + 1];  /* tables on the current path, for cycles */
    int depth;
    /* Where we are, as segments: rendered to text only when something fails (formatting a path for
     * every element was the largest cost of converting big arrays). Keys point into Lua strings that
     * stay on the stack while their value is converted. */
    const char *root;
    struct {
        const char *key; /* NULL: an array position */
        size_t len_or_index;
    } seg[SANDBOX_MAX_DEPTH + 1];
    int segs;
} json_out;

static json_t *json_out_value(json_out *o, int idx);

/* "output.items[2].name"; keys are cleaned to valid UTF-8 and shortened, the whole path is cut to fit. */
static void json_path_render(const json_out *o, char *buf, size_t cap)
{
    size_t used = (size_t)snprintf(buf, cap, "%s", o->root);
    for (int i = 0; i < o->segs && used < cap; i++) {
        int n;
        if (!o->seg[i].key) {
            n = snprintf(buf + used, cap - used, "[%zu]", o->seg[i].len_or_index);
        } else {
            char clean[JSON_KEY_IN_PATH_MAX];
            sandbox_utf8_clean(clean, sizeof clean, o->seg[i].key, o->seg[i].len_or_index);
            n = snprintf(buf + used, cap - used, ".%s%s", clean,
                         strlen(clean) < o->seg[i].len_or_index ? "..." : "");
        }
        if (n < 0 || (size_t)n >= cap - used) {
            buf[used] = '\0'; /* drop a segment that does not fit whole */
            break;
        }
        used += (size_t)n;
    }
}

static json_t *json_out_fail(json_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static json_t *json_out_fail(json_out *o, const char *fmt, ...)
{
    char message[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    char path[JSON_PATH_MAX];
    json_path_render(o, path, sizeof path);
    error_set(o->err, ERROR_VALIDATION, "%s: %s", path, message);
    return NULL;
}

/* Counts bytes of output; returns -1 (error set) past the cap. */
static int json_out_add(json_out *o, size_t bytes)
{
    if (bytes > o->max - o->size) {
        error_set(o->err, ERROR_VALIDATION, "%s too large (more than %zu bytes)", o->root, o->max); /* output, input */
        return -1;
    }
    o->size += bytes;
    return 0;
}

static json_t *json_out_alloc_failed(json_out *o)
{
    error_set(o->err, ERROR_INTERNAL, "out of memory converting the output");
    return NULL;
}

static void json_path_push_index(json_out *o, size_t index)
{
    o->seg[o->segs].key = NULL;
    o->seg[o->segs].len_or_index = index;
    o->segs++;
}

static void json_path_push_key(json_out *o, const char *key, size_t len)
{
    o->seg[o->segs].key = key;
    o->seg[o->segs].len_or_index = len;
    o->segs++;
}

static void json_path_pop(json_out *o)
{
    o->segs--;
}

static size_t json_digits(long long v)
{
    size_t n = v < 0 ? 2 : 1;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    while (u >= 10) {
        u /= 10;
        n++;
    }
    return n;
}

static json_t *json_out_number(json_out *o, int idx)
{
    if (lua_isinteger(o->L, idx)) {
        long long v = (long long)lua_tointeger(o->L, idx);
        if (json_out_add(o, json_digits(v)) < 0)
            return NULL;
        json_t *j = json_integer(v);
        return j ? j : json_out_alloc_failed(o);
    }
    double d = (double)lua_tonumber(o->L, idx);
    if (!isfinite(d))
        return json_out_fail(o, "NaN or infinity cannot be represented in JSON");
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.17g", d);
    size_t cost = n > 0 ? (size_t)n : 24;
    if (!strpbrk(buf, ".eE"))
        cost += 2; /* jansson writes 1.0, not 1 */
    if (json_out_add(o, cost) < 0)
        return NULL;
    json_t *j = json_real(d);
    return j ? j : json_out_alloc_failed(o);
}

static json_t *json_out_string(json_out *o, int idx)
{
    size_t len = 0;
    const char *s = lua_tolstring(o->L, idx, &len); /* a string: no conversion, no allocation */
    size_t cost = json_string_cost(s, len);
    if (!cost)
        return json_out_fail(o, "string is not valid UTF-8");
    if (json_out_add(o, cost) < 0)
        return NULL;
    json_t *j = json_stringn_nocheck(s, len);
    return j ? j : json_out_alloc_failed(o);
}

static int json_out_marked_array(json_out *o, int idx)
{
    if (!lua_getmetatable(o->L, idx))
        return 0;
    json_push_array_marker(o->L);
    int marked = lua_rawequal(o->L, -1, -2);
    lua_pop(o->L, 2);
    return marked;
}

static json_t *json_out_array(json_out *o, int idx, size_t n)
{
    json_t *array = json_array();
    if (!array)
        return json_out_alloc_failed(o);
    if (json_out_add(o, n ? n + 1 : 2) < 0) /* brackets and commas */
        goto fail;
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(o->L, idx, (lua_Integer)i + 1);
        json_path_push_index(o, i);
        json_t *item = json_out_value(o, lua_gettop(o->L));
        json_path_pop(o);
        lua_pop(o->L, 1);
        if (!item)
            goto fail;
        if (json_array_append_new(array, item) < 0) {
            json_out_alloc_failed(o);
            goto fail;
        }
    }
    return array;
fail:
    json_decref(array);
    return NULL;
}

static json_t *json_out_object(json_out *o, int idx, size_t n)
{
    json_t *object = json_object();
    if (!object)
        return json_out_alloc_failed(o);
    if (json_out_add(o, n ? 2 * n + 1 : 2) < 0) /* braces, colons, commas */
        goto fail;
    lua_pushnil(o->L);
    while (lua_next(o->L, idx)) {
        size_t klen = 0;
        const char *key = lua_tolstring(o->L, -2, &klen); /* keys are strings here: safe during next */
        json_path_push_key(o, key, klen);
        size_t kcost = json_string_cost(key, klen);
        json_t *item = NULL;
        if (!kcost)
            json_out_fail(o, "key is not valid UTF-8");
#if JANSSON_VERSION_HEX < 0x020e00
        else if (strlen(key) != klen)
            json_out_fail(o, "key contains a NUL byte");
#endif
        else if (json_out_add(o, kcost) == 0)
            item = json_out_value(o, lua_gettop(o->L));
        json_path_pop(o);
        lua_pop(o->L, 1);
        if (!item) {
            lua_pop(o->L, 1); /* the key: leave the traversal */
            goto fail;
        }
#if JANSSON_VERSION_HEX >= 0x020e00
        int rc = json_object_setn_new_nocheck(object, key, klen, item);
#else
        int rc = json_object_set_new_nocheck(object, key, item);
#endif
        if (rc < 0) {
            lua_pop(o->L, 1);
            json_out_alloc_failed(o);
            goto fail;
        }
    }
    return object;
fail:
    json_decref(object);
    return NULL;
}

/* Decides array or object from the keys (see core/sandbox.h), then converts. */
static json_t *json_out_table(json_out *o, int idx)
{
    lua_State *L = o->L;
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < o->depth; i++)
        if (o->open[i] == self)
            return json_out_fail(o, "cycle (a table contains itself)");
    if (o->depth >= SANDBOX_MAX_DEPTH)
        return json_out_fail(o, "nested deeper than %d levels", SANDBOX_MAX_DEPTH);
    if (!lua_checkstack(L, 4)) {
        error_set(o->err, ERROR_VALIDATION, "memory limit exceeded (converting the output)");
        return NULL;
    }
    size_t strings = 0, integers = 0;
    lua_Integer largest = 0, key;
    const char *odd = NULL;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int type = lua_type(L, -1);
        if (type == LUA_TSTRING)
            strings++;
        else if (type == LUA_TNUMBER && lua_isinteger(L, -1) && (key = lua_tointeger(L, -1)) >= 1) {
            integers++;
            if (key > largest)
                largest = key;
        } else if (!odd)
            odd = type != LUA_TNUMBER ? lua_typename(L, type)
                  : lua_isinteger(L, -1) ? "an integer below 1 as"
                                         : "a non-integer number as";
    }
    if (odd && strchr(odd, ' '))
        return json_out_fail(o, "table has %s key (keys must be strings, or 1..n for an array)", odd);
    if (odd)
        return json_out_fail(o, "table has a %s key (keys must be strings, or 1..n for an array)", odd);
    if (strings && integers)
        return json_out_fail(o, "table mixes string keys and array indices");
    if (integers && (lua_Integer)integers != largest)
        return json_out_fail(o, "sparse array (the indices must be exactly 1..n)");

    o->open[o->depth++] = self;
    json_t *out;
    if (integers || (!strings && json_out_marked_array(o, idx)))
        out = json_out_array(o, idx, integers);
    else
        out = json_out_object(o, idx, strings);
    o->depth--;
    return out;
}

static json_t *json_out_value(json_out *o, int idx)
{
    json_t *j;
    switch (lua_type(o->L, idx)) {
    case LUA_TNIL:
        if (json_out_add(o, 4) < 0)
            return NULL;
        return json_null();
    case LUA_TBOOLEAN: {
        int b = lua_toboolean(o->L, idx);
        if (json_out_add(o, b ? 4 : 5) < 0)
            return NULL;
        j = json_boolean(b);
        return j;
    }
    case LUA_TNUMBER: return json_out_number(o, idx);
    case LUA_TSTRING: return json_out_string(o, idx);
    case LUA_TTABLE: return json_out_table(o, idx);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(o->L, idx) == JSON_NULL_UD) {
            if (json_out_add(o, 4) < 0)
                return NULL;
            return json_null();
        }
        return json_out_fail(o, "cannot convert a userdata to JSON");
    default: return json_out_fail(o, "cannot convert a %s to JSON", lua_typename(o->L, lua_type(o->L, idx)));
    }
}

json_t *sandbox_to_json(lua_State *L, int idx, size_t max_bytes, const char *root, mkt_error *err)
{
    json_out o = {.L = L, .err = err, .max = max_bytes, .root = root ? root : "value"};
    int top = lua_gettop(L);
    json_t *out = json_out_value(&o, lua_absindex(L, idx));
    lua_settop(L, top);
    return out;
}

/* ---- the json table ---- */

static int json_lua_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    json_push_array_marker(L);
    /* scripts can reach the marker (getmetatable of an array) and add __gc to it; setting it then
     * would mark the table for an unhooked finalizer, as setmetatable in sandbox_env.c explains */
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, -2) != LUA_TNIL)
        return luaL_error(L, "json.array: the array metatable has a __gc field");
    lua_pop(L, 1);
    lua_setmetatable(L, 1);
    return 1;
}

static int json_lua_null_tostring(lua_State *L)
{
    lua_pushliteral(L, "null");
    return 1;
}

void sandbox_json_open(lua_State *L)
{
    luaL_checkstack(L, 4, "sandbox json");
    lua_newtable(L); /* the array marker: identity is all that matters */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sandbox_json_array_key);

    /* json.null is the only light userdata scripts see, so the metatable shared by all light userdata is
     * effectively its own: tostring(json.null) == "null", and the metatable is protected. */
    lua_pushlightuserdata(L, JSON_NULL_UD);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, json_lua_null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);

    lua_createtable(L, 0, 2);
    lua_insert(L, -2);
    lua_setfield(L, -2, "null");
    lua_pushcfunction(L, json_lua_array);
    lua_setfield(L, -2, "array");
    lua_setglobal(L, "json");
}
