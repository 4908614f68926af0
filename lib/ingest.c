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

#include "store_int.h"
#include "util.h"

#define MAX_GROW_RETRIES 8

struct item {
	struct ls_record *rec; /* NULL when decode or verify failed */
	int rc;
	struct ls_err_ctx ctx;
};

struct vjob {
	struct ls_store *s;
	const uint8_t *const *envs;
	const size_t *lens;
	struct item *items;
	size_t from, to;
};

static void *
verify_range(void *arg)
{
	struct vjob *j = arg;
	struct ls_txn t;
	bool have_txn = ls_txn_begin(j->s, false, &t) == 0;

	for (size_t i = j->from; i < j->to; i++) {
		struct item *it = &j->items[i];
		it->ctx.msg[0] = '\0';
		it->rc = ls_record_decode(j->envs[i], j->lens[i], &it->rec, &it->ctx);
		/* A record already stored is reported known whatever its
		 * signature bytes (the id covers the body, which was verified when
		 * it was stored): gossip brings many twice, and a verify costs
		 * more than the lookup. */
		if (it->rc == 0 && have_txn && ls_txn_has_record(&t, it->rec->id))
			continue;
		if (it->rc == 0 && ls_record_verify(it->rec) != 0) {
			it->rc = LS_ERR_SIGNATURE;
			ls_err_set(&it->ctx, LS_ERR_SIGNATURE, "bad signature on %s record",
				   ls_rtype_name(it->rec->type));
		}
	}
	if (have_txn)
		ls_txn_abort(&t);
	return NULL;
}

/* Decodes and verifies every envelope, on up to s->threads threads. */
static void
verify_all(struct ls_store *s, const uint8_t *const *envs, const size_t *lens, size_t n,
	   struct item *items)
{
	pthread_t th[8];
	struct vjob jobs[8];
	size_t nt = s->threads, started = 0;

	if (nt > 8)
		nt = 8;
	if (n < 64 || nt < 2)
		nt = 1;
	for (size_t t = 0; t < nt; t++) {
		jobs[t] = (struct vjob){s, envs, lens, items, n * t / nt, n * (t + 1) / nt};
		if (t > 0 && pthread_create(&th[t], NULL, verify_range, &jobs[t]) == 0)
			started |= (size_t)1 << t;
		else if (t > 0)
			verify_range(&jobs[t]);
	}
	verify_range(&jobs[0]);
	for (size_t t = 1; t < nt; t++)
		if (started & ((size_t)1 << t))
			pthread_join(th[t], NULL);
}

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
	uint64_t next_pos, pending;
	int err;        /* a store error: abort the batch */
	bool disk_full; /* the commit failed on the disk, not on the map */
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

static int
park(struct wctx *w, const struct ls_record *r, const uint8_t missing[LS_ID_LEN])
{
	uint8_t k[2 * LS_ID_LEN];
	uint8_t *env = NULL;
	size_t len;
	int rc;

	memcpy(k, missing, LS_ID_LEN);
	memcpy(k + LS_ID_LEN, r->id, LS_ID_LEN);
	if ((rc = ls_record_envelope(r, &env, &len)) != 0)
		return rc;
	rc = ls_txn_put(&w->t, w->t.s->pending, k, sizeof(k), env, len, 0);
	free(env);
	if (rc == 0)
		rc = ls_txn_put(&w->t, w->t.s->pwait, r->id, LS_ID_LEN, missing, LS_ID_LEN, 0);
	if (rc == 0)
		w->pending++;
	return rc;
}

/* Keeps both envelopes of an equivocation (once per author and seq), in id
 * order. */
