/* fuzz_json.c - the JSON scanner (shared/sr_json.c) on arbitrary bytes:
 * validate, scan, walk arrays, read members, unescape strings and integers.
 * Checks, besides the sanitizers: every span lies inside the input; an
 * unescaped string is valid UTF-8 of the length returned; a text over the
 * member limit (inputs starting with a space get a limit of 64) is refused
 * as such by both entry points; and whatever
 * jansson accepts (nesting within SR_JSON_MAX_DEPTH, no NUL byte) the scanner
 * accepts too. */
#include "sr_json.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x)) abort();                                                                         \
    } while (0)

static const char *base_, *end_;

static void check_span(const sr_json_span *v)
{
    CHECK(v->p >= base_ && v->p + v->n <= end_ && v->n > 0);
}

/* RFC 3629 UTF-8 (no surrogates, no overlongs), NUL bytes allowed (\u0000). */
static int utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned c = s[i], k, cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            k = 1, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            k = 2, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            k = 3, cp = c & 0x07;
        else
            return 0;
        if (i + k >= n) return 0;
        for (unsigned j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp < 0xE000))
            return 0;
        i += k + 1;
    }
    return 1;
}

static void check_string(const sr_json_span *v)
{
    char out[512];
    int n = sr_json_string(v, out, sizeof out);
    if (v->type != SR_JSON_STRING) {
        CHECK(n == -1);
        return;
    }
    if (n < 0) return; /* too long, or a lone surrogate */
    CHECK((size_t)n < sizeof out && out[n] == '\0');
    CHECK(utf8_valid((const unsigned char *)out, (size_t)n) ||
          !utf8_valid((const unsigned char *)v->p, v->n));
    /* an escape-free string unescapes to itself */
    if (!memchr(v->p, '\\', v->n))
        CHECK((size_t)n == v->n - 2 && !memcmp(out, v->p + 1, (size_t)n));
}

static void check_value(const sr_json_span *v)
{
    check_span(v);
    check_string(v);
    long long x;
    if (sr_json_int(v, &x) == 0) CHECK(v->type == SR_JSON_NUMBER);
    if (v->type == SR_JSON_ARRAY) {
        sr_json_span items[8];
        int n = sr_json_array_items(v, items, 8);
        CHECK(n >= 0);
        for (int i = 0; i < n && i < 8; i++) {
            check_span(&items[i]);
            CHECK(items[i].p > v->p && items[i].p + items[i].n < v->p + v->n);
            check_string(&items[i]);
        }
    } else {
        CHECK(sr_json_array_items(v, NULL, 0) == -1);
    }
}

static int nesting(const uint8_t *s, size_t n)
{
    int opens = 0;
    for (size_t i = 0; i < n; i++)
        opens += s[i] == '[' || s[i] == '{';
    return opens;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    /* a low member limit (MAX_JSON_MEMBERS), so that refusals get explored too */
    sr_json_set_max_values(size > 0 && data[0] == ' ' ? 64 : 0);
    base_ = s;
    end_ = s + size;

    sr_json_doc doc;
    int rc = sr_json_parse(&doc, s, size);
    if (rc == 0) {
        check_value(&doc.root);
        CHECK(doc.count >= 0 && doc.count <= SR_JSON_MAX_MEMBERS);
        for (int i = 0; i < doc.count; i++) {
            CHECK(doc.members[i].key.type == SR_JSON_STRING);
            check_value(&doc.members[i].key);
            check_value(&doc.members[i].value);
        }
        if (doc.count > 0) {
            /* a key is found by its decoded text (unless "\u0000" cuts it short) */
            char key[64];
            int kn = sr_json_string(&doc.members[0].key, key, sizeof key);
            if (kn > 0 && (size_t)kn == strlen(key)) CHECK(sr_json_get(&doc, key) != NULL);
        }
        static const char *const keys[] = {"type", "payload", "seq", "lastSeq", "data", ""};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            const sr_json_span *v = sr_json_get(&doc, keys[i]);
            if (v) check_value(v);
            sr_json_string_is(v, "sync");
        }
    }

    sr_json_span v;
    long used = sr_json_scan(&v, s, size);
    CHECK(used >= SR_JSON_TOO_MANY && used <= (long)size);
    CHECK((used == SR_JSON_TOO_MANY) == (rc == SR_JSON_TOO_MANY));
    if (used >= 0) {
        check_value(&v);
        if (rc == 0) CHECK((size_t)used == size); /* a whole text scans whole */
    } else {
        CHECK(rc < 0 && v.type == SR_JSON_NONE);
    }

    /* jansson stops at a NUL byte outside strings ("null\0" is null to it) */
    if (nesting(data, size) <= SR_JSON_MAX_DEPTH && !memchr(data, 0, size)) {
        json_error_t err;
        json_t *j = json_loadb(s, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (j) CHECK(rc == 0 || rc == SR_JSON_TOO_MANY);
        json_decref(j);
    }
    return 0;
}
