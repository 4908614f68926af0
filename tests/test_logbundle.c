/*
 * test_logbundle.c - trusted time and complete bundles (lib/logproof.c,
 * ls_bundle_collect_log, ls_record_time): a node's log with checkpoints
 * signed by a log key and cosigned by witnesses (real keys, real LMDB), the
 * logged times they give, and bundles proven in them, checked as
 * verify-bundle checks them: in a store of its own (the library calls) and
 * with the client itself (LODESTONE_BIN) for its flags and exit codes.
 *
 * The world is helper_world's: a root anchor certifies China's and
 * Germany's authorities, China's a miner and a magnet maker; the maker's
 * magnets go to a German importer under a Chinese license.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "helper_world.h"
#include "kind.h"
#include "logproof.h"
#include "note.h"
#include "store_int.h"
#include "util.h"
#include "verify_int.h"

#include "helper_logworld.h"
struct vb {
	struct ls_verdict v;
	struct ls_lp_report rep;
	size_t unapplied;
};

static void
vb_release(struct vb *x)
{
	ls_verdict_release(&x->v);
	ls_lp_report_release(&x->rep);
}

/* Loads the bundle into a store of its own, checks its log proof under the
 * first n_wit witnesses (quorum 0: majority), dates, verifies lot. */
static void
vbundle(struct lw *l, const uint8_t *buf, size_t len, size_t n_wit, size_t quorum,
	const uint8_t lot[32], struct vb *out)
{
	struct ls_lp_policy pol = {l->wit, n_wit, quorum, ls_now(), 0};
	struct ls_verdict faults;
	struct ls_store *bs = NULL;
	struct ls_ingest_result *res;
	struct ls_logproof lp;
	const uint8_t **envs = NULL, *lpb;
	size_t *lens = NULL, n = 0, lpl, nd = 0;
	uint8_t(*ids)[32];
	uint64_t *dt;
	char *dir = fx_tmpdir();
	int rc;

	memset(out, 0, sizeof(*out));
	ls_verdict_init(&faults);
	assert_non_null(dir);
	assert_int_equal(fx_bundle_store_open(dir, l->w->root, &bs), 0);
	assert_int_equal(ls_bundle_decode(buf, len, 1000000, &envs, &lens, &n, NULL), 0);
	res = calloc(n, sizeof(*res));
	ids = calloc(n, 32);
	dt = calloc(n, sizeof(*dt));
	assert_true(res != NULL && ids != NULL && dt != NULL);
	assert_int_equal(ls_store_ingest(bs, envs, lens, n, res, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		struct ls_record *r = NULL;
		if (res[i].status == LS_INGEST_PENDING &&
		    ls_store_get_record(bs, res[i].id, &r) == 0)
			res[i].status = LS_INGEST_ACCEPTED;
		ls_record_free(r);
		if (res[i].status == LS_INGEST_PENDING || res[i].status == LS_INGEST_REJECTED) {
			out->unapplied++;
			assert_int_equal(ls_verdict_add(&faults, LS_R_MISSING_DEP,
							(const uint8_t(*)[32])res[i].missing,
							res[i].has_missing ? 1 : 0,
							"bundle record %zu could not be applied",
							i),
					 0);
		}
		memcpy(ids[i], res[i].id, 32);
	}
	assert_int_equal(ls_bundle_log(buf, len, &lpb, &lpl), 0);
	assert_int_equal(ls_logproof_decode(lpb, lpl, &lp, NULL), 0);
	assert_int_equal(
	    ls_logproof_check(&lp, (const uint8_t(*)[32])ids, n, &pol, &out->rep, &faults), 0);
	if (out->rep.signed_ok)
		assert_int_equal(ls_logproof_feeds(bs, &lp, &out->rep, &faults), 0);
	for (size_t i = 0; i < n; i++)
		if (out->rep.logged[i] != 0 && res[i].status == LS_INGEST_ACCEPTED) {
			memcpy(ids[nd], res[i].id, 32);
			dt[nd++] = out->rep.logged[i];
		}
	assert_int_equal(ls_store_dates_put_n(bs, (const uint8_t(*)[32])ids, dt, nd), 0);
	rc = ls_verify_provenance(bs, lot, &out->v);
	if (rc == LS_ERR_NOT_FOUND) { /* its making record was not applied */
		ls_verdict_init(&out->v);
		out->v.kind = LS_V_BROKEN;
		assert_int_equal(ls_verdict_add(&out->v, LS_R_UNKNOWN_LOT,
						(const uint8_t(*)[32])lot, 1, "lot not proven"),
				 0);
	} else {
		assert_int_equal(rc, 0);
	}
	for (size_t i = 0; i < faults.n; i++) {
		struct ls_verdict_reason *r = &faults.reasons[i];
		assert_int_equal(ls_verdict_add(&out->v, r->code, (const uint8_t(*)[32])r->ids,
						r->n_ids, "%s", r->message),
				 0);
		out->v.reasons[out->v.n - 1].warning = r->warning;
		if (!r->warning)
			out->v.kind = LS_V_BROKEN;
	}
	ls_verdict_release(&faults);
	ls_logproof_release(&lp);
	ls_store_close(&bs);
	fx_rmtree(dir);
	free(dir);
	free(envs);
	free(lens);
	free(res);
	free(ids);
	free(dt);
}

/* The fault of code whose message holds what (or any, what NULL); NULL. */
static const struct ls_verdict_reason *
fault(const struct ls_verdict *v, enum ls_reason code, const char *what, bool warning)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code && v->reasons[i].warning == warning &&
		    (what == NULL || strstr(v->reasons[i].message, what) != NULL))
			return &v->reasons[i];
	return NULL;
}

