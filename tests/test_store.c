/*
 * test_store.c - the LMDB store and the ingest rules, on a real LMDB
 * environment in a mkdtemp directory: open/close/reopen and locking,
 * certificates and roles, revocation and validity, feed continuity,
 * idempotent re-ingest, convergence of out-of-order arrival, equivocation
 * evidence, pending records and their bound, bad records inside a batch, map
 * growth, and the supply-chain rules (holdings, transfers, receipts, mass
 * balance, licenses).
 */
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "err.h"
#include "helper_fixture.h"
#include "reason.h"
#include "record.h"
#include "store.h"
#include "store_int.h"
#include "verify.h"
#include "util.h"

struct sfx {
	char *dir;
	struct ls_store *s;
	struct fx_actor *auth;  /* trust anchor */
	struct fx_actor *miner; /* certified miner once certify() ran */
	struct fx_actor *proc;  /* processor and exporter */
	struct fx_actor *imp;   /* importer */
	struct fx_env certs[3];
};

static int
setup(void **state)
{
	struct sfx *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->dir = fx_tmpdir()) == NULL)
		return -1;
	f->auth = fx_actor_new("CN");
	f->miner = fx_actor_new("CN");
	f->proc = fx_actor_new("JP");
	f->imp = fx_actor_new("DE");
	if (f->auth == NULL || f->miner == NULL || f->proc == NULL || f->imp == NULL)
		return -1;
	if (fx_store_open(f->dir, f->auth, 0, &f->s) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct sfx *f = *state;

	ls_store_close(&f->s);
	fx_rmtree(f->dir);
	free(f->dir);
	for (size_t i = 0; i < 3; i++)
		fx_env_release(&f->certs[i]);
	fx_actor_free(&f->auth);
	fx_actor_free(&f->miner);
	fx_actor_free(&f->proc);
	fx_actor_free(&f->imp);
	free(f);
	return 0;
}

/* Ingests e alone and checks what became of it. */
static void
expect_at(struct ls_store *s, const struct fx_env *e, enum ls_ingest_status st,
	  enum ls_reason reason, int line)
{
	struct ls_ingest_result res;

	if (e->buf == NULL)
		fail_msg("line %d: the record could not be built", line);
	if (fx_ingest_one(s, e->buf, e->len, &res) != 0)
		fail_msg("line %d: ingest failed", line);
	if (res.status != st || res.reason != reason)
		fail_msg("line %d: %s %s (%s), want %s %s", line, fx_status_name(res.status),
			 ls_reason_code(res.reason), res.message, fx_status_name(st),
			 ls_reason_code(reason));
	assert_true(res.has_id);
	assert_memory_equal(res.id, e->id, LS_ID_LEN);
	assert_int_equal(res.type, e->type);
}
#define EXPECT(s, e, st, reason) expect_at((s), &(e), (st), (reason), __LINE__)

/* A local client's submission of e (admission) is refused for reason. */
static void
refused_at(struct ls_store *s, const struct fx_env *e, enum ls_reason reason, int line)
{
	struct ls_ingest_result res;

	if (e->buf == NULL)
		fail_msg("line %d: the record could not be built", line);
	if (fx_submit_one(s, e->buf, e->len, &res) != 0)
		fail_msg("line %d: ingest failed", line);
	if (res.status != LS_INGEST_REJECTED || res.reason != reason)
		fail_msg("line %d: submission %s %s (%s), want rejected %s", line,
			 fx_status_name(res.status), ls_reason_code(res.reason), res.message,
			 ls_reason_code(reason));
}
#define REFUSED(s, e, reason) refused_at((s), &(e), (reason), __LINE__)
#define ACCEPT(s, e)          EXPECT((s), (e), LS_INGEST_ACCEPTED, LS_R_OK)

/* Builds a record with `expr`, expects it rejected for `reason`, and rewinds
 * the actor's feed so that its next record takes the same seq. */
#define REJECT(s, actor, expr, reason)                                                             \
	do {                                                                                       \
		struct fx_mark m_ = fx_mark(actor);                                                \
		struct fx_env e_ = (expr);                                                         \
		expect_at((s), &e_, LS_INGEST_REJECTED, (reason), __LINE__);                       \
		fx_env_release(&e_);                                                               \
		fx_rewind((actor), &m_);                                                           \
	} while (0)

/* Builds a record with `expr`, expects it accepted, and frees it. */
#define OK(s, expr)                                                                                \
	do {                                                                                       \
		struct fx_env e_ = (expr);                                                         \
		expect_at((s), &e_, LS_INGEST_ACCEPTED, LS_R_OK, __LINE__);                        \
		fx_env_release(&e_);                                                               \
	} while (0)

/* Certifies miner (+exporter), processor (+exporter, importer) and
 * importer, and ingests the certificates. */
static void
certify(struct sfx *f)
{
	f->certs[0] = fx_cert(f->auth, f->miner, "Bayan Obo Mining", NULL,
			      LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	f->certs[1] = fx_cert(f->auth, f->proc, "Magnet Works", NULL,
			      LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER | LS_ROLE_IMPORTER, 0, 0);
	f->certs[2] = fx_cert(f->auth, f->imp, "Motor GmbH", NULL, LS_ROLE_IMPORTER, 0, 0);
	for (size_t i = 0; i < 3; i++)
		ACCEPT(f->s, f->certs[i]);
}

static struct ls_store_stats
stats(struct ls_store *s)
{
	struct ls_store_stats st;
	assert_int_equal(ls_store_stats(s, &st), 0);
	return st;
}

static void
assert_stats_equal(const struct ls_store_stats *a, const struct ls_store_stats *b)
{
	assert_int_equal(a->records, b->records);
	assert_int_equal(a->pending, b->pending);
	assert_int_equal(a->equivocations, b->equivocations);
	assert_int_equal(a->authors, b->authors);
	assert_memory_equal(a->set_digest, b->set_digest, LS_ID_LEN);
}

/* The record set digest of envelopes e[0..n), computed here, apart from the
 * store: the ids as 256-bit little-endian numbers, added up mod 2^256
 * (16-bit limbs, another way than the store's). */
static void
digest_of(const struct fx_env *e, size_t n, uint8_t out[LS_ID_LEN])
{
	uint32_t limb[LS_ID_LEN / 2] = {0};

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < LS_ID_LEN / 2; j++)
			limb[j] += (uint32_t)e[i].id[2 * j] | (uint32_t)e[i].id[2 * j + 1] << 8;
	for (size_t j = 0; j + 1 < LS_ID_LEN / 2; j++) {
		limb[j + 1] += limb[j] >> 16;
		limb[j] &= 0xffff;
	}
	for (size_t j = 0; j < LS_ID_LEN / 2; j++) {
		out[2 * j] = (uint8_t)limb[j];
		out[2 * j + 1] = (uint8_t)(limb[j] >> 8);
	}
}

/* True when the store has the envelope e, byte for byte. */
static bool
has(struct ls_store *s, const struct fx_env *e)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = ls_store_get(s, e->id, &buf, &len);
	bool same;

	if (rc == LS_ERR_NOT_FOUND)
		return false;
	assert_int_equal(rc, 0);
	same = len == e->len && memcmp(buf, e->buf, len) == 0;
	free(buf);
	assert_true(same);
	return true;
}

/* The closed store's LMDB environment, opened raw (to make an older store). */
static MDB_env *
raw_env(const char *dir)
{
	MDB_env *env = NULL;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	/* not the store's recorded 256 GiB map, which memcheck refuses */
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	return env;
}

/* Reopens the fixture store with other options. */
static void
reopen(struct sfx *f, size_t max_pending, size_t map_size)
{
	struct ls_store_opts o;

	ls_store_close(&f->s);
	assert_null(f->s);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])f->auth->kp->pk;
	o.n_anchors = 1;
	o.max_pending = max_pending;
	o.map_size = map_size;
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, NULL), 0);
}

/* ---- open, close, lock ---- */

static void
test_store_reopen_keeps_records(void **state)
{
	struct sfx *f = *state;
	struct fx_env lots[3];
	struct ls_store_stats before, after;
	uint64_t seq, ts;
	uint8_t head[LS_ID_LEN], id[LS_ID_LEN];

	certify(f);
	for (int i = 0; i < 3; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%d", i);
		f->miner->ts = FX_T0 + (uint64_t)i;
		lots[i] = fx_lot(f->miner, label, "Bayan Obo", NULL, "ore", 1000, "Nd=300000");
		ACCEPT(f->s, lots[i]);
	}
	before = stats(f->s);
	assert_int_equal(before.records, 6);
	assert_int_equal(before.authors, 2);
	assert_int_equal(before.pending, 0);
	assert_true(before.map_size > 0);

	reopen(f, 0, 0);
	after = stats(f->s);
	assert_stats_equal(&before, &after);
	for (int i = 0; i < 3; i++)
		assert_true(has(f->s, &lots[i]));
	for (int i = 0; i < 3; i++)
		assert_true(has(f->s, &f->certs[i]));
	assert_int_equal(ls_store_head(f->s, f->miner->kp->pk, &seq, head, &ts), 0);
	assert_int_equal(seq, 3);
	assert_memory_equal(head, lots[2].id, LS_ID_LEN);
	assert_int_equal(ts, FX_T0 + 2);
	assert_int_equal(ls_store_feed_get(f->s, f->miner->kp->pk, 2, id), 0);
	assert_memory_equal(id, lots[1].id, LS_ID_LEN);
	assert_int_equal(ls_store_feed_get(f->s, f->miner->kp->pk, 4, id), LS_ERR_NOT_FOUND);
	/* A key with no feed. */
	assert_int_equal(ls_store_head(f->s, f->imp->kp->pk, &seq, head, &ts), 0);
	assert_int_equal(seq, 0);
	/* The decoded record, and names. */
	{
		struct ls_record *r = NULL;
		assert_int_equal(ls_store_get_record(f->s, lots[1].id, &r), 0);
		assert_int_equal(r->type, LS_REC_LOT);
		assert_string_equal(r->lot.lot.label, "ore-1");
		ls_record_free(r);
		assert_int_equal(ls_store_get_record(
				     f->s, (const uint8_t *)"no such record 0123456789abcdef", &r),
				 LS_ERR_NOT_FOUND);
		assert_null(r);
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_LOT, "ore-2", id, NULL), 0);
		assert_memory_equal(id, lots[2].id, LS_ID_LEN);
		assert_int_equal(ls_store_cert_of(f->s, f->miner->kp->pk, FX_T0, id), 0);
		assert_memory_equal(id, f->certs[0].id, LS_ID_LEN);
	}
	{
		uint8_t *buf = (uint8_t *)"x";
		size_t len = 0;
		assert_int_equal(ls_store_get(f->s,
					      (const uint8_t *)"no such record 0123456789abcdef",
					      &buf, &len),
				 LS_ERR_NOT_FOUND);
		assert_null(buf);
	}
	for (int i = 0; i < 3; i++)
		fx_env_release(&lots[i]);
}

