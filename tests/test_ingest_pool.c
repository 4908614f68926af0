/* WRAP: pthread_create ls_record_verify ls_record_decode mdb_txn_commit */
/*
 * test_ingest_pool.c - the store's verifier pool: the threads that decode
 * and verify each ingest batch beside the writer (lib/ingest.c).
 *
 * What a user relies on: a batch gives the same results and the same ledger
 * whatever the number of threads; records from peers and from local clients
 * in one batch are verified on the same pool; a store whose threads cannot be
 * made still ingests correctly; a local fault on a worker (out of memory
 * while decoding) fails the batch, never a verdict, and once the fault is
 * gone the same batch is stored; and when ingest returns, nothing of the
 * batch is still being verified (the store may be closed at once).
 *
 * A stream of batches (ls_store_ingest_run) gives the results and the ledger
 * of one call per batch, each batch's signatures checked while the one
 * before it commits; a commit that fails stops the stream there, the batches
 * before it stored, nothing after it, nothing still being verified.
 *
 * The wraps observe which thread verified what, slow the writer's own
 * verifications (or its commits) down so the workers get their share on a
 * busy machine, and fail thread creation, a decode or a commit on demand.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <errno.h>
#include <lmdb.h>
#include <sodium.h>

#include "err.h"
#include "helper_fixture.h"
#include "reason.h"
#include "record.h"
#include "store.h"

int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int __real_ls_record_verify(const struct ls_record *r);
int __wrap_ls_record_verify(const struct ls_record *r);
int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __real_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);
int __wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);

#define MAX_SEEN 4096

static pthread_t main_thread;
static atomic_uint creates_to_fail; /* pthread_create calls to fail from now */
static atomic_uint main_slow_us;    /* sleep per verify on the writer (main) thread */
static atomic_uint worker_slow_us;  /* sleep per verify on any other thread */
static atomic_ulong verifies;       /* every call */
static const uint8_t *fail_decode;  /* the envelope whose decode fails (ENOMEM) */
static atomic_uint decode_faults;
static atomic_uint commit_slow_us;  /* sleep in each commit */
static atomic_uint commits_to_pass; /* with commit_fail: commits that pass first */
static atomic_bool commit_fail;     /* then one fails (EIO), as a failing disk's */
static atomic_ulong commits;        /* every commit */
static atomic_ulong overlapped;     /* commits during which a record was verified */

/* The ids verified off the main thread. */
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static uint8_t seen[MAX_SEEN][LS_ID_LEN];
static size_t n_seen;

int
__wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	unsigned n = atomic_load(&creates_to_fail);

	while (n > 0 && !atomic_compare_exchange_weak(&creates_to_fail, &n, n - 1))
		;
	if (n > 0)
		return EAGAIN;
	return __real_pthread_create(th, attr, fn, arg);
}

static void
sleep_us(unsigned us)
{
	struct timespec ts = {0, (long)us * 1000};

	if (us > 0)
		nanosleep(&ts, NULL);
}

int
__wrap_ls_record_verify(const struct ls_record *r)
{
	bool on_main = pthread_equal(pthread_self(), main_thread);

	atomic_fetch_add(&verifies, 1);
	sleep_us(atomic_load(on_main ? &main_slow_us : &worker_slow_us));
	if (!on_main) {
		pthread_mutex_lock(&seen_mu);
		if (n_seen < MAX_SEEN)
			memcpy(seen[n_seen++], r->id, LS_ID_LEN);
		pthread_mutex_unlock(&seen_mu);
	}
	return __real_ls_record_verify(r);
}

int
__wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			struct ls_err_ctx *ctx)
{
	if (fail_decode != NULL && buf == fail_decode) {
		atomic_fetch_add(&decode_faults, 1);
		*out = NULL;
		return ls_err_set(ctx, LS_ERR_NOMEM, "out of memory (injected)");
	}
	return __real_ls_record_decode(buf, len, out, ctx);
}

