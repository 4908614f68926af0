/*
 * epcis.c - EPCIS 2.0 events of Lodestone records, and the CBV 2.0 event
 * hash (see epcis.h).
 *
 * The hash follows CBV 2.0 section 8.9 as the public reference
 * implementation (RalphTro/epcis-event-hash-generator, whose test vectors
 * are in tests/epcis/vectors/) computes it. Where its outputs and the prose
 * differ, the outputs win, and the place says so ("reference outputs").
 *
 * None of this is a consensus rule: an imported event becomes a record that
 * ingest judges like any other.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "epcis.h"
#include "util.h"

/* ---- growing strings and string lists ---- */

struct sbuf {
	char *p;
	size_t n, cap;
	int err;
};

static void
sb_addn(struct sbuf *b, const char *s, size_t n)
{
	if (b->err != 0)
		return;
	if (b->n + n + 1 > LS_EPCIS_PREHASH_MAX) {
		b->err = LS_ERR_TOO_BIG;
		return;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->n + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->err = LS_ERR_NOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void
sb_add(struct sbuf *b, const char *s)
{
	sb_addn(b, s, strlen(s));
}

/* Takes b's string (NULL when empty or failed). */
static char *
sb_take(struct sbuf *b)
{
	char *p = b->p;

	if (p == NULL && b->err == 0)
		p = strdup("");
	b->p = NULL;
	b->n = b->cap = 0;
	return p;
}

struct strv {
	char **v;
	size_t n, cap;
	int err;
};

static void
sv_take(struct strv *l, char *s)
{
	if (s == NULL) {
		if (l->err == 0)
			l->err = LS_ERR_NOMEM;
		return;
	}
	if (l->err != 0) {
		free(s);
		return;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (v == NULL) {
			free(s);
			l->err = LS_ERR_NOMEM;
			return;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the entries of l sorted (UTF-8 byte order) to b; frees l. */
static void
sv_flush(struct strv *l, struct sbuf *b)
{
	if (l->err != 0 && b->err == 0)
		b->err = l->err;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), str_cmp);
	for (size_t i = 0; i < l->n; i++) {
		sb_add(b, l->v[i]);
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
sv_free(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- namespaces ---- */

#define NS_MAX 64

struct ls_epcis_ns {
	size_t n;
	char *prefix[NS_MAX];
	char *iri[NS_MAX];
};

static int
ns_add(struct ls_epcis_ns *ns, const char *prefix, const char *iri)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->prefix[i], prefix) == 0) {
			char *v = strdup(iri);
			if (v == NULL)
				return LS_ERR_NOMEM;
			free(ns->iri[i]);
			ns->iri[i] = v;
			return 0;
		}
	if (ns->n == NS_MAX)
		return LS_ERR_TOO_BIG;
	if ((ns->prefix[ns->n] = strdup(prefix)) == NULL ||
	    (ns->iri[ns->n] = strdup(iri)) == NULL) {
		free(ns->prefix[ns->n]);
		return LS_ERR_NOMEM;
	}
	ns->n++;
	return 0;
}

static int
ns_object(struct ls_epcis_ns *ns, const json_t *o)
{
	const char *k;
	json_t *v;
	int rc;

	json_object_foreach((json_t *)o, k, v)
	{
		if (k[0] == '@' || !json_is_string(v))
			continue; /* @vocab, term definitions as objects: not prefixes */
		if ((rc = ns_add(ns, k, json_string_value(v))) != 0)
			return rc;
	}
	return 0;
}

int
ls_epcis_ns_new(const json_t *context, struct ls_epcis_ns **out, struct ls_err_ctx *ctx)
{
	struct ls_epcis_ns *ns = calloc(1, sizeof(*ns));
	int rc = 0;

	*out = NULL;
	if (ns == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
	/* The prefixes of the standard EPCIS 2.0 context that extensions use. */
	if ((rc = ns_add(ns, "cbvmda", "urn:epcglobal:cbv:mda#")) != 0 ||
	    (rc = ns_add(ns, "gs1", "https://gs1.org/voc/")) != 0 ||
	    (rc = ns_add(ns, "ls", LS_EPCIS_NS)) != 0)
		goto out;
	if (json_is_object(context)) {
		rc = ns_object(ns, context);
	} else if (json_is_array(context)) {
		size_t i;
		json_t *v;
		json_array_foreach((json_t *)context, i, v)
		{
			if (json_is_object(v) && (rc = ns_object(ns, v)) != 0)
				break;
		}
	}
out:
	if (rc != 0) {
		ls_epcis_ns_free(ns);
		return ls_err_set(ctx, rc, "@context: more than %d prefixes", NS_MAX);
	}
	*out = ns;
	return 0;
}

void
ls_epcis_ns_free(struct ls_epcis_ns *ns)
{
	if (ns == NULL)
		return;
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->prefix[i]);
		free(ns->iri[i]);
	}
	free(ns);
}

/*
 * "prefix:term" as "{IRI}term". Reference outputs: an IRI that ends in
 * '#' loses it ("{urn:epcglobal:cbv:mda}lotNumber"); one that ends in '/'
 * keeps it. Names without a known prefix stay as they are.
 */
static char *
expand_name(const struct ls_epcis_ns *ns, const char *name)
{
	const char *colon = strchr(name, ':');
	struct sbuf b = {0};

	if (colon != NULL && ns != NULL) {
		size_t pl = (size_t)(colon - name);
		for (size_t i = 0; i < ns->n; i++) {
			if (strlen(ns->prefix[i]) != pl || memcmp(ns->prefix[i], name, pl) != 0)
				continue;
			size_t il = strlen(ns->iri[i]);
			if (il > 0 && ns->iri[i][il - 1] == '#')
				il--;
			sb_add(&b, "{");
			sb_addn(&b, ns->iri[i], il);
			sb_add(&b, "}");
			sb_add(&b, colon + 1);
			return sb_take(&b);
		}
	}
	return strdup(name);
}

#define EPCIS_VOCAB "https://ref.gs1.org/epcis/"

/* Whether name is the EPCIS term `term` in any spelling a document may
 * use: the short name, its IRI in the EPCIS vocabulary, or a prefix of ns
 * bound to that vocabulary ("epcis:certificationInfo"). */
static bool
is_epcis_term(const struct ls_epcis_ns *ns, const char *name, const char *term)
{
	const char *colon;

	if (strcmp(name, term) == 0)
		return true;
	if (strncmp(name, EPCIS_VOCAB, strlen(EPCIS_VOCAB)) == 0)
		return strcmp(name + strlen(EPCIS_VOCAB), term) == 0;
	if ((colon = strchr(name, ':')) == NULL || strcmp(colon + 1, term) != 0 || ns == NULL)
		return false;
	for (size_t i = 0; i < ns->n; i++)
		if (strlen(ns->prefix[i]) == (size_t)(colon - name) &&
		    memcmp(ns->prefix[i], name, (size_t)(colon - name)) == 0)
			return strcmp(ns->iri[i], EPCIS_VOCAB) == 0;
	return false;
}

/* Whether name names `term` in whatever vocabulary: its part after the last
 * ':', '/' or '#' is term (import refuses on it, so it errs towards "yes"). */
static bool
names_term(const char *name, const char *term)
{
	const char *tail = name;

	for (const char *p = name; *p != '\0'; p++)
		if (*p == ':' || *p == '/' || *p == '#')
			tail = p + 1;
	return strcmp(tail, term) == 0;
}

/* ---- values ---- */

static char *
trimmed(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	return strndup(s, n);
}

/* A number as the hash writes it: the shortest decimal that reads back,
 * without trailing zeros ("25.0" is "25"). */
static void
fmt_num(const json_t *v, char buf[40])
{
	if (json_is_integer(v)) {
		snprintf(buf, 40, "%lld", (long long)json_integer_value(v));
		return;
	}
	double d = json_real_value(v);
	/* in range before the conversion: out of it, it is undefined */
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
		snprintf(buf, 40, "%lld", (long long)d);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, 40, "%.*g", p, d);
		if (strtod(buf, NULL) == d)
			break;
	}
}

/* GS1 mod-10 check digit of the n digits at s. */
static char
gs1_check(const char *s, size_t n)
{
	int sum = 0;

	for (size_t i = 0; i < n; i++) {
		int d = s[n - 1 - i] - '0';
		sum += (i % 2 == 0) ? 3 * d : d;
	}
	return (char)('0' + (10 - sum % 10) % 10);
}

static bool
all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Splits "a.b.c..." into at most 5 parts (in buf); returns how many. */
static size_t
split_dots(const char *s, char buf[256], char *part[5])
{
	size_t n = 0;
	char *p;

	if (strlen(s) >= 256)
		return 0;
	strcpy(buf, s);
	part[n++] = buf;
	for (p = buf; *p != '\0'; p++)
		if (*p == '.') {
			if (n == 5)
				return 0;
			*p = '\0';
			part[n++] = p + 1;
		}
	return n;
}

/* The key of company prefix cp and reference ref (lead: a digit before
 * them, or 0 for none; ref_lead: ref's first digit goes first, as the
 * GTIN's indicator and the SSCC's extension do), ndig digits, and its check
 * digit when check, into key; false when they are not ndig digits. */
static bool
gs1_key(const char *cp, const char *ref, char lead, bool ref_lead, size_t ndig, bool check,
	char key[40])
{
	size_t cl = strlen(cp), rl = strlen(ref);

	if (!all_digits(cp, cl) || (rl > 0 && !all_digits(ref, rl)) || cl + rl != ndig)
		return false;
	if (ref_lead && rl == 0)
		return false;
	snprintf(key, 40, "%.1s%.1s%s%s", lead != 0 ? &lead : "", ref_lead ? ref : "", cp,
		 ref_lead ? ref + 1 : ref);
	if (check) {
		size_t n = strlen(key);
		key[n] = gs1_check(key, n);
		key[n + 1] = '\0';
	}
	return true;
}

/* s with what Digital Link percent-encodes and EPC URNs may leave bare
 * (! ( ) * + , :) percent-encoded, into buf (at least 3 * 256 bytes). */
static const char *
dl_escape(const char *s, char *buf)
{
	char *o = buf;

	for (; *s != '\0'; s++) {
		if (strchr("!()*+,:", *s) != NULL)
			o += sprintf(o, "%%%02X", (unsigned char)*s);
		else
			*o++ = *s;
	}
	*o = '\0';
	return buf;
}

/* An EPC URN (TDS 2.0) as a Digital Link URI; NULL when s is not one we
 * convert. The reference outputs (epcisDocWithAllGS1Keys) convert every
 * EPC scheme of TDS 2.0 and the patterns of the class-level ones. */
