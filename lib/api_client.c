/*
 * api_client.c - the client side of the API: a ZeroMQ REQ socket to a
 * daemon, one typed call per request kind. Requests and responses go
 * through the codec (api_codec.c); nothing here touches protobuf types.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <zmq.h>

#include "api.h"
#include "reason.h"

struct ls_api {
	void *zctx;
	void *sock;
	void *mon; /* PAIR: the socket monitor's connection events */
	int timeout_ms;
	/* the answer wait (ls_api_set_wait): -1 until set (timeout_ms bounds
	 * it), 0 as long as the daemon stays connected, else milliseconds */
	long answer_ms;
	void (*progress)(void *arg, long waited_ms);
	void *progress_arg;
	char endpoint[LS_API_ENDPOINT_MAX];
};

#define WAIT_SLICE_MS   1000  /* progress and liveness checks while waiting */
#define HEARTBEAT_IVL   2000  /* ZMTP PING every 2 s ... */
#define HEARTBEAT_LIMIT 10000 /* ... and a connection without PONG for 10 s is dead */

/*
 * A daemon that is not running leaves no socket file, or a stale one that
 * refuses connections: find out now instead of waiting for a timeout.
 */
static int
probe_ipc(const char *endpoint, struct ls_err_ctx *ctx)
{
	const char *path = endpoint + strlen("ipc://");
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc = 0;

	if (*path == '@')
		return 0; /* abstract namespace: nothing to check */
	if (strlen(path) >= sizeof(sun.sun_path))
		return ls_err_set(ctx, LS_ERR_INVALID, "endpoint '%s': path too long", endpoint);
	if (stat(path, &st) != 0)
		return ls_err_set(ctx, LS_ERR_NET, "cannot reach lodestoned at '%s': %s", endpoint,
				  errno == ENOENT ? "no such socket (is the daemon running?)"
						  : strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return ls_err_set(ctx, LS_ERR_NET, "cannot reach lodestoned at '%s': not a socket",
				  endpoint);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return ls_err_set(ctx, LS_ERR_NET, "socket: %s", strerror(errno));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0)
		rc = ls_err_set(ctx, LS_ERR_NET, "cannot reach lodestoned at '%s': %s", endpoint,
				errno == ECONNREFUSED ? "connection refused (stale socket?)"
						      : strerror(errno));
	close(fd);
	return rc;
}

