/*
 * test_witness.c - the witness's checks (lib/witness.c) against logs built
 * here, leaf by leaf, with real signatures: cosigning and growing, every
 * refusal (400, 403, 404, 409, 422 and each Lodestone reason), missing
 * records, split views (and their evidence, checked), the heads of an
 * equivocating author, the grace period; and the witness state tables
 * (lib/witstore.c) in a real store, with their compare-and-swap, kept
 * across --reindex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "helper_fixture.h"
#include "note.h"
#include "store.h"
#include "tlog.h"
#include "util.h"
#include "witness.h"

#define MAXLEAVES 17000
#define MAXRECS   40000

/* A record the "witness store" may hold. */
struct trec {
	uint8_t id[32];
	struct ls_witness_rec r;
	bool present;
};

/* A log as its owner keeps it. */
struct tlog {
	uint8_t (*leaves)[LS_TLOG_LEAF_LEN];
	uint8_t (*hashes)[LS_TLOG_HASH];
	uint64_t n;
	/* the owner's feed heads (ingest's main branch) */
	struct ls_whead heads[64];
	size_t n_heads;
};

/* What the witness keeps. */
struct tstate {
	bool has;
	struct ls_wlog st;
	char note[LS_NOTE_MAX + 1];
	size_t note_len;
	struct ls_whead heads[64];
	size_t n_heads;
};

struct tauth {
	uint8_t author[32];
	uint64_t seq;
	uint64_t time;
};

struct t {
	uint8_t log_pk[32], log_sk[64], wit_pk[32], wit_sk[64], other_pk[32], other_sk[64];
	struct ls_vkey log_key, wit_key;
	char origin[64], wit_name[64];
	struct trec *recs; /* MAXRECS; a record's index is the first 4 bytes of its id */
	size_t n_recs;
	uint8_t authors[6][32];
	uint64_t seqs[6];
	uint8_t last[6][32];
	struct tauth auth[8];
	size_t n_auth;
	bool fetchable; /* missing records arrive when asked for */
	size_t asked;   /* records asked for */
};

static struct t *T;

static int
setup(void **state)
{
	char hex[65];

	(void)state;
	assert_true(sodium_init() >= 0);
	T = calloc(1, sizeof(*T));
	assert_non_null(T);
	T->recs = calloc(MAXRECS, sizeof(*T->recs));
	assert_non_null(T->recs);
	crypto_sign_keypair(T->log_pk, T->log_sk);
	crypto_sign_keypair(T->wit_pk, T->wit_sk);
	crypto_sign_keypair(T->other_pk, T->other_sk);
	snprintf(T->origin, sizeof(T->origin), "lodestone/%.16s", ls_hex(T->log_pk, 32, hex));
	snprintf(T->wit_name, sizeof(T->wit_name), "lodestone-witness/%.16s",
		 ls_hex(T->wit_pk, 32, hex));
	assert_int_equal(ls_vkey_make(&T->log_key, T->origin, LS_NOTE_ED25519, T->log_pk), 0);
	assert_int_equal(ls_vkey_make(&T->wit_key, T->wit_name, LS_NOTE_COSIG, T->wit_pk), 0);
	for (size_t i = 0; i < 6; i++)
		randombytes_buf(T->authors[i], 32);
	*state = T;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(T->recs);
	free(T);
	T = NULL;
	return 0;
}

/* New authors with empty feeds: each test's log starts every feed at 1. */
static void
fresh_authors(void)
{
	for (size_t i = 0; i < 6; i++) {
		randombytes_buf(T->authors[i], 32);
		T->seqs[i] = 0;
		memset(T->last[i], 0, 32);
	}
}

static struct tlog *
log_new(void)
{
	struct tlog *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	l->leaves = calloc(MAXLEAVES, sizeof(*l->leaves));
	l->hashes = calloc(MAXLEAVES, sizeof(*l->hashes));
	assert_non_null(l->leaves);
	assert_non_null(l->hashes);
	return l;
}

static void
log_free(struct tlog *l)
{
	free(l->leaves);
	free(l->hashes);
	free(l);
}

static struct tlog *
log_copy(const struct tlog *src)
{
	struct tlog *l = log_new();
	uint8_t(*lv)[LS_TLOG_LEAF_LEN] = l->leaves;
	uint8_t(*hs)[LS_TLOG_HASH] = l->hashes;

	*l = *src;
	l->leaves = lv;
	l->hashes = hs;
	memcpy(l->leaves, src->leaves, src->n * sizeof(*lv));
	memcpy(l->hashes, src->hashes, src->n * sizeof(*hs));
	return l;
}

static void
log_leaf(struct tlog *l, uint8_t kind, const uint8_t data[32])
{
	assert_true(l->n < MAXLEAVES);
	l->leaves[l->n][0] = kind;
	memcpy(l->leaves[l->n] + 1, data, 32);
	ls_tlog_leaf_hash(l->leaves[l->n], LS_TLOG_LEAF_LEN, l->hashes[l->n]);
	l->n++;
}

/* The owner's rule (ingest's main branch), written out again here. */
static void
owner_follow(struct tlog *l, const uint8_t id[32], const struct ls_witness_rec *r)
{
	for (size_t i = 0; i < l->n_heads; i++) {
		if (memcmp(l->heads[i].author, r->author, 32) != 0)
			continue;
		if (r->seq == l->heads[i].seq + 1 && memcmp(r->prev, l->heads[i].id, 32) == 0) {
			l->heads[i].seq = r->seq;
			memcpy(l->heads[i].id, id, 32);
		}
		return;
	}
	if (r->seq != 1)
		return;
	assert_true(l->n_heads < 64);
	memcpy(l->heads[l->n_heads].author, r->author, 32);
	l->heads[l->n_heads].seq = 1;
	memcpy(l->heads[l->n_heads++].id, id, 32);
}

/* A record of author a at seq with prev (NULL: a's last record), held by
 * the witness when present; appended to log l (when not NULL). */
