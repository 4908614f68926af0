/*
 * witness.c - the checks a witness makes before it cosigns a checkpoint of
 * another daemon's log, and split-view evidence (witness.h). No store, no
 * network: the daemon (daemon/gossip.c) feeds a job and commits its result
 * (witstore.c).
 *
 * A job keeps the log's feed heads as it follows the entries: an array and
 * an open-addressing table of indices keyed by a SipHash of the author
 * (keyed per job, so that authors cannot be chosen to collide). A heads leaf
 * sorts the array (when an author was added since the last one) and hashes
 * it: O(feeds) per seal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "util.h"
#include "witness.h"

struct jhead {
	struct ls_whead h; /* first: the array reads as struct ls_whead at a stride */
	bool dirty;        /* changed by this job */
};

struct ls_witness_job {
	struct ls_addcp req;     /* the request, its note cosigned at the end */
	struct ls_checkpoint cp; /* the checkpoint's body */
	char note[LS_NOTE_MAX + 1];
	size_t note_len;
	bool has_prev;
	struct ls_wlog prev; /* the state the job started from */
	struct ls_wlog st;   /* the state it builds: range follows the leaves */
	/* the feed heads */
	struct jhead *heads;
	size_t n_heads, cap_heads;
	uint32_t *slots; /* index + 1 into heads, 0: empty */
	size_t n_slots;  /* a power of two, at least twice n_heads */
	bool sorted;     /* heads are in author order */
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	/* the leaves */
	uint64_t next;
	bool last_heads; /* the last leaf appended was a heads leaf */
	uint8_t *page;   /* LS_WITNESS_PAGE leaves */
	size_t page_n, page_at;
	uint8_t missing[LS_WITNESS_MISSING][LS_ID_LEN];
	size_t n_missing;
};

static int refuse(struct ls_witness_reply *reply, uint32_t status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct ls_witness_reply *reply, uint32_t status, const char *fmt, ...)
{
	va_list ap;

	reply->status = status;
	va_start(ap, fmt);
	vsnprintf(reply->reason, sizeof(reply->reason), fmt, ap);
	va_end(ap);
	return LS_WITNESS_DONE;
}

static bool
is_pow2(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* ---- the heads ---- */

static int
whead_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ls_whead *)a)->author, ((const struct ls_whead *)b)->author,
		      LS_KEY_LEN);
}

static int
jhead_cmp(const void *a, const void *b)
{
	return whead_cmp(&((const struct jhead *)a)->h, &((const struct jhead *)b)->h);
}

/* The root of n heads in author order, read at `stride` bytes apart. */
static void
heads_root(const uint8_t *base, size_t n, size_t stride, uint8_t root[LS_TLOG_HASH])
{
	struct ls_tlog_range *r = malloc(sizeof(*r));
	struct ls_tlog_range local;
	uint8_t leaf[LS_KEY_LEN + 8 + LS_ID_LEN], hash[LS_TLOG_HASH];

	/* ls_tlog_range is 2 KiB: on the heap when it can be, else here */
	if (r == NULL)
		r = &local;
	ls_tlog_range_init(r);
	for (size_t i = 0; i < n; i++) {
		const struct ls_whead *h =
		    (const struct ls_whead *)(const void *)(base + i * stride);
		memcpy(leaf, h->author, LS_KEY_LEN);
		ls_be64_put(leaf + LS_KEY_LEN, h->seq);
		memcpy(leaf + LS_KEY_LEN + 8, h->id, LS_ID_LEN);
		ls_tlog_leaf_hash(leaf, sizeof(leaf), hash);
		ls_tlog_range_append(r, hash);
	}
	ls_tlog_range_root(r, root);
	if (r != &local)
		free(r);
}

void
ls_witness_heads_root(struct ls_whead *heads, size_t n, uint8_t root[LS_TLOG_HASH])
{
	if (n > 1)
		qsort(heads, n, sizeof(*heads), whead_cmp);
	heads_root((const uint8_t *)heads, n, sizeof(*heads), root);
}