/* The miner registers lots[from..to), "ore-I" at FX_T0 + I, each stored. */
static void
register_lots(struct sfx *f, struct fx_env *lots, int from, int to)
{
	for (int i = from; i < to; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%d", i);
		f->miner->ts = FX_T0 + (uint64_t)i;
		lots[i] = fx_lot(f->miner, label, "Bayan Obo", NULL, "ore", 1000, "Nd=300000");
		ACCEPT(f->s, lots[i]);
	}
}

/* data.mdb's size and the bytes of disk it takes. */
static void
data_file(const struct sfx *f, off_t *size, off_t *disk)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	assert_int_equal(stat(path, &st), 0);
	*size = st.st_size;
	*disk = (off_t)st.st_blocks * 512;
}

/*
 * The writer keeps data.mdb's next pages past the data in the page cache
 * as single pages (store.c, ls_store_tail_prepare): the file is longer than
 * its data by a hole that takes no disk. Whatever the file's length (an
 * earlier run's, longer still), the store reopens with every record, takes
 * more, and the file never gets shorter than it was.
 */
static void
test_store_tail_prepared(void **state)
{
	struct sfx *f = *state;
	struct fx_env lots[40];
	struct ls_store_stats before, after;
	off_t size, disk, size2, disk2;
	char path[4096];
	int fd;

	certify(f);
	register_lots(f, lots, 0, 20);
	data_file(f, &size, &disk);
	/* 8 MiB ready past the data, as a hole: the data is a few pages */
	assert_true(size >= (off_t)8 << 20);
	assert_true(disk < (off_t)4 << 20);

	/* An earlier run left it longer still (or a crash did, mid-way). */
	ls_store_close(&f->s);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size + ((off_t)40 << 20)), 0);
	close(fd);
	reopen(f, 0, 0);
	before = stats(f->s);
	assert_int_equal(before.records, 23);
	for (int i = 0; i < 20; i++)
		assert_true(has(f->s, &lots[i]));
	register_lots(f, lots, 20, 40);
	data_file(f, &size2, &disk2);
	assert_true(size2 >= size + ((off_t)40 << 20));
	reopen(f, 0, 0);
	after = stats(f->s);
	assert_int_equal(after.records, 43);
	for (int i = 0; i < 40; i++)
		assert_true(has(f->s, &lots[i]));
	for (int i = 0; i < 40; i++)
		fx_env_release(&lots[i]);
}

/*
 * The ids table maps records and, since layout 8, transformations' output
 * lots (to the lot's node-local key): a lot id names a lot and no record,
 * a hex prefix finds an output lot as a lot and never as a record, and a
 * transformation's id is a record and no lot; all the same after a reopen.
 */
static void
test_store_output_lot_names(void **state)
{
	struct sfx *f = *state;
	struct ls_lot_input in = {{0}, 6000};
	const char *out[] = {"oxide-a:oxide:300:Dy=900000", "tail-a:scrap:5000:Nd=300000"};
	struct fx_env lot, tf, rc, tr;
	uint8_t out_id[LS_ID_LEN], id[LS_ID_LEN];
	char hex[2 * LS_ID_LEN + 1], pre[17];
	struct ls_err_ctx ctx = {{0}};

	certify(f);
	lot = fx_lot(f->miner, "ore-a", "Bayan Obo", NULL, "ore", 10000, "Nd=300000,Dy=50000");
	ACCEPT(f->s, lot);
	tf = fx_transfer(f->miner, lot.id, 6000, f->proc, NULL, NULL);
	ACCEPT(f->s, tf);
	rc = fx_receipt(f->proc, tf.id, 6000);
	ACCEPT(f->s, rc);
	memcpy(in.lot, lot.id, LS_ID_LEN);
	tr = fx_transform(f->proc, &in, 1, out, 2);
	ACCEPT(f->s, tr);
	ls_lot_id(tr.id, 1, out_id);
	for (int round = 0; round < 2; round++) {
		struct ls_record *r = (struct ls_record *)1;
		snprintf(pre, sizeof(pre), "%.16s", ls_hex(out_id, LS_ID_LEN, hex));
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_LOT, pre, id, NULL), 0);
		assert_memory_equal(id, out_id, LS_ID_LEN);
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_RECORD, pre, id, &ctx),
				 LS_ERR_NOT_FOUND);
		assert_non_null(strstr(ctx.msg, pre));
		assert_int_equal(ls_store_get_record(f->s, out_id, &r), LS_ERR_NOT_FOUND);
		assert_null(r);
		{
			uint8_t *buf = NULL;
			size_t len = 0;
			assert_int_equal(ls_store_get(f->s, out_id, &buf, &len), LS_ERR_NOT_FOUND);
			assert_null(buf);
		}
		assert_int_equal(ls_store_lot_record(f->s, out_id, id), 0);
		assert_memory_equal(id, tr.id, LS_ID_LEN);
		snprintf(pre, sizeof(pre), "%.16s", ls_hex(tr.id, LS_ID_LEN, hex));
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_RECORD, pre, id, NULL), 0);
		assert_memory_equal(id, tr.id, LS_ID_LEN);
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_LOT, pre, id, NULL),
				 LS_ERR_NOT_FOUND);
		assert_int_equal(ls_store_lot_record(f->s, tr.id, id), LS_ERR_NOT_FOUND);
		snprintf(pre, sizeof(pre), "%.16s", ls_hex(lot.id, LS_ID_LEN, hex));
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_LOT, pre, id, NULL), 0);
		assert_memory_equal(id, lot.id, LS_ID_LEN);
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_RECORD, pre, id, NULL), 0);
		assert_memory_equal(id, lot.id, LS_ID_LEN);
		assert_int_equal(ls_store_resolve(f->s, LS_RESOLVE_LOT, "tail-a", id, NULL), 0);
		assert_memory_equal(id, out_id, LS_ID_LEN);
		assert_int_equal(stats(f->s).records, 7);
		reopen(f, 0, 0);
	}
	/* The record set digest of a store made before it is summed from the
	 * ids table: over the records, not the output lots it maps too. */
	{
		struct ls_store_stats s1 = stats(f->s), s2;
		MDB_env *env = NULL;
		MDB_txn *txn = NULL;
		MDB_dbi dbi;
		MDB_val k = {6, "setsum"};
		ls_store_close(&f->s);
		env = raw_env(f->dir);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
		reopen(f, 0, 0);
		s2 = stats(f->s);
		assert_memory_equal(s1.set_digest, s2.set_digest, LS_ID_LEN);
	}
	fx_env_release(&lot);
	fx_env_release(&tf);
	fx_env_release(&rc);
	fx_env_release(&tr);
}

static int
count_one(void *arg, const uint8_t id[LS_ID_LEN])
{
	(void)id;
	(*(size_t *)arg)++;
	return 0;
}

/* How many licenses the lictee table gives for licensee. */
static size_t
licenses_of(struct ls_store *s, const uint8_t licensee[32])
{
	struct ls_txn t;
	size_t n = 0;

	assert_int_equal(ls_txn_begin(s, false, &t), 0);
	assert_int_equal(ls_txn_licenses_of(&t, licensee, count_one, &n), 0);
	ls_txn_abort(&t);
	return n;
}

/*
 * Layout 9 keeps each licensee's licenses (lictee), which the export
 * question reads. A layout 8 store (no such table, version 8) is brought to
 * 9 when it is opened: the table is filled from the licenses it holds, and
 * every record is still there.
 */
static void
test_store_layout8_upgraded(void **state)
{
	struct sfx *f = *state;
	struct fx_license_spec a = {.number = "CN-1",
				    .licensee = f->miner->kp->pk,
				    .items = "Dy",
				    .max_grams = 1000,
				    .destinations = "JP"};
	struct fx_license_spec b = a, c = a;
	struct ls_store_stats before;

	b.number = "CN-2";
	c.number = "CN-3";
	c.licensee = f->proc->kp->pk;
	certify(f);
	OK(f->s, fx_license(f->auth, &a));
	OK(f->s, fx_license(f->auth, &b));
	OK(f->s, fx_license(f->auth, &c));
	assert_int_equal(licenses_of(f->s, f->miner->kp->pk), 2);
	assert_int_equal(licenses_of(f->s, f->proc->kp->pk), 1);
	assert_int_equal(licenses_of(f->s, f->imp->kp->pk), 0);
	before = stats(f->s);

	/* Made a layout 8 store: version 8, the table empty. */
	{
		MDB_env *env = NULL;
		MDB_txn *txn = NULL;
		MDB_dbi meta, lictee;
		uint8_t v8[4] = {0, 0, 0, 8};
		MDB_val k = {7, "version"}, v = {4, v8};
		ls_store_close(&f->s);
		env = raw_env(f->dir);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
		assert_int_equal(mdb_dbi_open(txn, "lictee", 0, &lictee), 0);
		assert_int_equal(mdb_drop(txn, lictee, 1), 0);
		assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
	}
	reopen(f, 0, 0);
	assert_int_equal(licenses_of(f->s, f->miner->kp->pk), 2);
	assert_int_equal(licenses_of(f->s, f->proc->kp->pk), 1);
	assert_int_equal(licenses_of(f->s, f->imp->kp->pk), 0);
	{
		struct ls_store_stats after = stats(f->s);
		assert_stats_equal(&before, &after);
	}
	/* and it stays at 9: opened again, nothing to do */
	reopen(f, 0, 0);
	assert_int_equal(licenses_of(f->s, f->miner->kp->pk), 2);
}

static void
test_store_locked(void **state)
{
	struct sfx *f = *state;
	struct ls_store *second = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_int_equal(ls_store_open(f->dir, NULL, &second, &ctx), LS_ERR_LOCKED);
	assert_null(second);
	assert_non_null(strstr(ctx.msg, f->dir));
	/* The first handle still works. */
	certify(f);
	ls_store_close(&f->s);
	ls_store_close(&f->s); /* NULL-safe */
	ls_store_close(NULL);
	assert_int_equal(ls_store_open(f->dir, NULL, &second, &ctx), 0);
	assert_int_equal(stats(second).records, 3);
	ls_store_close(&second);
	/* A directory that cannot be made. */
	assert_int_not_equal(ls_store_open("/proc/no/such/dir", NULL, &second, &ctx), 0);
	assert_null(second);
	reopen(f, 0, 0);
}

