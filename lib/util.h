/*
 * util.h - small helpers shared by the library and both programs: hex, time,
 * files. Nothing here allocates unless it says so.
 */
#ifndef LS_UTIL_H
#define LS_UTIL_H

/* The version of lodestone and lodestoned (--version). */
#define LS_VERSION "1.0"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Writes 2*len hex digits and a NUL into out (2*len + 1 bytes). Returns out. */
char *ls_hex(const uint8_t *bin, size_t len, char *out);

/*
 * Decodes exactly len bytes from a string of 2*len hex digits (no separators,
 * either case). LS_ERR_MALFORMED otherwise.
 */
int ls_unhex(const char *hex, uint8_t *bin, size_t len);

/*
 * Parses "YYYY-MM-DD" (midnight UTC) or RFC 3339 ("2025-10-09T12:00:00Z",
 * "...+08:00") into seconds since the epoch. LS_ERR_INVALID otherwise.
 */
int ls_time_parse(const char *s, uint64_t *t);

/* Formats t as RFC 3339 UTC ("2025-10-09T12:00:00Z") into buf (>= 32 bytes). */
char *ls_time_format(uint64_t t, char *buf, size_t len);

/* A mass in grams for a person to read, exact, in t, kg or g ("1.5 t",
 * "500.5 kg", "957 g"), into buf (>= 32 bytes). */
char *ls_grams_human(uint64_t g, char *buf, size_t len);

/* A protobuf base-128 varint: written at b (at most 10 bytes), its length. */
size_t ls_uvarint_put(uint8_t *b, uint64_t v);
size_t ls_uvarint_len(uint64_t v);

/* Seconds since the epoch, now. */
uint64_t ls_now(void);

/*
 * Reads a whole file of at most max bytes. *buf is malloc'd (caller frees);
 * a NUL is appended (not counted in *len). LS_ERR_IO / LS_ERR_NOT_FOUND /
 * LS_ERR_TOO_BIG with the path in ctx.
 */
int ls_file_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct ls_err_ctx *ctx);

/*
 * Writes buf to path atomically (temporary file, fsync, rename) with the given
 * mode. LS_ERR_IO / LS_ERR_FULL with the path in ctx.
 */
int ls_file_write(const char *path, const uint8_t *buf, size_t len, unsigned mode,
		  struct ls_err_ctx *ctx);

/* Big-endian 64-bit load and store (inline: a question's walk decodes a
 * few per ancestor). */
static inline uint64_t
ls_be64_get(const uint8_t *p)
{
	/* One expression: compilers make it a load and a byte swap. */
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
	       (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	       (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

static inline void
ls_be64_put(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

#endif
