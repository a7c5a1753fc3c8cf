/* cluster_slots.h - Redis Cluster key slots and the slot map: which master
 * serves which of the 16384 slots. Pure bookkeeping: no sockets here. The
 * store/bus layer routes every command by the slot of its first key and
 * rebuilds the map from CLUSTER SHARDS when a MOVED reply or a lost
 * connection says it is stale. Store/bus layer only (it reads hiredis
 * replies). */
#ifndef SR_CLUSTER_SLOTS_H
#define SR_CLUSTER_SLOTS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>

#define SR_CLUSTER_SLOTS 16384
#define SR_CLUSTER_MAX_SHARDS 256

/* CRC16 (XMODEM: polynomial 0x1021, initial value 0), as the Cluster spec
 * defines it for key slots. */
uint16_t sr_cluster_crc16(const char *buf, size_t len);

/* The slot of a key: the CRC16 of its hash tag (the bytes between the first
 * '{' and the first '}' after it, when that is not empty), else of the whole
 * key, modulo 16384. */
unsigned sr_cluster_keyslot(const char *key, size_t len);

typedef struct sr_cluster_shard {
    char host[64];      /* the master's preferred endpoint, else its ip */
    int port, tls_port; /* tls_port 0 when the master has none */
    char id[41];        /* the master's node id (40 hex digits) */
} sr_cluster_shard;

typedef struct sr_cluster_map {
    unsigned nshards;
    sr_cluster_shard shards[SR_CLUSTER_MAX_SHARDS];
    /* slot -> index into shards, or SR_CLUSTER_UNCOVERED */
    uint16_t owner[SR_CLUSTER_SLOTS];
    unsigned uncovered; /* slots no healthy master serves */
} sr_cluster_map;

#define SR_CLUSTER_UNCOVERED 0xFFFF

/* Fills map from a CLUSTER SHARDS reply (RESP2 arrays or RESP3 maps). A shard
 * counts when it has a master whose health is "online"; its slot ranges are
 * then assigned to it. Returns 0, or -1 when the reply is not a CLUSTER
 * SHARDS reply (the map is then left empty: every slot uncovered). */
int sr_cluster_map_from_shards(sr_cluster_map *map, const redisReply *reply);

/* The shard that serves a slot, or NULL when none does. */
const sr_cluster_shard *sr_cluster_map_owner(const sr_cluster_map *map, unsigned slot);

/* Parses a MOVED or ASK error ("MOVED 3999 127.0.0.1:6381"): returns 1 for
 * MOVED, 2 for ASK (slot, host and port filled), 0 for any other error. */
int sr_cluster_parse_redirect(const char *err, size_t len, unsigned *slot, char *host,
                              size_t hostsize, int *port);

#endif
