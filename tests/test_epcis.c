/*
 * test_epcis.c - lib/epcis.c: the CBV 2.0 event hash against the published
 * vectors of the reference implementation (tests/epcis/vectors/: pre-hash
 * strings and hashes, with timestamp and URI normalisation cases), the
 * normalisation functions one case at a time, mass units converted exactly
 * or refused, and records turned into events and back into the same records.
 */
#include <ctype.h>
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
			fprintf(stderr, "%s event %zu\n got: %s\nwant: %s\n", name, i, pre,
				pres[i]);
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
test_epcis_vector_all_gs1_keys(void **state)
{
	(void)state;
	check_vector("epcisDocWithAllGS1Keys");
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
	const char *b =
	    "{\"bizStep\":\"urn:epcglobal:cbv:bizstep:shipping\",\"action\":\"OBSERVE\","
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
	json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL),
	       *jc = json_loads(c, 0, NULL);

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
	/* quantities past what a long long holds (no undefined conversion,
	 * make check's UBSan) and a fraction: three events, three hashes */
	{
		const char *q[] = {"1e300", "1e299", "12.5"};
		char h[3][LS_EPCIS_HASH_LEN], ev[512], *pre;
		for (int i = 0; i < 3; i++) {
			json_t *j;
			snprintf(ev, sizeof(ev),
				 "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\","
				 "\"eventTimeZoneOffset\":\"+00:00\",\"action\":\"OBSERVE\","
				 "\"quantityList\":[{\"epcClass\":\"urn:x\",\"quantity\":%s,"
				 "\"uom\":\"KGM\"}]}",
				 q[i]);
			assert_non_null(j = json_loads(ev, 0, NULL));
			assert_int_equal(ls_epcis_event_hash(j, NULL, h[i], &ctx), 0);
			assert_int_equal(ls_epcis_prehash(j, NULL, &pre, &ctx), 0);
			assert_non_null(strstr(pre, i == 0   ? "quantity=1e+300"
						    : i == 1 ? "quantity=1e+299"
							     : "quantity=12.5"));
			free(pre);
			json_decref(j);
		}
		assert_string_not_equal(h[0], h[1]);
		assert_string_not_equal(h[1], h[2]);
	}
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
	    {"2020-12-31T23:59:59.9996Z",
	     "2021-01-01T00:00:00.000Z"}, /* rounds into the next year */
	    {"2020-01-01T00:30:00-05:30", "2020-01-01T06:00:00.000Z"},
	    {"2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.500Z"},
	    {"2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"},
	    {"2000-02-29T12:00:00Z", "2000-02-29T12:00:00.000Z"},
	    {"1970-01-01T01:00:00+01:00", "1970-01-01T00:00:00.000Z"},
	    {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"},
	};
	static const char *const bad[] = {
	    "2020-01-01", "2020-01-01T00:00:00", "2020-13-01T00:00:00Z", "2020-01-01T00:00:00.Z",
	    "2020-01-01T00:00:00+1:00", "2020-01-01T00:00:00Zjunk", "yesterday",
	    /* days a month lacks: not the next month's */
	    "2026-02-30T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T12:00:00Z",
	    "2100-02-29T00:00:00Z",
	    /* a leap second: POSIX time has none, and
	     * 23:59:60 would be the next day's 00:00:00 */
	    "2016-12-31T23:59:60Z",
	    /* before 1970, after 9999 */
	    "1969-12-31T23:59:59Z", "9999-12-31T23:30:00-01:00", "2020-01-01T00:00:00+15:00"};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(ls_epcis_time_norm(ok[i].in, out, NULL), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ls_epcis_time_norm(bad[i], out, NULL) != LS_ERR_MALFORMED)
			fprintf(stderr, "accepted %s as %s\n", bad[i], out);
		assert_int_equal(ls_epcis_time_norm(bad[i], out, NULL), LS_ERR_MALFORMED);
	}
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
	    {"urn:epc:class:lgtin:4023333.055555.ABC123",
	     "https://id.gs1.org/01/04023333555555/10/ABC123"},
	    {"urn:epc:idpat:sgtin:4012345.012345.*", "https://id.gs1.org/01/04012345123456"},
	    {"urn:epc:id:giai:4012345.ABC", "https://id.gs1.org/8004/4012345ABC"},
	    {"https://id.gs1.de/00/040123451111111110", "https://id.gs1.org/00/040123451111111110"},
	    {"https://example.com/01/00614141111114/21/987?linkType=all",
	     "https://id.gs1.org/01/00614141111114/21/987"},
	    {"urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"},
	    {"urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"},
	    {"urn:epcglobal:cbv:bt:4012345000009:ASN1099",
	     "urn:epcglobal:cbv:bt:4012345000009:ASN1099"},
	    {"  urn:lodestone:lot:00ff  ", "urn:lodestone:lot:00ff"},
	    {"https://example.com/about/us", "https://example.com/about/us"},
	    {"urn:epc:id:sgtin:0614141.01111.987",
	     "urn:epc:id:sgtin:0614141.01111.987"}, /* 12 digits */
	    /* the reference's normaliser tests (tests/dl_normaliser_test.py):
	     * what Digital Link wants percent-encoded, short names, GTIN-8, -12
	     * and -13, and only the finest qualifier */
	    {"urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()",
	     "https://id.gs1.org/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29"},
	    {"urn:epc:id:grai:4012345.00022.334455",
	     "https://id.gs1.org/8003/04012345000221334455"},
	    {"urn:epc:id:gdti:987659999999..9", "https://id.gs1.org/253/98765999999929"},
	    {"urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234",
	     "https://id.gs1.org/8010/061414111111111111111-A%23%2F/8011/1234"},
	    {"urn:epc:id:pgln:999999999999.", "https://id.gs1.org/417/9999999999994"},
	    {"urn:epc:id:itip:4012345.011111.01.02.987",
	     "https://id.gs1.org/8006/040123451111180102/21/987"},
	    {"urn:epc:idpat:sgcn:4012345.22222.*", "https://id.gs1.org/255/4012345222227"},
	    {"https://id.gs1.org/gtin/09780345418913", "https://id.gs1.org/01/09780345418913"},
	    {"https://example.com/gtin/09780345418913/21/765tz?abc=211121",
	     "https://id.gs1.org/01/09780345418913/21/765tz"},
	    {"http://example.de/gtin-8/01/97803111", "https://id.gs1.org/01/00000097803111"},
	    {"http://us-company-with-UPC.com/01/001122334455/ser/GHB",
	     "https://id.gs1.org/01/00001122334455/21/GHB"},
	    {"https://ean-13.de/gtin/4012345123456/ser/ABC524",
	     "https://id.gs1.org/01/04012345123456/21/ABC524"},
	    {"https://id.gs1.org/gtin/9780345418913/cpv/344/lot/1223/ser/765tz",
	     "https://id.gs1.org/01/09780345418913/21/765tz"},
	    {"https://id.gs1.org/gtin/9780345418913/cpv/344",
	     "https://id.gs1.org/01/09780345418913"},
	    {"http://example.de/01/040123451234/cpv/344/lot/ABD",
	     "https://id.gs1.org/01/00040123451234/10/ABD"},
	    {"https://id.gs1.org/01/9780345418913/22/344/10/1223/21/765tz",
	     "https://id.gs1.org/01/09780345418913/21/765tz"},
	    {"https://id.gs1.org/itip/123456789101100190/cpv/ABCD",
	     "https://id.gs1.org/8006/123456789101100190"},
	    {"https://fashion-corp.com/8006/040123451234560102/10/Lot-123/21/ser987",
	     "https://id.gs1.org/8006/040123451234560102/21/ser987"},
	    {"https://example.co.uk/party/4226350800008", "https://id.gs1.org/417/4226350800008"},
	    {"https://id.gs1.org/8010/0628165987/8011/9876",
	     "https://id.gs1.org/8010/0628165987/8011/9876"},
	    {"http://fashion.com/itip/040123451234560102/ser/ABC145",
	     "https://id.gs1.org/8006/040123451234560102/21/ABC145"},
	    /* not Digital Link: unchanged */
	    {"http://example.org/123/4012345ABC987/456/4711",
	     "http://example.org/123/4012345ABC987/456/4711"},
	    {"http://id.gs1.org/01/9780345418913/99/utfgf",
	     "http://id.gs1.org/01/9780345418913/99/utfgf"},
	    {"http://example.de/abc/9780345418913", "http://example.de/abc/9780345418913"},
	    {"http://example.de/01/97803", "http://example.de/01/97803"},
	};
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ls_epcis_norm_uri(cases[i].in, &out), 0);
		if (strcmp(out, cases[i].out) != 0)
			fprintf(stderr, "%s\n got: %s\nwant: %s\n", cases[i].in, out, cases[i].out);
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

