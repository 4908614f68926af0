/*
 * epcis.c - `lodestone epcis export` and `lodestone epcis import`: a lot's
 * records (or every record, or those since a date) as a GS1 EPCIS 2.0
 * document, and the events of a document as records signed with -k KEY.
 *
 * The mapping is lib/epcis.c. Export adds what is known at question time:
 * the certificate an event's author held (certificationInfo) and, where
 * the author's key was revoked before it signed, an errorDeclaration.
 * Import checks the whole document first: a document that is not one (bad
 * JSON, wrong types, too big, too deep, two events with one eventID) writes
 * nothing; an event that has no record is reported with its position and
 * reason and nothing of it is signed; the others are signed, chained in the
 * key's feed, and submitted in batches (the last after a rejection).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "epcis.h"
#include "keyfile.h"
#include "reason.h"
#include "util.h"

#include "client.h"

/* ---- export ---- */

struct recset {
	size_t n, cap;
	struct ls_record **v;
};

static int
recset_add(struct recset *s, struct ls_record *r)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct ls_record **v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return LS_ERR_NOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = r;
	return 0;
}

static struct ls_record *
recset_find(const struct recset *s, const uint8_t id[LS_ID_LEN])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i]->id, id, LS_ID_LEN) == 0)
			return s->v[i];
	return NULL;
}

static void
recset_free(struct recset *s)
{
	for (size_t i = 0; i < s->n; i++)
		ls_record_free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* The feed order: by time, then author and seq (a feed's time never goes
 * back), so that an import replays each feed in order. */
static int
rec_cmp(const void *a, const void *b)
{
	const struct ls_record *x = *(struct ls_record *const *)a,
			       *y = *(struct ls_record *const *)b;
	int c;

	if (x->timestamp != y->timestamp)
		return x->timestamp < y->timestamp ? -1 : 1;
	if ((c = memcmp(x->author, y->author, LS_KEY_LEN)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Feed order made causal: each record after the records of the set it
 * names (its feed predecessor, the making of the lots it uses, the transfer
 * it receives), otherwise in rec_cmp order. */
struct causal {
	struct ls_record **in, **out;
	size_t n, n_out;
	bool *done;
	/* lots made in the set and the index of the record that made each */
	size_t n_lots;
	struct lot_maker {
		uint8_t lot[LS_ID_LEN];
		size_t idx;
	} * lots;
};

static int
maker_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LS_ID_LEN);
}

static void causal_visit(struct causal *k, size_t i, int depth);

static void
causal_dep(struct causal *k, const uint8_t id[LS_ID_LEN], bool lot, int depth)
{
	if (lot) {
		const struct lot_maker *m =
		    bsearch(id, k->lots, k->n_lots, sizeof(*k->lots), maker_cmp);
		if (m != NULL)
			causal_visit(k, m->idx, depth + 1);
		return;
	}
	for (size_t j = 0; j < k->n; j++) /* records named by id: rare, linear */
		if (memcmp(k->in[j]->id, id, LS_ID_LEN) == 0) {
			causal_visit(k, j, depth + 1);
			return;
		}
}

static void
causal_visit(struct causal *k, size_t i, int depth)
{
	const struct ls_record *r = k->in[i];

	if (k->done[i])
		return;
	k->done[i] = true;
	if (depth < 1000) { /* past that, rec_cmp order is kept */
		if (r->has_prev)
			causal_dep(k, r->prev, false, depth);
		if (r->type == LS_REC_TRANSFER && r->transfer.has_lot)
			causal_dep(k, r->transfer.lot, true, depth);
		if (r->type == LS_REC_RECEIPT)
			causal_dep(k, r->receipt.transfer, false, depth);
		if (r->type == LS_REC_TRANSFORMATION)
			for (size_t j = 0; j < r->transformation.n_inputs; j++)
				causal_dep(k, r->transformation.inputs[j].lot, true, depth);
	}
	k->out[k->n_out++] = k->in[i];
}

static int
causal_sort(struct ls_record **v, size_t n)
{
	struct causal k = {v, NULL, n, 0, NULL, 0, NULL};
	size_t m = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), rec_cmp);
	for (size_t i = 0; i < n; i++)
		m += v[i]->type == LS_REC_LOT              ? 1
		     : v[i]->type == LS_REC_TRANSFORMATION ? v[i]->transformation.n_outputs
							   : 0;
	k.out = calloc(n + 1, sizeof(*k.out));
	k.done = calloc(n + 1, sizeof(*k.done));
	k.lots = calloc(m + 1, sizeof(*k.lots));
	if (k.out == NULL || k.done == NULL || k.lots == NULL) {
		free(k.out);
		free(k.done);
		free(k.lots);
		return LS_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i]->type == LS_REC_LOT) {
			memcpy(k.lots[k.n_lots].lot, v[i]->id, LS_ID_LEN);
			k.lots[k.n_lots++].idx = i;
		} else if (v[i]->type == LS_REC_TRANSFORMATION) {
			for (uint32_t o = 0; o < v[i]->transformation.n_outputs; o++) {
				ls_lot_id(v[i]->id, o, k.lots[k.n_lots].lot);
				k.lots[k.n_lots++].idx = i;
			}
		}
	}
	qsort(k.lots, k.n_lots, sizeof(*k.lots), maker_cmp);
	for (size_t i = 0; i < n; i++)
		causal_visit(&k, i, 0);
	memcpy(v, k.out, n * sizeof(*v));
	free(k.out);
	free(k.done);
	free(k.lots);
	return 0;
}

