/* sr_log.h - one-line log records to stderr, as text or as JSON objects. */
#ifndef SR_LOG_H
#define SR_LOG_H

enum sr_log_level { SR_LOG_DEBUG, SR_LOG_INFO, SR_LOG_WARN, SR_LOG_ERROR };

/* json: one JSON object per line instead of text. node: NODE_ID stamped on records. */
void sr_log_setup(int json, const char *node);
void sr_log(enum sr_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define sr_log_info(...) sr_log(SR_LOG_INFO, __VA_ARGS__)
#define sr_log_warn(...) sr_log(SR_LOG_WARN, __VA_ARGS__)
#define sr_log_error(...) sr_log(SR_LOG_ERROR, __VA_ARGS__)

#endif
