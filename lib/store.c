/*
 * store.c - opening the LMDB store, transactions and the read API.
 * The write path is in ingest.c, typed tables in tables.c, the rules of each
 * record kind in kind/.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store_int.h"
#include "util.h"

/*
 * The map is address space, not disk: LMDB maps it whole but the file only
 * grows as pages are written. A map this large never needs to grow in the
 * life of a ledger (about 250 million records), so readers on other threads
 * never meet a resize (mdb_env_set_mapsize may only be called with no
 * transaction active in the process). Where the address space is smaller
 * (a ulimit -v), the open halves it down to MIN_MAP_SIZE; a map that fills
 * still grows by doubling (ls_store_grow_map, after a write transaction
 * failed full): it holds back new read transactions, waits until every
 * read transaction of the process has ended, grows and lets them go on
 * (store_int.h, rthreads).
 */
#define DEFAULT_MAP_SIZE    (256ull << 30)
#define MIN_MAP_SIZE        (64ull << 20)
#define DEFAULT_MAX_PENDING 100000
/* Read transactions open at once: with MDB_NOTLS each takes a slot, and a
 * daemon has up to 64 reader threads (a bundle nests two transactions),
 * the ingest's verifier threads and its main thread. */
#define MAX_READERS 512

int
ls_store_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS: return 0;
	case MDB_NOTFOUND: return LS_ERR_NOT_FOUND;
	case MDB_KEYEXIST: return LS_ERR_EXISTS;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case ENOSPC: return LS_ERR_FULL;
	case ENOMEM: return LS_ERR_NOMEM;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID: return LS_ERR_VERSION;
	default: return LS_ERR_STORE;
	}
}

/* Bytes free on the store's file system under which an EIO is a full disk. */
#define LOW_SPACE ((uint64_t)1 << 20)

int
ls_store_commit_err(const struct ls_store *s, int mrc)
{
	const char *dir = NULL;
	struct statvfs v;

	if (mrc == EIO && mdb_env_get_path(s->env, &dir) == 0 && dir != NULL &&
	    statvfs(dir, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < LOW_SPACE)
		return LS_ERR_FULL;
	return ls_store_err(mrc);
}

/* s->rthreads: the entry of thread th, or SIZE_MAX. Under readmu. */
static size_t
rthread_find(const struct ls_store *s, pthread_t th)
{
	for (size_t i = 0; i < s->n_rthreads; i++)
		if (pthread_equal(s->rthreads[i].th, th))
			return i;
	return SIZE_MAX;
}

/* Counts a read transaction of this thread; waits while the map grows
 * unless the thread has one open already. LS_ERR_NOMEM. */
static int
read_enter(struct ls_store *s)
{
	pthread_t self = pthread_self();
	size_t i;

	pthread_mutex_lock(&s->readmu);
	if ((i = rthread_find(s, self)) != SIZE_MAX) {
		s->rthreads[i].depth++;
		pthread_mutex_unlock(&s->readmu);
		return 0;
	}
	while (s->growing)
		pthread_cond_wait(&s->readcv, &s->readmu);
	if (s->n_rthreads == s->cap_rthreads) {
		size_t cap = s->cap_rthreads ? 2 * s->cap_rthreads : 16;
		struct ls_read_thread *n = realloc(s->rthreads, cap * sizeof(*n));
		if (n == NULL) {
			pthread_mutex_unlock(&s->readmu);
			return LS_ERR_NOMEM;
		}
		s->rthreads = n;
		s->cap_rthreads = cap;
	}
	s->rthreads[s->n_rthreads++] = (struct ls_read_thread){self, 1};
	pthread_mutex_unlock(&s->readmu);
	return 0;
}

static void
read_leave(struct ls_store *s, pthread_t th)
{
	size_t i;

	pthread_mutex_lock(&s->readmu);
	if ((i = rthread_find(s, th)) != SIZE_MAX && --s->rthreads[i].depth == 0) {
		s->rthreads[i] = s->rthreads[--s->n_rthreads];
		if (s->n_rthreads == 0)
			pthread_cond_broadcast(&s->readcv);
	}
	pthread_mutex_unlock(&s->readmu);
}

int
ls_txn_begin(struct ls_store *s, bool write, struct ls_txn *t)
{
	int rc;

	t->s = s;
	t->txn = NULL;
	t->branch = NULL;
	t->replay = false;
	t->readonly = !write;
	t->memo = NULL;
	t->qc = NULL;
	t->quorum_state = 0;
	t->custody = NULL;
	t->n_records = t->n_reads = t->n_seeks = 0;
	t->apply_pos = 0;
	t->lots_cursor = NULL;
	t->counted = false;
	if (s->map_lost)
		return LS_ERR_STORE;
	if (!write) {
		if ((rc = read_enter(s)) != 0)
			return rc;
		t->counted = true;
		t->owner = pthread_self();
	}
	rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt the new size (only with no
		 * read transaction open in this process; never wait for one
		 * here: this thread may hold one) and retry. */
		if (t->counted)
			read_leave(s, t->owner);
		pthread_mutex_lock(&s->readmu);
		if (s->n_rthreads == 0)
			mdb_env_set_mapsize(s->env, 0);
		pthread_mutex_unlock(&s->readmu);
		if (t->counted && (rc = read_enter(s)) != 0) {
			t->counted = false;
			return rc;
		}
		rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, &t->txn);
	}
	if (rc != 0) {
		t->txn = NULL;
		if (t->counted)
			read_leave(s, t->owner);
		t->counted = false;
	}
	return ls_store_err(rc);
}

/* Whether a map of size bytes fits this process's address space now: LMDB
 * unmaps the old map before it maps the new one, and cannot map the old one
 * again when the new one fails. */
static bool
map_fits(size_t size)
{
	void *p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	munmap(p, size);
	return true;
}

int
ls_store_grow_map(struct ls_store *s)
{
	MDB_envinfo info;
	int rc;

	pthread_mutex_lock(&s->readmu);
	if (rthread_find(s, pthread_self()) != SIZE_MAX) {
		pthread_mutex_unlock(&s->readmu);
		return LS_ERR_FULL;
	}
	while (s->growing)
		pthread_cond_wait(&s->readcv, &s->readmu);
	s->growing = true;
	while (s->n_rthreads > 0)
		pthread_cond_wait(&s->readcv, &s->readmu);
	if (mdb_env_info(s->env, &info) != 0)
		rc = LS_ERR_STORE;
	else if (info.me_mapsize >= (size_t)1 << 40)
		rc = LS_ERR_FULL;
	else if (!map_fits(info.me_mapsize * 2))
		rc = LS_ERR_FULL; /* no address space for it (a ulimit -v, valgrind) */
	else if (mdb_env_set_mapsize(s->env, info.me_mapsize * 2) == 0)
		rc = 0;
	else {
		/* LMDB unmapped the old map before it failed to map the new
		 * one, and nothing short of reopening the environment maps it
		 * again: every transaction now fails (LS_ERR_STORE) instead of
		 * reading the unmapped map; the operator restarts. */
		s->map_lost = true;
		rc = LS_ERR_STORE;
	}
	s->growing = false;
	pthread_cond_broadcast(&s->readcv);
	pthread_mutex_unlock(&s->readmu);
	return rc;
}

