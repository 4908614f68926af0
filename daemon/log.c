/*
 * log.c - lodestoned's logging. Three sinks, chosen by where the daemon runs:
 *   - stderr (a terminal, a file): "TIME lodestoned: LEVEL: message", the
 *     time in UTC to the millisecond (RFC 3339);
 *   - the systemd journal (stderr is the stream $JOURNAL_STREAM names): the
 *     journal adds the time and the unit, so a line is "<PRIORITY>LEVEL:
 *     message" (sd-daemon(3) priority prefixes);
 *   - syslog(3), facility daemon, once the daemon has detached (--detach).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static enum { SINK_STDERR, SINK_JOURNAL, SINK_SYSLOG } sink = SINK_STDERR;

static const char *const names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

static const int priorities[] = {
    [LOG_LEVEL_ERROR] = LOG_ERR,
    [LOG_LEVEL_WARN] = LOG_WARNING,
    [LOG_LEVEL_INFO] = LOG_INFO,
    [LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

/* Whether stderr is the journal stream systemd gave us ("DEV:INODE"). */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_init(enum log_level level)
{
	max_level = level;
	if (sink != SINK_SYSLOG)
		sink = stderr_is_journal() ? SINK_JOURNAL : SINK_STDERR;
}

const char *
log_level_name(enum log_level level)
{
	return (unsigned)level <= LOG_LEVEL_DEBUG ? names[level] : "?";
}

void
log_set_level(enum log_level level)
{
	max_level = level;
}

void
log_to_syslog(void)
{
	openlog("lodestoned", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	sink = SINK_SYSLOG;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024], when[40];
	struct timespec ts;
	struct tm tm;

	if (level > max_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line, so that lines from threads do not mix. */
	switch (sink) {
	case SINK_SYSLOG: syslog(priorities[level], "%s: %s", names[level], line); break;
	case SINK_JOURNAL:
		fprintf(stderr, "<%d>%s: %s\n", priorities[level], names[level], line);
		break;
	case SINK_STDERR:
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ lodestoned: %s: %s\n", when, ts.tv_nsec / 1000000,
			names[level], line);
		break;
	}
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_WARN, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_INFO, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_DEBUG, fmt, ap);
	va_end(ap);
}
