/*
 * config.c - lodestoned's settings: the config file (`key = value`, read with
 * inih) and the command line use the same names, the command line winning.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "api_codec.h"
#include "gossip.h"
#include "lodestoned.h"
#include "util.h"

void
lsd_config_init(struct lsd_config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = LOG_LEVEL_INFO;
	c->sync_interval = 10;
	c->witness_grace = LS_WITNESS_GRACE;
	c->checkpoint_interval = 1;
	c->stream_chunk = (unsigned)LS_API_CHUNK_DEFAULT;
	c->streams_max = LSD_STREAMS_MAX;
	c->streams_per_client = LSD_STREAMS_PER_PEER;
	c->stream_idle = LSD_STREAM_IDLE_MS / 1000;
	c->stream_memory = (unsigned)(LSD_STREAM_MEMORY >> 20);
	c->readers = lsd_readers_default();
	c->api_connections = LSD_API_CONNECTIONS;
	c->api_queue = LSD_API_QUEUE;
	c->api_queue_total = LSD_API_QUEUE_TOTAL;
	c->peer_verify_rate = LSD_PEER_VERIFY_RATE;
}

unsigned
lsd_readers_default(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	/* One per core, at least 2 (a long query leaves one free), at most 16. */
	return n < 2 ? 2 : n > 16 ? 16 : (unsigned)n;
}

void
lsd_config_release(struct lsd_config *c)
{
	if (c == NULL)
		return;
	free(c->data_dir);
	free(c->api);
	free(c->listen);
	for (size_t i = 0; i < c->n_peers; i++)
		free(c->peers[i].endpoint);
	free(c->peers);
	free(c->allow);
	free(c->trust);
	free(c->witnesses);
	memset(c, 0, sizeof(*c));
}

int
lsd_log_level_parse(const char *s, enum log_level *level)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	return LS_ERR_INVALID;
}

/* ipc://PATH or tcp://HOST:PORT, printable, of a length ZeroMQ takes. */
static int
check_endpoint(const char *s, const char *where, struct ls_err_ctx *ctx)
{
	size_t n = strlen(s);

	if ((strncmp(s, "ipc://", 6) != 0 && strncmp(s, "tcp://", 6) != 0) || n <= 6)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "%s: '%s' is not an endpoint (ipc://PATH or tcp://HOST:PORT)",
				  where, s);
	if (n >= 256)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: endpoint is too long", where);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "%s: endpoint '%s' has a space or control character",
					  where, s);
	if (strncmp(s, "tcp://", 6) == 0 && strrchr(s, ':') == s + 3)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: endpoint '%s' has no port", where, s);
	return 0;
}

static int
set_string(char **dst, const char *value)
{
	char *v = strdup(value);

	if (v == NULL)
		return LS_ERR_NOMEM;
	free(*dst);
	*dst = v;
	return 0;
}

static int
add_key(uint8_t (**list)[LS_KEY_LEN], size_t *n, const uint8_t key[LS_KEY_LEN])
{
	uint8_t(*nl)[LS_KEY_LEN];

	for (size_t i = 0; i < *n; i++)
		if (memcmp((*list)[i], key, LS_KEY_LEN) == 0)
			return 0; /* named twice: once is enough */
	if ((nl = realloc(*list, (*n + 1) * sizeof(*nl))) == NULL)
		return LS_ERR_NOMEM;
	memcpy(nl[*n], key, LS_KEY_LEN);
	*list = nl;
	(*n)++;
	return 0;
}