static void
test_epcis_grams(void **state)
{
	static const struct {
		const char *json, *uom;
		uint64_t grams; /* 0: refused */
	} cases[] = {
	    {"1.234", "KGM", 1234},
	    {"10000", "KGM", 10000000},
	    {"5", "GRM", 5},
	    {"0.5", "TNE", 500000},
	    {"2.5e3", "KGM", 2500000},
	    {"100000", "LBR", 45359237},
	    {"0.02", "LBR", 0},
	    {"1", "LBR", 0},
	    {"1.2345", "KGM", 0},
	    {"0.5", "GRM", 0},
	    {"3", "EA", 0},
	    {"3", NULL, 0},
	    {"-1", "KGM", 0},
	    {"0", "KGM", 0},
	    {"1e20", "KGM", 0},
	    {"1000000000000", "KGM", 1000000000000000ull},
	    {"1000000000001", "KGM", 0},
	};
	struct ls_err_ctx ctx = {{0}};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
		uint64_t g = 0;
		int rc = ls_epcis_grams(v, cases[i].uom, &g, &ctx);
		if (cases[i].grams == 0) {
			assert_int_equal(rc, LS_ERR_INVALID);
			assert_true(strlen(ctx.msg) > 0);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(g, cases[i].grams);
		}
		json_decref(v);
	}
}