static bool
names(const struct ls_verdict_reason *r, const uint8_t id[32])
{
	for (size_t i = 0; r != NULL && i < r->n_ids; i++)
		if (memcmp(r->ids[i], id, 32) == 0)
			return true;
	return false;
}

/* ---- tests ---- */

/* The reason of code naming record id, or NULL. */
static const struct ls_verdict_reason *
fault_naming(const struct ls_verdict *v, enum ls_reason code, const uint8_t id[32])
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code && names(&v->reasons[i], id))
			return &v->reasons[i];
	return NULL;
}

/*
 * Logged time at question time: a key revoked at R whose record claims a
 * time before R but was first logged (witnessed) after R is revoked, on the
 * node and in its bundle; before that checkpoint reached quorum the same
 * record is valid and unwitnessed.
 */
static void
test_revoked_by_logged_time(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct ls_verdict v;
	const struct ls_verdict_reason *r;
	struct fx_env lot, rev;
	struct vb x;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t R = FX_T0 + 10 * FX_DAY, cp;

	/* Everything of setup is logged within the hour: valid, witnessed. */
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_VALID);
	assert_null(fault(&v, LS_R_UNWITNESSED, NULL, true));
	assert_null(fault(&v, LS_R_BACKDATED, NULL, false));
	ls_verdict_release(&v);

	/* The miner registers a lot at R - 30 min; China revokes its key at R;
	 * the lot reaches a checkpoint at R + 10 min. */
	w->miner->ts = R - 1800;
	lot = fx_lot(w->miner, "late-ore", "Bayan Obo", "CN", "ore", 1000, "Dy=1000");
	STORED(w, lot);
	w->cn_auth->ts = R;
	rev = fx_revoke(w->cn_auth, w->miner->kp->pk, R);
	STORED(w, rev);
	cp = checkpoint(l, N_WIT, R + 590, false);
	/* Not witnessed yet: judged on its claimed time, and said so. */
	assert_int_equal(world_provenance(w->s, lot.id, &v), LS_V_VALID);
	r = fault(&v, LS_R_UNWITNESSED, NULL, true);
	assert_non_null(r);
	assert_true(names(r, lot.id));
	assert_string_equal(ls_reason_code(r->code), "unwitnessed");
	ls_verdict_release(&v);
	/* The checkpoint reaches quorum at R + 10 min: revoked. */
	assert_int_equal(ls_store_quorum_put(w->s, cp, R + 600), 0);
	if (world_provenance(w->s, lot.id, &v) != LS_V_BROKEN)
		world_dump("late lot", &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	r = fault(&v, LS_R_REVOKED, "was logged at", false);
	assert_non_null(r);
	assert_true(names(r, rev.id));
	assert_null(fault(&v, LS_R_BACKDATED, NULL, false));
	ls_verdict_release(&v);
	/* The magnets stay valid: logged before R. */
	assert_int_equal(world_provenance(w->s, w->magnets, &v), LS_V_VALID);
	ls_verdict_release(&v);

	/* The same verdict from its bundle, with the witnesses. */
	assert_int_equal(ls_bundle_collect_log(w->s, lot.id, l->log_text, 0, &buf, &len), 0);
	vbundle(l, buf, len, N_WIT, 0, lot.id, &x);
	if (x.v.kind != LS_V_BROKEN || fault(&x.v, LS_R_REVOKED, "was logged at", false) == NULL)
		world_dump("late lot, bundle", &x.v);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_REVOKED, "was logged at", false));
	assert_true(x.rep.witnessed);
	assert_int_equal(x.rep.qtime, R + 600);
	vb_release(&x);
	/* Without witnesses the bundle proves no time: valid, unwitnessed. */
	vbundle(l, buf, len, 0, 0, lot.id, &x);
	assert_int_equal(x.v.kind, LS_V_VALID);
	assert_non_null(fault(&x.v, LS_R_UNWITNESSED, "not witnessed", true));
	vb_release(&x);
	free(buf);
	fx_env_release(&lot);
	fx_env_release(&rev);
}

