/*
 * query.c - the questions: verify, trace, origin, show, log, status. None of
 * them writes; all of them ask the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api.h"
#include "keyfile.h"
#include "util.h"

#include "client.h"

/* verify LOT: its provenance, or with --export-to an export check of it. */
int
cmd_verify(struct cli *c, int argc, char **argv)
{
	enum { OPT_LICENSE = CLI_OPT_FIRST_LOCAL };
	static const struct option longopts[] = {CLI_QUERY_LONGOPTS,
						 {"license", required_argument, NULL, OPT_LICENSE},
						 CLI_COMMON_LONGOPTS};
	struct ls_export_query q;
	struct ls_verdict v;
	struct ls_err_ctx ctx = {{0}};
	const char *license = NULL;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case CLI_OPT_Q_FROM:
		case CLI_OPT_Q_EXPORT_TO:
		case CLI_OPT_Q_END_USER:
		case CLI_OPT_Q_END_USE:
		case CLI_OPT_Q_AT:
			if ((rc = cli_query_opt(c, ch, optarg, &q)) != CLI_OK)
				return rc;
			break;
		case OPT_LICENSE: license = optarg; break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (q.destination[0] == '\0' && (q.has_end_user || q.end_use != NULL || license != NULL))
		return cli_usage_err(c, "--end-user, --end-use and --license need --export-to");
	if ((rc = cli_resolve_lot(c, argv[optind], q.lot)) != CLI_OK)
		return rc;
	if (license != NULL) {
		if ((rc = cli_resolve_license(c, license, q.license)) != CLI_OK)
			return rc;
		q.has_license = true;
	}
	ls_verdict_init(&v);
	if ((rc = ls_api_verify(c->api, &q, &v, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, argv[optind]);
	rc = out_verdict(c, &v, q.lot);
	ls_verdict_release(&v);
	return rc;
}

/* ---- participants by name, for trace ---- */

struct party {
	uint8_t key[LS_KEY_LEN];
	char name[LS_STR_MAX + 8];
};

struct parties {
	size_t n, cap;
	struct party *v;
};

/* "Org (CC)" of key from its certificate, else a short hex; never fails. */
static const char *
party_name(struct cli *c, struct parties *ps, const uint8_t key[LS_KEY_LEN])
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r = NULL;
	uint8_t cert[LS_ID_LEN], *env = NULL;
	size_t len = 0;
	char hex[LS_HEX_KEY_LEN + 1];
	struct party *p;

	for (size_t i = 0; i < ps->n; i++)
		if (memcmp(ps->v[i].key, key, LS_KEY_LEN) == 0)
			return ps->v[i].name;
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		struct party *v = realloc(ps->v, cap * sizeof(*v));
		if (v == NULL)
			return "?";
		ps->v = v;
		ps->cap = cap;
	}
	p = &ps->v[ps->n++];
	memcpy(p->key, key, LS_KEY_LEN);
	snprintf(p->name, sizeof(p->name), "%.12s", ls_hex(key, LS_KEY_LEN, hex));
	if (ls_api_cert_of(c->api, key, 0, cert, &ctx) == 0 &&
	    ls_api_get(c->api, cert, &env, &len, &ctx) == 0 &&
	    ls_record_decode(env, len, &r, &ctx) == 0 && r->type == LS_REC_CERTIFICATE)
		snprintf(p->name, sizeof(p->name), "%s (%s)", r->certificate.org,
			 r->certificate.country);
	ls_record_free(r);
	free(env);
	return p->name;
}

/* ---- trace ---- */

static const struct ls_trace_node *
find_node(const struct ls_trace *t, const uint8_t id[LS_ID_LEN])
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (memcmp(t->nodes[i].id, id, LS_ID_LEN) == 0)
			return &t->nodes[i];
	return NULL;
}

static void
print_node(struct cli *c, struct parties *ps, const struct ls_trace_node *n, bool down, int depth,
	   uint64_t edge_grams, bool seen)
{
	char hex[LS_HEX_KEY_LEN + 1];

	printf("%*s%s%.16s  '%s' %s %" PRIu64 " g (%s) by %s", 2 * depth, "",
	       depth == 0 ? ""
	       : down     ? "-> "
			  : "<- ",
	       ls_hex(n->id, LS_ID_LEN, hex), n->label, n->category, n->grams, n->country,
	       party_name(c, ps, n->holder));
	if (depth > 0)
		printf(", %" PRIu64 " g used", edge_grams);
	puts(seen ? "  (shown above)" : "");
}

static void
print_tree(struct cli *c, struct parties *ps, const struct ls_trace *t,
	   const struct ls_trace_node *n, bool down, int depth, uint64_t edge_grams, bool *seen)
{
	size_t idx = (size_t)(n - t->nodes);

	print_node(c, ps, n, down, depth, edge_grams, seen[idx]);
	if (seen[idx] || depth > 200)
		return;
	seen[idx] = true;
	for (size_t i = 0; i < t->n_edges; i++) {
		const struct ls_trace_edge *e = &t->edges[i];
		const struct ls_trace_node *next;
		if (memcmp(down ? e->from : e->to, n->id, LS_ID_LEN) != 0)
			continue;
		if ((next = find_node(t, down ? e->to : e->from)) != NULL)
			print_tree(c, ps, t, next, down, depth + 1, e->grams, seen);
	}
}

static void
trace_text(struct cli *c, const struct ls_trace *t, const uint8_t lot[LS_ID_LEN], bool down)
{
	struct parties ps = {0, 0, NULL};
	const struct ls_trace_node *root = find_node(t, lot);
	char hex[LS_HEX_KEY_LEN + 1];
	bool *seen = calloc(t->n_nodes + 1, sizeof(*seen));

	if (root != NULL && seen != NULL) {
		printf("%s of lot %s:\n", down ? "descendants" : "ancestors",
		       ls_hex(lot, LS_ID_LEN, hex));
		print_tree(c, &ps, t, root, down, 0, 0, seen);
	}
	if (t->n_transfers > 0)
		puts("transfers:");
	for (size_t i = 0; i < t->n_transfers; i++) {
		const struct ls_trace_transfer *x = &t->transfers[i];
		const struct ls_trace_node *n = find_node(t, x->lot);
		printf("  %.16s  '%s' %" PRIu64 " g  %s", ls_hex(x->record, LS_ID_LEN, hex),
		       n ? n->label : "?", x->grams, party_name(c, &ps, x->from));
		printf(" -> %s%s\n", party_name(c, &ps, x->to),
		       x->received ? "" : "  (in transit)");
		if (x->from_country[0] && x->to_country[0] &&
		    strcmp(x->from_country, x->to_country) != 0)
			printf("      export %s -> %s, %s%s\n", x->from_country, x->to_country,
			       x->has_license ? "license " : "no license",
			       x->has_license ? x->license_number : "");
		if (x->received && x->received_grams != x->grams)
			printf("      received %" PRIu64 " g; %" PRIu64 " g short%s%s\n",
			       x->received_grams, x->returned_grams, x->reason[0] ? ": " : "",
			       x->reason);
		if (x->returned_grams != 0 && !x->taken_back)
			printf("      %" PRIu64 " g returning to the sender (in transit, receipt "
			       "%.16s)\n",
			       x->returned_grams, ls_hex(x->receipt, LS_ID_LEN, hex));
		if (x->taken_back)
			printf("      %" PRIu64 " g returned to the sender%s\n",
			       x->taken_back_grams,
			       x->taken_back_grams == x->returned_grams ? "" : ";");
		if (x->taken_back && x->taken_back_grams != x->returned_grams)
			printf("      %" PRIu64 " g lost%s%s\n",
			       x->returned_grams - x->taken_back_grams,
			       x->loss_reason[0] ? ": " : "", x->loss_reason);
	}
	free(seen);
	free(ps.v);
}

