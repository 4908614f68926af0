/*
 * jsonfile.c - the JSON files a user writes by hand for the client: policy
 * files (policy publish, contrib/policies/README.md) and compliance profiles
 * (check, contrib/profiles/README.md). One reader for both: the file read
 * whole (bounded), parsed with duplicate keys refused, and every error naming
 * the file, the line and the field at fault ("FILE:LINE: policies[1].name:
 * ..."). jansson keeps no positions, so the text is scanned once more
 * (json_lines) for the line on which each value starts, by its path
 * ("rules[1].countries[2]").
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#include "client.h"

#define PATHS_MAX 4096

struct jpos {
	char path[96];
	int line;
};

struct cli_jlines {
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
json_lines(const char *s, struct cli_jlines *out)
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

int
cli_jfile_load(struct cli *c, const char *path, size_t max_bytes, const char *what,
	       struct cli_jfile *f)
{
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	FILE *fp;
	int rc = CLI_USAGE;

	memset(f, 0, sizeof(*f));
	f->c = c;
	f->path = path;
	if ((fp = fopen(path, "rb")) == NULL) {
		cli_err("%s: cannot read '%s': %s", c->cmd, path, strerror(errno));
		return CLI_USAGE;
	}
	if ((text = malloc(max_bytes + 1)) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		fclose(fp);
		return CLI_FAIL;
	}
	len = fread(text, 1, max_bytes + 1, fp);
	if (ferror(fp)) {
		cli_err("%s: cannot read '%s': %s", c->cmd, path, strerror(errno));
		goto out;
	}
	if (len > max_bytes) {
		cli_err("%s: cannot read '%s': not %s (over %zu bytes)", c->cmd, path, what,
			max_bytes);
		goto out;
	}
	text[len] = '\0';
	if ((f->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		cli_err("%s: %s:%d:%d: %s", c->cmd, path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if ((f->lines = malloc(sizeof(*f->lines))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	json_lines(text, f->lines);
	rc = CLI_OK;
out:
	fclose(fp);
	free(text);
	if (rc != CLI_OK)
		cli_jfile_release(f);
	return rc;
}

void
cli_jfile_release(struct cli_jfile *f)
{
	if (f == NULL)
		return;
	json_decref(f->root);
	free(f->lines);
	f->root = NULL;
	f->lines = NULL;
}

int
cli_jfile_err(const struct cli_jfile *f, const char *where, const char *fmt, ...)
{
	va_list ap;
	int line = 0;
	size_t best = 0;

	/* the line of the deepest known prefix of where */
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

int
cli_jfile_string(const struct cli_jfile *f, const char *where, json_t *v, const char **out)
{
	if (!json_is_string(v))
		return cli_jfile_err(f, where, "expected a string");
	*out = json_string_value(v);
	if (strlen(*out) > LS_STR_MAX)
		return cli_jfile_err(f, where, "longer than %d bytes", LS_STR_MAX);
	return CLI_OK;
}

int
cli_jfile_date(const struct cli_jfile *f, const char *where, json_t *v, uint64_t *t)
{
	const char *s = NULL;
	int rc;

	if ((rc = cli_jfile_string(f, where, v, &s)) != CLI_OK)
		return rc;
	if (ls_time_parse(s, t) != 0)
		return cli_jfile_err(f, where, "'%s' is not a date (YYYY-MM-DD or RFC 3339)", s);
	return CLI_OK;
}

int
cli_jfile_bool(const struct cli_jfile *f, const char *where, json_t *v, bool *b)
{
	if (!json_is_boolean(v))
		return cli_jfile_err(f, where, "expected true or false");
	*b = json_is_true(v);
	return CLI_OK;
}
