/*
 * gossip.c - the gossip codec (proto/gossip.proto).
 *
 * Decoding copies what it keeps into one malloc'd block (the protobuf is
 * freed before returning), so a decoded message is a plain C value.
 */
#include <stdlib.h>
#include <string.h>

#include "gossip.h"
#include "gossip.pb-c.h"
#include "pbuf_int.h"
#include "util.h"

#define UNPACK_BUDGET(len) (4 * (len) + 256 * 1024)

const char *
ls_gossip_kind_name(enum ls_gossip_kind k)
{
	switch (k) {
	case LS_GOSSIP_SYNC: return "sync";
	case LS_GOSSIP_HEADS_REQUEST: return "heads-request";
	case LS_GOSSIP_HEADS: return "heads";
	case LS_GOSSIP_PULL: return "pull";
	case LS_GOSSIP_RECORDS: return "records";
	case LS_GOSSIP_PUSH: return "push";
	case LS_GOSSIP_LOG_KEYS: return "log-keys";
	case LS_GOSSIP_ADD_CHECKPOINT: return "add-checkpoint";
	case LS_GOSSIP_CHECKPOINT_REPLY: return "checkpoint-reply";
	case LS_GOSSIP_ENTRIES_REQUEST: return "entries-request";
	case LS_GOSSIP_ENTRIES: return "entries";
	case LS_GOSSIP_FETCH: return "fetch";
	case LS_GOSSIP_COSIGNED: return "cosigned";
	case LS_GOSSIP_SPLIT_VIEW: return "split-view";
	case LS_GOSSIP_NONE: break;
	}
	return "none";
}

static int
key_field(const ProtobufCBinaryData *b, uint8_t *out, size_t len, const char *field,
	  struct ls_err_ctx *ctx)
{
	if (b->len != len)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip %s is %zu bytes, not %zu", field,
				  b->len, len);
	memcpy(out, b->data, len);
	return 0;
}

/* Copies n envelopes into one block: pointers, lengths, then the bytes. */
static int
copy_envelopes(struct ls_gossip_msg *m, size_t n, const ProtobufCBinaryData *e,
	       struct ls_err_ctx *ctx)
{
	size_t total = 0;
	uint8_t *p;

	if (n > LS_GOSSIP_RECORDS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip message has %zu records, over %d", n,
				  LS_GOSSIP_RECORDS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (e[i].len == 0 || e[i].len > LS_ENVELOPE_MAX)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip record %zu is %zu bytes (1 to %d)", i, e[i].len,
					  LS_ENVELOPE_MAX);
		total += e[i].len;
	}
	m->owned = malloc(n * (sizeof(*m->envs) + sizeof(*m->lens)) + total + 1);
	if (m->owned == NULL)
		return LS_ERR_NOMEM;
	m->envs = m->owned;
	m->lens = (size_t *)(m->envs + n);
	p = (uint8_t *)(m->lens + n);
	for (size_t i = 0; i < n; i++) {
		memcpy(p, e[i].data, e[i].len);
		m->envs[i] = p;
		m->lens[i] = e[i].len;
		p += e[i].len;
	}
	m->n_envs = n;
	return 0;
}

/* Text from a peer that is logged or shown: bounded, no control bytes. */
static int
text_field(const char *in, char *out, size_t cap, const char *field, struct ls_err_ctx *ctx)
{
	size_t n = in ? strlen(in) : 0;

	if (n >= cap)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip %s of %zu bytes, over %zu", field, n,
				  cap - 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip %s has a control character", field);
	memcpy(out, in ? in : "", n + 1);
	return 0;
}

/* A byte string of 1..max bytes. */
static int
blob_check(const ProtobufCBinaryData *b, size_t max, const char *field, struct ls_err_ctx *ctx)
{
	if (b->len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip %s is empty", field);
	if (b->len > max)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip %s of %zu bytes, over %zu", field,
				  b->len, max);
	return 0;
}

/* n items of exactly `size` bytes each, at most max of them. */
static int
items_check(size_t n, const ProtobufCBinaryData *v, size_t size, size_t max, const char *field,
	    struct ls_err_ctx *ctx)
{
	if (n > max)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip message has %zu %s, over %zu", n,
				  field, max);
	for (size_t i = 0; i < n; i++)
		if (v[i].len != size)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip %s %zu is %zu bytes, not %zu", field, i, v[i].len,
					  size);
	return 0;
}

