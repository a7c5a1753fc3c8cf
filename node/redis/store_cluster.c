/* store_cluster.c - the nodes' records for the dashboard (store_cluster.h). */
#include "sr_alloc.h"
#include "sr_clock.h"
#include "store_cluster.h"
#include "store_script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_store_node_stats(sr_store *s, const char *boot_id, const char *json, size_t len)
{
    const sr_config *cfg = sr_store_config(s);
    char node[256];
    snprintf(node, sizeof node, "%s" SR_NODES_TAG "node:%s", cfg->key_prefix, cfg->node_id);
    const char *argv[] = {node, boot_id, json};
    size_t lens[] = {strlen(node), strlen(boot_id), len};
    sr_store_eval(s, SR_SCRIPT_NODE_STATS, 1, 3, argv, lens, NULL, NULL);
}

/* {{node id, field, value, ...}, ...} */
static void on_nodes(const sr_reply *reply, void (*cb)(void), void *arg)
{
    sr_store_nodes_result r = {.status = SR_STORE_UNAVAILABLE};
    size_t n = sr_reply_count(reply);
    sr_store_node *v = NULL;
    if (reply && sr_reply_type(reply) == SR_REPLY_ARR) {
        r.status = SR_STORE_OK;
        r.nodes = v = n ? sr_xcalloc(n, sizeof *v) : NULL;
        r.n = n;
        for (size_t i = 0; i < n; i++) {
            const sr_reply *e = sr_reply_at(reply, i);
            v[i].id.p = sr_reply_str(sr_reply_at(e, 0), &v[i].id.len);
            v[i].fields = sr_reply_fields(e, 1, &v[i].nfields);
        }
    }
    ((sr_store_nodes_cb *)cb)(&r, arg);
    for (size_t i = 0; v && i < n; i++)
        free((void *)v[i].fields);
    free(v);
}

void sr_store_cluster_nodes(sr_store *s, sr_store_nodes_cb *cb, void *arg)
{
    const sr_config *cfg = sr_store_config(s);
    char nodes[200], prefix[200], now[24], ttl[16];
    snprintf(nodes, sizeof nodes, "%s" SR_NODES_TAG "nodes", cfg->key_prefix);
    snprintf(prefix, sizeof prefix, "%s" SR_NODES_TAG "node:", cfg->key_prefix);
    snprintf(now, sizeof now, "%llu", (unsigned long long)sr_now_ms());
    snprintf(ttl, sizeof ttl, "%d", SR_NODE_TTL_SECONDS);
    const char *argv[] = {nodes, prefix, now, ttl};
    sr_store_eval_call(s, SR_SCRIPT_CLUSTER_NODES, 1, 4, argv, NULL, on_nodes, (void (*)(void))cb,
                       arg);
}
