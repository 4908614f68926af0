/*
 * witness.h - witnessing another daemon's log (TRANSPARENCY.md point 3): the
 * checks of an add-checkpoint request (c2sp.org/tlog-witness) and of the
 * entries behind it, split-view evidence, and the witness state tables of
 * the store.
 *
 * The checks are pure: a job is started from the stored state of the log
 * and the request, fed the log's leaves page by page, asks for the records
 * it needs through a lookup callback, and ends in a reply (200 with a
 * cosignature, or a refusal) and the new state to commit. The daemon drives
 * it (fetching pages and records from the peer, with bounds and timeouts)
 * and commits the state before it answers.
 *
 * What is checked, in order: the request parses (400); the checkpoint's
 * origin is the log key the peer announced (404); the log signature (403);
 * the old size is the size this witness cosigned (409 with that size); the
 * consistency proof (422, or split-view evidence when the proof shows the
 * new tree but another old root); then every entry from the old size: a
 * record leaf names a record this daemon stores; the feed heads advance as
 * ingest's main branch does (seq == head.seq + 1 and, past seq 1, prev ==
 * head id); a heads leaf is the root of those heads; the leaves make the
 * checkpoint's root and the last one is a heads leaf; and every authority
 * record this daemon stored more than the grace period ago is covered by
 * the heads (422 with a reason for each).
 */
#ifndef LS_WITNESS_H
#define LS_WITNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "note.h"
#include "record.h"
#include "store.h"
#include "tlog.h"

#define LS_WITNESS_GRACE      600     /* seconds: the default grace period */
#define LS_WITNESS_PAGE       4096    /* leaves in one page of entries */
#define LS_WITNESS_MISSING    256     /* record ids asked for at once */
#define LS_WITNESS_FEEDS_MAX  1048576 /* feeds of one witnessed log */
#define LS_WITNESS_REASON_MAX 256     /* bytes of a refusal reason, with the NUL */
#define LS_WITNESS_LINE_MAX   512     /* bytes of a cosignature line, with the NUL */
#define LS_WITNESS_SPLITS_MAX 16      /* split-view evidence kept per log */

/* HTTP-like statuses of c2sp.org/tlog-witness (and 503: busy). */
enum ls_witness_status {
	LS_WITNESS_OK = 200,
	LS_WITNESS_MALFORMED = 400,
	LS_WITNESS_FORBIDDEN = 403,
	LS_WITNESS_UNKNOWN = 404,
	LS_WITNESS_CONFLICT = 409,
	LS_WITNESS_UNPROCESSABLE = 422,
	LS_WITNESS_BUSY = 503,
};

/* What a witness keeps of one log (table wlogs). */
struct ls_wlog {
	char origin[LS_NOTE_NAME_MAX];
	uint8_t log_pk[32];
	uint64_t size; /* the size last cosigned (0: none) */
	uint8_t root[LS_TLOG_HASH];
	struct ls_tlog_range range; /* of the first `size` leaves */
	uint64_t cosigned_at;       /* time of the last cosignature; 0: never */
	bool distrusted;            /* split-view evidence is held: never cosigned again */
};

/* One feed head as the witness follows a log (table wheads). */
struct ls_whead {
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	uint8_t id[LS_ID_LEN];
};

/* What the witness needs of a record it holds. */
struct ls_witness_rec {
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	uint8_t prev[LS_ID_LEN]; /* zero at seq 1 */
};

/* The record id is stored here: 0 and *out; LS_ERR_NOT_FOUND; or a store
 * error (the job fails with it). */
typedef int (*ls_witness_lookup_fn)(void *arg, const uint8_t id[LS_ID_LEN],
				    struct ls_witness_rec *out);

/* Calls fn for every authority record this daemon stored before time
 * `before` (author and seq); stops at fn's non-zero value and returns it. */
typedef int (*ls_witness_authority_fn)(void *arg, uint64_t before,
				       int (*fn)(void *fa, const uint8_t author[LS_KEY_LEN],
						 uint64_t seq),
				       void *fa);

/* The answer to a request. */
struct ls_witness_reply {
	uint32_t status;                    /* 0: not decided yet */
	bool has_size;                      /* 409: */
	uint64_t size;                      /* the size this witness cosigned */
	char reason[LS_WITNESS_REASON_MAX]; /* refusals: what is wrong */
	char line[LS_WITNESS_LINE_MAX];     /* 200: the cosignature line */
};

/* Two signed checkpoints of one log that are not one history (the gossip
 * SplitView message): a's size <= b's. */
struct ls_splitview {
	char note_a[LS_NOTE_MAX + 1], note_b[LS_NOTE_MAX + 1]; /* NUL-terminated */
	size_t len_a, len_b;
	size_t n;
	uint8_t proof[LS_TLOG_PROOF_MAX][LS_TLOG_HASH];
	bool has_old_root;
	uint8_t old_root[LS_TLOG_HASH];
};

