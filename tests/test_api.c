/*
 * test_api.c - the API codec and client: encode/decode round trips of every
 * request and response, malformed, truncated, random and oversized bytes,
 * the client's failure modes (no daemon, stale socket, timeout), and, when
 * the daemon binary has been built beside this test, a live lodestoned:
 * every request kind, paging, concurrent clients sharing commits, bad
 * requests on the wire, restart, a stale socket after a crash and a second
 * daemon on the same directory; and its reader pool: a submission answered
 * while a query is held, a full pool refused as busy, a stop with queries
 * in flight, many readers answering as one.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "err.h"
#include "helper_fixture.h"
#include "keyfile.h"
#include "reason.h"
#include "record.h"
#include "util.h"
#include "verify.h"

/* ---- helpers ---- */

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
req_roundtrip(const struct ls_api_request *in, struct ls_api_request *out)
{
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ls_api_request_encode(in, &buf, &len, &ctx);
	if (rc != 0)
		fail_msg("encode: %s", ls_err_msg(&ctx, rc));
	assert_true(len <= LS_API_REQUEST_MAX);
	rc = ls_api_request_decode(buf, len, out, &ctx);
	if (rc != 0)
		fail_msg("decode: %s", ls_err_msg(&ctx, rc));
	assert_int_equal(out->kind, in->kind);
	free(buf);
}

static void
resp_roundtrip(const struct ls_api_response *in, struct ls_api_response *out)
{
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = ls_api_response_encode(in, &buf, &len, &ctx);
	if (rc != 0)
		fail_msg("encode: %s", ls_err_msg(&ctx, rc));
	rc = ls_api_response_decode(buf, len, out, &ctx);
	if (rc != 0)
		fail_msg("decode: %s", ls_err_msg(&ctx, rc));
	assert_int_equal(out->kind, in->kind);
	assert_int_equal(out->error, in->error);
	free(buf);
}

static int
req_decode_raw(const void *buf, size_t len)
{
	struct ls_api_request req;
	int rc = ls_api_request_decode(buf, len, &req, NULL);

	ls_api_request_release(&req);
	return rc;
}

static int
resp_decode_raw(const void *buf, size_t len)
{
	struct ls_api_response resp;
	int rc = ls_api_response_decode(buf, len, &resp, NULL);

	ls_api_response_release(&resp);
	return rc;
}

/* Encodes resp and returns the decode result of the bytes. */
static int
resp_encode_decode(const struct ls_api_response *resp)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	assert_int_equal(ls_api_response_encode(resp, &buf, &len, NULL), 0);
	rc = resp_decode_raw(buf, len);
	free(buf);
	return rc;
}

/* ---- requests ---- */

static void
test_api_request_roundtrip(void **state)
{
	struct ls_api_request in, out;
	uint8_t e0[100], e1[LS_ENVELOPE_MAX];
	const uint8_t *envs[2] = {e0, e1};
	size_t lens[2] = {sizeof(e0), sizeof(e1)};

	(void)state;
	fill(e0, sizeof(e0), 1);
	fill(e1, sizeof(e1), 2);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_SUBMIT;
	in.submit.n = 2;
	in.submit.envs = envs;
	in.submit.lens = lens;
	req_roundtrip(&in, &out);
	assert_int_equal(out.submit.n, 2);
	assert_int_equal(out.submit.lens[0], sizeof(e0));
	assert_int_equal(out.submit.lens[1], sizeof(e1));
	assert_memory_equal(out.submit.envs[0], e0, sizeof(e0));
	assert_memory_equal(out.submit.envs[1], e1, sizeof(e1));
	ls_api_request_release(&out);
	assert_null(out.owned);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_HEAD;
	fill(in.head.author, LS_KEY_LEN, 3);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.head.author, in.head.author, LS_KEY_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_GET;
	fill(in.get.id, LS_ID_LEN, 4);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.get.id, in.get.id, LS_ID_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_RESOLVE;
	in.resolve.kind = LS_RESOLVE_LICENSE;
	in.resolve.name = "EXP-2025-0042";
	req_roundtrip(&in, &out);
	assert_int_equal(out.resolve.kind, LS_RESOLVE_LICENSE);
	assert_string_equal(out.resolve.name, "EXP-2025-0042");
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_CERT_OF;
	fill(in.cert_of.key, LS_KEY_LEN, 5);
	in.cert_of.time = FX_T0;
	req_roundtrip(&in, &out);
	assert_memory_equal(out.cert_of.key, in.cert_of.key, LS_KEY_LEN);
	assert_int_equal(out.cert_of.time, FX_T0);
	ls_api_request_release(&out);

	/* provenance only: nothing optional */
	memset(&in, 0, sizeof(in));
	in.kind = LS_API_VERIFY;
	fill(in.verify.lot, LS_ID_LEN, 6);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.verify.lot, in.verify.lot, LS_ID_LEN);
	assert_false(out.verify.has_from);
	assert_false(out.verify.has_end_user);
	assert_false(out.verify.has_license);
	assert_string_equal(out.verify.destination, "");
	assert_null(out.verify.end_use);
	assert_int_equal(out.verify.time, 0);
	ls_api_request_release(&out);

	/* export check: everything */
	in.verify.has_from = true;
	fill(in.verify.from, LS_KEY_LEN, 7);
	memcpy(in.verify.destination, "US", 3);
	in.verify.has_end_user = true;
	fill(in.verify.end_user, LS_KEY_LEN, 8);
	in.verify.end_use = "military";
	in.verify.time = FX_T0 + FX_DAY;
	in.verify.has_license = true;
	fill(in.verify.license, LS_ID_LEN, 9);
	req_roundtrip(&in, &out);
	assert_true(out.verify.has_from);
	assert_memory_equal(out.verify.from, in.verify.from, LS_KEY_LEN);
	assert_string_equal(out.verify.destination, "US");
	assert_true(out.verify.has_end_user);
	assert_memory_equal(out.verify.end_user, in.verify.end_user, LS_KEY_LEN);
	assert_string_equal(out.verify.end_use, "military");
	assert_int_equal(out.verify.time, FX_T0 + FX_DAY);
	assert_true(out.verify.has_license);
	assert_memory_equal(out.verify.license, in.verify.license, LS_ID_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_ORIGIN;
	fill(in.origin.lot, LS_ID_LEN, 10);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.origin.lot, in.origin.lot, LS_ID_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_TRACE;
	fill(in.trace.lot, LS_ID_LEN, 11);
	in.trace.down = true;
	req_roundtrip(&in, &out);
	assert_memory_equal(out.trace.lot, in.trace.lot, LS_ID_LEN);
	assert_true(out.trace.down);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_HOLDINGS;
	fill(in.holdings.holder, LS_KEY_LEN, 21);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.holdings.holder, in.holdings.holder, LS_KEY_LEN);
	assert_int_equal(out.holdings.limit, 0);
	assert_false(out.holdings.has_after);
	ls_api_request_release(&out);
	in.holdings.limit = 5000; /* capped at LS_HOLDINGS_MAX */
	in.holdings.has_after = true;
	fill(in.holdings.after, LS_ID_LEN, 22);
	req_roundtrip(&in, &out);
	assert_int_equal(out.holdings.limit, LS_HOLDINGS_MAX);
	assert_true(out.holdings.has_after);
	assert_memory_equal(out.holdings.after, in.holdings.after, LS_ID_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_LOG;
	in.log.has_author = true;
	fill(in.log.author, LS_KEY_LEN, 12);
	in.log.type = LS_REC_TRANSFER;
	in.log.since = FX_T0;
	in.log.limit = 17;
	in.log.after_pos = 12345;
	req_roundtrip(&in, &out);
	assert_true(out.log.has_author);
	assert_memory_equal(out.log.author, in.log.author, LS_KEY_LEN);
	assert_int_equal(out.log.type, LS_REC_TRANSFER);
	assert_int_equal(out.log.since, FX_T0);
	assert_int_equal(out.log.limit, 17);
	assert_int_equal(out.log.after_pos, 12345);
	ls_api_request_release(&out);

	/* a limit over the page size is capped by the encoder */
	in.log.limit = 1000000;
	req_roundtrip(&in, &out);
	assert_int_equal(out.log.limit, LS_API_LOG_PAGE_MAX);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_STATUS;
	req_roundtrip(&in, &out);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_BUNDLE;
	fill(in.bundle.lot, LS_ID_LEN, 13);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.bundle.lot, in.bundle.lot, LS_ID_LEN);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_CHECKPOINT;
	req_roundtrip(&in, &out);
	ls_api_request_release(&out);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_PROVE;
	fill(in.prove.id, LS_ID_LEN, 14);
	req_roundtrip(&in, &out);
	assert_memory_equal(out.prove.id, in.prove.id, LS_ID_LEN);
	assert_null(out.prove.prefix);
	ls_api_request_release(&out);
	in.prove.prefix = "0a1B2c3D";
	req_roundtrip(&in, &out);
	assert_string_equal(out.prove.prefix, "0a1B2c3D");
	ls_api_request_release(&out);
	/* a prefix that is not one is refused before it is sent */
	{
		const char *bad[] = {"0a1b2c3", "0a1b2c3g", ""};
		uint8_t *buf = NULL;
		size_t len;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			in.prove.prefix = bad[i];
			assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL),
					 LS_ERR_INVALID);
		}
	}

	/* release is NULL-safe and idempotent */
	ls_api_request_release(NULL);
	ls_api_request_release(&out);
}

static void
test_api_request_encode_invalid(void **state)
{
	struct ls_api_request in;
	struct ls_err_ctx ctx = {{0}};
	uint8_t e[8] = {1}, *buf = NULL;
	const uint8_t *envs[1] = {e};
	size_t lens[1] = {LS_ENVELOPE_MAX + 1}, len;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.kind = LS_API_SUBMIT;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, &ctx), LS_ERR_INVALID);
	in.submit.n = LS_API_SUBMIT_MAX + 1;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, &ctx), LS_ERR_INVALID);
	in.submit.n = 1;
	in.submit.envs = envs;
	in.submit.lens = lens;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "envelope 0"));

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_RESOLVE;
	in.resolve.kind = LS_RESOLVE_LOT;
	in.resolve.name = "";
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);
	in.resolve.name = "bad\nname";
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);
	in.resolve.name = "ok";
	in.resolve.kind = (enum ls_resolve_kind)9;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_VERIFY;
	memcpy(in.verify.destination, "us", 3);
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);

	memset(&in, 0, sizeof(in));
	in.kind = LS_API_NONE;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);
	in.kind = LS_API_KIND_COUNT;
	assert_int_equal(ls_api_request_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);
	assert_null(buf);
}

/* Appends a protobuf varint. */
static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Appends a length-delimited field. */
static size_t
put_bytes(uint8_t *p, unsigned field, const void *data, size_t len)
{
	size_t n = put_varint(p, (uint64_t)field << 3 | 2);

	n += put_varint(p + n, len);
	if (len)
		memcpy(p + n, data, len);
	return n + len;
}

