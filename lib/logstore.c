/*
 * logstore.c - the Merkle log in the store (TRANSPARENCY.md): a leaf per
 * stored record (appended by ingest.c in the record's transaction), the heads
 * leaf of each seal, the perfect subtree hashes proofs are built from, the
 * heads of each seal (hseal), checkpoints and their quorum times. The tree
 * arithmetic is tlog.c's; this file only keeps the hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "note.h"
#include "store_int.h"
#include "util.h"

/* Write transactions retried after growing a full map. */
#define LOG_GROW_RETRIES 3
/* Quorum checkpoints ls_store_logged looks at after the first one covering
 * a record: a later (larger) checkpoint can reach quorum before an earlier
 * one when a slow witness held the earlier one back, by a few checkpoints,
 * not by thousands. */
#define QUORUM_SCAN 256

/*
 * The key of the perfect subtree (level >= 1, index): the index of its last
 * leaf, then the level. A node is complete when its last leaf is appended,
 * so appends write keys in increasing order (leaf n: (n, 1), (n, 2), ...)
 * and every put is an MDB_APPEND: full pages, no search. Level 0, the leaf
 * hashes, is not kept: a leaf is hashed from logleaf when a proof needs it.
 */
static void
node_key(uint8_t k[9], unsigned level, uint64_t index)
{
	ls_be64_put(k, ((index + 1) << level) - 1);
	k[8] = (uint8_t)level;
}

/* The hash of the stored perfect subtree (level, index); one that is
 * missing is a damaged store. */
