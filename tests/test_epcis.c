/*
 * test_epcis.c - lib/epcis.c: the CBV 2.0 event hash against the published
 * vectors of the reference implementation (tests/epcis/vectors/: pre-hash
 * strings and hashes, with timestamp and URI normalisation cases), the
 * normalisation functions one case at a time, mass units converted exactly
 * or refused, and records turned into events and back into the same records.
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
#include <jansson.h>
#include <sodium.h>

#include "epcis.h"
#include "err.h"
#include "record.h"
#include "util.h"

static const char *
vectors_dir(void)
{
	const char *d = getenv("LS_EPCIS_VECTORS");
	return d != NULL ? d : "tests/epcis/vectors";
}

/* The lines of a file, without their newlines; NULL-terminated, malloc'd. */
static char **
read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	char **v = calloc(64, sizeof(*v)), line[16384];

	assert_non_null(f);
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL && *n < 63) {
		line[strcspn(line, "\n")] = '\0';
		v[(*n)++] = strdup(line);
	}
	fclose(f);
	return v;
}

static void
free_lines(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Every event of vectors/NAME.jsonld gives the pre-hash and the hash of the
 * same line of NAME.prehashes and NAME.hashes. */
static void
check_vector(const char *name)
{
	char path[512], *pre = NULL, hash[LS_EPCIS_HASH_LEN], **pres, **hashes;
	struct ls_err_ctx ctx = {{0}};
	struct ls_epcis_ns *ns = NULL;
	json_t *doc, *events, *ev;
	json_error_t jerr;
	size_t np, nh, i;

	snprintf(path, sizeof(path), "%s/%s.prehashes", vectors_dir(), name);
	pres = read_lines(path, &np);
	snprintf(path, sizeof(path), "%s/%s.hashes", vectors_dir(), name);
	hashes = read_lines(path, &nh);
	assert_int_equal(np, nh);
	snprintf(path, sizeof(path), "%s/%s.jsonld", vectors_dir(), name);
	doc = json_load_file(path, 0, &jerr);
	assert_non_null(doc);
	events = json_object_get(json_object_get(doc, "epcisBody"), "eventList");
	assert_int_equal(json_array_size(events), np);
	assert_int_equal(ls_epcis_ns_new(json_object_get(doc, "@context"), &ns, &ctx), 0);
	json_array_foreach(events, i, ev)
	{
		assert_int_equal(ls_epcis_prehash(ev, ns, &pre, &ctx), 0);
		if (strcmp(pre, pres[i]) != 0)
			fprintf(stderr, "%s event %zu\n got: %s\nwant: %s\n", name, i, pre, pres[i]);
		assert_string_equal(pre, pres[i]);
		free(pre);
		assert_int_equal(ls_epcis_event_hash(ev, ns, hash, &ctx), 0);
		assert_string_equal(hash, hashes[i]);
	}
	ls_epcis_ns_free(ns);
	json_decref(doc);
	free_lines(pres);
	free_lines(hashes);
}

static void
test_epcis_vector_timestamps(void **state)
{
	(void)state;
	check_vector("TimeStampRoundOff");
}

static void
test_epcis_vector_source_destination(void **state)
{
	(void)state;
	check_vector("ReferenceEventHashAlgorithm3");
}

static void
test_epcis_vector_shipping(void **state)
{
	(void)state;
	check_vector("epcisDocWithShippingAndTransportingEvent");
}

static void
test_epcis_vector_transformation_extensions(void **state)
{
	(void)state;
	check_vector("TransformationEventWithUserExtensions");
}

/* One event, its fields in another order and other spellings of the same
 * time and identifiers: the same hash. Any change of a value: another. */
static void
test_epcis_hash_invariance(void **state)
{
	const char *a = "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-03-04T11:00:30+01:00\","
			"\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\","
			"\"epcList\":[\"urn:epc:id:sgtin:0614141.011111.987\",\"urn:epc:id:sgtin:"
			"0614141.011111.988\"],\"bizStep\":\"shipping\"}";
	const char *b = "{\"bizStep\":\"urn:epcglobal:cbv:bizstep:shipping\",\"action\":\"OBSERVE\","
			"\"epcList\":[\"https://example.com/01/00614141111114/21/988?x=1\","
			"\"https://id.gs1.org/01/00614141111114/21/987\"],"
			"\"eventTimeZoneOffset\":\"+01:00\",\"eventTime\":\"2020-03-04T10:00:30.0000Z\","
			"\"eventID\":\"ni:///x\",\"recordTime\":\"2021-01-01T00:00:00Z\","
			"\"type\":\"ObjectEvent\"}";
	const char *c = "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-03-04T11:00:30.001+01:00\","
			"\"eventTimeZoneOffset\":\"+01:00\",\"action\":\"OBSERVE\","
			"\"epcList\":[\"urn:epc:id:sgtin:0614141.011111.987\",\"urn:epc:id:sgtin:"
			"0614141.011111.988\"],\"bizStep\":\"shipping\"}";
	char ha[LS_EPCIS_HASH_LEN], hb[LS_EPCIS_HASH_LEN], hc[LS_EPCIS_HASH_LEN];
	struct ls_err_ctx ctx = {{0}};
	json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL), *jc = json_loads(c, 0, NULL);

	(void)state;
	assert_int_equal(ls_epcis_event_hash(ja, NULL, ha, &ctx), 0);
	assert_int_equal(ls_epcis_event_hash(jb, NULL, hb, &ctx), 0);
	assert_int_equal(ls_epcis_event_hash(jc, NULL, hc, &ctx), 0);
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_true(strncmp(ha, "ni:///sha-256;", 14) == 0);
	assert_true(strcmp(ha + strlen(ha) - 11, "?ver=CBV2.0") == 0);
	json_decref(ja);
	json_decref(jb);
	json_decref(jc);
}

