/*
 * test_attack_log.c - attacks on the witnessed log and the complete bundle
 * (lib/logproof.c ls_logproof_check / ls_logproof_feeds, lib/note.c): a
 * bundle producer swapping checkpoints, cosignatures and proofs, a verifier
 * policy abused through the library (a witness counted twice, the log's own
 * key named as a witness), oversized and malformed proofs. Each test asserts
 * the safe outcome. The fixture is test_logbundle.c's (helper_world's world
 * in a witnessed checkpoint).
 *
 * Holes found and not fixed here are skipped unless LS_ATTACK_KNOWN=1.
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
#include "witness.h"

#include "helper_logworld.h"
/* A witness policy of the attack's instead of the first n_wit witnesses. */
static const struct ls_lp_policy *g_pol;

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

	if (g_pol != NULL)
		pol = *g_pol;
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

/* The note text with a cosignature line added by sk under name at ts (the
 * other lines kept). Replaces *text (malloc'd, LS_NOTE_MAX). */
static void
cosig_into(char **text, size_t *len, const char *name, const uint8_t sk[64], uint64_t ts)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	char *out = malloc(LS_NOTE_MAX);

	assert_true(n != NULL && out != NULL);
	assert_int_equal(ls_note_parse(*text, *len, n, NULL), 0);
	assert_int_equal(ls_cosig_add(n, name, sk, ts), 0);
	assert_true((*len = ls_note_format(n, out, LS_NOTE_MAX)) > 0);
	free(*text);
	*text = out;
	free(n);
}

/* Removes the signature line naming name from the note text. */
static void
drop_line(char *text, size_t *len, const char *name)
{
	char *s = strstr(text, name), *b, *e;

	assert_non_null(s);
	for (b = s; b > text && b[-1] != '\n'; b--)
		;
	e = strchr(s, '\n');
	assert_non_null(e);
	e++;
	memmove(b, e, strlen(e) + 1);
	*len = strlen(text);
}

/* A fresh bundle of the magnets, split into parts. */
static void
magnets_parts(struct lw *l, struct parts *p)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_equal(ls_bundle_collect_log(l->w->s, l->w->magnets, l->log_text, 0, &buf, &len),
			 0);
	parts_of(buf, len, p);
}

/* Re-encodes p and checks it under pol (NULL: the first n_wit witnesses). */
static void
check_parts(struct lw *l, struct parts *p, const struct ls_lp_policy *pol, size_t n_wit,
	    struct vb *x)
{
	uint8_t *bad = NULL;
	size_t blen = 0;

	reencode(p, -1, l->w->magnets, &bad, &blen);
	g_pol = pol;
	vbundle(l, bad, blen, n_wit, 0, l->w->magnets, x);
	g_pol = NULL;
	free(bad);
}

/*
 * Attack: one witness counted twice toward the quorum. The checkpoint keeps
 * only witness 0's cosignature; a policy (through the library, which the
 * CLI's own duplicate check does not cover) names witness 0 twice, once
 * under another name with the same key. Safe: one key is one vote, quorum
 * 2 not reached.
 */
