/*
 * test_tlog.c - RFC 9162 Merkle trees (lib/tlog.c) against a reference
 * written here from the RFC's recursive definitions (MTH, PATH, SUBPROOF,
 * and recursive checks that mirror them), against the published RFC 6962
 * vectors of transparency-dev/merkle (proof/verify_test.go: 8 leaves, their
 * roots, inclusion and consistency proofs), at the edges of the sizes (0, 1,
 * 2, powers of two and their neighbours up to 257, and trees of up to
 * 2^64 - 1 leaves read through a synthetic node callback), and with the
 * rejections a verifier owes: wrong index or size, truncated, extended and
 * altered proofs, m > n, swapped roots, and split-view evidence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "tlog.h"
#include "util.h"

#define H LS_TLOG_HASH

/* ---- a small tree of real leaves, every perfect subtree kept ---- */

#define SMALL_MAX 257
#define LEVELS    10 /* 2^9 > SMALL_MAX */

struct small {
	uint64_t n;
	uint8_t node[LEVELS][SMALL_MAX][H]; /* node[l][i]: perfect subtree (l, i) */
	int fail_level;                     /* the callback fails at this level (-1: never) */
	unsigned calls;
};

static uint8_t
b(unsigned i)
{
	return (uint8_t)i;
}

/* Leaf i's data: 0x00 and 32 bytes made from i (a record leaf). */
static void
leaf_data(unsigned i, uint8_t out[LS_TLOG_LEAF_LEN])
{
	out[0] = LS_TLOG_LEAF_RECORD;
	for (unsigned k = 0; k < 32; k++)
		out[1 + k] = b(i * 31 + k * 7 + (i >> 8));
}

/* The reference hashes, written from RFC 9162 2.1.1 without the library. */
static void
ref_leaf(const uint8_t *data, size_t len, uint8_t out[H])
{
	crypto_hash_sha256_state st;
	uint8_t z = 0;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &z, 1);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, out);
}

static void
ref_node(const uint8_t l[H], const uint8_t r[H], uint8_t out[H])
{
	crypto_hash_sha256_state st;
	uint8_t one = 1, tl[H], tr[H];

	memcpy(tl, l, H); /* out may be l or r */
	memcpy(tr, r, H);
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &one, 1);
	crypto_hash_sha256_update(&st, tl, H);
	crypto_hash_sha256_update(&st, tr, H);
	crypto_hash_sha256_final(&st, out);
}

static void
small_build(struct small *t, uint64_t n)
{
	uint8_t d[LS_TLOG_LEAF_LEN];

	memset(t, 0, sizeof(*t));
	t->n = n;
	t->fail_level = -1;
	for (unsigned i = 0; i < n; i++) {
		leaf_data(i, d);
		ref_leaf(d, sizeof(d), t->node[0][i]);
	}
	for (unsigned l = 1; l < LEVELS; l++)
		for (uint64_t i = 0; (i + 1) << l <= n; i++)
			ref_node(t->node[l - 1][2 * i], t->node[l - 1][2 * i + 1], t->node[l][i]);
}

static int
small_fn(void *arg, unsigned level, uint64_t index, uint8_t out[H])
{
	struct small *t = arg;

	t->calls++;
	if ((int)level == t->fail_level)
		return LS_ERR_STORE;
	/* the library must only ask for perfect subtrees inside the tree */
	if (level >= LEVELS || ((index + 1) << level) > t->n)
		fail_msg("node (%u, %llu) asked of a tree of %llu", level,
			 (unsigned long long)index, (unsigned long long)t->n);
	memcpy(out, t->node[level][index], H);
	return 0;
}

static uint64_t
ref_split(uint64_t n) /* largest power of two < n, n > 1 (RFC 9162 2.1.1) */
{
	uint64_t k = 1;

	while (k < n - k) /* 2k < n, without overflow */
		k *= 2;
	return k;
}

/* MTH(D[lo:hi]) literally (the table only for aligned perfect ranges, which
 * the recursion would reach with the same value). */
static void
ref_mth(const struct small *t, uint64_t lo, uint64_t hi, uint8_t out[H])
{
	uint64_t n = hi - lo, k;
	uint8_t l[H], r[H];

	if (n == 0) {
		crypto_hash_sha256(out, (const uint8_t *)"", 0);
		return;
	}
	if (n == 1) {
		memcpy(out, t->node[0][lo], H);
		return;
	}
	if ((n & (n - 1)) == 0 && lo % n == 0) {
		unsigned lv = 0;
		while ((1ull << lv) < n)
			lv++;
		memcpy(out, t->node[lv][lo >> lv], H);
		return;
	}
	k = ref_split(n);
	ref_mth(t, lo, lo + k, l);
	ref_mth(t, lo + k, hi, r);
	ref_node(l, r, out);
}

struct plist {
	size_t n;
	uint8_t h[LS_TLOG_PROOF_MAX + 2][H];
};

