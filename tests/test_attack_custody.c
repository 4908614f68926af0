/* WRAP: ls_record_decode */
/*
 * test_attack_custody.c - an adversarial review of verdicts that follow the
 * material (per-holder custody paths, lib/verify.c) and of the admission
 * judge of transfers (lib/ingest.c). Each test names the rule an attacker
 * tried to break.
 *
 * The world is helper_world's: China's miner sells Dy alloy to China's
 * magnet maker, who makes 100 kg of magnets; China's policy controls Dy
 * (re-export included) and denies military use.
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
#include "store.h"
#include "verify.h"

/* ---- a count of work: record decodes ---- */

int __real_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);
int __wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);

static unsigned long decodes;

int
__wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			struct ls_err_ctx *ctx)
{
	decodes++;
	return __real_ls_record_decode(buf, len, out, ctx);
}

/* A new actor of China certified by China's authority with roles. */
static struct fx_actor *
cn_actor(struct world *w, const char *org, uint32_t roles)
{
	struct fx_actor *a = world_actor(w, w->cn_auth, org, "CN", roles);

	a->ts = FX_T0 + 3 * FX_DAY;
	return a;
}

static enum ls_verdict_kind
prov_from(struct world *w, const uint8_t lot[32], const struct fx_actor *from, struct ls_verdict *v)
{
	struct ls_export_query q;

	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, 32);
	if (from != NULL) {
		q.has_from = true;
		memcpy(q.from, from->kp->pk, 32);
	}
	assert_int_equal(ls_verify(w->s, &q, v), 0);
	return v->kind;
}

/* The part of v for key (held, or in transit when transfer is set), or NULL. */
static const struct ls_verdict_part *
part_of(const struct ls_verdict *v, const struct fx_actor *a)
{
	for (size_t i = 0; i < v->n_parts; i++)
		if (memcmp(v->parts[i].holder, a->kp->pk, 32) == 0)
			return &v->parts[i];
	return NULL;
}

/* Ships 1,000 g of the magnets to each of n fresh Chinese holders (domestic:
 * no license needed). */
static void
many_holders(struct world *w, struct fx_actor **h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h[i] = cn_actor(w, "Holder", LS_ROLE_PROCESSOR);
		w->maker->ts = FX_T0 + 3 * FX_DAY;
		world_ship(w, w->maker, w->magnets, 1000, h[i], NULL, false, NULL);
	}
}

/*
 * Rule: without --from, one verdict per holder, the worst deciding.
 *
 * Attack: the maker ships 1,000 g to each of 65 domestic holders and 10 g to
 * the US with no license. Parts are judged the most grams first and at most
 * LS_VERDICT_PARTS_MAX of them: the US holder (10 g) fell beyond the cap,
 * unjudged, and the lot's verdict was `valid` (exit 0), its fault only a
 * warning.
 */
static void
test_attack_custody_broken_holder_beyond_cap(void **state)
{
	struct world *w = *state;
	struct fx_actor *h[LS_VERDICT_PARTS_MAX + 1];
	const struct ls_verdict_part *pt;
	struct ls_verdict v;

	many_holders(w, h, LS_VERDICT_PARTS_MAX + 1);
	world_ship(w, w->maker, w->magnets, 10, w->us, NULL, false, NULL);
	ls_verdict_init(&v);
	prov_from(w, w->magnets, NULL, &v);
	if (v.kind != LS_V_BROKEN)
		world_dump("every holder", &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_NO_LICENSE));
	assert_int_equal(v.n_parts, LS_VERDICT_PARTS_MAX);
	assert_int_equal(v.parts_more, 3); /* 65 holders, the maker, the US */
	assert_non_null(pt = part_of(&v, w->us));
	assert_int_equal(pt->v.kind, LS_V_BROKEN);
	ls_verdict_release(&v);
	/* A clean holder's material stays valid. */
	assert_int_equal(prov_from(w, w->magnets, h[0], &v), LS_V_VALID);
	ls_verdict_release(&v);
	for (size_t i = 0; i < LS_VERDICT_PARTS_MAX + 1; i++)
		fx_actor_free(&h[i]);
}

/*
 * The same for an export question: 65 domestic holders for whom a sale in
 * China is no export, and the German importer, whose 10 g (licensed, clean
 * provenance) need a Chinese license to go back to China (re-export). The
 * answer was `allowed`, the importer's part beyond the cap.
 */