/* A record whose claimed time is days before its logged time is
 * backdated, on the node and in its bundle. */
static void
test_backdated(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct fx_actor *m2 = fx_actor_new("CN");
	struct ls_verdict v;
	const struct ls_verdict_reason *r;
	struct fx_env cert, lot;
	struct vb x;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_non_null(m2);
	w->cn_auth->ts = FX_T0 + FX_DAY;
	cert = fx_cert(w->cn_auth, m2, "Late Mine", "CN", LS_ROLE_MINER, 0, 0);
	STORED(w, cert);
	checkpoint(l, N_WIT, FX_T0 + FX_DAY + 60, true);
	/* Claims day 1 too; first seen, and logged, on day 4. */
	m2->ts = FX_T0 + FX_DAY + 120;
	lot = fx_lot(m2, "backdated-ore", "Late Mine", "CN", "ore", 10, "Nd=10");
	STORED(w, lot);
	checkpoint(l, N_WIT, FX_T0 + 4 * FX_DAY, true);
	assert_int_equal(world_provenance(w->s, lot.id, &v), LS_V_BROKEN);
	r = fault_naming(&v, LS_R_BACKDATED, lot.id);
	if (r == NULL)
		world_dump("backdated", &v);
	assert_non_null(r);
	assert_string_equal(ls_reason_code(r->code), "backdated");
	assert_non_null(strstr(r->message, "claims"));
	/* Its certificate was logged on time. */
	assert_null(fault_naming(&v, LS_R_BACKDATED, cert.id));
	ls_verdict_release(&v);
	assert_int_equal(ls_bundle_collect_log(w->s, lot.id, l->log_text, 0, &buf, &len), 0);
	vbundle(l, buf, len, N_WIT, 2, lot.id, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault_naming(&x.v, LS_R_BACKDATED, lot.id));
	vb_release(&x);
	free(buf);
	fx_env_release(&cert);
	fx_env_release(&lot);
	fx_actor_free(&m2);
}

/* A witnessed bundle checks: every record proven, the authority feeds to
 * their heads, the checkpoint named; the records of an earlier checkpoint
 * are dated by it. */
