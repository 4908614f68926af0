/*
 * err.h - the one error enum of the Lodestone library.
 *
 * Every fallible ls_* function returns int: 0 on success or a negative
 * enum ls_err. Codes of LMDB, libsodium, ZeroMQ and protobuf-c are translated
 * at the library boundary and never returned as they are. Parse and verify
 * functions also fill an optional struct ls_err_ctx whose message names the
 * record, field or file at fault.
 */
#ifndef LS_ERR_H
#define LS_ERR_H

#include <stddef.h>

enum ls_err {
	LS_OK = 0,
	LS_ERR_NOMEM = -1,       /* allocation failed or budget exceeded */
	LS_ERR_MALFORMED = -2,   /* bytes do not decode or a field is out of range */
	LS_ERR_TOO_BIG = -3,     /* a size or count is over its limit */
	LS_ERR_SIGNATURE = -4,   /* an Ed25519 signature does not verify */
	LS_ERR_IO = -5,          /* a file could not be read or written */
	LS_ERR_STORE = -6,       /* the LMDB store failed */
	LS_ERR_NOT_FOUND = -7,   /* no such record, lot, key or file */
	LS_ERR_EXISTS = -8,      /* already there */
	LS_ERR_PASSPHRASE = -9,  /* wrong passphrase */
	LS_ERR_KEYFILE = -10,    /* a key file is corrupt or of the wrong kind */
	LS_ERR_CRYPTO = -11,     /* libsodium failed (not initialised, no memory) */
	LS_ERR_FULL = -12,       /* the disk or the map is full */
	LS_ERR_LOCKED = -13,     /* another process holds the resource */
	LS_ERR_AMBIGUOUS = -14,  /* a prefix or label names several things */
	LS_ERR_NET = -15,        /* a ZeroMQ operation failed */
	LS_ERR_TIMEOUT = -16,    /* no answer in time */
	LS_ERR_INVALID = -17,    /* an argument is not valid (programmer or user error) */
	LS_ERR_REJECTED = -18,   /* a record was rejected by the rules */
	LS_ERR_VERSION = -19,    /* an unsupported format or store version */
	LS_ERR_BUSY = -20,       /* not ready yet (a record not in a checkpoint): try again */
	LS_ERR_OVERLOADED = -21, /* the daemon has too many queries waiting: not run, try again */
};

/* Returns a static English description of err; never NULL. */
const char *ls_strerror(int err);

#define LS_ERR_MSG_MAX 256

/* Context of an error: a one-line message naming what is at fault. */
struct ls_err_ctx {
	char msg[LS_ERR_MSG_MAX];
};

/*
 * Formats a message into ctx (if ctx is not NULL) and returns err, so that a
 * caller can write `return ls_err_set(ctx, LS_ERR_MALFORMED, "...")`.
 */
int ls_err_set(struct ls_err_ctx *ctx, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Returns ctx's message, or ls_strerror(err) when ctx is NULL or empty. */
const char *ls_err_msg(const struct ls_err_ctx *ctx, int err);

#endif