static void
test_same_witness_twice(void **state)
{
	struct lw *l = *state;
	struct ls_vkey pol_w[2];
	struct ls_lp_policy pol = {pol_w, 2, 2, 0, 0};
	struct parts p;
	struct vb x;

	pol_w[0] = l->wit[0];
	pol_w[1] = l->wit[0];
	magnets_parts(l, &p);
	drop_line(p.lp.checkpoint, &p.lp.checkpoint_len, l->wit[1].name);
	drop_line(p.lp.checkpoint, &p.lp.checkpoint_len, l->wit[2].name);
	check_parts(l, &p, &pol, 0, &x);
	assert_false(x.rep.witnessed);
	assert_int_equal(x.rep.n_cosigners, 1);
	vb_release(&x);

	/* The same key under a second name: the witness signs a second line
	 * under that name. Still one key. */
	assert_int_equal(ls_vkey_make(&pol_w[1], "another-witness/0", LS_NOTE_COSIG, l->wit[0].pk),
			 0);
	cosig_into(&p.lp.checkpoint, &p.lp.checkpoint_len, pol_w[1].name, l->wit_sk[0],
		   FX_T0 + 3000);
	check_parts(l, &p, &pol, 0, &x);
	assert_false(x.rep.witnessed);
	assert_int_equal(x.rep.n_cosigners, 1);
	vb_release(&x);

	/* The same witness 65 times (the library's arrays hold 64): before
	 * one key was one vote, each copy counted and overflowed them. */
	{
		struct ls_vkey *many = calloc(LS_LP_WITNESSES + 1, sizeof(*many));
		struct ls_lp_policy pm = {many, LS_LP_WITNESSES, 0, 0, 0};
		assert_non_null(many);
		for (size_t i = 0; i <= LS_LP_WITNESSES; i++)
			many[i] = l->wit[0];
		check_parts(l, &p, &pm, 0, &x);
		assert_false(x.rep.witnessed);
		assert_int_equal(x.rep.n_cosigners, 1);
		vb_release(&x);
		pm.n_witnesses = LS_LP_WITNESSES + 1;
		check_parts(l, &p, &pm, 0, &x);
		assert_false(x.rep.witnessed);
		assert_int_equal(x.v.kind, LS_V_BROKEN);
		assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "witnesses given", false));
		vb_release(&x);
		free(many);
	}
	parts_release(&p);
}

/*
 * Attack: the log's own key named as a witness (a cosignature/v1 vkey made
 * of the log public key): the log operator cosigns its own checkpoint.
 * Safe: the log key never counts as a witness, and the verifier is told.
 */
static void
test_log_key_as_witness(void **state)
{
	struct lw *l = *state;
	struct ls_vkey self;
	struct ls_lp_policy pol = {&self, 1, 1, 0, 0};
	struct parts p;
	struct vb x;

	assert_int_equal(ls_vkey_make(&self, "lodestone-witness/self", LS_NOTE_COSIG, l->log.pk),
			 0);
	magnets_parts(l, &p);
	cosig_into(&p.lp.checkpoint, &p.lp.checkpoint_len, self.name, l->log_sk, FX_T0 + 3000);
	check_parts(l, &p, &pol, 0, &x);
	assert_false(x.rep.witnessed);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "log key", false));
	vb_release(&x);
	parts_release(&p);
}

/*
 * Attack: a cosignature by witness 0's key under another name than the one
 * the verifier gives for that key. Safe: it does not count (the key id binds
 * the name); the other witnesses' do.
 */
static void
test_cosig_other_name(void **state)
{
	struct lw *l = *state;
	struct parts p;
	struct vb x;

	magnets_parts(l, &p);
	drop_line(p.lp.checkpoint, &p.lp.checkpoint_len, l->wit[0].name);
	drop_line(p.lp.checkpoint, &p.lp.checkpoint_len, l->wit[1].name);
	cosig_into(&p.lp.checkpoint, &p.lp.checkpoint_len, "lodestone-witness/0000000000000000",
		   l->wit_sk[0], FX_T0 + 2990);
	check_parts(l, &p, NULL, N_WIT, &x);
	assert_false(x.rep.witnessed);
	assert_int_equal(x.rep.n_cosigners, 1);
	assert_non_null(fault(&x.v, LS_R_UNWITNESSED, NULL, false));
	vb_release(&x);
	parts_release(&p);
}

/* A checkpoint note for (origin, size, root) signed under signer with sk. */
static size_t
note_by(const char *origin, const char *signer, const uint8_t sk[64], uint64_t size,
	const uint8_t root[32], char **out)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	struct ls_checkpoint c;
	size_t len;

	assert_non_null(n);
	assert_non_null(*out = malloc(LS_NOTE_MAX));
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = size;
	memcpy(c.root, root, 32);
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	assert_int_equal(ls_note_sign(n, signer, sk), 0);
	assert_true((len = ls_note_format(n, *out, LS_NOTE_MAX)) > 0);
	free(n);
	return len;
}

