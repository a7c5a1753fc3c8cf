/* core_conn.c - a client connection's life as the core sees it: opened by the
 * transport, fed messages, given frames to send, closed. Connections are
 * reference counted so that a Redis reply arriving after the socket went
 * finds a valid (dead) connection instead of freed memory. */
#include "core_internal.h"
#include "core_metrics.h"
#include "sr_log.h"

#include <event2/event.h>

#include <stdlib.h>
#include <string.h>

uint64_t sr_core_touch_interval_ms(const sr_core *core)
{
    uint64_t ms = (uint64_t)core->cfg->session_ttl * 100; /* a tenth of the TTL */
    return ms > 60000 ? 60000 : ms;
}

void sr_core_error(sr_core *core, enum sr_error_kind kind)
{
    core->metrics.errors[kind]++;
}

sr_conn *sr_conn_open(sr_core *core, void *transport, const sr_dialect *d, const char *ip,
                      const char *args, size_t args_len)
{
    return sr_conn_open_ops(core, core->transport, transport, d, ip, args, args_len);
}

sr_conn *sr_conn_open_ops(sr_core *core, const sr_transport_ops *ops, void *transport,
                          const sr_dialect *d, const char *ip, const char *args, size_t args_len)
{
    sr_conn *c = sr_xcalloc(1, sizeof *c);
    c->core = core;
    c->transport = transport;
    c->ops = ops;
    c->dialect = d;
    c->state = d->state_size ? sr_xcalloc(1, d->state_size) : NULL;
    c->id = ++core->next_conn_id;
    c->refs = 1;
    snprintf(c->owner, sizeof c->owner, "%s/%s/%llu", core->cfg->node_id, core->boot_id,
             (unsigned long long)c->id);
    sr_buf_init(&c->left_event);
    sr_buf_init(&c->args);
    if (args && args_len) sr_buf_append(&c->args, args, args_len);
    snprintf(c->ip, sizeof c->ip, "%s", ip ? ip : "");
    c->next = core->conns;
    if (core->conns) core->conns->prev = c;
    core->conns = c;
    core->nconns++;
    core->metrics.connections_total++;
    sr_log_debug("conn %llu: open (%s) from %s", (unsigned long long)c->id, d->name, c->ip);
    if (d->open) d->open(c);
    sr_limits_conn_open(c);
    return c;
}

void sr_conn_set_dialect(sr_conn *c, const sr_dialect *d)
{
    sr_conn_cancel_timer(c); /* the old dialect's timer would see the new state */
    c->timer_fn = NULL;
    free(c->state);
    c->dialect = d;
    c->state = d->state_size ? sr_xcalloc(1, d->state_size) : NULL;
    if (d->open) d->open(c);
}

void sr_conn_receive(sr_conn *c, const char *data, size_t len, bool binary)
{
    sr_metrics *m = &c->core->metrics;
    m->messages_in++;
    m->bytes_in += len;
    /* Also while closing: a client may have written this before it saw our
     * close frame (a drain's 1012), and it still counts. Replies are dropped. */
    if (c->transport && sr_limits_message(c)) {
        sr_log_debug("conn %llu: %s %zu bytes: %.*s", (unsigned long long)c->id,
                     binary ? "binary" : "text", len, binary ? 0 : (int)(len < 200 ? len : 200),
                     data);
        c->dialect->message(c, data, len, binary);
    }
    /* after: on "/" the first message picks the dialect (the socket's
     * reference keeps c until sr_conn_closed) */
    m->dialect_in[sr_metrics_slot(c->dialect)]++;
}

const char *sr_conn_arg(const sr_conn *c, const char *name)
{
    size_t n = strlen(name);
    for (size_t at = 0; at < c->args.len;) {
        const char *arg = c->args.data + at;
        size_t len = strnlen(arg, c->args.len - at);
        if (len > n && !memcmp(arg, name, n) && arg[n] == '=') return arg + n + 1;
        at += len + 1;
    }
    return NULL;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    sr_conn *c = arg;
    if (sr_conn_alive(c) && c->timer_fn) c->timer_fn(c);
}

