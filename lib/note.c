/*
 * note.c - C2SP signed notes, checkpoints, cosignatures, proof files and
 * add-checkpoint requests (note.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "note.h"
#include "util.h"

#define EMDASH         "\xe2\x80\x94 " /* U+2014 and a space: a signature line's start */
#define COSIG_PREFIX   "cosignature/v1\ntime "
#define COSIG_TIME_MAX INT64_MAX /* tlog-cosignature: a timestamp is at most 2^63 - 1 */

/* The code point at s[*i] (strict UTF-8: no overlong form, no surrogate,
 * at most U+10FFFF), advancing *i; false when the bytes are not UTF-8. */
static bool
utf8_next(const unsigned char *s, size_t n, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return true;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		return false;
	}
	if (n - *i < len)
		return false;
	for (size_t k = 1; k < len; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return false;
		v = v << 6 | (s[*i + k] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return false;
	*cp = v;
	*i += len;
	return true;
}

/* Unicode's White_Space property (what a key name may not hold). */
static bool
uspace(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
	       c == 0x205f || c == 0x3000;
}

/* Bytes of a key name: non-empty, shorter than LS_NOTE_NAME_MAX, UTF-8,
 * no control character, no Unicode space, no '+' (signed-note). */
static bool
name_ok(const char *name, size_t n)
{
	size_t i = 0;
	uint32_t c;

	if (n == 0 || n >= LS_NOTE_NAME_MAX)
		return false;
	while (i < n) {
		if (!utf8_next((const unsigned char *)name, n, &i, &c))
			return false;
		if (c < 0x20 || c == '+' || uspace(c))
			return false;
	}
	return true;
}

bool
ls_note_name_ok(const char *name)
{
	return name_ok(name, strlen(name));
}

static void
key_id(const char *name, uint8_t type, const uint8_t pk[32], uint8_t id[4])
{
	crypto_hash_sha256_state st;
	uint8_t h[32];
	const uint8_t nl = 0x0a;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, &nl, 1);
	crypto_hash_sha256_update(&st, &type, 1);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, 4);
}

int
ls_vkey_make(struct ls_vkey *k, const char *name, uint8_t type, const uint8_t pk[32])
{
	memset(k, 0, sizeof(*k));
	if (!ls_note_name_ok(name))
		return LS_ERR_INVALID;
	memcpy(k->name, name, strlen(name) + 1);
	k->type = type;
	memcpy(k->pk, pk, 32);
	key_id(name, type, pk, k->id);
	return 0;
}

void
ls_vkey_format(const struct ls_vkey *k, char out[LS_VKEY_MAX])
{
	uint8_t raw[33];
	char b64[sodium_base64_ENCODED_LEN(33, sodium_base64_VARIANT_ORIGINAL)];
	char hex[9];

	raw[0] = k->type;
	memcpy(raw + 1, k->pk, 32);
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, LS_VKEY_MAX, "%s+%s+%s", k->name, ls_hex(k->id, 4, hex), b64);
}

/* Whether s holds only the characters of standard base64, '=' only at the
 * end. Checked before libsodium's decoder, which in the packaged 1.0.18
 * takes bytes of 0x80 and over as digits (so two texts would decode alike). */
static bool
b64_chars(const char *s, size_t len)
{
	size_t pad = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool digit = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '+' || c == '/';
		if (c == '=')
			pad++;
		else if (!digit || pad > 0)
			return false;
	}
	return pad <= 2;
}