static size_t
slot_of(const struct ls_witness_job *j, const uint8_t author[LS_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, author, LS_KEY_LEN, j->hkey);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v & (j->n_slots - 1));
}

static void
slots_fill(struct ls_witness_job *j)
{
	memset(j->slots, 0, j->n_slots * sizeof(*j->slots));
	for (size_t i = 0; i < j->n_heads; i++) {
		size_t s = slot_of(j, j->heads[i].h.author);
		while (j->slots[s] != 0)
			s = (s + 1) & (j->n_slots - 1);
		j->slots[s] = (uint32_t)(i + 1);
	}
}

static struct jhead *
head_find(const struct ls_witness_job *j, const uint8_t author[LS_KEY_LEN])
{
	size_t s;

	if (j->n_slots == 0)
		return NULL;
	for (s = slot_of(j, author); j->slots[s] != 0; s = (s + 1) & (j->n_slots - 1)) {
		struct jhead *h = &j->heads[j->slots[s] - 1];
		if (memcmp(h->h.author, author, LS_KEY_LEN) == 0)
			return h;
	}
	return NULL;
}

/* A new head for author (not there yet). NULL: out of memory, or *toobig. */
static struct jhead *
head_add(struct ls_witness_job *j, const uint8_t author[LS_KEY_LEN], bool *toobig)
{
	struct jhead *h;
	size_t s;

	*toobig = false;
	if (j->n_heads >= LS_WITNESS_FEEDS_MAX) {
		*toobig = true;
		return NULL;
	}
	if (j->n_heads == j->cap_heads) {
		size_t cap = j->cap_heads ? j->cap_heads * 2 : 64;
		struct jhead *nh = realloc(j->heads, cap * sizeof(*nh));
		if (nh == NULL)
			return NULL;
		j->heads = nh;
		j->cap_heads = cap;
	}
	if (2 * (j->n_heads + 1) > j->n_slots) {
		size_t ns = j->n_slots ? j->n_slots * 2 : 128;
		uint32_t *sl = malloc(ns * sizeof(*sl));
		if (sl == NULL)
			return NULL;
		free(j->slots);
		j->slots = sl;
		j->n_slots = ns;
		slots_fill(j);
	}
	h = &j->heads[j->n_heads];
	memset(h, 0, sizeof(*h));
	memcpy(h->h.author, author, LS_KEY_LEN);
	for (s = slot_of(j, author); j->slots[s] != 0; s = (s + 1) & (j->n_slots - 1))
		;
	j->slots[s] = (uint32_t)(++j->n_heads);
	if (j->n_heads > 1 && memcmp(j->heads[j->n_heads - 2].h.author, author, LS_KEY_LEN) >= 0)
		j->sorted = false;
	return h;
}

/* The root of the heads as they are now. */
static void
job_heads_root(struct ls_witness_job *j, uint8_t root[LS_TLOG_HASH])
{
	if (!j->sorted) {
		qsort(j->heads, j->n_heads, sizeof(*j->heads), jhead_cmp);
		slots_fill(j);
		j->sorted = true;
	}
	heads_root((const uint8_t *)j->heads, j->n_heads, sizeof(*j->heads), root);
}

int
ls_witness_job_head(struct ls_witness_job *j, const struct ls_whead *h)
{
	struct jhead *n;
	bool toobig;

	if (head_find(j, h->author) != NULL)
		return LS_ERR_EXISTS;
	if ((n = head_add(j, h->author, &toobig)) == NULL)
		return toobig ? LS_ERR_TOO_BIG : LS_ERR_NOMEM;
	n->h = *h;
	return 0;
}

/* ---- starting ---- */

void
ls_witness_job_free(struct ls_witness_job **jp)
{
	struct ls_witness_job *j = jp ? *jp : NULL;

	if (j == NULL)
		return;
	free(j->heads);
	free(j->slots);
	free(j->page);
	free(j);
	*jp = NULL;
}

