/*
 * witstore.c - the witness state in the store (witness.h; layout in
 * store_int.h): the logs this daemon witnesses, their feed heads and last
 * cosigned notes, split-view evidence, the keys peers announced, what each
 * witness cosigned of this daemon's own log, and when authority records
 * were accepted.
 *
 * Each write is one durable transaction of its own, made on the daemon's
 * one loop between ingest batches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "util.h"
#include "witness.h"

#define WLOG_FIXED (32 + 8 + 32 + 1) /* log pk, size, root, k */

/* origin || '\n' (|| suffix): the key of one origin's rows. */
static size_t
okey(uint8_t *out, const char *origin, const void *suffix, size_t slen)
{
	size_t n = strlen(origin);

	memcpy(out, origin, n);
	out[n] = '\n';
	if (slen > 0)
		memcpy(out + n + 1, suffix, slen);
	return n + 1 + slen;
}

static bool
origin_ok(const char *origin)
{
	return origin != NULL && ls_note_name_ok(origin);
}

static int
wlog_decode(const char *origin, size_t olen, const MDB_val *v, struct ls_wlog *st)
{
	const uint8_t *p = v->mv_data;
	unsigned k;

	memset(st, 0, sizeof(*st));
	if (olen >= sizeof(st->origin) || v->mv_size < WLOG_FIXED)
		return LS_ERR_STORE;
	memcpy(st->origin, origin, olen);
	st->origin[olen] = '\0';
	memcpy(st->log_pk, p, 32);
	st->size = ls_be64_get(p + 32);
	memcpy(st->root, p + 40, 32);
	k = p[72];
	if (k > 64 || v->mv_size != WLOG_FIXED + (size_t)k * 32 + 8 + 1)
		return LS_ERR_STORE;
	st->range.n = st->size;
	st->range.k = k;
	memcpy(st->range.h, p + WLOG_FIXED, (size_t)k * 32);
	st->cosigned_at = ls_be64_get(p + WLOG_FIXED + k * 32);
	st->distrusted = p[WLOG_FIXED + k * 32 + 8] != 0;
	return 0;
}

static size_t
wlog_encode(const struct ls_wlog *st, uint8_t *out)
{
	unsigned k = st->range.k;

	memcpy(out, st->log_pk, 32);
	ls_be64_put(out + 32, st->size);
	memcpy(out + 40, st->root, 32);
	out[72] = (uint8_t)k;
	memcpy(out + WLOG_FIXED, st->range.h, (size_t)k * 32);
	ls_be64_put(out + WLOG_FIXED + k * 32, st->cosigned_at);
	out[WLOG_FIXED + k * 32 + 8] = st->distrusted ? 1 : 0;
	return WLOG_FIXED + (size_t)k * 32 + 9;
}

static int
wlog_get_txn(struct ls_txn *t, const char *origin, struct ls_wlog *st)
{
	MDB_val v;
	int rc;

	if ((rc = ls_txn_get(t, t->s->wlogs, origin, strlen(origin), &v)) != 0)
		return rc;
	return wlog_decode(origin, strlen(origin), &v, st);
}

static int
commit(struct ls_txn *t)
{
	int rc = ls_store_err(mdb_txn_commit(t->txn));

	t->txn = NULL;
	return rc;
}

