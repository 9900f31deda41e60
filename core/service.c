#include "core/service.h"

#include <stddef.h>

#include "core/activity.h"
#include "core/api_key.h"
#include "core/payout.h"
#include "core/quota.h"
#include "core/rate_limit.h"
#include "core/search.h"
#include "core/signing.h"
#include "core/tool_record.h"
#include "core/tool_usage.h"

/* Every service with lifecycle hooks, in the order they run. */
static const service_hooks *const service_table[] = {
    &signing_service,
    &tool_usage_service,
    &payout_service,
    &tool_record_service,
    &rate_limit_service,
    &search_service,
    &activity_service,
    &api_key_service,
    &quota_service,
};

#define SERVICE_EACH(hook, ...)                                                           \
    for (size_t i = 0; i < sizeof service_table / sizeof service_table[0]; i++)          \
        if (service_table[i]->hook)                                                        \
            service_table[i]->hook(__VA_ARGS__)

void service_master_load(const config *cfg)
{
    SERVICE_EACH(master_load, cfg);
}

void service_master_exit(void)
{
    for (size_t i = 0; i < sizeof service_table / sizeof service_table[0]; i++)
        if (service_table[i]->master_exit)
            service_table[i]->master_exit();
}

void service_worker_idle(service_worker *sw)
{
    SERVICE_EACH(worker_idle, sw);
}

void service_worker_after_request(service_worker *sw)
{
    SERVICE_EACH(worker_after_request, sw);
}

void service_worker_exit(service_worker *sw)
{
    SERVICE_EACH(worker_exit, sw);
}
