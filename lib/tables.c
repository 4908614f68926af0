/*
 * tables.c - typed access to the store's derived tables. The key and value
 * layout of each table is written here once (and listed in store_int.h);
 * nothing outside the store layer (store.c, ingest.c, this file) calls LMDB
 * or decodes a stored byte offset.
 *
 * Every read tells a missing entry (LS_ERR_NOT_FOUND, or an empty answer
 * where absence has a meaning, such as 0 g held) from a failed read (a store
 * error): a failed read is never taken for an answer.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "store_int.h"
#include "util.h"

_Static_assert(sizeof(uintptr_t) >= 8, "branch state keeps grams in pointers");

/* Whether key is the branch author's own state in this transaction. */
static bool
on_branch(const struct ls_txn *t, const uint8_t key[LS_KEY_LEN])
{
	return t->branch != NULL && memcmp(t->branch->author, key, LS_KEY_LEN) == 0;
}

static uint64_t
branch_get(const struct ls_idmap *m, const uint8_t id[LS_ID_LEN])
{
	uintptr_t v = (uintptr_t)ls_idmap_get(m, id);
	return v ? (uint64_t)v - 1 : 0;
}

static int
branch_put(struct ls_idmap *m, const uint8_t id[LS_ID_LEN], uint64_t v)
{
	return ls_idmap_put(m, id, (void *)(uintptr_t)(v + 1));
}

static void
be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int
del(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int mrc = mdb_del(t->txn, dbi, &k, NULL);
	return mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
}

/*
 * Calls fn(arg, key, val) for every entry whose key starts with the klen
 * bytes of prefix (all entries when klen is 0), in key order. Entries are
 * copied first when `collect` is set, so that fn may write to the table.
 */
struct kv {
	MDB_val k, v;
};

/* As scan, from the first key at or after start (slen bytes, starting with
 * the prefix) on. */
