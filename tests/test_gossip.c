/*
 * test_gossip.c - real lodestoned processes replicating over CurveZMQ on
 * loopback: a line of three converges, a daemon killed during writes catches
 * up on restart and a new one fetches the whole ledger, a stranger is
 * refused, a hostile peer's forged, malformed and oversized messages are
 * survived and rejected, a peer's own records are not pushed back to it, and
 * an equivocation split across two daemons leaves both with the same
 * evidence.
 *
 * The daemons are the build's (fx_bin_dir: LODESTONE_BIN, set by `make test`;
 * else the build beside the test). Each runs in its own temporary data dir with its log in
 * DIR/daemon.log; every wait is bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "gossip.h"
#include "helper_fixture.h"
#include "keyfile.h"
#include "store.h"
#include "util.h"

/* the longest any condition is waited for (every wait of this test is scaled
 * by fx_time_scale: memcheck runs the daemons 10 to 50 times slower) */
#define WAIT_MS fx_scaled_ms(30000)

struct node {
	char *dir;
	char api[512], listen[64], log[512];
	char hex[LS_HEX_KEY_LEN + 1];
	uint8_t key[LS_KEY_LEN];
	pid_t pid;
};

struct world {
	char *dir;
	char trust[512]; /* the authority's .pub file */
	struct fx_actor *auth;
	void *zctx;
	/* what a failed test leaves behind, for teardown: the nodes (by
	 * address only: a failed test's nodes were on its stack frame, gone by
	 * then) with a copy of their process and data dir, kept by
	 * node_record */
	const struct node *nodes[8];
	pid_t pids[8];
	char *dirs[8];
	void *socks[8];
};

static struct world *the_world; /* for node_init and peer_connect */

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* Keeps the world's copy of n's process and data dir (registering n the
 * first time), which teardown reads instead of n. Called after every change
 * of either. */
static void
node_record(const struct node *n)
{
	size_t free_slot = 8;

	for (size_t i = 0; i < 8; i++) {
		if (the_world->nodes[i] == n) {
			the_world->pids[i] = n->pid;
			the_world->dirs[i] = n->dir;
			return;
		}
		if (the_world->nodes[i] == NULL && free_slot == 8)
			free_slot = i;
	}
	assert_true(free_slot < 8);
	the_world->nodes[free_slot] = n;
	the_world->pids[free_slot] = n->pid;
	the_world->dirs[free_slot] = n->dir;
}

/* A data dir with its node key (lodestoned --init), an API socket and a
 * gossip port. */
static void
node_init(struct node *n)
{
	char cmd[1024];
	FILE *p;

	memset(n, 0, sizeof(*n));
	assert_non_null(n->dir = fx_tmpdir());
	node_record(n);
	snprintf(n->log, sizeof(n->log), "%s/daemon.log", n->dir);
	snprintf(n->listen, sizeof(n->listen), "tcp://127.0.0.1:%d", free_port());
	snprintf(cmd, sizeof(cmd), "'%s/lodestoned' --data-dir '%s/node' --init 2>/dev/null",
		 fx_bin_dir(), n->dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(n->hex, sizeof(n->hex), p));
	pclose(p);
	assert_int_equal(strlen(n->hex), LS_HEX_KEY_LEN);
	assert_int_equal(ls_unhex(n->hex, n->key, LS_KEY_LEN), 0);
	snprintf(n->api, sizeof(n->api), "ipc://%s/node/api.sock", n->dir);
}

static struct ls_api *
node_api(const struct node *n)
{
	struct ls_api *a = NULL;

	assert_int_equal(ls_api_open(n->api, (int)fx_scaled_ms(10000), &a, NULL), 0);
	return a;
}

/* Status of n; false when it does not answer. */
static bool
node_status(const struct node *n, struct ls_api_status *st)
{
	struct ls_api *a = NULL;
	bool ok;

	memset(st, 0, sizeof(*st));
	if (ls_api_open(n->api, (int)fx_scaled_ms(5000), &a, NULL) != 0)
		return false;
	ok = ls_api_status(a, st, NULL) == 0;
	ls_api_close(&a);
	return ok;
}

/*
 * Starts lodestoned on n with the world's trust anchor, --sync-interval 1,
 * and the extra options (NULL-terminated), then waits until its API answers.
 */