/* ---- authors: anchors, certificates, roles, revocation ---- */

static void
test_store_anchor_ingest(void **state)
{
	struct sfx *f = *state;
	struct fx_policy_spec pol = {.effective_from = FX_T0, .elements = "Sm,Gd,Tb,Dy,Lu,Sc,Y"};
	struct fx_license_spec lic = {
	    .licensee = f->miner->kp->pk, .items = "Dy", .max_grams = 1000, .destinations = "JP"};

	certify(f);
	OK(f->s, fx_policy(f->auth, &pol));
	OK(f->s, fx_license(f->auth, &lic));
	/* An anchor needs no certificate for anything, even a lot. */
	OK(f->s, fx_lot(f->auth, "anchor-lot", NULL, NULL, "ore", 5, NULL));
	assert_int_equal(stats(f->s).records, 6);
	assert_int_equal(stats(f->s).authors, 1);
}

static void
test_store_no_certificate(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot;

	/* An author that is no anchor and names no certificate. */
	REJECT(f->s, f->miner, fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL),
	       LS_R_NO_CERTIFICATE);
	/* An author naming a record that is not a certificate of its key. */
	certify(f);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	ACCEPT(f->s, lot);
	memcpy(f->imp->cert_id, lot.id, LS_ID_LEN); /* a lot, not a certificate */
	REJECT(f->s, f->imp, fx_receipt(f->imp, lot.id, 1), LS_R_NO_CERTIFICATE);
	memcpy(f->imp->cert_id, f->certs[0].id, LS_ID_LEN); /* the miner's certificate */
	REJECT(f->s, f->imp, fx_receipt(f->imp, lot.id, 1), LS_R_NO_CERTIFICATE);
	assert_int_equal(stats(f->s).records, 4);
	fx_env_release(&lot);
}

static void
test_store_wrong_role(void **state)
{
	struct sfx *f = *state;
	struct ls_lot_input in = {{0}, 1};
	const char *out[] = {"x:oxide:1:"};
	struct fx_env lot;

	certify(f);
	/* An importer registering a lot, a processor registering a lot. */
	REJECT(f->s, f->imp, fx_lot(f->imp, "imp-lot", NULL, NULL, "ore", 5, NULL),
	       LS_R_WRONG_ROLE);
	REJECT(f->s, f->proc, fx_lot(f->proc, "proc-lot", NULL, NULL, "ore", 5, NULL),
	       LS_R_WRONG_ROLE);
	/* A miner certifying someone, or transforming its own lot. */
	REJECT(f->s, f->miner,
	       fx_cert(f->miner, f->imp, "self-made", NULL, LS_ROLE_AUTHORITY, 0, 0),
	       LS_R_WRONG_ROLE);
	memcpy(f->imp->cert_id, f->certs[2].id, LS_ID_LEN); /* fx_cert changed it */
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	ACCEPT(f->s, lot);
	memcpy(in.lot, lot.id, LS_ID_LEN);
	REJECT(f->s, f->miner, fx_transform(f->miner, &in, 1, out, 1), LS_R_WRONG_ROLE);
	/* A miner issuing a license or a policy. */
	{
		struct fx_license_spec lic = {.licensee = f->miner->kp->pk,
					      .items = "Dy",
					      .max_grams = 1,
					      .destinations = "JP"};
		struct fx_policy_spec pol = {.effective_from = FX_T0, .elements = "Dy"};
		REJECT(f->s, f->miner, fx_license(f->miner, &lic), LS_R_WRONG_ROLE);
		REJECT(f->s, f->miner, fx_policy(f->miner, &pol), LS_R_WRONG_ROLE);
	}
	/* A miner may revoke its own key, not another's. */
	REJECT(f->s, f->miner, fx_revoke(f->miner, f->imp->kp->pk, FX_T0 + 10), LS_R_WRONG_ROLE);
	OK(f->s, fx_revoke(f->miner, f->miner->kp->pk, FX_T0 + 10));
	fx_env_release(&lot);
}

static void
test_store_revoked(void **state)
{
	struct sfx *f = *state;
	struct fx_env early, at, after;
	struct ls_ingest_result res;
	struct ls_verdict v;

	certify(f);
	f->miner->ts = FX_T0 + 50;
	early = fx_lot(f->miner, "early", NULL, NULL, "ore", 5, NULL);
	f->auth->ts = FX_T0 + 60;
	OK(f->s, fx_revoke(f->auth, f->miner->kp->pk, FX_T0 + 100));
	/* Dated before the revocation: admitted from a local client, valid. */
	assert_int_equal(fx_submit_one(f->s, early.buf, early.len, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_verify_provenance(f->s, early.id, &v), 0);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
	/* From the effective time on, a local client is refused (admission)... */
	f->miner->ts = FX_T0 + 100;
	at = fx_lot(f->miner, "at", NULL, NULL, "ore", 5, NULL);
	REFUSED(f->s, at, LS_R_REVOKED);
	/* ...but from a peer the record is stored: a revocation is not one of
	 * its dependencies (consensus), and verification flags it. */
	ACCEPT(f->s, at);
	assert_int_equal(ls_verify_provenance(f->s, at.id, &v), 0);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_int_equal(v.reasons[0].code, LS_R_REVOKED);
	ls_verdict_release(&v);
	/* A later revocation does not move an earlier one. */
	OK(f->s, fx_revoke(f->auth, f->miner->kp->pk, FX_T0 + 2000));
	f->miner->ts = FX_T0 + 1000;
	after = fx_lot(f->miner, "after", NULL, NULL, "ore", 5, NULL);
	REFUSED(f->s, after, LS_R_REVOKED);
	fx_env_release(&early);
	fx_env_release(&at);
	fx_env_release(&after);
}

static void
test_store_cert_validity(void **state)
{
	struct sfx *f = *state;
	struct fx_env c = fx_cert(f->auth, f->miner, "Seasonal Mine", NULL, LS_ROLE_MINER,
				  FX_T0 + 10, FX_T0 + 20);

	ACCEPT(f->s, c);
	f->miner->ts = FX_T0 + 9;
	REJECT(f->s, f->miner, fx_lot(f->miner, "too-early", NULL, NULL, "ore", 5, NULL),
	       LS_R_CERT_EXPIRED);
	f->miner->ts = FX_T0 + 10;
	OK(f->s, fx_lot(f->miner, "first-second", NULL, NULL, "ore", 5, NULL));
	f->miner->ts = FX_T0 + 19;
	OK(f->s, fx_lot(f->miner, "last-second", NULL, NULL, "ore", 5, NULL));
	f->miner->ts = FX_T0 + 20;
	REJECT(f->s, f->miner, fx_lot(f->miner, "too-late", NULL, NULL, "ore", 5, NULL),
	       LS_R_CERT_EXPIRED);
	{
		uint8_t id[LS_ID_LEN];
		assert_int_equal(ls_store_cert_of(f->s, f->miner->kp->pk, FX_T0 + 15, id), 0);
		assert_int_equal(ls_store_cert_of(f->s, f->miner->kp->pk, FX_T0 + 20, id),
				 LS_ERR_NOT_FOUND);
	}
	fx_env_release(&c);
}

/*
 * DESIGN §2: every node with the same records stores the same set and
 * reaches the same verdicts, whatever the order of arrival. A revocation is
 * not a dependency of the records it judges, so ingest never applies it
 * (kind.h, the three layers): verification does.
 */
static void
test_store_late_revocation_flagged(void **state)
{
	struct sfx *f = *state;
	struct fx_env rev, late;
	char *dir_b = fx_tmpdir();
	struct ls_store *b = NULL;
	struct ls_verdict v;
	struct ls_ingest_result res;

	/*
	 * A revocation is not a dependency of the records it judges, so it can
	 * arrive after them. The guarantee (README, "Consensus and audit
	 * findings"): whichever arrives first, both nodes store the record and
	 * verification reports it revoked; only a node's own client is refused
	 * it at submission (admission).
	 */
	certify(f);
	f->auth->ts = FX_T0 + 10;
	rev = fx_revoke(f->auth, f->miner->kp->pk, FX_T0 + 100);
	f->miner->ts = FX_T0 + 200;
	late = fx_lot(f->miner, "late", NULL, NULL, "ore", 5, NULL);
	/* Store A: the revocation first: the lot is stored all the same (the
	 * same set as store B's) and verification flags it. */
	ACCEPT(f->s, rev);
	ACCEPT(f->s, late);
	assert_int_equal(ls_verify_provenance(f->s, late.id, &v), 0);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_int_equal(v.reasons[0].code, LS_R_REVOKED);
	ls_verdict_release(&v);
	/* Store B: the record first: accepted, then flagged by verification. */
	assert_non_null(dir_b);
	assert_int_equal(fx_store_open(dir_b, f->auth, 0, &b), 0);
	assert_int_equal(fx_ingest(b, f->certs, 3, NULL), 0);
	assert_int_equal(fx_ingest(b, &late, 1, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_verify_provenance(b, late.id, &v), 0);
	assert_int_equal(v.kind, LS_V_VALID);
	ls_verdict_release(&v);
	assert_int_equal(fx_ingest(b, &rev, 1, &res), 0);
	assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_verify_provenance(b, late.id, &v), 0);
	assert_int_equal(v.kind, LS_V_BROKEN);
	assert_true(v.n >= 1);
	assert_int_equal(v.reasons[0].code, LS_R_REVOKED);
	assert_memory_equal(v.reasons[0].ids[0], late.id, LS_ID_LEN);
	assert_memory_equal(v.reasons[0].ids[1], rev.id, LS_ID_LEN);
	ls_verdict_release(&v);
	ls_store_close(&b);
	fx_rmtree(dir_b);
	free(dir_b);
	fx_env_release(&rev);
	fx_env_release(&late);
}

/* ---- feeds ---- */

static void
test_store_bad_prev(void **state)
{
	struct sfx *f = *state;

	certify(f);
	OK(f->s, fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL));
	/* seq 2 whose prev is a record nobody has seen: it may be another
	 * branch of the feed that has not arrived yet, so it waits (the same on
	 * every node, whatever the node's head). */
	{
		struct fx_mark m = fx_mark(f->miner);
		struct fx_env e;
		memset(f->miner->head, 0x5a, LS_ID_LEN);
		e = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL);
		EXPECT(f->s, e, LS_INGEST_PENDING, LS_R_OK);
		fx_env_release(&e);
		/* seq 2 whose prev is stored but is not the author's seq 1 (a
		 * certificate of the authority): never valid. */
		fx_rewind(f->miner, &m);
		memcpy(f->miner->head, f->certs[0].id, LS_ID_LEN);
		e = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL);
		EXPECT(f->s, e, LS_INGEST_REJECTED, LS_R_BAD_PREV);
		fx_env_release(&e);
	}
	assert_int_equal(stats(f->s).records, 4);
}

