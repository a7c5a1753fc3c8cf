/* fuzz_log.c - the fuzz targets' logger: records are dropped. Defining both
 * symbols of sr_log.h here keeps the library's sr_log.o out of the link, so
 * millions of "bad request" log lines do not slow the run down or bury a
 * sanitizer report. */
#include "sr_log.h"

void sr_log_setup(int json, const char *node)
{
    (void)json;
    (void)node;
}

void sr_log(enum sr_log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}
