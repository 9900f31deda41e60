/* The whitelisted environment of a sandbox state (see core/sandbox.h for the list and the reasons).
 * Libraries are opened one by one; what a script must not reach is removed, and the few library functions
 * that could catch a tripped cap or loop in C unboundedly are wrapped. */
#include "core/sandbox_internal.h"

#include <lauxlib.h>
#include <lualib.h>

/* Linear passes over strings in C (compiling a chunk, utf8.len, tonumber, string.rep) are charged one work
 * unit per this many bytes. */
#define ENV_SCAN_BYTES_PER_UNIT 16

static void env_wrap(lua_State *L, int idx, const char *name, lua_CFunction wrapper);
static int env_charge_string_arg(lua_State *L);

/* ---- base ---- */

static int env_print(lua_State *L)
{
    (void)L; /* no output channel: print is accepted and dropped */
    return 0;
}

/* Shared continuation of pcall/xpcall, also used when nothing yielded. A tripped cap goes straight on
 * up; any other error becomes false, message. */
static int env_pcall_done(lua_State *L, int status, lua_KContext keep)
{
    sandbox_charge(L, 0);
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_pushvalue(L, -2);
        return 2;
    }
    return lua_gettop(L) - (int)keep;
}

static int env_pcall(lua_State *L)
{
    luaL_checkany(L, 1);
    sandbox_charge(L, 1); /* pcall of a non-function runs no instruction: count the call itself */
    lua_pushboolean(L, 1);
    lua_insert(L, 1); /* true, f, args... */
    int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, env_pcall_done);
    return env_pcall_done(L, status, 0);
}

static int env_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    sandbox_charge(L, 1);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    lua_rotate(L, 3, 2); /* f, handler, true, f, args... */
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, env_pcall_done);
    return env_pcall_done(L, status, 2);
}

