/*
 * test_admit_cost.c - admitting a local client's submission costs in
 * proportion to the batch. One submission of N records of one lot's history
 * (N transfers of one lot by one sender; a line of lots, each made from the
 * last and shipped; transfers each received) is judged record by record; the
 * judgement of each record once walked every earlier transfer of the lot
 * (quadratic in N: one request held the writer for a minute at N = 4096).
 * What the writer read is counted (records decoded, table reads), not timed:
 * for N and 4N records, through admission, at most a constant per record.
 * The custody maps the writer keeps for the batch are dropped when a
 * transfer they depend on is received: a batch whose maps were built from
 * maps dropped later (a chain, two lots split from one, a return) gets for
 * each record the verdict the same records get one call each in a store of
 * their own, and leaves everyone holding the same.
 *
 * The world is helper_world's: China's miner sells Dy alloy to China's
 * magnet maker, who makes 100 kg of magnets; China's policy controls Dy.
 * LS_TEST_VERBOSE=1 prints the counts and times (and N = 256 ... 4096);
 * LS_ADMIT_COST_N sets N (1024), LS_ADMIT_COST_ONCE measures N once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "err.h"
#include "helper_fixture.h"
#include "helper_world.h"
#include "holdings.h"
#include "store.h"
#include "store_int.h"
#include "util.h"

/* Table reads admission may make per record of the batch, whatever N: the
 * record's own checks (feed, certificates, lot, holdings, policies). */
#define READS_PER_RECORD   200
#define RECORDS_PER_RECORD 32

