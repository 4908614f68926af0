/* WRAP: mdb_txn_commit */
/*
 * test_log.c - the Merkle log in the store (lib/logstore.c): a leaf per
 * stored record in store order, seals with the heads leaf, roots and proofs
 * that check with lib/tlog.h against a tree computed here from the leaves,
 * the heads tree of old seals, checkpoints, quorum and logged times, a
 * failed commit (mdb_txn_commit wrapped, as in test_store_faults.c), reindex,
 * and stores without the log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "helper_world.h"
#include "note.h"
#include "store_int.h"
#include "tlog.h"
#include "util.h"

int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);

static struct {
	int rc;
	unsigned left;
} fault;

int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	if (fault.left > 0) {
		fault.left--;
		mdb_txn_abort(txn); /* as a failed commit does */
		return fault.rc;
	}
	return __real_mdb_txn_commit(txn);
}

/* ---- what the store holds, read back ---- */

#define MAXN 4096

struct leaves {
	uint8_t d[MAXN][LS_TLOG_LEAF_LEN];
	uint64_t n;
};

static int
leaf_one(void *arg, uint64_t index, const uint8_t leaf[LS_TLOG_LEAF_LEN])
{
	struct leaves *l = arg;

	assert_int_equal(index, l->n);
	assert_true(l->n < MAXN);
	memcpy(l->d[l->n++], leaf, LS_TLOG_LEAF_LEN);
	return 0;
}

static struct leaves *
leaves_of(struct ls_store *s)
{
	struct leaves *l = calloc(1, sizeof(*l));
	uint64_t size, sealed;

	assert_non_null(l);
	/* Paged, as a witness would fetch them. */
	for (;;) {
		uint64_t before = l->n;
		assert_int_equal(ls_store_log_leaves(s, l->n, 5, leaf_one, l), 0);
		if (l->n == before)
			break;
		assert_true(l->n - before <= 5);
	}
	assert_int_equal(ls_store_log_size(s, &size, &sealed), 0);
	assert_int_equal(size, l->n);
	return l;
}

struct recs {
	uint8_t id[MAXN][LS_ID_LEN];
	size_t n;
};

static int
rec_one(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct recs *x = arg;

	(void)pos;
	(void)env;
	(void)len;
	assert_true(x->n < MAXN);
	memcpy(x->id[x->n++], r->id, LS_ID_LEN);
	return 0;
}

static struct recs *
recs_of(struct ls_store *s)
{
	struct recs *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	assert_int_equal(ls_store_log(s, NULL, rec_one, x), 0);
	return x;
}

/* The root of the first n leaves, computed here from the leaf data. */
static void
root_of(const struct leaves *l, uint64_t n, uint8_t root[LS_TLOG_HASH])
{
	struct ls_tlog_range r;
	uint8_t h[LS_TLOG_HASH];

	ls_tlog_range_init(&r);
	for (uint64_t i = 0; i < n; i++) {
		ls_tlog_leaf_hash(l->d[i], LS_TLOG_LEAF_LEN, h);
		ls_tlog_range_append(&r, h);
	}
	ls_tlog_range_root(&r, root);
}

/*
 * Record stored iff logged: the record leaves, in order, are the stored
 * records in store order; every record's index names its leaf; heads leaves
 * only where a seal put them (the last one ends the sealed size).
 */
static void
check_agree(struct ls_store *s)
{
	struct leaves *l = leaves_of(s);
	struct recs *x = recs_of(s);
	struct ls_store_stats st;
	uint64_t size, sealed;
	size_t r = 0;

	assert_int_equal(ls_store_log_size(s, &size, &sealed), 0);
	assert_true(sealed <= size);
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.records, x->n);
	for (uint64_t i = 0; i < l->n; i++) {
		uint64_t idx;
		if (l->d[i][0] == LS_TLOG_LEAF_HEADS) {
			assert_true(i < sealed);
			continue;
		}
		assert_int_equal(l->d[i][0], LS_TLOG_LEAF_RECORD);
		assert_true(r < x->n);
		assert_memory_equal(l->d[i] + 1, x->id[r], LS_ID_LEN);
		assert_int_equal(ls_store_log_index(s, x->id[r], &idx), 0);
		assert_int_equal(idx, i);
		r++;
	}
	assert_int_equal(r, x->n);
	if (sealed > 0)
		assert_int_equal(l->d[sealed - 1][0], LS_TLOG_LEAF_HEADS);
	free(l);
	free(x);
}

