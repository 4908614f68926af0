/*
 * profile.c - `check LOT --profile FILE`: reads a compliance profile
 * (lodestone-profile/1, contrib/profiles/README.md) and applies it
 * (lib/profile.c) to the lot's origin by stage.
 *
 * Errors name the file, the line and the field at fault. jansson keeps no
 * positions, so the file's text is scanned once more (json_lines) for the
 * line on which each value starts, by its path ("rules[1].countries[2]").
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "profile.h"
#include "util.h"

#include "client.h"

#define PROFILE_FILE_MAX (1024 * 1024)
#define PATHS_MAX        4096

/* ---- where each value starts ---- */

struct jpos {
	char path[96];
	int line;
};

struct jlines {
	size_t n;
	struct jpos v[PATHS_MAX];
};

struct frame {
	bool array;
	size_t index;
	char key[64];
	size_t plen; /* path length before this container's members */
};

/* Records the path and line of every value of the JSON text s (already
 * known to parse). Paths past PATHS_MAX or deeper than 16 are not kept. */
static void
json_lines(const char *s, struct jlines *out)
{
	struct frame st[16];
	int depth = -1, line = 1;
	char path[96] = "";
	bool want_key = false;

	out->n = 0;
	for (const char *p = s; *p; p++) {
		char ch = *p;
		if (ch == '\n') {
			line++;
			continue;
		}
		if (isspace((unsigned char)ch) || ch == ':')
			continue;
		if (ch == ',') {
			if (depth >= 0 && st[depth].array)
				st[depth].index++;
			else
				want_key = true;
			continue;
		}
		if (ch == '}' || ch == ']') {
			if (depth >= 0)
				path[st[depth].plen] = '\0';
			depth--;
			want_key = false;
			continue;
		}
		if (want_key && ch == '"') {
			size_t k = 0;
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1])
					p++;
				if (k + 1 < sizeof(st[depth].key))
					st[depth].key[k++] = *p;
			}
			st[depth].key[k] = '\0';
			want_key = false;
			if (!*p)
				break;
			continue;
		}
		/* a value starts: its path */
		if (depth >= 0) {
			size_t base = st[depth].plen;
			path[base] = '\0';
			if (st[depth].array)
				snprintf(path + base, sizeof(path) - base, "[%zu]",
					 st[depth].index);
			else
				snprintf(path + base, sizeof(path) - base, "%s%s", base ? "." : "",
					 st[depth].key);
		}
		if (out->n < PATHS_MAX) {
			snprintf(out->v[out->n].path, sizeof(out->v[out->n].path), "%s", path);
			out->v[out->n].line = line;
			out->n++;
		}
		if (ch == '{' || ch == '[') {
			if (depth + 1 >= (int)(sizeof(st) / sizeof(st[0])))
				break;
			depth++;
			st[depth].array = ch == '[';
			st[depth].index = 0;
			st[depth].key[0] = '\0';
			st[depth].plen = strlen(path);
			want_key = ch == '{';
			continue;
		}
		if (ch == '"') {
			for (p++; *p && *p != '"'; p++)
				if (*p == '\\' && p[1])
					p++;
			if (!*p)
				break;
		} else {
			while (p[1] && !strchr(",]} \t\r\n", p[1]))
				p++;
		}
	}
}

struct pf {
	struct cli *c;
	const char *path;
	struct jlines *lines;
	struct ls_profile *p;
};