static void
test_attack_custody_export_part_beyond_cap(void **state)
{
	struct world *w = *state;
	struct fx_actor *h[LS_VERDICT_PARTS_MAX + 1];
	struct fx_license_spec ls;
	struct ls_export_query q;
	const struct ls_verdict_part *pt;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t lic[32];

	many_holders(w, h, LS_VERDICT_PARTS_MAX + 1);
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DE-1";
	ls.licensee = w->maker->kp->pk;
	ls.items = "magnet";
	ls.max_grams = 1000;
	ls.destinations = "DE";
	e = fx_license(w->cn_auth, &ls);
	memcpy(lic, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	world_ship(w, w->maker, w->magnets, 10, w->de_imp, lic, false, NULL);
	ls_verdict_init(&v);
	assert_int_equal(prov_from(w, w->magnets, w->de_imp, &v), LS_V_VALID);
	ls_verdict_release(&v);
	world_export_query(&q, w->magnets, w->maker, "CN", NULL, NULL);
	q.has_from = false;
	assert_int_equal(ls_verify_export(w->s, &q, &v), 0);
	if (v.kind != LS_V_LICENSE_REQUIRED)
		world_dump("export to CN", &v);
	assert_int_equal(v.kind, LS_V_LICENSE_REQUIRED);
	assert_int_equal(v.n_parts, LS_VERDICT_PARTS_MAX);
	assert_non_null(pt = part_of(&v, w->de_imp));
	assert_int_equal(pt->v.kind, LS_V_LICENSE_REQUIRED);
	ls_verdict_release(&v);
	for (size_t i = 0; i < LS_VERDICT_PARTS_MAX + 1; i++)
		fx_actor_free(&h[i]);
}

/*
 * Rule: a verdict follows the material through transformations.
 *
 * Attack (held): a US processor that imported magnets without a license
 * makes them into rotors, whose maker is the US processor: the rotors must
 * be broken (the fault is on their custody path), for every holder. And a
 * Chinese processor holding clean and tainted grams of one lot (a licensed
 * purchase and one from a revoked seller) cannot pick the clean ones: what it
 * makes is broken (mass balance cannot tell grams apart).
 */
static void
test_attack_custody_launder_through_transformation(void **state)
{
	struct world *w = *state;
	struct fx_actor *p = fx_actor_new("US");
	struct fx_actor *y = cn_actor(w, "Y", LS_ROLE_PROCESSOR);
	struct fx_actor *c = cn_actor(w, "C", LS_ROLE_PROCESSOR);
	struct ls_lot_input in = {{0}, 500};
	const char *o[] = {"rotor:component:500:Nd=250000,Dy=50000,Fe=650000"};
	struct ls_verdict v;
	struct fx_env e;
	uint8_t rotor[32], part[32];

	assert_non_null(p);
	PUT(w, fx_cert(w->root, p, "US Proc", "US", LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER, 0, 0));
	w->maker->ts = p->ts = FX_T0 + 3 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 1000, p, NULL, false, NULL);
	memcpy(in.lot, w->magnets, 32);
	p->ts = FX_T0 + 5 * FX_DAY;
	e = fx_transform(p, &in, 1, o, 1);
	ls_lot_id(e.id, 0, rotor);
	STORED(w, e);
	fx_env_release(&e);
	ls_verdict_init(&v);
	assert_int_equal(prov_from(w, rotor, NULL, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_NO_LICENSE));
	ls_verdict_release(&v);
	assert_int_equal(prov_from(w, rotor, p, &v), LS_V_BROKEN);
	ls_verdict_release(&v);

	/* Clean and tainted grams of one lot with one holder. */
	world_ship(w, w->maker, w->magnets, 1000, y, NULL, false, NULL);
	world_ship(w, w->maker, w->magnets, 1000, c, NULL, false, NULL);
	w->cn_auth->ts = FX_T0 + 5 * FX_DAY;
	PUT(w, fx_revoke(w->cn_auth, y->kp->pk, FX_T0 + 5 * FX_DAY));
	y->ts = FX_T0 + 6 * FX_DAY;
	world_ship(w, y, w->magnets, 1000, c, NULL, false, NULL);
	c->ts = FX_T0 + 7 * FX_DAY;
	e = fx_transform(c, &in, 1, o, 1);
	ls_lot_id(e.id, 0, part);
	STORED(w, e);
	fx_env_release(&e);
	assert_int_equal(prov_from(w, part, NULL, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_REVOKED));
	ls_verdict_release(&v);
	fx_actor_free(&p);
	fx_actor_free(&y);
	fx_actor_free(&c);
}

