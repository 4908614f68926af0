/*
 * test_roles.c - roles mean something: the sender of a cross-border transfer
 * needs the exporter role (consensus, in the certificate it cites), the
 * receiver the importer role (consensus, in the certificate its receipt
 * cites; admission and question time, in any certificate valid at the
 * transfer's date), and a key that may not receive at all (an auditor) is
 * refused at once. Each test tries to break a rule: from a peer (consensus
 * only), as a local client's submission (admission) and at question time.
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

#include "helper_fixture.h"
#include "helper_world.h"
#include "store.h"
#include "verify.h"

#define DAY3 (FX_T0 + 3 * FX_DAY)

/* A new actor of country cc certified by `auth` with roles, dated day 3. */
static struct fx_actor *
certified(struct world *w, struct fx_actor *auth, const char *cc, const char *org, uint32_t roles)
{
	struct fx_actor *a = fx_actor_new(cc);
	struct fx_env e;

	assert_non_null(a);
	a->ts = DAY3;
	auth->ts = auth->ts > DAY3 ? auth->ts : DAY3;
	e = fx_cert(auth, a, org, cc, roles, 0, 0);
	STORED(w, e);
	fx_env_release(&e);
	return a;
}

/* A 1000 g lot of w->miner (CN, miner and exporter), dated day 3, of
 * nothing China's policy controls. */
static void
new_lot(struct world *w, uint8_t id[32])
{
	struct fx_env e;

	w->miner->ts = DAY3;
	e = fx_lot(w->miner, "ore", "Bayan Obo", "CN", "ore", 1000, "Nd=300000");
	memcpy(id, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);
}

/* Whether a message of v with `code` contains `needle`. */
static bool
reason_says(const struct ls_verdict *v, enum ls_reason code, const char *needle)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->reasons[i].code == code && strstr(v->reasons[i].message, needle) != NULL)
			return true;
	return false;
}

/* Rule: a cross-border transfer's sender needs the exporter role. A
 * miner-only key cannot export, from a peer or locally; the same key ships
 * at home without it. */
static void
test_roles_miner_only_export_refused(void **state)
{
	struct world *w = *state;
	struct fx_actor *small = certified(w, w->cn_auth, "CN", "Small Mine", LS_ROLE_MINER);
	struct fx_actor *plant = certified(w, w->cn_auth, "CN", "Plant", LS_ROLE_PROCESSOR);
	struct ls_ingest_result res;
	struct fx_env lot, e, r;
	struct fx_mark m;

	lot = fx_lot(small, "ore", "South Pit", "CN", "ore", 1000, "Nd=300000");
	ADMITTED(w, lot);
	w->de_imp->ts = DAY3;
	m = fx_mark(small);
	e = fx_transfer(small, lot.id, 100, w->de_imp, NULL, NULL);
	NOT_STORED(w, e, LS_R_WRONG_ROLE);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.reason, LS_R_WRONG_ROLE);
	assert_non_null(strstr(res.message, "CN -> DE is an export"));
	assert_non_null(strstr(res.message, "exporter"));
	fx_env_release(&e);
	fx_rewind(small, &m);
	/* At home it needs no exporter role, nor its receiver an importer's. */
	e = fx_transfer(small, lot.id, 100, plant, NULL, NULL);
	ADMITTED(w, e);
	r = fx_receipt(plant, e.id, 100);
	ADMITTED(w, r);
	fx_env_release(&r);
	fx_env_release(&e);
	/* A technology transfer abroad needs it too. */
	m = fx_mark(plant);
	e = fx_transfer_tech(plant, "tech:separation", w->de_imp, NULL, NULL);
	NOT_STORED(w, e, LS_R_WRONG_ROLE);
	fx_env_release(&e);
	fx_rewind(plant, &m);
	fx_env_release(&lot);
	fx_actor_free(&small);
	fx_actor_free(&plant);
}

/* Rule: the receiver of an import needs the importer role. A transfer to a
 * processor-only German key is lawful to store (the receiver's role counts
 * where the receiver acts), refused at admission, its receipt is not
 * stored, and verification reports the transfer. With the importer role
 * the same import goes through. */
