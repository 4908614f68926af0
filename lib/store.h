/*
 * store.h - the LMDB store: records, feeds, certificates, lot state, pending
 * records and equivocation evidence, and the ingest of signed envelopes.
 *
 * One store is one LMDB environment in a directory, opened by one process at
 * a time (an exclusive lock on DIR/lodestone.lock). Ingest runs one durable
 * write transaction per batch (group commit): when ls_store_ingest() returns 0
 * every record it reports accepted is on disk.
 *
 * Thread safety: one thread calls ingest; reads may run on other threads,
 * each in read transactions of its own (MDB_NOTLS). A map that fills grows
 * on the ingest thread once every read transaction has ended (new ones wait
 * for it, store_int.h): that thread must hold none of its own then.
 */
#ifndef LS_STORE_H
#define LS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "reason.h"
#include "record.h"
#include "tlog.h"

struct ls_store;

struct ls_store_opts {
	/* Root authority keys (trust anchors); copied by open. */
	const uint8_t (*anchors)[LS_KEY_LEN];
	size_t n_anchors;
	/* Threads that decode and verify each ingest batch, the ingesting
	 * thread among them (a pool of verify_threads - 1 made by open, joined
	 * by close); 0: one per core, at most 4. */
	unsigned verify_threads;
	size_t max_pending; /* records waiting for dependencies; 0: 100000 */
	size_t map_size;    /* LMDB map size; 0: 256 GiB (halved to what maps). Grows when full. */
	/*
	 * A store that checks a proof bundle (verify-bundle), never a node's:
	 * a participant's record whose feed predecessor is missing is judged
	 * on the records it names instead of waiting for it (a bundle does not
	 * carry participants' feeds; an authority's feed it carries whole, and
	 * a gap there still holds the record back). An equivocating author's
	 * records are checked against the tables, not along their branch.
	 */
	bool bundle_check;
	/* A store without the Merkle log (no leaves, seals or checkpoints):
	 * only for the bench's comparison of ingest with and without it.
	 * Decided when the store is made (later opens keep what it was). A
	 * bundle_check store has no log either. */
	bool no_log;
};

/*
 * Opens (creating if needed) the store in directory dir. Clears stale reader
 * slots. Fails with LS_ERR_LOCKED when another process has the store open,
 * LS_ERR_VERSION for a store of another layout version, LS_ERR_STORE /
 * LS_ERR_IO otherwise; ctx names the directory and the cause.
 */
int ls_store_open(const char *dir, const struct ls_store_opts *opts, struct ls_store **out,
		  struct ls_err_ctx *ctx);

struct ls_reindex_report {
	uint64_t read;     /* envelopes read from the old store */
	uint64_t accepted; /* stored again */
	uint64_t pending;  /* waiting for a dependency again */
	uint64_t rejected; /* not valid under this version's rules */
	uint64_t evidence; /* second records of equivocations, kept as evidence */
};

struct ls_ingest_result;

struct ls_reindex_hooks {
	/* A record of the old store this version's rules do not store. */
	void (*rejected)(void *arg, const struct ls_ingest_result *res);
	void *arg;
};

/*
 * Rebuilds every table of the store in dir from its records: each stored
 * envelope (in store order), each waiting one and each equivocation's
 * evidence goes through this version's ingest into a new store, which then
 * replaces the old one (a rename: a reindex that stops half-way leaves the
 * old store as it was). Works on a store of any earlier layout version.
 * Takes the data dir's lock: the daemon must not run.
 */
int ls_store_reindex(const char *dir, const struct ls_store_opts *opts,
		     const struct ls_reindex_hooks *hooks, struct ls_reindex_report *rep,
		     struct ls_err_ctx *ctx);

/* Closes *s and sets it to NULL. NULL-safe. */
void ls_store_close(struct ls_store **s);

/* ---- ingest ---- */

enum ls_ingest_status {
	LS_INGEST_ACCEPTED = 0, /* stored and applied */
	LS_INGEST_KNOWN,        /* already stored: nothing done */
	LS_INGEST_PENDING,      /* stored aside until a dependency arrives */
	LS_INGEST_REJECTED,     /* not stored (equivocations keep evidence) */
};

