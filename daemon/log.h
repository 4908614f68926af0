/*
 * log.h - lodestoned's logging: one line per event, with its level (and on a
 * plain stderr its time), filtered by the level set with log_init; to stderr,
 * to the journal when stderr is systemd's journal stream, or to syslog after
 * log_to_syslog. Safe to call before log_init (the level is then "info") and
 * from any thread.
 */
#ifndef LSD_LOG_H
#define LSD_LOG_H

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Sets the most verbose level that is printed, and picks stderr or the
 * journal (unless log_to_syslog was called). */
void log_init(enum log_level level);
/* Sets the level only (a configuration reload). */
void log_set_level(enum log_level level);
/* "error", "warning", "info" or "debug". */
const char *log_level_name(enum log_level level);
/* From now on, lines go to syslog(3) (facility daemon): the daemon detached. */
void log_to_syslog(void);

/* Something failed: the daemon cannot do what it was asked. Always printed. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something is wrong but the daemon goes on. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start, stop, and what the daemon is doing in the large. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Every request and record; for finding faults. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
