/*
 * helper_net.c - the world of the network tests (helper_net.h).
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
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

#include "helper_net.h"
#include "store.h"
#include "util.h"

static struct net *the_net; /* for node_record and node_free */

uint64_t
net_now_ms(void)
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
void
node_record(const struct node *n)
{
	size_t free_slot = NET_MAX;

	for (size_t i = 0; i < NET_MAX; i++) {
		if (the_net->nodes[i] == n) {
			the_net->pids[i] = n->pid;
			the_net->dirs[i] = n->dir;
			return;
		}
		if (the_net->nodes[i] == NULL && free_slot == NET_MAX)
			free_slot = i;
	}
	assert_true(free_slot < NET_MAX);
	the_net->nodes[free_slot] = n;
	the_net->pids[free_slot] = n->pid;
	the_net->dirs[free_slot] = n->dir;
}

/* A data dir with its node key (lodestoned --init), an API socket and a
 * gossip port. */
void
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

struct ls_api *
node_api(const struct node *n)
{
	struct ls_api *a = NULL;

	assert_int_equal(ls_api_open(n->api, (int)fx_scaled_ms(10000), &a, NULL), 0);
	return a;
}

/* Status of n; false when it does not answer. */
bool
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
void
node_start(const struct net *w, struct node *n, ...)
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
	for (size_t i = 0; w->opts != NULL && w->opts[i] != NULL && k < 62; i++)
		argv[k++] = (char *)w->opts[i];
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
	t0 = net_now_ms();
	while (!node_status(n, &st)) {
		int wst;
		if (waitpid(n->pid, &wst, WNOHANG) == n->pid) {
			n->pid = 0;
			node_record(n);
			fail_msg("lodestoned exited at start; see %s", n->log);
		}
		if (net_now_ms() - t0 > NET_WAIT_MS)
			fail_msg("lodestoned did not answer within %llu ms; see %s",
				 (unsigned long long)NET_WAIT_MS, n->log);
		usleep(20000);
	}
	ls_api_status_release(&st);
}

/* Stops n with sig (SIGTERM: cleanly, SIGKILL: a crash) and reaps it. */
void
node_stop(struct node *n, int sig)
{
	uint64_t t0 = net_now_ms();
	int st = 0;

	if (n->pid <= 0)
		return;
	kill(n->pid, sig);
	while (waitpid(n->pid, &st, WNOHANG) == 0) {
		if (net_now_ms() - t0 > fx_scaled_ms(15000)) {
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

void
node_free(struct node *n)
{
	for (size_t i = 0; i < NET_MAX; i++)
		if (the_net->nodes[i] == n) {
			the_net->nodes[i] = NULL;
			the_net->pids[i] = 0;
			the_net->dirs[i] = NULL;
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

bool
node_log_has(const struct node *n, const char *needle)
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
void
node_submit(const struct node *n, const struct fx_env *e, size_t count, bool allow_pending)
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
void
net_wait_records(struct node *const *nodes, size_t k, uint64_t want)
{
	uint64_t t0 = net_now_ms();

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
		if (net_now_ms() - t0 > NET_WAIT_MS) {
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
				 (unsigned long long)want, (unsigned long long)NET_WAIT_MS);
		}
		usleep(50000);
	}
}

/* The peer entry of key in n's status; asserts it is there. */
struct ls_api_peer
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

/* ---- a hand-made peer: a CurveZMQ DEALER speaking gossip ---- */

/* Connects to n's gossip endpoint with transport keys from an Ed25519 key
 * pair (sk NULL: a random Curve25519 pair, a stranger). */
void *
peer_connect(struct net *w, const struct node *n, const struct ls_keypair *kp)
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
	for (size_t i = 0; i < NET_MAX; i++)
		if (w->socks[i] == NULL) {
			w->socks[i] = s;
			break;
		}
	return s;
}

void
peer_close(struct net *w, void *s)
{
	for (size_t i = 0; i < NET_MAX; i++)
		if (w->socks[i] == s)
			w->socks[i] = NULL;
	zmq_close(s);
}

/* Sends m (within the socket's send timeout, 5 s scaled); false when it could
 * not. */
bool
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

bool
peer_recv_any(void *s, int ms, struct ls_gossip_msg *out)
{
	uint64_t t0 = net_now_ms();

	while (net_now_ms() - t0 < fx_scaled_ms((uint64_t)ms)) {
		zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
		zmq_msg_t m;
		int rc;

		if (zmq_poll(&it, 1, 20) != 1)
			continue;
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		rc = ls_gossip_decode(zmq_msg_data(&m), zmq_msg_size(&m), out, NULL);
		zmq_msg_close(&m);
		if (rc == 0)
			return true;
	}
	return false;
}

bool
peer_recv(void *s, enum ls_gossip_kind kind, int ms, struct ls_gossip_msg *out)
{
	uint64_t t0 = net_now_ms();
	struct ls_gossip_msg g;

	while (net_now_ms() - t0 < fx_scaled_ms((uint64_t)ms)) {
		if (!peer_recv_any(s, 50, &g))
			continue;
		if (g.kind == kind) {
			if (out != NULL)
				*out = g;
			else
				ls_gossip_msg_release(&g);
			return true;
		}
		ls_gossip_msg_release(&g);
	}
	return false;
}

/* Sends Sync (reply wanted) until a Sync comes back, for up to ms (scaled). */
bool
peer_ping(void *s, int ms)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_SYNC, .reply = true};
	uint64_t t0 = net_now_ms();

	while (net_now_ms() - t0 < fx_scaled_ms((uint64_t)ms)) {
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

int
net_setup(void **state)
{
	struct net *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_non_null(w->dir = fx_tmpdir());
	assert_non_null(w->auth = fx_actor_new("CN"));
	snprintf(w->trust, sizeof(w->trust), "%s/auth.pub", w->dir);
	assert_int_equal(ls_pubkey_save(w->trust, w->auth->kp->pk, NULL), 0);
	assert_non_null(w->zctx = zmq_ctx_new());
	the_net = w;
	*state = w;
	return 0;
}

int
net_teardown(void **state)
{
	struct net *w = *state;

	for (size_t i = 0; i < NET_MAX; i++) {
		if (w->socks[i] != NULL)
			zmq_close(w->socks[i]);
		if (w->nodes[i] == NULL)
			continue;
		/* from the world's copy only (see struct net) */
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
	the_net = NULL;
	fx_actor_free(&w->auth);
	fx_rmtree(w->dir);
	free(w->dir);
	free(w);
	return 0;
}

/* An actor certified by the authority, and n lots it registers. */
struct fx_actor *
net_miner(struct net *w, const char *country, struct fx_env *cert)
{
	struct fx_actor *m = fx_actor_new(country);

	assert_non_null(m);
	*cert = fx_cert(w->auth, m, "mine", country, LS_ROLE_MINER, 0, 0);
	assert_non_null(cert->buf);
	return m;
}

void
net_lots(struct fx_actor *m, struct fx_env *out, size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char label[64];
		snprintf(label, sizeof(label), "%s-%zu", prefix, i);
		out[i] = fx_lot(m, label, "pit", NULL, "ore", 1000 + i, "Nd=300000,Dy=20000");
		assert_non_null(out[i].buf);
	}
}

void
net_envs_release(struct fx_env *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fx_env_release(&e[i]);
}