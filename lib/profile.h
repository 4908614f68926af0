/*
 * profile.h - compliance profiles: a buyer's or a regulator's rules about
 * which countries did each stage of a lot's chain (DFARS 252.225-7052, the
 * CRMA benchmarks), checked against the lot's origin by stage.
 *
 * Question time only (lib/kind.h, layer 3): a profile is not a record; it is
 * applied to what ls_verify_origin_stages answers, at a date the caller
 * gives. The profile file format (lodestone-profile/1) is read by the client
 * (client/profile.c) and documented in contrib/profiles/README.md.
 */
#ifndef LS_PROFILE_H
#define LS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"
#include "verify.h"

#define LS_PROFILE_RULES_MAX     64
#define LS_PROFILE_COUNTRIES_MAX 64
#define LS_PROFILE_RECORDS_MAX   64 /* records named per finding */

enum ls_prule_kind {
	LS_PRULE_NO_STAGE_IN, /* no stage S in countries C */
	LS_PRULE_MAX_SHARE,   /* at most max_ppm of the element from one country at S */
};

/* One stage a rule watches, from a date on (0: the profile's start). */
struct ls_prule_stage {
	int stage; /* enum ls_stage */
	uint64_t from;
};

struct ls_prule {
	enum ls_prule_kind kind;
	char id[LS_STR_MAX + 1]; /* a name for findings ("" when none) */
	size_t n_stages;
	struct ls_prule_stage stages[LS_STAGE_COUNT];
	/* NO_STAGE_IN: the barred countries; MAX_SHARE: the countries not
	 * counted (a bloc's own members) */
	size_t n_countries;
	char countries[LS_PROFILE_COUNTRIES_MAX][LS_COUNTRY_LEN + 1];
	uint32_t max_ppm; /* MAX_SHARE */
};

struct ls_profile {
	char name[LS_STR_MAX + 1];
	uint64_t effective_from;
	uint64_t effective_until; /* 0: no end */
	size_t n_categories;      /* 0: every category */
	char categories[16][16];
	size_t n_elements; /* 0: every rare-earth element of the lot */
	uint32_t elements[LS_COMP_MAX];
	size_t n_rules;
	struct ls_prule rules[LS_PROFILE_RULES_MAX];
};

enum ls_compliance {
	LS_COMPLIANT,
	LS_NON_COMPLIANT,
	LS_COMPLIANCE_UNKNOWN, /* material from outside the ledger at a stage a rule watches */
	LS_NOT_APPLICABLE,     /* the lot's category is not one the profile covers */
};

/* "compliant", "non-compliant", "unknown", "not-applicable". */
const char *ls_compliance_name(enum ls_compliance c);

struct ls_finding {
	enum ls_compliance kind; /* LS_NON_COMPLIANT or LS_COMPLIANCE_UNKNOWN */
	size_t rule;             /* index into the profile's rules */
	uint32_t z;
	int stage;
	char country[LS_COUNTRY_LEN + 1]; /* "" for the unknown share */
	uint64_t grams;                   /* of the element at that stage from there */
	uint64_t of_grams;                /* of the element through that stage */
	uint32_t ppm;                     /* grams / of_grams, floored */
	size_t n_records;                 /* the places' records, at most LS_PROFILE_RECORDS_MAX */
	uint8_t records[LS_PROFILE_RECORDS_MAX][LS_ID_LEN];
	size_t records_more; /* records not listed */
};

/* A rule's stage that is not yet in force at the date asked. */
struct ls_pending {
	size_t rule;
	int stage;
	uint64_t from;
};

struct ls_compliance_result {
	enum ls_compliance verdict;
	size_t n, n_pending;
	struct ls_finding *v;       /* malloc'd */
	struct ls_pending *pending; /* malloc'd */
};

/*
 * Applies profile p at date `at` to origin o (from ls_verify_origin_stages):
 * non-compliant when some rule in force is broken, else unknown when some
 * of an element at a watched stage entered the ledger past it (or the
 * unknown share could break a share rule), else compliant; not-applicable
 * when o's category is not one p covers. Every finding names its rule,
 * element, stage, country, share and records. LS_ERR_INVALID (message in
 * ctx) when at is outside p's effective period; LS_ERR_NOMEM. Release r
 * with ls_compliance_release.
 */
int ls_profile_check(const struct ls_profile *p, const struct ls_origin *o, uint64_t at,
		     struct ls_compliance_result *r, struct ls_err_ctx *ctx);
void ls_compliance_release(struct ls_compliance_result *r);

#endif
