/*
 * test_record.c - the record codec: sign/verify round trips of every record
 * type, the published format (domain-separated Ed25519, BLAKE2b-256 ids),
 * tampering, truncation, oversize and random input, every field check,
 * bundles, and the small parsers and names (compositions, roles, errors).
 *
 * Malformed records that ls_record_sign refuses to make are built here with
 * the generated protobuf-c types and signed by hand, as an attacker would.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <protobuf-c/protobuf-c.h>
#include <sodium.h>

#include "err.h"
#include "helper_fixture.h"
#include "lodestone.pb-c.h"
#include "reason.h"
#include "record.h"
#include "util.h"

struct fx {
	struct fx_actor *auth, *miner, *proc;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->auth = fx_actor_new("CN");
	f->miner = fx_actor_new("MM");
	f->proc = fx_actor_new("JP");
	if (f->auth == NULL || f->miner == NULL || f->proc == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	fx_actor_free(&f->auth);
	fx_actor_free(&f->miner);
	fx_actor_free(&f->proc);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* Decodes env and checks its signature: 0, or the first error. */
static int
decode_verify(const uint8_t *env, size_t len, struct ls_err_ctx *ctx)
{
	struct ls_record *r = NULL;
	int rc = ls_record_decode(env, len, &r, ctx);

	if (rc == 0) {
		assert_non_null(r);
		rc = ls_record_verify(r);
	} else {
		assert_null(r);
	}
	ls_record_free(r);
	return rc;
}

/* Packs an envelope around body and sig (sig_len bytes). *out malloc'd. */
static void
pack_envelope(const uint8_t *body, size_t len, const uint8_t *sig, size_t sig_len, uint8_t **out,
	      size_t *out_len)
{
	Lodestone__Envelope e = LODESTONE__ENVELOPE__INIT;

	e.body.data = (uint8_t *)(uintptr_t)body;
	e.body.len = len;
	e.signature.data = (uint8_t *)(uintptr_t)sig;
	e.signature.len = sig_len;
	*out_len = lodestone__envelope__get_packed_size(&e);
	*out = malloc(*out_len ? *out_len : 1);
	assert_non_null(*out);
	lodestone__envelope__pack(&e, *out);
}

/* Signs body as the published format says: Ed25519 over domain || 0 || body. */
static void
sign_body(const uint8_t *body, size_t len, const uint8_t *sk, uint8_t sig[64])
{
	uint8_t *m = malloc(LS_SIG_DOMAIN_LEN + len);

	assert_non_null(m);
	memcpy(m, "lodestone/record/v1", 19);
	m[19] = 0;
	memcpy(m + 20, body, len);
	assert_int_equal(crypto_sign_detached(sig, NULL, m, 20 + len, sk), 0);
	free(m);
}

/* Packs m, appends `extra` bytes to the body, signs it correctly, returns the
 * envelope (malloc'd). */
static uint8_t *
seal(const Lodestone__Record *m, const uint8_t *extra, size_t n_extra, const uint8_t *sk,
     size_t *env_len)
{
	size_t len = lodestone__record__get_packed_size(m);
	uint8_t *body = malloc(len + n_extra), sig[64], *env;

	assert_non_null(body);
	lodestone__record__pack(m, body);
	if (n_extra > 0)
		memcpy(body + len, extra, n_extra);
	sign_body(body, len + n_extra, sk, sig);
	pack_envelope(body, len + n_extra, sig, 64, &env, env_len);
	free(body);
	return env;
}

/* Seals m as a correctly signed envelope and returns decode+verify's rc. */
static int
raw_rc(const Lodestone__Record *m, const uint8_t *sk, struct ls_err_ctx *ctx)
{
	size_t len;
	uint8_t *env = seal(m, NULL, 0, sk, &len);
	int rc;

	if (ctx != NULL)
		ctx->msg[0] = '\0';
	rc = decode_verify(env, len, ctx);
	free(env);
	return rc;
}

/* A valid raw lot registration by actor a (seq 1), for field tests to break. */
struct raw {
	Lodestone__Record rec;
	Lodestone__LotRegistration lot;
	Lodestone__ElementShare es[LS_COMP_MAX + 2];
	Lodestone__ElementShare *esp[LS_COMP_MAX + 2];
	uint8_t author[LS_KEY_LEN + 1];
	uint8_t prev[LS_ID_LEN];
	char label[LS_STR_MAX + 2];
};

static void
raw_lot(struct raw *w, const struct fx_actor *a)
{
	memset(w, 0, sizeof(*w));
	lodestone__record__init(&w->rec);
	lodestone__lot_registration__init(&w->lot);
	memcpy(w->author, a->kp->pk, LS_KEY_LEN);
	w->rec.version = 1;
	w->rec.author.data = w->author;
	w->rec.author.len = LS_KEY_LEN;
	w->rec.seq = 1;
	w->rec.timestamp = FX_T0;
	w->rec.kind_case = LODESTONE__RECORD__KIND_LOT;
	w->rec.lot = &w->lot;
	strcpy(w->label, "ore-1");
	w->lot.label = w->label;
	w->lot.site = "Bayan Obo";
	w->lot.country = "CN";
	w->lot.category = "ore";
	w->lot.grams = 1000000;
	for (size_t i = 0; i < LS_COMP_MAX + 2; i++) {
		lodestone__element_share__init(&w->es[i]);
		w->esp[i] = &w->es[i];
	}
	w->es[0].z = 60; /* Nd */
	w->es[0].ppm = 300000;
	w->es[1].z = 66; /* Dy */
	w->es[1].ppm = 50000;
	w->lot.n_composition = 2;
	w->lot.composition = w->esp;
}

static void
assert_strlist_equal(const struct ls_strlist *a, const struct ls_strlist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_string_equal(a->v[i], b->v[i]);
}

static void
assert_keylist_equal(const struct ls_keylist *a, const struct ls_keylist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_memory_equal(a->v[i], b->v[i], LS_KEY_LEN);
}

static void
assert_comp_equal(const struct ls_comp *a, const struct ls_comp *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->e[i].z, b->e[i].z);
		assert_int_equal(a->e[i].ppm, b->e[i].ppm);
	}
}

static void
assert_lotdef_equal(const struct ls_lotdef *a, const struct ls_lotdef *b)
{
	assert_string_equal(a->label, b->label);
	assert_string_equal(a->category, b->category);
	assert_int_equal(a->grams, b->grams);
	assert_int_equal(a->value, b->value);
	assert_comp_equal(&a->comp, &b->comp);
}

/* Every field of two records of the same type. */
static void
assert_record_equal(const struct ls_record *a, const struct ls_record *b)
{
	assert_memory_equal(a->id, b->id, LS_ID_LEN);
	assert_int_equal(a->version, b->version);
	assert_memory_equal(a->author, b->author, LS_KEY_LEN);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->has_prev, b->has_prev);
	if (a->has_prev)
		assert_memory_equal(a->prev, b->prev, LS_ID_LEN);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_int_equal(a->has_cert, b->has_cert);
	if (a->has_cert)
		assert_memory_equal(a->cert_id, b->cert_id, LS_ID_LEN);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->body_len, b->body_len);
	assert_memory_equal(a->body, b->body, a->body_len);
	assert_memory_equal(a->signature, b->signature, LS_SIG_LEN);
	switch (a->type) {
	case LS_REC_CERTIFICATE:
		assert_memory_equal(a->certificate.subject, b->certificate.subject, LS_KEY_LEN);
		assert_string_equal(a->certificate.org, b->certificate.org);
		assert_string_equal(a->certificate.country, b->certificate.country);
		assert_int_equal(a->certificate.roles, b->certificate.roles);
		assert_int_equal(a->certificate.valid_from, b->certificate.valid_from);
		assert_int_equal(a->certificate.valid_until, b->certificate.valid_until);
		break;
	case LS_REC_REVOCATION:
		assert_memory_equal(a->revocation.subject, b->revocation.subject, LS_KEY_LEN);
		assert_int_equal(a->revocation.effective, b->revocation.effective);
		assert_string_equal(a->revocation.reason, b->revocation.reason);
		break;
	case LS_REC_POLICY: {
		const struct ls_policy *p = &a->policy, *q = &b->policy;
		assert_string_equal(p->jurisdiction, q->jurisdiction);
		assert_string_equal(p->name, q->name);
		assert_int_equal(p->effective_from, q->effective_from);
		assert_int_equal(p->effective_until, q->effective_until);
		assert_int_equal(p->n_elements, q->n_elements);
		assert_memory_equal(p->elements, q->elements, p->n_elements * sizeof(uint32_t));
		assert_strlist_equal(&p->controlled_categories, &q->controlled_categories);
		assert_strlist_equal(&p->controlled_tech, &q->controlled_tech);
		assert_strlist_equal(&p->exempt_categories, &q->exempt_categories);
		assert_strlist_equal(&p->denied_end_uses, &q->denied_end_uses);
		assert_keylist_equal(&p->denied_end_user_keys, &q->denied_end_user_keys);
		assert_strlist_equal(&p->denied_end_user_names, &q->denied_end_user_names);
		assert_int_equal(p->de_minimis_ppm, q->de_minimis_ppm);
		assert_int_equal(p->de_minimis_basis, q->de_minimis_basis);
		assert_int_equal(p->applies_to_reexport, q->applies_to_reexport);
		assert_int_equal(p->applies_to_foreign_tech, q->applies_to_foreign_tech);
		assert_keylist_equal(&p->supersedes, &q->supersedes);
		assert_int_equal(p->n_suspends, q->n_suspends);
		for (size_t i = 0; i < p->n_suspends; i++) {
			assert_memory_equal(p->suspends[i].policy, q->suspends[i].policy,
					    LS_ID_LEN);
			assert_int_equal(p->suspends[i].from, q->suspends[i].from);
			assert_int_equal(p->suspends[i].until, q->suspends[i].until);
		}
		break;
	}
	case LS_REC_LICENSE: {
		const struct ls_license *l = &a->license, *m = &b->license;
		assert_string_equal(l->number, m->number);
		assert_memory_equal(l->licensee, m->licensee, LS_KEY_LEN);
		assert_int_equal(l->general, m->general);
		assert_strlist_equal(&l->items, &m->items);
		assert_int_equal(l->max_grams, m->max_grams);
		assert_strlist_equal(&l->destinations, &m->destinations);
		assert_int_equal(l->has_end_user, m->has_end_user);
		if (l->has_end_user)
			assert_memory_equal(l->end_user, m->end_user, LS_KEY_LEN);
		assert_string_equal(l->end_use, m->end_use);
		assert_int_equal(l->valid_from, m->valid_from);
		assert_int_equal(l->valid_until, m->valid_until);
		assert_strlist_equal(&l->no_reexport_to, &m->no_reexport_to);
		assert_int_equal(l->no_military, m->no_military);
		break;
	}
	case LS_REC_LOT:
		assert_lotdef_equal(&a->lot.lot, &b->lot.lot);
		assert_string_equal(a->lot.site, b->lot.site);
		assert_string_equal(a->lot.country, b->lot.country);
		break;
	case LS_REC_TRANSFORMATION: {
		const struct ls_transformation *t = &a->transformation, *u = &b->transformation;
		assert_int_equal(t->n_inputs, u->n_inputs);
		for (size_t i = 0; i < t->n_inputs; i++) {
			assert_memory_equal(t->inputs[i].lot, u->inputs[i].lot, LS_ID_LEN);
			assert_int_equal(t->inputs[i].grams, u->inputs[i].grams);
		}
		assert_int_equal(t->n_outputs, u->n_outputs);
		for (size_t i = 0; i < t->n_outputs; i++)
			assert_lotdef_equal(&t->outputs[i], &u->outputs[i]);
		assert_string_equal(t->site, u->site);
		break;
	}
	case LS_REC_TRANSFER: {
		const struct ls_transfer *t = &a->transfer, *u = &b->transfer;
		assert_int_equal(t->has_lot, u->has_lot);
		if (t->has_lot) {
			assert_memory_equal(t->lot, u->lot, LS_ID_LEN);
			assert_int_equal(t->grams, u->grams);
		}
		assert_string_equal(t->tech, u->tech);
		assert_memory_equal(t->to, u->to, LS_KEY_LEN);
		assert_memory_equal(t->to_cert, u->to_cert, LS_ID_LEN);
		assert_int_equal(t->has_license, u->has_license);
		if (t->has_license)
			assert_memory_equal(t->license, u->license, LS_ID_LEN);
		assert_string_equal(t->end_use, u->end_use);
		assert_string_equal(t->description, u->description);
		break;
	}
	case LS_REC_RECEIPT:
		assert_memory_equal(a->receipt.transfer, b->receipt.transfer, LS_ID_LEN);
		assert_int_equal(a->receipt.grams, b->receipt.grams);
		break;
	default: fail_msg("unexpected type %d", a->type);
	}
}

