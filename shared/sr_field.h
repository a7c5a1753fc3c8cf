/* sr_field.h - byte spans and name/value pairs as the store hands them up:
 * a Redis hash or list read by a script, decoded by the store into plain
 * structs so that nothing above it sees a reply's shape. The bytes belong to
 * the reply and are valid only during the callback that received them. */
#ifndef SR_FIELD_H
#define SR_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sr_span {
    const char *p; /* not NUL-terminated; NULL when absent */
    size_t len;
} sr_span;

typedef struct sr_field {
    sr_span name, value;
} sr_field;

/* The value of field name among f[0..n), or NULL (len untouched). */
const char *sr_fields_get(const sr_field *f, size_t n, const char *name, size_t *len);
/* The value of field name as an unsigned decimal; 0 when absent (found false). */
uint64_t sr_fields_u64(const sr_field *f, size_t n, const char *name, bool *found);
/* Whether span s holds exactly the C string text. */
bool sr_span_is(sr_span s, const char *text);

#endif