static void
free_val(void *arg, const uint8_t id[32], void *val)
{
	(void)arg;
	(void)id;
	free(val);
}

void
ls_txn_abort(struct ls_txn *t)
{
	if (t->lots_cursor != NULL)
		mdb_cursor_close(t->lots_cursor);
	t->lots_cursor = NULL;
	if (t->txn != NULL)
		mdb_txn_abort(t->txn);
	t->txn = NULL;
	ls_qcache_free(&t->qc);
	if (t->counted)
		read_leave(t->s, t->owner);
	t->counted = false;
	if (t->memo != NULL) {
		ls_idmap_each(t->memo, free_val, NULL);
		ls_idmap_free(&t->memo);
	}
}

int
ls_txn_get(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val)
{
	MDB_val k = {klen, (void *)(uintptr_t)key};

	t->n_reads++;
	t->n_seeks++;
	return ls_store_err(mdb_get(t->txn, dbi, &k, val));
}

int
ls_txn_put(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, const void *val,
	   size_t vlen, unsigned flags)
{
	MDB_val k = {klen, (void *)(uintptr_t)key}, v = {vlen, (void *)(uintptr_t)val};
	return ls_store_err(mdb_put(t->txn, dbi, &k, &v, flags));
}

int
ls_txn_get_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t *v)
{
	MDB_val val;
	int rc = ls_txn_get(t, dbi, key, klen, &val);

	if (rc != 0)
		return rc;
	if (val.mv_size < 8)
		return LS_ERR_STORE;
	*v = ls_be64_get(val.mv_data);
	return 0;
}

int
ls_txn_put_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t v)
{
	uint8_t b[8];
	ls_be64_put(b, v);
	return ls_txn_put(t, dbi, key, klen, b, 8, 0);
}

void
ls_store_setsum_add(uint8_t sum[LS_ID_LEN], const uint8_t id[LS_ID_LEN])
{
	unsigned carry = 0;

	for (size_t i = 0; i < LS_ID_LEN; i++) {
		carry += (unsigned)sum[i] + id[i];
		sum[i] = (uint8_t)carry;
		carry >>= 8;
	}
}

int
ls_txn_setsum(struct ls_txn *t, uint8_t sum[LS_ID_LEN])
{
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = ls_txn_get(t, t->s->meta, "setsum", 6, &v);

	memset(sum, 0, LS_ID_LEN);
	if (rc == 0) {
		if (v.mv_size != LS_ID_LEN)
			return LS_ERR_STORE;
		memcpy(sum, v.mv_data, LS_ID_LEN);
		return 0;
	}
	if (rc != LS_ERR_NOT_FOUND)
		return rc;
	/* A store made before the digest: add up its ids once. */
	if ((rc = mdb_cursor_open(t->txn, t->s->ids, &cur)) != 0)
		return ls_store_err(rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != LS_ID_LEN) {
			mdb_cursor_close(cur);
			return LS_ERR_STORE;
		}
		if (v.mv_size == LS_IDS_LOT_VLEN)
			continue; /* a transformation's output lot, not a record */
		ls_store_setsum_add(sum, k.mv_data);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : ls_store_err(rc);
}

int
ls_txn_ids_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN], MDB_val *v)
{
	int rc = ls_txn_get(t, t->s->ids, id, LS_ID_LEN, v);

	if (rc == 0 && v->mv_size == LS_IDS_LOT_VLEN)
		return LS_ERR_NOT_FOUND; /* a transformation's output lot */
	return rc;
}

int
ls_txn_record_pos(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *pos)
{
	MDB_val v;
	int rc = ls_txn_ids_record(t, id, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size < 8)
		return LS_ERR_STORE;
	*pos = ls_be64_get(v.mv_data);
	return 0;
}

int
ls_txn_record_type(struct ls_txn *t, const uint8_t id[LS_ID_LEN], enum ls_rtype *type)
{
	MDB_val v;
	int rc = ls_txn_ids_record(t, id, &v);

	if (rc != 0)
		return rc;
	if (v.mv_size < 9)
		return LS_ERR_STORE;
	*type = (enum ls_rtype)((const uint8_t *)v.mv_data)[8];
	return 0;
}

int
ls_txn_record_has(struct ls_txn *t, const uint8_t id[LS_ID_LEN])
{
	MDB_val v;
	return ls_txn_ids_record(t, id, &v);
}

bool
ls_txn_has_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN])
{
	return ls_txn_record_has(t, id) == 0;
}

int
ls_txn_envelope(struct ls_txn *t, const uint8_t id[LS_ID_LEN], MDB_val *env)
{
	uint8_t k[8];
	uint64_t pos;
	int rc = ls_txn_record_pos(t, id, &pos);

	if (rc != 0)
		return rc;
	ls_be64_put(k, pos);
	t->n_records++;
	return ls_txn_get(t, t->s->recs, k, 8, env);
}

int
ls_txn_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN], struct ls_record **r)
{
	MDB_val env;
	int rc = ls_txn_envelope(t, id, &env);

	*r = NULL;
	if (rc != 0)
		return rc;
	rc = ls_record_decode(env.mv_data, env.mv_size, r, NULL);
	return rc == 0 ? 0 : LS_ERR_STORE;
}

int
ls_txn_lot_def(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_record **rec,
	       const struct ls_lotdef **def)
{
	struct ls_lot_info info;
	int rc;

	*rec = NULL;
	if ((rc = ls_txn_lot(t, lot, &info)) != 0)
		return rc;
	if ((rc = ls_txn_record(t, info.rec, rec)) != 0)
		return rc;
	if (info.index == LS_LOT_REGISTRATION && (*rec)->type == LS_REC_LOT) {
		*def = &(*rec)->lot.lot;
		return 0;
	}
	if ((*rec)->type == LS_REC_TRANSFORMATION &&
	    info.index < (*rec)->transformation.n_outputs) {
		*def = &(*rec)->transformation.outputs[info.index];
		return 0;
	}
	ls_record_free(*rec);
	*rec = NULL;
	return LS_ERR_STORE;
}

bool
ls_store_is_anchor(const struct ls_store *s, const uint8_t key[LS_KEY_LEN])
{
	for (size_t i = 0; i < s->n_anchors; i++)
		if (memcmp(s->anchors[i], key, LS_KEY_LEN) == 0)
			return true;
	return false;
}

/* ---- open and close ---- */

struct dbdef {
	const char *name;
	unsigned flags;
	size_t off;
};

#define DB(n, f)                                                                                   \
	{                                                                                          \
#n, f, offsetof(struct ls_store, n)                                                \
	}
