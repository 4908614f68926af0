/*
 * test_witness_net.c - real lodestoned processes witnessing each other's
 * logs over CurveZMQ on loopback: three peered daemons cosign each other's
 * checkpoints to quorum; a daemon whose data dir was copied and run twice
 * (one node key, two histories) is caught, the evidence reaches every peer
 * and status, and the forked log is never cosigned again; a hand-made
 * hostile owner (wrong proof, stale size, unknown key, unknown log) gets the
 * matching refusals, counted, and nothing crashes; a log that keeps an
 * authority record out past the grace period is refused; and a witness
 * killed with SIGKILL around its commit never cosigns two checkpoints that
 * are not one history.
 *
 * The daemons are the build's (fx_bin_dir: LODESTONE_BIN, set by `make test`;
 * else the build beside the test). Each runs in its own temporary data dir with its log in
 * DIR/daemon.log; every wait is bounded. The figures it prints (cosignature
 * round trip, checkpoint lag) are measurements, not checks.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>
#include <zmq.h>

#include "api.h"
#include "gossip.h"
#include "helper_fixture.h"
#include "helper_net.h"
#include "keyfile.h"
#include "note.h"
#include "store.h"
#include "util.h"
#include "witness.h"

/* Every daemon here also makes a checkpoint every second. */
static const char *const witness_opts[] = {"--checkpoint-interval", "1", NULL};

static int
witness_setup(void **state)
{
	int rc = net_setup(state);

	if (rc == 0)
		((struct net *)*state)->opts = witness_opts;
	return rc;
}

/* ---- waiting on status ---- */

/* The peer entry of key in a status; NULL when absent. */
static const struct ls_api_peer *
st_peer(const struct ls_api_status *st, const uint8_t key[LS_KEY_LEN])
{
	for (size_t i = 0; i < st->n_peers; i++)
		if (st->peers[i].has_key && memcmp(st->peers[i].key, key, LS_KEY_LEN) == 0)
			return &st->peers[i];
	return NULL;
}

/* Whether every one of the k peers of n cosigned n's checkpoint of at least
 * `size` and it reached quorum; *cp the checkpoint size. */
static bool
cosigned_by_all(const struct node *n, struct node *const *peers, size_t k, uint64_t size,
		uint64_t *cp)
{
	struct ls_api_status st;
	bool ok;

	if (!node_status(n, &st))
		return false;
	ok = st.checkpoint_size >= size && st.quorum_size >= st.checkpoint_size;
	for (size_t i = 0; ok && i < k; i++) {
		const struct ls_api_peer *p = st_peer(&st, peers[i]->key);
		ok = p != NULL && p->cosigned_size >= st.checkpoint_size;
	}
	if (cp != NULL)
		*cp = st.checkpoint_size;
	ls_api_status_release(&st);
	return ok;
}

static void
wait_cosigned(const struct node *n, struct node *const *peers, size_t k, uint64_t size,
	      uint64_t *cp)
{
	uint64_t t0 = net_now_ms();

	while (!cosigned_by_all(n, peers, k, size, cp)) {
		if (net_now_ms() - t0 > NET_WAIT_MS)
			fail_msg("checkpoint of at least %llu not cosigned by every peer within %d "
				 "ms; see %s",
				 (unsigned long long)size, (int)NET_WAIT_MS, n->log);
		usleep(20000);
	}
}

/* Waits until n's status lists a split view of log `origin`. */
static void
wait_split(const struct node *n, const char *origin)
{
	uint64_t t0 = net_now_ms();

	for (;;) {
		struct ls_api_status st;
		bool found = false;
		if (node_status(n, &st)) {
			for (size_t i = 0; i < st.n_split_views; i++)
				found |= strcmp(st.split_views[i].origin, origin) == 0;
			ls_api_status_release(&st);
		}
		if (found)
			return;
		if (net_now_ms() - t0 > NET_WAIT_MS)
			fail_msg("no split view of %s within %d ms; see %s", origin,
				 (int)NET_WAIT_MS, n->log);
		usleep(50000);
	}
}

static void
node_origin(const struct node *n, char origin[LS_NOTE_NAME_MAX], char wit[LS_VKEY_MAX])
{
	struct ls_api_status st;

	assert_true(node_status(n, &st));
	snprintf(origin, LS_NOTE_NAME_MAX, "%s", st.log_origin);
	if (wit != NULL)
		snprintf(wit, LS_VKEY_MAX, "%s", st.witness_vkey);
	ls_api_status_release(&st);
}

/* ---- a hand-made owner: a log of its own, served to a daemon ---- */

#define OLEAVES 64

