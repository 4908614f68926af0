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

/* ---- values ---- */

static char *
trimmed(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
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
	if (d == (double)(long long)d && d > -1e15 && d < 1e15) {
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

/* Splits "a.b.c" into at most 3 parts (in buf); returns how many. */
static size_t
split_dots(const char *s, char buf[256], char *part[3])
{
	size_t n = 0;
	char *p;

	if (strlen(s) >= 256)
		return 0;
	strcpy(buf, s);
	part[n++] = buf;
	for (p = buf; *p != '\0'; p++)
		if (*p == '.') {
			if (n == 3)
				return 0;
			*p = '\0';
			part[n++] = p + 1;
		}
	return n;
}

/* An EPC URN (TDS 2.0) as a Digital Link URI; NULL when s is not one we
 * convert. */
static char *
epc_to_dl(const char *s)
{
	static const struct {
		const char *urn;
		int kind;
	} schemes[] = {
	    {"urn:epc:id:sgtin:", 1},  {"urn:epc:class:lgtin:", 2}, {"urn:epc:idpat:sgtin:", 3},
	    {"urn:epc:id:sscc:", 4},   {"urn:epc:id:sgln:", 5},     {"urn:epc:id:pgln:", 6},
	    {"urn:epc:id:gdti:", 7},   {"urn:epc:id:giai:", 8},
	};
	char buf[256], *part[3], key[40], out[512];
	size_t n, cl, rl;
	int kind = 0;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strncmp(s, schemes[i].urn, strlen(schemes[i].urn)) == 0) {
			kind = schemes[i].kind;
			s += strlen(schemes[i].urn);
			break;
		}
	if (kind == 0 || (n = split_dots(s, buf, part)) < 2)
		return NULL;
	cl = strlen(part[0]);
	rl = strlen(part[1]);
	if (!all_digits(part[0], cl))
		return NULL;
	switch (kind) {
	case 1:
	case 2:
	case 3: /* GTIN-14: indicator, company prefix, item reference, check */
		if (n != 3 || !all_digits(part[1], rl) || cl + rl != 13)
			return NULL;
		snprintf(key, sizeof(key), "%c%s%s", part[1][0], part[0], part[1] + 1);
		key[13] = gs1_check(key, 13);
		key[14] = '\0';
		if (kind == 3 && strcmp(part[2], "*") == 0)
			snprintf(out, sizeof(out), "https://id.gs1.org/01/%s", key);
		else if (kind == 3)
			return NULL;
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/01/%s/%s/%s", key,
				 kind == 1 ? "21" : "10", part[2]);
		break;
	case 4: /* SSCC-18: extension digit, company prefix, serial reference, check */
		if (n != 2 || !all_digits(part[1], rl) || cl + rl != 17)
			return NULL;
		snprintf(key, sizeof(key), "%c%s%s", part[1][0], part[0], part[1] + 1);
		key[17] = gs1_check(key, 17);
		key[18] = '\0';
		snprintf(out, sizeof(out), "https://id.gs1.org/00/%s", key);
		break;
	case 5:
	case 6: /* GLN-13 (/414 a location, /417 a party), /254 the extension */
		if (n != (kind == 5 ? 3u : 2u) || cl + rl != 12 ||
		    (rl > 0 && !all_digits(part[1], rl)))
			return NULL;
		snprintf(key, sizeof(key), "%s%s", part[0], part[1]);
		key[12] = gs1_check(key, 12);
		key[13] = '\0';
		if (kind == 5 && strcmp(part[2], "0") != 0)
			snprintf(out, sizeof(out), "https://id.gs1.org/414/%s/254/%s", key, part[2]);
		else
			snprintf(out, sizeof(out), "https://id.gs1.org/%s/%s", kind == 5 ? "414" : "417",
				 key);
		break;
	case 7: /* GDTI: company prefix, document type, check, serial */
		if (n != 3 || cl + rl != 12 || (rl > 0 && !all_digits(part[1], rl)))
			return NULL;
		snprintf(key, sizeof(key), "%s%s", part[0], part[1]);
		key[12] = gs1_check(key, 12);
		key[13] = '\0';
		snprintf(out, sizeof(out), "https://id.gs1.org/253/%s%s", key, part[2]);
		break;
	case 8: /* GIAI: company prefix and asset reference */
		if (n != 2)
			return NULL;
		snprintf(out, sizeof(out), "https://id.gs1.org/8004/%s%s", part[0], part[1]);
		break;
	default: return NULL;
	}
	return strdup(out);
}

