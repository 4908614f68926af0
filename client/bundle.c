/*
 * bundle.c - offline proofs: bundle (write every record needed to verify a
 * lot), verify-bundle (check one with nothing but the authority's public
 * key: no daemon), import (hand a bundle's records to the daemon).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "keyfile.h"
#include "logproof.h"
#include "note.h"
#include "reason.h"
#include "store.h"
#include "util.h"

#include "client.h"

#define BUNDLE_FILE_MAX     ((size_t)1 << 30) /* 1 GiB: about 100k records of 10 KiB */
#define BUNDLE_RECORDS_MAX  4000000
#define IMPORT_CHUNK        256
#define BUNDLE_EVIDENCE_MAX 65536 /* one pair per author of the records */
#define BUNDLE_WAIT_MS      5000  /* for a lot to reach a checkpoint */
#define VERIFY_SLICE        4096  /* records ingested between progress lines */

/*
 * The bundle file being written as its chunks come (bounded memory): a
 * temporary file beside the output, renamed over it once the whole bundle
 * is there and synced, removed on any failure. The chunks are parsed as
 * the top-level fields of a Bundle as they pass, to count the records and
 * to refuse what is not a bundle.
 */
struct bundle_out {
	int fd;
	char tmp[4096];
	const char *path;
	uint64_t records, bytes;
	/* the field being parsed: its tag and length varints, then its body */
	int state; /* 0: tag, 1: length, 2: body */
	uint64_t v;
	unsigned shift;
	uint64_t tag, left;
	bool bad;
	int err; /* errno of a failed write */
};

static void
bundle_parse(struct bundle_out *o, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && !o->bad;) {
		if (o->state == 2) {
			size_t take = o->left < n - i ? (size_t)o->left : n - i;
			i += take;
			o->left -= take;
			if (o->left == 0)
				o->state = 0;
			continue;
		}
		if (o->shift >= 64) {
			o->bad = true;
			break;
		}
		o->v |= (uint64_t)(p[i] & 0x7f) << o->shift;
		o->shift += 7;
		if (p[i++] & 0x80)
			continue;
		if (o->state == 0) {
			o->tag = o->v;
			if ((o->tag & 7) != 2) /* every Bundle field is length-delimited */
				o->bad = true;
			o->state = 1;
		} else {
			o->left = o->v;
			o->records += o->tag == ((1 << 3) | 2);
			o->state = o->left ? 2 : 0;
		}
		o->v = 0;
		o->shift = 0;
	}
}

static int
bundle_write(void *arg, const uint8_t *buf, size_t len)
{
	struct bundle_out *o = arg;
	size_t off = 0;

	bundle_parse(o, buf, len);
	if (o->bad)
		return LS_ERR_MALFORMED;
	if (o->bytes + len > BUNDLE_FILE_MAX)
		return LS_ERR_TOO_BIG; /* verify-bundle would not read it */
	while (off < len) {
		ssize_t w = write(o->fd, buf + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			return errno == ENOSPC ? LS_ERR_FULL : LS_ERR_IO;
		}
		off += (size_t)w;
	}
	o->bytes += len;
	return 0;
}

int
cli_bundle_to_file(struct cli *c, const char *name, const uint8_t lot[LS_ID_LEN], const char *out,
		   uint64_t *records, uint64_t *bytes)
{
	struct ls_err_ctx ctx = {{0}};
	struct bundle_out o;
	uint64_t total = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.path = out;
	if ((size_t)snprintf(o.tmp, sizeof(o.tmp), "%s.tmp.XXXXXX", out) >= sizeof(o.tmp))
		return cli_usage_err(c, "output path too long: '%s'", out);
	if ((o.fd = mkostemp(o.tmp, O_CLOEXEC)) < 0) {
		cli_err("%s: cannot create '%s': %s", c->cmd, o.tmp, strerror(errno));
		return CLI_USAGE;
	}
	cli_temp_file(o.tmp); /* Ctrl-C removes it */
	if (fchmod(o.fd, 0644) != 0) {
		cli_err("%s: cannot create '%s': %s", c->cmd, o.tmp, strerror(errno));
		rc = CLI_USAGE;
		goto out;
	}
	/* A lot just made is in the daemon's next checkpoint (it seals every
	 * second by default): wait for it a little. Nothing is written until
	 * the daemon has a bundle to send. */
	for (int waited = 0; (rc = ls_api_bundle_stream(c->api, lot, bundle_write, &o, &total,
							&ctx)) == LS_ERR_BUSY &&
			     o.bytes == 0 && waited < BUNDLE_WAIT_MS;
	     waited += 200)
		usleep(200 * 1000);
	if (rc == LS_ERR_MALFORMED && o.bad) {
		cli_err("%s: the daemon's bundle of '%s' is not a bundle (at byte %" PRIu64 ")",
			c->cmd, name, o.bytes);
		rc = CLI_FAIL;
		goto out;
	}
	if (rc == LS_ERR_IO || rc == LS_ERR_FULL || rc == LS_ERR_TOO_BIG) {
		if (rc == LS_ERR_TOO_BIG)
			cli_err("%s: the bundle of '%s' is over %zu bytes", c->cmd, name,
				BUNDLE_FILE_MAX);
		else
			cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(o.err));
		rc = CLI_FAIL;
		goto out;
	}
	if (rc != 0) {
		rc = cli_api_fail(c, rc, &ctx, name);
		goto out;
	}
	if (o.state != 0 || o.records == 0) {
		cli_err("%s: the daemon's bundle of '%s' %s", c->cmd, name,
			o.records == 0 ? "holds no record" : "ends inside a field");
		rc = CLI_FAIL;
		goto out;
	}
	if (fsync(o.fd) != 0 || close(o.fd) != 0) {
		o.fd = -1;
		cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(errno));
		rc = CLI_FAIL;
		goto out;
	}
	o.fd = -1;
	if (rename(o.tmp, out) != 0) {
		cli_err("%s: cannot rename '%s' to '%s': %s", c->cmd, o.tmp, out, strerror(errno));
		rc = CLI_FAIL;
		goto out;
	}
	o.tmp[0] = '\0'; /* it is the output now */
	*records = o.records;
	*bytes = total;
	rc = CLI_OK;
out:
	if (o.fd >= 0)
		close(o.fd);
	if (o.tmp[0] != '\0')
		unlink(o.tmp);
	cli_temp_file(NULL);
	return rc;
}

