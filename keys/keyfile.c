/*
 * keyfile.c - Ed25519 key pairs and their files.
 *
 * Secret key file, version 1 (binary; integers big-endian):
 *
 *   offset  size  field
 *        0     4  magic "LSK1"
 *        4     1  kind: 0 plain, 1 encrypted
 *        5    32  Ed25519 public key (clear, so `lodestone pubkey` needs no passphrase)
 *   kind 0 (plain), 117 bytes in all:
 *       37    64  libsodium Ed25519 secret key (seed || public key)
 *      101    16  checksum
 *   kind 1 (encrypted), 189 bytes in all:
 *       37     8  Argon2id opslimit
 *       45     8  Argon2id memlimit (bytes)
 *       53    16  Argon2id salt
 *       69    24  crypto_secretbox nonce
 *       93    80  crypto_secretbox_easy(secret key) under
 *                 crypto_pwhash(32, passphrase, salt, opslimit, memlimit, ARGON2ID13)
 *      173    16  checksum
 *
 * checksum = BLAKE2b-128 (crypto_generichash, no key) of every byte before it.
 * It is not a MAC (the secretbox is): it tells a damaged file ("corrupt key
 * file") from a wrong passphrase (the secretbox does not open), and it lets
 * the public key be read from a secret key file with some confidence.
 *
 * The header public key is not authenticated by the secretbox, so loading
 * recomputes the key pair from the secret seed and requires it to equal both
 * the header public key and the stored secret key.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"
#include "util.h"

#define KF_MAGIC     "LSK1"
#define KF_MAGIC_LEN 4
#define KF_PLAIN     0
#define KF_ENCRYPTED 1

#define KF_OFF_KIND 4
#define KF_OFF_PK   5
#define KF_OFF_BODY 37 /* first byte after the clear header */
#define KF_SUM_LEN  16

#define KF_PLAIN_LEN (KF_OFF_BODY + crypto_sign_SECRETKEYBYTES + KF_SUM_LEN)

#define KF_OFF_OPS   KF_OFF_BODY
#define KF_OFF_MEM   (KF_OFF_OPS + 8)
#define KF_OFF_SALT  (KF_OFF_MEM + 8)
#define KF_OFF_NONCE (KF_OFF_SALT + crypto_pwhash_SALTBYTES)
#define KF_OFF_BOX   (KF_OFF_NONCE + crypto_secretbox_NONCEBYTES)
#define KF_BOX_LEN   (crypto_secretbox_MACBYTES + crypto_sign_SECRETKEYBYTES)
#define KF_ENC_LEN   (KF_OFF_BOX + KF_BOX_LEN + KF_SUM_LEN)

/* Bounds on the Argon2id limits a file may ask for: above them it is corrupt or hostile. */
#define KF_OPS_MAX 64ull
#define KF_MEM_MAX (1024ull * 1024 * 1024)

/* A public key file: header line, 64 hex digits, newline; CRLF tolerated. */
#define PUB_MAX_LEN (sizeof(LS_PUBKEY_HEADER) + 2 + 2 * crypto_sign_PUBLICKEYBYTES + 2)

/* Everything secret that one call handles, in one sodium_malloc'd block. */
struct scratch {
	uint8_t file[KF_ENC_LEN + 1]; /* one more byte to notice a file too long */
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t sk2[crypto_sign_SECRETKEYBYTES];
	uint8_t pk2[crypto_sign_PUBLICKEYBYTES];
};

static struct scratch *
scratch_new(void)
{
	return sodium_malloc(sizeof(struct scratch));
}

/* Allocates a key pair whose secret key is still writable. */
static struct ls_keypair *
keypair_new(void)
{
	struct ls_keypair *kp = calloc(1, sizeof(*kp));

	if (kp == NULL)
		return NULL;
	kp->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (kp->sk == NULL) {
		free(kp);
		return NULL;
	}
	return kp;
}

void
ls_key_free(struct ls_keypair **kp)
{
	if (kp == NULL || *kp == NULL)
		return;
	sodium_free((*kp)->sk); /* makes it writable, wipes and unmaps it */
	free(*kp);
	*kp = NULL;
}

int
ls_key_generate(struct ls_keypair **out)
{
	struct ls_keypair *kp;

	if (out == NULL)
		return LS_ERR_INVALID;
	*out = NULL;
	kp = keypair_new();
	if (kp == NULL)
		return LS_ERR_NOMEM;
	if (crypto_sign_keypair(kp->pk, kp->sk) != 0) {
		ls_key_free(&kp);
		return LS_ERR_CRYPTO;
	}
	sodium_mprotect_readonly(kp->sk);
	*out = kp;
	return 0;
}

