/*
 * qcache.c - a question's memo over its read transaction: every record it
 * needs decoded once, every lot it reaches read once into a compact node
 * (what the walks of verify.c, origin.c and trace.c use of its making
 * record), the logged time and equivocation of what it checks worked out
 * once. Stored records never change (an id names its bytes), so nothing
 * here can go stale inside one transaction; the memo belongs to that
 * transaction (t->qc), so questions running on several threads, each with
 * its own transaction, share nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kind.h"
#include "util.h"
#include "verify_int.h"

/* ---- a bump arena ----
 *
 * Blocks double from 64 KiB up to 8 MiB: a question's memory is a few large
 * blocks however many nodes it reads. (Asking for transparent huge pages
 * for the large ones cut the faults 6-fold but made a process's first
 * question slower on the build machine, the kernel compacting memory for
 * them: not done.) */

struct ls_bump {
	struct ls_bump *next;
	size_t used, cap;
	max_align_t data[];
};

#define BUMP_BLOCK 65536
#define BUMP_MAX   (8u << 20)

void *
ls_bump_alloc(struct ls_bump **bp, size_t n)
{
	struct ls_bump *b = *bp;
	size_t align = sizeof(max_align_t), off;

	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = b == NULL ? BUMP_BLOCK : b->cap < BUMP_MAX ? 2 * b->cap : BUMP_MAX;
		if (cap < BUMP_BLOCK)
			cap = BUMP_BLOCK; /* after a block of one large request */
		if (n > cap)
			cap = n;
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = *bp;
		*bp = b;
	}
	off = b->used;
	b->used += n;
	return memset((char *)b->data + off, 0, n);
}