static int
keep_evidence(struct wctx *w, const struct ls_record *r, const uint8_t other_id[LS_ID_LEN])
{
	uint8_t k[LS_KEY_LEN + 8], *ea = NULL, *eb = NULL, *val = NULL;
	size_t la = 0, lb = 0;
	MDB_val v, oenv;
	int rc;

	memcpy(k, r->author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, r->seq);
	if (ls_txn_get(&w->t, w->t.s->evidence, k, sizeof(k), &v) == 0)
		return 0;
	if ((rc = ls_txn_envelope(&w->t, other_id, &oenv)) != 0)
		return rc;
	if ((rc = ls_record_envelope(r, &eb, &lb)) != 0)
		return rc;
	la = oenv.mv_size;
	if ((ea = malloc(la)) == NULL || (val = malloc(4 + la + lb)) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	memcpy(ea, oenv.mv_data, la);
	/* The pair in id order: every node that sees both keeps the same bytes,
	 * whichever it saw first. */
	if (memcmp(r->id, other_id, LS_ID_LEN) < 0) {
		uint8_t *tp = ea;
		size_t tl = la;
		ea = eb;
		la = lb;
		eb = tp;
		lb = tl;
	}
	val[0] = (uint8_t)(la >> 24);
	val[1] = (uint8_t)(la >> 16);
	val[2] = (uint8_t)(la >> 8);
	val[3] = (uint8_t)la;
	memcpy(val + 4, ea, la);
	memcpy(val + 4 + la, eb, lb);
	if ((rc = ls_txn_put(&w->t, w->t.s->evidence, k, sizeof(k), val, 4 + la + lb, 0)) != 0)
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
	w->ev[w->n_ev++] = (struct evid){ea, eb, la, lb};
	ea = eb = NULL;
out:
	free(val);
	free(ea);
	free(eb);
	return rc;
}

/* Stores an accepted record: envelope by position, id index, feed, head. */
static int
store_record(struct wctx *w, const struct ls_record *r, uint8_t **env_out, size_t *len_out)
{
	struct ls_store *s = w->t.s;
	uint8_t pos[8], idv[9], fk[LS_KEY_LEN + 8], head[8 + LS_ID_LEN + 8];
	uint8_t *env = NULL;
	size_t len;
	int rc;

	if ((rc = ls_record_envelope(r, &env, &len)) != 0)
		return rc;
	ls_be64_put(pos, w->next_pos);
	memcpy(idv, pos, 8);
	idv[8] = (uint8_t)r->type;
	memcpy(fk, r->author, LS_KEY_LEN);
	ls_be64_put(fk + LS_KEY_LEN, r->seq);
	ls_be64_put(head, r->seq);
	memcpy(head + 8, r->id, LS_ID_LEN);
	ls_be64_put(head + 8 + LS_ID_LEN, r->timestamp);
	if ((rc = ls_txn_put(&w->t, s->recs, pos, 8, env, len, MDB_APPEND)) != 0 ||
	    (rc = ls_txn_put(&w->t, s->ids, r->id, LS_ID_LEN, idv, sizeof(idv), 0)) != 0 ||
	    (rc = ls_txn_put(&w->t, s->feeds, fk, sizeof(fk), r->id, LS_ID_LEN, 0)) != 0 ||
	    (rc = ls_txn_put(&w->t, s->heads, r->author, LS_KEY_LEN, head, sizeof(head), 0)) != 0) {
		free(env);
		return rc;
	}
	w->next_pos++;
	*env_out = env;
	*len_out = len;
	return 0;
}

/*
 * Takes one verified record through the checks. On a store error sets w->err.
 * *keep is set when the record was handed to w->acc (the caller must not free
 * it).
 */
static void
process(struct wctx *w, struct ls_record *r, struct ls_ingest_result *res, bool *keep)
{
	struct ls_store *s = w->t.s;
	uint8_t fk[LS_KEY_LEN + 8], missing[LS_ID_LEN], *env = NULL;
	uint64_t head_seq = 0, head_ts = 0;
	const uint8_t *head_id = NULL;
	char msg[LS_ERR_MSG_MAX] = "";
	char hex[2 * LS_ID_LEN + 1];
	enum ls_reason reason;
	MDB_val v;
	size_t len;
	int rc = 0; /* read when ls_rules_check_author fails with LS_R_STORE */

	*keep = false;
	if (res != NULL) {
		res->has_id = true;
		memcpy(res->id, r->id, LS_ID_LEN);
		res->type = r->type;
	}
	if (ls_txn_has_record(&w->t, r->id)) {
		set_result(res, LS_INGEST_KNOWN, LS_R_OK, "already stored");
		return;
	}
	if (ls_txn_get(&w->t, s->pwait, r->id, LS_ID_LEN, &v) == 0) {
		set_result(res, LS_INGEST_PENDING, LS_R_OK, "already waiting for %s",
			   ls_hex(v.mv_data, LS_ID_LEN, hex));
		return;
	}
	/* Equivocation: another record holds this author and seq. */
	memcpy(fk, r->author, LS_KEY_LEN);
	ls_be64_put(fk + LS_KEY_LEN, r->seq);
	if (ls_txn_get(&w->t, s->feeds, fk, sizeof(fk), &v) == 0) {
		uint8_t other[LS_ID_LEN];
		memcpy(other, v.mv_data, LS_ID_LEN);
		if ((rc = keep_evidence(w, r, other)) != 0) {
			w->err = rc;
			return;
		}
		set_result(
		    res, LS_INGEST_REJECTED, LS_R_EQUIVOCATION,
		    "equivocation: author already signed a different record at seq %llu (%s)",
		    (unsigned long long)r->seq, ls_hex(other, LS_ID_LEN, hex));
		return;
	}
	if (ls_txn_get(&w->t, s->heads, r->author, LS_KEY_LEN, &v) == 0 &&
	    v.mv_size == 8 + LS_ID_LEN + 8) {
		head_seq = ls_be64_get(v.mv_data);
		head_id = (const uint8_t *)v.mv_data + 8;
		head_ts = ls_be64_get((const uint8_t *)v.mv_data + 8 + LS_ID_LEN);
	}
	/* Everything below may park the record: count it against the bound. */
	if (r->seq > head_seq + 1 || ls_rules_missing(&w->t, r, missing)) {
		if (r->seq > head_seq + 1)
			memcpy(missing, r->prev, LS_ID_LEN);
		if (w->pending >= s->max_pending) {
			set_result(res, LS_INGEST_REJECTED, LS_R_PENDING_FULL,
				   "%llu records already wait for dependencies",
				   (unsigned long long)w->pending);
			return;
		}
		if ((rc = park(w, r, missing)) != 0) {
			w->err = rc;
			return;
		}
		set_result(res, LS_INGEST_PENDING, LS_R_OK, "waiting for %s",
			   ls_hex(missing, LS_ID_LEN, hex));
		return;
	}
	if (r->seq > 1 && (head_id == NULL || memcmp(r->prev, head_id, LS_ID_LEN) != 0)) {
		set_result(res, LS_INGEST_REJECTED, LS_R_BAD_PREV,
			   "%s record seq %llu: prev is not the author's record seq %llu",
			   ls_rtype_name(r->type), (unsigned long long)r->seq,
			   (unsigned long long)head_seq);
		return;
	}
	if (r->timestamp < head_ts) {
		set_result(res, LS_INGEST_REJECTED, LS_R_TIME_BACKWARDS,
			   "%s record seq %llu is dated before the author's previous record",
			   ls_rtype_name(r->type), (unsigned long long)r->seq);
		return;
	}
	reason = ls_rules_check_author(&w->t, r, ls_rtype_roles(r->type), msg, sizeof(msg));
	if (reason == LS_R_OK)
		reason = ls_rules_apply(&w->t, r, msg, sizeof(msg), &rc);
	if (reason == LS_R_STORE) {
		w->err = rc ? rc : LS_ERR_STORE;
		return;
	}
	if (reason != LS_R_OK) {
		set_result(res, LS_INGEST_REJECTED, reason, "%s", msg);
		return;
	}
	if ((rc = store_record(w, r, &env, &len)) != 0) {
		w->err = rc;
		return;
	}
	if ((rc = acc_push(&w->acc, r, env, len)) != 0) {
		free(env);
		w->err = rc;
		return;
	}
	*keep = true;
	set_result(res, LS_INGEST_ACCEPTED, LS_R_OK, NULL);
}

/* Pops the records parked on `id` and takes them through process(). */
static void
release(struct wctx *w, const uint8_t id[LS_ID_LEN])
{
	struct ls_store *s = w->t.s;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	struct ls_record **batch = NULL;
	size_t n = 0, cap = 0;
	int mrc;

	if ((mrc = mdb_cursor_open(w->t.txn, s->pending, &c)) != 0) {
		w->err = ls_store_err(mrc);
		return;
	}
	k.mv_size = LS_ID_LEN;
	k.mv_data = (void *)(uintptr_t)id;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ls_record *r = NULL;
		if (k.mv_size != 2 * LS_ID_LEN || memcmp(k.mv_data, id, LS_ID_LEN) != 0)
			break;
		if (ls_record_decode(v.mv_data, v.mv_size, &r, NULL) == 0) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				struct ls_record **nb = realloc(batch, ncap * sizeof(*nb));
				if (nb == NULL) {
					ls_record_free(r);
					w->err = LS_ERR_NOMEM;
					break;
				}
				batch = nb;
				cap = ncap;
			}
			batch[n++] = r;
		}
		mdb_del(w->t.txn, s->pwait, &(MDB_val){LS_ID_LEN, (uint8_t *)k.mv_data + LS_ID_LEN},
			NULL);
		if ((mrc = mdb_cursor_del(c, 0)) != 0) {
			w->err = ls_store_err(mrc);
			break;
		}
		if (w->pending > 0)
			w->pending--;
	}
	mdb_cursor_close(c);
	/* Lower seqs first, so that a parked run of one feed applies in one pass. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && batch[j - 1]->seq > batch[j]->seq; j--) {
			struct ls_record *tmp = batch[j];
			batch[j] = batch[j - 1];
			batch[j - 1] = tmp;
		}
	for (size_t i = 0; i < n; i++) {
		bool keep = false;
		if (w->err == 0)
			process(w, batch[i], NULL, &keep);
		if (!keep)
			ls_record_free(batch[i]);
	}
	free(batch);
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

static int
grow_map(struct ls_store *s)
{
	MDB_envinfo info;

	if (mdb_env_info(s->env, &info) != 0)
		return LS_ERR_STORE;
	if (info.me_mapsize >= (size_t)1 << 40)
		return LS_ERR_FULL;
	return mdb_env_set_mapsize(s->env, info.me_mapsize * 2) == 0 ? 0 : LS_ERR_FULL;
}

/* One attempt at the whole batch in one transaction. */
static int
attempt(struct ls_store *s, struct item *items, size_t n, struct ls_ingest_result *results,
	struct wctx *w)
{
	int rc, mrc;

