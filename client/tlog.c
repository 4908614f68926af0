/*
 * tlog.c - the daemon's witnessed log: `checkpoint` (the latest signed
 * checkpoint), `prove` (a record's c2sp.org/tlog-proof against it) and
 * `verify-proof` (that proof checked offline with the log's verifier key).
 * The log's vkey comes from `lodestone status` (or the operator); the
 * checks here are the C2SP ones: the log's signature on the checkpoint, the
 * origin is the key's name, and the RFC 9162 inclusion of leaf 0x00 || id.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "note.h"
#include "tlog.h"
#include "util.h"

#include "client.h"

#define PROVE_WAIT_MS 5000 /* for a record to reach a checkpoint */

#define VKEY_FILE_MAX 4096

enum { OPT_LOG_KEY = CLI_OPT_FIRST_LOCAL, OPT_RECORD };

/* A vkey given as the text itself or as a file holding it (one line). */
static int
parse_vkey(struct cli *c, const char *flag, const char *s, struct ls_vkey *k)
{
	struct ls_err_ctx ctx = {{0}}, fctx = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (ls_vkey_parse(s, k, &ctx) == 0)
		return CLI_OK;
	if (ls_file_read(s, VKEY_FILE_MAX, &buf, &len, &fctx) != 0)
		return cli_usage_err(c, "%s: '%s' is neither a verifier key (%s) nor a file of one",
				     flag, s, ctx.msg);
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0'; /* ls_file_read leaves room for it */
	if (memchr(buf, '\0', len) != NULL || (rc = ls_vkey_parse((char *)buf, k, &ctx)) != 0) {
		free(buf);
		return cli_usage_err(c, "%s: file '%s' does not hold a verifier key: %s", flag, s,
				     ctx.msg);
	}
	free(buf);
	return CLI_OK;
}

/* Parses and checks a checkpoint note against the log key k (NULL: parse
 * only). 0, or an error with the cause in ctx. */
static int
check_note(const char *text, size_t len, const struct ls_vkey *k, struct ls_note *n,
	   struct ls_checkpoint *cp, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = ls_note_parse(text, len, n, ctx)) != 0 ||
	    (rc = ls_checkpoint_parse(n->body, n->body_len, cp, ctx)) != 0)
		return rc;
	if (k == NULL)
		return 0;
	if (strcmp(cp->origin, k->name) != 0)
		return ls_err_set(ctx, LS_ERR_SIGNATURE,
				  "the checkpoint's origin '%s' is not the key's name '%s'",
				  cp->origin, k->name);
	rc = ls_note_verify(n, k);
	if (rc == LS_ERR_NOT_FOUND)
		return ls_err_set(ctx, LS_ERR_SIGNATURE, "the checkpoint is not signed by %s",
				  k->name);
	if (rc != 0)
		return ls_err_set(ctx, LS_ERR_SIGNATURE, "the signature of %s does not verify",
				  k->name);
	return 0;
}

/*
 * Checks a tlog-proof text: the checkpoint signed by k, and leaf 0x00 || id
 * at the proof's index in its tree. *p gets the parsed proof.
 */
static int
check_proof(const char *text, size_t len, const uint8_t id[LS_ID_LEN], const struct ls_vkey *k,
	    struct ls_tlog_proof *p, struct ls_checkpoint *cp, struct ls_err_ctx *ctx)
{
	uint8_t leaf[LS_TLOG_LEAF_LEN], h[LS_TLOG_HASH];
	char *note;
	size_t nlen;
	int rc;

	if ((rc = ls_tlog_proof_parse(text, len, p, ctx)) != 0)
		return rc;
	if ((note = malloc(LS_NOTE_MAX + 1)) == NULL)
		return LS_ERR_NOMEM;
	nlen = ls_note_format(&p->cp, note, LS_NOTE_MAX + 1);
	rc = nlen == 0 ? ls_err_set(ctx, LS_ERR_TOO_BIG, "the proof's checkpoint is too big")
		       : check_note(note, nlen, k, &p->cp, cp, ctx);
	free(note);
	if (rc != 0)
		return rc;
	leaf[0] = LS_TLOG_LEAF_RECORD;
	memcpy(leaf + 1, id, LS_ID_LEN);
	ls_tlog_leaf_hash(leaf, sizeof(leaf), h);
	if (p->index >= cp->size ||
	    !ls_tlog_verify_inclusion(p->index, cp->size, h,
				      (const uint8_t(*)[LS_TLOG_HASH])p->hashes, p->n, cp->root))
		return ls_err_set(ctx, LS_ERR_SIGNATURE,
				  "the proof does not show the record at index %" PRIu64
				  " of checkpoint %" PRIu64,
				  p->index, cp->size);
	return 0;
}

