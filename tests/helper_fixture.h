/*
 * helper_fixture.h - test fixtures shared by every test binary: temporary
 * directories, actors (a key pair with its own feed), and builders that
 * return signed envelopes of each record type.
 *
 * Nothing here asserts or exits: a builder that fails prints one line to
 * stderr naming what failed and returns an envelope whose buf is NULL, and
 * the test asserts on that. Every timestamp is explicit: a record is dated
 * actor->ts, which starts at FX_T0 (2025-06-01T00:00:00Z) and moves only when
 * the test sets it (or by actor->ts_step after each record), so runs are
 * deterministic apart from the random keys.
 *
 * Typical use:
 *
 *	struct fx_actor *auth = fx_actor_new("CN"), *mine = fx_actor_new("CN");
 *	struct fx_env c = fx_cert(auth, mine, "Bayan Obo", NULL, LS_ROLE_MINER, 0, 0);
 *	struct fx_env l = fx_lot(mine, "ore-1", "Bayan Obo", NULL, "ore", 1000000,
 *				 "Nd=300000,Dy=50000");
 *	fx_ingest_one(store, c.buf, c.len, &res);	// authority is a trust anchor
 *	...
 *	fx_env_release(&c); fx_env_release(&l);
 *	fx_actor_free(&mine); fx_actor_free(&auth);
 */
#ifndef LS_HELPER_FIXTURE_H
#define LS_HELPER_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyfile.h"
#include "record.h"
#include "store.h"

/* 2025-06-01T00:00:00Z: the default timestamp of every actor. */
#define FX_T0  1748736000ull
#define FX_DAY 86400ull

/* ---- temporary directories ---- */

/*
 * Makes a fresh directory $TMPDIR/lodestone-test.XXXXXX (TMPDIR defaults to
 * /tmp). Returns its malloc'd path (caller frees), or NULL.
 */
char *fx_tmpdir(void);

/* Removes path and everything below it. 0, or -1 with errno set. NULL-safe. */
int fx_rmtree(const char *path);

/* ---- actors ---- */

/*
 * An actor: a key pair and the state of its feed. fx_sign reads and advances
 * seq, head and ts; tests may set ts (and ts_step) and clear has_cert.
 */
struct fx_actor {
	struct ls_keypair *kp; /* owned; kp->pk is the author key */
	uint8_t cert_id[32];   /* Record.cert of its records when has_cert */
	bool has_cert;         /* set by fx_cert for its subject */
	uint64_t seq;          /* seq of the last record signed, 0 before the first */
	uint8_t head[32];      /* id of the last record signed */
	uint64_t ts;           /* timestamp of the next record; FX_T0 at first */
	uint64_t ts_step;      /* added to ts after each record; 0 at first */
	char country[3];       /* default country of its lots and certificate */
};

/*
 * A new actor with a fresh random key (calls sodium_init). country is a
 * two-letter code (NULL: "CN"). Returns NULL when out of memory.
 */
struct fx_actor *fx_actor_new(const char *country);

/* Frees *a and its key, sets *a to NULL. NULL-safe. */
void fx_actor_free(struct fx_actor **a);

/* A saved feed position, to sign two records at one seq (an equivocation). */
struct fx_mark {
	uint64_t seq;
	uint8_t head[32];
	uint64_t ts;
};
struct fx_mark fx_mark(const struct fx_actor *a);
void fx_rewind(struct fx_actor *a, const struct fx_mark *m);

/* ---- envelopes ---- */

/* A signed envelope: buf is malloc'd (NULL when the builder failed). */
struct fx_env {
	uint8_t *buf;
	size_t len;
	uint8_t id[LS_ID_LEN];
	enum ls_rtype type;
	uint64_t seq; /* the author's seq it was signed at */
};

/* Frees e->buf and zeroes *e. NULL-safe. */
void fx_env_release(struct fx_env *e);

/*
 * Signs r as actor a: sets r->author, seq (a->seq + 1), prev (a->head, from
 * seq 2), timestamp (a->ts) and cert (a->cert_id when a->has_cert), signs,
 * and on success advances a and fills *out (out->buf malloc'd). r stays the
 * caller's (free with ls_record_free) and is left signed. Returns 0 or the
 * error of ls_record_sign / ls_record_envelope (message on stderr); a is
 * unchanged on failure.
 */
