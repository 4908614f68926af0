/*
 * session.c - what every writing or asking command needs: the signing key,
 * the daemon connection, names resolved to ids, and the path that completes,
 * signs and submits one record.
 *
 * Keys never leave this process: the daemon only sees signed envelopes.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "api.h"
#include "keyfile.h"
#include "passphrase.h"
#include "reason.h"
#include "util.h"

#include "client.h"

int
cli_key(struct cli *c, struct ls_keypair **kp)
{
	struct ls_err_ctx ctx = {{0}};
	char *pass = NULL, prompt[300];
	bool encrypted = false;
	int rc;

	if (c->key != NULL) {
		*kp = c->key;
		return CLI_OK;
	}
	if (c->key_path == NULL)
		return cli_usage_err(c, "no signing key: give -k FILE");
	if (ls_key_is_encrypted(c->key_path, &encrypted, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	if (encrypted) {
		snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", c->key_path);
		if (ls_passphrase_get(c->passphrase_file, prompt, false, &pass, &ctx) != 0) {
			cli_err("%s: key file '%s': %s", c->cmd, c->key_path, ctx.msg);
			return CLI_USAGE;
		}
	}
	rc = ls_key_load(c->key_path, pass, &c->key, &ctx);
	ls_passphrase_free(&pass);
	if (rc == LS_ERR_PASSPHRASE) {
		cli_err("%s: wrong passphrase for key file '%s'", c->cmd, c->key_path);
		return CLI_USAGE;
	}
	if (rc != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	*kp = c->key;
	return CLI_OK;
}

/*
 * A duration: a whole number with an optional unit, ms, s (the default) or
 * m, at most a day; "0" is no limit. -1 when s is not one.
 */
static long
duration_ms(const char *s)
{
	unsigned long v = 0;
	long mul = 1000;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 86400000ul)
			return -1;
	}
	if (strcmp(p, "ms") == 0)
		mul = 1;
	else if (strcmp(p, "m") == 0)
		mul = 60000;
	else if (*p != '\0' && strcmp(p, "s") != 0)
		return -1;
	if (v * (unsigned long)mul > 86400000ul)
		return -1;
	return (long)(v * (unsigned long)mul);
}

/* While the daemon works on a long question: "waiting for lodestoned (N s)"
 * on the terminal, rewritten in place, cleared when the answer comes. */
static void
waiting(void *arg, long waited_ms)
{
	bool *shown = arg;

	if (waited_ms < 0) {
		if (*shown)
			fputs("\r\033[K", stderr);
		*shown = false;
		return;
	}
	if (waited_ms < 2000)
		return;
	fprintf(stderr, "\rlodestone: waiting for lodestoned (%ld s)\033[K", waited_ms / 1000);
	fflush(stderr);
	*shown = true;
}

int
cli_connect(struct cli *c)
{
	static bool shown;
	struct ls_err_ctx ctx = {{0}};
	long answer_ms = 0;
	int rc;

	if (c->api != NULL)
		return CLI_OK;
	if (c->timeout_arg != NULL && (answer_ms = duration_ms(c->timeout_arg)) < 0) {
		cli_err("%s: timeout '%s' (--timeout or LODESTONE_TIMEOUT) is not a duration: a "
			"whole number of seconds, or with ms, s or m, at most a day; 0 waits as "
			"long as the daemon is there",
			c->cmd, c->timeout_arg);
		return CLI_USAGE;
	}
	/* The connection is bounded by CLI_CONNECT_MS (or a shorter timeout);
	 * the answer by the timeout, or as long as the daemon stays connected. */
	rc = ls_api_open(c->api_endpoint,
			 answer_ms > 0 && answer_ms < CLI_CONNECT_MS ? (int)answer_ms
								     : CLI_CONNECT_MS,
			 &c->api, &ctx);
	if (rc == LS_ERR_INVALID) {
		cli_err("%s: --api '%s' is not an ipc:// or tcp:// endpoint", c->cmd,
			c->api_endpoint);
		return CLI_USAGE;
	}
	if (rc != 0)
		return cli_api_fail(c, rc, &ctx, NULL);
	ls_api_set_wait(c->api, answer_ms, isatty(STDERR_FILENO) ? waiting : NULL, &shown);
	return CLI_OK;
}