/* Decodes exactly want bytes of standard base64 (with padding). */
static bool
b64_exact(const char *s, size_t len, uint8_t *out, size_t want)
{
	size_t got = 0;
	const char *end = NULL;

	if (len == 0 || len > 4 * ((want + 2) / 3) || !b64_chars(s, len))
		return false;
	if (sodium_base642bin(out, want, s, len, NULL, &got, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return end == s + len && got == want;
}

/* Decodes standard base64 of at most max bytes; *got the length. */
static bool
b64_upto(const char *s, size_t len, uint8_t *out, size_t max, size_t *got)
{
	const char *end = NULL;

	*got = 0;
	if (len == 0 || len > 4 * ((max + 2) / 3) || !b64_chars(s, len))
		return false;
	if (sodium_base642bin(out, max, s, len, NULL, got, &end, sodium_base64_VARIANT_ORIGINAL) !=
	    0)
		return false;
	return end == s + len && *got > 0;
}

int
ls_vkey_parse(const char *s, struct ls_vkey *k, struct ls_err_ctx *ctx)
{
	const char *p1, *p2;
	size_t nlen;
	uint8_t raw[33], id[4];

	memset(k, 0, sizeof(*k));
	if ((p1 = strchr(s, '+')) == NULL || (p2 = strchr(p1 + 1, '+')) == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "verifier key '%.40s': not NAME+KEYID+KEY",
				  s);
	nlen = (size_t)(p1 - s);
	if (nlen == 0 || nlen >= LS_NOTE_NAME_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "verifier key '%.40s': bad name", s);
	memcpy(k->name, s, nlen);
	if (!ls_note_name_ok(k->name))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "verifier key '%.40s': bad name", s);
	if (p2 - p1 - 1 != 8)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "verifier key '%.40s': key id is not 8 hex digits", s);
	{
		char hex[9];
		memcpy(hex, p1 + 1, 8);
		hex[8] = '\0';
		if (ls_unhex(hex, id, 4) != 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "verifier key '%.40s': key id is not 8 hex digits", s);
	}
	if (!b64_exact(p2 + 1, strlen(p2 + 1), raw, sizeof(raw)))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "verifier key '%.40s': key is not base64 of 33 bytes", s);
	if (raw[0] != LS_NOTE_ED25519 && raw[0] != LS_NOTE_COSIG)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "verifier key '%.40s': key type 0x%02x is not Ed25519 (0x01) "
				  "or cosignature/v1 (0x04)",
				  s, raw[0]);
	k->type = raw[0];
	memcpy(k->pk, raw + 1, 32);
	key_id(k->name, k->type, k->pk, k->id);
	if (memcmp(id, k->id, 4) != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "verifier key '%.40s': key id does not match name and key", s);
	return 0;
}

/* ---- lines ---- */

struct rd {
	const char *p;
	size_t len, pos;
	unsigned line;
};

/* The next line without its newline; false at the end or when the rest
 * has no newline. */
static bool
rd_line(struct rd *r, const char **s, size_t *n)
{
	const char *nl;

	if (r->pos >= r->len)
		return false;
	nl = memchr(r->p + r->pos, '\n', r->len - r->pos);
	if (nl == NULL)
		return false;
	*s = r->p + r->pos;
	*n = (size_t)(nl - *s);
	r->pos += *n + 1;
	r->line++;
	return true;
}

/* A note's bytes are UTF-8 with no control character but newline
 * (signed-note); the first bad byte's offset into *at. */
static bool
text_ok(const char *s, size_t n, size_t *at)
{
	size_t i = 0, start;
	uint32_t c;

	while (i < n) {
		start = i;
		if (!utf8_next((const unsigned char *)s, n, &i, &c) || (c < 0x20 && c != '\n')) {
			*at = start;
			return false;
		}
	}
	return true;
}

static bool
parse_u64(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

/* One "— name base64" line (without its newline) into a signature. */
static int
sig_parse(const char *s, size_t n, struct ls_note_sig *sig, unsigned line, struct ls_err_ctx *ctx)
{
	const char *sp;
	size_t pl = strlen(EMDASH), nlen;

	memset(sig, 0, sizeof(*sig));
	if (n < pl || memcmp(s, EMDASH, pl) != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "note line %u: not a signature line (em dash, space, name, "
				  "space, base64)",
				  line);
	s += pl;
	n -= pl;
	if ((sp = memchr(s, ' ', n)) == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "note line %u: signature line without a signature", line);
	nlen = (size_t)(sp - s);
	if (!name_ok(s, nlen))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "note line %u: bad key name (empty, over %d bytes, or with a "
				  "space or '+')",
				  line, LS_NOTE_NAME_MAX - 1);
	memcpy(sig->name, s, nlen);
	if (!b64_upto(sp + 1, n - nlen - 1, sig->sig, sizeof(sig->sig), &sig->len) || sig->len < 5)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "note line %u: signature is not base64 of a key id and a "
				  "signature (at most %d bytes)",
				  line, LS_NOTE_SIG_MAX);
	return 0;
}

