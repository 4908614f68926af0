/*
 * logproof.c - the log proof of a bundle: its codec, the check of its
 * proofs against a verifier's witness policy, and the check that the
 * authority feeds a bundle carries reach their heads at the checkpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "lodestone.pb-c.h"
#include "logproof.h"
#include "pbuf_int.h"
#include "kind.h"
#include "util.h"
#include "verify_int.h"

/* Seconds a quorum time may be ahead of the verifier's clock. */
#define LS_LP_CLOCK_SKEW 3600

/* protobuf-c's unpack needs a few times the input size for the object tree. */
#define UNPACK_BUDGET(len) (16 * (len) + 64 * 1024)

/* Faults of one kind shown one by one; past that, counted in one more. */
#define FAULTS_SHOWN 8

void
ls_logproof_init(struct ls_logproof *p)
{
	memset(p, 0, sizeof(*p));
}

void
ls_logproof_release(struct ls_logproof *p)
{
	if (p == NULL)
		return;
	free(p->log_key);
	free(p->checkpoint);
	for (size_t i = 0; p->records != NULL && i < p->n_records; i++) {
		free(p->records[i].proof.h);
		free(p->records[i].dating_proof.h);
	}
	free(p->records);
	free(p->heads_leaf_proof.h);
	for (size_t i = 0; p->heads != NULL && i < p->n_heads; i++)
		free(p->heads[i].proof.h);
	free(p->heads);
	for (size_t i = 0; p->dating != NULL && i < p->n_dating; i++)
		free(p->dating[i]);
	free(p->dating);
	free(p->dating_len);
	for (size_t i = 0; p->splits != NULL && i < p->n_splits; i++) {
		free(p->splits[i].note_a);
		free(p->splits[i].note_b);
		free(p->splits[i].proof.h);
	}
	free(p->splits);
	memset(p, 0, sizeof(*p));
}

void
ls_lp_report_release(struct ls_lp_report *r)
{
	if (r == NULL)
		return;
	free(r->logged);
	memset(r, 0, sizeof(*r));
}

/* ---- encode ---- */

/* The hashes of h as protobuf-c binaries (pointing into h). */
static ProtobufCBinaryData *
bins(const struct ls_hashes *h)
{
	ProtobufCBinaryData *b = calloc(h->n ? h->n : 1, sizeof(*b));

	for (size_t i = 0; b != NULL && i < h->n; i++) {
		b[i].len = LS_TLOG_HASH;
		b[i].data = (uint8_t *)h->h[i];
	}
	return b;
}

int
ls_logproof_encode(const struct ls_logproof *p, uint8_t **out, size_t *len)
{
	Lodestone__LogProof m = LODESTONE__LOG_PROOF__INIT;
	Lodestone__Inclusion *inc = NULL, **incp = NULL;
	Lodestone__HeadProof *hp = NULL, **hpp = NULL;
	Lodestone__SplitView *sv = NULL, **svp = NULL;
	size_t nb = 0, cap;
	ProtobufCBinaryData **all = NULL; /* every bins() array, to free */
	int rc = LS_ERR_NOMEM;

	*out = NULL;
	*len = 0;
	cap = 2 * p->n_records + p->n_heads + p->n_splits + 1;
	if ((all = calloc(cap, sizeof(*all))) == NULL ||
	    (inc = calloc(p->n_records ? p->n_records : 1, sizeof(*inc))) == NULL ||
	    (incp = calloc(p->n_records ? p->n_records : 1, sizeof(*incp))) == NULL ||
	    (hp = calloc(p->n_heads ? p->n_heads : 1, sizeof(*hp))) == NULL ||
	    (hpp = calloc(p->n_heads ? p->n_heads : 1, sizeof(*hpp))) == NULL ||
	    (sv = calloc(p->n_splits ? p->n_splits : 1, sizeof(*sv))) == NULL ||
	    (svp = calloc(p->n_splits ? p->n_splits : 1, sizeof(*svp))) == NULL)
		goto out;
	m.log_key = p->log_key;
	m.checkpoint = p->checkpoint;
	for (size_t i = 0; i < p->n_records; i++) {
		const struct ls_lp_inclusion *x = &p->records[i];
		lodestone__inclusion__init(&inc[i]);
		inc[i].index = x->index;
		if ((all[nb++] = inc[i].hashes = bins(&x->proof)) == NULL)
			goto out;
		inc[i].n_hashes = x->proof.n;
		if (x->dating != 0) {
			inc[i].has_dating = true;
			inc[i].dating = x->dating;
			if ((all[nb++] = inc[i].dating_hashes = bins(&x->dating_proof)) == NULL)
				goto out;
			inc[i].n_dating_hashes = x->dating_proof.n;
		}
		incp[i] = &inc[i];
	}
	m.n_records = p->n_records;
	m.records = incp;
	m.heads_root.len = LS_TLOG_HASH;
	m.heads_root.data = (uint8_t *)p->heads_root;
	if ((all[nb++] = m.heads_leaf_proof = bins(&p->heads_leaf_proof)) == NULL)
		goto out;
	m.n_heads_leaf_proof = p->heads_leaf_proof.n;
	m.heads_count = p->heads_count;
	for (size_t i = 0; i < p->n_heads; i++) {
		const struct ls_lp_head *x = &p->heads[i];
		lodestone__head_proof__init(&hp[i]);
		hp[i].author.len = LS_KEY_LEN;
		hp[i].author.data = (uint8_t *)x->author;
		hp[i].seq = x->seq;
		hp[i].head.len = LS_ID_LEN;
		hp[i].head.data = (uint8_t *)x->head;
		hp[i].position = x->position;
		if ((all[nb++] = hp[i].hashes = bins(&x->proof)) == NULL)
			goto out;
		hp[i].n_hashes = x->proof.n;
		hpp[i] = &hp[i];
	}
	m.n_heads = p->n_heads;
	m.heads = hpp;
	m.n_dating = p->n_dating;
	m.dating = p->dating;
	for (size_t i = 0; i < p->n_splits; i++) {
		const struct ls_lp_split *x = &p->splits[i];
		lodestone__split_view__init(&sv[i]);
		sv[i].note_a.len = x->la;
		sv[i].note_a.data = (uint8_t *)x->note_a;
		sv[i].note_b.len = x->lb;
		sv[i].note_b.data = (uint8_t *)x->note_b;
		if ((all[nb++] = sv[i].proof = bins(&x->proof)) == NULL)
			goto out;
		sv[i].n_proof = x->proof.n;
		if (x->has_old_root) {
			sv[i].has_old_root = true;
			sv[i].old_root.len = LS_TLOG_HASH;
			sv[i].old_root.data = (uint8_t *)x->old_root;
		}
		svp[i] = &sv[i];
	}
	m.n_split_views = p->n_splits;
	m.split_views = svp;
	*len = lodestone__log_proof__get_packed_size(&m);
	if ((*out = malloc(*len ? *len : 1)) == NULL) {
		*len = 0;
		goto out;
	}
	lodestone__log_proof__pack(&m, *out);
	rc = 0;
out:
	for (size_t i = 0; all != NULL && i < nb; i++)
		free(all[i]);
	free(all);
	free(inc);
	free(incp);
	free(hp);
	free(hpp);
	free(sv);
	free(svp);
	return rc;
}