int
cli_api_fail(struct cli *c, int err, const struct ls_err_ctx *ctx, const char *what)
{
	switch (err) {
	case LS_ERR_NET:
		if (ctx != NULL && strstr(ctx->msg, "closed the connection") != NULL)
			cli_err("%s", ctx->msg);
		else
			cli_err("cannot reach lodestoned at %s", c->api_endpoint);
		return CLI_UNREACHABLE;
	case LS_ERR_TIMEOUT: cli_err("%s: %s", c->cmd, ls_err_msg(ctx, err)); return CLI_TIMEOUT;
	case LS_ERR_OVERLOADED: cli_err("%s: %s", c->cmd, ls_err_msg(ctx, err)); return CLI_BUSY;
	case LS_ERR_NOT_FOUND:
	case LS_ERR_AMBIGUOUS:
	case LS_ERR_INVALID:
		if (what != NULL && (ctx == NULL || ctx->msg[0] == '\0'))
			cli_err("%s: %s: %s", c->cmd, what, ls_strerror(err));
		else
			cli_err("%s: %s", c->cmd, ls_err_msg(ctx, err));
		return CLI_USAGE;
	default:
		cli_err("%s: %s%s%s", c->cmd, what ? what : "", what ? ": " : "",
			ls_err_msg(ctx, err));
		return CLI_FAIL;
	}
}

static int
resolve(struct cli *c, enum ls_resolve_kind kind, const char *name, const char *what,
	uint8_t id[LS_ID_LEN])
{
	struct ls_err_ctx ctx = {{0}};
	char buf[LS_STR_MAX + 64];
	int rc;

	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if (name[0] == '\0' || strlen(name) > LS_STR_MAX)
		return cli_usage_err(c, "'%s' is not a %s name", name, what);
	rc = ls_api_resolve(c->api, kind, name, id, &ctx);
	if (rc == LS_ERR_NOT_FOUND) {
		cli_err("%s: unknown %s '%s'", c->cmd, what, name);
		return CLI_USAGE;
	}
	if (rc == LS_ERR_AMBIGUOUS) {
		if (ctx.msg[0] != '\0')
			cli_err("%s: %s", c->cmd, ctx.msg);
		else
			cli_err("%s: %s '%s' is ambiguous: use an id", c->cmd, what, name);
		return CLI_USAGE;
	}
	if (rc != 0) {
		snprintf(buf, sizeof(buf), "%s '%s'", what, name);
		return cli_api_fail(c, rc, &ctx, buf);
	}
	return CLI_OK;
}

int
cli_resolve_lot(struct cli *c, const char *name, uint8_t id[LS_ID_LEN])
{
	return resolve(c, LS_RESOLVE_LOT, name, "lot", id);
}

int
cli_resolve_record(struct cli *c, const char *name, uint8_t id[LS_ID_LEN])
{
	return resolve(c, LS_RESOLVE_RECORD, name, "record", id);
}

int
cli_resolve_license(struct cli *c, const char *number, uint8_t id[LS_ID_LEN])
{
	return resolve(c, LS_RESOLVE_LICENSE, number, "license", id);
}

int
cli_cert_of(struct cli *c, const uint8_t key[LS_KEY_LEN], uint64_t t, const char *who,
	    uint8_t cert[LS_ID_LEN])
{
	struct ls_err_ctx ctx = {{0}};
	char hex[LS_HEX_KEY_LEN + 1];
	int rc;

	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	rc = ls_api_cert_of(c->api, key, t, cert, &ctx);
	if (rc == LS_ERR_NOT_FOUND) {
		cli_err("%s: %s %s has no valid certificate", c->cmd, who,
			ls_hex(key, LS_KEY_LEN, hex));
		return CLI_USAGE;
	}
	if (rc != 0)
		return cli_api_fail(c, rc, &ctx, who);
	return CLI_OK;
}