static char *
epc_to_dl(const char *s)
{
	enum {
		SGTIN = 1,
		LGTIN,
		SGTIN_PAT,
		SSCC,
		SGLN,
		PGLN,
		GDTI,
		GDTI_PAT,
		GIAI,
		GRAI,
		GRAI_PAT,
		GSRN,
		GSRNP,
		CPI,
		CPI_PAT,
		SGCN,
		SGCN_PAT,
		GINC,
		GSIN,
		ITIP,
		ITIP_PAT,
		UPUI
	};
	static const struct {
		const char *urn;
		int kind;
		size_t parts;
	} schemes[] = {
	    {"urn:epc:id:sgtin:", SGTIN, 3},        {"urn:epc:class:lgtin:", LGTIN, 3},
	    {"urn:epc:idpat:sgtin:", SGTIN_PAT, 3}, {"urn:epc:id:sscc:", SSCC, 2},
	    {"urn:epc:id:sgln:", SGLN, 3},          {"urn:epc:id:pgln:", PGLN, 2},
	    {"urn:epc:id:gdti:", GDTI, 3},          {"urn:epc:idpat:gdti:", GDTI_PAT, 3},
	    {"urn:epc:id:giai:", GIAI, 2},          {"urn:epc:id:grai:", GRAI, 3},
	    {"urn:epc:idpat:grai:", GRAI_PAT, 3},   {"urn:epc:id:gsrn:", GSRN, 2},
	    {"urn:epc:id:gsrnp:", GSRNP, 2},        {"urn:epc:id:cpi:", CPI, 3},
	    {"urn:epc:idpat:cpi:", CPI_PAT, 3},     {"urn:epc:id:sgcn:", SGCN, 3},
	    {"urn:epc:idpat:sgcn:", SGCN_PAT, 3},   {"urn:epc:id:ginc:", GINC, 2},
	    {"urn:epc:id:gsin:", GSIN, 2},          {"urn:epc:id:itip:", ITIP, 5},
	    {"urn:epc:idpat:itip:", ITIP_PAT, 5},   {"urn:epc:id:upui:", UPUI, 3},
	};
	char buf[256], *part[5], key[40], out[1024], esc[3 * 256], esc1[3 * 256];
	const char *last, *ref;
	size_t n;
	int kind = 0;
	bool pat;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(s, schemes[i].urn, strlen(schemes[i].urn)) == 0) {
			kind = schemes[i].kind;
			s += strlen(schemes[i].urn);
			if ((n = split_dots(s, buf, part)) != schemes[i].parts)
				return NULL;
			break;
		}
	if (kind == 0)
		return NULL;
	last = dl_escape(part[n - 1], esc);
	ref = dl_escape(part[1], esc1);
	pat = kind == SGTIN_PAT || kind == GDTI_PAT || kind == GRAI_PAT || kind == CPI_PAT ||
	      kind == SGCN_PAT || kind == ITIP_PAT;
	if (pat != (strcmp(part[n - 1], "*") == 0) || (last[0] == '\0' && kind != PGLN))
		return NULL;
	switch (kind) {
	case SGTIN:
	case LGTIN:
	case SGTIN_PAT:
	case UPUI: /* GTIN-14: indicator, company prefix, item reference, check */
		if (!gs1_key(part[0], part[1], 0, true, 13, true, key))
			return NULL;
		if (pat)
			snprintf(out, sizeof(out), "https://id.gs1.org/01/%s", key);
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/01/%s/%s/%s", key,
				 kind == SGTIN   ? "21"
				 : kind == LGTIN ? "10"
						 : "235",
				 last);
		break;
	case ITIP:
	case ITIP_PAT: /* GTIN-14, piece and total (2 digits each), serial */
		if (!gs1_key(part[0], part[1], 0, true, 13, true, key) ||
		    !all_digits(part[2], strlen(part[2])) || strlen(part[2]) != 2 ||
		    !all_digits(part[3], strlen(part[3])) || strlen(part[3]) != 2)
			return NULL;
		if (pat)
			snprintf(out, sizeof(out), "https://id.gs1.org/8006/%s%s%s", key, part[2],
				 part[3]);
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/8006/%s%s%s/21/%s", key,
				 part[2], part[3], last);
		break;
	case SSCC: /* SSCC-18: extension digit, company prefix, serial reference, check */
		if (!gs1_key(part[0], part[1], 0, true, 17, true, key))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/00/%s", key);
		break;
	case SGLN:
	case PGLN: /* GLN-13 (/414 a location, /417 a party), /254 the extension */
		if (!gs1_key(part[0], part[1], 0, false, 12, true, key))
			return NULL;
		if (kind == SGLN && strcmp(last, "0") != 0)
			snprintf(out, sizeof(out), "https://id.gs1.org/414/%s/254/%s", key, last);
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/%s/%s",
				 kind == SGLN ? "414" : "417", key);
		break;
	case GDTI:
	case GDTI_PAT:
	case SGCN:
	case SGCN_PAT: /* company prefix, type or reference, check, serial */
		if (!gs1_key(part[0], part[1], 0, false, 12, true, key))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/%s/%s%s",
			 kind == GDTI || kind == GDTI_PAT ? "253" : "255", key, pat ? "" : last);
		break;
	case GRAI:
	case GRAI_PAT: /* a 0, company prefix, asset type, check, serial */
		if (!gs1_key(part[0], part[1], '0', false, 12, true, key))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/8003/%s%s", key, pat ? "" : last);
		break;
	case GSRN:
	case GSRNP: /* company prefix and service reference (17 digits), check */
		if (!gs1_key(part[0], part[1], 0, false, 17, true, key))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/%s/%s",
			 kind == GSRN ? "8018" : "8017", key);
		break;
	case GSIN: /* company prefix and shipper reference (16 digits), check */
		if (!gs1_key(part[0], part[1], 0, false, 16, true, key))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/402/%s", key);
		break;
	case GIAI:
	case GINC: /* company prefix and a reference of any characters */
		if (!all_digits(part[0], strlen(part[0])))
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/%s/%s%s",
			 kind == GIAI ? "8004" : "401", part[0], ref);
		break;
	case CPI:
	case CPI_PAT: /* component/part: company prefix and reference, /8011 serial */
		if (!all_digits(part[0], strlen(part[0])))
			return NULL;
		if (pat)
			snprintf(out, sizeof(out), "https://id.gs1.org/8010/%s%s", part[0], ref);
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/8010/%s%s/8011/%s", part[0],
				 ref, last);
		break;
	default: return NULL;
	}
	return strdup(out);
}

/* A Digital Link path segment as its AI: the AI, or its short name. */
static const char *
dl_ai(const char *seg, size_t n)
{
	static const char *const names[][2] = {
	    {"00", "00"},     {"01", "01"},     {"253", "253"},   {"255", "255"},
	    {"401", "401"},   {"402", "402"},   {"414", "414"},   {"417", "417"},
	    {"8003", "8003"}, {"8004", "8004"}, {"8006", "8006"}, {"8010", "8010"},
	    {"8017", "8017"}, {"8018", "8018"}, {"gtin", "01"},   {"itip", "8006"},
	    {"cpid", "8010"}, {"gln", "414"},   {"party", "417"}, {"gsrnp", "8017"},
	    {"gsrn", "8018"}, {"gcn", "255"},   {"sscc", "00"},   {"gdti", "253"},
	    {"ginc", "401"},  {"gsin", "402"},  {"grai", "8003"}, {"giai", "8004"},
	    {"22", "22"},     {"10", "10"},     {"21", "21"},     {"235", "235"},
	    {"254", "254"},   {"8011", "8011"}, {"cpv", "22"},    {"lot", "10"},
	    {"ser", "21"},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i][0]) == n && memcmp(names[i][0], seg, n) == 0)
			return names[i][1];
	return NULL;
}

/* The digits of a key that has a fixed number of them (0: any). */
static size_t
dl_key_digits(const char *ai)
{
	static const struct {
		const char *ai;
		size_t n;
	} k[] = {{"00", 18},  {"01", 14},   {"402", 17},  {"414", 13},
		 {"417", 13}, {"8006", 18}, {"8017", 18}, {"8018", 18}};
	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (strcmp(k[i].ai, ai) == 0)
			return k[i].n;
	return 0;
}

/* A GS1 Digital Link URI of any domain as the reference normaliser writes
 * it: on id.gs1.org, AIs for short names (gtin, ser, lot, ...), a GTIN of
 * 8, 12 or 13 digits padded to 14, only the finest key qualifier (a serial
 * over a lot, no consumer product variant), no query. NULL when s is not
 * one (the caller keeps s). */
static char *
dl_canonical(const char *s)
{
	static const struct {
		const char *key, *quals; /* the qualifiers a key takes, finest first */
	} keys[] = {{"01", "21 235 10 22"}, {"8006", "21 10 22"}, {"414", "254"}, {"8010", "8011"}};
	const char *p, *seg[32], *key = NULL, *best = NULL, *bestv = NULL;
	size_t len[32], nseg = 0, k, n, keyn, bestn = 0;
	const char *quals = "";
	struct sbuf b = {0};
	char pad[16];

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return NULL;
	if ((p = strchr(p, '/')) == NULL)
		return NULL;
	while (*p == '/' && nseg < 32) {
		p++;
		n = strcspn(p, "/?#");
		seg[nseg] = p;
		len[nseg++] = n;
		p += n;
	}
	if (*p != '\0' && *p != '?' && *p != '#')
		return NULL;
	if (nseg > 0 && len[nseg - 1] == 0)
		nseg--; /* a trailing slash */
	/* The first primary key with a value that starts with 4 digits. */
	for (k = 0; k + 1 < nseg; k++) {
		const char *ai = dl_ai(seg[k], len[k]);
		if (ai != NULL && strcmp(ai, "22") != 0 && strcmp(ai, "10") != 0 &&
		    strcmp(ai, "21") != 0 && strcmp(ai, "235") != 0 && strcmp(ai, "254") != 0 &&
		    strcmp(ai, "8011") != 0 && len[k + 1] >= 4 && all_digits(seg[k + 1], 4)) {
			key = ai;
			break;
		}
	}
	if (key == NULL || (nseg - k) % 2 != 0)
		return NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].key, key) == 0)
			quals = keys[i].quals;
	/* its qualifiers: each one the key takes, the finest kept */
	for (size_t i = k + 2; i < nseg; i += 2) {
		const char *q = dl_ai(seg[i], len[i]), *at;
		if (q == NULL || len[i + 1] == 0 || (at = strstr(quals, q)) == NULL ||
		    (at[strlen(q)] != ' ' && at[strlen(q)] != '\0'))
			return NULL;
		if (strcmp(q, "22") != 0 && (best == NULL || at < strstr(quals, best))) {
			best = q;
			bestv = seg[i + 1];
			bestn = len[i + 1];
		}
	}
	keyn = len[k + 1];
	if (dl_key_digits(key) != 0) {
		size_t want = dl_key_digits(key);
		if (!all_digits(seg[k + 1], keyn) ||
		    (keyn != want &&
		     !(strcmp(key, "01") == 0 && (keyn == 8 || keyn == 12 || keyn == 13))))
			return NULL;
		memset(pad, '0', want - keyn);
		pad[want - keyn] = '\0';
	} else {
		pad[0] = '\0';
	}
	sb_add(&b, "https://id.gs1.org/");
	sb_add(&b, key);
	sb_add(&b, "/");
	sb_add(&b, pad);
	sb_addn(&b, seg[k + 1], keyn);
	if (best != NULL) {
		sb_add(&b, "/");
		sb_add(&b, best);
		sb_add(&b, "/");
		sb_addn(&b, bestv, bestn);
	}
	return sb_take(&b);
}

