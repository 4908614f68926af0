/*
 * nodekey.c - the data directory and the node key.
 *
 * The node key is the daemon's transport identity (gossip authenticates
 * peers by it). It signs no record, and the daemon must start unattended,
 * so it is stored without a passphrase, readable by its owner only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "lodestoned.h"
#include "util.h"

/* mkdir -p, new directories mode 0700. */
static int
mkdirs(const char *dir, struct ls_err_ctx *ctx)
{
	char path[PATH_MAX];
	struct stat st;
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return ls_err_set(ctx, LS_ERR_INVALID, "data dir '%s': bad length", dir);
	memcpy(path, dir, n + 1);
	for (char *p = path + 1;; p++) {
		char c = *p;
		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return ls_err_set(ctx, LS_ERR_IO, "cannot create data dir '%s': %s", path,
					  strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) != 0)
		return ls_err_set(ctx, LS_ERR_IO, "data dir '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ls_err_set(ctx, LS_ERR_IO, "data dir '%s' is not a directory", dir);
	return 0;
}

int
lsd_datadir_make(struct lsd_config *c, struct ls_err_ctx *ctx)
{
	char *abs;
	struct stat st;
	int rc;

	if ((rc = mkdirs(c->data_dir, ctx)) != 0)
		return rc;
	if ((abs = realpath(c->data_dir, NULL)) == NULL)
		return ls_err_set(ctx, LS_ERR_IO, "data dir '%s': %s", c->data_dir,
				  strerror(errno));
	free(c->data_dir);
	c->data_dir = abs;
	if (stat(abs, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("data dir '%s' is accessible to other users (mode %03o)", abs,
			 (unsigned)(st.st_mode & 0777));
	return 0;
}

int
lsd_nodekey_open(const char *dir, struct ls_keypair **out, bool *created, struct ls_err_ctx *ctx)
{
	char path[PATH_MAX], pub[PATH_MAX];
	struct ls_keypair *kp = NULL;
	struct stat st;
	int rc;

	*out = NULL;
	*created = false;
	if ((size_t)snprintf(path, sizeof(path), "%s/node.key", dir) >= sizeof(path) ||
	    (size_t)snprintf(pub, sizeof(pub), "%s/node.key.pub", dir) >= sizeof(pub))
		return ls_err_set(ctx, LS_ERR_INVALID, "data dir '%s': path too long", dir);
	rc = ls_key_load(path, NULL, &kp, ctx);
	if (rc == LS_ERR_NOT_FOUND) {
		if ((rc = ls_key_generate(&kp)) != 0)
			return ls_err_set(ctx, rc, "cannot make the node key: %s", ls_strerror(rc));
		if ((rc = ls_key_save(kp, path, NULL, ctx)) != 0) {
			ls_key_free(&kp);
			return rc;
		}
		*created = true;
	} else if (rc == LS_ERR_INVALID) {
		return ls_err_set(ctx, rc,
				  "node key '%s' is encrypted: lodestoned needs a key without "
				  "passphrase (move it away to make a new one)",
				  path);
	} else if (rc != 0) {
		return rc;
	} else if (stat(pub, &st) != 0 && errno == ENOENT) {
		/* The public half is a convenience for operators: put it back. */
		if ((rc = ls_pubkey_save(pub, kp->pk, ctx)) != 0)
			log_warn("%s", ls_err_msg(ctx, rc));
	}
	*out = kp;
	return 0;
}

/* seed = BLAKE2b-256(key = the node secret seed, message = label), then the
 * Ed25519 key pair of that seed; secrets in locked memory only. */
static int
derive_one(const struct ls_keypair *node, const char *label, uint8_t **sk, uint8_t pk[32])
{
	uint8_t *seed = sodium_malloc(crypto_sign_SEEDBYTES);
	int rc = 0;

	*sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (seed == NULL || *sk == NULL) {
		rc = LS_ERR_NOMEM;
	} else if (crypto_generichash(seed, crypto_sign_SEEDBYTES, (const uint8_t *)label,
				      strlen(label), node->sk, crypto_sign_SEEDBYTES) != 0 ||
		   crypto_sign_seed_keypair(pk, *sk, seed) != 0) {
		rc = LS_ERR_CRYPTO;
	}
	if (seed != NULL)
		sodium_free(seed); /* wipes */
	if (rc != 0 && *sk != NULL) {
		sodium_free(*sk);
		*sk = NULL;
	}
	if (rc == 0)
		sodium_mprotect_readonly(*sk);
	return rc;
}

int
lsd_logkeys_derive(const struct ls_keypair *node, struct lsd_logkeys *out)
{
	char hex[2 * LS_KEY_LEN + 1], name[LS_NOTE_NAME_MAX];
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = derive_one(node, LSD_LOG_KEY_LABEL, &out->log_sk, out->log_pk)) != 0 ||
	    (rc = derive_one(node, LSD_WITNESS_KEY_LABEL, &out->wit_sk, out->wit_pk)) != 0)
		goto fail;
	ls_hex(out->log_pk, LS_KEY_LEN, hex);
	snprintf(out->origin, sizeof(out->origin), "lodestone/%.16s", hex);
	ls_hex(out->wit_pk, LS_KEY_LEN, hex);
	snprintf(name, sizeof(name), "lodestone-witness/%.16s", hex);
	if ((rc = ls_vkey_make(&out->log_vkey, out->origin, LS_NOTE_ED25519, out->log_pk)) != 0 ||
	    (rc = ls_vkey_make(&out->wit_vkey, name, LS_NOTE_COSIG, out->wit_pk)) != 0)
		goto fail;
	return 0;
fail:
	lsd_logkeys_free(out);
	return rc;
}

void
lsd_logkeys_free(struct lsd_logkeys *k)
{
	if (k == NULL)
		return;
	if (k->log_sk != NULL)
		sodium_free(k->log_sk);
	if (k->wit_sk != NULL)
		sodium_free(k->wit_sk);
	memset(k, 0, sizeof(*k));
}
