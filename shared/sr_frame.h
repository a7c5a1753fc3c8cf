/* sr_frame.h - a reference-counted outgoing WebSocket text frame.
 *
 * A message fanned out to many local sockets is copied once into a frame and
 * queued on each socket by reference. SR_FRAME_HEADROOM bytes before the data
 * are left free for the transport's frame header (lws needs LWS_PRE). */
#ifndef SR_FRAME_H
#define SR_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SR_FRAME_HEADROOM 32

typedef struct sr_frame {
    unsigned refs;
    uint64_t seq;       /* session seq carried by the frame, 0 when unsequenced */
    uint64_t origin_us; /* a live relayed message: when its first node published it, else 0 */
    size_t len;
    char buf[]; /* SR_FRAME_HEADROOM bytes, then len bytes of data */
} sr_frame;

sr_frame *sr_frame_new(const void *data, size_t len, uint64_t seq);
static inline char *sr_frame_data(sr_frame *f)
{
    return f->buf + SR_FRAME_HEADROOM;
}
static inline sr_frame *sr_frame_ref(sr_frame *f)
{
    f->refs++;
    return f;
}
void sr_frame_unref(sr_frame *f);

#endif
