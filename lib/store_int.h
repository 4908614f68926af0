/*
 * store_int.h - the store layer: LMDB layout and typed table access, shared
 * by store.c (open, reads), tables.c (the typed accessors), ingest.c (the
 * write path), logstore.c (the Merkle log), witstore.c (the witness state),
 * the record kinds (kind/) and the verification modules. Only store.c,
 * tables.c, ingest.c, logstore.c and witstore.c call LMDB. Not a public
 * header.
 *
 * Named databases (keys and values; integers big-endian):
 *   meta      "version" -> u32; "next" -> u64 next position; "pending" -> u64;
 *             "porder" -> u64 next parking order; "strangers" -> u64;
 *             "logsize" -> u64 leaves in the log; "sealed" -> u64 the log
 *             size at the last seal; "nolog" -> u64 1: made without the log
 *             (ls_store_opts.no_log); "setsum" -> 32 bytes: the record set
 *             digest (ls_store_setsum_add; absent in a store made before
 *             it: computed from the ids table by ls_txn_setsum)
 *   recs      pos u64 -> envelope bytes (append order: MDB_APPEND)
 *   ids       record id -> pos u64 || type u8 || leaf index u64 (a store
 *             without the log: pos || type; readers take the first 9 bytes);
 *             a transformation's output lot id -> pos u64 || index u32 (12
 *             bytes: the lot's key, below; ls_txn_ids_record passes them
 *             over). The one table keyed by random hashes that every record
 *             writes to: the others are keyed by store position or author.
 *   feeds     author || seq u64 -> record id (the branch the tables follow)
 *   forks     author || seq u64 || record id -> "" (an equivocating author's
 *             other records: stored, checked along their own branch)
 *   heads     author -> seq u64 || head id || timestamp u64
 *   certs     subject key || cert id -> roles u32 || from u64 || until u64 || country[2]
 *   revoked   subject (key, certificate or license id) || revocation id
 *               -> effective u64 || revoker key   (every revocation: scope is
 *               decided at question time, kind/revocation.c)
 *   pending   missing id || waiting id -> envelope bytes
 *   pwait     waiting id -> missing id || author || order u64 || stranger u8
 *   porder    author || order u64 -> waiting id (oldest first)
 *   pauthors  author -> records waiting u64
 *   pstrange  order u64 -> waiting id: records waiting for their author's
 *             certificate (ingest.c: the pending set)
 *   evidence  author || seq u64 -> len_a u32 || envelope a || envelope b
 *   lots      lot key -> record id || index u32 (0xffffffff: registration) || grams u64
 *               || maker key || timestamp u64 || node: what a question reads of
 *               the making record (struct ls_lotnode; tables.c gives the bytes);
 *             lot key || record id -> type u8: the records that consume or ship
 *               the lot (transformations, transfers), right after its node.
 *             A lot key (LS_LOT_KEY_LEN) is the store position of the record
 *             that made the lot || its output index u32 (0xffffffff: a
 *             registration), found from the lot id in ids: node-local, never
 *             in a reply, bundle or gossip message. A new lot's node is the
 *             last key (MDB_APPEND), and lots stored together are neighbours.
 *   labels    label -> lot id (dupsort)
 *   holds     holder key || lot id -> grams u64
 *   transit   transfer id -> grams u64 || received u8;
 *             receipt id -> shortfall u64 || taken back u8 (the grams a receipt
 *               returns to the sender);
 *             return key of a transfer -> grams u64 || 1 (the sender took its
 *               shortfall back: once per transfer, whatever the receipts)
 *   flows     party key || dir u8 ('i' to the party, 'o' from it) || id
 *               -> lot id || counterpart key || grams u64 || kind u8 (0 a
 *               transfer, 1 the shortfall a receipt returns): lot material in
 *               transit, removed when it is received (holdings)
 *   licused   license id -> grams u64
 *   children  transfer id || receipt id -> type u8; receipt id || receipt id
 *               (the sender's claim on its shortfall) -> type u8
 *   policies  jurisdiction[2] || effective_from u64 || policy id -> ""
 *   licnum    license number -> license id (dupsort)
 *   lictee    licensee key || license id -> "": the licenses an exporter may
 *             cite (layout 9; the export question reads these, not all)
 *   techs     receiver key || timestamp u64 || transfer id -> ""
 *   dates     record id -> logged time u64: in a store opened with bundle_check
 *             only, the logged times its bundle's log proof gives (question
 *             time reads them as a node reads its log's quorum times)
 *
 * The Merkle log (logstore.c; store.h describes the leaves):
 *   logleaf   index u64 -> leaf data (LS_TLOG_LEAF_LEN bytes), MDB_APPEND
 *   lognode   last leaf u64 || level u8 -> the hash of the perfect subtree
 *               of that level (>= 1) ending at that leaf, leaves [index *
 *               2^level, (index + 1) * 2^level); written as leaves are
 *               appended, in key order (MDB_APPEND). Level 0 (leaf hashes)
 *               is hashed from logleaf when needed: a third fewer writes.
 *   hseal     author || heads-leaf index u64 -> seq u64 || head id: at each
 *               seal, for each author whose head differs from its latest
 *               entry, so the heads tree as of any seal can be rebuilt (for
 *               each author, its latest entry at or before the heads leaf)
 *   cpoints   size u64 -> signed checkpoint note (C2SP text, cosignatures)
 *   quorum    size u64 -> quorum time u64 (checkpoints that reached quorum
 *               under the daemon's witness policy)
 *
 * The witness state (witstore.c; witness.h). An origin in a key is followed
 * by a newline, which no key name holds, so that one origin's keys are not a
 * prefix of another's:
 *   wlogs     origin -> log pk (32) || size u64 || root (32) || k u8 || k
 *               compact range hashes (32 each) || cosigned at u64 ||
 *               distrusted u8 (the logs this daemon witnesses)
 *   wnote     origin -> the last checkpoint note it cosigned
 *   wheads    origin || '\n' || author -> seq u64 || head id: the feed heads
 *               of that log as of its last cosigned checkpoint
 *   peerlogs  peer node key -> log vkey || '\n' || witness vkey (the keys
 *               the peer announced first)
 *   cosigners witness public key -> size u64 || time u64 || cosignature line
 *               (the owner's side: what each witness last cosigned)
 *   splitviews origin || '\n' || n u64 -> SplitView gossip message
 *   authtime  author || seq u64 -> time u64: when this node accepted an
 *               authority record (local bookkeeping for the grace check,
 *               written at ingest, never a consensus input)
 */