/* ---- streaming: a LogProof written field by field (logproof.h) ---- */

/* The bytes of the Inclusion message itself. */
static size_t
inclusion_body(uint64_t index, size_t n, uint32_t dating, size_t nd)
{
	size_t z = 1 + ls_uvarint_len(index) + n * (2 + LS_TLOG_HASH);

	if (dating != 0)
		z += 1 + ls_uvarint_len(dating) + nd * (2 + LS_TLOG_HASH);
	return z;
}

size_t
ls_lp_inclusion_size(uint64_t index, size_t n, uint32_t dating, size_t nd)
{
	size_t body = inclusion_body(index, n, dating, nd);

	return 1 + ls_uvarint_len(body) + body;
}

size_t
ls_lp_inclusion_encode(const struct ls_lp_inclusion *x, uint8_t *out)
{
	size_t body = inclusion_body(x->index, x->proof.n, x->dating, x->dating_proof.n), off = 0;

	/* As protobuf-c packs it: fields in number order, required index,
	 * repeated bytes one by one, dating only when set. */
	out[off++] = (3 << 3) | 2; /* LogProof.records */
	off += ls_uvarint_put(out + off, body);
	out[off++] = (1 << 3) | 0;
	off += ls_uvarint_put(out + off, x->index);
	for (size_t i = 0; i < x->proof.n; i++) {
		out[off++] = (2 << 3) | 2;
		out[off++] = LS_TLOG_HASH;
		memcpy(out + off, x->proof.h[i], LS_TLOG_HASH);
		off += LS_TLOG_HASH;
	}
	if (x->dating != 0) {
		out[off++] = (3 << 3) | 0;
		off += ls_uvarint_put(out + off, x->dating);
		for (size_t i = 0; i < x->dating_proof.n; i++) {
			out[off++] = (4 << 3) | 2;
			out[off++] = LS_TLOG_HASH;
			memcpy(out + off, x->dating_proof.h[i], LS_TLOG_HASH);
			off += LS_TLOG_HASH;
		}
	}
	return off;
}

int
ls_logproof_encode_split(const struct ls_logproof *p, uint8_t **head, size_t *head_len,
			 uint8_t **tail, size_t *tail_len)
{
	struct ls_logproof q = *p;
	uint8_t *buf = NULL;
	size_t len = 0, off = 0, cut;
	int rc;

	*head = *tail = NULL;
	*head_len = *tail_len = 0;
	q.n_records = 0;
	if ((rc = ls_logproof_encode(&q, &buf, &len)) != 0)
		return rc;
	/* Fields 1 and 2 (log_key, checkpoint) come first: cut before the
	 * first field numbered above 3. */
	for (cut = len; off < len;) {
		uint64_t tag = 0, sz = 0;
		unsigned shift = 0;
		size_t start = off;
		while (off < len && shift < 64) {
			tag |= (uint64_t)(buf[off] & 0x7f) << shift;
			shift += 7;
			if (!(buf[off++] & 0x80))
				break;
		}
		if ((tag >> 3) > 3) {
			cut = start;
			break;
		}
		if ((tag & 7) != 2) { /* fields 1 and 2 are strings */
			free(buf);
			return LS_ERR_MALFORMED;
		}
		shift = 0;
		while (off < len && shift < 64) {
			sz |= (uint64_t)(buf[off] & 0x7f) << shift;
			shift += 7;
			if (!(buf[off++] & 0x80))
				break;
		}
		if (sz > len - off) {
			free(buf);
			return LS_ERR_MALFORMED;
		}
		off += (size_t)sz;
	}
	if ((*head = malloc(cut ? cut : 1)) == NULL ||
	    (*tail = malloc(len - cut ? len - cut : 1)) == NULL) {
		free(*head);
		*head = NULL;
		free(buf);
		return LS_ERR_NOMEM;
	}
	memcpy(*head, buf, cut);
	memcpy(*tail, buf + cut, len - cut);
	*head_len = cut;
	*tail_len = len - cut;
	free(buf);
	return 0;
}

