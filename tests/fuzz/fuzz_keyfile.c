/*
 * fuzz_keyfile.c - libFuzzer target for the key file loaders: a secret key
 * file (ls_key_load, ls_key_is_encrypted, ls_pubkey_load) and a public key
 * file (ls_pubkey_load_public), the files a user is handed or finds damaged.
 *
 * The first byte picks a mode. Raw: the rest is the file as it is. Fixed:
 * for a file of a secret key file's length, the harness rewrites the
 * checksum (and caps the Argon2id limits at libsodium's minimum, so one
 * run stays cheap), so that mutations reach the parsing past the checksum:
 * the kind, the limits, the secretbox, the key pair check. Every refusal
 * must say why; a key that loads must have the header's public key.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_keyfile -max_total_time=60 build/fuzz/corpus-keyfile tests/fuzz/corpus-keyfile
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PLAIN_LEN 117
#define ENC_LEN   189
#define SUM_LEN   16

static char path[64];

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int
write_file(const uint8_t *buf, size_t len)
{
	int fd;
	ssize_t w;

	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/fuzz_keyfile.%ld", (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return -1;
	w = len > 0 ? write(fd, buf, len) : 0;
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

static void
expect_refusal_says_why(int rc, const struct ls_err_ctx *ctx)
{
	if (rc != 0 && (ctx->msg[0] == '\0' || ls_strerror(rc) == NULL))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	uint8_t buf[ENC_LEN + 64];
	struct ls_keypair *kp = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t pk[32];
	bool enc;
	int rc;

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	if (size == 0 || size - 1 > sizeof(buf))
		return 0;
	memcpy(buf, data + 1, size - 1);
	size--;
	if ((data[0] & 1) && (size == PLAIN_LEN || size == ENC_LEN)) {
		if (size == ENC_LEN) {
			put_be64(buf + 37, crypto_pwhash_OPSLIMIT_MIN);
			put_be64(buf + 45, crypto_pwhash_MEMLIMIT_MIN);
		}
		crypto_generichash(buf + size - SUM_LEN, SUM_LEN, buf, size - SUM_LEN, NULL, 0);
	}
	if (write_file(buf, size) != 0)
		return 0;

	rc = ls_key_load(path, "fuzz", &kp, &ctx);
	expect_refusal_says_why(rc, &ctx);
	if ((rc == 0) != (kp != NULL))
		abort();
	memset(&ctx, 0, sizeof(ctx));
	if (ls_pubkey_load(path, pk, &ctx) == 0) {
		/* a loaded key is the key of the header the public key is read from */
		uint8_t derived[32];
		if (kp != NULL && (memcmp(pk, kp->pk, 32) != 0 ||
				   crypto_sign_ed25519_sk_to_pk(derived, kp->sk) != 0 ||
				   memcmp(derived, kp->pk, 32) != 0))
			abort();
	} else {
		expect_refusal_says_why(-1, &ctx);
		if (kp != NULL) /* what loads as a secret key yields its public key */
			abort();
	}
	ls_key_free(&kp);
	memset(&ctx, 0, sizeof(ctx));
	rc = ls_key_is_encrypted(path, &enc, &ctx);
	expect_refusal_says_why(rc, &ctx);
	memset(&ctx, 0, sizeof(ctx));
	rc = ls_pubkey_load_public(path, pk, &ctx);
	expect_refusal_says_why(rc, &ctx);
	return 0;
}
