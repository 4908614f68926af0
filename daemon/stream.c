/*
 * stream.c - replies in chunks: bundles, traces and logs of any size, pulled
 * by the client one chunk at a time (proto/api.proto, message Stream).
 *
 * The first request makes what the reply will hold, as of that moment:
 *   bundle  the plan (ls_bundle_plan: 32-36 bytes per record, the evidence
 *           and the log proof's notes), emitted by reading records again;
 *   trace   the trace itself (struct ls_trace: about 340 bytes per lot and
 *           850 per transfer), emitted slice by slice;
 *   log     the filter, a cursor and the last store position at the start.
 * and answers with the first chunk and a random token. Each NextRequest
 * makes one more chunk (at most `chunk` bytes) on the thread that serves
 * it; nothing is made before it is asked for, so a client that stops
 * pulling costs its stream's state and nothing more, until the idle
 * expiry frees it. The table is bounded in all and per connection (the
 * ROUTER identity the stream was opened from; a token is refused on any
 * other connection) and guarded by a mutex: chunks are made outside it,
 * with the stream marked busy so that one stream is made by one thread at
 * a time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api_codec.h"
#include "lodestoned.h"
#include "util.h"
#include "verify.h"

#define PEER_MAX 256 /* bytes of a routing identity kept */
#define ENDED    64  /* tokens of ended streams remembered, to say why */

/* Upper bounds of one encoded trace entry (TraceResult fields), for
 * cutting chunks. */
#define NODE_BYTES     (3 + 34 + (3 + LS_STR_MAX) + 19 + 11 + 6 + 34 + 34 + 2)
#define EDGE_BYTES     (3 + 4 * 34 + 11 + 2 * 2)
#define TRANSFER_BYTES (3 + 6 * 34 + 6 * 11 + 5 + 2 * 6 + 3 * (3 + LS_STR_MAX))

enum ended_why { ENDED_DONE = 1, ENDED_EXPIRED, ENDED_CANCELLED, ENDED_FAILED };

struct stream {
	bool used;
	bool busy; /* a thread makes a chunk of it */
	uint8_t token[LS_API_TOKEN_LEN];
	uint8_t peer[PEER_MAX];
	size_t peer_len;
	enum ls_api_kind kind;
	uint64_t last_ms, seq;
	size_t mem;
	union {
		struct ls_bundle_plan *plan;
		struct {
			struct ls_trace t;
			size_t node, edge, transfer;
		} trace;
		struct {
			struct ls_log_filter f;
			uint64_t end;
		} log;
	};
};

struct ended {
	uint8_t token[LS_API_TOKEN_LEN];
	enum ended_why why;
};

