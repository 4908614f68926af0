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
	case LODESTONE__GOSSIP__MSG__KIND__NOT_SET:
	default: break;
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
	Lodestone__Gossip__Head *hv = NULL, **hp = NULL;
	ProtobufCBinaryData *ev = NULL;
	size_t n;
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
	free(hv);
	free(hp);
	return rc;
}
