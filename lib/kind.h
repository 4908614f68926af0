/*
 * kind.h - the record kinds: for each kind its roles, its dependencies, its
 * ingest check and apply, and the rules that verification reuses. One file
 * per kind in kind/; the table is in kind.c. Not a public header.
 *
 * Three layers of checking, named in every check:
 *
 *   consensus (LS_LAYER_CONSENSUS): ingest. Depends only on the record and
 *     the records it names (its dependencies, including its feed
 *     predecessor); integer arithmetic. Every honest node holding the same
 *     records stores the same set, whatever the order of arrival.
 *   admission (LS_LAYER_ADMISSION): the daemon's own clients' submissions.
 *     Consensus, and also facts that arrive later (revocations, policies)
 *     that make a lawful record wrong to submit.
 *   question (LS_LAYER_QUESTION): verify, export, origin, bundles. Applies
 *     the later facts to the records as they stand.
 *
 * A store error (a failed read, no memory) is never a verdict: a check sets
 * why->err and returns LS_R_STORE, and the caller aborts.
 *
 * Adding a record kind: the message in proto/lodestone.proto, its decoding
 * in record.c (the protobuf boundary), one file in kind/ with its entry in
 * the table of kind.c, a client command file, and tests.
 */
#ifndef LS_KIND_H
#define LS_KIND_H

#include <stdio.h>

#include "store_int.h"

enum ls_layer {
	LS_LAYER_CONSENSUS = 0,
	LS_LAYER_ADMISSION = 1,
	LS_LAYER_QUESTION = 2,
};

/* Why a check failed: a one-line message, or a store error. */
struct ls_why {
	char *msg;
	size_t len;
	int err;     /* a store error: the answer is LS_R_STORE */
	bool has_id; /* the record behind the reason (a revocation) */
	uint8_t id[LS_ID_LEN];
};

#define LS_WHY(buf)             ((struct ls_why){(buf), sizeof(buf), 0, false, {0}})
#define LS_FAIL(w, reason, ...) (snprintf((w)->msg, (w)->len, __VA_ARGS__), (reason))

/* Records w's store error rc (nonzero) and returns LS_R_STORE. */
enum ls_reason ls_why_store(struct ls_why *w, int rc);

/* 16 hex digits of an id, for messages. */
const char *ls_h8(const uint8_t *id, char buf[17]);

/*
 * Admission (kind.c): an author names each of its lots by a label, and an
 * authority each of its licenses by a number, once: LS_R_DUPLICATE_NAME
 * names the first record that used `name` (a lot label when `license` is
 * false, a license number when true). Consensus stores a second use (other
 * nodes may have it), and ambiguous names list their candidates.
 */
enum ls_reason ls_name_unused(struct ls_txn *t, const struct ls_record *r, bool license,
			      const char *name, struct ls_why *w);

/* ---- dependencies ---- */

enum ls_dep_kind {
	LS_DEP_PREV,   /* the author's previous record */
	LS_DEP_CERT,   /* the author's certificate */
	LS_DEP_RECORD, /* another record named by id */
	LS_DEP_LOT,    /* a lot id (a registration or a transformation output) */
};

struct ls_dep {
	enum ls_dep_kind kind;
	uint8_t id[LS_ID_LEN];
};

#define LS_DEPS_MAX (3 + 2 * LS_LIST_MAX)

struct ls_deps {
	size_t n;
	struct ls_dep v[LS_DEPS_MAX];
};

/* Adds a dependency (ignored beyond LS_DEPS_MAX: decode bounds every list). */
void ls_deps_add(struct ls_deps *d, enum ls_dep_kind kind, const uint8_t id[LS_ID_LEN]);

/*
 * Every record r names: its feed predecessor, its author's certificate
 * (none for a trust anchor of s), and what its kind names. Used by ingest
 * (parking), bundles and trace alike.
 */
void ls_record_deps(const struct ls_store *s, const struct ls_record *r, struct ls_deps *d);

/* Whether dependency dep is in the store: 0 with *have set, or a store error. */
int ls_dep_have(struct ls_txn *t, const struct ls_dep *dep, bool *have);

/*
 * Whether a proof bundle carries r's feed predecessor (question layer: what
 * a bundle holds, never what ingest accepts). An authority's feed (a trust
 * anchor's, or that of a key the certificate r names makes an authority) is
 * carried whole, so that a policy, license, certificate or revocation cut
 * from the middle of it leaves the next record unapplied; a participant's is
 * not: its records are judged by the records they name, and the evidence of
 * its equivocations travels as evidence. 0 with *carried set (false when r
 * has no prev or its certificate is not stored), or a store error.
 */