struct lsd_streams {
	pthread_mutex_t lock;
	struct lsd_stream_limits lim;
	struct stream *v; /* lim.max_total slots */
	struct ended ended[ENDED];
	size_t n_ended;
	uint64_t started, expired;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
lsd_streams_new(const struct lsd_stream_limits *lim, struct lsd_streams **out)
{
	struct lsd_streams *ss;

	*out = NULL;
	if (lim->chunk < LS_API_CHUNK_MIN || lim->chunk > LS_API_CHUNK_MAX || lim->max_total == 0 ||
	    lim->max_per_peer == 0 || lim->idle_ms == 0 || lim->max_bytes == 0)
		return LS_ERR_INVALID;
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return LS_ERR_NOMEM;
	if ((ss->v = calloc(lim->max_total, sizeof(*ss->v))) == NULL ||
	    pthread_mutex_init(&ss->lock, NULL) != 0) {
		free(ss->v);
		free(ss);
		return LS_ERR_NOMEM;
	}
	ss->lim = *lim;
	*out = ss;
	return 0;
}

/* Frees what st holds and empties the slot. */
static void
stream_clear(struct stream *st)
{
	switch (st->kind) {
	case LS_API_BUNDLE: ls_bundle_plan_free(&st->plan); break;
	case LS_API_TRACE: ls_trace_release(&st->trace.t); break;
	default: break;
	}
	memset(st, 0, sizeof(*st));
}

void
lsd_streams_free(struct lsd_streams **ssp)
{
	struct lsd_streams *ss;

	if (ssp == NULL || (ss = *ssp) == NULL)
		return;
	for (size_t i = 0; i < ss->lim.max_total; i++)
		stream_clear(&ss->v[i]);
	pthread_mutex_destroy(&ss->lock);
	free(ss->v);
	free(ss);
	*ssp = NULL;
}

/* Remembers why token ended (caller holds the lock). */
static void
ended_add(struct lsd_streams *ss, const uint8_t token[LS_API_TOKEN_LEN], enum ended_why why)
{
	struct ended *e = &ss->ended[ss->n_ended++ % ENDED];

	memcpy(e->token, token, LS_API_TOKEN_LEN);
	e->why = why;
}

/* Ends slot st: frees its state outside the lock. */
static void
stream_end(struct lsd_streams *ss, struct stream *st, enum ended_why why)
{
	struct stream dead;

	pthread_mutex_lock(&ss->lock);
	ended_add(ss, st->token, why);
	dead = *st;
	memset(st, 0, sizeof(*st));
	pthread_mutex_unlock(&ss->lock);
	stream_clear(&dead);
}

void
lsd_streams_expire(struct lsd_streams *ss)
{
	uint64_t now = mono_ms();

	for (size_t i = 0; i < ss->lim.max_total; i++) {
		struct stream dead = {0};
		pthread_mutex_lock(&ss->lock);
		if (ss->v[i].used && !ss->v[i].busy && now - ss->v[i].last_ms >= ss->lim.idle_ms) {
			ended_add(ss, ss->v[i].token, ENDED_EXPIRED);
			dead = ss->v[i];
			memset(&ss->v[i], 0, sizeof(ss->v[i]));
			ss->expired++;
		}
		pthread_mutex_unlock(&ss->lock);
		if (dead.used)
			stream_clear(&dead);
	}
}

void
lsd_streams_stats(struct lsd_streams *ss, struct lsd_stream_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ss->lock);
	for (size_t i = 0; i < ss->lim.max_total; i++)
		if (ss->v[i].used) {
			out->open++;
			out->bytes += ss->v[i].mem;
		}
	out->started = ss->started;
	out->expired = ss->expired;
	pthread_mutex_unlock(&ss->lock);
}

/* ---- making chunks (outside the lock, the stream busy) ---- */

static int
bundle_chunk(struct lsd_streams *ss, struct stream *st, struct ls_store *store,
	     struct ls_api_response *resp)
{
	size_t cap = ss->lim.chunk;
	bool done;
	int rc;

	resp->kind = LS_API_BUNDLE;
	if ((resp->bundle.bytes = malloc(cap)) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_bundle_plan_emit(st->plan, store, resp->bundle.bytes, cap, &resp->bundle.len,
				      &done)) != 0)
		return rc;
	resp->stream.done = done;
	return 0;
}

/* The next slice of the trace: nodes, then edges, then transfers, as many
 * as fit in a chunk (at least one). */
static int
trace_chunk(struct lsd_streams *ss, struct stream *st, struct ls_api_response *resp)
{
	struct ls_trace *t = &st->trace.t, *o = &resp->trace;
	size_t budget = ss->lim.chunk, nn = 0, ne = 0, nt = 0;

	resp->kind = LS_API_TRACE;
	while (st->trace.node + nn < t->n_nodes && (nn == 0 || budget >= NODE_BYTES)) {
		nn++;
		budget = budget > NODE_BYTES ? budget - NODE_BYTES : 0;
	}
	/* Edges only after the last node, transfers after the last edge: the
	 * client prints each list as it comes. */
	while (st->trace.node + nn == t->n_nodes && st->trace.edge + ne < t->n_edges &&
	       ((nn == 0 && ne == 0) || budget >= EDGE_BYTES)) {
		ne++;
		budget = budget > EDGE_BYTES ? budget - EDGE_BYTES : 0;
	}
	while (st->trace.node + nn == t->n_nodes && st->trace.edge + ne == t->n_edges &&
	       st->trace.transfer + nt < t->n_transfers &&
	       ((nn == 0 && ne == 0 && nt == 0) || budget >= TRANSFER_BYTES)) {
		nt++;
		budget = budget > TRANSFER_BYTES ? budget - TRANSFER_BYTES : 0;
	}
	if ((nn && (o->nodes = malloc(nn * sizeof(*o->nodes))) == NULL) ||
	    (ne && (o->edges = malloc(ne * sizeof(*o->edges))) == NULL) ||
	    (nt && (o->transfers = malloc(nt * sizeof(*o->transfers))) == NULL))
		return LS_ERR_NOMEM;
	if (nn)
		memcpy(o->nodes, t->nodes + st->trace.node, nn * sizeof(*o->nodes));
	if (ne)
		memcpy(o->edges, t->edges + st->trace.edge, ne * sizeof(*o->edges));
	if (nt)
		memcpy(o->transfers, t->transfers + st->trace.transfer, nt * sizeof(*o->transfers));
	o->n_nodes = nn;
	o->n_edges = ne;
	o->n_transfers = nt;
	st->trace.node += nn;
	st->trace.edge += ne;
	st->trace.transfer += nt;
	resp->stream.done = st->trace.node == t->n_nodes && st->trace.edge == t->n_edges &&
			    st->trace.transfer == t->n_transfers;
	return 0;
}