static void
node_start(const struct world *w, struct node *n, ...)
{
	char *argv[64], ddir[600];
	struct ls_api_status st;
	size_t k = 0;
	uint64_t t0;
	va_list ap;
	const char *s;

	snprintf(ddir, sizeof(ddir), "%s/node", n->dir);
	argv[k++] = "lodestoned";
	argv[k++] = "--data-dir";
	argv[k++] = ddir;
	argv[k++] = "--listen";
	argv[k++] = n->listen;
	argv[k++] = "--trust";
	argv[k++] = (char *)w->trust;
	argv[k++] = "--sync-interval";
	argv[k++] = "1";
	argv[k++] = "--log-level";
	argv[k++] = "debug";
	va_start(ap, n);
	while ((s = va_arg(ap, const char *)) != NULL && k < 62)
		argv[k++] = (char *)s;
	va_end(ap);
	argv[k] = NULL;
	n->pid = fork();
	assert_true(n->pid >= 0);
	if (n->pid == 0) {
		char exe[600];
		/* dies with the test, even when the test is killed */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(n->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		if (fd >= 0)
			dup2(fd, 2);
		if (nul >= 0)
			dup2(nul, 1);
		snprintf(exe, sizeof(exe), "%s/lodestoned", fx_bin_dir());
		execv(exe, argv);
		_exit(127);
	}
	node_record(n);
	t0 = now_ms();
	while (!node_status(n, &st)) {
		int wst;
		if (waitpid(n->pid, &wst, WNOHANG) == n->pid) {
			n->pid = 0;
			node_record(n);
			fail_msg("lodestoned exited at start; see %s", n->log);
		}
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("lodestoned did not answer within %llu ms; see %s",
				 (unsigned long long)WAIT_MS, n->log);
		usleep(20000);
	}
	ls_api_status_release(&st);
}

/* Stops n with sig (SIGTERM: cleanly, SIGKILL: a crash) and reaps it. */
static void
node_stop(struct node *n, int sig)
{
	uint64_t t0 = now_ms();
	int st = 0;

	if (n->pid <= 0)
		return;
	kill(n->pid, sig);
	while (waitpid(n->pid, &st, WNOHANG) == 0) {
		if (now_ms() - t0 > fx_scaled_ms(15000)) {
			kill(n->pid, SIGKILL);
			waitpid(n->pid, &st, 0);
			n->pid = 0;
			node_record(n);
			fail_msg("lodestoned did not stop on signal %d; see %s", sig, n->log);
		}
		usleep(10000);
	}
	n->pid = 0;
	node_record(n);
	if (sig == SIGTERM && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fail_msg("lodestoned did not exit cleanly (status %d); see %s", st, n->log);
}

static void
node_free(struct node *n)
{
	for (size_t i = 0; i < 8; i++)
		if (the_world->nodes[i] == n) {
			the_world->nodes[i] = NULL;
			the_world->pids[i] = 0;
			the_world->dirs[i] = NULL;
		}
	if (n->pid > 0) {
		kill(n->pid, SIGKILL);
		waitpid(n->pid, NULL, 0);
		n->pid = 0;
	}
	if (n->dir != NULL && getenv("KEEP") == NULL)
		fx_rmtree(n->dir);
	free(n->dir);
	n->dir = NULL;
}

static bool
log_has(const struct node *n, const char *needle)
{
	uint8_t *buf = NULL;
	size_t len;
	bool found;

	if (ls_file_read(n->log, 64 * 1024 * 1024, &buf, &len, NULL) != 0)
		return false;
	found = strstr((char *)buf, needle) != NULL;
	free(buf);
	return found;
}

/* Submits envelopes to n; asserts each is accepted (or pending when
 * allow_pending: its dependencies come by gossip). */
static void
submit(const struct node *n, const struct fx_env *e, size_t count, bool allow_pending)
{
	struct ls_api *a = node_api(n);
	const uint8_t **envs = calloc(count, sizeof(*envs));
	size_t *lens = calloc(count, sizeof(*lens));
	struct ls_ingest_result *res = calloc(count, sizeof(*res));

	assert_non_null(envs);
	assert_non_null(lens);
	assert_non_null(res);
	for (size_t i = 0; i < count; i++) {
		assert_non_null(e[i].buf);
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
	}
	assert_int_equal(ls_api_submit(a, envs, lens, count, res, NULL), 0);
	for (size_t i = 0; i < count; i++)
		if (res[i].status != LS_INGEST_ACCEPTED &&
		    !(allow_pending && res[i].status == LS_INGEST_PENDING))
			fail_msg("record %zu: status %d: %s", i, res[i].status, res[i].message);
	ls_api_close(&a);
	free(envs);
	free(lens);
	free(res);
}

/* Waits until every node holds `want` records with none pending. */
static void
wait_records(struct node *const *nodes, size_t k, uint64_t want)
{
	uint64_t t0 = now_ms();

	for (;;) {
		bool all = true;
		for (size_t i = 0; i < k; i++) {
			struct ls_api_status st;
			if (!node_status(nodes[i], &st)) {
				all = false;
				continue;
			}
			if (st.stats.records != want || st.stats.pending != 0)
				all = false;
			ls_api_status_release(&st);
		}
		if (all)
			return;
		if (now_ms() - t0 > WAIT_MS) {
			for (size_t i = 0; i < k; i++) {
				struct ls_api_status st;
				if (node_status(nodes[i], &st)) {
					fprintf(stderr, "node %zu: %llu records, %llu pending\n", i,
						(unsigned long long)st.stats.records,
						(unsigned long long)st.stats.pending);
					ls_api_status_release(&st);
				}
			}
			fail_msg("daemons did not converge on %llu records within %llu ms",
				 (unsigned long long)want, (unsigned long long)WAIT_MS);
		}
		usleep(50000);
	}
}

/* True when n holds record id. */
static bool
node_has(const struct node *n, const uint8_t id[LS_ID_LEN])
{
	struct ls_api *a = node_api(n);
	uint8_t *env = NULL;
	size_t len;
	int rc = ls_api_get(a, id, &env, &len, NULL);

	free(env);
	ls_api_close(&a);
	return rc == 0;
}

/* The peer entry of key in n's status; asserts it is there. */
static struct ls_api_peer
node_peer(const struct node *n, const uint8_t key[LS_KEY_LEN])
{
	struct ls_api_status st;
	struct ls_api_peer p;

	assert_true(node_status(n, &st));
	for (size_t i = 0; i < st.n_peers; i++)
		if (st.peers[i].has_key && memcmp(st.peers[i].key, key, LS_KEY_LEN) == 0) {
			p = st.peers[i];
			ls_api_status_release(&st);
			return p;
		}
	ls_api_status_release(&st);
	fail_msg("peer not listed in status");
	memset(&p, 0, sizeof(p));
	return p;
}

/* Waits until n lists peer key as connected and synced. */
static void
wait_peer_synced(const struct node *n, const uint8_t key[LS_KEY_LEN])
{
	uint64_t t0 = now_ms();

	for (;;) {
		struct ls_api_peer p = node_peer(n, key);
		if (p.connected && p.last_sync != 0)
			return;
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("peer never connected and synced; see %s", n->log);
		usleep(50000);
	}
}

/* ---- a hand-made peer: a CurveZMQ DEALER speaking gossip ---- */

/* Connects to n's gossip endpoint with transport keys from an Ed25519 key
 * pair (sk NULL: a random Curve25519 pair, a stranger). */
static void *
peer_connect(struct world *w, const struct node *n, const struct ls_keypair *kp)
{
	uint8_t server[32], pk[32], sk[32];
	void *s = zmq_socket(w->zctx, ZMQ_DEALER);
	int linger = 0, timeo = (int)fx_scaled_ms(5000);

	assert_non_null(s);
	assert_int_equal(zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeo, sizeof(timeo)), 0);
	assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(server, n->key), 0);
	if (kp != NULL) {
		assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(pk, kp->pk), 0);
		assert_int_equal(crypto_sign_ed25519_sk_to_curve25519(sk, kp->sk), 0);
	} else {
		crypto_box_keypair(pk, sk);
	}
	assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger)), 0);
	assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server, 32), 0);
	assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pk, 32), 0);
	assert_int_equal(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sk, 32), 0);
	assert_int_equal(zmq_connect(s, n->listen), 0);
	sodium_memzero(sk, sizeof(sk));
	for (size_t i = 0; i < 8; i++)
		if (w->socks[i] == NULL) {
			w->socks[i] = s;
			break;
		}
	return s;
}

