/*
 * api.h - the client side of the API of lodestoned: a connection to a daemon
 * (struct ls_api) and one typed call per request kind, over a ZeroMQ REQ
 * socket with timeouts. The requests, responses and their codec are in
 * api_codec.h, included here.
 */
#ifndef LS_API_H
#define LS_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_codec.h"
#include "err.h"
#include "record.h"
#include "store.h"
#include "verify.h"

/* Default client timeout for one request. */
#define LS_API_TIMEOUT_MS 10000

/* A connection to a daemon. Like the ZeroMQ socket inside it, it is used by
 * one thread at a time; open one per thread. */
struct ls_api;

/*
 * Connects to the daemon at endpoint ("ipc://PATH" or "tcp://HOST:PORT").
 * timeout_ms (> 0; 0 means LS_API_TIMEOUT_MS) bounds each call's send and
 * receive. For ipc:// the socket file is checked first, so that a daemon that
 * is not running gives LS_ERR_NET at once. Fails with LS_ERR_INVALID (not an
 * ipc:// or tcp:// endpoint, or too long), LS_ERR_NET (no daemon at an ipc
 * path, ZeroMQ failure) or LS_ERR_NOMEM; ctx quotes the endpoint. A tcp://
 * daemon that is not there shows as LS_ERR_TIMEOUT on the first call.
 */
int ls_api_open(const char *endpoint, int timeout_ms, struct ls_api **out, struct ls_err_ctx *ctx);

/*
 * How long each call waits for its answer once the request is sent (the
 * connection is still bounded by ls_api_open's timeout_ms): answer_ms > 0
 * milliseconds, then LS_ERR_TIMEOUT ("connected, no answer yet": the daemon
 * is busy); 0 as long as the daemon stays connected. Either way a daemon
 * that drops the connection (exited, restarted, or silent to heartbeats for
 * 10 s) ends the wait with LS_ERR_NET within a second. progress (NULL:
 * none) is called about once a second while waiting with the milliseconds
 * waited, and once with -1 when the wait ends. Without this call the answer
 * wait is timeout_ms.
 */
void ls_api_set_wait(struct ls_api *a, long answer_ms, void (*progress)(void *arg, long waited_ms),
		     void *arg);

/* Closes *a (pending messages are dropped) and sets it to NULL. NULL-safe. */
void ls_api_close(struct ls_api **a);

/*
 * Every call below sends one request (ls_api_submit may send several) and
 * waits for the answer. Besides the errors of the daemon (the response's
 * error code, its message in ctx: LS_ERR_NOT_FOUND, LS_ERR_AMBIGUOUS,
 * LS_ERR_FULL, ...), each fails with:
 *   LS_ERR_TIMEOUT   connected, but no answer within the timeout (the call
 *                    may have taken effect; the connection stays usable);
 *   LS_ERR_NET       the message could not be sent or received, or the
 *                    daemon dropped the connection before answering;
 *   LS_ERR_MALFORMED / LS_ERR_VERSION / LS_ERR_TOO_BIG  the answer is bad;
 *   LS_ERR_INVALID   an argument is out of range;
 *   LS_ERR_NOMEM.
 * Outputs are written only on success.
 */

/*
 * Submits n envelopes (borrowed), in requests of at most LS_API_SUBMIT_MAX.
 * results[i] (caller's array of n) tells what became of envs[i]; every
 * result is durable when the call returns 0. An envelope over
 * LS_ENVELOPE_MAX is not sent and reported rejected (too-big). When a
 * request after the first fails, the earlier ones have taken effect.
 */
int ls_api_submit(struct ls_api *a, const uint8_t *const *envs, const size_t *lens, size_t n,
		  struct ls_ingest_result *results, struct ls_err_ctx *ctx);

/*
 * As ls_api_submit, with flags: LS_API_RECORD_VIOLATION stores transfers
 * that the daemon's policies find unlawful (needing a license they do not
 * cite, to a denied end use or end user, under a re-export bar), their
 * results accepted with the reason and a message saying that they break
 * provenance; without it they are rejected with that reason.
 */
#define LS_API_RECORD_VIOLATION 1u
int ls_api_submit_with(struct ls_api *a, unsigned flags, const uint8_t *const *envs,
		       const size_t *lens, size_t n, struct ls_ingest_result *results,
		       struct ls_err_ctx *ctx);

/* The head of author's feed (seq 0 when it has none). */
int ls_api_head(struct ls_api *a, const uint8_t author[LS_KEY_LEN], struct ls_api_head *head,
		struct ls_err_ctx *ctx);

/* The envelope of record id; *env malloc'd (caller frees). LS_ERR_NOT_FOUND. */
int ls_api_get(struct ls_api *a, const uint8_t id[LS_ID_LEN], uint8_t **env, size_t *len,
	       struct ls_err_ctx *ctx);

/* Resolves name (borrowed) to an id; LS_ERR_NOT_FOUND / LS_ERR_AMBIGUOUS. */
int ls_api_resolve(struct ls_api *a, enum ls_resolve_kind kind, const char *name,
		   uint8_t id[LS_ID_LEN], struct ls_err_ctx *ctx);

/* The id of a certificate of key valid at time t (0: now). LS_ERR_NOT_FOUND. */
int ls_api_cert_of(struct ls_api *a, const uint8_t key[LS_KEY_LEN], uint64_t t,
		   uint8_t cert[LS_ID_LEN], struct ls_err_ctx *ctx);

/*
 * Provenance (q->destination "") or export check of q->lot (q borrowed). *v
 * is filled on success (release with ls_verdict_release()).
 */
