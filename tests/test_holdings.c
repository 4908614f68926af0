/*
 * test_holdings.c - nothing disappears: the shortfall of a receipt goes back
 * to the sender, the sender takes it back (or declares the rest lost), and
 * ls_holdings reports what each participant holds and has in transit. Every
 * gram registered is held, in transit or declared lost, at every step, in
 * any order of arrival, and after a reindex. Real LMDB in a temporary
 * directory, real signatures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "helper_fixture.h"
#include "holdings.h"
#include "store.h"
#include "verify.h"

#define T(days) (FX_T0 + (uint64_t)(days)*FX_DAY)
#define N_MAX   64

struct fx {
	char *dir;
	struct ls_store *s;
	struct fx_actor *auth, *mine, *sep;
	struct fx_env e[N_MAX];
	size_t n;
	uint8_t lot[32];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->auth = fx_actor_new("CN"));
	assert_non_null(f->mine = fx_actor_new("CN"));
	assert_non_null(f->sep = fx_actor_new("CN"));
	assert_non_null(f->dir = fx_tmpdir());
	assert_int_equal(fx_store_open(f->dir, f->auth, 0, &f->s), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	ls_store_close(&f->s);
	fx_rmtree(f->dir);
	free(f->dir);
	for (size_t i = 0; i < f->n; i++)
		fx_env_release(&f->e[i]);
	fx_actor_free(&f->auth);
	fx_actor_free(&f->mine);
	fx_actor_free(&f->sep);
	free(f);
	return 0;
}

/* Ingests e from a peer, keeps it, and returns its id; status `want`. */
static const uint8_t *
put_as(struct fx *f, struct fx_env e, enum ls_ingest_status want)
{
	struct ls_ingest_result res;

	assert_non_null(e.buf);
	assert_true(f->n < N_MAX);
	assert_int_equal(fx_ingest_one(f->s, e.buf, e.len, &res), 0);
	if (res.status != want)
		fail_msg("%s record: %s (%s)", ls_rtype_name(e.type), fx_status_name(res.status),
			 res.message);
	f->e[f->n] = e;
	return f->e[f->n++].id;
}

/* The record `build` makes as a is rejected; a's feed goes back to before it. */
#define REJECT(f, a, build)                                                                        \
	do {                                                                                       \
		struct fx_mark mk_ = fx_mark(a);                                                   \
		put_as(f, build, LS_INGEST_REJECTED);                                              \
		fx_rewind(a, &mk_);                                                                \
	} while (0)

static const uint8_t *
put(struct fx *f, struct fx_env e)
{
	return put_as(f, e, LS_INGEST_ACCEPTED);
}

/* Certificates, and a 7,500 g lot of the miner's. */
static void
world(struct fx *f)
{
	put(f, fx_cert(f->auth, f->mine, "Mine", "CN", LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0));
	put(f, fx_cert(f->auth, f->sep, "Separator", "CN", LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, 0,
		       0));
	f->mine->ts = T(1);
	memcpy(f->lot,
	       put(f, fx_lot(f->mine, "conc-1", "Bayan Obo", "CN", "concentrate", 7500,
			     "Nd=300000,Dy=20000")),
	       32);
}

/* What one holder holds of f->lot, and its flows of the lot. */
struct view {
	uint64_t held, in, out;
	size_t n_in, n_out;
	bool in_return, out_return;
	char in_reason[LS_STR_MAX + 1];
};

static struct view
view_of(struct ls_store *s, const uint8_t lot[32], const uint8_t key[32])
{
	struct ls_holdings h;
	struct view v;

	memset(&v, 0, sizeof(v));
	assert_int_equal(ls_holdings(s, key, NULL, 0, &h), 0);
	assert_memory_equal(h.holder, key, 32);
	for (size_t i = 0; i < h.n_holds; i++)
		if (memcmp(h.holds[i].lot, lot, 32) == 0)
			v.held += h.holds[i].grams;
	for (size_t i = 0; i < h.n_in; i++) {
		assert_memory_equal(h.in[i].lot, lot, 32);
		v.in += h.in[i].grams;
		v.in_return = h.in[i].is_return;
		snprintf(v.in_reason, sizeof(v.in_reason), "%s", h.in[i].reason);
	}
	for (size_t i = 0; i < h.n_out; i++) {
		v.out += h.out[i].grams;
		v.out_return = h.out[i].is_return;
	}
	v.n_in = h.n_in;
	v.n_out = h.n_out;
	assert_false(h.more_holds || h.more_in || h.more_out);
	ls_holdings_release(&h);
	return v;
}

/* Every gram is held or in transit, except what was declared lost; what
 * one side sends is what the other side expects. */
