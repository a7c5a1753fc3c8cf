/* Layering probe: compiled with the transport's include paths, this must
 * build: what the transport may use. */
#include "core.h"

unsigned sr_probe(sr_core *core);
unsigned sr_probe(sr_core *core)
{
    return sr_core_draining(core) ? 0 : sr_core_connections(core);
}