void sr_conn_set_timer(sr_conn *c, uint64_t ms, void (*fn)(sr_conn *c))
{
    if (!c->transport) return;
    if (!c->timer) c->timer = event_new(c->core->base, -1, 0, on_timer, c);
    c->timer_fn = fn;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    event_add(c->timer, &tv);
}

void sr_conn_cancel_timer(sr_conn *c)
{
    if (c->timer) event_del(c->timer);
}

void sr_conn_ref(sr_conn *c)
{
    c->refs++;
}

void sr_conn_unref(sr_conn *c)
{
    if (--c->refs) return;
    sr_buf_free(&c->left_event);
    sr_buf_free(&c->args);
    free(c->state);
    free(c);
}

int sr_conn_send_frame(sr_conn *c, sr_frame *f)
{
    if (!sr_conn_alive(c)) return -1;
    if (c->ops->send(c->transport, f) < 0) {
        sr_core_error(c->core, SR_ERROR_SLOW_READER);
        c->closing = true;
        return -1;
    }
    c->core->metrics.messages_out++;
    c->core->metrics.dialect_out[sr_metrics_slot(c->dialect)]++;
    c->core->metrics.bytes_out += f->len;
    return 0;
}

void sr_conn_send(sr_conn *c, const char *data, size_t len)
{
    if (!sr_conn_alive(c)) return;
    sr_frame *f = sr_frame_new(data, len, 0);
    sr_conn_send_frame(c, f);
    sr_frame_unref(f);
}

void sr_conn_send_error(sr_conn *c, const char *prefix, const char *message, const char *suffix)
{
    sr_conn_count_error(c);
    sr_buf b;
    sr_buf_init(&b);
    sr_buf_append_str(&b, prefix);
    sr_buf_append_json_string(&b, message, strlen(message));
    sr_buf_append_str(&b, suffix);
    sr_conn_send(c, b.data, b.len);
    sr_buf_free(&b);
}

/* ---------- accessors (conn.h) ---------- */

bool(sr_conn_alive)(const sr_conn *c)
{
    return sr_conn_alive(c);
}

bool sr_conn_closing(const sr_conn *c)
{
    return c->closing;
}

void *sr_conn_transport(const sr_conn *c)
{
    return c->transport;
}

bool sr_conn_is_socket(const sr_conn *c)
{
    return c->ops == c->core->transport;
}

sr_conn *sr_conn_next(sr_conn *c)
{
    return c->next;
}

const char *sr_conn_args(const sr_conn *c, size_t *len)
{
    *len = c->args.len;
    return c->args.data;
}

void *sr_conn_state(const sr_conn *c)
{
    return c->state;
}

const char *sr_conn_kind(const sr_conn *c)
{
    return c->dialect->name;
}

const sr_config *sr_conn_config(const sr_conn *c)
{
    return c->core->cfg;
}

const char *sr_conn_owner(const sr_conn *c)
{
    return c->owner;
}

void sr_conn_error(sr_conn *c, enum sr_error_kind kind)
{
    sr_core_error(c->core, kind);
}

bool sr_conn_joining(const sr_conn *c)
{
    return c->join_state == SR_CONN_JOINING;
}

bool sr_conn_joined(const sr_conn *c)
{
    return c->join_state == SR_CONN_JOINED;
}

sr_store *sr_conn_store(const sr_conn *c)
{
    return c->core->store;
}

uint64_t sr_conn_touch_interval_ms(const sr_conn *c)
{
    return sr_core_touch_interval_ms(c->core);
}

void sr_conn_close(sr_conn *c, int code, const char *reason)
{
    if (!sr_conn_alive(c)) return;
    c->closing = true;
    c->ops->close(c->transport, code, reason);
}
