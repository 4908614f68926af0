/*
 * test_note.c - the C2SP formats of lib/note.c: signed notes, verifier keys,
 * checkpoints, cosignature/v1, tlog-proof files and tlog-witness
 * add-checkpoint bodies. Published vectors: golang.org/x/mod's
 * sumdb/note/note_test.go (the PeterNeumann and EnochRoot keys, the signer
 * key and the exact signed note Go makes with it, its mangled keys and bad
 * messages) and transparency-dev/formats' note/note_cosigv1_test.go (a
 * type-0x01 key whose base64 holds a '+', a type-0x04 cosignature key, a
 * cosignature's timestamp). Then round trips, every parse error, and
 * verification with wrong keys, names, ids and tampered text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "err.h"
#include "note.h"
#include "tlog.h"
#include "util.h"

/* golang.org/x/mod, sumdb/note/note_test.go */
#define PETER_VKEY "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define ENOCH_VKEY "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
#define GO_TEXT                                                                                    \
	"If you think cryptography is the answer to your problem,\n"                               \
	"then you don't know what your problem is.\n"
#define PETER_SIG                                                                                  \
	"\xe2\x80\x94 PeterNeumann "                                                               \
	"x08go/ZJkuBS9UG/"                                                                         \
	"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="             \
	"\n"
#define ENOCH_SIG                                                                                  \
	"\xe2\x80\x94 EnochRoot "                                                                  \
	"rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"                                             \
	"5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="                                         \
	"\n"
/* transparency-dev/formats, note/note_cosigv1_test.go */
#define PLUS_VKEY  "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
#define COSIG_VKEY "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
#define COSIG_SIG_B64                                                                              \
	"ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/"                                               \
	"iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEB"                                         \
	"YJXORmnFBOBA=="

#define EM "\xe2\x80\x94 "

static struct ls_note N, M; /* big: static */
static char buf[LS_TLOG_PROOF_FILE_MAX + 4096];

static int
parse(const char *s, struct ls_err_ctx *ctx)
{
	return ls_note_parse(s, strlen(s), &N, ctx);
}

/* parse fails with rc and a message holding `what` */
static void
parse_fails(const char *s, int rc, const char *what)
{
	struct ls_err_ctx ctx = {{0}};
	int got = ls_note_parse(s, strlen(s), &N, &ctx);

	if (got != rc)
		fail_msg("note %.60s...: rc %d, wanted %d (%s)", s, got, rc, ctx.msg);
	if (what != NULL && strstr(ctx.msg, what) == NULL)
		fail_msg("note: message '%s' lacks '%s'", ctx.msg, what);
}

static void
vkey(const char *s, struct ls_vkey *k)
{
	struct ls_err_ctx ctx = {{0}};

	if (ls_vkey_parse(s, k, &ctx) != 0)
		fail_msg("vkey %s: %s", s, ctx.msg);
}

