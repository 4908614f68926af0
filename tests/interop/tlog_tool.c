/*
 * tlog_tool.c - the C side of the interop test (tests/scenario/interop.sh):
 * lib/tlog.c and lib/note.c make and check the same files as the
 * independent Python implementation tests/interop/c2sp.py.
 *
 *   tlog_tool emit --n N --log-seed HEX --wit-seed HEX --wit2-seed HEX
 *             --origin O --wit-name W --wit2-name W --time T DIR
 *   tlog_tool check --n N --log-vkey FILE --witness-vkey FILE... DIR
 *
 * The tree has N synthetic leaves, leaf i = 0x00 || SHA-256("interop leaf
 * <i>"). emit writes log.vkey, witness.vkey, witness2.vkey; checkpoint and
 * checkpoint.<m> (signed by the log, cosigned by both witnesses at time T)
 * for the sizes of the set below; proof.<i>.tlog-proof (tlog-proof into the
 * size-N checkpoint; index 0 carries extra data); consistency.<m>
 * (add-checkpoint bodies from old size m to N). check verifies every such
 * file of a directory (signatures, cosignatures, proofs against the tree it
 * computes itself), and that each is byte for byte what this side makes.
 * Exit status: 0 all good, 1 a file is wrong (named on stderr), 2 usage.
 */
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "err.h"
#include "note.h"
#include "tlog.h"
#include "util.h"

#define N_MAX    (1u << 20)
#define FILE_MAX LS_TLOG_PROOF_FILE_MAX

/* Every perfect subtree of the tree: lv[l][i] for l <= LV_MAX. */
#define LV_MAX 21
struct tree {
	uint64_t n;
	uint8_t (*lv[LV_MAX + 1])[LS_TLOG_HASH];
};

static int
tree_fn(void *arg, unsigned level, uint64_t index, uint8_t out[LS_TLOG_HASH])
{
	const struct tree *t = arg;

	if (level > LV_MAX || ((index + 1) << level) > t->n)
		return LS_ERR_INVALID;
	memcpy(out, t->lv[level][index], LS_TLOG_HASH);
	return 0;
}

static void
leaf_data(uint64_t i, uint8_t out[LS_TLOG_LEAF_LEN])
{
	char s[48];
	int k = snprintf(s, sizeof(s), "interop leaf %" PRIu64, i);

	out[0] = LS_TLOG_LEAF_RECORD;
	crypto_hash_sha256(out + 1, (const uint8_t *)s, (size_t)k);
}

static int
tree_build(struct tree *t, uint64_t n)
{
	uint8_t d[LS_TLOG_LEAF_LEN];

	memset(t, 0, sizeof(*t));
	t->n = n;
	for (unsigned l = 0; l <= LV_MAX; l++) {
		size_t cnt = (size_t)(n >> l);
		if ((t->lv[l] = calloc(cnt ? cnt : 1, LS_TLOG_HASH)) == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < cnt; i++) {
			if (l == 0) {
				leaf_data(i, d);
				ls_tlog_leaf_hash(d, sizeof(d), t->lv[0][i]);
			} else {
				ls_tlog_node_hash(t->lv[l - 1][2 * i], t->lv[l - 1][2 * i + 1],
						  t->lv[l][i]);
			}
		}
	}
	return 0;
}

static void
tree_free(struct tree *t)
{
	for (unsigned l = 0; l <= LV_MAX; l++)
		free(t->lv[l]);
}

/* The sets of the test, the same as c2sp.py's: ascending, no repeats. */
static size_t
set_of(uint64_t n, const uint64_t *cand, size_t nc, uint64_t lo, uint64_t hi, uint64_t *out)
{
	size_t k = 0;

	for (uint64_t v = lo; v <= hi && v < n + 1; v++)
		for (size_t c = 0; c < nc; c++)
			if (cand[c] == v) {
				out[k++] = v;
				break;
			}
	return k;
}

static size_t
indices(uint64_t n, uint64_t *out) /* {0, 1, n/2, n-1} within [0, n) */
{
	uint64_t c[] = {0, 1, n / 2, n - 1};
	return set_of(n, c, 4, 0, n - 1, out);
}

