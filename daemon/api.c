/*
 * api.c - the API server: a ZMQ_ROUTER socket, one request per message.
 *
 * The main thread owns the ROUTER socket (a ZMQ socket is used by one thread)
 * and decodes every request. Submissions from every message that is ready go
 * into the daemon's ingest batch (batch.c) as local admissions, so many
 * clients share one durable commit (group commit). A client hears back only
 * after that commit returned; when it failed, every client of the batch gets
 * the error and nothing is acknowledged.
 *
 * Reads go to a pool of reader threads (--readers): each runs its query in
 * read transactions of its own (LMDB MVCC: a reader sees the last commit and
 * never waits for the writer) and sends the encoded answer, with its routing
 * frames, on its inproc PUSH socket to the main thread's PULL, which
 * forwards it on the ROUTER. So a verification that runs for seconds holds
 * up neither a submission nor another client's query while a reader is
 * free. At most 64 requests per reader are in the pool at once (queued,
 * running, or answered but not yet forwarded); one more is answered at once
 * with LS_ERR_OVERLOADED ("daemon busy, try again"). So is a request past
 * the bounds on what clients make the daemon hold (admission, layer 2: lawful
 * requests refused for the daemon's sake): api-connections connections
 * (counted by the socket's monitor; one more is answered busy, then closed),
 * and the bytes of requests held unanswered, api-queue per connection and
 * api-queue-total in all (admit_bytes). The status request
 * reads the gossip and log state of the main thread and is answered there.
 * With --readers 0 every read is answered on the main thread, in turn.
 *
 * Message layout (as a REQ socket sends it, seen through ROUTER):
 *   routing frames (identity, and a request id with ZMQ_REQ_CORRELATE),
 *   an empty delimiter frame, the serialized Request.
 * The answer goes back with the same routing frames and delimiter.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "api_codec.h"
#include "lodestoned.h"
#include "util.h"
#include "verify.h"

#define ROUTE_MAX       4     /* routing frames kept for the answer */
#define ROUTE_FRAME_MAX 256   /* bytes of one routing frame */
#define RCV_QUEUE       2     /* messages ZeroMQ reads ahead per connection */
#define DRAIN_MAX       10000 /* messages read in one dispatch: others wait */
#define POOL_PER_READER 64    /* requests in the pool per reader thread */
#define POOL_PER_CONN   64    /* of them one connection may have: one reader's share */
#define GATE_POLL_MS    5     /* the test hook's poll (LODESTONED_TEST_HOLD_READS) */
#define READER_NICE     10    /* reader threads' nice, relative to none */
#define OVER_CLOSE_MS   200  /* a connection over the cap: closed this long after its busy answer */
#define OVER_IDLE_MS    2000 /* ... or this long after it was accepted */

struct route {
	size_t n;
	zmq_msg_t frames[ROUTE_MAX];
};

/* The bytes of a request held unanswered, and the connection they count
 * against (its serial; 0: none). */
struct hold {
	uint64_t conn;
	size_t bytes;
};

/* A submission waiting for the batch's commit. */
struct waiter {
	struct route route;
	struct ls_api_request req;
	struct hold hold;
};

/* A read waiting for, or taken by, a reader thread. */
struct job {
	struct route route;
	struct ls_api_request req;
	struct hold hold;
};

/* An API connection, from the socket monitor's events (its file descriptor
 * is the one ZeroMQ tells of every message, ZMQ_SRCFD). */
struct conn {
	int fd;
	uint64_t serial; /* from 1, never reused (a descriptor is) */
	bool over;       /* accepted past api-connections: answered busy, then closed */
	bool shut;       /* over, and shut down: its disconnection is awaited */
	uint64_t accepted_ms, busy_ms; /* monotonic; busy_ms 0: not answered yet */
	size_t bytes;                  /* of its requests held unanswered */
};

/* A connection's questions in the pool, by its ROUTER identity. */
struct conn_use {
	uint8_t id[ROUTE_FRAME_MAX];
	size_t len;
	size_t n;
};

/* One reader thread and its socket (made and closed by the main thread,
 * used only by the reader in between). */
struct reader {
	struct lsd_api *s;
	pthread_t th;
	void *push;
};

struct lsd_api {
	void *sock;
	struct ls_store *store;
	struct lsd_api_info info;
	struct lsd_batch_side side;           /* what the batch calls back */
	struct lsd_batch_side side_violation; /* the same, for submissions that record violations */
	size_t n_waiters;
	struct waiter *waiters;      /* LSD_BATCH_ENVS: each is in the batch with an envelope */
	struct lsd_streams *streams; /* replies in chunks (stream.c) */

	/* the reader pool (n_readers > 0) */
	unsigned n_readers;
	struct reader *readers;
	size_t started;   /* reader threads running */
	void *pull;       /* main thread: the readers' answers */
	const char *gate; /* test hook: readers wait while this file exists */
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* a job was queued, or stop */
	pthread_cond_t gate_cv; /* stop (the test hook's wait) */
	bool sync_made;
	/* under mu: */
	struct job *ring; /* cap queued jobs, from head */
	size_t cap, head, n;
	size_t inflight;        /* in the pool: queued, running or answer not forwarded */
	struct conn_use *conns; /* connections with questions in the pool (cap entries) */
	size_t n_conns;
	bool stop;

	/* The bounds on what clients make the daemon hold (bytes of requests
	 * taken and not yet answered: submissions until their commit, reads
	 * until their answer is made), and on connections. The table is
	 * changed by the main thread; bytes are given back by the readers
	 * too: all under cmu. */
	pthread_mutex_t cmu;
	bool cmu_made;
	void *mon;       /* the ROUTER's monitor: accepted and disconnected */
	struct conn *cs; /* every connection, served or over the cap */
	size_t n_cs, cap_cs;
	size_t served; /* connections not over the cap */
	uint64_t next_serial;
	size_t queued; /* bytes held, every connection's */
	uint64_t busy; /* requests answered busy since the start */
};

static void
route_close(struct route *r)
{
	for (size_t i = 0; i < r->n; i++)
		zmq_msg_close(&r->frames[i]);
	r->n = 0;
}

/* Moves a message into uninitialised dst; src is left closed. zmq_msg_t
 * must not be copied by assignment. */
static void
msg_move(zmq_msg_t *dst, zmq_msg_t *src)
{
	zmq_msg_init(dst);
	zmq_msg_move(dst, src);
	zmq_msg_close(src);
}

/* Moves the frames of src into dst (uninitialised); src ends empty. */
static void
route_move(struct route *dst, struct route *src)
{
	for (size_t i = 0; i < src->n; i++)
		msg_move(&dst->frames[i], &src->frames[i]);
	dst->n = src->n;
	src->n = 0;
}

/* zmq_msg_send without waiting, again when a signal interrupted it (a part
 * of a multipart message must not be lost to EINTR). */
static int
send_frame(zmq_msg_t *m, void *sock, int flags)
{
	int rc;

	while ((rc = zmq_msg_send(m, sock, flags | ZMQ_DONTWAIT)) == -1 && zmq_errno() == EINTR)
		;
	return rc;
}

