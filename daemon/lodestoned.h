/*
 * lodestoned.h - what the files of the daemon share: its configuration and
 * the prototypes of each file, grouped by the file that defines them.
 */
#ifndef LODESTONED_H
#define LODESTONED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keyfile.h"
#include "log.h"
#include "note.h"
#include "record.h"
#include "store.h"
#include "witness.h"

/* A gossip peer named by --peer HEX@ENDPOINT. */
struct lsd_peer {
	uint8_t key[LS_KEY_LEN];
	char *endpoint; /* malloc'd */
};

/*
 * The daemon's configuration: the config file's `key = value` lines with the
 * command line on top. Strings are malloc'd and owned by the config.
 */
struct lsd_config {
	char *data_dir; /* NULL until lsd_config_finish: $LODESTONE_HOME, ~/.lodestone */
	char *api;      /* NULL until lsd_config_finish: ipc://DATA_DIR/api.sock */
	char *listen;   /* NULL: no gossip endpoint */
	struct lsd_peer *peers;
	size_t n_peers;
	uint8_t (*allow)[LS_KEY_LEN]; /* --allow-peer keys */
	size_t n_allow;
	uint8_t (*trust)[LS_KEY_LEN]; /* --trust keys (root authorities) */
	size_t n_trust;
	enum log_level log_level;
	unsigned sync_interval;       /* seconds between anti-entropy rounds */
	unsigned checkpoint_interval; /* at most one seal and checkpoint per this many seconds */
	/* the witness policy: these keys and the peers' witness keys */
	struct ls_vkey *witnesses; /* witness = VKEY lines */
	size_t n_witnesses;
	unsigned witness_quorum; /* 0: a majority of the policy's witnesses */
	unsigned witness_grace;  /* seconds (LS_WITNESS_GRACE) */
	/* streamed replies (stream.c): chunk bytes, streams in all and per
	 * connection, idle seconds */
	unsigned stream_chunk, streams_max, streams_per_client, stream_idle;
	unsigned stream_memory; /* MiB */
	unsigned readers;       /* API reader threads, 0..LSD_READERS_MAX (0: the main thread) */
	/* the API's bounds (api.c): connections, and the MiB of requests held
	 * unanswered per connection and in all */
	unsigned api_connections, api_queue, api_queue_total;
	/* records a second one peer may make this node check (gossip.c), with
	 * a burst of twice as many */
	unsigned peer_verify_rate;
};

#define LSD_WITNESSES_MAX    64    /* witness = lines */
#define LSD_READERS_MAX      64    /* readers = N */
#define LSD_API_CONNECTIONS  64    /* api-connections = N */
#define LSD_API_QUEUE        64    /* api-queue = MIB (one connection's requests held) */
#define LSD_API_QUEUE_TOTAL  256   /* api-queue-total = MIB (every connection's) */
#define LSD_PEER_VERIFY_RATE 10000 /* peer-verify-rate = N (records a second) */

/* ---- config.c ---- */

void lsd_config_init(struct lsd_config *c);
/* The default of --readers: one per online core, from 2 to 16. */
unsigned lsd_readers_default(void);
/* Frees what c owns and zeroes it. NULL-safe. */
void lsd_config_release(struct lsd_config *c);

/*
 * Applies one setting, named as the long option without dashes ("data-dir",
 * "peer", ...). Scalars replace an earlier value; peer, allow-peer, trust
 * and witness add to the list. `where` names the source in messages ("--peer",
 * "config 'F' line 3"). Fails with LS_ERR_INVALID (unknown key or a value of
 * the wrong form: a usage error) or with the error of loading a --trust or
 * --allow-peer key file (LS_ERR_NOT_FOUND, LS_ERR_IO, LS_ERR_KEYFILE).
 */
int lsd_config_set(struct lsd_config *c, const char *key, const char *value, const char *where,
		   struct ls_err_ctx *ctx);

/*
 * Reads a config file of `key = value` lines (inih; `#` and `;` comments; an
 * optional [lodestoned] section) into c. LS_ERR_NOT_FOUND / LS_ERR_IO when it
 * cannot be read, else the errors of lsd_config_set naming the line.
 */