/*
 * Reads at most cap bytes of path into buf. A file longer than cap shows as
 * *len == cap. Does not require a regular file, so that /dev/fd/N works.
 */
static int
read_upto(const char *path, const char *what, uint8_t *buf, size_t cap, size_t *len,
	  struct ls_err_ctx *ctx)
{
	size_t n = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ls_err_set(ctx, errno == ENOENT ? LS_ERR_NOT_FOUND : LS_ERR_IO,
				  "cannot open %s '%s': %s", what, path, strerror(errno));
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return ls_err_set(ctx, LS_ERR_IO, "cannot read %s '%s': %s", what, path,
					  strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*len = n;
	return 0;
}

static bool
is_pubkey_text(const uint8_t *buf, size_t len)
{
	size_t h = strlen(LS_PUBKEY_HEADER);

	return len >= h && memcmp(buf, LS_PUBKEY_HEADER, h) == 0;
}

/* Checks magic and kind of the first len bytes of a secret key file. */
static int
check_head(const char *path, const uint8_t *buf, size_t len, struct ls_err_ctx *ctx)
{
	if (is_pubkey_text(buf, len))
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "'%s' is a public key file, not a secret key file", path);
	if (memcmp(buf, KF_MAGIC, len < KF_MAGIC_LEN ? len : KF_MAGIC_LEN) != 0)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "'%s' is not a lodestone secret key file (bad magic)", path);
	if (len <= KF_OFF_KIND)
		return ls_err_set(ctx, LS_ERR_KEYFILE, "key file '%s' is truncated (%zu bytes)",
				  path, len);
	if (buf[KF_OFF_KIND] != KF_PLAIN && buf[KF_OFF_KIND] != KF_ENCRYPTED)
		return ls_err_set(ctx, LS_ERR_KEYFILE, "key file '%s' is corrupt (unknown kind %u)",
				  path, (unsigned)buf[KF_OFF_KIND]);
	return 0;
}

/*
 * Checks a whole secret key file short of decrypting it: head, exact length,
 * checksum, public key, Argon2id limits.
 */
static int
check_file(const char *path, const uint8_t *buf, size_t len, struct ls_err_ctx *ctx)
{
	uint8_t sum[KF_SUM_LEN];
	size_t want;
	int rc;

	rc = check_head(path, buf, len, ctx);
	if (rc != 0)
		return rc;
	want = buf[KF_OFF_KIND] == KF_ENCRYPTED ? KF_ENC_LEN : KF_PLAIN_LEN;
	if (len != want)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "key file '%s' is corrupt or truncated (%zu bytes, expected %zu)",
				  path, len, want);
	crypto_generichash(sum, sizeof(sum), buf, len - KF_SUM_LEN, NULL, 0);
	if (sodium_memcmp(sum, buf + len - KF_SUM_LEN, KF_SUM_LEN) != 0)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "key file '%s' is corrupt (checksum mismatch)", path);
	if (crypto_core_ed25519_is_valid_point(buf + KF_OFF_PK) != 1)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "key file '%s' is corrupt (invalid public key)", path);
	if (buf[KF_OFF_KIND] == KF_ENCRYPTED) {
		uint64_t ops = ls_be64_get(buf + KF_OFF_OPS);
		uint64_t mem = ls_be64_get(buf + KF_OFF_MEM);
		if (ops > KF_OPS_MAX || mem > KF_MEM_MAX)
			return ls_err_set(ctx, LS_ERR_KEYFILE,
					  "key file '%s' asks for Argon2id opslimit %llu and "
					  "memlimit %llu MiB, beyond the most this version opens "
					  "(opslimit %llu, %llu MiB): refused",
					  path, (unsigned long long)ops,
					  (unsigned long long)(mem >> 20), KF_OPS_MAX,
					  KF_MEM_MAX >> 20);
		if (ops < crypto_pwhash_OPSLIMIT_MIN || mem < crypto_pwhash_MEMLIMIT_MIN)
			return ls_err_set(ctx, LS_ERR_KEYFILE,
					  "key file '%s' is corrupt (argon2id limits out of range: "
					  "opslimit %llu, memlimit %llu)",
					  path, (unsigned long long)ops, (unsigned long long)mem);
	}
	return 0;
}