/* zmq_msg_recv of a later part of a message that has arrived whole: again
 * when a signal interrupted it. */
static int
recv_part(zmq_msg_t *m, void *sock)
{
	int rc;

	while ((rc = zmq_msg_recv(m, sock, 0)) == -1 && zmq_errno() == EINTR)
		;
	return rc;
}

static void
free_data(void *data, void *hint)
{
	(void)hint;
	free(data);
}

/*
 * Sends resp along route on sock (the ROUTER, or a reader's PUSH); the route
 * frames are sent (emptied). A result too big to send is replaced by an
 * error. Failures are logged (the client times out) and return -1.
 */
static int
reply_on(void *sock, struct route *route, struct ls_api_response *resp)
{
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf = NULL;
	size_t len = 0;
	zmq_msg_t m;
	int rc;

	if ((rc = ls_api_response_encode(resp, &buf, &len, &ctx)) != 0) {
		struct ls_api_response err;
		log_warn("cannot encode %s answer: %s", ls_api_kind_name(resp->kind),
			 ls_err_msg(&ctx, rc));
		ls_api_response_init(&err);
		ls_api_response_error(&err, rc, &ctx);
		if ((rc = ls_api_response_encode(&err, &buf, &len, &ctx)) != 0) {
			log_error("cannot encode an error answer: %s", ls_err_msg(&ctx, rc));
			return -1;
		}
	}
	/* Everything that can fail for want of memory before the first frame
	 * goes: a message sent in part would glue onto the next answer. */
	if (zmq_msg_init_data(&m, buf, len, free_data, NULL) != 0)
		goto fail;
	buf = NULL; /* the message owns it now */
	for (size_t i = 0; i < route->n; i++) {
		if (send_frame(&route->frames[i], sock, ZMQ_SNDMORE) == -1) {
			zmq_msg_close(&m);
			goto fail;
		}
	}
	{
		zmq_msg_t delim;
		zmq_msg_init(&delim);
		if (send_frame(&delim, sock, ZMQ_SNDMORE) == -1) {
			zmq_msg_close(&delim);
			zmq_msg_close(&m);
			goto fail;
		}
	}
	if (send_frame(&m, sock, 0) == -1) {
		zmq_msg_close(&m);
		goto fail;
	}
	return 0;
fail:
	log_warn("cannot send an answer: %s", zmq_strerror(zmq_errno()));
	free(buf);
	return -1;
}

static void
reply(struct lsd_api *s, struct route *route, struct ls_api_response *resp)
{
	(void)reply_on(s->sock, route, resp);
}

/* ---- the bounds: connections and bytes held ---- */

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The connection of descriptor fd (cmu held); NULL if none. The newest
 * entry wins: a descriptor closed and reused is a new connection. */
static struct conn *
conn_of_fd(struct lsd_api *s, int fd)
{
	for (size_t i = s->n_cs; i-- > 0;)
		if (s->cs[i].fd == fd && !s->cs[i].shut)
			return &s->cs[i];
	for (size_t i = s->n_cs; i-- > 0;)
		if (s->cs[i].fd == fd)
			return &s->cs[i];
	return NULL;
}

static struct conn *
conn_of_serial(struct lsd_api *s, uint64_t serial)
{
	for (size_t i = 0; i < s->n_cs; i++)
		if (s->cs[i].serial == serial)
			return &s->cs[i];
	return NULL;
}

/* Gives back what a request held (cmu held). */
static void
hold_release(struct lsd_api *s, struct hold *h)
{
	struct conn *c;

	if (h->bytes == 0)
		return;
	s->queued -= h->bytes;
	if (h->conn != 0 && (c = conn_of_serial(s, h->conn)) != NULL)
		c->bytes -= h->bytes;
	h->bytes = 0;
}

static void
hold_give_back(struct lsd_api *s, struct hold *h)
{
	if (h->bytes == 0)
		return;
	pthread_mutex_lock(&s->cmu);
	hold_release(s, h);
	pthread_mutex_unlock(&s->cmu);
}

/* A connection was accepted (cmu held): served, or over the cap. */
static void
conn_accepted(struct lsd_api *s, int fd)
{
	struct conn *c;

	if (s->n_cs == s->cap_cs) {
		size_t cap = s->cap_cs ? s->cap_cs * 2 : 16;
		struct conn *cs = realloc(s->cs, cap * sizeof(*cs));
		if (cs == NULL) { /* not counted: its requests count in the total only */
			log_warn("api: out of memory for the table of connections");
			return;
		}
		s->cs = cs;
		s->cap_cs = cap;
	}
	c = &s->cs[s->n_cs++];
	*c = (struct conn){.fd = fd, .serial = ++s->next_serial, .accepted_ms = mono_ms()};
	c->over = s->served >= s->info.connections;
	if (!c->over)
		s->served++;
	else
		log_debug("api: a connection over the limit of %u (api-connections)",
			  s->info.connections);
}

/* A connection went away (cmu held). Bytes it still holds stay in the
 * total until their requests are answered. */
static void
conn_gone(struct lsd_api *s, int fd)
{
	struct conn *c = NULL;

	/* the oldest entry of fd: a shut one goes before a newer one */
	for (size_t i = 0; i < s->n_cs && c == NULL; i++)
		if (s->cs[i].fd == fd)
			c = &s->cs[i];
	if (c == NULL)
		return;
	if (!c->over)
		s->served--;
	memmove(c, c + 1, (size_t)(&s->cs[s->n_cs] - (c + 1)) * sizeof(*c));
	s->n_cs--;
}

/* Reads the monitor's events without waiting: accepted and disconnected. */
static void
monitor_drain(struct lsd_api *s)
{
	if (s->mon == NULL)
		return;
	for (;;) {
		zmq_msg_t ev;
		uint16_t e = 0;
		uint32_t v = 0;
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, s->mon, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			return;
		}
		if (zmq_msg_size(&ev) >= 6) {
			memcpy(&e, zmq_msg_data(&ev), sizeof(e));
			memcpy(&v, (uint8_t *)zmq_msg_data(&ev) + 2, sizeof(v));
		}
		while (zmq_msg_more(&ev)) { /* the endpoint */
			zmq_msg_close(&ev);
			zmq_msg_init(&ev);
			if (recv_part(&ev, s->mon) == -1)
				break;
		}
		zmq_msg_close(&ev);
		pthread_mutex_lock(&s->cmu);
		if (e == ZMQ_EVENT_ACCEPTED)
			conn_accepted(s, (int)v);
		else if (e == ZMQ_EVENT_DISCONNECTED)
			conn_gone(s, (int)v);
		pthread_mutex_unlock(&s->cmu);
	}
}

/* Connections over the cap are shut down once their busy answer has had
 * time to go, or when they asked nothing. (The descriptor is ZeroMQ's: it
 * sees the end and closes it. The monitor is read just before, so that a
 * descriptor closed and reused meanwhile is not taken for the old one.) */
