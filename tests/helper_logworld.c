/*
 * helper_logworld.c - the witnessed world of the log tests (helper_logworld.h).
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

void
named_key(const char *prefix, uint8_t type, uint8_t sk[64], struct ls_vkey *vk, char *text)
{
	uint8_t pk[32];
	char name[LS_NOTE_NAME_MAX], hex[65];

	crypto_sign_keypair(pk, sk);
	snprintf(name, sizeof(name), "%s/%.16s", prefix, ls_hex(pk, 32, hex));
	assert_int_equal(ls_vkey_make(vk, name, type, pk), 0);
	ls_vkey_format(vk, text);
}

/*
 * Seals the log and stores its checkpoint, signed by the log key and
 * cosigned by the first n_cosig witnesses at t0, t0 + 10, ...; with quorum,
 * records that it reached the quorum of 2 (at t0 + 10). Returns its size.
 */
uint64_t
checkpoint(struct lw *l, size_t n_cosig, uint64_t t0, bool quorum)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	struct ls_checkpoint c;
	char *text = malloc(LS_NOTE_MAX);
	uint64_t size;
	size_t len;
	bool grew;

	assert_non_null(n);
	assert_non_null(text);
	assert_int_equal(ls_store_log_seal(l->w->s, &size, c.root, &grew), 0);
	snprintf(c.origin, sizeof(c.origin), "%s", l->log.name);
	c.size = size;
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	assert_true(n->body_len > 0);
	assert_int_equal(ls_note_sign(n, l->log.name, l->log_sk), 0);
	for (size_t i = 0; i < n_cosig; i++)
		assert_int_equal(ls_cosig_add(n, l->wit[i].name, l->wit_sk[i], t0 + 10 * i), 0);
	assert_true((len = ls_note_format(n, text, LS_NOTE_MAX)) > 0);
	assert_int_equal(ls_store_checkpoint_put(l->w->s, size, text, len), 0);
	if (quorum)
		assert_int_equal(ls_store_quorum_put(l->w->s, size, t0 + 10), 0);
	free(text);
	free(n);
	return size;
}

/*
 * helper_world's world within the first hour of FX_T0 (a node logs a record
 * within seconds of the time it claims, and a checkpoint hours later would
 * find them backdated), with a licensed export of half the magnets to
 * Germany, all in a checkpoint that reached quorum at FX_T0 + 3000.
 */