static size_t
old_sizes(uint64_t n, uint64_t *out) /* {0, 1, 2, 3, n/2, n-1} within [0, n) */
{
	uint64_t c[] = {0, 1, 2, 3, n / 2, n - 1};
	return set_of(n, c, 6, 0, n - 1, out);
}

static size_t
checkpoint_sizes(uint64_t n, uint64_t *out) /* old sizes but 0, and n */
{
	uint64_t c[] = {1, 2, 3, n / 2, n - 1, n};
	return set_of(n, c, 6, 1, n, out);
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("tlog_tool: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return 1;
}

static int
put(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(buf, 1, len, f) != len) {
		if (f != NULL)
			fclose(f);
		return fail("%s: cannot write", path);
	}
	return fclose(f) == 0 ? 0 : fail("%s: cannot write", path);
}

static int
get(const char *dir, const char *name, uint8_t **buf, size_t *len)
{
	char path[4096];
	struct ls_err_ctx ctx = {{0}};
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((rc = ls_file_read(path, FILE_MAX, buf, len, &ctx)) != 0)
		return fail("%s", ls_err_msg(&ctx, rc));
	return 0;
}

struct keys {
	struct ls_vkey log, wit[2];
	uint8_t *log_sk, *wit_sk[2];
	size_t n_wit;
};