struct cost {
	uint64_t records, reads, seeks;
	double secs;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ingests envs[0..n) in one call, as a local client's submission (local) or
 * from a peer; every record must be accepted. What the writer read. */
static struct cost
batch(struct world *w, const struct fx_env *envs, size_t n, bool local)
{
	const uint8_t **e = calloc(n, sizeof(*e));
	size_t *l = calloc(n, sizeof(*l));
	uint8_t *admit = calloc(n, 1);
	struct ls_ingest_result *res = calloc(n, sizeof(*res));
	struct cost c;
	double t0;

	assert_non_null(e);
	assert_non_null(l);
	assert_non_null(admit);
	assert_non_null(res);
	for (size_t i = 0; i < n; i++) {
		e[i] = envs[i].buf;
		l[i] = envs[i].len;
		admit[i] = local ? LS_ADMIT_LOCAL : LS_ADMIT_PEER;
	}
	c.records = w->s->ingest_records;
	c.reads = w->s->ingest_reads;
	c.seeks = w->s->ingest_seeks;
	t0 = now_s();
	assert_int_equal(ls_store_ingest_admit(w->s, e, l, admit, n, res, NULL), 0);
	c.secs = now_s() - t0;
	c.records = w->s->ingest_records - c.records;
	c.reads = w->s->ingest_reads - c.reads;
	c.seeks = w->s->ingest_seeks - c.seeks;
	for (size_t i = 0; i < n; i++)
		if (res[i].status != LS_INGEST_ACCEPTED || res[i].reason != LS_R_OK)
			fail_msg("record %zu of %zu: %s %s (%s)", i, n,
				 fx_status_name(res[i].status), ls_reason_code(res[i].reason),
				 res[i].message);
	free(e);
	free(l);
	free(admit);
	free(res);
	return c;
}

static void
envs_free(struct fx_env *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fx_env_release(&v[i]);
	free(v);
}

enum shape { ONE_LOT, RECEIVED, LOT_LINE };

static const char *const shape_name[] = {"transfers of one lot", "transfers each received",
					 "a line of lots, each shipped"};

/*
 * n records of one shape, signed in order (each by its author's next seq):
 * ONE_LOT: the maker ships 1 g of its magnets n times to a;
 * RECEIVED: n/2 such transfers, each followed by a's receipt;
 * LOT_LINE: n/2 times, the maker turns its last lot into a new one and
 * ships 1 g of it to a.
 */
static struct fx_env *
make_shape(struct world *w, struct fx_actor *a, enum shape sh, size_t n)
{
	struct fx_env *v = calloc(n, sizeof(*v));
	uint8_t lot[32];

	assert_non_null(v);
	memcpy(lot, w->magnets, 32);
	for (size_t i = 0; i < n; i++) {
		if (sh == ONE_LOT) {
			v[i] = fx_transfer(w->maker, w->magnets, 1, a, NULL, NULL);
		} else if (sh == RECEIVED) {
			v[i] = fx_transfer(w->maker, w->magnets, 1, a, NULL, NULL);
			if (a->ts < w->maker->ts)
				a->ts = w->maker->ts;
			if (++i < n)
				v[i] = fx_receipt(a, v[i - 1].id, 1);
		} else {
			struct ls_lot_input in = {{0}, 100000 - i};
			char out[96];
			const char *outs[] = {out};
			memcpy(in.lot, lot, 32);
			snprintf(out, sizeof(out),
				 "step%zu:magnet:%zu:Nd=250000,Dy=50000,Fe=650000", i,
				 (size_t)(100000 - i - 1));
			v[i] = fx_transform(w->maker, &in, 1, outs, 1);
			ls_lot_id(v[i].id, 0, lot);
			if (++i < n)
				v[i] = fx_transfer(w->maker, lot, 1, a, NULL, NULL);
		}
		assert_non_null(v[i < n ? i : n - 1].buf);
	}
	return v;
}

/* The same n records of shape sh, submitted in one batch: by a local client
 * into one world and from a peer into another. */
static void
measure(enum shape sh, size_t n, struct cost *local, struct cost *peer)
{
	for (int pass = 0; pass < 2; pass++) {
		void *state = NULL;
		struct world *w;
		struct fx_actor *a;
		struct fx_env *v;
		assert_int_equal(world_setup(&state), 0);
		w = state;
		a = world_actor(w, w->cn_auth, "A", "CN", LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER);
		w->maker->ts = a->ts = FX_T0 + 3 * FX_DAY;
		v = make_shape(w, a, sh, n);
		if (pass == 0)
			*local = batch(w, v, n, true);
		else
			*peer = batch(w, v, n, false);
		envs_free(v, n);
		fx_actor_free(&a);
		assert_int_equal(world_teardown(&state), 0);
	}
	if (getenv("LS_TEST_VERBOSE") != NULL)
		fprintf(stderr,
			"%s, N=%zu: admission %llu records %llu reads %.3f s; "
			"consensus only %llu records %llu reads %.3f s\n",
			shape_name[sh], n, (unsigned long long)local->records,
			(unsigned long long)local->reads, local->secs,
			(unsigned long long)peer->records, (unsigned long long)peer->reads,
			peer->secs);
}

/* N and 4N records of shape sh: admission reads at most a constant per
 * record, and 4N at most a little over four times N. */
static void
linear(enum shape sh)
{
	struct cost l1, p1, l4, p4;
	size_t n = 1024;

	if (getenv("LS_ADMIT_COST_N") != NULL)
		n = strtoul(getenv("LS_ADMIT_COST_N"), NULL, 10);
	if (getenv("LS_ADMIT_COST_ONCE") != NULL) {
		/* One measure of N records (a benchmark run), nothing asserted. */
		measure(sh, n, &l1, &p1);
		return;
	}
	if (getenv("LS_TEST_VERBOSE") != NULL)
		for (size_t k = 256; k < n; k *= 2)
			measure(sh, k, &l1, &p1);
	measure(sh, n, &l1, &p1);
	/* Before 4N (a minute when the work is quadratic). */
	assert_true(l1.reads <= READS_PER_RECORD * n);
	assert_true(l1.records <= RECORDS_PER_RECORD * n);
	if (getenv("LS_TEST_VERBOSE") != NULL)
		measure(sh, 2 * n, &l4, &p4);
	measure(sh, 4 * n, &l4, &p4);
	assert_true(l4.reads <= READS_PER_RECORD * 4 * n);
	assert_true(l4.records <= RECORDS_PER_RECORD * 4 * n);
	/* Four times the records cost about four times as much (the trees
	 * and the log grow a level deeper: 5, where quadratic work is 16). */
	assert_true(l4.reads <= 5 * l1.reads);
	assert_true(l4.records <= 5 * l1.records);
	/* The consensus rules alone read less than admission does. */
	assert_true(p4.reads <= l4.reads);
}

static void
test_admit_one_lot_linear(void **state)
{
	(void)state;
	linear(ONE_LOT);
}

static void
test_admit_received_linear(void **state)
{
	(void)state;
	linear(RECEIVED);
}

static void
test_admit_lot_line_linear(void **state)
{
	(void)state;
	linear(LOT_LINE);
}

/* ---- dependency-rejected: the bookkeeping is linear in the submission ----
 *
 * Admission's dependency-rejected verdicts are taken when the submission
 * ends (ingest.c, dr_settle): every record still waiting for an id its
 * submission refused is refused, and so on down the chain. Its nodes (one
 * per id a parked record misses, one per refused id) and the steps settling
 * takes are counted in the store (ingest_dr_nodes, ingest_dr_steps): for N
 * and 4N records (4N = 4096, a full group commit) of each shape below, at
 * most a constant per record, and 4N costs at most a little over four
 * times N. Quadratic bookkeeping (a refusal walking every earlier refusal,
 * a copy walking what waits again) fails the bound at N = 1024 already.
 */

enum dshape { FAN, OUTPUTS, CHAIN, COPIES };

static const char *const dshape_name[] = {
    "records naming one refused lot", "transfers of a refused transformation's 64 outputs",
    "a feed whose first record is refused", "copies of a refused lot and its transfer"};

#define DR_NODES_PER_RECORD 4
#define DR_STEPS_PER_RECORD 4

struct dcost {
	uint64_t nodes, steps, reads;
};

/*
 * n envelopes of shape sh, the refused record last (so that everything
 * else is waiting when it comes), by the magnet maker (no miner: its lot is
 * wrong-role; its transformation breaks mass balance):
 * FAN: the maker's lot X, then n - 1 transfers of X (each names X);
 * OUTPUTS: a transformation with 64 outputs, n - 1 transfers of them;
 * CHAIN: the lot X, then n - 1 transfers of the maker's magnets (valid on
 * their own, each names the one before: the chain of refusals is n long);
 * COPIES: n/2 copies of X and n/2 copies of one transfer of X.
 * want[i]: the record each must be refused for naming (NULL: a root).
 */
static struct fx_env *
make_dshape(struct world *w, struct fx_actor *a, enum dshape sh, size_t n, uint8_t (*want)[32],
	    bool *root)
{
	struct fx_env *v = calloc(n, sizeof(*v));
	struct fx_env x;
	uint8_t lot[32];

	assert_non_null(v);
	if (sh == OUTPUTS) {
		struct ls_lot_input in = {{0}, 100000};
		char names[64][48];
		const char *outs[64];
		memcpy(in.lot, w->magnets, 32);
		for (int o = 0; o < 64; o++) {
			snprintf(names[o], sizeof(names[o]), "rich%d:magnet:1000:Dy=900000", o);
			outs[o] = names[o];
		}
		x = fx_transform(w->maker, &in, 1, outs, 64);
	} else {
		x = fx_lot(w->maker, "no-ore", "Ningbo", "CN", "ore", 100000, "Dy=50000");
	}
	assert_non_null(x.buf);
	for (size_t i = 0; i + 1 < n; i++) {
		root[i] = false;
		if (sh == COPIES && i >= n / 2) {
			v[i] = x;
			v[i].buf = malloc(x.len);
			assert_non_null(v[i].buf);
			memcpy(v[i].buf, x.buf, x.len);
			root[i] = true;
			continue;
		}
		if (sh == COPIES && i > 0) {
			v[i] = v[0];
			v[i].buf = malloc(v[0].len);
			assert_non_null(v[i].buf);
			memcpy(v[i].buf, v[0].buf, v[0].len);
			memcpy(want[i], x.id, 32);
			continue;
		}
		/* FAN, OUTPUTS: each names X (its lot) and its predecessor;
		 * X's refusal is settled first, so each is refused for X. */
		if (sh == OUTPUTS) {
			ls_lot_id(x.id, (uint32_t)(i % 64), lot);
			v[i] = fx_transfer(w->maker, lot, 1, a, NULL, NULL);
			memcpy(want[i], x.id, 32);
		} else if (sh == CHAIN) {
			v[i] = fx_transfer(w->maker, w->magnets, 1, a, NULL, NULL);
			memcpy(want[i], i == 0 ? x.id : v[i - 1].id, 32);
		} else {
			v[i] = fx_transfer(w->maker, x.id, 1, a, NULL, NULL);
			memcpy(want[i], x.id, 32);
		}
		assert_non_null(v[i].buf);
	}
	v[n - 1] = x;
	root[n - 1] = true;
	return v;
}

static struct dcost
dmeasure(enum dshape sh, size_t n)
{
	void *state = NULL;
	struct world *w;
	struct fx_actor *a;
	struct fx_env *v;
	uint8_t(*want)[32] = calloc(n, 32);
	bool *root = calloc(n, sizeof(*root));
	const uint8_t **e = calloc(n, sizeof(*e));
	size_t *l = calloc(n, sizeof(*l));
	uint8_t *admit = calloc(n, 1);
	struct ls_ingest_result *res = calloc(n, sizeof(*res));
	struct ls_store_stats st0, st;
	struct dcost c;

	assert_non_null(want);
	assert_non_null(root);
	assert_non_null(e);
	assert_non_null(l);
	assert_non_null(admit);
	assert_non_null(res);
	assert_int_equal(world_setup(&state), 0);
	w = state;
	a = world_actor(w, w->cn_auth, "A", "CN", LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER);
	w->maker->ts = a->ts = FX_T0 + 3 * FX_DAY;
	v = make_dshape(w, a, sh, n, want, root);
	for (size_t i = 0; i < n; i++) {
		e[i] = v[i].buf;
		l[i] = v[i].len;
		admit[i] = LS_ADMIT_LOCAL;
	}
	assert_int_equal(ls_store_stats(w->s, &st0), 0);
	c.nodes = w->s->ingest_dr_nodes;
	c.steps = w->s->ingest_dr_steps;
	c.reads = w->s->ingest_reads;
	assert_int_equal(ls_store_ingest_admit(w->s, e, l, admit, n, res, NULL), 0);
	c.nodes = w->s->ingest_dr_nodes - c.nodes;
	c.steps = w->s->ingest_dr_steps - c.steps;
	c.reads = w->s->ingest_reads - c.reads;
	/* What a user checks: every record refused, the dependants for the
	 * record they name, nothing stored, nothing left waiting. */
	for (size_t i = 0; i < n; i++) {
		char hex[65];
		ls_hex(want[i], 32, hex);
		if (res[i].status != LS_INGEST_REJECTED ||
		    (root[i] ? res[i].reason == LS_R_DEP_REJECTED
			     : res[i].reason != LS_R_DEP_REJECTED ||
				   memcmp(res[i].missing, want[i], 32) != 0))
			fail_msg("%s, N=%zu: record %zu: %s %s (%s), want %s %.16s",
				 dshape_name[sh], n, i, fx_status_name(res[i].status),
				 ls_reason_code(res[i].reason), res[i].message,
				 root[i] ? "refused" : "dependency-rejected naming", hex);
	}
	assert_int_equal(ls_store_stats(w->s, &st), 0);
	assert_int_equal(st.records, st0.records);
	assert_int_equal(st.pending, st0.pending);
	if (getenv("LS_TEST_VERBOSE") != NULL)
		fprintf(stderr, "%s, N=%zu: %llu nodes, %llu steps, %llu reads\n", dshape_name[sh],
			n, (unsigned long long)c.nodes, (unsigned long long)c.steps,
			(unsigned long long)c.reads);
	envs_free(v, n);
	fx_actor_free(&a);
	assert_int_equal(world_teardown(&state), 0);
	free(want);
	free(root);
	free(e);
	free(l);
	free(admit);
	free(res);
	return c;
}

static void
dlinear(enum dshape sh)
{
	size_t n = 1024;
	struct dcost c1 = dmeasure(sh, n), c4;

	assert_true(c1.nodes <= DR_NODES_PER_RECORD * n);
	assert_true(c1.steps <= DR_STEPS_PER_RECORD * n);
	assert_true(c1.reads <= READS_PER_RECORD * n);
	c4 = dmeasure(sh, 4 * n);
	assert_true(c4.nodes <= DR_NODES_PER_RECORD * 4 * n);
	assert_true(c4.steps <= DR_STEPS_PER_RECORD * 4 * n);
	assert_true(c4.reads <= READS_PER_RECORD * 4 * n);
	assert_true(c4.steps <= 5 * c1.steps);
	assert_true(c4.reads <= 5 * c1.reads);
}

static void
test_admit_deprej_fan(void **state)
{
	(void)state;
	dlinear(FAN);
}

static void
test_admit_deprej_outputs(void **state)
{
	(void)state;
	dlinear(OUTPUTS);
}

static void
test_admit_deprej_chain(void **state)
{
	(void)state;
	dlinear(CHAIN);
}

static void
test_admit_deprej_copies(void **state)
{
	(void)state;
	dlinear(COPIES);
}

/* Ingests n envelopes in one call as a local client's submission into
 * res. */
static void
submit(struct world *w, const struct fx_env *v, size_t n, struct ls_ingest_result *res)
{
	const uint8_t *e[8];
	size_t l[8];
	uint8_t admit[8];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		e[i] = v[i].buf;
		l[i] = v[i].len;
		admit[i] = LS_ADMIT_LOCAL;
	}
	assert_int_equal(ls_store_ingest_admit(w->s, e, l, admit, n, res, NULL), 0);
}