static int perr(struct pf *f, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "lodestone: check: FILE:LINE: WHERE: MESSAGE"; the line of the deepest
 * known prefix of WHERE. */
static int
perr(struct pf *f, const char *where, const char *fmt, ...)
{
	va_list ap;
	int line = 0;
	size_t best = 0;

	for (size_t i = 0; f->lines != NULL && i < f->lines->n; i++) {
		const char *pp = f->lines->v[i].path;
		size_t n = strlen(pp);
		if (strncmp(pp, where, n) == 0 &&
		    (where[n] == '\0' || where[n] == '.' || where[n] == '[') &&
		    (n > best || line == 0)) {
			best = n;
			line = f->lines->v[i].line;
		}
	}
	fprintf(stderr, "lodestone: %s: %s:%d: %s: ", f->c->cmd, f->path, line ? line : 1, where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_USAGE;
}

static int
get_string(struct pf *f, const char *where, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return perr(f, where, "expected a string");
	*out = json_string_value(v);
	if (strlen(*out) > LS_STR_MAX)
		return perr(f, where, "longer than %d bytes", LS_STR_MAX);
	return CLI_OK;
}

static int
get_date(struct pf *f, const char *where, json_t *v, uint64_t *t)
{
	const char *s = NULL;
	int rc;

	if ((rc = get_string(f, where, v, &s)) != CLI_OK)
		return rc;
	if (ls_time_parse(s, t) != 0)
		return perr(f, where, "'%s' is not a date (YYYY-MM-DD or RFC 3339)", s);
	return CLI_OK;
}

static int
get_countries(struct pf *f, const char *where, json_t *v, struct ls_prule *r)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > LS_PROFILE_COUNTRIES_MAX)
		return perr(f, where, "expected a list of 1 to %d country codes",
			    LS_PROFILE_COUNTRIES_MAX);
	json_array_foreach(v, i, x)
	{
		char w[128], *cc = r->countries[i];
		const char *s, *hint;
		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		if (!json_is_string(x))
			return perr(f, w, "expected a country code");
		s = json_string_value(x);
		if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
		    !isalpha((unsigned char)s[1]))
			return perr(f, w, "'%s' is not a two-letter country code", s);
		cc[0] = (char)toupper((unsigned char)s[0]);
		cc[1] = (char)toupper((unsigned char)s[1]);
		cc[2] = '\0';
		if (!ls_country_valid(cc)) {
			hint = ls_country_hint(cc);
			return perr(f, w,
				    "'%s' is not an assigned ISO 3166-1 alpha-2 country code%s%s%s",
				    s, hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
		}
	}
	r->n_countries = json_array_size(v);
	return CLI_OK;
}

static int
get_stages(struct pf *f, const char *where, json_t *v, struct ls_prule *r)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > LS_STAGE_COUNT)
		return perr(f, where, "expected a list of 1 to %d stages", LS_STAGE_COUNT);
	json_array_foreach(v, i, x)
	{
		char w[128];
		const char *key, *s;
		json_t *y;
		int rc;
		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		if (json_is_string(x)) { /* "mining": from the profile's start */
			y = x;
			r->stages[i].from = 0;
			goto name;
		}
		if (!json_is_object(x) || json_object_get(x, "stage") == NULL)
			return perr(f, w, "expected a stage name or {\"stage\", \"from\"}");
		json_object_foreach(x, key, y)
		{
			char wk[160];
			snprintf(wk, sizeof(wk), "%s.%s", w, key);
			if (strcmp(key, "from") == 0) {
				if ((rc = get_date(f, wk, y, &r->stages[i].from)) != CLI_OK)
					return rc;
			} else if (strcmp(key, "stage") != 0 && strcmp(key, "note") != 0) {
				return perr(f, wk, "unknown key (see contrib/profiles/README.md)");
			}
		}
		y = json_object_get(x, "stage");
		snprintf(w + strlen(w), sizeof(w) - strlen(w), ".stage");
	name:
		if (!json_is_string(y) ||
		    (r->stages[i].stage = ls_stage_parse(s = json_string_value(y))) < 0)
			return perr(f, w,
				    "'%s' is not a stage (mining separation metal magnet component "
				    "product recycling)",
				    json_is_string(y) ? json_string_value(y) : "?");
		for (size_t k = 0; k < i; k++)
			if (r->stages[k].stage == r->stages[i].stage)
				return perr(f, w, "stage '%s' listed twice", s);
	}
	r->n_stages = json_array_size(v);
	return CLI_OK;
}

