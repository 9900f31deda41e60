#include "fcgi/problem.h"

static const struct {
    int status;
    const char *title;
    const char *slug;
} problem_table[] = {
    [ERROR_NONE] = {200, "OK", "ok"},
    [ERROR_BAD_REQUEST] = {400, "Bad Request", "bad-request"},
    [ERROR_UNAUTHORIZED] = {401, "Unauthorized", "unauthorized"},
    [ERROR_PAYMENT_REQUIRED] = {402, "Payment Required", "payment-required"},
    [ERROR_FORBIDDEN] = {403, "Forbidden", "forbidden"},
    [ERROR_NOT_FOUND] = {404, "Not Found", "not-found"},
    [ERROR_METHOD_NOT_ALLOWED] = {405, "Method Not Allowed", "method-not-allowed"},
    [ERROR_CONFLICT] = {409, "Conflict", "conflict"},
    [ERROR_GONE] = {410, "Gone", "gone"},
    [ERROR_TOO_LARGE] = {413, "Content Too Large", "too-large"},
    [ERROR_UNSUPPORTED_MEDIA] = {415, "Unsupported Media Type", "unsupported-media-type"},
    [ERROR_VALIDATION] = {422, "Unprocessable Content", "validation"},
    [ERROR_UNAVAILABLE] = {503, "Service Unavailable", "unavailable"},
    [ERROR_INTERNAL] = {500, "Internal Server Error", "internal"},
    /* the same type nginx's own rate limits answer with (nginx/marketplace.conf, @too_many) */
    [ERROR_RATE_LIMITED] = {429, "Too Many Requests", "too-many-requests"},
    /* plans and quotas: paying more (another plan) or waiting for the next period helps */
    [ERROR_QUOTA_EXCEEDED] = {402, "Payment Required", "quota-exceeded"},
};

static int problem_kind_known(error_kind kind)
{
    return (unsigned)kind < sizeof problem_table / sizeof problem_table[0];
}

int problem_status(error_kind kind)
{
    return problem_kind_known(kind) ? problem_table[kind].status : 500;
}

const char *problem_title(error_kind kind)
{
    return problem_kind_known(kind) ? problem_table[kind].title : "Internal Server Error";
}

const char *problem_slug(error_kind kind)
{
    return problem_kind_known(kind) ? problem_table[kind].slug : "internal";
}