int
ls_epcis_norm_uri(const char *s, char **out)
{
	static const struct {
		const char *from, *to;
	} cbv[] = {
	    {"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"},
	    {"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"},
	    {"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"},
	    {"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"},
	    {"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"},
	    {"https://gs1.org/voc/BizStep-", "https://ref.gs1.org/cbv/BizStep-"},
	    {"https://gs1.org/voc/Disp-", "https://ref.gs1.org/cbv/Disp-"},
	    {"https://gs1.org/voc/BTT-", "https://ref.gs1.org/cbv/BTT-"},
	    {"https://gs1.org/voc/SDT-", "https://ref.gs1.org/cbv/SDT-"},
	};
	char *t = trimmed(s), *r;

	*out = NULL;
	if (t == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < sizeof(cbv) / sizeof(cbv[0]); i++) {
		size_t fl = strlen(cbv[i].from);
		if (strncmp(t, cbv[i].from, fl) == 0) {
			struct sbuf b = {0};
			sb_add(&b, cbv[i].to);
			sb_add(&b, t + fl);
			free(t);
			return (*out = sb_take(&b)) != NULL ? 0 : LS_ERR_NOMEM;
		}
	}
	if ((r = epc_to_dl(t)) != NULL || (r = dl_canonical(t)) != NULL) {
		free(t);
		*out = r;
		return 0;
	}
	*out = t;
	return 0;
}

static bool
digits_at(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static int
days_in_month(int y, int mo)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo == 2 && leap ? 29 : days[mo - 1];
}

int
ls_epcis_time_norm(const char *s, char out[32], uint64_t *ms_out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, ms = 0, oh = 0, om = 0, sign = 0;
	const char *p = s;
	time_t t;
	int64_t ms_total;

	if (s == NULL || strlen(s) < 20 || !digits_at(p, 4, &y) || p[4] != '-' ||
	    !digits_at(p + 5, 2, &mo) || p[7] != '-' || !digits_at(p + 8, 2, &d) ||
	    (p[10] != 'T' && p[10] != 't') || !digits_at(p + 11, 2, &h) || p[13] != ':' ||
	    !digits_at(p + 14, 2, &mi) || p[16] != ':' || !digits_at(p + 17, 2, &sec))
		return LS_ERR_MALFORMED;
	/* A day the month has (timegm would move 02-30 to 03-02); no leap
	 * second: POSIX time has none, and 23:59:60 would be the next day's
	 * 00:00:00, one instant of two spellings that are not one. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return LS_ERR_MALFORMED;
	p += 19;
	if (*p == '.') {
		/* Milliseconds, rounded half up from the fourth decimal; later
		 * decimals do not count (reference outputs: .1415 is .142, .1414
		 * .141). */
		int nd = 0, fourth = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, nd++) {
			if (nd < 3)
				ms = ms * 10 + (*p - '0');
			else if (nd == 3)
				fourth = *p - '0';
		}
		if (nd == 0)
			return LS_ERR_MALFORMED;
		for (int i = nd; i < 3; i++)
			ms *= 10;
		if (fourth >= 5)
			ms++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (!digits_at(p + 1, 2, &oh) || p[3] != ':' || !digits_at(p + 4, 2, &om) ||
		    oh > 14 || om > 59)
			return LS_ERR_MALFORMED;
		p += 6;
	} else {
		return LS_ERR_MALFORMED;
	}
	if (*p != '\0')
		return LS_ERR_MALFORMED;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return LS_ERR_MALFORMED;
	ms_total = ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000 + ms;
	if (ms_total < 0)
		return LS_ERR_MALFORMED;
	t = (time_t)(ms_total / 1000);
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return LS_ERR_MALFORMED;
	{
		char tmp[96];
		snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ms_total % 1000));
		if (strlen(tmp) >= 32)
			return LS_ERR_MALFORMED;
		memcpy(out, tmp, strlen(tmp) + 1);
	}
	if (ms_out != NULL)
		*ms_out = (uint64_t)ms_total;
	return 0;
}

/* ---- the pre-hash string ---- */

struct ph {
	const struct ls_epcis_ns *ns;
	struct ls_err_ctx *ctx;
	int err;
};

static int
ph_fail(struct ph *h, int rc, const char *field)
{
	if (h->err == 0) {
		h->err = rc;
		if (rc == LS_ERR_MALFORMED)
			ls_err_set(h->ctx, rc, "event field '%s' is not of the right type or form",
				   field);
		else
			ls_err_set(h->ctx, rc, "event field '%s': %s", field, ls_strerror(rc));
	}
	return h->err;
}

