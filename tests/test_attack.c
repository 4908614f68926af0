/* WRAP: ls_record_decode */
/*
 * test_attack.c - an adversarial review of the rulebook after the kind/
 * restructuring. Each test names a rule an attacker tried to break; each
 * broke it on the code it was written against, and now guards the fix.
 *
 * The world is test_rules.c's: a trust anchor certifies China's and
 * Germany's authorities; China's certifies a miner and a magnet maker,
 * Germany's an importer; the anchor certifies buyers in the US and Russia.
 * China's policy controls Dy (re-export included) and denies military use.
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

/* ---- a decode fault, armed only around a question ---- */

int __real_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);
int __wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);

static struct {
	bool armed;
	unsigned nth, calls, hits;
	unsigned long decodes; /* every call, armed or not: a count of work */
} fault;

int
__wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			struct ls_err_ctx *ctx)
{
	fault.decodes++;
	if (fault.armed && ++fault.calls == fault.nth) {
		fault.hits++;
		*out = NULL;
		return LS_ERR_NOMEM;
	}
	return __real_ls_record_decode(buf, len, out, ctx);
}

static void
arm(unsigned nth)
{
	fault.armed = true;
	fault.nth = nth;
	fault.calls = 0;
	fault.hits = 0;
}

static void
disarm(void)
{
	fault.armed = false;
}

/*
 * China licenses 50 kg of the magnets to the German importer, barring
 * re-export to Russia; the importer receives them. Returns the license id.
 */
static void
cn_license_to_germany(struct world *w, uint8_t cn_lic[32])
{
	struct fx_license_spec ls;

	world_magnet_license(w, &ls, "CN-2025-2", "DE");
	ls.no_reexport_to = "RU";
	ls.no_military = true;
	w->cn_auth->ts = FX_T0 + 3 * FX_DAY;
	world_license(w, w->cn_auth, &ls, false, cn_lic);
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	w->de_imp->ts = FX_T0 + 5 * FX_DAY;
	world_ship(w, w->maker, w->magnets, 50000, w->de_imp, cn_lic, false, NULL);
}

/*
 * Rule (claim 1): re-export bars of licenses up the custody chain apply to
 * every hop; an authority of one jurisdiction cannot change another's rules.
 *
 * Attack: Germany's authority publishes a German policy that merely lists
 * "magnet" as an exempt category. ls_verify_export sets `exempt` when ANY
 * policy in force says C_EXEMPT (controlled() tests exempt_categories before
 * it looks at the jurisdiction at all) and then skips check_bindings
 * (verify.c, `if (rc == 0 && !exempt)`): China's bar on re-export to Russia
 * disappears from the export question.
 */
