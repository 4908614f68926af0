/*
 * helper_world.c - the world of the rulebook tests (helper_world.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helper_world.h"

void
world_expect_at(struct ls_store *s, const struct fx_env *e, bool local, enum ls_ingest_status st,
		enum ls_reason reason, int line)
{
	struct ls_ingest_result res;
	int rc;

	if (e->buf == NULL)
		fail_msg("line %d: the record could not be built", line);
	rc =
	    local ? fx_submit_one(s, e->buf, e->len, &res) : fx_ingest_one(s, e->buf, e->len, &res);
	if (rc != 0)
		fail_msg("line %d: ingest failed: %d", line, rc);
	if (res.status != st || res.reason != reason)
		fail_msg("line %d: %s %s (%s), want %s %s", line, fx_status_name(res.status),
			 ls_reason_code(res.reason), res.message, fx_status_name(st),
			 ls_reason_code(reason));
}

struct fx_actor *
world_actor(struct world *w, struct fx_actor *auth, const char *org, const char *country,
	    uint32_t roles)
{
	struct fx_actor *x = fx_actor_new(country);

	assert_non_null(x);
	PUT(w, fx_cert(auth, x, org, country, roles, 0, 0));
	return x;
}

void
world_magnet_license(const struct world *w, struct fx_license_spec *ls, const char *number,
		     const char *dest)
{
	memset(ls, 0, sizeof(*ls));
	ls->number = number;
	ls->licensee = w->maker->kp->pk;
	ls->items = "magnet";
	ls->max_grams = 100000;
	ls->destinations = dest;
}

void
world_license(struct world *w, struct fx_actor *auth, const struct fx_license_spec *ls, bool local,
	      uint8_t id[32])
{
	struct fx_env e = fx_license(auth, ls);

	world_expect_at(w->s, &e, local, LS_INGEST_ACCEPTED, LS_R_OK, __LINE__);
	memcpy(id, e.id, 32);
	fx_env_release(&e);
}

void
world_ship(struct world *w, struct fx_actor *from, const uint8_t lot[32], uint64_t grams,
	   struct fx_actor *to, const uint8_t *license, bool local, uint8_t id[32])
{
	struct fx_env e = fx_transfer(from, lot, grams, to, license, NULL);

	world_expect_at(w->s, &e, local, LS_INGEST_ACCEPTED, LS_R_OK, __LINE__);
	if (to->ts < from->ts)
		to->ts = from->ts;
	PUT(w, fx_receipt(to, e.id, grams));
	if (id != NULL)
		memcpy(id, e.id, 32);
	fx_env_release(&e);
}

bool
world_has_reason(const struct ls_verdict *v, enum ls_reason code)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code)
			return true;
	return false;
}

void
world_dump(const char *what, const struct ls_verdict *v)
{
	fprintf(stderr, "%s: %s\n", what, ls_verdict_name(v->kind));
	for (size_t i = 0; i < v->n; i++)
		fprintf(stderr, "  %s: %s\n", ls_reason_code(v->reasons[i].code),
			v->reasons[i].message);
}

enum ls_verdict_kind
world_provenance(struct ls_store *s, const uint8_t lot[32], struct ls_verdict *v)
{
	assert_int_equal(ls_verify_provenance(s, lot, v), 0);
	return v->kind;
}

void
world_export_query(struct ls_export_query *q, const uint8_t lot[32], const struct fx_actor *from,
		   const char *dest, const char *use, const uint8_t *license)
{
	memset(q, 0, sizeof(*q));
	memcpy(q->lot, lot, 32);
	q->has_from = true;
	memcpy(q->from, from->kp->pk, 32);
	snprintf(q->destination, sizeof(q->destination), "%s", dest);
	q->end_use = use;
	q->time = FX_T0 + 30 * FX_DAY;
	if (license != NULL) {
		q->has_license = true;
		memcpy(q->license, license, 32);
	}
}

enum ls_verdict_kind
world_export_check(struct world *w, const uint8_t lot[32], const struct fx_actor *from,
		   const char *dest, const char *use, const uint8_t *license, struct ls_verdict *v)
{
	struct ls_export_query q;

	world_export_query(&q, lot, from, dest, use, license);
	assert_int_equal(ls_verify_export(w->s, &q, v), 0);
	return v->kind;
}

int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct fx_policy_spec ps;
	struct fx_env e;

	assert_non_null(w);
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
	PUT(w, fx_cert(w->root, w->ru, "RU Defence", "RU", LS_ROLE_IMPORTER, 0, 0));
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
	w->miner->ts = FX_T0 + FX_DAY;
	e = fx_lot(w->miner, "dy-oxide", "Bayan Obo", "CN", "alloy", 100000, "Nd=300000,Dy=60000");
	memcpy(w->dy_lot, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
	e = fx_transfer(w->miner, w->dy_lot, 100000, w->maker, NULL, NULL);
	STORED(w, e);
	w->maker->ts = FX_T0 + 2 * FX_DAY;
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
	*state = w;
	return 0;
}

int
world_teardown(void **state)
{
	struct world *w = *state;

	ls_store_close(&w->s);
	fx_rmtree(w->dir);
	free(w->dir);
	fx_actor_free(&w->root);
	fx_actor_free(&w->cn_auth);
	fx_actor_free(&w->de_auth);
	fx_actor_free(&w->miner);
	fx_actor_free(&w->maker);
	fx_actor_free(&w->de_imp);
	fx_actor_free(&w->us);
	fx_actor_free(&w->ru);
	free(w);
	return 0;
}
