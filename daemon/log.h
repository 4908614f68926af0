/*
 * log.h - lodestoned's logging: one line per event to stderr, prefixed with
 * the program name and the level, filtered by the level set with log_init.
 * Safe to call before log_init (the level is then "info").
 */
#ifndef LSD_LOG_H
#define LSD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Sets the most verbose level that is printed. */
void log_init(enum log_level level);

/* Something failed: the daemon cannot do what it was asked. Always printed. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something is wrong but the daemon goes on. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start, stop, and what the daemon is doing in the large. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Every request and record; for finding faults. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
