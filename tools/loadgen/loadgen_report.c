/* loadgen_report.c - what the load generator prints: a few aligned lines for
 * people, then everything again as one JSON object on one line for scripts
 * (tools/bench reads the last line). */
#include "loadgen_report.h"

#include <string.h>
#include <unistd.h>

static const char *const proc_names[3] = {"web_node", "figma_node", "redis"};

static void sample(int pid, lg_proc_sample *s)
{
    char path[64], line[256];
    s->rss_kib = -1;
    s->cpu_s = -1;
    if (pid <= 0) return;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "VmRSS:", 6)) s->rss_kib = strtol(line + 6, NULL, 10);
        fclose(f);
    }
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f) return;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long ut, st;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
        s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void sr_loadgen_sample_procs(const sr_loadgen *lg, lg_proc_sample out[3])
{
    sample(lg->opt.pid[LG_WEB], &out[0]);
    sample(lg->opt.pid[LG_FIGMA], &out[1]);
    sample(lg->opt.pid_redis, &out[2]);
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

typedef struct totals {
    uint64_t sent, received, lost, duplicated, out_of_order, invalid;
    unsigned ready;
} totals;

static void sum(const sr_loadgen *lg, totals *t)
{
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < lg->opt.pairs; i++) {
        const lg_pair *p = &lg->pairs[i];
        const sr_seqcheck *req = &p->c[LG_FIGMA].check, *echo = &p->c[LG_WEB].check;
        t->sent += p->requests_sent + p->echoes_sent;
        t->received += req->distinct + echo->distinct;
        t->lost += sr_seqcheck_lost(req, p->requests_sent) + sr_seqcheck_lost(echo, p->echoes_sent);
        t->duplicated += req->duplicated + echo->duplicated;
        t->out_of_order += req->out_of_order + echo->out_of_order;
        t->invalid += req->invalid + echo->invalid;
        t->ready += p->ready;
    }
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void latency_line(FILE *f, const char *name, const sr_hist *h)
{
    fprintf(f,
            "  %-12s p50 %.0f us  p90 %.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us  (%llu)\n",
            name, us(sr_hist_quantile(h, 0.5)), us(sr_hist_quantile(h, 0.9)),
            us(sr_hist_quantile(h, 0.99)), us(sr_hist_quantile(h, 0.999)), us(h->max),
            (unsigned long long)h->count);
}

static void latency_json(FILE *f, const char *name, const sr_hist *h)
{
    fprintf(f,
            ",\"%s_us\":{\"count\":%llu,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
            "\"p999\":%.1f,\"max\":%.1f}",
            name, (unsigned long long)h->count, sr_hist_mean(h) / 1000.0,
            us(sr_hist_quantile(h, 0.5)), us(sr_hist_quantile(h, 0.9)),
            us(sr_hist_quantile(h, 0.99)), us(sr_hist_quantile(h, 0.999)), us(h->max));
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

/* Connections that went to the node of process i (both URLs may be one node). */
static uint64_t conns_of(const sr_loadgen *lg, int i)
{
    if (i == 2) return 0;
    if (lg->opt.pid[0] == lg->opt.pid[1])
        return i == 0 ? lg->established[0] + lg->established[1] : 0;
    return lg->established[i];
}

int sr_loadgen_report(const sr_loadgen *lg, FILE *f)
{
    const lg_options *o = &lg->opt;
    totals t;
    sum(lg, &t);
    static const char *const modes[] = {"closed", "rate", "capacity"};
    double window =
        lg->run_end_ns > lg->run_start_ns ? (double)(lg->run_end_ns - lg->run_start_ns) / 1e9 : 0;
    double ramp_s = lg->ramp_end_ns > lg->ramp_start_ns
                        ? (double)(lg->ramp_end_ns - lg->ramp_start_ns) / 1e9
                        : 0;
    uint64_t conns = lg->established[0] + lg->established[1];
    double cps = ramp_s > 0 ? (double)conns / ramp_s : 0;
    double cpu = tv_s(lg->ru_end.ru_utime) - tv_s(lg->ru_start.ru_utime) +
                 tv_s(lg->ru_end.ru_stime) - tv_s(lg->ru_start.ru_stime);
    double rate = window > 0 ? (double)lg->relayed / window : 0;
    uint64_t errors = lg->err.connect + lg->err.closed + lg->err.server + lg->err.protocol;
    bool same_node = !strcmp(o->url[0].text, o->url[1].text);

    /* ---- for people ---- */
    const char *dialect = o->dialect == LG_DEVICESYNC ? "devicesync" : "tokensync";
    fprintf(f, "syncrelay-loadgen: %s, %s", dialect, modes[o->mode]);
    if (o->mode == LG_CLOSED) fprintf(f, ", %u in flight per pair", o->inflight);
    if (o->mode == LG_RATE) fprintf(f, ", %.0f msgs/s offered", o->rate);
    fprintf(f, ", %u pairs, %u-byte payloads\n", o->pairs, o->size);
    fprintf(f, "  %-12s %s   figma %s\n", "web", o->url[0].text, o->url[1].text);
    fprintf(f, "  %-12s %llu connections in %.3f s: %.0f connects/s", "ramp",
            (unsigned long long)conns, ramp_s, cps);
    if (!same_node && ramp_s > 0)
        fprintf(f, " (web side %.0f/s, figma side %.0f/s)", (double)lg->established[0] / ramp_s,
                (double)lg->established[1] / ramp_s);
    fprintf(f, "; %u pairs ready, %u failed\n", t.ready, lg->failed);
    if (o->mode != LG_CAPACITY) {
        fprintf(f, "  %-12s %llu messages in %.2f s: %.0f msgs/s\n", "relayed",
                (unsigned long long)lg->relayed, window, rate);
        latency_line(f, "round trip", &lg->rtt);
        latency_line(f, "one way", &lg->oneway);
        if (o->mode == LG_RATE) latency_line(f, "send lag", &lg->send_lag);
    }
    fprintf(f, "  %-12s sent %llu, received %llu, lost %llu, out of order %llu, duplicated %llu\n",
            "delivery", (unsigned long long)t.sent, (unsigned long long)t.received,
            (unsigned long long)t.lost, (unsigned long long)t.out_of_order,
            (unsigned long long)t.duplicated);
    fprintf(f, "  %-12s %llu (connect %llu, closed %llu, node error %llu, protocol %llu)%s%s\n",
            "errors", (unsigned long long)errors, (unsigned long long)lg->err.connect,
            (unsigned long long)lg->err.closed, (unsigned long long)lg->err.server,
            (unsigned long long)lg->err.protocol, lg->err.last[0] ? "; last: " : "", lg->err.last);
    fprintf(f, "  %-12s %.1f %% of one core over the %s (%.2f s)\n", "loadgen cpu",
            window > 0 ? 100.0 * cpu / window : 0, o->mode == LG_CAPACITY ? "ramp" : "window", cpu);
    for (int i = 0; i < 3; i++) {
        const lg_proc_sample *a = &lg->proc_start[i], *b = &lg->proc_end[i];
        if (a->cpu_s < 0 || b->cpu_s < 0 || (i == 1 && o->pid[0] == o->pid[1])) continue;
        fprintf(f, "  %-12s cpu %.1f %%, rss %ld -> %ld KiB", proc_names[i],
                window > 0 ? 100.0 * (b->cpu_s - a->cpu_s) / window : 0, a->rss_kib, b->rss_kib);
        uint64_t n = conns_of(lg, i);
        if (o->mode == LG_CAPACITY && n)
            fprintf(f, ", %.0f bytes per connection (%llu)",
                    (double)(b->rss_kib - a->rss_kib) * 1024.0 / (double)n, (unsigned long long)n);
        fputc('\n', f);
    }

    /* ---- for scripts ---- */
    fprintf(f,
            "{\"dialect\":\"%s\",\"mode\":\"%s\",\"pairs\":%u,\"inflight\":%u,"
            "\"offered_rate\":%.0f,\"size\":%u",
            dialect, modes[o->mode], o->pairs, o->mode == LG_CLOSED ? o->inflight : 0,
            o->mode == LG_RATE ? o->rate : 0, o->size);
    fprintf(f, ",\"web_url\":");
    json_string(f, o->url[0].text);
    fprintf(f, ",\"figma_url\":");
    json_string(f, o->url[1].text);
    fprintf(f, ",\"window_s\":%.3f,\"relayed\":%llu,\"msgs_per_s\":%.1f", window,
            (unsigned long long)lg->relayed, rate);
    latency_json(f, "rtt", &lg->rtt);
    latency_json(f, "oneway", &lg->oneway);
    latency_json(f, "send_lag", &lg->send_lag);
    fprintf(f,
            ",\"ramp\":{\"connections\":%llu,\"seconds\":%.4f,\"connects_per_s\":%.1f,"
            "\"web_connects_per_s\":%.1f,\"figma_connects_per_s\":%.1f,\"pairs_ready\":%u,"
            "\"pairs_failed\":%u}",
            (unsigned long long)conns, ramp_s, cps,
            ramp_s > 0 ? (double)lg->established[0] / ramp_s : 0,
            ramp_s > 0 ? (double)lg->established[1] / ramp_s : 0, t.ready, lg->failed);
    fprintf(f,
            ",\"sent\":%llu,\"received\":%llu,\"lost\":%llu,\"out_of_order\":%llu,"
            "\"duplicated\":%llu,\"invalid\":%llu",
            (unsigned long long)t.sent, (unsigned long long)t.received, (unsigned long long)t.lost,
            (unsigned long long)t.out_of_order, (unsigned long long)t.duplicated,
            (unsigned long long)t.invalid);
    fprintf(f,
            ",\"errors\":{\"total\":%llu,\"connect\":%llu,\"closed\":%llu,\"node\":%llu,"
            "\"protocol\":%llu,\"pairs_failed\":%llu,\"last\":",
            (unsigned long long)errors, (unsigned long long)lg->err.connect,
            (unsigned long long)lg->err.closed, (unsigned long long)lg->err.server,
            (unsigned long long)lg->err.protocol, (unsigned long long)lg->err.pair_failed);
    json_string(f, lg->err.last);
    fprintf(f, "},\"loadgen_cpu\":{\"seconds\":%.3f,\"percent_of_core\":%.1f}", cpu,
            window > 0 ? 100.0 * cpu / window : 0);
    fprintf(f, ",\"procs\":{");
    bool first = true;
    for (int i = 0; i < 3; i++) {
        const lg_proc_sample *a = &lg->proc_start[i], *b = &lg->proc_end[i];
        if (a->cpu_s < 0 || b->cpu_s < 0 || (i == 1 && o->pid[0] == o->pid[1])) continue;
        uint64_t n = conns_of(lg, i);
        fprintf(f,
                "%s\"%s\":{\"cpu_percent\":%.1f,\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,"
                "\"connections\":%llu,\"rss_bytes_per_conn\":%.0f}",
                first ? "" : ",", proc_names[i],
                window > 0 ? 100.0 * (b->cpu_s - a->cpu_s) / window : 0, a->rss_kib, b->rss_kib,
                (unsigned long long)n,
                n ? (double)(b->rss_kib - a->rss_kib) * 1024.0 / (double)n : 0);
        first = false;
    }
    fprintf(f, "}}\n");
    bool exact = !t.lost && !t.duplicated && !t.out_of_order && !t.invalid;
    return exact && !lg->failed && t.ready == o->pairs ? 0 : 1;
}
