/* cluster_slots.c - key slots (CRC16 of the hash tag) and the slot map read
 * from CLUSTER SHARDS. See cluster_slots.h. */
#include "cluster_slots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t sr_cluster_crc16(const char *buf, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)((unsigned char)buf[i] << 8);
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

unsigned sr_cluster_keyslot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open - key) - 1;
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1) /* "{}" hashes the whole key */
            return sr_cluster_crc16(open + 1, (size_t)(close - open - 1)) & (SR_CLUSTER_SLOTS - 1);
    }
    return sr_cluster_crc16(key, len) & (SR_CLUSTER_SLOTS - 1);
}

static int reply_is_list(const redisReply *r)
{
#ifdef REDIS_REPLY_MAP
    if (r->type == REDIS_REPLY_MAP) return 1;
#endif
    return r->type == REDIS_REPLY_ARRAY;
}

static int reply_is(const redisReply *r, const char *s)
{
    return (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) &&
           r->len == strlen(s) && memcmp(r->str, s, r->len) == 0;
}

/* In a field/value list: the value of name, or NULL. */
static const redisReply *field(const redisReply *list, const char *name)
{
    if (!reply_is_list(list)) return NULL;
    for (size_t i = 0; i + 1 < list->elements; i += 2)
        if (reply_is(list->element[i], name)) return list->element[i + 1];
    return NULL;
}

static void copy_str(char *dst, size_t size, const redisReply *r)
{
    size_t n = r->len < size - 1 ? r->len : size - 1;
    memcpy(dst, r->str, n);
    dst[n] = '\0';
}

static long long reply_int(const redisReply *r)
{
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) return strtoll(r->str, NULL, 10);
    return -1;
}

/* The healthy master among a shard's nodes, copied into out. */
static int shard_master(const redisReply *nodes, sr_cluster_shard *out)
{
    if (!nodes || nodes->type != REDIS_REPLY_ARRAY) return -1;
    for (size_t i = 0; i < nodes->elements; i++) {
        const redisReply *n = nodes->element[i];
        const redisReply *role = field(n, "role"), *health = field(n, "health");
        const redisReply *id = field(n, "id"), *ip = field(n, "ip");
        const redisReply *endpoint = field(n, "endpoint"), *port = field(n, "port");
        const redisReply *tls_port = field(n, "tls-port");
        if (!role || !reply_is(role, "master") || !health || !reply_is(health, "online")) continue;
        if (!id || id->type != REDIS_REPLY_STRING) continue;
        const redisReply *host = endpoint && endpoint->type == REDIS_REPLY_STRING &&
                                         endpoint->len > 0 && !reply_is(endpoint, "?")
                                     ? endpoint
                                     : ip;
        if (!host || host->type != REDIS_REPLY_STRING) continue;
        copy_str(out->host, sizeof out->host, host);
        copy_str(out->id, sizeof out->id, id);
        out->port = port ? (int)reply_int(port) : 0;
        out->tls_port = tls_port ? (int)reply_int(tls_port) : 0;
        if (out->port <= 0 && out->tls_port <= 0) continue;
        return 0;
    }
    return -1;
}

static void map_clear(sr_cluster_map *map)
{
    map->nshards = 0;
    for (unsigned s = 0; s < SR_CLUSTER_SLOTS; s++)
        map->owner[s] = SR_CLUSTER_UNCOVERED;
    map->uncovered = SR_CLUSTER_SLOTS;
}

static int map_fill(sr_cluster_map *map, const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return -1;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *shard = reply->element[i];
        const redisReply *slots = field(shard, "slots");
        if (!slots || slots->type != REDIS_REPLY_ARRAY) return -1;
        if (slots->elements == 0) continue; /* a master that serves nothing */
        if (map->nshards == SR_CLUSTER_MAX_SHARDS) break;
        sr_cluster_shard *out = &map->shards[map->nshards];
        if (shard_master(field(shard, "nodes"), out) != 0) continue; /* master down */
        for (size_t j = 0; j + 1 < slots->elements; j += 2) {
            long long lo = reply_int(slots->element[j]), hi = reply_int(slots->element[j + 1]);
            if (lo < 0 || hi >= SR_CLUSTER_SLOTS || lo > hi) return -1;
            for (long long s = lo; s <= hi; s++) {
                if (map->owner[s] == SR_CLUSTER_UNCOVERED) map->uncovered--;
                map->owner[s] = (uint16_t)map->nshards;
            }
        }
        map->nshards++;
    }
    return 0;
}

int sr_cluster_map_from_shards(sr_cluster_map *map, const redisReply *reply)
{
    map_clear(map);
    if (map_fill(map, reply) == 0) return 0;
    map_clear(map); /* a bad shard after good ones: no half-built map (found by fuzz_cluster) */
    return -1;
}

const sr_cluster_shard *sr_cluster_map_owner(const sr_cluster_map *map, unsigned slot)
{
    if (slot >= SR_CLUSTER_SLOTS || map->owner[slot] == SR_CLUSTER_UNCOVERED) return NULL;
    return &map->shards[map->owner[slot]];
}

int sr_cluster_parse_redirect(const char *err, size_t len, unsigned *slot, char *host,
                              size_t hostsize, int *port)
{
    int kind;
    size_t skip;
    if (len > 6 && memcmp(err, "MOVED ", 6) == 0)
        kind = 1, skip = 6;
    else if (len > 4 && memcmp(err, "ASK ", 4) == 0)
        kind = 2, skip = 4;
    else
        return 0;
    char buf[160];
    if (len - skip >= sizeof buf) return 0;
    memcpy(buf, err + skip, len - skip);
    buf[len - skip] = '\0';
    char *end;
    unsigned long s = strtoul(buf, &end, 10);
    if (end == buf || *end != ' ' || s >= SR_CLUSTER_SLOTS) return 0;
    char *addr = end + 1, *colon = strrchr(addr, ':'); /* IPv6 hosts contain colons */
    if (!colon || colon == addr || (size_t)(colon - addr) >= hostsize) return 0;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) return 0;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *slot = (unsigned)s;
    *port = (int)p;
    return kind;
}