int fx_sign(struct fx_actor *a, struct ls_record *r, struct fx_env *out);

/* ---- builders: each signs one record as its first argument's next record ---- */

/*
 * Certificate by `authority` for `subject`'s key; on success also sets
 * subject->cert_id (and has_cert), so subject's later records cite it.
 * country NULL: subject->country. roles: LS_ROLE_* bits. from/until 0: absent
 * (valid from the record's timestamp, no end).
 */
struct fx_env fx_cert(struct fx_actor *authority, struct fx_actor *subject, const char *org,
		      const char *country, uint32_t roles, uint64_t from, uint64_t until);

/* Certificate for a bare key (no actor to update). */
struct fx_env fx_cert_key(struct fx_actor *authority, const uint8_t subject[32], const char *org,
			  const char *country, uint32_t roles, uint64_t from, uint64_t until);

/* Revocation of a key, certificate id or license id, effective at `effective`. */
struct fx_env fx_revoke(struct fx_actor *author, const uint8_t subject[32], uint64_t effective);

/*
 * Lot registration. country NULL: miner->country. comp: "Nd=300000,Dy=50000"
 * (ls_comp_parse syntax), NULL or "" for none. The lot id is the record id.
 */
struct fx_env fx_lot(struct fx_actor *miner, const char *label, const char *site,
		     const char *country, const char *category, uint64_t grams, const char *comp);

/*
 * Transformation consuming inputs[0..n_inputs) (lot id and grams) and putting
 * out one lot per string "label:category:grams:composition" (composition may
 * be empty: "m1:magnet:500:"). Output i has lot id ls_lot_id(record id, i).
 */
struct fx_env fx_transform(struct fx_actor *p, const struct ls_lot_input *inputs, size_t n_inputs,
			   const char *const *outputs, size_t n_outputs);

/* fx_lot with a declared value (smallest currency unit; 0: none). */
struct fx_env fx_lot_value(struct fx_actor *miner, const char *label, const char *site,
			   const char *country, const char *category, uint64_t grams,
			   const char *comp, uint64_t value);

/* fx_transform with a declared value per output (values[i], 0: none). */
struct fx_env fx_transform_value(struct fx_actor *p, const struct ls_lot_input *inputs,
				 size_t n_inputs, const char *const *outputs,
				 const uint64_t *values, size_t n_outputs);

/*
 * Transfer of `grams` of `lot` to `receiver` (to = its key, to_cert = its
 * cert_id). license: a license record id or NULL. end_use NULL: absent.
 */
struct fx_env fx_transfer(struct fx_actor *sender, const uint8_t lot[32], uint64_t grams,
			  const struct fx_actor *receiver, const uint8_t *license,
			  const char *end_use);

/* Technology transfer ("tech:separation") to `receiver`. */
struct fx_env fx_transfer_tech(struct fx_actor *sender, const char *tech,
			       const struct fx_actor *receiver, const uint8_t *license,
			       const char *end_use);

/* Receipt of `grams` of transfer `transfer_id` by its receiver. */
struct fx_env fx_receipt(struct fx_actor *receiver, const uint8_t transfer_id[32], uint64_t grams);

/*
 * Receipt with a reason for a shortfall (NULL: none); `named` is a transfer
 * to `author`, or a receipt that returns grams to `author` (the sender).
 * Dated not before `named` when that is a transfer this fixture signed.
 */
struct fx_env fx_receipt_why(struct fx_actor *author, const uint8_t named[32], uint64_t grams,
			     const char *reason);

/* A license; lists are comma-separated ("Dy,magnet", "US,JP"). */
struct fx_license_spec {
	const char *number;         /* NULL: "LIC-1" */
	const uint8_t *licensee;    /* key of the licensee */
	bool general;               /* general, else individual */
	const char *items;          /* element symbols, categories, tech:CAT */
	uint64_t max_grams;         /* may be 0 */
	const char *destinations;   /* country codes */
	const uint8_t *end_user;    /* NULL: any end user */
	const char *end_use;        /* NULL: "civilian" */
	uint64_t valid_from;        /* 0: the record's timestamp */
	uint64_t valid_until;       /* 0: no end */
	const char *no_reexport_to; /* NULL or "": none */
	bool no_military;
};
struct fx_env fx_license(struct fx_actor *authority, const struct fx_license_spec *spec);

