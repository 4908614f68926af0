/*
 * kind/policy.c - a Policy is one jurisdiction's control list from a date.
 */
#include <string.h>
#include <strings.h>

#include "kind.h"

/* The policies it supersedes or suspends are dependencies: their
 * jurisdiction is checked against this one's at ingest. */
static void
deps(const struct ls_record *r, struct ls_deps *d)
{
	for (size_t i = 0; i < r->policy.supersedes.n; i++)
		ls_deps_add(d, LS_DEP_RECORD, r->policy.supersedes.v[i]);
	for (size_t i = 0; i < r->policy.n_suspends; i++)
		ls_deps_add(d, LS_DEP_RECORD, r->policy.suspends[i].policy);
}

static enum ls_reason
same_jurisdiction(struct ls_txn *t, const struct ls_record *r, const uint8_t id[LS_ID_LEN],
		  const char *verb, struct ls_why *w)
{
	struct ls_record *p = NULL;
	enum ls_reason reason = LS_R_OK;
	char h[17];
	int rc;

	if ((rc = ls_txn_record(t, id, &p)) != 0)
		return ls_why_store(w, rc);
	ls_h8(id, h);
	if (p->type != LS_REC_POLICY)
		reason = LS_FAIL(w, LS_R_MALFORMED, "policy %s %s, which is not a policy", verb, h);
	else if (strcasecmp(p->policy.jurisdiction, r->policy.jurisdiction) != 0)
		reason = LS_FAIL(w, LS_R_UNTRUSTED,
				 "policy for %s %s policy %s of another jurisdiction (%s)",
				 r->policy.jurisdiction, verb, h, p->policy.jurisdiction);
	ls_record_free(p);
	return reason;
}

/* Consensus: an authority publishes only for its jurisdictions, and
 * supersedes or suspends only policies of the same jurisdiction. */
static enum ls_reason
check(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	enum ls_reason reason;
	bool ok;
	int rc;

	if ((rc = ls_author_acts_for(t, r, r->policy.jurisdiction, &ok)) != 0)
		return ls_why_store(w, rc);
	if (!ok)
		return LS_FAIL(w, LS_R_UNTRUSTED,
			       "policy for %s: the author is not an authority of %s",
			       r->policy.jurisdiction, r->policy.jurisdiction);
	for (size_t i = 0; i < r->policy.supersedes.n; i++)
		if ((reason = same_jurisdiction(t, r, r->policy.supersedes.v[i], "supersedes",
						w)) != LS_R_OK)
			return reason;
	for (size_t i = 0; i < r->policy.n_suspends; i++)
		if ((reason = same_jurisdiction(t, r, r->policy.suspends[i].policy, "suspends",
						w)) != LS_R_OK)
			return reason;
	return LS_R_OK;
}

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	return ls_txn_policy_put(t, r->policy.jurisdiction, r->policy.effective_from, r->id);
}

const struct ls_kind ls_kind_policy = {
    .type = LS_REC_POLICY,
    .roles = LS_ROLE_AUTHORITY,
    .deps = deps,
    .check = check,
    .apply = apply,
};
