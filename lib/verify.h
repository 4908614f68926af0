/*
 * verify.h - the questions the ledger answers: provenance, export check,
 * origin shares, trace, and proof bundles. Every answer is computed from the
 * records in the store in one read transaction, with integer arithmetic, so
 * every node holding the same records gives the same answer.
 */
#ifndef LS_VERIFY_H
#define LS_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "reason.h"
#include "record.h"
#include "store.h"

enum ls_verdict_kind {
	LS_V_VALID = 0,        /* provenance valid */
	LS_V_BROKEN,           /* provenance broken */
	LS_V_ALLOWED,          /* export allowed (provenance valid) */
	LS_V_LICENSE_REQUIRED, /* export needs a license that is not present */
	LS_V_DENIED,           /* export denied */
};

/* "valid", "broken", "allowed", "license-required", "denied". */
const char *ls_verdict_name(enum ls_verdict_kind k);

#define LS_REASON_IDS_MAX 8

struct ls_verdict_reason {
	enum ls_reason code;
	char message[LS_ERR_MSG_MAX];
	size_t n_ids;
	uint8_t ids[LS_REASON_IDS_MAX][LS_ID_LEN]; /* the records behind the reason */
	/* A fault elsewhere in the lot's history (another holder's branch): it
	 * does not decide this verdict, and is shown so that an auditor sees it. */
	bool warning;
};

struct ls_verdict_part;

/*
 * A verdict with its reasons. Caller-owned; release with ls_verdict_release.
 *
 * A lot's material can sit with several holders, and in transit, each having
 * come by its own custody path. A question that names no holder gets one
 * verdict per holder and per transfer in transit (parts, at most
 * LS_VERDICT_PARTS_MAX, the most grams first; parts_more counts the rest);
 * kind and reasons are then those of the worst part (broken or denied, then
 * license-required). A question naming a holder gets that holder's verdict
 * and no parts.
 */
/* What a question read from the store: its cost model. records: record
 * envelopes read (each decoded once at most); reads: table reads (point
 * reads and cursor steps), records included. Set by ls_verify*,
 * ls_verify_origin* and ls_trace; never part of an answer's meaning. */
struct ls_read_cost {
	uint64_t records;
	uint64_t reads;
	/* Of the reads, those that descend a table's tree from its root (a
	 * point read, a cursor's first positioning): the rest step to the next
	 * key, on the same page most often. */
	uint64_t seeks;
};

struct ls_verdict {
	enum ls_verdict_kind kind;
	size_t n;
	struct ls_verdict_reason *reasons; /* malloc'd */
	uint64_t ancestors;                /* records examined */
	size_t n_parts;
	struct ls_verdict_part *parts; /* malloc'd; NULL when n_parts is 0 */
	uint64_t parts_more;           /* holders and transfers not judged */
	uint64_t reasons_more;         /* a part through the API: reasons not carried */
	struct ls_read_cost cost;      /* what the question read (not carried by the API) */
};

#define LS_VERDICT_PARTS_MAX 64

/* The verdict on the material one holder holds, or one transfer carries. */
struct ls_verdict_part {
	uint8_t holder[LS_KEY_LEN]; /* in transit: the receiver */
	bool in_transit;
	uint8_t transfer[LS_ID_LEN]; /* in transit: the transfer */
	uint64_t grams;
	struct ls_verdict v; /* no parts of its own */
};

void ls_verdict_init(struct ls_verdict *v);
void ls_verdict_release(struct ls_verdict *v);

/* Reasons of v that decide it (not warnings). */
size_t ls_verdict_faults(const struct ls_verdict *v);

/*
 * Provenance of lot: every ancestor back to its registrations, and the
 * custody path of each holder's material (see struct ls_verdict). kind is
 * LS_V_VALID or LS_V_BROKEN with a reason per fault. LS_ERR_NOT_FOUND when
 * the lot is unknown.
 */
int ls_verify_provenance(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct ls_verdict *v);

struct ls_export_query {
	uint8_t lot[LS_ID_LEN];
	bool has_from; /* the holder who would export; default: the lot's holder */
	uint8_t from[LS_KEY_LEN];
	char destination[LS_COUNTRY_LEN + 1];
	bool has_end_user;
	uint8_t end_user[LS_KEY_LEN];
	const char *end_use; /* "civilian" when NULL */
	uint64_t time;       /* policies in force at this time; 0: now */
	bool has_license;    /* a license the exporter would cite */
	uint8_t license[LS_ID_LEN];
};