static void
test_store_time_backwards(void **state)
{
	struct sfx *f = *state;

	certify(f);
	f->miner->ts = FX_T0 + 100;
	OK(f->s, fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL));
	f->miner->ts = FX_T0 + 99;
	REJECT(f->s, f->miner, fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL),
	       LS_R_TIME_BACKWARDS);
	/* The same second is fine. */
	f->miner->ts = FX_T0 + 100;
	OK(f->s, fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL));
}

static void
test_store_known(void **state)
{
	struct sfx *f = *state;
	struct fx_env e[2];
	struct ls_ingest_result res[2];
	struct ls_store_stats before, after;

	certify(f);
	e[0] = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	e[1] = e[0];
	assert_int_equal(fx_ingest(f->s, e, 2, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_KNOWN);
	before = stats(f->s);
	for (size_t i = 0; i < 3; i++)
		EXPECT(f->s, f->certs[i], LS_INGEST_KNOWN, LS_R_OK);
	EXPECT(f->s, e[0], LS_INGEST_KNOWN, LS_R_OK);
	after = stats(f->s);
	assert_stats_equal(&before, &after);
	/* Nothing at all is a no-op. */
	assert_int_equal(ls_store_ingest(f->s, NULL, NULL, 0, NULL, NULL), 0);
	fx_env_release(&e[0]);
}

/* ---- convergence ---- */

struct heads {
	size_t n;
	uint8_t author[8][LS_KEY_LEN];
	uint64_t seq[8];
	uint8_t id[8][LS_ID_LEN];
};

static int
collect_head(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq, const uint8_t id[LS_ID_LEN])
{
	struct heads *h = arg;

	if (h->n == 8)
		return -1;
	memcpy(h->author[h->n], author, LS_KEY_LEN);
	h->seq[h->n] = seq;
	memcpy(h->id[h->n], id, LS_ID_LEN);
	h->n++;
	return 0;
}

/* xorshift64*: a fixed, portable shuffle. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/*
 * A ledger of n records across three feeds: the authority certifies a miner
 * and a processor; the miner registers lots and ships part of them; the
 * processor receipts each shipment and turns it into oxide. Every record is
 * valid in feed order.
 */
static size_t
build_ledger(struct sfx *f, struct fx_env *e, size_t n)
{
	size_t k = 0, lots = 0;

	e[k++] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	e[k++] =
	    fx_cert(f->auth, f->proc, "Plant", NULL, LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER, 0, 0);
	f->miner->ts_step = 1;
	f->proc->ts_step = 1;
	while (k < n) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%zu", lots++);
		e[k] = fx_lot(f->miner, label, "Bayan Obo", NULL, "ore", 10000,
			      "Nd=300000,Dy=50000,Fe=200000");
		const uint8_t *lot = e[k++].id;
		if (lots % 2 == 0 && k + 4 <= n) {
			struct ls_lot_input in = {{0}, 6000};
			const char *out[] = {"", ""};
			char o1[64], o2[64];
			e[k] = fx_transfer(f->miner, lot, 6000, f->proc, NULL, NULL);
			k++;
			e[k] = fx_receipt(f->proc, e[k - 1].id, 6000);
			k++;
			memcpy(in.lot, lot, LS_ID_LEN);
			snprintf(o1, sizeof(o1), "oxide-%zu:oxide:300:Dy=900000", lots);
			snprintf(o2, sizeof(o2), "tail-%zu:scrap:5000:Nd=300000,Fe=400000", lots);
			out[0] = o1;
			out[1] = o2;
			e[k++] = fx_transform(f->proc, &in, 1, out, 2);
		}
	}
	for (size_t i = 0; i < k; i++)
		assert_non_null(e[i].buf);
	return k;
}

static void
ingest_batches(struct ls_store *s, const struct fx_env *e, const size_t *order, size_t n,
	       size_t batch, bool all_accepted)
{
	struct fx_env *b = calloc(batch, sizeof(*b));
	struct ls_ingest_result *res = calloc(batch, sizeof(*res));

	assert_non_null(b);
	assert_non_null(res);
	for (size_t i = 0; i < n; i += batch) {
		size_t m = n - i < batch ? n - i : batch;
		for (size_t j = 0; j < m; j++)
			b[j] = e[order[i + j]];
		assert_int_equal(fx_ingest(s, b, m, res), 0);
		for (size_t j = 0; j < m; j++) {
			if (all_accepted && res[j].status != LS_INGEST_ACCEPTED)
				fail_msg("record %zu: %s %s", order[i + j],
					 fx_status_name(res[j].status), res[j].message);
			if (res[j].status == LS_INGEST_REJECTED)
				fail_msg("record %zu rejected: %s", order[i + j], res[j].message);
		}
	}
	free(b);
	free(res);
}

static void
test_store_out_of_order_convergence(void **state)
{
	struct sfx *f = *state;
	enum { N = 1000 };
	struct fx_env *e = calloc(N, sizeof(*e));
	size_t *order = calloc(N, sizeof(*order)), n;
	char *dir_b = fx_tmpdir();
	struct ls_store *b = NULL;
	struct ls_store_stats sa, sb;
	struct heads ha = {0}, hb = {0};
	uint64_t seed = 0x10de57011e;

	assert_non_null(e);
	assert_non_null(order);
	assert_non_null(dir_b);
	assert_int_equal(fx_store_open(dir_b, f->auth, 0, &b), 0);
	n = build_ledger(f, e, N);
	assert_int_equal(n, N);

	/* Store A: in order, batches of 100. */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	ingest_batches(f->s, e, order, n, 100, true);
	/* Store B: shuffled, batches of 37. */
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)(rnd(&seed) % (i + 1)), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	ingest_batches(b, e, order, n, 37, false);

	sa = stats(f->s);
	sb = stats(b);
	/* The set digest: the same in both stores (assert_stats_equal), and
	 * the sum of the ids, whatever the order they were stored in. */
	{
		uint8_t want[LS_ID_LEN], half[LS_ID_LEN];
		struct ls_store_stats sc;
		char *dir_c = fx_tmpdir();
		struct ls_store *c = NULL;

		digest_of(e, n, want);
		assert_memory_equal(sa.set_digest, want, LS_ID_LEN);
		/* A store holding the first half has the first half's sum. */
		assert_non_null(dir_c);
		assert_int_equal(fx_store_open(dir_c, f->auth, 0, &c), 0);
		for (size_t i = 0; i < n; i++)
			order[i] = i;
		ingest_batches(c, e, order, n / 2, 50, true);
		sc = stats(c);
		digest_of(e, n / 2, half);
		assert_int_equal(sc.records, n / 2);
		assert_memory_equal(sc.set_digest, half, LS_ID_LEN);
		assert_memory_not_equal(sc.set_digest, want, LS_ID_LEN);
		ls_store_close(&c);
		fx_rmtree(dir_c);
		free(dir_c);
	}
	assert_int_equal(sa.records, N);
	assert_int_equal(sa.pending, 0);
	assert_int_equal(sa.equivocations, 0);
	assert_int_equal(sa.authors, 3);
	assert_stats_equal(&sa, &sb);
	assert_int_equal(ls_store_heads(f->s, collect_head, &ha), 0);
	assert_int_equal(ls_store_heads(b, collect_head, &hb), 0);
	assert_int_equal(ha.n, 3);
	assert_int_equal(hb.n, 3);
	assert_memory_equal(ha.author, hb.author, sizeof(ha.author));
	assert_memory_equal(ha.seq, hb.seq, sizeof(ha.seq));
	assert_memory_equal(ha.id, hb.id, sizeof(ha.id));
	for (size_t i = 0; i < n; i++) {
		if (!has(f->s, &e[i]) || !has(b, &e[i]))
			fail_msg("record %zu missing", i);
	}
	/* Ingesting everything again changes nothing in either store. */
	ingest_batches(b, e, order, n, 250, false);
	sb = stats(b);
	assert_stats_equal(&sa, &sb);

	ls_store_close(&b);
	fx_rmtree(dir_b);
	free(dir_b);
	for (size_t i = 0; i < n; i++)
		fx_env_release(&e[i]);
	free(e);
	free(order);
}

/* ---- equivocation ---- */

struct evidence {
	size_t n;
	uint8_t *a, *b;
	size_t la, lb;
};

static int
collect_evidence(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct evidence *ev = arg;

	if (ev->n++ == 0) {
		ev->a = malloc(la);
		ev->b = malloc(lb);
		assert_non_null(ev->a);
		assert_non_null(ev->b);
		memcpy(ev->a, a, la);
		memcpy(ev->b, b, lb);
		ev->la = la;
		ev->lb = lb;
	}
	return 0;
}

static void
evidence_release(struct evidence *ev)
{
	free(ev->a);
	free(ev->b);
	memset(ev, 0, sizeof(*ev));
}

