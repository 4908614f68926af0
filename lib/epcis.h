/*
 * epcis.h - GS1 EPCIS 2.0 / CBV 2.0 interchange: Lodestone records as EPCIS
 * events (JSON-LD, jansson objects) and back, and the CBV 2.0 event hash.
 *
 * Nothing here decides validity: an event becomes a record that the signer
 * signs and the daemon judges as any other (ingest is the only judge). The
 * mapping is a format conversion, kept exact both ways: a record exported
 * and imported again with the same key, feed position, time and
 * certificates is the same record, byte for byte.
 *
 * Identifiers (README, "EPCIS interchange"):
 *   lot       urn:lodestone:lot:HEX        (the lot id)
 *   record    urn:lodestone:record:HEX     (a record id)
 *   party     urn:lodestone:party:HEX      (a participant's public key)
 *   location  urn:lodestone:loc:HEX[:SITE] (a participant's site, SITE
 *             percent-encoded; without SITE: the participant's premises)
 * Extension terms use the prefix "ls", urn:lodestone:epcis: (LS_EPCIS_NS).
 */
#ifndef LS_EPCIS_H
#define LS_EPCIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "err.h"
#include "record.h"

#define LS_EPCIS_CONTEXT "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#define LS_EPCIS_NS      "urn:lodestone:epcis:"
/* certificationInfo, the EPCIS 2.0 term export writes on each event, and
 * the IRI the EPCIS context expands it to (a document may use either; the
 * event hash leaves out both). */
#define LS_EPCIS_CERT_INFO     "certificationInfo"
#define LS_EPCIS_CERT_INFO_IRI "https://ref.gs1.org/epcis/certificationInfo"

/* Bounds on a document read from outside. */
#define LS_EPCIS_DOC_MAX     (64u * 1024 * 1024) /* bytes of one document */
#define LS_EPCIS_DEPTH_MAX   32                  /* nesting of arrays and objects */
#define LS_EPCIS_EVENTS_MAX  1000000             /* events of one document */
#define LS_EPCIS_VALUES_MAX  4000000u       /* JSON values of one document (entries, members) */
#define LS_EPCIS_PREHASH_MAX (1024u * 1024) /* bytes of one pre-hash string */

/* "ni:///sha-256;" 64 hex "?ver=CBV2.0" and a NUL. */
#define LS_EPCIS_HASH_LEN 90

/* ---- the CBV 2.0 event hash (CBV 2.0 section 8.9) ---- */

/*
 * The namespaces of a document's @context (borrowed json; NULL: the
 * standard prefixes only), to expand "prefix:term" names of extensions.
 * Release with ls_epcis_ns_free (NULL-safe).
 */
struct ls_epcis_ns;
int ls_epcis_ns_new(const json_t *context, struct ls_epcis_ns **out, struct ls_err_ctx *ctx);
void ls_epcis_ns_free(struct ls_epcis_ns *ns);

/*
 * The pre-hash string of event (an EPCIS 2.0 JSON event object, borrowed)
 * under ns (may be NULL): *out malloc'd, NUL-terminated (caller frees).
 * LS_ERR_MALFORMED names the field at fault (a time that does not parse, a
 * value of the wrong type); LS_ERR_TOO_BIG past LS_EPCIS_PREHASH_MAX.
 */
int ls_epcis_prehash(const json_t *event, const struct ls_epcis_ns *ns, char **out,
		     struct ls_err_ctx *ctx);

/* The event hash "ni:///sha-256;HEX?ver=CBV2.0" of event into out. */
int ls_epcis_event_hash(const json_t *event, const struct ls_epcis_ns *ns,
			char out[LS_EPCIS_HASH_LEN], struct ls_err_ctx *ctx);

/*
 * One identifier as the hash sees it (CBV 2.0 8.9.2, and the reference
 * outputs): EPC URNs as GS1 Digital Link URIs on id.gs1.org, Digital Link
 * URIs of other domains on id.gs1.org, CBV URNs as ref.gs1.org URIs; other
 * strings trimmed and unchanged. *out malloc'd.
 */
int ls_epcis_norm_uri(const char *s, char **out);

/*
 * An EPCIS time as the hash writes it: UTC, milliseconds, rounded half up
 * from the fourth decimal ("2023-02-02T12:04:03.1415+01:00" gives
 * "2023-02-02T11:04:03.142Z"). out: at least 25 bytes. ms: the time in
 * milliseconds since 1970 (may be NULL). LS_ERR_MALFORMED.
 */
int ls_epcis_time_norm(const char *s, char out[32], uint64_t *ms);