static void
split_fill(struct ls_splitview *ev, const char *note_a, size_t len_a,
	   const struct ls_witness_job *j, const uint8_t *old_root)
{
	if (ev == NULL)
		return;
	memset(ev, 0, offsetof(struct ls_splitview, proof));
	memcpy(ev->note_a, note_a, len_a);
	ev->note_a[len_a] = '\0';
	ev->len_a = len_a;
	memcpy(ev->note_b, j->note, j->note_len + 1);
	ev->len_b = j->note_len;
	ev->n = j->req.n;
	memcpy(ev->proof, j->req.proof, j->req.n * LS_TLOG_HASH);
	ev->has_old_root = old_root != NULL;
	if (old_root != NULL)
		memcpy(ev->old_root, old_root, LS_TLOG_HASH);
}

int
ls_witness_start(const struct ls_wlog *st, const char *note, size_t note_len,
		 const struct ls_vkey *log_key, const uint8_t *req, size_t len,
		 const uint8_t *old_root, struct ls_witness_job **jobp,
		 struct ls_witness_reply *reply, struct ls_splitview *ev)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_witness_job *j;
	uint64_t stored = st != NULL ? st->size : 0;
	int rc, step;

	*jobp = NULL;
	memset(reply, 0, sizeof(*reply));
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return LS_ERR_NOMEM;
	j->sorted = true;
	randombytes_buf(j->hkey, sizeof(j->hkey));
	if (req == NULL || (rc = ls_addcp_parse((const char *)req, len, &j->req, &ctx)) != 0) {
		step = refuse(reply, LS_WITNESS_MALFORMED, "bad add-checkpoint request: %s",
			      req == NULL ? "empty" : ls_err_msg(&ctx, rc));
		goto done;
	}
	if ((rc = ls_checkpoint_parse(j->req.cp.body, j->req.cp.body_len, &j->cp, &ctx)) != 0) {
		step =
		    refuse(reply, LS_WITNESS_MALFORMED, "bad checkpoint: %s", ls_err_msg(&ctx, rc));
		goto done;
	}
	if ((j->note_len = ls_note_format(&j->req.cp, j->note, sizeof(j->note))) == 0) {
		step = refuse(reply, LS_WITNESS_MALFORMED, "checkpoint note over %d bytes",
			      LS_NOTE_MAX);
		goto done;
	}
	if (log_key == NULL) {
		step = refuse(reply, LS_WITNESS_UNKNOWN,
			      "unknown log '%s': the peer announced no log key", j->cp.origin);
		goto done;
	}
	if (strcmp(j->cp.origin, log_key->name) != 0) {
		step =
		    refuse(reply, LS_WITNESS_UNKNOWN, "unknown log '%s' (the peer's log is '%s')",
			   j->cp.origin, log_key->name);
		goto done;
	}
	if ((rc = ls_note_verify(&j->req.cp, log_key)) != 0) {
		step = refuse(reply, LS_WITNESS_FORBIDDEN,
			      rc == LS_ERR_NOT_FOUND ? "checkpoint is not signed by the log key"
						     : "bad log signature on the checkpoint");
		goto done;
	}
	if (st != NULL && sodium_memcmp(st->log_pk, log_key->pk, 32) != 0) {
		step = refuse(reply, LS_WITNESS_FORBIDDEN,
			      "log '%s' is witnessed under another key", j->cp.origin);
		goto done;
	}
	if (st != NULL && st->distrusted) {
		step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
			      "distrusted log: this witness holds split-view evidence against it");
		goto done;
	}
	if (j->req.old != stored) {
		reply->has_size = true;
		reply->size = stored;
		step = refuse(reply, LS_WITNESS_CONFLICT, "old size %llu: this witness has %llu",
			      (unsigned long long)j->req.old, (unsigned long long)stored);
		goto done;
	}
	if (j->cp.size < j->req.old) {
		step = refuse(reply, LS_WITNESS_MALFORMED,
			      "checkpoint size %llu is below old size %llu",
			      (unsigned long long)j->cp.size, (unsigned long long)j->req.old);
		goto done;
	}
	if (j->cp.size == 0) {
		step = refuse(reply, LS_WITNESS_UNPROCESSABLE, "empty checkpoint");
		goto done;
	}
	if (j->cp.size == stored) {
		if (j->req.n != 0) {
			step = refuse(reply, LS_WITNESS_MALFORMED,
				      "consistency proof between equal sizes");
			goto done;
		}
		if (memcmp(j->cp.root, st->root, LS_TLOG_HASH) != 0) {
			step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "split view: a checkpoint of size %llu with another root",
				      (unsigned long long)stored);
			if (note == NULL)
				goto done;
			split_fill(ev, note, note_len, j, NULL);
			step = LS_WITNESS_SPLIT;
			goto done;
		}
	} else if (stored == 0) {
		if (j->req.n != 0) {
			step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "consistency proof from size 0 is not empty");
			goto done;
		}
	} else {
		const uint8_t *old = is_pow2(stored) && old_root != NULL ? old_root : st->root;
		uint8_t fr[LS_TLOG_HASH], sr[LS_TLOG_HASH];

		if (ls_tlog_consistency_roots(stored, j->cp.size, old,
					      (const uint8_t(*)[LS_TLOG_HASH])j->req.proof,
					      j->req.n, fr, sr) != 0) {
			step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "consistency proof from %llu to %llu has the wrong shape",
				      (unsigned long long)stored, (unsigned long long)j->cp.size);
			goto done;
		}
		if (memcmp(sr, j->cp.root, LS_TLOG_HASH) != 0) {
			step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "consistency proof from %llu to %llu does not verify",
				      (unsigned long long)stored, (unsigned long long)j->cp.size);
			goto done;
		}
		if (memcmp(fr, st->root, LS_TLOG_HASH) != 0) {
			step = refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "split view: the log's tree of size %llu has another root "
				      "than the one cosigned",
				      (unsigned long long)stored);
			if (note == NULL)
				goto done;
			split_fill(ev, note, note_len, j,
				   is_pow2(stored) && old_root != NULL ? old_root : NULL);
			step = LS_WITNESS_SPLIT;
			goto done;
		}
	}
	if ((j->page = malloc((size_t)LS_WITNESS_PAGE * LS_TLOG_LEAF_LEN)) == NULL) {
		ls_witness_job_free(&j);
		return LS_ERR_NOMEM;
	}
	if (st != NULL) {
		j->has_prev = true;
		j->prev = *st;
		j->st = *st;
		j->last_heads = true; /* what was cosigned ended in one */
	} else {
		memset(&j->st, 0, sizeof(j->st));
		snprintf(j->st.origin, sizeof(j->st.origin), "%s", j->cp.origin);
		memcpy(j->st.log_pk, log_key->pk, 32);
		ls_tlog_range_init(&j->st.range);
	}
	j->next = stored;
	*jobp = j;
	return j->cp.size == stored ? LS_WITNESS_READY : LS_WITNESS_ENTRIES;
