/* WRAP: mdb_get mdb_cursor_get mdb_put mdb_del mdb_cursor_del mdb_dbi_open ls_record_decode */
/* WRAP: calloc realloc ls_idmap_new ls_idmap_put */
/*
 * test_ingest_faults.c - "a local fault is never a verdict".
 *
 * A failed read, a full disk or map, or an allocation failure during ingest
 * must abort the whole batch with a store error: ls_store_ingest returns
 * non-zero, nothing is acknowledged (no accepted hook), nothing is recorded
 * as rejected, nothing leaves the pending set. Once the fault is gone, the
 * same batch gives exactly the ledger a healthy store has.
 *
 * Such faults cannot be caused on demand, so the LMDB calls the store makes
 * (and ls_record_decode, for an allocation failure while decoding stored
 * bytes; the library's calloc and realloc; the id maps' ls_idmap_new and
 * ls_idmap_put, which admission's bookkeeping is made of) are wrapped at
 * link time (see the WRAP line and the Makefile). A
 * fault fails the N-th matching call after it is armed: a call of one
 * function, on one named table or on any. A sweep runs N = 1, 2, 3, ... on a
 * fresh store each time, until a run reaches no N-th call, and for every N
 * checks the contract:
 *
 *   - ingest returned non-zero: no accepted hook, and the stored ids, the
 *     pending count, the equivocations and the lot's verdict are what they
 *     were before the batch; or
 *   - ingest returned 0: the results, the hooks and that state are those of
 *     a healthy store fed the same batch;
 *   - either way, the same batch ingested again without the fault, and then
 *     a few probe records (which read what the batch wrote: holdings, a
 *     license's used grams), give the healthy store's results and state
 *     (a healthy store that ingested the batch once when the faulted ingest
 *     failed, twice when it returned 0).
 *
 * A failed call here leaves the LMDB transaction usable, whereas LMDB marks
 * a transaction as failed after some page errors of its own (so that its
 * commit fails): the library must not count on a later commit failing to
 * undo a decision it took on a failed read.
 *
 * The scenarios reach each path the rule is about: a transfer citing a
 * license issued by a certified (non-anchor) authority (certificate and
 * used-grams reads), transfers and a transformation by holders (holdings
 * reads), revoked keys, certificates and licenses (revocation reads), and
 * records parked out of order and released later in the same batch, and a
 * submission whose refusals make records dependency-rejected (admission's
 * bookkeeping: the records that wait, the refused ids, a forged copy and
 * the genuine record after it, a copy of a dependant).
 *
 * With LS_FAULTS_VERBOSE=1 each breach is printed as one line naming N, the
 * call that failed, and what was recorded.
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

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "err.h"
#include "helper_fixture.h"
#include "reason.h"
#include "record.h"
#include "store.h"
#include "verify.h"

int __real_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op);
int __wrap_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op);
int __real_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);
int __wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags);
int __real_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __wrap_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data);
int __real_mdb_cursor_del(MDB_cursor *c, unsigned flags);
int __wrap_mdb_cursor_del(MDB_cursor *c, unsigned flags);
int __real_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi);
int __wrap_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi);
int __real_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);
int __wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			    struct ls_err_ctx *ctx);
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);
struct ls_idmap *__real_ls_idmap_new(void);
struct ls_idmap *__wrap_ls_idmap_new(void);
int __real_ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val);
int __wrap_ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val);

/* ---- the fault injector ---- */

enum fop {
	OP_GET = 1,    /* mdb_get */
	OP_CURSOR_GET, /* mdb_cursor_get */
	OP_PUT,        /* mdb_put */
	OP_DEL,        /* mdb_del, mdb_cursor_del */
	OP_DECODE,     /* ls_record_decode */
	OP_ALLOC,      /* calloc, realloc (the library's; rc unused) */
	OP_IDMAP,      /* ls_idmap_new, ls_idmap_put (out of memory) */
};

/* What to fail. */
struct fault_spec {
	enum fop op;
	const char *table; /* a table of store_int.h; NULL: any */
	int rc;            /* the code the failed call returns */
	bool store_only;   /* OP_DECODE: only bytes that come from the store */
};

#define MAX_TABLES 32

/* The tables the store opened, by name (every store opens them in the same
 * order, so a name has one dbi in every store of the process). */
static struct {
	char name[32];
	MDB_dbi dbi;
} tables[MAX_TABLES];
static size_t n_tables;
static bool tables_clash;

static struct {
	bool armed;
	struct fault_spec spec;
	MDB_dbi dbi;
	unsigned nth;               /* fail the nth matching call after arming */
	unsigned calls;             /* matching calls since arming */
	unsigned hits;              /* calls failed */
	char hit[64];               /* the call that failed: "mdb_get(licused)" */
	const struct fx_env *batch; /* the caller's envelopes (OP_DECODE) */
	size_t n_batch;
} fault;

static const char *
table_name(MDB_dbi dbi)
{
	for (size_t i = 0; i < n_tables; i++)
		if (tables[i].dbi == dbi)
			return tables[i].name;
	return "?";
}

static bool
table_dbi(const char *name, MDB_dbi *dbi)
{
	for (size_t i = 0; i < n_tables; i++)
		if (strcmp(tables[i].name, name) == 0) {
			*dbi = tables[i].dbi;
			return true;
		}
	return false;
}

static bool
fires(enum fop op, const char *fn, MDB_dbi dbi)
{
	if (!fault.armed || fault.spec.op != op || (fault.spec.table != NULL && dbi != fault.dbi))
		return false;
	if (++fault.calls != fault.nth)
		return false;
	fault.hits++;
	snprintf(fault.hit, sizeof(fault.hit), "%s(%s)", fn, table_name(dbi));
	return true;
}

int
__wrap_mdb_get(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	if (fires(OP_GET, "mdb_get", dbi))
		return fault.spec.rc;
	return __real_mdb_get(txn, dbi, key, data);
}

int
__wrap_mdb_cursor_get(MDB_cursor *c, MDB_val *key, MDB_val *data, MDB_cursor_op op)
{
	if (fires(OP_CURSOR_GET, "mdb_cursor_get", mdb_cursor_dbi(c)))
		return fault.spec.rc;
	return __real_mdb_cursor_get(c, key, data, op);
}

int
__wrap_mdb_put(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data, unsigned flags)
{
	if (fires(OP_PUT, "mdb_put", dbi))
		return fault.spec.rc;
	return __real_mdb_put(txn, dbi, key, data, flags);
}

int
__wrap_mdb_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, MDB_val *data)
{
	if (fires(OP_DEL, "mdb_del", dbi))
		return fault.spec.rc;
	return __real_mdb_del(txn, dbi, key, data);
}

