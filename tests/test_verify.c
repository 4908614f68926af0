/*
 * test_verify.c - the questions the ledger answers (provenance, export check,
 * origin, trace, bundles) on the scenario of the April-2025 controls: a
 * Chinese chain from Bayan Obo ore to Ningbo magnets, exported under license
 * to a German importer that makes rotors, with re-export to the US barred.
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
#include "verify.h"

#define T_POLICY (FX_T0 - 58 * FX_DAY) /* 2025-04-04 */
#define T_ASK    (FX_T0 + 5 * FX_DAY)  /* when export questions are asked */

struct world {
	char *dir;
	struct ls_store *s;
	struct fx_actor *auth, *mine, *sep, *metal, *magnet, *de, *us, *jp;
	uint8_t policy[32], license[32];
	uint8_t ore[32], oxide[32], metal_lot[32], magnets[32], rotors[32];
	uint8_t tr_de[32], rc_de[32]; /* magnets CN -> DE and its receipt */
	uint8_t cert_magnet[32];
};

/* ---- helpers ---- */

static void
ok(struct world *w, struct fx_env *e)
{
	struct ls_ingest_result res;

	assert_non_null(e->buf);
	assert_int_equal(fx_ingest_one(w->s, e->buf, e->len, &res), 0);
	if (res.status != LS_INGEST_ACCEPTED)
		fprintf(stderr, "not accepted: %s %s: %s\n", fx_status_name(res.status),
			ls_reason_code(res.reason), res.message);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	fx_env_release(e);
}

/* Ingests e, expects it rejected for `reason`, and rewinds a's feed to m. */
static void
rejected(struct world *w, struct fx_actor *a, const struct fx_mark *m, struct fx_env *e,
	 enum ls_reason reason)
{
	struct ls_ingest_result res;

	assert_non_null(e->buf);
	assert_int_equal(fx_ingest_one(w->s, e->buf, e->len, &res), 0);
	if (res.status != LS_INGEST_REJECTED || res.reason != reason)
		fprintf(stderr, "expected rejected %s, got %s %s: %s\n", ls_reason_code(reason),
			fx_status_name(res.status), ls_reason_code(res.reason), res.message);
	assert_int_equal(res.status, LS_INGEST_REJECTED);
	assert_int_equal(res.reason, reason);
	fx_env_release(e);
	if (a != NULL)
		fx_rewind(a, m);
}

/* A local client's submission of *e is refused (admission) for reason,
 * though a peer's copy would be stored; frees *e and rewinds a. */
static void
refused(struct world *w, struct fx_actor *a, const struct fx_mark *m, struct fx_env *e,
	enum ls_reason reason)
{
	struct ls_ingest_result res;

	assert_non_null(e->buf);
	assert_int_equal(fx_submit_one(w->s, e->buf, e->len, &res), 0);
	if (res.status != LS_INGEST_REJECTED || res.reason != reason)
		fprintf(stderr, "expected refused %s, got %s %s: %s\n", ls_reason_code(reason),
			fx_status_name(res.status), ls_reason_code(res.reason), res.message);
	assert_int_equal(res.status, LS_INGEST_REJECTED);
	assert_int_equal(res.reason, reason);
	fx_env_release(e);
	if (a != NULL)
		fx_rewind(a, m);
}

static struct fx_env
xform1(struct fx_actor *p, const uint8_t lot[32], uint64_t grams, const char *out)
{
	struct ls_lot_input in;

	memcpy(in.lot, lot, 32);
	in.grams = grams;
	return fx_transform(p, &in, 1, &out, 1);
}

/* Ships grams of lot from a to b (citing license or not) and b receives. */
static void
ship(struct world *w, struct fx_actor *a, struct fx_actor *b, const uint8_t lot[32], uint64_t grams,
     const uint8_t *license, uint8_t tr_out[32])
{
	struct fx_env t = fx_transfer(a, lot, grams, b, license, NULL), r;

	assert_non_null(t.buf);
	if (tr_out != NULL)
		memcpy(tr_out, t.id, 32);
	r = fx_receipt(b, t.id, grams);
	ok(w, &t);
	ok(w, &r);
}

static const struct ls_verdict_reason *
reason_of(const struct ls_verdict *v, enum ls_reason code)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code)
			return &v->reasons[i];
	return NULL;
}

static bool
reason_has_id(const struct ls_verdict_reason *r, const uint8_t id[32])
{
	for (size_t i = 0; r != NULL && i < r->n_ids; i++)
		if (memcmp(r->ids[i], id, 32) == 0)
			return true;
	return false;
}

static void
dump(const char *what, const struct ls_verdict *v)
{
	fprintf(stderr, "%s: %s\n", what, ls_verdict_name(v->kind));
	for (size_t i = 0; i < v->n; i++)
		fprintf(stderr, "  %s: %s\n", ls_reason_code(v->reasons[i].code),
			v->reasons[i].message);
}

/* Asserts v has a reason `code` whose ids include id (when id is not NULL). */
static void
expect_reason(const struct ls_verdict *v, enum ls_reason code, const uint8_t *id)
{
	const struct ls_verdict_reason *r = reason_of(v, code);

	if (r == NULL || (id != NULL && !reason_has_id(r, id)))
		dump("missing reason", v);
	assert_non_null(r);
	if (id != NULL)
		assert_true(reason_has_id(r, id));
}

static enum ls_verdict_kind
provenance(struct ls_store *s, const uint8_t lot[32], struct ls_verdict *v)
{
	assert_int_equal(ls_verify_provenance(s, lot, v), 0);
	return v->kind;
}

static enum ls_verdict_kind
export_check(struct ls_store *s, const uint8_t lot[32], const struct fx_actor *from,
	     const char *dest, const char *end_use, uint64_t at, struct ls_verdict *v)
{
	struct ls_export_query q;

	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, 32);
	if (from != NULL) {
		q.has_from = true;
		memcpy(q.from, from->kp->pk, 32);
	}
	snprintf(q.destination, sizeof(q.destination), "%s", dest);
	q.end_use = end_use;
	q.time = at;
	assert_int_equal(ls_verify_export(s, &q, v), 0);
	return v->kind;
}

static void
expect_kind(const struct ls_verdict *v, enum ls_verdict_kind k)
{
	if (v->kind != k) {
		fprintf(stderr, "expected %s\n", ls_verdict_name(k));
		dump("got", v);
	}
	assert_int_equal(v->kind, k);
}

/* ---- the scenario ---- */