struct owner {
	struct fx_actor *id; /* its node key */
	uint8_t log_pk[32], log_sk[64];
	struct ls_vkey log_key;
	char log_vkey[LS_VKEY_MAX], wit_vkey[LS_VKEY_MAX];
	void *s;
	uint8_t leaves[OLEAVES][LS_TLOG_LEAF_LEN];
	uint8_t hashes[OLEAVES][LS_TLOG_HASH];
	size_t n;
	struct ls_whead heads[16];
	size_t n_heads;
	const struct fx_env *have[8]; /* records it serves to a Fetch */
	size_t n_have;
};

static void
owner_init(struct owner *o)
{
	uint8_t wpk[32], wsk[64];
	struct ls_vkey wk;
	char hex[65], name[LS_NOTE_NAME_MAX];

	memset(o, 0, sizeof(*o));
	assert_non_null(o->id = fx_actor_new("NL"));
	crypto_sign_keypair(o->log_pk, o->log_sk);
	crypto_sign_keypair(wpk, wsk);
	snprintf(name, sizeof(name), "lodestone/%.16s", ls_hex(o->log_pk, 32, hex));
	assert_int_equal(ls_vkey_make(&o->log_key, name, LS_NOTE_ED25519, o->log_pk), 0);
	snprintf(name, sizeof(name), "lodestone-witness/%.16s", ls_hex(wpk, 32, hex));
	assert_int_equal(ls_vkey_make(&wk, name, LS_NOTE_COSIG, wpk), 0);
	ls_vkey_format(&o->log_key, o->log_vkey);
	ls_vkey_format(&wk, o->wit_vkey);
}

static void
owner_free(struct owner *o)
{
	fx_actor_free(&o->id);
}

/* Connects to n and exchanges log keys. */
static void
owner_connect(struct net *w, struct owner *o, const struct node *n)
{
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_LOG_KEYS, .reply = true};

	o->s = peer_connect(w, n, o->id->kp);
	assert_true(peer_ping(o->s, 5000));
	memcpy(m.log_vkey, o->log_vkey, sizeof(m.log_vkey));
	memcpy(m.wit_vkey, o->wit_vkey, sizeof(m.wit_vkey));
	assert_true(peer_send(o->s, &m));
	assert_true(peer_recv(o->s, LS_GOSSIP_LOG_KEYS, 5000, NULL));
}

static void
owner_leaf(struct owner *o, uint8_t kind, const uint8_t data[32])
{
	assert_true(o->n < OLEAVES);
	o->leaves[o->n][0] = kind;
	memcpy(o->leaves[o->n] + 1, data, 32);
	ls_tlog_leaf_hash(o->leaves[o->n], LS_TLOG_LEAF_LEN, o->hashes[o->n]);
	o->n++;
}

/* A record leaf; the heads follow ingest's rule. */
static void
owner_rec(struct owner *o, const struct fx_env *e, const uint8_t author[32], const uint8_t *prev)
{
	size_t i;

	owner_leaf(o, LS_TLOG_LEAF_RECORD, e->id);
	for (i = 0; i < o->n_heads; i++)
		if (memcmp(o->heads[i].author, author, 32) == 0)
			break;
	if (i == o->n_heads && e->seq == 1) {
		memcpy(o->heads[i].author, author, 32);
		o->n_heads++;
	} else if (i == o->n_heads || e->seq != o->heads[i].seq + 1 ||
		   memcmp(prev, o->heads[i].id, 32) != 0) {
		return;
	}
	o->heads[i].seq = e->seq;
	memcpy(o->heads[i].id, e->id, 32);
}

static void
owner_seal(struct owner *o)
{
	struct ls_whead h[16];
	uint8_t root[32];

	memcpy(h, o->heads, sizeof(h));
	ls_witness_heads_root(h, o->n_heads, root);
	owner_leaf(o, LS_TLOG_LEAF_HEADS, root);
}

static int
onode(void *arg, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	const struct owner *o = arg;
	uint8_t a[32], b[32];

	if (level == 0) {
		memcpy(out, o->hashes[index], 32);
		return 0;
	}
	onode(arg, level - 1, 2 * index, a);
	onode(arg, level - 1, 2 * index + 1, b);
	ls_tlog_node_hash(a, b, out);
	return 0;
}

/* Sends AddCheckpoint for size from old; key_sk signs it (NULL: the log
 * key); origin NULL: the log's; bad_proof: one hash changed. */