/* ---- checkpoint ---- */

int
cmd_checkpoint(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"log-key", required_argument, NULL, OPT_LOG_KEY},
						 CLI_COMMON_LONGOPTS};
	struct ls_err_ctx ctx = {{0}};
	struct ls_vkey key;
	struct ls_note *n = NULL;
	struct ls_checkpoint cp;
	bool has_key = false;
	char *note = NULL, hex[2 * LS_TLOG_HASH + 1];
	size_t len;
	uint64_t size;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_LOG_KEY:
			if ((rc = parse_vkey(c, "--log-key", optarg, &key)) != CLI_OK)
				return rc;
			has_key = true;
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if ((rc = ls_api_checkpoint(c->api, &size, &note, &len, &ctx)) != 0)
		return cli_api_fail(c, rc, &ctx, "checkpoint");
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	if (check_note(note, len, has_key ? &key : NULL, n, &cp, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		rc = CLI_FAIL;
		goto out;
	}
	if (cp.size != size) {
		cli_err("%s: the daemon says size %" PRIu64 ", its checkpoint %" PRIu64, c->cmd,
			size, cp.size);
		rc = CLI_FAIL;
		goto out;
	}
	if (c->json) {
		json_t *o = json_object(), *sigs = json_array();
		char
		    b64[sodium_base64_ENCODED_LEN(LS_NOTE_SIG_MAX, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), cp.root, LS_TLOG_HASH,
				  sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(o, "origin", json_string(cp.origin));
		json_object_set_new(o, "size", json_integer((json_int_t)cp.size));
		json_object_set_new(o, "root", json_string(ls_hex(cp.root, LS_TLOG_HASH, hex)));
		json_object_set_new(o, "root_base64", json_string(b64));
		for (size_t i = 0; i < n->n_sigs; i++) {
			json_t *x = json_object();
			json_object_set_new(x, "name", json_string(n->sigs[i].name));
			if (n->sigs[i].len >= 4)
				json_object_set_new(x, "key_id", out_json_hex(n->sigs[i].sig, 4));
			sodium_bin2base64(b64, sizeof(b64), n->sigs[i].sig, n->sigs[i].len,
					  sodium_base64_VARIANT_ORIGINAL);
			json_object_set_new(x, "signature", json_string(b64));
			json_array_append_new(sigs, x);
		}
		json_object_set_new(o, "signatures", sigs);
		if (has_key)
			json_object_set_new(o, "verified", json_true());
		json_object_set_new(o, "note", json_string(note));
		out_json(o);
	} else {
		fwrite(note, 1, len, stdout);
	}
	rc = CLI_OK;
out:
	free(n);
	free(note);
	return rc;
}

/* ---- prove ---- */

int
cmd_prove(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
						 {"log-key", required_argument, NULL, OPT_LOG_KEY},
						 CLI_COMMON_LONGOPTS};
	struct ls_err_ctx ctx = {{0}};
	struct ls_tlog_proof *p = NULL;
	struct ls_checkpoint cp;
	struct ls_vkey key;
	bool has_key = false, full;
	const char *out = NULL, *name;
	uint8_t id[LS_ID_LEN], got[LS_ID_LEN];
	char hex[LS_HEX_KEY_LEN + 1], *proof = NULL;
	uint64_t index, size;
	size_t len;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case OPT_LOG_KEY:
			if ((rc = parse_vkey(c, "--log-key", optarg, &key)) != CLI_OK)
				return rc;
			has_key = true;
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which record? give ID (or 8 or more hex digits of it)");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	name = argv[optind];
	full = strlen(name) == LS_HEX_KEY_LEN && ls_unhex(name, id, LS_ID_LEN) == 0;
	if (!full) {
		size_t nl = strlen(name);
		bool hexok = nl >= 8 && nl < LS_HEX_KEY_LEN;
		for (size_t i = 0; hexok && i < nl; i++)
			hexok = (name[i] >= '0' && name[i] <= '9') ||
				(name[i] >= 'a' && name[i] <= 'f') ||
				(name[i] >= 'A' && name[i] <= 'F');
		if (!hexok)
			return cli_usage_err(c, "'%s' is not a record id (at least 8 hex digits)",
					     name);
	}
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	/* A record just stored is in the daemon's next checkpoint (it signs one
	 * a second by default): wait for it a little, as bundle does. */
	for (int waited = 0;
	     (rc = ls_api_prove(c->api, full ? id : NULL, full ? NULL : name, got, &index, &size,
				&proof, &len, &ctx)) == LS_ERR_BUSY &&
	     waited < PROVE_WAIT_MS;
	     waited += 200) {
		memset(&ctx, 0, sizeof(ctx));
		usleep(200 * 1000);
	}
	if (rc == LS_ERR_BUSY) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	if (rc != 0)
		return cli_api_fail(c, rc, &ctx, name);
	if (has_key) {
		if ((p = calloc(1, sizeof(*p))) == NULL) {
			rc = CLI_FAIL;
			goto out;
		}
		if (check_proof(proof, len, got, &key, p, &cp, &ctx) != 0) {
			cli_err("%s: the daemon's proof of %s does not check: %s", c->cmd,
				ls_hex(got, LS_ID_LEN, hex), ctx.msg);
			rc = CLI_FAIL;
			goto out;
		}
	}
	if (out != NULL && ls_file_write(out, (const uint8_t *)proof, len, 0644, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		rc = CLI_USAGE;
		goto out;
	}
	ls_hex(got, LS_ID_LEN, hex);
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "record", json_string(hex));
		json_object_set_new(o, "index", json_integer((json_int_t)index));
		json_object_set_new(o, "size", json_integer((json_int_t)size));
		if (has_key)
			json_object_set_new(o, "verified", json_true());
		if (out != NULL)
			json_object_set_new(o, "file", json_string(out));
		else
			json_object_set_new(o, "proof", json_string(proof));
		out_json(o);
	} else if (out != NULL) {
		printf("%s: record %s, index %" PRIu64 " of checkpoint %" PRIu64 "%s\n", out, hex,
		       index, size, has_key ? ", verified" : "");
	} else {
		fwrite(proof, 1, len, stdout);
	}
	rc = CLI_OK;