static void
test_bundle_witnessed(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct vb x;
	struct parts p;
	uint8_t *buf = NULL;
	size_t len = 0;
	char st[512];
	uint64_t s2;
	struct fx_env e;
	struct fx_policy_spec ps = {
	    .name = "CN 2026", .effective_from = FX_T0 + 20 * FX_DAY, .elements = "Dy"};

	/* A later policy of China's: the authority's head moves on. */
	w->cn_auth->ts = FX_T0 + 7 * FX_DAY;
	e = fx_policy(w->cn_auth, &ps);
	STORED(w, e);
	fx_env_release(&e);
	s2 = checkpoint(l, N_WIT, FX_T0 + 7 * FX_DAY + 60, true);
	assert_true(s2 > l->s1);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	/* Against the latest quorum checkpoint; the old records dated by s1. */
	assert_int_equal(p.lp.n_dating, 1);
	assert_int_equal(p.lp.records[0].dating, 1);
	assert_int_equal(p.lp.records[p.n - 1].dating, 0);
	/* Head proofs: the root anchor, China's and Germany's authorities. */
	assert_int_equal(p.lp.n_heads, 3);
	vbundle(l, buf, len, N_WIT, 0, w->magnets, &x);
	if (x.v.kind != LS_V_VALID)
		world_dump("witnessed bundle", &x.v);
	assert_int_equal(x.v.kind, LS_V_VALID);
	assert_int_equal(x.unapplied, 0);
	assert_true(x.rep.witnessed);
	assert_int_equal(x.rep.size, s2);
	assert_int_equal(x.rep.logged[0], FX_T0 + 3000);
	assert_int_equal(x.rep.logged[p.n - 1], FX_T0 + 7 * FX_DAY + 70);
	ls_lp_statement(&x.rep, st, sizeof(st));
	assert_non_null(strstr(st, "cosigned by"));
	assert_non_null(strstr(st, l->wit[0].name));
	assert_non_null(strstr(st, l->wit[2].name));
	assert_non_null(strstr(st, l->log.name));
	vb_release(&x);
	/* A quorum of 3 of the first two witnesses cannot be met. */
	vbundle(l, buf, len, 2, 3, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_UNWITNESSED, "short of the quorum of 3", false));
	vb_release(&x);
	/* The node's own verdict is the same. */
	parts_release(&p);
	free(buf);
}