/* --peer HEX@ENDPOINT */
static int
add_peer(struct lsd_config *c, const char *value, const char *where, struct ls_err_ctx *ctx)
{
	const char *at = strchr(value, '@');
	char hex[LS_HEX_KEY_LEN + 1];
	struct lsd_peer *np;
	uint8_t key[LS_KEY_LEN];
	int rc;

	if (at == NULL || at - value != LS_HEX_KEY_LEN)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "%s: '%s' is not HEX@ENDPOINT (64 hex digits, '@', endpoint)",
				  where, value);
	memcpy(hex, value, LS_HEX_KEY_LEN);
	hex[LS_HEX_KEY_LEN] = '\0';
	if (ls_unhex(hex, key, LS_KEY_LEN) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: '%s' is not a 64-hex-digit key", where,
				  hex);
	if ((rc = ls_pubkey_parse(hex, key, ctx)) != 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: '%s' is not a valid public key", where,
				  hex);
	if ((rc = check_endpoint(at + 1, where, ctx)) != 0)
		return rc;
	for (size_t i = 0; i < c->n_peers; i++)
		if (memcmp(c->peers[i].key, key, LS_KEY_LEN) == 0)
			return ls_err_set(ctx, LS_ERR_INVALID, "%s: peer %s is named twice", where,
					  hex);
	if ((np = realloc(c->peers, (c->n_peers + 1) * sizeof(*np))) == NULL)
		return LS_ERR_NOMEM;
	c->peers = np;
	memcpy(np[c->n_peers].key, key, LS_KEY_LEN);
	if ((np[c->n_peers].endpoint = strdup(at + 1)) == NULL)
		return LS_ERR_NOMEM;
	c->n_peers++;
	/* A daemon we connect to may also connect to us. */
	return add_key(&c->allow, &c->n_allow, key);
}

/* witness = VKEY: a witness key (type 0x04) of the daemon's witness policy. */
static int
add_witness(struct lsd_config *c, const char *value, const char *where, struct ls_err_ctx *ctx)
{
	struct ls_vkey k, *nw;
	int rc;

	if ((rc = ls_vkey_parse(value, &k, ctx)) != 0) {
		char msg[LS_ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", ls_err_msg(ctx, rc));
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: %s", where, msg);
	}
	if (k.type != LS_NOTE_COSIG)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "%s: '%s' is not a witness key (type 0x04, not 0x%02x)", where,
				  k.name, k.type);
	for (size_t i = 0; i < c->n_witnesses; i++)
		if (memcmp(c->witnesses[i].pk, k.pk, 32) == 0)
			return 0; /* named twice: once is enough */
	if (c->n_witnesses >= LSD_WITNESSES_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: over %d witnesses", where,
				  LSD_WITNESSES_MAX);
	if ((nw = realloc(c->witnesses, (c->n_witnesses + 1) * sizeof(*nw))) == NULL)
		return LS_ERR_NOMEM;
	c->witnesses = nw;
	nw[c->n_witnesses++] = k;
	return 0;
}

/* A decimal number from lo to hi. */
static int
set_number(unsigned *dst, const char *value, unsigned long lo, unsigned long hi, const char *what,
	   const char *where, struct ls_err_ctx *ctx)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || value[0] < '0' || value[0] > '9' || v < lo || v > hi)
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: '%s' is not %s from %lu to %lu", where,
				  value, what, lo, hi);
	*dst = (unsigned)v;
	return 0;
}

int
lsd_config_set(struct lsd_config *c, const char *key, const char *value, const char *where,
	       struct ls_err_ctx *ctx)
{
	uint8_t pk[LS_KEY_LEN];
	int rc;