#ifndef LS_STORE_INT_H
#define LS_STORE_INT_H

#include <pthread.h>

#include <lmdb.h>

#include "store.h"

/* 3: the rules of assigned country codes and of exporter and importer
 * roles. A store of an older version may hold records those rules refuse:
 * it is rebuilt by --reindex, which names them. 4: the flows table
 * (holdings in transit to and from each key) and receipts' shortfalls.
 * 5: the Merkle log (logleaf, lognode, hseal, cpoints, quorum; the leaf
 * index in ids) and the witness state (wlogs ... authtime). 6: each lot's
 * node in the lots table and each child's type in the children table (what
 * a question reads, instead of decoding records; tables.c). 7: the records
 * that consume or ship a lot move from the children table to the lots
 * table, after the lot's node (one cursor reads both). 8: the lots table keyed
 * by the making record's store position (a lot key) instead of the lot id,
 * output lots' ids in the ids table, each node with its inputs' lot keys:
 * a new lot appends where it wrote a random page, and a walk up the inputs
 * reads neighbours without looking ids up. 9: the lictee table (the
 * licenses of each licensee), which an export question reads instead of
 * every license in the store; a store of layout 8 is brought to 9 in place
 * when it is opened (the table filled from the licenses it holds). */
#define LS_STORE_LAYOUT_VERSION 9
/* Folded branches the store keeps for the forks that follow (ingest.c). */
#define LS_FORK_CACHE 4

struct ls_branch;
#define LS_LOT_REGISTRATION 0xffffffffu

