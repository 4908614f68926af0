/*
 * tlog.c - RFC 9162 Merkle tree hashing and proofs (tlog.h).
 *
 * The recursive definitions of section 2.1 (MTH, PATH, SUBPROOF) are
 * followed literally on leaf ranges [lo, hi); the checks are the iterative
 * algorithms of 2.1.3.2 and 2.1.4.2.
 */
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "tlog.h"

void
ls_tlog_leaf_hash(const uint8_t *data, size_t len, uint8_t out[LS_TLOG_HASH])
{
	crypto_hash_sha256_state st;
	const uint8_t z = 0x00;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &z, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

void
ls_tlog_node_hash(const uint8_t l[LS_TLOG_HASH], const uint8_t r[LS_TLOG_HASH],
		  uint8_t out[LS_TLOG_HASH])
{
	uint8_t buf[1 + 2 * LS_TLOG_HASH];

	buf[0] = 0x01;
	memcpy(buf + 1, l, LS_TLOG_HASH);
	memcpy(buf + 1 + LS_TLOG_HASH, r, LS_TLOG_HASH);
	crypto_hash_sha256(out, buf, sizeof(buf));
}

void
ls_tlog_empty_root(uint8_t out[LS_TLOG_HASH])
{
	crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* The largest power of two smaller than n (n >= 2); no shift overflows,
 * even for n above 2^63. */
static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k <= (n - 1) / 2)
		k <<= 1;
	return k;
}

static bool
pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

static unsigned
log2u(uint64_t n)
{
	unsigned l = 0;

	while (n > 1) {
		n >>= 1;
		l++;
	}
	return l;
}

int
ls_tlog_range_hash(uint64_t lo, uint64_t hi, ls_tlog_node_fn fn, void *arg,
		   uint8_t out[LS_TLOG_HASH])
{
	uint64_t w = hi - lo, k;
	uint8_t l[LS_TLOG_HASH], r[LS_TLOG_HASH];
	int rc;

	if (hi <= lo)
		return LS_ERR_INVALID;
	if (pow2(w) && lo % w == 0) {
		unsigned level = log2u(w);
		return fn(arg, level, lo >> level, out);
	}
	k = split(w);
	if ((rc = ls_tlog_range_hash(lo, lo + k, fn, arg, l)) != 0 ||
	    (rc = ls_tlog_range_hash(lo + k, hi, fn, arg, r)) != 0)
		return rc;
	ls_tlog_node_hash(l, r, out);
	return 0;
}

int
ls_tlog_root(uint64_t n, ls_tlog_node_fn fn, void *arg, uint8_t root[LS_TLOG_HASH])
{
	if (n == 0) {
		ls_tlog_empty_root(root);
		return 0;
	}
	return ls_tlog_range_hash(0, n, fn, arg, root);
}

struct proof_out {
	uint8_t (*p)[LS_TLOG_HASH];
	size_t n;
	ls_tlog_node_fn fn;
	void *arg;
};

static int
proof_add(struct proof_out *o, uint64_t lo, uint64_t hi)
{
	if (o->n >= LS_TLOG_PROOF_MAX)
		return LS_ERR_TOO_BIG;
	return ls_tlog_range_hash(lo, hi, o->fn, o->arg, o->p[o->n++]);
}

/* PATH(m, D[lo:hi]) */
static int
path(struct proof_out *o, uint64_t m, uint64_t lo, uint64_t hi)
{
	uint64_t k;
	int rc;

	if (hi - lo <= 1)
		return 0;
	k = split(hi - lo);
	if (m < lo + k) {
		if ((rc = path(o, m, lo, lo + k)) != 0)
			return rc;
		return proof_add(o, lo + k, hi);
	}
	if ((rc = path(o, m, lo + k, hi)) != 0)
		return rc;
	return proof_add(o, lo, lo + k);
}

int
ls_tlog_inclusion(uint64_t index, uint64_t n, ls_tlog_node_fn fn, void *arg,
		  uint8_t proof[][LS_TLOG_HASH], size_t *np)
{
	struct proof_out o = {proof, 0, fn, arg};
	int rc;

	*np = 0;
	if (index >= n)
		return LS_ERR_INVALID;
	if ((rc = path(&o, index, 0, n)) != 0)
		return rc;
	*np = o.n;
	return 0;
}

/* SUBPROOF(m, D[lo:hi], b), m relative to lo */
static int
subproof(struct proof_out *o, uint64_t m, uint64_t lo, uint64_t hi, bool b)
{
	uint64_t n = hi - lo, k;
	int rc;

	if (m == n)
		return b ? 0 : proof_add(o, lo, hi);
	k = split(n);
	if (m <= k) {
		if ((rc = subproof(o, m, lo, lo + k, b)) != 0)
			return rc;
		return proof_add(o, lo + k, hi);
	}
	if ((rc = subproof(o, m - k, lo + k, hi, false)) != 0)
		return rc;
	return proof_add(o, lo, lo + k);
}

