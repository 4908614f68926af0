/*
 * batch.c - the daemon's one ingest path: envelopes from local clients (the
 * API server) and from gossip peers are gathered into one batch and stored
 * with one ls_store_ingest_submissions() call, so that they share one durable
 * commit (group commit).
 *
 * Each envelope keeps its origin: the side that added it (with its
 * admission, LS_ADMIT_LOCAL or LS_ADMIT_PEER) and the side's tag (the waiting
 * client, the peer). After the commit each side is told what became of its
 * envelopes and does its own after-work; when the ingest failed nothing was
 * stored and nothing is acknowledged. The ingest hooks hand every accepted
 * record and every equivocation to gossip, to be pushed to the peers.
 */
#include <assert.h>
#include <stdlib.h>
#include <time.h>

#include "lodestoned.h"
#include "util.h"

#define BATCH_SIDES 4 /* sides feeding one batch: the API server and gossip */

/* The envelopes [first, first + n) of one lsd_batch_add. */
struct item {
	const struct lsd_batch_side *side;
	void *tag;
	size_t first, n;
};

struct lsd_batch {
	struct ls_store *store;
	struct lsd_gossip *gossip;
	const uint8_t **envs;             /* LSD_BATCH_ENVS */
	size_t *lens;                     /* LSD_BATCH_ENVS */
	uint8_t *admit;                   /* LSD_BATCH_ENVS: enum ls_admit */
	uint32_t *subs;                   /* LSD_BATCH_ENVS: the item (submission) of each */
	struct ls_ingest_result *results; /* LSD_BATCH_ENVS */
	struct item *items;               /* LSD_BATCH_ENVS: each has an envelope */
	size_t n_envs, n_items, bytes;
	const struct lsd_batch_side *sides[BATCH_SIDES]; /* sides of the items, once each */
	size_t n_sides;
};

static void
hook_accepted(void *arg, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct lsd_batch *b = arg;
	char hex[LS_HEX_KEY_LEN + 1];

	if (b->gossip != NULL)
		lsd_gossip_accepted(b->gossip, r->id, env, len);
	log_debug("accepted %s %s", ls_rtype_name(r->type), ls_hex(r->id, LS_ID_LEN, hex));
}

static void
hook_evidence(void *arg, const uint8_t *env_a, size_t len_a, const uint8_t *env_b, size_t len_b)
{
	struct lsd_batch *b = arg;

	if (b->gossip != NULL)
		lsd_gossip_evidence(b->gossip, env_a, len_a, env_b, len_b);
	log_warn("equivocation: two records of one author and seq (%zu and %zu bytes) kept as "
		 "evidence%s",
		 len_a, len_b, b->gossip != NULL ? " and forwarded to peers" : "");
}

void
lsd_batch_set_gossip(struct lsd_batch *b, struct lsd_gossip *gossip)
{
	b->gossip = gossip;
}

int
lsd_batch_new(struct ls_store *store, struct lsd_gossip *gossip, struct lsd_batch **out)
{
	struct lsd_batch *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return LS_ERR_NOMEM;
	b->store = store;
	b->gossip = gossip;
	if ((b->envs = calloc(LSD_BATCH_ENVS, sizeof(*b->envs))) == NULL ||
	    (b->lens = calloc(LSD_BATCH_ENVS, sizeof(*b->lens))) == NULL ||
	    (b->admit = calloc(LSD_BATCH_ENVS, sizeof(*b->admit))) == NULL ||
	    (b->subs = calloc(LSD_BATCH_ENVS, sizeof(*b->subs))) == NULL ||
	    (b->results = calloc(LSD_BATCH_ENVS, sizeof(*b->results))) == NULL ||
	    (b->items = calloc(LSD_BATCH_ENVS, sizeof(*b->items))) == NULL) {
		lsd_batch_free(&b);
		return LS_ERR_NOMEM;
	}
	*out = b;
	return 0;
}

bool
lsd_batch_fits(const struct lsd_batch *b, size_t n, size_t bytes)
{
	if (n > LSD_BATCH_ENVS)
		return false;
	if (b->n_envs == 0)
		return true;
	return b->n_envs + n <= LSD_BATCH_ENVS && b->bytes + bytes <= LSD_BATCH_BYTES;
}