/* ---- records to events and back ---- */

static uint8_t pk[LS_KEY_LEN], sk[64], other[LS_KEY_LEN], cert[LS_ID_LEN];

/* The import's resolver: a Lodestone URN's own id. */
static int
same_id(void *arg, enum ls_epcis_ref kind, const char *uri, uint8_t out[LS_ID_LEN])
{
	const char *pre = kind == LS_EPCIS_REF_LOT ? "urn:lodestone:lot:" : "urn:lodestone:record:";
	(void)arg;
	if (strncmp(uri, pre, strlen(pre)) != 0 || ls_unhex(uri + strlen(pre), out, LS_ID_LEN) != 0)
		return LS_ERR_NOT_FOUND;
	return 0;
}

static void
finish(struct ls_record *r, uint64_t seq)
{
	struct ls_err_ctx ctx = {{0}};

	memcpy(r->author, pk, LS_KEY_LEN);
	r->seq = seq;
	r->has_prev = seq > 1;
	memset(r->prev, 7, LS_ID_LEN);
	r->has_cert = true;
	memcpy(r->cert_id, cert, LS_ID_LEN);
	if (r->timestamp == 0)
		r->timestamp = 1764590400; /* 2025-12-01 */
	assert_int_equal(ls_record_sign(r, sk, &ctx), 0);
}

/* r as an event, the event back as a record signed at the same place in
 * the same feed: the same record id; the event's hash is its eventID. */
static void
roundtrip(struct ls_record *r)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_epcis_extra x = {0};
	struct ls_epcis_import im;
	char hash[LS_EPCIS_HASH_LEN];
	json_t *ev, *ev2;

	x.has_lot = true;
	memset(x.lot, 3, LS_ID_LEN);
	assert_int_equal(ls_epcis_event_new(r, &x, &ev, &ctx), 0);
	assert_int_equal(ls_epcis_event_hash(ev, NULL, hash, &ctx), 0);
	assert_string_equal(hash, json_string_value(json_object_get(ev, "eventID")));
	assert_int_equal(ls_epcis_import_event(ev, same_id, NULL, &im, &ctx), 0);
	assert_non_null(im.orig);
	assert_true(im.has_signer);
	assert_memory_equal(im.signer, pk, LS_KEY_LEN);
	if (r->type == LS_REC_TRANSFER) {
		assert_true(im.has_to_cert);
	}
	finish(im.r, r->seq);
	assert_memory_equal(im.r->id, r->id, LS_ID_LEN);
	assert_int_equal(im.r->body_len, r->body_len);
	assert_memory_equal(im.r->body, r->body, r->body_len);
	/* and its event is the same event */
	assert_int_equal(ls_epcis_event_new(im.r, &x, &ev2, &ctx), 0);
	assert_true(json_equal(ev, ev2));
	json_decref(ev2);
	ls_epcis_import_release(&im);
	json_decref(ev);
}

