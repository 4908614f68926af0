/*
 * main.c - lodestoned: options and config, the data directory, the store,
 * signals, and the main loop.
 *
 * The daemon is one loop around zmq_poll with a timeout. Signal handlers only
 * set flags: SIGTERM/SIGINT `quit` (the loop then ends, and everything is
 * closed and freed in order: sockets, store after its last commit, keys,
 * config), SIGHUP `reload` (the loop reads the configuration again and
 * applies it, keeping the store and the API open).
 *
 * Readiness: once the API socket is bound, the service manager hears READY=1
 * (notify.c), a --detach parent returns, and DATA_DIR/lodestoned.pid names
 * the process.
 *
 * Exit status: 0 after a clean stop, 1 when startup fails (one line on
 * stderr), 2 for a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "lodestoned.h"
#include "util.h"

#define POLL_TIMEOUT_MS 1000 /* the loop's longest sleep */
#define POLL_MAX                                                                                   \
	66 /* sockets polled: the API, its monitor and answers, the ZAP handler, gossip            \
	    */

static volatile sig_atomic_t quit, reload;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		quit = 1;
}

static const char usage_text[] =
    "usage: lodestoned [--data-dir DIR] [--api ENDPOINT] [--listen ENDPOINT]\n"
    "                  [--peer HEX@ENDPOINT]... [--allow-peer HEX|FILE.pub]...\n"
    "                  [--trust FILE.pub]... [--config FILE] [--log-level LEVEL]\n"
    "                  [--sync-interval SECONDS] [--checkpoint-interval SECONDS]\n"
    "                  [--witness VKEY]... [--witness-quorum K] [--witness-grace SECONDS]\n"
    "                  [--stream-chunk BYTES] [--streams-max N] [--streams-per-client N]\n"
    "                  [--stream-idle SECONDS] [--stream-memory MIB] [--readers N]\n"
    "                  [--api-connections N] [--api-queue MIB] [--api-queue-total MIB]\n"
    "                  [--peer-verify-rate N] [--detach]\n"
    "       lodestoned [--data-dir DIR] --init\n"
    "       lodestoned [--data-dir DIR] [--trust FILE.pub]... --reindex\n"
    "       lodestoned --version\n";

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
    {"stream-chunk", required_argument, NULL, 1001},
    {"streams-max", required_argument, NULL, 1002},
    {"streams-per-client", required_argument, NULL, 1003},
    {"stream-idle", required_argument, NULL, 1004},
    {"stream-memory", required_argument, NULL, 1005},
    {"readers", required_argument, NULL, 'r'},
    {"api-connections", required_argument, NULL, 1006},
    {"api-queue", required_argument, NULL, 1007},
    {"api-queue-total", required_argument, NULL, 1008},
    {"peer-verify-rate", required_argument, NULL, 1009},
    {"init", no_argument, NULL, 'i'},
    {"reindex", no_argument, NULL, 'R'},
    {"detach", no_argument, NULL, 'D'},
    {"version", no_argument, NULL, 'V'},
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
	bool detach;
	bool help;
	bool version;
};

/* Options of the first pass only: not settings. */
static bool
first_pass_option(int c)
{
	return c == 'c' || c == 'i' || c == 'R' || c == 'D' || c == 'V' || c == 'h';
}

/*
 * The second pass: every setting on the command line, on top of what cfg
 * already holds (the config file). LS_ERR_INVALID for a value of the wrong
 * form (a usage error), or another error for a key file that cannot be read.
 */
