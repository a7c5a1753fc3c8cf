/* Layering probe: a dialect including the store's interface must not compile. */
#include "session.h"
#include "store.h"
