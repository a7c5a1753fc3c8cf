/* test_session.c - the core's session logic (core_join.c, core_delivery.c,
 * core_publish.c) linked against the in-memory store and bus of
 * fake_store.c instead of Redis: joining, supersede, gap detection and
 * catch-up ordering, and the publish callback on every error path. */
#include "check.h"
#include "core.h"
#include "fake_store.h"
#include "session.h"
#include "sr_buf.h"
#include "sr_envelope.h"
#include "sr_log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

/* ---------- a transport that records what it was given ---------- */

typedef struct ftrans {
    sr_conn *c;
    char seqs[256]; /* the seqs of the sequenced frames sent, "1,2,3," */
    int frames, close_code, superseded;
    int join_status, join_calls;
} ftrans;

static int ft_send(void *t, sr_frame *f)
{
    ftrans *ft = t;
    ft->frames++;
    if (f->seq) {
        size_t n = strlen(ft->seqs);
        snprintf(ft->seqs + n, sizeof ft->seqs - n, "%llu,", (unsigned long long)f->seq);
    }
    return 0;
}

static void ft_close(void *t, int code, const char *reason)
{
    ((ftrans *)t)->close_code = code;
}

static uint64_t ft_oldest(void *t)
{
    return 0;
}

static void ft_http(void *t, unsigned status, const char *type, const char *body, size_t len) {}

static const sr_transport_ops ops = {ft_send, ft_close, ft_oldest, ft_http};

/* ---------- a dialect that only counts ---------- */

static void on_superseded(sr_conn *c)
{
    ((ftrans *)sr_conn_transport(c))->superseded++;
}

static const sr_dialect test_dialect = {.name = "test", .superseded = on_superseded};

/* ---------- the node ---------- */

static struct event_base *base;
static sr_config cfg;
static sr_store *store;
static sr_core *core;

static const char *no_env(const char *name)
{
    return NULL;
}

static void setup(void)
{
    char err[256], *argv[] = {"test_session"};
    if (sr_config_load(&cfg, 1, argv, no_env, err, sizeof err) != 0) abort();
    sr_log_setup(0, "test", SR_LOG_WARN);
    base = event_base_new();
    store = fake_store_new();
    core = sr_core_new(base, &cfg, store, &ops);
    sr_bus_hooks hooks = {sr_core_bus_message, sr_core_bus_subscribed, sr_core_bus_reset, core,
                          sr_core_beat_now};
    sr_core_attach_bus(core, sr_bus_new(base, &cfg, &hooks));
}

static void teardown(void)
{
    fake_run(store);
    sr_core_free(core);
    sr_bus_free(fake_bus(store));
    fake_store_free(store);
    event_base_free(base);
    sr_config_free(&cfg);
}

static ftrans *open_conn(void)
{
    ftrans *ft = calloc(1, sizeof *ft);
    ft->c = sr_conn_open(core, ft, &test_dialect, "127.0.0.1", NULL, 0);
    return ft;
}

static void close_conn(ftrans *ft)
{
    sr_conn_closed(ft->c);
    fake_run(store);
    free(ft);
}

static void on_joined(sr_conn *c, int status, const sr_join_result *r, void *arg)
{
    ftrans *ft = sr_conn_transport(c);
    ft->join_status = status;
    ft->join_calls++;
}

static int join(ftrans *ft, const char *id, const char *member, bool create)
{
    sr_join_request req = {.id = id, .member = member, .create = create};
    ft->join_calls = 0;
    sr_session_join(ft->c, &req, on_joined, NULL);
    fake_run(store);
    return ft->join_calls == 1 ? ft->join_status : -100;
}

typedef struct answer {
    int calls, status;
    uint64_t seq;
    char current[32];
} answer;

static void on_published(sr_conn *c, const sr_publish_result *r, void *arg)
{
    answer *a = arg;
    a->calls++;
    a->status = r->status;
    a->seq = r->seq;
    snprintf(a->current, sizeof a->current, "%.*s", (int)r->current_len,
             r->current ? r->current : "");
}

/* {"m":<seq>} to "*" */
static void publish(ftrans *ft, answer *a, const sr_publish_request *extra)
{
    static const char head[] = "{\"m\":", tail[] = "}";
    const char *parts[] = {head, tail};
    size_t lens[] = {sizeof head - 1, sizeof tail - 1};
    sr_publish_request req = {.to = "*", .seq_after = 1, .nparts = 2, .parts = parts, .lens = lens};
    if (extra) {
        req.to = extra->to ? extra->to : "*";
        req.min_members = extra->min_members;
        req.to_online = extra->to_online;
        req.state = extra->state;
        req.state_value = extra->state_value;
        req.state_value_len = extra->state_value_len;
        req.state_check = extra->state_check;
        req.state_operand = extra->state_operand;
        req.state_operand_len = extra->state_operand_len;
    }
    sr_session_publish(ft->c, &req, on_published, a);
}

/* ---------- tests ---------- */