struct ls_ingest_result {
	enum ls_ingest_status status;
	enum ls_reason reason; /* why rejected (LS_R_OK otherwise) */
	bool has_id;           /* false when the bytes did not decode */
	uint8_t id[LS_ID_LEN];
	enum ls_rtype type;
	char message[LS_ERR_MSG_MAX]; /* one line naming the record and field at fault */
	bool has_missing; /* PENDING: the id it waits for; REJECTED dependency-rejected: the
			   * refused record it names (both on the wire: "dependency") */
	uint8_t missing[LS_ID_LEN];
};

/* Called after the commit, once per record that became valid in the batch
 * (submitted ones and released pending ones), in apply order. Borrowed
 * arguments live for the call only. */
struct ls_ingest_hooks {
	void (*accepted)(void *arg, const struct ls_record *r, const uint8_t *env, size_t len);
	/* An equivocation: two envelopes of one author and seq. */
	void (*evidence)(void *arg, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
			 size_t len_b);
	void *arg;
};

/*
 * Ingests n envelopes in one write transaction: decodes and verifies each
 * (signatures in parallel), checks certificate, role, revocation, feed
 * continuity and the supply-chain rules, parks records whose dependencies are
 * missing and applies them when those arrive, keeps equivocation evidence.
 * results[i] tells what became of envs[i]. hooks may be NULL.
 *
 * Returns 0 when the transaction committed (results valid), or LS_ERR_FULL /
 * LS_ERR_STORE / LS_ERR_NOMEM when it could not: then nothing of the batch is
 * stored and the caller must not acknowledge any of it. A full map is grown
 * and the batch retried before LS_ERR_FULL is returned.
 */
int ls_store_ingest(struct ls_store *s, const uint8_t *const *envs, const size_t *lens, size_t n,
		    struct ls_ingest_result *results, const struct ls_ingest_hooks *hooks);

/*
 * Ingests envs[0..n) in batches of `batch` records, each one write
 * transaction as ls_store_ingest() makes it (the results and the ledger are
 * those of one call per batch), the signatures of each batch checked while
 * the batch before it commits. hooks as for ls_store_ingest(), after each
 * commit; step (may be NULL) is told how many records are stored after each.
 * Stops at the first batch that cannot be stored and returns its error: the
 * batches before it are stored (their results set), nothing after it.
 * LS_ERR_INVALID when batch is 0.
 */
int ls_store_ingest_run(struct ls_store *s, const uint8_t *const *envs, const size_t *lens,
			size_t n, size_t batch, struct ls_ingest_result *results,
			const struct ls_ingest_hooks *hooks, void (*step)(void *arg, size_t done),
			void *step_arg);

/*
 * Keeps n equivocation evidence pairs of a bundle (struct ls_bundle_evidence,
 * record.h) in a store opened with bundle_check: a pair is evidence when both
 * envelopes decode, are validly signed, and are two different records of one
 * author with one seq. results[i] (ACCEPTED, or REJECTED with the reason)
 * tells what became of pair i. Returns 0, or a store error (nothing kept).
 */
struct ls_bundle_evidence;
int ls_store_evidence_add(struct ls_store *s, const struct ls_bundle_evidence *ev, size_t n,
			  struct ls_ingest_result *results);

/*
 * Puts the logged time of record id (the quorum time of the earliest
 * checkpoint that holds it, as a bundle's log proof shows) into a store
 * opened with bundle_check, where question time reads it as a node reads
 * its log (ls_txn_logged_time). One write transaction. LS_ERR_INVALID in a
 * node's store (its logged times come from its own log), or a store error.
 */
int ls_store_dates_put(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t qtime);
/* The same for n records in one write transaction. */
int ls_store_dates_put_n(struct ls_store *s, const uint8_t (*ids)[LS_ID_LEN],
			 const uint64_t *qtimes, size_t n);

/* The largest checkpoint size that reached quorum, and its quorum time.
 * LS_ERR_NOT_FOUND when none has (or the store keeps no log). */
int ls_store_quorum_latest(struct ls_store *s, uint64_t *size, uint64_t *qtime);

/*
 * Admission (layer 2): what the daemon may refuse from its own clients
 * although it would store the same record from a peer.
 */
enum ls_admit {
	LS_ADMIT_PEER = 0,  /* from a peer or a replay: consensus rules only */
	LS_ADMIT_LOCAL = 1, /* a local client's submission: admission checks too */
	/* A local submission whose author records a transfer knowingly although
	 * the policies the daemon holds find it unlawful (an auditor recording a
	 * found violation, a historical import): accepted, with the reason in
	 * the result, when consensus and the other admission checks pass. */
	LS_ADMIT_LOCAL_VIOLATION = 2,
};

