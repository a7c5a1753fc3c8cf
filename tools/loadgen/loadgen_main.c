/* loadgen_main.c - syncrelay-loadgen: options, the run's phases (ramp,
 * warm-up, measured window, drain; or ramp and hold for capacity), and
 * the report, human-readable then as one JSON line.
 *
 * Modes:
 *   closed loop (default)  every pair keeps --inflight requests outstanding
 *   --rate R               R relayed messages/s offered in total, on a fixed
 *                          schedule; latency counts from the scheduled time
 *   --capacity N           N idle paired connections; reports the nodes' RSS
 *                          per connection (--pid-web/--pid-figma)
 * Dialects: token sync (default), or --dialect devicesync (Socket.IO, one
 * registered user per pair). */
#include "loadgen.h"
#include "sr_alloc.h"
#include "loadgen_report.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t sr_loadgen_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_url(const char *text, lg_url *u)
{
    memset(u, 0, sizeof *u);
    snprintf(u->text, sizeof u->text, "%s", text);
    const char *p = text;
    if (!strncmp(p, "ws://", 5))
        p += 5;
    else
        return -1; /* wss is not needed for a loopback benchmark */
    const char *slash = strchr(p, '/');
    const char *end = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(end - p));
    size_t hlen = (size_t)((colon ? colon : end) - p);
    if (hlen == 0 || hlen >= sizeof u->host) return -1;
    memcpy(u->host, p, hlen);
    u->port = colon ? atoi(colon + 1) : 80;
    snprintf(u->path, sizeof u->path, "%s", slash ? slash : "/");
    return u->port > 0 && u->port < 65536 ? 0 : -1;
}

/* Raises the open-file limit to cover `need` descriptors (root may raise the
 * hard limit too); lws sizes its tables from it when the context is made. */
static void raise_nofile(sr_loadgen *lg, rlim_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need) return;
    struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    fprintf(stderr, "loadgen: open files limited to %llu, %llu wanted\n",
            (unsigned long long)rl.rlim_max, (unsigned long long)need);
}

/* ---------- phases ---------- */

static void start_more(sr_loadgen *lg)
{
    while (lg->phase == LG_RAMP && lg->started < lg->opt.pairs &&
           lg->setting_up < lg->opt.ramp_concurrency) {
        lg_pair *p = &lg->pairs[lg->started++];
        lg->setting_up++;
        sr_loadgen_pair_start(lg, p);
    }
}

void sr_loadgen_pair_settled(sr_loadgen *lg, lg_pair *p)
{
    if (lg->setting_up) lg->setting_up--;
    if (p->ready) {
        lg->ready++;
        lg->ramp_end_ns = sr_loadgen_now_ns();
    } else {
        lg->failed++;
    }
}

static void enter(sr_loadgen *lg, enum lg_phase phase)
{
    lg->phase = phase;
    lg->phase_ns = sr_loadgen_now_ns();
}

static void begin_traffic(sr_loadgen *lg)
{
    uint64_t now = lg->phase_ns - lg->t0_ns;
    double interval = lg->opt.rate > 0 ? 2e9 * lg->opt.pairs / lg->opt.rate : 0;
    for (unsigned i = 0; i < lg->opt.pairs; i++) {
        lg_pair *p = &lg->pairs[i];
        if (!p->ready) continue;
        p->next_due_ns = now + (uint64_t)(interval * i / lg->opt.pairs);
        sr_loadgen_want_write(&p->c[LG_WEB]);
    }
}

static void schedule_due(sr_loadgen *lg, uint64_t now_abs)
{
    uint64_t now = now_abs - lg->t0_ns;
    uint64_t interval = (uint64_t)(2e9 * lg->opt.pairs / lg->opt.rate);
    if (!interval) interval = 1;
    for (unsigned i = 0; i < lg->opt.pairs; i++) {
        lg_pair *p = &lg->pairs[i];
        if (!p->ready) continue;
        bool any = false;
        while (p->next_due_ns <= now) {
            lg_queue_push(&p->c[LG_WEB].out, 0, p->next_due_ns);
            p->next_due_ns += interval;
            any = true;
        }
        if (any) sr_loadgen_want_write(&p->c[LG_WEB]);
    }
}

static bool drained(const sr_loadgen *lg)
{
    for (unsigned i = 0; i < lg->opt.pairs; i++) {
        const lg_pair *p = &lg->pairs[i];
        if (p->ready && !p->c[LG_WEB].gone && !p->c[LG_FIGMA].gone &&
            (p->inflight || p->c[LG_FIGMA].out.count))
            return false;
    }
    return true;
}