static void
peer_close(struct world *w, void *s)
{
	for (size_t i = 0; i < 8; i++)
		if (w->socks[i] == s)
			w->socks[i] = NULL;
	zmq_close(s);
}

/* Sends m (within the socket's send timeout, 5 s scaled); false when it could
 * not. */
static bool
peer_send(void *s, const struct ls_gossip_msg *m)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int n;

	assert_int_equal(ls_gossip_encode(m, &buf, &len, NULL), 0);
	n = zmq_send(s, buf, len, 0);
	free(buf);
	return n == (int)len;
}

/* Receives one message of `kind` within ms (scaled; others are skipped);
 * false when none came. */
static bool
peer_recv(void *s, enum ls_gossip_kind kind, int ms, struct ls_gossip_msg *out)
{
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < fx_scaled_ms((uint64_t)ms)) {
		zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
		zmq_msg_t m;
		struct ls_gossip_msg g;

		if (zmq_poll(&it, 1, 50) != 1)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		if (ls_gossip_decode(zmq_msg_data(&m), zmq_msg_size(&m), &g, NULL) == 0) {
			zmq_msg_close(&m);
			if (g.kind == kind) {
				if (out != NULL)
					*out = g;
				else
					ls_gossip_msg_release(&g);
				return true;
			}
			ls_gossip_msg_release(&g);
			continue;
		}
		zmq_msg_close(&m);
	}
	return false;
}

/* Sends Sync (reply wanted) until a Sync comes back, for up to ms (scaled). */
static bool
peer_ping(void *s, int ms)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_SYNC, .reply = true};
	uint64_t t0 = now_ms();

	while (now_ms() - t0 < fx_scaled_ms((uint64_t)ms)) {
		{
			uint8_t *buf = NULL;
			size_t len = 0;
			assert_int_equal(ls_gossip_encode(&m, &buf, &len, NULL), 0);
			zmq_send(s, buf, len, ZMQ_DONTWAIT);
			free(buf);
		}
		if (peer_recv(s, LS_GOSSIP_SYNC, 500, NULL))
			return true;
	}
	return false;
}

/* ---- fixtures ---- */

static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->dir = fx_tmpdir());
	assert_non_null(w->auth = fx_actor_new("CN"));
	snprintf(w->trust, sizeof(w->trust), "%s/auth.pub", w->dir);
	assert_int_equal(ls_pubkey_save(w->trust, w->auth->kp->pk, NULL), 0);
	assert_non_null(w->zctx = zmq_ctx_new());
	the_world = w;
	*state = w;
	return 0;
}

static int
teardown(void **state)
{
	struct world *w = *state;

	for (size_t i = 0; i < 8; i++) {
		if (w->socks[i] != NULL)
			zmq_close(w->socks[i]);
		if (w->nodes[i] == NULL)
			continue;
		/* from the world's copy only (see struct world) */
		if (w->pids[i] > 0) {
			kill(w->pids[i], SIGKILL);
			waitpid(w->pids[i], NULL, 0);
		}
		if (w->dirs[i] != NULL && getenv("KEEP") == NULL)
			fx_rmtree(w->dirs[i]);
		free(w->dirs[i]);
		w->nodes[i] = NULL;
	}
	zmq_ctx_term(w->zctx);
	the_world = NULL;
	fx_actor_free(&w->auth);
	fx_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

/* An actor certified by the authority, and n lots it registers. */
static struct fx_actor *
miner(struct world *w, const char *country, struct fx_env *cert)
{
	struct fx_actor *m = fx_actor_new(country);

	assert_non_null(m);
	*cert = fx_cert(w->auth, m, "mine", country, LS_ROLE_MINER, 0, 0);
	assert_non_null(cert->buf);
	return m;
}

static void
lots(struct fx_actor *m, struct fx_env *out, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char label[64];
		snprintf(label, sizeof(label), "%s-%zu", prefix, i);
		out[i] = fx_lot(m, label, "pit", NULL, "ore", 1000 + i, "Nd=300000,Dy=20000");
		assert_non_null(out[i].buf);
	}
}