struct log_chunk {
	struct ls_api_log_page *page;
	size_t cap, bytes, max_bytes;
	uint64_t end, last;
	bool full;
	int err;
};

static int
log_chunk_fn(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct log_chunk *c = arg;
	struct ls_api_log_entry *e;

	(void)r;
	if (pos > c->end)
		return 1; /* stored after the stream began */
	if (c->page->n == c->cap || (c->page->n > 0 && c->bytes + len + 16 > c->max_bytes)) {
		c->full = true;
		return 1;
	}
	e = &c->page->entries[c->page->n];
	if ((e->env = malloc(len ? len : 1)) == NULL) {
		c->err = LS_ERR_NOMEM;
		return 1;
	}
	memcpy(e->env, env, len);
	e->len = len;
	e->pos = pos;
	c->page->n++;
	c->bytes += len + 16;
	c->last = pos;
	return 0;
}

static int
log_chunk(struct lsd_streams *ss, struct stream *st, struct ls_store *store,
	  struct ls_api_response *resp)
{
	struct log_chunk c = {
	    &resp->log, LS_API_LOG_PAGE_MAX, 0, ss->lim.chunk, st->log.end, 0, false, 0};
	struct ls_log_filter f = st->log.f;
	int rc;

	resp->kind = LS_API_LOG;
	if ((resp->log.entries = calloc(c.cap, sizeof(*resp->log.entries))) == NULL)
		return LS_ERR_NOMEM;
	f.limit = 0;
	if ((rc = ls_store_log(store, &f, log_chunk_fn, &c)) < 0)
		return rc;
	if (c.err != 0)
		return c.err;
	if (resp->log.n > 0 && st->log.f.newest_first)
		st->log.f.before_pos = c.last;
	else if (resp->log.n > 0)
		st->log.f.after_pos = c.last;
	resp->log.more = c.full;
	resp->stream.done = !c.full;
	return 0;
}

/* The next chunk of st into resp (its kind, stream fields but the token). */
static int
make_chunk(struct lsd_streams *ss, struct stream *st, struct ls_store *store,
	   struct ls_api_response *resp)
{
	int rc;

	switch (st->kind) {
	case LS_API_BUNDLE: rc = bundle_chunk(ss, st, store, resp); break;
	case LS_API_TRACE: rc = trace_chunk(ss, st, resp); break;
	case LS_API_LOG: rc = log_chunk(ss, st, store, resp); break;
	default: return LS_ERR_INVALID;
	}
	if (rc != 0)
		return rc;
	resp->stream.on = true;
	resp->stream.seq = st->seq++;
	if (st->kind == LS_API_BUNDLE && resp->stream.seq == 0)
		resp->stream.total = ls_bundle_plan_size(st->plan);
	return 0;
}

/* After a chunk was made: hands the stream back, or ends it. */
static void
chunk_made(struct lsd_streams *ss, struct stream *st, int rc, struct ls_api_response *resp)
{
	if (rc != 0) {
		stream_end(ss, st, ENDED_FAILED);
		return;
	}
	if (resp->stream.done) {
		stream_end(ss, st, ENDED_DONE);
		return;
	}
	pthread_mutex_lock(&ss->lock);
	memcpy(resp->stream.token, st->token, LS_API_TOKEN_LEN);
	st->busy = false;
	st->last_ms = mono_ms();
	pthread_mutex_unlock(&ss->lock);
}

