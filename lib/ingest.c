/*
 * ingest.c - the write path: a batch of envelopes becomes one durable LMDB
 * write transaction (group commit).
 *
 * Decoding and Ed25519 verification need no store state, so they run first,
 * on several threads. The writer then takes the records in order: known ones
 * are no-ops, records whose feed predecessor or other dependency is missing
 * are parked, the rest are checked (certificate, role, revocation, feed
 * continuity, supply-chain rules) and applied; each applied record releases
 * the records parked on it. A record's validity depends only on records it
 * names (its causal past), so every node reaches the same state whatever the
 * order of arrival.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "kind.h"
#include "util.h"

#define MAX_GROW_RETRIES 8
#define LS_CLOCK_SKEW    3600 /* seconds a local record may be ahead of the clock */

struct item {
	struct ls_record *rec; /* NULL when decode or verify failed */
	int rc;
	struct ls_err_ctx ctx;
};

/* ---- the verifier pool ----
 *
 * Decoding and Ed25519 verification need no store state: the store's
 * persistent pool (s->threads - 1 workers, made at open, joined at close)
 * verifies a batch in chunks, in order, while the writer already applies the
 * chunks before them, so verification and the write transaction overlap.
 * The writer verifies chunks itself when none is ready for it, so a pool
 * without workers (threads 1, or none could be made) is the writer alone.
 * Every envelope of a call goes through the same pool, whoever sent it (the
 * daemon's clients and its peers share one batch: daemon/batch.c).
 */

#define VCHUNK_MIN 4
#define VCHUNK_MAX 64
#define VSHARE_MIN 64 /* fewer envelopes: not worth waking a worker */

struct vjob {
	struct ls_store *s;
	const uint8_t *const *envs;
	const size_t *lens;
	struct item *items;
	size_t n, chunk, n_chunks;
	size_t next;   /* the next chunk to claim (under the pool's lock) */
	size_t active; /* workers verifying a chunk of this job */
	uint8_t *done; /* per chunk: verified */
	bool shared;   /* handed to the pool's workers (else the writer alone) */
	bool no_txn;   /* workers look nothing up: started while a commit runs */
	bool have_txn; /* the writer's own read transaction, while it helps */
	struct ls_txn t;
};

struct ls_vpool {
	pthread_mutex_t mu;
	pthread_cond_t work; /* a job was published, or quit */
	pthread_cond_t done; /* a chunk was verified */
	pthread_t *th;
	size_t n_th;
	size_t readers; /* workers holding a read transaction */
	bool quit;
	/* The batch being verified, NULL when none. While a batch commits, the
	 * next one of an ls_store_ingest_run() may take its place. */
	struct vjob *job;
};

/* Decodes and verifies items [from, to) of j; t (may be NULL) is a read
 * transaction on the committed store, to skip records already stored. */
static void
verify_range(struct vjob *j, size_t from, size_t to, struct ls_txn *t)
{
	/* The lookup only saves a verify: the writer reports a record stored
	 * by then as known whatever its signature (attempt()), so that a
	 * verdict does not depend on when its verification ran. */
	for (size_t i = from; i < to; i++) {
		struct item *it = &j->items[i];
		it->ctx.msg[0] = '\0';
		it->rc = ls_record_decode(j->envs[i], j->lens[i], &it->rec, &it->ctx);
		/* Gossip brings many twice, and a verify costs more than the
		 * lookup. */
		if (it->rc == 0 && t != NULL && ls_txn_has_record(t, it->rec->id))
			continue;
		if (it->rc == 0 && ls_record_verify(it->rec) != 0) {
			it->rc = LS_ERR_SIGNATURE;
			ls_err_set(&it->ctx, LS_ERR_SIGNATURE, "bad signature on %s record",
				   ls_rtype_name(it->rec->type));
		}
	}
}

static void
verify_chunk(struct vjob *j, size_t c, struct ls_txn *t)
{
	size_t from = c * j->chunk, to = from + j->chunk;

	verify_range(j, from, to < j->n ? to : j->n, t);
}

static void *
vpool_main(void *arg)
{
	struct ls_vpool *p = arg;
	struct ls_txn t;
	bool have_txn = false, reader = false;

	const struct vjob *txn_of = NULL; /* the job the transaction is of */

	pthread_mutex_lock(&p->mu);
	while (!p->quit) {
		struct vjob *j = p->job;
		bool idle = j == NULL || j->next == j->n_chunks, use_txn;
		size_t c;
		if (idle || (reader && j != txn_of)) {
			/* Nothing left to claim, or the next batch took the
			 * place of the one the snapshot is of: no snapshot kept
			 * across batches (it would hold pages the writer could
			 * reuse, and the map may only grow with no transaction
			 * open). */
			if (reader) {
				pthread_mutex_unlock(&p->mu);
				if (have_txn)
					ls_txn_abort(&t);
				have_txn = false;
				pthread_mutex_lock(&p->mu);
				reader = false;
				txn_of = NULL;
				p->readers--;
				pthread_cond_broadcast(&p->done);
				continue;
			}
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		c = j->next++;
		j->active++;
		/* A job started while a commit runs looks nothing up: a
		 * snapshot from before that commit would be stale at once, and
		 * the commit's job waits for the readers of the pool. */
		use_txn = !j->no_txn;
		if (use_txn && !reader) {
			reader = true;
			txn_of = j;
			p->readers++;
		}
		pthread_mutex_unlock(&p->mu);
		/* A transaction kept from a chunk before is of this job: the
		 * job outlives every claim of its chunks. */
		if (use_txn && !have_txn)
			have_txn = ls_txn_begin(j->s, false, &t) == 0;
		verify_chunk(j, c, use_txn && have_txn ? &t : NULL);
		pthread_mutex_lock(&p->mu);
		j->done[c] = 1;
		j->active--;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	if (have_txn)
		ls_txn_abort(&t);
	return NULL;
}

int
ls_vpool_new(unsigned workers, struct ls_vpool **out)
{
	struct ls_vpool *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return LS_ERR_NOMEM;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return LS_ERR_NOMEM;
	}
	if (pthread_cond_init(&p->work, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return LS_ERR_NOMEM;
	}
	if (pthread_cond_init(&p->done, NULL) != 0) {
		pthread_cond_destroy(&p->work);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return LS_ERR_NOMEM;
	}
	if (workers > 0 && (p->th = calloc(workers, sizeof(*p->th))) == NULL) {
		ls_vpool_free(&p);
		return LS_ERR_NOMEM;
	}
	/* A thread that cannot be made leaves its share to the others and to
	 * the writer: fewer threads, the same results. */
	for (unsigned i = 0; i < workers; i++)
		if (pthread_create(&p->th[p->n_th], NULL, vpool_main, p) == 0)
			p->n_th++;
	*out = p;
	return 0;
}

void
ls_vpool_free(struct ls_vpool **pp)
{
	struct ls_vpool *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->n_th; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p->th);
	free(p);
	*pp = NULL;
}

size_t
ls_vpool_workers(const struct ls_vpool *p)
{
	return p != NULL ? p->n_th : 0;
}

/* Sets up the verification of envs[0..n) into items and hands it to the
 * pool's workers. LS_ERR_NOMEM. */
static int
vjob_start(struct ls_store *s, struct vjob *j, const uint8_t *const *envs, const size_t *lens,
	   size_t n, struct item *items, bool no_txn)
{
	struct ls_vpool *p = s->pool;
	size_t nt = 1 + ls_vpool_workers(p);

	memset(j, 0, sizeof(*j));
	j->s = s;
	j->envs = envs;
	j->lens = lens;
	j->items = items;
	j->n = n;
	j->no_txn = no_txn;
	/* Small chunks, so the writer soon has one to apply; a few per thread
	 * at least, so the work spreads. */
	j->chunk = n / (nt * 8);
	j->chunk = j->chunk < VCHUNK_MIN   ? VCHUNK_MIN
		   : j->chunk > VCHUNK_MAX ? VCHUNK_MAX
					   : j->chunk;
	j->n_chunks = (n + j->chunk - 1) / j->chunk;
	if ((j->done = calloc(j->n_chunks, 1)) == NULL)
		return LS_ERR_NOMEM;
	if (nt > 1 && n >= VSHARE_MIN) {
		j->shared = true;
		pthread_mutex_lock(&p->mu);
		p->job = j;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->mu);
	}
	return 0;
}

/* Waits until item i of j is verified, verifying chunks itself meanwhile. */
static void
vjob_wait(struct vjob *j, size_t i)
{
	struct ls_vpool *p = j->s->pool;
	size_t want = i / j->chunk;

	if (!j->shared) {
		/* The writer alone, chunk by chunk as it goes. */
		for (; j->next <= want; j->next++) {
			if (!j->have_txn)
				j->have_txn = ls_txn_begin(j->s, false, &j->t) == 0;
			verify_chunk(j, j->next, j->have_txn ? &j->t : NULL);
			j->done[j->next] = 1;
		}
		return;
	}
	pthread_mutex_lock(&p->mu);
	while (!j->done[want]) {
		size_t c;
		if (j->next == j->n_chunks) {
			pthread_cond_wait(&p->done, &p->mu);
			continue;
		}
		/* Not ready: verify the next chunk nobody has taken yet rather
		 * than wait idle. */
		c = j->next++;
		pthread_mutex_unlock(&p->mu);
		if (!j->have_txn)
			j->have_txn = ls_txn_begin(j->s, false, &j->t) == 0;
		verify_chunk(j, c, j->have_txn ? &j->t : NULL);
		pthread_mutex_lock(&p->mu);
		j->done[c] = 1;
	}
	pthread_mutex_unlock(&p->mu);
}

/* Stops the verification of j: chunks nobody took stay unverified (their
 * items undecoded), the workers finish the ones they took, and no thread
 * holds a read transaction for j any more. */