static void
envs_release(struct fx_env *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fx_env_release(&e[i]);
}

/* ---- tests ---- */

/* A - B - C in a line (A and C not connected): records written at either end
 * reach the other end through B, including a record that waits there for one
 * written at the other end. */
static void
test_gossip_line_converges(void **state)
{
	struct world *w = *state;
	struct node a, b, c;
	struct node *all[] = {&a, &b, &c};
	struct fx_env ca, cc, la[20], lc[20];
	struct fx_actor *ma, *mc;
	char peer_b[600];

	node_init(&a);
	node_init(&b);
	node_init(&c);
	snprintf(peer_b, sizeof(peer_b), "%s@%s", b.hex, b.listen);
	node_start(w, &b, "--allow-peer", a.hex, "--allow-peer", c.hex, NULL);
	node_start(w, &a, "--peer", peer_b, NULL);
	node_start(w, &c, "--peer", peer_b, NULL);

	ma = miner(w, "CN", &ca); /* authority seq 1 */
	mc = miner(w, "MM", &cc); /* authority seq 2: at C it waits for seq 1 */
	lots(ma, la, 20, "a");
	lots(mc, lc, 20, "c");
	submit(&a, &ca, 1, false);
	submit(&a, la, 20, false);
	submit(&c, &cc, 1, true);
	submit(&c, lc, 20, true);
	wait_records(all, 3, 42);
	for (size_t i = 0; i < 20; i++) {
		assert_true(node_has(&c, la[i].id));
		assert_true(node_has(&a, lc[i].id));
		assert_true(node_has(&b, la[i].id) && node_has(&b, lc[i].id));
	}
	assert_true(node_has(&a, cc.id) && node_has(&c, ca.id));
	/* status: each end sees B connected, and B got the records from them */
	wait_peer_synced(&a, b.key);
	wait_peer_synced(&c, b.key);
	assert_true(node_peer(&b, a.key).received >= 21);
	assert_true(node_peer(&b, c.key).received >= 21);
	assert_int_equal(node_peer(&b, a.key).rejected, 0);

	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	node_stop(&c, SIGTERM);
	envs_release(la, 20);
	envs_release(lc, 20);
	fx_env_release(&ca);
	fx_env_release(&cc);
	fx_actor_free(&ma);
	fx_actor_free(&mc);
	for (size_t i = 0; i < 3; i++)
		node_free(all[i]);
}

/* Push alone: with anti-entropy every 60 s, records written at A reach B
 * (which dialled A) and records written at B reach A within seconds (both
 * times scaled). */
static void
test_gossip_push_is_immediate(void **state)
{
	struct world *w = *state;
	struct node a, b;
	struct node *ab[] = {&a, &b};
	struct fx_env ca, cb, la[10], lb[10];
	struct fx_actor *ma, *mb;
	char peer_a[600], sync[16];
	uint64_t t0;

	node_init(&a);
	node_init(&b);
	snprintf(peer_a, sizeof(peer_a), "%s@%s", a.hex, a.listen);
	snprintf(sync, sizeof(sync), "%u", 60 * fx_time_scale());
	node_start(w, &a, "--allow-peer", b.hex, "--sync-interval", sync, NULL);
	node_start(w, &b, "--peer", peer_a, "--sync-interval", sync, NULL);
	wait_peer_synced(&b, a.key); /* the first Sync went both ways: A knows B's route */
	wait_peer_synced(&a, b.key);
	ma = miner(w, "CN", &ca);
	lots(ma, la, 10, "a");
	mb = miner(w, "DE", &cb);
	lots(mb, lb, 10, "b");
	t0 = now_ms();
	submit(&a, &ca, 1, false);
	submit(&a, la, 10, false);
	submit(&b, &cb, 1, true);
	submit(&b, lb, 10, true);
	wait_records(ab, 2, 22);
	assert_true(now_ms() - t0 < fx_scaled_ms(30000)); /* well before the next sync */
	assert_true(node_has(&a, lb[9].id) && node_has(&b, la[9].id));

	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	envs_release(la, 10);
	envs_release(lb, 10);
	fx_env_release(&ca);
	fx_env_release(&cb);
	fx_actor_free(&ma);
	fx_actor_free(&mb);
	node_free(&a);
	node_free(&b);
}

/* B is killed (SIGKILL) while A takes writes; on restart it pulls what it
 * missed. Then D, new and empty, joins and fetches the whole ledger. */