static void
test_epcis_record_roundtrip(void **state)
{
	struct ls_record *reg = ls_record_new(LS_REC_LOT),
			 *tf = ls_record_new(LS_REC_TRANSFORMATION);
	struct ls_record *tr = ls_record_new(LS_REC_TRANSFER), *rc = ls_record_new(LS_REC_RECEIPT);
	struct ls_err_ctx ctx = {{0}};
	struct ls_lot_input *in;
	struct ls_lotdef *out;

	(void)state;
	reg->lot.lot.label = ls_record_strdup(reg, "BO-ore-2025-117");
	reg->lot.lot.category = ls_record_strdup(reg, "ore");
	reg->lot.lot.grams = 10000001; /* not whole kilograms */
	assert_int_equal(ls_comp_parse("Nd=30000,Dy=2000,Fe=300000", &reg->lot.lot.comp, &ctx), 0);
	reg->lot.lot.value = 123456;
	reg->lot.site = ls_record_strdup(reg, "Bayan Obo / Nord-Süd");
	memcpy(reg->lot.country, "CN", 3);
	finish(reg, 1);
	roundtrip(reg);

	in = ls_record_alloc(tf, 2 * sizeof(*in));
	out = ls_record_alloc(tf, 2 * sizeof(*out));
	memcpy(in[0].lot, reg->id, LS_ID_LEN);
	in[0].grams = 10000001;
	memset(in[1].lot, 9, LS_ID_LEN);
	in[1].grams = 5;
	out[0].label = ls_record_strdup(tf, "NdPr-oxide");
	out[0].category = ls_record_strdup(tf, "oxide");
	out[0].grams = 400000;
	assert_int_equal(ls_comp_parse("Nd=600000,Pr=160000,O=240000", &out[0].comp, &ctx), 0);
	out[1].label = ls_record_strdup(tf, "Dy2O3");
	out[1].category = ls_record_strdup(tf, "oxide");
	out[1].grams = 20001;
	assert_int_equal(ls_comp_parse("Dy=870000,O=130000", &out[1].comp, &ctx), 0);
	tf->transformation.n_inputs = 2;
	tf->transformation.inputs = in;
	tf->transformation.n_outputs = 2;
	tf->transformation.outputs = out;
	tf->transformation.site = ls_record_strdup(tf, "Baotou");
	finish(tf, 2);
	roundtrip(tf);

	tr->transfer.has_lot = true;
	memcpy(tr->transfer.lot, reg->id, LS_ID_LEN);
	tr->transfer.grams = 2500;
	tr->transfer.tech = "";
	memcpy(tr->transfer.to, other, LS_KEY_LEN);
	memset(tr->transfer.to_cert, 4, LS_ID_LEN);
	tr->transfer.has_license = true;
	memset(tr->transfer.license, 5, LS_ID_LEN);
	tr->transfer.end_use = ls_record_strdup(tr, "civilian");
	tr->transfer.description = ls_record_strdup(tr, "NdFeB blanks, \"grade N52\"");
	finish(tr, 3);
	roundtrip(tr);

	memcpy(rc->receipt.transfer, tr->id, LS_ID_LEN);
	rc->receipt.grams = 2400;
	rc->receipt.reason = ls_record_strdup(rc, "one drum short");
	finish(rc, 4);
	roundtrip(rc);

	ls_record_free(reg);
	ls_record_free(tf);
	ls_record_free(tr);
	ls_record_free(rc);
}

/* Question time: the certificate the record cites, and a revocation of its
 * key before the record as an error declaration, which the hash leaves out
 * (an event and its error declaration keep one eventID); import refuses
 * the declared event. */
