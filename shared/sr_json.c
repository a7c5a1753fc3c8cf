/* sr_json.c - strict RFC 8259 scanner (see sr_json.h). Recursive descent with
 * a depth limit; UTF-8 validity of text frames is left to the transport. */
#include "sr_json.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct scanner {
    const char *s, *end;
} scanner;

static void skip_ws(scanner *sc)
{
    while (sc->s < sc->end && (*sc->s == ' ' || *sc->s == '\t' || *sc->s == '\n' || *sc->s == '\r'))
        sc->s++;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

#define SR_BYTES(b) (0x0101010101010101ull * (b))
#define SR_HAS_ZERO(v) (((v)-SR_BYTES(1)) & ~(v)&SR_BYTES(0x80))

/* Skips string bytes that need no look (anything but '"', '\\' and control
 * characters), sixteen at a time with SSE2 (stopping at the exact byte), then
 * eight at a time: relayed payloads are mostly such bytes. The word tests are
 * exact as yes/no answers (bit twiddling "haszero"/"hasless"). */
static const char *skip_plain(const char *s, const char *end)
{
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1f);
    while (end - s >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
        __m128i special =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                         _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl)); /* <= 0x1f */
        int m = _mm_movemask_epi8(special);
        if (m) return s + __builtin_ctz((unsigned)m);
        s += 16;
    }
#endif
    while (end - s >= 8) {
        uint64_t x;
        memcpy(&x, s, 8);
        uint64_t special = SR_HAS_ZERO(x ^ SR_BYTES('"')) | SR_HAS_ZERO(x ^ SR_BYTES('\\')) |
                           ((x - SR_BYTES(0x20)) & ~x & SR_BYTES(0x80));
        if (special) break;
        s += 8;
    }
    return s;
}

static int scan_string(scanner *sc)
{
    sc->s++; /* opening quote */
    while (sc->s < sc->end) {
        sc->s = skip_plain(sc->s, sc->end);
        if (sc->s >= sc->end) break;
        unsigned char c = (unsigned char)*sc->s++;
        if (c == '"') return 0;
        if (c < 0x20) return -1;
        if (c != '\\') continue;
        if (sc->s >= sc->end) return -1;
        c = (unsigned char)*sc->s++;
        if (c == 'u') {
            if (sc->end - sc->s < 4) return -1;
            for (int i = 0; i < 4; i++)
                if (!is_hex(sc->s[i])) return -1;
            sc->s += 4;
        } else if (!strchr("\"\\/bfnrt", c) || c == 0) {
            return -1;
        }
    }
    return -1;
}

static int scan_digits(scanner *sc)
{
    const char *start = sc->s;
    while (sc->s < sc->end && *sc->s >= '0' && *sc->s <= '9')
        sc->s++;
    return sc->s > start ? 0 : -1;
}

static int scan_number(scanner *sc)
{
    if (*sc->s == '-') sc->s++;
    if (sc->s >= sc->end) return -1;
    if (*sc->s == '0')
        sc->s++;
    else if (scan_digits(sc) < 0)
        return -1;
    if (sc->s < sc->end && *sc->s == '.') {
        sc->s++;
        if (scan_digits(sc) < 0) return -1;
    }
    if (sc->s < sc->end && (*sc->s == 'e' || *sc->s == 'E')) {
        sc->s++;
        if (sc->s < sc->end && (*sc->s == '+' || *sc->s == '-')) sc->s++;
        if (scan_digits(sc) < 0) return -1;
    }
    return 0;
}

static int scan_literal(scanner *sc, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(sc->end - sc->s) < n || memcmp(sc->s, lit, n) != 0) return -1;
    sc->s += n;
    return 0;
}

/* Scans one value at sc->s into out. doc, when not NULL, collects members. */
static int scan_value(scanner *sc, sr_json_span *out, sr_json_doc *doc, int depth)
{
    if (depth > SR_JSON_MAX_DEPTH || sc->s >= sc->end) return -1;
    const char *start = sc->s;
    int rc;
    switch (*sc->s) {
    case '"':
        out->type = SR_JSON_STRING;
        rc = scan_string(sc);
        break;
    case 't':
        out->type = SR_JSON_TRUE;
        rc = scan_literal(sc, "true");
        break;
    case 'f':
        out->type = SR_JSON_FALSE;
        rc = scan_literal(sc, "false");
        break;
    case 'n':
        out->type = SR_JSON_NULL;
        rc = scan_literal(sc, "null");
        break;
    case '[':
        out->type = SR_JSON_ARRAY;
        sc->s++;
        skip_ws(sc);
        if (sc->s < sc->end && *sc->s == ']') {
            sc->s++;
            rc = 0;
            break;
        }
        for (;;) {
            sr_json_span item;
            skip_ws(sc);
            if (scan_value(sc, &item, NULL, depth + 1) < 0) return -1;
            skip_ws(sc);
            if (sc->s >= sc->end) return -1;
            if (*sc->s == ',') {
                sc->s++;
                continue;
            }
            if (*sc->s != ']') return -1;
            sc->s++;
            break;
        }
        rc = 0;
        break;
    case '{':
        out->type = SR_JSON_OBJECT;
        sc->s++;
        skip_ws(sc);
        if (sc->s < sc->end && *sc->s == '}') {
            sc->s++;
            rc = 0;
            break;
        }
        for (;;) {
            sr_json_span key, value;
            skip_ws(sc);
            if (sc->s >= sc->end || *sc->s != '"') return -1;
            key.p = sc->s;
            key.type = SR_JSON_STRING;
            if (scan_string(sc) < 0) return -1;
            key.n = (size_t)(sc->s - key.p);
            skip_ws(sc);
            if (sc->s >= sc->end || *sc->s != ':') return -1;
            sc->s++;
            skip_ws(sc);
            if (scan_value(sc, &value, NULL, depth + 1) < 0) return -1;
            if (doc && doc->count < SR_JSON_MAX_MEMBERS) {
                doc->members[doc->count].key = key;
                doc->members[doc->count].value = value;
                doc->count++;
            }
            skip_ws(sc);
            if (sc->s >= sc->end) return -1;
            if (*sc->s == ',') {
                sc->s++;
                continue;
            }
            if (*sc->s != '}') return -1;
            sc->s++;
            break;
        }
        rc = 0;
        break;
    default:
        out->type = SR_JSON_NUMBER;
        rc = (*sc->s == '-' || (*sc->s >= '0' && *sc->s <= '9')) ? scan_number(sc) : -1;
        break;
    }
    if (rc < 0) return -1;
    out->p = start;
    out->n = (size_t)(sc->s - start);
    return 0;
}

