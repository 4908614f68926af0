/*
 * record.h - Lodestone records: decode, validate, encode, sign, verify.
 *
 * This module is the only one that touches the protobuf-c generated types.
 * It turns untrusted bytes into a struct ls_record (plain C, every field
 * checked) and a struct ls_record back into signed envelope bytes.
 *
 * Format (published, see proto/lodestone.proto and README.md):
 *   signature = Ed25519("lodestone/record/v1" 0x00 || body)
 *   id        = BLAKE2b-256(body)
 */
#ifndef LS_RECORD_H
#define LS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "country.h" /* ls_country_valid: the codes every country field is checked against */
#include "err.h"

#define LS_KEY_LEN     32
#define LS_ID_LEN      32
#define LS_SIG_LEN     64
#define LS_HEX_KEY_LEN 64 /* hex digits of a key or id, without NUL */

/* Records are written in version 1 unless they carry a field of version 2
 * (Receipt.reason); readers accept 1 to LS_FORMAT_VERSION_MAX. */
#define LS_FORMAT_VERSION     1
#define LS_FORMAT_VERSION_MAX 3                     /* 3: Ownership */
#define LS_SIG_DOMAIN         "lodestone/record/v1" /* followed by one zero byte */
#define LS_SIG_DOMAIN_LEN     20                    /* including the zero byte */
#define LS_LOT_DOMAIN         "lodestone/lot/v1"    /* followed by one zero byte */

/* Bounds on everything that comes from outside. */
#define LS_ENVELOPE_MAX (64 * 1024) /* bytes of one serialized envelope */
#define LS_STR_MAX      200         /* bytes of a label, site, org, reason, ... */
#define LS_LIST_MAX     64          /* entries of a repeated field */
#define LS_COMP_MAX     40          /* elements of a composition */
#define LS_PPM_TOTAL    1000000u
#define LS_GRAMS_MAX    1000000000000000ull /* 10^15 g = 10^9 t: no real lot is larger */
#define LS_COUNTRY_LEN  2

enum ls_rtype {
	LS_REC_NONE = 0,
	LS_REC_CERTIFICATE,
	LS_REC_REVOCATION,
	LS_REC_POLICY,
	LS_REC_LICENSE,
	LS_REC_LOT,
	LS_REC_TRANSFORMATION,
	LS_REC_TRANSFER,
	LS_REC_RECEIPT,
	LS_REC_OWNERSHIP,
	LS_REC_TYPE_COUNT
};

/* Role bits, equal to the Role enum of the .proto. */
enum ls_role {
	LS_ROLE_AUTHORITY = 1,
	LS_ROLE_MINER = 2,
	LS_ROLE_PROCESSOR = 4,
	LS_ROLE_EXPORTER = 8,
	LS_ROLE_IMPORTER = 16,
	LS_ROLE_AUDITOR = 32,
	LS_ROLE_RECYCLER = 64,
	LS_ROLE_ALL = 127
};

struct ls_elem {
	uint32_t z;   /* atomic number, 1..118 */
	uint32_t ppm; /* parts per million by mass */
};

struct ls_comp {
	size_t n;
	struct ls_elem e[LS_COMP_MAX]; /* sorted by z, no duplicates */
};

struct ls_strlist {
	size_t n;
	const char **v;
};

/* True when l holds s, compared without regard to ASCII case (codes,
 * categories, country codes). */
bool ls_strlist_has(const struct ls_strlist *l, const char *s);

struct ls_keylist {
	size_t n;
	const uint8_t (*v)[LS_KEY_LEN];
};

struct ls_certificate {
	uint8_t subject[LS_KEY_LEN];
	const char *org;
	char country[LS_COUNTRY_LEN + 1];
	uint32_t roles;
	uint64_t valid_from;  /* the record's timestamp when absent */
	uint64_t valid_until; /* 0: no end */
	/* An authority's scope as encoded (empty: its country alone); ask
	 * ls_cert_acts_for(). */
	struct ls_strlist jurisdictions;
};