static void
conserved(struct fx *f, uint64_t lost)
{
	struct view m = view_of(f->s, f->lot, f->mine->kp->pk);
	struct view s = view_of(f->s, f->lot, f->sep->kp->pk);

	assert_int_equal(m.out, s.in);
	assert_int_equal(s.out, m.in);
	assert_int_equal(m.held + s.held + m.out + s.out + lost, 7500);
}

static void
test_holdings_shortfall_returns(void **state)
{
	struct fx *f = *state;
	struct view m, s;
	const uint8_t *tr, *rc;
	struct ls_trace t;

	world(f);
	conserved(f, 0);
	f->mine->ts = T(2);
	tr = put(f, fx_transfer(f->mine, f->lot, 7500, f->sep, NULL, NULL));
	m = view_of(f->s, f->lot, f->mine->kp->pk);
	s = view_of(f->s, f->lot, f->sep->kp->pk);
	assert_int_equal(m.held, 0);
	assert_int_equal(m.out, 7500);
	assert_false(m.out_return);
	assert_int_equal(s.in, 7500);
	assert_int_equal(s.n_in, 1);
	conserved(f, 0);

	f->sep->ts = T(3);
	rc = put(f, fx_receipt_why(f->sep, tr, 7000, "500 g wet"));
	m = view_of(f->s, f->lot, f->mine->kp->pk);
	s = view_of(f->s, f->lot, f->sep->kp->pk);
	assert_int_equal(s.held, 7000);
	assert_int_equal(s.n_in, 0);
	assert_int_equal(s.out, 500);
	assert_true(s.out_return);
	assert_int_equal(m.held, 0);
	assert_int_equal(m.n_out, 0);
	assert_int_equal(m.in, 500);
	assert_true(m.in_return);
	assert_string_equal(m.in_reason, "500 g wet");
	conserved(f, 0);

	/* The sender cannot spend what it has not taken back. */
	f->mine->ts = T(4);
	REJECT(f, f->mine, fx_transfer(f->mine, f->lot, 1, f->sep, NULL, NULL));

	put(f, fx_receipt_why(f->mine, rc, 500, NULL));
	m = view_of(f->s, f->lot, f->mine->kp->pk);
	s = view_of(f->s, f->lot, f->sep->kp->pk);
	assert_int_equal(m.held, 500);
	assert_int_equal(m.n_in + m.n_out + s.n_in + s.n_out, 0);
	conserved(f, 0);

	assert_int_equal(ls_trace(f->s, f->lot, true, &t), 0);
	assert_int_equal(t.n_transfers, 1);
	assert_memory_equal(t.transfers[0].record, tr, 32);
	assert_memory_equal(t.transfers[0].receipt, rc, 32);
	assert_int_equal(t.transfers[0].grams, 7500);
	assert_int_equal(t.transfers[0].received_grams, 7000);
	assert_int_equal(t.transfers[0].returned_grams, 500);
	assert_true(t.transfers[0].taken_back);
	assert_int_equal(t.transfers[0].taken_back_grams, 500);
	assert_string_equal(t.transfers[0].reason, "500 g wet");
	ls_trace_release(&t);

	/* What came back can be shipped again: it is the sender's. */
	put(f, fx_transfer(f->mine, f->lot, 500, f->sep, NULL, NULL));
	conserved(f, 0);
}

/* A refused consignment (0 g) goes back whole; the sender takes back part
 * of it and the rest is lost, with the reason; nothing is counted twice. */
static void
test_holdings_loss_declared(void **state)
{
	struct fx *f = *state;
	const uint8_t *tr, *rc;
	struct ls_trace t;

	world(f);
	f->mine->ts = T(2);
	tr = put(f, fx_transfer(f->mine, f->lot, 7500, f->sep, NULL, NULL));
	f->sep->ts = T(3);
	rc = put(f, fx_receipt_why(f->sep, tr, 0, "wrong grade"));
	assert_int_equal(view_of(f->s, f->lot, f->sep->kp->pk).held, 0);
	conserved(f, 0);
	f->mine->ts = T(3);
	REJECT(f, f->mine, fx_receipt_why(f->mine, rc, 7501, "too much"));
	put(f, fx_receipt_why(f->mine, rc, 7000, "500 g spilled"));
	conserved(f, 500);
	REJECT(f, f->mine, fx_receipt_why(f->mine, rc, 500, "found it"));
	REJECT(f, f->sep, fx_receipt_why(f->sep, tr, 7500, "after all"));
	conserved(f, 500);
	assert_int_equal(view_of(f->s, f->lot, f->mine->kp->pk).held, 7000);

	assert_int_equal(ls_trace(f->s, f->lot, true, &t), 0);
	assert_int_equal(t.transfers[0].received_grams, 0);
	assert_int_equal(t.transfers[0].returned_grams, 7500);
	assert_int_equal(t.transfers[0].taken_back_grams, 7000);
	assert_string_equal(t.transfers[0].loss_reason, "500 g spilled");
	ls_trace_release(&t);
}

