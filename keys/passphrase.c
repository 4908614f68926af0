#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "passphrase.h"

#define NO_SOURCE_MSG  "no passphrase: use --passphrase-file, LODESTONE_PASSPHRASE or a terminal"
#define DEFAULT_PROMPT "Passphrase: "
#define CONFIRM_PROMPT "Repeat passphrase: "

/*
 * A passphrase buffer: LS_PASSPHRASE_MAX bytes, room for the "\r\n" that a
 * file may put after a passphrase of the maximal length, and a NUL.
 */
#define BUF_LEN (LS_PASSPHRASE_MAX + 3)

void
ls_passphrase_free(char **p)
{
	if (p == NULL || *p == NULL)
		return;
	sodium_free(*p); /* wipes */
	*p = NULL;
}

static int
from_file(const char *path, char *buf, struct ls_err_ctx *ctx)
{
	size_t n = 0, cap = BUF_LEN - 1;
	char *nl;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ls_err_set(ctx, errno == ENOENT ? LS_ERR_NOT_FOUND : LS_ERR_IO,
				  "cannot open passphrase file '%s': %s", path, strerror(errno));
	/* Stop at the first newline: the rest of the file (or pipe) is not ours. */
	while (n < cap && memchr(buf, '\n', n) == NULL) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ls_err_set(ctx, LS_ERR_IO, "cannot read passphrase file '%s': %s",
					path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	nl = memchr(buf, '\n', n);
	if (nl != NULL) {
		n = (size_t)(nl - buf);
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	if (n > LS_PASSPHRASE_MAX) {
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "passphrase in '%s' is longer than %d bytes",
				path, LS_PASSPHRASE_MAX);
		goto out;
	}
	if (memchr(buf, '\0', n) != NULL) {
		rc = ls_err_set(ctx, LS_ERR_INVALID, "passphrase file '%s' holds a NUL byte", path);
		goto out;
	}
	buf[n] = '\0';
out:
	close(fd);
	return rc;
}

static bool
no_tty_forced(void)
{
	const char *v = getenv(LS_PASSPHRASE_NO_TTY_ENV);

	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
}

static int
tty_write(int fd, const char *s, struct ls_err_ctx *ctx)
{
	size_t off = 0, len = strlen(s);

	while (off < len) {
		ssize_t w = write(fd, s + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return ls_err_set(ctx, LS_ERR_IO, "cannot write to the terminal: %s",
					  strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

/* Whether c is the terminal's control character idx (which may be disabled). */
static bool
is_cc(const struct termios *t, int idx, unsigned char c)
{
	return t->c_cc[idx] != _POSIX_VDISABLE && c == t->c_cc[idx];
}

/*
 * Reads one line from the terminal, which is in non-canonical mode without
 * echo or signals, so the line editing characters of `t` are ours to apply:
 * erase, kill, interrupt (cancels), end of file on an empty line (cancels).
 */
static int
tty_read_line(int fd, const struct termios *t, const char *prompt, char *buf,
	      struct ls_err_ctx *ctx)
{
	size_t n = 0;
	bool too_long = false, cancel = false;
	int rc;
	unsigned char c = 0;

	rc = tty_write(fd, prompt, ctx);
	if (rc != 0)
		return rc;
	for (;;) {
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ls_err_set(ctx, LS_ERR_IO, "cannot read from the terminal: %s",
					strerror(errno));
			break;
		}
		if (r == 0) {
			cancel = n == 0;
			break;
		}
		if (c == '\n' || c == '\r')
			break;
		if (is_cc(t, VINTR, c) || (is_cc(t, VEOF, c) && n == 0)) {
			cancel = true;
			break;
		}
		if (is_cc(t, VERASE, c) || c == 0x7f || c == '\b') {
			if (n > 0)
				n--;
		} else if (is_cc(t, VKILL, c)) {
			n = 0;
			too_long = false;
		} else if (is_cc(t, VEOF, c) || c == '\0') {
			/* not part of a passphrase */
		} else if (n < LS_PASSPHRASE_MAX) {
			buf[n++] = (char)c;
		} else {
			too_long = true;
		}
	}
	sodium_memzero(&c, sizeof(c));
	buf[n] = '\0';
	if (rc == 0)
		rc = tty_write(fd, "\n", ctx);
	if (rc == 0 && cancel)
		rc = ls_err_set(ctx, LS_ERR_INVALID, "passphrase entry cancelled");
	if (rc == 0 && too_long)
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "passphrase is longer than %d bytes",
				LS_PASSPHRASE_MAX);
	return rc;
}

static int
from_tty(const char *prompt, bool confirm, char *buf, struct ls_err_ctx *ctx)
{
	struct termios old, raw;
	char *again = NULL;
	int fd, rc;

	if (no_tty_forced())
		return ls_err_set(ctx, LS_ERR_INVALID, NO_SOURCE_MSG);
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return ls_err_set(ctx, LS_ERR_INVALID, NO_SOURCE_MSG);
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return ls_err_set(ctx, LS_ERR_INVALID, NO_SOURCE_MSG);
	}
	raw = old;
	raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	/* Set before the prompt is shown: TCSAFLUSH drops what was typed before it. */
	if (tcsetattr(fd, TCSAFLUSH, &raw) != 0) {
		rc = ls_err_set(ctx, LS_ERR_IO, "cannot turn off terminal echo: %s",
				strerror(errno));
		close(fd);
		return rc;
	}
	rc = tty_read_line(fd, &old, prompt != NULL ? prompt : DEFAULT_PROMPT, buf, ctx);
	if (rc == 0 && confirm) {
		again = sodium_malloc(BUF_LEN);
		if (again == NULL)
			rc = ls_err_set(ctx, LS_ERR_NOMEM, "out of memory reading a passphrase");
		else
			rc = tty_read_line(fd, &old, CONFIRM_PROMPT, again, ctx);
		if (rc == 0 &&
		    (strlen(buf) != strlen(again) || sodium_memcmp(buf, again, strlen(buf)) != 0))
			rc = ls_err_set(ctx, LS_ERR_INVALID, "passphrases do not match");
	}
	tcsetattr(fd, TCSANOW, &old);
	close(fd);
	ls_passphrase_free(&again);
	return rc;
}

int
ls_passphrase_get(const char *passphrase_file, const char *prompt, bool confirm, char **out,
		  struct ls_err_ctx *ctx)
{
	const char *env;
	char *buf;
	int rc;

	if (out == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no place for the passphrase");
	*out = NULL;
	buf = sodium_malloc(BUF_LEN);
	if (buf == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory reading a passphrase");
	env = getenv(LS_PASSPHRASE_ENV);
	if (passphrase_file != NULL) {
		rc = from_file(passphrase_file, buf, ctx);
	} else if (env != NULL && env[0] != '\0') {
		if (strlen(env) > LS_PASSPHRASE_MAX)
			rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "%s is longer than %d bytes",
					LS_PASSPHRASE_ENV, LS_PASSPHRASE_MAX);
		else
			rc = 0;
		if (rc == 0)
			memcpy(buf, env, strlen(env) + 1);
	} else {
		rc = from_tty(prompt, confirm, buf, ctx);
	}
	if (rc != 0) {
		ls_passphrase_free(&buf);
		return rc;
	}
	*out = buf;
	return 0;
}