/* name=URI, normalised. */
static void
ph_uri(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	char *u;
	int rc;

	if (!json_is_string(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	if ((rc = ls_epcis_norm_uri(json_string_value(v), &u)) != 0) {
		ph_fail(h, rc, name);
		return;
	}
	sb_add(b, name);
	sb_add(b, "=");
	sb_add(b, u);
	free(u);
}

/* name=value of a CBV vocabulary: a bare word gets prefix. */
static void
ph_vocab(struct ph *h, struct sbuf *b, const char *name, const json_t *v, const char *prefix)
{
	const char *s;

	if (!json_is_string(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	s = json_string_value(v);
	if (strchr(s, ':') == NULL) {
		char *t = trimmed(s);
		sb_add(b, name);
		sb_add(b, "=");
		sb_add(b, prefix);
		sb_add(b, t != NULL ? t : "");
		free(t);
		return;
	}
	ph_uri(h, b, name, v);
}

static void
ph_time(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	char t[32];

	if (!json_is_string(v) || ls_epcis_time_norm(json_string_value(v), t, NULL) != 0) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	sb_add(b, name);
	sb_add(b, "=");
	sb_add(b, t);
}

static void
ph_plain(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	char num[40];

	sb_add(b, name);
	sb_add(b, "=");
	if (json_is_string(v)) {
		char *t = trimmed(json_string_value(v));
		sb_add(b, t != NULL ? t : "");
		free(t);
	} else if (json_is_number(v)) {
		fmt_num(v, num);
		sb_add(b, num);
	} else if (json_is_boolean(v)) {
		sb_add(b, json_is_true(v) ? "true" : "false");
	} else {
		ph_fail(h, LS_ERR_MALFORMED, name);
	}
}

static void
ph_num(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	if (!json_is_number(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	ph_plain(h, b, name, v);
}

/* An extension element (name, value) as strings into l: arrays give one
 * entry per item, objects their name and their children sorted. */
static void ph_ext(struct ph *h, struct strv *l, const char *name, const json_t *v, int depth);

static void
ph_ext_children(struct ph *h, struct sbuf *b, const json_t *o, int depth)
{
	struct strv l = {0};
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		if (k[0] == '@' || strcmp(k, "#text") == 0)
			continue;
		ph_ext(h, &l, k, v, depth + 1);
	}
	sv_flush(&l, b);
}

static void
ph_ext(struct ph *h, struct strv *l, const char *name, const json_t *v, int depth)
{
	struct sbuf b = {0};
	char *en;

	if (depth > LS_EPCIS_DEPTH_MAX) {
		ph_fail(h, LS_ERR_TOO_BIG, name);
		return;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach((json_t *)v, i, x) ph_ext(h, l, name, x, depth + 1);
		return;
	}
	if ((en = expand_name(h->ns, name)) == NULL) {
		ph_fail(h, LS_ERR_NOMEM, name);
		return;
	}
	sb_add(&b, en);
	free(en);
	if (json_is_object(v)) {
		json_t *text = json_object_get(v, "#text");
		if (text != NULL && json_is_string(text)) {
			sb_add(&b, "=");
			sb_add(&b, json_string_value(text));
		}
		ph_ext_children(h, &b, v, depth);
	} else if (json_is_string(v)) {
		char *u;
		int rc = ls_epcis_norm_uri(json_string_value(v), &u);
		if (rc != 0) {
			ph_fail(h, rc, name);
		} else {
			sb_add(&b, "=");
			sb_add(&b, u);
			free(u);
		}
	} else if (!json_is_null(v)) {
		char num[40];
		sb_add(&b, "=");
		if (json_is_number(v)) {
			fmt_num(v, num);
			sb_add(&b, num);
		} else {
			sb_add(&b, json_is_true(v) ? "true" : "false");
		}
	}
	if (b.err != 0)
		ph_fail(h, b.err, name);
	sv_take(l, sb_take(&b));
}

static bool
in_list(const char *k, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strcmp(k, *names) == 0)
			return true;
	return false;
}

/* The extensions of object o (keys outside std), sorted, into b; prefix
 * (may be NULL) first when there is one. Returns whether there was one. */
static bool
ph_exts_of(struct ph *h, struct sbuf *b, const char *prefix, const json_t *o,
	   const char *const *std)
{
	struct strv l = {0};
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return false;
	json_object_foreach((json_t *)o, k, v)
	{
		if (k[0] == '@' || in_list(k, std))
			continue;
		ph_ext(h, &l, k, v, 1);
	}
	if (l.n == 0) {
		sv_free(&l);
		return false;
	}
	if (prefix != NULL)
		sb_add(b, prefix);
	sv_flush(&l, b);
	return true;
}

static const char *const std_id[] = {"id", NULL};
static const char *const std_meta[] = {"time",
				       "startTime",
				       "endTime",
				       "deviceID",
				       "deviceMetadata",
				       "rawData",
				       "dataProcessingMethod",
				       "bizRules",
				       NULL};
static const char *const std_report[] = {"type",
					 "exception",
					 "deviceID",
					 "deviceMetadata",
					 "rawData",
					 "dataProcessingMethod",
					 "time",
					 "microorganism",
					 "chemicalSubstance",
					 "value",
					 "component",
					 "stringValue",
					 "booleanValue",
					 "hexBinaryValue",
					 "uriValue",
					 "minValue",
					 "maxValue",
					 "meanValue",
					 "sDev",
					 "percRank",
					 "percValue",
					 "uom",
					 "coordinateReferenceSystem",
					 NULL};
static const char *const std_sensor[] = {"sensorMetadata", "sensorReport", NULL};

/* "epcList" and its "epc=" entries sorted. */
static void
ph_epcs(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	struct strv l = {0};
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	sb_add(b, name);
	json_array_foreach((json_t *)v, i, x)
	{
		struct sbuf e = {0};
		ph_uri(h, &e, "epc", x);
		sv_take(&l, sb_take(&e));
	}
	sv_flush(&l, b);
}

static void
ph_quantities(struct ph *h, struct sbuf *b, const char *name, const json_t *v)
{
	struct strv l = {0};
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	sb_add(b, name);
	json_array_foreach((json_t *)v, i, x)
	{
		struct sbuf e = {0};
		json_t *f;
		if (!json_is_object(x)) {
			ph_fail(h, LS_ERR_MALFORMED, name);
			break;
		}
		sb_add(&e, "quantityElement");
		if ((f = json_object_get(x, "epcClass")) != NULL)
			ph_uri(h, &e, "epcClass", f);
		if ((f = json_object_get(x, "quantity")) != NULL)
			ph_num(h, &e, "quantity", f);
		if ((f = json_object_get(x, "uom")) != NULL)
			ph_plain(h, &e, "uom", f);
		sv_take(&l, sb_take(&e));
	}
	sv_flush(&l, b);
}

/* bizTransactionList, sourceList, destinationList: "type=" first in each
 * entry (reference outputs: the type before the id, whatever the prose's
 * order), entries sorted. */
static void
ph_typed(struct ph *h, struct sbuf *b, const char *name, const char *idname, const char *vocab,
	 const json_t *v)
{
	struct strv l = {0};
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		ph_fail(h, LS_ERR_MALFORMED, name);
		return;
	}
	sb_add(b, name);
	json_array_foreach((json_t *)v, i, x)
	{
		struct sbuf e = {0};
		json_t *f;
		if (!json_is_object(x)) {
			ph_fail(h, LS_ERR_MALFORMED, name);
			break;
		}
		if ((f = json_object_get(x, "type")) != NULL)
			ph_vocab(h, &e, "type", f, vocab);
		if ((f = json_object_get(x, idname)) != NULL)
			ph_uri(h, &e, idname, f);
		sv_take(&l, sb_take(&e));
	}
	sv_flush(&l, b);
}

static void
ph_fields(struct ph *h, struct sbuf *b, const json_t *o, const char *const *names)
{
	static const char *const times[] = {"time", "startTime", "endTime", NULL};
	static const char *const vocabs[] = {"type", "exception", NULL};
	static const char *const nums[] = {"value", "minValue", "maxValue",  "meanValue",
					   "sDev",  "percRank", "percValue", NULL};
	static const char *const plains[] = {"component",
					     "stringValue",
					     "booleanValue",
					     "hexBinaryValue",
					     "uom",
					     "coordinateReferenceSystem",
					     NULL};

	if (!json_is_object(o)) {
		ph_fail(h, LS_ERR_MALFORMED, names == std_meta ? "sensorMetadata" : "sensorReport");
		return;
	}
	for (; *names != NULL; names++) {
		const json_t *v = json_object_get(o, *names);
		const char *n = *names;
		if (v == NULL)
			continue;
		if (in_list(n, times))
			ph_time(h, b, n, v);
		else if (in_list(n, vocabs))
			/* Reference outputs (CBV 2.0): measurement and alert types
			 * in the GS1 vocabulary at ref.gs1.org/voc. */
			ph_vocab(h, b, n, v, "https://ref.gs1.org/voc/");
		else if (in_list(n, nums))
			ph_num(h, b, n, v);
		else if (in_list(n, plains))
			ph_plain(h, b, n, v);
		else
			ph_uri(h, b, n, v);
	}
}

static void
ph_sensors(struct ph *h, struct sbuf *b, const json_t *v)
{
	struct strv l = {0};
	size_t i;
	json_t *x;

	if (!json_is_array(v)) {
		ph_fail(h, LS_ERR_MALFORMED, "sensorElementList");
		return;
	}
	/* Reference outputs (CBV 2.0): no "sensorElementList" of its own, one
	 * "sensorElement" per element. */
	json_array_foreach((json_t *)v, i, x)
	{
		struct sbuf e = {0};
		struct strv reps = {0};
		json_t *meta, *rep;
		if (!json_is_object(x)) {
			ph_fail(h, LS_ERR_MALFORMED, "sensorElementList");
			break;
		}
		sb_add(&e, "sensorElement");
		if ((meta = json_object_get(x, "sensorMetadata")) != NULL) {
			sb_add(&e, "sensorMetadata");
			ph_fields(h, &e, meta, std_meta);
		}
		if ((rep = json_object_get(x, "sensorReport")) != NULL) {
			size_t j;
			json_t *y;
			if (!json_is_array(rep)) {
				ph_fail(h, LS_ERR_MALFORMED, "sensorReport");
			} else {
				json_array_foreach(rep, j, y)
				{
					struct sbuf r = {0};
					sb_add(&r, "sensorReport");
					ph_fields(h, &r, y, std_report);
					sv_take(&reps, sb_take(&r));
				}
			}
		}
		sv_flush(&reps, &e);
		sv_take(&l, sb_take(&e));
	}
	sv_flush(&l, b);
}

/* The extensions inside the sensor elements, after the standard fields. */
static void
ph_sensor_exts(struct ph *h, struct sbuf *b, const json_t *v)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return;
	json_array_foreach((json_t *)v, i, x)
	{
		struct sbuf e = {0};
		bool any = false;
		json_t *rep = json_object_get(x, "sensorReport");
		any |= ph_exts_of(h, &e, "sensorMetadata", json_object_get(x, "sensorMetadata"),
				  std_meta);
		if (json_is_array(rep)) {
			size_t j;
			json_t *y;
			json_array_foreach(rep, j, y) any |=
			    ph_exts_of(h, &e, "sensorReport", y, std_report);
		}
		any |= ph_exts_of(h, &e, NULL, x, std_sensor);
		if (any) {
			sb_add(b, "sensorElement");
			sb_add(b, e.p != NULL ? e.p : "");
		}
		free(e.p);
	}
}

/*
 * The canonical order of CBV 2.0 8.9.2. Left out: eventID and recordTime
 * (as the prose says), and - reference outputs for "ver=CBV2.0" -
 * certificationInfo and errorDeclaration, which the prose lists but the
 * reference implementation does not hash in that version (an event and its
 * error declaration keep one hash). Where the prose gives no order between
 * fields that never meet in one event type, the order is the table's.
 */
static const char *const top_order[] = {"eventTime",
					"eventTimeZoneOffset",
					"epcList",
					"parentID",
					"inputEPCList",
					"childEPCs",
					"quantityList",
					"childQuantityList",
					"inputQuantityList",
					"outputEPCList",
					"outputQuantityList",
					"action",
					"transformationID",
					"bizStep",
					"disposition",
					"persistentDisposition",
					"readPoint",
					"bizLocation",
					"bizTransactionList",
					"sourceList",
					"destinationList",
					"sensorElementList",
					"ilmd",
					NULL};
static const char *const top_skip[] = {"type",
				       "isA",
				       "eventID",
				       "recordTime",
				       "errorDeclaration",
				       LS_EPCIS_CERT_INFO,
				       LS_EPCIS_CERT_INFO_IRI,
				       NULL};

static int prehash(struct ph *hp, struct sbuf *bp, const json_t *event);

int
ls_epcis_prehash(const json_t *event, const struct ls_epcis_ns *ns, char **out,
		 struct ls_err_ctx *ctx)
{
	struct ls_epcis_ns *own = NULL;
	struct ph h = {ns, ctx, 0};
	struct sbuf b = {0};
	int rc;

	*out = NULL;
	if (ns == NULL) {
		if ((rc = ls_epcis_ns_new(NULL, &own, ctx)) != 0)
			return rc;
		h.ns = own;
	}
	rc = prehash(&h, &b, event);
	ls_epcis_ns_free(own);
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	*out = sb_take(&b);
	return *out != NULL ? 0 : ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
}

static int
prehash(struct ph *hp, struct sbuf *bp, const json_t *event)
{
	struct ph h = *hp;
	struct sbuf b = *bp;
	const json_t *type, *v;
	struct ls_err_ctx *ctx = h.ctx;

	if (!json_is_object(event))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "an event is not a JSON object");
	type = json_object_get(event, "type");
	if (type == NULL)
		type = json_object_get(event, "isA");
	if (!json_is_string(type))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "an event has no 'type'");
	sb_add(&b, "eventType=");
	sb_add(&b, json_string_value(type));
	for (const char *const *n = top_order; *n != NULL && h.err == 0; n++) {
		if ((v = json_object_get(event, *n)) == NULL)
			continue;
		if (strcmp(*n, "eventTime") == 0) {
			ph_time(&h, &b, *n, v);
		} else if (strcmp(*n, "eventTimeZoneOffset") == 0 || strcmp(*n, "action") == 0) {
			ph_plain(&h, &b, *n, v);
		} else if (strcmp(*n, "parentID") == 0 || strcmp(*n, "transformationID") == 0) {
			ph_uri(&h, &b, *n, v);
		} else if (strstr(*n, "EPCList") != NULL || strcmp(*n, "epcList") == 0 ||
			   strcmp(*n, "childEPCs") == 0) {
			ph_epcs(&h, &b, *n, v);
		} else if (strstr(*n, "uantityList") != NULL) {
			ph_quantities(&h, &b, *n, v);
		} else if (strcmp(*n, "bizStep") == 0) {
			ph_vocab(&h, &b, *n, v, "https://ref.gs1.org/cbv/BizStep-");
		} else if (strcmp(*n, "disposition") == 0) {
			ph_vocab(&h, &b, *n, v, "https://ref.gs1.org/cbv/Disp-");
		} else if (strcmp(*n, "persistentDisposition") == 0) {
			static const char *const su[] = {"set", "unset", NULL};
			if (!json_is_object(v)) {
				ph_fail(&h, LS_ERR_MALFORMED, *n);
				break;
			}
			sb_add(&b, *n);
			for (const char *const *s = su; *s != NULL; s++) {
				json_t *a = json_object_get(v, *s), *x;
				struct strv l = {0};
				size_t i;
				if (a == NULL)
					continue;
				if (!json_is_array(a)) {
					ph_fail(&h, LS_ERR_MALFORMED, *s);
					break;
				}
				json_array_foreach(a, i, x)
				{
					struct sbuf e = {0};
					ph_vocab(&h, &e, *s, x, "https://ref.gs1.org/cbv/Disp-");
					sv_take(&l, sb_take(&e));
				}
				sv_flush(&l, &b);
			}
		} else if (strcmp(*n, "readPoint") == 0 || strcmp(*n, "bizLocation") == 0) {
			json_t *id = json_object_get(v, "id");
			if (id == NULL) {
				ph_fail(&h, LS_ERR_MALFORMED, *n);
				break;
			}
			sb_add(&b, *n);
			ph_uri(&h, &b, "id", id);
		} else if (strcmp(*n, "bizTransactionList") == 0) {
			ph_typed(&h, &b, *n, "bizTransaction", "https://ref.gs1.org/cbv/BTT-", v);
		} else if (strcmp(*n, "sourceList") == 0) {
			ph_typed(&h, &b, *n, "source", "https://ref.gs1.org/cbv/SDT-", v);
		} else if (strcmp(*n, "destinationList") == 0) {
			ph_typed(&h, &b, *n, "destination", "https://ref.gs1.org/cbv/SDT-", v);
		} else if (strcmp(*n, "sensorElementList") == 0) {
			ph_sensors(&h, &b, v);
		} else if (strcmp(*n, "ilmd") == 0) {
			if (!json_is_object(v)) {
				ph_fail(&h, LS_ERR_MALFORMED, *n);
				break;
			}
			sb_add(&b, "ilmd");
			ph_ext_children(&h, &b, v, 1);
		}
	}
	/* The extensions: those inside readPoint, bizLocation and the sensor
	 * elements, then the event's own, sorted (reference outputs). */
	if (h.err == 0) {
		ph_exts_of(&h, &b, "readPoint", json_object_get(event, "readPoint"), std_id);
		ph_exts_of(&h, &b, "bizLocation", json_object_get(event, "bizLocation"), std_id);
		ph_sensor_exts(&h, &b, json_object_get(event, "sensorElementList"));
	}
	if (h.err == 0) {
		struct strv l = {0};
		const char *k;
		json_t *x;
		json_object_foreach((json_t *)event, k, x)
		{
			if (k[0] == '@' || in_list(k, top_order) || in_list(k, top_skip) ||
			    is_epcis_term(h.ns, k, "errorDeclaration") ||
			    is_epcis_term(h.ns, k, "certificationInfo"))
				continue;
			ph_ext(&h, &l, k, x, 1);
		}
		sv_flush(&l, &b);
	}
	if (h.err == 0 && b.err != 0)
		ph_fail(&h, b.err, "(event)");
	*bp = b;
	return h.err;
}