/* The Go signer key: base64(0x01 || seed) after the fourth '+'. */
static void
peter_keypair(uint8_t pk[32], uint8_t sk[64])
{
	const char *b64 = PETER_SKEY + strlen("PRIVATE+KEY+PeterNeumann+c74f20a3+");
	uint8_t raw[33];
	size_t got = 0;

	assert_int_equal(sodium_base642bin(raw, sizeof(raw), b64, strlen(b64), NULL, &got, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(got, 33);
	assert_int_equal(raw[0], 1);
	crypto_sign_seed_keypair(pk, sk, raw + 1);
}

static void
test_note_go_vkeys(void **state)
{
	struct ls_vkey k;
	char out[LS_VKEY_MAX];
	uint8_t pk[32], sk[64];

	(void)state;
	vkey(PETER_VKEY, &k);
	assert_string_equal(k.name, "PeterNeumann");
	assert_int_equal(k.type, LS_NOTE_ED25519);
	assert_memory_equal(k.id, "\xc7\x4f\x20\xa3", 4);
	ls_vkey_format(&k, out);
	assert_string_equal(out, PETER_VKEY);
	peter_keypair(pk, sk);
	assert_memory_equal(k.pk, pk, 32);
	vkey(ENOCH_VKEY, &k);
	assert_memory_equal(k.id, "\xaf\x0c\xfe\x78", 4);
	ls_vkey_format(&k, out);
	assert_string_equal(out, ENOCH_VKEY);
	vkey(PLUS_VKEY, &k); /* the key's base64 holds a '+' */
	assert_string_equal(k.name, "TEST");
	ls_vkey_format(&k, out);
	assert_string_equal(out, PLUS_VKEY);
	vkey(COSIG_VKEY, &k);
	assert_int_equal(k.type, LS_NOTE_COSIG);
	assert_memory_equal(k.id, "\xda\x77\xad\xe7", 4);
	ls_vkey_format(&k, out);
	assert_string_equal(out, COSIG_VKEY);
	/* an upper-case key id is the same id (Go parses it as hex) */
	vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k);
	/* ls_vkey_make gives the same key */
	assert_int_equal(ls_vkey_make(&k, "PeterNeumann", LS_NOTE_ED25519, pk), 0);
	ls_vkey_format(&k, out);
	assert_string_equal(out, PETER_VKEY);
	assert_int_equal(ls_vkey_make(&k, "Peter Neumann", LS_NOTE_ED25519, pk), LS_ERR_INVALID);
	assert_int_equal(ls_vkey_make(&k, "", LS_NOTE_ED25519, pk), LS_ERR_INVALID);
}

/* Go's TestNewVerifier: every proper substring and every byte + 1 of the
 * key is refused, and two keys with a recomputed id. */
static void
test_note_go_vkey_mangled(void **state)
{
	char b[sizeof(PETER_VKEY)], sub[sizeof(PETER_VKEY)];
	size_t n = strlen(PETER_VKEY);
	struct ls_vkey k;
	struct ls_err_ctx ctx;

	(void)state;
	for (size_t i = 0; i <= n; i++)
		for (size_t j = i + 1; j <= n; j++) {
			if (i == 0 && j == n)
				continue;
			memcpy(sub, PETER_VKEY + i, j - i);
			sub[j - i] = '\0';
			if (ls_vkey_parse(sub, &k, &ctx) == 0)
				fail_msg("vkey '%s' accepted", sub);
		}
	memcpy(b, PETER_VKEY, n + 1);
	for (size_t i = 0; i < n; i++) {
		b[i]++;
		if (ls_vkey_parse(b, &k, &ctx) == 0)
			fail_msg("vkey '%s' accepted", b);
		b[i]--;
	}
	assert_int_equal(
	    ls_vkey_parse(
		"PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &k,
		&ctx),
	    LS_ERR_MALFORMED);
	assert_int_equal(
	    ls_vkey_parse("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k,
			  &ctx),
	    LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "key type 0x65"));
	/* transparency-dev/formats' refusals */
	assert_int_equal(ls_vkey_parse("bananas.sigstore.dev+12344556", &k, &ctx),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_vkey_parse("rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!", &k, &ctx),
			 LS_ERR_MALFORMED);
	assert_int_equal(ls_vkey_parse("rekor.sigstore.dev+12345678+AwEB", &k, &ctx),
			 LS_ERR_MALFORMED);
	assert_int_equal(
	    ls_vkey_parse("x+NOT_A_NUMBER+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k, &ctx),
	    LS_ERR_MALFORMED);
	assert_int_equal(
	    ls_vkey_parse("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k,
			  &ctx),
	    LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "does not match"));
	assert_int_equal(
	    ls_vkey_parse("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k,
			  &ctx),
	    LS_ERR_MALFORMED);
	assert_int_equal(ls_vkey_parse("", &k, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(
	    ls_vkey_parse("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &k, &ctx),
	    LS_ERR_MALFORMED);
	assert_int_equal(ls_vkey_parse(PETER_VKEY "\n", &k, &ctx), /* a reader strips the newline */
			 LS_ERR_MALFORMED);
}

/* Go's TestSign: Ed25519 is deterministic, so our note is Go's byte for byte. */
static void
test_note_go_sign(void **state)
{
	uint8_t pk[32], sk[64];
	struct ls_vkey k;
	size_t len;

	(void)state;
	peter_keypair(pk, sk);
	memset(&N, 0, sizeof(N));
	memcpy(N.body, GO_TEXT, strlen(GO_TEXT));
	N.body_len = strlen(GO_TEXT);
	assert_int_equal(ls_note_sign(&N, "PeterNeumann", sk), 0);
	len = ls_note_format(&N, buf, sizeof(buf));
	assert_int_equal(len, strlen(GO_TEXT "\n" PETER_SIG));
	assert_string_equal(buf, GO_TEXT "\n" PETER_SIG);
	vkey(PETER_VKEY, &k);
	assert_int_equal(ls_note_verify(&N, &k), 0);
	/* signing again replaces the line: one line per key */
	assert_int_equal(ls_note_sign(&N, "PeterNeumann", sk), 0);
	assert_int_equal(N.n_sigs, 1);
	assert_int_equal(ls_note_sign(&N, "bad name", sk), LS_ERR_INVALID);
}

/* Go's TestOpen */
static void
test_note_go_open(void **state)
{
	struct ls_vkey peter, enoch, other;
	uint8_t pk[32], sk[64];

	(void)state;
	vkey(PETER_VKEY, &peter);
	vkey(ENOCH_VKEY, &enoch);
	assert_int_equal(parse(GO_TEXT "\n" PETER_SIG ENOCH_SIG, NULL), 0);
	assert_int_equal(N.body_len, strlen(GO_TEXT));
	assert_string_equal(N.body, GO_TEXT);
	assert_int_equal(N.n_sigs, 2);
	assert_string_equal(N.sigs[1].name, "EnochRoot");
	assert_int_equal(ls_note_verify(&N, &peter), 0);
	assert_int_equal(ls_note_verify(&N, &enoch), 0);
	assert_int_equal(ls_note_format(&N, buf, sizeof(buf)),
			 strlen(GO_TEXT "\n" PETER_SIG ENOCH_SIG));
	assert_string_equal(buf, GO_TEXT "\n" PETER_SIG ENOCH_SIG);
	/* a key the note does not name: not found (unknown signatures are ignored) */
	crypto_sign_keypair(pk, sk);
	assert_int_equal(ls_vkey_make(&other, "PeterNeumann", LS_NOTE_ED25519, pk), 0);
	assert_int_equal(ls_note_verify(&N, &other), LS_ERR_NOT_FOUND);
	/* the right name and id with another key: the signature fails */
	other = peter;
	other.pk[0] ^= 1;
	assert_int_equal(ls_note_verify(&N, &other), LS_ERR_SIGNATURE);
	/* a cosignature key of the same name and pk is another key */
	assert_int_equal(ls_vkey_make(&other, "PeterNeumann", LS_NOTE_COSIG, peter.pk), 0);
	assert_int_equal(ls_note_verify(&N, &other), LS_ERR_NOT_FOUND);
	assert_int_equal(ls_note_verify(&N, &(struct ls_vkey){.name = "PeterNeumann",
							      .type = LS_NOTE_COSIG,
							      .id = {0xc7, 0x4f, 0x20, 0xa3}}),
			 LS_ERR_NOT_FOUND);
	/* an invalid signature (Go: "ABCD" inserted at byte 60) */
	{
		char bad[512];
		snprintf(bad, sizeof(bad), "%s\n%.60sABCD%s", GO_TEXT, PETER_SIG, PETER_SIG + 60);
		assert_int_equal(parse(bad, NULL), 0);
		assert_int_equal(ls_note_verify(&N, &peter), LS_ERR_SIGNATURE);
	}
	/* misnamed, wrong hash: not peter's line */
	assert_int_equal(parse(GO_TEXT
			       "\n" EM "CarmenSandiego "
			       "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
			       "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
			       NULL),
			 0);
	assert_int_equal(ls_note_verify(&N, &peter), LS_ERR_NOT_FOUND);
	assert_int_equal(parse(GO_TEXT
			       "\n" EM "PeterNeumann "
			       "xxxxo/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
			       "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
			       NULL),
			 0);
	assert_int_equal(ls_note_verify(&N, &peter), LS_ERR_NOT_FOUND);
	/* tampered text */
	assert_int_equal(parse("If you think cryptographY is the answer to your problem,\n"
			       "then you don't know what your problem is.\n\n" PETER_SIG,
			       NULL),
			 0);
	assert_int_equal(ls_note_verify(&N, &peter), LS_ERR_SIGNATURE);
	/* Go's bad messages */
	parse_fails(GO_TEXT, LS_ERR_MALFORMED, "no blank line");
	parse_fails(GO_TEXT "\n", LS_ERR_MALFORMED, "no signature line");
	{
		char s[512];
		snprintf(s, sizeof(s), "%s\n%.*s", GO_TEXT, (int)strlen(PETER_SIG) - 1, PETER_SIG);
		parse_fails(s, LS_ERR_MALFORMED, "no newline");
	}
	parse_fails("\x01" GO_TEXT "\n" PETER_SIG, LS_ERR_MALFORMED, "byte 0");
	parse_fails("\xff" GO_TEXT "\n" PETER_SIG, LS_ERR_MALFORMED, "not UTF-8");
	parse_fails(GO_TEXT
		    "\n" EM "Bad Name "
		    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdn"
		    "gotpRZb6KE6RyyBwJnAM=\n",
		    LS_ERR_MALFORMED, "not base64");
	parse_fails(GO_TEXT "\n" PETER_SIG "Unexpected line.\n", LS_ERR_MALFORMED,
		    "not a signature line");
}

/* Go refuses 101 signatures; our bound is LS_NOTE_SIGS_MAX (at least the
 * 16 signed-note requires). */
static void
test_note_too_many_sigs(void **state)
{
	char *s = malloc(LS_NOTE_MAX + 1);
	size_t pos;

	(void)state;
	assert_non_null(s);
	pos = (size_t)snprintf(s, LS_NOTE_MAX, "%s\n", GO_TEXT);
	for (int i = 0; i < LS_NOTE_SIGS_MAX; i++)
		pos += (size_t)snprintf(s + pos, LS_NOTE_MAX - pos, "%s", PETER_SIG);
	assert_int_equal(ls_note_parse(s, pos, &N, NULL), 0);
	assert_int_equal(N.n_sigs, LS_NOTE_SIGS_MAX);
	pos += (size_t)snprintf(s + pos, LS_NOTE_MAX - pos, "%s", PETER_SIG);
	parse_fails(s, LS_ERR_TOO_BIG, "over 64 signatures");
	/* the whole note is bounded too */
	memset(s, 'a', LS_NOTE_MAX);
	s[LS_NOTE_MAX] = '\0';
	memcpy(s + LS_NOTE_MAX - 2 - strlen(PETER_SIG), "\n\n", 2);
	memcpy(s + LS_NOTE_MAX - strlen(PETER_SIG), PETER_SIG, strlen(PETER_SIG));
	assert_int_equal(ls_note_parse(s, LS_NOTE_MAX + 1, &N, NULL), LS_ERR_TOO_BIG);
	assert_int_equal(ls_note_parse(s, LS_NOTE_MAX, &N, NULL), LS_ERR_TOO_BIG); /* text */
	free(s);
}

/* The cosignature vector of transparency-dev/formats: its timestamp. */
static void
test_note_cosig_vector(void **state)
{
	(void)state;
	assert_int_equal(parse("origin\n1\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n" EM
			       "w " COSIG_SIG_B64 "\n",
			       NULL),
			 0);
	assert_int_equal(N.sigs[0].len, 4 + 8 + 64);
	assert_int_equal(ls_be64_get(N.sigs[0].sig + 4), 1727964367);
}

/* Text rules: UTF-8, no control character but newline, the last blank line
 * ends the text, names without Unicode spaces or '+'. */
static void
test_note_text_rules(void **state)
{
	uint8_t pk[32], sk[64];
	struct ls_vkey k;
	static const char *const bad_bytes[] = {
	    "a\rb\n",
	    "a\tb\n",
	    "a\x7f"
	    "\x01\n",
	    "\xc0\x80\n",
	    "\xed\xa0\x80\n",
	    "\xf4\x90\x80\x80\n",
	    "\xe2\x80\n",
	    "\x80\n",
	    "\xf8\x88\x80\x80\x80\n",
	};
	char s[256];

	(void)state;
	crypto_sign_keypair(pk, sk);
	/* a text with blank lines in it: the last blank line separates */
	memset(&N, 0, sizeof(N));
	strcpy(N.body, "one\n\ntwo\n\n");
	N.body_len = strlen(N.body);
	assert_int_equal(ls_note_sign(&N, "example.com/k", sk), 0);
	assert_true(ls_note_format(&N, buf, sizeof(buf)) > 0);
	assert_int_equal(parse(buf, NULL), 0);
	assert_string_equal(N.body, "one\n\ntwo\n\n");
	assert_int_equal(ls_vkey_make(&k, "example.com/k", LS_NOTE_ED25519, pk), 0);
	assert_int_equal(ls_note_verify(&N, &k), 0);
	/* DEL and non-ASCII text are allowed (only controls below 0x20 are not) */
	assert_int_equal(parse("caf\xc3\xa9 \x7f \xf0\x9f\xaa\xa8\n\n" PETER_SIG, NULL), 0);
	for (size_t i = 0; i < sizeof(bad_bytes) / sizeof(bad_bytes[0]); i++) {
		snprintf(s, sizeof(s), "%s\n" PETER_SIG, bad_bytes[i]);
		if (strchr(bad_bytes[i], '\x7f') != NULL)
			parse_fails(s, LS_ERR_MALFORMED, "byte 2");
		else
			parse_fails(s, LS_ERR_MALFORMED, "control character or not UTF-8");
	}
	assert_int_equal(ls_note_parse("a\n\0\n\n", 5, &N, NULL), LS_ERR_MALFORMED);
	parse_fails("\n\n" PETER_SIG, LS_ERR_MALFORMED, "empty text");
	parse_fails("", LS_ERR_MALFORMED, "no blank line");
	parse_fails("a\n\n" PETER_SIG "\n", LS_ERR_MALFORMED, "no signature line");
	parse_fails("a\n\n\xe2\x80\x94PeterNeumann x\n", LS_ERR_MALFORMED, "not a signature");
	parse_fails("a\n\n- PeterNeumann x\n", LS_ERR_MALFORMED, "line 3");
	parse_fails("a\n\n" EM "PeterNeumann\n", LS_ERR_MALFORMED, "without a signature");
	parse_fails("a\n\n" EM " AAAAAAA=\n", LS_ERR_MALFORMED, "bad key name");
	parse_fails("a\n\n" EM "a+b AAAAAAA=\n", LS_ERR_MALFORMED, "bad key name");
	parse_fails("a\n\n" EM "a\xc2\xa0"
		    "b AAAAAAA=\n",
		    LS_ERR_MALFORMED, "bad key name");
	parse_fails("a\n\n" EM "a\xe3\x80\x80"
		    "b AAAAAAA=\n",
		    LS_ERR_MALFORMED, "bad key name");
	parse_fails("a\n\n" EM "k AAAA\n", LS_ERR_MALFORMED, "not base64");     /* 3 bytes */
	parse_fails("a\n\n" EM "k AAAAAA==\n", LS_ERR_MALFORMED, "not base64"); /* 4 bytes */
	assert_int_equal(parse("a\n\n" EM "k AAAAAAA=\n", NULL), 0); /* 5 bytes: the least */
	parse_fails("a\n\n" EM "k AAAAAAA\n", LS_ERR_MALFORMED, "not base64");   /* padding */
	parse_fails("a\n\n" EM "k AAAAAAB=\n", LS_ERR_MALFORMED, "not base64");  /* bits */
	parse_fails("a\n\n" EM "k AAAA AAA=\n", LS_ERR_MALFORMED, "not base64"); /* space */
	/* bytes of 0x80 and over are no base64 digits (libsodium 1.0.18 takes them) */
	parse_fails("a\n\n" EM "k AAAA\xc9\xb2w=\n", LS_ERR_MALFORMED, "not base64");
	assert_int_equal(parse("a\n\n" EM "k AAAA//w=\n", NULL), 0); /* what it would be */
	parse_fails("a\n\n" EM "k AAA=AAA=\n", LS_ERR_MALFORMED, "not base64");
	parse_fails("a\n\n" EM "k AAAAAAA===\n", LS_ERR_MALFORMED, "not base64");
	parse_fails("a\n\n" EM "k AAAAAAA=\n" EM "k\n", LS_ERR_MALFORMED, "line 4");
	/* a signature of 128 bytes is taken, 129 is not */
	{
		uint8_t raw[LS_NOTE_SIG_MAX + 1] = {0};
		char b64[sodium_base64_ENCODED_LEN(LS_NOTE_SIG_MAX + 1,
						   sodium_base64_VARIANT_ORIGINAL)];
		char line[512];
		sodium_bin2base64(b64, sizeof(b64), raw, LS_NOTE_SIG_MAX,
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(line, sizeof(line), "a\n\n" EM "k %s\n", b64);
		assert_int_equal(parse(line, NULL), 0);
		sodium_bin2base64(b64, sizeof(b64), raw, LS_NOTE_SIG_MAX + 1,
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(line, sizeof(line), "a\n\n" EM "k %s\n", b64);
		parse_fails(line, LS_ERR_MALFORMED, "at most 128 bytes");
	}
	/* names */
	assert_true(ls_note_name_ok("example.com/log42"));
	assert_true(ls_note_name_ok("caf\xc3\xa9"));
	assert_true(ls_note_name_ok("oid/1.3.6.1.4.1"));
	assert_false(ls_note_name_ok(""));
	assert_false(ls_note_name_ok("a b"));
	assert_false(ls_note_name_ok("a+b"));
	assert_false(ls_note_name_ok("a\tb"));
	assert_false(ls_note_name_ok("a\nb"));
	assert_false(ls_note_name_ok("a\xc2\x85"
				     "b")); /* NEL */
	assert_false(ls_note_name_ok("a\xe2\x80\x83"
				     "b")); /* EM SPACE */
	assert_false(ls_note_name_ok("a\xe2\x80\xa8"
				     "b")); /* LINE SEPARATOR */
	assert_false(ls_note_name_ok("\xff"));
	memset(s, 'n', 127);
	s[127] = '\0';
	assert_true(ls_note_name_ok(s));
	s[127] = 'n';
	s[128] = '\0';
	assert_false(ls_note_name_ok(s));
}

/* A body of LS_NOTE_BODY_MAX bytes is taken, one more is not. */
static void
test_note_body_bound(void **state)
{
	static char s[LS_NOTE_BODY_MAX + 256];

	(void)state;
	memset(s, 'x', LS_NOTE_BODY_MAX - 1);
	s[LS_NOTE_BODY_MAX - 1] = '\n';
	strcpy(s + LS_NOTE_BODY_MAX, "\n" PETER_SIG);
	assert_int_equal(parse(s, NULL), 0);
	assert_int_equal(N.body_len, LS_NOTE_BODY_MAX);
	memset(s, 'x', LS_NOTE_BODY_MAX);
	s[LS_NOTE_BODY_MAX] = '\n';
	strcpy(s + LS_NOTE_BODY_MAX + 1, "\n" PETER_SIG);
	parse_fails(s, LS_ERR_TOO_BIG, "text over 1024 bytes");
	/* format refuses a buffer too small, never writes past it */
	assert_int_equal(parse(GO_TEXT "\n" PETER_SIG, NULL), 0);
	for (size_t cap = 0; cap <= strlen(GO_TEXT "\n" PETER_SIG); cap++) {
		memset(buf, 0x55, sizeof(buf));
		assert_int_equal(ls_note_format(&N, buf, cap), 0);
		assert_int_equal((unsigned char)buf[cap], 0x55);
	}
	assert_int_equal(ls_note_format(&N, buf, strlen(GO_TEXT "\n" PETER_SIG) + 1),
			 strlen(GO_TEXT "\n" PETER_SIG));
}

static void
make_checkpoint(struct ls_note *n, const char *origin, uint64_t size, const uint8_t root[32],
		const uint8_t sk[64])
{
	struct ls_checkpoint c;

	memset(&c, 0, sizeof(c));
	memset(n, 0, sizeof(*n));
	strcpy(c.origin, origin);
	c.size = size;
	memcpy(c.root, root, 32);
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	assert_true(n->body_len > 0);
	assert_int_equal(ls_note_sign(n, origin, sk), 0);
}

static void
test_note_checkpoint(void **state)
{
	struct ls_checkpoint c;
	struct ls_err_ctx ctx;
	uint8_t root[32];
	static const struct {
		const char *body;
		const char *what;
	} bad[] = {
	    {"", "line 1"},
	    {"\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 1"},
	    {"o\n", "line 2"},
	    {"o\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n00\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n+1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n1 \nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n18446744073709551616\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "line 2"},
	    {"o\n1\n", "line 3"},
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", "line 3"},       /* 31 bytes */
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "line 3"},       /* 33 bytes */
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", "line 3"},       /* bits */
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", "line 3"},        /* padding */
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\xc9\xb2w=\n", "line 3"}, /* 0x80+ */
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "line 3"},
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n", "empty extension"},
	    {"o\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next", "no newline"},
	    {"o\r\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "byte 1"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ctx, 0, sizeof(ctx));
		int rc = ls_checkpoint_parse(bad[i].body, strlen(bad[i].body), &c, &ctx);
		if (rc != LS_ERR_MALFORMED || strstr(ctx.msg, bad[i].what) == NULL)
			fail_msg("checkpoint %zu: rc %d, '%s' (wanted '%s')", i, rc, ctx.msg,
				 bad[i].what);
	}
	/* the C2SP example; extension lines; size 0 and 2^64 - 1 */
	static const char ex[] = "example.com/behind-the-sofa\n20852163\n"
				 "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
	assert_int_equal(ls_checkpoint_parse(ex, strlen(ex), &c, NULL), 0);
	assert_string_equal(c.origin, "example.com/behind-the-sofa");
	assert_int_equal(c.size, 20852163);
	assert_int_equal(ls_checkpoint_body(&c, buf, sizeof(buf)), strlen(ex));
	assert_string_equal(buf, ex);
	for (size_t cap = 0; cap <= strlen(ex); cap++)
		assert_int_equal(ls_checkpoint_body(&c, buf, cap), 0);
	static const char ext[] = "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nx y\nz\n";
	assert_int_equal(ls_checkpoint_parse(ext, strlen(ext), &c, NULL), 0);
	assert_int_equal(c.size, 0);
	ls_tlog_empty_root(root);
	assert_memory_equal(c.root, root, 32);
	static const char mx[] =
	    "o\n18446744073709551615\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	assert_int_equal(ls_checkpoint_parse(mx, strlen(mx), &c, NULL), 0);
	assert_int_equal(c.size, UINT64_MAX);
	/* the origin need not be a key name */
	static const char sp[] = "a log with spaces+plus\n1\n"
				 "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
	assert_int_equal(ls_checkpoint_parse(sp, strlen(sp), &c, NULL), 0);
	assert_string_equal(c.origin, "a log with spaces+plus");
	/* an origin of 127 bytes is taken, 128 is not */
	{
		char o[200];
		memset(o, 'o', 127);
		strcpy(o + 127, "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
		assert_int_equal(ls_checkpoint_parse(o, strlen(o), &c, NULL), 0);
		memset(o, 'o', 128);
		strcpy(o + 128, "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
		assert_int_equal(ls_checkpoint_parse(o, strlen(o), &c, NULL), LS_ERR_MALFORMED);
	}
	{
		static char big[LS_NOTE_BODY_MAX + 2];
		memset(big, 'x', sizeof(big));
		assert_int_equal(ls_checkpoint_parse(big, sizeof(big), &c, NULL), LS_ERR_TOO_BIG);
	}
}

/* cosignature/v1: the message, the timestamp, wrong keys, tampering. */
static void
test_note_cosig(void **state)
{
	uint8_t lpk[32], lsk[64], wpk[32], wsk[64], w2pk[32], w2sk[64], root[32];
	struct ls_vkey lk, wk, w2k, k;
	uint64_t ts = 0;
	uint8_t msg[LS_NOTE_BODY_MAX + 64], sig[64];
	size_t ml;

	(void)state;
	crypto_sign_keypair(lpk, lsk);
	crypto_sign_keypair(wpk, wsk);
	crypto_sign_keypair(w2pk, w2sk);
	randombytes_buf(root, sizeof(root));
	assert_int_equal(ls_vkey_make(&lk, "example.com/log", LS_NOTE_ED25519, lpk), 0);
	assert_int_equal(ls_vkey_make(&wk, "witness.example/w1", LS_NOTE_COSIG, wpk), 0);
	assert_int_equal(ls_vkey_make(&w2k, "witness.example/w2", LS_NOTE_COSIG, w2pk), 0);
	make_checkpoint(&N, "example.com/log", 20852163, root, lsk);
	assert_int_equal(ls_cosig_add(&N, "witness.example/w1", wsk, 1679315147), 0);
	assert_int_equal(ls_cosig_add(&N, "witness.example/w2", w2sk, 1679315150), 0);
	assert_int_equal(N.n_sigs, 3);
	assert_int_equal(ls_note_verify(&N, &lk), 0);
	assert_int_equal(ls_cosig_verify(&N, &wk, &ts), 0);
	assert_int_equal(ts, 1679315147);
	assert_int_equal(ls_cosig_verify(&N, &w2k, &ts), 0);
	assert_int_equal(ts, 1679315150);
	/* the signature is ts (big-endian) || Ed25519 over the spec's message */
	const struct ls_note_sig *s = &N.sigs[1];
	assert_int_equal(s->len, 4 + 8 + 64);
	assert_memory_equal(s->sig, wk.id, 4);
	assert_int_equal(ls_be64_get(s->sig + 4), 1679315147);
	ml = (size_t)snprintf((char *)msg, sizeof(msg), "cosignature/v1\ntime 1679315147\n%s",
			      N.body);
	assert_int_equal(crypto_sign_verify_detached(s->sig + 12, msg, ml, wpk), 0);
	/* a log key is not a witness key and the reverse */
	assert_int_equal(ls_cosig_verify(&N, &lk, &ts), LS_ERR_NOT_FOUND);
	assert_int_equal(ls_note_verify(&N, &wk), LS_ERR_NOT_FOUND);
	/* the same pk under the log key's type: another id, not found */
	assert_int_equal(ls_vkey_make(&k, "witness.example/w1", LS_NOTE_ED25519, wpk), 0);
	assert_int_equal(ls_note_verify(&N, &k), LS_ERR_NOT_FOUND);
	/* another name: not found; the right name and id but another key: bad */
	assert_int_equal(ls_vkey_make(&k, "witness.example/w3", LS_NOTE_COSIG, wpk), 0);
	assert_int_equal(ls_cosig_verify(&N, &k, &ts), LS_ERR_NOT_FOUND);
	k = wk;
	k.pk[31] ^= 1;
	assert_int_equal(ls_cosig_verify(&N, &k, &ts), LS_ERR_SIGNATURE);
	/* a changed timestamp */
	M = N;
	M.sigs[1].sig[11] ^= 1;
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), LS_ERR_SIGNATURE);
	/* a timestamp over 2^63 - 1, validly signed by hand: refused */
	M = N;
	ls_be64_put(M.sigs[1].sig + 4, (uint64_t)INT64_MAX + 1);
	ml = (size_t)snprintf((char *)msg, sizeof(msg), "cosignature/v1\ntime %llu\n%s",
			      (unsigned long long)INT64_MAX + 1, N.body);
	crypto_sign_detached(M.sigs[1].sig + 12, NULL, msg, ml, wsk);
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), LS_ERR_SIGNATURE);
	ls_be64_put(M.sigs[1].sig + 4, (uint64_t)INT64_MAX);
	ml = (size_t)snprintf((char *)msg, sizeof(msg), "cosignature/v1\ntime %llu\n%s",
			      (unsigned long long)INT64_MAX, N.body);
	crypto_sign_detached(M.sigs[1].sig + 12, NULL, msg, ml, wsk);
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), 0);
	assert_int_equal(ls_cosig_add(&M, "witness.example/w1", wsk, (uint64_t)INT64_MAX + 1),
			 LS_ERR_INVALID);
	assert_int_equal(ls_cosig_add(&M, "witness.example/w1", wsk, (uint64_t)INT64_MAX), 0);
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), 0);
	assert_int_equal(ts, (uint64_t)INT64_MAX);
	/* a cosignature of the wrong length */
	M = N;
	M.sigs[1].len--;
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), LS_ERR_SIGNATURE);
	/* the body: every line signed, extension lines included */
	M = N;
	M.body[0] ^= 0x20;
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), LS_ERR_SIGNATURE);
	assert_int_equal(ls_note_verify(&M, &lk), LS_ERR_SIGNATURE);
	M = N;
	strcpy(M.body + M.body_len, "ext\n");
	M.body_len += 4;
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), LS_ERR_SIGNATURE);
	/* a second cosignature by w1 replaces its line */
	M = N;
	assert_int_equal(ls_cosig_add(&M, "witness.example/w1", wsk, 1700000000), 0);
	assert_int_equal(M.n_sigs, 3);
	assert_int_equal(ls_cosig_verify(&M, &wk, &ts), 0);
	assert_int_equal(ts, 1700000000);
	/* the text form round-trips and verifies alike */
	assert_true(ls_note_format(&N, buf, sizeof(buf)) > 0);
	assert_int_equal(ls_note_parse(buf, strlen(buf), &M, NULL), 0);
	assert_int_equal(ls_cosig_verify(&M, &w2k, &ts), 0);
	assert_int_equal(ls_note_format(&M, (char *)msg, sizeof(msg)), strlen(buf));
	assert_string_equal((char *)msg, buf);
	/* a log signature made by hand matches ls_note_sign */
	crypto_sign_detached(sig, NULL, (const uint8_t *)N.body, N.body_len, lsk);
	assert_memory_equal(N.sigs[0].sig + 4, sig, 64);
	/* the 64-line bound */
	M = N;
	while (M.n_sigs < LS_NOTE_SIGS_MAX) {
		char name[32];
		snprintf(name, sizeof(name), "w/%zu", M.n_sigs);
		assert_int_equal(ls_cosig_add(&M, name, wsk, 1), 0);
	}
	assert_int_equal(ls_cosig_add(&M, "w/extra", wsk, 1), LS_ERR_TOO_BIG);
	assert_int_equal(ls_cosig_add(&M, "w/5", wsk, 2), 0); /* a replacement still fits */
	assert_int_equal(ls_cosig_add(&M, "bad name", wsk, 2), LS_ERR_INVALID);
}

