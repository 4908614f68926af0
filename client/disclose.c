/*
 * disclose.c - `disclose LOT`: the provenance report a contractor hands over
 * (NDAA FY2023 s. 857): for the material of the lot, each stage with its
 * countries, sites, organisations and shares (origin --stages), the
 * certificates and licenses of the chain and its border crossings, and the
 * proof bundle that lets the recipient check every line offline
 * (verify-bundle, origin of the bundle's records).
 *
 * One document (lodestone-disclosure/1, a JSON object) is built, and the
 * text and HTML are rendered from it, so the three cannot disagree. The
 * certificates, licenses and crossings are read from the bundle's records
 * themselves: everything the report names is in the bundle.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "util.h"

#include "client.h"

#define DISCLOSE_LIST_MAX 4096 /* certificates, licenses, crossings listed */

struct idset {
	size_t n, cap;
	uint8_t (*v)[LS_ID_LEN];
};

static bool
idset_has(const struct idset *s, const uint8_t id[LS_ID_LEN])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i], id, LS_ID_LEN) == 0)
			return true;
	return false;
}

static int
idset_add(struct idset *s, const uint8_t id[LS_ID_LEN])
{
	if (idset_has(s, id) || s->n >= DISCLOSE_LIST_MAX)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		uint8_t(*nv)[LS_ID_LEN] = realloc(s->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -1;
		s->v = nv;
		s->cap = cap;
	}
	memcpy(s->v[s->n++], id, LS_ID_LEN);
	return 0;
}