static void
over_close(struct lsd_api *s)
{
	uint64_t t = mono_ms();

	monitor_drain(s);
	pthread_mutex_lock(&s->cmu);
	for (size_t i = 0; i < s->n_cs; i++) {
		struct conn *c = &s->cs[i];
		if (!c->over || c->shut)
			continue;
		if ((c->busy_ms != 0 && t - c->busy_ms >= OVER_CLOSE_MS) ||
		    t - c->accepted_ms >= OVER_IDLE_MS) {
			(void)shutdown(c->fd, SHUT_RDWR);
			c->shut = true;
		}
	}
	pthread_mutex_unlock(&s->cmu);
}

/*
 * Admission of a message of len bytes from descriptor fd, before it is
 * decoded: LS_ERR_OVERLOADED (with the reason) when its connection is over
 * the cap on connections.
 */
static int
admit_conn(struct lsd_api *s, int fd, struct ls_err_ctx *ctx)
{
	struct conn *c;
	int rc = 0;

	pthread_mutex_lock(&s->cmu);
	if ((c = conn_of_fd(s, fd)) == NULL) {
		pthread_mutex_unlock(&s->cmu);
		monitor_drain(s); /* its acceptance not read yet */
		pthread_mutex_lock(&s->cmu);
		c = conn_of_fd(s, fd);
	}
	if (c != NULL && c->over) {
		c->busy_ms = mono_ms();
		s->busy++;
		rc = ls_err_set(ctx, LS_ERR_OVERLOADED,
				"lodestoned is busy: it serves %zu API connections, its limit "
				"(api-connections); try again",
				s->served);
	}
	pthread_mutex_unlock(&s->cmu);
	return rc;
}

/*
 * Admission of a decoded request of len bytes that the daemon will hold
 * (a submission until its commit, a read until its answer): it counts
 * against its connection's api-queue and the api-queue-total, into *h.
 * LS_ERR_OVERLOADED (nothing held) when either would go over; a connection
 * that holds nothing, while nothing is held in all, always gets one in.
 */
static int
admit_bytes(struct lsd_api *s, int fd, size_t len, struct hold *h, struct ls_err_ctx *ctx)
{
	struct conn *c;
	int rc = 0;

	*h = (struct hold){0, 0};
	pthread_mutex_lock(&s->cmu);
	c = conn_of_fd(s, fd);
	if (c != NULL && c->bytes > 0 && c->bytes + len > s->info.queue)
		rc = ls_err_set(ctx, LS_ERR_OVERLOADED,
				"lodestoned is busy: this connection has %zu KiB of requests "
				"waiting, its limit is %zu KiB (api-queue); try again",
				c->bytes >> 10, s->info.queue >> 10);
	else if (s->queued > 0 && s->queued + len > s->info.queue_total)
		rc = ls_err_set(ctx, LS_ERR_OVERLOADED,
				"lodestoned is busy: %zu KiB of requests are waiting, its limit is "
				"%zu KiB (api-queue-total); try again",
				s->queued >> 10, s->info.queue_total >> 10);
	if (rc != 0) {
		s->busy++;
	} else {
		s->queued += len;
		if (c != NULL) {
			c->bytes += len;
			h->conn = c->serial;
		}
		h->bytes = len;
	}
	pthread_mutex_unlock(&s->cmu);
	return rc;
}

/* ---- submissions: the ingest batch ---- */

/* The batch was ingested: answers the client of waiter tag. */
static void
submitted(void *arg, void *tag, int rc, struct ls_ingest_result *results, size_t n)
{
	struct lsd_api *s = arg;
	struct waiter *w = tag;
	struct ls_api_response resp;

	ls_api_response_init(&resp);
	if (rc != 0) {
		struct ls_err_ctx ctx = {{0}};
		ls_err_set(&ctx, rc, "store: %s; nothing of this submission was stored",
			   ls_strerror(rc));
		ls_api_response_error(&resp, rc, &ctx);
	} else {
		resp.kind = LS_API_SUBMIT;
		resp.submit.n = n;
		resp.submit.results = results; /* borrowed: no release */
	}
	reply(s, &w->route, &resp);
	route_close(&w->route);
	ls_api_request_release(&w->req);
	hold_give_back(s, &w->hold);
}

/* Every waiter of the batch has been answered. */
static void
submitted_all(void *arg, int rc)
{
	struct lsd_api *s = arg;

	(void)rc;
	s->n_waiters = 0;
}

/* Adds a decoded submit request to the batch (taking req and route). */
static void
enqueue(struct lsd_api *s, struct lsd_batch *b, struct route *route, struct ls_api_request *req,
	const struct hold *h)
{
	size_t bytes = 0;
	struct waiter *w;

	for (size_t i = 0; i < req->submit.n; i++)
		bytes += req->submit.lens[i];
	if (!lsd_batch_fits(b, req->submit.n, bytes))
		lsd_batch_flush(b);
	w = &s->waiters[s->n_waiters++];
	w->hold = *h;
	route_move(&w->route, route);
	w->req = *req;
	w->req.peer = NULL; /* it pointed into the frame that moved; a submission needs none */
	w->req.peer_len = 0;
	memset(req, 0, sizeof(*req));
	lsd_batch_add(b, w->req.submit.record_violation ? &s->side_violation : &s->side, w,
		      w->req.submit.envs, w->req.submit.lens, w->req.submit.n);
}

/* ---- reads ---- */

struct log_state {
	struct ls_api_log_page *page;
	size_t cap;
	size_t bytes;
	int err;
};

static int
log_fn(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct log_state *st = arg;
	struct ls_api_log_entry *e;

	(void)r;
	if (st->page->n == st->cap ||
	    (st->page->n > 0 && st->bytes + len > LS_API_LOG_PAGE_BYTES)) {
		st->page->more = true;
		return 1;
	}
	e = &st->page->entries[st->page->n];
	if ((e->env = malloc(len ? len : 1)) == NULL) {
		st->err = LS_ERR_NOMEM;
		return 1;
	}
	memcpy(e->env, env, len);
	e->len = len;
	e->pos = pos;
	st->page->n++;
	st->bytes += len;
	return 0;
}

static int
do_log(struct lsd_api *s, const struct ls_log_filter *req, struct ls_api_response *resp,
       struct ls_err_ctx *ctx)
{
	struct ls_log_filter f = *req;
	struct log_state st = {&resp->log, LS_API_LOG_PAGE_MAX, 0, 0};
	int rc;

	if (f.limit != 0 && f.limit < st.cap)
		st.cap = f.limit;
	resp->kind = LS_API_LOG;
	if ((resp->log.entries = calloc(st.cap, sizeof(*resp->log.entries))) == NULL)
		return LS_ERR_NOMEM;
	f.limit = st.cap + 1; /* one more tells whether there are more */
	rc = ls_store_log(s->store, &f, log_fn, &st);
	if (rc < 0)
		return ls_err_set(ctx, rc, "log: %s", ls_strerror(rc));
	if (st.err != 0)
		return st.err;
	return 0;
}

