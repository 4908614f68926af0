/*
 * tlog.c - this daemon's witnessed log, owner side: the seal timer of the
 * main loop. At most once per checkpoint-interval, when records were logged
 * since the last seal, the store appends the heads leaf (ls_store_log_seal),
 * the checkpoint of the sealed tree is signed with the log key, stored
 * (ls_store_checkpoint_put) and handed to gossip, which sends it to the
 * witnesses. The seal is one durable write of its own, on the loop's thread,
 * between batches: ingest never waits for it longer than one commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lodestoned.h"
#include "util.h"

struct lsd_tlog {
	struct ls_store *store;
	const struct lsd_logkeys *keys;
	struct lsd_gossip *gossip;
	uint64_t interval_ms;
	uint64_t next_ms;   /* monotonic time of the next seal */
	uint64_t signed_at; /* wall clock of the latest checkpoint signed; 0: none yet */
	uint64_t signed_size;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
lsd_tlog_new(struct ls_store *store, const struct lsd_logkeys *keys, const struct lsd_config *cfg,
	     struct lsd_gossip *gossip, struct lsd_tlog **out)
{
	struct lsd_tlog *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return LS_ERR_NOMEM;
	t->store = store;
	t->keys = keys;
	t->gossip = gossip;
	t->interval_ms = (uint64_t)(cfg->checkpoint_interval ? cfg->checkpoint_interval : 1) * 1000;
	t->next_ms = mono_ms(); /* at once: a seal left without its checkpoint is signed */
	*out = t;
	return 0;
}

void
lsd_tlog_reconfigure(struct lsd_tlog *t, const struct lsd_config *cfg, struct lsd_gossip *gossip)
{
	t->gossip = gossip;
	t->interval_ms = (uint64_t)(cfg->checkpoint_interval ? cfg->checkpoint_interval : 1) * 1000;
}

long
lsd_tlog_timeout(struct lsd_tlog *t)
{
	uint64_t now = mono_ms();

	return now >= t->next_ms ? 0 : (long)(t->next_ms - now);
}

/* Signs, stores and hands on the checkpoint of the tree (size, root). */
static int
checkpoint(struct lsd_tlog *t, uint64_t size, const uint8_t root[LS_TLOG_HASH])
{
	struct ls_checkpoint cp;
	struct ls_note *note = calloc(1, sizeof(*note));
	char *text = malloc(LS_NOTE_MAX);
	size_t len;
	int rc;

	if (note == NULL || text == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	snprintf(cp.origin, sizeof(cp.origin), "%s", t->keys->origin);
	cp.size = size;
	memcpy(cp.root, root, LS_TLOG_HASH);
	if ((note->body_len = ls_checkpoint_body(&cp, note->body, sizeof(note->body))) == 0) {
		rc = LS_ERR_TOO_BIG;
		goto out;
	}
	if ((rc = ls_note_sign(note, t->keys->origin, t->keys->log_sk)) != 0)
		goto out;
	if ((len = ls_note_format(note, text, LS_NOTE_MAX)) == 0) {
		rc = LS_ERR_TOO_BIG;
		goto out;
	}
	if ((rc = ls_store_checkpoint_put(t->store, size, text, len)) != 0)
		goto out;
	t->signed_at = ls_now();
	t->signed_size = size;
	log_debug("checkpoint %llu of %s signed", (unsigned long long)size, t->keys->origin);
	if (t->gossip != NULL)
		lsd_gossip_checkpoint(t->gossip, size, text, len);
out:
	free(note);
	free(text);
	return rc;
}

void
lsd_tlog_run(struct lsd_tlog *t)
{
	uint8_t root[LS_TLOG_HASH];
	uint64_t size, now = mono_ms();
	char *old = NULL;
	size_t len;
	bool grew;
	int rc;

	if (now < t->next_ms)
		return;
	t->next_ms = now + t->interval_ms;
	if ((rc = ls_store_log_seal(t->store, &size, root, &grew)) != 0) {
		log_error("cannot seal the log: %s", ls_strerror(rc));
		return;
	}
	if (size == 0)
		return;
	if (!grew) {
		/* Sealed, and a checkpoint for it? (A stop between the seal's
		 * commit and the checkpoint's leaves it to sign now.) */
		rc = ls_store_checkpoint_get(t->store, size, &old, &len);
		free(old);
		if (rc == 0)
			return;
		if (rc != LS_ERR_NOT_FOUND) {
			log_error("cannot read checkpoint %llu: %s", (unsigned long long)size,
				  ls_strerror(rc));
			return;
		}
	}
	if ((rc = checkpoint(t, size, root)) != 0)
		log_error("cannot make checkpoint %llu: %s", (unsigned long long)size,
			  ls_strerror(rc));
}

uint64_t
lsd_tlog_signed_at(const struct lsd_tlog *t, uint64_t *size)
{
	if (size != NULL)
		*size = t != NULL ? t->signed_size : 0;
	return t != NULL ? t->signed_at : 0;
}

void
lsd_tlog_free(struct lsd_tlog **t)
{
	if (t == NULL || *t == NULL)
		return;
	free(*t);
	*t = NULL;
}