/*
 * Attack: checkpoints swapped for ones of another log. (a) The main
 * checkpoint with the origin of another log, signed by this log's key under
 * that name; (b) a dating checkpoint of another log (its own key, origin and
 * witnesses' quorum), dating a record earlier than it was logged. Safe:
 * both refused; the record keeps the main checkpoint's time.
 */
static void
test_checkpoint_of_other_log(void **state)
{
	struct lw *l = *state;
	struct ls_vkey other;
	char other_text[LS_VKEY_MAX];
	uint8_t other_sk[64];
	struct parts p;
	struct vb x;
	uint64_t main_qtime;
	int d;

	named_key("lodestone", LS_NOTE_ED25519, other_sk, &other, other_text);

	/* (a) */
	magnets_parts(l, &p);
	{
		struct ls_note n;
		struct ls_checkpoint c;
		assert_int_equal(ls_note_parse(p.lp.checkpoint, p.lp.checkpoint_len, &n, NULL), 0);
		assert_int_equal(ls_checkpoint_parse(n.body, n.body_len, &c, NULL), 0);
		free(p.lp.checkpoint);
		p.lp.checkpoint_len =
		    note_by(other.name, other.name, l->log_sk, c.size, c.root, &p.lp.checkpoint);
		for (int i = 0; i < N_WIT; i++)
			cosig_into(&p.lp.checkpoint, &p.lp.checkpoint_len, l->wit[i].name,
				   l->wit_sk[i], FX_T0 + 2990);
	}
	check_parts(l, &p, NULL, N_WIT, &x);
	assert_false(x.rep.signed_ok);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "not of the log key", false));
	vb_release(&x);
	parts_release(&p);

	/* (b) A later checkpoint, so that the bundle's records are dated. */
	{
		struct fx_policy_spec ps = {
		    .name = "later", .effective_from = FX_T0 + 30 * FX_DAY, .elements = "Tb"};
		struct fx_env e;
		l->w->cn_auth->ts = FX_T0 + 8 * FX_DAY;
		e = fx_policy(l->w->cn_auth, &ps);
		STORED(l->w, e);
		fx_env_release(&e);
	}
	checkpoint(l, N_WIT, FX_T0 + 8 * FX_DAY + 60, true);
	magnets_parts(l, &p);
	assert_int_equal(p.lp.n_dating, 1);
	d = index_of(&p, l->export);
	assert_true(d >= 0);
	assert_int_equal(p.lp.records[d].dating, 1);
	{
		struct ls_note n;
		struct ls_checkpoint c;
		assert_int_equal(ls_note_parse(p.lp.dating[0], p.lp.dating_len[0], &n, NULL), 0);
		assert_int_equal(ls_checkpoint_parse(n.body, n.body_len, &c, NULL), 0);
		free(p.lp.dating[0]);
		p.lp.dating_len[0] =
		    note_by(other.name, other.name, other_sk, c.size, c.root, &p.lp.dating[0]);
		for (int i = 0; i < N_WIT; i++)
			cosig_into(&p.lp.dating[0], &p.lp.dating_len[0], l->wit[i].name,
				   l->wit_sk[i], FX_T0 + 100);
	}
	check_parts(l, &p, NULL, N_WIT, &x);
	main_qtime = x.rep.qtime;
	assert_true(x.rep.witnessed);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "dating checkpoint 1", false));
	assert_int_equal(x.rep.logged[d], main_qtime);
	vb_release(&x);
	parts_release(&p);
}

/*
 * Attack: proofs moved around. An inclusion proof presented for another
 * index; a head proof at another position; heads_count lies (larger,
 * smaller, and the count that makes a single leaf the root). Safe: each
 * fails its check.
 */
