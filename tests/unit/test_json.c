#include "check.h"
#include "sr_json.h"

static int parses(const char *s)
{
    sr_json_doc d;
    return sr_json_parse(&d, s, strlen(s)) == 0;
}

int main(void)
{
    sr_json_doc d;
    const char *msg = " {\"type\":\"sync\", \"payload\" : {\"a\":[1,2.5e3,-0,true,null]},\"n\":7} ";
    CHECK(sr_json_parse(&d, msg, strlen(msg)) == 0);
    CHECK(d.root.type == SR_JSON_OBJECT && d.count == 3);
    const sr_json_span *p = sr_json_get(&d, "payload");
    CHECK(p && p->type == SR_JSON_OBJECT);
    CHECK(p && p->n == strlen("{\"a\":[1,2.5e3,-0,true,null]}") &&
          !memcmp(p->p, "{\"a\":[1,2.5e3,-0,true,null]}", p->n));
    CHECK(sr_json_string_is(sr_json_get(&d, "type"), "sync"));
    long long n = 0;
    CHECK(sr_json_int(sr_json_get(&d, "n"), &n) == 0 && n == 7);
    CHECK(sr_json_get(&d, "missing") == NULL);

    /* escapes in keys and values */
    const char *esc = "{\"t\\u0079pe\":\"p\\u00e9\\n\\ud83d\\ude00\"}";
    CHECK(sr_json_parse(&d, esc, strlen(esc)) == 0);
    char out[64];
    CHECK(sr_json_string(sr_json_get(&d, "type"), out, sizeof out) == 8);
    CHECK_STR(out, "p\xc3\xa9\n\xf0\x9f\x98\x80");
    CHECK(sr_json_string(sr_json_get(&d, "type"), out, 4) == -1);
    /* a lone surrogate would turn into invalid UTF-8: refused */
    const char *lone = "{\"type\":\"\\ud800x\"}";
    CHECK(sr_json_parse(&d, lone, strlen(lone)) == 0);
    CHECK(sr_json_string(sr_json_get(&d, "type"), out, sizeof out) == -1);

    /* later duplicates win, as in JavaScript */
    const char *dup = "{\"type\":\"a\",\"type\":\"b\"}";
    CHECK(sr_json_parse(&d, dup, strlen(dup)) == 0 &&
          sr_json_string_is(sr_json_get(&d, "type"), "b"));

    /* not JSON */
    const char *bad[] = {"",      "{",        "{\"a\":}", "{\"a\" 1}", "[1,]",    "{\"a\":1,}",
                         "01",    "1.",       "-",        "tru",       "\"\\x\"", "\"a",
                         "{} {}", "\"\x01\"", "{'a':1}",  "nul",       "[1 2]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!parses(bad[i]));
    /* JSON but not objects */
    CHECK(sr_json_parse(&d, "[1]", 3) == 0 && d.root.type == SR_JSON_ARRAY);
    CHECK(sr_json_parse(&d, "\"x\"", 3) == 0 && d.root.type == SR_JSON_STRING);
    /* nesting is bounded, not a stack overflow */
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    CHECK(sr_json_parse(&d, deep, sizeof deep) == -1);
    CHECK(sr_json_parse(&d, deep + 800, 400) == 0);
    /* integers only */
    CHECK(sr_json_parse(&d, "{\"n\":1.5}", 9) == 0 && sr_json_int(sr_json_get(&d, "n"), &n) == -1);

    /* one value at the start of a longer text, and array elements */
    sr_json_span v, items[2];
    CHECK(sr_json_scan(&v, " [1, \"a\" ,{}] x", 15) == 14 && v.type == SR_JSON_ARRAY && v.n == 12);
    CHECK(sr_json_array_items(&v, items, 2) == 3 && items[0].n == 1 && items[1].n == 3 &&
          items[1].type == SR_JSON_STRING);
    CHECK(sr_json_scan(&v, "[1,", 3) == -1);
    CHECK(v.type == SR_JSON_NONE);
    CHECK(sr_json_scan(&v, "[ ]", 3) == 3 && sr_json_array_items(&v, items, 2) == 0);
    CHECK(sr_json_scan(&v, "{}", 2) == 2 && sr_json_array_items(&v, items, 2) == -1);
    /* strings are skimmed eight bytes at a time: a special byte at any offset
     * of a long string is still seen (quote ends it, control refused, escape read) */
    for (int at = 0; at < 40; at++) {
        char s[64], w[80];
        memset(s, 'a', 41);
        s[41] = '\0';
        s[at] = '\x01';
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(!parses(w));
        s[at] = '\x7f'; /* DEL and bytes above are plain */
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(parses(w));
        s[at] = '\xc3';
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(parses(w));
        s[at] = '"'; /* ends the string early: trailing garbage */
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(!parses(w));
        s[at] = '\\'; /* escapes the next 'a': invalid escape */
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(!parses(w));
        s[at] = 'a';
        memcpy(s + at, "\\n", 2);
        snprintf(w, sizeof w, "\"%s\"", s);
        CHECK(parses(w));
        CHECK(sr_json_parse(&d, w, strlen(w)) == 0 && d.root.n == strlen(w));
    }
    /* MAX_JSON_MEMBERS: every value counts, at any depth, the root included */
    sr_json_set_max_values(4);
    CHECK(sr_json_parse(&d, "[1,[2]]", 7) == 0); /* 4 values */
    CHECK(sr_json_parse(&d, "[1,[2,3]]", 9) == SR_JSON_TOO_MANY);
    CHECK(sr_json_parse(&d, "{\"a\":[1,2,3]}", 13) == SR_JSON_TOO_MANY);
    sr_json_span one;
    CHECK(sr_json_scan(&one, "[1,2,3,4]", 9) == SR_JSON_TOO_MANY && one.type == SR_JSON_NONE);
    CHECK(sr_json_parse(&d, "[1,2,3,4", 8) == SR_JSON_TOO_MANY); /* counted before the end */
    sr_json_set_max_values(0);                                   /* no limit */
    CHECK(sr_json_parse(&d, "[1,2,3,4,5,6,7,8]", 17) == 0);
    sr_json_set_max_values(SR_JSON_DEFAULT_MAX_VALUES);
    return check_done("json");
}