/* China's two licenses to the maker for magnets to Germany, stored: plain
 * (no bars) and barred (no military use downstream). */
static void
memo_licenses(struct world *w, uint8_t plain[32], uint8_t barred[32])
{
	struct fx_license_spec ls;

	world_magnet_license(w, &ls, "CN-PLAIN", "DE");
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->cn_auth, &ls, false, plain);
	ls.number = "CN-NOMIL";
	ls.no_military = true;
	world_license(w, w->cn_auth, &ls, false, barred);
}

/*
 * The attack on the memo: a holder's custody is worked out early in a
 * submission (a shipment for military use, allowed: what it holds came under
 * a license with no bars), then the same submission has it receive material
 * under a license that bars military use downstream, and ship for military
 * use again. The second shipment is refused as it would be on its own: the
 * receipt dropped the custody the first one worked out.
 */
static void
test_admit_memo_sees_receipt(void **state)
{
	struct world *w = *state;
	struct fx_actor *de2 =
	    world_actor(w, w->de_auth, "Werk", "DE", LS_ROLE_IMPORTER | LS_ROLE_PROCESSOR);
	struct ls_ingest_result res[4];
	uint8_t plain[32], barred[32];
	struct fx_env v[4];

	memo_licenses(w, plain, barred);
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	w->de_imp->ts = FX_T0 + 5 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 1000, w->de_imp, plain, true, NULL);
	/* One submission: ship for military use (custody: the plain license
	 * only), receive under the barring one, ship for military use again. */
	w->maker->ts = w->de_imp->ts = FX_T0 + 6 * FX_DAY;
	v[0] = fx_transfer(w->de_imp, w->magnets, 10, de2, NULL, "military");
	v[1] = fx_transfer(w->maker, w->magnets, 5000, w->de_imp, barred, NULL);
	w->de_imp->ts = FX_T0 + 7 * FX_DAY;
	v[2] = fx_receipt(w->de_imp, v[1].id, 5000);
	v[3] = fx_transfer(w->de_imp, w->magnets, 10, de2, NULL, "military");
	submit(w, v, 4, res);
	for (int i = 0; i < 3; i++)
		if (res[i].status != LS_INGEST_ACCEPTED || res[i].reason != LS_R_OK)
			fail_msg("record %d: %s %s (%s)", i, fx_status_name(res[i].status),
				 ls_reason_code(res[i].reason), res[i].message);
	if (res[3].status != LS_INGEST_REJECTED || res[3].reason != LS_R_END_USE_DENIED)
		fail_msg("the second military shipment: %s %s (%s)", fx_status_name(res[3].status),
			 ls_reason_code(res[3].reason), res[3].message);
	/* On its own, in a call of its own: the same verdict. */
	REFUSED(w, v[3], LS_R_END_USE_DENIED);
	for (int i = 0; i < 4; i++)
		fx_env_release(&v[i]);
	fx_actor_free(&de2);
}