/* Seals and checks the answer against the leaves. */
static uint64_t
seal(struct ls_store *s, bool want_grew)
{
	uint8_t root[LS_TLOG_HASH], mine[LS_TLOG_HASH], now[LS_TLOG_HASH];
	uint64_t size, size2, sealed, count;
	struct leaves *l;
	bool grew;

	assert_int_equal(ls_store_heads_root_now(s, now, &count), 0);
	assert_int_equal(ls_store_log_seal(s, &size, root, &grew), 0);
	assert_int_equal(grew, want_grew);
	assert_int_equal(ls_store_log_size(s, &size2, &sealed), 0);
	assert_int_equal(size2, size);
	assert_int_equal(sealed, size);
	l = leaves_of(s);
	root_of(l, size, mine);
	assert_memory_equal(root, mine, LS_TLOG_HASH);
	if (size > 0) {
		assert_int_equal(l->d[size - 1][0], LS_TLOG_LEAF_HEADS);
		assert_memory_equal(l->d[size - 1] + 1, now, LS_TLOG_HASH);
	}
	free(l);
	return size;
}

static void
more_records(struct world *w, int n)
{
	for (int i = 0; i < n; i++) {
		char label[32];
		snprintf(label, sizeof(label), "extra-%d", i);
		PUT(w, fx_lot(w->miner, label, "Bayan Obo", "CN", "ore", 1000, "Dy=50000"));
	}
}

/* ---- tests ---- */

static void
test_leaf_per_record(void **state)
{
	struct world *w = *state;
	uint64_t size, sealed;
	struct recs *x;

	/* The world's records, one batch each, then a batch of several. */
	check_agree(w->s);
	x = recs_of(w->s);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, x->n);
	assert_int_equal(sealed, 0);
	free(x);
	{
		struct fx_env e[5];
		struct ls_ingest_result res[5];
		for (int i = 0; i < 5; i++) {
			char label[16];
			snprintf(label, sizeof(label), "b%d", i);
			e[i] = fx_lot(w->miner, label, "pit", "CN", "ore", 10, NULL);
			assert_non_null(e[i].buf);
		}
		assert_int_equal(fx_ingest(w->s, e, 5, res), 0);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
			fx_env_release(&e[i]);
		}
	}
	check_agree(w->s);
	/* A known record again: nothing new in the log. */
	assert_int_equal(ls_store_log_size(w->s, &sealed, &size), 0);
	{
		uint8_t unknown[LS_ID_LEN] = {0};
		uint64_t idx;
		assert_int_equal(ls_store_log_index(w->s, unknown, &idx), LS_ERR_NOT_FOUND);
	}
}