static void
test_attack_foreign_exemption_drops_reexport_bar(void **state)
{
	struct world *w = *state;
	struct fx_policy_spec ps;
	struct ls_verdict v;
	uint8_t cn_lic[32];
	struct fx_env e;

	cn_license_to_germany(w, cn_lic);
	assert_int_equal(world_export_check(w, w->magnets, w->de_imp, "RU", NULL, NULL, &v),
			 LS_V_DENIED);
	assert_true(world_has_reason(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);

	memset(&ps, 0, sizeof(ps));
	ps.jurisdiction = "DE";
	ps.name = "DE: magnets are not our concern";
	ps.effective_from = FX_T0 + 6 * FX_DAY;
	ps.elements = "Dy";
	ps.exempt_categories = "magnet";
	w->de_auth->ts = FX_T0 + 6 * FX_DAY;
	e = fx_policy(w->de_auth, &ps);
	ADMITTED(w, e); /* its own jurisdiction: lawful */
	fx_env_release(&e);

	if (world_export_check(w, w->magnets, w->de_imp, "RU", NULL, NULL, &v) != LS_V_DENIED ||
	    !world_has_reason(&v, LS_R_REEXPORT_BARRED))
		world_dump("export DE -> RU after a German exemption", &v);
	assert_int_equal(v.kind, LS_V_DENIED);
	assert_true(world_has_reason(&v, LS_R_REEXPORT_BARRED));
	ls_verdict_release(&v);
	/* The military bar of the same license goes the same way. */
	if (world_export_check(w, w->magnets, w->de_imp, "US", "military", NULL, &v) != LS_V_DENIED)
		world_dump("export DE -> US military after a German exemption", &v);
	assert_int_equal(v.kind, LS_V_DENIED);
	ls_verdict_release(&v);
}

/*
 * Rule (claim 1): nobody can make the ledger say something false; a revoked
 * authority's later acts count for nothing.
 *
 * Attack: the anchor revokes Germany's authority. Afterwards that authority
 * (its key is in the attacker's hands) certifies the Chinese magnet maker's
 * key as a German participant. The certificate is stored (consensus does not
 * apply revocations), and the export question takes the holder's country
 * from key_country() (verify.c): the newest certificate in its period, with
 * no check of its issuer's validity, of revocations, or of the issuer's
 * scope. The maker's export of Dy magnets to Germany becomes "not an
 * export": allowed, with no license.
 */
static void
test_attack_export_country_from_revoked_issuer(void **state)
{
	struct world *w = *state;
	uint8_t cn_cert[32];
	struct ls_verdict v;

	assert_int_equal(world_export_check(w, w->magnets, w->maker, "DE", NULL, NULL, &v),
			 LS_V_LICENSE_REQUIRED);
	ls_verdict_release(&v);
	w->root->ts = FX_T0 + 2 * FX_DAY;
	PUT(w, fx_revoke(w->root, w->de_auth->kp->pk, FX_T0 + 2 * FX_DAY));
	memcpy(cn_cert, w->maker->cert_id, 32);
	w->de_auth->ts = FX_T0 + 3 * FX_DAY;
	PUT(w, fx_cert(w->de_auth, w->maker, "Ningbo Magnets", "DE", LS_ROLE_EXPORTER, 0, 0));
	memcpy(w->maker->cert_id, cn_cert, 32);

	if (world_export_check(w, w->magnets, w->maker, "DE", NULL, NULL, &v) !=
	    LS_V_LICENSE_REQUIRED)
		world_dump("export CN -> DE after a revoked authority relocated the exporter", &v);
	assert_int_equal(v.kind, LS_V_LICENSE_REQUIRED);
	ls_verdict_release(&v);
}

/*
 * Rule (claim 1): "A certified key can never rewrite another country's
 * rules"; a license counts only if its issuer acts for the jurisdiction
 * whose policy requires it.
 *
 * Attack: a (valid) US authority certifies the Chinese maker's key as a US
 * participant, as it may. The maker then ships its Chinese Dy magnets to a
 * US buyer citing that certificate as its own. check_hop_at (verify.c) takes
 * the sender's country from the certificate the transfer cites
 * (ls_author_country_of), so CN -> US becomes US -> US, "domestic", and no
 * policy is looked at: China's license requirement is gone, by the act of
 * another jurisdiction's authority. Holdings are per key, so the material
 * the key got in China is what it ships.
 */
static void
test_attack_sender_picks_country_by_foreign_certificate(void **state)
{
	struct world *w = *state;
	struct fx_actor *us_auth = fx_actor_new("US");
	struct ls_verdict v;

	assert_non_null(us_auth);
	PUT(w, fx_cert(w->root, us_auth, "BIS", "US", LS_ROLE_AUTHORITY, 0, 0));
	us_auth->ts = FX_T0 + 3 * FX_DAY;
	PUT(w,
	    fx_cert(us_auth, w->maker, "Ningbo Magnets (US desk)", "US", LS_ROLE_EXPORTER, 0, 0));
	/* fx_cert made the maker cite the US certificate from now on. */
	w->maker->ts = FX_T0 + 4 * FX_DAY;
	PUT(w, fx_transfer(w->maker, w->magnets, 1000, w->us, NULL, NULL));

	if (world_provenance(w->s, w->magnets, &v) != LS_V_BROKEN ||
	    !world_has_reason(&v, LS_R_NO_LICENSE))
		world_dump(
		    "provenance after an unlicensed CN -> US shipment under a US certificate", &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_NO_LICENSE));
	ls_verdict_release(&v);
	fx_actor_free(&us_auth);
}

/*
 * Rule (claim 1): an authority cannot certify participants outside its
 * jurisdictions.
 *
 * Attack: kind/certificate.c checks the subject's country only when the
 * certificate lists no jurisdictions. Germany's authority certifies a key
 * with roles authority|importer, country "CN", jurisdictions ["DE"]: only
 * "DE" is checked, so Germany has minted a Chinese participant. As a
 * receiver it is in China: the maker's shipment to it (really to Germany)
 * is domestic and needs no Chinese license.
 */
static void
test_attack_certificate_country_unchecked_with_jurisdictions(void **state)
{
	struct world *w = *state;
	struct fx_actor *shadow = fx_actor_new("CN");
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	struct ls_ingest_result res;
	struct ls_verdict v;
	const char **j;
	struct fx_env e;

	assert_non_null(shadow);
	assert_non_null(r);
	memcpy(r->certificate.subject, shadow->kp->pk, 32);
	r->certificate.org = ls_record_strdup(r, "Shadow Trading (really Hamburg)");
	memcpy(r->certificate.country, "CN", 3);
	r->certificate.roles = LS_ROLE_AUTHORITY | LS_ROLE_IMPORTER;
	j = ls_record_alloc(r, sizeof(*j));
	assert_non_null(j);
	j[0] = ls_record_strdup(r, "DE");
	r->certificate.jurisdictions.v = j;
	r->certificate.jurisdictions.n = 1;
	w->de_auth->ts = FX_T0 + 3 * FX_DAY;
	assert_int_equal(fx_sign(w->de_auth, r, &e), 0);
	ls_record_free(r);
	memcpy(shadow->cert_id, e.id, 32);
	shadow->has_cert = true;
	assert_int_equal(fx_ingest_one(w->s, e.buf, e.len, &res), 0);
	fx_env_release(&e);
	if (res.status == LS_INGEST_ACCEPTED) {
		enum ls_verdict_kind k;
		w->maker->ts = FX_T0 + 4 * FX_DAY;
		PUT(w, fx_transfer(w->maker, w->magnets, 1000, shadow, NULL, NULL));
		k = world_provenance(w->s, w->magnets, &v);
		world_dump("provenance after shipping to Germany's 'Chinese' participant", &v);
		ls_verdict_release(&v);
		fx_actor_free(&shadow);
		fail_msg("a German authority certified a participant of country CN (stored); an "
			 "unlicensed shipment to it is %s",
			 ls_verdict_name(k));
	}
	assert_int_equal(res.reason, LS_R_UNTRUSTED);
	fx_actor_free(&shadow);
}