/* An equivocating receiver signs two receipts of one transfer (7,000 g and
 * 6,000 g, at one seq): the sender takes back the shortfall of one, and
 * nothing more, whichever receipt arrives last; holdings shows no phantom
 * return. */
static void
test_holdings_equivocating_receiver(void **state)
{
	struct fx *f = *state;
	struct fx_env a, b;
	struct fx_mark mk;
	const uint8_t *tr, *ra;
	struct view m;

	world(f);
	f->mine->ts = T(2);
	tr = put(f, fx_transfer(f->mine, f->lot, 7500, f->sep, NULL, NULL));
	f->sep->ts = T(3);
	mk = fx_mark(f->sep);
	a = fx_receipt_why(f->sep, tr, 7000, "500 g wet");
	fx_rewind(f->sep, &mk);
	b = fx_receipt_why(f->sep, tr, 6000, "1500 g wet");
	assert_non_null(a.buf);
	assert_non_null(b.buf);
	ra = put(f, a);
	f->mine->ts = T(3);
	put(f, fx_receipt_why(f->mine, ra, 500, NULL));
	put(f, b); /* stored: each branch is valid along itself */
	m = view_of(f->s, f->lot, f->mine->kp->pk);
	assert_int_equal(m.held, 500);
	assert_int_equal(m.n_in, 0);
	REJECT(f, f->mine, fx_receipt_why(f->mine, b.id, 1500, NULL));
	REJECT(f, f->mine, fx_receipt_why(f->mine, b.id, 1, "some"));
	assert_int_equal(view_of(f->s, f->lot, f->mine->kp->pk).held, 500);
}

/* One store's answers, to compare stores. */
struct answer {
	struct view m, s;
	size_t n_transfers;
	uint64_t received, returned, taken;
};

static void
same_answer(const struct answer *a, const struct answer *b)
{
	const struct view *va[2] = {&a->m, &a->s}, *vb[2] = {&b->m, &b->s};

	for (int i = 0; i < 2; i++) {
		assert_int_equal(va[i]->held, vb[i]->held);
		assert_int_equal(va[i]->in, vb[i]->in);
		assert_int_equal(va[i]->out, vb[i]->out);
		assert_int_equal(va[i]->n_in, vb[i]->n_in);
		assert_int_equal(va[i]->n_out, vb[i]->n_out);
		assert_int_equal(va[i]->in_return, vb[i]->in_return);
		assert_int_equal(va[i]->out_return, vb[i]->out_return);
		assert_string_equal(va[i]->in_reason, vb[i]->in_reason);
	}
	assert_int_equal(a->n_transfers, b->n_transfers);
	assert_int_equal(a->received, b->received);
	assert_int_equal(a->returned, b->returned);
	assert_int_equal(a->taken, b->taken);
}

static struct answer
answer_of(struct ls_store *s, const struct fx *f)
{
	struct answer a;
	struct ls_trace t;

	memset(&a, 0, sizeof(a));
	a.m = view_of(s, f->lot, f->mine->kp->pk);
	a.s = view_of(s, f->lot, f->sep->kp->pk);
	assert_int_equal(ls_trace(s, f->lot, true, &t), 0);
	a.n_transfers = t.n_transfers;
	for (size_t i = 0; i < t.n_transfers; i++) {
		a.received += t.transfers[i].received_grams;
		a.returned += t.transfers[i].returned_grams;
		a.taken += t.transfers[i].taken_back_grams;
	}
	ls_trace_release(&t);
	return a;
}

/* The same records in other orders (and in one batch, and after a
 * reindex) give the same holdings and trace: the taking back names the
 * receipt, so it waits for it wherever it arrives first. */
