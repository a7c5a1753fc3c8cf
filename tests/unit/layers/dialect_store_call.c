/* Layering probe: a dialect naming the store (here through a store type and
 * call it cannot see) must not compile. */
#include "session.h"

void sr_probe(sr_conn *c);
void sr_probe(sr_conn *c)
{
    sr_store_publish(sr_conn_store(c), NULL, NULL, NULL);
}