static void
test_store_equivocation(void **state)
{
	struct sfx *f = *state;
	struct fx_env x, y;
	const struct fx_env *lo, *hi;
	struct fx_mark m;
	struct evidence ev = {0};
	char *dir_b = fx_tmpdir();
	struct ls_store *b = NULL;

	certify(f);
	OK(f->s, fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL));
	m = fx_mark(f->miner);
	x = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL);
	fx_rewind(f->miner, &m);
	y = fx_lot(f->miner, "ore-2-forked", NULL, NULL, "ore", 6, NULL);
	assert_int_equal(x.seq, y.seq);
	assert_memory_not_equal(x.id, y.id, LS_ID_LEN);

	ACCEPT(f->s, x);
	/* A local client is refused the fork (admission)... */
	{
		struct ls_ingest_result res;
		assert_int_equal(fx_submit_one(f->s, y.buf, y.len, &res), 0);
		assert_int_equal(res.status, LS_INGEST_REJECTED);
		assert_int_equal(res.reason, LS_R_EQUIVOCATION);
		assert_int_equal(stats(f->s).equivocations, 0);
	}
	/* ...but from a peer both are stored, each valid on its own branch of
	 * the feed, so that every node stores the same set whatever it saw
	 * first; the pair is kept as evidence. */
	ACCEPT(f->s, y);
	assert_true(has(f->s, &x));
	assert_true(has(f->s, &y));
	assert_int_equal(stats(f->s).equivocations, 1);
	assert_int_equal(ls_store_evidence(f->s, collect_evidence, &ev), 0);
	/* The pair is kept in id order, whichever came first. */
	lo = memcmp(x.id, y.id, LS_ID_LEN) < 0 ? &x : &y;
	hi = lo == &x ? &y : &x;
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.la, lo->len);
	assert_memory_equal(ev.a, lo->buf, lo->len);
	assert_int_equal(ev.lb, hi->len);
	assert_memory_equal(ev.b, hi->buf, hi->len);
	evidence_release(&ev);
	/* Again: known, still one piece of evidence. */
	EXPECT(f->s, y, LS_INGEST_KNOWN, LS_R_OK);
	assert_int_equal(stats(f->s).equivocations, 1);
	/* Both branches go on. */
	OK(f->s, fx_lot(f->miner, "ore-3-on-y", NULL, NULL, "ore", 5, NULL));
	memcpy(f->miner->head, x.id, LS_ID_LEN);
	f->miner->seq = x.seq;
	OK(f->s, fx_lot(f->miner, "ore-3", NULL, NULL, "ore", 5, NULL));
	assert_int_equal(stats(f->s).equivocations, 2);

	/* The opposite order, both in one batch, in another store. */
	assert_non_null(dir_b);
	assert_int_equal(fx_store_open(dir_b, f->auth, 0, &b), 0);
	{
		struct fx_env batch[6] = {f->certs[0], f->certs[1], f->certs[2], {0}, y, x};
		struct ls_ingest_result res[6];
		uint8_t first[LS_ID_LEN];
		assert_int_equal(ls_store_feed_get(f->s, f->miner->kp->pk, 1, first), 0);
		assert_int_equal(ls_store_get(f->s, first, &batch[3].buf, &batch[3].len), 0);
		assert_int_equal(fx_ingest(b, batch, 6, res), 0);
		assert_int_equal(res[4].status, LS_INGEST_ACCEPTED);
		assert_int_equal(res[5].status, LS_INGEST_ACCEPTED);
		free(batch[3].buf);
	}
	assert_int_equal(ls_store_evidence(b, collect_evidence, &ev), 0);
	assert_int_equal(ev.n, 1); /* the same bytes as the other store's */
	assert_int_equal(ev.la, lo->len);
	assert_memory_equal(ev.a, lo->buf, lo->len);
	assert_int_equal(ev.lb, hi->len);
	assert_memory_equal(ev.b, hi->buf, hi->len);
	evidence_release(&ev);
	assert_int_equal(stats(b).equivocations, 1);

	ls_store_close(&b);
	fx_rmtree(dir_b);
	free(dir_b);
	fx_env_release(&x);
	fx_env_release(&y);
}

/* ---- pending ---- */

struct seen {
	size_t n;
	uint8_t id[16][LS_ID_LEN];
	size_t evidence;
};

static void
on_accepted(void *arg, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct seen *s = arg;
	uint8_t id[LS_ID_LEN];

	crypto_generichash(id, sizeof(id), r->body, r->body_len, NULL, 0);
	assert_memory_equal(id, r->id, LS_ID_LEN);
	assert_true(env != NULL && len > r->body_len);
	if (s->n < 16)
		memcpy(s->id[s->n], r->id, LS_ID_LEN);
	s->n++;
}

static void
on_evidence(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct seen *s = arg;
	assert_true(a != NULL && b != NULL && la > 0 && lb > 0);
	s->evidence++;
}

static void
test_store_pending_released(void **state)
{
	struct sfx *f = *state;
	struct fx_env cert = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	struct fx_env l1 = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	struct fx_env l2 = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL);
	struct fx_env l3 = fx_lot(f->miner, "ore-3", NULL, NULL, "ore", 5, NULL);
	struct seen seen = {0};
	struct ls_ingest_hooks hooks = {on_accepted, on_evidence, &seen};

	/* Across batches: the lot waits for its certificate. */
	EXPECT(f->s, l1, LS_INGEST_PENDING, LS_R_OK);
	assert_int_equal(stats(f->s).pending, 1);
	assert_int_equal(stats(f->s).records, 0);
	assert_false(has(f->s, &l1));
	/* Submitted again while it waits: still pending, still once. */
	EXPECT(f->s, l1, LS_INGEST_PENDING, LS_R_OK);
	assert_int_equal(stats(f->s).pending, 1);
	/* Its successor waits for it. */
	EXPECT(f->s, l3, LS_INGEST_PENDING, LS_R_OK);
	assert_int_equal(stats(f->s).pending, 2);
	{
		const uint8_t *envs[1] = {cert.buf};
		size_t lens[1] = {cert.len};
		struct ls_ingest_result res;
		assert_int_equal(ls_store_ingest(f->s, envs, lens, 1, &res, &hooks), 0);
		assert_int_equal(res.status, LS_INGEST_ACCEPTED);
	}
	/* The cert released l1; l3 still waits for l2. */
	assert_int_equal(seen.n, 2);
	assert_memory_equal(seen.id[0], cert.id, LS_ID_LEN);
	assert_memory_equal(seen.id[1], l1.id, LS_ID_LEN);
	assert_true(has(f->s, &l1));
	assert_false(has(f->s, &l3));
	assert_int_equal(stats(f->s).pending, 1);
	ACCEPT(f->s, l2);
	assert_true(has(f->s, &l3));
	assert_int_equal(stats(f->s).pending, 0);
	assert_int_equal(stats(f->s).records, 4);
	{
		uint64_t seq, ts;
		uint8_t head[LS_ID_LEN];
		assert_int_equal(ls_store_head(f->s, f->miner->kp->pk, &seq, head, &ts), 0);
		assert_int_equal(seq, 3);
		assert_memory_equal(head, l3.id, LS_ID_LEN);
	}
	fx_env_release(&cert);
	fx_env_release(&l1);
	fx_env_release(&l2);
	fx_env_release(&l3);
}