static const struct dbdef dbs[] = {
    DB(meta, 0),      DB(recs, 0),       DB(ids, 0),
    DB(feeds, 0),     DB(heads, 0),      DB(certs, 0),
    DB(revoked, 0),   DB(pending, 0),    DB(pwait, 0),
    DB(evidence, 0),  DB(lots, 0),       DB(labels, MDB_DUPSORT),
    DB(holds, 0),     DB(transit, 0),    DB(licused, 0),
    DB(children, 0),  DB(policies, 0),   DB(licnum, MDB_DUPSORT),
    DB(techs, 0),     DB(porder, 0),     DB(pauthors, 0),
    DB(forks, 0),     DB(pstrange, 0),   DB(flows, 0),
    DB(logleaf, 0),   DB(lognode, 0),    DB(hseal, 0),
    DB(cpoints, 0),   DB(quorum, 0),     DB(wlogs, 0),
    DB(wnote, 0),     DB(wheads, 0),     DB(peerlogs, 0),
    DB(cosigners, 0), DB(splitviews, 0), DB(authtime, 0),
    DB(dates, 0),     DB(lictee, 0),
};

static int
lock_dir(const char *dir, int *fd, struct ls_err_ctx *ctx)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/lodestone.lock", dir) >= sizeof(path))
		return ls_err_set(ctx, LS_ERR_INVALID, "data dir path too long");
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return ls_err_set(ctx, LS_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return ls_err_set(ctx, LS_ERR_LOCKED,
					  "data dir '%s' is in use by another process", dir);
		return ls_err_set(ctx, LS_ERR_IO, "cannot lock '%s': %s", path, strerror(e));
	}
	return 0;
}

/*
 * Creates *out and opens it on dir with a map of map_size bytes, or of the
 * largest half, quarter, ... down to MIN_MAP_SIZE that this process's address
 * space takes (a ulimit -v; valgrind, which refuses a mapping that large
 * outright). Every open of a store goes through here: an earlier run's
 * recorded map (256 GiB) may not fit this process. LMDB never maps less than
 * the data the file holds. 0, or an LMDB error with *out NULL.
 */
static int
env_open_fitting(const char *dir, unsigned flags, unsigned maxdbs, unsigned maxreaders,
		 size_t map_size, MDB_env **out)
{
	int rc;

	for (;;) {
		if ((rc = mdb_env_create(out)) != 0)
			return rc;
		if ((rc = mdb_env_set_maxdbs(*out, maxdbs)) == 0 &&
		    (rc = mdb_env_set_maxreaders(*out, maxreaders)) == 0 &&
		    (rc = mdb_env_set_mapsize(*out, map_size)) == 0 &&
		    (rc = mdb_env_open(*out, dir, flags, 0600)) == 0)
			return 0;
		/* a failed open leaves the env to be closed */
		mdb_env_close(*out);
		*out = NULL;
		/* no address space for the map (ENOMEM; EINVAL where a
		 * mapping that large is refused outright, as under valgrind):
		 * try half */
		if ((rc != ENOMEM && rc != EINVAL) || map_size / 2 < MIN_MAP_SIZE)
			return rc;
		map_size /= 2;
	}
}

/*
 * data.mdb's tail. Linux caches a file in folios of many pages where it can
 * (ext4 since 6.16): LMDB appends its new pages in writes of up to 64
 * pages, which the kernel caches as folios of that size, and every later
 * 4 KB write into such a folio (LMDB's copy-on-write reuses freed pages all
 * over the file) costs the kernel in proportion to the whole folio: 10 to
 * 15 us a page against 4 to 5 for a single page, measured on the build
 * machine, and with random-key tables (ids, holds) dirtying a page or two
 * per record on a large store, that was most of what ingest lost as the
 * ledger grew. So the writer keeps the file's next TAIL_AHEAD bytes (or
 * twice what a commit adds) past the data in the page cache as single pages before LMDB writes
 * there: the file is extended (a sparse hole, no disk space) and read through its own descriptor
 * with readahead off (POSIX_FADV_RANDOM), which caches what it reads page by page; LMDB's writes
 * then land in those pages. LMDB reads the data's extent from its meta page, not from the file's
 * size, so a longer file changes nothing for it (nor for a copy, which stops at the data). What the
 * page cache drops and reads back later may come back in large folios (readahead through the map):
 * the gain is then lost there, nothing else.
 */
#define TAIL_AHEAD ((uint64_t)8 << 20) /* prepared past the data, at least */
#define TAIL_MAX   ((uint64_t)1 << 30) /* and at most */
#define TAIL_READ  ((size_t)256 << 10)

static void
tail_off(struct ls_store *s)
{
	if (s->tail_fd >= 0)
		close(s->tail_fd);
	s->tail_fd = -1;
}