struct ls_store {
	MDB_env *env;
	MDB_dbi meta, recs, ids, feeds, forks, heads, certs, revoked, pending, pwait, porder,
	    pauthors, pstrange, evidence, lots, labels, holds, transit, licused, children, policies,
	    licnum, lictee, techs, flows;
	MDB_dbi logleaf, lognode, hseal, cpoints, quorum; /* the Merkle log */
	MDB_dbi dates; /* bundle_check stores: logged times from the bundle */
	MDB_dbi wlogs, wnote, wheads, peerlogs, cosigners, splitviews, authtime; /* witstore.c */
	uint8_t (*anchors)[LS_KEY_LEN];
	size_t n_anchors;
	unsigned threads;
	size_t max_pending;
	size_t pending_quota; /* records one author may have waiting */
	size_t strangers_max; /* records of strangers waiting, all together */
	bool bundle_check;    /* ls_store_opts.bundle_check */
	bool no_log;          /* no Merkle log: ls_store_opts.no_log or bundle_check */
	/* The writer's (ingest.c): no read path touches them. */
	struct ls_branch *fork_cache[LS_FORK_CACHE];
	size_t fork_next;
	/* What the writer's transactions read, all attempts of every ingest
	 * call added up (records decoded, table reads, seeks): how tests
	 * count the work one batch costs. */
	uint64_t ingest_records, ingest_reads, ingest_seeks;
	/* Admission's dependency-rejected bookkeeping, likewise added up: the
	 * nodes it made and the steps settling took (ingest.c). */
	uint64_t ingest_dr_nodes, ingest_dr_steps;
	/*
	 * The map may grow (mdb_env_set_mapsize) only while no transaction of
	 * the process is open. Every read transaction is counted here from
	 * begin to abort, per thread (a read path may nest read transactions
	 * on one thread: trace.c does); ls_store_grow_map sets `growing`, which
	 * holds back every thread that has none open yet, waits until none is
	 * open, grows and wakes them. Write transactions are not counted: the
	 * one writer thread is the one that grows, between its transactions.
	 */
	pthread_mutex_t readmu;
	pthread_cond_t readcv;
	bool read_sync_made;
	struct ls_read_thread {
		pthread_t th;
		unsigned depth; /* read transactions it has open */
	} * rthreads;           /* under readmu */
	size_t n_rthreads, cap_rthreads;
	bool growing;
	/* A grow of the map failed after LMDB had unmapped the old map, which
	 * only reopening the environment maps again: every transaction fails
	 * with LS_ERR_STORE rather than read an unmapped map. Set under
	 * readmu with no transaction open; read without. */
	bool map_lost;
	struct ls_vpool *pool; /* the verifier pool (ingest.c); its own lock */
	int lockfd;
	/* data.mdb beyond the data, made ready for LMDB's writes
	 * (ls_store_tail_prepare): its own descriptor (-1: not done), how far
	 * it is ready, the page size and a buffer for its reads. Used only by
	 * the thread holding the write transaction. */
	int tail_fd;
	uint64_t tail_end, tail_data; /* ready up to; the data's end when last looked */
	size_t psize;
	uint8_t *tail_buf;
};

/*
 * Before a write transaction commits (the caller holds it, so no other
 * write to data.mdb runs): makes sure the file's next pages past the data
 * are in the page cache as single pages, so that LMDB's page writes there
 * and every later rewrite of those pages dirty 4 KB each (see store.c);
 * hint: about how many bytes the commit may add (0: unknown). An
 * optimisation only: any failure turns it off for this store.
 */
void ls_store_tail_prepare(struct ls_store *s, uint64_t hint);

/*
 * The verifier pool (ingest.c): `workers` threads that decode and verify
 * the envelopes of each ingest batch beside the writer thread, made by the
 * store's open and joined by its close. A thread that cannot be made leaves
 * the pool smaller (at worst the writer alone verifies): *out is set unless
 * LS_ERR_NOMEM. Used by the one thread that ingests; free is NULL-safe and
 * waits for the workers to stop.
 */
struct ls_vpool;
int ls_vpool_new(unsigned workers, struct ls_vpool **out);
void ls_vpool_free(struct ls_vpool **p);
/* The workers running (0 for NULL). */
size_t ls_vpool_workers(const struct ls_vpool *p);

/* ---- a set / map of 32-byte ids (origin.c) ---- */

struct ls_idmap;

struct ls_idmap *ls_idmap_new(void);
void ls_idmap_free(struct ls_idmap **m);
/* The value stored under id, or NULL. */
void *ls_idmap_get(const struct ls_idmap *m, const uint8_t id[32]);
bool ls_idmap_has(const struct ls_idmap *m, const uint8_t id[32]);
/* Stores val under id (replacing). LS_ERR_NOMEM. */
int ls_idmap_put(struct ls_idmap *m, const uint8_t id[32], void *val);
size_t ls_idmap_count(const struct ls_idmap *m);
/* The id put i-th (i < ls_idmap_count): the ids in the order they were put. */
const uint8_t *ls_idmap_id_at(const struct ls_idmap *m, size_t i);
/* A copy of m (values copied as pointers), or NULL. */
struct ls_idmap *ls_idmap_clone(const struct ls_idmap *m);
/* Calls fn for every entry, in no particular order. */
void ls_idmap_each(const struct ls_idmap *m, void (*fn)(void *arg, const uint8_t id[32], void *val),
		   void *arg);

