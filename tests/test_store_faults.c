/* WRAP: mdb_txn_commit mdb_env_set_mapsize */
/*
 * test_store_faults.c - what the store does when LMDB cannot commit: a full
 * disk (ENOSPC), a full map (MDB_MAP_FULL), an I/O error. Those cannot be
 * caused on demand on a test machine, so mdb_txn_commit is wrapped at link
 * time (see the WRAP line above and the Makefile): the wrap can be told to
 * fail the next N commits with a given code, aborting the transaction as a
 * failed commit does.
 *
 * The contract under test (store.h): when ls_store_ingest returns an error,
 * nothing of the batch is stored, no hook is called, and the same batch can
 * be ingested again once the fault is gone; the store reopens cleanly.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "err.h"
#include "helper_fixture.h"
#include "store.h"

int __real_mdb_txn_commit(MDB_txn *txn);
int __wrap_mdb_txn_commit(MDB_txn *txn);
int __real_mdb_env_set_mapsize(MDB_env *env, size_t size);
int __wrap_mdb_env_set_mapsize(MDB_env *env, size_t size);

/* Grows of the map still to fail as LMDB's do when the new size cannot be
 * mapped: the old map is already unmapped (the real call with a size no
 * address space holds does exactly that). */
static unsigned grows_to_fail;

int
__wrap_mdb_env_set_mapsize(MDB_env *env, size_t size)
{
	MDB_envinfo info;

	if (grows_to_fail > 0 && mdb_env_info(env, &info) == 0 && size > info.me_mapsize) {
		grows_to_fail--;
		return __real_mdb_env_set_mapsize(env, (size_t)1 << 62);
	}
	return __real_mdb_env_set_mapsize(env, size);
}

static struct {
	int rc;          /* the code failed commits return */
	unsigned left;   /* commits still to fail */
	unsigned failed; /* commits failed so far */
	unsigned passed; /* commits let through */
} fault;

int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	if (fault.left > 0) {
		fault.left--;
		fault.failed++;
		/* A failed commit frees the transaction, as LMDB's does. */
		mdb_txn_abort(txn);
		return fault.rc;
	}
	fault.passed++;
	return __real_mdb_txn_commit(txn);
}

static void
fail_commits(int rc, unsigned n)
{
	fault.rc = rc;
	fault.left = n;
	fault.failed = 0;
	fault.passed = 0;
}

struct ffx {
	char *dir;
	struct ls_store *s;
	struct fx_actor *auth, *miner;
	struct fx_env cert;
	struct fx_env lots[8];
};

#define SMALL_MAP (1u << 20)