/* ---- a batch against the same records one call each ---- */

static int
twin_one(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct ls_ingest_result res;

	(void)pos;
	(void)r;
	assert_int_equal(fx_ingest_one(arg, env, len, &res), 0);
	if (res.status != LS_INGEST_ACCEPTED)
		fail_msg("twin: %s %s (%s)", fx_status_name(res.status), ls_reason_code(res.reason),
			 res.message);
	return 0;
}

/* A store of its own in *dir holding what w's store holds now (each record
 * from a peer, in store order): nothing worked out in w carries over. */
static struct ls_store *
twin_open(struct world *w, char **dir)
{
	struct ls_store *s = NULL;

	assert_non_null(*dir = fx_tmpdir());
	assert_int_equal(fx_store_open(*dir, w->root, 0, &s), 0);
	assert_int_equal(ls_store_log(w->s, NULL, twin_one, s), 0);
	return s;
}

/* What key holds and has in transit in a and in b: the same lots, grams and
 * flows. */
static void
same_holdings(struct ls_store *a, struct ls_store *b, const struct fx_actor *key, const char *who)
{
	struct ls_holdings ha, hb;

	assert_int_equal(ls_holdings(a, key->kp->pk, NULL, 0, &ha), 0);
	assert_int_equal(ls_holdings(b, key->kp->pk, NULL, 0, &hb), 0);
	if (ha.n_holds != hb.n_holds || ha.n_in != hb.n_in || ha.n_out != hb.n_out)
		fail_msg("%s: batch holds %zu lots (%zu in, %zu out), alone %zu (%zu, %zu)", who,
			 ha.n_holds, ha.n_in, ha.n_out, hb.n_holds, hb.n_in, hb.n_out);
	for (size_t i = 0; i < ha.n_holds; i++)
		if (memcmp(ha.holds[i].lot, hb.holds[i].lot, 32) != 0 ||
		    ha.holds[i].grams != hb.holds[i].grams)
			fail_msg("%s: lot %zu: batch %llu g, alone %llu g", who, i,
				 (unsigned long long)ha.holds[i].grams,
				 (unsigned long long)hb.holds[i].grams);
	for (size_t i = 0; i < ha.n_in; i++)
		assert_true(memcmp(ha.in[i].id, hb.in[i].id, 32) == 0 &&
			    ha.in[i].grams == hb.in[i].grams);
	for (size_t i = 0; i < ha.n_out; i++)
		assert_true(memcmp(ha.out[i].id, hb.out[i].id, 32) == 0 &&
			    ha.out[i].grams == hb.out[i].grams);
	ls_holdings_release(&ha);
	ls_holdings_release(&hb);
}