int lsd_config_load(struct lsd_config *c, const char *path, struct ls_err_ctx *ctx);

/*
 * Fills the defaults: data_dir from $LODESTONE_HOME or ~/.lodestone, api
 * from data_dir. Call after every setting is applied and data_dir is made
 * absolute (lsd_datadir_make). LS_ERR_INVALID when no home is known.
 */
int lsd_config_default_dir(struct lsd_config *c, struct ls_err_ctx *ctx);
int lsd_config_finish(struct lsd_config *c, struct ls_err_ctx *ctx);

/* Parses error|warn|info|debug. LS_ERR_INVALID otherwise. */
int lsd_log_level_parse(const char *s, enum log_level *level);

/* ---- nodekey.c ---- */

/*
 * Creates directory dir (and missing parents) with mode 0700 if missing and
 * replaces c->data_dir by its absolute path. LS_ERR_IO names the directory.
 */
int lsd_datadir_make(struct lsd_config *c, struct ls_err_ctx *ctx);

/*
 * Loads the node key DIR/node.key, or when it is missing creates it (plain,
 * mode 0600) with its public half DIR/node.key.pub. *created tells which.
 * *out is freed with ls_key_free. Fails with the errors of ls_key_load /
 * ls_key_save; LS_ERR_INVALID when the node key is encrypted.
 */
int lsd_nodekey_open(const char *dir, struct ls_keypair **out, bool *created,
		     struct ls_err_ctx *ctx);

/*
 * The log key and the witness key, derived from the node key's secret (no
 * files of their own, the same after every restart and reindex): seed =
 * BLAKE2b-256(key = the node's secret seed, message = the label below), then
 * crypto_sign_seed_keypair. The log key signs this daemon's checkpoints
 * under the name `origin` ("lodestone/" and 16 hex digits of log_pk), the
 * witness key cosigns peers' checkpoints ("lodestone-witness/" and 16 hex
 * digits of wit_pk, wit_vkey.name). Secrets are in sodium_malloc'd (locked,
 * read-only) memory, wiped by lsd_logkeys_free.
 */
#define LSD_LOG_KEY_LABEL     "lodestone/log-key/v1"
#define LSD_WITNESS_KEY_LABEL "lodestone/witness-key/v1"
struct lsd_logkeys {
	char origin[LS_NOTE_NAME_MAX];
	uint8_t *log_sk; /* 64 bytes, locked */
	uint8_t log_pk[32];
	uint8_t *wit_sk; /* 64 bytes, locked */
	uint8_t wit_pk[32];
	struct ls_vkey log_vkey; /* type 0x01 (LS_NOTE_ED25519) */
	struct ls_vkey wit_vkey; /* type 0x04 (LS_NOTE_COSIG) */
};

/* Derives both keys from node into *out (zeroed first; on failure nothing
 * to free). LS_ERR_NOMEM, LS_ERR_CRYPTO. */
int lsd_logkeys_derive(const struct ls_keypair *node, struct lsd_logkeys *out);

/* Wipes and frees the secrets and zeroes *k. NULL-safe, and harmless on a
 * zeroed struct. */
void lsd_logkeys_free(struct lsd_logkeys *k);

/* ---- stream.c: replies in chunks (bundles, traces, logs of any size) ---- */

struct ls_api_request;
struct ls_api_response;
struct lsd_streams;

#define LSD_STREAMS_MAX      64    /* open streams in all */
#define LSD_STREAMS_PER_PEER 4     /* open streams per client connection */
#define LSD_STREAM_IDLE_MS   60000 /* a stream not pulled for this long is dropped */
#define LSD_STREAM_MEMORY    ((size_t)256 * 1024 * 1024) /* state of every stream in all */

struct lsd_stream_limits {
	size_t chunk;          /* bytes of a chunk: LS_API_CHUNK_MIN..LS_API_CHUNK_MAX */
	unsigned max_total;    /* streams open at once */
	unsigned max_per_peer; /* of them, per connection */
	unsigned idle_ms;      /* expiry */
	size_t max_bytes;      /* state held by all streams (a new one past it is refused) */
};

struct lsd_stream_stats {
	size_t open;      /* streams open */
	size_t bytes;     /* the state they hold */
	uint64_t started; /* since the daemon started */
	uint64_t expired;
};