	acc_clear(&w->acc);
	ev_clear(w);
	w->err = 0;
	w->disk_full = false;
	if ((rc = ls_txn_begin(s, true, &w->t)) != 0)
		return rc;
	if ((rc = ls_txn_get_u64(&w->t, s->meta, "next", 4, &w->next_pos)) != 0 ||
	    (rc = ls_txn_get_u64(&w->t, s->meta, "pending", 7, &w->pending)) != 0)
		goto fail;
	for (size_t i = 0; i < n && w->err == 0; i++) {
		struct ls_ingest_result *res = &results[i];
		bool keep = false;
		size_t before = w->acc.n;

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
		if (items[i].rc == LS_ERR_SIGNATURE) {
			res->has_id = true;
			memcpy(res->id, items[i].rec->id, LS_ID_LEN);
			res->type = items[i].rec->type;
			set_result(res, LS_INGEST_REJECTED, LS_R_BAD_SIGNATURE, "%s",
				   ls_err_msg(&items[i].ctx, items[i].rc));
			continue;
		}
		process(w, items[i].rec, res, &keep);
		if (keep)
			items[i].rec = NULL; /* owned by w->acc now */
		if (w->acc.n > before)
			release_from(w, before);
	}
	if (w->err != 0) {
		rc = w->err;
		goto fail;
	}
	if ((rc = ls_txn_put_u64(&w->t, s->meta, "next", 4, w->next_pos)) != 0 ||
	    (rc = ls_txn_put_u64(&w->t, s->meta, "pending", 7, w->pending)) != 0)
		goto fail;
	mrc = mdb_txn_commit(w->t.txn);
	w->t.txn = NULL;
	/* A full disk is not a full map: growing the map would not help. */
	w->disk_full = mrc != 0 && mrc != MDB_MAP_FULL && mrc != MDB_TXN_FULL;
	return ls_store_err(mrc);
fail:
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
	(void)admit; /* admission checks: see process() */
	struct item *items;
	struct wctx w;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return LS_ERR_NOMEM;
	memset(&w, 0, sizeof(w));
	verify_all(s, envs, lens, n, items);