/*
 * Rule (claim 5): the pending set cannot be filled by strangers; per-author
 * quota, eviction of the busiest author's oldest.
 *
 * Attack: the quota is per key, and a record whose missing dependency is its
 * author's own certificate may always wait (ingest.c, park: `certified =
 * missing->kind == LS_DEP_CERT`), so fresh keys claiming an unknown
 * certificate are free sybils. 100 of them park one junk record each and
 * fill the set. An honest certified miner's feed then arrives out of order
 * (seq 2, 3, 4 before 1): as soon as it has two waiting it is "the busiest
 * author" and loses its own oldest record, while the strangers keep theirs.
 * When seq 1 arrives, its feed does not complete.
 */
static void
test_attack_pending_sybils_evict_honest(void **state)
{
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct fx_actor *anchor = fx_actor_new("CN"), *miner = fx_actor_new("CN");
	struct ls_ingest_result res;
	struct fx_env cert, lots[4];
	uint8_t fake[32];
	size_t stored = 0;

	(void)state;
	assert_non_null(dir);
	assert_non_null(anchor);
	assert_non_null(miner);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])anchor->kp->pk;
	o.n_anchors = 1;
	o.max_pending = 100;
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	cert = fx_cert(anchor, miner, "Mine", "CN", LS_ROLE_MINER, 0, 0);
	assert_int_equal(fx_ingest_one(s, cert.buf, cert.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	for (int i = 0; i < 4; i++) {
		lots[i] = fx_lot(miner, "honest", NULL, NULL, "ore", 10 + (uint64_t)i, NULL);
		assert_non_null(lots[i].buf);
	}
	for (int i = 0; i < 100; i++) {
		struct fx_actor *x = fx_actor_new("CN");
		struct fx_env e;
		assert_non_null(x);
		memset(fake, 0x5a, 32);
		fake[0] = (uint8_t)i;
		memcpy(x->cert_id, fake, 32);
		x->has_cert = true;
		e = fx_lot(x, "junk", NULL, NULL, "ore", 1, NULL);
		assert_int_equal(fx_ingest_one(s, e.buf, e.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_PENDING);
		fx_env_release(&e);
		fx_actor_free(&x);
	}
	for (int i = 3; i >= 0; i--)
		assert_int_equal(fx_ingest_one(s, lots[i].buf, lots[i].len, &res), 0);
	for (int i = 0; i < 4; i++) {
		uint8_t *env = NULL;
		size_t len;
		if (ls_store_get(s, lots[i].id, &env, &len) == 0)
			stored++;
		free(env);
	}
	if (stored != 4)
		fprintf(stderr, "honest feed: %zu of 4 records stored after seq 1 arrived\n",
			stored);
	assert_int_equal(stored, 4);
	for (int i = 0; i < 4; i++)
		fx_env_release(&lots[i]);
	fx_env_release(&cert);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
	fx_actor_free(&anchor);
	fx_actor_free(&miner);
}

/* ---- a local fault is never a verdict: every decode of one question ---- */

static bool
same_verdict(const struct ls_verdict *a, const struct ls_verdict *b)
{
	if (a->kind != b->kind || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->reasons[i].code != b->reasons[i].code ||
		    strcmp(a->reasons[i].message, b->reasons[i].message) != 0)
			return false;
	return true;
}

/* Fails the n-th record decode of the question, for n = 1, 2, ...; the
 * question must fail or give the healthy answer. Returns the breaches. */
static unsigned
sweep(struct world *w, const struct ls_export_query *q, const char *what)
{
	struct ls_verdict healthy, v;
	unsigned breaches = 0;

	if (q->has_from)
		assert_int_equal(ls_verify_export(w->s, q, &healthy), 0);
	else
		assert_int_equal(ls_verify_provenance(w->s, q->lot, &healthy), 0);
	for (unsigned n = 1;; n++) {
		int rc;
		arm(n);
		rc = q->has_from ? ls_verify_export(w->s, q, &v)
				 : ls_verify_provenance(w->s, q->lot, &v);
		disarm();
		if (fault.hits == 0) {
			if (rc == 0)
				ls_verdict_release(&v);
			break;
		}
		if (rc == 0 && !same_verdict(&v, &healthy)) {
			breaches++;
			fprintf(stderr, "%s: decode %u failed (no memory), answered:\n", what, n);
			world_dump("  faulted", &v);
			world_dump("  healthy", &healthy);
		}
		if (rc == 0)
			ls_verdict_release(&v);
	}
	ls_verdict_release(&healthy);
	return breaches;
}

/*
 * Rule (claim 4): a local fault (failed read, no memory) is never a verdict.
 *
 * Attack (environmental): a record decode fails once, anywhere in the
 * question. Several readers in verify.c drop a failed read and go on
 * (bind_one: `ls_txn_record(...) != 0 ... goto out`; receipt_child and
 * lot_child: `return 0`; custody: `continue`; the end user's certificate in
 * ls_verify_export), so a question answers with a binding, a receipt or a
 * hop left out: China's re-export bar vanishes and a denied export is
 * answered license-required or allowed.
 */
static void
test_attack_verify_fault_becomes_verdict(void **state)
{
	struct world *w = *state;
	struct fx_license_spec ls;
	struct ls_export_query q;
	uint8_t cn_lic[32], de_lic[32];
	unsigned breaches = 0;

	cn_license_to_germany(w, cn_lic);
	world_magnet_license(w, &ls, "DE-2025-2", "RU");
	ls.licensee = w->de_imp->kp->pk;
	w->de_auth->ts = FX_T0 + 5 * FX_DAY;
	world_license(w, w->de_auth, &ls, false, de_lic);
	/* The question before the shipment: may the importer send them to RU? */
	world_export_query(&q, w->magnets, w->de_imp, "RU", NULL, de_lic);
	breaches += sweep(w, &q, "export DE -> RU");
	/* Shipped: provenance of the magnets. */
	w->de_imp->ts = FX_T0 + 6 * FX_DAY;
	PUT(w, fx_transfer(w->de_imp, w->magnets, 1000, w->ru, de_lic, NULL));
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, w->magnets, 32);
	breaches += sweep(w, &q, "provenance");
	if (breaches > 0)
		fail_msg("%u failed reads were answered as verdicts", breaches);
}

/*
 * Rule (claim 3): the same records in any order give the same stored set
 * and the same verdicts, equivocations included.
 *
 * Attack: the German importer E equivocates at its first seq: branch A
 * receives the miner's unlicensed CN -> DE transfer T1 and ships the lot on
 * to processor P, who makes lot D of it; branch B registers a lot. A fork
 * receipt marks T1 received only on its branch (tables.c,
 * ls_txn_transit_put with t->branch), so the global "received" flag of T1 is
 * set only where branch A came first. custody() (verify.c) follows only
 * transfers whose global flag is set: where B came first, T1 is not on D's
 * custody path, and the missing Chinese license of T1 is not in D's
 * verdict. Same stored set, different verdicts.
 */
static void
test_attack_equivocation_branch_order_changes_verdict(void **state)
{
	struct fx_actor *root = fx_actor_new("CN"), *m = fx_actor_new("CN");
	struct fx_actor *e = fx_actor_new("DE"), *p = fx_actor_new("DE");
	struct fx_env pre[8], a[4], b;
	size_t npre = 0;
	struct fx_policy_spec ps;
	struct fx_mark fork;
	uint8_t lot[32], d[32];
	char *dir1 = fx_tmpdir(), *dir2 = fx_tmpdir();
	struct ls_store *s1 = NULL, *s2 = NULL;
	struct ls_verdict v1, v2;
	struct fx_idset x1, x2;
	bool differ;

	(void)state;
	assert_non_null(p);
	assert_non_null(dir1);
	assert_non_null(dir2);
	pre[npre++] = fx_cert(root, m, "Mine", "CN", LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	pre[npre++] = fx_cert(root, e, "Importer", "DE",
			      LS_ROLE_MINER | LS_ROLE_IMPORTER | LS_ROLE_EXPORTER, 0, 0);
	pre[npre++] = fx_cert(root, p, "Processor", "DE", LS_ROLE_PROCESSOR, 0, 0);
	memset(&ps, 0, sizeof(ps));
	ps.jurisdiction = "CN";
	ps.effective_from = FX_T0;
	ps.elements = "Dy";
	ps.applies_to_reexport = true;
	ps.de_minimis_ppm = 1000;
	pre[npre++] = fx_policy(root, &ps);
	m->ts = e->ts = p->ts = FX_T0 + FX_DAY;
	pre[npre] = fx_lot(m, "dy", "Bayan Obo", "CN", "oxide", 100, "Dy=500000");
	memcpy(lot, pre[npre].id, 32);
	npre++;
	pre[npre] = fx_transfer(m, lot, 100, e, NULL, NULL); /* CN -> DE, no license */
	npre++;
	fork = fx_mark(e);
	a[0] = fx_receipt(e, pre[npre - 1].id, 100);
	a[1] = fx_transfer(e, lot, 100, p, NULL, NULL);
	a[2] = fx_receipt(p, a[1].id, 100);
	{
		struct ls_lot_input in = {{0}, 100};
		const char *out[] = {"d:oxide:100:Dy=500000"};
		memcpy(in.lot, lot, 32);
		a[3] = fx_transform(p, &in, 1, out, 1);
		ls_lot_id(a[3].id, 0, d);
	}
	fx_rewind(e, &fork);
	b = fx_lot(e, "other", "Hamburg", "DE", "scrap", 5, NULL);
	assert_non_null(b.buf);
	assert_int_equal(fx_store_open(dir1, root, 0, &s1), 0);
	assert_int_equal(fx_store_open(dir2, root, 0, &s2), 0);
	/* Store 1: branch A first. Store 2: branch B first. */
	for (size_t i = 0; i < npre; i++) {
		struct ls_ingest_result r1, r2;
		assert_int_equal(fx_ingest_one(s1, pre[i].buf, pre[i].len, &r1), 0);
		assert_int_equal(fx_ingest_one(s2, pre[i].buf, pre[i].len, &r2), 0);
		assert_int_equal(r1.status, LS_INGEST_ACCEPTED);
		assert_int_equal(r2.status, LS_INGEST_ACCEPTED);
	}
	assert_int_equal(fx_ingest(s1, a, 4, NULL), 0);
	assert_int_equal(fx_ingest_one(s1, b.buf, b.len, NULL), 0);
	assert_int_equal(fx_ingest_one(s2, b.buf, b.len, NULL), 0);
	assert_int_equal(fx_ingest(s2, a, 4, NULL), 0);
	assert_int_equal(fx_stored_set(s1, &x1), 0);
	assert_int_equal(fx_stored_set(s2, &x2), 0);
	assert_int_equal(x1.n, npre + 5);
	assert_int_equal(x1.n, x2.n);
	assert_memory_equal(x1.v, x2.v, x1.n * 32);
	free(x1.v);
	free(x2.v);
	world_provenance(s1, d, &v1);
	world_provenance(s2, d, &v2);
	differ = !same_verdict(&v1, &v2);
	if (differ) {
		world_dump("lot D, branch A first", &v1);
		world_dump("lot D, branch B first", &v2);
	}
	assert_false(differ);
	ls_verdict_release(&v1);
	ls_verdict_release(&v2);
	for (size_t i = 0; i < npre; i++)
		fx_env_release(&pre[i]);
	for (size_t i = 0; i < 4; i++)
		fx_env_release(&a[i]);
	fx_env_release(&b);
	ls_store_close(&s1);
	ls_store_close(&s2);
	fx_rmtree(dir1);
	fx_rmtree(dir2);
	free(dir1);
	free(dir2);
	fx_actor_free(&root);
	fx_actor_free(&m);
	fx_actor_free(&e);
	fx_actor_free(&p);
}

/*
 * Rule (claim 6): no unbounded CPU from outside input; ingest stays linear.
 *
 * Attack: a miner with a feed of N records signs M different records at
 * seq N + 1 (all with prev = its head). Every one after the first is off the
 * tables' branch, and branch_for (ingest.c) reuses the folded branch only
 * when the record continues the last one folded (b->tip == r->prev); the tip
 * moves to each fork record, so each of the M forks refolds the whole feed
 * from seq 1: N * M record reads, decodes and applies (and update_evidence
 * lists every fork at the seq again: M^2). BRANCH_MAX (2^20) is the only
 * bound. Here the cost per fork record is compared with the cost per record
 * of the feed itself, ingested the same way (one batch).
 */

static void
test_attack_fork_fold_quadratic(void **state)
{
	enum { N = 3000, M = 300 };
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct fx_actor *anchor = fx_actor_new("CN"), *miner = fx_actor_new("CN");
	struct fx_env *feed = calloc(N, sizeof(*feed)), *forks = calloc(M, sizeof(*forks));
	struct ls_ingest_result *res = calloc(N, sizeof(*res));
	struct fx_env cert;
	struct fx_mark m;
	unsigned long d_feed, d_forks;
	double ratio;

	(void)state;
	assert_non_null(dir);
	assert_non_null(anchor);
	assert_non_null(miner);
	assert_non_null(feed);
	assert_non_null(forks);
	assert_non_null(res);
	assert_int_equal(fx_store_open(dir, anchor, (size_t)1 << 30, &s), 0);
	cert = fx_cert(anchor, miner, "Mine", "CN", LS_ROLE_MINER, 0, 0);
	assert_int_equal(fx_ingest_one(s, cert.buf, cert.len, NULL), 0);
	for (size_t i = 0; i < N; i++) {
		feed[i] = fx_lot(miner, "ore", NULL, NULL, "ore", 1000, "Nd=1000");
		assert_non_null(feed[i].buf);
	}
	m = fx_mark(miner);
	for (size_t i = 0; i < M; i++) {
		char label[32];
		fx_rewind(miner, &m);
		snprintf(label, sizeof(label), "fork-%zu", i);
		forks[i] = fx_lot(miner, label, NULL, NULL, "ore", 1000, "Nd=1000");
		assert_non_null(forks[i].buf);
	}
	/* Work is counted in record decodes, not seconds (the machine is
	 * shared): a fork at the head of a long feed must cost about what a
	 * record costs, not a fold of the whole feed. */
	fault.decodes = 0;
	assert_int_equal(fx_ingest(s, feed, N, res), 0);
	d_feed = fault.decodes;
	/* forks[0] is the feed's record at seq N + 1; forks[1], the first
	 * fork, folds the feed once; the others, each in a batch of its own,
	 * start from the store's copy of that fold. */
	assert_int_equal(fx_ingest(s, forks, 2, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_ACCEPTED);
	fault.decodes = 0;
	for (size_t i = 2; i < M; i++) {
		assert_int_equal(fx_ingest(s, &forks[i], 1, res), 0);
		assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	}
	d_forks = fault.decodes;
	ratio = ((double)d_forks / (M - 2)) / ((double)d_feed / N);
	if (ratio >= 10.0)
		fprintf(stderr,
			"feed: %d records, %lu decodes; %d more forks at seq %d, %lu decodes: "
			"%.0fx per record\n",
			N, d_feed, M - 2, N + 1, d_forks, ratio);
	assert_true(ratio < 10.0);
	for (size_t i = 0; i < N; i++)
		fx_env_release(&feed[i]);
	for (size_t i = 0; i < M; i++)
		fx_env_release(&forks[i]);
	free(feed);
	free(forks);
	free(res);
	fx_env_release(&cert);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
	fx_actor_free(&anchor);
	fx_actor_free(&miner);
}

/* An ownership record signed by `auth` (owner owns ppm of sub for cc). */
static struct fx_env
ownership(struct fx_actor *auth, const char *owner, const char *sub, uint32_t ppm, const char *cc,
	  uint64_t from)
{
	struct ls_record *r = ls_record_new(LS_REC_OWNERSHIP);
	struct fx_env e = {0};

	assert_non_null(r);
	r->ownership.owner = owner;
	r->ownership.subsidiary = sub;
	r->ownership.share_ppm = ppm;
	memcpy(r->ownership.jurisdiction, cc, 3);
	r->ownership.from = from;
	assert_int_equal(fx_sign(auth, r, &e), 0);
	ls_record_free(r);
	return e;
}

/* Whether an export of the magnets by their maker to key `to` (US) is
 * end-user-denied; *own: the verdict names record own_id. */
static bool
denied_to(struct world *w, const struct fx_actor *to, const uint8_t *own_id, bool *names_own)
{
	struct ls_export_query q;
	struct ls_verdict v;
	bool denied = false;

	world_export_query(&q, w->magnets, w->maker, "US", NULL, NULL);
	q.has_end_user = true;
	memcpy(q.end_user, to->kp->pk, 32);
	assert_int_equal(ls_verify_export(w->s, &q, &v), 0);
	*names_own = false;
	for (size_t i = 0; i < v.n; i++)
		if (v.reasons[i].code == LS_R_END_USER_DENIED) {
			denied = true;
			for (size_t k = 0; own_id != NULL && k < v.reasons[i].n_ids; k++)
				*names_own |= memcmp(v.reasons[i].ids[k], own_id, 32) == 0;
		}
	assert_true(denied == (v.kind == LS_V_DENIED));
	ls_verdict_release(&v);
	return denied;
}

/*
 * MOFCOM No. 61: a denial extends to subsidiaries owned 50 % or more, by an
 * ownership record of the policy's jurisdiction only. Germany's authority
 * cannot state one for China (consensus: untrusted); its statement for
 * Germany is stored but extends nothing under China's policy; a 49.9999 %
 * holding or a statement dated after the question does not extend it;
 * China's own statement does, and the verdict names it; so does a chain of
 * two such owners.
 */
static void
test_attack_ownership_other_jurisdiction(void **state)
{
	struct world *w = *state;
	struct fx_policy_spec ps;
	struct fx_env e;
	struct fx_actor *sub = fx_actor_new("US"), *subsub = fx_actor_new("US");
	uint8_t own[32];
	bool names;

	assert_non_null(sub);
	assert_non_null(subsub);
	PUT(w, fx_cert(w->root, sub, "US Motors Fleet", "US", LS_ROLE_IMPORTER, 0, 0));
	PUT(w, fx_cert(w->root, subsub, "Fleet Parts", "US", LS_ROLE_IMPORTER, 0, 0));
	memset(&ps, 0, sizeof(ps));
	ps.name = "CN list";
	ps.effective_from = FX_T0;
	ps.elements = "Dy";
	ps.denied_end_user_names = "US Motors";
	ps.applies_to_reexport = true;
	ps.de_minimis_ppm = 1;
	PUT(w, fx_policy(w->cn_auth, &ps));
	assert_true(denied_to(w, w->us, NULL, &names));
	assert_false(denied_to(w, sub, NULL, &names));

	{
		struct fx_mark m = fx_mark(w->de_auth); /* its feed goes on without it */
		e = ownership(w->de_auth, "US Motors", "US Motors Fleet", 1000000, "CN", 0);
		NOT_STORED(w, e, LS_R_UNTRUSTED);
		fx_env_release(&e);
		fx_rewind(w->de_auth, &m);
	}
	PUT(w, ownership(w->de_auth, "US Motors", "US Motors Fleet", 1000000, "DE", 0));
	assert_false(denied_to(w, sub, NULL, &names));
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Fleet", 499999, "CN", 0));
	assert_false(denied_to(w, sub, NULL, &names));
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Fleet", 900000, "CN",
			 FX_T0 + 31 * FX_DAY));
	assert_false(denied_to(w, sub, NULL, &names)); /* asked on day 30 */

	e = ownership(w->cn_auth, "US Motors", "US Motors Fleet", 500000, "CN", 0);
	memcpy(own, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	assert_true(denied_to(w, sub, own, &names));
	assert_true(names);
	assert_false(denied_to(w, subsub, NULL, &names));
	e = ownership(w->cn_auth, "US Motors Fleet", "Fleet Parts", 510000, "CN", 0);
	memcpy(own, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	assert_true(denied_to(w, subsub, own, &names));
	assert_true(names);
	fx_actor_free(&sub);
	fx_actor_free(&subsub);
}

/* The "CN list" policy of the ownership tests: denies "US Motors" by name. */
static void
cn_list(struct world *w)
{
	struct fx_policy_spec ps;

	memset(&ps, 0, sizeof(ps));
	ps.name = "CN list";
	ps.effective_from = FX_T0;
	ps.elements = "Dy";
	ps.denied_end_user_names = "US Motors";
	ps.applies_to_reexport = true;
	ps.de_minimis_ppm = 1;
	PUT(w, fx_policy(w->cn_auth, &ps));
}

/*
 * A listed firm hides behind its subsidiaries: it holds 49 % of US Motors
 * Fleet itself and 49 % through US Motors Holding, which it owns outright.
 * It owns 98 % of the fleet (No. 61's "50 %-owned" counts what it holds
 * through the companies it controls, as every 50 % rule does), and the
 * code, which asked for one record of 50 % or more, let it through. Two
 * statements of the same holding (30 % restated) are one holding of 30 %,
 * not 60 %. A subsidiary certified in other letter case ("us motors fleet")
 * is the organisation a denial by name would catch, and so is its owner's
 * statement.
 */
static void
test_attack_ownership_split_holdings(void **state)
{
	struct world *w = *state;
	struct fx_actor *sub = fx_actor_new("US"), *low = fx_actor_new("US");
	bool names;

	assert_non_null(sub);
	assert_non_null(low);
	PUT(w, fx_cert(w->root, sub, "US Motors Fleet", "US", LS_ROLE_IMPORTER, 0, 0));
	PUT(w, fx_cert(w->root, low, "us motors spares", "US", LS_ROLE_IMPORTER, 0, 0));
	cn_list(w);
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Fleet", 490000, "CN", 0));
	assert_false(denied_to(w, sub, NULL, &names));
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Holding", 1000000, "CN", 0));
	PUT(w, ownership(w->cn_auth, "US Motors Holding", "US Motors Fleet", 490000, "CN", 0));
	assert_true(denied_to(w, sub, NULL, &names));

	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Spares", 300000, "CN", 0));
	w->cn_auth->ts += FX_DAY / 2;
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Spares", 300000, "CN", 0));
	assert_false(denied_to(w, low, NULL, &names)); /* 30 %, stated twice */
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Spares", 510000, "CN", 0));
	assert_true(denied_to(w, low, NULL, &names)); /* the name in other case */
	fx_actor_free(&sub);
	fx_actor_free(&low);
}

/*
 * Cross-holdings: twelve companies each owning 50 % of every other one,
 * none of them listed, and the buyer owned by all of them. The search
 * followed every path of up to eight links (12 x 11^7 of them, each
 * scanning every ownership record): one export question took 29 s of CPU,
 * eleven times more for each company added. A cycle (A owns B owns A) is
 * not a denial either.
 */
static void
test_attack_ownership_cycles(void **state)
{
	struct world *w = *state;
	struct fx_actor *buyer = fx_actor_new("US");
	char names[12][24];
	struct timespec t0, t1;
	bool named;

	assert_non_null(buyer);
	PUT(w, fx_cert(w->root, buyer, "Ring Buyer", "US", LS_ROLE_IMPORTER, 0, 0));
	cn_list(w);
	for (int i = 0; i < 12; i++)
		snprintf(names[i], sizeof(names[i]), "Ring %d", i);
	for (int i = 0; i < 12; i++) {
		PUT(w, ownership(w->cn_auth, names[i], "Ring Buyer", 500000, "CN", 0));
		for (int j = 0; j < 12; j++)
			if (j != i)
				PUT(w, ownership(w->cn_auth, names[i], names[j], 500000, "CN", 0));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_false(denied_to(w, buyer, NULL, &named));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	/* One of the ring is listed's: every one, and the buyer, is denied. */
	PUT(w, ownership(w->cn_auth, "US Motors", names[7], 500000, "CN", 0));
	assert_true(denied_to(w, buyer, NULL, &named));
	fx_actor_free(&buyer);
}

/*
 * An ownership record signed by China's authority after the anchor revoked
 * it is stored (a revocation never removes a record) but extends nothing;
 * the policy it signed before still denies the listed firm by name.
 */
static void
test_attack_ownership_revoked_authority(void **state)
{
	struct world *w = *state;
	struct fx_actor *sub = fx_actor_new("US");
	uint64_t t;
	bool names;

	assert_non_null(sub);
	PUT(w, fx_cert(w->root, sub, "US Motors Fleet", "US", LS_ROLE_IMPORTER, 0, 0));
	cn_list(w);
	t = w->cn_auth->ts;
	w->root->ts = t + FX_DAY;
	PUT(w, fx_revoke(w->root, w->cn_auth->kp->pk, t + FX_DAY));
	w->cn_auth->ts = t + 2 * FX_DAY;
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Fleet", 1000000, "CN", 0));
	assert_true(denied_to(w, w->us, NULL, &names));
	assert_false(denied_to(w, sub, NULL, &names));
	fx_actor_free(&sub);
}

/*
 * Arrival order: the ownership record is question time and admission, never
 * consensus. With it stored, the maker's own daemon refuses a transfer to
 * the subsidiary (end-user-denied), while the same transfer from a peer is
 * stored, as it is without the record: a node that got the two in the other
 * order holds the same records; verify flags the transfer either way.
 */
static void
test_attack_ownership_arrival_order(void **state)
{
	struct world *w = *state;
	struct fx_actor *sub = fx_actor_new("US");
	struct fx_env e;
	bool names;

	assert_non_null(sub);
	PUT(w, fx_cert(w->root, sub, "US Motors Fleet", "US", LS_ROLE_IMPORTER, 0, 0));
	cn_list(w);
	PUT(w, ownership(w->cn_auth, "US Motors", "US Motors Fleet", 600000, "CN", 0));
	assert_true(denied_to(w, sub, NULL, &names));
	e = fx_transfer(w->maker, w->magnets, 1000, sub, NULL, NULL);
	REFUSED(w, e, LS_R_END_USER_DENIED);
	STORED(w, e);
	fx_env_release(&e);
	fx_actor_free(&sub);
}

/*
 * Shell companies: US Motors owns Shell 1 outright, which owns Shell 2, ...,
 * which owns Shell 12, which owns the buyer. The search stopped at 8 links
 * ("no real group is deeper"), so a listed firm had only to stack nine
 * shells to sell to itself. Every link counts now; the work is bounded by
 * the ownership records, not by a depth.
 */
static void
test_attack_ownership_shell_chain(void **state)
{
	struct world *w = *state;
	struct fx_actor *buyer = fx_actor_new("US");
	char names[14][24];
	bool named;

	assert_non_null(buyer);
	PUT(w, fx_cert(w->root, buyer, "Shell Buyer", "US", LS_ROLE_IMPORTER, 0, 0));
	cn_list(w);
	snprintf(names[0], sizeof(names[0]), "US Motors");
	for (int i = 1; i < 13; i++)
		snprintf(names[i], sizeof(names[i]), "Shell %d", i);
	snprintf(names[13], sizeof(names[13]), "Shell Buyer");
	for (int i = 13; i > 0; i--) {
		PUT(w, ownership(w->cn_auth, names[i - 1], names[i], 1000000, "CN", 0));
		if (i > 1)
			assert_false(denied_to(w, buyer, NULL, &named)); /* not linked yet */
	}
	assert_true(denied_to(w, buyer, NULL, &named));
	fx_actor_free(&buyer);
}

static int
teardown(void **state)
{
	disarm();
	return world_teardown(state);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_attack_foreign_exemption_drops_reexport_bar,
					    world_setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attack_export_country_from_revoked_issuer,
					    world_setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attack_sender_picks_country_by_foreign_certificate,
					    world_setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_attack_certificate_country_unchecked_with_jurisdictions, world_setup,
		teardown),
	    cmocka_unit_test(test_attack_pending_sybils_evict_honest),
	    cmocka_unit_test_setup_teardown(test_attack_verify_fault_becomes_verdict, world_setup,
					    teardown),
	    cmocka_unit_test(test_attack_equivocation_branch_order_changes_verdict),
	    cmocka_unit_test(test_attack_fork_fold_quadratic),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_other_jurisdiction, world_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_split_holdings, world_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_cycles, world_setup, teardown),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_revoked_authority, world_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_arrival_order, world_setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attack_ownership_shell_chain, world_setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