int
__wrap_mdb_cursor_del(MDB_cursor *c, unsigned flags)
{
	if (fires(OP_DEL, "mdb_cursor_del", mdb_cursor_dbi(c)))
		return fault.spec.rc;
	return __real_mdb_cursor_del(c, flags);
}

int
__wrap_mdb_dbi_open(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	int rc = __real_mdb_dbi_open(txn, name, flags, dbi);
	MDB_dbi known;

	if (rc != 0 || name == NULL)
		return rc;
	if (table_dbi(name, &known)) {
		tables_clash |= known != *dbi;
	} else if (n_tables < MAX_TABLES && strlen(name) < sizeof(tables[0].name)) {
		strcpy(tables[n_tables].name, name);
		tables[n_tables++].dbi = *dbi;
	}
	return rc;
}

static bool
in_batch(const uint8_t *buf)
{
	for (size_t i = 0; i < fault.n_batch; i++)
		if (fault.batch[i].buf == buf)
			return true;
	return false;
}

int
__wrap_ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
			struct ls_err_ctx *ctx)
{
	bool caller = in_batch(buf);

	if (fault.armed && fault.spec.op == OP_DECODE && !(fault.spec.store_only && caller) &&
	    ++fault.calls == fault.nth) {
		fault.hits++;
		snprintf(fault.hit, sizeof(fault.hit), "ls_record_decode(%s bytes)",
			 caller ? "batch" : "stored");
		*out = NULL;
		return ls_err_set(ctx, fault.spec.rc, "out of memory (injected)");
	}
	return __real_ls_record_decode(buf, len, out, ctx);
}

/* An allocation: a library call only while armed (the harness's own, made
 * with the fault disarmed, and the shared libraries', are not wrapped). */
static bool
alloc_fires(enum fop op, const char *fn)
{
	if (!fault.armed || fault.spec.op != op || ++fault.calls != fault.nth)
		return false;
	fault.hits++;
	snprintf(fault.hit, sizeof(fault.hit), "%s", fn);
	return true;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return alloc_fires(OP_ALLOC, "calloc") ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t size)
{
	return alloc_fires(OP_ALLOC, "realloc") ? NULL : __real_realloc(p, size);
}

struct ls_idmap *
__wrap_ls_idmap_new(void)
{
	return alloc_fires(OP_IDMAP, "ls_idmap_new") ? NULL : __real_ls_idmap_new();
}

int
__wrap_ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val)
{
	return alloc_fires(OP_IDMAP, "ls_idmap_put") ? LS_ERR_NOMEM
						     : __real_ls_idmap_put(m, id, val);
}

static void
disarm(void)
{
	fault.armed = false;
	fault.batch = NULL;
	fault.n_batch = 0;
}

static void
arm(const struct fault_spec *fs, unsigned nth, const struct fx_env *batch, size_t n_batch)
{
	memset(&fault, 0, sizeof(fault));
	fault.spec = *fs;
	if (fs->table != NULL && !table_dbi(fs->table, &fault.dbi))
		fail_msg("the store has no table '%s'", fs->table);
	assert_false(tables_clash);
	fault.nth = nth;
	fault.batch = batch;
	fault.n_batch = n_batch;
	fault.armed = true;
}

static const char *
fault_label(const struct fault_spec *fs, char *buf, size_t len)
{
	static const char *const fn[] = {
	    "",        "mdb_get",          "mdb_cursor_get", "mdb_put",
	    "mdb_del", "ls_record_decode", "calloc/realloc", "ls_idmap_new/put"};
	const char *code = fs->rc == EIO            ? "EIO"
			   : fs->rc == ENOMEM       ? "ENOMEM"
			   : fs->rc == MDB_MAP_FULL ? "MDB_MAP_FULL"
			   : fs->rc == MDB_TXN_FULL ? "MDB_TXN_FULL"
			   : fs->rc == LS_ERR_NOMEM ? "LS_ERR_NOMEM"
						    : "?";

	if (fs->op == OP_ALLOC || fs->op == OP_IDMAP)
		snprintf(buf, len, "%s -> out of memory", fn[fs->op]);
	else if (fs->op == OP_DECODE)
		snprintf(buf, len, "%s(%s) -> %s", fn[fs->op],
			 fs->store_only ? "stored bytes" : "any bytes", code);
	else
		snprintf(buf, len, "%s(%s) -> %s", fn[fs->op], fs->table ? fs->table : "any table",
			 code);
	return buf;
}

/* ---- scenarios ---- */

#define MAX_ACTORS 8
#define MAX_BASE   16
#define MAX_BATCH  12
#define MAX_PROBE  6

struct expect {
	enum ls_ingest_status st;
	enum ls_reason reason;
};

struct scen {
	const char *name;
	struct fx_actor *actors[MAX_ACTORS];
	size_t n_actors;
	struct fx_actor *anchor;      /* the store's trust anchor */
	struct fx_env base[MAX_BASE]; /* in every store before the batch */
	size_t n_base;
	struct fx_env batch[MAX_BATCH]; /* the batch the faults hit */
	struct expect want[MAX_BATCH];  /* its results in a healthy store */
	size_t n_batch;
	struct fx_env probe[MAX_PROBE]; /* read what the batch wrote */
	struct expect pwant[MAX_PROBE];
	size_t n_probe;
	uint8_t lot[LS_ID_LEN]; /* whose provenance verdict is compared */
};

static struct fx_actor *
actor(struct scen *sc, const char *country)
{
	struct fx_actor *a = fx_actor_new(country);

	assert_non_null(a);
	assert_true(sc->n_actors < MAX_ACTORS);
	sc->actors[sc->n_actors++] = a;
	return a;
}

static struct fx_env
base(struct scen *sc, struct fx_env e)
{
	assert_non_null(e.buf);
	assert_true(sc->n_base < MAX_BASE);
	sc->base[sc->n_base++] = e;
	return e;
}

static struct fx_env
batch(struct scen *sc, struct fx_env e, enum ls_ingest_status st, enum ls_reason reason)
{
	assert_non_null(e.buf);
	assert_true(sc->n_batch < MAX_BATCH);
	sc->want[sc->n_batch] = (struct expect){st, reason};
	sc->batch[sc->n_batch++] = e;
	return e;
}

static void
probe(struct scen *sc, struct fx_env e, enum ls_ingest_status st, enum ls_reason reason)
{
	assert_non_null(e.buf);
	assert_true(sc->n_probe < MAX_PROBE);
	sc->pwant[sc->n_probe] = (struct expect){st, reason};
	sc->probe[sc->n_probe++] = e;
}

/* Signs `expr` as a record that a healthy store rejects: the actor's feed is
 * rewound, so that its next record takes the same seq. */
#define SIGN_REJECTED(var, a, expr)                                                                \
	do {                                                                                       \
		struct fx_mark m_ = fx_mark(a);                                                    \
		(var) = (expr);                                                                    \
		fx_rewind((a), &m_);                                                               \
	} while (0)