static void
test_api_request_malformed(void **state)
{
	struct ls_api_request req;
	struct ls_err_ctx ctx = {{0}};
	uint8_t buf[256], inner[64], key[LS_KEY_LEN] = {0};
	size_t n, m;

	(void)state;
	assert_int_equal(ls_api_request_decode(NULL, 0, &req, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(req_decode_raw("\xff\xff\xff\xff", 4), LS_ERR_MALFORMED);
	assert_int_equal(req_decode_raw("\x08", 1), LS_ERR_MALFORMED);

	/* version 2 of a status request */
	n = put_varint(buf, 1 << 3);
	n += put_varint(buf + n, 2);
	n += put_bytes(buf + n, 19, NULL, 0);
	assert_int_equal(ls_api_request_decode(buf, n, &req, &ctx), LS_ERR_VERSION);
	assert_non_null(strstr(ctx.msg, "version 2"));

	/* version 1 and no kind; version 1 and a kind from the future */
	n = put_varint(buf, 1 << 3);
	n += put_varint(buf + n, 1);
	assert_int_equal(req_decode_raw(buf, n), LS_ERR_MALFORMED);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 99, NULL, 0)),
			 LS_ERR_MALFORMED);
	/* the well-formed status request decodes */
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 19, NULL, 0)), 0);

	/* prove: with both id and prefix, with neither, with a bad prefix */
	m = put_bytes(inner, 1, key, LS_KEY_LEN);
	m += put_bytes(inner + m, 2, "0a1b2c3d", 8);
	assert_int_equal(
	    ls_api_request_decode(buf, n + put_bytes(buf + n, 23, inner, m), &req, &ctx),
	    LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "exactly one of id and prefix"));
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 23, NULL, 0)),
			 LS_ERR_MALFORMED);
	m = put_bytes(inner, 2, "0a1b2c3z", 8);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 23, inner, m)),
			 LS_ERR_MALFORMED);
	m = put_bytes(inner, 2, "0a1b2c3d", 8);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 23, inner, m)), 0);

	/* head with a 31-byte author, then without one */
	m = put_bytes(inner, 1, key, 31);
	assert_int_equal(
	    ls_api_request_decode(buf, n + put_bytes(buf + n, 11, inner, m), &req, &ctx),
	    LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "head author"));
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 11, NULL, 0)),
			 LS_ERR_MALFORMED);

	/* resolve of kind 7 and of an empty name */
	m = put_varint(inner, 1 << 3);
	m += put_varint(inner + m, 7);
	m += put_bytes(inner + m, 2, "x", 1);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 13, inner, m)),
			 LS_ERR_MALFORMED);
	m = put_varint(inner, 1 << 3);
	m += put_varint(inner + m, 1);
	m += put_bytes(inner + m, 2, "", 0);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 13, inner, m)),
			 LS_ERR_MALFORMED);

	/* verify to a lower-case country */
	m = put_bytes(inner, 1, key, LS_ID_LEN);
	m += put_bytes(inner + m, 3, "us", 2);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 15, inner, m)),
			 LS_ERR_MALFORMED);

	/* log of an unknown record type */
	m = put_bytes(inner, 2, "gizmo", 5);
	assert_int_equal(
	    ls_api_request_decode(buf, n + put_bytes(buf + n, 18, inner, m), &req, &ctx),
	    LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "gizmo"));

	/* submit without envelopes, and with an empty one */
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 10, NULL, 0)),
			 LS_ERR_MALFORMED);
	m = put_bytes(inner, 1, NULL, 0);
	assert_int_equal(req_decode_raw(buf, n + put_bytes(buf + n, 10, inner, m)),
			 LS_ERR_MALFORMED);
}

static void
test_api_request_oversized(void **state)
{
	struct ls_api_request req;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *big, *inner, *p;
	size_t n, m;

	(void)state;
	/* refused on the size alone, before a byte is read */
	big = calloc(1, LS_API_REQUEST_MAX + 1);
	assert_non_null(big);
	assert_int_equal(ls_api_request_decode(big, LS_API_REQUEST_MAX + 1, &req, &ctx),
			 LS_ERR_TOO_BIG);
	free(big);

	/* 1025 one-byte envelopes */
	inner = malloc(4 * (LS_API_SUBMIT_MAX + 1));
	p = malloc(4 * (LS_API_SUBMIT_MAX + 1) + 16);
	assert_non_null(inner);
	assert_non_null(p);
	m = 0;
	for (int i = 0; i < LS_API_SUBMIT_MAX + 1; i++)
		m += put_bytes(inner + m, 1, "x", 1);
	n = put_varint(p, 1 << 3);
	n += put_varint(p + n, 1);
	n += put_bytes(p + n, 10, inner, m);
	assert_int_equal(ls_api_request_decode(p, n, &req, &ctx), LS_ERR_TOO_BIG);
	free(inner);
	free(p);

	/* one envelope over LS_ENVELOPE_MAX */
	inner = calloc(1, LS_ENVELOPE_MAX + 16);
	p = calloc(1, LS_ENVELOPE_MAX + 32);
	assert_non_null(inner);
	assert_non_null(p);
	m = put_bytes(inner, 1, p, LS_ENVELOPE_MAX + 1);
	n = put_varint(p, 1 << 3);
	n += put_varint(p + n, 1);
	n += put_bytes(p + n, 10, inner, m);
	assert_int_equal(ls_api_request_decode(p, n, &req, &ctx), LS_ERR_TOO_BIG);
	free(inner);
	free(p);
}

/* ---- responses ---- */