/*
 * Copies what a witnessing message carries into one block: the byte strings
 * a and b (each followed by a NUL; NULL: absent) and n items of `size` bytes.
 * *items points to the items in the block.
 */
static int
copy_blobs(struct ls_gossip_msg *m, const ProtobufCBinaryData *a, const ProtobufCBinaryData *b,
	   const ProtobufCBinaryData *v, size_t n, size_t size, void **items)
{
	size_t la = a ? a->len : 0, lb = b ? b->len : 0;
	uint8_t *p;

	/* the items first: they are arrays of uint8_t, aligned anywhere */
	if ((m->owned = malloc(n * size + la + lb + 2)) == NULL)
		return LS_ERR_NOMEM;
	p = m->owned;
	for (size_t i = 0; i < n; i++)
		memcpy(p + i * size, v[i].data, size);
	if (items != NULL)
		*items = n ? p : NULL;
	p += n * size;
	if (a != NULL) {
		memcpy(p, a->data, la);
		p[la] = '\0';
		m->data = p;
		m->data_len = la;
		p += la + 1;
	}
	if (b != NULL) {
		memcpy(p, b->data, lb);
		p[lb] = '\0';
		m->data_b = p;
		m->data_b_len = lb;
	}
	return 0;
}

static int
root_field(struct ls_gossip_msg *m, bool has, const ProtobufCBinaryData *b, struct ls_err_ctx *ctx)
{
	m->has_root = has;
	if (!has)
		return 0;
	return key_field(b, m->root, LS_GOSSIP_HASH_LEN, "old root", ctx);
}

