/*
 * test_stream.c - replies in chunks. In the library: a bundle plan emitted
 * in chunks of any size is byte for byte ls_bundle_collect(_log)'s bundle,
 * which is what the protobuf-c encoder makes of its parts, and a plan keeps
 * the bundle of its moment while records and checkpoints arrive. Through a
 * live lodestoned with small chunks and limits: a bundle, a trace and a log
 * bigger than many chunks stream and equal what the store gives in-process
 * and what an old (unstreamed) request gets; tokens that are unknown,
 * finished, expired, cancelled or another connection's are refused with a
 * message saying which; the per-connection and total limits hold; a client
 * that stops pulling leaves the daemon's stream state as it was until the
 * idle expiry frees it.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "helper_fixture.h"
#include "helper_logworld.h"
#include "keyfile.h"
#include "logproof.h"
#include "record.h"
#include "util.h"
#include "verify.h"

/* ---- the library: plan and emission ---- */

/* The plan of lot (log_vkey NULL: no log) emitted in chunks of cap bytes;
 * *out malloc'd, *chunks how many. Every chunk but the last is cap bytes. */
static void
plan_emit_all(struct ls_store *s, const uint8_t lot[32], const char *log_vkey, size_t cap,
	      struct ls_bundle_plan *given, uint8_t **out, size_t *len, size_t *chunks)
{
	struct ls_bundle_plan *p = given;
	uint8_t *buf = malloc(cap), *all = NULL;
	size_t n = 0, got;
	bool done = false;

	assert_non_null(buf);
	if (p == NULL)
		assert_int_equal(ls_bundle_plan_new(s, lot, log_vkey, 0, &p), 0);
	*chunks = 0;
	while (!done) {
		assert_int_equal(ls_bundle_plan_emit(p, s, buf, cap, &got, &done), 0);
		if (!done)
			assert_int_equal(got, cap);
		assert_non_null(all = realloc(all, n + got + 1));
		memcpy(all + n, buf, got);
		n += got;
		(*chunks)++;
	}
	assert_int_equal(n, ls_bundle_plan_size(p));
	/* After the end: nothing more, still done. */
	assert_int_equal(ls_bundle_plan_emit(p, s, buf, cap, &got, &done), 0);
	assert_int_equal(got, 0);
	assert_true(done);
	ls_bundle_plan_free(&p);
	assert_null(p);
	free(buf);
	*out = all;
	*len = n;
}

/* The chain's records in a later checkpoint, so that the first one dates
 * them: the log proof then has dating checkpoints and their inclusions. */
static void
later_checkpoint(struct lw *l)
{
	struct world *w = l->w;
	struct fx_env e;
	struct fx_policy_spec ps = {
	    .name = "CN 2026", .effective_from = FX_T0 + 20 * FX_DAY, .elements = "Dy"};

	w->cn_auth->ts = FX_T0 + 7 * FX_DAY;
	e = fx_policy(w->cn_auth, &ps);
	STORED(w, e);
	fx_env_release(&e);
	assert_true(checkpoint(l, N_WIT, FX_T0 + 7 * FX_DAY + 60, true) > l->s1);
}

static void
test_stream_plan_equals_collect(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	static const size_t caps[] = {1, 3, 64, 1000, 65536, 1 << 22};
	uint8_t *whole = NULL, *plain = NULL, *got = NULL;
	size_t len = 0, plain_len = 0, got_len, chunks;
	struct parts p;

	later_checkpoint(l);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &whole, &len), 0);
	assert_int_equal(ls_bundle_collect(w->s, w->magnets, &plain, &plain_len), 0);
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		plan_emit_all(w->s, w->magnets, l->log_text, caps[i], NULL, &got, &got_len,
			      &chunks);
		assert_int_equal(got_len, len);
		assert_memory_equal(got, whole, len);
		assert_int_equal(chunks, (len + caps[i] - 1) / caps[i]);
		free(got);
		plan_emit_all(w->s, w->magnets, NULL, caps[i], NULL, &got, &got_len, &chunks);
		assert_int_equal(got_len, plain_len);
		assert_memory_equal(got, plain, plain_len);
		free(got);
	}
	/* What the protobuf-c encoder makes of the bundle's parts is the same
	 * bytes: the pieces are written as the whole message would be. */
	parts_of(memcpy(malloc(len), whole, len), len, &p);
	assert_int_equal(p.lp.n_dating, 1); /* the dating path is exercised */
	assert_true(p.lp.n_heads > 0);
	reencode(&p, -1, w->magnets, &got, &got_len);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, whole, len);
	free(got);
	parts_release(&p);
	free(whole);
	free(plain);
}