int
ls_api_open(const char *endpoint, int timeout_ms, struct ls_api **out, struct ls_err_ctx *ctx)
{
	struct ls_api *a = NULL;
	int one = 1, zero = 0, rc;
	int64_t maxmsg = (int64_t)LS_API_RESPONSE_MAX + 4096;

	*out = NULL;
	if (endpoint == NULL ||
	    (strncmp(endpoint, "ipc://", 6) != 0 && strncmp(endpoint, "tcp://", 6) != 0) ||
	    strlen(endpoint) <= 6)
		return ls_err_set(ctx, LS_ERR_INVALID,
				  "endpoint '%s' is not ipc://PATH or tcp://HOST:PORT",
				  endpoint ? endpoint : "");
	if (strlen(endpoint) >= LS_API_ENDPOINT_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID, "endpoint '%.40s...' is too long", endpoint);
	if (timeout_ms < 0)
		return ls_err_set(ctx, LS_ERR_INVALID, "timeout %d ms is negative", timeout_ms);
	if (strncmp(endpoint, "ipc://", 6) == 0 && (rc = probe_ipc(endpoint, ctx)) != 0)
		return rc;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return LS_ERR_NOMEM;
	a->timeout_ms = timeout_ms ? timeout_ms : LS_API_TIMEOUT_MS;
	a->answer_ms = -1;
	memcpy(a->endpoint, endpoint, strlen(endpoint) + 1);
	if ((a->zctx = zmq_ctx_new()) == NULL || (a->sock = zmq_socket(a->zctx, ZMQ_REQ)) == NULL) {
		rc = ls_err_set(ctx, LS_ERR_NET, "zmq: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* RELAXED lets a request follow one that timed out; CORRELATE drops the
	 * late answer to the old one. IMMEDIATE keeps a request from queueing on
	 * a connection that is not up, so an absent daemon fails the send. */
	if (zmq_setsockopt(a->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_REQ_RELAXED, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_REQ_CORRELATE, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_SNDTIMEO, &a->timeout_ms, sizeof(int)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_RCVTIMEO, &a->timeout_ms, sizeof(int)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_IVL, &(int){HEARTBEAT_IVL}, sizeof(int)) != 0 ||
	    zmq_setsockopt(a->sock, ZMQ_HEARTBEAT_TIMEOUT, &(int){HEARTBEAT_LIMIT}, sizeof(int)) !=
		0) {
		rc = ls_err_set(ctx, LS_ERR_NET, "zmq_setsockopt: %s", zmq_strerror(zmq_errno()));
		goto fail;
	}
	/* "Busy" and "gone" differ by the connection: the ZeroMQ I/O thread of
	 * a daemon that is busy answering still answers heartbeats, a daemon
	 * that exited (or stopped) drops the connection. The monitor tells. */
	{
		char mon[64];
		snprintf(mon, sizeof(mon), "inproc://ls-api-monitor-%p", (void *)a);
		if (zmq_socket_monitor(a->sock, mon, ZMQ_EVENT_DISCONNECTED) != 0 ||
		    (a->mon = zmq_socket(a->zctx, ZMQ_PAIR)) == NULL ||
		    zmq_setsockopt(a->mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
		    zmq_connect(a->mon, mon) != 0) {
			rc = ls_err_set(ctx, LS_ERR_NET, "zmq monitor: %s",
					zmq_strerror(zmq_errno()));
			goto fail;
		}
	}
	if (zmq_connect(a->sock, endpoint) != 0) {
		rc = ls_err_set(ctx, LS_ERR_NET, "cannot connect to '%s': %s", endpoint,
				zmq_strerror(zmq_errno()));
		goto fail;
	}
	*out = a;
	return 0;
fail:
	ls_api_close(&a);
	return rc;
}

void
ls_api_close(struct ls_api **ap)
{
	struct ls_api *a;

	if (ap == NULL || (a = *ap) == NULL)
		return;
	if (a->sock != NULL) {
		if (a->mon != NULL)
			zmq_socket_monitor(a->sock, NULL, 0);
		zmq_close(a->sock);
	}
	if (a->mon != NULL)
		zmq_close(a->mon);
	if (a->zctx != NULL)
		zmq_ctx_term(a->zctx);
	free(a);
	*ap = NULL;
}

void
ls_api_set_wait(struct ls_api *a, long answer_ms, void (*progress)(void *arg, long waited_ms),
		void *arg)
{
	a->answer_ms = answer_ms < 0 ? 0 : answer_ms;
	a->progress = progress;
	a->progress_arg = arg;
}

/* Reads the monitor's pending events without waiting: true when one says
 * the connection to the daemon was dropped. */
static bool
dropped(struct ls_api *a)
{
	bool gone = false;

	for (;;) {
		zmq_msg_t ev;
		int more = 0;
		size_t ml = sizeof(more);
		zmq_msg_init(&ev);
		if (zmq_msg_recv(&ev, a->mon, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&ev);
			return gone;
		}
		if (zmq_msg_size(&ev) >= 2) {
			uint16_t e;
			memcpy(&e, zmq_msg_data(&ev), sizeof(e));
			gone |= e == ZMQ_EVENT_DISCONNECTED;
		}
		zmq_msg_close(&ev);
		/* the second frame: the endpoint */
		while (zmq_getsockopt(a->mon, ZMQ_RCVMORE, &more, &ml) == 0 && more) {
			zmq_msg_init(&ev);
			if (zmq_msg_recv(&ev, a->mon, 0) == -1)
				more = 0;
			zmq_msg_close(&ev);
		}
	}
}

/*
 * Waits for the answer: in slices of WAIT_SLICE_MS, telling the progress
 * callback, until it is there (0), the daemon dropped the connection
 * (LS_ERR_NET: nobody there any more), or the answer wait is over
 * (LS_ERR_TIMEOUT: the daemon is there but has not answered).
 */
static int
await_answer(struct ls_api *a, zmq_msg_t *msg, struct ls_err_ctx *ctx)
{
	long limit = a->answer_ms < 0 ? a->timeout_ms : a->answer_ms, waited = 0;

	for (;;) {
		zmq_pollitem_t it = {a->sock, 0, ZMQ_POLLIN, 0};
		long slice = WAIT_SLICE_MS;
		int n;

		if (limit > 0 && limit - waited < slice)
			slice = limit - waited;
		n = zmq_poll(&it, 1, slice);
		if (n < 0 && zmq_errno() != EINTR)
			return ls_err_set(ctx, LS_ERR_NET, "receive from '%s': %s", a->endpoint,
					  zmq_strerror(zmq_errno()));
		if (n > 0 && (it.revents & ZMQ_POLLIN)) {
			if (zmq_msg_recv(msg, a->sock, ZMQ_DONTWAIT) != -1)
				return 0;
			if (zmq_errno() != EAGAIN)
				return ls_err_set(ctx, LS_ERR_NET, "receive from '%s': %s",
						  a->endpoint, zmq_strerror(zmq_errno()));
		}
		waited += slice;
		if (dropped(a))
			return ls_err_set(
			    ctx, LS_ERR_NET,
			    "cannot reach lodestoned at '%s': it closed the connection "
			    "before answering (stopped or restarted?)",
			    a->endpoint);
		if (limit > 0 && waited >= limit)
			return ls_err_set(
			    ctx, LS_ERR_TIMEOUT,
			    "lodestoned at '%s' is connected but did not answer within "
			    "%ld.%03ld s (busy? a larger --timeout waits longer, 0 "
			    "as long as it takes)",
			    a->endpoint, limit / 1000, limit % 1000);
		if (a->progress != NULL)
			a->progress(a->progress_arg, waited);
	}
}

/* Sends req, waits for the response of kind `want`; a daemon error is
 * returned as is with its message in ctx. */
static int
call(struct ls_api *a, const struct ls_api_request *req, enum ls_api_kind want,
     struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	uint8_t *buf = NULL;
	size_t len;
	zmq_msg_t msg;
	int rc, more = 0;
	size_t more_len = sizeof(more);

	ls_api_response_init(resp);
	if (a == NULL)
		return ls_err_set(ctx, LS_ERR_INVALID, "no connection");
	if ((rc = ls_api_request_encode(req, &buf, &len, ctx)) != 0)
		return rc;
	(void)dropped(a); /* events of connections before this request */
	if (zmq_send(a->sock, buf, len, 0) != (int)len) {
		int e = zmq_errno();
		free(buf);
		if (e == EAGAIN)
			return ls_err_set(
			    ctx, LS_ERR_NET,
			    "cannot reach lodestoned at '%s' (no connection after %d ms)",
			    a->endpoint, a->timeout_ms);
		return ls_err_set(ctx, LS_ERR_NET, "send to '%s': %s", a->endpoint,
				  zmq_strerror(e));
	}
	free(buf);
	zmq_msg_init(&msg);
	rc = await_answer(a, &msg, ctx);
	if (a->progress != NULL)
		a->progress(a->progress_arg, -1); /* done waiting */
	if (rc != 0) {
		zmq_msg_close(&msg);
		return rc;
	}
	if (zmq_getsockopt(a->sock, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
		/* Not our protocol: drop the rest of the message. */
		while (more && zmq_msg_recv(&msg, a->sock, 0) != -1)
			if (zmq_getsockopt(a->sock, ZMQ_RCVMORE, &more, &more_len) != 0)
				break;
		zmq_msg_close(&msg);
		return ls_err_set(ctx, LS_ERR_MALFORMED, "answer of '%s' has several frames",
				  a->endpoint);
	}
	rc = ls_api_response_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), resp, ctx);
	zmq_msg_close(&msg);
	if (rc != 0)
		return rc;
	if (resp->error != 0) {
		rc = resp->error;
		ls_err_set(ctx, rc, "%s", resp->message);
		ls_api_response_release(resp);
		return rc;
	}
	if (resp->kind != want) {
		ls_api_response_release(resp);
		return ls_err_set(ctx, LS_ERR_MALFORMED, "answer to %s is a %s result",
				  ls_api_kind_name(want), ls_api_kind_name(resp->kind));
	}
	return 0;
}

int
ls_api_submit(struct ls_api *a, const uint8_t *const *envs, const size_t *lens, size_t n,
	      struct ls_ingest_result *results, struct ls_err_ctx *ctx)
{
	return ls_api_submit_with(a, 0, envs, lens, n, results, ctx);
}

int
ls_api_submit_with(struct ls_api *a, unsigned flags, const uint8_t *const *envs, const size_t *lens,
		   size_t n, struct ls_ingest_result *results, struct ls_err_ctx *ctx)
{
	const uint8_t **senv = NULL;
	size_t *slen = NULL, *sidx = NULL;
	size_t i = 0;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((senv = calloc(LS_API_SUBMIT_MAX, sizeof(*senv))) == NULL ||
	    (slen = calloc(LS_API_SUBMIT_MAX, sizeof(*slen))) == NULL ||
	    (sidx = calloc(LS_API_SUBMIT_MAX, sizeof(*sidx))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	while (i < n) {
		struct ls_api_request req = {.kind = LS_API_SUBMIT};
		struct ls_api_response resp;
		size_t k = 0;

		for (; i < n && k < LS_API_SUBMIT_MAX; i++) {
			if (lens[i] == 0 || lens[i] > LS_ENVELOPE_MAX) {
				memset(&results[i], 0, sizeof(results[i]));
				results[i].status = LS_INGEST_REJECTED;
				results[i].reason = lens[i] ? LS_R_TOO_BIG : LS_R_MALFORMED;
				snprintf(results[i].message, sizeof(results[i].message),
					 "envelope of %zu bytes: 1..%d allowed", lens[i],
					 LS_ENVELOPE_MAX);
				continue;
			}
			senv[k] = envs[i];
			slen[k] = lens[i];
			sidx[k++] = i;
		}
		if (k == 0)
			continue;
		req.submit.n = k;
		req.submit.envs = senv;
		req.submit.lens = slen;
		req.submit.record_violation = (flags & LS_API_RECORD_VIOLATION) != 0;
		if ((rc = call(a, &req, LS_API_SUBMIT, &resp, ctx)) != 0)
			goto out;
		if (resp.submit.n != k) {
			ls_api_response_release(&resp);
			rc = ls_err_set(ctx, LS_ERR_MALFORMED,
					"daemon answered %zu outcomes for %zu envelopes",
					resp.submit.n, k);
			goto out;
		}
		for (size_t j = 0; j < k; j++)
			results[sidx[j]] = resp.submit.results[j];
		ls_api_response_release(&resp);
	}
out:
	free(senv);
	free(slen);
	free(sidx);
	return rc;
}

int
ls_api_head(struct ls_api *a, const uint8_t author[LS_KEY_LEN], struct ls_api_head *head,
	    struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_HEAD};
	struct ls_api_response resp;
	int rc;

	memcpy(req.head.author, author, LS_KEY_LEN);
	if ((rc = call(a, &req, LS_API_HEAD, &resp, ctx)) != 0)
		return rc;
	*head = resp.head;
	return 0;
}

int
ls_api_get(struct ls_api *a, const uint8_t id[LS_ID_LEN], uint8_t **env, size_t *len,
	   struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_GET};
	struct ls_api_response resp;
	int rc;

	memcpy(req.get.id, id, LS_ID_LEN);
	if ((rc = call(a, &req, LS_API_GET, &resp, ctx)) != 0)
		return rc;
	*env = resp.get.env;
	*len = resp.get.len;
	return 0;
}

int
ls_api_resolve(struct ls_api *a, enum ls_resolve_kind kind, const char *name, uint8_t id[LS_ID_LEN],
	       struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_RESOLVE};
	struct ls_api_response resp;
	int rc;

	req.resolve.kind = kind;
	req.resolve.name = name;
	if ((rc = call(a, &req, LS_API_RESOLVE, &resp, ctx)) != 0)
		return rc;
	memcpy(id, resp.resolve.id, LS_ID_LEN);
	return 0;
}

int
ls_api_cert_of(struct ls_api *a, const uint8_t key[LS_KEY_LEN], uint64_t t, uint8_t cert[LS_ID_LEN],
	       struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_CERT_OF};
	struct ls_api_response resp;
	int rc;

	memcpy(req.cert_of.key, key, LS_KEY_LEN);
	req.cert_of.time = t;
	if ((rc = call(a, &req, LS_API_CERT_OF, &resp, ctx)) != 0)
		return rc;
	memcpy(cert, resp.cert_of.cert, LS_ID_LEN);
	return 0;
}

