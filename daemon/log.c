/*
 * log.c - lodestoned's logging to stderr. Under systemd the journal adds the
 * time and the unit; in a terminal the lines stay short.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_INFO;

static const char *const prefixes[] = {
    [LOG_LEVEL_ERROR] = "",
    [LOG_LEVEL_WARN] = "warning: ",
    [LOG_LEVEL_INFO] = "",
    [LOG_LEVEL_DEBUG] = "debug: ",
};

void
log_init(enum log_level level)
{
	max_level = level;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vlog(enum log_level level, const char *fmt, va_list ap)
{
	char line[1024];

	if (level > max_level)
		return;
	/* One write per line, so that lines from threads do not mix. */
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "lodestoned: %s%s\n", prefixes[level], line);
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