const char *
ls_bump_strdup(struct ls_bump **bp, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = ls_bump_alloc(bp, n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

void
ls_bump_free(struct ls_bump **bp)
{
	while (bp != NULL && *bp != NULL) {
		struct ls_bump *next = (*bp)->next;
		free(*bp);
		*bp = next;
	}
}

struct equiv_memo {
	bool found;
	uint64_t seq;
	uint8_t pair[2][LS_ID_LEN];
};

/* Every technology transfer to one key, in date order (the memo's arena). */
struct techs_memo {
	size_t n, cap;
	uint64_t *ts;
	uint8_t (*ids)[LS_ID_LEN];
};

struct ls_qcache {
	struct ls_idmap *recs;  /* record id -> struct ls_record * */
	struct ls_idmap *lots;  /* lot id -> struct ls_lotnode * (in the arena) */
	struct ls_idmap *equiv; /* author -> struct equiv_memo * (in the arena) */
	struct ls_idmap *rcvd;  /* transfer id -> 1 not received, 2 received */
	struct ls_idmap *techs; /* hash of a receiver key -> struct techs_memo * */
	/* the last receiver asked about (a chain's lots have one maker) */
	uint8_t techs_key[LS_KEY_LEN];
	struct techs_memo *techs_last;
	struct ls_bump *arena;
	bool want_kids; /* nodes are read with their children (ls_qcache_want_kids) */
	uint32_t marks; /* the last walk's mark */
	/* holder sets of lots reached by many holders in one walk
	 * (ls_lotnode_holder_mark): freed with the memo */
	struct ls_idmap **hsets;
	size_t n_hsets, cap_hsets;
	/* The last record's time (check_record asks twice in a row). */
	bool time_valid;
	uint8_t time_id[LS_ID_LEN];
	struct ls_rtime time;
};

static void *
qalloc(struct ls_qcache *c, size_t n)
{
	return ls_bump_alloc(&c->arena, n);
}

static void
free_rec(void *arg, const uint8_t id[32], void *val)
{
	(void)arg;
	(void)id;
	ls_record_free(val);
}

void
ls_qcache_free(struct ls_qcache **cp)
{
	struct ls_qcache *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	if (c->recs != NULL)
		ls_idmap_each(c->recs, free_rec, NULL);
	ls_idmap_free(&c->recs);
	ls_idmap_free(&c->lots);
	ls_idmap_free(&c->equiv);
	ls_idmap_free(&c->rcvd);
	ls_idmap_free(&c->techs);
	for (size_t i = 0; i < c->n_hsets; i++)
		ls_idmap_free(&c->hsets[i]);
	free(c->hsets);
	ls_bump_free(&c->arena);
	free(c);
	*cp = NULL;
}

int
ls_qcache_begin(struct ls_txn *t)
{
	struct ls_qcache *c;

	if (t->qc != NULL)
		return 0;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return LS_ERR_NOMEM;
	if ((c->recs = ls_idmap_new()) == NULL || (c->lots = ls_idmap_new()) == NULL ||
	    (c->equiv = ls_idmap_new()) == NULL || (c->rcvd = ls_idmap_new()) == NULL ||
	    (c->techs = ls_idmap_new()) == NULL) {
		ls_qcache_free(&c);
		return LS_ERR_NOMEM;
	}
	t->qc = c;
	return 0;
}

void
ls_qcache_want_kids(struct ls_txn *t)
{
	if (t->qc != NULL)
		t->qc->want_kids = true;
}

void
ls_qcache_end(struct ls_txn *t)
{
	ls_qcache_free(&t->qc);
}

int
ls_txn_record_ref(struct ls_txn *t, const uint8_t id[LS_ID_LEN], const struct ls_record **r,
		  struct ls_record **owned)
{
	struct ls_record *rec;
	int rc;

	*r = NULL;
	*owned = NULL;
	if (t->qc != NULL && (rec = ls_idmap_get(t->qc->recs, id)) != NULL) {
		*r = rec;
		return 0;
	}
	if ((rc = ls_txn_record(t, id, &rec)) != 0)
		return rc;
	if (t->qc == NULL) {
		*r = *owned = rec;
		return 0;
	}
	if ((rc = ls_idmap_put(t->qc->recs, id, rec)) != 0) {
		ls_record_free(rec);
		return rc;
	}
	*r = rec;
	return 0;
}

/* ---- lot nodes ---- */

void
ls_lotnode_free(struct ls_lotnode **n)
{
	if (n == NULL || *n == NULL)
		return;
	ls_bump_free(&(*n)->mem);
	free(*n);
	*n = NULL;
}

static void *
bump_alloc_cb(void *arg, size_t n)
{
	return ls_bump_alloc(arg, n);
}

/* Reads lot's node into the memo's arena, or (no memo) a node with its
 * own. */
static int
lotnode_read(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t *key,
	     struct ls_lotnode **out)
{
	struct ls_lotnode *n;
	struct ls_bump *own = NULL, **arena = t->qc != NULL ? &t->qc->arena : &own;
	int rc;

	*out = NULL;
	if ((n = t->qc != NULL ? qalloc(t->qc, sizeof(*n)) : calloc(1, sizeof(*n))) == NULL)
		return LS_ERR_NOMEM;
	rc = ls_txn_lotnode_read_at(t, lot, key, t->qc != NULL && t->qc->want_kids, n,
				    bump_alloc_cb, arena);
	if (t->qc == NULL) {
		n->mem = own;
		/* The children are kept in a memo's node only (ls_txn_lot_kids). */
		n->kids_loaded = false;
		if (rc != 0)
			ls_lotnode_free(&n);
	}
	if (rc == 0)
		*out = n;
	return rc;
}

/* ls_txn_lotnode, key (NULL: looked up) being lot's key. */
static int
lotnode_at(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t *key,
	   const struct ls_lotnode **n, struct ls_lotnode **owned)
{
	struct ls_lotnode *x;
	int rc;

	*n = NULL;
	*owned = NULL;
	if (t->qc != NULL && (x = ls_idmap_get(t->qc->lots, lot)) != NULL) {
		*n = x;
		return 0;
	}
	if ((rc = lotnode_read(t, lot, key, &x)) != 0)
		return rc;
	if (t->qc == NULL) {
		*n = *owned = x;
		return 0;
	}
	if ((rc = ls_idmap_put(t->qc->lots, lot, x)) != 0)
		return rc; /* x stays in the arena, freed with it */
	*n = x;
	return 0;
}

int
ls_txn_lotnode(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const struct ls_lotnode **n,
	       struct ls_lotnode **owned)
{
	return lotnode_at(t, lot, NULL, n, owned);
}

void
ls_lotnode_def(const struct ls_lotnode *n, struct ls_lotdef *d)
{
	memset(d, 0, sizeof(*d));
	d->label = n->label;
	d->category = n->category;
	d->grams = n->grams;
	d->value = n->value;
	d->comp.n = n->n_comp < LS_COMP_MAX ? n->n_comp : LS_COMP_MAX;
	memcpy(d->comp.e, n->comp, d->comp.n * sizeof(d->comp.e[0]));
}

void
ls_lotnode_header(const struct ls_lotnode *n, struct ls_record *r)
{
	memset(r, 0, sizeof(*r));
	ls_lotnode_header_fill(n, r);
}

void
ls_lotnode_header_fill(const struct ls_lotnode *n, struct ls_record *r)
{
	memcpy(r->id, n->li.rec, LS_ID_LEN);
	memcpy(r->author, n->author, LS_KEY_LEN);
	r->timestamp = n->timestamp;
	r->has_cert = n->has_cert;
	memcpy(r->cert_id, n->cert_id, LS_ID_LEN);
	r->type = n->type;
}

int
ls_lotnode_input(struct ls_txn *t, const struct ls_lotnode *n, size_t i,
		 const struct ls_lotnode **in)
{
	/* The graph is the memo's: its nodes live as long as it. */
	struct ls_lotnode *w = (struct ls_lotnode *)(uintptr_t)n, *owned = NULL;
	int rc;

	*in = NULL;
	if (t->qc == NULL || i >= n->n_inputs)
		return LS_ERR_INVALID;
	if (w->in_nodes == NULL &&
	    (w->in_nodes = qalloc(t->qc, n->n_inputs * sizeof(*w->in_nodes))) == NULL)
		return LS_ERR_NOMEM;
	if (w->in_nodes[i] != NULL) {
		*in = w->in_nodes[i];
		return 0;
	}
	if ((rc = lotnode_at(t, n->inputs[i].lot, n->in_keys ? n->in_keys[i] : NULL, in, &owned)) !=
	    0)
		return rc;
	w->in_nodes[i] = *in;
	return 0;
}

uint32_t
ls_qcache_mark_new(struct ls_txn *t)
{
	return t->qc != NULL ? ++t->qc->marks : 0;
}

bool
ls_lotnode_mark(const struct ls_lotnode *n, uint32_t mark)
{
	/* Marks are the memo's walk state, not the node's facts. */
	struct ls_lotnode *w = (struct ls_lotnode *)(uintptr_t)n;

	if (w->mark == mark)
		return false;
	w->mark = mark;
	return true;
}

#define HOLDERS_LIST 8

int
ls_lotnode_holder_mark(struct ls_txn *t, const struct ls_lotnode *n, uint32_t mark,
		       const uint8_t holder[LS_KEY_LEN], bool *fresh)
{
	struct ls_lotnode *w = (struct ls_lotnode *)(uintptr_t)n;

	struct ls_qcache *c = t->qc;

	*fresh = false;
	if (c == NULL)
		return LS_ERR_INVALID;
	if (w->holders_mark != mark) {
		w->holders_mark = mark;
		w->n_holders = 0;
		w->holders_set = NULL;
	}
	if (w->holders_set != NULL) {
		/* Keyed by a hash of the key: keys are chosen by their owners,
		 * the probe table wants uniform ids. */
		uint8_t h[32];
		crypto_generichash(h, sizeof(h), holder, LS_KEY_LEN, NULL, 0);
		if (ls_idmap_has(w->holders_set, h))
			return 0;
		if (ls_idmap_put(w->holders_set, h, (void *)1) != 0)
			return LS_ERR_NOMEM;
		*fresh = true;
		return 0;
	}
	for (size_t i = 0; i < w->n_holders; i++)
		if (memcmp(w->holders[i], holder, LS_KEY_LEN) == 0)
			return 0;
	if (w->n_holders == HOLDERS_LIST) {
		/* Many holders: a set, so that the walk stays linear. */
		struct ls_idmap *set = ls_idmap_new();
		if (set == NULL)
			return LS_ERR_NOMEM;
		if (c->n_hsets == c->cap_hsets) {
			size_t cap = c->cap_hsets ? 2 * c->cap_hsets : 8;
			struct ls_idmap **nv = realloc(c->hsets, cap * sizeof(*nv));
			if (nv == NULL) {
				ls_idmap_free(&set);
				return LS_ERR_NOMEM;
			}
			c->hsets = nv;
			c->cap_hsets = cap;
		}
		c->hsets[c->n_hsets++] = set;
		w->holders_set = set;
		for (size_t i = 0; i < w->n_holders; i++) {
			uint8_t h[32];
			crypto_generichash(h, sizeof(h), w->holders[i], LS_KEY_LEN, NULL, 0);
			if (ls_idmap_put(set, h, (void *)1) != 0)
				return LS_ERR_NOMEM;
		}
		return ls_lotnode_holder_mark(t, n, mark, holder, fresh);
	}
	if (w->n_holders == w->cap_holders) {
		/* In the arena: the old list stays there, unused. */
		size_t cap = w->cap_holders ? 2 * w->cap_holders : 1;
		uint8_t(*nv)[LS_KEY_LEN] = qalloc(t->qc, cap * LS_KEY_LEN);
		if (nv == NULL)
			return LS_ERR_NOMEM;
		if (w->n_holders > 0)
			memcpy(nv, w->holders, w->n_holders * LS_KEY_LEN);
		w->holders = nv;
		w->cap_holders = cap;
	}
	memcpy(w->holders[w->n_holders++], holder, LS_KEY_LEN);
	*fresh = true;
	return 0;
}

/* ---- children of a lot, with their types ---- */

struct kids {
	struct ls_txn *t;
	size_t n, cap;
	struct ls_kid *v;
};

static int
kid_one(void *arg, const uint8_t rec[LS_ID_LEN], enum ls_rtype type)
{
	struct kids *k = arg;
	int rc;

	/* Stored without its type (an older build): the ids table has it. */
	if (type == LS_REC_NONE && (rc = ls_txn_record_type(k->t, rec, &type)) != 0)
		return rc;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 4;
		struct ls_kid *nv = realloc(k->v, cap * sizeof(*nv));
		if (nv == NULL)
			return LS_ERR_NOMEM;
		k->v = nv;
		k->cap = cap;
	}
	memcpy(k->v[k->n].id, rec, LS_ID_LEN);
	k->v[k->n].type = type;
	k->n++;
	return 0;
}

int
ls_txn_kids(struct ls_txn *t, const uint8_t parent[LS_ID_LEN], struct ls_kids *out)
{
	struct kids k = {t, 0, 0, NULL};
	int rc;

	out->n = 0;
	out->v = NULL;
	out->owned = NULL;
	if ((rc = ls_txn_lot_children_typed(t, parent, kid_one, &k)) != 0) {
		free(k.v);
		return rc;
	}
	if (t->qc == NULL) {
		out->v = out->owned = k.v;
		out->n = k.n;
		return 0;
	}
	/* Into the arena: the lists live as long as the memo. */
	if (k.n > 0) {
		struct ls_kid *v = qalloc(t->qc, k.n * sizeof(*v));
		if (v == NULL) {
			free(k.v);
			return LS_ERR_NOMEM;
		}
		memcpy(v, k.v, k.n * sizeof(*v));
		out->v = v;
	}
	out->n = k.n;
	free(k.v);
	return 0;
}

int
ls_txn_lot_kids(struct ls_txn *t, const struct ls_lotnode *n, struct ls_kids *out)
{
	struct ls_lotnode *w = (struct ls_lotnode *)(uintptr_t)n;
	int rc;

	if (t->qc != NULL && w->kids_loaded) {
		out->n = w->n_kids;
		out->v = w->kids;
		out->owned = NULL;
		return 0;
	}
	if ((rc = ls_txn_kids(t, n->id, out)) != 0)
		return rc;
	if (t->qc != NULL) {
		/* Only a node of the memo is written: an owned one is the
		 * caller's, and its list is returned as owned. */
		w->kids = out->v;
		w->n_kids = out->n;
		w->kids_loaded = true;
	}
	return 0;
}

void
ls_kids_release(struct ls_kids *k)
{
	free(k->owned);
	memset(k, 0, sizeof(*k));
}

/* ---- per record and per author facts ---- */

int
ls_qcache_record_time(struct ls_txn *t, const struct ls_record *r, struct ls_rtime *out)
{
	struct ls_qcache *c = t->qc;
	int rc;

	if (c != NULL && c->time_valid && memcmp(c->time_id, r->id, LS_ID_LEN) == 0 &&
	    c->time.claimed == r->timestamp) {
		*out = c->time;
		return 0;
	}
	if ((rc = ls_record_time(t, r, out)) != 0)
		return rc;
	if (c != NULL) {
		c->time_valid = true;
		memcpy(c->time_id, r->id, LS_ID_LEN);
		c->time = *out;
	}
	return 0;
}

int
ls_qcache_equivocated(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], bool *found,
		      uint64_t *seq, uint8_t pair[2][LS_ID_LEN])
{
	struct ls_qcache *c = t->qc;
	struct equiv_memo *m = c != NULL ? ls_idmap_get(c->equiv, author) : NULL;
	int rc;

	if (m == NULL) {
		struct equiv_memo x = {0};
		rc = ls_txn_evidence_first(t, author, &x.seq, x.pair);
		if (rc != 0 && rc != LS_ERR_NOT_FOUND)
			return rc;
		x.found = rc == 0;
		if (c != NULL) {
			if ((m = qalloc(c, sizeof(*m))) == NULL)
				return LS_ERR_NOMEM;
			*m = x;
			if ((rc = ls_idmap_put(c->equiv, author, m)) != 0)
				return rc;
		} else {
			*found = x.found;
			*seq = x.seq;
			memcpy(pair, x.pair, sizeof(x.pair));
			return 0;
		}
	}
	*found = m->found;
	*seq = m->seq;
	memcpy(pair, m->pair, sizeof(m->pair));
	return 0;
}