/* Signature lines up to len, appended to n's list; at least one. */
static int
sig_lines(const char *text, size_t len, struct ls_note *n, unsigned line0, struct ls_err_ctx *ctx)
{
	struct rd r = {text, len, 0, line0};
	const char *s;
	size_t l;
	int rc;

	if (len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "note: no signature line");
	while (rd_line(&r, &s, &l)) {
		if (n->n_sigs >= LS_NOTE_SIGS_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "note: over %d signatures",
					  LS_NOTE_SIGS_MAX);
		if ((rc = sig_parse(s, l, &n->sigs[n->n_sigs], r.line, ctx)) != 0)
			return rc;
		n->n_sigs++;
	}
	if (r.pos != len)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "note line %u: last line has no newline",
				  r.line + 1);
	return 0;
}

int
ls_note_sig_lines_parse(const char *text, size_t len, struct ls_note *n, struct ls_err_ctx *ctx)
{
	size_t at;

	if (len > LS_NOTE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "signatures: over %d bytes", LS_NOTE_MAX);
	if (!text_ok(text, len, &at))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "signatures: byte %zu is a control character or not UTF-8", at);
	return sig_lines(text, len, n, 0, ctx);
}

int
ls_note_parse(const char *text, size_t len, struct ls_note *n, struct ls_err_ctx *ctx)
{
	size_t blen, at;
	unsigned lines = 0;
	bool found = false;

	memset(n, 0, offsetof(struct ls_note, sigs));
	n->n_sigs = 0;
	if (len > LS_NOTE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "note: over %d bytes", LS_NOTE_MAX);
	if (!text_ok(text, len, &at))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "note: byte %zu is a control character or not UTF-8", at);
	/* The text ends at the last blank line: it may hold blank lines
	 * itself, a signature line never is one. */
	for (blen = len; blen >= 2; blen--)
		if (text[blen - 2] == '\n' && text[blen - 1] == '\n') {
			found = true;
			break;
		}
	if (!found)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "note: no blank line before signatures");
	blen--; /* the text keeps its final newline, not the blank line */
	if (blen < 2)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "note: empty text");
	if (blen > LS_NOTE_BODY_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "note: text over %d bytes",
				  LS_NOTE_BODY_MAX);
	memcpy(n->body, text, blen);
	n->body[blen] = '\0';
	n->body_len = blen;
	for (size_t i = 0; i < blen; i++)
		lines += text[i] == '\n';
	return sig_lines(text + blen + 1, len - blen - 1, n, lines + 1, ctx);
}

size_t
ls_note_sig_line(const struct ls_note_sig *s, char *out, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(LS_NOTE_SIG_MAX, sodium_base64_VARIANT_ORIGINAL)];
	int w;

	sodium_bin2base64(b64, sizeof(b64), s->sig, s->len, sodium_base64_VARIANT_ORIGINAL);
	w = snprintf(out, cap, EMDASH "%s %s\n", s->name, b64);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	return (size_t)w;
}

size_t
ls_note_format(const struct ls_note *n, char *out, size_t cap)
{
	size_t pos, w;

	if (n->body_len + 2 > cap)
		return 0;
	memcpy(out, n->body, n->body_len);
	pos = n->body_len;
	out[pos++] = '\n';
	for (size_t i = 0; i < n->n_sigs; i++) {
		if ((w = ls_note_sig_line(&n->sigs[i], out + pos, cap - pos)) == 0)
			return 0;
		pos += w;
	}
	if (pos >= cap)
		return 0;
	out[pos] = '\0';
	return pos;
}

int
ls_note_sig_add(struct ls_note *n, const char *name, const uint8_t id[4], const uint8_t *sig,
		size_t len)
{
	struct ls_note_sig *s = NULL;

	if (!ls_note_name_ok(name) || len + 4 > LS_NOTE_SIG_MAX)
		return LS_ERR_INVALID;
	/* One line per key, as Go's note.Sign: a new signature by a key
	 * (name and id) replaces the one it had. */
	for (size_t i = 0; i < n->n_sigs && s == NULL; i++)
		if (strcmp(n->sigs[i].name, name) == 0 && n->sigs[i].len >= 4 &&
		    memcmp(n->sigs[i].sig, id, 4) == 0)
			s = &n->sigs[i];
	if (s == NULL) {
		if (n->n_sigs >= LS_NOTE_SIGS_MAX)
			return LS_ERR_TOO_BIG;
		s = &n->sigs[n->n_sigs++];
	}
	memset(s, 0, sizeof(*s));
	memcpy(s->name, name, strlen(name) + 1);
	memcpy(s->sig, id, 4);
	memcpy(s->sig + 4, sig, len);
	s->len = 4 + len;
	return 0;
}