#define ACC         LS_INGEST_ACCEPTED, LS_R_OK
#define PEND        LS_INGEST_PENDING, LS_R_OK
#define REJ(reason) LS_INGEST_REJECTED, (reason)

static void
scen_release(struct scen *sc)
{
	for (size_t i = 0; i < sc->n_actors; i++)
		fx_actor_free(&sc->actors[i]);
	for (size_t i = 0; i < sc->n_base; i++)
		fx_env_release(&sc->base[i]);
	for (size_t i = 0; i < sc->n_batch; i++)
		fx_env_release(&sc->batch[i]);
	for (size_t i = 0; i < sc->n_probe; i++)
		fx_env_release(&sc->probe[i]);
	memset(sc, 0, sizeof(*sc));
}

/*
 * A license issued by a certified authority (not the anchor), so that a
 * transfer citing it reads the license's author's certificate; 300 of its
 * 500 g are used before the batch.
 */
static void
scen_license(struct scen *sc)
{
	struct fx_actor *auth = actor(sc, "CN"), *sub = actor(sc, "CN");
	struct fx_actor *miner = actor(sc, "CN"), *proc = actor(sc, "JP");
	struct fx_license_spec spec = {.number = "CN-EXP-2025-0007",
				       .licensee = miner->kp->pk,
				       .items = "Dy",
				       .max_grams = 500,
				       .destinations = "JP",
				       .end_use = "motors"};
	struct fx_env lic, lot, t1, e;

	sc->name = "license";
	sc->anchor = auth;
	base(sc, fx_cert(auth, sub, "Export Control Bureau", NULL, LS_ROLE_AUTHORITY, 0, 0));
	base(sc,
	     fx_cert(auth, miner, "Baotou Oxide", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0));
	base(sc,
	     fx_cert(auth, proc, "Magnet Works", NULL, LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER, 0, 0));
	lic = base(sc, fx_license(sub, &spec));
	lot = base(sc, fx_lot(miner, "oxide-1", "Bayan Obo", NULL, "oxide", 1000, "Dy=500000"));
	t1 = base(sc, fx_transfer(miner, lot.id, 300, proc, lic.id, "motors"));

	/* 300 g more would take the license over its 500 g. */
	SIGN_REJECTED(e, miner, fx_transfer(miner, lot.id, 300, proc, lic.id, "motors"));
	batch(sc, e, REJ(LS_R_LICENSE_EXHAUSTED));
	batch(sc, fx_transfer(miner, lot.id, 150, proc, lic.id, "motors"), ACC);
	batch(sc, fx_receipt(proc, t1.id, 300), ACC);
	/* 450 g used: 100 g more is too much, 50 g fits. */
	SIGN_REJECTED(e, miner, fx_transfer(miner, lot.id, 100, proc, lic.id, "motors"));
	probe(sc, e, REJ(LS_R_LICENSE_EXHAUSTED));
	probe(sc, fx_transfer(miner, lot.id, 50, proc, lic.id, "motors"), ACC);
	memcpy(sc->lot, lot.id, LS_ID_LEN);
}

/* Revoked: a license, a key, and a receiver's certificate. */
static void
scen_revocation(struct scen *sc)
{
	struct fx_actor *auth = actor(sc, "CN"), *miner = actor(sc, "CN");
	struct fx_actor *proc = actor(sc, "JP"), *gone = actor(sc, "CN"), *imp = actor(sc, "JP");
	struct fx_license_spec spec = {.licensee = miner->kp->pk,
				       .items = "Dy",
				       .max_grams = 1000,
				       .destinations = "JP",
				       .end_use = "motors"};
	struct fx_env lic, lot, cimp, t, e;

	sc->name = "revocation";
	sc->anchor = auth;
	base(sc,
	     fx_cert(auth, miner, "Baotou Oxide", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0));
	base(sc, fx_cert(auth, proc, "Magnet Works", NULL, LS_ROLE_IMPORTER, 0, 0));
	base(sc, fx_cert(auth, gone, "Closed Mine", NULL, LS_ROLE_MINER, 0, 0));
	cimp = base(sc, fx_cert(auth, imp, "Shell Importer", NULL, LS_ROLE_IMPORTER, 0, 0));
	lic = base(sc, fx_license(auth, &spec));
	lot = base(sc, fx_lot(miner, "oxide-1", "Bayan Obo", NULL, "oxide", 1000, "Dy=500000"));
	auth->ts = FX_T0 + 10;
	base(sc, fx_revoke(auth, lic.id, FX_T0 + 50));
	base(sc, fx_revoke(auth, gone->kp->pk, FX_T0 + 50));
	base(sc, fx_revoke(auth, cimp.id, FX_T0 + 50));

	miner->ts = gone->ts = proc->ts = FX_T0 + 60;
	SIGN_REJECTED(e, miner, fx_transfer(miner, lot.id, 100, proc, lic.id, "motors"));
	batch(sc, e, REJ(LS_R_LICENSE_REVOKED));
	SIGN_REJECTED(e, miner, fx_transfer(miner, lot.id, 100, imp, NULL, NULL));
	batch(sc, e, REJ(LS_R_BAD_RECEIVER));
	t = batch(sc, fx_transfer(miner, lot.id, 100, proc, NULL, NULL), ACC);
	SIGN_REJECTED(e, gone, fx_lot(gone, "late", "Closed Pit", NULL, "ore", 5, NULL));
	batch(sc, e, REJ(LS_R_REVOKED));
	batch(sc, fx_receipt(proc, t.id, 100), ACC);
	SIGN_REJECTED(e, miner, fx_transfer(miner, lot.id, 50, proc, lic.id, "motors"));
	probe(sc, e, REJ(LS_R_LICENSE_REVOKED));
	SIGN_REJECTED(e, gone, fx_lot(gone, "later", "Closed Pit", NULL, "ore", 5, NULL));
	probe(sc, e, REJ(LS_R_REVOKED));
	probe(sc, fx_transfer(miner, lot.id, 50, proc, NULL, NULL), ACC);
	memcpy(sc->lot, lot.id, LS_ID_LEN);
}

/* Holders spending: a receipt, a transformation, transfers (one of a whole
 * holding), an overspend, a transfer by someone who holds none, and an
 * equivocation. */