int
ls_api_verify(struct ls_api *a, const struct ls_export_query *q, struct ls_verdict *v,
	      struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_VERIFY};
	struct ls_api_response resp;
	int rc;

	req.verify = *q;
	if ((rc = call(a, &req, LS_API_VERIFY, &resp, ctx)) != 0)
		return rc;
	*v = resp.verify;
	return 0;
}

int
ls_api_origin(struct ls_api *a, const uint8_t lot[LS_ID_LEN], struct ls_origin *o,
	      struct ls_err_ctx *ctx)
{
	return ls_api_origin_of(a, lot, NULL, o, ctx);
}

int
ls_api_origin_of(struct ls_api *a, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
		 struct ls_origin *o, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_ORIGIN};
	struct ls_api_response resp;
	int rc;

	memcpy(req.origin.lot, lot, LS_ID_LEN);
	if (holder != NULL) {
		req.origin.has_from = true;
		memcpy(req.origin.from, holder, LS_KEY_LEN);
	}
	if ((rc = call(a, &req, LS_API_ORIGIN, &resp, ctx)) != 0)
		return rc;
	*o = resp.origin;
	return 0;
}

int
ls_api_origin_stages(struct ls_api *a, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
		     struct ls_origin *o, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_ORIGIN};
	struct ls_api_response resp;
	int rc;

	memcpy(req.origin.lot, lot, LS_ID_LEN);
	req.origin.stages = true;
	if (holder != NULL) {
		req.origin.has_from = true;
		memcpy(req.origin.from, holder, LS_KEY_LEN);
	}
	if ((rc = call(a, &req, LS_API_ORIGIN, &resp, ctx)) != 0)
		return rc;
	*o = resp.origin;
	return 0;
}