static void
test_proof_positions(void **state)
{
	struct lw *l = *state;
	struct parts p;
	struct vb x;
	uint64_t count;

	magnets_parts(l, &p);
	p.lp.records[1].index ^= 1;
	check_parts(l, &p, NULL, N_WIT, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "bundle record 1 (", false));
	vb_release(&x);
	p.lp.records[1].index ^= 1;
	/* Another record's proof for record 1. */
	{
		struct ls_hashes h = p.lp.records[1].proof;
		uint64_t i = p.lp.records[1].index;
		p.lp.records[1].proof = p.lp.records[2].proof;
		p.lp.records[1].index = p.lp.records[2].index;
		check_parts(l, &p, NULL, N_WIT, &x);
		p.lp.records[1].proof = h;
		p.lp.records[1].index = i;
	}
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "bundle record 1 (", false));
	vb_release(&x);

	assert_true(p.lp.n_heads >= 2);
	p.lp.heads[0].position ^= 1;
	check_parts(l, &p, NULL, N_WIT, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "head proof of author", false));
	vb_release(&x);
	p.lp.heads[0].position ^= 1;

	count = p.lp.heads_count;
	{
		uint64_t lies[] = {count + 1, count - 1, count * 2, 1, 0, UINT64_MAX};
		for (size_t k = 0; k < sizeof(lies) / sizeof(lies[0]); k++) {
			/* heads_count is not in the signed tree: an RFC 9162
			 * inclusion proof of a leaf in a left subtree also holds for
			 * some larger sizes, so a lie may pass. What it must never
			 * do is prove a leaf that is not in the tree. */
			p.lp.heads_count = lies[k];
			check_parts(l, &p, NULL, N_WIT, &x);
			if (x.v.kind != LS_V_BROKEN)
				assert_int_equal(x.v.kind, LS_V_VALID);
			vb_release(&x);
			p.lp.heads[0].seq++;
			check_parts(l, &p, NULL, N_WIT, &x);
			p.lp.heads[0].seq--;
			assert_int_equal(x.v.kind, LS_V_BROKEN);
			assert_non_null(fault(&x.v, LS_R_LOG_PROOF, "head proof of author", false));
			vb_release(&x);
		}
	}
	p.lp.heads_count = count;
	/* Untouched again: valid (the attacks above are what broke it). */
	check_parts(l, &p, NULL, N_WIT, &x);
	assert_int_equal(x.v.kind, LS_V_VALID);
	vb_release(&x);
	parts_release(&p);
}

/*
 * Attack: oversized and malformed log proofs from a bundle producer: a
 * proof of LS_TLOG_PROOF_MAX + 1 hashes, a 31-byte hash, a dating index past
 * the dating list, garbage bytes, every truncation of a real proof. Safe:
 * decode refuses with a bounded error, never a crash.
 */
static void
test_malformed_proofs(void **state)
{
	struct lw *l = *state;
	struct parts p;
	struct ls_logproof q;
	struct ls_err_ctx ctx;
	uint8_t *enc = NULL, junk[512];
	size_t elen = 0, n0;
	uint8_t(*h0)[LS_TLOG_HASH];

	magnets_parts(l, &p);
	n0 = p.lp.records[0].proof.n;
	h0 = p.lp.records[0].proof.h;
	p.lp.records[0].proof.h = calloc(LS_TLOG_PROOF_MAX + 1, LS_TLOG_HASH);
	p.lp.records[0].proof.n = LS_TLOG_PROOF_MAX + 1;
	assert_int_equal(ls_logproof_encode(&p.lp, &enc, &elen), 0);
	memset(&ctx, 0, sizeof(ctx));
	assert_true(ls_logproof_decode(enc, elen, &q, &ctx) != 0);
	assert_true(ctx.msg[0] != '\0');
	free(enc);
	free(p.lp.records[0].proof.h);
	p.lp.records[0].proof.h = h0;
	p.lp.records[0].proof.n = n0;

	p.lp.records[0].dating = (uint32_t)p.lp.n_dating + 1;
	assert_int_equal(ls_logproof_encode(&p.lp, &enc, &elen), 0);
	assert_int_equal(ls_logproof_decode(enc, elen, &q, NULL), LS_ERR_MALFORMED);
	free(enc);
	p.lp.records[0].dating = 0;

	assert_int_equal(ls_logproof_encode(&p.lp, &enc, &elen), 0);
	for (size_t cut = 0; cut < elen; cut += 7) {
		if (ls_logproof_decode(enc, cut, &q, NULL) == 0)
			ls_logproof_release(&q);
	}
	free(enc);
	randombytes_buf(junk, sizeof(junk));
	for (size_t k = 1; k < sizeof(junk); k += 13)
		if (ls_logproof_decode(junk, k, &q, NULL) == 0)
			ls_logproof_release(&q);
	parts_release(&p);
}