int
ls_epcis_event_hash(const json_t *event, const struct ls_epcis_ns *ns, char out[LS_EPCIS_HASH_LEN],
		    struct ls_err_ctx *ctx)
{
	uint8_t d[crypto_hash_sha256_BYTES];
	char hex[2 * crypto_hash_sha256_BYTES + 1];
	char *pre;
	int rc;

	if ((rc = ls_epcis_prehash(event, ns, &pre, ctx)) != 0)
		return rc;
	crypto_hash_sha256(d, (const uint8_t *)pre, strlen(pre));
	free(pre);
	sodium_bin2hex(hex, sizeof(hex), d, sizeof(d));
	snprintf(out, LS_EPCIS_HASH_LEN, "ni:///sha-256;%s?ver=CBV2.0", hex);
	return 0;
}

/* ---- records to events ---- */

static json_t *
urn_json(const char *kind, const uint8_t *bin, size_t len)
{
	char hex[2 * LS_ID_LEN + 1], buf[96];

	ls_hex(bin, len, hex);
	snprintf(buf, sizeof(buf), "urn:lodestone:%s:%s", kind, hex);
	return json_string(buf);
}

/* urn:lodestone:KIND:HEX into out; false when s is not one. */
static bool
urn_parse(const char *s, const char *kind, uint8_t out[LS_ID_LEN])
{
	char pre[48];

	snprintf(pre, sizeof(pre), "urn:lodestone:%s:", kind);
	if (s == NULL || strncmp(s, pre, strlen(pre)) != 0)
		return false;
	return ls_unhex(s + strlen(pre), out, LS_ID_LEN) == 0;
}

/* urn:lodestone:loc:HEX[:SITE], SITE percent-encoded (RFC 3986 unreserved
 * characters stay). */
static json_t *
loc_json(const uint8_t key[LS_KEY_LEN], const char *site)
{
	static const char hexd[] = "0123456789ABCDEF";
	char hex[LS_HEX_KEY_LEN + 1];
	struct sbuf b = {0};
	json_t *j;

	ls_hex(key, LS_KEY_LEN, hex);
	sb_add(&b, "urn:lodestone:loc:");
	sb_add(&b, hex);
	if (site != NULL && site[0] != '\0') {
		sb_add(&b, ":");
		for (const unsigned char *p = (const unsigned char *)site; *p != '\0'; p++) {
			if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
				sb_addn(&b, (const char *)p, 1);
			} else {
				char e[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
				sb_addn(&b, e, 3);
			}
		}
	}
	if (b.err != 0) {
		free(b.p);
		return NULL;
	}
	j = json_string(b.p);
	free(b.p);
	return j;
}

/* grams as kilograms: an integer when whole, else a decimal with at most
 * three places (a double that prints back as exactly that decimal: at most
 * 15 significant digits, LS_GRAMS_MAX has 16 but 10^15 g is whole kg). */
static json_t *
kg_json(uint64_t grams)
{
	if (grams % 1000 == 0)
		return json_integer((json_int_t)(grams / 1000));
	return json_real((double)grams / 1000.0);
}

static json_t *
quantity_json(const uint8_t lot[LS_ID_LEN], uint64_t grams)
{
	json_t *q = json_object();

	json_object_set_new(q, "epcClass", urn_json("lot", lot, LS_ID_LEN));
	json_object_set_new(q, "quantity", kg_json(grams));
	json_object_set_new(q, "uom", json_string("KGM"));
	return q;
}

static json_t *
comp_json(const struct ls_comp *comp)
{
	json_t *o = json_object();

	for (size_t i = 0; i < comp->n; i++) {
		const char *sym = ls_element_symbol(comp->e[i].z);
		char low[4] = {0};
		for (size_t k = 0; sym != NULL && k < 3 && sym[k] != '\0'; k++)
			low[k] = (char)tolower((unsigned char)sym[k]);
		json_object_set_new(o, low, json_integer(comp->e[i].ppm));
	}
	return o;
}

static json_t *
time_json(uint64_t t)
{
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	return json_string(buf);
}

/* The ILMD of one lot definition. */
static json_t *
lotdef_json(const struct ls_lotdef *d)
{
	json_t *o = json_object();

	json_object_set_new(o, "cbvmda:lotNumber", json_string(d->label));
	json_object_set_new(o, "ls:category", json_string(d->category));
	json_object_set_new(o, "ls:composition", comp_json(&d->comp));
	if (d->value != 0)
		json_object_set_new(o, "ls:value", json_integer((json_int_t)d->value));
	return o;
}

static json_t *
typed(const char *type, const char *idname, json_t *id)
{
	json_t *o = json_object();

	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, idname, id);
	return o;
}

int
ls_epcis_event_new(const struct ls_record *r, const struct ls_epcis_extra *x, json_t **out,
		   struct ls_err_ctx *ctx)
{
	struct ls_epcis_ns *ns = NULL;
	char hash[LS_EPCIS_HASH_LEN];
	json_t *ev = json_object(), *ql, *a;
	int rc;

	*out = NULL;
	if (ev == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
	switch (r->type) {
	case LS_REC_LOT:
	case LS_REC_TRANSFER:
	case LS_REC_RECEIPT: json_object_set_new(ev, "type", json_string("ObjectEvent")); break;
	case LS_REC_TRANSFORMATION:
		json_object_set_new(ev, "type", json_string("TransformationEvent"));
		break;
	default:
		json_decref(ev);
		return ls_err_set(ctx, LS_ERR_INVALID, "a %s record has no EPCIS event",
				  ls_rtype_name(r->type));
	}
	json_object_set_new(ev, "eventTime", time_json(r->timestamp));
	json_object_set_new(ev, "eventTimeZoneOffset", json_string("+00:00"));
	json_object_set_new(ev, "eventID", json_string("")); /* its place; set below */
	/* certificationInfo by its EPCIS 2.0 name: standard hashers and
	 * readers know it by that name, and leave it out of the hash under no
	 * other (under its IRI it would be hashed as an extension). */
	if (r->has_cert)
		json_object_set_new(ev, LS_EPCIS_CERT_INFO,
				    urn_json("record", r->cert_id, LS_ID_LEN));
	if (x != NULL && x->revoked) {
		/* Question time: the key was revoked before it signed this. */
		json_t *ed = json_object();
		json_object_set_new(ed, "declarationTime", time_json(x->revoked_at));
		json_object_set_new(ed, "reason", json_string("incorrect_data"));
		json_object_set_new(ed, "ls:revocation",
				    urn_json("record", x->revocation, LS_ID_LEN));
		json_object_set_new(ev, "errorDeclaration", ed);
	}
	switch (r->type) {
	case LS_REC_LOT: {
		const struct ls_lot_registration *g = &r->lot;
		json_t *ilmd;
		ql = json_array();
		json_array_append_new(ql, quantity_json(r->id, g->lot.grams));
		json_object_set_new(ev, "quantityList", ql);
		json_object_set_new(ev, "action", json_string("ADD"));
		json_object_set_new(ev, "bizStep", json_string("commissioning"));
		json_object_set_new(ev, "disposition", json_string("active"));
		a = json_object();
		json_object_set_new(a, "id", loc_json(r->author, g->site));
		json_object_set_new(ev, "readPoint", a);
		ilmd = lotdef_json(&g->lot);
		json_object_set_new(ilmd, "cbvmda:countryOfOrigin", json_string(g->country));
		json_object_set_new(ilmd, "ls:site", json_string(g->site));
		json_object_set_new(ev, "ilmd", ilmd);
		break;
	}
	case LS_REC_TRANSFORMATION: {
		const struct ls_transformation *t = &r->transformation;
		json_t *outs = json_array(), *ilmd = json_object();
		ql = json_array();
		for (size_t i = 0; i < t->n_inputs; i++)
			json_array_append_new(ql,
					      quantity_json(t->inputs[i].lot, t->inputs[i].grams));
		json_object_set_new(ev, "inputQuantityList", ql);
		ql = json_array();
		for (size_t i = 0; i < t->n_outputs; i++) {
			uint8_t lot[LS_ID_LEN];
			json_t *d = lotdef_json(&t->outputs[i]);
			ls_lot_id(r->id, (uint32_t)i, lot);
			json_array_append_new(ql, quantity_json(lot, t->outputs[i].grams));
			json_object_set_new(d, "ls:lot", urn_json("lot", lot, LS_ID_LEN));
			json_array_append_new(outs, d);
		}
		json_object_set_new(ev, "outputQuantityList", ql);
		/* CBV 2.0 has no "transforming": commissioning, of the outputs. */
		json_object_set_new(ev, "bizStep", json_string("commissioning"));
		if (t->site[0] != '\0') {
			a = json_object();
			json_object_set_new(a, "id", loc_json(r->author, t->site));
			json_object_set_new(ev, "readPoint", a);
			json_object_set_new(ilmd, "ls:site", json_string(t->site));
		}
		json_object_set_new(ilmd, "ls:outputs", outs);
		json_object_set_new(ev, "ilmd", ilmd);
		break;
	}
	case LS_REC_TRANSFER: {
		const struct ls_transfer *t = &r->transfer;
		json_t *bt = json_array(), *sl = json_array(), *dl = json_array();
		if (!t->has_lot) {
			json_decref(ev);
			json_decref(bt);
			json_decref(sl);
			json_decref(dl);
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "a transfer of technology has no EPCIS event");
		}
		ql = json_array();
		json_array_append_new(ql, quantity_json(t->lot, t->grams));
		json_object_set_new(ev, "quantityList", ql);
		json_object_set_new(ev, "action", json_string("OBSERVE"));
		json_object_set_new(ev, "bizStep", json_string("shipping"));
		json_object_set_new(ev, "disposition", json_string("in_transit"));
		json_array_append_new(
		    bt, typed("desadv", "bizTransaction", urn_json("record", r->id, LS_ID_LEN)));
		if (t->has_license)
			json_array_append_new(bt,
					      typed("urn:lodestone:btt:license", "bizTransaction",
						    urn_json("record", t->license, LS_ID_LEN)));
		json_object_set_new(ev, "bizTransactionList", bt);
		json_array_append_new(
		    sl, typed("owning_party", "source", urn_json("party", r->author, LS_KEY_LEN)));
		json_array_append_new(sl, typed("location", "source", loc_json(r->author, NULL)));
		json_object_set_new(ev, "sourceList", sl);
		json_array_append_new(
		    dl, typed("owning_party", "destination", urn_json("party", t->to, LS_KEY_LEN)));
		json_array_append_new(dl, typed("location", "destination", loc_json(t->to, NULL)));
		json_object_set_new(ev, "destinationList", dl);
		json_object_set_new(ev, "ls:toCertificate",
				    urn_json("record", t->to_cert, LS_ID_LEN));
		if (t->end_use[0] != '\0')
			json_object_set_new(ev, "ls:endUse", json_string(t->end_use));
		if (t->description[0] != '\0')
			json_object_set_new(ev, "ls:description", json_string(t->description));
		break;
	}
	case LS_REC_RECEIPT: {
		const struct ls_receipt *t = &r->receipt;
		json_t *bt = json_array();
		if (x == NULL || !x->has_lot) {
			json_decref(ev);
			json_decref(bt);
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "receipt: the lot it counts is not known");
		}
		ql = json_array();
		json_array_append_new(ql, quantity_json(x->lot, t->grams));
		json_object_set_new(ev, "quantityList", ql);
		json_object_set_new(ev, "action", json_string("OBSERVE"));
		json_object_set_new(ev, "bizStep", json_string("receiving"));
		json_object_set_new(ev, "disposition", json_string("in_progress"));
		json_array_append_new(bt, typed("desadv", "bizTransaction",
						urn_json("record", t->transfer, LS_ID_LEN)));
		json_object_set_new(ev, "bizTransactionList", bt);
		if (t->reason != NULL && t->reason[0] != '\0')
			json_object_set_new(ev, "ls:reason", json_string(t->reason));
		break;
	}
	default: break;
	}
	json_object_set_new(ev, "ls:recordID", urn_json("record", r->id, LS_ID_LEN));
	json_object_set_new(ev, "ls:signer", urn_json("party", r->author, LS_KEY_LEN));
	if ((rc = ls_epcis_ns_new(NULL, &ns, ctx)) != 0 ||
	    (rc = ls_epcis_event_hash(ev, ns, hash, ctx)) != 0) {
		ls_epcis_ns_free(ns);
		json_decref(ev);
		return rc;
	}
	ls_epcis_ns_free(ns);
	json_object_set_new(ev, "eventID", json_string(hash));
	*out = ev;
	return 0;
}