int
ls_qcache_received(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *received)
{
	uintptr_t v = t->qc != NULL ? (uintptr_t)ls_idmap_get(t->qc->rcvd, transfer) : 0;
	int rc;

	if (v != 0) {
		*received = v == 2;
		return 0;
	}
	if ((rc = ls_txn_received(t, transfer, received)) != 0 || t->qc == NULL)
		return rc;
	return ls_idmap_put(t->qc->rcvd, transfer, (void *)(uintptr_t)(*received ? 2 : 1));
}

/* ---- technologies a key received ---- */

static int
techs_memo_add(void *arg, uint64_t ts, const uint8_t transfer[LS_ID_LEN])
{
	struct techs_memo *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 4;
		uint64_t *nt = malloc(cap * sizeof(*nt));
		uint8_t(*ni)[LS_ID_LEN] = malloc(cap * LS_ID_LEN);
		if (nt == NULL || ni == NULL) {
			free(nt);
			free(ni);
			return LS_ERR_NOMEM;
		}
		if (m->n > 0) {
			memcpy(nt, m->ts, m->n * sizeof(*nt));
			memcpy(ni, m->ids, m->n * LS_ID_LEN);
		}
		free(m->ts);
		free(m->ids);
		m->ts = nt;
		m->ids = ni;
		m->cap = cap;
	}
	m->ts[m->n] = ts;
	memcpy(m->ids[m->n++], transfer, LS_ID_LEN);
	return 0;
}