static void
test_store_pending_same_batch(void **state)
{
	struct sfx *f = *state;
	struct fx_env e[5];
	struct ls_ingest_result res[5];

	/* Receipt, transfer, lot, the receiver's cert, the miner's cert: every
	 * record before what it depends on (the receiver's cert is the
	 * authority's seq 2, the miner's its seq 1). */
	e[4] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0);
	e[3] = fx_cert(f->auth, f->proc, "Plant", NULL, LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER, 0, 0);
	e[2] = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 100, "Dy=1000");
	e[1] = fx_transfer(f->miner, e[2].id, 60, f->proc, NULL, NULL);
	e[0] = fx_receipt(f->proc, e[1].id, 60);
	assert_int_equal(fx_ingest(f->s, e, 5, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(res[2].status, LS_INGEST_PENDING);
	assert_int_equal(res[3].status, LS_INGEST_PENDING);
	assert_int_equal(res[4].status, LS_INGEST_ACCEPTED);
	for (int i = 0; i < 5; i++)
		assert_true(has(f->s, &e[i]));
	assert_int_equal(stats(f->s).pending, 0);
	/* The receipt moved the holding: the processor can use it. */
	{
		struct ls_lot_input in = {{0}, 60};
		const char *out[] = {"ox:oxide:1:Dy=60000"};
		memcpy(in.lot, e[2].id, LS_ID_LEN);
		OK(f->s, fx_transform(f->proc, &in, 1, out, 1));
	}
	for (int i = 0; i < 5; i++)
		fx_env_release(&e[i]);
}

static void
test_store_pending_full(void **state)
{
	struct sfx *f = *state;
	struct fx_env cert = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	struct fx_env e[5];
	struct ls_ingest_result res[5];

	reopen(f, 3, 0);
	for (int i = 0; i < 5; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%d", i);
		e[i] = fx_lot(f->miner, label, NULL, NULL, "ore", 5, NULL);
	}
	assert_int_equal(fx_ingest(f->s, e, 2, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	assert_int_equal(fx_ingest(f->s, e + 2, 3, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	assert_int_equal(res[1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[1].reason, LS_R_PENDING_FULL);
	assert_int_equal(res[2].status, LS_INGEST_REJECTED);
	assert_int_equal(res[2].reason, LS_R_PENDING_FULL);
	assert_int_equal(stats(f->s).pending, 3);
	/* The count survives a reopen. */
	reopen(f, 3, 0);
	EXPECT(f->s, e[3], LS_INGEST_REJECTED, LS_R_PENDING_FULL);
	/* Released records make room; what was refused can come again. */
	ACCEPT(f->s, cert);
	assert_int_equal(stats(f->s).pending, 0);
	ACCEPT(f->s, e[3]);
	ACCEPT(f->s, e[4]);
	assert_int_equal(stats(f->s).records, 6);
	for (int i = 0; i < 5; i++)
		fx_env_release(&e[i]);
	fx_env_release(&cert);
}

/* ---- bad records in a batch ---- */

static void
test_store_bad_records_in_batch(void **state)
{
	struct sfx *f = *state;
	struct fx_env e[7];
	struct ls_ingest_result res[7];
	uint8_t garbage[40];
	uint8_t *big = calloc(1, LS_ENVELOPE_MAX + 1);

	assert_non_null(big);
	certify(f);
	e[0] = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	/* A bad signature: one bit of the signature flipped. */
	e[1] = fx_lot(f->proc, "forged", NULL, NULL, "ore", 5, NULL);
	e[1].buf[e[1].len - 1] ^= 1;
	memset(garbage, 0xee, sizeof(garbage));
	e[2] = (struct fx_env){garbage, sizeof(garbage), {0}, LS_REC_NONE, 0};
	e[3] = fx_lot(f->miner, "ore-2", NULL, NULL, "ore", 5, NULL);
	e[4] = (struct fx_env){e[3].buf, e[3].len - 10, {0}, LS_REC_NONE, 0}; /* truncated */
	e[5] = (struct fx_env){big, LS_ENVELOPE_MAX + 1, {0}, LS_REC_NONE, 0};
	e[6] = fx_lot(f->miner, "ore-3", NULL, NULL, "ore", 5, NULL);
	assert_int_equal(fx_ingest(f->s, e, 7, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[1].reason, LS_R_BAD_SIGNATURE);
	assert_true(res[1].has_id);
	assert_memory_equal(res[1].id, e[1].id, LS_ID_LEN);
	assert_int_equal(res[2].status, LS_INGEST_REJECTED);
	assert_int_equal(res[2].reason, LS_R_MALFORMED);
	assert_false(res[2].has_id);
	assert_true(res[2].message[0] != '\0');
	assert_int_equal(res[3].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[4].status, LS_INGEST_REJECTED);
	assert_int_equal(res[4].reason, LS_R_MALFORMED);
	assert_int_equal(res[5].status, LS_INGEST_REJECTED);
	assert_int_equal(res[5].reason, LS_R_TOO_BIG);
	assert_int_equal(res[6].status, LS_INGEST_ACCEPTED);
	assert_int_equal(stats(f->s).records, 6);
	assert_false(has(f->s, &e[1]));
	fx_env_release(&e[0]);
	fx_env_release(&e[1]);
	fx_env_release(&e[3]);
	fx_env_release(&e[6]);
	free(big);
}

/* ---- map growth ---- */

static void
test_store_map_growth(void **state)
{
	struct sfx *f = *state;
	enum { N = 3000, BATCH = 250 };
	struct fx_env *e = calloc(N + 1, sizeof(*e));
	size_t *order = calloc(N + 1, sizeof(*order));
	struct ls_store_stats st;

	assert_non_null(e);
	assert_non_null(order);
	/* A map keeps the largest size it ever had: start from a new store. */
	ls_store_close(&f->s);
	assert_int_equal(fx_rmtree(f->dir), 0);
	reopen(f, 0, 256 << 10);
	assert_int_equal(stats(f->s).map_size, 256 << 10);
	e[0] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	for (size_t i = 1; i <= N; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%06zu", i);
		e[i] = fx_lot(f->miner, label, "Bayan Obo East Pit", NULL, "ore", 1000000 + i,
			      "Nd=300000,Pr=80000,Dy=50000,Tb=8000,Fe=200000");
		assert_non_null(e[i].buf);
	}
	for (size_t i = 0; i <= N; i++)
		order[i] = i;
	ingest_batches(f->s, e, order, N + 1, BATCH, true);
	st = stats(f->s);
	assert_int_equal(st.records, N + 1);
	/* Grown at least three times (doubling from 256 KiB). */
	assert_true(st.map_size >= (size_t)(256 << 10) * 8);

	/* Reopened with the small size: LMDB maps at least the data the file
	 * holds (the store does not adopt the earlier, larger map, which might
	 * not fit the new process's address space), and grows again. */
	reopen(f, 0, 256 << 10);
	assert_int_equal(stats(f->s).records, N + 1);
	/* (LMDB maps the data's extent, from its meta page; the file's length
	 * says nothing of it: past the data is a hole made ready for LMDB's
	 * writes, ls_store_tail_prepare, and the disk a file takes depends on
	 * the file system's allocation. What shows it is every record read.) */
	for (size_t i = 0; i <= N; i++)
		if (!has(f->s, &e[i]))
			fail_msg("record %zu lost", i);
	/* And it still takes more. */
	OK(f->s, fx_lot(f->miner, "one-more", NULL, NULL, "ore", 5, NULL));
	for (size_t i = 0; i <= N; i++)
		fx_env_release(&e[i]);
	free(e);
	free(order);
}

/* A reader thread of the growth test: reads the store until told to stop. */
struct grow_reader {
	struct ls_store *s;
	const struct fx_env *cert;
	atomic_bool *stop;
	size_t reads, errors;
};

static int
count_record(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	size_t *n = arg;

	(void)pos;
	(void)env;
	if (r == NULL || len == 0)
		return 1;
	(*n)++;
	return 0;
}

static void *
grow_reader_main(void *arg)
{
	struct grow_reader *g = arg;

	while (!atomic_load(g->stop)) {
		struct ls_log_filter lf;
		struct ls_store_stats st;
		uint8_t *buf = NULL;
		size_t len = 0, seen = 0;
		memset(&lf, 0, sizeof(lf));
		/* a point read, a walk over every record (a longer read
		 * transaction), the counters */
		if (ls_store_get(g->s, g->cert->id, &buf, &len) != 0 || len != g->cert->len ||
		    memcmp(buf, g->cert->buf, len) != 0)
			g->errors++;
		free(buf);
		if (ls_store_log(g->s, &lf, count_record, &seen) != 0 || seen == 0)
			g->errors++;
		if (ls_store_stats(g->s, &st) != 0 || st.records < seen)
			g->errors++;
		g->reads++;
	}
	return NULL;
}

/* The map grows while other threads read (the daemon's reader pool): the
 * growth waits for their read transactions, they see every record. */
static void
test_store_map_growth_with_readers(void **state)
{
	struct sfx *f = *state;
	enum { N = 3000, BATCH = 100, READERS = 3 };
	struct fx_env *e = calloc(N + 1, sizeof(*e));
	size_t *order = calloc(N + 1, sizeof(*order));
	struct grow_reader g[READERS];
	pthread_t th[READERS];
	atomic_bool stop = false;

	assert_non_null(e);
	assert_non_null(order);
	ls_store_close(&f->s);
	assert_int_equal(fx_rmtree(f->dir), 0);
	reopen(f, 0, 256 << 10);
	e[0] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	for (size_t i = 1; i <= N; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%06zu", i);
		e[i] = fx_lot(f->miner, label, "Bayan Obo East Pit", NULL, "ore", 1000000 + i,
			      "Nd=300000,Pr=80000,Dy=50000,Tb=8000,Fe=200000");
		assert_non_null(e[i].buf);
	}
	for (size_t i = 0; i <= N; i++)
		order[i] = i;
	ingest_batches(f->s, e, order, 1, 1, true);
	for (int i = 0; i < READERS; i++) {
		g[i] = (struct grow_reader){f->s, &e[0], &stop, 0, 0};
		assert_int_equal(pthread_create(&th[i], NULL, grow_reader_main, &g[i]), 0);
	}
	ingest_batches(f->s, e, order + 1, N, BATCH, true);
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(g[i].errors, 0);
		assert_true(g[i].reads > 0);
	}
	assert_int_equal(stats(f->s).records, N + 1);
	assert_true(stats(f->s).map_size >= (size_t)(256 << 10) * 8); /* grew, 3 times or more */
	for (size_t i = 0; i <= N; i++)
		if (!has(f->s, &e[i]))
			fail_msg("record %zu lost", i);
	for (size_t i = 0; i <= N; i++)
		fx_env_release(&e[i]);
	free(e);
	free(order);
}

/* Growing the map while a batch releases a long run of parked records: the
 * deletes from the pending tables hit the full map too. */
static void
test_store_map_growth_releasing_pending(void **state)
{
	struct sfx *f = *state;
	enum { N = 2000, BATCH = 400 };
	struct fx_env *e = calloc(N + 1, sizeof(*e));
	size_t *order = calloc(N + 1, sizeof(*order));
	struct ls_store_stats st;

	assert_non_null(e);
	assert_non_null(order);
	ls_store_close(&f->s);
	assert_int_equal(fx_rmtree(f->dir), 0);
	reopen(f, 0, 256 << 10);
	e[0] = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	for (size_t i = 1; i <= N; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%06zu", i);
		e[i] = fx_lot(f->miner, label, "Bayan Obo East Pit", NULL, "ore", 1000000 + i,
			      "Nd=300000,Pr=80000,Dy=50000,Tb=8000,Fe=200000");
		assert_non_null(e[i].buf);
	}
	/* Newest first: everything waits until the certificate and seq 1 come. */
	for (size_t i = 0; i <= N; i++)
		order[i] = N - i;
	ingest_batches(f->s, e, order, N + 1, BATCH, false);
	st = stats(f->s);
	assert_int_equal(st.records, N + 1);
	assert_int_equal(st.pending, 0);
	reopen(f, 0, 0);
	for (size_t i = 0; i <= N; i++)
		if (!has(f->s, &e[i]))
			fail_msg("record %zu lost", i);
	for (size_t i = 0; i <= N; i++)
		fx_env_release(&e[i]);
	free(e);
	free(order);
}

/* Overwrites the stored envelope of record id with garbage, behind the
 * store's back (the store must be closed). */
static void
corrupt_record(const char *dir, const uint8_t id[LS_ID_LEN])
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi ids, recs;
	MDB_val k = {LS_ID_LEN, (void *)(uintptr_t)id}, v, pos;
	uint8_t p[8];

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	/* a map of its own: the store's file records its sparse map size,
	 * more address space than some hosts (valgrind) give */
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "ids", 0, &ids), 0);
	assert_int_equal(mdb_dbi_open(txn, "recs", 0, &recs), 0);
	assert_int_equal(mdb_get(txn, ids, &k, &v), 0);
	assert_true(v.mv_size >= 8);
	memcpy(p, v.mv_data, 8);
	pos.mv_size = 8;
	pos.mv_data = p;
	v.mv_size = 7;
	v.mv_data = "garbage";
	assert_int_equal(mdb_put(txn, recs, &pos, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* A store whose certificate record no longer decodes: ingest of a record
 * citing it is a store error (nothing stored), not a verdict on the record. */
static void
test_store_corrupt_certificate(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot;
	struct ls_ingest_result res;
	struct ls_store_stats before;

	certify(f);
	before = stats(f->s);
	ls_store_close(&f->s);
	corrupt_record(f->dir, f->certs[0].id);
	reopen(f, 0, 0);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 5, NULL);
	assert_non_null(lot.buf);
	assert_int_equal(fx_ingest_one(f->s, lot.buf, lot.len, &res), LS_ERR_STORE);
	{
		struct ls_store_stats after = stats(f->s);
		assert_stats_equal(&before, &after);
	}
	assert_false(has(f->s, &lot));
	{
		struct ls_record *r = NULL;
		assert_int_equal(ls_store_get_record(f->s, f->certs[0].id, &r), LS_ERR_STORE);
		assert_null(r);
	}
	/* Records that do not need the broken one still go in. */
	OK(f->s, fx_transfer_tech(f->proc, "tech:magnet", f->imp, NULL, NULL));
	fx_env_release(&lot);
}

/* ---- supply-chain rules ---- */

/* The miner registers a 1000 g lot and ships `grams` of it to the processor,
 * who receipts them. Returns the lot (caller releases). */
static struct fx_env
ship_to_processor(struct sfx *f, uint64_t grams)
{
	struct fx_env lot = fx_lot(f->miner, "ore-1", NULL, NULL, "concentrate", 1000,
				   "Nd=300000,Dy=50000,Fe=100000");
	struct fx_env t, r;

	ACCEPT(f->s, lot);
	t = fx_transfer(f->miner, lot.id, grams, f->proc, NULL, NULL);
	ACCEPT(f->s, t);
	r = fx_receipt(f->proc, t.id, grams);
	ACCEPT(f->s, r);
	fx_env_release(&t);
	fx_env_release(&r);
	return lot;
}

static void
test_store_mass_balance(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot;
	struct ls_lot_input in = {{0}, 0};

	certify(f);
	lot = ship_to_processor(f, 1000);
	memcpy(in.lot, lot.id, LS_ID_LEN);

	/* More than held. */
	in.grams = 1001;
	{
		const char *out[] = {"ox:oxide:50:Dy=1000000"};
		REJECT(f->s, f->proc, fx_transform(f->proc, &in, 1, out, 1), LS_R_OVERSPEND);
	}
	/* 1000 g at 5 % Dy hold 50 g of Dy: 51 g out is too much. */
	in.grams = 1000;
	{
		const char *out[] = {"ox:oxide:51:Dy=1000000"};
		REJECT(f->s, f->proc, fx_transform(f->proc, &in, 1, out, 1), LS_R_MASS_BALANCE);
	}
	/* Spread over two outputs, too much Nd. */
	{
		const char *out[] = {"a:alloy:500:Nd=300000", "b:alloy:500:Nd=300001"};
		REJECT(f->s, f->proc, fx_transform(f->proc, &in, 1, out, 2), LS_R_MASS_BALANCE);
	}
	/* A Dy element that was not in the input at all. */
	{
		const char *out[] = {"t:metal:1:Tb=1"};
		REJECT(f->s, f->proc, fx_transform(f->proc, &in, 1, out, 1), LS_R_MASS_BALANCE);
	}
	/* Fe grows (it comes from outside the ledger): fine; exactly all the Dy. */
	{
		const char *out[] = {"magnet:magnet:3000:Nd=100000,Dy=16000,Fe=650000,B=10000",
				     "ox:oxide:2:Dy=1000000"};
		struct fx_env t = fx_transform(f->proc, &in, 1, out, 2);
		struct ls_lot_input in2 = {{0}, 3000};
		const char *out2[] = {"rotor:component:3000:Dy=16000"};
		ACCEPT(f->s, t);
		/* The input is used up. */
		in.grams = 1;
		REJECT(f->s, f->proc, fx_transform(f->proc, &in, 1, out, 1), LS_R_NOT_HOLDER);
		/* The outputs are the processor's lots. */
		ls_lot_id(t.id, 0, in2.lot);
		OK(f->s, fx_transform(f->proc, &in2, 1, out2, 1));
		/* Output 1 of a record with 2 outputs exists, output 2 does not:
		 * a transformation of it waits. */
		ls_lot_id(t.id, 2, in2.lot);
		in2.grams = 1;
		{
			struct fx_env w = fx_transform(f->proc, &in2, 1, out2, 1);
			EXPECT(f->s, w, LS_INGEST_PENDING, LS_R_OK);
			fx_env_release(&w);
		}
		fx_env_release(&t);
	}
	fx_env_release(&lot);
}

static void
test_store_transfer_and_receipt(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot, t1, t2, r1;

	certify(f);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 1000, "Dy=50000");
	ACCEPT(f->s, lot);
	t1 = fx_transfer(f->miner, lot.id, 600, f->proc, NULL, NULL);
	ACCEPT(f->s, t1);
	/* The sender holds 400 g now. */
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 401, f->proc, NULL, NULL),
	       LS_R_OVERSPEND);
	t2 = fx_transfer(f->miner, lot.id, 400, f->imp, NULL, NULL);
	ACCEPT(f->s, t2);
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 1, f->proc, NULL, NULL),
	       LS_R_NOT_HOLDER);
	/* The receiver cannot spend before its receipt. */
	REJECT(f->s, f->proc, fx_transfer(f->proc, lot.id, 100, f->imp, NULL, NULL),
	       LS_R_NOT_HOLDER);
	/* Only the receiver receipts, at most what was sent. */
	REJECT(f->s, f->imp, fx_receipt(f->imp, t1.id, 600), LS_R_BAD_RECEIPT);
	REJECT(f->s, f->proc, fx_receipt(f->proc, t1.id, 601), LS_R_BAD_RECEIPT);
	REJECT(f->s, f->proc, fx_receipt(f->proc, lot.id, 600), LS_R_BAD_RECEIPT);
	r1 = fx_receipt(f->proc, t1.id, 550); /* 50 g go back to the miner */
	ACCEPT(f->s, r1);
	/* Once only. */
	REJECT(f->s, f->proc, fx_receipt(f->proc, t1.id, 50), LS_R_BAD_RECEIPT);
	/* Now the processor can ship what it received, not more. */
	REJECT(f->s, f->proc, fx_transfer(f->proc, lot.id, 551, f->imp, NULL, NULL),
	       LS_R_OVERSPEND);
	OK(f->s, fx_transfer(f->proc, lot.id, 550, f->imp, NULL, NULL));
	OK(f->s, fx_receipt(f->imp, t2.id, 400));
	/* The miner takes the 50 g back and may ship them again. */
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 50, f->proc, NULL, NULL),
	       LS_R_NOT_HOLDER);
	OK(f->s, fx_receipt(f->miner, r1.id, 50));
	OK(f->s, fx_transfer(f->miner, lot.id, 50, f->proc, NULL, NULL));
	fx_env_release(&lot);
	fx_env_release(&t1);
	fx_env_release(&t2);
	fx_env_release(&r1);
}

