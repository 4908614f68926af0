/*
 * tlog.h - RFC 9162 (section 2.1) Merkle tree hashing: leaf and node hashes,
 * tree heads, inclusion and consistency proofs, built and checked.
 *
 * The tree is read through a callback that gives the hash of a perfect
 * subtree: level L, index i covers leaves [i * 2^L, (i + 1) * 2^L). Level 0
 * is the leaf hashes. Every node of an RFC 9162 proof is the hash of a range
 * of leaves that is either such a perfect subtree or made of them, so a store
 * that keeps the perfect subtrees (about two hashes a leaf) builds any proof
 * in O(log^2 n) reads and checks none.
 *
 * Pure functions: no allocation, no store. Sizes are uint64_t.
 */
#ifndef LS_TLOG_H
#define LS_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LS_TLOG_HASH      32 /* SHA-256 */
#define LS_TLOG_PROOF_MAX 64 /* hashes in any proof of a tree of < 2^63 leaves */

/* Leaf data of a Lodestone log (TRANSPARENCY.md): a kind byte and 32 bytes. */
#define LS_TLOG_LEAF_LEN 33
enum ls_tlog_leaf {
	LS_TLOG_LEAF_RECORD = 0x00, /* a stored record: its id */
	LS_TLOG_LEAF_HEADS = 0x01,  /* the root of the feed heads tree */
};

/* SHA-256(0x00 || data) */
void ls_tlog_leaf_hash(const uint8_t *data, size_t len, uint8_t out[LS_TLOG_HASH]);
/* SHA-256(0x01 || l || r) */
void ls_tlog_node_hash(const uint8_t l[LS_TLOG_HASH], const uint8_t r[LS_TLOG_HASH],
		       uint8_t out[LS_TLOG_HASH]);
/* SHA-256 of the empty string: the root of the empty tree. */
void ls_tlog_empty_root(uint8_t out[LS_TLOG_HASH]);

/* The hash of the perfect subtree (level, index); 0 or an error, passed on. */
typedef int (*ls_tlog_node_fn)(void *arg, unsigned level, uint64_t index,
			       uint8_t out[LS_TLOG_HASH]);

/* MTH(D[lo:hi]), hi > lo, for a range that starts a subtree of the tree of
 * hi's size (as every range of an RFC 9162 proof does). */
int ls_tlog_range_hash(uint64_t lo, uint64_t hi, ls_tlog_node_fn fn, void *arg,
		       uint8_t out[LS_TLOG_HASH]);

/* The root of the tree of the first n leaves (n 0: the empty root). */
int ls_tlog_root(uint64_t n, ls_tlog_node_fn fn, void *arg, uint8_t root[LS_TLOG_HASH]);

/* PATH(index, D[n]): *np hashes (<= LS_TLOG_PROOF_MAX) into proof, leaf
 * upward. LS_ERR_INVALID when index >= n. */
int ls_tlog_inclusion(uint64_t index, uint64_t n, ls_tlog_node_fn fn, void *arg,
		      uint8_t proof[][LS_TLOG_HASH], size_t *np);

/* PROOF(m, D[n]), 0 <= m <= n: empty when m is 0 or n. LS_ERR_INVALID when
 * m > n. */
int ls_tlog_consistency(uint64_t m, uint64_t n, ls_tlog_node_fn fn, void *arg,
			uint8_t proof[][LS_TLOG_HASH], size_t *np);

/* Whether proof shows leaf hash `leaf` at index in the tree of size n with
 * this root (RFC 9162 2.1.3.2). */
bool ls_tlog_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf[LS_TLOG_HASH],
			      const uint8_t proof[][LS_TLOG_HASH], size_t np,
			      const uint8_t root[LS_TLOG_HASH]);

/*
 * Runs the RFC 9162 2.1.4.2 check of a consistency proof from size m to n
 * (0 < m < n) and gives the two roots it implies: *fr the root of the first
 * m leaves, *sr the root of all n. When m is a power of two the old root is
 * not in the proof: `old` is used (and given back as fr). LS_ERR_MALFORMED
 * when the proof has the wrong shape for m and n. A proof whose sr is the
 * new tree's root but whose fr is not the old tree's root proves that the
 * two trees are not one history (split-view evidence).
 */
int ls_tlog_consistency_roots(uint64_t m, uint64_t n, const uint8_t old[LS_TLOG_HASH],
			      const uint8_t proof[][LS_TLOG_HASH], size_t np,
			      uint8_t fr[LS_TLOG_HASH], uint8_t sr[LS_TLOG_HASH]);

/* Whether proof shows the tree (n, new_root) extends (m, old_root).
 * m == n (0 included): an empty proof and equal roots; 0 == m < n: an empty
 * proof (any tree extends the empty one). */
bool ls_tlog_verify_consistency(uint64_t m, uint64_t n, const uint8_t old_root[LS_TLOG_HASH],
				const uint8_t new_root[LS_TLOG_HASH],
				const uint8_t proof[][LS_TLOG_HASH], size_t np);

/*
 * A compact range: the roots of the perfect subtrees that make up the first
 * n leaves (one per set bit of n, largest first). Enough to append leaves
 * and compute the root without the tree: what a witness keeps of each log.
 */
struct ls_tlog_range {
	uint64_t n;
	unsigned k; /* hashes in h */
	uint8_t h[64][LS_TLOG_HASH];
};

void ls_tlog_range_init(struct ls_tlog_range *r);
/* Whether r is well formed (k is the number of set bits of n): to check a
 * range read back from storage before appending to it. */
bool ls_tlog_range_ok(const struct ls_tlog_range *r);
void ls_tlog_range_append(struct ls_tlog_range *r, const uint8_t leaf[LS_TLOG_HASH]);
void ls_tlog_range_root(const struct ls_tlog_range *r, uint8_t root[LS_TLOG_HASH]);

#endif