/* The witnessing messages (from_msg's second half). */
static int
from_witness_msg(struct ls_gossip_msg *m, const Lodestone__Gossip__Msg *g, struct ls_err_ctx *ctx)
{
	void *items = NULL;
	int rc;

	switch (g->kind_case) {
	case LODESTONE__GOSSIP__MSG__KIND_LOG_KEYS:
		m->kind = LS_GOSSIP_LOG_KEYS;
		m->reply = g->log_keys->has_reply && g->log_keys->reply;
		if ((rc = text_field(g->log_keys->log_vkey, m->log_vkey, sizeof(m->log_vkey),
				     "log vkey", ctx)) != 0)
			return rc;
		return text_field(g->log_keys->witness_vkey, m->wit_vkey, sizeof(m->wit_vkey),
				  "witness vkey", ctx);
	case LODESTONE__GOSSIP__MSG__KIND_ADD_CHECKPOINT: {
		const Lodestone__Gossip__AddCheckpoint *a = g->add_checkpoint;
		m->kind = LS_GOSSIP_ADD_CHECKPOINT;
		if ((rc = blob_check(&a->request, LS_GOSSIP_ADDCP_MAX, "add-checkpoint request",
				     ctx)) != 0 ||
		    (rc = root_field(m, a->has_old_root, &a->old_root, ctx)) != 0)
			return rc;
		return copy_blobs(m, &a->request, NULL, NULL, 0, 0, NULL);
	}
	case LODESTONE__GOSSIP__MSG__KIND_CHECKPOINT_REPLY: {
		const Lodestone__Gossip__CheckpointReply *r = g->checkpoint_reply;
		m->kind = LS_GOSSIP_CHECKPOINT_REPLY;
		m->status = r->status;
		if (r->status < 100 || r->status > 599)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip checkpoint reply status %u", r->status);
		m->has_size = r->has_size;
		m->size = r->has_size ? r->size : 0;
		if (r->reason != NULL &&
		    (rc = text_field(r->reason, m->reason, sizeof(m->reason), "reason", ctx)) != 0)
			return rc;
		if (!r->has_body)
			return 0;
		if ((rc = blob_check(&r->body, LS_GOSSIP_REPLY_MAX, "reply body", ctx)) != 0)
			return rc;
		return copy_blobs(m, &r->body, NULL, NULL, 0, 0, NULL);
	}
	case LODESTONE__GOSSIP__MSG__KIND_ENTRIES_REQUEST:
		m->kind = LS_GOSSIP_ENTRIES_REQUEST;
		m->from = g->entries_request->from;
		m->count = g->entries_request->count;
		if (m->count == 0 || m->count > LS_GOSSIP_ENTRIES_MAX ||
		    m->from > UINT64_MAX - m->count)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip entries request of %u from %llu (1 to %d)",
					  m->count, (unsigned long long)m->from,
					  LS_GOSSIP_ENTRIES_MAX);
		return 0;
	case LODESTONE__GOSSIP__MSG__KIND_ENTRIES: {
		const Lodestone__Gossip__Entries *e = g->entries;
		m->kind = LS_GOSSIP_ENTRIES;
		m->from = e->from;
		if ((rc = items_check(e->n_leaves, e->leaves, LS_GOSSIP_LEAF_LEN,
				      LS_GOSSIP_ENTRIES_MAX, "leaves", ctx)) != 0)
			return rc;
		if (m->from > UINT64_MAX - e->n_leaves)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "gossip entries past the last index");
		if ((rc = copy_blobs(m, NULL, NULL, e->leaves, e->n_leaves, LS_GOSSIP_LEAF_LEN,
				     &items)) != 0)
			return rc;
		m->leaves = items;
		m->n_leaves = e->n_leaves;
		return 0;
	}
	case LODESTONE__GOSSIP__MSG__KIND_FETCH: {
		const Lodestone__Gossip__Fetch *f = g->fetch;
		m->kind = LS_GOSSIP_FETCH;
		if (f->n_ids == 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip fetch of no record");
		if ((rc = items_check(f->n_ids, f->ids, LS_ID_LEN, LS_GOSSIP_RECORDS_MAX, "ids",
				      ctx)) != 0 ||
		    (rc = copy_blobs(m, NULL, NULL, f->ids, f->n_ids, LS_ID_LEN, &items)) != 0)
			return rc;
		m->ids = items;
		m->n_ids = f->n_ids;
		return 0;
	}
	case LODESTONE__GOSSIP__MSG__KIND_COSIGNED:
		m->kind = LS_GOSSIP_COSIGNED;
		if ((rc = blob_check(&g->cosigned->note, LS_GOSSIP_NOTE_MAX, "cosigned note",
				     ctx)) != 0)
			return rc;
		return copy_blobs(m, &g->cosigned->note, NULL, NULL, 0, 0, NULL);
	case LODESTONE__GOSSIP__MSG__KIND_SPLIT_VIEW: {
		const Lodestone__Gossip__SplitView *v = g->split_view;
		m->kind = LS_GOSSIP_SPLIT_VIEW;
		if ((rc = blob_check(&v->note_a, LS_GOSSIP_NOTE_MAX, "split view note a", ctx)) !=
			0 ||
		    (rc = blob_check(&v->note_b, LS_GOSSIP_NOTE_MAX, "split view note b", ctx)) !=
			0 ||
		    (rc = items_check(v->n_proof, v->proof, LS_GOSSIP_HASH_LEN, LS_GOSSIP_PROOF_MAX,
				      "proof hashes", ctx)) != 0 ||
		    (rc = root_field(m, v->has_old_root, &v->old_root, ctx)) != 0 ||
		    (rc = copy_blobs(m, &v->note_a, &v->note_b, v->proof, v->n_proof,
				     LS_GOSSIP_HASH_LEN, &items)) != 0)
			return rc;
		m->hashes = items;
		m->n_hashes = v->n_proof;
		return 0;
	}
	default: break;
	}
	return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip message of no known kind");
}