int
setup(void **state)
{
	struct lw *l = calloc(1, sizeof(*l));
	struct fx_license_spec ls;
	struct fx_policy_spec ps;
	struct world *w;
	struct fx_env e;

	assert_non_null(l);
	assert_non_null(w = l->w = calloc(1, sizeof(*w)));
	w->root = fx_actor_new("CN");
	w->cn_auth = fx_actor_new("CN");
	w->de_auth = fx_actor_new("DE");
	w->miner = fx_actor_new("CN");
	w->maker = fx_actor_new("CN");
	w->de_imp = fx_actor_new("DE");
	w->us = fx_actor_new("US");
	w->ru = fx_actor_new("RU");
	assert_non_null(w->ru);
	assert_non_null(w->dir = fx_tmpdir());
	assert_int_equal(fx_store_open(w->dir, w->root, 0, &w->s), 0);
	PUT(w, fx_cert(w->root, w->cn_auth, "MOFCOM", "CN", LS_ROLE_AUTHORITY, 0, 0));
	PUT(w, fx_cert(w->root, w->de_auth, "BAFA", "DE", LS_ROLE_AUTHORITY, 0, 0));
	PUT(w, fx_cert(w->cn_auth, w->miner, "Bayan Obo", "CN", LS_ROLE_MINER | LS_ROLE_EXPORTER, 0,
		       0));
	PUT(w, fx_cert(w->cn_auth, w->maker, "Ningbo Magnets", "CN",
		       LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, 0, 0));
	PUT(w, fx_cert(w->de_auth, w->de_imp, "Motor GmbH", "DE",
		       LS_ROLE_IMPORTER | LS_ROLE_EXPORTER, 0, 0));
	PUT(w, fx_cert(w->root, w->us, "US Motors", "US", LS_ROLE_IMPORTER, 0, 0));
	memset(&ps, 0, sizeof(ps));
	ps.name = "CN 2025 rare earths";
	ps.effective_from = FX_T0;
	ps.elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y";
	ps.denied_end_uses = "military";
	ps.applies_to_reexport = true;
	ps.de_minimis_ppm = 1000;
	e = fx_policy(w->cn_auth, &ps);
	memcpy(w->cn_policy, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	w->miner->ts = FX_T0 + 600;
	e = fx_lot(w->miner, "dy-oxide", "Bayan Obo", "CN", "alloy", 100000, "Nd=300000,Dy=60000");
	memcpy(w->dy_lot, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	e = fx_transfer(w->miner, w->dy_lot, 100000, w->maker, NULL, NULL);
	STORED(w, e);
	w->maker->ts = FX_T0 + 1200;
	PUT(w, fx_receipt(w->maker, e.id, 100000));
	fx_env_release(&e);
	{
		struct ls_lot_input in = {{0}, 100000};
		const char *out[] = {"magnets:magnet:100000:Nd=250000,Dy=50000,Fe=650000"};
		memcpy(in.lot, w->dy_lot, 32);
		e = fx_transform(w->maker, &in, 1, out, 1);
		ls_lot_id(e.id, 0, w->magnets);
		STORED(w, e);
		fx_env_release(&e);
	}
	named_key("lodestone", LS_NOTE_ED25519, l->log_sk, &l->log, l->log_text);
	for (int i = 0; i < N_WIT; i++)
		named_key("lodestone-witness", LS_NOTE_COSIG, l->wit_sk[i], &l->wit[i],
			  l->wit_text[i]);
	memset(&ls, 0, sizeof(ls));
	ls.number = "CN-2025-7";
	ls.licensee = w->maker->kp->pk;
	ls.items = "magnet";
	ls.max_grams = 100000;
	ls.destinations = "DE";
	w->cn_auth->ts = FX_T0 + 1800;
	e = fx_license(w->cn_auth, &ls);
	memcpy(l->license, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	w->maker->ts = FX_T0 + 2400;
	e = fx_transfer(w->maker, w->magnets, 50000, w->de_imp, l->license, NULL);
	memcpy(l->export, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	w->de_imp->ts = FX_T0 + 2700;
	e = fx_receipt(w->de_imp, l->export, 50000);
	memcpy(l->receipt, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	l->s1 = checkpoint(l, N_WIT, FX_T0 + 2990, true);
	*state = l;
	return 0;
}

int
teardown(void **state)
{
	struct lw *l = *state;
	void *w = l->w;

	world_teardown(&w);
	sodium_memzero(l, sizeof(*l));
	free(l);
	return 0;
}

/* ---- a bundle as plain parts, to cut and tamper with ---- */

void
parts_of(uint8_t *buf, size_t len, struct parts *p)
{
	const uint8_t *lpb;
	size_t lpl;

	memset(p, 0, sizeof(*p));
	p->buf = buf;
	p->len = len;
	assert_int_equal(ls_bundle_decode(buf, len, 1000000, &p->envs, &p->lens, &p->n, NULL), 0);
	assert_int_equal(ls_bundle_log(buf, len, &lpb, &lpl), 0);
	assert_int_equal(ls_logproof_decode(lpb, lpl, &p->lp, NULL), 0);
	assert_int_equal(p->lp.n_records, p->n);
}

void
parts_release(struct parts *p)
{
	free(p->buf);
	free(p->envs);
	free(p->lens);
	ls_logproof_release(&p->lp);
}

int
index_of(const struct parts *p, const uint8_t id[32])
{
	for (size_t i = 0; i < p->n; i++) {
		struct ls_record *r = NULL;
		bool eq;
		assert_int_equal(ls_record_decode(p->envs[i], p->lens[i], &r, NULL), 0);
		eq = memcmp(r->id, id, 32) == 0;
		ls_record_free(r);
		if (eq)
			return (int)i;
	}
	return -1;
}

/* The bundle again from p, without record cut (-1: none). *out malloc'd. */
void
reencode(struct parts *p, int cut, const uint8_t lot[32], uint8_t **out, size_t *len)
{
	uint8_t *lpb = NULL;
	size_t lpl = 0, n = p->n;
	struct ls_lp_inclusion saved;

	if (cut >= 0) {
		saved = p->lp.records[cut];
		memmove(&p->envs[cut], &p->envs[cut + 1], (n - cut - 1) * sizeof(*p->envs));
		memmove(&p->lens[cut], &p->lens[cut + 1], (n - cut - 1) * sizeof(*p->lens));
		memmove(&p->lp.records[cut], &p->lp.records[cut + 1],
			(n - cut - 1) * sizeof(*p->lp.records));
		p->n--;
		p->lp.n_records--;
		p->lp.records[p->lp.n_records] = saved; /* freed with the rest */
	}
	assert_int_equal(ls_logproof_encode(&p->lp, &lpb, &lpl), 0);
	assert_int_equal(
	    ls_bundle_encode_log(p->envs, p->lens, p->n, lot, NULL, 0, lpb, lpl, out, len), 0);
	if (cut >= 0)
		p->lp.n_records++; /* so that release frees the cut one too */
	free(lpb);
}

/* ---- verify-bundle's checks, through the library ---- */
