/* core_metrics.h - what /metrics and the dashboard add to the core's
 * counters: per-dialect counts, the relay-latency histogram and the
 * process_* metrics. Counting stays a few integer increments per message. */
#ifndef SR_CORE_METRICS_H
#define SR_CORE_METRICS_H

#include "core_internal.h"

/* The counters' slot of a dialect: its index in sr_dialects[]. A "/"
 * socket before its first typed message counts as token sync, which
 * answers for it. */
unsigned sr_metrics_slot(const sr_dialect *d);
/* sr_conn_count_error: conn.h; sr_core_observe_relay: core.h. */
/* Connections and local sessions per dialect slot (arrays of
 * SR_METRIC_DIALECTS, zeroed by the caller). */
void sr_core_dialect_counts(const sr_core *core, unsigned *conns, unsigned *sessions);
/* The per-dialect series, the histogram and process_*, appended to /metrics. */
void sr_core_metrics_more(sr_core *core, sr_buf *out);

#endif