static struct trec *
rec_add(struct tlog *l, size_t a, uint64_t seq, const uint8_t *prev, bool present)
{
	struct trec *t;

	assert_true(T->n_recs < MAXRECS);
	t = &T->recs[T->n_recs];
	randombytes_buf(t->id, 32);
	t->id[0] = (uint8_t)(T->n_recs >> 24);
	t->id[1] = (uint8_t)(T->n_recs >> 16);
	t->id[2] = (uint8_t)(T->n_recs >> 8);
	t->id[3] = (uint8_t)T->n_recs;
	T->n_recs++;
	memcpy(t->r.author, T->authors[a], 32);
	t->r.seq = seq;
	if (seq > 1)
		memcpy(t->r.prev, prev ? prev : T->last[a], 32);
	else
		memset(t->r.prev, 0, 32);
	t->present = present;
	if (seq > T->seqs[a]) {
		T->seqs[a] = seq;
		memcpy(T->last[a], t->id, 32);
	}
	if (l != NULL) {
		log_leaf(l, LS_TLOG_LEAF_RECORD, t->id);
		owner_follow(l, t->id, &t->r);
	}
	return t;
}

/* n records spread over the authors, each the next of its feed. */
static void
recs_add(struct tlog *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t a = i % 6;
		rec_add(l, a, T->seqs[a] + 1, NULL, true);
	}
}

/* The heads leaf: the root of the owner's heads, computed without
 * ls_witness_heads_root. */
static void
log_seal(struct tlog *l)
{
	struct ls_whead s[64];
	struct ls_tlog_range r;
	uint8_t leaf[72], h[32], root[32];

	memcpy(s, l->heads, l->n_heads * sizeof(*s));
	for (size_t i = 0; i < l->n_heads; i++)
		for (size_t k = i + 1; k < l->n_heads; k++)
			if (memcmp(s[k].author, s[i].author, 32) < 0) {
				struct ls_whead x = s[i];
				s[i] = s[k];
				s[k] = x;
			}
	ls_tlog_range_init(&r);
	for (size_t i = 0; i < l->n_heads; i++) {
		memcpy(leaf, s[i].author, 32);
		ls_be64_put(leaf + 32, s[i].seq);
		memcpy(leaf + 40, s[i].id, 32);
		ls_tlog_leaf_hash(leaf, 72, h);
		ls_tlog_range_append(&r, h);
	}
	ls_tlog_range_root(&r, root);
	log_leaf(l, LS_TLOG_LEAF_HEADS, root);
}

static int
node(void *arg, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	const struct tlog *l = arg;
	uint64_t lo = index << level;
	uint8_t a[32], b[32];

	if (level == 0) {
		memcpy(out, l->hashes[lo], 32);
		return 0;
	}
	node(arg, level - 1, 2 * index, a);
	node(arg, level - 1, 2 * index + 1, b);
	ls_tlog_node_hash(a, b, out);
	return 0;
}

static void
log_root(const struct tlog *l, uint64_t size, uint8_t root[32])
{
	assert_int_equal(ls_tlog_root(size, node, (void *)l, root), 0);
}

/* The signed checkpoint note of l at size, by sk under origin. */
static size_t
checkpoint(const struct tlog *l, uint64_t size, const uint8_t sk[64], const char *origin,
	   struct ls_note *n)
{
	struct ls_checkpoint c;

	memset(n, 0, sizeof(*n));
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = size;
	log_root(l, size, c.root);
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	assert_true(n->body_len > 0);
	assert_int_equal(ls_note_sign(n, origin, sk), 0);
	return n->body_len;
}

/* The add-checkpoint request of l at size from old. */
static size_t
request(const struct tlog *l, uint64_t old, uint64_t size, char *out, size_t cap)
{
	struct ls_addcp *a = calloc(1, sizeof(*a));
	size_t n;

	assert_non_null(a);
	a->old = old;
	assert_int_equal(ls_tlog_consistency(old, size, node, (void *)l, a->proof, &a->n), 0);
	checkpoint(l, size, T->log_sk, T->origin, &a->cp);
	n = ls_addcp_format(a, out, cap);
	assert_true(n > 0);
	free(a);
	return n;
}

static int
lookup(void *arg, const uint8_t id[32], struct ls_witness_rec *out)
{
	size_t i = (size_t)id[0] << 24 | (size_t)id[1] << 16 | (size_t)id[2] << 8 | id[3];

	(void)arg;
	if (i >= T->n_recs || memcmp(T->recs[i].id, id, 32) != 0 || !T->recs[i].present)
		return LS_ERR_NOT_FOUND;
	*out = T->recs[i].r;
	return 0;
}

static int
authority(void *arg, uint64_t before, int (*fn)(void *fa, const uint8_t author[32], uint64_t seq),
	  void *fa)
{
	int rc;

	(void)arg;
	for (size_t i = 0; i < T->n_auth; i++)
		if (T->auth[i].time < before &&
		    (rc = fn(fa, T->auth[i].author, T->auth[i].seq)) != 0)
			return rc;
	return 0;
}

#define NOW 2000000000ull

/*
 * Runs a request against the witness state w, feeding the leaves of `feed`
 * (the log the peer serves), as the daemon does; on 200 keeps the new
 * state. Returns the final step (DONE or SPLIT) with *reply.
 */
static int
run_feed(struct tstate *w, const struct ls_vkey *key, const char *req, size_t len,
	 const uint8_t *old_root, const struct tlog *feed, struct ls_witness_reply *reply,
	 struct ls_splitview *ev)
{
	struct ls_witness_job *j = NULL;
	int step;