/* Each kind of omission fails with a reason naming what was left out. */
static void
test_bundle_omissions(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct parts p;
	struct vb x;
	struct fx_env rev;
	uint8_t *buf = NULL, *cut = NULL, ids[32];
	size_t len = 0, clen = 0;
	const struct ls_verdict_reason *r;
	struct {
		const char *what;
		const uint8_t *id;
		enum ls_reason code;
		const uint8_t *named; /* the record the reason must name */
	} cases[6];
	uint8_t dy_reg[32];
	struct ls_record *own = ls_record_new(LS_REC_OWNERSHIP);
	struct fx_env owne;

	/* The root revokes nothing of the chain, but its feed ends with a
	 * revocation: the head proof names it. */
	w->root->ts = FX_T0 + 6 * FX_DAY;
	memset(ids, 7, 32);
	rev = fx_revoke(w->root, ids, FX_T0 + 6 * FX_DAY);
	STORED(w, rev);
	/* China's authority's feed ends with an ownership statement: a holder
	 * who would rather the bundle did not extend a denial leaves it out. */
	assert_non_null(own);
	own->ownership.owner = "US Motors";
	own->ownership.subsidiary = "US Motors Fleet";
	own->ownership.share_ppm = 600000;
	memcpy(own->ownership.jurisdiction, "CN", 3);
	w->cn_auth->ts = FX_T0 + 6 * FX_DAY;
	assert_int_equal(fx_sign(w->cn_auth, own, &owne), 0);
	ls_record_free(own);
	STORED(w, owne);
	checkpoint(l, N_WIT, FX_T0 + 6 * FX_DAY + 60, true);
	/* Control: the whole bundle checks. */
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);
	vbundle(l, buf, len, N_WIT, 0, w->magnets, &x);
	if (x.v.kind != LS_V_VALID)
		world_dump("whole bundle", &x.v);
	assert_int_equal(x.v.kind, LS_V_VALID);
	vb_release(&x);
	free(buf);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);
	memcpy(dy_reg, w->dy_lot, 32);
	cases[0].what = "the root's last record (a revocation)";
	cases[0].id = rev.id;
	cases[0].code = LS_R_MISSING_DEP;
	cases[0].named = rev.id;
	cases[1].what = "China's policy";
	cases[1].id = w->cn_policy;
	cases[1].code = LS_R_MISSING_DEP;
	cases[1].named = w->cn_policy;
	cases[2].what = "the license the export uses";
	cases[2].id = l->license;
	cases[2].code = LS_R_MISSING_DEP;
	cases[2].named = l->license;
	cases[3].what = "the export (a use of the license)";
	cases[3].id = l->export;
	cases[3].code = LS_R_MISSING_DEP;
	cases[3].named = l->export;
	cases[4].what = "the registration of the alloy (a record of the chain)";
	cases[4].id = dy_reg;
	cases[4].code = LS_R_MISSING_DEP;
	cases[4].named = dy_reg;
	cases[5].what = "China's ownership record";
	cases[5].id = owne.id;
	cases[5].code = LS_R_MISSING_DEP;
	cases[5].named = owne.id;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int i;
		parts_of(memcpy(malloc(len), buf, len), len, &p);
		i = index_of(&p, cases[k].id);
		assert_true(i >= 0);
		reencode(&p, i, w->magnets, &cut, &clen);
		vbundle(l, cut, clen, N_WIT, 0, w->magnets, &x);
		r = fault(&x.v, cases[k].code, NULL, false);
		if (x.v.kind != LS_V_BROKEN || r == NULL ||
		    (cases[k].named != NULL && !names(r, cases[k].named))) {
			fprintf(stderr, "omission: %s\n", cases[k].what);
			world_dump("cut bundle", &x.v);
		}
		assert_int_equal(x.v.kind, LS_V_BROKEN);
		assert_non_null(r);
		if (cases[k].named != NULL)
			assert_true(names(r, cases[k].named));
		vb_release(&x);
		free(cut);
		parts_release(&p);
	}
	/* The head proof: the root's feed is carried to seq N - 1 only. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	reencode(&p, index_of(&p, rev.id), w->magnets, &cut, &clen);
	vbundle(l, cut, clen, N_WIT, 0, w->magnets, &x);
	assert_non_null(fault(&x.v, LS_R_MISSING_DEP, "are left out", false));
	vb_release(&x);
	free(cut);
	parts_release(&p);
	free(buf);
	fx_env_release(&rev);
	fx_env_release(&owne);
}

/* Each kind of tampering fails with a reason naming it. */
static void
test_bundle_tampering(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct parts p;
	struct vb x;
	uint8_t *buf = NULL, *bad = NULL;
	size_t len = 0, blen = 0;
	struct fx_env e;
	char *s;

	/* A later record, so that the bundle's checkpoint dates the older ones
	 * by setup's. */
	{
		struct fx_policy_spec ps = {
		    .name = "later", .effective_from = FX_T0 + 30 * FX_DAY, .elements = "Tb"};
		w->cn_auth->ts = FX_T0 + 8 * FX_DAY;
		e = fx_policy(w->cn_auth, &ps);
		STORED(w, e);
		fx_env_release(&e);
	}
	checkpoint(l, N_WIT, FX_T0 + 8 * FX_DAY + 60, true);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);

	/* An inclusion proof hash. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	p.lp.records[2].proof.h[0][5] ^= 1;
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "bundle record 2 (", false));
	vb_release(&x);
	free(bad);
	parts_release(&p);

	/* The checkpoint body: another root. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	s = strchr(strchr(p.lp.checkpoint, '\n') + 1, '\n') + 1; /* the root line */
	s[3] = s[3] == 'A' ? 'B' : 'A';
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "checkpoint (size", false));
	vb_release(&x);
	free(bad);
	parts_release(&p);

	/* A cosignature: the first witness's line. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	s = strstr(p.lp.checkpoint, l->wit[0].name);
	assert_non_null(s);
	s += strlen(l->wit[0].name) + 12;
	*s = *s == 'A' ? 'B' : 'A';
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, l->wit[0].name, false));
	/* The other two still make the quorum. */
	assert_true(x.rep.witnessed);
	vb_release(&x);
	free(bad);
	parts_release(&p);

	/* A head proof. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	assert_true(p.lp.n_heads > 0);
	p.lp.heads[0].seq++;
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "head proof of author", false));
	vb_release(&x);
	free(bad);
	parts_release(&p);

	/* A dating checkpoint. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	assert_int_equal(p.lp.n_dating, 1);
	s = strchr(p.lp.dating[0], '\n') + 1; /* the size line */
	*s = *s == '9' ? '8' : (char)(*s + 1);
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "dating checkpoint 1", false));
	vb_release(&x);
	free(bad);
	parts_release(&p);

	/* A dating inclusion. */
	parts_of(memcpy(malloc(len), buf, len), len, &p);
	assert_int_equal(p.lp.records[1].dating, 1);
	p.lp.records[1].dating_proof.h[0][0] ^= 0x80;
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "dating checkpoint 1 (size", false));
	vb_release(&x);
	free(bad);
	parts_release(&p);
	free(buf);
}

