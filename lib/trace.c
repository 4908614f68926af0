/*
 * trace.c - the provenance graph of a lot (ancestors or descendants) and the
 * proof bundle: every record needed to check a lot offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kind.h"
#include "logproof.h"
#include "witness.h"
#include "util.h"
#include "verify_int.h"

struct tr {
	struct ls_txn *t;
	struct ls_trace *out;
	size_t cap_nodes, cap_edges, cap_transfers;
	uint32_t mark; /* the nodes this trace reached (ls_lotnode_mark) */
	const struct ls_lotnode **queue;
	size_t qhead, qn, qcap;
	bool down;
	struct ls_idmap *inputs_drawn; /* up: transformations whose inputs are in */
};

static int
enqueue_node(struct tr *x, const struct ls_lotnode *n)
{
	if (!ls_lotnode_mark(n, x->mark))
		return 0;
	if (x->qn == x->qcap) {
		size_t nc = x->qcap ? x->qcap * 2 : 64;
		const struct ls_lotnode **nq = realloc(x->queue, nc * sizeof(*nq));
		if (nq == NULL)
			return LS_ERR_NOMEM;
		x->queue = nq;
		x->qcap = nc;
	}
	x->queue[x->qn++] = n;
	return 0;
}

static int
enqueue(struct tr *x, const uint8_t lot[32])
{
	const struct ls_lotnode *n;
	struct ls_lotnode *owned = NULL;
	int rc = ls_txn_lotnode(x->t, lot, &n, &owned);

	/* With the trace's memo, nodes are borrowed: owned stays NULL. */
	return rc != 0 ? rc : enqueue_node(x, n);
}