static int
setup(void **state)
{
	struct ffx *f = calloc(1, sizeof(*f));

	fail_commits(0, 0);
	grows_to_fail = 0;
	if (f == NULL || (f->dir = fx_tmpdir()) == NULL)
		return -1;
	f->auth = fx_actor_new("CN");
	f->miner = fx_actor_new("CN");
	if (f->auth == NULL || f->miner == NULL)
		return -1;
	if (fx_store_open(f->dir, f->auth, SMALL_MAP, &f->s) != 0)
		return -1;
	f->cert = fx_cert(f->auth, f->miner, "Mine", NULL, LS_ROLE_MINER, 0, 0);
	if (f->cert.buf == NULL || fx_ingest(f->s, &f->cert, 1, NULL) != 0)
		return -1;
	for (size_t i = 0; i < 8; i++) {
		char label[32];
		snprintf(label, sizeof(label), "ore-%zu", i);
		f->lots[i] = fx_lot(f->miner, label, "pit", NULL, "ore", 1000, "Dy=50000");
		if (f->lots[i].buf == NULL)
			return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct ffx *f = *state;

	fail_commits(0, 0);
	ls_store_close(&f->s);
	fx_rmtree(f->dir);
	free(f->dir);
	fx_env_release(&f->cert);
	for (size_t i = 0; i < 8; i++)
		fx_env_release(&f->lots[i]);
	fx_actor_free(&f->auth);
	fx_actor_free(&f->miner);
	free(f);
	return 0;
}

struct calls {
	unsigned accepted, evidence;
};

static void
on_accepted(void *arg, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct calls *c = arg;
	(void)r;
	(void)env;
	(void)len;
	c->accepted++;
}

static void
on_evidence(void *arg, const uint8_t *a, size_t la, const uint8_t *b, size_t lb)
{
	struct calls *c = arg;
	(void)a;
	(void)la;
	(void)b;
	(void)lb;
	c->evidence++;
}

/* Ingests envs[0..n) with hooks; returns the rc. */
static int
ingest(struct ls_store *s, const struct fx_env *e, size_t n, struct ls_ingest_result *res,
       struct calls *calls)
{
	const uint8_t *envs[16];
	size_t lens[16];
	struct ls_ingest_hooks hooks = {on_accepted, on_evidence, calls};

	assert_true(n <= 16);
	for (size_t i = 0; i < n; i++) {
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
	}
	return ls_store_ingest(s, envs, lens, n, res, &hooks);
}

static struct ls_store_stats
stats(struct ls_store *s)
{
	struct ls_store_stats st;
	assert_int_equal(ls_store_stats(s, &st), 0);
	return st;
}

static void
assert_same_content(const struct ls_store_stats *a, const struct ls_store_stats *b)
{
	assert_int_equal(a->records, b->records);
	assert_int_equal(a->pending, b->pending);
	assert_int_equal(a->equivocations, b->equivocations);
	assert_int_equal(a->authors, b->authors);
}

static bool
has(struct ls_store *s, const uint8_t id[LS_ID_LEN])
{
	uint8_t *buf = NULL;
	size_t len;
	int rc = ls_store_get(s, id, &buf, &len);

	free(buf);
	assert_true(rc == 0 || rc == LS_ERR_NOT_FOUND);
	return rc == 0;
}

/* After a failed batch: no record of it, no hook; then the same batch goes
 * through with the fault off, and survives a reopen. */
static void
check_failed_then_retry(struct ffx *f, const struct ls_store_stats *before, struct calls *calls)
{
	struct ls_store_stats after = stats(f->s);
	struct ls_ingest_result res[8];

	assert_same_content(before, &after);
	for (size_t i = 0; i < 8; i++)
		assert_false(has(f->s, f->lots[i].id));
	assert_int_equal(calls->accepted, 0);
	assert_int_equal(calls->evidence, 0);

	fail_commits(0, 0);
	assert_int_equal(ingest(f->s, f->lots, 8, res, calls), 0);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
		assert_true(has(f->s, f->lots[i].id));
	}
	assert_int_equal(calls->accepted, 8);
	assert_int_equal(stats(f->s).records, before->records + 8);

	ls_store_close(&f->s);
	assert_int_equal(fx_store_open(f->dir, f->auth, SMALL_MAP, &f->s), 0);
	assert_int_equal(stats(f->s).records, before->records + 8);
	for (size_t i = 0; i < 8; i++)
		assert_true(has(f->s, f->lots[i].id));
}

static void
test_store_faults_disk_full(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before = stats(f->s);
	struct ls_ingest_result res[8];
	struct calls calls = {0, 0};

	/* Every commit fails: growing the map does not help a full disk. */
	fail_commits(ENOSPC, 1000);
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), LS_ERR_FULL);
	assert_true(fault.failed >= 1);
	assert_int_equal(fault.passed, 0);
	check_failed_then_retry(f, &before, &calls);
}

static void
test_store_faults_map_full(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before = stats(f->s);
	struct ls_ingest_result res[8];
	struct calls calls = {0, 0};

	/* A map that stays full whatever its size. */
	fail_commits(MDB_MAP_FULL, 1000);
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), LS_ERR_FULL);
	assert_true(fault.failed >= 2); /* it did try to grow and retry */
	check_failed_then_retry(f, &before, &calls);
}

