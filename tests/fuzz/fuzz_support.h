/* What several libFuzzer targets share: splitting the input into its newline-ended lines, and the
 * config the targets that go through the request layer run with. Header-only (static functions), so
 * each target stays one file and links only the layer it fuzzes. */
#ifndef TESTS_FUZZ_SUPPORT_H
#define TESTS_FUZZ_SUPPORT_H

#include <stdlib.h>
#include <string.h>

#include "core/config.h"

/* The next line of [*p, end), up to but without its '\n', malloc'd; *p moves past the newline. NULL
 * when no newline is left: the rest of the input is the body the caller reads as it is. */
static inline char *fuzz_line(const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return NULL;
    char *line = strndup(*p, (size_t)(nl - *p));
    if (!line)
        abort();
    *p = nl + 1;
    return line;
}

/* The config defaults, then key = value when key is not NULL (a setting the target needs reachable,
 * such as a small max_body); aborts when the setting is refused. */
static inline void fuzz_config_init(config *cfg, const char *key, const char *value)
{
    config_defaults(cfg);
    mkt_error err = MKT_ERROR_INIT;
    if (key && config_set(cfg, key, value, &err) < 0)
        abort();
}

/* Defines fuzz_cfg, the config a request-layer target runs with, and the LLVMFuzzerInitialize that
 * sets it up once (see fuzz_config_init). */
#define FUZZ_REQUEST_CONFIG(key, value)                    \
    static config fuzz_cfg;                                \
    int LLVMFuzzerInitialize(int *argc, char ***argv);     \
    int LLVMFuzzerInitialize(int *argc, char ***argv)      \
    {                                                      \
        (void)argc;                                        \
        (void)argv;                                        \
        fuzz_config_init(&fuzz_cfg, key, value);           \
        return 0;                                          \
    }

#endif