static void
vjob_idle(struct vjob *j)
{
	struct ls_vpool *p = j->s->pool;

	if (j->shared) {
		pthread_mutex_lock(&p->mu);
		j->next = j->n_chunks;
		while (j->active > 0 || p->readers > 0)
			pthread_cond_wait(&p->done, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	if (j->have_txn)
		ls_txn_abort(&j->t);
	j->have_txn = false;
}

/* Verifies the rest of j and closes every read transaction of it: before
 * the map grows (LMDB remaps it, which no open transaction may see). */
static void
vjob_quiesce(struct vjob *j)
{
	vjob_wait(j, j->n - 1);
	vjob_idle(j);
}

/* Ends j: the pool lets go of it. */
static void
vjob_end(struct vjob *j)
{
	struct ls_vpool *p = j->s->pool;

	vjob_idle(j);
	if (j->shared) {
		pthread_mutex_lock(&p->mu);
		if (p->job == j) /* else the next batch has it */
			p->job = NULL;
		pthread_mutex_unlock(&p->mu);
	}
	free(j->done);
	j->done = NULL;
	j->shared = false;
}

/* The batch after the one being stored, in an ls_store_ingest_run(). */
struct ahead {
	const uint8_t *const *envs;
	const size_t *lens;
	size_t n;
	struct item *items;
	struct vjob job;
	bool started; /* job set up (handed to the workers if worth it) */
};

static int ahead_start(struct ls_store *s, struct ahead *a, bool no_txn);

/* Records accepted in this transaction, for the hooks after commit. */
struct accepted {
	struct ls_record **v;
	uint8_t **env;
	size_t *len;
	size_t n, cap;
};

struct evid {
	uint8_t *a, *b;
	size_t la, lb;
};

struct wctx {
	struct ls_txn t;
	struct accepted acc;
	struct evid *ev;
	size_t n_ev, cap_ev;
	uint64_t next_pos, pending, strangers;
	uint64_t log_size;         /* leaves in the Merkle log ("logsize") */
	uint8_t setsum[LS_ID_LEN]; /* the record set digest ("setsum") */
	struct ls_log_edge edge;   /* its right edge, for the appends of this attempt */
	int err;                   /* a store error: abort the batch */
	bool disk_full;            /* the commit failed on the disk, not on the map */
	struct ls_branch *branch;  /* the branch of the last record checked off the main one */
	struct ls_branch *base;    /* the last branch folded from seq 1, before any record */
	struct deprej *dr;         /* local records of the call (NULL: none) */
	struct ahead *next;        /* the next batch of a run, verified while this commits */
	/* With dr: the custody maps admission worked out in this attempt. */
	struct ls_custody_memo *custody;
};

static void
acc_clear(struct accepted *a)
{
	for (size_t i = 0; i < a->n; i++) {
		ls_record_free(a->v[i]);
		free(a->env[i]);
	}
	a->n = 0;
}

static void
acc_release(struct accepted *a)
{
	acc_clear(a);
	free(a->v);
	free(a->env);
	free(a->len);
	memset(a, 0, sizeof(*a));
}

static int
acc_push(struct accepted *a, struct ls_record *r, uint8_t *env, size_t len)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		struct ls_record **v = realloc(a->v, cap * sizeof(*v));
		uint8_t **e;
		size_t *l;
		if (v == NULL)
			return LS_ERR_NOMEM;
		a->v = v;
		if ((e = realloc(a->env, cap * sizeof(*e))) == NULL)
			return LS_ERR_NOMEM;
		a->env = e;
		if ((l = realloc(a->len, cap * sizeof(*l))) == NULL)
			return LS_ERR_NOMEM;
		a->len = l;
		a->cap = cap;
	}
	a->v[a->n] = r;
	a->env[a->n] = env;
	a->len[a->n] = len;
	a->n++;
	return 0;
}

static void
ev_clear(struct wctx *w)
{
	for (size_t i = 0; i < w->n_ev; i++) {
		free(w->ev[i].a);
		free(w->ev[i].b);
	}
	w->n_ev = 0;
}

static void set_result(struct ls_ingest_result *res, enum ls_ingest_status st,
		       enum ls_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
set_result(struct ls_ingest_result *res, enum ls_ingest_status st, enum ls_reason reason,
	   const char *fmt, ...)
{
	va_list ap;

	if (res == NULL)
		return;
	res->status = st;
	res->reason = reason;
	res->message[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(res->message, sizeof(res->message), fmt, ap);
		va_end(ap);
	}
}

/* ---- the pending set ----
 *
 * pending   missing id || waiting id -> envelope bytes
 * pwait     waiting id -> missing id || author || order u64 || flags u8
 *           (PW_STRANGER; PW_LOCAL: a local client's submission, which
 *           gets the admission checks when it is released, unless a peer
 *           sends it too while it waits (then it is the peer's: held by
 *           the consensus rules alone, pw_peer); PW_VIOLATION: one that
 *           records a violation knowingly)
 * porder    author || order u64 -> waiting id
 * pauthors  author -> records waiting u64
 * pstrange  order u64 -> waiting id (records of strangers, oldest first)
 *
 * A record waits for its author's certificate first. Until that arrives
 * its author is a stranger here: strangers' records together may fill a
 * quarter of the set, the oldest going first when more come, and never
 * push out a record of a certified author. Each author may have at most
 * s->pending_quota records waiting. When the set is full, a stranger's
 * oldest record goes first, else the oldest of the certified author with
 * the most. So neither one key nor many fresh ones can starve honest
 * out-of-order records.
 */

#define PW_LEN       (LS_ID_LEN + LS_KEY_LEN + 8 + 1)
#define PW_STRANGER  1u
#define PW_LOCAL     2u
#define PW_VIOLATION 4u

static int
pauthor_add(struct wctx *w, const uint8_t author[LS_KEY_LEN], int delta, uint64_t *count)
{
	uint64_t n = 0;
	int rc = ls_txn_get_u64(&w->t, w->t.s->pauthors, author, LS_KEY_LEN, &n);

	if (rc != 0 && rc != LS_ERR_NOT_FOUND)
		return rc;
	if (delta < 0 && n > 0)
		n--;
	else if (delta > 0)
		n++;
	if (count != NULL)
		*count = n;
	if (n == 0) {
		MDB_val k = {LS_KEY_LEN, (void *)(uintptr_t)author};
		int mrc = mdb_del(w->t.txn, w->t.s->pauthors, &k, NULL);
		return mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
	}
	return ls_txn_put_u64(&w->t, w->t.s->pauthors, author, LS_KEY_LEN, n);
}

static int
del_key(struct wctx *w, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};
	int mrc = mdb_del(w->t.txn, dbi, &k, NULL);

	return mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
}

/* Removes the waiting record `waiting` (its pwait value pw) from every
 * pending table. */
static int
unpark(struct wctx *w, const uint8_t waiting[LS_ID_LEN], const uint8_t pw[PW_LEN])
{
	struct ls_store *s = w->t.s;
	uint8_t pk[2 * LS_ID_LEN], ok[LS_KEY_LEN + 8];
	int rc;

	memcpy(pk, pw, LS_ID_LEN);
	memcpy(pk + LS_ID_LEN, waiting, LS_ID_LEN);
	memcpy(ok, pw + LS_ID_LEN, LS_KEY_LEN + 8);
	if ((rc = del_key(w, s->pending, pk, sizeof(pk))) != 0 ||
	    (rc = del_key(w, s->porder, ok, sizeof(ok))) != 0 ||
	    (rc = del_key(w, s->pwait, waiting, LS_ID_LEN)) != 0 ||
	    ((pw[PW_LEN - 1] & PW_STRANGER) &&
	     (rc = del_key(w, s->pstrange, pw + LS_ID_LEN + LS_KEY_LEN, 8)) != 0) ||
	    (rc = pauthor_add(w, pw + LS_ID_LEN, -1, NULL)) != 0)
		return rc;
	if ((pw[PW_LEN - 1] & PW_STRANGER) && w->strangers > 0)
		w->strangers--;
	if (w->pending > 0)
		w->pending--;
	return 0;
}

/*
 * Consensus: a peer sent a record that waits as a local client's (pv, its
 * pwait value): from now on it is held as the peer's, and judged at its
 * release by the consensus rules alone. Otherwise admission could refuse
 * it then and drop it, and a node that had it from a client as well as a
 * peer would store less than one that had it from the peer alone.
 */
static int
pw_peer(struct wctx *w, const uint8_t id[LS_ID_LEN], const MDB_val *pv)
{
	uint8_t pw[PW_LEN];

	if (pv->mv_size != PW_LEN)
		return LS_ERR_STORE;
	memcpy(pw, pv->mv_data, PW_LEN);
	if (!(pw[PW_LEN - 1] & (PW_LOCAL | PW_VIOLATION)))
		return 0;
	pw[PW_LEN - 1] &= (uint8_t) ~(PW_LOCAL | PW_VIOLATION);
	return ls_txn_put(&w->t, w->t.s->pwait, id, LS_ID_LEN, pw, PW_LEN, 0);
}

/* Unparks waiting; *flags (may be NULL) gets its PW_ flags. */
static int
unpark_id(struct wctx *w, const uint8_t waiting[LS_ID_LEN], uint8_t *flags)
{
	uint8_t pw[PW_LEN];
	MDB_val pv;
	int rc;

	if ((rc = ls_txn_get(&w->t, w->t.s->pwait, waiting, LS_ID_LEN, &pv)) != 0)
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
	if (pv.mv_size != sizeof(pw))
		return LS_ERR_STORE;
	memcpy(pw, pv.mv_data, sizeof(pw));
	if (flags != NULL)
		*flags = pw[PW_LEN - 1];
	return unpark(w, waiting, pw);
}

/* The first waiting id of table dbi under the klen bytes of prefix (none:
 * LS_ERR_NOT_FOUND). */
static int
first_waiting(struct wctx *w, MDB_dbi dbi, const void *prefix, size_t klen,
	      uint8_t waiting[LS_ID_LEN])
{
	MDB_cursor *c = NULL;
	MDB_val k = {klen, (void *)(uintptr_t)prefix}, v;
	int mrc;

	if ((mrc = mdb_cursor_open(w->t.txn, dbi, &c)) != 0)
		return ls_store_err(mrc);
	mrc = mdb_cursor_get(c, &k, &v, klen ? MDB_SET_RANGE : MDB_FIRST);
	if (mrc == 0 && ((klen && (k.mv_size < klen || memcmp(k.mv_data, prefix, klen) != 0)) ||
			 v.mv_size != LS_ID_LEN))
		mrc = MDB_NOTFOUND;
	if (mrc == 0)
		memcpy(waiting, v.mv_data, LS_ID_LEN);
	mdb_cursor_close(c);
	return mrc == MDB_NOTFOUND ? LS_ERR_NOT_FOUND : ls_store_err(mrc);
}

/* The author with the most records waiting. */
static int
busiest_author(struct wctx *w, uint8_t author[LS_KEY_LEN])
{
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint64_t best = 0;
	int mrc;

	if ((mrc = mdb_cursor_open(w->t.txn, w->t.s->pauthors, &c)) != 0)
		return ls_store_err(mrc);
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != LS_KEY_LEN || v.mv_size != 8)
			continue;
		if (ls_be64_get(v.mv_data) > best) {
			best = ls_be64_get(v.mv_data);
			memcpy(author, k.mv_data, LS_KEY_LEN);
		}
	}
	mdb_cursor_close(c);
	if (mrc != MDB_NOTFOUND)
		return ls_store_err(mrc);
	return best > 0 ? 0 : LS_ERR_NOT_FOUND;
}

/* Makes room for one record: a stranger's oldest record goes first, else
 * (not for a stranger) the oldest of the busiest author. LS_ERR_NOT_FOUND
 * when nothing may go. */
static int
evict_one(struct wctx *w, bool for_stranger)
{
	uint8_t waiting[LS_ID_LEN], author[LS_KEY_LEN];
	int rc = first_waiting(w, w->t.s->pstrange, NULL, 0, waiting);

	if (rc == LS_ERR_NOT_FOUND && !for_stranger) {
		if ((rc = busiest_author(w, author)) == 0)
			rc = first_waiting(w, w->t.s->porder, author, LS_KEY_LEN, waiting);
	}
	if (rc != 0)
		return rc;
	return unpark_id(w, waiting, NULL);
}