/* A record that waits for its dependency is logged when it is stored. */
static void
test_pending_logged_when_stored(void **state)
{
	struct world *w = *state;
	struct fx_actor *m = fx_actor_new("CN");
	struct fx_env c, l;
	struct ls_ingest_result res;
	uint64_t size0, size, sealed, ic, il;

	assert_non_null(m);
	c = fx_cert(w->cn_auth, m, "Pit", "CN", LS_ROLE_MINER, 0, 0);
	l = fx_lot(m, "early", "pit", "CN", "ore", 10, NULL);
	assert_int_equal(ls_store_log_size(w->s, &size0, &sealed), 0);
	assert_int_equal(fx_ingest_one(w->s, l.buf, l.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_PENDING);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0);
	assert_int_equal(ls_store_log_index(w->s, l.id, &il), LS_ERR_NOT_FOUND);
	assert_int_equal(fx_ingest_one(w->s, c.buf, c.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0 + 2);
	assert_int_equal(ls_store_log_index(w->s, c.id, &ic), 0);
	assert_int_equal(ls_store_log_index(w->s, l.id, &il), 0);
	assert_int_equal(ic, size0);
	assert_int_equal(il, size0 + 1);
	check_agree(w->s);
	fx_env_release(&c);
	fx_env_release(&l);
	fx_actor_free(&m);
}

/* An equivocation's records (evidence, and the fork an author goes on
 * with) are logged exactly when they are stored. */
static void
test_fork_records_logged(void **state)
{
	struct world *w = *state;
	struct fx_mark m = fx_mark(w->miner);
	struct fx_env a, b, c;
	struct ls_ingest_result res;

	a = fx_lot(w->miner, "branch-a", "pit", "CN", "ore", 10, NULL);
	fx_rewind(w->miner, &m);
	b = fx_lot(w->miner, "branch-b", "pit", "CN", "ore", 10, NULL);
	c = fx_lot(w->miner, "branch-b2", "pit", "CN", "ore", 10, NULL);
	assert_non_null(c.buf);
	assert_int_equal(fx_ingest_one(w->s, a.buf, a.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(fx_ingest_one(w->s, b.buf, b.len, &res), 0);
	assert_int_equal(fx_ingest_one(w->s, c.buf, c.len, &res), 0);
	check_agree(w->s);
	seal(w->s, true);
	check_agree(w->s);
	fx_env_release(&a);
	fx_env_release(&b);
	fx_env_release(&c);
}

/* Roots of every size, inclusion of every leaf, consistency between every
 * pair of seals, all against the tree computed from the leaves. */
static void
test_roots_and_proofs(void **state)
{
	struct world *w = *state;
	uint64_t seals[8];
	size_t n_seals = 0;
	struct leaves *l;
	uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
	uint8_t root[LS_TLOG_HASH], mine[LS_TLOG_HASH], h[LS_TLOG_HASH];
	size_t np;

	assert_non_null(proof);
	seals[n_seals++] = 0;
	seals[n_seals++] = seal(w->s, true);
	for (int round = 1; round <= 5; round++) {
		more_records(w, round * 3 - 2);
		seals[n_seals++] = seal(w->s, true);
	}
	check_agree(w->s);
	l = leaves_of(w->s);
	assert_int_equal(l->n, seals[n_seals - 1]);
	for (uint64_t n = 0; n <= l->n; n++) {
		assert_int_equal(ls_store_log_root(w->s, n, root), 0);
		root_of(l, n, mine);
		assert_memory_equal(root, mine, LS_TLOG_HASH);
	}
	assert_int_equal(ls_store_log_root(w->s, l->n + 1, root), LS_ERR_INVALID);
	/* Every leaf (records and heads) in every sealed tree that holds it. */
	for (size_t k = 1; k < n_seals; k++) {
		uint64_t n = seals[k];
		root_of(l, n, mine);
		for (uint64_t i = 0; i < n; i++) {
			assert_int_equal(ls_store_log_inclusion(w->s, i, n, proof, &np), 0);
			ls_tlog_leaf_hash(l->d[i], LS_TLOG_LEAF_LEN, h);
			assert_true(ls_tlog_verify_inclusion(i, n, h, (const uint8_t(*)[32])proof,
							     np, mine));
			/* and not at another index */
			if (n > 1)
				assert_false(ls_tlog_verify_inclusion(
				    (i + 1) % n, n, h, (const uint8_t(*)[32])proof, np, mine));
		}
		assert_int_equal(ls_store_log_inclusion(w->s, n, n, proof, &np), LS_ERR_INVALID);
	}
	/* The inclusion of every record by its id, at the latest seal. */
	{
		struct recs *x = recs_of(w->s);
		uint64_t n = seals[n_seals - 1], idx;
		root_of(l, n, mine);
		for (size_t i = 0; i < x->n; i++) {
			uint8_t leaf[LS_TLOG_LEAF_LEN] = {LS_TLOG_LEAF_RECORD};
			memcpy(leaf + 1, x->id[i], LS_ID_LEN);
			assert_int_equal(ls_store_log_index(w->s, x->id[i], &idx), 0);
			assert_int_equal(ls_store_log_inclusion(w->s, idx, n, proof, &np), 0);
			ls_tlog_leaf_hash(leaf, sizeof(leaf), h);
			assert_true(ls_tlog_verify_inclusion(idx, n, h, (const uint8_t(*)[32])proof,
							     np, mine));
		}
		free(x);
	}
	for (size_t a = 0; a < n_seals; a++)
		for (size_t b = a; b < n_seals; b++) {
			uint8_t ra[LS_TLOG_HASH], rb[LS_TLOG_HASH];
			root_of(l, seals[a], ra);
			root_of(l, seals[b], rb);
			assert_int_equal(
			    ls_store_log_consistency(w->s, seals[a], seals[b], proof, &np), 0);
			assert_true(ls_tlog_verify_consistency(seals[a], seals[b], ra, rb,
							       (const uint8_t(*)[32])proof, np));
			if (seals[a] > 0 && seals[a] < seals[b]) {
				ra[0] ^= 1; /* another history does not check */
				assert_false(ls_tlog_verify_consistency(
				    seals[a], seals[b], ra, rb, (const uint8_t(*)[32])proof, np));
			}
		}
	assert_int_equal(ls_store_log_consistency(w->s, 3, 2, proof, &np), LS_ERR_INVALID);
	assert_int_equal(ls_store_log_consistency(w->s, 1, l->n + 1, proof, &np), LS_ERR_INVALID);
	free(l);
	free(proof);
}

static void
test_seal_without_records(void **state)
{
	struct world *w = *state;
	uint8_t r1[LS_TLOG_HASH], r2[LS_TLOG_HASH];
	uint64_t s1, s2, size, sealed;
	bool grew;

	s1 = seal(w->s, true);
	assert_int_equal(ls_store_log_root(w->s, s1, r1), 0);
	assert_int_equal(ls_store_log_seal(w->s, &s2, r2, &grew), 0);
	assert_false(grew);
	assert_int_equal(s2, s1);
	assert_memory_equal(r1, r2, LS_TLOG_HASH);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, s1);
	assert_int_equal(sealed, s1);
	seal(w->s, false);
	more_records(w, 1);
	assert_int_equal(seal(w->s, true), s1 + 2);
	check_agree(w->s);
}

static void
test_seal_empty_log(void **state)
{
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	uint8_t root[LS_TLOG_HASH], empty[LS_TLOG_HASH];
	uint64_t size = 99, count = 9;
	bool grew = true;

	(void)state;
	assert_non_null(dir);
	assert_int_equal(fx_store_open(dir, NULL, 0, &s), 0);
	assert_int_equal(ls_store_log_seal(s, &size, root, &grew), 0);
	ls_tlog_empty_root(empty);
	assert_false(grew);
	assert_int_equal(size, 0);
	assert_memory_equal(root, empty, LS_TLOG_HASH);
	assert_int_equal(ls_store_heads_root_now(s, root, &count), 0);
	assert_int_equal(count, 0);
	assert_memory_equal(root, empty, LS_TLOG_HASH);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
}

/* Checks author's leaf in the heads tree of the seal ending at size. */
static void
check_head(struct ls_store *s, uint64_t size, const struct fx_actor *a, uint64_t want_seq,
	   const uint8_t want_head[LS_ID_LEN])
{
	uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
	uint8_t head[LS_ID_LEN], root[LS_TLOG_HASH], leaf[LS_HEADS_LEAF_LEN], h[LS_TLOG_HASH];
	uint8_t hl[LS_TLOG_LEAF_LEN];
	uint64_t seq, pos, count;
	size_t np;
	struct leaves *l = leaves_of(s);

	assert_non_null(proof);
	assert_int_equal(ls_store_heads_proof(s, size - 1, a->kp->pk, &seq, head, &pos, &count,
					      proof, &np, root),
			 0);
	assert_int_equal(seq, want_seq);
	assert_memory_equal(head, want_head, LS_ID_LEN);
	assert_true(pos < count);
	/* The root is the one the seal logged. */
	memcpy(hl, l->d[size - 1], LS_TLOG_LEAF_LEN);
	assert_int_equal(hl[0], LS_TLOG_LEAF_HEADS);
	assert_memory_equal(hl + 1, root, LS_TLOG_HASH);
	memcpy(leaf, a->kp->pk, LS_KEY_LEN);
	ls_be64_put(leaf + LS_KEY_LEN, seq);
	memcpy(leaf + LS_KEY_LEN + 8, head, LS_ID_LEN);
	ls_tlog_leaf_hash(leaf, sizeof(leaf), h);
	assert_true(ls_tlog_verify_inclusion(pos, count, h, (const uint8_t(*)[32])proof, np, root));
	leaf[LS_KEY_LEN + 7] ^= 1; /* another seq does not check */
	ls_tlog_leaf_hash(leaf, sizeof(leaf), h);
	assert_false(
	    ls_tlog_verify_inclusion(pos, count, h, (const uint8_t(*)[32])proof, np, root));
	free(l);
	free(proof);
}

static void
test_heads_proof(void **state)
{
	struct world *w = *state;
	struct fx_actor *all[] = {w->root, w->cn_auth, w->de_auth, w->miner, w->maker};
	uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
	uint8_t now[LS_TLOG_HASH], root[LS_TLOG_HASH], head[LS_ID_LEN];
	uint64_t size, count, ncount, seq, pos;
	size_t np;
	struct fx_actor *stranger = fx_actor_new("CN");

	assert_non_null(proof);
	assert_non_null(stranger);
	size = seal(w->s, true);
	assert_int_equal(ls_store_heads_root_now(w->s, now, &ncount), 0);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		uint64_t hs, ts;
		uint8_t hid[LS_ID_LEN];
		assert_int_equal(ls_store_head(w->s, all[i]->kp->pk, &hs, hid, &ts), 0);
		assert_true(hs > 0);
		check_head(w->s, size, all[i], hs, hid);
	}
	/* An author without a record then: not found, the tree still given. */
	assert_int_equal(ls_store_heads_proof(w->s, size - 1, stranger->kp->pk, &seq, head, &pos,
					      &count, proof, &np, root),
			 LS_ERR_NOT_FOUND);
	assert_int_equal(count, ncount);
	assert_memory_equal(root, now, LS_TLOG_HASH);
	/* Not a heads leaf, not in the log. */
	assert_int_equal(ls_store_heads_proof(w->s, 0, w->miner->kp->pk, &seq, head, &pos, &count,
					      proof, &np, root),
			 LS_ERR_INVALID);
	assert_int_equal(ls_store_heads_proof(w->s, size, w->miner->kp->pk, &seq, head, &pos,
					      &count, proof, &np, root),
			 LS_ERR_INVALID);
	fx_actor_free(&stranger);
	free(proof);
}

/* A new actor whose key sorts before (first) or after every author of the
 * world: the first and last places of the heads tree. */
static struct fx_actor *
actor_at_end(struct world *w, bool first)
{
	const struct fx_actor *all[] = {w->root,  w->cn_auth, w->de_auth, w->miner,
					w->maker, w->de_imp,  w->us,      w->ru};

	for (int tries = 0; tries < 10000; tries++) {
		struct fx_actor *a = fx_actor_new("CN");
		bool ok = true;
		assert_non_null(a);
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && ok; i++) {
			int c = memcmp(a->kp->pk, all[i]->kp->pk, LS_KEY_LEN);
			ok = first ? c < 0 : c > 0;
		}
		if (ok)
			return a;
		fx_actor_free(&a);
	}
	fail_msg("no key at the end");
	return NULL;
}