/* A plan made before more records and a newer checkpoint emits the bundle
 * of its moment. */
static void
test_stream_plan_pins_its_moment(void **state)
{
	struct lw *l = *state;
	struct world *w = l->w;
	struct ls_bundle_plan *plan = NULL;
	uint8_t *before = NULL, *after = NULL, *got = NULL;
	size_t lb = 0, la = 0, lg = 0, chunks;
	struct fx_env e;

	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &before, &lb), 0);
	assert_int_equal(ls_bundle_plan_new(w->s, w->magnets, l->log_text, 0, &plan), 0);
	assert_true(ls_bundle_plan_mem(plan) < SIZE_MAX);
	/* Meanwhile: the maker ships magnets and a newer checkpoint is signed. */
	w->maker->ts = FX_T0 + 8 * FX_DAY;
	e = fx_transfer(w->maker, w->magnets, 10, w->de_imp, NULL, "civilian");
	assert_non_null(e.buf);
	STORED(w, e);
	fx_env_release(&e);
	checkpoint(l, N_WIT, FX_T0 + 8 * FX_DAY + 60, true);
	assert_int_equal(ls_bundle_collect_log(w->s, w->magnets, l->log_text, 0, &after, &la), 0);
	assert_false(la == lb && memcmp(after, before, lb) == 0);
	plan_emit_all(w->s, w->magnets, l->log_text, 97, plan, &got, &lg, &chunks);
	assert_int_equal(lg, lb);
	assert_memory_equal(got, before, lb);
	free(before);
	free(after);
	free(got);
}

/* An unknown lot has no plan. */
static void
test_stream_plan_unknown_lot(void **state)
{
	struct lw *l = *state;
	struct ls_bundle_plan *plan = NULL;
	uint8_t nothing[32] = {1, 2, 3};

	assert_int_equal(ls_bundle_plan_new(l->w->s, nothing, l->log_text, 0, &plan),
			 LS_ERR_NOT_FOUND);
	assert_null(plan);
	ls_bundle_plan_free(&plan); /* NULL-safe */
}

/* ---- the codec ---- */

static void
test_stream_codec(void **state)
{
	struct ls_api_request req = {.kind = LS_API_NEXT}, back;
	struct ls_api_response resp, got;
	struct ls_err_ctx ctx = {{0}};
	uint8_t *buf = NULL, one = 'x';
	size_t len = 0;
	/* Request{version 1, next{token: 5 bytes}} */
	static const uint8_t short_token[] = {0x08, 0x01, 0xc2, 0x01, 0x07, 0x0a,
					      0x05, 1,    2,    3,    4,    5};
	/* Response{version 1, bundle{bundle "x", stream{done false}}}: no token */
	static const uint8_t no_token[] = {0x08, 0x01, 0xa2, 0x01, 0x07, 0x0a,
					   0x01, 'x',  0x12, 0x02, 0x10, 0x00};

	(void)state;
	randombytes_buf(req.next.token, sizeof(req.next.token));
	req.next.cancel = true;
	assert_int_equal(ls_api_request_encode(&req, &buf, &len, &ctx), 0);
	assert_int_equal(ls_api_request_decode(buf, len, &back, &ctx), 0);
	assert_int_equal(back.kind, LS_API_NEXT);
	assert_memory_equal(back.next.token, req.next.token, LS_API_TOKEN_LEN);
	assert_true(back.next.cancel);
	ls_api_request_release(&back);
	free(buf);
	/* The stream flag of each streamed kind travels. */
	for (int k = 0; k < 3; k++) {
		struct ls_api_request r = {.kind = k == 0   ? LS_API_BUNDLE
						   : k == 1 ? LS_API_TRACE
							    : LS_API_LOG};
		r.stream = true;
		assert_int_equal(ls_api_request_encode(&r, &buf, &len, &ctx), 0);
		assert_int_equal(ls_api_request_decode(buf, len, &back, &ctx), 0);
		assert_true(back.stream);
		ls_api_request_release(&back);
		free(buf);
	}
	assert_int_equal(ls_api_request_decode(short_token, sizeof(short_token), &back, &ctx),
			 LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "next token is 5 bytes"));

	/* A chunk's stream fields round-trip; the last one needs no token and
	 * may be empty. */
	ls_api_response_init(&resp);
	resp.kind = LS_API_BUNDLE;
	resp.bundle.bytes = &one;
	resp.bundle.len = 1;
	resp.stream.on = true;
	resp.stream.total = 12345;
	resp.stream.seq = 0;
	randombytes_buf(resp.stream.token, sizeof(resp.stream.token));
	assert_int_equal(ls_api_response_encode(&resp, &buf, &len, &ctx), 0);
	assert_int_equal(ls_api_response_decode(buf, len, &got, &ctx), 0);
	assert_true(got.stream.on);
	assert_false(got.stream.done);
	assert_int_equal(got.stream.total, 12345);
	assert_memory_equal(got.stream.token, resp.stream.token, LS_API_TOKEN_LEN);
	ls_api_response_release(&got);
	free(buf);
	resp.bundle.len = 0;
	resp.stream.done = true;
	resp.stream.seq = 7;
	assert_int_equal(ls_api_response_encode(&resp, &buf, &len, &ctx), 0);
	assert_int_equal(ls_api_response_decode(buf, len, &got, &ctx), 0);
	assert_true(got.stream.done);
	assert_int_equal(got.stream.seq, 7);
	assert_int_equal(got.bundle.len, 0);
	ls_api_response_release(&got);
	free(buf);
	/* A result that is not streamed carries no stream. */
	ls_api_response_init(&resp);
	resp.kind = LS_API_HEAD;
	resp.stream.on = true;
	assert_int_equal(ls_api_response_encode(&resp, &buf, &len, &ctx), LS_ERR_INVALID);
	assert_int_equal(ls_api_response_decode(no_token, sizeof(no_token), &got, &ctx),
			 LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "no token"));
}

