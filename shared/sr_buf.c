/* sr_buf.c - growable byte buffer. */
#include "sr_buf.h"
#include "sr_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_buf_init(sr_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void sr_buf_free(sr_buf *b)
{
    free(b->data);
    sr_buf_init(b);
}

void sr_buf_reset(sr_buf *b)
{
    b->len = 0;
}

void sr_buf_reserve(sr_buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->data = sr_xrealloc(b->data, cap);
    b->cap = cap;
}

void sr_buf_append(sr_buf *b, const void *data, size_t n)
{
    if (n == 0) return; /* data may be NULL then (libwebsockets' empty HTTP body) */
    sr_buf_reserve(b, n);
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sr_buf_append_str(sr_buf *b, const char *s)
{
    sr_buf_append(b, s, strlen(s));
}

void sr_buf_printf(sr_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    sr_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sr_buf_append_json_string(sr_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sr_buf_reserve(b, n + 2);
    b->data[b->len++] = '"';
    size_t plain = 0; /* start of the bytes not yet copied: copied in runs */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '"' && c != '\\' && c >= 0x20) continue;
        sr_buf_append(b, s + plain, i - plain);
        plain = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            sr_buf_append(b, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            sr_buf_append(b, esc, 6);
        }
    }
    sr_buf_append(b, s + plain, n - plain);
    sr_buf_append(b, "\"", 1);
}
