/* fuzz_resp.c - Redis replies and commands. The input is read by hiredis'
 * own reader (what the node's connection does with Redis' bytes) and every
 * reply is walked with the project's readers (node/redis/store_redis.c:
 * sr_reply_*, the field/value reader) and, where a reply holds a string, the
 * envelope parser (what a channel message or a log entry holds). The input
 * also goes the other way: split at 0xFF bytes into arguments, written by
 * the node's RESP writer and read back by hiredis, it must come back as the
 * same arguments. */
#include "fuzz_input.h"
#include "fuzz_resp.h"
#include "redis_conn.h"
#include "sr_envelope.h"

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static void walk(const sr_reply *r, int depth)
{
    size_t len = 0;
    enum sr_reply_type t = sr_reply_type(r);
    sr_reply_int(r);
    const char *s = sr_reply_str(r, &len);
    CHECK((s != NULL) == (t == SR_REPLY_STR));
    if (s) {
        sr_envelope e;
        if (sr_envelope_parse(&e, s, len) == 0) CHECK(e.frame + e.frame_len == s + len);
    }
    size_t n = sr_reply_count(r);
    CHECK(n == 0 || t == SR_REPLY_ARR);
    CHECK(sr_reply_at(r, n) == NULL);
    static const char *const fields[] = {"status", "s:state", "v:state", "o:web", ""};
    for (size_t first = 0; first < 3; first++)
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (sr_reply_field(r, first, fields[i], &len)) CHECK(n >= first + 2);
    if (depth > 8) return;
    for (size_t i = 0; i < n; i++) {
        const sr_reply *e = sr_reply_at(r, i);
        if (e) walk(e, depth + 1);
    }
}

static void read_replies(const uint8_t *data, size_t size)
{
    if (declares_huge_aggregate(data, size)) return;
    redisReader *rd = redisReaderCreate();
    rd->maxbuf = 0;
    if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
        void *reply;
        while (redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
            walk(reply, 0);
            freeReplyObject(reply);
        }
    }
    redisReaderFree(rd);
}

#define MAX_ARGS 64

static void write_command(const uint8_t *data, size_t size)
{
    fuzz_input in = fuzz_input_make(data, size);
    const char *argv[MAX_ARGS];
    size_t lens[MAX_ARGS];
    int argc = 0;
    while (argc < MAX_ARGS && fuzz_record(&in, 0xFF, &argv[argc], &lens[argc]))
        argc++;
    if (argc == 0) return;
    sr_buf b;
    sr_buf_init(&b);
    sr_redis_format(&b, argc, argv, lens);
    redisReader *rd = redisReaderCreate();
    CHECK(redisReaderFeed(rd, b.data, b.len) == REDIS_OK);
    redisReply *r = NULL;
    CHECK(redisReaderGetReply(rd, (void **)&r) == REDIS_OK && r);
    CHECK(r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)argc);
    for (int i = 0; i < argc; i++) {
        const redisReply *e = r->element[i];
        CHECK(e->type == REDIS_REPLY_STRING && e->len == lens[i]);
        CHECK(!memcmp(e->str, argv[i], lens[i]));
    }
    void *more = NULL;
    CHECK(redisReaderGetReply(rd, &more) == REDIS_OK && !more); /* exactly one command */
    freeReplyObject(r);
    redisReaderFree(rd);
    sr_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_replies(data, size);
    write_command(data, size);
    return 0;
}
