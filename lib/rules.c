/*
 * rules.c - what each record type must satisfy at ingest, and what it changes.
 *
 * Consensus rules: integer arithmetic only, and only facts from the record's
 * causal past (its feed, and the records it names: certificate, input lots,
 * transfer, license, receiver certificate). So every node that holds the same
 * records reaches the same state, whatever order they arrived in.
 *
 * Facts that may arrive later than the records they judge (a policy, a
 * revocation published after the fact) are not ingest rules: verify.c applies
 * them at question time, to the records as they stand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_int.h"
#include "util.h"

__extension__ typedef unsigned __int128 u128;

#define FAIL(reason, ...) (snprintf(msg, msglen, __VA_ARGS__), (reason))

static const char *
hex8(const uint8_t *id, char *buf)
{
	char full[2 * LS_ID_LEN + 1];
	ls_hex(id, LS_ID_LEN, full);
	memcpy(buf, full, 16);
	buf[16] = '\0';
	return buf;
}

enum ls_reason
ls_rules_check_author(struct ls_txn *t, const struct ls_record *r, uint32_t roles, char *msg,
		      size_t msglen)
{
	struct ls_record *cert = NULL;
	const struct ls_certificate *c;
	enum ls_reason reason = LS_R_OK;
	uint64_t eff;
	char h[17];
	int rc;

	if (ls_txn_revoked(t, r->author, &eff, NULL) == 0 && eff <= r->timestamp)
		return FAIL(LS_R_REVOKED, "%s record: author key was revoked at %llu",
			    ls_rtype_name(r->type), (unsigned long long)eff);
	if (ls_store_is_anchor(t->s, r->author))
		return LS_R_OK; /* a root authority may do anything */
	if (!r->has_cert)
		return FAIL(LS_R_NO_CERTIFICATE, "%s record: author has no certificate",
			    ls_rtype_name(r->type));
	rc = ls_txn_record(t, r->cert_id, &cert);
	if (rc != 0)
		return FAIL(rc == LS_ERR_NOT_FOUND ? LS_R_NO_CERTIFICATE : LS_R_STORE,
			    "%s record: certificate %s not found", ls_rtype_name(r->type),
			    hex8(r->cert_id, h));
	c = &cert->certificate;
	if (cert->type != LS_REC_CERTIFICATE || memcmp(c->subject, r->author, LS_KEY_LEN) != 0) {
		reason = FAIL(LS_R_NO_CERTIFICATE, "%s record: %s does not certify its author",
			      ls_rtype_name(r->type), hex8(r->cert_id, h));
		goto out;
	}
	if (r->timestamp < c->valid_from ||
	    (c->valid_until != 0 && r->timestamp >= c->valid_until)) {
		reason =
		    FAIL(LS_R_CERT_EXPIRED, "%s record: dated outside its author's certificate %s",
			 ls_rtype_name(r->type), hex8(r->cert_id, h));
		goto out;
	}
	if (ls_txn_revoked(t, r->cert_id, &eff, NULL) == 0 && eff <= r->timestamp) {
		reason = FAIL(LS_R_REVOKED, "%s record: certificate %s was revoked",
			      ls_rtype_name(r->type), hex8(r->cert_id, h));
		goto out;
	}
	/* A key may always revoke itself. */
	if (r->type == LS_REC_REVOCATION &&
	    memcmp(r->revocation.subject, r->author, LS_KEY_LEN) == 0)
		goto out;
	if ((c->roles & roles) == 0) {
		char have[128];
		ls_roles_format(c->roles, have, sizeof(have));
		reason = FAIL(LS_R_WRONG_ROLE, "%s record: author's roles (%s) do not allow it",
			      ls_rtype_name(r->type), have);
	}
out:
	ls_record_free(cert);
	return reason;
}