/*
 * Parks r until `missing` arrives; flags: PW_LOCAL, PW_VIOLATION (how it
 * was submitted, kept for its release). Returns 0 (parked), a reason in
 * *reason when it may not wait, or a store error.
 */
static int
park(struct wctx *w, const struct ls_record *r, const struct ls_dep *missing, uint8_t flags,
     enum ls_reason *reason, char *msg, size_t msglen)
{
	struct ls_store *s = w->t.s;
	uint8_t k[2 * LS_ID_LEN], pw[PW_LEN], ok[LS_KEY_LEN + 8];
	uint8_t *env = NULL;
	uint64_t mine = 0, order = 0;
	size_t len;
	bool stranger = missing->kind == LS_DEP_CERT;
	int rc;

	*reason = LS_R_OK;
	rc = ls_txn_get_u64(&w->t, s->pauthors, r->author, LS_KEY_LEN, &mine);
	if (rc != 0 && rc != LS_ERR_NOT_FOUND)
		return rc;
	if (mine >= s->pending_quota) {
		*reason = LS_R_PENDING_FULL;
		snprintf(msg, msglen,
			 "the author already has %llu records waiting for dependencies",
			 (unsigned long long)mine);
		return 0;
	}
	while (w->pending >= s->max_pending || (stranger && w->strangers >= s->strangers_max)) {
		if ((rc = evict_one(w, stranger)) == LS_ERR_NOT_FOUND) {
			*reason = LS_R_PENDING_FULL;
			snprintf(msg, msglen,
				 "%llu records already wait for dependencies, none of strangers",
				 (unsigned long long)w->pending);
			return 0;
		}
		if (rc != 0)
			return rc;
	}
	rc = ls_txn_get_u64(&w->t, s->meta, "porder", 6, &order);
	if (rc != 0 && rc != LS_ERR_NOT_FOUND)
		return rc;
	memcpy(k, missing->id, LS_ID_LEN);
	memcpy(k + LS_ID_LEN, r->id, LS_ID_LEN);
	memcpy(pw, missing->id, LS_ID_LEN);
	memcpy(pw + LS_ID_LEN, r->author, LS_KEY_LEN);
	ls_be64_put(pw + LS_ID_LEN + LS_KEY_LEN, order);
	pw[PW_LEN - 1] = (uint8_t)((stranger ? PW_STRANGER : 0) | flags);
	memcpy(ok, r->author, LS_KEY_LEN);
	ls_be64_put(ok + LS_KEY_LEN, order);
	if ((rc = ls_record_envelope(r, &env, &len)) != 0)
		return rc;
	rc = ls_txn_put(&w->t, s->pending, k, sizeof(k), env, len, 0);
	free(env);
	if (rc == 0)
		rc = ls_txn_put(&w->t, s->pwait, r->id, LS_ID_LEN, pw, sizeof(pw), 0);
	if (rc == 0)
		rc = ls_txn_put(&w->t, s->porder, ok, sizeof(ok), r->id, LS_ID_LEN, 0);
	if (rc == 0 && stranger)
		rc = ls_txn_put(&w->t, s->pstrange, pw + LS_ID_LEN + LS_KEY_LEN, 8, r->id,
				LS_ID_LEN, 0);
	if (rc == 0)
		rc = ls_txn_put_u64(&w->t, s->meta, "porder", 6, order + 1);
	if (rc == 0)
		rc = pauthor_add(w, r->author, 1, NULL);
	if (rc == 0) {
		w->pending++;
		w->strangers += stranger;
	}
	return rc;
}

/* ---- equivocating authors: branches of a feed ----
 *
 * Two records of one author with one seq are an equivocation. Both are
 * stored when each is valid along its own branch of the author's feed (its
 * prev chain back to seq 1), so that every node holding the same records
 * stores the same set whatever it saw first: the tables follow the branch
 * that arrived first, and a record of another branch is checked against
 * the author's state folded along its own branch (struct ls_branch). Its
 * effects on others (a lot it made, a transfer in transit) go to the
 * tables; its author's own state stays on the branch. Verification flags
 * every record of an equivocating author.
 */

#define BRANCH_MAX (1u << 16) /* records of a branch folded to check one record */

/* Entries of a folded state the store keeps for later forks. */
#define FORK_CACHE_STATE_MAX 65536

static struct ls_branch *
branch_clone(const struct ls_branch *from)
{
	struct ls_branch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	memcpy(b->author, from->author, LS_KEY_LEN);
	memcpy(b->tip, from->tip, LS_ID_LEN);
	if ((b->holds = ls_idmap_clone(from->holds)) == NULL ||
	    (b->used = ls_idmap_clone(from->used)) == NULL ||
	    (b->received = ls_idmap_clone(from->received)) == NULL)
		ls_branch_free(&b);
	return b;
}

static bool
branch_at(const struct ls_branch *b, const struct ls_record *r)
{
	return b != NULL && memcmp(b->author, r->author, LS_KEY_LEN) == 0 &&
	       (r->has_prev ? memcmp(b->tip, r->prev, LS_ID_LEN) == 0
			    : !ls_idmap_count(b->holds) && !ls_idmap_count(b->used) &&
				  !ls_idmap_count(b->received));
}

static int branch_fold(struct wctx *w, const struct ls_record *r);

/*
 * w->branch: the state of r's author folded along r's prev chain. The one
 * r continues is kept as it is; many records at one seq (a fork of a fork)
 * start from a copy of the last fold (w->base), so that each costs a copy of
 * the author's state, not a fold of its whole feed. Returns 0, a store error,
 * or LS_ERR_TOO_BIG (a branch too long to fold: the record is refused, the
 * same everywhere).
 */
static int
branch_for(struct wctx *w, const struct ls_record *r)
{
	int rc;

	struct ls_store *s = w->t.s;
	struct ls_branch *base = NULL;

	if (r->has_prev && branch_at(w->branch, r))
		return 0;
	/* A fold depends only on the records of its chain, which never change:
	 * the store keeps the last few, across batches. */
	for (size_t i = 0; i < LS_FORK_CACHE && base == NULL; i++)
		if (branch_at(s->fork_cache[i], r))
			base = s->fork_cache[i];
	if (base == NULL) {
		if ((rc = branch_fold(w, r)) != 0)
			return rc;
		base = w->base;
		if (ls_idmap_count(base->holds) + ls_idmap_count(base->used) +
			ls_idmap_count(base->received) <=
		    FORK_CACHE_STATE_MAX) {
			size_t k = s->fork_next++ % LS_FORK_CACHE;
			ls_branch_free(&s->fork_cache[k]);
			s->fork_cache[k] = base;
			w->base = NULL;
		}
	}
	ls_branch_free(&w->branch);
	w->branch = branch_clone(base);
	ls_branch_free(&w->base);
	return w->branch == NULL ? LS_ERR_NOMEM : 0;
}

/* w->base: r's author's state folded along r's prev chain from seq 1. */
static int
branch_fold(struct wctx *w, const struct ls_record *r)
{
	struct ls_branch *b = NULL;
	uint8_t(*path)[LS_ID_LEN] = NULL;
	uint8_t cur[LS_ID_LEN];
	size_t n = 0, cap = 0;
	int rc = 0;

	if ((b = calloc(1, sizeof(*b))) == NULL || (b->holds = ls_idmap_new()) == NULL ||
	    (b->used = ls_idmap_new()) == NULL || (b->received = ls_idmap_new()) == NULL) {
		ls_branch_free(&b);
		return LS_ERR_NOMEM;
	}
	memcpy(b->author, r->author, LS_KEY_LEN);
	/* The chain back to seq 1, newest first. */
	if (r->has_prev)
		memcpy(cur, r->prev, LS_ID_LEN);
	for (bool more = r->has_prev; more;) {
		struct ls_record *p = NULL;
		if (n == BRANCH_MAX) {
			rc = LS_ERR_TOO_BIG;
			break;
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			uint8_t(*np)[LS_ID_LEN] = realloc(path, nc * LS_ID_LEN);
			if (np == NULL) {
				rc = LS_ERR_NOMEM;
				break;
			}
			path = np;
			cap = nc;
		}
		memcpy(path[n++], cur, LS_ID_LEN);
		if ((rc = ls_txn_record(&w->t, cur, &p)) != 0)
			break;
		more = p->has_prev;
		if (more)
			memcpy(cur, p->prev, LS_ID_LEN);
		ls_record_free(p);
	}
	/* Fold it, oldest first: the kinds' own apply, writing the branch only. */
	w->t.branch = b;
	w->t.replay = true;
	for (size_t i = n; rc == 0 && i > 0; i--) {
		struct ls_record *p = NULL;
		if ((rc = ls_txn_record(&w->t, path[i - 1], &p)) == 0)
			rc = ls_kind_of(p->type)->apply(&w->t, p);
		ls_record_free(p);
	}
	w->t.replay = false;
	w->t.branch = NULL;
	free(path);
	if (rc != 0) {
		ls_branch_free(&b);
		return rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
	}
	if (r->has_prev)
		memcpy(b->tip, r->prev, LS_ID_LEN);
	w->base = b;
	return 0;
}

struct seqids {
	uint8_t (*v)[LS_ID_LEN];
	size_t n;
};

static int
seqid_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	struct seqids *s = arg;
	uint8_t(*nv)[LS_ID_LEN];

	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->v[i], id, LS_ID_LEN) == 0)
			return 0; /* the record itself, named twice */
	if ((nv = realloc(s->v, (s->n + 1) * LS_ID_LEN)) == NULL)
		return LS_ERR_NOMEM;
	s->v = nv;
	memcpy(s->v[s->n++], id, LS_ID_LEN);
	return 0;
}

/*
 * The evidence of author's equivocation at seq: the two stored records with
 * the lowest ids (so every node holding the same records keeps the same
 * pair). primary is the record the feed holds at seq.
 */
