/*
 * test_profile.c - compliance profiles applied to an origin by stage
 * (lib/profile.c): exact share limits (at the limit passes, one gram over
 * fails), the unknown share is never compliant, rules wait for their
 * per-stage start, excepted countries do not count, categories and the
 * profile's period.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

#define DAY 86400u
#define T0  (20000u * DAY)

/* An origin of `category` with one element (Dy) whose separation stage is
 * split among places "CC=GRAMS" ("" country: unknown); mining all AU. */
static void
make_origin(struct ls_origin *o, const char *category, const char *const *places, size_t n)
{
	struct ls_origin_elem *e;
	struct ls_origin_stage *st;
	uint64_t total = 0;

	memset(o, 0, sizeof(*o));
	snprintf(o->category, sizeof(o->category), "%s", category);
	assert_non_null(o->elems = calloc(1, sizeof(*o->elems)));
	o->n = 1;
	e = &o->elems[0];
	e->z = 66;
	assert_non_null(e->stages = calloc(2, sizeof(*e->stages)));
	e->n_stages = 2;
	st = &e->stages[1];
	st->stage = LS_STAGE_SEPARATION;
	assert_non_null(st->places = calloc(n, sizeof(*st->places)));
	for (size_t i = 0; i < n; i++) {
		struct ls_stage_place *p = &st->places[i];
		const char *eq = strchr(places[i], '=');
		memcpy(p->country, places[i], (size_t)(eq - places[i]));
		p->grams = strtoull(eq + 1, NULL, 10);
		p->record[0] = (uint8_t)(i + 1);
		total += p->grams;
	}
	st->n_places = n;
	st->grams = total;
	assert_int_equal(ls_origin_stage_countries(st), 0);
	e->grams = total;
	st = &e->stages[0];
	st->stage = LS_STAGE_MINING;
	assert_non_null(st->places = calloc(1, sizeof(*st->places)));
	memcpy(st->places[0].country, "AU", 3);
	st->places[0].grams = total;
	st->n_places = 1;
	st->grams = total;
	assert_int_equal(ls_origin_stage_countries(st), 0);
	o->grams = total;
}

static void
share_profile(struct ls_profile *p, uint32_t max_ppm)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "test");
	p->effective_from = T0;
	p->n_rules = 1;
	p->rules[0].kind = LS_PRULE_MAX_SHARE;
	p->rules[0].n_stages = 1;
	p->rules[0].stages[0].stage = LS_STAGE_SEPARATION;
	p->rules[0].max_ppm = max_ppm;
}

static enum ls_compliance
verdict(const struct ls_profile *p, const struct ls_origin *o, uint64_t at,
	struct ls_compliance_result *r)
{
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_profile_check(p, o, at, r, &ctx), 0);
	return r->verdict;
}

static void
test_profile_share_exact(void **state)
{
	static const char *const at_limit[] = {"CN=650", "MY=350"};
	static const char *const over[] = {"CN=651", "MY=349"};
	struct ls_profile p;
	struct ls_origin o;
	struct ls_compliance_result r;

	(void)state;
	share_profile(&p, 650000);
	make_origin(&o, "metal", at_limit, 2);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANT);
	assert_int_equal(r.n, 0);
	ls_compliance_release(&r);
	ls_origin_release(&o);

	make_origin(&o, "metal", over, 2);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_NON_COMPLIANT);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].country, "CN");
	assert_int_equal(r.v[0].stage, LS_STAGE_SEPARATION);
	assert_int_equal(r.v[0].grams, 651);
	assert_int_equal(r.v[0].of_grams, 1000);
	assert_int_equal(r.v[0].ppm, 651000);
	assert_int_equal(r.v[0].n_records, 1);
	assert_int_equal(r.v[0].records[0][0], 1);
	ls_compliance_release(&r);

	/* The same CN share, CN excepted (a bloc's member): not counted. */
	p.rules[0].n_countries = 1;
	memcpy(p.rules[0].countries[0], "CN", 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANT);
	ls_compliance_release(&r);
	ls_origin_release(&o);
}

static void
test_profile_unknown_never_compliant(void **state)
{
	static const char *const some_unknown[] = {"=300", "MY=400", "FR=300"};
	static const char *const little_unknown[] = {"=100", "MY=400", "FR=500"};
	struct ls_profile p;
	struct ls_origin o;
	struct ls_compliance_result r;

	(void)state;
	/* MY 40 % known; with the unknown 30 % it could be 70 %: unknown. */
	share_profile(&p, 650000);
	make_origin(&o, "magnet", some_unknown, 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANCE_UNKNOWN);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].country, "");
	assert_int_equal(r.v[0].grams, 300);
	ls_compliance_release(&r);
	ls_origin_release(&o);
	/* FR 50 % + unknown 10 %: 60 % at most, under 65 %: compliant. */
	make_origin(&o, "magnet", little_unknown, 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANT);
	ls_compliance_release(&r);

	/* "No separation in CN": an unknown separation is unknown, never compliant. */
	memset(&p.rules[0], 0, sizeof(p.rules[0]));
	p.rules[0].kind = LS_PRULE_NO_STAGE_IN;
	p.rules[0].n_stages = 1;
	p.rules[0].stages[0].stage = LS_STAGE_SEPARATION;
	p.rules[0].n_countries = 1;
	memcpy(p.rules[0].countries[0], "CN", 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANCE_UNKNOWN);
	ls_compliance_release(&r);
	ls_origin_release(&o);
}

