/*
 * gossip.c - replication between daemons over CurveZMQ (proto/gossip.proto).
 *
 * Sockets: a ROUTER bound on --listen (CURVE server), one DEALER per --peer
 * (CURVE client, knowing the peer's server key), and the ZAP handler, a REP
 * socket on inproc://zeromq.zap.01 that admits a connecting key only when it
 * belongs to an allowed peer (--allow-peer, or named by --peer) and tells the
 * ROUTER which node it is (the User-Id is the node key in hex). The
 * transport keys are the node's Ed25519 keys turned into Curve25519 ones.
 *
 * Push: every record the store accepts (from a client or a peer) and both
 * records of every new equivocation go into the outbox, sent to every peer
 * (but not back to the peer it came from) after the commit. Pull: every
 * sync interval each dialled peer gets a Sync with our heads digest; equal
 * digests end the round, different ones start a heads walk (HeadsRequest /
 * Heads) and pulls of the feeds we are behind on, one Pull in flight per
 * peer. Whatever arrives goes into the daemon's ingest batch (batch.c) with
 * the records of clients, as admissions from a peer: forwarding is by
 * ingest, so an invalid record is never forwarded.
 *
 * Witnessing (TRANSPARENCY.md, witness.h): peers announce their log and
 * witness keys (LogKeys, kept in peerlogs; the first keys a peer announces
 * stay). As the owner, each new checkpoint (lsd_gossip_checkpoint) goes to
 * every peer as an AddCheckpoint from the size it last cosigned, one in
 * flight per witness, retried once from the size a 409 names; a valid
 * cosignature goes into the stored note, and when the checkpoint has a
 * quorum of the witness policy its quorum time is stored and the note is
 * gossiped (Cosigned). As a witness, one job per peer log at a time pages
 * through the entries (EntriesRequest / Entries), fetches the records this
 * store lacks (Fetch, answered by a Push that goes through the ingest like
 * any other), and answers after the new state is committed; a job that
 * takes over WJOB_TIMEOUT_MS is refused. Split-view evidence, made here or
 * received (and checked), is kept, gossiped to every peer, and distrusts
 * the log.
 *
 * Bounds: ZMQ_MAXMSGSIZE (LS_GOSSIP_MSG_MAX), high-water marks of
 * GOSSIP_HWM messages, a token bucket per peer (messages, and requests that
 * make us read the store), and per-call caps on messages read so that the
 * API is served between them. Everything runs on the daemon's one thread.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <zmq.h>

#include "api_codec.h"
#include "gossip.h"
#include "lodestoned.h"
#include "util.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN   "lodestone"
#define GOSSIP_HWM   64    /* messages queued per peer each way */
#define BATCH_MSGS   128   /* messages held for one commit */
#define PULLS_MAX    16384 /* feeds queued to pull from one peer */
#define MSG_RATE     1000  /* messages per second per peer ... */
#define MSG_BURST    2000  /* ... with this burst */
#define REQ_RATE     200   /* requests (sync, heads, pull) per second per peer */
#define REQ_BURST    400
/* Records a peer may make this node check per second (each a signature
 * check or at least a lookup; peer-verify-rate, with a burst of twice as
 * many): beyond it they are dropped unchecked and counted (status:
 * throttled); anti-entropy fetches them again later. */
#define RETRY_MS         200   /* a Sync that could not be sent is retried this soon */
#define LOG_EVERY_MS     10000 /* a noisy peer's faults are logged this often */
#define REFUSED_MEMORY   16    /* refused keys remembered to keep the log short */
#define ROUTE_MAX        256
#define WJOB_TIMEOUT_MS  30000 /* a witness job: the longest it may take */
#define FETCH_WAIT_MS    10000 /* missing records: how long they are waited for */
#define OWNER_TIMEOUT_MS 45000 /* an AddCheckpoint unanswered this long is sent again */
#define RESUME_EVERY_MS  1000  /* a job waiting for records looks again this often */
#define REFUSED_QUIET_MS 30000 /* a refused checkpoint is offered again after this */
#define BUSY_QUIET_MS    2000  /* ... and one refused as busy after this */

struct pull {
	uint8_t author[LS_KEY_LEN];
	uint64_t from, to;
};

struct bucket {
	double tokens;
	uint64_t at_ms;
};

/* A witness job: checking a checkpoint of a peer's log. */
struct wjob {
	struct ls_witness_job *j;
	bool via_router;     /* where the request came from: the answer goes there */
	uint64_t started_ms; /* monotonic */
	bool asked;          /* an EntriesRequest is out */
	bool fetching;       /* a Fetch is out: waiting for records */
	uint64_t fetch_ms, resume_ms;
	uint8_t fetched[LS_ID_LEN]; /* the first id of the last Fetch */
	bool arrived;               /* the peer's records were ingested since the last look */
	bool invalid;               /* a record it needs was rejected here */
	uint8_t bad_id[LS_ID_LEN];
	char bad_msg[LS_ERR_MSG_MAX];
};

struct gpeer {
	uint8_t key[LS_KEY_LEN]; /* node key (Ed25519) */
	uint8_t curve[32];       /* its transport key */
	char hex[LS_HEX_KEY_LEN + 1];
	char *endpoint;           /* --peer endpoint, or NULL: it dials us */
	char addr[64];            /* address it last connected to us from */
	void *dealer;             /* our connection to it, or NULL */
	uint8_t route[ROUTE_MAX]; /* its connection to our ROUTER */
	size_t route_len;         /* 0: none known */
	uint64_t last_rx_ms;      /* monotonic; 0: never heard */
	uint64_t last_sync;       /* wall clock seconds; 0: never */
	uint64_t next_sync_ms;    /* dialled peers: when to send the next Sync */
	uint64_t received, rejected, dropped, throttled;
	struct bucket recs; /* its records' verification budget */
	/* a long sync's progress in the log (sync_progress) */
	uint64_t sync_got, sync_start_ms, sync_logged_ms, sync_logged_got;
	struct bucket msgs, reqs;
	uint64_t logged_ms; /* last fault logged at warn level */
	/* anti-entropy with this peer */
	bool walking;       /* a heads walk is under way */
	uint64_t walk_ms;   /* when its last request was sent */
	struct pull *pulls; /* ring of feeds to pull */
	size_t pull_head, n_pulls;
	bool pulling; /* a Pull is in flight (pulls[pull_head]) */
	uint64_t pull_ms;
	/* the keys it announced (LogKeys) */
	bool has_keys;
	bool keys_heard; /* it sent LogKeys since we started */
	struct ls_vkey log_key, wit_key;
	/* as a witness of its log */
	struct wjob *wjob;
	uint64_t w_cosigned, w_refused;       /* its checkpoints we cosigned / refused */
	char w_reason[LS_WITNESS_REASON_MAX]; /* our last refusal */
	uint64_t peer_cp_size;                /* its last quorum checkpoint (Cosigned) */
	/* it as a witness of our log */
	uint64_t o_size, o_time; /* what it last cosigned, when */
	bool o_inflight, o_retried;
	uint64_t o_sent_ms, o_sent_size, o_hint; /* o_hint: the size its 409 named */
	uint64_t o_quiet_ms;          /* a refusal: that checkpoint is not sent again before */
	uint64_t o_sent_us, o_rtt_us; /* the last request's send time; its round trip */
	uint64_t o_refused;           /* our checkpoints it refused */
	char o_reason[LS_WITNESS_REASON_MAX]; /* its last refusal */
};

/* Where a message came from, and where its answer goes. */
struct chan {
	struct gpeer *p;
	bool via_router;
};

struct out_rec {
	uint8_t *env;
	size_t len;
	uint8_t id[LS_ID_LEN];   /* zero for evidence */
	const struct gpeer *src; /* not sent back there; NULL: to everyone */
};

struct refused {
	uint8_t curve[32];
	uint64_t at_ms;
};

/* A record of the batch that a peer sent and the store accepted. The id
 * comes first: the array is sorted and searched by it. */
struct sent_by {
	uint8_t id[LS_ID_LEN];
	struct gpeer *p;
};