static json_t *
node_json(const struct ls_trace_node *n)
{
	json_t *x = json_object();

	json_object_set_new(x, "id", out_json_hex(n->id, LS_ID_LEN));
	json_object_set_new(x, "label", json_string(n->label));
	json_object_set_new(x, "category", json_string(n->category));
	json_object_set_new(x, "grams", json_integer((json_int_t)n->grams));
	json_object_set_new(x, "country", json_string(n->country));
	json_object_set_new(x, "holder", out_json_hex(n->holder, LS_KEY_LEN));
	json_object_set_new(x, "record", out_json_hex(n->record, LS_ID_LEN));
	json_object_set_new(x, "made_by",
			    json_string(n->transformed ? "transformation" : "registration"));
	return x;
}

static json_t *
edge_json(const struct ls_trace_edge *e)
{
	json_t *x = json_object();

	json_object_set_new(x, "from", out_json_hex(e->from, LS_ID_LEN));
	json_object_set_new(x, "to", out_json_hex(e->to, LS_ID_LEN));
	json_object_set_new(x, "record", out_json_hex(e->record, LS_ID_LEN));
	json_object_set_new(x, "grams", json_integer((json_int_t)e->grams));
	json_object_set_new(x, "by", out_json_hex(e->by, LS_KEY_LEN));
	return x;
}

static json_t *
transfer_json(const struct ls_trace_transfer *e)
{
	json_t *x = json_object();

	json_object_set_new(x, "record", out_json_hex(e->record, LS_ID_LEN));
	json_object_set_new(x, "lot", out_json_hex(e->lot, LS_ID_LEN));
	json_object_set_new(x, "from", out_json_hex(e->from, LS_KEY_LEN));
	json_object_set_new(x, "to", out_json_hex(e->to, LS_KEY_LEN));
	json_object_set_new(x, "grams", json_integer((json_int_t)e->grams));
	json_object_set_new(x, "from_country", json_string(e->from_country));
	json_object_set_new(x, "to_country", json_string(e->to_country));
	if (e->has_license) {
		json_object_set_new(x, "license", out_json_hex(e->license, LS_ID_LEN));
		json_object_set_new(x, "license_number", json_string(e->license_number));
	}
	json_object_set_new(x, "received", json_boolean(e->received));
	if (e->received) {
		/* Every gram shipped is received, returned, on its way back
		 * or lost: received + returned + returning + lost = grams. */
		uint64_t back = e->taken_back ? e->taken_back_grams : 0;
		json_object_set_new(x, "receipt", out_json_hex(e->receipt, LS_ID_LEN));
		json_object_set_new(x, "received_grams",
				    json_integer((json_int_t)e->received_grams));
		json_object_set_new(x, "returned_grams", json_integer((json_int_t)back));
		json_object_set_new(
		    x, "returning_grams",
		    json_integer((json_int_t)(e->taken_back ? 0 : e->returned_grams)));
		json_object_set_new(
		    x, "lost_grams",
		    json_integer((json_int_t)(e->taken_back ? e->returned_grams - back : 0)));
		json_object_set_new(x, "reason", json_string(e->reason));
		if (e->taken_back)
			json_object_set_new(x, "loss_reason", json_string(e->loss_reason));
	}
	return x;
}

/* One element of a JSON list as out_json() prints it, after a comma but for
 * the first. */
static void
json_item(json_t *x, bool *first)
{
	if (!*first)
		putchar(',');
	*first = false;
	if (x != NULL)
		json_dumpf(x, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
	else
		fputs("null", stdout);
	json_decref(x);
}

/* A DOT string: quotes and backslashes escaped (so that no escape of
 * Graphviz's, \N \G \l \n, is ever read into a user's string), newlines as
 * \n, other control characters dropped. */
static void
dot_str(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			fputs("\\n", stdout);
			continue;
		}
		if (*s == '"' || *s == '\\')
			putchar('\\');
		if ((unsigned char)*s >= 0x20 && *s != 0x7f)
			putchar(*s);
	}
	putchar('"');
}

/* A label: the lines of fmt, each "\n" a line break; user strings go in as
 * %s and are escaped with the rest. */
static void dot_label(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
dot_label(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	dot_str(buf);
}

static const char *
category_colour(const char *cat)
{
	static const char *const map[][2] = {
	    {"ore", "#d9c7a7"},       {"concentrate", "#e3d3b5"}, {"oxide", "#f2e6c9"},
	    {"metal", "#c9d6e3"},     {"alloy", "#b5c7dd"},       {"magnet", "#f4b6b6"},
	    {"component", "#c8e6c9"}, {"product", "#a5d6a7"},     {"scrap", "#d7ccc8"}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(cat, map[i][0]) == 0)
			return map[i][1];
	return "#eeeeee";
}

#define DOT_FAULT   "#d00000"
#define DOT_WARNING "#e07000"
#define DOT_EXPORT  "#1f4fbf"

/*
 * The faults the picture paints: the reasons `verify LOT` gives (and those
 * of each holder's part), with the records they name. A reason that only
 * informs (exempt, de minimis, an unwitnessed record) paints nothing.
 */
struct dot_fault {
	uint8_t id[LS_ID_LEN];
	enum ls_reason code;
	bool warning;
};

struct dot_faults {
	size_t n, cap;
	struct dot_fault *v;
	enum ls_verdict_kind kind;
	char codes[256]; /* the distinct codes of the verdict, for the title */
};

static bool
informs(enum ls_reason r)
{
	return r == LS_R_OK || r == LS_R_EXEMPT || r == LS_R_DE_MINIMIS || r == LS_R_UNWITNESSED ||
	       r == LS_R_CONTROLLED;
}

static int
faults_add(struct dot_faults *f, const struct ls_verdict *v)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct ls_verdict_reason *r = &v->reasons[i];
		const char *code = ls_reason_code(r->code);
		size_t cl = strlen(code), have = strlen(f->codes);
		if (informs(r->code))
			continue;
		if (!r->warning && strstr(f->codes, code) == NULL &&
		    have + cl + 3 < sizeof(f->codes))
			snprintf(f->codes + have, sizeof(f->codes) - have, "%s%s", have ? ", " : "",
				 code);
		for (size_t k = 0; k < r->n_ids; k++) {
			if (f->n == f->cap) {
				size_t cap = f->cap ? 2 * f->cap : 16;
				struct dot_fault *nv = realloc(f->v, cap * sizeof(*nv));
				if (nv == NULL)
					return LS_ERR_NOMEM;
				f->v = nv;
				f->cap = cap;
			}
			memcpy(f->v[f->n].id, r->ids[k], LS_ID_LEN);
			f->v[f->n].code = r->code;
			f->v[f->n].warning = r->warning;
			f->n++;
		}
	}
	return 0;
}

/* The verdict on lot, its faults kept in f. */
static int
faults_load(struct cli *c, const uint8_t lot[LS_ID_LEN], struct dot_faults *f,
	    struct ls_err_ctx *ctx)
{
	struct ls_export_query q;
	struct ls_verdict v;
	int rc;

	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, LS_ID_LEN);
	ls_verdict_init(&v);
	if ((rc = ls_api_verify(c->api, &q, &v, ctx)) == 0) {
		f->kind = v.kind;
		rc = faults_add(f, &v);
		for (size_t i = 0; rc == 0 && i < v.n_parts; i++)
			rc = faults_add(f, &v.parts[i].v);
	}
	ls_verdict_release(&v);
	return rc;
}

