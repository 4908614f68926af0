/*
 * kind.c - the table of record kinds, their dependencies, and the author
 * rules every kind shares (certificate, role, period, scope).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kind.h"
#include "util.h"

/* Certificates of authorities certified by authorities: a chain deeper than
 * this is refused (no real licensing hierarchy has more than a few levels). */
#define CHAIN_MAX 8

static const struct ls_kind *const kinds[LS_REC_TYPE_COUNT] = {
    [LS_REC_CERTIFICATE] = &ls_kind_certificate,
    [LS_REC_REVOCATION] = &ls_kind_revocation,
    [LS_REC_POLICY] = &ls_kind_policy,
    [LS_REC_LICENSE] = &ls_kind_license,
    [LS_REC_LOT] = &ls_kind_lot,
    [LS_REC_TRANSFORMATION] = &ls_kind_transformation,
    [LS_REC_TRANSFER] = &ls_kind_transfer,
    [LS_REC_RECEIPT] = &ls_kind_receipt,
    [LS_REC_OWNERSHIP] = &ls_kind_ownership,
};

const struct ls_kind *
ls_kind_of(enum ls_rtype type)
{
	if ((unsigned)type >= LS_REC_TYPE_COUNT)
		return NULL;
	return kinds[type];
}

uint32_t
ls_rtype_roles(enum ls_rtype t)
{
	const struct ls_kind *k = ls_kind_of(t);
	return k != NULL ? k->roles : 0;
}

enum ls_reason
ls_why_store(struct ls_why *w, int rc)
{
	w->err = rc ? rc : LS_ERR_STORE;
	return LS_R_STORE;
}

const char *
ls_h8(const uint8_t *id, char buf[17])
{
	char full[2 * LS_ID_LEN + 1];

	ls_hex(id, LS_ID_LEN, full);
	memcpy(buf, full, 16);
	buf[16] = '\0';
	return buf;
}

/* ---- dependencies ---- */

void
ls_deps_add(struct ls_deps *d, enum ls_dep_kind kind, const uint8_t id[LS_ID_LEN])
{
	if (d->n == LS_DEPS_MAX)
		return;
	d->v[d->n].kind = kind;
	memcpy(d->v[d->n].id, id, LS_ID_LEN);
	d->n++;
}

void
ls_record_deps(const struct ls_store *s, const struct ls_record *r, struct ls_deps *d)
{
	const struct ls_kind *k = ls_kind_of(r->type);

	d->n = 0;
	/* The certificate first: a record waits for its author's certificate
	 * before anything else (see the pending set in ingest.c). */
	if (r->has_cert && !ls_store_is_anchor(s, r->author))
		ls_deps_add(d, LS_DEP_CERT, r->cert_id);
	if (r->has_prev)
		ls_deps_add(d, LS_DEP_PREV, r->prev);
	if (k != NULL && k->deps != NULL)
		k->deps(r, d);
}

int
ls_dep_have(struct ls_txn *t, const struct ls_dep *dep, bool *have)
{
	struct ls_lot_info li;
	int rc;

	if (dep->kind == LS_DEP_LOT)
		rc = ls_txn_lot(t, dep->id, &li);
	else
		rc = ls_txn_record_has(t, dep->id);
	*have = rc == 0;
	return rc == LS_ERR_NOT_FOUND ? 0 : rc;
}