static void
april_policy(struct fx_policy_spec *p)
{
	memset(p, 0, sizeof(*p));
	p->name = "MOFCOM/GAC No. 18";
	p->effective_from = T_POLICY;
	p->elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y";
	p->controlled_categories = "oxide,metal,alloy,magnet";
	p->exempt_categories = "component,product";
	p->denied_end_uses = "military";
	p->de_minimis_ppm = 1000;
	p->applies_to_reexport = true;
}

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct fx_policy_spec ps;
	struct fx_license_spec ls;
	struct fx_env e;
	const uint32_t proc = LS_ROLE_PROCESSOR;

	if (w == NULL || (w->dir = fx_tmpdir()) == NULL)
		return -1;
	w->auth = fx_actor_new("CN");
	w->mine = fx_actor_new("CN");
	w->sep = fx_actor_new("CN");
	w->metal = fx_actor_new("CN");
	w->magnet = fx_actor_new("CN");
	w->de = fx_actor_new("DE");
	w->us = fx_actor_new("US");
	w->jp = fx_actor_new("JP");
	if (w->jp == NULL || fx_store_open(w->dir, w->auth, 0, &w->s) != 0)
		return -1;
	*state = w;

	e = fx_cert(w->auth, w->mine, "Bayan Obo Mining", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0,
		    0);
	ok(w, &e);
	e = fx_cert(w->auth, w->sep, "Baotou Separation", NULL, proc | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	e = fx_cert(w->auth, w->metal, "Baotou Metals", NULL, proc | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	e = fx_cert(w->auth, w->magnet, "Ningbo Magnets", NULL, proc | LS_ROLE_EXPORTER, 0, 0);
	memcpy(w->cert_magnet, e.id, 32);
	ok(w, &e);
	e = fx_cert(w->auth, w->de, "Hanau Magnettechnik", NULL,
		    LS_ROLE_IMPORTER | proc | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	e = fx_cert(w->auth, w->us, "US Defence Contractor", NULL, LS_ROLE_IMPORTER, 0, 0);
	ok(w, &e);
	e = fx_cert(w->auth, w->jp, "Osaka Magnetics", NULL,
		    LS_ROLE_IMPORTER | proc | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);

	april_policy(&ps);
	e = fx_policy(w->auth, &ps);
	memcpy(w->policy, e.id, 32);
	ok(w, &e);

	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DU-2025-0001";
	ls.licensee = w->magnet->kp->pk;
	ls.items = "magnet";
	ls.max_grams = 50000;
	ls.destinations = "DE";
	ls.no_reexport_to = "US";
	ls.no_military = true;
	e = fx_license(w->auth, &ls);
	memcpy(w->license, e.id, 32);
	ok(w, &e);

	/* Ore: 1 t, Nd 30 kg, Dy 2 kg. */
	e = fx_lot(w->mine, "BO-ORE-1", "Bayan Obo", NULL, "ore", 1000000,
		   "Nd=30000,Dy=2000,Fe=300000");
	memcpy(w->ore, e.id, 32);
	ok(w, &e);
	ship(w, w->mine, w->sep, w->ore, 1000000, NULL, NULL);
	/* Oxide 40 kg: Nd 28 kg, Dy 1.8 kg. */
	e = xform1(w->sep, w->ore, 1000000, "NdDy-oxide:oxide:40000:Nd=700000,Dy=45000");
	ls_lot_id(e.id, 0, w->oxide);
	ok(w, &e);
	ship(w, w->sep, w->metal, w->oxide, 30000, NULL, NULL);
	/* Metal 20 kg: Nd 18 kg, Dy 1.2 kg (of 21 kg and 1.35 kg in). */
	e = xform1(w->metal, w->oxide, 30000, "NdDy-metal:metal:20000:Nd=900000,Dy=60000");
	ls_lot_id(e.id, 0, w->metal_lot);
	ok(w, &e);
	ship(w, w->metal, w->magnet, w->metal_lot, 20000, NULL, NULL);
	/* Magnets 56 kg: Nd 16.8 kg, Dy 1.12 kg. */
	e = xform1(w->magnet, w->metal_lot, 20000,
		   "NdFeB-N42SH:magnet:56000:Nd=300000,Dy=20000,Fe=670000,B=10000");
	ls_lot_id(e.id, 0, w->magnets);
	ok(w, &e);
	/* Export to Hanau under the license, a day later. */
	w->magnet->ts = FX_T0 + FX_DAY;
	w->de->ts = FX_T0 + 2 * FX_DAY;
	ship(w, w->magnet, w->de, w->magnets, 40000, w->license, w->tr_de);
	assert_int_equal(ls_store_feed_get(w->s, w->de->kp->pk, w->de->seq, w->rc_de), 0);
	/* Rotors (exempt components) from 10 kg of the magnets. */
	w->de->ts = FX_T0 + 3 * FX_DAY;
	e = xform1(w->de, w->magnets, 10000, "rotor-R7:component:20000:Nd=150000,Dy=10000");
	ls_lot_id(e.id, 0, w->rotors);
	ok(w, &e);
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	if (w == NULL)
		return 0;
	ls_store_close(&w->s);
	fx_rmtree(w->dir);
	free(w->dir);
	fx_actor_free(&w->auth);
	fx_actor_free(&w->mine);
	fx_actor_free(&w->sep);
	fx_actor_free(&w->metal);
	fx_actor_free(&w->magnet);
	fx_actor_free(&w->de);
	fx_actor_free(&w->us);
	fx_actor_free(&w->jp);
	free(w);
	return 0;
}

/* ---- provenance ---- */

static void
test_verify_provenance_valid(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;

	assert_int_equal(provenance(w->s, w->magnets, &v), LS_V_VALID);
	expect_reason(&v, LS_R_OK, w->ore); /* back to the ore registration */
	assert_true(v.ancestors > 0);
	ls_verdict_release(&v);
	assert_int_equal(provenance(w->s, w->rotors, &v), LS_V_VALID);
	ls_verdict_release(&v);
}

static void
test_verify_provenance_unknown_lot(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	uint8_t nothing[32] = {1, 2, 3};

	assert_int_equal(ls_verify_provenance(w->s, nothing, &v), LS_ERR_NOT_FOUND);
}

/* A revocation of the exporter's key, published after its transfer but
 * effective before it, breaks the provenance of what it shipped. */
static void
test_verify_provenance_revoked_later(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t rev[32];

	w->auth->ts = FX_T0 + 20 * FX_DAY;
	e = fx_revoke(w->auth, w->magnet->kp->pk, FX_T0 + FX_DAY);
	memcpy(rev, e.id, 32);
	ok(w, &e);
	assert_int_equal(provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_REVOKED, w->tr_de);
	expect_reason(&v, LS_R_REVOKED, rev);
	ls_verdict_release(&v);
	/* The oxide upstream did not pass through the revoked key. */
	assert_int_equal(provenance(w->s, w->oxide, &v), LS_V_VALID);
	ls_verdict_release(&v);
	/* And a broken lot may not be exported. */
	assert_int_equal(export_check(w->s, w->magnets, w->de, "FR", NULL, T_ASK, &v), LS_V_DENIED);
	expect_reason(&v, LS_R_REVOKED, w->tr_de);
	ls_verdict_release(&v);
}

/* Controlled oxide shipped CN -> JP without a license. */
static void
test_verify_provenance_no_license_hop(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t tr[32], jp_magnets[32];

	w->sep->ts = FX_T0 + FX_DAY;
	w->jp->ts = FX_T0 + 2 * FX_DAY;
	ship(w, w->sep, w->jp, w->oxide, 5000, NULL, tr);
	assert_int_equal(provenance(w->s, w->oxide, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_NO_LICENSE, tr);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	ls_verdict_release(&v);
	/* What JP makes of it inherits the fault. */
	e = xform1(w->jp, w->oxide, 5000, "jp-magnet:magnet:10000:Nd=300000,Dy=20000");
	ls_lot_id(e.id, 0, jp_magnets);
	ok(w, &e);
	assert_int_equal(provenance(w->s, jp_magnets, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_NO_LICENSE, tr);
	ls_verdict_release(&v);
	/* The German magnets came from oxide that stayed in China. */
	if (provenance(w->s, w->magnets, &v) != LS_V_VALID)
		dump("german magnets after a sibling hop", &v);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
}

/* ---- export checks ---- */

static void
test_verify_export_licensed(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;

	export_check(w->s, w->magnets, w->magnet, "DE", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_reason(&v, LS_R_CONTROLLED, w->license);
	expect_reason(&v, LS_R_CONTROLLED, w->policy);
	ls_verdict_release(&v);
	/* Japan is not among the license's destinations. */
	export_check(w->s, w->magnets, w->magnet, "JP", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	ls_verdict_release(&v);
	/* Nor military use. */
	export_check(w->s, w->magnets, w->magnet, "DE", "military", T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_END_USE_DENIED, w->policy);
	ls_verdict_release(&v);
	/* Inside China it is no export at all. */
	export_check(w->s, w->magnets, w->magnet, "CN", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_ALLOWED);
	ls_verdict_release(&v);
}

static void
test_verify_export_reexport_barred(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	const struct ls_verdict_reason *r;

	export_check(w->s, w->magnets, w->de, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_REEXPORT_BARRED, w->license);
	expect_reason(&v, LS_R_REEXPORT_BARRED, w->tr_de);
	assert_null(reason_of(&v, LS_R_END_USE_DENIED));
	ls_verdict_release(&v);

	export_check(w->s, w->magnets, w->de, "US", "military", T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_REEXPORT_BARRED, w->license);
	expect_reason(&v, LS_R_END_USE_DENIED, NULL);
	/* Both the policy and the license's no-military binding speak. */
	r = reason_of(&v, LS_R_END_USE_DENIED);
	assert_true(reason_has_id(r, w->policy) || reason_has_id(r, w->license));
	ls_verdict_release(&v);

	/* To France: not barred, but a re-export of Chinese content needs a license. */
	export_check(w->s, w->magnets, w->de, "FR", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	assert_null(reason_of(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);
}

static void
test_verify_export_exempt_component(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;

	export_check(w->s, w->rotors, w->de, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_reason(&v, LS_R_EXEMPT, w->policy);
	assert_null(reason_of(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);
}

/* Magnets re-made in Germany from the licensed magnets keep the binding. */
static void
test_verify_export_binding_follows_descendant(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t remade[32];

	w->de->ts = FX_T0 + 4 * FX_DAY;
	e = xform1(w->de, w->magnets, 10000, "Hanau-N45:magnet:9000:Nd=300000,Dy=20000");
	ls_lot_id(e.id, 0, remade);
	ok(w, &e);
	assert_int_equal(provenance(w->s, remade, &v), LS_V_VALID);
	ls_verdict_release(&v);
	export_check(w->s, remade, w->de, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_REEXPORT_BARRED, w->license);
	expect_reason(&v, LS_R_REEXPORT_BARRED, w->tr_de);
	ls_verdict_release(&v);
}

/* A second policy (October 2025, Ho added) in force from a later date. */
static void
test_verify_export_policy_change(void **state)
{
	struct world *w = *state;
	struct fx_policy_spec ps;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t ho[32], p2[32], tr_early[32], tr_late[32];
	const uint64_t t2 = FX_T0 + 30 * FX_DAY;

	april_policy(&ps);
	ps.name = "MOFCOM No. 57";
	ps.effective_from = t2;
	ps.elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y,Ho,Er,Tm,Eu,Yb";
	ps.supersedes = (const uint8_t(*)[32])w->policy;
	ps.n_supersedes = 1;
	w->auth->ts = FX_T0 + 10 * FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(p2, e.id, 32);
	ok(w, &e);

	w->mine->ts = FX_T0 + 10 * FX_DAY;
	e = fx_lot(w->mine, "HO-OX-1", "Bayan Obo", NULL, "oxide", 10000, "Ho=500000,Nd=100000");
	memcpy(ho, e.id, 32);
	ok(w, &e);

	export_check(w->s, ho, w->mine, "JP", NULL, t2 - 1, &v);
	expect_kind(&v, LS_V_ALLOWED);
	assert_null(reason_of(&v, LS_R_NO_LICENSE));
	ls_verdict_release(&v);
	export_check(w->s, ho, w->mine, "JP", NULL, t2, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, p2);
	ls_verdict_release(&v);
	/* The Dy magnets stay controlled under the new policy. */
	export_check(w->s, w->magnets, w->magnet, "JP", NULL, t2 + FX_DAY, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, p2);
	assert_false(reason_has_id(reason_of(&v, LS_R_NO_LICENSE), w->policy));
	ls_verdict_release(&v);

	/* Hops are judged under the policy of their date. */
	w->mine->ts = t2 - FX_DAY;
	w->jp->ts = t2 - FX_DAY;
	ship(w, w->mine, w->jp, ho, 1000, NULL, tr_early);
	assert_int_equal(provenance(w->s, ho, &v), LS_V_VALID);
	ls_verdict_release(&v);
	w->mine->ts = t2 + FX_DAY;
	w->jp->ts = t2 + FX_DAY;
	ship(w, w->mine, w->jp, ho, 1000, NULL, tr_late);
	assert_int_equal(provenance(w->s, ho, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_NO_LICENSE, tr_late);
	assert_false(reason_has_id(reason_of(&v, LS_R_NO_LICENSE), tr_early));
	ls_verdict_release(&v);
}

/*
 * De minimis: a Japanese magnet maker blends y grams of Chinese DyFe alloy
 * (80 % Dy) into 800 kg of Australian material (Dy 2500 ppm) and puts out
 * 800 kg of magnets holding all the Dy: Chinese Dy content is y ppm.
 */
static void
de_minimis_case(struct world *w, uint64_t y, const uint8_t alloy[32], const uint8_t au[32],
		uint8_t out[32])
{
	struct ls_lot_input in[2];
	char spec[128];
	const char *o = spec;
	struct fx_env e;

	memcpy(in[0].lot, au, 32);
	in[0].grams = 800000;
	memcpy(in[1].lot, alloy, 32);
	in[1].grams = y;
	snprintf(spec, sizeof(spec), "jp-mag-%llu:magnet:800000:Nd=290000,Dy=%llu",
		 (unsigned long long)y, (unsigned long long)(2500 + y));
	e = fx_transform(w->jp, in, 2, &o, 1);
	ls_lot_id(e.id, 0, out);
	ok(w, &e);
}

static void
test_verify_export_de_minimis(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = fx_actor_new("AU");
	struct fx_license_spec ls;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t dy_ore[32], alloy[32], au_lots[3][32], below[32], above[32], exact[32], lic[32];
	const uint64_t ys[3] = {999, 1001, 1000};

	assert_non_null(au);
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_cert(w->auth, au, "Mount Weld", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DU-2025-0002";
	ls.licensee = w->sep->kp->pk;
	ls.items = "alloy";
	ls.max_grams = 5000;
	ls.destinations = "JP";
	e = fx_license(w->auth, &ls);
	memcpy(lic, e.id, 32);
	ok(w, &e);

	w->mine->ts = FX_T0 + FX_DAY;
	w->sep->ts = FX_T0 + FX_DAY;
	w->jp->ts = FX_T0 + 2 * FX_DAY;
	au->ts = FX_T0 + FX_DAY;
	e = fx_lot(w->mine, "BO-DY-1", "Bayan Obo", NULL, "ore", 100000, "Dy=100000");
	memcpy(dy_ore, e.id, 32);
	ok(w, &e);
	ship(w, w->mine, w->sep, dy_ore, 100000, NULL, NULL);
	e = xform1(w->sep, dy_ore, 100000, "DyFe-1:alloy:10000:Dy=800000,Fe=200000");
	ls_lot_id(e.id, 0, alloy);
	ok(w, &e);
	ship(w, w->sep, w->jp, alloy, 3000, lic, NULL);
	for (int i = 0; i < 3; i++) {
		char label[16];
		snprintf(label, sizeof(label), "MW-%d", i);
		e = fx_lot(au, label, "Mount Weld", NULL, "oxide", 800000, "Nd=300000,Dy=2500");
		memcpy(au_lots[i], e.id, 32);
		ok(w, &e);
		ship(w, au, w->jp, au_lots[i], 800000, NULL, NULL);
	}
	de_minimis_case(w, ys[0], alloy, au_lots[0], below);
	de_minimis_case(w, ys[1], alloy, au_lots[1], above);
	de_minimis_case(w, ys[2], alloy, au_lots[2], exact);

	export_check(w->s, below, w->jp, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_reason(&v, LS_R_DE_MINIMIS, w->policy);
	ls_verdict_release(&v);
	export_check(w->s, above, w->jp, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	ls_verdict_release(&v);
	/* "At or above": exactly 0.1 % is controlled. */
	export_check(w->s, exact, w->jp, "US", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	ls_verdict_release(&v);
	fx_actor_free(&au);
}

/* ---- ingest rules the verdicts rely on ---- */

static void
test_verify_ingest_overspend(void **state)
{
	struct world *w = *state;
	struct fx_mark m;
	struct fx_env e;

	/* Hanau holds 30 kg of the magnets after the rotors. */
	w->de->ts = FX_T0 + 4 * FX_DAY;
	m = fx_mark(w->de);
	e = xform1(w->de, w->magnets, 30001, "too-many:magnet:1000:Dy=1000");
	rejected(w, w->de, &m, &e, LS_R_OVERSPEND);
	m = fx_mark(w->magnet);
	w->magnet->ts = FX_T0 + 4 * FX_DAY;
	e = fx_transfer(w->magnet, w->magnets, 16001, w->de, w->license, NULL);
	rejected(w, w->magnet, &m, &e, LS_R_OVERSPEND);
	/* The receiver cannot spend before its receipt. */
	e = fx_transfer(w->magnet, w->magnets, 1000, w->us, NULL, NULL);
	ok(w, &e);
	m = fx_mark(w->us);
	w->us->ts = FX_T0 + 5 * FX_DAY;
	e = fx_transfer(w->us, w->magnets, 1000, w->de, NULL, NULL);
	rejected(w, w->us, &m, &e, LS_R_NOT_HOLDER);
	/* Mass balance: no more Dy out than went in. */
	m = fx_mark(w->de);
	e = xform1(w->de, w->magnets, 1000, "dy-from-nowhere:magnet:1000:Dy=30000");
	rejected(w, w->de, &m, &e, LS_R_MASS_BALANCE);
	e = xform1(w->de, w->magnets, 1000, "fine:magnet:1000:Dy=20000");
	ok(w, &e);
}

static void
test_verify_ingest_forged_signature(void **state)
{
	struct world *w = *state;
	struct fx_actor *mallory = fx_actor_new("CN");
	struct ls_record *r = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct fx_mark m;
	struct fx_env e;
	uint8_t *msg, sig[64], *at;
	size_t dlen = sizeof(LS_SIG_DOMAIN);

	assert_non_null(mallory);
	m = fx_mark(w->magnet);
	w->magnet->ts = FX_T0 + 4 * FX_DAY;
	e = fx_transfer(w->magnet, w->magnets, 1000, w->de, w->license, NULL);
	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &r, &ctx), 0);
	/* Mallory signs the magnet maker's record with her own key. */
	msg = malloc(dlen + r->body_len);
	assert_non_null(msg);
	memcpy(msg, LS_SIG_DOMAIN, dlen); /* includes the zero byte */
	memcpy(msg + dlen, r->body, r->body_len);
	crypto_sign_detached(sig, NULL, msg, dlen + r->body_len, mallory->kp->sk);
	at = memmem(e.buf, e.len, r->signature, 64);
	assert_non_null(at);
	memcpy(at, sig, 64);
	free(msg);
	ls_record_free(r);
	rejected(w, w->magnet, &m, &e, LS_R_BAD_SIGNATURE);
	/* The genuine record still goes in at that seq. */
	e = fx_transfer(w->magnet, w->magnets, 1000, w->de, w->license, NULL);
	ok(w, &e);
	fx_actor_free(&mallory);
}

static void
test_verify_ingest_license_expired_exhausted(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct fx_mark m;
	struct fx_env e;
	uint8_t expired[32];
	struct ls_verdict v;

	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DU-2025-0003";
	ls.licensee = w->magnet->kp->pk;
	ls.items = "Dy";
	ls.max_grams = 100000;
	ls.destinations = "DE";
	ls.valid_from = FX_T0;
	ls.valid_until = FX_T0 + 2 * FX_DAY;
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_license(w->auth, &ls);
	memcpy(expired, e.id, 32);
	ok(w, &e);

	w->magnet->ts = FX_T0 + 3 * FX_DAY;
	m = fx_mark(w->magnet);
	e = fx_transfer(w->magnet, w->magnets, 1000, w->de, expired, NULL);
	rejected(w, w->magnet, &m, &e, LS_R_LICENSE_EXPIRED);
	/* The first license has 10 kg left of its 50 kg. */
	e = fx_transfer(w->magnet, w->magnets, 10001, w->de, w->license, NULL);
	rejected(w, w->magnet, &m, &e, LS_R_LICENSE_EXHAUSTED);
	e = fx_transfer(w->magnet, w->magnets, 10000, w->de, w->license, NULL);
	ok(w, &e);
	m = fx_mark(w->magnet);
	e = fx_transfer(w->magnet, w->magnets, 1, w->de, w->license, NULL);
	rejected(w, w->magnet, &m, &e, LS_R_LICENSE_EXHAUSTED);
	/* An exhausted license no longer covers an export. */
	export_check(w->s, w->magnets, w->magnet, "DE", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	ls_verdict_release(&v);
	/* A license for another destination: mismatch. */
	e = fx_transfer(w->magnet, w->magnets, 1, w->jp, w->license, NULL);
	rejected(w, w->magnet, &m, &e, LS_R_LICENSE_MISMATCH);
}

/* ---- origin ---- */

static void
check_sums(const struct ls_origin_elem *e)
{
	uint64_t c = 0, m = 0, p = 0;

	for (size_t i = 0; i < e->n_country; i++)
		c += e->by_country[i].grams;
	for (size_t i = 0; i < e->n_mine; i++)
		m += e->by_mine[i].grams;
	for (size_t i = 0; i < e->n_processing; i++)
		p += e->by_processing[i].grams;
	assert_int_equal(c, e->grams);
	assert_int_equal(m, e->grams);
	assert_int_equal(p, e->grams);
}

static const struct ls_origin_elem *
elem(const struct ls_origin *o, const char *sym)
{
	for (size_t i = 0; i < o->n; i++)
		if (o->elems[i].z == ls_element_z(sym))
			return &o->elems[i];
	return NULL;
}

static uint64_t
part(const struct ls_origin_part *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].grams;
	return 0;
}

static void
test_verify_origin_magnets(void **state)
{
	struct world *w = *state;
	struct ls_origin o;
	const struct ls_origin_elem *nd, *dy;

	assert_int_equal(ls_verify_origin(w->s, w->magnets, &o), 0);
	assert_int_equal(o.n, 2); /* Nd and Dy: Fe and B are not rare earths */
	nd = elem(&o, "Nd");
	dy = elem(&o, "Dy");
	assert_non_null(nd);
	assert_non_null(dy);
	assert_int_equal(nd->grams, 16800);
	assert_int_equal(dy->grams, 1120);
	for (size_t i = 0; i < o.n; i++)
		check_sums(&o.elems[i]);
	assert_int_equal(part(dy->by_country, dy->n_country, "CN"), 1120);
	assert_int_equal(part(dy->by_mine, dy->n_mine, "Bayan Obo"), 1120);
	assert_int_equal(part(dy->by_processing, dy->n_processing, "CN"), 1120);
	ls_origin_release(&o);

	/* Rotors made in Germany: mined in China, last processed in Germany. */
	assert_int_equal(ls_verify_origin(w->s, w->rotors, &o), 0);
	dy = elem(&o, "Dy");
	assert_non_null(dy);
	assert_int_equal(dy->grams, 200);
	check_sums(dy);
	assert_int_equal(part(dy->by_country, dy->n_country, "CN"), 200);
	assert_int_equal(part(dy->by_processing, dy->n_processing, "DE"), 200);
	ls_origin_release(&o);
}

static void
test_verify_origin_blend(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = fx_actor_new("AU");
	struct ls_lot_input in[2];
	const char *out = "blend-1:oxide:60000:Nd=800000,Dy=40000";
	struct ls_origin o;
	const struct ls_origin_elem *nd, *dy;
	struct fx_env e;
	uint8_t cn_ore[32], au_ore[32], blend[32];

	assert_non_null(au);
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_cert(w->auth, au, "Mount Weld", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	w->mine->ts = au->ts = FX_T0 + FX_DAY;
	w->jp->ts = FX_T0 + 2 * FX_DAY;
	e = fx_lot(w->mine, "BO-ORE-2", "Bayan Obo", NULL, "ore", 1000000, "Nd=30000,Dy=2000");
	memcpy(cn_ore, e.id, 32);
	ok(w, &e);
	e = fx_lot(au, "MW-ORE-1", "Mount Weld", NULL, "ore", 500000, "Nd=40000,Dy=1000");
	memcpy(au_ore, e.id, 32);
	ok(w, &e);
	ship(w, w->mine, w->jp, cn_ore, 1000000, NULL, NULL); /* ore: not controlled */
	ship(w, au, w->jp, au_ore, 500000, NULL, NULL);
	memcpy(in[0].lot, cn_ore, 32);
	in[0].grams = 1000000;
	memcpy(in[1].lot, au_ore, 32);
	in[1].grams = 500000;
	e = fx_transform(w->jp, in, 2, &out, 1);
	ls_lot_id(e.id, 0, blend);
	ok(w, &e);

	assert_int_equal(ls_verify_origin(w->s, blend, &o), 0);
	nd = elem(&o, "Nd");
	dy = elem(&o, "Dy");
	assert_non_null(nd);
	assert_non_null(dy);
	check_sums(nd);
	check_sums(dy);
	/* Nd: 30 kg CN + 20 kg AU in, 48 kg out: 3/5 and 2/5. */
	assert_int_equal(nd->grams, 48000);
	assert_int_equal(part(nd->by_country, nd->n_country, "CN"), 28800);
	assert_int_equal(part(nd->by_country, nd->n_country, "AU"), 19200);
	assert_int_equal(part(nd->by_mine, nd->n_mine, "Bayan Obo"), 28800);
	assert_int_equal(part(nd->by_mine, nd->n_mine, "Mount Weld"), 19200);
	assert_int_equal(part(nd->by_processing, nd->n_processing, "JP"), 48000);
	/* Dy: 2 kg CN + 0.5 kg AU in, 2.4 kg out: 4/5 and 1/5. */
	assert_int_equal(dy->grams, 2400);
	assert_int_equal(part(dy->by_country, dy->n_country, "CN"), 1920);
	assert_int_equal(part(dy->by_country, dy->n_country, "AU"), 480);
	ls_origin_release(&o);
	fx_actor_free(&au);
}

/*
 * A chain's lots share their input's origin where it is the same (origin.c:
 * a lot that carries its input's material through unchanged): the shares
 * follow the lot all the same. Germany makes m1 from the magnets (the same
 * composition, processed in Germany now), m2 from all of m1 (the same
 * again: m1's origin), m3 from all of m2 with half the Dy; then exports
 * m1 and m2 to Japan alike.
 */
static void
test_verify_origin_chain_shares(void **state)
{
	struct world *w = *state;
	const char *comp = "Nd=300000,Dy=20000,Fe=670000,B=10000";
	uint8_t m[3][32];
	char out[128];
	struct fx_env e;
	struct ls_origin o;
	struct ls_verdict v1, v2;
	const struct ls_origin_elem *dy;

	w->de->ts = FX_T0 + 4 * FX_DAY;
	snprintf(out, sizeof(out), "m1:magnet:10000:%s", comp);
	e = xform1(w->de, w->magnets, 10000, out);
	ls_lot_id(e.id, 0, m[0]);
	ok(w, &e);
	snprintf(out, sizeof(out), "m2:magnet:10000:%s", comp);
	e = xform1(w->de, m[0], 10000, out);
	ls_lot_id(e.id, 0, m[1]);
	ok(w, &e);
	e = xform1(w->de, m[1], 10000, "m3:magnet:10000:Nd=300000,Dy=10000,Fe=680000,B=10000");
	ls_lot_id(e.id, 0, m[2]);
	ok(w, &e);
	/* m3 first: one walk computes m1, m2 (shared) and m3 (not). */
	for (int i = 2; i >= 0; i--) {
		uint64_t g = i == 2 ? 100 : 200;
		assert_int_equal(ls_verify_origin(w->s, m[i], &o), 0);
		assert_int_equal(o.n, 2);
		dy = elem(&o, "Dy");
		assert_non_null(dy);
		check_sums(dy);
		assert_int_equal(dy->grams, g);
		assert_int_equal(part(dy->by_country, dy->n_country, "CN"), g);
		assert_int_equal(part(dy->by_mine, dy->n_mine, "Bayan Obo"), g);
		/* processed in Germany, no longer in China where the magnets were */
		assert_int_equal(dy->n_processing, 1);
		assert_int_equal(part(dy->by_processing, dy->n_processing, "DE"), g);
		ls_origin_release(&o);
	}
	export_check(w->s, m[0], w->de, "JP", NULL, T_ASK, &v1);
	export_check(w->s, m[1], w->de, "JP", NULL, T_ASK, &v2);
	assert_int_equal(v1.kind, v2.kind);
	assert_int_equal(v1.n, v2.n);
	for (size_t i = 0; i < v1.n; i++)
		assert_int_equal(v1.reasons[i].code, v2.reasons[i].code);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);
}

/* ---- trace ---- */

static bool
trace_has_node(const struct ls_trace *t, const uint8_t lot[32])
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (memcmp(t->nodes[i].id, lot, 32) == 0)
			return true;
	return false;
}

static void
test_verify_trace_up_down(void **state)
{
	struct world *w = *state;
	struct ls_trace t;
	bool found = false;

	assert_int_equal(ls_trace(w->s, w->magnets, false, &t), 0);
	assert_true(trace_has_node(&t, w->ore));
	assert_true(trace_has_node(&t, w->oxide));
	assert_true(trace_has_node(&t, w->metal_lot));
	assert_false(trace_has_node(&t, w->rotors));
	assert_int_equal(t.n_nodes, 4);
	assert_int_equal(t.n_edges, 3);
	for (size_t i = 0; i < t.n_nodes; i++)
		if (memcmp(t.nodes[i].id, w->ore, 32) == 0) {
			assert_string_equal(t.nodes[i].category, "ore");
			assert_string_equal(t.nodes[i].country, "CN");
		}
	for (size_t i = 0; i < t.n_transfers; i++)
		if (memcmp(t.transfers[i].record, w->tr_de, 32) == 0) {
			found = true;
			assert_true(t.transfers[i].received);
			assert_int_equal(t.transfers[i].grams, 40000);
		}
	assert_true(found);
	ls_trace_release(&t);

	assert_int_equal(ls_trace(w->s, w->ore, true, &t), 0);
	assert_true(trace_has_node(&t, w->magnets));
	assert_true(trace_has_node(&t, w->rotors));
	for (size_t i = 0; i < t.n_nodes; i++)
		if (memcmp(t.nodes[i].id, w->rotors, 32) == 0) {
			assert_string_equal(t.nodes[i].country, "DE");
			assert_string_equal(t.nodes[i].category, "component");
		}
	ls_trace_release(&t);
}

/* ---- bundles ---- */

static void
test_verify_bundle_offline(void **state)
{
	struct world *w = *state;
	struct ls_store *fresh = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_ingest_result *res;
	struct ls_store_stats st;
	struct ls_verdict v1, v2;
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0, len = 0;
	uint8_t *buf = NULL;
	char *dir = fx_tmpdir();

	assert_non_null(dir);
	assert_int_equal(ls_bundle_collect(w->s, w->magnets, &buf, &len), 0);
	assert_int_equal(ls_bundle_decode(buf, len, 100000, &envs, &lens, &n, &ctx), 0);
	assert_true(n > 10);
	assert_int_equal(fx_bundle_store_open(dir, w->auth, &fresh), 0);
	res = calloc(n, sizeof(*res));
	assert_non_null(res);
	assert_int_equal(ls_store_ingest(fresh, envs, lens, n, res, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		if (res[i].status != LS_INGEST_ACCEPTED)
			fprintf(stderr, "bundle record %zu: %s %s: %s\n", i,
				fx_status_name(res[i].status), ls_reason_code(res[i].reason),
				res[i].message);
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	}
	assert_int_equal(ls_store_stats(fresh, &st), 0);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.records, n);

	provenance(w->s, w->magnets, &v1);
	provenance(fresh, w->magnets, &v2);
	assert_int_equal(v1.kind, LS_V_VALID);
	assert_int_equal(v2.kind, v1.kind);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);

	export_check(w->s, w->magnets, w->de, "US", NULL, T_ASK, &v1);
	export_check(fresh, w->magnets, w->de, "US", NULL, T_ASK, &v2);
	assert_int_equal(v1.kind, LS_V_DENIED);
	assert_int_equal(v2.kind, v1.kind);
	expect_reason(&v2, LS_R_REEXPORT_BARRED, w->license);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);

	export_check(w->s, w->magnets, w->magnet, "DE", NULL, T_ASK, &v1);
	export_check(fresh, w->magnets, w->magnet, "DE", NULL, T_ASK, &v2);
	assert_int_equal(v1.kind, LS_V_ALLOWED);
	assert_int_equal(v2.kind, v1.kind);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);

	free(res);
	free(envs);
	free(lens);
	free(buf);
	ls_store_close(&fresh);
	fx_rmtree(dir);
	free(dir);
}

/* ---- more helpers ---- */

/* Moves an actor's clock to t unless it is later already. */
static void
not_before(struct fx_actor *a, uint64_t t)
{
	if (a->ts < t)
		a->ts = t;
}

/* The first reason `code` whose ids include id, or NULL. */
static const struct ls_verdict_reason *
reason_with(const struct ls_verdict *v, enum ls_reason code, const uint8_t id[32])
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code && reason_has_id(&v->reasons[i], id))
			return &v->reasons[i];
	return NULL;
}

/* Asserts v has a reason `code` naming id whose message contains text. */
static void
expect_message(const struct ls_verdict *v, enum ls_reason code, const uint8_t id[32],
	       const char *text)
{
	const struct ls_verdict_reason *r = reason_with(v, code, id);

	if (r == NULL || strstr(r->message, text) == NULL) {
		fprintf(stderr, "expected %s naming the id with \"%s\"\n", ls_reason_code(code),
			text);
		dump("got", v);
	}
	assert_non_null(r);
	assert_non_null(strstr(r->message, text));
}

static void
query_init(struct ls_export_query *q, const uint8_t lot[32], const struct fx_actor *from,
	   const char *dest, uint64_t at)
{
	memset(q, 0, sizeof(*q));
	memcpy(q->lot, lot, 32);
	q->has_from = true;
	memcpy(q->from, from->kp->pk, 32);
	snprintf(q->destination, sizeof(q->destination), "%s", dest);
	q->time = at;
}

static enum ls_verdict_kind
ask(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v)
{
	assert_int_equal(ls_verify_export(s, q, v), 0);
	return v->kind;
}

/* A certified Australian miner (Mount Weld). */
static struct fx_actor *
au_miner(struct world *w)
{
	struct fx_actor *au = fx_actor_new("AU");
	struct fx_env e;

	assert_non_null(au);
	not_before(w->auth, FX_T0 + FX_DAY);
	e = fx_cert(w->auth, au, "Mount Weld", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	ok(w, &e);
	au->ts = FX_T0 + FX_DAY;
	return au;
}

/* 800 kg of Australian oxide (Dy 2500 ppm) registered with `value` (0: none)
 * and shipped to the Japanese magnet maker. */
static void
au_oxide_to_jp(struct world *w, struct fx_actor *au, const char *label, uint64_t value,
	       uint8_t lot[32])
{
	struct fx_env e = fx_lot_value(au, label, "Mount Weld", NULL, "oxide", 800000,
				       "Nd=300000,Dy=2500", value);

	memcpy(lot, e.id, 32);
	ok(w, &e);
	ship(w, au, w->jp, lot, 800000, NULL, NULL);
}

/*
 * Chinese DyFe alloy for Japan: 100 kg of Bayan Obo ore (Dy 10 %, worth
 * 5,000,000) separated into 10 kg of alloy (Dy 80 %, worth 40,000,000, so
 * 4,000 a gram), 3 kg shipped to Japan under an alloy license.
 */
static void
cn_alloy_to_jp(struct world *w, uint8_t alloy[32])
{
	struct fx_license_spec ls;
	struct fx_env e;
	uint8_t ore[32], lic[32];
	const uint64_t value = 40000000;
	const char *out = "DyFe-1:alloy:10000:Dy=800000,Fe=200000";

	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DU-2025-0002";
	ls.licensee = w->sep->kp->pk;
	ls.items = "alloy";
	ls.max_grams = 5000;
	ls.destinations = "JP";
	not_before(w->auth, FX_T0 + FX_DAY);
	e = fx_license(w->auth, &ls);
	memcpy(lic, e.id, 32);
	ok(w, &e);
	not_before(w->mine, FX_T0 + FX_DAY);
	not_before(w->sep, FX_T0 + FX_DAY);
	not_before(w->jp, FX_T0 + 2 * FX_DAY);
	e = fx_lot_value(w->mine, "BO-DY-1", "Bayan Obo", NULL, "ore", 100000, "Dy=100000",
			 5000000);
	memcpy(ore, e.id, 32);
	ok(w, &e);
	ship(w, w->mine, w->sep, ore, 100000, NULL, NULL);
	{
		struct ls_lot_input in;
		memcpy(in.lot, ore, 32);
		in.grams = 100000;
		e = fx_transform_value(w->sep, &in, 1, &out, &value, 1);
	}
	ls_lot_id(e.id, 0, alloy);
	ok(w, &e);
	ship(w, w->sep, w->jp, alloy, 3000, lic, NULL);
}

/* A license for sep's technology transfers to Japan (tech:separation). */
static void
tech_license(struct world *w, uint8_t lic[32])
{
	struct fx_license_spec ls;
	struct fx_env e;

	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-TECH-2025-0001";
	ls.licensee = w->sep->kp->pk;
	ls.items = "tech:separation";
	ls.destinations = "JP";
	not_before(w->auth, FX_T0 + FX_DAY);
	e = fx_license(w->auth, &ls);
	memcpy(lic, e.id, 32);
	ok(w, &e);
}

/* sep sends `tech` to the Japanese maker (citing license or not), received. */
static void
send_tech(struct world *w, const char *tech, const uint8_t *license, uint8_t tr[32])
{
	struct fx_env t = fx_transfer_tech(w->sep, tech, w->jp, license, NULL), r;

	assert_non_null(t.buf);
	memcpy(tr, t.id, 32);
	r = fx_receipt(w->jp, t.id, 0);
	ok(w, &t);
	ok(w, &r);
}

/* Japan makes 800 kg of magnets from one Australian oxide lot (plus y g of
 * the Chinese alloy when y > 0), the magnets worth `value` (0: none). */
static void
jp_magnets(struct world *w, const uint8_t au_lot[32], const uint8_t *alloy, uint64_t y,
	   uint64_t value, uint8_t out[32])
{
	struct ls_lot_input in[2];
	char spec[128];
	const char *o = spec;
	struct fx_env e;

	memcpy(in[0].lot, au_lot, 32);
	in[0].grams = 800000;
	if (y > 0) {
		memcpy(in[1].lot, alloy, 32);
		in[1].grams = y;
	}
	snprintf(spec, sizeof(spec), "jp-mag-%llu-%llu:magnet:800000:Nd=290000,Dy=%llu",
		 (unsigned long long)y, (unsigned long long)value, (unsigned long long)(2500 + y));
	e = fx_transform_value(w->jp, in, y > 0 ? 2 : 1, &o, &value, 1);
	ls_lot_id(e.id, 0, out);
	ok(w, &e);
}

/* The April policy, reaching also items made abroad with Chinese separation
 * technology. */
static void
foreign_tech_policy(struct fx_policy_spec *p)
{
	april_policy(p);
	p->name = "CN foreign-tech rule";
	p->controlled_tech = "tech:separation,tech:magnet";
	p->applies_to_foreign_tech = true;
}

/* ---- technology ---- */

/*
 * A technology transfer out of China needs a license under a policy that
 * lists its category; without one, the lots its receiver makes afterwards
 * have broken provenance.
 */
static void
test_verify_tech_transfer_needs_license(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = au_miner(w);
	struct fx_policy_spec ps;
	struct fx_license_spec ls;
	struct ls_verdict v;
	struct fx_mark m;
	struct fx_env e;
	uint8_t sep_tr[32], mining_tr[32], pol[32], au_lot[32], au_early[32], made[32], early[32];
	uint8_t lic[32], wrong[32];

	au_oxide_to_jp(w, au, "MW-T1", 0, au_lot);
	au_oxide_to_jp(w, au, "MW-T0", 0, au_early);
	w->jp->ts = FX_T0 + 2 * FX_DAY;
	jp_magnets(w, au_early, NULL, 0, 0, early);
	w->sep->ts = FX_T0 + 3 * FX_DAY;
	w->jp->ts = FX_T0 + 3 * FX_DAY;
	send_tech(w, "tech:separation", NULL, sep_tr);
	send_tech(w, "tech:mining", NULL, mining_tr);
	jp_magnets(w, au_lot, NULL, 0, 0, made);

	/* The April policy lists no technology: nothing needed a license. */
	assert_int_equal(provenance(w->s, made, &v), LS_V_VALID);
	ls_verdict_release(&v);

	/* A policy of the same period that lists separation technology. */
	memset(&ps, 0, sizeof(ps));
	ps.name = "CN technology list";
	ps.effective_from = T_POLICY;
	ps.controlled_tech = "tech:separation";
	w->auth->ts = FX_T0 + 4 * FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(pol, e.id, 32);
	ok(w, &e);
	if (provenance(w->s, made, &v) != LS_V_BROKEN)
		dump("made with unlicensed technology", &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	expect_message(&v, LS_R_NO_LICENSE, sep_tr, "tech:separation");
	assert_non_null(reason_with(&v, LS_R_NO_LICENSE, pol));
	/* Mining technology is not on that list. */
	assert_null(reason_with(&v, LS_R_NO_LICENSE, mining_tr));
	ls_verdict_release(&v);
	/* What Japan made before it received the technology is not touched. */
	assert_int_equal(provenance(w->s, early, &v), LS_V_VALID);
	ls_verdict_release(&v);

	/* A license for mining technology does not cover separation technology. */
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-TECH-2025-0009";
	ls.licensee = w->sep->kp->pk;
	ls.items = "tech:mining";
	ls.destinations = "JP";
	e = fx_license(w->auth, &ls);
	memcpy(wrong, e.id, 32);
	ok(w, &e);
	w->sep->ts = FX_T0 + 5 * FX_DAY;
	m = fx_mark(w->sep);
	e = fx_transfer_tech(w->sep, "tech:separation", w->jp, wrong, NULL);
	rejected(w, w->sep, &m, &e, LS_R_LICENSE_MISMATCH);
	/* A license for separation technology is accepted. */
	tech_license(w, lic);
	w->jp->ts = FX_T0 + 5 * FX_DAY;
	send_tech(w, "tech:separation", lic, sep_tr);
	fx_actor_free(&au);
}

/*
 * A magnet made in Japan from Australian material by a maker that received
 * Chinese separation technology (under license) is caught by a policy that
 * reaches foreign technology, and not by an otherwise identical one without
 * that reach.
 */
static void
test_verify_export_foreign_tech(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = au_miner(w);
	struct fx_policy_spec ps;
	struct ls_export_query q;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t with[32], without[32], lic[32], tr[32], au1[32], au2[32], before[32], after[32];
	const uint64_t t1 = FX_T0 + 10 * FX_DAY, t2 = FX_T0 + 20 * FX_DAY;

	foreign_tech_policy(&ps);
	ps.effective_from = t1;
	ps.effective_until = t2;
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(with, e.id, 32);
	ok(w, &e);
	ps.name = "CN rule without foreign-tech reach";
	ps.effective_from = t2;
	ps.effective_until = 0;
	ps.applies_to_foreign_tech = false;
	e = fx_policy(w->auth, &ps);
	memcpy(without, e.id, 32);
	ok(w, &e);

	tech_license(w, lic);
	au_oxide_to_jp(w, au, "MW-F1", 0, au1);
	au_oxide_to_jp(w, au, "MW-F2", 0, au2);
	w->jp->ts = FX_T0 + 2 * FX_DAY;
	jp_magnets(w, au1, NULL, 0, 0, before);
	w->sep->ts = FX_T0 + 3 * FX_DAY;
	w->jp->ts = FX_T0 + 3 * FX_DAY;
	send_tech(w, "tech:separation", lic, tr);
	jp_magnets(w, au2, NULL, 0, 0, after);

	assert_int_equal(provenance(w->s, after, &v), LS_V_VALID);
	ls_verdict_release(&v);

	/* With foreign-tech reach: all 2500 ppm of Dy count, a license is needed. */
	query_init(&q, after, w->jp, "US", t1 + FX_DAY);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_message(&v, LS_R_NO_LICENSE, with, "CN-origin or CN-technology");
	expect_message(&v, LS_R_NO_LICENSE, with, "2500 ppm");
	ls_verdict_release(&v);
	/* Magnets made before the technology arrived are not caught. */
	query_init(&q, before, w->jp, "US", t1 + FX_DAY);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	assert_null(reason_with(&v, LS_R_NO_LICENSE, with));
	ls_verdict_release(&v);
	/* The same policy without foreign-tech reach does not catch it: the
	 * material is Australian and the magnets Japanese. */
	query_init(&q, after, w->jp, "US", t2 + FX_DAY);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	assert_null(reason_of(&v, LS_R_NO_LICENSE));
	assert_null(reason_of(&v, LS_R_DE_MINIMIS));
	ls_verdict_release(&v);

	/* An offline proof carries the technology transfer: same verdict. */
	{
		struct ls_store *fresh = NULL;
		struct ls_ingest_result *res;
		const uint8_t **envs = NULL;
		size_t *lens = NULL, n = 0, len = 0;
		uint8_t *buf = NULL;
		char *dir = fx_tmpdir();
		bool has_tr = false;

		assert_non_null(dir);
		assert_int_equal(ls_bundle_collect(w->s, after, &buf, &len), 0);
		assert_int_equal(ls_bundle_decode(buf, len, 100000, &envs, &lens, &n, NULL), 0);
		assert_int_equal(fx_bundle_store_open(dir, w->auth, &fresh), 0);
		res = calloc(n, sizeof(*res));
		assert_non_null(res);
		assert_int_equal(ls_store_ingest(fresh, envs, lens, n, res, NULL), 0);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
			has_tr |= memcmp(res[i].id, tr, 32) == 0;
		}
		assert_true(has_tr);
		query_init(&q, after, w->jp, "US", t1 + FX_DAY);
		ask(fresh, &q, &v);
		expect_kind(&v, LS_V_LICENSE_REQUIRED);
		expect_reason(&v, LS_R_NO_LICENSE, with);
		ls_verdict_release(&v);
		free(res);
		free(envs);
		free(lens);
		free(buf);
		ls_store_close(&fresh);
		fx_rmtree(dir);
		free(dir);
	}
	fx_actor_free(&au);
}

/*
 * A policy without foreign-tech reach counts only material of its origin:
 * Japanese magnets with 500 ppm of Chinese Dy, made by a maker holding
 * Chinese technology, are de minimis under the April policy (500 ppm), and
 * controlled under the foreign-tech policy (all 3000 ppm of Dy).
 */
static void
test_verify_de_minimis_counts_material_not_tech(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = au_miner(w);
	struct fx_policy_spec ps;
	struct ls_export_query q;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t alloy[32], au_lot[32], lic[32], tr[32], mag[32], ft[32];
	const uint64_t t1 = FX_T0 + 10 * FX_DAY;

	cn_alloy_to_jp(w, alloy);
	tech_license(w, lic);
	au_oxide_to_jp(w, au, "MW-D1", 0, au_lot);
	w->sep->ts = FX_T0 + 3 * FX_DAY;
	w->jp->ts = FX_T0 + 3 * FX_DAY;
	send_tech(w, "tech:separation", lic, tr);
	jp_magnets(w, au_lot, alloy, 500, 0, mag);

	query_init(&q, mag, w->jp, "US", t1);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_message(&v, LS_R_DE_MINIMIS, w->policy, "CN-origin controlled content 500 ppm");
	ls_verdict_release(&v);

	foreign_tech_policy(&ps);
	ps.effective_from = t1;
	w->auth->ts = FX_T0 + 4 * FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(ft, e.id, 32);
	ok(w, &e);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_message(&v, LS_R_NO_LICENSE, ft, "CN-origin or CN-technology");
	expect_message(&v, LS_R_NO_LICENSE, ft, "3000 ppm");
	/* The April policy still counts the material only. */
	expect_message(&v, LS_R_DE_MINIMIS, w->policy, "CN-origin controlled content 500 ppm");
	ls_verdict_release(&v);
	fx_actor_free(&au);
}

/* ---- de minimis by value ---- */

/*
 * The April policy counted by value (a policy that supersedes it). Japanese
 * magnets worth 2,000,000,000 hold y g of Chinese alloy worth 4,000 a gram:
 * Chinese content is worth 2y ppm of their value (and is y ppm of their
 * mass, so the two bases disagree).
 */
static void
test_verify_export_de_minimis_by_value(void **state)
{
	struct world *w = *state;
	struct fx_actor *au = au_miner(w);
	struct fx_policy_spec ps;
	struct ls_export_query q;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t alloy[32], au_lots[6][32], below[32], at[32], above[32], unvalued[32], pol[32];
	uint8_t shared[32];
	const uint64_t mag_value = 2000000000;

	april_policy(&ps);
	ps.name = "No. 18 by value";
	ps.basis_value = true;
	ps.effective_from = FX_T0 + FX_DAY;
	ps.supersedes = (const uint8_t(*)[32])w->policy;
	ps.n_supersedes = 1;
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(pol, e.id, 32);
	ok(w, &e);

	cn_alloy_to_jp(w, alloy);
	for (int i = 0; i < 5; i++) {
		char label[16];
		snprintf(label, sizeof(label), "MW-V%d", i);
		au_oxide_to_jp(w, au, label, i == 3 ? 0 : 1000000000, au_lots[i]);
	}
	jp_magnets(w, au_lots[0], alloy, 499, mag_value, below);
	jp_magnets(w, au_lots[1], alloy, 500, mag_value, at);
	jp_magnets(w, au_lots[2], alloy, 501, mag_value, above);
	jp_magnets(w, au_lots[3], alloy, 500, mag_value, unvalued);

	query_init(&q, below, w->jp, "US", T_ASK);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_message(&v, LS_R_DE_MINIMIS, pol, "worth 998 ppm of the lot's value");
	assert_null(reason_with(&v, LS_R_DE_MINIMIS, w->policy)); /* superseded */
	ls_verdict_release(&v);
	/* Exactly 0.1 % of the value: at the threshold is controlled. */
	query_init(&q, at, w->jp, "US", T_ASK);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_message(&v, LS_R_NO_LICENSE, pol, "worth 1000 ppm of the lot's value");
	ls_verdict_release(&v);
	query_init(&q, above, w->jp, "US", T_ASK);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_message(&v, LS_R_NO_LICENSE, pol, "worth 1002 ppm of the lot's value");
	ls_verdict_release(&v);
	/* One lot of the chain declares no value: mass (500 ppm), and it says so. */
	query_init(&q, unvalued, w->jp, "US", T_ASK);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_message(&v, LS_R_DE_MINIMIS, pol, "500 ppm of the lot's mass");
	expect_message(&v, LS_R_DE_MINIMIS, au_lots[3], "declares no value");
	ls_verdict_release(&v);

	/* Co-products share the inputs' value in proportion to theirs: magnets
	 * and scrap worth 2,000,000,000 each leave the magnets 500 ppm. */
	{
		struct ls_lot_input in[2];
		const char *outs[2] = {"jp-mag-shared:magnet:800000:Nd=290000,Dy=3000",
				       "jp-scrap:scrap:1000:Fe=1000000"};
		const uint64_t values[2] = {mag_value, mag_value};
		au_oxide_to_jp(w, au, "MW-V5", 1000000000, au_lots[5]);
		memcpy(in[0].lot, au_lots[5], 32);
		in[0].grams = 800000;
		memcpy(in[1].lot, alloy, 32);
		in[1].grams = 500;
		e = fx_transform_value(w->jp, in, 2, outs, values, 2);
		ls_lot_id(e.id, 0, shared);
		ok(w, &e);
	}
	query_init(&q, shared, w->jp, "US", T_ASK);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_message(&v, LS_R_DE_MINIMIS, pol, "worth 500 ppm of the lot's value");
	ls_verdict_release(&v);
	fx_actor_free(&au);
}

/* ---- equivocation, revocation, denied end users ---- */

/* The metal maker signs a second record at the seq of its transfer to the
 * magnet maker: every lot downstream reports the equivocation. */
static void
test_verify_provenance_equivocation(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_mark m;
	struct fx_env e;
	uint8_t orig[32];
	const struct ls_verdict_reason *r;

	m.seq = w->metal->seq - 1;
	m.ts = w->metal->ts;
	assert_int_equal(ls_store_feed_get(w->s, w->metal->kp->pk, m.seq, m.head), 0);
	assert_int_equal(ls_store_feed_get(w->s, w->metal->kp->pk, w->metal->seq, orig), 0);
	fx_rewind(w->metal, &m);
	e = fx_transfer(w->metal, w->metal_lot, 20000, w->jp, NULL, NULL);
	assert_non_null(e.buf);
	{
		uint8_t twin[32];
		memcpy(twin, e.id, 32);
		/* A peer's copy: stored on its own branch, kept as evidence. */
		ok(w, &e);
		assert_int_equal(provenance(w->s, w->magnets, &v), LS_V_BROKEN);
		r = reason_with(&v, LS_R_EQUIVOCATION, orig);
		if (r == NULL)
			dump("equivocation", &v);
		assert_non_null(r);
		assert_true(reason_has_id(r, twin));
		ls_verdict_release(&v);
	}
	/* The rotors too; the ore, which never passed through its hands, not. */
	assert_int_equal(provenance(w->s, w->rotors, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_EQUIVOCATION, orig);
	ls_verdict_release(&v);
	assert_int_equal(provenance(w->s, w->ore, &v), LS_V_VALID);
	ls_verdict_release(&v);
	export_check(w->s, w->magnets, w->de, "FR", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_EQUIVOCATION, orig);
	ls_verdict_release(&v);
}

static void
test_verify_license_revoked(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct ls_export_query q;
	struct ls_verdict v;
	struct fx_mark m;
	struct fx_env e;
	uint8_t jp_lic[32], rev[32];

	/* A license to Japan, revoked from day 3. */
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-DU-2025-0007";
	ls.licensee = w->magnet->kp->pk;
	ls.items = "magnet";
	ls.max_grams = 5000;
	ls.destinations = "JP";
	w->auth->ts = FX_T0 + 2 * FX_DAY;
	e = fx_license(w->auth, &ls);
	memcpy(jp_lic, e.id, 32);
	ok(w, &e);
	e = fx_revoke(w->auth, jp_lic, FX_T0 + 3 * FX_DAY);
	ok(w, &e);

	query_init(&q, w->magnets, w->magnet, "JP", FX_T0 + 2 * FX_DAY);
	q.has_license = true;
	memcpy(q.license, jp_lic, 32);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	expect_reason(&v, LS_R_CONTROLLED, jp_lic);
	ls_verdict_release(&v);
	q.time = T_ASK;
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_LICENSE_REQUIRED);
	expect_reason(&v, LS_R_NO_LICENSE, w->policy);
	expect_message(&v, LS_R_LICENSE_REVOKED, jp_lic, "CN-DU-2025-0007");
	ls_verdict_release(&v);
	w->magnet->ts = FX_T0 + 4 * FX_DAY;
	m = fx_mark(w->magnet);
	e = fx_transfer(w->magnet, w->magnets, 1000, w->jp, jp_lic, NULL);
	refused(w, w->magnet, &m, &e, LS_R_LICENSE_REVOKED);

	/* The license of the shipment to Germany, revoked after the fact with
	 * effect before it: the hop is unlicensed and the magnets may not go on. */
	w->auth->ts = FX_T0 + 4 * FX_DAY;
	e = fx_revoke(w->auth, w->license, FX_T0);
	memcpy(rev, e.id, 32);
	ok(w, &e);
	assert_int_equal(provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	expect_reason(&v, LS_R_LICENSE_REVOKED, w->tr_de);
	expect_reason(&v, LS_R_LICENSE_REVOKED, w->license);
	ls_verdict_release(&v);
	export_check(w->s, w->magnets, w->de, "FR", NULL, T_ASK, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_LICENSE_REVOKED, w->tr_de);
	ls_verdict_release(&v);
	/* A transfer citing the revoked license: refused to a local client; a
	 * peer's copy is stored (the revocation is no dependency of it) and
	 * verification reports the hop unlicensed. */
	m = fx_mark(w->magnet);
	e = fx_transfer(w->magnet, w->magnets, 1000, w->de, w->license, NULL);
	{
		struct fx_env copy = {malloc(e.len), e.len, {0}, e.type, e.seq};
		assert_non_null(copy.buf);
		memcpy(copy.buf, e.buf, e.len);
		memcpy(copy.id, e.id, 32);
		refused(w, NULL, &m, &e, LS_R_LICENSE_REVOKED);
		ok(w, &copy);
	}
}

/* End users denied by key and by certified organisation name. */
static void
test_verify_export_denied_end_user(void **state)
{
	struct world *w = *state;
	struct fx_policy_spec ps;
	struct ls_export_query q;
	struct ls_verdict v;
	struct fx_env e;
	uint8_t pol[32], stranger[32];

	april_policy(&ps);
	ps.name = "CN entity list";
	ps.denied_end_user_keys = (const uint8_t(*)[32])w->us->kp->pk;
	ps.n_denied_end_user_keys = 1;
	ps.denied_end_user_names = "Osaka Magnetics";
	w->auth->ts = FX_T0 + FX_DAY;
	e = fx_policy(w->auth, &ps);
	memcpy(pol, e.id, 32);
	ok(w, &e);

	/* The license to Germany names no end user; the policy still denies. */
	query_init(&q, w->magnets, w->magnet, "DE", T_ASK);
	q.has_end_user = true;
	memcpy(q.end_user, w->us->kp->pk, 32);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_END_USER_DENIED, pol);
	ls_verdict_release(&v);
	/* By name: the Japanese importer's certificate says "Osaka Magnetics". */
	memcpy(q.end_user, w->jp->kp->pk, 32);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_DENIED);
	expect_reason(&v, LS_R_END_USER_DENIED, pol);
	ls_verdict_release(&v);
	/* The German buyer itself, and a key nobody certified, are not listed. */
	memcpy(q.end_user, w->de->kp->pk, 32);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	assert_null(reason_of(&v, LS_R_END_USER_DENIED));
	ls_verdict_release(&v);
	randombytes_buf(stranger, sizeof(stranger));
	memcpy(q.end_user, stranger, 32);
	ask(w->s, &q, &v);
	expect_kind(&v, LS_V_ALLOWED);
	ls_verdict_release(&v);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_verify_provenance_valid),
	    T(test_verify_provenance_unknown_lot),
	    T(test_verify_provenance_revoked_later),
	    T(test_verify_provenance_no_license_hop),
	    T(test_verify_export_licensed),
	    T(test_verify_export_reexport_barred),
	    T(test_verify_export_exempt_component),
	    T(test_verify_export_binding_follows_descendant),
	    T(test_verify_export_policy_change),
	    T(test_verify_export_de_minimis),
	    T(test_verify_ingest_overspend),
	    T(test_verify_ingest_forged_signature),
	    T(test_verify_ingest_license_expired_exhausted),
	    T(test_verify_origin_magnets),
	    T(test_verify_origin_blend),
	    T(test_verify_origin_chain_shares),
	    T(test_verify_trace_up_down),
	    T(test_verify_bundle_offline),
	    T(test_verify_tech_transfer_needs_license),
	    T(test_verify_export_foreign_tech),
	    T(test_verify_de_minimis_counts_material_not_tech),
	    T(test_verify_export_de_minimis_by_value),
	    T(test_verify_provenance_equivocation),
	    T(test_verify_license_revoked),
	    T(test_verify_export_denied_end_user),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
