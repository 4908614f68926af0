/*
 * api_codec.h - the request/response API of lodestoned (proto/api.proto):
 * plain C requests and responses and their codec, used by the daemon to read
 * requests and write responses, and by the client (api.h) for the reverse.
 *
 * This module is the only one that touches the generated api.proto types. It
 * unpacks untrusted bytes with a budgeted allocator after checking their size,
 * checks every field, copies the result into the plain structs below and frees
 * the unpacked message before returning.
 *
 * Transport: one request per ZeroMQ message; the serialized Request is the
 * last frame, preceded by an empty delimiter frame (as a REQ socket sends it).
 * The daemon answers every well-framed message with exactly one Response,
 * errors included.
 */
#ifndef LS_API_CODEC_H
#define LS_API_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "record.h"
#include "store.h"
#include "holdings.h"
#include "note.h"
#include "verify.h"

#define LS_API_VERSION 1

/* Envelopes in one submit request. ls_api_submit() splits larger batches. */
#define LS_API_SUBMIT_MAX 1024
/* Bytes of a serialized request: a full submit and its framing. */
#define LS_API_REQUEST_MAX ((size_t)LS_API_SUBMIT_MAX * (LS_ENVELOPE_MAX + 16) + 64 * 1024)
/* Bytes of a serialized response. */
#define LS_API_RESPONSE_MAX ((size_t)16 * 1024 * 1024)
/* Records and envelope bytes in one log page (the daemon stops at either). */
#define LS_API_LOG_PAGE_MAX   1000
#define LS_API_LOG_PAGE_BYTES ((size_t)4 * 1024 * 1024)
/* Bytes of an endpoint string, NUL included. */
#define LS_API_ENDPOINT_MAX 256
/* bytes of a witness refusal in a status, with the NUL */
#define LS_API_REASON_MAX 256
/* Reasons in one verdict. */
#define LS_API_REASONS_MAX 4096
/* Reasons carried per part of a verdict (the worst part's are all at the top). */
#define LS_API_PART_REASONS 32
/* Bytes of a tlog-proof text: the checkpoint note and the proof lines. */
#define LS_API_PROOF_MAX (LS_NOTE_MAX + (LS_TLOG_PROOF_MAX + 4) * 48)

enum ls_api_kind {
	LS_API_NONE = 0, /* no result: an error response */
	LS_API_SUBMIT,
	LS_API_HEAD,
	LS_API_GET,
	LS_API_RESOLVE,
	LS_API_CERT_OF,
	LS_API_VERIFY,
	LS_API_ORIGIN,
	LS_API_TRACE,
	LS_API_LOG,
	LS_API_STATUS,
	LS_API_BUNDLE,
	LS_API_HOLDINGS,
	LS_API_CHECKPOINT,
	LS_API_PROVE,
	LS_API_NEXT, /* the next chunk of a stream (answered with the stream's kind) */
	LS_API_KIND_COUNT
};

/* "submit", "head", ...; "none" for LS_API_NONE, "unknown" out of range. */
const char *ls_api_kind_name(enum ls_api_kind k);

/* ---- streams ----
 *
 * A bundle, trace or log request with `stream` set is answered in chunks
 * (proto/api.proto, message Stream): each response is a result of the
 * request's kind with resp.stream.on; while !resp.stream.done the client
 * sends an LS_API_NEXT request with resp.stream.token on the same
 * connection and gets the next chunk. Concatenated, the chunks are the
 * whole reply as of the first request: bundle bytes appended; trace nodes,
 * edges and transfers appended list by list; log entries appended. A
 * bundle's first chunk gives its total size.
 */
#define LS_API_TOKEN_LEN 16
/* Bytes of one chunk's payload: the daemon's default, and the most it may
 * be configured to (a chunk and its framing stay under
 * LS_API_RESPONSE_MAX). */