static void
test_epcis_certification_and_revocation(void **state)
{
	struct ls_record *reg = ls_record_new(LS_REC_LOT);
	struct ls_err_ctx ctx = {{0}};
	struct ls_epcis_extra x = {0};
	struct ls_epcis_import im;
	json_t *plain, *revoked, *ed;
	char hex[LS_HEX_KEY_LEN + 1], want[96];

	(void)state;
	reg->lot.lot.label = ls_record_strdup(reg, "ore-9");
	reg->lot.lot.category = ls_record_strdup(reg, "ore");
	reg->lot.lot.grams = 1000;
	assert_int_equal(ls_comp_parse("Nd=30000", &reg->lot.lot.comp, &ctx), 0);
	reg->lot.site = ls_record_strdup(reg, "Mount Weld");
	memcpy(reg->lot.country, "AU", 3);
	finish(reg, 1);
	assert_int_equal(ls_epcis_event_new(reg, NULL, &plain, &ctx), 0);
	snprintf(want, sizeof(want), "urn:lodestone:record:%s", ls_hex(cert, LS_ID_LEN, hex));
	assert_string_equal(json_string_value(json_object_get(plain, LS_EPCIS_CERT_INFO)), want);
	assert_null(json_object_get(plain, "errorDeclaration"));
	x.revoked = true;
	x.revoked_at = 1764590400 - 60;
	memset(x.revocation, 0xab, LS_ID_LEN);
	assert_int_equal(ls_epcis_event_new(reg, &x, &revoked, &ctx), 0);
	ed = json_object_get(revoked, "errorDeclaration");
	assert_non_null(ed);
	assert_string_equal(json_string_value(json_object_get(ed, "declarationTime")),
			    "2025-12-01T11:59:00.000Z");
	assert_string_equal(json_string_value(json_object_get(ed, "reason")), "incorrect_data");
	assert_string_equal(json_string_value(json_object_get(revoked, "eventID")),
			    json_string_value(json_object_get(plain, "eventID")));
	assert_int_equal(ls_epcis_import_event(revoked, same_id, NULL, &im, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "errorDeclaration"));
	/* The hash leaves certificationInfo out under its name and under its
	 * IRI alike, as standard hashers do: the event without it, or with it
	 * written either way, keeps one eventID. */
	{
		char h0[LS_EPCIS_HASH_LEN], h1[LS_EPCIS_HASH_LEN], h2[LS_EPCIS_HASH_LEN];
		json_t *c = json_deep_copy(plain);
		json_t *v = json_incref(json_object_get(c, LS_EPCIS_CERT_INFO));

		assert_int_equal(ls_epcis_event_hash(c, NULL, h1, &ctx), 0);
		json_object_del(c, LS_EPCIS_CERT_INFO);
		assert_int_equal(ls_epcis_event_hash(c, NULL, h0, &ctx), 0);
		json_object_set_new(c, LS_EPCIS_CERT_INFO_IRI, v);
		assert_int_equal(ls_epcis_event_hash(c, NULL, h2, &ctx), 0);
		assert_string_equal(h0, h1);
		assert_string_equal(h0, h2);
		/* ... and under a prefix bound to the EPCIS vocabulary */
		{
			struct ls_epcis_ns *ns = NULL;
			json_t *cx = json_pack("{s:s}", "epcis", "https://ref.gs1.org/epcis/");
			json_t *p = json_deep_copy(c);
			json_object_del(p, LS_EPCIS_CERT_INFO_IRI);
			json_object_set_new(p, "epcis:certificationInfo", json_string("urn:x:1"));
			json_object_set_new(p, "https://ref.gs1.org/epcis/errorDeclaration",
					    json_pack("{s:s}", "reason", "incorrect_data"));
			assert_int_equal(ls_epcis_ns_new(cx, &ns, &ctx), 0);
			assert_int_equal(ls_epcis_event_hash(p, ns, h1, &ctx), 0);
			assert_string_equal(h0, h1);
			/* an errorDeclaration under its IRI or a prefixed name is one:
			 * the event is not imported */
			assert_int_equal(ls_epcis_import_event(p, same_id, NULL, &im, &ctx),
					 LS_ERR_INVALID);
			assert_non_null(strstr(ctx.msg, "errorDeclaration"));
			json_object_del(p, "https://ref.gs1.org/epcis/errorDeclaration");
			json_object_set_new(p, "epcis:errorDeclaration", json_object());
			assert_int_equal(ls_epcis_import_event(p, same_id, NULL, &im, &ctx),
					 LS_ERR_INVALID);
			json_object_del(p, "epcis:errorDeclaration");
			json_object_del(p, "epcis:certificationInfo");
			assert_int_equal(ls_epcis_import_event(p, same_id, NULL, &im, &ctx), 0);
			ls_epcis_import_release(&im);
			ls_epcis_ns_free(ns);
			json_decref(cx);
			json_decref(p);
		}
		/* and an extension of the event is hashed: the check can fail */
		json_object_set_new(c, "https://example.org/ns/grade", json_string("N52"));
		assert_int_equal(ls_epcis_event_hash(c, NULL, h2, &ctx), 0);
		assert_string_not_equal(h0, h2);
		json_decref(c);
	}
	json_decref(plain);
	json_decref(revoked);
	ls_record_free(reg);
}