static void
owner_add(struct owner *o, uint64_t old, uint64_t size, const uint8_t *key_sk, const char *origin,
	  bool bad_proof)
{
	struct ls_addcp *a = calloc(1, sizeof(*a));
	struct ls_checkpoint c;
	struct ls_gossip_msg m = {.kind = LS_GOSSIP_ADD_CHECKPOINT};
	char *text = malloc(LS_NOTE_MAX + 4096);
	size_t len;

	assert_non_null(a);
	assert_non_null(text);
	a->old = old;
	assert_int_equal(ls_tlog_consistency(old, size, onode, o, a->proof, &a->n), 0);
	if (bad_proof && a->n > 0)
		a->proof[0][3] ^= 0x40;
	snprintf(c.origin, sizeof(c.origin), "%s", origin ? origin : o->log_key.name);
	c.size = size;
	assert_int_equal(ls_tlog_root(size, onode, o, c.root), 0);
	a->cp.body_len = ls_checkpoint_body(&c, a->cp.body, sizeof(a->cp.body));
	assert_int_equal(ls_note_sign(&a->cp, c.origin, key_sk ? key_sk : o->log_sk), 0);
	assert_true((len = ls_addcp_format(a, text, LS_NOTE_MAX + 4096)) > 0);
	m.data = (const uint8_t *)text;
	m.data_len = len;
	if (old > 0) {
		m.has_root = true;
		assert_int_equal(ls_tlog_root(old, onode, o, m.root), 0);
	}
	assert_true(peer_send(o->s, &m));
	free(text);
	free(a);
}

/* Serves the witness's entry requests until its reply comes (status into
 * *reply; 0 when none came within ms). on_entries: called right after each
 * Entries is sent (NULL: nothing); the reply is then waited for 500 ms at
 * most. Both times scaled. */
static void
owner_serve(struct owner *o, int ms, struct ls_gossip_msg *reply, void (*on_entries)(void *),
	    void *arg)
{
	uint64_t end = net_now_ms() + fx_scaled_ms((uint64_t)ms);
	struct ls_gossip_msg m;

	memset(reply, 0, sizeof(*reply));
	while (net_now_ms() < end) {
		if (!peer_recv_any(o->s, 50, &m))
			continue;
		if (m.kind == LS_GOSSIP_CHECKPOINT_REPLY) {
			*reply = m;
			return;
		}
		if (m.kind == LS_GOSSIP_FETCH) {
			const uint8_t *envs[8];
			size_t lens[8], k = 0;
			for (size_t i = 0; i < m.n_ids; i++)
				for (size_t h = 0; h < o->n_have && k < 8; h++)
					if (memcmp(o->have[h]->id, m.ids[i], LS_ID_LEN) == 0) {
						envs[k] = o->have[h]->buf;
						lens[k++] = o->have[h]->len;
					}
			if (k > 0) {
				struct ls_gossip_msg pm = {.kind = LS_GOSSIP_PUSH,
							   .envs = envs,
							   .lens = lens,
							   .n_envs = k};
				assert_true(peer_send(o->s, &pm));
			}
		}
		if (m.kind == LS_GOSSIP_ENTRIES_REQUEST) {
			struct ls_gossip_msg e = {.kind = LS_GOSSIP_ENTRIES, .from = m.from};
			uint64_t last = m.from + m.count < o->n ? m.from + m.count : o->n;
			e.leaves = (const uint8_t(*)[LS_GOSSIP_LEAF_LEN])o->leaves[m.from];
			e.n_leaves = m.from < o->n ? (size_t)(last - m.from) : 0;
			assert_true(peer_send(o->s, &e));
			if (on_entries != NULL) {
				/* a reply already on its way still comes */
				on_entries(arg);
				if (end > net_now_ms() + fx_scaled_ms(500))
					end = net_now_ms() + fx_scaled_ms(500);
			}
		}
		ls_gossip_msg_release(&m);
	}
}

/* ---- tests ---- */

/* A dials B and C. */
static void
start_a(struct net *w, struct node *a, const struct node *b, const struct node *c)
{
	char pb[200], pc[200];

	snprintf(pb, sizeof(pb), "%s@%s", b->hex, b->listen);
	snprintf(pc, sizeof(pc), "%s@%s", c->hex, c->listen);
	node_start(w, a, "--peer", pb, "--peer", pc, NULL);
}

/* A, B and C, each peered with both others. */
static void
start_three(struct net *w, struct node *a, struct node *b, struct node *c)
{
	char pc[200];

	node_init(a);
	node_init(b);
	node_init(c);
	snprintf(pc, sizeof(pc), "%s@%s", c->hex, c->listen);
	node_start(w, c, "--allow-peer", a->hex, "--allow-peer", b->hex, NULL);
	node_start(w, b, "--peer", pc, "--allow-peer", a->hex, NULL);
	start_a(w, a, b, c);
}