/* Grows an array of *cap elements of size sz to hold n + 1 (doubling). */
static int
grow(void **v, size_t *cap, size_t n, size_t sz)
{
	void *nv;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap ? 2 * *cap : 16;
	if ((nv = realloc(*v, nc * sz)) == NULL)
		return LS_ERR_NOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

/* snprintf(dst, n, "%s", src) without the format: twice per node. */
static void
str_copy(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int
add_node(struct tr *x, const struct ls_lotnode *ln)
{
	struct ls_trace *t = x->out;
	struct ls_trace_node *n;
	int rc;

	if ((rc = grow((void **)&t->nodes, &x->cap_nodes, t->n_nodes, sizeof(*t->nodes))) != 0)
		return rc;
	n = &t->nodes[t->n_nodes++];
	memset(n, 0, sizeof(*n));
	memcpy(n->id, ln->id, 32);
	str_copy(n->label, sizeof(n->label), ln->label);
	str_copy(n->category, sizeof(n->category), ln->category);
	n->grams = ln->grams;
	memcpy(n->holder, ln->li.maker, 32);
	memcpy(n->record, ln->li.rec, 32);
	n->transformed = ln->type == LS_REC_TRANSFORMATION;
	if (ln->type == LS_REC_LOT) {
		memcpy(n->country, ln->country, 3);
	} else if ((rc = ls_author_country_by(x->t, ln->has_cert, ln->author, ln->cert_id,
					      n->country)) != 0)
		return rc;
	return 0;
}

/* Input from (made by from_maker) of transformation rec by `by`, which made
 * to; repeat: that input of rec has an edge already. */
static int
add_edge(struct tr *x, const uint8_t from[32], const uint8_t to[32], const uint8_t rec[32],
	 uint64_t grams, const uint8_t by[32], const uint8_t from_maker[32], bool repeat)
{
	struct ls_trace *t = x->out;
	struct ls_trace_edge *ne;
	int rc;

	if ((rc = grow((void **)&t->edges, &x->cap_edges, t->n_edges, sizeof(*t->edges))) != 0)
		return rc;
	ne = &t->edges[t->n_edges++];
	memset(ne, 0, sizeof(*ne));
	memcpy(ne->from, from, 32);
	memcpy(ne->to, to, 32);
	memcpy(ne->record, rec, 32);
	ne->grams = grams;
	memcpy(ne->by, by, 32);
	ne->held = memcmp(by, from_maker, 32) != 0;
	ne->repeat = repeat;
	return 0;
}

struct child_arg {
	struct tr *x;
	const struct ls_lotnode *ln;
	const uint8_t *lot;
};

/* What a transfer says of the border it crosses: the two certificates'
 * countries and the license it cites. */
static int
trace_border(struct ls_txn *t, const struct ls_record *r, struct ls_trace_transfer *nt)
{
	const struct ls_record *lic = NULL;
	struct ls_record *own = NULL;
	int rc;

	if ((rc = ls_author_country_of(t, r, nt->from_country)) != 0 ||
	    (rc = ls_cert_country_of(t, r->transfer.to_cert, nt->to_country)) != 0)
		return rc;
	if (!r->transfer.has_license)
		return 0;
	nt->has_license = true;
	memcpy(nt->license, r->transfer.license, 32);
	rc = ls_txn_record_ref(t, r->transfer.license, &lic, &own);
	if (rc == 0 && lic->type == LS_REC_LICENSE)
		snprintf(nt->license_number, sizeof(nt->license_number), "%s", lic->license.number);
	ls_record_free(own);
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

static int
first_id(void *arg, const uint8_t rec[32])
{
	memcpy(arg, rec, 32);
	return 1;
}

/* The receipt of transfer nt->record, the shortfall it returns and what the
 * sender took back of it. */
static int
trace_receipt(struct ls_txn *t, struct ls_trace_transfer *nt)
{
	struct ls_record *rc_rec = NULL, *claim = NULL;
	uint8_t back[32];
	bool taken;
	int rc;

	if ((rc = ls_txn_children(t, nt->record, first_id, nt->receipt)) == 0)
		return 0; /* in transit */
	if (rc != 1)
		return rc;
	nt->received = true;
	if ((rc = ls_txn_record(t, nt->receipt, &rc_rec)) != 0)
		return rc;
	nt->received_grams = rc_rec->receipt.grams;
	snprintf(nt->reason, sizeof(nt->reason), "%s",
		 rc_rec->receipt.reason ? rc_rec->receipt.reason : "");
	ls_record_free(rc_rec);
	rc = ls_txn_transit(t, nt->receipt, &nt->returned_grams, &taken);
	if (rc == LS_ERR_NOT_FOUND)
		return 0; /* nothing returned */
	if (rc != 0)
		return rc;
	if ((rc = ls_txn_children(t, nt->receipt, first_id, back)) == 0)
		return 0; /* on its way back */
	if (rc != 1 || (rc = ls_txn_record(t, back, &claim)) != 0)
		return rc;
	nt->taken_back = true;
	nt->taken_back_grams = claim->receipt.grams;
	snprintf(nt->loss_reason, sizeof(nt->loss_reason), "%s",
		 claim->receipt.reason ? claim->receipt.reason : "");
	ls_record_free(claim);
	return 0;
}

static int
trace_child(struct child_arg *c, const struct ls_kid *kid)
{
	struct tr *x = c->x;
	struct ls_record *r = NULL;
	int rc = 0;

	/* Up the tree only transfers are read (the inputs come from the lot
	 * nodes); down it, the transformations that consume the lot too. */
	if (kid->type != LS_REC_TRANSFER && !(x->down && kid->type == LS_REC_TRANSFORMATION))
		return 0;
	if (ls_txn_record(x->t, kid->id, &r) != 0)
		return 0;
	if (r->type == LS_REC_TRANSFER) {
		struct ls_trace *t = x->out;
		struct ls_trace_transfer *nt;
		if ((rc = grow((void **)&t->transfers, &x->cap_transfers, t->n_transfers,
			       sizeof(*t->transfers))) == 0) {
			nt = &t->transfers[t->n_transfers++];
			memset(nt, 0, sizeof(*nt));
			memcpy(nt->lot, c->lot, 32);
			memcpy(nt->record, r->id, 32);
			memcpy(nt->from, r->author, 32);
			memcpy(nt->to, r->transfer.to, 32);
			nt->grams = r->transfer.grams;
			nt->from_maker = memcmp(r->author, c->ln->li.maker, 32) == 0;
			if ((rc = trace_border(x->t, r, nt)) == 0)
				rc = trace_receipt(x->t, nt);
		}
	} else if (r->type == LS_REC_TRANSFORMATION && x->down) {
		uint64_t g = 0;
		for (size_t i = 0; i < r->transformation.n_inputs; i++)
			if (memcmp(r->transformation.inputs[i].lot, c->lot, 32) == 0)
				g = r->transformation.inputs[i].grams;
		for (uint32_t o = 0; rc == 0 && o < r->transformation.n_outputs; o++) {
			uint8_t out[32];
			ls_lot_id(r->id, o, out);
			if ((rc = add_edge(x, c->lot, out, r->id, g, r->author, c->ln->li.maker,
					   o != 0)) == 0)
				rc = enqueue(x, out);
		}
	}
	ls_record_free(r);
	return rc;
}

int
ls_trace(struct ls_store *s, const uint8_t lot[LS_ID_LEN], bool down, struct ls_trace *t)
{
	struct ls_txn txn;
	struct tr x = {0};
	struct ls_lot_info li;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = ls_txn_begin(s, false, &txn)) != 0)
		return rc;
	x.t = &txn;
	x.out = t;
	x.down = down;
	if ((rc = ls_qcache_begin(&txn)) != 0 || (rc = ls_txn_lot(&txn, lot, &li)) != 0)
		goto out;
	ls_qcache_want_kids(&txn);
	x.mark = ls_qcache_mark_new(&txn);
	if (!down && (x.inputs_drawn = ls_idmap_new()) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = enqueue(&x, lot)) != 0)
		goto out;
	while (x.qhead < x.qn && rc == 0) {
		const struct ls_lotnode *ln = x.queue[x.qhead++];
		struct child_arg ca = {&x, ln, ln->id};
		struct ls_kids kids;
		bool repeat = false;
		if ((rc = add_node(&x, ln)) == 0 && (rc = ls_txn_lot_kids(&txn, ln, &kids)) == 0) {
			for (size_t k = 0; rc == 0 && k < kids.n; k++)
				rc = trace_child(&ca, &kids.v[k]);
			ls_kids_release(&kids);
		}
		if (rc == 0 && !down && ln->li.index != LS_LOT_REGISTRATION) {
			repeat = ls_idmap_has(x.inputs_drawn, ln->li.rec);
			if (!repeat)
				rc = ls_idmap_put(x.inputs_drawn, ln->li.rec, (void *)1);
		}
		for (size_t i = 0;
		     rc == 0 && !down && ln->li.index != LS_LOT_REGISTRATION && i < ln->n_inputs;
		     i++) {
			const struct ls_lot_input *in = &ln->inputs[i];
			const struct ls_lotnode *inn;
			if ((rc = ls_lotnode_input(&txn, ln, i, &inn)) == 0 &&
			    (rc = add_edge(&x, in->lot, ln->id, ln->li.rec, in->grams, ln->li.maker,
					   inn->li.maker, repeat)) == 0)
				rc = enqueue_node(&x, inn);
		}
	}
out:
	free(x.queue);
	ls_idmap_free(&x.inputs_drawn);
	t->cost.records = txn.n_records;
	t->cost.reads = txn.n_reads;
	t->cost.seeks = txn.n_seeks;
	ls_txn_abort(&txn);
	if (rc != 0)
		ls_trace_release(t);
	return rc;
}

void
ls_trace_release(struct ls_trace *t)
{
	if (t == NULL)
		return;
	free(t->nodes);
	free(t->edges);
	free(t->transfers);
	memset(t, 0, sizeof(*t));
}