int
ls_note_sign(struct ls_note *n, const char *name, const uint8_t sk[64])
{
	uint8_t id[4], sig[crypto_sign_BYTES];

	if (!ls_note_name_ok(name))
		return LS_ERR_INVALID;
	key_id(name, LS_NOTE_ED25519, sk + 32, id);
	crypto_sign_detached(sig, NULL, (const uint8_t *)n->body, n->body_len, sk);
	return ls_note_sig_add(n, name, id, sig, sizeof(sig));
}

/* The line of n signed by k, or NULL. */
static const struct ls_note_sig *
sig_of(const struct ls_note *n, const struct ls_vkey *k)
{
	for (size_t i = 0; i < n->n_sigs; i++)
		if (strcmp(n->sigs[i].name, k->name) == 0 && memcmp(n->sigs[i].sig, k->id, 4) == 0)
			return &n->sigs[i];
	return NULL;
}

int
ls_note_verify(const struct ls_note *n, const struct ls_vkey *k)
{
	const struct ls_note_sig *s;

	if (k->type != LS_NOTE_ED25519 || (s = sig_of(n, k)) == NULL)
		return LS_ERR_NOT_FOUND;
	if (s->len != 4 + crypto_sign_BYTES ||
	    crypto_sign_verify_detached(s->sig + 4, (const uint8_t *)n->body, n->body_len, k->pk) !=
		0)
		return LS_ERR_SIGNATURE;
	return 0;
}

/* "cosignature/v1\ntime <ts>\n" followed by the body, into out. */
static size_t
cosig_msg(const struct ls_note *n, uint64_t ts, uint8_t *out, size_t cap)
{
	int w = snprintf((char *)out, cap, COSIG_PREFIX "%" PRIu64 "\n", ts);

	if (w < 0 || (size_t)w + n->body_len > cap)
		return 0;
	memcpy(out + w, n->body, n->body_len);
	return (size_t)w + n->body_len;
}

int
ls_cosig_add(struct ls_note *n, const char *name, const uint8_t sk[64], uint64_t ts)
{
	uint8_t id[4], msg[LS_NOTE_BODY_MAX + 64], sig[8 + crypto_sign_BYTES];
	size_t ml;

	if (!ls_note_name_ok(name) || ts > COSIG_TIME_MAX ||
	    (ml = cosig_msg(n, ts, msg, sizeof(msg))) == 0)
		return LS_ERR_INVALID;
	key_id(name, LS_NOTE_COSIG, sk + 32, id);
	ls_be64_put(sig, ts);
	crypto_sign_detached(sig + 8, NULL, msg, ml, sk);
	return ls_note_sig_add(n, name, id, sig, sizeof(sig));
}

int
ls_cosig_verify(const struct ls_note *n, const struct ls_vkey *k, uint64_t *ts)
{
	const struct ls_note_sig *s;
	uint8_t msg[LS_NOTE_BODY_MAX + 64];
	size_t ml;
	uint64_t t;

	if (k->type != LS_NOTE_COSIG || (s = sig_of(n, k)) == NULL)
		return LS_ERR_NOT_FOUND;
	if (s->len != 4 + 8 + crypto_sign_BYTES)
		return LS_ERR_SIGNATURE;
	t = ls_be64_get(s->sig + 4);
	if (t > COSIG_TIME_MAX || (ml = cosig_msg(n, t, msg, sizeof(msg))) == 0 ||
	    crypto_sign_verify_detached(s->sig + 12, msg, ml, k->pk) != 0)
		return LS_ERR_SIGNATURE;
	*ts = t;
	return 0;
}

/* ---- checkpoints ---- */

size_t
ls_checkpoint_body(const struct ls_checkpoint *c, char *out, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(LS_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL)];
	int w;

	sodium_bin2base64(b64, sizeof(b64), c->root, LS_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL);
	w = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size, b64);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	return (size_t)w;
}

