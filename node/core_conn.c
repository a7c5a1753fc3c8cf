/* core_conn.c - a client connection's life as the core sees it: opened by the
 * transport, fed messages, given frames to send, closed. Connections are
 * reference counted so that a Redis reply arriving after the socket went
 * finds a valid (dead) connection instead of freed memory. */
#include "core.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t sr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t sr_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void sr_iso_time(uint64_t ms, char *out, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, cap - n, ".%03dZ", (int)(ms % 1000));
}

sr_conn *sr_conn_open(sr_core *core, void *transport, const sr_dialect *d, const char *ip)
{
    sr_conn *c = sr_xcalloc(1, sizeof *c);
    c->core = core;
    c->transport = transport;
    c->dialect = d;
    c->state = d->state_size ? sr_xcalloc(1, d->state_size) : NULL;
    c->id = ++core->next_conn_id;
    c->refs = 1;
    snprintf(c->owner, sizeof c->owner, "%s/%s/%llu", core->cfg->node_id, core->boot_id,
             (unsigned long long)c->id);
    sr_buf_init(&c->left_event);
    snprintf(c->ip, sizeof c->ip, "%s", ip ? ip : "");
    c->next = core->conns;
    if (core->conns) core->conns->prev = c;
    core->conns = c;
    core->nconns++;
    core->metrics.connections_total++;
    if (d->open) d->open(c);
    return c;
}

void sr_conn_set_dialect(sr_conn *c, const sr_dialect *d)
{
    free(c->state);
    c->dialect = d;
    c->state = d->state_size ? sr_xcalloc(1, d->state_size) : NULL;
    if (d->open) d->open(c);
}

void sr_conn_receive(sr_conn *c, const char *data, size_t len, bool binary)
{
    c->core->metrics.messages_in++;
    c->core->metrics.bytes_in += len;
    if (!sr_conn_alive(c)) return;
    c->dialect->message(c, data, len, binary);
}

void sr_conn_closed(sr_conn *c)
{
    sr_core *core = c->core;
    if (c->dialect->close) c->dialect->close(c);
    sr_session_leave(c);
    c->transport = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        core->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->next = c->prev = NULL;
    core->nconns--;
    sr_conn_unref(c);
}

void sr_conn_ref(sr_conn *c)
{
    c->refs++;
}

void sr_conn_unref(sr_conn *c)
{
    if (--c->refs) return;
    sr_buf_free(&c->left_event);
    free(c->state);
    free(c);
}

int sr_conn_send_frame(sr_conn *c, sr_frame *f)
{
    if (!sr_conn_alive(c)) return -1;
    if (c->core->transport->send(c->transport, f) < 0) {
        sr_core_error(c->core, SR_ERROR_SLOW_READER);
        c->closing = true;
        return -1;
    }
    c->core->metrics.messages_out++;
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

void sr_conn_close(sr_conn *c, int code, const char *reason)
{
    if (!sr_conn_alive(c)) return;
    c->closing = true;
    c->core->transport->close(c->transport, code, reason);
}