int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	unsigned long before = atomic_load(&verifies);
	unsigned pass = atomic_load(&commits_to_pass);
	int rc;

	atomic_fetch_add(&commits, 1);
	if (atomic_load(&commit_fail)) {
		if (pass == 0) {
			atomic_store(&commit_fail, false);
			mdb_txn_abort(txn); /* as a failed commit does */
			return EIO;
		}
		atomic_store(&commits_to_pass, pass - 1);
	}
	sleep_us(atomic_load(&commit_slow_us));
	rc = __real_mdb_txn_commit(txn);
	if (atomic_load(&verifies) != before)
		atomic_fetch_add(&overlapped, 1);
	return rc;
}

static bool
seen_off_main(const uint8_t id[LS_ID_LEN])
{
	bool found = false;

	pthread_mutex_lock(&seen_mu);
	for (size_t i = 0; i < n_seen && !found; i++)
		found = memcmp(seen[i], id, LS_ID_LEN) == 0;
	pthread_mutex_unlock(&seen_mu);
	return found;
}

static size_t
seen_count(void)
{
	size_t n;

	pthread_mutex_lock(&seen_mu);
	n = n_seen;
	pthread_mutex_unlock(&seen_mu);
	return n;
}

static void
wraps_reset(void)
{
	atomic_store(&creates_to_fail, 0);
	atomic_store(&main_slow_us, 0);
	atomic_store(&worker_slow_us, 0);
	fail_decode = NULL;
	atomic_store(&decode_faults, 0);
	atomic_store(&commit_slow_us, 0);
	atomic_store(&commit_fail, false);
	atomic_store(&commits_to_pass, 0);
	atomic_store(&overlapped, 0);
	pthread_mutex_lock(&seen_mu);
	n_seen = 0;
	pthread_mutex_unlock(&seen_mu);
}

/* ---- the world: an anchor, MINERS certified miners, their lots ---- */

#define MINERS 3

struct pfx {
	char *dir, *dir2;
	struct fx_actor *auth, *m[MINERS];
	struct fx_env certs[MINERS];
	struct fx_env *lots;
	size_t n_lots;
};

static int
setup(void **state)
{
	struct pfx *f = calloc(1, sizeof(*f));

	wraps_reset();
	if (f == NULL || (f->dir = fx_tmpdir()) == NULL || (f->dir2 = fx_tmpdir()) == NULL ||
	    (f->auth = fx_actor_new("CN")) == NULL)
		return -1;
	for (size_t i = 0; i < MINERS; i++) {
		if ((f->m[i] = fx_actor_new("CN")) == NULL)
			return -1;
		f->certs[i] = fx_cert(f->auth, f->m[i], "Bayan Obo", NULL, LS_ROLE_MINER, 0, 0);
		if (f->certs[i].buf == NULL)
			return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct pfx *f = *state;

	wraps_reset();
	fx_rmtree(f->dir);
	fx_rmtree(f->dir2);
	free(f->dir);
	free(f->dir2);
	for (size_t i = 0; i < f->n_lots; i++)
		fx_env_release(&f->lots[i]);
	free(f->lots);
	for (size_t i = 0; i < MINERS; i++) {
		fx_env_release(&f->certs[i]);
		fx_actor_free(&f->m[i]);
	}
	fx_actor_free(&f->auth);
	free(f);
	return 0;
}

/* n lots, the miners in turn. */
static void
make_lots(struct pfx *f, size_t n)
{
	char label[32];

	assert_non_null(f->lots = calloc(n, sizeof(*f->lots)));
	for (size_t i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "ore-%zu", i);
		f->lots[i] = fx_lot(f->m[i % MINERS], label, "Bayan Obo", NULL, "ore", 1000 + i,
				    "Nd=300000");
		assert_non_null(f->lots[i].buf);
	}
	f->n_lots = n;
}

/* A bad signature: the envelope ends with the signature bytes. */
static void
corrupt(struct fx_env *e)
{
	e->buf[e->len - 1] ^= 0x01;
}

static struct ls_store *
open_store_map(const char *dir, const struct pfx *f, unsigned threads, size_t map_size)
{
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_store *s = NULL;
	int rc;

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])f->auth->kp->pk;
	o.n_anchors = 1;
	o.verify_threads = threads;
	o.map_size = map_size;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0)
		fail_msg("open: %s", ls_err_msg(&ctx, rc));
	return s;
}

