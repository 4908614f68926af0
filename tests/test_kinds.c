/*
 * test_kinds.c - every rule of every record kind, as tables.
 *
 * One table per kind (lib/kind/): each row names the rule, the side of
 * its boundary, the builder that makes the record under test in a fresh
 * world, and what ingest answers for it, both from a peer (consensus,
 * ls_store_ingest) and from a local client (admission too,
 * ls_store_ingest_admit with LS_ADMIT_LOCAL, in a second store holding the
 * same records). For the rules that only admission applies (revocations,
 * equivocation, out-of-scope revocations) the two answers differ; for every
 * other rule they are the same.
 *
 * The license table is the proof that ingest and the export question use
 * one rule (ls_license_check): every row is asked both as a transfer citing
 * the license at ingest and as ls_verify_export with that license for the
 * same exporter, lot, destination, end user, end use and time, under a
 * policy of the license issuer's jurisdiction that controls the lot, and
 * both must give the row's reason.
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
#include "store.h"
#include "verify.h"

/* FX_T0 plus whole days. */
#define T(days) (FX_T0 + (uint64_t)(days)*FX_DAY)

#define LOG_MAX   64
#define EXTRA_MAX 8

/* ---- the world every case starts from ---- */

enum actor {
	A_NONE = 0,
	A_ROOT,     /* a trust anchor: acts for every jurisdiction */
	A_ROOT2,    /* another trust anchor, with no records */
	A_CN,       /* China's authority */
	A_DE,       /* Germany's authority */
	A_EU,       /* an authority in BE acting for DE and FR (not BE) */
	A_MINER,    /* CN miner and exporter */
	A_RECYCLER, /* CN recycler */
	A_PROC,     /* CN processor and exporter */
	A_CNEXP,    /* CN exporter and importer */
	A_US,       /* US importer */
	A_US2,      /* another US importer */
	A_JP,       /* JP importer */
	A_AUDITOR,  /* CN auditor: certified, but for no record that moves material */
	A_N
};

static const char *const actor_country[A_N] = {
    [A_ROOT] = "CN",  [A_ROOT2] = "CN",    [A_CN] = "CN",      [A_DE] = "DE",    [A_EU] = "BE",
    [A_MINER] = "CN", [A_RECYCLER] = "CN", [A_PROC] = "CN",    [A_CNEXP] = "CN", [A_US] = "US",
    [A_US2] = "US",   [A_JP] = "JP",       [A_AUDITOR] = "CN",
};

struct world {
	char *dir, *dir_local;
	struct ls_store *s;       /* the records from a peer */
	struct ls_store *s_local; /* the same records, then the one under test from a client */
	struct fx_actor *a[A_N];
	struct fx_actor *extra[EXTRA_MAX]; /* actors a builder makes */
	size_t n_extra;
	struct fx_env log[LOG_MAX]; /* every record stored before the one under test */
	size_t n_log;
};

static const struct {
	enum actor who, issuer; /* certified in actor_country[who] */
	uint32_t roles;
	const char *jurisdictions; /* authorities only; NULL: its country */
} cast[] = {
    {A_CN, A_ROOT, LS_ROLE_AUTHORITY, NULL},
    {A_DE, A_ROOT, LS_ROLE_AUTHORITY, NULL},
    {A_EU, A_ROOT, LS_ROLE_AUTHORITY, "DE,FR"},
    {A_MINER, A_CN, LS_ROLE_MINER | LS_ROLE_EXPORTER, NULL},
    {A_RECYCLER, A_CN, LS_ROLE_RECYCLER, NULL},
    {A_PROC, A_CN, LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, NULL},
    {A_CNEXP, A_CN, LS_ROLE_EXPORTER | LS_ROLE_IMPORTER, NULL},
    {A_US, A_ROOT, LS_ROLE_IMPORTER, NULL},
    {A_US2, A_ROOT, LS_ROLE_IMPORTER, NULL},
    {A_JP, A_ROOT, LS_ROLE_IMPORTER, NULL},
    {A_AUDITOR, A_CN, LS_ROLE_AUDITOR, NULL},
};

#define W(x) (w->a[A_##x])

/* Splits "DE,FR" into r's arena. */
static bool
strlist(struct ls_record *r, const char *s, struct ls_strlist *l)
{
	size_t n = 1, k = 0;
	const char **v;

	for (const char *p = s; *p != '\0'; p++)
		n += *p == ',';
	if ((v = ls_record_alloc(r, n * sizeof(*v))) == NULL)
		return false;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ",");
		char *item = ls_record_alloc(r, len + 1);
		if (item == NULL)
			return false;
		memcpy(item, p, len);
		item[len] = '\0';
		v[k++] = item;
		p += len;
		if (*p == '\0')
			break;
	}
	l->n = k;
	l->v = v;
	return true;
}

/* A certificate for key; an authority's jurisdictions when juris is not NULL. */
static struct fx_env
cert_env(struct fx_actor *issuer, const uint8_t key[32], const char *country, uint32_t roles,
	 const char *juris, uint64_t from, uint64_t until)
{
	struct ls_record *r;
	struct fx_env e;

	memset(&e, 0, sizeof(e));
	if (juris == NULL)
		return fx_cert_key(issuer, key, "Test Org", country, roles, from, until);
	if ((r = ls_record_new(LS_REC_CERTIFICATE)) == NULL)
		return e;
	memcpy(r->certificate.subject, key, 32);
	r->certificate.org = ls_record_strdup(r, "Test Authority");
	snprintf(r->certificate.country, sizeof(r->certificate.country), "%s", country);
	r->certificate.roles = roles;
	r->certificate.valid_from = from;
	r->certificate.valid_until = until;
	if (strlist(r, juris, &r->certificate.jurisdictions))
		fx_sign(issuer, r, &e);
	ls_record_free(r);
	return e;
}

/* As cert_env for subject's key; subject's later records cite it. */
static struct fx_env
cert_for(struct fx_actor *issuer, struct fx_actor *subject, const char *country, uint32_t roles,
	 const char *juris, uint64_t from, uint64_t until)
{
	struct fx_env e = cert_env(issuer, subject->kp->pk, country, roles, juris, from, until);

	if (e.buf != NULL) {
		memcpy(subject->cert_id, e.id, 32);
		subject->has_cert = true;
	}
	return e;
}

static const char *
got_name(enum ls_ingest_status st, enum ls_reason reason)
{
	static char buf[4][64];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s %s", fx_status_name(st), ls_reason_code(reason));
	return buf[k];
}

/* Stores e from a peer (it must be accepted) and keeps it in the log.
 * Returns the record id, valid as long as the world. */
static const uint8_t *
put(struct world *w, struct fx_env e)
{
	struct ls_ingest_result res;

	if (e.buf == NULL)
		fail_msg("setup: a record could not be built");
	if (w->n_log == LOG_MAX)
		fail_msg("setup: log full");
	assert_int_equal(fx_ingest_one(w->s, e.buf, e.len, &res), 0);
	if (res.status != LS_INGEST_ACCEPTED)
		fail_msg("setup: %s record %s: %s", ls_rtype_name(e.type),
			 got_name(res.status, res.reason), res.message);
	w->log[w->n_log] = e;
	return w->log[w->n_log++].id;
}

static struct fx_actor *
fresh(struct world *w, const char *country)
{
	struct fx_actor *a = fx_actor_new(country);

	assert_non_null(a);
	assert_true(w->n_extra < EXTRA_MAX);
	w->extra[w->n_extra++] = a;
	return a;
}

/* A store in a fresh directory with the two trust anchors. */
static void
store_open(struct world *w, char **dir, struct ls_store **s)
{
	uint8_t anchors[2][32];
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};

	memcpy(anchors[0], W(ROOT)->kp->pk, 32);
	memcpy(anchors[1], W(ROOT2)->kp->pk, 32);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])anchors;
	o.n_anchors = 2;
	assert_non_null(*dir = fx_tmpdir());
	if (ls_store_open(*dir, &o, s, &ctx) != 0)
		fail_msg("store: %s", ctx.msg);
}

/* Every actor certified at FX_T0, in one batch. */
static struct world *
world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));
	struct ls_ingest_result res[sizeof(cast) / sizeof(cast[0])];
	size_t n = sizeof(cast) / sizeof(cast[0]);

	assert_non_null(w);
	for (int i = A_ROOT; i < A_N; i++)
		assert_non_null(w->a[i] = fx_actor_new(actor_country[i]));
	store_open(w, &w->dir, &w->s);
	for (size_t i = 0; i < n; i++) {
		w->log[i] =
		    cert_for(w->a[cast[i].issuer], w->a[cast[i].who], actor_country[cast[i].who],
			     cast[i].roles, cast[i].jurisdictions, 0, 0);
		assert_non_null(w->log[i].buf);
	}
	w->n_log = n;
	assert_int_equal(fx_ingest(w->s, w->log, n, res), 0);
	for (size_t i = 0; i < n; i++)
		if (res[i].status != LS_INGEST_ACCEPTED)
			fail_msg("world: certificate %zu: %s", i, res[i].message);
	return w;
}

/* The second store: every logged record from a peer, in one batch. */
static void
open_local(struct world *w)
{
	struct ls_ingest_result *res = calloc(w->n_log, sizeof(*res));

	assert_non_null(res);
	store_open(w, &w->dir_local, &w->s_local);
	assert_int_equal(fx_ingest(w->s_local, w->log, w->n_log, res), 0);
	for (size_t i = 0; i < w->n_log; i++)
		if (res[i].status != LS_INGEST_ACCEPTED)
			fail_msg("local store: record %zu: %s", i, res[i].message);
	free(res);
}

static void
world_free(struct world **wp)
{
	struct world *w = *wp;

	ls_store_close(&w->s);
	ls_store_close(&w->s_local);
	fx_rmtree(w->dir);
	fx_rmtree(w->dir_local);
	free(w->dir);
	free(w->dir_local);
	for (int i = 0; i < A_N; i++)
		fx_actor_free(&w->a[i]);
	for (size_t i = 0; i < w->n_extra; i++)
		fx_actor_free(&w->extra[i]);
	for (size_t i = 0; i < w->n_log; i++)
		fx_env_release(&w->log[i]);
	free(w);
	*wp = NULL;
}