done:
	ls_witness_job_free(&j);
	return step;
}

const char *
ls_witness_job_origin(const struct ls_witness_job *j)
{
	return j->cp.origin;
}

uint64_t
ls_witness_job_old(const struct ls_witness_job *j)
{
	return j->req.old;
}

uint64_t
ls_witness_job_size(const struct ls_witness_job *j)
{
	return j->cp.size;
}

uint64_t
ls_witness_job_next(const struct ls_witness_job *j)
{
	return j->next;
}

const uint8_t *
ls_witness_job_missing(const struct ls_witness_job *j, size_t *n)
{
	*n = j->n_missing;
	return &j->missing[0][0];
}

const struct ls_wlog *
ls_witness_job_prev(const struct ls_witness_job *j)
{
	return j->has_prev ? &j->prev : NULL;
}

const struct ls_wlog *
ls_witness_job_state(const struct ls_witness_job *j)
{
	return &j->st;
}

const char *
ls_witness_job_note(const struct ls_witness_job *j, size_t *len)
{
	*len = j->note_len;
	return j->note;
}

int
ls_witness_job_heads(const struct ls_witness_job *j, struct ls_whead **heads, size_t *n)
{
	size_t k = 0;

	*heads = NULL;
	*n = 0;
	for (size_t i = 0; i < j->n_heads; i++)
		k += j->heads[i].dirty;
	if (k == 0)
		return 0;
	if ((*heads = malloc(k * sizeof(**heads))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < j->n_heads; i++)
		if (j->heads[i].dirty)
			(*heads)[(*n)++] = j->heads[i].h;
	return 0;
}

/* ---- the entries ---- */

/* The end of the checkpoint: the last leaf and the root. */
static int
check_end(struct ls_witness_job *j, struct ls_witness_reply *reply)
{
	uint8_t root[LS_TLOG_HASH];

	if (!j->last_heads)
		return refuse(reply, LS_WITNESS_UNPROCESSABLE,
			      "the last leaf (%llu) is not a heads leaf",
			      (unsigned long long)(j->cp.size - 1));
	ls_tlog_range_root(&j->st.range, root);
	if (memcmp(root, j->cp.root, LS_TLOG_HASH) != 0)
		return refuse(reply, LS_WITNESS_UNPROCESSABLE,
			      "the entries do not make the checkpoint's root");
	return LS_WITNESS_READY;
}

/* Lists the records the page names from leaf `at` on that lookup does not
 * find (the first of them is at `at`). */
static int
collect_missing(struct ls_witness_job *j, size_t at, ls_witness_lookup_fn lookup, void *arg)
{
	struct ls_witness_rec rec;
	int rc;

	memcpy(j->missing[0], j->page + at * LS_TLOG_LEAF_LEN + 1, LS_ID_LEN);
	j->n_missing = 1;
	for (size_t i = at + 1; i < j->page_n && j->n_missing < LS_WITNESS_MISSING; i++) {
		const uint8_t *leaf = j->page + i * LS_TLOG_LEAF_LEN;
		if (leaf[0] != LS_TLOG_LEAF_RECORD)
			continue;
		if ((rc = lookup(arg, leaf + 1, &rec)) == LS_ERR_NOT_FOUND)
			memcpy(j->missing[j->n_missing++], leaf + 1, LS_ID_LEN);
		else if (rc != 0)
			return rc;
	}
	return LS_WITNESS_RECORDS;
}

/* ingest's main branch: the feed advances iff the record follows its head.
 * 0, 1 (refused: *reply says why) or an error. */
static int
follow(struct ls_witness_job *j, const uint8_t id[LS_ID_LEN], const struct ls_witness_rec *rec,
       struct ls_witness_reply *reply)
{
	struct jhead *h = head_find(j, rec->author);
	uint64_t seq = h != NULL ? h->h.seq : 0;
	bool toobig;

	if (rec->seq != seq + 1 ||
	    (rec->seq > 1 && (h == NULL || memcmp(rec->prev, h->h.id, LS_ID_LEN) != 0)))
		return 0;
	if (h == NULL && (h = head_add(j, rec->author, &toobig)) == NULL) {
		if (!toobig)
			return LS_ERR_NOMEM;
		refuse(reply, LS_WITNESS_UNPROCESSABLE, "log of over %d feeds",
		       LS_WITNESS_FEEDS_MAX);
		return 1;
	}
	h->h.seq = rec->seq;
	memcpy(h->h.id, id, LS_ID_LEN);
	h->dirty = true;
	return 0;
}

int
ls_witness_job_resume(struct ls_witness_job *j, ls_witness_lookup_fn lookup, void *arg,
		      struct ls_witness_reply *reply)
{
	uint8_t hash[LS_TLOG_HASH], root[LS_TLOG_HASH];
	int rc;

	j->n_missing = 0;
	while (j->page_at < j->page_n) {
		const uint8_t *leaf = j->page + j->page_at * LS_TLOG_LEAF_LEN;
		struct ls_witness_rec rec;

		switch (leaf[0]) {
		case LS_TLOG_LEAF_RECORD:
			if ((rc = lookup(arg, leaf + 1, &rec)) == LS_ERR_NOT_FOUND)
				return collect_missing(j, j->page_at, lookup, arg);
			if (rc != 0)
				return rc;
			if ((rc = follow(j, leaf + 1, &rec, reply)) != 0)
				return rc < 0 ? rc : LS_WITNESS_DONE;
			break;
		case LS_TLOG_LEAF_HEADS:
			job_heads_root(j, root);
			if (memcmp(root, leaf + 1, LS_TLOG_HASH) != 0)
				return refuse(reply, LS_WITNESS_UNPROCESSABLE,
					      "heads leaf %llu is not the root of the log's %zu "
					      "feed heads",
					      (unsigned long long)j->next, j->n_heads);
			break;
		default:
			return refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "leaf %llu is of unknown kind 0x%02x",
				      (unsigned long long)j->next, leaf[0]);
		}
		ls_tlog_leaf_hash(leaf, LS_TLOG_LEAF_LEN, hash);
		ls_tlog_range_append(&j->st.range, hash);
		j->last_heads = leaf[0] == LS_TLOG_LEAF_HEADS;
		j->page_at++;
		j->next++;
	}
	if (j->next == j->cp.size)
		return check_end(j, reply);
	return LS_WITNESS_ENTRIES;
}