/* PATH(m, D[lo:hi]) (RFC 9162 2.1.3.1) */
static void
ref_path(const struct small *t, uint64_t m, uint64_t lo, uint64_t hi, struct plist *p)
{
	uint64_t k;

	if (hi - lo <= 1)
		return;
	k = ref_split(hi - lo);
	if (m < k) {
		ref_path(t, m, lo, lo + k, p);
		ref_mth(t, lo + k, hi, p->h[p->n++]);
	} else {
		ref_path(t, m - k, lo + k, hi, p);
		ref_mth(t, lo, lo + k, p->h[p->n++]);
	}
}

/* SUBPROOF(m, D[lo:hi], b) (RFC 9162 2.1.4.1) */
static void
ref_subproof(const struct small *t, uint64_t m, uint64_t lo, uint64_t hi, bool bb, struct plist *p)
{
	uint64_t n = hi - lo, k;

	if (m == n) {
		if (!bb)
			ref_mth(t, lo, hi, p->h[p->n++]);
		return;
	}
	k = ref_split(n);
	if (m <= k) {
		ref_subproof(t, m, lo, lo + k, bb, p);
		ref_mth(t, lo + k, hi, p->h[p->n++]);
	} else {
		ref_subproof(t, m - k, lo + k, hi, false, p);
		ref_mth(t, lo, lo + k, p->h[p->n++]);
	}
}

/*
 * A recursive check of an inclusion proof, the mirror of PATH: the root it
 * implies for leaf at m in D[lo:hi], consuming proof from *pos. False when
 * the proof is too short. The caller requires *pos == np.
 */
static bool
ref_incl_root(uint64_t m, uint64_t lo, uint64_t hi, const uint8_t leaf[H],
	      const uint8_t (*proof)[H], size_t np, size_t *pos, uint8_t out[H])
{
	uint64_t k;
	uint8_t sub[H];

	if (hi - lo == 1) {
		memcpy(out, leaf, H);
		return true;
	}
	k = ref_split(hi - lo);
	if (m < k) {
		if (!ref_incl_root(m, lo, lo + k, leaf, proof, np, pos, sub) || *pos >= np)
			return false;
		ref_node(sub, proof[(*pos)++], out);
	} else {
		if (!ref_incl_root(m - k, lo + k, hi, leaf, proof, np, pos, sub) || *pos >= np)
			return false;
		ref_node(proof[(*pos)++], sub, out);
	}
	return true;
}

static bool
ref_verify_inclusion(uint64_t index, uint64_t n, const uint8_t leaf[H], const uint8_t (*proof)[H],
		     size_t np, const uint8_t root[H])
{
	size_t pos = 0;
	uint8_t r[H];

	if (index >= n)
		return false;
	return ref_incl_root(index, 0, n, leaf, proof, np, &pos, r) && pos == np &&
	       memcmp(r, root, H) == 0;
}

/* The mirror of SUBPROOF: the roots of D[lo:lo+m] and D[lo:hi] it implies. */
static bool
ref_cons_roots(uint64_t m, uint64_t lo, uint64_t hi, bool bb, const uint8_t old[H],
	       const uint8_t (*proof)[H], size_t np, size_t *pos, uint8_t fr[H], uint8_t sr[H])
{
	uint64_t n = hi - lo, k;

	if (m == n) {
		if (bb) {
			memcpy(fr, old, H);
		} else {
			if (*pos >= np)
				return false;
			memcpy(fr, proof[(*pos)++], H);
		}
		memcpy(sr, fr, H);
		return true;
	}
	k = ref_split(n);
	if (m <= k) {
		if (!ref_cons_roots(m, lo, lo + k, bb, old, proof, np, pos, fr, sr) || *pos >= np)
			return false;
		ref_node(sr, proof[(*pos)++], sr);
	} else {
		if (!ref_cons_roots(m - k, lo + k, hi, false, old, proof, np, pos, fr, sr) ||
		    *pos >= np)
			return false;
		ref_node(proof[*pos], fr, fr);
		ref_node(proof[(*pos)++], sr, sr);
	}
	return true;
}

static bool
ref_verify_consistency(uint64_t m, uint64_t n, const uint8_t old[H], const uint8_t new[H],
		       const uint8_t (*proof)[H], size_t np)
{
	size_t pos = 0;
	uint8_t fr[H], sr[H];

	if (m > n)
		return false;
	if (m == n)
		return np == 0 && memcmp(old, new, H) == 0;
	if (m == 0)
		return np == 0;
	return ref_cons_roots(m, 0, n, true, old, proof, np, &pos, fr, sr) && pos == np &&
	       memcmp(fr, old, H) == 0 && memcmp(sr, new, H) == 0;
}

static struct small T; /* the trees of the tests (big: static) */

static void
root_of(struct small *t, uint64_t n, uint8_t out[H])
{
	assert_int_equal(ls_tlog_root(n, small_fn, t, out), 0);
}

/* The library's inclusion proof equals PATH and verifies; both checks
 * agree on it and on each mutation. */