/* ---- decode ---- */

static int
hashes_copy(struct ls_hashes *h, const ProtobufCBinaryData *b, size_t n, const char *what, size_t i,
	    struct ls_err_ctx *ctx)
{
	h->n = 0;
	h->h = NULL;
	if (n > LS_TLOG_PROOF_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof: %s %zu has %zu hashes, over %d",
				  what, i, n, LS_TLOG_PROOF_MAX);
	if ((h->h = malloc((n ? n : 1) * LS_TLOG_HASH)) == NULL)
		return LS_ERR_NOMEM;
	for (size_t k = 0; k < n; k++) {
		if (b[k].len != LS_TLOG_HASH)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "log proof: %s %zu: hash %zu is %zu bytes, not 32", what,
					  i, k, b[k].len);
		memcpy(h->h[k], b[k].data, LS_TLOG_HASH);
	}
	h->n = n;
	return 0;
}

/* A string field from outside: present, at most max bytes, no NUL inside
 * (protobuf-c gives it NUL-terminated). *out malloc'd. */
static int
text_copy(const char *s, size_t max, char **out, size_t *len, const char *what,
	  struct ls_err_ctx *ctx)
{
	size_t n;

	*out = NULL;
	if (s == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "log proof: no %s", what);
	n = strnlen(s, max + 1);
	if (n > max)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof: %s is over %zu bytes", what,
				  max);
	if ((*out = malloc(n + 1)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(*out, s, n + 1);
	if (len != NULL)
		*len = n;
	return 0;
}

static int
split_copy(const Lodestone__SplitView *x, struct ls_lp_split *y, size_t i, struct ls_err_ctx *ctx)
{
	if (x->base.n_unknown_fields != 0 || x->note_a.len > LS_NOTE_MAX ||
	    x->note_b.len > LS_NOTE_MAX || (x->has_old_root && x->old_root.len != LS_TLOG_HASH))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "split view %zu is malformed", i);
	if ((y->note_a = malloc(x->note_a.len + 1)) == NULL ||
	    (y->note_b = malloc(x->note_b.len + 1)) == NULL)
		return LS_ERR_NOMEM;
	if (x->note_a.len != 0) /* an empty field may have no data at all */
		memcpy(y->note_a, x->note_a.data, x->note_a.len);
	y->note_a[x->note_a.len] = '\0';
	y->la = x->note_a.len;
	if (x->note_b.len != 0)
		memcpy(y->note_b, x->note_b.data, x->note_b.len);
	y->note_b[x->note_b.len] = '\0';
	y->lb = x->note_b.len;
	y->has_old_root = x->has_old_root;
	if (x->has_old_root)
		memcpy(y->old_root, x->old_root.data, LS_TLOG_HASH);
	return hashes_copy(&y->proof, x->proof, x->n_proof, "split view", i, ctx);
}