static int
not_found(struct ls_err_ctx *ctx, int rc, const char *what, const uint8_t *id)
{
	char hex[LS_HEX_KEY_LEN + 1];

	if (rc == LS_ERR_NOT_FOUND)
		return ls_err_set(ctx, rc, "no %s %s", what, ls_hex(id, LS_ID_LEN, hex));
	return ls_err_set(ctx, rc, "%s %s: %s", what, ls_hex(id, LS_ID_LEN, hex), ls_strerror(rc));
}

static int status_log(struct lsd_api *s, struct ls_api_status *st, struct ls_err_ctx *ctx);

static int
do_status(struct lsd_api *s, struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	struct ls_api_status *st = &resp->status;
	int rc;

	resp->kind = LS_API_STATUS;
	if ((rc = ls_store_stats(s->store, &st->stats)) != 0)
		return ls_err_set(ctx, rc, "status: %s", ls_strerror(rc));
	memcpy(st->node_key, s->info.node_key, LS_KEY_LEN);
	{
		struct lsd_stream_stats ss;
		lsd_streams_stats(s->streams, &ss);
		st->streams_open = ss.open;
		st->stream_bytes = ss.bytes;
	}
	{
		size_t n;
		const uint8_t(*a)[LS_KEY_LEN] = ls_store_anchors(s->store, &n);
		if (n > LS_API_TRUST_MAX)
			n = LS_API_TRUST_MAX;
		if (n > 0 && (st->trust = malloc(n * sizeof(*st->trust))) == NULL)
			return ls_err_set(ctx, LS_ERR_NOMEM, "status: out of memory");
		if (n > 0)
			memcpy(st->trust, a, n * sizeof(*st->trust));
		st->n_trust = n;
	}
	snprintf(st->api, sizeof(st->api), "%s", s->info.api);
	monitor_drain(s);
	pthread_mutex_lock(&s->cmu);
	st->api_connections = (uint32_t)s->served;
	st->api_connections_max = s->info.connections;
	st->api_queued_bytes = s->queued;
	st->api_busy = s->busy;
	pthread_mutex_unlock(&s->cmu);
	if (s->info.listen != NULL)
		snprintf(st->listen, sizeof(st->listen), "%s", s->info.listen);
	if ((rc = lsd_gossip_peers(s->info.gossip, &st->peers, &st->n_peers)) != 0 ||
	    (rc = lsd_gossip_witness_status(s->info.gossip, st)) != 0)
		return ls_err_set(ctx, rc, "status: %s", ls_strerror(rc));
	return status_log(s, st, ctx);
}

/* ---- the witnessed log ---- */

/* The latest checkpoint: its size and note (malloc'd). LS_ERR_NOT_FOUND
 * with a message when the log has none yet. */
static int
latest_checkpoint(struct lsd_api *s, uint64_t *size, char **note, size_t *len,
		  struct ls_err_ctx *ctx)
{
	int rc = ls_store_checkpoint_latest(s->store, size, note, len);

	if (rc == LS_ERR_NOT_FOUND)
		return ls_err_set(ctx, rc,
				  "the log has no checkpoint yet (one follows the first record "
				  "within the checkpoint interval)");
	if (rc != 0)
		return ls_err_set(ctx, rc, "checkpoint: %s", ls_strerror(rc));
	return 0;
}

static int
do_checkpoint(struct lsd_api *s, struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	resp->kind = LS_API_CHECKPOINT;
	return latest_checkpoint(s, &resp->checkpoint.size, &resp->checkpoint.note,
				 &resp->checkpoint.len, ctx);
}

/* A c2sp.org/tlog-proof of the record against the latest checkpoint. */
static int
do_prove(struct lsd_api *s, const struct ls_api_request *req, struct ls_api_response *resp,
	 struct ls_err_ctx *ctx)
{
	struct ls_tlog_proof *p = NULL;
	struct ls_err_ctx pctx = {{0}};
	char hex[LS_HEX_KEY_LEN + 1], *note = NULL;
	uint8_t id[LS_ID_LEN];
	uint64_t index, size;
	size_t len;
	int rc;