static void
test_store_faults_map_full_once(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before = stats(f->s);
	struct ls_ingest_result res[8];
	struct calls calls = {0, 0};

	/* Full once: the map grows and the batch goes through on the retry. */
	fail_commits(MDB_MAP_FULL, 1);
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), 0);
	assert_int_equal(fault.failed, 1);
	assert_int_equal(fault.passed, 1);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(res[i].status, LS_INGEST_ACCEPTED);
		assert_true(has(f->s, f->lots[i].id));
	}
	assert_int_equal(calls.accepted, 8);
	assert_int_equal(stats(f->s).records, before.records + 8);
	assert_true(stats(f->s).map_size > before.map_size);
}

static void
test_store_faults_map_cannot_grow(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before = stats(f->s), st;
	struct ls_ingest_result res[8];
	struct calls calls = {0, 0};

	/* The map is full and LMDB fails to map a bigger one after it has
	 * unmapped the old one (found under valgrind, where the next read
	 * then faulted on the unmapped map). The batch fails, every later
	 * transaction fails instead of faulting, and a reopen has it all. */
	fail_commits(MDB_MAP_FULL, 1);
	grows_to_fail = 1;
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), LS_ERR_FULL); /* the batch's */
	assert_int_equal(grows_to_fail, 0);
	assert_int_equal(ls_store_stats(f->s, &st), LS_ERR_STORE);
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), LS_ERR_STORE);
	fail_commits(0, 0);
	ls_store_close(&f->s);
	assert_int_equal(fx_store_open(f->dir, f->auth, SMALL_MAP, &f->s), 0);
	check_failed_then_retry(f, &before, &calls);
}

static void
test_store_faults_io_error(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before = stats(f->s);
	struct ls_ingest_result res[8];
	struct calls calls = {0, 0};

	/* EIO is not retried. */
	fail_commits(EIO, 1);
	assert_int_equal(ingest(f->s, f->lots, 8, res, &calls), LS_ERR_STORE);
	assert_int_equal(fault.failed, 1);
	check_failed_then_retry(f, &before, &calls);
}

/* A failed batch that would have released pending records and kept
 * equivocation evidence leaves both as they were. */
static void
test_store_faults_pending_and_evidence(void **state)
{
	struct ffx *f = *state;
	struct ls_store_stats before, after;
	struct ls_ingest_result res[3];
	struct calls calls = {0, 0};
	struct fx_env fork, batch[3];
	struct fx_mark m;

	/* lots[1..2] wait for lots[0]. */
	assert_int_equal(ingest(f->s, f->lots + 1, 2, res, &calls), 0);
	assert_int_equal(res[0].status, LS_INGEST_PENDING);
	assert_int_equal(res[1].status, LS_INGEST_PENDING);
	/* A different record at the seq of lots[0]... */
	m = fx_mark(f->miner);
	f->miner->seq = f->lots[0].seq - 1;
	memset(f->miner->head, 0, sizeof(f->miner->head));
	fork = fx_lot(f->miner, "fork", "pit", NULL, "ore", 1, NULL);
	fx_rewind(f->miner, &m);
	assert_non_null(fork.buf);
	assert_int_equal(fork.seq, 1);
	before = stats(f->s);
	assert_int_equal(before.pending, 2);
	calls.accepted = 0;

	/* ...arrives after lots[0] in a batch whose commit fails. */
	batch[0] = f->lots[0];
	batch[1] = fork;
	batch[2] = f->lots[3];
	fail_commits(ENOSPC, 1000);
	assert_int_equal(ingest(f->s, batch, 3, res, &calls), LS_ERR_FULL);
	after = stats(f->s);
	assert_same_content(&before, &after);
	assert_int_equal(calls.accepted, 0);
	assert_int_equal(calls.evidence, 0);
	for (size_t i = 0; i < 4; i++)
		assert_false(has(f->s, f->lots[i].id));

	/* Without the fault: lots[0..3] stored, and the fork with them (each
	 * valid on its branch of the feed), kept as evidence. */
	fail_commits(0, 0);
	assert_int_equal(ingest(f->s, batch, 3, res, &calls), 0);
	assert_int_equal(res[0].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[1].status, LS_INGEST_ACCEPTED);
	assert_int_equal(res[2].status, LS_INGEST_ACCEPTED);
	assert_int_equal(calls.accepted, 5);
	assert_int_equal(calls.evidence, 1);
	after = stats(f->s);
	assert_int_equal(after.pending, 0);
	assert_int_equal(after.equivocations, 1);
	assert_int_equal(after.records, before.records + 5);
	fx_env_release(&fork);
}