/* An empty table of streams under lim (LS_ERR_INVALID out of range,
 * LS_ERR_NOMEM). Thread-safe: every function below may be called from any
 * thread. */
int lsd_streams_new(const struct lsd_stream_limits *lim, struct lsd_streams **out);
/* Frees every stream and *ss, sets it to NULL. NULL-safe. No call may run. */
void lsd_streams_free(struct lsd_streams **ss);

/*
 * Starts a stream for a bundle (proven in the log of log_vkey; NULL: none),
 * trace or log request with req->stream set, from connection req->peer:
 * makes its state, fills resp with the first chunk (a result of the
 * request's kind, resp->stream set; done when it is the only one). Fails,
 * with ctx's message, with LS_ERR_BUSY when the daemon or this connection
 * has the most streams open, and with the errors of the request itself
 * (LS_ERR_NOT_FOUND, LS_ERR_BUSY for a bundle not yet in a checkpoint, ...);
 * LS_ERR_BUSY too when its state would take the streams' memory past
 * lim.max_bytes.
 */
int lsd_stream_start(struct lsd_streams *ss, struct ls_store *store, const char *log_vkey,
		     const struct ls_api_request *req, struct ls_api_response *resp,
		     struct ls_err_ctx *ctx);

/*
 * The next chunk of stream req->next.token into resp (or with cancel, its
 * end: an empty last chunk). LS_ERR_NOT_FOUND when the token names no open
 * stream of connection req->peer, saying whether it finished, expired, was
 * cancelled or is unknown; LS_ERR_BUSY while another thread makes a chunk
 * of it; a store error ends the stream.
 */
int lsd_stream_next(struct lsd_streams *ss, struct ls_store *store,
		    const struct ls_api_request *req, struct ls_api_response *resp,
		    struct ls_err_ctx *ctx);

/* Drops the streams idle for the limit. Call from the main loop's timer. */
void lsd_streams_expire(struct lsd_streams *ss);

void lsd_streams_stats(struct lsd_streams *ss, struct lsd_stream_stats *out);

/* ---- batch.c: the one ingest path, fed by the API server and gossip ---- */

struct lsd_gossip;
struct lsd_batch;

#define LSD_BATCH_ENVS  4096                       /* envelopes in one group commit */
#define LSD_BATCH_BYTES ((size_t)64 * 1024 * 1024) /* their bytes */

/*
 * A side that feeds the batch: the API server (admit LS_ADMIT_LOCAL, tag the
 * waiting client) or gossip (LS_ADMIT_PEER, tag the peer). Borrowed by the
 * batch from lsd_batch_add until the flush. The callbacks must not add to or
 * flush the batch.
 */
struct lsd_batch_side {
	enum ls_admit admit; /* of every envelope the side adds */
	/*
	 * Called at the flush once per lsd_batch_add, in order, with its tag:
	 * rc 0 and results[i] for its envelope i, or the store's error (no
	 * results): then nothing of the batch was stored and nothing may be
	 * acknowledged. results are borrowed for the call.
	 */
	void (*done)(void *arg, void *tag, int rc, struct ls_ingest_result *results, size_t n);
	/* Then once per flush that held envelopes of the side; NULL: none. */
	void (*end)(void *arg, int rc);
	void *arg;
};

/*
 * An empty batch that ingests into store and pushes what the store accepts
 * to gossip (NULL: no gossip); both borrowed until lsd_batch_free.
 * LS_ERR_NOMEM.
 */
int lsd_batch_new(struct ls_store *store, struct lsd_gossip *gossip, struct lsd_batch **out);

/* Whether n more envelopes of `bytes` bytes in all fit within LSD_BATCH_ENVS
 * and LSD_BATCH_BYTES. An empty batch takes any n up to LSD_BATCH_ENVS. */
bool lsd_batch_fits(const struct lsd_batch *b, size_t n, size_t bytes);

/*
 * Adds n (> 0) envelopes of side, tagged tag. The envelopes are borrowed
 * until the side's done call. The caller makes room first: when
 * lsd_batch_fits() says no, lsd_batch_flush().
 */