static void fail_unsettled(sr_loadgen *lg)
{
    for (unsigned i = 0; i < lg->started; i++) {
        lg_pair *p = &lg->pairs[i];
        if (p->ready || p->failed) continue;
        p->failed = true;
        lg->err.pair_failed++;
        snprintf(lg->err.last, sizeof lg->err.last, "pair %u not ready within %.0f s", i,
                 lg->opt.setup_timeout);
        for (int r = 0; r < 2; r++) {
            p->c[r].kill = true;
            sr_loadgen_want_write(&p->c[r]);
        }
        sr_loadgen_pair_settled(lg, p);
    }
    lg->failed += lg->opt.pairs - lg->started;
    lg->started = lg->opt.pairs;
}

static double since(const sr_loadgen *lg, uint64_t now)
{
    return (double)(now - lg->phase_ns) / 1e9;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    sr_loadgen *lg = arg;
    uint64_t now = sr_loadgen_now_ns();
    switch (lg->phase) {
    case LG_RAMP:
        start_more(lg);
        if (since(lg, now) > lg->opt.setup_timeout) fail_unsettled(lg);
        if (lg->ready + lg->failed < lg->opt.pairs) break;
        if (!lg->ready) {
            enter(lg, LG_DONE);
        } else if (lg->opt.mode == LG_CAPACITY) {
            sr_loadgen_sample_procs(lg, lg->proc_end); /* CPU of the ramp */
            getrusage(RUSAGE_SELF, &lg->ru_end);
            enter(lg, LG_HOLD);
        } else {
            enter(lg, LG_WARMUP);
            begin_traffic(lg);
        }
        break;
    case LG_WARMUP:
        if (lg->opt.mode == LG_RATE) schedule_due(lg, now);
        if (since(lg, now) < lg->opt.warmup) break;
        enter(lg, LG_RUN);
        sr_hist_reset(&lg->rtt);
        sr_hist_reset(&lg->oneway);
        sr_hist_reset(&lg->send_lag);
        lg->relayed = lg->requests_in_window = 0;
        lg->run_start_ns = lg->phase_ns;
        getrusage(RUSAGE_SELF, &lg->ru_start);
        sr_loadgen_sample_procs(lg, lg->proc_start);
        break;
    case LG_RUN:
        if (lg->opt.mode == LG_RATE) schedule_due(lg, now);
        if (since(lg, now) < lg->opt.duration) break;
        lg->run_end_ns = now;
        getrusage(RUSAGE_SELF, &lg->ru_end);
        sr_loadgen_sample_procs(lg, lg->proc_end);
        enter(lg, LG_DRAIN);
        break;
    case LG_DRAIN:
        if (drained(lg) || since(lg, now) > lg->opt.drain_timeout) enter(lg, LG_DONE);
        break;
    case LG_HOLD:
        if (since(lg, now) < lg->opt.hold) break;
        /* RSS after the hold: joins answered, buffers settled */
        for (int i = 0; i < 3; i++) {
            lg_proc_sample s[3];
            sr_loadgen_sample_procs(lg, s);
            lg->proc_end[i].rss_kib = s[i].rss_kib;
        }
        enter(lg, LG_DONE);
        break;
    case LG_DONE:
        break;
    }
    if (lg->phase == LG_DONE) {
        lg->stopping = true;
        event_base_loopbreak(lg->base);
    }
}

/* ---------- options ---------- */

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: syncrelay-loadgen [options]\n"
        "  --web URL            node (or load balancer) for the web ends [ws://127.0.0.1:8080/]\n"
        "  --figma URL          node for the figma ends [same as --web]\n"
        "  --pairs P            pairs: token-sync sessions, or users with two devices [10]\n"
        "  --dialect D          tokensync, or devicesync (Socket.IO on /socket.io/) [tokensync]\n"
        "  --accounts NAME      devicesync: users NAME-<i>@loadgen.test, registered or logged\n"
        "                       in over /api/auth before the run [loadgen]\n"
        "  --inflight W         closed loop: requests outstanding per pair [1]\n"
        "  --rate R             open loop: R relayed messages/s in total (both directions)\n"
        "  --capacity N         open N idle paired connections (N/2 pairs) and hold them\n"
        "  --size S             payload bytes per message [256]\n"
        "  --duration D         measured seconds [10]\n"
        "  --warmup D           seconds of traffic before measuring [1]\n"
        "  --hold D             capacity: seconds to hold before reading RSS [3]\n"
        "  --ramp-concurrency C pairs being set up at once [256]\n"
        "  --sources K          bind connections to 127.0.0.1..127.0.0.K [1: no bind]\n"
        "  --pid-web PID        node behind --web: its CPU and RSS are reported\n"
        "  --pid-figma PID      node behind --figma\n"
        "  --pid-redis PID      redis-server: its CPU is reported\n"
        "  --setup-timeout D    seconds the ramp may take [60]\n"
        "  --drain-timeout D    seconds to wait for messages in flight at the end [5]\n"
        "Prints a report, then one JSON line. Exit status 1 when a message was lost,\n"
        "duplicated or out of order, or a pair failed; 2 on bad usage.\n");
}