/*
 * A stage done by a maker whose country the ledger does not know (origin
 * says "??": a record of a trust anchor, which has no certificate) was
 * taken for a country like any other: not barred, so compliant. It is
 * unknown, for both kinds of rule.
 */
static void
test_profile_unknown_country_never_compliant(void **state)
{
	static const char *const qq[] = {"?\?=300", "MY=400", "FR=300"};
	struct ls_profile p;
	struct ls_origin o;
	struct ls_compliance_result r;

	(void)state;
	share_profile(&p, 650000);
	make_origin(&o, "magnet", qq, 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANCE_UNKNOWN);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.v[0].country, "?\?");
	assert_int_equal(r.v[0].grams, 300);
	ls_compliance_release(&r);
	memset(&p.rules[0], 0, sizeof(p.rules[0]));
	p.rules[0].kind = LS_PRULE_NO_STAGE_IN;
	p.rules[0].n_stages = 1;
	p.rules[0].stages[0].stage = LS_STAGE_SEPARATION;
	p.rules[0].n_countries = 1;
	memcpy(p.rules[0].countries[0], "CN", 3);
	assert_int_equal(verdict(&p, &o, T0, &r), LS_COMPLIANCE_UNKNOWN);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].grams, 300);
	ls_compliance_release(&r);
	ls_origin_release(&o);
}

static void
test_profile_dates_and_categories(void **state)
{
	static const char *const cn[] = {"CN=10", "JP=990"};
	struct ls_profile p;
	struct ls_origin o;
	struct ls_compliance_result r;
	struct ls_err_ctx ctx = {{0}};

	(void)state;
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "dfars");
	p.effective_from = T0;
	p.effective_until = T0 + 1000 * DAY;
	p.n_categories = 1;
	memcpy(p.categories[0], "magnet", 7);
	p.n_rules = 1;
	p.rules[0].kind = LS_PRULE_NO_STAGE_IN;
	p.rules[0].n_stages = 2;
	p.rules[0].stages[0].stage = LS_STAGE_SEPARATION;
	p.rules[0].stages[0].from = T0 + 100 * DAY;
	p.rules[0].stages[1].stage = LS_STAGE_MINING;
	p.rules[0].n_countries = 1;
	memcpy(p.rules[0].countries[0], "CN", 3);
	make_origin(&o, "magnet", cn, 2);
	/* Before the separation rule starts: compliant, the rule waiting. */
	assert_int_equal(verdict(&p, &o, T0 + 99 * DAY, &r), LS_COMPLIANT);
	assert_int_equal(r.n_pending, 1);
	assert_int_equal(r.pending[0].stage, LS_STAGE_SEPARATION);
	ls_compliance_release(&r);
	/* From its start: 1 % separated in CN is enough. */
	assert_int_equal(verdict(&p, &o, T0 + 100 * DAY, &r), LS_NON_COMPLIANT);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].ppm, 10000);
	ls_compliance_release(&r);
	/* Outside the period: an error, not a verdict. */
	assert_int_equal(ls_profile_check(&p, &o, T0 - 1, &r, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_profile_check(&p, &o, T0 + 1000 * DAY, &r, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "not in force"));
	ls_origin_release(&o);
	/* An oxide is not a category it covers. */
	make_origin(&o, "oxide", cn, 2);
	assert_int_equal(verdict(&p, &o, T0 + 100 * DAY, &r), LS_NOT_APPLICABLE);
	ls_compliance_release(&r);
	ls_origin_release(&o);
	assert_string_equal(ls_compliance_name(LS_COMPLIANCE_UNKNOWN), "unknown");
	assert_string_equal(ls_compliance_name(LS_NON_COMPLIANT), "non-compliant");
}

static void
test_profile_stage_names(void **state)
{
	(void)state;
	for (int s = 0; s < LS_STAGE_COUNT; s++)
		assert_int_equal(ls_stage_parse(ls_stage_name(s)), s);
	assert_int_equal(ls_stage_parse("smelting"), -1);
	assert_int_equal(ls_stage_of("ore", true, false), LS_STAGE_MINING);
	assert_int_equal(ls_stage_of("oxide", false, false), LS_STAGE_SEPARATION);
	assert_int_equal(ls_stage_of("alloy", false, false), LS_STAGE_METAL);
	assert_int_equal(ls_stage_of("alloy", false, true), LS_STAGE_RECYCLING);
	assert_int_equal(ls_stage_of("scrap", false, false), -1);
	assert_int_equal(ls_stage_of("scrap", true, false), -1);
	assert_int_equal(ls_stage_of("product", true, false), LS_STAGE_PRODUCT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_profile_share_exact),
	    cmocka_unit_test(test_profile_unknown_never_compliant),
	    cmocka_unit_test(test_profile_unknown_country_never_compliant),
	    cmocka_unit_test(test_profile_dates_and_categories),
	    cmocka_unit_test(test_profile_stage_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