/* Signs r as a, decodes the envelope, checks the signature and every field. */
static void
roundtrip(struct fx_actor *a, struct ls_record *r)
{
	struct fx_env e;
	struct ls_record *d = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t id[LS_ID_LEN];

	assert_int_equal(fx_sign(a, r, &e), 0);
	assert_int_equal(ls_record_decode(e.buf, e.len, &d, &ctx), 0);
	assert_int_equal(ls_record_verify(d), 0);
	assert_record_equal(r, d);
	/* The id is the unkeyed BLAKE2b-256 of the body. */
	crypto_generichash(id, sizeof(id), d->body, d->body_len, NULL, 0);
	assert_memory_equal(id, d->id, LS_ID_LEN);
	assert_memory_equal(id, e.id, LS_ID_LEN);
	ls_record_free(d);
	fx_env_release(&e);
}

static const char *
arena_str(struct ls_record *r, const char *s)
{
	const char *p = ls_record_strdup(r, s);
	assert_non_null(p);
	return p;
}

static struct ls_strlist
strlist(struct ls_record *r, size_t n, ...)
{
	struct ls_strlist l;
	const char **v = ls_record_alloc(r, (n ? n : 1) * sizeof(*v));
	va_list ap;

	assert_non_null(v);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		v[i] = arena_str(r, va_arg(ap, const char *));
	va_end(ap);
	l.n = n;
	l.v = v;
	return l;
}

static void
comp(struct ls_comp *c, const char *s)
{
	assert_int_equal(ls_comp_parse(s, c, NULL), 0);
}

/* ---- round trips ---- */

static void
test_record_roundtrip_certificate(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);

	memcpy(r->certificate.subject, f->miner->kp->pk, LS_KEY_LEN);
	r->certificate.org = arena_str(r, "Baotou Steel Rare-Earth");
	strcpy(r->certificate.country, "CN");
	r->certificate.roles = LS_ROLE_MINER | LS_ROLE_EXPORTER;
	r->certificate.valid_from = FX_T0 - FX_DAY;
	r->certificate.valid_until = FX_T0 + 365 * FX_DAY;
	roundtrip(f->auth, r);
	ls_record_free(r);

	/* Without a validity period: from the record's timestamp, no end. */
	r = ls_record_new(LS_REC_CERTIFICATE);
	memcpy(r->certificate.subject, f->proc->kp->pk, LS_KEY_LEN);
	r->certificate.org = arena_str(r, "Shin-Etsu");
	strcpy(r->certificate.country, "JP");
	r->certificate.roles = LS_ROLE_PROCESSOR;
	f->auth->ts = FX_T0 + 7;
	{
		struct fx_env e;
		struct ls_record *d = NULL;
		assert_int_equal(fx_sign(f->auth, r, &e), 0);
		assert_int_equal(ls_record_decode(e.buf, e.len, &d, NULL), 0);
		assert_int_equal(d->certificate.valid_from, FX_T0 + 7);
		assert_int_equal(d->certificate.valid_until, 0);
		assert_int_equal(d->seq, 2);
		assert_true(d->has_prev);
		ls_record_free(d);
		fx_env_release(&e);
	}
	ls_record_free(r);
}

static void
test_record_roundtrip_revocation(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_REVOCATION);

	memcpy(r->revocation.subject, f->miner->kp->pk, LS_KEY_LEN);
	r->revocation.effective = FX_T0 + 100;
	r->revocation.reason = arena_str(r, "key compromised");
	roundtrip(f->auth, r);
	ls_record_free(r);

	/* A key revoking itself, without a reason. */
	r = ls_record_new(LS_REC_REVOCATION);
	memcpy(r->revocation.subject, f->miner->kp->pk, LS_KEY_LEN);
	r->revocation.effective = FX_T0;
	r->revocation.reason = arena_str(r, "");
	roundtrip(f->miner, r);
	ls_record_free(r);
}

static void
test_record_roundtrip_policy(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_POLICY);
	struct ls_policy *p = &r->policy;
	uint8_t(*keys)[LS_KEY_LEN] = ls_record_alloc(r, 2 * LS_KEY_LEN);
	struct ls_suspension *sus = ls_record_alloc(r, sizeof(*sus));
	static const uint32_t els[] = {62, 64, 65, 66, 71, 21, 39};

	strcpy(p->jurisdiction, "CN");
	p->name = arena_str(r, "MOFCOM 2025 No. 18");
	p->effective_from = FX_T0 - 30 * FX_DAY;
	p->effective_until = FX_T0 + 300 * FX_DAY;
	memcpy(p->elements, els, sizeof(els));
	p->n_elements = sizeof(els) / sizeof(els[0]);
	p->controlled_categories = strlist(r, 4, "oxide", "metal", "alloy", "magnet");
	p->controlled_tech = strlist(r, 2, "tech:separation", "tech:magnet");
	p->exempt_categories = strlist(r, 2, "component", "product");
	p->denied_end_uses = strlist(r, 1, "military");
	memset(keys[0], 0xaa, LS_KEY_LEN);
	memset(keys[1], 0xbb, LS_KEY_LEN);
	p->denied_end_user_keys.n = 2;
	p->denied_end_user_keys.v = (const uint8_t(*)[LS_KEY_LEN])keys;
	p->denied_end_user_names = strlist(r, 2, "Acme Defence", "Example Semiconductor");
	p->de_minimis_ppm = 1000;
	p->de_minimis_basis = LS_BASIS_VALUE;
	p->applies_to_reexport = true;
	p->applies_to_foreign_tech = true;
	p->supersedes.n = 1;
	p->supersedes.v = (const uint8_t(*)[LS_KEY_LEN])keys;
	memset(sus->policy, 0xcc, LS_ID_LEN);
	sus->from = FX_T0;
	sus->until = FX_T0 + 10 * FX_DAY;
	p->n_suspends = 1;
	p->suspends = sus;
	roundtrip(f->auth, r);
	ls_record_free(r);

	/* The smallest policy, through the fixture. */
	struct fx_policy_spec spec = {.effective_from = FX_T0, .elements = "Dy"};
	struct fx_env e = fx_policy(f->auth, &spec);
	struct ls_record *d = NULL;
	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &d, NULL), 0);
	assert_int_equal(d->type, LS_REC_POLICY);
	assert_int_equal(d->policy.n_elements, 1);
	assert_int_equal(d->policy.elements[0], 66);
	assert_int_equal(d->policy.de_minimis_basis, LS_BASIS_MASS);
	assert_int_equal(d->policy.controlled_categories.n, 0);
	ls_record_free(d);
	fx_env_release(&e);
}

static void
test_record_roundtrip_license(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_LICENSE);
	struct ls_license *l = &r->license;

	l->number = arena_str(r, "MOFCOM-2025-0001");
	memcpy(l->licensee, f->miner->kp->pk, LS_KEY_LEN);
	l->general = true;
	l->items = strlist(r, 3, "Dy", "magnet", "tech:separation");
	l->max_grams = 5000000;
	l->destinations = strlist(r, 2, "JP", "DE");
	l->has_end_user = true;
	memcpy(l->end_user, f->proc->kp->pk, LS_KEY_LEN);
	l->end_use = arena_str(r, "automotive motors");
	l->valid_from = FX_T0 - FX_DAY;
	l->valid_until = FX_T0 + 180 * FX_DAY;
	l->no_reexport_to = strlist(r, 1, "US");
	l->no_military = true;
	roundtrip(f->auth, r);
	ls_record_free(r);

	/* Through the fixture, with defaults. */
	struct fx_license_spec spec = {
	    .licensee = f->miner->kp->pk, .items = "Tb", .max_grams = 10, .destinations = "KR"};
	struct fx_env e = fx_license(f->auth, &spec);
	struct ls_record *d = NULL;
	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &d, NULL), 0);
	assert_string_equal(d->license.number, "LIC-1");
	assert_string_equal(d->license.end_use, "civilian");
	assert_false(d->license.general);
	assert_false(d->license.has_end_user);
	assert_int_equal(d->license.valid_from, d->timestamp);
	assert_int_equal(d->license.valid_until, 0);
	ls_record_free(d);
	fx_env_release(&e);
}

