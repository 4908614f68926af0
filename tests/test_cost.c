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
#include "reason.h"
#include "store.h"
#include "store_int.h"
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
	if (b->records > 2 * a->records + SLACK || b->reads > 2 * a->reads + SLACK ||
	    b->seeks > 2 * a->seeks + SLACK)
		fprintf(stderr,
			"%s: %llu records, %llu reads, %llu seeks; twice the history: %llu, "
			"%llu, %llu\n",
			what, (unsigned long long)a->records, (unsigned long long)a->reads,
			(unsigned long long)a->seeks, (unsigned long long)b->records,
			(unsigned long long)b->reads, (unsigned long long)b->seeks);
	assert_true(b->records <= 2 * a->records + SLACK);
	assert_true(b->reads <= 2 * a->reads + SLACK);
	assert_true(b->seeks <= 2 * a->seeks + SLACK);
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

/* b (the same history in a larger ledger) read within a few of what a read. */
static void
about_the_same(const char *what, const struct ls_read_cost *a, const struct ls_read_cost *b)
{
	if (b->reads > a->reads + 8 || b->records > a->records + 8)
		fprintf(stderr, "%s: %llu reads, %llu records; in the larger ledger: %llu, %llu\n",
			what, (unsigned long long)a->reads, (unsigned long long)a->records,
			(unsigned long long)b->reads, (unsigned long long)b->records);
	assert_true(b->reads <= a->reads + 8);
	assert_true(b->records <= a->records + 8);
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
 * A lot's node is stored with it, so no ancestor's record is decoded, and
 * each ancestor costs two table reads: its node and its child, read by one
 * cursor stepping back from the node of the lot it made (no seek), and no
 * leaf index while no checkpoint has a quorum (this world has none).
 */
static void
test_cost_chain_linear(void **state)
{
	struct world *w = *state;
	uint8_t lot[32];
	struct costs a, b;
	const uint64_t n = 80;

	memcpy(lot, w->magnets, 32);
	extend_chain(w, lot, (int)n);
	cost_of(w, lot, NULL, NULL, &a);
	if (getenv("LS_TEST_VERBOSE") != NULL)
		fprintf(stderr,
			"%llu ancestors: provenance %llu/%llu/%llu export %llu/%llu/%llu origin "
			"%llu/%llu/%llu trace %llu/%llu/%llu (records/reads/seeks)\n",
			(unsigned long long)n, (unsigned long long)a.prov.records,
			(unsigned long long)a.prov.reads, (unsigned long long)a.prov.seeks,
			(unsigned long long)a.exp.records, (unsigned long long)a.exp.reads,
			(unsigned long long)a.exp.seeks, (unsigned long long)a.origin.records,
			(unsigned long long)a.origin.reads, (unsigned long long)a.origin.seeks,
			(unsigned long long)a.trace_up.records,
			(unsigned long long)a.trace_up.reads, (unsigned long long)a.trace_up.seeks);
	assert_true(a.prov.records <= SLACK);
	assert_true(a.exp.records <= SLACK);
	assert_true(a.origin.records <= SLACK);
	assert_true(a.trace_up.records <= SLACK);
	/* Two reads per ancestor: its node and its child, the next lot's
	 * transformation, read stepping back from the node after them. */
	assert_true(a.prov.reads <= 2 * n + SLACK);
	assert_true(a.exp.reads <= 2 * n + SLACK);
	assert_true(a.origin.reads <= 2 * n + SLACK);
	assert_true(a.trace_up.reads <= 2 * n + SLACK);
	/* No descent of a tree per ancestor: the walk up the chain steps back
	 * through the lots table from the last lot's node. */
	assert_true(a.prov.seeks <= SLACK);
	assert_true(a.exp.seeks <= SLACK);
	assert_true(a.origin.seeks <= SLACK);
	assert_true(a.trace_up.seeks <= SLACK);
	extend_chain(w, lot, (int)n);
	cost_of(w, lot, NULL, NULL, &b);
	if (getenv("LS_TEST_VERBOSE") != NULL)
		fprintf(stderr,
			"%llu ancestors: provenance %llu/%llu/%llu export %llu/%llu/%llu origin "
			"%llu/%llu/%llu trace %llu/%llu/%llu (records/reads/seeks)\n",
			(unsigned long long)(2 * n), (unsigned long long)b.prov.records,
			(unsigned long long)b.prov.reads, (unsigned long long)b.prov.seeks,
			(unsigned long long)b.exp.records, (unsigned long long)b.exp.reads,
			(unsigned long long)b.exp.seeks, (unsigned long long)b.origin.records,
			(unsigned long long)b.origin.reads, (unsigned long long)b.origin.seeks,
			(unsigned long long)b.trace_up.records,
			(unsigned long long)b.trace_up.reads, (unsigned long long)b.trace_up.seeks);
	/* The chain did double: each question read more, with no more
	 * seeks (two at most: where a step back gives up for one). */
	assert_true(b.prov.reads >= a.prov.reads + n);
	assert_true(b.origin.reads >= a.origin.reads + n);
	assert_true(b.trace_down.reads >= a.trace_down.reads + n);
	assert_true(b.prov.seeks <= a.prov.seeks + 2);
	assert_true(b.exp.seeks <= a.exp.seeks + 2);
	assert_true(b.origin.seeks <= a.origin.seeks + 2);
	assert_true(b.trace_up.seeks <= a.trace_up.seeks + 2);
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
	assert_true(c2.prov.reads >= c1.prov.reads + 4 * (uint64_t)k);
	compare(&c1, &c2);
	fx_actor_free(&a);
	fx_actor_free(&b);
}

/*
 * The holders of a lot are found from its own history (its maker, the
 * parties of its transfers), not by scanning every holding in the ledger:
 * 300 more lots of other makers leave what the questions without a holder
 * (provenance, export) read about the magnets within a few reads of
 * where it was. They once read
 * the whole holds table, one read per holding of anyone.
 */
static void
test_cost_holders_not_ledger(void **state)
{
	struct world *w = *state;
	struct costs c1, c2;
	const int k = 300;

	cost_of(w, w->magnets, NULL, NULL, &c1);
	for (int i = 0; i < k; i++) {
		char label[32];
		snprintf(label, sizeof(label), "other-%d", i);
		PUT(w, fx_lot(w->miner, label, "Bayan Obo", "CN", "alloy", 1000, "Dy=60000"));
	}
	cost_of(w, w->magnets, NULL, NULL, &c2);
	/* a few: the step back through the lots table passes others' lots */
	about_the_same("provenance", &c1.prov, &c2.prov);
	about_the_same("export", &c1.exp, &c2.exp);
}

/*
 * An export question finds the licenses that may cover it among the
 * exporter's own (the licensee must be the exporter), not among every
 * license in the ledger: 200 licenses of other licensees leave what the
 * export reads where it was, and the maker's one license among them is
 * still found and named.
 */
static void
test_cost_licenses_not_ledger(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct costs c1, c2;
	struct ls_verdict v;
	uint8_t lic[32];
	const int k = 200;

	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	cost_of(w, w->magnets, NULL, NULL, &c1);
	for (int i = 0; i < k; i++) {
		struct fx_actor *other = fx_actor_new("CN");
		char number[32];
		assert_non_null(other);
		snprintf(number, sizeof(number), "CN-OTHER-%03d", i);
		memset(&ls, 0, sizeof(ls));
		ls.number = number;
		ls.licensee = other->kp->pk;
		ls.items = "magnet";
		ls.destinations = "DE";
		PUT(w, fx_license(w->cn_auth, &ls));
		fx_actor_free(&other);
	}
	cost_of(w, w->magnets, NULL, NULL, &c2);
	about_the_same("export", &c1.exp, &c2.exp);

	/* The maker's own license, numbered after every other: found. */
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-ZZZ";
	ls.licensee = w->maker->kp->pk;
	ls.items = "magnet";
	ls.max_grams = 1000000;
	ls.destinations = "DE";
	{
		struct fx_env e = fx_license(w->cn_auth, &ls);
		memcpy(lic, e.id, 32);
		STORED(w, e);
		fx_env_release(&e);
	}
	world_export_check(w, w->magnets, w->maker, "DE", "civilian", NULL, &v);
	for (size_t i = 0; v.kind != LS_V_ALLOWED && i < v.n; i++)
		fprintf(stderr, "%s: %s\n", ls_reason_code(v.reasons[i].code),
			v.reasons[i].message);
	assert_int_equal(v.kind, LS_V_ALLOWED);
	{
		bool named = false;
		for (size_t i = 0; i < v.n; i++)
			if (v.reasons[i].code == LS_R_CONTROLLED && v.reasons[i].n_ids >= 2 &&
			    memcmp(v.reasons[i].ids[1], lic, 32) == 0 &&
			    strstr(v.reasons[i].message, "CN-ZZZ") != NULL)
				named = true;
		assert_true(named);
	}
	ls_verdict_release(&v);
}

/*
 * One lot through a line of holders, each shipping part of what it received
 * on: the last holder's custody reaches the lot with every holder (past a
 * few, the walk keeps them in a set), and each hop's bindings walk its
 * sender's custody. 12 holders and 24: the verdicts stay valid, the export
 * is judged, and the store reads at most double (each hop's walk is in
 * memory: a transfer's receipts are read once per question).
 */
static void
holder_line(struct world *w, struct fx_actor **line, int from, int to)
{
	char org[16];

	for (int i = from; i < to; i++) {
		struct fx_actor *prev = i == 0 ? w->maker : line[i - 1];
		struct fx_env t, r;
		snprintf(org, sizeof(org), "H%d", i);
		line[i] = cn_actor(w, org);
		t = fx_transfer(prev, w->magnets, (uint64_t)(100 - i), line[i], NULL, NULL);
		STORED(w, t);
		if (line[i]->ts < prev->ts)
			line[i]->ts = prev->ts;
		r = fx_receipt(line[i], t.id, (uint64_t)(100 - i));
		STORED(w, r);
		fx_env_release(&t);
		fx_env_release(&r);
	}
}

static void
test_cost_holder_line_linear(void **state)
{
	struct world *w = *state;
	struct fx_actor *line[24] = {0};
	struct costs c1, c2;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	holder_line(w, line, 0, 12);
	cost_of(w, w->magnets, line[11], NULL, &c1);
	holder_line(w, line, 12, 24);
	cost_of(w, w->magnets, line[23], NULL, &c2);
	compare(&c1, &c2);
	for (int i = 0; i < 24; i++)
		fx_actor_free(&line[i]);
}

static void
node_equal(const struct ls_lotnode *a, const struct ls_lotnode *b)
{
	assert_memory_equal(a->id, b->id, 32);
	assert_memory_equal(a->li.rec, b->li.rec, 32);
	assert_int_equal(a->li.index, b->li.index);
	assert_int_equal(a->type, b->type);
	assert_memory_equal(a->author, b->author, 32);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_int_equal(a->has_cert, b->has_cert);
	assert_memory_equal(a->cert_id, b->cert_id, 32);
	assert_string_equal(a->label, b->label);
	assert_string_equal(a->category, b->category);
	assert_string_equal(a->site, b->site);
	assert_string_equal(a->country, b->country);
	assert_int_equal(a->grams, b->grams);
	assert_int_equal(a->value, b->value);
	assert_int_equal(a->n_comp, b->n_comp);
	assert_memory_equal(a->comp, b->comp, a->n_comp * sizeof(*a->comp));
	assert_int_equal(a->n_inputs, b->n_inputs);
	assert_memory_equal(a->inputs, b->inputs, a->n_inputs * sizeof(*a->inputs));
	assert_true(a->out_value == b->out_value);
	assert_int_equal(a->outs_valued, b->outs_valued);
	assert_memory_equal(a->unvalued_out, b->unvalued_out, 32);
}

static void *
test_alloc(void *arg, size_t n)
{
	void **slot = arg;
	/* a few blocks per node: kept in a list freed by the test */
	void **blk = calloc(1, sizeof(void *) + n);
	assert_non_null(blk);
	*blk = *slot;
	*slot = blk;
	return blk + 1;
}

struct kid_list {
	size_t n;
	struct ls_kid *v;
};

static int
kid_add(void *arg, const uint8_t rec[LS_ID_LEN], enum ls_rtype type)
{
	struct kid_list *l = arg;
	struct ls_kid *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	assert_non_null(nv);
	l->v = nv;
	memcpy(l->v[l->n].id, rec, LS_ID_LEN);
	l->v[l->n++].type = type;
	return 0;
}

static void
test_free_all(void *head)
{
	while (head != NULL) {
		void *next = *(void **)head;
		free(head);
		head = next;
	}
}

/*
 * The node stored with a lot at ingest is the node of its record: the same
 * function (ls_lotnode_of_record) writes it and answers for a lot stored
 * without one. A registration, a valued transformation with two outputs
 * (one declaring no value).
 */
static void
test_cost_node_is_the_records(void **state)
{
	struct world *w = *state;
	uint8_t outs[2][32];
	const uint8_t *lots[4] = {w->dy_lot, w->magnets, outs[0], outs[1]};
	struct ls_txn t;

	{
		struct ls_lot_input in = {{0}, 40000};
		const char *out[] = {"a:magnet:30000:Nd=250000,Dy=50000",
				     "b:scrap:10000:Nd=100000,Dy=10000"};
		const uint64_t values[] = {900, 0};
		struct fx_env e;
		memcpy(in.lot, w->magnets, 32);
		e = fx_transform_value(w->maker, &in, 1, out, values, 2);
		STORED(w, e);
		ls_lot_id(e.id, 0, outs[0]);
		ls_lot_id(e.id, 1, outs[1]);
		fx_env_release(&e);
	}
	assert_int_equal(ls_txn_begin(w->s, false, &t), 0);
	for (int i = 0; i < 4; i++) {
		struct ls_lotnode stored, fresh;
		struct ls_lot_info li;
		struct ls_record *rec = NULL;
		void *mem = NULL;
		uint64_t before = t.n_records;
		struct kid_list kl = {0};
		assert_int_equal(ls_txn_lotnode_read(&t, lots[i], true, &stored, test_alloc, &mem),
				 0);
		/* read from the lots table: no record decoded */
		assert_int_equal(t.n_records, before);
		/* its children, read after it by the same cursor, are the lot's
		 * children: the magnets are consumed by the transformation */
		assert_true(stored.kids_loaded);
		assert_int_equal(ls_txn_lot_children_typed(&t, lots[i], kid_add, &kl), 0);
		assert_int_equal(stored.n_kids, kl.n);
		for (size_t k = 0; k < kl.n; k++) {
			assert_memory_equal(stored.kids[k].id, kl.v[k].id, 32);
			assert_int_equal(stored.kids[k].type, kl.v[k].type);
		}
		if (lots[i] == w->magnets) {
			bool consumed = false;
			for (size_t k = 0; k < kl.n; k++)
				consumed |= stored.kids[k].type == LS_REC_TRANSFORMATION;
			assert_true(consumed);
		}
		free(kl.v);
		assert_int_equal(ls_txn_lot(&t, lots[i], &li), 0);
		assert_int_equal(ls_txn_record(&t, li.rec, &rec), 0);
		assert_int_equal(ls_lotnode_of_record(rec, &li, lots[i], &fresh), 0);
		node_equal(&stored, &fresh);
		if (i == 3) {
			assert_false(stored.outs_valued);
			assert_memory_equal(stored.unvalued_out, outs[1], 32);
		}
		ls_record_free(rec);
		test_free_all(mem);
	}
	ls_txn_abort(&t);
}

/* lot's node and children as a fresh read transaction reads them (its first
 * read seeks) equal n's. */
static void
node_as_fresh(struct world *w, const uint8_t lot[32], const struct ls_lotnode *n)
{
	struct ls_txn f;
	struct ls_lotnode fresh;
	void *mem = NULL;
	struct kid_list kl = {0};

	assert_int_equal(ls_txn_begin(w->s, false, &f), 0);
	assert_int_equal(ls_txn_lotnode_read(&f, lot, true, &fresh, test_alloc, &mem), 0);
	assert_int_equal(f.n_seeks, 2); /* the ids lookup, the node */
	node_equal(n, &fresh);
	assert_true(n->kids_loaded && fresh.kids_loaded);
	assert_int_equal(n->n_kids, fresh.n_kids);
	assert_int_equal(ls_txn_lot_children_typed(&f, lot, kid_add, &kl), 0);
	assert_int_equal(n->n_kids, kl.n);
	for (size_t k = 0; k < kl.n; k++) {
		assert_memory_equal(n->kids[k].id, fresh.kids[k].id, 32);
		assert_memory_equal(n->kids[k].id, kl.v[k].id, 32);
		assert_int_equal(n->kids[k].type, kl.v[k].type);
	}
	free(kl.v);
	test_free_all(mem);
	ls_txn_abort(&f);
}

/*
 * One read transaction's cursor steps back from the node it read last to
 * the next node asked for (a walk up the inputs), collecting that node's
 * children on the way, and seeks when the node is not just before it: the
 * nodes and children read either way are those a fresh transaction reads.
 * The magnets have more children (20 transfers, the transformation) than
 * the step's first list holds; the Dy lot is further back; the output is
 * after the cursor (stepping back cannot reach it).
 */
static void
test_cost_step_back_reads_the_same(void **state)
{
	struct world *w = *state;
	struct fx_actor *a = cn_actor(w, "A");
	const uint8_t *order[4];
	uint8_t out[32];
	struct ls_lotnode n[4];
	struct ls_txn t;
	void *mem = NULL;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	for (int i = 0; i < 20; i++)
		PUT(w, fx_transfer(w->maker, w->magnets, 1, a, NULL, NULL));
	{
		struct ls_lot_input in = {{0}, 1000};
		const char *outs[] = {"o:magnet:1000:Nd=250000,Dy=50000,Fe=650000"};
		struct fx_env e;
		memcpy(in.lot, w->magnets, 32);
		e = fx_transform(w->maker, &in, 1, outs, 1);
		STORED(w, e);
		ls_lot_id(e.id, 0, out);
		fx_env_release(&e);
	}
	order[0] = out;
	order[1] = w->magnets;
	order[2] = w->dy_lot;
	order[3] = out;
	assert_int_equal(ls_txn_begin(w->s, false, &t), 0);
	for (int i = 0; i < 4; i++) {
		uint64_t seeks = t.n_seeks;
		assert_int_equal(ls_txn_lotnode_read(&t, order[i], true, &n[i], test_alloc, &mem),
				 0);
		if (i == 1) {
			/* right before the output's node: stepped back to, the
			 * ids lookup the only seek */
			assert_int_equal(t.n_seeks, seeks + 1);
			assert_true(n[i].n_kids >= 21);
		}
		if (i == 3)
			assert_int_equal(t.n_seeks, seeks + 2); /* after the cursor: sought */
	}
	/* (one read transaction a thread: the fresh ones after this one) */
	ls_txn_abort(&t);
	for (int i = 0; i < 4; i++)
		node_as_fresh(w, order[i], &n[i]);
	test_free_all(mem);
	fx_actor_free(&a);
}

/*
 * A lots value whose node is cut short anywhere, or says it is longer than
 * it is (a string, the composition, the inputs, the input keys), is a store
 * error, never a node decoded from the bytes after it; the whole value
 * still reads.
 */
static void
test_cost_node_bytes_checked(void **state)
{
	struct world *w = *state;
	enum { FIXED = LS_ID_LEN + 4 + 8 + LS_KEY_LEN + 8 };
	uint8_t key[LS_LOT_KEY_LEN], *orig, *buf;
	struct ls_lotnode n;
	struct ls_txn t;
	MDB_val val;
	size_t len;
	void *mem = NULL;

	assert_int_equal(ls_txn_begin(w->s, true, &t), 0);
	assert_int_equal(ls_txn_lot_key(&t, w->magnets, key), 0);
	assert_int_equal(ls_txn_get(&t, w->s->lots, key, sizeof(key), &val), 0);
	len = val.mv_size;
	assert_true(len > FIXED + 60);
	orig = malloc(len);
	buf = malloc(len);
	assert_non_null(orig);
	assert_non_null(buf);
	memcpy(orig, val.mv_data, len);
	for (size_t cut = FIXED + 1; cut <= len; cut++) {
		uint8_t *v = malloc(cut);
		int rc;
		assert_non_null(v);
		memcpy(v, orig, cut);
		assert_int_equal(ls_txn_put(&t, w->s->lots, key, sizeof(key), v, cut, 0), 0);
		free(v);
		rc = ls_txn_lotnode_read(&t, w->magnets, false, &n, test_alloc, &mem);
		assert_int_equal(rc, cut == len ? 0 : LS_ERR_STORE);
	}
	/* every byte that is a length (or a count), made as large as it goes */
	for (size_t i = FIXED; i < len; i++) {
		int rc;
		memcpy(buf, orig, len);
		buf[i] = 0xff;
		assert_int_equal(ls_txn_put(&t, w->s->lots, key, sizeof(key), buf, len, 0), 0);
		rc = ls_txn_lotnode_read(&t, w->magnets, false, &n, test_alloc, &mem);
		assert_true(rc == 0 || rc == LS_ERR_STORE);
		if (rc == 0 && n.n_comp > 0)
			assert_true(n.n_comp <= LS_COMP_MAX);
	}
	test_free_all(mem);
	free(orig);
	free(buf);
	ls_txn_abort(&t); /* nothing of it stays */
}

/*
 * A lot stored without its node (a store written before the node, rebuilt
 * in part) is answered from its record, with the same verdict, origin and
 * trace: the record is then read.
 */
static void
test_cost_node_missing_reads_record(void **state)
{
	struct world *w = *state;
	struct ls_verdict v1, v2;
	struct ls_origin o1, o2;
	struct ls_txn t;
	MDB_val val;
	uint8_t fixed[LS_ID_LEN + 4 + 8 + LS_KEY_LEN + 8], key[LS_LOT_KEY_LEN];

	assert_int_equal(world_provenance(w->s, w->magnets, &v1), LS_V_VALID);
	assert_int_equal(ls_verify_origin(w->s, w->magnets, &o1), 0);
	assert_int_equal(ls_txn_begin(w->s, true, &t), 0);
	assert_int_equal(ls_txn_lot_key(&t, w->magnets, key), 0);
	assert_int_equal(ls_txn_get(&t, w->s->lots, key, sizeof(key), &val), 0);
	assert_true(val.mv_size > sizeof(fixed));
	memcpy(fixed, val.mv_data, sizeof(fixed));
	assert_int_equal(ls_txn_put(&t, w->s->lots, key, sizeof(key), fixed, sizeof(fixed), 0), 0);
	assert_int_equal(mdb_txn_commit(t.txn), 0);
	t.txn = NULL;
	ls_txn_abort(&t);
	assert_int_equal(world_provenance(w->s, w->magnets, &v2), LS_V_VALID);
	assert_int_equal(ls_verify_origin(w->s, w->magnets, &o2), 0);
	assert_int_equal(v1.n, v2.n);
	for (size_t i = 0; i < v1.n; i++)
		assert_string_equal(v1.reasons[i].message, v2.reasons[i].message);
	assert_int_equal(v2.cost.records, v1.cost.records + 1);
	assert_int_equal(o2.cost.records, o1.cost.records + 1);
	assert_int_equal(o1.n, o2.n);
	for (size_t i = 0; i < o1.n; i++) {
		assert_int_equal(o1.elems[i].grams, o2.elems[i].grams);
		assert_int_equal(o1.elems[i].n_mine, o2.elems[i].n_mine);
		assert_string_equal(o1.elems[i].by_mine[0].name, o2.elems[i].by_mine[0].name);
		assert_int_equal(o1.elems[i].by_mine[0].grams, o2.elems[i].by_mine[0].grams);
	}
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);
	ls_origin_release(&o1);
	ls_origin_release(&o2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cost_chain_linear, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_holders_not_ledger, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_licenses_not_ledger, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_many_transfers_linear, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_holder_line_linear, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_step_back_reads_the_same, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_node_bytes_checked, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_node_is_the_records, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_cost_node_missing_reads_record, world_setup,
					    world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