int
cmd_bundle(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 CLI_COMMON_LONGOPTS};
	const char *out = NULL;
	uint8_t lot[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1];
	uint64_t records = 0, total = 0;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which lot? give LOT");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (out == NULL)
		return cli_usage_err(c, "-o FILE is required");
	if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
		return rc;
	if ((rc = cli_bundle_to_file(c, argv[optind], lot, out, &records, &total)) != CLI_OK)
		return rc;
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "lot", out_json_hex(lot, LS_ID_LEN));
		json_object_set_new(j, "file", json_string(out));
		json_object_set_new(j, "records", json_integer((json_int_t)records));
		json_object_set_new(j, "bytes", json_integer((json_int_t)total));
		out_json(j);
	} else {
		printf("%s: %" PRIu64 " records, %" PRIu64 " bytes, lot %s\n", out, records, total,
		       ls_hex(lot, LS_ID_LEN, hex));
	}
	return CLI_OK;
}

/* Reads and splits a bundle file; CLI_USAGE with a message when it cannot. */
int
cli_bundle_read(struct cli *c, const char *path, uint8_t **buf, size_t *buf_len,
		const uint8_t ***envs, size_t **lens, size_t *n)
{
	struct ls_err_ctx ctx = {{0}};
	size_t len = 0;

	if (ls_file_read(path, BUNDLE_FILE_MAX, buf, &len, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	if (ls_bundle_decode(*buf, len, BUNDLE_RECORDS_MAX, envs, lens, n, &ctx) != 0) {
		cli_err("%s: '%s' is not a bundle file: %s", c->cmd, path, ctx.msg);
		free(*buf);
		*buf = NULL;
		return CLI_USAGE;
	}
	*buf_len = len;
	return CLI_OK;
}

/* ---- bundle inspect ---- */

/* Reads the evidence pairs of a bundle; CLI_USAGE with a message when it
 * cannot. */
static int
read_evidence(struct cli *c, const char *path, const uint8_t *buf, size_t len,
	      struct ls_bundle_evidence **ev, size_t *n)
{
	struct ls_err_ctx ctx = {{0}};
	int rc = ls_bundle_evidence(buf, len, BUNDLE_EVIDENCE_MAX, ev, n, &ctx);

	if (rc == LS_ERR_NOMEM) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	if (rc != 0) {
		cli_err("%s: '%s' is not a bundle file: %s", c->cmd, path, ls_err_msg(&ctx, rc));
		return CLI_USAGE;
	}
	return CLI_OK;
}

/* One envelope as JSON, or printed as a line. */
static void
inspect_one(struct cli *c, json_t *arr, const char *what, size_t i, const uint8_t *env, size_t len)
{
	struct ls_record *r = NULL;
	char id[LS_HEX_KEY_LEN + 1], au[LS_HEX_KEY_LEN + 1];
	bool ok = ls_record_decode(env, len, &r, NULL) == 0;

	if (ok) {
		ls_hex(r->id, LS_ID_LEN, id);
		ls_hex(r->author, LS_KEY_LEN, au);
	}
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "index", json_integer((json_int_t)i));
		json_object_set_new(o, "id", ok ? json_string(id) : json_null());
		json_object_set_new(o, "type",
				    json_string(ok ? ls_rtype_name(r->type) : "undecodable"));
		if (ok) {
			json_object_set_new(o, "author", json_string(au));
			json_object_set_new(o, "seq", json_integer((json_int_t)r->seq));
			json_object_set_new(o, "timestamp", out_json_time(r->timestamp));
		}
		json_object_set_new(o, "bytes", json_integer((json_int_t)len));
		json_array_append_new(arr, o);
	} else if (ok) {
		printf("%s %zu %s %s author %.16s seq %" PRIu64 "\n", what, i, id,
		       ls_rtype_name(r->type), au, r->seq);
	} else {
		printf("%s %zu (undecodable, %zu bytes)\n", what, i, len);
	}
	ls_record_free(r);
}

/*
 * The summary of a bundle's log proof, as JSON (*j) or printed: what it
 * claims, unverified but for the log signature (verify-bundle checks it).
 */
static void
inspect_log(struct cli *c, const uint8_t *buf, size_t len, json_t **j)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_logproof lp;
	struct ls_note *note = NULL;
	struct ls_checkpoint cp;
	struct ls_vkey k;
	const uint8_t *lpb;
	size_t lpl, cosigs = 0;
	bool cp_ok = false, sig_ok = false;
	int rc;

	*j = NULL;
	if ((rc = ls_bundle_log(buf, len, &lpb, &lpl)) != 0) {
		if (c->json)
			*j = json_null();
		else
			printf("log proof: none (%s)\n", rc == LS_ERR_NOT_FOUND
							     ? "a bundle of a daemon without a log"
							     : "malformed");
		return;
	}
	if ((rc = ls_logproof_decode(lpb, lpl, &lp, &ctx)) != 0) {
		if (c->json)
			*j = json_pack("{s:s}", "error", ls_err_msg(&ctx, rc));
		else
			printf("log proof: does not decode: %s\n", ls_err_msg(&ctx, rc));
		return;
	}
	if ((note = malloc(sizeof(*note))) != NULL &&
	    ls_note_parse(lp.checkpoint, lp.checkpoint_len, note, NULL) == 0 &&
	    ls_checkpoint_parse(note->body, note->body_len, &cp, NULL) == 0) {
		cp_ok = true;
		sig_ok = ls_vkey_parse(lp.log_key, &k, NULL) == 0 && ls_note_verify(note, &k) == 0;
		cosigs = note->n_sigs - (sig_ok ? 1 : 0);
	}
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "log_key", json_string(lp.log_key));
		if (cp_ok) {
			json_object_set_new(o, "log", json_string(cp.origin));
			json_object_set_new(o, "checkpoint", json_integer((json_int_t)cp.size));
			json_object_set_new(o, "root", out_json_hex(cp.root, LS_TLOG_HASH));
		}
		json_object_set_new(o, "signed_by_log_key", json_boolean(sig_ok));
		json_object_set_new(o, "cosignatures", json_integer((json_int_t)cosigs));
		json_object_set_new(o, "inclusions", json_integer((json_int_t)lp.n_records));
		json_object_set_new(o, "head_proofs", json_integer((json_int_t)lp.n_heads));
		json_object_set_new(o, "heads_count", json_integer((json_int_t)lp.heads_count));
		json_object_set_new(o, "dating_checkpoints", json_integer((json_int_t)lp.n_dating));
		json_object_set_new(o, "split_views", json_integer((json_int_t)lp.n_splits));
		json_object_set_new(o, "bytes", json_integer((json_int_t)lpl));
		*j = o;
	} else {
		char hex[2 * LS_TLOG_HASH + 1];
		if (cp_ok)
			printf("log proof: checkpoint %" PRIu64 " of log %s, root %s\n", cp.size,
			       cp.origin, ls_hex(cp.root, LS_TLOG_HASH, hex));
		else
			printf("log proof: a checkpoint that does not parse\n");
		printf("  log key %s (%s)\n", lp.log_key,
		       sig_ok ? "the checkpoint's signature verifies"
			      : "does not sign the checkpoint");
		printf("  %zu cosignatures (unchecked: verify-bundle --witness checks them), %zu "
		       "inclusion proofs, %zu head proofs of %" PRIu64 " feeds, %zu dating "
		       "checkpoints, %zu split views, %zu bytes\n",
		       cosigs, lp.n_records, lp.n_heads, lp.heads_count, lp.n_dating, lp.n_splits,
		       lpl);
		for (size_t i = 0; i < lp.n_heads; i++) {
			char ahex[2 * LS_KEY_LEN + 1];
			printf("  head of %.16s: seq %" PRIu64 " %s\n",
			       ls_hex(lp.heads[i].author, LS_KEY_LEN, ahex), lp.heads[i].seq,
			       ls_hex(lp.heads[i].head, LS_ID_LEN, hex));
		}
	}
	free(note);
	ls_logproof_release(&lp);
}