static void
test_record_roundtrip_lot(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_LOT);

	r->lot.lot.label = arena_str(r, "BO-2025-06-001");
	r->lot.lot.category = arena_str(r, "concentrate");
	r->lot.lot.grams = 25000000;
	r->lot.lot.value = 123456789;
	comp(&r->lot.lot.comp, "Dy=50000,Nd=300000,Fe=100000,Ce=200000");
	r->lot.site = arena_str(r, "Bayan Obo East");
	strcpy(r->lot.country, "CN");
	roundtrip(f->miner, r);
	/* The composition is kept sorted by atomic number. */
	assert_int_equal(r->lot.lot.comp.e[0].z, 26);
	ls_record_free(r);

	struct fx_env e = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 7, NULL);
	assert_non_null(e.buf);
	assert_int_equal(e.seq, 2);
	assert_int_equal(decode_verify(e.buf, e.len, NULL), 0);
	fx_env_release(&e);
}

static void
test_record_roundtrip_transformation(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_TRANSFORMATION);
	struct ls_lot_input *in = ls_record_alloc(r, 2 * sizeof(*in));
	struct ls_lotdef *out = ls_record_alloc(r, 3 * sizeof(*out));

	memset(in[0].lot, 1, LS_ID_LEN);
	in[0].grams = 1000;
	memset(in[1].lot, 2, LS_ID_LEN);
	in[1].grams = 2000;
	for (int i = 0; i < 3; i++) {
		char label[32];
		snprintf(label, sizeof(label), "oxide-%d", i);
		out[i].label = arena_str(r, label);
		out[i].category = arena_str(r, i == 2 ? "scrap" : "oxide");
		out[i].grams = 100 * (uint64_t)(i + 1);
		out[i].value = i == 0 ? 0 : 99;
		comp(&out[i].comp, i == 2 ? "" : "Dy=990000");
	}
	r->transformation.n_inputs = 2;
	r->transformation.inputs = in;
	r->transformation.n_outputs = 3;
	r->transformation.outputs = out;
	r->transformation.site = arena_str(r, "Ganzhou separation plant");
	roundtrip(f->proc, r);
	ls_record_free(r);

	/* Through the fixture. */
	struct ls_lot_input i1 = {{0}, 5};
	const char *outs[] = {"m1:magnet:4:Nd=290000,Dy=40000,Fe=650000", "s:scrap:1:"};
	struct fx_env e = fx_transform(f->proc, &i1, 1, outs, 2);
	struct ls_record *d = NULL;
	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &d, NULL), 0);
	assert_int_equal(d->transformation.n_outputs, 2);
	assert_string_equal(d->transformation.outputs[0].label, "m1");
	assert_int_equal(d->transformation.outputs[0].comp.n, 3);
	assert_int_equal(d->transformation.outputs[1].comp.n, 0);
	ls_record_free(d);
	fx_env_release(&e);
}

static void
test_record_roundtrip_transfer(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_TRANSFER);
	struct ls_transfer *t = &r->transfer;

	t->has_lot = true;
	memset(t->lot, 7, LS_ID_LEN);
	t->grams = 500;
	t->tech = arena_str(r, "");
	memcpy(t->to, f->proc->kp->pk, LS_KEY_LEN);
	memset(t->to_cert, 8, LS_ID_LEN);
	t->has_license = true;
	memset(t->license, 9, LS_ID_LEN);
	t->end_use = arena_str(r, "wind turbines");
	t->description = arena_str(r, "container MSKU 1234567");
	f->miner->has_cert = true;
	memset(f->miner->cert_id, 5, LS_ID_LEN);
	roundtrip(f->miner, r);
	ls_record_free(r);

	/* A technology transfer: no lot, no grams, no license. */
	r = ls_record_new(LS_REC_TRANSFER);
	t = &r->transfer;
	t->tech = arena_str(r, "tech:separation");
	memcpy(t->to, f->proc->kp->pk, LS_KEY_LEN);
	memset(t->to_cert, 8, LS_ID_LEN);
	t->end_use = arena_str(r, "");
	t->description = arena_str(r, "");
	roundtrip(f->miner, r);
	ls_record_free(r);

	memset(f->proc->cert_id, 3, LS_ID_LEN);
	struct fx_env e = fx_transfer_tech(f->miner, "tech:magnet", f->proc, NULL, "training");
	assert_non_null(e.buf);
	assert_int_equal(decode_verify(e.buf, e.len, NULL), 0);
	fx_env_release(&e);
}

static void
test_record_roundtrip_receipt(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_RECEIPT);

	memset(r->receipt.transfer, 0x42, LS_ID_LEN);
	r->receipt.grams = 499;
	roundtrip(f->proc, r);
	ls_record_free(r);

	/* 0 g is a valid receipt of a technology transfer. */
	r = ls_record_new(LS_REC_RECEIPT);
	memset(r->receipt.transfer, 0x43, LS_ID_LEN);
	roundtrip(f->proc, r);
	ls_record_free(r);
}

/* ---- the published format ---- */

static void
test_record_format_by_hand(void **state)
{
	struct fx *f = *state;
	struct fx_env e = fx_lot(f->miner, "ore-1", "site", NULL, "ore", 1000, "Nd=1000");
	Lodestone__Envelope *env;
	uint8_t id[32], *m;

	assert_non_null(e.buf);
	env = lodestone__envelope__unpack(NULL, e.len, e.buf);
	assert_non_null(env);
	/* id = BLAKE2b-256(body), unkeyed. */
	crypto_generichash(id, sizeof(id), env->body.data, env->body.len, NULL, 0);
	assert_memory_equal(id, e.id, 32);
	/* signature = Ed25519("lodestone/record/v1" 0x00 || body). */
	assert_int_equal(env->signature.len, 64);
	m = malloc(20 + env->body.len);
	assert_non_null(m);
	memcpy(m, "lodestone/record/v1", 20); /* with its NUL */
	memcpy(m + 20, env->body.data, env->body.len);
	assert_int_equal(crypto_sign_verify_detached(env->signature.data, m, 20 + env->body.len,
						     f->miner->kp->pk),
			 0);
	/* Not over the body alone. */
	assert_int_not_equal(crypto_sign_verify_detached(env->signature.data, env->body.data,
							 env->body.len, f->miner->kp->pk),
			     0);
	free(m);
	lodestone__envelope__free_unpacked(env, NULL);

	/* The lot id of a transformation output, by hand. */
	{
		crypto_generichash_state st;
		uint8_t want[32], got[32], be[4] = {0, 0, 1, 2};
		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, (const uint8_t *)"lodestone/lot/v1", 17);
		crypto_generichash_update(&st, e.id, 32);
		crypto_generichash_update(&st, be, 4);
		crypto_generichash_final(&st, want, 32);
		ls_lot_id(e.id, 0x102, got);
		assert_memory_equal(want, got, 32);
		ls_lot_id(e.id, 0x103, want);
		assert_memory_not_equal(want, got, 32);
	}
	fx_env_release(&e);
}

static void
test_record_wrong_domain(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = NULL;
	struct fx_env e = fx_lot(f->miner, "ore-1", "site", NULL, "ore", 1000, "Nd=1000");
	uint8_t sig[64], *env, *m;
	size_t len;

	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &r, NULL), 0);
	/* Over the body alone. */
	crypto_sign_detached(sig, NULL, r->body, r->body_len, f->miner->kp->sk);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
	free(env);
	/* Over the domain without its zero byte. */
	m = malloc(19 + r->body_len);
	assert_non_null(m);
	memcpy(m, "lodestone/record/v1", 19);
	memcpy(m + 19, r->body, r->body_len);
	crypto_sign_detached(sig, NULL, m, 19 + r->body_len, f->miner->kp->sk);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
	free(env);
	/* Another version's domain. */
	memcpy(m, "lodestone/record/v2", 19);
	crypto_sign_detached(sig, NULL, m, 19 + r->body_len, f->miner->kp->sk);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
	free(env);
	free(m);
	/* The right domain, by hand, verifies: the test above is not vacuous. */
	sign_body(r->body, r->body_len, f->miner->kp->sk, sig);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), 0);
	free(env);
	/* Signed by another key than the author. */
	sign_body(r->body, r->body_len, f->proc->kp->sk, sig);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
	free(env);
	ls_record_free(r);
	fx_env_release(&e);
}

static void
test_record_sign_refuses_other_key(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = ls_record_new(LS_REC_RECEIPT);
	struct ls_err_ctx ctx = {{0}};

	memcpy(r->author, f->miner->kp->pk, LS_KEY_LEN);
	r->seq = 1;
	r->timestamp = FX_T0;
	assert_int_equal(ls_record_sign(r, f->proc->kp->sk, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "author"));
	assert_int_equal(ls_record_verify(r), LS_ERR_SIGNATURE); /* not signed */
	ls_record_free(r);
	/* An unsigned record has no envelope. */
	r = ls_record_new(LS_REC_RECEIPT);
	{
		uint8_t *b = NULL;
		size_t n = 0;
		assert_int_equal(ls_record_envelope(r, &b, &n), LS_ERR_INVALID);
	}
	ls_record_free(r);
	ls_record_free(NULL);
	assert_int_equal(ls_record_verify(NULL), LS_ERR_SIGNATURE);
}

/* ---- tampering and malformed input ---- */