/*
 * Export check: provenance of the material the exporter holds first (broken
 * is denied), then every policy in force, re-export bindings of the licenses
 * up its custody path, and de minimis. kind is LS_V_ALLOWED,
 * LS_V_LICENSE_REQUIRED or LS_V_DENIED, with every reason. Without
 * q->has_from, one part per holder.
 */
int ls_verify_export(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v);

/*
 * The question q asks: an export check when q->destination is set, else
 * provenance of the material q->from holds (every holder's without
 * has_from). q->time: the date asked (0: now); before the lot was made the
 * answer says so (not-made) and is broken, or denied for an export.
 */
int ls_verify(struct ls_store *s, const struct ls_export_query *q, struct ls_verdict *v);

/* ---- origin ---- */

struct ls_origin_part {
	char name[LS_STR_MAX + 1]; /* a country code or a mine (site) name */
	uint64_t grams;
};

/*
 * The stages of the chain (DOMAIN.md). A lot's stage follows from what made
 * it (ls_stage_of): a registration of ore or concentrate is mining, of an
 * oxide separation, and so on; a transformation's from the category of the
 * output it makes, or recycling for the material of the scrap it consumes
 * (the material of its other inputs is at the stage of its category). A
 * transformation that makes scrap (offcuts) adds no stage.
 */
enum ls_stage {
	LS_STAGE_MINING,
	LS_STAGE_SEPARATION, /* into oxides */
	LS_STAGE_METAL,      /* metal or alloy */
	LS_STAGE_MAGNET,
	LS_STAGE_COMPONENT,
	LS_STAGE_PRODUCT,
	LS_STAGE_RECYCLING,
	LS_STAGE_COUNT
};

/* "mining", "separation", "metal", "magnet", "component", "product",
 * "recycling"; "?" out of range. */
const char *ls_stage_name(int stage);
/* The stage of that name, or -1. */
int ls_stage_parse(const char *name);
/*
 * The stage of a lot of `category` made by a registration (registration
 * true) or by a transformation (consumes_scrap: one of its inputs is
 * scrap); -1: none (scrap registered or made).
 */
int ls_stage_of(const char *category, bool registration, bool consumes_scrap);

/* Who did one stage of some of the material. */
struct ls_stage_place {
	/* "" for material that entered the ledger past this stage (a lot
	 * registered as oxide has an unknown mining stage): site and org are
	 * then "" and record is the registration. */
	char country[LS_COUNTRY_LEN + 1];
	char site[LS_STR_MAX + 1]; /* the record's site ("" when it names none) */
	char org[LS_STR_MAX + 1];  /* the organisation of the maker's certificate */
	uint8_t record[LS_ID_LEN]; /* the registration or transformation */
	uint64_t grams;
};

struct ls_origin_stage {
	int stage;      /* enum ls_stage */
	uint64_t grams; /* of the element that went through it: the places add up to it */
	size_t n_places, n_country;
	struct ls_stage_place *places;     /* malloc'd; sorted by country, site, record */
	struct ls_origin_part *by_country; /* malloc'd; "" is unknown; adds up to .grams */
};

struct ls_origin_elem {
	uint32_t z;
	uint64_t grams; /* of this element in the lot */
	size_t n_country, n_mine, n_processing;
	struct ls_origin_part *by_country;    /* malloc'd; grams add up to .grams */
	struct ls_origin_part *by_mine;       /* malloc'd; grams add up to .grams */
	struct ls_origin_part *by_processing; /* malloc'd; grams add up to .grams */
	/* With stages asked (ls_verify_origin_stages): every stage some of
	 * the element went through, in enum order (malloc'd). */
	size_t n_stages;
	struct ls_origin_stage *stages;
};

struct ls_origin {
	uint8_t lot[LS_ID_LEN];
	bool has_holder; /* the material of one holder (ls_verify_origin_of) */
	uint8_t holder[LS_KEY_LEN];
	uint64_t grams;    /* of the material judged: the lot's, or what the holder holds */
	char category[16]; /* the lot's */
	size_t n;
	struct ls_origin_elem *elems; /* malloc'd, sorted by z */
	struct ls_read_cost cost;
};

