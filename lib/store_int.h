/*
 * store_int.h - the store's LMDB layout, shared by store.c (open, reads),
 * ingest.c (the write path), rules.c (what each record type checks and
 * changes) and the verification modules. Not a public header.
 *
 * Named databases (keys and values; integers big-endian):
 *   meta      "version" -> u32; "next" -> u64 next position; "pending" -> u64
 *   recs      pos u64 -> envelope bytes (append order: MDB_APPEND)
 *   ids       record id -> pos u64 || type u8
 *   feeds     author || seq u64 -> record id
 *   heads     author -> seq u64 || head id || timestamp u64
 *   certs     subject key || cert id -> roles u32 || from u64 || until u64 || country[2]
 *   revoked   subject (key, certificate or license id) -> effective u64 || revocation id
 *   pending   missing id || waiting id -> envelope bytes
 *   pwait     waiting id -> missing id
 *   evidence  author || seq u64 -> len_a u32 || envelope a || envelope b
 *   lots      lot id -> record id || index u32 (0xffffffff: registration) || grams u64
 *               || maker key || timestamp u64
 *   labels    label -> lot id (dupsort)
 *   holds     holder key || lot id -> grams u64
 *   transit   transfer id -> grams u64 || received u8
 *   licused   license id -> grams u64
 *   children  lot id || record id -> "" (records that consume or ship the lot);
 *             transfer id || receipt id -> ""
 *   policies  jurisdiction[2] || effective_from u64 || policy id -> ""
 *   licnum    license number -> license id (dupsort)
 *   techs     receiver key || timestamp u64 || transfer id -> ""
 */
#ifndef LS_STORE_INT_H
#define LS_STORE_INT_H

#include <lmdb.h>

#include "store.h"

#define LS_STORE_LAYOUT_VERSION 1
#define LS_LOT_REGISTRATION     0xffffffffu

struct ls_store {
	MDB_env *env;
	MDB_dbi meta, recs, ids, feeds, heads, certs, revoked, pending, pwait, evidence, lots,
	    labels, holds, transit, licused, children, policies, licnum, techs;
	uint8_t (*anchors)[LS_KEY_LEN];
	size_t n_anchors;
	unsigned threads;
	size_t max_pending;
	int lockfd;
};

/* A transaction of the store (read or write). */
struct ls_txn {
	struct ls_store *s;
	MDB_txn *txn;
};

/* Translates an LMDB code into an ls_err. */
int ls_store_err(int mdb_rc);

int ls_txn_begin(struct ls_store *s, bool write, struct ls_txn *t);
void ls_txn_abort(struct ls_txn *t);

/* Point reads inside a transaction; LS_ERR_NOT_FOUND when absent. */
int ls_txn_get(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, MDB_val *val);
int ls_txn_put(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, const void *val,
	       size_t vlen, unsigned flags);
int ls_txn_get_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t *v);
int ls_txn_put_u64(struct ls_txn *t, MDB_dbi dbi, const void *key, size_t klen, uint64_t v);

bool ls_txn_has_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN]);
/* Decodes stored record id (no signature check: it was checked at ingest). */
int ls_txn_record(struct ls_txn *t, const uint8_t id[LS_ID_LEN], struct ls_record **r);
/* Envelope bytes of a stored record; valid until the transaction ends. */
int ls_txn_envelope(struct ls_txn *t, const uint8_t id[LS_ID_LEN], MDB_val *env);

struct ls_lot_info {
	uint8_t rec[LS_ID_LEN]; /* registration or transformation record */
	uint32_t index;         /* output index, or LS_LOT_REGISTRATION */
	uint64_t grams;
	uint8_t maker[LS_KEY_LEN];
	uint64_t timestamp;
};
int ls_txn_lot(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_lot_info *info);

/*
 * The definition of a lot (label, category, grams, composition) inside its
 * creating record *rec (caller frees *rec). *def points into *rec.
 */
int ls_txn_lot_def(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], struct ls_record **rec,
		   const struct ls_lotdef **def);

/* Grams of lot held by holder (0 when none). */
uint64_t ls_txn_hold(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN],
		     const uint8_t lot[LS_ID_LEN]);

/* Earliest revocation of subject: 0 and *eff set, or LS_ERR_NOT_FOUND. */
int ls_txn_revoked(struct ls_txn *t, const uint8_t subject[32], uint64_t *eff,
		   uint8_t rev_id[LS_ID_LEN]);

/*
 * Calls fn for each record id stored under key in the children table (the
 * records that consume or ship a lot, the receipts of a transfer). The ids
 * are collected first, so fn may read the store. Stops at fn's non-zero
 * return and returns it.
 */
int ls_txn_children(struct ls_txn *t, const uint8_t key[32],
		    int (*fn)(void *arg, const uint8_t rec[32]), void *arg);

bool ls_store_is_anchor(const struct ls_store *s, const uint8_t key[LS_KEY_LEN]);

/* The certificate record named by r->cert_id, checked against r (author,
 * role bits `roles`, validity and revocation at r->timestamp). LS_R_OK or a
 * reason with msg. */
enum ls_reason ls_rules_check_author(struct ls_txn *t, const struct ls_record *r, uint32_t roles,
				     char *msg, size_t msglen);

/* ---- rules.c: per record type ---- */

/*
 * The first dependency of r (other than prev) that is not in the store: a
 * record id or a lot id. Returns true and sets missing when there is one.
 */
bool ls_rules_missing(struct ls_txn *t, const struct ls_record *r, uint8_t missing[LS_ID_LEN]);

/*
 * Checks r against the state and, when valid, applies it (holdings, lots,
 * indexes). Returns LS_R_OK, or a reason with a message (nothing applied).
 * *err is set to a store error (and LS_R_STORE returned) when LMDB fails.
 */
enum ls_reason ls_rules_apply(struct ls_txn *t, const struct ls_record *r, char *msg, size_t msglen,
			      int *err);

#endif