static int
parse_rule(struct pf *f, size_t idx, json_t *o)
{
	struct ls_prule *r = &f->p->rules[idx];
	char where[96];
	const char *key, *kind = NULL;
	json_t *v;
	bool has_max = false, has_countries = false;
	int rc;

	snprintf(where, sizeof(where), "rules[%zu]", idx);
	if (!json_is_object(o))
		return perr(f, where, "expected an object");
	v = json_object_get(o, "kind");
	snprintf(where, sizeof(where), "rules[%zu].kind", idx);
	if (v == NULL)
		return perr(f, where, "required: \"no-stage-in\" or \"max-share\"");
	if ((rc = get_string(f, where, v, &kind)) != CLI_OK)
		return rc;
	if (strcmp(kind, "no-stage-in") == 0)
		r->kind = LS_PRULE_NO_STAGE_IN;
	else if (strcmp(kind, "max-share") == 0)
		r->kind = LS_PRULE_MAX_SHARE;
	else
		return perr(f, where, "'%s' is neither \"no-stage-in\" nor \"max-share\"", kind);
	json_object_foreach(o, key, v)
	{
		snprintf(where, sizeof(where), "rules[%zu].%s", idx, key);
		if (strcmp(key, "kind") == 0 || strcmp(key, "note") == 0 ||
		    strcmp(key, "source") == 0) {
			continue;
		} else if (strcmp(key, "id") == 0) {
			const char *s;
			if ((rc = get_string(f, where, v, &s)) != CLI_OK)
				return rc;
			snprintf(r->id, sizeof(r->id), "%s", s);
		} else if (strcmp(key, "stages") == 0) {
			if ((rc = get_stages(f, where, v, r)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "countries") == 0 && r->kind == LS_PRULE_NO_STAGE_IN) {
			if ((rc = get_countries(f, where, v, r)) != CLI_OK)
				return rc;
			has_countries = true;
		} else if (strcmp(key, "except") == 0 && r->kind == LS_PRULE_MAX_SHARE) {
			if ((rc = get_countries(f, where, v, r)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "max_ppm") == 0 && r->kind == LS_PRULE_MAX_SHARE) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > LS_PPM_TOTAL)
				return perr(f, where, "expected a whole number 0..1000000 (ppm)");
			r->max_ppm = (uint32_t)json_integer_value(v);
			has_max = true;
		} else {
			return perr(f, where,
				    "unknown key for a %s rule (see contrib/profiles/README.md)",
				    kind);
		}
	}
	snprintf(where, sizeof(where), "rules[%zu]", idx);
	if (r->n_stages == 0)
		return perr(f, where, "\"stages\" is required");
	if (r->kind == LS_PRULE_NO_STAGE_IN && !has_countries)
		return perr(f, where, "\"countries\" is required");
	if (r->kind == LS_PRULE_MAX_SHARE && !has_max)
		return perr(f, where, "\"max_ppm\" is required");
	return CLI_OK;
}