static void
test_record_tampered_bytes(void **state)
{
	struct fx *f = *state;
	struct fx_env e =
	    fx_lot(f->miner, "ore-1", "Bayan Obo", NULL, "ore", 1000000, "Nd=300000,Dy=50000");
	uint8_t *b;

	assert_non_null(e.buf);
	b = malloc(e.len);
	assert_non_null(b);
	/* Every byte, flipped in several ways: never a valid record. */
	for (size_t i = 0; i < e.len; i++) {
		static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x20};
		for (size_t k = 0; k < sizeof(masks); k++) {
			int rc;
			memcpy(b, e.buf, e.len);
			b[i] ^= masks[k];
			rc = decode_verify(b, e.len, NULL);
			if (rc != LS_ERR_SIGNATURE && rc != LS_ERR_MALFORMED &&
			    rc != LS_ERR_VERSION && rc != LS_ERR_TOO_BIG)
				fail_msg("byte %zu ^ 0x%02x: rc %d", i, masks[k], rc);
		}
	}
	/* The last 64 bytes are the signature: flipping them is a bad signature. */
	for (size_t i = e.len - 64; i < e.len; i++) {
		memcpy(b, e.buf, e.len);
		b[i] ^= 0x01;
		assert_int_equal(decode_verify(b, e.len, NULL), LS_ERR_SIGNATURE);
	}
	free(b);
	fx_env_release(&e);
}

static void
test_record_tampered_signature(void **state)
{
	struct fx *f = *state;
	struct ls_record *r = NULL;
	struct fx_env e =
	    fx_receipt(f->proc, (const uint8_t *)"0123456789abcdef0123456789abcdef", 12);
	uint8_t sig[64], *env;
	size_t len;

	assert_non_null(e.buf);
	assert_int_equal(ls_record_decode(e.buf, e.len, &r, NULL), 0);
	for (size_t i = 0; i < 64; i++) {
		memcpy(sig, r->signature, 64);
		sig[i] ^= (uint8_t)(1u << (i % 8));
		pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
		assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
		free(env);
	}
	memset(sig, 0, 64);
	pack_envelope(r->body, r->body_len, sig, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_SIGNATURE);
	free(env);
	/* A signature of the wrong length does not even decode. */
	pack_envelope(r->body, r->body_len, r->signature, 63, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_MALFORMED);
	free(env);
	pack_envelope(r->body, r->body_len, sig, 0, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_MALFORMED);
	free(env);
	/* Nor does an empty body. */
	pack_envelope(r->body, 0, r->signature, 64, &env, &len);
	assert_int_equal(decode_verify(env, len, NULL), LS_ERR_MALFORMED);
	free(env);
	ls_record_free(r);
	fx_env_release(&e);
}

static void
test_record_truncated(void **state)
{
	struct fx *f = *state;
	struct fx_env envs[3];

	envs[0] = fx_lot(f->miner, "ore-1", "Bayan Obo", NULL, "ore", 1000000, "Nd=300000");
	envs[1] = fx_cert(f->auth, f->proc, "Org", NULL, LS_ROLE_PROCESSOR, 0, 0);
	envs[2] = fx_receipt(f->proc, envs[0].id, 5);
	for (size_t k = 0; k < 3; k++) {
		uint8_t *b;
		assert_non_null(envs[k].buf);
		for (size_t n = 0; n < envs[k].len; n++) {
			/* A fresh allocation of exactly n bytes, so ASan sees over-reads. */
			b = malloc(n ? n : 1);
			assert_non_null(b);
			memcpy(b, envs[k].buf, n);
			if (decode_verify(n ? b : NULL, n, NULL) == 0)
				fail_msg("envelope %zu truncated to %zu bytes decodes", k, n);
			free(b);
		}
		assert_int_equal(decode_verify(envs[k].buf, envs[k].len, NULL), 0);
		fx_env_release(&envs[k]);
	}
}

static void
test_record_oversized(void **state)
{
	struct fx *f = *state;
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r = NULL;
	uint8_t *big = calloc(1, LS_ENVELOPE_MAX + 1);
	char s[LS_STR_MAX + 1];

	assert_non_null(big);
	assert_int_equal(ls_record_decode(big, LS_ENVELOPE_MAX + 1, &r, &ctx), LS_ERR_TOO_BIG);
	assert_null(r);
	assert_non_null(strstr(ctx.msg, "over"));
	assert_int_equal(ls_record_decode(big, SIZE_MAX, &r, NULL), LS_ERR_TOO_BIG);
	/* Exactly the limit is looked at (and is garbage). */
	assert_int_equal(ls_record_decode(big, LS_ENVELOPE_MAX, &r, NULL), LS_ERR_MALFORMED);
	free(big);

	/* A policy of 6 full lists of 200-byte names does not fit in 64 KiB: sign
	 * refuses it. */
	r = ls_record_new(LS_REC_POLICY);
	memset(s, 'a', LS_STR_MAX);
	s[LS_STR_MAX] = '\0';
	strcpy(r->policy.jurisdiction, "CN");
	r->policy.name = arena_str(r, "huge");
	{
		struct ls_strlist *lists[] = {
		    &r->policy.controlled_categories, &r->policy.exempt_categories,
		    &r->policy.denied_end_uses, &r->policy.denied_end_user_names,
		    &r->policy.controlled_tech};
		for (size_t k = 0; k < 5; k++) {
			const char **v = ls_record_alloc(r, LS_LIST_MAX * sizeof(*v));
			for (size_t i = 0; i < LS_LIST_MAX; i++)
				v[i] = arena_str(r, s);
			lists[k]->n = LS_LIST_MAX;
			lists[k]->v = v;
		}
	}
	memcpy(r->author, f->auth->kp->pk, LS_KEY_LEN);
	r->seq = 1;
	/* 5 x 64 x 203 bytes still fit ... */
	assert_int_equal(ls_record_sign(r, f->auth->kp->sk, &ctx), 0);
	/* ... 64 more keys do not. */
	{
		uint8_t(*keys)[LS_KEY_LEN] = ls_record_alloc(r, LS_LIST_MAX * LS_KEY_LEN);
		r->policy.supersedes.n = LS_LIST_MAX;
		r->policy.supersedes.v = (const uint8_t(*)[LS_KEY_LEN])keys;
	}
	assert_int_equal(ls_record_sign(r, f->auth->kp->sk, &ctx), LS_ERR_TOO_BIG);
	ls_record_free(r);
}

static void
test_record_random_bytes(void **state)
{
	struct fx *f = *state;
	uint8_t seed[randombytes_SEEDBYTES] = "lodestone test_record random";
	uint8_t *pool, *b;
	const size_t pool_len = 1 << 20;
	struct fx_env e =
	    fx_lot(f->miner, "ore-1", "Bayan Obo", NULL, "ore", 1000000, "Nd=300000,Dy=50000");
	size_t off = 0;

	pool = malloc(pool_len);
	assert_non_null(pool);
	assert_non_null(e.buf);
	randombytes_buf_deterministic(pool, pool_len, seed);
	for (int i = 0; i < 10000; i++) {
		size_t n = (size_t)(pool[off % pool_len] | pool[(off + 1) % pool_len] << 8) % 700;
		const uint8_t **envs = NULL;
		size_t *lens = NULL, cnt = 0;
		off += 2;
		if (off + n > pool_len)
			off = 0;
		b = malloc(n ? n : 1);
		assert_non_null(b);
		memcpy(b, pool + off, n);
		/* Half of them look like an envelope: field 1, a plausible length. */
		if (i % 2 == 0 && n > 2) {
			b[0] = 0x0a;
			b[1] = (uint8_t)((n - 2) & 0x7f);
		}
		off += n;
		assert_int_not_equal(decode_verify(b, n, NULL), 0);
		if (ls_bundle_decode(b, n, 16, &envs, &lens, &cnt, NULL) == 0) {
			for (size_t k = 0; k < cnt; k++) {
				assert_true(envs[k] >= b && envs[k] + lens[k] <= b + n);
				assert_int_not_equal(decode_verify(envs[k], lens[k], NULL), 0);
			}
		} else {
			assert_null(envs);
			assert_int_equal(cnt, 0);
		}
		free(envs);
		free(lens);
		free(b);
	}
	/* And 10,000 mutations of a valid envelope: 1 to 4 random bytes. */
	b = malloc(e.len);
	assert_non_null(b);
	for (int i = 0; i < 10000; i++) {
		int k = 1 + pool[off++ % pool_len] % 4;
		memcpy(b, e.buf, e.len);
		for (int j = 0; j < k; j++) {
			size_t at =
			    (size_t)(pool[off % pool_len] | pool[(off + 1) % pool_len] << 8) %
			    e.len;
			uint8_t x = pool[(off + 2) % pool_len];
			off += 3;
			b[at] ^= x ? x : 1;
		}
		assert_int_not_equal(decode_verify(b, e.len, NULL), 0);
	}
	free(b);
	free(pool);
	fx_env_release(&e);
}

static void
test_record_unknown_fields(void **state)
{
	struct fx *f = *state;
	struct raw w;
	struct ls_err_ctx ctx = {{0}};
	ProtobufCMessageUnknownField uf = {99, PROTOBUF_C_WIRE_TYPE_VARINT, 1, (uint8_t *)"\x01"};
	static const uint8_t extra[] = {0x98, 0x06, 0x01}; /* field 99, varint 1 */
	uint8_t *env;
	size_t len;

	/* The raw builder makes a valid record. */
	raw_lot(&w, f->miner);
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);

	/* An unknown field in the body, correctly signed. */
	env = seal(&w.rec, extra, sizeof(extra), f->miner->kp->sk, &len);
	assert_int_equal(decode_verify(env, len, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "unknown"));
	free(env);

	/* In the nested lot and in an element share. */
	w.lot.base.n_unknown_fields = 1;
	w.lot.base.unknown_fields = &uf;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	w.lot.base.n_unknown_fields = 0;
	w.es[1].base.n_unknown_fields = 1;
	w.es[1].base.unknown_fields = &uf;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	w.es[1].base.n_unknown_fields = 0;

	/* In the envelope, outside the signed bytes. */
	env = seal(&w.rec, NULL, 0, f->miner->kp->sk, &len);
	{
		uint8_t *b = malloc(len + sizeof(extra));
		assert_non_null(b);
		memcpy(b, env, len);
		memcpy(b + len, extra, sizeof(extra));
		assert_int_equal(decode_verify(b, len + sizeof(extra), &ctx), LS_ERR_MALFORMED);
		free(b);
	}
	free(env);

	/* A record with no kind at all. */
	w.rec.kind_case = LODESTONE__RECORD__KIND__NOT_SET;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
}