#define MEMO_MAX 16

/* Appends the record expr (signed by author) to l's batch, wanting reason
 * why for it; a record to be refused does not take its author's seq. */
#define WANT(l, why, author, expr)                                                                 \
	do {                                                                                       \
		struct fx_mark m_ = fx_mark(author);                                               \
		(l)->want[(l)->n] = (why);                                                         \
		(l)->v[(l)->n++] = (expr);                                                         \
		if ((why) != LS_R_OK)                                                              \
			fx_rewind((author), &m_);                                                  \
	} while (0)

/* The actors of a memo shape: a (China's licensed importer) and b, c, d
 * further down the line in Germany; lic[0] a license with no bars, lic[1]
 * one that bars military use downstream (both to the maker, magnets to
 * DE). */
struct line {
	struct world *w;
	struct fx_actor *b, *c, *d;
	uint8_t lic[2][32];
	uint8_t barred_id[32]; /* the maker's transfer to a under lic[1], not received */
	/* the batch, and the reason each of its records must get */
	struct fx_env v[MEMO_MAX];
	enum ls_reason want[MEMO_MAX];
	size_t n;
};

/* A processor in Germany that imports and exports. */
static struct fx_actor *
de_actor(struct world *w, const char *org)
{
	return world_actor(w, w->de_auth, org, "DE",
			   LS_ROLE_IMPORTER | LS_ROLE_EXPORTER | LS_ROLE_PROCESSOR);
}