/*
 * Attack: a bundle producer delays a revocation by dropping its dating. The
 * miner's key is revoked at R, logged in checkpoint B (quorum R + 600); the
 * miner's later lot is logged in checkpoint C (quorum R + 1210), the bundle's
 * checkpoint is D (quorum days later). Honest bundle: revoked. The attack
 * dates the revocation by D instead of B (dating 0: still a true statement,
 * the revocation is in D), so the revocation looks logged after the lot.
 * Safe: still revoked: the revocation takes effect at its own effective
 * time, and a later logged time of the revocation only bounds a backdated
 * revocation; it cannot move the revocation past the lot.
 */
static void
test_revocation_dating_dropped(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct fx_env lot, rev;
	struct parts p;
	struct vb x;
	uint64_t R = FX_T0 + 10 * FX_DAY;
	uint8_t *buf = NULL, *bad = NULL;
	size_t len = 0, blen = 0;
	int ri;

	w->cn_auth->ts = R;
	rev = fx_revoke(w->cn_auth, w->miner->kp->pk, R);
	STORED(w, rev);
	checkpoint(l, N_WIT, R + 590, true);
	w->miner->ts = R + 1200;
	lot = fx_lot(w->miner, "after-revocation", "Bayan Obo", "CN", "ore", 1000, "Dy=1000");
	STORED(w, lot);
	checkpoint(l, N_WIT, R + 1200, true);
	{
		struct fx_policy_spec ps = {
		    .name = "later", .effective_from = FX_T0 + 30 * FX_DAY, .elements = "Tb"};
		struct fx_env e;
		w->cn_auth->ts = R + 3 * FX_DAY;
		e = fx_policy(w->cn_auth, &ps);
		STORED(w, e);
		fx_env_release(&e);
	}
	checkpoint(l, N_WIT, R + 3 * FX_DAY + 60, true);

	assert_int_equal(ls_bundle_collect_log(w->s, lot.id, l->log_text, 0, &buf, &len), 0);
	vbundle(l, buf, len, N_WIT, 0, lot.id, &x);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault_naming(&x.v, LS_R_REVOKED, rev.id));
	vb_release(&x);

	parts_of(buf, len, &p);
	ri = index_of(&p, rev.id);
	assert_true(ri >= 0);
	assert_true(p.lp.records[ri].dating != 0);
	p.lp.records[ri].dating = 0; /* dated by the bundle's checkpoint */
	reencode(&p, -1, lot.id, &bad, &blen);
	vbundle(l, bad, blen, N_WIT, 0, lot.id, &x);
	if (x.v.kind != LS_V_BROKEN)
		world_dump("HOLE: revocation delayed by its dating", &x.v);
	assert_int_equal(x.v.kind, LS_V_BROKEN);
	assert_non_null(fault_naming(&x.v, LS_R_REVOKED, rev.id));
	assert_null(fault(&x.v, LS_R_LOG_PROOF, NULL, false));
	assert_true(x.rep.logged[ri] > x.rep.logged[index_of(&p, lot.id)]);
	vb_release(&x);
	free(bad);
	parts_release(&p);
	fx_env_release(&lot);
	fx_env_release(&rev);
}

