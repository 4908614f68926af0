/*
 * test_rules.c - the attacks on the rulebook, each tried against a real
 * store: another jurisdiction's authority rewriting China's rules, revoking
 * the root or another authority's participants, a license from the wrong
 * authority, a re-export ban laundered through a licensed hop, a backdated
 * receipt, strangers filling the pending set. Each test states the rule it
 * tries to break and checks what an auditor would check: what is stored,
 * what a local client is told, and the verdict.
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

#include "helper_fixture.h"
#include "helper_world.h"
#include "store.h"
#include "util.h"
#include "verify.h"

/* Rule: an authority publishes policies only for its jurisdictions, and
 * supersedes or suspends only policies of those. */
static void
test_rules_foreign_policy_refused(void **state)
{
	struct world *w = *state;
	struct fx_policy_spec ps;
	struct ls_verdict v;
	struct fx_mark m;
	struct fx_env e;

	memset(&ps, 0, sizeof(ps));
	ps.name = "lenient";
	ps.effective_from = FX_T0 + FX_DAY;
	ps.elements = "Nd";
	ps.supersedes = (const uint8_t(*)[32])w->cn_policy;
	ps.n_supersedes = 1;
	w->de_auth->ts = FX_T0 + FX_DAY;
	/* A "CN" policy from Germany's authority: not stored anywhere. */
	ps.jurisdiction = "CN";
	m = fx_mark(w->de_auth);
	e = fx_policy(w->de_auth, &ps);
	NOT_STORED(w, e, LS_R_UNTRUSTED);
	fx_env_release(&e);
	fx_rewind(w->de_auth, &m);
	/* A German policy that supersedes China's: not stored either. */
	ps.jurisdiction = "DE";
	e = fx_policy(w->de_auth, &ps);
	NOT_STORED(w, e, LS_R_UNTRUSTED);
	fx_env_release(&e);
	fx_rewind(w->de_auth, &m);
	/* Its own policy, superseding nothing: stored. */
	ps.supersedes = NULL;
	ps.n_supersedes = 0;
	e = fx_policy(w->de_auth, &ps);
	ADMITTED(w, e);
	fx_env_release(&e);
	/* China's rule stands: magnets with Dy for military use are denied. */
	if (world_export_check(w, w->magnets, w->maker, "US", "military", NULL, &v) != LS_V_DENIED)
		world_dump("export", &v);
	assert_int_equal(v.kind, LS_V_DENIED);
	assert_true(world_has_reason(&v, LS_R_END_USE_DENIED));
	ls_verdict_release(&v);
}

/* Rule: an authority certifies participants of its countries and
 * authorities of (a subset of) its jurisdictions only. */
static void
test_rules_foreign_certificate_refused(void **state)
{
	struct world *w = *state;
	struct fx_actor *fake = fx_actor_new("CN");
	struct fx_mark m;
	struct fx_env e;

	assert_non_null(fake);
	m = fx_mark(w->de_auth);
	e = fx_cert(w->de_auth, fake, "Fake Mine", "CN", LS_ROLE_MINER, 0, 0);
	NOT_STORED(w, e, LS_R_UNTRUSTED);
	fx_env_release(&e);
	fx_rewind(w->de_auth, &m);
	e = fx_cert(w->de_auth, fake, "Fake MOFCOM", "CN", LS_ROLE_AUTHORITY, 0, 0);
	NOT_STORED(w, e, LS_R_UNTRUSTED);
	fx_env_release(&e);
	fx_rewind(w->de_auth, &m);
	e = fx_cert(w->de_auth, fake, "Hamburg Trading", "DE", LS_ROLE_IMPORTER, 0, 0);
	ADMITTED(w, e);
	fx_env_release(&e);
	fx_actor_free(&fake);
}

/* An authority for several jurisdictions (an EU-style list): it acts for
 * those listed, not for its own country unless listed. */
static void
test_rules_listed_jurisdictions(void **state)
{
	struct world *w = *state;
	struct fx_actor *eu = fx_actor_new("BE");
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	const char **j;
	struct fx_policy_spec ps;
	struct fx_mark m;
	struct fx_env e;

	assert_non_null(eu);
	assert_non_null(r);
	memcpy(r->certificate.subject, eu->kp->pk, 32);
	r->certificate.org = ls_record_strdup(r, "EU export control");
	memcpy(r->certificate.country, "BE", 3);
	r->certificate.roles = LS_ROLE_AUTHORITY;
	j = ls_record_alloc(r, 2 * sizeof(*j));
	assert_non_null(j);
	j[0] = ls_record_strdup(r, "DE");
	j[1] = ls_record_strdup(r, "FR");
	r->certificate.jurisdictions.v = j;
	r->certificate.jurisdictions.n = 2;
	assert_int_equal(fx_sign(w->root, r, &e), 0);
	ls_record_free(r);
	eu->cert_id[0] = 0;
	memcpy(eu->cert_id, e.id, 32);
	eu->has_cert = true;
	STORED(w, e);
	fx_env_release(&e);

	memset(&ps, 0, sizeof(ps));
	ps.effective_from = FX_T0;
	ps.elements = "Dy";
	ps.jurisdiction = "FR";
	e = fx_policy(eu, &ps);
	ADMITTED(w, e);
	fx_env_release(&e);
	m = fx_mark(eu);
	ps.jurisdiction = "BE";
	e = fx_policy(eu, &ps);
	NOT_STORED(w, e, LS_R_UNTRUSTED);
	fx_env_release(&e);
	fx_rewind(eu, &m);
	/* Germany's own authority may not claim a list beyond its scope. */
	fx_actor_free(&eu);
}

/* Rule: a trust anchor is revoked only by itself; an authority revokes only
 * what it (or an authority it certified) certified or issued. */
