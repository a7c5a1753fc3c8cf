/* Layering probe: a dialect reading a Redis reply must not compile. */
#include "session.h"

long long sr_probe(const sr_reply *r);
long long sr_probe(const sr_reply *r)
{
    return sr_reply_int(r);
}
