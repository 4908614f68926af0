/*
 * args.c - parsing option values. Each parser prints one `lodestone:` line
 * naming the flag and the value at fault and returns CLI_USAGE, or CLI_OK.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "note.h"
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

int
cli_parse_duration(struct cli *c, const char *flag, const char *s, uint64_t *secs)
{
	static const struct {
		char unit;
		uint64_t mul;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}};
	char *end;
	unsigned long long x;
	uint64_t mul = 1;

	errno = 0;
	if (s == NULL || *s < '0' || *s > '9')
		goto bad;
	x = strtoull(s, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end != '\0') {
		size_t i;
		for (i = 0; i < sizeof(units) / sizeof(units[0]) && units[i].unit != *end; i++)
			;
		if (i == sizeof(units) / sizeof(units[0]) || end[1] != '\0')
			goto bad;
		mul = units[i].mul;
	}
	if (x == 0 || x > UINT64_MAX / mul)
		goto bad;
	*secs = (uint64_t)x * mul;
	return CLI_OK;
bad:
	return cli_usage_err(c,
			     "%s '%s' is not a duration (a positive number of seconds, or with "
			     "s, m, h, d or w: 90s, 10m, 2h, 7d)",
			     flag, s ? s : "");
}

/* Bytes of a file holding a vkey (the key and a newline, some comments). */
#define VKEY_FILE_MAX 4096

int
cli_parse_vkey(struct cli *c, const char *flag, const char *s, uint8_t type, struct ls_vkey *k)
{
	struct ls_err_ctx ctx = {{0}}, fctx = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	char line[LS_VKEY_MAX] = "";
	int rc;

	rc = ls_vkey_parse(s, k, &ctx);
	if (rc != 0 && strchr(s, '+') == NULL) {
		/* Not a key: a file holding one, on its first line that is not a
		 * comment. */
		const char *p, *end;
		if (ls_file_read(s, VKEY_FILE_MAX, &buf, &len, &fctx) != 0)
			return cli_usage_err(c,
					     "%s '%s' is neither a verifier key nor a readable "
					     "file: %s",
					     flag, s, fctx.msg);
		for (p = (const char *)buf, end = p + len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = (size_t)((nl ? nl : end) - p);
			while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
				n--;
			if (n > 0 && p[0] != '#') {
				if (n >= sizeof(line)) {
					free(buf);
					return cli_usage_err(c, "%s: the key in '%s' is too long",
							     flag, s);
				}
				memcpy(line, p, n);
				line[n] = '\0';
				break;
			}
			line[0] = '\0';
			p = nl ? nl + 1 : end;
		}
		free(buf);
		if (len == 0 || line[0] == '\0')
			return cli_usage_err(c, "%s: '%s' holds no verifier key", flag, s);
		memset(&ctx, 0, sizeof(ctx));
		if ((rc = ls_vkey_parse(line, k, &ctx)) != 0)
			return cli_usage_err(c, "%s: the key in '%s' is not a verifier key: %s",
					     flag, s, ctx.msg);
	} else if (rc != 0) {
		return cli_usage_err(c, "%s '%s' is not a verifier key: %s", flag, s, ctx.msg);
	}
	if (k->type != type)
		return cli_usage_err(c, "%s '%s' is a key of type 0x%02x, not a %s (0x%02x)", flag,
				     k->name, k->type,
				     type == LS_NOTE_COSIG ? "witness key" : "log key", type);
	return CLI_OK;
}
