/* sr_frame.c - reference-counted frames (see sr_frame.h). */
#include "sr_frame.h"
#include "sr_alloc.h"
#include "sr_buf.h"

#include <stdlib.h>
#include <string.h>

sr_frame *sr_frame_new(const void *data, size_t len, uint64_t seq)
{
    sr_frame *f = sr_xmalloc(sizeof *f + SR_FRAME_HEADROOM + len + 1);
    f->refs = 1;
    f->seq = seq;
    f->origin_us = 0;
    f->len = len;
    if (data) memcpy(sr_frame_data(f), data, len);
    sr_frame_data(f)[len] = '\0';
    return f;
}

void sr_frame_unref(sr_frame *f)
{
    if (f && --f->refs == 0) free(f);
}