/*
 * One author's own state along one branch of its feed, for the records of an
 * equivocating author that are not on the branch the tables follow (ingest.c):
 * what it holds (lot id -> grams + 1), what it used of its licenses (license
 * id -> grams + 1), which transfers to it it received. While a transaction
 * carries a branch, the typed accessors read and write the author's state
 * here instead of in the tables; with `replay` set they write nothing else.
 */
struct ls_branch {
	uint8_t author[LS_KEY_LEN];
	uint8_t tip[LS_ID_LEN]; /* the last record folded in */
	struct ls_idmap *holds, *used, *received;
};

void ls_branch_free(struct ls_branch **b);

/* A transaction of the store (read or write). */
struct ls_txn {
	struct ls_store *s;
	MDB_txn *txn;
	struct ls_branch *branch; /* NULL: the tables' branch */
	bool replay;              /* folding a branch: write the branch state only */
	bool readonly;            /* a read transaction: nothing it reads changes */
	struct ls_idmap *memo;    /* read transactions: certificate windows (kind.c) */
	struct ls_qcache *qc;     /* a question's memo while it runs (qcache.c), or NULL */
	/* The cost of what was read in this transaction: record envelopes
	 * read from recs (each one decode), and every table read (point reads
	 * and cursor steps). ls_txn_begin zeroes them; only readers count. */
	uint64_t n_records;
	uint64_t n_reads;
	bool counted; /* a read transaction in s->rthreads, of thread owner */
	pthread_t owner;
	uint64_t n_seeks; /* of n_reads, those that descend a tree from its root */
	/* A read transaction's cursor on the lots table, opened by the first
	 * node read (ls_txn_lotnode_read) and closed by ls_txn_abort: no
	 * cursor made per node. */
	MDB_cursor *lots_cursor;
	/* The writer's: the store position the record being applied will
	 * be stored at (ingest.c sets it before a kind's apply), which keys
	 * the lots it makes (tables.c, ls_txn_lot_put). */
	uint64_t apply_pos;
	/* A read transaction's quorum table: 0 not looked at yet, 1 empty (no
	 * record has a logged time: ls_txn_logged_time reads no leaf index),
	 * 2 not empty. ls_txn_begin zeroes it. */
	uint8_t quorum_state;
	/* The writer's, while it admits a local client's submission: the
	 * custody maps worked out for the batch (verify.c), or NULL. */
	struct ls_custody_memo *custody;
};

/*
 * The writer's custody memo for one attempt at a batch (verify.c): custody
 * maps the admission judge worked out, kept while no transfer they depend
 * on becomes received. ls_custody_memo_named: a record now names transfer
 * (or lot) `parent` (ls_txn_child_put): the maps that depended on it are
 * dropped. A store error or LS_ERR_NOMEM.
 */
struct ls_custody_memo;
int ls_custody_memo_new(struct ls_custody_memo **out);
void ls_custody_memo_free(struct ls_custody_memo **m);
int ls_custody_memo_named(struct ls_txn *t, const uint8_t parent[LS_ID_LEN]);

/* Translates an LMDB code into an ls_err. */
int ls_store_err(int mdb_rc);

/*
 * The ls_err of a failed mdb_txn_commit on s. LMDB reports a page write the
 * disk took only in part as EIO (mdb_page_flush), which is how a disk that
 * fills during a commit shows: an EIO while the store's file system has
 * less than a megabyte free is LS_ERR_FULL, so that the user reads "disk
 * full" and not "store error". Otherwise as ls_store_err.
 */
int ls_store_commit_err(const struct ls_store *s, int mdb_rc);

/* A read transaction is counted in s->rthreads until ls_txn_abort, which
 * every transaction ends with (also after a commit that set t->txn NULL);
 * it begins and ends on one thread. Beginning one may wait while the map
 * grows, unless the thread has one open already. */
int ls_txn_begin(struct ls_store *s, bool write, struct ls_txn *t);
/* Ends t, and frees a question memo still attached to it (t->qc). */
void ls_txn_abort(struct ls_txn *t);

struct ls_qcache;
/* Frees a question memo (qcache.c); NULL-safe. */
void ls_qcache_free(struct ls_qcache **c);
/*
 * Doubles the map after a write transaction failed with LS_ERR_FULL (up to
 * 1 TiB). Holds back new read transactions and waits until none is open on
 * any thread; LS_ERR_FULL at once when the calling thread holds one (it
 * cannot wait for itself) or the map cannot grow, LS_ERR_STORE.
 */
int ls_store_grow_map(struct ls_store *s);

/* Point reads inside a transaction; LS_ERR_NOT_FOUND when absent. */
int ls_txn_get(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
int ls_txn_put(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, unsigned flags);
int ls_txn_get_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t *v);
int ls_txn_put_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t v);

