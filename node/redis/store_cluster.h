/* store_cluster.h - the nodes' records as the dashboard reads them: each
 * node's counters kept in its liveness record, and the live nodes' records
 * read in one script. No hiredis here. Core layer only. */
#ifndef SR_STORE_CLUSTER_H
#define SR_STORE_CLUSTER_H

#include "store.h"

/* Writes this node's counters (a JSON object) into its liveness record,
 * unless the record is gone or another process's. No reply. */
void sr_store_node_stats(sr_store *s, const char *boot_id, const char *json, size_t len);

typedef struct sr_store_node {
    sr_span id;
    const sr_field *fields; /* its liveness record (started, seen, boot, stats...) */
    size_t nfields;
} sr_store_node;
typedef struct sr_store_nodes_result {
    enum sr_store_status status; /* OK or UNAVAILABLE */
    const sr_store_node *nodes;  /* one per live node */
    size_t n;
} sr_store_nodes_result;
typedef void sr_store_nodes_cb(const sr_store_nodes_result *r, void *arg);
/* Calls cb exactly once (at once when Redis is down). */
void sr_store_cluster_nodes(sr_store *s, sr_store_nodes_cb *cb, void *arg);

#endif