int
ls_feed_carried(struct ls_txn *t, const struct ls_record *r, bool *carried)
{
	struct ls_record *cert = NULL;
	int rc;

	*carried = false;
	if (!r->has_prev)
		return 0;
	if (ls_store_is_anchor(t->s, r->author)) {
		*carried = true;
		return 0;
	}
	if (!r->has_cert)
		return 0;
	if ((rc = ls_txn_record(t, r->cert_id, &cert)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	*carried = cert->type == LS_REC_CERTIFICATE &&
		   memcmp(cert->certificate.subject, r->author, LS_KEY_LEN) == 0 &&
		   (cert->certificate.roles & LS_ROLE_AUTHORITY) != 0;
	ls_record_free(cert);
	return 0;
}

int
ls_author_authority(struct ls_txn *t, const struct ls_record *r, bool *yes)
{
	struct ls_record *cert = NULL;
	int rc;

	*yes = ls_store_is_anchor(t->s, r->author);
	if (*yes || !r->has_cert)
		return 0;
	if ((rc = ls_txn_record(t, r->cert_id, &cert)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	*yes = cert->type == LS_REC_CERTIFICATE &&
	       memcmp(cert->certificate.subject, r->author, LS_KEY_LEN) == 0 &&
	       (cert->certificate.roles & LS_ROLE_AUTHORITY) != 0;
	ls_record_free(cert);
	return 0;
}

/* ---- certificates and authors ---- */

static enum ls_reason author_check_depth(struct ls_txn *t, const struct ls_record *r,
					 uint32_t roles, enum ls_layer layer, int depth,
					 struct ls_why *w);

/*
 * What a certificate says, and (from admission on) what is known of it: the
 * earliest revocation in scope of its key and of itself, and whether its
 * author was valid when it issued it. Whether it certifies a key for a role
 * at a time is then cert_judge, the one place those rules are written. A
 * read transaction keeps each window (nothing it reads changes there); a
 * write transaction works it out afresh, since a batch may add revocations.
 */
struct cert_window {
	bool is_cert;
	bool scoped; /* the admission and question parts were worked out */
	uint8_t subject[LS_KEY_LEN];
	uint32_t roles;
	uint64_t from, until;
	bool key_revoked, cert_revoked;
	uint64_t key_eff, cert_eff;
	uint8_t key_rev[LS_ID_LEN], cert_rev[LS_ID_LEN];
	enum ls_reason issuer; /* LS_R_OK, or why its author was not valid */
	char issuer_msg[LS_ERR_MSG_MAX];
};

static int
cert_window_fill(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], enum ls_layer layer, int depth,
		 struct cert_window *cw)
{
	struct ls_record *cert = NULL;
	const struct ls_certificate *c;
	struct ls_why iw;
	int rc;

	if ((rc = ls_txn_record(t, cert_id, &cert)) != 0)
		return rc;
	cw->is_cert = cert->type == LS_REC_CERTIFICATE;
	if (!cw->is_cert)
		goto out;
	c = &cert->certificate;
	memcpy(cw->subject, c->subject, LS_KEY_LEN);
	cw->roles = c->roles;
	/* A certificate starts when it is issued at the earliest: an authority
	 * cannot lend a key validity before it certified it. */
	cw->from = c->valid_from > cert->timestamp ? c->valid_from : cert->timestamp;
	cw->until = c->valid_until;
	if (layer == LS_LAYER_CONSENSUS)
		goto out;
	cw->scoped = true;
	if ((rc = ls_revoked(t, c->subject, cert, UINT64_MAX, &cw->key_revoked, cw->key_rev,
			     &cw->key_eff)) != 0 ||
	    (rc = ls_revoked(t, cert_id, cert, UINT64_MAX, &cw->cert_revoked, cw->cert_rev,
			     &cw->cert_eff)) != 0)
		goto out;
	iw = (struct ls_why){cw->issuer_msg, sizeof(cw->issuer_msg), 0, false, {0}};
	if (depth >= CHAIN_MAX)
		cw->issuer = LS_FAIL(&iw, LS_R_UNTRUSTED, "chain longer than %d", CHAIN_MAX);
	else
		cw->issuer = author_check_depth(t, cert, LS_ROLE_AUTHORITY, layer, depth + 1, &iw);
	if (cw->issuer == LS_R_STORE)
		rc = iw.err;
out:
	ls_record_free(cert);
	return rc;
}

/* The window of cert_id: borrowed from the memo, or *owned (free it). */
static int
cert_window(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], enum ls_layer layer, int depth,
	    struct cert_window **out, struct cert_window **owned)
{
	bool memo = t->readonly && layer == LS_LAYER_QUESTION;
	struct cert_window *cw = memo && t->memo != NULL ? ls_idmap_get(t->memo, cert_id) : NULL;
	int rc = 0;

	*owned = NULL;
	if (cw != NULL) {
		*out = cw;
		return 0;
	}
	if ((cw = calloc(1, sizeof(*cw))) == NULL)
		return LS_ERR_NOMEM;
	if ((rc = cert_window_fill(t, cert_id, layer, depth, cw)) != 0) {
		free(cw);
		return rc;
	}
	if (!memo) {
		*out = *owned = cw;
		return 0;
	}
	if ((t->memo == NULL && (t->memo = ls_idmap_new()) == NULL) ||
	    (rc = ls_idmap_put(t->memo, cert_id, cw)) != 0) {
		free(cw);
		return rc ? rc : LS_ERR_NOMEM;
	}
	*out = cw;
	return 0;
}

/* The rules: a certificate of the key, in its period, giving a role asked
 * (consensus); neither key nor certificate revoked at `rev_at`, issued by a
 * valid authority (admission and question time). rev_at is `at` but for a
 * record's author at question time: the later of its claimed and logged
 * times (ls_record_time). */
static enum ls_reason
cert_judge(const struct cert_window *cw, const uint8_t cert_id[LS_ID_LEN],
	   const uint8_t key[LS_KEY_LEN], uint32_t roles, uint64_t at, uint64_t rev_at,
	   struct ls_why *w)
{
	char h[17], hr[17], logged[96] = "", t1[32], t2[32];

	/* The id in hex only for a message: most records pass. */
#define H8 ls_h8(cert_id, h)
	if (!cw->is_cert || memcmp(cw->subject, key, LS_KEY_LEN) != 0)
		return LS_FAIL(w, LS_R_NO_CERTIFICATE, "%s is not a certificate of the key", H8);
	if (at < cw->from || (cw->until != 0 && at >= cw->until))
		return LS_FAIL(w, LS_R_CERT_EXPIRED, "certificate %s is not valid at %s", H8,
			       ls_time_format(at, t1, sizeof(t1)));
	if (roles != 0 && (cw->roles & roles) == 0) {
		char have[128];
		ls_roles_format(cw->roles, have, sizeof(have));
		return LS_FAIL(w, LS_R_WRONG_ROLE,
			       "certificate %s gives roles (%s) that do not allow it", H8, have);
	}
	if (!cw->scoped)
		return LS_R_OK;
	if (rev_at != at)
		snprintf(logged, sizeof(logged), "; the record claims %s but was logged at %s",
			 ls_time_format(at, t1, sizeof(t1)),
			 ls_time_format(rev_at, t2, sizeof(t2)));
	if (cw->key_revoked && cw->key_eff <= rev_at) {
		w->has_id = true;
		memcpy(w->id, cw->key_rev, LS_ID_LEN);
		return LS_FAIL(w, LS_R_REVOKED, "key was revoked at %s (revocation %s)%s",
			       ls_time_format(cw->key_eff, t1, sizeof(t1)), ls_h8(cw->key_rev, hr),
			       logged);
	}
	if (cw->cert_revoked && cw->cert_eff <= rev_at) {
		w->has_id = true;
		memcpy(w->id, cw->cert_rev, LS_ID_LEN);
		return LS_FAIL(
		    w, LS_R_REVOKED, "certificate %s was revoked at %s (revocation %s)%s", H8,
		    ls_time_format(cw->cert_eff, t1, sizeof(t1)), ls_h8(cw->cert_rev, hr), logged);
	}
	if (cw->issuer != LS_R_OK)
		return LS_FAIL(w, cw->issuer,
			       "certificate %s was issued by an invalid authority: %s", H8,
			       cw->issuer_msg);
	return LS_R_OK;
#undef H8
}

static enum ls_reason
cert_check_depth(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], const uint8_t key[LS_KEY_LEN],
		 uint32_t roles, uint64_t at, uint64_t rev_at, enum ls_layer layer, int depth,
		 struct ls_record **out, struct ls_why *w)
{
	struct cert_window *cw = NULL, *owned = NULL;
	enum ls_reason reason;
	char h[17];
	int rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = cert_window(t, cert_id, layer, depth, &cw, &owned)) != 0) {
		if (rc != LS_ERR_NOT_FOUND)
			return ls_why_store(w, rc);
		return LS_FAIL(w, LS_R_NO_CERTIFICATE, "certificate %s is not on the ledger",
			       ls_h8(cert_id, h));
	}
	reason = cert_judge(cw, cert_id, key, roles, at, rev_at, w);
	free(owned);
	if (reason == LS_R_OK && out != NULL && (rc = ls_txn_record(t, cert_id, out)) != 0)
		return ls_why_store(w, rc);
	return reason;
}