static void
heads_of_old_seal(struct world *w, bool first)
{
	uint64_t s1, s2, s3, seq1, ts;
	uint8_t head1[LS_ID_LEN], mk1[LS_ID_LEN], mid[LS_ID_LEN], head2[LS_ID_LEN];
	uint64_t mkseq;
	struct fx_actor *late = actor_at_end(w, first);
	struct fx_env e;

	assert_non_null(late);
	more_records(w, 1);
	s1 = seal(w->s, true);
	assert_int_equal(ls_store_head(w->s, w->miner->kp->pk, &seq1, head1, &ts), 0);
	assert_int_equal(ls_store_head(w->s, w->maker->kp->pk, &mkseq, mk1, &ts), 0);
	more_records(w, 3);
	/* A new author after the first seal. */
	PUT(w, fx_cert(w->cn_auth, late, "Late Mine", "CN", LS_ROLE_MINER, 0, 0));
	PUT(w, fx_lot(late, "late-ore", "pit", "CN", "ore", 10, NULL));
	s2 = seal(w->s, true);
	memcpy(mid, w->miner->head, LS_ID_LEN);
	more_records(w, 2);
	e = fx_lot(w->miner, "last", "pit", "CN", "ore", 10, NULL);
	STORED(w, e);
	memcpy(head2, e.id, LS_ID_LEN);
	fx_env_release(&e);
	s3 = seal(w->s, true);
	check_head(w->s, s1, w->miner, seq1, head1);
	check_head(w->s, s1, w->maker, mkseq, mk1);
	check_head(w->s, s2, w->miner, seq1 + 3, mid);
	check_head(w->s, s3, w->miner, seq1 + 6, head2);
	check_head(w->s, s3, w->maker, mkseq, mk1);
	{
		uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
		uint8_t root[LS_TLOG_HASH], head[LS_ID_LEN];
		uint64_t seq, pos, count1, count2;
		size_t np;
		assert_non_null(proof);
		assert_int_equal(ls_store_heads_proof(w->s, s1 - 1, late->kp->pk, &seq, head, &pos,
						      &count1, proof, &np, root),
				 LS_ERR_NOT_FOUND);
		assert_int_equal(ls_store_heads_proof(w->s, s2 - 1, late->kp->pk, &seq, head, &pos,
						      &count2, proof, &np, root),
				 0);
		assert_int_equal(seq, 1);
		assert_int_equal(count2, count1 + 1);
		free(proof);
	}
	fx_actor_free(&late);
}

