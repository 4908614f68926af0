/*
 * test_country.c - the table of assigned ISO 3166-1 alpha-2 codes, and the
 * record codec refusing what it does not hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "country.h"
#include "helper_fixture.h"
#include "record.h"

static void
test_country_assigned(void **state)
{
	static const char *const yes[] = {"AD", "CN", "DE", "EE", "GB", "JP", "MY",
					  "US", "ZW", "AX", "BQ", "SS", "TW"};
	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(ls_country_valid(yes[i]));
	assert_int_equal(ls_country_count(), 249);
}

/* Reserved, user-assigned, withdrawn and malformed codes are refused. */
static void
test_country_refused(void **state)
{
	static const char *const no[] = {"UK", "XX", "ZZ",  "EU", "EL", "AA", "QZ", "XK",
					 "AN", "YU", "CS",  "SU", "TP", "AC", "de", "De",
					 "D",  "",   "DEU", "D1", "1D", "@A", "[A"};
	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (ls_country_valid(no[i]))
			fail_msg("'%s' taken for an assigned code", no[i]);
	assert_false(ls_country_valid(NULL));
}

/* Every two-letter pair: exactly 249 valid, the table sorted and whole. */
static void
test_country_every_pair(void **state)
{
	size_t n = 0;
	char cc[3] = {0};

	(void)state;
	for (char a = 'A'; a <= 'Z'; a++)
		for (char b = 'A'; b <= 'Z'; b++) {
			cc[0] = a;
			cc[1] = b;
			n += ls_country_valid(cc);
		}
	assert_int_equal(n, 249);
}

static void
test_country_hint(void **state)
{
	const char *h = ls_country_hint("UK");

	(void)state;
	assert_non_null(h);
	assert_non_null(strstr(h, "GB"));
	assert_non_null(strstr(h, "United Kingdom"));
	assert_non_null(strstr(ls_country_hint("EL"), "GR"));
	assert_non_null(strstr(ls_country_hint("de"), "upper case"));
	assert_null(ls_country_hint("XX"));
	assert_null(ls_country_hint("DE"));
	assert_null(ls_country_hint(NULL));
}

/* The codec: a certificate, lot, policy or license naming an unassigned code
 * does not sign (and so, with the same validation, does not decode). */
static void
test_country_codec(void **state)
{
	struct fx_actor *a = fx_actor_new("CN");
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r;
	struct fx_env e;

	(void)state;
	assert_non_null(a);
	r = ls_record_new(LS_REC_CERTIFICATE);
	memcpy(r->certificate.subject, a->kp->pk, 32);
	r->certificate.org = ls_record_strdup(r, "Thames Magnets");
	memcpy(r->certificate.country, "UK", 3);
	r->certificate.roles = LS_ROLE_IMPORTER;
	memcpy(r->author, a->kp->pk, 32);
	r->seq = 1;
	r->timestamp = FX_T0;
	assert_int_equal(ls_record_sign(r, a->kp->sk, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ls_err_msg(&ctx, LS_ERR_INVALID), "certificate country 'UK'"));
	assert_non_null(strstr(ls_err_msg(&ctx, LS_ERR_INVALID), "the United Kingdom is GB"));
	memcpy(r->certificate.country, "GB", 3);
	assert_int_equal(ls_record_sign(r, a->kp->sk, &ctx), 0);
	ls_record_free(r);

	e = fx_lot(a, "ore", "Nowhere", "ZZ", "ore", 1000, NULL);
	assert_null(e.buf);
	{
		struct fx_license_spec ls = {0};
		ls.licensee = a->kp->pk;
		ls.items = "dy";
		ls.max_grams = 1;
		ls.destinations = "DE,XX";
		e = fx_license(a, &ls);
		assert_null(e.buf);
		ls.destinations = "DE";
		ls.no_reexport_to = "EU";
		e = fx_license(a, &ls);
		assert_null(e.buf);
		ls.no_reexport_to = "RU";
		e = fx_license(a, &ls);
		assert_non_null(e.buf);
		fx_env_release(&e);
	}
	{
		struct fx_policy_spec ps = {0};
		ps.jurisdiction = "XX";
		ps.elements = "Dy";
		e = fx_policy(a, &ps);
		assert_null(e.buf);
	}
	fx_actor_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_country_assigned),   cmocka_unit_test(test_country_refused),
	    cmocka_unit_test(test_country_every_pair), cmocka_unit_test(test_country_hint),
	    cmocka_unit_test(test_country_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