static void
scen_holds(struct scen *sc)
{
	struct fx_actor *auth = actor(sc, "CN"), *miner = actor(sc, "CN");
	struct fx_actor *proc = actor(sc, "JP"), *imp = actor(sc, "DE");
	const uint32_t mp = LS_ROLE_MINER | LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER;
	struct fx_env ore, t0, tf, e;
	struct fx_mark m;
	const char *out[] = {"ox-1:oxide:200:Dy=100000"};
	struct ls_lot_input in[1];

	sc->name = "holds";
	sc->anchor = auth;
	base(sc, fx_cert(auth, miner, "Baotou Mining", NULL, mp, 0, 0));
	base(sc, fx_cert(auth, proc, "Magnet Works", NULL,
			 LS_ROLE_PROCESSOR | LS_ROLE_IMPORTER | LS_ROLE_EXPORTER, 0, 0));
	base(sc, fx_cert(auth, imp, "Motor GmbH", NULL, LS_ROLE_IMPORTER, 0, 0));
	ore =
	    base(sc, fx_lot(miner, "ore-1", "Bayan Obo", NULL, "ore", 1000, "Nd=200000,Dy=50000"));
	t0 = base(sc, fx_transfer(miner, ore.id, 300, proc, NULL, NULL));

	memcpy(in[0].lot, ore.id, LS_ID_LEN);
	in[0].grams = 500;
	batch(sc, fx_receipt(proc, t0.id, 300), ACC);
	tf = batch(sc, fx_transform(miner, in, 1, out, 1), ACC);
	batch(sc, fx_transfer(proc, ore.id, 100, imp, NULL, NULL), ACC);
	/* The miner holds 1000 - 300 - 500 = 200 g. */
	SIGN_REJECTED(e, miner, fx_transfer(miner, ore.id, 250, proc, NULL, NULL));
	batch(sc, e, REJ(LS_R_OVERSPEND));
	/* The importer's 100 g are still in transit. */
	SIGN_REJECTED(e, imp, fx_transfer(imp, ore.id, 50, proc, NULL, NULL));
	batch(sc, e, REJ(LS_R_NOT_HOLDER));
	/* All of the oxide: the miner's holding of it goes to 0 (deleted). */
	ls_lot_id(tf.id, 0, sc->lot);
	batch(sc, fx_transfer(miner, sc->lot, 200, proc, NULL, NULL), ACC);
	/* A second record at the miner's seq 1: evidence, not a record. */
	m = fx_mark(miner);
	miner->seq = 0;
	memset(miner->head, 0, sizeof(miner->head));
	e = fx_lot(miner, "ore-1-fork", "Bayan Obo", NULL, "ore", 5000, "Dy=50000");
	fx_rewind(miner, &m);
	batch(sc, e, REJ(LS_R_EQUIVOCATION));

	SIGN_REJECTED(e, miner, fx_transfer(miner, ore.id, 201, proc, NULL, NULL));
	probe(sc, e, REJ(LS_R_OVERSPEND));
	probe(sc, fx_transfer(miner, ore.id, 200, proc, NULL, NULL), ACC);
	SIGN_REJECTED(e, proc, fx_transfer(proc, ore.id, 201, imp, NULL, NULL));
	probe(sc, e, REJ(LS_R_OVERSPEND));
	probe(sc, fx_transfer(proc, ore.id, 200, imp, NULL, NULL), ACC);
	/* The miner's oxide is all shipped. */
	SIGN_REJECTED(e, miner, fx_transfer(miner, sc->lot, 1, proc, NULL, NULL));
	probe(sc, e, REJ(LS_R_NOT_HOLDER));
}

/*
 * Records parked out of order and released by a later record of the same
 * batch (and one parked by an earlier batch): a receipt waits for its
 * transfer, the transfer and two lots for their feed predecessors. One lot
 * waits for a record that never comes.
 */
static void
scen_parked(struct scen *sc)
{
	struct fx_actor *auth = actor(sc, "CN"), *miner = actor(sc, "CN");
	struct fx_actor *m2 = actor(sc, "CN"), *proc = actor(sc, "JP");
	struct fx_env l1, l2, l3, t, r, m2l1, m2l3, m2l4, e;

	sc->name = "parked";
	sc->anchor = auth;
	base(sc, fx_cert(auth, miner, "Baotou Mining", NULL,
			 LS_ROLE_MINER | LS_ROLE_EXPORTER | LS_ROLE_IMPORTER, 0, 0));
	base(sc, fx_cert(auth, m2, "Second Mine", NULL, LS_ROLE_MINER, 0, 0));
	base(sc,
	     fx_cert(auth, proc, "Magnet Works", NULL, LS_ROLE_IMPORTER | LS_ROLE_EXPORTER, 0, 0));
	m2l1 = fx_lot(m2, "m2-1", "South Pit", NULL, "ore", 10, NULL);
	base(sc, fx_lot(m2, "m2-2", "South Pit", NULL, "ore", 20, NULL));
	/* m2's seq 3 never arrives: its seq 4 stays parked. */
	m2l3 = fx_lot(m2, "m2-3", "South Pit", NULL, "ore", 30, NULL);
	fx_env_release(&m2l3);
	m2l4 = fx_lot(m2, "m2-4", "South Pit", NULL, "ore", 40, NULL);
	l1 = fx_lot(miner, "ore-1", "Bayan Obo", NULL, "ore", 100, "Dy=50000");
	l2 = fx_lot(miner, "ore-2", "Bayan Obo", NULL, "ore", 200, "Dy=50000");
	l3 = fx_lot(miner, "ore-3", "Bayan Obo", NULL, "ore", 300, "Dy=50000");
	t = fx_transfer(miner, l3.id, 100, proc, NULL, NULL);
	r = fx_receipt(proc, t.id, 100);

	batch(sc, r, PEND);
	batch(sc, m2l4, PEND);
	batch(sc, t, PEND);
	batch(sc, l3, PEND);
	batch(sc, l2, PEND);
	batch(sc, m2l1, ACC);
	batch(sc, l1, ACC);

	SIGN_REJECTED(e, proc, fx_transfer(proc, l3.id, 101, miner, NULL, NULL));
	probe(sc, e, REJ(LS_R_OVERSPEND));
	probe(sc, fx_transfer(proc, l3.id, 100, miner, NULL, NULL), ACC);
	memcpy(sc->lot, l3.id, LS_ID_LEN);
}

/*
 * Admission's dependency-rejected bookkeeping (one local submission): a
 * receipt and a transfer wait for a lot refused after them (the maker is no
 * miner: wrong-role), a copy of the transfer finds it waiting, a forged copy
 * of the miner's lot (bad signature) comes before a transfer of it and the
 * genuine lot; a forged copy of a second miner's lot comes before a
 * transfer of it and the genuine lot, which waits for its feed predecessor
 * (never sent). A healthy store refuses the three dependants
 * (dependency-rejected), takes the genuine lot and releases its transfer,
 * and leaves the second lot and its transfer waiting.
 */