static void
test_record_version(void **state)
{
	struct fx *f = *state;
	struct raw w;
	struct ls_err_ctx ctx = {{0}};

	raw_lot(&w, f->miner);
	w.rec.version = 4;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_VERSION);
	assert_non_null(strstr(ctx.msg, "version"));
	/* Version 2 adds Receipt.reason, version 3 Ownership: every version-1
	 * record reads in both. */
	w.rec.version = 3;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	w.rec.version = 2;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	w.rec.version = 0;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_VERSION);
	w.rec.version = UINT32_MAX;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_VERSION);
	w.rec.version = 1;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
}

/* Receipt.reason exists from version 2 on: a version-1 receipt carrying it
 * does not decode (a version-1 reader would not know the field), a
 * version-2 one does, and signing picks the version the record needs. */
static void
test_record_receipt_reason_version(void **state)
{
	struct fx *f = *state;
	struct raw w;
	Lodestone__Receipt rc = LODESTONE__RECEIPT__INIT;
	uint8_t tr[LS_ID_LEN];
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r;

	raw_lot(&w, f->miner);
	memset(tr, 7, sizeof(tr));
	rc.transfer.data = tr;
	rc.transfer.len = LS_ID_LEN;
	rc.grams = 10;
	w.rec.kind_case = LODESTONE__RECORD__KIND_RECEIPT;
	w.rec.receipt = &rc;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	rc.reason = "wet";
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "receipt reason"));
	w.rec.version = 2;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	rc.reason = "a\tb";
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);

	assert_non_null(r = ls_record_new(LS_REC_RECEIPT));
	memcpy(r->author, f->miner->kp->pk, LS_KEY_LEN);
	r->seq = 1;
	r->timestamp = FX_T0;
	memcpy(r->receipt.transfer, tr, LS_ID_LEN);
	assert_int_equal(ls_record_sign(r, f->miner->kp->sk, &ctx), 0);
	assert_int_equal(r->version, 1);
	ls_record_free(r);
}

/* Ownership is the kind of version 3: a version-2 record carrying it does
 * not decode, a version-3 one does; its fields are checked (share 1..10^6
 * ppm, two different organisations, an assigned jurisdiction), it survives
 * a round trip, and signing picks version 3. */
static void
test_record_ownership(void **state)
{
	struct fx *f = *state;
	struct raw w;
	Lodestone__Ownership o = LODESTONE__OWNERSHIP__INIT;
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r, *back = NULL;

	raw_lot(&w, f->miner);
	o.owner = "MP Materials";
	o.subsidiary = "MP Magnetics";
	o.share_ppm = 600000;
	o.jurisdiction = "CN";
	w.rec.kind_case = LODESTONE__RECORD__KIND_OWNERSHIP;
	w.rec.ownership = &o;
	w.rec.version = 2;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "needs 3"));
	w.rec.version = 3;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	o.share_ppm = 0;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	o.share_ppm = 1000001;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "share"));
	o.share_ppm = 1000000;
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), 0);
	o.subsidiary = "MP Materials";
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	o.subsidiary = "MP Magnetics";
	o.jurisdiction = "UK";
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "jurisdiction"));
	o.jurisdiction = "CN";
	o.owner = "";
	assert_int_equal(raw_rc(&w.rec, f->miner->kp->sk, &ctx), LS_ERR_MALFORMED);

	assert_non_null(r = ls_record_new(LS_REC_OWNERSHIP));
	memcpy(r->author, f->miner->kp->pk, LS_KEY_LEN);
	r->seq = 1;
	r->timestamp = FX_T0;
	r->ownership.owner = "USA Rare Earth";
	r->ownership.subsidiary = "Fort Worth Magnets";
	r->ownership.share_ppm = 500000;
	memcpy(r->ownership.jurisdiction, "CN", 3);
	r->ownership.from = FX_T0 - 10;
	assert_int_equal(ls_record_sign(r, f->miner->kp->sk, &ctx), 0);
	assert_int_equal(r->version, 3);
	{
		uint8_t *env = NULL;
		size_t len = 0;
		assert_int_equal(ls_record_envelope(r, &env, &len), 0);
		assert_int_equal(ls_record_decode(env, len, &back, &ctx), 0);
		free(env);
	}
	assert_int_equal(back->type, LS_REC_OWNERSHIP);
	assert_string_equal(back->ownership.owner, "USA Rare Earth");
	assert_string_equal(back->ownership.subsidiary, "Fort Worth Magnets");
	assert_int_equal(back->ownership.share_ppm, 500000);
	assert_string_equal(back->ownership.jurisdiction, "CN");
	assert_int_equal(back->ownership.from, FX_T0 - 10);
	assert_memory_equal(back->id, r->id, LS_ID_LEN);
	ls_record_free(back);
	ls_record_free(r);
}

/* One broken field of a lot registration: decode must say `want`, and the
 * message must name `field`. */
static void
expect_rc(const struct raw *w, const struct fx *f, int want, const char *field, int line)
{
	struct ls_err_ctx c = {{0}};
	int rc = raw_rc(&w->rec, f->miner->kp->sk, &c);

	if (rc != want)
		fail_msg("line %d: rc %d, want %d (%s)", line, rc, want, c.msg);
	if (field != NULL && strstr(c.msg, field) == NULL)
		fail_msg("line %d: message '%s' does not name '%s'", line, c.msg, field);
}
#define EXPECT(w, f, want, field) expect_rc((w), (f), (want), (field), __LINE__)

static void
test_record_field_checks_header(void **state)
{
	struct fx *f = *state;
	struct raw w;

	raw_lot(&w, f->miner);
	w.rec.author.len = 31;
	EXPECT(&w, f, LS_ERR_MALFORMED, "author");
	w.rec.author.len = 33;
	EXPECT(&w, f, LS_ERR_MALFORMED, "author");
	w.rec.author.len = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "author");

	raw_lot(&w, f->miner);
	w.rec.seq = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "seq");
	w.rec.seq = (uint64_t)INT64_MAX + 1;
	EXPECT(&w, f, LS_ERR_MALFORMED, "seq");
	w.rec.seq = 2; /* without prev */
	EXPECT(&w, f, LS_ERR_MALFORMED, "prev");
	w.rec.seq = 1; /* with prev */
	w.rec.has_prev = 1;
	w.rec.prev.data = w.prev;
	w.rec.prev.len = LS_ID_LEN;
	EXPECT(&w, f, LS_ERR_MALFORMED, "prev");
	w.rec.seq = 2;
	EXPECT(&w, f, 0, NULL);
	w.rec.prev.len = 31;
	EXPECT(&w, f, LS_ERR_MALFORMED, "prev");

	raw_lot(&w, f->miner);
	w.rec.has_cert = 1;
	w.rec.cert.data = w.prev;
	w.rec.cert.len = 33;
	EXPECT(&w, f, LS_ERR_MALFORMED, "cert");
	w.rec.cert.len = 32;
	EXPECT(&w, f, 0, NULL);

	raw_lot(&w, f->miner);
	w.rec.timestamp = (uint64_t)INT64_MAX + 1;
	EXPECT(&w, f, LS_ERR_MALFORMED, "timestamp");
}

static void
test_record_field_checks_lot(void **state)
{
	struct fx *f = *state;
	struct raw w;
	char bad[] = "ore\n1";

	/* Composition: sum over 10^6, unknown elements, duplicates, 0 ppm. */
	raw_lot(&w, f->miner);
	w.es[0].ppm = 950001;
	EXPECT(&w, f, LS_ERR_MALFORMED, "1000000");
	w.es[0].ppm = 950000; /* exactly 10^6 is fine */
	EXPECT(&w, f, 0, NULL);
	w.es[0].ppm = 1000001;
	EXPECT(&w, f, LS_ERR_MALFORMED, "ppm");
	w.es[0].ppm = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "ppm");
	raw_lot(&w, f->miner);
	w.es[0].z = 119;
	EXPECT(&w, f, LS_ERR_MALFORMED, "unknown element");
	w.es[0].z = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "unknown element");
	w.es[0].z = 66;
	EXPECT(&w, f, LS_ERR_MALFORMED, "twice");
	raw_lot(&w, f->miner);
	for (size_t i = 0; i < LS_COMP_MAX + 1; i++) {
		w.es[i].z = (uint32_t)i + 1;
		w.es[i].ppm = 1;
	}
	w.lot.n_composition = LS_COMP_MAX;
	EXPECT(&w, f, 0, NULL);
	w.lot.n_composition = LS_COMP_MAX + 1;
	EXPECT(&w, f, LS_ERR_MALFORMED, "entries");

	/* Country: an assigned ISO 3166-1 alpha-2 code, upper case. */
	raw_lot(&w, f->miner);
	w.lot.country = "XX";
	EXPECT(&w, f, LS_ERR_MALFORMED, "lot country 'XX' is not an assigned ISO 3166-1");
	w.lot.country = "UK";
	EXPECT(&w, f, LS_ERR_MALFORMED, "the United Kingdom is GB");
	w.lot.country = "GB";
	EXPECT(&w, f, 0, NULL);
	w.lot.country = "de";
	EXPECT(&w, f, LS_ERR_MALFORMED, "country");
	w.lot.country = "DEU";
	EXPECT(&w, f, LS_ERR_MALFORMED, "country");
	w.lot.country = "D";
	EXPECT(&w, f, LS_ERR_MALFORMED, "country");
	w.lot.country = "";
	EXPECT(&w, f, LS_ERR_MALFORMED, "country");
	w.lot.country = "D1";
	EXPECT(&w, f, LS_ERR_MALFORMED, "country");

	/* Strings: control characters, length, emptiness. */
	raw_lot(&w, f->miner);
	w.lot.label = bad;
	EXPECT(&w, f, LS_ERR_MALFORMED, "control");
	bad[3] = 0x7f;
	EXPECT(&w, f, LS_ERR_MALFORMED, "control");
	bad[3] = '\t';
	EXPECT(&w, f, LS_ERR_MALFORMED, "control");
	w.lot.label = w.label;
	memset(w.label, 'x', LS_STR_MAX);
	w.label[LS_STR_MAX] = '\0';
	EXPECT(&w, f, 0, NULL);
	w.label[LS_STR_MAX] = 'x';
	w.label[LS_STR_MAX + 1] = '\0';
	EXPECT(&w, f, LS_ERR_MALFORMED, "longer");
	w.label[0] = '\0';
	EXPECT(&w, f, LS_ERR_MALFORMED, "empty");
	/* UTF-8 is fine. */
	strcpy(w.label, "矿石-1 Ωmega");
	EXPECT(&w, f, 0, NULL);

	/* Category and grams. */
	raw_lot(&w, f->miner);
	w.lot.category = "unobtainium";
	EXPECT(&w, f, LS_ERR_MALFORMED, "category");
	w.lot.category = "Ore";
	EXPECT(&w, f, LS_ERR_MALFORMED, "category");
	raw_lot(&w, f->miner);
	w.lot.grams = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "grams");
	w.lot.grams = LS_GRAMS_MAX + 1;
	EXPECT(&w, f, LS_ERR_MALFORMED, "grams");
	w.lot.grams = LS_GRAMS_MAX;
	EXPECT(&w, f, 0, NULL);
	w.lot.has_value = 1;
	w.lot.value = 0;
	EXPECT(&w, f, LS_ERR_MALFORMED, "value");
}