enum ls_reason
ls_cert_check(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], const uint8_t key[LS_KEY_LEN],
	      uint32_t roles, uint64_t at, enum ls_layer layer, struct ls_record **cert,
	      struct ls_why *w)
{
	return cert_check_depth(t, cert_id, key, roles, at, at, layer, 0, cert, w);
}

static enum ls_reason
author_check_depth(struct ls_txn *t, const struct ls_record *r, uint32_t roles, enum ls_layer layer,
		   int depth, struct ls_why *w)
{
	uint8_t rev[LS_ID_LEN];
	uint64_t eff, rev_at = r->timestamp;
	bool revoked;
	int rc;

	/* Question time: a revocation is compared with the record's logged
	 * time when that is later than the time it claims. */
	if (layer == LS_LAYER_QUESTION) {
		struct ls_rtime rt;
		if ((rc = ls_qcache_record_time(t, r, &rt)) != 0)
			return ls_why_store(w, rc);
		rev_at = rt.judged;
	}
	if (ls_store_is_anchor(t->s, r->author)) {
		if (layer == LS_LAYER_CONSENSUS)
			return LS_R_OK;
		/* A trust anchor is revoked only by itself. */
		if ((rc = ls_revoked(t, r->author, NULL, rev_at, &revoked, rev, &eff)) != 0)
			return ls_why_store(w, rc);
		if (revoked) {
			char when[32];
			return LS_FAIL(w, LS_R_REVOKED, "the trust anchor revoked itself at %s",
				       ls_time_format(eff, when, sizeof(when)));
		}
		return LS_R_OK;
	}
	if (!r->has_cert)
		return LS_FAIL(w, LS_R_NO_CERTIFICATE, "%s record: the author has no certificate",
			       ls_rtype_name(r->type));
	/* A key may always revoke itself, and the certificate it acts under. */
	if (r->type == LS_REC_REVOCATION &&
	    (memcmp(r->revocation.subject, r->author, LS_KEY_LEN) == 0 ||
	     memcmp(r->revocation.subject, r->cert_id, LS_ID_LEN) == 0))
		roles = 0;
	return cert_check_depth(t, r->cert_id, r->author, roles, r->timestamp, rev_at, layer, depth,
				NULL, w);
}