int sr_json_parse(sr_json_doc *doc, const char *s, size_t n)
{
    scanner sc = {s, s + n};
    doc->count = 0;
    doc->root.type = SR_JSON_NONE;
    skip_ws(&sc);
    if (scan_value(&sc, &doc->root, doc, 0) < 0) return -1;
    skip_ws(&sc);
    return sc.s == sc.end ? 0 : -1;
}

long sr_json_scan(sr_json_span *out, const char *s, size_t n)
{
    scanner sc = {s, s + n};
    out->type = SR_JSON_NONE;
    skip_ws(&sc);
    if (scan_value(&sc, out, NULL, 0) < 0) {
        out->type = SR_JSON_NONE;
        return -1;
    }
    skip_ws(&sc);
    return (long)(sc.s - s);
}

int sr_json_array_items(const sr_json_span *arr, sr_json_span *items, int max)
{
    if (!arr || arr->type != SR_JSON_ARRAY) return -1;
    scanner sc = {arr->p + 1, arr->p + arr->n - 1}; /* inside the brackets */
    int count = 0;
    skip_ws(&sc);
    while (sc.s < sc.end) {
        sr_json_span item;
        if (scan_value(&sc, &item, NULL, 1) < 0) return -1; /* not from this module */
        if (count < max) items[count] = item;
        count++;
        skip_ws(&sc);
        if (sc.s < sc.end && *sc.s == ',') sc.s++;
        skip_ws(&sc);
    }
    return count;
}

static int utf8_put(char *out, size_t cap, size_t *len, unsigned cp)
{
    char tmp[4];
    size_t k;
    if (cp < 0x80) {
        tmp[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        tmp[0] = (char)(0xC0 | (cp >> 6));
        tmp[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12));
        tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18));
        tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*len + k >= cap) return -1;
    memcpy(out + *len, tmp, k);
    *len += k;
    return 0;
}

static unsigned hex4(const char *p)
{
    char tmp[5] = {p[0], p[1], p[2], p[3], 0};
    return (unsigned)strtoul(tmp, NULL, 16);
}

int sr_json_string(const sr_json_span *v, char *out, size_t cap)
{
    if (!v || v->type != SR_JSON_STRING || cap == 0) return -1;
    const char *p = v->p + 1, *end = v->p + v->n - 1;
    size_t len = 0;
    while (p < end) {
        if (*p != '\\') {
            if (len + 1 >= cap) return -1;
            out[len++] = *p++;
            continue;
        }
        p++;
        char c = *p++;
        unsigned cp;
        switch (c) {
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case 'n':
            cp = '\n';
            break;
        case 'r':
            cp = '\r';
            break;
        case 't':
            cp = '\t';
            break;
        case 'u':
            cp = hex4(p);
            p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                unsigned lo = hex4(p + 2);
                if (lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            if (cp >= 0xD800 && cp < 0xE000) return -1; /* a lone surrogate is not text */
            break;
        default:
            cp = (unsigned char)c;
            break;
        }
        if (utf8_put(out, cap, &len, cp) < 0) return -1;
    }
    out[len] = '\0';
    return (int)len;
}

const sr_json_span *sr_json_get(const sr_json_doc *doc, const char *key)
{
    size_t klen = strlen(key);
    for (int i = doc->count - 1; i >= 0; i--) {
        const sr_json_span *k = &doc->members[i].key;
        if (k->n == klen + 2 && memcmp(k->p + 1, key, klen) == 0) return &doc->members[i].value;
        if (memchr(k->p, '\\', k->n)) { /* escaped key: compare decoded */
            char tmp[128];
            if (sr_json_string(k, tmp, sizeof tmp) == (int)klen && memcmp(tmp, key, klen) == 0)
                return &doc->members[i].value;
        }
    }
    return NULL;
}

int sr_json_int(const sr_json_span *v, long long *out)
{
    if (!v || v->type != SR_JSON_NUMBER || v->n > 20) return -1;
    char tmp[24], *end;
    memcpy(tmp, v->p, v->n);
    tmp[v->n] = '\0';
    errno = 0;
    long long x = strtoll(tmp, &end, 10);
    if (errno || *end) return -1;
    *out = x;
    return 0;
}

bool sr_json_string_is(const sr_json_span *v, const char *lit)
{
    size_t n = strlen(lit);
    return v && v->type == SR_JSON_STRING && v->n == n + 2 && memcmp(v->p + 1, lit, n) == 0;
}