static struct ls_store *
open_store(const char *dir, const struct pfx *f, unsigned threads)
{
	return open_store_map(dir, f, threads, 0);
}

static void
ingest_certs(struct ls_store *s, const struct pfx *f)
{
	struct ls_ingest_result res[MINERS];

	assert_int_equal(fx_ingest(s, f->certs, MINERS, res), 0);
	for (size_t i = 0; i < MINERS; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
}

/* Ingests envs [from, from + n) with admit (NULL: peers). */
static int
ingest_range(struct ls_store *s, const struct fx_env *envs, size_t n, const uint8_t *admit,
	     struct ls_ingest_result *res)
{
	const uint8_t **b = calloc(n, sizeof(*b));
	size_t *l = calloc(n, sizeof(*l));
	int rc;

	assert_non_null(b);
	assert_non_null(l);
	for (size_t i = 0; i < n; i++) {
		b[i] = envs[i].buf;
		l[i] = envs[i].len;
	}
	rc = ls_store_ingest_admit(s, b, l, admit, n, res, NULL);
	free(b);
	free(l);
	return rc;
}

static uint64_t
records(struct ls_store *s)
{
	struct ls_store_stats st;

	assert_int_equal(ls_store_stats(s, &st), 0);
	return st.records;
}

/*
 * Many batches, with bad signatures (a copy of a record, placed before it)
 * and malformed envelopes among them: a store with three verifying threads
 * gives every result and the ledger of a store with one, and its workers
 * did verify.
 */
static void
test_ingest_pool_many_batches(void **state)
{
	struct pfx *f = *state;
	enum { BATCHES = 24, PER = 120, MAXB = PER + PER / 10 + PER / 10 };
	static uint8_t junk[5] = {0x0a, 0x03, 0x01, 0x02, 0x03};
	struct ls_store *s3, *s1;
	struct ls_ingest_result r3[MAXB], r1[MAXB];
	struct fx_env batch[MAXB], copies[PER];
	enum { GOOD, BAD_SIG, BAD_BYTES } kind[MAXB];
	size_t accepted = 0, rejected = 0;

	make_lots(f, BATCHES * PER);
	s3 = open_store(f->dir, f, 3);
	s1 = open_store(f->dir2, f, 1);
	ingest_certs(s3, f);
	ingest_certs(s1, f);
	atomic_store(&main_slow_us, 100);
	for (size_t b = 0; b < BATCHES; b++) {
		size_t n = 0, nc = 0;
		for (size_t i = 0; i < PER; i++) {
			const struct fx_env *e = &f->lots[b * PER + i];
			if ((i + b) % 10 == 3) {
				copies[nc] = *e;
				assert_non_null(copies[nc].buf = malloc(e->len));
				memcpy(copies[nc].buf, e->buf, e->len);
				corrupt(&copies[nc]);
				kind[n] = BAD_SIG;
				batch[n++] = copies[nc++];
			}
			if ((i + 2 * b) % 10 == 7) {
				kind[n] = BAD_BYTES;
				batch[n++] = (struct fx_env){.buf = junk, .len = sizeof(junk)};
			}
			kind[n] = GOOD;
			batch[n++] = *e;
		}
		assert_int_equal(ingest_range(s3, batch, n, NULL, r3), 0);
		assert_int_equal(ingest_range(s1, batch, n, NULL, r1), 0);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(r3[i].status, r1[i].status);
			assert_int_equal(r3[i].reason, r1[i].reason);
			assert_int_equal(r3[i].has_id, r1[i].has_id);
			if (r3[i].has_id)
				assert_memory_equal(r3[i].id, r1[i].id, LS_ID_LEN);
			assert_int_equal(r3[i].status,
					 kind[i] == GOOD ? LS_INGEST_ACCEPTED : LS_INGEST_REJECTED);
			if (kind[i] != GOOD)
				assert_int_equal(r3[i].reason, kind[i] == BAD_SIG
								   ? LS_R_BAD_SIGNATURE
								   : LS_R_MALFORMED);
			accepted += r3[i].status == LS_INGEST_ACCEPTED;
			rejected += r3[i].status == LS_INGEST_REJECTED;
		}
		for (size_t i = 0; i < nc; i++)
			fx_env_release(&copies[i]);
	}
	assert_int_equal(accepted, f->n_lots);
	assert_true(rejected >= 2 * BATCHES * (PER / 10));
	assert_int_equal(records(s3), records(s1));
	assert_int_equal(records(s3), MINERS + f->n_lots);
	assert_true(seen_count() > 0);
	ls_store_close(&s3);
	ls_store_close(&s1);
}