	if (value == NULL || *value == '\0')
		return ls_err_set(ctx, LS_ERR_INVALID, "%s: empty value", where);
	if (strcmp(key, "data-dir") == 0)
		return set_string(&c->data_dir, value);
	if (strcmp(key, "api") == 0) {
		if ((rc = check_endpoint(value, where, ctx)) != 0)
			return rc;
		return set_string(&c->api, value);
	}
	if (strcmp(key, "listen") == 0) {
		if ((rc = check_endpoint(value, where, ctx)) != 0)
			return rc;
		return set_string(&c->listen, value);
	}
	if (strcmp(key, "peer") == 0)
		return add_peer(c, value, where, ctx);
	if (strcmp(key, "allow-peer") == 0) {
		if ((rc = ls_pubkey_parse(value, pk, ctx)) != 0) {
			char msg[LS_ERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", ls_err_msg(ctx, rc));
			return ls_err_set(ctx, rc, "%s: %s", where, msg);
		}
		return add_key(&c->allow, &c->n_allow, pk);
	}
	if (strcmp(key, "trust") == 0) {
		if ((rc = ls_pubkey_load_public(value, pk, ctx)) != 0) {
			char msg[LS_ERR_MSG_MAX];
			snprintf(msg, sizeof(msg), "%s", ls_err_msg(ctx, rc));
			return ls_err_set(ctx, rc, "%s: %s", where, msg);
		}
		return add_key(&c->trust, &c->n_trust, pk);
	}
	if (strcmp(key, "sync-interval") == 0 || strcmp(key, "checkpoint-interval") == 0) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno != 0 || *end != '\0' || value[0] < '0' || value[0] > '9' || v < 1 ||
		    v > 3600)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "%s: '%s' is not a number of seconds from 1 to 3600",
					  where, value);
		if (key[0] == 's')
			c->sync_interval = (unsigned)v;
		else
			c->checkpoint_interval = (unsigned)v;
		return 0;
	}
	if (strcmp(key, "witness") == 0)
		return add_witness(c, value, where, ctx);
	if (strcmp(key, "stream-chunk") == 0)
		return set_number(&c->stream_chunk, value, LS_API_CHUNK_MIN, LS_API_CHUNK_MAX,
				  "a number of bytes", where, ctx);
	if (strcmp(key, "streams-max") == 0)
		return set_number(&c->streams_max, value, 1, 4096, "a number of streams", where,
				  ctx);
	if (strcmp(key, "streams-per-client") == 0)
		return set_number(&c->streams_per_client, value, 1, 4096, "a number of streams",
				  where, ctx);
	if (strcmp(key, "stream-memory") == 0)
		return set_number(&c->stream_memory, value, 1, 1u << 20, "a number of MiB", where,
				  ctx);
	if (strcmp(key, "stream-idle") == 0)
		return set_number(&c->stream_idle, value, 1, 3600, "a number of seconds", where,
				  ctx);
	if (strcmp(key, "witness-quorum") == 0)
		return set_number(&c->witness_quorum, value, 1, 1000, "a number of witnesses",
				  where, ctx);
	if (strcmp(key, "witness-grace") == 0)
		return set_number(&c->witness_grace, value, 0, 365 * 86400u, "a number of seconds",
				  where, ctx);
	if (strcmp(key, "readers") == 0)
		return set_number(&c->readers, value, 0, LSD_READERS_MAX,
				  "a number of reader threads", where, ctx);
	if (strcmp(key, "api-connections") == 0)
		return set_number(&c->api_connections, value, 1, 65536, "a number of connections",
				  where, ctx);
	if (strcmp(key, "api-queue") == 0)
		return set_number(&c->api_queue, value, 1, 1u << 20, "a number of MiB", where, ctx);
	if (strcmp(key, "api-queue-total") == 0)
		return set_number(&c->api_queue_total, value, 1, 1u << 20, "a number of MiB", where,
				  ctx);
	if (strcmp(key, "peer-verify-rate") == 0)
		return set_number(&c->peer_verify_rate, value, LS_GOSSIP_RECORDS_MAX / 2, 10000000,
				  "a number of records a second", where, ctx);
	if (strcmp(key, "log-level") == 0) {
		if (lsd_log_level_parse(value, &c->log_level) != 0)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "%s: level '%s' is not error, warn, info or debug", where,
					  value);
		return 0;
	}
	return ls_err_set(ctx, LS_ERR_INVALID, "%s: unknown setting '%s'", where, key);
}

struct load_state {
	struct lsd_config *c;
	const char *path;
	FILE *f;
	int line; /* lines read so far: the line of the setting being handled */
	int rc;
	struct ls_err_ctx *ctx;
};

