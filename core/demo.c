#include "core/demo.h"

#include <jansson.h>

#include "core/account.h"
#include "core/log.h"

static const struct {
    const char *email;
    const char *display_name;
    const char *developer_name; /* NULL: a buyer only */
    const char *role;           /* extra CLI-only role, or NULL */
} demo_accounts[] = {
    {"buyer@demo.test", "Demo Buyer", NULL, NULL},
    {"developer@demo.test", "Demo Developer", "Demo Tools Inc.", NULL},
    {"moderator@demo.test", "Demo Moderator", NULL, "moderator"},
    {"admin@demo.test", "Demo Admin", NULL, "admin"},
};

/* Registers one account, or logs in when it exists, and returns its caller identity. */
static int demo_account(db *db, const config *cfg, const char *email, const char *name, account_caller *caller,
                        mkt_error *err)
{
    json_t *body = json_pack("{s:s, s:s, s:s}", "email", email, "password", DEMO_PASSWORD, "display_name", name);
    json_t *out = account_register(db, cfg, body, err);
    if (!out && err->kind == ERROR_CONFLICT) {
        error_clear(err);
        json_object_del(body, "display_name");
        out = account_login(db, cfg, body, err);
    }
    json_decref(body);
    if (!out)
        return -1;
    const char *token = json_string_value(json_object_get(out, "token"));
    int rc = account_authenticate(db, token, caller, err);
    json_decref(out);
    return rc;
}

int demo_seed(db *db, const config *cfg, mkt_error *err)
{
    for (size_t i = 0; i < sizeof demo_accounts / sizeof demo_accounts[0]; i++) {
        account_caller caller;
        if (demo_account(db, cfg, demo_accounts[i].email, demo_accounts[i].display_name, &caller, err) < 0)
            return -1;
        if (demo_accounts[i].developer_name && caller.developer_id == 0) {
            json_t *body = json_pack("{s:s, s:s}", "display_name", demo_accounts[i].developer_name, "bio",
                                     "Sample developer profile created by `marketplace seed`.");
            json_t *dev = account_developer_create(db, &caller, body, err);
            json_decref(body);
            if (!dev)
                return -1;
            json_decref(dev);
        }
        if (demo_accounts[i].role && account_grant_role(db, demo_accounts[i].email, demo_accounts[i].role, err) < 0)
            return -1;
        log_info("demo account %s (password %s)", demo_accounts[i].email, DEMO_PASSWORD);
    }
    return 0;
}