	step = ls_witness_start(w->has ? &w->st : NULL, w->has ? w->note : NULL, w->note_len, key,
				(const uint8_t *)req, len, old_root, &j, reply, ev);
	assert_true(step >= 0);
	if (j == NULL) {
		assert_true(step == LS_WITNESS_DONE || step == LS_WITNESS_SPLIT);
		return step;
	}
	for (size_t i = 0; i < w->n_heads; i++)
		assert_int_equal(ls_witness_job_head(j, &w->heads[i]), 0);
	while (step == LS_WITNESS_ENTRIES || step == LS_WITNESS_RECORDS) {
		if (step == LS_WITNESS_ENTRIES) {
			uint64_t from = ls_witness_job_next(j);
			size_t n = feed->n > from ? (size_t)(feed->n - from) : 0;
			if (n > LS_WITNESS_PAGE)
				n = LS_WITNESS_PAGE;
			step = ls_witness_job_feed(j, from, n ? feed->leaves[from] : NULL, n,
						   lookup, NULL, reply);
		} else {
			size_t nm;
			const uint8_t *ids = ls_witness_job_missing(j, &nm);
			assert_true(nm > 0);
			if (!T->fetchable) {
				/* the daemon waits a bounded time, then refuses */
				ls_witness_job_free(&j);
				reply->status = 0;
				return LS_WITNESS_RECORDS;
			}
			for (size_t k = 0; k < nm; k++) {
				const uint8_t *id = ids + 32 * k;
				size_t i = (size_t)id[0] << 24 | (size_t)id[1] << 16 |
					   (size_t)id[2] << 8 | id[3];
				if (i < T->n_recs)
					T->recs[i].present = true;
			}
			T->asked += nm;
			step = ls_witness_job_resume(j, lookup, NULL, reply);
		}
		assert_true(step >= 0);
	}
	if (step == LS_WITNESS_READY)
		step = ls_witness_job_finish(j, authority, NULL, NOW - LS_WITNESS_GRACE,
					     T->wit_name, T->wit_sk, NOW, reply);
	assert_int_equal(step, LS_WITNESS_DONE);
	if (reply->status == 200) {
		struct ls_whead *hs;
		size_t nh;
		const char *note;
		assert_int_equal(ls_witness_job_heads(j, &hs, &nh), 0);
		for (size_t k = 0; k < nh; k++) {
			size_t i;
			for (i = 0; i < w->n_heads; i++)
				if (memcmp(w->heads[i].author, hs[k].author, 32) == 0)
					break;
			if (i == w->n_heads)
				w->n_heads++;
			w->heads[i] = hs[k];
		}
		free(hs);
		w->st = *ls_witness_job_state(j);
		note = ls_witness_job_note(j, &w->note_len);
		memcpy(w->note, note, w->note_len + 1);
		w->has = true;
	}
	ls_witness_job_free(&j);
	return step;
}

static int
run(struct tstate *w, const struct tlog *l, uint64_t old, uint64_t size,
    struct ls_witness_reply *reply)
{
	char req[LS_NOTE_MAX + 4096];
	size_t len = request(l, old, size, req, sizeof(req));

	return run_feed(w, &T->log_key, req, len, NULL, l, reply, NULL);
}

/* The cosignature line verifies with the witness key for l at size. */
static void
assert_cosigned(const struct tlog *l, uint64_t size, const struct ls_witness_reply *reply)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	uint64_t ts = 0;

	assert_non_null(n);
	assert_int_equal(reply->status, 200);
	checkpoint(l, size, T->log_sk, T->origin, n);
	assert_int_equal(ls_note_sig_lines_parse(reply->line, strlen(reply->line), n, NULL), 0);
	assert_int_equal(ls_cosig_verify(n, &T->wit_key, &ts), 0);
	assert_int_equal(ts, NOW);
	free(n);
}

static void
test_witness_cosigns_and_grows(void **state)
{
	struct tlog *l = log_new();
	struct tstate *w = calloc(1, sizeof(*w));
	struct ls_witness_reply reply;
	uint64_t s1, s2, s3;

	(void)state;
	fresh_authors();
	recs_add(l, 10);
	log_seal(l);
	s1 = l->n;
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	assert_cosigned(l, s1, &reply);
	assert_int_equal(w->st.size, s1);
	assert_int_equal(w->st.cosigned_at, NOW);
	assert_int_equal(w->n_heads, 6);
	/* grows over several pages */
	recs_add(l, 9000);
	log_seal(l);
	recs_add(l, 3);
	log_seal(l);
	s2 = l->n;
	assert_int_equal(run(w, l, s1, s2, &reply), LS_WITNESS_DONE);
	assert_cosigned(l, s2, &reply);
	assert_int_equal(w->st.size, s2);
	/* the same checkpoint again: cosigned again, no entries needed */
	assert_int_equal(run(w, l, s2, s2, &reply), LS_WITNESS_DONE);
	assert_cosigned(l, s2, &reply);
	/* a power of two as the old size */
	while (l->n < 16384 - 1)
		recs_add(l, 1);
	log_seal(l);
	s3 = l->n;
	assert_int_equal(s3, 16384);
	assert_int_equal(run(w, l, s2, s3, &reply), LS_WITNESS_DONE);
	assert_cosigned(l, s3, &reply);
	recs_add(l, 2);
	log_seal(l);
	assert_int_equal(run(w, l, s3, l->n, &reply), LS_WITNESS_DONE);
	assert_cosigned(l, l->n, &reply);
	log_free(l);
	free(w);
}

/* Starts a request and expects a refusal without any entry. */
static void
expect_refusal(struct tstate *w, const struct ls_vkey *key, const char *req, size_t len,
	       uint32_t status, const char *reason_part)
{
	struct ls_witness_job *j = NULL;
	struct ls_witness_reply reply;
	int step = ls_witness_start(w->has ? &w->st : NULL, w->has ? w->note : NULL, w->note_len,
				    key, (const uint8_t *)req, len, NULL, &j, &reply, NULL);

	assert_int_equal(step, LS_WITNESS_DONE);
	assert_null(j);
	assert_int_equal(reply.status, status);
	if (strstr(reply.reason, reason_part) == NULL)
		fail_msg("reason '%s' does not say '%s'", reply.reason, reason_part);
}

