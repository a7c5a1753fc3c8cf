/* store_cluster.c - the nodes' records for the dashboard (store_cluster.h). */
#include "store_cluster.h"
#include "store_script.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

extern const char sr_lua_node_stats[], sr_lua_cluster_nodes[];
static sr_store_script stats_script = {.source = sr_lua_node_stats};
static sr_store_script nodes_script = {.source = sr_lua_cluster_nodes};

void sr_store_node_stats(sr_store *s, const char *boot_id, const char *json, size_t len)
{
    const sr_config *cfg = sr_store_config(s);
    char node[256];
    snprintf(node, sizeof node, "%snode:%s", cfg->key_prefix, cfg->node_id);
    const char *argv[] = {node, boot_id, json};
    size_t lens[] = {strlen(node), strlen(boot_id), len};
    sr_store_eval(s, &stats_script, 1, 3, argv, lens, NULL, NULL);
}

int sr_store_cluster_nodes(sr_store *s, sr_store_cb *cb, void *privdata)
{
    const sr_config *cfg = sr_store_config(s);
    char nodes[200], prefix[200], now[24], ttl[16];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(nodes, sizeof nodes, "%snodes", cfg->key_prefix);
    snprintf(prefix, sizeof prefix, "%snode:", cfg->key_prefix);
    snprintf(now, sizeof now, "%llu",
             (unsigned long long)ts.tv_sec * 1000 + (unsigned long long)ts.tv_nsec / 1000000);
    snprintf(ttl, sizeof ttl, "%d", SR_NODE_TTL_SECONDS);
    const char *argv[] = {nodes, prefix, now, ttl};
    return sr_store_eval(s, &nodes_script, 1, 4, argv, NULL, cb, privdata);
}