bool
ls_rules_missing(struct ls_txn *t, const struct ls_record *r, uint8_t missing[LS_ID_LEN])
{
	struct ls_lot_info li;

	if (r->has_cert && !ls_store_is_anchor(t->s, r->author) &&
	    !ls_txn_has_record(t, r->cert_id)) {
		memcpy(missing, r->cert_id, LS_ID_LEN);
		return true;
	}
	switch (r->type) {
	case LS_REC_TRANSFORMATION:
		for (size_t i = 0; i < r->transformation.n_inputs; i++)
			if (ls_txn_lot(t, r->transformation.inputs[i].lot, &li) != 0) {
				memcpy(missing, r->transformation.inputs[i].lot, LS_ID_LEN);
				return true;
			}
		return false;
	case LS_REC_TRANSFER:
		if (r->transfer.has_lot && ls_txn_lot(t, r->transfer.lot, &li) != 0) {
			memcpy(missing, r->transfer.lot, LS_ID_LEN);
			return true;
		}
		if (!ls_txn_has_record(t, r->transfer.to_cert)) {
			memcpy(missing, r->transfer.to_cert, LS_ID_LEN);
			return true;
		}
		if (r->transfer.has_license && !ls_txn_has_record(t, r->transfer.license)) {
			memcpy(missing, r->transfer.license, LS_ID_LEN);
			return true;
		}
		return false;
	case LS_REC_RECEIPT:
		if (!ls_txn_has_record(t, r->receipt.transfer)) {
			memcpy(missing, r->receipt.transfer, LS_ID_LEN);
			return true;
		}
		return false;
	default: return false;
	}
}

/* ---- state helpers ---- */

static int
put_hold(struct ls_txn *t, const uint8_t holder[LS_KEY_LEN], const uint8_t lot[LS_ID_LEN],
	 uint64_t grams)
{
	uint8_t k[LS_KEY_LEN + LS_ID_LEN];

	memcpy(k, holder, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, lot, LS_ID_LEN);
	if (grams == 0) {
		MDB_val key = {sizeof(k), k};
		int mrc = mdb_del(t->txn, t->s->holds, &key, NULL);
		return mrc == MDB_NOTFOUND ? 0 : ls_store_err(mrc);
	}
	return ls_txn_put_u64(t, t->s->holds, k, sizeof(k), grams);
}

static int
put_lot(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const struct ls_record *r, uint32_t index,
	const struct ls_lotdef *d)
{
	uint8_t v[LS_ID_LEN + 4 + 8 + LS_KEY_LEN + 8];
	int rc;

	memcpy(v, r->id, LS_ID_LEN);
	v[32] = (uint8_t)(index >> 24);
	v[33] = (uint8_t)(index >> 16);
	v[34] = (uint8_t)(index >> 8);
	v[35] = (uint8_t)index;
	ls_be64_put(v + 36, d->grams);
	memcpy(v + 44, r->author, LS_KEY_LEN);
	ls_be64_put(v + 44 + LS_KEY_LEN, r->timestamp);
	if ((rc = ls_txn_put(t, t->s->lots, lot, LS_ID_LEN, v, sizeof(v), 0)) != 0 ||
	    (rc = ls_txn_put(t, t->s->labels, d->label, strlen(d->label), lot, LS_ID_LEN, 0)) !=
		0 ||
	    (rc = put_hold(t, r->author, lot, d->grams)) != 0)
		return rc;
	return 0;
}

static int
put_child(struct ls_txn *t, const uint8_t lot[LS_ID_LEN], const uint8_t rec[LS_ID_LEN])
{
	uint8_t k[2 * LS_ID_LEN];

	memcpy(k, lot, LS_ID_LEN);
	memcpy(k + LS_ID_LEN, rec, LS_ID_LEN);
	return ls_txn_put(t, t->s->children, k, sizeof(k), "", 0, 0);
}

/* ---- per type ---- */

static enum ls_reason
apply_certificate(struct ls_txn *t, const struct ls_record *r, int *err)
{
	const struct ls_certificate *c = &r->certificate;
	uint8_t k[LS_KEY_LEN + LS_ID_LEN], v[4 + 8 + 8 + 2];

	memcpy(k, c->subject, LS_KEY_LEN);
	memcpy(k + LS_KEY_LEN, r->id, LS_ID_LEN);
	v[0] = (uint8_t)(c->roles >> 24);
	v[1] = (uint8_t)(c->roles >> 16);
	v[2] = (uint8_t)(c->roles >> 8);
	v[3] = (uint8_t)c->roles;
	ls_be64_put(v + 4, c->valid_from);
	ls_be64_put(v + 12, c->valid_until);
	memcpy(v + 20, c->country, 2);
	*err = ls_txn_put(t, t->s->certs, k, sizeof(k), v, sizeof(v), 0);
	return *err ? LS_R_STORE : LS_R_OK;
}