static void test_join(void)
{
    ftrans *a = open_conn(), *b = open_conn(), *c = open_conn(), *d = open_conn();
    CHECK(join(a, "s1", "web", true) == SR_OK);
    CHECK(a->join_calls == 1 && sr_conn_joined(a->c));
    CHECK(join(b, "s1", "figma", false) == SR_OK);
    CHECK_STR(fake_field(store, "test", "s1", "m:web"), sr_conn_owner(a->c));
    CHECK_STR(fake_field(store, "test", "s1", "m:figma"), sr_conn_owner(b->c));
    CHECK_STR(fake_field(store, "test", "s1", "members"), "2");
    CHECK(join(c, "nope", "web", false) == SR_ERR_UNKNOWN_SESSION);
    CHECK(!sr_conn_joined(c->c));
    CHECK(join(d, "s1", "other", true) == SR_ERR_EXISTS);
    CHECK(join(d, "bad{id}", "web", false) == SR_ERR_UNKNOWN_SESSION); /* refused at once */
    close_conn(a);
    /* leaving gives the member back and records where it stopped */
    CHECK_STR(fake_field(store, "test", "s1", "m:web"), "");
    CHECK_STR(fake_field(store, "test", "s1", "d:web"), "0");
    close_conn(b);
    close_conn(c);
    close_conn(d);
}

static void test_supersede(void)
{
    ftrans *a = open_conn(), *b = open_conn(), *a2 = open_conn();
    CHECK(join(a, "s2", "web", true) == SR_OK);
    CHECK(join(b, "s2", "figma", false) == SR_OK);
    CHECK(join(a2, "s2", "web", false) == SR_OK);
    /* the 'x' notice closed the older holder, not the newer one */
    CHECK(a->superseded == 1 && a->close_code == SR_CLOSE_SUPERSEDED);
    CHECK(!sr_conn_joined(a->c));
    CHECK(a2->superseded == 0 && a2->close_code == 0 && sr_conn_joined(a2->c));
    CHECK(b->close_code == 0);
    CHECK_STR(fake_field(store, "test", "s2", "m:web"), sr_conn_owner(a2->c));
    close_conn(a);
    close_conn(b);
    close_conn(a2);
}

static void test_delivery_and_gap(void)
{
    ftrans *a = open_conn(), *b = open_conn();
    CHECK(join(a, "s3", "web", true) == SR_OK);
    CHECK(join(b, "s3", "figma", false) == SR_OK);
    answer r = {0};
    publish(a, &r, NULL);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_OK && r.seq == 1);
    CHECK_STR(b->seqs, "1,");
    CHECK_STR(a->seqs, ""); /* "*": not to the sender */

    /* seq 2's pub/sub message is lost: seq 3 is not the next one, so both
     * connections fetch the log (a to keep its place), and b gets 2 then 3,
     * each once */
    int fetches = fake_history_calls(store);
    fake_bus_drop(fake_bus(store), 1);
    publish(a, &r, NULL);
    publish(a, &r, NULL);
    fake_run(store);
    CHECK(r.calls == 3);
    CHECK_STR(b->seqs, "1,2,3,");
    CHECK_STR(a->seqs, "");
    CHECK(fake_history_calls(store) == fetches + 2);
    close_conn(a);
    close_conn(b);
}

static void test_catch_up_ordering(void)
{
    ftrans *a = open_conn(), *b = open_conn();
    CHECK(join(a, "s4", "web", true) == SR_OK);
    CHECK(join(b, "s4", "figma", false) == SR_OK);
    answer r = {0};
    int fetches = fake_history_calls(store);
    /* 1 is lost, 2 starts a catch-up whose read is slow; 3 arrives live
     * meanwhile and is parked; the read (1, 2) is delivered, then a second
     * read brings 3: in order, each once */
    fake_bus_drop(fake_bus(store), 1);
    fake_hold_history(store, true);
    publish(a, &r, NULL);
    publish(a, &r, NULL);
    fake_run(store);
    CHECK(fake_history_calls(store) == fetches + 2); /* a and b */
    CHECK_STR(b->seqs, "");
    publish(a, &r, NULL);
    fake_run(store);
    CHECK_STR(b->seqs, ""); /* parked while the read is under way */
    fake_hold_history(store, false);
    fake_run(store);
    CHECK_STR(b->seqs, "1,2,3,");
    CHECK(fake_history_calls(store) == fetches + 4); /* a second read each */
    CHECK(r.calls == 3);

    /* a joiner resuming from seq 1 gets the rest of the log, in order */
    ftrans *c = open_conn();
    sr_join_request req = {.id = "s4", .member = "late", .has_last_seq = true, .last_seq = 1};
    sr_session_join(c->c, &req, on_joined, NULL);
    fake_run(store);
    CHECK(c->join_status == SR_OK);
    CHECK_STR(c->seqs, "2,3,");
    close_conn(a);
    close_conn(b);
    close_conn(c);
}

