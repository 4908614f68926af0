/*
 * policy.c - policy publish: reads control policies from a JSON file
 * (format in contrib/policies/README.md) and publishes each as a signed
 * Policy record, in file order.
 *
 * The whole file is parsed and checked before the first record is written,
 * so that a typo in the last policy does not leave the first published
 * alone. A policy may name an earlier one of the same file by its "ref" in
 * "supersedes" and "suspends"; the id is filled in once that one is signed.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "util.h"

#include "client.h"

#define POLICY_FILE_MAX   64
#define POLICY_FILE_BYTES (1024 * 1024)

struct entry {
	struct ls_record *r;
	const char *ref; /* "" when none */
	/* For each suspends[i] / supersedes[i]: index of a file entry, or -1 (hex id). */
	int suspend_ref[LS_LIST_MAX];
	int supersede_ref[LS_LIST_MAX];
};

struct pfile {
	struct cli_jfile jf; /* the file, its errors with line and field */
	size_t n;
	struct entry e[POLICY_FILE_MAX];
};

/* A list of strings into r's arena, each checked by ok (NULL: any). */
static int
get_strlist(struct pfile *f, struct ls_record *r, const char *where, json_t *v,
	    struct ls_strlist *out, bool (*ok)(const char *), const char *what)
{
	const char **list;
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return cli_jfile_err(&f->jf, where, "expected a list of strings");
	if (json_array_size(v) > LS_LIST_MAX)
		return cli_jfile_err(&f->jf, where, "over %d entries", LS_LIST_MAX);
	list = ls_record_alloc(r, (json_array_size(v) + 1) * sizeof(*list));
	if (list == NULL)
		return cli_jfile_err(&f->jf, where, "out of memory");
	json_array_foreach(v, i, x)
	{
		char *s;
		if (!json_is_string(x) || json_string_length(x) == 0 ||
		    json_string_length(x) > LS_STR_MAX)
			return cli_jfile_err(&f->jf, where,
					     "entry %zu is not a string of 1..%d bytes", i,
					     LS_STR_MAX);
		if ((s = (char *)(uintptr_t)ls_record_strdup(r, json_string_value(x))) == NULL)
			return cli_jfile_err(&f->jf, where, "out of memory");
		if (ok != NULL) {
			for (char *p = s; *p != '\0'; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!ok(s))
				return cli_jfile_err(&f->jf, where, "'%s' is not %s",
						     json_string_value(x), what);
		}
		list[i] = s;
	}
	out->n = json_array_size(v);
	out->v = list;
	return CLI_OK;
}