static void
test_store_bad_receiver(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot;
	uint8_t real[LS_ID_LEN];

	certify(f);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 1000, NULL);
	ACCEPT(f->s, lot);
	/* to_cert is the processor's certificate, `to` is the importer. */
	memcpy(real, f->imp->cert_id, LS_ID_LEN);
	memcpy(f->imp->cert_id, f->certs[1].id, LS_ID_LEN);
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 1, f->imp, NULL, NULL),
	       LS_R_BAD_RECEIVER);
	/* to_cert is not a certificate at all. */
	memcpy(f->imp->cert_id, lot.id, LS_ID_LEN);
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 1, f->imp, NULL, NULL),
	       LS_R_BAD_RECEIVER);
	memcpy(f->imp->cert_id, real, LS_ID_LEN);
	OK(f->s, fx_transfer(f->miner, lot.id, 1, f->imp, NULL, NULL));
	fx_env_release(&lot);
}

static void
test_store_double_spend_in_feed_order(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot, t[3];
	struct ls_ingest_result res[3];
	char *dir_b = fx_tmpdir();
	struct ls_store *b = NULL;

	certify(f);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "ore", 1000, NULL);
	t[0] = fx_transfer(f->miner, lot.id, 600, f->proc, NULL, NULL);
	t[1] = fx_transfer(f->miner, lot.id, 600, f->imp, NULL, NULL);
	t[2] = lot;
	/* Store A: in order, one batch: the later in feed order is rejected. */
	assert_int_equal(fx_ingest(f->s, t + 2, 1, res), 0);
	assert_int_equal(fx_ingest(f->s, t, 2, res), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[1].reason, LS_R_OVERSPEND);

	/* Store B: the later first, then the lot, then the earlier: the same
	 * verdicts, whatever the order of arrival. */
	assert_non_null(dir_b);
	assert_int_equal(fx_store_open(dir_b, f->auth, 0, &b), 0);
	assert_int_equal(fx_ingest(b, f->certs, 3, NULL), 0);
	{
		struct fx_env order[3] = {t[1], t[2], t[0]};
		assert_int_equal(fx_ingest(b, order, 3, res), 0);
		assert_int_equal(res[0].status, LS_INGEST_PENDING);
		assert_int_equal(res[1].status, LS_INGEST_ACCEPTED);
		assert_int_equal(res[2].status, LS_INGEST_ACCEPTED);
	}
	assert_true(has(b, &t[0]));
	assert_false(has(b, &t[1]));
	assert_int_equal(stats(b).pending, 0);
	{
		struct ls_store_stats sa = stats(f->s), sb = stats(b);
		assert_stats_equal(&sa, &sb);
	}
	ls_store_close(&b);
	fx_rmtree(dir_b);
	free(dir_b);
	fx_env_release(&t[0]);
	fx_env_release(&t[1]);
	fx_env_release(&lot);
}

static void
test_store_license_use(void **state)
{
	struct sfx *f = *state;
	struct fx_env lot, lic;
	struct fx_license_spec spec = {.number = "CN-EXP-2025-0042",
				       .licensee = f->miner->kp->pk,
				       .items = "Dy",
				       .max_grams = 500,
				       .destinations = "JP",
				       .end_use = "motors"};

	certify(f);
	lic = fx_license(f->auth, &spec);
	ACCEPT(f->s, lic);
	lot = fx_lot(f->miner, "ore-1", NULL, NULL, "oxide", 1000, "Dy=500000");
	ACCEPT(f->s, lot);
	/* Wrong destination (the importer is in DE), wrong end use. */
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 100, f->imp, lic.id, "motors"),
	       LS_R_LICENSE_MISMATCH);
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 100, f->proc, lic.id, "missiles"),
	       LS_R_LICENSE_MISMATCH);
	/* Used up by the transfers that cite it. */
	OK(f->s, fx_transfer(f->miner, lot.id, 300, f->proc, lic.id, "motors"));
	REJECT(f->s, f->miner, fx_transfer(f->miner, lot.id, 201, f->proc, lic.id, "motors"),
	       LS_R_LICENSE_EXHAUSTED);
	OK(f->s, fx_transfer(f->miner, lot.id, 200, f->proc, lic.id, "motors"));
	/* A license that does not exist yet: the transfer waits for it. */
	{
		struct fx_env later = fx_license(f->auth, &spec);
		struct fx_env t = fx_transfer(f->miner, lot.id, 10, f->proc, later.id, "motors");
		EXPECT(f->s, t, LS_INGEST_PENDING, LS_R_OK);
		ACCEPT(f->s, later);
		assert_true(has(f->s, &t));
		fx_env_release(&t);
		fx_env_release(&later);
	}
	fx_env_release(&lot);
	fx_env_release(&lic);
}

/* ---- reindex ---- */