struct ls_witness_job;

/* What a job wants next (the non-negative returns of the job functions). */
enum ls_witness_step {
	LS_WITNESS_DONE = 0,    /* the reply is decided (a refusal) */
	LS_WITNESS_SPLIT = 1,   /* refused (422), and *ev holds split-view evidence */
	LS_WITNESS_ENTRIES = 2, /* leaves from ls_witness_job_next(): ls_witness_job_feed */
	LS_WITNESS_RECORDS = 3, /* the records ls_witness_job_missing() names */
	LS_WITNESS_READY = 4,   /* every entry checked: ls_witness_job_finish */
};

/*
 * Starts checking request `req` (len bytes, the add-checkpoint body) from a
 * peer whose announced log key is log_key (NULL: none announced). st is the
 * stored state of that log (NULL: not witnessed yet) and note its last
 * cosigned note (needed for split-view evidence; NULL when st is). old_root
 * is the AddCheckpoint's old_root (NULL: absent).
 *
 * Returns a step or a negative error (LS_ERR_NOMEM). DONE: *reply says
 * why; SPLIT: also *ev (when ev is not NULL); else *job is the job (free
 * with ls_witness_job_free) and the heads of the log must be loaded into it
 * (ls_witness_job_head) before it is fed.
 */
int ls_witness_start(const struct ls_wlog *st, const char *note, size_t note_len,
		     const struct ls_vkey *log_key, const uint8_t *req, size_t len,
		     const uint8_t *old_root, struct ls_witness_job **job,
		     struct ls_witness_reply *reply, struct ls_splitview *ev);

/* Loads one stored head of the log (table wheads). LS_ERR_NOMEM,
 * LS_ERR_TOO_BIG past LS_WITNESS_FEEDS_MAX, LS_ERR_EXISTS for an author
 * loaded twice. */
int ls_witness_job_head(struct ls_witness_job *j, const struct ls_whead *h);

/* The origin, old and new size of the job's checkpoint; the index of the
 * next leaf it wants. */
const char *ls_witness_job_origin(const struct ls_witness_job *j);
uint64_t ls_witness_job_old(const struct ls_witness_job *j);
uint64_t ls_witness_job_size(const struct ls_witness_job *j);
uint64_t ls_witness_job_next(const struct ls_witness_job *j);

/*
 * Feeds n leaves (LS_TLOG_LEAF_LEN bytes each) from index `from` and checks
 * what it can: from must be ls_witness_job_next() and n at most
 * LS_WITNESS_PAGE and what is left. Leaves past the end of the checkpoint
 * are ignored. Returns the next step: ENTRIES, RECORDS (a record leaf
 * names a record lookup does not find: ls_witness_job_missing names it and
 * those after it in the page), READY, or DONE with a refusal in *reply; or
 * a negative error (LS_ERR_INVALID for leaves from the wrong index, or
 * lookup's error).
 */
int ls_witness_job_feed(struct ls_witness_job *j, uint64_t from, const uint8_t *leaves, size_t n,
			ls_witness_lookup_fn lookup, void *arg, struct ls_witness_reply *reply);

/* Goes on with the leaves already fed (after the missing records arrived):
 * the returns of ls_witness_job_feed. */
int ls_witness_job_resume(struct ls_witness_job *j, ls_witness_lookup_fn lookup, void *arg,
			  struct ls_witness_reply *reply);

/* The records the job waits for: *n ids of LS_ID_LEN bytes one after the
 * other (borrowed until the next call on j). */
const uint8_t *ls_witness_job_missing(const struct ls_witness_job *j, size_t *n);

/*
 * The last checks and the cosignature: every authority record `authority`
 * gives before `before` (now minus the grace period) must be covered by the
 * heads (same author, seq <= head seq), else DONE with a 422. Then the
 * checkpoint is cosigned with the witness key sk (64 bytes) named name at
 * time now: DONE with status 200 and the line in *reply; the new state is
 * in ls_witness_job_state / ls_witness_job_heads. A negative error when
 * authority fails or signing does.
 */
int ls_witness_job_finish(struct ls_witness_job *j, ls_witness_authority_fn authority, void *arg,
			  uint64_t before, const char *name, const uint8_t sk[64], uint64_t now,
			  struct ls_witness_reply *reply);

/* After a 200: the state to commit (borrowed until ls_witness_job_free),
 * the note to keep, and the heads that changed (*n of them). */
const struct ls_wlog *ls_witness_job_state(const struct ls_witness_job *j);
const char *ls_witness_job_note(const struct ls_witness_job *j, size_t *len);
int ls_witness_job_heads(const struct ls_witness_job *j, struct ls_whead **heads, size_t *n);

/* The state a job started from (NULL: the log was new): for the commit's
 * compare-and-swap. */