/* ---- a live daemon ---- */

#define CHUNK    256
#define PER_PEER 2
#define TOTAL    3
#define CHAIN    600
/* The daemon's stream idle time (s), and how long a test leaves a stream
 * alone to see it expire, both times fx_time_scale(). The idle time is long
 * enough that a client pulling without pause on a loaded machine (or under
 * memcheck) is not taken for one that stopped: its clock starts when a chunk
 * is sent. */
#define IDLE_S      3
#define IDLE_WAIT_S (5 * fx_time_scale())

struct live {
	char bin[PATH_MAX];
	char *top, *dir;
	char pub[PATH_MAX];
	char endpoint[PATH_MAX + 16];
	pid_t pid;
	struct fx_actor *auth, *proc;
	uint8_t lot[32]; /* the chain's last lot */
	size_t n_records;
};

static void
stop(struct live *lv)
{
	if (lv->pid > 0) {
		kill(lv->pid, SIGTERM);
		waitpid(lv->pid, NULL, 0);
		lv->pid = -1;
	}
}

/* A certified processor's lot and a chain of CHAIN transformations, each
 * consuming the last: a bundle and a trace of many chunks. */
static int
live_setup(void **state)
{
	struct live *lv = calloc(1, sizeof(*lv));
	struct fx_env *e;
	const uint8_t **envs;
	size_t *lens;
	struct ls_ingest_result *res;
	struct ls_api *a = NULL;
	char chunk[16], per[16], total[16], idle[16];
	int rc = -1;

	if (lv == NULL)
		return -1;
	*state = lv;
	lv->pid = -1;
	if (!fx_program("lodestoned", lv->bin, sizeof(lv->bin)))
		return 0; /* the tests skip */
	if ((lv->top = fx_tmpdir()) == NULL || (lv->auth = fx_actor_new("CN")) == NULL ||
	    (lv->proc = fx_actor_new("CN")) == NULL)
		return -1;
	lv->dir = malloc(strlen(lv->top) + 6);
	sprintf(lv->dir, "%s/data", lv->top);
	snprintf(lv->pub, sizeof(lv->pub), "%s/authority.pub", lv->top);
	snprintf(lv->endpoint, sizeof(lv->endpoint), "ipc://%s/api.sock", lv->dir);
	if (ls_pubkey_save(lv->pub, lv->auth->kp->pk, NULL) != 0)
		return -1;
	snprintf(chunk, sizeof(chunk), "%d", CHUNK);
	snprintf(per, sizeof(per), "%d", PER_PEER);
	snprintf(total, sizeof(total), "%d", TOTAL);
	snprintf(idle, sizeof(idle), "%u", IDLE_S * fx_time_scale());
	fflush(NULL);
	if ((lv->pid = fork()) == 0) {
		char log[PATH_MAX];
		snprintf(log, sizeof(log), "%s/daemon.log", lv->top);
		if (freopen(log, "a", stderr) == NULL)
			_exit(127);
		execl(lv->bin, "lodestoned", "--data-dir", lv->dir, "--trust", lv->pub,
		      "--log-level", "warn", "--stream-chunk", chunk, "--streams-per-client", per,
		      "--streams-max", total, "--stream-idle", idle, (char *)NULL);
		_exit(127);
	}
	if (lv->pid < 0 || !fx_daemon_ready(lv->endpoint))
		return -1;
	lv->n_records = CHAIN + 2;
	e = calloc(lv->n_records, sizeof(*e));
	envs = calloc(lv->n_records, sizeof(*envs));
	lens = calloc(lv->n_records, sizeof(*lens));
	res = calloc(lv->n_records, sizeof(*res));
	if (e == NULL || envs == NULL || lens == NULL || res == NULL)
		goto out;
	e[0] = fx_cert(lv->auth, lv->proc, "Chain Works", NULL, LS_ROLE_MINER | LS_ROLE_PROCESSOR,
		       0, 0);
	e[1] = fx_lot(lv->proc, "ore", "Bayan Obo", NULL, "ore", 1000000, "Nd=300000");
	memcpy(lv->lot, e[1].id, 32);
	for (size_t i = 0; i < CHAIN; i++) {
		struct ls_lot_input in = {.grams = 1000000};
		char out[64];
		const char *outs[1] = {out};
		snprintf(out, sizeof(out), "step-%zu:alloy:1000000:Nd=300000", i);
		memcpy(in.lot, lv->lot, 32);
		e[2 + i] = fx_transform(lv->proc, &in, 1, outs, 1);
		if (e[2 + i].buf == NULL)
			goto out;
		ls_lot_id(e[2 + i].id, 0, lv->lot);
	}
	for (size_t i = 0; i < lv->n_records; i++) {
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
	}
	if (ls_api_open(lv->endpoint, (int)fx_scaled_ms(10000), &a, NULL) != 0 ||
	    ls_api_submit(a, envs, lens, lv->n_records, res, NULL) != 0)
		goto out;
	for (size_t i = 0; i < lv->n_records; i++)
		if (res[i].status != LS_INGEST_ACCEPTED) {
			fprintf(stderr, "record %zu: %s\n", i, res[i].message);
			goto out;
		}
	rc = 0;
out:
	ls_api_close(&a);
	for (size_t i = 0; e != NULL && i < lv->n_records; i++)
		fx_env_release(&e[i]);
	free(e);
	free(envs);
	free(lens);
	free(res);
	return rc;
}