/* ---- bundle: the records a verdict on a lot needs ----
 *
 * What a bundle of lot L holds, and why (the verdict and the consensus
 * rules that re-check every record offline read these and no others):
 *   - L's making record, every record that ships or consumes L (who holds
 *     it), and the receipts of those transfers;
 *   - for every lot a record of the bundle names (an input, a shipped lot):
 *     its making record, its transfers and their receipts (the custody path,
 *     the cross-border hops, and the holdings each use of it is checked
 *     against); not the other records that consumed it: a record left out
 *     there can only leave the user more, and the node checked it already;
 *   - what each record names (ls_record_deps): certificates, the receiver's
 *     certificate, the license, the policies superseded; its feed
 *     predecessor only in an authority's feed (ls_feed_carried);
 *   - the technology transfers a processor received before making a lot;
 *   - every policy and revocation (they decide verdicts);
 *   - the first equivocation evidence the node keeps for each author.
 * A participant's feed is not carried: a lot whose maker signed 100,000
 * other records bundles as small as any.
 */

struct bundle {
	struct ls_txn *t;
	struct ls_idmap *have;    /* record id -> store position + 1 */
	struct ls_idmap *lots;    /* lots whose transfers are in */
	struct ls_idmap *authors; /* authors of the records in */
	uint8_t (*work)[32];
	size_t wn, wcap;
	/* Every authority's feed whole, from seq 1 to its head (at the
	 * checkpoint with a log): authority key -> head seq + 1. NULL: only
	 * what the records name. */
	struct ls_idmap *feeds;
	uint64_t limit; /* with a log: the checkpoint's size (records past it are out) */
	uint64_t late;  /* records wanted but logged at or past limit */
	int rc;
};

static void
want(struct bundle *b, const uint8_t id[32])
{
	uint64_t pos, leaf;
	int rc;

	if (b->rc != 0 || ls_idmap_has(b->have, id))
		return;
	/* As of the checkpoint: a record logged after it cannot be proven in
	 * it. The records up to it are closed under dependencies (store
	 * order is a dependency order). */
	if (b->limit != 0 && ((rc = ls_txn_log_index(b->t, id, &leaf)) != 0 || leaf >= b->limit)) {
		if (rc != 0 && rc != LS_ERR_NOT_FOUND)
			b->rc = rc;
		b->late += rc == 0;
		return;
	}
	if ((rc = ls_txn_record_pos(b->t, id, &pos)) != 0) {
		if (rc != LS_ERR_NOT_FOUND)
			b->rc = rc;
		return; /* not a stored record */
	}
	if ((b->rc = ls_idmap_put(b->have, id, (void *)(uintptr_t)(pos + 1))) != 0)
		return;
	if (b->wn == b->wcap) {
		size_t nc = b->wcap ? b->wcap * 2 : 64;
		uint8_t(*nw)[32] = realloc(b->work, nc * 32);
		if (nw == NULL) {
			b->rc = LS_ERR_NOMEM;
			return;
		}
		b->work = nw;
		b->wcap = nc;
	}
	memcpy(b->work[b->wn++], id, 32);
}

static int
want_child(void *arg, const uint8_t rec[32])
{
	want(arg, rec);
	return ((struct bundle *)arg)->rc;
}

/* A child of a named lot: only its transfers (their receipts follow). */
static int
want_transfer(void *arg, const uint8_t rec[32])
{
	struct bundle *b = arg;
	struct ls_record *r = NULL;
	int rc;

	if (ls_idmap_has(b->have, rec))
		return 0;
	if ((rc = ls_txn_record(b->t, rec, &r)) != 0)
		return rc;
	if (r->type == LS_REC_TRANSFER)
		want(b, rec);
	ls_record_free(r);
	return b->rc;
}

/* A lot a record names: its making record and its transfers. */
static void
want_lot(struct bundle *b, const uint8_t lot[32])
{
	struct ls_lot_info li;
	int rc;

	if (b->rc != 0 || ls_idmap_has(b->lots, lot))
		return;
	if ((rc = ls_txn_lot(b->t, lot, &li)) != 0) {
		if (rc != LS_ERR_NOT_FOUND)
			b->rc = rc;
		return;
	}
	if ((b->rc = ls_idmap_put(b->lots, lot, (void *)1)) != 0)
		return;
	want(b, li.rec);
	if (b->rc == 0 && (rc = ls_txn_lot_children(b->t, lot, want_transfer, b)) != 0 &&
	    b->rc == 0)
		b->rc = rc;
}

/* What the record names (ls_record_deps: the same list ingest waits for),
 * its feed predecessor only where a bundle carries the feed. */
static void
want_deps(struct bundle *b, const struct ls_record *r)
{
	struct ls_deps d;
	bool carried;
	int rc;

	ls_record_deps(b->t->s, r, &d);
	for (size_t i = 0; i < d.n && b->rc == 0; i++) {
		if (d.v[i].kind == LS_DEP_LOT) {
			want_lot(b, d.v[i].id);
		} else if (d.v[i].kind == LS_DEP_PREV) {
			if ((rc = ls_feed_carried(b->t, r, &carried)) != 0)
				b->rc = rc;
			else if (carried)
				want(b, d.v[i].id);
		} else {
			want(b, d.v[i].id);
		}
	}
}

/*
 * An authority's feed whole: seq 1 to its head (at the checkpoint: the head
 * the heads tree of its last leaf commits to), so that nothing it signed
 * can be left out unnoticed (the log proof's head proof shows the head).
 */
static void
want_feed(struct bundle *b, const uint8_t author[LS_KEY_LEN])
{
	uint8_t head[LS_ID_LEN], id[LS_ID_LEN];
	uint64_t seq = 0;
	int rc;

	if (b->rc != 0 || b->feeds == NULL || ls_idmap_has(b->feeds, author))
		return;
	if (b->limit != 0) {
		uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
		uint8_t root[LS_TLOG_HASH];
		uint64_t pos, count;
		size_t np;
		if (proof == NULL) {
			b->rc = LS_ERR_NOMEM;
			return;
		}
		rc = ls_store_heads_proof(b->t->s, b->limit - 1, author, &seq, head, &pos, &count,
					  proof, &np, root);
		free(proof);
		if (rc == LS_ERR_NOT_FOUND)
			seq = 0;
		else if (rc != 0) {
			b->rc = rc;
			return;
		}
	} else if ((rc = ls_txn_head(b->t, author, &seq, head)) != 0) {
		b->rc = rc;
		return;
	}
	if ((b->rc = ls_idmap_put(b->feeds, author, (void *)(uintptr_t)(seq + 1))) != 0)
		return;
	for (uint64_t k = 1; k <= seq && b->rc == 0; k++) {
		if ((rc = ls_txn_feed_get(b->t, author, k, id)) != 0) {
			if (rc != LS_ERR_NOT_FOUND)
				b->rc = rc;
			continue;
		}
		want(b, id);
	}
}

