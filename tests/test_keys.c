#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "keyfile.h"
#include "passphrase.h"
#include "util.h"

#define PLAIN_LEN     117
#define ENCRYPTED_LEN 189
#define PASS          "correct horse battery staple"

struct fx {
	char dir[256];
	char key[PATH_MAX]; /* dir/test.key, not created */
	char pub[PATH_MAX]; /* dir/test.key.pub */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_keys.XXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->key, sizeof(f->key), "%s/test.key", f->dir);
	snprintf(f->pub, sizeof(f->pub), "%s/test.key.pub", f->dir);
	umask(022);
	unsetenv(LS_PASSPHRASE_ENV);
	unsetenv(LS_PASSPHRASE_NO_TTY_ENV);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *e;
	char p[PATH_MAX * 2];
	DIR *d = opendir(f->dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		if (unlink(p) != 0)
			rmdir(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(f->dir);
	unsetenv(LS_PASSPHRASE_ENV);
	unsetenv(LS_PASSPHRASE_NO_TTY_ENV);
	free(f);
	return 0;
}

static void
path_in(const struct fx *f, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, name);
}

static void
write_bytes(const char *path, const void *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
write_text(const char *path, const char *s)
{
	write_bytes(path, s, strlen(s));
}

/* Reads a file of at most 1024 bytes into buf; returns its length. */
static size_t
read_bytes(const char *path, uint8_t *buf)
{
	uint8_t *b = NULL;
	size_t len = 0;

	assert_int_equal(ls_file_read(path, 1024, &b, &len, NULL), 0);
	memcpy(buf, b, len);
	free(b);
	return len;
}

static void
fix_checksum(uint8_t *buf, size_t len)
{
	crypto_generichash(buf + len - 16, 16, buf, len - 16, NULL, 0);
}

static int
count_entries(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* A signature made with kp's secret key verifies under pk. */
static void
assert_signs_for(const struct ls_keypair *kp, const uint8_t pk[32])
{
	static const uint8_t msg[] = "lodestone test message";
	uint8_t sig[crypto_sign_BYTES];

	assert_int_equal(crypto_sign_detached(sig, NULL, msg, sizeof(msg), kp->sk), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof(msg), pk), 0);
}

static void
assert_msg_names(const struct ls_err_ctx *ctx, const char *what)
{
	if (strstr(ctx->msg, what) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", ctx->msg, what);
}

/* Saves a new key to f->key (and .pub); returns it. */
static struct ls_keypair *
saved_key(const struct fx *f, const char *passphrase)
{
	struct ls_keypair *kp = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_key_generate(&kp), 0);
	if (ls_key_save(kp, f->key, passphrase, &ctx) != 0)
		fail_msg("ls_key_save: %s", ctx.msg);
	return kp;
}

static void
test_keys_generate(void **state)
{
	struct ls_keypair *a = NULL, *b = NULL;
	uint8_t pk[32];

	(void)state;
	assert_int_equal(ls_key_generate(&a), 0);
	assert_int_equal(ls_key_generate(&b), 0);
	assert_memory_not_equal(a->pk, b->pk, 32);
	crypto_sign_ed25519_sk_to_pk(pk, a->sk);
	assert_memory_equal(pk, a->pk, 32);
	assert_signs_for(a, a->pk);
	ls_key_free(&a);
	ls_key_free(&b);
	assert_null(a);
	ls_key_free(&a); /* NULL-safe */
	ls_key_free(NULL);
}

static void
test_keys_roundtrip_plain(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	bool enc = true;
	uint8_t pk[32];
	struct stat st;

	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_size, PLAIN_LEN);
	assert_int_equal(ls_key_is_encrypted(f->key, &enc, &ctx), 0);
	assert_false(enc);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), 0);
	assert_memory_equal(back->pk, kp->pk, 32);
	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	assert_signs_for(back, pk);
	ls_key_free(&back);

	/* A passphrase given for a plain key is ignored ($LODESTONE_PASSPHRASE set for others). */
	assert_int_equal(ls_key_load(f->key, "unused", &back, &ctx), 0);
	assert_memory_equal(back->pk, kp->pk, 32);
	ls_key_free(&back);
	ls_key_free(&kp);
}

