/*
 * profile.c - `check LOT --profile FILE`: reads a compliance profile
 * (lodestone-profile/1, contrib/profiles/README.md) and applies it
 * (lib/profile.c) to the lot's origin by stage.
 *
 * Errors name the file, the line and the field at fault (jsonfile.c, the
 * reader policy files share).
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

struct pf {
	struct cli_jfile jf;
	struct ls_profile *p;
};

static int
get_countries(struct pf *f, const char *where, json_t *v, struct ls_prule *r)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > LS_PROFILE_COUNTRIES_MAX)
		return cli_jfile_err(&f->jf, where, "expected a list of 1 to %d country codes",
				     LS_PROFILE_COUNTRIES_MAX);
	json_array_foreach(v, i, x)
	{
		char w[128], *cc = r->countries[i];
		const char *s, *hint;
		snprintf(w, sizeof(w), "%s[%zu]", where, i);
		if (!json_is_string(x))
			return cli_jfile_err(&f->jf, w, "expected a country code");
		s = json_string_value(x);
		if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
		    !isalpha((unsigned char)s[1]))
			return cli_jfile_err(&f->jf, w, "'%s' is not a two-letter country code", s);
		cc[0] = (char)toupper((unsigned char)s[0]);
		cc[1] = (char)toupper((unsigned char)s[1]);
		cc[2] = '\0';
		if (!ls_country_valid(cc)) {
			hint = ls_country_hint(cc);
			return cli_jfile_err(
			    &f->jf, w,
			    "'%s' is not an assigned ISO 3166-1 alpha-2 country code%s%s%s", s,
			    hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
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
		return cli_jfile_err(&f->jf, where, "expected a list of 1 to %d stages",
				     LS_STAGE_COUNT);
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
			return cli_jfile_err(&f->jf, w,
					     "expected a stage name or {\"stage\", \"from\"}");
		json_object_foreach(x, key, y)
		{
			char wk[160];
			snprintf(wk, sizeof(wk), "%s.%s", w, key);
			if (strcmp(key, "from") == 0) {
				if ((rc = cli_jfile_date(&f->jf, wk, y, &r->stages[i].from)) !=
				    CLI_OK)
					return rc;
			} else if (strcmp(key, "stage") != 0 && strcmp(key, "note") != 0) {
				return cli_jfile_err(
				    &f->jf, wk, "unknown key (see contrib/profiles/README.md)");
			}
		}
		y = json_object_get(x, "stage");
		snprintf(w + strlen(w), sizeof(w) - strlen(w), ".stage");
	name:
		if (!json_is_string(y) ||
		    (r->stages[i].stage = ls_stage_parse(s = json_string_value(y))) < 0)
			return cli_jfile_err(
			    &f->jf, w,
			    "'%s' is not a stage (mining separation metal magnet component "
			    "product recycling)",
			    json_is_string(y) ? json_string_value(y) : "?");
		for (size_t k = 0; k < i; k++)
			if (r->stages[k].stage == r->stages[i].stage)
				return cli_jfile_err(&f->jf, w, "stage '%s' listed twice", s);
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
		return cli_jfile_err(&f->jf, where, "expected an object");
	v = json_object_get(o, "kind");
	snprintf(where, sizeof(where), "rules[%zu].kind", idx);
	if (v == NULL)
		return cli_jfile_err(&f->jf, where, "required: \"no-stage-in\" or \"max-share\"");
	if ((rc = cli_jfile_string(&f->jf, where, v, &kind)) != CLI_OK)
		return rc;
	if (strcmp(kind, "no-stage-in") == 0)
		r->kind = LS_PRULE_NO_STAGE_IN;
	else if (strcmp(kind, "max-share") == 0)
		r->kind = LS_PRULE_MAX_SHARE;
	else
		return cli_jfile_err(&f->jf, where,
				     "'%s' is neither \"no-stage-in\" nor \"max-share\"", kind);
	json_object_foreach(o, key, v)
	{
		snprintf(where, sizeof(where), "rules[%zu].%s", idx, key);
		if (strcmp(key, "kind") == 0 || strcmp(key, "note") == 0 ||
		    strcmp(key, "source") == 0) {
			continue;
		} else if (strcmp(key, "id") == 0) {
			const char *s;
			if ((rc = cli_jfile_string(&f->jf, where, v, &s)) != CLI_OK)
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
				return cli_jfile_err(&f->jf, where,
						     "expected a whole number 0..1000000 (ppm)");
			r->max_ppm = (uint32_t)json_integer_value(v);
			has_max = true;
		} else {
			return cli_jfile_err(
			    &f->jf, where,
			    "unknown key for a %s rule (see contrib/profiles/README.md)", kind);
		}
	}
	snprintf(where, sizeof(where), "rules[%zu]", idx);
	if (r->n_stages == 0)
		return cli_jfile_err(&f->jf, where, "\"stages\" is required");
	if (r->kind == LS_PRULE_NO_STAGE_IN && !has_countries)
		return cli_jfile_err(&f->jf, where, "\"countries\" is required");
	if (r->kind == LS_PRULE_MAX_SHARE && !has_max)
		return cli_jfile_err(&f->jf, where, "\"max_ppm\" is required");
	return CLI_OK;
}

/* Reads profile file path into p: CLI_OK or CLI_USAGE (message printed). */
static int
profile_load(struct cli *c, const char *path, struct ls_profile *p)
{
	struct pf f;
	json_t *root, *v;
	const char *key;
	bool has_from = false, has_name = false;
	int rc;

	memset(p, 0, sizeof(*p));
	f.p = p;
	if ((rc = cli_jfile_load(c, path, PROFILE_FILE_MAX, "a profile", &f.jf)) != CLI_OK)
		return rc;
	root = f.jf.root;
	rc = CLI_USAGE;
	if (!json_is_object(root)) {
		rc = cli_jfile_err(&f.jf, "(top)", "expected an object");
		goto out;
	}
	v = json_object_get(root, "format");
	if (v == NULL || !json_is_string(v) ||
	    strcmp(json_string_value(v), "lodestone-profile/1") != 0) {
		rc = cli_jfile_err(&f.jf, "format", "required: \"lodestone-profile/1\"");
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
			if ((rc = cli_jfile_string(&f.jf, key, v, &s)) != CLI_OK)
				goto out;
			snprintf(p->name, sizeof(p->name), "%s", s);
			has_name = s[0] != '\0';
		} else if (strcmp(key, "effective_from") == 0) {
			if ((rc = cli_jfile_date(&f.jf, key, v, &p->effective_from)) != CLI_OK)
				goto out;
			has_from = true;
		} else if (strcmp(key, "effective_until") == 0) {
			if ((rc = cli_jfile_date(&f.jf, key, v, &p->effective_until)) != CLI_OK)
				goto out;
		} else if (strcmp(key, "categories") == 0) {
			if (!json_is_array(v) || json_array_size(v) > 16) {
				rc = cli_jfile_err(&f.jf, key,
						   "expected a list of at most 16 categories");
				goto out;
			}
			json_array_foreach(v, i, x)
			{
				char w[64];
				snprintf(w, sizeof(w), "categories[%zu]", i);
				if (!json_is_string(x) ||
				    !ls_category_valid(json_string_value(x))) {
					rc = cli_jfile_err(
					    &f.jf, w,
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
				rc = cli_jfile_err(&f.jf, key,
						   "expected a list of at most %d element symbols",
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
					rc = cli_jfile_err(
					    &f.jf, w, "'%s' is not a rare-earth element symbol",
					    json_is_string(x) ? json_string_value(x) : "?");
					goto out;
				}
				p->elements[i] = z;
			}
			p->n_elements = json_array_size(v);
		} else if (strcmp(key, "rules") == 0) {
			if (!json_is_array(v) || json_array_size(v) == 0 ||
			    json_array_size(v) > LS_PROFILE_RULES_MAX) {
				rc = cli_jfile_err(&f.jf, key, "expected a list of 1 to %d rules",
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
			rc = cli_jfile_err(&f.jf, key,
					   "unknown key (see contrib/profiles/README.md)");
			goto out;
		}
	}
	rc = CLI_USAGE;
	if (!has_name)
		cli_jfile_err(&f.jf, "name", "required");
	else if (!has_from)
		cli_jfile_err(&f.jf, "effective_from", "required");
	else if (p->effective_until != 0 && p->effective_until <= p->effective_from)
		cli_jfile_err(&f.jf, "effective_until", "not after \"effective_from\"");
	else if (p->n_rules == 0)
		cli_jfile_err(&f.jf, "rules", "required");
	else
		rc = CLI_OK;
out:
	cli_jfile_release(&f.jf);
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