static void
test_witness_refuses_requests(void **state)
{
	struct tlog *l = log_new();
	struct tstate *w = calloc(1, sizeof(*w));
	struct ls_witness_reply reply;
	char req[LS_NOTE_MAX + 4096], *p;
	struct ls_addcp *a = calloc(1, sizeof(*a));
	struct ls_vkey other;
	size_t len;
	uint64_t s1;

	(void)state;
	fresh_authors();
	recs_add(l, 20);
	log_seal(l);
	s1 = l->n;
	/* 400: not a request */
	expect_refusal(w, &T->log_key, "hello\n", 6, 400, "bad add-checkpoint");
	/* 404: no key announced, or another log */
	len = request(l, 0, s1, req, sizeof(req));
	expect_refusal(w, NULL, req, len, 404, "unknown log");
	assert_int_equal(
	    ls_vkey_make(&other, "lodestone/0000000000000000", LS_NOTE_ED25519, T->other_pk), 0);
	expect_refusal(w, &other, req, len, 404, "unknown log");
	/* 403: signed by another key under the log's name; a broken signature */
	a->old = 0;
	checkpoint(l, s1, T->other_sk, T->origin, &a->cp);
	len = ls_addcp_format(a, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 403, "not signed by the log key");
	len = request(l, 0, s1, req, sizeof(req));
	p = strstr(req, "\xe2\x80\x94 ");
	assert_non_null(p);
	p = strchr(p, ' ') + 1;
	p = strchr(p, ' ') + 1;
	p[10] = p[10] == 'A' ? 'B' : 'A';
	expect_refusal(w, &T->log_key, req, len, 403, "bad log signature");
	/* first cosignature */
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	recs_add(l, 5);
	log_seal(l);
	/* 409: a stale old size, with the size this witness has */
	len = request(l, 3, l->n, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 409, "this witness has");
	{
		struct ls_witness_job *j = NULL;
		assert_int_equal(ls_witness_start(&w->st, w->note, w->note_len, &T->log_key,
						  (const uint8_t *)req, len, NULL, &j, &reply,
						  NULL),
				 LS_WITNESS_DONE);
		assert_true(reply.has_size);
		assert_int_equal(reply.size, s1);
	}
	len = request(l, 0, l->n, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 409, "old size 0");
	/* 422: a wrong consistency proof */
	a->old = s1;
	assert_int_equal(ls_tlog_consistency(s1, l->n, node, l, a->proof, &a->n), 0);
	a->proof[0][5] ^= 1;
	checkpoint(l, l->n, T->log_sk, T->origin, &a->cp);
	len = ls_addcp_format(a, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 422, "does not verify");
	a->n = 1; /* of the wrong shape */
	len = ls_addcp_format(a, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 422, "wrong shape");
	/* 400: a checkpoint below the old size */
	a->old = s1;
	a->n = 0;
	checkpoint(l, s1 - 3, T->log_sk, T->origin, &a->cp);
	len = ls_addcp_format(a, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 400, "is over the checkpoint's size");
	/* 400 (c2sp.org/tlog-witness): a proof from 0 that is not empty */
	{
		struct tstate *fresh = calloc(1, sizeof(*fresh));
		a->old = 0;
		a->n = 1;
		checkpoint(l, s1, T->log_sk, T->origin, &a->cp);
		len = ls_addcp_format(a, req, sizeof(req));
		expect_refusal(fresh, &T->log_key, req, len, 400, "from old size 0 must be empty");
		free(fresh);
	}
	/* 422: a distrusted log */
	w->st.distrusted = true;
	len = request(l, s1, l->n, req, sizeof(req));
	expect_refusal(w, &T->log_key, req, len, 422, "distrusted");
	free(a);
	log_free(l);
	free(w);
}

static void
test_witness_refuses_entries(void **state)
{
	struct tlog *l = log_new(), *bad;
	struct tstate *w = calloc(1, sizeof(*w)), *w0;
	struct ls_witness_reply reply;
	char req[LS_NOTE_MAX + 4096];
	size_t len;
	uint64_t s1;
	struct trec *r;

	(void)state;
	fresh_authors();
	recs_add(l, 12);
	log_seal(l);
	s1 = l->n;
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	w0 = malloc(sizeof(*w0));
	*w0 = *w;

	/* a record the witness does not hold: asked for, then refused */
	r = rec_add(l, 2, T->seqs[2] + 1, NULL, false);
	recs_add(l, 3);
	log_seal(l);
	T->fetchable = false;
	assert_int_equal(run(w, l, s1, l->n, &reply), LS_WITNESS_RECORDS);
	assert_int_equal(w->st.size, s1); /* nothing kept */
	/* ... and cosigned once it arrives */
	T->fetchable = true;
	T->asked = 0;
	assert_int_equal(run(w, l, s1, l->n, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	assert_int_equal(T->asked, 1);
	assert_true(r->present);
	*w = *w0;

	/* a heads leaf that is not the heads' root */
	bad = log_copy(l);
	bad->leaves[bad->n - 1][5] ^= 1;
	ls_tlog_leaf_hash(bad->leaves[bad->n - 1], 33, bad->hashes[bad->n - 1]);
	len = request(bad, s1, bad->n, req, sizeof(req));
	assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, bad, &reply, NULL),
			 LS_WITNESS_DONE);
	assert_int_equal(reply.status, 422);
	assert_non_null(strstr(reply.reason, "not the root of the log's"));
	log_free(bad);

	/* a checkpoint whose last leaf is a record */
	len = request(l, s1, l->n - 1, req, sizeof(req));
	assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, l, &reply, NULL),
			 LS_WITNESS_DONE);
	assert_int_equal(reply.status, 422);
	assert_non_null(strstr(reply.reason, "is not a heads leaf"));

	/* a leaf of unknown kind */
	bad = log_copy(l);
	bad->leaves[s1 + 1][0] = 7;
	ls_tlog_leaf_hash(bad->leaves[s1 + 1], 33, bad->hashes[s1 + 1]);
	len = request(bad, s1, bad->n, req, sizeof(req));
	assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, bad, &reply, NULL),
			 LS_WITNESS_DONE);
	assert_int_equal(reply.status, 422);
	assert_non_null(strstr(reply.reason, "unknown kind 0x07"));
	log_free(bad);

	/* entries that are not the checkpoint's tree: a record that moves no
	 * head swapped for another (the heads leaf still matches) */
	bad = log_copy(l);
	rec_add(bad, 0, 1000, NULL, true); /* seq 1000: never on the main branch */
	log_seal(bad);
	len = request(bad, s1, bad->n, req, sizeof(req));
	{
		struct tlog *served = log_copy(bad);
		struct trec *x = rec_add(NULL, 0, 1001, NULL, true);
		memcpy(served->leaves[served->n - 2] + 1, x->id, 32);
		assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, served, &reply, NULL),
				 LS_WITNESS_DONE);
		assert_int_equal(reply.status, 422);
		assert_non_null(strstr(reply.reason, "do not make the checkpoint's root"));
		/* the log ends early */
		served->n = s1 + 2;
		assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, served, &reply, NULL),
				 LS_WITNESS_DONE);
		assert_int_equal(reply.status, 422);
		assert_non_null(strstr(reply.reason, "no entries from"));
		log_free(served);
	}
	log_free(bad);
	assert_int_equal(w->st.size, s1);
	free(w0);
	free(w);
	log_free(l);
}