/* True when certificate c's holder acts for jurisdiction cc: one of its
 * listed jurisdictions, or its country when it lists none. */
bool ls_cert_acts_for(const struct ls_certificate *c, const char *cc);

struct ls_revocation {
	uint8_t subject[LS_KEY_LEN];
	uint64_t effective;
	const char *reason; /* "" when absent */
};

struct ls_suspension {
	uint8_t policy[LS_ID_LEN];
	uint64_t from;
	uint64_t until;
};

enum ls_basis { LS_BASIS_MASS = 0, LS_BASIS_VALUE = 1 };

struct ls_policy {
	char jurisdiction[LS_COUNTRY_LEN + 1];
	const char *name;
	uint64_t effective_from;
	uint64_t effective_until; /* 0: no end */
	size_t n_elements;
	uint32_t elements[LS_LIST_MAX]; /* atomic numbers */
	struct ls_strlist controlled_categories;
	struct ls_strlist controlled_tech;
	struct ls_strlist exempt_categories;
	struct ls_strlist denied_end_uses;
	struct ls_keylist denied_end_user_keys;
	struct ls_strlist denied_end_user_names;
	uint32_t de_minimis_ppm;
	enum ls_basis de_minimis_basis;
	bool applies_to_reexport;
	bool applies_to_foreign_tech;
	struct ls_keylist supersedes; /* policy ids */
	size_t n_suspends;
	const struct ls_suspension *suspends;
};

struct ls_license {
	const char *number;
	uint8_t licensee[LS_KEY_LEN];
	bool general;
	struct ls_strlist items;
	uint64_t max_grams;
	struct ls_strlist destinations;
	bool has_end_user;
	uint8_t end_user[LS_KEY_LEN];
	const char *end_use;
	uint64_t valid_from;  /* 0: from the record's timestamp */
	uint64_t valid_until; /* 0: no end */
	struct ls_strlist no_reexport_to;
	bool no_military;
};

struct ls_lotdef {
	const char *label;
	const char *category;
	uint64_t grams;
	struct ls_comp comp;
	uint64_t value; /* 0: not declared */
};

struct ls_lot_registration {
	struct ls_lotdef lot;
	const char *site;
	char country[LS_COUNTRY_LEN + 1];
};

struct ls_lot_input {
	uint8_t lot[LS_ID_LEN];
	uint64_t grams;
};

struct ls_transformation {
	size_t n_inputs;
	const struct ls_lot_input *inputs;
	size_t n_outputs;
	const struct ls_lotdef *outputs;
	const char *site; /* "" when absent */
};

struct ls_transfer {
	bool has_lot;
	uint8_t lot[LS_ID_LEN];
	uint64_t grams;
	const char *tech; /* "tech:CAT" for a technology transfer, else "" */
	uint8_t to[LS_KEY_LEN];
	uint8_t to_cert[LS_ID_LEN];
	bool has_license;
	uint8_t license[LS_ID_LEN];
	const char *end_use;     /* "" when absent */
	const char *description; /* "" when absent */
};

/* A receipt of a transfer, or the sender's receipt of the shortfall that a
 * receipt returns (`transfer` then names that receipt). */
struct ls_receipt {
	uint8_t transfer[LS_ID_LEN];
	uint64_t grams;
	const char *reason; /* why grams are short; "" when absent (version 2) */
};

/* An authority's statement that `owner` owns at least share_ppm of
 * `subsidiary` (organisations as certified) for the policies of
 * `jurisdiction`, from `from` (version 3). */
struct ls_ownership {
	const char *owner;
	const char *subsidiary;
	uint32_t share_ppm;
	char jurisdiction[LS_COUNTRY_LEN + 1];
	uint64_t from; /* 0: from the record's timestamp */
};

/*
 * A decoded, validated record. Every pointer inside points into memory owned
 * by the record and lives until ls_record_free().
 */