/* Stored before the batch: both licenses; the maker ships 1000 g under the
 * plain one to a (de_imp), received; then 5000 g under the barring one,
 * not received yet (l->barred_id). The batch's first two records: a ships
 * 300 g to b, who receives them. */
static void
line_setup(struct line *l, struct world *w)
{
	struct fx_env e;

	memset(l, 0, sizeof(*l));
	l->w = w;
	l->b = de_actor(w, "B");
	l->c = de_actor(w, "C");
	l->d = de_actor(w, "D");
	memo_licenses(w, l->lic[0], l->lic[1]);
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 1000, w->de_imp, l->lic[0], false, NULL);
	e = fx_transfer(w->maker, w->magnets, 5000, w->de_imp, l->lic[1], NULL);
	memcpy(l->barred_id, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	/* Everyone's next record a minute after the last. */
	w->maker->ts = w->de_imp->ts = l->b->ts = l->c->ts = l->d->ts = FX_T0 + 6 * FX_DAY;
	w->maker->ts_step = w->de_imp->ts_step = l->b->ts_step = l->c->ts_step = l->d->ts_step = 60;
	/* The batch opens: a ships 300 g to b, received. */
	WANT(l, LS_R_OK, w->de_imp, fx_transfer(w->de_imp, w->magnets, 300, l->b, NULL, NULL));
	WANT(l, LS_R_OK, l->b, fx_receipt(l->b, l->v[0].id, 300));
}