static int
update_evidence(struct wctx *w, const struct ls_record *r, const uint8_t primary[LS_ID_LEN])
{
	struct seqids ids = {NULL, 0};
	uint8_t lo[2][LS_ID_LEN], pair[2][LS_ID_LEN];
	const uint8_t *ea, *eb;
	MDB_val va, vb;
	int rc = ls_txn_evidence_pair(&w->t, r->author, r->seq, pair);

	if (rc == 0) {
		/* Kept already: only a lower id changes the pair (no list of
		 * every record at the seq, however many there are). */
		if (memcmp(r->id, pair[1], LS_ID_LEN) >= 0 ||
		    memcmp(r->id, pair[0], LS_ID_LEN) == 0)
			return 0;
		if (memcmp(r->id, pair[0], LS_ID_LEN) < 0) {
			memcpy(lo[0], r->id, LS_ID_LEN);
			memcpy(lo[1], pair[0], LS_ID_LEN);
		} else {
			memcpy(lo[0], pair[0], LS_ID_LEN);
			memcpy(lo[1], r->id, LS_ID_LEN);
		}
	} else if (rc == LS_ERR_NOT_FOUND) {
		/* The first evidence at this seq: two records, the main one and
		 * a fork (or, after a reindex, a few). */
		if ((rc = seqid_one(&ids, primary)) != 0 ||
		    (rc = ls_txn_forks_each(&w->t, r->author, r->seq, seqid_one, &ids)) != 0)
			goto out;
		memset(lo, 0xff, sizeof(lo));
		for (size_t i = 0; i < ids.n; i++) {
			if (memcmp(ids.v[i], lo[0], LS_ID_LEN) < 0) {
				memcpy(lo[1], lo[0], LS_ID_LEN);
				memcpy(lo[0], ids.v[i], LS_ID_LEN);
			} else if (memcmp(ids.v[i], lo[1], LS_ID_LEN) < 0) {
				memcpy(lo[1], ids.v[i], LS_ID_LEN);
			}
		}
		if (ids.n < 2)
			goto out;
	} else {
		return rc;
	}
	if ((rc = ls_txn_envelope(&w->t, lo[0], &va)) != 0 ||
	    (rc = ls_txn_envelope(&w->t, lo[1], &vb)) != 0) {
		rc = rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
		goto out;
	}
	ea = va.mv_data;
	eb = vb.mv_data;
	if ((rc = ls_txn_evidence_put(&w->t, r->author, r->seq, ea, va.mv_size, eb, vb.mv_size)) !=
	    0)
		goto out;
	if (w->n_ev == w->cap_ev) {
		size_t cap = w->cap_ev ? w->cap_ev * 2 : 8;
		struct evid *nev = realloc(w->ev, cap * sizeof(*nev));
		if (nev == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		w->ev = nev;
		w->cap_ev = cap;
	}
	{
		uint8_t *a = malloc(va.mv_size), *b = malloc(vb.mv_size);
		if (a == NULL || b == NULL) {
			free(a);
			free(b);
			rc = LS_ERR_NOMEM;
			goto out;
		}
		memcpy(a, ea, va.mv_size);
		memcpy(b, eb, vb.mv_size);
		w->ev[w->n_ev++] = (struct evid){a, b, va.mv_size, vb.mv_size};
	}
out:
	free(ids.v);
	return rc;
}

/* Stores an accepted record: envelope by position, id index, feed, head,
 * and its leaf in the Merkle log (the one place records are stored: every
 * stored record is logged, in store order, in the same transaction). */
static int
store_record(struct wctx *w, const struct ls_record *r, bool on_main, uint8_t **env_out,
	     size_t *len_out)
{
	struct ls_store *s = w->t.s;
	uint8_t pos[8], idv[17], fk[LS_KEY_LEN + 8], head[8 + LS_ID_LEN + 8];
	uint8_t leaf[LS_TLOG_LEAF_LEN];
	size_t idlen = s->no_log ? 9 : 17;
	uint8_t *env = NULL;
	size_t len;
	int rc;

	if ((rc = ls_record_envelope(r, &env, &len)) != 0)
		return rc;
	ls_be64_put(pos, w->next_pos);
	memcpy(idv, pos, 8);
	idv[8] = (uint8_t)r->type;
	ls_be64_put(idv + 9, w->log_size);
	leaf[0] = LS_TLOG_LEAF_RECORD;
	memcpy(leaf + 1, r->id, LS_ID_LEN);
	memcpy(fk, r->author, LS_KEY_LEN);
	ls_be64_put(fk + LS_KEY_LEN, r->seq);
	ls_be64_put(head, r->seq);
	memcpy(head + 8, r->id, LS_ID_LEN);
	ls_be64_put(head + 8 + LS_ID_LEN, r->timestamp);
	if ((rc = ls_txn_put(&w->t, s->recs, pos, 8, env, len, MDB_APPEND)) != 0 ||
	    (rc = ls_txn_put(&w->t, s->ids, r->id, LS_ID_LEN, idv, idlen, 0)) != 0 ||
	    (!s->no_log && (rc = ls_txn_log_append(&w->t, &w->log_size, leaf, &w->edge)) != 0) ||
	    (on_main &&
	     ((rc = ls_txn_put(&w->t, s->feeds, fk, sizeof(fk), r->id, LS_ID_LEN, 0)) != 0 ||
	      (rc = ls_txn_put(&w->t, s->heads, r->author, LS_KEY_LEN, head, sizeof(head), 0)) !=
		  0)) ||
	    (!on_main && (rc = ls_txn_fork_put(&w->t, r->author, r->seq, r->id)) != 0)) {
		free(env);
		return rc;
	}
	/* When this node took an authority record: a witness refuses a log
	 * that keeps it out past the grace period (witness.h). Local
	 * bookkeeping, not a consensus input. */
	if (!s->bundle_check &&
	    (r->type == LS_REC_CERTIFICATE || r->type == LS_REC_REVOCATION ||
	     r->type == LS_REC_POLICY || r->type == LS_REC_LICENSE) &&
	    (rc = ls_txn_put_u64(&w->t, s->authtime, fk, sizeof(fk), ls_now())) != 0) {
		free(env);
		return rc;
	}
	ls_store_setsum_add(w->setsum, r->id);
	w->next_pos++;
	*env_out = env;
	*len_out = len;
	return 0;
}

/* ---- admission: dependency-rejected ----
 *
 * A local client's record that names a record refused in its own
 * submission (directly, or through records of that submission refused for
 * this reason, in whatever order they came) is refused with
 * LS_R_DEP_REJECTED: it would otherwise wait in the pending set for a
 * record that is not coming, and its client would be told "pending". This
 * is admission only: a peer's record, and a local record of another
 * submission, waits as before (the consensus rules depend on a record and
 * the records it names, not on what else came in the batch).
 *
 * The verdict is taken at the end of the call (dr_settle), not when the
 * refusal is seen: until then a record naming a refused id waits like any
 * pending record, because another record of that id may still come in the
 * same submission (a forged copy first, the genuine record after it) and
 * release it. A refused id makes its submission's records that still wait
 * for it dependency-rejected only if, at the end of the call, no record of
 * that id (of the transformation that makes that lot) is stored or waiting
 * in the pending set; those records leave the pending set, and what of the
 * submission waits for them is refused in turn. Settling only refuses and
 * unparks: nothing is accepted, so nothing it does releases a record.
 *
 * Records of the submission are indexed under (id, submission) keys (the
 * id itself when the call is one submission; else a BLAKE2b of both), so
 * what one submission refuses or waits for never lengthens what another's
 * walks. The bookkeeping lives for one attempt and is bounded by the call:
 * one node per id a local record misses when it is first parked (at most
 * LS_DEPS_MAX), one per id of a refused record (its id and its outputs'
 * lots) per submission, and a few bytes per envelope. Settling examines
 * each refusal node once (again only when a record of its id that was
 * waiting is refused itself) and walks the records waiting for a key once,
 * so its steps (s->ingest_dr_steps, counted for the tests) are linear in
 * the nodes.
 */

#define DR_NONE    SIZE_MAX /* not a local record of this call */
#define DR_PARKED  1u       /* in the pending set, parked in this attempt */
#define DR_INDEXED 2u       /* its missing dependencies are in waits */
#define DR_TWIN    4u       /* "already waiting": a copy of twin[item] */
#define DR_SHARED  8u       /* also sent by a peer or another submission */

#define DRN_REFUSED 1u /* a node of refused */
#define DRN_DONE    2u /* its waiting records were refused */
#define DRN_ALIVE   4u /* a record of its id was stored or waiting: none refused */

struct dr_node {
	size_t item;   /* the envelope of the call */
	uint32_t next; /* 1 + the next node under the same key, 0: none */
	uint32_t out;  /* refused: 0 the record's id, o the lot of output o - 1 */
	uint8_t flags; /* DRN_ */
};

struct deprej {
	const uint32_t *subs; /* per envelope: its submission; NULL: the call is one */
	struct item *items;
	struct ls_ingest_result *results;
	size_t n;
	struct ls_idmap *refused; /* key of a refused record's id or lot -> 1 + node */
	struct ls_idmap *waits;   /* key of an id a parked local record misses -> 1 + node */
	struct ls_idmap *mine;    /* id of a parked local record -> 1 + envelope */
	struct dr_node *nodes;
	size_t n_nodes, cap_nodes;
	uint64_t steps; /* settling: nodes examined and waiting records walked */
	uint8_t *state; /* per envelope: DR_ flags */
	size_t *root;   /* per refused envelope: the one first refused of its chain */
	size_t *twin;   /* per DR_TWIN envelope: the copy that was parked */
};

static void
dr_free(struct deprej **dp)
{
	struct deprej *d;

	if (dp == NULL || (d = *dp) == NULL)
		return;
	ls_idmap_free(&d->refused);
	ls_idmap_free(&d->waits);
	ls_idmap_free(&d->mine);
	free(d->nodes);
	free(d->state);
	free(d->root);
	free(d->twin);
	free(d);
	*dp = NULL;
}

/* Empties d for an attempt. LS_ERR_NOMEM. */
static int
dr_reset(struct deprej *d)
{
	ls_idmap_free(&d->refused);
	ls_idmap_free(&d->waits);
	ls_idmap_free(&d->mine);
	d->n_nodes = 0;
	d->steps = 0;
	memset(d->state, 0, d->n);
	if ((d->refused = ls_idmap_new()) == NULL || (d->waits = ls_idmap_new()) == NULL ||
	    (d->mine = ls_idmap_new()) == NULL)
		return LS_ERR_NOMEM;
	return 0;
}

static int
dr_new(size_t n, const uint32_t *subs, struct item *items, struct ls_ingest_result *results,
       struct deprej **out)
{
	struct deprej *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return LS_ERR_NOMEM;
	d->subs = subs;
	d->items = items;
	d->results = results;
	d->n = n;
	if ((d->state = calloc(n, 1)) == NULL || (d->root = calloc(n, sizeof(*d->root))) == NULL ||
	    (d->twin = calloc(n, sizeof(*d->twin))) == NULL) {
		dr_free(&d);
		return LS_ERR_NOMEM;
	}
	*out = d;
	return 0;
}

static uint32_t
dr_sub(const struct deprej *d, size_t item)
{
	return d->subs != NULL ? d->subs[item] : 0;
}

/* The key of id in item's submission. */
static void
dr_key(const struct deprej *d, const uint8_t id[LS_ID_LEN], size_t item, uint8_t key[LS_ID_LEN])
{
	static const char domain[] = "lodestone admission submission key";
	crypto_generichash_state st;
	uint32_t sub = dr_sub(d, item);
	uint8_t be[4] = {(uint8_t)(sub >> 24), (uint8_t)(sub >> 16), (uint8_t)(sub >> 8),
			 (uint8_t)sub};

	if (d->subs == NULL) {
		memcpy(key, id, LS_ID_LEN);
		return;
	}
	crypto_generichash_init(&st, NULL, 0, LS_ID_LEN);
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, id, LS_ID_LEN);
	crypto_generichash_update(&st, be, sizeof(be));
	crypto_generichash_final(&st, key, LS_ID_LEN);
}