int
ls_lp_split_decode(const uint8_t *buf, size_t len, struct ls_lp_split *out, struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__SplitView *m;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > 2 * LS_NOTE_MAX + (LS_TLOG_PROOF_MAX + 1) * 40 + 64)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "split view of %zu bytes", len);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	if ((m = lodestone__split_view__unpack(&bud.alloc, len, buf)) == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "split view does not decode");
	rc = split_copy(m, out, 0, ctx);
	lodestone__split_view__free_unpacked(m, &bud.alloc);
	if (rc != 0) {
		free(out->note_a);
		free(out->note_b);
		free(out->proof.h);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

static int
from_message(const Lodestone__LogProof *m, struct ls_logproof *p, struct ls_err_ctx *ctx)
{
	char what[48];
	int rc;

	if (m->base.n_unknown_fields != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "log proof has unknown fields");
	if ((rc = text_copy(m->log_key, LS_VKEY_MAX - 1, &p->log_key, NULL, "log key", ctx)) != 0 ||
	    (rc = text_copy(m->checkpoint, LS_NOTE_MAX, &p->checkpoint, &p->checkpoint_len,
			    "checkpoint", ctx)) != 0)
		return rc;
	if (m->n_records > LS_LP_RECORDS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof has over %d inclusions",
				  LS_LP_RECORDS_MAX);
	if ((p->records = calloc(m->n_records ? m->n_records : 1, sizeof(*p->records))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_records; i++) {
		const Lodestone__Inclusion *x = m->records[i];
		struct ls_lp_inclusion *y = &p->records[i];
		p->n_records = i + 1;
		if (x->base.n_unknown_fields != 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "log proof: inclusion %zu has unknown fields", i);
		y->index = x->index;
		y->dating = x->has_dating ? x->dating : 0;
		if (y->dating > m->n_dating)
			return ls_err_set(
			    ctx, LS_ERR_MALFORMED,
			    "log proof: inclusion %zu names dating checkpoint %" PRIu32 " of %zu",
			    i, y->dating, m->n_dating);
		if ((rc = hashes_copy(&y->proof, x->hashes, x->n_hashes, "inclusion", i, ctx)) !=
			0 ||
		    (rc = hashes_copy(&y->dating_proof, x->dating_hashes, x->n_dating_hashes,
				      "dating inclusion", i, ctx)) != 0)
			return rc;
	}
	if (m->heads_root.len != LS_TLOG_HASH)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "log proof: heads root is %zu bytes, not 32", m->heads_root.len);
	memcpy(p->heads_root, m->heads_root.data, LS_TLOG_HASH);
	if ((rc = hashes_copy(&p->heads_leaf_proof, m->heads_leaf_proof, m->n_heads_leaf_proof,
			      "heads leaf proof", 0, ctx)) != 0)
		return rc;
	p->heads_count = m->heads_count;
	if (m->n_heads > LS_LP_RECORDS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof has over %d head proofs",
				  LS_LP_RECORDS_MAX);
	if ((p->heads = calloc(m->n_heads ? m->n_heads : 1, sizeof(*p->heads))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_heads; i++) {
		const Lodestone__HeadProof *x = m->heads[i];
		struct ls_lp_head *y = &p->heads[i];
		p->n_heads = i + 1;
		if (x->base.n_unknown_fields != 0 || x->author.len != LS_KEY_LEN ||
		    x->head.len != LS_ID_LEN)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "log proof: head proof %zu: author and head must be 32 "
					  "bytes",
					  i);
		memcpy(y->author, x->author.data, LS_KEY_LEN);
		memcpy(y->head, x->head.data, LS_ID_LEN);
		y->seq = x->seq;
		y->position = x->position;
		if ((rc = hashes_copy(&y->proof, x->hashes, x->n_hashes, "head proof", i, ctx)) !=
		    0)
			return rc;
	}
	if (m->n_dating > LS_LP_DATING_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof has over %d dating checkpoints",
				  LS_LP_DATING_MAX);
	if ((p->dating = calloc(m->n_dating ? m->n_dating : 1, sizeof(*p->dating))) == NULL ||
	    (p->dating_len = calloc(m->n_dating ? m->n_dating : 1, sizeof(*p->dating_len))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_dating; i++) {
		p->n_dating = i + 1;
		snprintf(what, sizeof(what), "dating checkpoint %zu", i + 1);
		if ((rc = text_copy(m->dating[i], LS_NOTE_MAX, &p->dating[i], &p->dating_len[i],
				    what, ctx)) != 0)
			return rc;
	}
	if (m->n_split_views > LS_LP_SPLITS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "log proof has over %d split views",
				  LS_LP_SPLITS_MAX);
	if ((p->splits = calloc(m->n_split_views ? m->n_split_views : 1, sizeof(*p->splits))) ==
	    NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < m->n_split_views; i++) {
		p->n_splits = i + 1;
		if ((rc = split_copy(m->split_views[i], &p->splits[i], i, ctx)) != 0)
			return rc;
	}
	return 0;
}

int
ls_logproof_decode(const uint8_t *buf, size_t len, struct ls_logproof *p, struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__LogProof *m;
	int rc;

	ls_logproof_init(p);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	if ((m = lodestone__log_proof__unpack(&bud.alloc, len, buf)) == NULL)
		return ls_err_set(ctx, bud.left < len ? LS_ERR_TOO_BIG : LS_ERR_MALFORMED,
				  "log proof does not decode");
	rc = from_message(m, p, ctx);
	if (rc == LS_ERR_NOMEM)
		ls_err_set(ctx, rc, "out of memory decoding the log proof");
	lodestone__log_proof__free_unpacked(m, &bud.alloc);
	if (rc != 0)
		ls_logproof_release(p);
	return rc;
}

/* ---- check ---- */

static const char *
h16(const uint8_t *id, char buf[17])
{
	char full[65];

	ls_hex(id, 32, full);
	memcpy(buf, full, 16);
	buf[16] = '\0';
	return buf;
}

/* A parsed, log-signed checkpoint and its quorum under the policy. */
struct cp {
	struct ls_note note;
	struct ls_checkpoint c;
	bool ok;        /* signed by the log key, of its origin */
	bool witnessed; /* quorum reached */
	uint64_t qtime;
	size_t n_valid;
	uint64_t ts[LS_LP_WITNESSES];
	size_t who[LS_LP_WITNESSES]; /* index of the witness of ts[i] */
};

static size_t
quorum_of(const struct ls_lp_policy *pol)
{
	return pol->quorum ? pol->quorum : pol->n_witnesses / 2 + 1;
}

/*
 * Parses and checks one checkpoint note (what: "checkpoint 12", "dating
 * checkpoint 2"): log signature, origin, and the cosignatures of the policy's
 * witnesses. Faults to faults; c->ok when it is the log's.
 */
static int
cp_check(const char *text, size_t len, const struct ls_vkey *log, const struct ls_lp_policy *pol,
	 const char *what, struct cp *c, struct ls_verdict *faults)
{
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = ls_note_parse(text, len, &c->note, &ctx)) != 0 ||
	    (rc = ls_checkpoint_parse(c->note.body, c->note.body_len, &c->c, &ctx)) != 0)
		return ls_verdict_add(
		    faults, LS_R_LOG_PROOF, NULL, 0, "the bundle's %s is not a %s: %s", what,
		    rc == LS_ERR_TOO_BIG ? "bounded note" : "checkpoint", ctx.msg);
	if (strcmp(c->c.origin, log->name) != 0)
		return ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				      "the bundle's %s is of log '%s', not of the log key '%s'",
				      what, c->c.origin, log->name);
	if ((rc = ls_note_verify(&c->note, log)) != 0)
		return ls_verdict_add(
		    faults, LS_R_LOG_PROOF, NULL, 0,
		    "the bundle's %s (size %" PRIu64 ") %s by the log key of '%s'", what, c->c.size,
		    rc == LS_ERR_NOT_FOUND ? "is not signed"
					   : "has a signature "
					     "that fails",
		    log->name);
	if (c->c.size == 0)
		return ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				      "the bundle's %s is of the empty log", what);
	c->ok = true;
	for (size_t i = 0; i < pol->n_witnesses; i++) {
		uint64_t ts;
		bool again = false;
		/* One key is one vote, whatever names it is given under; and the
		 * log's own key witnesses nothing (it would cosign itself). */
		for (size_t j = 0; j < i && !again; j++)
			again = memcmp(pol->witnesses[j].pk, pol->witnesses[i].pk, 32) == 0;
		if (again)
			continue;
		if (memcmp(pol->witnesses[i].pk, log->pk, 32) == 0) {
			if ((rc = ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
						 "witness '%s' has the log key of '%s': a log "
						 "does not witness its own %s",
						 pol->witnesses[i].name, log->name, what)) != 0)
				return rc;
			continue;
		}
		rc = ls_cosig_verify(&c->note, &pol->witnesses[i], &ts);
		if (rc == LS_ERR_NOT_FOUND)
			continue;
		if (rc != 0) {
			if ((rc = ls_verdict_add(
				 faults, LS_R_LOG_PROOF, NULL, 0,
				 "the cosignature of witness '%s' on the bundle's %s "
				 "(size %" PRIu64 ") does not verify",
				 pol->witnesses[i].name, what, c->c.size)) != 0)
				return rc;
			continue;
		}
		/* Sorted by time as they come (few witnesses). */
		size_t k = c->n_valid++;
		while (k > 0 && c->ts[k - 1] > ts) {
			c->ts[k] = c->ts[k - 1];
			c->who[k] = c->who[k - 1];
			k--;
		}
		c->ts[k] = ts;
		c->who[k] = i;
	}
	if (pol->n_witnesses > 0 && c->n_valid >= quorum_of(pol)) {
		c->witnessed = true;
		c->qtime = c->ts[quorum_of(pol) - 1];
	}
	return 0;
}