int
ls_api_stream(struct ls_api *a, const struct ls_api_request *req,
	      int (*fn)(void *arg, const struct ls_api_response *chunk), void *arg,
	      struct ls_err_ctx *ctx)
{
	struct ls_api_request first = *req, next = {.kind = LS_API_NEXT};
	struct ls_api_response resp;
	uint64_t seq = 0;
	int rc;

	first.stream = true;
	if ((rc = call(a, &first, req->kind, &resp, ctx)) != 0)
		return rc;
	for (;;) {
		bool last =
		    !resp.stream.on || resp.stream.done; /* !on: a daemon that sends it whole */
		if (resp.stream.on && resp.stream.seq != seq)
			rc = ls_err_set(
			    ctx, LS_ERR_MALFORMED, "stream chunk %llu came as chunk %llu",
			    (unsigned long long)seq, (unsigned long long)resp.stream.seq);
		else
			rc = fn(arg, &resp);
		memcpy(next.next.token, resp.stream.token, LS_API_TOKEN_LEN);
		ls_api_response_release(&resp);
		if (rc != 0 && !last) {
			/* Else the daemon keeps the stream until it expires. */
			struct ls_api_response r;
			next.next.cancel = true;
			if (call(a, &next, req->kind, &r, NULL) == 0)
				ls_api_response_release(&r);
		}
		if (rc != 0 || last)
			return rc;
		seq++;
		if ((rc = call(a, &next, req->kind, &resp, ctx)) != 0)
			return rc;
	}
}

