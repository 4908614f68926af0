/*
 * helper_net.h - the world of the network tests (test_gossip,
 * test_witness_net): real lodestoned processes, each in a temporary data dir
 * with its own node key, API socket and gossip port on loopback, trusting
 * one authority; a hand-made peer (a CurveZMQ DEALER speaking gossip); and
 * a registry of the daemons started, so that teardown stops them and
 * removes their data dirs even when a test failed half way.
 *
 * The daemons are the build's (fx_bin_dir). Every wait is bounded and
 * scaled by fx_time_scale (memcheck runs the daemons 10 to 50 times
 * slower). A failed check fails the cmocka test.
 */
#ifndef LS_HELPER_NET_H
#define LS_HELPER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api.h"
#include "gossip.h"
#include "helper_fixture.h"
#include "keyfile.h"
#include "record.h"

/* The longest any condition is waited for. */
#define NET_WAIT_MS fx_scaled_ms(30000)

/* How many daemons and hand-made peers one test may have at a time. */
#define NET_MAX 8

struct node {
	char *dir; /* malloc'd; the data dir is DIR/node, the daemon's log DIR/daemon.log */
	char api[512], listen[64], log[512];
	char hex[LS_HEX_KEY_LEN + 1]; /* the node key in hex */
	uint8_t key[LS_KEY_LEN];
	pid_t pid; /* 0: not running */
};

struct net {
	char *dir;
	char trust[512]; /* the authority's .pub file */
	struct fx_actor *auth;
	void *zctx;
	/* Options every node_start adds (NULL-terminated; NULL: none). */
	const char *const *opts;
	/* what a failed test leaves behind, for teardown: the nodes (by
	 * address only: a failed test's nodes were on its stack frame, gone by
	 * then) with a copy of their process and data dir, kept by
	 * node_record */
	const struct node *nodes[NET_MAX];
	pid_t pids[NET_MAX];
	char *dirs[NET_MAX];
	void *socks[NET_MAX];
};

/* cmocka setup and teardown: *state is a struct net (one at a time).
 * Teardown kills what is still running and removes the data dirs (kept
 * when KEEP is set). */
int net_setup(void **state);
int net_teardown(void **state);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t net_now_ms(void);

/* Keeps the net's copy of n's process and data dir (registering n the
 * first time), which teardown reads instead of n. Called after every change
 * of either. */
void node_record(const struct node *n);
/* A data dir with its node key (lodestoned --init), an API socket and a
 * gossip port. */
void node_init(struct node *n);
/* An API connection to n (the call must succeed); ls_api_close it. */
struct ls_api *node_api(const struct node *n);
/* Status of n; false when it does not answer. Release *st when true. */
bool node_status(const struct node *n, struct ls_api_status *st);
/* Starts lodestoned on n with the net's trust anchor, --sync-interval 1,
 * w->opts and the extra options (NULL-terminated), then waits until its API
 * answers. */
void node_start(const struct net *w, struct node *n, ...);
/* Stops n with sig (SIGTERM: cleanly, which is checked; SIGKILL: a crash)
 * and reaps it. */
void node_stop(struct node *n, int sig);
/* Kills n if it runs, removes its data dir (kept when KEEP is set) and
 * forgets it. */
void node_free(struct node *n);
/* Whether n's daemon log holds needle. */
bool node_log_has(const struct node *n, const char *needle);
/* Submits envelopes to n; asserts each is accepted (or pending when
 * allow_pending: its dependencies come by gossip). */
void node_submit(const struct node *n, const struct fx_env *e, size_t count, bool allow_pending);
/* The peer entry of key in n's status; asserts it is there. */
struct ls_api_peer node_peer(const struct node *n, const uint8_t key[LS_KEY_LEN]);
/* Waits until every one of the k nodes holds `want` records with none
 * pending. */
void net_wait_records(struct node *const *nodes, size_t k, uint64_t want);

/* Connects to n's gossip endpoint with transport keys from an Ed25519 key
 * pair (kp NULL: a random Curve25519 pair, a stranger). Closed by
 * peer_close or teardown. */
void *peer_connect(struct net *w, const struct node *n, const struct ls_keypair *kp);
void peer_close(struct net *w, void *s);
/* Sends m (within the socket's send timeout, 5 s scaled); false when it
 * could not. */
bool peer_send(void *s, const struct ls_gossip_msg *m);
/* Receives one message (that decodes) within ms (scaled); false when none
 * came. *out is the caller's to release. */
bool peer_recv_any(void *s, int ms, struct ls_gossip_msg *out);
/* Receives one message of `kind` within ms (scaled; others are skipped);
 * false when none came. *out (may be NULL) is the caller's to release. */
bool peer_recv(void *s, enum ls_gossip_kind kind, int ms, struct ls_gossip_msg *out);
/* Sends Sync (reply wanted) until a Sync comes back, for up to ms (scaled). */
bool peer_ping(void *s, int ms);

/* An actor certified by the authority as a miner in country; *cert the
 * certificate (the caller's to release). */
struct fx_actor *net_miner(struct net *w, const char *country, struct fx_env *cert);
/* n lots m registers, labelled PREFIX-i. */
void net_lots(struct fx_actor *m, struct fx_env *out, size_t n, const char *prefix);
void net_envs_release(struct fx_env *e, size_t n);

#endif