/* A note signed by the log key for (size, root). *out malloc'd. */
static size_t
signed_note(struct lw *l, uint64_t size, const uint8_t root[32], char **out)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	struct ls_checkpoint c;
	size_t len;

	assert_non_null(n);
	assert_non_null(*out = malloc(LS_NOTE_MAX));
	snprintf(c.origin, sizeof(c.origin), "%s", l->log.name);
	c.size = size;
	memcpy(c.root, root, 32);
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	assert_int_equal(ls_note_sign(n, l->log.name, l->log_sk), 0);
	assert_true((len = ls_note_format(n, *out, LS_NOTE_MAX)) > 0);
	free(n);
	return len;
}

/* Split-view evidence of the bundle's log (two checkpoints of one size the
 * log key signed with different roots) fails the bundle; evidence of no
 * split (one checkpoint twice) is not a split view. */
static void
test_split_view(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct parts p;
	struct vb x;
	struct ls_lp_split sv;
	uint8_t *buf = NULL, *bad = NULL, root[32], msg[2 * LS_NOTE_MAX + 16];
	char *a = NULL, *b = NULL;
	size_t len = 0, blen = 0, la, lb, ml = 0;

	assert_int_equal(ls_store_log_root(w->s, l->s1, root), 0);
	la = signed_note(l, l->s1, root, &a);
	root[0] ^= 1;
	lb = signed_note(l, l->s1, root, &b);
	/* As a daemon keeps it: the SplitView message. */
	msg[ml++] = 0x0a;
	msg[ml++] = (uint8_t)(0x80 | (la & 0x7f));
	msg[ml++] = (uint8_t)(la >> 7);
	memcpy(msg + ml, a, la);
	ml += la;
	msg[ml++] = 0x12;
	msg[ml++] = (uint8_t)(0x80 | (lb & 0x7f));
	msg[ml++] = (uint8_t)(lb >> 7);
	memcpy(msg + ml, b, lb);
	ml += lb;
	assert_true(la >= 128 && la < 16384 && lb >= 128 && lb < 16384);
	assert_int_equal(ls_lp_split_decode(msg, ml, &sv, NULL), 0);
	assert_int_equal(sv.la, la);
	assert_memory_equal(sv.note_b, b, lb);
	{
		struct ls_lp_split cut;
		assert_int_equal(ls_lp_split_decode(msg, ml - 1, &cut, NULL), LS_ERR_MALFORMED);
		assert_null(cut.note_a);
	}

	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);
	parts_of(buf, len, &p);
	free(p.lp.splits);
	assert_non_null(p.lp.splits = calloc(2, sizeof(*p.lp.splits)));
	assert_int_equal(ls_lp_split_decode(msg, ml, &p.lp.splits[0], NULL), 0);
	p.lp.n_splits = 1;
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_SPLIT_VIEW, l->log.name, false));
	assert_int_equal(x.rep.n_splits, 1);
	vb_release(&x);
	free(bad);
	/* One checkpoint twice: no split. */
	free(p.lp.splits[0].note_b);
	assert_non_null(p.lp.splits[0].note_b = strdup(p.lp.splits[0].note_a));
	p.lp.splits[0].lb = p.lp.splits[0].la;
	reencode(&p, -1, w->magnets, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, w->magnets, &x);
	assert_int_equal(x.v.kind, LS_V_VALID);
	vb_release(&x);
	free(bad);
	parts_release(&p);
	free(a);
	free(b);
	free(sv.note_a);
	free(sv.note_b);
	free(sv.proof.h);
}