struct lsd_gossip {
	struct ls_store *store;
	void *zap, *router;
	struct gpeer *peers;
	size_t n_peers;
	unsigned interval_ms;
	double rec_rate, rec_burst; /* the verification budget of each peer */
	/* the heads digest, recomputed when the store has accepted records */
	bool digest_stale;
	uint8_t digest[LS_GOSSIP_DIGEST_LEN];
	uint64_t feeds;
	/* what is in the ingest batch: the messages that hold its envelopes */
	struct lsd_batch_side side;
	struct ls_gossip_msg msgs[BATCH_MSGS];
	size_t n_msgs;
	struct sent_by *sent; /* LSD_BATCH_ENVS: accepted records of this batch */
	size_t n_sent;
	/* the outbox */
	struct out_rec *out;
	size_t n_out, cap_out;
	struct refused refused[REFUSED_MEMORY];
	size_t n_refused;
	/* witnessing */
	const struct lsd_logkeys *lk; /* borrowed */
	char log_vkey[LS_VKEY_MAX], wit_vkey[LS_VKEY_MAX];
	const struct ls_vkey *policy; /* witness = lines (borrowed from the config) */
	size_t n_policy;
	unsigned quorum; /* 0: a majority */
	unsigned grace;
	/* our latest checkpoint */
	uint64_t cp_size;
	char *cp_note;
	size_t cp_len;
	uint64_t announced; /* the largest size gossiped as Cosigned */
	/* LODESTONED_TEST_CRASH=after-witness-commit: die by SIGKILL after
	 * committing a cosignature, before answering (for the tests) */
	bool crash_after_commit;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool bucket_take_n(struct bucket *b, double rate, double burst, uint64_t t, double n);

static bool
bucket_take(struct bucket *b, double rate, double burst, uint64_t t)
{
	return bucket_take_n(b, rate, burst, t, 1.0);
}

/* n tokens at once, or none. */
static bool
bucket_take_n(struct bucket *b, double rate, double burst, uint64_t t, double n)
{
	if (b->at_ms == 0) {
		b->tokens = burst;
	} else if (t > b->at_ms) {
		b->tokens += rate * (double)(t - b->at_ms) / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->at_ms = t;
	if (b->tokens < n)
		return false;
	b->tokens -= n;
	return true;
}

/* A peer's fault: at warn level now and then, at debug level otherwise, so
 * that a hostile peer cannot flood the log. */
static void
peer_fault(struct gpeer *p, const char *what, const char *detail)
{
	uint64_t t = now_ms();

	if (p->logged_ms == 0 || t - p->logged_ms >= LOG_EVERY_MS) {
		p->logged_ms = t;
		log_warn("peer %.16s: %s%s%s", p->hex, what, detail ? ": " : "",
			 detail ? detail : "");
	} else {
		log_debug("peer %.16s: %s%s%s", p->hex, what, detail ? ": " : "",
			  detail ? detail : "");
	}
}

static bool
connected(const struct lsd_gossip *g, const struct gpeer *p, uint64_t t)
{
	return p->last_rx_ms != 0 && t - p->last_rx_ms <= 3 * (uint64_t)g->interval_ms;
}

/* ---- sending ---- */

static void
free_data(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/* Sends buf (taken over) on c. false when it could not be sent now. */
static bool
send_buf(struct lsd_gossip *g, const struct chan *c, uint8_t *buf, size_t len)
{
	zmq_msg_t m;
	void *sock = c->via_router ? g->router : c->p->dealer;

	if (sock == NULL || (c->via_router && c->p->route_len == 0)) {
		free(buf);
		return false;
	}
	if (c->via_router &&
	    zmq_send(sock, c->p->route, c->p->route_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1) {
		if (zmq_errno() == EHOSTUNREACH)
			c->p->route_len = 0; /* it went away */
		free(buf);
		return false;
	}
	if (zmq_msg_init_data(&m, buf, len, free_data, NULL) != 0) {
		free(buf);
		return false;
	}
	if (zmq_msg_send(&m, sock, ZMQ_DONTWAIT) == -1) {
		zmq_msg_close(&m);
		return false;
	}
	return true;
}

static bool
send_msg(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf;
	size_t len;
	int rc;

	if ((rc = ls_gossip_encode(m, &buf, &len, &ctx)) != 0) {
		log_error("cannot encode a gossip %s message: %s", ls_gossip_kind_name(m->kind),
			  ls_err_msg(&ctx, rc));
		return false;
	}
	if (!send_buf(g, c, buf, len)) {
		c->p->dropped++;
		log_debug("peer %.16s: %s not sent: %s", c->p->hex, ls_gossip_kind_name(m->kind),
			  zmq_strerror(zmq_errno()));
		return false;
	}
	return true;
}

/* The channel to push to p on: our own connection when we dial it, else its
 * connection to us while it is connected. */
static bool
push_chan(const struct lsd_gossip *g, struct gpeer *p, struct chan *c, uint64_t t)
{
	c->p = p;
	if (p->dealer != NULL) {
		c->via_router = false;
		return true;
	}
	c->via_router = true;
	return g->router != NULL && p->route_len != 0 && connected(g, p, t);
}

static int
digest_head(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq, const uint8_t id[LS_ID_LEN])
{
	void **a = arg;
	crypto_generichash_state *st = a[0];
	uint64_t *feeds = a[1];
	uint8_t be[8];

	ls_be64_put(be, seq);
	crypto_generichash_update(st, author, LS_KEY_LEN);
	crypto_generichash_update(st, be, sizeof(be));
	crypto_generichash_update(st, id, LS_ID_LEN);
	(*feeds)++;
	return 0;
}

/*
 * The digest of s's feed heads: BLAKE2b-256 over author || seq (8 bytes
 * big-endian) || head id for every feed in author order. *feeds counts them.
 */
static int
heads_digest(struct ls_store *s, uint8_t digest[LS_GOSSIP_DIGEST_LEN], uint64_t *feeds)
{
	crypto_generichash_state st;
	void *arg[2] = {&st, feeds};
	int rc;

	*feeds = 0;
	crypto_generichash_init(&st, (const uint8_t *)"lodestone/heads/v1", 18,
				LS_GOSSIP_DIGEST_LEN);
	if ((rc = ls_store_heads(s, digest_head, arg)) != 0)
		return rc;
	crypto_generichash_final(&st, digest, LS_GOSSIP_DIGEST_LEN);
	return 0;
}

static int
refresh_digest(struct lsd_gossip *g)
{
	int rc;

	if (!g->digest_stale)
		return 0;
	if ((rc = heads_digest(g->store, g->digest, &g->feeds)) != 0) {
		log_error("cannot compute the heads digest: %s", ls_strerror(rc));
		return rc;
	}
	g->digest_stale = false;
	return 0;
}

static bool
send_sync(struct lsd_gossip *g, const struct chan *c, bool reply)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_SYNC, .reply = reply};

	if (refresh_digest(g) != 0)
		return false;
	memcpy(m.digest, g->digest, sizeof(m.digest));
	m.feeds = g->feeds;
	return send_msg(g, c, &m);
}

/* ---- the outbox ---- */

static void
outbox_add(struct lsd_gossip *g, const uint8_t *env, size_t len, const uint8_t *id)
{
	uint8_t *copy;

	if (g->n_out == g->cap_out) {
		size_t cap = g->cap_out ? g->cap_out * 2 : 256;
		struct out_rec *n = realloc(g->out, cap * sizeof(*n));
		if (n == NULL)
			goto nomem;
		g->out = n;
		g->cap_out = cap;
	}
	if ((copy = malloc(len)) == NULL)
		goto nomem;
	memcpy(copy, env, len);
	g->out[g->n_out] = (struct out_rec){copy, len, {0}, NULL};
	if (id != NULL)
		memcpy(g->out[g->n_out].id, id, LS_ID_LEN);
	g->n_out++;
	return;
nomem:
	/* Anti-entropy brings it to the peers later. */
	log_warn("out of memory: a record is not pushed to peers");
}

void
lsd_gossip_accepted(struct lsd_gossip *g, const uint8_t id[LS_ID_LEN], const uint8_t *env,
		    size_t len)
{
	g->digest_stale = true;
	outbox_add(g, env, len, id);
}

void
lsd_gossip_evidence(struct lsd_gossip *g, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
		    size_t len_b)
{
	/* Both records, to everyone: the peer that sent one may lack the other. */
	outbox_add(g, env_a, len_a, NULL);
	outbox_add(g, env_b, len_b, NULL);
}

/* Sends the outbox to every peer in Push messages within the limits. */
static void
outbox_flush(struct lsd_gossip *g)
{
	const uint8_t *envs[LS_GOSSIP_RECORDS_MAX];
	size_t lens[LS_GOSSIP_RECORDS_MAX];
	uint64_t t = now_ms();

	for (size_t pi = 0; pi < g->n_peers && g->n_out > 0; pi++) {
		struct gpeer *p = &g->peers[pi];
		struct chan c;
		size_t i = 0;

		if (!push_chan(g, p, &c, t))
			continue;
		while (i < g->n_out) {
			struct ls_gossip_msg m = {
			    .kind = LS_GOSSIP_PUSH, .envs = envs, .lens = lens};
			size_t bytes = 0;

			for (; i < g->n_out && m.n_envs < LS_GOSSIP_RECORDS_MAX; i++) {
				if (g->out[i].src == p)
					continue;
				if (m.n_envs > 0 && bytes + g->out[i].len > LS_GOSSIP_BATCH_BYTES)
					break;
				envs[m.n_envs] = g->out[i].env;
				lens[m.n_envs++] = g->out[i].len;
				bytes += g->out[i].len;
			}
			if (m.n_envs > 0 && !send_msg(g, &c, &m))
				break; /* queue full or gone: anti-entropy makes up for it */
		}
	}
	for (size_t i = 0; i < g->n_out; i++)
		free(g->out[i].env);
	g->n_out = 0;
}

/* ---- anti-entropy ---- */

static struct pull *
pull_front(struct gpeer *p)
{
	return p->n_pulls ? &p->pulls[p->pull_head] : NULL;
}

static void
pull_pop(struct gpeer *p)
{
	if (p->n_pulls == 0)
		return;
	p->pull_head = (p->pull_head + 1) % PULLS_MAX;
	p->n_pulls--;
}

static void sync_progress(struct gpeer *p, uint64_t accepted);

/* Sends the Pull at the front of p's queue; with nothing left to pull the
 * round is complete. */
static void
pull_send(struct lsd_gossip *g, const struct chan *c)
{
	struct gpeer *p = c->p;
	struct pull *f = pull_front(p);
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_PULL};

	p->pulling = false;
	if (f == NULL) {
		if (!p->walking)
			p->last_sync = ls_now();
		sync_progress(p, 0);
		return;
	}
	m.from_seq = f->from;
	m.to_seq = f->to;
	memcpy(m.author, f->author, LS_KEY_LEN);
	if (send_msg(g, c, &m)) {
		p->pulling = true;
		p->pull_ms = now_ms();
	} else {
		p->n_pulls = 0; /* cannot send now: the next Sync starts over */
	}
}

static void
on_sync(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	uint64_t t = now_ms();

	if (refresh_digest(g) != 0)
		return;
	if (m->reply)
		send_sync(g, c, false);
	if (memcmp(m->digest, g->digest, LS_GOSSIP_DIGEST_LEN) == 0) {
		if (!p->walking && !p->pulling)
			p->last_sync = ls_now();
		return;
	}
	/* A walk or pull under way goes on unless it stalled. */
	if ((p->walking && t - p->walk_ms < 3 * (uint64_t)g->interval_ms) ||
	    (p->pulling && t - p->pull_ms < 3 * (uint64_t)g->interval_ms))
		return;
	p->walking = true;
	p->walk_ms = t;
	p->pulling = false;
	p->n_pulls = 0;
	struct ls_gossip_msg req = {.kind = LS_GOSSIP_HEADS_REQUEST};
	if (!send_msg(g, c, &req))
		p->walking = false;
}

struct heads_page {
	struct ls_gossip_head heads[LS_GOSSIP_HEADS_MAX + 1];
	size_t n;
};

static int
collect_head(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq, const uint8_t id[LS_ID_LEN])
{
	struct heads_page *pg = arg;

	memcpy(pg->heads[pg->n].author, author, LS_KEY_LEN);
	pg->heads[pg->n].has_id = true;
	memcpy(pg->heads[pg->n].id, id, LS_ID_LEN);
	pg->heads[pg->n++].seq = seq;
	return pg->n > LS_GOSSIP_HEADS_MAX ? 1 : 0;
}

static void
on_heads_request(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_gossip_msg out = {.kind = LS_GOSSIP_HEADS};
	struct heads_page *pg = malloc(sizeof(*pg));
	int rc;

	if (pg == NULL)
		return;
	pg->n = 0;
	rc = ls_store_heads_after(g->store, m->has_after ? m->after : NULL, collect_head, pg);
	if (rc < 0) {
		log_error("cannot read feed heads: %s", ls_strerror(rc));
		free(pg);
		return;
	}
	out.more = pg->n > LS_GOSSIP_HEADS_MAX;
	out.n_heads = out.more ? LS_GOSSIP_HEADS_MAX : pg->n;
	out.heads = pg->heads;
	send_msg(g, c, &out);
	free(pg);
}

/* Records of an equivocating author pulled back from a peer's head. */
#define FORK_PULL 256

static bool
store_has(struct ls_store *s, const uint8_t id[LS_ID_LEN])
{
	uint8_t *env = NULL;
	size_t len;
	bool has = ls_store_get(s, id, &env, &len) == 0;

	free(env);
	return has;
}

static void
on_heads(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;

	if (!p->walking) {
		peer_fault(p, "heads it was not asked for", NULL);
		return;
	}
	for (size_t i = 0; i < m->n_heads; i++) {
		uint8_t id[LS_ID_LEN];
		uint64_t seq, ts;

		uint64_t from;

		if (ls_store_head(g->store, m->heads[i].author, &seq, id, &ts) != 0)
			continue;
		if (m->heads[i].seq > seq) {
			from = seq + 1;
		} else if (m->heads[i].has_id && memcmp(m->heads[i].id, id, LS_ID_LEN) != 0 &&
			   !store_has(g->store, m->heads[i].id)) {
			/* The author equivocated: the peer follows another branch of
			 * its feed. Pull the peer's last records of it (those we
			 * hold come back as known) so both nodes store both. */
			from = m->heads[i].seq > FORK_PULL ? m->heads[i].seq - FORK_PULL + 1 : 1;
		} else {
			continue;
		}
		if (p->n_pulls == PULLS_MAX)
			break; /* the rest next round */
		struct pull *f = &p->pulls[(p->pull_head + p->n_pulls++) % PULLS_MAX];
		memcpy(f->author, m->heads[i].author, LS_KEY_LEN);
		f->from = from;
		f->to = m->heads[i].seq;
	}
	if (m->more && m->n_heads > 0 && p->n_pulls < PULLS_MAX) {
		struct ls_gossip_msg req = {.kind = LS_GOSSIP_HEADS_REQUEST, .has_after = true};
		memcpy(req.after, m->heads[m->n_heads - 1].author, LS_KEY_LEN);
		p->walk_ms = now_ms();
		if (send_msg(g, c, &req))
			return;
	}
	p->walking = false;
	if (!p->pulling)
		pull_send(g, c);
}

struct range_out {
	const uint8_t *envs[LS_GOSSIP_RECORDS_MAX];
	size_t lens[LS_GOSSIP_RECORDS_MAX];
	uint8_t *copies[LS_GOSSIP_RECORDS_MAX];
	size_t n;
};

static int
collect_env(void *arg, uint64_t seq, const uint8_t *env, size_t len)
{
	struct range_out *r = arg;

	(void)seq;
	if ((r->copies[r->n] = malloc(len)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(r->copies[r->n], env, len);
	r->envs[r->n] = r->copies[r->n];
	r->lens[r->n++] = len;
	return 0;
}

static void
on_pull(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_gossip_msg out = {.kind = LS_GOSSIP_RECORDS};
	struct range_out *r = malloc(sizeof(*r));
	int rc;

	if (r == NULL)
		return;
	r->n = 0;
	rc = ls_store_feed_range(g->store, m->author, m->from_seq, m->to_seq, LS_GOSSIP_RECORDS_MAX,
				 LS_GOSSIP_BATCH_BYTES, collect_env, r, &out.next_seq);
	if (rc != 0) {
		log_error("cannot read a feed for a peer: %s", ls_strerror(rc));
	} else {
		memcpy(out.author, m->author, LS_KEY_LEN);
		out.envs = r->envs;
		out.lens = r->lens;
		out.n_envs = r->n;
		send_msg(g, c, &out);
	}
	for (size_t i = 0; i < r->n; i++)
		free(r->copies[i]);
	free(r);
}

/* The answer to our Pull: go on with this feed, or with the next one. */
static void
on_records(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	struct pull *f = pull_front(p);

	if (!p->pulling || f == NULL || memcmp(f->author, m->author, LS_KEY_LEN) != 0)
		return; /* late or unasked: its records are ingested all the same */
	if (m->n_envs > 0 && m->next_seq > f->from && m->next_seq <= f->to)
		f->from = m->next_seq;
	else
		pull_pop(p);
	pull_send(g, c);
}

/* ---- witnessing: keys ---- */

static bool
send_log_keys(struct lsd_gossip *g, const struct chan *c, bool reply)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_LOG_KEYS, .reply = reply};

	if (g->lk == NULL)
		return false;
	memcpy(m.log_vkey, g->log_vkey, sizeof(m.log_vkey));
	memcpy(m.wit_vkey, g->wit_vkey, sizeof(m.wit_vkey));
	return send_msg(g, c, &m);
}

/* Whether k is named as Lodestone names its keys: prefix and the first 16
 * hex digits of the key, so that no peer can take another's name. */
static bool
key_named(const struct ls_vkey *k, const char *prefix)
{
	char hex[65], want[LS_NOTE_NAME_MAX];

	snprintf(want, sizeof(want), "%s%.16s", prefix, ls_hex(k->pk, 32, hex));
	return strcmp(k->name, want) == 0;
}

static void owner_kick(struct lsd_gossip *g);

/* The keys a peer announced: parsed, checked, kept the first time. */
static void
on_log_keys(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_err_ctx ctx = {{0}};
	struct gpeer *p = c->p;
	struct ls_vkey lk, wk;
	int rc;

	p->keys_heard = true;
	if (m->reply)
		send_log_keys(g, c, false);
	if ((rc = ls_vkey_parse(m->log_vkey, &lk, &ctx)) != 0 ||
	    (rc = ls_vkey_parse(m->wit_vkey, &wk, &ctx)) != 0) {
		p->rejected++;
		peer_fault(p, "bad log keys", ls_err_msg(&ctx, rc));
		return;
	}
	if (lk.type != LS_NOTE_ED25519 || wk.type != LS_NOTE_COSIG ||
	    !key_named(&lk, "lodestone/") || !key_named(&wk, "lodestone-witness/")) {
		p->rejected++;
		peer_fault(p, "log keys not of the form lodestone/HEX and lodestone-witness/HEX",
			   NULL);
		return;
	}
	if (p->has_keys) {
		if (memcmp(p->log_key.pk, lk.pk, 32) != 0 ||
		    memcmp(p->wit_key.pk, wk.pk, 32) != 0) {
			p->rejected++;
			peer_fault(p, "announced other log keys than before; the first are kept",
				   lk.name);
		}
		return;
	}
	for (size_t i = 0; i < g->n_peers; i++)
		if (&g->peers[i] != p && g->peers[i].has_keys &&
		    (memcmp(g->peers[i].log_key.pk, lk.pk, 32) == 0 ||
		     memcmp(g->peers[i].wit_key.pk, wk.pk, 32) == 0)) {
			p->rejected++;
			peer_fault(p, "announced the log keys of another peer", lk.name);
			return;
		}
	if ((rc = ls_store_peerlog_put(g->store, p->key, m->log_vkey, m->wit_vkey)) != 0) {
		log_error("cannot keep the log keys of peer %.16s: %s", p->hex, ls_strerror(rc));
		return;
	}
	p->log_key = lk;
	p->wit_key = wk;
	p->has_keys = true;
	log_info("peer %.16s: log %s, witness %s", p->hex, lk.name, wk.name);
	owner_kick(g);
}

/* ---- witnessing: split views ---- */

/* Keeps evidence against log `origin` (key pk) and gossips it to every peer
 * but `from` when it is new. */
static void
split_keep(struct lsd_gossip *g, const struct ls_splitview *e, const char *origin,
	   const uint8_t pk[32], const struct gpeer *from)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_SPLIT_VIEW};
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf = NULL;
	size_t len;
	bool added = false;
	int rc;

	m.data = (const uint8_t *)e->note_a;
	m.data_len = e->len_a;
	m.data_b = (const uint8_t *)e->note_b;
	m.data_b_len = e->len_b;
	m.n_hashes = e->n;
	m.hashes = (const uint8_t(*)[LS_GOSSIP_HASH_LEN])e->proof;
	m.has_root = e->has_old_root;
	memcpy(m.root, e->old_root, LS_GOSSIP_HASH_LEN);
	if ((rc = ls_gossip_encode(&m, &buf, &len, &ctx)) != 0) {
		log_error("cannot encode split-view evidence: %s", ls_err_msg(&ctx, rc));
		return;
	}
	if ((rc = ls_store_splitview_put(g->store, origin, pk, buf, len, &added)) != 0)
		log_error("cannot keep split-view evidence against log %s: %s", origin,
			  ls_strerror(rc));
	free(buf);
	if (!added)
		return;
	log_error("split view: log %s signed two checkpoints that are not one history; "
		  "evidence kept and gossiped, the log is distrusted",
		  origin);
	for (size_t i = 0; i < g->n_peers; i++) {
		struct chan c;
		if (&g->peers[i] == from || !push_chan(g, &g->peers[i], &c, now_ms()))
			continue;
		send_msg(g, &c, &m);
	}
}

