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
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "gossip.h"
#include "helper_fixture.h"
#include "helper_net.h"
#include "keyfile.h"
#include "store.h"
#include "util.h"

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

/* Waits until n lists peer key as connected and synced. */
static void
wait_peer_synced(const struct node *n, const uint8_t key[LS_KEY_LEN])
{
	uint64_t t0 = net_now_ms();

	for (;;) {
		struct ls_api_peer p = node_peer(n, key);
		if (p.connected && p.last_sync != 0)
			return;
		if (net_now_ms() - t0 > NET_WAIT_MS)
			fail_msg("peer never connected and synced; see %s", n->log);
		usleep(50000);
	}
}

/* ---- tests ---- */

/* A - B - C in a line (A and C not connected): records written at either end
 * reach the other end through B, including a record that waits there for one
 * written at the other end. */
static void
test_gossip_line_converges(void **state)
{
	struct net *w = *state;
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

	ma = net_miner(w, "CN", &ca); /* authority seq 1 */
	mc = net_miner(w, "MM", &cc); /* authority seq 2: at C it waits for seq 1 */
	net_lots(ma, la, 20, "a");
	net_lots(mc, lc, 20, "c");
	node_submit(&a, &ca, 1, false);
	node_submit(&a, la, 20, false);
	node_submit(&c, &cc, 1, true);
	node_submit(&c, lc, 20, true);
	net_wait_records(all, 3, 42);
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
	net_envs_release(la, 20);
	net_envs_release(lc, 20);
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
	struct net *w = *state;
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
	ma = net_miner(w, "CN", &ca);
	net_lots(ma, la, 10, "a");
	mb = net_miner(w, "DE", &cb);
	net_lots(mb, lb, 10, "b");
	t0 = net_now_ms();
	node_submit(&a, &ca, 1, false);
	node_submit(&a, la, 10, false);
	node_submit(&b, &cb, 1, true);
	node_submit(&b, lb, 10, true);
	net_wait_records(ab, 2, 22);
	assert_true(net_now_ms() - t0 < fx_scaled_ms(30000)); /* well before the next sync */
	assert_true(node_has(&a, lb[9].id) && node_has(&b, la[9].id));

	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	net_envs_release(la, 10);
	net_envs_release(lb, 10);
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
	struct net *w = *state;
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
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 300, "lot");
	node_submit(&a, &cert, 1, false);
	node_submit(&a, l, 50, false);
	net_wait_records(ab, 2, 51);

	node_stop(&b, SIGKILL);
	for (size_t i = 50; i < 300; i += 25)
		node_submit(&a, l + i, 25, false);
	node_start(w, &b, "--peer", peer_a, NULL);
	net_wait_records(ab, 2, 301);
	assert_true(node_has(&b, l[299].id));

	node_start(w, &d, "--peer", peer_a, NULL);
	net_wait_records(abd, 3, 301);
	assert_true(node_has(&d, l[0].id) && node_has(&d, l[299].id));
	/* a first sync of 301 records is long enough to say so in the log */
	for (unsigned i = 0; i < 100 * fx_time_scale() && !node_log_has(&d, "sync done: "); i++)
		usleep(50 * 1000);
	if (!node_log_has(&d, "sync done: ")) {
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "grep -v 'debug: api\\|accepted' '%s' | tail -30 >&2",
			 d.log);
		if (system(cmd) != 0)
			fprintf(stderr, "(no log)\n");
	}
	assert_true(node_log_has(&d, "sync done: "));

	node_stop(&a, SIGTERM);
	node_stop(&b, SIGTERM);
	node_stop(&d, SIGTERM);
	net_envs_release(l, 300);
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
	struct net *w = *state;
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
	assert_true(node_log_has(&a, "refused a gossip connection"));
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
	struct net *w = *state;
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
	m = net_miner(w, "CN", &cert);
	node_submit(&a, &cert, 1, false);
	net_lots(m, good, 2, "good");
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
		net_wait_records(one, 1, 3); /* the certificate and both lots */
	}

	/* 8. a flood of records (forged: each would cost a signature check)
	 * past the peer's verification budget: the excess is dropped and
	 * counted, shown in status, and the daemon goes on answering. A push
	 * is taken whole or not at all, and steps 2 and 7 spent 3 of the 256
	 * tokens: 100 ms refill them (128 a second), so the flood's first push
	 * fits the burst however fast this machine got here. */
	usleep(100 * 1000);
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
	net_envs_release(good, 2);
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
	struct net *w = *state;
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
	m = net_miner(w, "CN", &cert);
	m2 = net_miner(w, "AU", &cert2);
	node_submit(&a, &cert, 1, false);
	node_submit(&a, &cert2, 1, false);
	net_lots(m, flood, FLOOD_LOTS, "flood");
	net_lots(m2, mine, 8, "honest");
	se = peer_connect(w, &a, evil->kp);
	sg = peer_connect(w, &a, good->kp);
	assert_true(peer_ping(se, 5000));
	assert_true(peer_ping(sg, 5000));

	/* the flood, then the other peer's push right behind it */
	t0 = net_now_ms();
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
		uint64_t ms = net_now_ms() - t0,
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
	t0 = net_now_ms();
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
	} while (stored < 2 + 8 + FLOOD_LOTS && net_now_ms() - t0 < fx_scaled_ms(30000));
	assert_int_equal(stored, 2 + 8 + FLOOD_LOTS); /* the two certificates, the lots */
	peer_close(w, se);
	peer_close(w, sg);
	node_stop(&a, SIGTERM);
	node_free(&a);
	net_envs_release(flood, FLOOD_LOTS);
	net_envs_release(mine, 8);
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
	struct net *w = *state;
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
	m = net_miner(w, "CN", &cert);
	node_submit(&a, &cert, 1, false);
	net_lots(m, lot, 3, "echo");
	s = peer_connect(w, &a, friend->kp);
	assert_true(peer_ping(s, 5000));
	{
		const uint8_t *envs[] = {lot[0].buf, lot[1].buf};
		size_t lens[] = {lot[0].len, lot[1].len};
		msg = (struct ls_gossip_msg){
		    .kind = LS_GOSSIP_PUSH, .n_envs = 2, .envs = envs, .lens = lens};
		assert_true(peer_send(s, &msg));
	}
	net_wait_records(one, 1, 3); /* the certificate and both lots */
	assert_false(peer_recv(s, LS_GOSSIP_PUSH, 1000, NULL));
	assert_int_equal(node_peer(&a, friend->kp->pk).received, 2);

	node_submit(&a, &lot[2], 1, false);
	assert_true(peer_recv(s, LS_GOSSIP_PUSH, 5000, &got));
	assert_int_equal(got.n_envs, 1);
	assert_int_equal(got.lens[0], lot[2].len);
	assert_memory_equal(got.envs[0], lot[2].buf, lot[2].len);
	ls_gossip_msg_release(&got);

	peer_close(w, s);
	node_stop(&a, SIGTERM);
	node_free(&a);
	net_envs_release(lot, 3);
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
	struct net *w = *state;
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
	m = net_miner(w, "CN", &cert);
	node_submit(&a, &cert, 1, false);
	node_submit(&b, &cert, 1, false);

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
	net_wait_records(ab, 2, 3);
	t0 = net_now_ms();
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
		if (net_now_ms() - t0 > NET_WAIT_MS)
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
	    cmocka_unit_test_setup_teardown(test_gossip_line_converges, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_push_is_immediate, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_restart_catches_up, net_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_stranger_refused, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_hostile_peer_survived, net_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_verify_budget, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_push_not_echoed, net_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_gossip_equivocation_same_evidence, net_setup,
					    net_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	if (getenv("LS_TEST_FILTER") != NULL) /* one test: LS_TEST_FILTER=test_gossip_x */
		cmocka_set_test_filter(getenv("LS_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
