/* Layering probe: a dialect reading a core-internal field must not compile. */
#include "session.h"

bool sr_probe(const sr_conn *c);
bool sr_probe(const sr_conn *c)
{
    return c->catching_up;
}