static void
check_inclusion(struct small *t, uint64_t i, uint64_t n, bool full)
{
	uint8_t proof[LS_TLOG_PROOF_MAX + 2][H], root[H], want_root[H], bad[H];
	struct plist ref = {0};
	size_t np;

	assert_int_equal(ls_tlog_inclusion(i, n, small_fn, t, proof, &np), 0);
	ref_path(t, i, 0, n, &ref);
	if (np != ref.n || memcmp(proof, ref.h, np * H) != 0)
		fail_msg("inclusion %llu in %llu: proof differs from PATH (%zu vs %zu hashes)",
			 (unsigned long long)i, (unsigned long long)n, np, ref.n);
	root_of(t, n, root);
	ref_mth(t, 0, n, want_root);
	assert_memory_equal(root, want_root, H);
	assert_true(
	    ls_tlog_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof, np, root));
	assert_true(
	    ref_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof, np, root));
	if (!full)
		return;
	/* Wrong index or size: the proof does not bind the size (0 in 3 and
	 * in 4 leaves has the same path and root), so the library must agree
	 * with the reference, which follows the RFC's recursion. */
	{
		const uint64_t alt[][2] = {{i - 1, n}, {i + 1, n}, {i ^ 2, n}, {i, n + 1},
					   {i, n - 1}, {i, 2 * n}, {i, n / 2}, {i, UINT64_MAX}};
		for (size_t k = 0; k < sizeof(alt) / sizeof(alt[0]); k++)
			if (alt[k][0] != i || alt[k][1] != n)
				assert_int_equal(
				    ls_tlog_verify_inclusion(alt[k][0], alt[k][1], t->node[0][i],
							     (const uint8_t(*)[H])proof, np, root),
				    alt[k][1] <= SMALL_MAX * 2 &&
					ref_verify_inclusion(alt[k][0], alt[k][1], t->node[0][i],
							     (const uint8_t(*)[H])proof, np, root));
	}
	/* wrong leaf, wrong root */
	memcpy(bad, t->node[0][i], H);
	bad[5] ^= 1;
	assert_false(ls_tlog_verify_inclusion(i, n, bad, (const uint8_t(*)[H])proof, np, root));
	memcpy(bad, root, H);
	bad[31] ^= 0x80;
	assert_false(
	    ls_tlog_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof, np, bad));
	/* truncated, extended (by the root, by zeros) */
	if (np > 0)
		assert_false(ls_tlog_verify_inclusion(i, n, t->node[0][i],
						      (const uint8_t(*)[H])proof, np - 1, root));
	memcpy(proof[np], root, H);
	assert_false(ls_tlog_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof,
					      np + 1, root));
	memset(proof[np], 0, H);
	assert_false(ls_tlog_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof,
					      np + 1, root));
	/* each hash altered */
	for (size_t k = 0; k < np; k++) {
		proof[k][0] ^= 8;
		assert_false(ls_tlog_verify_inclusion(i, n, t->node[0][i],
						      (const uint8_t(*)[H])proof, np, root));
		assert_false(ref_verify_inclusion(i, n, t->node[0][i], (const uint8_t(*)[H])proof,
						  np, root));
		proof[k][0] ^= 8;
	}
}

static void
check_consistency(struct small *t, uint64_t m, uint64_t n, bool full)
{
	uint8_t proof[LS_TLOG_PROOF_MAX + 2][H], old[H], new[H], fr[H], sr[H];
	struct plist ref = {0};
	size_t np;

	assert_int_equal(ls_tlog_consistency(m, n, small_fn, t, proof, &np), 0);
	if (m > 0 && m < n)
		ref_subproof(t, m, 0, n, true, &ref);
	if (np != ref.n || memcmp(proof, ref.h, np * H) != 0)
		fail_msg("consistency %llu -> %llu: proof differs from SUBPROOF (%zu vs %zu)",
			 (unsigned long long)m, (unsigned long long)n, np, ref.n);
	root_of(t, m, old);
	root_of(t, n, new);
	assert_true(ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np));
	assert_true(ref_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np));
	if (!full)
		return;
	if (m == 0 || m == n) {
		if (m == n && m > 0) {
			new[0] ^= 1;
			assert_false(ls_tlog_verify_consistency(m, n, old, new, NULL, 0));
		}
		return;
	}
	assert_int_equal(
	    ls_tlog_consistency_roots(m, n, old, (const uint8_t(*)[H])proof, np, fr, sr), 0);
	assert_memory_equal(fr, old, H);
	assert_memory_equal(sr, new, H);
	/* swapped roots, m > n */
	assert_false(ls_tlog_verify_consistency(m, n, new, old, (const uint8_t(*)[H])proof, np));
	assert_false(ls_tlog_verify_consistency(n, m, old, new, (const uint8_t(*)[H])proof, np));
	/* other sizes: as the reference says (the roots bind the sizes, the
	 * proof alone need not) */
	{
		const uint64_t alt[][2] = {{m - 1, n}, {m + 1, n}, {m ^ 2, n}, {m, n + 1},
					   {m, n - 1}, {m, 2 * n}, {m, n / 2}, {m, UINT64_MAX}};
		for (size_t k = 0; k < sizeof(alt) / sizeof(alt[0]); k++)
			assert_int_equal(ls_tlog_verify_consistency(alt[k][0], alt[k][1], old, new,
								    (const uint8_t(*)[H])proof, np),
					 alt[k][1] <= SMALL_MAX * 2 &&
					     ref_verify_consistency(alt[k][0], alt[k][1], old, new,
								    (const uint8_t(*)[H])proof,
								    np));
	}
	assert_false(ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, 0));
	/* truncated, extended */
	assert_false(
	    ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np - 1));
	memcpy(proof[np], old, H);
	assert_false(
	    ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np + 1));
	memcpy(proof[np], new, H);
	assert_false(
	    ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np + 1));
	/* preceded by the old root */
	memmove(proof[1], proof[0], np * H);
	memcpy(proof[0], old, H);
	assert_false(
	    ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np + 1));
	memmove(proof[0], proof[1], np * H);
	for (size_t k = 0; k < np; k++) {
		proof[k][0] ^= 16;
		assert_false(
		    ls_tlog_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np));
		assert_false(
		    ref_verify_consistency(m, n, old, new, (const uint8_t(*)[H])proof, np));
		proof[k][0] ^= 16;
	}
}