/* The log key that names `origin`: ours or a peer's; NULL: none known. */
static const struct ls_vkey *
log_key_of(const struct lsd_gossip *g, const char *origin)
{
	if (g->lk != NULL && strcmp(g->lk->origin, origin) == 0)
		return &g->lk->log_vkey;
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i].has_keys && strcmp(g->peers[i].log_key.name, origin) == 0)
			return &g->peers[i].log_key;
	return NULL;
}

static void
on_split_view(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_splitview *e = calloc(1, sizeof(*e));
	char origin[LS_NOTE_NAME_MAX];
	const struct ls_vkey *key;
	int rc;

	if (e == NULL)
		return;
	if (m->data_len > LS_NOTE_MAX || m->data_b_len > LS_NOTE_MAX ||
	    m->n_hashes > LS_TLOG_PROOF_MAX) {
		c->p->rejected++;
		peer_fault(c->p, "split view over the bounds", NULL);
		goto out;
	}
	memcpy(e->note_a, m->data, m->data_len);
	e->len_a = m->data_len;
	memcpy(e->note_b, m->data_b, m->data_b_len);
	e->len_b = m->data_b_len;
	e->n = m->n_hashes;
	if (m->n_hashes > 0)
		memcpy(e->proof, m->hashes, m->n_hashes * LS_TLOG_HASH);
	e->has_old_root = m->has_root;
	memcpy(e->old_root, m->root, LS_TLOG_HASH);
	ls_splitview_origin(e, origin);
	if ((key = log_key_of(g, origin)) == NULL) {
		log_debug("peer %.16s: split view of log '%s', which no peer announced: ignored",
			  c->p->hex, origin);
		goto out;
	}
	if ((rc = ls_splitview_check(e, key, NULL, NULL, &ctx)) != 0) {
		c->p->rejected++;
		peer_fault(c->p, "split view that does not hold", ls_err_msg(&ctx, rc));
		goto out;
	}
	split_keep(g, e, origin, key->pk, c->p);
out:
	free(e);
}

/* ---- witnessing: the witness side ---- */

static int
lookup_rec(void *arg, const uint8_t id[LS_ID_LEN], struct ls_witness_rec *out)
{
	struct lsd_gossip *g = arg;
	struct ls_record *r = NULL;
	int rc;

	if ((rc = ls_store_get_record(g->store, id, &r)) != 0)
		return rc;
	memcpy(out->author, r->author, LS_KEY_LEN);
	out->seq = r->seq;
	if (r->seq > 1)
		memcpy(out->prev, r->prev, LS_ID_LEN);
	else
		memset(out->prev, 0, LS_ID_LEN);
	ls_record_free(r);
	return 0;
}

static void
w_reply(struct lsd_gossip *g, struct gpeer *p, bool via_router,
	const struct ls_witness_reply *reply)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_CHECKPOINT_REPLY};
	struct chan c = {p, via_router};

	m.status = reply->status;
	m.has_size = reply->has_size;
	m.size = reply->size;
	if (reply->status == LS_WITNESS_OK) {
		m.data = (const uint8_t *)reply->line;
		m.data_len = strlen(reply->line);
		p->w_cosigned++;
	} else {
		snprintf(m.reason, sizeof(m.reason), "%s", reply->reason);
		snprintf(p->w_reason, sizeof(p->w_reason), "%u %.240s", reply->status,
			 reply->reason);
		p->w_refused++;
		/* a stale size or a busy witness is routine: the owner retries */
		if (reply->status == LS_WITNESS_CONFLICT || reply->status == LS_WITNESS_BUSY)
			log_debug("peer %.16s: checkpoint refused: %s", p->hex, p->w_reason);
		else
			peer_fault(p, "checkpoint refused", p->w_reason);
	}
	send_msg(g, &c, &m);
}

static void
w_refuse(struct lsd_gossip *g, struct gpeer *p, bool via_router, uint32_t status,
	 const char *reason)
{
	struct ls_witness_reply r;

	memset(&r, 0, sizeof(r));
	r.status = status;
	snprintf(r.reason, sizeof(r.reason), "%s", reason);
	w_reply(g, p, via_router, &r);
}

static void
wjob_end(struct gpeer *p)
{
	if (p->wjob == NULL)
		return;
	ls_witness_job_free(&p->wjob->j);
	free(p->wjob);
	p->wjob = NULL;
}

/* Commits what a job built, then answers: the state is on disk before the
 * cosignature leaves. */