int
ls_checkpoint_parse(const char *body, size_t len, struct ls_checkpoint *c, struct ls_err_ctx *ctx)
{
	struct rd r = {body, len, 0, 0};
	const char *s;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (len > LS_NOTE_BODY_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "checkpoint: over %d bytes",
				  LS_NOTE_BODY_MAX);
	if (!text_ok(body, len, &n))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "checkpoint: byte %zu is a control character or not UTF-8", n);
	/* The origin need not be a key name (tlog-checkpoint: clients must
	 * not assume its form): any non-empty line within the bound. */
	if (!rd_line(&r, &s, &n) || n == 0 || n >= LS_NOTE_NAME_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "checkpoint line 1: origin is empty or over %d bytes",
				  LS_NOTE_NAME_MAX - 1);
	memcpy(c->origin, s, n);
	if (!rd_line(&r, &s, &n) || !parse_u64(s, n, &c->size))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "checkpoint line 2: tree size is not a decimal number (no "
				  "leading zeros, at most 2^64-1)");
	if (!rd_line(&r, &s, &n) || !b64_exact(s, n, c->root, LS_TLOG_HASH))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "checkpoint line 3: root is not base64 of 32 bytes");
	while (rd_line(&r, &s, &n))
		if (n == 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "checkpoint line %u: empty extension line", r.line);
	if (r.pos != len)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "checkpoint: last line has no newline");
	return 0;
}

/* ---- proofs and requests: hash lines, a blank line, a note ---- */

static size_t
hash_lines(const uint8_t (*h)[LS_TLOG_HASH], size_t n, char *out, size_t cap)
{
	char b64[sodium_base64_ENCODED_LEN(LS_TLOG_HASH, sodium_base64_VARIANT_ORIGINAL)];
	size_t pos = 0;

	for (size_t i = 0; i < n; i++) {
		sodium_bin2base64(b64, sizeof(b64), h[i], LS_TLOG_HASH,
				  sodium_base64_VARIANT_ORIGINAL);
		int w = snprintf(out + pos, cap - pos, "%s\n", b64);
		if (w < 0 || (size_t)w >= cap - pos)
			return 0;
		pos += (size_t)w;
	}
	return pos;
}

/* Hash lines (at most max) up to the blank line, then a signed note whose
 * text is a checkpoint. */
static int
hashes_then_note(struct rd *r, uint8_t (*h)[LS_TLOG_HASH], size_t *nh, size_t max,
		 struct ls_note *note, struct ls_checkpoint *c, const char *what,
		 struct ls_err_ctx *ctx)
{
	const char *s;
	size_t n;
	int rc;

	*nh = 0;
	for (;;) {
		if (!rd_line(r, &s, &n))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "%s: no blank line before the "
					  "checkpoint",
					  what);
		if (n == 0)
			break;
		if (*nh >= max)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "%s line %u: over %zu proof hashes",
					  what, r->line, max);
		if (!b64_exact(s, n, h[*nh], LS_TLOG_HASH))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "%s line %u: not base64 of a 32-byte hash", what,
					  r->line);
		(*nh)++;
	}
	if ((rc = ls_note_parse(r->p + r->pos, r->len - r->pos, note, ctx)) != 0 ||
	    (rc = ls_checkpoint_parse(note->body, note->body_len, c, ctx)) != 0) {
		/* say where the note starts: its messages count its own lines */
		if (ctx != NULL) {
			char m[LS_ERR_MSG_MAX];
			memcpy(m, ctx->msg, sizeof(m));
			m[sizeof(m) - 1] = '\0';
			ls_err_set(ctx, rc, "%s: the checkpoint from line %u: %s", what,
				   r->line + 1, m);
		}
		return rc;
	}
	return 0;
}

#define PROOF_HEADER "c2sp.org/tlog-proof@v1"

size_t
ls_tlog_proof_format(const struct ls_tlog_proof *p, char *out, size_t cap)
{
	size_t pos, w = 0;
	int k;

	if (p->extra_len > sizeof(p->extra) || p->n > LS_TLOG_PROOF_MAX)
		return 0;
	k = snprintf(out, cap, PROOF_HEADER "\n");
	if (k < 0 || (size_t)k >= cap)
		return 0;
	pos = (size_t)k;
	if (p->extra_len > 0) {
		char
		    b64[sodium_base64_ENCODED_LEN(LS_NOTE_SIG_MAX, sodium_base64_VARIANT_ORIGINAL)];
		sodium_bin2base64(b64, sizeof(b64), p->extra, p->extra_len,
				  sodium_base64_VARIANT_ORIGINAL);
		k = snprintf(out + pos, cap - pos, "extra %s\n", b64);
		if (k < 0 || (size_t)k >= cap - pos)
			return 0;
		pos += (size_t)k;
	}
	k = snprintf(out + pos, cap - pos, "index %" PRIu64 "\n", p->index);
	if (k < 0 || (size_t)k >= cap - pos)
		return 0;
	pos += (size_t)k;
	if (p->n > 0) {
		if ((w = hash_lines((const uint8_t(*)[LS_TLOG_HASH])p->hashes, p->n, out + pos,
				    cap - pos)) == 0)
			return 0;
		pos += w;
	}
	if (pos + 1 >= cap)
		return 0;
	out[pos++] = '\n';
	if ((w = ls_note_format(&p->cp, out + pos, cap - pos)) == 0)
		return 0;
	return pos + w;
}