static bool
is_end_use(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

/* A reference: 64 hex digits (a policy id) or the ref of an earlier entry. */
static int
get_ref(struct pfile *f, size_t self, const char *where, json_t *v, uint8_t id[LS_ID_LEN], int *ref)
{
	const char *s = NULL;
	int rc;

	if ((rc = cli_jfile_string(&f->jf, where, v, &s)) != CLI_OK)
		return rc;
	if (ls_unhex(s, id, LS_ID_LEN) == 0) {
		*ref = -1;
		return CLI_OK;
	}
	for (size_t i = 0; i < self; i++)
		if (strcmp(f->e[i].ref, s) == 0) {
			*ref = (int)i;
			return CLI_OK;
		}
	return cli_jfile_err(
	    &f->jf, where,
	    "'%s' is neither a 64-hex-digit policy id nor the \"ref\" of an earlier "
	    "policy in this file",
	    s);
}

static int
get_elements(struct pfile *f, const char *where, json_t *v, struct ls_policy *p)
{
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return cli_jfile_err(&f->jf, where, "expected a list of element symbols");
	if (json_array_size(v) > LS_LIST_MAX)
		return cli_jfile_err(&f->jf, where, "over %d elements", LS_LIST_MAX);
	json_array_foreach(v, i, x)
	{
		uint32_t z = json_is_string(x) ? ls_element_z(json_string_value(x)) : 0;
		if (z == 0)
			return cli_jfile_err(&f->jf, where, "entry %zu is not an element symbol",
					     i);
		for (size_t k = 0; k < i; k++)
			if (p->elements[k] == z)
				return cli_jfile_err(&f->jf, where, "%s listed twice",
						     ls_element_symbol(z));
		p->elements[i] = z;
	}
	p->n_elements = json_array_size(v);
	return CLI_OK;
}

static int
get_keys(struct pfile *f, struct ls_record *r, const char *where, json_t *v, struct ls_keylist *out)
{
	uint8_t(*keys)[LS_KEY_LEN];
	struct ls_err_ctx ctx = {{0}};
	size_t i;
	json_t *x;

	if (!json_is_array(v))
		return cli_jfile_err(&f->jf, where, "expected a list of public keys");
	if (json_array_size(v) > LS_LIST_MAX)
		return cli_jfile_err(&f->jf, where, "over %d keys", LS_LIST_MAX);
	if ((keys = ls_record_alloc(r, (json_array_size(v) + 1) * LS_KEY_LEN)) == NULL)
		return cli_jfile_err(&f->jf, where, "out of memory");
	json_array_foreach(v, i, x)
	{
		if (!json_is_string(x) || ls_pubkey_parse(json_string_value(x), keys[i], &ctx) != 0)
			return cli_jfile_err(&f->jf, where, "entry %zu: %s", i,
					     json_is_string(x) ? ctx.msg : "expected a string");
	}
	out->n = json_array_size(v);
	out->v = (const uint8_t(*)[LS_KEY_LEN])keys;
	return CLI_OK;
}

static int
parse_policy(struct pfile *f, size_t idx, json_t *o)
{
	struct entry *e = &f->e[idx];
	struct ls_record *r;
	struct ls_policy *p;
	char where[96];
	const char *key;
	json_t *v;
	bool has_from = false;
	int rc;

	if (!json_is_object(o)) {
		snprintf(where, sizeof(where), "policies[%zu]", idx);
		return cli_jfile_err(&f->jf, where, "expected an object");
	}
	if ((r = e->r = ls_record_new(LS_REC_POLICY)) == NULL)
		return cli_jfile_err(&f->jf, "policy", "out of memory");
	p = &r->policy;
	e->ref = "";
	json_object_foreach(o, key, v)
	{
		snprintf(where, sizeof(where), "policies[%zu].%s", idx, key);
		if (strcmp(key, "ref") == 0) {
			if ((rc = cli_jfile_string(&f->jf, where, v, &e->ref)) != CLI_OK)
				return rc;
			if ((e->ref = ls_record_strdup(r, e->ref)) == NULL)
				return cli_jfile_err(&f->jf, where, "out of memory");
			for (size_t i = 0; i < idx; i++)
				if (strcmp(f->e[i].ref, e->ref) == 0)
					return cli_jfile_err(&f->jf, where, "ref '%s' used twice",
							     e->ref);
		} else if (strcmp(key, "note") == 0 || strcmp(key, "source") == 0) {
			/* comments for people */
		} else if (strcmp(key, "jurisdiction") == 0) {
			const char *s = NULL;
			if ((rc = cli_jfile_string(&f->jf, where, v, &s)) != CLI_OK)
				return rc;
			if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) ||
			    !isalpha((unsigned char)s[1]))
				return cli_jfile_err(&f->jf, where,
						     "'%s' is not a two-letter country code", s);
			p->jurisdiction[0] = (char)toupper((unsigned char)s[0]);
			p->jurisdiction[1] = (char)toupper((unsigned char)s[1]);
			if (!ls_country_valid(p->jurisdiction)) {
				const char *hint = ls_country_hint(p->jurisdiction);
				return cli_jfile_err(
				    &f->jf, where,
				    "'%s' is not an assigned ISO 3166-1 alpha-2 country "
				    "code%s%s%s",
				    s, hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
			}
		} else if (strcmp(key, "name") == 0) {
			if ((rc = cli_jfile_string(&f->jf, where, v, &p->name)) != CLI_OK)
				return rc;
			p->name = ls_record_strdup(r, p->name);
		} else if (strcmp(key, "effective_from") == 0) {
			if ((rc = cli_jfile_date(&f->jf, where, v, &p->effective_from)) != CLI_OK)
				return rc;
			has_from = true;
		} else if (strcmp(key, "effective_until") == 0) {
			if ((rc = cli_jfile_date(&f->jf, where, v, &p->effective_until)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "controlled_elements") == 0) {
			if ((rc = get_elements(f, where, v, p)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "controlled_categories") == 0) {
			if ((rc = get_strlist(f, r, where, v, &p->controlled_categories,
					      ls_category_valid, "a category")) != CLI_OK)
				return rc;
		} else if (strcmp(key, "controlled_tech") == 0) {
			if ((rc = get_strlist(f, r, where, v, &p->controlled_tech, ls_tech_valid,
					      "a technology category (tech:...)")) != CLI_OK)
				return rc;
		} else if (strcmp(key, "exempt_categories") == 0) {
			if ((rc = get_strlist(f, r, where, v, &p->exempt_categories,
					      ls_category_valid, "a category")) != CLI_OK)
				return rc;
		} else if (strcmp(key, "denied_end_uses") == 0) {
			if ((rc = get_strlist(f, r, where, v, &p->denied_end_uses, is_end_use,
					      "an end use (lower-case word)")) != CLI_OK)
				return rc;
		} else if (strcmp(key, "denied_end_user_names") == 0) {
			if ((rc = get_strlist(f, r, where, v, &p->denied_end_user_names, NULL,
					      NULL)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "denied_end_user_keys") == 0) {
			if ((rc = get_keys(f, r, where, v, &p->denied_end_user_keys)) != CLI_OK)
				return rc;
		} else if (strcmp(key, "de_minimis_ppm") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > LS_PPM_TOTAL)
				return cli_jfile_err(&f->jf, where,
						     "expected a whole number 0..1000000");
			p->de_minimis_ppm = (uint32_t)json_integer_value(v);
		} else if (strcmp(key, "de_minimis_basis") == 0) {
			const char *s = NULL;
			if ((rc = cli_jfile_string(&f->jf, where, v, &s)) != CLI_OK)
				return rc;
			if (strcmp(s, "mass") == 0)
				p->de_minimis_basis = LS_BASIS_MASS;
			else if (strcmp(s, "value") == 0)
				p->de_minimis_basis = LS_BASIS_VALUE;
			else
				return cli_jfile_err(&f->jf, where,
						     "'%s' is neither \"mass\" nor \"value\"", s);
		} else if (strcmp(key, "applies_to_reexport") == 0) {
			if ((rc = cli_jfile_bool(&f->jf, where, v, &p->applies_to_reexport)) !=
			    CLI_OK)
				return rc;
		} else if (strcmp(key, "applies_to_foreign_tech") == 0) {
			if ((rc = cli_jfile_bool(&f->jf, where, v, &p->applies_to_foreign_tech)) !=
			    CLI_OK)
				return rc;
		} else if (strcmp(key, "supersedes") == 0) {
			uint8_t(*ids)[LS_ID_LEN];
			size_t i;
			json_t *x;
			if (!json_is_array(v) || json_array_size(v) > LS_LIST_MAX)
				return cli_jfile_err(&f->jf, where,
						     "expected a list of at most %d policies",
						     LS_LIST_MAX);
			ids = ls_record_alloc(r, (json_array_size(v) + 1) * LS_ID_LEN);
			if (ids == NULL)
				return cli_jfile_err(&f->jf, where, "out of memory");
			json_array_foreach(v, i, x)
			{
				if ((rc = get_ref(f, idx, where, x, ids[i],
						  &e->supersede_ref[i])) != CLI_OK)
					return rc;
			}
			p->supersedes.n = json_array_size(v);
			p->supersedes.v = (const uint8_t(*)[LS_KEY_LEN])ids;
		} else if (strcmp(key, "suspends") == 0) {
			struct ls_suspension *sus;
			size_t i;
			json_t *x;
			if (!json_is_array(v) || json_array_size(v) > LS_LIST_MAX)
				return cli_jfile_err(&f->jf, where,
						     "expected a list of at most %d suspensions",
						     LS_LIST_MAX);
			sus = ls_record_alloc(r, (json_array_size(v) + 1) * sizeof(*sus));
			if (sus == NULL)
				return cli_jfile_err(&f->jf, where, "out of memory");
			json_array_foreach(v, i, x)
			{
				json_t *pol = json_object_get(x, "policy");
				json_t *from = json_object_get(x, "from");
				json_t *until = json_object_get(x, "until");
				snprintf(where, sizeof(where), "policies[%zu].suspends[%zu]", idx,
					 i);
				if (!json_is_object(x) || pol == NULL || from == NULL ||
				    until == NULL || json_object_size(x) != 3)
					return cli_jfile_err(
					    &f->jf, where,
					    "expected {\"policy\", \"from\", \"until\"}");
				if ((rc = get_ref(f, idx, where, pol, sus[i].policy,
						  &e->suspend_ref[i])) != CLI_OK ||
				    (rc = cli_jfile_date(&f->jf, where, from, &sus[i].from)) !=
					CLI_OK ||
				    (rc = cli_jfile_date(&f->jf, where, until, &sus[i].until)) !=
					CLI_OK)
					return rc;
				if (sus[i].until <= sus[i].from)
					return cli_jfile_err(&f->jf, where,
							     "\"until\" is not after \"from\"");
			}
			p->n_suspends = json_array_size(v);
			p->suspends = sus;
		} else {
			return cli_jfile_err(&f->jf, where,
					     "unknown key (see contrib/policies/README.md)");
		}
	}
	snprintf(where, sizeof(where), "policies[%zu]", idx);
	if (p->jurisdiction[0] == '\0')
		return cli_jfile_err(&f->jf, where, "\"jurisdiction\" is required");
	if (p->name == NULL || p->name[0] == '\0')
		return cli_jfile_err(&f->jf, where, "\"name\" is required");
	if (!has_from)
		return cli_jfile_err(&f->jf, where, "\"effective_from\" is required");
	if (p->effective_until != 0 && p->effective_until <= p->effective_from)
		return cli_jfile_err(&f->jf, where,
				     "\"effective_until\" is not after \"effective_from\"");
	return CLI_OK;
}

static int
parse_file(struct pfile *f, struct cli *c, const char *path)
{
	json_t *root, *list;
	size_t i;
	json_t *x;
	int rc = CLI_OK;

	if ((rc = cli_jfile_load(c, path, POLICY_FILE_BYTES, "a policy file", &f->jf)) != CLI_OK)
		return rc;
	root = f->jf.root;
	list = json_object_get(root, "policies");
	if (json_is_object(root) && list == NULL) {
		/* A file of one policy. */
		rc = parse_policy(f, 0, root);
		f->n = 1;
		goto out;
	}
	if (!json_is_array(list) || json_array_size(list) == 0) {
		rc = cli_jfile_err(&f->jf, "policies", "expected a non-empty list of policies");
		goto out;
	}
	if (json_array_size(list) > POLICY_FILE_MAX) {
		rc = cli_jfile_err(&f->jf, "policies", "over %d policies", POLICY_FILE_MAX);
		goto out;
	}
	{
		const char *key;
		json_t *v;
		json_object_foreach(root, key, v)
		{
			if (strcmp(key, "policies") != 0 && strcmp(key, "format") != 0 &&
			    strcmp(key, "note") != 0 && strcmp(key, "source") != 0) {
				rc = cli_jfile_err(&f->jf, key,
						   "unknown key (see contrib/policies/README.md)");
				goto out;
			}
		}
		v = json_object_get(root, "format");
		if (v != NULL && (!json_is_string(v) ||
				  strcmp(json_string_value(v), "lodestone-policy/1") != 0)) {
			rc = cli_jfile_err(&f->jf, "format",
					   "unsupported: this client reads \"lodestone-policy/1\"");
			goto out;
		}
	}
	json_array_foreach(list, i, x)
	{
		f->n = i + 1;
		if ((rc = parse_policy(f, i, x)) != CLI_OK)
			goto out;
	}
out:
	return rc; /* f->jf is released by the caller, after the records are written */
}

/*
 * Prints what was published. Called also after a failure part way: the
 * policies published before it are on the ledger and their ids matter.
 */
static void
print_published(struct cli *c, struct pfile *f, size_t n)
{
	char hex[LS_HEX_KEY_LEN + 1];

	if (c->json) {
		json_t *o = json_object(), *a = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "id", out_json_hex(f->e[i].r->id, LS_ID_LEN));
			json_object_set_new(x, "name", json_string(f->e[i].r->policy.name));
			if (f->e[i].ref[0] != '\0')
				json_object_set_new(x, "ref", json_string(f->e[i].ref));
			json_array_append_new(a, x);
		}
		if (n > 0)
			json_object_set_new(o, "id", out_json_hex(f->e[n - 1].r->id, LS_ID_LEN));
		json_object_set_new(o, "policies", a);
		json_object_set_new(o, "lots", json_array());
		out_json(o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		puts(ls_hex(f->e[i].r->id, LS_ID_LEN, hex));
}

int
cmd_policy_publish(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct pfile *f = NULL;
	struct ls_keypair *kp;
	size_t done = 0;
	int ch, rc = CLI_USAGE;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which file? give FILE.json");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	if ((rc = parse_file(f, c, argv[optind])) != CLI_OK)
		goto out;
	/* Load the key before the first record, so that a bad key publishes nothing. */
	if ((rc = cli_key(c, &kp)) != CLI_OK || (rc = cli_connect(c)) != CLI_OK)
		goto out;
	for (done = 0; done < f->n; done++) {
		struct entry *e = &f->e[done];
		struct ls_policy *p = &e->r->policy;
		for (size_t i = 0; i < p->n_suspends; i++)
			if (e->suspend_ref[i] >= 0)
				memcpy((uint8_t *)(uintptr_t)p->suspends[i].policy,
				       f->e[e->suspend_ref[i]].r->id, LS_ID_LEN);
		for (size_t i = 0; i < p->supersedes.n; i++)
			if (e->supersede_ref[i] >= 0)
				memcpy((uint8_t *)(uintptr_t)p->supersedes.v[i],
				       f->e[e->supersede_ref[i]].r->id, LS_ID_LEN);
		if ((rc = cli_write(c, e->r)) != CLI_OK)
			break;
	}
	if (rc != CLI_OK && done > 0)
		cli_err("%s: %zu of %zu policies of '%s' were published before the failure", c->cmd,
			done, f->n, f->jf.path);
	if (done > 0 || rc == CLI_OK)
		print_published(c, f, done);
out:
	if (f != NULL) {
		for (size_t i = 0; i < f->n; i++)
			ls_record_free(f->e[i].r);
		cli_jfile_release(&f->jf);
	}
	free(f);
	return rc;
}