static size_t
peer_count(struct lsd_streams *ss, const uint8_t *peer, size_t peer_len)
{
	size_t n = 0;

	for (size_t i = 0; i < ss->lim.max_total; i++)
		if (ss->v[i].used && ss->v[i].peer_len == peer_len &&
		    memcmp(ss->v[i].peer, peer, peer_len) == 0)
			n++;
	return n;
}

int
lsd_stream_start(struct lsd_streams *ss, struct ls_store *store, const char *log_vkey,
		 const struct ls_api_request *req, struct ls_api_response *resp,
		 struct ls_err_ctx *ctx)
{
	struct stream *st = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	size_t open = 0, mem = 0;
	int rc;

	if (req->peer_len == 0 || req->peer_len > PEER_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID, "a stream needs a connection identity");
	/* Take a slot first (busy: nobody else touches it), then make the
	 * stream's state without the lock. */
	pthread_mutex_lock(&ss->lock);
	for (size_t i = 0; i < ss->lim.max_total; i++) {
		if (ss->v[i].used)
			open++;
		else if (st == NULL)
			st = &ss->v[i];
	}
	if (st == NULL || peer_count(ss, req->peer, req->peer_len) >= ss->lim.max_per_peer) {
		bool all = st == NULL;
		pthread_mutex_unlock(&ss->lock);
		return all ? ls_err_set(ctx, LS_ERR_BUSY,
					"the daemon has %zu streams open, its most: ask again when "
					"one ends (at most %u s idle)",
					open, (unsigned)(ss->lim.idle_ms / 1000))
			   : ls_err_set(
				 ctx, LS_ERR_BUSY,
				 "this connection has %u streams open, the most it may: finish "
				 "or cancel one",
				 ss->lim.max_per_peer);
	}
	memset(st, 0, sizeof(*st));
	st->used = st->busy = true;
	st->kind = req->kind;
	memcpy(st->peer, req->peer, req->peer_len);
	st->peer_len = req->peer_len;
	randombytes_buf(st->token, sizeof(st->token));
	st->last_ms = mono_ms();
	ss->started++;
	pthread_mutex_unlock(&ss->lock);

	switch (req->kind) {
	case LS_API_BUNDLE:
		rc = ls_bundle_plan_new(store, req->bundle.lot, log_vkey, 0, &st->plan);
		if (rc == LS_ERR_BUSY)
			rc = ls_err_set(
			    ctx, rc,
			    "lot %.16s is not in a signed checkpoint yet: ask again after "
			    "the next one",
			    ls_hex(req->bundle.lot, LS_ID_LEN, hex));
		else if (rc == LS_ERR_NOT_FOUND)
			rc = ls_err_set(ctx, rc, "no lot %s",
					ls_hex(req->bundle.lot, LS_ID_LEN, hex));
		else if (rc != 0)
			rc = ls_err_set(ctx, rc, "bundle of lot %.16s: %s",
					ls_hex(req->bundle.lot, LS_ID_LEN, hex), ls_strerror(rc));
		else
			mem = ls_bundle_plan_mem(st->plan);
		break;
	case LS_API_TRACE:
		rc = ls_trace(store, req->trace.lot, req->trace.down, &st->trace.t);
		if (rc == LS_ERR_NOT_FOUND)
			rc = ls_err_set(ctx, rc, "no lot %s",
					ls_hex(req->trace.lot, LS_ID_LEN, hex));
		else if (rc != 0)
			rc = ls_err_set(ctx, rc, "trace of lot %.16s: %s",
					ls_hex(req->trace.lot, LS_ID_LEN, hex), ls_strerror(rc));
		mem = st->trace.t.n_nodes * sizeof(*st->trace.t.nodes) +
		      st->trace.t.n_edges * sizeof(*st->trace.t.edges) +
		      st->trace.t.n_transfers * sizeof(*st->trace.t.transfers);
		break;
	case LS_API_LOG:
		st->log.f = req->log;
		if ((rc = ls_store_last_pos(store, &st->log.end)) != 0)
			rc = ls_err_set(ctx, rc, "log: %s", ls_strerror(rc));
		/* backwards: from the last record stored now */
		if (rc == 0 && st->log.f.newest_first &&
		    (st->log.f.before_pos == 0 || st->log.f.before_pos > st->log.end))
			st->log.f.before_pos = st->log.end + 1;
		mem = sizeof(*st);
		break;
	default:
		rc = ls_err_set(ctx, LS_ERR_INVALID, "a %s request is not streamed",
				ls_api_kind_name(req->kind));
		break;
	}
	if (rc == 0) {
		size_t held = 0;
		pthread_mutex_lock(&ss->lock);
		for (size_t i = 0; i < ss->lim.max_total; i++)
			if (ss->v[i].used)
				held += ss->v[i].mem;
		if (held + mem <= ss->lim.max_bytes)
			st->mem = mem; /* counted from now on */
		pthread_mutex_unlock(&ss->lock);
		if (held + mem > ss->lim.max_bytes)
			rc = ls_err_set(
			    ctx, LS_ERR_BUSY,
			    "this reply's state (%zu bytes) would take the daemon's streams "
			    "past their %zu bytes: ask again when others end",
			    mem, ss->lim.max_bytes);
	}
	if (rc == 0 && (rc = make_chunk(ss, st, store, resp)) != 0)
		rc = ls_err_set(ctx, rc, "stream: %s", ls_strerror(rc));
	chunk_made(ss, st, rc, resp);
	return rc;
}