static int
from_msg(struct ls_gossip_msg *m, const Lodestone__Gossip__Msg *g, struct ls_err_ctx *ctx)
{
	int rc;

	switch (g->kind_case) {
	case LODESTONE__GOSSIP__MSG__KIND_SYNC:
		m->kind = LS_GOSSIP_SYNC;
		m->feeds = g->sync->feeds;
		m->reply = g->sync->has_reply && g->sync->reply;
		return key_field(&g->sync->digest, m->digest, LS_GOSSIP_DIGEST_LEN, "digest", ctx);
	case LODESTONE__GOSSIP__MSG__KIND_HEADS_REQUEST:
		m->kind = LS_GOSSIP_HEADS_REQUEST;
		m->has_after = g->heads_request->has_after;
		if (!m->has_after)
			return 0;
		return key_field(&g->heads_request->after, m->after, LS_KEY_LEN, "after", ctx);
	case LODESTONE__GOSSIP__MSG__KIND_HEADS: {
		const Lodestone__Gossip__Heads *h = g->heads;
		m->kind = LS_GOSSIP_HEADS;
		m->more = h->has_more && h->more;
		if (h->n_heads > LS_GOSSIP_HEADS_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip heads page of %zu, over %d",
					  h->n_heads, LS_GOSSIP_HEADS_MAX);
		if ((m->owned = calloc(h->n_heads + 1, sizeof(*m->heads))) == NULL)
			return LS_ERR_NOMEM;
		m->heads = m->owned;
		for (size_t i = 0; i < h->n_heads; i++) {
			if ((rc = key_field(&h->heads[i]->author, m->heads[i].author, LS_KEY_LEN,
					    "head author", ctx)) != 0)
				return rc;
			if (h->heads[i]->seq == 0)
				return ls_err_set(ctx, LS_ERR_MALFORMED,
						  "gossip head %zu has seq 0", i);
			if (i > 0 &&
			    memcmp(m->heads[i - 1].author, m->heads[i].author, LS_KEY_LEN) >= 0)
				return ls_err_set(ctx, LS_ERR_MALFORMED,
						  "gossip heads are not in author order at %zu", i);
			m->heads[i].seq = h->heads[i]->seq;
			m->heads[i].has_id = h->heads[i]->has_id;
			if (m->heads[i].has_id && (rc = key_field(&h->heads[i]->id, m->heads[i].id,
								  LS_ID_LEN, "head id", ctx)) != 0)
				return rc;
		}
		m->n_heads = h->n_heads;
		return 0;
	}
	case LODESTONE__GOSSIP__MSG__KIND_PULL:
		m->kind = LS_GOSSIP_PULL;
		m->from_seq = g->pull->from_seq;
		m->to_seq = g->pull->to_seq;
		if (m->from_seq == 0 || m->to_seq < m->from_seq)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip pull of seq %llu..%llu",
					  (unsigned long long)m->from_seq,
					  (unsigned long long)m->to_seq);
		return key_field(&g->pull->author, m->author, LS_KEY_LEN, "pull author", ctx);
	case LODESTONE__GOSSIP__MSG__KIND_RECORDS:
		m->kind = LS_GOSSIP_RECORDS;
		m->next_seq = g->records->next_seq;
		if ((rc = key_field(&g->records->author, m->author, LS_KEY_LEN, "records author",
				    ctx)) != 0)
			return rc;
		return copy_envelopes(m, g->records->n_envelopes, g->records->envelopes, ctx);
	case LODESTONE__GOSSIP__MSG__KIND_PUSH:
		m->kind = LS_GOSSIP_PUSH;
		return copy_envelopes(m, g->push->n_envelopes, g->push->envelopes, ctx);
	case LODESTONE__GOSSIP__MSG__KIND__NOT_SET: break;
	default: return from_witness_msg(m, g, ctx);
	}
	return ls_err_set(ctx, LS_ERR_MALFORMED, "gossip message of no known kind");
}

int
ls_gossip_decode(const uint8_t *buf, size_t len, struct ls_gossip_msg *m, struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__Gossip__Msg *g;
	int rc;

	memset(m, 0, sizeof(*m));
	if (buf == NULL || len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "empty gossip message");
	if (len > LS_GOSSIP_MSG_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip message of %zu bytes, over %d", len,
				  LS_GOSSIP_MSG_MAX);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	if ((g = lodestone__gossip__msg__unpack(&bud.alloc, len, buf)) == NULL)
		return ls_err_set(ctx, bud.left < len ? LS_ERR_TOO_BIG : LS_ERR_MALFORMED,
				  "gossip message does not decode");
	if (g->version != LS_GOSSIP_VERSION)
		rc = ls_err_set(ctx, LS_ERR_VERSION, "gossip version %u is not supported (%d is)",
				g->version, LS_GOSSIP_VERSION);
	else
		rc = from_msg(m, g, ctx);
	lodestone__gossip__msg__free_unpacked(g, &bud.alloc);
	if (rc != 0)
		ls_gossip_msg_release(m);
	return rc;
}

void
ls_gossip_msg_release(struct ls_gossip_msg *m)
{
	if (m == NULL)
		return;
	free(m->owned);
	memset(m, 0, sizeof(*m));
}

static ProtobufCBinaryData
bin(const void *p, size_t len)
{
	ProtobufCBinaryData b = {len, (uint8_t *)p};
	return b;
}

