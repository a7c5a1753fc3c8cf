/* transport_write.c - sending a WebSocket's queue of frames. A frame queued on
 * a plain (not TLS) socket goes out at the end of the event loop's turn, with
 * every other frame queued on that socket in the same turn, in one writev():
 * no WRITEABLE request (two epoll_ctl calls) per frame, one system call for
 * several frames. Only a socket whose kernel buffer is full waits for
 * WRITEABLE; lws keeps the part of a frame the kernel did not take and sends
 * it before that callback. TLS sockets, pings and close frames go through
 * WRITEABLE and lws_write(). */
#include "sr_alloc.h"
#include "transport_lws.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <sys/uio.h>

#define SR_WRITE_IOV 64 /* frames per writev() */

/* Every frame sent takes a queue item, and they come back in bursts, so they
 * are recycled (as core_op.c's ops); not under AddressSanitizer, which can
 * then catch an item used after it left its queue. */
#if defined(__SANITIZE_ADDRESS__)
#define SR_SPARE_ITEMS_MAX 0
#else
#define SR_SPARE_ITEMS_MAX 4096
#endif
static out_item *spare_items;
static int nspare_items;

out_item *sr_transport_item_new(void)
{
    out_item *it = spare_items;
    if (!it) return sr_xmalloc(sizeof *it);
    spare_items = it->next;
    nspare_items--;
    return it;
}

void sr_transport_item_free(out_item *it)
{
    if (nspare_items >= SR_SPARE_ITEMS_MAX) {
        free(it);
        return;
    }
    it->next = spare_items;
    spare_items = it;
    nspare_items++;
}

/* Writes the WebSocket header of an unmasked, final text frame into the
 * frame's headroom (the same bytes for every socket it is queued on), and
 * returns where the header starts. */
static unsigned char *frame_header(sr_frame *f, size_t *total)
{
    unsigned char *p = (unsigned char *)sr_frame_data(f);
    size_t len = f->len, h;
    if (len < 126) {
        h = 2;
        p[-1] = (unsigned char)len;
    } else if (len <= 0xffff) {
        h = 4;
        p[-3] = 126;
        p[-2] = (unsigned char)(len >> 8);
        p[-1] = (unsigned char)len;
    } else {
        h = 10;
        p[-9] = 127;
        for (int i = 0; i < 8; i++)
            p[-1 - i] = (unsigned char)(len >> (8 * i));
    }
    p[-(ptrdiff_t)h] = 0x81; /* FIN, text */
    *total = h + len;
    return p - h;
}

static void pop_front(sr_transport *t, sr_pss *pss)
{
    out_item *it = pss->head;
    pss->head = it->next;
    if (!pss->head) pss->tail = NULL;
    pss->queued_bytes -= it->frame->len;
    if (it->frame->origin_us) sr_core_observe_relay(t->core, it->frame->origin_us);
    sr_frame_unref(it->frame);
    sr_transport_item_free(it);
}

static void await_writeable(sr_pss *pss)
{
    pss->await_writeable = true;
    lws_callback_on_writable(pss->wsi);
}

/* Sends as much of the queue as the socket takes now. A frame the kernel took
 * only part of is handed to lws (which sends the rest before our next
 * WRITEABLE); the frames after it wait for that WRITEABLE. -1: the socket failed. */
static int write_queue(sr_transport *t, sr_pss *pss)
{
    int fd = lws_get_socket_fd(pss->wsi);
    while (pss->head) {
        struct iovec iov[SR_WRITE_IOV];
        int n = 0;
        for (out_item *it = pss->head; it && n < SR_WRITE_IOV; it = it->next, n++)
            iov[n].iov_base = frame_header(it->frame, &iov[n].iov_len);
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
            return -1;
        }
        for (int i = 0; i < n && w > 0; i++) {
            if ((size_t)w < iov[i].iov_len) { /* lws keeps the rest, and asks for POLLOUT */
                unsigned char *rest = (unsigned char *)iov[i].iov_base + w;
                if (lws_write(pss->wsi, rest, iov[i].iov_len - (size_t)w, LWS_WRITE_RAW) < 0)
                    return -1;
                w = 0;
            } else {
                w -= (ssize_t)iov[i].iov_len;
            }
            pop_front(t, pss);
        }
        if (pss->head && w == 0 && n == SR_WRITE_IOV) continue; /* all taken, more queued */
        break;
    }
    if (pss->head || pss->close_pending || pss->ping_due) await_writeable(pss);
    return 0;
}

static void unlist(sr_transport *t, sr_pss *pss)
{
    if (!pss->flush_listed) return;
    if (pss->flush_prev)
        pss->flush_prev->flush_next = pss->flush_next;
    else
        t->flush_head = pss->flush_next;
    if (pss->flush_next) pss->flush_next->flush_prev = pss->flush_prev;
    pss->flush_prev = pss->flush_next = NULL;
    pss->flush_listed = false;
}

static void flush_all(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sr_transport *t = arg;
    while (t->flush_head) {
        sr_pss *pss = t->flush_head;
        unlist(t, pss);
        if (pss->await_writeable || pss->close_sent) continue;
        if (write_queue(t, pss) < 0) await_writeable(pss); /* lws meets the error and closes */
    }
}

void sr_transport_write_init(sr_transport *t, struct event_base *base)
{
    t->flush = event_new(base, -1, 0, flush_all, t);
}

void sr_transport_write_free(sr_transport *t)
{
    if (t->flush) event_free(t->flush);
}

void sr_transport_write_kick(sr_transport *t, sr_pss *pss)
{
    if (pss->await_writeable || pss->flush_listed) return;
    if (lws_is_ssl(pss->wsi) || pss->close_pending || pss->ping_due) {
        await_writeable(pss);
        return;
    }
    pss->flush_listed = true;
    pss->flush_prev = NULL;
    pss->flush_next = t->flush_head;
    if (t->flush_head) t->flush_head->flush_prev = pss;
    t->flush_head = pss;
    if (!pss->flush_next) event_active(t->flush, EV_TIMEOUT, 0);
}

void sr_transport_write_forget(sr_transport *t, sr_pss *pss)
{
    unlist(t, pss);
}

int sr_transport_write_queued(sr_transport *t, sr_pss *pss)
{
    pss->await_writeable = false;
    unlist(t, pss);
    if (lws_is_ssl(pss->wsi)) { /* one frame per WRITEABLE: lws_write() keeps what SSL_write left */
        if (!pss->head) return 0;
        sr_frame *f = sr_frame_ref(pss->head->frame);
        pop_front(t, pss);
        int n = lws_write(pss->wsi, (unsigned char *)sr_frame_data(f), f->len, LWS_WRITE_TEXT);
        sr_frame_unref(f);
        if (n < 0) return -1;
        if (pss->head || pss->close_pending) await_writeable(pss);
        return 0;
    }
    return write_queue(t, pss);
}