static void
wjob_commit(struct lsd_gossip *g, struct gpeer *p, struct ls_witness_reply *reply)
{
	struct wjob *w = p->wjob;
	struct ls_whead *heads = NULL;
	const char *note;
	size_t n = 0, len;
	int rc;

	note = ls_witness_job_note(w->j, &len);
	if ((rc = ls_witness_job_heads(w->j, &heads, &n)) == 0)
		rc = ls_store_witness_commit(g->store, ls_witness_job_prev(w->j),
					     ls_witness_job_state(w->j), note, len, heads, n);
	free(heads);
	if (rc == LS_ERR_EXISTS) {
		struct ls_wlog *st = malloc(sizeof(*st));
		memset(reply, 0, sizeof(*reply));
		if (st != NULL &&
		    ls_store_wlog_get(g->store, ls_witness_job_origin(w->j), st) == 0 &&
		    st->distrusted) {
			reply->status = LS_WITNESS_UNPROCESSABLE;
			snprintf(reply->reason, sizeof(reply->reason),
				 "distrusted log: this witness holds split-view evidence against "
				 "it");
		} else {
			reply->status = LS_WITNESS_CONFLICT;
			reply->has_size = st != NULL;
			reply->size = st != NULL ? st->size : 0;
			snprintf(reply->reason, sizeof(reply->reason),
				 "the log's state changed while the checkpoint was checked");
		}
		free(st);
	} else if (rc != 0) {
		log_error("cannot keep the witness state of log %s: %s",
			  ls_witness_job_origin(w->j), ls_strerror(rc));
		memset(reply, 0, sizeof(*reply));
		reply->status = LS_WITNESS_BUSY;
		snprintf(reply->reason, sizeof(reply->reason), "witness store error: %s",
			 ls_strerror(rc));
	} else {
		log_debug("peer %.16s: cosigned checkpoint %llu of log %s", p->hex,
			  (unsigned long long)ls_witness_job_size(w->j),
			  ls_witness_job_origin(w->j));
		if (g->crash_after_commit)
			raise(SIGKILL); /* the test of a crash between commit and answer */
	}
	w_reply(g, p, w->via_router, reply);
}

/* Takes p's job on from `step` until it must wait or is done. */
static void
wjob_step(struct lsd_gossip *g, struct gpeer *p, int step, struct ls_witness_reply *reply)
{
	struct wjob *w = p->wjob;
	struct chan c = {p, w->via_router};
	uint64_t t = now_ms();

	for (;;) {
		if (step < 0) {
			log_error("peer %.16s: witness job failed: %s", p->hex, ls_strerror(step));
			w_refuse(g, p, w->via_router, LS_WITNESS_BUSY, "witness error");
			wjob_end(p);
			return;
		}
		switch (step) {
		case LS_WITNESS_ENTRIES: {
			uint64_t next = ls_witness_job_next(w->j);
			uint64_t left = ls_witness_job_size(w->j) - next;
			struct ls_gossip_msg m = {.kind = LS_GOSSIP_ENTRIES_REQUEST};
			m.from = next;
			m.count = left > LS_WITNESS_PAGE ? LS_WITNESS_PAGE : (uint32_t)left;
			w->fetching = false;
			w->asked = send_msg(g, &c, &m);
			return; /* a job that cannot ask times out */
		}
		case LS_WITNESS_RECORDS: {
			struct ls_gossip_msg m = {.kind = LS_GOSSIP_FETCH};
			const uint8_t *ids;
			char hex[2 * LS_ID_LEN + 1];
			size_t n;

			ids = ls_witness_job_missing(w->j, &n);
			if (w->invalid) {
				char why[LS_WITNESS_REASON_MAX];
				snprintf(why, sizeof(why), "invalid record %.16s: %.180s",
					 ls_hex(w->bad_id, LS_ID_LEN, hex), w->bad_msg);
				w_refuse(g, p, w->via_router, LS_WITNESS_UNPROCESSABLE, why);
				wjob_end(p);
				return;
			}
			if (!w->fetching || memcmp(w->fetched, ids, LS_ID_LEN) != 0) {
				/* new records to ask for (the first ones came) */
				m.ids = (const uint8_t(*)[LS_ID_LEN])ids;
				m.n_ids = n;
				w->fetching = true;
				w->fetch_ms = t;
				memcpy(w->fetched, ids, LS_ID_LEN);
				send_msg(g, &c, &m);
			} else if (t - w->fetch_ms > FETCH_WAIT_MS) {
				char why[LS_WITNESS_REASON_MAX];
				snprintf(why, sizeof(why),
					 "missing record %.16s: asked for, not stored here within "
					 "%d s",
					 ls_hex(ids, LS_ID_LEN, hex), FETCH_WAIT_MS / 1000);
				w_refuse(g, p, w->via_router, LS_WITNESS_UNPROCESSABLE, why);
				wjob_end(p);
			}
			return;
		}
		case LS_WITNESS_READY:
			step = ls_witness_job_finish(w->j, ls_store_authtime_each, g->store,
						     ls_now() - g->grace, g->lk->wit_vkey.name,
						     g->lk->wit_sk, ls_now(), reply);
			if (step == LS_WITNESS_DONE && reply->status == LS_WITNESS_OK) {
				wjob_commit(g, p, reply);
				wjob_end(p);
				return;
			}
			continue;
		case LS_WITNESS_DONE:
		default:
			w_reply(g, p, w->via_router, reply);
			wjob_end(p);
			return;
		}
	}
}

static int
load_head(void *arg, const struct ls_whead *h)
{
	return ls_witness_job_head(arg, h);
}

static void
on_add_checkpoint(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	struct ls_witness_reply reply;
	struct ls_witness_job *j = NULL;
	struct ls_splitview *ev = NULL;
	struct ls_wlog *st = NULL;
	char *note = NULL;
	size_t note_len = 0;
	bool have = false;
	int rc, step;

	if (g->lk == NULL)
		return;
	if (p->wjob != NULL) {
		w_refuse(g, p, c->via_router, LS_WITNESS_BUSY,
			 "busy: a checkpoint of this log is being checked");
		return;
	}
	if ((st = malloc(sizeof(*st))) == NULL || (ev = malloc(sizeof(*ev))) == NULL)
		goto nomem;
	if (p->has_keys) {
		rc = ls_store_wlog_get(g->store, p->log_key.name, st);
		if (rc == 0)
			have = true;
		else if (rc != LS_ERR_NOT_FOUND)
			goto store_err;
		if (have &&
		    (rc = ls_store_wnote_get(g->store, p->log_key.name, &note, &note_len)) != 0 &&
		    rc != LS_ERR_NOT_FOUND)
			goto store_err;
	}
	step = ls_witness_start(have ? st : NULL, note, note_len, p->has_keys ? &p->log_key : NULL,
				m->data, m->data_len, m->has_root ? m->root : NULL, &j, &reply, ev);
	if (step == LS_WITNESS_SPLIT) {
		w_reply(g, p, c->via_router, &reply);
		split_keep(g, ev, p->log_key.name, p->log_key.pk, NULL);
		goto out;
	}
	if (step == LS_WITNESS_DONE) {
		w_reply(g, p, c->via_router, &reply);
		goto out;
	}
	if (step < 0)
		goto nomem;
	if ((p->wjob = calloc(1, sizeof(*p->wjob))) == NULL) {
		ls_witness_job_free(&j);
		goto nomem;
	}
	p->wjob->j = j;
	p->wjob->via_router = c->via_router;
	p->wjob->started_ms = now_ms();
	if ((rc = ls_store_wheads_each(g->store, p->log_key.name, load_head, j)) != 0) {
		wjob_end(p);
		goto store_err;
	}
	wjob_step(g, p, step, &reply);
	goto out;
store_err:
	log_error("cannot read the witness state of peer %.16s: %s", p->hex, ls_strerror(rc));
	w_refuse(g, p, c->via_router, LS_WITNESS_BUSY, "witness store error");
	goto out;
nomem:
	w_refuse(g, p, c->via_router, LS_WITNESS_BUSY, "witness out of memory");
out:
	free(note);
	free(st);
	free(ev);
}

static void
on_entries(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	struct ls_witness_reply reply;
	int step;

	if (p->wjob == NULL || !p->wjob->asked || m->from != ls_witness_job_next(p->wjob->j)) {
		log_debug("peer %.16s: entries from %llu it was not asked for", p->hex,
			  (unsigned long long)m->from);
		return;
	}
	p->wjob->asked = false;
	memset(&reply, 0, sizeof(reply));
	step = ls_witness_job_feed(p->wjob->j, m->from, m->n_leaves ? &m->leaves[0][0] : NULL,
				   m->n_leaves, lookup_rec, g, &reply);
	wjob_step(g, p, step, &reply);
}

/* A job waiting for records looks again (after an ingest, or now and then). */
static void
wjob_resume(struct lsd_gossip *g, struct gpeer *p)
{
	struct ls_witness_reply reply;
	int step;

	memset(&reply, 0, sizeof(reply));
	p->wjob->arrived = false;
	p->wjob->resume_ms = now_ms();
	step = ls_witness_job_resume(p->wjob->j, lookup_rec, g, &reply);
	wjob_step(g, p, step, &reply);
}

/* The job's timeout, and its look at the records now and then. */
static void
wjob_timers(struct lsd_gossip *g, struct gpeer *p, uint64_t t)
{
	struct wjob *w = p->wjob;

	if (w == NULL)
		return;
	if (t - w->started_ms > WJOB_TIMEOUT_MS) {
		char why[LS_WITNESS_REASON_MAX];
		snprintf(why, sizeof(why), "timeout: checking the checkpoint took over %d s",
			 WJOB_TIMEOUT_MS / 1000);
		w_refuse(g, p, w->via_router, LS_WITNESS_UNPROCESSABLE, why);
		wjob_end(p);
		return;
	}
	if (w->fetching && (w->arrived || t - w->resume_ms >= RESUME_EVERY_MS))
		wjob_resume(g, p);
}

/* ---- witnessing: serving the log's entries and records ---- */

struct leaves_out {
	uint8_t (*leaves)[LS_GOSSIP_LEAF_LEN];
	size_t n;
};

static int
collect_leaf(void *arg, uint64_t index, const uint8_t leaf[LS_TLOG_LEAF_LEN])
{
	struct leaves_out *o = arg;

	(void)index;
	memcpy(o->leaves[o->n++], leaf, LS_TLOG_LEAF_LEN);
	return 0;
}

static void
on_entries_request(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct ls_gossip_msg out = {.kind = LS_GOSSIP_ENTRIES};
	struct leaves_out o = {NULL, 0};
	uint64_t size, sealed;
	int rc;

	if ((rc = ls_store_log_size(g->store, &size, &sealed)) != 0)
		return;
	if ((o.leaves = malloc((size_t)LS_GOSSIP_ENTRIES_MAX * LS_GOSSIP_LEAF_LEN)) == NULL)
		return;
	if (m->from < size &&
	    (rc = ls_store_log_leaves(g->store, m->from, m->count, collect_leaf, &o)) != 0) {
		log_error("cannot read the log for peer %.16s: %s", c->p->hex, ls_strerror(rc));
		free(o.leaves);
		return;
	}
	out.from = m->from;
	out.leaves = (const uint8_t(*)[LS_GOSSIP_LEAF_LEN])o.leaves;
	out.n_leaves = o.n;
	send_msg(g, c, &out);
	free(o.leaves);
}