static void
line_release(struct line *l)
{
	fx_actor_free(&l->b);
	fx_actor_free(&l->c);
	fx_actor_free(&l->d);
}

/*
 * l's batch submitted as one local client's batch into w's store, and the
 * same records into a twin of it (made before), each in a call of its own
 * (no memo carried from one to the next): every record gets the same status
 * and reason, and every actor of the line then holds the same. Each record
 * must also get the reason WANT gave it, so the shape is known to reach the
 * verdicts it was built for. Releases the batch.
 */
static void
batch_as_alone(struct line *l, const char *shape)
{
	struct world *w = l->w;
	struct fx_env *v = l->v;
	const enum ls_reason *want = l->want;
	size_t n = l->n;
	const struct fx_actor *who[] = {w->maker, w->de_imp, l->b, l->c, l->d};
	const char *names[] = {"maker", "a", "b", "c", "d"};
	struct ls_ingest_result res[MEMO_MAX], one;
	const uint8_t *e[MEMO_MAX];
	size_t len[MEMO_MAX];
	uint8_t admit[MEMO_MAX];
	struct ls_store *twin;
	char *dir = NULL;

	assert_true(n <= MEMO_MAX);
	twin = twin_open(w, &dir);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(v[i].buf);
		e[i] = v[i].buf;
		len[i] = v[i].len;
		admit[i] = LS_ADMIT_LOCAL;
	}
	assert_int_equal(ls_store_ingest_admit(w->s, e, len, admit, n, res, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fx_submit_one(twin, v[i].buf, v[i].len, &one), 0);
		if (res[i].status != one.status || res[i].reason != one.reason)
			fail_msg("%s, record %zu: in the batch %s %s (%s), alone %s %s (%s)", shape,
				 i, fx_status_name(res[i].status), ls_reason_code(res[i].reason),
				 res[i].message, fx_status_name(one.status),
				 ls_reason_code(one.reason), one.message);
		if (one.reason != want[i])
			fail_msg("%s, record %zu: %s %s (%s), want %s", shape, i,
				 fx_status_name(one.status), ls_reason_code(one.reason),
				 one.message, ls_reason_code(want[i]));
	}
	for (size_t i = 0; i < sizeof(who) / sizeof(who[0]); i++)
		same_holdings(w->s, twin, who[i], names[i]);
	ls_store_close(&twin);
	fx_rmtree(dir);
	free(dir);
	for (size_t i = 0; i < n; i++)
		fx_env_release(&v[i]);
}

/*
 * A chain whose known sub-map is dropped later in the batch. a ships to b,
 * b to c (each received): the custody of b is worked out by taking a's in
 * whole, and c's by taking b's. Then a receives the maker's shipment under
 * the barring license, sent before the batch: that drops a's map, and so
 * b's and c's that were made of it. Military shipments by a, b and c after
 * it are refused as they are alone; those before it were allowed.
 */
static void
test_admit_memo_chain_late_receipt(void **state)
{
	struct world *w = *state;
	struct line l;

	line_setup(&l, w);
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 100, l.c, NULL, NULL));
	WANT(&l, LS_R_OK, l.c, fx_receipt(l.c, l.v[2].id, 100));
	WANT(&l, LS_R_OK, l.c, fx_transfer(l.c, w->magnets, 10, l.d, NULL, "military"));
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 10, l.d, NULL, "military"));
	WANT(&l, LS_R_OK, w->de_imp, fx_receipt(w->de_imp, l.barred_id, 5000));
	WANT(&l, LS_R_END_USE_DENIED, l.c, fx_transfer(l.c, w->magnets, 10, l.d, NULL, "military"));
	WANT(&l, LS_R_END_USE_DENIED, l.b, fx_transfer(l.b, w->magnets, 10, l.d, NULL, "military"));
	WANT(&l, LS_R_END_USE_DENIED, w->de_imp,
	     fx_transfer(w->de_imp, w->magnets, 10, l.d, NULL, "military"));
	batch_as_alone(&l, "a chain, the first holder's receipt late");
	line_release(&l);
}

