/* Layering probe: the transport naming the store must not compile. */
#include "core.h"

unsigned sr_probe(const sr_store *s);
unsigned sr_probe(const sr_store *s)
{
    return sr_store_pending(s);
}
