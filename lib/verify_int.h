/*
 * verify_int.h - shared by the verification modules (verify.c, origin.c,
 * trace.c). Not a public header.
 */
#ifndef LS_VERIFY_INT_H
#define LS_VERIFY_INT_H

#include "kind.h"
#include "store_int.h"
#include "verify.h"

/* ---- a bump arena (qcache.c): memory freed all at once ---- */

struct ls_bump;
/* n zeroed bytes from *b (a NULL *b starts one), or NULL. */
void *ls_bump_alloc(struct ls_bump **b, size_t n);
const char *ls_bump_strdup(struct ls_bump **b, const char *s);
/* Frees every block; *b NULL. */
void ls_bump_free(struct ls_bump **b);

/* ---- a question's memo (qcache.c) ---- */

/*
 * Starts a memo on t (t->qc) unless it has one: records decoded once, lot
 * nodes, logged times and equivocations. Everything borrowed from it lives
 * until ls_qcache_end(t) or ls_txn_abort(t). 0 or LS_ERR_NOMEM. Without a
 * memo the accessors below still answer, with owned copies.
 */
int ls_qcache_begin(struct ls_txn *t);
/* The memo's questions walk lots' children (provenance, custody, trace): a
 * node is read with them, by the cursor that read it (ls_txn_lot_kids then
 * reads nothing). Origin does not ask for them. */
void ls_qcache_want_kids(struct ls_txn *t);
/* ls_txn_techs_each through the memo: every technology transfer to `to`
 * read once per question (without a memo: the table, each time). */
int ls_qcache_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
			 int (*fn)(void *arg, const uint8_t transfer[LS_ID_LEN]), void *arg);
void ls_qcache_end(struct ls_txn *t);

struct ls_kids {
	size_t n;
	const struct ls_kid *v;
	struct ls_kid *owned; /* without a memo: free with ls_kids_release */
};

/* The node of lot: *n borrowed (memo) or equal to *owned (free it with
 * ls_lotnode_free, NULL-safe). LS_ERR_NOT_FOUND for an unknown lot. */
int ls_txn_lotnode(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const struct ls_lotnode **n,
		   struct ls_lotnode **owned);
void ls_lotnode_free(struct ls_lotnode **n);
/* The lot's definition as a struct ls_lotdef (strings borrowed from n). */
void ls_lotnode_def(const struct ls_lotnode *n, struct ls_lotdef *d);
/* The making record's header (id, author, timestamp, certificate, type;
 * no body): what ls_author_check and ls_record_time read of a lot record. */
void ls_lotnode_header(const struct ls_lotnode *n, struct ls_record *r);
/* The same into r zeroed once before (the header fields overwritten, the
 * rest left as it is): a walk filling one record per ancestor. */
void ls_lotnode_header_fill(const struct ls_lotnode *n, struct ls_record *r);
/* The records that consume or ship lot parent, in key order (record id),
 * with their types. */
int ls_txn_kids(struct ls_txn *t, const uint8_t parent[LS_ID_LEN], struct ls_kids *out);
/* The same for lot node n, kept in the node by the memo. */
int ls_txn_lot_kids(struct ls_txn *t, const struct ls_lotnode *n, struct ls_kids *out);
void ls_kids_release(struct ls_kids *k);

/* The node of input i of memo node n (looked up once, then followed as a
 * pointer). LS_ERR_INVALID without a memo; else as ls_txn_lotnode. */
int ls_lotnode_input(struct ls_txn *t, const struct ls_lotnode *n, size_t i,
		     const struct ls_lotnode **in);

/* A new walk over the memo's nodes: a mark no node carries yet. */
uint32_t ls_qcache_mark_new(struct ls_txn *t);
/* Marks node n (of the memo) with mark: false when it carried it already. */
bool ls_lotnode_mark(const struct ls_lotnode *n, uint32_t mark);
/* Marks (holder, n) reached in the walk of mark: *fresh false when it was
 * already. 0, LS_ERR_NOMEM, or LS_ERR_INVALID without a memo. */
int ls_lotnode_holder_mark(struct ls_txn *t, const struct ls_lotnode *n, uint32_t mark,
			   const uint8_t holder[LS_KEY_LEN], bool *fresh);