/* The heads of an old seal after the feeds moved on (hseal); a feed that
 * began after the seal, first or last in key order, is not in its tree. */
static void
test_heads_of_old_seal(void **state)
{
	for (int first = 0; first < 2; first++)
		heads_of_old_seal(*state, first);
}

static void
test_checkpoints(void **state)
{
	struct world *w = *state;
	char big[LS_NOTE_MAX + 2];
	char *note = NULL;
	size_t len;
	uint64_t s1, s2, size;

	assert_int_equal(ls_store_checkpoint_latest(w->s, &size, &note, &len), LS_ERR_NOT_FOUND);
	s1 = seal(w->s, true);
	assert_int_equal(ls_store_checkpoint_put(w->s, s1, "one\n", 4), 0);
	more_records(w, 2);
	/* Not a sealed size. */
	assert_int_equal(ls_store_checkpoint_put(w->s, s1 + 2, "x\n", 2), LS_ERR_INVALID);
	assert_int_equal(ls_store_checkpoint_put(w->s, s1 - 1, "x\n", 2), LS_ERR_INVALID);
	assert_int_equal(ls_store_checkpoint_put(w->s, 0, "x\n", 2), LS_ERR_INVALID);
	s2 = seal(w->s, true);
	memset(big, 'a', sizeof(big));
	assert_int_equal(ls_store_checkpoint_put(w->s, s2, big, sizeof(big)), LS_ERR_TOO_BIG);
	assert_int_equal(ls_store_checkpoint_put(w->s, s2, "two\n", 4), 0);
	assert_int_equal(ls_store_checkpoint_latest(w->s, &size, &note, &len), 0);
	assert_int_equal(size, s2);
	assert_string_equal(note, "two\n");
	assert_int_equal(len, 4);
	free(note);
	/* Replaced when cosignatures come in. */
	assert_int_equal(ls_store_checkpoint_put(w->s, s1, "one\n\nmore\n", 10), 0);
	assert_int_equal(ls_store_checkpoint_get(w->s, s1, &note, &len), 0);
	assert_string_equal(note, "one\n\nmore\n");
	free(note);
	assert_int_equal(ls_store_checkpoint_get(w->s, s1 + 1, &note, &len), LS_ERR_NOT_FOUND);
	assert_null(note);
}

