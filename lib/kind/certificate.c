/*
 * kind/certificate.c - a Certificate binds a key to an organisation, a
 * country, roles and (for an authority) the jurisdictions it acts for.
 */
#include <string.h>

#include "kind.h"

/*
 * Consensus: an authority certifies only within its scope. The subject's
 * country, and every jurisdiction of an authority it certifies, must be
 * ones the issuer acts for (a trust anchor acts for all).
 */
static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	const struct ls_certificate *c = &r->certificate;
	bool ok;
	int rc;

	if ((rc = ls_author_acts_for(t, r, c->country, &ok)) != 0)
		return ls_why_store(w, rc);
	if (!ok)
		return LS_FAIL(w, LS_R_UNTRUSTED,
			       "certificate: the issuer does not act for %s, the subject's country",
			       c->country);
	for (size_t i = 0; i < c->jurisdictions.n; i++) {
		if ((rc = ls_author_acts_for(t, r, c->jurisdictions.v[i], &ok)) != 0)
			return ls_why_store(w, rc);
		if (!ok)
			return LS_FAIL(w, LS_R_UNTRUSTED,
				       "certificate: the issuer does not act for jurisdiction %s",
				       c->jurisdictions.v[i]);
	}
	return LS_R_OK;
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	const struct ls_certificate *c = &r->certificate;
	struct ls_cert_row row;

	memcpy(row.cert, r->id, LS_ID_LEN);
	row.roles = c->roles;
	row.from = c->valid_from;
	row.until = c->valid_until;
	memcpy(row.country, c->country, 3);
	return ls_txn_cert_put(t, c->subject, &row);
}

const struct ls_kind ls_kind_certificate = {
    .type = LS_REC_CERTIFICATE,
    .roles = LS_ROLE_AUTHORITY,
    .check = check,
    .apply = apply,
};