/* "revoked, no-license" of the faults naming id (warnings too, but for a
 * fault), or NULL; *warning when only warnings name it. */
static const char *
faults_of(const struct dot_faults *f, const uint8_t id[LS_ID_LEN], char *buf, size_t len,
	  bool *warning)
{
	size_t have = 0;
	bool fault = false;

	buf[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		const char *code = ls_reason_code(f->v[i].code);
		if (memcmp(f->v[i].id, id, LS_ID_LEN) != 0 || strstr(buf, code) != NULL)
			continue;
		fault |= !f->v[i].warning;
		if (have + strlen(code) + 3 < len)
			have += (size_t)snprintf(buf + have, len - have, "%s%s", have ? ", " : "",
						 code);
	}
	*warning = !fault;
	return have ? buf : NULL;
}

/* ", color=..., penwidth=..." and the label line of a fault, or "". */
static void
fault_style(const char *codes, bool warning, const char **colour, char *line, size_t len)
{
	*colour = NULL;
	line[0] = '\0';
	if (codes == NULL)
		return;
	*colour = warning ? DOT_WARNING : DOT_FAULT;
	snprintf(line, len, "\n%s: %s", warning ? "WARNING" : "FAULT", codes);
}

static void
dot_legend(void)
{
	fputs("  subgraph cluster_legend {\n"
	      "    label=\"legend\"; style=\"rounded\"; color=\"#999999\"; fontsize=10;\n"
	      "    node [fontsize=9];\n"
	      "    edge [fontsize=8];\n"
	      "    \"legend_lot\" [shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", "
	      "label=\"lot\\nlabel\\ncategory, mass\\nmaker (country)\"];\n"
	      "    \"legend_process\" [shape=ellipse, style=filled, fillcolor=\"#ffffff\", "
	      "label=\"transformation\\nby maker (country)\"];\n"
	      "    \"legend_held\" [shape=box, style=\"rounded,dashed\", "
	      "label=\"the lot, held by\\nits receiver\"];\n"
	      "    \"legend_abroad\" [shape=box, style=\"rounded,dashed\", "
	      "label=\"held abroad\"];\n"
	      "    \"legend_fault\" [shape=box, style=\"rounded,filled\", fillcolor=\"#eeeeee\", "
	      "color=\"" DOT_FAULT "\", penwidth=3, fontcolor=\"" DOT_FAULT "\", "
	      "label=\"a record at fault\\nFAULT: reason code\"];\n"
	      "    \"legend_lot\" -> \"legend_process\" [label=\"mass used\"];\n"
	      "    \"legend_lot\" -> \"legend_held\" [label=\"transfer, mass\\n(dashed: in "
	      "transit)\"];\n"
	      "    \"legend_held\" -> \"legend_abroad\" [color=\"" DOT_EXPORT "\", "
	      "fontcolor=\"" DOT_EXPORT "\", penwidth=2, "
	      "label=\"export CN -> DE\\nlicense number\\nmass\"];\n"
	      "  }\n",
	      stdout);
}

static void
dot_head(const uint8_t lot[LS_ID_LEN], bool down, const struct dot_faults *f)
{
	char hex[LS_HEX_KEY_LEN + 1];

	printf("digraph lodestone {\n"
	       "  graph [rankdir=TB, fontname=\"Helvetica\", labelloc=t, fontsize=12, label=");
	dot_label("%s of lot %.16s: %s%s%s%s", down ? "descendants" : "provenance",
		  ls_hex(lot, LS_ID_LEN, hex), ls_verdict_name(f->kind), f->codes[0] ? " (" : "",
		  f->codes, f->codes[0] ? ")" : "");
	printf("];\n"
	       "  node [fontname=\"Helvetica\", fontsize=10];\n"
	       "  edge [fontname=\"Helvetica\", fontsize=9];\n");
	dot_legend();
}

/* The node of transformation rec by `by` (declared wherever it is met:
 * Graphviz merges a node's statements, and they are the same). */
static void
dot_process(struct cli *c, struct parties *ps, const struct dot_faults *f,
	    const uint8_t rec[LS_ID_LEN], const uint8_t by[LS_KEY_LEN])
{
	char hex[LS_HEX_KEY_LEN + 1], codes[256], line[300];
	const char *colour, *fc;
	bool warning;

	fc = faults_of(f, rec, codes, sizeof(codes), &warning);
	fault_style(fc, warning, &colour, line, sizeof(line));
	printf("  \"tf_%.16s\" [shape=ellipse, style=filled, fillcolor=\"#ffffff\", label=",
	       ls_hex(rec, LS_ID_LEN, hex));
	dot_label("transformation %.8s\nby %s%s", hex, party_name(c, ps, by), line);
	if (colour != NULL)
		printf(", color=\"%s\", fontcolor=\"%s\", penwidth=3", colour, colour);
	printf("];\n");
}

/* The lot held by key, who did not make it (it came by a transfer). */
static void
dot_held(struct cli *c, struct parties *ps, const uint8_t lot[LS_ID_LEN],
	 const uint8_t key[LS_KEY_LEN])
{
	char hex[LS_HEX_KEY_LEN + 1], hk[LS_HEX_KEY_LEN + 1];

	printf("  \"at_%.16s_%.16s\" [shape=box, style=\"rounded,dashed\", label=",
	       ls_hex(lot, LS_ID_LEN, hex), ls_hex(key, LS_KEY_LEN, hk));
	dot_label("held by %s\nlot %.8s", party_name(c, ps, key), hex);
	printf("];\n");
}

static void
dot_node(struct cli *c, struct parties *ps, const struct dot_faults *f,
	 const struct ls_trace_node *n, const uint8_t lot[LS_ID_LEN])
{
	char hex[LS_HEX_KEY_LEN + 1], rh[LS_HEX_KEY_LEN + 1], where[16], mass[32];
	char codes[256], line[300];
	const char *maker = party_name(c, ps, n->holder), *colour;
	size_t ml = strlen(maker);
	bool same, warning, wl;
	const char *fc = faults_of(f, n->record, codes, sizeof(codes), &warning);

	if (fc == NULL)
		fc = faults_of(f, n->id, codes, sizeof(codes), &warning);
	else if (faults_of(f, n->id, line, sizeof(line), &wl) != NULL)
		warning &= wl;
	fault_style(fc, warning, &colour, line, sizeof(line));
	/* "Org (CN)" already says where, unless it was made elsewhere. */
	snprintf(where, sizeof(where), " (%s)", n->country);
	same = ml >= 5 && strcmp(maker + ml - 5, where) == 0;
	printf("  \"lot_%.16s\" [shape=box, style=\"rounded,filled\", label=",
	       ls_hex(n->id, LS_ID_LEN, hex));
	dot_label("%s\n%s, %s\n%s%s%s\nlot %.12s%s", n->label, n->category,
		  ls_grams_human(n->grams, mass, sizeof(mass)), maker, same ? "" : "\nmade in ",
		  same ? "" : n->country, hex, line);
	printf(", fillcolor=\"%s\"", category_colour(n->category));
	if (colour != NULL)
		printf(", color=\"%s\", fontcolor=\"%s\", penwidth=3", colour, colour);
	else if (memcmp(n->id, lot, LS_ID_LEN) == 0)
		printf(", penwidth=2.5");
	printf("];\n");
	if (!n->transformed)
		return;
	/* The output of its transformation. */
	dot_process(c, ps, f, n->record, n->holder);
	printf("  \"tf_%.16s\" -> \"lot_%.16s\" [label=", ls_hex(n->record, LS_ID_LEN, rh), hex);
	dot_label("%s", mass);
	printf("];\n");
}