#define LS_API_CHUNK_DEFAULT ((size_t)1024 * 1024)
#define LS_API_CHUNK_MIN     ((size_t)256)
#define LS_API_CHUNK_MAX     ((size_t)8 * 1024 * 1024)

struct ls_api_stream {
	bool on;   /* this result is a chunk of a stream */
	bool done; /* the last chunk */
	uint8_t token[LS_API_TOKEN_LEN];
	uint64_t total; /* bundle: bytes of the whole bundle (first chunk); else 0 */
	uint64_t seq;   /* chunk number from 0 */
};

/* ---- requests ---- */

/*
 * A request. Pointers inside are borrowed from the caller when the caller
 * builds the request for ls_api_request_encode(); after
 * ls_api_request_decode() they point into memory owned by the request, valid
 * until ls_api_request_release().
 */
struct ls_api_request {
	enum ls_api_kind kind;
	union {
		struct {
			size_t n; /* 1..LS_API_SUBMIT_MAX */
			const uint8_t *const *envs;
			const size_t *lens;    /* each 1..LS_ENVELOPE_MAX */
			bool record_violation; /* see LS_ADMIT_LOCAL_VIOLATION */
		} submit;
		struct {
			uint8_t author[LS_KEY_LEN];
		} head;
		struct {
			uint8_t id[LS_ID_LEN];
		} get;
		struct {
			enum ls_resolve_kind kind;
			const char *name; /* 1..LS_STR_MAX bytes, no control characters */
		} resolve;
		struct {
			uint8_t key[LS_KEY_LEN];
			uint64_t time; /* 0: now */
		} cert_of;
		/*
		 * destination[0] == '\0': provenance only (ls_verify_provenance);
		 * otherwise an export check (ls_verify_export). end_use NULL:
		 * civilian; time 0: now.
		 */
		struct ls_export_query verify;
		struct {
			uint8_t lot[LS_ID_LEN];
			bool has_from; /* the material this holder holds */
			uint8_t from[LS_KEY_LEN];
			bool stages; /* ls_verify_origin_stages */
		} origin;
		struct {
			uint8_t lot[LS_ID_LEN];
			bool down;
		} trace;
		/* limit 0: the daemon's page size. The daemon caps limit at
		 * LS_API_LOG_PAGE_MAX and the page at LS_API_LOG_PAGE_BYTES. */
		struct ls_log_filter log;
		struct {
			uint8_t lot[LS_ID_LEN];
		} bundle;
		/* limit 0: LS_HOLDINGS_MAX; the daemon caps it there. */
		struct {
			uint8_t holder[LS_KEY_LEN];
			uint32_t limit;
			bool has_after;
			uint8_t after[LS_ID_LEN];
		} holdings;
		/* a record id, or (prefix non-NULL) an id prefix of 8 to 64 hex
		 * digits */
		struct {
			uint8_t id[LS_ID_LEN];
			const char *prefix;
		} prove;
		/* the next chunk of the stream token, or (cancel) its end */
		struct {
			uint8_t token[LS_API_TOKEN_LEN];
			bool cancel;
		} next;
	};
	bool stream; /* bundle, trace, log: answer in chunks (see streams) */
	/* Set by the daemon, not encoded: the connection the request came on
	 * (its ROUTER identity), borrowed for the request's handling. */
	const uint8_t *peer;
	size_t peer_len;
	void *owned; /* private: the memory of a decoded request */
};

/*
 * Serializes req (borrowed). On success *buf is malloc'd (caller frees) and
 * *len is its size (at most LS_API_REQUEST_MAX). LS_ERR_INVALID names a field
 * out of range (a submit of 0 or over LS_API_SUBMIT_MAX envelopes, an
 * envelope over LS_ENVELOPE_MAX, an unknown kind, ...), LS_ERR_NOMEM.
 */
int ls_api_request_encode(const struct ls_api_request *req, uint8_t **buf, size_t *len,
			  struct ls_err_ctx *ctx);