/* Reads profile file path into p: CLI_OK or CLI_USAGE (message printed). */
static int
profile_load(struct cli *c, const char *path, struct ls_profile *p)
{
	struct pf f = {c, path, NULL, p};
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	char *text = NULL;
	bool has_from = false, has_name = false;
	size_t len = 0;
	int rc = CLI_USAGE;
	FILE *fp;

	memset(p, 0, sizeof(*p));
	if ((fp = fopen(path, "rb")) == NULL) {
		cli_err("%s: cannot read '%s': %s", c->cmd, path, strerror(errno));
		return CLI_USAGE;
	}
	if ((text = malloc(PROFILE_FILE_MAX + 1)) == NULL ||
	    (len = fread(text, 1, PROFILE_FILE_MAX + 1, fp)) > PROFILE_FILE_MAX || ferror(fp)) {
		cli_err("%s: cannot read '%s': %s", c->cmd, path,
			text == NULL ? "out of memory"
			: ferror(fp) ? strerror(errno)
				     : "not a profile (over 1 MiB)");
		fclose(fp);
		free(text);
		return CLI_USAGE;
	}
	fclose(fp);
	text[len] = '\0';
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		cli_err("%s: %s:%d:%d: %s", c->cmd, path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if ((f.lines = malloc(sizeof(*f.lines))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		goto out;
	}
	json_lines(text, f.lines);
	if (!json_is_object(root)) {
		rc = perr(&f, "(top)", "expected an object");
		goto out;
	}
	v = json_object_get(root, "format");
	if (v == NULL || !json_is_string(v) ||
	    strcmp(json_string_value(v), "lodestone-profile/1") != 0) {
		rc = perr(&f, "format", "required: \"lodestone-profile/1\"");
		goto out;
	}
	json_object_foreach(root, key, v)
	{
		const char *s;
		size_t i;
		json_t *x;
		if (strcmp(key, "format") == 0 || strcmp(key, "note") == 0 ||
		    strcmp(key, "source") == 0 || strcmp(key, "sources") == 0) {
			continue;
		} else if (strcmp(key, "name") == 0) {
			if ((rc = get_string(&f, key, v, &s)) != CLI_OK)
				goto out;
			snprintf(p->name, sizeof(p->name), "%s", s);
			has_name = s[0] != '\0';
		} else if (strcmp(key, "effective_from") == 0) {
			if ((rc = get_date(&f, key, v, &p->effective_from)) != CLI_OK)
				goto out;
			has_from = true;
		} else if (strcmp(key, "effective_until") == 0) {
			if ((rc = get_date(&f, key, v, &p->effective_until)) != CLI_OK)
				goto out;
		} else if (strcmp(key, "categories") == 0) {
			if (!json_is_array(v) || json_array_size(v) > 16) {
				rc = perr(&f, key, "expected a list of at most 16 categories");
				goto out;
			}
			json_array_foreach(v, i, x)
			{
				char w[64];
				snprintf(w, sizeof(w), "categories[%zu]", i);
				if (!json_is_string(x) ||
				    !ls_category_valid(json_string_value(x))) {
					rc = perr(&f, w,
						  "'%s' is not a category (ore concentrate oxide "
						  "metal alloy magnet component product scrap)",
						  json_is_string(x) ? json_string_value(x) : "?");
					goto out;
				}
				snprintf(p->categories[i], sizeof(p->categories[i]), "%s",
					 json_string_value(x));
			}
			p->n_categories = json_array_size(v);
		} else if (strcmp(key, "elements") == 0) {
			if (!json_is_array(v) || json_array_size(v) > LS_COMP_MAX) {
				rc = perr(&f, key, "expected a list of at most %d element symbols",
					  LS_COMP_MAX);
				goto out;
			}
			json_array_foreach(v, i, x)
			{
				char w[64];
				uint32_t z =
				    json_is_string(x) ? ls_element_z(json_string_value(x)) : 0;
				snprintf(w, sizeof(w), "elements[%zu]", i);
				if (z == 0 || !ls_element_is_ree(z)) {
					rc = perr(&f, w, "'%s' is not a rare-earth element symbol",
						  json_is_string(x) ? json_string_value(x) : "?");
					goto out;
				}
				p->elements[i] = z;
			}
			p->n_elements = json_array_size(v);
		} else if (strcmp(key, "rules") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > LS_PROFILE_RULES_MAX) {
				rc = perr(&f, key, "expected a list of 1 to %d rules",
					  LS_PROFILE_RULES_MAX);
				goto out;
			}
			json_array_foreach(v, i, x)
			{
				if ((rc = parse_rule(&f, i, x)) != CLI_OK)
					goto out;
			}
			p->n_rules = json_array_size(v);
		} else {
			rc = perr(&f, key, "unknown key (see contrib/profiles/README.md)");
			goto out;
		}
	}
	rc = CLI_USAGE;
	if (!has_name)
		perr(&f, "name", "required");
	else if (!has_from)
		perr(&f, "effective_from", "required");
	else if (p->effective_until != 0 && p->effective_until <= p->effective_from)
		perr(&f, "effective_until", "not after \"effective_from\"");
	else if (p->n_rules == 0)
		perr(&f, "rules", "required");
	else
		rc = CLI_OK;
out:
	json_decref(root);
	free(f.lines);
	free(text);
	return rc;
}

/* ---- check ---- */

static const char *
day_text(uint64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, 32, "%llu", (unsigned long long)t);
	return buf;
}