/*
 * As ls_store_ingest, with admit[i] (NULL: every record LS_ADMIT_PEER)
 * telling where envs[i] came from. A local submission is also refused
 * (LS_INGEST_REJECTED, with the reason) when its author's key or certificate
 * is revoked at its date, and a transfer when, under the policies the store
 * holds, it needs a license it does not cite, goes to a denied end use or end
 * user, or carries material under a re-export bar to a barred destination
 * (the reason verify would give the hop). With LS_ADMIT_LOCAL_VIOLATION that
 * transfer is accepted and its result carries the reason and a message
 * saying that it breaks provenance. A local submission that waits for a
 * dependency (LS_INGEST_PENDING) gets these checks when it is released: if
 * they refuse it in the same call, results[i] says so (REJECTED, with the
 * reason); released in a later call and refused, it is dropped (no result:
 * nobody waits for one). Released and accepted in the same call, its result
 * stays PENDING.
 *
 * dependency-rejected: a local record that names, directly or through
 * other records of its submission, a record refused in its submission is
 * refused with LS_R_DEP_REJECTED, has_missing set and missing naming the
 * refused record it names (its id, also for a lot that record would have
 * made), in whatever order the two came, unless a record of that id is
 * stored or waiting when the call ends (a forged copy, then the genuine
 * record); it is taken out of the pending set. Every local record of this
 * call is one submission. Peers' records are not affected: they wait as
 * before, and a local record a peer sends too while it waits is the
 * peer's from then on (judged by the consensus rules at its release).
 */
int ls_store_ingest_admit(struct ls_store *s, const uint8_t *const *envs, const size_t *lens,
			  const uint8_t *admit, size_t n, struct ls_ingest_result *results,
			  const struct ls_ingest_hooks *hooks);

/*
 * As ls_store_ingest_admit, with subs[i] (NULL: every envelope of one
 * submission) the submission envs[i] belongs to, for a caller that gathers
 * several clients' submissions into one call (the daemon's group commit):
 * dependency-rejected looks at the records of one submission only, so that
 * one client's refused record does not refuse another's.
 */
int ls_store_ingest_submissions(struct ls_store *s, const uint8_t *const *envs, const size_t *lens,
				const uint8_t *admit, const uint32_t *subs, size_t n,
				struct ls_ingest_result *results,
				const struct ls_ingest_hooks *hooks);

/* ---- reads ---- */

/* The envelope of record id. *env is malloc'd (caller frees). LS_ERR_NOT_FOUND. */
int ls_store_get(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint8_t **env, size_t *len);

/* The trust anchors the store was opened with (borrowed: valid while s is
 * open), their number in *n. */
const uint8_t (*ls_store_anchors(const struct ls_store *s, size_t *n))[LS_KEY_LEN];

/* The record that made lot (its registration, or the transformation of
 * which it is an output) into rec. LS_ERR_NOT_FOUND when no such lot. */
int ls_store_lot_record(struct ls_store *s, const uint8_t lot[LS_ID_LEN], uint8_t rec[LS_ID_LEN]);

/* The decoded record id (free with ls_record_free). LS_ERR_NOT_FOUND. */
int ls_store_get_record(struct ls_store *s, const uint8_t id[LS_ID_LEN], struct ls_record **r);

/* The head of author's feed: *seq 0 (and id zeroed, *ts 0) when it has none. */
int ls_store_head(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t *seq,
		  uint8_t id[LS_ID_LEN], uint64_t *ts);

/* The id of author's record seq. LS_ERR_NOT_FOUND. */
int ls_store_feed_get(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t seq,
		      uint8_t id[LS_ID_LEN]);

/* Calls fn for each feed head (author, seq, head id); stops when fn returns
 * non-zero and returns that value. */
int ls_store_heads(struct ls_store *s,
		   int (*fn)(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq,
			     const uint8_t id[LS_ID_LEN]),
		   void *arg);

/* As ls_store_heads, from the first author after `after` (NULL: the first). */
int ls_store_heads_after(struct ls_store *s, const uint8_t *after,
			 int (*fn)(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq,
				   const uint8_t id[LS_ID_LEN]),
			 void *arg);