static void
test_keys_roundtrip_encrypted(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, PASS), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t buf[1024], pk[32];
	bool enc = false;

	assert_int_equal(read_bytes(f->key, buf), ENCRYPTED_LEN);
	/* The secret key does not appear in the file. */
	assert_null(memmem(buf, ENCRYPTED_LEN, kp->sk, 32));
	assert_int_equal(ls_key_is_encrypted(f->key, &enc, &ctx), 0);
	assert_true(enc);
	if (ls_key_load(f->key, PASS, &back, &ctx) != 0)
		fail_msg("ls_key_load: %s", ctx.msg);
	assert_memory_equal(back->pk, kp->pk, 32);
	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), 0);
	assert_signs_for(back, pk);

	/* The public key of an encrypted secret key file needs no passphrase. */
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_load(f->key, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	ls_key_free(&back);
	ls_key_free(&kp);
}

static void
test_keys_empty_passphrase_encrypts(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, ""), *back = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_key_load(f->key, "", &back, &ctx), 0);
	assert_memory_equal(back->pk, kp->pk, 32);
	ls_key_free(&back);
	ls_key_free(&kp);
}

static void
test_keys_wrong_passphrase(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, PASS), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	char want[PATH_MAX + 64];

	assert_int_equal(ls_key_load(f->key, "Correct horse battery staple", &back, &ctx),
			 LS_ERR_PASSPHRASE);
	assert_null(back);
	snprintf(want, sizeof(want), "wrong passphrase for key file '%s'", f->key);
	assert_string_equal(ctx.msg, want);
	ls_key_free(&kp);
}

static void
test_keys_encrypted_needs_passphrase(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, PASS), *back = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_INVALID);
	assert_null(back);
	assert_msg_names(&ctx, f->key);
	assert_msg_names(&ctx, "encrypted");
	ls_key_free(&kp);
}

static void
test_keys_corrupt_plain(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	/* magic, kind, public key, seed, public half of the secret key, checksum */
	static const size_t offs[] = {0, 3, 4, 5, 36, 37, 68, 69, 100, 101, 116};
	uint8_t orig[1024], buf[1024];
	size_t len = read_bytes(f->key, orig);
	char want[PATH_MAX + 64];
	uint8_t pk[32];

	assert_int_equal(len, PLAIN_LEN);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		memcpy(buf, orig, len);
		buf[offs[i]] ^= 0x01;
		write_bytes(f->key, buf, len);
		memset(&ctx, 0, sizeof(ctx));
		assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
		assert_null(back);
		assert_msg_names(&ctx, f->key);
		assert_int_equal(ls_pubkey_load(f->key, pk, &ctx), LS_ERR_KEYFILE);
	}
	memcpy(buf, orig, len);
	buf[50] ^= 0x80;
	write_bytes(f->key, buf, len);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
	snprintf(want, sizeof(want), "key file '%s' is corrupt (checksum mismatch)", f->key);
	assert_string_equal(ctx.msg, want);

	write_bytes(f->key, orig, len); /* and the original still loads */
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), 0);
	ls_key_free(&back);
	ls_key_free(&kp);
}

static void
test_keys_corrupt_encrypted(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, PASS), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	/* kind, opslimit, memlimit, salt, nonce, ciphertext, MAC, checksum */
	static const size_t offs[] = {4, 44, 50, 53, 69, 93, 100, 180, 188};
	uint8_t orig[1024], buf[1024];
	size_t len = read_bytes(f->key, orig);

	assert_int_equal(len, ENCRYPTED_LEN);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		memcpy(buf, orig, len);
		buf[offs[i]] ^= 0x10;
		write_bytes(f->key, buf, len);
		/* Not LS_ERR_PASSPHRASE: damage is told from a wrong passphrase. */
		assert_int_equal(ls_key_load(f->key, PASS, &back, &ctx), LS_ERR_KEYFILE);
		assert_null(back);
	}
	ls_key_free(&kp);
}