static int
seed_key(const char *hex, uint8_t pk[32], uint8_t **sk)
{
	uint8_t seed[32];

	if (hex == NULL || ls_unhex(hex, seed, 32) != 0)
		return fail("a seed is not 64 hex digits");
	if ((*sk = sodium_malloc(64)) == NULL)
		return fail("out of memory");
	crypto_sign_seed_keypair(pk, *sk, seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

static struct ls_note note; /* big: static */

/* The signed and cosigned checkpoint of size m into note. */
static int
make_checkpoint(const struct tree *t, const struct keys *k, uint64_t m, uint64_t ts)
{
	struct ls_checkpoint c;
	int rc;

	memset(&c, 0, sizeof(c));
	memset(&note, 0, sizeof(note));
	snprintf(c.origin, sizeof(c.origin), "%s", k->log.name);
	c.size = m;
	if ((rc = ls_tlog_root(m, tree_fn, (void *)t, c.root)) != 0)
		return rc;
	if ((note.body_len = ls_checkpoint_body(&c, note.body, sizeof(note.body))) == 0)
		return LS_ERR_TOO_BIG;
	if ((rc = ls_note_sign(&note, k->log.name, k->log_sk)) != 0)
		return rc;
	for (size_t w = 0; w < k->n_wit; w++)
		if ((rc = ls_cosig_add(&note, k->wit[w].name, k->wit_sk[w], ts)) != 0)
			return rc;
	return 0;
}

static char out[FILE_MAX];

static int
emit(const struct tree *t, const struct keys *k, uint64_t ts, const char *dir)
{
	static struct ls_tlog_proof p;
	static struct ls_addcp a;
	uint64_t set[8];
	size_t ns, len;
	char name[64], vk[LS_VKEY_MAX + 1];
	const char *vnames[] = {"witness.vkey", "witness2.vkey"};
	int rc;

	ls_vkey_format(&k->log, vk);
	strcat(vk, "\n");
	if (put(dir, "log.vkey", vk, strlen(vk)) != 0)
		return 1;
	for (size_t w = 0; w < k->n_wit; w++) {
		ls_vkey_format(&k->wit[w], vk);
		strcat(vk, "\n");
		if (put(dir, vnames[w], vk, strlen(vk)) != 0)
			return 1;
	}
	ns = checkpoint_sizes(t->n, set);
	for (size_t s = 0; s < ns; s++) {
		if ((rc = make_checkpoint(t, k, set[s], ts)) != 0)
			return fail("checkpoint %" PRIu64 ": %s", set[s], ls_strerror(rc));
		len = ls_note_format(&note, out, sizeof(out));
		snprintf(name, sizeof(name), "checkpoint.%" PRIu64, set[s]);
		if (len == 0 || put(dir, name, out, len) != 0 ||
		    (set[s] == t->n && put(dir, "checkpoint", out, len) != 0))
			return 1;
	}
	/* note now holds the size-n checkpoint (the last of the set) */
	ns = indices(t->n, set);
	for (size_t s = 0; s < ns; s++) {
		memset(&p, 0, sizeof(p));
		p.index = set[s];
		if (set[s] == 0)
			p.extra_len = (size_t)snprintf((char *)p.extra, sizeof(p.extra), "leaf 0");
		if ((rc = ls_tlog_inclusion(set[s], t->n, tree_fn, (void *)t, p.hashes, &p.n)) != 0)
			return fail("inclusion %" PRIu64 ": %s", set[s], ls_strerror(rc));
		p.cp = note;
		snprintf(name, sizeof(name), "proof.%" PRIu64 ".tlog-proof", set[s]);
		if ((len = ls_tlog_proof_format(&p, out, sizeof(out))) == 0 ||
		    put(dir, name, out, len) != 0)
			return 1;
	}
	ns = old_sizes(t->n, set);
	for (size_t s = 0; s < ns; s++) {
		memset(&a, 0, sizeof(a));
		a.old = set[s];
		if ((rc = ls_tlog_consistency(set[s], t->n, tree_fn, (void *)t, a.proof, &a.n)) !=
		    0)
			return fail("consistency %" PRIu64 ": %s", set[s], ls_strerror(rc));
		a.cp = note;
		snprintf(name, sizeof(name), "consistency.%" PRIu64, set[s]);
		if ((len = ls_addcp_format(&a, out, sizeof(out))) == 0 ||
		    put(dir, name, out, len) != 0)
			return 1;
	}
	return 0;
}

/* The note's checkpoint: its log signature, every cosignature, its size. */
static int
check_note(const char *what, const struct ls_note *n, const struct keys *k, uint64_t size,
	   uint8_t root[LS_TLOG_HASH])
{
	struct ls_checkpoint c;
	struct ls_err_ctx ctx = {{0}};
	uint64_t ts;
	int rc;

	if ((rc = ls_checkpoint_parse(n->body, n->body_len, &c, &ctx)) != 0)
		return fail("%s: %s", what, ls_err_msg(&ctx, rc));
	if (strcmp(c.origin, k->log.name) != 0)
		return fail("%s: origin '%s' is not the log's", what, c.origin);
	if ((rc = ls_note_verify(n, &k->log)) != 0)
		return fail("%s: the log signature: %s", what, ls_strerror(rc));
	for (size_t w = 0; w < k->n_wit; w++)
		if ((rc = ls_cosig_verify(n, &k->wit[w], &ts)) != 0)
			return fail("%s: the cosignature of %s: %s", what, k->wit[w].name,
				    ls_strerror(rc));
	if (c.size != size)
		return fail("%s: size %" PRIu64 ", wanted %" PRIu64, what, c.size, size);
	memcpy(root, c.root, LS_TLOG_HASH);
	return 0;
}

static int
same(const char *what, const uint8_t *file, size_t flen, const char *made, size_t mlen)
{
	if (mlen == 0 || mlen != flen || memcmp(file, made, flen) != 0)
		return fail("%s: not byte for byte what lib/note.c makes of it", what);
	return 0;
}

static int
check(const struct tree *t, const struct keys *k, const char *dir)
{
	static struct ls_tlog_proof p;
	static struct ls_addcp a;
	uint8_t proof[LS_TLOG_PROOF_MAX][LS_TLOG_HASH], root[LS_TLOG_HASH], want[LS_TLOG_HASH];
	uint8_t old[LS_TLOG_HASH], leaf[LS_TLOG_HASH], d[LS_TLOG_LEAF_LEN], *buf = NULL,
									    *buf2 = NULL;
	uint64_t set[8];
	size_t ns, len, len2, np, files = 0;
	char name[64];
	struct ls_err_ctx ctx;
	int rc, bad = 0;

	ns = checkpoint_sizes(t->n, set);
	for (size_t s = 0; s < ns && !bad; s++) {
		snprintf(name, sizeof(name), "checkpoint.%" PRIu64, set[s]);
		memset(&ctx, 0, sizeof(ctx));
		if ((bad = get(dir, name, &buf, &len)) != 0)
			break;
		if ((rc = ls_note_parse((char *)buf, len, &note, &ctx)) != 0)
			bad = fail("%s: %s", name, ls_err_msg(&ctx, rc));
		else if ((bad = check_note(name, &note, k, set[s], root)) == 0) {
			ls_tlog_root(set[s], tree_fn, (void *)t, want);
			if (memcmp(root, want, LS_TLOG_HASH) != 0)
				bad = fail("%s: not the root of the tree", name);
			else
				bad = same(name, buf, len, out,
					   ls_note_format(&note, out, sizeof(out)));
		}
		free(buf);
		buf = NULL;
		files++;
	}
	if (!bad && (bad = get(dir, "checkpoint", &buf, &len)) == 0) {
		snprintf(name, sizeof(name), "checkpoint.%" PRIu64, t->n);
		if ((bad = get(dir, name, &buf2, &len2)) == 0 &&
		    (len != len2 || memcmp(buf, buf2, len) != 0))
			bad = fail("checkpoint differs from %s", name);
		free(buf);
		free(buf2);
		buf = NULL;
	}
	ns = indices(t->n, set);
	for (size_t s = 0; s < ns && !bad; s++) {
		snprintf(name, sizeof(name), "proof.%" PRIu64 ".tlog-proof", set[s]);
		memset(&ctx, 0, sizeof(ctx));
		if ((bad = get(dir, name, &buf, &len)) != 0)
			break;
		leaf_data(set[s], d);
		ls_tlog_leaf_hash(d, sizeof(d), leaf);
		if ((rc = ls_tlog_proof_parse((char *)buf, len, &p, &ctx)) != 0)
			bad = fail("%s: %s", name, ls_err_msg(&ctx, rc));
		else if ((bad = check_note(name, &p.cp, k, t->n, root)) != 0)
			;
		else if (p.index != set[s] ||
			 !ls_tlog_verify_inclusion(p.index, p.c.size, leaf,
						   (const uint8_t(*)[LS_TLOG_HASH])p.hashes, p.n,
						   root))
			bad = fail("%s: the inclusion proof of leaf %" PRIu64 " does not verify",
				   name, set[s]);
		else if (ls_tlog_inclusion(set[s], t->n, tree_fn, (void *)t, proof, &np) != 0 ||
			 np != p.n || memcmp(proof, p.hashes, np * LS_TLOG_HASH) != 0)
			bad = fail("%s: not the proof lib/tlog.c makes", name);
		else
			bad = same(name, buf, len, out, ls_tlog_proof_format(&p, out, sizeof(out)));
		free(buf);
		buf = NULL;
		files++;
	}
	ns = old_sizes(t->n, set);
	for (size_t s = 0; s < ns && !bad; s++) {
		snprintf(name, sizeof(name), "consistency.%" PRIu64, set[s]);
		memset(&ctx, 0, sizeof(ctx));
		if ((bad = get(dir, name, &buf, &len)) != 0)
			break;
		ls_tlog_root(set[s], tree_fn, (void *)t, old);
		if ((rc = ls_addcp_parse((char *)buf, len, &a, &ctx)) != 0)
			bad = fail("%s: %s", name, ls_err_msg(&ctx, rc));
		else if ((bad = check_note(name, &a.cp, k, t->n, root)) != 0)
			;
		else if (a.old != set[s] ||
			 !ls_tlog_verify_consistency(a.old, t->n, old, root,
						     (const uint8_t(*)[LS_TLOG_HASH])a.proof, a.n))
			bad = fail("%s: the consistency proof from %" PRIu64 " does not verify",
				   name, set[s]);
		else if (ls_tlog_consistency(set[s], t->n, tree_fn, (void *)t, proof, &np) != 0 ||
			 np != a.n || memcmp(proof, a.proof, np * LS_TLOG_HASH) != 0)
			bad = fail("%s: not the proof lib/tlog.c makes", name);
		else
			bad = same(name, buf, len, out, ls_addcp_format(&a, out, sizeof(out)));
		free(buf);
		buf = NULL;
		files++;
	}
	if (!bad)
		printf("tlog_tool: %s: %zu files check (n = %" PRIu64 ")\n", dir, files, t->n);
	return bad ? 1 : 0;
}

static int
read_vkey(const char *path, struct ls_vkey *k)
{
	uint8_t *buf = NULL;
	size_t len;
	struct ls_err_ctx ctx = {{0}};
	int rc;

	if ((rc = ls_file_read(path, LS_VKEY_MAX, &buf, &len, &ctx)) != 0)
		return fail("%s", ls_err_msg(&ctx, rc));
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	rc = ls_vkey_parse((char *)buf, k, &ctx);
	free(buf);
	return rc != 0 ? fail("%s: %s", path, ls_err_msg(&ctx, rc)) : 0;
}

static int
usage(void)
{
	fputs("usage: tlog_tool emit --n N --log-seed HEX --wit-seed HEX --wit2-seed HEX "
	      "--origin O --wit-name W --wit2-name W --time T DIR\n"
	      "       tlog_tool check --n N --log-vkey FILE --witness-vkey FILE... DIR\n",
	      stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"n", required_argument, NULL, 'n'},
	    {"log-seed", required_argument, NULL, 'l'},
	    {"wit-seed", required_argument, NULL, 'w'},
	    {"wit2-seed", required_argument, NULL, 'x'},
	    {"origin", required_argument, NULL, 'o'},
	    {"wit-name", required_argument, NULL, 'a'},
	    {"wit2-name", required_argument, NULL, 'b'},
	    {"time", required_argument, NULL, 't'},
	    {"log-vkey", required_argument, NULL, 'L'},
	    {"witness-vkey", required_argument, NULL, 'W'},
	    {NULL, 0, NULL, 0},
	};
	const char *seed[3] = {NULL, NULL, NULL}, *names[3] = {NULL, NULL, NULL}, *cmd;
	const char *log_vkey = NULL, *wit_vkey[2] = {NULL, NULL};
	uint64_t n = 0, ts = 0;
	struct keys k;
	struct tree t;
	int c, rc = 0;
	size_t nw = 0;

	if (sodium_init() < 0 || argc < 2)
		return usage();
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'l': seed[0] = optarg; break;
		case 'w': seed[1] = optarg; break;
		case 'x': seed[2] = optarg; break;
		case 'o': names[0] = optarg; break;
		case 'a': names[1] = optarg; break;
		case 'b': names[2] = optarg; break;
		case 't': ts = strtoull(optarg, NULL, 10); break;
		case 'L': log_vkey = optarg; break;
		case 'W':
			if (nw == 2)
				return usage();
			wit_vkey[nw++] = optarg;
			break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || n == 0 || n > N_MAX)
		return usage();
	memset(&k, 0, sizeof(k));
	if (strcmp(cmd, "emit") == 0) {
		uint8_t pk[32];
		if (names[0] == NULL || names[1] == NULL || names[2] == NULL)
			return usage();
		if (seed_key(seed[0], pk, &k.log_sk) != 0 ||
		    ls_vkey_make(&k.log, names[0], LS_NOTE_ED25519, pk) != 0)
			return fail("bad log seed or origin");
		for (size_t w = 0; w < 2; w++)
			if (seed_key(seed[w + 1], pk, &k.wit_sk[w]) != 0 ||
			    ls_vkey_make(&k.wit[w], names[w + 1], LS_NOTE_COSIG, pk) != 0)
				return fail("bad witness seed or name");
		k.n_wit = 2;
	} else if (strcmp(cmd, "check") == 0) {
		if (log_vkey == NULL || read_vkey(log_vkey, &k.log) != 0)
			return log_vkey == NULL ? usage() : 1;
		for (size_t w = 0; w < nw; w++)
			if (read_vkey(wit_vkey[w], &k.wit[w]) != 0)
				return 1;
		k.n_wit = nw;
	} else {
		return usage();
	}
	if (tree_build(&t, n) != 0)
		return fail("out of memory");
	rc =
	    strcmp(cmd, "emit") == 0 ? emit(&t, &k, ts, argv[optind]) : check(&t, &k, argv[optind]);
	tree_free(&t);
	sodium_free(k.log_sk);
	sodium_free(k.wit_sk[0]);
	sodium_free(k.wit_sk[1]);
	return rc;
}