static void
test_rules_revocation_scope(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_env e;

	w->de_auth->ts = FX_T0 + FX_DAY;
	/* Germany's authority revokes the root and China's miner, dated before
	 * everything: a local client is told at once... */
	e = fx_revoke(w->de_auth, w->root->kp->pk, FX_T0);
	REFUSED(w, e, LS_R_UNTRUSTED);
	/* ...a peer's copy is stored (an authority may publish revocations),
	 * and it counts for nothing. */
	STORED(w, e);
	fx_env_release(&e);
	e = fx_revoke(w->de_auth, w->miner->kp->pk, FX_T0);
	REFUSED(w, e, LS_R_UNTRUSTED);
	STORED(w, e);
	fx_env_release(&e);
	if (world_provenance(w->s, w->magnets, &v) != LS_V_VALID)
		world_dump("provenance", &v);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
	/* China's authority revoking its own miner counts. */
	w->cn_auth->ts = FX_T0 + FX_DAY;
	e = fx_revoke(w->cn_auth, w->miner->kp->pk, FX_T0);
	ADMITTED(w, e);
	fx_env_release(&e);
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_REVOKED));
	ls_verdict_release(&v);
}

/* The root revoking itself does count. */
static void
test_rules_anchor_self_revocation(void **state)
{
	struct world *w = *state;
	struct ls_verdict v;
	struct fx_env e;

	w->root->ts = FX_T0 + FX_DAY;
	e = fx_revoke(w->root, w->root->kp->pk, FX_T0);
	ADMITTED(w, e);
	fx_env_release(&e);
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_REVOKED));
	ls_verdict_release(&v);
}

/* Rule: a license counts for an export only if its issuer is an authority
 * of a jurisdiction whose policy requires it. */
static void
test_rules_license_from_wrong_authority(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct ls_verdict v;
	uint8_t de_lic[32], cn_lic[32];
	struct fx_env e;

	world_magnet_license(w, &ls, "DE-2025-1", "US");
	w->de_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->de_auth, &ls, true, de_lic);
	/* Asked about: Germany's license does not answer China's policy. */
	if (world_export_check(w, w->magnets, w->maker, "US", NULL, de_lic, &v) !=
	    LS_V_LICENSE_REQUIRED)
		world_dump("export", &v);
	assert_int_equal(v.kind, LS_V_LICENSE_REQUIRED);
	assert_true(world_has_reason(&v, LS_R_LICENSE_MISMATCH));
	ls_verdict_release(&v);
	/* China's license for the same export counts. */
	ls.number = "CN-2025-1";
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->cn_auth, &ls, true, cn_lic);
	assert_int_equal(world_export_check(w, w->magnets, w->maker, "US", NULL, cn_lic, &v),
			 LS_V_ALLOWED);
	ls_verdict_release(&v);
	/* Shipped under it: the hop is unlicensed. */
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	e = fx_transfer(w->maker, w->magnets, 1000, w->us, de_lic, NULL);
	STORED(w, e);
	fx_env_release(&e);
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_LICENSE_MISMATCH));
	ls_verdict_release(&v);
}

/* Rule: re-export bindings apply to every hop, licensed or not. */
static void
test_rules_reexport_ban_not_laundered(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct ls_verdict v;
	uint8_t cn_lic[32], de_lic[32];
	struct fx_env e;

	/* China licenses the magnets to Germany, barring re-export to RU. */
	world_magnet_license(w, &ls, "CN-2025-2", "DE");
	ls.no_reexport_to = "RU";
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->cn_auth, &ls, false, cn_lic);
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	w->de_imp->ts = FX_T0 + 5 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 50000, w->de_imp, cn_lic, true, NULL);
	/* Germany's authority licenses the importer to Russia. */
	ls.number = "DE-2025-2";
	ls.licensee = w->de_imp->kp->pk;
	ls.destinations = "RU";
	ls.no_reexport_to = NULL;
	w->de_auth->ts = FX_T0 + 5 * FX_DAY;
	world_license(w, w->de_auth, &ls, false, de_lic);
	/* Asked: denied, by China's binding, with or without the German license. */
	assert_int_equal(world_export_check(w, w->magnets, w->de_imp, "RU", NULL, de_lic, &v),
			 LS_V_DENIED);
	assert_true(world_has_reason(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);
	/* Shipped citing the German license: the hop breaks the binding. */
	w->de_imp->ts = FX_T0 + 6 * FX_DAY;
	e = fx_transfer(w->de_imp, w->magnets, 1000, w->ru, de_lic, NULL);
	STORED(w, e);
	fx_env_release(&e);
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);
}

/* Rule: a receipt is not dated before the transfer it receives (so a
 * re-export cannot be dated before a policy took effect). */
static void
test_rules_backdated_receipt(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	uint8_t lic[32];
	struct fx_mark m;
	struct fx_env e, tr;

	world_magnet_license(w, &ls, "CN-2025-3", "DE");
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->cn_auth, &ls, false, lic);
	w->maker->ts = FX_T0 + 10 * FX_DAY;
	tr = fx_transfer(w->maker, w->magnets, 1000, w->de_imp, lic, NULL);
	STORED(w, tr);
	/* Built by hand: fx_receipt would date it after the transfer. */
	w->de_imp->ts = FX_T0 + 10 * FX_DAY - 1;
	m = fx_mark(w->de_imp);
	{
		struct ls_record *r = ls_record_new(LS_REC_RECEIPT);
		assert_non_null(r);
		memcpy(r->receipt.transfer, tr.id, 32);
		r->receipt.grams = 1000;
		assert_int_equal(fx_sign(w->de_imp, r, &e), 0);
		ls_record_free(r);
	}
	NOT_STORED(w, e, LS_R_TIME_BACKWARDS);
	fx_env_release(&e);
	fx_rewind(w->de_imp, &m);
	w->de_imp->ts = FX_T0 + 10 * FX_DAY;
	e = fx_receipt(w->de_imp, tr.id, 1000);
	STORED(w, e);
	fx_env_release(&e);
	fx_env_release(&tr);
}

/* Rule: strangers cannot fill the pending set. A record of an author whose
 * certificate has not arrived (a stranger here) may wait, but strangers
 * together hold at most a quarter of the set (the oldest goes first) and
 * never push out a certified author's record; a certified author may have
 * an eighth of it (at least 64) waiting; when the set is full a stranger's
 * record goes first. */