/* The miner's lot: 100 kg of alloy with Dy, registered at T(1). */
static const uint8_t *
std_lot(struct world *w)
{
	W(MINER)->ts = T(1);
	return put(w, fx_lot(W(MINER), "dy-alloy", "Bayan Obo", "CN", "alloy", 100000,
			     "Nd=300000,Dy=60000"));
}

/* A license of China's authority for the miner: Dy to the US, 100 kg. */
static struct fx_license_spec
std_license(struct world *w)
{
	struct fx_license_spec ls;

	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-2025-1";
	ls.licensee = W(MINER)->kp->pk;
	ls.items = "Dy";
	ls.max_grams = 100000;
	ls.destinations = "US";
	return ls;
}

static struct fx_env
sign_receipt(struct fx_actor *a, const uint8_t transfer[32], uint64_t grams)
{
	struct ls_record *r = ls_record_new(LS_REC_RECEIPT);
	struct fx_env e;

	memset(&e, 0, sizeof(e));
	if (r == NULL)
		return e;
	memcpy(r->receipt.transfer, transfer, 32);
	r->receipt.grams = grams;
	fx_sign(a, r, &e);
	ls_record_free(r);
	return e;
}

/* ---- the tables ---- */

struct expect {
	enum ls_ingest_status st;
	enum ls_reason reason;
};

/* clang-format off */
#define STORED      {LS_INGEST_ACCEPTED, LS_R_OK}
#define REJECTED(r) {LS_INGEST_REJECTED, LS_R_##r}
/* clang-format on */
/* A consensus rule: a peer and a local client get the same answer. */
#define BOTH(x) .peer = x, .local = x

struct kcase {
	const char *rule;
	const char *side; /* which side of the rule's boundary */
	struct fx_env (*build)(struct world *w, const struct kcase *c);
	/* Builder parameters: each builder says which it reads. */
	enum actor who, to;
	const char *s, *s2;
	uint32_t roles;
	int64_t d;
	struct expect peer;  /* from a peer: consensus */
	struct expect local; /* from a local client: admission too */
};

static bool
same(const char *kind, const struct kcase *c, const char *from, const struct ls_ingest_result *res,
     const struct expect *want)
{
	if (res->status == want->st && res->reason == want->reason)
		return true;
	fprintf(stderr, "FAIL %s: %s [%s], from a %s: got %s (%s), want %s\n", kind, c->rule,
		c->side, from, got_name(res->status, res->reason), res->message,
		got_name(want->st, want->reason));
	return false;
}

static bool
run_case(const char *kind, enum ls_rtype type, const struct kcase *c)
{
	struct world *w = world_new();
	struct fx_env e = c->build(w, c);
	struct ls_ingest_result peer, local;
	bool ok = false;

	if (e.buf == NULL) {
		fprintf(stderr, "FAIL %s: %s [%s]: the record could not be built\n", kind, c->rule,
			c->side);
		goto out;
	}
	if (e.type != type) {
		fprintf(stderr, "FAIL %s: %s [%s]: built a %s record\n", kind, c->rule, c->side,
			ls_rtype_name(e.type));
		goto out;
	}
	open_local(w);
	assert_int_equal(fx_ingest_one(w->s, e.buf, e.len, &peer), 0);
	assert_int_equal(fx_submit_one(w->s_local, e.buf, e.len, &local), 0);
	ok = same(kind, c, "peer", &peer, &c->peer);
	ok = same(kind, c, "local client", &local, &c->local) && ok;
out:
	fx_env_release(&e);
	world_free(&w);
	return ok;
}

static void
run_table(const char *kind, enum ls_rtype type, const struct kcase *cases, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (!run_case(kind, type, &cases[i]))
			failed++;
	}
	if (failed > 0)
		fail_msg("%s: %zu of %zu cases failed", kind, failed, n);
}

#define RUN(kind, type, table) run_table(kind, type, table, sizeof(table) / sizeof(table[0]))

/* ---- certificate ---- */

/* who certifies a fresh key of country s with roles; an authority's
 * jurisdictions are s2 (NULL: its country). */
static struct fx_env
b_cert(struct world *w, const struct kcase *c)
{
	uint8_t key[32];

	randombytes_buf(key, sizeof(key));
	return cert_env(w->a[c->who], key, c->s, c->roles, c->s2, 0, 0);
}

/* A CN sub-authority whose certificate ends at T(1) certifies a miner at
 * T(1) + d seconds. */
static struct fx_env
b_cert_issuer_period(struct world *w, const struct kcase *c)
{
	struct fx_actor *sub = fresh(w, "CN");
	uint8_t key[32];

	put(w, cert_for(W(CN), sub, "CN", LS_ROLE_AUTHORITY, NULL, 0, T(1)));
	sub->ts = (uint64_t)((int64_t)T(1) + c->d);
	randombytes_buf(key, sizeof(key));
	return cert_env(sub, key, "CN", LS_ROLE_MINER, NULL, 0, 0);
}

/* The root revokes China's authority from T(2) + d seconds; it certifies a
 * miner at T(2). */
static struct fx_env
b_cert_issuer_revoked(struct world *w, const struct kcase *c)
{
	uint8_t key[32];

	W(ROOT)->ts = T(1);
	put(w, fx_revoke(W(ROOT), W(CN)->kp->pk, (uint64_t)((int64_t)T(2) + c->d)));
	W(CN)->ts = T(2);
	randombytes_buf(key, sizeof(key));
	return cert_env(W(CN), key, "CN", LS_ROLE_MINER, NULL, 0, 0);
}

static const struct kcase certificate_cases[] = {
    {"the issuer acts for the subject's country", "its own country", b_cert, .who = A_CN, .s = "CN",
     .roles = LS_ROLE_MINER, BOTH(STORED)},
    {"the issuer acts for the subject's country", "another country (untrusted)", b_cert,
     .who = A_CN, .s = "DE", .roles = LS_ROLE_MINER, BOTH(REJECTED(UNTRUSTED))},
    {"the issuer acts for the subject's country", "a trust anchor acts for every country", b_cert,
     .who = A_ROOT, .s = "JP", .roles = LS_ROLE_IMPORTER, BOTH(STORED)},
    {"the issuer acts for the subject's country", "a listed jurisdiction (FR)", b_cert, .who = A_EU,
     .s = "FR", .roles = LS_ROLE_IMPORTER, BOTH(STORED)},
    {"the issuer acts for the subject's country",
     "its own country, not listed among its jurisdictions (untrusted)", b_cert, .who = A_EU,
     .s = "BE", .roles = LS_ROLE_IMPORTER, BOTH(REJECTED(UNTRUSTED))},
    {"an authority's jurisdictions are a subset of the issuer's", "a strict subset (DE)", b_cert,
     .who = A_EU, .s = "DE", .s2 = "DE", .roles = LS_ROLE_AUTHORITY, BOTH(STORED)},
    {"an authority's jurisdictions are a subset of the issuer's", "the same set (DE,FR)", b_cert,
     .who = A_EU, .s = "DE", .s2 = "DE,FR", .roles = LS_ROLE_AUTHORITY, BOTH(STORED)},
    {"an authority's jurisdictions are a subset of the issuer's",
     "one more jurisdiction (DE,IT: untrusted)", b_cert, .who = A_EU, .s = "DE", .s2 = "DE,IT",
     .roles = LS_ROLE_AUTHORITY, BOTH(REJECTED(UNTRUSTED))},
    {"an authority's jurisdictions are a subset of the issuer's",
     "none listed: its country, inside the issuer's scope", b_cert, .who = A_CN, .s = "CN",
     .roles = LS_ROLE_AUTHORITY, BOTH(STORED)},
    {"an authority's jurisdictions are a subset of the issuer's",
     "none listed: its country, outside the issuer's scope (untrusted)", b_cert, .who = A_CN,
     .s = "DE", .roles = LS_ROLE_AUTHORITY, BOTH(REJECTED(UNTRUSTED))},
    {"the author is an authority", "an authority", b_cert, .who = A_DE, .s = "DE",
     .roles = LS_ROLE_IMPORTER, BOTH(STORED)},
    {"the author is an authority", "a miner and exporter (wrong-role)", b_cert, .who = A_MINER,
     .s = "CN", .roles = LS_ROLE_MINER, BOTH(REJECTED(WRONG_ROLE))},
    {"the issuer's certificate is in its period", "one second before its end", b_cert_issuer_period,
     .d = -1, BOTH(STORED)},
    {"the issuer's certificate is in its period", "at its end (certificate-expired)",
     b_cert_issuer_period, .d = 0, BOTH(REJECTED(CERT_EXPIRED))},
    {"admission: the issuer is not revoked", "revoked at the certificate's date",
     b_cert_issuer_revoked, .d = 0, .peer = STORED, .local = REJECTED(REVOKED)},
    {"admission: the issuer is not revoked", "revoked one second after it", b_cert_issuer_revoked,
     .d = 1, BOTH(STORED)},
};

static void
test_kinds_certificate(void **state)
{
	(void)state;
	RUN("certificate", LS_REC_CERTIFICATE, certificate_cases);
}

/* ---- revocation ---- */

/* who revokes, at T(1) from T(1): to's key (s "key"), to's certificate
 * ("cert"), a license China's authority issued to the miner ("license"), or
 * a key nobody certified ("unknown"). */
static struct fx_env
b_revoke(struct world *w, const struct kcase *c)
{
	uint8_t subject[32];

	if (strcmp(c->s, "key") == 0) {
		memcpy(subject, w->a[c->to]->kp->pk, 32);
	} else if (strcmp(c->s, "cert") == 0) {
		memcpy(subject, w->a[c->to]->cert_id, 32);
	} else if (strcmp(c->s, "license") == 0) {
		struct fx_license_spec ls = std_license(w);
		memcpy(subject, put(w, fx_license(W(CN), &ls)), 32);
	} else {
		randombytes_buf(subject, sizeof(subject));
	}
	w->a[c->who]->ts = T(1);
	return fx_revoke(w->a[c->who], subject, T(1));
}