/* A witness's response body: signature lines appended to a note. */
static void
test_note_sig_lines(void **state)
{
	uint8_t lpk[32], lsk[64], wpk[32], wsk[64], root[32] = {1};
	struct ls_vkey wk;
	char line[256];
	size_t len;
	uint64_t ts;
	struct ls_err_ctx ctx;

	(void)state;
	crypto_sign_keypair(lpk, lsk);
	crypto_sign_keypair(wpk, wsk);
	assert_int_equal(ls_vkey_make(&wk, "w.example/1", LS_NOTE_COSIG, wpk), 0);
	make_checkpoint(&N, "log.example", 5, root, lsk);
	M = N;
	assert_int_equal(ls_cosig_add(&M, "w.example/1", wsk, 77), 0);
	len = ls_note_sig_line(&M.sigs[1], line, sizeof(line));
	assert_true(len > 0 && line[len - 1] == '\n');
	assert_int_equal(memcmp(line, EM "w.example/1 ", strlen(EM "w.example/1 ")), 0);
	assert_int_equal(ls_note_sig_line(&M.sigs[1], line, len), 0);
	assert_int_equal(ls_note_sig_line(&M.sigs[1], line, sizeof(line)), len);
	assert_int_equal(ls_note_sig_lines_parse(line, len, &N, NULL), 0);
	assert_int_equal(N.n_sigs, 2);
	assert_int_equal(ls_cosig_verify(&N, &wk, &ts), 0);
	assert_int_equal(ts, 77);
	/* two lines at once; errors */
	char two[512];
	snprintf(two, sizeof(two), "%s%s", line, line);
	assert_int_equal(ls_note_sig_lines_parse(two, strlen(two), &N, NULL), 0);
	assert_int_equal(N.n_sigs, 4);
	assert_int_equal(ls_note_sig_lines_parse("", 0, &N, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(ls_note_sig_lines_parse(line, len - 1, &N, &ctx), LS_ERR_MALFORMED);
	assert_non_null(strstr(ctx.msg, "no newline"));
	assert_int_equal(ls_note_sig_lines_parse("\x01\n", 2, &N, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(ls_note_sig_lines_parse("hello\n", 6, &N, &ctx), LS_ERR_MALFORMED);
	assert_int_equal(ls_note_sig_lines_parse("\n", 1, &N, &ctx), LS_ERR_MALFORMED);
	while (N.n_sigs < LS_NOTE_SIGS_MAX)
		assert_int_equal(ls_note_sig_lines_parse(line, len, &N, NULL), 0);
	assert_int_equal(ls_note_sig_lines_parse(line, len, &N, &ctx), LS_ERR_TOO_BIG);
	static char big[LS_NOTE_MAX + 1];
	assert_int_equal(ls_note_sig_lines_parse(big, sizeof(big), &N, &ctx), LS_ERR_TOO_BIG);
}

static void
proof_parse_fails(const char *s, int rc, const char *what)
{
	static struct ls_tlog_proof p;
	struct ls_err_ctx ctx = {{0}};
	int got = ls_tlog_proof_parse(s, strlen(s), &p, &ctx);

	if (got != rc || (what != NULL && strstr(ctx.msg, what) == NULL))
		fail_msg("proof '%.50s': rc %d '%s', wanted %d '%s'", s, got, ctx.msg, rc, what);
}

static void
addcp_parse_fails(const char *s, int rc, const char *what)
{
	static struct ls_addcp a;
	struct ls_err_ctx ctx = {{0}};
	int got = ls_addcp_parse(s, strlen(s), &a, &ctx);

	if (got != rc || (what != NULL && strstr(ctx.msg, what) == NULL))
		fail_msg("add-checkpoint '%.50s': rc %d '%s', wanted %d '%s'", s, got, ctx.msg, rc,
			 what);
}

#define CP_TEXT                                                                                    \
	"example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n" EM        \
	"example.com/fancylog AAAAAAA=\n"
#define HASH_LINE "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"

static void
test_note_tlog_proof(void **state)
{
	static struct ls_tlog_proof p, q;
	uint8_t lpk[32], lsk[64], wpk[32], wsk[64];
	struct ls_vkey lk, wk;
	uint64_t ts;
	size_t len;
	char big[LS_TLOG_PROOF_MAX * 45 + 512];

	(void)state;
	crypto_sign_keypair(lpk, lsk);
	crypto_sign_keypair(wpk, wsk);
	assert_int_equal(ls_vkey_make(&lk, "example.com/fancylog", LS_NOTE_ED25519, lpk), 0);
	assert_int_equal(ls_vkey_make(&wk, "witness1.example", LS_NOTE_COSIG, wpk), 0);
	memset(&p, 0, sizeof(p));
	p.index = 73894;
	p.n = 5;
	for (size_t i = 0; i < p.n; i++)
		memset(p.hashes[i], (int)i + 1, 32);
	memcpy(p.extra, "age-v1.2.1-darwin-arm64.tar.gz", 30);
	p.extra_len = 30;
	{
		uint8_t root[32];
		memset(root, 9, 32);
		make_checkpoint(&p.cp, "example.com/fancylog", 109482, root, lsk);
	}
	assert_int_equal(ls_cosig_add(&p.cp, "witness1.example", wsk, 1234), 0);
	len = ls_tlog_proof_format(&p, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(
	    memcmp(buf,
		   "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQu"
		   "dGFyLmd6\nindex 73894\nAQEB",
		   strlen("c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQu"
			  "dGFyLmd6\nindex 73894\nAQEB")),
	    0);
	assert_int_equal(ls_tlog_proof_parse(buf, len, &q, NULL), 0);
	assert_int_equal(q.index, 73894);
	assert_int_equal(q.extra_len, 30);
	assert_memory_equal(q.extra, p.extra, 30);
	assert_int_equal(q.n, 5);
	assert_memory_equal(q.hashes, p.hashes, 5 * 32);
	assert_string_equal(q.c.origin, "example.com/fancylog");
	assert_int_equal(q.c.size, 109482);
	assert_int_equal(ls_note_verify(&q.cp, &lk), 0);
	assert_int_equal(ls_cosig_verify(&q.cp, &wk, &ts), 0);
	assert_int_equal(ts, 1234);
	assert_int_equal(ls_tlog_proof_format(&q, big, sizeof(big)), len);
	assert_memory_equal(big, buf, len);
	for (size_t cap = 0; cap < len + 1; cap += 7)
		assert_int_equal(ls_tlog_proof_format(&q, big, cap), 0);
	/* no extra, no hashes (a one-leaf tree) */
	q.extra_len = 0;
	q.n = 0;
	q.index = 0;
	len = ls_tlog_proof_format(&q, buf, sizeof(buf));
	assert_int_equal(
	    memcmp(buf, "c2sp.org/tlog-proof@v1\nindex 0\n\nexample.com/fancylog\n",
		   strlen("c2sp.org/tlog-proof@v1\nindex 0\n\nexample.com/fancylog\n")),
	    0);
	assert_int_equal(ls_tlog_proof_parse(buf, len, &p, NULL), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.extra_len, 0);
	/* the C2SP example's shape */
	assert_int_equal(
	    ls_tlog_proof_parse(
		"c2sp.org/tlog-proof@v1\nindex 73894\n" HASH_LINE HASH_LINE "\n" CP_TEXT,
		strlen("c2sp.org/tlog-proof@v1\nindex 73894\n" HASH_LINE HASH_LINE "\n" CP_TEXT),
		&p, NULL),
	    0);
	assert_int_equal(p.n, 2);
	/* errors */
	proof_parse_fails("", LS_ERR_MALFORMED, "line 1");
	proof_parse_fails("c2sp.org/tlog-proof@v2\nindex 1\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "line 1");
	proof_parse_fails("c2sp.org/tlog-proof@v1\n", LS_ERR_MALFORMED, "no index line");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 01\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "line 2");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex -1\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "line 2");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex \n\n" CP_TEXT, LS_ERR_MALFORMED, "line 2");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 18446744073709551616\n\n" CP_TEXT,
			  LS_ERR_MALFORMED, "line 2");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "extra data");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nextra AA==\n", LS_ERR_MALFORMED,
			  "no index line");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nextra AA==\nextra AA==\nindex 1\n\n" CP_TEXT,
			  LS_ERR_MALFORMED, "line 3");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 1\n" HASH_LINE, LS_ERR_MALFORMED,
			  "no blank line");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "line 3: not base64");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 1\n\n", LS_ERR_MALFORMED,
			  "no blank line before signatures");
	proof_parse_fails("c2sp.org/tlog-proof@v1\nindex 1\n\nbad\n\n" EM "k AAAAAAA=\n",
			  LS_ERR_MALFORMED, "checkpoint line 2");
	proof_parse_fails("c2sp.org/tlog-proof@v1\r\nindex 1\n\n" CP_TEXT, LS_ERR_MALFORMED,
			  "byte 22");
	{
		uint8_t raw[LS_NOTE_SIG_MAX + 1] = {0};
		char b64[sodium_base64_ENCODED_LEN(LS_NOTE_SIG_MAX + 1,
						   sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
				  sodium_base64_VARIANT_ORIGINAL);
		snprintf(big, sizeof(big), "c2sp.org/tlog-proof@v1\nextra %s\nindex 1\n\n" CP_TEXT,
			 b64);
		proof_parse_fails(big, LS_ERR_MALFORMED, "extra data");
	}
	/* 64 hashes are taken, 65 are not */
	len = (size_t)snprintf(big, sizeof(big), "c2sp.org/tlog-proof@v1\nindex 1\n");
	for (int i = 0; i < LS_TLOG_PROOF_MAX; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len, HASH_LINE);
	snprintf(big + len, sizeof(big) - len, "\n" CP_TEXT);
	assert_int_equal(ls_tlog_proof_parse(big, strlen(big), &p, NULL), 0);
	assert_int_equal(p.n, LS_TLOG_PROOF_MAX);
	snprintf(big + len, sizeof(big) - len, HASH_LINE "\n" CP_TEXT);
	proof_parse_fails(big, LS_ERR_TOO_BIG, "over 64 proof hashes");
	/* the whole file is bounded */
	{
		char *huge = malloc(LS_TLOG_PROOF_FILE_MAX + 2);
		assert_non_null(huge);
		memset(huge, 'a', LS_TLOG_PROOF_FILE_MAX + 1);
		assert_int_equal(ls_tlog_proof_parse(huge, LS_TLOG_PROOF_FILE_MAX + 1, &p, NULL),
				 LS_ERR_TOO_BIG);
		assert_int_equal(
		    ls_addcp_parse(huge, LS_TLOG_PROOF_FILE_MAX + 1, &(struct ls_addcp){0}, NULL),
		    LS_ERR_TOO_BIG);
		free(huge);
	}
	/* formatting refuses what it cannot write */
	p.n = LS_TLOG_PROOF_MAX + 1;
	assert_int_equal(ls_tlog_proof_format(&p, buf, sizeof(buf)), 0);
}