static void
test_store_faults_open(void **state)
{
	struct ffx *f = *state;
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct ls_err_ctx ctx = {{0}};

	assert_non_null(dir);
	/* Creating a store commits its layout: a full disk there is an error. */
	fail_commits(ENOSPC, 1);
	assert_int_equal(ls_store_open(dir, NULL, &s, &ctx), LS_ERR_FULL);
	assert_null(s);
	assert_non_null(strstr(ctx.msg, dir));
	/* It left no lock behind and the next open creates the store. */
	assert_int_equal(ls_store_open(dir, NULL, &s, &ctx), 0);
	assert_int_equal(stats(s).records, 0);
	ls_store_close(&s);
	/* The fixture's store is untouched. */
	assert_int_equal(stats(f->s).records, 1);
	fx_rmtree(dir);
	free(dir);
}

/* The fixture's store, closed, made a layout 8 one (version 8, no lictee
 * rows); ghost: a license number naming a record the store does not hold.
 * Returns the layout version the store now says. */
static unsigned
raw_layout8(const char *dir, bool ghost, size_t *lictee_rows)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi meta, lictee, licnum;
	uint8_t v8[4] = {0, 0, 0, 8}, id[32];
	MDB_val k = {7, "version"}, v = {4, v8}, gk = {5, "GHOST"}, gv = {32, id};
	MDB_stat st;
	unsigned version;

	memset(id, 0x5a, sizeof(id));
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, SMALL_MAP), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_dbi_open(txn, "lictee", 0, &lictee), 0);
	assert_int_equal(mdb_dbi_open(txn, "licnum", 0, &licnum), 0);
	if (lictee_rows == NULL) {
		assert_int_equal(mdb_drop(txn, lictee, 0), 0);
		assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
		if (ghost)
			assert_int_equal(mdb_put(txn, licnum, &gk, &gv, 0), 0);
		else
			(void)mdb_del(txn, licnum, &gk, NULL);
	}
	assert_int_equal(mdb_get(txn, meta, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	version = ((const uint8_t *)v.mv_data)[3];
	assert_int_equal(mdb_stat(txn, lictee, &st), 0);
	if (lictee_rows != NULL)
		*lictee_rows = st.ms_entries;
	assert_int_equal(__real_mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	return version;
}

/*
 * A layout 8 store is brought to 9 when it opens, in one transaction: a
 * full disk at its commit, or a license number naming no stored record,
 * fails the open with an error naming the store and leaves it at layout 8
 * as it was (no lictee rows); the damaged one is rebuilt by the reindex the
 * message names; once the fault is gone it opens at 9.
 */
static void
test_store_faults_upgrade(void **state)
{
	struct ffx *f = *state;
	struct fx_license_spec spec = {.number = "US-1",
				       .licensee = f->miner->kp->pk,
				       .items = "Dy",
				       .max_grams = 1000,
				       .destinations = "JP"};
	struct fx_env lic = fx_license(f->auth, &spec);
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	size_t rows = 0;

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])f->auth->kp->pk;
	o.n_anchors = 1;
	o.map_size = SMALL_MAP;
	assert_non_null(lic.buf);
	assert_int_equal(fx_ingest(f->s, &lic, 1, NULL), 0);
	assert_int_equal(stats(f->s).records, 2);
	ls_store_close(&f->s);
	assert_int_equal(raw_layout8(f->dir, false, NULL), 8);

	/* The disk is full when the upgrade commits. */
	fail_commits(ENOSPC, 1);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), LS_ERR_FULL);
	assert_null(f->s);
	assert_non_null(strstr(ctx.msg, f->dir));
	assert_non_null(strstr(ctx.msg, "full"));
	assert_int_equal(raw_layout8(f->dir, false, &rows), 8);
	assert_int_equal(rows, 0);

	/* A license number names a record the store does not hold. */
	assert_int_equal(raw_layout8(f->dir, true, NULL), 8);
	memset(&ctx, 0, sizeof(ctx));
	assert_int_not_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	assert_null(f->s);
	assert_non_null(strstr(ctx.msg, f->dir));
	assert_non_null(strstr(ctx.msg, "layout 9"));
	assert_non_null(strstr(ctx.msg, "--reindex"));
	assert_int_equal(raw_layout8(f->dir, true, &rows), 8);
	assert_int_equal(rows, 0);

	/* The reindex the message asks for rebuilds it, at 9. */
	{
		struct ls_reindex_report rep;
		assert_int_equal(ls_store_reindex(f->dir, &o, NULL, &rep, &ctx), 0);
		assert_int_equal(rep.accepted, 2);
		assert_int_equal(raw_layout8(f->dir, false, &rows), 9);
		assert_int_equal(rows, 1);
		assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
		assert_int_equal(stats(f->s).records, 2);
		ls_store_close(&f->s);
	}

	/* Faults gone: at 9, the license found by its licensee. */
	assert_int_equal(raw_layout8(f->dir, false, NULL), 8);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	assert_int_equal(stats(f->s).records, 2);
	ls_store_close(&f->s);
	assert_int_equal(raw_layout8(f->dir, false, &rows), 9);
	assert_int_equal(rows, 1);
	assert_int_equal(ls_store_open(f->dir, &o, &f->s, &ctx), 0);
	fx_env_release(&lic);
}

