/*
 * args.c - parsing option values. Each parser prints one `lodestone:` line
 * naming the flag and the value at fault and returns CLI_USAGE, or CLI_OK.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "util.h"

#include "client.h"

int
cli_parse_u64(struct cli *c, const char *flag, const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		return cli_usage_err(c, "%s '%s' is not a whole number", flag, s ? s : "");
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return cli_usage_err(c, "%s '%s' is not a whole number", flag, s);
	*v = x;
	return CLI_OK;
}

int
cli_parse_grams(struct cli *c, const char *flag, const char *s, uint64_t *v)
{
	int rc = cli_parse_u64(c, flag, s, v);

	if (rc != CLI_OK)
		return rc;
	if (*v == 0 || *v > LS_GRAMS_MAX)
		return cli_usage_err(c, "%s '%s' must be 1..%llu grams", flag, s,
				     (unsigned long long)LS_GRAMS_MAX);
	return CLI_OK;
}

int
cli_parse_date(struct cli *c, const char *flag, const char *s, uint64_t *t)
{
	if (ls_time_parse(s, t) != 0)
		return cli_usage_err(c, "%s '%s' is not a date (YYYY-MM-DD or RFC 3339)", flag, s);
	return CLI_OK;
}

int
cli_parse_country(struct cli *c, const char *flag, const char *s, char out[3])
{
	const char *hint;

	if (strlen(s) != 2 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]))
		return cli_usage_err(c, "%s '%s' is not a two-letter country code", flag, s);
	out[0] = (char)toupper((unsigned char)s[0]);
	out[1] = (char)toupper((unsigned char)s[1]);
	out[2] = '\0';
	if (ls_country_valid(out))
		return CLI_OK;
	hint = ls_country_hint(out);
	return cli_usage_err(c, "%s '%s' is not an assigned ISO 3166-1 alpha-2 country code%s%s%s",
			     flag, s, hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

/* Splits s at commas into r's arena; empty items are an error. */
static int
split(struct cli *c, const char *flag, const char *s, struct ls_record *r, struct ls_strlist *out)
{
	size_t n = 1, i = 0;
	const char *p;
	const char **v;

	for (p = s; *p != '\0'; p++)
		if (*p == ',')
			n++;
	if (n > LS_LIST_MAX)
		return cli_usage_err(c, "%s lists over %d items", flag, LS_LIST_MAX);
	if ((v = ls_record_alloc(r, n * sizeof(*v))) == NULL)
		return cli_usage_err(c, "out of memory");
	for (p = s;; i++) {
		size_t len = strcspn(p, ",");
		char *item;
		if (len == 0)
			return cli_usage_err(c, "%s '%s' has an empty item", flag, s);
		if ((item = ls_record_alloc(r, len + 1)) == NULL)
			return cli_usage_err(c, "out of memory");
		memcpy(item, p, len);
		v[i] = item;
		p += len;
		if (*p == '\0')
			break;
		p++;
	}
	out->n = n;
	out->v = v;
	return CLI_OK;
}

int
cli_parse_countries(struct cli *c, const char *flag, const char *s, struct ls_record *r,
		    struct ls_strlist *out)
{
	int rc;

	if ((rc = split(c, flag, s, r, out)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < out->n; i++) {
		char cc[3];
		if ((rc = cli_parse_country(c, flag, out->v[i], cc)) != CLI_OK)
			return rc;
		memcpy((char *)(uintptr_t)out->v[i], cc, 3);
	}
	return CLI_OK;
}

int
cli_parse_list(struct cli *c, const char *flag, const char *s, struct ls_record *r,
	       struct ls_strlist *out, bool (*ok)(const char *))
{
	int rc;

	if ((rc = split(c, flag, s, r, out)) != CLI_OK)
		return rc;
	for (size_t i = 0; i < out->n; i++) {
		char *item = (char *)(uintptr_t)out->v[i];
		for (char *q = item; *q != '\0'; q++)
			*q = (char)tolower((unsigned char)*q);
		if (ok != NULL && !ok(item))
			return cli_usage_err(c, "%s: unknown item '%s'", flag, item);
	}
	return CLI_OK;
}

int
cli_parse_key(struct cli *c, const char *flag, const char *s, uint8_t pk[LS_KEY_LEN])
{
	struct ls_err_ctx ctx = {{0}};

	if (ls_pubkey_parse(s, pk, &ctx) != 0)
		return cli_usage_err(c, "%s: %s", flag, ctx.msg);
	return CLI_OK;
}

int
cli_parse_text(struct cli *c, const char *flag, const char *s, bool allow_empty)
{
	size_t n = strlen(s);

	if (n == 0 && !allow_empty)
		return cli_usage_err(c, "%s must not be empty", flag);
	if (n > LS_STR_MAX)
		return cli_usage_err(c, "%s is longer than %d bytes", flag, LS_STR_MAX);
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cli_usage_err(c, "%s holds a control character", flag);
	return CLI_OK;
}

int
cli_parse_end_use(struct cli *c, const char *flag, const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return cli_usage_err(c, "%s '%s' is not an end use (civilian, military, ...)", flag,
				     s);
	for (const char *p = s; *p != '\0'; p++)
		if (!islower((unsigned char)*p) && *p != '-' && *p != '_')
			return cli_usage_err(c,
					     "%s '%s' is not an end use: lower-case words such as "
					     "civilian, military",
					     flag, s);
	return CLI_OK;
}

int
cli_query_opt(struct cli *c, int ch, const char *arg, struct ls_export_query *q)
{
	int rc = CLI_OK;

	switch (ch) {
	case CLI_OPT_Q_FROM:
		if ((rc = cli_parse_key(c, "--from", arg, q->from)) == CLI_OK)
			q->has_from = true;
		break;
	case CLI_OPT_Q_EXPORT_TO:
		rc = cli_parse_country(c, "--export-to", arg, q->destination);
		break;
	case CLI_OPT_Q_END_USER:
		if ((rc = cli_parse_key(c, "--end-user", arg, q->end_user)) == CLI_OK)
			q->has_end_user = true;
		break;
	case CLI_OPT_Q_END_USE:
		if ((rc = cli_parse_end_use(c, "--end-use", arg)) == CLI_OK)
			q->end_use = arg;
		break;
	case CLI_OPT_Q_AT: rc = cli_parse_date(c, "--at", arg, &q->time); break;
	default: rc = CLI_USAGE; break;
	}
	return rc;
}

bool
cli_item_valid(const char *s)
{
	return ls_category_valid(s) || ls_tech_valid(s) || ls_element_z(s) != 0;
}

int
cli_parse_comp(struct cli *c, const char *flag, const char *s, struct ls_comp *comp)
{
	struct ls_err_ctx ctx = {{0}};

	if (ls_comp_parse(s, comp, &ctx) != 0)
		return cli_usage_err(c, "%s: %s", flag, ctx.msg);
	if (comp->n == 0)
		return cli_usage_err(c, "%s is empty: give EL=PPM[,EL=PPM...]", flag);
	return CLI_OK;
}
