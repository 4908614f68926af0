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

enum ls_gossip_kind {
	LS_GOSSIP_NONE = 0,
	LS_GOSSIP_SYNC,
	LS_GOSSIP_HEADS_REQUEST,
	LS_GOSSIP_HEADS,
	LS_GOSSIP_PULL,
	LS_GOSSIP_RECORDS,
	LS_GOSSIP_PUSH,
};

struct ls_gossip_head {
	uint8_t author[LS_KEY_LEN];
	uint64_t seq;
	bool has_id;
	uint8_t id[LS_ID_LEN]; /* the head record's id */
};

/*
 * One message. Only the fields of `kind` are meaningful. A decoded message
 * owns heads, envs and lens (release with ls_gossip_msg_release); a message
 * built for encoding borrows them.
 */
struct ls_gossip_msg {
	enum ls_gossip_kind kind;
	/* sync */
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
