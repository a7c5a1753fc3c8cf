/* sr_log.c - logging. Records are written whole with one write() so that
 * lines from several processes sharing a terminal do not interleave. */
#include "sr_log.h"
#include "sr_buf.h"
#include "sr_clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int log_json;
static char log_node[128] = "-";
static const char *names[] = {"debug", "info", "warn", "error"};
enum sr_log_level sr_log_min_level = SR_LOG_INFO;

void sr_log_setup(int json, const char *node, enum sr_log_level min_level)
{
    log_json = json;
    if (node) snprintf(log_node, sizeof log_node, "%s", node);
    sr_log_min_level = min_level;
}

int sr_log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i])) return i;
    return -1;
}

void sr_log(enum sr_log_level level, const char *fmt, ...)
{
    char msg[2048], stamp[40];
    va_list ap;

    if (!sr_log_enabled(level)) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sr_iso_time(sr_now_ms(), stamp, sizeof stamp);

    sr_buf b;
    sr_buf_init(&b);
    if (log_json) {
        sr_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"node\":", stamp, names[level]);
        sr_buf_append_json_string(&b, log_node, strlen(log_node));
        sr_buf_append_str(&b, ",\"msg\":");
        sr_buf_append_json_string(&b, msg, strlen(msg));
        sr_buf_append_str(&b, "}\n");
    } else {
        sr_buf_printf(&b, "%s %-5s [%s] %s\n", stamp, names[level], log_node, msg);
    }
    ssize_t w = write(STDERR_FILENO, b.data, b.len);
    (void)w;
    sr_buf_free(&b);
}