int
ls_tlog_consistency(uint64_t m, uint64_t n, ls_tlog_node_fn fn, void *arg,
		    uint8_t proof[][LS_TLOG_HASH], size_t *np)
{
	struct proof_out o = {proof, 0, fn, arg};
	int rc;

	*np = 0;
	if (m > n)
		return LS_ERR_INVALID;
	if (m == 0 || m == n)
		return 0;
	if ((rc = subproof(&o, m, 0, n, true)) != 0)
		return rc;
	*np = o.n;
	return 0;
}

bool
ls_tlog_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf[LS_TLOG_HASH],
			 const uint8_t proof[][LS_TLOG_HASH], size_t np,
			 const uint8_t root[LS_TLOG_HASH])
{
	uint64_t fn = index, sn;
	uint8_t r[LS_TLOG_HASH];

	if (index >= n || np > LS_TLOG_PROOF_MAX)
		return false;
	sn = n - 1;
	memcpy(r, leaf, LS_TLOG_HASH);
	for (size_t i = 0; i < np; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			ls_tlog_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ls_tlog_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, LS_TLOG_HASH) == 0;
}

int
ls_tlog_consistency_roots(uint64_t m, uint64_t n, const uint8_t old[LS_TLOG_HASH],
			  const uint8_t proof[][LS_TLOG_HASH], size_t np, uint8_t fr[LS_TLOG_HASH],
			  uint8_t sr[LS_TLOG_HASH])
{
	uint64_t fn, sn;
	size_t i = 0;

	if (m == 0 || m >= n || np == 0 || np > LS_TLOG_PROOF_MAX)
		return LS_ERR_MALFORMED;
	if (pow2(m)) {
		memcpy(fr, old, LS_TLOG_HASH);
	} else {
		memcpy(fr, proof[0], LS_TLOG_HASH);
		i = 1;
	}
	memcpy(sr, fr, LS_TLOG_HASH);
	fn = m - 1;
	sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < np; i++) {
		if (sn == 0)
			return LS_ERR_MALFORMED;
		if ((fn & 1) || fn == sn) {
			ls_tlog_node_hash(proof[i], fr, fr);
			ls_tlog_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ls_tlog_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 ? 0 : LS_ERR_MALFORMED;
}

bool
ls_tlog_verify_consistency(uint64_t m, uint64_t n, const uint8_t old_root[LS_TLOG_HASH],
			   const uint8_t new_root[LS_TLOG_HASH],
			   const uint8_t proof[][LS_TLOG_HASH], size_t np)
{
	uint8_t fr[LS_TLOG_HASH], sr[LS_TLOG_HASH];

	if (m > n)
		return false;
	if (m == n) /* before m == 0: two empty trees have one root too */
		return np == 0 && sodium_memcmp(old_root, new_root, LS_TLOG_HASH) == 0;
	if (m == 0)
		return np == 0;
	if (ls_tlog_consistency_roots(m, n, old_root, proof, np, fr, sr) != 0)
		return false;
	return sodium_memcmp(fr, old_root, LS_TLOG_HASH) == 0 &&
	       sodium_memcmp(sr, new_root, LS_TLOG_HASH) == 0;
}

void
ls_tlog_range_init(struct ls_tlog_range *r)
{
	memset(r, 0, sizeof(*r));
}

bool
ls_tlog_range_ok(const struct ls_tlog_range *r)
{
	unsigned bits = 0;

	for (uint64_t x = r->n; x != 0; x >>= 1)
		bits += (unsigned)(x & 1);
	return r->k == bits;
}

void
ls_tlog_range_append(struct ls_tlog_range *r, const uint8_t leaf[LS_TLOG_HASH])
{
	uint8_t cur[LS_TLOG_HASH];

	memcpy(cur, leaf, LS_TLOG_HASH);
	for (uint64_t x = r->n; x & 1; x >>= 1)
		ls_tlog_node_hash(r->h[--r->k], cur, cur);
	memcpy(r->h[r->k++], cur, LS_TLOG_HASH);
	r->n++;
}

void
ls_tlog_range_root(const struct ls_tlog_range *r, uint8_t root[LS_TLOG_HASH])
{
	uint8_t cur[LS_TLOG_HASH];

	if (r->k == 0) {
		ls_tlog_empty_root(root);
		return;
	}
	memcpy(cur, r->h[r->k - 1], LS_TLOG_HASH);
	for (unsigned i = r->k - 1; i-- > 0;)
		ls_tlog_node_hash(r->h[i], cur, cur);
	memcpy(root, cur, LS_TLOG_HASH);
}
