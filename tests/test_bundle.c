/*
 * test_bundle.c - proof bundles: what they carry (not participants' feeds,
 * authorities' feeds whole, equivocation evidence), how a store that checks
 * one treats a missing feed predecessor, and that a node's store does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "record.h"
#include "store.h"
#include "verify.h"

#include "helper_fixture.h"

struct bw {
	char *dir, *dir2;
	struct ls_store *s;  /* the node's store */
	struct ls_store *bs; /* a store checking a bundle */
	struct fx_actor *auth, *miner, *proc;
};

static int
setup(void **state)
{
	struct bw *w = calloc(1, sizeof(*w));

	if (w == NULL || (w->dir = fx_tmpdir()) == NULL || (w->dir2 = fx_tmpdir()) == NULL)
		return -1;
	w->auth = fx_actor_new("CN");
	w->miner = fx_actor_new("CN");
	w->proc = fx_actor_new("CN");
	if (w->auth == NULL || w->miner == NULL || w->proc == NULL ||
	    fx_store_open(w->dir, w->auth, 0, &w->s) != 0 ||
	    fx_bundle_store_open(w->dir2, w->auth, &w->bs) != 0)
		return -1;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct bw *w = *state;

	ls_store_close(&w->s);
	ls_store_close(&w->bs);
	fx_rmtree(w->dir);
	fx_rmtree(w->dir2);
	free(w->dir);
	free(w->dir2);
	fx_actor_free(&w->auth);
	fx_actor_free(&w->miner);
	fx_actor_free(&w->proc);
	free(w);
	return 0;
}

static void
ok(struct ls_store *s, struct fx_env *e)
{
	struct ls_ingest_result r;

	assert_non_null(e->buf);
	assert_int_equal(fx_ingest_one(s, e->buf, e->len, &r), 0);
	if (r.status != LS_INGEST_ACCEPTED)
		fprintf(stderr, "not accepted: %s %s\n", ls_reason_code(r.reason), r.message);
	assert_int_equal(r.status, LS_INGEST_ACCEPTED);
}

