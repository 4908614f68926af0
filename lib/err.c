#include <stdarg.h>
#include <stdio.h>

#include "err.h"

const char *
ls_strerror(int err)
{
	switch ((enum ls_err)err) {
	case LS_OK: return "success";
	case LS_ERR_NOMEM: return "out of memory";
	case LS_ERR_MALFORMED: return "malformed input";
	case LS_ERR_TOO_BIG: return "size or count over its limit";
	case LS_ERR_SIGNATURE: return "bad signature";
	case LS_ERR_IO: return "input/output error";
	case LS_ERR_STORE: return "store error";
	case LS_ERR_NOT_FOUND: return "not found";
	case LS_ERR_EXISTS: return "already exists";
	case LS_ERR_PASSPHRASE: return "wrong passphrase";
	case LS_ERR_KEYFILE: return "corrupt or wrong key file";
	case LS_ERR_CRYPTO: return "cryptographic library failure";
	case LS_ERR_FULL: return "disk or store full";
	case LS_ERR_LOCKED: return "in use by another process";
	case LS_ERR_AMBIGUOUS: return "ambiguous name";
	case LS_ERR_NET: return "network error";
	case LS_ERR_TIMEOUT: return "timed out";
	case LS_ERR_INVALID: return "invalid argument";
	case LS_ERR_REJECTED: return "rejected";
	case LS_ERR_VERSION: return "unsupported version";
	case LS_ERR_BUSY: return "not ready yet, try again";
	case LS_ERR_OVERLOADED: return "daemon busy, try again";
	}
	return "unknown error";
}

int
ls_err_set(struct ls_err_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (ctx != NULL) {
		va_start(ap, fmt);
		vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

const char *
ls_err_msg(const struct ls_err_ctx *ctx, int err)
{
	if (ctx != NULL && ctx->msg[0] != '\0')
		return ctx->msg;
	return ls_strerror(err);
}