static const char *
rule_name(const struct ls_profile *p, size_t i, char buf[LS_STR_MAX + 16])
{
	if (p->rules[i].id[0] != '\0')
		snprintf(buf, LS_STR_MAX + 16, "%s", p->rules[i].id);
	else
		snprintf(buf, LS_STR_MAX + 16, "rules[%zu]", i);
	return buf;
}

json_t *
out_compliance_json(const struct ls_profile *p, const struct ls_compliance_result *r)
{
	json_t *o = json_object(), *fs = json_array(), *ps = json_array();
	char rn[LS_STR_MAX + 16];

	json_object_set_new(o, "verdict", json_string(ls_compliance_name(r->verdict)));
	json_object_set_new(o, "profile", json_string(p->name));
	for (size_t i = 0; i < r->n; i++) {
		const struct ls_finding *f = &r->v[i];
		json_t *x = json_object(), *recs = json_array();
		char sym[4];
		json_object_set_new(x, "kind", json_string(ls_compliance_name(f->kind)));
		json_object_set_new(x, "rule", json_string(rule_name(p, f->rule, rn)));
		json_object_set_new(x, "element", json_string(out_json_element(f->z, sym)));
		json_object_set_new(x, "stage", json_string(ls_stage_name(f->stage)));
		json_object_set_new(x, "country",
				    f->country[0] ? json_string(f->country) : json_null());
		json_object_set_new(x, "grams", json_integer((json_int_t)f->grams));
		json_object_set_new(x, "of_grams", json_integer((json_int_t)f->of_grams));
		json_object_set_new(x, "share_ppm", json_integer(f->ppm));
		for (size_t k = 0; k < f->n_records; k++)
			json_array_append_new(recs, out_json_hex(f->records[k], LS_ID_LEN));
		json_object_set_new(x, "records", recs);
		if (f->records_more)
			json_object_set_new(x, "records_more",
					    json_integer((json_int_t)f->records_more));
		json_array_append_new(fs, x);
	}
	for (size_t i = 0; i < r->n_pending; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "rule", json_string(rule_name(p, r->pending[i].rule, rn)));
		json_object_set_new(x, "stage", json_string(ls_stage_name(r->pending[i].stage)));
		json_object_set_new(x, "from", out_json_time(r->pending[i].from));
		json_array_append_new(ps, x);
	}
	json_object_set_new(o, "findings", fs);
	json_object_set_new(o, "not_yet_in_force", ps);
	return o;
}

void
out_compliance_text(const struct ls_profile *p, const struct ls_compliance_result *r)
{
	char rn[LS_STR_MAX + 16], m1[32], m2[32], day[32], hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < r->n; i++) {
		const struct ls_finding *f = &r->v[i];
		printf("  %s: rule %s: %s %s in %s: %s of %s (%.1f %%); records",
		       ls_compliance_name(f->kind), rule_name(p, f->rule, rn),
		       ls_element_symbol(f->z), ls_stage_name(f->stage),
		       f->country[0] ? f->country : "unknown (entered the ledger past this stage)",
		       ls_grams_human(f->grams, m1, sizeof(m1)),
		       ls_grams_human(f->of_grams, m2, sizeof(m2)), (double)f->ppm / 10000.0);
		for (size_t k = 0; k < f->n_records; k++)
			printf(" %.16s", ls_hex(f->records[k], LS_ID_LEN, hex));
		if (f->records_more)
			printf(" and %zu more", f->records_more);
		putchar('\n');
	}
	for (size_t i = 0; i < r->n_pending; i++)
		printf("  not yet in force: rule %s for %s, from %s\n",
		       rule_name(p, r->pending[i].rule, rn), ls_stage_name(r->pending[i].stage),
		       day_text(r->pending[i].from, day));
}