/* The store position of record id (store order is a dependency order). */
/*
 * The record set digest (store.h: ls_store_stats.set_digest): the sum
 * modulo 2^256 of the ids of the stored records, each read as a 256-bit
 * little-endian number. ls_txn_setsum reads it from meta "setsum", or, in a
 * store made before it, adds up the ids table (one pass over the ids: done
 * once, by the first write). ls_store_setsum_add adds one id to a sum.
 */
int ls_txn_setsum(struct ls_txn *t, uint8_t sum[LS_ID_LEN]);
void ls_store_setsum_add(uint8_t sum[LS_ID_LEN], const uint8_t id[LS_ID_LEN]);

int ls_txn_record_pos(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *pos);
/* 0 when record id is stored, LS_ERR_NOT_FOUND, or a store error. */
int ls_txn_record_has(struct ls_txn *t, const uint8_t id[LS_ID_LEN]);
/* Whether record id is stored (a failed read says no: not for rules). */
bool ls_txn_has_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN]);
/* The type of stored record id (from the ids table, no decode). */
int ls_txn_record_type(struct ls_txn *t, const uint8_t id[LS_ID_LEN], enum ls_rtype *type);
/* Decodes stored record id (no signature check: it was checked at ingest). */
int ls_txn_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN], struct ls_record **r);
/*
 * Stored record id, decoded once per memo: *r is borrowed from the memo,
 * or (no memo) equal to *owned, which the caller frees with
 * ls_record_free (NULL-safe: free *owned in every case).
 */
int ls_txn_record_ref(struct ls_txn *t, const uint8_t id[LS_ID_LEN], const struct ls_record **r,
		      struct ls_record **owned);

/* Envelope bytes of a stored record; valid until the transaction ends. */
int ls_txn_envelope(struct ls_txn *t, const uint8_t id[LS_ID_LEN], MDB_val *env);
/* The ids entry of record id (a transformation's output lot, which the ids
 * table maps too, is not a record: LS_ERR_NOT_FOUND). */
int ls_txn_ids_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN], MDB_val *v);
/* The length of an ids value that maps a transformation's output lot (the
 * position of the transformation || output index u32): a record's is 9 or
 * 17 bytes. */
#define LS_IDS_LOT_VLEN 12
/*
 * A lot's key in the lots table (layout 8): the store position of the
 * record that made it || its output index u32 (LS_LOT_REGISTRATION for a
 * registration). Node-local: a position is the order this node stored
 * records in, so no reply, bundle or gossip message carries one.
 */
#define LS_LOT_KEY_LEN 12
/* lot's key, from the ids table (a registration: its record's entry; a
 * transformation's output: its own). LS_ERR_NOT_FOUND: no such lot. */
int ls_txn_lot_key(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], uint8_t key[LS_LOT_KEY_LEN]);

struct ls_lot_info {
	uint8_t rec[LS_ID_LEN]; /* registration or transformation record */
	uint32_t index;         /* output index, or LS_LOT_REGISTRATION */
	uint64_t grams;
	uint8_t maker[LS_KEY_LEN];
	uint64_t timestamp;
};

__extension__ typedef unsigned __int128 ls_u128;

struct ls_bump;
struct ls_lot_origin;

/* A record of a children table entry, with its type. */
struct ls_kid {
	uint8_t id[LS_ID_LEN];
	enum ls_rtype type;
};

/*
 * What a question uses of a lot and of the record that made it: the lot's
 * node, stored with the lot at ingest (the lots table) so that a question
 * reads one value instead of decoding the record. Strings and arrays are
 * borrowed: from the record (ls_lotnode_of_record), or from the memory the
 * reader gave (ls_txn_lotnode_read).
 */
