/*
 * logproof.h - the log proof of a bundle (Bundle.log, proto/lodestone.proto):
 * that every record of the bundle is in one checkpoint of the producing
 * daemon's witnessed log, that the feed of every authority it carries is
 * carried to its head at that checkpoint, and when each record was logged.
 *
 * The codec (the only code that touches the generated LogProof types), the
 * check of the proofs against a verifier's witness policy (no store), and
 * the check of the authority feeds a store that loaded the bundle holds.
 * The daemon side that builds a proof is ls_bundle_collect_log (verify.h).
 */
#ifndef LS_LOGPROOF_H
#define LS_LOGPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "note.h"
#include "record.h"
#include "tlog.h"

struct ls_store;
struct ls_verdict;

/* Bounds of a decoded proof (beyond them: LS_ERR_TOO_BIG). */
#define LS_LP_RECORDS_MAX 4000000 /* as many as a bundle holds */
#define LS_LP_DATING_MAX  65536   /* dating checkpoints */
#define LS_LP_SPLITS_MAX  64      /* split views */
#define LS_LP_WITNESSES   64      /* witnesses a verifier names */

/* A list of hashes: an inclusion or consistency proof. h malloc'd. */
struct ls_hashes {
	size_t n; /* at most LS_TLOG_PROOF_MAX */
	uint8_t (*h)[LS_TLOG_HASH];
};

struct ls_lp_inclusion {
	uint64_t index;
	struct ls_hashes proof;
	uint32_t dating; /* 1-based index into dating; 0: the checkpoint */
	struct ls_hashes dating_proof;
};

struct ls_lp_head {
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	uint8_t head[LS_ID_LEN];
	uint64_t position;
	struct ls_hashes proof;
};

struct ls_lp_split {
	char *note_a, *note_b; /* malloc'd, NUL-terminated */
	size_t la, lb;
	struct ls_hashes proof;
	bool has_old_root;
	uint8_t old_root[LS_TLOG_HASH];
};

/* A LogProof as plain data. Caller-owned: ls_logproof_init, then release
 * with ls_logproof_release (every pointer is malloc'd and owned by it). */
struct ls_logproof {
	char *log_key;    /* vkey text */
	char *checkpoint; /* signed note text */
	size_t checkpoint_len;
	size_t n_records;
	struct ls_lp_inclusion *records;
	uint8_t heads_root[LS_TLOG_HASH];
	struct ls_hashes heads_leaf_proof;
	uint64_t heads_count;
	size_t n_heads;
	struct ls_lp_head *heads;
	size_t n_dating;
	char **dating; /* signed note texts */
	size_t *dating_len;
	size_t n_splits;
	struct ls_lp_split *splits;
};

void ls_logproof_init(struct ls_logproof *p);
void ls_logproof_release(struct ls_logproof *p);

/* Serializes p (a LogProof message). *out malloc'd. LS_ERR_NOMEM. */
int ls_logproof_encode(const struct ls_logproof *p, uint8_t **out, size_t *len);

/*
 * Writing a LogProof in pieces (a streamed bundle, verify.h): the encoding
 * of ls_logproof_encode(p) is head || records[0] || ... || records[n-1] ||
 * tail, where ls_logproof_encode_split gives head and tail (p's records are
 * not looked at; *head and *tail malloc'd) and ls_lp_inclusion_encode each
 * records[i] as its LogProof.records field (tag, length, Inclusion), of
 * ls_lp_inclusion_size(index, proof hashes, dating, dating hashes) bytes
 * (at most LS_LP_INCLUSION_MAX: out must have room for that).
 */
#define LS_LP_INCLUSION_MAX (32 + 2 * LS_TLOG_PROOF_MAX * (2 + LS_TLOG_HASH))
int ls_logproof_encode_split(const struct ls_logproof *p, uint8_t **head, size_t *head_len,
			     uint8_t **tail, size_t *tail_len);
size_t ls_lp_inclusion_size(uint64_t index, size_t n, uint32_t dating, size_t nd);
size_t ls_lp_inclusion_encode(const struct ls_lp_inclusion *x, uint8_t *out);

/*
 * Decodes a LogProof of len bytes from outside into p (initialised here):
 * bounded by the sizes above, every hash 32 bytes, every proof at most
 * LS_TLOG_PROOF_MAX hashes, notes at most LS_NOTE_MAX bytes.
 * LS_ERR_MALFORMED / LS_ERR_TOO_BIG with ctx naming the field; LS_ERR_NOMEM.
 */