enum ls_reason
ls_author_check(struct ls_txn *t, const struct ls_record *r, uint32_t roles, enum ls_layer layer,
		struct ls_why *w)
{
	return author_check_depth(t, r, roles, layer, 0, w);
}

int
ls_author_acts_for(struct ls_txn *t, const struct ls_record *r, const char *cc, bool *ok)
{
	const struct ls_record *cert = NULL;
	struct ls_record *owned = NULL;
	int rc;

	*ok = false;
	if (ls_store_is_anchor(t->s, r->author)) {
		*ok = true;
		return 0;
	}
	if (!r->has_cert)
		return 0;
	if ((rc = ls_txn_record_ref(t, r->cert_id, &cert, &owned)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	*ok = cert->type == LS_REC_CERTIFICATE && ls_cert_acts_for(&cert->certificate, cc);
	ls_record_free(owned);
	return 0;
}

int
ls_cert_country_of(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], char cc[3])
{
	const struct ls_record *cert = NULL;
	struct ls_record *owned = NULL;
	int rc;

	cc[0] = '\0';
	if ((rc = ls_txn_record_ref(t, cert_id, &cert, &owned)) != 0)
		return rc == LS_ERR_NOT_FOUND ? 0 : rc;
	if (cert->type == LS_REC_CERTIFICATE)
		memcpy(cc, cert->certificate.country, 3);
	ls_record_free(owned);
	return 0;
}

int
ls_author_country_by(struct ls_txn *t, bool has_cert, const uint8_t author[LS_KEY_LEN],
		     const uint8_t cert_id[LS_ID_LEN], char cc[3])
{
	cc[0] = '\0';
	if (!has_cert || ls_store_is_anchor(t->s, author))
		return 0;
	return ls_cert_country_of(t, cert_id, cc);
}

int
ls_author_country_of(struct ls_txn *t, const struct ls_record *r, char cc[3])
{
	return ls_author_country_by(t, r->has_cert, r->author, r->cert_id, cc);
}

enum ls_reason
ls_kind_check(struct ls_txn *t, const struct ls_record *r, enum ls_layer layer, struct ls_why *w)
{
	const struct ls_kind *k = ls_kind_of(r->type);
	enum ls_reason reason;
	char inner[LS_ERR_MSG_MAX];

	if (k == NULL)
		return LS_FAIL(w, LS_R_MALFORMED, "unknown record type");
	reason = ls_author_check(t, r, k->roles, layer, w);
	if (reason != LS_R_OK) {
		if (reason != LS_R_STORE) {
			snprintf(inner, sizeof(inner), "%s", w->msg);
			(void)LS_FAIL(w, reason, "%s record: %s", ls_rtype_name(r->type), inner);
		}
		return reason;
	}
	if (k->check != NULL && (reason = k->check(t, r, w)) != LS_R_OK)
		return reason;
	if (layer >= LS_LAYER_ADMISSION && k->admit != NULL)
		return k->admit(t, r, w);
	return LS_R_OK;
}

enum ls_reason
ls_name_unused(struct ls_txn *t, const struct ls_record *r, bool license, const char *name,
	       struct ls_why *w)
{
	uint8_t first[LS_ID_LEN];
	char h[17];
	int rc;

	if (name == NULL || *name == '\0')
		return LS_R_OK;
	rc = license ? ls_txn_licnum_of(t, name, r->author, first)
		     : ls_txn_label_of(t, name, r->author, first);
	if (rc == LS_ERR_NOT_FOUND)
		return LS_R_OK;
	if (rc != 0)
		return ls_why_store(w, rc);
	return LS_FAIL(w, LS_R_DUPLICATE_NAME,
		       license ? "license number '%s' is already used by your license %s: give "
				 "another"
			       : "label '%s' is already used by your lot %s: give another",
		       name, ls_h8(first, h));
}