struct ls_lotnode {
	uint8_t id[LS_ID_LEN];
	struct ls_lot_info li;
	/* the making record (li.rec) */
	enum ls_rtype type; /* LS_REC_LOT or LS_REC_TRANSFORMATION */
	uint8_t author[LS_KEY_LEN];
	uint64_t timestamp;
	bool has_cert;
	uint8_t cert_id[LS_ID_LEN];
	/* the lot's definition */
	const char *label, *category;
	uint64_t grams, value;
	size_t n_comp;
	const struct ls_elem *comp;
	/* a registration: where */
	const char *site; /* "" for a transformation */
	char country[LS_COUNTRY_LEN + 1];
	/* a transformation: its inputs, and its outputs' declared values */
	size_t n_inputs;
	const struct ls_lot_input *inputs;
	/* their lot keys (ls_txn_lot_key; node-local), or NULL: not stored */
	const uint8_t (*in_keys)[LS_LOT_KEY_LEN];
	ls_u128 out_value;
	bool outs_valued;
	uint8_t unvalued_out[LS_ID_LEN]; /* the first output that declares none */
	/* the lot's children, read on first use (ls_txn_lot_kids; not stored) */
	bool kids_loaded;
	size_t n_kids;
	const struct ls_kid *kids;
	struct ls_bump *mem; /* a node without a memo: its own memory */
	uint32_t mark;       /* a memo's walks: which reached it (ls_lotnode_mark) */
	/* a custody walk: the holders it reached this lot with, under its mark
	 * (ls_lotnode_holder_mark) */
	uint32_t holders_mark;
	size_t n_holders, cap_holders;
	uint8_t (*holders)[LS_KEY_LEN];
	struct ls_idmap *holders_set; /* past a few holders (the memo frees it) */
	/* a memo's graph: the inputs' nodes once looked up (ls_lotnode_input),
	 * and the origin an origin cache computed (origin.c) */
	const struct ls_lotnode **in_nodes;
	const struct ls_lot_origin *origin;
	uint32_t origin_cache; /* which cache: its number in the memo (never 0) */
};

/*
 * The node of lot made by rec (li: its lots entry): the one definition of
 * what a node holds, used at ingest (ls_txn_lot_put stores it) and for a lot
 * stored without one. A pure function of the record. n borrows rec's
 * strings and arrays. LS_ERR_STORE when rec does not make lot.
 */
int ls_lotnode_of_record(const struct ls_record *rec, const struct ls_lot_info *li,
			 const uint8_t lot[LS_ID_LEN], struct ls_lotnode *n);
/*
 * Reads lot's node (one read; a lot stored without its node: its record,
 * decoded), and with_kids its children too (n->kids, kids_loaded: the keys
 * after the node's, with the same cursor). Strings and arrays are copied
 * into memory from alloc(arg, n), which returns zeroed memory or NULL.
 * LS_ERR_NOT_FOUND, LS_ERR_STORE, LS_ERR_NOMEM.
 */
int ls_txn_lotnode_read(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], bool with_kids,
			struct ls_lotnode *n, void *(*alloc)(void *arg, size_t n), void *arg);
/* The same, key (NULL: looked up) being lot's key (ls_txn_lot_key): what a
 * walk up a node's inputs reads (n->in_keys). */
int ls_txn_lotnode_read_at(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t *key,
			   bool with_kids, struct ls_lotnode *n,
			   void *(*alloc)(void *arg, size_t n), void *arg);

/*
 * Typed table access (tables.c). Every function returns 0, LS_ERR_NOT_FOUND
 * where an entry may be absent, or a store error: a failed read is never an
 * answer. The *_each functions collect first where fn may read the store,
 * stop at fn's non-zero return and return it.
 */
int ls_txn_lot(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_lot_info *info);
/* The first lot (in key order) that `maker` made under `label`, into lot
 * (admission: an author uses a label once). LS_ERR_NOT_FOUND or a store
 * error. */
int ls_txn_label_of(struct ls_txn *t, const char *label, const uint8_t maker[LS_KEY_LEN],
		    uint8_t lot[LS_ID_LEN]);
/* The first license (in key order) that `issuer` issued under `number`, into
 * lic (admission: an authority uses a number once). LS_ERR_NOT_FOUND or a
 * store error. */
int ls_txn_licnum_of(struct ls_txn *t, const char *number, const uint8_t issuer[LS_KEY_LEN],
		     uint8_t lic[LS_ID_LEN]);
/* Stores lot with its node, from rec, the record that makes it. */
int ls_txn_lot_put(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const struct ls_lot_info *info,
		   const char *label, const struct ls_record *rec);

/*
 * The definition of a lot (label, category, grams, composition) inside its
 * creating record *rec (caller frees *rec). *def points into *rec.
 */
int ls_txn_lot_def(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_record **rec,
		   const struct ls_lotdef **def);

/* Grams of lot held by holder: *grams 0 when none. */
int ls_txn_hold(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t lot[LS_ID_LEN],
		uint64_t *grams);
int ls_txn_hold_put(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN],
		    const uint8_t lot[LS_ID_LEN], uint64_t grams);

/* A transfer's grams and whether it was received. LS_ERR_NOT_FOUND. */
int ls_txn_transit(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t *sent,
		   bool *received);
int ls_txn_transit_put(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t sent,
		       bool received);

/* Every lot holder holds, in lot id order, starting after lot `after`
 * (NULL: from the first); stops at fn's non-zero return and returns it. */