int ls_feed_carried(struct ls_txn *t, const struct ls_record *r, bool *carried);

/*
 * Whether r's author is an authority: a trust anchor, or a key the
 * certificate r names certifies with the authority role. A bundle carries
 * an authority's feed whole (question layer). 0 with *yes set, or a store
 * error.
 */
int ls_author_authority(struct ls_txn *t, const struct ls_record *r, bool *yes);

/* ---- the table ---- */

struct ls_kind {
	enum ls_rtype type;
	uint32_t roles; /* the author needs one of them */
	/* What the record names besides prev and cert (may be NULL). */
	void (*deps)(const struct ls_record *r, struct ls_deps *d);
	/* Consensus: the kind's rules on the store state. LS_R_OK or a reason. */
	enum ls_reason (*check)(struct ls_txn *t, const struct ls_record *r, struct ls_why *w);
	/* Writes what an accepted record changes. 0 or a store error. */
	int (*apply)(struct ls_txn *t, const struct ls_record *r);
	/* Admission beyond consensus (may be NULL). */
	enum ls_reason (*admit)(struct ls_txn *t, const struct ls_record *r, struct ls_why *w);
	/* Admission: the question-time rules on the record as submitted, which
	 * a client may override explicitly (LS_ADMIT_LOCAL_VIOLATION). NULL:
	 * none. */
	enum ls_reason (*judge)(struct ls_txn *t, const struct ls_record *r, struct ls_why *w);
};

/* The kind of type, or NULL. */
const struct ls_kind *ls_kind_of(enum ls_rtype type);

extern const struct ls_kind ls_kind_certificate, ls_kind_revocation, ls_kind_policy,
    ls_kind_license, ls_kind_lot, ls_kind_transformation, ls_kind_transfer, ls_kind_receipt,
    ls_kind_ownership;

/*
 * Every check of one record at a layer: its author (certificate, role,
 * period; revocations from admission on) and its kind's rules. Ingest
 * calls it with LS_LAYER_CONSENSUS or LS_LAYER_ADMISSION.
 */
enum ls_reason ls_kind_check(struct ls_txn *t, const struct ls_record *r, enum ls_layer layer,
			     struct ls_why *w);

/* ---- rules shared by kinds and verification ---- */

/*
 * Whether the certificate record cert_id certifies key for one of `roles`
 * at time `at`: it is a certificate, of key, in its period (consensus); and
 * from admission on, neither the key nor the certificate is revoked at `at`
 * by a revocation in scope, and the certificate's own author was valid when
 * it issued it, up to a trust anchor. *cert (may be NULL) gets the
 * certificate record (caller frees). roles 0: any role.
 */
enum ls_reason ls_cert_check(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN],
			     const uint8_t key[LS_KEY_LEN], uint32_t roles, uint64_t at,
			     enum ls_layer layer, struct ls_record **cert, struct ls_why *w);

/*
 * Whether r's author may author r at its date for one of `roles`: a trust
 * anchor may; any other key through ls_cert_check of r->cert_id at
 * r->timestamp. Self-revocation needs no role.
 */
enum ls_reason ls_author_check(struct ls_txn *t, const struct ls_record *r, uint32_t roles,
			       enum ls_layer layer, struct ls_why *w);

/*
 * Whether r's author acts for jurisdiction cc (a trust anchor acts for
 * every one): 0 with *ok set, or a store error.
 */
int ls_author_acts_for(struct ls_txn *t, const struct ls_record *r, const char *cc, bool *ok);

/* The country of r's author's certificate ("" for a trust anchor). */
int ls_author_country_of(struct ls_txn *t, const struct ls_record *r, char cc[3]);
/* The same from the fields it reads: whether the record names a
 * certificate, its author, the certificate (a lot's node has them). */
int ls_author_country_by(struct ls_txn *t, bool has_cert, const uint8_t author[LS_KEY_LEN],
			 const uint8_t cert_id[LS_ID_LEN], char cc[3]);

/* The country of certificate cert_id ("" when it is not a stored
 * certificate). 0 or a store error. */
int ls_cert_country_of(struct ls_txn *t, const uint8_t cert_id[LS_ID_LEN], char cc[3]);

/*
 * Roles of a transfer (kind/transfer.c). A transfer crosses a border when
 * its sender and its receiver are certified in different countries; the
 * sender then needs the exporter role and the receiver the importer role.
 *
 * Consensus: the countries of the certificates transfer tr names (from: its
 * author's, "" for a trust anchor; to: tf->to_cert's). A crossing by them
 * needs the exporter role in the sender's cited certificate (the transfer's
 * check) and the importer role in the certificate the receipt cites (the
 * receipt's check). 0 or a store error.
 */
