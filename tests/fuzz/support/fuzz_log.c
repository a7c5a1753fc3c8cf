/* fuzz_log.c - the fuzz targets' logger: records are dropped. Defining every
 * symbol of sr_log.h here keeps the library's sr_log.o out of the link, so
 * millions of "bad request" log lines do not slow the run down or bury a
 * sanitizer report. */
#include "sr_log.h"

enum sr_log_level sr_log_min_level = SR_LOG_ERROR;

void sr_log_setup(int json, const char *node, enum sr_log_level min_level)
{
    (void)json;
    (void)node;
    (void)min_level;
}

int sr_log_level_parse(const char *name)
{
    (void)name;
    return SR_LOG_INFO;
}

void sr_log(enum sr_log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}