/* China's authority certifies a CN sub-authority, which certifies a miner
 * p. "up": China's authority revokes p (certified down its chain); "down":
 * the sub-authority revokes the world's miner (certified by its parent). */
static struct fx_env
b_revoke_chain(struct world *w, const struct kcase *c)
{
	struct fx_actor *sub = fresh(w, "CN"), *p = fresh(w, "CN");

	put(w, cert_for(W(CN), sub, "CN", LS_ROLE_AUTHORITY, NULL, 0, 0));
	put(w, cert_for(sub, p, "CN", LS_ROLE_MINER, NULL, 0, 0));
	if (strcmp(c->s, "up") == 0) {
		W(CN)->ts = T(1);
		return fx_revoke(W(CN), p->kp->pk, T(1));
	}
	sub->ts = T(1);
	return fx_revoke(sub, W(MINER)->kp->pk, T(1));
}

static const struct kcase revocation_cases[] = {
    {"the author is an authority", "an authority revokes a key it certified", b_revoke, .who = A_CN,
     .to = A_MINER, .s = "key", BOTH(STORED)},
    {"the author is an authority", "an authority revokes a certificate it issued", b_revoke,
     .who = A_CN, .to = A_MINER, .s = "cert", BOTH(STORED)},
    {"the author is an authority", "an authority revokes a license it issued", b_revoke,
     .who = A_CN, .s = "license", BOTH(STORED)},
    {"the author is an authority", "a trust anchor revokes any key", b_revoke, .who = A_ROOT,
     .to = A_MINER, .s = "key", BOTH(STORED)},
    {"the author is an authority", "a non-authority revokes another key (wrong-role)", b_revoke,
     .who = A_MINER, .to = A_PROC, .s = "key", BOTH(REJECTED(WRONG_ROLE))},
    {"the author is an authority", "a non-authority revokes another's certificate (wrong-role)",
     b_revoke, .who = A_MINER, .to = A_PROC, .s = "cert", BOTH(REJECTED(WRONG_ROLE))},
    {"or the key itself", "a miner revokes its own key", b_revoke, .who = A_MINER, .to = A_MINER,
     .s = "key", BOTH(STORED)},
    {"or the key itself", "an importer revokes its own key", b_revoke, .who = A_US, .to = A_US,
     .s = "key", BOTH(STORED)},
    {"or the key itself", "a trust anchor revokes itself", b_revoke, .who = A_ROOT, .to = A_ROOT,
     .s = "key", BOTH(STORED)},
    /* README: a revocation counts when its author is "the key itself";
     * ls_revoked (in_chain: "or is grant's own subject key") and admission
     * count a key revoking its own certificate, but the consensus author
     * check lifts the role only for subject == author key, so a
     * participant's revocation of its own certificate is never stored. */
    {"or the key itself", "a miner revokes its own certificate", b_revoke, .who = A_MINER,
     .to = A_MINER, .s = "cert", BOTH(STORED)},
    {"admission: in the author's scope", "another jurisdiction's authority revokes a key", b_revoke,
     .who = A_DE, .to = A_MINER, .s = "key", .peer = STORED, .local = REJECTED(UNTRUSTED)},
    {"admission: in the author's scope", "another jurisdiction's authority revokes a certificate",
     b_revoke, .who = A_DE, .to = A_MINER, .s = "cert", .peer = STORED,
     .local = REJECTED(UNTRUSTED)},
    {"admission: in the author's scope", "another jurisdiction's authority revokes a license",
     b_revoke, .who = A_DE, .s = "license", .peer = STORED, .local = REJECTED(UNTRUSTED)},
    {"admission: in the author's scope", "an authority revokes a trust anchor", b_revoke,
     .who = A_CN, .to = A_ROOT, .s = "key", .peer = STORED, .local = REJECTED(UNTRUSTED)},
    /* A trust anchor is revoked only by itself (ls_revoked: such a
     * revocation never counts), but admit() lets any trust anchor's
     * revocation through before it asks whether the subject is another
     * trust anchor. */
    {
	"admission: in the author's scope",
	"a trust anchor revokes another trust anchor",
	b_revoke,
	.who = A_ROOT,
	.to = A_ROOT2,
	.s = "key",
	.peer = STORED,
	.local = REJECTED(UNTRUSTED),
    },
    {"admission: in the author's scope", "a key nobody certified (cannot tell)", b_revoke,
     .who = A_DE, .s = "unknown", BOTH(STORED)},
    {"admission: in the author's scope", "up the chain: the sub-authority's participant",
     b_revoke_chain, .s = "up", BOTH(STORED)},
    {"admission: in the author's scope", "down the chain: the parent's participant", b_revoke_chain,
     .s = "down", .peer = STORED, .local = REJECTED(UNTRUSTED)},
};

static void
test_kinds_revocation(void **state)
{
	(void)state;
	RUN("revocation", LS_REC_REVOCATION, revocation_cases);
}

/* ---- policy ---- */

/* A policy of jurisdiction jur by its authority ("CN-root": China's, by the
 * trust anchor), at FX_T0; "cert": the miner's certificate, not a policy. */
static const uint8_t *
prior_policy(struct world *w, const char *jur)
{
	struct fx_policy_spec ps;
	struct fx_actor *a;

	if (strcmp(jur, "cert") == 0)
		return W(MINER)->cert_id;
	memset(&ps, 0, sizeof(ps));
	ps.effective_from = FX_T0;
	ps.elements = "Dy";
	if (strcmp(jur, "CN-root") == 0) {
		a = W(ROOT);
		ps.jurisdiction = "CN";
	} else {
		a = strcmp(jur, "CN") == 0 ? W(CN) : strcmp(jur, "DE") == 0 ? W(DE) : W(EU);
		ps.jurisdiction = jur;
	}
	return put(w, fx_policy(a, &ps));
}

static struct fx_env
policy_suspending(struct fx_actor *a, const char *jur, const uint8_t old[32])
{
	struct ls_record *r = ls_record_new(LS_REC_POLICY);
	struct ls_suspension *sus;
	struct fx_env e;

	memset(&e, 0, sizeof(e));
	if (r == NULL || (sus = ls_record_alloc(r, sizeof(*sus))) == NULL) {
		ls_record_free(r);
		return e;
	}
	snprintf(r->policy.jurisdiction, sizeof(r->policy.jurisdiction), "%s", jur);
	r->policy.name = ls_record_strdup(r, "suspension");
	r->policy.effective_from = T(1);
	r->policy.n_elements = 1;
	r->policy.elements[0] = ls_element_z("Dy");
	memcpy(sus->policy, old, 32);
	sus->from = T(1);
	sus->until = T(2);
	r->policy.n_suspends = 1;
	r->policy.suspends = sus;
	fx_sign(a, r, &e);
	ls_record_free(r);
	return e;
}

/* who publishes a policy for jurisdiction s at T(1); with s2, it supersedes
 * (d 0) or suspends (d 1) prior_policy(s2). */
static struct fx_env
b_policy(struct world *w, const struct kcase *c)
{
	const uint8_t *old = c->s2 != NULL ? prior_policy(w, c->s2) : NULL;
	uint8_t sup[1][32];
	struct fx_policy_spec ps;

	w->a[c->who]->ts = T(1);
	if (old != NULL && c->d == 1)
		return policy_suspending(w->a[c->who], c->s, old);
	memset(&ps, 0, sizeof(ps));
	ps.jurisdiction = c->s;
	ps.effective_from = T(1);
	ps.elements = "Dy";
	if (old != NULL) {
		memcpy(sup[0], old, 32);
		ps.supersedes = (const uint8_t(*)[32])sup;
		ps.n_supersedes = 1;
	}
	return fx_policy(w->a[c->who], &ps);
}

static const struct kcase policy_cases[] = {
    {"the jurisdiction is in the author's scope", "its own", b_policy, .who = A_CN, .s = "CN",
     BOTH(STORED)},
    {"the jurisdiction is in the author's scope", "another (untrusted)", b_policy, .who = A_CN,
     .s = "DE", BOTH(REJECTED(UNTRUSTED))},
    {"the jurisdiction is in the author's scope", "a trust anchor's: any", b_policy, .who = A_ROOT,
     .s = "DE", BOTH(STORED)},
    {"the jurisdiction is in the author's scope", "a listed jurisdiction (FR)", b_policy,
     .who = A_EU, .s = "FR", BOTH(STORED)},
    {"the jurisdiction is in the author's scope", "its own country, not listed (BE: untrusted)",
     b_policy, .who = A_EU, .s = "BE", BOTH(REJECTED(UNTRUSTED))},
    {"the author is an authority", "a miner (wrong-role)", b_policy, .who = A_MINER, .s = "CN",
     BOTH(REJECTED(WRONG_ROLE))},
    {"supersedes only its jurisdiction's policies", "a policy of the same jurisdiction", b_policy,
     .who = A_CN, .s = "CN", .s2 = "CN", BOTH(STORED)},
    {"supersedes only its jurisdiction's policies",
     "the same jurisdiction's policy by the trust anchor", b_policy, .who = A_CN, .s = "CN",
     .s2 = "CN-root", BOTH(STORED)},
    {"supersedes only its jurisdiction's policies", "a policy of another (untrusted)", b_policy,
     .who = A_DE, .s = "DE", .s2 = "CN", BOTH(REJECTED(UNTRUSTED))},
    {"supersedes only its jurisdiction's policies", "a record that is not a policy (malformed)",
     b_policy, .who = A_CN, .s = "CN", .s2 = "cert", BOTH(REJECTED(MALFORMED))},
    {"suspends only its jurisdiction's policies", "a policy of the same jurisdiction", b_policy,
     .who = A_CN, .s = "CN", .s2 = "CN", .d = 1, BOTH(STORED)},
    {"suspends only its jurisdiction's policies", "a policy of another (untrusted)", b_policy,
     .who = A_DE, .s = "DE", .s2 = "CN", .d = 1, BOTH(REJECTED(UNTRUSTED))},
    {"suspends only its jurisdiction's policies", "a record that is not a policy (malformed)",
     b_policy, .who = A_CN, .s = "CN", .s2 = "cert", .d = 1, BOTH(REJECTED(MALFORMED))},
};

