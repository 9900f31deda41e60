#include "fcgi/auth_cache.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/auth.h"
#include "fcgi/scoreboard.h"

typedef struct {
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    account_caller caller;
    uint64_t epoch;
    uint64_t stored_ms;
    int used;
} auth_cache_entry;

static auth_cache_entry auth_cache_entries[AUTH_CACHE_SLOTS];

static auth_cache_entry *auth_cache_slot(const unsigned char hash[AUTH_TOKEN_HASH_LEN])
{
    /* The hash is uniformly distributed already: its first bytes pick the slot. */
    unsigned index = ((unsigned)hash[0] << 8 | hash[1]) % AUTH_CACHE_SLOTS;
    return &auth_cache_entries[index];
}

/* Session tokens and API keys share the cache: both are keyed by the SHA-256 of their whole text. */
static int auth_cache_hash(const char *token, unsigned char hash[AUTH_TOKEN_HASH_LEN])
{
    if (auth_token_well_formed(token))
        auth_token_hash(token, AUTH_TOKEN_TEXT_LEN, hash);
    else if (auth_api_key_well_formed(token))
        auth_token_hash(token, AUTH_API_KEY_TEXT_LEN, hash);
    else
        return -1;
    return 0;
}

int auth_cache_lookup(const char *token, uint64_t epoch, account_caller *out)
{
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    if (auth_cache_hash(token, hash) < 0)
        return 0;
    auth_cache_entry *e = auth_cache_slot(hash);
    if (!e->used || e->epoch != epoch || CRYPTO_memcmp(e->hash, hash, sizeof hash) != 0)
        return 0;
    if (scoreboard_now_ms() - e->stored_ms > AUTH_CACHE_TTL_MS || (int64_t)time(NULL) >= e->caller.expires_at) {
        e->used = 0;
        return 0;
    }
    *out = e->caller;
    return 1;
}

void auth_cache_store(const char *token, uint64_t epoch, const account_caller *caller)
{
    unsigned char hash[AUTH_TOKEN_HASH_LEN];
    if (auth_cache_hash(token, hash) < 0)
        return;
    auth_cache_entry *e = auth_cache_slot(hash);
    memcpy(e->hash, hash, sizeof hash);
    e->caller = *caller;
    e->epoch = epoch;
    e->stored_ms = scoreboard_now_ms();
    e->used = 1;
}

/* ---- profiles ----------------------------------------------------------------------------------- */

typedef struct {
    int64_t user_id; /* 0: empty */
    uint64_t epoch;
    uint64_t stored_ms;
    size_t len;
    char text[AUTH_CACHE_PROFILE_BYTES];
} auth_cache_profile;

static auth_cache_profile auth_cache_profiles[AUTH_CACHE_SLOTS];

static auth_cache_profile *auth_cache_profile_slot(int64_t user_id)
{
    return &auth_cache_profiles[((uint64_t)user_id * 0x9E3779B97F4A7C15u >> 32) % AUTH_CACHE_SLOTS];
}

char *auth_cache_profile_lookup(int64_t user_id, uint64_t epoch)
{
    auth_cache_profile *p = auth_cache_profile_slot(user_id);
    if (user_id <= 0 || p->user_id != user_id || p->epoch != epoch ||
        scoreboard_now_ms() - p->stored_ms > AUTH_CACHE_TTL_MS)
        return NULL;
    char *copy = malloc(p->len + 1);
    if (copy)
        memcpy(copy, p->text, p->len + 1);
    return copy;
}

void auth_cache_profile_store(int64_t user_id, uint64_t epoch, const char *text)
{
    size_t len = strlen(text);
    auth_cache_profile *p = auth_cache_profile_slot(user_id);
    if (user_id <= 0 || len >= sizeof p->text)
        return;
    p->user_id = user_id;
    p->epoch = epoch;
    p->stored_ms = scoreboard_now_ms();
    p->len = len;
    memcpy(p->text, text, len + 1);
}