int
cli_write(struct cli *c, struct ls_record *r)
{
	struct ls_keypair *kp;
	struct ls_api_head head;
	struct ls_ingest_result res;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *env = NULL;
	const uint8_t *envs[1];
	size_t len = 0;
	uint64_t now = ls_now();
	char hex[LS_HEX_KEY_LEN + 1];
	int rc;

	if ((rc = cli_key(c, &kp)) != CLI_OK || (rc = cli_connect(c)) != CLI_OK)
		return rc;
	/*
	 * Two writers with one key would both read the same head and sign the
	 * same seq: an equivocation, which flags the author for good. Writers on
	 * this machine take turns on the key file; the lock goes with the
	 * process, whatever way it ends.
	 */
	if (c->lock_fd < 0 && (c->lock_fd = open(c->key_path, O_RDONLY | O_CLOEXEC)) >= 0)
		(void)flock(c->lock_fd, LOCK_EX);
	memcpy(r->author, kp->pk, LS_KEY_LEN);
	if ((rc = ls_api_head(c->api, kp->pk, &head, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, "feed head");
	r->seq = head.seq + 1;
	r->has_prev = head.seq > 0;
	if (r->has_prev)
		memcpy(r->prev, head.id, LS_ID_LEN);
	/* The feed's time never goes back, whatever this machine's clock says. */
	r->timestamp = now > head.timestamp ? now : head.timestamp;
	rc = ls_api_cert_of(c->api, kp->pk, r->timestamp, r->cert_id, &ctx);
	if (rc == LS_ERR_NOT_FOUND) {
		r->has_cert = false; /* a trust anchor has none; the daemon judges the rest */
	} else if (rc != 0) {
		return cli_api_fail(c, rc, &ctx, "certificate of the signing key");
	} else {
		r->has_cert = true;
	}
	if ((rc = ls_record_sign(r, kp->sk, &ctx)) != 0) {
		cli_err("%s: %s", c->cmd, ls_err_msg(&ctx, rc));
		return rc == LS_ERR_INVALID || rc == LS_ERR_MALFORMED ? CLI_USAGE : CLI_FAIL;
	}
	if ((rc = ls_record_envelope(r, &env, &len)) != 0) {
		cli_err("%s: cannot encode the record: %s", c->cmd, ls_strerror(rc));
		return CLI_FAIL;
	}
	envs[0] = env;
	memset(&res, 0, sizeof(res));
	rc = ls_api_submit_with(c->api, c->record_violation ? LS_API_RECORD_VIOLATION : 0, envs,
				&len, 1, &res, &ctx);
	free(env);
	if (rc != 0)
		return cli_api_fail(c, rc, &ctx, "submit");
	ls_hex(r->id, LS_ID_LEN, hex);
	switch (res.status) {
	case LS_INGEST_ACCEPTED:
		if (res.reason != LS_R_OK)
			cli_err("%s: warning: record %s: %s: %s", c->cmd, hex,
				ls_reason_code(res.reason), res.message);
		return CLI_OK;
	case LS_INGEST_KNOWN: return CLI_OK;
	case LS_INGEST_PENDING:
		cli_err("%s: record %s is stored but waits for a record it depends on", c->cmd,
			hex);
		return CLI_OK;
	default:
		cli_err("%s: record %s rejected: %s: %s%s", c->cmd, hex, ls_reason_code(res.reason),
			res.message[0] ? res.message : "no reason given",
			res.reason == LS_R_NO_LICENSE ? "; cite one with --license, or record the "
							"transfer as a violation with "
							"--record-violation"
						      : "");
		/* As verify would answer: a license is needed (3), or denied (1). */
		return res.reason == LS_R_NO_LICENSE ? CLI_LICENSE : CLI_FAIL;
	}
}

int
cli_print_written(struct cli *c, const uint8_t id[LS_ID_LEN], const uint8_t *lots, size_t n_lots)
{
	char hex[LS_HEX_KEY_LEN + 1];

	if (c->json) {
		json_t *o = json_object(), *a = json_array();
		for (size_t i = 0; i < n_lots; i++)
			json_array_append_new(a, out_json_hex(lots + i * LS_ID_LEN, LS_ID_LEN));
		json_object_set_new(o, "id", out_json_hex(id, LS_ID_LEN));
		json_object_set_new(o, "lots", a);
		out_json(o);
		return CLI_OK;
	}
	puts(ls_hex(id, LS_ID_LEN, hex));
	for (size_t i = 0; i < n_lots; i++)
		if (memcmp(lots + i * LS_ID_LEN, id, LS_ID_LEN) != 0) /* registration: same id */
			puts(ls_hex(lots + i * LS_ID_LEN, LS_ID_LEN, hex));
	return CLI_OK;
}

/* ---- names of keys ---- */

#define KEY_NAMES 64 /* remembered per run */

static struct {
	size_t n;
	struct {
		uint8_t key[LS_KEY_LEN];
		char name[LS_STR_MAX + 8];
	} v[KEY_NAMES];
} key_names;

const char *
cli_key_name(struct cli *c, const uint8_t key[LS_KEY_LEN])
{
	static char buf[LS_STR_MAX + 8];
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r = NULL;
	uint8_t cert[LS_ID_LEN], *env = NULL;
	size_t elen = 0;
	char hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < key_names.n; i++)
		if (memcmp(key_names.v[i].key, key, LS_KEY_LEN) == 0)
			return key_names.v[i].name;
	snprintf(buf, sizeof(buf), "%.16s", ls_hex(key, LS_KEY_LEN, hex));
	if (c->api != NULL && ls_api_cert_of(c->api, key, 0, cert, &ctx) == 0 &&
	    ls_api_get(c->api, cert, &env, &elen, &ctx) == 0 &&
	    ls_record_decode(env, elen, &r, &ctx) == 0 && r->type == LS_REC_CERTIFICATE)
		snprintf(buf, sizeof(buf), "%s (%s)", r->certificate.org, r->certificate.country);
	ls_record_free(r);
	free(env);
	if (key_names.n < KEY_NAMES) {
		memcpy(key_names.v[key_names.n].key, key, LS_KEY_LEN);
		snprintf(key_names.v[key_names.n].name, sizeof(key_names.v[0].name), "%s", buf);
		return key_names.v[key_names.n++].name;
	}
	return buf;
}

/* ---- Ctrl-C: temporary files go, the terminal line is left clean ---- */

#define TEMP_NAMES 4
static char temp_paths[1 + TEMP_NAMES][4200]; /* [0]: a file or the directory */
static volatile sig_atomic_t temp_kind;       /* 0 none, 1 file, 2 directory */
static int stderr_tty;

/* Only async-signal-safe calls: unlink, rmdir, write, signal, raise. */
static void
on_interrupt(int sig)
{
	if (temp_kind == 1) {
		unlink(temp_paths[0]);
	} else if (temp_kind == 2) {
		for (int i = 1; i <= TEMP_NAMES; i++)
			if (temp_paths[i][0] != '\0')
				unlink(temp_paths[i]);
		rmdir(temp_paths[0]);
	}
	if (stderr_tty)
		(void)!write(STDERR_FILENO, "\r\033[K", 4);
	signal(sig, SIG_DFL);
	raise(sig);
}

void
cli_signals_setup(void)
{
	struct sigaction sa;

	stderr_tty = isatty(STDERR_FILENO) == 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

void
cli_temp_file(const char *path)
{
	temp_kind = 0;
	if (path == NULL)
		return;
	snprintf(temp_paths[0], sizeof(temp_paths[0]), "%s", path);
	temp_kind = 1;
}

void
cli_temp_dir(const char *dir)
{
	static const char *const names[TEMP_NAMES] = {"data.mdb", "lock.mdb", "lodestone.lock",
						      "data.mdb-lock"};

	temp_kind = 0;
	if (dir == NULL)
		return;
	snprintf(temp_paths[0], sizeof(temp_paths[0]), "%s", dir);
	for (int i = 0; i < TEMP_NAMES; i++)
		snprintf(temp_paths[1 + i], sizeof(temp_paths[1 + i]), "%s/%s", dir, names[i]);
	temp_kind = 2;
}

/* ---- labels of lots ---- */

const char *
cli_lot_label(struct cli *c, const uint8_t lot[LS_ID_LEN])
{
	static char label[LS_STR_MAX + 1];
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r = NULL;
	uint8_t *env = NULL;
	size_t len = 0;
	const char *found = NULL;

	/* the daemon answers a lot id with the record that made it */
	if (c->api == NULL || ls_api_get(c->api, lot, &env, &len, &ctx) != 0 ||
	    ls_record_decode(env, len, &r, &ctx) != 0)
		goto out;
	if (r->type == LS_REC_LOT && memcmp(r->id, lot, LS_ID_LEN) == 0) {
		found = r->lot.lot.label;
	} else if (r->type == LS_REC_TRANSFORMATION) {
		for (size_t i = 0; i < r->transformation.n_outputs && found == NULL; i++) {
			uint8_t id[LS_ID_LEN];
			ls_lot_id(r->id, (uint32_t)i, id);
			if (memcmp(id, lot, LS_ID_LEN) == 0)
				found = r->transformation.outputs[i].label;
		}
	}
	if (found != NULL)
		snprintf(label, sizeof(label), "%s", found);
out:
	ls_record_free(r);
	free(env);
	return found != NULL ? label : NULL;
}