static void
test_roles_import_needs_importer(void **state)
{
	struct world *w = *state;
	struct fx_actor *works = certified(w, w->de_auth, "DE", "Works", LS_ROLE_PROCESSOR);
	struct fx_actor *imp = certified(w, w->de_auth, "DE", "Importer", LS_ROLE_IMPORTER);
	struct ls_ingest_result res;
	struct ls_verdict v;
	uint8_t lot[32];
	struct fx_env e, r;

	new_lot(w, lot);
	e = fx_transfer(w->miner, lot, 100, works, NULL, NULL);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_REJECTED);
	assert_int_equal(res.reason, LS_R_BAD_RECEIVER);
	assert_non_null(strstr(res.message, "needs the importer role"));
	STORED(w, e); /* from a peer: consensus keeps it */
	r = fx_receipt(works, e.id, 100);
	NOT_STORED(w, r, LS_R_WRONG_ROLE);
	fx_env_release(&r);
	world_provenance(w->s, lot, &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(reason_says(&v, LS_R_BAD_RECEIVER, "importer"));
	ls_verdict_release(&v);
	fx_env_release(&e);
	/* exporter -> importer: accepted at every layer, provenance stands for
	 * the importer's share. */
	new_lot(w, lot);
	e = fx_transfer(w->miner, lot, 100, imp, NULL, NULL);
	ADMITTED(w, e);
	r = fx_receipt(imp, e.id, 100);
	ADMITTED(w, r);
	world_provenance(w->s, lot, &v);
	if (v.kind != LS_V_VALID)
		world_dump("exporter -> importer", &v);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
	fx_env_release(&r);
	fx_env_release(&e);
	fx_actor_free(&works);
	fx_actor_free(&imp);
}

/* Rule: a key that may not receive (an auditor or an authority alone) is
 * refused at once, even at home, with a reason; not left in transit. */
static void
test_roles_auditor_may_not_receive(void **state)
{
	struct world *w = *state;
	struct fx_actor *aud = certified(w, w->cn_auth, "CN", "Audit Office", LS_ROLE_AUDITOR);
	struct ls_ingest_result res;
	struct ls_verdict v;
	uint8_t lot[32];
	struct fx_env e, r;

	new_lot(w, lot);
	e = fx_transfer(w->miner, lot, 100, aud, NULL, NULL);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_REJECTED);
	assert_int_equal(res.reason, LS_R_BAD_RECEIVER);
	assert_non_null(strstr(res.message, "may not receive"));
	assert_non_null(strstr(res.message, "auditor"));
	/* From a peer it is stored, and verification says what is wrong. */
	STORED(w, e);
	r = fx_receipt(aud, e.id, 100);
	NOT_STORED(w, r, LS_R_WRONG_ROLE);
	fx_env_release(&r);
	world_provenance(w->s, lot, &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(reason_says(&v, LS_R_BAD_RECEIVER, "may not receive"));
	ls_verdict_release(&v);
	fx_env_release(&e);
	fx_actor_free(&aud);
}

/* Attack: a key certified in two countries picks the certificate that
 * suits it. As a receiver named by its Chinese certificate it is still an
 * importer into Germany (admission, question time); a receipt of a transfer
 * to its German certificate under its Chinese one is not stored; as a
 * sender citing its German certificate it still exports from China. */