/*
 * Two lots split from one: b, holding a's magnets, turns 200 g of them into
 * two lots and ships from each; the custody of each new lot takes b's map of
 * the magnets in whole, which reaches a, and c's of the first lot takes b's.
 * a's receipt under the barring license drops a's map, and b's, both new
 * lots' and c's with it.
 */
static void
test_admit_memo_split_lots(void **state)
{
	struct world *w = *state;
	struct ls_lot_input in = {{0}, 200};
	const char *outs[] = {"half1:magnet:100:Nd=250000,Dy=50000,Fe=650000",
			      "half2:magnet:100:Nd=250000,Dy=50000,Fe=650000"};
	uint8_t half[2][32];
	struct line l;

	line_setup(&l, w);
	memcpy(in.lot, w->magnets, 32);
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 10, l.c, NULL, NULL));
	WANT(&l, LS_R_OK, l.b, fx_transform(l.b, &in, 1, outs, 2));
	ls_lot_id(l.v[3].id, 0, half[0]);
	ls_lot_id(l.v[3].id, 1, half[1]);
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, half[0], 10, l.c, NULL, "military"));
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, half[1], 10, l.c, NULL, "military"));
	WANT(&l, LS_R_OK, l.c, fx_receipt(l.c, l.v[4].id, 10));
	WANT(&l, LS_R_OK, l.c, fx_transfer(l.c, half[0], 1, l.d, NULL, "military"));
	WANT(&l, LS_R_OK, w->de_imp, fx_receipt(w->de_imp, l.barred_id, 5000));
	WANT(&l, LS_R_END_USE_DENIED, l.b, fx_transfer(l.b, half[0], 10, l.d, NULL, "military"));
	WANT(&l, LS_R_END_USE_DENIED, l.b, fx_transfer(l.b, half[1], 10, l.d, NULL, "military"));
	WANT(&l, LS_R_END_USE_DENIED, l.c, fx_transfer(l.c, half[0], 5, l.d, NULL, "military"));
	batch_as_alone(&l, "two lots split from one");
	line_release(&l);
}

/*
 * A return to an earlier holder: a ships to b, b ships part back to a (each
 * received), so a's and b's maps each reach the other. The return's receipt
 * drops both; military shipments between it and a's late receipt under the
 * barring license are allowed, those after it refused.
 */
static void
test_admit_memo_return(void **state)
{
	struct world *w = *state;
	struct line l;

	line_setup(&l, w);
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 100, w->de_imp, NULL, NULL));
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 10, l.c, NULL, "military"));
	WANT(&l, LS_R_OK, w->de_imp, fx_receipt(w->de_imp, l.v[2].id, 100));
	WANT(&l, LS_R_OK, w->de_imp, fx_transfer(w->de_imp, w->magnets, 10, l.c, NULL, "military"));
	WANT(&l, LS_R_OK, l.b, fx_transfer(l.b, w->magnets, 10, l.c, NULL, "military"));
	WANT(&l, LS_R_OK, w->de_imp, fx_receipt(w->de_imp, l.barred_id, 5000));
	WANT(&l, LS_R_END_USE_DENIED, l.b, fx_transfer(l.b, w->magnets, 10, l.c, NULL, "military"));
	WANT(&l, LS_R_END_USE_DENIED, w->de_imp,
	     fx_transfer(w->de_imp, w->magnets, 10, l.c, NULL, "military"));
	batch_as_alone(&l, "a return to an earlier holder");
	line_release(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_admit_one_lot_linear),
	    cmocka_unit_test(test_admit_received_linear),
	    cmocka_unit_test(test_admit_lot_line_linear),
	    cmocka_unit_test(test_admit_deprej_fan),
	    cmocka_unit_test(test_admit_deprej_outputs),
	    cmocka_unit_test(test_admit_deprej_chain),
	    cmocka_unit_test(test_admit_deprej_copies),
	    cmocka_unit_test_setup_teardown(test_admit_memo_sees_receipt, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_admit_memo_chain_late_receipt, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_admit_memo_split_lots, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_admit_memo_return, world_setup, world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