/* A log proof from outside: bounded, refused with the field named. */
static void
test_logproof_codec(void **state)
{
	struct lw *l = *state;
	struct ls_logproof lp, back;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *b = NULL, h[2][32];
	size_t len = 0;

	ls_logproof_init(&lp);
	lp.log_key = strdup(l->log_text);
	lp.checkpoint = strdup("x\n1\nAAAA\n");
	lp.checkpoint_len = strlen(lp.checkpoint);
	lp.records = calloc(1, sizeof(*lp.records));
	lp.n_records = 1;
	lp.records[0].index = 3;
	lp.records[0].proof.h = malloc(64);
	lp.records[0].proof.n = 2;
	memset(h, 9, sizeof(h));
	memcpy(lp.records[0].proof.h, h, 64);
	lp.heads_count = 5;
	assert_int_equal(ls_logproof_encode(&lp, &b, &len), 0);
	assert_int_equal(ls_logproof_decode(b, len, &back, &ctx), 0);
	assert_int_equal(back.n_records, 1);
	assert_int_equal(back.records[0].index, 3);
	assert_int_equal(back.records[0].proof.n, 2);
	assert_memory_equal(back.records[0].proof.h, h, 64);
	assert_string_equal(back.log_key, l->log_text);
	ls_logproof_release(&back);
	/* Truncated; a dating index past the list; garbage. */
	assert_int_equal(ls_logproof_decode(b, len - 3, &back, &ctx), LS_ERR_MALFORMED);
	free(b);
	lp.records[0].dating = 2;
	assert_int_equal(ls_logproof_encode(&lp, &b, &len), 0);
	assert_int_equal(ls_logproof_decode(b, len, &back, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "dating checkpoint 2"));
	free(b);
	assert_int_equal(ls_logproof_decode((const uint8_t *)"\xff\xff\xff", 3, &back, &ctx),
			 LS_ERR_MALFORMED);
	ls_logproof_release(&lp);
}

/* ---- the client (LODESTONE_BIN) ---- */

/* Runs the client with args; its exit status, its stdout and stderr in
 * out (cap bytes). */