static void
test_record_field_checks_other_types(void **state)
{
	struct fx *f = *state;
	struct raw w;
	uint8_t key[33], ids[LS_LIST_MAX + 1][32];
	char *dests[LS_LIST_MAX + 1], *items[] = {"Dy", "magnet", "tech:mining"};

	memset(key, 0x11, sizeof(key));
	memset(ids, 0x22, sizeof(ids));
	for (size_t i = 0; i < LS_LIST_MAX + 1; i++)
		dests[i] = "JP";

	/* Certificate: subject of 31 bytes, roles, country, validity. */
	{
		Lodestone__Certificate c = LODESTONE__CERTIFICATE__INIT;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_CERTIFICATE;
		w.rec.certificate = &c;
		c.subject.data = key;
		c.subject.len = 32;
		c.org = "Org";
		c.country = "CN";
		c.roles = LS_ROLE_MINER;
		EXPECT(&w, f, 0, NULL);
		c.subject.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "subject");
		c.subject.len = 32;
		c.roles = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "roles");
		c.roles = 128;
		EXPECT(&w, f, LS_ERR_MALFORMED, "roles");
		c.roles = LS_ROLE_ALL;
		EXPECT(&w, f, 0, NULL);
		c.country = "cn";
		EXPECT(&w, f, LS_ERR_MALFORMED, "country");
		c.country = "CN";
		c.org = "";
		EXPECT(&w, f, LS_ERR_MALFORMED, "org");
		c.org = "Org";
		c.has_valid_from = 1;
		c.valid_from = FX_T0;
		c.has_valid_until = 1;
		c.valid_until = FX_T0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "valid_until");
		c.valid_until = FX_T0 + 1;
		EXPECT(&w, f, 0, NULL);
	}
	/* Revocation. */
	{
		Lodestone__Revocation rv = LODESTONE__REVOCATION__INIT;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_REVOCATION;
		w.rec.revocation = &rv;
		rv.subject.data = key;
		rv.subject.len = 32;
		rv.effective = FX_T0;
		EXPECT(&w, f, 0, NULL);
		rv.subject.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "subject");
		rv.subject.len = 32;
		rv.reason = "bad\x01reason";
		EXPECT(&w, f, LS_ERR_MALFORMED, "control");
	}
	/* License: over LS_LIST_MAX destinations, bad country, unknown item, kind. */
	{
		Lodestone__License l = LODESTONE__LICENSE__INIT;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_LICENSE;
		w.rec.license = &l;
		l.number = "L-1";
		l.licensee.data = key;
		l.licensee.len = 32;
		l.items = items;
		l.n_items = 3;
		l.max_grams = 100;
		l.destinations = dests;
		l.n_destinations = LS_LIST_MAX;
		l.end_use = "civilian";
		EXPECT(&w, f, 0, NULL);
		l.n_destinations = LS_LIST_MAX + 1;
		EXPECT(&w, f, LS_ERR_MALFORMED, "entries");
		l.n_destinations = 1;
		dests[0] = "jp";
		EXPECT(&w, f, LS_ERR_MALFORMED, "destination");
		dests[0] = "JP";
		l.n_destinations = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "destinations");
		l.n_destinations = 1;
		items[1] = "toaster";
		EXPECT(&w, f, LS_ERR_MALFORMED, "toaster");
		items[1] = "magnet";
		l.n_items = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "items");
		l.n_items = 3;
		l.licensee.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "licensee");
		l.licensee.len = 32;
		l.has_end_user = 1;
		l.end_user.data = key;
		l.end_user.len = 33;
		EXPECT(&w, f, LS_ERR_MALFORMED, "end_user");
		l.has_end_user = 0;
		l.has_kind = 1;
		l.kind = (Lodestone__LicenseKind)7;
		EXPECT(&w, f, LS_ERR_MALFORMED, "kind");
		l.has_kind = 0;
		l.end_use = "";
		EXPECT(&w, f, LS_ERR_MALFORMED, "end_use");
		l.end_use = "civilian";
		l.max_grams = LS_GRAMS_MAX + 1;
		EXPECT(&w, f, LS_ERR_MALFORMED, "max_grams");
	}
	/* Policy: element list, suspension, de minimis. */
	{
		Lodestone__Policy p = LODESTONE__POLICY__INIT;
		uint32_t els[LS_LIST_MAX + 1];
		Lodestone__Suspension s = LODESTONE__SUSPENSION__INIT, *sp = &s;
		for (size_t i = 0; i < LS_LIST_MAX + 1; i++)
			els[i] = 66;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_POLICY;
		w.rec.policy = &p;
		p.jurisdiction = "CN";
		p.name = "P";
		p.effective_from = FX_T0;
		p.controlled_elements = els;
		p.n_controlled_elements = LS_LIST_MAX;
		EXPECT(&w, f, 0, NULL);
		p.n_controlled_elements = LS_LIST_MAX + 1;
		EXPECT(&w, f, LS_ERR_MALFORMED, "entries");
		p.n_controlled_elements = 1;
		els[0] = 200;
		EXPECT(&w, f, LS_ERR_MALFORMED, "element");
		els[0] = 66;
		p.has_de_minimis_ppm = 1;
		p.de_minimis_ppm = 1000001;
		EXPECT(&w, f, LS_ERR_MALFORMED, "de_minimis");
		p.has_de_minimis_ppm = 0;
		p.has_de_minimis_basis = 1;
		p.de_minimis_basis = (Lodestone__DeMinimisBasis)5;
		EXPECT(&w, f, LS_ERR_MALFORMED, "basis");
		p.has_de_minimis_basis = 0;
		p.suspends = &sp;
		p.n_suspends = 1;
		s.policy.data = ids[0];
		s.policy.len = 32;
		s.from = FX_T0;
		s.until = FX_T0 + 1;
		EXPECT(&w, f, 0, NULL);
		s.until = FX_T0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "suspension");
		s.until = FX_T0 + 1;
		s.policy.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "suspension");
		p.n_suspends = 0;
		p.jurisdiction = "china";
		EXPECT(&w, f, LS_ERR_MALFORMED, "jurisdiction");
		p.jurisdiction = "CN";
		p.has_effective_until = 1;
		p.effective_until = FX_T0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "effective_until");
	}
	/* Transformation: inputs, outputs, repeated input, grams. */
	{
		Lodestone__Transformation t = LODESTONE__TRANSFORMATION__INIT;
		Lodestone__LotInput in[2] = {LODESTONE__LOT_INPUT__INIT,
					     LODESTONE__LOT_INPUT__INIT};
		Lodestone__LotInput *inp[2] = {&in[0], &in[1]};
		Lodestone__LotOutput out = LODESTONE__LOT_OUTPUT__INIT, *outp = &out;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_TRANSFORMATION;
		w.rec.transformation = &t;
		in[0].lot.data = ids[0];
		in[0].lot.len = 32;
		in[0].grams = 10;
		in[1].lot.data = ids[1];
		in[1].lot.len = 32;
		in[1].grams = 10;
		ids[1][0] = 0x23;
		out.label = "o";
		out.category = "oxide";
		out.grams = 5;
		t.inputs = inp;
		t.n_inputs = 2;
		t.outputs = &outp;
		t.n_outputs = 1;
		EXPECT(&w, f, 0, NULL);
		ids[1][0] = 0x22;
		EXPECT(&w, f, LS_ERR_MALFORMED, "repeats");
		ids[1][0] = 0x23;
		t.n_inputs = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "input");
		t.n_inputs = 2;
		t.n_outputs = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "output");
		t.n_outputs = 1;
		in[1].grams = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "grams");
		in[1].grams = 10;
		in[1].lot.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "lot");
		in[1].lot.len = 32;
		out.category = "gadget";
		EXPECT(&w, f, LS_ERR_MALFORMED, "category");
	}
	/* Transfer: lot xor tech, to itself, lengths, grams. */
	{
		Lodestone__Transfer t = LODESTONE__TRANSFER__INIT;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_TRANSFER;
		w.rec.transfer = &t;
		t.has_lot = 1;
		t.lot.data = ids[0];
		t.lot.len = 32;
		t.has_grams = 1;
		t.grams = 5;
		t.to.data = key;
		t.to.len = 32;
		t.to_cert.data = ids[1];
		t.to_cert.len = 32;
		EXPECT(&w, f, 0, NULL);
		t.tech = "tech:mining";
		EXPECT(&w, f, LS_ERR_MALFORMED, "exactly one");
		t.has_lot = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "no grams");
		t.has_grams = 0;
		EXPECT(&w, f, 0, NULL);
		t.tech = "tech:cooking";
		EXPECT(&w, f, LS_ERR_MALFORMED, "tech");
		t.tech = NULL;
		EXPECT(&w, f, LS_ERR_MALFORMED, "exactly one");
		t.has_lot = 1;
		t.has_grams = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "grams");
		t.has_grams = 1;
		t.to.data = w.author;
		EXPECT(&w, f, LS_ERR_MALFORMED, "own author");
		t.to.data = key;
		t.to.len = 31;
		EXPECT(&w, f, LS_ERR_MALFORMED, "to");
		t.to.len = 32;
		t.to_cert.len = 0;
		EXPECT(&w, f, LS_ERR_MALFORMED, "to_cert");
		t.to_cert.len = 32;
		t.has_license = 1;
		t.license.data = ids[2];
		t.license.len = 16;
		EXPECT(&w, f, LS_ERR_MALFORMED, "license");
	}
	/* Receipt. */
	{
		Lodestone__Receipt rc = LODESTONE__RECEIPT__INIT;
		raw_lot(&w, f->miner);
		w.rec.kind_case = LODESTONE__RECORD__KIND_RECEIPT;
		w.rec.receipt = &rc;
		rc.transfer.data = ids[0];
		rc.transfer.len = 32;
		rc.grams = 0;
		EXPECT(&w, f, 0, NULL);
		rc.transfer.len = 64;
		EXPECT(&w, f, LS_ERR_MALFORMED, "transfer");
		rc.transfer.len = 32;
		rc.grams = LS_GRAMS_MAX + 1;
		EXPECT(&w, f, LS_ERR_MALFORMED, "grams");
	}
}