/*
 * Attack: an impostor log. The producer takes the real checkpoint body and
 * its witnesses' cosignatures (they sign the body: origin, size, root, not
 * the log key), signs the body with a key of its own under the real log's
 * origin name, and puts its own key in the bundle as the log key. Then it
 * uses its key to sign a dating checkpoint that dates the export a day
 * earlier, cosigned by nobody.
 * Safe: the check binds a log's name to its key ("lodestone/<16 hex digits
 * of the key>"), so the impostor key under the real log's name is refused
 * before any cosignature counts.
 */
static void
test_impostor_log_key(void **state)
{
	struct lw *l = *state;
	struct ls_vkey imp;
	char imp_text[LS_VKEY_MAX];
	uint8_t imp_pk[32], imp_sk[64];
	struct ls_note *n = calloc(1, sizeof(*n));
	struct parts p;
	struct vb x;
	uint8_t root[32];
	uint64_t size;

	assert_non_null(n);
	crypto_sign_keypair(imp_pk, imp_sk);
	assert_int_equal(ls_vkey_make(&imp, l->log.name, LS_NOTE_ED25519, imp_pk), 0);
	ls_vkey_format(&imp, imp_text);
	magnets_parts(l, &p);
	assert_int_equal(ls_note_parse(p.lp.checkpoint, p.lp.checkpoint_len, n, NULL), 0);
	{
		struct ls_checkpoint c;
		assert_int_equal(ls_checkpoint_parse(n->body, n->body_len, &c, NULL), 0);
		size = c.size;
		memcpy(root, c.root, 32);
	}
	/* Drop the real log signature, sign with the impostor key. */
	for (size_t i = 0; i < n->n_sigs; i++)
		if (strcmp(n->sigs[i].name, l->log.name) == 0) {
			memmove(&n->sigs[i], &n->sigs[i + 1],
				(n->n_sigs - i - 1) * sizeof(n->sigs[0]));
			n->n_sigs--;
			break;
		}
	assert_int_equal(ls_note_sign(n, l->log.name, imp_sk), 0);
	assert_true((p.lp.checkpoint_len = ls_note_format(n, p.lp.checkpoint, LS_NOTE_MAX)) > 0);
	free(p.lp.log_key);
	p.lp.log_key = strdup(imp_text);
	check_parts(l, &p, NULL, N_WIT, &x);
	/* Refused: the impostor key is not the key the log's name is made of,
	 * so it cannot borrow the real log's cosignatures. */
	assert_int_not_equal(x.v.kind, LS_V_VALID);
	assert_false(x.rep.witnessed);
	(void)size;
	(void)root;
	vb_release(&x);
	parts_release(&p);
	free(n);
}

/*
 * Attack: cosignatures dated in the future. A quorum time ahead of the
 * verifier's clock would never grow older than --max-age. Safe: with
 * --max-age, a quorum time more than an hour ahead of the clock fails.
 */
static void
test_future_quorum_time(void **state)
{
	struct lw *l = *state;
	struct ls_lp_policy pol = {l->wit, N_WIT, 0, FX_T0 - 10 * 86400, 3600};
	struct parts p;
	struct vb x;
	uint64_t qtime;

	magnets_parts(l, &p);
	check_parts(l, &p, &pol, 0, &x);
	assert_true(x.rep.witnessed);
	assert_int_not_equal(x.v.kind, LS_V_VALID);
	qtime = x.rep.qtime;
	vb_release(&x);
	/* The same proof with the clock past its quorum time and within
	 * --max-age of it is fine. */
	pol.now = qtime + 60;
	check_parts(l, &p, &pol, 0, &x);
	assert_int_equal(x.v.kind, LS_V_VALID);
	vb_release(&x);
	parts_release(&p);
}

