/*
 * fuzz_api.c - libFuzzer target for the API codec, the bytes a daemon takes
 * from any local client (ls_api_request_decode) and the bytes a client takes
 * from whatever listens on its socket (ls_api_response_decode).
 *
 * The first byte picks the decoder; the rest is the message. What decodes
 * must re-encode (or be refused by the encoder with an error, never a
 * crash), and the encoding must be a fixed point: decode(encode(m)) encodes
 * to the same bytes again.
 *
 * Build with `make fuzz`, run with
 *   build/fuzz/fuzz_api -max_total_time=60 build/fuzz/corpus-api tests/fuzz/corpus-api
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
request(const uint8_t *data, size_t size)
{
	struct ls_api_request a, b;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *e1 = NULL, *e2 = NULL;
	size_t l1 = 0, l2 = 0;
	int rc = ls_api_request_decode(data, size, &a, &ctx);

	if (rc != 0) {
		/* a refusal always says why */
		if (ctx.msg[0] == '\0' || ls_strerror(rc) == NULL)
			abort();
		return;
	}
	if (ls_api_request_encode(&a, &e1, &l1, NULL) == 0) {
		if (l1 > LS_API_REQUEST_MAX)
			abort();
		if (ls_api_request_decode(e1, l1, &b, NULL) != 0)
			abort();
		if (ls_api_request_encode(&b, &e2, &l2, NULL) != 0 || l1 != l2 ||
		    memcmp(e1, e2, l1) != 0)
			abort();
		ls_api_request_release(&b);
	}
	free(e1);
	free(e2);
	ls_api_request_release(&a);
}

static void
response(const uint8_t *data, size_t size)
{
	struct ls_api_response a, b;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *e1 = NULL, *e2 = NULL;
	size_t l1 = 0, l2 = 0;
	int rc = ls_api_response_decode(data, size, &a, &ctx);

	if (rc != 0) {
		if (ctx.msg[0] == '\0' || ls_strerror(rc) == NULL)
			abort();
		return;
	}
	if (ls_api_response_encode(&a, &e1, &l1, NULL) == 0) {
		if (ls_api_response_decode(e1, l1, &b, NULL) != 0)
			abort();
		if (ls_api_response_encode(&b, &e2, &l2, NULL) != 0 || l1 != l2 ||
		    memcmp(e1, e2, l1) != 0)
			abort();
		ls_api_response_release(&b);
	}
	free(e1);
	free(e2);
	ls_api_response_release(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		response(data + 1, size - 1);
	else
		request(data + 1, size - 1);
	return 0;
}

/* ---- seeds: one encoded request of each kind, a few responses ---- */

int LLVMFuzzerInitialize(int *argc, char ***argv);

static void
seed(const char *dir, const char *name, uint8_t which, const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		return;
	fputc(which, fp);
	fwrite(buf, 1, len, fp);
	fclose(fp);
}

static void
seed_request(const char *dir, const struct ls_api_request *req)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char name[64];

	if (ls_api_request_encode(req, &buf, &len, NULL) != 0)
		return;
	snprintf(name, sizeof(name), "req-%s", ls_api_kind_name(req->kind));
	seed(dir, name, 0, buf, len);
	free(buf);
}

static void
seed_response(const char *dir, const struct ls_api_response *resp, const char *name)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (ls_api_response_encode(resp, &buf, &len, NULL) != 0)
		return;
	seed(dir, name, 1, buf, len);
	free(buf);
}

static void
make_seeds(const char *dir)
{
	static const uint8_t env[] = {0x0a, 0x02, 0x08, 0x01, 0x12, 0x01, 0x00};
	const uint8_t *envs[1] = {env};
	const size_t lens[1] = {sizeof(env)};
	struct ls_api_request req;
	struct ls_api_response resp;
	uint8_t env_copy[sizeof(env)];

	memset(&req, 0, sizeof(req));
	req.kind = LS_API_SUBMIT;
	req.submit.n = 1;
	req.submit.envs = envs;
	req.submit.lens = lens;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_HEAD;
	memset(req.head.author, 0x11, sizeof(req.head.author));
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_GET;
	memset(req.get.id, 0x22, sizeof(req.get.id));
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_RESOLVE;
	req.resolve.name = "ore-1";
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_VERIFY;
	memset(req.verify.lot, 0x33, sizeof(req.verify.lot));
	memcpy(req.verify.destination, "DE", 3);
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_ORIGIN;
	memset(req.origin.lot, 0x44, sizeof(req.origin.lot));
	req.origin.has_from = true;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_TRACE;
	req.trace.down = true;
	req.stream = true;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_LOG;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_STATUS;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_BUNDLE;
	req.stream = true;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_HOLDINGS;
	req.holdings.limit = 10;
	req.holdings.has_after = true;
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_PROVE;
	req.prove.prefix = "0123456789abcdef";
	seed_request(dir, &req);
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_NEXT;
	req.next.cancel = true;
	seed_request(dir, &req);

	memset(&resp, 0, sizeof(resp));
	resp.error = LS_ERR_OVERLOADED;
	snprintf(resp.message, sizeof(resp.message), "daemon busy, try again");
	seed_response(dir, &resp, "resp-error");
	memset(&resp, 0, sizeof(resp));
	resp.kind = LS_API_HEAD;
	resp.head.seq = 7;
	resp.head.timestamp = 1748736000;
	seed_response(dir, &resp, "resp-head");
	memset(&resp, 0, sizeof(resp));
	memcpy(env_copy, env, sizeof(env));
	resp.kind = LS_API_GET;
	resp.get.env = env_copy;
	resp.get.len = sizeof(env_copy);
	seed_response(dir, &resp, "resp-get");
	memset(&resp, 0, sizeof(resp));
	resp.kind = LS_API_RESOLVE;
	memset(resp.resolve.id, 0x55, sizeof(resp.resolve.id));
	seed_response(dir, &resp, "resp-resolve");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The first argument that is not a flag is the corpus to write seeds
	 * into, if it is an empty directory. */
	for (int i = 1; i < *argc; i++) {
		const char *a = (*argv)[i];
		DIR *d;
		struct dirent *e;
		int n = 0;
		if (a[0] == '-')
			continue;
		if ((d = opendir(a)) == NULL)
			return 0;
		while ((e = readdir(d)) != NULL)
			if (e->d_name[0] != '.')
				n++;
		closedir(d);
		if (n == 0)
			make_seeds(a);
		return 0;
	}
	return 0;
}