/* Three peered daemons: each one's checkpoints are cosigned by both others,
 * reach quorum, and the stored note carries both cosignatures. */
static void
test_witness_net_three_reach_quorum(void **state)
{
	struct net *w = *state;
	struct node a, b, c;
	struct node *ab[] = {&b, &c}, *ba[] = {&a, &c}, *ca[] = {&a, &b};
	struct fx_env cert, l[4];
	struct fx_actor *m;
	struct ls_api *api;
	struct ls_note *note = malloc(sizeof(*note));
	char *text = NULL, wb[LS_VKEY_MAX], wc[LS_VKEY_MAX], origin[LS_NOTE_NAME_MAX];
	struct ls_vkey kb, kc;
	uint64_t size, ts, cp;
	size_t len;

	assert_non_null(note);
	start_three(w, &a, &b, &c);
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 4, "q");
	node_submit(&a, &cert, 1, false);
	node_submit(&b, &l[0], 2, true);
	node_submit(&c, &l[2], 2, true);
	net_wait_records((struct node *[]){&a, &b, &c}, 3, 5);
	wait_cosigned(&a, ab, 2, 6, &cp);
	wait_cosigned(&b, ba, 2, 6, NULL);
	wait_cosigned(&c, ca, 2, 6, NULL);
	/* the stored note of A's checkpoint: B's and C's cosignatures verify */
	node_origin(&b, origin, wb);
	node_origin(&c, origin, wc);
	assert_int_equal(ls_vkey_parse(wb, &kb, NULL), 0);
	assert_int_equal(ls_vkey_parse(wc, &kc, NULL), 0);
	api = node_api(&a);
	assert_int_equal(ls_api_checkpoint(api, &size, &text, &len, NULL), 0);
	ls_api_close(&api);
	assert_true(size >= cp);
	assert_int_equal(ls_note_parse(text, len, note, NULL), 0);
	if (size == cp) {
		assert_int_equal(ls_cosig_verify(note, &kb, &ts), 0);
		assert_int_equal(ls_cosig_verify(note, &kc, &ts), 0);
	}
	/* B and C each witnessed A's log at that size */
	{
		struct ls_api_peer p = node_peer(&b, a.key);
		assert_true(p.witnessed_size >= cp);
		assert_true(p.cosigned_theirs >= 1);
		assert_int_equal(p.refused_theirs, 0);
		assert_false(p.distrusted);
		assert_true(p.log_vkey[0] != '\0');
	}
	free(text);
	free(note);
	net_envs_release(l, 4);
	fx_env_release(&cert);
	fx_actor_free(&m);
	node_free(&a);
	node_free(&b);
	node_free(&c);
}

/* Copies dir src to dst (cp -a). */
static void
copy_dir(const char *src, const char *dst)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", src, dst);
	assert_int_equal(system(cmd), 0);
}

/* Waits until peer key in n's status has refused n's checkpoints with a
 * reason holding `what`. */
static void
wait_refused(const struct node *n, const uint8_t key[LS_KEY_LEN], const char *what)
{
	uint64_t t0 = net_now_ms();

	for (;;) {
		struct ls_api_peer p = node_peer(n, key);
		if (p.refused_ours > 0 && strstr(p.refusal, what) != NULL)
			return;
		if (net_now_ms() - t0 > NET_WAIT_MS)
			fail_msg("no refusal saying '%s' within %d ms (last: '%s'); see %s", what,
				 NET_WAIT_MS, p.refusal, n->log);
		usleep(50000);
	}
}

/*
 * A forked log: A's data dir is copied while A is stopped; A runs on and
 * gets a checkpoint cosigned; then the copy runs with the same node key and
 * other records. Its checkpoints are not one history with the cosigned one:
 * the witnesses keep the evidence, it reaches every daemon and status, and
 * the log is never cosigned again (nor A's when it comes back).
 */
