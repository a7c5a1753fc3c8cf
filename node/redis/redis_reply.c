/* redis_reply.c - hiredis reply objects in one allocation each, recycled.
 * hiredis' own functions take a calloc per object and a malloc per string,
 * freed after each callback: about ten allocations and frees per relayed
 * message (the script's reply, the pub/sub message and its three parts),
 * 15 % of a relayed message's instructions (callgrind, BENCHMARKS.md). Here
 * an object and its string (or its element vector) are one block; blocks of
 * the common size go back to a free list. The objects keep hiredis' layout
 * (redisReply), which hiredis and store_reply.c read. Not recycled under
 * AddressSanitizer, which can then catch a reply used after its callback. */
#include "redis_conn.h"

#include <hiredis/hiredis.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define SR_SPARE_REPLIES_MAX 0
#else
#define SR_SPARE_REPLIES_MAX 1024
#endif
#define SR_REPLY_INLINE 512 /* bytes of string or element vector in a recycled block */

typedef struct reply_obj {
    redisReply r; /* first: hiredis sees only this */
    struct reply_obj *next_spare;
    size_t cap; /* bytes in data */
    alignas(max_align_t) char data[];
} reply_obj;

static reply_obj *spares;
static int nspares;

static reply_obj *obj_new(const redisReadTask *task, size_t extra)
{
    reply_obj *o;
    if (extra <= SR_REPLY_INLINE && spares) {
        o = spares;
        spares = o->next_spare;
        nspares--;
    } else {
        size_t cap = extra <= SR_REPLY_INLINE ? SR_REPLY_INLINE : extra;
        o = malloc(sizeof *o + cap);
        if (!o) return NULL;
        o->cap = cap;
    }
    memset(&o->r, 0, sizeof o->r);
    o->r.type = task->type;
    return o;
}

/* Links o into its parent array, as hiredis' own functions do. */
static void *adopt(const redisReadTask *task, reply_obj *o)
{
    if (o && task->parent) {
        redisReply *parent = task->parent->obj;
        parent->element[task->idx] = &o->r;
    }
    return o ? &o->r : NULL;
}

static void free_object(void *p)
{
    reply_obj *o = p;
    if (!o) return;
    if (o->r.element)
        for (size_t i = 0; i < o->r.elements; i++)
            free_object(o->r.element[i]);
    if (o->cap == SR_REPLY_INLINE && nspares < SR_SPARE_REPLIES_MAX) {
        o->next_spare = spares;
        spares = o;
        nspares++;
    } else {
        free(o);
    }
}

static void *create_string(const redisReadTask *task, char *s, size_t len)
{
    reply_obj *o = obj_new(task, len + 1);
    if (!o) return NULL;
    if (task->type == REDIS_REPLY_VERB && len >= 4) { /* "txt:..." */
        memcpy(o->r.vtype, s, 3);
        s += 4;
        len -= 4;
    }
    memcpy(o->data, s, len);
    o->data[len] = '\0';
    o->r.str = o->data;
    o->r.len = len;
    return adopt(task, o);
}

static void *create_array(const redisReadTask *task, size_t n)
{
    reply_obj *o = obj_new(task, n * sizeof(redisReply *));
    if (!o) return NULL;
    if (n) {
        o->r.element = (redisReply **)(void *)o->data;
        memset(o->r.element, 0, n * sizeof(redisReply *));
    }
    o->r.elements = n;
    return adopt(task, o);
}

static void *create_integer(const redisReadTask *task, long long v)
{
    reply_obj *o = obj_new(task, 0);
    if (!o) return NULL;
    o->r.integer = v;
    return adopt(task, o);
}

static void *create_double(const redisReadTask *task, double v, char *s, size_t len)
{
    reply_obj *o = obj_new(task, len + 1);
    if (!o) return NULL;
    o->r.dval = v;
    memcpy(o->data, s, len);
    o->data[len] = '\0';
    o->r.str = o->data;
    o->r.len = len;
    return adopt(task, o);
}

static void *create_nil(const redisReadTask *task)
{
    reply_obj *o = obj_new(task, 0);
    if (!o) return NULL;
    o->r.type = REDIS_REPLY_NIL; /* task->type is that of the absent string or array */
    return adopt(task, o);
}

static void *create_bool(const redisReadTask *task, int v)
{
    reply_obj *o = obj_new(task, 0);
    if (!o) return NULL;
    o->r.integer = v != 0;
    return adopt(task, o);
}

static redisReplyObjectFunctions functions = {
    create_string, create_array, create_integer, create_double,
    create_nil,    create_bool,  free_object,
};

void sr_redis_reply_functions(redisAsyncContext *ac)
{
    ac->c.reader->fn = &functions;
}