static void
tail_open(struct ls_store *s, const char *dir)
{
	char path[4096];
	MDB_stat ms;

	if (s->bundle_check ||
	    (size_t)snprintf(path, sizeof(path), "%s/data.mdb", dir) >= sizeof(path))
		return;
	if (mdb_env_stat(s->env, &ms) != 0 || ms.ms_psize == 0 ||
	    (s->tail_buf = malloc(TAIL_READ)) == NULL)
		return;
	s->psize = ms.ms_psize;
	if ((s->tail_fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return;
	if (posix_fadvise(s->tail_fd, 0, 0, POSIX_FADV_RANDOM) != 0)
		tail_off(s);
}

void
ls_store_tail_prepare(struct ls_store *s, uint64_t hint)
{
	MDB_envinfo info;
	struct stat st;
	uint64_t data, grew, ahead, from, to;

	if (s->tail_fd < 0 || mdb_env_info(s->env, &info) != 0)
		return;
	data = ((uint64_t)info.me_last_pgno + 1) * s->psize;
	/* Ahead by twice what this commit may add (the caller's hint) or the
	 * last one added, at least: a large batch writes far past the data. */
	grew = s->tail_data != 0 && data > s->tail_data ? data - s->tail_data : 0;
	s->tail_data = data;
	if (hint < grew)
		hint = grew;
	ahead = hint > TAIL_AHEAD / 2 ? (hint < TAIL_MAX / 2 ? 2 * hint : TAIL_MAX) : TAIL_AHEAD;
	if (s->tail_end >= data + ahead / 2)
		return;
	from = s->tail_end > data ? s->tail_end : data;
	/* LMDB writes nothing past its map (MDB_MAP_FULL first). */
	to = data + ahead < info.me_mapsize ? data + ahead : info.me_mapsize;
	if (to <= from)
		return;
	/* Only ever longer: LMDB's own writes may have made it so already. */
	if (fstat(s->tail_fd, &st) != 0 ||
	    ((uint64_t)st.st_size < to && ftruncate(s->tail_fd, (off_t)to) != 0)) {
		tail_off(s);
		return;
	}
	for (uint64_t off = from; off < to;) {
		size_t want = to - off < TAIL_READ ? (size_t)(to - off) : TAIL_READ;
		ssize_t got = pread(s->tail_fd, s->tail_buf, want, (off_t)off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			tail_off(s);
			return;
		}
		off += (uint64_t)got;
	}
	s->tail_end = to;
}

int
ls_store_open(const char *dir, const struct ls_store_opts *opts, struct ls_store **out,
	      struct ls_err_ctx *ctx)
{
	struct ls_store *s = NULL;
	struct ls_txn t = {.s = NULL};
	MDB_val v;
	int rc, dead = 0;
	long ncpu;
	size_t map_size;

	*out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ls_err_set(ctx, LS_ERR_IO, "cannot create data dir '%s': %s", dir,
				  strerror(errno));
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return LS_ERR_NOMEM;
	s->lockfd = -1;
	s->tail_fd = -1;
	if (pthread_mutex_init(&s->readmu, NULL) != 0) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if (pthread_cond_init(&s->readcv, NULL) != 0) {
		pthread_mutex_destroy(&s->readmu);
		rc = LS_ERR_NOMEM;
		goto out;
	}
	s->read_sync_made = true;
	if ((rc = lock_dir(dir, &s->lockfd, ctx)) != 0)
		goto out;
	if (opts != NULL && opts->n_anchors > 0) {
		s->anchors = malloc(opts->n_anchors * LS_KEY_LEN);
		if (s->anchors == NULL) {
			rc = LS_ERR_NOMEM;
			goto out;
		}
		memcpy(s->anchors, opts->anchors, opts->n_anchors * LS_KEY_LEN);
		s->n_anchors = opts->n_anchors;
	}
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	s->bundle_check = opts != NULL && opts->bundle_check;
	s->no_log = s->bundle_check || (opts != NULL && opts->no_log);
	s->threads = opts != NULL && opts->verify_threads ? opts->verify_threads
		     : ncpu < 1                           ? 1
		     : ncpu > 4                           ? 4
							  : (unsigned)ncpu;
	s->max_pending =
	    opts != NULL && opts->max_pending ? opts->max_pending : DEFAULT_MAX_PENDING;
	/* One author may fill an eighth of the set (at least 64 records). */
	s->pending_quota = s->max_pending / 8 > 64 ? s->max_pending / 8 : 64;
	if (s->pending_quota > s->max_pending)
		s->pending_quota = s->max_pending;
	/* Strangers together a quarter of it (all of a tiny set). */
	s->strangers_max = s->max_pending >= 4 ? s->max_pending / 4 : s->max_pending;

	map_size = opts != NULL && opts->map_size ? opts->map_size : DEFAULT_MAP_SIZE;
	/* Durable commits: no MDB_NOSYNC or MDB_MAPASYNC. MDB_NOTLS: read
	 * transactions may be used from any thread. */
	if ((rc = env_open_fitting(dir, MDB_NOTLS, sizeof(dbs) / sizeof(dbs[0]) + 1, MAX_READERS,
				   map_size, &s->env)) != 0) {
		rc = ls_err_set(ctx, ls_store_err(rc), "cannot open store in '%s': %s", dir,
				mdb_strerror(rc));
		goto out;
	}
	mdb_reader_check(s->env, &dead);
	/* No mdb_env_set_mapsize(0) to adopt an earlier run's size: LMDB
	 * already maps at least the data the file holds, and an earlier run's
	 * larger map may not fit this process's address space (a remap that
	 * fails leaves the environment unusable). */

	if ((rc = ls_txn_begin(s, true, &t)) != 0) {
		rc = ls_err_set(ctx, rc, "cannot open store in '%s': %s", dir, ls_strerror(rc));
		goto out;
	}
	for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		MDB_dbi *dbi = (MDB_dbi *)(void *)((char *)s + dbs[i].off);
		if ((rc = mdb_dbi_open(t.txn, dbs[i].name, MDB_CREATE | dbs[i].flags, dbi)) != 0) {
			rc = ls_err_set(ctx, ls_store_err(rc), "cannot open table '%s': %s",
					dbs[i].name, mdb_strerror(rc));
			goto out;
		}
	}
	rc = ls_txn_get(&t, s->meta, "version", 7, &v);
	if (rc == LS_ERR_NOT_FOUND) {
		uint8_t b[4] = {0, 0, 0, LS_STORE_LAYOUT_VERSION};
		if ((rc = ls_txn_put(&t, s->meta, "version", 7, b, 4, 0)) != 0 ||
		    (rc = ls_txn_put_u64(&t, s->meta, "next", 4, 1)) != 0 ||
		    (rc = ls_txn_put_u64(&t, s->meta, "pending", 7, 0)) != 0 ||
		    (rc = ls_txn_put_u64(&t, s->meta, "logsize", 7, 0)) != 0 ||
		    (rc = ls_txn_put_u64(&t, s->meta, "sealed", 6, 0)) != 0 ||
		    (s->no_log && (rc = ls_txn_put_u64(&t, s->meta, "nolog", 5, 1)) != 0)) {
			rc = ls_err_set(ctx, rc, "cannot initialise store in '%s': %s", dir,
					ls_strerror(rc));
			goto out;
		}
	} else if (rc != 0) {
		rc = ls_err_set(ctx, rc, "cannot read store in '%s'", dir);
		goto out;
	} else if (v.mv_size != 4 || ((uint8_t *)v.mv_data)[3] > LS_STORE_LAYOUT_VERSION ||
		   ((uint8_t *)v.mv_data)[0] != 0) {
		rc = ls_err_set(ctx, LS_ERR_VERSION,
				"store in '%s' has a layout newer than this build knows (%u)", dir,
				LS_STORE_LAYOUT_VERSION);
		goto out;
	} else if (((uint8_t *)v.mv_data)[3] != LS_STORE_LAYOUT_VERSION &&
		   ((uint8_t *)v.mv_data)[3] != 8) {
		rc = ls_err_set(ctx, LS_ERR_VERSION,
				"store in '%s' has layout version %u, this build uses %u: run "
				"'lodestoned --reindex' to rebuild it",
				dir, ((uint8_t *)v.mv_data)[3], LS_STORE_LAYOUT_VERSION);
		goto out;
	} else {
		/* Whether the store keeps the log was decided when it was made:
		 * a log with records missing would be no log at all. */
		uint64_t nolog = 0;
		if (((uint8_t *)v.mv_data)[3] == 8) {
			/* 8 to 9 in place: the licenses by licensee, from the
			 * licenses the store holds (one transaction: all or
			 * nothing). */
			uint8_t b[4] = {0, 0, 0, LS_STORE_LAYOUT_VERSION};
			if ((rc = ls_txn_lictee_build(&t)) != 0 ||
			    (rc = ls_txn_put(&t, s->meta, "version", 7, b, 4, 0)) != 0) {
				/* A damaged store (a license number naming no
				 * license) is rebuilt from its records. */
				rc = ls_err_set(ctx, rc,
						"cannot bring store in '%s' to layout %u: %s%s",
						dir, LS_STORE_LAYOUT_VERSION, ls_strerror(rc),
						rc == LS_ERR_STORE
						    ? " (run 'lodestoned --reindex' to rebuild it)"
						    : "");
				goto out;
			}
		}
		rc = ls_txn_get_u64(&t, s->meta, "nolog", 5, &nolog);
		if (rc != 0 && rc != LS_ERR_NOT_FOUND) {
			rc = ls_err_set(ctx, rc, "cannot read store in '%s'", dir);
			goto out;
		}
		s->no_log = s->bundle_check || nolog != 0;
	}
	rc = ls_store_err(mdb_txn_commit(t.txn));
	t.txn = NULL;
	if (rc != 0) {
		rc = ls_err_set(ctx, rc, "cannot initialise store in '%s': %s", dir,
				ls_strerror(rc));
		goto out;
	}
	tail_open(s, dir);
	/* The writer is one of the s->threads verifying threads. */
	if ((rc = ls_vpool_new(s->threads - 1, &s->pool)) != 0) {
		rc = ls_err_set(ctx, rc, "cannot make the verifier pool of '%s'", dir);
		goto out;
	}
	*out = s;
	s = NULL;
out:
	ls_txn_abort(&t);
	ls_store_close(&s);
	return rc;
}

void
ls_store_close(struct ls_store **sp)
{
	struct ls_store *s;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	/* Before the environment: a worker may still hold a read transaction. */
	ls_vpool_free(&s->pool);
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->tail_fd >= 0)
		close(s->tail_fd);
	free(s->tail_buf);
	for (size_t i = 0; i < LS_FORK_CACHE; i++)
		ls_branch_free(&s->fork_cache[i]);
	if (s->read_sync_made) {
		pthread_cond_destroy(&s->readcv);
		pthread_mutex_destroy(&s->readmu);
	}
	free(s->rthreads);
	free(s->anchors);
	free(s);
	*sp = NULL;
}