static int
live_teardown(void **state)
{
	struct live *lv = *state;

	stop(lv);
	if (lv->top != NULL)
		fx_rmtree(lv->top);
	free(lv->top);
	free(lv->dir);
	fx_actor_free(&lv->auth);
	fx_actor_free(&lv->proc);
	free(lv);
	return 0;
}

#define SKIP_WITHOUT_DAEMON(lv)                                                                    \
	do {                                                                                       \
		if ((lv)->bin[0] == '\0') {                                                        \
			fprintf(stderr, "no lodestoned beside this test: skipped\n");              \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static struct ls_api *
connect_to(struct live *lv)
{
	struct ls_api *a = NULL;

	assert_int_equal(ls_api_open(lv->endpoint, (int)fx_scaled_ms(10000), &a, NULL), 0);
	return a;
}

struct gather {
	uint8_t *buf;
	size_t len;
	size_t chunks;
	uint64_t total;
	size_t max_chunk;
	struct ls_trace t;
	size_t n_log;
	uint64_t last_pos;
	bool ordered;
};

static int
gather_fn(void *arg, const struct ls_api_response *c)
{
	struct gather *g = arg;

	assert_true(c->stream.on);
	assert_int_equal(c->stream.seq, g->chunks);
	g->chunks++;
	if (c->kind == LS_API_BUNDLE) {
		if (c->stream.seq == 0)
			g->total = c->stream.total;
		if (c->bundle.len > g->max_chunk)
			g->max_chunk = c->bundle.len;
		assert_non_null(g->buf = realloc(g->buf, g->len + c->bundle.len + 1));
		memcpy(g->buf + g->len, c->bundle.bytes, c->bundle.len);
		g->len += c->bundle.len;
	} else if (c->kind == LS_API_TRACE) {
		struct ls_trace *t = &g->t;
		/* Every node before any edge: a client prints the lists as
		 * they come. */
		assert_false(c->trace.n_nodes != 0 && t->n_edges != 0);
		assert_non_null(t->nodes = realloc(t->nodes, (t->n_nodes + c->trace.n_nodes + 1) *
								 sizeof(*t->nodes)));
		if (c->trace.n_nodes != 0)
			memcpy(t->nodes + t->n_nodes, c->trace.nodes,
			       c->trace.n_nodes * sizeof(*t->nodes));
		t->n_nodes += c->trace.n_nodes;
		assert_non_null(t->edges = realloc(t->edges, (t->n_edges + c->trace.n_edges + 1) *
								 sizeof(*t->edges)));
		if (c->trace.n_edges != 0)
			memcpy(t->edges + t->n_edges, c->trace.edges,
			       c->trace.n_edges * sizeof(*t->edges));
		t->n_edges += c->trace.n_edges;
	} else if (c->kind == LS_API_LOG) {
		for (size_t i = 0; i < c->log.n; i++) {
			if (c->log.entries[i].pos <= g->last_pos)
				g->ordered = false;
			g->last_pos = c->log.entries[i].pos;
		}
		g->n_log += c->log.n;
	}
	return 0;
}

/* The old request (no stream flag), on a raw REQ socket: the whole reply in
 * one message, as a client from before streams gets it. */
static void
old_bundle(struct live *lv, uint8_t **out, size_t *len)
{
	struct ls_api_request req = {.kind = LS_API_BUNDLE};
	struct ls_api_response resp;
	void *zctx = zmq_ctx_new(), *sock = zmq_socket(zctx, ZMQ_REQ);
	int linger = 0, timeout = (int)fx_scaled_ms(10000);
	uint8_t *buf = NULL;
	size_t blen = 0;
	zmq_msg_t m;

	memcpy(req.bundle.lot, lv->lot, 32);
	assert_int_equal(ls_api_request_encode(&req, &buf, &blen, NULL), 0);
	zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(sock, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	assert_int_equal(zmq_connect(sock, lv->endpoint), 0);
	assert_int_equal(zmq_send(sock, buf, blen, 0), (int)blen);
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, sock, 0) >= 0);
	assert_int_equal(ls_api_response_decode(zmq_msg_data(&m), zmq_msg_size(&m), &resp, NULL),
			 0);
	assert_int_equal(resp.error, 0);
	assert_int_equal(resp.kind, LS_API_BUNDLE);
	assert_false(resp.stream.on);
	*out = resp.bundle.bytes;
	*len = resp.bundle.len;
	resp.kind = LS_API_NONE; /* moved out */
	zmq_msg_close(&m);
	zmq_close(sock);
	zmq_ctx_term(zctx);
	free(buf);
}

static void
wait_bundle(struct ls_api *a, const uint8_t lot[32], struct gather *g)
{
	struct ls_api_request req = {.kind = LS_API_BUNDLE};
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memcpy(req.bundle.lot, lot, 32);
	/* The daemon signs its first checkpoint within a second. */
	for (unsigned i = 0; (rc = ls_api_stream(a, &req, gather_fn, g, &ctx)) == LS_ERR_BUSY &&
			     i < 50 * fx_time_scale();
	     i++)
		usleep(100000);
	if (rc != 0)
		fail_msg("bundle stream: %s", ls_err_msg(&ctx, rc));
}

/* The first chunk of a bundle stream on a: its token. */
static void
open_stream(struct ls_api *a, const uint8_t lot[32], uint8_t token[LS_API_TOKEN_LEN])
{
	struct ls_api_request req = {.kind = LS_API_BUNDLE};
	struct ls_api_response resp;
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memcpy(req.bundle.lot, lot, 32);
	for (int i = 0; (rc = ls_api_stream_first(a, &req, &resp, &ctx)) == LS_ERR_BUSY &&
			strstr(ctx.msg, "checkpoint") != NULL && i < 50;
	     i++)
		usleep(100000);
	if (rc != 0)
		fail_msg("stream: %s", ls_err_msg(&ctx, rc));
	assert_true(resp.stream.on);
	assert_false(resp.stream.done);
	memcpy(token, resp.stream.token, LS_API_TOKEN_LEN);
	ls_api_response_release(&resp);
}

static void
test_stream_daemon_bundle_trace_log(void **state)
{
	struct live *lv = *state;
	struct gather g = {0}, tg = {0}, lg = {.ordered = true};
	struct ls_api *a;
	struct ls_api_request req;
	struct ls_api_status st;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store *s = NULL;
	struct ls_trace t;
	uint8_t *old = NULL, *local = NULL;
	size_t old_len = 0, local_len = 0;

	SKIP_WITHOUT_DAEMON(lv);
	a = connect_to(lv);
	wait_bundle(a, lv->lot, &g);
	assert_true(g.len > 100 * CHUNK);
	assert_int_equal(g.chunks, (g.len + CHUNK - 1) / CHUNK);
	assert_int_equal(g.max_chunk, CHUNK);
	assert_int_equal(g.total, g.len);
	/* The same bytes as the whole reply an old client gets, which decode as
	 * a bundle with a log proof of every record. */
	old_bundle(lv, &old, &old_len);
	assert_int_equal(old_len, g.len);
	assert_memory_equal(old, g.buf, g.len);
	{
		const uint8_t **envs = NULL, *lpb;
		size_t *lens = NULL, n = 0, lpl;
		assert_int_equal(ls_bundle_decode(g.buf, g.len, 100000, &envs, &lens, &n, &ctx), 0);
		assert_true(n >= CHAIN + 2);
		assert_int_equal(ls_bundle_log(g.buf, g.len, &lpb, &lpl), 0);
		free(envs);
		free(lens);
	}

	/* The trace: one lot per chunk at this chunk size. */
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_TRACE;
	memcpy(req.trace.lot, lv->lot, 32);
	assert_int_equal(ls_api_stream(a, &req, gather_fn, &tg, &ctx), 0);
	assert_int_equal(tg.t.n_nodes, CHAIN + 1);
	assert_int_equal(tg.t.n_edges, CHAIN);
	assert_true(tg.chunks > CHAIN);
	memset(&t, 0, sizeof(t));
	assert_int_equal(ls_api_trace(a, lv->lot, false, &t, &ctx), 0);
	assert_int_equal(t.n_nodes, CHAIN + 1);
	assert_memory_equal(t.nodes, tg.t.nodes, t.n_nodes * sizeof(*t.nodes));

	/* The log: every record, in store order. */
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_LOG;
	assert_int_equal(ls_api_stream(a, &req, gather_fn, &lg, &ctx), 0);
	assert_int_equal(lg.n_log, lv->n_records);
	assert_true(lg.ordered);
	assert_true(lg.chunks > 10);

	/* Every stream ended with its last chunk. */
	assert_int_equal(ls_api_status(a, &st, &ctx), 0);
	assert_int_equal(st.streams_open, 0);
	assert_int_equal(st.stream_bytes, 0);
	ls_api_status_release(&st);

	/* A stream left open at shutdown is freed with the rest (a sanitizer
	 * build of the daemon would report it in its log). */
	{
		uint8_t tok[LS_API_TOKEN_LEN];
		char path[PATH_MAX], line[512];
		FILE *f;
		open_stream(a, lv->lot, tok);
		stop(lv);
		snprintf(path, sizeof(path), "%s/daemon.log", lv->top);
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL)
				if (strstr(line, "Sanitizer") != NULL)
					fail_msg("daemon: %s", line);
			fclose(f);
		}
	}
	ls_api_close(&a);

	/* In-process, on the daemon's store once it stopped: the same bundle
	 * and the same trace. */
	{
		char vk[LS_VKEY_MAX];
		const uint8_t *lpb;
		size_t lpl;
		struct ls_logproof lp;
		assert_int_equal(ls_bundle_log(g.buf, g.len, &lpb, &lpl), 0);
		assert_int_equal(ls_logproof_decode(lpb, lpl, &lp, NULL), 0);
		snprintf(vk, sizeof(vk), "%s", lp.log_key);
		ls_logproof_release(&lp);
		assert_int_equal(fx_store_open(lv->dir, lv->auth, 0, &s), 0);
		assert_int_equal(ls_bundle_collect_log(s, lv->lot, vk, 0, &local, &local_len), 0);
	}
	assert_int_equal(local_len, g.len);
	assert_memory_equal(local, g.buf, g.len);
	ls_trace_release(&t);
	assert_int_equal(ls_trace(s, lv->lot, false, &t), 0);
	assert_int_equal(t.n_nodes, tg.t.n_nodes);
	assert_memory_equal(t.nodes, tg.t.nodes, t.n_nodes * sizeof(*t.nodes));
	assert_memory_equal(t.edges, tg.t.edges, t.n_edges * sizeof(*t.edges));
	ls_store_close(&s);
	ls_trace_release(&t);
	ls_trace_release(&tg.t);
	free(local);
	free(old);
	free(g.buf);
}