static void
test_epcis_time_norm(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"},
	    {"2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"},
	    {"2020-03-04T11:00:30+01:00", "2020-03-04T10:00:30.000Z"},
	    {"2019-04-02T14:59:59.999+01:00", "2019-04-02T13:59:59.999Z"},
	    {"2020-12-31T23:59:59.9996Z", "2021-01-01T00:00:00.000Z"},  /* rounds into the next year */
	    {"2020-01-01T00:30:00-05:30", "2020-01-01T06:00:00.000Z"},
	    {"2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.500Z"},
	};
	static const char *const bad[] = {"2020-01-01", "2020-01-01T00:00:00", "2020-13-01T00:00:00Z",
					  "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00+1:00",
					  "2020-01-01T00:00:00Zjunk", "yesterday"};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ls_epcis_time_norm(ok[i].in, out, NULL), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ls_epcis_time_norm(bad[i], out, NULL), LS_ERR_MALFORMED);
}

static void
test_epcis_norm_uri(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"urn:epc:id:sgtin:0614141.011111.987", "https://id.gs1.org/01/00614141111114/21/987"},
	    {"urn:epc:id:sscc:4012345.1112223334", "https://id.gs1.org/00/140123451122233341"},
	    {"urn:epc:id:sgln:4012345.00011.0", "https://id.gs1.org/414/4012345000115"},
	    {"urn:epc:id:sgln:4023333.00001.12", "https://id.gs1.org/414/4023333000017/254/12"},
	    {"urn:epc:id:pgln:0614141.00000", "https://id.gs1.org/417/0614141000005"},
	    {"urn:epc:id:gdti:4012345.11111.123", "https://id.gs1.org/253/4012345111118123"},
	    {"urn:epc:class:lgtin:4023333.055555.ABC123", "https://id.gs1.org/01/04023333555555/10/ABC123"},
	    {"urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"},
	    {"urn:epc:id:giai:4012345.ABC", "https://id.gs1.org/8004/4012345ABC"},
	    {"https://id.gs1.de/00/040123451111111110", "https://id.gs1.org/00/040123451111111110"},
	    {"https://example.com/01/00614141111114/21/987?linkType=all",
	     "https://id.gs1.org/01/00614141111114/21/987"},
	    {"urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"},
	    {"urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"},
	    {"urn:epcglobal:cbv:bt:4012345000009:ASN1099", "urn:epcglobal:cbv:bt:4012345000009:ASN1099"},
	    {"  urn:lodestone:lot:00ff  ", "urn:lodestone:lot:00ff"},
	    {"https://example.com/about/us", "https://example.com/about/us"},
	    {"urn:epc:id:sgtin:0614141.01111.987", "urn:epc:id:sgtin:0614141.01111.987"}, /* 12 digits */
	};
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ls_epcis_norm_uri(cases[i].in, &out), 0);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_epcis_vector_timestamps),
	    cmocka_unit_test(test_epcis_vector_source_destination),
	    cmocka_unit_test(test_epcis_vector_shipping),
	    cmocka_unit_test(test_epcis_vector_transformation_extensions),
	    cmocka_unit_test(test_epcis_hash_invariance),
	    cmocka_unit_test(test_epcis_time_norm),
	    cmocka_unit_test(test_epcis_norm_uri),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
