#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

char *
ls_hex(const uint8_t *bin, size_t len, char *out)
{
	return sodium_bin2hex(out, 2 * len + 1, bin, len);
}

int
ls_unhex(const char *hex, uint8_t *bin, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (hex == NULL || strlen(hex) != 2 * len)
		return LS_ERR_MALFORMED;
	if (sodium_hex2bin(bin, len, hex, 2 * len, NULL, &got, &end) != 0 || got != len ||
	    *end != '\0')
		return LS_ERR_MALFORMED;
	return 0;
}

int
ls_time_parse(const char *s, uint64_t *t)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t v;

	if (s == NULL)
		return LS_ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%d", &tm);
	if (p == NULL)
		return LS_ERR_INVALID;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p = strptime(p + 1, "%H:%M:%S", &tm);
		if (p == NULL)
			return LS_ERR_INVALID;
		if (*p == '.') /* fractional seconds are dropped */
			for (p++; *p >= '0' && *p <= '9'; p++)
				;
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1;
			int hh, mm;
			if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || hh > 23 || mm > 59)
				return LS_ERR_INVALID;
			off = sign * (hh * 3600L + mm * 60L);
			p += 6;
		} else {
			return LS_ERR_INVALID;
		}
	}
	if (*p != '\0')
		return LS_ERR_INVALID;
	v = timegm(&tm);
	if (v == (time_t)-1 || v - off < 0)
		return LS_ERR_INVALID;
	*t = (uint64_t)(v - off);
	return 0;
}

char *
ls_time_format(uint64_t t, char *buf, size_t len)
{
	time_t v = (time_t)t;
	struct tm tm;

	if (gmtime_r(&v, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%llu", (unsigned long long)t);
	return buf;
}

/* whole.frac unit, frac of `digits` digits with trailing zeros trimmed */
static char *
fixed_format(uint64_t v, uint64_t scale, int digits, const char *unit, char *buf, size_t len)
{
	uint64_t whole = v / scale, frac = v % scale;
	int n = digits;

	if (frac == 0) {
		snprintf(buf, len, "%llu %s", (unsigned long long)whole, unit);
		return buf;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	snprintf(buf, len, "%llu.%0*llu %s", (unsigned long long)whole, n, (unsigned long long)frac,
		 unit);
	return buf;
}

char *
ls_grams_human(uint64_t g, char *buf, size_t len)
{
	if (g >= 1000000)
		return fixed_format(g, 1000000, 6, "t", buf, len);
	if (g >= 1000)
		return fixed_format(g, 1000, 3, "kg", buf, len);
	return fixed_format(g, 1, 0, "g", buf, len);
}

size_t
ls_uvarint_put(uint8_t *b, uint64_t v)
{
	size_t n = 0;

	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		b[n++] = byte | (v ? 0x80 : 0);
	} while (v);
	return n;
}

size_t
ls_uvarint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

uint64_t
ls_now(void)
{
	return (uint64_t)time(NULL);
}

int
ls_file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct ls_err_ctx *ctx)
{
	FILE *f = NULL;
	uint8_t *b = NULL;
	size_t n = 0, cap = 4096;
	int rc;

	*buf = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (f == NULL)
		return ls_err_set(ctx, errno == ENOENT ? LS_ERR_NOT_FOUND : LS_ERR_IO,
				  "cannot open '%s': %s", path, strerror(errno));
	b = malloc(cap + 1);
	if (b == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		size_t r = fread(b + n, 1, cap - n, f);
		n += r;
		if (n > max) {
			rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "'%s' is larger than %zu bytes", path,
					max);
			goto out;
		}
		if (r == 0) {
			if (ferror(f)) {
				rc = ls_err_set(ctx, LS_ERR_IO, "cannot read '%s': %s", path,
						strerror(errno));
				goto out;
			}
			break;
		}
		if (n == cap) {
			uint8_t *nb;
			cap *= 2;
			nb = realloc(b, cap + 1);
			if (nb == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			b = nb;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	rc = 0;
out:
	free(b);
	if (f != NULL)
		fclose(f);
	return rc;
}

int
ls_file_write(const char *path, const uint8_t *buf, size_t len, unsigned mode,
	      struct ls_err_ctx *ctx)
{
	char tmp[4096];
	int fd = -1, rc = 0;
	size_t off = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return ls_err_set(ctx, LS_ERR_INVALID, "path too long: '%s'", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return ls_err_set(ctx, LS_ERR_IO, "cannot create '%s': %s", path, strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			rc = ls_err_set(ctx, errno == ENOSPC ? LS_ERR_FULL : LS_ERR_IO,
					"cannot write '%s': %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = ls_err_set(ctx, LS_ERR_IO, "cannot sync '%s': %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = ls_err_set(ctx, LS_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		rc = ls_err_set(ctx, LS_ERR_IO, "cannot rename to '%s': %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	return rc;
}