static void
test_gossip_restart_catches_up(void **state)
{
	struct world *w = *state;
	struct node a, b, d;
	struct node *ab[] = {&a, &b}, *abd[] = {&a, &b, &d};
	struct fx_env cert, l[300];
	struct fx_actor *m;
	char peer_a[600];

	node_init(&a);
	node_init(&b);
	node_init(&d);
	snprintf(peer_a, sizeof(peer_a), "%s@%s", a.hex, a.listen);
	node_start(w, &a, "--allow-peer", b.hex, "--allow-peer", d.hex, NULL);
	node_start(w, &b, "--peer", peer_a, NULL);
	m = miner(w, "CN", &cert);
	lots(m, l, 300, "lot");
	submit(&a, &cert, 1, false);
	submit(&a, l, 50, false);
	wait_records(ab, 2, 51);

	node_stop(&b, SIGKILL);
	for (size_t i = 50; i < 300; i += 25)
		submit(&a, l + i, 25, false);
	node_start(w, &b, "--peer", peer_a, NULL);
	wait_records(ab, 2, 301);
	assert_true(node_has(&b, l[299].id));

	node_start(w, &d, "--peer", peer_a, NULL);
	wait_records(abd, 3, 301);
	assert_true(node_has(&d, l[0].id) && node_has(&d, l[299].id));
	/* a first sync of 301 records is long enough to say so in the log */
	for (unsigned i = 0; i < 100 * fx_time_scale() && !log_has(&d, "sync done: "); i++)
		usleep(50 * 1000);
	if (!log_has(&d, "sync done: ")) {
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "grep -v 'debug: api\\|accepted' '%s' | tail -30 >&2",
			 d.log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	assert_true(log_has(&d, "sync done: "));

	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	node_stop(&d, SIGTERM);
	envs_release(l, 300);
	fx_env_release(&cert);
	fx_actor_free(&m);
	node_free(&a);
	node_free(&b);
	node_free(&d);
}

/* A key that is not allowed cannot get in: no answer, no records, and the
 * refusal is logged. The same code with an allowed key gets answers. */
static void
test_gossip_stranger_refused(void **state)
{
	struct world *w = *state;
	struct fx_actor *friend = fx_actor_new("DE");
	struct node a;
	void *stranger, *ok;

	assert_non_null(friend);
	node_init(&a);
	node_start(w, &a, "--allow-peer", ls_hex(friend->kp->pk, 32, (char[65]){0}), NULL);

	stranger = peer_connect(w, &a, NULL);
	assert_false(peer_ping(stranger, 2000));
	{
		struct ls_gossip_msg pull = {.kind = LS_GOSSIP_PULL, .from_seq = 1, .to_seq = 10};
		memcpy(pull.author, w->auth->kp->pk, 32);
		peer_send(stranger, &pull); /* may not even leave: no connection */
		assert_false(peer_recv(stranger, LS_GOSSIP_RECORDS, 500, NULL));
	}
	assert_true(log_has(&a, "refused a gossip connection"));
	peer_close(w, stranger);

	ok = peer_connect(w, &a, friend->kp);
	assert_true(peer_ping(ok, 5000));
	peer_close(w, ok);

	node_stop(&a, SIGTERM);
	node_free(&a);
	fx_actor_free(&friend);
}

/* An allowed but hostile peer: garbage, a forged record, malformed fields
 * and an oversized message are rejected, the daemon goes on answering, and a
 * valid record from the same peer is then accepted. */
static void
test_gossip_hostile_peer_survived(void **state)
{
	struct world *w = *state;
	struct fx_actor *evil = fx_actor_new("NL");
	struct fx_env cert, forged, good[2];
	struct fx_actor *m;
	struct ls_gossip_msg msg, got;
	struct ls_api_status st;
	struct ls_api_peer p;
	struct node a;
	void *s;
	uint8_t *big;

	assert_non_null(evil);
	node_init(&a);
	/* the smallest verification budget (128 records/s, a burst of 256), so
	 * that step 8's flood is over it however slowly this machine (or a
	 * sanitizer build) takes it in */
	node_start(w, &a, "--allow-peer", ls_hex(evil->kp->pk, 32, (char[65]){0}),
		   "--peer-verify-rate", "128", NULL);
	m = miner(w, "CN", &cert);
	submit(&a, &cert, 1, false);
	lots(m, good, 2, "good");
	s = peer_connect(w, &a, evil->kp);
	assert_true(peer_ping(s, 5000));

	/* 1. bytes that are no message */
	assert_int_equal(zmq_send(s, "\xff\xfe not protobuf", 16, 0), 16);
	/* 2. a forged record: a real lot with one signature byte changed */
	forged.len = good[0].len;
	assert_non_null(forged.buf = malloc(forged.len));
	memcpy(forged.buf, good[0].buf, forged.len);
	forged.buf[forged.len - 3] ^= 0x01;
	{
		const uint8_t *envs[] = {forged.buf};
		size_t lens[] = {forged.len};
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = 1, .envs = envs, .lens = lens};
		assert_true(peer_send(s, &msg));
	}
	/* 3. malformed fields: a pull from seq 0, a digest of 3 bytes */
	msg = (struct ls_gossip_msg){.kind = LS_GOSSIP_PULL, .from_seq = 0, .to_seq = 5};
	assert_true(peer_send(s, &msg));
	{
		static const uint8_t bad_sync[] = {0x08, 0x01, 0x52, 0x07, 0x0a, 0x03,
						   0x01, 0x02, 0x03, 0x10, 0x00};
		assert_true(zmq_send(s, bad_sync, sizeof(bad_sync), 0) > 0);
	}
	/* 4. a version from the future */
	{
		static const uint8_t v9[] = {0x08, 0x09, 0x7a, 0x00};
		assert_true(zmq_send(s, v9, sizeof(v9), 0) > 0);
	}
	assert_true(peer_ping(s, 5000)); /* still answering on this connection */
	p = node_peer(&a, evil->kp->pk);
	assert_true(p.rejected >= 5);
	assert_false(node_has(&a, good[0].id));

	/* 5. a message over ZMQ_MAXMSGSIZE: the daemon drops the connection, the
	 * socket reconnects and the daemon answers again */
	assert_non_null(big = calloc(1, 3 * 1024 * 1024));
	assert_int_equal(zmq_send(s, big, 3 * 1024 * 1024, 0), 3 * 1024 * 1024);
	free(big);
	assert_true(peer_ping(s, 10000));
	assert_true(node_status(&a, &st));
	assert_int_equal(st.stats.records, 1); /* the miner's certificate: nothing else got in */
	ls_api_status_release(&st);

	/* 6. a heads walk and a pull work and are bounded */
	msg = (struct ls_gossip_msg){.kind = LS_GOSSIP_HEADS_REQUEST};
	assert_true(peer_send(s, &msg));
	assert_true(peer_recv(s, LS_GOSSIP_HEADS, 5000, &got));
	assert_int_equal(got.n_heads, 1); /* the authority's feed */
	assert_memory_equal(got.heads[0].author, w->auth->kp->pk, 32);
	ls_gossip_msg_release(&got);
	msg = (struct ls_gossip_msg){.kind = LS_GOSSIP_PULL, .from_seq = 1, .to_seq = UINT64_MAX};
	memcpy(msg.author, w->auth->kp->pk, 32);
	assert_true(peer_send(s, &msg));
	assert_true(peer_recv(s, LS_GOSSIP_RECORDS, 5000, &got));
	assert_int_equal(got.n_envs, 1);
	assert_int_equal(got.next_seq, 2);
	ls_gossip_msg_release(&got);

	/* 7. valid records from the same peer are accepted */
	{
		const uint8_t *envs[] = {good[0].buf, good[1].buf};
		size_t lens[] = {good[0].len, good[1].len};
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = 2, .envs = envs, .lens = lens};
		assert_true(peer_send(s, &msg));
	}
	{
		struct node *one[] = {&a};
		wait_records(one, 1, 3); /* the certificate and both lots */
	}

	/* 8. a flood of records (forged: each would cost a signature check)
	 * past the peer's verification budget: the excess is dropped and
	 * counted, shown in status, and the daemon goes on answering */
	{
		const uint8_t *envs[LS_GOSSIP_RECORDS_MAX];
		size_t lens[LS_GOSSIP_RECORDS_MAX];
		for (size_t i = 0; i < LS_GOSSIP_RECORDS_MAX; i++) {
			envs[i] = forged.buf;
			lens[i] = forged.len;
		}
		msg = (struct ls_gossip_msg){.kind = LS_GOSSIP_PUSH,
					     .n_envs = LS_GOSSIP_RECORDS_MAX,
					     .envs = envs,
					     .lens = lens};
		for (int i = 0; i < 120; i++)
			assert_true(peer_send(s, &msg));
	}
	assert_true(peer_ping(s, 30000));
	for (unsigned i = 0;
	     i < 100 * fx_time_scale() && node_peer(&a, evil->kp->pk).throttled == 0; i++)
		usleep(100 * 1000);
	p = node_peer(&a, evil->kp->pk);
	assert_true(p.throttled > 0);
	assert_true(p.throttled <= 120 * LS_GOSSIP_RECORDS_MAX - 256); /* the burst got in */
	assert_true(node_status(&a, &st));
	assert_int_equal(st.stats.records, 3); /* nothing of the flood got in */
	ls_api_status_release(&st);
	peer_close(w, s);
	node_stop(&a, SIGTERM);
	node_free(&a);
	free(forged.buf);
	envs_release(good, 2);
	fx_env_release(&cert);
	fx_actor_free(&m);
	fx_actor_free(&evil);
}

