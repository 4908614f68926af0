/*
 * note.h - the C2SP text formats of a witnessed log: signed notes
 * (c2sp.org/signed-note) with Ed25519 signatures, checkpoints
 * (c2sp.org/tlog-checkpoint), cosignatures (c2sp.org/tlog-cosignature, v1),
 * inclusion proof files (c2sp.org/tlog-proof) and the add-checkpoint request
 * of c2sp.org/tlog-witness.
 *
 * Every parser takes bytes from outside: it is bounded by the sizes below,
 * refuses what the spec does not allow with LS_ERR_MALFORMED (LS_ERR_TOO_BIG
 * for a bound) and a message in ctx naming the line, and never reads past len.
 */
#ifndef LS_NOTE_H
#define LS_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tlog.h"

#define LS_NOTE_NAME_MAX       128   /* bytes of a key name, with the NUL */
#define LS_NOTE_BODY_MAX       1024  /* bytes of a note's text */
#define LS_NOTE_SIGS_MAX       64    /* signature lines of one note */
#define LS_NOTE_SIG_MAX        128   /* decoded bytes of a signature (key id included) */
#define LS_NOTE_MAX            16384 /* bytes of a whole signed note */
#define LS_VKEY_MAX            256   /* bytes of a formatted verifier key, with the NUL */
#define LS_TLOG_PROOF_FILE_MAX (LS_NOTE_MAX + 4096) /* a proof file, an add-checkpoint body */
#define LS_ADDCP_PROOF_MAX     63 /* tlog-witness: at most 63 consistency proof lines */

/* Signature types (the byte after the name in a key id) */
enum ls_note_type {
	LS_NOTE_ED25519 = 0x01, /* a log's checkpoint signature */
	LS_NOTE_COSIG = 0x04,   /* a witness's cosignature/v1 */
};

/* A verifier key: `<name>+<hex key id>+<base64(type || public key)>`. */
struct ls_vkey {
	char name[LS_NOTE_NAME_MAX];
	uint8_t type;
	uint8_t id[4]; /* SHA-256(name || 0x0A || type || pk)[:4] */
	uint8_t pk[32];
};

/* Fills k for name (a valid key name), type and pk. LS_ERR_INVALID. */
int ls_vkey_make(struct ls_vkey *k, const char *name, uint8_t type, const uint8_t pk[32]);
/* The text form into out (LS_VKEY_MAX bytes). */
void ls_vkey_format(const struct ls_vkey *k, char out[LS_VKEY_MAX]);
/* Parses the text form; LS_ERR_MALFORMED names what is wrong (the key id
 * must match the name and key). */
int ls_vkey_parse(const char *s, struct ls_vkey *k, struct ls_err_ctx *ctx);
/* Whether name is a valid key name (signed-note): 1..127 bytes of UTF-8,
 * no Unicode space, no '+', no control character. */
bool ls_note_name_ok(const char *name);

struct ls_note_sig {
	char name[LS_NOTE_NAME_MAX];
	uint8_t sig[LS_NOTE_SIG_MAX]; /* key id (4 bytes) and signature */
	size_t len;
};

/* A signed note: text (ending in a newline) and its signature lines. The
 * text ends at the note's last blank line (it may hold blank lines); the
 * whole note is UTF-8 without control characters but newline. */
struct ls_note {
	char body[LS_NOTE_BODY_MAX + 1]; /* NUL-terminated */
	size_t body_len;
	struct ls_note_sig sigs[LS_NOTE_SIGS_MAX];
	size_t n_sigs;
};

int ls_note_parse(const char *text, size_t len, struct ls_note *n, struct ls_err_ctx *ctx);
/* The note as text into out (NUL-terminated); returns its length, or 0 when
 * cap is too small. A parsed note formats back to the same bytes. */
size_t ls_note_format(const struct ls_note *n, char *out, size_t cap);
/* Adds a signature line with name and id whose signature bytes follow the
 * key id; a line with the same name and id is replaced (one line per key).
 * LS_ERR_TOO_BIG when the note has LS_NOTE_SIGS_MAX already,
 * LS_ERR_INVALID for a bad name or over LS_NOTE_SIG_MAX bytes. */
int ls_note_sig_add(struct ls_note *n, const char *name, const uint8_t id[4], const uint8_t *sig,
		    size_t len);