/*
 * fgets that counts lines, so that messages can name the line at fault, and
 * that checks what inih would take silently or too late: a section header
 * other than [lodestoned] (named on its own line, even with no setting
 * under it), and an indented line, which inih joins to the value above.
 * A line at fault stops the parse with st->rc set.
 */
static char *
ini_reader_fn(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char *r, *p, *end;

	if (st->rc != 0 || (r = fgets(str, num, st->f)) == NULL)
		return NULL;
	if (strchr(r, '\n') != NULL || feof(st->f))
		st->line++;
	for (p = r; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0' || *p == '\n' || *p == '\r' || *p == '#' || *p == ';')
		return r;
	if (p != r) {
		st->rc =
		    ls_err_set(st->ctx, LS_ERR_INVALID,
			       "config '%s' line %d: an indented line would continue the value "
			       "above: start settings at the beginning of the line",
			       st->path, st->line);
		return NULL;
	}
	if (*p == '[') {
		end = strchr(p, ']');
		if (end == NULL || (size_t)(end - p - 1) != strlen("lodestoned") ||
		    strncmp(p + 1, "lodestoned", strlen("lodestoned")) != 0) {
			if (end != NULL)
				*end = '\0';
			st->rc = ls_err_set(st->ctx, LS_ERR_INVALID,
					    "config '%s' line %d: unknown section %s%s (use "
					    "[lodestoned] or none)",
					    st->path, st->line, p, end != NULL ? "]" : "");
			return NULL;
		}
	}
	return r;
}

static int
on_setting(void *user, const char *section, const char *name, const char *value)
{
	struct load_state *st = user;
	char where[LS_ERR_MSG_MAX];

	snprintf(where, sizeof(where), "config '%s' line %d", st->path, st->line);
	(void)section; /* checked by ini_reader_fn where its header is */
	if ((st->rc = lsd_config_set(st->c, name, value, where, st->ctx)) != 0)
		return 0;
	return 1;
}

int
lsd_config_load(struct lsd_config *c, const char *path, struct ls_err_ctx *ctx)
{
	struct load_state st = {c, path, NULL, 0, 0, ctx};
	int rc;

	if ((st.f = fopen(path, "r")) == NULL)
		return ls_err_set(ctx, errno == ENOENT ? LS_ERR_NOT_FOUND : LS_ERR_IO,
				  "cannot read config '%s': %s", path, strerror(errno));
	rc = ini_parse_stream(ini_reader_fn, &st, on_setting, &st);
	fclose(st.f);
	if (st.rc != 0)
		return st.rc;
	if (rc != 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "config '%s' line %d: not `key = value`",
				  path, rc);
	return 0;
}

int
lsd_config_default_dir(struct lsd_config *c, struct ls_err_ctx *ctx)
{
	const char *env = getenv("LODESTONE_HOME"), *home;
	char buf[4096];

	if (c->data_dir != NULL)
		return 0;
	if (env != NULL && *env != '\0')
		return set_string(&c->data_dir, env);
	home = getenv("HOME");
	if (home == NULL || *home == '\0') {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : NULL;
	}
	if (home == NULL || *home == '\0')
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "no data directory: set --data-dir, $LODESTONE_HOME or $HOME");
	if ((size_t)snprintf(buf, sizeof(buf), "%s/.lodestone", home) >= sizeof(buf))
		return ls_err_set(ctx, LS_ERR_INVALID, "home directory path is too long");
	return set_string(&c->data_dir, buf);
}

int
lsd_config_finish(struct lsd_config *c, struct ls_err_ctx *ctx)
{
	char buf[4096];

	if (c->api != NULL)
		return 0;
	if ((size_t)snprintf(buf, sizeof(buf), "ipc://%s/api.sock", c->data_dir) >= 256)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "data dir '%s' is too long for the API socket: use --api",
				  c->data_dir);
	return set_string(&c->api, buf);
}
