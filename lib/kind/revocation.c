/*
 * kind/revocation.c - a Revocation makes a key, a certificate or a license
 * invalid from a time. It names its subject by key or id, not as a
 * dependency: it may arrive before or after the records it judges, so it is
 * never applied at ingest. Its scope is decided at question time (and at
 * admission), here, in one place.
 */
#include <string.h>

#include "kind.h"

/* Consensus: the author is an authority, or revokes its own key (the
 * author check of kind.c). Every revocation is kept. */
static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	struct ls_rev_row row;

	memcpy(row.rev, r->id, LS_ID_LEN);
	row.effective = r->revocation.effective;
	memcpy(row.author, r->author, LS_KEY_LEN);
	return ls_txn_revocation_put(t, r->revocation.subject, &row);
}

/*
 * Whether revoker issued grant or a certificate up grant's chain (or is
 * grant's own subject key): 0 with *in set, or a store error.
 */
static int
in_chain(struct ls_txn *t, const struct ls_record *grant, const uint8_t revoker[LS_KEY_LEN],
	 bool *in)
{
	struct ls_record *cur = NULL;
	const struct ls_record *x = grant;
	int rc = 0;

	*in = false;
	if (grant->type == LS_REC_CERTIFICATE &&
	    memcmp(grant->certificate.subject, revoker, LS_KEY_LEN) == 0) {
		*in = true;
		return 0;
	}
	for (int depth = 0; depth < 16 && x != NULL; depth++) {
		struct ls_record *next = NULL;
		if (memcmp(x->author, revoker, LS_KEY_LEN) == 0) {
			*in = true;
			break;
		}
		if (!x->has_cert || ls_store_is_anchor(t->s, x->author))
			break;
		if ((rc = ls_txn_record(t, x->cert_id, &next)) != 0) {
			rc = rc == LS_ERR_NOT_FOUND ? 0 : rc;
			break;
		}
		ls_record_free(cur);
		cur = next;
		x = cur;
	}
	ls_record_free(cur);
	return rc;
}

struct scope {
	struct ls_txn *t;
	const uint8_t *subject;
	const struct ls_record *grant;
	uint64_t at;
	bool found;
	uint64_t eff;
	uint8_t rev[LS_ID_LEN];
};

static int
one(void *arg, const struct ls_rev_row *row)
{
	struct scope *s = arg;
	bool in = false;
	int rc;

	if (row->effective > s->at || (s->found && row->effective >= s->eff))
		return 0;
	if (memcmp(row->author, s->subject, LS_KEY_LEN) == 0)
		in = true; /* a key revokes itself */
	else if (ls_store_is_anchor(s->t->s, s->subject))
		in = false; /* a trust anchor is revoked only by itself */
	else if (ls_store_is_anchor(s->t->s, row->author))
		in = true;
	else if (s->grant != NULL && (rc = in_chain(s->t, s->grant, row->author, &in)) != 0)
		return rc;
	if (!in)
		return 0;
	s->found = true;
	s->eff = row->effective;
	memcpy(s->rev, row->rev, LS_ID_LEN);
	return 0;
}

int
ls_revoked(struct ls_txn *t, const uint8_t subject[32], const struct ls_record *grant, uint64_t at,
	   bool *revoked, uint8_t rev[LS_ID_LEN], uint64_t *effective)
{
	struct scope s = {t, subject, grant, at, false, 0, {0}};
	int rc = ls_txn_revocations_each(t, subject, one, &s);

	*revoked = rc == 0 && s.found;
	if (*revoked) {
		if (rev != NULL)
			memcpy(rev, s.rev, LS_ID_LEN);
		if (effective != NULL)
			*effective = s.eff;
	}
	return rc;
}

int
ls_record_time(struct ls_txn *t, const struct ls_record *r, struct ls_rtime *out)
{
	uint64_t q = 0;
	int rc = ls_txn_logged_time(t, r->id, &q);

	memset(out, 0, sizeof(*out));
	out->claimed = out->judged = r->timestamp;
	if (rc == LS_ERR_NOT_FOUND)
		return 0;
	if (rc != 0)
		return rc;
	out->logged_known = true;
	out->logged = q;
	if (q > r->timestamp)
		out->judged = q;
	out->backdated = q > LS_BACKDATE_TOLERANCE && r->timestamp < q - LS_BACKDATE_TOLERANCE;
	return 0;
}

struct admit_ctx {
	struct ls_txn *t;
	const uint8_t *revoker;
	bool any, in;
	int rc;
};

static int
admit_cert(void *arg, const struct ls_cert_row *row)
{
	struct admit_ctx *a = arg;
	struct ls_record *cert = NULL;
	bool in = false;
	int rc;

	a->any = true;
	if ((rc = ls_txn_record(a->t, row->cert, &cert)) != 0)
		return rc;
	rc = in_chain(a->t, cert, a->revoker, &in);
	ls_record_free(cert);
	a->in |= in;
	return rc;
}

/*
 * Admission: a revocation that could never count is refused, so that its
 * author learns it at once: of a trust anchor by another key, or of a key,
 * certificate or license the author (and the authorities it certified) did
 * not certify or issue.
 */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	const uint8_t *subject = r->revocation.subject;
	struct ls_record *rec = NULL;
	struct admit_ctx a = {t, r->author, false, false, 0};
	int rc;

	if (memcmp(subject, r->author, LS_KEY_LEN) == 0)
		return LS_R_OK;
	if (ls_store_is_anchor(t->s, subject))
		return LS_FAIL(w, LS_R_UNTRUSTED,
			       "revocation: a trust anchor can be revoked only by itself");
	if (ls_store_is_anchor(t->s, r->author))
		return LS_R_OK;
	rc = ls_txn_record(t, subject, &rec);
	if (rc == 0) {
		rc = in_chain(t, rec, r->author, &a.in);
		a.any = true;
		ls_record_free(rec);
	} else if (rc == LS_ERR_NOT_FOUND) {
		rc = ls_txn_certs_each(t, subject, admit_cert, &a);
	}
	if (rc != 0)
		return ls_why_store(w, rc);
	if (a.any && !a.in)
		return LS_FAIL(w, LS_R_UNTRUSTED,
			       "revocation: the author did not certify or issue what it revokes");
	return LS_R_OK;
}

const struct ls_kind ls_kind_revocation = {
    .type = LS_REC_REVOCATION,
    .roles = LS_ROLE_AUTHORITY, /* or the subject key itself */
    .apply = apply,
    .admit = admit,
};