static void
test_note_addcp(void **state)
{
	static struct ls_addcp a, b;
	uint8_t lpk[32], lsk[64], root[32] = {7};
	size_t len;
	char big[LS_TLOG_PROOF_MAX * 45 + 512];

	(void)state;
	crypto_sign_keypair(lpk, lsk);
	memset(&a, 0, sizeof(a));
	a.old = 20852014;
	a.n = 4;
	for (size_t i = 0; i < a.n; i++)
		memset(a.proof[i], (int)(0x10 + i), 32);
	make_checkpoint(&a.cp, "example.com/behind-the-sofa", 20852163, root, lsk);
	len = ls_addcp_format(&a, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(memcmp(buf, "old 20852014\nEBAQ", 17), 0);
	assert_non_null(strstr(buf, "\n\nexample.com/behind-the-sofa\n20852163\n"));
	assert_int_equal(ls_addcp_parse(buf, len, &b, NULL), 0);
	assert_int_equal(b.old, 20852014);
	assert_int_equal(b.n, 4);
	assert_memory_equal(b.proof, a.proof, 4 * 32);
	assert_int_equal(b.c.size, 20852163);
	assert_int_equal(ls_addcp_format(&b, big, sizeof(big)), len);
	assert_memory_equal(big, buf, len);
	/* old 0, no proof */
	b.old = 0;
	b.n = 0;
	len = ls_addcp_format(&b, buf, sizeof(buf));
	assert_int_equal(memcmp(buf, "old 0\n\nexample.com", 18), 0);
	assert_int_equal(ls_addcp_parse(buf, len, &a, NULL), 0);
	/* errors */
	addcp_parse_fails("", LS_ERR_MALFORMED, "line 1");
	addcp_parse_fails("old 01\n\n" CP_TEXT, LS_ERR_MALFORMED, "line 1");
	addcp_parse_fails("old\n\n" CP_TEXT, LS_ERR_MALFORMED, "line 1");
	addcp_parse_fails("old  1\n\n" CP_TEXT, LS_ERR_MALFORMED, "line 1");
	addcp_parse_fails("Old 1\n\n" CP_TEXT, LS_ERR_MALFORMED, "line 1");
	addcp_parse_fails("old 1\n" HASH_LINE, LS_ERR_MALFORMED, "no blank line");
	addcp_parse_fails("old 1\n" HASH_LINE "x\n\n" CP_TEXT, LS_ERR_MALFORMED, "line 3");
	addcp_parse_fails("old 109483\n" HASH_LINE "\n" CP_TEXT, LS_ERR_MALFORMED,
			  "over the checkpoint's size");
	addcp_parse_fails("old 0\n" HASH_LINE "\n" CP_TEXT, LS_ERR_MALFORMED, "must be empty");
	addcp_parse_fails("old 1\n\x01\n\n" CP_TEXT, LS_ERR_MALFORMED, "byte 6");
	assert_int_equal(
	    ls_addcp_parse("old 109482\n\n" CP_TEXT, strlen("old 109482\n\n" CP_TEXT), &a, NULL),
	    0);
	/* 63 proof lines are taken, 64 are not (tlog-witness) */
	len = (size_t)snprintf(big, sizeof(big), "old 5\n");
	for (int i = 0; i < LS_ADDCP_PROOF_MAX; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len, HASH_LINE);
	snprintf(big + len, sizeof(big) - len, "\n" CP_TEXT);
	assert_int_equal(ls_addcp_parse(big, strlen(big), &a, NULL), 0);
	assert_int_equal(a.n, 63);
	snprintf(big + len, sizeof(big) - len, HASH_LINE "\n" CP_TEXT);
	addcp_parse_fails(big, LS_ERR_TOO_BIG, "over 63 proof hashes");
	a.n = 64;
	assert_int_equal(ls_addcp_format(&a, buf, sizeof(buf)), 0);
	a.n = 63;
	assert_true(ls_addcp_format(&a, buf, sizeof(buf)) > 0);
	for (size_t cap = 0; cap < 40; cap++)
		assert_int_equal(ls_addcp_format(&a, buf, cap), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_note_go_vkeys),      cmocka_unit_test(test_note_go_vkey_mangled),
	    cmocka_unit_test(test_note_go_sign),       cmocka_unit_test(test_note_go_open),
	    cmocka_unit_test(test_note_too_many_sigs), cmocka_unit_test(test_note_cosig_vector),
	    cmocka_unit_test(test_note_text_rules),    cmocka_unit_test(test_note_body_bound),
	    cmocka_unit_test(test_note_checkpoint),    cmocka_unit_test(test_note_cosig),
	    cmocka_unit_test(test_note_sig_lines),     cmocka_unit_test(test_note_tlog_proof),
	    cmocka_unit_test(test_note_addcp),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