static json_t *
strlist_json(const struct ls_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

/* The certificate record of id among recs, or NULL. */
static const struct ls_record *
find_rec(struct ls_record **recs, size_t n, const uint8_t id[LS_ID_LEN], enum ls_rtype type)
{
	for (size_t i = 0; i < n; i++)
		if (recs[i] != NULL && recs[i]->type == type &&
		    memcmp(recs[i]->id, id, LS_ID_LEN) == 0)
			return recs[i];
	return NULL;
}

/* Whether transfer t is on the chain of lot: it ships the lot itself, or
 * its receiver consumed what it shipped in a transformation of the bundle
 * (a bundle also carries an ancestor's shipments to others). */
static bool
on_chain(struct ls_record **recs, size_t n, const struct ls_record *t, const uint8_t lot[LS_ID_LEN])
{
	if (memcmp(t->transfer.lot, lot, LS_ID_LEN) == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		const struct ls_record *r = recs[i];
		if (r->type != LS_REC_TRANSFORMATION ||
		    memcmp(r->author, t->transfer.to, LS_KEY_LEN))
			continue;
		for (size_t k = 0; k < r->transformation.n_inputs; k++)
			if (memcmp(r->transformation.inputs[k].lot, t->transfer.lot, LS_ID_LEN) ==
			    0)
				return true;
	}
	return false;
}

/*
 * Adds "certificates", "licenses" and "crossings" to doc from the bundle's
 * records: the certificates of the chain's makers and of both sides of its
 * transfers, the licenses those transfers cite, and every one of them
 * between two countries.
 */
static int
from_bundle(struct cli *c, json_t *doc, const char *path, const uint8_t lot[LS_ID_LEN])
{
	uint8_t *buf = NULL;
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0, buf_len = 0;
	struct ls_record **recs = NULL;
	struct idset certs = {0}, lics = {0};
	json_t *jc = json_array(), *jl = json_array(), *jx = json_array();
	bool said = false; /* a failure's message is printed */
	int rc;

	if ((rc = cli_bundle_read(c, path, &buf, &buf_len, &envs, &lens, &n)) != CLI_OK) {
		said = true;
		goto out;
	}
	rc = CLI_FAIL;
	if ((recs = calloc(n ? n : 1, sizeof(*recs))) == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct ls_err_ctx ctx = {{0}};
		if (ls_record_decode(envs[i], lens[i], &recs[i], &ctx) != 0) {
			cli_err("%s: the bundle's record %zu does not decode: %s", c->cmd, i,
				ctx.msg);
			said = true;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ls_record *r = recs[i];
		if (r->type == LS_REC_TRANSFER &&
		    (!r->transfer.has_lot || !on_chain(recs, n, r, lot)))
			continue;
		if (r->type != LS_REC_LOT && r->type != LS_REC_TRANSFORMATION &&
		    r->type != LS_REC_TRANSFER)
			continue; /* receipts; the authorities' feeds */
		if ((r->has_cert && idset_add(&certs, r->cert_id) != 0) ||
		    (r->type == LS_REC_TRANSFER &&
		     (idset_add(&certs, r->transfer.to_cert) != 0 ||
		      (r->transfer.has_license && idset_add(&lics, r->transfer.license) != 0))))
			goto out;
	}
	for (size_t i = 0; i < certs.n; i++) {
		const struct ls_record *r = find_rec(recs, n, certs.v[i], LS_REC_CERTIFICATE);
		json_t *x = json_object();
		char roles[128];
		if (r == NULL)
			continue;
		ls_roles_format(r->certificate.roles, roles, sizeof(roles));
		json_object_set_new(x, "id", out_json_hex(r->id, LS_ID_LEN));
		json_object_set_new(x, "org", json_string(r->certificate.org));
		json_object_set_new(x, "country", json_string(r->certificate.country));
		json_object_set_new(x, "roles", json_string(roles));
		json_object_set_new(x, "subject", out_json_hex(r->certificate.subject, LS_KEY_LEN));
		json_object_set_new(x, "issuer", out_json_hex(r->author, LS_KEY_LEN));
		json_array_append_new(jc, x);
	}
	for (size_t i = 0; i < lics.n; i++) {
		const struct ls_record *r = find_rec(recs, n, lics.v[i], LS_REC_LICENSE);
		json_t *x = json_object();
		if (r == NULL)
			continue;
		json_object_set_new(x, "id", out_json_hex(r->id, LS_ID_LEN));
		json_object_set_new(x, "number", json_string(r->license.number));
		json_object_set_new(x, "licensee", out_json_hex(r->license.licensee, LS_KEY_LEN));
		json_object_set_new(x, "issuer", out_json_hex(r->author, LS_KEY_LEN));
		json_object_set_new(x, "destinations", strlist_json(&r->license.destinations));
		json_object_set_new(x, "items", strlist_json(&r->license.items));
		json_object_set_new(x, "end_use", json_string(r->license.end_use));
		json_array_append_new(jl, x);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ls_record *r = recs[i], *fc, *tc, *lic = NULL;
		json_t *x;
		if (r->type != LS_REC_TRANSFER || !r->transfer.has_lot || !r->has_cert ||
		    !on_chain(recs, n, r, lot))
			continue;
		fc = find_rec(recs, n, r->cert_id, LS_REC_CERTIFICATE);
		tc = find_rec(recs, n, r->transfer.to_cert, LS_REC_CERTIFICATE);
		if (fc == NULL || tc == NULL ||
		    strcmp(fc->certificate.country, tc->certificate.country) == 0)
			continue;
		if (r->transfer.has_license)
			lic = find_rec(recs, n, r->transfer.license, LS_REC_LICENSE);
		x = json_object();
		json_object_set_new(x, "transfer", out_json_hex(r->id, LS_ID_LEN));
		json_object_set_new(x, "lot", out_json_hex(r->transfer.lot, LS_ID_LEN));
		json_object_set_new(x, "from", json_string(fc->certificate.country));
		json_object_set_new(x, "from_org", json_string(fc->certificate.org));
		json_object_set_new(x, "to", json_string(tc->certificate.country));
		json_object_set_new(x, "to_org", json_string(tc->certificate.org));
		json_object_set_new(x, "grams", json_integer((json_int_t)r->transfer.grams));
		json_object_set_new(x, "license",
				    lic ? json_string(lic->license.number) : json_null());
		json_object_set_new(x, "date", out_json_time(r->timestamp));
		json_array_append_new(jx, x);
	}
	json_object_set_new(doc, "certificates", jc);
	json_object_set_new(doc, "licenses", jl);
	json_object_set_new(doc, "crossings", jx);
	jc = jl = jx = NULL;
	/* The bundle itself, for a report that travels as one file. */
	{
		size_t b64_len = sodium_base64_ENCODED_LEN(buf_len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(b64_len);
		json_t *b = json_object_get(doc, "bundle");
		if (b64 == NULL)
			goto out;
		sodium_bin2base64(b64, b64_len, buf, buf_len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(b, "records", json_integer((json_int_t)n));
		json_object_set_new(b, "bytes", json_integer((json_int_t)buf_len));
		json_object_set_new(b, "base64", json_string(b64));
		free(b64);
	}
	rc = CLI_OK;
out:
	if (rc != CLI_OK && !said)
		cli_err("%s: out of memory", c->cmd);
	json_decref(jc);
	json_decref(jl);
	json_decref(jx);
	for (size_t i = 0; recs != NULL && i < n; i++)
		ls_record_free(recs[i]);
	free(recs);
	free(certs.v);
	free(lics.v);
	free(envs);
	free(lens);
	free(buf);
	return rc;
}

/* ---- rendering: text and HTML, from the document ---- */

static const char *
jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static uint64_t
jnum(json_t *o, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(o, key));
}

static double
pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static void
render_text(FILE *f, json_t *doc)
{
	const char *el;
	json_t *e, *x;
	size_t i;
	char m1[32];

	fprintf(f, "Provenance disclosure of lot %s (%s, %s)\n", jstr(doc, "lot"),
		jstr(doc, "label"), jstr(doc, "category"));
	if (json_object_get(doc, "holder"))
		fprintf(f, "the material held by %s\n", jstr(doc, "holder"));
	fprintf(f, "%s of material, as of %s\n\n",
		ls_grams_human(jnum(doc, "grams"), m1, sizeof(m1)), jstr(doc, "date"));
	json_object_foreach(json_object_get(doc, "elements"), el, e)
	{
		const char *stn, *sym = ls_element_symbol(ls_element_z(el));
		json_t *st;
		fprintf(f, "%s %s\n", sym ? sym : el,
			ls_grams_human(jnum(e, "grams"), m1, sizeof(m1)));
		json_object_foreach(json_object_get(e, "stages"), stn, st)
		{
			json_t *p;
			size_t k;
			fprintf(f, "  %s, %s:\n", stn,
				ls_grams_human(jnum(st, "grams"), m1, sizeof(m1)));
			json_array_foreach(json_object_get(st, "places"), k, p)
			{
				const char *cc = json_string_value(json_object_get(p, "country"));
				fprintf(f, "    %-7s %5.1f %%  %s  %s%s%s  record %s\n",
					cc ? cc : "unknown",
					pct(jnum(p, "grams"), jnum(e, "grams")),
					ls_grams_human(jnum(p, "grams"), m1, sizeof(m1)),
					cc ? jstr(p, "site") : "entered the ledger past this stage",
					cc && jstr(p, "site")[0] && jstr(p, "org")[0] ? ", " : "",
					cc ? jstr(p, "org") : "", jstr(p, "record"));
			}
		}
	}
	fprintf(f, "\nOrganisations (certificates)\n");
	json_array_foreach(json_object_get(doc, "certificates"), i, x)
	    fprintf(f, "  %s (%s), %s: certificate %s\n", jstr(x, "org"), jstr(x, "country"),
		    jstr(x, "roles"), jstr(x, "id"));
	fprintf(f, "\nBorder crossings\n");
	json_array_foreach(json_object_get(doc, "crossings"), i, x)
	    fprintf(f, "  %s -> %s, %s (%s -> %s), license %s: transfer %s\n", jstr(x, "from"),
		    jstr(x, "to"), ls_grams_human(jnum(x, "grams"), m1, sizeof(m1)),
		    jstr(x, "from_org"), jstr(x, "to_org"),
		    json_is_string(json_object_get(x, "license")) ? jstr(x, "license") : "none",
		    jstr(x, "transfer"));
	fprintf(f, "\nLicenses\n");
	json_array_foreach(json_object_get(doc, "licenses"), i, x)
	    fprintf(f, "  %s, end use %s: license %s\n", jstr(x, "number"), jstr(x, "end_use"),
		    jstr(x, "id"));
	x = json_object_get(doc, "bundle");
	fprintf(f,
		"\nProof: %" PRIu64 " records, %" PRIu64 " bytes%s%s; check it with\n"
		"  lodestone verify-bundle FILE --trust AUTHORITY.pub\n",
		jnum(x, "records"), jnum(x, "bytes"), json_object_get(x, "file") ? ", in " : "",
		jstr(x, "file"));
}

static void
html_esc(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

static void
render_html(FILE *f, json_t *doc)
{
	const char *el;
	json_t *e, *x;
	size_t i;
	char m1[32];

	fputs(
	    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>Provenance "
	    "disclosure</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em "
	    "auto}table{border-collapse:collapse;width:100%}td,th{border:1px solid "
	    "#999;padding:.2em .5em;text-align:left}code{font-size:.8em}</style>\n</head><body>\n",
	    f);
	fputs("<h1>Provenance disclosure</h1>\n<p>Lot <code>", f);
	html_esc(f, jstr(doc, "lot"));
	fputs("</code> (", f);
	html_esc(f, jstr(doc, "label"));
	fputs(", ", f);
	html_esc(f, jstr(doc, "category"));
	fprintf(f, "), %s of material, as of ", ls_grams_human(jnum(doc, "grams"), m1, sizeof(m1)));
	html_esc(f, jstr(doc, "date"));
	fputs(".</p>\n", f);
	json_object_foreach(json_object_get(doc, "elements"), el, e)
	{
		const char *stn;
		json_t *st;
		fputs("<h2>", f);
		html_esc(f, el);
		fprintf(f,
			" %s</h2>\n<table><tr><th>stage</th><th>country</th><th>share</th>"
			"<th>grams</th><th>site</th><th>organisation</th><th>record</th></tr>\n",
			ls_grams_human(jnum(e, "grams"), m1, sizeof(m1)));
		json_object_foreach(json_object_get(e, "stages"), stn, st)
		{
			json_t *p;
			size_t k;
			json_array_foreach(json_object_get(st, "places"), k, p)
			{
				const char *cc = json_string_value(json_object_get(p, "country"));
				fputs("<tr><td>", f);
				html_esc(f, stn);
				fputs("</td><td>", f);
				html_esc(f, cc ? cc : "unknown");
				fprintf(f, "</td><td>%.1f %%</td><td>%" PRIu64 "</td><td>",
					pct(jnum(p, "grams"), jnum(e, "grams")), jnum(p, "grams"));
				html_esc(f, cc ? jstr(p, "site")
					       : "entered the ledger past this stage");
				fputs("</td><td>", f);
				html_esc(f, jstr(p, "org"));
				fputs("</td><td><code>", f);
				html_esc(f, jstr(p, "record"));
				fputs("</code></td></tr>\n", f);
			}
		}
		fputs("</table>\n", f);
	}
	fputs("<h2>Organisations</h2>\n<table><tr><th>organisation</th><th>country</th>"
	      "<th>roles</th><th>certificate</th></tr>\n",
	      f);
	json_array_foreach(json_object_get(doc, "certificates"), i, x)
	{
		const char *cols[] = {"org", "country", "roles", "id"};
		fputs("<tr>", f);
		for (size_t k = 0; k < 4; k++) {
			fputs(k == 3 ? "<td><code>" : "<td>", f);
			html_esc(f, jstr(x, cols[k]));
			fputs(k == 3 ? "</code></td>" : "</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n<h2>Border crossings</h2>\n<table><tr><th>from</th><th>to</th>"
	      "<th>grams</th><th>license</th><th>transfer</th></tr>\n",
	      f);
	json_array_foreach(json_object_get(doc, "crossings"), i, x)
	{
		fputs("<tr><td>", f);
		html_esc(f, jstr(x, "from"));
		fputs(" (", f);
		html_esc(f, jstr(x, "from_org"));
		fputs(")</td><td>", f);
		html_esc(f, jstr(x, "to"));
		fputs(" (", f);
		html_esc(f, jstr(x, "to_org"));
		fprintf(f, ")</td><td>%" PRIu64 "</td><td>", jnum(x, "grams"));
		html_esc(f, json_is_string(json_object_get(x, "license")) ? jstr(x, "license")
									  : "none");
		fputs("</td><td><code>", f);
		html_esc(f, jstr(x, "transfer"));
		fputs("</code></td></tr>\n", f);
	}
	x = json_object_get(doc, "bundle");
	fprintf(f,
		"</table>\n<h2>Proof</h2>\n<p>Every line above is checked offline from the proof "
		"bundle (%" PRIu64 " records, %" PRIu64 " bytes): <a download=\"lot.bundle\" "
		"href=\"data:application/octet-stream;base64,",
		jnum(x, "records"), jnum(x, "bytes"));
	fputs(jstr(x, "base64"), f);
	fputs("\">lot.bundle</a>, with <code>lodestone verify-bundle lot.bundle --trust "
	      "AUTHORITY.pub</code>.</p>\n</body></html>\n",
	      f);
}

int
cmd_disclose(struct cli *c, int argc, char **argv)
{
	enum { OPT_HTML = CLI_OPT_FIRST_LOCAL };
	static const struct option longopts[] = {{"html", no_argument, NULL, OPT_HTML},
						 {"output", required_argument, NULL, 'o'},
						 CLI_QUERY_LONGOPTS,
						 CLI_COMMON_LONGOPTS};
	struct ls_origin o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_export_query q;
	uint8_t lot[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1], bpath[4096], tmpdir[64] = "";
	const char *out = NULL, *label;
	uint64_t records = 0, bytes = 0;
	bool html = false;
	json_t *doc = NULL, *els, *b;
	FILE *f = stdout;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	memset(&o, 0, sizeof(o));
	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		if (ch == OPT_HTML) {
			html = true;
			continue;
		}
		if (ch == 'o') {
			out = optarg;
			continue;
		}
		if (ch != CLI_OPT_Q_FROM)
			return ch == '?' || ch < CLI_OPT_Q_FROM || ch > CLI_OPT_Q_AT
				   ? CLI_USAGE
				   : cli_usage_err(c, "disclose takes --from, -o and --html only");
		if ((rc = cli_query_opt(c, ch, optarg, &q)) != CLI_OK)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (html && c->json)
		return cli_usage_err(c, "--json and --html: give one");
	if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
		return rc;
	if ((rc = ls_api_origin_stages(c->api, lot, q.has_from ? q.from : NULL, &o, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, argv[optind]);
	rc = CLI_FAIL;
	if (q.has_from && o.grams == 0) {
		cli_err("%s: %s holds none of lot %s", c->cmd, ls_hex(q.from, LS_KEY_LEN, hex),
			ls_hex(lot, LS_ID_LEN, hex));
		goto out;
	}
	doc = json_object();
	els = json_object();
	json_object_set_new(doc, "format", json_string("lodestone-disclosure/1"));
	json_object_set_new(doc, "lot", out_json_hex(lot, LS_ID_LEN));
	label = cli_lot_label(c, lot);
	json_object_set_new(doc, "label", json_string(label ? label : ""));
	json_object_set_new(doc, "category", json_string(o.category));
	if (q.has_from)
		json_object_set_new(doc, "holder", out_json_hex(q.from, LS_KEY_LEN));
	json_object_set_new(doc, "grams", json_integer((json_int_t)o.grams));
	json_object_set_new(doc, "date", out_json_time((uint64_t)time(NULL)));
	for (size_t i = 0; i < o.n; i++) {
		json_t *x = json_object();
		char sym[4];
		json_object_set_new(x, "grams", json_integer((json_int_t)o.elems[i].grams));
		json_object_set_new(x, "stages", out_stages_json(&o.elems[i]));
		json_object_set_new(els, out_json_element(o.elems[i].z, sym), x);
	}
	json_object_set_new(doc, "elements", els);
	b = json_object();
	json_object_set_new(doc, "bundle", b);
	/* The bundle: beside the report (-o FILE: FILE.bundle), else in a
	 * temporary directory, read back into the document and removed. */
	if (out != NULL) {
		if ((size_t)snprintf(bpath, sizeof(bpath), "%s.bundle", out) >= sizeof(bpath)) {
			rc = cli_usage_err(c, "output path too long: '%s'", out);
			goto out;
		}
		json_object_set_new(b, "file", json_string(bpath));
	} else {
		const char *td = getenv("TMPDIR");
		snprintf(bpath, sizeof(bpath), "%s/lodestone-disclose.XXXXXX",
			 td && *td ? td : "/tmp");
		if (mkdtemp(bpath) == NULL) {
			cli_err("%s: cannot make a temporary directory: %s", c->cmd,
				strerror(errno));
			goto out;
		}
		snprintf(tmpdir, sizeof(tmpdir), "%.63s", bpath);
		cli_temp_dir(bpath);
		strncat(bpath, "/lot.bundle", sizeof(bpath) - strlen(bpath) - 1);
	}
	if ((rc = cli_bundle_to_file(c, argv[optind], lot, bpath, &records, &bytes)) != CLI_OK ||
	    (rc = from_bundle(c, doc, bpath, lot)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	if (out != NULL && (f = fopen(out, "w")) == NULL) {
		cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(errno));
		goto out;
	}
	if (c->json) {
		char *s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s == NULL) {
			cli_err("%s: out of memory", c->cmd);
			goto out;
		}
		fprintf(f, "%s\n", s);
		free(s);
	} else if (html) {
		render_html(f, doc);
	} else {
		render_text(f, doc);
	}
	if (f != stdout && fclose(f) != 0) {
		f = stdout;
		cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(errno));
		goto out;
	}
	f = stdout;
	rc = CLI_OK;
out:
	if (f != stdout)
		fclose(f);
	if (tmpdir[0] != '\0') {
		unlink(bpath);
		rmdir(tmpdir);
		cli_temp_dir(NULL);
	}
	json_decref(doc);
	ls_origin_release(&o);
	return rc;
}