/*
 * Calls fn with the envelopes of author's records from..to in feed order,
 * stopping at the first seq not stored, after max_n records, or before the
 * envelope that would take the total over max_bytes (the first one is always
 * given). *next is the seq after the last one given (from when none).
 * Returns 0, fn's non-zero value, or a store error.
 */
int ls_store_feed_range(struct ls_store *s, const uint8_t author[LS_KEY_LEN], uint64_t from,
			uint64_t to, size_t max_n, size_t max_bytes,
			int (*fn)(void *arg, uint64_t seq, const uint8_t *env, size_t len),
			void *arg, uint64_t *next);

enum ls_resolve_kind {
	LS_RESOLVE_LOT = 1,     /* a lot id, an id prefix of >= 8 hex digits, or a label */
	LS_RESOLVE_RECORD = 2,  /* a record id or a prefix of >= 8 hex digits */
	LS_RESOLVE_LICENSE = 3, /* a license number (or license record id) */
};

/*
 * Resolves a name to an id. LS_ERR_NOT_FOUND or LS_ERR_AMBIGUOUS with a
 * message in ctx quoting the name.
 */
int ls_store_resolve(struct ls_store *s, enum ls_resolve_kind kind, const char *name,
		     uint8_t id[LS_ID_LEN], struct ls_err_ctx *ctx);

/*
 * The id of a certificate of key valid at time t (the newest such), or
 * LS_ERR_NOT_FOUND. Used by clients to fill Transfer.to_cert and Record.cert.
 */
int ls_store_cert_of(struct ls_store *s, const uint8_t key[LS_KEY_LEN], uint64_t t,
		     uint8_t cert_id[LS_ID_LEN]);

struct ls_store_stats {
	uint64_t records;       /* stored records */
	uint64_t pending;       /* records waiting for dependencies */
	uint64_t equivocations; /* evidence entries */
	uint64_t authors;       /* feeds */
	uint64_t map_size;      /* bytes */
	/* The record set digest: the sum modulo 2^256 of the ids of the
	 * stored records, each read as a 256-bit little-endian number. It
	 * depends only on which records are stored, not on the order they
	 * came in: two stores hold the same records when their digests (and
	 * counts) agree. Kept up to date at ingest, read in O(1). */
	uint8_t set_digest[LS_ID_LEN];
};
int ls_store_stats(struct ls_store *s, struct ls_store_stats *st);

struct ls_log_filter {
	bool has_author;
	uint8_t author[LS_KEY_LEN];
	enum ls_rtype type;  /* LS_REC_NONE: every type */
	uint64_t since;      /* timestamp lower bound, 0: none */
	uint64_t after_pos;  /* start after this store position (0: from the start); with
				newest_first, stop there */
	size_t limit;        /* 0: no limit */
	bool newest_first;   /* the newest records first (store order backwards) */
	uint64_t before_pos; /* newest_first: start before this position (0: at the last) */
};

/*
 * Calls fn for each stored record that passes f, in store order (the order in
 * which they were accepted), or backwards with f->newest_first. pos is the record's store position.
 * fn returns 0 to go on. Returns 0, fn's non-zero value, or an error.
 */
int ls_store_log(struct ls_store *s, const struct ls_log_filter *f,
		 int (*fn)(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env,
			   size_t len),
		 void *arg);

/* The store position of the last record stored (0: none): ls_store_log
 * up to it lists what is stored now. */
int ls_store_last_pos(struct ls_store *s, uint64_t *pos);

/* Calls fn for each equivocation evidence pair. */
int ls_store_evidence(struct ls_store *s,
		      int (*fn)(void *arg, const uint8_t *env_a, size_t len_a, const uint8_t *env_b,
				size_t len_b),
		      void *arg);

/* ---- the Merkle log (TRANSPARENCY.md) ----
 *
 * One leaf per stored record (main branch and fork records alike), in store
 * order, written in the transaction that stores the record: leaf data 0x00 ||
 * record id. At each seal one more leaf: 0x01 || the root of the heads tree,
 * the RFC 9162 tree over the feed heads (the branch the tables follow) in
 * author key order, each leaf author || seq u64 BE || head id
 * (LS_HEADS_LEAF_LEN bytes). A checkpoint size always ends right after a
 * heads leaf. A store opened with no_log or bundle_check has no log: these
 * functions return LS_ERR_INVALID there (ls_store_logged LS_ERR_NOT_FOUND).
 */
#define LS_HEADS_LEAF_LEN 72