static void test_read_retry(void)
{
    ftrans *a = open_conn(), *b = open_conn();
    CHECK(join(a, "s7", "web", true) == SR_OK);
    CHECK(join(b, "s7", "figma", false) == SR_OK);
    answer r = {0};
    /* the gap shows while Redis is away: the read fails, and is tried again
     * a second later on the connection's own timer */
    fake_bus_drop(fake_bus(store), 1);
    publish(a, &r, NULL);
    publish(a, &r, NULL);
    fake_store_set_up(store, false);
    fake_run(store);
    CHECK_STR(b->seqs, "");
    fake_store_set_up(store, true);
    struct timeval wait = {1, 300 * 1000};
    event_base_loopexit(base, &wait);
    event_base_dispatch(base);
    fake_run(store);
    CHECK_STR(b->seqs, "1,2,");
    /* a retry still pending when the socket goes holds nothing (LeakSanitizer) */
    fake_bus_drop(fake_bus(store), 1);
    publish(a, &r, NULL);
    publish(a, &r, NULL);
    fake_store_set_up(store, false);
    fake_run(store);
    fake_store_set_up(store, true);
    close_conn(a);
    close_conn(b);
}

static void test_publish_errors(void)
{
    ftrans *a = open_conn(), *b = open_conn(), *x = open_conn();
    CHECK(join(a, "s5", "web", true) == SR_OK);
    CHECK(join(b, "s5", "figma", false) == SR_OK);

    answer r = {0};
    publish(x, &r, NULL); /* never joined: at once */
    CHECK(r.calls == 1 && r.status == SR_ERR_NOT_JOINED);

    r = (answer){0};
    fake_store_set_up(store, false); /* Redis away: at once */
    publish(a, &r, NULL);
    CHECK(r.calls == 1 && r.status == SR_ERR_UNAVAILABLE);
    fake_store_set_up(store, true);

    r = (answer){0};
    publish(a, &r, &(sr_publish_request){.min_members = 3});
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_ERR_NOT_PAIRED);

    r = (answer){0};
    publish(a, &r,
            &(sr_publish_request){.state = "k",
                                  .state_value = "v",
                                  .state_value_len = 1,
                                  .state_check = SR_STATE_EQUALS,
                                  .state_operand = "w",
                                  .state_operand_len = 1});
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_ERR_CONFLICT);
    CHECK_STR(r.current, "");

    r = (answer){0};
    publish(a, &r, &(sr_publish_request){.to = "nobody", .to_online = true});
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_ERR_OFFLINE);

    /* the socket goes while the publish is under way: still one callback */
    r = (answer){0};
    publish(b, &r, NULL);
    ftrans *gone = b;
    sr_conn_closed(gone->c);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_OK);
    free(gone);

    /* another connection took the member and its notice was lost: the
     * publish learns it, the callback says so once, and the socket closes */
    ftrans *a2 = open_conn();
    fake_bus_drop(fake_bus(store), 1);
    CHECK(join(a2, "s5", "web", false) == SR_OK);
    CHECK(a->close_code == 0);
    r = (answer){0};
    publish(a, &r, NULL);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_ERR_SUPERSEDED);
    CHECK(a->superseded == 1 && a->close_code == SR_CLOSE_SUPERSEDED);

    /* the session expired */
    fake_expire(store, "test", "s5");
    r = (answer){0};
    publish(a2, &r, NULL);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_ERR_UNKNOWN_SESSION);

    close_conn(a);
    close_conn(a2);
    close_conn(x);
}

static void on_state(sr_conn *c, int status, const char *value, size_t len, uint64_t version,
                     void *arg)
{
    answer *a = arg;
    a->calls++;
    a->status = status;
    a->seq = version;
    if (value)
        snprintf(a->current, sizeof a->current, "%.*s", (int)len, value);
    else
        snprintf(a->current, sizeof a->current, "(unset)");
}

static void test_state(void)
{
    ftrans *a = open_conn(), *x = open_conn();
    CHECK(join(a, "s6", "web", true) == SR_OK);
    answer r = {0};
    sr_session_state(x->c, "k", on_state, &r);
    CHECK(r.calls == 1 && r.status == SR_ERR_NOT_JOINED);
    r = (answer){0};
    sr_session_state(a->c, "k", on_state, &r);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_OK);
    CHECK_STR(r.current, "(unset)");
    answer p = {0};
    publish(a, &p,
            &(sr_publish_request){.state = "k", .state_value = "\"v\"", .state_value_len = 3});
    fake_run(store);
    CHECK(p.calls == 1 && p.status == SR_OK);
    r = (answer){0};
    sr_session_state(a->c, "k", on_state, &r);
    fake_run(store);
    CHECK(r.calls == 1 && r.status == SR_OK && r.seq == 1);
    CHECK_STR(r.current, "\"v\"");
    r = (answer){0};
    fake_store_set_up(store, false);
    sr_session_state(a->c, "k", on_state, &r);
    fake_run(store);
    fake_store_set_up(store, true);
    CHECK(r.calls == 1 && r.status == SR_ERR_UNAVAILABLE);
    close_conn(a);
    close_conn(x);
}

int main(void)
{
    setup();
    test_join();
    test_supersede();
    test_delivery_and_gap();
    test_catch_up_ordering();
    test_read_retry();
    test_publish_errors();
    test_state();
    teardown();
    return check_done("session");
}