static void
scen_deprej(struct scen *sc)
{
	struct fx_actor *auth = actor(sc, "CN"), *miner = actor(sc, "CN");
	struct fx_actor *maker = actor(sc, "CN"), *imp = actor(sc, "DE");
	struct fx_actor *m2 = actor(sc, "CN");
	struct fx_env x, t, tc, l, lf, u, xc, p2, l2, l2f, v2;

	sc->name = "deprej";
	sc->anchor = auth;
	base(sc,
	     fx_cert(auth, miner, "Baotou Mining", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0));
	base(sc, fx_cert(auth, maker, "Magnet Works", NULL, LS_ROLE_PROCESSOR | LS_ROLE_EXPORTER, 0,
			 0));
	base(sc, fx_cert(auth, imp, "Motor GmbH", NULL, LS_ROLE_IMPORTER, 0, 0));
	base(sc, fx_cert(auth, m2, "Second Mine", NULL, LS_ROLE_MINER | LS_ROLE_EXPORTER, 0, 0));
	p2 = fx_lot(m2, "m2-1", "South Pit", NULL, "ore", 10, NULL);
	fx_env_release(&p2);
	l2 = fx_lot(m2, "m2-2", "South Pit", NULL, "ore", 20, NULL);
	l2f = l2;
	l2f.buf = malloc(l2.len);
	assert_non_null(l2f.buf);
	memcpy(l2f.buf, l2.buf, l2.len);
	l2f.buf[l2f.len - 1] ^= 0x01;
	v2 = fx_transfer(m2, l2.id, 5, imp, NULL, NULL);
	x = fx_lot(maker, "no-ore", "Ningbo", NULL, "ore", 1000, "Dy=50000");
	t = fx_transfer(maker, x.id, 100, imp, NULL, NULL);
	tc = t;
	tc.buf = malloc(t.len);
	assert_non_null(tc.buf);
	memcpy(tc.buf, t.buf, t.len);
	xc = x;
	xc.buf = malloc(x.len);
	assert_non_null(xc.buf);
	memcpy(xc.buf, x.buf, x.len);
	l = fx_lot(miner, "ore-1", "Bayan Obo", NULL, "ore", 1000, "Dy=50000");
	lf = l;
	lf.buf = malloc(l.len);
	assert_non_null(lf.buf);
	memcpy(lf.buf, l.buf, l.len);
	lf.buf[lf.len - 1] ^= 0x01;
	u = fx_transfer(miner, l.id, 100, imp, NULL, NULL);

	batch(sc, fx_receipt(imp, t.id, 100), REJ(LS_R_DEP_REJECTED));
	batch(sc, t, REJ(LS_R_DEP_REJECTED));
	batch(sc, x, REJ(LS_R_WRONG_ROLE));
	batch(sc, tc, REJ(LS_R_DEP_REJECTED));
	batch(sc, lf, REJ(LS_R_BAD_SIGNATURE));
	batch(sc, u, PEND);
	batch(sc, l, ACC);
	batch(sc, l2f, REJ(LS_R_BAD_SIGNATURE));
	batch(sc, v2, PEND);
	batch(sc, l2, PEND);

	probe(sc, xc, REJ(LS_R_WRONG_ROLE));
	SIGN_REJECTED(u, miner, fx_transfer(miner, l.id, 901, imp, NULL, NULL));
	probe(sc, u, REJ(LS_R_OVERSPEND));
	probe(sc, fx_transfer(miner, l.id, 900, imp, NULL, NULL), ACC);
	memcpy(sc->lot, l.id, LS_ID_LEN);
}

/* ---- store state ---- */

#define MAX_CODES 8

struct vsum {
	int rc;
	enum ls_verdict_kind kind;
	size_t n;
	enum ls_reason code[MAX_CODES];
};

/* What a batch may change, as the public API shows it. */
struct snap {
	struct fx_idset ids; /* stored records, sorted */
	uint64_t pending, equivocations;
	struct vsum v; /* provenance of the scenario's lot */
};

static void
snap_take(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct snap *sn)
{
	struct ls_store_stats st;
	struct ls_verdict v;

	memset(sn, 0, sizeof(*sn));
	assert_int_equal(fx_stored_set(s, &sn->ids), 0);
	assert_int_equal(ls_store_stats(s, &st), 0);
	sn->pending = st.pending;
	sn->equivocations = st.equivocations;
	ls_verdict_init(&v);
	sn->v.rc = ls_verify_provenance(s, lot, &v);
	if (sn->v.rc == 0) {
		sn->v.kind = v.kind;
		sn->v.n = v.n;
		for (size_t i = 0; i < v.n && i < MAX_CODES; i++)
			sn->v.code[i] = v.reasons[i].code;
	}
	ls_verdict_release(&v);
}

static void
snap_release(struct snap *sn)
{
	free(sn->ids.v);
	memset(sn, 0, sizeof(*sn));
}

/* "batch[2] (transfer)" for an id of the scenario, else a short hex id. */
static const char *
id_name(const struct scen *sc, const uint8_t id[LS_ID_LEN], char *buf, size_t len)
{
	static const struct {
		const char *what;
		size_t off, n_off;
	} lists[] = {
	    {"base", offsetof(struct scen, base), offsetof(struct scen, n_base)},
	    {"batch", offsetof(struct scen, batch), offsetof(struct scen, n_batch)},
	    {"probe", offsetof(struct scen, probe), offsetof(struct scen, n_probe)},
	};

	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const struct fx_env *v = (const void *)((const char *)sc + lists[l].off);
		size_t n = *(const size_t *)(const void *)((const char *)sc + lists[l].n_off);
		for (size_t i = 0; i < n; i++)
			if (memcmp(v[i].id, id, LS_ID_LEN) == 0) {
				snprintf(buf, len, "%s[%zu] (%s)", lists[l].what, i,
					 ls_rtype_name(v[i].type));
				return buf;
			}
	}
	snprintf(buf, len, "%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);
	return buf;
}

static void
vsum_format(const struct vsum *v, char *buf, size_t len)
{
	int k;

	if (v->rc != 0) {
		snprintf(buf, len, "error %s", ls_strerror(v->rc));
		return;
	}
	k = snprintf(buf, len, "%s", ls_verdict_name(v->kind));
	for (size_t i = 0; i < v->n && i < MAX_CODES && k > 0 && (size_t)k < len; i++)
		k += snprintf(buf + k, len - (size_t)k, "%s%s", i ? "," : " ",
			      ls_reason_code(v->code[i]));
}