/* Records a witness lacks: sent as Push messages within the limits. */
static void
on_fetch(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct range_out *r = malloc(sizeof(*r));
	size_t bytes = 0;

	if (r == NULL)
		return;
	r->n = 0;
	for (size_t i = 0; i <= m->n_ids; i++) {
		uint8_t *env = NULL;
		size_t len = 0;

		if (i < m->n_ids && ls_store_get(g->store, m->ids[i], &env, &len) != 0)
			continue;
		if (r->n > 0 && (i == m->n_ids || bytes + len > LS_GOSSIP_BATCH_BYTES)) {
			struct ls_gossip_msg out = {.kind = LS_GOSSIP_PUSH,
						    .envs = r->envs,
						    .lens = r->lens,
						    .n_envs = r->n};
			send_msg(g, c, &out);
			for (size_t k = 0; k < r->n; k++)
				free(r->copies[k]);
			r->n = 0;
			bytes = 0;
		}
		if (i == m->n_ids)
			break;
		r->copies[r->n] = env;
		r->envs[r->n] = env;
		r->lens[r->n++] = len;
		bytes += len;
	}
	for (size_t k = 0; k < r->n; k++)
		free(r->copies[k]);
	free(r);
}

/* ---- witnessing: the owner side ---- */

/* The witness policy: the peers' witness keys and the configured ones
 * (without repeats). *n of them into keys (room for LSD_PEERS_MAX +
 * LSD_WITNESSES_MAX). */
static size_t
policy_keys(const struct lsd_gossip *g, const struct ls_vkey **keys)
{
	size_t n = 0;

	for (size_t i = 0; i < g->n_policy; i++)
		keys[n++] = &g->policy[i];
	for (size_t i = 0; i < g->n_peers; i++) {
		bool dup = false;
		if (!g->peers[i].has_keys)
			continue;
		for (size_t k = 0; k < n && !dup; k++)
			dup = memcmp(keys[k]->pk, g->peers[i].wit_key.pk, 32) == 0;
		if (!dup)
			keys[n++] = &g->peers[i].wit_key;
	}
	return n;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Gossips our checkpoint note to every peer. */
static void
send_cosigned(struct lsd_gossip *g, const char *note, size_t len)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_COSIGNED};

	m.data = (const uint8_t *)note;
	m.data_len = len;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct chan c;
		if (push_chan(g, &g->peers[i], &c, now_ms()))
			send_msg(g, &c, &m);
	}
}

/* The quorum time of the note n of our checkpoint of size: stored when it
 * has a quorum, and the note gossiped the first time. */
static void
quorum_check(struct lsd_gossip *g, uint64_t size, const struct ls_note *n, const char *text,
	     size_t len)
{
	const struct ls_vkey *keys[LSD_PEERS_MAX + LSD_WITNESSES_MAX];
	uint64_t ts[LSD_PEERS_MAX + LSD_WITNESSES_MAX];
	size_t nk = policy_keys(g, keys), nt = 0, k;
	int rc;

	if (nk == 0)
		return;
	k = g->quorum != 0 ? g->quorum : nk / 2 + 1;
	for (size_t i = 0; i < nk; i++)
		if (ls_cosig_verify(n, keys[i], &ts[nt]) == 0)
			nt++;
	if (nt < k)
		return;
	qsort(ts, nt, sizeof(ts[0]), u64_cmp);
	if ((rc = ls_store_quorum_put(g->store, size, ts[k - 1])) != 0) {
		log_error("cannot record the quorum of checkpoint %llu: %s",
			  (unsigned long long)size, ls_strerror(rc));
		return;
	}
	if (size > g->announced) {
		g->announced = size;
		char when[32];
		log_info("checkpoint %llu reached quorum (%zu of %zu witnesses, %zu needed) at %s",
			 (unsigned long long)size, nt, nk, k,
			 ls_time_format(ts[k - 1], when, sizeof(when)));
		send_cosigned(g, text, len);
	}
}

/* Adds witness p's cosignature line to the stored note of size. */
static void
cosig_keep(struct lsd_gossip *g, struct gpeer *p, uint64_t size, const char *line)
{
	struct ls_note *n = malloc(sizeof(*n));
	char *note = NULL, *text = NULL;
	size_t len, tl;
	uint64_t ts;
	int rc;

	if (n == NULL || (text = malloc(LS_NOTE_MAX + 1)) == NULL)
		goto out;
	if ((rc = ls_store_checkpoint_get(g->store, size, &note, &len)) != 0 ||
	    (rc = ls_note_parse(note, len, n, NULL)) != 0) {
		log_error("cannot read checkpoint %llu: %s", (unsigned long long)size,
			  ls_strerror(rc));
		goto out;
	}
	if (ls_cosig_verify(n, &p->wit_key, &ts) != 0) {
		/* not there yet (a stale line of the same witness would not verify
		 * and stays: notes only grow) */
		if (ls_note_sig_lines_parse(line, strlen(line), n, NULL) != 0 ||
		    (tl = ls_note_format(n, text, LS_NOTE_MAX + 1)) == 0) {
			log_warn("checkpoint %llu: no room for the cosignature of %s",
				 (unsigned long long)size, p->wit_key.name);
			goto out;
		}
		if ((rc = ls_store_checkpoint_put(g->store, size, text, tl)) != 0) {
			log_error("cannot store checkpoint %llu: %s", (unsigned long long)size,
				  ls_strerror(rc));
			goto out;
		}
		if (size == g->cp_size) {
			char *c = malloc(tl + 1);
			if (c != NULL) {
				memcpy(c, text, tl + 1);
				free(g->cp_note);
				g->cp_note = c;
				g->cp_len = tl;
			}
		}
	} else {
		tl = ls_note_format(n, text, LS_NOTE_MAX + 1);
	}
	quorum_check(g, size, n, text, tl);
out:
	free(note);
	free(text);
	free(n);
}

/* Sends our latest checkpoint to witness p from size old. */
static void
owner_send(struct lsd_gossip *g, struct gpeer *p, uint64_t old)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_ADD_CHECKPOINT};
	struct ls_addcp *a = calloc(1, sizeof(*a));
	struct ls_note *n = malloc(sizeof(*n));
	char *text = malloc(LS_NOTE_MAX + 4096);
	struct chan c;
	size_t len;
	int rc;

	if (a == NULL || n == NULL || text == NULL || g->cp_note == NULL || old > g->cp_size ||
	    !push_chan(g, p, &c, now_ms()))
		goto out;
	if ((rc = ls_note_parse(g->cp_note, g->cp_len, n, NULL)) != 0)
		goto out;
	/* the checkpoint with the log's signature only */
	a->cp = *n;
	a->cp.n_sigs = 0;
	for (size_t i = 0; i < n->n_sigs; i++)
		if (strcmp(n->sigs[i].name, g->lk->origin) == 0)
			a->cp.sigs[a->cp.n_sigs++] = n->sigs[i];
	a->old = old;
	if ((rc = ls_store_log_consistency(g->store, old, g->cp_size, a->proof, &a->n)) != 0) {
		log_error("cannot prove checkpoint %llu from %llu: %s",
			  (unsigned long long)g->cp_size, (unsigned long long)old, ls_strerror(rc));
		goto out;
	}
	if (old > 0) {
		if (ls_store_log_root(g->store, old, m.root) != 0)
			goto out;
		m.has_root = true;
	}
	if ((len = ls_addcp_format(a, text, LS_NOTE_MAX + 4096)) == 0)
		goto out;
	m.data = (const uint8_t *)text;
	m.data_len = len;
	if (send_msg(g, &c, &m)) {
		p->o_inflight = true;
		p->o_sent_ms = now_ms();
		p->o_sent_us = now_us();
		p->o_sent_size = g->cp_size;
	}
out:
	free(a);
	free(n);
	free(text);
}

/* Sends our latest checkpoint to every witness that has not cosigned it
 * and has nothing in flight. */
static void
owner_kick(struct lsd_gossip *g)
{
	if (g->lk == NULL || g->cp_note == NULL)
		return;
	for (size_t i = 0; i < g->n_peers; i++) {
		struct gpeer *p = &g->peers[i];
		if (!p->has_keys || p->o_inflight || p->o_size >= g->cp_size ||
		    (p->o_sent_size == g->cp_size && now_ms() < p->o_quiet_ms))
			continue;
		owner_send(
		    g, p, p->o_hint > p->o_size && p->o_hint <= g->cp_size ? p->o_hint : p->o_size);
	}
}

/* A witness refused our checkpoint: counted, and not offered again until
 * there is a newer one or a while passed. */
static void
owner_refused(struct gpeer *p, uint32_t status, const char *reason)
{
	snprintf(p->o_reason, sizeof(p->o_reason), "%u %.240s", status, reason);
	p->o_refused++;
	p->o_quiet_ms = now_ms() + (status == LS_WITNESS_BUSY ? BUSY_QUIET_MS : REFUSED_QUIET_MS);
	peer_fault(p, "refused our checkpoint", p->o_reason);
}

static void
on_checkpoint_reply(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	uint64_t size = p->o_sent_size, ts;

	if (!p->o_inflight || !p->has_keys) {
		log_debug("peer %.16s: a checkpoint reply to nothing", p->hex);
		return;
	}
	p->o_inflight = false;
	if (m->status == LS_WITNESS_OK) {
		struct ls_note *n = malloc(sizeof(*n));
		char *note = NULL, line[LS_WITNESS_LINE_MAX];
		size_t len;
		int rc = LS_ERR_NOMEM;

		if (n != NULL && m->data_len > 0 && m->data_len < sizeof(line) &&
		    (rc = ls_store_checkpoint_get(g->store, size, &note, &len)) == 0 &&
		    (rc = ls_note_parse(note, len, n, NULL)) == 0) {
			memcpy(line, m->data, m->data_len);
			line[m->data_len] = '\0';
			n->n_sigs = 0; /* only the line is checked */
			if (ls_note_sig_lines_parse(line, m->data_len, n, NULL) != 0 ||
			    n->n_sigs != 1 || ls_cosig_verify(n, &p->wit_key, &ts) != 0)
				rc = LS_ERR_SIGNATURE;
		}
		free(note);
		free(n);
		if (rc != 0) {
			owner_refused(p, m->status, "a cosignature that does not verify");
		} else {
			p->o_size = size;
			p->o_time = ts;
			p->o_rtt_us = now_us() - p->o_sent_us;
			log_debug("witness %s cosigned checkpoint %llu in %llu us", p->wit_key.name,
				  (unsigned long long)size, (unsigned long long)p->o_rtt_us);
			p->o_hint = 0;
			p->o_retried = false;
			p->o_reason[0] = '\0';
			if ((rc = ls_store_cosigner_put(g->store, p->wit_key.pk, size, ts, line)) !=
			    0)
				log_error("cannot record the cosignature of %s: %s",
					  p->wit_key.name, ls_strerror(rc));
			cosig_keep(g, p, size, line);
		}
	} else if (m->status == LS_WITNESS_CONFLICT && m->has_size) {
		uint64_t lsize = 0, sealed;
		ls_store_log_size(g->store, &lsize, &sealed);
		if (m->size > g->cp_size) {
			char why[LS_WITNESS_REASON_MAX];
			snprintf(why, sizeof(why),
				 "it has cosigned size %llu, beyond this log's %llu: did a copy of "
				 "this data dir run elsewhere?",
				 (unsigned long long)m->size, (unsigned long long)g->cp_size);
			owner_refused(p, m->status, why);
			p->o_hint = 0;
		} else if (!p->o_retried) {
			p->o_retried = true;
			p->o_hint = m->size;
			owner_send(g, p, m->size);
			return;
		} else {
			owner_refused(p, m->status, m->reason);
		}
	} else {
		owner_refused(p, m->status, m->reason);
	}
	p->o_retried = false;
	owner_kick(g); /* a newer checkpoint may be waiting */
}

/* A peer's checkpoint with its quorum: a split view when it contradicts the
 * one this witness cosigned at the same size. */