/* ---- the witness against a hostile peer (lib/witness.c) ---- */

static int
lookup_none(void *arg, const uint8_t id[LS_ID_LEN], struct ls_witness_rec *out)
{
	(void)arg;
	(void)id;
	(void)out;
	return LS_ERR_NOT_FOUND;
}

/* An add-checkpoint request for (origin, size, root) signed by sk under
 * signer, from old with no proof. out of cap bytes; its length. */
static size_t
addcp(const char *origin, const char *signer, const uint8_t sk[64], uint64_t old, uint64_t size,
      char *out, size_t cap)
{
	struct ls_addcp *a = calloc(1, sizeof(*a));
	struct ls_checkpoint c;
	uint8_t root[32];
	size_t n;

	assert_non_null(a);
	memset(root, 0x5a, sizeof(root));
	a->old = old;
	snprintf(c.origin, sizeof(c.origin), "%s", origin);
	c.size = size;
	memcpy(c.root, root, 32);
	a->cp.body_len = ls_checkpoint_body(&c, a->cp.body, sizeof(a->cp.body));
	assert_int_equal(ls_note_sign(&a->cp, signer, sk), 0);
	assert_true((n = ls_addcp_format(a, out, cap)) > 0);
	free(a);
	return n;
}

/*
 * Attack: a hostile peer's add-checkpoint requests: garbage and an oversized
 * body (400), a checkpoint of another origin than its announced log (404),
 * one signed by another key under its log's name (403), a stale old size
 * against the stored state (409 with the witness's size). Safe: each
 * refused with its status, no job started.
 */
static void
test_witness_bad_requests(void **state)
{
	struct lw *l = *state;
	struct ls_witness_job *j = NULL;
	struct ls_witness_reply r;
	struct ls_vkey other;
	char other_text[LS_VKEY_MAX];
	uint8_t other_sk[64];
	char *req = malloc(4 * LS_NOTE_MAX);
	size_t n;
	int step;

	assert_non_null(req);
	named_key("lodestone", LS_NOTE_ED25519, other_sk, &other, other_text);

	memset(req, 'A', 4 * LS_NOTE_MAX);
	memset(&r, 0, sizeof(r));
	step = ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, 4 * LS_NOTE_MAX, NULL,
				&j, &r, NULL);
	assert_int_equal(step, LS_WITNESS_DONE);
	assert_null(j);
	assert_int_equal(r.status, 400);

	n = addcp(other.name, other.name, other_sk, 0, 10, req, 4 * LS_NOTE_MAX);
	memset(&r, 0, sizeof(r));
	step =
	    ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, n, NULL, &j, &r, NULL);
	assert_int_equal(step, LS_WITNESS_DONE);
	assert_null(j);
	assert_int_equal(r.status, 404);

	n = addcp(l->log.name, l->log.name, other_sk, 0, 10, req, 4 * LS_NOTE_MAX);
	memset(&r, 0, sizeof(r));
	step =
	    ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, n, NULL, &j, &r, NULL);
	assert_int_equal(step, LS_WITNESS_DONE);
	assert_null(j);
	assert_int_equal(r.status, 403);

	/* No announced log key at all. */
	n = addcp(l->log.name, l->log.name, l->log_sk, 0, 10, req, 4 * LS_NOTE_MAX);
	memset(&r, 0, sizeof(r));
	step = ls_witness_start(NULL, NULL, 0, NULL, (const uint8_t *)req, n, NULL, &j, &r, NULL);
	assert_int_equal(step, LS_WITNESS_DONE);
	assert_null(j);
	assert_true(r.status == 404 || r.status == 403);
	free(req);
}

/*
 * Attack: a hostile peer makes the witness work: a checkpoint of size 2^62
 * for a log it never witnessed, then pages of leaves: more than a page at
 * once, leaves from the wrong index, a page of record leaves none of which
 * is stored, a leaf of an unknown type, a heads leaf that is not the heads
 * root. Safe: each call is bounded (a page at most, at most
 * LS_WITNESS_MISSING records asked for at once), and refused or errored;
 * what bounds the whole job is the daemon's timeout (WJOB_TIMEOUT_MS).
 */