static void
leaf_record(const uint8_t id[LS_ID_LEN], uint8_t leaf[LS_TLOG_HASH])
{
	uint8_t data[LS_TLOG_LEAF_LEN];

	data[0] = LS_TLOG_LEAF_RECORD;
	memcpy(data + 1, id, LS_ID_LEN);
	ls_tlog_leaf_hash(data, sizeof(data), leaf);
}

/* Whether a split view's two notes are the log's and not one history. */
static bool
split_holds(const struct ls_lp_split *sv, const struct ls_vkey *log)
{
	struct ls_note *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	struct ls_checkpoint ca, cb;
	uint8_t fr[LS_TLOG_HASH], sr[LS_TLOG_HASH];
	bool holds = false;

	if (a == NULL || b == NULL)
		goto out;
	if (ls_note_parse(sv->note_a, sv->la, a, NULL) != 0 ||
	    ls_note_parse(sv->note_b, sv->lb, b, NULL) != 0 ||
	    ls_checkpoint_parse(a->body, a->body_len, &ca, NULL) != 0 ||
	    ls_checkpoint_parse(b->body, b->body_len, &cb, NULL) != 0 ||
	    strcmp(ca.origin, log->name) != 0 || strcmp(cb.origin, log->name) != 0 ||
	    ls_note_verify(a, log) != 0 || ls_note_verify(b, log) != 0)
		goto out;
	if (ca.size == cb.size) {
		holds = memcmp(ca.root, cb.root, LS_TLOG_HASH) != 0;
	} else if (ca.size > 0 && ca.size < cb.size &&
		   ls_tlog_consistency_roots(
		       ca.size, cb.size, sv->has_old_root ? sv->old_root : ca.root,
		       (const uint8_t(*)[LS_TLOG_HASH])sv->proof.h, sv->proof.n, fr, sr) == 0) {
		holds = memcmp(sr, cb.root, LS_TLOG_HASH) == 0 &&
			memcmp(fr, ca.root, LS_TLOG_HASH) != 0;
	}
out:
	free(a);
	free(b);
	return holds;
}

int
ls_logproof_check(const struct ls_logproof *p, const uint8_t (*ids)[LS_ID_LEN], size_t n,
		  const struct ls_lp_policy *pol, struct ls_lp_report *rep,
		  struct ls_verdict *faults)
{
	struct ls_vkey log;
	struct ls_err_ctx ctx = {{0}};
	struct cp *cpm = NULL, *dat = NULL;
	size_t bad = 0;
	char h[17], t1[32];
	int rc = 0;