/* The signing side runs the same checks: it refuses what decode refuses. */
static void
test_record_sign_validates(void **state)
{
	struct fx *f = *state;
	struct fx_env e;
	uint64_t seq = f->miner->seq;

	e = fx_lot(f->miner, "ore-1", "site", "de", "ore", 1, NULL);
	assert_null(e.buf);
	e = fx_lot(f->miner, "ore\x01", "site", NULL, "ore", 1, NULL);
	assert_null(e.buf);
	e = fx_lot(f->miner, "ore-1", "site", NULL, "ore", 0, NULL);
	assert_null(e.buf);
	e = fx_lot(f->miner, "ore-1", "site", NULL, "rock", 1, NULL);
	assert_null(e.buf);
	/* A failed sign does not advance the actor's feed. */
	assert_int_equal(f->miner->seq, seq);
	e = fx_lot(f->miner, "ore-1", "site", NULL, "ore", 1, NULL);
	assert_non_null(e.buf);
	assert_int_equal(f->miner->seq, seq + 1);
	fx_env_release(&e);
	fx_env_release(NULL);
}

/* ---- bundles ---- */

static void
test_record_bundle_roundtrip(void **state)
{
	struct fx *f = *state;
	struct fx_env e[5];
	const uint8_t *envs[5], **got = NULL;
	size_t lens[5], *glens = NULL, n = 0, blen = 0;
	uint8_t *bundle = NULL;

	e[0] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	for (int i = 1; i < 5; i++) {
		char label[32];
		snprintf(label, sizeof(label), "lot-%d", i);
		e[i] = fx_lot(f->miner, label, "site", NULL, "ore", 1000 * (uint64_t)i, "Nd=1");
	}
	for (int i = 0; i < 5; i++) {
		assert_non_null(e[i].buf);
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
	}
	assert_int_equal(ls_bundle_encode(envs, lens, 5, NULL, &bundle, &blen), 0);
	/* It is a protobuf Bundle as the .proto says. */
	{
		Lodestone__Bundle *b = lodestone__bundle__unpack(NULL, blen, bundle);
		assert_non_null(b);
		assert_int_equal(b->n_records, 5);
		lodestone__bundle__free_unpacked(b, NULL);
	}
	{
		uint8_t lot[LS_ID_LEN];
		uint8_t *named = NULL;
		size_t nlen = 0;
		const uint8_t **ngot = NULL;
		size_t *nlens = NULL, nn = 0;
		Lodestone__Bundle *b;

		/* No lot named: ls_bundle_lot says so. */
		assert_int_equal(ls_bundle_lot(bundle, blen, lot), LS_ERR_NOT_FOUND);
		/* Bundle.lot (field 2) round-trips, and protobuf-c reads it too. */
		assert_int_equal(ls_bundle_encode(envs, lens, 5, e[3].id, &named, &nlen), 0);
		assert_int_equal(ls_bundle_lot(named, nlen, lot), 0);
		assert_memory_equal(lot, e[3].id, LS_ID_LEN);
		b = lodestone__bundle__unpack(NULL, nlen, named);
		assert_non_null(b);
		assert_true(b->has_lot);
		assert_memory_equal(b->lot.data, e[3].id, LS_ID_LEN);
		lodestone__bundle__free_unpacked(b, NULL);
		assert_int_equal(ls_bundle_decode(named, nlen, 100, &ngot, &nlens, &nn, NULL), 0);
		assert_int_equal(nn, 5);
		free(ngot);
		free(nlens);
		/* A lot field of the wrong length is malformed. */
		named[1] = 31;
		assert_int_equal(ls_bundle_decode(named, nlen, 100, &ngot, &nlens, &nn, NULL),
				 LS_ERR_MALFORMED);
		free(named);
	}
	assert_int_equal(ls_bundle_decode(bundle, blen, 100, &got, &glens, &n, NULL), 0);
	assert_int_equal(n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(glens[i], lens[i]);
		assert_memory_equal(got[i], envs[i], lens[i]);
		assert_true(got[i] >= bundle && got[i] < bundle + blen);
		assert_int_equal(decode_verify(got[i], glens[i], NULL), 0);
	}
	free(got);
	free(glens);
	/* max_records is a hard limit. */
	assert_int_equal(ls_bundle_decode(bundle, blen, 5, &got, &glens, &n, NULL), 0);
	free(got);
	free(glens);
	assert_int_equal(ls_bundle_decode(bundle, blen, 4, &got, &glens, &n, NULL), LS_ERR_TOO_BIG);
	assert_null(got);
	assert_null(glens);
	assert_int_equal(n, 0);
	/* Truncated anywhere: an error, or a shorter bundle of whole records. */
	for (size_t k = 0; k < blen; k++) {
		uint8_t *b = malloc(k ? k : 1);
		int rc;
		assert_non_null(b);
		memcpy(b, bundle, k);
		rc = ls_bundle_decode(b, k, 100, &got, &glens, &n, NULL);
		if (rc == 0) {
			assert_true(n < 5);
			for (size_t i = 0; i < n; i++)
				assert_int_equal(decode_verify(got[i], glens[i], NULL), 0);
		} else {
			assert_int_equal(rc, LS_ERR_MALFORMED);
		}
		free(got);
		free(glens);
		free(b);
	}
	free(bundle);

	/* The empty bundle. */
	assert_int_equal(ls_bundle_encode(envs, lens, 0, NULL, &bundle, &blen), 0);
	assert_int_equal(blen, 0);
	assert_int_equal(ls_bundle_decode(bundle, blen, 10, &got, &glens, &n, NULL), 0);
	assert_int_equal(n, 0);
	free(got);
	free(glens);
	free(bundle);
	for (int i = 0; i < 5; i++)
		fx_env_release(&e[i]);
}

static void
test_record_bundle_malformed(void **state)
{
	const uint8_t **got = NULL;
	size_t *glens = NULL, n = 7;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *big;
	(void)state;

	/* Wrong field number or wire type. */
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x12\x01x", 3, 10, &got, &glens, &n, &ctx),
	    LS_ERR_MALFORMED);
	assert_null(got);
	assert_int_equal(n, 0);
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x08\x01", 2, 10, &got, &glens, &n, NULL),
	    LS_ERR_MALFORMED);
	/* Length past the end, truncated varints. */
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x0a\x05xx", 4, 10, &got, &glens, &n, NULL),
	    LS_ERR_MALFORMED);
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x0a\x80", 2, 10, &got, &glens, &n, NULL),
	    LS_ERR_MALFORMED);
	assert_int_equal(ls_bundle_decode((const uint8_t *)"\x0a", 1, 10, &got, &glens, &n, NULL),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_bundle_decode((const uint8_t *)"\x8a", 1, 10, &got, &glens, &n, NULL),
			 LS_ERR_MALFORMED);
	/* An 11-byte varint. */
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff"
					      "\xff\x01",
			     12, 10, &got, &glens, &n, NULL),
	    LS_ERR_MALFORMED);
	/* A huge length. */
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, 10,
			     &got, &glens, &n, NULL),
	    LS_ERR_MALFORMED);
	/* A record over LS_ENVELOPE_MAX. */
	big = calloc(1, LS_ENVELOPE_MAX + 16);
	assert_non_null(big);
	big[0] = 0x0a;
	big[1] = 0x81; /* 65537 = 0x10001: 0x81 0x80 0x04 */
	big[2] = 0x80;
	big[3] = 0x04;
	assert_int_equal(ls_bundle_decode(big, 4 + LS_ENVELOPE_MAX + 1, 10, &got, &glens, &n, &ctx),
			 LS_ERR_TOO_BIG);
	free(big);
	/* Empty entries are well-formed bundles (their records fail decode). */
	assert_int_equal(
	    ls_bundle_decode((const uint8_t *)"\x0a\x00\x0a\x00", 4, 10, &got, &glens, &n, NULL),
	    0);
	assert_int_equal(n, 2);
	assert_int_equal(glens[0], 0);
	assert_int_not_equal(decode_verify(got[0], glens[0], NULL), 0);
	free(got);
	free(glens);
}

/* ---- parsers and names ---- */