static struct ls_ingest_result
one(struct ls_store *s, const struct fx_env *e)
{
	struct ls_ingest_result r;

	assert_int_equal(fx_ingest_one(s, e->buf, e->len, &r), 0);
	return r;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* Certificates of the miner and the processor, and a CN policy. */
static void
world(struct bw *w)
{
	struct fx_policy_spec ps = {.jurisdiction = "CN",
				    .effective_from = FX_T0 - FX_DAY,
				    .elements = "Dy",
				    .controlled_categories = "oxide",
				    .denied_end_uses = "military"};
	struct fx_env e;

	e = fx_cert(w->auth, w->miner, "Bayan Obo", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	ok(w->s, &e);
	fx_env_release(&e);
	e = fx_cert(w->auth, w->proc, "Baotou", NULL, LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, 0, 0);
	ok(w->s, &e);
	fx_env_release(&e);
	e = fx_policy(w->auth, &ps);
	ok(w->s, &e);
	fx_env_release(&e);
}

/* Ingests a bundle into s; counts per status in st[4]. */
static void
load(struct ls_store *s, const uint8_t *buf, size_t len, size_t st[4])
{
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0;
	struct ls_ingest_result *res;

	assert_int_equal(ls_bundle_decode(buf, len, 1000000, &envs, &lens, &n, NULL), 0);
	res = calloc(n ? n : 1, sizeof(*res));
	assert_non_null(res);
	assert_int_equal(ls_store_ingest(s, envs, lens, n, res, NULL), 0);
	memset(st, 0, 4 * sizeof(*st));
	for (size_t i = 0; i < n; i++)
		st[res[i].status]++;
	free(res);
	free(envs);
	free(lens);
}

/*
 * A lot with one ancestor whose maker's feed holds many records bundles in
 * a handful of records; a store checking the bundle gives the node's
 * verdict; a node's store still waits for the maker's feed.
 */
static void
test_bundle_long_feed(void **state)
{
	struct bw *w = *state;
	/* LODESTONE_BUNDLE_FEED=N measures a longer feed (a multiple of 500). */
	const char *env_n = getenv("LODESTONE_BUNDLE_FEED");
	const size_t CHUNK = 500, N = env_n != NULL && atol(env_n) >= 500
					  ? (size_t)atol(env_n) / 500 * 500
					  : 5000;
	struct fx_env *bulk = calloc(CHUNK, sizeof(*bulk)), e, tr, mid;
	struct ls_lot_input in;
	const char *out[] = {"Dy-ox:oxide:10:Dy=800000"};
	struct ls_verdict v1, v2;
	struct timespec t0;
	uint8_t *buf = NULL, lot[32];
	size_t len = 0, st[4], n_rec;
	double collect_ms, verify_ms;
	char *dir3 = fx_tmpdir();
	struct ls_store *node2 = NULL;

	assert_non_null(bulk);
	assert_non_null(dir3);
	world(w);
	/* N records of the miner, the ancestor in the middle of them. */
	for (size_t done = 0; done < N; done += CHUNK) {
		for (size_t i = 0; i < CHUNK; i++) {
			char label[32];
			snprintf(label, sizeof(label), "bulk-%zu", done + i);
			bulk[i] = fx_lot(w->miner, label, "Bayan Obo", NULL, "ore", 10, "Nd=1000");
			assert_non_null(bulk[i].buf);
		}
		assert_int_equal(fx_ingest(w->s, bulk, CHUNK, NULL), 0);
		for (size_t i = 0; i < CHUNK; i++)
			fx_env_release(&bulk[i]);
		if (done == N / 2) {
			mid = fx_lot(w->miner, "ore", "Bayan Obo", NULL, "ore", 5000,
				     "Nd=50000,Dy=2000");
			ok(w->s, &mid);
		}
	}
	tr = fx_transfer(w->miner, mid.id, 5000, w->proc, NULL, NULL);
	ok(w->s, &tr);
	e = fx_receipt(w->proc, tr.id, 5000);
	ok(w->s, &e);
	fx_env_release(&e);
	memcpy(in.lot, mid.id, 32);
	in.grams = 5000;
	e = fx_transform(w->proc, &in, 1, out, 1);
	ok(w->s, &e);
	ls_lot_id(e.id, 0, lot);
	fx_env_release(&e);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(ls_bundle_collect(w->s, lot, &buf, &len), 0);
	collect_ms = ms_since(&t0);
	{
		const uint8_t **envs = NULL;
		size_t *lens = NULL;
		assert_int_equal(ls_bundle_decode(buf, len, 1000000, &envs, &lens, &n_rec, NULL),
				 0);
		free(envs);
		free(lens);
	}
	/* Certificates (2), policy, registration, transfer, receipt, transform;
	 * the authority's feed from seq 1. */
	assert_int_equal(n_rec, 7);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	load(w->bs, buf, len, st);
	assert_int_equal(st[LS_INGEST_ACCEPTED], n_rec);
	assert_int_equal(ls_verify_provenance(w->bs, lot, &v2), 0);
	verify_ms = ms_since(&t0);
	assert_int_equal(ls_verify_provenance(w->s, lot, &v1), 0);
	assert_int_equal(v1.kind, LS_V_VALID);
	assert_int_equal(v2.kind, v1.kind);
	assert_int_equal(v2.n, v1.n);
	for (size_t i = 0; i < v1.n; i++)
		assert_int_equal(v2.reasons[i].code, v1.reasons[i].code);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);
	fprintf(stderr,
		"# bundle of a lot whose maker's feed holds %zu records: %zu records, %zu bytes, "
		"collected in %.1f ms, checked offline in %.1f ms\n",
		N + 1, n_rec, len, collect_ms, verify_ms);

	/* A node's store: the feed is consensus, the miner's transfer waits
	 * for its predecessor. */
	assert_int_equal(fx_store_open(dir3, w->auth, 0, &node2), 0);
	load(node2, buf, len, st);
	assert_true(st[LS_INGEST_PENDING] >= 1);
	ls_store_close(&node2);
	fx_rmtree(dir3);
	free(dir3);
	free(buf);
	free(bulk);
	fx_env_release(&mid);
	fx_env_release(&tr);
}

/* Checking a bundle: a participant's record is judged without its feed
 * predecessor, an authority's waits for it; a predecessor that is there is
 * still checked. */
static void
test_bundle_store_feeds(void **state)
{
	struct bw *w = *state;
	struct fx_env cm, cp, pol, l1, l2, l3, l4, bad;
	struct fx_policy_spec ps = {.jurisdiction = "CN", .effective_from = FX_T0};
	struct fx_mark m;
	struct ls_ingest_result r;

	cm = fx_cert(w->auth, w->miner, "m", NULL, LS_ROLE_MINER, 0, 0);
	pol = fx_policy(w->auth, &ps);
	cp = fx_cert(w->auth, w->proc, "p", NULL, LS_ROLE_PROCESSOR, 0, 0);
	w->miner->ts_step = 10;
	l1 = fx_lot(w->miner, "l1", "s", NULL, "ore", 10, "Nd=1");
	l2 = fx_lot(w->miner, "l2", "s", NULL, "ore", 10, "Nd=1");
	l3 = fx_lot(w->miner, "l3", "s", NULL, "ore", 10, "Nd=1");
	m = fx_mark(w->miner);
	l4 = fx_lot(w->miner, "l4", "s", NULL, "ore", 10, "Nd=1");

	ok(w->bs, &cm);
	/* The authority's cp without pol: it waits. */
	r = one(w->bs, &cp);
	assert_int_equal(r.status, LS_INGEST_PENDING);
	assert_true(r.has_missing);
	assert_memory_equal(r.missing, pol.id, 32);
	/* The miner's l3 without l1 and l2: judged on what it names. */
	ok(w->bs, &l3);
	/* l2 below the head: stored off the followed branch, still checked. */
	ok(w->bs, &l2);
	ok(w->bs, &pol); /* releases cp */
	r = one(w->bs, &cp);
	assert_int_equal(r.status, LS_INGEST_KNOWN);
	/* A record that names a predecessor the bundle holds at the wrong seq. */
	fx_rewind(w->miner, &m);
	w->miner->seq += 2; /* seq 6, prev l3 (seq 3) */
	bad = fx_lot(w->miner, "bad", "s", NULL, "ore", 10, "Nd=1");
	r = one(w->bs, &bad);
	assert_int_equal(r.status, LS_INGEST_REJECTED);
	assert_int_equal(r.reason, LS_R_BAD_PREV);
	/* Dated before its predecessor. */
	fx_rewind(w->miner, &m);
	w->miner->ts = m.ts - 100;
	fx_env_release(&bad);
	bad = fx_lot(w->miner, "early", "s", NULL, "ore", 10, "Nd=1");
	r = one(w->bs, &bad);
	assert_int_equal(r.status, LS_INGEST_REJECTED);
	assert_int_equal(r.reason, LS_R_TIME_BACKWARDS);
	ok(w->bs, &l4);

	/* The node's store: l3 waits for l2, l2 for l1, as ever. */
	ok(w->s, &cm);
	r = one(w->s, &l3);
	assert_int_equal(r.status, LS_INGEST_PENDING);
	r = one(w->s, &l2);
	assert_int_equal(r.status, LS_INGEST_PENDING);
	ok(w->s, &l1);
	r = one(w->s, &l3);
	assert_int_equal(r.status, LS_INGEST_KNOWN);

	fx_env_release(&cm);
	fx_env_release(&cp);
	fx_env_release(&pol);
	fx_env_release(&l1);
	fx_env_release(&l2);
	fx_env_release(&l3);
	fx_env_release(&l4);
	fx_env_release(&bad);
}

/* The evidence a node keeps travels in the bundle and breaks the verdict
 * offline as on the node; a pair that is not evidence is refused. */
static void
test_bundle_evidence(void **state)
{
	struct bw *w = *state;
	struct fx_env cm, a, b, other;
	struct fx_mark m;
	struct ls_bundle_evidence ev[4], *got = NULL;
	struct ls_ingest_result res[4];
	struct ls_verdict v1, v2;
	uint8_t *buf = NULL, *tampered;
	size_t len = 0, n_ev = 0, st[4];

	cm = fx_cert(w->auth, w->miner, "m", NULL, LS_ROLE_MINER, 0, 0);
	ok(w->s, &cm);
	m = fx_mark(w->miner);
	a = fx_lot(w->miner, "a", "s", NULL, "ore", 10, "Nd=1");
	fx_rewind(w->miner, &m);
	b = fx_lot(w->miner, "b", "s", NULL, "ore", 11, "Nd=1");
	other = fx_lot(w->proc, "o", "s", NULL, "ore", 11, "Nd=1");
	ok(w->s, &a);
	ok(w->s, &b);
	assert_int_equal(ls_verify_provenance(w->s, a.id, &v1), 0);
	assert_int_equal(v1.kind, LS_V_BROKEN);

	assert_int_equal(ls_bundle_collect(w->s, a.id, &buf, &len), 0);
	assert_int_equal(ls_bundle_evidence(buf, len, 10, &got, &n_ev, NULL), 0);
	assert_int_equal(n_ev, 1);
	assert_true((got[0].la == a.len && memcmp(got[0].a, a.buf, a.len) == 0) ||
		    (got[0].la == b.len && memcmp(got[0].a, b.buf, b.len) == 0));
	free(got);
	assert_int_equal(ls_bundle_evidence(buf, len, 0, &got, &n_ev, NULL), LS_ERR_TOO_BIG);
	assert_int_equal(ls_bundle_evidence(buf, len, 10, &got, &n_ev, NULL), 0);

	/* A node keeps only the evidence it stored. */
	assert_int_equal(ls_store_evidence_add(w->s, got, 1, res), LS_ERR_INVALID);

	/* Not evidence: two authors; one record twice; a bad signature. */
	ev[0] = (struct ls_bundle_evidence){a.buf, other.buf, a.len, other.len};
	ev[1] = (struct ls_bundle_evidence){a.buf, a.buf, a.len, a.len};
	tampered = malloc(b.len);
	assert_non_null(tampered);
	memcpy(tampered, b.buf, b.len);
	tampered[b.len - 1] ^= 1; /* the signature's last byte */
	ev[2] = (struct ls_bundle_evidence){a.buf, tampered, a.len, b.len};
	ev[3] = got[0];
	assert_int_equal(ls_store_evidence_add(w->bs, ev, 4, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_REJECTED);
	assert_int_equal(res[0].reason, LS_R_MALFORMED);
	assert_int_equal(res[1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[1].reason, LS_R_MALFORMED);
	assert_int_equal(res[2].status, LS_INGEST_REJECTED);
	assert_int_equal(res[2].reason, LS_R_BAD_SIGNATURE);
	assert_int_equal(res[3].status, LS_INGEST_ACCEPTED);

	load(w->bs, buf, len, st);
	assert_int_equal(st[LS_INGEST_REJECTED] + st[LS_INGEST_PENDING], 0);
	assert_int_equal(ls_verify_provenance(w->bs, a.id, &v2), 0);
	assert_int_equal(v2.kind, LS_V_BROKEN);
	assert_int_equal(v2.n, v1.n);
	for (size_t i = 0; i < v1.n; i++) {
		assert_int_equal(v2.reasons[i].code, v1.reasons[i].code);
		assert_string_equal(v2.reasons[i].message, v1.reasons[i].message);
	}
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);
	free(tampered);
	free(got);
	free(buf);
	fx_env_release(&cm);
	fx_env_release(&a);
	fx_env_release(&b);
	fx_env_release(&other);
}

/* The records a store checking a bundle applied are the proof of the lot the
 * bundle names, not of its ancestor once the lot has moved. */
static void
test_bundle_members(void **state)
{
	struct bw *w = *state;
	struct fx_env e[8];
	struct ls_lot_input in;
	const char *out[] = {"ox:oxide:2:Dy=800000"};
	uint8_t lot[32], *buf = NULL, ids[16][32];
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0, len = 0, extra, st[4];
	struct ls_record *r = NULL;

	e[0] = fx_cert(w->auth, w->miner, "m", NULL, LS_ROLE_MINER | LS_ROLE_PROCESSOR, 0, 0);
	e[1] = fx_cert(w->auth, w->proc, "p", NULL, LS_ROLE_PROCESSOR, 0, 0);
	e[2] = fx_lot(w->miner, "ore", "s", NULL, "ore", 1000, "Dy=2000");
	e[3] = fx_transfer(w->miner, e[2].id, 1000, w->proc, NULL, NULL);
	e[4] = fx_receipt(w->proc, e[3].id, 1000);
	memcpy(in.lot, e[2].id, 32);
	in.grams = 1000;
	e[5] = fx_transform(w->proc, &in, 1, out, 1);
	ls_lot_id(e[5].id, 0, lot);
	e[6] = fx_transfer(w->proc, lot, 1, w->miner, NULL, NULL);
	e[7] = fx_receipt(w->miner, e[6].id, 1);
	for (size_t i = 0; i < 8; i++)
		ok(w->s, &e[i]);
	assert_int_equal(ls_bundle_collect(w->s, lot, &buf, &len), 0);
	load(w->bs, buf, len, st);
	assert_int_equal(ls_bundle_decode(buf, len, 100, &envs, &lens, &n, NULL), 0);
	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ls_record_decode(envs[i], lens[i], &r, NULL), 0);
		memcpy(ids[i], r->id, 32);
		ls_record_free(r);
		r = NULL;
	}
	assert_int_equal(ls_bundle_members(w->bs, lot, (const uint8_t(*)[32])ids, n, &extra), 0);
	assert_int_equal(extra, n);
	assert_int_equal(ls_bundle_members(w->bs, e[2].id, (const uint8_t(*)[32])ids, n, &extra),
			 0);
	assert_true(extra < n);
	assert_int_equal(ls_bundle_members(w->bs, e[6].id, (const uint8_t(*)[32])ids, n, &extra),
			 LS_ERR_NOT_FOUND);
	free(envs);
	free(lens);
	free(buf);
	for (size_t i = 0; i < 8; i++)
		fx_env_release(&e[i]);
}

