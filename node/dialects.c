/* dialects.c - which dialect serves which WebSocket path. Adding a dialect is
 * one file and one row here. */
#include "dialect.h"

#include <string.h>

static const struct {
    const char *path;
    const sr_dialect *dialect;
} routes[] = {
    {"/", &sr_dialect_tokensync},
};

const sr_dialect *sr_dialect_for_path(const char *path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (!strcmp(path, routes[i].path)) return routes[i].dialect;
    return NULL;
}