/* A policy (control list); lists are comma-separated, NULL or "" for none. */
struct fx_policy_spec {
	const char *jurisdiction; /* NULL: authority->country */
	const char *name;         /* NULL: "test policy" */
	uint64_t effective_from;
	uint64_t effective_until; /* 0: no end */
	const char *elements;     /* element symbols: "Sm,Gd,Tb,Dy,Lu,Sc,Y" */
	const char *controlled_categories;
	const char *controlled_tech;
	const char *exempt_categories;
	const char *denied_end_uses;
	const char *denied_end_user_names;
	const uint8_t (*denied_end_user_keys)[32];
	size_t n_denied_end_user_keys;
	uint32_t de_minimis_ppm;
	bool basis_value; /* de minimis by value, else by mass */
	bool applies_to_reexport;
	bool applies_to_foreign_tech;
	const uint8_t (*supersedes)[32];
	size_t n_supersedes;
};
struct fx_env fx_policy(struct fx_actor *authority, const struct fx_policy_spec *spec);

/* ---- stores and ingest ---- */

/*
 * Opens the store in dir with `anchor`'s key as the one trust anchor (NULL:
 * none) and otherwise default options (map_size 0: 64 MiB). 0 or the error of
 * ls_store_open (message on stderr).
 */
int fx_store_open(const char *dir, const struct fx_actor *anchor, size_t map_size,
		  struct ls_store **out);
/* A store that checks a bundle (ls_store_opts.bundle_check), as verify-bundle
 * opens one. */
int fx_bundle_store_open(const char *dir, const struct fx_actor *anchor, struct ls_store **out);

/* Ingests one envelope; *res (may be NULL) gets its result. The ingest rc. */
int fx_ingest_one(struct ls_store *s, const uint8_t *env, size_t len, struct ls_ingest_result *res);
/* As fx_ingest_one, as a local client's submission (admission checks too). */
int fx_submit_one(struct ls_store *s, const uint8_t *env, size_t len, struct ls_ingest_result *res);

/* Ingests n envelopes in one batch; res (may be NULL) gets n results. */
int fx_ingest(struct ls_store *s, const struct fx_env *envs, size_t n,
	      struct ls_ingest_result *res);

/* Short printable name of an ingest status ("accepted", ...). */
const char *fx_status_name(enum ls_ingest_status st);

/* A list of record ids (v malloc'd: free it). */
struct fx_idset {
	uint8_t (*v)[LS_ID_LEN];
	size_t n;
};
/* An ls_store_log callback: appends the record's id to the fx_idset arg.
 * 0 or LS_ERR_NOMEM. */
int fx_idset_add(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env,
		 size_t len);
/* memcmp of two record ids, for qsort and bsearch. */
int fx_id_cmp(const void *a, const void *b);
/* *out: the ids of every record s holds, sorted. 0 or the error of
 * ls_store_log (then *out is empty). */
int fx_stored_set(struct ls_store *s, struct fx_idset *out);

/* ---- time and programs ---- */

/*
 * How many times slower than a normal run this one is taken to be:
 * LS_TEST_TIME_SCALE when set to a whole number from 1 to 1000
 * (tests/reliability/valgrind.sh sets it for the programs it runs under
 * memcheck), else 20 when this process runs under valgrind, else 1. Every
 * time bound of a test (a deadline, a timeout, a "within N ms") is
 * multiplied by it, through fx_scaled_ms, and nowhere else.
 */
unsigned fx_time_scale(void);

/* ms times fx_time_scale(). */
uint64_t fx_scaled_ms(uint64_t ms);

/*
 * The directory of the build's programs (lodestone, lodestoned): LODESTONE_BIN
 * when set (make test; valgrind.sh points it at its memcheck wrappers), else
 * BUILD/bin for this test at BUILD/tests/NAME, else "build/bin".
 */
const char *fx_bin_dir(void);

/* fx_bin_dir()/name in out (cap bytes); false when it does not fit or is not
 * an executable file (message on stderr). */
bool fx_program(const char *name, char *out, size_t cap);

/* Waits until a daemon answers a status request at endpoint: true, or false
 * after 5 s (scaled). */
bool fx_daemon_ready(const char *endpoint);

#endif
