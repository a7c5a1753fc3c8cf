/* core_metrics.c - per-dialect series, the relay-latency histogram and the
 * conventional process_* metrics of /metrics (see core_metrics.h). */
#include "core_metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Upper bounds of the relay-latency buckets, in microseconds: a relay on one
 * host takes a few hundred; the top ones catch a stalled Redis or a queue. */
static const uint64_t relay_bounds_us[SR_RELAY_BUCKETS] = {
    250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
};

unsigned sr_metrics_slot(const sr_dialect *d)
{
    for (size_t i = 0; i < sr_dialect_count && i < SR_METRIC_DIALECTS; i++)
        if (sr_dialects[i] == d) return (unsigned)i;
    return 0; /* "/" undecided: token sync */
}

void sr_conn_count_error(sr_conn *c)
{
    c->core->metrics.dialect_errors[sr_metrics_slot(c->dialect)]++;
}

void sr_core_observe_relay(sr_core *core, uint64_t origin_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
    uint64_t us = now > origin_us ? now - origin_us : 0; /* clocks of two hosts may differ */
    size_t i = 0;
    while (i < SR_RELAY_BUCKETS && us > relay_bounds_us[i])
        i++;
    sr_metrics *m = &core->metrics;
    m->relay_buckets[i]++;
    m->relay_count++;
    m->relay_sum_us += us;
}

typedef struct count_arg {
    unsigned *sessions;
} count_arg;

static void count_session(const char *key, void *value, void *arg)
{
    const char *colon = strchr(key, ':'); /* "<kind>:{<id>}" */
    size_t n = colon ? (size_t)(colon - key) : 0;
    for (size_t i = 0; i < sr_dialect_count && i < SR_METRIC_DIALECTS; i++)
        if (strlen(sr_dialects[i]->name) == n && !memcmp(sr_dialects[i]->name, key, n))
            ((count_arg *)arg)->sessions[i]++;
}

void sr_core_dialect_counts(const sr_core *core, unsigned *conns, unsigned *sessions)
{
    for (const sr_conn *c = core->conns; c; c = c->next)
        conns[sr_metrics_slot(c->dialect)]++;
    count_arg a = {sessions};
    sr_map_each(&core->sessions, count_session, &a);
}

static void dialect_series(sr_buf *out, const char *name, const char *type, const char *help,
                           const uint64_t *values)
{
    sr_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < sr_dialect_count && i < SR_METRIC_DIALECTS; i++)
        sr_buf_printf(out, "%s{dialect=\"%s\"} %llu\n", name, sr_dialects[i]->name,
                      (unsigned long long)values[i]);
}

static void relay_histogram(const sr_metrics *m, sr_buf *out)
{
    static const char name[] = "syncrelay_relay_latency_seconds";
    sr_buf_printf(out,
                  "# HELP %s From a message's publication by its first node (the envelope's "
                  "time) to its write to a socket on the node delivering it, live messages only.\n"
                  "# TYPE %s histogram\n",
                  name, name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < SR_RELAY_BUCKETS; i++) {
        cumulative += m->relay_buckets[i];
        sr_buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, (double)relay_bounds_us[i] / 1e6,
                      (unsigned long long)cumulative);
    }
    sr_buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
                  (unsigned long long)m->relay_count, name, (double)m->relay_sum_us / 1e6, name,
                  (unsigned long long)m->relay_count);
}

static unsigned open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 0;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n ? n - 1 : 0; /* not the directory's own descriptor */
}

static void process_metrics(const sr_core *core, sr_buf *out)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    unsigned long long pages_virtual = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &pages_virtual, &pages_resident) != 2)
            pages_virtual = pages_resident = 0;
        fclose(f);
    }
    unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    unsigned long long max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 0;
    sr_buf_printf(out,
                  "# HELP process_cpu_seconds_total User and system CPU time spent, seconds.\n"
                  "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.3f\n"
                  "# HELP process_resident_memory_bytes Resident memory size, bytes.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %llu\n"
                  "# HELP process_virtual_memory_bytes Virtual memory size, bytes.\n"
                  "# TYPE process_virtual_memory_bytes gauge\n"
                  "process_virtual_memory_bytes %llu\n"
                  "# HELP process_open_fds Open file descriptors.\n"
                  "# TYPE process_open_fds gauge\nprocess_open_fds %u\n"
                  "# HELP process_max_fds Open file descriptor limit.\n"
                  "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n"
                  "# HELP process_start_time_seconds Start time since the epoch, seconds.\n"
                  "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.3f\n",
                  cpu, pages_resident * page, pages_virtual * page, open_fds(), max_fds,
                  (double)core->started_ms / 1000.0);
}

void sr_core_metrics_more(sr_core *core, sr_buf *out)
{
    const sr_metrics *m = &core->metrics;
    unsigned conns[SR_METRIC_DIALECTS] = {0}, sessions[SR_METRIC_DIALECTS] = {0};
    uint64_t c64[SR_METRIC_DIALECTS], s64[SR_METRIC_DIALECTS];
    sr_core_dialect_counts(core, conns, sessions);
    for (size_t i = 0; i < SR_METRIC_DIALECTS; i++) {
        c64[i] = conns[i];
        s64[i] = sessions[i];
    }
    dialect_series(out, "syncrelay_connections", "gauge",
                   "Open WebSocket connections on this node.", c64);
    dialect_series(out, "syncrelay_sessions", "gauge", "Sessions with members on this node.", s64);
    dialect_series(out, "syncrelay_messages_in_total", "counter", "WebSocket messages received.",
                   m->dialect_in);
    dialect_series(out, "syncrelay_messages_out_total", "counter", "WebSocket messages sent.",
                   m->dialect_out);
    dialect_series(out, "syncrelay_client_errors_total", "counter",
                   "Error replies sent to clients (each dialect's error format).",
                   m->dialect_errors);
    relay_histogram(m, out);
    process_metrics(core, out);
}