static void
test_roles_two_countries(void **state)
{
	struct world *w = *state;
	struct fx_actor *twin = certified(w, w->cn_auth, "CN", "Twin CN", LS_ROLE_MINER);
	struct fx_actor *imp = certified(w, w->de_auth, "DE", "Importer", LS_ROLE_IMPORTER);
	uint8_t cn_cert[32], de_cert[32], lot[32];
	struct ls_ingest_result res;
	struct ls_verdict v;
	struct fx_env e, r, tl;
	struct fx_mark m;

	memcpy(cn_cert, twin->cert_id, 32);
	e = fx_cert(w->de_auth, twin, "Twin DE", "DE", LS_ROLE_MINER, 0, 0);
	memcpy(de_cert, e.id, 32);
	STORED(w, e);
	fx_env_release(&e);

	/* Receiver: the transfer names the Chinese certificate. */
	new_lot(w, lot);
	memcpy(twin->cert_id, cn_cert, 32);
	e = fx_transfer(w->miner, lot, 100, twin, NULL, NULL);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.reason, LS_R_BAD_RECEIVER);
	assert_non_null(strstr(res.message, "CN -> DE"));
	STORED(w, e);
	world_provenance(w->s, lot, &v);
	assert_true(reason_says(&v, LS_R_BAD_RECEIVER, "importer"));
	ls_verdict_release(&v);
	fx_env_release(&e);

	/* Receiver: the transfer names the German certificate, the receipt
	 * cites the Chinese one. */
	new_lot(w, lot);
	memcpy(twin->cert_id, de_cert, 32);
	e = fx_transfer(w->miner, lot, 100, twin, NULL, NULL);
	STORED(w, e);
	memcpy(twin->cert_id, cn_cert, 32);
	m = fx_mark(twin);
	r = fx_receipt(twin, e.id, 100);
	NOT_STORED(w, r, LS_R_WRONG_ROLE);
	fx_env_release(&r);
	fx_rewind(twin, &m);
	fx_env_release(&e);

	/* Sender: a lot registered in China, shipped to a German importer
	 * citing the German certificate (DE -> DE by the certificates it
	 * names). */
	memcpy(twin->cert_id, de_cert, 32);
	tl = fx_lot(twin, "twin-ore", "Twin Pit", "CN", "ore", 1000, "Nd=300000");
	STORED(w, tl);
	e = fx_transfer(twin, tl.id, 100, imp, NULL, NULL);
	STORED(w, e); /* consensus: the certificates it names are both German */
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_KNOWN);
	world_provenance(w->s, tl.id, &v);
	assert_true(reason_says(&v, LS_R_WRONG_ROLE, "the sender needs the exporter role"));
	ls_verdict_release(&v);
	fx_env_release(&e);
	m = fx_mark(twin);
	e = fx_transfer(twin, tl.id, 100, imp, NULL, NULL);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.reason, LS_R_WRONG_ROLE);
	assert_non_null(strstr(res.message, "exporter"));
	fx_rewind(twin, &m);
	fx_env_release(&e);
	fx_env_release(&tl);
	fx_actor_free(&twin);
	fx_actor_free(&imp);
}

/* Attack: receive an import under an importer certificate that was revoked.
 * Revoked before the transfer: the transfer is refused at admission.
 * Revoked between transfer and receipt: the receipt is refused locally,
 * stored from a peer, and reported at question time. */
static void
test_roles_revoked_importer(void **state)
{
	struct world *w = *state;
	struct fx_actor *imp = certified(w, w->de_auth, "DE", "Importer", LS_ROLE_IMPORTER);
	struct fx_actor *imp2 = certified(w, w->de_auth, "DE", "Importer 2", LS_ROLE_IMPORTER);
	struct ls_ingest_result res;
	struct ls_verdict v;
	uint8_t lot[32];
	struct fx_env e, r, rev;
	struct fx_mark m;

	/* imp2's certificate revoked from day 3 on: nothing may be sent to it. */
	w->de_auth->ts = DAY3;
	rev = fx_revoke(w->de_auth, imp2->cert_id, DAY3);
	ADMITTED(w, rev);
	fx_env_release(&rev);
	new_lot(w, lot);
	w->miner->ts = DAY3 + FX_DAY;
	m = fx_mark(w->miner);
	e = fx_transfer(w->miner, lot, 100, imp2, NULL, NULL);
	assert_int_equal(fx_submit_one(w->s, e.buf, e.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_REJECTED);
	assert_int_equal(res.reason, LS_R_BAD_RECEIVER);
	assert_non_null(strstr(res.message, "revoked"));
	fx_env_release(&e);
	fx_rewind(w->miner, &m);

	/* imp: shipped on day 4, its certificate revoked from day 5 on, the
	 * receipt dated day 6. */
	e = fx_transfer(w->miner, lot, 100, imp, NULL, NULL);
	ADMITTED(w, e);
	rev = fx_revoke(w->de_auth, imp->cert_id, DAY3 + 2 * FX_DAY);
	ADMITTED(w, rev);
	fx_env_release(&rev);
	imp->ts = DAY3 + 3 * FX_DAY;
	r = fx_receipt(imp, e.id, 100);
	REFUSED(w, r, LS_R_REVOKED);
	STORED(w, r);
	world_provenance(w->s, lot, &v);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(world_has_reason(&v, LS_R_REVOKED));
	ls_verdict_release(&v);
	fx_env_release(&r);
	fx_env_release(&e);
	fx_actor_free(&imp);
	fx_actor_free(&imp2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roles_miner_only_export_refused, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_roles_import_needs_importer, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_roles_auditor_may_not_receive, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_roles_two_countries, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_roles_revoked_importer, world_setup,
					    world_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