static void
on_cosigned(struct lsd_gossip *g, const struct chan *c, const struct ls_gossip_msg *m)
{
	struct gpeer *p = c->p;
	struct ls_note *n = malloc(sizeof(*n));
	struct ls_splitview *e = NULL;
	struct ls_checkpoint cp;
	struct ls_wlog *st = malloc(sizeof(*st));
	char *note = NULL;
	size_t len;

	if (n == NULL || st == NULL || !p->has_keys)
		goto out;
	if (ls_note_parse((const char *)m->data, m->data_len, n, NULL) != 0 ||
	    ls_checkpoint_parse(n->body, n->body_len, &cp, NULL) != 0 ||
	    strcmp(cp.origin, p->log_key.name) != 0 || ls_note_verify(n, &p->log_key) != 0) {
		p->rejected++;
		peer_fault(p, "a cosigned checkpoint not signed by its log key", NULL);
		goto out;
	}
	if (cp.size > p->peer_cp_size)
		p->peer_cp_size = cp.size;
	if (ls_store_wlog_get(g->store, cp.origin, st) != 0 || st->size != cp.size ||
	    memcmp(st->root, cp.root, LS_TLOG_HASH) == 0 ||
	    ls_store_wnote_get(g->store, cp.origin, &note, &len) != 0)
		goto out;
	if ((e = calloc(1, sizeof(*e))) == NULL || len > LS_NOTE_MAX || m->data_len > LS_NOTE_MAX)
		goto out;
	memcpy(e->note_a, note, len);
	e->len_a = len;
	memcpy(e->note_b, m->data, m->data_len);
	e->len_b = m->data_len;
	if (ls_splitview_check(e, &p->log_key, NULL, NULL, NULL) == 0)
		split_keep(g, e, cp.origin, p->log_key.pk, NULL);
out:
	free(note);
	free(e);
	free(st);
	free(n);
}

void
lsd_gossip_checkpoint(struct lsd_gossip *g, uint64_t size, const char *note, size_t len)
{
	char *c;

	if (g == NULL || size <= g->cp_size || (c = malloc(len + 1)) == NULL)
		return;
	memcpy(c, note, len);
	c[len] = '\0';
	free(g->cp_note);
	g->cp_note = c;
	g->cp_len = len;
	g->cp_size = size;
	owner_kick(g);
}

/* Owner timeouts: an AddCheckpoint unanswered is sent again. */
static void
owner_timers(struct lsd_gossip *g, uint64_t t)
{
	for (size_t i = 0; i < g->n_peers; i++) {
		struct gpeer *p = &g->peers[i];
		if (p->o_inflight && t - p->o_sent_ms > OWNER_TIMEOUT_MS) {
			p->o_inflight = false;
			p->o_retried = false;
		}
	}
	owner_kick(g);
}

/* ---- receiving ---- */

/* Handles one message from c. Messages with records are kept for the batch
 * (the caller made sure that it has room for one). */
static void
handle(struct lsd_gossip *g, struct lsd_batch *b, const struct chan *c, const uint8_t *buf,
       size_t len)
{
	struct ls_err_ctx ctx = {{0}};
	struct gpeer *p = c->p;
	struct ls_gossip_msg *m = &g->msgs[g->n_msgs];
	uint64_t t = now_ms();
	int rc;

	p->last_rx_ms = t;
	if (!bucket_take(&p->msgs, MSG_RATE, MSG_BURST, t)) {
		p->dropped++;
		peer_fault(p, "over its message rate; messages dropped", NULL);
		return;
	}
	if ((rc = ls_gossip_decode(buf, len, m, &ctx)) != 0) {
		p->rejected++;
		peer_fault(p, "bad message", ls_err_msg(&ctx, rc));
		return;
	}
	switch (m->kind) {
	case LS_GOSSIP_SYNC:
	case LS_GOSSIP_HEADS_REQUEST:
	case LS_GOSSIP_PULL:
		if (!bucket_take(&p->reqs, REQ_RATE, REQ_BURST, t)) {
			p->dropped++;
			peer_fault(p, "over its request rate; requests dropped", NULL);
			break;
		}
		if (m->kind == LS_GOSSIP_SYNC)
			on_sync(g, c, m);
		else if (m->kind == LS_GOSSIP_HEADS_REQUEST)
			on_heads_request(g, c, m);
		else
			on_pull(g, c, m);
		break;
	case LS_GOSSIP_HEADS: on_heads(g, c, m); break;
	case LS_GOSSIP_RECORDS:
	case LS_GOSSIP_PUSH:
		if (m->kind == LS_GOSSIP_RECORDS)
			on_records(g, c, m);
		if (m->n_envs > 0 &&
		    !bucket_take_n(&p->recs, g->rec_rate, g->rec_burst, t, (double)m->n_envs)) {
			p->throttled += m->n_envs;
			peer_fault(p, "over its verification budget; records dropped", NULL);
			break;
		}
		if (m->n_envs > 0) {
			p->received += m->n_envs;
			lsd_batch_add(b, &g->side, p, m->envs, m->lens, m->n_envs);
			g->n_msgs++; /* kept until the batch is ingested */
			return;
		}
		break;
	/* Messages that make us read the store or check signatures: within the
	 * request rate. */
	case LS_GOSSIP_ADD_CHECKPOINT:
	case LS_GOSSIP_ENTRIES_REQUEST:
	case LS_GOSSIP_FETCH:
	case LS_GOSSIP_LOG_KEYS:
	case LS_GOSSIP_COSIGNED:
	case LS_GOSSIP_SPLIT_VIEW:
		if (!bucket_take(&p->reqs, REQ_RATE, REQ_BURST, t)) {
			p->dropped++;
			peer_fault(p, "over its request rate; requests dropped", NULL);
			break;
		}
		switch (m->kind) {
		case LS_GOSSIP_ADD_CHECKPOINT: on_add_checkpoint(g, c, m); break;
		case LS_GOSSIP_ENTRIES_REQUEST: on_entries_request(g, c, m); break;
		case LS_GOSSIP_FETCH: on_fetch(g, c, m); break;
		case LS_GOSSIP_LOG_KEYS: on_log_keys(g, c, m); break;
		case LS_GOSSIP_COSIGNED: on_cosigned(g, c, m); break;
		default: on_split_view(g, c, m); break;
		}
		break;
	case LS_GOSSIP_CHECKPOINT_REPLY: on_checkpoint_reply(g, c, m); break;
	case LS_GOSSIP_ENTRIES: on_entries(g, c, m); break;
	case LS_GOSSIP_NONE: break;
	}
	ls_gossip_msg_release(m);
}

static struct gpeer *
peer_by_hex(struct lsd_gossip *g, const char *hex)
{
	for (size_t i = 0; hex != NULL && i < g->n_peers; i++)
		if (strcmp(g->peers[i].hex, hex) == 0)
			return &g->peers[i];
	return NULL;
}

static struct gpeer *
peer_by_curve(struct lsd_gossip *g, const uint8_t *curve)
{
	for (size_t i = 0; i < g->n_peers; i++)
		if (sodium_memcmp(g->peers[i].curve, curve, 32) == 0)
			return &g->peers[i];
	return NULL;
}

/* Whether the batch could not take one more message of records. */
static bool
batch_full(const struct lsd_gossip *g, const struct lsd_batch *b)
{
	return g->n_msgs == BATCH_MSGS ||
	       !lsd_batch_fits(b, LS_GOSSIP_RECORDS_MAX, LS_GOSSIP_MSG_MAX);
}

/* Drains the rest of a multipart message. */
static void
drain(void *sock)
{
	int more = 0;
	size_t sz = sizeof(more);

	while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			return;
		}
		zmq_msg_close(&m);
		sz = sizeof(more);
	}
}

/* Reads what the ROUTER has, up to the batch's room. */
static void
read_router(struct lsd_gossip *g, struct lsd_batch *b, size_t budget)
{
	while (budget-- > 0 && !batch_full(g, b)) {
		zmq_msg_t rid, body;
		struct gpeer *p;
		int more = 0;
		size_t sz = sizeof(more);

		zmq_msg_init(&rid);
		if (zmq_msg_recv(&rid, g->router, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&rid);
			return;
		}
		if (zmq_getsockopt(g->router, ZMQ_RCVMORE, &more, &sz) != 0 || !more) {
			zmq_msg_close(&rid);
			continue;
		}
		zmq_msg_init(&body);
		if (zmq_msg_recv(&body, g->router, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&body);
			zmq_msg_close(&rid);
			continue;
		}
		drain(g->router);
		p = peer_by_hex(g, zmq_msg_gets(&body, "User-Id"));
		if (p == NULL || zmq_msg_size(&rid) > ROUTE_MAX) {
			/* ZAP admitted it, so this cannot happen; drop it if it does. */
			log_warn("gossip message from an unknown connection dropped");
		} else {
			struct chan c = {p, true};
			memcpy(p->route, zmq_msg_data(&rid), zmq_msg_size(&rid));
			p->route_len = zmq_msg_size(&rid);
			handle(g, b, &c, zmq_msg_data(&body), zmq_msg_size(&body));
		}
		zmq_msg_close(&body);
		zmq_msg_close(&rid);
	}
}

static void
read_dealer(struct lsd_gossip *g, struct lsd_batch *b, struct gpeer *p, size_t budget)
{
	while (budget-- > 0 && !batch_full(g, b)) {
		struct chan c = {p, false};
		zmq_msg_t body;

		zmq_msg_init(&body);
		if (zmq_msg_recv(&body, p->dealer, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&body);
			return;
		}
		drain(p->dealer);
		handle(g, b, &c, zmq_msg_data(&body), zmq_msg_size(&body));
		zmq_msg_close(&body);
	}
}

/* ---- after the ingest ---- */

/* Compares ids, or a struct sent_by by its id. */
static int
id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LS_ID_LEN);
}

/* Records a witness job of p asked for were ingested: it looks again after
 * the batch, and one the ingest rejected makes it refuse. */
static void
wjob_ingested(struct wjob *w, const struct ls_ingest_result *results, size_t n)
{
	size_t nm;
	const uint8_t *ids = ls_witness_job_missing(w->j, &nm);

	if (!w->fetching)
		return;
	w->arrived = true;
	for (size_t i = 0; i < n && !w->invalid; i++) {
		if (results[i].status != LS_INGEST_REJECTED || !results[i].has_id)
			continue;
		for (size_t k = 0; k < nm; k++)
			if (memcmp(ids + k * LS_ID_LEN, results[i].id, LS_ID_LEN) == 0) {
				w->invalid = true;
				memcpy(w->bad_id, results[i].id, LS_ID_LEN);
				snprintf(w->bad_msg, sizeof(w->bad_msg), "%s", results[i].message);
				break;
			}
	}
}

/* The batch was ingested: counts what peer tag had rejected and remembers
 * what it had sent that was accepted. When the ingest failed nothing of it
 * is stored: the next sync pulls it again. */
#define SYNC_LOG_MS    5000 /* a sync's progress in the log, at most this often */
#define SYNC_LOG_FIRST 256  /* records fetched before a sync is worth a line */

/* Records a feed pull still has to bring: at least what the queued pulls name. */
static uint64_t
pulls_remaining(const struct gpeer *p)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->n_pulls; i++) {
		const struct pull *f = &p->pulls[(p->pull_head + i) % PULLS_MAX];
		if (f->to >= f->from)
			n += f->to - f->from + 1;
	}
	return n;
}

/*
 * A long first sync (or a catch-up after a partition) says how it goes:
 * records fetched, the rate, what the pulls still name; and when it ends.
 * Short syncs stay quiet.
 */
