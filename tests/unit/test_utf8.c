#include "check.h"
#include "sr_utf8.h"

#include <string.h>

static bool valid(const char *s)
{
    return sr_utf8_valid(s, strlen(s));
}

int main(void)
{
    CHECK(sr_utf8_valid("", 0));
    CHECK(valid("{\"type\":\"sync\",\"payload\":\"plain ascii, longer than eight\"}"));
    CHECK(valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbf"));
    CHECK(valid("\xed\x9f\xbf"));      /* U+D7FF, just below the surrogates */
    CHECK(!valid("\xc0\xaf"));         /* overlong '/' */
    CHECK(!valid("\xe0\x9f\xbf"));     /* overlong three bytes */
    CHECK(!valid("\xf0\x8f\xbf\xbf")); /* overlong four bytes */
    CHECK(!valid("\xed\xa0\x80"));     /* surrogate U+D800 */
    CHECK(!valid("\xf4\x90\x80\x80")); /* U+110000 */
    CHECK(!valid("\xf5\x80\x80\x80"));
    CHECK(!valid("\x80"));         /* a lone continuation byte */
    CHECK(!valid("abcdefgh\xc3")); /* cut short at the end */
    CHECK(!valid("abcdefghijklmno\xe2\x82"));
    CHECK(!valid("\xe2\x82(abcdefgh")); /* a bad continuation byte */
    CHECK(!valid("abcdefg\xff"));
    const char nul[] = {'a', 0, 'b'};
    CHECK(sr_utf8_valid(nul, 3));
    return check_done("utf8");
}