/* What has no record is refused with its reason, and nothing is made. */
static void
test_epcis_import_refusals(void **state)
{
	static const struct {
		const char *event, *reason;
	} cases[] = {
	    {"{\"type\":\"AggregationEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":"
	     "\"ADD\"}",
	     "AggregationEvent has no Lodestone record"},
	    {"{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":"
	     "\"OBSERVE\",\"bizStep\":\"shipping\",\"quantityList\":[{\"epcClass\":"
	     "\"urn:lodestone:lot:00\",\"quantity\":3,\"uom\":\"EA\"}]}",
	     "not a unit of mass"},
	    {"{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":"
	     "\"OBSERVE\",\"bizStep\":\"shipping\",\"quantityList\":[{\"epcClass\":"
	     "\"https://id.gs1.org/01/04012345123456/10/L1\",\"quantity\":3,\"uom\":\"KGM\"}]}",
	     "unknown lot"},
	    {"{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":"
	     "\"OBSERVE\",\"bizStep\":\"inspecting\"}",
	     "has no Lodestone record"},
	    {"{\"type\":\"ObjectEvent\",\"eventTime\":\"yesterday\"}", "eventTime"},
	    {"{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":\"ADD\","
	     "\"bizStep\":\"commissioning\",\"quantityList\":[{\"epcClass\":\"urn:x\",\"quantity\":"
	     "1,"
	     "\"uom\":\"KGM\"}],\"ilmd\":{\"cbvmda:lotNumber\":\"L\",\"ls:category\":\"ore\","
	     "\"ls:composition\":{\"xx\":5}}}",
	     "is no element"},
	    {"{\"type\":\"TransformationEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\","
	     "\"inputQuantityList\":[{\"epcClass\":\"urn:lodestone:lot:00\",\"quantity\":1,"
	     "\"uom\":\"KGM\"}],\"outputQuantityList\":[]}",
	     "outputQuantityList"},
	};
	struct ls_err_ctx ctx = {{0}};
	struct ls_epcis_import im;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *ev = json_loads(cases[i].event, 0, NULL);
		assert_non_null(ev);
		memset(&ctx, 0, sizeof(ctx));
		assert_int_equal(ls_epcis_import_event(ev, same_id, NULL, &im, &ctx),
				 LS_ERR_INVALID);
		if (strstr(ctx.msg, cases[i].reason) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, ctx.msg);
		assert_non_null(strstr(ctx.msg, cases[i].reason));
		assert_null(im.r);
		json_decref(ev);
	}
}

/* Who an event says signed it: ls:signer, or the owning party it ships
 * from or receives into; an event that names two, or a signer that is not a
 * party's URN, is refused (it was signed by whoever imported it). */