static void
test_kinds_policy(void **state)
{
	(void)state;
	RUN("policy", LS_REC_POLICY, policy_cases);
}

/* ---- license (the record; the coverage rule is the agreement table) ---- */

/* who issues std_license at T(1). */
static struct fx_env
b_license(struct world *w, const struct kcase *c)
{
	struct fx_license_spec ls = std_license(w);

	w->a[c->who]->ts = T(1);
	return fx_license(w->a[c->who], &ls);
}

/* The root revokes China's authority from T(1) + d seconds; it issues a
 * license at T(1). */
static struct fx_env
b_license_issuer_revoked(struct world *w, const struct kcase *c)
{
	struct fx_license_spec ls = std_license(w);

	put(w, fx_revoke(W(ROOT), W(CN)->kp->pk, (uint64_t)((int64_t)T(1) + c->d)));
	W(CN)->ts = T(1);
	return fx_license(W(CN), &ls);
}

static const struct kcase license_cases[] = {
    {"the author is an authority", "China's authority", b_license, .who = A_CN, BOTH(STORED)},
    {"the author is an authority", "a trust anchor", b_license, .who = A_ROOT, BOTH(STORED)},
    {"the author is an authority",
     "another jurisdiction's (stored: its scope is the export question's)", b_license, .who = A_DE,
     BOTH(STORED)},
    {"the author is an authority", "a miner (wrong-role)", b_license, .who = A_MINER,
     BOTH(REJECTED(WRONG_ROLE))},
    {"admission: the issuer is not revoked", "revoked at the license's date",
     b_license_issuer_revoked, .d = 0, .peer = STORED, .local = REJECTED(REVOKED)},
    {"admission: the issuer is not revoked", "revoked one second after it",
     b_license_issuer_revoked, .d = 1, BOTH(STORED)},
};

static void
test_kinds_license(void **state)
{
	(void)state;
	RUN("license", LS_REC_LICENSE, license_cases);
}

/* ---- lot ---- */

/* A fresh CN key certified by China's authority with roles, registers a lot
 * at FX_T0. */
static struct fx_env
b_lot_role(struct world *w, const struct kcase *c)
{
	struct fx_actor *m = fresh(w, "CN");

	put(w, cert_for(W(CN), m, "CN", c->roles, NULL, 0, 0));
	return fx_lot(m, "ore", NULL, NULL, "ore", 1000, "Nd=300000,Dy=60000");
}

/* A fresh miner certified from T(1) until T(3) registers a lot at the start
 * (s "from") or the end ("until") plus d seconds. */
static struct fx_env
b_lot_period(struct world *w, const struct kcase *c)
{
	struct fx_actor *m = fresh(w, "CN");

	put(w, cert_for(W(CN), m, "CN", LS_ROLE_MINER, NULL, T(1), T(3)));
	m->ts = (uint64_t)((int64_t)(strcmp(c->s, "from") == 0 ? T(1) : T(3)) + c->d);
	return fx_lot(m, "ore", NULL, NULL, "ore", 1000, "Nd=300000,Dy=60000");
}

/* The miner's lot citing as its certificate: the processor's ("other"), a
 * record that is not a certificate ("not-cert"), or none ("none"). */
static struct fx_env
b_lot_cert(struct world *w, const struct kcase *c)
{
	struct fx_actor *m = W(MINER);

	if (strcmp(c->s, "other") == 0) {
		memcpy(m->cert_id, W(PROC)->cert_id, 32);
	} else if (strcmp(c->s, "not-cert") == 0) {
		memcpy(m->cert_id, std_lot(w), 32);
	} else {
		m = fresh(w, "CN");
		m->has_cert = false;
	}
	m->ts = T(2);
	return fx_lot(m, "ore", NULL, NULL, "ore", 1000, "Nd=300000,Dy=60000");
}

/* China's authority revokes the miner's key (s "key") or certificate
 * ("cert") from T(1) + d seconds; the miner registers a lot at T(1). */
static struct fx_env
b_lot_revoked(struct world *w, const struct kcase *c)
{
	const uint8_t *subject = strcmp(c->s, "key") == 0 ? W(MINER)->kp->pk : W(MINER)->cert_id;

	put(w, fx_revoke(W(CN), subject, (uint64_t)((int64_t)T(1) + c->d)));
	W(MINER)->ts = T(1);
	return fx_lot(W(MINER), "ore", NULL, NULL, "ore", 1000, "Nd=300000,Dy=60000");
}

/* The root revokes China's authority from FX_T0 + d seconds: the miner's
 * certificate was issued at FX_T0. */
static struct fx_env
b_lot_issuer_revoked(struct world *w, const struct kcase *c)
{
	put(w, fx_revoke(W(ROOT), W(CN)->kp->pk, (uint64_t)((int64_t)FX_T0 + c->d)));
	W(MINER)->ts = T(1);
	return fx_lot(W(MINER), "ore", NULL, NULL, "ore", 1000, "Nd=300000,Dy=60000");
}

/* The miner's feed: a lot at T(2), then one at T(2) + d seconds. */
static struct fx_env
b_lot_feed_time(struct world *w, const struct kcase *c)
{
	W(MINER)->ts = T(2);
	put(w, fx_lot(W(MINER), "first", NULL, NULL, "ore", 1000, "Dy=1000"));
	W(MINER)->ts = (uint64_t)((int64_t)T(2) + c->d);
	return fx_lot(W(MINER), "second", NULL, NULL, "ore", 1000, "Dy=1000");
}

/* The miner signs two different lots at seq 1. */
static struct fx_env
b_lot_equivocation(struct world *w, const struct kcase *c)
{
	struct fx_mark m = fx_mark(W(MINER));

	(void)c;
	put(w, fx_lot(W(MINER), "first", NULL, NULL, "ore", 1000, "Dy=1000"));
	fx_rewind(W(MINER), &m);
	return fx_lot(W(MINER), "second", NULL, NULL, "ore", 1000, "Dy=1000");
}

static const struct kcase lot_cases[] = {
    {"the author is a miner or recycler", "a miner", b_lot_role, .roles = LS_ROLE_MINER,
     BOTH(STORED)},
    {"the author is a miner or recycler", "a recycler", b_lot_role, .roles = LS_ROLE_RECYCLER,
     BOTH(STORED)},
    {"the author is a miner or recycler", "a processor only (wrong-role)", b_lot_role,
     .roles = LS_ROLE_PROCESSOR, BOTH(REJECTED(WRONG_ROLE))},
    {"the author is a miner or recycler", "an exporter and importer (wrong-role)", b_lot_role,
     .roles = LS_ROLE_EXPORTER | LS_ROLE_IMPORTER, BOTH(REJECTED(WRONG_ROLE))},
    {"dated inside the certificate's period", "at valid_from", b_lot_period, .s = "from", .d = 0,
     BOTH(STORED)},
    {"dated inside the certificate's period", "one second before valid_from", b_lot_period,
     .s = "from", .d = -1, BOTH(REJECTED(CERT_EXPIRED))},
    {"dated inside the certificate's period", "one second before valid_until", b_lot_period,
     .s = "until", .d = -1, BOTH(STORED)},
    {"dated inside the certificate's period", "at valid_until (the end is exclusive)", b_lot_period,
     .s = "until", .d = 0, BOTH(REJECTED(CERT_EXPIRED))},
    {"the certificate certifies the author", "another key's (no-certificate)", b_lot_cert,
     .s = "other", BOTH(REJECTED(NO_CERTIFICATE))},
    {"the certificate certifies the author", "a record that is not a certificate", b_lot_cert,
     .s = "not-cert", BOTH(REJECTED(NO_CERTIFICATE))},
    {"the certificate certifies the author", "none cited", b_lot_cert, .s = "none",
     BOTH(REJECTED(NO_CERTIFICATE))},
    {"admission: the author's key is not revoked", "revoked at the lot's date", b_lot_revoked,
     .s = "key", .d = 0, .peer = STORED, .local = REJECTED(REVOKED)},
    {"admission: the author's key is not revoked", "revoked one second after it", b_lot_revoked,
     .s = "key", .d = 1, BOTH(STORED)},
    {"admission: the author's certificate is not revoked", "revoked at the lot's date",
     b_lot_revoked, .s = "cert", .d = 0, .peer = STORED, .local = REJECTED(REVOKED)},
    {"admission: the author's certificate is not revoked", "revoked one second after it",
     b_lot_revoked, .s = "cert", .d = 1, BOTH(STORED)},
    {"admission: the certificate's issuer was valid when it issued it",
     "issuer revoked at the certificate's date", b_lot_issuer_revoked, .d = 0, .peer = STORED,
     .local = REJECTED(REVOKED)},
    {"admission: the certificate's issuer was valid when it issued it",
     "issuer revoked one second after it (it stands)", b_lot_issuer_revoked, .d = 1, BOTH(STORED)},
    {"never dated before the author's previous record", "at the same second", b_lot_feed_time,
     .d = 0, BOTH(STORED)},
    {"never dated before the author's previous record", "one second before", b_lot_feed_time,
     .d = -1, BOTH(REJECTED(TIME_BACKWARDS))},
    {"admission: no second record at a seq", "two lots at seq 1", b_lot_equivocation,
     .peer = STORED, .local = REJECTED(EQUIVOCATION)},
};

static void
test_kinds_lot(void **state)
{
	(void)state;
	RUN("lot", LS_REC_LOT, lot_cases);
}

/* ---- transformation ---- */

/* The processor holds 1000 g of the miner's lot (Nd 300000, Dy 60000 ppm:
 * 3e8 g-ppm of Nd and 6e7 of Dy), received at T(2); its clock is at T(3). */
static const uint8_t *
xf_world(struct world *w)
{
	const uint8_t *lot = std_lot(w), *tr;

	W(MINER)->ts = T(2);
	tr = put(w, fx_transfer(W(MINER), lot, 1000, W(PROC), NULL, NULL));
	W(PROC)->ts = T(2);
	put(w, fx_receipt(W(PROC), tr, 1000));
	W(PROC)->ts = T(3);
	return lot;
}