/* Sets the store's layout version to v (as an older build left it). */
static void
set_layout_version(const char *dir, uint8_t v)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	uint8_t b[4] = {0, 0, 0, v};
	MDB_val k = {7, "version"}, val = {4, b};

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	/* a map of its own: the store's file records its sparse map size,
	 * more address space than some hosts (valgrind) give */
	assert_int_equal(mdb_env_set_mapsize(env, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &val, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/*
 * lodestoned --reindex: a store of an older layout is refused with a message
 * naming --reindex; the reindex rebuilds every table from the records, so
 * the stored set, what waits and the verdicts are those of before.
 */
static void
test_store_reindex(void **state)
{
	struct sfx *f = *state;
	struct fx_env e[40], waiting, later;
	size_t n = build_ledger(f, e, 40);
	size_t *order = malloc(n * sizeof(*order));
	struct fx_idset before, after;
	struct ls_store_stats st;
	struct ls_reindex_report rep;
	struct ls_verdict v0, v1;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts o;
	int rc;

	assert_non_null(order);
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	ingest_batches(f->s, e, order, n, 7, true);
	/* One record waits for another that has not come. */
	later = fx_lot(f->miner, "later", NULL, NULL, "ore", 5, NULL);
	waiting = fx_lot(f->miner, "waiting", NULL, NULL, "ore", 5, NULL);
	EXPECT(f->s, waiting, LS_INGEST_PENDING, LS_R_OK);
	assert_int_equal(fx_stored_set(f->s, &before), 0);
	assert_int_equal(ls_verify_provenance(f->s, e[n - 1].id, &v0), 0);
	ls_store_close(&f->s);

	set_layout_version(f->dir, 1);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])f->auth->kp->pk;
	o.n_anchors = 1;
	rc = ls_store_open(f->dir, &o, &f->s, &ctx);
	assert_int_equal(rc, LS_ERR_VERSION);
	assert_non_null(strstr(ls_err_msg(&ctx, rc), "--reindex"));

	assert_int_equal(ls_store_reindex(f->dir, &o, NULL, &rep, &ctx), 0);
	assert_int_equal(rep.read, n + 1);
	assert_int_equal(rep.accepted, n);
	assert_int_equal(rep.pending, 1);
	assert_int_equal(rep.rejected, 0);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	assert_int_equal(fx_stored_set(f->s, &after), 0);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.v, before.v, before.n * LS_ID_LEN);
	assert_int_equal(ls_store_stats(f->s, &st), 0);
	assert_int_equal(st.pending, 1);
	assert_int_equal(ls_verify_provenance(f->s, e[n - 1].id, &v1), 0);
	assert_int_equal(v1.kind, v0.kind);
	assert_int_equal(v1.n, v0.n);
	/* The waiting record is released by its dependency as before. */
	ACCEPT(f->s, later);
	assert_int_equal(ls_store_stats(f->s, &st), 0);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.records, n + 2);
	/* A second reindex (of a current store) changes nothing. */
	ls_store_close(&f->s);
	assert_int_equal(ls_store_reindex(f->dir, &o, NULL, &rep, &ctx), 0);
	assert_int_equal(rep.accepted, n + 2);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	ls_verdict_release(&v0);
	ls_verdict_release(&v1);
	free(before.v);
	free(after.v);
	free(order);
	fx_env_release(&waiting);
	fx_env_release(&later);
	for (size_t i = 0; i < n; i++)
		fx_env_release(&e[i]);
}

/* Appends env to the records table of the closed store in dir, as an older
 * build whose rules let it in would have stored it. */
static void
raw_append(const char *dir, const uint8_t *env, size_t len)
{
	MDB_env *menv = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *c = NULL;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t pos[8];
	uint64_t last = 0;

	assert_int_equal(mdb_env_create(&menv), 0);
	assert_int_equal(mdb_env_set_maxdbs(menv, 64), 0);
	/* a map of its own: the store's file records its sparse map size,
	 * more address space than some hosts (valgrind) give */
	assert_int_equal(mdb_env_set_mapsize(menv, (size_t)1 << 30), 0);
	assert_int_equal(mdb_env_open(menv, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(menv, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "recs", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0)
		last = ls_be64_get(k.mv_data);
	mdb_cursor_close(c);
	ls_be64_put(pos, last + 1);
	k.mv_size = 8;
	k.mv_data = pos;
	v.mv_size = len;
	v.mv_data = (void *)(uintptr_t)env;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(menv);
}

/* The envelope of e with the 4 bytes `from` of its body replaced by `to`,
 * signed again by a: a record an older build accepted. *len its size;
 * malloc'd. */
static uint8_t *
resign_patched(const struct fx_actor *a, const struct fx_env *e, const char *from, const char *to,
	       size_t *len)
{
	struct ls_record *r = NULL;
	uint8_t *m, *env, sig[64], *p;
	size_t n, i;

	assert_int_equal(ls_record_decode(e->buf, e->len, &r, NULL), 0);
	n = r->body_len;
	assert_non_null(m = malloc(LS_SIG_DOMAIN_LEN + n));
	memcpy(m, LS_SIG_DOMAIN, LS_SIG_DOMAIN_LEN); /* with its zero byte */
	memcpy(m + LS_SIG_DOMAIN_LEN, r->body, n);
	ls_record_free(r);
	p = m + LS_SIG_DOMAIN_LEN;
	for (i = 0; i + 4 <= n && memcmp(p + i, from, 4) != 0; i++)
		;
	assert_true(i + 4 <= n);
	memcpy(p + i, to, 4);
	assert_int_equal(crypto_sign_detached(sig, NULL, m, LS_SIG_DOMAIN_LEN + n, a->kp->sk), 0);
	/* Envelope { bytes body = 1; bytes signature = 2; } by hand. */
	assert_true(n < 16384);
	assert_non_null(env = malloc(n + 3 + 2 + 64));
	*len = 0;
	env[(*len)++] = 0x0a;
	if (n >= 128) {
		env[(*len)++] = (uint8_t)(0x80 | (n & 0x7f));
		env[(*len)++] = (uint8_t)(n >> 7);
	} else {
		env[(*len)++] = (uint8_t)n;
	}
	memcpy(env + *len, p, n);
	*len += n;
	env[(*len)++] = 0x12;
	env[(*len)++] = 64;
	memcpy(env + *len, sig, 64);
	*len += 64;
	free(m);
	return env;
}

struct rejects {
	size_t n;
	enum ls_reason reason[4];
	char msg[4][LS_ERR_MSG_MAX];
};

static void
on_rejected(void *arg, const struct ls_ingest_result *res)
{
	struct rejects *x = arg;

	if (x->n < 4) {
		x->reason[x->n] = res->reason;
		snprintf(x->msg[x->n++], LS_ERR_MSG_MAX, "%s", res->message);
	}
}

/*
 * A store of layout 2 may hold records this version's rules refuse: a lot
 * with an unassigned country code (decoding refuses it now, a change of the
 * consensus rules) and a receipt of an import by a key without the importer
 * role. Opening it asks for --reindex; the reindex does not fail on them:
 * it names both and rebuilds the rest.
 */
static void
test_store_reindex_old_rules(void **state)
{
	struct sfx *f = *state;
	struct fx_actor *old = fx_actor_new("DE");
	struct fx_env lot, t, rc_env, bad_lot;
	struct ls_reindex_report rep;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts o;
	struct rejects rj = {0};
	struct ls_reindex_hooks hooks = {on_rejected, &rj};
	struct ls_store_stats st;
	uint8_t *xx;
	size_t xx_len, n;
	int rc;

	assert_non_null(old);
	certify(f);
	OK(f->s, fx_cert(f->auth, old, "Old Works", NULL, LS_ROLE_PROCESSOR, 0, 0));
	lot = fx_lot(f->miner, "ore-1", "Bayan Obo", NULL, "ore", 1000, "Nd=300000");
	ACCEPT(f->s, lot);
	t = fx_transfer(f->miner, lot.id, 400, old, NULL, NULL);
	ACCEPT(f->s, t); /* consensus: the miner exports, `old` has a certificate */
	rc_env = fx_receipt(old, t.id, 400);
	EXPECT(f->s, rc_env, LS_INGEST_REJECTED, LS_R_WRONG_ROLE);
	bad_lot = fx_lot(f->miner, "ore-2", "Bayan Obo", "CN", "ore", 1000, "Nd=300000");
	xx = resign_patched(f->miner, &bad_lot,
			    "\x1a\x02"
			    "CN",
			    "\x1a\x02"
			    "XX",
			    &xx_len);
	{
		struct ls_record *r = NULL;
		assert_int_equal(ls_record_decode(xx, xx_len, &r, &ctx), LS_ERR_MALFORMED);
		assert_non_null(strstr(ls_err_msg(&ctx, LS_ERR_MALFORMED), "lot country 'XX'"));
	}
	n = stats(f->s).records;
	ls_store_close(&f->s);
	raw_append(f->dir, rc_env.buf, rc_env.len);
	raw_append(f->dir, xx, xx_len);
	set_layout_version(f->dir, 2);

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[32])f->auth->kp->pk;
	o.n_anchors = 1;
	rc = ls_store_open(f->dir, &o, &f->s, &ctx);
	assert_int_equal(rc, LS_ERR_VERSION);
	assert_non_null(strstr(ls_err_msg(&ctx, rc), "--reindex"));
	assert_int_equal(ls_store_reindex(f->dir, &o, &hooks, &rep, &ctx), 0);
	assert_int_equal(rep.read, n + 2);
	assert_int_equal(rep.accepted, n);
	assert_int_equal(rep.rejected, 2);
	assert_int_equal(rj.n, 2);
	assert_int_equal(rj.reason[0], LS_R_WRONG_ROLE);
	assert_non_null(strstr(rj.msg[0], "importer"));
	assert_int_equal(rj.reason[1], LS_R_MALFORMED);
	assert_non_null(strstr(rj.msg[1], "'XX'"));
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	assert_int_equal(ls_store_stats(f->s, &st), 0);
	assert_int_equal(st.records, n);
	assert_int_equal(st.pending, 0);
	free(xx);
	fx_env_release(&lot);
	fx_env_release(&t);
	fx_env_release(&rc_env);
	fx_env_release(&bad_lot);
	fx_actor_free(&old);
}

/* A reindex while the store is open elsewhere is refused. */
static void
test_store_reindex_locked(void **state)
{
	struct sfx *f = *state;
	struct ls_reindex_report rep;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts o;

	certify(f);
	memset(&o, 0, sizeof(o));
	assert_int_equal(ls_store_reindex(f->dir, &o, NULL, &rep, &ctx), LS_ERR_LOCKED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store_reopen_keeps_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_tail_prepared, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_layout8_upgraded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_output_lot_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_locked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_anchor_ingest, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_no_certificate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_wrong_role, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_revoked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_cert_validity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_late_revocation_flagged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_bad_prev, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_time_backwards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_known, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_out_of_order_convergence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_equivocation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_pending_released, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_pending_same_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_pending_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_bad_records_in_batch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_map_growth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_map_growth_with_readers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_map_growth_releasing_pending, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_store_corrupt_certificate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_mass_balance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_transfer_and_receipt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_bad_receiver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_double_spend_in_feed_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_license_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_reindex, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_reindex_old_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_reindex_locked, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