static enum ls_reason
apply_revocation(struct ls_txn *t, const struct ls_record *r, int *err)
{
	uint8_t v[8 + LS_ID_LEN];
	uint64_t eff;

	if (ls_txn_revoked(t, r->revocation.subject, &eff, NULL) == 0 &&
	    eff <= r->revocation.effective)
		return LS_R_OK; /* an earlier revocation stands */
	ls_be64_put(v, r->revocation.effective);
	memcpy(v + 8, r->id, LS_ID_LEN);
	*err = ls_txn_put(t, t->s->revoked, r->revocation.subject, 32, v, sizeof(v), 0);
	return *err ? LS_R_STORE : LS_R_OK;
}

static enum ls_reason
apply_policy(struct ls_txn *t, const struct ls_record *r, int *err)
{
	uint8_t k[2 + 8 + LS_ID_LEN];

	memcpy(k, r->policy.jurisdiction, 2);
	ls_be64_put(k + 2, r->policy.effective_from);
	memcpy(k + 10, r->id, LS_ID_LEN);
	*err = ls_txn_put(t, t->s->policies, k, sizeof(k), "", 0, 0);
	return *err ? LS_R_STORE : LS_R_OK;
}

static enum ls_reason
apply_license(struct ls_txn *t, const struct ls_record *r, int *err)
{
	*err = ls_txn_put(t, t->s->licnum, r->license.number, strlen(r->license.number), r->id,
			  LS_ID_LEN, 0);
	return *err ? LS_R_STORE : LS_R_OK;
}

static enum ls_reason
apply_lot(struct ls_txn *t, const struct ls_record *r, int *err)
{
	*err = put_lot(t, r->id, r, LS_LOT_REGISTRATION, &r->lot.lot);
	return *err ? LS_R_STORE : LS_R_OK;
}

static enum ls_reason
apply_transformation(struct ls_txn *t, const struct ls_record *r, char *msg, size_t msglen,
		     int *err)
{
	const struct ls_transformation *tr = &r->transformation;
	u128 in[LS_COMP_MAX * 4] = {0}, out[LS_COMP_MAX * 4] = {0};
	uint32_t zs[LS_COMP_MAX * 4];
	size_t nz = 0;
	char h[17];

	/* Holdings first: nobody consumes more than they hold. */
	for (size_t i = 0; i < tr->n_inputs; i++) {
		uint64_t held = ls_txn_hold(t, r->author, tr->inputs[i].lot);
		if (held == 0)
			return FAIL(LS_R_NOT_HOLDER,
				    "transformation input %zu: author holds none of lot %s", i,
				    hex8(tr->inputs[i].lot, h));
		if (tr->inputs[i].grams > held)
			return FAIL(LS_R_OVERSPEND,
				    "transformation input %zu: consumes %llu g of lot %s, author "
				    "holds %llu g",
				    i, (unsigned long long)tr->inputs[i].grams,
				    hex8(tr->inputs[i].lot, h), (unsigned long long)held);
	}
	/* Mass balance per rare-earth element, in gram-ppm (exact integers). */
	for (size_t i = 0; i < tr->n_inputs; i++) {
		struct ls_record *src = NULL;
		const struct ls_lotdef *d;
		if ((*err = ls_txn_lot_def(t, tr->inputs[i].lot, &src, &d)) != 0)
			return LS_R_STORE;
		for (size_t e = 0; e < d->comp.n; e++) {
			size_t k;
			if (!ls_element_is_ree(d->comp.e[e].z))
				continue;
			for (k = 0; k < nz && zs[k] != d->comp.e[e].z; k++)
				;
			if (k == nz)
				zs[nz++] = d->comp.e[e].z;
			in[k] += (u128)tr->inputs[i].grams * d->comp.e[e].ppm;
		}
		ls_record_free(src);
	}
	for (size_t o = 0; o < tr->n_outputs; o++) {
		const struct ls_comp *c = &tr->outputs[o].comp;
		for (size_t e = 0; e < c->n; e++) {
			size_t k;
			if (!ls_element_is_ree(c->e[e].z))
				continue;
			for (k = 0; k < nz && zs[k] != c->e[e].z; k++)
				;
			if (k == nz) {
				if (nz == sizeof(zs) / sizeof(zs[0]))
					return FAIL(LS_R_MASS_BALANCE, "too many elements");
				zs[nz++] = c->e[e].z;
			}
			out[k] += (u128)tr->outputs[o].grams * c->e[e].ppm;
		}
	}
	for (size_t k = 0; k < nz; k++)
		if (out[k] > in[k])
			return FAIL(LS_R_MASS_BALANCE,
				    "transformation puts out %llu mg of %s but %llu mg went in",
				    (unsigned long long)(out[k] / 1000), ls_element_symbol(zs[k]),
				    (unsigned long long)(in[k] / 1000));
	/* Apply. */
	for (size_t i = 0; i < tr->n_inputs; i++) {
		uint64_t held = ls_txn_hold(t, r->author, tr->inputs[i].lot);
		if ((*err = put_hold(t, r->author, tr->inputs[i].lot,
				     held - tr->inputs[i].grams)) != 0 ||
		    (*err = put_child(t, tr->inputs[i].lot, r->id)) != 0)
			return LS_R_STORE;
	}
	for (uint32_t o = 0; o < tr->n_outputs; o++) {
		uint8_t lot[LS_ID_LEN];
		ls_lot_id(r->id, o, lot);
		if ((*err = put_lot(t, lot, r, o, &tr->outputs[o])) != 0)
			return LS_R_STORE;
	}
	return LS_R_OK;
}