static size_t
dr_first(const struct ls_idmap *m, const uint8_t id[LS_ID_LEN])
{
	return (size_t)(uintptr_t)ls_idmap_get(m, id);
}

/* Adds item under key in m. LS_ERR_NOMEM. */
static int
dr_push(struct deprej *d, struct ls_idmap *m, const uint8_t key[LS_ID_LEN], size_t item,
	uint32_t out, uint8_t flags)
{
	int rc;

	if (d->n_nodes == d->cap_nodes) {
		size_t cap = d->cap_nodes ? d->cap_nodes * 2 : 64;
		struct dr_node *nv;
		if (cap >= UINT32_MAX || (nv = realloc(d->nodes, cap * sizeof(*nv))) == NULL)
			return LS_ERR_NOMEM;
		d->nodes = nv;
		d->cap_nodes = cap;
	}
	d->nodes[d->n_nodes] = (struct dr_node){item, (uint32_t)dr_first(m, key), out, flags};
	if ((rc = ls_idmap_put(m, key, (void *)(uintptr_t)(d->n_nodes + 1))) != 0)
		return rc;
	d->n_nodes++;
	return 0;
}

/* Local record `item` (r) waits in the pending set: kept with every
 * dependency it misses, so that settling finds it. */
static int
dr_parked(struct wctx *w, const struct ls_record *r, size_t item)
{
	struct deprej *d = w->dr;
	struct ls_deps deps;
	int rc;

	d->state[item] |= DR_PARKED;
	if ((rc = ls_idmap_put(d->mine, r->id, (void *)(uintptr_t)(item + 1))) != 0)
		return rc;
	/* Once: a dependency present now stays present. */
	if (d->state[item] & DR_INDEXED)
		return 0;
	d->state[item] |= DR_INDEXED;
	ls_record_deps(w->t.s, r, &deps);
	for (size_t i = 0; i < deps.n; i++) {
		uint8_t key[LS_ID_LEN];
		size_t k;
		bool have;
		dr_key(d, deps.v[i].id, item, key);
		k = dr_first(d->waits, key);
		/* Once per id (a transformation may name one lot many times). */
		if (k != 0 && d->nodes[k - 1].item == item)
			continue;
		if ((rc = ls_dep_have(&w->t, &deps.v[i], &have)) != 0 ||
		    (!have && (rc = dr_push(d, d->waits, key, item, 0, 0)) != 0))
			return rc;
	}
	return 0;
}

/*
 * Local record `item` (r) of the call is already waiting in the pending
 * set. Parked by its own submission in this call: it is a copy, and gets
 * that copy's verdict when the call ends. Parked by another submission of
 * this call, or a peer's copy (item DR_NONE): the record stays in the
 * pending set whatever its first submission refuses (dependency-rejected is
 * not a way for one sender to take another's record out of the pending
 * set).
 */
static void
dr_waiting(struct wctx *w, const struct ls_record *r, size_t item)
{
	struct deprej *d = w->dr;
	size_t e = dr_first(d->mine, r->id);

	if (e == 0 || !(d->state[e - 1] & DR_PARKED) || e - 1 == item)
		return;
	if (item != DR_NONE && dr_sub(d, item) == dr_sub(d, e - 1)) {
		d->state[item] |= DR_TWIN;
		d->twin[item] = e - 1;
	} else {
		d->state[e - 1] |= DR_SHARED;
	}
}

/* Refuses item for naming dep, refused in its submission. */
static void
dr_set(struct deprej *d, size_t item, size_t dep)
{
	struct ls_ingest_result *res = &d->results[item];
	const struct ls_ingest_result *dr = &d->results[dep], *rr;
	char hex[2 * LS_ID_LEN + 1], rhex[2 * LS_ID_LEN + 1];

	d->root[item] = d->root[dep];
	rr = &d->results[d->root[dep]];
	ls_hex(dr->id, LS_ID_LEN, hex);
	if (d->root[dep] == dep)
		set_result(res, LS_INGEST_REJECTED, LS_R_DEP_REJECTED,
			   "names %s %s, refused in the same submission (%s)",
			   ls_rtype_name(dr->type), hex, ls_reason_code(dr->reason));
	else
		set_result(res, LS_INGEST_REJECTED, LS_R_DEP_REJECTED,
			   "names %s %s, refused in the same submission because %s %.16s was (%s)",
			   ls_rtype_name(dr->type), hex, ls_rtype_name(rr->type),
			   ls_hex(rr->id, LS_ID_LEN, rhex), ls_reason_code(rr->reason));
	res->has_missing = true;
	memcpy(res->missing, dr->id, LS_ID_LEN);
}

/* Takes a record parked in this attempt out of the pending set (unless the
 * set made room by evicting it). */
static int
dr_unpark(struct wctx *w, const uint8_t id[LS_ID_LEN])
{
	MDB_val v;
	int rc = ls_txn_get(&w->t, w->t.s->pwait, id, LS_ID_LEN, &v);

	if (rc == LS_ERR_NOT_FOUND)
		return 0;
	return rc != 0 ? rc : unpark_id(w, id, NULL);
}

/* The id of refusal node nd: its record's, or the lot of an output. */
static const uint8_t *
dr_node_id(const struct deprej *d, const struct dr_node *nd, uint8_t lot[LS_ID_LEN])
{
	if (nd->out == 0)
		return d->results[nd->item].id;
	ls_lot_id(d->results[nd->item].id, nd->out - 1, lot);
	return lot;
}

/*
 * Local record `item` was refused: its id (and its outputs' lots) are
 * noted as refused in its submission, once per submission while no record
 * of the id was found stored or waiting; settling decides what of the
 * submission waits for them. LS_ERR_NOMEM in w->err.
 */
static void
dr_refused(struct wctx *w, size_t item)
{
	struct deprej *d = w->dr;
	const struct ls_record *r = d->items[item].rec;
	uint32_t n_ids = 1;
	int rc;

	if (!d->results[item].has_id)
		return; /* undecodable: nothing can name it */
	if (d->results[item].reason != LS_R_DEP_REJECTED)
		d->root[item] = item;
	if (r != NULL && r->type == LS_REC_TRANSFORMATION)
		n_ids += r->transformation.n_outputs;
	for (uint32_t o = 0; o < n_ids; o++) {
		struct dr_node probe = {item, 0, o, 0};
		uint8_t key[LS_ID_LEN], lot[LS_ID_LEN];
		size_t k;
		dr_key(d, dr_node_id(d, &probe, lot), item, key);
		/* Refused in this submission before (a copy): one node does. A
		 * node found alive (a copy was waiting) is judged again. */
		if ((k = dr_first(d->refused, key)) != 0 && !(d->nodes[k - 1].flags & DRN_ALIVE))
			continue;
		if ((rc = dr_push(d, d->refused, key, item, o, DRN_REFUSED)) != 0) {
			w->err = rc;
			return;
		}
	}
}

/* Whether a record of id is stored or waiting in the pending set. */
static int
dr_alive(struct wctx *w, const uint8_t id[LS_ID_LEN], bool *alive)
{
	MDB_val v;
	int rc;

	*alive = true;
	if ((rc = ls_txn_record_has(&w->t, id)) != LS_ERR_NOT_FOUND)
		return rc;
	if ((rc = ls_txn_get(&w->t, w->t.s->pwait, id, LS_ID_LEN, &v)) != LS_ERR_NOT_FOUND)
		return rc;
	*alive = false;
	return 0;
}

/*
 * Admission, at the end of the call: the refusals noted by dr_refused
 * become dependency-rejected verdicts (file comment above). Nodes are taken
 * in the order they were made; a refusal made here appends its nodes, so
 * the chain is followed to its end. A store error sets w->err.
 */
static void
dr_settle(struct wctx *w)
{
	struct deprej *d = w->dr;
	int rc;

	for (size_t i = 0; i < d->n_nodes && w->err == 0; i++) {
		uint8_t key[LS_ID_LEN], lot[LS_ID_LEN];
		const uint8_t *id;
		size_t x = d->nodes[i].item;
		bool alive;
		if ((d->nodes[i].flags & (DRN_REFUSED | DRN_DONE | DRN_ALIVE)) != DRN_REFUSED)
			continue;
		d->steps++;
		/* The record, or the transformation that makes the lot. */
		if ((rc = dr_alive(w, d->results[x].id, &alive)) != 0) {
			w->err = rc;
			return;
		}
		if (alive) {
			d->nodes[i].flags |= DRN_ALIVE;
			continue;
		}
		d->nodes[i].flags |= DRN_DONE;
		id = dr_node_id(d, &d->nodes[i], lot);
		dr_key(d, id, x, key);
		for (size_t k = dr_first(d->waits, key); k != 0; k = d->nodes[k - 1].next) {
			size_t y = d->nodes[k - 1].item;
			d->steps++;
			if ((d->state[y] & (DR_PARKED | DR_SHARED)) != DR_PARKED)
				continue;
			d->state[y] &= (uint8_t)~DR_PARKED;
			if ((rc = dr_unpark(w, d->results[y].id)) != 0) {
				w->err = rc;
				return;
			}
			dr_set(d, y, x);
			dr_refused(w, y);
			if (w->err != 0)
				return;
		}
	}
	/* A copy of a record parked by its own submission: that verdict. */
	for (size_t i = 0; i < d->n; i++)
		if ((d->state[i] & DR_TWIN) && d->results[d->twin[i]].status == LS_INGEST_REJECTED)
			d->results[i] = d->results[d->twin[i]];
}

struct first_fork {
	size_t n;
	uint8_t id[LS_ID_LEN];
};

/*
 * Takes one verified record through the checks: consensus rules, and
 * admission when `layer` says it is a local client's submission (then item
 * is its envelope of the call, or DR_NONE for one of an earlier call). On a
 * store error sets w->err (the batch aborts: no verdict). *keep is set when
 * the record was handed to w->acc (the caller must not free it).
 */
static void
process_record(struct wctx *w, struct ls_record *r, enum ls_layer layer, bool violation,
	       struct ls_ingest_result *res, bool *keep, size_t item)
{
	struct ls_store *s = w->t.s;
	const struct ls_kind *k = ls_kind_of(r->type);
	uint8_t fk[LS_KEY_LEN + 8], *env = NULL;
	uint64_t head_seq = 0, head_ts = 0;
	uint8_t head_id[LS_ID_LEN] = {0}, other[LS_ID_LEN];
	struct first_fork forks = {0, {0}};
	bool main_at_seq = false, on_main, prev_here = true;
	char msg[LS_ERR_MSG_MAX] = "";
	char hex[2 * LS_ID_LEN + 1];
	struct ls_why why = LS_WHY(msg);
	struct ls_deps deps;
	enum ls_reason reason, judged = LS_R_OK;
	char judged_msg[LS_ERR_MSG_MAX] = "";
	MDB_val v;
	size_t len;
	int rc;