int
ls_tlog_proof_parse(const char *text, size_t len, struct ls_tlog_proof *p, struct ls_err_ctx *ctx)
{
	struct rd r = {text, len, 0, 0};
	const char *s;
	size_t n;

	memset(p, 0, offsetof(struct ls_tlog_proof, cp));
	p->cp.n_sigs = 0;
	if (len > LS_TLOG_PROOF_FILE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "proof: over %d bytes",
				  LS_TLOG_PROOF_FILE_MAX);
	if (!text_ok(text, len, &n))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "proof: byte %zu is a control character or not UTF-8", n);
	if (!rd_line(&r, &s, &n) || n != strlen(PROOF_HEADER) || memcmp(s, PROOF_HEADER, n) != 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "proof line 1: not '" PROOF_HEADER "'");
	if (!rd_line(&r, &s, &n))
		return ls_err_set(ctx, LS_ERR_MALFORMED, "proof: no index line");
	if (n > 6 && memcmp(s, "extra ", 6) == 0) {
		if (!b64_upto(s + 6, n - 6, p->extra, sizeof(p->extra), &p->extra_len))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "proof line 2: extra data is not base64 of at most %d "
					  "bytes",
					  LS_NOTE_SIG_MAX);
		if (!rd_line(&r, &s, &n))
			return ls_err_set(ctx, LS_ERR_MALFORMED, "proof: no index line");
	}
	if (n < 7 || memcmp(s, "index ", 6) != 0 || !parse_u64(s + 6, n - 6, &p->index))
		return ls_err_set(
		    ctx, LS_ERR_MALFORMED,
		    "proof line %u: not 'index N' with a decimal N (no leading zeros)", r.line);
	return hashes_then_note(&r, p->hashes, &p->n, LS_TLOG_PROOF_MAX, &p->cp, &p->c, "proof",
				ctx);
}

size_t
ls_addcp_format(const struct ls_addcp *a, char *out, size_t cap)
{
	size_t pos, w = 0;
	int k;

	if (a->n > LS_ADDCP_PROOF_MAX)
		return 0;
	k = snprintf(out, cap, "old %" PRIu64 "\n", a->old);
	if (k < 0 || (size_t)k >= cap)
		return 0;
	pos = (size_t)k;
	if (a->n > 0) {
		if ((w = hash_lines((const uint8_t(*)[LS_TLOG_HASH])a->proof, a->n, out + pos,
				    cap - pos)) == 0)
			return 0;
		pos += w;
	}
	if (pos + 1 >= cap)
		return 0;
	out[pos++] = '\n';
	if ((w = ls_note_format(&a->cp, out + pos, cap - pos)) == 0)
		return 0;
	return pos + w;
}

int
ls_addcp_parse(const char *text, size_t len, struct ls_addcp *a, struct ls_err_ctx *ctx)
{
	struct rd r = {text, len, 0, 0};
	const char *s;
	size_t n;

	int rc;

	memset(a, 0, offsetof(struct ls_addcp, cp));
	a->cp.n_sigs = 0;
	if (len > LS_TLOG_PROOF_FILE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "add-checkpoint: over %d bytes",
				  LS_TLOG_PROOF_FILE_MAX);
	if (!text_ok(text, len, &n))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "add-checkpoint: byte %zu is a control character or not UTF-8",
				  n);
	if (!rd_line(&r, &s, &n) || n < 5 || memcmp(s, "old ", 4) != 0 ||
	    !parse_u64(s + 4, n - 4, &a->old))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "add-checkpoint line 1: not 'old N' with a decimal N (no leading "
				  "zeros)");
	if ((rc = hashes_then_note(&r, a->proof, &a->n, LS_ADDCP_PROOF_MAX, &a->cp, &a->c,
				   "add-checkpoint", ctx)) != 0)
		return rc;
	/* tlog-witness: both are a bad request (400) */
	if (a->old > a->c.size)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "add-checkpoint: old size %" PRIu64
				  " is over the checkpoint's size %" PRIu64,
				  a->old, a->c.size);
	if (a->old == 0 && a->n > 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "add-checkpoint: a proof from old size 0 must be empty");
	return 0;
}