/* ---- reads ---- */

int
ls_store_get(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint8_t **env, size_t *len)
{
	struct ls_txn t;
	MDB_val v;
	int rc;

	*env = NULL;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_envelope(&t, id, &v)) == 0) {
		if ((*env = malloc(v.mv_size)) == NULL) {
			rc = LS_ERR_NOMEM;
		} else {
			memcpy(*env, v.mv_data, v.mv_size);
			*len = v.mv_size;
		}
	}
	ls_txn_abort(&t);
	return rc;
}

const uint8_t (*ls_store_anchors(const struct ls_store *s, size_t *n))[LS_KEY_LEN]
{
	*n = s->n_anchors;
	return (const uint8_t(*)[LS_KEY_LEN])s->anchors;
}

int
ls_store_lot_record(struct ls_store *s, const uint8_t lot[LS_ID_LEN], uint8_t rec[LS_ID_LEN])
{
	struct ls_lot_info info;
	struct ls_txn t;
	int rc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_lot(&t, lot, &info)) == 0)
		memcpy(rec, info.rec, LS_ID_LEN);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_get_record(struct ls_store *s, const uint8_t id[LS_ID_LEN], struct ls_record **r)
{
	struct ls_txn t;
	int rc;

	*r = NULL;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = ls_txn_record(&t, id, r);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_head(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
	      uint8_t id[LS_ID_LEN], uint64_t *ts)
{
	struct ls_txn t;
	MDB_val v;
	int rc;

	*seq = 0;
	*ts = 0;
	memset(id, 0, LS_ID_LEN);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = ls_txn_get(&t, s->heads, author, LS_KEY_LEN, &v);
	if (rc == 0 && v.mv_size == 8 + LS_ID_LEN + 8) {
		*seq = ls_be64_get(v.mv_data);
		memcpy(id, (uint8_t *)v.mv_data + 8, LS_ID_LEN);
		*ts = ls_be64_get((uint8_t *)v.mv_data + 8 + LS_ID_LEN);
	} else if (rc == 0) {
		rc = LS_ERR_STORE;
	}
	ls_txn_abort(&t);
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_store_feed_get(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		  uint8_t id[LS_ID_LEN])
{
	struct ls_txn t;
	uint8_t k[LS_KEY_LEN + 8];
	MDB_val v;
	int rc;

	memcpy(k, author, LS_KEY_LEN);
	ls_be64_put(k + LS_KEY_LEN, seq);
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((rc = ls_txn_get(&t, s->feeds, k, sizeof(k), &v)) == 0)
		memcpy(id, v.mv_data, LS_ID_LEN);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_heads_after(struct ls_store *s, const uint8_t *after,
		     int (*fn)(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			       const uint8_t id[LS_ID_LEN]),
		     void *arg)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, mrc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->heads, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	if (after == NULL) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	} else {
		k.mv_data = (void *)after;
		k.mv_size = LS_KEY_LEN;
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (mrc == 0 && k.mv_size == LS_KEY_LEN &&
		    memcmp(k.mv_data, after, LS_KEY_LEN) == 0)
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != LS_KEY_LEN || v.mv_size != 8 + LS_ID_LEN + 8)
			continue;
		if ((rc = fn(arg, k.mv_data, ls_be64_get(v.mv_data), (uint8_t *)v.mv_data + 8)))
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
ls_store_heads(struct ls_store *s,
	       int (*fn)(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			 const uint8_t id[LS_ID_LEN]),
	       void *arg)
{
	return ls_store_heads_after(s, NULL, fn, arg);
}

int
ls_store_feed_range(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t from,
		    uint64_t to, size_t max_n, size_t max_bytes,
		    int (*fn)(void *arg, uint64_t seq, const uint8_t *env, size_t len), void *arg,
		    uint64_t *next)
{
	uint8_t k[LS_KEY_LEN + 8];
	size_t n = 0, bytes = 0;
	struct ls_txn t;
	MDB_val v, env;
	uint64_t seq;
	int rc;

	*next = from;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	memcpy(k, author, LS_KEY_LEN);
	for (seq = from; seq <= to && seq != 0 && n < max_n; seq++) {
		ls_be64_put(k + LS_KEY_LEN, seq);
		if ((rc = ls_txn_get(&t, s->feeds, k, sizeof(k), &v)) != 0) {
			if (rc == LS_ERR_NOT_FOUND)
				rc = 0;
			break;
		}
		if (v.mv_size != LS_ID_LEN) {
			rc = LS_ERR_STORE;
			break;
		}
		if ((rc = ls_txn_envelope(&t, v.mv_data, &env)) != 0)
			break;
		if (n > 0 && bytes + env.mv_size > max_bytes)
			break;
		if ((rc = fn(arg, seq, env.mv_data, env.mv_size)) != 0)
			break;
		bytes += env.mv_size;
		n++;
		*next = seq + 1;
	}
	ls_txn_abort(&t);
	return rc;
}

static bool
is_hex(const char *s)
{
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

#define CANDIDATES_SHOWN 4 /* candidates an ambiguous name lists */
#define CANDIDATES_MAX   64

/* Appends "HEX16 what" to the candidate list buf. */
static void
cand_add(char *buf, size_t size, const char *hex, const char *what)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%.16s %s", len ? ", " : "", hex, what);
}

/* Finds the unique record id (or with `lot`, lot id) starting with the hex
 * prefix `name`, in the ids table (which maps every record and every
 * transformation's output lot); an ambiguous prefix is refused with the
 * first candidates named. */
static int
resolve_prefix(struct ls_txn *t, bool lot, const char *name, uint8_t id[LS_ID_LEN],
	       struct ls_err_ctx *ctx)
{
	uint8_t lo[LS_ID_LEN] = {0};
	size_t n = strlen(name), nb = n / 2;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int mrc, found = 0;
	char low[LS_HEX_KEY_LEN + 1], cands[160] = "";

	for (size_t i = 0; i < n; i++)
		low[i] = (char)((name[i] >= 'A' && name[i] <= 'F') ? name[i] + 32 : name[i]);
	low[n] = '\0';
	for (size_t i = 0; i < nb; i++) {
		unsigned x;
		sscanf(low + 2 * i, "%2x", &x);
		lo[i] = (uint8_t)x;
	}
	if (n % 2) {
		unsigned x;
		sscanf(low + n - 1, "%1x", &x);
		lo[nb] = (uint8_t)(x << 4);
	}
	if ((mrc = mdb_cursor_open(t->txn, t->s->ids, &c)) != 0)
		return ls_store_err(mrc);
	k.mv_size = LS_ID_LEN;
	k.mv_data = lo;
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); mrc == 0 && found <= CANDIDATES_MAX;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		char hex[2 * LS_ID_LEN + 1];
		bool is_out = v.mv_size == LS_IDS_LOT_VLEN;
		bool is_lot =
		    is_out || (v.mv_size >= 9 && ((const uint8_t *)v.mv_data)[8] == LS_REC_LOT);

		if (k.mv_size != LS_ID_LEN)
			break;
		ls_hex(k.mv_data, LS_ID_LEN, hex);
		if (strncmp(hex, low, n) != 0)
			break;
		if (lot ? !is_lot : is_out)
			continue; /* a record that is no lot, or a lot that is no record */
		if (found == 0)
			memcpy(id, k.mv_data, LS_ID_LEN);
		/* as git does: name the candidates, with what each one is */
		if (found < CANDIDATES_SHOWN)
			cand_add(cands, sizeof(cands), hex,
				 lot || v.mv_size < 9 ? "lot"
						      : ls_rtype_name((enum ls_rtype)(
							    (const uint8_t *)v.mv_data)[8]));
		found++;
	}
	mdb_cursor_close(c);
	if (found == 0)
		return ls_err_set(ctx, LS_ERR_NOT_FOUND, "no record or lot '%s'", name);
	if (found > 1)
		return ls_err_set(ctx, LS_ERR_AMBIGUOUS,
				  "'%s' is ambiguous: %s%s; give more digits", name, cands,
				  found > CANDIDATES_SHOWN ? ", ..." : "");
	return 0;
}