int
ls_store_wlog_get(struct ls_store *s, const char *origin, struct ls_wlog *st)
{
	struct ls_txn t;
	int rc;

	if (!origin_ok(origin))
		return LS_ERR_NOT_FOUND;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = wlog_get_txn(&t, origin, st);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_wlogs_each(struct ls_store *s, int (*fn)(void *arg, const struct ls_wlog *st), void *arg)
{
	struct ls_wlog *st = malloc(sizeof(*st));
	MDB_cursor *c = NULL;
	struct ls_txn t;
	MDB_val k, v;
	int rc, mrc;

	if (st == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_begin(s, false, &t)) != 0) {
		free(st);
		return rc;
	}
	if ((mrc = mdb_cursor_open(t.txn, s->wlogs, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if ((rc = wlog_decode(k.mv_data, k.mv_size, &v, st)) != 0 ||
		    (rc = fn(arg, st)) != 0)
			goto out;
	}
	rc = mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	free(st);
	return rc;
}

int
ls_store_wnote_get(struct ls_store *s, const char *origin, char **note, size_t *len)
{
	struct ls_txn t;
	MDB_val v;
	int rc;

	*note = NULL;
	*len = 0;
	if (!origin_ok(origin))
		return LS_ERR_NOT_FOUND;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_get(&t, s->wnote, origin, strlen(origin), &v)) == 0) {
		if ((*note = malloc(v.mv_size + 1)) == NULL) {
			rc = LS_ERR_NOMEM;
		} else {
			memcpy(*note, v.mv_data, v.mv_size);
			(*note)[v.mv_size] = '\0';
			*len = v.mv_size;
		}
	}
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_wheads_each(struct ls_store *s, const char *origin,
		     int (*fn)(void *arg, const struct ls_whead *h), void *arg)
{
	uint8_t key[LS_NOTE_NAME_MAX + 1 + LS_KEY_LEN];
	size_t plen;
	MDB_cursor *c = NULL;
	struct ls_txn t;
	MDB_val k, v;
	int rc, mrc;

	if (!origin_ok(origin))
		return 0;
	plen = okey(key, origin, NULL, 0);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->wheads, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	k.mv_data = key;
	k.mv_size = plen;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct ls_whead h;
		if (k.mv_size != plen + LS_KEY_LEN || memcmp(k.mv_data, key, plen) != 0)
			break;
		if (v.mv_size != 8 + LS_ID_LEN) {
			rc = LS_ERR_STORE;
			goto out;
		}
		memcpy(h.author, (const uint8_t *)k.mv_data + plen, LS_KEY_LEN);
		h.seq = ls_be64_get(v.mv_data);
		memcpy(h.id, (const uint8_t *)v.mv_data + 8, LS_ID_LEN);
		if ((rc = fn(arg, &h)) != 0)
			goto out;
	}
	rc = mrc == 0 || mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_witness_commit(struct ls_store *s, const struct ls_wlog *prev, const struct ls_wlog *st,
			const char *note, size_t len, const struct ls_whead *heads, size_t n)
{
	uint8_t key[LS_NOTE_NAME_MAX + 1 + LS_KEY_LEN], val[WLOG_FIXED + 64 * 32 + 9];
	struct ls_wlog *cur = NULL;
	struct ls_txn t;
	int rc;

	if (!origin_ok(st->origin))
		return LS_ERR_INVALID;
	if ((cur = malloc(sizeof(*cur))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_begin(s, true, &t)) != 0) {
		free(cur);
		return rc;
	}
	/* compare and swap: nobody cosigned in between, and no split view
	 * came in */
	rc = wlog_get_txn(&t, st->origin, cur);
	if (rc == LS_ERR_NOT_FOUND) {
		rc = prev == NULL ? 0 : LS_ERR_EXISTS;
	} else if (rc == 0) {
		rc = prev == NULL || cur->distrusted || cur->size != prev->size ||
			     memcmp(cur->root, prev->root, LS_TLOG_HASH) != 0
			 ? LS_ERR_EXISTS
			 : 0;
	}
	if (rc != 0)
		goto out;
	if ((rc = ls_txn_put(&t, s->wlogs, st->origin, strlen(st->origin), val,
			     wlog_encode(st, val), 0)) != 0 ||
	    (rc = ls_txn_put(&t, s->wnote, st->origin, strlen(st->origin), note, len, 0)) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint8_t hv[8 + LS_ID_LEN];
		size_t kl = okey(key, st->origin, heads[i].author, LS_KEY_LEN);
		ls_be64_put(hv, heads[i].seq);
		memcpy(hv + 8, heads[i].id, LS_ID_LEN);
		if ((rc = ls_txn_put(&t, s->wheads, key, kl, hv, sizeof(hv), 0)) != 0)
			goto out;
	}
	rc = commit(&t);
out:
	ls_txn_abort(&t);
	free(cur);
	return rc;
}

int
ls_store_splitview_put(struct ls_store *s, const char *origin, const uint8_t log_pk[32],
		       const uint8_t *msg, size_t len, bool *added)
{
	uint8_t key[LS_NOTE_NAME_MAX + 1 + 8], val[WLOG_FIXED + 64 * 32 + 9], be[8];
	struct ls_wlog *st = NULL;
	MDB_cursor *c = NULL;
	size_t plen, count = 0;
	struct ls_txn t;
	MDB_val k, v;
	int rc, mrc;
	bool same = false;

	*added = false;
	if (!origin_ok(origin))
		return LS_ERR_INVALID;
	if ((st = malloc(sizeof(*st))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ls_txn_begin(s, true, &t)) != 0) {
		free(st);
		return rc;
	}
	plen = okey(key, origin, NULL, 0);
	if ((mrc = mdb_cursor_open(t.txn, s->splitviews, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	k.mv_data = key;
	k.mv_size = plen;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 8 || memcmp(k.mv_data, key, plen) != 0)
			break;
		count++;
		if (v.mv_size == len && memcmp(v.mv_data, msg, len) == 0)
			same = true;
	}
	mdb_cursor_close(c);
	c = NULL;
	if (mrc != 0 && mrc != MDB_NOTFOUND) {
		rc = ls_store_err(mrc);
		goto out;
	}
	if (!same && count < LS_WITNESS_SPLITS_MAX) {
		ls_be64_put(be, count);
		plen = okey(key, origin, be, 8);
		if ((rc = ls_txn_put(&t, s->splitviews, key, plen, msg, len, 0)) != 0)
			goto out;
		*added = true;
	}
	rc = wlog_get_txn(&t, origin, st);
	if (rc == LS_ERR_NOT_FOUND) {
		memset(st, 0, sizeof(*st));
		snprintf(st->origin, sizeof(st->origin), "%s", origin);
		memcpy(st->log_pk, log_pk, 32);
		ls_tlog_range_init(&st->range);
		rc = 0;
	}
	if (rc != 0)
		goto out;
	st->distrusted = true;
	if ((rc = ls_txn_put(&t, s->wlogs, origin, strlen(origin), val, wlog_encode(st, val), 0)) !=
	    0)
		goto out;
	rc = commit(&t);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	free(st);
	if (rc != 0)
		*added = false;
	return rc;
}

int
ls_store_splitviews_each(struct ls_store *s,
			 int (*fn)(void *arg, const char *origin, const uint8_t *msg, size_t len),
			 void *arg)
{
	char origin[LS_NOTE_NAME_MAX];
	MDB_cursor *c = NULL;
	struct ls_txn t;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->splitviews, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		size_t olen = k.mv_size - 9;
		if (k.mv_size < 10 || olen >= sizeof(origin)) {
			rc = LS_ERR_STORE;
			goto out;
		}
		memcpy(origin, k.mv_data, olen);
		origin[olen] = '\0';
		if ((rc = fn(arg, origin, v.mv_data, v.mv_size)) != 0)
			goto out;
	}
	rc = mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_peerlog_get(struct ls_store *s, const uint8_t node[LS_KEY_LEN], char log_vkey[LS_VKEY_MAX],
		     char wit_vkey[LS_VKEY_MAX])
{
	struct ls_txn t;
	const char *p, *nl;
	MDB_val v;
	int rc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_get(&t, s->peerlogs, node, LS_KEY_LEN, &v)) == 0) {
		p = v.mv_data;
		nl = memchr(p, '\n', v.mv_size);
		if (nl == NULL || (size_t)(nl - p) >= LS_VKEY_MAX ||
		    v.mv_size - (size_t)(nl - p) - 1 >= LS_VKEY_MAX) {
			rc = LS_ERR_STORE;
		} else {
			memcpy(log_vkey, p, (size_t)(nl - p));
			log_vkey[nl - p] = '\0';
			memcpy(wit_vkey, nl + 1, v.mv_size - (size_t)(nl - p) - 1);
			wit_vkey[v.mv_size - (size_t)(nl - p) - 1] = '\0';
		}
	}
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_peerlog_put(struct ls_store *s, const uint8_t node[LS_KEY_LEN], const char *log_vkey,
		     const char *wit_vkey)
{
	char val[2 * LS_VKEY_MAX];
	size_t a = strlen(log_vkey), b = strlen(wit_vkey);
	struct ls_txn t;
	int rc;

	if (a >= LS_VKEY_MAX || b >= LS_VKEY_MAX || memchr(log_vkey, '\n', a) != NULL)
		return LS_ERR_INVALID;
	memcpy(val, log_vkey, a);
	val[a] = '\n';
	memcpy(val + a + 1, wit_vkey, b);
	if ((rc = ls_txn_begin(s, true, &t)) != 0)
		return rc;
	if ((rc = ls_txn_put(&t, s->peerlogs, node, LS_KEY_LEN, val, a + 1 + b, 0)) == 0)
		rc = commit(&t);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_cosigner_get(struct ls_store *s, const uint8_t wit[32], uint64_t *size, uint64_t *time,
		      char line[LS_WITNESS_LINE_MAX])
{
	struct ls_txn t;
	MDB_val v;
	int rc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_get(&t, s->cosigners, wit, 32, &v)) == 0) {
		const uint8_t *p = v.mv_data;
		if (v.mv_size < 16 || v.mv_size - 16 >= LS_WITNESS_LINE_MAX) {
			rc = LS_ERR_STORE;
		} else {
			*size = ls_be64_get(p);
			*time = ls_be64_get(p + 8);
			if (line != NULL) {
				memcpy(line, p + 16, v.mv_size - 16);
				line[v.mv_size - 16] = '\0';
			}
		}
	}
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_cosigner_put(struct ls_store *s, const uint8_t wit[32], uint64_t size, uint64_t time,
		      const char *line)
{
	uint8_t val[16 + LS_WITNESS_LINE_MAX];
	size_t n = strlen(line);
	struct ls_txn t;
	int rc;

	if (n >= LS_WITNESS_LINE_MAX)
		return LS_ERR_INVALID;
	ls_be64_put(val, size);
	ls_be64_put(val + 8, time);
	memcpy(val + 16, line, n);
	if ((rc = ls_txn_begin(s, true, &t)) != 0)
		return rc;
	if ((rc = ls_txn_put(&t, s->cosigners, wit, 32, val, 16 + n, 0)) == 0)
		rc = commit(&t);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_authtime_each(void *store, uint64_t before,
		       int (*fn)(void *fa, const uint8_t author[LS_KEY_LEN], uint64_t seq),
		       void *fa)
{
	struct ls_store *s = store;
	MDB_cursor *c = NULL;
	struct ls_txn t;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->authtime, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != LS_KEY_LEN + 8 || v.mv_size != 8) {
			rc = LS_ERR_STORE;
			goto out;
		}
		if (ls_be64_get(v.mv_data) >= before)
			continue;
		if ((rc = fn(fa, k.mv_data,
			     ls_be64_get((const uint8_t *)k.mv_data + LS_KEY_LEN))) != 0)
			goto out;
	}
	rc = mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}