json_t *
ls_epcis_doc_new(uint64_t t)
{
	json_t *doc = json_object(), *ctx = json_array(), *ls = json_object(),
	       *body = json_object();

	json_array_append_new(ctx, json_string(LS_EPCIS_CONTEXT));
	json_object_set_new(ls, "ls", json_string(LS_EPCIS_NS));
	json_array_append_new(ctx, ls);
	json_object_set_new(doc, "@context", ctx);
	json_object_set_new(doc, "type", json_string("EPCISDocument"));
	json_object_set_new(doc, "schemaVersion", json_string("2.0"));
	json_object_set_new(doc, "creationDate", time_json(t));
	json_object_set_new(body, "eventList", json_array());
	json_object_set_new(doc, "epcisBody", body);
	return doc;
}

json_t *
ls_epcis_doc_events(json_t *doc)
{
	return json_object_get(json_object_get(doc, "epcisBody"), "eventList");
}

/* ---- events to records ---- */

struct ev_dup {
	const char *id;
	size_t pos;
};

struct ev_hash {
	char hash[LS_EPCIS_HASH_LEN];
	size_t pos;
};

static int
hash_cmp(const void *a, const void *b)
{
	const struct ev_hash *x = a, *y = b;
	int c = strcmp(x->hash, y->hash);
	return c != 0 ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

static int
dup_cmp(const void *a, const void *b)
{
	const struct ev_dup *x = a, *y = b;
	int c = strcmp(x->id, y->id);
	return c != 0 ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

/* A JSON number's text as digits * 10^exp: the significant digits (no
 * leading or trailing zeros, at most 40) in dig. false: not a number. */
static bool
number_norm(const char *s, size_t n, char dig[41], long *exp)
{
	size_t i = 0, nd = 0;
	long e = 0, x = 0;
	bool any = false, neg = false;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	for (int frac = 0; frac < 2; frac++) {
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			any = true;
			if (nd == 0 && s[i] == '0') {
				e -= frac;
				continue;
			}
			if (nd == 40)
				return false;
			dig[nd++] = s[i];
			e -= frac;
		}
		if (frac == 0 && i < n && s[i] == '.')
			i++;
		else
			break;
	}
	if (!any)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			neg = s[i++] == '-';
		if (i == n)
			return false;
		for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (x < 100000)
				x = x * 10 + (s[i] - '0');
	}
	if (i != n)
		return false;
	while (nd > 0 && dig[nd - 1] == '0') {
		nd--;
		e++;
	}
	dig[nd] = '\0';
	*exp = nd == 0 ? 0 : e + (neg ? -x : x);
	return true;
}

/* Whether the number text s[0..n) means the double the parser makes of it,
 * as its shortest decimal (what decimal_of and the pre-hash use). Integers
 * are the parser's own, exactly or refused. */
static bool
number_exact(const char *s, size_t n)
{
	char tok[512], dig[41], dig2[41], sh[48];
	long e, e2;
	double d;

	if (memchr(s, '.', n) == NULL && memchr(s, 'e', n) == NULL && memchr(s, 'E', n) == NULL)
		return true;
	if (n >= sizeof(tok) || !number_norm(s, n, dig, &e))
		return n < sizeof(tok); /* not a number: the parser says so */
	memcpy(tok, s, n);
	tok[n] = '\0';
	d = strtod(tok, NULL);
	if (!isfinite(d))
		return false;
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(sh, sizeof(sh), "%.*e", prec - 1, d);
		if (strtod(sh, NULL) == d)
			break;
	}
	return number_norm(sh, strlen(sh), dig2, &e2) && strcmp(dig, dig2) == 0 && e == e2;
}

int
ls_epcis_doc_parse(const char *buf, size_t len, json_t **doc, json_t **events,
		   struct ls_err_ctx *ctx)
{
	json_error_t jerr;
	json_t *d, *body, *list, *ev;
	struct ev_dup *ids = NULL;
	struct ev_hash *hs = NULL;
	struct ls_epcis_ns *ns = NULL;
	size_t depth = 0, maxd = 0, n_ids = 0, n_hs = 0, values = 1, i;
	bool in_str = false, esc = false;
	int rc = 0;

	*doc = *events = NULL;
	if (len > LS_EPCIS_DOC_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "the document has %zu bytes, more than %u",
				  len, LS_EPCIS_DOC_MAX);
	/* Nesting first: the parser itself must not recurse deep on hostile input. */
	for (i = 0; i < len; i++) {
		char ch = buf[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
		} else if (ch == '"') {
			in_str = true;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			/* A number as its text says, or refused: the parser keeps
			 * a double, and 12.0000000000000000001 kg would be 12 kg
			 * (and hash as 12). */
			size_t n = strspn(buf + i, "+-.0123456789eE");
			if (n > len - i)
				n = len - i;
			if (!number_exact(buf + i, n))
				return ls_err_set(ctx, LS_ERR_MALFORMED,
						  "number '%.*s' at byte %zu cannot be read "
						  "exactly (a double holds 17 digits, from 1e-308 "
						  "to 1e308)",
						  (int)(n < 40 ? n : 40), buf + i, i);
			i += n - 1;
		} else if (ch == '[' || ch == '{') {
			if (++depth > maxd)
				maxd = depth;
			if (maxd > LS_EPCIS_DEPTH_MAX)
				return ls_err_set(
				    ctx, LS_ERR_TOO_BIG,
				    "the document nests deeper than %d levels (at byte %zu)",
				    LS_EPCIS_DEPTH_MAX, i);
		} else if ((ch == ']' || ch == '}') && depth > 0) {
			depth--;
		} else if (ch == ',' && ++values > LS_EPCIS_VALUES_MAX) {
			/* what the parsed tree may cost, bounded apart from the bytes */
			return ls_err_set(ctx, LS_ERR_TOO_BIG,
					  "the document holds more than %u values",
					  LS_EPCIS_VALUES_MAX);
		}
	}
	d = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (d == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "not JSON: line %d, column %d: %s",
				  jerr.line, jerr.column, jerr.text);
	if (!json_is_object(d) || !json_is_string(json_object_get(d, "type")) ||
	    strcmp(json_string_value(json_object_get(d, "type")), "EPCISDocument") != 0) {
		rc = ls_err_set(ctx, LS_ERR_MALFORMED, "not an EPCISDocument (its \"type\")");
		goto out;
	}
	body = json_object_get(d, "epcisBody");
	list = json_object_get(body, "eventList");
	if (!json_is_object(body) || !json_is_array(list)) {
		rc = ls_err_set(ctx, LS_ERR_MALFORMED, "epcisBody.eventList is not a list");
		goto out;
	}
	if (json_array_size(list) > LS_EPCIS_EVENTS_MAX) {
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "%zu events, more than %d",
				json_array_size(list), LS_EPCIS_EVENTS_MAX);
		goto out;
	}
	if ((ids = calloc(json_array_size(list) + 1, sizeof(*ids))) == NULL) {
		rc = ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, ev)
	{
		json_t *id;
		if (!json_is_object(ev)) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED, "event %zu is not a JSON object",
					i + 1);
			goto out;
		}
		if ((id = json_object_get(ev, "eventID")) == NULL)
			continue;
		if (!json_is_string(id)) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED, "event %zu: eventID is not a string",
					i + 1);
			goto out;
		}
		ids[n_ids].id = json_string_value(id);
		ids[n_ids++].pos = i + 1;
	}
	qsort(ids, n_ids, sizeof(*ids), dup_cmp);
	for (i = 1; i < n_ids; i++)
		if (strcmp(ids[i - 1].id, ids[i].id) == 0) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED,
					"events %zu and %zu have one eventID '%.100s'",
					ids[i - 1].pos, ids[i].pos, ids[i].id);
			goto out;
		}
	/* One event twice, however spelled, is one event hash (CBV 2.0 8.9):
	 * the document says it once. Events whose hash cannot be computed are
	 * for the importer to refuse. */
	if ((rc = ls_epcis_ns_new(json_object_get(d, "@context"), &ns, ctx)) != 0)
		goto out;
	if ((hs = calloc(json_array_size(list) + 1, sizeof(*hs))) == NULL) {
		rc = ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_foreach(list, i, ev)
	{
		struct ls_err_ctx quiet = {{0}};
		if (ls_epcis_event_hash(ev, ns, hs[n_hs].hash, &quiet) == 0)
			hs[n_hs++].pos = i + 1;
	}
	qsort(hs, n_hs, sizeof(*hs), hash_cmp);
	for (i = 1; i < n_hs; i++)
		if (strcmp(hs[i - 1].hash, hs[i].hash) == 0) {
			rc = ls_err_set(ctx, LS_ERR_MALFORMED,
					"events %zu and %zu are one event (one event hash %s)",
					hs[i - 1].pos, hs[i].pos, hs[i].hash);
			goto out;
		}
	*doc = d;
	*events = list;
	d = NULL;
out:
	free(hs);
	ls_epcis_ns_free(ns);
	free(ids);
	json_decref(d);
	return rc;
}

