/* sr_json.h - a strict, allocation-free JSON validator that records where each
 * top-level member of an object sits in the original text.
 *
 * Dialects relay a client's payload by splicing its original bytes into the
 * outgoing frame, so the hot path never builds a tree or re-encodes JSON. */
#ifndef SR_JSON_H
#define SR_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum sr_json_type {
    SR_JSON_NONE,
    SR_JSON_OBJECT,
    SR_JSON_ARRAY,
    SR_JSON_STRING,
    SR_JSON_NUMBER,
    SR_JSON_TRUE,
    SR_JSON_FALSE,
    SR_JSON_NULL
};

typedef struct sr_json_span {
    const char *p; /* first byte of the value in the original text */
    size_t n;      /* its length, quotes and brackets included */
    enum sr_json_type type;
} sr_json_span;

#define SR_JSON_MAX_MEMBERS 32
#define SR_JSON_MAX_DEPTH 256

typedef struct sr_json_doc {
    sr_json_span root;
    int count; /* top-level members recorded (first SR_JSON_MAX_MEMBERS) */
    struct {
        sr_json_span key, value;
    } members[SR_JSON_MAX_MEMBERS];
} sr_json_doc;

/* A text with more values than the limit (object members and array elements
 * at any depth, the root included) is refused with SR_JSON_TOO_MANY: scanning
 * stays linear either way, but what the node relays is parsed again by every
 * peer. The node sets the limit once from MAX_JSON_MEMBERS; 0 lifts it. */
#define SR_JSON_DEFAULT_MAX_VALUES 100000
#define SR_JSON_TOO_MANY (-2)
void sr_json_set_max_values(size_t n);

/* Validates all of s[0..n) as one JSON text. Returns 0, -1 when it is not
 * JSON, or SR_JSON_TOO_MANY. */
int sr_json_parse(sr_json_doc *doc, const char *s, size_t n);
/* Scans one JSON value at the start of s[0..n), leading whitespace skipped, into
 * out. Returns the bytes consumed (the value and the whitespace after it), -1
 * when no valid value starts there, or SR_JSON_TOO_MANY. What follows is the caller's business:
 * this is how a codec tells "invalid JSON" from "valid JSON, then trailing garbage". */
long sr_json_scan(sr_json_span *out, const char *s, size_t n);
/* Records up to max elements of the array arr (a span this module produced) in
 * items. Returns how many elements the array has (possibly more than max), or -1
 * when arr is not an array. */
int sr_json_array_items(const sr_json_span *arr, sr_json_span *items, int max);
/* The value of top-level member key, or NULL. Later duplicates win, as in JavaScript. */
const sr_json_span *sr_json_get(const sr_json_doc *doc, const char *key);
/* Unescapes a string value into out (NUL-terminated, valid UTF-8). Returns its
 * length, or -1 when v is not a string, holds a lone surrogate, or does not fit
 * in cap-1 bytes. */
int sr_json_string(const sr_json_span *v, char *out, size_t cap);
/* Reads an integral number value. Returns 0, or -1 when v is not an integer. */
int sr_json_int(const sr_json_span *v, long long *out);
/* True when v is the string lit (no escapes compared). */
bool sr_json_string_is(const sr_json_span *v, const char *lit);

#endif
