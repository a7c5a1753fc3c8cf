/* core_web.h - what a browser gets from a node: the demo page and the
 * dashboard (static files of web/, embedded at build time), and the JSON the
 * dashboard reads beyond the admin API (GET /api/cluster). */
#ifndef SR_CORE_WEB_H
#define SR_CORE_WEB_H

#include "core_internal.h"

typedef struct sr_web_asset {
    const char *name; /* file name in web/ */
    const unsigned char *data;
    size_t len;
} sr_web_asset;
/* Generated from web/ at build time (cmake/embed_web.cmake). */
extern const sr_web_asset sr_web_assets[];
extern const size_t sr_web_asset_count;

/* GET / (a browser asking for HTML), GET /admin and GET /web/<file>:
 * returns true when it took r. */
bool sr_web_http(sr_http_req *r);
/* GET /api/cluster (admin): returns true when it took r. */
bool sr_cluster_http(sr_http_req *r);
/* After each answered heartbeat: this node's counters into its record. */
void sr_cluster_publish_stats(sr_core *core);

#endif