/* The processor consumes d grams of its 1000 g and puts out s (and s2). */
static struct fx_env
b_xf(struct world *w, const struct kcase *c)
{
	struct ls_lot_input in;
	const char *outs[2] = {c->s, c->s2};

	memcpy(in.lot, xf_world(w), 32);
	in.grams = (uint64_t)c->d;
	return fx_transform(W(PROC), &in, 1, outs, c->s2 != NULL ? 2 : 1);
}

/* As b_xf with a second input: 1000 g of a lot with Nd 100000, Dy 20000
 * ppm (in all: 4e8 g-ppm of Nd, 8e7 of Dy). */
static struct fx_env
b_xf_two(struct world *w, const struct kcase *c)
{
	struct ls_lot_input in[2];
	const char *outs[2] = {c->s, c->s2};
	const uint8_t *lot2, *tr;

	memcpy(in[0].lot, xf_world(w), 32);
	W(MINER)->ts = T(3);
	lot2 = put(w, fx_lot(W(MINER), "second", NULL, "CN", "alloy", 1000, "Nd=100000,Dy=20000"));
	tr = put(w, fx_transfer(W(MINER), lot2, 1000, W(PROC), NULL, NULL));
	put(w, fx_receipt(W(PROC), tr, 1000));
	memcpy(in[1].lot, lot2, 32);
	in[0].grams = in[1].grams = 1000;
	return fx_transform(W(PROC), in, 2, outs, c->s2 != NULL ? 2 : 1);
}

/* The miner registers a lot at T(3) (and with s "transit", ships it all to
 * the processor at T(3), not yet received); the processor transforms it at
 * T(3) + d seconds. */
static struct fx_env
b_xf_unheld(struct world *w, const struct kcase *c)
{
	const char *out[] = {"o:alloy:1000:Nd=100000,Dy=20000"};
	struct ls_lot_input in;

	W(MINER)->ts = T(3);
	memcpy(in.lot,
	       put(w, fx_lot(W(MINER), "l2", NULL, "CN", "alloy", 1000, "Nd=100000,Dy=20000")), 32);
	in.grams = 1000;
	if (c->s != NULL && strcmp(c->s, "transit") == 0)
		put(w, fx_transfer(W(MINER), in.lot, 1000, W(PROC), NULL, NULL));
	W(PROC)->ts = (uint64_t)((int64_t)T(3) + c->d);
	return fx_transform(W(PROC), &in, 1, out, 1);
}

/* who registers a lot of scrap at T(1) and transforms it at T(2). */
static struct fx_env
b_xf_role(struct world *w, const struct kcase *c)
{
	const char *out[] = {"o:oxide:1000:Nd=300000,Dy=60000"};
	struct fx_actor *a = w->a[c->who];
	struct ls_lot_input in;

	a->ts = T(1);
	memcpy(in.lot, put(w, fx_lot(a, "scrap", NULL, "CN", "scrap", 1000, "Nd=300000,Dy=60000")),
	       32);
	in.grams = 1000;
	a->ts = T(2);
	return fx_transform(a, &in, 1, out, 1);
}

#define XF_SAME "o:alloy:1000:Nd=300000,Dy=60000"

static const struct kcase transformation_cases[] = {
    {"consumes no more than it holds", "exactly what is held", b_xf, .d = 1000, .s = XF_SAME,
     BOTH(STORED)},
    {"consumes no more than it holds", "one gram more (overspend)", b_xf, .d = 1001, .s = XF_SAME,
     BOTH(REJECTED(OVERSPEND))},
    {"consumes only what it holds", "holds none of the lot (not-holder)", b_xf_unheld,
     .d = (int64_t)FX_DAY, BOTH(REJECTED(NOT_HOLDER))},
    {"consumes only what it holds", "in transit to it, not received (not-holder)", b_xf_unheld,
     .s = "transit", .d = (int64_t)FX_DAY, BOTH(REJECTED(NOT_HOLDER))},
    {"not dated before an input lot was made", "at the lot's date (then: not-holder)", b_xf_unheld,
     .d = 0, BOTH(REJECTED(NOT_HOLDER))},
    {"not dated before an input lot was made", "one second before (time-backwards)", b_xf_unheld,
     .d = -1, BOTH(REJECTED(TIME_BACKWARDS))},
    {"the author is a processor or recycler", "a recycler", b_xf_role, .who = A_RECYCLER,
     BOTH(STORED)},
    {"the author is a processor or recycler", "a miner (wrong-role)", b_xf_role, .who = A_MINER,
     BOTH(REJECTED(WRONG_ROLE))},
    {"rare-earth output no more than input", "every element exactly equal, in another form", b_xf,
     .d = 1000, .s = "o:metal:600:Nd=500000,Dy=100000", BOTH(STORED)},
    {"rare-earth output no more than input", "Dy one gram-ppm over (mass-balance)", b_xf, .d = 1000,
     .s = XF_SAME, .s2 = "x:scrap:1:Dy=1", BOTH(REJECTED(MASS_BALANCE))},
    {"rare-earth output no more than input", "Nd (not controlled) one gram-ppm over", b_xf,
     .d = 1000, .s = XF_SAME, .s2 = "x:scrap:1:Nd=1", BOTH(REJECTED(MASS_BALANCE))},
    {"rare-earth output no more than input", "Y, absent from the input, is a rare earth", b_xf,
     .d = 1000, .s = XF_SAME, .s2 = "x:scrap:1:Y=1", BOTH(REJECTED(MASS_BALANCE))},
    {"rare-earth output no more than input", "Fe, B and Co are free", b_xf, .d = 1000,
     .s = "o:magnet:1000:B=10000,Fe=630000,Nd=300000,Dy=60000",
     .s2 = "x:scrap:5000:Fe=900000,Co=100000", BOTH(STORED)},
    {"rare-earth output no more than input", "counted on the grams consumed, not the lot's", b_xf,
     .d = 500, .s = XF_SAME, BOTH(REJECTED(MASS_BALANCE))},
    {"rare-earth output no more than input", "half consumed, half put out", b_xf, .d = 500,
     .s = "o:alloy:500:Nd=300000,Dy=60000", BOTH(STORED)},
    {"rare-earth output no more than input", "two inputs add up: exactly equal", b_xf_two,
     .s = "o:alloy:2000:Nd=200000,Dy=40000", BOTH(STORED)},
    {"rare-earth output no more than input", "two inputs add up: one gram-ppm over", b_xf_two,
     .s = "o:alloy:2000:Nd=200000,Dy=40000", .s2 = "x:scrap:1:Dy=1", BOTH(REJECTED(MASS_BALANCE))},
};

static void
test_kinds_transformation(void **state)
{
	(void)state;
	RUN("transformation", LS_REC_TRANSFORMATION, transformation_cases);
}

/* ---- transfer ---- */

/* The miner ships d grams of its 100 kg lot to the CN exporter at T(2)
 * (with s "second", after shipping 60 kg of it). */
static struct fx_env
b_tf(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w);

	W(MINER)->ts = T(2);
	if (c->s != NULL && strcmp(c->s, "second") == 0)
		put(w, fx_transfer(W(MINER), lot, 60000, W(CNEXP), NULL, NULL));
	return fx_transfer(W(MINER), lot, (uint64_t)c->d, W(CNEXP), NULL, NULL);
}

/* who ships 1000 g of the miner's lot to the US importer; with s "transit",
 * the miner first ships 1000 g to the CN exporter, not yet received. */
static struct fx_env
b_tf_unheld(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w);

	if (c->s != NULL && strcmp(c->s, "transit") == 0) {
		W(MINER)->ts = T(2);
		put(w, fx_transfer(W(MINER), lot, 1000, W(CNEXP), NULL, NULL));
	}
	w->a[c->who]->ts = T(3);
	return fx_transfer(w->a[c->who], lot, 1000, W(US), NULL, NULL);
}

/* The miner registers a lot at T(3); who ships 1000 g of it at T(3) + d. */
static struct fx_env
b_tf_lot_time(struct world *w, const struct kcase *c)
{
	const uint8_t *lot;

	W(MINER)->ts = T(3);
	lot = put(w, fx_lot(W(MINER), "l3", NULL, "CN", "alloy", 1000, "Nd=100000,Dy=20000"));
	w->a[c->who]->ts = (uint64_t)((int64_t)T(3) + c->d);
	return fx_transfer(w->a[c->who], lot, 1000, W(CNEXP), NULL, NULL);
}

/* The miner ships 1000 g to the US importer naming as its certificate: the
 * JP importer's ("other") or the lot's record ("not-cert"). */
static struct fx_env
b_tf_receiver_cert(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w);
	struct fx_actor to = *W(US);

	memcpy(to.cert_id, strcmp(c->s, "other") == 0 ? W(JP)->cert_id : lot, 32);
	W(MINER)->ts = T(2);
	return fx_transfer(W(MINER), lot, 1000, &to, NULL, NULL);
}

/* A US importer certified from T(2) until T(4); the miner ships to it at
 * the start (s "from") or the end ("until") plus d seconds. */
static struct fx_env
b_tf_receiver_period(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w);
	struct fx_actor *r = fresh(w, "US");

	put(w, cert_for(W(ROOT), r, "US", LS_ROLE_IMPORTER, NULL, T(2), T(4)));
	W(MINER)->ts = (uint64_t)((int64_t)(strcmp(c->s, "from") == 0 ? T(2) : T(4)) + c->d);
	return fx_transfer(W(MINER), lot, 1000, r, NULL, NULL);
}

/* The root revokes the US importer from T(2) + d; the miner ships to it at T(2). */
static struct fx_env
b_tf_receiver_revoked(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w);

	put(w, fx_revoke(W(ROOT), W(US)->kp->pk, (uint64_t)((int64_t)T(2) + c->d)));
	W(MINER)->ts = T(2);
	return fx_transfer(W(MINER), lot, 1000, W(US), NULL, NULL);
}

/* std_license at T(1), revoked by its issuer from T(2) + d; the miner ships
 * 1000 g to the US under it at T(2). */