static void
test_rules_pending_quota(void **state)
{
	struct world *w = *state;
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_stats st;
	struct fx_actor *x = fx_actor_new("CN"), *y = fx_actor_new("CN");
	struct fx_actor *anchor = fx_actor_new("CN"), *c1 = fx_actor_new("CN");
	struct fx_actor *c2 = fx_actor_new("CN");
	struct ls_ingest_result res;
	struct fx_env cert1, cert2, first2;
	uint8_t fake[32];

	(void)w;
	assert_non_null(dir);
	assert_non_null(x);
	assert_non_null(y);
	assert_non_null(anchor);
	assert_non_null(c1);
	assert_non_null(c2);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])anchor->kp->pk;
	o.n_anchors = 1;
	o.max_pending = 100;
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	/* Two strangers claim certificates nobody has seen: their records
	 * wait, but only a quarter of the set's worth of them. */
	memset(fake, 0x5a, 32);
	memcpy(x->cert_id, fake, 32);
	x->has_cert = true;
	memcpy(y->cert_id, fake, 32);
	y->has_cert = true;
	for (int i = 0; i < 70; i++) {
		struct fx_env e = fx_lot(i < 35 ? x : y, "junk", NULL, NULL, "ore", 1, NULL);
		assert_int_equal(fx_ingest_one(s, e.buf, e.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_PENDING);
		fx_env_release(&e);
	}
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.pending, 25);
	/* A certified author's out-of-order records (its seq 1 is late) wait,
	 * up to its quota. */
	cert1 = fx_cert(anchor, c1, "Mine 1", "CN", LS_ROLE_MINER, 0, 0);
	cert2 = fx_cert(anchor, c2, "Mine 2", "CN", LS_ROLE_MINER, 0, 0);
	assert_int_equal(fx_ingest_one(s, cert1.buf, cert1.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(fx_ingest_one(s, cert2.buf, cert2.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	{
		struct fx_env first1 = fx_lot(c1, "c1-1", NULL, NULL, "ore", 1, NULL);
		for (int i = 0; i < 70; i++) {
			struct fx_env e = fx_lot(c1, "c1", NULL, NULL, "ore", 1, NULL);
			assert_int_equal(fx_ingest_one(s, e.buf, e.len, &res), 0);
			assert_int_equal(res.status,
					 i < 64 ? LS_INGEST_PENDING : LS_INGEST_REJECTED);
			if (i >= 64)
				assert_int_equal(res.reason, LS_R_PENDING_FULL);
			fx_env_release(&e);
		}
		fx_env_release(&first1);
	}
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.pending, 89);
	/* The set fills: a second certified author's records push out
	 * strangers' ones, never the first author's. */
	first2 = fx_lot(c2, "c2-1", NULL, NULL, "ore", 1, NULL);
	for (int i = 0; i < 20; i++) {
		struct fx_env e = fx_lot(c2, "c2", NULL, NULL, "ore", 1, NULL);
		assert_int_equal(fx_ingest_one(s, e.buf, e.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_PENDING);
		fx_env_release(&e);
	}
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.pending, 100);
	/* Across a restart, c2's first record releases all 20. */
	ls_store_close(&s);
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	assert_int_equal(fx_ingest_one(s, first2.buf, first2.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.pending, 80);
	assert_int_equal(st.records, 2 + 21);
	fx_env_release(&cert1);
	fx_env_release(&cert2);
	fx_env_release(&first2);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
	fx_actor_free(&x);
	fx_actor_free(&y);
	fx_actor_free(&anchor);
	fx_actor_free(&c1);
	fx_actor_free(&c2);
}

/* Rule: a record is not earlier than the certificate or license it relies
 * on starts, and neither starts before it was issued, whatever valid_from
 * it names: an authority cannot lend validity to the past. */
static void
test_rules_backdated_validity(void **state)
{
	struct world *w = *state;
	struct fx_actor *late = fx_actor_new("CN");
	struct fx_license_spec ls;
	struct fx_mark m;
	uint8_t lic[32];
	struct fx_env e;

	assert_non_null(late);
	/* A certificate issued on day 10 that claims validity from day 0. */
	w->cn_auth->ts = FX_T0 + 10 * FX_DAY;
	PUT(w, fx_cert(w->cn_auth, late, "Late Mine", "CN", LS_ROLE_MINER, FX_T0, 0));
	late->ts = FX_T0 + 5 * FX_DAY;
	m = fx_mark(late);
	e = fx_lot(late, "backdated", NULL, NULL, "ore", 5, NULL);
	NOT_STORED(w, e, LS_R_CERT_EXPIRED);
	fx_env_release(&e);
	fx_rewind(late, &m);
	late->ts = FX_T0 + 10 * FX_DAY;
	PUT(w, fx_lot(late, "on time", NULL, NULL, "ore", 5, NULL));
	/* A license issued on day 10 that claims validity from day 0. */
	world_magnet_license(w, &ls, "CN-2025-9", "DE");
	ls.valid_from = FX_T0;
	world_license(w, w->cn_auth, &ls, false, lic);
	w->maker->ts = FX_T0 + 5 * FX_DAY;
	m = fx_mark(w->maker);
	e = fx_transfer(w->maker, w->magnets, 1000, w->de_imp, lic, NULL);
	NOT_STORED(w, e, LS_R_LICENSE_EXPIRED);
	fx_env_release(&e);
	fx_rewind(w->maker, &m);
	w->maker->ts = FX_T0 + 10 * FX_DAY;
	PUT(w, fx_transfer(w->maker, w->magnets, 1000, w->de_imp, lic, NULL));
	fx_actor_free(&late);
}

/* Admission: a local client's record dated ahead of the node's clock is
 * refused (a peer's is stored: no record bounds that date, the node's clock
 * is not a consensus fact). */
static void
test_rules_future_dated(void **state)
{
	struct world *w = *state;
	struct fx_env e;
	uint64_t now = (uint64_t)time(NULL);

	w->miner->ts = now + 2 * FX_DAY;
	e = fx_lot(w->miner, "tomorrow", NULL, NULL, "ore", 5, NULL);
	REFUSED(w, e, LS_R_FUTURE);
	STORED(w, e);
	fx_env_release(&e);
	w->miner->ts = now + 2 * FX_DAY;
	e = fx_lot(w->miner, "still tomorrow", NULL, NULL, "ore", 5, NULL);
	STORED(w, e);
	fx_env_release(&e);
}

/*
 * Rule: the same records make the same ledger, even when an author
 * equivocates. The miner signs two records at one seq (ships 60 g of its
 * 100 g lot to P, and 70 g to Q), goes on on both branches, and P and Q
 * receive what was shipped to them. Two stores get the records in opposite
 * orders: both store every record valid on its own branch (and refuse the
 * one that overspends on its branch), keep the same evidence, and give the
 * same verdicts.
 */
static void
test_rules_equivocation_same_ledger(void **state)
{
	struct world *w = *state;
	struct fx_actor *p = w->maker, *q = w->de_imp;
	struct fx_env e[16];
	struct fx_mark fork;
	struct ls_store *b = NULL;
	char *dir_b = fx_tmpdir();
	struct fx_idset sa, sb;
	struct ls_verdict va, vb;
	size_t n = 0, bad;
	uint8_t lot[32];

	assert_non_null(dir_b);
	/* The lot, from a fresh miner certified by China's authority. */
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	{
		struct fx_actor *m = w->miner;
		m->ts = FX_T0 + 3 * FX_DAY;
		e[n] = fx_lot(m, "ore-x", "Bayan Obo", "CN", "ore", 100, "Nd=100000,Dy=1000");
		memcpy(lot, e[n].id, 32);
		n++;
		fork = fx_mark(m);
		/* Branch A: 60 g to P, then 40 g to Q. */
		e[n++] = fx_transfer(m, lot, 60, p, NULL, NULL);
		e[n] = fx_receipt(p, e[n - 1].id, 60);
		n++;
		e[n++] = fx_transfer(m, lot, 40, q, NULL, NULL);
		e[n] = fx_receipt(q, e[n - 1].id, 40);
		n++;
		/* Branch B, at the same seq: 70 g to Q, then 30 g to P. */
		fx_rewind(m, &fork);
		e[n++] = fx_transfer(m, lot, 70, q, NULL, NULL);
		e[n] = fx_receipt(q, e[n - 1].id, 70);
		n++;
		e[n++] = fx_transfer(m, lot, 30, p, NULL, NULL);
		e[n] = fx_receipt(p, e[n - 1].id, 30);
		n++;
		/* On branch B, 40 g more: the miner holds none of it there. */
		bad = n;
		e[n++] = fx_transfer(m, lot, 40, p, NULL, NULL);
	}
	for (size_t i = 0; i < n; i++)
		assert_non_null(e[i].buf);
	/* Store A: in signing order. */
	for (size_t i = 0; i < n; i++) {
		struct ls_ingest_result res;
		assert_int_equal(fx_ingest_one(w->s, e[i].buf, e[i].len, &res), 0);
		if (i == bad) {
			assert_int_equal(res.status, LS_INGEST_REJECTED);
			assert_int_equal(res.reason, LS_R_NOT_HOLDER);
		} else if (res.status != LS_INGEST_ACCEPTED) {
			fail_msg("store A, record %zu: %s %s", i, fx_status_name(res.status),
				 res.message);
		}
	}
	/* Store B: the world's records, then these backwards (each waits for
	 * what it needs), so branch B comes first there. */
	assert_int_equal(fx_store_open(dir_b, w->root, 0, &b), 0);
	{
		/* Copy every record of store A's world (before these) into B in
		 * store order. */
		struct fx_idset all = {NULL, 0};
		struct ls_log_filter f;
		memset(&f, 0, sizeof(f));
		assert_int_equal(ls_store_log(w->s, &f, fx_idset_add, &all), 0);
		for (size_t i = 0; i < all.n; i++) {
			uint8_t *env;
			size_t len;
			struct ls_ingest_result res;
			bool ours = false;
			for (size_t j = 0; j < n; j++)
				ours |= memcmp(all.v[i], e[j].id, 32) == 0;
			if (ours)
				continue;
			assert_int_equal(ls_store_get(w->s, all.v[i], &env, &len), 0);
			assert_int_equal(fx_ingest_one(b, env, len, &res), 0);
			assert_int_equal(res.status, LS_INGEST_ACCEPTED);
			free(env);
		}
		free(all.v);
	}
	for (size_t i = n; i > 0; i--) {
		struct ls_ingest_result res;
		assert_int_equal(fx_ingest_one(b, e[i - 1].buf, e[i - 1].len, &res), 0);
	}
	assert_int_equal(fx_stored_set(w->s, &sa), 0);
	assert_int_equal(fx_stored_set(b, &sb), 0);
	assert_int_equal(sa.n, sb.n);
	assert_memory_equal(sa.v, sb.v, sa.n * 32);
	assert_null(bsearch(e[bad].id, sa.v, sa.n, 32, fx_id_cmp));
	{
		struct ls_store_stats xa, xb;
		assert_int_equal(ls_store_stats(w->s, &xa), 0);
		assert_int_equal(ls_store_stats(b, &xb), 0);
		assert_int_equal(xa.equivocations, 2);
		assert_int_equal(xb.equivocations, 2);
		assert_int_equal(xa.pending, xb.pending);
	}
	assert_int_equal(ls_verify_provenance(w->s, lot, &va), 0);
	assert_int_equal(ls_verify_provenance(b, lot, &vb), 0);
	assert_int_equal(va.kind, LS_V_BROKEN);
	assert_int_equal(vb.kind, va.kind);
	assert_true(world_has_reason(&va, LS_R_EQUIVOCATION));
	assert_true(world_has_reason(&vb, LS_R_EQUIVOCATION));
	ls_verdict_release(&va);
	ls_verdict_release(&vb);
	free(sa.v);
	free(sb.v);
	for (size_t i = 0; i < n; i++)
		fx_env_release(&e[i]);
	ls_store_close(&b);
	fx_rmtree(dir_b);
	free(dir_b);
}

/* ---- dependency-rejected (admission) ---- */

#define DR_MAX 6

/* Ingests e[order[0..n)] in one call: as one local submission (subs NULL),
 * as the submissions subs names, or from a peer (local false). res[k] is
 * the result of e[k], whatever its place in the call. */
static void
dr_ingest(struct world *w, const struct fx_env *e, const size_t *order, size_t n, bool local,
	  const uint32_t *subs, struct ls_ingest_result *res)
{
	const uint8_t *envs[DR_MAX];
	size_t lens[DR_MAX];
	uint8_t admit[DR_MAX];
	struct ls_ingest_result out[DR_MAX];

	assert_true(n <= DR_MAX);
	for (size_t i = 0; i < n; i++) {
		envs[i] = e[order[i]].buf;
		lens[i] = e[order[i]].len;
		admit[i] = LS_ADMIT_LOCAL;
	}
	assert_int_equal(
	    ls_store_ingest_submissions(w->s, envs, lens, local ? admit : NULL, subs, n, out, NULL),
	    0);
	for (size_t i = 0; i < n; i++)
		res[order[i]] = out[i];
}

static struct ls_store_stats
dr_stats(struct world *w)
{
	struct ls_store_stats st;

	assert_int_equal(ls_store_stats(w->s, &st), 0);
	return st;
}

/* res is refused for naming `dep` (and the message says which record). */
static void
dr_expect(const struct ls_ingest_result *res, const uint8_t dep[32], int line)
{
	char hex[65];

	ls_hex(dep, 32, hex);
	if (res->status != LS_INGEST_REJECTED || res->reason != LS_R_DEP_REJECTED ||
	    !res->has_missing || memcmp(res->missing, dep, 32) != 0 ||
	    strstr(res->message, hex) == NULL)
		fail_msg("line %d: status %d reason %s, message '%s'; wanted dependency-rejected "
			 "naming %.16s",
			 line, (int)res->status, ls_reason_code(res->reason), res->message, hex);
}

/*
 * Rule (admission, dependency-rejected): a local client's transfer of a lot
 * whose registration its submission had refused is refused too, in either
 * order, and nothing of the two waits. A peer's transfer still waits.
 *
 * Attack: the lot is registered by the maker, who is no miner (wrong-role,
 * a consensus rule); the transfer comes before or after it in one request.
 */
static void
test_rules_dependency_rejected_lot_and_transfer(void **state)
{
	struct world *w = *state;
	struct fx_env e[2];
	struct ls_ingest_result res[2];
	struct ls_store_stats st0 = dr_stats(w), st;
	static const size_t fwd[] = {0, 1}, back[] = {1, 0};

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	e[0] = fx_lot(w->maker, "no-ore", "Ningbo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->maker, e[0].id, 1000, w->de_imp, NULL, NULL);
	for (int k = 0; k < 2; k++) {
		dr_ingest(w, e, k == 0 ? fwd : back, 2, true, NULL, res);
		assert_int_equal(res[0].status, LS_INGEST_REJECTED);
		assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
		dr_expect(&res[1], e[0].id, __LINE__);
		st = dr_stats(w);
		assert_int_equal(st.pending, st0.pending);
		assert_int_equal(st.records, st0.records);
	}
	/* From a peer: the consensus rules alone, the transfer waits. */
	dr_ingest(w, e, back, 2, false, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_REJECTED);
	assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	dr_ingest(w, e, fwd, 2, false, NULL, res);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	/* A client's submission of the same two does not take the peer's
	 * record out of the pending set. */
	dr_ingest(w, e, fwd, 2, true, NULL, res);
	assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
}

/*
 * Rule: dependency-rejected follows the chain within the submission: a
 * refused lot (A), its transfer (B) and the receiver's receipt of B (C) are
 * all refused, in each of the six orders, C naming B (and A as the cause).
 * From a peer B and C wait.
 */
static void
test_rules_dependency_rejected_chain(void **state)
{
	struct world *w = *state;
	static const size_t perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	struct fx_env e[3];
	struct ls_ingest_result res[3];
	struct ls_store_stats st0 = dr_stats(w), st;
	char hex[17];

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	w->de_imp->ts = FX_T0 + 4 * FX_DAY;
	e[0] = fx_lot(w->maker, "no-ore", "Ningbo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->maker, e[0].id, 1000, w->de_imp, NULL, NULL);
	e[2] = fx_receipt(w->de_imp, e[1].id, 1000);
	ls_hex(e[0].id, 8, hex);
	for (size_t p = 0; p < 6; p++) {
		dr_ingest(w, e, perm[p], 3, true, NULL, res);
		assert_int_equal(res[0].status, LS_INGEST_REJECTED);
		assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
		dr_expect(&res[1], e[0].id, __LINE__);
		dr_expect(&res[2], e[1].id, __LINE__);
		/* The cause, as far as the message has room: A's id prefix. */
		if (strstr(res[2].message, "wrong-role") == NULL ||
		    strstr(res[2].message, hex) == NULL)
			fail_msg("order %zu: '%s' does not name the refused lot", p,
				 res[2].message);
		st = dr_stats(w);
		assert_int_equal(st.pending, st0.pending);
		assert_int_equal(st.records, st0.records);
	}
	dr_ingest(w, e, perm[0], 3, false, NULL, res);
	assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(res[2].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 2);
	for (int i = 0; i < 3; i++)
		fx_env_release(&e[i]);
}

/*
 * Rule: a record naming a refused record is refused although it waits for
 * another record first (its feed predecessor, never sent), and a lot made
 * by a refused transformation counts as refused: its transfer names the
 * transformation.
 */
static void
test_rules_dependency_rejected_output_and_other_wait(void **state)
{
	struct world *w = *state;
	struct ls_lot_input in = {{0}, 100000};
	const char *out[] = {"rich:magnet:100000:Dy=900000"};
	struct fx_env e[2], gap;
	struct ls_ingest_result res[2];
	struct ls_store_stats st0 = dr_stats(w);
	static const size_t fwd[] = {0, 1}, back[] = {1, 0};
	uint8_t lot[32];

	/* 90 kg of Dy out of magnets holding 5 kg: mass-balance. */
	w->maker->ts = FX_T0 + 3 * FX_DAY;
	memcpy(in.lot, w->magnets, 32);
	e[0] = fx_transform(w->maker, &in, 1, out, 1);
	ls_lot_id(e[0].id, 0, lot);
	/* The maker's next record (never sent), then the transfer after it:
	 * the transfer waits for its predecessor before it waits for the lot. */
	gap = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	e[1] = fx_transfer(w->maker, lot, 1000, w->de_imp, NULL, NULL);
	for (int k = 0; k < 2; k++) {
		dr_ingest(w, e, k == 0 ? fwd : back, 2, true, NULL, res);
		assert_int_equal(res[0].status, LS_INGEST_REJECTED);
		assert_int_equal(res[0].reason, LS_R_MASS_BALANCE);
		dr_expect(&res[1], e[0].id, __LINE__);
		assert_int_equal(dr_stats(w).pending, st0.pending);
	}
	dr_ingest(w, e, back, 2, false, NULL, res);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	fx_env_release(&gap);
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
}

/*
 * Rule: dependency-rejected looks at one submission. Attack: another
 * client's request in the same group commit is refused; my transfer of
 * its lot waits as it would have in a commit of its own. Sending the two
 * again in one request refuses the copy but leaves the waiting one waiting
 * (it is another submission's).
 */
static void
test_rules_dependency_rejected_other_submission(void **state)
{
	struct world *w = *state;
	struct fx_env e[2];
	struct ls_ingest_result res[2];
	struct ls_store_stats st0 = dr_stats(w);
	static const size_t fwd[] = {0, 1};
	static const uint32_t subs[] = {7, 8};

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	e[0] = fx_lot(w->maker, "no-ore", "Ningbo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->maker, e[0].id, 1000, w->de_imp, NULL, NULL);
	dr_ingest(w, e, fwd, 2, true, subs, res);
	assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	dr_ingest(w, e, fwd, 2, true, NULL, res);
	assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
}

/*
 * Attack: a client takes another client's waiting record out of the
 * pending set by sending it again with a forged copy of what it waits for
 * (the same body, so the same id, with a bad signature). The forgery is
 * refused, the waiting record keeps waiting, and the real record releases
 * it.
 */
static void
test_rules_dependency_rejected_forged_dependency(void **state)
{
	struct world *w = *state;
	struct fx_env e[2];
	struct ls_ingest_result res[2];
	struct ls_store_stats st0 = dr_stats(w);
	static const size_t t_only[] = {1}, both[] = {0, 1};
	uint8_t *good;

	w->miner->ts = FX_T0 + 3 * FX_DAY;
	e[0] = fx_lot(w->miner, "ore-2", "Bayan Obo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->miner, e[0].id, 10, w->maker, NULL, NULL);
	dr_ingest(w, e, t_only, 1, true, NULL, res);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	good = malloc(e[0].len);
	assert_non_null(good);
	memcpy(good, e[0].buf, e[0].len);
	e[0].buf[e[0].len - 1] ^= 0x01; /* the signature's last byte */
	dr_ingest(w, e, both, 2, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_REJECTED);
	assert_int_equal(res[0].reason, LS_R_BAD_SIGNATURE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 1);
	/* The real lot releases it. */
	memcpy(e[0].buf, good, e[0].len);
	free(good);
	dr_ingest(w, e, both, 1, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(dr_stats(w).pending, st0.pending);
	assert_int_equal(dr_stats(w).records, st0.records + 2);
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
	/* In its own submission a forged record does refuse the transfer
	 * that names it. */
	e[0] = fx_lot(w->miner, "ore-3", "Bayan Obo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->miner, e[0].id, 10, w->maker, NULL, NULL);
	e[0].buf[e[0].len - 1] ^= 0x01;
	dr_ingest(w, e, both, 2, true, NULL, res);
	assert_int_equal(res[0].reason, LS_R_BAD_SIGNATURE);
	dr_expect(&res[1], e[0].id, __LINE__);
	assert_int_equal(dr_stats(w).pending, st0.pending);
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
}

/*
 * Rule: a record of the submission released by a later one and refused
 * then (admission: the transfer needs an export license) is reported
 * refused, not "pending", and the receipt parked on it is refused too.
 */
static void
test_rules_dependency_rejected_after_release(void **state)
{
	struct world *w = *state;
	struct fx_env e[3];
	struct ls_ingest_result res[3];
	struct ls_store_stats st0 = dr_stats(w), st;
	static const size_t order[] = {1, 2, 0};

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	w->us->ts = FX_T0 + 4 * FX_DAY;
	e[0] = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	e[1] = fx_transfer(w->maker, w->magnets, 10, w->us, NULL, NULL);
	e[2] = fx_receipt(w->us, e[1].id, 10);
	dr_ingest(w, e, order, 3, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[1].reason, LS_R_NO_LICENSE);
	dr_expect(&res[2], e[1].id, __LINE__);
	st = dr_stats(w);
	assert_int_equal(st.pending, st0.pending);
	assert_int_equal(st.records, st0.records + 1);
	for (int i = 0; i < 3; i++)
		fx_env_release(&e[i]);
}

/* Whether id is stored (the ledger holds it; not pending). */
static bool
dr_stored(struct world *w, const uint8_t id[32])
{
	uint8_t *env = NULL;
	size_t len = 0;
	int rc = ls_store_get(w->s, id, &env, &len);

	free(env);
	if (rc != 0 && rc != LS_ERR_NOT_FOUND)
		fail_msg("ls_store_get: %s", ls_strerror(rc));
	return rc == 0;
}

/* A copy of e whose signature's last byte is flipped: the same body, so the
 * same id, and a bad signature. */
static struct fx_env
dr_forge(const struct fx_env *e)
{
	struct fx_env f = *e;

	f.buf = malloc(e->len);
	assert_non_null(f.buf);
	memcpy(f.buf, e->buf, e->len);
	f.buf[f.len - 1] ^= 0x01;
	return f;
}

/*
 * Rule: a refused id makes its dependants dependency-rejected only if no
 * record of that id is stored (or waiting) by the end of the submission.
 * Attack on the verdict: the submission [forged X (bad signature, X's id),
 * Y naming X, genuine X] once refused Y for naming "refused" X although the
 * genuine X was accepted in the same submission. In each of the six orders
 * of the three: the forgery is not stored (refused as bad-signature, or
 * known when genuine X came first), X and Y are both stored, Y is not
 * refused, and nothing is left waiting.
 */
static void
test_rules_dependency_rejected_forged_then_genuine(void **state)
{
	struct world *w = *state;
	static const size_t perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
					  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	struct ls_store_stats st0 = dr_stats(w), st;

	w->miner->ts = FX_T0 + 3 * FX_DAY;
	for (size_t p = 0; p < 6; p++) {
		struct fx_env e[3];
		struct ls_ingest_result res[3];
		char label[32];
		snprintf(label, sizeof(label), "ore-fg-%zu", p);
		e[2] = fx_lot(w->miner, label, "Bayan Obo", "CN", "ore", 1000, "Dy=50000");
		e[1] = fx_transfer(w->miner, e[2].id, 10, w->maker, NULL, NULL);
		e[0] = dr_forge(&e[2]);
		dr_ingest(w, e, perm[p], 3, true, NULL, res);
		/* A copy of a stored id is known whatever its signature bytes
		 * (attempt()): the forgery sent after genuine X is "already
		 * stored", before it refused. Either way it is not stored. */
		size_t pos_x = 0, pos_forged = 0;
		for (size_t i = 0; i < 3; i++) {
			if (perm[p][i] == 2)
				pos_x = i;
			if (perm[p][i] == 0)
				pos_forged = i;
		}
		bool after_x = pos_x < pos_forged;
		if (after_x ? res[0].status != LS_INGEST_KNOWN
			    : res[0].status != LS_INGEST_REJECTED ||
				  res[0].reason != LS_R_BAD_SIGNATURE)
			fail_msg("order %zu: the forgery: status %d %s '%s'", p, (int)res[0].status,
				 ls_reason_code(res[0].reason), res[0].message);
		if (res[2].status != LS_INGEST_ACCEPTED)
			fail_msg("order %zu: genuine X: status %d %s '%s'", p, (int)res[2].status,
				 ls_reason_code(res[2].reason), res[2].message);
		/* Y came before X: told "pending", released by X in the call. */
		if (res[1].status == LS_INGEST_REJECTED)
			fail_msg("order %zu: Y refused: %s '%s'", p, ls_reason_code(res[1].reason),
				 res[1].message);
		assert_true(dr_stored(w, e[2].id));
		assert_true(dr_stored(w, e[1].id));
		st = dr_stats(w);
		assert_int_equal(st.pending, st0.pending);
		assert_int_equal(st.records, st0.records + 2 * (p + 1));
		for (int i = 0; i < 3; i++)
			fx_env_release(&e[i]);
	}
}

/*
 * Rule: a dependant of a refused id keeps waiting when a record of that id
 * is itself waiting at the end of the submission (it may yet come): the
 * forged X, Y naming X, and the genuine X, which waits for its feed
 * predecessor P (not sent). Y is not refused; P, sent later, brings in both.
 */
static void
test_rules_dependency_rejected_genuine_waiting(void **state)
{
	struct world *w = *state;
	struct fx_env p, e[3];
	struct ls_ingest_result res[3];
	struct ls_store_stats st0 = dr_stats(w);
	static const size_t order[] = {0, 1, 2}, p_only[] = {0};

	w->miner->ts = FX_T0 + 3 * FX_DAY;
	p = fx_lot(w->miner, "ore-p", "Bayan Obo", "CN", "ore", 1000, "Dy=50000");
	e[2] = fx_lot(w->miner, "ore-x", "Bayan Obo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->miner, e[2].id, 10, w->maker, NULL, NULL);
	e[0] = dr_forge(&e[2]);
	dr_ingest(w, e, order, 3, true, NULL, res);
	assert_int_equal(res[0].reason, LS_R_BAD_SIGNATURE);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(res[2].status, LS_INGEST_PENDING);
	assert_int_equal(dr_stats(w).pending, st0.pending + 2);
	dr_ingest(w, &p, p_only, 1, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_true(dr_stored(w, e[2].id));
	assert_true(dr_stored(w, e[1].id));
	assert_int_equal(dr_stats(w).pending, st0.pending);
	fx_env_release(&p);
	for (int i = 0; i < 3; i++)
		fx_env_release(&e[i]);
}

/*
 * Rule: every copy of a dependant in the submission gets its verdict.
 * Attack: Y is sent twice around a refused lot X, so that the second copy
 * finds the first waiting ("already waiting") and would be told "pending"
 * although the first is refused and leaves the pending set. Both copies are
 * dependency-rejected, in each order.
 */
static void
test_rules_dependency_rejected_twice_sent(void **state)
{
	struct world *w = *state;
	static const size_t perm[3][3] = {{0, 1, 2}, {1, 0, 2}, {1, 2, 0}};
	struct fx_env e[3];
	struct ls_ingest_result res[3];
	struct ls_store_stats st0 = dr_stats(w), st;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	e[0] = fx_lot(w->maker, "no-ore", "Ningbo", "CN", "ore", 1000, "Dy=50000");
	e[1] = fx_transfer(w->maker, e[0].id, 1000, w->de_imp, NULL, NULL);
	e[2] = e[1];
	for (size_t p = 0; p < 3; p++) {
		dr_ingest(w, e, perm[p], 3, true, NULL, res);
		assert_int_equal(res[0].reason, LS_R_WRONG_ROLE);
		dr_expect(&res[1], e[0].id, __LINE__);
		dr_expect(&res[2], e[0].id, __LINE__);
		st = dr_stats(w);
		assert_int_equal(st.pending, st0.pending);
		assert_int_equal(st.records, st0.records);
	}
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
}

/*
 * Rule (consensus first): a record a peer sent waits, whatever a local
 * submission in the same call refuses. Attack: a client sends [refused lot
 * X, transfer Y of X] while a peer's copy of Y arrives in the same group
 * commit (before the client's Y, after it, or after both): the client's
 * copy is not refused out of the pending set from under the peer's. The
 * same for another client's submission of Y. Each round signs a fresh X
 * and Y at the same seqs.
 */
static void
test_rules_dependency_rejected_peer_copy(void **state)
{
	struct world *w = *state;
	struct ls_store_stats st0 = dr_stats(w);
	/* The order of the call: 0 the client's X, 1 its Y, 2 the other's Y. */
	static const size_t order[3][3] = {{2, 0, 1}, {0, 1, 2}, {1, 2, 0}};
	struct fx_mark m;
	uint64_t rounds = 0;

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	m = fx_mark(w->maker);
	for (int other_local = 0; other_local < 2; other_local++)
		for (size_t p = 0; p < 3; p++) {
			struct fx_env e[2];
			const uint8_t *envs[3];
			size_t lens[3];
			uint8_t admit[3];
			uint32_t subs[3];
			struct ls_ingest_result out[3];
			char label[32];
			snprintf(label, sizeof(label), "no-ore-%d-%zu", other_local, p);
			e[0] = fx_lot(w->maker, label, "Ningbo", "CN", "ore", 1000, "Dy=50000");
			e[1] = fx_transfer(w->maker, e[0].id, 1000, w->de_imp, NULL, NULL);
			fx_rewind(w->maker, &m);
			for (size_t i = 0; i < 3; i++) {
				size_t k = order[p][i];
				envs[i] = e[k < 2 ? k : 1].buf;
				lens[i] = e[k < 2 ? k : 1].len;
				admit[i] = k < 2 || other_local ? LS_ADMIT_LOCAL : LS_ADMIT_PEER;
				subs[i] = k < 2 ? 1 : 2;
			}
			assert_int_equal(ls_store_ingest_submissions(w->s, envs, lens, admit, subs,
								     3, out, NULL),
					 0);
			rounds++;
			/* One Y waits for X (X is never coming). */
			if (dr_stats(w).pending != st0.pending + rounds)
				fail_msg("other %s, order %zu: %llu waiting, want %llu",
					 other_local ? "client" : "peer", p,
					 (unsigned long long)dr_stats(w).pending,
					 (unsigned long long)(st0.pending + rounds));
			for (size_t i = 0; i < 3; i++) {
				enum ls_ingest_status want =
				    order[p][i] == 0 ? LS_INGEST_REJECTED : LS_INGEST_PENDING;
				if (out[i].status != want)
					fail_msg("other %s, order %zu: envelope %zu: status %d %s "
						 "'%s', want %d",
						 other_local ? "client" : "peer", p, order[p][i],
						 (int)out[i].status, ls_reason_code(out[i].reason),
						 out[i].message, (int)want);
			}
			fx_env_release(&e[0]);
			fx_env_release(&e[1]);
		}
}

/*
 * Rule (consensus first): a record a peer sent is held by the consensus
 * rules, even when a local client sent it first. Attack: a client's
 * shipment to the US without an export license (admission refuses it:
 * no-license; the consensus rules take it) waits for the maker's previous
 * record; a peer sends the same shipment while it waits. When the previous
 * record comes, the shipment is stored, as on a node that had it from the
 * peer alone. Without the peer's copy it is refused at its release
 * (admission) and not stored.
 */
static void
test_rules_peer_copy_of_waiting_local(void **state)
{
	struct world *w = *state;
	struct fx_env p, t;
	struct ls_ingest_result res[1];
	struct ls_store_stats st0 = dr_stats(w);
	static const size_t one[] = {0};

	w->maker->ts = FX_T0 + 3 * FX_DAY;
	p = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	t = fx_transfer(w->maker, w->magnets, 10, w->us, NULL, NULL);
	dr_ingest(w, &t, one, 1, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	dr_ingest(w, &t, one, 1, false, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	dr_ingest(w, &p, one, 1, false, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_true(dr_stored(w, t.id));
	assert_int_equal(dr_stats(w).pending, st0.pending);
	fx_env_release(&p);
	fx_env_release(&t);
	/* The client's alone: admission refuses it when it is released. */
	p = fx_transfer(w->maker, w->magnets, 1, w->miner, NULL, NULL);
	t = fx_transfer(w->maker, w->magnets, 10, w->us, NULL, NULL);
	dr_ingest(w, &t, one, 1, true, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	dr_ingest(w, &p, one, 1, false, NULL, res);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_false(dr_stored(w, t.id));
	assert_int_equal(dr_stats(w).pending, st0.pending);
	fx_env_release(&p);
	fx_env_release(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rules_foreign_policy_refused, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_foreign_certificate_refused, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_listed_jurisdictions, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_revocation_scope, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_anchor_self_revocation, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_license_from_wrong_authority, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_reexport_ban_not_laundered, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_backdated_receipt, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_backdated_validity, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_future_dated, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_pending_quota, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_equivocation_same_ledger, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_lot_and_transfer,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_chain, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_output_and_other_wait,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_other_submission,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_forged_dependency,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_after_release,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_forged_then_genuine,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_genuine_waiting,
					    world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_twice_sent, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_dependency_rejected_peer_copy, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_rules_peer_copy_of_waiting_local, world_setup,
					    world_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