/* The verification budget of a peer (--peer-verify-rate 1000: a burst of
 * 2,000): a peer pushing FLOOD_LOTS valid, distinct records (each a real
 * signature check) at once gets at most the burst and what the rate adds
 * checked, the rest dropped unchecked and counted in status; another peer
 * pushing meanwhile is not held up (none of its records dropped); and the
 * records dropped, sent again within the budget, are all taken. */
#define FLOOD_LOTS 4096
static void
test_gossip_verify_budget(void **state)
{
	struct world *w = *state;
	struct fx_actor *evil = fx_actor_new("NL"), *good = fx_actor_new("DE");
	struct fx_env cert, cert2, *flood, mine[8];
	struct fx_actor *m, *m2;
	struct ls_gossip_msg msg;
	struct ls_api_peer pe, pg;
	struct ls_api_status st;
	struct node a;
	void *se, *sg;
	uint64_t t0, stored;
	size_t sent = 0;

	assert_non_null(evil);
	assert_non_null(good);
	assert_non_null(flood = calloc(FLOOD_LOTS, sizeof(*flood)));
	node_init(&a);
	node_start(w, &a, "--allow-peer", ls_hex(evil->kp->pk, 32, (char[65]){0}), "--allow-peer",
		   ls_hex(good->kp->pk, 32, (char[65]){0}), "--peer-verify-rate", "1000", NULL);
	m = miner(w, "CN", &cert);
	m2 = miner(w, "AU", &cert2);
	submit(&a, &cert, 1, false);
	submit(&a, &cert2, 1, false);
	lots(m, flood, FLOOD_LOTS, "flood");
	lots(m2, mine, 8, "honest");
	se = peer_connect(w, &a, evil->kp);
	sg = peer_connect(w, &a, good->kp);
	assert_true(peer_ping(se, 5000));
	assert_true(peer_ping(sg, 5000));

	/* the flood, then the other peer's push right behind it */
	t0 = now_ms();
	while (sent < FLOOD_LOTS) {
		const uint8_t *envs[LS_GOSSIP_RECORDS_MAX];
		size_t lens[LS_GOSSIP_RECORDS_MAX], n = 0;
		for (; n < LS_GOSSIP_RECORDS_MAX && sent + n < FLOOD_LOTS; n++) {
			envs[n] = flood[sent + n].buf;
			lens[n] = flood[sent + n].len;
		}
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = n, .envs = envs, .lens = lens};
		assert_true(peer_send(se, &msg));
		sent += n;
	}
	{
		const uint8_t *envs[8];
		size_t lens[8];
		for (int i = 0; i < 8; i++) {
			envs[i] = mine[i].buf;
			lens[i] = mine[i].len;
		}
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = 8, .envs = envs, .lens = lens};
		assert_true(peer_send(sg, &msg));
	}
	assert_true(peer_ping(se, 30000));
	assert_true(peer_ping(sg, 30000));
	for (unsigned i = 0; i < 100 * fx_time_scale() && !node_has(&a, mine[7].id); i++)
		usleep(50 * 1000);
	for (int i = 0; i < 8; i++)
		assert_true(node_has(&a, mine[i].id));
	pe = node_peer(&a, evil->kp->pk);
	pg = node_peer(&a, good->kp->pk);
	{
		/* at most the burst and the rate over the time it took, in whole
		 * messages */
		uint64_t ms = now_ms() - t0,
			 allowed = 2000 + 1000 * ms / 1000 + LS_GOSSIP_RECORDS_MAX;
		fprintf(stderr,
			"verify budget: %d records pushed in %llu ms, %llu checked, %llu dropped "
			"(throttled)\n",
			FLOOD_LOTS, (unsigned long long)ms, (unsigned long long)pe.received,
			(unsigned long long)pe.throttled);
		assert_true(pe.throttled > 0);
		assert_true(pe.received <= allowed);
		assert_int_equal(pe.received + pe.throttled, FLOOD_LOTS);
	}
	assert_int_equal(pg.throttled, 0);
	assert_int_equal(pg.received, 8);

	/* the dropped records, sent again at the budget's pace, all get in */
	t0 = now_ms();
	do {
		bool again = false;
		for (sent = 0; sent < FLOOD_LOTS;) {
			const uint8_t *envs[LS_GOSSIP_RECORDS_MAX];
			size_t lens[LS_GOSSIP_RECORDS_MAX], n = 0;
			bool missing = false;
			for (; n < LS_GOSSIP_RECORDS_MAX && sent + n < FLOOD_LOTS; n++) {
				envs[n] = flood[sent + n].buf;
				lens[n] = flood[sent + n].len;
			}
			for (size_t i = 0; i < n && !missing; i += 15)
				missing = !node_has(&a, flood[sent + i].id);
			missing = missing || !node_has(&a, flood[sent + n - 1].id);
			if (missing) {
				msg = (struct ls_gossip_msg){.kind = LS_GOSSIP_PUSH,
							     .n_envs = n,
							     .envs = envs,
							     .lens = lens};
				assert_true(peer_send(se, &msg));
				usleep(300 * 1000); /* 256 records at 1,000 a second */
				again = true;
			}
			sent += n;
		}
		assert_true(node_status(&a, &st));
		stored = st.stats.records;
		ls_api_status_release(&st);
		if (!again && stored < 2 + 8 + FLOOD_LOTS)
			usleep(200 * 1000);
	} while (stored < 2 + 8 + FLOOD_LOTS && now_ms() - t0 < fx_scaled_ms(30000));
	assert_int_equal(stored, 2 + 8 + FLOOD_LOTS); /* the two certificates, the lots */
	peer_close(w, se);
	peer_close(w, sg);
	node_stop(&a, SIGTERM);
	node_free(&a);
	envs_release(flood, FLOOD_LOTS);
	envs_release(mine, 8);
	fx_env_release(&cert);
	fx_env_release(&cert2);
	free(flood);
	fx_actor_free(&m);
	fx_actor_free(&m2);
	fx_actor_free(&evil);
	fx_actor_free(&good);
}