static int
apply_options(int argc, char **argv, struct lsd_config *cfg, struct ls_err_ctx *ctx)
{
	int c, rc;

	opterr = 0;
	optind = 0; /* GNU: also resets getopt's internal state */
	while ((c = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
		char where[64];
		if (first_pass_option(c) || c == '?' || c == ':')
			continue;
		snprintf(where, sizeof(where), "--%s", option_name(c));
		if ((rc = lsd_config_set(cfg, option_name(c), optarg, where, ctx)) != 0)
			return rc;
	}
	return 0;
}

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
		case 'D': a->detach = true; break;
		case 'V': a->version = true; break;
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
	if (a->help || a->version)
		return 0;
	if (a->detach && (a->init || a->reindex)) {
		fprintf(stderr, "lodestoned: --detach is for serving, not with --%s\n",
			a->init ? "init" : "reindex");
		return 2;
	}
	if (a->config != NULL && (rc = lsd_config_load(cfg, a->config, &ctx)) != 0) {
		fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	if ((rc = apply_options(argc, argv, cfg, &ctx)) != 0) {
		fprintf(stderr, "lodestoned: %s\n", ls_err_msg(&ctx, rc));
		/* A value of the wrong form is a usage error; a key file that
		 * cannot be read is not. */
		return rc == LS_ERR_INVALID ? 2 : 1;
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

/* ---- --detach ---- */

static int ready_fd = -1; /* the detached child's end of the pipe to its parent */

/*
 * --detach: forks before any thread or resource exists. The parent waits
 * until the child is ready (one byte on the pipe) and returns 0, or returns
 * the child's exit status when it stopped before that (its errors went to
 * the terminal: the child's stderr is still the parent's). The child, in
 * its own session, returns -1 and goes on.
 */
static int
detach_begin(void)
{
	int p[2], st = 0;
	ssize_t n;
	pid_t pid;
	char c;

	if (pipe2(p, O_CLOEXEC) != 0) {
		fprintf(stderr, "lodestoned: --detach: pipe: %s\n", strerror(errno));
		return 1;
	}
	if ((pid = fork()) == -1) {
		fprintf(stderr, "lodestoned: --detach: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		close(p[0]);
		ready_fd = p[1];
		setsid();
		return -1;
	}
	close(p[1]);
	while ((n = read(p[0], &c, 1)) == -1 && errno == EINTR)
		;
	close(p[0]);
	if (n == 1)
		return 0;
	/* the child stopped before it was ready: its status is ours */
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : 1;
}

/* The detached child is ready: the parent returns, the terminal is let go,
 * and the log goes to syslog. */
static void
detach_done(void)
{
	int fd;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, "1", 1) != 1)
		log_warn("--detach: cannot tell the parent: %s", strerror(errno));
	close(ready_fd);
	ready_fd = -1;
	log_to_syslog();
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* ---- the pid file ---- */

static int
pidfile_path(const struct lsd_config *cfg, char *path, size_t size)
{
	return (size_t)snprintf(path, size, "%s/lodestoned.pid", cfg->data_dir) < size ? 0 : -1;
}

/* DATA_DIR/lodestoned.pid, written atomically while the store's lock is held. */
static void
pidfile_write(const struct lsd_config *cfg)
{
	char path[4096], tmp[4200];
	FILE *f;

	if (pidfile_path(cfg, path, sizeof(path)) != 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		log_warn("cannot write '%s': %s", tmp, strerror(errno));
		return;
	}
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_warn("cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
}

static void
pidfile_remove(const struct lsd_config *cfg)
{
	char path[4096];

	if (pidfile_path(cfg, path, sizeof(path)) == 0)
		unlink(path);
}

/* ---- the running daemon ---- */

struct daemon {
	int argc;
	char **argv;
	const char *config_path; /* --config, or NULL */
	struct lsd_config *cfg;
	void *zctx;
	struct ls_store *store;
	struct ls_keypair *kp;
	struct lsd_logkeys logkeys;
	struct lsd_gossip *gossip;
	struct lsd_batch *batch;
	struct lsd_tlog *tlog;
	struct lsd_api *api;
};

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether two configurations give the same gossip (gossip.c reads these). */
static bool
same_gossip(const struct lsd_config *a, const struct lsd_config *b)
{
	if (!same_str(a->listen, b->listen) || a->n_peers != b->n_peers ||
	    a->n_allow != b->n_allow || a->n_witnesses != b->n_witnesses ||
	    a->sync_interval != b->sync_interval || a->witness_quorum != b->witness_quorum ||
	    a->witness_grace != b->witness_grace || a->peer_verify_rate != b->peer_verify_rate)
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		if (memcmp(a->peers[i].key, b->peers[i].key, LS_KEY_LEN) != 0 ||
		    !same_str(a->peers[i].endpoint, b->peers[i].endpoint))
			return false;
	return (a->n_allow == 0 || memcmp(a->allow, b->allow, a->n_allow * LS_KEY_LEN) == 0) &&
	       (a->n_witnesses == 0 ||
		memcmp(a->witnesses, b->witnesses, a->n_witnesses * sizeof(*a->witnesses)) == 0);
}

/* Opens gossip for cfg when it has peers or a listen endpoint (*g NULL
 * otherwise). The listen endpoint of a gossip just closed may take a moment
 * to be free: a bind that fails is tried again for a second. */
static int
gossip_start(struct daemon *d, const struct lsd_config *cfg, struct lsd_gossip **g,
	     struct ls_err_ctx *ctx)
{
	int rc = 0;

	*g = NULL;
	if (cfg->listen == NULL && cfg->n_peers == 0) {
		if (cfg->n_allow != 0)
			log_warn("--allow-peer without --listen: no peer can connect");
		return 0;
	}
	for (int attempt = 0; attempt < 20; attempt++) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		rc = lsd_gossip_open(d->zctx, d->store, cfg, d->kp, &d->logkeys, g, ctx);
		if (rc != LS_ERR_NET)
			break;
		nanosleep(&ts, NULL);
	}
	if (rc == 0)
		log_info("gossip: listening on %s, %zu peer(s) to dial, %zu key(s) allowed, "
			 "sync every %u s",
			 cfg->listen ? cfg->listen : "-", cfg->n_peers, cfg->n_allow,
			 cfg->sync_interval);
	return rc;
}

/* Hands gossip g (NULL: none) to everything that uses it. */
static void
gossip_use(struct daemon *d, struct lsd_gossip *g, const struct lsd_config *cfg)
{
	d->gossip = g;
	lsd_batch_set_gossip(d->batch, g);
	lsd_tlog_reconfigure(d->tlog, cfg, g);
	lsd_api_set_gossip(d->api, g, cfg->listen);
}

/*
 * SIGHUP: reads the configuration again (the file, then the command line on
 * top, as at startup) and applies it without closing the store or the API:
 * the log level, the checkpoint interval, and gossip (listen, peers,
 * allowed peers, sync interval, the witness policy: gossip is reopened when
 * one of them changed). data-dir, api and trust take effect at the next
 * restart, and the log says so. A configuration that does not load is
 * refused whole: the running one stays.
 */
static void
reload_config(struct daemon *d)
{
	struct ls_err_ctx ctx = {{0}};
	struct lsd_config nc, *oc = d->cfg;
	struct lsd_gossip *g = NULL;
	bool reopened = false;
	int rc;

	lsd_notify("RELOADING=1");
	log_info("reloading the configuration%s%s", d->config_path ? " from " : "",
		 d->config_path ? d->config_path : "");
	lsd_config_init(&nc);
	if ((d->config_path != NULL && (rc = lsd_config_load(&nc, d->config_path, &ctx)) != 0) ||
	    (rc = apply_options(d->argc, d->argv, &nc, &ctx)) != 0 ||
	    (rc = lsd_config_default_dir(&nc, &ctx)) != 0 ||
	    (rc = lsd_config_finish(&nc, &ctx)) != 0) {
		log_error("reload: %s: the running configuration is kept", ls_err_msg(&ctx, rc));
		goto out;
	}
	if (!same_str(nc.data_dir, oc->data_dir))
		log_warn("reload: data-dir changed: it takes effect at the next restart");
	if (!same_str(nc.api, oc->api))
		log_warn("reload: api changed: it takes effect at the next restart");
	if (nc.stream_chunk != oc->stream_chunk || nc.streams_max != oc->streams_max ||
	    nc.streams_per_client != oc->streams_per_client || nc.stream_idle != oc->stream_idle ||
	    nc.stream_memory != oc->stream_memory)
		log_warn("reload: stream limits changed: they take effect at the next restart");
	if (nc.readers != oc->readers)
		log_warn("reload: readers changed: it takes effect at the next restart");
	if (nc.api_connections != oc->api_connections || nc.api_queue != oc->api_queue ||
	    nc.api_queue_total != oc->api_queue_total)
		log_warn("reload: API limits changed: they take effect at the next restart");
	if (nc.n_trust != oc->n_trust ||
	    (nc.n_trust != 0 && memcmp(nc.trust, oc->trust, nc.n_trust * LS_KEY_LEN) != 0))
		log_warn("reload: trust changed: it takes effect at the next restart");
	/* also when gossip could not be reopened by an earlier reload */
	if (!same_gossip(&nc, oc) ||
	    (d->gossip == NULL && (nc.listen != NULL || nc.n_peers != 0))) {
		reopened = true;
		lsd_batch_flush(d->batch);
		gossip_use(d, NULL, oc);
		lsd_gossip_close(&d->gossip);
		if ((rc = gossip_start(d, &nc, &g, &ctx)) != 0) {
			log_error("reload: %s: the running configuration is kept",
				  ls_err_msg(&ctx, rc));
			if ((rc = gossip_start(d, oc, &g, &ctx)) != 0)
				log_error(
				    "reload: gossip cannot be reopened: %s: no peers until the "
				    "next reload",
				    ls_err_msg(&ctx, rc));
			gossip_use(d, g, oc);
			goto out;
		}
	}
	/* What the running daemon keeps: the new values go with the old config. */
	{
		char *dd = nc.data_dir, *api = nc.api;
		uint8_t(*trust)[LS_KEY_LEN] = nc.trust;
		size_t n_trust = nc.n_trust;
		nc.data_dir = oc->data_dir, nc.api = oc->api, nc.trust = oc->trust;
		nc.n_trust = oc->n_trust;
		oc->data_dir = dd, oc->api = api, oc->trust = trust, oc->n_trust = n_trust;
	}
	if (!reopened) { /* the running gossip borrows the witness policy: keep it */
		struct ls_vkey *w = nc.witnesses;
		nc.witnesses = oc->witnesses, oc->witnesses = w;
	}
	lsd_config_release(oc); /* the old gossip, which borrowed its witnesses, is closed */
	*oc = nc;
	lsd_config_init(&nc);
	log_set_level(oc->log_level);
	gossip_use(d, reopened ? g : d->gossip, oc);
	log_info("configuration reloaded: log level %s, %zu peer(s), %zu key(s) allowed",
		 log_level_name(oc->log_level), oc->n_peers, oc->n_allow);
out:
	lsd_config_release(&nc);
	lsd_notify("READY=1");
}

static int
run(struct lsd_config *cfg, const char *config_path, int argc, char **argv)
{
	struct ls_err_ctx ctx = {{0}};
	struct ls_store_opts opts = {0};
	struct daemon d;
	struct lsd_api_info info;
	char hex[LS_HEX_KEY_LEN + 1];
	sigset_t blocked;
	bool created, pidfile = false;
	int rc, status = 1;

	memset(&d, 0, sizeof(d));
	d.argc = argc, d.argv = argv, d.config_path = config_path, d.cfg = cfg;
	signals_setup(&blocked);
	if ((rc = lsd_config_default_dir(cfg, &ctx)) != 0 ||
	    (rc = lsd_datadir_make(cfg, &ctx)) != 0 || (rc = lsd_config_finish(cfg, &ctx)) != 0 ||
	    (rc = lsd_nodekey_open(cfg->data_dir, &d.kp, &created, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if (created)
		log_info("made node key '%s/node.key'", cfg->data_dir);
	if ((rc = lsd_logkeys_derive(d.kp, &d.logkeys)) != 0) {
		log_error("cannot derive the log and witness keys: %s", ls_strerror(rc));
		goto out;
	}
	opts.anchors = (const uint8_t(*)[LS_KEY_LEN])cfg->trust;
	opts.n_anchors = cfg->n_trust;
	if ((rc = ls_store_open(cfg->data_dir, &opts, &d.store, &ctx)) != 0) {
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
	if ((d.zctx = zmq_ctx_new()) == NULL) {
		log_error("zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
		goto out;
	}
	if ((rc = gossip_start(&d, cfg, &d.gossip, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	memcpy(info.node_key, d.kp->pk, LS_KEY_LEN);
	info.api = cfg->api;
	info.listen = cfg->listen;
	info.gossip = d.gossip;
	info.logkeys = &d.logkeys;
	info.tlog = NULL;
	if ((rc = lsd_batch_new(d.store, d.gossip, &d.batch)) != 0) {
		log_error("cannot make the ingest batch: %s", ls_strerror(rc));
		goto out;
	}
	if ((rc = lsd_tlog_new(d.store, &d.logkeys, cfg, d.gossip, &d.tlog)) != 0) {
		log_error("cannot start the log: %s", ls_strerror(rc));
		goto out;
	}
	info.tlog = d.tlog;
	info.streams =
	    (struct lsd_stream_limits){cfg->stream_chunk, cfg->streams_max, cfg->streams_per_client,
				       cfg->stream_idle * 1000u, (size_t)cfg->stream_memory << 20};
	info.connections = cfg->api_connections;
	info.queue = (size_t)cfg->api_queue << 20;
	info.queue_total = (size_t)cfg->api_queue_total << 20;
	if ((rc = lsd_api_open(d.zctx, d.store, &info, cfg->readers, &d.api, &ctx)) != 0) {
		log_error("%s", ls_err_msg(&ctx, rc));
		goto out;
	}
	if (cfg->n_trust == 0)
		log_warn("no --trust key: no authority is trusted, so no certificate, policy or "
			 "license will be accepted");
	log_info("serving '%s' on %s, node key %s, %u reader thread(s)", cfg->data_dir, cfg->api,
		 ls_hex(d.kp->pk, LS_KEY_LEN, hex), cfg->readers);
	log_info("log %s, checkpoint every %u s", d.logkeys.origin, cfg->checkpoint_interval);
	pidfile_write(cfg);
	pidfile = true;
	lsd_notify("READY=1\nSTATUS=serving %s on %s\nMAINPID=%ld", cfg->data_dir, cfg->api,
		   (long)getpid());
	detach_done();
	/* Signals stay blocked but while zmq_poll waits: one that interrupted
	 * a send or receive in the middle of a multipart message would lose a
	 * part of it (or glue two answers together). */

	status = 0;
	while (!quit) {
		zmq_pollitem_t items[POLL_MAX];
		void *socks[POLL_MAX - 3];
		void *answers;
		size_t ns, na;
		long timeout, seal;
		int n;

		if (reload) {
			reload = 0;
			reload_config(&d);
		}
		answers = lsd_api_answers_socket(d.api);
		na = 0;
		items[na++] = (zmq_pollitem_t){lsd_api_socket(d.api), 0, ZMQ_POLLIN, 0};
		items[na++] = (zmq_pollitem_t){lsd_api_monitor_socket(d.api), 0, ZMQ_POLLIN, 0};
		if (answers != NULL)
			items[na++] = (zmq_pollitem_t){answers, 0, ZMQ_POLLIN, 0};
		ns = d.gossip ? lsd_gossip_sockets(d.gossip, socks, POLL_MAX - 3) : 0;
		timeout = d.gossip ? lsd_gossip_timeout(d.gossip) : POLL_TIMEOUT_MS;
		seal = lsd_tlog_timeout(d.tlog);
		for (size_t i = 0; i < ns; i++)
			items[na + i] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
		if (timeout > POLL_TIMEOUT_MS)
			timeout = POLL_TIMEOUT_MS;
		if (seal < timeout)
			timeout = seal;
		sigprocmask(SIG_UNBLOCK, &blocked, NULL); /* a pending one runs here */
		n = quit || reload ? 0 : zmq_poll(items, (int)(na + ns), timeout);
		sigprocmask(SIG_BLOCK, &blocked, NULL);
		if (quit || reload)
			continue;
		if (n == -1) {
			if (zmq_errno() == EINTR)
				continue;
			log_error("zmq_poll: %s", zmq_strerror(zmq_errno()));
			status = 1;
			break;
		}
		if (((items[0].revents | items[1].revents | (na > 2 ? items[2].revents : 0)) &
		     ZMQ_POLLIN) &&
		    lsd_api_dispatch(d.api, d.batch) != 0) {
			status = 1;
			break;
		}
		if (d.gossip != NULL)
			lsd_gossip_run(d.gossip, d.batch);
		lsd_tlog_run(d.tlog);
		lsd_api_tick(d.api);
	}
	lsd_notify("STOPPING=1");
	log_info("stopping");
out:
	if (d.api != NULL) {
		lsd_api_close(&d.api);
		remove_socket(cfg->api); /* ours: we bound it and still hold the store */
	}
	lsd_batch_free(&d.batch);
	lsd_tlog_free(&d.tlog);
	lsd_gossip_close(&d.gossip);
	if (d.zctx != NULL)
		zmq_ctx_term(d.zctx);
	if (pidfile)
		pidfile_remove(cfg);
	ls_store_close(&d.store);
	lsd_logkeys_free(&d.logkeys);
	ls_key_free(&d.kp);
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
	if (a.version) {
		puts("lodestoned " LS_VERSION);
		goto out;
	}
	log_init(cfg.log_level);
	if (a.detach && (status = detach_begin()) >= 0)
		goto out;
	status = a.init      ? do_init(&cfg)
		 : a.reindex ? do_reindex(&cfg)
			     : run(&cfg, a.config, argc, argv);
out:
	lsd_config_release(&cfg);
	return status;
}