static void
test_witness_net_fork_caught(void **state)
{
	struct net *w = *state;
	struct node a, b, c, a2;
	struct node *ab[] = {&b, &c};
	struct fx_env cert, l[14];
	struct fx_actor *m;
	char origin[LS_NOTE_NAME_MAX], ddir[600], ddir2[600];
	uint64_t s1, s2;

	start_three(w, &a, &b, &c);
	node_origin(&a, origin, NULL);
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 14, "f");
	node_submit(&a, &cert, 1, false);
	node_submit(&a, &l[0], 2, false);
	wait_cosigned(&a, ab, 2, 4, &s1);
	node_stop(&a, SIGTERM);
	/* the copy: the same node key and address, another data dir */
	a2 = a;
	assert_non_null(a2.dir = fx_tmpdir());
	snprintf(a2.log, sizeof(a2.log), "%s/daemon.log", a2.dir);
	snprintf(a2.api, sizeof(a2.api), "ipc://%s/node/api.sock", a2.dir);
	snprintf(ddir, sizeof(ddir), "%s/node", a.dir);
	snprintf(ddir2, sizeof(ddir2), "%s/node", a2.dir);
	copy_dir(ddir, ddir2);
	node_record(&a2);
	/* A goes on: two more records, cosigned */
	start_a(w, &a, &b, &c);
	node_submit(&a, &l[2], 2, false);
	wait_cosigned(&a, ab, 2, s1 + 3, &s2);
	node_stop(&a, SIGTERM);
	/* the copy runs with other records (and gets A's from B and C) */
	start_a(w, &a2, &b, &c);
	node_submit(&a2, &l[4], 10, true);
	wait_split(&b, origin);
	wait_split(&c, origin);
	wait_split(&a2, origin); /* gossiped back to the forked daemon too */
	{
		struct ls_api_peer p = node_peer(&b, a.key);
		assert_true(p.distrusted);
		assert_int_equal(p.witnessed_size, s2); /* what it cosigned stays */
		assert_true(node_log_has(&b, "split view: log"));
	}
	/* never cosigned again: the copy, then A itself */
	{
		struct fx_env more[1];
		net_lots(m, more, 1, "more");
		node_submit(&a2, more, 1, false);
		fx_env_release(&more[0]);
	}
	wait_refused(&a2, b.key, "distrusted");
	wait_refused(&a2, c.key, "distrusted");
	node_stop(&a2, SIGTERM);
	start_a(w, &a, &b, &c);
	{
		struct fx_env more[1];
		net_lots(m, more, 1, "after");
		node_submit(&a, more, 1, true); /* waits for the copy's records */
		fx_env_release(&more[0]);
	}
	wait_refused(&a, b.key, "distrusted");
	wait_refused(&a, c.key, "distrusted");
	{
		struct ls_api_peer pb = node_peer(&a, b.key), pc = node_peer(&a, c.key);
		assert_int_equal(pb.cosigned_size, s2);
		assert_int_equal(pc.cosigned_size, s2);
	}
	net_envs_release(l, 14);
	fx_env_release(&cert);
	fx_actor_free(&m);
	node_free(&a);
	node_free(&a2);
	node_free(&b);
	node_free(&c);
}

/* The witness's refusals of the owner o, as its status counts them. */
static uint64_t
refused_of(const struct node *n, const struct owner *o, char reason[LS_API_REASON_MAX])
{
	struct ls_api_peer p = node_peer(n, o->id->kp->pk);

	if (reason != NULL)
		memcpy(reason, p.refused_reason, LS_API_REASON_MAX);
	return p.refused_theirs;
}

/* Expects a reply of `status` (with a reason holding `what`). */
static void
expect_reply(struct owner *o, uint32_t status, const char *what)
{
	struct ls_gossip_msg r;

	owner_serve(o, 10000, &r, NULL, NULL);
	if (r.status != status || (what != NULL && strstr(r.reason, what) == NULL))
		fail_msg("reply %u '%s', not %u '%s'", r.status, r.reason, status,
			 what ? what : "");
	ls_gossip_msg_release(&r);
}

/*
 * A hostile owner: its first checkpoint (of records the witness holds) is
 * cosigned; then a stale size, a wrong consistency proof, a checkpoint signed
 * by a key that is not its log key and one of a log it does not have get
 * 409, 422, 403 and 404, each counted; a record the witness lacks is
 * fetched from the owner (and one with a broken signature refused); the
 * daemon answers throughout and serves its own entries and records.
 */
