/* Configuration: a `key = value` file plus MARKETPLACE_<KEY> environment overrides.
 * Every key, its default and its bounds live in one table in config.c; README documents them. */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdint.h>

#include "core/error.h"

#define CONFIG_DEFAULT_PATH "/etc/marketplace/marketplace.conf"

typedef struct config {
    /* server */
    char *listen;              /* "host:port" or an absolute unix socket path */
    int64_t listen_mode;       /* permissions of a unix socket, octal in the file (0660) */
    int64_t listen_backlog;
    int64_t workers;           /* 0 = 2 × CPUs */
    int64_t max_requests;      /* a worker exits after this many, 0 = never */
    int64_t shutdown_timeout;  /* seconds SIGTERM waits for in-flight requests */
    int64_t request_timeout;   /* seconds before the master kills a stuck worker, 0 = never */
    char *base_path;           /* URL prefix the routes live under */
    int64_t max_body;          /* bytes */
    char *log_level;
    /* database */
    char *db_host;             /* empty = use db_socket */
    int64_t db_port;
    char *db_socket;
    char *db_user;
    char *db_password;
    char *db_name;
    int64_t db_timeout;        /* connect/read/write timeout, seconds */
    /* accounts */
    int64_t token_ttl;         /* seconds a session token lives */
    int64_t scrypt_n;
    int64_t scrypt_r;
    int64_t scrypt_p;
    /* sandbox */
    int64_t sandbox_instructions;
    int64_t sandbox_memory;
    int64_t sandbox_output;
    int64_t sandbox_timeout_ms;
    /* one budget shared by every sandbox run of one request (a draft's tests, publish's check + tests);
     * config_load checks sandbox_timeout_ms <= sandbox_request_ms < request_timeout and
     * sandbox_instructions <= sandbox_request_instructions */
    int64_t sandbox_request_ms;
    int64_t sandbox_request_instructions;
    int64_t sandbox_request_output; /* bytes of test results in one answer */
    /* money and signing */
    char *issuer;
    char *signing_key_dir;     /* directory of Ed25519 PEM keys (keygen writes here) */
    char *webhook_secret;      /* may hold several secrets separated by commas (rotation) */
    int64_t platform_fee_bps;
    int64_t min_payout_cents;
    int64_t payout_token_ttl;
    int64_t payout_sweep_interval; /* seconds between a worker's sweeps for expired payout tokens */
    /* moderation */
    int64_t report_min_account_age; /* seconds an account must exist before its review reports count toward
                                     * hiding a review; 0 = every account counts */
    /* review limits and ratings */
    int64_t review_rate_limit;     /* reviews one account may create per sliding hour, 0 = no limit */
    int64_t rating_prior_weight;   /* m of the Bayesian rating: imaginary reviews at the global mean */
    /* search: the weights of relevance (README "Search"), each 0..1000 */
    int64_t search_weight_text;
    int64_t search_weight_rating;
    int64_t search_weight_downloads;
    int64_t search_weight_freshness;
    int64_t search_freshness_days; /* half-life of the freshness term, in days */
    /* activity (trending): the weight of each event in the decayed score and its half-life */
    int64_t activity_weight_execution; /* per successful execution */
    int64_t activity_weight_purchase;  /* per completed purchase (a free checkout too) */
    int64_t activity_weight_review;    /* per review written */
    int64_t activity_half_life_hours;  /* an event counts half after this long */
    /* search engine: "memory" (each worker's in-memory index, core/search_index) or "sql" (InnoDB FULLTEXT) */
    char *search_engine;
    /* test-mode payment provider: where a pending checkout sends the buyer to pay, as
     * "<checkout_url>/<transaction id>?amount_cents=N&currency=C"; empty (production: the real
     * provider hosts checkout) = the checkout answer has no checkout_url */
    char *checkout_url;
    /* search answers: how long a worker reuses its answer to the same query (core/query_cache;
     * 0: never). Writes clear it at once; this bounds only the drift of the freshness term. */
    int64_t search_answer_cache_ms;
    /* API keys: requests one key may make a minute, counted in shared memory (core/throttle); 0 = no limit */
    int64_t api_key_rate_per_minute;
    /* plans and quotas: the most units of a buyer's quota one app host leases from MariaDB at once
     * (core/quota: a host that crashes loses at most this many of one buyer's period) */
    int64_t quota_lease_max;
    /* several app hosts (docs/scaling.md): this host's name in the cluster's job leases and logs;
     * empty = the machine's host name */
    char *host_id;
    int64_t cluster_poll_ms;       /* how often the master reads other hosts' changes (core/cluster.h); 0 = never */
    /* read replica (docs/scaling.md "Replica"): a MariaDB replica of db_* that takes the reads that
     * tolerate lag (routes marked ROUTE_REPLICA). Neither socket nor host set = no replica. */
    char *db_replica_socket;
    char *db_replica_host;
    int64_t db_replica_port;
    int64_t replica_max_lag;      /* seconds behind the primary past which its reads go to the primary */
    int64_t replica_ryw_window;   /* seconds a signed-in caller's reads go to the primary after their write */
} config;

/* Fills cfg with defaults, then the file (when path is non-NULL and exists or was asked for
 * explicitly), then the environment, then checks the keys that bound each other (config_check).
 * Errors name the file, line and reason. */
int config_load(config *cfg, const char *path, int path_required, mkt_error *err);
void config_defaults(config *cfg);
/* Applies one `key = value` pair; used by the file reader and the environment. */
int config_set(config *cfg, const char *key, const char *value, mkt_error *err);
void config_free(config *cfg);
/* The rules between keys, once all are set: the sandbox's request budget must end before the master's
 * request_timeout, and hold at least one whole run. Returns 0, or -1 with err naming the keys. */
int config_check(const config *cfg, mkt_error *err);

/* Resolved worker count (workers = 0 means 2 × online CPUs). */
int config_worker_count(const config *cfg);

#endif