int
lsd_stream_next(struct lsd_streams *ss, struct ls_store *store, const struct ls_api_request *req,
		struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	const uint8_t *tok = req->next.token;
	struct stream *st = NULL;
	enum ended_why why = 0;
	char hex[2 * 8 + 1];
	int rc;

	sodium_bin2hex(hex, sizeof(hex), tok, 8);
	pthread_mutex_lock(&ss->lock);
	for (size_t i = 0; i < ss->lim.max_total && st == NULL; i++)
		if (ss->v[i].used && sodium_memcmp(ss->v[i].token, tok, LS_API_TOKEN_LEN) == 0 &&
		    ss->v[i].peer_len == req->peer_len &&
		    memcmp(ss->v[i].peer, req->peer, req->peer_len) == 0)
			st = &ss->v[i];
	if (st == NULL) {
		size_t n = ss->n_ended < ENDED ? ss->n_ended : ENDED;
		for (size_t i = 0; i < n && why == 0; i++)
			if (sodium_memcmp(ss->ended[i].token, tok, LS_API_TOKEN_LEN) == 0)
				why = ss->ended[i].why;
		pthread_mutex_unlock(&ss->lock);
		switch (why) {
		case ENDED_DONE:
			return ls_err_set(ctx, LS_ERR_NOT_FOUND,
					  "stream %s is finished: its last chunk was sent", hex);
		case ENDED_EXPIRED:
			return ls_err_set(ctx, LS_ERR_NOT_FOUND,
					  "stream %s expired: no chunk was asked for in %u s", hex,
					  (unsigned)(ss->lim.idle_ms / 1000));
		case ENDED_CANCELLED:
			return ls_err_set(ctx, LS_ERR_NOT_FOUND, "stream %s was cancelled", hex);
		case ENDED_FAILED:
			return ls_err_set(ctx, LS_ERR_NOT_FOUND, "stream %s failed and was dropped",
					  hex);
		default:
			return ls_err_set(ctx, LS_ERR_NOT_FOUND,
					  "no stream %s on this connection (unknown token)", hex);
		}
	}
	if (st->busy) {
		pthread_mutex_unlock(&ss->lock);
		return ls_err_set(ctx, LS_ERR_BUSY,
				  "stream %s is making a chunk: ask once the last one came", hex);
	}
	st->busy = true;
	pthread_mutex_unlock(&ss->lock);
	if (req->next.cancel) {
		resp->kind = st->kind;
		resp->stream.on = resp->stream.done = true;
		resp->stream.seq = st->seq;
		stream_end(ss, st, ENDED_CANCELLED);
		return 0;
	}
	if ((rc = make_chunk(ss, st, store, resp)) != 0)
		rc = ls_err_set(ctx, rc, "stream %s: %s", hex, ls_strerror(rc));
	chunk_made(ss, st, rc, resp);
	return rc;
}
