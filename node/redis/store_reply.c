/* store_reply.c - reading hiredis replies for the store files (the sr_reply_*
 * of store.h and store_script.h): a reply's type, integers, strings, array
 * elements, and field/value lists and string lists decoded into sr_field and
 * sr_span arrays. Only store files decode replies; nothing above them sees
 * one. */
#include "redis_conn.h"
#include "sr_alloc.h"
#include "store.h"
#include "store_script.h"

#include <stdlib.h>
#include <string.h>

#define R(r) ((const redisReply *)(r))

enum sr_reply_type sr_reply_type(const sr_reply *r)
{
    switch (R(r)->type) {
    case REDIS_REPLY_NIL:
        return SR_REPLY_NIL;
    case REDIS_REPLY_INTEGER:
        return SR_REPLY_INT;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        return SR_REPLY_STR;
    case REDIS_REPLY_ARRAY:
        return SR_REPLY_ARR;
    case REDIS_REPLY_ERROR:
        return SR_REPLY_ERR;
    default:
        return SR_REPLY_OTHER;
    }
}

long long sr_reply_int(const sr_reply *r)
{
    if (!r) return 0;
    if (R(r)->type == REDIS_REPLY_INTEGER) return R(r)->integer;
    if (R(r)->type == REDIS_REPLY_STRING) return strtoll(R(r)->str, NULL, 10);
    return 0;
}

const char *sr_reply_str(const sr_reply *r, size_t *len)
{
    if (!r || (R(r)->type != REDIS_REPLY_STRING && R(r)->type != REDIS_REPLY_STATUS)) return NULL;
    if (len) *len = R(r)->len;
    return R(r)->str;
}

size_t sr_reply_count(const sr_reply *r)
{
    return r && R(r)->type == REDIS_REPLY_ARRAY ? R(r)->elements : 0;
}

const sr_reply *sr_reply_at(const sr_reply *r, size_t i)
{
    return i < sr_reply_count(r) ? (const sr_reply *)R(r)->element[i] : NULL;
}

const char *sr_reply_field(const sr_reply *r, size_t first, const char *name, size_t *len)
{
    size_t n = sr_reply_count(r), nlen = strlen(name);
    for (size_t i = first; i + 1 < n; i += 2) {
        size_t klen;
        const char *k = sr_reply_str(sr_reply_at(r, i), &klen);
        if (k && klen == nlen && memcmp(k, name, nlen) == 0)
            return sr_reply_str(sr_reply_at(r, i + 1), len);
    }
    return NULL;
}

sr_field *sr_reply_fields(const sr_reply *r, size_t first, size_t *n)
{
    size_t count = sr_reply_count(r), k = 0;
    sr_field *f = count > first + 1 ? sr_xmalloc((count - first) / 2 * sizeof *f) : NULL;
    for (size_t i = first; i + 1 < count; i += 2) {
        f[k].name.p = sr_reply_str(sr_reply_at(r, i), &f[k].name.len);
        f[k].value.p = sr_reply_str(sr_reply_at(r, i + 1), &f[k].value.len);
        if (f[k].name.p && f[k].value.p) k++;
    }
    *n = k;
    return f;
}

sr_span *sr_reply_spans(const sr_reply *r, size_t first, size_t *n)
{
    size_t count = sr_reply_count(r), k = 0;
    sr_span *v = count > first ? sr_xmalloc((count - first) * sizeof *v) : NULL;
    for (size_t i = first; i < count; i++)
        if ((v[k].p = sr_reply_str(sr_reply_at(r, i), &v[k].len))) k++;
    *n = k;
    return v;
}