static void
sync_progress(struct gpeer *p, uint64_t accepted)
{
	uint64_t t = now_ms(), left = pulls_remaining(p);
	bool busy = p->n_pulls != 0 || p->walking;

	if (accepted != 0 && p->sync_got == 0)
		p->sync_start_ms = p->sync_logged_ms = t;
	p->sync_got += accepted;
	if (p->sync_got < SYNC_LOG_FIRST) {
		if (!busy)
			p->sync_got = 0;
		return;
	}
	if (!busy) {
		double s = (double)(t - p->sync_start_ms) / 1000.0;
		log_info("peer %.16s: sync done: %llu records in %.1f s", p->hex,
			 (unsigned long long)p->sync_got, s);
		p->sync_got = 0;
		return;
	}
	if (t - p->sync_logged_ms >= SYNC_LOG_MS) {
		double s = (double)(t - p->sync_logged_ms) / 1000.0;
		log_info("peer %.16s: sync: %llu records fetched (%.0f/s), at least %llu to go in "
			 "%zu feed range(s)%s",
			 p->hex, (unsigned long long)p->sync_got,
			 s > 0 ? (double)(p->sync_got - p->sync_logged_got) / s : 0.0,
			 (unsigned long long)left, p->n_pulls,
			 p->walking ? ", heads still compared" : "");
		p->sync_logged_ms = t;
		p->sync_logged_got = p->sync_got;
	}
}

static void
ingested(void *arg, void *tag, int rc, struct ls_ingest_result *results, size_t n)
{
	struct lsd_gossip *g = arg;
	struct gpeer *p = tag;
	uint64_t rejected = 0, accepted = 0; /* accepted: fetched, see below */
	size_t last = 0;

	if (rc != 0) {
		log_debug("peer %.16s: %zu records not stored: %s", p->hex, n, ls_strerror(rc));
		return;
	}
	if (p->wjob != NULL)
		wjob_ingested(p->wjob, results, n);
	for (size_t i = 0; i < n; i++) {
		if (results[i].status == LS_INGEST_ACCEPTED && results[i].has_id) {
			struct sent_by *e = &g->sent[g->n_sent++];
			memcpy(e->id, results[i].id, LS_ID_LEN);
			e->p = p;
		}
		/* fetched: new here, stored or waiting for what it names */
		if (results[i].status == LS_INGEST_ACCEPTED ||
		    results[i].status == LS_INGEST_PENDING)
			accepted++;
		if (results[i].status != LS_INGEST_REJECTED)
			continue;
		rejected++;
		last = i;
		log_debug("peer %.16s: record rejected: %s", p->hex, results[i].message);
	}
	p->rejected += rejected;
	if (rejected > 0)
		peer_fault(p, "records rejected", results[last].message);
	sync_progress(p, accepted);
}

/*
 * Marks the outbox entries of records a peer itself sent, so that they are
 * not pushed back to it (records released from pending by them are not its:
 * they go to everyone), and lets go of the batch's messages. A record is
 * accepted once, so an id accepted in this batch matches no older entry.
 */
static void
ingested_all(void *arg, int rc)
{
	struct lsd_gossip *g = arg;

	(void)rc;
	qsort(g->sent, g->n_sent, sizeof(*g->sent), id_cmp);
	for (size_t i = 0; i < g->n_out && g->n_sent > 0; i++) {
		const struct sent_by *e =
		    bsearch(g->out[i].id, g->sent, g->n_sent, sizeof(*g->sent), id_cmp);
		if (e != NULL)
			g->out[i].src = e->p;
	}
	g->n_sent = 0;
	for (size_t i = 0; i < g->n_msgs; i++)
		ls_gossip_msg_release(&g->msgs[i]);
	g->n_msgs = 0;
	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i].wjob != NULL && g->peers[i].wjob->fetching &&
		    g->peers[i].wjob->arrived)
			wjob_resume(g, &g->peers[i]);
}

/* ---- ZAP: who may connect ---- */

static bool
refusal_logged(struct lsd_gossip *g, const uint8_t *curve, uint64_t t)
{
	size_t oldest = 0;

	for (size_t i = 0; i < g->n_refused; i++) {
		if (memcmp(g->refused[i].curve, curve, 32) == 0) {
			if (t - g->refused[i].at_ms < 60000)
				return true;
			g->refused[i].at_ms = t;
			return false;
		}
		if (g->refused[i].at_ms < g->refused[oldest].at_ms)
			oldest = i;
	}
	if (g->n_refused < REFUSED_MEMORY)
		oldest = g->n_refused++;
	memcpy(g->refused[oldest].curve, curve, 32);
	g->refused[oldest].at_ms = t;
	return false;
}

/* Answers one ZAP request (RFC 27): 200 with the node key as User-Id for an
 * allowed key, 400 otherwise. */
static void
zap_handle(struct lsd_gossip *g)
{
	zmq_msg_t f[8];
	size_t n = 0;
	int more = 1;
	size_t sz;

	while (more && n < 8) {
		zmq_msg_init(&f[n]);
		if (zmq_msg_recv(&f[n], g->zap, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&f[n]);
			break;
		}
		n++;
		sz = sizeof(more);
		if (zmq_getsockopt(g->zap, ZMQ_RCVMORE, &more, &sz) != 0)
			more = 0;
	}
	if (more)
		drain(g->zap);
	if (n < 6) {
		for (size_t i = 0; i < n; i++)
			zmq_msg_close(&f[i]);
		return; /* not a ZAP request: REP would have nothing to answer */
	}
	const char *status = "400", *text = "not an allowed peer", *user = "";
	char addr[64] = "", mech[16] = "";
	struct gpeer *p = NULL;

	snprintf(addr, sizeof(addr), "%.*s", (int)zmq_msg_size(&f[3]),
		 (const char *)zmq_msg_data(&f[3]));
	snprintf(mech, sizeof(mech), "%.*s", (int)zmq_msg_size(&f[5]),
		 (const char *)zmq_msg_data(&f[5]));
	if (strcmp(mech, "CURVE") == 0 && n >= 7 && zmq_msg_size(&f[6]) == 32)
		p = peer_by_curve(g, zmq_msg_data(&f[6]));
	if (p != NULL) {
		status = "200";
		text = "OK";
		user = p->hex;
		snprintf(p->addr, sizeof(p->addr), "%s", addr);
		log_debug("peer %.16s connected from %s", p->hex, addr);
	} else {
		uint8_t zero[32] = {0};
		const uint8_t *ck =
		    n >= 7 && zmq_msg_size(&f[6]) == 32 ? zmq_msg_data(&f[6]) : zero;
		char hex[65];
		if (!refusal_logged(g, ck, now_ms()))
			log_warn("refused a gossip connection from %s: %s key %s is not an "
				 "allowed peer",
				 addr[0] ? addr : "?", mech, ls_hex(ck, 32, hex));
	}
	zmq_send(g->zap, "1.0", 3, ZMQ_SNDMORE);
	if (zmq_msg_send(&f[1], g->zap, ZMQ_SNDMORE) == -1) /* request id */
		zmq_msg_close(&f[1]);
	zmq_send(g->zap, status, 3, ZMQ_SNDMORE);
	zmq_send(g->zap, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(g->zap, user, strlen(user), ZMQ_SNDMORE);
	zmq_send(g->zap, "", 0, 0);
	for (size_t i = 0; i < n; i++)
		if (i != 1)
			zmq_msg_close(&f[i]);
}

/* ---- timers ---- */

static void
timers(struct lsd_gossip *g)
{
	uint64_t t = now_ms();

	for (size_t i = 0; i < g->n_peers; i++) {
		struct gpeer *p = &g->peers[i];
		struct chan c = {p, false};

		if (p->pulling && t - p->pull_ms > 3 * (uint64_t)g->interval_ms) {
			peer_fault(p, "a pull went unanswered; starting over at the next sync",
				   NULL);
			p->pulling = false;
			p->n_pulls = 0;
		}
		if (p->walking && t - p->walk_ms > 3 * (uint64_t)g->interval_ms)
			p->walking = false;
		wjob_timers(g, p, t);
		if (p->dealer == NULL || t < p->next_sync_ms)
			continue;
		/* Until the peer answers, knock often: the first Sync also tells
		 * it our route. Our log keys go with it until the peer answers
		 * with its own. */
		if (send_sync(g, &c, true) && connected(g, p, t))
			p->next_sync_ms = t + g->interval_ms;
		else
			p->next_sync_ms = t + RETRY_MS;
		if (!p->keys_heard)
			send_log_keys(g, &c, true);
	}
	owner_timers(g, t);
}

/* ---- the public side ---- */

size_t
lsd_gossip_sockets(struct lsd_gossip *g, void **socks, size_t max)
{
	size_t n = 0;

	if (g->zap != NULL && n < max)
		socks[n++] = g->zap;
	if (g->router != NULL && n < max)
		socks[n++] = g->router;
	for (size_t i = 0; i < g->n_peers && n < max; i++)
		if (g->peers[i].dealer != NULL)
			socks[n++] = g->peers[i].dealer;
	return n;
}

long
lsd_gossip_timeout(struct lsd_gossip *g)
{
	uint64_t t = now_ms(), next = t + g->interval_ms;

	for (size_t i = 0; i < g->n_peers; i++)
		if (g->peers[i].dealer != NULL && g->peers[i].next_sync_ms < next)
			next = g->peers[i].next_sync_ms;
	return next <= t ? 0 : (long)(next - t);
}

void
lsd_gossip_run(struct lsd_gossip *g, struct lsd_batch *b)
{
	/* ZAP first: a connection waits on it. */
	for (int i = 0; i < 64; i++) {
		zmq_pollitem_t it = {g->zap, 0, ZMQ_POLLIN, 0};
		if (g->zap == NULL || zmq_poll(&it, 1, 0) != 1)
			break;
		zap_handle(g);
	}
	/* Reads until nothing is left or 4 batches went by, so that the API is
	 * served in between. */
	for (int round = 0; round < 4; round++) {
		if (g->router != NULL)
			read_router(g, b, 256);
		for (size_t i = 0; i < g->n_peers; i++)
			if (g->peers[i].dealer != NULL)
				read_dealer(g, b, &g->peers[i], 256);
		if (g->n_msgs == 0)
			break;
		lsd_batch_flush(b);
		outbox_flush(g);
	}
	timers(g);
	outbox_flush(g);
	for (size_t i = 0; i < g->n_peers; i++) /* a long sync that ended says so */
		if (g->peers[i].sync_got != 0)
			sync_progress(&g->peers[i], 0);
}

int
lsd_gossip_peers(struct lsd_gossip *g, struct ls_api_peer **out, size_t *n)
{
	uint64_t t = now_ms();

	*out = NULL;
	*n = 0;
	if (g == NULL || g->n_peers == 0)
		return 0;
	if ((*out = calloc(g->n_peers, sizeof(**out))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < g->n_peers; i++) {
		const struct gpeer *p = &g->peers[i];
		struct ls_api_peer *a = &(*out)[i];

		a->has_key = true;
		memcpy(a->key, p->key, LS_KEY_LEN);
		if (p->endpoint != NULL)
			snprintf(a->endpoint, sizeof(a->endpoint), "%s", p->endpoint);
		else if (p->addr[0] != '\0')
			snprintf(a->endpoint, sizeof(a->endpoint), "inbound from %s", p->addr);
		else
			snprintf(a->endpoint, sizeof(a->endpoint), "inbound");
		a->connected = connected(g, p, t);
		a->last_sync = p->last_sync;
		a->received = p->received;
		a->rejected = p->rejected;
		if (p->has_keys) {
			struct ls_wlog *st = malloc(sizeof(*st));
			ls_vkey_format(&p->log_key, a->log_vkey);
			ls_vkey_format(&p->wit_key, a->witness_vkey);
			if (st != NULL && ls_store_wlog_get(g->store, p->log_key.name, st) == 0) {
				a->witnessed_size = st->size;
				a->witnessed_time = st->cosigned_at;
				a->distrusted = st->distrusted;
			}
			free(st);
		}
		a->cosigned_size = p->o_size;
		a->cosigned_time = p->o_time;
		a->cosign_rtt_us = p->o_rtt_us;
		a->dropped = p->dropped;
		a->throttled = p->throttled;
		a->refused_ours = p->o_refused;
		snprintf(a->refusal, sizeof(a->refusal), "%s", p->o_reason);
		a->cosigned_theirs = p->w_cosigned;
		a->refused_theirs = p->w_refused;
		snprintf(a->refused_reason, sizeof(a->refused_reason), "%s", p->w_reason);
	}
	*n = g->n_peers;
	return 0;
}

struct split_list {
	struct ls_api_status *st;
	int rc;
};

static int
list_split(void *arg, const char *origin, const uint8_t *msg, size_t len)
{
	struct split_list *l = arg;
	struct ls_api_status *st = l->st;
	struct ls_gossip_msg m;
	struct ls_checkpoint a, b;
	struct ls_note *n = malloc(sizeof(*n));
	struct ls_api_splitview *v;

	if (n == NULL)
		return l->rc = LS_ERR_NOMEM;
	if (st->n_split_views >= LS_API_SPLITS_MAX || ls_gossip_decode(msg, len, &m, NULL) != 0) {
		free(n);
		return 0;
	}
	v = &st->split_views[st->n_split_views];
	memset(v, 0, sizeof(*v));
	snprintf(v->origin, sizeof(v->origin), "%s", origin);
	if (ls_note_parse((const char *)m.data, m.data_len, n, NULL) == 0 &&
	    ls_checkpoint_parse(n->body, n->body_len, &a, NULL) == 0)
		v->size_a = a.size;
	if (ls_note_parse((const char *)m.data_b, m.data_b_len, n, NULL) == 0 &&
	    ls_checkpoint_parse(n->body, n->body_len, &b, NULL) == 0)
		v->size_b = b.size;
	st->n_split_views++;
	ls_gossip_msg_release(&m);
	free(n);
	return 0;
}

int
lsd_gossip_witness_status(struct lsd_gossip *g, struct ls_api_status *st)
{
	const struct ls_vkey *keys[LSD_PEERS_MAX + LSD_WITNESSES_MAX];
	struct split_list l = {st, 0};
	size_t nk;
	int rc;

	if (g == NULL)
		return 0;
	nk = policy_keys(g, keys);
	st->witnesses = (uint32_t)nk;
	st->witness_quorum = nk == 0 ? 0 : g->quorum != 0 ? g->quorum : (uint32_t)(nk / 2 + 1);
	st->quorum_size = g->announced;
	if ((st->split_views = calloc(LS_API_SPLITS_MAX, sizeof(*st->split_views))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_store_splitviews_each(g->store, list_split, &l)) != 0)
		return rc < 0 ? rc : l.rc;
	return 0;
}

/* Sets the options every gossip socket has. */
static int
sock_limits(void *s)
{
	int64_t maxmsg = LS_GOSSIP_MSG_MAX + 1024;
	int hwm = GOSSIP_HWM, linger = 0;

	if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)) != 0)
		return -1;
	return 0;
}