static int
client(const char *args, char *out, size_t cap)
{
	char cmd[8192];
	FILE *f;
	size_t n = 0;
	int st;

	snprintf(cmd, sizeof(cmd), "%s/lodestone %s 2>&1", fx_bin_dir(), args);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (n + 1 < cap && (n += fread(out + n, 1, cap - 1 - n, f)) > 0 && !feof(f))
		;
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* verify-bundle's flags: witnesses by key or file, quorum, max age. */
static void
test_cli(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	char *dir = fx_tmpdir(), path[512], trust[512], wfile[512], args[8192], out[16384];
	uint8_t *buf = NULL, pk4[32], sk4[64];
	struct ls_vkey v4;
	char t4[LS_VKEY_MAX];
	size_t len = 0;
	uint64_t now = ls_now();
	FILE *f;
	int rc;

	(void)pk4;
	(void)sk4;
	assert_non_null(dir);
	{
		struct fx_policy_spec ps = {.name = "now", .effective_from = now, .elements = "Tb"};
		struct fx_env e;
		w->cn_auth->ts = now - 2 * FX_DAY;
		e = fx_policy(w->cn_auth, &ps);
		STORED(w, e);
		fx_env_release(&e);
	}
	checkpoint(l, N_WIT, now - 2 * FX_DAY, true);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &buf, &len), 0);
	snprintf(path, sizeof(path), "%s/magnets.bundle", dir);
	snprintf(trust, sizeof(trust), "%s/root.pub", dir);
	snprintf(wfile, sizeof(wfile), "%s/w2.vkey", dir);
	assert_int_equal(ls_file_write(path, buf, len, 0644, NULL), 0);
	assert_int_equal(ls_pubkey_save(trust, w->root->kp->pk, NULL), 0);
	f = fopen(wfile, "w");
	assert_non_null(f);
	fprintf(f, "# witness 2\n%s\n", l->wit_text[2]);
	fclose(f);

	/* Two witnesses, one by file: valid, the checkpoint named. */
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --witness %s", path,
		 trust, l->wit_text[0], wfile);
	rc = client(args, out, sizeof(out));
	if (rc != 0)
		fprintf(stderr, "%s\n", out);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "as of checkpoint"));
	assert_non_null(strstr(out, l->log.name));
	assert_non_null(strstr(out, "cosigned by"));
	assert_non_null(strstr(out, l->wit[2].name));
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --witness %s --json",
		 path, trust, l->wit_text[0], wfile);
	assert_int_equal(client(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"verdict\":\"valid\""));
	assert_non_null(strstr(out, "\"witnessed\":true"));
	assert_non_null(strstr(out, "\"statement\":\"checkpoint "));

	/* --quorum above the witnesses given: a usage error. */
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --quorum 2", path,
		 trust, l->wit_text[0]);
	assert_int_equal(client(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--quorum 2 is more than the 1 witnesses given"));

	/* A witness that did not cosign: short of the quorum, named. */
	named_key("lodestone-witness", LS_NOTE_COSIG, sk4, &v4, t4);
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s", path, trust, t4);
	assert_int_equal(client(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "unwitnessed: checkpoint"));
	assert_non_null(strstr(out, v4.name));

	/* A log key given as a witness, and a file that holds no key. */
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s", path, trust,
		 l->log_text);
	assert_int_equal(client(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "not a witness key"));
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s", path, trust,
		 trust);
	assert_int_equal(client(args, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "--witness"));

	/* Older than --max-age: stale. Within it: valid. */
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --max-age 1d", path,
		 trust, l->wit_text[1]);
	assert_int_equal(client(args, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "stale-checkpoint"));
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --max-age 3d", path,
		 trust, l->wit_text[1]);
	assert_int_equal(client(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s --witness %s --max-age 3x", path,
		 trust, l->wit_text[1]);
	assert_int_equal(client(args, out, sizeof(out)), 2);

	/* No witness: valid as before, the checkpoint not witnessed. */
	snprintf(args, sizeof(args), "verify-bundle %s --trust %s", path, trust);
	assert_int_equal(client(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "warning: unwitnessed"));
	assert_non_null(strstr(out, "not witnessed"));

	/* bundle inspect shows the log proof. */
	snprintf(args, sizeof(args), "bundle inspect %s", path);
	assert_int_equal(client(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "log proof: checkpoint"));
	assert_non_null(strstr(out, "3 cosignatures"));
	snprintf(args, sizeof(args), "bundle inspect %s --json", path);
	assert_int_equal(client(args, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "\"head_proofs\":3"));

	free(buf);
	fx_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_revoked_by_logged_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backdated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_witnessed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_omissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bundle_tampering, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_view, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logproof_codec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