static void
test_epcis_event_signer(void **state)
{
	char me[128], them[128], doc[1024], hex[2 * LS_KEY_LEN + 1];
	struct ls_err_ctx ctx = {{0}};
	uint8_t who[LS_KEY_LEN];
	bool found;
	json_t *ev;

	(void)state;
	snprintf(me, sizeof(me), "urn:lodestone:party:%s", ls_hex(pk, LS_KEY_LEN, hex));
	snprintf(them, sizeof(them), "urn:lodestone:party:%s", ls_hex(other, LS_KEY_LEN, hex));
#define SHIP                                                                                       \
	"{\"type\":\"ObjectEvent\",\"eventTime\":\"2025-01-01T00:00:00Z\",\"action\":"             \
	"\"OBSERVE\",\"bizStep\":\"shipping\",\"quantityList\":[{\"epcClass\":"                    \
	"\"urn:lodestone:lot:00\",\"quantity\":3,\"uom\":\"KGM\"}]"
	/* another's shipment without ls:signer: still theirs */
	snprintf(doc, sizeof(doc),
		 SHIP ",\"sourceList\":[{\"type\":\"owning_party\",\"source\":\"%s\"}],"
		      "\"destinationList\":[{\"type\":\"owning_party\",\"destination\":\"%s\"}]}",
		 them, me);
	assert_non_null(ev = json_loads(doc, 0, NULL));
	assert_int_equal(ls_epcis_event_signer(ev, &found, who, &ctx), 0);
	assert_true(found);
	assert_memory_equal(who, other, LS_KEY_LEN);
	json_decref(ev);
	/* a signer as a list, not a string: refused, not the importer's */
	snprintf(doc, sizeof(doc), SHIP ",\"ls:signer\":[\"%s\"]}", them);
	assert_non_null(ev = json_loads(doc, 0, NULL));
	assert_int_equal(ls_epcis_event_signer(ev, &found, who, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "ls:signer"));
	json_decref(ev);
	/* ls:signer the importer, shipped from another: refused */
	snprintf(doc, sizeof(doc),
		 SHIP ",\"ls:signer\":\"%s\",\"sourceList\":[{\"type\":"
		      "\"https://ref.gs1.org/cbv/SDT-owning_party\",\"source\":\"%s\"}]}",
		 me, them);
	assert_non_null(ev = json_loads(doc, 0, NULL));
	assert_int_equal(ls_epcis_event_signer(ev, &found, who, &ctx), LS_ERR_INVALID);
	assert_non_null(strstr(ctx.msg, "sourceList"));
	json_decref(ev);
	/* the signer's hex in capitals is the same party */
	for (char *c = me + strlen("urn:lodestone:party:"); *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	snprintf(doc, sizeof(doc), SHIP ",\"ls:signer\":\"%s\"}", me);
	assert_non_null(ev = json_loads(doc, 0, NULL));
	assert_int_equal(ls_epcis_event_signer(ev, &found, who, &ctx), 0);
	assert_true(found);
	assert_memory_equal(who, pk, LS_KEY_LEN);
	json_decref(ev);
	/* a foreign event that names no Lodestone party: no signer */
	assert_non_null(ev = json_loads(SHIP "}", 0, NULL));
	assert_int_equal(ls_epcis_event_signer(ev, &found, who, &ctx), 0);
	assert_false(found);
	json_decref(ev);
#undef SHIP
}

static void
test_epcis_doc_parse_hostile(void **state)
{
	static const struct {
		const char *doc, *reason;
		int rc;
	} cases[] = {
	    {"{\"type\":\"EPCISDocument\",", "not JSON", LS_ERR_MALFORMED},
	    {"[1,2]", "not an EPCISDocument", LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":{}}}", "not a list",
	     LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"type\":\"EPCISDocument\"}", "duplicate",
	     LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"eventID\":\"a\"},"
	     "{\"eventID\":\"b\"},{\"eventID\":\"a\"}]}}",
	     "events 1 and 3 have one eventID", LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[7]}}",
	     "event 1 is not a JSON object", LS_ERR_MALFORMED},
	    /* numbers a double does not hold: 12 kg and a little, not 12 kg */
	    {"{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":[{\"quantityList\":"
	     "[{\"quantity\":12.0000000000000000001,\"uom\":\"KGM\"}]}]}}",
	     "number '12.0000000000000000001' at byte 79 cannot be read exactly", LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"q\":9007199254740993.0}", "'9007199254740993.0'",
	     LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"q\":1e-400}", "'1e-400'", LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"q\":1e400}", "'1e400'", LS_ERR_MALFORMED},
	    {"{\"type\":\"EPCISDocument\",\"q\":-0.30000000000000001}", "'-0.30000000000000001'",
	     LS_ERR_MALFORMED},
	    /* one event twice, without eventIDs, in other spellings (an EPC URN and
	     * its Digital Link, UTC and +01:00): one event hash */
	    {"{\"type\":\"EPCISDocument\",\"epcisBody\":{\"eventList\":["
	     "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:00Z\","
	     "\"action\":\"OBSERVE\",\"epcList\":[\"urn:epc:id:sgtin:0614141.011111.987\"]},"
	     "{\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T00:00:01Z\","
	     "\"action\":\"OBSERVE\"},"
	     "{\"action\":\"OBSERVE\",\"epcList\":[\"https://id.gs1.org/01/00614141111114/21/"
	     "987\"],"
	     "\"type\":\"ObjectEvent\",\"eventTime\":\"2020-01-01T01:00:00.000+01:00\"}]}}",
	     "events 1 and 3 are one event (one event hash", LS_ERR_MALFORMED},
	};
	struct ls_err_ctx ctx = {{0}};
	json_t *doc, *events;
	char deep[200];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&ctx, 0, sizeof(ctx));
		assert_int_equal(
		    ls_epcis_doc_parse(cases[i].doc, strlen(cases[i].doc), &doc, &events, &ctx),
		    cases[i].rc);
		if (strstr(ctx.msg, cases[i].reason) == NULL)
			fprintf(stderr, "case %zu: %s\n", i, ctx.msg);
		assert_non_null(strstr(ctx.msg, cases[i].reason));
		assert_null(doc);
	}
	/* 40 levels, brackets inside strings not counted */
	memset(deep, '[', 40);
	memset(deep + 40, ']', 40);
	deep[80] = '\0';
	assert_int_equal(ls_epcis_doc_parse(deep, strlen(deep), &doc, &events, &ctx),
			 LS_ERR_TOO_BIG);
	assert_non_null(strstr(ctx.msg, "nests deeper"));
	{
		const char *s = "{\"type\":\"EPCISDocument\",\"x\":\"[[[[[[[[[[[[[[[[[[[[[[[[[["
				"[[[[[[[[[[[[[[[[\\\"\",\"epcisBody\":{\"eventList\":[]}}";
		assert_int_equal(ls_epcis_doc_parse(s, strlen(s), &doc, &events, &ctx), 0);
	}
	assert_int_equal(json_array_size(events), 0);
	json_decref(doc);
	/* numbers that read back as written: accepted, whatever their spelling */
	{
		const char *s = "{\"type\":\"EPCISDocument\",\"n\":[0.1,20.001,2.5e3,-0,-0.0,"
				"1E-5,0.30000000000000004,1.7976931348623157e308,"
				"0.0000000000000000000000000001,12.000000000000000000000,"
				"123456789012345678],\"epcisBody\":{\"eventList\":[]}}";
		memset(&ctx, 0, sizeof(ctx));
		assert_int_equal(ls_epcis_doc_parse(s, strlen(s), &doc, &events, &ctx), 0);
		json_decref(doc);
	}
	assert_int_equal(ls_epcis_doc_parse("{}", LS_EPCIS_DOC_MAX + 1, &doc, &events, &ctx),
			 LS_ERR_TOO_BIG);
	/* 4,000,001 values in 8 MB: refused before the parser builds them */
	{
		size_t n = 2 * (size_t)LS_EPCIS_VALUES_MAX + 2;
		char *many = malloc(n + 1);
		assert_non_null(many);
		many[0] = '[';
		for (size_t i = 1; i < n - 1; i += 2) {
			many[i] = '0';
			many[i + 1] = ',';
		}
		many[n - 1] = '0';
		many[n] = ']';
		assert_int_equal(ls_epcis_doc_parse(many, n + 1, &doc, &events, &ctx),
				 LS_ERR_TOO_BIG);
		assert_non_null(strstr(ctx.msg, "more than 4000000 values"));
		free(many);
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
	    cmocka_unit_test(test_epcis_vector_all_gs1_keys),
	    cmocka_unit_test(test_epcis_hash_invariance),
	    cmocka_unit_test(test_epcis_time_norm),
	    cmocka_unit_test(test_epcis_norm_uri),
	    cmocka_unit_test(test_epcis_grams),
	    cmocka_unit_test(test_epcis_record_roundtrip),
	    cmocka_unit_test(test_epcis_certification_and_revocation),
	    cmocka_unit_test(test_epcis_import_refusals),
	    cmocka_unit_test(test_epcis_event_signer),
	    cmocka_unit_test(test_epcis_doc_parse_hostile),
	};

	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	randombytes_buf(other, sizeof(other));
	randombytes_buf(cert, sizeof(cert));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