/*
 * Decodes untrusted bytes into *req (zeroed first). Fails with
 * LS_ERR_TOO_BIG (len over LS_API_REQUEST_MAX, or a count over its limit),
 * LS_ERR_VERSION (a request version other than LS_API_VERSION),
 * LS_ERR_MALFORMED (does not decode, no or an unknown kind, a field out of
 * range: ctx names it) or LS_ERR_NOMEM. On failure nothing is left to
 * release; on success release with ls_api_request_release().
 */
int ls_api_request_decode(const uint8_t *buf, size_t len, struct ls_api_request *req,
			  struct ls_err_ctx *ctx);

/* Frees what a decoded request owns and zeroes it. NULL-safe; harmless on a
 * zeroed or caller-built request. */
void ls_api_request_release(struct ls_api_request *req);

/* ---- responses ---- */

struct ls_api_head {
	uint64_t seq; /* 0: the author has no record (id zeroed, timestamp 0) */
	uint8_t id[LS_ID_LEN];
	uint64_t timestamp;
};

struct ls_api_log_entry {
	uint64_t pos; /* store position */
	uint8_t *env; /* malloc'd */
	size_t len;
};

/* One page of ls_api_log(). Release with ls_api_log_page_release(). */
struct ls_api_log_page {
	size_t n;
	struct ls_api_log_entry *entries; /* malloc'd */
	bool more;                        /* more records match after entries[n - 1] */
};

void ls_api_log_page_release(struct ls_api_log_page *p);

struct ls_api_peer {
	bool has_key;
	uint8_t key[LS_KEY_LEN];
	char endpoint[LS_API_ENDPOINT_MAX];
	bool connected;
	uint64_t last_sync; /* 0: never */
	uint64_t received, rejected;
	/* witnessing: "" and 0 when unknown */
	char log_vkey[LS_VKEY_MAX], witness_vkey[LS_VKEY_MAX];
	uint64_t cosigned_size, cosigned_time; /* what it last cosigned of our log */
	uint64_t refused_ours;
	char refusal[LS_API_REASON_MAX];         /* its last refusal */
	uint64_t witnessed_size, witnessed_time; /* what we last cosigned of its log */
	uint64_t cosigned_theirs, refused_theirs;
	char refused_reason[LS_API_REASON_MAX]; /* our last refusal */
	bool distrusted;
	uint64_t cosign_rtt_us; /* its last cosignature's round trip; 0: none */
	uint64_t dropped;       /* its messages dropped over its message or request rate */
	uint64_t throttled;     /* its records dropped over its verification budget */
};

#define LS_API_SPLITS_MAX 256 /* split views in a status */
#define LS_API_TRUST_MAX  64  /* trust anchors in a status */

struct ls_api_splitview {
	char origin[LS_NOTE_NAME_MAX];
	uint64_t size_a, size_b;
};

/* Daemon status. Release with ls_api_status_release(). */
struct ls_api_status {
	struct ls_store_stats stats;
	uint8_t node_key[LS_KEY_LEN];
	char api[LS_API_ENDPOINT_MAX];
	char listen[LS_API_ENDPOINT_MAX]; /* "": no gossip endpoint */
	size_t n_peers;
	struct ls_api_peer *peers; /* malloc'd */
	/* the daemon's witnessed log */
	uint64_t log_size, log_sealed;
	char log_origin[LS_NOTE_NAME_MAX];
	char log_vkey[LS_VKEY_MAX], witness_vkey[LS_VKEY_MAX];
	uint64_t checkpoint_size; /* the latest checkpoint; 0: none */
	uint64_t checkpoint_time; /* when it was signed; 0: before the daemon started */
	/* witnessing */
	size_t n_split_views;
	struct ls_api_splitview *split_views; /* malloc'd */
	uint32_t witnesses, witness_quorum;
	uint64_t quorum_size; /* 0: none */
	/* streamed replies open, and the bytes of state they hold */
	uint64_t streams_open, stream_bytes;
	/* the root authorities the daemon trusts (--trust), at most
	 * LS_API_TRUST_MAX; malloc'd */
	size_t n_trust;
	uint8_t (*trust)[LS_KEY_LEN];
	/* the API's bounds: connections served and their limit, bytes of
	 * requests held unanswered, requests answered busy since the start */
	uint32_t api_connections, api_connections_max;
	uint64_t api_queued_bytes, api_busy;
};