static bool
has_event(const struct ls_record *r)
{
	return r->type == LS_REC_LOT || r->type == LS_REC_TRANSFORMATION ||
	       r->type == LS_REC_RECEIPT || (r->type == LS_REC_TRANSFER && r->transfer.has_lot);
}

/* Record id from the daemon (or the set), decoded; the set keeps it. */
static int
get_record(struct cli *c, struct recset *all, const uint8_t id[LS_ID_LEN], struct ls_record **out)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_record *r;
	uint8_t *env = NULL;
	size_t len = 0;
	int rc;

	if ((*out = recset_find(all, id)) != NULL)
		return 0;
	if ((rc = ls_api_get(c->api, id, &env, &len, &ctx)) != 0)
		return rc;
	rc = ls_record_decode(env, len, &r, &ctx);
	free(env);
	if (rc != 0)
		return rc;
	if ((rc = recset_add(all, r)) != 0) {
		ls_record_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* The lot a receipt counts: its transfer's (through a shortfall's receipt). */
static int
receipt_lot(struct cli *c, struct recset *all, const struct ls_record *r, uint8_t lot[LS_ID_LEN])
{
	for (int hops = 0; hops < 8; hops++) {
		struct ls_record *t;
		int rc = get_record(c, all, r->receipt.transfer, &t);
		if (rc != 0)
			return rc;
		if (t->type == LS_REC_TRANSFER && t->transfer.has_lot) {
			memcpy(lot, t->transfer.lot, LS_ID_LEN);
			return 0;
		}
		if (t->type != LS_REC_RECEIPT)
			return LS_ERR_NOT_FOUND;
		r = t;
	}
	return LS_ERR_NOT_FOUND;
}

struct log_collect {
	struct recset *set;
	enum ls_rtype only; /* LS_REC_NONE: those with an event */
	int err;
};

static int
collect_chunk(void *arg, const struct ls_api_response *chunk)
{
	struct log_collect *lc = arg;
	struct ls_err_ctx ctx = {{0}};

	for (size_t i = 0; i < chunk->log.n; i++) {
		struct ls_record *r;
		int rc = ls_record_decode(chunk->log.entries[i].env, chunk->log.entries[i].len, &r,
					  &ctx);
		if (rc != 0)
			return lc->err = rc;
		if ((lc->only != LS_REC_NONE ? r->type != lc->only : !has_event(r)) ||
		    recset_find(lc->set, r->id) != NULL) {
			ls_record_free(r);
			continue;
		}
		if ((rc = recset_add(lc->set, r)) != 0) {
			ls_record_free(r);
			return lc->err = rc;
		}
	}
	return 0;
}

static int
collect_log(struct cli *c, enum ls_rtype type, uint64_t since, struct recset *set,
	    struct ls_err_ctx *ctx)
{
	struct log_collect lc = {set, type, 0};
	struct ls_api_request req = {.kind = LS_API_LOG};

	memset(&req.log, 0, sizeof(req.log));
	req.log.type = type;
	req.log.since = since;
	return ls_api_stream(c->api, &req, collect_chunk, &lc, ctx);
}