static void
test_api_response_roundtrip(void **state)
{
	struct ls_api_response in, out;
	struct ls_ingest_result res[4];
	struct ls_verdict_reason reasons[2];
	struct ls_origin_part country[2] = {{"CN", 700}, {"MM", 300}};
	struct ls_origin_part mine[1] = {{"Bayan Obo", 1000}};
	struct ls_origin_part proc[1] = {{"JP", 1000}};
	struct ls_origin_elem elems[1];
	struct ls_trace_node nodes[2];
	struct ls_trace_edge edges[1];
	struct ls_trace_transfer transfers[1];
	struct ls_holding hold[1];
	struct ls_flow flows[2];
	struct ls_api_log_entry entries[2];
	struct ls_api_peer peers[1];
	uint8_t env[50], bundle[300];

	(void)state;
	ls_api_response_init(&in);
	memset(res, 0, sizeof(res));
	res[0].status = LS_INGEST_ACCEPTED;
	res[0].has_id = true;
	fill(res[0].id, LS_ID_LEN, 1);
	res[0].type = LS_REC_LOT;
	res[1].status = LS_INGEST_REJECTED;
	res[1].reason = LS_R_OVERSPEND;
	res[1].has_id = true;
	fill(res[1].id, LS_ID_LEN, 2);
	res[1].type = LS_REC_TRANSFER;
	snprintf(res[1].message, sizeof(res[1].message), "transfer: 5 g over what is held");
	res[2].status = LS_INGEST_REJECTED;
	res[2].reason = LS_R_MALFORMED;
	snprintf(res[2].message, sizeof(res[2].message), "envelope does not decode");
	res[3].status = LS_INGEST_REJECTED;
	res[3].reason = LS_R_DEP_REJECTED;
	res[3].has_id = true;
	fill(res[3].id, LS_ID_LEN, 4);
	res[3].type = LS_REC_RECEIPT;
	res[3].has_missing = true;
	fill(res[3].missing, LS_ID_LEN, 2);
	in.kind = LS_API_SUBMIT;
	in.submit.n = 4;
	in.submit.results = res;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.submit.n, 4);
	assert_int_equal(out.submit.results[0].status, LS_INGEST_ACCEPTED);
	assert_true(out.submit.results[0].has_id);
	assert_memory_equal(out.submit.results[0].id, res[0].id, LS_ID_LEN);
	assert_int_equal(out.submit.results[0].type, LS_REC_LOT);
	assert_int_equal(out.submit.results[0].reason, LS_R_OK);
	assert_int_equal(out.submit.results[1].status, LS_INGEST_REJECTED);
	assert_int_equal(out.submit.results[1].reason, LS_R_OVERSPEND);
	assert_int_equal(out.submit.results[1].type, LS_REC_TRANSFER);
	assert_string_equal(out.submit.results[1].message, res[1].message);
	assert_false(out.submit.results[2].has_id);
	assert_int_equal(out.submit.results[2].type, LS_REC_NONE);
	assert_int_equal(out.submit.results[2].reason, LS_R_MALFORMED);
	assert_false(out.submit.results[1].has_missing);
	/* dependency-rejected names the refused record it depends on */
	assert_int_equal(out.submit.results[3].reason, LS_R_DEP_REJECTED);
	assert_string_equal(ls_reason_code(out.submit.results[3].reason), "dependency-rejected");
	assert_true(out.submit.results[3].has_missing);
	assert_memory_equal(out.submit.results[3].missing, res[3].missing, LS_ID_LEN);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	in.kind = LS_API_HEAD;
	in.head.seq = 42;
	fill(in.head.id, LS_ID_LEN, 3);
	in.head.timestamp = FX_T0;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.head.seq, 42);
	assert_memory_equal(out.head.id, in.head.id, LS_ID_LEN);
	assert_int_equal(out.head.timestamp, FX_T0);
	ls_api_response_release(&out);
	in.head.seq = 0; /* no record: id and time are not sent */
	resp_roundtrip(&in, &out);
	assert_int_equal(out.head.seq, 0);
	assert_int_equal(out.head.timestamp, 0);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	fill(env, sizeof(env), 4);
	in.kind = LS_API_GET;
	in.get.env = env;
	in.get.len = sizeof(env);
	resp_roundtrip(&in, &out);
	assert_int_equal(out.get.len, sizeof(env));
	assert_memory_equal(out.get.env, env, sizeof(env));
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	in.kind = LS_API_RESOLVE;
	fill(in.resolve.id, LS_ID_LEN, 5);
	resp_roundtrip(&in, &out);
	assert_memory_equal(out.resolve.id, in.resolve.id, LS_ID_LEN);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	in.kind = LS_API_CERT_OF;
	fill(in.cert_of.cert, LS_ID_LEN, 6);
	resp_roundtrip(&in, &out);
	assert_memory_equal(out.cert_of.cert, in.cert_of.cert, LS_ID_LEN);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	memset(reasons, 0, sizeof(reasons));
	reasons[0].code = LS_R_NO_LICENSE;
	snprintf(reasons[0].message, sizeof(reasons[0].message), "no license for US");
	reasons[0].n_ids = 2;
	fill(reasons[0].ids[0], LS_ID_LEN, 7);
	fill(reasons[0].ids[1], LS_ID_LEN, 8);
	reasons[1].code = LS_R_DE_MINIMIS;
	in.kind = LS_API_VERIFY;
	in.verify.kind = LS_V_LICENSE_REQUIRED;
	in.verify.n = 2;
	in.verify.reasons = reasons;
	in.verify.ancestors = 9;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.verify.kind, LS_V_LICENSE_REQUIRED);
	assert_int_equal(out.verify.n, 2);
	assert_int_equal(out.verify.ancestors, 9);
	assert_int_equal(out.verify.reasons[0].code, LS_R_NO_LICENSE);
	assert_string_equal(out.verify.reasons[0].message, "no license for US");
	assert_int_equal(out.verify.reasons[0].n_ids, 2);
	assert_memory_equal(out.verify.reasons[0].ids[1], reasons[0].ids[1], LS_ID_LEN);
	assert_int_equal(out.verify.reasons[1].code, LS_R_DE_MINIMIS);
	assert_int_equal(out.verify.reasons[1].n_ids, 0);
	ls_api_response_release(&out);
	for (int k = LS_V_VALID; k <= LS_V_DENIED; k++) {
		in.verify.kind = (enum ls_verdict_kind)k;
		in.verify.n = 0;
		resp_roundtrip(&in, &out);
		assert_int_equal(out.verify.kind, k);
		assert_null(out.verify.reasons);
		ls_api_response_release(&out);
	}

	ls_api_response_init(&in);
	memset(elems, 0, sizeof(elems));
	elems[0].z = 66;
	elems[0].grams = 1000;
	elems[0].n_country = 2;
	elems[0].by_country = country;
	elems[0].n_mine = 1;
	elems[0].by_mine = mine;
	elems[0].n_processing = 1;
	elems[0].by_processing = proc;
	in.kind = LS_API_ORIGIN;
	fill(in.origin.lot, LS_ID_LEN, 9);
	in.origin.n = 1;
	in.origin.elems = elems;
	resp_roundtrip(&in, &out);
	assert_memory_equal(out.origin.lot, in.origin.lot, LS_ID_LEN);
	assert_int_equal(out.origin.n, 1);
	assert_int_equal(out.origin.elems[0].z, 66);
	assert_int_equal(out.origin.elems[0].grams, 1000);
	assert_int_equal(out.origin.elems[0].n_country, 2);
	assert_string_equal(out.origin.elems[0].by_country[1].name, "MM");
	assert_int_equal(out.origin.elems[0].by_country[1].grams, 300);
	assert_string_equal(out.origin.elems[0].by_mine[0].name, "Bayan Obo");
	assert_string_equal(out.origin.elems[0].by_processing[0].name, "JP");
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	memset(nodes, 0, sizeof(nodes));
	memset(edges, 0, sizeof(edges));
	memset(transfers, 0, sizeof(transfers));
	fill(nodes[0].id, LS_ID_LEN, 10);
	snprintf(nodes[0].label, sizeof(nodes[0].label), "ore-1");
	snprintf(nodes[0].category, sizeof(nodes[0].category), "ore");
	nodes[0].grams = 1000000;
	memcpy(nodes[0].country, "CN", 3);
	fill(nodes[0].holder, LS_KEY_LEN, 11);
	fill(nodes[0].record, LS_ID_LEN, 18);
	nodes[0].transformed = true;
	fill(nodes[1].id, LS_ID_LEN, 12); /* a node with nothing but its id */
	fill(edges[0].from, LS_ID_LEN, 10);
	fill(edges[0].to, LS_ID_LEN, 12);
	fill(edges[0].record, LS_ID_LEN, 13);
	edges[0].grams = 5000;
	fill(edges[0].by, LS_KEY_LEN, 19);
	edges[0].held = true;
	edges[0].repeat = true;
	fill(transfers[0].lot, LS_ID_LEN, 12);
	fill(transfers[0].record, LS_ID_LEN, 14);
	fill(transfers[0].from, LS_KEY_LEN, 15);
	fill(transfers[0].to, LS_KEY_LEN, 16);
	transfers[0].grams = 100;
	transfers[0].from_maker = true;
	memcpy(transfers[0].from_country, "CN", 3);
	memcpy(transfers[0].to_country, "DE", 3);
	transfers[0].has_license = true;
	fill(transfers[0].license, LS_ID_LEN, 20);
	snprintf(transfers[0].license_number, sizeof(transfers[0].license_number), "CN-LIC-7");
	transfers[0].received = true;
	fill(transfers[0].receipt, LS_ID_LEN, 17);
	transfers[0].received_grams = 70;
	transfers[0].returned_grams = 30;
	transfers[0].taken_back = true;
	transfers[0].taken_back_grams = 20;
	snprintf(transfers[0].reason, sizeof(transfers[0].reason), "wet");
	snprintf(transfers[0].loss_reason, sizeof(transfers[0].loss_reason), "spilled");
	in.kind = LS_API_TRACE;
	in.trace.n_nodes = 2;
	in.trace.nodes = nodes;
	in.trace.n_edges = 1;
	in.trace.edges = edges;
	in.trace.n_transfers = 1;
	in.trace.transfers = transfers;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.trace.n_nodes, 2);
	assert_memory_equal(&out.trace.nodes[0], &nodes[0], sizeof(nodes[0]));
	assert_memory_equal(&out.trace.nodes[1], &nodes[1], sizeof(nodes[1]));
	assert_int_equal(out.trace.n_edges, 1);
	assert_memory_equal(&out.trace.edges[0], &edges[0], sizeof(edges[0]));
	assert_int_equal(out.trace.n_transfers, 1);
	assert_memory_equal(out.trace.transfers[0].to, transfers[0].to, LS_KEY_LEN);
	assert_true(out.trace.transfers[0].received);
	assert_int_equal(out.trace.transfers[0].grams, 100);
	assert_memory_equal(&out.trace.transfers[0], &transfers[0], sizeof(transfers[0]));
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	memset(hold, 0, sizeof(hold));
	memset(flows, 0, sizeof(flows));
	in.kind = LS_API_HOLDINGS;
	fill(in.holdings.holder, LS_KEY_LEN, 30);
	fill(hold[0].lot, LS_ID_LEN, 31);
	snprintf(hold[0].label, sizeof(hold[0].label), "conc-1");
	snprintf(hold[0].category, sizeof(hold[0].category), "concentrate");
	hold[0].grams = 7000;
	fill(flows[0].id, LS_ID_LEN, 32);
	fill(flows[0].transfer, LS_ID_LEN, 33);
	fill(flows[0].lot, LS_ID_LEN, 31);
	fill(flows[0].party, LS_KEY_LEN, 34);
	snprintf(flows[0].label, sizeof(flows[0].label), "conc-1");
	flows[0].grams = 500;
	flows[0].is_return = true;
	snprintf(flows[0].reason, sizeof(flows[0].reason), "wet");
	fill(flows[1].id, LS_ID_LEN, 35);
	memcpy(flows[1].transfer, flows[1].id, LS_ID_LEN);
	fill(flows[1].lot, LS_ID_LEN, 31);
	fill(flows[1].party, LS_KEY_LEN, 36);
	flows[1].grams = 1;
	in.holdings.n_holds = 1;
	in.holdings.holds = hold;
	in.holdings.n_out = 2;
	in.holdings.out = flows;
	in.holdings.more_out = true;
	resp_roundtrip(&in, &out);
	assert_memory_equal(out.holdings.holder, in.holdings.holder, LS_KEY_LEN);
	assert_int_equal(out.holdings.n_holds, 1);
	assert_memory_equal(&out.holdings.holds[0], &hold[0], sizeof(hold[0]));
	assert_int_equal(out.holdings.n_in, 0);
	assert_int_equal(out.holdings.n_out, 2);
	assert_memory_equal(&out.holdings.out[0], &flows[0], sizeof(flows[0]));
	assert_memory_equal(&out.holdings.out[1], &flows[1], sizeof(flows[1]));
	assert_true(out.holdings.more_out);
	assert_false(out.holdings.more_in || out.holdings.more_holds);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	entries[0].pos = 3;
	entries[0].env = env;
	entries[0].len = 10;
	entries[1].pos = 7;
	entries[1].env = env + 10;
	entries[1].len = 20;
	in.kind = LS_API_LOG;
	in.log.n = 2;
	in.log.entries = entries;
	in.log.more = true;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.log.n, 2);
	assert_true(out.log.more);
	assert_int_equal(out.log.entries[1].pos, 7);
	assert_int_equal(out.log.entries[1].len, 20);
	assert_memory_equal(out.log.entries[1].env, env + 10, 20);
	ls_api_response_release(&out);
	in.log.n = 0; /* an empty page */
	in.log.more = false;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.log.n, 0);
	assert_false(out.log.more);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	memset(peers, 0, sizeof(peers));
	peers[0].has_key = true;
	fill(peers[0].key, LS_KEY_LEN, 17);
	snprintf(peers[0].endpoint, sizeof(peers[0].endpoint), "tcp://10.0.0.2:7450");
	peers[0].connected = true;
	peers[0].last_sync = FX_T0;
	peers[0].received = 10;
	peers[0].rejected = 1;
	in.kind = LS_API_STATUS;
	in.status.stats.records = 1;
	in.status.stats.pending = 2;
	in.status.stats.equivocations = 3;
	in.status.stats.authors = 4;
	in.status.stats.map_size = 64 << 20;
	fill(in.status.node_key, LS_KEY_LEN, 18);
	snprintf(in.status.api, sizeof(in.status.api), "ipc:///tmp/x/api.sock");
	in.status.n_peers = 1;
	in.status.peers = peers;
	resp_roundtrip(&in, &out);
	assert_memory_equal(&out.status.stats, &in.status.stats, sizeof(in.status.stats));
	assert_memory_equal(out.status.node_key, in.status.node_key, LS_KEY_LEN);
	assert_string_equal(out.status.api, "ipc:///tmp/x/api.sock");
	assert_string_equal(out.status.listen, "");
	assert_int_equal(out.status.n_peers, 1);
	assert_memory_equal(&out.status.peers[0], &peers[0], sizeof(peers[0]));
	assert_int_equal(out.status.log_size, 0);
	assert_string_equal(out.status.log_vkey, "");
	assert_int_equal(out.status.checkpoint_size, 0);
	ls_api_response_release(&out);

	/* the log's part of the status */
	in.status.log_size = 12;
	in.status.log_sealed = 11;
	snprintf(in.status.log_origin, sizeof(in.status.log_origin), "lodestone/0123456789abcdef");
	snprintf(in.status.log_vkey, sizeof(in.status.log_vkey), "lodestone/0123456789abcdef+1+x");
	snprintf(in.status.witness_vkey, sizeof(in.status.witness_vkey), "w+2+y");
	in.status.checkpoint_size = 11;
	in.status.checkpoint_time = FX_T0;
	resp_roundtrip(&in, &out);
	assert_int_equal(out.status.log_size, 12);
	assert_int_equal(out.status.log_sealed, 11);
	assert_string_equal(out.status.log_origin, in.status.log_origin);
	assert_string_equal(out.status.log_vkey, in.status.log_vkey);
	assert_string_equal(out.status.witness_vkey, "w+2+y");
	assert_int_equal(out.status.checkpoint_size, 11);
	assert_int_equal(out.status.checkpoint_time, FX_T0);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	in.kind = LS_API_CHECKPOINT;
	in.checkpoint.size = 7;
	in.checkpoint.note = "lodestone/x\n7\nAAAA\n\n\xe2\x80\x94 lodestone/x sig\n";
	in.checkpoint.len = strlen(in.checkpoint.note);
	resp_roundtrip(&in, &out);
	assert_int_equal(out.checkpoint.size, 7);
	assert_int_equal(out.checkpoint.len, in.checkpoint.len);
	assert_string_equal(out.checkpoint.note, in.checkpoint.note);
	ls_api_response_release(&out);

	ls_api_response_init(&in);
	in.kind = LS_API_PROVE;
	fill(in.prove.id, LS_ID_LEN, 20);
	in.prove.index = 3;
	in.prove.size = 9;
	in.prove.proof = "c2sp.org/tlog-proof@v1\nindex 3\n";
	in.prove.len = strlen(in.prove.proof);
	resp_roundtrip(&in, &out);
	assert_memory_equal(out.prove.id, in.prove.id, LS_ID_LEN);
	assert_int_equal(out.prove.index, 3);
	assert_int_equal(out.prove.size, 9);
	assert_string_equal(out.prove.proof, in.prove.proof);
	ls_api_response_release(&out);
	/* an index outside the tree, a NUL in the text: refused on decode */
	in.prove.index = 9;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	in.prove.index = 3;
	in.prove.len = in.prove.len + 1; /* the NUL */
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	{
		uint8_t *buf = NULL;
		size_t len;
		in.prove.len = 0;
		assert_int_equal(ls_api_response_encode(&in, &buf, &len, NULL), LS_ERR_INVALID);
	}

	ls_api_response_init(&in);
	fill(bundle, sizeof(bundle), 19);
	in.kind = LS_API_BUNDLE;
	in.bundle.bytes = bundle;
	in.bundle.len = sizeof(bundle);
	resp_roundtrip(&in, &out);
	assert_int_equal(out.bundle.len, sizeof(bundle));
	assert_memory_equal(out.bundle.bytes, bundle, sizeof(bundle));
	ls_api_response_release(&out);

	ls_api_response_release(NULL);
}