int ls_api_verify(struct ls_api *a, const struct ls_export_query *q, struct ls_verdict *v,
		  struct ls_err_ctx *ctx);

/* Origin of lot; release *o with ls_origin_release(). */
int ls_api_origin(struct ls_api *a, const uint8_t lot[LS_ID_LEN], struct ls_origin *o,
		  struct ls_err_ctx *ctx);

/* Origin of the grams of lot that holder (NULL: all of it) holds. */
int ls_api_origin_of(struct ls_api *a, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
		     struct ls_origin *o, struct ls_err_ctx *ctx);

/* As ls_api_origin_of, with every element's stages (ls_verify_origin_stages). */
int ls_api_origin_stages(struct ls_api *a, const uint8_t lot[LS_ID_LEN], const uint8_t *holder,
			 struct ls_origin *o, struct ls_err_ctx *ctx);

/*
 * A bundle, trace or log request (req borrowed; its stream flag is set
 * here) answered in chunks (api_codec.h, streams): fn gets each chunk's
 * response in order (borrowed for the call; chunk->stream says which), and
 * returns 0 to go on or an error, which cancels the stream and is returned.
 * A daemon that answers whole gives one chunk with stream.on false. Memory:
 * one chunk at a time.
 */
int ls_api_stream(struct ls_api *a, const struct ls_api_request *req,
		  int (*fn)(void *arg, const struct ls_api_response *chunk), void *arg,
		  struct ls_err_ctx *ctx);

/*
 * ls_api_stream one step at a time, for a caller that paces the stream:
 * the first chunk of req (kind bundle, trace or log), then the next chunk
 * of stream token (of that kind), or with cancel its end. Release *resp
 * with ls_api_response_release().
 */
int ls_api_stream_first(struct ls_api *a, const struct ls_api_request *req,
			struct ls_api_response *resp, struct ls_err_ctx *ctx);
int ls_api_stream_next(struct ls_api *a, enum ls_api_kind kind,
		       const uint8_t token[LS_API_TOKEN_LEN], bool cancel,
		       struct ls_api_response *resp, struct ls_err_ctx *ctx);

/* Ancestors or descendants of lot; release *t with ls_trace_release().
 * Streamed: no size limit, but *t is the whole trace in memory. */
int ls_api_trace(struct ls_api *a, const uint8_t lot[LS_ID_LEN], bool down, struct ls_trace *t,
		 struct ls_err_ctx *ctx);

/*
 * What holder holds and has in transit: each list at most `limit` entries
 * (0: the daemon's maximum, LS_HOLDINGS_MAX), after id `after` (NULL: from
 * the first). Release *h with ls_holdings_release().
 */
int ls_api_holdings(struct ls_api *a, const uint8_t holder[LS_KEY_LEN], const uint8_t *after,
		    uint32_t limit, struct ls_holdings *h, struct ls_err_ctx *ctx);

/*
 * One page of the log (f borrowed; f->limit 0 or over LS_API_LOG_PAGE_MAX asks
 * for a full page). To page on, set f->after_pos to the last entry's pos and
 * call again while page->more. Release *page with ls_api_log_page_release().
 */
int ls_api_log(struct ls_api *a, const struct ls_log_filter *f, struct ls_api_log_page *page,
	       struct ls_err_ctx *ctx);

/* Daemon status; release *st with ls_api_status_release(). */
int ls_api_status(struct ls_api *a, struct ls_api_status *st, struct ls_err_ctx *ctx);

/* The latest signed checkpoint of the daemon's log: its tree size and the
 * note (C2SP text with the cosignatures collected so far; *note malloc'd,
 * NUL-terminated, caller frees). LS_ERR_NOT_FOUND before the first. */
int ls_api_checkpoint(struct ls_api *a, uint64_t *size, char **note, size_t *len,
		      struct ls_err_ctx *ctx);

/*
 * The c2sp.org/tlog-proof text of a record (id, or prefix: 8 to 64 hex
 * digits; exactly one non-NULL) against the latest checkpoint: the record,
 * its leaf index and the checkpoint's size are given too. *proof malloc'd,
 * NUL-terminated (caller frees). LS_ERR_NOT_FOUND when the record is not
 * stored or not yet in a checkpoint, LS_ERR_AMBIGUOUS for a prefix.
 */
int ls_api_prove(struct ls_api *a, const uint8_t *id, const char *prefix, uint8_t id_out[LS_ID_LEN],
		 uint64_t *index, uint64_t *size, char **proof, size_t *len,
		 struct ls_err_ctx *ctx);

/*
 * The serialized Bundle of lot, streamed: write(arg, buf, len) gets its
 * bytes in order, a chunk at a time (borrowed for the call; a non-zero
 * return stops and is returned), *total the bytes in all. The chunks are
 * checked against the total the daemon announced (LS_ERR_MALFORMED).
 * Nothing was written when it fails with LS_ERR_BUSY (the lot is not in a
 * checkpoint yet, or the daemon has the most streams open).
 */
int ls_api_bundle_stream(struct ls_api *a, const uint8_t lot[LS_ID_LEN],
			 int (*write)(void *arg, const uint8_t *buf, size_t len), void *arg,
			 uint64_t *total, struct ls_err_ctx *ctx);

/* The serialized Bundle of lot in memory (streamed, no size limit);
 * *bundle malloc'd (caller frees). */
int ls_api_bundle(struct ls_api *a, const uint8_t lot[LS_ID_LEN], uint8_t **bundle, size_t *len,
		  struct ls_err_ctx *ctx);

#endif