/* Describes in why how a differs from the expected state b; false when equal. */
static bool
snap_diff(const struct scen *sc, const struct snap *a, const struct snap *b, const char *what_b,
	  char *why, size_t len)
{
	char n1[48], v1[160], v2[160];
	size_t i = 0, j = 0;

	while (i < a->ids.n || j < b->ids.n) {
		int c = i == a->ids.n   ? 1
			: j == b->ids.n ? -1
					: memcmp(a->ids.v[i], b->ids.v[j], LS_ID_LEN);
		if (c < 0) {
			snprintf(why, len, "%s is stored, not in the %s store",
				 id_name(sc, a->ids.v[i], n1, sizeof(n1)), what_b);
			return true;
		}
		if (c > 0) {
			snprintf(why, len, "%s is not stored, unlike in the %s store",
				 id_name(sc, b->ids.v[j], n1, sizeof(n1)), what_b);
			return true;
		}
		i++;
		j++;
	}
	if (a->pending != b->pending) {
		snprintf(why, len, "%llu records pending, %llu in the %s store",
			 (unsigned long long)a->pending, (unsigned long long)b->pending, what_b);
		return true;
	}
	if (a->equivocations != b->equivocations) {
		snprintf(why, len, "%llu equivocations, %llu in the %s store",
			 (unsigned long long)a->equivocations, (unsigned long long)b->equivocations,
			 what_b);
		return true;
	}
	if (a->v.rc != b->v.rc ||
	    (a->v.rc == 0 && (a->v.kind != b->v.kind || a->v.n != b->v.n ||
			      memcmp(a->v.code, b->v.code, sizeof(a->v.code)) != 0))) {
		vsum_format(&a->v, v1, sizeof(v1));
		vsum_format(&b->v, v2, sizeof(v2));
		snprintf(why, len, "the lot's provenance is '%s', '%s' in the %s store", v1, v2,
			 what_b);
		return true;
	}
	return false;
}

/* Describes the first result of envs that differs from the healthy one. */
static bool
results_diff(const char *list, const struct fx_env *envs, const struct ls_ingest_result *got,
	     const struct ls_ingest_result *want, size_t n, char *why, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (got[i].status == want[i].status && got[i].reason == want[i].reason &&
		    got[i].has_id == want[i].has_id &&
		    memcmp(got[i].id, want[i].id, LS_ID_LEN) == 0)
			continue;
		snprintf(why, len, "%s[%zu] (%s) %s %s \"%s\", healthy: %s %s", list, i,
			 ls_rtype_name(envs[i].type), fx_status_name(got[i].status),
			 ls_reason_code(got[i].reason), got[i].message,
			 fx_status_name(want[i].status), ls_reason_code(want[i].reason));
		return true;
	}
	return false;
}

/* ---- ingest ---- */

static void
on_accepted(void *arg, const struct ls_record *r, const uint8_t *env, size_t len)
{
	(void)r;
	(void)env;
	(void)len;
	(*(unsigned *)arg)++;
}

/* Every record goes in as a local client's submission, so that the reads of
 * admission (revocations) are faulted as well as those of consensus. */
static int
ingest(struct ls_store *s, const struct fx_env *e, size_t n, struct ls_ingest_result *res,
       unsigned *accepted)
{
	const uint8_t *envs[MAX_BASE];
	size_t lens[MAX_BASE];
	uint8_t admit[MAX_BASE];
	struct ls_ingest_hooks hooks = {on_accepted, NULL, accepted};

	assert_true(n <= MAX_BASE);
	*accepted = 0;
	for (size_t i = 0; i < n; i++) {
		envs[i] = e[i].buf;
		lens[i] = e[i].len;
		admit[i] = LS_ADMIT_LOCAL;
	}
	return ls_store_ingest_admit(s, envs, lens, admit, n, res, &hooks);
}

/* A fresh store holding the scenario's base records. */
static struct ls_store *
open_base(const struct scen *sc, char **dir)
{
	struct ls_ingest_result res[MAX_BASE];
	struct ls_store *s = NULL;
	unsigned acc;

	*dir = fx_tmpdir();
	assert_non_null(*dir);
	assert_int_equal(fx_store_open(*dir, sc->anchor, 0, &s), 0);
	assert_int_equal(ingest(s, sc->base, sc->n_base, res, &acc), 0);
	return s;
}

static void
close_store(struct ls_store **s, char **dir)
{
	ls_store_close(s);
	fx_rmtree(*dir);
	free(*dir);
	*dir = NULL;
}

/* ---- the healthy stores ---- */

/*
 * What a healthy store does with the batch once (then the probes), and with
 * the batch twice (then the probes): a faulted run that failed ingests the
 * batch once for real on its retry, one that returned 0 ingests it twice.
 * The two may differ: a rejected record whose seq another record of the
 * batch then takes is kept as equivocation evidence when it comes again.
 */
struct ref_run {
	struct ls_ingest_result res[MAX_BATCH]; /* the last ingest of the batch */
	struct ls_ingest_result pres[MAX_PROBE];
	unsigned acc;
	struct snap after_batch, after_probe;
};

struct ref {
	struct ref_run once, twice;
};

static void
check_healthy(const struct scen *sc, const char *list, const struct fx_env *envs,
	      const struct expect *want, const struct ls_ingest_result *res, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].status != want[i].st || res[i].reason != want[i].reason)
			fail_msg(
			    "scenario %s, healthy store: %s[%zu] (%s) %s %s \"%s\", want %s %s",
			    sc->name, list, i, ls_rtype_name(envs[i].type),
			    fx_status_name(res[i].status), ls_reason_code(res[i].reason),
			    res[i].message, fx_status_name(want[i].st),
			    ls_reason_code(want[i].reason));
}

static void
ref_run(const struct scen *sc, unsigned times, struct ref_run *rr)
{
	char *dir = NULL;
	struct ls_store *s = open_base(sc, &dir);
	unsigned acc;

	memset(rr, 0, sizeof(*rr));
	for (unsigned i = 0; i < times; i++) {
		assert_int_equal(ingest(s, sc->batch, sc->n_batch, rr->res, &rr->acc), 0);
		if (i == 0)
			check_healthy(sc, "batch", sc->batch, sc->want, rr->res, sc->n_batch);
	}
	snap_take(s, sc->lot, &rr->after_batch);
	assert_int_equal(ingest(s, sc->probe, sc->n_probe, rr->pres, &acc), 0);
	if (times == 1)
		check_healthy(sc, "probe", sc->probe, sc->pwant, rr->pres, sc->n_probe);
	snap_take(s, sc->lot, &rr->after_probe);
	close_store(&s, &dir);
}

static void
ref_build(const struct scen *sc, struct ref *ref)
{
	ref_run(sc, 1, &ref->once);
	ref_run(sc, 2, &ref->twice);
}

static void
ref_release(struct ref *ref)
{
	snap_release(&ref->once.after_batch);
	snap_release(&ref->once.after_probe);
	snap_release(&ref->twice.after_batch);
	snap_release(&ref->twice.after_probe);
}

/* ---- the sweep ---- */

#define MAX_N       5000
#define MAX_PRINTED 12

/* LS_FAULTS_VERBOSE=1: print every breach, not the first MAX_PRINTED. */
static bool verbose;