/* ---- records to events (export) ---- */

/*
 * What an event says besides its record, found by the caller (question
 * time: certificates, revocations, the lot a receipt counts).
 */
struct ls_epcis_extra {
	bool has_lot; /* receipt: the lot of the transfer it receives */
	uint8_t lot[LS_ID_LEN];
	bool revoked; /* the author's key was revoked before the record */
	uint8_t revocation[LS_ID_LEN];
	uint64_t revoked_at; /* the revocation's effective time */
};

/*
 * The event of record r (a lot registration, transformation, lot transfer
 * or receipt; borrowed), with its eventID (the event hash) and the
 * extension ls:recordID. *out is a new json object (caller decrefs).
 * LS_ERR_INVALID for a record type without an event (certificates,
 * licenses, policies, revocations, technology transfers).
 */
int ls_epcis_event_new(const struct ls_record *r, const struct ls_epcis_extra *x, json_t **out,
		       struct ls_err_ctx *ctx);

/* An empty EPCISDocument (its @context, creationDate t, an empty
 * eventList); events go to ls_epcis_doc_events(doc). */
json_t *ls_epcis_doc_new(uint64_t t);
json_t *ls_epcis_doc_events(json_t *doc);

/* ---- events to records (import) ---- */

/*
 * Parses an EPCISDocument of len bytes (at most LS_EPCIS_DOC_MAX, nesting
 * at most LS_EPCIS_DEPTH_MAX, at most LS_EPCIS_EVENTS_MAX events, no
 * duplicate keys, no two events with one eventID or one event hash). *doc: new json (caller
 * decrefs); *events borrowed from it. LS_ERR_TOO_BIG or LS_ERR_MALFORMED
 * with the line, column or event at fault.
 */
int ls_epcis_doc_parse(const char *buf, size_t len, json_t **doc, json_t **events,
		       struct ls_err_ctx *ctx);

/* How the importer finds the lot or record an event names by uri
 * (borrowed): out is the id to use (what this import made of it, or the id
 * in a Lodestone URN that the daemon holds). LS_ERR_NOT_FOUND otherwise. */
enum ls_epcis_ref { LS_EPCIS_REF_LOT, LS_EPCIS_REF_RECORD };
typedef int (*ls_epcis_resolve_fn)(void *arg, enum ls_epcis_ref kind, const char *uri,
				   uint8_t out[LS_ID_LEN]);

/* The record an event gives, and what the importer needs to know of it. */
struct ls_epcis_import {
	struct ls_record *r; /* new record (ls_record_free), unsigned, timestamp set */
	const char *orig;    /* ls:recordID, the record it came from (NULL: none) */
	bool has_signer;     /* ls_epcis_event_signer found one */
	uint8_t signer[LS_KEY_LEN];
	bool has_to_cert; /* transfer: ls:toCertificate gave r->transfer.to_cert */
	size_t n_lots;    /* the lots the event makes, as the event names them */
	const char *lots[LS_LIST_MAX];
	/* orig and lots are borrowed from the event */
};

/*
 * Who event says signs it: ls:signer, else the Lodestone party that is the
 * owning_party it ships from (sourceList) or receives into
 * (destinationList). *found false: it names none (a foreign event, for the
 * importer to sign). LS_ERR_INVALID when ls:signer is not a party's URN or
 * the lists name another party than it (or two).
 */
int ls_epcis_event_signer(const json_t *event, bool *found, uint8_t signer[LS_KEY_LEN],
			  struct ls_err_ctx *ctx);

/*
 * Maps event (borrowed) to a record. Fails with LS_ERR_INVALID and the
 * reason in ctx for what has no record: an AggregationEvent, a quantity
 * without a unit of mass or not an exact number of grams, an unknown lot
 * (resolve said LS_ERR_NOT_FOUND), a missing or mistyped field.
 */
int ls_epcis_import_event(const json_t *event, ls_epcis_resolve_fn resolve, void *arg,
			  struct ls_epcis_import *out, struct ls_err_ctx *ctx);
void ls_epcis_import_release(struct ls_epcis_import *im);

/*
 * Grams of a quantity (a JSON number, borrowed) in uom: KGM, GRM, TNE, or
 * LBR (0.45359237 kg exactly); integer arithmetic on the number's decimal
 * digits. LS_ERR_INVALID when it is not a whole, positive number of grams
 * up to LS_GRAMS_MAX, or uom is not a unit of mass.
 */
int ls_epcis_grams(const json_t *quantity, const char *uom, uint64_t *grams,
		   struct ls_err_ctx *ctx);

#endif