static uint64_t
logged(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t *cp)
{
	struct ls_txn t;
	uint64_t qt = 0, qt2 = 0;
	int rc = ls_store_logged(s, id, cp, &qt), rc2;

	assert_int_equal(ls_txn_begin(s, false, &t), 0);
	rc2 = ls_txn_logged_time(&t, id, &qt2);
	ls_txn_abort(&t);
	assert_int_equal(rc, rc2);
	if (rc == LS_ERR_NOT_FOUND)
		return 0;
	assert_int_equal(rc, 0);
	assert_int_equal(qt, qt2);
	return qt;
}

static void
test_logged_time(void **state)
{
	struct world *w = *state;
	struct fx_env a, b;
	uint64_t s1, s2, s3, cp = 0;

	a = fx_lot(w->miner, "a", "pit", "CN", "ore", 10, NULL);
	STORED(w, a);
	s1 = seal(w->s, true);
	b = fx_lot(w->miner, "b", "pit", "CN", "ore", 10, NULL);
	STORED(w, b);
	s2 = seal(w->s, true);
	more_records(w, 1);
	s3 = seal(w->s, true);
	assert_int_equal(logged(w->s, a.id, &cp), 0);
	/* A checkpoint without quorum dates nothing. */
	assert_int_equal(ls_store_checkpoint_put(w->s, s1, "cp\n", 3), 0);
	assert_int_equal(logged(w->s, a.id, &cp), 0);
	assert_int_equal(ls_store_quorum_put(w->s, s2 + 1, 5), LS_ERR_INVALID);
	assert_int_equal(ls_store_quorum_put(w->s, s2, 2000), 0);
	assert_int_equal(logged(w->s, a.id, &cp), 2000);
	assert_int_equal(cp, s2);
	assert_int_equal(logged(w->s, b.id, &cp), 2000);
	assert_int_equal(ls_store_quorum_put(w->s, s1, 1000), 0);
	assert_int_equal(logged(w->s, a.id, &cp), 1000);
	assert_int_equal(cp, s1);
	assert_int_equal(logged(w->s, b.id, &cp), 2000);
	assert_int_equal(cp, s2);
	/* A later checkpoint that reached quorum first dates b. */
	assert_int_equal(ls_store_quorum_put(w->s, s3, 1500), 0);
	assert_int_equal(logged(w->s, b.id, &cp), 1500);
	assert_int_equal(cp, s3);
	assert_int_equal(logged(w->s, a.id, &cp), 1000);
	{
		uint8_t unknown[LS_ID_LEN] = {1};
		assert_int_equal(logged(w->s, unknown, &cp), 0);
	}
	fx_env_release(&a);
	fx_env_release(&b);
}