/*
 * Rule: circular custody (A -> B -> A) terminates and keeps the faults of
 * the round trip: material that went to the US without a license and came
 * back is broken for whoever holds it now.
 */
static void
test_attack_custody_round_trip(void **state)
{
	struct world *w = *state;
	struct fx_actor *a =
	    cn_actor(w, "A", LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER | LS_ROLE_EXPORTER);
	struct fx_actor *b = fx_actor_new("US");
	struct ls_verdict v;

	assert_non_null(b);
	PUT(w, fx_cert(w->root, b, "US Trader", "US", LS_ROLE_IMPORTER | LS_ROLE_EXPORTER, 0, 0));
	w->maker->ts = FX_T0 + 3 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 1000, a, NULL, false, NULL);
	for (int i = 0; i < 3; i++) {
		world_ship(w, a, w->magnets, 1000, b, NULL, false, NULL);
		world_ship(w, b, w->magnets, 1000, a, NULL, false, NULL);
	}
	ls_verdict_init(&v);
	assert_int_equal(prov_from(w, w->magnets, a, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_NO_LICENSE));
	ls_verdict_release(&v);
	/* The maker's own remaining grams never left: valid. */
	assert_int_equal(prov_from(w, w->magnets, w->maker, &v), LS_V_VALID);
	ls_verdict_release(&v);
	assert_int_equal(prov_from(w, w->magnets, NULL, &v), LS_V_BROKEN);
	ls_verdict_release(&v);
	fx_actor_free(&a);
	fx_actor_free(&b);
}

/*
 * Rule (admission): a local client's transfer that verify would judge
 * unlawful is refused unless it records the violation explicitly.
 *
 * Attack: submit the unlicensed CN -> US transfer before the record its
 * feed's prev names. It waits in the pending set ("pending", exit 0);
 * when the prev is submitted, the transfer was released at the consensus
 * layer only: stored, no judge, no warning.
 */
static void
test_attack_custody_parked_transfer_skips_judge(void **state)
{
	struct world *w = *state;
	struct fx_env pre, t, t2;
	struct ls_ingest_result res[2];
	const uint8_t *envs[2];
	size_t lens[2];
	uint8_t admit[2] = {LS_ADMIT_LOCAL_VIOLATION, LS_ADMIT_LOCAL};
	struct ls_verdict v;
	struct fx_mark m;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	pre = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	m = fx_mark(w->maker);
	t = fx_transfer(w->maker, w->magnets, 10, w->us, NULL, NULL);
	world_expect_at(w->s, &t, true, LS_INGEST_PENDING, LS_R_OK, __LINE__);
	ADMITTED(w, pre);
	/* Released with the admission checks: refused, not stored. */
	REFUSED(w, t, LS_R_NO_LICENSE);
	ls_verdict_init(&v);
	assert_int_equal(prov_from(w, w->magnets, NULL, &v), LS_V_VALID);
	ls_verdict_release(&v);

	/* The same in one request, the transfer first; the explicit flag
	 * survives the wait. */
	fx_env_release(&t);
	fx_rewind(w->maker, &m);
	t2 = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	t = fx_transfer(w->maker, w->magnets, 10, w->us, NULL, NULL);
	envs[0] = t.buf;
	lens[0] = t.len;
	envs[1] = t2.buf;
	lens[1] = t2.len;
	assert_int_equal(ls_store_ingest_admit(w->s, envs, lens, admit, 2, res, NULL), 0);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	assert_int_equal(res[1].status, LS_INGEST_ACCEPTED);
	assert_int_equal(prov_from(w, w->magnets, w->us, &v), LS_V_BROKEN);
	ls_verdict_release(&v);
	fx_env_release(&pre);
	fx_env_release(&t);
	fx_env_release(&t2);
}

/* ---- known, not fixed here: run with LS_ATTACK_KNOWN=1 ---- */

static bool
known_wanted(void)
{
	const char *e = getenv("LS_ATTACK_KNOWN");
	return e != NULL && *e == '1';
}