/* Derives the secretbox key of an encrypted file into s->key. */
static int
derive_key(struct scratch *s, const char *passphrase, const uint8_t *salt, uint64_t ops,
	   uint64_t mem, const char *path, struct ls_err_ctx *ctx)
{
	if (crypto_pwhash(s->key, sizeof(s->key), passphrase, strlen(passphrase), salt,
			  (unsigned long long)ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return ls_err_set(ctx, LS_ERR_CRYPTO,
				  "cannot derive the key of key file '%s': out of memory", path);
	return 0;
}

int
ls_key_load(const char *path, const char *passphrase, struct ls_keypair **out,
	    struct ls_err_ctx *ctx)
{
	struct scratch *s = NULL;
	struct ls_keypair *kp = NULL;
	const uint8_t *pk;
	size_t len = 0;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (path == NULL || out == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no key file given");
	s = scratch_new();
	if (s == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "cannot load key file '%s': out of memory",
				  path);
	rc = read_upto(path, "key file", s->file, sizeof(s->file), &len, ctx);
	if (rc != 0)
		goto out;
	rc = check_file(path, s->file, len, ctx);
	if (rc != 0)
		goto out;
	pk = s->file + KF_OFF_PK;

	if (s->file[KF_OFF_KIND] == KF_PLAIN) {
		memcpy(s->sk, s->file + KF_OFF_BODY, sizeof(s->sk));
	} else {
		if (passphrase == NULL) {
			rc = ls_err_set(ctx, LS_ERR_INVALID,
					"key file '%s' is encrypted and no passphrase was given",
					path);
			goto out;
		}
		rc = derive_key(s, passphrase, s->file + KF_OFF_SALT,
				ls_be64_get(s->file + KF_OFF_OPS),
				ls_be64_get(s->file + KF_OFF_MEM), path, ctx);
		if (rc != 0)
			goto out;
		if (crypto_secretbox_open_easy(s->sk, s->file + KF_OFF_BOX, KF_BOX_LEN,
					       s->file + KF_OFF_NONCE, s->key) != 0) {
			rc = ls_err_set(ctx, LS_ERR_PASSPHRASE,
					"wrong passphrase for key file '%s'", path);
			goto out;
		}
	}

	/* crypto_sign_ed25519_sk_to_pk only copies the second half: recompute. */
	crypto_sign_ed25519_sk_to_seed(s->seed, s->sk);
	crypto_sign_seed_keypair(s->pk2, s->sk2, s->seed);
	if (sodium_memcmp(s->pk2, pk, sizeof(s->pk2)) != 0 ||
	    sodium_memcmp(s->sk2, s->sk, sizeof(s->sk)) != 0) {
		rc = ls_err_set(ctx, LS_ERR_KEYFILE,
				"key file '%s' is corrupt (secret key does not match public key)",
				path);
		goto out;
	}

	kp = keypair_new();
	if (kp == NULL) {
		rc =
		    ls_err_set(ctx, LS_ERR_NOMEM, "cannot load key file '%s': out of memory", path);
		goto out;
	}
	memcpy(kp->pk, pk, sizeof(kp->pk));
	memcpy(kp->sk, s->sk, sizeof(s->sk));
	sodium_mprotect_readonly(kp->sk);
	*out = kp;
	rc = 0;
out:
	sodium_free(s); /* wipes */
	return rc;
}

int
ls_key_is_encrypted(const char *path, bool *encrypted, struct ls_err_ctx *ctx)
{
	uint8_t head[sizeof(LS_PUBKEY_HEADER)]; /* enough to recognise a public key file */
	size_t len = 0;
	int rc;

	if (path == NULL || encrypted == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no key file given");
	rc = read_upto(path, "key file", head, sizeof(head), &len, ctx);
	if (rc != 0)
		return rc;
	rc = check_head(path, head, len, ctx);
	if (rc != 0)
		return rc;
	*encrypted = head[KF_OFF_KIND] == KF_ENCRYPTED;
	return 0;
}

/* fsync of the directory of path, so that a new name survives a crash. */
static void
sync_dir(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd); /* some file systems refuse: the data itself is synced */
	close(fd);
}

/*
 * Creates path with buf as its content and mode 0600, atomically and without
 * replacing anything: the data goes to a mkstemp file (mode 0600) in the same
 * directory, which is then hard-linked to path (link(2) fails with EEXIST
 * where rename(2) would replace).
 */
static int
write_new_file(const char *path, const uint8_t *buf, size_t len, struct ls_err_ctx *ctx)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return ls_err_set(ctx, LS_ERR_INVALID, "key file path too long: '%s'", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ls_err_set(ctx, LS_ERR_IO, "cannot create key file '%s': %s", path,
				  strerror(errno));
	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = ls_err_set(ctx, errno == ENOSPC ? LS_ERR_FULL : LS_ERR_IO,
					"cannot write key file '%s': %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		rc = ls_err_set(ctx, errno == ENOSPC ? LS_ERR_FULL : LS_ERR_IO,
				"cannot sync key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			rc = ls_err_set(ctx, LS_ERR_EXISTS, "key file '%s' already exists", path);
		else
			rc = ls_err_set(ctx, LS_ERR_IO, "cannot create key file '%s': %s", path,
					strerror(errno));
		goto out;
	}
	sync_dir(path);
out:
	close(fd);
	unlink(tmp);
	return rc;
}

static const struct {
	uint64_t ops, mem;
} costs[] = {
    [LS_KEY_COST_INTERACTIVE] = {2, 64ull << 20}, /* libsodium's INTERACTIVE */
    [LS_KEY_COST_MODERATE] = {3, 256ull << 20},   /* MODERATE: authorities' keys */
    [LS_KEY_COST_SENSITIVE] = {4, 1024ull << 20}, /* SENSITIVE: root keys, offline */
};

int
ls_key_cost_parse(const char *name, enum ls_key_cost *cost)
{
	static const char *const names[] = {"interactive", "moderate", "sensitive"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*cost = (enum ls_key_cost)i;
			return 0;
		}
	return LS_ERR_INVALID;
}

int
ls_key_save(const struct ls_keypair *kp, const char *path, const char *passphrase,
	    struct ls_err_ctx *ctx)
{
	return ls_key_save_cost(kp, path, passphrase, LS_KEY_COST_INTERACTIVE, ctx);
}

int
ls_key_save_cost(const struct ls_keypair *kp, const char *path, const char *passphrase,
		 enum ls_key_cost cost, struct ls_err_ctx *ctx)
{
	char pubpath[PATH_MAX];
	struct scratch *s = NULL;
	struct stat st;
	uint8_t *f;
	size_t len;
	int rc;

	if (kp == NULL || kp->sk == NULL || path == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no key or key file given");
	if ((unsigned)cost > LS_KEY_COST_SENSITIVE)
		return ls_err_set(ctx, LS_ERR_INVALID, "unknown key cost %d", (int)cost);
	if ((size_t)snprintf(pubpath, sizeof(pubpath), "%s.pub", path) >= sizeof(pubpath))
		return ls_err_set(ctx, LS_ERR_INVALID, "key file path too long: '%s'", path);
	/* Fail fast, before Argon2id; write_new_file makes sure of it. */
	if (lstat(path, &st) == 0)
		return ls_err_set(ctx, LS_ERR_EXISTS, "key file '%s' already exists", path);
	s = scratch_new();
	if (s == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "cannot save key file '%s': out of memory",
				  path);
	f = s->file;
	memcpy(f, KF_MAGIC, KF_MAGIC_LEN);
	memcpy(f + KF_OFF_PK, kp->pk, crypto_sign_PUBLICKEYBYTES);
	if (passphrase == NULL) {
		f[KF_OFF_KIND] = KF_PLAIN;
		memcpy(f + KF_OFF_BODY, kp->sk, crypto_sign_SECRETKEYBYTES);
		len = KF_PLAIN_LEN;
	} else {
		f[KF_OFF_KIND] = KF_ENCRYPTED;
		ls_be64_put(f + KF_OFF_OPS, costs[cost].ops);
		ls_be64_put(f + KF_OFF_MEM, costs[cost].mem);
		randombytes_buf(f + KF_OFF_SALT, crypto_pwhash_SALTBYTES);
		randombytes_buf(f + KF_OFF_NONCE, crypto_secretbox_NONCEBYTES);
		rc = derive_key(s, passphrase, f + KF_OFF_SALT, costs[cost].ops, costs[cost].mem,
				path, ctx);
		if (rc != 0)
			goto out;
		crypto_secretbox_easy(f + KF_OFF_BOX, kp->sk, crypto_sign_SECRETKEYBYTES,
				      f + KF_OFF_NONCE, s->key);
		len = KF_ENC_LEN;
	}
	crypto_generichash(f + len - KF_SUM_LEN, KF_SUM_LEN, f, len - KF_SUM_LEN, NULL, 0);

	rc = write_new_file(path, f, len, ctx);
	if (rc != 0)
		goto out;
	rc = ls_pubkey_save(pubpath, kp->pk, ctx);
	if (rc != 0)
		unlink(path); /* ours: write_new_file just created it */
out:
	sodium_free(s);
	return rc;
}

int
ls_pubkey_save(const char *path, const uint8_t pk[32], struct ls_err_ctx *ctx)
{
	char text[PUB_MAX_LEN];
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
	int n;

	if (path == NULL || pk == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no public key or file given");
	n = snprintf(text, sizeof(text), "%s\n%s\n", LS_PUBKEY_HEADER,
		     ls_hex(pk, crypto_sign_PUBLICKEYBYTES, hex));
	return ls_file_write(path, (const uint8_t *)text, (size_t)n, 0644, ctx);
}

/* Parses the text of a public key file: header line, hex line, nothing more. */
static int
parse_pub_text(const char *path, const uint8_t *buf, size_t len, uint8_t pk[32],
	       struct ls_err_ctx *ctx)
{
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1];
	const uint8_t *p = buf + strlen(LS_PUBKEY_HEADER), *end = buf + len;
	uint8_t key[crypto_sign_PUBLICKEYBYTES];

	if (p < end && *p == '\r')
		p++;
	if (p == end || *p++ != '\n')
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "public key file '%s' is corrupt (bad header line)", path);
	if ((size_t)(end - p) < 2 * sizeof(key))
		return ls_err_set(ctx, LS_ERR_KEYFILE, "public key file '%s' is truncated", path);
	memcpy(hex, p, 2 * sizeof(key));
	hex[2 * sizeof(key)] = '\0';
	p += 2 * sizeof(key);
	if (p < end && *p == '\r')
		p++;
	if (p < end && *p == '\n')
		p++;
	if (ls_unhex(hex, key, sizeof(key)) != 0 || p != end)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "public key file '%s' is corrupt (expected 64 hex digits)", path);
	if (crypto_core_ed25519_is_valid_point(key) != 1)
		return ls_err_set(ctx, LS_ERR_KEYFILE,
				  "public key file '%s' holds an invalid Ed25519 public key", path);
	memcpy(pk, key, sizeof(key));
	return 0;
}

static int
pubkey_load(const char *path, uint8_t pk[32], bool secret_ok, struct ls_err_ctx *ctx)
{
	struct scratch *s = NULL; /* a plain secret key file holds a secret */
	size_t len = 0;
	int rc;

	if (path == NULL || pk == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no key file given");
	s = scratch_new();
	if (s == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "cannot read key file '%s': out of memory",
				  path);
	rc = read_upto(path, "key file", s->file, sizeof(s->file), &len, ctx);
	if (rc != 0)
		goto out;
	if (is_pubkey_text(s->file, len)) {
		rc = parse_pub_text(path, s->file, len, pk, ctx);
	} else if (len >= KF_MAGIC_LEN && memcmp(s->file, KF_MAGIC, KF_MAGIC_LEN) == 0 &&
		   !secret_ok) {
		rc = ls_err_set(ctx, LS_ERR_KEYFILE,
				"'%s' is a secret key file: give its public key file (%s.pub), "
				"a secret key does not belong here",
				path, path);
	} else if (len >= KF_MAGIC_LEN && memcmp(s->file, KF_MAGIC, KF_MAGIC_LEN) == 0) {
		rc = check_file(path, s->file, len, ctx);
		if (rc == 0)
			memcpy(pk, s->file + KF_OFF_PK, crypto_sign_PUBLICKEYBYTES);
	} else {
		rc = ls_err_set(ctx, LS_ERR_KEYFILE, "'%s' is not a lodestone key file", path);
	}
out:
	sodium_free(s);
	return rc;
}

int
ls_pubkey_load(const char *path, uint8_t pk[32], struct ls_err_ctx *ctx)
{
	return pubkey_load(path, pk, true, ctx);
}

int
ls_pubkey_load_public(const char *path, uint8_t pk[32], struct ls_err_ctx *ctx)
{
	return pubkey_load(path, pk, false, ctx);
}

int
ls_pubkey_parse(const char *hex_or_path, uint8_t pk[32], struct ls_err_ctx *ctx)
{
	uint8_t key[crypto_sign_PUBLICKEYBYTES];
	int rc;

	if (hex_or_path == NULL || pk == NULL || hex_or_path[0] == '\0')
		return ls_err_set(ctx, LS_ERR_INVALID, "no public key given");
	if (ls_unhex(hex_or_path, key, sizeof(key)) == 0) {
		if (crypto_core_ed25519_is_valid_point(key) != 1)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "'%s' is not a valid Ed25519 public key", hex_or_path);
		memcpy(pk, key, sizeof(key));
		return 0;
	}
	rc = ls_pubkey_load(hex_or_path, pk, ctx);
	if (rc == LS_ERR_NOT_FOUND)
		rc = ls_err_set(ctx, LS_ERR_INVALID,
				"'%s' is neither 64 hex digits nor an existing key file",
				hex_or_path);
	return rc;
}