int
ls_api_stream_first(struct ls_api *a, const struct ls_api_request *req,
		    struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	struct ls_api_request first = *req;

	first.stream = true;
	return call(a, &first, req->kind, resp, ctx);
}

int
ls_api_stream_next(struct ls_api *a, enum ls_api_kind kind, const uint8_t token[LS_API_TOKEN_LEN],
		   bool cancel, struct ls_api_response *resp, struct ls_err_ctx *ctx)
{
	struct ls_api_request next = {.kind = LS_API_NEXT};

	memcpy(next.next.token, token, LS_API_TOKEN_LEN);
	next.next.cancel = cancel;
	return call(a, &next, kind, resp, ctx);
}

/* Appends n items of size sz at src to *v (of *nv). */
static int
append(void *vp, size_t *nv, const void *src, size_t n, size_t sz)
{
	void **v = vp;
	void *nn;

	if (n == 0)
		return 0;
	if ((nn = realloc(*v, (*nv + n) * sz)) == NULL)
		return LS_ERR_NOMEM;
	memcpy((uint8_t *)nn + *nv * sz, src, n * sz);
	*v = nn;
	*nv += n;
	return 0;
}

static int
trace_gather(void *arg, const struct ls_api_response *c)
{
	struct ls_trace *t = arg;
	int rc;

	if ((rc = append(&t->nodes, &t->n_nodes, c->trace.nodes, c->trace.n_nodes,
			 sizeof(*t->nodes))) != 0 ||
	    (rc = append(&t->edges, &t->n_edges, c->trace.edges, c->trace.n_edges,
			 sizeof(*t->edges))) != 0 ||
	    (rc = append(&t->transfers, &t->n_transfers, c->trace.transfers, c->trace.n_transfers,
			 sizeof(*t->transfers))) != 0)
		return rc;
	return 0;
}