int
cmd_bundle_inspect(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct ls_bundle_evidence *ev = NULL;
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0, n_ev = 0, buf_len = 0;
	uint8_t *buf = NULL, lot[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1];
	bool named;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which file? give FILE");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_bundle_read(c, argv[optind], &buf, &buf_len, &envs, &lens, &n)) != CLI_OK)
		return rc;
	if ((rc = read_evidence(c, argv[optind], buf, buf_len, &ev, &n_ev)) != CLI_OK)
		goto out;
	named = ls_bundle_lot(buf, buf_len, lot) == 0;
	if (c->json) {
		json_t *o = json_object(), *recs = json_array(), *evs = json_array();
		json_object_set_new(o, "lot", named ? out_json_hex(lot, LS_ID_LEN) : json_null());
		for (size_t i = 0; i < n; i++)
			inspect_one(c, recs, "record", i, envs[i], lens[i]);
		for (size_t i = 0; i < n_ev; i++) {
			json_t *pair = json_array();
			inspect_one(c, pair, "a", i, ev[i].a, ev[i].la);
			inspect_one(c, pair, "b", i, ev[i].b, ev[i].lb);
			json_array_append_new(evs, pair);
		}
		json_t *lj;
		json_object_set_new(o, "records", recs);
		json_object_set_new(o, "evidence", evs);
		inspect_log(c, buf, buf_len, &lj);
		json_object_set_new(o, "log", lj);
		out_json(o);
	} else {
		if (named)
			printf("lot %s\n", ls_hex(lot, LS_ID_LEN, hex));
		for (size_t i = 0; i < n; i++)
			inspect_one(c, NULL, "record", i, envs[i], lens[i]);
		for (size_t i = 0; i < n_ev; i++) {
			inspect_one(c, NULL, "evidence", i, ev[i].a, ev[i].la);
			inspect_one(c, NULL, "evidence", i, ev[i].b, ev[i].lb);
		}
		json_t *none;
		inspect_log(c, buf, buf_len, &none);
	}
	rc = CLI_OK;
out:
	free(ev);
	free(envs);
	free(lens);
	free(buf);
	return rc;
}

/* ---- verify-bundle ---- */

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

struct lotset {
	size_t n, cap;
	uint8_t (*v)[LS_ID_LEN];
};

static void
lotset_add(struct lotset *s, const uint8_t id[LS_ID_LEN])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i], id, LS_ID_LEN) == 0)
			return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		void *v = realloc(s->v, cap * LS_ID_LEN);
		if (v == NULL)
			return;
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->n++], id, LS_ID_LEN);
}

static bool
lotset_has(const struct lotset *s, const uint8_t id[LS_ID_LEN])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i], id, LS_ID_LEN) == 0)
			return true;
	return false;
}

/* Whether lot id matches name: the id, a prefix of >= 8 hex digits, or the label. */
static bool
lot_matches(const uint8_t id[LS_ID_LEN], const char *label, const char *name)
{
	char hex[LS_HEX_KEY_LEN + 1];
	size_t n = strlen(name);

	if (label != NULL && strcmp(label, name) == 0)
		return true;
	if (n < 8 || n > LS_HEX_KEY_LEN || strspn(name, "0123456789abcdefABCDEF") != n)
		return false;
	return strncasecmp(ls_hex(id, LS_ID_LEN, hex), name, n) == 0;
}

/*
 * The lot a bundle proves. With name (--lot): the lot made in the bundle that
 * it names, so that a lot whose records the rules refuse is still found (and
 * reported broken). Without: a Bundle holds records only, and the closure of
 * a lot's records takes in its neighbours (its consumers, the feeds of its
 * holders), so the lot can be inferred only when exactly one lot made in the
 * bundle is consumed by none of its transformations; otherwise the
 * candidates are listed and --lot asked for.
 */