/* A failed commit of a batch or of a seal: nothing of it in the log; the
 * log and the records agree, after the fault and after a reopen. */
static void
test_failed_commit(void **state)
{
	struct world *w = *state;
	struct fx_env e[3];
	struct ls_ingest_result res[3];
	uint64_t size0, sealed0, size, sealed;
	uint8_t root[LS_TLOG_HASH];
	bool grew;

	seal(w->s, true);
	assert_int_equal(ls_store_log_size(w->s, &size0, &sealed0), 0);
	for (int i = 0; i < 3; i++) {
		char label[16];
		snprintf(label, sizeof(label), "f%d", i);
		e[i] = fx_lot(w->miner, label, "pit", "CN", "ore", 10, NULL);
		assert_non_null(e[i].buf);
	}
	fault.rc = EIO;
	fault.left = 1;
	assert_int_not_equal(fx_ingest(w->s, e, 3, res), 0);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0);
	assert_int_equal(sealed, sealed0);
	check_agree(w->s);
	assert_int_equal(fx_ingest(w->s, e, 3, res), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0 + 3);
	check_agree(w->s);
	/* The seal's commit fails: no heads leaf, no hseal entry. */
	fault.left = 1;
	assert_int_not_equal(ls_store_log_seal(w->s, &size, root, &grew), 0);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0 + 3);
	assert_int_equal(sealed, sealed0);
	size = seal(w->s, true);
	assert_int_equal(size, size0 + 4);
	check_head(w->s, size, w->miner, w->miner->seq, e[2].id);
	/* Reopened, the same. */
	ls_store_close(&w->s);
	assert_int_equal(fx_store_open(w->dir, w->root, 0, &w->s), 0);
	check_agree(w->s);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, size0 + 4);
	assert_int_equal(sealed, size0 + 4);
	for (int i = 0; i < 3; i++)
		fx_env_release(&e[i]);
}

static void
test_reindex(void **state)
{
	struct world *w = *state;
	struct ls_store_opts o;
	struct ls_reindex_report rep;
	struct ls_err_ctx ctx = {{0}};
	struct recs *before, *after;
	uint64_t size, sealed, s1, cp;
	char *note = NULL;
	size_t len;

	s1 = seal(w->s, true);
	assert_int_equal(ls_store_checkpoint_put(w->s, s1, "cp\n", 3), 0);
	assert_int_equal(ls_store_quorum_put(w->s, s1, 100), 0);
	more_records(w, 2);
	before = recs_of(w->s);
	ls_store_close(&w->s);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])w->root->kp->pk;
	o.n_anchors = 1;
	assert_int_equal(ls_store_reindex(w->dir, &o, NULL, &rep, &ctx), 0);
	assert_int_equal(fx_store_open(w->dir, w->root, 0, &w->s), 0);
	after = recs_of(w->s);
	assert_int_equal(after->n, before->n);
	assert_memory_equal(after->id, before->id, before->n * LS_ID_LEN);
	/* A new log: a leaf per record, no seal, no checkpoint. */
	check_agree(w->s);
	assert_int_equal(ls_store_log_size(w->s, &size, &sealed), 0);
	assert_int_equal(size, before->n);
	assert_int_equal(sealed, 0);
	assert_int_equal(ls_store_checkpoint_latest(w->s, &size, &note, &len), LS_ERR_NOT_FOUND);
	assert_int_equal(logged(w->s, before->id[0], &cp), 0);
	seal(w->s, true);
	free(before);
	free(after);
}