/* Leaves in the log and the size at the last seal (0 before the first). */
int ls_store_log_size(struct ls_store *s, uint64_t *size, uint64_t *sealed);

/* The root of the first size leaves. LS_ERR_INVALID when size > log size. */
int ls_store_log_root(struct ls_store *s, uint64_t size, uint8_t root[LS_TLOG_HASH]);

/* Calls fn with up to max leaves from index from on, in order (fn runs
 * inside a read transaction of the store; it may read the store). Returns 0,
 * fn's non-zero value, or a store error. */
int ls_store_log_leaves(struct ls_store *s, uint64_t from, size_t max,
			int (*fn)(void *arg, uint64_t index, const uint8_t leaf[LS_TLOG_LEAF_LEN]),
			void *arg);

/* The index of the leaf of stored record id. LS_ERR_NOT_FOUND. */
int ls_store_log_index(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t *index);

/* The RFC 9162 inclusion proof of leaf index in the tree of size leaves
 * (proof holds LS_TLOG_PROOF_MAX hashes). LS_ERR_INVALID when index >= size
 * or size > log size. */
int ls_store_log_inclusion(struct ls_store *s, uint64_t index, uint64_t size,
			   uint8_t proof[][LS_TLOG_HASH], size_t *np);

/* The consistency proof from size m to size n (m <= n <= log size). */
int ls_store_log_consistency(struct ls_store *s, uint64_t m, uint64_t n,
			     uint8_t proof[][LS_TLOG_HASH], size_t *np);

/* Appends the heads leaf when records were logged since the last seal (one
 * durable write transaction) and records in hseal the heads that changed;
 * *size and root: the sealed tree; *grew: whether it appended. With nothing
 * logged since the last seal the last sealed tree is given (size 0 and the
 * empty root before anything was logged). */
int ls_store_log_seal(struct ls_store *s, uint64_t *size, uint8_t root[LS_TLOG_HASH], bool *grew);

/*
 * The heads tree of the seal whose heads leaf is at index heads_leaf: its
 * root and count, author's leaf (seq, head id), its position and inclusion
 * proof in that tree (proof holds LS_TLOG_PROOF_MAX hashes). Root and count
 * are given also when author had no record then (LS_ERR_NOT_FOUND).
 * LS_ERR_INVALID when heads_leaf is not a heads leaf of the log.
 */
int ls_store_heads_proof(struct ls_store *s, uint64_t heads_leaf, const uint8_t author[LS_KEY_LEN],
			 uint64_t *seq, uint8_t head[LS_ID_LEN], uint64_t *pos, uint64_t *count,
			 uint8_t proof[][LS_TLOG_HASH], size_t *np, uint8_t root[LS_TLOG_HASH]);

/* The root and leaf count of the heads tree of the heads table now. */
int ls_store_heads_root_now(struct ls_store *s, uint8_t root[LS_TLOG_HASH], uint64_t *count);

/* Stores (replacing) the signed checkpoint note of size: the C2SP text with
 * every cosignature collected, at most LS_NOTE_MAX (note.h) bytes
 * (LS_ERR_TOO_BIG). LS_ERR_INVALID when size is not a sealed size. */
int ls_store_checkpoint_put(struct ls_store *s, uint64_t size, const char *note, size_t len);
/* The note stored for size: *note malloc'd and NUL-terminated (caller
 * frees), *len without the NUL. LS_ERR_NOT_FOUND. */
int ls_store_checkpoint_get(struct ls_store *s, uint64_t size, char **note, size_t *len);
/* As ls_store_checkpoint_get, for the largest size stored. */
int ls_store_checkpoint_latest(struct ls_store *s, uint64_t *size, char **note, size_t *len);

/* Records (replacing) that the checkpoint of size reached quorum at qtime.
 * LS_ERR_INVALID when size is not a sealed size. */
int ls_store_quorum_put(struct ls_store *s, uint64_t size, uint64_t qtime);

/*
 * The earliest quorum checkpoint containing record id: of the quorum
 * checkpoints whose size covers its leaf, the one with the earliest quorum
 * time (the smallest size among equal times); its size and quorum time.
 * LS_ERR_NOT_FOUND: no quorum checkpoint holds it yet (unwitnessed), or the
 * record is not stored.
 */
int ls_store_logged(struct ls_store *s, const uint8_t id[LS_ID_LEN], uint64_t *cp_size,
		    uint64_t *qtime);

#endif
