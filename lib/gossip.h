/*
 * gossip.h - the messages daemons exchange (proto/gossip.proto): a bounded
 * codec.
 *
 * Decoding takes untrusted bytes: every size and count is checked against
 * the limits below, unknown versions and kinds are refused, and unpacking
 * runs on a memory budget.
 */
#ifndef LS_GOSSIP_H
#define LS_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"

#define LS_GOSSIP_VERSION     1
#define LS_GOSSIP_DIGEST_LEN  32
#define LS_GOSSIP_HEADS_MAX   2048              /* heads in one Heads page */
#define LS_GOSSIP_RECORDS_MAX 256               /* envelopes in one Records or Push */
#define LS_GOSSIP_BATCH_BYTES (1024 * 1024)     /* envelope bytes a sender puts in one */
#define LS_GOSSIP_MSG_MAX     (2 * 1024 * 1024) /* bytes of one message (ZMQ_MAXMSGSIZE) */
#define LS_GOSSIP_VKEY_MAX    256               /* bytes of a vkey, with the NUL (LS_VKEY_MAX) */
#define LS_GOSSIP_NOTE_MAX    16384             /* bytes of a signed note (LS_NOTE_MAX) */
#define LS_GOSSIP_ADDCP_MAX   24576             /* bytes of an add-checkpoint request */
#define LS_GOSSIP_REPLY_MAX   4096              /* bytes of a checkpoint reply body */
#define LS_GOSSIP_REASON_MAX  256               /* bytes of a refusal reason, with the NUL */
#define LS_GOSSIP_ENTRIES_MAX 4096              /* leaves in one Entries */
#define LS_GOSSIP_LEAF_LEN    33                /* leaf data: kind byte || 32 bytes */
#define LS_GOSSIP_HASH_LEN    32                /* a Merkle tree hash */
#define LS_GOSSIP_PROOF_MAX   64                /* hashes of a consistency proof */

enum ls_gossip_kind {
	LS_GOSSIP_NONE = 0,
	LS_GOSSIP_SYNC,
	LS_GOSSIP_HEADS_REQUEST,
	LS_GOSSIP_HEADS,
	LS_GOSSIP_PULL,
	LS_GOSSIP_RECORDS,
	LS_GOSSIP_PUSH,
	LS_GOSSIP_LOG_KEYS,
	LS_GOSSIP_ADD_CHECKPOINT,
	LS_GOSSIP_CHECKPOINT_REPLY,
	LS_GOSSIP_ENTRIES_REQUEST,
	LS_GOSSIP_ENTRIES,
	LS_GOSSIP_FETCH,
	LS_GOSSIP_COSIGNED,
	LS_GOSSIP_SPLIT_VIEW,
};

struct ls_gossip_head {
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	bool has_id;
	uint8_t id[LS_ID_LEN]; /* the head record's id */
};

/*
 * One message. Only the fields of `kind` are meaningful. A decoded message
 * owns heads, envs, lens, data, data_b, hashes, leaves and ids (release with
 * ls_gossip_msg_release); a message built for encoding borrows them.
 * Decoded byte strings (data, data_b) are followed by a NUL not counted in
 * their length, so that note text can be read as a string.
 */
struct ls_gossip_msg {
	enum ls_gossip_kind kind;
	/* sync (reply also: log keys) */
	uint8_t digest[LS_GOSSIP_DIGEST_LEN];
	uint64_t feeds;
	bool reply;
	/* heads request */
	bool has_after;
	uint8_t after[LS_KEY_LEN];
	/* heads */
	size_t n_heads;
	struct ls_gossip_head *heads;
	bool more;
	/* pull, records */
	uint8_t author[LS_KEY_LEN];
	uint64_t from_seq, to_seq; /* pull */
	uint64_t next_seq;         /* records */
	/* records, push */
	size_t n_envs;
	const uint8_t **envs;
	size_t *lens;
	/* log keys: NUL-terminated vkey texts (not parsed here) */
	char log_vkey[LS_GOSSIP_VKEY_MAX];
	char wit_vkey[LS_GOSSIP_VKEY_MAX];
	/* add checkpoint: request; checkpoint reply: body; cosigned: note;
	 * split view: note_a (data) and note_b (data_b) */
	const uint8_t *data, *data_b;
	size_t data_len, data_b_len;
	bool has_root; /* add checkpoint, split view: old_root */
	uint8_t root[LS_GOSSIP_HASH_LEN];
	size_t n_hashes; /* split view: the consistency proof */
	const uint8_t (*hashes)[LS_GOSSIP_HASH_LEN];
	/* checkpoint reply */
	uint32_t status;
	bool has_size;
	uint64_t size;
	char reason[LS_GOSSIP_REASON_MAX]; /* "" when absent; no control characters */
	/* entries request (from, count), entries (from, leaves) */
	uint64_t from;
	uint32_t count;
	size_t n_leaves;
	const uint8_t (*leaves)[LS_GOSSIP_LEAF_LEN];
	/* fetch */
	size_t n_ids;
	const uint8_t (*ids)[LS_ID_LEN];
	void *owned; /* decoded: one block holding the arrays and the bytes */
};

/* The name of a kind, for logs: "sync", "push", ... */
const char *ls_gossip_kind_name(enum ls_gossip_kind k);

/*
 * Decodes one message. LS_ERR_TOO_BIG over LS_GOSSIP_MSG_MAX or past the
 * unpack budget, LS_ERR_VERSION for another version, LS_ERR_MALFORMED for
 * anything else that is wrong (ctx names the field).
 */
int ls_gossip_decode(const uint8_t *buf, size_t len, struct ls_gossip_msg *m,
		     struct ls_err_ctx *ctx);

void ls_gossip_msg_release(struct ls_gossip_msg *m);

/* Encodes m into *out (malloc'd). LS_ERR_TOO_BIG when over the limits,
 * LS_ERR_NOMEM. */
int ls_gossip_encode(const struct ls_gossip_msg *m, uint8_t **out, size_t *len,
		     struct ls_err_ctx *ctx);

#endif