static void
check_no_log(struct ls_store *s, const uint8_t id[LS_ID_LEN])
{
	uint8_t root[LS_TLOG_HASH], p[LS_TLOG_PROOF_MAX][LS_TLOG_HASH];
	uint64_t size, sealed, idx, qt;
	size_t np;
	bool grew;

	assert_int_equal(ls_store_log_size(s, &size, &sealed), LS_ERR_INVALID);
	assert_int_equal(ls_store_log_root(s, 0, root), LS_ERR_INVALID);
	assert_int_equal(ls_store_log_seal(s, &size, root, &grew), LS_ERR_INVALID);
	assert_int_equal(ls_store_log_index(s, id, &idx), LS_ERR_INVALID);
	assert_int_equal(ls_store_log_inclusion(s, 0, 1, p, &np), LS_ERR_INVALID);
	assert_int_equal(ls_store_checkpoint_put(s, 1, "x\n", 2), LS_ERR_INVALID);
	assert_int_equal(ls_store_quorum_put(s, 1, 1), LS_ERR_INVALID);
	assert_int_equal(ls_store_logged(s, id, &size, &qt), LS_ERR_NOT_FOUND);
}

static void
test_no_log(void **state)
{
	char *dir = fx_tmpdir();
	struct fx_actor *auth = fx_actor_new("CN"), *miner = fx_actor_new("CN");
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store *s = NULL;
	struct ls_ingest_result res;
	struct fx_env c, l;
	uint8_t *env = NULL;
	size_t len;

	(void)state;
	assert_non_null(dir);
	assert_non_null(miner);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])auth->kp->pk;
	o.n_anchors = 1;
	o.no_log = true;
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	c = fx_cert(auth, miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	l = fx_lot(miner, "ore", "pit", NULL, "ore", 10, NULL);
	assert_int_equal(fx_ingest_one(s, c.buf, c.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(fx_ingest_one(s, l.buf, l.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_store_get(s, l.id, &env, &len), 0);
	free(env);
	check_no_log(s, l.id);
	ls_store_close(&s);
	/* Reopened with the log asked for: still a store without it. */
	assert_int_equal(fx_store_open(dir, auth, 0, &s), 0);
	check_no_log(s, l.id);
	ls_store_close(&s);
	fx_rmtree(dir);
	/* A store made with the log keeps it when opened with no_log. */
	assert_int_equal(fx_store_open(dir, auth, 0, &s), 0);
	ls_store_close(&s);
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	assert_int_equal(fx_ingest_one(s, c.buf, c.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	{
		uint64_t size, sealed, idx;
		assert_int_equal(ls_store_log_size(s, &size, &sealed), 0);
		assert_int_equal(size, 1);
		assert_int_equal(ls_store_log_index(s, c.id, &idx), 0);
		assert_int_equal(idx, 0);
	}
	ls_store_close(&s);
	fx_rmtree(dir);
	/* A bundle store has no log either. */
	assert_int_equal(fx_bundle_store_open(dir, auth, &s), 0);
	assert_int_equal(fx_ingest_one(s, c.buf, c.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	check_no_log(s, c.id);
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
	fx_env_release(&c);
	fx_env_release(&l);
	fx_actor_free(&auth);
	fx_actor_free(&miner);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_leaf_per_record, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_pending_logged_when_stored, world_setup,
					    world_teardown),
	    cmocka_unit_test_setup_teardown(test_fork_records_logged, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_roots_and_proofs, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_seal_without_records, world_setup, world_teardown),
	    cmocka_unit_test(test_seal_empty_log),
	    cmocka_unit_test_setup_teardown(test_heads_proof, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_heads_of_old_seal, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoints, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_logged_time, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_commit, world_setup, world_teardown),
	    cmocka_unit_test_setup_teardown(test_reindex, world_setup, world_teardown),
	    cmocka_unit_test(test_no_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