/* The digits of a JSON number as m * 10^-k (m without trailing zeros). */
static int
decimal_of(const json_t *v, uint64_t *m, int *k)
{
	char buf[48];
	const char *p;
	int exp = 0, frac = 0;
	bool dot = false;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return LS_ERR_INVALID;
		*m = (uint64_t)json_integer_value(v);
		*k = 0;
		return 0;
	}
	if (!json_is_real(v))
		return LS_ERR_INVALID;
	/* The shortest decimal that reads back as the double the parser made. */
	{
		double d = json_real_value(v);
		if (!(d >= 0))
			return LS_ERR_INVALID;
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
			if (strtod(buf, NULL) == d)
				break;
		}
	}
	*m = 0;
	for (p = buf; *p != '\0' && *p != 'e'; p++) {
		if (*p == '.') {
			dot = true;
			continue;
		}
		if (*m > UINT64_MAX / 10)
			return LS_ERR_INVALID;
		*m = *m * 10 + (uint64_t)(*p - '0');
		if (dot)
			frac++;
	}
	if (*p == 'e')
		exp = atoi(p + 1);
	*k = frac - exp;
	while (*m != 0 && *m % 10 == 0) {
		*m /= 10;
		(*k)--;
	}
	return 0;
}

int
ls_epcis_grams(const json_t *quantity, const char *uom, uint64_t *grams, struct ls_err_ctx *ctx)
{
	uint64_t m, mult = 1, g;
	int k, e;

	if (uom == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "a quantity without a unit (uom): a count, "
				  "not a mass");
	if (strcmp(uom, "GRM") == 0)
		e = 0;
	else if (strcmp(uom, "KGM") == 0)
		e = 3;
	else if (strcmp(uom, "TNE") == 0)
		e = 6;
	else if (strcmp(uom, "LBR") == 0)
		e = -5, mult = 45359237; /* 1 lb = 0.45359237 kg = 453.59237 g exactly */
	else
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "unit '%.20s' is not a unit of mass (KGM, GRM, TNE, LBR)", uom);
	if (decimal_of(quantity, &m, &k) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "quantity is not a number of at least 0");
	e -= k;
	if (__builtin_mul_overflow(m, mult, &g))
		return ls_err_set(ctx, LS_ERR_INVALID, "quantity has too many digits");
	for (; e > 0; e--)
		if (__builtin_mul_overflow(g, 10, &g))
			return ls_err_set(ctx, LS_ERR_INVALID, "quantity is too large");
	for (; e < 0; e++) {
		if (g % 10 != 0)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "%s quantity is not a whole number of grams", uom);
		g /= 10;
	}
	if (g == 0 || g > LS_GRAMS_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "quantity of %llu g is out of range (1 g to %llu g)",
				  (unsigned long long)g, (unsigned long long)LS_GRAMS_MAX);
	*grams = g;
	return 0;
}

static const char *
jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A CBV word given bare or as a URI of the vocabulary ("shipping"). */
static const char *
cbv_word(const char *s, const char *kind)
{
	const char *pre[] = {"https://ref.gs1.org/cbv/", "https://gs1.org/voc/", NULL};

	if (s == NULL)
		return "";
	for (size_t i = 0; pre[i] != NULL; i++) {
		size_t pl = strlen(pre[i]), kl = strlen(kind);
		if (strncmp(s, pre[i], pl) == 0 && strncasecmp(s + pl, kind, kl) == 0 &&
		    s[pl + kl] == '-')
			return s + pl + kl + 1;
	}
	if (strncmp(s, "urn:epcglobal:cbv:", 18) == 0) {
		const char *c = strrchr(s, ':');
		return c + 1;
	}
	return s;
}

/* A quantityElement: its epcClass and grams. */
static int
quantity_of(const json_t *q, const char **uri, uint64_t *grams, struct ls_err_ctx *ctx)
{
	if (!json_is_object(q) || (*uri = jstr(q, "epcClass")) == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "a quantity element has no epcClass");
	if (json_object_get(q, "quantity") == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "a quantity element has no quantity");
	return ls_epcis_grams(json_object_get(q, "quantity"), jstr(q, "uom"), grams, ctx);
}

/* The one element of a quantity list: its epcClass and grams. */
static int
one_quantity(const json_t *ev, const char *list, const char **uri, uint64_t *grams,
	     struct ls_err_ctx *ctx)
{
	const json_t *l = json_object_get(ev, list), *q;

	if (!json_is_array(l) || json_array_size(l) != 1)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s must hold exactly one quantity", list);
	q = json_array_get(l, 0);
	return quantity_of(q, uri, grams, ctx);
}

/* The record id the bizTransaction of type (a CBV word or URI) names. */
static const char *
biz_transaction(const json_t *ev, const char *type)
{
	const json_t *l = json_object_get(ev, "bizTransactionList"), *x;
	size_t i;

	json_array_foreach(l, i, x)
	{
		const char *t = jstr(x, "type");
		if (t != NULL && strcmp(cbv_word(t, "BTT"), type) == 0)
			return jstr(x, "bizTransaction");
	}
	return NULL;
}

static int
resolve_ref(ls_epcis_resolve_fn resolve, void *arg, enum ls_epcis_ref kind, const char *uri,
	    uint8_t out[LS_ID_LEN], struct ls_err_ctx *ctx)
{
	int rc = resolve(arg, kind, uri, out);

	if (rc == LS_ERR_NOT_FOUND)
		return ls_err_set(ctx, LS_ERR_INVALID, "unknown %s '%.120s'",
				  kind == LS_EPCIS_REF_LOT ? "lot" : "record", uri);
	if (rc != 0)
		return ls_err_set(ctx, rc, "cannot look up '%.120s': %s", uri, ls_strerror(rc));
	return 0;
}

/* A text field into r's arena ("" when absent and optional). */
static int
text_of(struct ls_record *r, const json_t *o, const char *key, bool required, const char **out,
	struct ls_err_ctx *ctx)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL && !required) {
		*out = "";
		return 0;
	}
	if (!json_is_string(v))
		return ls_err_set(ctx, LS_ERR_INVALID, "%s %s", key,
				  v == NULL ? "is missing" : "is not a string");
	if ((*out = ls_record_strdup(r, json_string_value(v))) == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
	return 0;
}

static int
lotdef_of(struct ls_record *r, const json_t *o, uint64_t grams, struct ls_lotdef *d,
	  struct ls_err_ctx *ctx)
{
	const json_t *comp = json_object_get(o, "ls:composition"), *v;
	const char *k;
	int rc;

	if (!json_is_object(o))
		return ls_err_set(ctx, LS_ERR_INVALID, "ilmd is missing");
	if ((rc = text_of(r, o, "cbvmda:lotNumber", true, &d->label, ctx)) != 0 ||
	    (rc = text_of(r, o, "ls:category", true, &d->category, ctx)) != 0)
		return rc;
	d->grams = grams;
	if (!json_is_object(comp))
		return ls_err_set(ctx, LS_ERR_INVALID, "ls:composition is missing");
	d->comp.n = 0;
	json_object_foreach((json_t *)comp, k, v)
	{
		uint32_t z = ls_element_z(k);
		size_t j;
		if (z == 0)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "ls:composition: '%.8s' is no element", k);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > LS_PPM_TOTAL)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "ls:composition: %.8s is not a ppm count (0 to 1000000)",
					  k);
		if (d->comp.n == LS_COMP_MAX)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "ls:composition: more than %d elements", LS_COMP_MAX);
		/* sorted by z, as the record keeps it */
		for (j = d->comp.n; j > 0 && d->comp.e[j - 1].z > z; j--)
			d->comp.e[j] = d->comp.e[j - 1];
		d->comp.e[j].z = z;
		d->comp.e[j].ppm = (uint32_t)json_integer_value(v);
		d->comp.n++;
	}
	v = json_object_get(o, "ls:value");
	if (v != NULL && (!json_is_integer(v) || json_integer_value(v) < 0))
		return ls_err_set(ctx, LS_ERR_INVALID, "ls:value is not a whole number");
	d->value = v != NULL ? (uint64_t)json_integer_value(v) : 0;
	return 0;
}

static int
import_object(const json_t *ev, ls_epcis_resolve_fn resolve, void *arg, struct ls_epcis_import *im,
	      struct ls_err_ctx *ctx)
{
	const char *action = jstr(ev, "action"), *step = cbv_word(jstr(ev, "bizStep"), "BizStep");
	const char *uri, *s;
	uint64_t grams;
	struct ls_record *r;
	int rc;