static struct fx_env
b_tf_license_revoked(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w), *lic;
	struct fx_license_spec ls = std_license(w);

	W(CN)->ts = T(1);
	lic = put(w, fx_license(W(CN), &ls));
	put(w, fx_revoke(W(CN), lic, (uint64_t)((int64_t)T(2) + c->d)));
	W(MINER)->ts = T(2);
	return fx_transfer(W(MINER), lot, 1000, W(US), lic, NULL);
}

/* The root revokes China's authority from T(2) + d; it issues std_license at
 * T(2); the miner ships 1000 g to the US under it at T(3). */
static struct fx_env
b_tf_license_issuer_revoked(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w), *lic;
	struct fx_license_spec ls = std_license(w);

	put(w, fx_revoke(W(ROOT), W(CN)->kp->pk, (uint64_t)((int64_t)T(2) + c->d)));
	W(CN)->ts = T(2);
	lic = put(w, fx_license(W(CN), &ls));
	W(MINER)->ts = T(3);
	return fx_transfer(W(MINER), lot, 1000, W(US), lic, NULL);
}

/* A license of 1001 g, 1000 g of it used by a shipment to the other US
 * importer; the miner then ships d grams to the US importer under it. */
static struct fx_env
b_tf_license_left(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w), *lic;
	struct fx_license_spec ls = std_license(w);

	ls.max_grams = 1001;
	W(CN)->ts = T(1);
	lic = put(w, fx_license(W(CN), &ls));
	W(MINER)->ts = T(2);
	put(w, fx_transfer(W(MINER), lot, 1000, W(US2), lic, NULL));
	return fx_transfer(W(MINER), lot, (uint64_t)c->d, W(US), lic, NULL);
}

/* The processor ships technology s to the US importer; with s2, under a
 * license of China's authority for items s2 and no quantity. */
static struct fx_env
b_tf_tech(struct world *w, const struct kcase *c)
{
	const uint8_t *lic = NULL;

	if (c->s2 != NULL) {
		struct fx_license_spec ls = std_license(w);
		ls.licensee = W(PROC)->kp->pk;
		ls.items = c->s2;
		ls.max_grams = 0;
		W(CN)->ts = T(1);
		lic = put(w, fx_license(W(CN), &ls));
	}
	W(PROC)->ts = T(2);
	return fx_transfer_tech(W(PROC), c->s, W(US), lic, NULL);
}

static const struct kcase transfer_cases[] = {
    {"ships no more than it holds", "exactly what is held", b_tf, .d = 100000, BOTH(STORED)},
    {"ships no more than it holds", "one gram more (overspend)", b_tf, .d = 100001,
     BOTH(REJECTED(OVERSPEND))},
    {"ships no more than it holds", "after a shipment: exactly the rest", b_tf, .s = "second",
     .d = 40000, BOTH(STORED)},
    {"ships no more than it holds", "after a shipment: one gram more than the rest", b_tf,
     .s = "second", .d = 40001, BOTH(REJECTED(OVERSPEND))},
    {"ships only what it holds", "holds none of the lot (not-holder)", b_tf_unheld, .who = A_PROC,
     BOTH(REJECTED(NOT_HOLDER))},
    {"ships only what it holds", "in transit to it, not received (not-holder)", b_tf_unheld,
     .who = A_CNEXP, .s = "transit", BOTH(REJECTED(NOT_HOLDER))},
    {"not dated before the lot was made", "at the lot's date, by its maker", b_tf_lot_time,
     .who = A_MINER, .d = 0, BOTH(STORED)},
    {"not dated before the lot was made", "at the lot's date, by a non-holder (not-holder)",
     b_tf_lot_time, .who = A_PROC, .d = 0, BOTH(REJECTED(NOT_HOLDER))},
    {"not dated before the lot was made", "one second before (time-backwards)", b_tf_lot_time,
     .who = A_PROC, .d = -1, BOTH(REJECTED(TIME_BACKWARDS))},
    {"the author may hold material", "an auditor (wrong-role)", b_tf_unheld, .who = A_AUDITOR,
     BOTH(REJECTED(WRONG_ROLE))},
    {"the receiver's certificate certifies it", "another key's certificate (bad-receiver)",
     b_tf_receiver_cert, .s = "other", BOTH(REJECTED(BAD_RECEIVER))},
    {"the receiver's certificate certifies it", "a record that is not a certificate",
     b_tf_receiver_cert, .s = "not-cert", BOTH(REJECTED(BAD_RECEIVER))},
    {"the receiver's certificate is in its period", "at valid_from", b_tf_receiver_period,
     .s = "from", .d = 0, BOTH(STORED)},
    {"the receiver's certificate is in its period", "one second before valid_from",
     b_tf_receiver_period, .s = "from", .d = -1, BOTH(REJECTED(BAD_RECEIVER))},
    {"the receiver's certificate is in its period", "one second before valid_until",
     b_tf_receiver_period, .s = "until", .d = -1, BOTH(STORED)},
    {"the receiver's certificate is in its period", "at valid_until", b_tf_receiver_period,
     .s = "until", .d = 0, BOTH(REJECTED(BAD_RECEIVER))},
    {"admission: the receiver is not revoked", "revoked at the transfer's date",
     b_tf_receiver_revoked, .d = 0, .peer = STORED, .local = REJECTED(BAD_RECEIVER)},
    {"admission: the receiver is not revoked", "revoked one second after it", b_tf_receiver_revoked,
     .d = 1, BOTH(STORED)},
    {"admission: the cited license is not revoked", "revoked at the transfer's date",
     b_tf_license_revoked, .d = 0, .peer = STORED, .local = REJECTED(LICENSE_REVOKED)},
    {"admission: the cited license is not revoked", "revoked one second after it",
     b_tf_license_revoked, .d = 1, BOTH(STORED)},
    {"admission: the license's issuer was valid when it issued it",
     "issuer revoked at the license's date", b_tf_license_issuer_revoked, .d = 0, .peer = STORED,
     .local = REJECTED(LICENSE_REVOKED)},
    {"admission: the license's issuer was valid when it issued it",
     "issuer revoked one second after it (it stands)", b_tf_license_issuer_revoked, .d = 1,
     BOTH(STORED)},
    /* The export question cannot ask for these (it asks "some left"): see
     * the agreement table for the rows it shares with ingest. */
    {"ships no more than the license has left", "exactly what is left (1 g)", b_tf_license_left,
     .d = 1, BOTH(STORED)},
    {"ships no more than the license has left", "one gram more (license-exhausted)",
     b_tf_license_left, .d = 2, BOTH(REJECTED(LICENSE_EXHAUSTED))},
    {"technology holds no lot", "unlicensed", b_tf_tech, .s = "tech:separation", BOTH(STORED)},
    {"technology holds no lot", "a technology license needs no quantity", b_tf_tech,
     .s = "tech:separation", .s2 = "tech:separation", BOTH(STORED)},
    {"technology holds no lot", "a license for other technology (license-mismatch)", b_tf_tech,
     .s = "tech:separation", .s2 = "tech:magnet,Dy", BOTH(REJECTED(LICENSE_MISMATCH))},
};

static void
test_kinds_transfer(void **state)
{
	(void)state;
	RUN("transfer", LS_REC_TRANSFER, transfer_cases);
}

/* ---- receipt ---- */

/* The miner ships 1000 g of its lot to the processor at T(2). */
static const uint8_t *
rc_world(struct world *w)
{
	const uint8_t *lot = std_lot(w);

	W(MINER)->ts = T(2);
	return put(w, fx_transfer(W(MINER), lot, 1000, W(PROC), NULL, NULL));
}

/* The processor receives d grams. */
static struct fx_env
b_rc(struct world *w, const struct kcase *c)
{
	return fx_receipt(W(PROC), rc_world(w), (uint64_t)c->d);
}

/* The processor receives 1000 g, dated T(2) + d seconds (signed by hand:
 * fx_receipt would move its clock up to the transfer's date). */
static struct fx_env
b_rc_time(struct world *w, const struct kcase *c)
{
	const uint8_t *tr = rc_world(w);

	W(PROC)->ts = (uint64_t)((int64_t)T(2) + c->d);
	return sign_receipt(W(PROC), tr, 1000);
}

/* s "second": the processor receives it twice; "other": the CN exporter
 * receives the processor's transfer; "not-transfer": the processor
 * "receives" the lot's registration. */
static struct fx_env
b_rc_which(struct world *w, const struct kcase *c)
{
	const uint8_t *tr = rc_world(w);

	if (strcmp(c->s, "second") == 0) {
		put(w, fx_receipt(W(PROC), tr, 1000));
		return fx_receipt(W(PROC), tr, 1000);
	}
	if (strcmp(c->s, "other") == 0)
		return fx_receipt(W(CNEXP), tr, 1000);
	/* The log ends with the lot (rc_world's std_lot), then the transfer. */
	return sign_receipt(W(PROC), w->log[w->n_log - 2].id, 1000);
}

/* The processor ships technology to the US importer at T(2); it receives d grams. */
static struct fx_env
b_rc_tech(struct world *w, const struct kcase *c)
{
	const uint8_t *tr;

	W(PROC)->ts = T(2);
	tr = put(w, fx_transfer_tech(W(PROC), "tech:separation", W(US), NULL, NULL));
	return fx_receipt(W(US), tr, (uint64_t)c->d);
}

/* The miner ships 1000 g to the auditor (any certified key may be sent to);
 * the auditor receives it. */
static struct fx_env
b_rc_role(struct world *w, const struct kcase *c)
{
	const uint8_t *lot = std_lot(w), *tr;

	(void)c;
	W(MINER)->ts = T(2);
	tr = put(w, fx_transfer(W(MINER), lot, 1000, W(AUDITOR), NULL, NULL));
	return fx_receipt(W(AUDITOR), tr, 1000);
}

/* The processor receives d grams, saying why when s is not NULL. */
static struct fx_env
b_rc_why(struct world *w, const struct kcase *c)
{
	return fx_receipt_why(W(PROC), rc_world(w), (uint64_t)c->d, c->s);
}

