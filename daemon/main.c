/*
 * main.c - lodestoned: options and config, the data directory, the store,
 * signals, and the main loop.
 *
 * The daemon is one loop around zmq_poll with a timeout. Signal handlers only
 * set `quit`; the loop then ends, and everything is closed and freed in
 * order: sockets, store (after its last commit), keys, config.
 *
 * Exit status: 0 after a clean stop, 1 when startup fails (one line
 * "lodestoned: ..." on stderr), 2 for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "lodestoned.h"
#include "util.h"

#define POLL_TIMEOUT_MS 1000 /* the loop's longest sleep */
#define POLL_MAX        65   /* sockets polled: the API and its answers, the ZAP handler, gossip */

static volatile sig_atomic_t quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static const char usage_text[] =
    "usage: lodestoned [--data-dir DIR] [--api ENDPOINT] [--listen ENDPOINT]\n"
    "                  [--peer HEX@ENDPOINT]... [--allow-peer HEX|FILE.pub]...\n"
    "                  [--trust FILE.pub]... [--config FILE] [--log-level LEVEL]\n"
    "                  [--sync-interval SECONDS] [--checkpoint-interval SECONDS]\n"
    "                  [--witness VKEY]... [--witness-quorum K] [--witness-grace SECONDS]\n"
    "                  [--readers N]\n"
    "       lodestoned [--data-dir DIR] --init\n"
    "       lodestoned [--data-dir DIR] [--trust FILE.pub]... --reindex\n";

static void
usage(FILE *f)
{
	fputs(usage_text, f);
}