/*
 * Per element of lot: grams by mine, by country of mining and by country of
 * last processing, pro rata through every transformation (largest-remainder
 * rounding so that parts add up exactly). Release with ls_origin_release.
 */
int ls_verify_origin(struct ls_store *s, const uint8_t lot[LS_ID_LEN], struct ls_origin *o);

/*
 * As ls_verify_origin, for the grams of lot that holder (NULL: the whole
 * lot) holds now: every element's grams are the lot's composition applied
 * to that mass, split by the same shares (parts still add up exactly). A
 * holder holding none gets o->grams 0 and no elements.
 */
int ls_verify_origin_of(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
			struct ls_origin *o);
/*
 * As ls_verify_origin_of, with every element's stages: per stage, the grams
 * of the element each place (maker's country, site, organisation and record)
 * did, pro rata through every transformation as the other shares. At each
 * stage the places add up exactly to the grams that went through it (the
 * rest of the element did not: a blend of recycled and mined metal).
 */
int ls_verify_origin_stages(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
			    struct ls_origin *o);

/* Fills st->by_country from st->places (replacing it): 0 or LS_ERR_NOMEM. */
int ls_origin_stage_countries(struct ls_origin_stage *st);
void ls_origin_release(struct ls_origin *o);

/* ---- trace ---- */

struct ls_trace_node {
	uint8_t id[LS_ID_LEN]; /* lot id */
	char label[LS_STR_MAX + 1];
	char category[16];
	uint64_t grams;
	char country[LS_COUNTRY_LEN + 1]; /* where it was registered or made */
	uint8_t holder[LS_KEY_LEN];       /* who made it */
	uint8_t record[LS_ID_LEN];        /* the record that made it */
	bool transformed;                 /* record is a transformation (else a registration) */
};

/*
 * Input `from` of the transformation `record` that made `to`: one edge per
 * (input, output) pair, so an input of a transformation with several
 * outputs in the trace has several; all but the first have `repeat` set
 * (a picture draws the input once). by: the transformation's author;
 * held: by is not from's maker (it holds from by a transfer).
 */
struct ls_trace_edge {
	uint8_t from[LS_ID_LEN]; /* lot ids: from is an input of to */
	uint8_t to[LS_ID_LEN];
	uint8_t record[LS_ID_LEN]; /* the transformation */
	uint64_t grams;
	uint8_t by[LS_KEY_LEN];
	bool held, repeat;
};

/*
 * A transfer of lot: from_maker when the sender made the lot (else it
 * holds it by an earlier transfer). The countries are those of the
 * sender's certificate and of the receiver's (to_cert) named by the
 * transfer ("" for a trust anchor); the license the transfer cites, and
 * its number, when it cites one.
 */
struct ls_trace_transfer {
	uint8_t lot[LS_ID_LEN];
	uint8_t record[LS_ID_LEN];
	uint8_t from[LS_KEY_LEN], to[LS_KEY_LEN];
	uint64_t grams;
	bool from_maker;
	char from_country[LS_COUNTRY_LEN + 1], to_country[LS_COUNTRY_LEN + 1];
	bool has_license;
	uint8_t license[LS_ID_LEN];
	char license_number[LS_STR_MAX + 1];
	bool received;
	/* What the receipt says (the lowest receipt id when an equivocating
	 * receiver signed several): grams received, the shortfall it returns to
	 * the sender and why; whether the sender took it back, how much, and why
	 * the rest is lost. */
	uint8_t receipt[LS_ID_LEN];
	uint64_t received_grams, returned_grams, taken_back_grams;
	bool taken_back;
	char reason[LS_STR_MAX + 1], loss_reason[LS_STR_MAX + 1];
};

struct ls_trace {
	size_t n_nodes, n_edges, n_transfers;
	struct ls_trace_node *nodes;
	struct ls_trace_edge *edges;
	struct ls_trace_transfer *transfers;
	struct ls_read_cost cost;
};

/* Ancestors (down = false) or descendants (down = true) of lot. */
int ls_trace(struct ls_store *s, const uint8_t lot[LS_ID_LEN], bool down, struct ls_trace *t);
void ls_trace_release(struct ls_trace *t);

/*
 * Every record a verdict on lot needs (its making, holders and custody,
 * ancestors, certificates up to the trust anchors and the feeds of the
 * authorities, licenses, policies and revocations; not participants' feeds:
 * see trace.c), dependencies first, with the first equivocation evidence s
 * keeps for each of their authors, as a serialized Bundle naming lot.
 * *out malloc'd.
 */