static void
test_holdings_any_order(void **state)
{
	struct fx *f = *state;
	const uint8_t *tr, *rc;
	struct answer want, got;
	struct ls_store_opts o;
	struct ls_reindex_report rep;
	struct ls_err_ctx ctx = {{0}};

	world(f);
	f->mine->ts = T(2);
	tr = put(f, fx_transfer(f->mine, f->lot, 7500, f->sep, NULL, NULL));
	f->sep->ts = T(3);
	rc = put(f, fx_receipt_why(f->sep, tr, 7000, "500 g wet"));
	f->mine->ts = T(3);
	put(f, fx_receipt_why(f->mine, rc, 400, "100 g lost"));
	put(f, fx_transfer(f->mine, f->lot, 400, f->sep, NULL, NULL));
	want = answer_of(f->s, f);
	assert_int_equal(want.m.held, 0);
	assert_int_equal(want.s.in, 400);
	assert_int_equal(want.s.held, 7000);
	assert_int_equal(want.n_transfers, 2);

	for (int order = 0; order < 6; order++) {
		struct fx_env shuffled[N_MAX];
		struct ls_ingest_result res[N_MAX];
		struct ls_store *s2 = NULL;
		char *dir = fx_tmpdir();
		size_t n = f->n;

		assert_non_null(dir);
		memcpy(shuffled, f->e, n * sizeof(*shuffled));
		if (order == 1)
			for (size_t i = 0; i < n / 2; i++) {
				struct fx_env x = shuffled[i];
				shuffled[i] = shuffled[n - 1 - i];
				shuffled[n - 1 - i] = x;
			}
		for (size_t i = n - 1; order >= 2 && i > 0; i--) {
			size_t j = randombytes_uniform((uint32_t)i + 1);
			struct fx_env x = shuffled[i];
			shuffled[i] = shuffled[j];
			shuffled[j] = x;
		}
		assert_int_equal(fx_store_open(dir, f->auth, 0, &s2), 0);
		if (order == 0) {
			assert_int_equal(fx_ingest(s2, shuffled, n, res), 0);
		} else {
			for (size_t i = 0; i < n; i++)
				assert_int_equal(
				    fx_ingest_one(s2, shuffled[i].buf, shuffled[i].len, &res[0]),
				    0);
		}
		got = answer_of(s2, f);
		same_answer(&got, &want);
		ls_store_close(&s2);
		fx_rmtree(dir);
		free(dir);
	}

	ls_store_close(&f->s);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])f->auth->kp->pk;
	o.n_anchors = 1;
	assert_int_equal(ls_store_reindex(f->dir, &o, NULL, &rep, &ctx), 0);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	got = answer_of(f->s, f);
	same_answer(&got, &want);
}

/* A holder of many lots: bounded pages in lot id order, each lot once. */
static void
test_holdings_pages(void **state)
{
	struct fx *f = *state;
	struct ls_holdings h;
	uint8_t last[32], seen[25][32];
	size_t n_seen = 0, pages = 0;
	bool more = true;

	world(f);
	for (int i = 0; i < 24; i++) {
		char label[16];
		snprintf(label, sizeof(label), "lot-%d", i);
		put(f, fx_lot(f->mine, label, "s", "CN", "ore", (uint64_t)i + 1, "Nd=1000"));
	}
	while (more) {
		assert_int_equal(ls_holdings(f->s, f->mine->kp->pk, pages ? last : NULL, 10, &h),
				 0);
		assert_true(h.n_holds <= 10);
		for (size_t i = 0; i < h.n_holds; i++) {
			if (n_seen > 0)
				assert_true(memcmp(seen[n_seen - 1], h.holds[i].lot, 32) < 0);
			memcpy(seen[n_seen++], h.holds[i].lot, 32);
		}
		more = h.more_holds;
		if (h.n_holds > 0)
			memcpy(last, h.holds[h.n_holds - 1].lot, 32);
		ls_holdings_release(&h);
		pages++;
	}
	assert_int_equal(n_seen, 25);
	assert_int_equal(pages, 3);
	/* The limit is capped: 0 and too many mean LS_HOLDINGS_MAX. */
	assert_int_equal(ls_holdings(f->s, f->mine->kp->pk, NULL, 0, &h), 0);
	assert_int_equal(h.n_holds, 25);
	assert_false(h.more_holds);
	ls_holdings_release(&h);
	assert_int_equal(ls_holdings(f->s, f->mine->kp->pk, NULL, 1u << 30, &h), 0);
	assert_int_equal(h.n_holds, 25);
	ls_holdings_release(&h);
	ls_holdings_release(NULL);
}

/* Receipt.reason is bounded like every string, and a receipt carrying one
 * is written in format version 2 (version 1 readers do not know it). */
static void
test_holdings_reason_bounds(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_RECEIPT);
	struct ls_err_ctx ctx = {{0}};
	char longer[LS_STR_MAX + 2];

	world(f);
	assert_non_null(r);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(r->receipt.transfer, f->lot, 32);
	r->receipt.reason = ls_record_strdup(r, longer);
	memcpy(r->author, f->sep->kp->pk, 32);
	r->seq = 1;
	r->timestamp = T(1);
	assert_int_equal(ls_record_sign(r, f->sep->kp->sk, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "receipt reason"));
	r->receipt.reason = ls_record_strdup(r, "short");
	assert_int_equal(ls_record_sign(r, f->sep->kp->sk, &ctx), 0);
	assert_int_equal(r->version, 2);
	ls_record_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_holdings_shortfall_returns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holdings_loss_declared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holdings_any_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holdings_equivocating_receiver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holdings_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_holdings_reason_bounds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