void ls_api_status_release(struct ls_api_status *st);

/*
 * A response: error 0 and a result of `kind`, or a negative enum ls_err with
 * a message and kind LS_API_NONE.
 *
 * A decoded response owns every pointer inside its result; release it with
 * ls_api_response_release(), or move a result out (copy the member, then zero
 * kind) and release that with the function named beside it. For
 * ls_api_response_encode() the pointers are only read.
 */
struct ls_api_response {
	int error;
	char message[LS_ERR_MSG_MAX];
	enum ls_api_kind kind;
	struct ls_api_stream stream; /* bundle, trace, log: a chunk of a stream when on */
	union {
		struct {
			size_t n;
			struct ls_ingest_result *results; /* malloc'd: free() */
		} submit;
		struct ls_api_head head;
		struct {
			uint8_t *env; /* malloc'd: free() */
			size_t len;
		} get;
		struct {
			uint8_t id[LS_ID_LEN];
		} resolve;
		struct {
			uint8_t cert[LS_ID_LEN];
		} cert_of;
		struct ls_verdict verify;    /* ls_verdict_release() */
		struct ls_origin origin;     /* ls_origin_release() */
		struct ls_trace trace;       /* ls_trace_release() */
		struct ls_api_log_page log;  /* ls_api_log_page_release() */
		struct ls_api_status status; /* ls_api_status_release() */
		struct {
			uint8_t *bytes; /* malloc'd: free() */
			size_t len;
		} bundle;
		struct ls_holdings holdings; /* ls_holdings_release() */
		/* the signed note (C2SP text, at most LS_NOTE_MAX bytes) */
		struct {
			uint64_t size;
			char *note; /* malloc'd, NUL-terminated: free() */
			size_t len;
		} checkpoint;
		/* a c2sp.org/tlog-proof text of record id, leaf index, in the
		 * checkpoint of size (at most LS_API_PROOF_MAX bytes) */
		struct {
			uint8_t id[LS_ID_LEN];
			uint64_t index, size;
			char *proof; /* malloc'd, NUL-terminated: free() */
			size_t len;
		} prove;
	};
};

/* Zeroes resp (kind LS_API_NONE, error 0). */
void ls_api_response_init(struct ls_api_response *resp);

/* Makes resp an error response: error err, message from ctx (or
 * ls_strerror(err)). Releases a result it held. */
void ls_api_response_error(struct ls_api_response *resp, int err, const struct ls_err_ctx *ctx);

/*
 * Serializes resp (read only). On success *buf is malloc'd (caller frees).
 * LS_ERR_TOO_BIG when the result would be over LS_API_RESPONSE_MAX (the
 * caller should answer with an error instead), LS_ERR_INVALID for a field out
 * of range, LS_ERR_NOMEM.
 */
int ls_api_response_encode(const struct ls_api_response *resp, uint8_t **buf, size_t *len,
			   struct ls_err_ctx *ctx);

/*
 * Decodes untrusted bytes into *resp (initialised first). An error response
 * decodes successfully: check resp->error. Fails with LS_ERR_TOO_BIG,
 * LS_ERR_VERSION, LS_ERR_MALFORMED (ctx names the field) or LS_ERR_NOMEM;
 * then resp holds nothing.
 */
int ls_api_response_decode(const uint8_t *buf, size_t len, struct ls_api_response *resp,
			   struct ls_err_ctx *ctx);

/* Frees what resp owns and zeroes it. NULL-safe. */
void ls_api_response_release(struct ls_api_response *resp);

#endif
