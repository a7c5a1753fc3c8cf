/* sr_alloc.c - allocation wrappers that abort on out-of-memory (sr_alloc.h). */
#include "sr_alloc.h"

#include <stdlib.h>
#include <string.h>

void *sr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) abort();
    return p;
}

void *sr_xcalloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p) abort();
    return p;
}

void *sr_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) abort();
    return p;
}

char *sr_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(sr_xmalloc(n), s, n);
}