/* The unique value of a dupsort table under key `name`. */
static int
resolve_dup(struct ls_txn *t, MDB_dbi dbi, const char *name, const char *what,
	    uint8_t id[LS_ID_LEN], struct ls_err_ctx *ctx)
{
	MDB_cursor *c = NULL;
	MDB_val k = {strlen(name), (void *)(uintptr_t)name}, v;
	size_t count = 0;
	char cands[160] = "";
	int mrc;

	if ((mrc = mdb_cursor_open(t->txn, dbi, &c)) != 0)
		return ls_store_err(mrc);
	mrc = mdb_cursor_get(c, &k, &v, MDB_SET_KEY);
	if (mrc == 0) {
		mdb_cursor_count(c, &count);
		if (v.mv_size == LS_ID_LEN)
			memcpy(id, v.mv_data, LS_ID_LEN);
		for (size_t i = 0; count > 1 && i < CANDIDATES_SHOWN && mrc == 0; i++) {
			char hex[2 * LS_ID_LEN + 1];
			if (v.mv_size == LS_ID_LEN)
				cand_add(cands, sizeof(cands), ls_hex(v.mv_data, LS_ID_LEN, hex),
					 what);
			mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT_DUP);
		}
		mrc = 0;
	}
	mdb_cursor_close(c);
	if (mrc == MDB_NOTFOUND)
		return ls_err_set(ctx, LS_ERR_NOT_FOUND, "no %s '%s'", what, name);
	if (mrc != 0)
		return ls_store_err(mrc);
	if (count > 1)
		return ls_err_set(ctx, LS_ERR_AMBIGUOUS,
				  "%s '%s' is ambiguous: %llu match: %s%s; use an id", what, name,
				  (unsigned long long)count, cands,
				  count > CANDIDATES_SHOWN ? ", ..." : "");
	return 0;
}

int
ls_store_resolve(struct ls_store *s, enum ls_resolve_kind kind, const char *name,
		 uint8_t id[LS_ID_LEN], struct ls_err_ctx *ctx)
{
	struct ls_txn t;
	size_t n = name ? strlen(name) : 0;
	int rc;

	if (n == 0 || n > LS_STR_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID, "empty or over-long name");
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if (kind == LS_RESOLVE_LICENSE) {
		rc = resolve_dup(&t, s->licnum, name, "license", id, ctx);
		if (rc == LS_ERR_NOT_FOUND && n == LS_HEX_KEY_LEN &&
		    ls_unhex(name, id, LS_ID_LEN) == 0 && ls_txn_has_record(&t, id))
			rc = 0;
	} else if (n >= 8 && n <= LS_HEX_KEY_LEN && is_hex(name)) {
		rc = resolve_prefix(&t, kind == LS_RESOLVE_LOT, name, id, ctx);
		if (rc == LS_ERR_NOT_FOUND && kind == LS_RESOLVE_LOT)
			rc = resolve_dup(&t, s->labels, name, "lot", id, ctx);
	} else if (kind == LS_RESOLVE_LOT) {
		rc = resolve_dup(&t, s->labels, name, "lot", id, ctx);
	} else {
		rc = ls_err_set(ctx, LS_ERR_INVALID,
				"'%s' is not a record id (at least 8 hex digits)", name);
	}
	ls_txn_abort(&t);
	return rc;
}

struct cert_of {
	struct ls_txn *t;
	uint64_t at, best_from;
	bool found;
	uint8_t *cert_id;
};

static int
cert_of_one(void *arg, const struct ls_cert_row *row)
{
	struct cert_of *c = arg;

	if (row->from > c->at || (row->until != 0 && c->at >= row->until))
		return 0;
	if (!c->found || row->from >= c->best_from) {
		memcpy(c->cert_id, row->cert, LS_ID_LEN);
		c->best_from = row->from;
		c->found = true;
	}
	return 0;
}