int
ls_api_trace(struct ls_api *a, const uint8_t lot[LS_ID_LEN], bool down, struct ls_trace *t,
	     struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_TRACE};
	struct ls_trace got = {0};
	int rc;

	memcpy(req.trace.lot, lot, LS_ID_LEN);
	req.trace.down = down;
	if ((rc = ls_api_stream(a, &req, trace_gather, &got, ctx)) != 0) {
		ls_trace_release(&got);
		return rc;
	}
	*t = got;
	return 0;
}

int
ls_api_holdings(struct ls_api *a, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
		uint32_t limit, struct ls_holdings *h, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_HOLDINGS};
	struct ls_api_response resp;
	int rc;

	memcpy(req.holdings.holder, holder, LS_KEY_LEN);
	req.holdings.limit = limit;
	if (after != NULL) {
		req.holdings.has_after = true;
		memcpy(req.holdings.after, after, LS_ID_LEN);
	}
	if ((rc = call(a, &req, LS_API_HOLDINGS, &resp, ctx)) != 0)
		return rc;
	*h = resp.holdings;
	return 0;
}

int
ls_api_log(struct ls_api *a, const struct ls_log_filter *f, struct ls_api_log_page *page,
	   struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_LOG};
	struct ls_api_response resp;
	int rc;

	req.log = *f;
	if ((rc = call(a, &req, LS_API_LOG, &resp, ctx)) != 0)
		return rc;
	*page = resp.log;
	return 0;
}

int
ls_api_status(struct ls_api *a, struct ls_api_status *st, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_STATUS};
	struct ls_api_response resp;
	int rc;

	if ((rc = call(a, &req, LS_API_STATUS, &resp, ctx)) != 0)
		return rc;
	*st = resp.status;
	return 0;
}

struct bundle_sink {
	int (*write)(void *arg, const uint8_t *buf, size_t len);
	void *arg;
	uint64_t total, got;
};