static void
test_keys_absurd_kdf_limits(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, PASS), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	static const struct {
		uint64_t ops, mem;
	} bad[] = {
	    {0, 64ull << 20}, {65, 64ull << 20},     {UINT64_MAX, 64ull << 20},
	    {2, 0},           {2, (1ull << 30) + 1}, {2, UINT64_MAX},
	};
	uint8_t orig[1024], buf[1024];
	size_t len = read_bytes(f->key, orig);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct timespec t0, t1;
		long ms;
		memcpy(buf, orig, len);
		ls_be64_put(buf + 37, bad[i].ops);
		ls_be64_put(buf + 45, bad[i].mem);
		fix_checksum(buf, len);
		write_bytes(f->key, buf, len);
		memset(&ctx, 0, sizeof(ctx));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(ls_key_load(f->key, PASS, &back, &ctx), LS_ERR_KEYFILE);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		/* refused before Argon2id runs: 65 passes over 64 MiB, or 1 GiB
		 * and a byte, would take seconds (and the memory) */
		ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= 100)
			fail_msg("limits %llu/%llu refused after %ld ms",
				 (unsigned long long)bad[i].ops, (unsigned long long)bad[i].mem,
				 ms);
		/* above the maximum: refused as too costly, naming the maximum */
		if (bad[i].ops > 64 || bad[i].mem > (1ull << 30))
			assert_msg_names(&ctx, "beyond the most this version opens (opslimit 64, "
					       "1024 MiB)");
		else
			assert_msg_names(&ctx, "argon2id limits");
	}
	ls_key_free(&kp);
}

/* The Argon2id cost chosen is the one in the file, and the key opens. */
static void
test_keys_costs(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *name;
		uint64_t ops, mem;
	} want[] = {{"interactive", 2, 64ull << 20}, {"moderate", 3, 256ull << 20}};
	struct ls_keypair *kp = NULL, *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	enum ls_key_cost cost;
	uint8_t buf[1024];
	char path[600];

	assert_int_equal(ls_key_cost_parse("sensitive", &cost), 0);
	assert_int_equal(cost, LS_KEY_COST_SENSITIVE);
	assert_int_equal(ls_key_cost_parse("extreme", &cost), LS_ERR_INVALID);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "%s/cost-%s.key", f->dir, want[i].name);
		assert_int_equal(ls_key_cost_parse(want[i].name, &cost), 0);
		assert_int_equal(ls_key_generate(&kp), 0);
		assert_int_equal(ls_key_save_cost(kp, path, PASS, cost, &ctx), 0);
		read_bytes(path, buf);
		assert_int_equal(ls_be64_get(buf + 37), want[i].ops);
		assert_int_equal(ls_be64_get(buf + 45), want[i].mem);
		assert_int_equal(ls_key_load(path, PASS, &back, &ctx), 0);
		assert_memory_equal(back->pk, kp->pk, 32);
		ls_key_free(&back);
		ls_key_free(&kp);
	}
	assert_int_equal(ls_key_generate(&kp), 0);
	snprintf(path, sizeof(path), "%s/cost-bad.key", f->dir);
	assert_int_equal(ls_key_save_cost(kp, path, PASS, (enum ls_key_cost)7, &ctx),
			 LS_ERR_INVALID);
	ls_key_free(&kp);
}

/* A well-formed file whose secret key is not the header's public key. */
static void
test_keys_mismatched_halves(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *other = NULL, *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t orig[1024], buf[1024];
	size_t len = read_bytes(f->key, orig);

	assert_int_equal(ls_key_generate(&other), 0);

	/* Another public key in the header. */
	memcpy(buf, orig, len);
	memcpy(buf + 5, other->pk, 32);
	fix_checksum(buf, len);
	write_bytes(f->key, buf, len);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
	assert_msg_names(&ctx, "does not match");

	/* Another seed with the right public half: sk_to_pk alone would not see it. */
	memcpy(buf, orig, len);
	memcpy(buf + 37, other->sk, 32);
	fix_checksum(buf, len);
	write_bytes(f->key, buf, len);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
	assert_null(back);

	ls_key_free(&other);
	ls_key_free(&kp);
}

static void
test_keys_truncated(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	static const size_t lens[] = {0, 1, 3, 4, 5, 36, 37, 100, 116};
	uint8_t orig[1024] = {0};
	size_t len = read_bytes(f->key, orig);
	bool enc;

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		write_bytes(f->key, orig, lens[i]);
		memset(&ctx, 0, sizeof(ctx));
		assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
		assert_msg_names(&ctx, f->key);
		if (lens[i] < 5)
			assert_int_equal(ls_key_is_encrypted(f->key, &enc, &ctx), LS_ERR_KEYFILE);
	}
	/* One byte too many, and a lot too many. */
	orig[len] = 0;
	write_bytes(f->key, orig, len + 1);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
	write_bytes(f->key, orig, sizeof(orig));
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_KEYFILE);
	assert_null(back);
	ls_key_free(&kp);
}