	resp->kind = LS_API_PROVE;
	if (req->prove.prefix != NULL) {
		if ((rc = ls_store_resolve(s->store, LS_RESOLVE_RECORD, req->prove.prefix, id,
					   ctx)) != 0)
			return rc;
	} else {
		memcpy(id, req->prove.id, LS_ID_LEN);
	}
	ls_hex(id, LS_ID_LEN, hex);
	if ((rc = ls_store_log_index(s->store, id, &index)) != 0)
		return rc == LS_ERR_NOT_FOUND ? ls_err_set(ctx, rc, "no record %s", hex)
					      : not_found(ctx, rc, "record", id);
	if ((rc = latest_checkpoint(s, &size, &note, &len, ctx)) != 0)
		return rc;
	if (index >= size) {
		rc = ls_err_set(ctx, LS_ERR_BUSY,
				"record %.16s is logged at index %llu, after the latest checkpoint "
				"(size %llu): ask again after the next one",
				hex, (unsigned long long)index, (unsigned long long)size);
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	p->index = index;
	if ((rc = ls_note_parse(note, len, &p->cp, &pctx)) != 0) {
		rc = ls_err_set(ctx, LS_ERR_STORE, "stored checkpoint %llu: %s",
				(unsigned long long)size, ls_err_msg(&pctx, rc));
		goto out;
	}
	if ((rc = ls_store_log_inclusion(s->store, index, size, p->hashes, &p->n)) != 0) {
		rc = ls_err_set(ctx, rc, "inclusion proof of %.16s: %s", hex, ls_strerror(rc));
		goto out;
	}
	if ((resp->prove.proof = malloc(LS_API_PROOF_MAX + 1)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((resp->prove.len = ls_tlog_proof_format(p, resp->prove.proof, LS_API_PROOF_MAX + 1)) ==
		0 ||
	    resp->prove.len > LS_API_PROOF_MAX) {
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG, "proof of %.16s does not fit", hex);
		goto out;
	}
	resp->prove.proof[resp->prove.len] = '\0';
	memcpy(resp->prove.id, id, LS_ID_LEN);
	resp->prove.index = index;
	resp->prove.size = size;
out:
	free(p);
	free(note);
	return rc;
}

/* The log's part of the status. */
static int
status_log(struct lsd_api *s, struct ls_api_status *st, struct ls_err_ctx *ctx)
{
	const struct lsd_logkeys *k = s->info.logkeys;
	uint64_t signed_size, at;
	char *note = NULL;
	size_t len;
	int rc;

	if ((rc = ls_store_log_size(s->store, &st->log_size, &st->log_sealed)) != 0)
		return ls_err_set(ctx, rc, "status: log: %s", ls_strerror(rc));
	if (k != NULL) {
		snprintf(st->log_origin, sizeof(st->log_origin), "%s", k->origin);
		ls_vkey_format(&k->log_vkey, st->log_vkey);
		ls_vkey_format(&k->wit_vkey, st->witness_vkey);
	}
	rc = ls_store_checkpoint_latest(s->store, &st->checkpoint_size, &note, &len);
	free(note);
	if (rc != 0 && rc != LS_ERR_NOT_FOUND)
		return ls_err_set(ctx, rc, "status: checkpoint: %s", ls_strerror(rc));
	at = lsd_tlog_signed_at(s->info.tlog, &signed_size);
	if (rc == 0 && signed_size == st->checkpoint_size)
		st->checkpoint_time = at;
	return 0;
}

/* A bundle proven in the log (as of its latest checkpoint that reached
 * quorum, else its latest one), or without a log proof when there is no log. */
static int
do_bundle(struct lsd_api *s, const struct ls_api_request *req, struct ls_api_response *resp,
	  struct ls_err_ctx *ctx)
{
	char vk[LS_VKEY_MAX], hex[LS_HEX_KEY_LEN + 1];
	struct ls_bundle_plan *plan = NULL;
	bool done = false;
	int rc;

	/* A whole answer (an old client's request, not a stream): planned
	 * first, so that one over the reply cap is refused before its bytes
	 * are gathered in memory. */
	if (s->info.logkeys != NULL)
		ls_vkey_format(&s->info.logkeys->log_vkey, vk);
	rc = ls_bundle_plan_new(s->store, req->bundle.lot, s->info.logkeys != NULL ? vk : NULL, 0,
				&plan);
	if (rc == 0 && ls_bundle_plan_size(plan) > LS_API_RESPONSE_MAX) {
		rc = ls_err_set(ctx, LS_ERR_TOO_BIG,
				"the bundle of lot %.16s is %llu bytes, over the %zu of one "
				"answer: ask for it as a stream (lodestone bundle does)",
				ls_hex(req->bundle.lot, LS_ID_LEN, hex),
				(unsigned long long)ls_bundle_plan_size(plan),
				(size_t)LS_API_RESPONSE_MAX);
		ls_bundle_plan_free(&plan);
		return rc;
	}
	if (rc == 0 && (resp->bundle.bytes = malloc(ls_bundle_plan_size(plan) + 1)) == NULL)
		rc = LS_ERR_NOMEM;
	if (rc == 0 &&
	    (rc = ls_bundle_plan_emit(plan, s->store, resp->bundle.bytes,
				      (size_t)ls_bundle_plan_size(plan) + 1, &resp->bundle.len,
				      &done)) == 0 &&
	    !done)
		rc = LS_ERR_STORE;
	ls_bundle_plan_free(&plan);
	if (rc != 0) {
		free(resp->bundle.bytes);
		resp->bundle.bytes = NULL;
		resp->bundle.len = 0;
	}
	if (rc == LS_ERR_BUSY)
		return ls_err_set(
		    ctx, rc,
		    "lot %.16s is not in a signed checkpoint yet: ask again after the "
		    "next one",
		    ls_hex(req->bundle.lot, LS_ID_LEN, hex));
	if (rc != 0)
		return not_found(ctx, rc, "lot", req->bundle.lot);
	resp->kind = LS_API_BUNDLE;
	return 0;
}

/* A bundle (proven in the log when there is one), trace or log in chunks. */
static int
do_stream(struct lsd_api *s, const struct ls_api_request *req, struct ls_api_response *resp,
	  struct ls_err_ctx *ctx)
{
	char vk[LS_VKEY_MAX];

	if (s->info.logkeys != NULL)
		ls_vkey_format(&s->info.logkeys->log_vkey, vk);
	return lsd_stream_start(s->streams, s->store, s->info.logkeys ? vk : NULL, req, resp, ctx);
}

/* Answers one read request into resp. */
static int
do_read(struct lsd_api *s, const struct ls_api_request *req, struct ls_api_response *resp,
	struct ls_err_ctx *ctx)
{
	int rc;

	if (req->stream)
		return do_stream(s, req, resp, ctx);
	switch (req->kind) {
	case LS_API_HEAD:
		resp->kind = LS_API_HEAD;
		rc = ls_store_head(s->store, req->head.author, &resp->head.seq, resp->head.id,
				   &resp->head.timestamp);
		return rc ? not_found(ctx, rc, "author", req->head.author) : 0;
	case LS_API_GET: {
		/* a record, or the record that made a lot (show LOT) */
		uint8_t rec[LS_ID_LEN];
		rc = ls_store_get(s->store, req->get.id, &resp->get.env, &resp->get.len);
		if (rc == LS_ERR_NOT_FOUND && ls_store_lot_record(s->store, req->get.id, rec) == 0)
			rc = ls_store_get(s->store, rec, &resp->get.env, &resp->get.len);
		if (rc != 0)
			return not_found(ctx, rc, "record", req->get.id);
		resp->kind = LS_API_GET;
		return 0;
	}
	case LS_API_RESOLVE:
		resp->kind = LS_API_RESOLVE;
		return ls_store_resolve(s->store, req->resolve.kind, req->resolve.name,
					resp->resolve.id, ctx);
	case LS_API_CERT_OF: {
		uint64_t t = req->cert_of.time ? req->cert_of.time : ls_now();
		char hex[LS_HEX_KEY_LEN + 1], when[32];
		resp->kind = LS_API_CERT_OF;
		rc = ls_store_cert_of(s->store, req->cert_of.key, t, resp->cert_of.cert);
		if (rc == LS_ERR_NOT_FOUND)
			return ls_err_set(ctx, rc, "no certificate of key %s valid at %s",
					  ls_hex(req->cert_of.key, LS_KEY_LEN, hex),
					  ls_time_format(t, when, sizeof(when)));
		return rc ? not_found(ctx, rc, "certificate of key", req->cert_of.key) : 0;
	}
	case LS_API_VERIFY:
		resp->kind = LS_API_VERIFY;
		ls_verdict_init(&resp->verify);
		rc = ls_verify(s->store, &req->verify, &resp->verify);
		return rc ? not_found(ctx, rc, "lot", req->verify.lot) : 0;
	case LS_API_ORIGIN:
		resp->kind = LS_API_ORIGIN;
		rc = (req->origin.stages ? ls_verify_origin_stages : ls_verify_origin_of)(
		    s->store, req->origin.lot, req->origin.has_from ? req->origin.from : NULL,
		    &resp->origin);
		return rc ? not_found(ctx, rc, "lot", req->origin.lot) : 0;
	case LS_API_TRACE:
		resp->kind = LS_API_TRACE;
		rc = ls_trace(s->store, req->trace.lot, req->trace.down, &resp->trace);
		return rc ? not_found(ctx, rc, "lot", req->trace.lot) : 0;
	case LS_API_HOLDINGS:
		resp->kind = LS_API_HOLDINGS;
		rc = ls_holdings(s->store, req->holdings.holder,
				 req->holdings.has_after ? req->holdings.after : NULL,
				 req->holdings.limit, &resp->holdings);
		return rc ? ls_err_set(ctx, rc, "holdings: %s", ls_strerror(rc)) : 0;
	case LS_API_LOG: return do_log(s, &req->log, resp, ctx);
	case LS_API_STATUS: return do_status(s, resp, ctx);
	case LS_API_BUNDLE: return do_bundle(s, req, resp, ctx);
	case LS_API_CHECKPOINT: return do_checkpoint(s, resp, ctx);
	case LS_API_PROVE: return do_prove(s, req, resp, ctx);
	case LS_API_NEXT: return lsd_stream_next(s->streams, s->store, req, resp, ctx);
	default:
		return ls_err_set(ctx, LS_ERR_INVALID, "request kind %s is not served",
				  ls_api_kind_name(req->kind));
	}
}

/* ---- the reader pool ---- */

/* Whether a read needs the main thread's state (the gossip and log state of
 * the status): answered on the main thread. */
static bool
on_main_thread(enum ls_api_kind kind)
{
	return kind == LS_API_STATUS;
}

/* The test hook: while the file named by LODESTONED_TEST_HOLD_READS exists,
 * readers hold the query they took (so that tests can keep queries in
 * flight deterministically). Called with mu held; returns at once on stop. */
static void
gate_wait(struct lsd_api *s)
{
	struct stat st;

	while (!s->stop && stat(s->gate, &st) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += GATE_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->gate_cv, &s->mu, &ts);
	}
}

static void
job_release(struct job *j)
{
	route_close(&j->route);
	ls_api_request_release(&j->req);
}

/*
 * Takes a read into the pool (route and req are taken). LS_ERR_OVERLOADED
 * when the pool is full (nothing taken).
 */
/* The pool's count of connection id (called with mu held); NULL if none. */
static struct conn_use *
conn_find(struct lsd_api *s, const void *id, size_t len)
{
	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i].len == len && memcmp(s->conns[i].id, id, len) == 0)
			return &s->conns[i];
	return NULL;
}