static void
test_witness_net_hostile_owner(void **state)
{
	struct net *w = *state;
	struct node a;
	struct owner o;
	struct fx_env cert, l[3];
	struct fx_actor *m;
	struct ls_gossip_msg r;
	uint8_t other_pk[32], other_sk[64];
	char reason[LS_API_REASON_MAX];
	uint64_t n1;

	owner_init(&o);
	node_init(&a);
	node_start(w, &a, "--allow-peer", ls_hex(o.id->kp->pk, 32, (char[65]){0}), NULL);
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 3, "h");
	node_submit(&a, &cert, 1, false);
	node_submit(&a, l, 3, false);
	owner_connect(w, &o, &a);
	/* its log: the certificate and two lots, then a seal */
	owner_rec(&o, &cert, w->auth->kp->pk, NULL);
	owner_rec(&o, &l[0], m->kp->pk, NULL);
	owner_rec(&o, &l[1], m->kp->pk, l[0].id);
	owner_seal(&o);
	n1 = o.n;
	owner_add(&o, 0, n1, NULL, NULL, false);
	owner_serve(&o, 10000, &r, NULL, NULL);
	if (r.status != 200)
		fail_msg("first checkpoint: %u %s", r.status, r.reason);
	assert_true(r.data_len > 0);
	ls_gossip_msg_release(&r);
	owner_rec(&o, &l[2], m->kp->pk, l[1].id);
	owner_seal(&o);

	/* 409: a stale old size, with the witness's size */
	owner_add(&o, 0, o.n, NULL, NULL, false);
	owner_serve(&o, 10000, &r, NULL, NULL);
	assert_int_equal(r.status, 409);
	assert_true(r.has_size);
	assert_int_equal(r.size, n1);
	ls_gossip_msg_release(&r);
	/* 422: a wrong consistency proof */
	owner_add(&o, n1, o.n, NULL, NULL, true);
	expect_reply(&o, 422, "consistency proof");
	/* 403: signed by a key that is not its log key */
	crypto_sign_keypair(other_pk, other_sk);
	owner_add(&o, n1, o.n, other_sk, NULL, false);
	expect_reply(&o, 403, NULL);
	/* 404: a log it does not have */
	owner_add(&o, n1, o.n, other_sk, "lodestone/0123456789abcdef", false);
	expect_reply(&o, 404, "unknown log");
	/* malformed bytes as a request: 400 */
	{
		struct ls_gossip_msg bad = {.kind = LS_GOSSIP_ADD_CHECKPOINT};
		bad.data = (const uint8_t *)"old x\n";
		bad.data_len = 6;
		assert_true(peer_send(o.s, &bad));
		expect_reply(&o, 400, NULL);
	}
	assert_int_equal(refused_of(&a, &o, reason), 5);
	assert_non_null(strstr(reason, "400"));
	/* and the right one is still cosigned */
	owner_add(&o, n1, o.n, NULL, NULL, false);
	expect_reply(&o, 200, NULL);
	{
		struct ls_api_peer p = node_peer(&a, o.id->kp->pk);
		assert_int_equal(p.witnessed_size, o.n);
		assert_int_equal(p.cosigned_theirs, 2);
	}
	/* a record the witness lacks: fetched from the owner, then cosigned */
	{
		struct fx_env l4 = fx_lot(m, "h-3", "pit", NULL, "ore", 1000, "Dy=1000");
		struct fx_env l5 = fx_lot(m, "h-4", "pit", NULL, "ore", 1000, "Dy=1000");
		uint64_t n2 = o.n;
		owner_rec(&o, &l4, m->kp->pk, l[2].id);
		owner_seal(&o);
		o.have[o.n_have++] = &l4;
		owner_add(&o, n2, o.n, NULL, NULL, false);
		expect_reply(&o, 200, NULL);
		net_wait_records((struct node *[]){&a}, 1, 5);
		/* and one whose signature is broken: refused as invalid */
		n2 = o.n;
		l5.buf[l5.len - 3] ^= 0x01;
		owner_rec(&o, &l5, m->kp->pk, l4.id);
		owner_seal(&o);
		o.have[o.n_have++] = &l5;
		owner_add(&o, n2, o.n, NULL, NULL, false);
		expect_reply(&o, 422, "invalid record");
		o.n_have = 0;
		fx_env_release(&l4);
		fx_env_release(&l5);
	}
	/* split-view evidence sent by a peer is checked: two checkpoints that
	 * are one history are no evidence (counted); two of one size with other
	 * roots are, and the log is distrusted from then on */
	{
		struct ls_gossip_msg sv = {.kind = LS_GOSSIP_SPLIT_VIEW};
		struct ls_note *na = calloc(1, sizeof(*na)), *nb = calloc(1, sizeof(*nb));
		char ta[LS_NOTE_MAX], tb[LS_NOTE_MAX], origin[LS_NOTE_NAME_MAX];
		struct ls_checkpoint c1;
		uint64_t rejected = node_peer(&a, o.id->kp->pk).rejected;
		assert_non_null(na);
		assert_non_null(nb);
		snprintf(origin, sizeof(origin), "%s", o.log_key.name);
		snprintf(c1.origin, sizeof(c1.origin), "%s", origin);
		c1.size = n1;
		assert_int_equal(ls_tlog_root(n1, onode, &o, c1.root), 0);
		na->body_len = ls_checkpoint_body(&c1, na->body, sizeof(na->body));
		assert_int_equal(ls_note_sign(na, origin, o.log_sk), 0);
		sv.data = (const uint8_t *)ta;
		sv.data_len = ls_note_format(na, ta, sizeof(ta));
		sv.data_b = (const uint8_t *)ta;
		sv.data_b_len = sv.data_len;
		assert_true(peer_send(o.s, &sv)); /* the same checkpoint twice */
		assert_true(peer_ping(o.s, 5000));
		assert_true(node_peer(&a, o.id->kp->pk).rejected > rejected);
		randombytes_buf(c1.root, sizeof(c1.root));
		nb->body_len = ls_checkpoint_body(&c1, nb->body, sizeof(nb->body));
		assert_int_equal(ls_note_sign(nb, origin, o.log_sk), 0);
		sv.data_b = (const uint8_t *)tb;
		sv.data_b_len = ls_note_format(nb, tb, sizeof(tb));
		assert_true(peer_send(o.s, &sv));
		wait_split(&a, origin);
		assert_true(node_peer(&a, o.id->kp->pk).distrusted);
		owner_rec(&o, &l[2], m->kp->pk, l[1].id);
		owner_seal(&o);
		owner_add(&o, o.n - 2, o.n, NULL, NULL, false);
		expect_reply(&o, 422, "distrusted");
		free(na);
		free(nb);
	}
	/* the daemon serves its own log and records */
	{
		struct ls_gossip_msg q = {.kind = LS_GOSSIP_ENTRIES_REQUEST, .from = 0, .count = 3};
		struct ls_gossip_msg f = {.kind = LS_GOSSIP_FETCH, .n_ids = 1};
		assert_true(peer_send(o.s, &q));
		assert_true(peer_recv(o.s, LS_GOSSIP_ENTRIES, 5000, &r));
		assert_int_equal(r.from, 0);
		assert_true(r.n_leaves >= 1);
		ls_gossip_msg_release(&r);
		f.ids = (const uint8_t(*)[LS_ID_LEN])cert.id;
		assert_true(peer_send(o.s, &f));
		assert_true(peer_recv(o.s, LS_GOSSIP_PUSH, 5000, &r));
		assert_int_equal(r.n_envs, 1);
		assert_int_equal(r.lens[0], cert.len);
		ls_gossip_msg_release(&r);
	}
	assert_true(peer_ping(o.s, 5000));
	net_envs_release(l, 3);
	fx_env_release(&cert);
	fx_actor_free(&m);
	owner_free(&o);
	node_free(&a);
}