struct ls_record {
	uint8_t id[LS_ID_LEN];
	uint32_t version;
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	bool has_prev;
	uint8_t prev[LS_ID_LEN];
	uint64_t timestamp;
	bool has_cert;
	uint8_t cert_id[LS_ID_LEN];
	enum ls_rtype type;
	union {
		struct ls_certificate certificate;
		struct ls_revocation revocation;
		struct ls_policy policy;
		struct ls_license license;
		struct ls_lot_registration lot;
		struct ls_transformation transformation;
		struct ls_transfer transfer;
		struct ls_receipt receipt;
		struct ls_ownership ownership;
	};
	/* The exact signed bytes and the signature (set by decode and by sign). */
	const uint8_t *body;
	size_t body_len;
	uint8_t signature[LS_SIG_LEN];
	bool signed_;
	struct ls_arena *arena; /* private */
};

/* ---- decoding untrusted bytes ---- */

/*
 * Decodes a serialized Envelope of len bytes (len <= LS_ENVELOPE_MAX), then its
 * body, validates every field and computes the id. The signature is NOT
 * checked: call ls_record_verify() (it needs no store and can run on any
 * thread). On success *out is a new record (free with ls_record_free()).
 * Fails with LS_ERR_TOO_BIG, LS_ERR_MALFORMED, LS_ERR_VERSION or LS_ERR_NOMEM
 * and a message in ctx naming the field at fault; *out is then NULL.
 */
int ls_record_decode(const uint8_t *buf, size_t len, struct ls_record **out,
		     struct ls_err_ctx *ctx);

/* Checks the Ed25519 signature of a decoded record. 0 or LS_ERR_SIGNATURE. */
int ls_record_verify(const struct ls_record *r);

/* Frees r and everything it owns. NULL-safe. */
void ls_record_free(struct ls_record *r);

/* ---- building and signing ---- */

/*
 * Starts a record: zeroes r, sets version, type and an arena that the
 * ls_record_strdup/alloc helpers fill. Release with ls_record_free() on a
 * heap record made by ls_record_new().
 */
struct ls_record *ls_record_new(enum ls_rtype type);

/* Copies s into r's arena; returns NULL when out of memory. */
const char *ls_record_strdup(struct ls_record *r, const char *s);

/* Zeroed memory of n bytes in r's arena, or NULL. */
void *ls_record_alloc(struct ls_record *r, size_t n);

/*
 * Validates r as decode would, serializes it to body bytes, signs them with
 * sk (64-byte libsodium secret key whose public half must equal r->author)
 * and sets r->body, r->signature and r->id. Fails with LS_ERR_INVALID (a
 * field out of range, message in ctx), LS_ERR_NOMEM or LS_ERR_CRYPTO.
 */
int ls_record_sign(struct ls_record *r, const uint8_t sk[64], struct ls_err_ctx *ctx);

/*
 * Serializes the envelope (body and signature) of a signed record. On
 * success *buf is malloc'd (caller frees) and *len its size.
 */
int ls_record_envelope(const struct ls_record *r, uint8_t **buf, size_t *len);

/* ---- bundles ---- */

/*
 * Decodes a Bundle of len bytes (at most max_records envelopes; the evidence
 * pairs are checked for shape and skipped, see ls_bundle_evidence). On success
 * envs[i] point into buf (borrowed, valid while buf is) with lens[i] bytes;
 * *envs and *lens are malloc'd arrays (caller frees both).
 */
int ls_bundle_decode(const uint8_t *buf, size_t len, size_t max_records, const uint8_t ***envs,
		     size_t **lens, size_t *n, struct ls_err_ctx *ctx);

/*
 * Serializes n envelopes into a Bundle, naming the lot it proves when lot is
 * not NULL; *out malloc'd (caller frees).
 */
int ls_bundle_encode(const uint8_t *const *envs, const size_t *lens, size_t n, const uint8_t *lot,
		     uint8_t **out, size_t *out_len);

/* Two envelopes one author signed with one seq (Bundle.evidence). */
struct ls_bundle_evidence {
	const uint8_t *a, *b;
	size_t la, lb;
};

