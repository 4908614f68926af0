/*
 * test_units.c - masses and times as a person reads them: exact masses in
 * t, kg or g (no rounding: 1,000,001 g is 1.000001 t), dates in RFC 3339.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void
test_grams_human(void **state)
{
	static const struct {
		uint64_t g;
		const char *want;
	} cases[] = {
	    {0, "0 g"},           {1, "1 g"},
	    {999, "999 g"},       {1000, "1 kg"},
	    {1500, "1.5 kg"},     {7500, "7.5 kg"},
	    {500500, "500.5 kg"}, {999999, "999.999 kg"},
	    {1000000, "1 t"},     {1000001, "1.000001 t"},
	    {10000000, "10 t"},   {UINT64_MAX, "18446744073709.551615 t"},
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(ls_grams_human(cases[i].g, buf, sizeof(buf)), cases[i].want);
}

static void
test_time_format(void **state)
{
	char buf[32];
	uint64_t t;

	(void)state;
	assert_string_equal(ls_time_format(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
	assert_string_equal(ls_time_format(1762732800, buf, sizeof(buf)), "2025-11-10T00:00:00Z");
	assert_int_equal(ls_time_parse("2025-11-10T00:00:00Z", &t), 0);
	assert_int_equal(t, 1762732800);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grams_human),
	    cmocka_unit_test(test_time_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