int ls_txn_holds_each(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
		      int (*fn)(void *arg, const uint8_t lot[LS_ID_LEN], uint64_t grams),
		      void *arg);

/* Whether the sender took back the shortfall of transfer (on the sender's
 * branch when the transaction carries one), and recording that it did. */
int ls_txn_return_taken(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *taken);
int ls_txn_return_taken_put(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], uint64_t grams);

/*
 * Lot material in transit to ('i') or from ('o') a party: a transfer not yet
 * received, or the shortfall a receipt returns to the sender not yet taken
 * back. The index of holdings; nothing checks a rule against it.
 */
#define LS_FLOW_IN  'i'
#define LS_FLOW_OUT 'o'
struct ls_flow_row {
	uint8_t id[LS_ID_LEN]; /* the transfer, or the receipt returning grams */
	uint8_t lot[LS_ID_LEN];
	uint8_t party[LS_KEY_LEN]; /* the other party: sender of 'i', receiver of 'o' */
	uint64_t grams;
	bool is_return;
};
int ls_txn_flow_put(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir,
		    const struct ls_flow_row *row);
int ls_txn_flow_del(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir,
		    const uint8_t id[LS_ID_LEN]);
/* In id order, starting after id `after` (NULL: from the first). */
int ls_txn_flows_each(struct ls_txn *t, const uint8_t party[LS_KEY_LEN], char dir,
		      const uint8_t *after, int (*fn)(void *arg, const struct ls_flow_row *row),
		      void *arg);

/* Grams used of a license (0 when none). */
int ls_txn_licused(struct ls_txn *t, const uint8_t license[LS_ID_LEN], uint64_t *used);
int ls_txn_licused_put(struct ls_txn *t, const uint8_t license[LS_ID_LEN], uint64_t used);

/*
 * The records stored under key in the children table: the receipts of a
 * transfer (and the sender's claim on a receipt). What consumes or ships a
 * lot is kept beside the lot's node (lots table, layout 7):
 * ls_txn_lot_children.
 */
int ls_txn_children(struct ls_txn *t, const uint8_t key[32],
		    int (*fn)(void *arg, const uint8_t rec[32]), void *arg);
int ls_txn_lot_children(struct ls_txn *t, const uint8_t lot[LS_ID_LEN],
			int (*fn)(void *arg, const uint8_t rec[LS_ID_LEN]), void *arg);
int ls_txn_child_put(struct ls_txn *t, const uint8_t parent[LS_ID_LEN],
		     const uint8_t rec[LS_ID_LEN], enum ls_rtype type);
/* The records that consume or ship lot, with their types. */
int ls_txn_lot_children_typed(struct ls_txn *t, const uint8_t lot[LS_ID_LEN],
			      int (*fn)(void *arg, const uint8_t rec[LS_ID_LEN],
					enum ls_rtype type),
			      void *arg);
/* Whether a receipt of transfer is stored (on any branch of the receiver's
 * feed: the same answer on every node that holds the same records). */
int ls_txn_received(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *received);

struct ls_cert_row {
	uint8_t cert[LS_ID_LEN];
	uint32_t roles;
	uint64_t from, until; /* until 0: no end */
	char country[LS_COUNTRY_LEN + 1];
};
int ls_txn_cert_put(struct ls_txn *t, const uint8_t subject[LS_KEY_LEN],
		    const struct ls_cert_row *row);
int ls_txn_certs_each(struct ls_txn *t, const uint8_t subject[LS_KEY_LEN],
		      int (*fn)(void *arg, const struct ls_cert_row *row), void *arg);

struct ls_rev_row {
	uint8_t rev[LS_ID_LEN]; /* the Revocation record */
	uint64_t effective;
	uint8_t author[LS_KEY_LEN];
};
int ls_txn_revocation_put(struct ls_txn *t, const uint8_t subject[32],
			  const struct ls_rev_row *row);
/* Every revocation naming subject, in revocation id order. */
int ls_txn_revocations_each(struct ls_txn *t, const uint8_t subject[32],
			    int (*fn)(void *arg, const struct ls_rev_row *row), void *arg);
/* Every revocation record of the store. */
int ls_txn_all_revocations_each(struct ls_txn *t,
				int (*fn)(void *arg, const uint8_t rev[LS_ID_LEN]), void *arg);

int ls_txn_policy_put(struct ls_txn *t, const char jurisdiction[2], uint64_t from,
		      const uint8_t id[LS_ID_LEN]);