static struct gpeer *
peer_add(struct lsd_gossip *g, const uint8_t key[LS_KEY_LEN], struct ls_err_ctx *ctx)
{
	struct gpeer *p;
	char hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < g->n_peers; i++)
		if (memcmp(g->peers[i].key, key, LS_KEY_LEN) == 0)
			return &g->peers[i];
	p = &g->peers[g->n_peers];
	memset(p, 0, sizeof(*p));
	memcpy(p->key, key, LS_KEY_LEN);
	ls_hex(key, LS_KEY_LEN, p->hex);
	if (crypto_sign_ed25519_pk_to_curve25519(p->curve, key) != 0) {
		ls_err_set(ctx, LS_ERR_INVALID, "peer key %s is not a valid node key",
			   ls_hex(key, LS_KEY_LEN, hex));
		return NULL;
	}
	if ((p->pulls = calloc(PULLS_MAX, sizeof(*p->pulls))) == NULL) {
		ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		return NULL;
	}
	g->n_peers++;
	return p;
}

/* What the store remembers of each peer's keys and cosignatures, and our
 * latest checkpoint. */
static void
witness_load(struct lsd_gossip *g)
{
	char lv[LS_VKEY_MAX], wv[LS_VKEY_MAX];
	uint64_t sealed;

	for (size_t i = 0; i < g->n_peers; i++) {
		struct gpeer *p = &g->peers[i];
		if (ls_store_peerlog_get(g->store, p->key, lv, wv) != 0 ||
		    ls_vkey_parse(lv, &p->log_key, NULL) != 0 ||
		    ls_vkey_parse(wv, &p->wit_key, NULL) != 0)
			continue;
		p->has_keys = true;
		if (ls_store_cosigner_get(g->store, p->wit_key.pk, &p->o_size, &p->o_time, NULL) !=
		    0)
			p->o_size = p->o_time = 0;
	}
	if (ls_store_checkpoint_latest(g->store, &g->cp_size, &g->cp_note, &g->cp_len) != 0) {
		g->cp_size = 0;
		g->cp_note = NULL;
		g->cp_len = 0;
	}
	(void)sealed;
}

int
lsd_gossip_open(void *zctx, struct ls_store *store, const struct lsd_config *cfg,
		const struct ls_keypair *kp, const struct lsd_logkeys *lk, struct lsd_gossip **out,
		struct ls_err_ctx *ctx)
{
	struct lsd_gossip *g;
	uint8_t *csk = NULL, cpk[32];
	int rc = 0, one = 1;

	*out = NULL;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
	g->store = store;
	g->interval_ms = cfg->sync_interval * 1000u;
	g->rec_rate = cfg->peer_verify_rate;
	g->rec_burst = 2.0 * cfg->peer_verify_rate;
	g->digest_stale = true;
	g->side = (struct lsd_batch_side){LS_ADMIT_PEER, ingested, ingested_all, g};
	g->lk = lk;
	if (lk != NULL) {
		ls_vkey_format(&lk->log_vkey, g->log_vkey);
		ls_vkey_format(&lk->wit_vkey, g->wit_vkey);
	}
	g->policy = cfg->witnesses;
	g->n_policy = cfg->n_witnesses;
	g->quorum = cfg->witness_quorum;
	g->grace = cfg->witness_grace;
	{
		const char *crash = getenv("LODESTONED_TEST_CRASH");
		g->crash_after_commit = crash != NULL && strcmp(crash, "after-witness-commit") == 0;
	}
	if ((g->peers = calloc(cfg->n_peers + cfg->n_allow + 1, sizeof(*g->peers))) == NULL ||
	    (g->sent = calloc(LSD_BATCH_ENVS, sizeof(*g->sent))) == NULL ||
	    (csk = sodium_malloc(32)) == NULL) {
		rc = ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
		goto fail;
	}
	if (crypto_sign_ed25519_sk_to_curve25519(csk, kp->sk) != 0 ||
	    crypto_sign_ed25519_pk_to_curve25519(cpk, kp->pk) != 0) {
		rc = ls_err_set(ctx, LS_ERR_KEYFILE, "the node key has no transport key");
		goto fail;
	}
	if (cfg->n_peers > LSD_PEERS_MAX || cfg->n_allow > LSD_PEERS_MAX) {
		rc = ls_err_set(ctx, LS_ERR_INVALID, "%zu peers named; at most %d",
				cfg->n_peers > cfg->n_allow ? cfg->n_peers : cfg->n_allow,
				LSD_PEERS_MAX);
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct gpeer *p = peer_add(g, cfg->peers[i].key, ctx);
		if (p == NULL) {
			rc = LS_ERR_INVALID;
			goto fail;
		}
		if ((p->endpoint = strdup(cfg->peers[i].endpoint)) == NULL) {
			rc = ls_err_set(ctx, LS_ERR_NOMEM, "out of memory");
			goto fail;
		}
	}
	for (size_t i = 0; i < cfg->n_allow; i++)
		if (peer_add(g, cfg->allow[i], ctx) == NULL) {
			rc = LS_ERR_INVALID;
			goto fail;
		}
	if (cfg->listen != NULL) {
		/* The ZAP handler is bound before the listener can take a connection. */
		if ((g->zap = zmq_socket(zctx, ZMQ_REP)) == NULL ||
		    zmq_bind(g->zap, ZAP_ENDPOINT) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "cannot start the ZAP handler: %s",
					zmq_strerror(zmq_errno()));
			goto fail;
		}
		if ((g->router = zmq_socket(zctx, ZMQ_ROUTER)) == NULL ||
		    sock_limits(g->router) != 0 ||
		    zmq_setsockopt(g->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) != 0 ||
		    zmq_setsockopt(g->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
		    zmq_setsockopt(g->router, ZMQ_CURVE_SECRETKEY, csk, 32) != 0 ||
		    zmq_setsockopt(g->router, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) !=
			0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "cannot set up the gossip socket: %s",
					zmq_strerror(zmq_errno()));
			goto fail;
		}
		if (zmq_bind(g->router, cfg->listen) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "cannot listen on '%s': %s", cfg->listen,
					zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	for (size_t i = 0; i < g->n_peers; i++) {
		struct gpeer *p = &g->peers[i];
		int ivl_max = 5000;

		if (p->endpoint == NULL)
			continue;
		if ((p->dealer = zmq_socket(zctx, ZMQ_DEALER)) == NULL || sock_limits(p->dealer) ||
		    zmq_setsockopt(p->dealer, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
		    zmq_setsockopt(p->dealer, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max)) !=
			0 ||
		    zmq_setsockopt(p->dealer, ZMQ_CURVE_SERVERKEY, p->curve, 32) != 0 ||
		    zmq_setsockopt(p->dealer, ZMQ_CURVE_PUBLICKEY, cpk, 32) != 0 ||
		    zmq_setsockopt(p->dealer, ZMQ_CURVE_SECRETKEY, csk, 32) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "cannot set up a socket for peer %s: %s",
					p->endpoint, zmq_strerror(zmq_errno()));
			goto fail;
		}
		if (zmq_connect(p->dealer, p->endpoint) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "cannot connect to peer '%s': %s",
					p->endpoint, zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	sodium_free(csk);
	witness_load(g);
	*out = g;
	return 0;
fail:
	sodium_free(csk);
	lsd_gossip_close(&g);
	return rc;
}

void
lsd_gossip_close(struct lsd_gossip **gp)
{
	struct lsd_gossip *g = gp ? *gp : NULL;

	if (g == NULL)
		return;
	for (size_t i = 0; i < g->n_msgs; i++)
		ls_gossip_msg_release(&g->msgs[i]);
	free(g->sent);
	for (size_t i = 0; i < g->n_out; i++)
		free(g->out[i].env);
	free(g->out);
	for (size_t i = 0; i < g->n_peers; i++) {
		if (g->peers[i].dealer != NULL)
			zmq_close(g->peers[i].dealer);
		free(g->peers[i].endpoint);
		free(g->peers[i].pulls);
		wjob_end(&g->peers[i]);
	}
	free(g->cp_note);
	free(g->peers);
	if (g->router != NULL)
		zmq_close(g->router);
	if (g->zap != NULL)
		zmq_close(g->zap);
	free(g);
	*gp = NULL;
}
