/* fuzz_cluster.c - the Redis Cluster slot map (node/redis/cluster_slots.c):
 * the input, read by hiredis, as CLUSTER SHARDS replies for the slot map;
 * as a MOVED/ASK error text; and as a key for the slot function. Checks: the
 * map's owners name real shards and its uncovered count is right; a parsed
 * redirect has a slot in range and a NUL-terminated host; a key's slot is the
 * slot of its hash tag. */
#include "cluster_slots.h"
#include "fuzz_resp.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static sr_cluster_map map; /* 33 KB: not on the stack */

static void check_map(void)
{
    unsigned uncovered = 0;
    CHECK(map.nshards <= SR_CLUSTER_MAX_SHARDS);
    if (map.nshards == 0) { /* the cheap common case: nothing assigned */
        CHECK(map.uncovered == SR_CLUSTER_SLOTS && map.owner[0] == SR_CLUSTER_UNCOVERED &&
              map.owner[SR_CLUSTER_SLOTS - 1] == SR_CLUSTER_UNCOVERED);
        return;
    }
    for (unsigned s = 0; s < SR_CLUSTER_SLOTS; s++) {
        if (map.owner[s] == SR_CLUSTER_UNCOVERED) {
            uncovered++;
            CHECK(sr_cluster_map_owner(&map, s) == NULL);
        } else {
            CHECK(map.owner[s] < map.nshards);
            const sr_cluster_shard *sh = sr_cluster_map_owner(&map, s);
            CHECK(sh && memchr(sh->host, 0, sizeof sh->host) && memchr(sh->id, 0, sizeof sh->id));
        }
    }
    CHECK(uncovered == map.uncovered);
    CHECK(sr_cluster_map_owner(&map, SR_CLUSTER_SLOTS) == NULL);
}

static void replies(const uint8_t *data, size_t size)
{
    if (declares_huge_aggregate(data, size)) return;
    redisReader *rd = redisReaderCreate();
    if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
        void *reply;
        while (redisReaderGetReply(rd, &reply) == REDIS_OK && reply) {
            if (sr_cluster_map_from_shards(&map, reply) < 0) CHECK(map.nshards == 0);
            check_map();
            freeReplyObject(reply);
        }
    }
    redisReaderFree(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    replies(data, size);

    const char *s = (const char *)data;
    unsigned slot = 0;
    int port = 0;
    char host[64];
    int kind = sr_cluster_parse_redirect(s, size, &slot, host, sizeof host, &port);
    CHECK(kind >= 0 && kind <= 2);
    if (kind) CHECK(slot < SR_CLUSTER_SLOTS && memchr(host, 0, sizeof host));

    unsigned k = sr_cluster_keyslot(s, size);
    CHECK(k < SR_CLUSTER_SLOTS);
    const char *open = memchr(s, '{', size);
    if (open) {
        const char *close = memchr(open + 1, '}', size - (size_t)(open + 1 - s));
        if (close && close > open + 1)
            CHECK(k == sr_cluster_keyslot(open + 1, (size_t)(close - open - 1)));
    }
    return 0;
}