static void
test_tlog_hashes(void **state)
{
	uint8_t got[H], want[H], l[H], r[H];
	char hex[2 * H + 1];

	(void)state;
	ls_tlog_empty_root(got);
	assert_string_equal(ls_hex(got, H, hex),
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ls_tlog_leaf_hash((const uint8_t *)"", 0, got);
	assert_string_equal(ls_hex(got, H, hex),
			    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
	ls_tlog_leaf_hash((const uint8_t *)"abc", 3, got);
	ref_leaf((const uint8_t *)"abc", 3, want);
	assert_memory_equal(got, want, H);
	memset(l, 1, H);
	memset(r, 2, H);
	ls_tlog_node_hash(l, r, got);
	ref_node(l, r, want);
	assert_memory_equal(got, want, H);
	ls_tlog_node_hash(r, l, got);
	assert_memory_not_equal(got, want, H);
}

/* ---- the published vectors ---- */

/* transparency-dev/merkle, proof/verify_test.go (the RFC 6962 test data of
 * certificate-transparency): leaf inputs, the roots of sizes 1..8. */
static const char *const vec_leaves[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};
static const char *const vec_roots[8] = {
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

struct vec_proof {
	uint64_t a, n; /* inclusion: 1-based leaf a; consistency: size a */
	const char *h[3];
};

static const struct vec_proof vec_incl[] = {
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {3, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {2,
     5,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {1, 1, {NULL}},
};

static const struct vec_proof vec_cons[] = {
    {1, 1, {NULL}},
    {1,
     8,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static void
unhex(const char *s, uint8_t *out, size_t len)
{
	assert_int_equal(ls_unhex(s, out, len), 0);
}

/* The vector tree: node[0] the leaf hashes of the published inputs. */
static void
vec_tree(struct small *t)
{
	uint8_t d[16];

	memset(t, 0, sizeof(*t));
	t->n = 8;
	t->fail_level = -1;
	for (unsigned i = 0; i < 8; i++) {
		size_t len = strlen(vec_leaves[i]) / 2;
		if (len > 0)
			unhex(vec_leaves[i], d, len);
		ls_tlog_leaf_hash(d, len, t->node[0][i]);
	}
	for (unsigned l = 1; l < 4; l++)
		for (uint64_t i = 0; (i + 1) << l <= 8; i++)
			ref_node(t->node[l - 1][2 * i], t->node[l - 1][2 * i + 1], t->node[l][i]);
}

static size_t
vec_hashes(const struct vec_proof *v, uint8_t out[][H])
{
	size_t n = 0;

	while (n < 3 && v->h[n] != NULL) {
		unhex(v->h[n], out[n], H);
		n++;
	}
	return n;
}

static void
test_tlog_vectors(void **state)
{
	uint8_t root[H], want[H], proof[LS_TLOG_PROOF_MAX + 2][H], got[LS_TLOG_PROOF_MAX][H];
	size_t np, ng;
	struct ls_tlog_range r;

	(void)state;
	vec_tree(&T);
	ls_tlog_range_init(&r);
	for (uint64_t n = 1; n <= 8; n++) {
		unhex(vec_roots[n - 1], want, H);
		T.n = n;
		root_of(&T, n, root);
		assert_memory_equal(root, want, H);
		ls_tlog_range_append(&r, T.node[0][n - 1]);
		ls_tlog_range_root(&r, root);
		assert_memory_equal(root, want, H);
	}
	for (size_t v = 0; v < sizeof(vec_incl) / sizeof(vec_incl[0]); v++) {
		uint64_t i = vec_incl[v].a - 1, n = vec_incl[v].n;
		np = vec_hashes(&vec_incl[v], proof);
		T.n = n;
		assert_int_equal(ls_tlog_inclusion(i, n, small_fn, &T, got, &ng), 0);
		assert_int_equal(ng, np);
		assert_memory_equal(got, proof, np * H);
		unhex(vec_roots[n - 1], root, H);
		assert_true(ls_tlog_verify_inclusion(i, n, T.node[0][i], (const uint8_t(*)[H])proof,
						     np, root));
		check_inclusion(&T, i, n, true);
		/* transparency-dev/merkle's corruptInclusionProof: all refused */
		const uint64_t go[][2] = {
		    {i - 1, n}, {i + 1, n}, {i ^ 2, n}, {i, n * 2}, {i, n / 2}};
		for (size_t k = 0; k < 5; k++)
			assert_false(ls_tlog_verify_inclusion(go[k][0], go[k][1], T.node[0][i],
							      (const uint8_t(*)[H])proof, np,
							      root));
	}
	for (size_t v = 0; v < sizeof(vec_cons) / sizeof(vec_cons[0]); v++) {
		uint64_t m = vec_cons[v].a, n = vec_cons[v].n;
		uint8_t old[H];
		np = vec_hashes(&vec_cons[v], proof);
		T.n = n;
		assert_int_equal(ls_tlog_consistency(m, n, small_fn, &T, got, &ng), 0);
		assert_int_equal(ng, np);
		assert_memory_equal(got, proof, np * H);
		unhex(vec_roots[m - 1], old, H);
		unhex(vec_roots[n - 1], root, H);
		assert_true(
		    ls_tlog_verify_consistency(m, n, old, root, (const uint8_t(*)[H])proof, np));
		check_consistency(&T, m, n, true);
		/* corruptConsistencyProof's sizes: all refused (non-trivial proofs) */
		const uint64_t go[][2] = {
		    {m - 1, n}, {m + 1, n}, {m ^ 2, n}, {m, n * 2}, {m, n / 2}};
		for (size_t k = 0; k < 5 && np > 0; k++)
			assert_false(ls_tlog_verify_consistency(go[k][0], go[k][1], old, root,
								(const uint8_t(*)[H])proof, np));
	}
}

/* transparency-dev/merkle's TestVerifyConsistency and TestVerifyInclusion
 * edge table: sizes 0 and 1, time travel, roots that do not match. */
static void
test_tlog_vector_edges(void **state)
{
	uint8_t r1[H], r2[H], empty[H], some[H], proof[1][H];

	(void)state;
	memset(r1, 0x11, H);
	memset(r2, 0x22, H);
	ls_tlog_empty_root(empty);
	unhex("abacaba000000000000000000000000000000000000000000060061e00123456", some, H);
	memcpy(proof[0], empty, H);
	assert_false(ls_tlog_verify_consistency(0, 0, r1, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(1, 1, r1, r2, NULL, 0));
	assert_true(ls_tlog_verify_consistency(0, 0, r1, r1, NULL, 0));
	assert_true(ls_tlog_verify_consistency(0, 1, r1, r2, NULL, 0));
	assert_true(ls_tlog_verify_consistency(1, 1, r2, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(1, 0, r1, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(2, 1, r1, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(1, 2, r1, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(0, 0, empty, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(1, 1, empty, r2, NULL, 0));
	assert_false(ls_tlog_verify_consistency(0, 0, empty, empty, (const uint8_t(*)[H])proof, 1));
	assert_false(ls_tlog_verify_consistency(0, 1, empty, empty, (const uint8_t(*)[H])proof, 1));
	assert_false(ls_tlog_verify_consistency(1, 1, empty, empty, (const uint8_t(*)[H])proof, 1));
	/* inclusion: index >= size, size 0 */
	static const uint64_t probe[][2] = {{0, 0}, {1, 0}, {2, 1}, {1, 1}};
	for (size_t i = 0; i < 4; i++) {
		assert_false(
		    ls_tlog_verify_inclusion(probe[i][0], probe[i][1], some, NULL, 0, empty));
		assert_false(
		    ls_tlog_verify_inclusion(probe[i][0], probe[i][1], some, NULL, 0, some));
	}
	/* a one-leaf tree: the root is the leaf hash, the proof empty */
	assert_true(ls_tlog_verify_inclusion(0, 1, some, NULL, 0, some));
	assert_false(ls_tlog_verify_inclusion(0, 1, some, NULL, 0, empty));
	assert_false(ls_tlog_verify_inclusion(0, 1, some, (const uint8_t(*)[H])proof, 1, some));
}

/* Every m of a tree up to `all` leaves, else the ends, the half, and the
 * powers of two and their neighbours. */
static bool
interesting(uint64_t m, uint64_t n, uint64_t all)
{
	if (n <= all || m <= 3 || m + 2 >= n || m == n / 2)
		return true;
	for (uint64_t p = 4; p <= n; p <<= 1)
		if (m + 1 == p || m == p || m == p + 1)
			return true;
	return false;
}

/* The sizes whose proofs are also altered every way: the small ones, and
 * the powers of two and their neighbours. */
static bool
edge_size(uint64_t n)
{
	return n <= 24 || ((n - 1) & (n - 2)) == 0 || (n & (n - 1)) == 0 || ((n + 1) & n) == 0;
}

/* Every index of every size up to 70 and of 255..257, the edges of the
 * others, against PATH and both checks. */
static void
test_tlog_inclusion_small(void **state)
{
	uint8_t proof[LS_TLOG_PROOF_MAX][H];
	size_t np = 99;

	(void)state;
	small_build(&T, SMALL_MAX);
	for (uint64_t n = 1; n <= SMALL_MAX; n++) {
		T.n = n;
		bool every = n <= 70 || n >= 255;
		for (uint64_t i = 0; i < n; i++)
			if (every || interesting(i, n, 0))
				check_inclusion(&T, i, n, edge_size(n) && interesting(i, n, 24));
		assert_int_equal(ls_tlog_inclusion(n, n, small_fn, &T, proof, &np), LS_ERR_INVALID);
		assert_int_equal(np, 0);
	}
	T.n = 0;
	assert_int_equal(ls_tlog_inclusion(0, 0, small_fn, &T, proof, &np), LS_ERR_INVALID);
}

/* Consistency m -> n for sizes up to 257: every m up to 32 leaves, then the
 * powers of two and their neighbours, the halves and the ends. */
static void
test_tlog_consistency_small(void **state)
{
	uint8_t proof[LS_TLOG_PROOF_MAX][H], r[H], fr[H], sr[H];
	size_t np = 99;

	(void)state;
	small_build(&T, SMALL_MAX);
	for (uint64_t n = 0; n <= SMALL_MAX; n++) {
		T.n = n;
		for (uint64_t m = 0; m <= n; m++)
			if (interesting(m, n, 32))
				check_consistency(&T, m, n, edge_size(n) && interesting(m, n, 24));
		assert_int_equal(ls_tlog_consistency(n + 1, n, small_fn, &T, proof, &np),
				 LS_ERR_INVALID);
		assert_int_equal(np, 0);
	}
	/* the roots are not computed for m == 0, m >= n, an empty proof */
	memset(r, 0, H);
	assert_int_equal(ls_tlog_consistency_roots(0, 5, r, (const uint8_t(*)[H])proof, 1, fr, sr),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_tlog_consistency_roots(5, 5, r, (const uint8_t(*)[H])proof, 1, fr, sr),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_tlog_consistency_roots(6, 5, r, (const uint8_t(*)[H])proof, 1, fr, sr),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_tlog_consistency_roots(3, 5, r, (const uint8_t(*)[H])proof, 0, fr, sr),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_tlog_consistency_roots(3, 5, r, (const uint8_t(*)[H])proof,
						   LS_TLOG_PROOF_MAX + 1, fr, sr),
			 LS_ERR_MALFORMED);
}

/*
 * Split view: the log showed tree A to a witness, then forks: tree B has the
 * same size-m prefix but for one leaf. B's consistency proof m -> n, run
 * with B's own root at m (what AddCheckpoint's old_root carries), gives
 * sr == B's root and fr == B's root at m, which differs from A's: evidence.
 * With A's root the proof does not verify.
 */
static void
test_tlog_split_view(void **state)
{
	static struct small a;
	uint8_t proof[LS_TLOG_PROOF_MAX][H], ra[H], rbm[H], rbn[H], fr[H], sr[H];
	size_t np;
	static const uint64_t cases[][3] = {
	    /* m, n, forked leaf */
	    {3, 7, 1},      {4, 7, 3}, {5, 8, 0},   {8, 9, 7},    {16, 100, 9},
	    {100, 257, 99}, {1, 2, 0}, {64, 65, 0}, {63, 64, 62}, {2, 3, 1},
	};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint64_t m = cases[c][0], n = cases[c][1], f = cases[c][2];
		small_build(&a, n);
		small_build(&T, n);
		T.node[0][f][0] ^= 0xff; /* B's leaf f differs */
		for (unsigned l = 1; l < LEVELS; l++)
			for (uint64_t i = 0; (i + 1) << l <= n; i++)
				ref_node(T.node[l - 1][2 * i], T.node[l - 1][2 * i + 1],
					 T.node[l][i]);
		root_of(&a, m, ra);
		root_of(&T, m, rbm);
		root_of(&T, n, rbn);
		assert_memory_not_equal(ra, rbm, H);
		assert_int_equal(ls_tlog_consistency(m, n, small_fn, &T, proof, &np), 0);
		assert_true(
		    ls_tlog_verify_consistency(m, n, rbm, rbn, (const uint8_t(*)[H])proof, np));
		assert_false(
		    ls_tlog_verify_consistency(m, n, ra, rbn, (const uint8_t(*)[H])proof, np));
		assert_int_equal(
		    ls_tlog_consistency_roots(m, n, rbm, (const uint8_t(*)[H])proof, np, fr, sr),
		    0);
		assert_memory_equal(sr, rbn, H);
		assert_memory_equal(fr, rbm, H);
		assert_memory_not_equal(fr, ra, H);
		/* with A's root as old: when m is not a power of two the proof
		 * carries B's old root itself and the evidence is the same */
		assert_int_equal(
		    ls_tlog_consistency_roots(m, n, ra, (const uint8_t(*)[H])proof, np, fr, sr), 0);
		if ((m & (m - 1)) != 0) {
			assert_memory_equal(sr, rbn, H);
			assert_memory_not_equal(fr, ra, H);
		} else {
			assert_memory_not_equal(sr, rbn, H); /* A's root is in the chain */
		}
	}
}

/* The node callback's error is passed on, and nothing is left in *np. */
static void
test_tlog_callback_error(void **state)
{
	uint8_t proof[LS_TLOG_PROOF_MAX][H], root[H];
	size_t np = 7;

	(void)state;
	small_build(&T, 100);
	T.fail_level = 2;
	assert_int_equal(ls_tlog_root(100, small_fn, &T, root), LS_ERR_STORE);
	assert_int_equal(ls_tlog_inclusion(5, 100, small_fn, &T, proof, &np), LS_ERR_STORE);
	assert_int_equal(np, 0);
	np = 7;
	assert_int_equal(ls_tlog_consistency(13, 100, small_fn, &T, proof, &np), LS_ERR_STORE);
	assert_int_equal(np, 0);
	assert_int_equal(ls_tlog_range_hash(5, 5, small_fn, &T, root), LS_ERR_INVALID);
	assert_int_equal(ls_tlog_range_hash(6, 5, small_fn, &T, root), LS_ERR_INVALID);
	T.fail_level = -1;
	/* the root of a power of two is one read */
	T.calls = 0;
	assert_int_equal(ls_tlog_root(64, small_fn, &T, root), 0);
	assert_int_equal(T.calls, 1);
	ls_tlog_root(0, small_fn, &T, root);
	ls_tlog_empty_root(proof[0]);
	assert_memory_equal(root, proof[0], H);
}

/* ---- trees too big to hold: a synthetic one ---- */

/*
 * Every leaf hash is the same but for a few marked leaves, so a perfect
 * subtree without a marked leaf has the hash plain[level]; the subtrees
 * holding a marked leaf (subtree (l, i) holds leaf x iff x >> l == i: no
 * overflow) are computed once from their children, bottom up.
 */
#define MARKS 4
struct synth {
	uint64_t n;
	uint64_t mark[MARKS];
	uint8_t plain[65][H];
	uint8_t marked[64][MARKS][H]; /* marked[l][k]: subtree (l, mark[k] >> l) */
};

static void
synth_leaf(uint64_t x, uint8_t out[H])
{
	uint8_t d[9];

	d[0] = 0x42;
	ls_be64_put(d + 1, x);
	ref_leaf(d, sizeof(d), out);
}

static void
synth_node(const struct synth *s, unsigned l, uint64_t i, uint8_t out[H])
{
	for (unsigned k = 0; k < MARKS; k++)
		if ((s->mark[k] >> l) == i) {
			memcpy(out, s->marked[l][k], H);
			return;
		}
	memcpy(out, s->plain[l], H);
}

static void
synth_init(struct synth *s, uint64_t n, const uint64_t mark[MARKS])
{
	uint8_t a[H], c[H];

	memset(s, 0, sizeof(*s));
	s->n = n;
	memcpy(s->mark, mark, sizeof(s->mark));
	memset(s->plain[0], 0x5a, H); /* a leaf hash nobody can have */
	for (unsigned l = 1; l <= 64; l++)
		ref_node(s->plain[l - 1], s->plain[l - 1], s->plain[l]);
	for (unsigned k = 0; k < MARKS; k++)
		synth_leaf(mark[k], s->marked[0][k]);
	for (unsigned l = 1; l < 64; l++)
		for (unsigned k = 0; k < MARKS; k++) {
			uint64_t i = mark[k] >> l;
			synth_node(s, l - 1, 2 * i, a);
			synth_node(s, l - 1, 2 * i + 1, c);
			ref_node(a, c, s->marked[l][k]);
		}
}

static int
synth_fn(void *arg, unsigned level, uint64_t index, uint8_t out[H])
{
	struct synth *s = arg;

	uint64_t w;

	/* only perfect subtrees inside the tree, with no shift overflowing */
	if (level > 63 || (level > 0 && (index >> (64 - level)) != 0))
		fail_msg("node (%u, %llu) is out of any tree", level, (unsigned long long)index);
	w = 1ull << level;
	if (s->n < w || (index << level) > s->n - w)
		fail_msg("node (%u, %llu) asked of a tree of %llu", level,
			 (unsigned long long)index, (unsigned long long)s->n);
	synth_node(s, level, index, out);
	return 0;
}

/* MTH over the synthetic tree by the RFC's split, for the reference. */
static void
synth_mth(const struct synth *s, uint64_t lo, uint64_t hi, uint8_t out[H])
{
	uint64_t n = hi - lo, k;
	uint8_t l[H], r[H];

	if ((n & (n - 1)) == 0 && lo % n == 0) {
		unsigned lv = 0;
		while (lv < 63 && (1ull << lv) < n)
			lv++;
		synth_node(s, lv, lo >> lv, out);
		return;
	}
	k = ref_split(n);
	synth_mth(s, lo, lo + k, l);
	synth_mth(s, lo + k, hi, r);
	ref_node(l, r, out);
}

static void
test_tlog_large(void **state)
{
	static const uint64_t sizes[] = {
	    (1ull << 32) - 1, 1ull << 32, (1ull << 32) + 1, (1ull << 40) + 3, (1ull << 62) + 5,
	    (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 1, UINT64_MAX - 1,   UINT64_MAX,
	};
	static struct synth s;
	uint8_t proof[LS_TLOG_PROOF_MAX + 1][H], root[H], want[H], old[H], leaf[H];
	size_t np;

	(void)state;
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		uint64_t n = sizes[z];
		uint64_t marks[MARKS] = {0, n / 3, n - 1, n / 2 + 1};
		synth_init(&s, n, marks);
		assert_int_equal(ls_tlog_root(n, synth_fn, &s, root), 0);
		synth_mth(&s, 0, n, want);
		assert_memory_equal(root, want, H);
		for (unsigned k = 0; k < MARKS; k++) {
			uint64_t i = marks[k];
			synth_leaf(i, leaf);
			assert_int_equal(ls_tlog_inclusion(i, n, synth_fn, &s, proof, &np), 0);
			assert_true(np <= 64);
			assert_true(ls_tlog_verify_inclusion(i, n, leaf, (const uint8_t(*)[H])proof,
							     np, root));
			if (i + 1 < n)
				assert_false(ls_tlog_verify_inclusion(
				    i + 1, n, leaf, (const uint8_t(*)[H])proof, np, root));
			assert_false(ls_tlog_verify_inclusion(
			    i, n, root, (const uint8_t(*)[H])proof, np, root));
		}
		/* consistency from a few old sizes; over 2^63 leaves a proof may
		 * need 65 hashes, which the library refuses (LS_ERR_TOO_BIG) */
		uint64_t olds[] = {1, 2, 3, n / 3, n / 2, n - 1, 1ull << 31};
		for (size_t o = 0; o < sizeof(olds) / sizeof(olds[0]); o++) {
			uint64_t m = olds[o];
			int rc;
			if (m == 0 || m >= n)
				continue;
			rc = ls_tlog_consistency(m, n, synth_fn, &s, proof, &np);
			if (rc == LS_ERR_TOO_BIG) {
				assert_true(n > (1ull << 63));
				continue;
			}
			assert_int_equal(rc, 0);
			synth_mth(&s, 0, m, old);
			assert_true(ls_tlog_verify_consistency(m, n, old, root,
							       (const uint8_t(*)[H])proof, np));
			assert_false(ls_tlog_verify_consistency(m, n, root, old,
								(const uint8_t(*)[H])proof, np));
			assert_false(ls_tlog_verify_consistency(
			    m, n, old, root, (const uint8_t(*)[H])proof, np - 1));
		}
	}
}

/* The compact range gives MTH at every size and keeps one hash per set bit. */
static void
test_tlog_range(void **state)
{
	struct ls_tlog_range r;
	uint8_t root[H], want[H];

	(void)state;
	small_build(&T, SMALL_MAX);
	ls_tlog_range_init(&r);
	assert_true(ls_tlog_range_ok(&r));
	ls_tlog_range_root(&r, root);
	ref_mth(&T, 0, 0, want);
	assert_memory_equal(root, want, H);
	for (uint64_t n = 1; n <= SMALL_MAX; n++) {
		ls_tlog_range_append(&r, T.node[0][n - 1]);
		assert_int_equal(r.n, n);
		assert_int_equal(r.k, (unsigned)__builtin_popcountll(n));
		assert_true(ls_tlog_range_ok(&r));
		ls_tlog_range_root(&r, root);
		ref_mth(&T, 0, n, want);
		assert_memory_equal(root, want, H);
	}
	r.k++;
	assert_false(ls_tlog_range_ok(&r));
	r.k = 65;
	assert_false(ls_tlog_range_ok(&r));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tlog_hashes),
	    cmocka_unit_test(test_tlog_vectors),
	    cmocka_unit_test(test_tlog_vector_edges),
	    cmocka_unit_test(test_tlog_inclusion_small),
	    cmocka_unit_test(test_tlog_consistency_small),
	    cmocka_unit_test(test_tlog_split_view),
	    cmocka_unit_test(test_tlog_callback_error),
	    cmocka_unit_test(test_tlog_large),
	    cmocka_unit_test(test_tlog_range),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