const struct ls_wlog *ls_witness_job_prev(const struct ls_witness_job *j);

/* Frees *j and sets it to NULL. NULL-safe. */
void ls_witness_job_free(struct ls_witness_job **j);

/*
 * The root of a feed heads tree (RFC 9162 over the leaves author || seq u64
 * big-endian || head id, in author order): heads need not be sorted (they
 * are sorted in place).
 */
void ls_witness_heads_root(struct ls_whead *heads, size_t n, uint8_t root[LS_TLOG_HASH]);

/*
 * Checks split-view evidence: both notes parse, are checkpoints of
 * log_key's origin signed by log_key, a's size is not 0, and either the
 * sizes are equal and the roots differ, or a's size is smaller and the
 * consistency proof (with old_root when a's size is a power of two) gives
 * b's root as the new root and not a's root as the old one. 0 when it is
 * evidence; LS_ERR_MALFORMED, LS_ERR_SIGNATURE or LS_ERR_INVALID (not a
 * split view) with ctx saying why. a and b (may be NULL) get the two
 * checkpoints.
 */
int ls_splitview_check(const struct ls_splitview *e, const struct ls_vkey *log_key,
		       struct ls_checkpoint *a, struct ls_checkpoint *b, struct ls_err_ctx *ctx);

/* The origin both notes of e claim (a's; "" when it does not parse). */
void ls_splitview_origin(const struct ls_splitview *e, char origin[LS_NOTE_NAME_MAX]);

/* ---- the witness state in the store (witstore.c) ---- */

/* The state of log origin. LS_ERR_NOT_FOUND when it is not witnessed. */
int ls_store_wlog_get(struct ls_store *s, const char *origin, struct ls_wlog *st);
/* Calls fn for every witnessed log; stops at fn's non-zero value. */
int ls_store_wlogs_each(struct ls_store *s, int (*fn)(void *arg, const struct ls_wlog *st),
			void *arg);
/* The last cosigned note of origin; *note malloc'd, NUL-terminated (caller
 * frees). LS_ERR_NOT_FOUND. */
int ls_store_wnote_get(struct ls_store *s, const char *origin, char **note, size_t *len);
/* Calls fn with each head of log origin, in author order. */
int ls_store_wheads_each(struct ls_store *s, const char *origin,
			 int (*fn)(void *arg, const struct ls_whead *h), void *arg);

/*
 * Commits a cosignature in one durable write transaction: the log's new
 * state st, its note and the n heads that changed. Compare-and-swap: fails
 * with LS_ERR_EXISTS (nothing written) unless the stored state is still
 * prev's size and root (prev NULL: no state stored) and not distrusted.
 */
int ls_store_witness_commit(struct ls_store *s, const struct ls_wlog *prev,
			    const struct ls_wlog *st, const char *note, size_t len,
			    const struct ls_whead *heads, size_t n);

/*
 * Keeps split-view evidence (msg: the encoded gossip message) against log
 * origin (key log_pk) and marks the log distrusted (making its state when
 * it has none). *added is false when the same evidence was kept already or
 * LS_WITNESS_SPLITS_MAX are; the log is distrusted either way.
 */
int ls_store_splitview_put(struct ls_store *s, const char *origin, const uint8_t log_pk[32],
			   const uint8_t *msg, size_t len, bool *added);
/* Calls fn with every split-view evidence kept (origin, message). */
int ls_store_splitviews_each(struct ls_store *s,
			     int (*fn)(void *arg, const char *origin, const uint8_t *msg,
				       size_t len),
			     void *arg);

/* The log and witness vkeys a peer (node key) announced. LS_ERR_NOT_FOUND. */
int ls_store_peerlog_get(struct ls_store *s, const uint8_t node[LS_KEY_LEN],
			 char log_vkey[LS_VKEY_MAX], char wit_vkey[LS_VKEY_MAX]);
int ls_store_peerlog_put(struct ls_store *s, const uint8_t node[LS_KEY_LEN], const char *log_vkey,
			 const char *wit_vkey);

/* The owner's side: the last size witness (its public key) cosigned, when,
 * and the line. LS_ERR_NOT_FOUND. line may be NULL. */
int ls_store_cosigner_get(struct ls_store *s, const uint8_t wit[32], uint64_t *size, uint64_t *time,
			  char line[LS_WITNESS_LINE_MAX]);
int ls_store_cosigner_put(struct ls_store *s, const uint8_t wit[32], uint64_t size, uint64_t time,
			  const char *line);

/* The authority records (certificate, revocation, policy, license) this
 * store accepted before time `before` (table authtime, written at ingest):
 * an ls_witness_authority_fn with arg the store. */
int ls_store_authtime_each(void *store, uint64_t before,
			   int (*fn)(void *fa, const uint8_t author[LS_KEY_LEN], uint64_t seq),
			   void *fa);

#endif