int
ls_witness_job_feed(struct ls_witness_job *j, uint64_t from, const uint8_t *leaves, size_t n,
		    ls_witness_lookup_fn lookup, void *arg, struct ls_witness_reply *reply)
{
	uint64_t left = j->cp.size - j->next;

	if (from != j->next || j->page_at < j->page_n || j->next >= j->cp.size)
		return LS_ERR_INVALID;
	if (n == 0)
		return refuse(reply, LS_WITNESS_UNPROCESSABLE,
			      "the log has no entries from %llu (checkpoint size %llu)",
			      (unsigned long long)from, (unsigned long long)j->cp.size);
	if (n > LS_WITNESS_PAGE)
		n = LS_WITNESS_PAGE;
	if ((uint64_t)n > left)
		n = (size_t)left;
	memcpy(j->page, leaves, n * LS_TLOG_LEAF_LEN);
	j->page_n = n;
	j->page_at = 0;
	return ls_witness_job_resume(j, lookup, arg, reply);
}

/* ---- the end ---- */

struct cover {
	struct ls_witness_job *j;
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
};

static int
covered(void *arg, const uint8_t author[LS_KEY_LEN], uint64_t seq)
{
	struct cover *c = arg;
	const struct jhead *h = head_find(c->j, author);

	if (h != NULL && h->h.seq >= seq)
		return 0;
	memcpy(c->author, author, LS_KEY_LEN);
	c->seq = seq;
	return 1;
}