/* One question of connection id has left the pool (mu held). */
static void
conn_done(struct lsd_api *s, const void *id, size_t len)
{
	struct conn_use *c = conn_find(s, id, len);

	if (c != NULL && --c->n == 0)
		*c = s->conns[--s->n_conns];
}

static int
pool_add(struct lsd_api *s, struct route *route, struct ls_api_request *req, const struct hold *h,
	 bool *conn_full)
{
	const void *id = route->n > 0 ? zmq_msg_data(&route->frames[0]) : "";
	size_t len = route->n > 0 ? zmq_msg_size(&route->frames[0]) : 0;
	struct conn_use *c;
	struct job *j;

	*conn_full = false;
	pthread_mutex_lock(&s->mu);
	if (s->inflight >= s->cap) {
		pthread_mutex_unlock(&s->mu);
		return LS_ERR_OVERLOADED;
	}
	/* one connection holds at most one reader's share of the pool */
	if ((c = conn_find(s, id, len)) != NULL && c->n >= POOL_PER_CONN) {
		*conn_full = true;
		pthread_mutex_unlock(&s->mu);
		return LS_ERR_OVERLOADED;
	}
	if (c == NULL) { /* n_conns < cap: each entry has a question in the pool */
		c = &s->conns[s->n_conns++];
		memcpy(c->id, id, len);
		c->len = len;
		c->n = 0;
	}
	c->n++;
	j = &s->ring[(s->head + s->n) % s->cap];
	route_move(&j->route, route);
	j->hold = *h;
	j->req = *req;
	memset(req, 0, sizeof(*req));
	s->n++;
	s->inflight++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* A reader thread: takes jobs until stop, answers each on its socket. A job
 * still queued at stop is released by lsd_api_close. */
static void *
reader_main(void *arg)
{
	struct reader *rd = arg;
	struct lsd_api *s = rd->s;

	/* Below the main thread (Linux nice is per thread): when the cores are
	 * busy, the commits and their signature checks go first, the long
	 * queries take what is left. Best effort: a failure leaves it even. */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), READER_NICE);
	for (;;) {
		struct ls_err_ctx ctx = {{0}};
		struct ls_api_response resp;
		struct job j;
		int rc;

		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->n == 0)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		route_move(&j.route, &s->ring[s->head].route);
		j.req = s->ring[s->head].req;
		j.hold = s->ring[s->head].hold;
		memset(&s->ring[s->head].req, 0, sizeof(j.req));
		s->head = (s->head + 1) % s->cap;
		s->n--;
		if (s->gate != NULL)
			gate_wait(s);
		if (s->stop) { /* abandoned: the daemon is stopping */
			pthread_mutex_unlock(&s->mu);
			job_release(&j);
			break;
		}
		pthread_mutex_unlock(&s->mu);

		/* The connection (streams are per connection) is the first routing
		 * frame, which moved with the job: a short frame's bytes live in
		 * the zmq_msg_t itself, so point at this copy. */
		if (j.route.n > 0) {
			j.req.peer = zmq_msg_data(&j.route.frames[0]);
			j.req.peer_len = zmq_msg_size(&j.route.frames[0]);
		}
		ls_api_response_init(&resp);
		if ((rc = do_read(s, &j.req, &resp, &ctx)) != 0)
			ls_api_response_error(&resp, rc, &ctx);
		hold_give_back(s, &j.hold); /* the answer is made: the request is done */
		if (reply_on(rd->push, &j.route, &resp) != 0) {
			/* nothing for the main thread to forward: free the slot */
			pthread_mutex_lock(&s->mu);
			s->inflight--;
			if (j.route.n > 0)
				conn_done(s, zmq_msg_data(&j.route.frames[0]),
					  zmq_msg_size(&j.route.frames[0]));
			pthread_mutex_unlock(&s->mu);
		}
		ls_api_response_release(&resp);
		job_release(&j);
	}
	return NULL;
}

/* Forwards every answer the readers have sent on the ROUTER (main thread). */
static void
forward(struct lsd_api *s)
{
	size_t done = 0;

	if (s->pull == NULL)
		return;
	for (;;) {
		zmq_msg_t m;
		bool ok = true;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s->pull, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&m);
			break;
		}
		/* the first part is the connection: its question leaves the pool */
		pthread_mutex_lock(&s->mu);
		conn_done(s, zmq_msg_data(&m), zmq_msg_size(&m));
		pthread_mutex_unlock(&s->mu);
		/* a multipart message arrives whole: its parts are all there */
		for (;;) {
			int more = zmq_msg_more(&m);
			if (ok && send_frame(&m, s->sock, more ? ZMQ_SNDMORE : 0) == -1) {
				log_warn("cannot send an answer: %s", zmq_strerror(zmq_errno()));
				ok = false;
			}
			zmq_msg_close(&m);
			if (!more)
				break;
			zmq_msg_init(&m);
			if (recv_part(&m, s->pull) == -1) {
				zmq_msg_close(&m);
				break;
			}
		}
		done++;
	}
	if (done > 0) {
		pthread_mutex_lock(&s->mu);
		s->inflight -= done;
		pthread_mutex_unlock(&s->mu);
	}
}