/* Every policy record, by jurisdiction and effective date. */
int ls_txn_policies_each(struct ls_txn *t, int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]),
			 void *arg);

int ls_txn_license_put(struct ls_txn *t, const struct ls_record *r);
/* Calls fn(arg, id) for each license of licensee (layout 9), in id order. */
int ls_txn_licenses_of(struct ls_txn *t, const uint8_t licensee[LS_KEY_LEN],
		       int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg);
/* Fills lictee from the licenses stored (a layout 8 store opened by layout 9). */
int ls_txn_lictee_build(struct ls_txn *t);
/* Every license record, by number. */
int ls_txn_licenses_each(struct ls_txn *t, int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]),
			 void *arg);

int ls_txn_tech_put(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t ts,
		    const uint8_t transfer[LS_ID_LEN]);
/* Every technology transfer to `to` with its date, in date order. */
int ls_txn_techs_dated(struct ls_txn *t, const uint8_t to[LS_KEY_LEN],
		       int (*fn)(void *arg, uint64_t ts, const uint8_t transfer[LS_ID_LEN]),
		       void *arg);
/* The technology transfers to `to` dated at or before `before`, in date order. */
int ls_txn_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
		      int (*fn)(void *arg, const uint8_t transfer[LS_ID_LEN]), void *arg);

int ls_txn_evidence_has(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			bool *has);
int ls_txn_evidence_put(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			const uint8_t *a, size_t la, const uint8_t *b, size_t lb);
/* The first equivocation kept for author: its seq and both record ids.
 * LS_ERR_NOT_FOUND when it has none. */
int ls_txn_evidence_first(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
			  uint8_t pair[2][LS_ID_LEN]);
/* The ids of the evidence pair kept for author and seq. LS_ERR_NOT_FOUND. */
int ls_txn_evidence_pair(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			 uint8_t pair[2][LS_ID_LEN]);
/* An equivocating author's records off the tables' branch, by seq. */
int ls_txn_fork_put(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		    const uint8_t id[LS_ID_LEN]);
int ls_txn_forks_each(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		      int (*fn)(void *arg, const uint8_t id[LS_ID_LEN]), void *arg);
/* One of them (the lowest id), or LS_ERR_NOT_FOUND. */
int ls_txn_fork_first(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		      uint8_t id[LS_ID_LEN]);
/* Every evidence pair (of author, or of everyone when author is NULL). */
int ls_txn_evidence_each(struct ls_txn *t, const uint8_t *author,
			 int (*fn)(void *arg, const uint8_t *a, size_t la, const uint8_t *b,
				   size_t lb),
			 void *arg);

/* The id of author's record seq on the branch the tables follow.
 * LS_ERR_NOT_FOUND. */
int ls_txn_feed_get(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		    uint8_t id[LS_ID_LEN]);
/* The head of author's feed: *seq 0 (id zeroed) when it has none. */
int ls_txn_head(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
		uint8_t id[LS_ID_LEN]);

/* A record's logged time as its bundle proves it (the dates table of a
 * bundle_check store). LS_ERR_NOT_FOUND when the bundle dates it not. */
int ls_txn_date_get(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *qtime);
int ls_txn_date_put(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t qtime);

/* ---- the Merkle log (logstore.c) ---- */

/* The right edge of the tree of size leaves (for each set bit l of size,
 * the hash of the perfect subtree of level l that ends it): what an append
 * combines with, kept by a writer across the appends of one transaction. */
struct ls_log_edge {
	bool valid;
	uint64_t size;
	uint8_t h[64][LS_TLOG_HASH];
};

/* Appends leaf data at index *size in t (a write transaction) with its
 * subtree hashes and advances *size; the caller keeps "logsize". edge (NULL:
 * none) is read from the store when it is not valid for *size, and updated;
 * invalidate it when the transaction is aborted. */
int ls_txn_log_append(struct ls_txn *t, uint64_t *size, const uint8_t leaf[LS_TLOG_LEAF_LEN],
		      struct ls_log_edge *edge);
/* The leaf index of stored record id. LS_ERR_NOT_FOUND (also for a store
 * without the log). */
int ls_txn_log_index(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *index);
/* The logged time of record id: the quorum time of the earliest quorum
 * checkpoint holding it (ls_store_logged). LS_ERR_NOT_FOUND when none does
 * (unwitnessed) or the store has no log. For verify. */
int ls_txn_logged_time(struct ls_txn *t, const uint8_t id[LS_ID_LEN], uint64_t *qtime);

bool ls_store_is_anchor(const struct ls_store *s, const uint8_t key[LS_KEY_LEN]);

#endif