/* next(token) on a fails with rc and a message holding `says`. */
static void
next_fails(struct ls_api *a, const uint8_t token[LS_API_TOKEN_LEN], int rc, const char *says)
{
	struct ls_api_response resp;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_api_stream_next(a, LS_API_BUNDLE, token, false, &resp, &ctx), rc);
	if (strstr(ctx.msg, says) == NULL)
		fail_msg("'%s' does not say '%s'", ctx.msg, says);
}

static void
test_stream_daemon_tokens(void **state)
{
	struct live *lv = *state;
	struct ls_api *a, *b;
	struct ls_api_response resp;
	struct ls_err_ctx ctx = {{0}};
	uint8_t tok[LS_API_TOKEN_LEN], unknown[LS_API_TOKEN_LEN];
	struct gather g = {0};

	SKIP_WITHOUT_DAEMON(lv);
	a = connect_to(lv);
	b = connect_to(lv);
	randombytes_buf(unknown, sizeof(unknown));
	next_fails(a, unknown, LS_ERR_NOT_FOUND, "unknown token");

	/* Another connection's stream is not found from here; its owner goes
	 * on with it. */
	open_stream(a, lv->lot, tok);
	next_fails(b, tok, LS_ERR_NOT_FOUND, "unknown token");
	assert_int_equal(ls_api_stream_next(a, LS_API_BUNDLE, tok, false, &resp, &ctx), 0);
	assert_int_equal(resp.stream.seq, 1);
	assert_memory_equal(resp.stream.token, tok, LS_API_TOKEN_LEN); /* one token a stream */
	ls_api_response_release(&resp);

	/* Cancelled: an empty last chunk, then the token is refused. */
	assert_int_equal(ls_api_stream_next(a, LS_API_BUNDLE, tok, true, &resp, &ctx), 0);
	assert_true(resp.stream.done);
	assert_int_equal(resp.bundle.len, 0);
	ls_api_response_release(&resp);
	next_fails(a, tok, LS_ERR_NOT_FOUND, "cancelled");

	/* Finished: pulled to its last chunk. */
	open_stream(a, lv->lot, tok);
	for (;;) {
		assert_int_equal(ls_api_stream_next(a, LS_API_BUNDLE, tok, false, &resp, &ctx), 0);
		bool done = resp.stream.done;
		ls_api_response_release(&resp);
		if (done)
			break;
	}
	next_fails(a, tok, LS_ERR_NOT_FOUND, "finished");

	/* Expired: not pulled for the idle time; the daemon drops it on its
	 * next tick. */
	open_stream(a, lv->lot, tok);
	sleep(IDLE_WAIT_S);
	next_fails(a, tok, LS_ERR_NOT_FOUND, "expired");
	/* The connection still streams. */
	wait_bundle(a, lv->lot, &g);
	assert_true(g.chunks > 1);
	free(g.buf);
	ls_api_close(&a);
	ls_api_close(&b);
}