/*
 * Rule: a fault after the material left does not follow it.
 *
 * Attack: X ships its 1,000 g to Z on day 4. On day 6, after its key was
 * revoked, Y ships 1,000 g of the same lot to X. Z's material cannot contain
 * those grams (X's feed dates its shipment before the receipt), yet Z's
 * verdict turns `broken`: custody_marks follows every received transfer into
 * a sender, whatever its date. (custody() does the same for ancestors and
 * for the licence bindings of check_bindings.)
 */
static void
test_attack_custody_later_receipt_taints_earlier_shipment(void **state)
{
	struct world *w = *state;
	struct fx_actor *x, *y, *z;
	struct ls_verdict v;

	if (!known_wanted())
		skip();
	x = cn_actor(w, "X", LS_ROLE_PROCESSOR);
	y = cn_actor(w, "Y", LS_ROLE_PROCESSOR);
	z = cn_actor(w, "Z", LS_ROLE_PROCESSOR);
	w->maker->ts = FX_T0 + 3 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 1000, x, NULL, false, NULL);
	world_ship(w, w->maker, w->magnets, 1000, y, NULL, false, NULL);
	x->ts = FX_T0 + 4 * FX_DAY;
	world_ship(w, x, w->magnets, 1000, z, NULL, false, NULL);
	ls_verdict_init(&v);
	assert_int_equal(prov_from(w, w->magnets, z, &v), LS_V_VALID);
	ls_verdict_release(&v);
	w->cn_auth->ts = FX_T0 + 5 * FX_DAY;
	PUT(w, fx_revoke(w->cn_auth, y->kp->pk, FX_T0 + 5 * FX_DAY));
	y->ts = FX_T0 + 6 * FX_DAY;
	world_ship(w, y, w->magnets, 1000, x, NULL, false, NULL);
	prov_from(w, w->magnets, z, &v);
	if (v.kind != LS_V_VALID)
		world_dump("Z after a later receipt by X", &v);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
	fx_actor_free(&x);
	fx_actor_free(&y);
	fx_actor_free(&z);
}

/* ---- a question's cost (fixed: runs always) ---- */

/* Record decodes of one provenance question on lot. */
static unsigned long
verify_cost(struct world *w, const uint8_t lot[32])
{
	struct ls_verdict v;
	unsigned long before = decodes;

	ls_verdict_init(&v);
	prov_from(w, lot, NULL, &v);
	ls_verdict_release(&v);
	return decodes - before;
}

/*
 * Rule: a question's cost grows with the records it reads.
 *
 * Attack: many transfers of one lot. For every one of the lot's transfers,
 * check_hop_at calls check_bindings, whose custody() read and decoded every
 * child of the lot again: verify was quadratic in the lot's transfers (and
 * cubic along a chain of holders); doubling the transfers here about
 * quadrupled the decodes. A question now decodes each record once (its
 * memo, lib/qcache.c) and walks each holder's custody once (custody_get);
 * tests/test_cost.c checks every question's reads the same way.
 */
static void
test_attack_custody_many_transfers_quadratic(void **state)
{
	struct world *w = *state;
	struct fx_actor *a;
	unsigned long c1, c2;

	a = cn_actor(w, "A", LS_ROLE_PROCESSOR);
	w->maker->ts = FX_T0 + 3 * FX_DAY;
	for (int i = 0; i < 200; i++)
		world_ship(w, w->maker, w->magnets, 1, a, NULL, false, NULL);
	c1 = verify_cost(w, w->magnets);
	for (int i = 0; i < 200; i++)
		world_ship(w, w->maker, w->magnets, 1, a, NULL, false, NULL);
	c2 = verify_cost(w, w->magnets);
	if (c2 >= 3 * c1)
		fprintf(stderr, "200 transfers: %lu decodes; 400: %lu\n", c1, c2);
	assert_true(c2 < 3 * c1);
	fx_actor_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_attack_custody_broken_holder_beyond_cap,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_attack_custody_export_part_beyond_cap, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_attack_custody_launder_through_transformation,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_attack_custody_round_trip, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_attack_custody_parked_transfer_skips_judge,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(
		test_attack_custody_later_receipt_taints_earlier_shipment, world_setup,
		world_teardown),
	    cmocka_unit_test_setup_teardown(test_attack_custody_many_transfers_quadratic,
					    world_setup, world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
