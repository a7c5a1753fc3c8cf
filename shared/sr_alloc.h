/* sr_alloc.h - allocation wrappers that abort on out-of-memory, like the rest
 * of the node: a relay that cannot allocate a frame has nothing sane to do. */
#ifndef SR_ALLOC_H
#define SR_ALLOC_H

#include <stddef.h>

void *sr_xmalloc(size_t n);
void *sr_xcalloc(size_t count, size_t n);
void *sr_xrealloc(void *p, size_t n);
char *sr_xstrdup(const char *s);

#endif