int
ls_witness_job_finish(struct ls_witness_job *j, ls_witness_authority_fn authority, void *arg,
		      uint64_t before, const char *name, const uint8_t sk[64], uint64_t now,
		      struct ls_witness_reply *reply)
{
	struct cover c = {j, {0}, 0};
	char hex[2 * LS_KEY_LEN + 1];
	int rc;

	if (j->next != j->cp.size)
		return LS_ERR_INVALID;
	if (authority != NULL) {
		if ((rc = authority(arg, before, covered, &c)) < 0)
			return rc;
		if (rc != 0)
			return refuse(reply, LS_WITNESS_UNPROCESSABLE,
				      "authority record %.16s seq %llu, stored here more than the "
				      "grace period ago, is kept out of the log",
				      ls_hex(c.author, LS_KEY_LEN, hex), (unsigned long long)c.seq);
	}
	if ((rc = ls_cosig_add(&j->req.cp, name, sk, now)) != 0) {
		if (rc == LS_ERR_TOO_BIG)
			return refuse(reply, LS_WITNESS_MALFORMED, "checkpoint has %d signatures",
				      LS_NOTE_SIGS_MAX);
		return rc;
	}
	if (ls_note_sig_line(&j->req.cp.sigs[j->req.cp.n_sigs - 1], reply->line,
			     sizeof(reply->line)) == 0)
		return LS_ERR_TOO_BIG;
	j->st.size = j->cp.size;
	memcpy(j->st.root, j->cp.root, LS_TLOG_HASH);
	j->st.cosigned_at = now;
	reply->status = LS_WITNESS_OK;
	return LS_WITNESS_DONE;
}

