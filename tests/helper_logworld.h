/*
 * helper_logworld.h - the witnessed world of the log tests (test_logbundle,
 * test_attack_log): helper_world's chain in a node's log, its checkpoints
 * signed by a log key and cosigned by N_WIT witnesses (real keys, real
 * LMDB), and a bundle taken apart into plain parts to cut and tamper with.
 */
#ifndef HELPER_LOGWORLD_H
#define HELPER_LOGWORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "helper_world.h"
#include "logproof.h"
#include "note.h"

#define N_WIT 3

struct lw {
	struct world *w;
	uint8_t log_sk[64];
	struct ls_vkey log;
	char log_text[LS_VKEY_MAX];
	uint8_t wit_sk[N_WIT][64];
	struct ls_vkey wit[N_WIT];
	char wit_text[N_WIT][LS_VKEY_MAX];
	uint8_t license[32], export[32], receipt[32];
	uint64_t s1; /* the size of setup's checkpoint */
};

struct parts {
	uint8_t *buf;
	size_t len;
	const uint8_t **envs;
	size_t *lens, n;
	struct ls_logproof lp;
};

void named_key(const char *prefix, uint8_t type, uint8_t sk[64], struct ls_vkey *vk, char *text);
uint64_t checkpoint(struct lw *l, size_t n_cosig, uint64_t t0, bool quorum);
int setup(void **state);
int teardown(void **state);
void parts_of(uint8_t *buf, size_t len, struct parts *p);
void parts_release(struct parts *p);
int index_of(const struct parts *p, const uint8_t id[32]);
void reencode(struct parts *p, int cut, const uint8_t lot[32], uint8_t **out, size_t *len);

#endif