/* An input of a transformation, once (the trace repeats it per output). */
static void
dot_edge(struct cli *c, struct parties *ps, const struct dot_faults *f,
	 const struct ls_trace_edge *e)
{
	char hex[LS_HEX_KEY_LEN + 1], hk[LS_HEX_KEY_LEN + 1], rh[LS_HEX_KEY_LEN + 1], mass[32];

	if (e->repeat)
		return;
	dot_process(c, ps, f, e->record, e->by);
	ls_hex(e->from, LS_ID_LEN, hex);
	if (e->held) {
		dot_held(c, ps, e->from, e->by);
		printf("  \"at_%.16s_%.16s\"", hex, ls_hex(e->by, LS_KEY_LEN, hk));
	} else {
		printf("  \"lot_%.16s\"", hex);
	}
	printf(" -> \"tf_%.16s\" [label=", ls_hex(e->record, LS_ID_LEN, rh));
	dot_label("%s", ls_grams_human(e->grams, mass, sizeof(mass)));
	printf("];\n");
}

/* A transfer: from the lot (or the sender's holding of it) to the
 * receiver's holding; an export in blue with its license and countries. */
static void
dot_transfer(struct cli *c, struct parties *ps, const struct dot_faults *f,
	     const struct ls_trace_transfer *x)
{
	char hex[LS_HEX_KEY_LEN + 1], hk[LS_HEX_KEY_LEN + 1], mass[32], got[32], codes[256];
	char line[300], lic[LS_STR_MAX + 40], state[96];
	const char *colour, *fc;
	bool warning;
	bool abroad = x->from_country[0] != '\0' && x->to_country[0] != '\0' &&
		      strcmp(x->from_country, x->to_country) != 0;

	fc = faults_of(f, x->record, codes, sizeof(codes), &warning);
	fault_style(fc, warning, &colour, line, sizeof(line));
	dot_held(c, ps, x->lot, x->to);
	ls_hex(x->lot, LS_ID_LEN, hex);
	if (x->from_maker)
		printf("  \"lot_%.16s\"", hex);
	else
		printf("  \"at_%.16s_%.16s\"", hex, ls_hex(x->from, LS_KEY_LEN, hk));
	printf(" -> \"at_%.16s_%.16s\" [label=", hex, ls_hex(x->to, LS_KEY_LEN, hk));
	ls_grams_human(x->grams, mass, sizeof(mass));
	if (!x->received)
		snprintf(state, sizeof(state), " (in transit)");
	else if (x->received_grams != x->grams)
		snprintf(state, sizeof(state), "\nreceived %s",
			 ls_grams_human(x->received_grams, got, sizeof(got)));
	else
		state[0] = '\0';
	if (x->has_license)
		snprintf(lic, sizeof(lic), "\nlicense %s",
			 x->license_number[0] ? x->license_number : "(unknown)");
	else
		snprintf(lic, sizeof(lic), "%s", abroad ? "\nno license" : "");
	if (abroad)
		dot_label("export %s -> %s%s\n%s%s%s", x->from_country, x->to_country, lic, mass,
			  state, line);
	else
		dot_label("transfer %s%s%s%s", mass, lic, state, line);
	if (colour != NULL)
		printf(", color=\"%s\", fontcolor=\"%s\", penwidth=3", colour, colour);
	else if (abroad)
		printf(", color=\"" DOT_EXPORT "\", fontcolor=\"" DOT_EXPORT "\", penwidth=2");
	if (!x->received)
		printf(", style=dashed");
	printf("];\n");
}

/*
 * A trace printed as its chunks come: JSON and DOT element by element (the
 * chunks give every node, then every edge, then every transfer), so the
 * client holds one chunk (and, for DOT, the verdict's faults); text draws a
 * tree, so it gathers the whole trace first.
 */
enum trace_format { TRACE_TEXT, TRACE_JSON, TRACE_DOT };

struct trace_out {
	struct cli *c;
	enum trace_format format;
	const uint8_t *lot;
	bool down;
	bool started;
	int list; /* JSON: 0 nodes, 1 edges, 2 transfers */
	bool first;
	struct parties ps;
	struct ls_trace all;     /* text */
	struct dot_faults fault; /* DOT */
};

/* JSON: closes lists up to `list` and opens it. */
static void
json_list(struct trace_out *o, int list)
{
	static const char *const names[] = {"nodes", "edges", "transfers"};

	while (o->list < list) {
		o->list++;
		printf("],\"%s\":[", names[o->list]);
		o->first = true;
	}
}

static int
trace_print(void *arg, const struct ls_api_response *chunk)
{
	struct trace_out *o = arg;
	const struct ls_trace *t = &chunk->trace;

	if (o->format == TRACE_TEXT) {
		struct ls_trace *a = &o->all;
		void *p;
		if (t->n_nodes != 0) {
			if ((p = realloc(a->nodes,
					 (a->n_nodes + t->n_nodes) * sizeof(*a->nodes))) == NULL)
				return LS_ERR_NOMEM;
			a->nodes = p;
			memcpy(a->nodes + a->n_nodes, t->nodes, t->n_nodes * sizeof(*t->nodes));
			a->n_nodes += t->n_nodes;
		}
		if (t->n_edges != 0) {
			if ((p = realloc(a->edges,
					 (a->n_edges + t->n_edges) * sizeof(*a->edges))) == NULL)
				return LS_ERR_NOMEM;
			a->edges = p;
			memcpy(a->edges + a->n_edges, t->edges, t->n_edges * sizeof(*t->edges));
			a->n_edges += t->n_edges;
		}
		if (t->n_transfers != 0) {
			if ((p = realloc(a->transfers, (a->n_transfers + t->n_transfers) *
							   sizeof(*a->transfers))) == NULL)
				return LS_ERR_NOMEM;
			a->transfers = p;
			memcpy(a->transfers + a->n_transfers, t->transfers,
			       t->n_transfers * sizeof(*t->transfers));
			a->n_transfers += t->n_transfers;
		}
		return 0;
	}
	if (!o->started) {
		o->started = true;
		if (o->format == TRACE_DOT) {
			dot_head(o->lot, o->down, &o->fault);
		} else {
			char hex[LS_HEX_KEY_LEN + 1];
			printf("{\"lot\":\"%s\",\"direction\":\"%s\",\"nodes\":[",
			       ls_hex(o->lot, LS_ID_LEN, hex), o->down ? "down" : "up");
			o->first = true;
		}
	}
	for (size_t i = 0; i < t->n_nodes; i++)
		if (o->format == TRACE_DOT)
			dot_node(o->c, &o->ps, &o->fault, &t->nodes[i], o->lot);
		else
			json_item(node_json(&t->nodes[i]), &o->first);
	if (t->n_edges != 0 && o->format == TRACE_JSON)
		json_list(o, 1);
	for (size_t i = 0; i < t->n_edges; i++)
		if (o->format == TRACE_DOT)
			dot_edge(o->c, &o->ps, &o->fault, &t->edges[i]);
		else
			json_item(edge_json(&t->edges[i]), &o->first);
	if (t->n_transfers != 0 && o->format == TRACE_JSON)
		json_list(o, 2);
	for (size_t i = 0; i < t->n_transfers; i++)
		if (o->format == TRACE_DOT)
			dot_transfer(o->c, &o->ps, &o->fault, &t->transfers[i]);
		else
			json_item(transfer_json(&t->transfers[i]), &o->first);
	return ferror(stdout) ? LS_ERR_IO : 0;
}