static void
test_api_response_error(void **state)
{
	struct ls_api_response in, out;
	struct ls_err_ctx ctx = {{0}};

	(void)state;
	ls_api_response_init(&in);
	ls_err_set(&ctx, LS_ERR_AMBIGUOUS, "lot 'ore' names 2 lots");
	ls_api_response_error(&in, LS_ERR_AMBIGUOUS, &ctx);
	resp_roundtrip(&in, &out);
	assert_int_equal(out.error, LS_ERR_AMBIGUOUS);
	assert_int_equal(out.kind, LS_API_NONE);
	assert_string_equal(out.message, "lot 'ore' names 2 lots");
	ls_api_response_release(&out);

	/* without a message: the error's own text; control characters defused */
	ls_api_response_error(&in, LS_ERR_FULL, NULL);
	resp_roundtrip(&in, &out);
	assert_string_equal(out.message, ls_strerror(LS_ERR_FULL));
	ls_api_response_release(&out);
	ls_err_set(&ctx, LS_ERR_NOT_FOUND, "no lot \x1b[31mred");
	ls_api_response_error(&in, LS_ERR_NOT_FOUND, &ctx);
	resp_roundtrip(&in, &out);
	assert_string_equal(out.message, "no lot ?[31mred");
	ls_api_response_release(&out);

	/* an error replaces a result it held */
	ls_api_response_init(&in);
	in.kind = LS_API_GET;
	in.get.env = malloc(10);
	in.get.len = 10;
	ls_api_response_error(&in, LS_ERR_NOMEM, NULL);
	assert_int_equal(in.kind, LS_API_NONE);
	assert_int_equal(in.error, LS_ERR_NOMEM);

	assert_string_equal(ls_api_kind_name(LS_API_CERT_OF), "cert-of");
	assert_string_equal(ls_api_kind_name(LS_API_KIND_COUNT), "unknown");
}

static void
test_api_response_malformed(void **state)
{
	struct ls_api_response in, resp;
	struct ls_err_ctx ctx = {{0}};
	struct ls_ingest_result res[1];
	struct ls_origin_part country[2] = {{"CN", 700}, {"MM", 299}};
	struct ls_origin_elem elem;
	struct ls_api_log_entry entries[3];
	uint8_t buf[128], inner[64], id[LS_ID_LEN] = {0}, env[4] = {1, 2, 3, 4};
	uint8_t *big;
	size_t n;

	(void)state;
	assert_int_equal(ls_api_response_decode(NULL, 0, &resp, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(resp_decode_raw("\xff\xff\xff", 3), LS_ERR_MALFORMED);

	/* no error and no result */
	n = put_varint(buf, 1 << 3);
	n += put_varint(buf + n, 1);
	assert_int_equal(resp_decode_raw(buf, n), LS_ERR_MALFORMED);
	/* version 2 */
	buf[1] = 2;
	assert_int_equal(resp_decode_raw(buf, n), LS_ERR_VERSION);
	buf[1] = 1;
	/* error -7 with a result */
	n += put_varint(buf + n, 2 << 3);
	n += put_varint(buf + n, 13); /* zigzag(-7) */
	assert_int_equal(resp_decode_raw(buf, n), 0);
	put_bytes(inner, 1, id, LS_ID_LEN);
	assert_int_equal(resp_decode_raw(buf, n + put_bytes(buf + n, 13, inner, 34)),
			 LS_ERR_MALFORMED);
	/* a positive error code */
	buf[n - 1] = 2;
	assert_int_equal(resp_decode_raw(buf, n), LS_ERR_MALFORMED);

	/* rejected without a reason */
	ls_api_response_init(&in);
	memset(res, 0, sizeof(res));
	res[0].status = LS_INGEST_REJECTED;
	in.kind = LS_API_SUBMIT;
	in.submit.n = 1;
	in.submit.results = res;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	/* a reason code of a newer daemon is kept as unknown */
	res[0].reason = LS_R_COUNT;
	assert_int_equal(resp_encode_decode(&in), 0);

	/* origin parts that do not add up */
	ls_api_response_init(&in);
	memset(&elem, 0, sizeof(elem));
	elem.z = 66;
	elem.grams = 1000;
	elem.n_country = 2;
	elem.by_country = country;
	in.kind = LS_API_ORIGIN;
	in.origin.n = 1;
	in.origin.elems = &elem;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	country[1].grams = 300;
	assert_int_equal(resp_encode_decode(&in), 0);
	elem.z = 0; /* not an element */
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	elem.z = 66;
	snprintf(country[0].name, sizeof(country[0].name), "C\tN");
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);

	/* log positions out of order, an empty envelope */
	ls_api_response_init(&in);
	entries[0].pos = 5;
	entries[0].env = env;
	entries[0].len = 4;
	entries[1] = entries[0];
	in.kind = LS_API_LOG;
	in.log.n = 2;
	in.log.entries = entries;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	entries[1].pos = 4; /* newest first: backwards is in order */
	assert_int_equal(resp_encode_decode(&in), 0);
	entries[1].pos = 6;
	entries[2] = entries[0];
	entries[2].pos = 3; /* forwards, then backwards: out of order */
	in.log.n = 3;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);
	in.log.n = 2;
	entries[1].len = 0;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);

	/* an unknown verdict */
	ls_api_response_init(&in);
	in.kind = LS_API_VERIFY;
	in.verify.kind = (enum ls_verdict_kind)42;
	assert_int_equal(resp_encode_decode(&in), LS_ERR_MALFORMED);

	/* too big: refused by size, and refused by the encoder */
	big = calloc(1, LS_API_RESPONSE_MAX + 1);
	assert_non_null(big);
	assert_int_equal(ls_api_response_decode(big, LS_API_RESPONSE_MAX + 1, &resp, &ctx),
			 LS_ERR_TOO_BIG);
	ls_api_response_init(&in);
	in.kind = LS_API_BUNDLE;
	in.bundle.bytes = big;
	in.bundle.len = LS_API_RESPONSE_MAX;
	{
		uint8_t *out = NULL;
		size_t len = 0;
		assert_int_equal(ls_api_response_encode(&in, &out, &len, &ctx), LS_ERR_TOO_BIG);
		assert_null(out);
	}
	free(big);
}

/* Random bytes, truncations and bit flips of valid messages: no crash, no
 * leak (under ASan), and a decoded message always releases cleanly. */
static void
test_api_random_bytes(void **state)
{
	struct ls_api_request req;
	struct ls_api_response in;
	struct ls_trace_node nodes[3];
	struct ls_verdict_reason reason;
	uint8_t buf[512], *enc = NULL;
	size_t len = 0;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = randombytes_uniform(sizeof(buf)) + 1;
		randombytes_buf(buf, n);
		(void)req_decode_raw(buf, n);
		(void)resp_decode_raw(buf, n);
	}

	memset(&req, 0, sizeof(req));
	req.kind = LS_API_VERIFY;
	fill(req.verify.lot, LS_ID_LEN, 1);
	memcpy(req.verify.destination, "DE", 3);
	req.verify.end_use = "civilian";
	req.verify.has_from = true;
	assert_int_equal(ls_api_request_encode(&req, &enc, &len, NULL), 0);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_not_equal(req_decode_raw(enc, cut), 0);
	for (int i = 0; i < 5000; i++) {
		uint8_t *c = malloc(len);
		memcpy(c, enc, len);
		c[randombytes_uniform((uint32_t)len)] ^= (uint8_t)(1u << randombytes_uniform(8));
		(void)req_decode_raw(c, len);
		free(c);
	}
	free(enc);

	ls_api_response_init(&in);
	memset(nodes, 0, sizeof(nodes));
	for (int i = 0; i < 3; i++) {
		fill(nodes[i].id, LS_ID_LEN, (uint8_t)i);
		snprintf(nodes[i].label, sizeof(nodes[i].label), "lot-%d", i);
		memcpy(nodes[i].country, "AU", 3);
	}
	memset(&reason, 0, sizeof(reason));
	in.kind = LS_API_TRACE;
	in.trace.n_nodes = 3;
	in.trace.nodes = nodes;
	assert_int_equal(ls_api_response_encode(&in, &enc, &len, NULL), 0);
	for (size_t cut = 0; cut < len; cut++)
		(void)resp_decode_raw(enc, cut);
	for (int i = 0; i < 5000; i++) {
		uint8_t *c = malloc(len);
		memcpy(c, enc, len);
		c[randombytes_uniform((uint32_t)len)] ^= (uint8_t)(1u << randombytes_uniform(8));
		(void)resp_decode_raw(c, len);
		free(c);
	}
	free(enc);
}

