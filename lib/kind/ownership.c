/*
 * kind/ownership.c - an Ownership record: an authority states that one
 * organisation owns at least a share of another, for the policies of one
 * jurisdiction (format version 3).
 *
 * Consensus: the author is an authority acting for that jurisdiction. The
 * record is indexed beside the policies of its jurisdiction (the policies
 * table holds record ids: verification loads both in one scan, and bundles
 * carry it as they carry every policy). Question time (verify.c,
 * org_denied): a policy's denial of an organisation by name extends to the
 * organisations denied organisations together own 50 % or more of, by
 * ownership records of an authority of that policy's jurisdiction valid at
 * its date.
 */
#include <string.h>

#include "kind.h"

static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	bool ok;
	int rc;

	if ((rc = ls_author_acts_for(t, r, r->ownership.jurisdiction, &ok)) != 0)
		return ls_why_store(w, rc);
	if (!ok)
		return LS_FAIL(w, LS_R_UNTRUSTED,
			       "ownership for %s: the author is not an authority of %s",
			       r->ownership.jurisdiction, r->ownership.jurisdiction);
	return LS_R_OK;
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	uint64_t from = r->ownership.from ? r->ownership.from : r->timestamp;

	return ls_txn_policy_put(t, r->ownership.jurisdiction, from, r->id);
}

const struct ls_kind ls_kind_ownership = {
    .type = LS_REC_OWNERSHIP,
    .roles = LS_ROLE_AUTHORITY,
    .check = check,
    .apply = apply,
};