/* Whether Graphviz's dot is an executable on PATH. */
static bool
dot_on_path(void)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path != NULL && *path != '\0') {
		const char *end = strchr(path, ':');
		size_t n = end != NULL ? (size_t)(end - path) : strlen(path);
		if (n == 0)
			snprintf(buf, sizeof(buf), "./dot");
		else
			snprintf(buf, sizeof(buf), "%.*s/dot", (int)n, path);
		if (access(buf, X_OK) == 0)
			return true;
		path = end != NULL ? end + 1 : NULL;
	}
	return false;
}

/* stdout sent into `dot -Tfmt [-o out]` (pid) until render_end; saved: the
 * stdout before. */
struct render {
	pid_t pid;
	int saved;
};

static int
render_begin(const char *fmt, const char *out, struct render *r)
{
	char type[16];
	int p[2];

	r->pid = -1;
	r->saved = -1;
	snprintf(type, sizeof(type), "-T%s", fmt);
	fflush(stdout);
	if (pipe(p) != 0)
		return -1;
	if ((r->pid = fork()) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (r->pid == 0) {
		dup2(p[0], STDIN_FILENO);
		close(p[0]);
		close(p[1]);
		if (out != NULL)
			execlp("dot", "dot", type, "-o", out, (char *)NULL);
		else
			execlp("dot", "dot", type, (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	/* A dot that dies makes writes fail (EPIPE), not the client. */
	signal(SIGPIPE, SIG_IGN);
	if ((r->saved = dup(STDOUT_FILENO)) < 0 || dup2(p[1], STDOUT_FILENO) < 0) {
		close(p[1]);
		return -1;
	}
	close(p[1]);
	return 0;
}

/* Ends the input of dot and waits for it: its exit status, or -1. */
static int
render_end(struct render *r)
{
	int st = -1;

	fflush(stdout);
	if (r->saved >= 0) {
		dup2(r->saved, STDOUT_FILENO);
		close(r->saved);
		r->saved = -1;
	}
	clearerr(stdout);
	if (r->pid > 0 && waitpid(r->pid, &st, 0) == r->pid)
		st = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	r->pid = -1;
	return st;
}

int
cmd_trace(struct cli *c, int argc, char **argv)
{
	enum { OPT_DOWN = CLI_OPT_FIRST_LOCAL, OPT_FORMAT };
	static const struct option longopts[] = {{"down", no_argument, NULL, OPT_DOWN},
						 {"format", required_argument, NULL, OPT_FORMAT},
						 {"output", required_argument, NULL, 'o'},
						 CLI_COMMON_LONGOPTS};
	static const char *const formats[] = {"text", "json", "dot", "svg", "png"};
	enum { TEXT, JSON, DOT, SVG, PNG } format = TEXT;
	struct ls_err_ctx ctx = {{0}};
	struct render r = {-1, -1};
	uint8_t lot[LS_ID_LEN];
	const char *out = NULL;
	bool down = false, found;
	int ch, rc, saved = -1, fd, st;

	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case OPT_DOWN: down = true; break;
		case OPT_FORMAT:
			found = false;
			for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
				if (strcmp(optarg, formats[i]) == 0) {
					format = (int)i;
					found = true;
				}
			if (!found)
				return cli_usage_err(
				    c, "--format '%s' unknown: text, json, dot, svg or png",
				    optarg);
			break;
		case 'o': out = optarg; break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (c->json && format == TEXT)
		format = JSON;
	if ((format == SVG || format == PNG) && !dot_on_path())
		return cli_usage_err(c,
				     "--format %s needs Graphviz's dot, which is not on PATH: "
				     "install Graphviz (sudo apt-get install graphviz), or use "
				     "--format dot and render it with dot -T%s",
				     formats[format], formats[format]);
	if (format == PNG && out == NULL && isatty(STDOUT_FILENO))
		return cli_usage_err(c, "a PNG is binary: give -o FILE or redirect the output");
	if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
		return rc;
	{
		struct trace_out o = {
		    c,     format == JSON ? TRACE_JSON : format == TEXT ? TRACE_TEXT : TRACE_DOT,
		    lot,   down,
		    false, 0,
		    true,  {0, 0, NULL},
		    {0},   {0, 0, NULL, LS_V_VALID, ""}};
		struct ls_api_request req = {.kind = LS_API_TRACE};
		memcpy(req.trace.lot, lot, LS_ID_LEN);
		req.trace.down = down;
		rc = o.format == TRACE_DOT ? faults_load(c, lot, &o.fault, &ctx) : 0;
		if (rc == 0 && out != NULL && format != SVG && format != PNG) {
			fflush(stdout);
			if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0666)) < 0 ||
			    (saved = dup(STDOUT_FILENO)) < 0 || dup2(fd, STDOUT_FILENO) < 0) {
				cli_err("trace: cannot write '%s': %s", out, strerror(errno));
				if (fd >= 0)
					close(fd);
				if (saved >= 0)
					close(saved);
				free(o.fault.v);
				return CLI_USAGE;
			}
			close(fd);
		}
		if (rc == 0 && (format == SVG || format == PNG) &&
		    render_begin(formats[format], out, &r) != 0) {
			cli_err("trace: cannot run dot: %s", strerror(errno));
			render_end(&r);
			free(o.fault.v);
			return CLI_FAIL;
		}
		if (rc == 0)
			rc = ls_api_stream(c->api, &req, trace_print, &o, &ctx);
		if (rc == 0 && o.format == TRACE_TEXT)
			trace_text(c, &o.all, lot, down);
		else if (rc == 0 && o.format == TRACE_DOT)
			printf("}\n");
		else if (rc == 0) {
			json_list(&o, 2);
			printf("]}\n");
		} else if (o.started) {
			putchar('\n'); /* the output so far is cut short: the error says so */
		}
		if (fflush(stdout) != 0 && rc == 0)
			rc = LS_ERR_IO;
		ls_trace_release(&o.all);
		free(o.ps.v);
		free(o.fault.v);
		st = r.pid > 0 ? render_end(&r) : 0;
		if (saved >= 0) {
			dup2(saved, STDOUT_FILENO);
			close(saved);
		}
		if ((rc != 0 || st != 0) && out != NULL)
			unlink(out);
		if (rc != 0 && rc != LS_ERR_IO)
			return cli_api_fail(c, rc, &ctx, argv[optind]);
		if (st != 0 || rc != 0) {
			cli_err("trace: dot -T%s failed (exit %d)", formats[format], st);
			return CLI_FAIL;
		}
	}
	return CLI_OK;
}

/* ---- origin ---- */

static json_t *
parts_json(const struct ls_origin_part *p, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, p[i].name, json_integer((json_int_t)p[i].grams));
	return o;
}

