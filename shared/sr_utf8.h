/* sr_utf8.h - UTF-8 validation of a whole text message (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), skipping ASCII
 * sixteen (SSE2) or eight bytes at a time. */
#ifndef SR_UTF8_H
#define SR_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool sr_utf8_valid(const char *s, size_t len);

#endif
