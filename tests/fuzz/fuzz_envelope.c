/*
 * fuzz_envelope.c - libFuzzer target for the untrusted-bytes entry points of
 * the record codec: ls_record_decode (and ls_record_verify when it decodes)
 * and ls_bundle_decode / ls_bundle_evidence (and the decode of every envelope
 * in a bundle and in its evidence pairs).
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_envelope -max_total_time=60 build/fuzz/corpus
 * The first run writes a few valid envelopes and a bundle into the corpus
 * directory given (seed inputs) when it is empty: see LLVMFuzzerInitialize.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_one(const uint8_t *data, size_t size)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r = NULL;
	int rc = ls_record_decode(data, size, &r, &ctx);

	if (rc == 0) {
		uint8_t *env = NULL;
		size_t len = 0;
		if (r == NULL)
			abort();
		(void)ls_record_verify(r);
		/* What decodes re-encodes to the same envelope bytes' body. */
		if (ls_record_envelope(r, &env, &len) == 0) {
			struct ls_record *again = NULL;
			if (ls_record_decode(env, len, &again, NULL) != 0 ||
			    again->body_len != r->body_len ||
			    memcmp(again->body, r->body, r->body_len) != 0 ||
			    memcmp(again->id, r->id, LS_ID_LEN) != 0)
				abort();
			ls_record_free(again);
			free(env);
		}
		ls_record_free(r);
	} else if (r != NULL || ctx.msg[0] == '\0' || ls_strerror(rc) == NULL) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0;

	check_one(data, size);
	if (ls_bundle_decode(data, size, 64, &envs, &lens, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (envs[i] < data || lens[i] > size || envs[i] + lens[i] > data + size)
				abort();
			check_one(envs[i], lens[i]);
		}
	} else if (envs != NULL || lens != NULL || n != 0) {
		abort();
	}
	free(envs);
	free(lens);
	{
		struct ls_bundle_evidence *ev = NULL;
		if (ls_bundle_evidence(data, size, 16, &ev, &n, NULL) == 0) {
			for (size_t i = 0; i < n; i++) {
				if (ev[i].a < data || ev[i].a + ev[i].la > data + size ||
				    ev[i].b < data || ev[i].b + ev[i].lb > data + size)
					abort();
				check_one(ev[i].a, ev[i].la);
				check_one(ev[i].b, ev[i].lb);
			}
		} else if (ev != NULL) {
			abort();
		}
		free(ev);
	}
	return 0;
}

/* ---- seeds ---- */

static void
write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		return;
	fwrite(buf, 1, len, fp);
	fclose(fp);
}

/* Signs r with a fresh key as seq 1, returns its envelope (malloc'd). */
static uint8_t *
seal(struct ls_record *r, const uint8_t pk[32], const uint8_t sk[64], size_t *len)
{
	uint8_t *env = NULL;

	memcpy(r->author, pk, 32);
	r->seq = 1;
	r->timestamp = 1748736000;
	if (ls_record_sign(r, sk, NULL) != 0 || ls_record_envelope(r, &env, len) != 0)
		return NULL;
	return env;
}

static void
make_seeds(const char *dir)
{
	uint8_t pk[32], sk[64], *envs[4] = {NULL, NULL, NULL, NULL}, *bundle = NULL;
	size_t lens[4] = {0, 0, 0, 0}, blen = 0;
	struct ls_record *r[4];

	crypto_sign_keypair(pk, sk);
	r[0] = ls_record_new(LS_REC_CERTIFICATE);
	r[1] = ls_record_new(LS_REC_LOT);
	r[2] = ls_record_new(LS_REC_TRANSFER);
	r[3] = ls_record_new(LS_REC_RECEIPT);
	if (r[0] == NULL || r[1] == NULL || r[2] == NULL || r[3] == NULL)
		goto out;
	memset(r[0]->certificate.subject, 7, 32);
	r[0]->certificate.org = ls_record_strdup(r[0], "Seed Org");
	memcpy(r[0]->certificate.country, "CN", 3);
	r[0]->certificate.roles = LS_ROLE_MINER;
	r[1]->lot.lot.label = ls_record_strdup(r[1], "ore-1");
	r[1]->lot.lot.category = ls_record_strdup(r[1], "ore");
	r[1]->lot.lot.grams = 1000000;
	ls_comp_parse("Nd=300000,Dy=50000", &r[1]->lot.lot.comp, NULL);
	r[1]->lot.site = ls_record_strdup(r[1], "Bayan Obo");
	memcpy(r[1]->lot.country, "CN", 3);
	r[2]->transfer.has_lot = true;
	memset(r[2]->transfer.lot, 1, 32);
	r[2]->transfer.grams = 500;
	r[2]->transfer.tech = ls_record_strdup(r[2], "");
	memset(r[2]->transfer.to, 2, 32);
	memset(r[2]->transfer.to_cert, 3, 32);
	r[2]->transfer.end_use = ls_record_strdup(r[2], "motors");
	r[2]->transfer.description = ls_record_strdup(r[2], "");
	memset(r[3]->receipt.transfer, 4, 32);
	r[3]->receipt.grams = 500;
	for (int i = 0; i < 4; i++) {
		char name[32];
		if ((envs[i] = seal(r[i], pk, sk, &lens[i])) == NULL)
			goto out;
		snprintf(name, sizeof(name), "seed-%d", i);
		write_file(dir, name, envs[i], lens[i]);
	}
	if (ls_bundle_encode((const uint8_t *const *)envs, lens, 4, NULL, &bundle, &blen) == 0)
		write_file(dir, "seed-bundle", bundle, blen);
out:
	for (int i = 0; i < 4; i++) {
		ls_record_free(r[i]);
		free(envs[i]);
	}
	free(bundle);
}

/* Seeds the first corpus directory named on the command line when it is
 * empty (or missing). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (sodium_init() < 0)
		return 0;
	for (int i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];
		DIR *d;
		struct dirent *e;
		bool empty = true;
		if (a[0] == '-')
			continue;
		mkdir(a, 0755);
		if ((d = opendir(a)) == NULL)
			return 0;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				empty = false;
		closedir(d);
		if (empty)
			make_seeds(a);
		break;
	}
	return 0;
}