/* A client's helper: the newest certificate of key in its period at `at`
 * (revocations are judged at question time, not here). */
int
ls_store_cert_of(struct ls_store *s, const uint8_t key[LS_KEY_LEN], uint64_t at,
		 uint8_t cert_id[LS_ID_LEN])
{
	struct ls_txn t;
	struct cert_of c = {&t, at, 0, false, cert_id};
	int rc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = ls_txn_certs_each(&t, key, cert_of_one, &c);
	ls_txn_abort(&t);
	if (rc != 0)
		return rc;
	return c.found ? 0 : LS_ERR_NOT_FOUND;
}

int
ls_store_stats(struct ls_store *s, struct ls_store_stats *st)
{
	struct ls_txn t;
	MDB_stat ms;
	MDB_envinfo info;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if (mdb_stat(t.txn, s->recs, &ms) == 0)
		st->records = ms.ms_entries;
	if (mdb_stat(t.txn, s->pwait, &ms) == 0)
		st->pending = ms.ms_entries;
	if (mdb_stat(t.txn, s->evidence, &ms) == 0)
		st->equivocations = ms.ms_entries;
	if (mdb_stat(t.txn, s->heads, &ms) == 0)
		st->authors = ms.ms_entries;
	if (mdb_env_info(s->env, &info) == 0)
		st->map_size = info.me_mapsize;
	rc = ls_txn_setsum(&t, st->set_digest);
	ls_txn_abort(&t);
	return rc;
}

static bool
log_match(const struct ls_log_filter *f, const struct ls_record *r)
{
	if (f == NULL)
		return true;
	if (f->has_author && memcmp(f->author, r->author, LS_KEY_LEN) != 0)
		return false;
	if (f->type != LS_REC_NONE && f->type != r->type)
		return false;
	if (f->since != 0 && r->timestamp < f->since)
		return false;
	return true;
}