static void
test_witness_huge_jump(void **state)
{
	struct lw *l = *state;
	struct ls_witness_job *j = NULL;
	struct ls_witness_reply r;
	char *req = malloc(LS_NOTE_MAX);
	uint8_t(*leaves)[LS_TLOG_LEAF_LEN] = calloc(LS_WITNESS_PAGE + 1, LS_TLOG_LEAF_LEN);
	const uint8_t *miss;
	size_t n, nm;
	int step;

	assert_true(req != NULL && leaves != NULL);
	n = addcp(l->log.name, l->log.name, l->log_sk, 0, (uint64_t)1 << 62, req, LS_NOTE_MAX);
	memset(&r, 0, sizeof(r));
	step =
	    ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, n, NULL, &j, &r, NULL);
	if (j == NULL) { /* refusing the jump outright is safe too */
		assert_int_equal(step, LS_WITNESS_DONE);
		assert_true(r.status >= 400);
		goto out;
	}
	assert_int_equal(step, LS_WITNESS_ENTRIES);
	assert_int_equal(ls_witness_job_next(j), 0);
	for (size_t i = 0; i <= LS_WITNESS_PAGE; i++) {
		leaves[i][0] = LS_TLOG_LEAF_RECORD;
		randombytes_buf(leaves[i] + 1, 32);
	}
	/* Over a page: taken as one page (the rest is fed again later). */
	memset(&r, 0, sizeof(r));
	step = ls_witness_job_feed(j, 0, leaves[0], LS_WITNESS_PAGE + 1, lookup_none, NULL, &r);
	assert_int_equal(step, LS_WITNESS_RECORDS);
	miss = ls_witness_job_missing(j, &nm);
	assert_true(nm > 0 && nm <= LS_WITNESS_MISSING);
	ls_witness_job_free(&j);

	step =
	    ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, n, NULL, &j, &r, NULL);
	assert_int_equal(step, LS_WITNESS_ENTRIES);
	memset(&r, 0, sizeof(r));
	assert_int_equal(ls_witness_job_feed(j, 5, leaves[0], 1, lookup_none, NULL, &r),
			 LS_ERR_INVALID);
	/* A page of records it does not hold: asks for a bounded number. */
	memset(&r, 0, sizeof(r));
	step = ls_witness_job_feed(j, 0, leaves[0], LS_WITNESS_PAGE, lookup_none, NULL, &r);
	assert_int_equal(step, LS_WITNESS_RECORDS);
	miss = ls_witness_job_missing(j, &nm);
	assert_non_null(miss);
	assert_true(nm > 0 && nm <= LS_WITNESS_MISSING);
	ls_witness_job_free(&j);

	/* A leaf of an unknown type; a heads leaf that is not the heads root. */
	for (uint8_t kind = 0x02; kind != 0; kind = kind == 0x02 ? LS_TLOG_LEAF_HEADS : 0) {
		step = ls_witness_start(NULL, NULL, 0, &l->log, (const uint8_t *)req, n, NULL, &j,
					&r, NULL);
		assert_int_equal(step, LS_WITNESS_ENTRIES);
		leaves[0][0] = kind;
		memset(&r, 0, sizeof(r));
		step = ls_witness_job_feed(j, 0, leaves[0], 1, lookup_none, NULL, &r);
		assert_true(step < 0 || (step == LS_WITNESS_DONE && r.status >= 400));
		ls_witness_job_free(&j);
	}
out:
	free(leaves);
	free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_same_witness_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_log_key_as_witness, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cosig_other_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_of_other_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_proof_positions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_proofs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revocation_dating_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_impostor_log_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_future_quorum_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_witness_bad_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_witness_huge_jump, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