/* Bundle.evidence: encoded, decoded, and refused when malformed. */
static void
test_bundle_evidence_format(void **state)
{
	const uint8_t env1[] = {1, 2, 3}, env2[] = {4, 5};
	const uint8_t *envs[] = {env1};
	size_t lens[] = {sizeof(env1)};
	struct ls_bundle_evidence ev = {env1, env2, sizeof(env1), sizeof(env2)}, *got = NULL;
	uint8_t *buf = NULL, lot[32] = {7}, named[32];
	const uint8_t **g = NULL;
	size_t *gl = NULL, len = 0, n = 0;

	(void)state;
	assert_int_equal(ls_bundle_encode_ev(envs, lens, 1, lot, &ev, 1, &buf, &len), 0);
	assert_int_equal(ls_bundle_decode(buf, len, 10, &g, &gl, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ls_bundle_lot(buf, len, named), 0);
	assert_memory_equal(named, lot, 32);
	assert_int_equal(ls_bundle_evidence(buf, len, 10, &got, &n, NULL), 0);
	assert_int_equal(n, 1);
	assert_int_equal(got[0].la, sizeof(env1));
	assert_memory_equal(got[0].a, env1, sizeof(env1));
	assert_int_equal(got[0].lb, sizeof(env2));
	assert_memory_equal(got[0].b, env2, sizeof(env2));
	free(got);
	free(g);
	free(gl);
	free(buf);
	/* Evidence without b; with a twice; with another field. */
	assert_int_equal(
	    ls_bundle_evidence((const uint8_t *)"\x1a\x03\x0a\x01x", 5, 10, &got, &n, NULL),
	    LS_ERR_MALFORMED);
	assert_int_equal(ls_bundle_evidence((const uint8_t *)"\x1a\x09\x0a\x01x\x0a\x01y\x12\x01z",
					    11, 10, &got, &n, NULL),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_bundle_evidence((const uint8_t *)"\x1a\x09\x0a\x01x\x12\x01y\x1a\x01z",
					    11, 10, &got, &n, NULL),
			 LS_ERR_MALFORMED);
	/* Longer than the message holds. */
	assert_int_equal(ls_bundle_evidence((const uint8_t *)"\x1a\x06\x0a\x01x\x12\x09y", 8, 10,
					    &got, &n, NULL),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_bundle_evidence((const uint8_t *)"\x1a\x06\x0a\x01x\x12\x01y", 8, 10,
					    &got, &n, NULL),
			 0);
	assert_int_equal(n, 1);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bundle_long_feed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_store_feeds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_evidence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_members, setup, teardown),
	    cmocka_unit_test(test_bundle_evidence_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