int
ls_qcache_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
		     int (*fn)(void *arg, const uint8_t transfer[LS_ID_LEN]), void *arg)
{
	struct ls_qcache *c = t->qc;
	struct techs_memo *m, x = {0};
	uint8_t h[32];
	int rc = 0;

	if (c == NULL)
		return ls_txn_techs_each(t, to, before, fn, arg);
	if (c->techs_last != NULL && memcmp(c->techs_key, to, LS_KEY_LEN) == 0)
		m = c->techs_last;
	else {
		/* Keyed by a hash of the key: keys are chosen by their owners. */
		crypto_generichash(h, sizeof(h), to, LS_KEY_LEN, NULL, 0);
		m = ls_idmap_get(c->techs, h);
	}
	if (m == NULL) {
		/* Read once per question, then filtered by date: a maker's
		 * lots each ask what it had received by their date. */
		if ((rc = ls_txn_techs_dated(t, to, techs_memo_add, &x)) == 0 &&
		    (m = qalloc(c, sizeof(*m))) == NULL)
			rc = LS_ERR_NOMEM;
		if (rc == 0 && x.n > 0) {
			if ((m->ts = qalloc(c, x.n * sizeof(*m->ts))) == NULL ||
			    (m->ids = qalloc(c, x.n * LS_ID_LEN)) == NULL)
				rc = LS_ERR_NOMEM;
			else {
				memcpy(m->ts, x.ts, x.n * sizeof(*m->ts));
				memcpy(m->ids, x.ids, x.n * LS_ID_LEN);
				m->n = x.n;
			}
		}
		free(x.ts);
		free(x.ids);
		if (rc == 0)
			rc = ls_idmap_put(c->techs, h, m);
		if (rc != 0)
			return rc;
	}
	memcpy(c->techs_key, to, LS_KEY_LEN);
	c->techs_last = m;
	for (size_t i = 0; rc == 0 && i < m->n && m->ts[i] <= before; i++)
		rc = fn(arg, m->ids[i]);
	return rc;
}