/* ---- split views ---- */

void
ls_splitview_origin(const struct ls_splitview *e, char origin[LS_NOTE_NAME_MAX])
{
	size_t i = 0;

	/* the first line of note a */
	while (i < e->len_a && i + 1 < LS_NOTE_NAME_MAX && e->note_a[i] != '\n')
		i++;
	if (i == e->len_a || e->note_a[i] != '\n')
		i = 0;
	memcpy(origin, e->note_a, i);
	origin[i] = '\0';
}

int
ls_splitview_check(const struct ls_splitview *e, const struct ls_vkey *log_key,
		   struct ls_checkpoint *a, struct ls_checkpoint *b, struct ls_err_ctx *ctx)
{
	struct ls_note *na = NULL, *nb = NULL;
	struct ls_checkpoint ca, cb;
	uint8_t fr[LS_TLOG_HASH], sr[LS_TLOG_HASH];
	const uint8_t *old;
	int rc;

	if ((na = malloc(sizeof(*na))) == NULL || (nb = malloc(sizeof(*nb))) == NULL) {
		rc = LS_ERR_NOMEM;
		goto out;
	}
	if ((rc = ls_note_parse(e->note_a, e->len_a, na, ctx)) != 0 ||
	    (rc = ls_note_parse(e->note_b, e->len_b, nb, ctx)) != 0 ||
	    (rc = ls_checkpoint_parse(na->body, na->body_len, &ca, ctx)) != 0 ||
	    (rc = ls_checkpoint_parse(nb->body, nb->body_len, &cb, ctx)) != 0)
		goto out;
	if (strcmp(ca.origin, log_key->name) != 0 || strcmp(cb.origin, log_key->name) != 0) {
		rc = ls_err_set(ctx, LS_ERR_INVALID,
				"split view: checkpoints of '%s' and '%s', "
				"not of log '%s'",
				ca.origin, cb.origin, log_key->name);
		goto out;
	}
	if (ls_note_verify(na, log_key) != 0 || ls_note_verify(nb, log_key) != 0) {
		rc = ls_err_set(ctx, LS_ERR_SIGNATURE,
				"split view: a checkpoint is not signed by the log key of '%s'",
				log_key->name);
		goto out;
	}
	if (a != NULL)
		*a = ca;
	if (b != NULL)
		*b = cb;
	if (ca.size == 0 || ca.size > cb.size) {
		rc = ls_err_set(ctx, LS_ERR_INVALID, "split view: sizes %llu and %llu",
				(unsigned long long)ca.size, (unsigned long long)cb.size);
		goto out;
	}
	if (ca.size == cb.size) {
		rc = memcmp(ca.root, cb.root, LS_TLOG_HASH) != 0
			 ? 0
			 : ls_err_set(ctx, LS_ERR_INVALID, "split view: the same checkpoint twice");
		goto out;
	}
	if (is_pow2(ca.size) && !e->has_old_root) {
		rc = ls_err_set(ctx, LS_ERR_INVALID,
				"split view: no old root for a proof from size %llu",
				(unsigned long long)ca.size);
		goto out;
	}
	old = is_pow2(ca.size) ? e->old_root : ca.root;
	if (ls_tlog_consistency_roots(ca.size, cb.size, old, e->proof, e->n, fr, sr) != 0) {
		rc = ls_err_set(ctx, LS_ERR_MALFORMED,
				"split view: proof from %llu to %llu has the wrong shape",
				(unsigned long long)ca.size, (unsigned long long)cb.size);
		goto out;
	}
	if (memcmp(sr, cb.root, LS_TLOG_HASH) != 0)
		rc = ls_err_set(ctx, LS_ERR_INVALID,
				"split view: the proof does not lead to the second root");
	else if (memcmp(fr, ca.root, LS_TLOG_HASH) == 0)
		rc = ls_err_set(ctx, LS_ERR_INVALID, "split view: the checkpoints are consistent");
	else
		rc = 0;
out:
	free(na);
	free(nb);
	return rc;
}