static int
bundle_lot(struct cli *c, const char *path, const uint8_t *bundle, size_t bundle_len,
	   const uint8_t *const *envs, const size_t *lens, size_t n, const char *name,
	   uint8_t lot[LS_ID_LEN], char label[LS_STR_MAX + 1], bool *named)
{
	uint8_t bundle_named[LS_ID_LEN];
	bool has_named = ls_bundle_lot(bundle, bundle_len, bundle_named) == 0;
	struct lotset made = {0, 0, NULL}, used = {0, 0, NULL};
	const char **labels = NULL;
	size_t n_cand = 0, first = 0;
	char hex[LS_HEX_KEY_LEN + 1];
	struct ls_record **recs = calloc(n ? n : 1, sizeof(*recs));
	int rc = CLI_USAGE;

	if (recs == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		struct ls_record *r = NULL;
		if (ls_record_decode(envs[i], lens[i], &r, NULL) != 0)
			continue;
		recs[i] = r;
		if (r->type == LS_REC_LOT) {
			lotset_add(&made, r->id);
		} else if (r->type == LS_REC_TRANSFORMATION) {
			for (size_t k = 0; k < r->transformation.n_outputs; k++) {
				uint8_t id[LS_ID_LEN];
				ls_lot_id(r->id, (uint32_t)k, id);
				lotset_add(&made, id);
			}
			for (size_t k = 0; k < r->transformation.n_inputs; k++)
				lotset_add(&used, r->transformation.inputs[k].lot);
		}
	}
	if ((labels = calloc(made.n ? made.n : 1, sizeof(*labels))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	/* Labels, for the message: in the order the lots were made. */
	for (size_t i = 0, m = 0; i < n && m < made.n; i++) {
		const struct ls_record *r = recs[i];
		if (r == NULL)
			continue;
		if (r->type == LS_REC_LOT)
			labels[m++] = r->lot.lot.label;
		else if (r->type == LS_REC_TRANSFORMATION)
			for (size_t k = 0; k < r->transformation.n_outputs && m < made.n; k++)
				labels[m++] = r->transformation.outputs[k].label;
	}
	*named = false;
	label[0] = '\0';
	if (name != NULL) {
		for (size_t i = 0; i < made.n; i++)
			if (lot_matches(made.v[i], labels[i], name) && n_cand++ == 0)
				first = i;
		if (n_cand == 1) {
			memcpy(lot, made.v[first], LS_ID_LEN);
			snprintf(label, LS_STR_MAX + 1, "%s", labels[first] ? labels[first] : "");
			*named = has_named && memcmp(lot, bundle_named, LS_ID_LEN) == 0;
			if (has_named && !*named)
				fprintf(stderr,
					"lodestone: %s: note: '%s' is the bundle of lot %.16s; the "
					"verdict on '%s' rests on the records it holds\n",
					c->cmd, path, ls_hex(bundle_named, LS_ID_LEN, hex), name);
			rc = CLI_OK;
		} else if (n_cand == 0) {
			cli_err("%s: --lot: no lot '%s' in '%s'", c->cmd, name, path);
		} else {
			cli_err("%s: --lot: '%s' names %zu lots in '%s': use an id", c->cmd, name,
				n_cand, path);
		}
		goto out;
	}
	/* A bundle made by `lodestone bundle` names its lot, which one of its
	 * records must make. */
	if (has_named) {
		for (size_t i = 0; i < made.n && n_cand == 0; i++)
			if (memcmp(made.v[i], bundle_named, LS_ID_LEN) == 0) {
				n_cand = 1;
				snprintf(label, LS_STR_MAX + 1, "%s", labels[i] ? labels[i] : "");
			}
		memcpy(lot, bundle_named, LS_ID_LEN);
		*named = true;
		if (n_cand == 1) {
			rc = CLI_OK;
		} else {
			cli_err("%s: '%s' names lot %s, which none of its records makes", c->cmd,
				path, ls_hex(bundle_named, LS_ID_LEN, hex));
			rc = CLI_FAIL;
		}
		goto out;
	}
	for (size_t i = 0; i < made.n; i++)
		if (!lotset_has(&used, made.v[i]) && n_cand++ == 0)
			first = i;
	if (n_cand == 1) {
		memcpy(lot, made.v[first], LS_ID_LEN);
		snprintf(label, LS_STR_MAX + 1, "%s", labels[first] ? labels[first] : "");
		rc = CLI_OK;
	} else if (made.n == 0) {
		cli_err("%s: '%s' holds no lot", c->cmd, path);
	} else {
		size_t shown = 0;
		fprintf(stderr, "lodestone: %s: '%s' holds several lots: name one with --lot (",
			c->cmd, path);
		for (size_t i = 0; i < made.n && shown < 6; i++)
			if (!lotset_has(&used, made.v[i]) || n_cand == 0)
				fprintf(stderr, "%s%.16s '%s'", shown++ ? ", " : "",
					ls_hex(made.v[i], LS_ID_LEN, hex),
					labels[i] ? labels[i] : "?");
		fprintf(stderr, "%s)\n", n_cand > shown ? ", ..." : "");
	}
out:
	for (size_t i = 0; i < n; i++)
		ls_record_free(recs[i]);
	free(recs);
	free(labels);
	free(made.v);
	free(used.v);
	return rc;
}

/* Appends a reason to v (the verdict struct of verify.h): 0, or -1 out of
 * memory. */
static int verdict_add(struct ls_verdict *v, enum ls_reason code, const uint8_t (*ids)[LS_ID_LEN],
		       size_t n_ids, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int
verdict_add(struct ls_verdict *v, enum ls_reason code, const uint8_t (*ids)[LS_ID_LEN],
	    size_t n_ids, const char *fmt, ...)
{
	struct ls_verdict_reason *r = realloc(v->reasons, (v->n + 1) * sizeof(*r));
	va_list ap;

	if (r == NULL)
		return -1;
	v->reasons = r;
	r = &v->reasons[v->n++];
	memset(r, 0, sizeof(*r));
	r->code = code;
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < n_ids && i < LS_REASON_IDS_MAX; i++)
		memcpy(r->ids[r->n_ids++], ids[i], LS_ID_LEN);
	return 0;
}

/* A reason for one record or evidence pair of the bundle that could not be
 * applied. */
static int
add_unapplied_one(struct ls_verdict *v, const struct ls_ingest_result *res, const char *what,
		  size_t i)
{
	char hex[LS_HEX_KEY_LEN + 1], mhex[LS_HEX_KEY_LEN + 1], msg[sizeof(res->message)];
	enum ls_reason code = res->reason;
	uint8_t ids[2][LS_ID_LEN];
	size_t n_ids = 0;

	if (res->has_id)
		memcpy(ids[n_ids++], res->id, LS_ID_LEN);
	if (res->status == LS_INGEST_PENDING) {
		code = LS_R_MISSING_DEP;
		if (res->has_missing) {
			memcpy(ids[n_ids++], res->missing, LS_ID_LEN);
			snprintf(
			    msg, sizeof(msg),
			    "it waits for %.16s, which the bundle does not hold or could not apply",
			    ls_hex(res->missing, LS_ID_LEN, mhex));
		} else {
			snprintf(msg, sizeof(msg), "%s", res->message);
		}
	} else {
		snprintf(msg, sizeof(msg), "%s", res->message);
	}
	return verdict_add(v, code, (const uint8_t(*)[LS_ID_LEN])ids, n_ids,
			   "bundle %s %zu (%.16s) could not be applied: %s", what, i,
			   res->has_id ? ls_hex(res->id, LS_ID_LEN, hex) : "undecodable", msg);
}

/*
 * Adds a reason for each record of the bundle the rules refused or that
 * waits for a record the bundle does not hold, and for each evidence pair
 * that is not evidence. Returns how many, or -1 out of memory.
 */
static long
add_unapplied(struct ls_verdict *v, const struct ls_ingest_result *res, size_t n,
	      const struct ls_ingest_result *ev_res, size_t n_ev)
{
	long bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (res[i].status != LS_INGEST_REJECTED && res[i].status != LS_INGEST_PENDING)
			continue;
		if (add_unapplied_one(v, &res[i], "record", i) != 0)
			return -1;
		bad++;
	}
	for (size_t i = 0; i < n_ev; i++) {
		if (ev_res[i].status == LS_INGEST_ACCEPTED)
			continue;
		if (add_unapplied_one(v, &ev_res[i], "evidence pair", i) != 0)
			return -1;
		bad++;
	}
	/* A proof with a record it could not use proves nothing more than what
	 * it verified. */
	if (bad > 0) {
		if (v->kind == LS_V_VALID)
			v->kind = LS_V_BROKEN;
		else if (v->kind == LS_V_ALLOWED || v->kind == LS_V_LICENSE_REQUIRED)
			v->kind = LS_V_DENIED;
	}
	return bad;
}

/*
 * Whether the records the store applied are the bundle of lot: CLI_OK, or
 * CLI_FAIL with a message naming the first record of another lot's proof.
 */
static int
check_members(struct cli *c, struct ls_store *s, const char *path, const uint8_t lot[LS_ID_LEN],
	      const struct ls_ingest_result *res, size_t n)
{
	uint8_t(*ids)[LS_ID_LEN] = malloc((n ? n : 1) * LS_ID_LEN);
	size_t *at = malloc((n ? n : 1) * sizeof(*at)), k = 0, extra = 0;
	char hex[LS_HEX_KEY_LEN + 1], lhex[LS_HEX_KEY_LEN + 1];
	int rc;

	if (ids == NULL || at == NULL) {
		free(ids);
		free(at);
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		if (res[i].status == LS_INGEST_ACCEPTED) {
			memcpy(ids[k], res[i].id, LS_ID_LEN);
			at[k++] = i;
		}
	rc = ls_bundle_members(s, lot, (const uint8_t(*)[LS_ID_LEN])ids, k, &extra);
	if (rc != 0) {
		cli_err("%s: cannot check the records of '%s': %s", c->cmd, path, ls_strerror(rc));
		rc = CLI_FAIL;
	} else if (extra < k) {
		cli_err("%s: '%s' is not a proof of lot %s: bundle record %zu (%s) is not part of "
			"it (the records are those of another lot)",
			c->cmd, path, ls_hex(lot, LS_ID_LEN, lhex), at[extra],
			ls_hex(ids[extra], LS_ID_LEN, hex));
		rc = CLI_FAIL;
	} else {
		rc = CLI_OK;
	}
	free(ids);
	free(at);
	return rc;
}

/* ---- the log proof ---- */

/* What verify-bundle learnt from a bundle's log proof. */
struct logcheck {
	bool present;
	struct ls_logproof lp;
	struct ls_lp_report rep;
	struct ls_verdict faults; /* reasons only */
};

static void
logcheck_release(struct logcheck *lc)
{
	ls_logproof_release(&lc->lp);
	ls_lp_report_release(&lc->rep);
	ls_verdict_release(&lc->faults);
}

/*
 * Checks the bundle's log proof against the witness policy, on the store
 * that loaded the bundle (res: what became of each record), and puts the
 * logged times it proves into that store. Faults go to lc->faults.
 * CLI_OK, or CLI_FAIL with a message (out of memory, a store error).
 */
static int
log_check(struct cli *c, struct ls_store *s, const uint8_t *buf, size_t len,
	  const struct ls_ingest_result *res, size_t n, const struct ls_lp_policy *pol,
	  struct logcheck *lc)
{
	struct ls_err_ctx ctx = {{0}};
	const uint8_t *lpb = NULL;
	uint8_t(*ids)[LS_ID_LEN] = NULL, (*dids)[LS_ID_LEN] = NULL;
	uint64_t *dt = NULL;
	size_t lpl = 0, nd = 0;
	int rc;

	rc = ls_bundle_log(buf, len, &lpb, &lpl);
	if (rc == LS_ERR_NOT_FOUND) {
		rc = verdict_add(&lc->faults, LS_R_UNWITNESSED, NULL, 0,
				 "the bundle carries no log proof: nothing shows its records in "
				 "a witnessed log, or that nothing was left out");
		if (rc == 0 && pol->n_witnesses == 0)
			lc->faults.reasons[lc->faults.n - 1].warning = true;
		return rc == 0 ? CLI_OK : CLI_FAIL;
	}
	if (rc == 0)
		rc = ls_logproof_decode(lpb, lpl, &lc->lp, &ctx);
	if (rc == LS_ERR_NOMEM)
		goto nomem;
	if (rc != 0)
		return verdict_add(&lc->faults, LS_R_LOG_PROOF, NULL, 0,
				   "the bundle's log proof does not decode: %s",
				   ls_err_msg(&ctx, rc)) == 0
			   ? CLI_OK
			   : CLI_FAIL;
	lc->present = true;
	if ((ids = calloc(n ? n : 1, LS_ID_LEN)) == NULL)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (res[i].has_id)
			memcpy(ids[i], res[i].id, LS_ID_LEN);
	if ((rc = ls_logproof_check(&lc->lp, (const uint8_t(*)[LS_ID_LEN])ids, n, pol, &lc->rep,
				    &lc->faults)) != 0)
		goto nomem;
	if (lc->rep.signed_ok && (rc = ls_logproof_feeds(s, &lc->lp, &lc->rep, &lc->faults)) != 0) {
		cli_err("%s: cannot check the authority feeds: %s", c->cmd, ls_strerror(rc));
		free(ids);
		return CLI_FAIL;
	}
	/* The logged times of the records the store holds. */
	if ((dids = calloc(n ? n : 1, LS_ID_LEN)) == NULL ||
	    (dt = calloc(n ? n : 1, sizeof(*dt))) == NULL)
		goto nomem;
	for (size_t i = 0; lc->rep.logged != NULL && i < n; i++)
		if (lc->rep.logged[i] != 0 && res[i].has_id &&
		    (res[i].status == LS_INGEST_ACCEPTED || res[i].status == LS_INGEST_KNOWN)) {
			memcpy(dids[nd], ids[i], LS_ID_LEN);
			dt[nd++] = lc->rep.logged[i];
		}
	if ((rc = ls_store_dates_put_n(s, (const uint8_t(*)[LS_ID_LEN])dids, dt, nd)) != 0) {
		cli_err("%s: cannot keep the logged times: %s", c->cmd, ls_strerror(rc));
		free(ids);
		free(dids);
		free(dt);
		return CLI_FAIL;
	}
	free(ids);
	free(dids);
	free(dt);
	return CLI_OK;
nomem:
	free(ids);
	free(dids);
	free(dt);
	cli_err("%s: out of memory", c->cmd);
	return CLI_FAIL;
}

/* Adds the log proof's reasons to v; a fault makes it broken (denied for an
 * export). 0, or -1 out of memory. */
static int
log_merge(struct ls_verdict *v, const struct ls_verdict *faults)
{
	bool bad = false;

	for (size_t i = 0; i < faults->n; i++) {
		struct ls_verdict_reason *r = realloc(v->reasons, (v->n + 1) * sizeof(*r));
		if (r == NULL)
			return -1;
		v->reasons = r;
		v->reasons[v->n++] = faults->reasons[i];
		bad |= !faults->reasons[i].warning;
	}
	if (bad) {
		if (v->kind == LS_V_VALID)
			v->kind = LS_V_BROKEN;
		else if (v->kind == LS_V_ALLOWED || v->kind == LS_V_LICENSE_REQUIRED)
			v->kind = LS_V_DENIED;
	}
	return 0;
}

/* The "log" member of the JSON output. */
static json_t *
log_json(const struct logcheck *lc)
{
	json_t *o = json_object(), *ws = json_array();
	char st[LS_ERR_MSG_MAX + 256];

	ls_lp_statement(&lc->rep, st, sizeof(st));
	json_object_set_new(o, "present", json_boolean(lc->present));
	json_object_set_new(o, "statement", json_string(st));
	if (lc->present && lc->rep.signed_ok) {
		json_object_set_new(o, "log", json_string(lc->rep.origin));
		json_object_set_new(o, "log_key", json_string(lc->rep.log_key));
		json_object_set_new(o, "checkpoint", json_integer((json_int_t)lc->rep.size));
		json_object_set_new(o, "root", out_json_hex(lc->rep.root, LS_TLOG_HASH));
		json_object_set_new(o, "witnessed", json_boolean(lc->rep.witnessed));
		json_object_set_new(o, "quorum", json_integer((json_int_t)lc->rep.quorum));
		for (size_t i = 0; i < lc->rep.n_cosigners; i++) {
			json_t *w = json_object();
			json_object_set_new(w, "name", json_string(lc->rep.cosigners[i]));
			json_object_set_new(w, "time", out_json_time(lc->rep.cosigned_at[i]));
			json_array_append_new(ws, w);
		}
		if (lc->rep.witnessed)
			json_object_set_new(o, "quorum_time", out_json_time(lc->rep.qtime));
		json_object_set_new(o, "head_proofs", json_integer((json_int_t)lc->rep.n_heads));
		json_object_set_new(o, "dating_checkpoints",
				    json_integer((json_int_t)lc->rep.n_dating));
	}
	json_object_set_new(o, "cosigned_by", ws);
	return o;
}

/* ls_store_ingest_run's step: the progress line. */
static void
verify_step(void *arg, size_t done)
{
	struct out_progress *p = arg;

	out_progress_step(p, done - p->done);
}

int
cmd_verify_bundle(struct cli *c, int argc, char **argv)
{
	enum { OPT_TRUST = CLI_OPT_FIRST_LOCAL, OPT_LOT, OPT_WITNESS, OPT_QUORUM, OPT_MAX_AGE };
	static const struct option longopts[] = {{"trust", required_argument, NULL, OPT_TRUST},
						 {"lot", required_argument, NULL, OPT_LOT},
						 {"witness", required_argument, NULL, OPT_WITNESS},
						 {"quorum", required_argument, NULL, OPT_QUORUM},
						 {"max-age", required_argument, NULL, OPT_MAX_AGE},
						 CLI_QUERY_LONGOPTS,
						 CLI_COMMON_LONGOPTS};
	uint8_t anchors[16][LS_KEY_LEN];
	size_t n_anchors = 0, n = 0, n_ev = 0;
	struct ls_export_query q;
	struct ls_verdict v;
	struct ls_store_opts opts;
	struct ls_store *s = NULL;
	struct ls_ingest_result *res = NULL, *ev_res = NULL;
	struct ls_bundle_evidence *ev = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct out_progress prog;
	const uint8_t **envs = NULL;
	size_t *lens = NULL;
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	const char *lot_name = NULL, *path, *tmp;
	char dir[4096], label[LS_STR_MAX + 1], hex[LS_HEX_KEY_LEN + 1];
	bool made_dir = false, named = false, found = true;
	struct ls_vkey *wit = NULL;
	struct ls_lp_policy pol;
	struct logcheck lc;
	uint64_t quorum = 0;
	long unapplied;
	int ch, rc;

	memset(&q, 0, sizeof(q));
	memset(&pol, 0, sizeof(pol));
	memset(&lc, 0, sizeof(lc));
	ls_verdict_init(&v);
	ls_verdict_init(&lc.faults);
	if ((wit = calloc(LS_LP_WITNESSES, sizeof(*wit))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		return CLI_FAIL;
	}
	pol.witnesses = wit;
	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_TRUST:
			if (n_anchors == sizeof(anchors) / sizeof(anchors[0])) {
				rc = cli_usage_err(c, "over %zu --trust keys",
						   sizeof(anchors) / sizeof(anchors[0]));
				goto out;
			}
			if (ls_pubkey_load(optarg, anchors[n_anchors], &ctx) != 0) {
				cli_err("%s: --trust: %s", c->cmd, ctx.msg);
				rc = CLI_USAGE;
				goto out;
			}
			n_anchors++;
			break;
		case OPT_LOT: lot_name = optarg; break;
		case OPT_WITNESS:
			if (pol.n_witnesses == LS_LP_WITNESSES) {
				rc = cli_usage_err(c, "over %d --witness keys", LS_LP_WITNESSES);
				goto out;
			}
			if ((rc = cli_parse_vkey(c, "--witness", optarg, LS_NOTE_COSIG,
						 &wit[pol.n_witnesses])) != CLI_OK)
				goto out;
			for (size_t i = 0; i < pol.n_witnesses; i++)
				if (memcmp(wit[i].pk, wit[pol.n_witnesses].pk, 32) == 0) {
					rc = cli_usage_err(c, "--witness '%s' is given twice",
							   wit[i].name);
					goto out;
				}
			pol.n_witnesses++;
			break;
		case OPT_QUORUM:
			if ((rc = cli_parse_u64(c, "--quorum", optarg, &quorum)) != CLI_OK)
				goto out;
			if (quorum == 0) {
				rc = cli_usage_err(c, "--quorum must be at least 1");
				goto out;
			}
			break;
		case OPT_MAX_AGE:
			if ((rc = cli_parse_duration(c, "--max-age", optarg, &pol.max_age)) !=
			    CLI_OK)
				goto out;
			break;
		case CLI_OPT_Q_FROM:
		case CLI_OPT_Q_EXPORT_TO:
		case CLI_OPT_Q_END_USER:
		case CLI_OPT_Q_END_USE:
		case CLI_OPT_Q_AT:
			if ((rc = cli_query_opt(c, ch, optarg, &q)) != CLI_OK)
				goto out;
			break;
		case CLI_GETOPT_HELP: rc = CLI_OK; goto out;
		default: rc = CLI_USAGE; goto out;
		}
	}
	rc = CLI_USAGE;
	if (optind >= argc) {
		cli_usage_err(c, "which file? give FILE");
		goto out;
	}
	if (optind + 1 < argc) {
		cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	if (n_anchors == 0) {
		cli_usage_err(c, "--trust FILE.pub is required: the authority's public key");
		goto out;
	}
	if (q.destination[0] == '\0' && (q.has_end_user || q.end_use != NULL)) {
		cli_usage_err(c, "--end-user and --end-use need --export-to");
		goto out;
	}
	if (quorum > pol.n_witnesses) {
		cli_usage_err(c, "--quorum %llu is more than the %zu witnesses given (--witness)",
			      (unsigned long long)quorum, pol.n_witnesses);
		goto out;
	}
	if (pol.max_age != 0 && pol.n_witnesses == 0) {
		cli_usage_err(c,
			      "--max-age needs --witness: only a witnessed checkpoint has a time");
		goto out;
	}
	pol.quorum = (size_t)quorum;
	pol.now = ls_now();
	path = argv[optind];
	if ((rc = cli_bundle_read(c, path, &buf, &buf_len, &envs, &lens, &n)) != CLI_OK)
		goto out;
	if ((rc = read_evidence(c, path, buf, buf_len, &ev, &n_ev)) != CLI_OK)
		goto out;
	if ((rc = bundle_lot(c, path, buf, buf_len, envs, lens, n, lot_name, q.lot, label,
			     &named)) != CLI_OK)
		goto out;
	rc = CLI_FAIL;
	if ((res = calloc(n ? n : 1, sizeof(*res))) == NULL ||
	    (ev_res = calloc(n_ev ? n_ev : 1, sizeof(*ev_res))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		goto out;
	}
	tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/lodestone-verify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		cli_err("%s: cannot make a temporary directory in '%s'", c->cmd,
			tmp && *tmp ? tmp : "/tmp");
		goto out;
	}
	made_dir = true;
	cli_temp_dir(dir); /* Ctrl-C removes it */
	memset(&opts, 0, sizeof(opts));
	opts.anchors = (const uint8_t(*)[LS_KEY_LEN])anchors;
	opts.n_anchors = n_anchors;
	opts.bundle_check = true;
	if ((rc = ls_store_open(dir, &opts, &s, &ctx)) != 0) {
		cli_err("%s: cannot open a store in '%s': %s", c->cmd, dir, ls_err_msg(&ctx, rc));
		rc = CLI_FAIL;
		goto out;
	}
	/* The evidence first: a record of the bundle at the same seq then
	 * keeps the pair the producing node named. */
	if ((rc = ls_store_evidence_add(s, ev, n_ev, ev_res)) != 0) {
		cli_err("%s: cannot load '%s': %s", c->cmd, path, ls_strerror(rc));
		rc = CLI_FAIL;
		goto out;
	}
	/* In slices, so that a terminal sees how far it is (the rules do not
	 * depend on how records are batched), each slice's signatures checked
	 * while the one before commits. */
	out_progress_start(&prog, "verify-bundle: checking", n);
	if ((rc = ls_store_ingest_run(s, envs, lens, n, VERIFY_SLICE, res, NULL, verify_step,
				      &prog)) != 0) {
		out_progress_end(&prog);
		cli_err("%s: cannot load '%s': %s", c->cmd, path, ls_strerror(rc));
		rc = CLI_FAIL;
		goto out;
	}
	out_progress_end(&prog);
	/* A record parked on one that came later in the file was applied when
	 * that one arrived. */
	for (size_t i = 0; i < n; i++) {
		struct ls_record *r = NULL;
		if (res[i].status == LS_INGEST_PENDING &&
		    ls_store_get_record(s, res[i].id, &r) == 0) {
			res[i].status = LS_INGEST_ACCEPTED;
			res[i].has_missing = false;
		}
		ls_record_free(r);
	}
	if ((rc = log_check(c, s, buf, buf_len, res, n, &pol, &lc)) != CLI_OK)
		goto out;
	rc = ls_verify(s, &q, &v);
	if (rc == LS_ERR_NOT_FOUND) {
		/* The lot's own record was refused or waits for a missing dependency. */
		found = false;
		v.kind = q.destination[0] != '\0' ? LS_V_DENIED : LS_V_BROKEN;
		if (verdict_add(&v, LS_R_UNKNOWN_LOT, (const uint8_t(*)[LS_ID_LEN])q.lot, 1,
				"lot %.16s is not proven by '%s': its making record could not "
				"be applied",
				ls_hex(q.lot, LS_ID_LEN, hex), path) != 0) {
			cli_err("%s: out of memory", c->cmd);
			rc = CLI_FAIL;
			goto out;
		}
	} else if (rc != 0) {
		cli_err("%s: cannot verify '%s': %s", c->cmd, path, ls_strerror(rc));
		rc = CLI_FAIL;
		goto out;
	}
	if ((unapplied = add_unapplied(&v, res, n, ev_res, n_ev)) < 0 ||
	    log_merge(&v, &lc.faults) != 0) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	/* Every record applied: they must be the proof of the lot the bundle
	 * names, not of another lot it was made for. */
	if (found && named && unapplied == 0 &&
	    (rc = check_members(c, s, path, q.lot, res, n)) != CLI_OK)
		goto out;
	if (c->json) {
		rc = out_verdict_with(c, &v, q.lot, json_pack("{s:o}", "log", log_json(&lc)));
	} else {
		char st[LS_ERR_MSG_MAX + 256];
		printf("lot %s%s%s%s (bundle '%s')\n", ls_hex(q.lot, LS_ID_LEN, hex),
		       *label ? " '" : "", label, *label ? "'" : "", path);
		rc = out_verdict(c, &v, q.lot);
		ls_lp_statement(&lc.rep, st, sizeof(st));
		printf("  %s%s\n", lc.rep.present && lc.rep.signed_ok ? "as of " : "", st);
	}
out:
	free(wit);
	logcheck_release(&lc);
	ls_verdict_release(&v);
	ls_store_close(&s);
	if (made_dir && nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		cli_err("%s: cannot remove the temporary directory '%s'", c->cmd, dir);
	if (made_dir)
		cli_temp_dir(NULL);
	free(res);
	free(ev_res);
	free(ev);
	free(envs);
	free(lens);
	free(buf);
	return rc;
}

/* ---- import ---- */

int
cmd_import(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {CLI_COMMON_LONGOPTS};
	struct ls_ingest_result *res = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct out_progress prog;
	const uint8_t **envs = NULL;
	size_t *lens = NULL, n = 0, count[4] = {0, 0, 0, 0}, n_deprej = 0;
	uint8_t *buf = NULL;
	size_t buf_len = 0;
	char hex[LS_HEX_KEY_LEN + 1];
	json_t *rejections = NULL;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		if (ch == CLI_GETOPT_HELP)
			return CLI_OK;
		return CLI_USAGE;
	}
	if (optind >= argc)
		return cli_usage_err(c, "which file? give FILE");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = cli_bundle_read(c, argv[optind], &buf, &buf_len, &envs, &lens, &n)) != CLI_OK)
		return rc;
	if ((rc = cli_connect(c)) != CLI_OK)
		goto out;
	if ((res = calloc(n ? n : 1, sizeof(*res))) == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	out_progress_start(&prog, "import", n);
	for (size_t off = 0; off < n; off += IMPORT_CHUNK) {
		size_t k = n - off < IMPORT_CHUNK ? n - off : IMPORT_CHUNK;
		if ((rc = ls_api_submit(c->api, envs + off, lens + off, k, res + off, &ctx)) != 0) {
			out_progress_end(&prog);
			if (off > 0)
				cli_err("%s: the first %zu records of '%s' were submitted", c->cmd,
					off, argv[optind]);
			rc = cli_api_fail(c, rc, &ctx, "submit");
			goto out;
		}
		out_progress_step(&prog, k);
	}
	out_progress_end(&prog);
	rejections = json_array();
	for (size_t i = 0; i < n; i++) {
		if ((unsigned)res[i].status < 4)
			count[res[i].status]++;
		if (res[i].status != LS_INGEST_REJECTED)
			continue;
		/* Refused for naming a record refused in its submission: the
		 * message names it, dependency its id. */
		n_deprej += res[i].reason == LS_R_DEP_REJECTED;
		if (c->json) {
			json_t *x = json_object();
			json_object_set_new(x, "index", json_integer((json_int_t)i));
			json_object_set_new(x, "id",
					    res[i].has_id ? out_json_hex(res[i].id, LS_ID_LEN)
							  : json_null());
			json_object_set_new(x, "code", json_string(ls_reason_code(res[i].reason)));
			json_object_set_new(x, "message", json_string(res[i].message));
			if (res[i].reason == LS_R_DEP_REJECTED && res[i].has_missing)
				json_object_set_new(x, "dependency",
						    out_json_hex(res[i].missing, LS_ID_LEN));
			json_array_append_new(rejections, x);
		} else {
			printf("rejected %s: %s: %s\n",
			       res[i].has_id ? ls_hex(res[i].id, LS_ID_LEN, hex) : "(undecodable)",
			       ls_reason_code(res[i].reason), res[i].message);
		}
	}
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "records", json_integer((json_int_t)n));
		json_object_set_new(o, "accepted",
				    json_integer((json_int_t)count[LS_INGEST_ACCEPTED]));
		json_object_set_new(o, "known", json_integer((json_int_t)count[LS_INGEST_KNOWN]));
		json_object_set_new(o, "pending",
				    json_integer((json_int_t)count[LS_INGEST_PENDING]));
		json_object_set_new(o, "rejected",
				    json_integer((json_int_t)count[LS_INGEST_REJECTED]));
		json_object_set_new(o, "dependency_rejected", json_integer((json_int_t)n_deprej));
		json_object_set_new(o, "rejections", rejections);
		rejections = NULL;
		out_json(o);
	} else {
		char why[96] = "";
		if (n_deprej > 0)
			snprintf(why, sizeof(why),
				 " (%zu of them for depending on a rejected record)", n_deprej);
		printf("%zu accepted, %zu already known, %zu pending, %zu rejected%s\n",
		       count[LS_INGEST_ACCEPTED], count[LS_INGEST_KNOWN], count[LS_INGEST_PENDING],
		       count[LS_INGEST_REJECTED], why);
	}
	rc = CLI_OK;
	if (count[LS_INGEST_REJECTED] > 0) {
		cli_err("%s: %zu of %zu records of '%s' rejected", c->cmd,
			count[LS_INGEST_REJECTED], n, argv[optind]);
		rc = CLI_FAIL;
	}
out:
	json_decref(rejections);
	free(res);
	free(envs);
	free(lens);
	free(buf);
	return rc;
}
