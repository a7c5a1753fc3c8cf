/* sr_field.c - lookups in decoded name/value lists (sr_field.h). */
#include "sr_field.h"

#include <string.h>

const char *sr_fields_get(const sr_field *f, size_t n, const char *name, size_t *len)
{
    size_t nlen = strlen(name);
    for (size_t i = 0; i < n; i++) {
        if (f[i].name.len != nlen || memcmp(f[i].name.p, name, nlen) != 0) continue;
        if (len) *len = f[i].value.len;
        return f[i].value.p;
    }
    return NULL;
}

uint64_t sr_fields_u64(const sr_field *f, size_t n, const char *name, bool *found)
{
    size_t len;
    const char *v = sr_fields_get(f, n, name, &len);
    if (found) *found = v != NULL;
    uint64_t out = 0;
    for (size_t i = 0; v && i < len && v[i] >= '0' && v[i] <= '9'; i++)
        out = out * 10 + (uint64_t)(v[i] - '0');
    return out;
}

bool sr_span_is(sr_span s, const char *text)
{
    size_t n = strlen(text);
    return s.p && s.len == n && memcmp(s.p, text, n) == 0;
}