static void
test_keys_public_file_as_secret(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	char junk[PATH_MAX];
	bool enc;

	assert_int_equal(ls_key_load(f->pub, NULL, &back, &ctx), LS_ERR_KEYFILE);
	assert_msg_names(&ctx, "is a public key file");
	assert_msg_names(&ctx, f->pub);
	assert_int_equal(ls_key_is_encrypted(f->pub, &enc, &ctx), LS_ERR_KEYFILE);
	assert_msg_names(&ctx, "is a public key file");

	path_in(f, "junk", junk, sizeof(junk));
	write_text(junk, "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n");
	assert_int_equal(ls_key_load(junk, NULL, &back, &ctx), LS_ERR_KEYFILE);
	assert_msg_names(&ctx, "bad magic");
	assert_int_equal(ls_key_is_encrypted(junk, &enc, &ctx), LS_ERR_KEYFILE);
	ls_key_free(&kp);
}

static void
test_keys_missing_or_unreadable(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t pk[32];
	bool enc;

	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), LS_ERR_NOT_FOUND);
	assert_msg_names(&ctx, f->key);
	assert_int_equal(ls_key_is_encrypted(f->key, &enc, &ctx), LS_ERR_NOT_FOUND);
	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), LS_ERR_NOT_FOUND);
	assert_msg_names(&ctx, f->pub);

	/* A directory opens but does not read. */
	assert_int_equal(ls_key_load(f->dir, NULL, &back, &ctx), LS_ERR_IO);
	assert_msg_names(&ctx, f->dir);
	assert_null(back);

	assert_int_equal(ls_key_load(NULL, NULL, &back, &ctx), LS_ERR_INVALID);
}

static void
test_keys_file_modes(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL);
	struct stat st;

	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Nothing but the two files: no temporary file left behind. */
	assert_int_equal(count_entries(f->dir), 2);
	ls_key_free(&kp);
}

static void
test_keys_refuse_overwrite(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL), *other = NULL, *back = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t pk[32];

	assert_int_equal(ls_key_generate(&other), 0);
	assert_int_equal(ls_key_save(other, f->key, NULL, &ctx), LS_ERR_EXISTS);
	assert_msg_names(&ctx, f->key);
	assert_int_equal(ls_key_save(other, f->key, PASS, &ctx), LS_ERR_EXISTS);
	assert_int_equal(ls_key_load(f->key, NULL, &back, &ctx), 0);
	assert_memory_equal(back->pk, kp->pk, 32);
	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	assert_int_equal(count_entries(f->dir), 2);

	/* A dangling symbolic link is not overwritten either. */
	assert_int_equal(unlink(f->key), 0);
	assert_int_equal(symlink("nowhere", f->key), 0);
	assert_int_equal(ls_key_save(other, f->key, NULL, &ctx), LS_ERR_EXISTS);

	ls_key_free(&back);
	ls_key_free(&other);
	ls_key_free(&kp);
}