static int
want_tech(void *arg, const struct ls_record *tr)
{
	want(arg, tr->id);
	return ((struct bundle *)arg)->rc;
}

struct posid {
	uint64_t pos;
	uint8_t id[32];
};

static void
collect_pos(void *arg, const uint8_t id[32], void *val)
{
	struct posid **p = arg;
	(*p)->pos = (uint64_t)(uintptr_t)val;
	memcpy((*p)->id, id, 32);
	(*p)++;
}

static int
pos_cmp(const void *a, const void *b)
{
	const struct posid *x = a, *y = b;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The first evidence pair kept for an author (borrowed from the txn). */
struct first_ev {
	struct ls_txn *t;
	struct ls_bundle_evidence *ev;
	size_t n, cap;
	int rc;
};

static int
first_ev_one(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct first_ev *f = arg;

	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		struct ls_bundle_evidence *nv = realloc(f->ev, cap * sizeof(*nv));
		if (nv == NULL) {
			f->rc = LS_ERR_NOMEM;
			return f->rc;
		}
		f->ev = nv;
		f->cap = cap;
	}
	f->ev[f->n++] = (struct ls_bundle_evidence){a, b, la, lb};
	return 1; /* the first (lowest seq) is the one verdicts name */
}

/* Walks the bundle of lot in b (see above). */
static int
bundle_walk(struct bundle *b, const uint8_t lot[LS_ID_LEN])
{
	struct ls_txn *t = b->t;
	struct ls_lot_info li;
	int rc;

	if ((rc = ls_txn_lot(t, lot, &li)) != 0)
		return rc;
	if ((b->have = ls_idmap_new()) == NULL || (b->lots = ls_idmap_new()) == NULL ||
	    (b->authors = ls_idmap_new()) == NULL)
		return LS_ERR_NOMEM;
	/* Roots: the lot's making record and everything that ships or
	 * consumes it; every policy and revocation. */
	if ((rc = ls_idmap_put(b->lots, lot, (void *)1)) != 0)
		return rc;
	want(b, li.rec);
	if (b->rc == 0 && !ls_idmap_has(b->have, li.rec))
		return LS_ERR_BUSY; /* made after the checkpoint */
	/* The trust anchors' feeds: every chain of certificates starts there. */
	for (size_t i = 0; b->feeds != NULL && i < t->s->n_anchors && b->rc == 0; i++)
		want_feed(b, t->s->anchors[i]);
	if ((rc = ls_txn_lot_children(t, lot, want_child, b)) != 0 ||
	    (rc = ls_txn_policies_each(t, want_child, b)) != 0 ||
	    (rc = ls_txn_all_revocations_each(t, want_child, b)) != 0)
		return b->rc ? b->rc : rc;
	for (size_t i = 0; i < b->wn && b->rc == 0; i++) {
		struct ls_record *r = NULL;
		uint8_t id[32];
		memcpy(id, b->work[i], 32);
		if ((rc = ls_txn_record(t, id, &r)) != 0)
			return rc;
		if ((rc = ls_idmap_put(b->authors, r->author, (void *)1)) != 0) {
			ls_record_free(r);
			return rc;
		}
		want_deps(b, r);
		if (b->rc == 0 && b->feeds != NULL) {
			bool auth;
			if ((rc = ls_author_authority(t, r, &auth)) != 0)
				b->rc = rc;
			else if (auth)
				want_feed(b, r->author);
		}
		/* A transfer's receipts: who holds what it shipped; a receipt's:
		 * the sender's taking back of its shortfall. */
		if (b->rc == 0 && (r->type == LS_REC_TRANSFER || r->type == LS_REC_RECEIPT) &&
		    (rc = ls_txn_children(t, r->id, want_child, b)) != 0 && b->rc == 0)
			b->rc = rc;
		/* Technology its maker had received: it marks the lots made here. */
		if (b->rc == 0 && r->type == LS_REC_TRANSFORMATION &&
		    (rc = ls_techs_each(t, r->author, r->timestamp, want_tech, b)) != 0 &&
		    b->rc == 0)
			b->rc = rc;
		ls_record_free(r);
	}
	return b->rc;
}

static int
ev_cmp(const void *x, const void *y)
{
	const struct ls_bundle_evidence *a = x, *b = y;
	size_t n = a->la < b->la ? a->la : b->la;
	int c = memcmp(a->a, b->a, n);

	return c != 0 ? c : (a->la > b->la) - (a->la < b->la);
}

static void
author_ev(void *arg, const uint8_t key[32], void *val)
{
	struct first_ev *f = arg;
	int rc;

	(void)val;
	if (f->rc != 0)
		return;
	if ((rc = ls_txn_evidence_each(f->t, key, first_ev_one, f)) != 0 && rc != 1)
		f->rc = rc;
}

/* ---- the log proof of a bundle (logproof.h) ---- */