void lsd_batch_add(struct lsd_batch *b, const struct lsd_batch_side *side, void *tag,
		   const uint8_t *const *envs, const size_t *lens, size_t n);

/* Ingests the batch in one commit, tells every side and empties it.
 * Nothing to do when it is empty. */
void lsd_batch_flush(struct lsd_batch *b);

/* The gossip that hears of accepted records from now on (NULL: none); a
 * configuration reload replaces it. Call with the batch flushed. */
void lsd_batch_set_gossip(struct lsd_batch *b, struct lsd_gossip *gossip);

/* Frees *b and sets it to NULL; what it still held is dropped without done
 * calls (its sides free what they hold). NULL-safe. */
void lsd_batch_free(struct lsd_batch **b);

/* ---- gossip.c: replication between daemons ---- */

struct ls_api_peer;

#define LSD_PEERS_MAX 60 /* peers (dialled or allowed): each may be a socket to poll */

/*
 * Starts gossip as cfg says: the ZAP handler and a CurveZMQ ROUTER on
 * cfg->listen (when set), and a DEALER to each --peer, with transport keys
 * made from kp (borrowed for the call). store and lk (the log and witness
 * keys; NULL: this daemon neither witnesses nor asks for cosignatures) are
 * borrowed until close; so is cfg's witness list.
 * LS_ERR_NET names the endpoint, LS_ERR_INVALID a key that is not a valid
 * node key.
 */
int lsd_gossip_open(void *zctx, struct ls_store *store, const struct lsd_config *cfg,
		    const struct ls_keypair *kp, const struct lsd_logkeys *lk,
		    struct lsd_gossip **out, struct ls_err_ctx *ctx);

/* Fills socks with the sockets to poll for ZMQ_POLLIN; returns how many. */
size_t lsd_gossip_sockets(struct lsd_gossip *g, void **socks, size_t max);

/* Milliseconds until a timer is due (the poll timeout). */
long lsd_gossip_timeout(struct lsd_gossip *g);

/* Reads what peers sent (without waiting), ingests it through b, answers,
 * runs the timers and pushes what was accepted. Call after every poll; b is
 * flushed before it returns. */
void lsd_gossip_run(struct lsd_gossip *g, struct lsd_batch *b);

/* A record the store accepted, or a new equivocation (from the batch's
 * ingest hooks): pushed to the peers at the next lsd_gossip_run (an accepted
 * record not back to the peer that sent it). Bytes are copied. */
void lsd_gossip_accepted(struct lsd_gossip *g, const uint8_t id[LS_ID_LEN], const uint8_t *env,
			 size_t len);
void lsd_gossip_evidence(struct lsd_gossip *g, const uint8_t *env_a, size_t len_a,
			 const uint8_t *env_b, size_t len_b);

/*
 * A new checkpoint of this daemon's log (signed and stored by the caller):
 * sent to every witness for its cosignature. Cosignatures are added to the
 * stored note, and the quorum time stored when the witness policy's quorum
 * is reached. note is copied. g may be NULL.
 */
void lsd_gossip_checkpoint(struct lsd_gossip *g, uint64_t size, const char *note, size_t len);

/* Every peer's state for the status request; *out is calloc'd (caller
 * frees). g may be NULL (no gossip: no peers). */
int lsd_gossip_peers(struct lsd_gossip *g, struct ls_api_peer **out, size_t *n);

/* The witnessing part of a status: the split-view evidence the store holds
 * (st->split_views calloc'd), the witness policy and the latest checkpoint
 * with its quorum. g may be NULL (nothing). LS_ERR_NOMEM or a store error. */
struct ls_api_status;
int lsd_gossip_witness_status(struct lsd_gossip *g, struct ls_api_status *st);

/* Closes the sockets and frees *g. NULL-safe. */
void lsd_gossip_close(struct lsd_gossip **g);

/* ---- tlog.c: seals and checkpoints of this daemon's log ---- */

struct lsd_tlog;

/*
 * The seal timer: at most once per cfg->checkpoint_interval seconds, when
 * records were logged since the last seal, seals the log, signs the
 * checkpoint with the log key, stores it and hands it to gossip (NULL: no
 * gossip). store, keys and gossip are borrowed until lsd_tlog_free.
 * LS_ERR_NOMEM.
 */