static int
node_get(struct ls_txn *t, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	uint8_t k[9];
	MDB_val v;
	int rc;

	if (level > 63)
		return LS_ERR_STORE;
	if (level == 0) {
		ls_be64_put(k, index);
		if ((rc = ls_txn_get(t, t->s->logleaf, k, 8, &v)) != 0)
			return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
		if (v.mv_size != LS_TLOG_LEAF_LEN)
			return LS_ERR_STORE;
		ls_tlog_leaf_hash(v.mv_data, LS_TLOG_LEAF_LEN, out);
		return 0;
	}
	node_key(k, level, index);
	if ((rc = ls_txn_get(t, t->s->lognode, k, 9, &v)) != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
	if (v.mv_size != LS_TLOG_HASH)
		return LS_ERR_STORE;
	memcpy(out, v.mv_data, LS_TLOG_HASH);
	return 0;
}

/* Fills e with the right edge of the tree of size leaves: for each set bit
 * l of size, the perfect subtree of level l that ends the tree. */
static int
edge_load(struct ls_txn *t, uint64_t size, struct ls_log_edge *e)
{
	int rc;

	for (unsigned l = 0; l < 64; l++)
		if (((size >> l) & 1) && (rc = node_get(t, l, (size >> l) - 1, e->h[l])) != 0)
			return rc;
	e->size = size;
	e->valid = true;
	return 0;
}

int
ls_txn_log_append(struct ls_txn *t, uint64_t *size, const uint8_t leaf[LS_TLOG_LEAF_LEN],
		  struct ls_log_edge *edge)
{
	struct ls_store *s = t->s;
	struct ls_log_edge local;
	uint64_t n = *size, idx = n;
	unsigned level = 0;
	uint8_t k[9], h[LS_TLOG_HASH];
	int rc;

	if (edge == NULL) {
		local.valid = false;
		edge = &local;
	}
	if ((!edge->valid || edge->size != n) && (rc = edge_load(t, n, edge)) != 0)
		return rc;
	ls_be64_put(k, n);
	if ((rc = ls_txn_put(t, s->logleaf, k, 8, leaf, LS_TLOG_LEAF_LEN, MDB_APPEND)) != 0)
		return rc == LS_ERR_EXISTS ? LS_ERR_STORE : rc;
	ls_tlog_leaf_hash(leaf, LS_TLOG_LEAF_LEN, h);
	/* A right child completes its parent: combine up while it is one (its
	 * left sibling is the edge's subtree at that level). */
	while (idx & 1) {
		ls_tlog_node_hash(edge->h[level], h, h);
		level++;
		idx >>= 1;
		node_key(k, level, idx);
		if ((rc = ls_txn_put(t, s->lognode, k, 9, h, LS_TLOG_HASH, MDB_APPEND)) != 0)
			return rc == LS_ERR_EXISTS ? LS_ERR_STORE : rc;
	}
	memcpy(edge->h[level], h, LS_TLOG_HASH);
	edge->size = n + 1;
	*size = n + 1;
	return 0;
}

int
ls_txn_log_index(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *index)
{
	MDB_val v;
	int rc = ls_txn_ids_record(t, id, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size < 17)
		return LS_ERR_NOT_FOUND; /* a store without the log */
	*index = ls_be64_get((const uint8_t *)v.mv_data + 9);
	return 0;
}

/* tlog.c's view of the stored tree. */
static int
node_fn(void *arg, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	return node_get(arg, level, index, out);
}

static int
meta_u64(struct ls_txn *t, const char *key, uint64_t *v)
{
	int rc = ls_txn_get_u64(t, t->s->meta, key, strlen(key), v);

	if (rc == LS_ERR_NOT_FOUND) {
		*v = 0;
		rc = 0;
	}
	return rc;
}

/* Begins a transaction on a store with the log and reads its sizes. */
static int
log_begin(struct ls_store *s, bool write, struct ls_txn *t, uint64_t *size, uint64_t *sealed)
{
	int rc;

	if (s->no_log)
		return LS_ERR_INVALID;
	if ((rc = ls_txn_begin(s, write, t)) != 0)
		return rc;
	if ((rc = meta_u64(t, "logsize", size)) != 0 || (rc = meta_u64(t, "sealed", sealed)) != 0)
		ls_txn_abort(t);
	return rc;
}

/* Runs fn in a durable write transaction of a store with the log, growing a
 * full map and running it again. fn returns 0 to commit, or an error (or
 * LS_ERR_EXISTS: nothing to write) to abort with. */
static int
log_write(struct ls_store *s,
	  int (*fn)(struct ls_txn *t, uint64_t size, uint64_t sealed, void *arg), void *arg)
{
	struct ls_txn t;
	uint64_t size, sealed;
	int rc;

	for (int tries = 0;; tries++) {
		if ((rc = log_begin(s, true, &t, &size, &sealed)) != 0)
			return rc;
		if ((rc = fn(&t, size, sealed, arg)) != 0) {
			ls_txn_abort(&t);
		} else {
			ls_store_tail_prepare(s, 0);
			rc = ls_store_commit_err(s, mdb_txn_commit(t.txn));
			t.txn = NULL;
			ls_txn_abort(&t);
		}
		if (rc != LS_ERR_FULL || tries == LOG_GROW_RETRIES || ls_store_grow_map(s) != 0)
			return rc;
	}
}

int
ls_store_log_size(struct ls_store *s, uint64_t *size, uint64_t *sealed)
{
	struct ls_txn t;
	int rc;

	if ((rc = log_begin(s, false, &t, size, sealed)) != 0)
		return rc;
	ls_txn_abort(&t);
	return 0;
}

int
ls_store_log_root(struct ls_store *s, uint64_t size, uint8_t root[LS_TLOG_HASH])
{
	struct ls_txn t;
	uint64_t n, sealed;
	int rc;

	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	rc = size > n ? LS_ERR_INVALID : ls_tlog_root(size, node_fn, &t, root);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_log_leaves(struct ls_store *s, uint64_t from, size_t max,
		    int (*fn)(void *arg, uint64_t index, const uint8_t leaf[LS_TLOG_LEAF_LEN]),
		    void *arg)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t n, sealed, want;
	uint8_t key[8];
	size_t given = 0;
	int rc, mrc;

	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->logleaf, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	ls_be64_put(key, from);
	k.mv_size = 8;
	k.mv_data = key;
	want = from;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0 && given < max;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		/* Leaves are dense: a gap or a bad size is a damaged store. */
		if (k.mv_size != 8 || v.mv_size != LS_TLOG_LEAF_LEN ||
		    ls_be64_get(k.mv_data) != want) {
			rc = LS_ERR_STORE;
			goto out;
		}
		if ((rc = fn(arg, want, v.mv_data)) != 0)
			goto out;
		want++;
		given++;
	}
	rc = mrc == 0 || mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_log_index(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t *index)
{
	struct ls_txn t;
	int rc;

	if (s->no_log)
		return LS_ERR_INVALID;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = ls_txn_log_index(&t, id, index);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_log_inclusion(struct ls_store *s, uint64_t index, uint64_t size,
		       uint8_t proof[][LS_TLOG_HASH], size_t *np)
{
	struct ls_txn t;
	uint64_t n, sealed;
	int rc;

	*np = 0;
	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	rc = size > n || index >= size ? LS_ERR_INVALID
				       : ls_tlog_inclusion(index, size, node_fn, &t, proof, np);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_log_consistency(struct ls_store *s, uint64_t m, uint64_t n, uint8_t proof[][LS_TLOG_HASH],
			 size_t *np)
{
	struct ls_txn t;
	uint64_t size, sealed;
	int rc;

	*np = 0;
	if ((rc = log_begin(s, false, &t, &size, &sealed)) != 0)
		return rc;
	rc = n > size || m > n ? LS_ERR_INVALID : ls_tlog_consistency(m, n, node_fn, &t, proof, np);
	ls_txn_abort(&t);
	return rc;
}

/* ---- the heads tree ---- */

/*
 * The leaves of a heads tree (author order) and every level of it, so that
 * any perfect subtree is one lookup: about two hashes per author.
 */
struct htree {
	uint8_t (*data)[LS_HEADS_LEAF_LEN];
	uint8_t (*lv[65])[LS_TLOG_HASH]; /* lv[0]: the leaf hashes */
	uint64_t cnt[65];
	unsigned levels;
	size_t n, cap;
	/* the leaf sought: its position when found */
	const uint8_t *want;
	bool found;
	uint64_t pos;
};

static void
htree_free(struct htree *h)
{
	free(h->data);
	for (unsigned l = 0; l < 65; l++)
		free(h->lv[l]);
	memset(h, 0, sizeof(*h));
}

static int
htree_push(struct htree *h, const uint8_t author[LS_KEY_LEN], const uint8_t *seq_be,
	   const uint8_t id[LS_ID_LEN])
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		void *d = realloc(h->data, cap * LS_HEADS_LEAF_LEN);
		if (d == NULL)
			return LS_ERR_NOMEM;
		h->data = d;
		h->cap = cap;
	}
	memcpy(h->data[h->n], author, LS_KEY_LEN);
	memcpy(h->data[h->n] + LS_KEY_LEN, seq_be, 8);
	memcpy(h->data[h->n] + LS_KEY_LEN + 8, id, LS_ID_LEN);
	if (h->want != NULL && memcmp(h->want, author, LS_KEY_LEN) == 0) {
		h->found = true;
		h->pos = h->n;
	}
	h->n++;
	return 0;
}

/* Hashes the leaves and every level above them. */
static int
htree_build(struct htree *h)
{
	uint64_t n = h->n;
	unsigned l = 0;

	if ((h->lv[0] = malloc((n ? n : 1) * LS_TLOG_HASH)) == NULL)
		return LS_ERR_NOMEM;
	for (uint64_t i = 0; i < n; i++)
		ls_tlog_leaf_hash(h->data[i], LS_HEADS_LEAF_LEN, h->lv[0][i]);
	h->cnt[0] = n;
	while (h->cnt[l] >= 2 && l < 64) {
		uint64_t m = h->cnt[l] / 2;
		if ((h->lv[l + 1] = malloc(m * LS_TLOG_HASH)) == NULL)
			return LS_ERR_NOMEM;
		for (uint64_t i = 0; i < m; i++)
			ls_tlog_node_hash(h->lv[l][2 * i], h->lv[l][2 * i + 1], h->lv[l + 1][i]);
		h->cnt[++l] = m;
	}
	h->levels = l + 1;
	return 0;
}

static int
htree_node(void *arg, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	struct htree *h = arg;

	if (level >= h->levels || index >= h->cnt[level])
		return LS_ERR_STORE;
	memcpy(out, h->lv[level][index], LS_TLOG_HASH);
	return 0;
}

/* The heads table now into h. */
static int
htree_now(struct ls_txn *t, struct htree *h)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc = 0, mrc;

	if ((mrc = mdb_cursor_open(t->txn, t->s->heads, &c)) != 0)
		return ls_store_err(mrc);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		if (k.mv_size != LS_KEY_LEN || v.mv_size != 8 + LS_ID_LEN + 8) {
			rc = LS_ERR_STORE;
			break;
		}
		rc = htree_push(h, k.mv_data, p, p + 8);
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	return rc == 0 ? htree_build(h) : rc;
}