	*keep = false;
	if (res != NULL) {
		res->has_id = true;
		memcpy(res->id, r->id, LS_ID_LEN);
		res->type = r->type;
	}
	if ((rc = ls_txn_record_has(&w->t, r->id)) != LS_ERR_NOT_FOUND) {
		if (rc != 0)
			w->err = rc;
		else
			set_result(res, LS_INGEST_KNOWN, LS_R_OK, "already stored");
		return;
	}
	if ((rc = ls_txn_get(&w->t, s->pwait, r->id, LS_ID_LEN, &v)) != LS_ERR_NOT_FOUND) {
		if (rc != 0 || v.mv_size < LS_ID_LEN)
			w->err = rc ? rc : LS_ERR_STORE;
		else
			set_result(res, LS_INGEST_PENDING, LS_R_OK, "already waiting for %s",
				   ls_hex(v.mv_data, LS_ID_LEN, hex));
		if (rc == 0 && layer < LS_LAYER_ADMISSION && (rc = pw_peer(w, r->id, &v)) != 0)
			w->err = rc;
		/* Parked by an earlier call: it keeps waiting whatever this
		 * submission refuses (dependency-rejected is not a way for one
		 * submission to take another's record out of the pending set);
		 * parked in this call: dr_waiting. */
		if (w->dr != NULL && rc == 0)
			dr_waiting(w, r, item);
		return;
	}
	/* Another record of this author at this seq: an equivocation. */
	memcpy(fk, r->author, LS_KEY_LEN);
	ls_be64_put(fk + LS_KEY_LEN, r->seq);
	if ((rc = ls_txn_get(&w->t, s->feeds, fk, sizeof(fk), &v)) == 0) {
		if (v.mv_size != LS_ID_LEN) {
			w->err = LS_ERR_STORE;
			return;
		}
		main_at_seq = true;
		memcpy(other, v.mv_data, LS_ID_LEN);
	} else if (rc != LS_ERR_NOT_FOUND) {
		w->err = rc;
		return;
	}
	if ((rc = ls_txn_fork_first(&w->t, r->author, r->seq, forks.id)) == 0) {
		forks.n = 1;
	} else if (rc != LS_ERR_NOT_FOUND) {
		w->err = rc;
		return;
	}
	if ((rc = ls_txn_get(&w->t, s->heads, r->author, LS_KEY_LEN, &v)) == 0) {
		if (v.mv_size != 8 + LS_ID_LEN + 8) {
			w->err = LS_ERR_STORE;
			return;
		}
		head_seq = ls_be64_get(v.mv_data);
		memcpy(head_id, (const uint8_t *)v.mv_data + 8, LS_ID_LEN);
		head_ts = ls_be64_get((const uint8_t *)v.mv_data + 8 + LS_ID_LEN);
	} else if (rc != LS_ERR_NOT_FOUND) {
		w->err = rc;
		return;
	}
	/* Every dependency present (prev among them), or the record waits for
	 * the first missing. */
	ls_record_deps(s, r, &deps);
	/* Admission (dependency-rejected): a record naming one its submission
	 * refused waits like any other until the end of the call (dr_settle). */
	for (size_t i = 0; i < deps.n; i++) {
		bool have;
		if ((rc = ls_dep_have(&w->t, &deps.v[i], &have)) != 0) {
			w->err = rc;
			return;
		}
		if (have)
			continue;
		/* A store checking a bundle: a participant's feed is not carried
		 * (ls_feed_carried); the record is judged without its predecessor. */
		if (deps.v[i].kind == LS_DEP_PREV && s->bundle_check) {
			bool carried;
			if ((rc = ls_feed_carried(&w->t, r, &carried)) != 0) {
				w->err = rc;
				return;
			}
			if (!carried) {
				prev_here = false;
				continue;
			}
		}
		if ((rc = park(w, r, &deps.v[i],
			       (uint8_t)((layer >= LS_LAYER_ADMISSION ? PW_LOCAL : 0) |
					 (violation ? PW_VIOLATION : 0)),
			       &reason, msg, sizeof(msg))) != 0) {
			w->err = rc;
			return;
		}
		if (reason != LS_R_OK)
			set_result(res, LS_INGEST_REJECTED, reason, "%s", msg);
		else
			set_result(res, LS_INGEST_PENDING, LS_R_OK, "waiting for %s",
				   ls_hex(deps.v[i].id, LS_ID_LEN, hex));
		if (res != NULL && reason == LS_R_OK) {
			res->has_missing = true;
			memcpy(res->missing, deps.v[i].id, LS_ID_LEN);
		}
		if (reason == LS_R_OK && item != DR_NONE && (rc = dr_parked(w, r, item)) != 0)
			w->err = rc;
		return;
	}
	/* Admission: a local client's record is not dated ahead of this
	 * node's clock (a date no record bounds; the witnessed logs bound the
	 * others). */
	if (layer >= LS_LAYER_ADMISSION && r->timestamp > ls_now() + LS_CLOCK_SKEW) {
		set_result(res, LS_INGEST_REJECTED, LS_R_FUTURE,
			   "%s record is dated %llu s ahead of this node's clock",
			   ls_rtype_name(r->type), (unsigned long long)(r->timestamp - ls_now()));
		return;
	}
	/* The branch of the feed the tables follow: prev is its head. A store
	 * checking a bundle holds a sparse feed: a record above the head
	 * continues it unless its predecessor is here and is not the head. */
	if (s->bundle_check)
		on_main = !main_at_seq && r->seq > head_seq &&
			  (r->seq == 1 || !prev_here || memcmp(r->prev, head_id, LS_ID_LEN) == 0);
	else
		on_main = !main_at_seq && r->seq == head_seq + 1 &&
			  (r->seq == 1 || memcmp(r->prev, head_id, LS_ID_LEN) == 0);
	if (main_at_seq || forks.n > 0 || !on_main) {
		/* Admission: the daemon's own clients do not equivocate. */
		if (layer >= LS_LAYER_ADMISSION) {
			set_result(res, LS_INGEST_REJECTED, LS_R_EQUIVOCATION,
				   "equivocation: the author already signed a different record "
				   "at seq %llu (%s)",
				   (unsigned long long)r->seq,
				   ls_hex(main_at_seq ? other : forks.id, LS_ID_LEN, hex));
			return;
		}
	}
	if (!on_main || s->bundle_check) {
		/* Consensus: prev is the author's record seq - 1, not dated
		 * after this one (on the main branch: prev is the head). */
		if (r->seq > 1 && prev_here) {
			struct ls_record *p = NULL;
			if ((rc = ls_txn_record(&w->t, r->prev, &p)) != 0) {
				w->err = rc == LS_ERR_NOT_FOUND ? LS_ERR_STORE : rc;
				return;
			}
			reason =
			    memcmp(p->author, r->author, LS_KEY_LEN) != 0 || p->seq + 1 != r->seq
				? LS_R_BAD_PREV
			    : r->timestamp < p->timestamp ? LS_R_TIME_BACKWARDS
							  : LS_R_OK;
			ls_record_free(p);
			if (reason != LS_R_OK) {
				set_result(res, LS_INGEST_REJECTED, reason,
					   reason == LS_R_BAD_PREV
					       ? "%s record seq %llu: prev is not the author's "
						 "record seq - 1"
					       : "%s record seq %llu is dated before the author's "
						 "previous record",
					   ls_rtype_name(r->type), (unsigned long long)r->seq);
				return;
			}
		}
	}
	if (!on_main) {
		/* The record is checked along its own branch. A bundle does not
		 * carry the branch to fold: the record is
		 * checked against the tables (the author's equivocation makes
		 * every verdict on its records broken anyway). */
		if (!s->bundle_check && (rc = branch_for(w, r)) != 0) {
			if (rc == LS_ERR_TOO_BIG)
				set_result(res, LS_INGEST_REJECTED, LS_R_TOO_BIG,
					   "equivocating feed too long to check (over %u records)",
					   BRANCH_MAX);
			else
				w->err = rc;
			return;
		}
		if (!s->bundle_check)
			w->t.branch = w->branch;
	} else if (r->timestamp < head_ts) {
		set_result(res, LS_INGEST_REJECTED, LS_R_TIME_BACKWARDS,
			   "%s record seq %llu is dated before the author's previous record",
			   ls_rtype_name(r->type), (unsigned long long)r->seq);
		return;
	}
	reason = ls_kind_check(&w->t, r, layer, &why);
	if (reason == LS_R_STORE) {
		w->t.branch = NULL;
		w->err = why.err ? why.err : LS_ERR_STORE;
		return;
	}
	if (reason != LS_R_OK) {
		w->t.branch = NULL;
		set_result(res, LS_INGEST_REJECTED, reason, "%s", msg);
		return;
	}
	/* Admission: what the question-time rules (the policies in force, the
	 * licenses, the bindings up the custody path) say of the record. A
	 * client may record it anyway, explicitly; the result then says that
	 * it breaks provenance. */
	if (layer >= LS_LAYER_ADMISSION && k->judge != NULL) {
		judged = k->judge(&w->t, r, &why);
		if (judged == LS_R_STORE) {
			w->t.branch = NULL;
			w->err = why.err ? why.err : LS_ERR_STORE;
			return;
		}
		if (judged != LS_R_OK && !violation) {
			w->t.branch = NULL;
			set_result(res, LS_INGEST_REJECTED, judged, "%s", msg);
			return;
		}
		snprintf(judged_msg, sizeof(judged_msg), "%s", msg);
	}
	w->t.apply_pos = w->next_pos; /* store_record stores r there */
	rc = k->apply(&w->t, r);
	w->t.branch = NULL;
	if (rc != 0 || (rc = store_record(w, r, on_main, &env, &len)) != 0) {
		w->err = rc;
		return;
	}
	if (!on_main && !s->bundle_check)
		memcpy(w->branch->tip, r->id, LS_ID_LEN);
	/* Both records of an equivocation are stored: keep the evidence. */
	if ((main_at_seq || forks.n > 0) &&
	    (rc = update_evidence(w, r, main_at_seq ? other : r->id)) != 0) {
		free(env);
		w->err = rc;
		return;
	}
	if ((rc = acc_push(&w->acc, r, env, len)) != 0) {
		free(env);
		w->err = rc;
		return;
	}
	*keep = true;
	if (judged != LS_R_OK)
		set_result(res, LS_INGEST_ACCEPTED, judged,
			   "recorded although it breaks provenance: %s", judged_msg);
	else
		set_result(res, LS_INGEST_ACCEPTED, LS_R_OK, NULL);
}

/* process_record(); a refused local record of the call is noted, for what
 * of its submission names it (dependency-rejected, at dr_settle). */
