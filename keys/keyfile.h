/*
 * keyfile.h - Ed25519 key pairs and the files that hold them.
 *
 * A key pair lives in two files: the secret key file FILE (binary, mode 0600,
 * optionally encrypted under a passphrase; its format is documented at the top
 * of keyfile.c) and the public key file FILE.pub (two text lines, see
 * ls_pubkey_save). The secret key file also carries the public key in its
 * clear header, so either file yields the public key.
 *
 * Every function needs sodium_init() to have been called. Fallible functions
 * return 0 or a negative enum ls_err; those with a ctx also fill it (when not
 * NULL) with a one-line message that names the file at fault.
 */
#ifndef LS_KEYFILE_H
#define LS_KEYFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Header line of a public key file. */
#define LS_PUBKEY_HEADER "lodestone public key v1"

/*
 * A key pair. Made by ls_key_generate or ls_key_load, owned by the caller,
 * freed with ls_key_free.
 */
struct ls_keypair {
	uint8_t pk[32]; /* Ed25519 public key */
	/*
	 * 64-byte libsodium Ed25519 secret key in sodium_malloc'd (locked,
	 * guarded) memory, made read-only: pass it to crypto_sign_*, never
	 * write to it, copy it or free it. Valid until ls_key_free.
	 */
	uint8_t *sk;
};

/*
 * Makes a new random key pair into *out (caller frees with ls_key_free).
 * LS_ERR_NOMEM if memory (or locked memory) runs out, LS_ERR_INVALID if out
 * is NULL; *out is NULL on failure.
 */
int ls_key_generate(struct ls_keypair **out);

/* Wipes and frees *kp and sets *kp to NULL. kp and *kp may be NULL. */
void ls_key_free(struct ls_keypair **kp);

/*
 * Writes kp to the secret key file `path` and its public key to `path`.pub.
 *
 * passphrase NULL stores the secret key in the clear (--no-passphrase); any
 * other string, the empty one included, encrypts it: Argon2id (crypto_pwhash,
 * OPSLIMIT_INTERACTIVE, MEMLIMIT_INTERACTIVE, random salt) derives the key of
 * a crypto_secretbox. Refusing an empty passphrase is the caller's policy.
 *
 * The secret key file is created atomically with mode 0600 (a temporary file
 * in the same directory, fsync, then link(2) to `path`), so it is either
 * complete or absent, and an existing `path` is never replaced. `path`.pub
 * is written atomically with mode 0644 (less the umask) and replaces a stale
 * public key file. If the public key file cannot be written, the new secret
 * key file is removed again.
 *
 * Fails with LS_ERR_INVALID (NULL argument, path too long), LS_ERR_EXISTS
 * (`path` exists), LS_ERR_IO / LS_ERR_FULL (cannot write), LS_ERR_NOMEM or
 * LS_ERR_CRYPTO (Argon2id could not get its memory). kp and the strings are
 * borrowed for the call.
 */
int ls_key_save(const struct ls_keypair *kp, const char *path, const char *passphrase,
		struct ls_err_ctx *ctx);

/*
 * The Argon2id cost of an encrypted key file (opslimit, memlimit):
 * interactive 2 and 64 MiB (ls_key_save: everyday keys), moderate 3 and
 * 256 MiB (authorities' keys: `keygen --authority`), sensitive 4 and 1 GiB
 * (root keys kept offline). ls_key_load refuses a file asking for more than
 * opslimit 64 or 1 GiB, so a crafted file cannot make it spend without bound.
 */
enum ls_key_cost { LS_KEY_COST_INTERACTIVE, LS_KEY_COST_MODERATE, LS_KEY_COST_SENSITIVE };

/* "interactive", "moderate" or "sensitive" into *cost; LS_ERR_INVALID. */
int ls_key_cost_parse(const char *name, enum ls_key_cost *cost);

/* ls_key_save with the Argon2id cost given (ignored for a file in the clear). */
int ls_key_save_cost(const struct ls_keypair *kp, const char *path, const char *passphrase,
		     enum ls_key_cost cost, struct ls_err_ctx *ctx);

/*
 * Loads the secret key file `path` into *out (caller frees with ls_key_free;
 * NULL on failure). passphrase is needed only when the file is encrypted and
 * is ignored when it is not.
 *
 * Fails with:
 *   LS_ERR_NOT_FOUND   no such file;
 *   LS_ERR_IO          the file cannot be read (permissions, a directory, ...);
 *   LS_ERR_KEYFILE     not a valid secret key file: wrong magic or kind, a
 *                      public key file, truncated or too long, checksum
 *                      mismatch, absurd Argon2id limits, or a secret key whose
 *                      public half is not the public key of the header;
 *   LS_ERR_INVALID     the file is encrypted and passphrase is NULL (also a
 *                      NULL path or out);
 *   LS_ERR_PASSPHRASE  the file is encrypted and passphrase is wrong;
 *   LS_ERR_NOMEM / LS_ERR_CRYPTO  out of (locked) memory, Argon2id failed.
 * The file is checked completely (checksum first) before any decryption, so
 * a damaged file is LS_ERR_KEYFILE and never LS_ERR_PASSPHRASE.
 */
int ls_key_load(const char *path, const char *passphrase, struct ls_keypair **out,
		struct ls_err_ctx *ctx);

/*
 * Sets *encrypted to whether the secret key file `path` is encrypted. Reads
 * only the header (magic and kind; no secret is read), so it does not check
 * the rest of the file. LS_ERR_NOT_FOUND, LS_ERR_IO, LS_ERR_KEYFILE (wrong magic or kind,
 * shorter than the header, a public key file), LS_ERR_INVALID (NULL argument).
 */
int ls_key_is_encrypted(const char *path, bool *encrypted, struct ls_err_ctx *ctx);

/*
 * Reads the public key of a public key file (FILE.pub) or of a secret key
 * file (from its clear header; no passphrase needed, the whole file is checked
 * as by ls_key_load short of decrypting it) into pk. The key must be a valid
 * Ed25519 point. LS_ERR_NOT_FOUND, LS_ERR_IO, LS_ERR_KEYFILE (neither kind of
 * key file, or corrupt), LS_ERR_INVALID (NULL argument). pk is untouched on
 * failure.
 */
int ls_pubkey_load(const char *path, uint8_t pk[32], struct ls_err_ctx *ctx);

/* As ls_pubkey_load, for a public key file only: a secret key file is
 * refused with LS_ERR_KEYFILE, the message naming its .pub (the daemon's
 * --trust: a server has no business holding an authority's secret). */
int ls_pubkey_load_public(const char *path, uint8_t pk[32], struct ls_err_ctx *ctx);

/*
 * Writes the public key file `path`: the line LS_PUBKEY_HEADER and a line of
 * 64 lower-case hex digits, each ended by '\n'. Atomic, mode 0644 (less the
 * umask), replaces an existing file. LS_ERR_IO / LS_ERR_FULL / LS_ERR_INVALID.
 */
int ls_pubkey_save(const char *path, const uint8_t pk[32], struct ls_err_ctx *ctx);

/*
 * Parses a command-line public key (--subject HEX, --allow-peer HEX|FILE.pub):
 * exactly 64 hex digits (either case) are the key itself; anything else is the
 * path of a public or secret key file read with ls_pubkey_load. Fails with
 * LS_ERR_INVALID when the hex is not a valid Ed25519 point or when the string
 * is neither hex nor an existing file (the message says both), or with the
 * errors of ls_pubkey_load for a file that exists. pk is untouched on failure.
 */
int ls_pubkey_parse(const char *hex_or_path, uint8_t pk[32], struct ls_err_ctx *ctx);

#endif