/*
 * The grace period: W trusts a second authority that O does not, so O never
 * stores (nor logs) that authority's certificate. Once W has held it longer
 * than its grace period (2 s here), O's checkpoints are refused.
 */
static void
test_witness_net_grace(void **state)
{
	struct net *w = *state;
	struct node o, wt;
	struct fx_actor *auth2 = fx_actor_new("US"), *m;
	struct fx_env cert2, cert, l[2];
	char trust2[600], po[200];

	assert_non_null(auth2);
	snprintf(trust2, sizeof(trust2), "%s/auth2.pub", w->dir);
	assert_int_equal(ls_pubkey_save(trust2, auth2->kp->pk, NULL), 0);
	node_init(&o);
	node_init(&wt);
	snprintf(po, sizeof(po), "%s@%s", o.hex, o.listen);
	node_start(w, &o, "--allow-peer", wt.hex, NULL);
	node_start(w, &wt, "--peer", po, "--trust", trust2, "--witness-grace", "2", NULL);
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 2, "g");
	node_submit(&o, &cert, 1, false);
	node_submit(&o, &l[0], 1, false);
	wait_cosigned(&o, (struct node *[]){&wt}, 1, 3, NULL);
	/* an authority record only W takes */
	{
		struct fx_actor *x = fx_actor_new("US");
		cert2 = fx_cert(auth2, x, "other", "US", LS_ROLE_MINER, 0, 0);
		node_submit(&wt, &cert2, 1, false);
		fx_actor_free(&x);
	}
	sleep(3);
	node_submit(&o, &l[1], 1, false);
	wait_refused(&o, wt.key, "kept out of the log");
	assert_true(node_log_has(&o, "kept out of the log"));
	net_envs_release(l, 2);
	fx_env_release(&cert);
	fx_env_release(&cert2);
	fx_actor_free(&m);
	fx_actor_free(&auth2);
	node_free(&o);
	node_free(&wt);
}

struct killer {
	pid_t pid;
	unsigned delay_us;
	bool fired;
};

static void
kill_now(void *arg)
{
	struct killer *k = arg;

	if (k->fired)
		return;
	if (k->delay_us > 0)
		usleep(k->delay_us);
	kill(k->pid, SIGKILL);
	k->fired = true;
}

/*
 * A witness killed with SIGKILL while it checks, commits and answers a
 * checkpoint, at moments around its commit: after a restart it never
 * cosigns another checkpoint of the same size (a fork of the log) when it
 * had cosigned the first, and a committed state it never answered is still
 * its state.
 */