int ls_logproof_decode(const uint8_t *buf, size_t len, struct ls_logproof *p,
		       struct ls_err_ctx *ctx);

/*
 * Decodes one SplitView message (proto/lodestone.proto; the gossip message
 * of the same name has the same fields, so the evidence a daemon keeps is
 * carried as it is) into *out (released with the proof it is added to, or
 * by freeing its three pointers). LS_ERR_MALFORMED / LS_ERR_TOO_BIG, NOMEM.
 */
int ls_lp_split_decode(const uint8_t *buf, size_t len, struct ls_lp_split *out,
		       struct ls_err_ctx *ctx);

/* A verifier's witness policy and clock. */
struct ls_lp_policy {
	const struct ls_vkey *witnesses; /* type LS_NOTE_COSIG; borrowed */
	size_t n_witnesses;              /* at most LS_LP_WITNESSES */
	size_t quorum;                   /* 0: a majority, n / 2 + 1 */
	uint64_t now;                    /* seconds; for max_age */
	uint64_t max_age;                /* 0: any age */
};

/* What a log proof showed (ls_logproof_check). Caller-owned; release with
 * ls_lp_report_release. */
struct ls_lp_report {
	bool present;   /* the bundle has a log proof */
	bool signed_ok; /* the checkpoint is signed by the log key */
	char log_key[LS_VKEY_MAX];
	char origin[LS_NOTE_NAME_MAX];
	uint64_t size;
	uint8_t root[LS_TLOG_HASH];
	size_t quorum;      /* asked for */
	bool witnessed;     /* quorum reached under the witnesses given */
	uint64_t qtime;     /* the quorum time, when witnessed */
	size_t n_cosigners; /* witnesses given whose cosignature verifies, earliest first */
	char cosigners[LS_LP_WITNESSES][LS_NOTE_NAME_MAX];
	uint64_t cosigned_at[LS_LP_WITNESSES];
	size_t n_dating; /* dating checkpoints */
	size_t n_heads;  /* head proofs */
	size_t n_splits; /* split views that verify under the log key */
	size_t n_records;
	uint64_t *logged; /* malloc'd, per bundle record: its logged time, 0: none */
};

void ls_lp_report_release(struct ls_lp_report *r);

/*
 * Checks p against the n record ids of the bundle (ids[i] the id of
 * Bundle.records[i]; an undecodable record has a zero id and fails its
 * inclusion): the checkpoint's log signature and origin; the cosignatures of
 * the policy's witnesses (the quorum and its time; a stale checkpoint); each
 * record's inclusion; the heads leaf and each head proof; each dating
 * checkpoint (signed, its own quorum) and the inclusions into it; the split
 * views. Every fault goes to faults as a reason (LS_R_LOG_PROOF, and
 * LS_R_UNWITNESSED, LS_R_STALE, LS_R_SPLIT_VIEW; LS_R_UNWITNESSED as a
 * warning when the policy names no witness). rep gets what was shown, with
 * each record's logged time: the quorum time of the checkpoint that dates it
 * when that checkpoint reaches the quorum. 0, or LS_ERR_NOMEM.
 */
int ls_logproof_check(const struct ls_logproof *p, const uint8_t (*ids)[LS_ID_LEN], size_t n,
		      const struct ls_lp_policy *pol, struct ls_lp_report *rep,
		      struct ls_verdict *faults);

/*
 * The completeness half, on a store opened with bundle_check that loaded the
 * bundle: every authority feed it holds (a trust anchor's, or a key certified
 * as an authority) must have a head proof in p whose seq and head are that
 * feed's head in the store (so the feed is carried from seq 1 to its head at
 * the checkpoint: a record left out at its end fails here, one cut from its
 * middle leaves the rest unapplied). A trust anchor of the store with no feed
 * in the bundle and no head proof is a warning. Faults go to faults. 0, or a
 * store error.
 */
int ls_logproof_feeds(struct ls_store *s, const struct ls_logproof *p,
		      const struct ls_lp_report *rep, struct ls_verdict *faults);

/* "checkpoint N of log L, cosigned by W1, W2 at T" (or "..., not witnessed")
 * into out. */
void ls_lp_statement(const struct ls_lp_report *rep, char *out, size_t cap);

#endif