static int
bundle_chunk(void *arg, const struct ls_api_response *c)
{
	struct bundle_sink *b = arg;

	if (c->stream.on && c->stream.seq == 0)
		b->total = c->stream.total;
	if (c->bundle.len > UINT64_MAX - b->got ||
	    (b->total != 0 && b->got + c->bundle.len > b->total))
		return LS_ERR_MALFORMED; /* more than the first chunk announced */
	b->got += c->bundle.len;
	return c->bundle.len ? b->write(b->arg, c->bundle.bytes, c->bundle.len) : 0;
}

int
ls_api_bundle_stream(struct ls_api *a, const uint8_t lot[LS_ID_LEN],
		     int (*write)(void *arg, const uint8_t *buf, size_t len), void *arg,
		     uint64_t *total, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_BUNDLE};
	struct bundle_sink b = {write, arg, 0, 0};
	int rc;

	memcpy(req.bundle.lot, lot, LS_ID_LEN);
	if ((rc = ls_api_stream(a, &req, bundle_chunk, &b, ctx)) != 0) {
		if (rc == LS_ERR_MALFORMED && ctx != NULL && ctx->msg[0] == '\0')
			ls_err_set(ctx, rc, "the bundle's chunks are more than its %llu bytes",
				   (unsigned long long)b.total);
		return rc;
	}
	if (b.total != 0 && b.got != b.total)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "the bundle came as %llu bytes, %llu were announced",
				  (unsigned long long)b.got, (unsigned long long)b.total);
	*total = b.got;
	return 0;
}

struct membuf {
	uint8_t *p;
	size_t n, cap;
};

static int
mem_write(void *arg, const uint8_t *buf, size_t len)
{
	struct membuf *m = arg;

	if (len > SIZE_MAX - m->n)
		return LS_ERR_NOMEM;
	if (m->n + len > m->cap) {
		size_t nc = m->cap ? m->cap : 65536;
		uint8_t *np;
		while (nc < m->n + len)
			nc = nc > SIZE_MAX / 2 ? m->n + len : nc * 2;
		if ((np = realloc(m->p, nc)) == NULL)
			return LS_ERR_NOMEM;
		m->p = np;
		m->cap = nc;
	}
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	return 0;
}

int
ls_api_bundle(struct ls_api *a, const uint8_t lot[LS_ID_LEN], uint8_t **bundle, size_t *len,
	      struct ls_err_ctx *ctx)
{
	struct membuf m = {0};
	uint64_t total;
	int rc;

	if ((rc = ls_api_bundle_stream(a, lot, mem_write, &m, &total, ctx)) != 0) {
		free(m.p);
		return rc;
	}
	*bundle = m.p ? m.p : malloc(1);
	*len = m.n;
	return *bundle ? 0 : LS_ERR_NOMEM;
}

int
ls_api_checkpoint(struct ls_api *a, uint64_t *size, char **note, size_t *len,
		  struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_CHECKPOINT};
	struct ls_api_response resp;
	int rc;

	if ((rc = call(a, &req, LS_API_CHECKPOINT, &resp, ctx)) != 0)
		return rc;
	*size = resp.checkpoint.size;
	*note = resp.checkpoint.note;
	*len = resp.checkpoint.len;
	return 0;
}

int
ls_api_prove(struct ls_api *a, const uint8_t *id, const char *prefix, uint8_t id_out[LS_ID_LEN],
	     uint64_t *index, uint64_t *size, char **proof, size_t *len, struct ls_err_ctx *ctx)
{
	struct ls_api_request req = {.kind = LS_API_PROVE};
	struct ls_api_response resp;
	int rc;

	if ((id == NULL) == (prefix == NULL))
		return ls_err_set(ctx, LS_ERR_INVALID, "prove: give an id or a prefix");
	if (id != NULL)
		memcpy(req.prove.id, id, LS_ID_LEN);
	req.prove.prefix = prefix;
	if ((rc = call(a, &req, LS_API_PROVE, &resp, ctx)) != 0)
		return rc;
	memcpy(id_out, resp.prove.id, LS_ID_LEN);
	*index = resp.prove.index;
	*size = resp.prove.size;
	*proof = resp.prove.proof;
	*len = resp.prove.len;
	return 0;
}