/* The records of lot's trace that have events. */
static int
collect_trace(struct cli *c, const uint8_t lot[LS_ID_LEN], bool down, struct recset *set,
	      struct ls_err_ctx *ctx)
{
	struct ls_trace t;
	struct ls_record *r;
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = ls_api_trace(c->api, lot, down, &t, ctx)) != 0)
		return rc;
	for (size_t i = 0; i < t.n_nodes && rc == 0; i++)
		rc = get_record(c, set, t.nodes[i].record, &r);
	for (size_t i = 0; i < t.n_transfers && rc == 0; i++) {
		rc = get_record(c, set, t.transfers[i].record, &r);
		if (rc == 0 && t.transfers[i].received)
			rc = get_record(c, set, t.transfers[i].receipt, &r);
	}
	ls_trace_release(&t);
	if (rc != 0)
		ls_err_set(ctx, rc, "a record of the trace: %s", ls_strerror(rc));
	return rc;
}

static int
write_doc(struct cli *c, json_t *doc, const char *out)
{
	char tmp[4096];
	int fd;
	FILE *f;

	if (out == NULL) {
		if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
		    fputc('\n', stdout) == EOF)
			return CLI_FAIL;
		return CLI_OK;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", out) >= sizeof(tmp))
		return cli_usage_err(c, "output path too long: '%s'", out);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || (f = fdopen(fd, "w")) == NULL) {
		cli_err("%s: cannot create '%s': %s", c->cmd, out, strerror(errno));
		if (fd >= 0)
			close(fd);
		return CLI_USAGE;
	}
	cli_temp_file(tmp); /* Ctrl-C removes it */
	if (fchmod(fd, 0644) != 0 ||
	    json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(15)) != 0 ||
	    fputc('\n', f) == EOF || fflush(f) != 0 || fsync(fd) != 0) {
		cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(errno));
		fclose(f);
		unlink(tmp);
		cli_temp_file(NULL);
		return CLI_FAIL;
	}
	if (fclose(f) != 0 || rename(tmp, out) != 0) {
		cli_err("%s: cannot write '%s': %s", c->cmd, out, strerror(errno));
		unlink(tmp);
		cli_temp_file(NULL);
		return CLI_FAIL;
	}
	cli_temp_file(NULL);
	return CLI_OK;
}