int lsd_tlog_new(struct ls_store *store, const struct lsd_logkeys *keys,
		 const struct lsd_config *cfg, struct lsd_gossip *gossip, struct lsd_tlog **out);

/* Milliseconds until the next seal is due (the poll timeout). */
long lsd_tlog_timeout(struct lsd_tlog *t);

/* Seals and checkpoints when due (a store error is logged and retried at the
 * next interval). Call after every poll. */
void lsd_tlog_run(struct lsd_tlog *t);

/* When this daemon signed its latest checkpoint (0: not since it started). */
uint64_t lsd_tlog_signed_at(const struct lsd_tlog *t, uint64_t *size);

/* A configuration reload: the interval of cfg and the gossip that gets the
 * checkpoints from now on (borrowed, NULL: none). */
void lsd_tlog_reconfigure(struct lsd_tlog *t, const struct lsd_config *cfg,
			  struct lsd_gossip *gossip);

void lsd_tlog_free(struct lsd_tlog **t);

/* ---- notify.c: the service manager ---- */

/* Sends a state ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=...") to
 * the service manager by the sd_notify(3) protocol when $NOTIFY_SOCKET is
 * set; nothing otherwise, and nothing fails. */
void lsd_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- api.c: the API server ---- */

struct lsd_api;

/* What the status request reports besides the store's counters. */
struct lsd_api_info {
	uint8_t node_key[LS_KEY_LEN];
	const char *api;                   /* borrowed for the server's life */
	const char *listen;                /* borrowed; NULL: none */
	struct lsd_gossip *gossip;         /* borrowed; NULL: no gossip */
	const struct lsd_logkeys *logkeys; /* borrowed */
	struct lsd_tlog *tlog;             /* borrowed */
	struct lsd_stream_limits streams;
	unsigned connections;      /* API connections served; more are answered busy */
	size_t queue, queue_total; /* bytes of requests held per connection, in all */
};

/*
 * Binds a ZMQ_ROUTER socket of zctx to info->api and serves requests from
 * store (borrowed until lsd_api_close), reads on `readers` threads (0: on
 * the calling thread, in lsd_api_dispatch). Call with signals blocked: the
 * threads inherit the mask. When the environment names a file in
 * LODESTONED_TEST_HOLD_READS (tests only), the reader threads hold every
 * query they take while that file exists. LS_ERR_NET names the endpoint,
 * LS_ERR_NOMEM.
 */
int lsd_api_open(void *zctx, struct ls_store *store, const struct lsd_api_info *info,
		 unsigned readers, struct lsd_api **out, struct ls_err_ctx *ctx);

/* The sockets to poll for ZMQ_POLLIN: the API, and the readers' answers
 * (NULL with no reader threads). */
void *lsd_api_socket(struct lsd_api *s);
void *lsd_api_answers_socket(struct lsd_api *s);
/* The API socket's monitor (connections accepted and gone): poll it too. */
void *lsd_api_monitor_socket(struct lsd_api *s);

/* A configuration reload: the gossip and listen endpoint status reports
 * from now on (both borrowed; NULL: none). */
void lsd_api_set_gossip(struct lsd_api *s, struct lsd_gossip *gossip, const char *listen);

/*
 * Forwards the answers the readers have ready, then reads every request
 * that is ready: adds submissions to b, flushed (one commit) before their
 * answers are sent; hands reads to the readers, or answers one at once with
 * LS_ERR_OVERLOADED when 64 per reader are in flight, or past the bounds of
 * info (connections, bytes held per connection and in all) (with no readers:
 * answers reads at once); b is flushed before it returns. Call after every
 * poll that found either socket readable. Returns 0, or LS_ERR_NET when the
 * socket failed.
 */
int lsd_api_dispatch(struct lsd_api *s, struct lsd_batch *b);

/* Timers: drops idle streams. Call once per loop. */
void lsd_api_tick(struct lsd_api *s);

/*
 * Stops the readers (a query that is running finishes; queued ones, and
 * any held by the test hook, are dropped unanswered), ends every stream,
 * closes the sockets (pending answers dropped) and frees *s. NULL-safe.
 */
void lsd_api_close(struct lsd_api **s);

#endif