static void
test_witness_net_kill_around_commit(void **state)
{
	struct net *w = *state;
	struct node a;
	struct fx_env cert, l[1];
	struct fx_actor *m;
	unsigned hits = 0, answered = 0, rounds = 4;
	char allow[65], cmd[1400];

	node_init(&a);
	m = net_miner(w, "CN", &cert);
	net_lots(m, l, 1, "k");
	for (unsigned round = 0; round < rounds; round++) {
		struct owner o;
		struct ls_gossip_msg r, r2;
		struct killer k;
		uint64_t n1;
		bool got200;

		/* a witness with the records and no witness state */
		snprintf(cmd, sizeof(cmd), "rm -f '%s/node/data.mdb' '%s/node/lock.mdb'", a.dir,
			 a.dir);
		assert_int_equal(system(cmd), 0);
		owner_init(&o);
		ls_hex(o.id->kp->pk, 32, allow);
		/* round 0: the daemon kills itself right after its commit;
		 * then kills from outside at moments around it */
		if (round == 0)
			setenv("LODESTONED_TEST_CRASH", "after-witness-commit", 1);
		node_start(w, &a, "--allow-peer", allow, NULL);
		unsetenv("LODESTONED_TEST_CRASH");
		node_submit(&a, &cert, 1, false);
		node_submit(&a, l, 1, false);
		owner_connect(w, &o, &a);
		owner_rec(&o, &cert, w->auth->kp->pk, NULL);
		owner_rec(&o, &l[0], m->kp->pk, NULL);
		owner_seal(&o);
		n1 = o.n;
		k = (struct killer){a.pid, round > 0 ? (round - 1) * 400 : 0, round == 0};
		owner_add(&o, 0, n1, NULL, NULL, false);
		owner_serve(&o, 5000, &r, kill_now, &k);
		got200 = r.status == 200;
		answered += got200;
		ls_gossip_msg_release(&r);
		if (!k.fired)
			kill(a.pid, SIGKILL);
		waitpid(a.pid, NULL, 0);
		a.pid = 0;
		node_record(&a);
		peer_close(w, o.s);
		/* after the restart, a fork: the same size, another history */
		node_start(w, &a, "--allow-peer", allow, NULL);
		owner_connect(w, &o, &a);
		o.n = 0;
		o.n_heads = 0;
		owner_rec(&o, &cert, w->auth->kp->pk, NULL);
		owner_seal(&o);
		owner_seal(&o);
		assert_int_equal(o.n, n1);
		owner_add(&o, 0, n1, NULL, NULL, false);
		owner_serve(&o, 10000, &r2, NULL, NULL);
		if (got200 && r2.status == 200)
			fail_msg("round %u: the witness cosigned two checkpoints of size %llu that "
				 "are not one history",
				 round, (unsigned long long)n1);
		if (r2.status == 409) {
			/* it had committed the first: the fork is evidence */
			assert_int_equal(r2.size, n1);
			if (!got200)
				hits++; /* committed, killed before it answered */
			ls_gossip_msg_release(&r2);
			owner_add(&o, n1, n1, NULL, NULL, false);
			owner_serve(&o, 10000, &r2, NULL, NULL);
			assert_int_equal(r2.status, 422);
			assert_non_null(strstr(r2.reason, "split view"));
		} else if (got200) {
			fail_msg("round %u: a cosigned state was lost by the kill (%u %s)", round,
				 r2.status, r2.reason);
		} else if (r2.status != 200) {
			fail_msg("round %u: the fork, never cosigned before, got %u %s", round,
				 r2.status, r2.reason);
		}
		if (round == 0 && (got200 || hits != 1))
			fail_msg("the crash after the commit: answered %d, committed %u", got200,
				 hits);
		ls_gossip_msg_release(&r2);
		peer_close(w, o.s);
		owner_free(&o);
		node_stop(&a, SIGTERM);
	}
	print_message("  kill around the commit: %u rounds, %u answered before the kill, %u "
		      "committed and killed before answering (1 by the crash point)\n",
		      rounds, answered, hits);
	net_envs_release(l, 1);
	fx_env_release(&cert);
	fx_actor_free(&m);
	node_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_witness_net_three_reach_quorum, witness_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_witness_net_fork_caught, witness_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_witness_net_hostile_owner, witness_setup,
					    net_teardown),
	    cmocka_unit_test_setup_teardown(test_witness_net_grace, witness_setup, net_teardown),
	    cmocka_unit_test_setup_teardown(test_witness_net_kill_around_commit, witness_setup,
					    net_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