static const struct option long_options[] = {
    {"data-dir", required_argument, NULL, 'd'},
    {"api", required_argument, NULL, 'a'},
    {"listen", required_argument, NULL, 'l'},
    {"peer", required_argument, NULL, 'p'},
    {"allow-peer", required_argument, NULL, 'A'},
    {"trust", required_argument, NULL, 't'},
    {"config", required_argument, NULL, 'c'},
    {"log-level", required_argument, NULL, 'L'},
    {"sync-interval", required_argument, NULL, 's'},
    {"witness", required_argument, NULL, 'W'},
    {"witness-quorum", required_argument, NULL, 'Q'},
    {"witness-grace", required_argument, NULL, 'G'},
    {"checkpoint-interval", required_argument, NULL, 'I'},
    {"readers", required_argument, NULL, 'r'},
    {"init", no_argument, NULL, 'i'},
    {"reindex", no_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The setting name of a long option: the same names as in the config file. */
static const char *
option_name(int c)
{
	for (const struct option *o = long_options; o->name != NULL; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

struct args {
	const char *config;
	bool init;
	bool reindex;
	bool help;
};

/*
 * Parses argv in two passes: the first finds --config, --init and --help,
 * the second (after the config file is read) applies every other option on
 * top of it. Returns 0, or the exit status.
 */
static int
parse_args(int argc, char **argv, struct args *a, struct lsd_config *cfg)
{
	struct ls_err_ctx ctx = {{0}};
	int c, rc;

	opterr = 0;
	optind = 0; /* GNU: also resets getopt's internal state */
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': a->config = optarg; break;
		case 'i': a->init = true; break;
		case 'R': a->reindex = true; break;
		case 'h': a->help = true; break;
		case '?':
			if (optopt != 0)
				fprintf(stderr, "lodestoned: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "lodestoned: unknown option '%s'\n",
					argv[optind - 1]);
			usage(stderr);
			return 2;
		case ':':
			fprintf(stderr, "lodestoned: option '%s' needs a value\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		default: break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "lodestoned: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (a->help)
		return 0;
	if (a->config != NULL && (rc = lsd_config_load(cfg, a->config, &ctx)) != 0) {
		fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	optind = 0; /* GNU: also resets getopt's internal state */
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		char where[64];
		if (c == 'c' || c == 'i' || c == 'R' || c == 'h')
			continue;
		snprintf(where, sizeof(where), "--%s", option_name(c));
		if ((rc = lsd_config_set(cfg, option_name(c), optarg, where, &ctx)) != 0) {
			fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
			/* A value of the wrong form is a usage error; a key file
			 * that cannot be read is not. */
			return rc == LS_ERR_INVALID ? 2 : 1;
		}
	}
	return 0;
}

/* True when something accepts connections on the unix socket path. */
static bool
socket_answers(const char *path)
{
	struct sockaddr_un sun;
	bool ok;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return false;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return ok;
}

/* Removes a socket file left by a daemon that died. Call only while holding
 * the store: its lock proves that no other daemon serves this directory. */
static int
clear_stale_socket(const char *endpoint, struct ls_err_ctx *ctx)
{
	const char *path;
	struct stat st;

	if (strncmp(endpoint, "ipc://", 6) != 0)
		return 0;
	path = endpoint + 6;
	if (*path == '@' || strcmp(path, "*") == 0)
		return 0;
	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode))
		return ls_err_set(ctx, LS_ERR_EXISTS,
				  "API endpoint '%s' exists and is not a socket", endpoint);
	/* --api may name a socket outside the data dir, which the lock does not
	 * cover: leave it to whoever still answers on it. */
	if (socket_answers(path))
		return ls_err_set(ctx, LS_ERR_EXISTS,
				  "API endpoint '%s' is in use by another process", endpoint);
	if (unlink(path) != 0)
		return ls_err_set(ctx, LS_ERR_IO, "cannot remove stale socket '%s': %s", path,
				  strerror(errno));
	log_debug("removed stale socket '%s'", path);
	return 0;
}

static void
remove_socket(const char *endpoint)
{
	struct stat st;
	const char *path = endpoint + 6;

	if (strncmp(endpoint, "ipc://", 6) != 0 || *path == '@')
		return;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

static int
do_init(struct lsd_config *cfg)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_keypair *kp = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	bool created;
	int rc;

	if ((rc = lsd_config_default_dir(cfg, &ctx)) != 0 ||
	    (rc = lsd_datadir_make(cfg, &ctx)) != 0 ||
	    (rc = lsd_nodekey_open(cfg->data_dir, &kp, &created, &ctx)) != 0) {
		fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	if (!created)
		log_info("node key '%s/node.key' exists: kept", cfg->data_dir);
	printf("%s\n", ls_hex(kp->pk, LS_KEY_LEN, hex));
	ls_key_free(&kp);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void
reindex_rejected(void *arg, const struct ls_ingest_result *res)
{
	char hex[LS_HEX_KEY_LEN + 1] = "?";

	(void)arg;
	if (res->has_id)
		ls_hex(res->id, LS_ID_LEN, hex);
	log_warn("reindex: %s record %.16s is not valid under this version's rules: %s: %s",
		 ls_rtype_name(res->type), hex, ls_reason_code(res->reason), res->message);
}

/*
 * --reindex: rebuilds every table from the stored records under this
 * version's rules, then exits. Records that no longer pass are named in the
 * log and left out.
 */
static int
do_reindex(struct lsd_config *cfg)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts opts = {0};
	struct ls_reindex_hooks hooks = {reindex_rejected, NULL};
	struct ls_reindex_report rep;
	int rc;

	if ((rc = lsd_config_default_dir(cfg, &ctx)) != 0 ||
	    (rc = lsd_config_finish(cfg, &ctx)) != 0) {
		fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	opts.anchors = (const uint8_t(*)[LS_KEY_LEN])cfg->trust;
	opts.n_anchors = cfg->n_trust;
	if ((rc = ls_store_reindex(cfg->data_dir, &opts, &hooks, &rep, &ctx)) != 0) {
		if (rc == LS_ERR_LOCKED)
			fprintf(stderr,
				"lodestoned: data dir '%s' is in use: stop lodestoned first\n",
				cfg->data_dir);
		else
			fprintf(stderr, "lodestoned: reindex failed: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	printf("reindexed '%s': %llu records read, %llu stored, %llu waiting, %llu kept as "
	       "equivocation evidence, %llu not valid under this version's rules\n",
	       cfg->data_dir, (unsigned long long)rep.read, (unsigned long long)rep.accepted,
	       (unsigned long long)rep.pending, (unsigned long long)rep.evidence,
	       (unsigned long long)rep.rejected);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Signals are blocked while threads (ZeroMQ's, the store's) are made, so that
 * they reach the main thread and interrupt zmq_poll. */
static void
signals_setup(sigset_t *blocked)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(blocked);
	sigaddset(blocked, SIGINT);
	sigaddset(blocked, SIGTERM);
	sigaddset(blocked, SIGHUP);
	sigprocmask(SIG_BLOCK, blocked, NULL);
}

static int
run(struct lsd_config *cfg)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts opts = {0};
	struct ls_store *store = NULL;
	struct ls_keypair *kp = NULL;
	struct lsd_api *api = NULL;
	struct lsd_gossip *gossip = NULL;
	struct lsd_batch *batch = NULL;
	struct lsd_tlog *tlog = NULL;
	struct lsd_logkeys logkeys;
	struct lsd_api_info info;
	void *zctx = NULL;
	char hex[LS_HEX_KEY_LEN + 1];
	sigset_t blocked;
	bool created;
	int rc, status = 1;

	memset(&logkeys, 0, sizeof(logkeys));
	signals_setup(&blocked);
	if ((rc = lsd_config_default_dir(cfg, &ctx)) != 0 ||
	    (rc = lsd_datadir_make(cfg, &ctx)) != 0 || (rc = lsd_config_finish(cfg, &ctx)) != 0 ||
	    (rc = lsd_nodekey_open(cfg->data_dir, &kp, &created, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if (created)
		log_info("made node key '%s/node.key'", cfg->data_dir);
	if ((rc = lsd_logkeys_derive(kp, &logkeys)) != 0) {
		log_error("cannot derive the log and witness keys: %s", ls_strerror(rc));
		goto out;
	}
	opts.anchors = (const uint8_t(*)[LS_KEY_LEN])cfg->trust;
	opts.n_anchors = cfg->n_trust;
	if ((rc = ls_store_open(cfg->data_dir, &opts, &store, &ctx)) != 0) {
		if (rc == LS_ERR_LOCKED)
			log_error("data dir '%s' is in use by another lodestoned", cfg->data_dir);
		else
			log_error("cannot open the store: %s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if ((rc = clear_stale_socket(cfg->api, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if ((zctx = zmq_ctx_new()) == NULL) {
		log_error("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
		goto out;
	}
	memcpy(info.node_key, kp->pk, LS_KEY_LEN);
	info.api = cfg->api;
	info.listen = cfg->listen;
	info.gossip = NULL;
	info.logkeys = &logkeys;
	info.tlog = NULL;
	if (cfg->listen != NULL || cfg->n_peers != 0) {
		if ((rc = lsd_gossip_open(zctx, store, cfg, kp, &logkeys, &gossip, &ctx)) != 0) {
			log_error("%s", ls_err_msg(&ctx, rc));
			goto out;
		}
		info.gossip = gossip;
		log_info("gossip: listening on %s, %zu peer(s) to dial, %zu key(s) allowed, "
			 "sync every %u s",
			 cfg->listen ? cfg->listen : "-", cfg->n_peers, cfg->n_allow,
			 cfg->sync_interval);
	} else if (cfg->n_allow != 0) {
		log_warn("--allow-peer without --listen: no peer can connect");
	}
	if ((rc = lsd_batch_new(store, gossip, &batch)) != 0) {
		log_error("cannot make the ingest batch: %s", ls_strerror(rc));
		goto out;
	}
	if ((rc = lsd_tlog_new(store, &logkeys, cfg, gossip, &tlog)) != 0) {
		log_error("cannot start the log: %s", ls_strerror(rc));
		goto out;
	}
	info.tlog = tlog;
	if ((rc = lsd_api_open(zctx, store, &info, cfg->readers, &api, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if (cfg->n_trust == 0)
		log_warn("no --trust key: no authority is trusted, so no certificate, policy or "
			 "license will be accepted");
	log_info("serving '%s' on %s, node key %s, %u reader thread(s)", cfg->data_dir, cfg->api,
		 ls_hex(kp->pk, LS_KEY_LEN, hex), cfg->readers);
	log_info("log %s, checkpoint every %u s", logkeys.origin, cfg->checkpoint_interval);
	sigprocmask(SIG_UNBLOCK, &blocked, NULL);

	status = 0;
	while (!quit) {
		zmq_pollitem_t items[POLL_MAX];
		void *socks[POLL_MAX - 2];
		void *answers = lsd_api_answers_socket(api);
		size_t na = answers != NULL ? 2 : 1;
		size_t ns = gossip ? lsd_gossip_sockets(gossip, socks, POLL_MAX - 2) : 0;
		long timeout = gossip ? lsd_gossip_timeout(gossip) : POLL_TIMEOUT_MS;
		long seal = lsd_tlog_timeout(tlog);
		int n;

		items[0] = (zmq_pollitem_t){lsd_api_socket(api), 0, ZMQ_POLLIN, 0};
		items[1] = (zmq_pollitem_t){answers, 0, ZMQ_POLLIN, 0};
		for (size_t i = 0; i < ns; i++)
			items[na + i] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
		if (timeout > POLL_TIMEOUT_MS)
			timeout = POLL_TIMEOUT_MS;
		if (seal < timeout)
			timeout = seal;
		n = zmq_poll(items, (int)(na + ns), timeout);
		if (n == -1) {
			if (zmq_errno() == EINTR)
				continue;
			log_error("zmq_poll: %s", zmq_strerror(zmq_errno()));
			status = 1;
			break;
		}
		if (((items[0].revents | (na > 1 ? items[1].revents : 0)) & ZMQ_POLLIN) &&
		    lsd_api_dispatch(api, batch) != 0) {
			status = 1;
			break;
		}
		if (gossip != NULL)
			lsd_gossip_run(gossip, batch);
		lsd_tlog_run(tlog);
	}
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	log_info("stopping");
out:
	if (api != NULL) {
		lsd_api_close(&api);
		remove_socket(cfg->api); /* ours: we bound it and still hold the store */
	}
	lsd_batch_free(&batch);
	lsd_tlog_free(&tlog);
	lsd_gossip_close(&gossip);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	ls_store_close(&store);
	lsd_logkeys_free(&logkeys);
	ls_key_free(&kp);
	return status;
}

int
main(int argc, char **argv)
{
	struct lsd_config cfg;
	struct args a = {0};
	int status;

	lsd_config_init(&cfg);
	if (sodium_init() < 0) {
		fprintf(stderr, "lodestoned: cannot initialise libsodium\n");
		return 1;
	}
	if ((status = parse_args(argc, argv, &a, &cfg)) != 0)
		goto out;
	if (a.help) {
		usage(stdout);
		goto out;
	}
	log_init(cfg.log_level);
	status = a.init ? do_init(&cfg) : a.reindex ? do_reindex(&cfg) : run(&cfg);
out:
	lsd_config_release(&cfg);
	return status;
}