/* Records a peer pushes are stored but not pushed back to it; a record a
 * client submits is pushed to it. */
static void
test_gossip_push_not_echoed(void **state)
{
	struct world *w = *state;
	struct fx_actor *friend = fx_actor_new("NL");
	struct fx_env cert, lot[3];
	struct fx_actor *m;
	struct ls_gossip_msg msg, got;
	struct node a;
	struct node *one[] = {&a};
	void *s;

	assert_non_null(friend);
	node_init(&a);
	/* A long interval: the peer stays connected without syncing. */
	node_start(w, &a, "--allow-peer", ls_hex(friend->kp->pk, 32, (char[65]){0}),
		   "--sync-interval", "60", NULL);
	m = miner(w, "CN", &cert);
	submit(&a, &cert, 1, false);
	lots(m, lot, 3, "echo");
	s = peer_connect(w, &a, friend->kp);
	assert_true(peer_ping(s, 5000));
	{
		const uint8_t *envs[] = {lot[0].buf, lot[1].buf};
		size_t lens[] = {lot[0].len, lot[1].len};
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = 2, .envs = envs, .lens = lens};
		assert_true(peer_send(s, &msg));
	}
	wait_records(one, 1, 3); /* the certificate and both lots */
	assert_false(peer_recv(s, LS_GOSSIP_PUSH, 1000, NULL));
	assert_int_equal(node_peer(&a, friend->kp->pk).received, 2);

	submit(&a, &lot[2], 1, false);
	assert_true(peer_recv(s, LS_GOSSIP_PUSH, 5000, &got));
	assert_int_equal(got.n_envs, 1);
	assert_int_equal(got.lens[0], lot[2].len);
	assert_memory_equal(got.envs[0], lot[2].buf, lot[2].len);
	ls_gossip_msg_release(&got);

	peer_close(w, s);
	node_stop(&a, SIGTERM);
	node_free(&a);
	envs_release(lot, 3);
	fx_env_release(&cert);
	fx_actor_free(&m);
	fx_actor_free(&friend);
}