static int parse_options(sr_loadgen *lg, int argc, char **argv)
{
    enum {
        O_WEB = 256,
        O_FIGMA,
        O_PIDW,
        O_PIDF,
        O_PIDR,
        O_SETUP,
        O_DRAIN,
        O_CONC,
        O_DIALECT,
        O_ACCOUNTS
    };
    static const struct option longopts[] = {
        {"web", 1, 0, O_WEB},
        {"figma", 1, 0, O_FIGMA},
        {"url", 1, 0, 'u'},
        {"pairs", 1, 0, 'p'},
        {"inflight", 1, 0, 'w'},
        {"rate", 1, 0, 'r'},
        {"capacity", 1, 0, 'c'},
        {"size", 1, 0, 's'},
        {"duration", 1, 0, 'd'},
        {"warmup", 1, 0, 'W'},
        {"hold", 1, 0, 'H'},
        {"sources", 1, 0, 'k'},
        {"pid-web", 1, 0, O_PIDW},
        {"pid-figma", 1, 0, O_PIDF},
        {"pid-redis", 1, 0, O_PIDR},
        {"setup-timeout", 1, 0, O_SETUP},
        {"drain-timeout", 1, 0, O_DRAIN},
        {"ramp-concurrency", 1, 0, O_CONC},
        {"dialect", 1, 0, O_DIALECT},
        {"accounts", 1, 0, O_ACCOUNTS},
        {"help", 0, 0, 'h'},
        {0, 0, 0, 0},
    };
    lg_options *o = &lg->opt;
    const char *web = "ws://127.0.0.1:8080/", *figma = NULL;
    o->pairs = 10;
    o->inflight = 1;
    o->size = 256;
    o->duration = 10;
    o->warmup = 1;
    o->hold = 3;
    o->ramp_concurrency = 256;
    o->sources = 1;
    o->setup_timeout = 60;
    o->drain_timeout = 5;
    snprintf(o->accounts, sizeof o->accounts, "loadgen");
    int ch;
    long capacity = -1;
    while ((ch = getopt_long(argc, argv, "u:p:w:r:c:s:d:W:H:k:h", longopts, NULL)) != -1) {
        switch (ch) {
        case O_WEB:
            web = optarg;
            break;
        case O_FIGMA:
            figma = optarg;
            break;
        case 'u':
            web = figma = optarg;
            break;
        case 'p':
            o->pairs = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'w':
            o->inflight = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'r':
            o->rate = strtod(optarg, NULL);
            break;
        case 'c':
            capacity = strtol(optarg, NULL, 10);
            break;
        case 's':
            o->size = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case 'd':
            o->duration = strtod(optarg, NULL);
            break;
        case 'W':
            o->warmup = strtod(optarg, NULL);
            break;
        case 'H':
            o->hold = strtod(optarg, NULL);
            break;
        case 'k':
            o->sources = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case O_PIDW:
            o->pid[LG_WEB] = atoi(optarg);
            break;
        case O_PIDF:
            o->pid[LG_FIGMA] = atoi(optarg);
            break;
        case O_PIDR:
            o->pid_redis = atoi(optarg);
            break;
        case O_SETUP:
            o->setup_timeout = strtod(optarg, NULL);
            break;
        case O_DRAIN:
            o->drain_timeout = strtod(optarg, NULL);
            break;
        case O_CONC:
            o->ramp_concurrency = (unsigned)strtoul(optarg, NULL, 10);
            break;
        case O_DIALECT:
            if (!strcmp(optarg, "devicesync")) {
                o->dialect = LG_DEVICESYNC;
            } else if (strcmp(optarg, "tokensync") != 0) {
                fprintf(stderr, "syncrelay-loadgen: --dialect is tokensync or devicesync\n");
                return -1;
            }
            break;
        case O_ACCOUNTS:
            if (!*optarg || strlen(optarg) >= sizeof o->accounts || strpbrk(optarg, "\"\\@ ")) {
                fprintf(stderr, "syncrelay-loadgen: bad --accounts name\n");
                return -1;
            }
            snprintf(o->accounts, sizeof o->accounts, "%s", optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (parse_url(web, &o->url[LG_WEB]) < 0 ||
        parse_url(figma ? figma : web, &o->url[LG_FIGMA]) < 0) {
        fprintf(stderr, "syncrelay-loadgen: URLs must look like ws://host:port/path\n");
        return -1;
    }
    if (capacity >= 0) {
        o->mode = LG_CAPACITY;
        o->pairs = (unsigned)((capacity + 1) / 2);
    } else if (o->rate > 0) {
        o->mode = LG_RATE;
    }
    if (!o->pairs || !o->inflight || !o->ramp_concurrency || o->sources > 250 || o->duration <= 0) {
        fprintf(stderr, "syncrelay-loadgen: bad option value\n");
        return -1;
    }
    if (!o->sources) o->sources = 1;
    return 0;
}

int main(int argc, char **argv)
{
    static sr_loadgen lg;
    signal(SIGPIPE, SIG_IGN);
    if (parse_options(&lg, argc, argv) < 0) return 2;
    raise_nofile(&lg, (rlim_t)lg.opt.pairs * 2 + 256);
    lg.t0_ns = sr_loadgen_now_ns();
    lg.pairs = sr_xcalloc(lg.opt.pairs, sizeof *lg.pairs);
    for (unsigned i = 0; i < lg.opt.pairs; i++)
        lg.pairs[i].index = i;
    sr_hist_init(&lg.rtt);
    sr_hist_init(&lg.oneway);
    sr_hist_init(&lg.send_lag);
    /* without a timerfd, libevent's 1 ms timer fires every 4 ms (jiffies) here */
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    lg.base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (!lg.base || sr_loadgen_ws_init(&lg) < 0) {
        fprintf(stderr, "syncrelay-loadgen: cannot set up libevent/libwebsockets\n");
        return 1;
    }
    if (lg.opt.dialect == LG_DEVICESYNC) {
        uint64_t t = sr_loadgen_now_ns();
        unsigned ok = sr_loadgen_accounts(&lg);
        fprintf(stderr, "syncrelay-loadgen: %u of %u accounts in %.2f s%s%s\n", ok, lg.opt.pairs,
                (double)(sr_loadgen_now_ns() - t) / 1e9, ok < lg.opt.pairs ? "; last error: " : "",
                ok < lg.opt.pairs ? lg.err.last : "");
    }
    lg.tick = event_new(lg.base, -1, EV_PERSIST, tick, &lg);
    /* the rate schedule's resolution: requests go out at most this late (send lag) */
    struct timeval tv = {0, lg.opt.mode == LG_RATE ? 250 : 1000};
    event_add(lg.tick, &tv);

    sr_loadgen_sample_procs(&lg, lg.proc_start);
    getrusage(RUSAGE_SELF, &lg.ru_start);
    enter(&lg, LG_RAMP);
    lg.ramp_start_ns = lg.phase_ns;
    start_more(&lg);
    event_base_dispatch(lg.base);
    if (lg.opt.mode == LG_CAPACITY) {
        lg.run_start_ns = lg.ramp_start_ns;
        lg.run_end_ns = lg.ramp_end_ns ? lg.ramp_end_ns : sr_loadgen_now_ns();
    }
    int rc = sr_loadgen_report(&lg, stdout);
    fflush(stdout);

    event_free(lg.tick);
    sr_loadgen_ws_free(&lg);
    for (unsigned i = 0; i < lg.opt.pairs; i++) {
        for (int r = 0; r < 2; r++) {
            lg_queue_free(&lg.pairs[i].c[r].out);
            sr_buf_free(&lg.pairs[i].c[r].rx);
            sr_seqcheck_free(&lg.pairs[i].c[r].check);
        }
        free(lg.pairs[i].jwt);
    }
    free(lg.pairs);
    sr_hist_free(&lg.rtt);
    sr_hist_free(&lg.oneway);
    sr_hist_free(&lg.send_lag);
    event_base_free(lg.base);
    return rc;
}
