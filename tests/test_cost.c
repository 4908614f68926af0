/*
 * test_cost.c - a question costs in proportion to what it reads. Every
 * question reports what it read (struct ls_read_cost: record envelopes and
 * table reads); doubling the history it walks may at most double that, plus
 * a constant. Should any walk go quadratic again (a record decoded once per
 * path that reaches it, a custody walk per transfer), these fail.
 *
 * The world is helper_world's: China's miner sells Dy alloy to China's
 * magnet maker, who makes 100 kg of magnets; China's policy controls Dy.
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

#include "err.h"
#include "helper_fixture.h"
#include "helper_world.h"
#include "store.h"
#include "verify.h"

/* Slack for what a question reads whatever the history: the policies,
 * certificates, the lot itself, the holders. */
#define SLACK 64

/* What each question read about one lot. */
struct costs {
	struct ls_read_cost prov, prov_from, exp, origin, trace_up, trace_down;
};

static void
cost_of(struct world *w, const uint8_t lot[32], const struct fx_actor *from,
	const uint8_t *down_from, struct costs *c)
{
	struct ls_verdict v;
	struct ls_export_query q;
	struct ls_origin o;
	struct ls_trace t;

	memset(c, 0, sizeof(*c));
	assert_int_equal(ls_verify_provenance(w->s, lot, &v), 0);
	assert_int_equal(v.kind, LS_V_VALID);
	assert_true(v.cost.records > 0 && v.cost.reads >= v.cost.records);
	c->prov = v.cost;
	ls_verdict_release(&v);
	if (from != NULL) {
		memset(&q, 0, sizeof(q));
		memcpy(q.lot, lot, 32);
		q.has_from = true;
		memcpy(q.from, from->kp->pk, 32);
		assert_int_equal(ls_verify(w->s, &q, &v), 0);
		assert_int_equal(v.kind, LS_V_VALID);
		c->prov_from = v.cost;
		ls_verdict_release(&v);
	}
	world_export_query(&q, lot, from != NULL ? from : w->maker, "DE", "civilian", NULL);
	assert_int_equal(ls_verify_export(w->s, &q, &v), 0);
	assert_true(v.kind == LS_V_LICENSE_REQUIRED || v.kind == LS_V_ALLOWED);
	c->exp = v.cost;
	ls_verdict_release(&v);
	assert_int_equal(ls_verify_origin(w->s, lot, &o), 0);
	assert_true(o.n > 0);
	c->origin = o.cost;
	ls_origin_release(&o);
	assert_int_equal(ls_trace(w->s, lot, false, &t), 0);
	c->trace_up = t.cost;
	ls_trace_release(&t);
	assert_int_equal(ls_trace(w->s, down_from != NULL ? down_from : w->dy_lot, true, &t), 0);
	c->trace_down = t.cost;
	ls_trace_release(&t);
}

/* b (twice the history of a) read at most twice what a read, plus SLACK. */
static void
at_most_double(const char *what, const struct ls_read_cost *a, const struct ls_read_cost *b)
{
	if (b->records > 2 * a->records + SLACK || b->reads > 2 * a->reads + SLACK)
		fprintf(stderr, "%s: %llu records, %llu reads; twice the history: %llu, %llu\n",
			what, (unsigned long long)a->records, (unsigned long long)a->reads,
			(unsigned long long)b->records, (unsigned long long)b->reads);
	assert_true(b->records <= 2 * a->records + SLACK);
	assert_true(b->reads <= 2 * a->reads + SLACK);
}

static void
compare(const struct costs *a, const struct costs *b)
{
	at_most_double("provenance", &a->prov, &b->prov);
	at_most_double("provenance of a holder", &a->prov_from, &b->prov_from);
	at_most_double("export", &a->exp, &b->exp);
	at_most_double("origin", &a->origin, &b->origin);
	at_most_double("trace of ancestors", &a->trace_up, &b->trace_up);
	at_most_double("trace of descendants", &a->trace_down, &b->trace_down);
}