struct tally {
	unsigned faults; /* runs in which a fault was injected */
	unsigned broken; /* of those, runs that broke the contract */
	unsigned printed;
};

static void breach(struct tally *t, unsigned *run_broken, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
breach(struct tally *t, unsigned *run_broken, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->printed < MAX_PRINTED || verbose)
		print_message("  %s\n", line);
	t->printed++;
	(*run_broken)++;
}

/*
 * Runs the scenario's batch on a fresh store once per N, the N-th call that
 * fs matches failing, and checks the contract (file comment). Adds what it
 * saw to *t. Fails the test at once when the harness itself is wrong (no
 * call reached, a fault-free run unlike the healthy one).
 */
static void
sweep(const struct scen *sc, const struct ref *ref, const struct fault_spec *fs, struct tally *t)
{
	char label[96], why[768];
	unsigned n, before_broken = t->broken, before_faults = t->faults;

	fault_label(fs, label, sizeof(label));
	for (n = 1; n <= MAX_N; n++) {
		struct ls_ingest_result res[MAX_BATCH], pres[MAX_PROBE];
		struct snap before, after;
		unsigned acc, bad = 0;
		char *dir = NULL, hit[64];
		struct ls_store *s = open_base(sc, &dir);
		const struct ref_run *rr;
		int rc, rc2;

		snap_take(s, sc->lot, &before);
		arm(fs, n, sc->batch, sc->n_batch);
		rc = ingest(s, sc->batch, sc->n_batch, res, &acc);
		snprintf(hit, sizeof(hit), "%s", fault.hit);
		if (fault.hits == 0) {
			/* Past the last matching call: this run was healthy. */
			disarm();
			snap_take(s, sc->lot, &after);
			if (rc != 0 ||
			    results_diff("batch", sc->batch, res, ref->once.res, sc->n_batch, why,
					 sizeof(why)) ||
			    snap_diff(sc, &after, &ref->once.after_batch, "healthy", why,
				      sizeof(why)))
				fail_msg("%s, %s: a run without a fault differs from the healthy "
					 "store (rc %d): %s",
					 sc->name, label, rc, rc ? "" : why);
			snap_release(&before);
			snap_release(&after);
			close_store(&s, &dir);
			break;
		}
		disarm();
		t->faults++;

		/* The batch the fault hit. */
		snap_take(s, sc->lot, &after);
		if (rc != 0) {
			if (acc != 0)
				breach(t, &bad,
				       "%s N=%u %s: ingest returned %s, but %u accepted hooks ran",
				       sc->name, n, hit, ls_strerror(rc), acc);
			else if (snap_diff(sc, &after, &before, "pre-batch", why, sizeof(why)))
				breach(t, &bad, "%s N=%u %s: ingest returned %s, but %s", sc->name,
				       n, hit, ls_strerror(rc), why);
		} else if (results_diff("batch", sc->batch, res, ref->once.res, sc->n_batch, why,
					sizeof(why))) {
			breach(t, &bad, "%s N=%u %s: ingest returned 0: %s", sc->name, n, hit, why);
		} else if (snap_diff(sc, &after, &ref->once.after_batch, "healthy", why,
				     sizeof(why))) {
			breach(t, &bad, "%s N=%u %s: ingest returned 0, results as healthy, but %s",
			       sc->name, n, hit, why);
		} else if (acc != ref->once.acc) {
			breach(t, &bad,
			       "%s N=%u %s: ingest returned 0, %u accepted hooks, %u healthy",
			       sc->name, n, hit, acc, ref->once.acc);
		}
		snap_release(&after);

		/* The same batch once the fault is gone: the batch's first real
		 * ingest when the faulted one failed, its second when it did not. */
		rr = rc != 0 ? &ref->once : &ref->twice;
		rc2 = ingest(s, sc->batch, sc->n_batch, res, &acc);
		snap_take(s, sc->lot, &after);
		if (rc2 != 0)
			breach(t, &bad, "%s N=%u %s: retry without the fault returned %s", sc->name,
			       n, hit, ls_strerror(rc2));
		else if (results_diff("batch", sc->batch, res, rr->res, sc->n_batch, why,
				      sizeof(why)))
			breach(t, &bad, "%s N=%u %s: retry: %s", sc->name, n, hit, why);
		else if (snap_diff(sc, &after, &rr->after_batch, "healthy", why, sizeof(why)))
			breach(t, &bad, "%s N=%u %s: after the retry %s", sc->name, n, hit, why);
		snap_release(&after);

		/* Records that read what the batch wrote. */
		rc2 = ingest(s, sc->probe, sc->n_probe, pres, &acc);
		snap_take(s, sc->lot, &after);
		if (rc2 != 0)
			breach(t, &bad, "%s N=%u %s: probes returned %s", sc->name, n, hit,
			       ls_strerror(rc2));
		else if (results_diff("probe", sc->probe, pres, rr->pres, sc->n_probe, why,
				      sizeof(why)))
			breach(t, &bad, "%s N=%u %s: then %s", sc->name, n, hit, why);
		else if (snap_diff(sc, &after, &rr->after_probe, "healthy", why, sizeof(why)))
			breach(t, &bad, "%s N=%u %s: after the probes %s", sc->name, n, hit, why);
		snap_release(&after);
		snap_release(&before);
		close_store(&s, &dir);
		if (bad)
			t->broken++;
	}
	if (n > MAX_N)
		fail_msg("%s, %s: still hitting calls after %u runs", sc->name, label, MAX_N);
	/* A fault that is never injected tests nothing: the path must be reached. */
	if (t->faults == before_faults)
		fail_msg("%s, %s: no call matched: the scenario does not reach this path", sc->name,
			 label);
	print_message("  %s, %s: %u faults injected, %u broke the contract\n", sc->name, label,
		      t->faults - before_faults, t->broken - before_broken);
}

typedef void (*scen_fn)(struct scen *);

/* Runs every fault of fs[0..nf) on every scenario of sf[0..ns); fails when a
 * run broke the contract. */
static void
run(const scen_fn *sf, size_t ns, const struct fault_spec *fs, size_t nf)
{
	struct tally t = {0, 0, 0};

	for (size_t i = 0; i < ns; i++) {
		struct scen sc;
		struct ref ref;

		memset(&sc, 0, sizeof(sc));
		sf[i](&sc);
		ref_build(&sc, &ref);
		for (size_t j = 0; j < nf; j++)
			sweep(&sc, &ref, &fs[j], &t);
		ref_release(&ref);
		scen_release(&sc);
	}
	if (t.printed > MAX_PRINTED && !verbose)
		print_message("  ... and %u more (LS_FAULTS_VERBOSE=1 prints them)\n",
			      t.printed - MAX_PRINTED);
	if (t.broken > 0)
		fail_msg("%u of %u injected faults broke the contract", t.broken, t.faults);
}