int
ls_gossip_encode(const struct ls_gossip_msg *m, uint8_t **out, size_t *len, struct ls_err_ctx *ctx)
{
	Lodestone__Gossip__Msg g = LODESTONE__GOSSIP__MSG__INIT;
	Lodestone__Gossip__Sync sync = LODESTONE__GOSSIP__SYNC__INIT;
	Lodestone__Gossip__HeadsRequest hreq = LODESTONE__GOSSIP__HEADS_REQUEST__INIT;
	Lodestone__Gossip__Heads heads = LODESTONE__GOSSIP__HEADS__INIT;
	Lodestone__Gossip__Pull pull = LODESTONE__GOSSIP__PULL__INIT;
	Lodestone__Gossip__Records recs = LODESTONE__GOSSIP__RECORDS__INIT;
	Lodestone__Gossip__Push push = LODESTONE__GOSSIP__PUSH__INIT;
	Lodestone__Gossip__LogKeys lk = LODESTONE__GOSSIP__LOG_KEYS__INIT;
	Lodestone__Gossip__AddCheckpoint acp = LODESTONE__GOSSIP__ADD_CHECKPOINT__INIT;
	Lodestone__Gossip__CheckpointReply crep = LODESTONE__GOSSIP__CHECKPOINT_REPLY__INIT;
	Lodestone__Gossip__EntriesRequest ereq = LODESTONE__GOSSIP__ENTRIES_REQUEST__INIT;
	Lodestone__Gossip__Entries ents = LODESTONE__GOSSIP__ENTRIES__INIT;
	Lodestone__Gossip__Fetch fetch = LODESTONE__GOSSIP__FETCH__INIT;
	Lodestone__Gossip__Cosigned cos = LODESTONE__GOSSIP__COSIGNED__INIT;
	Lodestone__Gossip__SplitView sv = LODESTONE__GOSSIP__SPLIT_VIEW__INIT;
	Lodestone__Gossip__Head *hv = NULL, **hp = NULL;
	ProtobufCBinaryData *ev = NULL, *bv = NULL;
	size_t n, nb = 0, bsize = 0;
	const uint8_t *items = NULL;
	int rc = 0;

	*out = NULL;
	*len = 0;
	g.version = LS_GOSSIP_VERSION;
	if ((m->kind == LS_GOSSIP_RECORDS || m->kind == LS_GOSSIP_PUSH) &&
	    m->n_envs > LS_GOSSIP_RECORDS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "%zu records in one gossip message",
				  m->n_envs);
	if (m->kind == LS_GOSSIP_HEADS && m->n_heads > LS_GOSSIP_HEADS_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "%zu heads in one gossip message",
				  m->n_heads);
	if (m->kind == LS_GOSSIP_RECORDS || m->kind == LS_GOSSIP_PUSH) {
		if ((ev = calloc(m->n_envs + 1, sizeof(*ev))) == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < m->n_envs; i++)
			ev[i] = bin(m->envs[i], m->lens[i]);
	}
	/* the fixed-size items of the witnessing messages */
	if (m->kind == LS_GOSSIP_ENTRIES) {
		nb = m->n_leaves;
		bsize = LS_GOSSIP_LEAF_LEN;
		items = (const uint8_t *)m->leaves;
		if (nb > LS_GOSSIP_ENTRIES_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "%zu leaves in one gossip message",
					  nb);
	} else if (m->kind == LS_GOSSIP_FETCH) {
		nb = m->n_ids;
		bsize = LS_ID_LEN;
		items = (const uint8_t *)m->ids;
		if (nb > LS_GOSSIP_RECORDS_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "%zu ids in one gossip message", nb);
	} else if (m->kind == LS_GOSSIP_SPLIT_VIEW) {
		nb = m->n_hashes;
		bsize = LS_GOSSIP_HASH_LEN;
		items = (const uint8_t *)m->hashes;
		if (nb > LS_GOSSIP_PROOF_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG,
					  "%zu proof hashes in one gossip message", nb);
	}
	if (bsize != 0) {
		if ((bv = calloc(nb + 1, sizeof(*bv))) == NULL) {
			free(ev);
			return LS_ERR_NOMEM;
		}
		for (size_t i = 0; i < nb; i++)
			bv[i] = bin(items + i * bsize, bsize);
	}
	switch (m->kind) {
	case LS_GOSSIP_SYNC:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_SYNC;
		g.sync = &sync;
		sync.digest = bin(m->digest, LS_GOSSIP_DIGEST_LEN);
		sync.feeds = m->feeds;
		sync.has_reply = m->reply;
		sync.reply = m->reply;
		break;
	case LS_GOSSIP_HEADS_REQUEST:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_HEADS_REQUEST;
		g.heads_request = &hreq;
		hreq.has_after = m->has_after;
		if (m->has_after)
			hreq.after = bin(m->after, LS_KEY_LEN);
		break;
	case LS_GOSSIP_HEADS:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_HEADS;
		g.heads = &heads;
		if ((hv = calloc(m->n_heads + 1, sizeof(*hv))) == NULL ||
		    (hp = calloc(m->n_heads + 1, sizeof(*hp))) == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		for (size_t i = 0; i < m->n_heads; i++) {
			lodestone__gossip__head__init(&hv[i]);
			hv[i].author = bin(m->heads[i].author, LS_KEY_LEN);
			hv[i].seq = m->heads[i].seq;
			hv[i].has_id = m->heads[i].has_id;
			if (m->heads[i].has_id)
				hv[i].id = bin(m->heads[i].id, LS_ID_LEN);
			hp[i] = &hv[i];
		}
		heads.n_heads = m->n_heads;
		heads.heads = hp;
		heads.has_more = m->more;
		heads.more = m->more;
		break;
	case LS_GOSSIP_PULL:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_PULL;
		g.pull = &pull;
		pull.author = bin(m->author, LS_KEY_LEN);
		pull.from_seq = m->from_seq;
		pull.to_seq = m->to_seq;
		break;
	case LS_GOSSIP_RECORDS:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_RECORDS;
		g.records = &recs;
		recs.author = bin(m->author, LS_KEY_LEN);
		recs.n_envelopes = m->n_envs;
		recs.envelopes = ev;
		recs.next_seq = m->next_seq;
		break;
	case LS_GOSSIP_PUSH:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_PUSH;
		g.push = &push;
		push.n_envelopes = m->n_envs;
		push.envelopes = ev;
		break;
	case LS_GOSSIP_LOG_KEYS:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_LOG_KEYS;
		g.log_keys = &lk;
		lk.log_vkey = (char *)m->log_vkey;
		lk.witness_vkey = (char *)m->wit_vkey;
		lk.has_reply = m->reply;
		lk.reply = m->reply;
		break;
	case LS_GOSSIP_ADD_CHECKPOINT:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_ADD_CHECKPOINT;
		g.add_checkpoint = &acp;
		acp.request = bin(m->data, m->data_len);
		acp.has_old_root = m->has_root;
		if (m->has_root)
			acp.old_root = bin(m->root, LS_GOSSIP_HASH_LEN);
		break;
	case LS_GOSSIP_CHECKPOINT_REPLY:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_CHECKPOINT_REPLY;
		g.checkpoint_reply = &crep;
		crep.status = m->status;
		crep.has_body = m->data_len > 0;
		if (m->data_len > 0)
			crep.body = bin(m->data, m->data_len);
		crep.has_size = m->has_size;
		crep.size = m->size;
		if (m->reason[0] != '\0')
			crep.reason = (char *)m->reason;
		break;
	case LS_GOSSIP_ENTRIES_REQUEST:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_ENTRIES_REQUEST;
		g.entries_request = &ereq;
		ereq.from = m->from;
		ereq.count = m->count;
		break;
	case LS_GOSSIP_ENTRIES:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_ENTRIES;
		g.entries = &ents;
		ents.from = m->from;
		ents.n_leaves = nb;
		ents.leaves = bv;
		break;
	case LS_GOSSIP_FETCH:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_FETCH;
		g.fetch = &fetch;
		fetch.n_ids = nb;
		fetch.ids = bv;
		break;
	case LS_GOSSIP_COSIGNED:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_COSIGNED;
		g.cosigned = &cos;
		cos.note = bin(m->data, m->data_len);
		break;
	case LS_GOSSIP_SPLIT_VIEW:
		g.kind_case = LODESTONE__GOSSIP__MSG__KIND_SPLIT_VIEW;
		g.split_view = &sv;
		sv.note_a = bin(m->data, m->data_len);
		sv.note_b = bin(m->data_b, m->data_b_len);
		sv.n_proof = nb;
		sv.proof = bv;
		sv.has_old_root = m->has_root;
		if (m->has_root)
			sv.old_root = bin(m->root, LS_GOSSIP_HASH_LEN);
		break;
	case LS_GOSSIP_NONE:
	default: rc = ls_err_set(ctx, LS_ERR_INVALID, "gossip message of no kind"); goto out;
	}
	n = lodestone__gossip__msg__get_packed_size(&g);
	if (n > LS_GOSSIP_MSG_MAX) {
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "gossip %s message of %zu bytes, over %d",
				ls_gossip_kind_name(m->kind), n, LS_GOSSIP_MSG_MAX);
		goto out;
	}
	if ((*out = malloc(n ? n : 1)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	*len = lodestone__gossip__msg__pack(&g, *out);
out:
	free(ev);
	free(bv);
	free(hv);
	free(hp);
	return rc;
}