/* True when one of the license's items covers the lot (category or element)
 * or the technology item. */
static bool
license_covers(const struct ls_license *l, const struct ls_lotdef *d, const char *tech)
{
	if (d == NULL)
		return ls_strlist_has(&l->items, tech);
	if (ls_strlist_has(&l->items, d->category))
		return true;
	for (size_t i = 0; i < d->comp.n; i++)
		if (ls_strlist_has(&l->items, ls_element_symbol(d->comp.e[i].z)))
			return true;
	return false;
}

/* The license checks of a transfer that cites one. */
static enum ls_reason
check_license(struct ls_txn *t, const struct ls_record *r, const struct ls_lotdef *d,
	      const struct ls_certificate *to, char *msg, size_t msglen, int *err)
{
	const struct ls_transfer *tf = &r->transfer;
	struct ls_record *lr = NULL;
	const struct ls_license *l;
	enum ls_reason reason = LS_R_OK;
	const char *use = *tf->end_use ? tf->end_use : "civilian";
	uint64_t used = 0, eff;
	char h[17];

	if ((*err = ls_txn_record(t, tf->license, &lr)) != 0)
		return LS_R_STORE;
	l = &lr->license;
	hex8(tf->license, h);
	if (lr->type != LS_REC_LICENSE)
		reason =
		    FAIL(LS_R_LICENSE_MISMATCH, "transfer cites %s, which is not a license", h);
	else if (!ls_store_is_anchor(t->s, lr->author) &&
		 ls_rules_check_author(t, lr, LS_ROLE_AUTHORITY, msg, msglen) != LS_R_OK)
		reason = LS_R_LICENSE_MISMATCH;
	else if (memcmp(l->licensee, r->author, LS_KEY_LEN) != 0)
		reason = FAIL(LS_R_LICENSE_MISMATCH,
			      "license %s is not the sender's (wrong licensee)", l->number);
	else if (ls_txn_revoked(t, tf->license, &eff, NULL) == 0 && eff <= r->timestamp)
		reason = FAIL(LS_R_LICENSE_REVOKED, "license %s was revoked", l->number);
	else if (r->timestamp < l->valid_from ||
		 (l->valid_until != 0 && r->timestamp >= l->valid_until))
		reason = FAIL(LS_R_LICENSE_EXPIRED,
			      "license %s is not valid at the transfer's date", l->number);
	else if (!ls_strlist_has(&l->destinations, to->country))
		reason = FAIL(LS_R_LICENSE_MISMATCH, "license %s does not cover destination %s",
			      l->number, to->country);
	else if (l->has_end_user && memcmp(l->end_user, tf->to, LS_KEY_LEN) != 0)
		reason =
		    FAIL(LS_R_LICENSE_MISMATCH, "license %s names another end user", l->number);
	else if (strcasecmp(l->end_use, use) != 0)
		reason = FAIL(LS_R_LICENSE_MISMATCH, "license %s is for end use '%s', not '%s'",
			      l->number, l->end_use, use);
	else if (!license_covers(l, d, tf->tech))
		reason =
		    FAIL(LS_R_LICENSE_MISMATCH, "license %s does not cover this item", l->number);
	if (reason != LS_R_OK)
		goto out;
	if (ls_txn_get_u64(t, t->s->licused, tf->license, LS_ID_LEN, &used) != 0)
		used = 0;
	if (d != NULL && tf->grams > l->max_grams - (used > l->max_grams ? l->max_grams : used)) {
		reason = FAIL(LS_R_LICENSE_EXHAUSTED,
			      "license %s: %llu g of %llu g used, %llu g more asked", l->number,
			      (unsigned long long)used, (unsigned long long)l->max_grams,
			      (unsigned long long)tf->grams);
		goto out;
	}
	if (d != NULL && (*err = ls_txn_put_u64(t, t->s->licused, tf->license, LS_ID_LEN,
						used + tf->grams)) != 0)
		reason = LS_R_STORE;
out:
	ls_record_free(lr);
	return reason;
}