static void
test_stream_daemon_limits(void **state)
{
	struct live *lv = *state;
	struct ls_api *a, *b, *c;
	struct ls_api_request req = {.kind = LS_API_BUNDLE};
	struct ls_api_response resp;
	struct ls_err_ctx ctx = {{0}};
	uint8_t t1[LS_API_TOKEN_LEN], t2[LS_API_TOKEN_LEN], t3[LS_API_TOKEN_LEN];

	SKIP_WITHOUT_DAEMON(lv);
	a = connect_to(lv);
	b = connect_to(lv);
	c = connect_to(lv);
	memcpy(req.bundle.lot, lv->lot, 32);
	open_stream(a, lv->lot, t1);
	open_stream(a, lv->lot, t2);
	/* A third on the same connection: over the per-connection limit. */
	assert_int_equal(ls_api_stream_first(a, &req, &resp, &ctx), LS_ERR_BUSY);
	assert_non_null(strstr(ctx.msg, "this connection has 2 streams open"));
	/* Another connection still may, up to the total. */
	open_stream(b, lv->lot, t3);
	assert_int_equal(ls_api_stream_first(c, &req, &resp, &ctx), LS_ERR_BUSY);
	assert_non_null(strstr(ctx.msg, "the daemon has 3 streams open"));
	/* One ends: there is room again. */
	assert_int_equal(ls_api_stream_next(a, LS_API_BUNDLE, t1, true, &resp, &ctx), 0);
	ls_api_response_release(&resp);
	open_stream(c, lv->lot, t1);
	for (const uint8_t *tk[] = {t1, t2, t3}, **p = tk; p < tk + 3; p++) {
		struct ls_api *own = *p == t1 ? c : *p == t2 ? a : b;
		assert_int_equal(ls_api_stream_next(own, LS_API_BUNDLE, *p, true, &resp, &ctx), 0);
		ls_api_response_release(&resp);
	}
	ls_api_close(&a);
	ls_api_close(&b);
	ls_api_close(&c);
}