/* A proof from the store into lp's malloc'd list. */
static int
proof_copy(struct ls_hashes *h, const uint8_t (*tmp)[LS_TLOG_HASH], size_t np)
{
	if ((h->h = malloc((np ? np : 1) * LS_TLOG_HASH)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(h->h, tmp, np * LS_TLOG_HASH);
	h->n = np;
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LS_KEY_LEN);
}

static void
collect_key(void *arg, const uint8_t id[32], void *val)
{
	uint8_t(**p)[LS_KEY_LEN] = arg;

	if ((uintptr_t)val > 1) /* a feed with a head at the checkpoint */
		memcpy(*(*p)++, id, LS_KEY_LEN);
}

/* The dating checkpoint of size cps in lp (added when new): its 1-based
 * index, or 0 with *rc set. */
static uint32_t
dating_of(struct ls_store *s, struct ls_logproof *lp, uint64_t **sizes, size_t *cap, uint64_t cps,
	  int *rc)
{
	char *note = NULL;
	size_t len = 0;

	/* Records come in log order: the last one added is the likeliest. */
	for (size_t j = lp->n_dating; j-- > 0;)
		if ((*sizes)[j] == cps)
			return (uint32_t)(j + 1);
	if (lp->n_dating == LS_LP_DATING_MAX)
		return 0; /* dated by the checkpoint itself: later, never wrong */
	if (lp->n_dating == *cap) {
		size_t nc = *cap ? 2 * *cap : 16;
		uint64_t *ns = realloc(*sizes, nc * sizeof(*ns));
		char **nd = realloc(lp->dating, nc * sizeof(*nd));
		size_t *nl;
		if (ns != NULL)
			*sizes = ns;
		if (nd != NULL)
			lp->dating = nd;
		if (ns == NULL || nd == NULL ||
		    (nl = realloc(lp->dating_len, nc * sizeof(*nl))) == NULL) {
			*rc = LS_ERR_NOMEM;
			return 0;
		}
		lp->dating_len = nl;
		*cap = nc;
	}
	if ((*rc = ls_store_checkpoint_get(s, cps, &note, &len)) != 0) {
		if (*rc == LS_ERR_NOT_FOUND)
			*rc = 0; /* no note kept for it: the checkpoint dates the record */
		return 0;
	}
	(*sizes)[lp->n_dating] = cps;
	lp->dating[lp->n_dating] = note;
	lp->dating_len[lp->n_dating] = len;
	return (uint32_t)++lp->n_dating;
}

/* The split-view evidence this daemon keeps against the bundle's log. */
struct split_collect {
	struct ls_logproof *lp;
	const char *origin;
	size_t origin_len;
	int rc;
};

static int
split_collect(void *arg, const char *origin, const uint8_t *msg, size_t len)
{
	struct split_collect *c = arg;
	struct ls_lp_split *sp;

	if (strlen(origin) != c->origin_len || memcmp(origin, c->origin, c->origin_len) != 0)
		return 0;
	if (c->lp->n_splits >= LS_LP_SPLITS_MAX)
		return 1;
	if (c->lp->splits == NULL &&
	    (c->lp->splits = calloc(LS_LP_SPLITS_MAX, sizeof(*c->lp->splits))) == NULL) {
		c->rc = LS_ERR_NOMEM;
		return 1;
	}
	sp = &c->lp->splits[c->lp->n_splits];
	if (ls_lp_split_decode(msg, len, sp, NULL) == 0)
		c->lp->n_splits++; /* evidence kept was checked when it came: skip what no longer
				      decodes */
	return 0;
}

static void
bundle_free(struct bundle *b)
{
	free(b->work);
	ls_idmap_free(&b->have);
	ls_idmap_free(&b->lots);
	ls_idmap_free(&b->authors);
	ls_idmap_free(&b->feeds);
}

/*
 * Walks the bundle of lot as of the checkpoint of size (limit), with the
 * authority feeds whole unless NO_FEEDS: LS_ERR_BUSY when a record it wants
 * was logged after that checkpoint.
 */
static int
walk_at(struct bundle *b, struct ls_txn *t, const uint8_t lot[LS_ID_LEN], uint64_t limit,
	unsigned flags)
{
	int rc;

	bundle_free(b);
	memset(b, 0, sizeof(*b));
	b->t = t;
	b->limit = limit;
	if (!(flags & LS_BUNDLE_NO_FEEDS) && (b->feeds = ls_idmap_new()) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = bundle_walk(b, lot)) != 0)
		return rc;
	return b->late > 0 ? LS_ERR_BUSY : 0;
}

/*
 * The walk as of the checkpoint a bundle is proven against: the latest that
 * reached quorum when it holds every record the bundle wants, else the
 * latest one, which must hold them (LS_ERR_BUSY: a record wanted is logged
 * after it; the next seal takes it in). *note malloc'd.
 */