/* ls_txn_received, once per transfer. */
int ls_qcache_received(struct ls_txn *t, const uint8_t transfer[LS_ID_LEN], bool *received);
/* The first equivocation evidence kept for author (ls_txn_evidence_first),
 * once per author: *found false when none. */
int ls_qcache_equivocated(struct ls_txn *t, const uint8_t author[LS_KEY_LEN], bool *found,
			  uint64_t *seq, uint8_t pair[2][LS_ID_LEN]);

/* ---- origin fractions ---- */

/* Fractions are integers scaled by LS_FRAC_ONE. */
#define LS_FRAC_ONE 1000000000000ull

struct ls_share {
	const char *name; /* borrowed from the origin cache */
	uint64_t frac;
};

struct ls_dist {
	size_t n;
	struct ls_share *v;
};

enum { LS_DIST_MINE, LS_DIST_COUNTRY, LS_DIST_PROCESSING, LS_DIST_COUNT };

/* The name of the share of a stage distribution that did not go through it. */
#define LS_STAGE_NONE "\x1e"

struct ls_elem_origin {
	uint32_t z;
	uint32_t ppm;
	struct ls_dist d[LS_DIST_COUNT];
	/* A cache made with stages (ls_ocache_new_stages): per stage, shares
	 * keyed by place (origin.c, place_key), with the part that did not go
	 * through the stage under the name LS_STAGE_NONE. */
	struct ls_dist stage[LS_STAGE_COUNT];
};

/*
 * How far one policy reaches into one lot: the share of the lot that counts
 * as of the policy's jurisdiction for its de minimis rule (origin.c gives the
 * formulas). Material mined or processed in the jurisdiction counts when the
 * policy applies to re-exports; material made abroad with the jurisdiction's
 * controlled technology counts when it applies to foreign technology.
 */
struct ls_reach {
	uint64_t *frac;       /* per element of the lot (parallel to e[]): share of its mass */
	uint64_t value_frac;  /* share of the lot's declared value (when valued) */
	bool valued;          /* the lot and its whole chain declare a value */
	bool tech;            /* some of the reach comes from technology */
	uint8_t unvalued[32]; /* when !valued: a lot of the chain that declares none */
};

/* What is known of one lot for origin and control questions. */
struct ls_lot_origin {
	uint8_t id[LS_ID_LEN];
	uint64_t grams;
	char category[16];
	char country[LS_COUNTRY_LEN + 1]; /* where it was registered or made */
	uint64_t value;
	size_t n;
	struct ls_elem_origin *e; /* rare-earth elements only, sorted by z */
	struct ls_reach *reach;   /* one per policy of the cache, in its order */
};

struct ls_ocache;

/*
 * A memo of lot origins over one read transaction. policies[0..n) (borrowed
 * for the cache's life; may be NULL when n is 0) are the policies whose
 * reach every lot origin carries, in that order. The origins hang on the
 * nodes of t's question memo, which must be begun first (ls_qcache_begin)
 * and end after the cache (ls_ocache_get fails with LS_ERR_INVALID without
 * one). Several caches may share a memo.
 */
struct ls_ocache *ls_ocache_new(struct ls_txn *t, const struct ls_policy *const *policies,
				size_t n);
/* As ls_ocache_new without policies, computing every lot's stages too. */
struct ls_ocache *ls_ocache_new_stages(struct ls_txn *t);
void ls_ocache_free(struct ls_ocache **c);

/*
 * The origin of lot (computed with every ancestor on first use). The result
 * is owned by the cache. LS_ERR_NOT_FOUND for an unknown lot.
 */
int ls_ocache_get(struct ls_ocache *c, const uint8_t lot[LS_ID_LEN],
		  const struct ls_lot_origin **out);

/*
 * Calls fn for every technology transfer addressed to key `to` and dated at or
 * before `before`, in date order (records borrowed for the call). Stops at
 * fn's non-zero return and returns it; a store error otherwise.
 */
int ls_techs_each(struct ls_txn *t, const uint8_t to[LS_KEY_LEN], uint64_t before,
		  int (*fn)(void *arg, const struct ls_record *transfer), void *arg);

/* Adds a reason to v (ids may be NULL). LS_ERR_NOMEM. */
int ls_verdict_add(struct ls_verdict *v, enum ls_reason code, const uint8_t (*ids)[LS_ID_LEN],
		   size_t n_ids, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