out:
	free(p);
	free(proof);
	return rc;
}

/* ---- verify-proof ---- */

int
cmd_verify_proof(struct cli *c, int argc, char **argv)
{
	static const struct option longopts[] = {{"log-key", required_argument, NULL, OPT_LOG_KEY},
						 {"record", required_argument, NULL, OPT_RECORD},
						 CLI_COMMON_LONGOPTS};
	struct ls_err_ctx ctx = {{0}};
	struct ls_tlog_proof *p = NULL;
	struct ls_checkpoint cp;
	struct ls_vkey key;
	bool has_key = false, has_id = false;
	uint8_t id[LS_ID_LEN], *buf = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	size_t len = 0;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_LOG_KEY:
			if ((rc = parse_vkey(c, "--log-key", optarg, &key)) != CLI_OK)
				return rc;
			has_key = true;
			break;
		case OPT_RECORD:
			if (strlen(optarg) != LS_HEX_KEY_LEN ||
			    ls_unhex(optarg, id, LS_ID_LEN) != 0)
				return cli_usage_err(
				    c, "--record: '%s' is not a record id (64 hex digits)", optarg);
			has_id = true;
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which proof? give FILE");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (!has_key)
		return cli_usage_err(c, "--log-key VKEY is required (see 'lodestone status')");
	if (!has_id)
		return cli_usage_err(c, "--record ID is required: the proof names only its index");
	if (ls_file_read(argv[optind], LS_API_PROOF_MAX, &buf, &len, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = CLI_FAIL;
		goto out;
	}
	ls_hex(id, LS_ID_LEN, hex);
	if (check_proof((const char *)buf, len, id, &key, p, &cp, &ctx) != 0) {
		if (c->json) {
			json_t *o = json_object();
			json_object_set_new(o, "record", json_string(hex));
			json_object_set_new(o, "valid", json_false());
			json_object_set_new(o, "reason", json_string(ctx.msg));
			out_json(o);
		} else {
			printf("record %s: proof not valid: %s\n", hex, ctx.msg);
		}
		rc = CLI_FAIL;
		goto out;
	}
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "record", json_string(hex));
		json_object_set_new(o, "valid", json_true());
		json_object_set_new(o, "index", json_integer((json_int_t)p->index));
		json_object_set_new(o, "size", json_integer((json_int_t)cp.size));
		json_object_set_new(o, "origin", json_string(cp.origin));
		json_object_set_new(o, "signatures", json_integer((json_int_t)p->cp.n_sigs));
		out_json(o);
	} else {
		printf("record %s: in checkpoint %" PRIu64 " of %s at index %" PRIu64
		       " (%zu signature line(s)): valid\n",
		       hex, cp.size, cp.origin, p->index, p->cp.n_sigs);
	}
	rc = CLI_OK;
out:
	free(p);
	free(buf);
	return rc;
}