/* Primary keys of GS1 Digital Link paths (the first path segment). */
static bool
dl_primary(const char *seg, size_t n)
{
	static const char *const ais[] = {"00",  "01",  "253", "255",  "401",  "402",  "414",
					  "417", "8003", "8004", "8006", "8010", "8017", "8018"};
	for (size_t i = 0; i < sizeof(ais) / sizeof(ais[0]); i++)
		if (strlen(ais[i]) == n && memcmp(ais[i], seg, n) == 0)
			return true;
	return false;
}

/* A GS1 Digital Link URI of any domain as one on id.gs1.org, its query
 * dropped; NULL when s is not one. */
static char *
dl_canonical(const char *s)
{
	const char *p, *seg, *end, *q;
	struct sbuf b = {0};

	if (strncmp(s, "https://", 8) == 0)
		p = s + 8;
	else if (strncmp(s, "http://", 7) == 0)
		p = s + 7;
	else
		return NULL;
	if ((seg = strchr(p, '/')) == NULL)
		return NULL;
	seg++;
	if ((end = strchr(seg, '/')) == NULL || !dl_primary(seg, (size_t)(end - seg)) ||
	    !isdigit((unsigned char)end[1]))
		return NULL;
	q = strchr(seg, '?');
	sb_add(&b, "https://id.gs1.org/");
	sb_addn(&b, seg, q != NULL ? (size_t)(q - seg) : strlen(seg));
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
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
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
static const char *const std_meta[] = {"time",    "startTime",		 "endTime",  "deviceID",
				       "deviceMetadata", "rawData", "dataProcessingMethod",
				       "bizRules", NULL};
static const char *const std_report[] = {
    "type",	       "exception",  "deviceID",	 "deviceMetadata", "rawData",
    "dataProcessingMethod", "time",	     "microorganism",	 "chemicalSubstance", "value",
    "component",	 "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
    "minValue",	       "maxValue",   "meanValue",	 "sDev",	   "percRank",
    "percValue",	 "uom",	     "coordinateReferenceSystem", NULL};
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
	static const char *const nums[] = {"value",	"minValue", "maxValue", "meanValue",
					   "sDev",	"percRank", "percValue", NULL};
	static const char *const plains[] = {"component",	   "stringValue", "booleanValue",
					     "hexBinaryValue", "uom",	  "coordinateReferenceSystem",
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
static const char *const top_skip[] = {"type",		  "isA",	 "eventID",
				       "recordTime",	  "errorDeclaration", "certificationInfo",
				       NULL};

int
ls_epcis_prehash(const json_t *event, const struct ls_epcis_ns *ns, char **out,
		 struct ls_err_ctx *ctx)
{
	struct ph h = {ns, ctx, 0};
	struct sbuf b = {0};
	const json_t *type, *v;

	*out = NULL;
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
			if (k[0] == '@' || in_list(k, top_order) || in_list(k, top_skip))
				continue;
			ph_ext(&h, &l, k, x, 1);
		}
		sv_flush(&l, &b);
	}
	if (h.err == 0 && b.err != 0)
		ph_fail(&h, b.err, "(event)");
	if (h.err != 0) {
		free(b.p);
		return h.err;
	}
	*out = sb_take(&b);
	return *out != NULL ? 0 : ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
}

int
ls_epcis_event_hash(const json_t *event, const struct ls_epcis_ns *ns,
		    char out[LS_EPCIS_HASH_LEN], struct ls_err_ctx *ctx)
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