/* As ls_bundle_encode, with n_ev evidence pairs (borrowed). */
int ls_bundle_encode_ev(const uint8_t *const *envs, const size_t *lens, size_t n,
			const uint8_t *lot, const struct ls_bundle_evidence *ev, size_t n_ev,
			uint8_t **out, size_t *out_len);

/*
 * The evidence pairs of a Bundle (at most max_pairs, each envelope at most
 * LS_ENVELOPE_MAX bytes): *ev is a malloc'd array (caller frees) whose
 * pointers point into buf. LS_ERR_MALFORMED, LS_ERR_TOO_BIG, LS_ERR_NOMEM.
 * Whether the pairs are evidence of anything is the store's question
 * (ls_store_evidence_add).
 */
int ls_bundle_evidence(const uint8_t *buf, size_t len, size_t max_pairs,
		       struct ls_bundle_evidence **ev, size_t *n, struct ls_err_ctx *ctx);

/* As ls_bundle_encode_ev, with a serialized LogProof (Bundle.log; NULL:
 * none), borrowed. */
int ls_bundle_encode_log(const uint8_t *const *envs, const size_t *lens, size_t n,
			 const uint8_t *lot, const struct ls_bundle_evidence *ev, size_t n_ev,
			 const uint8_t *log, size_t log_len, uint8_t **out, size_t *out_len);

/* The serialized LogProof a Bundle carries (Bundle.log): *log points into buf.
 * LS_ERR_NOT_FOUND when it carries none, LS_ERR_MALFORMED when the bytes are
 * not a bundle or carry two. */
int ls_bundle_log(const uint8_t *buf, size_t len, const uint8_t **log, size_t *log_len);

/* The lot a Bundle names (Bundle.lot). LS_ERR_NOT_FOUND when it names none,
 * LS_ERR_MALFORMED when the bytes are not a bundle. */
int ls_bundle_lot(const uint8_t *buf, size_t len, uint8_t lot[LS_ID_LEN]);

/* ---- names and helpers ---- */

/* Id of output `index` of the transformation record `rec_id`. */
void ls_lot_id(const uint8_t rec_id[LS_ID_LEN], uint32_t index, uint8_t out[LS_ID_LEN]);

/* "certificate", "lot", ...; "unknown" for out-of-range values. */
const char *ls_rtype_name(enum ls_rtype t);
/* Parses a type name; LS_REC_NONE when unknown. */
enum ls_rtype ls_rtype_parse(const char *name);

/* The role a record's author needs (a bit set: any of them will do). */
uint32_t ls_rtype_roles(enum ls_rtype t);

/* "authority", "miner", ... for one role bit; NULL for others. */
const char *ls_role_name(uint32_t role);
/* Parses "miner,processor" into bits. LS_ERR_INVALID names the bad role. */
int ls_roles_parse(const char *s, uint32_t *roles, struct ls_err_ctx *ctx);
/* Writes "miner,processor" into buf. */
void ls_roles_format(uint32_t roles, char *buf, size_t len);

/* Element symbol of atomic number z ("Dy"), or NULL. */
const char *ls_element_symbol(uint32_t z);
/* Atomic number of a symbol, case-insensitive ("dy", "Dy"); 0 when unknown. */
uint32_t ls_element_z(const char *sym);
/* True for the 17 rare-earth elements: Sc, Y, La..Lu (inline: origins ask
 * for every element of every lot). */
static inline bool
ls_element_is_ree(uint32_t z)
{
	return z == 21 || z == 39 || (z >= 57 && z <= 71);
}

/* True when s is one of the categories of CLI.md (ore ... scrap). */
bool ls_category_valid(const char *s);
/* True when s is one of the technology categories (tech:mining ...). */
bool ls_tech_valid(const char *s);

/* Parses a composition "Nd=300000,dy=50000" (sorted on output). */
int ls_comp_parse(const char *s, struct ls_comp *comp, struct ls_err_ctx *ctx);
/* ppm of element z in comp, 0 when absent. */
uint32_t ls_comp_ppm(const struct ls_comp *comp, uint32_t z);

#endif