/*
 * The miner ships 1000 g, the processor receives 700 g ("water damage"):
 * 300 g go back to the miner. Then, by s: "miner" takes back d grams
 * (saying why when s2 is not NULL); "twice" takes them back, then again;
 * "other" (the CN exporter) or "receiver" (the processor) takes them back;
 * "nothing": the processor received all 1000 g and the miner takes back
 * its receipt; "of-return": the miner takes back 200 g ("spilled"), then
 * names its own receipt; "early": the miner's receipt is dated one second
 * before the processor's; "equivocating": the processor also signed a
 * receipt of 600 g at the same seq (400 g short), the miner takes back the
 * 300 g of the first, then the 400 g of the second.
 */
static struct fx_env
b_back(struct world *w, const struct kcase *c)
{
	const uint8_t *tr = rc_world(w), *rc;
	struct fx_mark m = fx_mark(W(PROC));

	if (strcmp(c->s, "nothing") == 0) {
		rc = put(w, fx_receipt(W(PROC), tr, 1000));
		return fx_receipt_why(W(MINER), rc, 0, "none came back");
	}
	W(PROC)->ts = T(3);
	rc = put(w, fx_receipt_why(W(PROC), tr, 700, "water damage"));
	W(MINER)->ts = T(3);
	if (strcmp(c->s, "miner") == 0)
		return fx_receipt_why(W(MINER), rc, (uint64_t)c->d, c->s2);
	if (strcmp(c->s, "twice") == 0) {
		put(w, fx_receipt_why(W(MINER), rc, 300, NULL));
		return fx_receipt_why(W(MINER), rc, 300, NULL);
	}
	if (strcmp(c->s, "other") == 0)
		return fx_receipt_why(W(CNEXP), rc, 300, NULL);
	if (strcmp(c->s, "receiver") == 0)
		return fx_receipt_why(W(PROC), rc, 300, NULL);
	if (strcmp(c->s, "of-return") == 0) {
		const uint8_t *back = put(w, fx_receipt_why(W(MINER), rc, 200, "spilled"));
		return fx_receipt_why(W(MINER), back, 0, "nothing");
	}
	if (strcmp(c->s, "early") == 0) {
		W(MINER)->ts = T(3) - 1;
		return fx_receipt_why(W(MINER), rc, 300, NULL);
	}
	/* equivocating */
	fx_rewind(W(PROC), &m);
	W(PROC)->ts = T(3);
	const uint8_t *rc2 = put(w, fx_receipt_why(W(PROC), tr, 600, "theft"));
	put(w, fx_receipt_why(W(MINER), rc, 300, NULL));
	return fx_receipt_why(W(MINER), rc2, 400, NULL);
}

static const struct kcase receipt_cases[] = {
    {"receives no more than was sent", "what was sent", b_rc, .d = 1000, BOTH(STORED)},
    {"receives no more than was sent", "one gram more (bad-receipt)", b_rc, .d = 1001,
     BOTH(REJECTED(BAD_RECEIPT))},
    {"receives no more than was sent", "one gram less, saying why", b_rc_why, .d = 999,
     .s = "one gram lost", BOTH(STORED)},
    {"a shortfall says why (admission)", "one gram less, no reason", b_rc, .d = 999, .peer = STORED,
     .local = REJECTED(BAD_RECEIPT)},
    {"a shortfall says why (admission)", "what was sent, no reason", b_rc, .d = 1000, BOTH(STORED)},
    {"a lot transfer may be refused whole", "0 g, saying why (all goes back)", b_rc_why, .d = 0,
     .s = "refused: wrong grade", BOTH(STORED)},
    {"a lot transfer may be refused whole", "0 g, no reason", b_rc, .d = 0, .peer = STORED,
     .local = REJECTED(BAD_RECEIPT)},
    {"the sender takes back the shortfall", "all 300 g", b_back, .s = "miner", .d = 300,
     BOTH(STORED)},
    {"the sender takes back the shortfall", "301 g (bad-receipt)", b_back, .s = "miner", .d = 301,
     BOTH(REJECTED(BAD_RECEIPT))},
    {"the sender takes back the shortfall", "200 g, the rest lost, saying why", b_back,
     .s = "miner", .d = 200, .s2 = "spilled at the port", BOTH(STORED)},
    {"the sender takes back the shortfall", "none, all lost, saying why", b_back, .s = "miner",
     .d = 0, .s2 = "lost at sea", BOTH(STORED)},
    {"a loss says why (admission)", "200 g, no reason", b_back, .s = "miner", .d = 200,
     .peer = STORED, .local = REJECTED(BAD_RECEIPT)},
    {"a shortfall is taken back once", "a second time (bad-receipt)", b_back, .s = "twice",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"a shortfall is taken back once", "of each of two receipts of an equivocating receiver",
     b_back, .s = "equivocating", BOTH(REJECTED(BAD_RECEIPT))},
    {"only the sender takes back", "another key (bad-receipt)", b_back, .s = "other",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"only the sender takes back", "the receiver (bad-receipt)", b_back, .s = "receiver",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"a receipt returns its shortfall only", "nothing short (bad-receipt)", b_back, .s = "nothing",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"a receipt returns its shortfall only", "a taking back, named (bad-receipt)", b_back,
     .s = "of-return", BOTH(REJECTED(BAD_RECEIPT))},
    {"not dated before the receipt it takes back", "one second before (time-backwards)", b_back,
     .s = "early", BOTH(REJECTED(TIME_BACKWARDS))},
    {"a technology transfer carries no grams", "0 g", b_rc_tech, .d = 0, BOTH(STORED)},
    {"a technology transfer carries no grams", "1 g (bad-receipt)", b_rc_tech, .d = 1,
     BOTH(REJECTED(BAD_RECEIPT))},
    {"not dated before the transfer", "at the transfer's date", b_rc_time, .d = 0, BOTH(STORED)},
    {"not dated before the transfer", "one second before (time-backwards)", b_rc_time, .d = -1,
     BOTH(REJECTED(TIME_BACKWARDS))},
    {"received once", "a second receipt (bad-receipt)", b_rc_which, .s = "second",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"addressed to the author", "to someone else (bad-receipt)", b_rc_which, .s = "other",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"receives a transfer", "a lot registration (bad-receipt)", b_rc_which, .s = "not-transfer",
     BOTH(REJECTED(BAD_RECEIPT))},
    {"the author may hold material", "an auditor (wrong-role)", b_rc_role,
     BOTH(REJECTED(WRONG_ROLE))},
};

static void
test_kinds_receipt(void **state)
{
	(void)state;
	RUN("receipt", LS_REC_RECEIPT, receipt_cases);
}

/* ---- license coverage: ingest and the export question agree ---- */

/*
 * A license of China's authority (issued at T(2)) and a use of it: the
 * miner ships `grams` of its 100 kg Dy alloy to `to` at `at`, for end use
 * `use`, citing the license. A zero field takes the default in brackets.
 *
 * Quantity: a transfer asks for its own grams, the export question for
 * "some quantity left" (grams 0). So the quantity rows vary what the license
 * has left (`used` grams shipped under it before, to the other US importer)
 * and ship 1 g: 1 g left is exactly what is left (both accept), none left is
 * one gram more than is left (both: license-exhausted). The transfer table
 * has the row the export question cannot ask (1 g left, 2 g shipped).
 *
 * The rows of layer CONSENSUS (all but the last five) are the
 * shared rule: a peer, a local client and the export question give the same
 * reason. The last five are checks ls_license_check makes from a later layer
 * on: revocations of the license and of its issuer from admission on (a
 * peer stores the transfer; a local client and the export question agree),
 * the issuer's jurisdiction at question time only (both ingest layers store
 * it).
 */
/* The layers of lib/kind.h. */
enum layer { CONSENSUS = 0, ADMISSION, QUESTION };

struct lcase {
	const char *rule, *side;
	enum layer layer; /* the first layer that applies the rule [consensus] */
	/* the license */
	enum actor issuer;          /* [China's authority] */
	bool not_license;           /* cite the miner's certificate instead */
	uint64_t lic_revoked_at;    /* its issuer revokes it from then [never] */
	uint64_t issuer_revoked_at; /* the root revokes its issuer from then [never] */
	enum actor licensee;        /* [miner] */
	const char *items;          /* ["Dy"] */
	const char *dests;          /* ["US"] */
	const char *lic_use;        /* [civilian] */
	enum actor end_user;        /* [none named] */
	uint64_t from, until;       /* [absent] */
	uint64_t max;               /* [100000] */
	bool max_zero;              /* a license for 0 g */
	uint64_t used;              /* [0] */
	/* the use */
	enum actor to;       /* [US importer] */
	const char *use;     /* [none: civilian] */
	uint64_t at;         /* [T(10)] */
	uint64_t grams;      /* [1000] */
	enum ls_reason want; /* LS_R_OK: stored, and allowed as controlled */
};