/* load(chunk [, chunkname [, mode [, env]]]): string chunks only, always text mode whatever mode says. */
static int env_load(lua_State *L)
{
    size_t len = 0;
    const char *chunk = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &len) : NULL;
    if (!chunk) {
        luaL_pushfail(L);
        lua_pushliteral(L, "load: only string chunks can be loaded in the sandbox");
        return 2;
    }
    const char *name = luaL_optstring(L, 2, "=(load)");
    sandbox_charge(L, (int64_t)(len / ENV_SCAN_BYTES_PER_UNIT));
    int has_env = !lua_isnone(L, 4);
    if (luaL_loadbufferx(L, chunk, len, name, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    if (has_env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

/* Lua 5.4 runs finalizers with hooks disabled (GCTM clears allowhook), so a looping __gc could never be
 * stopped, not even at lua_close. An object is marked for finalization only when setmetatable sees a
 * __gc field (adding one later has no effect), so refusing it here closes the door. */
static int env_setmetatable(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE); /* checked here so errors name 'setmetatable' */
    luaL_argexpected(L, lua_isnoneornil(L, 2) || lua_type(L, 2) == LUA_TTABLE, 2, "nil or table");
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc metamethods are not supported in the sandbox");
        lua_pop(L, 1);
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static void env_open_base(lua_State *L)
{
    static const char *const removed[] = {"dofile", "loadfile", "collectgarbage", "warn", "require", NULL};
    static const luaL_Reg replaced[] = {
        {"print", env_print}, {"pcall", env_pcall}, {"xpcall", env_xpcall}, {"load", env_load}, {NULL, NULL}};
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    for (int i = 0; removed[i]; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, removed[i]);
    }
    luaL_setfuncs(L, replaced, 0);
    env_wrap(L, lua_gettop(L), "tonumber", env_charge_string_arg);
    env_wrap(L, lua_gettop(L), "setmetatable", env_setmetatable);
    lua_pop(L, 1);
}

/* ---- table: charge what the C loops touch ---- */

/* These functions read the length and elements through metamethods; a __len that answers 2^40 (or a
 * different number the second time) would make them loop in C past any charge. Plain tables only. */
static void env_plain_table(lua_State *L, int arg, const char *fname)
{
    static const char *const fields[] = {"__index", "__newindex", "__len", NULL};
    luaL_checktype(L, arg, LUA_TTABLE);
    if (!lua_getmetatable(L, arg))
        return;
    for (int i = 0; fields[i]; i++) {
        lua_pushstring(L, fields[i]);
        if (lua_rawget(L, -2) != LUA_TNIL) /* raw: the metatable's own metatable must not run code */
            luaL_error(L, "table.%s: tables with a %s metamethod are not supported in the sandbox", fname,
                       fields[i]);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Elements from first to last, 0 when empty, saturating instead of overflowing. */
static int64_t env_span(lua_Integer first, lua_Integer last)
{
    if (last < first)
        return 0;
    lua_Unsigned n = (lua_Unsigned)last - (lua_Unsigned)first + 1u;
    return n == 0 || n > (lua_Unsigned)INT64_MAX ? INT64_MAX : (int64_t)n;
}

/* 1 (the call) + span, saturating */
static int64_t env_call_plus(int64_t span)
{
    return span < INT64_MAX ? span + 1 : INT64_MAX;
}

/* Charges cost, then calls the original library function (upvalue 1) with the same arguments. */
static int env_table_forward(lua_State *L, int64_t cost)
{
    sandbox_charge(L, cost);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static int env_table_insert(lua_State *L)
{
    env_plain_table(L, 1, "insert");
    int64_t cost = 1;
    if (lua_gettop(L) >= 3) { /* insert at a position shifts the elements after it */
        lua_Integer pos = luaL_checkinteger(L, 2), n = (lua_Integer)lua_rawlen(L, 1);
        if (pos >= 1 && pos <= n) /* out of range: the library refuses it */
            cost = env_call_plus(env_span(pos, n));
    }
    return env_table_forward(L, cost);
}

static int env_table_remove(lua_State *L)
{
    env_plain_table(L, 1, "remove");
    int64_t cost = 1;
    if (!lua_isnoneornil(L, 2)) {
        lua_Integer pos = luaL_checkinteger(L, 2), n = (lua_Integer)lua_rawlen(L, 1);
        if (pos >= 1 && pos <= n)
            cost = env_call_plus(env_span(pos, n));
    }
    return env_table_forward(L, cost);
}

static int env_table_move(lua_State *L)
{
    env_plain_table(L, 1, "move");
    if (!lua_isnoneornil(L, 5))
        env_plain_table(L, 5, "move");
    int64_t cost = env_call_plus(env_span(luaL_checkinteger(L, 2), luaL_checkinteger(L, 3)));
    return env_table_forward(L, cost);
}

static int env_table_sort(lua_State *L)
{
    env_plain_table(L, 1, "sort");
    int64_t n = (int64_t)lua_rawlen(L, 1), log2n = 1;
    while (log2n < 62 && (INT64_C(1) << log2n) < n)
        log2n++;
    return env_table_forward(L, 1 + n * log2n);
}

/* concat(list, sep, i, j) and unpack(list, i, j): j defaults to #list */
static int64_t env_range_cost(lua_State *L, int first_arg)
{
    lua_Integer first = luaL_optinteger(L, first_arg, 1);
    lua_Integer last = lua_isnoneornil(L, first_arg + 1) ? (lua_Integer)lua_rawlen(L, 1)
                                                          : luaL_checkinteger(L, first_arg + 1);
    return env_call_plus(env_span(first, last));
}

static int env_table_concat(lua_State *L)
{
    env_plain_table(L, 1, "concat");
    return env_table_forward(L, env_range_cost(L, 3));
}

static int env_table_unpack(lua_State *L)
{
    env_plain_table(L, 1, "unpack");
    return env_table_forward(L, env_range_cost(L, 2));
}

/* utf8.len, utf8.offset and tonumber scan a string in C without allocating, so neither the hook nor the
 * allocator's clock check sees that work: charge it by length (same rate as load). */
static int env_charge_string_arg(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        sandbox_charge(L, (int64_t)(lua_rawlen(L, 1) / ENV_SCAN_BYTES_PER_UNIT));
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces field name of the table at idx by a closure over the original function. */
static void env_wrap(lua_State *L, int idx, const char *name, lua_CFunction wrapper)
{
    lua_getfield(L, idx, name);
    lua_pushcclosure(L, wrapper, 1);
    lua_setfield(L, idx, name);
}

static void env_open_table(lua_State *L)
{
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    int t = lua_gettop(L);
    env_wrap(L, t, "insert", env_table_insert);
    env_wrap(L, t, "remove", env_table_remove);
    env_wrap(L, t, "move", env_table_move);
    env_wrap(L, t, "sort", env_table_sort);
    env_wrap(L, t, "concat", env_table_concat);
    env_wrap(L, t, "unpack", env_table_unpack);
    lua_pop(L, 1);
}

/* ---- string ---- */

/* Stock string.rep('', 2^62) passes the size check (the result is empty) and then loops 2^62 times
 * copying nothing, unhooked and without allocating. An empty result is answered here. Any other result
 * is bounded by the memory cap; it is charged by its size afterwards, so that a request too large to
 * build still reads as the memory limit. */
static int env_string_rep(lua_State *L)
{
    size_t l = 0, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    int top = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, top, 1);
    sandbox_charge(L, (int64_t)(lua_rawlen(L, -1) / ENV_SCAN_BYTES_PER_UNIT));
    return 1;
}

static void env_open_string(lua_State *L)
{
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    int s = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, s, "dump"); /* bytecode out is useless without bytecode in, and leaks internals */
    sandbox_patterns_open(L, s);
    env_wrap(L, s, "rep", env_string_rep);
    /* The metatable every string shares: getmetatable("") answers false, so its __index can't be swapped. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
}

/* ---- coroutine, os ---- */

/* Every switch to another thread goes through these wrappers (resume, the function wrap returns, close),
 * which tell the sandbox which thread runs, so its timer arms the hook of that thread. The original is
 * called under lua_pcall so the running thread is always set back, even when the call raises; a tripped
 * cap is then re-raised (resume catches errors like pcall does). Coroutines inherit the count hook from
 * the thread that creates them, so their instructions are counted as well. */
static int env_switch_call(lua_State *L, lua_State *co, int nargs)
{
    lua_State *caller = sandbox_enter_thread(L, co);
    int status = lua_pcall(L, nargs, LUA_MULTRET, 0);
    sandbox_enter_thread(L, caller);
    sandbox_charge(L, 0);
    return status;
}

/* Raises the error a wrapped call failed with, positioned at the script's call like the original (its
 * own position info now names our C function, which adds nothing). */
static int env_switch_raise(lua_State *L, int status)
{
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

static int env_resume(lua_State *L)
{
    luaL_argexpected(L, lua_type(L, 1) == LUA_TTHREAD, 1, "coroutine");
    lua_State *co = lua_tothread(L, 1);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int status = env_switch_call(L, co, n);
    if (status != LUA_OK)
        return lua_error(L); /* only argument and memory errors get here: resume reports the rest */
    return lua_gettop(L);
}

static int env_close(lua_State *L)
{
    luaL_argexpected(L, lua_type(L, 1) == LUA_TTHREAD, 1, "coroutine");
    lua_State *co = lua_tothread(L, 1);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int status = env_switch_call(L, co, 1);
    if (status != LUA_OK)
        return env_switch_raise(L, status);
    return lua_gettop(L);
}

/* The function coroutine.wrap returned: upvalue 1 the original one, 2 its coroutine. */
static int env_wrapped_call(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int status = env_switch_call(L, lua_tothread(L, lua_upvalueindex(2)), n);
    if (status != LUA_OK)
        return env_switch_raise(L, status);
    return lua_gettop(L);
}

static int env_wrap_coroutine(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    /* the original wrap's closure keeps its coroutine as upvalue 1 */
    if (!lua_getupvalue(L, 1, 1) || lua_type(L, -1) != LUA_TTHREAD)
        return luaL_error(L, "coroutine.wrap: unexpected closure");
    lua_pushcclosure(L, env_wrapped_call, 2);
    return 1;
}

static void env_open_coroutine(lua_State *L)
{
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    env_wrap(L, lua_gettop(L), "resume", env_resume);
    env_wrap(L, lua_gettop(L), "close", env_close);
    env_wrap(L, lua_gettop(L), "wrap", env_wrap_coroutine);
    lua_pop(L, 1);
}

static void env_open_os(lua_State *L)
{
    static const char *const kept[] = {"time", "clock", "date", NULL};
    lua_pushcfunction(L, luaopen_os); /* a private copy: nothing registered in package.loaded */
    lua_call(L, 0, 1);
    lua_createtable(L, 0, 3);
    for (int i = 0; kept[i]; i++) {
        lua_getfield(L, -2, kept[i]);
        lua_setfield(L, -2, kept[i]);
    }
    lua_setglobal(L, "os");
    lua_pop(L, 1);
}

static void env_open_plain(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 1);
    lua_pop(L, 1);
}

void sandbox_env_open(lua_State *L)
{
    luaL_checkstack(L, 8, "sandbox environment");
    env_open_base(L);
    env_open_string(L);
    env_open_table(L);
    env_open_plain(L, LUA_MATHLIBNAME, luaopen_math);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    env_wrap(L, lua_gettop(L), "len", env_charge_string_arg);
    env_wrap(L, lua_gettop(L), "offset", env_charge_string_arg);
    lua_pop(L, 1);
    env_open_coroutine(L);
    env_open_os(L);
    sandbox_json_open(L);
}