int ls_transfer_countries(struct ls_txn *t, const struct ls_record *tr, char from[3], char to[3]);

/*
 * Admission and question time: whether tr's receiver may receive tr at its
 * date, judged on every certificate of the two keys valid then at `layer`
 * (revocations in scope from admission on): the receiver holds one giving a
 * role that receives (the roles a receipt needs: not an auditor or an
 * authority alone); and when any country the sender is certified in differs
 * from any the receiver is certified in (a key certified in two countries
 * is judged in each), the receiver holds the importer role and the sender
 * the exporter role. LS_R_BAD_RECEIVER (the receiver), LS_R_WRONG_ROLE (the
 * sender), LS_R_STORE, or LS_R_OK. The message names no record prefix.
 * The one rule: admission of a transfer and verify call it.
 */
enum ls_reason ls_transfer_may_receive(struct ls_txn *t, const struct ls_record *tr,
				       enum ls_layer layer, struct ls_why *w);

/*
 * Question time (kind/revocation.c): whether subject (a key, a certificate
 * id or a license id) is revoked at `at` by a revocation in scope. `grant`
 * is the record that gives the subject its standing: for a key, the
 * certificate it acts under (NULL: a trust anchor); for a certificate, the
 * certificate; for a license, the license. A revocation counts when its
 * author is the key itself, is a trust anchor (and the subject is not
 * another trust anchor), or issued `grant` or a certificate up grant's
 * chain. *rev gets the earliest such revocation's id.
 */
int ls_revoked(struct ls_txn *t, const uint8_t subject[32], const struct ls_record *grant,
	       uint64_t at, bool *revoked, uint8_t rev[LS_ID_LEN], uint64_t *effective);

/*
 * Question time (kind/revocation.c): when a record is judged. Its claimed
 * timestamp is its author's word; its logged time is the quorum time of the
 * earliest witnessed checkpoint that holds it (ls_txn_logged_time: a node's
 * log, or the dates a bundle proves in a bundle_check store). A revocation
 * is compared with `judged`: max(claimed, logged) when logged, else the
 * claimed time (and the record is unwitnessed). A record is backdated when
 * it claims a time more than LS_BACKDATE_TOLERANCE before its logged time.
 * The one rule: daemon verification and verify-bundle both come here.
 */
#define LS_BACKDATE_TOLERANCE 3600 /* seconds; policy data later, fixed for now */

struct ls_rtime {
	uint64_t claimed;
	bool logged_known;
	uint64_t logged; /* when logged_known */
	uint64_t judged;
	bool backdated;
};

/* r's times (see above): 0, or a store error. */
int ls_record_time(struct ls_txn *t, const struct ls_record *r, struct ls_rtime *out);
/* ls_record_time, remembered for the last record asked. */
int ls_qcache_record_time(struct ls_txn *t, const struct ls_record *r, struct ls_rtime *out);

/*
 * License coverage (kind/license.c): one rule for the transfer that cites a
 * license (ingest) and for the export question.
 */
struct ls_license_use {
	const uint8_t *exporter;      /* the licensee must be this key */
	const char *destination;      /* country code */
	const uint8_t *end_user;      /* NULL: none named */
	const char *end_use;          /* "civilian" when "" */
	const struct ls_lotdef *item; /* the lot shipped; NULL for technology */
	const char *tech;             /* technology item when item is NULL */
	uint64_t grams;               /* to use now */
	bool quantity;                /* check grams against what is left */
	uint64_t at;                  /* the date of the use */
	const char *jurisdiction;     /* question: the policy's jurisdiction, or NULL */
};

enum ls_reason ls_license_check(struct ls_txn *t, const struct ls_record *lic,
				const struct ls_license_use *u, enum ls_layer layer,
				struct ls_why *w);

/*
 * Question time on one transfer as submitted (verify.c), the admission
 * judge of transfers: under the policies in force at its date that the
 * store holds, whether it needs a license it does not cite, goes to a denied
 * end use or end user, or carries material under a re-export bar to a
 * barred destination: the same hop rule verify applies. LS_R_OK, or the
 * first reason (a denial before a missing license) with its message and a
 * count of the others; LS_R_STORE.
 */
enum ls_reason ls_transfer_judge(struct ls_txn *t, const struct ls_record *r, struct ls_why *w);

/* Whether a license's items cover the lot (its category or an element it
 * contains) or the technology item. */
bool ls_license_covers_item(const struct ls_license *l, const struct ls_lotdef *d,
			    const char *tech);

#endif