int
cli_profile_load(struct cli *c, const char *path, struct ls_profile **out)
{
	struct ls_profile *p = calloc(1, sizeof(*p));
	int rc;

	*out = NULL;
	if (p == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	if ((rc = profile_load(c, path, p)) != CLI_OK) {
		free(p);
		return rc;
	}
	*out = p;
	return CLI_OK;
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	enum { OPT_PROFILE = CLI_OPT_FIRST_LOCAL };
	static const struct option longopts[] = {{"profile", required_argument, NULL, OPT_PROFILE},
						 CLI_QUERY_LONGOPTS,
						 CLI_COMMON_LONGOPTS};
	struct ls_profile *p = NULL;
	struct ls_compliance_result res;
	struct ls_origin o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_export_query q;
	uint8_t lot[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1], khex[LS_HEX_KEY_LEN + 1], day[32];
	const char *file = NULL;
	uint64_t at;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		if (ch == OPT_PROFILE) {
			file = optarg;
			continue;
		}
		if (ch != CLI_OPT_Q_FROM && ch != CLI_OPT_Q_AT)
			return ch == '?' || ch < CLI_OPT_Q_FROM || ch > CLI_OPT_Q_AT
				   ? CLI_USAGE
				   : cli_usage_err(c,
						   "check takes --profile, --from and --at only");
		if ((rc = cli_query_opt(c, ch, optarg, &q)) != CLI_OK)
			return rc;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (file == NULL)
		return cli_usage_err(c, "which profile? give --profile FILE");
	if ((rc = cli_profile_load(c, file, &p)) != CLI_OK)
		return rc;
	at = q.time ? q.time : (uint64_t)time(NULL);
	if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
		goto out;
	if ((rc = ls_api_origin_stages(c->api, lot, q.has_from ? q.from : NULL, &o, &ctx)) != 0) {
		rc = cli_api_fail(c, rc, &ctx, argv[optind]);
		goto out;
	}
	if (q.has_from && o.grams == 0) {
		cli_err("%s: %s holds none of lot %s", c->cmd, ls_hex(q.from, LS_KEY_LEN, khex),
			ls_hex(lot, LS_ID_LEN, hex));
		rc = CLI_FAIL;
		goto out;
	}
	if ((rc = ls_profile_check(p, &o, at, &res, &ctx)) != 0) {
		cli_err("%s: %s: %s (give --at DATE inside its period)", c->cmd, file,
			ctx.msg[0] ? ctx.msg : ls_strerror(rc));
		rc = rc == LS_ERR_INVALID ? CLI_USAGE : CLI_FAIL;
		goto out;
	}
	if (c->json) {
		json_t *j = out_compliance_json(p, &res);
		json_object_set_new(j, "lot", out_json_hex(lot, LS_ID_LEN));
		if (q.has_from)
			json_object_set_new(j, "holder", out_json_hex(q.from, LS_KEY_LEN));
		json_object_set_new(j, "grams", json_integer((json_int_t)o.grams));
		json_object_set_new(j, "at", out_json_time(at));
		out_json(j);
	} else {
		printf("%s: lot %s under \"%s\" at %s\n", ls_compliance_name(res.verdict),
		       ls_hex(lot, LS_ID_LEN, hex), p->name, day_text(at, day));
		if (res.verdict == LS_NOT_APPLICABLE)
			printf("  the profile does not cover category %s\n", o.category);
		out_compliance_text(p, &res);
	}
	rc = res.verdict == LS_COMPLIANT || res.verdict == LS_NOT_APPLICABLE ? CLI_OK : CLI_FAIL;
out:
	ls_compliance_release(&res);
	ls_origin_release(&o);
	free(p);
	return rc;
}