/* Resident memory of pid in kB. */
static long
rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
test_stream_daemon_stalled_client(void **state)
{
	struct live *lv = *state;
	struct ls_api *a, *watch;
	struct ls_api_status st;
	struct ls_err_ctx ctx = {{0}};
	uint8_t tok[LS_API_TOKEN_LEN];
	uint64_t held;
	long rss0, rss1;
	struct gather g = {0};

	SKIP_WITHOUT_DAEMON(lv);
	a = connect_to(lv);
	watch = connect_to(lv);
	wait_bundle(watch, lv->lot, &g); /* the bundle's size, for scale */
	open_stream(a, lv->lot, tok);
	assert_int_equal(ls_api_status(watch, &st, &ctx), 0);
	assert_int_equal(st.streams_open, 1);
	held = st.stream_bytes;
	ls_api_status_release(&st);
	/* What a stream holds is its plan, not its bundle. */
	assert_true(held > 0);
	assert_true(held < g.len / 2);
	rss0 = rss_kb(lv->pid);
	/* The client stops pulling: nothing is made for it meanwhile. */
	usleep(700000 * fx_time_scale()); /* within the idle time */
	assert_int_equal(ls_api_status(watch, &st, &ctx), 0);
	assert_int_equal(st.streams_open, 1);
	assert_int_equal(st.stream_bytes, held);
	ls_api_status_release(&st);
	rss1 = rss_kb(lv->pid);
	assert_true(rss0 > 0 && rss1 > 0);
	assert_true(rss1 - rss0 < 1024); /* kB: no chunk queued for it */
	/* Then the idle expiry frees it. */
	sleep(IDLE_WAIT_S);
	assert_int_equal(ls_api_status(watch, &st, &ctx), 0);
	assert_int_equal(st.streams_open, 0);
	assert_int_equal(st.stream_bytes, 0);
	ls_api_status_release(&st);
	free(g.buf);
	ls_api_close(&a);
	ls_api_close(&watch);
}

int
main(void)
{
	const struct CMUnitTest lib[] = {
	    cmocka_unit_test_setup_teardown(test_stream_plan_equals_collect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_plan_pins_its_moment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_plan_unknown_lot, setup, teardown),
	    cmocka_unit_test(test_stream_codec),
	};
	/* The daemon tests share one daemon; the bundle test stops it, so it
	 * runs last. */
	const struct CMUnitTest live[] = {
	    cmocka_unit_test(test_stream_daemon_tokens),
	    cmocka_unit_test(test_stream_daemon_limits),
	    cmocka_unit_test(test_stream_daemon_stalled_client),
	    cmocka_unit_test(test_stream_daemon_bundle_trace_log),
	};
	int fails;

	if (sodium_init() < 0)
		return 1;
	fails = cmocka_run_group_tests_name("stream: library", lib, NULL, NULL);
	fails += cmocka_run_group_tests_name("stream: daemon", live, live_setup, live_teardown);
	return fails;
}
