/* Key slots against the Redis Cluster spec's vectors, and the slot map read
 * from CLUSTER SHARDS replies parsed by hiredis' own reader. */
#include "check.h"
#include "cluster_slots.h"

#include <stdlib.h>

static unsigned slot_of(const char *key)
{
    return sr_cluster_keyslot(key, strlen(key));
}

static redisReply *parse(const char *resp)
{
    redisReader *r = redisReaderCreate();
    void *reply = NULL;
    redisReaderFeed(r, resp, strlen(resp));
    if (redisReaderGetReply(r, &reply) != REDIS_OK) reply = NULL;
    redisReaderFree(r);
    return reply;
}

/* One shard of a RESP2 CLUSTER SHARDS reply: slot ranges, a master and a
 * replica (health of the master given). */
static void shard(char *out, size_t size, const char *ranges, int nranges, const char *id, int port,
                  const char *health)
{
    snprintf(out, size,
             "*4\r\n$5\r\nslots\r\n*%d\r\n%s$5\r\nnodes\r\n*2\r\n"
             "*12\r\n$2\r\nid\r\n$40\r\n%s\r\n$4\r\nport\r\n:%d\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n"
             "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
             "$6\r\nhealth\r\n$%zu\r\n%s\r\n"
             "*12\r\n$2\r\nid\r\n$40\r\n%s\r\n$4\r\nport\r\n:%d\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n"
             "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n$4\r\nrole\r\n$7\r\nreplica\r\n"
             "$6\r\nhealth\r\n$6\r\nonline\r\n",
             nranges, ranges, id, port, strlen(health), health, id, port + 100);
}

static void test_slots(void)
{
    CHECK(sr_cluster_crc16("123456789", 9) == 0x31C3);
    CHECK(slot_of("123456789") == (0x31C3 & 16383));
    /* values CLUSTER KEYSLOT gives */
    CHECK(slot_of("somekey") == 11058);
    CHECK(slot_of("foo{hash_tag}") == 2515);
    CHECK(slot_of("foo") == 12182);
    /* hash tag rules */
    CHECK(slot_of("{user1000}.following") == slot_of("{user1000}.followers"));
    CHECK(slot_of("{user1000}.following") == slot_of("user1000"));
    CHECK(slot_of("foo{}{bar}") == sr_cluster_crc16("foo{}{bar}", 10) % 16384); /* empty tag */
    CHECK(slot_of("foo{{bar}}zap") == slot_of("{bar"));                         /* first { */
    CHECK(slot_of("foo{bar}{zap}") == slot_of("bar"));                          /* first } */
    CHECK(slot_of("foo{bar") == sr_cluster_crc16("foo{bar", 7) % 16384);        /* no } */
    CHECK(slot_of("") == 0);
}

static void test_map(void)
{
    char a[1024], b[1024], c[1024], all[4096];
    shard(a, sizeof a, ":0\r\n:5460\r\n", 2, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 7001,
          "online");
    shard(b, sizeof b, ":5461\r\n:10922\r\n", 2, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 7002,
          "online");
    shard(c, sizeof c, ":10923\r\n:12000\r\n:12002\r\n:16383\r\n", 4,
          "cccccccccccccccccccccccccccccccccccccccc", 7003, "online");
    snprintf(all, sizeof all, "*3\r\n%s%s%s", a, b, c);
    redisReply *r = parse(all);
    CHECK(r != NULL);
    sr_cluster_map *m = malloc(sizeof *m);
    CHECK(sr_cluster_map_from_shards(m, r) == 0);
    CHECK(m->nshards == 3);
    CHECK(m->uncovered == 1); /* slot 12001 */
    CHECK(sr_cluster_map_owner(m, 0)->port == 7001);
    CHECK(sr_cluster_map_owner(m, 5460)->port == 7001);
    CHECK(sr_cluster_map_owner(m, 5461)->port == 7002);
    CHECK(sr_cluster_map_owner(m, 16383)->port == 7003);
    CHECK(sr_cluster_map_owner(m, 12001) == NULL);
    CHECK(sr_cluster_map_owner(m, 16384) == NULL);
    CHECK_STR(sr_cluster_map_owner(m, 12000)->host, "127.0.0.1");
    CHECK_STR(sr_cluster_map_owner(m, 100)->id, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    freeReplyObject(r);

    /* a shard whose master failed (and no replica promoted yet) serves nothing */
    shard(b, sizeof b, ":5461\r\n:10922\r\n", 2, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", 7002,
          "fail");
    snprintf(all, sizeof all, "*3\r\n%s%s%s", a, b, c);
    r = parse(all);
    CHECK(sr_cluster_map_from_shards(m, r) == 0);
    CHECK(m->nshards == 2);
    CHECK(sr_cluster_map_owner(m, 6000) == NULL);
    CHECK(m->uncovered == 5462 + 1);
    freeReplyObject(r);

    /* not a CLUSTER SHARDS reply */
    r = parse("-ERR This instance has cluster support disabled\r\n");
    CHECK(sr_cluster_map_from_shards(m, r) == -1);
    CHECK(m->uncovered == 16384);
    freeReplyObject(r);
    r = parse("*1\r\n$3\r\nfoo\r\n");
    CHECK(sr_cluster_map_from_shards(m, r) == -1);
    freeReplyObject(r);
    CHECK(sr_cluster_map_from_shards(m, NULL) == -1);
    free(m);
}

static void test_redirect(void)
{
    unsigned slot = 0;
    char host[64];
    int port = 0;
    const char *moved = "MOVED 3999 127.0.0.1:6381";
    CHECK(sr_cluster_parse_redirect(moved, strlen(moved), &slot, host, sizeof host, &port) == 1);
    CHECK(slot == 3999 && port == 6381);
    CHECK_STR(host, "127.0.0.1");
    const char *ask = "ASK 42 ::1:7000";
    CHECK(sr_cluster_parse_redirect(ask, strlen(ask), &slot, host, sizeof host, &port) == 2);
    CHECK(slot == 42 && port == 7000);
    CHECK_STR(host, "::1");
    const char *bad[] = {"ERR wrong",   "MOVED",      "MOVED 16384 h:1", "MOVED 1 h", "MOVED 1 h:0",
                         "MOVED x h:1", "MOVED 1 :1", "ASK 1 h:99999",   "TRYAGAIN"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK(sr_cluster_parse_redirect(bad[i], strlen(bad[i]), &slot, host, sizeof host, &port) ==
              0);
}

int main(void)
{
    test_slots();
    test_map();
    test_redirect();
    return check_done("cluster_slots");
}
