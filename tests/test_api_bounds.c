/*
 * test_api_bounds.c - the API's bounds against a hostile local client, on a
 * live lodestoned built beside this test: 8 connections each pipelining 32
 * requests of 32 MiB while a long query holds the reader pool must leave the
 * daemon's memory (VmHWM from /proc) under a stated bound, the excess is
 * answered busy (LS_ERR_OVERLOADED), and the daemon answers afterwards; and
 * the cap on API connections: one over it is answered busy, the others are
 * served, and a place freed is taken again.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "err.h"
#include "helper_fixture.h"
#include "keyfile.h"
#include "record.h"
#include "util.h"

#define FLOOD_CONNS 8
#define FLOOD_REQS  32
#define FLOOD_ENVS  512 /* envelopes of LS_ENVELOPE_MAX bytes: a request of 32 MiB */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- a live daemon ---- */

struct live {
	char bin[PATH_MAX];
	char *dir;
	char pub[PATH_MAX];
	char endpoint[PATH_MAX + 16];
	char gate[PATH_MAX];
	char log[PATH_MAX];
	pid_t pid;
	struct fx_actor *auth;
};

/* Starts the daemon with --readers 1 (the test hook's gate armed) and the
 * extra options (NULL-terminated, at most 8). */
static pid_t
spawn(struct live *lv, const char *const *extra)
{
	pid_t pid = fork();

	if (pid == 0) {
		const char *argv[32];
		int n = 0;
		if (freopen(lv->log, "a", stderr) == NULL)
			_exit(127);
		setenv("LODESTONED_TEST_HOLD_READS", lv->gate, 1);
		argv[n++] = "lodestoned";
		argv[n++] = "--data-dir";
		argv[n++] = lv->dir;
		argv[n++] = "--trust";
		argv[n++] = lv->pub;
		argv[n++] = "--log-level";
		argv[n++] = "warn";
		argv[n++] = "--readers";
		argv[n++] = "1";
		for (int i = 0; extra != NULL && extra[i] != NULL && i < 8; i++)
			argv[n++] = extra[i];
		argv[n] = NULL;
		execv(lv->bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int
stop(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int
live_setup(void **state)
{
	struct live *lv = calloc(1, sizeof(*lv));
	char *d;

	if (lv == NULL)
		return -1;
	*state = lv;
	if (!fx_program("lodestoned", lv->bin, sizeof(lv->bin)))
		return 0; /* the tests skip */
	if ((lv->dir = fx_tmpdir()) == NULL || (lv->auth = fx_actor_new("CN")) == NULL)
		return -1;
	snprintf(lv->pub, sizeof(lv->pub), "%s/authority.pub", lv->dir);
	snprintf(lv->gate, sizeof(lv->gate), "%s/hold", lv->dir);
	snprintf(lv->log, sizeof(lv->log), "%s/daemon.log", lv->dir);
	snprintf(lv->endpoint, sizeof(lv->endpoint), "ipc://%s/data/api.sock", lv->dir);
	if (ls_pubkey_save(lv->pub, lv->auth->kp->pk, NULL) != 0)
		return -1;
	if ((d = malloc(strlen(lv->dir) + 6)) == NULL)
		return -1;
	sprintf(d, "%s/data", lv->dir); /* the daemon makes its data dir itself */
	free(lv->dir);
	lv->dir = d;
	return 0;
}

static int
live_teardown(void **state)
{
	struct live *lv = *state;

	if (lv->pid > 0)
		stop(lv->pid, SIGKILL);
	unlink(lv->gate);
	if (lv->dir != NULL) {
		char *parent = strdup(lv->dir);
		*strrchr(parent, '/') = '\0';
		fx_rmtree(parent);
		free(parent);
	}
	free(lv->dir);
	fx_actor_free(&lv->auth);
	free(lv);
	return 0;
}

static void
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

/* A field of /proc/PID/status in KiB (VmRSS, VmHWM), or 0. */
static long
proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void *
zsock(void *zctx, int type, const char *endpoint)
{
	void *z = zmq_socket(zctx, type);
	int linger = 0;

	assert_non_null(z);
	zmq_setsockopt(z, ZMQ_LINGER, &linger, sizeof(linger));
	assert_int_equal(zmq_connect(z, endpoint), 0);
	return z;
}

static void
no_free(void *data, void *hint)
{
	(void)data;
	(void)hint;
}

/* Sends the bytes of buf (shared, not copied) on DEALER z as one request;
 * false when it could not go within the socket's send timeout. */
static bool
send_shared(void *z, const uint8_t *buf, size_t len)
{
	zmq_msg_t m;

	if (zmq_send(z, "", 0, ZMQ_SNDMORE) != 0)
		return false;
	zmq_msg_init_data(&m, (void *)buf, len, no_free, NULL);
	if (zmq_msg_send(&m, z, 0) != (int)len) {
		zmq_msg_close(&m);
		return false;
	}
	return true;
}

/* The error code of the next answer on DEALER z within ms (scaled); 1: none
 * came. */
static int
recv_error(void *z, int ms, char *msg, size_t cap)
{
	zmq_pollitem_t it = {z, 0, ZMQ_POLLIN, 0};
	struct ls_api_response resp;
	zmq_msg_t m;
	int err;

	if (zmq_poll(&it, 1, (long)fx_scaled_ms((uint64_t)ms)) != 1)
		return 1;
	zmq_msg_init(&m);
	assert_true(zmq_msg_recv(&m, z, 0) == 0 && zmq_msg_more(&m));
	assert_true(zmq_msg_recv(&m, z, 0) >= 0);
	assert_int_equal(ls_api_response_decode(zmq_msg_data(&m), zmq_msg_size(&m), &resp, NULL),
			 0);
	zmq_msg_close(&m);
	err = resp.error;
	if (msg != NULL)
		snprintf(msg, cap, "%s", resp.message);
	ls_api_response_release(&resp);
	return err;
}

/* ---- the flood ---- */

/* The figures of each flood, for LS_BOUNDS_JSON (make reliability). */
static char results[4][768];
static int n_results;

struct flooder {
	const char *endpoint;
	const uint8_t *req;
	size_t len;
	void *zctx, *z;
	int sent, ok, busy, other, answered;
	char busy_msg[LS_ERR_MSG_MAX];
};

/* Counts one answer of f's connection (1: none within ms). */
static int
flood_recv(struct flooder *f, int ms)
{
	char msg[LS_ERR_MSG_MAX];
	int err = recv_error(f->z, ms, msg, sizeof(msg));

	if (err == 1)
		return 1;
	f->answered++;
	if (err == 0 || err == LS_ERR_NOT_FOUND)
		f->ok++;
	else if (err == LS_ERR_OVERLOADED) {
		f->busy++;
		snprintf(f->busy_msg, sizeof(f->busy_msg), "%s", msg);
	} else
		f->other++;
	return 0;
}

/* One connection pipelining `reqs` requests, then reading the answers that
 * come until none has for a while (those the daemon holds stay). */
static void *
flood_main(void *arg)
{
	struct flooder *f = arg;
	int timeout = (int)fx_scaled_ms(30000);

	f->zctx = zmq_ctx_new();
	f->z = zsock(f->zctx, ZMQ_DEALER, f->endpoint);
	zmq_setsockopt(f->z, ZMQ_SNDTIMEO, &timeout, sizeof(timeout));
	for (int i = 0; i < FLOOD_REQS; i++) {
		if (!send_shared(f->z, f->req, f->len))
			break;
		f->sent++;
	}
	while (f->answered < f->sent && flood_recv(f, 2000) == 0)
		;
	return NULL;
}

/* A submission of FLOOD_ENVS envelopes of LS_ENVELOPE_MAX junk bytes. */
static uint8_t *
big_submit(size_t *len)
{
	static uint8_t junk[LS_ENVELOPE_MAX];
	const uint8_t *envs[FLOOD_ENVS];
	size_t lens[FLOOD_ENVS];
	struct ls_api_request req;
	uint8_t *buf = NULL;

	memset(junk, 0x5a, sizeof(junk));
	for (int i = 0; i < FLOOD_ENVS; i++) {
		envs[i] = junk;
		lens[i] = sizeof(junk);
	}
	memset(&req, 0, sizeof(req));
	req.kind = LS_API_SUBMIT;
	req.submit.n = FLOOD_ENVS;
	req.submit.envs = envs;
	req.submit.lens = lens;
	assert_int_equal(ls_api_request_encode(&req, &buf, len, NULL), 0);
	return buf;
}

/* A get request padded with an unknown field (readers skip it) to `size`
 * bytes: a read that costs the daemon its bytes to take in. */
static uint8_t *
big_get(size_t size, size_t *len)
{
	struct ls_api_request req;
	uint8_t *buf = NULL, *out;
	size_t n, pad;

	memset(&req, 0, sizeof(req));
	req.kind = LS_API_GET;
	memset(req.get.id, 0x42, LS_ID_LEN);
	assert_int_equal(ls_api_request_encode(&req, &buf, &n, NULL), 0);
	pad = size - n - 6;
	assert_non_null(out = malloc(size));
	memcpy(out, buf, n);
	*len = n;
	out[(*len)++] = 0xa2; /* field 100, length-delimited */
	out[(*len)++] = 0x06;
	for (size_t v = pad;; v >>= 7) {
		out[(*len)++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
		if (v < 0x80)
			break;
	}
	memset(out + *len, 0x5a, pad);
	*len += pad;
	free(buf);
	return out;
}

static void
status_of(struct live *lv, struct ls_api_status *st)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_api_open(lv->endpoint, (int)fx_scaled_ms(10000), &a, &ctx), 0);
	if (ls_api_status(a, st, &ctx) != 0)
		fail_msg("status: %s", ctx.msg);
	ls_api_close(&a);
}

/*
 * FLOOD_CONNS connections each pipeline FLOOD_REQS requests of `size` bytes
 * (reads padded to size, or with `submit` submissions of junk envelopes)
 * while the one reader holds a long query. The daemon's peak memory must
 * stay under what its bounds allow: ZeroMQ reads ahead 2 messages of a
 * connection besides the one it is reading, the daemon holds at most
 * queue_mib in all, and decoding copies one request; plus 96 MiB for the
 * rest. Reads past the bounds are answered busy; the daemon answers the
 * held query and a status afterwards, holding nothing.
 */
static void
flood(struct live *lv, size_t size, unsigned queue_mib, unsigned total_mib, bool submit)
{
	char q_arg[16], t_arg[16];
	const char *extra[] = {"--api-queue", q_arg, "--api-queue-total", t_arg, NULL};
	struct flooder f[FLOOD_CONNS];
	pthread_t th[FLOOD_CONNS];
	struct ls_api_status st;
	struct ls_api_request held;
	uint8_t *req, *hbuf = NULL;
	size_t len, hlen;
	long rss0, hwm, bound;
	int ok = 0, busy = 0, other = 0, sent = 0;
	void *zctx, *q;
	uint64_t t0;

	snprintf(q_arg, sizeof(q_arg), "%u", queue_mib);
	snprintf(t_arg, sizeof(t_arg), "%u", total_mib);
	touch(lv->gate);
	lv->pid = spawn(lv, extra);
	assert_true(lv->pid > 0);
	assert_true(fx_daemon_ready(lv->endpoint));
	rss0 = proc_kib(lv->pid, "VmRSS");

	/* the long query: held by the one reader */
	zctx = zmq_ctx_new();
	q = zsock(zctx, ZMQ_DEALER, lv->endpoint);
	memset(&held, 0, sizeof(held));
	held.kind = LS_API_LOG;
	assert_int_equal(ls_api_request_encode(&held, &hbuf, &hlen, NULL), 0);
	assert_true(send_shared(q, hbuf, hlen));

	req = submit ? big_submit(&len) : big_get(size, &len);
	t0 = now_ms();
	for (int i = 0; i < FLOOD_CONNS; i++) {
		f[i] = (struct flooder){.endpoint = lv->endpoint, .req = req, .len = len};
		assert_int_equal(pthread_create(&th[i], NULL, flood_main, &f[i]), 0);
	}
	for (int i = 0; i < FLOOD_CONNS; i++)
		pthread_join(th[i], NULL);
	hwm = proc_kib(lv->pid, "VmHWM");
	/* released, the held reads are answered too */
	unlink(lv->gate);
	assert_int_equal(recv_error(q, 30000, NULL, 0), 0);
	for (int i = 0; i < FLOOD_CONNS; i++) {
		while (f[i].answered < f[i].sent && flood_recv(&f[i], 30000) == 0)
			;
		assert_int_equal(f[i].answered, f[i].sent);
		ok += f[i].ok;
		busy += f[i].busy;
		other += f[i].other;
		sent += f[i].sent;
		zmq_close(f[i].z);
		zmq_ctx_term(f[i].zctx);
	}
	bound = (long)(FLOOD_CONNS * 3 * len + (size_t)total_mib * 1048576 + 2 * len) / 1024 +
		96 * 1024;
	fprintf(stderr,
		"flood: %d x %d %s of %zu bytes (api-queue %u MiB, api-queue-total %u MiB) in "
		"%llu ms: %d answered, %d busy, %d other; daemon RSS %ld KiB before, peak %ld "
		"KiB (bound %ld KiB)\n",
		FLOOD_CONNS, FLOOD_REQS, submit ? "submissions" : "reads", len, queue_mib,
		total_mib, (unsigned long long)(now_ms() - t0), ok, busy, other, rss0, hwm, bound);
	if (n_results < 4)
		snprintf(results[n_results++], sizeof(results[0]),
			 "{\"requests\": \"%s\", \"connections\": %d, \"per_connection\": %d, "
			 "\"bytes\": %zu, \"api_queue_mib\": %u, \"api_queue_total_mib\": %u, "
			 "\"ms\": %llu, \"answered\": %d, \"busy\": %d, \"other\": %d, "
			 "\"rss_before_kib\": %ld, \"rss_peak_kib\": %ld, \"rss_bound_kib\": %ld}",
			 submit ? "submissions" : "reads", FLOOD_CONNS, FLOOD_REQS, len, queue_mib,
			 total_mib, (unsigned long long)(now_ms() - t0), ok, busy, other, rss0, hwm,
			 bound);
	assert_int_equal(sent, FLOOD_CONNS * FLOOD_REQS);
	assert_int_equal(other, 0);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine keeps what the daemon freed */
	assert_true(hwm < bound);
#endif
	if (!submit) {
		/* what the bounds let in: a connection's queue, the total */
		int in = (int)(((size_t)total_mib << 20) / len);
		assert_true(ok <= in + FLOOD_CONNS);
		assert_true(ok >= 1);
		assert_int_equal(busy, FLOOD_CONNS * FLOOD_REQS - ok);
		for (int i = 0; i < FLOOD_CONNS; i++)
			if (f[i].busy > 0 && strstr(f[i].busy_msg, "busy") == NULL)
				fail_msg("busy answer: %s", f[i].busy_msg);
	}
	/* the daemon goes on, holding nothing; status counts the busy answers */
	status_of(lv, &st);
	assert_int_equal(st.api_queued_bytes, 0);
	assert_true(st.api_busy >= (uint64_t)busy);
	ls_api_status_release(&st);
	zmq_close(q);
	zmq_ctx_term(zctx);
	free(req);
	free(hbuf);
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	lv->pid = 0;
}

static bool
full_mode(void)
{
	const char *e = getenv("LS_BOUNDS_FULL");

	return e != NULL && *e != '\0' && strcmp(e, "0") != 0;
}

/* The reads: full size (LS_BOUNDS_FULL=1, make reliability) 32 MiB requests
 * against the default bounds; in make test a quarter of it (8 MiB requests,
 * api-queue 16, api-queue-total 64), the same arithmetic. */
static void
test_api_queued_reads(void **state)
{
	struct live *lv = *state;

	if (lv->bin[0] == '\0') {
		fprintf(stderr, "test_api_bounds: no lodestoned beside this test: skipped\n");
		skip();
	}
	if (full_mode())
		flood(lv, (size_t)32 << 20, 64, 256, false);
	else
		flood(lv, (size_t)8 << 20, 16, 64, false);
}

/* Submissions are held until their commit, which the main thread makes
 * before it reads on: the bound on them is what ZeroMQ reads ahead and the
 * batch. Full mode only (each request is checked: 8 GiB of junk). */
static void
test_api_queued_submissions(void **state)
{
	struct live *lv = *state;

	if (lv->bin[0] == '\0' || !full_mode()) {
		fprintf(stderr, "test_api_queued_submissions: LS_BOUNDS_FULL=1 runs it\n");
		skip();
	}
	flood(lv, 0, 64, 256, true);
}

/* Runs the client built beside the daemon with args; its exit status, its
 * first line of stderr in line. */
static int
run_client(const struct live *lv, const char *args, char *line, size_t cap)
{
	char cmd[4 * PATH_MAX], err[PATH_MAX + 8];
	FILE *f;
	int st;

	snprintf(err, sizeof(err), "%s.err", lv->log);
	snprintf(cmd, sizeof(cmd), "%s/lodestone --api %s %s >/dev/null 2>%s", fx_bin_dir(),
		 lv->endpoint, args, err);
	st = system(cmd);
	line[0] = '\0';
	if ((f = fopen(err, "r")) != NULL) {
		if (fgets(line, (int)cap, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A small get on DEALER z: its error code (NOT_FOUND: served). */
static int
ask(void *z, char *msg, size_t cap)
{
	struct ls_api_request req;
	uint8_t *buf = NULL;
	size_t len;
	int err;

	memset(&req, 0, sizeof(req));
	req.kind = LS_API_GET;
	memset(req.get.id, 0x42, LS_ID_LEN);
	assert_int_equal(ls_api_request_encode(&req, &buf, &len, NULL), 0);
	assert_true(send_shared(z, buf, len));
	err = recv_error(z, 10000, msg, cap);
	free(buf);
	return err;
}

/* Whether the connection of z is dropped (by the daemon) within ms (scaled). */
static bool
dropped_within(void *zctx, void *z, int ms)
{
	char ep[64];
	void *mon = zmq_socket(zctx, ZMQ_PAIR);
	zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
	bool gone = false;
	uint64_t t0 = now_ms();

	snprintf(ep, sizeof(ep), "inproc://test-monitor-%p", z);
	assert_int_equal(zmq_socket_monitor(z, ep, ZMQ_EVENT_DISCONNECTED), 0);
	assert_int_equal(zmq_connect(mon, ep), 0);
	while (!gone && now_ms() - t0 < fx_scaled_ms((uint64_t)ms) && zmq_poll(&it, 1, 100) >= 0) {
		zmq_msg_t m;
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, mon, 0) >= 2) {
			uint16_t e;
			memcpy(&e, zmq_msg_data(&m), sizeof(e));
			gone = e == ZMQ_EVENT_DISCONNECTED;
		}
		while (zmq_msg_more(&m)) {
			zmq_msg_close(&m);
			zmq_msg_init(&m);
			zmq_msg_recv(&m, mon, 0);
		}
		zmq_msg_close(&m);
	}
	zmq_socket_monitor(z, NULL, 0);
	zmq_close(mon);
	return gone;
}

#define CAP 4 /* --api-connections */

/* The cap on connections: CAP are served; one more is answered busy (the
 * client exits 6 saying so) and closed by the daemon; once one of the CAP
 * goes, a new connection is served; status counts them. */
static void
test_api_connection_cap(void **state)
{
	struct live *lv = *state;
	const char *extra[] = {"--api-connections", "4", NULL};
	char msg[LS_ERR_MSG_MAX], line[512];
	struct ls_api_status st;
	void *zctx, *z[CAP], *over;
	int rc = 1;

	if (lv->bin[0] == '\0') {
		fprintf(stderr, "test_api_bounds: no lodestoned beside this test: skipped\n");
		skip();
	}
	lv->pid = spawn(lv, extra);
	assert_true(lv->pid > 0);
	assert_true(fx_daemon_ready(lv->endpoint));
	zctx = zmq_ctx_new();
	for (int i = 0; i < CAP; i++) {
		z[i] = zsock(zctx, ZMQ_DEALER, lv->endpoint);
		assert_int_equal(ask(z[i], msg, sizeof(msg)), LS_ERR_NOT_FOUND);
	}
	/* one more: busy, named */
	over = zsock(zctx, ZMQ_DEALER, lv->endpoint);
	assert_int_equal(ask(over, msg, sizeof(msg)), LS_ERR_OVERLOADED);
	assert_non_null(strstr(msg, "busy"));
	assert_non_null(strstr(msg, "api-connections"));
	/* the client says so, with its exit status for busy */
	assert_int_equal(run_client(lv, "status", line, sizeof(line)), 6);
	assert_non_null(strstr(line, "busy"));
	/* the CAP served still are */
	for (int i = 0; i < CAP; i++)
		assert_int_equal(ask(z[i], msg, sizeof(msg)), LS_ERR_NOT_FOUND);
	/* the one over the cap is closed by the daemon */
	assert_true(dropped_within(zctx, over, 5000));
	zmq_close(over);
	/* one of the CAP goes: a new connection gets its place (the daemon
	 * sees it go within moments) */
	zmq_close(z[0]);
	for (unsigned i = 0; i < 100 * fx_time_scale() && rc != 0; i++) {
		struct ls_api *a = NULL;
		if (ls_api_open(lv->endpoint, (int)fx_scaled_ms(5000), &a, NULL) == 0) {
			rc = ls_api_status(a, &st, NULL);
			ls_api_close(&a);
		}
		if (rc != 0)
			usleep(50 * 1000);
	}
	assert_int_equal(rc, 0);
	/* the 3 left and the status connection itself */
	assert_int_equal(st.api_connections, CAP);
	assert_int_equal(st.api_connections_max, CAP);
	assert_true(st.api_busy >= 2);
	ls_api_status_release(&st);
	for (int i = 1; i < CAP; i++)
		zmq_close(z[i]);
	zmq_ctx_term(zctx);
	assert_int_equal(stop(lv->pid, SIGTERM), 0);
	lv->pid = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_api_queued_reads, live_setup, live_teardown),
	    cmocka_unit_test_setup_teardown(test_api_queued_submissions, live_setup, live_teardown),
	    cmocka_unit_test_setup_teardown(test_api_connection_cap, live_setup, live_teardown),
	};

	const char *json = getenv("LS_BOUNDS_JSON");
	int rc;

	if (sodium_init() < 0)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (json != NULL && *json != '\0') {
		FILE *f = fopen(json, "w");
		if (f == NULL)
			return 1;
		fprintf(
		    f,
		    "{\n  \"test\": \"api_bounds\",\n  \"what\": \"%d connections each "
		    "pipeline %d requests while a query holds the reader pool; the connection "
		    "cap\",\n  \"checked\": [\"the daemon's peak RSS (VmHWM) under its bound\", "
		    "\"requests past api-queue and api-queue-total answered busy\", \"held "
		    "requests answered once released\", \"status shows nothing held\", \"one "
		    "connection over api-connections answered busy and closed\"],\n  "
		    "\"floods\": [",
		    FLOOD_CONNS, FLOOD_REQS);
		for (int i = 0; i < n_results; i++)
			fprintf(f, "%s\n    %s", i ? "," : "", results[i]);
		fprintf(f, "\n  ],\n  \"passed\": %s\n}\n", rc == 0 ? "true" : "false");
		fclose(f);
	}
	return rc;
}
