/* store_cluster.h - the nodes' records as the dashboard reads them: each
 * node's counters kept in its liveness record, and the live nodes' records
 * read in one script. No hiredis here. */
#ifndef SR_STORE_CLUSTER_H
#define SR_STORE_CLUSTER_H

#include "store.h"

/* Writes this node's counters (a JSON object) into its liveness record,
 * unless the record is gone or another process's. No reply. */
void sr_store_node_stats(sr_store *s, const char *boot_id, const char *json, size_t len);
/* Reply: {{node id, field, value, ...}, ...}, one per live node. */
int sr_store_cluster_nodes(sr_store *s, sr_store_cb *cb, void *privdata);

#endif