static enum ls_reason
apply_transfer(struct ls_txn *t, const struct ls_record *r, char *msg, size_t msglen, int *err)
{
	const struct ls_transfer *tf = &r->transfer;
	struct ls_record *cr = NULL, *src = NULL;
	const struct ls_lotdef *d = NULL;
	enum ls_reason reason = LS_R_OK;
	uint8_t v[9];
	uint64_t held = 0, eff;
	char h[17];

	*err = 0;
	if ((*err = ls_txn_record(t, tf->to_cert, &cr)) != 0)
		return LS_R_STORE;
	if (cr->type != LS_REC_CERTIFICATE ||
	    memcmp(cr->certificate.subject, tf->to, LS_KEY_LEN) != 0 ||
	    r->timestamp < cr->certificate.valid_from ||
	    (cr->certificate.valid_until != 0 && r->timestamp >= cr->certificate.valid_until) ||
	    (ls_txn_revoked(t, tf->to_cert, &eff, NULL) == 0 && eff <= r->timestamp) ||
	    (ls_txn_revoked(t, tf->to, &eff, NULL) == 0 && eff <= r->timestamp)) {
		reason = FAIL(LS_R_BAD_RECEIVER,
			      "transfer: %s is not a valid certificate of the receiver",
			      hex8(tf->to_cert, h));
		goto out;
	}
	if (tf->has_lot) {
		held = ls_txn_hold(t, r->author, tf->lot);
		if (held == 0) {
			reason = FAIL(LS_R_NOT_HOLDER, "transfer: sender holds none of lot %s",
				      hex8(tf->lot, h));
			goto out;
		}
		if (tf->grams > held) {
			reason = FAIL(LS_R_OVERSPEND,
				      "transfer: ships %llu g of lot %s, sender holds %llu g",
				      (unsigned long long)tf->grams, hex8(tf->lot, h),
				      (unsigned long long)held);
			goto out;
		}
		if ((*err = ls_txn_lot_def(t, tf->lot, &src, &d)) != 0) {
			reason = LS_R_STORE;
			goto out;
		}
	}
	if (tf->has_license &&
	    (reason = check_license(t, r, d, &cr->certificate, msg, msglen, err)) != LS_R_OK)
		goto out;
	if (tf->has_lot) {
		ls_be64_put(v, tf->grams);
		v[8] = 0;
		if ((*err = put_hold(t, r->author, tf->lot, held - tf->grams)) != 0 ||
		    (*err = ls_txn_put(t, t->s->transit, r->id, LS_ID_LEN, v, sizeof(v), 0)) != 0 ||
		    (*err = put_child(t, tf->lot, r->id)) != 0)
			reason = LS_R_STORE;
	} else {
		uint8_t k[LS_KEY_LEN + 8 + LS_ID_LEN];
		memcpy(k, tf->to, LS_KEY_LEN);
		ls_be64_put(k + LS_KEY_LEN, r->timestamp);
		memcpy(k + LS_KEY_LEN + 8, r->id, LS_ID_LEN);
		ls_be64_put(v, 0);
		v[8] = 0;
		if ((*err = ls_txn_put(t, t->s->techs, k, sizeof(k), "", 0, 0)) != 0 ||
		    (*err = ls_txn_put(t, t->s->transit, r->id, LS_ID_LEN, v, sizeof(v), 0)) != 0)
			reason = LS_R_STORE;
	}
out:
	ls_record_free(cr);
	ls_record_free(src);
	return reason;
}