	if (action != NULL && strcmp(action, "ADD") == 0 && strcmp(step, "commissioning") == 0) {
		const json_t *ilmd = json_object_get(ev, "ilmd");
		if ((rc = one_quantity(ev, "quantityList", &uri, &grams, ctx)) != 0)
			return rc;
		if ((r = im->r = ls_record_new(LS_REC_LOT)) == NULL)
			return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		if ((rc = lotdef_of(r, ilmd, grams, &r->lot.lot, ctx)) != 0 ||
		    (rc = text_of(r, ilmd, "ls:site", true, &r->lot.site, ctx)) != 0)
			return rc;
		s = jstr(ilmd, "cbvmda:countryOfOrigin");
		if (s == NULL || strlen(s) != LS_COUNTRY_LEN)
			return ls_err_set(
			    ctx, LS_ERR_INVALID,
			    "cbvmda:countryOfOrigin is not a two-letter country code");
		for (int i = 0; i < LS_COUNTRY_LEN; i++)
			r->lot.country[i] = (char)toupper((unsigned char)s[i]);
		im->lots[im->n_lots++] = uri;
		return 0;
	}
	if (action != NULL && strcmp(action, "OBSERVE") == 0 && strcmp(step, "shipping") == 0) {
		const json_t *dl = json_object_get(ev, "destinationList"), *x;
		const char *lic = biz_transaction(ev, "urn:lodestone:btt:license");
		bool to = false;
		size_t i;
		if ((rc = one_quantity(ev, "quantityList", &uri, &grams, ctx)) != 0)
			return rc;
		if ((r = im->r = ls_record_new(LS_REC_TRANSFER)) == NULL)
			return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		if ((rc = resolve_ref(resolve, arg, LS_EPCIS_REF_LOT, uri, r->transfer.lot, ctx)) !=
		    0)
			return rc;
		r->transfer.has_lot = true;
		r->transfer.grams = grams;
		json_array_foreach(dl, i, x)
		{
			if (strcmp(cbv_word(jstr(x, "type"), "SDT"), "owning_party") == 0 &&
			    urn_parse(jstr(x, "destination"), "party", r->transfer.to))
				to = true;
		}
		if (!to)
			return ls_err_set(
			    ctx, LS_ERR_INVALID,
			    "destinationList names no owning_party urn:lodestone:party:");
		if (lic != NULL) {
			if ((rc = resolve_ref(resolve, arg, LS_EPCIS_REF_RECORD, lic,
					      r->transfer.license, ctx)) != 0)
				return rc;
			r->transfer.has_license = true;
		}
		if ((s = jstr(ev, "ls:toCertificate")) != NULL) {
			if (!urn_parse(s, "record", r->transfer.to_cert))
				return ls_err_set(ctx, LS_ERR_INVALID,
						  "ls:toCertificate is not urn:lodestone:record:");
			im->has_to_cert = true;
		}
		if ((rc = text_of(r, ev, "ls:endUse", false, &r->transfer.end_use, ctx)) != 0 ||
		    (rc = text_of(r, ev, "ls:description", false, &r->transfer.description, ctx)) !=
			0)
			return rc;
		r->transfer.tech = "";
		return 0;
	}
	if (action != NULL && strcmp(action, "OBSERVE") == 0 && strcmp(step, "receiving") == 0) {
		const char *tr = biz_transaction(ev, "desadv");
		if (tr == NULL)
			return ls_err_set(
			    ctx, LS_ERR_INVALID,
			    "a receiving event names no transfer (bizTransaction desadv)");
		if ((rc = one_quantity(ev, "quantityList", &uri, &grams, ctx)) != 0)
			return rc;
		if ((r = im->r = ls_record_new(LS_REC_RECEIPT)) == NULL)
			return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		if ((rc = resolve_ref(resolve, arg, LS_EPCIS_REF_RECORD, tr, r->receipt.transfer,
				      ctx)) != 0)
			return rc;
		r->receipt.grams = grams;
		return text_of(r, ev, "ls:reason", false, &r->receipt.reason, ctx);
	}
	return ls_err_set(ctx, LS_ERR_INVALID,
			  "an ObjectEvent with action %.10s and bizStep '%.40s' has no Lodestone "
			  "record (ADD commissioning, OBSERVE shipping or OBSERVE receiving)",
			  action != NULL ? action : "(none)", step);
}

static int
import_transformation(const json_t *ev, ls_epcis_resolve_fn resolve, void *arg,
		      struct ls_epcis_import *im, struct ls_err_ctx *ctx)
{
	const json_t *in = json_object_get(ev, "inputQuantityList"),
		     *out = json_object_get(ev, "outputQuantityList"),
		     *ilmd = json_object_get(ev, "ilmd"),
		     *defs = json_object_get(ilmd, "ls:outputs"), *q;
	struct ls_lot_input *inputs;
	struct ls_lotdef *outputs;
	struct ls_record *r;
	size_t i;
	int rc;

	if (!json_is_array(in) || json_array_size(in) == 0 || json_array_size(in) > LS_LIST_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "inputQuantityList must hold 1 to %d quantities", LS_LIST_MAX);
	if (!json_is_array(out) || json_array_size(out) == 0 || json_array_size(out) > LS_LIST_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "outputQuantityList must hold 1 to %d quantities", LS_LIST_MAX);
	if (!json_is_array(defs) || json_array_size(defs) != json_array_size(out))
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "ilmd ls:outputs must describe each output (label, category, "
				  "composition)");
	if ((r = im->r = ls_record_new(LS_REC_TRANSFORMATION)) == NULL ||
	    (inputs = ls_record_alloc(r, json_array_size(in) * sizeof(*inputs))) == NULL ||
	    (outputs = ls_record_alloc(r, json_array_size(out) * sizeof(*outputs))) == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
	json_array_foreach(in, i, q)
	{
		const char *uri;
		if ((rc = quantity_of(q, &uri, &inputs[i].grams, ctx)) != 0 ||
		    (rc = resolve_ref(resolve, arg, LS_EPCIS_REF_LOT, uri, inputs[i].lot, ctx)) !=
			0)
			return rc;
	}
	json_array_foreach(out, i, q)
	{
		const json_t *d = json_array_get(defs, i);
		const char *uri, *named = jstr(d, "ls:lot");
		uint64_t grams;
		if ((rc = quantity_of(q, &uri, &grams, ctx)) != 0)
			return rc;
		if (named != NULL && strcmp(named, uri) != 0)
			return ls_err_set(
			    ctx, LS_ERR_INVALID,
			    "ls:outputs[%zu] describes '%.80s', output %zu is '%.80s'", i, named, i,
			    uri);
		if ((rc = lotdef_of(r, d, grams, &outputs[i], ctx)) != 0)
			return rc;
		im->lots[im->n_lots++] = uri;
	}
	r->transformation.n_inputs = json_array_size(in);
	r->transformation.inputs = inputs;
	r->transformation.n_outputs = json_array_size(out);
	r->transformation.outputs = outputs;
	return text_of(r, ilmd, "ls:site", false, &r->transformation.site, ctx);
}

/* The Lodestone party of the owning_party entries of list (sourceList or
 * destinationList, under key idkey) into *found / who; LS_ERR_INVALID when
 * it names two. */
static int
owning_party(const json_t *ev, const char *list, const char *idkey, bool *found,
	     uint8_t who[LS_KEY_LEN], struct ls_err_ctx *ctx)
{
	const json_t *l = json_object_get(ev, list), *x;
	uint8_t k[LS_KEY_LEN];
	size_t i;

	*found = false;
	json_array_foreach(l, i, x)
	{
		if (strcmp(cbv_word(jstr(x, "type"), "SDT"), "owning_party") != 0 ||
		    !urn_parse(jstr(x, idkey), "party", k))
			continue;
		if (*found && memcmp(k, who, LS_KEY_LEN) != 0)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "%s names two Lodestone parties as owning_party", list);
		memcpy(who, k, LS_KEY_LEN);
		*found = true;
	}
	return 0;
}

int
ls_epcis_event_signer(const json_t *event, bool *found, uint8_t signer[LS_KEY_LEN],
		      struct ls_err_ctx *ctx)
{
	const json_t *s = json_object_get(event, "ls:signer");
	const char *step = cbv_word(jstr(event, "bizStep"), "BizStep");
	const char *list = NULL, *idkey = NULL;
	uint8_t party[LS_KEY_LEN];
	bool has_party = false;
	int rc;

	*found = false;
	if (s != NULL) {
		if (!urn_parse(json_string_value(s), "party", signer))
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "ls:signer is not a string urn:lodestone:party:HEX");
		*found = true;
	}
	/* The shipper ships, the receiver receives: the party that signs. */
	if (strcmp(step, "shipping") == 0)
		list = "sourceList", idkey = "source";
	else if (strcmp(step, "receiving") == 0)
		list = "destinationList", idkey = "destination";
	if (list != NULL && (rc = owning_party(event, list, idkey, &has_party, party, ctx)) != 0)
		return rc;
	if (has_party && *found && memcmp(party, signer, LS_KEY_LEN) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "%s names another owning_party than ls:signer", list);
	if (has_party && !*found) {
		memcpy(signer, party, LS_KEY_LEN);
		*found = true;
	}
	return 0;
}

int
ls_epcis_import_event(const json_t *event, ls_epcis_resolve_fn resolve, void *arg,
		      struct ls_epcis_import *out, struct ls_err_ctx *ctx)
{
	const char *type = jstr(event, "type");
	char t[32];
	uint64_t ms;
	int rc;

	memset(out, 0, sizeof(*out));
	if (type == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "the event has no type");
	if (strcmp(type, "ObjectEvent") != 0 && strcmp(type, "TransformationEvent") != 0)
		return ls_err_set(
		    ctx, LS_ERR_INVALID,
		    "%.40s has no Lodestone record (ObjectEvent and TransformationEvent "
		    "do)",
		    type);
	if (ls_epcis_time_norm(jstr(event, "eventTime"), t, &ms) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "eventTime is missing or not an RFC 3339 time");
	{
		/* Under any spelling (its IRI, a prefixed name): a declaration
		 * is never taken for an extension and imported. */
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)event, k, v)
		{
			if (names_term(k, "errorDeclaration"))
				return ls_err_set(ctx, LS_ERR_INVALID,
						  "an event with an errorDeclaration (%.80s) is "
						  "declared wrong: not imported",
						  k);
		}
	}
	rc = strcmp(type, "ObjectEvent") == 0
		 ? import_object(event, resolve, arg, out, ctx)
		 : import_transformation(event, resolve, arg, out, ctx);
	if (rc != 0) {
		ls_epcis_import_release(out);
		return rc;
	}
	/* Lodestone keeps seconds: the milliseconds of eventTime are dropped. */
	out->r->timestamp = ms / 1000;
	out->orig = jstr(event, "ls:recordID");
	if ((rc = ls_epcis_event_signer(event, &out->has_signer, out->signer, ctx)) != 0) {
		ls_epcis_import_release(out);
		return rc;
	}
	return 0;
}

void
ls_epcis_import_release(struct ls_epcis_import *im)
{
	if (im == NULL)
		return;
	ls_record_free(im->r);
	memset(im, 0, sizeof(*im));
}