static int
walk_log(struct bundle *b, struct ls_txn *t, const uint8_t lot[LS_ID_LEN], unsigned flags,
	 char **note, size_t *len)
{
	uint64_t size, qtime;
	int rc;

	*note = NULL;
	if ((rc = ls_store_quorum_latest(t->s, &size, &qtime)) == 0 &&
	    (rc = walk_at(b, t, lot, size, flags)) == 0 &&
	    (rc = ls_store_checkpoint_get(t->s, size, note, len)) == 0)
		return 0;
	if (rc != 0 && rc != LS_ERR_NOT_FOUND && rc != LS_ERR_BUSY)
		return rc;
	if ((rc = ls_store_checkpoint_latest(t->s, &size, note, len)) != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_BUSY : rc;
	if ((rc = walk_at(b, t, lot, size, flags)) != 0) {
		free(*note);
		*note = NULL;
	}
	return rc;
}

/* ---- the plan of a bundle and its emission (verify.h) ----
 *
 * A bundle is a sequence of top-level Bundle fields: the lot, one field per
 * record, the evidence pairs, the log proof. The plan pins what the bundle
 * proves at one moment (the walk's read transaction): the records' ids in
 * store order, the evidence pairs, and with a log the checkpoint size, each
 * record's dating checkpoint and the LogProof without its inclusions. The
 * records and the log's tree are immutable, so emission reads them again
 * by id, a chunk at a time, and writes the same bytes whenever it runs.
 */

enum plan_phase {
	PH_LOT,
	PH_RECORDS,
	PH_EVIDENCE,
	PH_LOG_HEAD,
	PH_INCLUSIONS,
	PH_LOG_TAIL,
	PH_DONE
};

struct ls_bundle_plan {
	uint8_t lot[LS_ID_LEN];
	size_t n;
	uint8_t (*ids)[LS_ID_LEN]; /* store order: dependencies first */
	uint8_t *ev;               /* the Bundle.evidence fields */
	size_t ev_len;
	bool log;
	uint64_t size;         /* with a log: the checkpoint every proof is into */
	uint32_t *dating;      /* per record: 1-based dating checkpoint, 0: none */
	uint64_t *dating_size; /* per dating checkpoint: its size */
	size_t n_dating;
	uint8_t *lp_head; /* Bundle.log tag, length, LogProof fields 1-2 */
	uint8_t *lp_tail; /* LogProof fields 4-9 */
	size_t lp_head_len, lp_tail_len;
	uint64_t total, emitted;
	/* the cursor: item i of phase, off of its bytes already emitted */
	enum plan_phase phase;
	size_t i, off;
	uint8_t *scratch; /* one item: LS_ENVELOPE_MAX + 16 or an inclusion */
};

/* Hashes in the RFC 9162 inclusion proof of leaf m in a tree of n leaves. */
static size_t
incl_len(uint64_t m, uint64_t n)
{
	size_t c = 0;

	while (n > 1) {
		uint64_t k = 1;
		while (k << 1 < n)
			k <<= 1;
		if (m < k) {
			n = k;
		} else {
			m -= k;
			n -= k;
		}
		c++;
	}
	return c;
}

#define SCRATCH_MAX                                                                                \
	(LS_ENVELOPE_MAX + 16 > LS_LP_INCLUSION_MAX ? LS_ENVELOPE_MAX + 16 : LS_LP_INCLUSION_MAX)

void
ls_bundle_plan_free(struct ls_bundle_plan **pp)
{
	struct ls_bundle_plan *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	free(p->ids);
	free(p->ev);
	free(p->dating);
	free(p->dating_size);
	free(p->lp_head);
	free(p->lp_tail);
	free(p->scratch);
	free(p);
	*pp = NULL;
}

/*
 * The plan's part of the log proof against the checkpoint of size (note,
 * taken): each record's dating checkpoint (when an earlier quorum
 * checkpoint holds it) into p->dating, the sizes of those checkpoints, and
 * the LogProof without its records (the heads leaf, a head proof for each
 * feed of feeds (NULL: none), the dating notes and split views) encoded
 * into p->lp_head (with the Bundle.log tag and length) and p->lp_tail. The
 * inclusions themselves are made when they are emitted.
 */
static int
plan_log(struct ls_txn *t, struct ls_bundle_plan *p, char *note, size_t note_len,
	 const char *log_vkey, const struct ls_idmap *feeds)
{
	struct ls_store *s = t->s;
	struct ls_logproof lp;
	uint8_t(*tmp)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
	uint8_t(*keys)[LS_KEY_LEN] = NULL, (*kp)[LS_KEY_LEN], zero[LS_KEY_LEN] = {0}, head[32];
	uint8_t *h = NULL, *tail = NULL;
	uint64_t seq, pos, incl = 0, size = p->size;
	size_t cap = 0, np, nk = 0, hl = 0, tl = 0;
	int rc = 0;

	ls_logproof_init(&lp);
	lp.checkpoint = note;
	lp.checkpoint_len = note_len;
	if (tmp == NULL || (lp.log_key = strdup(log_vkey)) == NULL ||
	    (p->dating = calloc(p->n ? p->n : 1, sizeof(*p->dating))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->n && rc == 0; i++) {
		uint64_t index, cps, qt;
		uint32_t d = 0;
		if ((rc = ls_txn_log_index(t, p->ids[i], &index)) != 0)
			break;
		if (index >= size) {
			rc = LS_ERR_STORE; /* the walk keeps only records in the checkpoint */
			break;
		}
		rc = ls_store_logged(s, p->ids[i], &cps, &qt);
		if (rc == LS_ERR_NOT_FOUND)
			rc = 0;
		else if (rc == 0 && cps < size &&
			 (d = dating_of(s, &lp, &p->dating_size, &cap, cps, &rc)) != 0)
			p->dating[i] = d;
		if (rc != 0)
			break;
		incl += ls_lp_inclusion_size(index, incl_len(index, size), d,
					     d ? incl_len(index, cps) : 0);
	}
	if (rc != 0)
		goto out;
	p->n_dating = lp.n_dating;
	/* The heads leaf: the checkpoint's last. */
	rc = ls_store_heads_proof(s, size - 1, zero, &seq, head, &pos, &lp.heads_count, tmp, &np,
				  lp.heads_root);
	if ((rc != 0 && rc != LS_ERR_NOT_FOUND) ||
	    (rc = ls_store_log_inclusion(s, size - 1, size, tmp, &np)) != 0 ||
	    (rc = proof_copy(&lp.heads_leaf_proof, (const uint8_t(*)[LS_TLOG_HASH])tmp, np)) != 0)
		goto out;
	/* A head proof per authority feed carried, in key order. */
	if (feeds != NULL) {
		size_t nf = ls_idmap_count(feeds);
		if ((keys = calloc(nf ? nf : 1, LS_KEY_LEN)) == NULL ||
		    (lp.heads = calloc(nf ? nf : 1, sizeof(*lp.heads))) == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		kp = keys;
		ls_idmap_each(feeds, collect_key, &kp);
		nk = (size_t)(kp - keys);
		qsort(keys, nk, LS_KEY_LEN, key_cmp);
	}
	for (size_t i = 0; i < nk && rc == 0; i++) {
		struct ls_lp_head *hp = &lp.heads[lp.n_heads];
		uint8_t root[LS_TLOG_HASH];
		uint64_t count;
		memcpy(hp->author, keys[i], LS_KEY_LEN);
		rc = ls_store_heads_proof(s, size - 1, keys[i], &hp->seq, hp->head, &hp->position,
					  &count, tmp, &np, root);
		if (rc == LS_ERR_NOT_FOUND) {
			rc = 0;
			continue;
		}
		if (rc == 0 &&
		    (rc = proof_copy(&hp->proof, (const uint8_t(*)[LS_TLOG_HASH])tmp, np)) == 0)
			lp.n_heads++;
	}
	/* Any split-view evidence against this log (its origin is the vkey's
	 * name): a verifier must learn that the log forked. */
	if (rc == 0) {
		const char *plus = strchr(log_vkey, '+');
		struct split_collect sc = {&lp, log_vkey,
					   plus ? (size_t)(plus - log_vkey) : strlen(log_vkey), 0};
		if ((rc = ls_store_splitviews_each(s, split_collect, &sc)) == 1)
			rc = 0;
		if (rc == 0)
			rc = sc.rc;
	}
	if (rc != 0 || (rc = ls_logproof_encode_split(&lp, &h, &hl, &tail, &tl)) != 0)
		goto out;
	/* Bundle.log: tag, the LogProof's length, then its first fields. */
	if ((p->lp_head = malloc(1 + 10 + hl)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	p->lp_head[0] = (4 << 3) | 2;
	p->lp_head_len = 1 + ls_uvarint_put(p->lp_head + 1, hl + incl + tl);
	memcpy(p->lp_head + p->lp_head_len, h, hl);
	p->lp_head_len += hl;
	p->lp_tail = tail;
	p->lp_tail_len = tl;
	tail = NULL;
	p->total += p->lp_head_len + incl + p->lp_tail_len;
out:
	free(tmp);
	free(keys);
	free(h);
	free(tail);
	ls_logproof_release(&lp);
	return rc;
}

static int
plan_make(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey, unsigned flags,
	  struct ls_bundle_plan **out)
{
	struct ls_txn t;
	struct bundle b = {0};
	struct first_ev fe = {0};
	struct ls_bundle_plan *p = NULL;
	struct posid *order = NULL, *op;
	size_t note_len = 0;
	char *note = NULL;
	int rc;

	*out = NULL;
	if (s->no_log)
		log_vkey = NULL; /* nothing to prove the records in */
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	b.t = &t;
	if (log_vkey != NULL)
		rc = walk_log(&b, &t, lot, flags, &note, &note_len);
	else
		rc = bundle_walk(&b, lot);
	if (rc != 0)
		goto out;
	fe.t = &t;
	ls_idmap_each(b.authors, author_ev, &fe);
	if ((rc = fe.rc) != 0)
		goto out;
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	memcpy(p->lot, lot, LS_ID_LEN);
	p->n = ls_idmap_count(b.have);
	if ((order = calloc(p->n ? p->n : 1, sizeof(*order))) == NULL ||
	    (p->ids = calloc(p->n ? p->n : 1, LS_ID_LEN)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	op = order;
	ls_idmap_each(b.have, collect_pos, &op);
	/* Store order is a dependency order: nothing is stored before what it
	 * depends on. */
	qsort(order, p->n, sizeof(*order), pos_cmp);
	p->total = 2 + LS_ID_LEN; /* Bundle.lot */
	for (size_t i = 0; i < p->n; i++) {
		MDB_val env;
		memcpy(p->ids[i], order[i].id, LS_ID_LEN);
		if ((rc = ls_txn_envelope(&t, order[i].id, &env)) != 0)
			goto out;
		p->total += 1 + ls_uvarint_len(env.mv_size) + env.mv_size;
	}
	free(order);
	order = NULL;
	/* The evidence pairs, copied: in a stable order, the same node makes
	 * the same bundle. */
	if (fe.n > 1)
		qsort(fe.ev, fe.n, sizeof(*fe.ev), ev_cmp);
	if (fe.n > 0 && (rc = ls_bundle_encode_log(NULL, NULL, 0, NULL, fe.ev, fe.n, NULL, 0,
						   &p->ev, &p->ev_len)) != 0)
		goto out;
	p->total += p->ev_len;
	if (log_vkey != NULL) {
		p->log = true;
		p->size = b.limit;
		rc = plan_log(&t, p, note, note_len, log_vkey, b.feeds);
		note = NULL; /* taken */
		if (rc != 0)
			goto out;
	}
	if ((p->scratch = malloc(SCRATCH_MAX)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	*out = p;
	p = NULL;
out:
	free(note);
	free(fe.ev);
	free(order);
	bundle_free(&b);
	ls_txn_abort(&t);
	ls_bundle_plan_free(&p);
	return rc;
}

int
ls_bundle_plan_new(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey,
		   unsigned flags, struct ls_bundle_plan **out)
{
	return plan_make(s, lot, log_vkey, flags, out);
}

uint64_t
ls_bundle_plan_size(const struct ls_bundle_plan *p)
{
	return p->total;
}

size_t
ls_bundle_plan_records(const struct ls_bundle_plan *p)
{
	return p->n;
}

size_t
ls_bundle_plan_mem(const struct ls_bundle_plan *p)
{
	return sizeof(*p) + p->n * (LS_ID_LEN + (p->log ? sizeof(*p->dating) : 0)) + p->ev_len +
	       p->n_dating * sizeof(*p->dating_size) + p->lp_head_len + p->lp_tail_len +
	       SCRATCH_MAX;
}

/* Item p->i of the phase: *item points at its bytes (pinned, or made in
 * p->scratch from the store), 0 at the end of the phase (*len 0). */
static int
plan_item(struct ls_bundle_plan *p, struct ls_txn *t, const uint8_t **item, size_t *len)
{
	uint8_t(*tmp)[LS_TLOG_HASH] = NULL;
	int rc = 0;

	*item = NULL;
	*len = 0;
	switch (p->phase) {
	case PH_LOT:
		if (p->i > 0)
			return 0;
		p->scratch[0] = (2 << 3) | 2;
		p->scratch[1] = LS_ID_LEN;
		memcpy(p->scratch + 2, p->lot, LS_ID_LEN);
		*item = p->scratch;
		*len = 2 + LS_ID_LEN;
		return 0;
	case PH_RECORDS: {
		MDB_val env;
		size_t off = 0;
		if (p->i >= p->n)
			return 0;
		if ((rc = ls_txn_envelope(t, p->ids[p->i], &env)) != 0)
			return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc; /* records stay */
		if (env.mv_size > LS_ENVELOPE_MAX)
			return LS_ERR_STORE;
		p->scratch[off++] = (1 << 3) | 2;
		off += ls_uvarint_put(p->scratch + off, env.mv_size);
		memcpy(p->scratch + off, env.mv_data, env.mv_size);
		*item = p->scratch;
		*len = off + env.mv_size;
		return 0;
	}
	case PH_EVIDENCE:
		if (p->i > 0 || p->ev_len == 0)
			return 0;
		*item = p->ev;
		*len = p->ev_len;
		return 0;
	case PH_LOG_HEAD:
		if (p->i > 0 || !p->log)
			return 0;
		*item = p->lp_head;
		*len = p->lp_head_len;
		return 0;
	case PH_INCLUSIONS: {
		struct ls_lp_inclusion x;
		uint8_t(*dtmp)[LS_TLOG_HASH];
		if (!p->log || p->i >= p->n)
			return 0;
		if ((tmp = malloc(2 * LS_TLOG_PROOF_MAX * LS_TLOG_HASH)) == NULL)
			return LS_ERR_NOMEM;
		dtmp = tmp + LS_TLOG_PROOF_MAX;
		memset(&x, 0, sizeof(x));
		x.dating = p->dating[p->i];
		x.proof.h = tmp;
		x.dating_proof.h = dtmp;
		if ((rc = ls_txn_log_index(t, p->ids[p->i], &x.index)) != 0 ||
		    (rc = ls_store_log_inclusion(t->s, x.index, p->size, tmp, &x.proof.n)) != 0)
			goto out;
		if (x.dating != 0 &&
		    (x.dating > p->n_dating ||
		     (rc = ls_store_log_inclusion(t->s, x.index, p->dating_size[x.dating - 1], dtmp,
						  &x.dating_proof.n)) != 0)) {
			rc = rc ? rc : LS_ERR_STORE;
			goto out;
		}
		/* The plan counted on proofs of RFC 9162's lengths. */
		if (x.proof.n != incl_len(x.index, p->size) ||
		    (x.dating != 0 &&
		     x.dating_proof.n != incl_len(x.index, p->dating_size[x.dating - 1]))) {
			rc = LS_ERR_STORE;
			goto out;
		}
		*len = ls_lp_inclusion_encode(&x, p->scratch);
		*item = p->scratch;
		break;
	}
	case PH_LOG_TAIL:
		if (p->i > 0 || !p->log)
			return 0;
		*item = p->lp_tail;
		*len = p->lp_tail_len;
		return 0;
	case PH_DONE: return 0;
	}
out:
	free(tmp);
	return rc;
}

int
ls_bundle_plan_emit(struct ls_bundle_plan *p, struct ls_store *s, uint8_t *buf, size_t cap,
		    size_t *len, bool *done)
{
	struct ls_txn t;
	size_t n = 0;
	int rc;

	*len = 0;
	*done = p->phase == PH_DONE;
	if (*done)
		return 0;
	if (cap == 0)
		return LS_ERR_INVALID;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	while (n < cap && p->phase != PH_DONE && p->emitted + n < p->total) {
		const uint8_t *item;
		size_t ilen, take;
		if ((rc = plan_item(p, &t, &item, &ilen)) != 0)
			break;
		if (ilen == 0) { /* the phase is over */
			p->phase++;
			p->i = p->off = 0;
			continue;
		}
		if (p->off > ilen) {
			rc = LS_ERR_STORE;
			break;
		}
		/* An item split across chunks is made again for the next one
		 * (the same bytes), its first off bytes skipped. */
		take = ilen - p->off < cap - n ? ilen - p->off : cap - n;
		memcpy(buf + n, item + p->off, take);
		n += take;
		p->off += take;
		if (p->off == ilen) {
			p->i++;
			p->off = 0;
		}
	}
	ls_txn_abort(&t);
	if (rc != 0)
		return rc;
	p->emitted += n;
	if (p->emitted == p->total)
		p->phase = PH_DONE; /* the items left are empty */
	if (p->phase == PH_DONE && p->emitted != p->total)
		return LS_ERR_STORE; /* what the plan counted is not what came */
	*len = n;
	*done = p->phase == PH_DONE;
	return 0;
}

/* The whole bundle: the plan, emitted in one piece. */
static int
collect(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey, unsigned flags,
	uint8_t **out, size_t *len)
{
	struct ls_bundle_plan *p = NULL;
	uint8_t *buf = NULL;
	bool done = false;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = plan_make(s, lot, log_vkey, flags, &p)) != 0)
		return rc;
	if (p->total > SIZE_MAX - 1 || (buf = malloc((size_t)p->total)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = ls_bundle_plan_emit(p, s, buf, (size_t)p->total, len, &done)) == 0 && !done)
		rc = LS_ERR_STORE;
	if (rc == 0) {
		*out = buf;
		buf = NULL;
	} else {
		*len = 0;
	}
out:
	free(buf);
	ls_bundle_plan_free(&p);
	return rc;
}

int
ls_bundle_collect(struct ls_store *s, const uint8_t lot[LS_ID_LEN], uint8_t **out, size_t *len)
{
	return collect(s, lot, NULL, 0, out, len);
}

int
ls_bundle_collect_log(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey,
		      unsigned flags, uint8_t **out, size_t *len)
{
	return collect(s, lot, log_vkey, flags, out, len);
}

int
ls_bundle_members(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t (*ids)[LS_ID_LEN],
		  size_t n, size_t *first_extra)
{
	struct ls_txn t;
	struct bundle b = {0};
	int rc;

	*first_extra = n;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	b.t = &t;
	/* A bundle with a log proof carries authority feeds whole. */
	if ((b.feeds = ls_idmap_new()) == NULL) {
		ls_txn_abort(&t);
		return LS_ERR_NOMEM;
	}
	if ((rc = bundle_walk(&b, lot)) == 0)
		for (size_t i = 0; i < n; i++)
			if (!ls_idmap_has(b.have, ids[i])) {
				*first_extra = i;
				break;
			}
	free(b.work);
	ls_idmap_free(&b.have);
	ls_idmap_free(&b.lots);
	ls_idmap_free(&b.authors);
	ls_idmap_free(&b.feeds);
	ls_txn_abort(&t);
	return rc;
}