/* The heads as of the seal whose heads leaf is at index hl, from hseal: for
 * each author its latest entry at or before hl (two seeks per author). */
static int
htree_at(struct ls_txn *t, uint64_t hl, struct htree *h)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t key[LS_KEY_LEN + 8], author[LS_KEY_LEN];
	int rc = 0, mrc;

	if ((mrc = mdb_cursor_open(t->txn, t->s->hseal, &c)) != 0)
		return ls_store_err(mrc);
	mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (mrc == 0 && rc == 0) {
		if (k.mv_size != sizeof(key)) {
			rc = LS_ERR_STORE;
			break;
		}
		memcpy(author, k.mv_data, LS_KEY_LEN);
		/* The last entry before author || hl + 1. */
		memcpy(key, author, LS_KEY_LEN);
		ls_be64_put(key + LS_KEY_LEN, hl + 1);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == MDB_NOTFOUND)
			mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		else if (mrc == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		/* MDB_NOTFOUND here: nothing before author's first entry, which
		 * is after hl; the author had no record then. */
		if (mrc != 0 && mrc != MDB_NOTFOUND)
			break;
		if (mrc == 0 && (k.mv_size != sizeof(key) || v.mv_size != 8 + LS_ID_LEN)) {
			rc = LS_ERR_STORE;
			break;
		}
		if (mrc == 0 && memcmp(k.mv_data, author, LS_KEY_LEN) == 0 &&
		    ls_be64_get((const uint8_t *)k.mv_data + LS_KEY_LEN) <= hl)
			rc = htree_push(h, author, v.mv_data, (const uint8_t *)v.mv_data + 8);
		/* The next author's first entry. */
		memcpy(key, author, LS_KEY_LEN);
		memset(key + LS_KEY_LEN, 0xff, 8);
		k.mv_size = sizeof(key);
		k.mv_data = key;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == 0 && memcmp(k.mv_data, author, LS_KEY_LEN) == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	return rc == 0 ? htree_build(h) : rc;
}