/* The maker turns all of *lot into a new lot like it, n times; *lot is the
 * last. */
static void
extend_chain(struct world *w, uint8_t lot[32], int n)
{
	for (int i = 0; i < n; i++) {
		struct ls_lot_input in = {{0}, 100000};
		const char *out[] = {"step:magnet:100000:Nd=250000,Dy=50000,Fe=650000"};
		struct fx_env e;
		memcpy(in.lot, lot, 32);
		e = fx_transform(w->maker, &in, 1, out, 1);
		STORED(w, e);
		ls_lot_id(e.id, 0, lot);
		fx_env_release(&e);
	}
}

/*
 * A chain of N transformations and one of 2N: every question on the last lot
 * (and the trace of descendants from the first) reads at most twice as much.
 * Each ancestor is read once: no more records read than records in the
 * chain, plus what every question reads.
 */
static void
test_cost_chain_linear(void **state)
{
	struct world *w = *state;
	uint8_t lot[32];
	struct costs a, b;
	const int n = 80;

	memcpy(lot, w->magnets, 32);
	extend_chain(w, lot, n);
	cost_of(w, lot, NULL, NULL, &a);
	assert_true(a.prov.records <= (uint64_t)n + SLACK);
	assert_true(a.origin.records <= (uint64_t)n + SLACK);
	assert_true(a.trace_up.records <= (uint64_t)n + SLACK);
	assert_true(a.exp.records <= (uint64_t)n + SLACK);
	extend_chain(w, lot, n);
	cost_of(w, lot, NULL, NULL, &b);
	/* The chain did double: each question read more. */
	assert_true(b.prov.records >= a.prov.records + (uint64_t)n);
	assert_true(b.trace_down.records >= a.trace_down.records + (uint64_t)n);
	compare(&a, &b);
}

/* The maker ships k grams one at a time to a, which ships each on to b. */
static void
ship_many(struct world *w, struct fx_actor *a, struct fx_actor *b, int k)
{
	for (int i = 0; i < k; i++) {
		struct fx_env t = fx_transfer(w->maker, w->magnets, 1, a, NULL, NULL);
		struct fx_env t2;
		STORED(w, t);
		if (a->ts < w->maker->ts)
			a->ts = w->maker->ts;
		PUT(w, fx_receipt(a, t.id, 1));
		t2 = fx_transfer(a, w->magnets, 1, b, NULL, NULL);
		STORED(w, t2);
		if (b->ts < a->ts)
			b->ts = a->ts;
		PUT(w, fx_receipt(b, t2.id, 1));
		fx_env_release(&t);
		fx_env_release(&t2);
	}
}

static struct fx_actor *
cn_actor(struct world *w, const char *org)
{
	struct fx_actor *x = fx_actor_new("CN");

	assert_non_null(x);
	PUT(w, fx_cert(w->cn_auth, x, org, "CN", LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, 0, 0));
	x->ts = FX_T0 + 3 * FX_DAY;
	return x;
}

/*
 * Many transfers of one lot, through two holders: K and 2K. Each transfer's
 * hop once walked the custody of the whole lot again (quadratic in the
 * transfers); the verdicts of the lot, of the last holder, its export and
 * the traces now read at most twice as much for twice the transfers.
 */
static void
test_cost_many_transfers_linear(void **state)
{
	struct world *w = *state;
	struct fx_actor *a = cn_actor(w, "A"), *b = cn_actor(w, "B");
	struct costs c1, c2;
	const int k = 60;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	ship_many(w, a, b, k);
	cost_of(w, w->magnets, b, NULL, &c1);
	ship_many(w, a, b, k);
	cost_of(w, w->magnets, b, NULL, &c2);
	assert_true(c2.prov.records >= c1.prov.records + 4 * (uint64_t)k);
	compare(&c1, &c2);
	fx_actor_free(&a);
	fx_actor_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cost_chain_linear, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_many_transfers_linear, world_setup,
					    world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