	memset(rep, 0, sizeof(*rep));
	rep->present = true;
	rep->quorum = pol->n_witnesses > 0 ? quorum_of(pol) : 0;
	rep->n_records = n;
	rep->n_heads = p->n_heads;
	rep->n_dating = p->n_dating;
	snprintf(rep->log_key, sizeof(rep->log_key), "%s", p->log_key);
	if ((rep->logged = calloc(n ? n : 1, sizeof(*rep->logged))) == NULL)
		return LS_ERR_NOMEM;
	/* The cosigners are kept in arrays of LS_LP_WITNESSES. */
	if (pol->n_witnesses > LS_LP_WITNESSES) {
		rep->quorum = 0;
		return ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				      "%zu witnesses given, over the %d a log proof is checked "
				      "against",
				      pol->n_witnesses, LS_LP_WITNESSES);
	}
	if (ls_vkey_parse(p->log_key, &log, &ctx) != 0 || log.type != LS_NOTE_ED25519)
		return ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				      "the bundle's log key is not a log verifier key: %s",
				      ctx.msg[0] ? ctx.msg : "not of type 0x01");
	/* A Lodestone log is named by its key (lodestone/<16 hex digits of
	 * it>): witnesses cosign the checkpoint body, origin included, not
	 * the log key, so a key under another log's name could borrow that
	 * log's cosignatures and be named as the log the witnesses follow. */
	{
		char hex[2 * 32 + 1], want[LS_NOTE_NAME_MAX];
		snprintf(want, sizeof(want), "lodestone/%.16s", ls_hex(log.pk, 32, hex));
		if (strcmp(want, log.name) != 0)
			return ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
					      "the bundle's log key is named '%s', not '%s', "
					      "the name of that key's log",
					      log.name, want);
	}
	if ((cpm = calloc(1, sizeof(*cpm))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = cp_check(p->checkpoint, p->checkpoint_len, &log, pol, "checkpoint", cpm,
			   faults)) != 0 ||
	    !cpm->ok)
		goto out;
	rep->signed_ok = true;
	snprintf(rep->origin, sizeof(rep->origin), "%s", cpm->c.origin);
	rep->size = cpm->c.size;
	memcpy(rep->root, cpm->c.root, LS_TLOG_HASH);
	rep->witnessed = cpm->witnessed;
	rep->qtime = cpm->qtime;
	for (size_t i = 0; i < cpm->n_valid; i++) {
		snprintf(rep->cosigners[i], sizeof(rep->cosigners[i]), "%s",
			 pol->witnesses[cpm->who[i]].name);
		rep->cosigned_at[i] = cpm->ts[i];
	}
	rep->n_cosigners = cpm->n_valid;

	/* The witness policy. */
	if (pol->n_witnesses == 0) {
		rc = ls_verdict_add(faults, LS_R_UNWITNESSED, NULL, 0,
				    "checkpoint %" PRIu64
				    " of log %s is not witnessed: no --witness "
				    "given, so no record has a logged time",
				    rep->size, rep->origin);
		if (rc == 0)
			faults->reasons[faults->n - 1].warning = true;
	} else if (!cpm->witnessed) {
		char missing[LS_ERR_MSG_MAX] = "";
		size_t off = 0;
		for (size_t i = 0; i < pol->n_witnesses && off < sizeof(missing); i++) {
			bool has = false;
			for (size_t k = 0; k < cpm->n_valid; k++)
				has |= cpm->who[k] == i;
			if (!has)
				off +=
				    (size_t)snprintf(missing + off, sizeof(missing) - off, "%s'%s'",
						     off ? ", " : "", pol->witnesses[i].name);
		}
		rc =
		    ls_verdict_add(faults, LS_R_UNWITNESSED, NULL, 0,
				   "checkpoint %" PRIu64 " of log %s is cosigned by %zu of the %zu "
				   "witnesses given, short of the quorum of %zu (no valid "
				   "cosignature by %s)",
				   rep->size, rep->origin, cpm->n_valid, pol->n_witnesses,
				   quorum_of(pol), missing);
	} else if (pol->max_age != 0 && pol->now > cpm->qtime &&
		   pol->now - cpm->qtime > pol->max_age) {
		rc = ls_verdict_add(faults, LS_R_STALE, NULL, 0,
				    "checkpoint %" PRIu64 " of log %s reached its quorum at %s, "
				    "%" PRIu64 " s ago: older than --max-age (%" PRIu64 " s)",
				    rep->size, rep->origin,
				    ls_time_format(cpm->qtime, t1, sizeof(t1)),
				    pol->now - cpm->qtime, pol->max_age);
	} else if (pol->max_age != 0 && cpm->qtime > pol->now + LS_LP_CLOCK_SKEW) {
		/* A quorum time in the future would never grow stale. */
		rc = ls_verdict_add(faults, LS_R_STALE, NULL, 0,
				    "checkpoint %" PRIu64 " of log %s reached its quorum at %s, "
				    "%" PRIu64 " s ahead of this clock: --max-age cannot hold it",
				    rep->size, rep->origin,
				    ls_time_format(cpm->qtime, t1, sizeof(t1)),
				    cpm->qtime - pol->now);
	}
	if (rc != 0)
		goto out;

	/* Every record in the checkpoint. */
	if (p->n_records != n) {
		rc = ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				    "the log proof has %zu inclusion proofs for the bundle's %zu "
				    "records",
				    p->n_records, n);
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct ls_lp_inclusion *x = &p->records[i];
		uint8_t leaf[LS_TLOG_HASH];
		leaf_record(ids[i], leaf);
		if (x->index < cpm->c.size &&
		    ls_tlog_verify_inclusion(x->index, cpm->c.size, leaf,
					     (const uint8_t(*)[LS_TLOG_HASH])x->proof.h, x->proof.n,
					     cpm->c.root))
			continue;
		if (bad++ < FAULTS_SHOWN)
			rc = ls_verdict_add(faults, LS_R_LOG_PROOF, &ids[i], 1,
					    "bundle record %zu (%s) is not proven in checkpoint "
					    "%" PRIu64
					    " of log %s: its inclusion proof (leaf %" PRIu64
					    ") does not hold",
					    i, h16(ids[i], h), cpm->c.size, rep->origin, x->index);
	}
	if (rc == 0 && bad > FAULTS_SHOWN)
		rc = ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
				    "%zu more bundle records are not proven in checkpoint %" PRIu64,
				    bad - FAULTS_SHOWN, cpm->c.size);
	if (rc != 0)
		goto out;

	/* The heads leaf is the checkpoint's last leaf; each head in it. */
	{
		uint8_t data[LS_TLOG_LEAF_LEN], leaf[LS_TLOG_HASH];
		data[0] = LS_TLOG_LEAF_HEADS;
		memcpy(data + 1, p->heads_root, LS_TLOG_HASH);
		ls_tlog_leaf_hash(data, sizeof(data), leaf);
		if (!ls_tlog_verify_inclusion(cpm->c.size - 1, cpm->c.size, leaf,
					      (const uint8_t(*)[LS_TLOG_HASH])p->heads_leaf_proof.h,
					      p->heads_leaf_proof.n, cpm->c.root) &&
		    (rc =
			 ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
					"the heads root of the log proof is not the last leaf of "
					"checkpoint %" PRIu64 " of log %s: its proof does not hold",
					cpm->c.size, rep->origin)) != 0)
			goto out;
	}
	bad = 0;
	for (size_t i = 0; i < p->n_heads && rc == 0; i++) {
		const struct ls_lp_head *x = &p->heads[i];
		uint8_t data[LS_HEADS_LEAF_LEN], leaf[LS_TLOG_HASH];
		memcpy(data, x->author, LS_KEY_LEN);
		ls_be64_put(data + LS_KEY_LEN, x->seq);
		memcpy(data + LS_KEY_LEN + 8, x->head, LS_ID_LEN);
		ls_tlog_leaf_hash(data, sizeof(data), leaf);
		if (x->position < p->heads_count &&
		    ls_tlog_verify_inclusion(x->position, p->heads_count, leaf,
					     (const uint8_t(*)[LS_TLOG_HASH])x->proof.h, x->proof.n,
					     p->heads_root))
			continue;
		if (bad++ < FAULTS_SHOWN)
			rc = ls_verdict_add(
			    faults, LS_R_LOG_PROOF, (const uint8_t(*)[LS_ID_LEN])x->head, 1,
			    "the head proof of author %s (seq %" PRIu64
			    ") does not hold in the heads tree of checkpoint %" PRIu64,
			    h16(x->author, h), x->seq, cpm->c.size);
	}
	if (rc != 0)
		goto out;

	/* Dating checkpoints: each the log's, with its own quorum. */
	if ((dat = calloc(p->n_dating ? p->n_dating : 1, sizeof(*dat))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	for (size_t j = 0; j < p->n_dating && rc == 0; j++) {
		char what[48];
		snprintf(what, sizeof(what), "dating checkpoint %zu", j + 1);
		if ((rc = cp_check(p->dating[j], p->dating_len[j], &log, pol, what, &dat[j],
				   faults)) != 0)
			break;
		if (dat[j].ok && dat[j].c.size > cpm->c.size) {
			dat[j].ok = false;
			rc = ls_verdict_add(faults, LS_R_LOG_PROOF, NULL, 0,
					    "the bundle's %s (size %" PRIu64
					    ") is larger than its checkpoint (%" PRIu64 ")",
					    what, dat[j].c.size, cpm->c.size);
		}
	}
	bad = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct ls_lp_inclusion *x = &p->records[i];
		const struct cp *d;
		uint8_t leaf[LS_TLOG_HASH];
		if (x->dating == 0) {
			rep->logged[i] = cpm->witnessed ? cpm->qtime : 0;
			continue;
		}
		d = &dat[x->dating - 1];
		leaf_record(ids[i], leaf);
		if (!d->ok) {
			/* Shown above; the record is still in the checkpoint. */
			rep->logged[i] = cpm->witnessed ? cpm->qtime : 0;
			continue;
		}
		if (x->index < d->c.size &&
		    ls_tlog_verify_inclusion(x->index, d->c.size, leaf,
					     (const uint8_t(*)[LS_TLOG_HASH])x->dating_proof.h,
					     x->dating_proof.n, d->c.root)) {
			/* Earlier than the checkpoint's own time when witnessed; a
			 * dating checkpoint short of the quorum dates nothing. */
			rep->logged[i] = d->witnessed ? d->qtime : cpm->witnessed ? cpm->qtime : 0;
			continue;
		}
		if (bad++ < FAULTS_SHOWN)
			rc = ls_verdict_add(faults, LS_R_LOG_PROOF, &ids[i], 1,
					    "bundle record %zu (%s) is not proven in dating "
					    "checkpoint %" PRIu32 " (size %" PRIu64
					    "): its inclusion proof does not hold",
					    i, h16(ids[i], h), x->dating, d->c.size);
	}
	if (rc != 0)
		goto out;

	/* Split views of this log. */
	for (size_t i = 0; i < p->n_splits && rc == 0; i++)
		if (split_holds(&p->splits[i], &log)) {
			rep->n_splits++;
			rc = ls_verdict_add(faults, LS_R_SPLIT_VIEW, NULL, 0,
					    "log %s signed two checkpoints that are not one "
					    "history (split view %zu of the bundle): its "
					    "checkpoints prove nothing",
					    rep->origin, i);
		}
out:
	free(cpm);
	free(dat);
	return rc;
}