static void
process(struct wctx *w, struct ls_record *r, enum ls_layer layer, bool violation,
	struct ls_ingest_result *res, bool *keep, size_t item)
{
	process_record(w, r, layer, violation, res, keep, item);
	if (item != DR_NONE && w->err == 0 && res != NULL && res->status == LS_INGEST_REJECTED)
		dr_refused(w, item);
}

/* A record leaving the pending set, with the PW_ flags it waited with. */
struct parked {
	struct ls_record *r;
	uint8_t flags;
};

static int
by_seq(const void *a, const void *b)
{
	const struct ls_record *x = ((const struct parked *)a)->r;
	const struct ls_record *y = ((const struct parked *)b)->r;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return memcmp(x->id, y->id, LS_ID_LEN);
}

/* Pops the records parked on `id` and takes them through process(): a
 * local client's submission gets the admission checks it could not get
 * while its dependencies were missing, a peer's the consensus rules. A
 * local record parked by this call that is refused now gets that result
 * (and its submission's records naming it are refused); one of an earlier
 * call is dropped (nobody is waiting for the answer). */
static void
release(struct wctx *w, const uint8_t id[LS_ID_LEN])
{
	struct ls_store *s = w->t.s;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	struct parked *batch = NULL;
	uint8_t(*waiting)[LS_ID_LEN] = NULL;
	size_t n = 0, cap = 0;
	int mrc, rc;

	if ((mrc = mdb_cursor_open(w->t.txn, s->pending, &c)) != 0) {
		w->err = ls_store_err(mrc);
		return;
	}
	/* Decode every waiting record first; any failure aborts the batch
	 * before anything leaves the pending set. */
	k.mv_size = LS_ID_LEN;
	k.mv_data = (void *)(uintptr_t)id;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0 && w->err == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ls_record *r = NULL;
		if (k.mv_size != 2 * LS_ID_LEN || memcmp(k.mv_data, id, LS_ID_LEN) != 0)
			break;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct parked *nb = realloc(batch, ncap * sizeof(*nb));
			uint8_t(*nw)[LS_ID_LEN] = nb ? realloc(waiting, ncap * LS_ID_LEN) : NULL;
			if (nb != NULL)
				batch = nb;
			if (nw == NULL) {
				w->err = LS_ERR_NOMEM;
				break;
			}
			waiting = nw;
			cap = ncap;
		}
		if ((rc = ls_record_decode(v.mv_data, v.mv_size, &r, NULL)) != 0) {
			w->err = rc == LS_ERR_NOMEM ? LS_ERR_NOMEM : LS_ERR_STORE;
			break;
		}
		memcpy(waiting[n], (uint8_t *)k.mv_data + LS_ID_LEN, LS_ID_LEN);
		batch[n].flags = 0;
		batch[n++].r = r;
	}
	if (w->err == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
		w->err = ls_store_err(mrc);
	mdb_cursor_close(c);
	for (size_t i = 0; i < n && w->err == 0; i++) {
		if ((rc = unpark_id(w, waiting[i], &batch[i].flags)) != 0)
			w->err = rc;
	}
	/* Lower seqs first, so that a parked run of one feed applies in one
	 * pass (ties by id: the same order on every node). */
	if (n > 1)
		qsort(batch, n, sizeof(*batch), by_seq);
	for (size_t i = 0; i < n; i++) {
		bool keep = false;
		size_t item = DR_NONE, e;
		struct ls_ingest_result tmp;
		if (w->dr != NULL && (batch[i].flags & PW_LOCAL) &&
		    (e = dr_first(w->dr->mine, batch[i].r->id)) != 0 &&
		    (w->dr->state[e - 1] & DR_PARKED)) {
			item = e - 1;
			w->dr->state[item] &= (uint8_t)~DR_PARKED;
		}
		memset(&tmp, 0, sizeof(tmp));
		if (w->err == 0)
			process_record(w, batch[i].r,
				       (batch[i].flags & PW_LOCAL) ? LS_LAYER_ADMISSION
								   : LS_LAYER_CONSENSUS,
				       (batch[i].flags & PW_VIOLATION) != 0, &tmp, &keep, item);
		/* Accepted, it keeps the "pending" its submission was told. */
		if (item != DR_NONE && w->err == 0 && tmp.status != LS_INGEST_ACCEPTED) {
			w->dr->results[item] = tmp;
			if (tmp.status == LS_INGEST_REJECTED)
				dr_refused(w, item);
		}
		if (!keep)
			ls_record_free(batch[i].r);
	}
	free(batch);
	free(waiting);
}

/* Releases everything that waited, transitively, on records accepted since
 * acc index `from`. */
static void
release_from(struct wctx *w, size_t from)
{
	for (size_t i = from; i < w->acc.n && w->err == 0; i++) {
		const struct ls_record *r = w->acc.v[i];
		release(w, r->id);
		if (r->type == LS_REC_TRANSFORMATION)
			for (uint32_t o = 0; o < r->transformation.n_outputs && w->err == 0; o++) {
				uint8_t lot[LS_ID_LEN];
				ls_lot_id(r->id, o, lot);
				release(w, lot);
			}
	}
}

/* Adds what the writer's transaction t read (and settling walked) to the
 * store's counts. */
static void
count_reads(struct ls_store *s, const struct ls_txn *t, const struct deprej *d)
{
	if (d != NULL) {
		s->ingest_dr_steps += d->steps;
		s->ingest_dr_nodes += d->n_nodes;
	}
	s->ingest_records += t->n_records;
	s->ingest_reads += t->n_reads;
	s->ingest_seeks += t->n_seeks;
}

/* About what a batch adds to the file, for ls_store_tail_prepare: a stored
 * record costs some 12 times its envelope in pages (the envelope, its node,
 * the indexes; 3.2 KB for a 271-byte lot registration), 16 for margin. */
static uint64_t
tail_hint(const struct vjob *j)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < j->n; i++)
		bytes += j->lens[i];
	return 16 * bytes;
}

/* One attempt at the whole batch in one transaction. */
static int
attempt(struct ls_store *s, struct vjob *j, const uint8_t *admit, size_t n,
	struct ls_ingest_result *results, struct wctx *w)
{
	struct item *items = j->items;
	int rc, mrc;

	acc_clear(&w->acc);
	ev_clear(w);
	ls_branch_free(&w->branch); /* folded in a transaction that is gone */
	ls_branch_free(&w->base);
	w->err = 0;
	w->disk_full = false;
	if ((rc = ls_txn_begin(s, true, &w->t)) != 0)
		return rc;
	/* What an aborted attempt worked out may not hold: a fresh memo. */
	ls_custody_memo_free(&w->custody);
	if (w->dr != NULL && (rc = ls_custody_memo_new(&w->custody)) != 0)
		goto fail;
	w->t.custody = w->custody;
	if ((rc = ls_txn_get_u64(&w->t, s->meta, "next", 4, &w->next_pos)) != 0 ||
	    (rc = ls_txn_get_u64(&w->t, s->meta, "pending", 7, &w->pending)) != 0 ||
	    (rc = ls_txn_setsum(&w->t, w->setsum)) != 0)
		goto fail;
	w->strangers = 0;
	if ((rc = ls_txn_get_u64(&w->t, s->meta, "strangers", 9, &w->strangers)) != 0 &&
	    rc != LS_ERR_NOT_FOUND)
		goto fail;
	if (w->dr != NULL && (rc = dr_reset(w->dr)) != 0)
		goto fail;
	w->log_size = 0;
	w->edge.valid = false; /* what an aborted attempt appended is gone */
	if (!s->no_log && (rc = ls_txn_get_u64(&w->t, s->meta, "logsize", 7, &w->log_size)) != 0 &&
	    rc != LS_ERR_NOT_FOUND)
		goto fail;
	for (size_t i = 0; i < n && w->err == 0; i++) {
		struct ls_ingest_result *res = &results[i];
		bool keep = false, local = admit != NULL && admit[i] >= LS_ADMIT_LOCAL;
		size_t before = w->acc.n, item = local && w->dr != NULL ? i : DR_NONE;

		vjob_wait(j, i);
		/* A retry needs the record an aborted attempt handed to w->acc
		 * back: decode it again from the caller's bytes (rare path). */
		if (items[i].rec == NULL && items[i].rc == 0)
			items[i].rc =
			    ls_record_decode(j->envs[i], j->lens[i], &items[i].rec, &items[i].ctx);
		/* Running out of memory while decoding is a local fault, not a
		 * verdict on the bytes. */
		if (items[i].rc == LS_ERR_NOMEM) {
			w->err = LS_ERR_NOMEM;
			break;
		}
		memset(res, 0, sizeof(*res));
		if (items[i].rec == NULL) {
			enum ls_reason reason = items[i].rc == LS_ERR_SIGNATURE ? LS_R_BAD_SIGNATURE
						: items[i].rc == LS_ERR_TOO_BIG ? LS_R_TOO_BIG
						: items[i].rc == LS_ERR_VERSION ? LS_R_UNSUPPORTED
										: LS_R_MALFORMED;
			set_result(res, LS_INGEST_REJECTED, reason, "%s",
				   ls_err_msg(&items[i].ctx, items[i].rc));
			continue;
		}
		/* A record already stored is known whatever its signature
		 * bytes (its id covers the body, verified when it was stored),
		 * also when it was stored after its verification began: earlier
		 * in this batch, or by the commit its verification overlapped. */
		if (items[i].rc == LS_ERR_SIGNATURE) {
			int has = ls_txn_record_has(&w->t, items[i].rec->id);
			if (has != 0 && has != LS_ERR_NOT_FOUND) {
				w->err = has;
				break;
			}
			if (has == 0)
				items[i].rc = 0;
		}
		if (items[i].rc == LS_ERR_SIGNATURE) {
			res->has_id = true;
			memcpy(res->id, items[i].rec->id, LS_ID_LEN);
			res->type = items[i].rec->type;
			set_result(res, LS_INGEST_REJECTED, LS_R_BAD_SIGNATURE, "%s",
				   ls_err_msg(&items[i].ctx, items[i].rc));
			if (item != DR_NONE)
				dr_refused(w, item);
			continue;
		}
		process(w, items[i].rec, local ? LS_LAYER_ADMISSION : LS_LAYER_CONSENSUS,
			admit != NULL && admit[i] == LS_ADMIT_LOCAL_VIOLATION, res, &keep, item);
		if (keep)
			items[i].rec = NULL; /* owned by w->acc now */
		if (w->acc.n > before)
			release_from(w, before);
	}
	/* Admission: the submissions' dependency-rejected verdicts, once every
	 * record of the call had its chance to arrive. */
	if (w->err == 0 && w->dr != NULL)
		dr_settle(w);
	if (w->err != 0) {
		rc = w->err;
		goto fail;
	}
	if ((rc = ls_txn_put_u64(&w->t, s->meta, "next", 4, w->next_pos)) != 0 ||
	    (rc = ls_txn_put_u64(&w->t, s->meta, "pending", 7, w->pending)) != 0 ||
	    (rc = ls_txn_put_u64(&w->t, s->meta, "strangers", 9, w->strangers)) != 0 ||
	    (rc = ls_txn_put(&w->t, s->meta, "setsum", 6, w->setsum, LS_ID_LEN, 0)) != 0 ||
	    (!s->no_log && (rc = ls_txn_put_u64(&w->t, s->meta, "logsize", 7, w->log_size)) != 0))
		goto fail;
	count_reads(s, &w->t, w->dr);
	ls_store_tail_prepare(s, tail_hint(j));
	/* The workers would wait out the commit: the next batch's signatures
	 * meanwhile (they need nothing of this one). */
	if (w->next != NULL && !w->next->started)
		(void)ahead_start(s, w->next, true);
	mrc = mdb_txn_commit(w->t.txn);
	w->t.txn = NULL;
	/* A full disk is not a full map: growing the map would not help. */
	w->disk_full = mrc != 0 && mrc != MDB_MAP_FULL && mrc != MDB_TXN_FULL;
	return ls_store_commit_err(s, mrc);
fail:
	count_reads(s, &w->t, w->dr);
	ls_txn_abort(&w->t);
	return rc;
}