int ls_bundle_collect(struct ls_store *s, const uint8_t lot[LS_ID_LEN], uint8_t **out, size_t *len);

/*
 * As ls_bundle_collect, proven in the store's log (Bundle.log, logproof.h):
 * as of the latest checkpoint that reached quorum when it holds every record
 * the bundle wants, else the latest checkpoint, with
 * the feed of every authority (the trust anchors, the authors of the
 * certificates, policies, licenses and revocations it holds that are
 * authorities) whole to its head at that checkpoint, and each record's
 * inclusion, dating checkpoint, and the head proofs. log_vkey: the log's
 * verifier key (text). flags: LS_BUNDLE_NO_FEEDS leaves the feeds as
 * ls_bundle_collect does and proves no head (for measurements).
 * LS_ERR_BUSY when a record the bundle wants is logged after the latest
 * checkpoint (the next seal takes it in), LS_ERR_NOT_FOUND when the lot is
 * unknown. A store without the log (no_log) gives the bundle of
 * ls_bundle_collect.
 */
#define LS_BUNDLE_NO_FEEDS 1u
int ls_bundle_collect_log(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey,
			  unsigned flags, uint8_t **out, size_t *len);

/*
 * A bundle in chunks (a reply streamed to a client): the plan pins, at one
 * moment, what ls_bundle_collect_log (log_vkey non-NULL) or
 * ls_bundle_collect (NULL) would write: the ordered record ids, the
 * evidence pairs, and with a log the checkpoint size, each record's dating
 * checkpoint and the log proof without its inclusions. Emission reads the
 * records and proofs again by id (they are immutable), so the
 * concatenation of every chunk is byte for byte the bundle those functions
 * return at the moment of the plan, however long emission takes and
 * whatever arrives meanwhile. (Those functions are a plan emitted in one
 * chunk.)
 *
 * Memory: the plan holds 32 bytes per record (36 with a log), the evidence
 * pairs (at most two envelopes per author that equivocated), the log
 * proof's checkpoint notes and head proofs, and one item of scratch
 * (LS_ENVELOPE_MAX + 16 bytes); ls_bundle_plan_mem() tells. Making it walks
 * the bundle as ls_bundle_collect does (its id maps, freed on return).
 *
 * ls_bundle_plan_new: the errors of ls_bundle_collect_log / ls_bundle_collect
 * (LS_ERR_NOT_FOUND, LS_ERR_BUSY, a store error, LS_ERR_NOMEM); *out freed
 * with ls_bundle_plan_free. A plan is used by one thread at a time.
 */
struct ls_bundle_plan;
int ls_bundle_plan_new(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey,
		       unsigned flags, struct ls_bundle_plan **out);
/* Bytes of the whole bundle, records in it, bytes the plan holds. */
uint64_t ls_bundle_plan_size(const struct ls_bundle_plan *p);
size_t ls_bundle_plan_records(const struct ls_bundle_plan *p);
size_t ls_bundle_plan_mem(const struct ls_bundle_plan *p);
/*
 * Writes the next bytes of the bundle into buf (cap > 0 bytes): exactly cap
 * unless the bundle ends first; *done once the last byte was written
 * (*len 0 when called again after that). One read transaction per call.
 * LS_ERR_STORE when a record of the plan is gone or a proof is not what the
 * plan counted (the store was replaced under it), a store error, NOMEM; the
 * plan is then unusable (free it).
 */
int ls_bundle_plan_emit(struct ls_bundle_plan *p, struct ls_store *s, uint8_t *buf, size_t cap,
			size_t *len, bool *done);
/* Frees *p and sets it to NULL. NULL-safe. */
void ls_bundle_plan_free(struct ls_bundle_plan **p);

/*
 * Whether the n stored records ids are all part of lot's bundle in s (the
 * same walk as ls_bundle_collect, authority feeds whole to their heads in
 * s): 0 with *first_extra = n when they are,
 * else with the index of the first that is not (records of another lot's
 * bundle). LS_ERR_NOT_FOUND when s does not hold lot.
 */
int ls_bundle_members(struct ls_store *s, const uint8_t lot[LS_ID_LEN],
		      const uint8_t (*ids)[LS_ID_LEN], size_t n, size_t *first_extra);

#endif