static void
test_keys_save_errors(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = NULL;
	struct ls_err_ctx ctx = {{0}};
	char path[PATH_MAX];

	assert_int_equal(ls_key_generate(&kp), 0);
	path_in(f, "no/such/dir.key", path, sizeof(path));
	assert_int_equal(ls_key_save(kp, path, NULL, &ctx), LS_ERR_IO);
	assert_msg_names(&ctx, path);

	/* The public key file cannot be written: the secret key file goes too. */
	assert_int_equal(mkdir(f->pub, 0755), 0);
	assert_int_not_equal(ls_key_save(kp, f->key, NULL, &ctx), 0);
	assert_int_equal(access(f->key, F_OK), -1);
	assert_int_equal(count_entries(f->dir), 1);

	assert_int_equal(ls_key_save(NULL, f->key, NULL, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_key_save(kp, NULL, NULL, &ctx), LS_ERR_INVALID);
	ls_key_free(&kp);
}

static void
test_keys_pubkey_file(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL);
	struct ls_err_ctx ctx = {{0}};
	char hex[65], want[128], path[PATH_MAX];
	uint8_t buf[1024], pk[32];
	size_t len = read_bytes(f->pub, buf);

	snprintf(want, sizeof(want), "lodestone public key v1\n%s\n", ls_hex(kp->pk, 32, hex));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(buf, want, len);

	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_load(f->key, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);

	/* Written elsewhere by ls_pubkey_save; CRLF and upper case are read too. */
	path_in(f, "other.pub", path, sizeof(path));
	assert_int_equal(ls_pubkey_save(path, kp->pk, &ctx), 0);
	assert_int_equal(ls_pubkey_load(path, pk, &ctx), 0);
	for (char *p = hex; *p != '\0'; p++)
		*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
	snprintf(want, sizeof(want), "lodestone public key v1\r\n%s\r\n", hex);
	write_text(path, want);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_load(path, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	ls_key_free(&kp);
}

static void
test_keys_pubkey_file_corrupt(void **state)
{
	struct fx *f = *state;
	struct ls_err_ctx ctx = {{0}};
	static const char *const bad[] = {
	    "",
	    "lodestone public key v1",
	    "lodestone public key v1\n",
	    "lodestone public key v1 "
	    "\n3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n",
	    "lodestone public key "
	    "v1\n3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da2\n",
	    "lodestone public key "
	    "v1\n3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da2g\n",
	    "lodestone public key "
	    "v1\n3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\nx",
	    /* small-order points: identity and all zeros */
	    "lodestone public key "
	    "v1\n0100000000000000000000000000000000000000000000000000000000000000\n",
	    "lodestone public key "
	    "v1\n0000000000000000000000000000000000000000000000000000000000000000\n",
	    "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n",
	};
	uint8_t pk[32], keep[32];

	memset(keep, 0xaa, sizeof(keep));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(f->pub, bad[i]);
		memcpy(pk, keep, sizeof(pk));
		memset(&ctx, 0, sizeof(ctx));
		if (ls_pubkey_load(f->pub, pk, &ctx) != LS_ERR_KEYFILE)
			fail_msg("case %zu: not LS_ERR_KEYFILE", i);
		assert_msg_names(&ctx, f->pub);
		assert_memory_equal(pk, keep, 32); /* untouched on failure */
	}
	/* The well-formed version of the cases above loads. */
	write_text(f->pub, "lodestone public key v1\n"
			   "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n");
	assert_int_equal(ls_pubkey_load(f->pub, pk, &ctx), 0);
}