struct ev_copy {
	uint8_t *a, *b;
	size_t la, lb;
	size_t n;
};

static int
copy_evidence(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct ev_copy *e = arg;

	e->n++;
	assert_non_null(e->a = malloc(la));
	assert_non_null(e->b = malloc(lb));
	memcpy(e->a, a, la);
	memcpy(e->b, b, lb);
	e->la = la;
	e->lb = lb;
	return 0;
}

static void
read_evidence(const struct node *n, struct ev_copy *e)
{
	struct ls_store *s = NULL;
	char dir[600];

	memset(e, 0, sizeof(*e));
	snprintf(dir, sizeof(dir), "%s/node", n->dir);
	assert_int_equal(ls_store_open(dir, NULL, &s, NULL), 0);
	assert_int_equal(ls_store_evidence(s, copy_evidence, e), 0);
	ls_store_close(&s);
}

/* One author signs two records with one seq and sends one to A, the other
 * to B while they are apart: once connected, both daemons store both (each
 * valid on its branch of the feed) and keep the same evidence, byte for
 * byte. */
static void
test_gossip_equivocation_same_evidence(void **state)
{
	struct world *w = *state;
	struct node a, b;
	struct node *ab[] = {&a, &b};
	struct fx_env cert, x1, x2;
	struct fx_actor *m;
	struct fx_mark mark;
	struct ev_copy ea, eb;
	char peer_a[600];
	uint64_t t0;

	node_init(&a);
	node_init(&b);
	snprintf(peer_a, sizeof(peer_a), "%s@%s", a.hex, a.listen);
	/* Apart at first: each daemon admits the record its client brings (a
	 * daemon refuses its own client a second record at a seq it holds). */
	node_start(w, &a, "--allow-peer", b.hex, NULL);
	node_start(w, &b, NULL);
	m = miner(w, "CN", &cert);
	submit(&a, &cert, 1, false);
	submit(&b, &cert, 1, false);

	mark = fx_mark(m);
	x1 = fx_lot(m, "twin-1", "pit", NULL, "ore", 1000, "Nd=300000");
	fx_rewind(m, &mark);
	x2 = fx_lot(m, "twin-2", "pit", NULL, "ore", 2000, "Nd=300000");
	assert_non_null(x1.buf);
	assert_non_null(x2.buf);
	assert_int_equal(x1.seq, x2.seq);
	{
		/* both at once: each daemon may take its own first */
		struct ls_api *aa = node_api(&a), *ab2 = node_api(&b);
		const uint8_t *e1[] = {x1.buf}, *e2[] = {x2.buf};
		size_t l1[] = {x1.len}, l2[] = {x2.len};
		struct ls_ingest_result r1, r2;
		assert_int_equal(ls_api_submit(aa, e1, l1, 1, &r1, NULL), 0);
		assert_int_equal(ls_api_submit(ab2, e2, l2, 1, &r2, NULL), 0);
		ls_api_close(&aa);
		ls_api_close(&ab2);
	}
	/* Then connected: anti-entropy sees the other head at the same seq
	 * and pulls it; both daemons store both records. */
	node_stop(&b, SIGTERM);
	node_start(w, &b, "--peer", peer_a, NULL);
	wait_records(ab, 2, 3);
	t0 = now_ms();
	for (;;) {
		struct ls_api_status sa, sb;
		bool done;
		assert_true(node_status(&a, &sa));
		assert_true(node_status(&b, &sb));
		done = sa.stats.equivocations == 1 && sb.stats.equivocations == 1;
		ls_api_status_release(&sa);
		ls_api_status_release(&sb);
		if (done)
			break;
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("the equivocation did not reach both daemons");
		usleep(50000);
	}
	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	read_evidence(&a, &ea);
	read_evidence(&b, &eb);
	assert_int_equal(ea.n, 1);
	assert_int_equal(eb.n, 1);
	assert_int_equal(ea.la, eb.la);
	assert_int_equal(ea.lb, eb.lb);
	assert_memory_equal(ea.a, eb.a, ea.la);
	assert_memory_equal(ea.b, eb.b, ea.lb);
	/* and it is the two records, in id order */
	{
		const struct fx_env *lo = memcmp(x1.id, x2.id, 32) < 0 ? &x1 : &x2;
		const struct fx_env *hi = lo == &x1 ? &x2 : &x1;
		assert_int_equal(ea.la, lo->len);
		assert_memory_equal(ea.a, lo->buf, lo->len);
		assert_int_equal(ea.lb, hi->len);
		assert_memory_equal(ea.b, hi->buf, hi->len);
	}
	free(ea.a);
	free(ea.b);
	free(eb.a);
	free(eb.b);
	fx_env_release(&x1);
	fx_env_release(&x2);
	fx_env_release(&cert);
	fx_actor_free(&m);
	node_free(&a);
	node_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_gossip_line_converges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_push_is_immediate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_restart_catches_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_stranger_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_hostile_peer_survived, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_verify_budget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_push_not_echoed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_equivocation_same_evidence, setup,
					    teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("LS_TEST_FILTER") != NULL) /* one test: LS_TEST_FILTER=test_gossip_x */
		cmocka_set_test_filter(getenv("LS_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
