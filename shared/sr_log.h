/* sr_log.h - one-line log records to stderr, as text or as JSON objects. */
#ifndef SR_LOG_H
#define SR_LOG_H

enum sr_log_level { SR_LOG_DEBUG, SR_LOG_INFO, SR_LOG_WARN, SR_LOG_ERROR };

/* json: one JSON object per line instead of text. node: NODE_ID stamped on
 * records. Records below min_level are dropped (SR_LOG_INFO until set up). */
void sr_log_setup(int json, const char *node, enum sr_log_level min_level);
/* "error", "warn", "info" or "debug" (LOG_LEVEL); -1 for anything else. */
int sr_log_level_parse(const char *name);
extern enum sr_log_level sr_log_min_level;
void sr_log(enum sr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Checked before the call, so a debug record on a hot path costs a compare. */
#define sr_log_enabled(level) ((level) >= sr_log_min_level)
#define sr_log_debug(...)                                                                          \
    (sr_log_enabled(SR_LOG_DEBUG) ? sr_log(SR_LOG_DEBUG, __VA_ARGS__) : (void)0)
#define sr_log_info(...) sr_log(SR_LOG_INFO, __VA_ARGS__)
#define sr_log_warn(...) sr_log(SR_LOG_WARN, __VA_ARGS__)
#define sr_log_error(...) sr_log(SR_LOG_ERROR, __VA_ARGS__)

#endif