int
ls_store_ingest(struct ls_store *s, const uint8_t *const *envs, const size_t *lens, size_t n,
		struct ls_ingest_result *results, const struct ls_ingest_hooks *hooks)
{
	return ls_store_ingest_admit(s, envs, lens, NULL, n, results, hooks);
}

int
ls_store_ingest_admit(struct ls_store *s, const uint8_t *const *envs, const size_t *lens,
		      const uint8_t *admit, size_t n, struct ls_ingest_result *results,
		      const struct ls_ingest_hooks *hooks)
{
	return ls_store_ingest_submissions(s, envs, lens, admit, NULL, n, results, hooks);
}

/* Stores one batch whose verification job was started: the attempts, the
 * hooks. Ends the job and frees items (and dr); next (may be NULL) is
 * started before the commit. */
static int
ingest_batch(struct ls_store *s, struct vjob *job, struct item *items, const uint8_t *admit,
	     struct deprej *dr, size_t n, struct ls_ingest_result *results,
	     const struct ls_ingest_hooks *hooks, struct ahead *next)
{
	struct wctx w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.dr = dr;
	w.next = next;
	for (int tries = 0;; tries++) {
		rc = attempt(s, job, admit, n, results, &w);
		if (rc != LS_ERR_FULL || w.disk_full || tries == MAX_GROW_RETRIES)
			break;
		/* The map grows with no read transaction open: also none of
		 * the next batch's verification. */
		vjob_quiesce(job);
		if (next != NULL && next->started)
			vjob_quiesce(&next->job);
		if (ls_store_grow_map(s) != 0)
			break;
	}
	/* Before anything is freed: the workers let go of the items. */
	vjob_end(job);
	if (rc == 0 && hooks != NULL) {
		for (size_t i = 0; hooks->accepted != NULL && i < w.acc.n; i++)
			hooks->accepted(hooks->arg, w.acc.v[i], w.acc.env[i], w.acc.len[i]);
		for (size_t i = 0; hooks->evidence != NULL && i < w.n_ev; i++)
			hooks->evidence(hooks->arg, w.ev[i].a, w.ev[i].la, w.ev[i].b, w.ev[i].lb);
	}
	ls_branch_free(&w.branch);
	ls_branch_free(&w.base);
	ls_custody_memo_free(&w.custody);
	dr_free(&w.dr);
	acc_release(&w.acc);
	ev_clear(&w);
	free(w.ev);
	for (size_t i = 0; i < n; i++)
		ls_record_free(items[i].rec);
	free(items);
	return rc;
}

int
ls_store_ingest_submissions(struct ls_store *s, const uint8_t *const *envs, const size_t *lens,
			    const uint8_t *admit, const uint32_t *subs, size_t n,
			    struct ls_ingest_result *results, const struct ls_ingest_hooks *hooks)
{
	struct deprej *dr = NULL;
	struct item *items;
	struct vjob job;
	bool local = false;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; admit != NULL && i < n && !local; i++)
		local = admit[i] >= LS_ADMIT_LOCAL;
	if (local && (rc = dr_new(n, subs, items, results, &dr)) != 0) {
		free(items);
		return rc;
	}
	if ((rc = vjob_start(s, &job, envs, lens, n, items, false)) != 0) {
		dr_free(&dr);
		free(items);
		return rc;
	}
	return ingest_batch(s, &job, items, admit, dr, n, results, hooks, NULL);
}

/* Sets up a's batch and its verification job; LS_ERR_NOMEM. */
static int
ahead_start(struct ls_store *s, struct ahead *a, bool no_txn)
{
	int rc;

	if (a->items == NULL && (a->items = calloc(a->n, sizeof(*a->items))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = vjob_start(s, &a->job, a->envs, a->lens, a->n, a->items, no_txn)) != 0)
		return rc;
	a->started = true;
	return 0;
}

/* A batch that will not be stored: its verification stops, its records go. */
static void
ahead_drop(struct ahead *a)
{
	if (a->started)
		vjob_end(&a->job);
	for (size_t i = 0; a->items != NULL && i < a->n; i++)
		ls_record_free(a->items[i].rec);
	free(a->items);
	memset(a, 0, sizeof(*a));
}

int
ls_store_ingest_run(struct ls_store *s, const uint8_t *const *envs, const size_t *lens, size_t n,
		    size_t batch, struct ls_ingest_result *results,
		    const struct ls_ingest_hooks *hooks, void (*step)(void *arg, size_t done),
		    void *step_arg)
{
	struct ahead a[2], *next;
	size_t cur = 0;
	int rc = 0;

	if (batch == 0)
		return LS_ERR_INVALID;
	memset(a, 0, sizeof(a));
	for (size_t at = 0; at < n && rc == 0; at += batch, cur ^= 1) {
		struct ahead *c = &a[cur], *nx = &a[cur ^ 1];
		size_t m = n - at < batch ? n - at : batch;
		if (!c->started) {
			/* the first batch, or one whose early start failed */
			c->envs = envs + at;
			c->lens = lens + at;
			c->n = m;
			if ((rc = ahead_start(s, c, false)) != 0)
				break;
		}
		next = NULL;
		if (at + m < n) {
			nx->envs = envs + at + m;
			nx->lens = lens + at + m;
			nx->n = n - at - m < batch ? n - at - m : batch;
			/* No memory for it now: it starts on its own later. */
			if ((nx->items = calloc(nx->n, sizeof(*nx->items))) != NULL)
				next = nx;
		}
		rc = ingest_batch(s, &c->job, c->items, NULL, NULL, m, results + at, hooks, next);
		memset(c, 0, sizeof(*c)); /* ingest_batch ended its job, freed its items */
		if (rc == 0 && step != NULL)
			step(step_arg, at + m);
	}
	ahead_drop(&a[0]);
	ahead_drop(&a[1]);
	return rc;
}

/* ---- evidence carried by a bundle ---- */

/* Checks one pair; LS_R_OK with both records decoded, or why it is not
 * evidence (the message in res). */
static enum ls_reason
evidence_check(const struct ls_bundle_evidence *e, struct ls_record **a, struct ls_record **b,
	       struct ls_ingest_result *res, int *err)
{
	struct ls_err_ctx ctx = {{0}};
	int rc;

	*err = 0;
	if ((rc = ls_record_decode(e->a, e->la, a, &ctx)) != 0 ||
	    (rc = ls_record_decode(e->b, e->lb, b, &ctx)) != 0) {
		if (rc == LS_ERR_NOMEM)
			*err = rc;
		set_result(res, LS_INGEST_REJECTED, LS_R_MALFORMED, "%s", ls_err_msg(&ctx, rc));
		return LS_R_MALFORMED;
	}
	res->has_id = true;
	memcpy(res->id, (*a)->id, LS_ID_LEN);
	res->type = (*a)->type;
	if (ls_record_verify(*a) != 0 || ls_record_verify(*b) != 0) {
		set_result(res, LS_INGEST_REJECTED, LS_R_BAD_SIGNATURE,
			   "a record of the pair has a bad signature");
		return LS_R_BAD_SIGNATURE;
	}
	if (memcmp((*a)->author, (*b)->author, LS_KEY_LEN) != 0 || (*a)->seq != (*b)->seq ||
	    memcmp((*a)->id, (*b)->id, LS_ID_LEN) == 0) {
		set_result(res, LS_INGEST_REJECTED, LS_R_MALFORMED,
			   "not two different records of one author with one seq");
		return LS_R_MALFORMED;
	}
	return LS_R_OK;
}

int
ls_store_evidence_add(struct ls_store *s, const struct ls_bundle_evidence *ev, size_t n,
		      struct ls_ingest_result *results)
{
	struct ls_txn t;
	int rc, mrc;

	if (!s->bundle_check)
		return LS_ERR_INVALID; /* a node keeps only evidence it stored itself */
	if (n == 0)
		return 0;
	if ((rc = ls_txn_begin(s, true, &t)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct ls_record *a = NULL, *b = NULL;
		struct ls_ingest_result *res = &results[i];
		bool has;
		memset(res, 0, sizeof(*res));
		if (evidence_check(&ev[i], &a, &b, res, &rc) == LS_R_OK &&
		    (rc = ls_txn_evidence_has(&t, a->author, a->seq, &has)) == 0) {
			/* The lower id first, as a node keeps it. */
			bool swap = memcmp(a->id, b->id, LS_ID_LEN) > 0;
			const struct ls_bundle_evidence *e = &ev[i];
			if (!has)
				rc = swap ? ls_txn_evidence_put(&t, a->author, a->seq, e->b, e->lb,
								e->a, e->la)
					  : ls_txn_evidence_put(&t, a->author, a->seq, e->a, e->la,
								e->b, e->lb);
			if (rc == 0)
				set_result(res, LS_INGEST_ACCEPTED, LS_R_OK, NULL);
		}
		ls_record_free(a);
		ls_record_free(b);
	}
	if (rc != 0) {
		ls_txn_abort(&t);
		return rc;
	}
	mrc = mdb_txn_commit(t.txn);
	t.txn = NULL;
	return ls_store_err(mrc);
}

int
ls_store_dates_put_n(struct ls_store *s, const uint8_t (*ids)[LS_ID_LEN], const uint64_t *qtimes,
		     size_t n)
{
	struct ls_txn t;
	int rc = 0, mrc;

	if (!s->bundle_check)
		return LS_ERR_INVALID; /* a node's logged times are its log's */
	if (n == 0)
		return 0;
	if ((rc = ls_txn_begin(s, true, &t)) != 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ls_txn_date_put(&t, ids[i], qtimes[i]);
	if (rc != 0) {
		ls_txn_abort(&t);
		return rc;
	}
	mrc = mdb_txn_commit(t.txn);
	t.txn = NULL;
	return ls_store_err(mrc);
}

int
ls_store_dates_put(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t qtime)
{
	return ls_store_dates_put_n(s, (const uint8_t(*)[LS_ID_LEN])id, &qtime, 1);
}