#define RUN(scens, faults)                                                                         \
	run((scens), sizeof(scens) / sizeof((scens)[0]), (faults),                                 \
	    sizeof(faults) / sizeof((faults)[0]))

static const scen_fn all_scens[] = {scen_license, scen_revocation, scen_holds, scen_parked};

/* ---- tests ---- */

/* The certificate of a license's author (and every other stored record body
 * the rules read). */
static void
test_ingest_faults_cert_read(void **state)
{
	static const scen_fn scens[] = {scen_license};
	static const struct fault_spec faults[] = {{OP_GET, "recs", EIO, false}};

	(void)state;
	RUN(scens, faults);
}

/* The existence checks (id index): known, missing dependency, certificate. */
static void
test_ingest_faults_id_read(void **state)
{
	static const scen_fn scens[] = {scen_license, scen_parked};
	static const struct fault_spec faults[] = {{OP_GET, "ids", EIO, false}};

	(void)state;
	RUN(scens, faults);
}

/* A license's used grams. */
static void
test_ingest_faults_licused_read(void **state)
{
	static const scen_fn scens[] = {scen_license};
	static const struct fault_spec faults[] = {{OP_GET, "licused", EIO, false}};

	(void)state;
	RUN(scens, faults);
}

/* Revocations of keys, certificates and licenses. */
static void
test_ingest_faults_revoked_read(void **state)
{
	static const scen_fn scens[] = {scen_revocation};
	static const struct fault_spec faults[] = {{OP_CURSOR_GET, "revoked", EIO, false},
						   {OP_CURSOR_GET, "revoked", ENOMEM, false}};

	(void)state;
	RUN(scens, faults);
}

/* Holdings. */
static void
test_ingest_faults_holds_read(void **state)
{
	static const scen_fn scens[] = {scen_holds};
	static const struct fault_spec faults[] = {{OP_GET, "holds", EIO, false}};

	(void)state;
	RUN(scens, faults);
}

/* Out of memory decoding stored bytes: parked records being released, and
 * the stored records the rules read. */
static void
test_ingest_faults_release_nomem(void **state)
{
	static const scen_fn scens[] = {scen_parked};
	static const struct fault_spec faults[] = {{OP_DECODE, NULL, LS_ERR_NOMEM, true}};

	(void)state;
	RUN(scens, faults);
}

/* Reading the pending set while releasing. */
static void
test_ingest_faults_release_read(void **state)
{
	static const scen_fn scens[] = {scen_parked};
	static const struct fault_spec faults[] = {{OP_CURSOR_GET, "pending", EIO, false},
						   {OP_CURSOR_GET, "pending", ENOMEM, false}};

	(void)state;
	RUN(scens, faults);
}

/* Deleting released records from the pending set. */
static void
test_ingest_faults_release_delete(void **state)
{
	static const scen_fn scens[] = {scen_parked};
	static const struct fault_spec faults[] = {{OP_DEL, NULL, EIO, false}};

	(void)state;
	RUN(scens, faults);
}

/* Deleting a holding spent to 0. */
static void
test_ingest_faults_holds_delete(void **state)
{
	static const scen_fn scens[] = {scen_holds};
	static const struct fault_spec faults[] = {{OP_DEL, NULL, EIO, false},
						   {OP_DEL, NULL, ENOMEM, false}};

	(void)state;
	RUN(scens, faults);
}

/* Every point read of every table. */
static void
test_ingest_faults_any_read(void **state)
{
	static const struct fault_spec faults[] = {{OP_GET, NULL, EIO, false}};

	(void)state;
	RUN(all_scens, faults);
}

/* Cursor reads where nothing is released (release_read covers the others). */
static void
test_ingest_faults_cursor_read(void **state)
{
	static const scen_fn scens[] = {scen_license, scen_revocation, scen_holds};
	static const struct fault_spec faults[] = {{OP_CURSOR_GET, NULL, EIO, false},
						   {OP_CURSOR_GET, NULL, ENOMEM, false}};

	(void)state;
	RUN(scens, faults);
}

/* Out of memory decoding the caller's own envelopes. */
static void
test_ingest_faults_decode_nomem(void **state)
{
	static const struct fault_spec faults[] = {{OP_DECODE, NULL, LS_ERR_NOMEM, false}};

	(void)state;
	RUN(all_scens, faults);
}

/* Admission's dependency-rejected bookkeeping: every read, cursor read,
 * write and delete of the path, every allocation of the library and every
 * id map call, each failing in turn. */
static void
test_ingest_faults_deprej(void **state)
{
	static const scen_fn scens[] = {scen_deprej};
	static const struct fault_spec faults[] = {
	    {OP_GET, NULL, EIO, false},          {OP_CURSOR_GET, NULL, EIO, false},
	    {OP_PUT, NULL, MDB_MAP_FULL, false}, {OP_PUT, NULL, ENOMEM, false},
	    {OP_DEL, NULL, EIO, false},          {OP_DECODE, NULL, LS_ERR_NOMEM, false},
	    {OP_ALLOC, NULL, 0, false},          {OP_IDMAP, NULL, 0, false}};

	(void)state;
	RUN(scens, faults);
}

/* A full map, a full transaction or no memory on any write: the map grows and
 * the batch is retried, or the batch fails whole. */
static void
test_ingest_faults_write_full(void **state)
{
	static const struct fault_spec faults[] = {{OP_PUT, NULL, MDB_MAP_FULL, false},
						   {OP_PUT, NULL, MDB_TXN_FULL, false},
						   {OP_PUT, NULL, ENOMEM, false}};

	(void)state;
	RUN(all_scens, faults);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ingest_faults_write_full),
	    cmocka_unit_test(test_ingest_faults_holds_delete),
	    cmocka_unit_test(test_ingest_faults_cursor_read),
	    cmocka_unit_test(test_ingest_faults_cert_read),
	    cmocka_unit_test(test_ingest_faults_id_read),
	    cmocka_unit_test(test_ingest_faults_licused_read),
	    cmocka_unit_test(test_ingest_faults_revoked_read),
	    cmocka_unit_test(test_ingest_faults_holds_read),
	    cmocka_unit_test(test_ingest_faults_release_nomem),
	    cmocka_unit_test(test_ingest_faults_release_read),
	    cmocka_unit_test(test_ingest_faults_release_delete),
	    cmocka_unit_test(test_ingest_faults_any_read),
	    cmocka_unit_test(test_ingest_faults_decode_nomem),
	    cmocka_unit_test(test_ingest_faults_deprej),
	};

	const char *v = getenv("LS_FAULTS_VERBOSE");

	verbose = v != NULL && strcmp(v, "1") == 0;
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