/* This process's address space now (VmSize), in bytes; 0 if unknown. */
static size_t
vm_size(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* A store made with the default map (256 GiB, recorded in the file) is
 * reindexed by a process whose address space has room for 1 GiB more: the
 * reindex must fit both maps (the old store's and the new one's) to what
 * maps, as every open does, and keep every record. The reindex runs in a
 * child so that the limit does not bind this process. */
static void
test_store_faults_reindex_small_address_space(void **state)
{
	struct ffx *f = *state;
	char *dir = fx_tmpdir();
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	int status;
	pid_t pid;

	assert_non_null(dir);
	assert_int_equal(fx_store_open(dir, f->auth, (size_t)256 << 30, &s), 0);
	assert_int_equal(fx_ingest(s, &f->cert, 1, NULL), 0);
	assert_int_equal(fx_ingest(s, f->lots, 8, NULL), 0);
	assert_int_equal(stats(s).records, 9);
	ls_store_close(&s);

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])f->auth->kp->pk;
	o.n_anchors = 1;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ls_reindex_report rep;
		size_t now = vm_size();
		struct rlimit lim = {now + ((size_t)1 << 30), now + ((size_t)1 << 30)};
		int rc;

		/* no room for a 256 GiB map, room for a smaller one */
		if (now == 0 || setrlimit(RLIMIT_AS, &lim) != 0)
			_exit(100);
		rc = ls_store_reindex(dir, &o, NULL, &rep, &ctx);
		if (rc != 0)
			fprintf(stderr, "reindex: %s\n", ls_err_msg(&ctx, rc));
		_exit(rc != 0 ? 101 : rep.accepted != 9 ? 102 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The reindexed store holds every record. */
	assert_int_equal(ls_store_open(dir, &o, &s, &ctx), 0);
	assert_int_equal(stats(s).records, 9);
	assert_true(has(s, f->cert.id));
	for (size_t i = 0; i < 8; i++)
		assert_true(has(s, f->lots[i].id));
	ls_store_close(&s);
	fx_rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_store_faults_disk_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_map_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_map_full_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_map_cannot_grow, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_io_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_pending_and_evidence, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_upgrade, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_faults_reindex_small_address_space, setup,
					    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
