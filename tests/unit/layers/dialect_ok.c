/* Layering probe (CMakeLists.txt, tests "layers_*"): compiled with a dialect's
 * include paths, this must build: what a dialect may use. */
#include "http.h"
#include "session.h"

void sr_probe(sr_conn *c);
void sr_probe(sr_conn *c)
{
    if (sr_conn_alive(c) && sr_conn_joined(c)) sr_session_leave(c);
}