/* The owner forks: two histories from one size, both signed. */
static void
split_case(uint64_t common)
{
	struct tlog *a = log_new(), *b;
	struct tstate *w = calloc(1, sizeof(*w));
	struct ls_witness_reply reply;
	struct ls_splitview *ev = calloc(1, sizeof(*ev));
	struct ls_checkpoint ca, cb;
	char req[LS_NOTE_MAX + 4096];
	uint8_t old_root[32];
	size_t len;
	uint64_t sa;

	fresh_authors();
	recs_add(a, common);
	b = log_copy(a);
	recs_add(a, 5);
	log_seal(a);
	sa = a->n;
	assert_int_equal(run(w, a, 0, sa, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	/* b: other records, then longer than a */
	recs_add(b, 9);
	log_seal(b);
	assert_true(b->n > sa);
	len = request(b, sa, b->n, req, sizeof(req));
	log_root(b, sa, old_root);
	assert_int_equal(run_feed(w, &T->log_key, req, len, old_root, b, &reply, ev),
			 LS_WITNESS_SPLIT);
	assert_int_equal(reply.status, 422);
	assert_non_null(strstr(reply.reason, "split view"));
	assert_int_equal(ls_splitview_check(ev, &T->log_key, &ca, &cb, NULL), 0);
	assert_int_equal(ca.size, sa);
	assert_int_equal(cb.size, b->n);
	{
		char origin[LS_NOTE_NAME_MAX];
		ls_splitview_origin(ev, origin);
		assert_string_equal(origin, T->origin);
	}
	/* without old_root, when sa is a power of two the proof cannot tell */
	if ((sa & (sa - 1)) == 0) {
		assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, b, &reply, NULL),
				 LS_WITNESS_DONE);
		assert_int_equal(reply.status, 422);
		assert_non_null(strstr(reply.reason, "does not verify"));
		ev->has_old_root = false;
		assert_int_equal(ls_splitview_check(ev, &T->log_key, NULL, NULL, NULL),
				 LS_ERR_INVALID);
	}
	/* evidence that is not: checked by another key; a broken signature;
	 * two consistent checkpoints */
	{
		struct ls_vkey other;
		struct ls_splitview *e2 = malloc(sizeof(*e2));
		struct ls_note n;
		assert_int_equal(ls_vkey_make(&other, T->origin, LS_NOTE_ED25519, T->other_pk), 0);
		assert_int_equal(ls_splitview_check(ev, &other, NULL, NULL, NULL),
				 LS_ERR_SIGNATURE);
		*e2 = *ev;
		e2->note_b[e2->len_b - 5] = e2->note_b[e2->len_b - 5] == 'A' ? 'B' : 'A';
		assert_true(ls_splitview_check(e2, &T->log_key, NULL, NULL, NULL) != 0);
		*e2 = *ev;
		checkpoint(a, sa - 1, T->log_sk, T->origin, &n);
		e2->len_a = ls_note_format(&n, e2->note_a, sizeof(e2->note_a));
		checkpoint(a, sa, T->log_sk, T->origin, &n);
		e2->len_b = ls_note_format(&n, e2->note_b, sizeof(e2->note_b));
		assert_int_equal(ls_tlog_consistency(sa - 1, sa, node, a, e2->proof, &e2->n), 0);
		log_root(a, sa - 1, e2->old_root);
		e2->has_old_root = true;
		assert_int_equal(ls_splitview_check(e2, &T->log_key, NULL, NULL, NULL),
				 LS_ERR_INVALID);
		free(e2);
	}
	/* equal sizes, other roots */
	{
		struct tlog *c = log_copy(b);
		c->n = sa;
		len = request(c, sa, sa, req, sizeof(req));
		assert_int_equal(run_feed(w, &T->log_key, req, len, NULL, c, &reply, ev),
				 LS_WITNESS_SPLIT);
		assert_int_equal(ls_splitview_check(ev, &T->log_key, &ca, &cb, NULL), 0);
		assert_int_equal(ca.size, cb.size);
		log_free(c);
	}
	log_free(a);
	log_free(b);
	free(ev);
	free(w);
}

static void
test_witness_split_view(void **state)
{
	(void)state;
	split_case(20);  /* the cosigned size, 26, is not a power of two */
	split_case(2);   /* 8 is: the old root comes with the request */
	split_case(100); /* 106 */
}