static enum ls_reason
apply_receipt(struct ls_txn *t, const struct ls_record *r, char *msg, size_t msglen, int *err)
{
	struct ls_record *tr = NULL;
	enum ls_reason reason = LS_R_OK;
	MDB_val v;
	uint8_t nv[9];
	uint64_t sent;
	char h[17];

	if ((*err = ls_txn_record(t, r->receipt.transfer, &tr)) != 0)
		return LS_R_STORE;
	hex8(r->receipt.transfer, h);
	if (tr->type != LS_REC_TRANSFER) {
		reason = FAIL(LS_R_BAD_RECEIPT, "receipt: %s is not a transfer", h);
		goto out;
	}
	if (memcmp(tr->transfer.to, r->author, LS_KEY_LEN) != 0) {
		reason =
		    FAIL(LS_R_BAD_RECEIPT, "receipt: transfer %s is addressed to someone else", h);
		goto out;
	}
	if ((*err = ls_txn_get(t, t->s->transit, r->receipt.transfer, LS_ID_LEN, &v)) != 0 ||
	    v.mv_size != 9) {
		reason = LS_R_STORE;
		goto out;
	}
	sent = ls_be64_get(v.mv_data);
	if (((uint8_t *)v.mv_data)[8] != 0) {
		reason = FAIL(LS_R_BAD_RECEIPT, "receipt: transfer %s was already received", h);
		goto out;
	}
	if (r->receipt.grams > sent) {
		reason = FAIL(LS_R_BAD_RECEIPT, "receipt: %llu g received but %llu g were sent",
			      (unsigned long long)r->receipt.grams, (unsigned long long)sent);
		goto out;
	}
	if (tr->transfer.has_lot && r->receipt.grams == 0) {
		reason = FAIL(LS_R_BAD_RECEIPT, "receipt of a lot transfer with 0 g");
		goto out;
	}
	ls_be64_put(nv, sent);
	nv[8] = 1;
	if ((*err = ls_txn_put(t, t->s->transit, r->receipt.transfer, LS_ID_LEN, nv, 9, 0)) != 0 ||
	    (*err = put_child(t, r->receipt.transfer, r->id)) != 0) {
		reason = LS_R_STORE;
		goto out;
	}
	if (tr->transfer.has_lot) {
		uint64_t held = ls_txn_hold(t, r->author, tr->transfer.lot);
		if ((*err = put_hold(t, r->author, tr->transfer.lot, held + r->receipt.grams)) != 0)
			reason = LS_R_STORE;
	}
out:
	ls_record_free(tr);
	return reason;
}

enum ls_reason
ls_rules_apply(struct ls_txn *t, const struct ls_record *r, char *msg, size_t msglen, int *err)
{
	*err = 0;
	switch (r->type) {
	case LS_REC_CERTIFICATE: return apply_certificate(t, r, err);
	case LS_REC_REVOCATION: return apply_revocation(t, r, err);
	case LS_REC_POLICY: return apply_policy(t, r, err);
	case LS_REC_LICENSE: return apply_license(t, r, err);
	case LS_REC_LOT: return apply_lot(t, r, err);
	case LS_REC_TRANSFORMATION: return apply_transformation(t, r, msg, msglen, err);
	case LS_REC_TRANSFER: return apply_transfer(t, r, msg, msglen, err);
	case LS_REC_RECEIPT: return apply_receipt(t, r, msg, msglen, err);
	default: return FAIL(LS_R_MALFORMED, "unknown record type");
	}
}
