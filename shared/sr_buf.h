/* sr_buf.h - a growable byte buffer for building frames and HTTP bodies. */
#ifndef SR_BUF_H
#define SR_BUF_H

#include <stddef.h>

typedef struct sr_buf {
    char *data;
    size_t len;
    size_t cap;
} sr_buf;

void sr_buf_init(sr_buf *b);
void sr_buf_free(sr_buf *b);
void sr_buf_reset(sr_buf *b);
/* Makes room for n more bytes; aborts on out-of-memory like the rest of the node. */
void sr_buf_reserve(sr_buf *b, size_t n);
void sr_buf_append(sr_buf *b, const void *data, size_t n);
void sr_buf_append_str(sr_buf *b, const char *s);
void sr_buf_printf(sr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal, quotes included. */
void sr_buf_append_json_string(sr_buf *b, const char *s, size_t n);

#endif