int
cmd_epcis_export(struct cli *c, int argc, char **argv)
{
	enum { OPT_DOWN = CLI_OPT_FIRST_LOCAL, OPT_ALL, OPT_SINCE };
	static const struct option longopts[] = {{"down", no_argument, NULL, OPT_DOWN},
						 {"all", no_argument, NULL, OPT_ALL},
						 {"since", required_argument, NULL, OPT_SINCE},
						 {"output", required_argument, NULL, 'o'},
						 CLI_COMMON_LONGOPTS};
	struct recset set = {0}, revs = {0};
	struct ls_err_ctx ctx = {{0}};
	const char *out = NULL;
	bool down = false, all = false, has_since = false;
	uint64_t since = 0;
	uint8_t lot[LS_ID_LEN];
	json_t *doc = NULL, *events;
	size_t n_events = 0;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "o:", longopts)) != -1) {
		switch (ch) {
		case 'o': out = optarg; break;
		case OPT_DOWN: down = true; break;
		case OPT_ALL: all = true; break;
		case OPT_SINCE:
			if ((rc = cli_parse_date(c, "--since", optarg, &since)) != CLI_OK)
				return rc;
			has_since = true;
			break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if ((all || has_since) && optind < argc)
		return cli_usage_err(c, "give a LOT, or --all / --since, not both");
	if (!all && !has_since && optind >= argc)
		return cli_usage_err(c, "which lot? (or --all, or --since DATE)");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	if (down && (all || has_since))
		return cli_usage_err(c, "--down goes with a LOT");
	if ((rc = cli_connect(c)) != CLI_OK)
		return rc;
	if (!all && !has_since) {
		if ((rc = cli_resolve_lot(c, argv[optind], lot)) != CLI_OK)
			return rc;
		rc = collect_trace(c, lot, down, &set, &ctx);
	} else {
		rc = collect_log(c, LS_REC_NONE, since, &set, &ctx);
	}
	if (rc == 0)
		rc = collect_log(c, LS_REC_REVOCATION, 0, &revs, &ctx);
	if (rc != 0) {
		rc = cli_api_fail(c, rc, &ctx, all || has_since ? "log" : argv[optind]);
		goto out;
	}
	/* --all and --since come in store order, which is causal; a trace's
	 * records are put in it. */
	if (!all && !has_since && causal_sort(set.v, set.n) != 0) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	doc = ls_epcis_doc_new(ls_now());
	events = ls_epcis_doc_events(doc);
	/* get_record may add records (a receipt's transfer) past n: those are
	 * not exported. */
	for (size_t i = 0, n = set.n; i < n; i++) {
		const struct ls_record *r = set.v[i];
		struct ls_epcis_extra x;
		json_t *ev;
		if (!has_event(r))
			continue;
		memset(&x, 0, sizeof(x));
		if (r->type == LS_REC_RECEIPT) {
			if ((rc = receipt_lot(c, &set, r, x.lot)) != 0) {
				rc = cli_api_fail(c, rc, &ctx, "the transfer of a receipt");
				goto out;
			}
			x.has_lot = true;
		}
		/* Question time: a revocation effective before the record. */
		for (size_t j = 0; j < revs.n; j++) {
			const struct ls_revocation *v = &revs.v[j]->revocation;
			uint64_t eff = v->effective != 0 ? v->effective : revs.v[j]->timestamp;
			if (memcmp(v->subject, r->author, LS_KEY_LEN) == 0 && eff <= r->timestamp &&
			    (!x.revoked || eff < x.revoked_at)) {
				x.revoked = true;
				x.revoked_at = eff;
				memcpy(x.revocation, revs.v[j]->id, LS_ID_LEN);
			}
		}
		if ((rc = ls_epcis_event_new(r, &x, &ev, &ctx)) != 0) {
			cli_err("%s: %s", c->cmd, ls_err_msg(&ctx, rc));
			rc = CLI_FAIL;
			goto out;
		}
		json_array_append_new(events, ev);
		n_events++;
	}
	if ((rc = write_doc(c, doc, out)) != CLI_OK)
		goto out;
	if (out != NULL) {
		if (c->json) {
			json_t *j = json_object();
			json_object_set_new(j, "file", json_string(out));
			json_object_set_new(j, "events", json_integer((json_int_t)n_events));
			out_json(j);
		} else {
			printf("%s: %zu events\n", out, n_events);
		}
	}
	rc = CLI_OK;
out:
	json_decref(doc);
	recset_free(&set);
	recset_free(&revs);
	return rc;
}

/* ---- import ---- */

#define IMPORT_BATCH 256 /* records submitted at a time */

struct idmap_entry {
	char *uri;
	uint8_t id[LS_ID_LEN];
};

struct import_ctx {
	struct cli *c;
	size_t n, cap;
	struct idmap_entry *v;
};

static int
idmap_put(struct import_ctx *m, const char *uri, const uint8_t id[LS_ID_LEN])
{
	if (uri == NULL)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct idmap_entry *v = realloc(m->v, cap * sizeof(*v));
		if (v == NULL)
			return LS_ERR_NOMEM;
		m->v = v;
		m->cap = cap;
	}
	if ((m->v[m->n].uri = strdup(uri)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(m->v[m->n++].id, id, LS_ID_LEN);
	return 0;
}

/* The lots and records of this import by the URI their event gave, then
 * Lodestone URNs of what the daemon holds. */
static int
resolve_ref(void *arg, enum ls_epcis_ref kind, const char *uri, uint8_t out[LS_ID_LEN])
{
	struct import_ctx *m = arg;
	struct ls_err_ctx ctx = {{0}};
	const char *pre = kind == LS_EPCIS_REF_LOT ? "urn:lodestone:lot:" : "urn:lodestone:record:";
	uint8_t *env = NULL;
	size_t len;
	int rc;

	for (size_t i = m->n; i > 0; i--)
		if (strcmp(m->v[i - 1].uri, uri) == 0) {
			memcpy(out, m->v[i - 1].id, LS_ID_LEN);
			return 0;
		}
	if (strncmp(uri, pre, strlen(pre)) != 0 || ls_unhex(uri + strlen(pre), out, LS_ID_LEN) != 0)
		return LS_ERR_NOT_FOUND;
	if (kind == LS_EPCIS_REF_LOT) {
		char hex[LS_HEX_KEY_LEN + 1];
		return ls_api_resolve(m->c->api, LS_RESOLVE_LOT, ls_hex(out, LS_ID_LEN, hex), out,
				      &ctx);
	}
	rc = ls_api_get(m->c->api, out, &env, &len, &ctx);
	free(env);
	return rc;
}

/* The bizTransaction of type desadv of event ev (borrowed), or NULL. */
static const char *
desadv_of(const json_t *ev)
{
	const json_t *l = json_object_get(ev, "bizTransactionList"), *x;
	size_t i;

	json_array_foreach(l, i, x)
	{
		const char *t = json_string_value(json_object_get(x, "type"));
		const char *id = json_string_value(json_object_get(x, "bizTransaction"));
		if (t != NULL && id != NULL &&
		    (strcmp(t, "desadv") == 0 ||
		     strcmp(t, "https://ref.gs1.org/cbv/BTT-desadv") == 0 ||
		     strcmp(t, "urn:epcglobal:cbv:btt:desadv") == 0))
			return id;
	}
	return NULL;
}

/*
 * Whether event ev, whose ls:recordID is uri, shows a record the daemon
 * holds: 0 it does (its event hash is that record's event's), 1 no such
 * record (import it), 2 the record is there but the event says otherwise
 * (an event edited under another record's id), or a negative LS_ERR_.
 */
static int
known_event(struct cli *c, struct recset *held, const struct ls_epcis_ns *ns, const json_t *ev,
	    const char *uri)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_epcis_extra x;
	struct ls_record *r;
	char mine[LS_EPCIS_HASH_LEN];
	const char *pre = "urn:lodestone:record:";
	uint8_t id[LS_ID_LEN];
	json_t *hev;
	int rc;

	if (strncmp(uri, pre, strlen(pre)) != 0 || ls_unhex(uri + strlen(pre), id, LS_ID_LEN) != 0)
		return 1;
	if ((rc = get_record(c, held, id, &r)) == LS_ERR_NOT_FOUND)
		return 1;
	if (rc != 0)
		return -rc;
	memset(&x, 0, sizeof(x));
	if (r->type == LS_REC_RECEIPT && (rc = receipt_lot(c, held, r, x.lot)) == 0)
		x.has_lot = true;
	/* a record without an event (a license, a certificate) is no event's */
	if (!has_event(r) || ls_epcis_event_new(r, &x, &hev, &ctx) != 0)
		return 2;
	rc = ls_epcis_event_hash(ev, ns, mine, &ctx) == 0 &&
		     strcmp(mine, json_string_value(json_object_get(hev, "eventID"))) == 0
		 ? 0
		 : 2;
	json_decref(hev);
	return rc;
}

/* The event (its position, 1 on) of the record of this batch, res[from..to),
 * that res[i] was refused for naming (dependency-rejected); 0 when the
 * daemon named none or not one of this batch. */
static size_t
dep_event(const struct ls_ingest_result *res, size_t from, size_t to, size_t i, const size_t *pos)
{
	if (!res[i].has_missing)
		return 0;
	for (size_t k = from; k < to; k++)
		if (k != i && res[k].has_id && memcmp(res[k].id, res[i].missing, LS_ID_LEN) == 0)
			return pos[k];
	return 0;
}

/* One line per record for --dry-run. */
static void
print_planned(struct cli *c, size_t pos, const struct ls_record *r)
{
	char hex[LS_HEX_KEY_LEN + 1], sum[512];

	if (c->json) {
		json_t *j = out_record_json(r);
		json_object_set_new(j, "event", json_integer((json_int_t)pos));
		out_json(j);
		return;
	}
	out_record_summary(r, sum, sizeof(sum));
	printf("event %zu: %s %s\n", pos, ls_hex(r->id, LS_ID_LEN, hex), sum);
}

int
cmd_epcis_import(struct cli *c, int argc, char **argv)
{
	enum { OPT_DRY = CLI_OPT_FIRST_LOCAL };
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, OPT_DRY},
						 CLI_COMMON_LONGOPTS};
	struct import_ctx m = {c, 0, 0, NULL};
	struct recset held = {0, 0, NULL};
	struct ls_epcis_ns *ns = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_keypair *kp;
	struct ls_api_head head;
	struct ls_ingest_result *res = NULL;
	uint8_t **envs = NULL, prev[LS_ID_LEN], *buf = NULL;
	size_t *lens = NULL, *pos = NULL, n_env = 0, len = 0, n_bad = 0, n_other = 0;
	size_t count[4] = {0, 0, 0, 0}, n_unsent = 0, n_dead = 0, n_deprej = 0;
	uint64_t cert_t = 0;
	uint8_t cert[LS_ID_LEN] = {0};
	int cert_rc = 0;
	uint64_t seq, last_t;
	bool dry = false, has_prev;
	const char *path;
	json_t *doc = NULL, *events, *ev;
	size_t i;
	int ch, rc;

	while ((ch = cli_getopt(c, argc, argv, "", longopts)) != -1) {
		switch (ch) {
		case OPT_DRY: dry = true; break;
		case CLI_GETOPT_HELP: return CLI_OK;
		default: return CLI_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_err(c, "which file?");
	if (optind + 1 < argc)
		return cli_usage_err(c, "unexpected argument '%s'", argv[optind + 1]);
	path = argv[optind];
	if (ls_file_read(path, LS_EPCIS_DOC_MAX, &buf, &len, &ctx) != 0) {
		cli_err("%s: %s", c->cmd, ctx.msg);
		return CLI_USAGE;
	}
	rc = ls_epcis_doc_parse((const char *)buf, len, &doc, &events, &ctx);
	free(buf);
	if (rc != 0) {
		cli_err("%s: %s: %s (nothing imported)", c->cmd, path, ctx.msg);
		return CLI_USAGE;
	}
	if (ls_epcis_ns_new(json_object_get(doc, "@context"), &ns, &ctx) != 0) {
		cli_err("%s: %s: %s (nothing imported)", c->cmd, path, ctx.msg);
		json_decref(doc);
		return CLI_USAGE;
	}
	if ((rc = cli_key(c, &kp)) != CLI_OK || (rc = cli_connect(c)) != CLI_OK)
		goto out;
	/* One writer per key on this machine (see cli_write). */
	if (!dry && c->lock_fd < 0 && (c->lock_fd = open(c->key_path, O_RDONLY | O_CLOEXEC)) >= 0)
		(void)flock(c->lock_fd, LOCK_EX);
	if ((rc = ls_api_head(c->api, kp->pk, &head, &ctx)) != 0) {
		rc = cli_api_fail(c, rc, &ctx, "feed head");
		goto out;
	}
	seq = head.seq;
	has_prev = head.seq > 0;
	memcpy(prev, head.id, LS_ID_LEN);
	last_t = head.timestamp;
	envs = calloc(json_array_size(events) + 1, sizeof(*envs));
	lens = calloc(json_array_size(events) + 1, sizeof(*lens));
	pos = calloc(json_array_size(events) + 1, sizeof(*pos));
	if (envs == NULL || lens == NULL || pos == NULL) {
		cli_err("%s: out of memory", c->cmd);
		rc = CLI_FAIL;
		goto out;
	}
	json_array_foreach(events, i, ev)
	{
		struct ls_epcis_import im;
		struct ls_record *r;
		const json_t *orig;
		uint8_t signer[LS_KEY_LEN];
		bool has_signer;
		memset(&ctx, 0, sizeof(ctx));
		if ((rc = ls_epcis_event_signer(ev, &has_signer, signer, &ctx)) != 0) {
			cli_err("%s: %s: event %zu: %s", c->cmd, path, i + 1, ls_err_msg(&ctx, rc));
			n_bad++;
			continue;
		}
		if (has_signer && memcmp(signer, kp->pk, LS_KEY_LEN) != 0) {
			/* Another participant's: theirs to sign. */
			n_other++;
			continue;
		}
		/* Imported before (the same record is there, and the event is its
		 * event): known, not signed again. */
		orig = json_object_get(ev, "ls:recordID");
		if (json_is_string(orig)) {
			int k = known_event(c, &held, ns, ev, json_string_value(orig));
			if (k < 0) {
				rc = cli_api_fail(c, -k, &ctx, json_string_value(orig));
				goto out;
			}
			if (k == 0) {
				count[LS_INGEST_KNOWN]++;
				continue;
			}
			if (k == 2) {
				cli_err(
				    "%s: %s: event %zu: ls:recordID names record %.120s, and the "
				    "event is not that record's (its event hash differs)",
				    c->cmd, path, i + 1, json_string_value(orig));
				n_bad++;
				continue;
			}
		}
		if ((rc = ls_epcis_import_event(ev, resolve_ref, &m, &im, &ctx)) != 0) {
			cli_err("%s: %s: event %zu: %s", c->cmd, path, i + 1, ls_err_msg(&ctx, rc));
			n_bad++;
			continue;
		}
		r = im.r;
		if (r->timestamp < last_t || r->timestamp > ls_now() + 3600) {
			char t[40];
			cli_err("%s: %s: event %zu: eventTime %s is %s", c->cmd, path, i + 1,
				ls_time_format(r->timestamp, t, sizeof(t)),
				r->timestamp < last_t ? "before the last record of the key's feed"
						      : "in the future");
			n_bad++;
			ls_epcis_import_release(&im);
			continue;
		}
		memcpy(r->author, kp->pk, LS_KEY_LEN);
		r->seq = seq + 1;
		r->has_prev = has_prev;
		memcpy(r->prev, prev, LS_ID_LEN);
		/* The key's certificate at that second: asked once per second. */
		if (cert_t == r->timestamp && cert_t != 0) {
			memcpy(r->cert_id, cert, LS_ID_LEN);
			rc = cert_rc;
		} else {
			rc = ls_api_cert_of(c->api, kp->pk, r->timestamp, r->cert_id, &ctx);
			cert_t = r->timestamp;
			cert_rc = rc;
			memcpy(cert, r->cert_id, LS_ID_LEN);
		}
		if (rc != 0 && rc != LS_ERR_NOT_FOUND) {
			ls_epcis_import_release(&im);
			rc = cli_api_fail(c, rc, &ctx, "certificate of the signing key");
			goto out;
		}
		if (rc == LS_ERR_NOT_FOUND) {
			/* Only a trust anchor signs without one, and its records
			 * (certificates, policies, licenses) have no events. */
			char t[40];
			cli_err(
			    "%s: %s: event %zu: the signing key has no certificate at eventTime %s",
			    c->cmd, path, i + 1, ls_time_format(r->timestamp, t, sizeof(t)));
			n_bad++;
			ls_epcis_import_release(&im);
			continue;
		}
		r->has_cert = true;
		if (r->type == LS_REC_TRANSFER && !im.has_to_cert &&
		    (rc = ls_api_cert_of(c->api, r->transfer.to, r->timestamp, r->transfer.to_cert,
					 &ctx)) != 0)
			ls_err_set(&ctx, rc, "the receiver has no certificate at eventTime");
		if (rc == 0)
			rc = ls_record_sign(r, kp->sk, &ctx);
		if (rc != 0) {
			cli_err("%s: %s: event %zu: %s", c->cmd, path, i + 1, ls_err_msg(&ctx, rc));
			n_bad++;
			ls_epcis_import_release(&im);
			continue;
		}
		if (ls_record_envelope(r, &envs[n_env], &lens[n_env]) != 0) {
			cli_err("%s: out of memory", c->cmd);
			ls_epcis_import_release(&im);
			rc = CLI_FAIL;
			goto out;
		}
		pos[n_env++] = i + 1;
		seq++;
		has_prev = true;
		memcpy(prev, r->id, LS_ID_LEN);
		last_t = r->timestamp;
		rc = idmap_put(&m, im.orig, r->id);
		/* A shipment's despatch advice names the transfer for the
		 * receiving events of this document. */
		if (rc == 0 && r->type == LS_REC_TRANSFER)
			rc = idmap_put(&m, desadv_of(ev), r->id);
		for (size_t k = 0; k < im.n_lots && rc == 0; k++) {
			uint8_t lot[LS_ID_LEN];
			if (r->type == LS_REC_LOT)
				memcpy(lot, r->id, LS_ID_LEN);
			else
				ls_lot_id(r->id, (uint32_t)k, lot);
			rc = idmap_put(&m, im.lots[k], lot);
		}
		if (dry)
			print_planned(c, i + 1, r);
		ls_epcis_import_release(&im);
		if (rc != 0) {
			cli_err("%s: out of memory", c->cmd);
			rc = CLI_FAIL;
			goto out;
		}
	}
	if (!dry && n_env > 0) {
		if ((res = calloc(n_env, sizeof(*res))) == NULL) {
			rc = CLI_FAIL;
			goto out;
		}
		/* In batches, stopping after one with a rejection: the key's
		 * later records would wait in the daemon for the rejected one. */
		for (size_t from = 0; from < n_env; from += IMPORT_BATCH) {
			size_t nb = n_env - from < IMPORT_BATCH ? n_env - from : IMPORT_BATCH;
			bool rejected = false;
			if ((rc = ls_api_submit(c->api, (const uint8_t *const *)envs + from,
						lens + from, nb, res + from, &ctx)) != 0) {
				rc = cli_api_fail(c, rc, &ctx, "submit");
				goto out;
			}
			for (i = from; i < from + nb; i++) {
				char hex[LS_HEX_KEY_LEN + 1];
				count[res[i].status < 4 ? res[i].status : 3]++;
				/* After a rejected record of its batch, a record waits
				 * on it (its feed's prev) and never goes in. */
				if (rejected && res[i].status == LS_INGEST_PENDING)
					n_dead++;
				if (res[i].status != LS_INGEST_REJECTED)
					continue;
				rejected = true;
				if (res[i].reason == LS_R_DEP_REJECTED) {
					size_t dep = dep_event(res, from, from + nb, i, pos);
					n_deprej++;
					if (dep != 0) {
						cli_err(
						    "%s: %s: event %zu: record %s rejected: %s: it "
						    "depends on event %zu, rejected in this import "
						    "(%s)",
						    c->cmd, path, pos[i],
						    ls_hex(res[i].id, LS_ID_LEN, hex),
						    ls_reason_code(res[i].reason), dep,
						    res[i].message);
						continue;
					}
				}
				cli_err("%s: %s: event %zu: record %s rejected: %s: %s", c->cmd,
					path, pos[i],
					res[i].has_id ? ls_hex(res[i].id, LS_ID_LEN, hex)
						      : "(none)",
					ls_reason_code(res[i].reason), res[i].message);
			}
			if (n_dead > 0)
				cli_err(
				    "%s: %s: %zu records after the rejected one wait for it in the "
				    "daemon and will not go in; import those events again once "
				    "it is fixed",
				    c->cmd, path, n_dead);
			if (rejected && from + nb < n_env) {
				n_unsent = n_env - from - nb;
				cli_err("%s: %s: events from %zu on not submitted (%zu records): a "
					"record "
					"before them was rejected",
					c->cmd, path, pos[from + nb], n_unsent);
				break;
			}
		}
	}
	if (c->json) {
		json_t *j = json_object();
		json_object_set_new(j, "events", json_integer((json_int_t)json_array_size(events)));
		json_object_set_new(j, dry ? "would_write" : "signed",
				    json_integer((json_int_t)n_env));
		json_object_set_new(j, "known", json_integer((json_int_t)count[1]));
		if (!dry) {
			json_object_set_new(j, "accepted", json_integer((json_int_t)count[0]));
			json_object_set_new(j, "pending", json_integer((json_int_t)count[2]));
			json_object_set_new(j, "rejected", json_integer((json_int_t)count[3]));
			json_object_set_new(j, "dependency_rejected",
					    json_integer((json_int_t)n_deprej));
			json_object_set_new(j, "not_submitted", json_integer((json_int_t)n_unsent));
			json_object_set_new(j, "after_rejected", json_integer((json_int_t)n_dead));
		}
		json_object_set_new(j, "not_importable", json_integer((json_int_t)n_bad));
		json_object_set_new(j, "other_signers", json_integer((json_int_t)n_other));
		out_json(j);
	} else if (dry) {
		printf("%zu of %zu events would be written; %zu already there, %zu not importable, "
		       "%zu "
		       "signed by other participants\n",
		       n_env, json_array_size(events), count[LS_INGEST_KNOWN], n_bad, n_other);
	} else {
		char why[96] = "";
		if (n_deprej > 0)
			snprintf(why, sizeof(why),
				 " (%zu of them for depending on a rejected event)", n_deprej);
		printf("%zu events: %zu accepted, %zu already known, %zu waiting for a record, %zu "
		       "rejected%s; %zu not importable, %zu signed by other participants\n",
		       json_array_size(events), count[0], count[1], count[2], count[3], why, n_bad,
		       n_other);
	}
	rc = (n_bad > 0 || count[3] > 0 || n_unsent > 0) ? CLI_FAIL : CLI_OK;
out:
	for (i = 0; i < n_env; i++)
		free(envs[i]);
	free(envs);
	free(lens);
	free(pos);
	free(res);
	for (i = 0; i < m.n; i++)
		free(m.v[i].uri);
	free(m.v);
	recset_free(&held);
	ls_epcis_ns_free(ns);
	json_decref(doc);
	return rc;
}