static void
test_witness_heads_of_an_equivocating_author(void **state)
{
	struct tlog *l = log_new(), *wrong;
	struct tstate *w = calloc(1, sizeof(*w));
	struct ls_witness_reply reply;
	char req[LS_NOTE_MAX + 4096];
	struct trec *r1, *r2a, *r2b, *r3b;
	size_t len;
	uint64_t s1;

	(void)state;
	fresh_authors();
	recs_add(l, 6);
	log_seal(l);
	s1 = l->n;
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	/* author 3 signs two records at one seq; both are logged, the first
	 * one logged is the head, and its branch goes on */
	r1 = rec_add(l, 3, T->seqs[3] + 1, NULL, true);
	r2a = rec_add(l, 3, r1->r.seq + 1, r1->id, true);
	r2b = rec_add(l, 3, r1->r.seq + 1, r1->id, true);
	r3b = rec_add(l, 3, r2b->r.seq + 1, r2b->id, true); /* on the other branch */
	rec_add(l, 3, r2a->r.seq + 1, r2a->id, true);
	recs_add(l, 2);
	log_seal(l);
	wrong = log_copy(l);
	assert_int_equal(run(w, l, s1, l->n, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	for (size_t i = 0; i < w->n_heads; i++)
		if (memcmp(w->heads[i].author, T->authors[3], 32) == 0)
			assert_int_equal(w->heads[i].seq, r2a->r.seq + 1);
	/* an owner whose heads follow the other branch is refused */
	wrong->n--;
	for (size_t i = 0; i < wrong->n_heads; i++)
		if (memcmp(wrong->heads[i].author, T->authors[3], 32) == 0) {
			wrong->heads[i].seq = r2b->r.seq + 1;
			memcpy(wrong->heads[i].id, r3b->id, 32);
		}
	log_seal(wrong);
	{
		struct tstate *w2 = calloc(1, sizeof(*w2));
		assert_int_equal(run(w2, l, 0, s1, &reply), LS_WITNESS_DONE);
		len = request(wrong, s1, wrong->n, req, sizeof(req));
		assert_int_equal(run_feed(w2, &T->log_key, req, len, NULL, wrong, &reply, NULL),
				 LS_WITNESS_DONE);
		assert_int_equal(reply.status, 422);
		assert_non_null(strstr(reply.reason, "heads leaf"));
		free(w2);
	}
	/* ls_witness_heads_root agrees with the owner's root */
	{
		struct ls_whead hs[64];
		uint8_t root[32];
		memcpy(hs, l->heads, l->n_heads * sizeof(hs[0]));
		ls_witness_heads_root(hs, l->n_heads, root);
		assert_memory_equal(root, l->leaves[l->n - 1] + 1, 32);
	}
	log_free(wrong);
	log_free(l);
	free(w);
}

static void
test_witness_grace(void **state)
{
	struct tlog *l = log_new();
	struct tstate *w = calloc(1, sizeof(*w));
	struct ls_witness_reply reply;
	uint64_t s1;

	(void)state;
	fresh_authors();
	recs_add(l, 6);
	log_seal(l);
	s1 = l->n;
	/* an authority record this daemon holds, accepted an hour ago, that
	 * the log does not hold (author 4's seq after its head) */
	memcpy(T->auth[0].author, T->authors[4], 32);
	T->auth[0].seq = T->seqs[4] + 1;
	T->auth[0].time = NOW - 3600;
	T->n_auth = 1;
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 422);
	assert_non_null(strstr(reply.reason, "kept out of the log"));
	assert_false(w->has);
	/* accepted within the grace period: no refusal yet */
	T->auth[0].time = NOW - LS_WITNESS_GRACE + 5;
	assert_int_equal(run(w, l, 0, s1, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 200);
	/* past it, and then in the log: cosigned */
	T->auth[0].time = NOW - 3600;
	rec_add(l, 4, T->seqs[4] + 1, NULL, true);
	log_seal(l);
	assert_int_equal(run(w, l, s1, l->n, &reply), LS_WITNESS_DONE);
	if (reply.status != 200)
		fail_msg("%u: %s", reply.status, reply.reason);
	/* an author the log never had */
	randombytes_buf(T->auth[1].author, 32);
	T->auth[1].seq = 1;
	T->auth[1].time = NOW - 3600;
	T->n_auth = 2;
	s1 = l->n;
	recs_add(l, 1);
	log_seal(l);
	assert_int_equal(run(w, l, s1, l->n, &reply), LS_WITNESS_DONE);
	assert_int_equal(reply.status, 422);
	T->n_auth = 0;
	log_free(l);
	free(w);
}

/* ---- the tables in a real store ---- */

static int
count_head(void *arg, const struct ls_whead *h)
{
	(void)h;
	(*(size_t *)arg)++;
	return 0;
}

static int
count_split(void *arg, const char *origin, const uint8_t *msg, size_t len)
{
	(void)msg;
	(void)len;
	assert_string_equal(origin, T->origin);
	(*(size_t *)arg)++;
	return 0;
}

static int
count_auth(void *arg, const uint8_t author[32], uint64_t seq)
{
	(void)author;
	(void)seq;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_witness_store_tables(void **state)
{
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct fx_actor *auth = fx_actor_new("CN"), *m = fx_actor_new("CN");
	struct ls_wlog *st = calloc(1, sizeof(*st)), *got = calloc(1, sizeof(*got));
	struct ls_whead heads[3];
	struct ls_ingest_result res;
	char lk[LS_VKEY_MAX], wk[LS_VKEY_MAX], line[LS_WITNESS_LINE_MAX], *note;
	uint64_t size, t;
	size_t n, len;
	bool added;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(fx_store_open(dir, auth, 0, &s), 0);
	assert_int_equal(ls_store_wlog_get(s, T->origin, got), LS_ERR_NOT_FOUND);
	snprintf(st->origin, sizeof(st->origin), "%s", T->origin);
	memcpy(st->log_pk, T->log_pk, 32);
	ls_tlog_range_init(&st->range);
	for (int i = 0; i < 5; i++) {
		uint8_t h[32];
		randombytes_buf(h, 32);
		ls_tlog_range_append(&st->range, h);
	}
	st->size = 5;
	ls_tlog_range_root(&st->range, st->root);
	st->cosigned_at = 77;
	for (int i = 0; i < 3; i++) {
		randombytes_buf(heads[i].author, 32);
		heads[i].seq = (uint64_t)i + 1;
		randombytes_buf(heads[i].id, 32);
	}
	assert_int_equal(ls_store_witness_commit(s, NULL, st, "note-1\n", 7, heads, 3), 0);
	/* compare and swap: a second "first" commit, or one from another state */
	assert_int_equal(ls_store_witness_commit(s, NULL, st, "x\n", 2, NULL, 0), LS_ERR_EXISTS);
	assert_int_equal(ls_store_wlog_get(s, T->origin, got), 0);
	assert_int_equal(got->size, 5);
	assert_int_equal(got->range.k, 2);
	assert_int_equal(got->cosigned_at, 77);
	assert_memory_equal(got->root, st->root, 32);
	assert_memory_equal(&got->range, &st->range, offsetof(struct ls_tlog_range, h) + 2 * 32);
	assert_false(got->distrusted);
	got->size = 4;
	assert_int_equal(ls_store_witness_commit(s, got, st, "x\n", 2, NULL, 0), LS_ERR_EXISTS);
	got->size = 5;
	st->size = 6;
	assert_int_equal(ls_store_witness_commit(s, got, st, "note-2\n", 7, heads, 1), 0);
	assert_int_equal(ls_store_wnote_get(s, T->origin, &note, &len), 0);
	assert_string_equal(note, "note-2\n");
	free(note);
	n = 0;
	assert_int_equal(ls_store_wheads_each(s, T->origin, count_head, &n), 0);
	assert_int_equal(n, 3);
	/* another origin that the first is a prefix of has none */
	n = 0;
	{
		char longer[LS_NOTE_NAME_MAX];
		snprintf(longer, sizeof(longer), "%sx", T->origin);
		assert_int_equal(ls_store_wheads_each(s, longer, count_head, &n), 0);
	}
	assert_int_equal(n, 0);
	/* split views: kept once, and the log is distrusted */
	assert_int_equal(
	    ls_store_splitview_put(s, T->origin, T->log_pk, (const uint8_t *)"ev1", 3, &added), 0);
	assert_true(added);
	assert_int_equal(
	    ls_store_splitview_put(s, T->origin, T->log_pk, (const uint8_t *)"ev1", 3, &added), 0);
	assert_false(added);
	n = 0;
	assert_int_equal(ls_store_splitviews_each(s, count_split, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ls_store_wlog_get(s, T->origin, got), 0);
	assert_true(got->distrusted);
	assert_int_equal(got->size, 6);
	/* no cosignature once distrusted */
	st->size = 7;
	assert_int_equal(ls_store_witness_commit(s, got, st, "n\n", 2, NULL, 0), LS_ERR_EXISTS);
	/* peer keys, cosigners */
	assert_int_equal(ls_store_peerlog_get(s, T->log_pk, lk, wk), LS_ERR_NOT_FOUND);
	assert_int_equal(ls_store_peerlog_put(s, T->log_pk, "lk+1+2", "wk+3+4"), 0);
	assert_int_equal(ls_store_peerlog_get(s, T->log_pk, lk, wk), 0);
	assert_string_equal(lk, "lk+1+2");
	assert_string_equal(wk, "wk+3+4");
	assert_int_equal(ls_store_cosigner_get(s, T->wit_pk, &size, &t, line), LS_ERR_NOT_FOUND);
	assert_int_equal(ls_store_cosigner_put(s, T->wit_pk, 42, 99, "\xe2\x80\x94 w abc\n"), 0);
	assert_int_equal(ls_store_cosigner_get(s, T->wit_pk, &size, &t, line), 0);
	assert_int_equal(size, 42);
	assert_int_equal(t, 99);
	assert_string_equal(line, "\xe2\x80\x94 w abc\n");
	/* authtime: written when an authority record is stored, not others */
	{
		struct fx_env c = fx_cert(auth, m, "Mine", NULL, LS_ROLE_MINER, 0, 0);
		struct fx_env lot = fx_lot(m, "ore-1", "Site", NULL, "ore", 1000, "Dy=1000");
		assert_int_equal(fx_ingest_one(s, c.buf, c.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_ACCEPTED);
		assert_int_equal(fx_ingest_one(s, lot.buf, lot.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_ACCEPTED);
		n = 0;
		assert_int_equal(ls_store_authtime_each(s, ls_now() + 10, count_auth, &n), 0);
		assert_int_equal(n, 1);
		n = 0;
		assert_int_equal(ls_store_authtime_each(s, ls_now() - 10, count_auth, &n), 0);
		assert_int_equal(n, 0);
		fx_env_release(&c);
		fx_env_release(&lot);
	}
	/* --reindex keeps the witness state (and the records' authtime) */
	ls_store_close(&s);
	{
		struct ls_store_opts o = {0};
		struct ls_reindex_report rep;
		o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->kp->pk;
		o.n_anchors = 1;
		assert_int_equal(ls_store_reindex(dir, &o, NULL, &rep, NULL), 0);
		assert_int_equal(rep.accepted, 2);
	}
	assert_int_equal(fx_store_open(dir, auth, 0, &s), 0);
	assert_int_equal(ls_store_wlog_get(s, T->origin, got), 0);
	assert_true(got->distrusted);
	assert_int_equal(got->size, 6);
	n = 0;
	assert_int_equal(ls_store_wheads_each(s, T->origin, count_head, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	assert_int_equal(ls_store_splitviews_each(s, count_split, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ls_store_peerlog_get(s, T->log_pk, lk, wk), 0);
	assert_string_equal(lk, "lk+1+2");
	n = 0;
	assert_int_equal(ls_store_authtime_each(s, ls_now() + 10, count_auth, &n), 0);
	assert_int_equal(n, 1);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
	free(st);
	free(got);
	fx_actor_free(&auth);
	fx_actor_free(&m);
}

/* ---- against the store's own log ---- */

static int
store_lookup(void *arg, const uint8_t id[32], struct ls_witness_rec *out)
{
	struct ls_record *r = NULL;
	int rc = ls_store_get_record(arg, id, &r);

	if (rc != 0)
		return rc;
	memcpy(out->author, r->author, 32);
	out->seq = r->seq;
	memset(out->prev, 0, 32);
	if (r->seq > 1)
		memcpy(out->prev, r->prev, 32);
	ls_record_free(r);
	return 0;
}

struct leafbuf {
	uint8_t (*l)[LS_TLOG_LEAF_LEN];
	size_t n;
};

static int
take_leaf(void *arg, uint64_t index, const uint8_t leaf[LS_TLOG_LEAF_LEN])
{
	struct leafbuf *b = arg;

	(void)index;
	memcpy(b->l[b->n++], leaf, LS_TLOG_LEAF_LEN);
	return 0;
}

/* One checkpoint of store o's log from old, checked by a witness whose
 * records are in store w: the reply. */
static uint32_t
witness_store_log(struct ls_store *o, struct ls_store *w, struct tstate *st, uint64_t old,
		  struct ls_witness_reply *reply)
{
	struct ls_addcp *a = calloc(1, sizeof(*a));
	struct ls_checkpoint c;
	struct ls_witness_job *j = NULL;
	struct leafbuf b = {calloc(LS_WITNESS_PAGE, LS_TLOG_LEAF_LEN), 0};
	char *text = malloc(LS_NOTE_MAX + 4096);
	uint64_t sealed;
	size_t len;
	int step;

	assert_non_null(a);
	assert_non_null(b.l);
	assert_non_null(text);
	assert_int_equal(ls_store_log_size(o, &c.size, &sealed), 0);
	c.size = sealed;
	snprintf(c.origin, sizeof(c.origin), "%s", T->origin);
	assert_int_equal(ls_store_log_root(o, c.size, c.root), 0);
	a->old = old;
	assert_int_equal(ls_store_log_consistency(o, old, c.size, a->proof, &a->n), 0);
	a->cp.body_len = ls_checkpoint_body(&c, a->cp.body, sizeof(a->cp.body));
	assert_int_equal(ls_note_sign(&a->cp, T->origin, T->log_sk), 0);
	len = ls_addcp_format(a, text, LS_NOTE_MAX + 4096);
	step = ls_witness_start(st->has ? &st->st : NULL, st->has ? st->note : NULL, st->note_len,
				&T->log_key, (const uint8_t *)text, len, NULL, &j, reply, NULL);
	for (size_t i = 0; j != NULL && i < st->n_heads; i++)
		assert_int_equal(ls_witness_job_head(j, &st->heads[i]), 0);
	while (step == LS_WITNESS_ENTRIES) {
		uint64_t from = ls_witness_job_next(j);
		b.n = 0;
		assert_int_equal(ls_store_log_leaves(o, from, LS_WITNESS_PAGE, take_leaf, &b), 0);
		step = ls_witness_job_feed(j, from, b.l[0], b.n, store_lookup, w, reply);
	}
	assert_int_equal(step == LS_WITNESS_READY || step == LS_WITNESS_DONE, true);
	if (step == LS_WITNESS_READY)
		assert_int_equal(ls_witness_job_finish(j, ls_store_authtime_each, w, NOW,
						       T->wit_name, T->wit_sk, NOW, reply),
				 LS_WITNESS_DONE);
	if (reply->status == 200) {
		struct ls_whead *hs;
		size_t nh;
		assert_int_equal(ls_witness_job_heads(j, &hs, &nh), 0);
		for (size_t k = 0; k < nh; k++) {
			size_t i;
			for (i = 0; i < st->n_heads; i++)
				if (memcmp(st->heads[i].author, hs[k].author, 32) == 0)
					break;
			if (i == st->n_heads)
				st->n_heads++;
			st->heads[i] = hs[k];
		}
		free(hs);
		st->st = *ls_witness_job_state(j);
		memcpy(st->note, ls_witness_job_note(j, &st->note_len), st->note_len + 1);
		st->has = true;
	}
	ls_witness_job_free(&j);
	free(text);
	free(b.l);
	free(a);
	return reply->status;
}

/*
 * The witness follows the store's own log (lib/logstore.c): the heads it
 * keeps match the heads leaves the store seals, with an equivocating author
 * whose records reach the owner and the witness in different orders.
 */
static void
test_witness_follows_the_store_log(void **state)
{
	char *d1 = fx_tmpdir(), *d2 = fx_tmpdir();
	struct ls_store *o = NULL, *w = NULL;
	struct fx_actor *auth = fx_actor_new("CN"), *m = fx_actor_new("CN");
	struct fx_env c, l1, l2a, l2b, l3a, l3b, l4;
	struct fx_mark mk, mk2;
	struct tstate *st = calloc(1, sizeof(*st));
	struct ls_ingest_result res;
	struct ls_witness_reply reply;
	uint64_t size;
	uint8_t root[32];
	bool grew;

	(void)state;
	assert_int_equal(fx_store_open(d1, auth, 0, &o), 0);
	assert_int_equal(fx_store_open(d2, auth, 0, &w), 0);
	c = fx_cert(auth, m, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	l1 = fx_lot(m, "a", "S", NULL, "ore", 1000, "Dy=1000");
	mk = fx_mark(m);
	l2a = fx_lot(m, "b", "S", NULL, "ore", 1000, "Dy=1000");
	mk2 = fx_mark(m);
	l3a = fx_lot(m, "c", "S", NULL, "ore", 1000, "Dy=1000");
	fx_rewind(m, &mk);
	l2b = fx_lot(m, "b2", "S", NULL, "ore", 1000, "Dy=1000");
	l3b = fx_lot(m, "c2", "S", NULL, "ore", 1000, "Dy=1000");
	fx_rewind(m, &mk2);
	m->seq = 3;
	memcpy(m->head, l3a.id, 32);
	l4 = fx_lot(m, "d", "S", NULL, "ore", 1000, "Dy=1000");
	/* the owner: a's branch first, then b's */
	{
		const struct fx_env *order[] = {&c, &l1, &l2a, &l3a};
		for (size_t i = 0; i < 4; i++) {
			assert_int_equal(fx_ingest_one(o, order[i]->buf, order[i]->len, &res), 0);
			assert_int_equal(res.status, LS_INGEST_ACCEPTED);
		}
	}
	assert_int_equal(ls_store_log_seal(o, &size, root, &grew), 0);
	/* the witness holds them all, b's branch first */
	{
		const struct fx_env *order[] = {&c, &l1, &l2b, &l3b, &l2a, &l3a, &l4};
		for (size_t i = 0; i < 7; i++)
			assert_int_equal(fx_ingest_one(w, order[i]->buf, order[i]->len, &res), 0);
	}
	assert_int_equal(witness_store_log(o, w, st, 0, &reply), 200);
	{
		const struct fx_env *order[] = {&l2b, &l3b, &l4};
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(fx_ingest_one(o, order[i]->buf, order[i]->len, &res), 0);
			assert_int_equal(res.status, LS_INGEST_ACCEPTED);
		}
	}
	assert_int_equal(ls_store_log_seal(o, &size, root, &grew), 0);
	if (witness_store_log(o, w, st, st->st.size, &reply) != 200)
		fail_msg("%u %s", reply.status, reply.reason);
	for (size_t i = 0; i < st->n_heads; i++)
		if (memcmp(st->heads[i].author, m->kp->pk, 32) == 0) {
			assert_int_equal(st->heads[i].seq, 4);
			assert_memory_equal(st->heads[i].id, l4.id, 32);
		}
	ls_store_close(&o);
	ls_store_close(&w);
	fx_rmtree(d1);
	fx_rmtree(d2);
	free(d1);
	free(d2);
	free(st);
	fx_env_release(&c);
	fx_env_release(&l1);
	fx_env_release(&l2a);
	fx_env_release(&l2b);
	fx_env_release(&l3a);
	fx_env_release(&l3b);
	fx_env_release(&l4);
	fx_actor_free(&auth);
	fx_actor_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_witness_cosigns_and_grows),
	    cmocka_unit_test(test_witness_refuses_requests),
	    cmocka_unit_test(test_witness_refuses_entries),
	    cmocka_unit_test(test_witness_split_view),
	    cmocka_unit_test(test_witness_heads_of_an_equivocating_author),
	    cmocka_unit_test(test_witness_grace),
	    cmocka_unit_test(test_witness_store_tables),
	    cmocka_unit_test(test_witness_follows_the_store_log),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
