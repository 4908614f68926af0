/*
 * fuzz_policy.c - libFuzzer target for the policy file reader of `lodestone
 * policy publish` (client/policy.c, format in contrib/policies/README.md):
 * JSON an authority's staff write by hand. A file the reader accepts must
 * make records the record codec accepts too: each policy is signed with a
 * fixed key, and its envelope must decode and verify, so that the client
 * never signs what every daemon would refuse. A refusal is the usage exit.
 *
 * The reader's functions are static: this file includes client/policy.c,
 * and links the rest of the client (less main.o and policy.o).
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_policy -max_total_time=60 -close_fd_mask=2 build/fuzz/corpus-policy \
 *       tests/fuzz/corpus-policy
 */
#include "../../client/policy.c"

#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static uint8_t pk[32], sk[64];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cli c;
	static struct pfile f;
	int fd, rc;

	if (path[0] == '\0') {
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk,
					 (const uint8_t *)"fuzz_policy seed, 32 bytes long");
		snprintf(path, sizeof(path), "/tmp/fuzz_policy.%ld.json", (long)getpid());
		c.cmd = "policy publish";
	}
	if (size > 256 * 1024)
		return 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return 0;
	if (size > 0 && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	memset(&f, 0, sizeof(f));
	f.c = &c;
	f.path = path;
	rc = parse_file(&f);
	if (rc != CLI_OK && rc != CLI_USAGE)
		abort();
	for (size_t i = 0; rc == CLI_OK && i < f.n; i++) {
		struct ls_record *r = f.e[i].r, *back = NULL;
		uint8_t *env = NULL;
		size_t len = 0;
		struct ls_err_ctx ctx = {{0}};
		memcpy(r->author, pk, 32);
		r->seq = 1; /* each its own first record: prev is not what is fuzzed */
		r->timestamp = 1748736000;
		int step = 0;
		if ((step = 1, ls_record_sign(r, sk, &ctx)) != 0 ||
		    (step = 2, ls_record_envelope(r, &env, &len)) != 0 ||
		    (step = 3, ls_record_decode(env, len, &back, &ctx)) != 0 ||
		    (step = 4, ls_record_verify(back)) != 0) {
			fprintf(stderr, "fuzz_policy: accepted policy %zu refused (step %d): %s\n",
				i, step, ctx.msg);
			abort();
		}
		ls_record_free(back);
		free(env);
	}
	for (size_t i = 0; i < f.n; i++)
		ls_record_free(f.e[i].r);
	return 0;
}