/* ---- client without a daemon ---- */

static void
test_api_open_unreachable(void **state)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	char *dir = fx_tmpdir(), path[PATH_MAX], ep[PATH_MAX + 8];
	struct sockaddr_un sun;
	uint64_t t0;
	int fd;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(ls_api_open("foo", 100, &a, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_api_open("ipc://", 100, &a, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_api_open("inproc://x", 100, &a, &ctx), LS_ERR_INVALID);
	assert_null(a);

	/* no socket file */
	t0 = now_ms();
	snprintf(ep, sizeof(ep), "ipc://%s/api.sock", dir);
	assert_int_equal(ls_api_open(ep, 5000, &a, &ctx), LS_ERR_NET);
	assert_true(now_ms() - t0 < fx_scaled_ms(500));
	assert_non_null(strstr(ctx.msg, "api.sock"));
	assert_null(a);

	/* a file that is not a socket */
	snprintf(path, sizeof(path), "%s/file", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(ep, sizeof(ep), "ipc://%s", path);
	assert_int_equal(ls_api_open(ep, 5000, &a, &ctx), LS_ERR_NET);

	/* a stale socket: bound once, nobody listening */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	snprintf(ep, sizeof(ep), "ipc://%s", path);
	t0 = now_ms();
	assert_int_equal(ls_api_open(ep, 5000, &a, &ctx), LS_ERR_NET);
	assert_true(now_ms() - t0 < fx_scaled_ms(500));
	assert_non_null(strstr(ctx.msg, "refused"));

	/* tcp with nobody there: the first call fails after the timeout */
	assert_int_equal(ls_api_open("tcp://127.0.0.1:1", 300, &a, &ctx), 0);
	{
		struct ls_api_status st;
		int rc;
		t0 = now_ms();
		rc = ls_api_status(a, &st, &ctx);
		assert_true(rc == LS_ERR_NET || rc == LS_ERR_TIMEOUT);
		assert_true(now_ms() - t0 < fx_scaled_ms(2000));
	}
	ls_api_close(&a);
	assert_null(a);
	ls_api_close(&a);
	ls_api_close(NULL);
	fx_rmtree(dir);
	free(dir);
}

/* A fake daemon: ignores the first request, answers the second with a
 * status and the third with a result of the wrong kind. */
struct fake {
	void *zctx;
	char endpoint[LS_API_ENDPOINT_MAX];
	void *sock;
};

static void *
fake_main(void *arg)
{
	struct fake *fk = arg;

	for (int i = 0; i < 3; i++) {
		zmq_msg_t frames[8];
		int n = 0, more = 1;
		struct ls_api_response resp;
		uint8_t *buf = NULL;
		size_t len = 0;

		while (more && n < 8) {
			zmq_msg_init(&frames[n]);
			if (zmq_msg_recv(&frames[n], fk->sock, 0) == -1)
				return NULL;
			more = zmq_msg_more(&frames[n]);
			n++;
		}
		ls_api_response_init(&resp);
		if (i == 1) {
			resp.kind = LS_API_STATUS;
			memcpy(resp.status.api, fk->endpoint, strlen(fk->endpoint) + 1);
		} else {
			resp.kind = LS_API_RESOLVE;
		}
		if (i > 0 && ls_api_response_encode(&resp, &buf, &len, NULL) == 0) {
			for (int j = 0; j < n - 1; j++)
				zmq_msg_send(&frames[j], fk->sock, ZMQ_SNDMORE);
			zmq_send(fk->sock, buf, len, 0);
		}
		free(buf);
		for (int j = 0; j < n; j++)
			zmq_msg_close(&frames[j]);
	}
	return NULL;
}

static void
test_api_timeout(void **state)
{
	struct fake fk;
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_api_status st;
	uint8_t id[LS_ID_LEN];
	char *dir = fx_tmpdir();
	pthread_t th;
	uint64_t t0;
	int linger = 0;

	(void)state;
	assert_non_null(dir);
	snprintf(fk.endpoint, sizeof(fk.endpoint), "ipc://%s/api.sock", dir);
	fk.zctx = zmq_ctx_new();
	fk.sock = zmq_socket(fk.zctx, ZMQ_ROUTER);
	zmq_setsockopt(fk.sock, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_bind(fk.sock, fk.endpoint), 0);
	assert_int_equal(pthread_create(&th, NULL, fake_main, &fk), 0);

	assert_int_equal(ls_api_open(fk.endpoint, 300, &a, &ctx), 0);
	t0 = now_ms();
	assert_int_equal(ls_api_status(a, &st, &ctx), LS_ERR_TIMEOUT);
	assert_true(now_ms() - t0 >= 250);
	assert_non_null(strstr(ctx.msg, "did not answer"));
	/* the connection stays usable after a timeout */
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	assert_string_equal(st.api, fk.endpoint);
	ls_api_status_release(&st);
	/* an answer of the wrong kind */
	assert_int_equal(ls_api_resolve(NULL, LS_RESOLVE_LOT, "x", id, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_api_status(a, &st, &ctx), LS_ERR_MALFORMED);
	ls_api_close(&a);

	pthread_join(th, NULL);
	zmq_close(fk.sock);
	zmq_ctx_term(fk.zctx);
	fx_rmtree(dir);
	free(dir);
}

/* A daemon that takes a request and never answers, then goes away: it
 * reads one message, waits `hold_ms` (connected, busy) and closes. */
struct mute {
	void *sock;
	int hold_ms;
};

static void *
mute_main(void *arg)
{
	struct mute *m = arg;
	zmq_msg_t msg;
	int more = 1;

	while (more) {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, m->sock, 0) == -1)
			return NULL;
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
	}
	usleep((useconds_t)m->hold_ms * 1000);
	zmq_close(m->sock);
	return NULL;
}

static void
progress_count(void *arg, long waited_ms)
{
	long *p = arg;

	if (waited_ms >= 0)
		p[0]++;
	else
		p[1]++;
}

/*
 * "Busy" is not "unreachable": a daemon that is connected but has not
 * answered within the answer wait gives LS_ERR_TIMEOUT (the client's exit
 * 5), with progress calls while it waits; with no answer limit the client
 * waits as long as the daemon is connected, and a daemon that goes away
 * mid-request gives LS_ERR_NET (exit 4) about a second later, not never.
 */
static void
test_api_busy_or_gone(void **state)
{
	char *dir = fx_tmpdir(), ep[PATH_MAX + 16];
	struct ls_err_ctx ctx = {{0}};
	struct ls_api_status st;
	struct ls_api *a = NULL;
	struct mute m;
	long calls[2] = {0, 0};
	void *zctx = zmq_ctx_new();
	pthread_t th;
	uint64_t t0;
	int linger = 0;

	(void)state;
	assert_non_null(dir);
	snprintf(ep, sizeof(ep), "ipc://%s/api.sock", dir);

	/* busy: connected, no answer within 1.5 s */
	m.sock = zmq_socket(zctx, ZMQ_ROUTER);
	m.hold_ms = 4000;
	zmq_setsockopt(m.sock, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_bind(m.sock, ep), 0);
	assert_int_equal(pthread_create(&th, NULL, mute_main, &m), 0);
	assert_int_equal(ls_api_open(ep, 5000, &a, &ctx), 0);
	ls_api_set_wait(a, 1500, progress_count, calls);
	t0 = now_ms();
	assert_int_equal(ls_api_status(a, &st, &ctx), LS_ERR_TIMEOUT);
	assert_true(now_ms() - t0 >= 1400);
	assert_non_null(strstr(ctx.msg, "connected but did not answer within 1.500 s"));
	assert_true(calls[0] >= 1);    /* told while waiting */
	assert_int_equal(calls[1], 1); /* and once when done */
	ls_api_close(&a);
	pthread_join(th, NULL);

	/* gone: no answer limit, the daemon closes its end after 1.5 s */
	m.sock = zmq_socket(zctx, ZMQ_ROUTER);
	m.hold_ms = 1500;
	zmq_setsockopt(m.sock, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_bind(m.sock, ep), 0);
	assert_int_equal(pthread_create(&th, NULL, mute_main, &m), 0);
	assert_int_equal(ls_api_open(ep, 5000, &a, &ctx), 0);
	calls[0] = calls[1] = 0;
	ls_api_set_wait(a, 0, progress_count, calls);
	t0 = now_ms();
	assert_int_equal(ls_api_status(a, &st, &ctx), LS_ERR_NET);
	assert_true(now_ms() - t0 >= 1400);
	assert_true(now_ms() - t0 < fx_scaled_ms(8000));
	assert_non_null(strstr(ctx.msg, "closed the connection before answering"));
	assert_true(calls[0] >= 1);
	ls_api_close(&a);
	pthread_join(th, NULL);

	zmq_ctx_term(zctx);
	fx_rmtree(dir);
	free(dir);
}

/* ---- a live daemon ---- */

struct live {
	char bin[PATH_MAX];
	char *dir;
	char pub[PATH_MAX];
	char endpoint[PATH_MAX + 16];
	pid_t pid;
	struct fx_actor *auth;
};

static pid_t
spawn(struct live *lv, const char *log_path)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (log_path != NULL && freopen(log_path, "a", stderr) == NULL)
			_exit(127);
		execl(lv->bin, "lodestoned", "--data-dir", lv->dir, "--trust", lv->pub,
		      "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int
stop(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
live_setup(void **state)
{
	struct live *lv = calloc(1, sizeof(*lv));

	if (lv == NULL)
		return -1;
	*state = lv;
	if (!fx_program("lodestoned", lv->bin, sizeof(lv->bin)))
		return 0; /* the test skips */
	if ((lv->dir = fx_tmpdir()) == NULL || (lv->auth = fx_actor_new("CN")) == NULL)
		return -1;
	snprintf(lv->pub, sizeof(lv->pub), "%s/authority.pub", lv->dir);
	snprintf(lv->endpoint, sizeof(lv->endpoint), "ipc://%s/data/api.sock", lv->dir);
	if (ls_pubkey_save(lv->pub, lv->auth->kp->pk, NULL) != 0)
		return -1;
	/* the daemon makes its data dir itself */
	{
		char *d = malloc(strlen(lv->dir) + 6);
		sprintf(d, "%s/data", lv->dir);
		free(lv->dir);
		lv->dir = d;
	}
	return 0;
}

static int
live_teardown(void **state)
{
	struct live *lv = *state;

	if (lv->pid > 0)
		stop(lv->pid, SIGKILL);
	if (lv->dir != NULL) {
		char *parent = strdup(lv->dir);
		*strrchr(parent, '/') = '\0';
		fx_rmtree(parent);
		free(parent);
	}
	free(lv->dir);
	fx_actor_free(&lv->auth);
	free(lv);
	return 0;
}

struct submitter {
	const char *endpoint;
	struct fx_env *envs;
	size_t n;
	int failures;
};

/* One client submitting its records one request at a time. */
static void *
submit_main(void *arg)
{
	struct submitter *s = arg;
	struct ls_api *a = NULL;

	if (ls_api_open(s->endpoint, 10000, &a, NULL) != 0) {
		s->failures = (int)s->n;
		return NULL;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct ls_ingest_result res;
		const uint8_t *e = s->envs[i].buf;
		if (ls_api_submit(a, &e, &s->envs[i].len, 1, &res, NULL) != 0 ||
		    res.status != LS_INGEST_ACCEPTED)
			s->failures++;
	}
	ls_api_close(&a);
	return NULL;
}

/* Sends raw bytes on a REQ socket, returns the decode rc of the answer
 * (or LS_ERR_TIMEOUT) and the daemon's error code in *err. */
static int
raw_request(const char *endpoint, const void *buf, size_t len, int *err)
{
	void *zctx = zmq_ctx_new(), *sock = zmq_socket(zctx, ZMQ_REQ);
	int linger = 0, timeout = 2000, rc = LS_ERR_TIMEOUT;
	struct ls_api_response resp;
	zmq_msg_t m;

	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(sock, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
	zmq_connect(sock, endpoint);
	zmq_msg_init(&m);
	if (zmq_send(sock, buf, len, 0) == (int)len && zmq_msg_recv(&m, sock, 0) >= 0) {
		rc = ls_api_response_decode(zmq_msg_data(&m), zmq_msg_size(&m), &resp, NULL);
		*err = resp.error;
		ls_api_response_release(&resp);
	}
	zmq_msg_close(&m);
	zmq_close(sock);
	zmq_ctx_term(zctx);
	return rc;
}

#define N_THREADS    6
#define N_PER_THREAD 40

static void
test_api_daemon(void **state)
{
	struct live *lv = *state;
	struct fx_actor *miner, *proc, *threads[N_THREADS];
	struct fx_env e[8], more[N_THREADS][N_PER_THREAD];
	const uint8_t *envs[9];
	size_t lens[9];
	struct ls_ingest_result res[9];
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_api_head head;
	struct ls_api_status st;
	struct ls_api_log_page page;
	struct ls_log_filter f;
	struct ls_export_query q;
	struct ls_verdict v;
	struct ls_origin o;
	struct ls_trace t;
	uint8_t id[LS_ID_LEN], *buf = NULL, unknown[LS_ID_LEN], magnet[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1], log_path[PATH_MAX];
	size_t len, n_bundle, *blens = NULL, total;
	const uint8_t **benvs = NULL;
	struct ls_lot_input in;
	const char *outs[1] = {"magnet-1:magnet:400:Nd=250000,Dy=40000"};
	uint64_t after;
	int err;

	if (lv->bin[0] == '\0') {
		fprintf(stderr, "test_api_daemon: no lodestoned beside this test: skipped\n");
		skip();
	}
	snprintf(log_path, sizeof(log_path), "%s.log", lv->dir);
	lv->pid = spawn(lv, log_path);
	assert_true(lv->pid > 0);
	assert_true(fx_daemon_ready(lv->endpoint));
	assert_int_equal(ls_api_open(lv->endpoint, 10000, &a, &ctx), 0);

	/* a small chain: certificates, a lot, a shipment, a receipt, a magnet */
	miner = fx_actor_new("CN");
	proc = fx_actor_new("JP");
	assert_non_null(miner);
	assert_non_null(proc);
	e[0] =
	    fx_cert(lv->auth, miner, "Baotou Mining", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	e[1] = fx_cert(lv->auth, proc, "Nippon Magnet", NULL, LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER,
		       0, 0);
	e[2] = fx_lot(miner, "ore-1", "Bayan Obo", NULL, "ore", 1000000, "Nd=300000,Dy=50000");
	e[3] = fx_transfer(miner, e[2].id, 1000, proc, NULL, "civilian");
	e[4] = fx_receipt(proc, e[3].id, 1000);
	in.grams = 1000;
	memcpy(in.lot, e[2].id, LS_ID_LEN);
	e[5] = fx_transform(proc, &in, 1, outs, 1);
	for (int i = 0; i < 6; i++) {
		assert_non_null(e[i].buf);
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
	}
	envs[6] = (const uint8_t *)"garbage";
	lens[6] = 7;
	assert_int_equal(ls_api_submit(a, envs, lens, 7, res, &ctx), 0);
	for (int i = 0; i < 6; i++) {
		if (res[i].status != LS_INGEST_ACCEPTED)
			fail_msg("record %d: %s %s", i, ls_reason_code(res[i].reason),
				 res[i].message);
		assert_true(res[i].has_id);
		assert_memory_equal(res[i].id, e[i].id, LS_ID_LEN);
		assert_int_equal(res[i].type, e[i].type);
	}
	assert_int_equal(res[6].status, LS_INGEST_REJECTED);
	assert_int_equal(res[6].reason, LS_R_MALFORMED);
	assert_false(res[6].has_id);
	/* again: known */
	assert_int_equal(ls_api_submit(a, envs, lens, 2, res, &ctx), 0);
	assert_int_equal(res[0].status, LS_INGEST_KNOWN);
	assert_int_equal(res[1].status, LS_INGEST_KNOWN);
	ls_lot_id(e[5].id, 0, magnet);

	/* head */
	assert_int_equal(ls_api_head(a, miner->kp->pk, &head, &ctx), 0);
	assert_int_equal(head.seq, 2);
	assert_memory_equal(head.id, e[3].id, LS_ID_LEN);
	fill(unknown, sizeof(unknown), 99);
	assert_int_equal(ls_api_head(a, unknown, &head, &ctx), 0);
	assert_int_equal(head.seq, 0);

	/* get */
	assert_int_equal(ls_api_get(a, e[2].id, &buf, &len, &ctx), 0);
	assert_int_equal(len, e[2].len);
	assert_memory_equal(buf, e[2].buf, len);
	free(buf);
	assert_int_equal(ls_api_get(a, unknown, &buf, &len, &ctx), LS_ERR_NOT_FOUND);
	assert_non_null(strstr(ctx.msg, ls_hex(unknown, LS_ID_LEN, hex)));

	/* resolve: label, prefix; not found */
	assert_int_equal(ls_api_resolve(a, LS_RESOLVE_LOT, "ore-1", id, &ctx), 0);
	assert_memory_equal(id, e[2].id, LS_ID_LEN);
	ls_hex(e[4].id, LS_ID_LEN, hex);
	hex[10] = '\0';
	assert_int_equal(ls_api_resolve(a, LS_RESOLVE_RECORD, hex, id, &ctx), 0);
	assert_memory_equal(id, e[4].id, LS_ID_LEN);
	assert_int_equal(ls_api_resolve(a, LS_RESOLVE_LOT, "no-such-lot", id, &ctx),
			 LS_ERR_NOT_FOUND);

	/* cert_of */
	assert_int_equal(ls_api_cert_of(a, proc->kp->pk, FX_T0 + 1, id, &ctx), 0);
	assert_memory_equal(id, e[1].id, LS_ID_LEN);
	assert_int_equal(ls_api_cert_of(a, unknown, 0, id, &ctx), LS_ERR_NOT_FOUND);

	/* verify: provenance, an export check, an unknown lot */
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, magnet, LS_ID_LEN);
	assert_int_equal(ls_api_verify(a, &q, &v, &ctx), 0);
	if (v.kind != LS_V_VALID)
		fail_msg("verdict %s, first reason %s", ls_verdict_name(v.kind),
			 v.n ? v.reasons[0].message : "-");
	ls_verdict_release(&v);
	memcpy(q.destination, "US", 3);
	assert_int_equal(ls_api_verify(a, &q, &v, &ctx), 0);
	assert_true(v.kind == LS_V_ALLOWED || v.kind == LS_V_LICENSE_REQUIRED ||
		    v.kind == LS_V_DENIED);
	ls_verdict_release(&v);
	memcpy(q.lot, unknown, LS_ID_LEN);
	assert_int_equal(ls_api_verify(a, &q, &v, &ctx), LS_ERR_NOT_FOUND);

	/* origin and trace */
	assert_int_equal(ls_api_origin(a, magnet, &o, &ctx), 0);
	assert_memory_equal(o.lot, magnet, LS_ID_LEN);
	assert_true(o.n >= 1);
	ls_origin_release(&o);
	assert_int_equal(ls_api_trace(a, magnet, false, &t, &ctx), 0);
	assert_true(t.n_nodes >= 2);
	ls_trace_release(&t);
	assert_int_equal(ls_api_trace(a, e[2].id, true, &t, &ctx), 0);
	assert_true(t.n_nodes >= 2);
	ls_trace_release(&t);

	/* bundle: proven in the daemon's log, once a checkpoint holds the lot
	 * (the daemon seals every second) */
	int brc;
	for (int i = 0; (brc = ls_api_bundle(a, magnet, &buf, &len, &ctx)) == LS_ERR_BUSY &&
			(unsigned)i < 50 * fx_time_scale();
	     i++)
		usleep(100 * 1000);
	assert_int_equal(brc, 0);
	{
		const uint8_t *lpb;
		size_t lpl;
		assert_int_equal(ls_bundle_log(buf, len, &lpb, &lpl), 0);
	}
	assert_int_equal(ls_bundle_decode(buf, len, 1000, &benvs, &blens, &n_bundle, &ctx), 0);
	assert_true(n_bundle >= 4);
	free(benvs);
	free(blens);
	free(buf);

	/* concurrent clients, one record per request: they share commits */
	{
		pthread_t th[N_THREADS];
		struct submitter sub[N_THREADS];
		struct fx_env certs[N_THREADS];
		for (int i = 0; i < N_THREADS; i++) {
			char label[32];
			threads[i] = fx_actor_new("AU");
			assert_non_null(threads[i]);
			certs[i] =
			    fx_cert(lv->auth, threads[i], "Lynas", NULL, LS_ROLE_MINER, 0, 0);
			envs[i] = certs[i].buf;
			lens[i] = certs[i].len;
			for (int j = 0; j < N_PER_THREAD; j++) {
				snprintf(label, sizeof(label), "t%d-lot%d", i, j);
				more[i][j] = fx_lot(threads[i], label, "Mt Weld", NULL, "ore",
						    1000 + (uint64_t)j, "Nd=200000");
				assert_non_null(more[i][j].buf);
			}
		}
		assert_int_equal(ls_api_submit(a, envs, lens, N_THREADS, res, &ctx), 0);
		for (int i = 0; i < N_THREADS; i++) {
			assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
			fx_env_release(&certs[i]);
			sub[i] = (struct submitter){lv->endpoint, more[i], N_PER_THREAD, 0};
			assert_int_equal(pthread_create(&th[i], NULL, submit_main, &sub[i]), 0);
		}
		for (int i = 0; i < N_THREADS; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(sub[i].failures, 0);
		}
	}
	total = 6 + N_THREADS + N_THREADS * N_PER_THREAD;

	/* status */
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	assert_int_equal(st.stats.records, total);
	assert_string_equal(st.api, lv->endpoint);
	assert_string_equal(st.listen, "");
	assert_int_equal(st.n_peers, 0);
	{
		char path[PATH_MAX];
		uint8_t pk[LS_KEY_LEN];
		snprintf(path, sizeof(path), "%s/node.key.pub", lv->dir);
		assert_int_equal(ls_pubkey_load(path, pk, NULL), 0);
		assert_memory_equal(pk, st.node_key, LS_KEY_LEN);
	}
	ls_api_status_release(&st);

	/* log: one author; then everything in pages of 7 */
	memset(&f, 0, sizeof(f));
	f.has_author = true;
	memcpy(f.author, proc->kp->pk, LS_KEY_LEN);
	assert_int_equal(ls_api_log(a, &f, &page, &ctx), 0);
	assert_int_equal(page.n, 2);
	assert_false(page.more);
	ls_api_log_page_release(&page);
	memset(&f, 0, sizeof(f));
	f.limit = 7;
	after = 0;
	len = 0;
	for (;;) {
		f.after_pos = after;
		assert_int_equal(ls_api_log(a, &f, &page, &ctx), 0);
		assert_true(page.n <= 7);
		len += page.n;
		if (page.n > 0) {
			assert_true(page.entries[0].pos > after);
			after = page.entries[page.n - 1].pos;
		}
		if (!page.more) {
			ls_api_log_page_release(&page);
			break;
		}
		assert_int_equal(page.n, 7);
		ls_api_log_page_release(&page);
	}
	assert_int_equal(len, total);
	f.type = LS_REC_RECEIPT;
	f.after_pos = 0;
	assert_int_equal(ls_api_log(a, &f, &page, &ctx), 0);
	assert_int_equal(page.n, 1);
	ls_api_log_page_release(&page);

	/* bad requests on the wire get error answers */
	assert_int_equal(raw_request(lv->endpoint, "\xff\xff", 2, &err), 0);
	assert_int_equal(err, LS_ERR_MALFORMED);
	assert_int_equal(raw_request(lv->endpoint, "\x08\x02\x9a\x01\x00", 5, &err), 0);
	assert_int_equal(err, LS_ERR_VERSION);
	assert_int_equal(raw_request(lv->endpoint, "", 0, &err), 0);
	assert_int_equal(err, LS_ERR_MALFORMED);
	/* an oversized one is dropped by the transport; the daemon goes on */
	{
		size_t blen = LS_API_REQUEST_MAX + 1024;
		uint8_t *b = calloc(1, blen);
		assert_non_null(b);
		assert_int_equal(raw_request(lv->endpoint, b, blen, &err), LS_ERR_TIMEOUT);
		free(b);
	}
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	ls_api_status_release(&st);
	ls_api_close(&a);

	/* a clean stop, then a restart that finds everything */
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	lv->pid = spawn(lv, log_path);
	assert_true(fx_daemon_ready(lv->endpoint));
	assert_int_equal(ls_api_open(lv->endpoint, 5000, &a, &ctx), 0);
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	assert_int_equal(st.stats.records, total);
	ls_api_status_release(&st);
	ls_api_close(&a);

	/* a second daemon on the same directory is refused */
	{
		pid_t p2 = spawn(lv, log_path);
		int status;
		assert_int_equal(waitpid(p2, &status, 0), p2);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 1);
	}

	/* a crash leaves a stale socket: clients fail at once, a new daemon
	 * clears it */
	assert_int_equal(stop(lv->pid, SIGKILL), 128 + SIGKILL);
	lv->pid = 0;
	{
		uint64_t t0 = now_ms();
		assert_int_equal(ls_api_open(lv->endpoint, 5000, &a, &ctx), LS_ERR_NET);
		assert_true(now_ms() - t0 < fx_scaled_ms(500));
	}
	lv->pid = spawn(lv, log_path);
	assert_true(fx_daemon_ready(lv->endpoint));
	assert_int_equal(stop(lv->pid, SIGINT), 0);
	lv->pid = 0;

	for (int i = 0; i < 6; i++)
		fx_env_release(&e[i]);
	for (int i = 0; i < N_THREADS; i++) {
		for (int j = 0; j < N_PER_THREAD; j++)
			fx_env_release(&more[i][j]);
		fx_actor_free(&threads[i]);
	}
	fx_actor_free(&miner);
	fx_actor_free(&proc);
}

/* ---- the reader pool ---- */

#define DEEP      60 /* records of the deep lot's chain */
#define POOL_CAP  64 /* requests in the pool of one reader (api.c POOL_PER_READER) */
#define OVER      10 /* requests beyond it */
#define N_READERS 8  /* client threads asking at once */
#define ROUNDS    6

/* Starts the daemon with --readers readers; gate (NULL: none) is the test
 * hook's file (LODESTONED_TEST_HOLD_READS). */
static pid_t
spawn_readers(struct live *lv, const char *log_path, const char *readers, const char *gate)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (log_path != NULL && freopen(log_path, "a", stderr) == NULL)
			_exit(127);
		if (gate != NULL)
			setenv("LODESTONED_TEST_HOLD_READS", gate, 1);
		execl(lv->bin, "lodestoned", "--data-dir", lv->dir, "--trust", lv->pub,
		      "--log-level", "warn", "--readers", readers, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

static void *
zsock(void *zctx, int type, const char *endpoint)
{
	void *z = zmq_socket(zctx, type);
	int linger = 0;

	assert_non_null(z);
	zmq_setsockopt(z, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(z, endpoint), 0);
	return z;
}

/* Sends req on a REQ socket, or on a DEALER (dealer: with the empty
 * delimiter a REQ socket adds). */
static void
send_req(void *z, bool dealer, const struct ls_api_request *req)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_equal(ls_api_request_encode(req, &buf, &len, NULL), 0);
	if (dealer)
		assert_int_equal(zmq_send(z, "", 0, ZMQ_SNDMORE), 0);
	assert_int_equal(zmq_send(z, buf, len, 0), (int)len);
	free(buf);
}

/* The next answer on z within ms (malloc'd bytes), or false. */
static bool
recv_answer(void *z, bool dealer, int ms, uint8_t **buf, size_t *len)
{
	zmq_pollitem_t it = {z, 0, ZMQ_POLLIN, 0};
	zmq_msg_t m;

	if (zmq_poll(&it, 1, ms) != 1)
		return false;
	zmq_msg_init(&m);
	if (dealer) {
		assert_true(zmq_msg_recv(&m, z, 0) == 0 && zmq_msg_more(&m));
	}
	assert_true(zmq_msg_recv(&m, z, 0) >= 0);
	assert_false(zmq_msg_more(&m));
	*len = zmq_msg_size(&m);
	*buf = malloc(*len ? *len : 1);
	assert_non_null(*buf);
	memcpy(*buf, zmq_msg_data(&m), *len);
	zmq_msg_close(&m);
	return true;
}

/* The error code of an answer (0: a result of kind `kind`). */
static int
answer_error(const uint8_t *buf, size_t len, enum ls_api_kind kind, char *msg, size_t cap)
{
	struct ls_api_response resp;
	int err;

	assert_int_equal(ls_api_response_decode(buf, len, &resp, NULL), 0);
	err = resp.error;
	if (err == 0)
		assert_int_equal(resp.kind, kind);
	if (msg != NULL)
		snprintf(msg, cap, "%s", resp.message);
	ls_api_response_release(&resp);
	return err;
}

struct asker {
	const char *endpoint;
	const struct ls_api_request *reqs;
	uint8_t *const *want;
	const size_t *want_len;
	size_t n;
	int mismatches;
};

/* Asks every request ROUNDS times on its own connection, comparing each
 * answer with the single reader's. */
static void *
ask_main(void *arg)
{
	struct asker *k = arg;
	void *zctx = zmq_ctx_new(), *z = zsock(zctx, ZMQ_REQ, k->endpoint);

	for (int r = 0; r < ROUNDS; r++)
		for (size_t i = 0; i < k->n; i++) {
			size_t j = (i + (size_t)r) % k->n, len;
			uint8_t *buf;
			send_req(z, false, &k->reqs[j]);
			if (!recv_answer(z, false, 60000, &buf, &len)) {
				k->mismatches++;
				goto out;
			}
			if (len != k->want_len[j] || memcmp(buf, k->want[j], len) != 0)
				k->mismatches++;
			free(buf);
		}
out:
	zmq_close(z);
	zmq_ctx_term(zctx);
	return NULL;
}

static int
run_client_status(const struct live *lv, const char *args, const char *err_path)
{
	char cmd[5 * PATH_MAX], dir[PATH_MAX], *slash;
	int st;

	snprintf(dir, sizeof(dir), "%s", lv->bin);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	snprintf(cmd, sizeof(cmd), "%s/lodestone --api %s %s >/dev/null 2>%s", dir, lv->endpoint,
		 args, err_path);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_api_readers(void **state)
{
	struct live *lv = *state;
	struct fx_actor *p;
	struct fx_env chain[DEEP + 1], late;
	const uint8_t *envs[DEEP + 1];
	size_t lens[DEEP + 1], len;
	struct ls_ingest_result res[DEEP + 1];
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_api_status st;
	struct ls_api_request reqs[9], get;
	uint8_t deep[LS_ID_LEN], first[LS_ID_LEN], *want[9], *buf;
	size_t want_len[9], n_reqs = 0;
	char gate[PATH_MAX], log_path[PATH_MAX], err_path[PATH_MAX], msg[LS_ERR_MSG_MAX];
	void *zctx, *q, *d;
	uint64_t t0;

	if (lv->bin[0] == '\0') {
		fprintf(stderr, "test_api_readers: no lodestoned beside this test: skipped\n");
		skip();
	}
	snprintf(gate, sizeof(gate), "%s.hold", lv->dir);
	snprintf(log_path, sizeof(log_path), "%s.log", lv->dir);
	snprintf(err_path, sizeof(err_path), "%s.err", lv->dir);
	lv->pid = spawn_readers(lv, log_path, "1", gate);
	assert_true(lv->pid > 0);
	assert_true(fx_daemon_ready(lv->endpoint));
	assert_int_equal(ls_api_open(lv->endpoint, 10000, &a, &ctx), 0);

	/* a lot with DEEP - 1 ancestors: a registration, then transformations */
	p = fx_actor_new("CN");
	assert_non_null(p);
	chain[0] =
	    fx_cert(lv->auth, p, "Baotou Steel", NULL, LS_ROLE_MINER | LS_ROLE_PROCESSOR, 0, 0);
	chain[1] = fx_lot(p, "deep-1", "Bayan Obo", NULL, "ore", 1000, "Nd=300000,Dy=50000");
	memcpy(deep, chain[1].id, LS_ID_LEN);
	memcpy(first, chain[1].id, LS_ID_LEN);
	for (int i = 2; i <= DEEP; i++) {
		struct ls_lot_input in = {.grams = 1000};
		char out[64];
		const char *outs[1] = {out};
		snprintf(out, sizeof(out), "deep-%d:alloy:1000:Nd=300000,Dy=50000", i);
		memcpy(in.lot, deep, LS_ID_LEN);
		chain[i] = fx_transform(p, &in, 1, outs, 1);
		assert_non_null(chain[i].buf);
		ls_lot_id(chain[i].id, 0, deep);
	}
	for (int i = 0; i <= DEEP; i++) {
		envs[i] = chain[i].buf;
		lens[i] = chain[i].len;
	}
	assert_int_equal(ls_api_submit(a, envs, lens, DEEP + 1, res, &ctx), 0);
	for (int i = 0; i <= DEEP; i++)
		if (res[i].status != LS_INGEST_ACCEPTED)
			fail_msg("record %d: %s", i, res[i].message);

	zctx = zmq_ctx_new();
	memset(reqs, 0, sizeof(reqs));
	reqs[0].kind = LS_API_VERIFY;
	memcpy(reqs[0].verify.lot, deep, LS_ID_LEN);

	/* A submission is acknowledged while a query is in flight: the
	 * verification is held by the reader (the test hook), the submission
	 * and a status (main thread) are answered, and only then, once
	 * released, the verification. */
	touch(gate);
	q = zsock(zctx, ZMQ_REQ, lv->endpoint);
	send_req(q, false, &reqs[0]);
	late = fx_lot(p, "late-1", "Bayan Obo", NULL, "ore", 500, "Nd=300000");
	envs[0] = late.buf;
	lens[0] = late.len;
	assert_int_equal(ls_api_submit(a, envs, lens, 1, res, &ctx), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	assert_int_equal(st.stats.records, DEEP + 2);
	ls_api_status_release(&st);
	assert_false(recv_answer(q, false, 0, &buf, &len)); /* still held */
	unlink(gate);
	assert_true(recv_answer(q, false, 30000, &buf, &len));
	assert_int_equal(answer_error(buf, len, LS_API_VERIFY, NULL, 0), 0);
	{
		struct ls_api_response resp;
		assert_int_equal(ls_api_response_decode(buf, len, &resp, NULL), 0);
		assert_int_equal(resp.verify.kind, LS_V_VALID);
		assert_int_equal(resp.verify.ancestors, DEEP);
		ls_api_response_release(&resp);
	}
	free(buf);
	zmq_close(q);

	/* The single reader's answers, asked one at a time. */
	n_reqs = 1;
	reqs[n_reqs].kind = LS_API_ORIGIN;
	memcpy(reqs[n_reqs++].origin.lot, deep, LS_ID_LEN);
	reqs[n_reqs].kind = LS_API_TRACE;
	memcpy(reqs[n_reqs++].trace.lot, deep, LS_ID_LEN);
	reqs[n_reqs].kind = LS_API_TRACE;
	reqs[n_reqs].trace.down = true;
	memcpy(reqs[n_reqs++].trace.lot, first, LS_ID_LEN);
	reqs[n_reqs].kind = LS_API_GET;
	memcpy(reqs[n_reqs++].get.id, chain[DEEP / 2].id, LS_ID_LEN);
	reqs[n_reqs].kind = LS_API_HEAD;
	memcpy(reqs[n_reqs++].head.author, p->kp->pk, LS_KEY_LEN);
	reqs[n_reqs].kind = LS_API_LOG;
	reqs[n_reqs++].log.limit = 25;
	reqs[n_reqs].kind = LS_API_HOLDINGS;
	memcpy(reqs[n_reqs++].holdings.holder, p->kp->pk, LS_KEY_LEN);
	reqs[n_reqs].kind = LS_API_VERIFY; /* an unknown lot: an error answer */
	memcpy(reqs[n_reqs++].verify.lot, p->kp->pk, LS_ID_LEN);
	q = zsock(zctx, ZMQ_REQ, lv->endpoint);
	for (size_t i = 0; i < n_reqs; i++) {
		send_req(q, false, &reqs[i]);
		assert_true(recv_answer(q, false, 30000, &want[i], &want_len[i]));
		assert_int_equal(answer_error(want[i], want_len[i], reqs[i].kind, msg, sizeof(msg)),
				 i + 1 == n_reqs ? LS_ERR_NOT_FOUND : 0);
	}
	zmq_close(q);

	/* A full pool: with the reader holding, POOL_CAP requests are taken and
	 * the next are refused at once as busy; released, the POOL_CAP are
	 * answered. */
	memset(&get, 0, sizeof(get));
	get.kind = LS_API_GET;
	memcpy(get.get.id, chain[1].id, LS_ID_LEN);
	touch(gate);
	d = zsock(zctx, ZMQ_DEALER, lv->endpoint);
	for (int i = 0; i < POOL_CAP + OVER; i++)
		send_req(d, true, &get);
	for (int i = 0; i < OVER; i++) {
		assert_true(recv_answer(d, true, 30000, &buf, &len));
		assert_int_equal(answer_error(buf, len, LS_API_GET, msg, sizeof(msg)),
				 LS_ERR_OVERLOADED);
		assert_non_null(strstr(msg, "busy"));
		free(buf);
	}
	/* the client says so, with its own exit status */
	assert_int_equal(run_client_status(lv, "log", err_path), 6);
	{
		char line[512] = "";
		FILE *f = fopen(err_path, "r");
		assert_non_null(f);
		assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		assert_non_null(strstr(line, "busy"));
	}
	assert_int_equal(ls_api_status(a, &st, &ctx), 0); /* the main thread answers */
	ls_api_status_release(&st);
	assert_false(recv_answer(d, true, 0, &buf, &len));
	unlink(gate);
	for (int i = 0; i < POOL_CAP; i++) {
		assert_true(recv_answer(d, true, 30000, &buf, &len));
		assert_int_equal(answer_error(buf, len, LS_API_GET, NULL, 0), 0);
		free(buf);
	}

	/* A stop with queries in flight (one held by the reader, the rest
	 * queued: the one more refused says the pool is full) is clean. */
	touch(gate);
	for (int i = 0; i < POOL_CAP + 1; i++)
		send_req(d, true, &get);
	assert_true(recv_answer(d, true, 30000, &buf, &len));
	assert_int_equal(answer_error(buf, len, LS_API_GET, NULL, 0), LS_ERR_OVERLOADED);
	free(buf);
	ls_api_close(&a);
	t0 = now_ms();
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	assert_true(now_ms() - t0 < fx_scaled_ms(10000));
	lv->pid = 0;
	unlink(gate);
	zmq_close(d);
	zmq_ctx_term(zctx);

	/* Many readers, many clients at once: the same answers as the single
	 * reader gave. */
	lv->pid = spawn_readers(lv, log_path, "4", NULL);
	assert_true(fx_daemon_ready(lv->endpoint));
	{
		pthread_t th[N_READERS];
		struct asker k[N_READERS];
		for (int i = 0; i < N_READERS; i++) {
			k[i] = (struct asker){lv->endpoint, reqs, want, want_len, n_reqs, 0};
			assert_int_equal(pthread_create(&th[i], NULL, ask_main, &k[i]), 0);
		}
		for (int i = 0; i < N_READERS; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(k[i].mismatches, 0);
		}
	}
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	lv->pid = 0;

	/* One connection's share: with 2 readers (a pool of 2 * POOL_CAP), one
	 * connection gets POOL_CAP in and the next are refused as its share,
	 * while another connection still gets in. */
	lv->pid = spawn_readers(lv, log_path, "2", gate);
	assert_true(fx_daemon_ready(lv->endpoint));
	zctx = zmq_ctx_new();
	touch(gate);
	d = zsock(zctx, ZMQ_DEALER, lv->endpoint);
	for (int i = 0; i < POOL_CAP + OVER; i++)
		send_req(d, true, &get);
	for (int i = 0; i < OVER; i++) {
		assert_true(recv_answer(d, true, 30000, &buf, &len));
		assert_int_equal(answer_error(buf, len, LS_API_GET, msg, sizeof(msg)),
				 LS_ERR_OVERLOADED);
		assert_non_null(strstr(msg, "this connection"));
		free(buf);
	}
	{
		void *d2 = zsock(zctx, ZMQ_DEALER, lv->endpoint);
		send_req(d2, true, &get);
		assert_false(recv_answer(d2, true, 300, &buf, &len)); /* taken, held */
		unlink(gate);
		assert_true(recv_answer(d2, true, 30000, &buf, &len));
		assert_int_equal(answer_error(buf, len, LS_API_GET, NULL, 0), 0);
		free(buf);
		zmq_close(d2);
	}
	for (int i = 0; i < POOL_CAP; i++) {
		assert_true(recv_answer(d, true, 30000, &buf, &len));
		assert_int_equal(answer_error(buf, len, LS_API_GET, NULL, 0), 0);
		free(buf);
	}
	/* the share is given back: the connection gets in again */
	send_req(d, true, &get);
	assert_true(recv_answer(d, true, 30000, &buf, &len));
	assert_int_equal(answer_error(buf, len, LS_API_GET, NULL, 0), 0);
	free(buf);
	zmq_close(d);
	zmq_ctx_term(zctx);
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	lv->pid = 0;

	for (size_t i = 0; i < n_reqs; i++)
		free(want[i]);
	for (int i = 0; i <= DEEP; i++)
		fx_env_release(&chain[i]);
	fx_env_release(&late);
	fx_actor_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_api_request_roundtrip),
	    cmocka_unit_test(test_api_request_encode_invalid),
	    cmocka_unit_test(test_api_request_malformed),
	    cmocka_unit_test(test_api_request_oversized),
	    cmocka_unit_test(test_api_response_roundtrip),
	    cmocka_unit_test(test_api_response_error),
	    cmocka_unit_test(test_api_response_malformed),
	    cmocka_unit_test(test_api_random_bytes),
	    cmocka_unit_test(test_api_open_unreachable),
	    cmocka_unit_test(test_api_timeout),
	    cmocka_unit_test(test_api_busy_or_gone),
	    cmocka_unit_test_setup_teardown(test_api_daemon, live_setup, live_teardown),
	    cmocka_unit_test_setup_teardown(test_api_readers, live_setup, live_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