static void
test_record_comp_parse(void **state)
{
	struct ls_comp c;
	struct ls_err_ctx ctx = {{0}};
	static const char *const bad[] = {"Nd",
					  "Nd=",
					  "=5",
					  "Nd=0",
					  "Nd=1000001",
					  "Xx=5",
					  "Nd=5,Nd=6",
					  "Nd=5,nd=6",
					  "Nd=600000,Dy=400001",
					  "Nd=5x",
					  "Nd=-5",
					  "Nd=+5",
					  "Nd=5,x",
					  ",Nd=5",
					  "Nd=5,,Dy=6",
					  "Nd==5",
					  "Ndd=5",
					  "Nd =5",
					  "Nd= 5",
					  "Nd=99999999999999999999"};
	(void)state;

	assert_int_equal(ls_comp_parse("Nd=300000,dy=50000", &c, &ctx), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.e[0].z, 60);
	assert_int_equal(c.e[0].ppm, 300000);
	assert_int_equal(c.e[1].z, 66);
	assert_int_equal(c.e[1].ppm, 50000);
	assert_int_equal(ls_comp_ppm(&c, 66), 50000);
	assert_int_equal(ls_comp_ppm(&c, 65), 0);
	/* Sorted by atomic number whatever the input order. */
	assert_int_equal(ls_comp_parse("Fe=650000,Dy=50000,B=10000,Nd=290000", &c, NULL), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(c.e[0].z, 5);
	assert_int_equal(c.e[1].z, 26);
	assert_int_equal(c.e[2].z, 60);
	assert_int_equal(c.e[3].z, 66);
	assert_int_equal(ls_comp_parse("Sm=1000000", &c, NULL), 0);
	assert_int_equal(ls_comp_parse("", &c, NULL), 0);
	assert_int_equal(c.n, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ctx.msg[0] = '\0';
		if (ls_comp_parse(bad[i], &c, &ctx) != LS_ERR_INVALID)
			fail_msg("composition '%s' accepted", bad[i]);
		assert_true(ctx.msg[0] != '\0');
	}
	/* Over LS_COMP_MAX elements. */
	{
		char s[1024] = "";
		for (uint32_t z = 1; z <= LS_COMP_MAX + 1; z++) {
			strcat(s, z > 1 ? "," : "");
			strcat(s, ls_element_symbol(z));
			strcat(s, "=1");
		}
		assert_int_equal(ls_comp_parse(s, &c, &ctx), LS_ERR_INVALID);
		*strrchr(s, ',') = '\0';
		assert_int_equal(ls_comp_parse(s, &c, NULL), 0);
		assert_int_equal(c.n, LS_COMP_MAX);
	}
}

static void
test_record_roles(void **state)
{
	uint32_t roles = 0;
	struct ls_err_ctx ctx = {{0}};
	char buf[128];
	(void)state;

	assert_int_equal(ls_roles_parse("miner,processor", &roles, NULL), 0);
	assert_int_equal(roles, LS_ROLE_MINER | LS_ROLE_PROCESSOR);
	assert_int_equal(ls_roles_parse("AUTHORITY", &roles, NULL), 0);
	assert_int_equal(roles, LS_ROLE_AUTHORITY);
	assert_int_equal(
	    ls_roles_parse("authority,miner,processor,exporter,importer,auditor,recycler", &roles,
			   NULL),
	    0);
	assert_int_equal(roles, LS_ROLE_ALL);
	assert_int_equal(ls_roles_parse("miner,miner", &roles, NULL), 0);
	assert_int_equal(roles, LS_ROLE_MINER);
	assert_int_equal(ls_roles_parse("wizard", &roles, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "'wizard'"));
	assert_int_equal(ls_roles_parse("miner,wizard", &roles, NULL), LS_ERR_INVALID);
	assert_int_equal(ls_roles_parse("", &roles, NULL), LS_ERR_INVALID);
	assert_int_equal(ls_roles_parse("min", &roles, NULL), LS_ERR_INVALID);
	assert_int_equal(ls_roles_parse("miners", &roles, NULL), LS_ERR_INVALID);
	assert_int_equal(ls_roles_parse(",", &roles, NULL), LS_ERR_INVALID);
	ls_roles_format(LS_ROLE_MINER | LS_ROLE_RECYCLER, buf, sizeof(buf));
	assert_string_equal(buf, "miner,recycler");
	assert_int_equal(ls_roles_parse(buf, &roles, NULL), 0);
	assert_int_equal(roles, LS_ROLE_MINER | LS_ROLE_RECYCLER);
	ls_roles_format(LS_ROLE_ALL, buf, 10); /* truncated, still a string */
	assert_true(strlen(buf) < 10);
	ls_roles_format(0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	for (uint32_t bit = 1; bit <= LS_ROLE_RECYCLER; bit <<= 1) {
		assert_non_null(ls_role_name(bit));
		assert_int_equal(ls_roles_parse(ls_role_name(bit), &roles, NULL), 0);
		assert_int_equal(roles, bit);
	}
	assert_null(ls_role_name(0));
	assert_null(ls_role_name(3));
	assert_null(ls_role_name(128));
	/* Who may author what. */
	assert_int_equal(ls_rtype_roles(LS_REC_CERTIFICATE), LS_ROLE_AUTHORITY);
	assert_true(ls_rtype_roles(LS_REC_LOT) & LS_ROLE_MINER);
	assert_false(ls_rtype_roles(LS_REC_LOT) & LS_ROLE_IMPORTER);
	assert_true(ls_rtype_roles(LS_REC_TRANSFORMATION) & LS_ROLE_PROCESSOR);
	assert_int_equal(ls_rtype_roles(LS_REC_NONE), 0);
}

static void
test_record_names(void **state)
{
	(void)state;
	for (int t = LS_REC_CERTIFICATE; t < LS_REC_TYPE_COUNT; t++) {
		const char *n = ls_rtype_name((enum ls_rtype)t);
		assert_non_null(n);
		assert_int_equal(ls_rtype_parse(n), t);
	}
	assert_string_equal(ls_rtype_name(LS_REC_LOT), "lot");
	assert_int_equal(ls_rtype_parse("LOT"), LS_REC_LOT);
	assert_int_equal(ls_rtype_parse("none"), LS_REC_NONE);
	assert_int_equal(ls_rtype_parse("bogus"), LS_REC_NONE);
	assert_string_equal(ls_rtype_name((enum ls_rtype)99), "unknown");
	assert_string_equal(ls_rtype_name((enum ls_rtype) - 1), "unknown");

	assert_string_equal(ls_element_symbol(66), "Dy");
	assert_null(ls_element_symbol(0));
	assert_null(ls_element_symbol(119));
	assert_int_equal(ls_element_z("dy"), 66);
	assert_int_equal(ls_element_z("DY"), 66);
	assert_int_equal(ls_element_z("Zz"), 0);
	assert_int_equal(ls_element_z(""), 0);
	for (uint32_t z = 1; z <= 118; z++)
		assert_int_equal(ls_element_z(ls_element_symbol(z)), z);
	{
		int n = 0;
		for (uint32_t z = 0; z <= 120; z++)
			n += ls_element_is_ree(z);
		assert_int_equal(n, 17);
		assert_true(ls_element_is_ree(21) && ls_element_is_ree(39) &&
			    ls_element_is_ree(57) && ls_element_is_ree(71));
		assert_false(ls_element_is_ree(26) || ls_element_is_ree(56) ||
			     ls_element_is_ree(72));
	}
	assert_true(ls_category_valid("magnet"));
	assert_false(ls_category_valid("Magnet"));
	assert_false(ls_category_valid(""));
	assert_true(ls_tech_valid("tech:recycling"));
	assert_false(ls_tech_valid("tech:"));
	assert_true(ls_country_valid("DE"));
	assert_false(ls_country_valid("de"));
	assert_false(ls_country_valid("DEU"));
	assert_false(ls_country_valid(NULL));
	for (int r = 0; r < LS_R_COUNT; r++)
		assert_string_not_equal(ls_reason_code((enum ls_reason)r), "unknown");
	assert_string_equal(ls_reason_code(LS_R_OVERSPEND), "overspend");
	assert_string_equal(ls_reason_code(LS_R_COUNT), "unknown");
	assert_string_equal(ls_reason_code((enum ls_reason) - 1), "unknown");
}

static void
test_record_strerror(void **state)
{
	struct ls_err_ctx ctx = {{0}};
	(void)state;

	for (int e = 0; e >= LS_ERR_OVERLOADED; e--) {
		const char *s = ls_strerror(e);
		assert_non_null(s);
		assert_true(s[0] != '\0');
		assert_string_not_equal(s, "unknown error");
		/* Every known code has its own text. */
		for (int o = 0; o > e; o--)
			assert_string_not_equal(s, ls_strerror(o));
	}
	{
		static const int unknown[] = {1, 2, LS_ERR_OVERLOADED - 1, -1000, INT_MAX, INT_MIN};
		for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
			assert_non_null(ls_strerror(unknown[i]));
			assert_string_equal(ls_strerror(unknown[i]), "unknown error");
		}
	}
	assert_int_equal(ls_err_set(&ctx, LS_ERR_IO, "cannot read '%s'", "x.key"), LS_ERR_IO);
	assert_string_equal(ctx.msg, "cannot read 'x.key'");
	assert_string_equal(ls_err_msg(&ctx, LS_ERR_IO), "cannot read 'x.key'");
	assert_int_equal(ls_err_set(NULL, LS_ERR_NOMEM, "x"), LS_ERR_NOMEM);
	assert_string_equal(ls_err_msg(NULL, LS_ERR_NOMEM), "out of memory");
	ctx.msg[0] = '\0';
	assert_string_equal(ls_err_msg(&ctx, LS_ERR_FULL), ls_strerror(LS_ERR_FULL));
	/* Long messages are cut, never overflow. */
	{
		char longs[1000];
		memset(longs, 'y', sizeof(longs) - 1);
		longs[sizeof(longs) - 1] = '\0';
		ls_err_set(&ctx, LS_ERR_INVALID, "%s", longs);
		assert_int_equal(strlen(ctx.msg), LS_ERR_MSG_MAX - 1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_certificate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_revocation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_license, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_lot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_transformation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_transfer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_roundtrip_receipt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_format_by_hand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_wrong_domain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_sign_refuses_other_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_tampered_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_tampered_signature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_oversized, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_random_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_unknown_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_receipt_reason_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_ownership, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_field_checks_header, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_field_checks_lot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_field_checks_other_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_sign_validates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_bundle_roundtrip, setup, teardown),
	    cmocka_unit_test(test_record_bundle_malformed),
	    cmocka_unit_test(test_record_comp_parse),
	    cmocka_unit_test(test_record_roles),
	    cmocka_unit_test(test_record_names),
	    cmocka_unit_test(test_record_strerror),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
