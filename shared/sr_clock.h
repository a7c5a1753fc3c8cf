/* sr_clock.h - the node's clocks, in one place: wall-clock milliseconds for
 * what Redis records and clients see, monotonic time for intervals and
 * timeouts (never affected by clock steps). */
#ifndef SR_CLOCK_H
#define SR_CLOCK_H

#include <stddef.h>
#include <stdint.h>

/* Wall clock, milliseconds and microseconds since the epoch. */
uint64_t sr_now_ms(void);
uint64_t sr_now_us(void);
/* Monotonic clock, milliseconds and microseconds. */
uint64_t sr_monotonic_ms(void);
uint64_t sr_monotonic_us(void);
/* ISO 8601 UTC with milliseconds, e.g. 2026-01-02T03:04:05.678Z (out >= 32). */
void sr_iso_time(uint64_t ms, char *out, size_t cap);

#endif