static const struct lcase agreement_cases[] = {
    {"the license covers the use", "exact match", .want = LS_R_OK},
    {"the licensee is the exporter", "another licensee", .licensee = A_CNEXP,
     .want = LS_R_LICENSE_MISMATCH},
    {"the destination is licensed", "one of several", .dests = "JP,US", .to = A_JP,
     .want = LS_R_OK},
    {"the destination is licensed", "not licensed", .to = A_JP, .want = LS_R_LICENSE_MISMATCH},
    {"the end use matches", "the same, named", .lic_use = "research", .use = "research",
     .want = LS_R_OK},
    {"the end use matches", "none named is civilian", .lic_use = "civilian", .use = NULL,
     .want = LS_R_OK},
    {"the end use matches", "differs", .use = "research", .want = LS_R_LICENSE_MISMATCH},
    {"the item is covered", "by the lot's category", .items = "alloy", .want = LS_R_OK},
    {"the item is covered", "by an element the lot contains", .items = "Dy", .want = LS_R_OK},
    {"the item is covered", "neither its category nor an element it contains", .items = "magnet,Tb",
     .want = LS_R_LICENSE_MISMATCH},
    {"the named end user is the receiver", "the same", .end_user = A_US, .want = LS_R_OK},
    {"the named end user is the receiver", "another", .end_user = A_US2,
     .want = LS_R_LICENSE_MISMATCH},
    {"the date is inside the validity", "at valid_from", .from = T(10), .at = T(10),
     .want = LS_R_OK},
    {"the date is inside the validity", "one second before valid_from", .from = T(10),
     .at = T(10) - 1, .want = LS_R_LICENSE_EXPIRED},
    {"the date is inside the validity", "no valid_from: at the license's date", .at = T(2),
     .want = LS_R_OK},
    {"the date is inside the validity", "no valid_from: one second before its date", .at = T(2) - 1,
     .want = LS_R_LICENSE_EXPIRED},
    {"the date is inside the validity", "one second before valid_until", .until = T(20),
     .at = T(20) - 1, .want = LS_R_OK},
    {"the date is inside the validity", "at valid_until (the end is exclusive)", .until = T(20),
     .at = T(20), .want = LS_R_LICENSE_EXPIRED},
    {"the quantity stays within the maximum", "exactly what is left (1 g of 1001 g)", .max = 1001,
     .used = 1000, .grams = 1, .want = LS_R_OK},
    {"the quantity stays within the maximum", "one gram more than is left (none of 1000 g)",
     .max = 1000, .used = 1000, .grams = 1, .want = LS_R_LICENSE_EXHAUSTED},
    {"the quantity stays within the maximum", "a license for 0 g", .max_zero = true, .grams = 1,
     .want = LS_R_LICENSE_EXHAUSTED},
    {"the cited record is a license", "the miner's certificate", .not_license = true,
     .want = LS_R_LICENSE_MISMATCH},
    {"the license is not revoked", "revoked at the use's date", ADMISSION, .lic_revoked_at = T(10),
     .want = LS_R_LICENSE_REVOKED},
    {"the license is not revoked", "revoked one second after it", ADMISSION,
     .lic_revoked_at = T(10) + 1, .want = LS_R_OK},
    {"its issuer was valid when it issued it", "issuer revoked at the license's date", ADMISSION,
     .issuer_revoked_at = T(2), .want = LS_R_LICENSE_REVOKED},
    {"its issuer was valid when it issued it", "issuer revoked one second after it", ADMISSION,
     .issuer_revoked_at = T(2) + 1, .want = LS_R_OK},
    {"its issuer acts for the policy's jurisdiction", "Germany's license, China's policy", QUESTION,
     .issuer = A_DE, .want = LS_R_LICENSE_MISMATCH},
};

static bool
is_license_reason(enum ls_reason r)
{
	return r == LS_R_LICENSE_MISMATCH || r == LS_R_LICENSE_EXPIRED ||
	       r == LS_R_LICENSE_EXHAUSTED || r == LS_R_LICENSE_REVOKED;
}

/*
 * The export verdict as a license reason: LS_R_OK when it is allowed as
 * controlled and covered; the one license reason of a license-required
 * verdict that names no other; -1 for any other verdict.
 */
static int
export_license_reason(const struct ls_verdict *v, const uint8_t lic[32])
{
	int found = -1;
	bool controlled = false, no_license = false;

	for (size_t i = 0; i < v->n; i++) {
		const struct ls_verdict_reason *r = &v->reasons[i];
		if (r->warning) /* unwitnessed: a test store has no witnesses */
			continue;
		if (r->code == LS_R_CONTROLLED)
			controlled = true;
		else if (r->code == LS_R_NO_LICENSE)
			no_license = true;
		else if (is_license_reason(r->code)) {
			if (found != -1 || r->n_ids < 1 || memcmp(r->ids[0], lic, 32) != 0)
				return -1;
			found = (int)r->code;
		} else
			return -1;
	}
	if (v->kind == LS_V_ALLOWED && controlled && !no_license && found == -1)
		return LS_R_OK;
	if (v->kind == LS_V_LICENSE_REQUIRED && !controlled && no_license)
		return found;
	return -1;
}

static void
dump_verdict(const struct ls_verdict *v)
{
	fprintf(stderr, "  export verdict: %s\n", ls_verdict_name(v->kind));
	for (size_t i = 0; i < v->n; i++)
		fprintf(stderr, "    %s: %s\n", ls_reason_code(v->reasons[i].code),
			v->reasons[i].message);
}

static bool
run_agreement(const struct lcase *c)
{
	struct world *w = world_new();
	struct fx_policy_spec ps;
	struct fx_license_spec ls;
	struct ls_export_query q;
	struct ls_ingest_result peer, local;
	struct ls_verdict v;
	struct fx_actor *to = w->a[c->to ? c->to : A_US];
	struct fx_actor *issuer = w->a[c->issuer ? c->issuer : A_CN];
	const uint8_t *lot, *lic;
	struct fx_env e;
	/* What a peer and a local client must answer: the rule's reason from
	 * its layer on, stored before. A local client's transfer is also
	 * judged as the export question judges its hop (ls_transfer_judge), so
	 * a question-time license rule refuses it too. */
	enum ls_reason want_peer = c->layer == CONSENSUS ? c->want : LS_R_OK;
	enum ls_reason want_local = c->want;
	int ex;
	bool ok = true;

	/* China's policy controls Dy from FX_T0: the miner's lot needs a
	 * license to leave China. */
	memset(&ps, 0, sizeof(ps));
	ps.name = "CN 2025 rare earths";
	ps.effective_from = FX_T0;
	ps.elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y";
	put(w, fx_policy(W(CN), &ps));
	lot = std_lot(w);
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-2025-7";
	ls.licensee = w->a[c->licensee ? c->licensee : A_MINER]->kp->pk;
	ls.items = c->items ? c->items : "Dy";
	ls.max_grams = c->max_zero ? 0 : c->max ? c->max : 100000;
	ls.destinations = c->dests ? c->dests : "US";
	ls.end_user = c->end_user ? w->a[c->end_user]->kp->pk : NULL;
	ls.end_use = c->lic_use;
	ls.valid_from = c->from;
	ls.valid_until = c->until;
	if (c->issuer_revoked_at != 0)
		put(w, fx_revoke(W(ROOT), issuer->kp->pk, c->issuer_revoked_at));
	issuer->ts = T(2);
	lic = put(w, fx_license(issuer, &ls));
	if (c->lic_revoked_at != 0)
		put(w, fx_revoke(issuer, lic, c->lic_revoked_at));
	if (c->not_license)
		lic = W(MINER)->cert_id;
	if (c->used > 0) {
		W(MINER)->ts = T(3);
		put(w, fx_transfer(W(MINER), lot, c->used, W(US2), lic, NULL));
	}
	W(MINER)->ts = c->at ? c->at : T(10);
	e = fx_transfer(W(MINER), lot, c->grams ? c->grams : 1000, to, lic, c->use);
	assert_non_null(e.buf);

	/* (b) The export question, on the ledger as the transfer finds it. */
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, 32);
	q.has_from = true;
	memcpy(q.from, W(MINER)->kp->pk, 32);
	snprintf(q.destination, sizeof(q.destination), "%s", actor_country[c->to ? c->to : A_US]);
	q.has_end_user = true;
	memcpy(q.end_user, to->kp->pk, 32);
	q.end_use = c->use;
	q.time = c->at ? c->at : T(10);
	q.has_license = true;
	memcpy(q.license, lic, 32);
	assert_int_equal(ls_verify_export(w->s, &q, &v), 0);
	ex = export_license_reason(&v, lic);

	/* (a) The transfer at ingest, from a peer and from a local client. */
	open_local(w);
	assert_int_equal(fx_ingest_one(w->s, e.buf, e.len, &peer), 0);
	assert_int_equal(fx_submit_one(w->s_local, e.buf, e.len, &local), 0);

	if (ex != (int)c->want) {
		fprintf(stderr, "FAIL license: %s [%s]: export question gives %s, want %s\n",
			c->rule, c->side, ex < 0 ? "another verdict" : ls_reason_code(ex),
			c->want == LS_R_OK ? "allowed (controlled)" : ls_reason_code(c->want));
		dump_verdict(&v);
		ok = false;
	}
	if (peer.reason != want_peer ||
	    peer.status != (want_peer == LS_R_OK ? LS_INGEST_ACCEPTED : LS_INGEST_REJECTED)) {
		fprintf(stderr,
			"FAIL license: %s [%s]: ingest from a peer gives %s (%s), want %s\n",
			c->rule, c->side, got_name(peer.status, peer.reason), peer.message,
			ls_reason_code(want_peer));
		ok = false;
	}
	if (local.reason != want_local ||
	    local.status != (want_local == LS_R_OK ? LS_INGEST_ACCEPTED : LS_INGEST_REJECTED)) {
		fprintf(
		    stderr,
		    "FAIL license: %s [%s]: ingest from a local client gives %s (%s), want %s\n",
		    c->rule, c->side, got_name(local.status, local.reason), local.message,
		    ls_reason_code(want_local));
		ok = false;
	}
	/* The agreement itself: the ingest layer that applies the rule gives
	 * the export verdict's reason. */
	if (ex != (int)(c->layer == CONSENSUS ? peer.reason : local.reason)) {
		fprintf(stderr, "FAIL license: %s [%s]: ingest and export disagree: %s / %s\n",
			c->rule, c->side,
			ls_reason_code(c->layer == CONSENSUS ? peer.reason : local.reason),
			ex < 0 ? "another verdict" : ls_reason_code(ex));
		ok = false;
	}
	ls_verdict_release(&v);
	fx_env_release(&e);
	world_free(&w);
	return ok;
}

static void
test_kinds_license_agreement(void **state)
{
	size_t n = sizeof(agreement_cases) / sizeof(agreement_cases[0]), failed = 0;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		if (!run_agreement(&agreement_cases[i]))
			failed++;
	}
	if (failed > 0)
		fail_msg("license agreement: %zu of %zu cases failed", failed, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds_certificate),
	    cmocka_unit_test(test_kinds_revocation),
	    cmocka_unit_test(test_kinds_policy),
	    cmocka_unit_test(test_kinds_license),
	    cmocka_unit_test(test_kinds_lot),
	    cmocka_unit_test(test_kinds_transformation),
	    cmocka_unit_test(test_kinds_transfer),
	    cmocka_unit_test(test_kinds_receipt),
	    cmocka_unit_test(test_kinds_license_agreement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