/* One signature line ("— name base64\n") into out; its length, 0 if no room. */
size_t ls_note_sig_line(const struct ls_note_sig *s, char *out, size_t cap);
/* Parses signature lines (a tlog-witness response body: one or more, each
 * ending in a newline) and appends them to n's list as they are. */
int ls_note_sig_lines_parse(const char *text, size_t len, struct ls_note *n,
			    struct ls_err_ctx *ctx);

/* Signs n's body with the Ed25519 key sk (libsodium's 64-byte form) under
 * name (key type 0x01) and adds the line. */
int ls_note_sign(struct ls_note *n, const char *name, const uint8_t sk[64]);
/* 0 when n carries a valid signature by k (type LS_NOTE_ED25519);
 * LS_ERR_NOT_FOUND when no line has k's name and id, LS_ERR_SIGNATURE when
 * one does and does not verify. */
int ls_note_verify(const struct ls_note *n, const struct ls_vkey *k);

/* Adds a cosignature/v1 by the witness key sk named name at time ts
 * (<= 2^63 - 1): the signed message is "cosignature/v1\ntime <ts>\n" and the
 * body, the signature bytes ts (u64 big-endian) || Ed25519 signature. */
int ls_cosig_add(struct ls_note *n, const char *name, const uint8_t sk[64], uint64_t ts);
/* 0 and *ts when n carries a valid cosignature by k (type LS_NOTE_COSIG);
 * LS_ERR_NOT_FOUND / LS_ERR_SIGNATURE as ls_note_verify (a timestamp over
 * 2^63 - 1 is LS_ERR_SIGNATURE). */
int ls_cosig_verify(const struct ls_note *n, const struct ls_vkey *k, uint64_t *ts);

/* A checkpoint body: origin, tree size, root hash (and extension lines,
 * which are kept in the note's body and not interpreted). The parser takes
 * any non-empty origin line of less than LS_NOTE_NAME_MAX bytes (the spec
 * does not make it a key name), a size without leading zeros, a root of
 * exactly 32 bytes, and non-empty extension lines. */
struct ls_checkpoint {
	char origin[LS_NOTE_NAME_MAX];
	uint64_t size;
	uint8_t root[LS_TLOG_HASH];
};

/* "<origin>\n<size>\n<base64 root>\n" into out; its length, 0 if no room. */
size_t ls_checkpoint_body(const struct ls_checkpoint *c, char *out, size_t cap);
int ls_checkpoint_parse(const char *body, size_t len, struct ls_checkpoint *c,
			struct ls_err_ctx *ctx);

/* A c2sp.org/tlog-proof file: the entry's index, its inclusion proof and
 * the (cosigned) checkpoint it is proven into. The parser also parses the
 * note's text as a checkpoint into c; it does not check signatures nor the
 * proof (ls_note_verify, ls_tlog_verify_inclusion with c.size and c.root). */
struct ls_tlog_proof {
	uint64_t index;
	uint8_t extra[LS_NOTE_SIG_MAX]; /* opaque extra data */
	size_t extra_len;               /* 0: no extra line */
	size_t n;
	uint8_t hashes[LS_TLOG_PROOF_MAX][LS_TLOG_HASH];
	struct ls_checkpoint c; /* parsed from cp's body (ignored by format) */
	struct ls_note cp;
};

size_t ls_tlog_proof_format(const struct ls_tlog_proof *p, char *out, size_t cap);
int ls_tlog_proof_parse(const char *text, size_t len, struct ls_tlog_proof *p,
			struct ls_err_ctx *ctx);

/* The body of a tlog-witness add-checkpoint request: the size the witness
 * last cosigned, a consistency proof from it (at most 63 hashes), the new
 * signed checkpoint. The parser parses the note's text as a checkpoint into
 * c and refuses, as the spec's 400, an old size over c.size and a non-empty
 * proof from old size 0; signatures and the proof are the caller's. */
struct ls_addcp {
	uint64_t old;
	size_t n;
	uint8_t proof[LS_TLOG_PROOF_MAX][LS_TLOG_HASH];
	struct ls_checkpoint c; /* parsed from cp's body (ignored by format) */
	struct ls_note cp;
};

size_t ls_addcp_format(const struct ls_addcp *a, char *out, size_t cap);
int ls_addcp_parse(const char *text, size_t len, struct ls_addcp *a, struct ls_err_ctx *ctx);

#endif