/*
 * One batch of peers' and local clients' records, as the daemon's batch
 * mixes them: both are verified on the pool's workers, and each gets its
 * own verdict.
 */
static void
test_ingest_pool_peers_and_clients(void **state)
{
	struct pfx *f = *state;
	enum { N = 600 };
	struct ls_ingest_result res[N];
	uint8_t admit[N];
	size_t peer_off = 0, local_off = 0;
	struct ls_store *s;

	make_lots(f, N);
	/* In runs of 10: a peer's message, a client's request. */
	for (size_t i = 0; i < N; i++)
		admit[i] = (i / 10) % 2 ? LS_ADMIT_LOCAL : LS_ADMIT_PEER;
	/* The last record of each miner's feed, so no other waits for it. */
	corrupt(&f->lots[N - 1]);
	corrupt(&f->lots[N - 2]);
	corrupt(&f->lots[N - 3]);
	s = open_store(f->dir, f, 2);
	ingest_certs(s, f);
	atomic_store(&main_slow_us, 300);
	assert_int_equal(ingest_range(s, f->lots, N, admit, res), 0);
	for (size_t i = 0; i < N; i++) {
		if (i >= N - 3) {
			assert_int_equal(res[i].status, LS_INGEST_REJECTED);
			assert_int_equal(res[i].reason, LS_R_BAD_SIGNATURE);
			continue;
		}
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
		if (seen_off_main(f->lots[i].id)) {
			if (admit[i] == LS_ADMIT_PEER)
				peer_off++;
			else
				local_off++;
		}
	}
	assert_true(peer_off > 0);
	assert_true(local_off > 0);
	assert_int_equal(records(s), MINERS + N - 3);
	ls_store_close(&s);
}

/*
 * Out of memory while a worker decodes: the batch fails (nothing stored,
 * nothing rejected), ingest returns only when no thread verifies any more
 * of it, the store closes at once; reopened, the same batch is stored.
 */
static void
test_ingest_pool_fault_in_flight(void **state)
{
	struct pfx *f = *state;
	enum { N = 500 };
	struct ls_ingest_result res[N];
	unsigned long after;
	struct ls_store *s;

	make_lots(f, N);
	s = open_store(f->dir, f, 3);
	ingest_certs(s, f);
	/* The writer fails at the first record while the workers are busy
	 * with the chunks after it. */
	atomic_store(&worker_slow_us, 500);
	fail_decode = f->lots[0].buf;
	assert_int_equal(ingest_range(s, f->lots, N, NULL, res), LS_ERR_NOMEM);
	after = atomic_load(&verifies);
	assert_true(atomic_load(&decode_faults) > 0);
	assert_int_equal(records(s), MINERS);
	ls_store_close(&s);
	sleep_us(20000);
	assert_int_equal(atomic_load(&verifies), after);

	/* A fault on a record in the middle, decoded by whichever thread. */
	s = open_store(f->dir, f, 3);
	fail_decode = f->lots[N / 2].buf;
	assert_int_equal(ingest_range(s, f->lots, N, NULL, res), LS_ERR_NOMEM);
	assert_int_equal(records(s), MINERS);

	fail_decode = NULL;
	atomic_store(&worker_slow_us, 0);
	assert_int_equal(ingest_range(s, f->lots, N, NULL, res), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(records(s), MINERS + N);
	ls_store_close(&s);
}

/* A map too small for the batch: the attempt fails, the map grows (no
 * thread may hold a read transaction then) and the retry stores it all. */
static void
test_ingest_pool_map_growth(void **state)
{
	struct pfx *f = *state;
	enum { N = 3000, BATCH = 250 };
	struct ls_ingest_result res[BATCH];
	struct ls_store_stats st;
	struct ls_store *s;

	make_lots(f, N);
	s = open_store_map(f->dir, f, 2, 256 << 10);
	ingest_certs(s, f);
	for (size_t b = 0; b < N / BATCH; b++) {
		assert_int_equal(ingest_range(s, f->lots + b * BATCH, BATCH, NULL, res), 0);
		for (size_t i = 0; i < BATCH; i++)
			assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	}
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.records, MINERS + N);
	assert_true(st.map_size >= (size_t)(256 << 10) * 8);
	ls_store_close(&s);
}