static void
parts_text(const char *what, const struct ls_origin_part *p, size_t n, uint64_t total)
{
	printf("  %-14s", what);
	for (size_t i = 0; i < n; i++) {
		char mass[32];
		printf("%s%s %s (%.1f %%)", i ? ", " : "", p[i].name,
		       ls_grams_human(p[i].grams, mass, sizeof(mass)),
		       total ? 100.0 * (double)p[i].grams / (double)total : 0.0);
	}
	puts(n ? "" : "-");
}

int
cmd_origin(struct cli *c, int argc, char **argv)
{
	enum { OPT_STAGES = CLI_OPT_FIRST_LOCAL };
	static const struct option longopts[] = {
	    {"stages", no_argument, NULL, OPT_STAGES}, CLI_QUERY_LONGOPTS, CLI_COMMON_LONGOPTS};
	struct ls_origin o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_export_query q;
	uint8_t lot[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1], khex[LS_HEX_KEY_LEN + 1];
	bool stages = false;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		if (ch == OPT_STAGES) {
			stages = true;
			continue;
		}
		if (ch != CLI_OPT_Q_FROM)
			return ch == '?' || ch < CLI_OPT_Q_FROM || ch > CLI_OPT_Q_AT
				   ? CLI_USAGE
				   : cli_usage_err(c, "origin takes --from and --stages only");
		if ((rc = cli_query_opt(c, ch, optarg, &q)) != CLI_OK)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
		return rc;
	memset(&o, 0, sizeof(o));
	if ((rc = (stages ? ls_api_origin_stages : ls_api_origin_of)(
		 c->api, lot, q.has_from ? q.from : NULL, &o, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, argv[optind]);
	if (q.has_from && o.grams == 0) {
		ls_origin_release(&o);
		cli_err("%s: %s holds none of lot %s", c->cmd, ls_hex(q.from, LS_KEY_LEN, khex),
			ls_hex(lot, LS_ID_LEN, hex));
		return CLI_FAIL;
	}
	if (c->json) {
		json_t *j = json_object(), *els = json_object();
		for (size_t i = 0; i < o.n; i++) {
			const struct ls_origin_elem *e = &o.elems[i];
			json_t *x = json_object();
			char sym[4];
			out_json_element(e->z, sym);
			json_object_set_new(x, "grams", json_integer((json_int_t)e->grams));
			json_object_set_new(x, "by_country",
					    parts_json(e->by_country, e->n_country));
			json_object_set_new(x, "by_mine", parts_json(e->by_mine, e->n_mine));
			json_object_set_new(x, "by_processing_country",
					    parts_json(e->by_processing, e->n_processing));
			if (stages)
				json_object_set_new(x, "stages", out_stages_json(e));
			json_object_set_new(els, sym, x);
		}
		json_object_set_new(j, "lot", out_json_hex(lot, LS_ID_LEN));
		if (q.has_from)
			json_object_set_new(j, "holder", out_json_hex(q.from, LS_KEY_LEN));
		json_object_set_new(j, "grams", json_integer((json_int_t)o.grams));
		json_object_set_new(j, "elements", els);
		out_json(j);
	} else {
		char mass[32];
		printf("origin of lot %s\n", ls_hex(lot, LS_ID_LEN, hex));
		if (q.has_from)
			printf("the %s held by %s\n", ls_grams_human(o.grams, mass, sizeof(mass)),
			       ls_hex(q.from, LS_KEY_LEN, khex));
		for (size_t i = 0; i < o.n; i++) {
			const struct ls_origin_elem *e = &o.elems[i];
			printf("%s %s\n", ls_element_symbol(e->z),
			       ls_grams_human(e->grams, mass, sizeof(mass)));
			parts_text("mined in", e->by_country, e->n_country, e->grams);
			parts_text("mines", e->by_mine, e->n_mine, e->grams);
			parts_text("processed in", e->by_processing, e->n_processing, e->grams);
			if (stages)
				out_stages_text(e);
		}
	}
	ls_origin_release(&o);
	return CLI_OK;
}

/* ---- show ---- */

static const char *
show_key_namer(void *arg, const uint8_t key[LS_KEY_LEN])
{
	return cli_key_name(arg, key);
}

static const char *
show_lot_namer(void *arg, const uint8_t lot[LS_ID_LEN])
{
	return cli_lot_label(arg, lot);
}

int
cmd_show(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct ls_record *r = NULL;
	struct ls_err_ctx ctx = {{0}};
	uint8_t id[LS_ID_LEN], lot[LS_ID_LEN], *env = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	bool is_lot = false, made_by;
	size_t len = 0;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which record? give ID");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	/* a record id (or prefix), else a lot id, prefix or label: the record
	 * that made the lot */
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	rc = ls_api_resolve(c->api, LS_RESOLVE_RECORD, argv[optind], id, &ctx);
	if (rc == LS_ERR_NOT_FOUND || rc == LS_ERR_INVALID) {
		memset(&ctx, 0, sizeof(ctx));
		rc = ls_api_resolve(c->api, LS_RESOLVE_LOT, argv[optind], lot, &ctx);
		if (rc == LS_ERR_NOT_FOUND || rc == LS_ERR_INVALID) {
			cli_err("%s: unknown record or lot '%s'", c->cmd, argv[optind]);
			return CLI_USAGE;
		}
		if (rc != 0)
			return cli_api_fail(c, rc, &ctx, argv[optind]);
		memcpy(id, lot, LS_ID_LEN);
		is_lot = true;
	} else if ((rc = cli_resolve_record(c, argv[optind], id)) != CLI_OK) {
		return rc;
	}
	if ((rc = ls_api_get(c->api, id, &env, &len, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, argv[optind]);
	if ((rc = ls_record_decode(env, len, &r, &ctx)) != 0) {
		cli_err("%s: record '%s' from the daemon does not decode: %s", c->cmd, argv[optind],
			ctx.msg);
		free(env);
		return CLI_FAIL;
	}
	made_by = is_lot && memcmp(r->id, lot, LS_ID_LEN) != 0;
	if (c->json) {
		json_t *o = out_record_json(r);
		json_object_set_new(o, "signature_valid", json_boolean(ls_record_verify(r) == 0));
		if (made_by)
			json_object_set_new(o, "made_lot", out_json_hex(lot, LS_ID_LEN));
		out_json(o);
	} else {
		if (made_by)
			printf("lot %s is an output of this record\n", ls_hex(lot, LS_ID_LEN, hex));
		out_set_namers(show_key_namer, show_lot_namer, c);
		out_record_text(r);
		out_set_namers(NULL, NULL, NULL);
		printf("%-16s %s\n", "signature check", ls_record_verify(r) == 0 ? "good" : "BAD");
	}
	ls_record_free(r);
	free(env);
	return CLI_OK;
}

/* ---- log ---- */

#define LOG_ENOUGH 1 /* log_print: the limit is reached */

struct log_out {
	struct cli *c;
	struct out_progress *prog;
	uint64_t limit, shown;
	int rc;
};

/* Prints the records of one chunk of the log stream. */
static int
log_print(void *arg, const struct ls_api_response *chunk)
{
	struct log_out *lo = arg;
	const struct ls_api_log_page *page = &chunk->log;
	struct ls_err_ctx ctx = {{0}};
	char hex[LS_HEX_KEY_LEN + 1], tbuf[40], sum[512];

	for (size_t i = 0; i < page->n; i++) {
		struct ls_record *r = NULL;
		if (lo->limit != 0 && lo->shown >= lo->limit)
			return LOG_ENOUGH;
		if (ls_record_decode(page->entries[i].env, page->entries[i].len, &r, &ctx) != 0) {
			cli_err("%s: record at position %" PRIu64 " does not decode: %s",
				lo->c->cmd, page->entries[i].pos, ctx.msg);
			lo->rc = CLI_FAIL;
			continue;
		}
		if (lo->c->json) {
			json_t *o = out_record_json(r);
			json_object_set_new(o, "pos",
					    json_integer((json_int_t)page->entries[i].pos));
			out_json(o);
		} else {
			out_record_summary(r, sum, sizeof(sum));
			printf("%s  %s  %-14s %s\n", ls_hex(r->id, LS_ID_LEN, hex),
			       ls_time_format(r->timestamp, tbuf, sizeof(tbuf)),
			       ls_rtype_name(r->type), sum);
		}
		ls_record_free(r);
		lo->shown++;
	}
	out_progress_step(lo->prog, page->n);
	return lo->limit != 0 && lo->shown >= lo->limit ? LOG_ENOUGH : 0;
}

int
cmd_log(struct cli *c, int argc, char **argv)
{
	enum { OPT_AUTHOR = CLI_OPT_FIRST_LOCAL, OPT_TYPE, OPT_SINCE, OPT_LIMIT, OPT_REVERSE };
	static const struct option longopts[] = {{"author", required_argument, NULL, OPT_AUTHOR},
						 {"type", required_argument, NULL, OPT_TYPE},
						 {"since", required_argument, NULL, OPT_SINCE},
						 {"limit", required_argument, NULL, OPT_LIMIT},
						 {"reverse", no_argument, NULL, OPT_REVERSE},
						 CLI_COMMON_LONGOPTS};
	struct ls_log_filter f;
	struct ls_err_ctx ctx = {{0}};
	struct out_progress prog;
	uint64_t limit = 0;
	int ch, rc = CLI_OK;

	memset(&f, 0, sizeof(f));
	f.newest_first = true; /* as git log: the newest first; --reverse for the oldest */
	while ((ch = cli_getopt(c, argc, argv, "n:", longopts)) != -1) {
		switch (ch) {
		case OPT_REVERSE: f.newest_first = false; break;
		case OPT_AUTHOR:
			if ((rc = cli_parse_key(c, "--author", optarg, f.author)) != CLI_OK)
				return rc;
			f.has_author = true;
			break;
		case OPT_TYPE:
			if ((f.type = ls_rtype_parse(optarg)) == LS_REC_NONE)
				return cli_usage_err(c,
						     "--type '%s' unknown: certificate revocation "
						     "policy license lot transformation transfer "
						     "receipt",
						     optarg);
			break;
		case OPT_SINCE:
			if ((rc = cli_parse_date(c, "--since", optarg, &f.since)) != CLI_OK)
				return rc;
			break;
		case 'n':
		case OPT_LIMIT:
			if ((rc = cli_parse_u64(c, "--limit", optarg, &limit)) != CLI_OK)
				return rc;
			if (limit == 0)
				return cli_usage_err(c, "--limit must be at least 1");
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	out_progress_start(&prog, "log", limit);
	{
		struct log_out lo = {c, &prog, limit, 0, CLI_OK};
		struct ls_api_request req = {.kind = LS_API_LOG};
		req.log = f;
		/* A stream of the records stored now, in chunks; past the limit
		 * log_print stops it (the daemon drops the rest). */
		rc = ls_api_stream(c->api, &req, log_print, &lo, &ctx);
		out_progress_end(&prog);
		if (rc != 0 && rc != LOG_ENOUGH)
			return cli_api_fail(c, rc, &ctx, "log");
		return lo.rc;
	}
}

/* ---- status ---- */

int
cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct ls_api_status st;
	struct ls_err_ctx ctx = {{0}};
	char hex[LS_HEX_KEY_LEN + 1], tbuf[40];
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	memset(&st, 0, sizeof(st));
	if ((rc = ls_api_status(c->api, &st, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, "status");
	if (c->json) {
		json_t *o = json_object(), *peers = json_array();
		for (size_t i = 0; i < st.n_peers; i++) {
			const struct ls_api_peer *p = &st.peers[i];
			json_t *x = json_object();
			json_object_set_new(x, "endpoint", json_string(p->endpoint));
			if (p->has_key)
				json_object_set_new(x, "key", out_json_hex(p->key, LS_KEY_LEN));
			json_object_set_new(x, "connected", json_boolean(p->connected));
			json_object_set_new(x, "last_sync",
					    p->last_sync ? out_json_time(p->last_sync)
							 : json_null());
			json_object_set_new(x, "received", json_integer((json_int_t)p->received));
			json_object_set_new(x, "rejected", json_integer((json_int_t)p->rejected));
			json_object_set_new(
			    x, "log_vkey", p->log_vkey[0] ? json_string(p->log_vkey) : json_null());
			json_object_set_new(x, "witness_vkey",
					    p->witness_vkey[0] ? json_string(p->witness_vkey)
							       : json_null());
			json_object_set_new(x, "cosigned_size",
					    json_integer((json_int_t)p->cosigned_size));
			json_object_set_new(x, "cosigned_time",
					    p->cosigned_time ? out_json_time(p->cosigned_time)
							     : json_null());
			json_object_set_new(x, "refused_ours",
					    json_integer((json_int_t)p->refused_ours));
			json_object_set_new(x, "refusal",
					    p->refusal[0] ? json_string(p->refusal) : json_null());
			json_object_set_new(x, "witnessed_size",
					    json_integer((json_int_t)p->witnessed_size));
			json_object_set_new(x, "witnessed_time",
					    p->witnessed_time ? out_json_time(p->witnessed_time)
							      : json_null());
			json_object_set_new(x, "cosigned_theirs",
					    json_integer((json_int_t)p->cosigned_theirs));
			json_object_set_new(x, "refused_theirs",
					    json_integer((json_int_t)p->refused_theirs));
			json_object_set_new(x, "refused_reason",
					    p->refused_reason[0] ? json_string(p->refused_reason)
								 : json_null());
			json_object_set_new(x, "distrusted", json_boolean(p->distrusted));
			json_object_set_new(x, "dropped", json_integer((json_int_t)p->dropped));
			json_object_set_new(x, "throttled", json_integer((json_int_t)p->throttled));
			json_object_set_new(x, "cosign_rtt_us",
					    p->cosign_rtt_us
						? json_integer((json_int_t)p->cosign_rtt_us)
						: json_null());
			json_array_append_new(peers, x);
		}
		json_object_set_new(o, "records", json_integer((json_int_t)st.stats.records));
		json_object_set_new(o, "pending", json_integer((json_int_t)st.stats.pending));
		json_object_set_new(o, "equivocations",
				    json_integer((json_int_t)st.stats.equivocations));
		json_object_set_new(o, "authors", json_integer((json_int_t)st.stats.authors));
		json_object_set_new(o, "map_size", json_integer((json_int_t)st.stats.map_size));
		json_object_set_new(o, "set_digest", out_json_hex(st.stats.set_digest, LS_ID_LEN));
		json_object_set_new(o, "node_key", out_json_hex(st.node_key, LS_KEY_LEN));
		json_object_set_new(o, "api", json_string(st.api));
		json_object_set_new(o, "listen",
				    st.listen[0] ? json_string(st.listen) : json_null());
		json_object_set_new(o, "peers", peers);
		json_object_set_new(o, "log_size", json_integer((json_int_t)st.log_size));
		json_object_set_new(o, "log_sealed", json_integer((json_int_t)st.log_sealed));
		json_object_set_new(o, "log_origin", json_string(st.log_origin));
		json_object_set_new(o, "log_vkey", json_string(st.log_vkey));
		json_object_set_new(o, "witness_vkey", json_string(st.witness_vkey));
		json_object_set_new(o, "checkpoint_size",
				    st.checkpoint_size
					? json_integer((json_int_t)st.checkpoint_size)
					: json_null());
		json_object_set_new(o, "checkpoint_time",
				    st.checkpoint_time ? out_json_time(st.checkpoint_time)
						       : json_null());
		json_object_set_new(o, "witnesses", json_integer((json_int_t)st.witnesses));
		json_object_set_new(o, "witness_quorum",
				    json_integer((json_int_t)st.witness_quorum));
		json_object_set_new(o, "streams_open", json_integer((json_int_t)st.streams_open));
		json_object_set_new(o, "stream_bytes", json_integer((json_int_t)st.stream_bytes));
		json_object_set_new(o, "api_connections",
				    json_integer((json_int_t)st.api_connections));
		json_object_set_new(o, "api_connections_max",
				    json_integer((json_int_t)st.api_connections_max));
		json_object_set_new(o, "api_queued_bytes",
				    json_integer((json_int_t)st.api_queued_bytes));
		json_object_set_new(o, "api_busy", json_integer((json_int_t)st.api_busy));
		json_object_set_new(o, "quorum_size",
				    st.quorum_size ? json_integer((json_int_t)st.quorum_size)
						   : json_null());
		{
			json_t *sv = json_array();
			for (size_t i = 0; i < st.n_split_views; i++) {
				json_t *x = json_object();
				json_object_set_new(x, "origin",
						    json_string(st.split_views[i].origin));
				json_object_set_new(
				    x, "size_a",
				    json_integer((json_int_t)st.split_views[i].size_a));
				json_object_set_new(
				    x, "size_b",
				    json_integer((json_int_t)st.split_views[i].size_b));
				json_array_append_new(sv, x);
			}
			json_object_set_new(o, "split_views", sv);
		}
		{
			json_t *ta = json_array();
			for (size_t i = 0; i < st.n_trust; i++) {
				json_t *x = json_object();
				json_object_set_new(x, "key",
						    out_json_hex(st.trust[i], LS_KEY_LEN));
				json_object_set_new(x, "name",
						    json_string(cli_key_name(c, st.trust[i])));
				json_array_append_new(ta, x);
			}
			json_object_set_new(o, "trusted", ta);
		}
		out_json(o);
	} else {
		printf("%-14s %" PRIu64 "\n", "records", st.stats.records);
		printf("%-14s %" PRIu64 "\n", "pending", st.stats.pending);
		printf("%-14s %" PRIu64 "\n", "equivocations", st.stats.equivocations);
		printf("%-14s %" PRIu64 "\n", "authors", st.stats.authors);
		printf("%-14s %s\n", "set digest", ls_hex(st.stats.set_digest, LS_ID_LEN, hex));
		printf("%-14s %s\n", "node key", ls_hex(st.node_key, LS_KEY_LEN, hex));
		printf("%-14s %s\n", "api", st.api);
		printf("%-14s %s\n", "listen", st.listen[0] ? st.listen : "-");
		printf("%-14s %" PRIu32 " of %" PRIu32 ", %" PRIu64
		       " bytes of requests held, %" PRIu64 " answered busy\n",
		       "connections", st.api_connections, st.api_connections_max,
		       st.api_queued_bytes, st.api_busy);
		printf("%-14s %zu%s\n", "trusted", st.n_trust,
		       st.n_trust ? "" : " (no authority: no certificate is accepted)");
		for (size_t i = 0; i < st.n_trust; i++) {
			const char *who = cli_key_name(c, st.trust[i]);
			ls_hex(st.trust[i], LS_KEY_LEN, hex);
			printf("  %s  %s\n", hex,
			       strncmp(who, hex, 16) != 0 ? who : "(no certificate of its own)");
		}
		printf("%-14s %zu\n", "peers", st.n_peers);
		for (size_t i = 0; i < st.n_peers; i++) {
			const struct ls_api_peer *p = &st.peers[i];
			printf("  %s %s, last sync %s, %" PRIu64 " received, %" PRIu64
			       " rejected\n",
			       p->endpoint, p->connected ? "connected" : "not connected",
			       p->last_sync ? ls_time_format(p->last_sync, tbuf, sizeof(tbuf))
					    : "never",
			       p->received, p->rejected);
			if (p->dropped != 0 || p->throttled != 0)
				printf("    over its bounds: %" PRIu64
				       " messages dropped (rate), %" PRIu64
				       " records dropped (verification budget)\n",
				       p->dropped, p->throttled);
			if (p->witness_vkey[0] == '\0')
				continue;
			printf("    witness %s: cosigned our %" PRIu64 "%s%s, refused %" PRIu64
			       "%s%s%s\n",
			       p->witness_vkey, p->cosigned_size, p->cosigned_time ? " at " : "",
			       p->cosigned_time
				   ? ls_time_format(p->cosigned_time, tbuf, sizeof(tbuf))
				   : "",
			       p->refused_ours, p->refusal[0] ? " (last: " : "", p->refusal,
			       p->refusal[0] ? ")" : "");
			printf("    its log %s%s: we cosigned %" PRIu64 "%s%s, refused %" PRIu64
			       "%s%s%s\n",
			       p->log_vkey, p->distrusted ? " DISTRUSTED (split view)" : "",
			       p->witnessed_size, p->witnessed_time ? " at " : "",
			       p->witnessed_time
				   ? ls_time_format(p->witnessed_time, tbuf, sizeof(tbuf))
				   : "",
			       p->refused_theirs, p->refused_reason[0] ? " (last: " : "",
			       p->refused_reason, p->refused_reason[0] ? ")" : "");
		}
		printf("%-14s %s\n", "log", st.log_origin[0] ? st.log_origin : "-");
		printf("%-14s %" PRIu64 " leaves, sealed at %" PRIu64 "\n", "log size", st.log_size,
		       st.log_sealed);
		printf("%-14s %s\n", "log vkey", st.log_vkey[0] ? st.log_vkey : "-");
		printf("%-14s %s\n", "witness vkey", st.witness_vkey[0] ? st.witness_vkey : "-");
		if (st.checkpoint_size == 0)
			printf("%-14s none yet\n", "checkpoint");
		else if (st.checkpoint_time == 0)
			printf("%-14s %" PRIu64 " (signed before this start)\n", "checkpoint",
			       st.checkpoint_size);
		else
			printf("%-14s %" PRIu64 " signed %s\n", "checkpoint", st.checkpoint_size,
			       ls_time_format(st.checkpoint_time, tbuf, sizeof(tbuf)));
		printf("%-14s %" PRIu32 ", quorum %" PRIu32 "\n", "witnesses", st.witnesses,
		       st.witness_quorum);
		if (st.quorum_size != 0)
			printf("%-14s %" PRIu64 "\n", "quorum", st.quorum_size);
		else
			printf("%-14s none yet\n", "quorum");
		if (st.n_split_views == 0)
			printf("%-14s none\n", "split views");
		for (size_t i = 0; i < st.n_split_views; i++)
			printf("%-14s %s: checkpoints %" PRIu64 " and %" PRIu64
			       " are not one history\n",
			       "split view", st.split_views[i].origin, st.split_views[i].size_a,
			       st.split_views[i].size_b);
	}
	ls_api_status_release(&st);
	return CLI_OK;
}