/* Starts n reader threads with a PULL socket for their answers. */
static int
pool_open(struct lsd_api *s, void *zctx, unsigned n, struct ls_err_ctx *ctx)
{
	char endpoint[64];
	int zero = 0, rc;

	if (pthread_mutex_init(&s->mu, NULL) != 0)
		return LS_ERR_NOMEM;
	if (pthread_cond_init(&s->cv, NULL) != 0) {
		pthread_mutex_destroy(&s->mu);
		return LS_ERR_NOMEM;
	}
	if (pthread_cond_init(&s->gate_cv, NULL) != 0) {
		pthread_cond_destroy(&s->cv);
		pthread_mutex_destroy(&s->mu);
		return LS_ERR_NOMEM;
	}
	s->sync_made = true;
	s->cap = (size_t)n * POOL_PER_READER;
	if ((s->ring = calloc(s->cap, sizeof(*s->ring))) == NULL ||
	    (s->conns = calloc(s->cap, sizeof(*s->conns))) == NULL ||
	    (s->readers = calloc(n, sizeof(*s->readers))) == NULL)
		return LS_ERR_NOMEM;
	s->n_readers = n;
	snprintf(endpoint, sizeof(endpoint), "inproc://lsd-api-answers-%p", (void *)s);
	/* No high-water mark: what is in flight is bounded by cap. */
	if ((s->pull = zmq_socket(zctx, ZMQ_PULL)) == NULL ||
	    zmq_setsockopt(s->pull, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(s->pull, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
	    zmq_bind(s->pull, endpoint) != 0)
		return ls_err_set(ctx, LS_ERR_NET, "api: reader answers: %s",
				  zmq_strerror(zmq_errno()));
	for (unsigned i = 0; i < n; i++) {
		struct reader *rd = &s->readers[i];
		rd->s = s;
		if ((rd->push = zmq_socket(zctx, ZMQ_PUSH)) == NULL ||
		    zmq_setsockopt(rd->push, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
		    zmq_setsockopt(rd->push, ZMQ_SNDHWM, &zero, sizeof(zero)) != 0 ||
		    zmq_connect(rd->push, endpoint) != 0)
			return ls_err_set(ctx, LS_ERR_NET, "api: reader socket: %s",
					  zmq_strerror(zmq_errno()));
	}
	for (unsigned i = 0; i < n; i++) {
		if ((rc = pthread_create(&s->readers[i].th, NULL, reader_main, &s->readers[i])) !=
		    0)
			return ls_err_set(ctx, LS_ERR_NOMEM, "api: cannot start reader thread: %s",
					  strerror(rc));
		s->started++;
	}
	return 0;
}

/* Stops the readers (a running query finishes, a waiting one is dropped)
 * and frees the pool. */
static void
pool_close(struct lsd_api *s)
{
	if (!s->sync_made)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_cond_broadcast(&s->gate_cv);
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < s->started; i++)
		pthread_join(s->readers[i].th, NULL);
	for (size_t i = 0; i < s->n; i++)
		job_release(&s->ring[(s->head + i) % s->cap]);
	for (size_t i = 0; s->readers != NULL && i < s->n_readers; i++)
		if (s->readers[i].push != NULL)
			zmq_close(s->readers[i].push);
	if (s->pull != NULL)
		zmq_close(s->pull);
	free(s->readers);
	free(s->ring);
	free(s->conns);
	pthread_cond_destroy(&s->gate_cv);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
}

/* ---- reading messages ---- */

/*
 * Receives one whole message without waiting. Returns 1 with the routing
 * frames in *route and the payload in *payload (both to be closed by the
 * caller), 0 when none is ready or the message was not ours (dropped), or
 * LS_ERR_NET.
 */
static int
receive(struct lsd_api *s, struct route *route, zmq_msg_t *payload)
{
	zmq_msg_t frames[ROUTE_MAX + 2];
	size_t n = 0;
	bool bad = false;
	int more;

	route->n = 0;
	for (;;) {
		zmq_msg_t part;
		zmq_msg_init(&part);
		if ((n == 0 ? zmq_msg_recv(&part, s->sock, ZMQ_DONTWAIT)
			    : recv_part(&part, s->sock)) == -1) {
			int e = zmq_errno();
			zmq_msg_close(&part);
			for (size_t i = 0; i < n; i++)
				zmq_msg_close(&frames[i]);
			if (n == 0 && (e == EAGAIN || e == EINTR))
				return 0;
			log_error("api: receive: %s", zmq_strerror(e));
			return LS_ERR_NET;
		}
		more = zmq_msg_more(&part);
		if (n < ROUTE_MAX + 2) {
			msg_move(&frames[n++], &part);
		} else {
			zmq_msg_close(&part);
			bad = true;
		}
		if (!more)
			break;
	}
	/* routing frames (1..ROUTE_MAX, small), empty delimiter, payload */
	if (n < 3 || zmq_msg_size(&frames[n - 2]) != 0)
		bad = true;
	for (size_t i = 0; !bad && i + 2 < n; i++)
		if (zmq_msg_size(&frames[i]) == 0 || zmq_msg_size(&frames[i]) > ROUTE_FRAME_MAX)
			bad = true;
	if (bad) {
		log_debug("api: dropped a message of %zu frames that is not a request", n);
		for (size_t i = 0; i < n; i++)
			zmq_msg_close(&frames[i]);
		return 0;
	}
	for (size_t i = 0; i + 2 < n; i++)
		msg_move(&route->frames[route->n++], &frames[i]);
	zmq_msg_close(&frames[n - 2]);
	msg_move(payload, &frames[n - 1]);
	return 1;
}

/* Handles one message: a submission joins the batch, a read goes to the
 * pool (or is answered now on the main thread). */
static void
handle(struct lsd_api *s, struct lsd_batch *b, struct route *route, zmq_msg_t *payload)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_api_request req;
	struct ls_api_response resp;
	struct hold h = {0, 0};
	int fd = zmq_msg_get(payload, ZMQ_SRCFD), rc;

	ls_api_response_init(&resp);
	/* Admission: a connection over the cap is answered busy unread. */
	if ((rc = admit_conn(s, fd, &ctx)) != 0) {
		log_debug("api: a request refused: %s", ctx.msg);
		ls_api_response_error(&resp, rc, &ctx);
		reply(s, route, &resp);
		return;
	}
	rc = ls_api_request_decode(zmq_msg_data(payload), zmq_msg_size(payload), &req, &ctx);
	if (rc != 0) {
		log_debug("api: refused a request of %zu bytes: %s", zmq_msg_size(payload),
			  ls_err_msg(&ctx, rc));
		ls_api_response_error(&resp, rc, &ctx);
		reply(s, route, &resp);
		return;
	}
	log_debug("api: %s request", ls_api_kind_name(req.kind));
	req.peer = zmq_msg_data(&route->frames[0]); /* the connection: ROUTER's identity */
	req.peer_len = zmq_msg_size(&route->frames[0]);
	/* Admission: what the daemon holds for its clients is bounded, per
	 * connection and in all (answered at once, the rest holds nothing). */
	if ((req.kind == LS_API_SUBMIT || (s->n_readers > 0 && !on_main_thread(req.kind))) &&
	    (rc = admit_bytes(s, fd, zmq_msg_size(payload), &h, &ctx)) != 0) {
		log_debug("api: %s request refused: %s", ls_api_kind_name(req.kind), ctx.msg);
	} else if (req.kind == LS_API_SUBMIT) {
		enqueue(s, b, route, &req, &h);
		return;
	} else if (s->n_readers > 0 && !on_main_thread(req.kind)) {
		bool conn_full;
		if (pool_add(s, route, &req, &h, &conn_full) == 0)
			return;
		forward(s); /* answers waiting to go free their slots */
		if (pool_add(s, route, &req, &h, &conn_full) == 0)
			return;
		hold_give_back(s, &h);
		pthread_mutex_lock(&s->cmu);
		s->busy++;
		pthread_mutex_unlock(&s->cmu);
		if (conn_full)
			rc =
			    ls_err_set(&ctx, LS_ERR_OVERLOADED,
				       "lodestoned is busy: this connection has %d queries waiting "
				       "or running, its share; try again",
				       POOL_PER_CONN);
		else
			rc = ls_err_set(&ctx, LS_ERR_OVERLOADED,
					"lodestoned is busy: %zu queries are waiting or running on "
					"%u reader thread(s); try again",
					s->cap, s->n_readers);
		log_debug("api: %s request refused: %s", ls_api_kind_name(req.kind), ctx.msg);
	} else {
		/* On this thread a read holds up the batch: commit and answer the
		 * submissions before it (else a stream of reads starves them). */
		if (s->n_readers == 0)
			lsd_batch_flush(b);
		rc = do_read(s, &req, &resp, &ctx);
	}
	if (rc != 0)
		ls_api_response_error(&resp, rc, &ctx);
	reply(s, route, &resp);
	ls_api_response_release(&resp);
	ls_api_request_release(&req);
}

int
lsd_api_dispatch(struct lsd_api *s, struct lsd_batch *b)
{
	int rc = 0;

	monitor_drain(s);
	forward(s);
	for (size_t i = 0; i < DRAIN_MAX; i++) {
		struct route route = {0};
		zmq_msg_t payload;

		if ((rc = receive(s, &route, &payload)) <= 0)
			break;
		handle(s, b, &route, &payload);
		zmq_msg_close(&payload);
		route_close(&route);
	}
	lsd_batch_flush(b);
	forward(s);
	return rc < 0 ? rc : 0;
}

/* ---- life cycle ---- */

int
lsd_api_open(void *zctx, struct ls_store *store, const struct lsd_api_info *info, unsigned readers,
	     struct lsd_api **out, struct ls_err_ctx *ctx)
{
	struct lsd_api *s;
	int zero = 0, hwm = RCV_QUEUE, rc;
	int64_t maxmsg = (int64_t)LS_API_REQUEST_MAX;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return LS_ERR_NOMEM;
	s->store = store;
	s->info = *info;
	s->side = (struct lsd_batch_side){LS_ADMIT_LOCAL, submitted, submitted_all, s};
	s->side_violation =
	    (struct lsd_batch_side){LS_ADMIT_LOCAL_VIOLATION, submitted, submitted_all, s};
	if ((s->waiters = calloc(LSD_BATCH_ENVS, sizeof(*s->waiters))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto fail;
	}
	if ((rc = lsd_streams_new(&info->streams, &s->streams)) != 0) {
		rc = ls_err_set(ctx, rc, "stream limits out of range");
		goto fail;
	}
	if ((s->sock = zmq_socket(zctx, ZMQ_ROUTER)) == NULL) {
		rc = ls_err_set(ctx, LS_ERR_NET, "zmq_socket: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* An oversized request is refused by the transport before it is read
	 * into memory; its sender is disconnected and times out. A REQ client
	 * has one request in flight: ZeroMQ reads ahead at most RCV_QUEUE
	 * messages of a connection (and the one it is reading), so a client
	 * that pipelines big requests waits for the daemon to take them, and
	 * what the daemon takes is bounded in bytes (admit_bytes). No SNDHWM
	 * below ZeroMQ's default: a ROUTER drops answers past it, and a client
	 * that pipelines reads would lose them. (The answers a client asks for
	 * without reading them are bounded in count, not in bytes.) */
	if (zmq_setsockopt(s->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0) {
		rc = ls_err_set(ctx, LS_ERR_NET, "zmq_setsockopt: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* The connections, counted by the monitor's events (no high-water
	 * mark: an event lost would miscount them). */
	if (pthread_mutex_init(&s->cmu, NULL) != 0) {
		rc = LS_ERR_NOMEM;
		goto fail;
	}
	s->cmu_made = true;
	{
		char mon[64];
		snprintf(mon, sizeof(mon), "inproc://lsd-api-monitor-%p", (void *)s);
		if (zmq_socket_monitor(s->sock, mon, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) !=
			0 ||
		    (s->mon = zmq_socket(zctx, ZMQ_PAIR)) == NULL ||
		    zmq_setsockopt(s->mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
		    zmq_setsockopt(s->mon, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
		    zmq_connect(s->mon, mon) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "api: socket monitor: %s",
					zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	if (zmq_bind(s->sock, info->api) != 0) {
		int e = zmq_errno();
		rc = ls_err_set(ctx, LS_ERR_NET, "cannot listen on '%s': %s%s", info->api,
				zmq_strerror(e),
				e == ENAMETOOLONG ? " (a unix socket path has at most 107 bytes: "
						    "give a shorter --api)"
						  : "");
		goto fail;
	}
	if (readers > 0) {
		const char *gate = getenv("LODESTONED_TEST_HOLD_READS");
		s->gate = gate != NULL && *gate != '\0' ? gate : NULL;
		if ((rc = pool_open(s, zctx, readers, ctx)) != 0)
			goto fail;
	}
	*out = s;
	return 0;
fail:
	lsd_api_close(&s);
	return rc;
}

void *
lsd_api_socket(struct lsd_api *s)
{
	return s->sock;
}

void *
lsd_api_answers_socket(struct lsd_api *s)
{
	return s->pull;
}

void *
lsd_api_monitor_socket(struct lsd_api *s)
{
	return s->mon;
}

void
lsd_api_set_gossip(struct lsd_api *s, struct lsd_gossip *gossip, const char *listen)
{
	s->info.gossip = gossip;
	s->info.listen = listen;
}

void
lsd_api_tick(struct lsd_api *s)
{
	lsd_streams_expire(s->streams);
	over_close(s);
}

void
lsd_api_close(struct lsd_api **sp)
{
	struct lsd_api *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	pool_close(s);
	for (size_t i = 0; i < s->n_waiters; i++) {
		route_close(&s->waiters[i].route);
		ls_api_request_release(&s->waiters[i].req);
	}
	if (s->sock != NULL) {
		if (s->mon != NULL)
			zmq_socket_monitor(s->sock, NULL, 0);
		zmq_close(s->sock);
	}
	if (s->mon != NULL)
		zmq_close(s->mon);
	if (s->cmu_made)
		pthread_mutex_destroy(&s->cmu);
	free(s->cs);
	lsd_streams_free(&s->streams);
	free(s->waiters);
	free(s);
	*sp = NULL;
}
