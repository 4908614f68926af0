/*
 * kind/license.c - a License lets its licensee export named items to named
 * destinations, for one end use (and end user), up to a quantity, for a
 * period. The coverage rule below is the only one: ingest calls it for a
 * transfer that cites a license, the export question for a proposed export.
 */
#include <string.h>
#include <strings.h>

#include "kind.h"
#include "util.h"

static int
apply(struct ls_txn *t, const struct ls_record *r)
{
	return ls_txn_license_put(t, r);
}

bool
ls_license_covers_item(const struct ls_license *l, const struct ls_lotdef *d, const char *tech)
{
	if (d == NULL)
		return tech != NULL && ls_strlist_has(&l->items, tech);
	if (ls_strlist_has(&l->items, d->category))
		return true;
	for (size_t i = 0; i < d->comp.n; i++)
		if (d->comp.e[i].ppm > 0 &&
		    ls_strlist_has(&l->items, ls_element_symbol(d->comp.e[i].z)))
			return true;
	return false;
}

enum ls_reason
ls_license_check(struct ls_txn *t, const struct ls_record *lic, const struct ls_license_use *u,
		 enum ls_layer layer, struct ls_why *w)
{
	const struct ls_license *l = &lic->license;
	const char *use = u->end_use != NULL && *u->end_use ? u->end_use : "civilian";
	uint64_t from, used = 0;
	enum ls_reason reason;
	char h[17];
	int rc;

	if (lic->type != LS_REC_LICENSE)
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH, "%s is not a license", ls_h8(lic->id, h));
	/* Admission and question time: revocations of the license and of its
	 * issuer, then (question) the issuer's jurisdiction. */
	if (layer >= LS_LAYER_ADMISSION) {
		uint64_t eff;
		bool revoked;
		char inner[LS_ERR_MSG_MAX];
		if ((rc = ls_revoked(t, lic->id, lic, u->at, &revoked, NULL, &eff)) != 0)
			return ls_why_store(w, rc);
		if (revoked) {
			char when[32];
			return LS_FAIL(w, LS_R_LICENSE_REVOKED,
				       "license %s was revoked (effective %s)", l->number,
				       ls_time_format(eff, when, sizeof(when)));
		}
		reason = ls_author_check(t, lic, LS_ROLE_AUTHORITY, layer, w);
		if (reason == LS_R_STORE)
			return reason;
		if (reason != LS_R_OK) {
			snprintf(inner, sizeof(inner), "%s", w->msg);
			return LS_FAIL(
			    w,
			    reason == LS_R_REVOKED ? LS_R_LICENSE_REVOKED : LS_R_LICENSE_MISMATCH,
			    "license %s: its issuer was not valid: %s", l->number, inner);
		}
	}
	if (layer == LS_LAYER_QUESTION && u->jurisdiction != NULL) {
		bool ok;
		if ((rc = ls_author_acts_for(t, lic, u->jurisdiction, &ok)) != 0)
			return ls_why_store(w, rc);
		if (!ok)
			return LS_FAIL(
			    w, LS_R_LICENSE_MISMATCH,
			    "license %s is not issued by an authority of %s, whose policy "
			    "requires it",
			    l->number, u->jurisdiction);
	}
	/* Consensus: what the license and the use say. */
	if (memcmp(l->licensee, u->exporter, LS_KEY_LEN) != 0)
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH,
			       "license %s is not the exporter's (another licensee)", l->number);
	if (!ls_strlist_has(&l->destinations, u->destination))
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH, "license %s does not cover destination %s",
			       l->number, u->destination);
	if (strcasecmp(l->end_use, use) != 0)
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH, "license %s is for end use '%s', not '%s'",
			       l->number, l->end_use, use);
	if (!ls_license_covers_item(l, u->item, u->tech))
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH, "license %s does not cover this item",
			       l->number);
	if (l->has_end_user &&
	    (u->end_user == NULL || memcmp(l->end_user, u->end_user, LS_KEY_LEN) != 0))
		return LS_FAIL(w, LS_R_LICENSE_MISMATCH, "license %s names another end user",
			       l->number);
	/* A license starts when it is issued at the earliest. */
	from = l->valid_from > lic->timestamp ? l->valid_from : lic->timestamp;
	if (u->at < from || (l->valid_until != 0 && u->at >= l->valid_until)) {
		char when[32];
		return LS_FAIL(w, LS_R_LICENSE_EXPIRED, "license %s is not valid at %s", l->number,
			       ls_time_format(u->at, when, sizeof(when)));
	}
	if (u->item != NULL && u->quantity) {
		if ((rc = ls_txn_licused(t, lic->id, &used)) != 0)
			return ls_why_store(w, rc);
		if (used >= l->max_grams || u->grams > l->max_grams - used)
			return LS_FAIL(w, LS_R_LICENSE_EXHAUSTED,
				       "license %s: %llu g of %llu g used, %llu g more asked",
				       l->number, (unsigned long long)used,
				       (unsigned long long)l->max_grams,
				       (unsigned long long)u->grams);
	}
	return LS_R_OK;
}

/* Admission: the number is the issuer's first use of it. */
static enum ls_reason
admit(struct ls_txn *t, const struct ls_record *r, struct ls_why *w)
{
	return ls_name_unused(t, r, true, r->license.number, w);
}

const struct ls_kind ls_kind_license = {
    .type = LS_REC_LICENSE,
    .roles = LS_ROLE_AUTHORITY,
    .apply = apply,
    .admit = admit,
};