	for (int tries = 0;; tries++) {
		/*
		 * A retry needs the records that an aborted attempt handed to
		 * w.acc back: decode again from the caller's bytes (rare path).
		 */
		for (size_t i = 0; tries > 0 && i < n; i++)
			if (items[i].rec == NULL && items[i].rc == 0)
				items[i].rc = ls_record_decode(envs[i], lens[i], &items[i].rec,
							       &items[i].ctx);
		rc = attempt(s, items, n, results, &w);
		if (rc != LS_ERR_FULL || w.disk_full || tries == MAX_GROW_RETRIES)
			break;
		if (grow_map(s) != 0)
			break;
	}
	if (rc == 0 && hooks != NULL) {
		for (size_t i = 0; hooks->accepted != NULL && i < w.acc.n; i++)
			hooks->accepted(hooks->arg, w.acc.v[i], w.acc.env[i], w.acc.len[i]);
		for (size_t i = 0; hooks->evidence != NULL && i < w.n_ev; i++)
			hooks->evidence(hooks->arg, w.ev[i].a, w.ev[i].la, w.ev[i].b, w.ev[i].lb);
	}
	acc_release(&w.acc);
	ev_clear(&w);
	free(w.ev);
	for (size_t i = 0; i < n; i++)
		ls_record_free(items[i].rec);
	free(items);
	return rc;
}