static int
htree_root(struct htree *h, uint8_t root[LS_TLOG_HASH])
{
	return ls_tlog_root(h->n, htree_node, h, root);
}

int
ls_store_heads_root_now(struct ls_store *s, uint8_t root[LS_TLOG_HASH], uint64_t *count)
{
	struct htree h;
	struct ls_txn t;
	int rc;

	memset(&h, 0, sizeof(h));
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = htree_now(&t, &h)) == 0 && (rc = htree_root(&h, root)) == 0)
		*count = h.n;
	ls_txn_abort(&t);
	htree_free(&h);
	return rc;
}

/* The leaf data at index i. */
static int
leaf_get(struct ls_txn *t, uint64_t i, uint8_t leaf[LS_TLOG_LEAF_LEN])
{
	uint8_t k[8];
	MDB_val v;
	int rc;

	ls_be64_put(k, i);
	if ((rc = ls_txn_get(t, t->s->logleaf, k, 8, &v)) != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
	if (v.mv_size != LS_TLOG_LEAF_LEN)
		return LS_ERR_STORE;
	memcpy(leaf, v.mv_data, LS_TLOG_LEAF_LEN);
	return 0;
}

int
ls_store_heads_proof(struct ls_store *s, uint64_t heads_leaf, const uint8_t author[LS_KEY_LEN],
		     uint64_t *seq, uint8_t head[LS_ID_LEN], uint64_t *pos, uint64_t *count,
		     uint8_t proof[][LS_TLOG_HASH], size_t *np, uint8_t root[LS_TLOG_HASH])
{
	uint8_t leaf[LS_TLOG_LEAF_LEN];
	struct htree h;
	struct ls_txn t;
	uint64_t n, sealed;
	int rc;

	*np = 0;
	memset(&h, 0, sizeof(h));
	h.want = author;
	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	if (heads_leaf >= n) {
		rc = LS_ERR_INVALID;
		goto out;
	}
	if ((rc = leaf_get(&t, heads_leaf, leaf)) != 0)
		goto out;
	if (leaf[0] != LS_TLOG_LEAF_HEADS) {
		rc = LS_ERR_INVALID;
		goto out;
	}
	if ((rc = htree_at(&t, heads_leaf, &h)) != 0 || (rc = htree_root(&h, root)) != 0)
		goto out;
	/* The tree rebuilt from hseal is the one the seal logged. */
	if (memcmp(root, leaf + 1, LS_TLOG_HASH) != 0) {
		rc = LS_ERR_STORE;
		goto out;
	}
	*count = h.n;
	if (!h.found) {
		rc = LS_ERR_NOT_FOUND;
		goto out;
	}
	*pos = h.pos;
	*seq = ls_be64_get(h.data[h.pos] + LS_KEY_LEN);
	memcpy(head, h.data[h.pos] + LS_KEY_LEN + 8, LS_ID_LEN);
	rc = ls_tlog_inclusion(h.pos, h.n, htree_node, &h, proof, np);
out:
	ls_txn_abort(&t);
	htree_free(&h);
	return rc;
}

/* ---- seals ---- */

struct seal {
	uint64_t size;
	uint8_t *root;
	bool grew;
};

/* The latest hseal entry of author before index `before`: 0 and its value,
 * or LS_ERR_NOT_FOUND. */
static int
hseal_latest(struct ls_txn *t, MDB_cursor *c, const uint8_t author[LS_KEY_LEN], uint64_t before,
	     MDB_val *val)
{
	uint8_t key[LS_KEY_LEN + 8];
	MDB_val k = {sizeof(key), key};
	int mrc;

	(void)t;
	memcpy(key, author, LS_KEY_LEN);
	ls_be64_put(key + LS_KEY_LEN, before);
	mrc = mdb_cursor_get(c, &k, val, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND)
		mrc = mdb_cursor_get(c, &k, val, MDB_LAST);
	else if (mrc == 0)
		mrc = mdb_cursor_get(c, &k, val, MDB_PREV);
	if (mrc != 0)
		return ls_store_err(mrc);
	if (k.mv_size != sizeof(key) || memcmp(k.mv_data, author, LS_KEY_LEN) != 0)
		return LS_ERR_NOT_FOUND;
	return 0;
}

static int
seal_txn(struct ls_txn *t, uint64_t size, uint64_t sealed, void *arg)
{
	struct seal *x = arg;
	uint8_t leaf[LS_TLOG_LEAF_LEN], key[LS_KEY_LEN + 8];
	MDB_cursor *c = NULL;
	struct htree h;
	uint64_t hl = size;
	int rc, mrc;

	x->grew = false;
	if (size == sealed) {
		/* Nothing logged since the last seal: the sealed tree. */
		x->size = sealed;
		if ((rc = ls_tlog_root(sealed, node_fn, t, x->root)) != 0)
			return rc;
		return LS_ERR_EXISTS;
	}
	memset(&h, 0, sizeof(h));
	if ((rc = htree_now(t, &h)) != 0 || (rc = htree_root(&h, leaf + 1)) != 0)
		goto out;
	leaf[0] = LS_TLOG_LEAF_HEADS;
	if ((rc = ls_txn_log_append(t, &size, leaf, NULL)) != 0)
		goto out;
	if ((mrc = mdb_cursor_open(t->txn, t->s->hseal, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	for (size_t i = 0; i < h.n && rc == 0; i++) {
		const uint8_t *d = h.data[i];
		MDB_val v;
		rc = hseal_latest(t, c, d, hl, &v);
		if (rc == 0 && v.mv_size == 8 + LS_ID_LEN &&
		    memcmp(v.mv_data, d + LS_KEY_LEN, 8 + LS_ID_LEN) == 0)
			continue;
		if (rc != 0 && rc != LS_ERR_NOT_FOUND)
			break;
		memcpy(key, d, LS_KEY_LEN);
		ls_be64_put(key + LS_KEY_LEN, hl);
		rc = ls_txn_put(t, t->s->hseal, key, sizeof(key), d + LS_KEY_LEN, 8 + LS_ID_LEN, 0);
	}
	if (rc != 0)
		goto out;
	if ((rc = ls_txn_put_u64(t, t->s->meta, "logsize", 7, size)) != 0 ||
	    (rc = ls_txn_put_u64(t, t->s->meta, "sealed", 6, size)) != 0 ||
	    (rc = ls_tlog_root(size, node_fn, t, x->root)) != 0)
		goto out;
	x->size = size;
	x->grew = true;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	htree_free(&h);
	return rc;
}

int
ls_store_log_seal(struct ls_store *s, uint64_t *size, uint8_t root[LS_TLOG_HASH], bool *grew)
{
	struct seal x = {0, root, false};
	int rc = log_write(s, seal_txn, &x);

	*grew = false;
	if (rc == LS_ERR_EXISTS)
		rc = 0; /* nothing to append: aborted, the answer is in x */
	if (rc != 0)
		return rc;
	*size = x.size;
	*grew = x.grew;
	return 0;
}

/* ---- checkpoints and quorum ---- */

struct cp_put {
	uint64_t size;
	const char *note;
	size_t len;
};

/* A checkpoint size ends right after a heads leaf. LS_ERR_INVALID. */
static int
check_sealed_size(struct ls_txn *t, uint64_t size, uint64_t sealed)
{
	uint8_t leaf[LS_TLOG_LEAF_LEN];
	int rc;

	if (size == 0 || size > sealed)
		return LS_ERR_INVALID;
	if ((rc = leaf_get(t, size - 1, leaf)) != 0)
		return rc;
	return leaf[0] == LS_TLOG_LEAF_HEADS ? 0 : LS_ERR_INVALID;
}

static int
cp_put_txn(struct ls_txn *t, uint64_t size, uint64_t sealed, void *arg)
{
	struct cp_put *x = arg;
	uint8_t k[8];
	int rc;

	(void)size;
	if ((rc = check_sealed_size(t, x->size, sealed)) != 0)
		return rc;
	ls_be64_put(k, x->size);
	return ls_txn_put(t, t->s->cpoints, k, 8, x->note, x->len, 0);
}

int
ls_store_checkpoint_put(struct ls_store *s, uint64_t size, const char *note, size_t len)
{
	struct cp_put x = {size, note, len};

	if (len == 0)
		return LS_ERR_INVALID;
	if (len > LS_NOTE_MAX)
		return LS_ERR_TOO_BIG;
	return log_write(s, cp_put_txn, &x);
}

static int
note_copy(const MDB_val *v, char **note, size_t *len)
{
	if ((*note = malloc(v->mv_size + 1)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(*note, v->mv_data, v->mv_size);
	(*note)[v->mv_size] = '\0';
	*len = v->mv_size;
	return 0;
}

int
ls_store_checkpoint_get(struct ls_store *s, uint64_t size, char **note, size_t *len)
{
	struct ls_txn t;
	uint64_t n, sealed;
	uint8_t k[8];
	MDB_val v;
	int rc;

	*note = NULL;
	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	ls_be64_put(k, size);
	if ((rc = ls_txn_get(&t, s->cpoints, k, 8, &v)) == 0)
		rc = note_copy(&v, note, len);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_checkpoint_latest(struct ls_store *s, uint64_t *size, char **note, size_t *len)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	uint64_t n, sealed;
	MDB_val k, v;
	int rc, mrc;

	*note = NULL;
	if ((rc = log_begin(s, false, &t, &n, &sealed)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->cpoints, &c)) != 0 ||
	    (mrc = mdb_cursor_get(c, &k, &v, MDB_LAST)) != 0) {
		rc = ls_store_err(mrc);
	} else if (k.mv_size != 8) {
		rc = LS_ERR_STORE;
	} else {
		*size = ls_be64_get(k.mv_data);
		rc = note_copy(&v, note, len);
	}
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

struct q_put {
	uint64_t size, qtime;
};

static int
quorum_put_txn(struct ls_txn *t, uint64_t size, uint64_t sealed, void *arg)
{
	struct q_put *x = arg;
	uint8_t k[8];
	int rc;

	(void)size;
	if ((rc = check_sealed_size(t, x->size, sealed)) != 0)
		return rc;
	ls_be64_put(k, x->size);
	return ls_txn_put_u64(t, t->s->quorum, k, 8, x->qtime);
}

int
ls_store_quorum_put(struct ls_store *s, uint64_t size, uint64_t qtime)
{
	struct q_put x = {size, qtime};
	return log_write(s, quorum_put_txn, &x);
}

/* The quorum checkpoint dating leaf index: see ls_store_logged. */
static int
logged_at(struct ls_txn *t, uint64_t index, uint64_t *cp_size, uint64_t *qtime)
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t key[8];
	bool found = false;
	int mrc;

	if ((mrc = mdb_cursor_open(t->txn, t->s->quorum, &c)) != 0)
		return ls_store_err(mrc);
	ls_be64_put(key, index + 1);
	k.mv_size = 8;
	k.mv_data = key;
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	t->n_seeks++;
	for (unsigned i = 0; mrc == 0 && i <= QUORUM_SCAN; i++) {
		uint64_t qt;
		t->n_reads++;
		if (k.mv_size != 8 || v.mv_size != 8) {
			mdb_cursor_close(c);
			return LS_ERR_STORE;
		}
		qt = ls_be64_get(v.mv_data);
		if (!found || qt < *qtime) {
			*qtime = qt;
			*cp_size = ls_be64_get(k.mv_data);
			found = true;
		}
		mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return ls_store_err(mrc);
	return found ? 0 : LS_ERR_NOT_FOUND;
}

int
ls_txn_logged_time(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *qtime)
{
	uint64_t index, cp;
	int rc;

	/* A store checking a bundle: the logged times its log proof gives. */
	if (t->s->bundle_check)
		return ls_txn_date_get(t, id, qtime);
	if (t->s->no_log)
		return LS_ERR_NOT_FOUND;
	/* No quorum checkpoint at all (a log nobody witnessed yet): no record
	 * has a logged time, and its leaf index need not be read. A read
	 * transaction sees one snapshot, so it looks once; a writer may add
	 * checkpoints, so it looks every time. */
	if (t->quorum_state == 0 || !t->readonly) {
		MDB_stat st;
		int mrc = mdb_stat(t->txn, t->s->quorum, &st);
		if (mrc != 0)
			return ls_store_err(mrc);
		t->n_reads++;
		t->quorum_state = st.ms_entries == 0 ? 1 : 2;
	}
	if (t->quorum_state == 1)
		return LS_ERR_NOT_FOUND;
	if ((rc = ls_txn_log_index(t, id, &index)) != 0)
		return rc;
	return logged_at(t, index, &cp, qtime);
}

int
ls_store_logged(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t *cp_size, uint64_t *qtime)
{
	struct ls_txn t;
	uint64_t index;
	int rc;

	if (s->no_log)
		return LS_ERR_NOT_FOUND;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_log_index(&t, id, &index)) == 0)
		rc = logged_at(&t, index, cp_size, qtime);
	ls_txn_abort(&t);
	return rc;
}