int
ls_store_log(struct ls_store *s, const struct ls_log_filter *f,
	     int (*fn)(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env,
		       size_t len),
	     void *arg)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	uint8_t start[8];
	size_t emitted = 0;
	bool back;
	int rc, mrc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->recs, &c)) != 0) {
		rc = ls_store_err(mrc);
		goto out;
	}
	back = f != NULL && f->newest_first;
	k.mv_size = 8;
	k.mv_data = start;
	if (!back) {
		ls_be64_put(start, f != NULL ? f->after_pos + 1 : 1);
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	} else if (f->before_pos == 0) {
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	} else {
		/* the last position below before_pos */
		ls_be64_put(start, f->before_pos);
		mrc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		mrc = mrc == 0              ? mdb_cursor_get(c, &k, &v, MDB_PREV)
		      : mrc == MDB_NOTFOUND ? mdb_cursor_get(c, &k, &v, MDB_LAST)
					    : mrc;
	}
	for (; mrc == 0; mrc = mdb_cursor_get(c, &k, &v, back ? MDB_PREV : MDB_NEXT)) {
		struct ls_record *r = NULL;
		if (back && k.mv_size == 8 && ls_be64_get(k.mv_data) <= f->after_pos)
			break;
		if (k.mv_size != 8 || ls_record_decode(v.mv_data, v.mv_size, &r, NULL) != 0)
			continue;
		if (log_match(f, r)) {
			rc = fn(arg, ls_be64_get(k.mv_data), r, v.mv_data, v.mv_size);
			emitted++;
		}
		ls_record_free(r);
		if (rc != 0 || (f != NULL && f->limit != 0 && emitted >= f->limit))
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
ls_store_last_pos(struct ls_store *s, uint64_t *pos)
{
	struct ls_txn t;
	MDB_cursor *c = NULL;
	MDB_val k, v;
	int rc, mrc;

	*pos = 0;
	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	if ((mrc = mdb_cursor_open(t.txn, s->recs, &c)) == 0)
		mrc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (mrc == 0 && k.mv_size != 8)
		rc = LS_ERR_STORE;
	else if (mrc == 0)
		*pos = ls_be64_get(k.mv_data);
	else if (mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	return rc;
}

int
ls_store_evidence(struct ls_store *s,
		  int (*fn)(void *arg, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
			    size_t len_b),
		  void *arg)
{
	struct ls_txn t;
	int rc;

	if ((rc = ls_txn_begin(s, false, &t)) != 0)
		return rc;
	rc = ls_txn_evidence_each(&t, NULL, fn, arg);
	ls_txn_abort(&t);
	return rc;
}

/* ---- reindex ---- */

#define REINDEX_BATCH 1000 /* records a commit */
#define REINDEX_RUN   4000 /* records an ls_store_ingest_run() */

struct reindex {
	struct ls_store *dst;
	const struct ls_reindex_hooks *hooks;
	struct ls_reindex_report *rep;
	const uint8_t *envs[REINDEX_RUN];
	size_t lens[REINDEX_RUN];
	struct ls_ingest_result res[REINDEX_RUN];
	size_t n;
};

static int
reindex_flush(struct reindex *x)
{
	int rc;

	if (x->n == 0)
		return 0;
	if ((rc = ls_store_ingest_run(x->dst, x->envs, x->lens, x->n, REINDEX_BATCH, x->res, NULL,
				      NULL, NULL)) != 0)
		return rc;
	for (size_t i = 0; i < x->n; i++) {
		switch (x->res[i].status) {
		case LS_INGEST_ACCEPTED: x->rep->accepted++; break;
		case LS_INGEST_KNOWN: break;
		case LS_INGEST_PENDING: x->rep->pending++; break;
		case LS_INGEST_REJECTED:
			if (x->res[i].reason == LS_R_EQUIVOCATION) {
				x->rep->evidence++;
				break;
			}
			x->rep->rejected++;
			if (x->hooks != NULL && x->hooks->rejected != NULL)
				x->hooks->rejected(x->hooks->arg, &x->res[i]);
			break;
		}
	}
	x->n = 0;
	return 0;
}

static int
reindex_add(struct reindex *x, const void *env, size_t len)
{
	x->rep->read++;
	x->envs[x->n] = env;
	x->lens[x->n] = len;
	if (++x->n == REINDEX_RUN)
		return reindex_flush(x);
	return 0;
}

/* Feeds every value of table `name` of the old environment (evidence pairs
 * split in two) to x; the read transaction stays open until the batch is
 * ingested, so the values can be borrowed. */
static int
reindex_table(MDB_env *env, const char *name, bool evidence, struct reindex *x,
	      struct ls_err_ctx *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	int mrc, rc = 0;

	if ((mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		return ls_err_set(ctx, ls_store_err(mrc), "reindex: %s", mdb_strerror(mrc));
	if ((mrc = mdb_dbi_open(txn, name, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		if (mrc == MDB_NOTFOUND)
			return 0;
		return ls_err_set(ctx, ls_store_err(mrc), "reindex: table '%s': %s", name,
				  mdb_strerror(mrc));
	}
	if ((mrc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		mdb_txn_abort(txn);
		return ls_err_set(ctx, ls_store_err(mrc), "reindex: %s", mdb_strerror(mrc));
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		uint32_t la;
		if (!evidence) {
			rc = reindex_add(x, v.mv_data, v.mv_size);
			continue;
		}
		if (v.mv_size < 4)
			continue;
		la = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (la > v.mv_size - 4)
			continue;
		if ((rc = reindex_add(x, p + 4, la)) == 0)
			rc = reindex_add(x, p + 4 + la, v.mv_size - 4 - la);
	}
	if (rc == 0)
		rc = reindex_flush(x);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ls_err_set(ctx, ls_store_err(mrc), "reindex: reading '%s': %s", name,
				mdb_strerror(mrc));
	else if (rc != 0)
		rc = ls_err_set(ctx, rc, "reindex: the new store: %s", ls_strerror(rc));
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return rc;
}

/*
 * Copies table `name` of the old environment as it is into the new store:
 * the witness state is no function of the records (what this node cosigned
 * of other logs, the keys its peers announced, split-view evidence, when it
 * took each authority record), and a witness that forgot it could cosign a
 * fork of a log it had cosigned.
 */
static int
reindex_copy(MDB_env *env, const char *name, struct ls_store *dst, MDB_dbi to,
	     struct ls_err_ctx *ctx)
{
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	struct ls_txn t;
	MDB_dbi dbi;
	MDB_val k, v;
	int mrc, rc = 0;

	if ((mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) != 0)
		return ls_err_set(ctx, ls_store_err(mrc), "reindex: %s", mdb_strerror(mrc));
	if ((mrc = mdb_dbi_open(txn, name, 0, &dbi)) != 0) {
		mdb_txn_abort(txn);
		if (mrc == MDB_NOTFOUND)
			return 0;
		return ls_err_set(ctx, ls_store_err(mrc), "reindex: table '%s': %s", name,
				  mdb_strerror(mrc));
	}
	if ((rc = ls_txn_begin(dst, true, &t)) != 0) {
		mdb_txn_abort(txn);
		return ls_err_set(ctx, rc, "reindex: the new store: %s", ls_strerror(rc));
	}
	if ((mrc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		rc = ls_err_set(ctx, ls_store_err(mrc), "reindex: %s", mdb_strerror(mrc));
		goto out;
	}
	for (mrc = mdb_cursor_get(c, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		rc = ls_txn_put(&t, to, k.mv_data, k.mv_size, v.mv_data, v.mv_size, 0);
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = ls_store_err(mrc);
	if (rc == 0) {
		rc = ls_store_err(mdb_txn_commit(t.txn));
		t.txn = NULL;
	}
	if (rc != 0)
		rc = ls_err_set(ctx, rc, "reindex: copying '%s': %s", name, ls_strerror(rc));
out:
	if (c != NULL)
		mdb_cursor_close(c);
	ls_txn_abort(&t);
	mdb_txn_abort(txn);
	return rc;
}

static void
remove_in(const char *dir, const char *name)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path))
		unlink(path);
}

int
ls_store_reindex(const char *dir, const struct ls_store_opts *opts,
		 const struct ls_reindex_hooks *hooks, struct ls_reindex_report *rep,
		 struct ls_err_ctx *ctx)
{
	struct reindex *x = NULL;
	MDB_env *env = NULL;
	char tmp[4096], from[4096], to[4096];
	int lockfd = -1, rc, mrc;

	memset(rep, 0, sizeof(*rep));
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/reindex.tmp", dir) >= sizeof(tmp) ||
	    (size_t)snprintf(from, sizeof(from), "%s/data.mdb", tmp) >= sizeof(from) ||
	    (size_t)snprintf(to, sizeof(to), "%s/data.mdb", dir) >= sizeof(to))
		return ls_err_set(ctx, LS_ERR_INVALID, "data dir path too long");
	if (access(to, F_OK) != 0)
		return ls_err_set(ctx, LS_ERR_NOT_FOUND, "no store in '%s' to reindex", dir);
	if ((rc = lock_dir(dir, &lockfd, ctx)) != 0)
		return rc;
	/* A reindex that stopped half-way left its new store: start again. */
	remove_in(tmp, "data.mdb");
	remove_in(tmp, "lock.mdb");
	remove_in(tmp, "lodestone.lock");
	rmdir(tmp);
	if ((x = calloc(1, sizeof(*x))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	x->hooks = hooks;
	x->rep = rep;
	if ((mrc = env_open_fitting(dir, MDB_RDONLY | MDB_NOTLS, 64, MAX_READERS, DEFAULT_MAP_SIZE,
				    &env)) != 0) {
		rc = ls_err_set(ctx, ls_store_err(mrc), "cannot open the store in '%s': %s", dir,
				mdb_strerror(mrc));
		goto out;
	}
	if ((rc = ls_store_open(tmp, opts, &x->dst, ctx)) != 0)
		goto out;
	/* Store order is a dependency order; then what waited, then the
	 * second record of every equivocation. */
	if ((rc = reindex_table(env, "recs", false, x, ctx)) != 0 ||
	    (rc = reindex_table(env, "pending", false, x, ctx)) != 0 ||
	    (rc = reindex_table(env, "evidence", true, x, ctx)) != 0)
		goto out;
	/* the witness state, as it is (authtime over what the ingest wrote:
	 * the times this node first took those records) */
	if ((rc = reindex_copy(env, "wlogs", x->dst, x->dst->wlogs, ctx)) != 0 ||
	    (rc = reindex_copy(env, "wnote", x->dst, x->dst->wnote, ctx)) != 0 ||
	    (rc = reindex_copy(env, "wheads", x->dst, x->dst->wheads, ctx)) != 0 ||
	    (rc = reindex_copy(env, "peerlogs", x->dst, x->dst->peerlogs, ctx)) != 0 ||
	    (rc = reindex_copy(env, "splitviews", x->dst, x->dst->splitviews, ctx)) != 0 ||
	    (rc = reindex_copy(env, "authtime", x->dst, x->dst->authtime, ctx)) != 0)
		goto out;
	ls_store_close(&x->dst);
	mdb_env_close(env);
	env = NULL;
	if (rename(from, to) != 0) {
		rc = ls_err_set(ctx, LS_ERR_IO, "cannot replace '%s': %s", to, strerror(errno));
		goto out;
	}
	remove_in(dir, "lock.mdb");
	remove_in(tmp, "lock.mdb");
	remove_in(tmp, "lodestone.lock");
	rmdir(tmp);
	rc = 0;
out:
	if (x != NULL)
		ls_store_close(&x->dst);
	free(x);
	if (env != NULL)
		mdb_env_close(env);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}