static int
scan_from(struct ls_txn *t, MDB_dbi dbi, const void *prefix, size_t klen, const void *start,
	  size_t slen, int (*fn)(void *arg, const MDB_val *k, const MDB_val *v), void *arg)
{
	MDB_cursor *c = NULL;
	MDB_val k = {slen, (void *)(uintptr_t)start}, v;
	int mrc, rc = 0;

	if ((mrc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
		return ls_store_err(mrc);
	t->n_seeks++;
	for (mrc = mdb_cursor_get(c, &k, &v, slen ? MDB_SET_RANGE : MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		t->n_reads++;
		if (klen && (k.mv_size < klen || memcmp(k.mv_data, prefix, klen) != 0))
			break;
		if ((rc = fn(arg, &k, &v)) != 0)
			break;
	}
	mdb_cursor_close(c);
	if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	return rc;
}

static int
scan(struct ls_txn *t, MDB_dbi dbi, const void *prefix, size_t klen,
     int (*fn)(void *arg, const MDB_val *k, const MDB_val *v), void *arg)
{
	return scan_from(t, dbi, prefix, klen, prefix, klen, fn, arg);
}

/* ---- branch state (ingest.c) ---- */

void
ls_branch_free(struct ls_branch **bp)
{
	struct ls_branch *b = *bp;

	if (b == NULL)
		return;
	ls_idmap_free(&b->holds);
	ls_idmap_free(&b->used);
	ls_idmap_free(&b->received);
	free(b);
	*bp = NULL;
}

/* ---- holds: holder key || lot id -> grams u64 ---- */

int
ls_txn_hold(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t lot[LS_ID_LEN],
	    uint64_t *grams)
{
	uint8_t k[LS_KEY_LEN + LS_ID_LEN];
	int rc;

	if (on_branch(t, holder)) {
		*grams = branch_get(t->branch->holds, lot);
		return 0;
	}
	memcpy(k, holder, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, lot, LS_ID_LEN);
	*grams = 0;
	rc = ls_txn_get_u64(t, t->s->holds, k, sizeof(k), grams);
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_txn_hold_put(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t lot[LS_ID_LEN],
		uint64_t grams)
{
	uint8_t k[LS_KEY_LEN + LS_ID_LEN];

	if (on_branch(t, holder))
		return branch_put(t->branch->holds, lot, grams);
	if (t->replay)
		return 0;
	memcpy(k, holder, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, lot, LS_ID_LEN);
	if (grams == 0)
		return del(t, t->s->holds, k, sizeof(k));
	return ls_txn_put_u64(t, t->s->holds, k, sizeof(k), grams);
}

struct holds_scan {
	const uint8_t *after;
	int (*fn)(void *arg, const uint8_t lot[LS_ID_LEN], uint64_t grams);
	void *arg;
};

static int
holds_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct holds_scan *h = arg;
	const uint8_t *lot = (const uint8_t *)k->mv_data + LS_KEY_LEN;

	if (k->mv_size != LS_KEY_LEN + LS_ID_LEN || v->mv_size != 8)
		return LS_ERR_STORE;
	if (h->after != NULL && memcmp(lot, h->after, LS_ID_LEN) == 0)
		return 0;
	return h->fn(h->arg, lot, ls_be64_get(v->mv_data));
}

int
ls_txn_holds_each(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
		  int (*fn)(void *arg, const uint8_t lot[LS_ID_LEN], uint64_t grams), void *arg)
{
	struct holds_scan h = {after, fn, arg};
	uint8_t k[LS_KEY_LEN + LS_ID_LEN];

	memcpy(k, holder, LS_KEY_LEN);
	if (after != NULL)
		memcpy(k + LS_KEY_LEN, after, LS_ID_LEN);
	return scan_from(t, t->s->holds, k, LS_KEY_LEN, k, after != NULL ? sizeof(k) : LS_KEY_LEN,
			 holds_one, &h);
}

/* ---- transit: transfer id -> grams u64 || received u8 ---- */

int
ls_txn_transit(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t *sent, bool *received)
{
	MDB_val v;
	int rc = ls_txn_get(t, t->s->transit, transfer, LS_ID_LEN, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size != 9)
		return LS_ERR_STORE;
	*sent = ls_be64_get(v.mv_data);
	/* On a branch, only the author's own receipts read this: whether it
	 * received the transfer on that branch. */
	if (t->branch != NULL)
		*received = ls_idmap_has(t->branch->received, transfer);
	else
		*received = ((const uint8_t *)v.mv_data)[8] != 0;
	return 0;
}

int
ls_txn_transit_put(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t sent,
		   bool received)
{
	uint8_t v[9];

	if (t->branch != NULL && received)
		return ls_idmap_put(t->branch->received, transfer, (void *)1);
	if (t->replay)
		return 0;
	ls_be64_put(v, sent);
	v[8] = received ? 1 : 0;
	return ls_txn_put(t, t->s->transit, transfer, LS_ID_LEN, v, sizeof(v), 0);
}

/* ---- transit, returns: return key of a transfer -> grams u64 || 1 ---- */

/* The key under which the sender's taking back of a transfer's shortfall is
 * kept: no transfer or receipt id can be it. */
static void
return_key(const uint8_t transfer[LS_ID_LEN], uint8_t key[LS_ID_LEN])
{
	static const char dom[] = "lodestone/return/v1";
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, LS_ID_LEN);
	crypto_generichash_update(&st, (const unsigned char *)dom, sizeof(dom));
	crypto_generichash_update(&st, transfer, LS_ID_LEN);
	crypto_generichash_final(&st, key, LS_ID_LEN);
}

int
ls_txn_return_taken(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *taken)
{
	uint8_t key[LS_ID_LEN];
	MDB_val v;
	int rc;

	return_key(transfer, key);
	/* On a branch, only the sender's own returns are read. */
	if (t->branch != NULL) {
		*taken = ls_idmap_has(t->branch->received, key);
		return 0;
	}
	rc = ls_txn_get(t, t->s->transit, key, LS_ID_LEN, &v);
	*taken = rc == 0;
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_txn_return_taken_put(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t grams)
{
	uint8_t key[LS_ID_LEN], v[9];

	return_key(transfer, key);
	if (t->branch != NULL)
		return ls_idmap_put(t->branch->received, key, (void *)1);
	if (t->replay)
		return 0;
	ls_be64_put(v, grams);
	v[8] = 1;
	return ls_txn_put(t, t->s->transit, key, LS_ID_LEN, v, sizeof(v), 0);
}

/* ---- flows: party key || dir u8 || id -> lot id || counterpart key || grams u64
 *      || kind u8 ---- */

#define FLOW_KLEN (LS_KEY_LEN + 1 + LS_ID_LEN)
#define FLOW_VLEN (LS_ID_LEN + LS_KEY_LEN + 8 + 1)

static void
flow_key(const uint8_t party[LS_KEY_LEN], char dir, const uint8_t id[LS_ID_LEN],
	 uint8_t k[FLOW_KLEN])
{
	memcpy(k, party, LS_KEY_LEN);
	k[LS_KEY_LEN] = (uint8_t)dir;
	memcpy(k + LS_KEY_LEN + 1, id, LS_ID_LEN);
}

int
ls_txn_flow_put(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir,
		const struct ls_flow_row *row)
{
	uint8_t k[FLOW_KLEN], v[FLOW_VLEN];

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	flow_key(party, dir, row->id, k);
	memcpy(v, row->lot, LS_ID_LEN);
	memcpy(v + LS_ID_LEN, row->party, LS_KEY_LEN);
	ls_be64_put(v + LS_ID_LEN + LS_KEY_LEN, row->grams);
	v[FLOW_VLEN - 1] = row->is_return ? 1 : 0;
	return ls_txn_put(t, t->s->flows, k, sizeof(k), v, sizeof(v), 0);
}

int
ls_txn_flow_del(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir,
		const uint8_t id[LS_ID_LEN])
{
	uint8_t k[FLOW_KLEN];

	if (t->replay)
		return 0;
	flow_key(party, dir, id, k);
	return del(t, t->s->flows, k, sizeof(k));
}

struct flows_scan {
	const uint8_t *after;
	int (*fn)(void *arg, const struct ls_flow_row *row);
	void *arg;
};

static int
flows_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct flows_scan *fs = arg;
	const uint8_t *p = v->mv_data;
	struct ls_flow_row row;

	if (k->mv_size != FLOW_KLEN || v->mv_size != FLOW_VLEN)
		return LS_ERR_STORE;
	memcpy(row.id, (const uint8_t *)k->mv_data + LS_KEY_LEN + 1, LS_ID_LEN);
	if (fs->after != NULL && memcmp(row.id, fs->after, LS_ID_LEN) == 0)
		return 0;
	memcpy(row.lot, p, LS_ID_LEN);
	memcpy(row.party, p + LS_ID_LEN, LS_KEY_LEN);
	row.grams = ls_be64_get(p + LS_ID_LEN + LS_KEY_LEN);
	row.is_return = p[FLOW_VLEN - 1] != 0;
	return fs->fn(fs->arg, &row);
}

int
ls_txn_flows_each(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir, const uint8_t *after,
		  int (*fn)(void *arg, const struct ls_flow_row *row), void *arg)
{
	struct flows_scan fs = {after, fn, arg};
	uint8_t k[FLOW_KLEN];

	flow_key(party, dir, after != NULL ? after : (const uint8_t[LS_ID_LEN]){0}, k);
	return scan_from(t, t->s->flows, k, LS_KEY_LEN + 1, k,
			 after != NULL ? FLOW_KLEN : LS_KEY_LEN + 1, flows_one, &fs);
}

/* ---- licused: license id -> grams u64 ---- */

int
ls_txn_licused(struct ls_txn *t, const uint8_t license[LS_ID_LEN], uint64_t *used)
{
	int rc;

	/* On a branch, only the author's own licenses are read (the licensee
	 * is the sender). */
	if (t->branch != NULL) {
		*used = branch_get(t->branch->used, license);
		return 0;
	}
	*used = 0;
	rc = ls_txn_get_u64(t, t->s->licused, license, LS_ID_LEN, used);
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_txn_licused_put(struct ls_txn *t, const uint8_t license[LS_ID_LEN], uint64_t used)
{
	if (t->branch != NULL)
		return branch_put(t->branch->used, license, used);
	return ls_txn_put_u64(t, t->s->licused, license, LS_ID_LEN, used);
}

/* ---- feeds: author || seq u64 -> record id; heads: author -> seq u64 ||
 *      head id || timestamp u64 ---- */

int
ls_txn_feed_get(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		uint8_t id[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8];
	MDB_val v;
	int rc;

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	if ((rc = ls_txn_get(t, t->s->feeds, k, sizeof(k), &v)) != 0)
		return rc;
	if (v.mv_size != LS_ID_LEN)
		return LS_ERR_STORE;
	memcpy(id, v.mv_data, LS_ID_LEN);
	return 0;
}

int
ls_txn_head(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
	    uint8_t id[LS_ID_LEN])
{
	MDB_val v;
	int rc;

	*seq = 0;
	memset(id, 0, LS_ID_LEN);
	if ((rc = ls_txn_get(t, t->s->heads, author, LS_KEY_LEN, &v)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	if (v.mv_size != 8 + LS_ID_LEN + 8)
		return LS_ERR_STORE;
	*seq = ls_be64_get(v.mv_data);
	memcpy(id, (uint8_t *)v.mv_data + 8, LS_ID_LEN);
	return 0;
}

/* ---- quorum: size u64 -> quorum time u64 (the log, logstore.c) ---- */

int
ls_store_quorum_latest(struct ls_store *s, uint64_t *size, uint64_t *qtime)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, mrc;

	if (s->no_log)
		return LS_ERR_NOT_FOUND;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->quorum, &c)) == 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == 0 && (k.mv_size != 8 || v.mv_size != 8))
		rc = LS_ERR_STORE;
	else if (mrc == MDB_NOTFOUND)
		rc = LS_ERR_NOT_FOUND;
	else if (mrc != 0)
		rc = ls_store_err(mrc);
	else {
		*size = ls_be64_get(k.mv_data);
		*qtime = ls_be64_get(v.mv_data);
	}
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

/* ---- dates: record id -> logged time u64 (bundle_check stores) ---- */

int
ls_txn_date_get(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *qtime)
{
	return ls_txn_get_u64(t, t->s->dates, id, LS_ID_LEN, qtime);
}

int
ls_txn_date_put(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t qtime)
{
	return ls_txn_put_u64(t, t->s->dates, id, LS_ID_LEN, qtime);
}

/* ---- lots: lot id -> record id || index u32 || grams u64 || maker || ts u64
 *      || node (below); labels: label -> lot id (dupsort) ---- */

#define LOT_VLEN (LS_ID_LEN + 4 + 8 + LS_KEY_LEN + 8)

/*
 * A lot's node: what a question reads of the record that made it, so that it
 * reads one value instead of decoding the record (store_int.h, struct
 * ls_lotnode). A pure function of that record (ls_lotnode_of_record), so it
 * is the same on every node and after every reindex. After the fixed part:
 *   version u8 (1) || type u8 || has_cert u8 || cert id || grams u64 ||
 *   value u64 || label, category, site (each len u16 || bytes) ||
 *   country[2] || n_comp u8 || n_comp x (z u8 || ppm u32) ||
 *   n_inputs u16 || n_inputs x (lot id || grams u64) ||
 *   out_value (u128, two u64) || outs_valued u8 || unvalued_out id ||
 *   has_in_keys u8 || has_in_keys ? n_inputs x the input's lot key
 * The inputs' lot keys (version 2) are this node's own (store positions,
 * store_int.h): a walk up the inputs reads each node by its key, near the
 * nodes stored about the same time, without looking its id up.
 */
#define NODE_VERSION 2

int
ls_lotnode_of_record(const struct ls_record *rec, const struct ls_lot_info *li,
		     const uint8_t lot[LS_ID_LEN], struct ls_lotnode *n)
{
	const struct ls_lotdef *d;

	memset(n, 0, sizeof(*n));
	if (li->index == LS_LOT_REGISTRATION && rec->type == LS_REC_LOT)
		d = &rec->lot.lot;
	else if (rec->type == LS_REC_TRANSFORMATION && li->index < rec->transformation.n_outputs)
		d = &rec->transformation.outputs[li->index];
	else
		return LS_ERR_STORE;
	memcpy(n->id, lot, LS_ID_LEN);
	n->li = *li;
	n->type = rec->type;
	memcpy(n->author, rec->author, LS_KEY_LEN);
	n->timestamp = rec->timestamp;
	n->has_cert = rec->has_cert;
	memcpy(n->cert_id, rec->cert_id, LS_ID_LEN);
	n->label = d->label;
	n->category = d->category;
	n->grams = d->grams;
	n->value = d->value;
	n->n_comp = d->comp.n;
	n->comp = d->comp.e;
	if (rec->type == LS_REC_LOT) {
		n->site = rec->lot.site;
		memcpy(n->country, rec->lot.country, sizeof(n->country));
		return 0;
	}
	n->site = "";
	n->n_inputs = rec->transformation.n_inputs;
	n->inputs = rec->transformation.inputs;
	n->outs_valued = true;
	for (uint32_t i = 0; i < rec->transformation.n_outputs; i++) {
		const struct ls_lotdef *o = &rec->transformation.outputs[i];
		n->out_value += o->value;
		if (o->value == 0 && n->outs_valued) {
			n->outs_valued = false;
			ls_lot_id(rec->id, i, n->unvalued_out);
		}
	}
	return 0;
}

struct nbuf {
	uint8_t *p;
	size_t n, cap;
};

static void
nb_put(struct nbuf *b, const void *x, size_t len)
{
	if (b->n + len <= b->cap)
		memcpy(b->p + b->n, x, len);
	b->n += len;
}

static void
nb_u8(struct nbuf *b, uint8_t v)
{
	nb_put(b, &v, 1);
}

static void
nb_u64(struct nbuf *b, uint64_t v)
{
	uint8_t x[8];
	ls_be64_put(x, v);
	nb_put(b, x, 8);
}

static void
nb_str(struct nbuf *b, const char *str)
{
	size_t len = strlen(str);
	uint8_t x[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	nb_put(b, x, 2);
	nb_put(b, str, len);
}

/* The node's bytes into b (b->n says how many; more than b->cap: too small). */
static void
node_encode(const struct ls_lotnode *n, struct nbuf *b)
{
	nb_u8(b, NODE_VERSION);
	nb_u8(b, (uint8_t)n->type);
	nb_u8(b, n->has_cert);
	nb_put(b, n->cert_id, LS_ID_LEN);
	nb_u64(b, n->grams);
	nb_u64(b, n->value);
	nb_str(b, n->label);
	nb_str(b, n->category);
	nb_str(b, n->site);
	nb_put(b, n->country, 2);
	nb_u8(b, (uint8_t)n->n_comp);
	for (size_t i = 0; i < n->n_comp; i++) {
		uint8_t x[4];
		nb_u8(b, (uint8_t)n->comp[i].z);
		be32_put(x, n->comp[i].ppm);
		nb_put(b, x, 4);
	}
	nb_u8(b, (uint8_t)(n->n_inputs >> 8));
	nb_u8(b, (uint8_t)n->n_inputs);
	for (size_t i = 0; i < n->n_inputs; i++) {
		nb_put(b, n->inputs[i].lot, LS_ID_LEN);
		nb_u64(b, n->inputs[i].grams);
	}
	nb_u64(b, (uint64_t)(n->out_value >> 64));
	nb_u64(b, (uint64_t)n->out_value);
	nb_u8(b, n->outs_valued);
	nb_put(b, n->unvalued_out, LS_ID_LEN);
	nb_u8(b, n->in_keys != NULL);
	if (n->in_keys != NULL)
		nb_put(b, n->in_keys, n->n_inputs * LS_LOT_KEY_LEN);
}

static size_t
be16_get(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

/* A string of len bytes at p: "" or a copy at *blk (advanced past it). */
static const char *
node_str(const uint8_t *p, size_t len, uint8_t **blk)
{
	char *out = (char *)*blk;

	if (len == 0)
		return ""; /* a transformation's site: nothing to copy */
	memcpy(out, p, len);
	out[len] = '\0';
	*blk += len + 1;
	return out;
}

/* The node after the fixed part of a lots value, every length checked
 * against len before a field is read; its arrays and strings in one block
 * from alloc (one allocation, not one per array and string). LS_ERR_STORE
 * for bytes that are not a node, LS_ERR_NOMEM. */
static int
node_decode(const uint8_t *p, size_t len, struct ls_lotnode *n, void *(*alloc)(void *arg, size_t n),
	    void *arg)
{
	enum { HEAD = 3 + LS_ID_LEN + 16, TAIL = 16 + 1 + LS_ID_LEN + 1 };
	size_t sl[3], soff[3], off = HEAD, strs = 0, n_comp, n_in, coff, ioff, toff;
	bool keys;
	uint8_t *blk;
	struct ls_elem *comp;
	struct ls_lot_input *in;

	if (len < HEAD || p[0] != NODE_VERSION ||
	    (p[1] != LS_REC_LOT && p[1] != LS_REC_TRANSFORMATION))
		return LS_ERR_STORE;
	for (int i = 0; i < 3; i++) {
		if (len - off < 2 || len - off - 2 < (sl[i] = be16_get(p + off)))
			return LS_ERR_STORE;
		soff[i] = off + 2;
		off += 2 + sl[i];
		strs += sl[i] ? sl[i] + 1 : 0;
	}
	if (len - off < 3 || (n_comp = p[off + 2]) > LS_COMP_MAX)
		return LS_ERR_STORE; /* country[2], n_comp */
	coff = off + 3;
	off = coff + 5 * n_comp;
	if (off > len || len - off < 2)
		return LS_ERR_STORE;
	n_in = be16_get(p + off);
	ioff = off + 2;
	if (n_in > (len - ioff) / (LS_ID_LEN + 8))
		return LS_ERR_STORE;
	toff = ioff + n_in * (LS_ID_LEN + 8);
	if (len - toff < TAIL)
		return LS_ERR_STORE;
	keys = p[toff + TAIL - 1] != 0 && n_in > 0;
	if (len - toff - TAIL != (p[toff + TAIL - 1] != 0 ? n_in * LS_LOT_KEY_LEN : 0))
		return LS_ERR_STORE;
	/* comp and inputs first (8-aligned sizes in a block that is), then
	 * the keys and the strings */
	if ((blk = alloc(arg, (n_comp ? n_comp : 1) * sizeof(*comp) +
				  (n_in ? n_in : 1) * sizeof(*in) +
				  (keys ? n_in * LS_LOT_KEY_LEN : 0) + strs)) == NULL)
		return LS_ERR_NOMEM;
	comp = (struct ls_elem *)(void *)blk;
	blk += (n_comp ? n_comp : 1) * sizeof(*comp);
	in = (struct ls_lot_input *)(void *)blk;
	blk += (n_in ? n_in : 1) * sizeof(*in);
	n->type = (enum ls_rtype)p[1];
	n->has_cert = p[2] != 0;
	memcpy(n->cert_id, p + 3, LS_ID_LEN);
	n->grams = ls_be64_get(p + 3 + LS_ID_LEN);
	n->value = ls_be64_get(p + 3 + LS_ID_LEN + 8);
	memcpy(n->country, p + coff - 3, 2);
	n->country[2] = '\0';
	n->n_comp = n_comp;
	for (size_t i = 0; i < n_comp; i++) {
		comp[i].z = p[coff + 5 * i];
		comp[i].ppm = be32_get(p + coff + 5 * i + 1);
	}
	n->comp = comp;
	n->n_inputs = n_in;
	for (size_t i = 0; i < n_in; i++) {
		memcpy(in[i].lot, p + ioff + i * (LS_ID_LEN + 8), LS_ID_LEN);
		in[i].grams = ls_be64_get(p + ioff + i * (LS_ID_LEN + 8) + LS_ID_LEN);
	}
	n->inputs = in;
	n->out_value = (ls_u128)ls_be64_get(p + toff) << 64 | ls_be64_get(p + toff + 8);
	n->outs_valued = p[toff + 16] != 0;
	memcpy(n->unvalued_out, p + toff + 17, LS_ID_LEN);
	if (keys) {
		memcpy(blk, p + toff + TAIL, n_in * LS_LOT_KEY_LEN);
		n->in_keys = (const uint8_t(*)[LS_LOT_KEY_LEN])blk;
		blk += n_in * LS_LOT_KEY_LEN;
	}
	n->label = node_str(p + soff[0], sl[0], &blk);
	n->category = node_str(p + soff[1], sl[1], &blk);
	n->site = node_str(p + soff[2], sl[2], &blk);
	return 0;
}

static void
lot_info_get(const uint8_t *p, struct ls_lot_info *info)
{
	memcpy(info->rec, p, LS_ID_LEN);
	info->index = be32_get(p + LS_ID_LEN);
	info->grams = ls_be64_get(p + LS_ID_LEN + 4);
	memcpy(info->maker, p + LS_ID_LEN + 12, LS_KEY_LEN);
	info->timestamp = ls_be64_get(p + LS_ID_LEN + 12 + LS_KEY_LEN);
}

/* Copies what n borrows from a record into alloc's memory. */
static int
node_copy(struct ls_lotnode *n, void *(*alloc)(void *arg, size_t n), void *arg)
{
	const char *strs[3] = {n->label, n->category, n->site};
	char *cp[3];
	struct ls_elem *comp;
	struct ls_lot_input *in;

	for (int i = 0; i < 3; i++) {
		size_t len = strlen(strs[i]) + 1;
		if ((cp[i] = alloc(arg, len)) == NULL)
			return LS_ERR_NOMEM;
		memcpy(cp[i], strs[i], len);
	}
	n->label = cp[0];
	n->category = cp[1];
	n->site = cp[2];
	if ((comp = alloc(arg, (n->n_comp + 1) * sizeof(*comp))) == NULL ||
	    (in = alloc(arg, (n->n_inputs + 1) * sizeof(*in))) == NULL)
		return LS_ERR_NOMEM;
	memcpy(comp, n->comp, n->n_comp * sizeof(*comp));
	memcpy(in, n->inputs, n->n_inputs * sizeof(*in));
	n->comp = comp;
	n->inputs = in;
	return 0;
}

/* The children after a lot's node in the lots table (c on the node, whose
 * key is lk): into alloc's memory, in key order (record id). */
static int
node_kids(struct ls_txn *t, MDB_cursor *c, const uint8_t lk[LS_LOT_KEY_LEN], struct ls_lotnode *n,
	  void *(*alloc)(void *arg, size_t n), void *arg)
{
	struct ls_kid few[16], *v = few, *kids;
	size_t cnt = 0, cap = sizeof(few) / sizeof(few[0]);
	MDB_val k, d;
	int mrc, rc = 0;

	for (;;) {
		mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
		if (mrc != 0)
			break;
		t->n_reads++;
		if (k.mv_size != LS_LOT_KEY_LEN + LS_ID_LEN ||
		    memcmp(k.mv_data, lk, LS_LOT_KEY_LEN) != 0)
			break;
		if (d.mv_size != 1) {
			rc = LS_ERR_STORE;
			goto out;
		}
		if (cnt == cap) {
			struct ls_kid *nv = malloc(2 * cap * sizeof(*nv));
			if (nv == NULL) {
				rc = LS_ERR_NOMEM;
				goto out;
			}
			memcpy(nv, v, cnt * sizeof(*nv));
			if (v != few)
				free(v);
			v = nv;
			cap *= 2;
		}
		memcpy(v[cnt].id, (const uint8_t *)k.mv_data + LS_LOT_KEY_LEN, LS_ID_LEN);
		v[cnt].type = (enum ls_rtype) * (const uint8_t *)d.mv_data;
		cnt++;
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		rc = ls_store_err(mrc);
		goto out;
	}
	if (cnt > 0) {
		if ((kids = alloc(arg, cnt * sizeof(*kids))) == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		memcpy(kids, v, cnt * sizeof(*kids));
		n->kids = kids;
	}
	n->n_kids = cnt;
	n->kids_loaded = true;
out:
	if (v != few)
		free(v);
	return rc;
}

/* Entries of other lots a backward step may pass before it gives up for a
 * seek. Up a chain it passes none (the cursor is on the node read last,
 * right after the input's children) but after a seek (past that node's
 * children); a graph whose inputs lie elsewhere wastes this many steps (a
 * step costs about a sixth of a seek, callgrind) before the seek. */
#define BACK_STEPS 4

/*
 * A walk up a lot's inputs asks for nodes stored before the one just read:
 * in a chain, the node right before it in the lots table, with its children
 * between the two. Steps c back from where it is (the node read last, or
 * past its children) to the node keyed lk, collecting lk's children on the
 * way (in reverse key order into *kv, *n_kids of them; the caller frees a
 * list that is not few): no descent from the root. 0 with the node's value
 * in *v and c on it; LS_ERR_NOT_FOUND when lk is not within BACK_STEPS
 * entries before c (the caller seeks), or another error.
 */
static int
node_back(struct ls_txn *t, MDB_cursor *c, const uint8_t lk[LS_LOT_KEY_LEN], MDB_val *v,
	  struct ls_kid *few, size_t cap_few, struct ls_kid **kv, size_t *n_kids)
{
	struct ls_kid *list = few;
	size_t cnt = 0, cap = cap_few;
	MDB_val k, d;
	MDB_cursor_op op = MDB_PREV;
	int steps = 0, cmp, rc = LS_ERR_NOT_FOUND, mrc = mdb_cursor_get(c, &k, &d, MDB_GET_CURRENT);

	*kv = few;
	*n_kids = 0;
	/* From past every key of lk: the current key's lot key is after lk, or
	 * the cursor is past the last key (its last read found no next one:
	 * the table's last entry is the first to look at). An unused cursor
	 * (EINVAL) is nowhere yet. */
	if (mrc == MDB_NOTFOUND)
		op = MDB_LAST;
	else if (mrc != 0 || k.mv_size < LS_LOT_KEY_LEN ||
		 memcmp(k.mv_data, lk, LS_LOT_KEY_LEN) <= 0)
		return LS_ERR_NOT_FOUND;
	for (;; op = MDB_PREV) {
		if (mdb_cursor_get(c, &k, &d, op) != 0 || k.mv_size < LS_LOT_KEY_LEN)
			break;
		t->n_reads++;
		cmp = memcmp(k.mv_data, lk, LS_LOT_KEY_LEN);
		if (cmp > 0) {
			/* another lot's node or child, after lk's */
			if (cnt > 0 || ++steps > BACK_STEPS)
				break;
			continue;
		}
		if (cmp < 0)
			break; /* before lk: no node lk here */
		if (k.mv_size == LS_LOT_KEY_LEN) {
			*v = d;
			rc = 0;
			break;
		}
		if (k.mv_size != LS_LOT_KEY_LEN + LS_ID_LEN || d.mv_size != 1)
			break;
		if (cnt == cap) {
			struct ls_kid *nv = malloc(2 * cap * sizeof(*nv));
			if (nv == NULL) {
				rc = LS_ERR_NOMEM;
				break;
			}
			memcpy(nv, list, cnt * sizeof(*nv));
			if (list != few)
				free(list);
			list = nv;
			cap *= 2;
		}
		memcpy(list[cnt].id, (const uint8_t *)k.mv_data + LS_LOT_KEY_LEN, LS_ID_LEN);
		list[cnt].type = (enum ls_rtype) * (const uint8_t *)d.mv_data;
		cnt++;
	}
	if (rc != 0) {
		if (list != few)
			free(list);
		return rc;
	}
	*kv = list;
	*n_kids = cnt;
	return 0;
}

int
ls_txn_lot_key(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], uint8_t key[LS_LOT_KEY_LEN])
{
	MDB_val v;
	int rc = ls_txn_get(t, t->s->ids, lot, LS_ID_LEN, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size == LS_IDS_LOT_VLEN) {
		memcpy(key, v.mv_data, LS_LOT_KEY_LEN); /* an output: pos || index */
		return 0;
	}
	if (v.mv_size < 9)
		return LS_ERR_STORE;
	if (((const uint8_t *)v.mv_data)[8] != LS_REC_LOT)
		return LS_ERR_NOT_FOUND; /* a record that is not a lot */
	memcpy(key, v.mv_data, 8);
	be32_put(key + 8, LS_LOT_REGISTRATION);
	return 0;
}

int
ls_txn_lotnode_read(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], bool with_kids,
		    struct ls_lotnode *n, void *(*alloc)(void *arg, size_t n), void *arg)
{
	return ls_txn_lotnode_read_at(t, lot, NULL, with_kids, n, alloc, arg);
}

int
ls_txn_lotnode_read_at(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t *key,
		       bool with_kids, struct ls_lotnode *n, void *(*alloc)(void *arg, size_t n),
		       void *arg)
{
	struct ls_record *rec = NULL;
	struct ls_lot_info li;
	MDB_cursor *c = NULL;
	uint8_t lk[LS_LOT_KEY_LEN];
	MDB_val k = {LS_LOT_KEY_LEN, lk}, v;
	struct ls_kid few[16], *back_kids = few;
	size_t n_back = 0;
	bool back = false;
	int mrc, rc = LS_ERR_NOT_FOUND;

	memset(n, 0, sizeof(*n));
	if (key != NULL)
		memcpy(lk, key, LS_LOT_KEY_LEN);
	else if ((rc = ls_txn_lot_key(t, lot, lk)) != 0)
		return rc;
	/* A read transaction keeps its cursor; a writer's ends with it. */
	if (t->readonly && t->lots_cursor != NULL)
		c = t->lots_cursor;
	else if ((mrc = mdb_cursor_open(t->txn, t->s->lots, &c)) != 0)
		return ls_store_err(mrc);
	else if (t->readonly)
		t->lots_cursor = c;
	/* A read transaction's cursor is where the last node was read: a walk
	 * up the inputs steps back to the next (node_back) before it seeks. */
	if (c == t->lots_cursor && (rc = node_back(t, c, lk, &v, few, sizeof(few) / sizeof(few[0]),
						   &back_kids, &n_back)) == 0)
		back = true;
	else if (rc == LS_ERR_NOMEM)
		goto out;
	else {
		t->n_reads++;
		t->n_seeks++;
		if ((rc = ls_store_err(mdb_cursor_get(c, &k, &v, MDB_SET_KEY))) != 0)
			goto out;
	}
	if (v.mv_size < LOT_VLEN) {
		rc = LS_ERR_STORE;
		goto out;
	}
	lot_info_get(v.mv_data, &li);
	if (v.mv_size > LOT_VLEN) {
		memcpy(n->id, lot, LS_ID_LEN);
		n->li = li;
		memcpy(n->author, li.maker, LS_KEY_LEN);
		n->timestamp = li.timestamp;
		rc = node_decode((const uint8_t *)v.mv_data + LOT_VLEN, v.mv_size - LOT_VLEN, n,
				 alloc, arg);
	} else {
		/* A lot stored without its node (a branch's, or written by an
		 * older build): the same node from its record. */
		if ((rc = ls_txn_record(t, li.rec, &rec)) == 0 &&
		    (rc = ls_lotnode_of_record(rec, &li, lot, n)) == 0)
			rc = node_copy(n, alloc, arg);
		ls_record_free(rec);
	}
	/* Its children are the next keys: on the same page, most often; a
	 * backward step read them already (in reverse order). */
	if (rc == 0 && with_kids && back) {
		struct ls_kid *kids = NULL;
		if (n_back > 0 && (kids = alloc(arg, n_back * sizeof(*kids))) == NULL)
			rc = LS_ERR_NOMEM;
		for (size_t i = 0; rc == 0 && i < n_back; i++)
			kids[i] = back_kids[n_back - 1 - i];
		n->kids = kids;
		n->n_kids = n_back;
		n->kids_loaded = rc == 0;
	} else if (rc == 0 && with_kids)
		rc = node_kids(t, c, lk, n, alloc, arg);
out:
	if (back_kids != few)
		free(back_kids);
	if (c != t->lots_cursor)
		mdb_cursor_close(c);
	return rc;
}

int
ls_txn_lot(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_lot_info *info)
{
	uint8_t lk[LS_LOT_KEY_LEN];
	MDB_val v;
	int rc = ls_txn_lot_key(t, lot, lk);

	if (rc != 0 || (rc = ls_txn_get(t, t->s->lots, lk, sizeof(lk), &v)) != 0)
		return rc;
	if (v.mv_size < LOT_VLEN)
		return LS_ERR_STORE;
	lot_info_get(v.mv_data, info);
	return 0;
}

/* Walks the ids a dupsort table holds under `name` and returns the first for
 * which match() says yes. */
static int
dup_find(struct ls_txn *t, MDB_dbi dbi, const char *name,
	 int (*match)(struct ls_txn *t, const uint8_t id[LS_ID_LEN], const uint8_t key[LS_KEY_LEN]),
	 const uint8_t key[LS_KEY_LEN], uint8_t out[LS_ID_LEN])
{
	MDB_cursor *c = NULL;
	MDB_val k = {strlen(name), (void *)(uintptr_t)name}, v;
	int mrc, rc = LS_ERR_NOT_FOUND;

	if (k.mv_size == 0)
		return LS_ERR_NOT_FOUND;
	if ((mrc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
		return ls_store_err(mrc);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP)) {
		if (v.mv_size != LS_ID_LEN) {
			rc = LS_ERR_STORE;
			break;
		}
		if ((rc = match(t, v.mv_data, key)) != LS_ERR_NOT_FOUND) {
			if (rc == 0)
				memcpy(out, v.mv_data, LS_ID_LEN);
			break;
		}
	}
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	mdb_cursor_close(c);
	return rc;
}

static int
made_by(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t maker[LS_KEY_LEN])
{
	struct ls_lot_info info;
	int rc = ls_txn_lot(t, lot, &info);

	if (rc != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc; /* a label of no lot */
	return memcmp(info.maker, maker, LS_KEY_LEN) == 0 ? 0 : LS_ERR_NOT_FOUND;
}

static int
issued_by(struct ls_txn *t, const uint8_t lic[LS_ID_LEN], const uint8_t issuer[LS_KEY_LEN])
{
	struct ls_record *r = NULL;
	int rc = ls_txn_record(t, lic, &r);

	if (rc == 0)
		rc = memcmp(r->author, issuer, LS_KEY_LEN) == 0 ? 0 : LS_ERR_NOT_FOUND;
	else if (rc == LS_ERR_NOT_FOUND)
		rc = LS_ERR_STORE;
	ls_record_free(r);
	return rc;
}

int
ls_txn_label_of(struct ls_txn *t, const char *label, const uint8_t maker[LS_KEY_LEN],
		uint8_t lot[LS_ID_LEN])
{
	return dup_find(t, t->s->labels, label, made_by, maker, lot);
}

int
ls_txn_licnum_of(struct ls_txn *t, const char *number, const uint8_t issuer[LS_KEY_LEN],
		 uint8_t lic[LS_ID_LEN])
{
	return dup_find(t, t->s->licnum, number, issued_by, issuer, lic);
}

int
ls_txn_lot_put(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const struct ls_lot_info *info,
	       const char *label, const struct ls_record *rec)
{
	uint8_t fixed[LOT_VLEN + 512], *v = fixed, lk[LS_LOT_KEY_LEN], idv[LS_IDS_LOT_VLEN];
	uint8_t few[8][LS_LOT_KEY_LEN], (*keys)[LS_LOT_KEY_LEN] = few;
	struct ls_lotnode n;
	struct nbuf b;
	int rc;

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	if ((rc = ls_lotnode_of_record(rec, info, lot, &n)) != 0)
		return rc;
	/* The inputs' keys, for walks up the inputs (node-local); they are
	 * stored (a transformation's rules found them), else the node goes
	 * without and a walk looks the ids up. */
	if (n.n_inputs > sizeof(few) / sizeof(few[0]) &&
	    (keys = malloc(n.n_inputs * LS_LOT_KEY_LEN)) == NULL)
		return LS_ERR_NOMEM;
	n.in_keys = n.n_inputs > 0 ? (const uint8_t(*)[LS_LOT_KEY_LEN])keys : NULL;
	for (size_t i = 0; i < n.n_inputs && n.in_keys != NULL; i++) {
		rc = ls_txn_lot_key(t, n.inputs[i].lot, keys[i]);
		if (rc == LS_ERR_NOT_FOUND)
			n.in_keys = NULL;
		else if (rc != 0)
			goto out;
	}
	rc = 0;
	b = (struct nbuf){fixed + LOT_VLEN, 0, sizeof(fixed) - LOT_VLEN};
	node_encode(&n, &b);
	if (b.n > b.cap) {
		/* Many inputs: encode again into a buffer of the size. */
		if ((v = malloc(LOT_VLEN + b.n)) == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		b = (struct nbuf){v + LOT_VLEN, 0, b.n};
		node_encode(&n, &b);
	}
	memcpy(v, info->rec, LS_ID_LEN);
	be32_put(v + LS_ID_LEN, info->index);
	ls_be64_put(v + LS_ID_LEN + 4, info->grams);
	memcpy(v + LS_ID_LEN + 12, info->maker, LS_KEY_LEN);
	ls_be64_put(v + LS_ID_LEN + 12 + LS_KEY_LEN, info->timestamp);
	/* Keyed by where its record is stored: the largest key yet (every
	 * other key starts with an earlier position), so an append at the
	 * table's end, where a key by lot id wrote a random page per lot. */
	ls_be64_put(lk, t->apply_pos);
	be32_put(lk + 8, info->index);
	rc = ls_txn_put(t, t->s->lots, lk, sizeof(lk), v, LOT_VLEN + b.n, MDB_APPEND);
	if (rc == LS_ERR_EXISTS) /* not after the last key: a put in place */
		rc = ls_txn_put(t, t->s->lots, lk, sizeof(lk), v, LOT_VLEN + b.n, 0);
	/* A transformation's output: its id to its key (a registration's is
	 * its record's ids entry). */
	if (rc == 0 && info->index != LS_LOT_REGISTRATION) {
		memcpy(idv, lk, sizeof(idv));
		rc = ls_txn_put(t, t->s->ids, lot, LS_ID_LEN, idv, sizeof(idv), 0);
	}
	if (rc == 0)
		rc = ls_txn_put(t, t->s->labels, label, strlen(label), lot, LS_ID_LEN, 0);
out:
	if (v != fixed)
		free(v);
	if (keys != few)
		free(keys);
	return rc;
}
/* ---- children: parent id || record id -> type u8 ----
 *
 * What consumes or ships a lot (a transformation, a transfer of material)
 * is kept in the lots table beside the lot's node, under lot id || record id
 * (layout 7): the node's key is a prefix of its children's keys, so one
 * cursor reads a lot's node and then its children on the same page, where
 * a second table cost a second descent. The receipts of a transfer (and the
 * sender's claim on a receipt) stay in the children table. Which table is a
 * pure function of the child's type, so every node stores the same entries
 * whatever order the records arrived in. */

static MDB_dbi
child_dbi(struct ls_txn *t, enum ls_rtype type)
{
	return type == LS_REC_TRANSFER || type == LS_REC_TRANSFORMATION ? t->s->lots
									: t->s->children;
}

int
ls_txn_child_put(struct ls_txn *t, const uint8_t parent[LS_ID_LEN], const uint8_t rec[LS_ID_LEN],
		 enum ls_rtype type)
{
	uint8_t k[2 * LS_ID_LEN], v = (uint8_t)type; /* the longer of the two keys */
	MDB_dbi dbi = child_dbi(t, type);
	size_t plen = LS_ID_LEN;
	int rc;

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	if (dbi == t->s->lots) {
		/* after the lot's node, under its key */
		if ((rc = ls_txn_lot_key(t, parent, k)) != 0)
			return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
		plen = LS_LOT_KEY_LEN;
	} else {
		/* A transfer named is received (ls_txn_received): the custody
		 * maps that depend on it are stale. */
		if ((rc = ls_custody_memo_named(t, parent)) != 0)
			return rc;
		memcpy(k, parent, LS_ID_LEN);
	}
	memcpy(k + plen, rec, LS_ID_LEN);
	return ls_txn_put(t, dbi, k, plen + LS_ID_LEN, &v, 1, 0);
}

struct typed_scan {
	int (*fn)(void *arg, const uint8_t rec[LS_ID_LEN], enum ls_rtype type);
	void *arg;
	uint8_t (*ids)[LS_ID_LEN];
	enum ls_rtype *types;
	size_t n, cap;
};

static int
typed_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct typed_scan *ts = arg;

	if (k->mv_size == LS_LOT_KEY_LEN)
		return 0; /* the lot's node: its children follow */
	if (k->mv_size != LS_LOT_KEY_LEN + LS_ID_LEN)
		return LS_ERR_STORE;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? 2 * ts->cap : 8;
		uint8_t(*ni)[LS_ID_LEN] = realloc(ts->ids, cap * LS_ID_LEN);
		enum ls_rtype *nt;
		if (ni == NULL)
			return LS_ERR_NOMEM;
		ts->ids = ni;
		if ((nt = realloc(ts->types, cap * sizeof(*nt))) == NULL)
			return LS_ERR_NOMEM;
		ts->types = nt;
		ts->cap = cap;
	}
	memcpy(ts->ids[ts->n], (const uint8_t *)k->mv_data + LS_LOT_KEY_LEN, LS_ID_LEN);
	ts->types[ts->n] =
	    v->mv_size == 1 ? (enum ls_rtype) * (const uint8_t *)v->mv_data : LS_REC_NONE;
	ts->n++;
	return 0;
}

int
ls_txn_lot_children_typed(struct ls_txn *t, const uint8_t lot[LS_ID_LEN],
			  int (*fn)(void *arg, const uint8_t rec[LS_ID_LEN], enum ls_rtype type),
			  void *arg)
{
	struct typed_scan ts = {fn, arg, NULL, NULL, 0, 0};
	uint8_t lk[LS_LOT_KEY_LEN];
	int rc = ls_txn_lot_key(t, lot, lk);

	if (rc == 0)
		rc = scan(t, t->s->lots, lk, sizeof(lk), typed_one, &ts);
	for (size_t i = 0; rc == 0 && i < ts.n; i++)
		rc = fn(arg, ts.ids[i], ts.types[i]);
	free(ts.ids);
	free(ts.types);
	return rc;
}

struct idlist {
	uint8_t (*v)[LS_ID_LEN];
	size_t n;
	size_t off;      /* where the id is in the key */
	size_t skip_len; /* keys of this length are passed over (0: none) */
};

static int
collect_id(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct idlist *l = arg;
	uint8_t(*nv)[LS_ID_LEN];

	(void)v;
	if (l->skip_len != 0 && k->mv_size == l->skip_len)
		return 0;
	if (k->mv_size != l->off + LS_ID_LEN)
		return LS_ERR_STORE;
	if ((nv = realloc(l->v, (l->n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	l->v = nv;
	memcpy(l->v[l->n++], (const uint8_t *)k->mv_data + l->off, LS_ID_LEN);
	return 0;
}

/* Collects the ids (at offset off of keys of off + 32 bytes) under prefix
 * first (fn may read the store), then calls fn. */
static int
ids_each(struct ls_txn *t, MDB_dbi dbi, const uint8_t *prefix, size_t klen, size_t off,
	 int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg)
{
	struct idlist l = {NULL, 0, off, dbi == t->s->lots ? LS_LOT_KEY_LEN : 0};
	int rc = scan(t, dbi, prefix, klen, collect_id, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = fn(arg, l.v[i]);
	free(l.v);
	return rc;
}

int
ls_txn_children(struct ls_txn *t, const uint8_t key[32],
		int (*fn)(void *arg, const uint8_t rec[32]), void *arg)
{
	return ids_each(t, t->s->children, key, LS_ID_LEN, LS_ID_LEN, fn, arg);
}

int
ls_txn_lot_children(struct ls_txn *t, const uint8_t lot[LS_ID_LEN],
		    int (*fn)(void *arg, const uint8_t rec[LS_ID_LEN]), void *arg)
{
	uint8_t lk[LS_LOT_KEY_LEN];
	int rc = ls_txn_lot_key(t, lot, lk);

	if (rc != 0)
		return rc;
	return ids_each(t, t->s->lots, lk, sizeof(lk), sizeof(lk), fn, arg);
}

static int
any_child(void *arg, const uint8_t rec[LS_ID_LEN])
{
	(void)rec;
	*(bool *)arg = true;
	return 1;
}

int
ls_txn_received(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *received)
{
	int rc;

	*received = false;
	rc = ls_txn_children(t, transfer, any_child, received);
	return rc == 1 ? 0 : rc;
}

/* ---- certs: subject key || cert id -> roles u32 || from u64 || until u64 || country[2] ---- */

#define CERT_VLEN (4 + 8 + 8 + 2)

int
ls_txn_cert_put(struct ls_txn *t, const uint8_t subject[LS_KEY_LEN], const struct ls_cert_row *row)
{
	uint8_t k[LS_KEY_LEN + LS_ID_LEN], v[CERT_VLEN];

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	memcpy(k, subject, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, row->cert, LS_ID_LEN);
	be32_put(v, row->roles);
	ls_be64_put(v + 4, row->from);
	ls_be64_put(v + 12, row->until);
	memcpy(v + 20, row->country, 2);
	return ls_txn_put(t, t->s->certs, k, sizeof(k), v, sizeof(v), 0);
}

struct certs_scan {
	int (*fn)(void *arg, const struct ls_cert_row *row);
	void *arg;
};

static int
certs_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct certs_scan *cs = arg;
	const uint8_t *p = v->mv_data;
	struct ls_cert_row row;

	if (k->mv_size != LS_KEY_LEN + LS_ID_LEN || v->mv_size != CERT_VLEN)
		return LS_ERR_STORE;
	memcpy(row.cert, (const uint8_t *)k->mv_data + LS_KEY_LEN, LS_ID_LEN);
	row.roles = be32_get(p);
	row.from = ls_be64_get(p + 4);
	row.until = ls_be64_get(p + 12);
	memcpy(row.country, p + 20, 2);
	row.country[2] = '\0';
	return cs->fn(cs->arg, &row);
}

int
ls_txn_certs_each(struct ls_txn *t, const uint8_t subject[LS_KEY_LEN],
		  int (*fn)(void *arg, const struct ls_cert_row *row), void *arg)
{
	struct certs_scan cs = {fn, arg};
	return scan(t, t->s->certs, subject, LS_KEY_LEN, certs_one, &cs);
}

/* ---- revoked: subject || revocation id -> effective u64 || author key ---- */

#define REV_VLEN (8 + LS_KEY_LEN)

int
ls_txn_revocation_put(struct ls_txn *t, const uint8_t subject[32], const struct ls_rev_row *row)
{
	uint8_t k[32 + LS_ID_LEN], v[REV_VLEN];

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	memcpy(k, subject, 32);
	memcpy(k + 32, row->rev, LS_ID_LEN);
	ls_be64_put(v, row->effective);
	memcpy(v + 8, row->author, LS_KEY_LEN);
	return ls_txn_put(t, t->s->revoked, k, sizeof(k), v, sizeof(v), 0);
}

struct revs_scan {
	int (*fn)(void *arg, const struct ls_rev_row *row);
	void *arg;
};

static int
revs_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct revs_scan *rs = arg;
	struct ls_rev_row row;

	if (k->mv_size != 32 + LS_ID_LEN || v->mv_size != REV_VLEN)
		return LS_ERR_STORE;
	memcpy(row.rev, (const uint8_t *)k->mv_data + 32, LS_ID_LEN);
	row.effective = ls_be64_get(v->mv_data);
	memcpy(row.author, (const uint8_t *)v->mv_data + 8, LS_KEY_LEN);
	return rs->fn(rs->arg, &row);
}

int
ls_txn_revocations_each(struct ls_txn *t, const uint8_t subject[32],
			int (*fn)(void *arg, const struct ls_rev_row *row), void *arg)
{
	struct revs_scan rs = {fn, arg};
	return scan(t, t->s->revoked, subject, 32, revs_one, &rs);
}

static int
rev_id_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct idlist *l = arg;
	uint8_t(*nv)[LS_ID_LEN];

	(void)v;
	if (k->mv_size != 32 + LS_ID_LEN)
		return LS_ERR_STORE;
	if ((nv = realloc(l->v, (l->n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	l->v = nv;
	memcpy(l->v[l->n++], (const uint8_t *)k->mv_data + 32, LS_ID_LEN);
	return 0;
}

int
ls_txn_all_revocations_each(struct ls_txn *t, int (*fn)(void *arg, const uint8_t rev[LS_ID_LEN]),
			    void *arg)
{
	struct idlist l = {NULL, 0, 0, 0};
	int rc = scan(t, t->s->revoked, NULL, 0, rev_id_one, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = fn(arg, l.v[i]);
	free(l.v);
	return rc;
}

/* ---- policies: jurisdiction[2] || effective_from u64 || policy id -> "" ---- */

int
ls_txn_policy_put(struct ls_txn *t, const char jurisdiction[2], uint64_t from,
		  const uint8_t id[LS_ID_LEN])
{
	uint8_t k[2 + 8 + LS_ID_LEN];

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	memcpy(k, jurisdiction, 2);
	ls_be64_put(k + 2, from);
	memcpy(k + 10, id, LS_ID_LEN);
	return ls_txn_put(t, t->s->policies, k, sizeof(k), "", 0, 0);
}

int
ls_txn_policies_each(struct ls_txn *t, int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg)
{
	return ids_each(t, t->s->policies, NULL, 0, 2 + 8, fn, arg);
}

/* ---- licnum: license number -> license id (dupsort);
 *      lictee: licensee key || license id -> "" (layout 9) ---- */

static int
lictee_put(struct ls_txn *t, const uint8_t licensee[LS_KEY_LEN], const uint8_t id[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + LS_ID_LEN];

	memcpy(k, licensee, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, id, LS_ID_LEN);
	return ls_txn_put(t, t->s->lictee, k, sizeof(k), "", 0, 0);
}

int
ls_txn_license_put(struct ls_txn *t, const struct ls_record *r)
{
	int rc;

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	if ((rc = ls_txn_put(t, t->s->licnum, r->license.number, strlen(r->license.number), r->id,
			     LS_ID_LEN, 0)) != 0)
		return rc;
	return lictee_put(t, r->license.licensee, r->id);
}

int
ls_txn_licenses_of(struct ls_txn *t, const uint8_t licensee[LS_KEY_LEN],
		   int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg)
{
	return ids_each(t, t->s->lictee, licensee, LS_KEY_LEN, LS_KEY_LEN, fn, arg);
}

static int
lictee_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	struct ls_txn *t = arg;
	struct ls_record *r = NULL;
	int rc;

	/* every license the table names is stored */
	if ((rc = ls_txn_record(t, id, &r)) != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
	rc = r->type == LS_REC_LICENSE ? lictee_put(t, r->license.licensee, id) : LS_ERR_STORE;
	ls_record_free(r);
	return rc;
}

int
ls_txn_lictee_build(struct ls_txn *t)
{
	return ls_txn_licenses_each(t, lictee_one, t);
}

static int
collect_val(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct idlist *l = arg;
	uint8_t(*nv)[LS_ID_LEN];

	(void)k;
	if (v->mv_size != LS_ID_LEN)
		return LS_ERR_STORE;
	if ((nv = realloc(l->v, (l->n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	l->v = nv;
	memcpy(l->v[l->n++], v->mv_data, LS_ID_LEN);
	return 0;
}

int
ls_txn_licenses_each(struct ls_txn *t, int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg)
{
	struct idlist l = {NULL, 0, 0, 0};
	int rc = scan(t, t->s->licnum, NULL, 0, collect_val, &l);

	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = fn(arg, l.v[i]);
	free(l.v);
	return rc;
}

/* ---- techs: receiver key || timestamp u64 || transfer id -> "" ---- */

int
ls_txn_tech_put(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t ts,
		const uint8_t transfer[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8 + LS_ID_LEN];

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	memcpy(k, to, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, ts);
	memcpy(k + LS_KEY_LEN + 8, transfer, LS_ID_LEN);
	return ls_txn_put(t, t->s->techs, k, sizeof(k), "", 0, 0);
}

struct techs_scan {
	uint64_t before;
	struct idlist l;
};

static int
tech_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct techs_scan *ts = arg;
	uint8_t(*nv)[LS_ID_LEN];

	(void)v;
	if (k->mv_size != LS_KEY_LEN + 8 + LS_ID_LEN)
		return LS_ERR_STORE;
	if (ls_be64_get((const uint8_t *)k->mv_data + LS_KEY_LEN) > ts->before)
		return 1; /* in date order: the rest are later */
	if ((nv = realloc(ts->l.v, (ts->l.n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	ts->l.v = nv;
	memcpy(ts->l.v[ts->l.n++], (const uint8_t *)k->mv_data + LS_KEY_LEN + 8, LS_ID_LEN);
	return 0;
}

struct techs_dated {
	size_t n;
	uint64_t *ts;
	uint8_t (*ids)[LS_ID_LEN];
};

static int
tech_dated(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct techs_dated *d = arg;
	uint64_t *nt;
	uint8_t(*ni)[LS_ID_LEN];

	(void)v;
	if (k->mv_size != LS_KEY_LEN + 8 + LS_ID_LEN)
		return LS_ERR_STORE;
	if ((nt = realloc(d->ts, (d->n + 1) * sizeof(*nt))) == NULL)
		return LS_ERR_NOMEM;
	d->ts = nt;
	if ((ni = realloc(d->ids, (d->n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	d->ids = ni;
	d->ts[d->n] = ls_be64_get((const uint8_t *)k->mv_data + LS_KEY_LEN);
	memcpy(d->ids[d->n++], (const uint8_t *)k->mv_data + LS_KEY_LEN + 8, LS_ID_LEN);
	return 0;
}

int
ls_txn_techs_dated(struct ls_txn *t, const uint8_t to[LS_KEY_LEN],
		   int (*fn)(void *arg, uint64_t ts, const uint8_t transfer[LS_ID_LEN]), void *arg)
{
	struct techs_dated d = {0, NULL, NULL};
	int rc = scan(t, t->s->techs, to, LS_KEY_LEN, tech_dated, &d);

	for (size_t i = 0; rc == 0 && i < d.n; i++)
		rc = fn(arg, d.ts[i], d.ids[i]);
	free(d.ts);
	free(d.ids);
	return rc;
}

int
ls_txn_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
		  int (*fn)(void *arg, const uint8_t transfer[LS_ID_LEN]), void *arg)
{
	struct techs_scan ts = {before, {NULL, 0, 0, 0}};
	int rc = scan(t, t->s->techs, to, LS_KEY_LEN, tech_one, &ts);

	if (rc == 1)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < ts.l.n; i++)
		rc = fn(arg, ts.l.v[i]);
	free(ts.l.v);
	return rc;
}

/* ---- evidence: author || seq u64 -> len_a u32 || envelope a || envelope b ---- */

int
ls_txn_evidence_has(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq, bool *has)
{
	uint8_t k[LS_KEY_LEN + 8];
	MDB_val v;
	int rc;

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	rc = ls_txn_get(t, t->s->evidence, k, sizeof(k), &v);
	*has = rc == 0;
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_txn_evidence_put(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		    const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	uint8_t k[LS_KEY_LEN + 8], *val;
	int rc;

	if (t->replay)
		return 0; /* folding a branch: already in the tables */
	if (la > UINT32_MAX)
		return LS_ERR_INVALID;
	if ((val = malloc(4 + la + lb)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	be32_put(val, (uint32_t)la);
	memcpy(val + 4, a, la);
	memcpy(val + 4 + la, b, lb);
	rc = ls_txn_put(t, t->s->evidence, k, sizeof(k), val, 4 + la + lb, 0);
	free(val);
	return rc;
}

/* Splits an evidence value into its two envelopes. */
static int
evidence_split(const MDB_val *v, const uint8_t **a, size_t *la, const uint8_t **b, size_t *lb)
{
	const uint8_t *e = v->mv_data;
	uint32_t n;

	if (v->mv_size < 4)
		return LS_ERR_STORE;
	n = be32_get(e);
	if (n > v->mv_size - 4)
		return LS_ERR_STORE;
	*a = e + 4;
	*la = n;
	*b = e + 4 + n;
	*lb = v->mv_size - 4 - n;
	return 0;
}

int
ls_txn_evidence_first(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
		      uint8_t pair[2][LS_ID_LEN])
{
	MDB_cursor *c = NULL;
	MDB_val k = {LS_KEY_LEN, (void *)(uintptr_t)author}, v;
	const uint8_t *a, *b;
	size_t la, lb;
	struct ls_record *ra = NULL, *rb = NULL;
	int mrc, rc;

	if ((mrc = mdb_cursor_open(t->txn, t->s->evidence, &c)) != 0)
		return ls_store_err(mrc);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	t->n_reads++;
	t->n_seeks++;
	if (mrc != 0 || k.mv_size != LS_KEY_LEN + 8 || memcmp(k.mv_data, author, LS_KEY_LEN) != 0) {
		mdb_cursor_close(c);
		return mrc != 0 && mrc != MDB_NOTFOUND ? ls_store_err(mrc) : LS_ERR_NOT_FOUND;
	}
	*seq = ls_be64_get((const uint8_t *)k.mv_data + LS_KEY_LEN);
	rc = evidence_split(&v, &a, &la, &b, &lb);
	if (rc == 0 &&
	    (ls_record_decode(a, la, &ra, NULL) != 0 || ls_record_decode(b, lb, &rb, NULL) != 0))
		rc = LS_ERR_STORE;
	if (rc == 0) {
		memcpy(pair[0], ra->id, LS_ID_LEN);
		memcpy(pair[1], rb->id, LS_ID_LEN);
	}
	ls_record_free(ra);
	ls_record_free(rb);
	mdb_cursor_close(c);
	return rc;
}

struct ev_scan {
	int (*fn)(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb);
	void *arg;
};

static int
ev_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	struct ev_scan *es = arg;
	const uint8_t *a, *b;
	size_t la, lb;
	int rc;

	(void)k;
	if ((rc = evidence_split(v, &a, &la, &b, &lb)) != 0)
		return rc;
	return es->fn(es->arg, a, la, b, lb);
}

int
ls_txn_evidence_each(struct ls_txn *t, const uint8_t *author,
		     int (*fn)(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb),
		     void *arg)
{
	struct ev_scan es = {fn, arg};
	return scan(t, t->s->evidence, author, author ? LS_KEY_LEN : 0, ev_one, &es);
}

/* ---- forks: author || seq u64 || record id -> "" ---- */

int
ls_txn_fork_put(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		const uint8_t id[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8 + LS_ID_LEN];

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	memcpy(k + LS_KEY_LEN + 8, id, LS_ID_LEN);
	return ls_txn_put(t, t->s->forks, k, sizeof(k), "", 0, 0);
}

int
ls_txn_forks_each(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		  int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg)
{
	uint8_t k[LS_KEY_LEN + 8];

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	return ids_each(t, t->s->forks, k, sizeof(k), sizeof(k), fn, arg);
}

static int
first_fork_one(void *arg, const MDB_val *k, const MDB_val *v)
{
	(void)v;
	if (k->mv_size != LS_KEY_LEN + 8 + LS_ID_LEN)
		return LS_ERR_STORE;
	memcpy(arg, (const uint8_t *)k->mv_data + LS_KEY_LEN + 8, LS_ID_LEN);
	return 1;
}

int
ls_txn_fork_first(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		  uint8_t id[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8];
	int rc;

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	rc = scan(t, t->s->forks, k, sizeof(k), first_fork_one, id);
	return rc == 1 ? 0 : rc == 0 ? LS_ERR_NOT_FOUND : rc;
}

int
ls_txn_evidence_pair(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		     uint8_t pair[2][LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8];
	const uint8_t *a, *b;
	size_t la, lb;
	struct ls_record *ra = NULL, *rb = NULL;
	MDB_val v;
	int rc;

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	if ((rc = ls_txn_get(t, t->s->evidence, k, sizeof(k), &v)) != 0 ||
	    (rc = evidence_split(&v, &a, &la, &b, &lb)) != 0)
		return rc;
	if (ls_record_decode(a, la, &ra, NULL) != 0 || ls_record_decode(b, lb, &rb, NULL) != 0)
		rc = LS_ERR_STORE;
	else {
		memcpy(pair[0], ra->id, LS_ID_LEN);
		memcpy(pair[1], rb->id, LS_ID_LEN);
	}
	ls_record_free(ra);
	ls_record_free(rb);
	return rc;
}