/* ---- authority feeds ---- */

struct feeds {
	struct ls_txn *t;
	const struct ls_logproof *p;
	const struct ls_lp_report *rep;
	struct ls_verdict *v;
	bool *anchor_seen;
	int rc;
};

/* Whether the feed whose head is record id is an authority's. */
static int
is_authority(struct ls_txn *t, const uint8_t head[LS_ID_LEN], bool *yes)
{
	struct ls_record *r = NULL;
	int rc;

	*yes = false;
	if ((rc = ls_txn_record(t, head, &r)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	rc = ls_author_authority(t, r, yes);
	ls_record_free(r);
	return rc;
}

static const struct ls_lp_head *
head_of(const struct ls_logproof *p, const uint8_t author[LS_KEY_LEN])
{
	for (size_t i = 0; i < p->n_heads; i++)
		if (memcmp(p->heads[i].author, author, LS_KEY_LEN) == 0)
			return &p->heads[i];
	return NULL;
}

static int
feed_one(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq, const uint8_t id[LS_ID_LEN])
{
	struct feeds *f = arg;
	const struct ls_lp_head *hp;
	uint8_t ids[2][LS_ID_LEN];
	char h[17], hh[17];
	bool auth;
	int rc;

	if ((rc = is_authority(f->t, id, &auth)) != 0)
		return rc;
	for (size_t i = 0; i < f->t->s->n_anchors; i++)
		if (memcmp(f->t->s->anchors[i], author, LS_KEY_LEN) == 0)
			f->anchor_seen[i] = true;
	if (!auth)
		return 0;
	h16(author, h);
	if ((hp = head_of(f->p, author)) == NULL)
		return ls_verdict_add(f->v, LS_R_LOG_PROOF, (const uint8_t(*)[LS_ID_LEN])id, 1,
				      "the bundle carries the feed of authority %s (to seq %" PRIu64
				      ") without a head proof: nothing shows it complete at "
				      "checkpoint %" PRIu64,
				      h, seq, f->rep->size);
	memcpy(ids[0], hp->head, LS_ID_LEN);
	memcpy(ids[1], id, LS_ID_LEN);
	if (hp->seq > seq)
		return ls_verdict_add(
		    f->v, LS_R_MISSING_DEP, (const uint8_t(*)[LS_ID_LEN])ids, 2,
		    "authority %s's feed reaches seq %" PRIu64 " (record %s) at "
		    "checkpoint %" PRIu64 ", the bundle carries it to seq %" PRIu64
		    " only: records %" PRIu64 "..%" PRIu64 " are left out",
		    h, hp->seq, h16(hp->head, hh), f->rep->size, seq, seq + 1, hp->seq);
	if (hp->seq < seq)
		return ls_verdict_add(f->v, LS_R_LOG_PROOF, (const uint8_t(*)[LS_ID_LEN])ids, 2,
				      "the bundle carries authority %s's feed to seq %" PRIu64
				      ", past its head at checkpoint %" PRIu64 " (seq %" PRIu64 ")",
				      h, seq, f->rep->size, hp->seq);
	if (memcmp(hp->head, id, LS_ID_LEN) != 0)
		return ls_verdict_add(f->v, LS_R_LOG_PROOF, (const uint8_t(*)[LS_ID_LEN])ids, 2,
				      "authority %s's record at seq %" PRIu64
				      " in the bundle is not "
				      "its head at checkpoint %" PRIu64 " (%s)",
				      h, seq, f->rep->size, h16(hp->head, hh));
	return 0;
}

int
ls_logproof_feeds(struct ls_store *s, const struct ls_logproof *p, const struct ls_lp_report *rep,
		  struct ls_verdict *faults)
{
	struct ls_txn t;
	struct feeds f = {&t, p, rep, faults, NULL, 0};
	char h[17];
	int rc;

	if ((f.anchor_seen = calloc(s->n_anchors ? s->n_anchors : 1, 1)) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_begin(s, false, &t)) != 0) {
		free(f.anchor_seen);
		return rc;
	}
	rc = ls_store_heads(s, feed_one, &f);
	/* A trust anchor with no record in the bundle: when its head proof is
	 * there, its feed was left out; without one, nothing shows that it
	 * signed nothing. */
	for (size_t i = 0; rc == 0 && i < s->n_anchors; i++) {
		const struct ls_lp_head *hp;
		if (f.anchor_seen[i])
			continue;
		if ((hp = head_of(p, s->anchors[i])) != NULL)
			rc = ls_verdict_add(
			    faults, LS_R_MISSING_DEP, (const uint8_t(*)[LS_ID_LEN])hp->head, 1,
			    "trust anchor %s's feed reaches seq %" PRIu64 " at checkpoint %" PRIu64
			    ", the bundle carries none of it",
			    h16(s->anchors[i], h), hp->seq, rep->size);
		else if ((rc = ls_verdict_add(faults, LS_R_UNWITNESSED, NULL, 0,
					      "trust anchor %s has no feed in the bundle and no "
					      "head proof: a record it signed could be left out",
					      h16(s->anchors[i], h))) == 0)
			faults->reasons[faults->n - 1].warning = true;
	}
	ls_txn_abort(&t);
	free(f.anchor_seen);
	return rc;
}

void
ls_lp_statement(const struct ls_lp_report *rep, char *out, size_t cap)
{
	size_t off;
	char t[32];

	if (!rep->present) {
		snprintf(out, cap, "no log proof: nothing shows the records in a log");
		return;
	}
	if (!rep->signed_ok) {
		snprintf(out, cap, "a log proof whose checkpoint is not the log's");
		return;
	}
	off =
	    (size_t)snprintf(out, cap, "checkpoint %" PRIu64 " of log %s", rep->size, rep->origin);
	if (off >= cap)
		return;
	if (!rep->witnessed) {
		snprintf(out + off, cap - off, ", not witnessed");
		return;
	}
	off += (size_t)snprintf(out + off, cap - off, ", cosigned by ");
	for (size_t i = 0; i < rep->n_cosigners && off < cap; i++)
		off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? ", " : "",
					rep->cosigners[i]);
	if (off < cap)
		snprintf(out + off, cap - off, " at %s", ls_time_format(rep->qtime, t, sizeof(t)));
}