void
lsd_batch_add(struct lsd_batch *b, const struct lsd_batch_side *side, void *tag,
	      const uint8_t *const *envs, const size_t *lens, size_t n)
{
	size_t bytes = 0, s;

	for (size_t i = 0; i < n; i++)
		bytes += lens[i];
	assert(n > 0 && lsd_batch_fits(b, n, bytes));
	for (s = 0; s < b->n_sides && b->sides[s] != side; s++)
		;
	if (s == b->n_sides) {
		assert(b->n_sides < BATCH_SIDES);
		b->sides[b->n_sides++] = side;
	}
	b->items[b->n_items++] = (struct item){side, tag, b->n_envs, n};
	for (size_t i = 0; i < n; i++) {
		b->envs[b->n_envs] = envs[i];
		b->lens[b->n_envs] = lens[i];
		b->admit[b->n_envs] = (uint8_t)side->admit;
		b->subs[b->n_envs] = (uint32_t)(b->n_items - 1);
		b->n_envs++;
	}
	b->bytes += bytes;
}

/* Rejections logged: at most REJECT_BURST lines, refilled at REJECT_RATE a
 * second; what is over is counted and said once the log has room again. */
#define REJECT_RATE  10
#define REJECT_BURST 20

static struct {
	double tokens;
	struct timespec last;
	unsigned long suppressed;
} reject_log = {REJECT_BURST, {0, 0}, 0};

static bool
reject_log_room(void)
{
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - reject_log.last.tv_sec) +
	     (double)(now.tv_nsec - reject_log.last.tv_nsec) / 1e9;
	reject_log.last = now;
	reject_log.tokens += dt * REJECT_RATE;
	if (reject_log.tokens > REJECT_BURST)
		reject_log.tokens = REJECT_BURST;
	if (reject_log.tokens < 1) {
		reject_log.suppressed++;
		return false;
	}
	reject_log.tokens -= 1;
	if (reject_log.suppressed != 0) {
		log_info("%lu more rejected records were not logged (at most %d a second)",
			 reject_log.suppressed, REJECT_RATE);
		reject_log.suppressed = 0;
	}
	return true;
}

/* Every record the batch refused, once, with its reason (rate-limited). */
static void
log_rejections(const struct lsd_batch *b)
{
	char hex[LS_HEX_KEY_LEN + 1];

	for (size_t i = 0; i < b->n_envs; i++) {
		const struct ls_ingest_result *res = &b->results[i];
		if (res->status != LS_INGEST_REJECTED || !reject_log_room())
			continue;
		log_info("rejected %s %.16s from %s: %s: %s",
			 res->has_id ? ls_rtype_name(res->type) : "envelope",
			 res->has_id ? ls_hex(res->id, LS_ID_LEN, hex) : "(undecodable)",
			 b->admit[i] >= LS_ADMIT_LOCAL ? "a client" : "a peer",
			 ls_reason_code(res->reason), res->message);
	}
}

void
lsd_batch_flush(struct lsd_batch *b)
{
	struct ls_ingest_hooks hooks = {hook_accepted, hook_evidence, b};
	size_t local = 0;
	int rc;

	if (b->n_envs == 0)
		return;
	for (size_t i = 0; i < b->n_envs; i++)
		local += b->admit[i] >= LS_ADMIT_LOCAL;
	/* Each item is one submission: a client's refused record refuses what
	 * its own request names (dependency-rejected), not another's. */
	rc = ls_store_ingest_submissions(b->store, b->envs, b->lens, b->admit, b->subs, b->n_envs,
					 b->results, &hooks);
	if (rc != 0)
		log_error("ingest of %zu records (%zu from clients, %zu from peers) failed: %s; "
			  "nothing of it was stored",
			  b->n_envs, local, b->n_envs - local, ls_strerror(rc));
	else {
		log_debug("ingested %zu records (%zu from clients, %zu from peers) in one commit",
			  b->n_envs, local, b->n_envs - local);
		log_rejections(b);
	}
	for (size_t i = 0; i < b->n_items; i++) {
		const struct item *it = &b->items[i];
		it->side->done(it->side->arg, it->tag, rc, b->results + it->first, it->n);
	}
	for (size_t s = 0; s < b->n_sides; s++)
		if (b->sides[s]->end != NULL)
			b->sides[s]->end(b->sides[s]->arg, rc);
	b->n_envs = 0;
	b->n_items = 0;
	b->n_sides = 0;
	b->bytes = 0;
}

void
lsd_batch_free(struct lsd_batch **bp)
{
	struct lsd_batch *b;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	free(b->envs);
	free(b->lens);
	free(b->admit);
	free(b->subs);
	free(b->results);
	free(b->items);
	free(b);
	*bp = NULL;
}