/* No thread can be made: the store opens, the writer verifies alone, and
 * the results are the same; with some made, the same again. */
static void
test_ingest_pool_no_threads(void **state)
{
	struct pfx *f = *state;
	enum { N = 300 };
	struct ls_ingest_result res[N];
	struct ls_store *s;

	make_lots(f, N);
	corrupt(&f->lots[N - 1]);
	atomic_store(&creates_to_fail, 1000);
	s = open_store(f->dir, f, 4);
	atomic_store(&creates_to_fail, 0);
	ingest_certs(s, f);
	assert_int_equal(ingest_range(s, f->lots, N / 2, NULL, res), 0);
	for (size_t i = 0; i < N / 2; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(seen_count(), 0);
	ls_store_close(&s);

	/* One of three made. */
	atomic_store(&creates_to_fail, 2);
	s = open_store(f->dir, f, 4);
	atomic_store(&creates_to_fail, 0);
	atomic_store(&main_slow_us, 300);
	assert_int_equal(ingest_range(s, f->lots + N / 2, N / 2, NULL, res), 0);
	for (size_t i = 0; i < N / 2 - 1; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[N / 2 - 1].status, LS_INGEST_REJECTED);
	assert_int_equal(res[N / 2 - 1].reason, LS_R_BAD_SIGNATURE);
	assert_true(seen_count() > 0);
	assert_int_equal(records(s), MINERS + N - 1);
	ls_store_close(&s);
}

/* ---- streams of batches: ls_store_ingest_run ---- */

enum expect { E_ACCEPTED, E_PENDING, E_BAD_SIG, E_KNOWN, E_MALFORMED };

struct stream {
	struct fx_env *e;
	enum expect *want;
	const uint8_t **b;
	size_t *l;
	size_t n;
	struct fx_env *copies; /* the corrupted ones, owned */
	size_t n_copies;
};

static void
stream_push(struct stream *st, struct fx_env e, enum expect want)
{
	st->e[st->n] = e;
	st->want[st->n] = want;
	st->b[st->n] = e.buf;
	st->l[st->n] = e.len;
	st->n++;
}

static struct fx_env
stream_copy(struct stream *st, const struct fx_env *e)
{
	struct fx_env *c = &st->copies[st->n_copies++];

	*c = *e;
	assert_non_null(c->buf = malloc(e->len));
	memcpy(c->buf, e->buf, e->len);
	corrupt(c);
	return *c;
}

/*
 * f's lots as a hostile mix: a bad-signature copy before some records
 * (refused: nothing of it is stored yet), a bad-signature copy of a record
 * half a batch back after others (known: stored by then, in this batch or
 * the one whose commit its verification overlapped), malformed bytes, and
 * pairs of one feed in the wrong order (the later seq waits, the earlier
 * releases it; across batch boundaries too).
 */
static void
stream_make(struct stream *st, const struct pfx *f, size_t per)
{
	static uint8_t junk[5] = {0x0a, 0x03, 0x01, 0x02, 0x03};
	size_t cap = 3 * f->n_lots;

	memset(st, 0, sizeof(*st));
	assert_non_null(st->e = calloc(cap, sizeof(*st->e)));
	assert_non_null(st->want = calloc(cap, sizeof(*st->want)));
	assert_non_null(st->b = calloc(cap, sizeof(*st->b)));
	assert_non_null(st->l = calloc(cap, sizeof(*st->l)));
	assert_non_null(st->copies = calloc(cap, sizeof(*st->copies)));
	for (size_t i = 0; i < f->n_lots; i++) {
		size_t j = i;
		/* i and i + 3 are one miner's consecutive lots: swapped */
		if (i % 50 == 20 && i + 3 < f->n_lots)
			j = i + 3;
		else if (i % 50 == 23)
			j = i - 3;
		if (i % 10 == 3)
			stream_push(st, stream_copy(st, &f->lots[j]), E_BAD_SIG);
		stream_push(st, f->lots[j], i % 50 == 20 && j != i ? E_PENDING : E_ACCEPTED);
		if (i % 10 == 6 && i >= per / 2)
			stream_push(st, stream_copy(st, &f->lots[i - per / 2]), E_KNOWN);
		if (i % 17 == 5)
			stream_push(st, (struct fx_env){.buf = junk, .len = sizeof(junk)},
				    E_MALFORMED);
	}
}

static void
stream_free(struct stream *st)
{
	for (size_t i = 0; i < st->n_copies; i++)
		fx_env_release(&st->copies[i]);
	free(st->copies);
	free(st->e);
	free(st->want);
	free(st->b);
	free(st->l);
}

static void
assert_expected(const struct ls_ingest_result *r, enum expect want)
{
	switch (want) {
	case E_ACCEPTED: assert_int_equal(r->status, LS_INGEST_ACCEPTED); break;
	case E_PENDING: assert_int_equal(r->status, LS_INGEST_PENDING); break;
	case E_KNOWN: assert_int_equal(r->status, LS_INGEST_KNOWN); break;
	case E_BAD_SIG:
		assert_int_equal(r->status, LS_INGEST_REJECTED);
		assert_int_equal(r->reason, LS_R_BAD_SIGNATURE);
		break;
	case E_MALFORMED:
		assert_int_equal(r->status, LS_INGEST_REJECTED);
		assert_int_equal(r->reason, LS_R_MALFORMED);
		break;
	}
}

struct steps {
	size_t calls, last;
	bool increasing;
};

static void
on_step(void *arg, size_t done)
{
	struct steps *sp = arg;

	sp->increasing = sp->increasing && done > sp->last;
	sp->last = done;
	sp->calls++;
}

/*
 * The same hostile stream as one run (three threads, commits slowed so
 * the workers have time to verify ahead) and as one call per batch (the
 * writer alone): the same result for every envelope, the expected one, and
 * the same ledger; the next batch was verified during the commits; step told
 * every batch.
 */
static void
test_ingest_pool_run_same_as_batches(void **state)
{
	struct pfx *f = *state;
	enum { N = 1500, PER = 100 };
	struct ls_ingest_result *rr, *rb;
	struct ls_store_stats a, b;
	struct ls_store *sr, *sb;
	struct steps sp = {0, 0, true};
	struct stream st;
	size_t batches;

	make_lots(f, N);
	stream_make(&st, f, PER);
	batches = (st.n + PER - 1) / PER;
	assert_non_null(rr = calloc(st.n, sizeof(*rr)));
	assert_non_null(rb = calloc(st.n, sizeof(*rb)));
	sr = open_store(f->dir, f, 3);
	sb = open_store(f->dir2, f, 1);
	ingest_certs(sr, f);
	ingest_certs(sb, f);

	atomic_store(&commit_slow_us, 5000);
	atomic_store(&overlapped, 0);
	assert_int_equal(ls_store_ingest_run(sr, st.b, st.l, st.n, PER, rr, NULL, on_step, &sp), 0);
	assert_true(atomic_load(&overlapped) > 0);
	atomic_store(&commit_slow_us, 0);
	assert_int_equal(sp.calls, batches);
	assert_int_equal(sp.last, st.n);
	assert_true(sp.increasing);

	for (size_t at = 0; at < st.n; at += PER) {
		size_t m = st.n - at < PER ? st.n - at : PER;
		assert_int_equal(ls_store_ingest(sb, st.b + at, st.l + at, m, rb + at, NULL), 0);
	}
	for (size_t i = 0; i < st.n; i++) {
		assert_int_equal(rr[i].status, rb[i].status);
		assert_int_equal(rr[i].reason, rb[i].reason);
		assert_int_equal(rr[i].has_id, rb[i].has_id);
		if (rr[i].has_id)
			assert_memory_equal(rr[i].id, rb[i].id, LS_ID_LEN);
		assert_expected(&rr[i], st.want[i]);
	}
	assert_int_equal(ls_store_stats(sr, &a), 0);
	assert_int_equal(ls_store_stats(sb, &b), 0);
	assert_int_equal(a.records, MINERS + N);
	assert_int_equal(a.pending, 0);
	assert_int_equal(b.records, a.records);
	assert_int_equal(b.pending, 0);
	assert_memory_equal(a.set_digest, b.set_digest, LS_ID_LEN);
	assert_true(seen_count() > 0);

	/* A batch size of 0 is refused, and a run of nothing is nothing. */
	assert_int_equal(ls_store_ingest_run(sr, st.b, st.l, st.n, 0, rr, NULL, NULL, NULL),
			 LS_ERR_INVALID);
	assert_int_equal(ls_store_ingest_run(sr, st.b, st.l, 0, PER, rr, NULL, NULL, NULL), 0);
	ls_store_close(&sr);
	ls_store_close(&sb);
	free(rr);
	free(rb);
	stream_free(&st);
}

/*
 * A commit fails half-way through a run (a failing disk): the run returns
 * that error; the batches before it are stored, nothing of it or after it;
 * nothing is still being verified when the call returns (the store closes
 * at once); reopened, a run of the rest stores the rest.
 */
static void
test_ingest_pool_run_commit_fails(void **state)
{
	struct pfx *f = *state;
	enum { N = 2000, PER = 200, GOOD = 4 };
	struct ls_ingest_result res[N];
	const uint8_t *b[N];
	size_t l[N];
	unsigned long after;
	struct ls_store *s;
	int rc;

	make_lots(f, N);
	for (size_t i = 0; i < N; i++) {
		b[i] = f->lots[i].buf;
		l[i] = f->lots[i].len;
	}
	s = open_store(f->dir, f, 3);
	ingest_certs(s, f);
	atomic_store(&worker_slow_us, 200);
	atomic_store(&commits_to_pass, GOOD);
	atomic_store(&commit_fail, true);
	rc = ls_store_ingest_run(s, b, l, N, PER, res, NULL, NULL, NULL);
	assert_int_not_equal(rc, 0);
	assert_false(atomic_load(&commit_fail)); /* it did fail one */
	after = atomic_load(&verifies);
	assert_int_equal(records(s), MINERS + GOOD * PER);
	for (size_t i = 0; i < GOOD * PER; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	ls_store_close(&s);
	sleep_us(20000);
	assert_int_equal(atomic_load(&verifies), after);

	atomic_store(&worker_slow_us, 0);
	s = open_store(f->dir, f, 3);
	assert_int_equal(records(s), MINERS + GOOD * PER);
	assert_int_equal(ls_store_ingest_run(s, b + GOOD * PER, l + GOOD * PER, N - GOOD * PER, PER,
					     res, NULL, NULL, NULL),
			 0);
	for (size_t i = 0; i < N - GOOD * PER; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(records(s), MINERS + N);
	ls_store_close(&s);
}

/* A run into a map too small for it: each full map grows (with no read
 * transaction open, the next batch's verification stopped for it) and the
 * run stores every record. */
static void
test_ingest_pool_run_map_growth(void **state)
{
	struct pfx *f = *state;
	enum { N = 3000, PER = 250 };
	struct ls_ingest_result res[N];
	const uint8_t *b[N];
	size_t l[N];
	struct ls_store_stats st;
	struct ls_store *s;

	make_lots(f, N);
	for (size_t i = 0; i < N; i++) {
		b[i] = f->lots[i].buf;
		l[i] = f->lots[i].len;
	}
	s = open_store_map(f->dir, f, 3, 256 << 10);
	ingest_certs(s, f);
	atomic_store(&commit_slow_us, 2000);
	assert_int_equal(ls_store_ingest_run(s, b, l, N, PER, res, NULL, NULL, NULL), 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
	assert_int_equal(ls_store_stats(s, &st), 0);
	assert_int_equal(st.records, MINERS + N);
	assert_true(st.map_size >= (size_t)(256 << 10) * 8);
	ls_store_close(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ingest_pool_many_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_peers_and_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_fault_in_flight, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_map_growth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_no_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_run_same_as_batches, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_run_commit_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ingest_pool_run_map_growth, setup, teardown),
	};

	main_thread = pthread_self();
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