static void
test_keys_pubkey_parse(void **state)
{
	struct fx *f = *state;
	struct ls_keypair *kp = saved_key(f, NULL);
	struct ls_err_ctx ctx = {{0}};
	char hex[65], upper[65], s[80], junk[PATH_MAX];
	uint8_t pk[32];

	ls_hex(kp->pk, 32, hex);
	assert_int_equal(ls_pubkey_parse(hex, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	for (int i = 0; i < 65; i++)
		upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_parse(upper, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_parse(f->pub, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);
	memset(pk, 0, sizeof(pk));
	assert_int_equal(ls_pubkey_parse(f->key, pk, &ctx), 0);
	assert_memory_equal(pk, kp->pk, 32);

	/* Bad hex: too short, too long, not hex, not a point, empty. */
	snprintf(s, sizeof(s), "%.63s", hex);
	assert_int_equal(ls_pubkey_parse(s, pk, &ctx), LS_ERR_INVALID);
	assert_msg_names(&ctx, s);
	assert_msg_names(&ctx, "neither 64 hex digits nor");
	snprintf(s, sizeof(s), "%s0", hex);
	assert_int_equal(ls_pubkey_parse(s, pk, &ctx), LS_ERR_INVALID);
	snprintf(s, sizeof(s), "%.63sg", hex);
	assert_int_equal(ls_pubkey_parse(s, pk, &ctx), LS_ERR_INVALID);
	assert_int_equal(
	    ls_pubkey_parse("0100000000000000000000000000000000000000000000000000000000000000", pk,
			    &ctx),
	    LS_ERR_INVALID);
	assert_msg_names(&ctx, "not a valid Ed25519 public key");
	assert_int_equal(ls_pubkey_parse("", pk, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_pubkey_parse(NULL, pk, &ctx), LS_ERR_INVALID);

	/* An existing file that is not a key file keeps its own error. */
	path_in(f, "junk.pub", junk, sizeof(junk));
	write_text(junk, "hello\n");
	assert_int_equal(ls_pubkey_parse(junk, pk, &ctx), LS_ERR_KEYFILE);
	assert_msg_names(&ctx, junk);
	ls_key_free(&kp);
}

static void
get_ok(const char *file, const char *want)
{
	struct ls_err_ctx ctx = {{0}};
	char *p = NULL;

	if (ls_passphrase_get(file, NULL, false, &p, &ctx) != 0)
		fail_msg("ls_passphrase_get: %s", ctx.msg);
	assert_string_equal(p, want);
	ls_passphrase_free(&p);
	assert_null(p);
}

static void
test_keys_passphrase_from_file(void **state)
{
	struct fx *f = *state;
	struct ls_err_ctx ctx = {{0}};
	char path[PATH_MAX], big[LS_PASSPHRASE_MAX + 2];
	char *p = NULL;

	path_in(f, "pass", path, sizeof(path));
	write_text(path, "file secret\nsecond line\n");
	get_ok(path, "file secret");
	write_text(path, "crlf secret\r\n");
	get_ok(path, "crlf secret");
	write_text(path, "no newline");
	get_ok(path, "no newline");
	write_text(path, "");
	get_ok(path, "");

	/* The file wins over the environment. */
	setenv(LS_PASSPHRASE_ENV, "env secret", 1);
	write_text(path, "file secret\n");
	get_ok(path, "file secret");

	/* Exactly the maximum, then one byte more. */
	memset(big, 'a', sizeof(big));
	big[LS_PASSPHRASE_MAX] = '\n';
	write_bytes(path, big, LS_PASSPHRASE_MAX + 1);
	big[LS_PASSPHRASE_MAX] = '\0';
	get_ok(path, big);
	big[LS_PASSPHRASE_MAX] = 'a';
	write_bytes(path, big, sizeof(big));
	assert_int_equal(ls_passphrase_get(path, NULL, false, &p, &ctx), LS_ERR_TOO_BIG);
	assert_null(p);
	assert_msg_names(&ctx, path);

	write_bytes(path, "a\0b\n", 4);
	assert_int_equal(ls_passphrase_get(path, NULL, false, &p, &ctx), LS_ERR_INVALID);
	assert_msg_names(&ctx, path);

	path_in(f, "missing", path, sizeof(path));
	assert_int_equal(ls_passphrase_get(path, NULL, false, &p, &ctx), LS_ERR_NOT_FOUND);
	assert_msg_names(&ctx, path);
	assert_null(p);
	ls_passphrase_free(&p);
	ls_passphrase_free(NULL);
}

static void
test_keys_passphrase_from_env(void **state)
{
	(void)state;
	setenv(LS_PASSPHRASE_ENV, "env secret", 1);
	setenv(LS_PASSPHRASE_NO_TTY_ENV, "1", 1);
	get_ok(NULL, "env secret");
}

static void
test_keys_passphrase_no_source(void **state)
{
	struct ls_err_ctx ctx = {{0}};
	char *p = NULL;

	(void)state;
	setenv(LS_PASSPHRASE_NO_TTY_ENV, "1", 1);
	assert_int_equal(ls_passphrase_get(NULL, NULL, false, &p, &ctx), LS_ERR_INVALID);
	assert_string_equal(
	    ctx.msg, "no passphrase: use --passphrase-file, LODESTONE_PASSPHRASE or a terminal");
	assert_null(p);
	/* An empty variable is no source either. */
	setenv(LS_PASSPHRASE_ENV, "", 1);
	assert_int_equal(ls_passphrase_get(NULL, NULL, true, &p, &ctx), LS_ERR_INVALID);
	assert_null(p);
}

/*
 * The terminal prompt, on a pseudo-terminal that a child process takes as its
 * controlling terminal. The parent plays the user: it waits for each prompt
 * (typing earlier would be flushed, as on a real terminal) and types a line.
 */
struct tty_result {
	int rc;
	char msg[LS_ERR_MSG_MAX];
	char pass[128];
};

static bool
wait_for(int master, const char *needle, char *seen, size_t cap, size_t *len)
{
	while (strstr(seen, needle) == NULL) {
		struct pollfd pfd = {.fd = master, .events = POLLIN};
		ssize_t r;
		if (poll(&pfd, 1, 5000) <= 0 || *len + 1 >= cap)
			return false;
		r = read(master, seen + *len, cap - 1 - *len);
		if (r <= 0)
			return false;
		*len += (size_t)r;
		seen[*len] = '\0';
	}
	return true;
}

static void
tty_session(bool confirm, const char *line1, const char *line2, struct tty_result *res, char *seen,
	    size_t cap)
{
	int master, pipefd[2], status;
	size_t len = 0;
	char name[128];
	pid_t pid;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0)
		skip();
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tty_result r;
		char *p = NULL;
		int slave;
		memset(&r, 0, sizeof(r));
		close(master);
		close(pipefd[0]);
		alarm(20);
		setsid();
		slave = open(name, O_RDWR);
		if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) != 0)
			_exit(3);
		unsetenv(LS_PASSPHRASE_ENV);
		unsetenv(LS_PASSPHRASE_NO_TTY_ENV);
		struct ls_err_ctx ctx = {{0}};
		r.rc = ls_passphrase_get(NULL, "PP: ", confirm, &p, &ctx);
		memcpy(r.msg, ctx.msg, sizeof(r.msg));
		if (p != NULL)
			snprintf(r.pass, sizeof(r.pass), "%s", p);
		ls_passphrase_free(&p);
		_exit(write(pipefd[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 4);
	}
	close(pipefd[1]);
	seen[0] = '\0';
	assert_true(wait_for(master, "PP: ", seen, cap, &len));
	assert_int_equal(write(master, line1, strlen(line1)), (ssize_t)strlen(line1));
	if (line2 != NULL) {
		assert_true(wait_for(master, "Repeat passphrase: ", seen, cap, &len));
		assert_int_equal(write(master, line2, strlen(line2)), (ssize_t)strlen(line2));
	}
	assert_int_equal(read(pipefd[0], res, sizeof(*res)), (ssize_t)sizeof(*res));
	/* Whatever else the child wrote to the terminal. */
	while (wait_for(master, "\x01", seen, cap, &len))
		;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pipefd[0]);
	close(master);
}

static void
test_keys_passphrase_from_tty(void **state)
{
	struct tty_result r;
	char seen[1024];

	(void)state;
	tty_session(false, "tty secret\n", NULL, &r, seen, sizeof(seen));
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.pass, "tty secret");
	assert_null(strstr(seen, "secret")); /* not echoed */

	/* Line editing: erase a character, kill the line. */
	tty_session(false,
		    "abx\x7f"
		    "c\n",
		    NULL, &r, seen, sizeof(seen));
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.pass, "abc");
	tty_session(false, "wrong\x15right\r", NULL, &r, seen, sizeof(seen));
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.pass, "right");

	/* Ctrl-C cancels (signals are off while reading), as does Ctrl-D. */
	tty_session(false, "abc\x03", NULL, &r, seen, sizeof(seen));
	assert_int_equal(r.rc, LS_ERR_INVALID);
	assert_string_equal(r.msg, "passphrase entry cancelled");
	tty_session(false, "\x04", NULL, &r, seen, sizeof(seen));
	assert_int_equal(r.rc, LS_ERR_INVALID);
}

static void
test_keys_passphrase_tty_confirm(void **state)
{
	struct tty_result r;
	char seen[1024];

	(void)state;
	tty_session(true, "same\n", "same\n", &r, seen, sizeof(seen));
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.pass, "same");
	tty_session(true, "same\n", "sane\n", &r, seen, sizeof(seen));
	assert_int_equal(r.rc, LS_ERR_INVALID);
	assert_string_equal(r.msg, "passphrases do not match");
	assert_string_equal(r.pass, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys_generate),
	    cmocka_unit_test_setup_teardown(test_keys_roundtrip_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_roundtrip_encrypted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_empty_passphrase_encrypts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_wrong_passphrase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_encrypted_needs_passphrase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_corrupt_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_corrupt_encrypted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_absurd_kdf_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_costs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_mismatched_halves, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_public_file_as_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_missing_or_unreadable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_file_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_refuse_overwrite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_save_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_pubkey_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_pubkey_file_corrupt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_pubkey_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_passphrase_from_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_passphrase_from_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_passphrase_no_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_passphrase_from_tty, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_passphrase_tty_confirm, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
