/*
 * helper_world.h - the world of the rulebook tests (test_rules, test_attack):
 * a trust anchor certifies China's and Germany's authorities; China's
 * certifies a miner and a magnet maker, Germany's an importer; the anchor
 * certifies buyers in the US and Russia. China's policy controls Dy
 * (re-export included) and denies military use. The miner's Dy alloy becomes
 * the maker's magnets. And the checks those tests make on a real store.
 */
#ifndef LS_HELPER_WORLD_H
#define LS_HELPER_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "helper_fixture.h"
#include "verify.h"

struct world {
	char *dir;
	struct ls_store *s;
	struct fx_actor *root, *cn_auth, *de_auth, *miner, *maker, *de_imp, *us, *ru;
	uint8_t cn_policy[32], dy_lot[32], magnets[32];
};

/* cmocka setup and teardown: *state is a struct world. */
int world_setup(void **state);
int world_teardown(void **state);

/* Ingests e (from a peer, or as a local client's submission when local) and
 * fails the test unless it gets status st and reason. */
void world_expect_at(struct ls_store *s, const struct fx_env *e, bool local,
		     enum ls_ingest_status st, enum ls_reason reason, int line);

/* From a peer (consensus rules only). */
#define STORED(w, e) world_expect_at((w)->s, &(e), false, LS_INGEST_ACCEPTED, LS_R_OK, __LINE__)
#define NOT_STORED(w, e, why)                                                                      \
	world_expect_at((w)->s, &(e), false, LS_INGEST_REJECTED, (why), __LINE__)
/* From a local client (admission too). */
#define ADMITTED(w, e)     world_expect_at((w)->s, &(e), true, LS_INGEST_ACCEPTED, LS_R_OK, __LINE__)
#define REFUSED(w, e, why) world_expect_at((w)->s, &(e), true, LS_INGEST_REJECTED, (why), __LINE__)

/* Builds with expr, ingests from a peer, frees. */
#define PUT(w, expr)                                                                               \
	do {                                                                                       \
		struct fx_env e_ = (expr);                                                         \
		STORED((w), e_);                                                                   \
		fx_env_release(&e_);                                                               \
	} while (0)

/* A new actor of country, certified by auth as org with roles (from the
 * certificate's date, no end); the certificate is stored. fx_actor_free it. */
struct fx_actor *world_actor(struct world *w, struct fx_actor *auth, const char *org,
			     const char *country, uint32_t roles);

/* *ls: the maker's license, numbered number, for up to 100 kg of magnets to
 * dest, with no bars (for the caller to add). */
void world_magnet_license(const struct world *w, struct fx_license_spec *ls, const char *number,
			  const char *dest);
/* auth signs ls; accepted (from a local client when local, else from a
 * peer). id gets the license's record id. */
void world_license(struct world *w, struct fx_actor *auth, const struct fx_license_spec *ls,
		   bool local, uint8_t id[32]);

/* from ships grams of lot to `to` under license (NULL: none) and `to`
 * receives all of it: the transfer is accepted (from a local client when
 * local, else from a peer: consensus only), and the receipt from a peer. id
 * (NULL: not wanted) gets the transfer's id. */
void world_ship(struct world *w, struct fx_actor *from, const uint8_t lot[32], uint64_t grams,
		struct fx_actor *to, const uint8_t *license, bool local, uint8_t id[32]);

bool world_has_reason(const struct ls_verdict *v, enum ls_reason code);
/* Prints a verdict and its reasons to stderr. */
void world_dump(const char *what, const struct ls_verdict *v);
/* The provenance verdict of lot (the call must succeed). */
enum ls_verdict_kind world_provenance(struct ls_store *s, const uint8_t lot[32],
				      struct ls_verdict *v);
/* An export question from `from`, asked on day 30. */
void world_export_query(struct ls_export_query *q, const uint8_t lot[32],
			const struct fx_actor *from, const char *dest, const char *use,
			const uint8_t *license);
enum ls_verdict_kind world_export_check(struct world *w, const uint8_t lot[32],
					const struct fx_actor *from, const char *dest,
					const char *use, const uint8_t *license,
					struct ls_verdict *v);

#endif
