/*
 * lodestone-bench - measurements of the library on this machine.
 *
 * Each subcommand prints one line per figure, "name value unit", so that
 * scripts can pick figures with awk. Subcommands live in the table `cmds`
 * below: add one by writing a cmd_NAME(argc, argv) that parses its own
 * options and returns the exit status, and a row in the table.
 *
 * Exit status: 0 measured, 1 the measurement failed (a store error, a record
 * rejected), 2 bad usage.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api.h"
#include "epcis.h"
#include "err.h"
#include "keyfile.h"
#include "note.h"
#include "record.h"
#include "store.h"
#include "store_int.h" /* the log bench appends leaves without records */
#include "tlog.h"
#include "util.h"
#include "verify.h"

#define DEFAULT_BATCH  1000
#define DEFAULT_RUN    5 /* batches a store takes in a turn of the ingest bench */
#define DEFAULT_MINERS 8
#define PRELOAD_BATCH  10000         /* --preload: records per ingest batch */
#define PRELOAD_CHUNK  50000         /* --preload: records signed at a time */
#define PRELOAD_MAX    100000000     /* --preload: at most */
#define FIXED_TIME     1748736000ull /* 2025-06-01T00:00:00Z */

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_ingest(int argc, char **argv);
static int cmd_verify(int argc, char **argv);
static int cmd_api(int argc, char **argv);
static int cmd_witness(int argc, char **argv);
static int cmd_gossip(int argc, char **argv);
static int cmd_log(int argc, char **argv);
static int cmd_stream(int argc, char **argv);
static int cmd_load(int argc, char **argv);
static int cmd_epcis(int argc, char **argv);

/* Sorted by name. */
static const struct cmd cmds[] = {
    {"api", cmd_api, "records per second submitted by N clients through a real lodestoned"},
    {"epcis", cmd_epcis, "EPCIS 2.0 export and import of N records, against store ingest"},
    {"gossip", cmd_gossip, "records written at one of K daemons on loopback reaching all of them"},
    {"ingest", cmd_ingest, "store ingest throughput with and without the Merkle log"},
    {"load", cmd_load, "clients at a fixed rate through lodestoned for a time: latency, RSS slope"},
    {"log", cmd_log, "Merkle log of N leaves: append, root, proof build and check, proof size"},
    {"stream", cmd_stream, "a bundle of N ancestors streamed out of lodestoned and verified"},
    {"verify", cmd_verify, "provenance, export and origin of a lot with N ancestors"},
    {"witness", cmd_witness,
     "cosignature round trip between two daemons, checkpoint lag under load"},
};

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: lodestone-bench COMMAND [OPTIONS]\n"
		    "       lodestone-bench --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(fp, "  %-8s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(fp, "\nlodestone-bench COMMAND --help describes a command's options.\n"
		    "Each figure is printed as one line: NAME VALUE UNIT.\n");
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this thread: what a query cost when the machine is shared. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of the whole process (every thread): what an ingest cost when
 * the machine is shared, where wall time measures the neighbours too. */
static double
proc_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Parses s, a count from min to max, into *out; says what is wrong with it. */
static int
parse_range(const char *s, const char *what, size_t min, size_t max, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || *s == '-' || *s == '\0' || v < min || v > max) {
		fprintf(stderr, "lodestone-bench: %s '%s' must be a number from %zu to %zu\n", what,
			s, min, max);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static int
parse_size(const char *s, const char *what, size_t min, size_t *out)
{
	return parse_range(s, what, min, 100000000, out);
}

/* Makes a new directory under parent into dir (of size bytes). */
static int
make_tmpdir(const char *parent, char *dir, size_t size)
{
	if ((size_t)snprintf(dir, size, "%s/lodestone-bench.XXXXXX", parent) >= size ||
	    mkdtemp(dir) == NULL) {
		fprintf(stderr, "lodestone-bench: cannot make a directory under '%s': %s\n", parent,
			strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- ingest ---- */

/* A signer with its own feed. */
struct signer {
	uint8_t pk[32];
	uint8_t sk[64];
	uint8_t cert[LS_ID_LEN];
	bool has_cert;
	uint64_t seq;
	uint8_t head[LS_ID_LEN];
	uint64_t clock; /* dates its records from here; 0 for FIXED_TIME */
};

/* An envelope to ingest, with what the raw loop needs to check its signature. */
struct item {
	uint8_t *env;
	size_t len;
	uint8_t *msg; /* domain || body */
	size_t msg_len;
	uint8_t sig[LS_SIG_LEN];
	const uint8_t *pk;
};

/* Signs r as s's next record; fills it (env, and the raw verify message). */
static int
sign_next(struct signer *s, struct ls_record *r, struct item *it)
{
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memcpy(r->author, s->pk, 32);
	r->seq = ++s->seq;
	r->has_prev = r->seq > 1;
	memcpy(r->prev, s->head, LS_ID_LEN);
	/* A certified signer's records come 10^7 s after their authority's
	 * (a record may not predate the certificate it cites). */
	r->timestamp = (s->clock != 0 ? s->clock : FIXED_TIME) + r->seq;
	r->has_cert = s->has_cert;
	memcpy(r->cert_id, s->cert, LS_ID_LEN);
	if ((rc = ls_record_sign(r, s->sk, &ctx)) != 0 ||
	    (rc = ls_record_envelope(r, &it->env, &it->len)) != 0) {
		fprintf(stderr, "lodestone-bench: cannot sign: %s\n", ls_err_msg(&ctx, rc));
		return rc;
	}
	memcpy(s->head, r->id, LS_ID_LEN);
	it->msg_len = LS_SIG_DOMAIN_LEN + r->body_len;
	if ((it->msg = malloc(it->msg_len)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(it->msg, LS_SIG_DOMAIN, LS_SIG_DOMAIN_LEN); /* with its NUL */
	memcpy(it->msg + LS_SIG_DOMAIN_LEN, r->body, r->body_len);
	memcpy(it->sig, r->signature, LS_SIG_LEN);
	it->pk = s->pk;
	return 0;
}

static int make_cert_roles(struct signer *auth, struct signer *subject, uint32_t roles,
			   struct item *it);

static int
make_cert(struct signer *auth, struct signer *subject, struct item *it)
{
	return make_cert_roles(auth, subject, LS_ROLE_MINER, it);
}

static int
make_cert_roles(struct signer *auth, struct signer *subject, uint32_t roles, struct item *it)
{
	struct ls_record *r = ls_record_new(LS_REC_CERTIFICATE);
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	memcpy(r->certificate.subject, subject->pk, 32);
	r->certificate.org = ls_record_strdup(r, "Baotou Rare-Earth Mining Co., Ltd.");
	memcpy(r->certificate.country, "CN", 3);
	r->certificate.roles = roles;
	r->certificate.valid_from = FIXED_TIME;
	if (r->certificate.org == NULL)
		rc = LS_ERR_NOMEM;
	else
		rc = sign_next(auth, r, it);
	if (rc == 0) {
		memcpy(subject->cert, r->id, LS_ID_LEN);
		subject->has_cert = true;
		subject->clock = (auth->clock != 0 ? auth->clock : FIXED_TIME) + 10000000;
	}
	ls_record_free(r);
	return rc;
}

/* A realistic lot registration of about 250 bytes. */
static int
make_lot(struct signer *m, size_t i, struct item *it)
{
	struct ls_record *r = ls_record_new(LS_REC_LOT);
	char label[64];
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	snprintf(label, sizeof(label), "BO-2025-06-%08zu", i);
	r->lot.lot.label = ls_record_strdup(r, label);
	r->lot.lot.category = ls_record_strdup(r, "concentrate");
	r->lot.lot.grams = 25000000 + i;
	r->lot.lot.value = 180000000;
	r->lot.site = ls_record_strdup(r, "Bayan Obo East Pit");
	memcpy(r->lot.country, "CN", 3);
	if (r->lot.lot.label == NULL || r->lot.lot.category == NULL || r->lot.site == NULL ||
	    ls_comp_parse("La=120000,Ce=250000,Pr=25000,Nd=90000,Sm=6000,Dy=2000,Fe=150000",
			  &r->lot.lot.comp, NULL) != 0)
		rc = LS_ERR_NOMEM;
	else
		rc = sign_next(m, r, it);
	ls_record_free(r);
	return rc;
}

static void
items_free(struct item *items, size_t n)
{
	for (size_t i = 0; items != NULL && i < n; i++) {
		free(items[i].env);
		free(items[i].msg);
	}
	free(items);
}

/* Ingests items[from..to) in commits of `batch` records, `run` records a
 * call (ls_store_ingest_run: each batch verified while the one before it
 * commits; run == batch is a call per commit, as the daemon makes them);
 * counts what was not accepted. */
static int
ingest_range(struct ls_store *s, const struct item *items, size_t from, size_t to, size_t batch,
	     size_t run, size_t *not_accepted)
{
	const uint8_t **envs = calloc(run, sizeof(*envs));
	size_t *lens = calloc(run, sizeof(*lens));
	struct ls_ingest_result *res = calloc(run, sizeof(*res));
	int rc = 0;

	if (envs == NULL || lens == NULL || res == NULL)
		rc = LS_ERR_NOMEM;
	for (size_t i = from; rc == 0 && i < to; i += run) {
		size_t m = to - i < run ? to - i : run;
		for (size_t j = 0; j < m; j++) {
			envs[j] = items[i + j].env;
			lens[j] = items[i + j].len;
		}
		if ((rc = ls_store_ingest_run(s, envs, lens, m, batch, res, NULL, NULL, NULL)) != 0)
			break;
		for (size_t j = 0; j < m; j++)
			if (res[j].status != LS_INGEST_ACCEPTED) {
				if (*not_accepted == 0)
					fprintf(stderr,
						"lodestone-bench: record %zu not accepted: %s\n",
						i + j, res[j].message);
				(*not_accepted)++;
			}
	}
	free(envs);
	free(lens);
	free(res);
	return rc;
}

/* Ingests items[0..n) in batches; counts what was not accepted. */
static int
ingest_all(struct ls_store *s, const struct item *items, size_t n, size_t batch,
	   size_t *not_accepted)
{
	*not_accepted = 0;
	return ingest_range(s, items, 0, n, batch, batch, not_accepted);
}

static void
ingest_usage(FILE *fp)
{
	fprintf(fp,
		"usage: lodestone-bench ingest -n N [-b BATCH] [-r RUN] [-t THREADS] [-m MINERS]\n"
		"                              [-d DIR] [-p|--preload P]\n"
		"\n"
		"Signs N lot registrations up front (spread over MINERS certified miners'\n"
		"feeds, default %d), ingests them into two new stores in temporary\n"
		"directories under DIR (default $TMPDIR or /tmp), one with the Merkle log\n"
		"(sealed once a second of its ingest time, as the daemon does) and one\n"
		"without (ls_store_opts.no_log), RUN records at a time in turn so that both\n"
		"see the same machine, in batches of BATCH (default %d; durable commits)\n"
		"with THREADS signature threads (default: the store's, one per core, at\n"
		"most 4). RUN records (default %d batches; at least one) are one\n"
		"ls_store_ingest_run() call: each batch's signatures are checked while the\n"
		"batch before it commits; -r BATCH gives a call per commit, as the daemon\n"
		"makes them. Between each turn's two ingests it times a bare Ed25519 verify\n"
		"loop over the same records on one thread and on THREADS threads (the\n"
		"machine's own speed at that moment: the ratios to it hold on a machine\n"
		"shared with others).\n"
		"\n"
		"With --preload P (P > 0), two more new stores first hold P more lot\n"
		"registrations (from MINERS other certified miners, signed and ingested in\n"
		"batches of %d, the log sealed after every %d; none of it timed), and each\n"
		"batch of the same N records goes to them too, in turn with the empty\n"
		"stores, so that both sides of preload_vs_empty see the same moment.\n"
		"\n"
		"figures: records, batch, run, threads, elapsed (ingest with the log, s),\n"
		"ingest_records_per_s (with the log), ingest_nolog_records_per_s,\n"
		"log_vs_nolog (ratio of the two), seals, verify_raw_per_s (one thread),\n"
		"ingest_vs_raw_verify (ratio of ingest with the log to raw verify),\n"
		"verify_raw_threads_per_s (THREADS threads), raw_threads_vs_raw (how far the\n"
		"machine's cores add up), ingest_vs_raw_threads (ingest against that: 1 is\n"
		"every core verifying and nothing else), ingest_cpu_vs_raw_verify (CPU of a\n"
		"record in ingest over one bare verify),\n"
		"ingest_written_per_record (bytes the ingest with the log wrote per record:\n"
		"LMDB's dirty pages, wchar of /proc/self/io), ingest_dirtied_per_record\n"
		"(bytes of page cache dirtied, write_bytes: what goes to the disk),\n"
		"ingest_cpu_per_record (CPU\n"
		"time of the process, all threads, per record), all on empty stores; with\n"
		"--preload also ingest_preload (P), ingest_preload_records_per_s (with the\n"
		"log, on the preloaded store), preload_vs_empty (its ratio to\n"
		"ingest_records_per_s of the same run), ingest_preload_written_per_record,\n"
		"ingest_preload_dirtied_per_record,\n"
		"ingest_preload_cpu_per_record and preload_vs_empty_cpu (the empty store's\n"
		"CPU per record over the preloaded one's: the ratio a shared machine's\n"
		"neighbours disturb less than the wall-time one).\n",
		DEFAULT_MINERS, DEFAULT_BATCH, DEFAULT_RUN, PRELOAD_BATCH, PRELOAD_CHUNK);
}

/* What --preload puts in a store before the measurement: P lots from
 * its own certified miners, signed a chunk at a time (memory stays
 * bounded whatever P is). */
struct preload {
	size_t n;
	size_t miners;
	struct signer *ms;
	struct item *certs;
};

/* One measurement's figures. */
struct ingest_fig {
	double t_ingest; /* with the log, s */
	double t_nolog;  /* without it, s */
	size_t seals;
	double written;  /* bytes the process wrote during the ingest with the log */
	double dirtied;  /* bytes of page cache it dirtied meanwhile (write_bytes) */
	double cpu;      /* CPU seconds of the process (all threads) in it */
	double t_raw;    /* bare verify of the same records, one thread, s */
	double t_raw_mt; /* the same on as many threads as the store's verifiers, s */
	size_t raw_bad;  /* signatures the bare loop refused (none, or a bug) */
};

/* A bare verify loop over items [from, to): what the machine does for
 * Ed25519 with nothing else to do. */
struct raw_share {
	const struct item *items;
	size_t from, to, bad;
};

static void *
raw_verify(void *arg)
{
	struct raw_share *r = arg;

	for (size_t i = r->from; i < r->to; i++)
		if (crypto_sign_verify_detached(r->items[i].sig, r->items[i].msg,
						r->items[i].msg_len, r->items[i].pk) != 0)
			r->bad++;
	return NULL;
}

/* Verifies items [from, to) on threads threads (the caller one of them);
 * the number refused. */
static size_t
raw_verify_on(const struct item *items, size_t from, size_t to, size_t threads)
{
	struct raw_share sh[8];
	pthread_t th[8];
	bool started[8] = {false};
	size_t nt = threads < 1 ? 1 : threads > 8 ? 8 : threads, bad = 0;

	for (size_t k = 0; k < nt; k++) {
		sh[k].items = items;
		sh[k].from = from + (to - from) * k / nt;
		sh[k].to = from + (to - from) * (k + 1) / nt;
		sh[k].bad = 0;
	}
	for (size_t k = 1; k < nt; k++)
		started[k] = pthread_create(&th[k], NULL, raw_verify, &sh[k]) == 0;
	raw_verify(&sh[0]);
	for (size_t k = 1; k < nt; k++) {
		if (started[k])
			pthread_join(th[k], NULL);
		else
			raw_verify(&sh[k]);
	}
	for (size_t k = 0; k < nt; k++)
		bad += sh[k].bad;
	return bad;
}

/* A counter of /proc/self/io ("wchar": bytes this process passed to write
 * calls, LMDB's page writes; "write_bytes": bytes of page cache it dirtied,
 * what the kernel will write to the disk for them), or -1. */
static double
io_now(const char *field)
{
	char line[128];
	size_t fl = strlen(field);
	double v = -1;
	FILE *fp = fopen("/proc/self/io", "r");

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':' &&
		    sscanf(line + fl + 1, "%lf", &v) == 1)
			break;
	fclose(fp);
	return v;
}

static double
wchar_now(void)
{
	return io_now("wchar");
}

/* Fills the stores s (with the log) and s0 (without; may be NULL) with pl's
 * records, untimed; seals s after every chunk. */
static int
preload_stores(struct ls_store *s, struct ls_store *s0, struct preload *pl)
{
	struct item *chunk = calloc(PRELOAD_CHUNK, sizeof(*chunk));
	size_t bad = 0;
	int rc = 0;

	if (chunk == NULL)
		return LS_ERR_NOMEM;
	if ((rc = ingest_all(s, pl->certs, pl->miners, PRELOAD_BATCH, &bad)) != 0 || bad != 0 ||
	    (s0 != NULL &&
	     ((rc = ingest_all(s0, pl->certs, pl->miners, PRELOAD_BATCH, &bad)) != 0 ||
	      bad != 0))) {
		fprintf(stderr, "lodestone-bench: preload certificates: %s\n",
			rc ? ls_strerror(rc) : "not accepted");
		free(chunk);
		return rc ? rc : LS_ERR_REJECTED;
	}
	for (size_t i = 0; rc == 0 && i < pl->n; i += PRELOAD_CHUNK) {
		size_t m = pl->n - i < PRELOAD_CHUNK ? pl->n - i : PRELOAD_CHUNK;
		uint8_t root[LS_TLOG_HASH];
		uint64_t size;
		bool grew;

		for (size_t j = 0; rc == 0 && j < m; j++)
			rc = make_lot(&pl->ms[(i + j) % pl->miners], 100000000 + i + j, &chunk[j]);
		if (rc == 0 &&
		    ((rc = ingest_all(s, chunk, m, PRELOAD_BATCH, &bad)) != 0 || bad != 0 ||
		     (s0 != NULL &&
		      ((rc = ingest_all(s0, chunk, m, PRELOAD_BATCH, &bad)) != 0 || bad != 0)))) {
			fprintf(stderr, "lodestone-bench: preload: %s\n",
				rc ? ls_strerror(rc) : "records not accepted");
			rc = rc ? rc : LS_ERR_REJECTED;
		}
		if (rc == 0)
			rc = ls_store_log_seal(s, &size, root, &grew);
		for (size_t j = 0; j < m; j++) {
			free(chunk[j].env);
			free(chunk[j].msg);
		}
		memset(chunk, 0, m * sizeof(*chunk));
	}
	free(chunk);
	return rc;
}

/* One side of the measurement: two new stores, one with the log and one
 * without, that hold the same records, and the figures of their ingest. */
struct side {
	struct ls_store *s, *s0;
	char dir[4096], dir0[4096];
	bool have_dir, have_dir0;
	double t_sealed;
	struct ingest_fig *f;
};

static void
side_close(struct side *d)
{
	ls_store_close(&d->s);
	ls_store_close(&d->s0);
	if (d->have_dir)
		nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	if (d->have_dir0)
		nftw(d->dir0, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	d->have_dir = d->have_dir0 = false;
}

/* Opens d's two stores under parent and gives both the certificates (and
 * pl's records, if pl is not NULL). 0, or 1 with the reason printed. */
static int
side_open(struct side *d, const char *parent, const struct ls_store_opts *base,
	  const struct item *certs, size_t miners, size_t batch, struct preload *pl,
	  struct ingest_fig *f)
{
	struct ls_store_opts o = *base;
	struct ls_err_ctx ctx = {{0}};
	size_t bad = 0;
	int rc;

	memset(d, 0, sizeof(*d));
	memset(f, 0, sizeof(*f));
	d->f = f;
	if (make_tmpdir(parent, d->dir, sizeof(d->dir)) != 0)
		return 1;
	d->have_dir = true;
	o.no_log = false;
	if ((rc = ls_store_open(d->dir, &o, &d->s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	if (make_tmpdir(parent, d->dir0, sizeof(d->dir0)) != 0)
		return 1;
	d->have_dir0 = true;
	o.no_log = true;
	if ((rc = ls_store_open(d->dir0, &o, &d->s0, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		return 1;
	}
	if ((rc = ingest_all(d->s, certs, miners, batch, &bad)) != 0 || bad != 0 ||
	    (rc = ingest_all(d->s0, certs, miners, batch, &bad)) != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: certificates: %s\n",
			rc ? ls_strerror(rc) : "not accepted");
		return 1;
	}
	if (pl != NULL && preload_stores(d->s, d->s0, pl) != 0)
		return 1;
	return 0;
}

/* Ingests lots[i..to) into both of d's stores, the one without the log
 * first in odd rounds; seals the log once a second of its ingest time. */
static int
side_batch(struct side *d, const struct item *lots, size_t i, size_t to, size_t batch, size_t round)
{
	struct ingest_fig *f = d->f;
	size_t bad = 0;
	int rc;

	for (int k = 0; k < 2; k++) {
		bool with_log = (k == 0) == (round % 2 == 0);
		double w0 = wchar_now(), d0 = io_now("write_bytes"), c0 = proc_cpu_s();
		double t0 = now_s();
		rc = ingest_range(with_log ? d->s : d->s0, lots, i, to, batch, to - i, &bad);
		if (with_log) {
			f->written += wchar_now() - w0;
			f->dirtied += io_now("write_bytes") - d0;
		}
		if (rc == 0 && with_log && f->t_ingest - d->t_sealed >= 1.0) {
			uint8_t root[LS_TLOG_HASH];
			uint64_t size;
			bool grew;
			rc = ls_store_log_seal(d->s, &size, root, &grew);
			f->seals++;
			d->t_sealed = f->t_ingest;
		}
		if (with_log) {
			f->t_ingest += now_s() - t0;
			f->cpu += proc_cpu_s() - c0;
		} else
			f->t_nolog += now_s() - t0;
		if (rc != 0 || bad != 0) {
			fprintf(stderr, "lodestone-bench: ingest: %s\n",
				rc ? ls_strerror(rc) : "records not accepted");
			return 1;
		}
	}
	return 0;
}

/*
 * The measurement: the ingest of lots[0..n) into two new stores (one with
 * the log, one without) and, with pl, into two more that first hold pl's
 * records, batch by batch in turn: every store of a batch sees the same
 * cache, disk and neighbours. The bare verify loops over the same batch
 * come between (on one thread and on as many as the store verifies with),
 * so that the ratios to them are of one moment of a machine whose speed
 * drifts with its neighbours. Figures into f (and fpre with pl).
 */
static int
ingest_measure(const char *parent, const struct ls_store_opts *base, const struct item *certs,
	       size_t miners, const struct item *lots, size_t n, size_t batch, size_t run,
	       struct preload *pl, struct ingest_fig *f, struct ingest_fig *fpre)
{
	struct side e, p;
	bool with_pre = pl != NULL && pl->n > 0;
	int status = 1;

	memset(&p, 0, sizeof(p));
	if (side_open(&e, parent, base, certs, miners, batch, NULL, f) != 0 ||
	    (with_pre && side_open(&p, parent, base, certs, miners, batch, pl, fpre) != 0))
		goto out;
	for (size_t i = 0, round = 0; i < n; i += run, round++) {
		size_t to = n - i < run ? n : i + run;
		double t0 = now_s();
		f->raw_bad += raw_verify_on(lots, i, to, 1);
		f->t_raw += now_s() - t0;
		t0 = now_s();
		f->raw_bad += raw_verify_on(lots, i, to, base->verify_threads);
		f->t_raw_mt += now_s() - t0;
		/* the preloaded side first in odd rounds */
		if (with_pre && round % 2 == 1 && side_batch(&p, lots, i, to, batch, round) != 0)
			goto out;
		if (side_batch(&e, lots, i, to, batch, round) != 0)
			goto out;
		if (with_pre && round % 2 == 0 && side_batch(&p, lots, i, to, batch, round) != 0)
			goto out;
	}
	status = 0;
out:
	side_close(&e);
	side_close(&p);
	return status;
}

static int
cmd_ingest(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {"preload", required_argument, NULL, 'p'},
						 {NULL, 0, NULL, 0}};
	size_t n = 0, batch = DEFAULT_BATCH, threads = 0, miners = DEFAULT_MINERS, run = 0;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = NULL, *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct preload pl = {0};
	struct ingest_fig fig, fig_pre;
	struct ls_store_opts o;
	double ingest_rate, nolog_rate, raw_rate, raw_mt_rate, pre_rate;
	int c, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:b:r:t:m:d:p:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 'r':
			if (parse_size(optarg, "-r", 1, &run) != 0)
				return 2;
			break;
		case 't':
			if (parse_size(optarg, "-t", 1, &threads) != 0)
				return 2;
			break;
		case 'm':
			if (parse_size(optarg, "-m", 1, &miners) != 0)
				return 2;
			break;
		case 'p':
			if (parse_range(optarg, "--preload", 0, PRELOAD_MAX, &pl.n) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': ingest_usage(stdout); return 0;
		default: ingest_usage(stderr); return 2;
		}
	}
	if (optind != argc || n == 0) {
		fprintf(stderr,
			optind != argc ? "lodestone-bench: unexpected argument '%s'\n"
				       : "lodestone-bench: ingest needs -n N\n",
			optind < argc ? argv[optind] : "");
		ingest_usage(stderr);
		return 2;
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (threads == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		threads = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (size_t)ncpu;
	}

	/* Keys, certificates and records, before any clock starts. */
	auth = calloc(1, sizeof(*auth));
	ms = calloc(miners, sizeof(*ms));
	certs = calloc(miners, sizeof(*certs));
	lots = calloc(n, sizeof(*lots));
	if (auth == NULL || ms == NULL || certs == NULL || lots == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	crypto_sign_keypair(auth->pk, auth->sk);
	for (size_t i = 0; i < miners; i++) {
		crypto_sign_keypair(ms[i].pk, ms[i].sk);
		if (make_cert(auth, &ms[i], &certs[i]) != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (make_lot(&ms[i % miners], i, &lots[i]) != 0)
			goto out;
	if (pl.n > 0) {
		/* The preload's own miners, so that the measured feeds are
		 * the same records on both kinds of store. */
		pl.miners = miners;
		pl.ms = calloc(miners, sizeof(*pl.ms));
		pl.certs = calloc(miners, sizeof(*pl.certs));
		if (pl.ms == NULL || pl.certs == NULL) {
			fprintf(stderr, "lodestone-bench: out of memory\n");
			goto out;
		}
		for (size_t i = 0; i < miners; i++) {
			crypto_sign_keypair(pl.ms[i].pk, pl.ms[i].sk);
			if (make_cert(auth, &pl.ms[i], &pl.certs[i]) != 0)
				goto out;
		}
	}

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	o.verify_threads = (unsigned)threads;
	o.max_pending = n + miners;
	if (run == 0)
		run = DEFAULT_RUN * batch;
	if (run < batch)
		run = batch;
	if (ingest_measure(parent, &o, certs, miners, lots, n, batch, run, &pl, &fig, &fig_pre) !=
	    0)
		goto out;

	if (fig.raw_bad != 0) {
		fprintf(stderr, "lodestone-bench: %zu signatures do not verify\n", fig.raw_bad);
		goto out;
	}

	ingest_rate = (double)n / fig.t_ingest;
	nolog_rate = (double)n / fig.t_nolog;
	raw_rate = (double)n / fig.t_raw;
	raw_mt_rate = (double)n / fig.t_raw_mt;
	printf("records %zu records\n", n);
	printf("record_bytes %zu bytes\n", lots[0].len);
	printf("batch %zu records\n", batch);
	printf("run %zu records\n", run);
	printf("threads %zu threads\n", threads);
	printf("elapsed %.3f s\n", fig.t_ingest);
	printf("ingest_records_per_s %.0f records/s\n", ingest_rate);
	printf("ingest_nolog_records_per_s %.0f records/s\n", nolog_rate);
	printf("log_vs_nolog %.3f ratio\n", ingest_rate / nolog_rate);
	printf("seals %zu seals\n", fig.seals);
	printf("verify_raw_per_s %.0f verifies/s\n", raw_rate);
	printf("ingest_vs_raw_verify %.2f ratio\n", ingest_rate / raw_rate);
	printf("verify_raw_threads_per_s %.0f verifies/s\n", raw_mt_rate);
	printf("raw_threads_vs_raw %.2f ratio\n", raw_mt_rate / raw_rate);
	printf("ingest_vs_raw_threads %.2f ratio\n", ingest_rate / raw_mt_rate);
	printf("ingest_cpu_vs_raw_verify %.2f ratio\n", fig.cpu / fig.t_raw);
	printf("ingest_written_per_record %.0f bytes\n", fig.written / (double)n);
	printf("ingest_dirtied_per_record %.0f bytes\n", fig.dirtied / (double)n);
	printf("ingest_cpu_per_record %.1f us\n", fig.cpu * 1e6 / (double)n);
	if (pl.n > 0) {
		pre_rate = (double)n / fig_pre.t_ingest;
		printf("ingest_preload %zu records\n", pl.n);
		printf("ingest_preload_records_per_s %.0f records/s\n", pre_rate);
		printf("preload_vs_empty %.3f ratio\n", pre_rate / ingest_rate);
		printf("ingest_preload_written_per_record %.0f bytes\n",
		       fig_pre.written / (double)n);
		printf("ingest_preload_dirtied_per_record %.0f bytes\n",
		       fig_pre.dirtied / (double)n);
		printf("ingest_preload_cpu_per_record %.1f us\n", fig_pre.cpu * 1e6 / (double)n);
		printf("preload_vs_empty_cpu %.3f ratio\n", fig.cpu / fig_pre.cpu);
	}
	status = 0;
out:
	items_free(certs, miners);
	items_free(lots, n);
	items_free(pl.certs, pl.miners);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, miners * sizeof(*ms));
	if (pl.ms != NULL)
		sodium_memzero(pl.ms, pl.miners * sizeof(*pl.ms));
	free(auth);
	free(ms);
	free(pl.ms);
	return status;
}

/* ---- log: proofs of a log of N leaves ---- */

#define LOG_APPEND_TXN 10000 /* leaves per write transaction */

static void
log_usage(FILE *fp)
{
	fprintf(fp,
		"usage: lodestone-bench log [-n N] [-q QUERIES] [-d DIR]\n"
		"\n"
		"Appends N record leaves (default 1000000; data 0x00 || a 32-byte id) to the\n"
		"Merkle log of a new store in a temporary directory under DIR (default\n"
		"$TMPDIR or /tmp), %d leaves per durable transaction, as ingest does for\n"
		"stored records but without the records, then builds and checks QUERIES\n"
		"(default 1000) inclusion proofs of random leaves in the tree of N leaves and\n"
		"as many consistency proofs from random sizes to N.\n"
		"\n"
		"figures: leaves, append_leaves_per_s, store_bytes_per_leaf, root_us,\n"
		"inclusion_build_us, inclusion_check_us, inclusion_hashes (the most),\n"
		"inclusion_bytes, proof_text_bytes (leaf 0's proof, a longest, as a\n"
		"c2sp.org/tlog-proof file with a one-signature checkpoint),\n"
		"consistency_build_us, consistency_check_us,\n"
		"consistency_hashes (the most), consistency_bytes (per proof, averages\n"
		"unless said).\n",
		LOG_APPEND_TXN);
}

static uint64_t
rand_below(uint64_t n)
{
	uint64_t x;

	randombytes_buf(&x, sizeof(x));
	return x % n;
}

static int
cmd_log(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
						 {NULL, 0, NULL, 0}};
	size_t n = 1000000, q = 1000, max_inc = 0, max_con = 0, sum_inc = 0, sum_con = 0;
	const char *parent = getenv("TMPDIR");
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	uint8_t(*proof)[LS_TLOG_HASH] = malloc(LS_TLOG_PROOF_MAX * LS_TLOG_HASH);
	uint8_t root[LS_TLOG_HASH], old[LS_TLOG_HASH], h[LS_TLOG_HASH], leaf[LS_TLOG_LEAF_LEN];
	uint8_t(*olds)[LS_TLOG_HASH] = NULL;
	uint64_t *idx = NULL, *ms = NULL;
	double t0, t_append, t_root, t_ib = 0, t_ic = 0, t_cb = 0, t_cc = 0;
	char dir[4096];
	bool have_dir = false;
	double used = 0;
	size_t text_bytes = 0;
	int c, rc, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:q:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 2, &n) != 0)
				return 2;
			break;
		case 'q':
			if (parse_size(optarg, "-q", 1, &q) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': log_usage(stdout); return 0;
		default: log_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lodestone-bench: unexpected argument '%s'\n", argv[optind]);
		log_usage(stderr);
		return 2;
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	idx = calloc(q, sizeof(*idx));
	ms = calloc(q, sizeof(*ms));
	olds = calloc(q, sizeof(*olds));
	if (proof == NULL || idx == NULL || ms == NULL || olds == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	if (make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	memset(&o, 0, sizeof(o));
	o.map_size = (size_t)256 << 20;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		goto out;
	}

	t0 = now_s();
	for (uint64_t size = 0; size < n;) {
		struct ls_txn t;
		struct ls_log_edge edge = {.valid = false};
		uint64_t to = n - size < LOG_APPEND_TXN ? n : size + LOG_APPEND_TXN;
		if ((rc = ls_txn_begin(s, true, &t)) != 0)
			goto store_fail;
		for (rc = 0; rc == 0 && size < to;) {
			leaf[0] = LS_TLOG_LEAF_RECORD;
			crypto_generichash(leaf + 1, LS_ID_LEN, (const uint8_t *)&size,
					   sizeof(size), NULL, 0);
			rc = ls_txn_log_append(&t, &size, leaf, &edge);
		}
		if (rc == 0)
			rc = ls_txn_put_u64(&t, s->meta, "logsize", 7, size);
		if (rc == 0) {
			rc = ls_store_err(mdb_txn_commit(t.txn));
			t.txn = NULL;
		}
		ls_txn_abort(&t);
		if (rc != 0)
			goto store_fail;
	}
	t_append = now_s() - t0;

	t0 = now_s();
	if ((rc = ls_store_log_root(s, n, root)) != 0)
		goto store_fail;
	t_root = now_s() - t0;

	for (size_t i = 0; i < q; i++) {
		idx[i] = rand_below(n);
		ms[i] = 1 + rand_below(n - 1);
		if ((rc = ls_store_log_root(s, ms[i], olds[i])) != 0)
			goto store_fail;
	}
	for (size_t i = 0; i < q; i++) {
		size_t np;
		uint64_t v = idx[i];
		t0 = now_s();
		if ((rc = ls_store_log_inclusion(s, idx[i], n, proof, &np)) != 0)
			goto store_fail;
		t_ib += now_s() - t0;
		leaf[0] = LS_TLOG_LEAF_RECORD;
		crypto_generichash(leaf + 1, LS_ID_LEN, (const uint8_t *)&v, sizeof(v), NULL, 0);
		t0 = now_s();
		ls_tlog_leaf_hash(leaf, sizeof(leaf), h);
		if (!ls_tlog_verify_inclusion(idx[i], n, h, (const uint8_t(*)[LS_TLOG_HASH])proof,
					      np, root)) {
			fprintf(stderr, "lodestone-bench: inclusion of %llu does not check\n",
				(unsigned long long)idx[i]);
			goto out;
		}
		t_ic += now_s() - t0;
		sum_inc += np;
		max_inc = np > max_inc ? np : max_inc;
	}
	for (size_t i = 0; i < q; i++) {
		size_t np;
		t0 = now_s();
		if ((rc = ls_store_log_consistency(s, ms[i], n, proof, &np)) != 0)
			goto store_fail;
		t_cb += now_s() - t0;
		memcpy(old, olds[i], LS_TLOG_HASH);
		t0 = now_s();
		if (!ls_tlog_verify_consistency(ms[i], n, old, root,
						(const uint8_t(*)[LS_TLOG_HASH])proof, np)) {
			fprintf(stderr, "lodestone-bench: consistency from %llu does not check\n",
				(unsigned long long)ms[i]);
			goto out;
		}
		t_cc += now_s() - t0;
		sum_con += np;
		max_con = np > max_con ? np : max_con;
	}
	/* The size of one proof as a c2sp.org/tlog-proof file: the proof of
	 * leaf 0 (a longest path) with a checkpoint signed by one key. */
	{
		struct ls_tlog_proof *tp = calloc(1, sizeof(*tp));
		struct ls_checkpoint cp = {.size = n};
		uint8_t pk[32], sk[64];
		char *text = malloc(LS_NOTE_MAX + 4096);
		if (tp == NULL || text == NULL) {
			free(tp);
			free(text);
			goto out;
		}
		crypto_sign_keypair(pk, sk);
		snprintf(cp.origin, sizeof(cp.origin), "lodestone/0123456789abcdef");
		memcpy(cp.root, root, LS_TLOG_HASH);
		tp->cp.body_len = ls_checkpoint_body(&cp, tp->cp.body, sizeof(tp->cp.body));
		tp->index = 0;
		if ((rc = ls_note_sign(&tp->cp, cp.origin, sk)) == 0)
			rc = ls_store_log_inclusion(s, 0, n, tp->hashes, &tp->n);
		if (rc == 0)
			text_bytes = ls_tlog_proof_format(tp, text, LS_NOTE_MAX + 4096);
		sodium_memzero(sk, sizeof(sk));
		free(tp);
		free(text);
		if (rc != 0)
			goto store_fail;
	}
	{
		MDB_envinfo info;
		MDB_stat ms0;
		if (mdb_env_info(s->env, &info) == 0 && mdb_env_stat(s->env, &ms0) == 0)
			used = (double)(info.me_last_pgno + 1) * ms0.ms_psize;
	}

	printf("leaves %zu leaves\n", n);
	printf("append_leaves_per_s %.0f leaves/s\n", (double)n / t_append);
	printf("store_bytes_per_leaf %.1f bytes\n", used / (double)n);
	printf("root_us %.1f us\n", t_root * 1e6);
	printf("inclusion_build_us %.1f us\n", t_ib * 1e6 / (double)q);
	printf("inclusion_check_us %.1f us\n", t_ic * 1e6 / (double)q);
	printf("inclusion_hashes %zu hashes\n", max_inc);
	printf("inclusion_bytes %.0f bytes\n", (double)sum_inc * LS_TLOG_HASH / (double)q);
	printf("proof_text_bytes %zu bytes\n", text_bytes);
	printf("consistency_build_us %.1f us\n", t_cb * 1e6 / (double)q);
	printf("consistency_check_us %.1f us\n", t_cc * 1e6 / (double)q);
	printf("consistency_hashes %zu hashes\n", max_con);
	printf("consistency_bytes %.0f bytes\n", (double)sum_con * LS_TLOG_HASH / (double)q);
	status = 0;
	goto out;
store_fail:
	fprintf(stderr, "lodestone-bench: log: %s\n", ls_strerror(rc));
out:
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(proof);
	free(idx);
	free(ms);
	free(olds);
	return status;
}

/* ---- verify: a lot with N ancestors ---- */

/* A transformation consuming all of `in` (grams g) into one lot like it. */
static int
make_step(struct signer *p, const uint8_t in[LS_ID_LEN], uint64_t g, size_t i, struct item *it,
	  uint8_t out[LS_ID_LEN])
{
	struct ls_record *r = ls_record_new(LS_REC_TRANSFORMATION);
	struct ls_lot_input *inp;
	struct ls_lotdef *d;
	char label[64];
	int rc;

	if (r == NULL)
		return LS_ERR_NOMEM;
	inp = ls_record_alloc(r, sizeof(*inp));
	d = ls_record_alloc(r, sizeof(*d));
	snprintf(label, sizeof(label), "step-%zu", i);
	if (inp == NULL || d == NULL || (d->label = ls_record_strdup(r, label)) == NULL ||
	    (d->category = ls_record_strdup(r, "alloy")) == NULL ||
	    ls_comp_parse("La=120000,Ce=250000,Pr=25000,Nd=90000,Sm=6000,Dy=2000,Fe=150000",
			  &d->comp, NULL) != 0) {
		ls_record_free(r);
		return LS_ERR_NOMEM;
	}
	memcpy(inp->lot, in, LS_ID_LEN);
	inp->grams = g;
	d->grams = g;
	r->transformation.inputs = inp;
	r->transformation.n_inputs = 1;
	r->transformation.outputs = d;
	r->transformation.n_outputs = 1;
	r->transformation.site = "";
	rc = sign_next(p, r, it);
	if (rc == 0)
		ls_lot_id(r->id, 0, out);
	ls_record_free(r);
	return rc;
}

/*
 * A chain of n lots of p: a registration at it[0], then n - 1
 * transformations (it[1] .. it[n - 1]), each consuming all of the lot
 * before; the last lot's id into last.
 */
static int
make_chain(struct signer *p, struct item *it, size_t n, uint8_t last[LS_ID_LEN])
{
	struct ls_record *r = NULL;

	if (make_lot(p, 0, &it[0]) != 0 || ls_record_decode(it[0].env, it[0].len, &r, NULL) != 0)
		return -1;
	memcpy(last, r->id, LS_ID_LEN);
	ls_record_free(r);
	for (size_t i = 1; i < n; i++)
		if (make_step(p, last, 25000000, i, &it[i], last) != 0)
			return -1;
	return 0;
}

/* ---- verify -b: bundles of the lot, proven in a witnessed log ---- */

#define BENCH_WITNESSES 3
#define SEAL_EVERY      1000 /* records between two checkpoints (1000 s of claims) */

struct blog {
	uint8_t log_sk[64];
	struct ls_vkey log;
	char log_text[LS_VKEY_MAX];
	uint8_t wit_sk[BENCH_WITNESSES][64];
	struct ls_vkey wit[BENCH_WITNESSES];
	char wit_text[BENCH_WITNESSES][LS_VKEY_MAX];
};

static int
blog_key(const char *prefix, uint8_t type, uint8_t sk[64], struct ls_vkey *vk, char *text)
{
	uint8_t pk[32];
	char name[LS_NOTE_NAME_MAX], hex[65];

	crypto_sign_keypair(pk, sk);
	snprintf(name, sizeof(name), "%s/%.16s", prefix, ls_hex(pk, 32, hex));
	if (ls_vkey_make(vk, name, type, pk) != 0)
		return -1;
	ls_vkey_format(vk, text);
	return 0;
}

/* Seals the log and stores a checkpoint cosigned by every witness at t,
 * which reached quorum at t. */
static int
blog_checkpoint(struct ls_store *s, const struct blog *b, uint64_t t)
{
	struct ls_note *n = calloc(1, sizeof(*n));
	char *text = malloc(LS_NOTE_MAX);
	struct ls_checkpoint c;
	size_t len;
	bool grew;
	int rc = LS_ERR_NOMEM;

	if (n == NULL || text == NULL)
		goto out;
	if ((rc = ls_store_log_seal(s, &c.size, c.root, &grew)) != 0)
		goto out;
	snprintf(c.origin, sizeof(c.origin), "%s", b->log.name);
	n->body_len = ls_checkpoint_body(&c, n->body, sizeof(n->body));
	rc = ls_note_sign(n, b->log.name, b->log_sk);
	for (size_t i = 0; rc == 0 && i < BENCH_WITNESSES; i++)
		rc = ls_cosig_add(n, b->wit[i].name, b->wit_sk[i], t);
	if (rc == 0 && (len = ls_note_format(n, text, LS_NOTE_MAX)) == 0)
		rc = LS_ERR_TOO_BIG;
	if (rc == 0 && (rc = ls_store_checkpoint_put(s, c.size, text, len)) == 0)
		rc = ls_store_quorum_put(s, c.size, t);
out:
	free(n);
	free(text);
	return rc;
}

/* Runs the client next to this program with args; its exit status, and the
 * seconds it took in *secs. */
static int
run_client(const char *args, double *secs)
{
	char exe[4096], cmd[16384], *slash;
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	double t0;
	int st;

	*secs = 0;
	if (el < 0)
		return -1;
	exe[el] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(cmd, sizeof(cmd), "%s/lodestone %.8000s >/dev/null", exe, args) >=
	    sizeof(cmd))
		return -1;
	t0 = now_s();
	st = system(cmd);
	*secs = now_s() - t0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Writes a bundle of lot (log_vkey NULL: no log proof), prints its figures
 * under name and the time verify-bundle takes with args. */
static int
bundle_figure(struct ls_store *s, const uint8_t lot[LS_ID_LEN], const char *log_vkey,
	      unsigned flags, const char *dir, const char *name, const char *args)
{
	uint8_t *buf = NULL;
	const uint8_t **envs = NULL;
	size_t len = 0, *lens = NULL, n = 0;
	char path[4200], cmd[12300];
	double t0, t_collect, t_check = 0;
	int rc;

	t0 = now_s();
	rc = log_vkey != NULL ? ls_bundle_collect_log(s, lot, log_vkey, flags, &buf, &len)
			      : ls_bundle_collect(s, lot, &buf, &len);
	t_collect = now_s() - t0;
	if (rc != 0) {
		fprintf(stderr, "lodestone-bench: bundle %s: %s\n", name, ls_strerror(rc));
		return rc;
	}
	snprintf(path, sizeof(path), "%s/%s.bundle", dir, name);
	if ((rc = ls_bundle_decode(buf, len, 10000000, &envs, &lens, &n, NULL)) != 0 ||
	    (rc = ls_file_write(path, buf, len, 0644, NULL)) != 0) {
		free(buf);
		free(envs);
		free(lens);
		return rc;
	}
	snprintf(cmd, sizeof(cmd), "verify-bundle %s %.8000s", path, args);
	rc = run_client(cmd, &t_check);
	printf("bundle_%s_records %zu records\n", name, n);
	printf("bundle_%s_bytes %zu bytes\n", name, len);
	printf("bundle_%s_collect_ms %.1f ms\n", name, t_collect * 1000);
	printf("bundle_%s_verify_ms %.1f ms\n", name, t_check * 1000);
	printf("bundle_%s_verify_exit %d status\n", name, rc);
	free(buf);
	free(envs);
	free(lens);
	return rc == 0 ? 0 : LS_ERR_INVALID;
}

static int
cmd_verify(int argc, char **argv)
{
	size_t n = 10000, n_certs = 0;
	bool bundles = false;
	struct blog *bl = NULL;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *p = calloc(1, sizeof(*p));
	struct item *items = NULL;
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_verdict v;
	struct ls_export_query q;
	struct ls_origin org;
	struct ls_trace tr;
	struct ls_read_cost c_prov, c_exp, c_org, c_tr, c_stg;
	char dir[4096];
	bool have_dir = false;
	uint8_t lot[LS_ID_LEN];
	double t0, t_prov, t_exp, t_org, t_tr, c0, u_prov, u_exp, u_org, u_tr, t_stg, u_stg;
	size_t bad = 0;
	int c, rc, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "n:d:ba:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'b': bundles = true; break;
		case 'a':
			if (parse_size(optarg, "-a", 0, &n_certs) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h':
			printf(
			    "usage: lodestone-bench verify [-n ANCESTORS] [-b [-a CERTS]] [-d "
			    "DIR]\n\n"
			    "Builds a lot with ANCESTORS ancestors (default 10000: a registration\n"
			    "and a chain of transformations), then times provenance, an export\n"
			    "check, the origin computation and the trace (ancestors) of the last\n"
			    "lot.\n"
			    "figures: ancestors, provenance_ms, export_ms, origin_ms, trace_ms\n"
			    "(and each as *_cpu_ms, the asking thread's CPU time);\n"
			    "verify_{provenance,export,origin,trace}_{records_read,table_reads,\n"
			    "reads_per_ancestor,seeks_per_ancestor}: what each question read\n"
			    "(the cost model; a seek descends a table's tree from its root, the\n"
			    "other reads step to the next key).\n"
			    "-b: the log is sealed every 1000 records into a checkpoint cosigned\n"
			    "by 3 witnesses; then the lot's bundle is written three ways (plain;\n"
			    "with its log proof, the authority feeds as records name them; with\n"
			    "its log proof and the authority's feed whole) and checked by the\n"
			    "client next to this program (lodestone verify-bundle, witnesses\n"
			    "given when there is a log proof). -a CERTS: the authority also\n"
			    "certifies CERTS other keys after the processor (its feed goes on\n"
			    "past the records the bundle names).\n"
			    "figures: bundle_{plain,nofeeds,log}_{records,bytes,collect_ms,\n"
			    "verify_ms,verify_exit} (nofeeds exits 1: no head proof).\n");
			return 0;
		default: return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (auth == NULL || p == NULL || (items = calloc(n + n_certs + 2, sizeof(*items))) == NULL)
		goto out;
	crypto_sign_keypair(auth->pk, auth->sk);
	crypto_sign_keypair(p->pk, p->sk);
	/* The processor's certificate, then CERTS others: the authority's feed
	 * goes on past the last record the lot's bundle names. */
	if (make_cert_roles(auth, p, LS_ROLE_MINER | LS_ROLE_PROCESSOR, &items[0]) != 0)
		goto out;
	for (size_t i = 0; i < n_certs; i++) {
		struct signer other;
		crypto_sign_keypair(other.pk, other.sk);
		if (make_cert(auth, &other, &items[1 + i]) != 0)
			goto out;
	}
	if (make_chain(p, &items[n_certs + 1], n, lot) != 0)
		goto out;
	if (make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: cannot build the chain\n");
		goto out;
	}
	if (bundles) {
		/* A checkpoint every SEAL_EVERY records, witnessed as soon as it
		 * is signed (within seconds of the records' claims). */
		if ((bl = calloc(1, sizeof(*bl))) == NULL ||
		    blog_key("lodestone", LS_NOTE_ED25519, bl->log_sk, &bl->log, bl->log_text) != 0)
			goto out;
		for (size_t i = 0; i < BENCH_WITNESSES; i++)
			if (blog_key("lodestone-witness", LS_NOTE_COSIG, bl->wit_sk[i], &bl->wit[i],
				     bl->wit_text[i]) != 0)
				goto out;
	}
	for (size_t i = 0; i < n + n_certs + 1; i += SEAL_EVERY) {
		size_t m = n + n_certs + 1 - i < SEAL_EVERY ? n + n_certs + 1 - i : SEAL_EVERY;
		struct ls_record *r = NULL;
		if ((rc = ingest_all(s, items + i, m, DEFAULT_BATCH, &bad)) != 0 || bad != 0) {
			fprintf(stderr, "lodestone-bench: cannot build the chain\n");
			goto out;
		}
		if (!bundles)
			continue;
		if (ls_record_decode(items[i + m - 1].env, items[i + m - 1].len, &r, NULL) != 0)
			goto out;
		rc = blog_checkpoint(s, bl, r->timestamp + 5);
		ls_record_free(r);
		if (rc != 0) {
			fprintf(stderr, "lodestone-bench: checkpoint: %s\n", ls_strerror(rc));
			goto out;
		}
	}
	c0 = cpu_s();
	t0 = now_s();
	rc = ls_verify_provenance(s, lot, &v);
	t_prov = now_s() - t0;
	u_prov = cpu_s() - c0;
	if (rc != 0 || v.kind != LS_V_VALID) {
		fprintf(stderr, "lodestone-bench: provenance: %s\n", ls_strerror(rc));
		ls_verdict_release(&v);
		goto out;
	}
	c_prov = v.cost;
	ls_verdict_release(&v);
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, LS_ID_LEN);
	memcpy(q.destination, "DE", 3);
	q.time = FIXED_TIME + 20000000 + n;
	c0 = cpu_s();
	t0 = now_s();
	rc = ls_verify_export(s, &q, &v);
	t_exp = now_s() - t0;
	u_exp = cpu_s() - c0;
	if (rc != 0 || v.kind != LS_V_ALLOWED) {
		fprintf(stderr, "lodestone-bench: export: %s (verdict %d)\n", ls_strerror(rc),
			(int)v.kind);
		ls_verdict_release(&v);
		goto out;
	}
	c_exp = v.cost;
	ls_verdict_release(&v);
	c0 = cpu_s();
	t0 = now_s();
	rc = ls_verify_origin(s, lot, &org);
	t_org = now_s() - t0;
	u_org = cpu_s() - c0;
	c_org = org.cost;
	ls_origin_release(&org);
	if (rc != 0)
		goto out;
	/* origin --stages: the same walk with every lot's stages. */
	c0 = cpu_s();
	t0 = now_s();
	rc = ls_verify_origin_stages(s, lot, NULL, &org);
	t_stg = now_s() - t0;
	u_stg = cpu_s() - c0;
	c_stg = org.cost;
	ls_origin_release(&org);
	if (rc != 0)
		goto out;
	c0 = cpu_s();
	t0 = now_s();
	rc = ls_trace(s, lot, false, &tr);
	t_tr = now_s() - t0;
	u_tr = cpu_s() - c0;
	c_tr = tr.cost;
	ls_trace_release(&tr);
	if (rc != 0)
		goto out;
	printf("ancestors %zu records\n", n);
	printf("provenance_ms %.1f ms\n", t_prov * 1000);
	printf("export_ms %.1f ms\n", t_exp * 1000);
	printf("origin_ms %.1f ms\n", t_org * 1000);
	printf("origin_stages_ms %.1f ms\n", t_stg * 1000);
	printf("trace_ms %.1f ms\n", t_tr * 1000);
	/* The same in CPU time of the asking thread (a shared machine's wall
	 * time includes waiting for a core). */
	printf("provenance_cpu_ms %.1f ms\n", u_prov * 1000);
	printf("export_cpu_ms %.1f ms\n", u_exp * 1000);
	printf("origin_cpu_ms %.1f ms\n", u_org * 1000);
	printf("origin_stages_cpu_ms %.1f ms\n", u_stg * 1000);
	printf("trace_cpu_ms %.1f ms\n", u_tr * 1000);
	/* The cost model: what each question read (record envelopes decoded,
	 * and every table read, records included), per ancestor too. */
	{
		const char *names[] = {"provenance", "export", "origin", "trace", "origin_stages"};
		const struct ls_read_cost *cs[] = {&c_prov, &c_exp, &c_org, &c_tr, &c_stg};
		for (size_t i = 0; i < 5; i++) {
			printf("verify_%s_records_read %llu records\n", names[i],
			       (unsigned long long)cs[i]->records);
			printf("verify_%s_table_reads %llu reads\n", names[i],
			       (unsigned long long)cs[i]->reads);
			printf("verify_%s_reads_per_ancestor %.2f reads\n", names[i],
			       (double)cs[i]->reads / (double)n);
			printf("verify_%s_seeks_per_ancestor %.2f seeks\n", names[i],
			       (double)cs[i]->seeks / (double)n);
		}
	}
	if (bundles) {
		char trust[4200], args[8192];
		snprintf(trust, sizeof(trust), "%s/authority.pub", dir);
		if (ls_pubkey_save(trust, auth->pk, NULL) != 0)
			goto out;
		snprintf(args, sizeof(args), "--trust %s", trust);
		if (bundle_figure(s, lot, NULL, 0, dir, "plain", args) != 0)
			goto out;
		snprintf(args, sizeof(args), "--trust %s --witness %s --witness %s --witness %s",
			 trust, bl->wit_text[0], bl->wit_text[1], bl->wit_text[2]);
		/* Without the feeds whole verify-bundle refuses the proof (no head
		 * proof): the figure is the time to find that out. */
		(void)bundle_figure(s, lot, bl->log_text, LS_BUNDLE_NO_FEEDS, dir, "nofeeds", args);
		if (bundle_figure(s, lot, bl->log_text, 0, dir, "log", args) != 0)
			goto out;
	}
	status = 0;
out:
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(items, n + n_certs + 2);
	if (bl != NULL)
		sodium_memzero(bl, sizeof(*bl));
	free(bl);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (p != NULL)
		sodium_memzero(p, sizeof(*p));
	free(auth);
	free(p);
	return status;
}

/* ---- daemons: helpers for the subcommands that start lodestoned ---- */

#define API_WAIT_S     10  /* a started daemon answers its API within this */
#define CONNECT_WAIT_S 20  /* peers connect within this */
#define CERT_WAIT_S    30  /* the certificates reach every daemon within this */
#define GOSSIP_WAIT_S  120 /* the records reach every daemon within this */
#define POLL_US        10000
#define DAEMONS_MAX    32

/* The lodestoned next to this program, into path (of size bytes). */
static int
daemon_path(char *path, size_t size)
{
	char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (el < 0) {
		fprintf(stderr, "lodestone-bench: cannot find this program: %s\n", strerror(errno));
		return -1;
	}
	exe[el] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	if ((size_t)snprintf(path, size, "%s/lodestoned", exe) >= size) {
		fprintf(stderr, "lodestone-bench: path '%s' too long\n", exe);
		return -1;
	}
	return 0;
}

/* Writes pk as a public key file (what --trust reads). */
static int
write_pub(const char *path, const uint8_t pk[32])
{
	char hex[LS_HEX_KEY_LEN + 1];
	FILE *f = fopen(path, "w");

	if (f == NULL || fprintf(f, "lodestone public key v1\n%s\n", ls_hex(pk, 32, hex)) < 0 ||
	    fclose(f) != 0) {
		fprintf(stderr, "lodestone-bench: cannot write '%s': %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Makes an authority, `clients` certified miners (certs[i] certifies ms[i])
 * and n lots laid out per client: client k signs records k, k + clients, ...,
 * which are lots[off_k .. off_k + client_share(n, clients, k)).
 */
static size_t
client_share(size_t n, size_t clients, size_t k)
{
	return (n - k + clients - 1) / clients;
}

/* make_feeds with an authority that exists. */
static int
make_miners(struct signer *auth, struct signer *ms, struct item *certs, struct item *lots,
	    size_t clients, size_t n)
{
	for (size_t i = 0; i < clients; i++) {
		crypto_sign_keypair(ms[i].pk, ms[i].sk);
		if (make_cert(auth, &ms[i], &certs[i]) != 0)
			return -1;
	}
	for (size_t k = 0, i = 0; k < clients; k++)
		for (size_t j = k; j < n; j += clients, i++)
			if (make_lot(&ms[k], j, &lots[i]) != 0)
				return -1;
	return 0;
}

static int
make_feeds(struct signer *auth, struct signer *ms, struct item *certs, struct item *lots,
	   size_t clients, size_t n)
{
	crypto_sign_keypair(auth->pk, auth->sk);
	return make_miners(auth, ms, certs, lots, clients, n);
}

/* Starts the daemon at path with argv; stderr is the bench's. The pid, or -1. */
static pid_t
spawn_daemon(const char *path, char *const argv[])
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		execv(path, argv);
		fprintf(stderr, "lodestone-bench: cannot run '%s': %s\n", path, strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "lodestone-bench: fork: %s\n", strerror(errno));
	return pid;
}

/* Stops the daemon *pid (SIGTERM) and waits for it; sets *pid to -1. */
static void
stop_child(pid_t *pid)
{
	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	waitpid(*pid, NULL, 0);
	*pid = -1;
}

/* How a child ended, from its wait status, into buf. */
static const char *
exit_text(int ws, char *buf, size_t size)
{
	if (WIFSIGNALED(ws))
		snprintf(buf, size, "was killed by signal %d", WTERMSIG(ws));
	else
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(ws));
	return buf;
}

/* True (and *pid reaped and set to -1) when the child has exited. */
static bool
child_exited(pid_t *pid, int *wstatus)
{
	if (*pid <= 0 || waitpid(*pid, wstatus, WNOHANG) != *pid)
		return false;
	*pid = -1;
	return true;
}

/*
 * Waits up to API_WAIT_S for the daemon *pid to answer a status request on
 * endpoint; on success *a is the open connection. Fails when the daemon
 * exits (then *pid is -1) or does not answer in time.
 */
static int
wait_api(const char *endpoint, pid_t *pid, struct ls_api **a)
{
	double t0 = now_s();
	int ws = 0;

	while (now_s() - t0 < API_WAIT_S) {
		struct ls_api_status st;

		if (child_exited(pid, &ws)) {
			char how[64];
			fprintf(stderr, "lodestone-bench: lodestoned for '%s' %s\n", endpoint,
				exit_text(ws, how, sizeof(how)));
			return -1;
		}
		if (*a == NULL && ls_api_open(endpoint, 2000, a, NULL) != 0) {
			usleep(50000);
			continue;
		}
		memset(&st, 0, sizeof(st));
		if (ls_api_status(*a, &st, NULL) == 0) {
			ls_api_status_release(&st);
			return 0;
		}
		ls_api_close(a); /* a timed-out request leaves its answer queued */
	}
	fprintf(stderr, "lodestone-bench: lodestoned did not answer on '%s' within %d s\n",
		endpoint, API_WAIT_S);
	return -1;
}

/* Submits items[0..n) through a; 0 when every one was accepted. */
static int
submit_items(struct ls_api *a, const struct item *items, size_t n)
{
	const uint8_t **envs = calloc(n, sizeof(*envs));
	size_t *lens = calloc(n, sizeof(*lens));
	struct ls_ingest_result *res = calloc(n, sizeof(*res));
	struct ls_err_ctx ctx = {{0}};
	int rc = -1;

	if (envs == NULL || lens == NULL || res == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		envs[i] = items[i].env;
		lens[i] = items[i].len;
	}
	if ((rc = ls_api_submit(a, envs, lens, n, res, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: submit: %s\n", ls_err_msg(&ctx, rc));
		goto out;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (res[i].status != LS_INGEST_ACCEPTED) {
			fprintf(stderr, "lodestone-bench: record %zu not accepted: %s\n", i,
				res[i].message);
			rc = -1;
		}
out:
	free(envs);
	free(lens);
	free(res);
	return rc;
}

/* Submits items[0..n) through the API in requests of `batch`; 0 when all
 * were accepted. Runs in a child process. With lat_path, the milliseconds
 * each request took are written there (doubles, in order). */
static int
api_client(const char *endpoint, const struct item *items, size_t n, size_t batch,
	   const char *lat_path)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	const uint8_t **envs = calloc(batch, sizeof(*envs));
	size_t *lens = calloc(batch, sizeof(*lens));
	struct ls_ingest_result *res = calloc(batch, sizeof(*res));
	double *lat = calloc(n / batch + 1, sizeof(*lat));
	size_t n_lat = 0;
	int rc = 1;

	if (envs == NULL || lens == NULL || res == NULL || lat == NULL ||
	    ls_api_open(endpoint, 30000, &a, &ctx) != 0)
		goto out;
	for (size_t i = 0; i < n; i += batch) {
		size_t m = n - i < batch ? n - i : batch;
		double t0;
		for (size_t j = 0; j < m; j++) {
			envs[j] = items[i + j].env;
			lens[j] = items[i + j].len;
		}
		t0 = now_s();
		if (ls_api_submit(a, envs, lens, m, res, &ctx) != 0)
			goto out;
		lat[n_lat++] = (now_s() - t0) * 1000;
		for (size_t j = 0; j < m; j++)
			if (res[j].status != LS_INGEST_ACCEPTED) {
				fprintf(stderr, "lodestone-bench: api: %s\n", res[j].message);
				goto out;
			}
	}
	if (lat_path != NULL) {
		FILE *f = fopen(lat_path, "wb");
		if (f == NULL || fwrite(lat, sizeof(*lat), n_lat, f) != n_lat || fclose(f) != 0) {
			fprintf(stderr, "lodestone-bench: cannot write '%s'\n", lat_path);
			goto out;
		}
	}
	rc = 0;
out:
	if (rc != 0 && ctx.msg[0])
		fprintf(stderr, "lodestone-bench: api: %s\n", ctx.msg);
	ls_api_close(&a);
	free(envs);
	free(lens);
	free(res);
	free(lat);
	return rc;
}

/*
 * Forks `clients` processes, client k submitting its share of lots (see
 * make_feeds) to endpoint; pids[k] is its pid, -1 when not started. Call
 * with no ZeroMQ connection open: the children make their own. With
 * lat_prefix, client k writes its request latencies to LAT_PREFIX.k.
 */
static int
start_clients(const char *endpoint, const struct item *lots, size_t n, size_t clients, size_t batch,
	      pid_t *pids, const char *lat_prefix)
{
	for (size_t k = 0; k < clients; k++)
		pids[k] = -1;
	fflush(NULL);
	for (size_t k = 0, off = 0; k < clients; k++) {
		size_t cnt = client_share(n, clients, k);
		if ((pids[k] = fork()) == 0) {
			char path[4400];
			if (lat_prefix != NULL)
				snprintf(path, sizeof(path), "%s.%zu", lat_prefix, k);
			_exit(api_client(endpoint, lots + off, cnt, batch,
					 lat_prefix != NULL ? path : NULL));
		}
		if (pids[k] < 0) {
			fprintf(stderr, "lodestone-bench: fork: %s\n", strerror(errno));
			return -1;
		}
		off += cnt;
	}
	return 0;
}

/* Reaps the clients that have exited (block: all of them); counts in *bad
 * those that failed. True when none is left. */
static bool
reap_clients(pid_t *pids, size_t clients, bool block, size_t *bad)
{
	bool done = true;

	for (size_t k = 0; k < clients; k++) {
		int ws = 0;
		if (pids[k] <= 0)
			continue;
		if (waitpid(pids[k], &ws, block ? 0 : WNOHANG) != pids[k]) {
			done = false;
			continue;
		}
		pids[k] = -1;
		if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
			(*bad)++;
	}
	return done;
}

/* Ingests certs, then (timed) lots, into a new store in dir; *elapsed in s. */
static int
ingest_direct(const char *dir, const struct signer *auth, const struct item *certs, size_t n_certs,
	      const struct item *lots, size_t n, double *elapsed)
{
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	size_t bad = 0;
	double t0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		return -1;
	}
	if ((rc = ingest_all(s, certs, n_certs, DEFAULT_BATCH, &bad)) != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: in-process ingest of the certificates: %s\n",
			rc ? ls_strerror(rc) : "not accepted");
		ls_store_close(&s);
		return -1;
	}
	t0 = now_s();
	rc = ingest_all(s, lots, n, DEFAULT_BATCH, &bad);
	*elapsed = now_s() - t0;
	ls_store_close(&s);
	if (rc != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: in-process ingest: %s\n",
			rc ? ls_strerror(rc) : "records not accepted");
		return -1;
	}
	return 0;
}

/* ---- api: clients submitting through a real daemon ---- */

/* A process's resident memory (kB) from /proc/PID/status. */
struct rss {
	long total, anon, file, shmem;
};

static int
rss_read(pid_t pid, struct rss *r)
{
	char path[64], line[256];
	FILE *fp;

	memset(r, 0, sizeof(*r));
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL) {
		sscanf(line, "VmRSS: %ld", &r->total);
		sscanf(line, "RssAnon: %ld", &r->anon);
		sscanf(line, "RssFile: %ld", &r->file);
		sscanf(line, "RssShmem: %ld", &r->shmem);
	}
	fclose(fp);
	return r->total > 0 ? 0 : -1;
}

static void
rss_max(struct rss *m, const struct rss *r)
{
	if (r->total > m->total)
		m->total = r->total;
	if (r->anon > m->anon)
		m->anon = r->anon;
	if (r->file > m->file)
		m->file = r->file;
	if (r->shmem > m->shmem)
		m->shmem = r->shmem;
}

/* Fills the store in dir (the daemon's data dir, before it starts) with the
 * clients' certificates and pl's records, as the ingest bench's --preload
 * does. */
static int
api_preload(const char *dir, const struct signer *auth, const struct item *certs, size_t n_certs,
	    struct preload *pl)
{
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	size_t bad = 0;
	int rc;

	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		return -1;
	}
	if ((rc = ingest_all(s, certs, n_certs, DEFAULT_BATCH, &bad)) == 0 && bad != 0)
		rc = LS_ERR_REJECTED;
	if (rc == 0)
		rc = preload_stores(s, NULL, pl);
	ls_store_close(&s);
	return rc == 0 ? 0 : -1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The p50, p99 and (max not NULL) the slowest of the latencies the clients
 * wrote to PREFIX.k. */
static int
latencies(const char *prefix, size_t clients, double *p50, double *p99, double *max)
{
	double *v = NULL, *nv;
	size_t n = 0, cap = 0;

	for (size_t k = 0; k < clients; k++) {
		char path[4400];
		double x;
		FILE *f;
		snprintf(path, sizeof(path), "%s.%zu", prefix, k);
		if ((f = fopen(path, "rb")) == NULL) {
			fprintf(stderr, "lodestone-bench: cannot read '%s'\n", path);
			free(v);
			return -1;
		}
		while (fread(&x, sizeof(x), 1, f) == 1) {
			if (n == cap) {
				cap = cap ? 2 * cap : 256;
				if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
					fclose(f);
					free(v);
					return -1;
				}
				v = nv;
			}
			v[n++] = x;
		}
		fclose(f);
	}
	if (n == 0) {
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(*v), cmp_double);
	*p50 = v[(n - 1) / 2];
	*p99 = v[(n * 99 + 99) / 100 - 1];
	if (max != NULL)
		*max = v[n - 1];
	free(v);
	return 0;
}

static volatile sig_atomic_t query_stop;

static void
on_query_stop(int sig)
{
	(void)sig;
	query_stop = 1;
}

/*
 * A query client (a child process): verifies lot through the daemon in a
 * loop until SIGTERM, writing a byte to ready_fd after its first answer;
 * then writes the number of queries and their total milliseconds to
 * stats_path.
 */
static int
query_client(const char *endpoint, const uint8_t lot[LS_ID_LEN], int ready_fd,
	     const char *stats_path)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	struct ls_export_query q;
	struct sigaction sa;
	double total = 0, count = 0;
	FILE *f;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_query_stop;
	sigaction(SIGTERM, &sa, NULL);
	memset(&q, 0, sizeof(q));
	memcpy(q.lot, lot, LS_ID_LEN);
	if (ls_api_open(endpoint, 120000, &a, &ctx) != 0) {
		fprintf(stderr, "lodestone-bench: query: %s\n", ctx.msg);
		return 1;
	}
	while (!query_stop) {
		struct ls_verdict v;
		double t0 = now_s();
		int rc = ls_api_verify(a, &q, &v, &ctx);
		if (rc != 0) {
			if (!query_stop)
				fprintf(stderr, "lodestone-bench: query: %s\n",
					ls_err_msg(&ctx, rc));
			break;
		}
		if (v.kind != LS_V_VALID)
			fprintf(stderr, "lodestone-bench: query: verdict %s\n",
				ls_verdict_name(v.kind));
		ls_verdict_release(&v);
		total += (now_s() - t0) * 1000;
		if (count++ == 0 && write(ready_fd, "", 1) != 1)
			break;
	}
	ls_api_close(&a);
	if ((f = fopen(stats_path, "w")) == NULL)
		return 1;
	fprintf(f, "%.0f %.3f\n", count, total);
	return fclose(f) == 0 ? 0 : 1;
}

/* Submits items in requests of at most 1000 (the daemon's chunks). */
static int
submit_chunked(struct ls_api *a, const struct item *items, size_t n)
{
	for (size_t i = 0; i < n; i += 1000)
		if (submit_items(a, items + i, n - i < 1000 ? n - i : 1000) != 0)
			return -1;
	return 0;
}

static void
api_usage(FILE *fp)
{
	fprintf(fp, "usage: lodestone-bench api [-n N] [-c CLIENTS] [-b BATCH] [-q QUERIES [-a "
		    "ANCESTORS]]\n"
		    "                           [-r READERS] [-d DIR]\n\n"
		    "Starts lodestoned (next to this program) on a new data dir, then CLIENTS\n"
		    "processes submit N signed records in all, BATCH per request; then ingests\n"
		    "the same records into a fresh store in process.\n"
		    "figures: records, clients, request_batch, api_records_per_s,\n"
		    "ingest_records_per_s, api_vs_ingest, api_submit_p50_ms, api_submit_p99_ms\n"
		    "(the latency of one request).\n"
		    "-q QUERIES: then the clients submit N more records while QUERIES other\n"
		    "processes verify a lot with ANCESTORS ancestors (default 10000, stored\n"
		    "before) through the daemon in a loop.\n"
		    "figures: query_ancestors, api_records_per_s_qQ, api_submit_p50_ms_qQ,\n"
		    "api_submit_p99_ms_qQ, api_query_ms_qQ (mean of one verification),\n"
		    "api_queries_qQ, api_submit_p50_qQ_vs_none, api_submit_p99_qQ_vs_none.\n"
		    "-r READERS: the daemon's --readers (0: reads on its main thread).\n"
		    "-p|--preload P: the data dir first holds P lot registrations of other\n"
		    "miners (untimed). The daemon's memory is read from /proc/PID/status once\n"
		    "it is idle with the certificates (and the preload) stored, and every 20 ms\n"
		    "while the clients submit (the peak): VmRSS, and RssAnon, its memory not\n"
		    "backed by a file (the LMDB map of data.mdb is file-backed: RssFile).\n"
		    "figures: api_preload, daemon_rss_idle_kib, daemon_rss_anon_idle_kib,\n"
		    "daemon_rss_file_idle_kib, daemon_rss_peak_kib, daemon_rss_anon_peak_kib,\n"
		    "daemon_rss_file_peak_kib.\n");
}

static int
cmd_api(int argc, char **argv)
{
	size_t n = 20000, clients = 4, batch = 100, queries = 0, ancestors = 10000;
	const char *parent = getenv("TMPDIR"), *readers = NULL;
	struct signer *auth = calloc(1, sizeof(*auth)), *ms = NULL, *ms2 = NULL, *p = NULL;
	struct item *certs = NULL, *lots = NULL, *certs2 = NULL, *lots2 = NULL, *chain = NULL;
	struct ls_api *a = NULL;
	char dir[4096], sdir[4200], node[4200], endpoint[4300], daemon[4200], pubf[4300];
	char lat0[4300], lat1[4300];
	pid_t dpid = -1, *pids = NULL, *qpids = NULL;
	bool have_dir = false;
	uint8_t deep[LS_ID_LEN];
	double t0, t_api, t_api_q = 0, t_ingest, p50, p99, p50_q = 0, p99_q = 0;
	double q_count = 0, q_total = 0;
	int ready[2] = {-1, -1};
	size_t bad = 0;
	struct preload pl = {0};
	struct rss idle, peak = {0}, now;
	static const struct option lopts[] = {{"preload", required_argument, NULL, 'p'},
					      {NULL, 0, NULL, 0}};
	int c, status = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:c:b:q:a:r:d:p:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'c':
			if (parse_size(optarg, "-c", 1, &clients) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 'q':
			if (parse_range(optarg, "-q", 0, 64, &queries) != 0)
				return 2;
			break;
		case 'a':
			if (parse_range(optarg, "-a", 1, 1000000, &ancestors) != 0)
				return 2;
			break;
		case 'r': readers = optarg; break;
		case 'd': parent = optarg; break;
		case 'p':
			if (parse_range(optarg, "--preload", 0, PRELOAD_MAX, &pl.n) != 0)
				return 2;
			break;
		case 'h': api_usage(stdout); return 0;
		default: api_usage(stderr); return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (daemon_path(daemon, sizeof(daemon)) != 0)
		goto out;
	if (auth == NULL || (ms = calloc(clients, sizeof(*ms))) == NULL ||
	    (certs = calloc(clients, sizeof(*certs))) == NULL ||
	    (lots = calloc(n, sizeof(*lots))) == NULL ||
	    (pids = calloc(clients, sizeof(*pids))) == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	if (make_feeds(auth, ms, certs, lots, clients, n) != 0 ||
	    make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	if (queries > 0) {
		/* Other miners for the second run, and a processor's chain: a lot
		 * with `ancestors` ancestors. */
		if ((ms2 = calloc(clients, sizeof(*ms2))) == NULL ||
		    (certs2 = calloc(clients, sizeof(*certs2))) == NULL ||
		    (lots2 = calloc(n, sizeof(*lots2))) == NULL ||
		    (qpids = calloc(queries, sizeof(*qpids))) == NULL ||
		    (p = calloc(1, sizeof(*p))) == NULL ||
		    (chain = calloc(ancestors + 1, sizeof(*chain))) == NULL) {
			fprintf(stderr, "lodestone-bench: out of memory\n");
			goto out;
		}
		for (size_t k = 0; k < queries; k++)
			qpids[k] = -1;
		if (make_miners(auth, ms2, certs2, lots2, clients, n) != 0)
			goto out;
		crypto_sign_keypair(p->pk, p->sk);
		if (make_cert_roles(auth, p, LS_ROLE_MINER | LS_ROLE_PROCESSOR, &chain[0]) != 0 ||
		    make_chain(p, &chain[1], ancestors, deep) != 0)
			goto out;
	}
	snprintf(node, sizeof(node), "%s/node", dir);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/api.sock", node);
	snprintf(pubf, sizeof(pubf), "%s/auth.pub", dir);
	snprintf(lat0, sizeof(lat0), "%s/lat-none", dir);
	snprintf(lat1, sizeof(lat1), "%s/lat-q", dir);
	if (write_pub(pubf, auth->pk) != 0)
		goto out;
	if (pl.n > 0) {
		pl.miners = DEFAULT_MINERS;
		if ((pl.ms = calloc(pl.miners, sizeof(*pl.ms))) == NULL ||
		    (pl.certs = calloc(pl.miners, sizeof(*pl.certs))) == NULL) {
			fprintf(stderr, "lodestone-bench: out of memory\n");
			goto out;
		}
		for (size_t i = 0; i < pl.miners; i++) {
			crypto_sign_keypair(pl.ms[i].pk, pl.ms[i].sk);
			if (make_cert(auth, &pl.ms[i], &pl.certs[i]) != 0)
				goto out;
		}
		if (api_preload(node, auth, certs, clients, &pl) != 0)
			goto out;
	}
	{
		char *args[] = {"lodestoned",  "--data-dir", node, "--trust", pubf,
				"--log-level", "error",      NULL, NULL,      NULL};
		if (readers != NULL) {
			args[7] = "--readers";
			args[8] = (char *)readers;
		}
		if ((dpid = spawn_daemon(daemon, args)) < 0)
			goto out;
	}
	if (wait_api(endpoint, &dpid, &a) != 0 ||
	    (pl.n == 0 && submit_items(a, certs, clients) != 0))
		goto out;
	if (queries > 0 &&
	    (submit_items(a, certs2, clients) != 0 || submit_chunked(a, chain, ancestors + 1) != 0))
		goto out;
	ls_api_close(&a); /* before the clients fork */
	{
		struct timespec ts = {1, 0}; /* the daemon idle a while */
		nanosleep(&ts, NULL);
	}
	if (rss_read(dpid, &idle) != 0) {
		fprintf(stderr, "lodestone-bench: cannot read the daemon's /proc status\n");
		goto out;
	}
	peak = idle;
	t0 = now_s();
	if (start_clients(endpoint, lots, n, clients, batch, pids, lat0) != 0)
		goto out;
	while (!reap_clients(pids, clients, false, &bad)) {
		struct timespec ts = {0, 20 * 1000 * 1000};
		if (rss_read(dpid, &now) == 0)
			rss_max(&peak, &now);
		nanosleep(&ts, NULL);
	}
	t_api = now_s() - t0;
	if (bad != 0) {
		fprintf(stderr, "lodestone-bench: %zu clients failed\n", bad);
		goto out;
	}
	if (latencies(lat0, clients, &p50, &p99, NULL) != 0)
		goto out;
	if (queries > 0) {
		char got;
		if (pipe(ready) != 0)
			goto out;
		fflush(NULL);
		for (size_t k = 0; k < queries; k++) {
			if ((qpids[k] = fork()) == 0) {
				char path[4400];
				close(ready[0]);
				snprintf(path, sizeof(path), "%s/query.%zu", dir, k);
				_exit(query_client(endpoint, deep, ready[1], path));
			}
			if (qpids[k] < 0)
				goto out;
		}
		close(ready[1]);
		ready[1] = -1;
		/* every query client has had one answer: they are all asking */
		for (size_t k = 0; k < queries; k++)
			if (read(ready[0], &got, 1) != 1) {
				fprintf(stderr, "lodestone-bench: a query client failed\n");
				goto out;
			}
		t0 = now_s();
		if (start_clients(endpoint, lots2, n, clients, batch, pids, lat1) != 0)
			goto out;
		reap_clients(pids, clients, true, &bad);
		t_api_q = now_s() - t0;
		for (size_t k = 0; k < queries; k++) {
			char path[4400];
			double cnt = 0, tot = 0;
			FILE *f;
			kill(qpids[k], SIGTERM);
			waitpid(qpids[k], NULL, 0);
			qpids[k] = -1;
			snprintf(path, sizeof(path), "%s/query.%zu", dir, k);
			if ((f = fopen(path, "r")) != NULL) {
				if (fscanf(f, "%lf %lf", &cnt, &tot) == 2) {
					q_count += cnt;
					q_total += tot;
				}
				fclose(f);
			}
		}
		if (bad != 0) {
			fprintf(stderr, "lodestone-bench: %zu clients failed\n", bad);
			goto out;
		}
		if (latencies(lat1, clients, &p50_q, &p99_q, NULL) != 0)
			goto out;
	}
	snprintf(sdir, sizeof(sdir), "%s/direct", dir);
	if (ingest_direct(sdir, auth, certs, clients, lots, n, &t_ingest) != 0)
		goto out;
	printf("records %zu records\n", n);
	printf("clients %zu clients\n", clients);
	printf("request_batch %zu records\n", batch);
	if (readers != NULL)
		printf("readers %s threads\n", readers);
	printf("api_records_per_s %.0f records/s\n", (double)n / t_api);
	printf("ingest_records_per_s %.0f records/s\n", (double)n / t_ingest);
	printf("api_vs_ingest %.2f ratio\n", t_ingest / t_api);
	printf("api_submit_p50_ms %.1f ms\n", p50);
	printf("api_submit_p99_ms %.1f ms\n", p99);
	if (queries > 0) {
		printf("query_ancestors %zu records\n", ancestors);
		printf("api_records_per_s_q%zu %.0f records/s\n", queries, (double)n / t_api_q);
		printf("api_submit_p50_ms_q%zu %.1f ms\n", queries, p50_q);
		printf("api_submit_p99_ms_q%zu %.1f ms\n", queries, p99_q);
		printf("api_query_ms_q%zu %.1f ms\n", queries, q_count > 0 ? q_total / q_count : 0);
		printf("api_queries_q%zu %.0f queries\n", queries, q_count);
		printf("api_submit_p50_q%zu_vs_none %.2f ratio\n", queries, p50_q / p50);
		printf("api_submit_p99_q%zu_vs_none %.2f ratio\n", queries, p99_q / p99);
	}
	printf("api_preload %zu records\n", pl.n);
	printf("daemon_rss_idle_kib %ld KiB\n", idle.total);
	printf("daemon_rss_anon_idle_kib %ld KiB\n", idle.anon);
	printf("daemon_rss_file_idle_kib %ld KiB\n", idle.file);
	printf("daemon_rss_peak_kib %ld KiB\n", peak.total);
	printf("daemon_rss_anon_peak_kib %ld KiB\n", peak.anon);
	printf("daemon_rss_file_peak_kib %ld KiB\n", peak.file);
	status = 0;
out:
	ls_api_close(&a);
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	for (size_t k = 0; qpids != NULL && k < queries; k++)
		stop_child(&qpids[k]);
	for (size_t k = 0; pids != NULL && k < clients; k++)
		stop_child(&pids[k]);
	stop_child(&dpid);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, clients);
	items_free(lots, n);
	if (queries > 0) {
		items_free(certs2, clients);
		items_free(lots2, n);
		items_free(chain, ancestors + 1);
	}
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, clients * sizeof(*ms));
	if (ms2 != NULL)
		sodium_memzero(ms2, clients * sizeof(*ms2));
	if (p != NULL)
		sodium_memzero(p, sizeof(*p));
	free(auth);
	free(ms);
	free(ms2);
	free(p);
	free(pids);
	free(qpids);
	items_free(pl.certs, pl.miners);
	if (pl.ms != NULL)
		sodium_memzero(pl.ms, pl.miners * sizeof(*pl.ms));
	free(pl.ms);
	return status;
}

/* ---- gossip: records written at one daemon reaching K daemons in a line ---- */

struct node {
	char dir[4200];
	char api[4300];
	char listen[64];
	char peer[LS_HEX_KEY_LEN + 80]; /* --peer HEX@ENDPOINT of the one before */
	char hex[LS_HEX_KEY_LEN + 1];   /* node key */
	pid_t pid;
	struct ls_api *a;
	uint64_t records;
	bool connected; /* every peer it knows is connected */
	double done;    /* s after the clock started when it held every record; 0: not yet */
};

/* Runs `lodestoned --data-dir DIR --init` and reads the node key it prints. */
static int
node_init(const char *daemon, struct node *nd)
{
	char out[256];
	uint8_t key[LS_KEY_LEN];
	size_t len = 0, klen = 0;
	ssize_t r;
	pid_t pid;
	int pfd[2], ws = 0;

	if (pipe(pfd) != 0) {
		fprintf(stderr, "lodestone-bench: pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl(daemon, "lodestoned", "--data-dir", nd->dir, "--init", (char *)NULL);
		fprintf(stderr, "lodestone-bench: cannot run '%s': %s\n", daemon, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		fprintf(stderr, "lodestone-bench: fork: %s\n", strerror(errno));
		return -1;
	}
	while (len < sizeof(out) - 1 && ((r = read(pfd[0], out + len, sizeof(out) - 1 - len)) > 0 ||
					 (r < 0 && errno == EINTR)))
		len += r > 0 ? (size_t)r : 0;
	out[len] = '\0';
	close(pfd[0]);
	waitpid(pid, &ws, 0);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || len < LS_HEX_KEY_LEN ||
	    sodium_hex2bin(key, sizeof(key), out, LS_HEX_KEY_LEN, NULL, &klen, NULL) != 0 ||
	    klen != LS_KEY_LEN) {
		fprintf(stderr, "lodestone-bench: '%s --data-dir %s --init' gave no node key\n",
			daemon, nd->dir);
		return -1;
	}
	memcpy(nd->hex, out, LS_HEX_KEY_LEN);
	nd->hex[LS_HEX_KEY_LEN] = '\0';
	return 0;
}

/* A free TCP port on 127.0.0.1, bound by *fd (closed by the caller once
 * every port is picked, so that no two are the same). */
static int
free_port(int *fd, int *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(*fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&sin, &sl) != 0) {
		fprintf(stderr, "lodestone-bench: cannot find a free port: %s\n", strerror(errno));
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return 0;
}

/* Reads nd's record count and whether its peers are all connected. A
 * daemon that does not answer keeps its last figures. */
static void
node_poll(struct node *nd)
{
	struct ls_api_status st;

	memset(&st, 0, sizeof(st));
	if (nd->a == NULL || ls_api_status(nd->a, &st, NULL) != 0)
		return;
	nd->records = st.stats.records;
	nd->connected = st.n_peers > 0;
	for (size_t i = 0; i < st.n_peers; i++)
		nd->connected = nd->connected && st.peers[i].connected;
	ls_api_status_release(&st);
}

/* Fails when one of the k daemons has exited. */
static int
nodes_alive(struct node *nodes, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		int ws = 0;
		if (child_exited(&nodes[i].pid, &ws)) {
			char how[64];
			fprintf(stderr, "lodestone-bench: daemon %zu %s\n", i,
				exit_text(ws, how, sizeof(how)));
			return -1;
		}
	}
	return 0;
}

static void
nodes_print(const struct node *nodes, size_t k, uint64_t want)
{
	for (size_t i = 0; i < k; i++)
		fprintf(stderr, "lodestone-bench: daemon %zu holds %llu of %llu records%s\n", i,
			(unsigned long long)nodes[i].records, (unsigned long long)want,
			nodes[i].connected ? "" : ", peers not all connected");
}

static void
gossip_usage(FILE *fp)
{
	fprintf(fp,
		"usage: lodestone-bench gossip [-k DAEMONS] [-n N] [-c CLIENTS] [-b BATCH] [-d "
		"DIR]\n"
		"\n"
		"Starts DAEMONS lodestoned (default 3; next to this program) on loopback in a\n"
		"line, each dialling the one before it, under a temporary directory in DIR\n"
		"(default $TMPDIR or /tmp). Once their peers are connected and the\n"
		"certificates are everywhere, CLIENTS processes (default 4) submit N signed\n"
		"records (default 20000), BATCH per request (default 100), to the first\n"
		"daemon, and every daemon's record count is polled every 10 ms until all hold\n"
		"them (at most %d s). Then the same records are ingested into a fresh store\n"
		"in process.\n"
		"\n"
		"figures: daemons, records, clients, request_batch, api_records_per_s (writes\n"
		"acknowledged by the first daemon), gossip_s and gossip_records_per_s (until\n"
		"the last daemon holds every record), ingest_records_per_s, gossip_vs_ingest\n"
		"(ratio of the two rates).\n",
		GOSSIP_WAIT_S);
}

static int
cmd_gossip(int argc, char **argv)
{
	size_t k = 3, n = 20000, clients = 4, batch = 100, bad = 0;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct node *nodes = NULL;
	char dir[4096], sdir[4200], daemon[4200], pubf[4300];
	pid_t *pids = NULL;
	int fds[DAEMONS_MAX], ports[DAEMONS_MAX];
	bool have_dir = false, all;
	double t0, t_api = 0, t_gossip = 0, t_ingest;
	uint64_t want;
	int c, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "k:n:c:b:d:h")) != -1) {
		switch (c) {
		case 'k':
			if (parse_range(optarg, "-k", 2, DAEMONS_MAX, &k) != 0)
				return 2;
			break;
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'c':
			if (parse_size(optarg, "-c", 1, &clients) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': gossip_usage(stdout); return 0;
		default: gossip_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lodestone-bench: unexpected argument '%s'\n", argv[optind]);
		gossip_usage(stderr);
		return 2;
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	want = clients + n;
	for (size_t i = 0; i < DAEMONS_MAX; i++)
		fds[i] = -1;
	if (daemon_path(daemon, sizeof(daemon)) != 0)
		goto out;
	if (auth == NULL || (ms = calloc(clients, sizeof(*ms))) == NULL ||
	    (certs = calloc(clients, sizeof(*certs))) == NULL ||
	    (lots = calloc(n, sizeof(*lots))) == NULL ||
	    (pids = calloc(clients, sizeof(*pids))) == NULL ||
	    (nodes = calloc(k, sizeof(*nodes))) == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < k; i++)
		nodes[i].pid = -1;
	for (size_t i = 0; i < clients; i++)
		pids[i] = -1;
	if (make_feeds(auth, ms, certs, lots, clients, n) != 0 ||
	    make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	snprintf(pubf, sizeof(pubf), "%s/auth.pub", dir);
	if (write_pub(pubf, auth->pk) != 0)
		goto out;

	/* Keys and ports first: daemon i - 1 must know daemon i's key. */
	for (size_t i = 0; i < k; i++) {
		struct node *nd = &nodes[i];
		snprintf(nd->dir, sizeof(nd->dir), "%s/node%zu", dir, i);
		snprintf(nd->api, sizeof(nd->api), "ipc://%s/api.sock", nd->dir);
		if (node_init(daemon, nd) != 0 || free_port(&fds[i], &ports[i]) != 0)
			goto out;
		snprintf(nd->listen, sizeof(nd->listen), "tcp://127.0.0.1:%d", ports[i]);
		if (i > 0)
			snprintf(nd->peer, sizeof(nd->peer), "%s@%s", nodes[i - 1].hex,
				 nodes[i - 1].listen);
	}
	for (size_t i = 0; i < k; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	for (size_t i = 0; i < k; i++) {
		struct node *nd = &nodes[i];
		char *args[20];
		size_t na = 0;

		args[na++] = "lodestoned";
		args[na++] = "--data-dir";
		args[na++] = nd->dir;
		args[na++] = "--api";
		args[na++] = nd->api;
		args[na++] = "--listen";
		args[na++] = nd->listen;
		args[na++] = "--trust";
		args[na++] = pubf;
		args[na++] = "--log-level";
		args[na++] = "error";
		args[na++] = "--sync-interval";
		args[na++] = "1";
		if (i > 0) {
			args[na++] = "--peer";
			args[na++] = nd->peer;
		}
		if (i + 1 < k) {
			/* The listening side admits the one that dials it. */
			args[na++] = "--allow-peer";
			args[na++] = nodes[i + 1].hex;
		}
		args[na] = NULL;
		if ((nd->pid = spawn_daemon(daemon, args)) < 0)
			goto out;
	}
	for (size_t i = 0; i < k; i++)
		if (wait_api(nodes[i].api, &nodes[i].pid, &nodes[i].a) != 0)
			goto out;

	/* Every daemon sees its peers connected: the line is up. */
	t0 = now_s();
	do {
		if (now_s() - t0 > CONNECT_WAIT_S) {
			fprintf(stderr,
				"lodestone-bench: the daemons' peers did not connect within %d s\n",
				CONNECT_WAIT_S);
			nodes_print(nodes, k, 0);
			goto out;
		}
		if (nodes_alive(nodes, k) != 0)
			goto out;
		usleep(POLL_US);
		all = true;
		for (size_t i = 0; i < k; i++) {
			node_poll(&nodes[i]);
			all = all && nodes[i].connected;
		}
	} while (!all);

	/* The certificates, at daemon 0, until every daemon holds them. */
	if (submit_items(nodes[0].a, certs, clients) != 0)
		goto out;
	t0 = now_s();
	do {
		if (now_s() - t0 > CERT_WAIT_S) {
			fprintf(
			    stderr,
			    "lodestone-bench: the certificates did not reach every daemon within "
			    "%d s\n",
			    CERT_WAIT_S);
			nodes_print(nodes, k, clients);
			goto out;
		}
		if (nodes_alive(nodes, k) != 0)
			goto out;
		usleep(POLL_US);
		all = true;
		for (size_t i = 0; i < k; i++) {
			node_poll(&nodes[i]);
			all = all && nodes[i].records >= clients;
		}
	} while (!all);
	for (size_t i = 0; i < k; i++)
		ls_api_close(&nodes[i].a); /* before the clients fork */

	t0 = now_s();
	if (start_clients(nodes[0].api, lots, n, clients, batch, pids, NULL) != 0)
		goto out;
	for (size_t i = 0; i < k; i++)
		if (ls_api_open(nodes[i].api, 5000, &nodes[i].a, NULL) != 0) {
			fprintf(stderr, "lodestone-bench: cannot connect to daemon %zu on '%s'\n",
				i, nodes[i].api);
			goto out;
		}
	for (;;) {
		double t = now_s() - t0;

		if (t_api == 0 && reap_clients(pids, clients, false, &bad))
			t_api = t;
		if (bad != 0) {
			fprintf(stderr, "lodestone-bench: %zu clients failed\n", bad);
			goto out;
		}
		if (nodes_alive(nodes, k) != 0)
			goto out;
		all = true;
		for (size_t i = 0; i < k; i++) {
			if (nodes[i].done == 0) {
				node_poll(&nodes[i]);
				if (nodes[i].records >= want)
					nodes[i].done = now_s() - t0;
			}
			all = all && nodes[i].done != 0;
		}
		if (all && t_api != 0)
			break;
		if (t > GOSSIP_WAIT_S) {
			fprintf(stderr,
				"lodestone-bench: the records did not reach every daemon within %d "
				"s%s\n",
				GOSSIP_WAIT_S, t_api == 0 ? " (clients still submitting)" : "");
			nodes_print(nodes, k, want);
			goto out;
		}
		usleep(POLL_US);
	}
	for (size_t i = 0; i < k; i++)
		if (nodes[i].done > t_gossip)
			t_gossip = nodes[i].done;

	snprintf(sdir, sizeof(sdir), "%s/direct", dir);
	if (ingest_direct(sdir, auth, certs, clients, lots, n, &t_ingest) != 0)
		goto out;
	printf("daemons %zu daemons\n", k);
	printf("records %zu records\n", n);
	printf("clients %zu clients\n", clients);
	printf("request_batch %zu records\n", batch);
	printf("api_records_per_s %.0f records/s\n", (double)n / t_api);
	printf("gossip_s %.3f s\n", t_gossip);
	printf("gossip_records_per_s %.0f records/s\n", (double)n / t_gossip);
	printf("ingest_records_per_s %.0f records/s\n", (double)n / t_ingest);
	printf("gossip_vs_ingest %.2f ratio\n", t_ingest / t_gossip);
	status = 0;
out:
	for (size_t i = 0; pids != NULL && i < clients; i++)
		stop_child(&pids[i]);
	for (size_t i = 0; nodes != NULL && i < k; i++) {
		ls_api_close(&nodes[i].a);
		if (nodes[i].pid > 0)
			kill(nodes[i].pid, SIGTERM);
	}
	for (size_t i = 0; nodes != NULL && i < k; i++)
		stop_child(&nodes[i].pid);
	for (size_t i = 0; i < DAEMONS_MAX; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, clients);
	items_free(lots, n);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, clients * sizeof(*ms));
	free(auth);
	free(ms);
	free(pids);
	free(nodes);
	return status;
}

/* ---- witness: cosignature round trip, and checkpoint lag under load ---- */

#define WITNESS_WAIT_S 60 /* a checkpoint is cosigned within this */

struct wsample {
	double t;
	uint64_t log_size, quorum;
};

/* A's status: its log size, latest checkpoint, and what its witness (the
 * one peer) cosigned, with that round trip. false when it does not answer. */
static bool
witness_poll(struct ls_api *a, uint64_t *log_size, uint64_t *cp, uint64_t *cosigned,
	     uint64_t *rtt_us, bool *keys)
{
	struct ls_api_status st;

	memset(&st, 0, sizeof(st));
	if (ls_api_status(a, &st, NULL) != 0)
		return false;
	*log_size = st.log_size;
	*cp = st.checkpoint_size;
	*cosigned = st.n_peers == 1 ? st.peers[0].cosigned_size : 0;
	*rtt_us = st.n_peers == 1 ? st.peers[0].cosign_rtt_us : 0;
	*keys = st.n_peers == 1 && st.peers[0].witness_vkey[0] != '\0' && st.peers[0].connected;
	ls_api_status_release(&st);
	return true;
}

static int
u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
dblcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
witness_usage(FILE *fp)
{
	fprintf(
	    fp,
	    "usage: lodestone-bench witness [-n N] [-c CLIENTS] [-b BATCH] [-r ROUNDS] [-d DIR]\n"
	    "\n"
	    "Starts two lodestoned on loopback (next to this program), A dialling W, each\n"
	    "witnessing the other's log (checkpoint every 1 s). First ROUNDS single records\n"
	    "(default 20) are submitted to A one at a time, each waited for until W has\n"
	    "cosigned A's checkpoint that holds it. Then CLIENTS processes (default 4)\n"
	    "submit N records (default 20000), BATCH per request (default 100), to A, while\n"
	    "A's status is polled every 10 ms for its log size and the size W cosigned.\n"
	    "\n"
	    "figures: cosign_rtt_us (median of the rounds: AddCheckpoint sent to the\n"
	    "cosignature checked, as A measures it), cosign_rtt_us_max, record_to_cosigned_ms\n"
	    "(median: a record submitted to its checkpoint cosigned, the checkpoint interval\n"
	    "included), api_records_per_s (under load, with witnessing), checkpoint_lag_ms\n"
	    "and checkpoint_lag_ms_p90, checkpoint_lag_ms_max (under load: from the moment a\n"
	    "log size was reached to the moment a cosigned checkpoint covered it).\n");
}

static int
cmd_witness(int argc, char **argv)
{
	size_t n = 20000, clients = 4, batch = 100, rounds = 20, per, total, bad = 0;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct node *nodes = calloc(2, sizeof(*nodes));
	struct wsample *smp = NULL;
	size_t n_smp = 0, cap_smp = 0;
	uint64_t *rtts = NULL;
	double *r2c = NULL, *lags = NULL, t0, t_api = 0;
	char dir[4096], daemon[4200], pubf[4300];
	pid_t *pids = NULL;
	int fds[2] = {-1, -1}, ports[2];
	bool have_dir = false;
	uint64_t ls, cp, cos, rtt;
	bool keys;
	int c, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "n:c:b:r:d:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'c':
			if (parse_size(optarg, "-c", 1, &clients) != 0)
				return 2;
			break;
		case 'b':
			if (parse_size(optarg, "-b", 1, &batch) != 0)
				return 2;
			break;
		case 'r':
			if (parse_range(optarg, "-r", 1, 1000, &rounds) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': witness_usage(stdout); return 0;
		default: witness_usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "lodestone-bench: unexpected argument '%s'\n", argv[optind]);
		witness_usage(stderr);
		return 2;
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	/* clients + 1 feeds of `per` lots each: the last one for the rounds */
	per = (n + clients - 1) / clients;
	if (per < rounds)
		per = rounds;
	n = per * clients;
	total = per * (clients + 1);
	if (nodes == NULL) {
		free(auth);
		return 1;
	}
	nodes[0].pid = nodes[1].pid = -1;
	if (daemon_path(daemon, sizeof(daemon)) != 0)
		goto out;
	if (auth == NULL || (ms = calloc(clients + 1, sizeof(*ms))) == NULL ||
	    (certs = calloc(clients + 1, sizeof(*certs))) == NULL ||
	    (lots = calloc(total, sizeof(*lots))) == NULL ||
	    (pids = calloc(clients, sizeof(*pids))) == NULL ||
	    (rtts = calloc(rounds, sizeof(*rtts))) == NULL ||
	    (r2c = calloc(rounds, sizeof(*r2c))) == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < clients; i++)
		pids[i] = -1;
	if (make_feeds(auth, ms, certs, lots, clients + 1, total) != 0 ||
	    make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	snprintf(pubf, sizeof(pubf), "%s/auth.pub", dir);
	if (write_pub(pubf, auth->pk) != 0)
		goto out;
	for (size_t i = 0; i < 2; i++) {
		struct node *nd = &nodes[i];
		snprintf(nd->dir, sizeof(nd->dir), "%s/node%zu", dir, i);
		snprintf(nd->api, sizeof(nd->api), "ipc://%s/api.sock", nd->dir);
		if (node_init(daemon, nd) != 0 || free_port(&fds[i], &ports[i]) != 0)
			goto out;
		snprintf(nd->listen, sizeof(nd->listen), "tcp://127.0.0.1:%d", ports[i]);
	}
	snprintf(nodes[0].peer, sizeof(nodes[0].peer), "%s@%s", nodes[1].hex, nodes[1].listen);
	for (size_t i = 0; i < 2; i++) {
		close(fds[i]);
		fds[i] = -1;
	}
	for (size_t i = 0; i < 2; i++) {
		char *args[] = {"lodestoned",
				"--data-dir",
				nodes[i].dir,
				"--api",
				nodes[i].api,
				"--listen",
				nodes[i].listen,
				"--trust",
				pubf,
				"--log-level",
				"error",
				"--sync-interval",
				"1",
				"--checkpoint-interval",
				"1",
				i == 0 ? "--peer" : "--allow-peer",
				i == 0 ? nodes[0].peer : nodes[0].hex,
				NULL};
		if ((nodes[i].pid = spawn_daemon(daemon, args)) < 0)
			goto out;
	}
	for (size_t i = 0; i < 2; i++)
		if (wait_api(nodes[i].api, &nodes[i].pid, &nodes[i].a) != 0)
			goto out;
	/* W announced its keys to A; the certificates are cosigned */
	if (submit_items(nodes[0].a, certs, clients + 1) != 0)
		goto out;
	t0 = now_s();
	for (;;) {
		if (!witness_poll(nodes[0].a, &ls, &cp, &cos, &rtt, &keys) ||
		    now_s() - t0 > WITNESS_WAIT_S) {
			fprintf(stderr,
				"lodestone-bench: the certificates were not cosigned within %d s\n",
				WITNESS_WAIT_S);
			goto out;
		}
		if (keys && cp > 0 && cos >= cp && cp == ls)
			break;
		usleep(POLL_US);
	}
	/* the rounds: one record at a time */
	for (size_t r = 0; r < rounds; r++) {
		uint64_t before = ls;
		double t1 = now_s();
		if (submit_items(nodes[0].a, &lots[n + r], 1) != 0)
			goto out;
		for (;;) {
			if (!witness_poll(nodes[0].a, &ls, &cp, &cos, &rtt, &keys) ||
			    now_s() - t1 > WITNESS_WAIT_S) {
				fprintf(stderr,
					"lodestone-bench: round %zu: not cosigned within %d s\n", r,
					WITNESS_WAIT_S);
				goto out;
			}
			if (ls > before && cp >= ls && cos >= cp)
				break;
			usleep(1000);
		}
		rtts[r] = rtt;
		r2c[r] = (now_s() - t1) * 1000.0;
	}
	/* the load */
	for (size_t i = 0; i < 2; i++)
		ls_api_close(&nodes[i].a);
	t0 = now_s();
	if (start_clients(nodes[0].api, lots, n, clients, batch, pids, NULL) != 0)
		goto out;
	if (ls_api_open(nodes[0].api, 5000, &nodes[0].a, NULL) != 0) {
		fprintf(stderr, "lodestone-bench: cannot connect to '%s'\n", nodes[0].api);
		goto out;
	}
	for (;;) {
		double t = now_s() - t0;
		if (t_api == 0 && reap_clients(pids, clients, false, &bad))
			t_api = t;
		if (bad != 0) {
			fprintf(stderr, "lodestone-bench: %zu clients failed\n", bad);
			goto out;
		}
		if (t > GOSSIP_WAIT_S) {
			fprintf(stderr, "lodestone-bench: the load was not cosigned within %d s\n",
				GOSSIP_WAIT_S);
			goto out;
		}
		if (witness_poll(nodes[0].a, &ls, &cp, &cos, &rtt, &keys)) {
			if (n_smp == cap_smp) {
				size_t nc = cap_smp ? cap_smp * 2 : 4096;
				struct wsample *ns = realloc(smp, nc * sizeof(*ns));
				if (ns == NULL)
					goto out;
				smp = ns;
				cap_smp = nc;
			}
			smp[n_smp++] = (struct wsample){t, ls, cos};
			if (t_api != 0 && cp == ls && cos >= cp)
				break;
		}
		usleep(POLL_US);
	}
	/* the lag of each log size sampled: until a cosigned checkpoint covers it */
	if ((lags = calloc(n_smp, sizeof(*lags))) == NULL)
		goto out;
	{
		size_t nl = 0, j = 0;
		for (size_t i = 0; i < n_smp; i++) {
			if (i > 0 && smp[i].log_size == smp[i - 1].log_size)
				continue; /* the first moment each size was seen */
			if (j < i)
				j = i;
			while (j < n_smp && smp[j].quorum < smp[i].log_size)
				j++;
			if (j == n_smp)
				break;
			lags[nl++] = (smp[j].t - smp[i].t) * 1000.0;
		}
		qsort(rtts, rounds, sizeof(*rtts), u64cmp);
		qsort(r2c, rounds, sizeof(*r2c), dblcmp);
		qsort(lags, nl, sizeof(*lags), dblcmp);
		printf("records %zu records\n", n);
		printf("clients %zu clients\n", clients);
		printf("rounds %zu records\n", rounds);
		printf("cosign_rtt_us %llu us\n", (unsigned long long)rtts[rounds / 2]);
		printf("cosign_rtt_us_max %llu us\n", (unsigned long long)rtts[rounds - 1]);
		printf("record_to_cosigned_ms %.0f ms\n", r2c[rounds / 2]);
		printf("api_records_per_s %.0f records/s\n", (double)n / t_api);
		printf("checkpoint_lag_ms %.0f ms\n", nl ? lags[nl / 2] : 0.0);
		printf("checkpoint_lag_ms_p90 %.0f ms\n", nl ? lags[nl * 9 / 10] : 0.0);
		printf("checkpoint_lag_ms_max %.0f ms\n", nl ? lags[nl - 1] : 0.0);
	}
	status = 0;
out:
	for (size_t i = 0; pids != NULL && i < clients; i++)
		stop_child(&pids[i]);
	for (size_t i = 0; i < 2; i++) {
		ls_api_close(&nodes[i].a);
		stop_child(&nodes[i].pid);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, clients + 1);
	items_free(lots, total);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, (clients + 1) * sizeof(*ms));
	free(auth);
	free(ms);
	free(pids);
	free(smp);
	free(rtts);
	free(r2c);
	free(lags);
	free(nodes);
	return status;
}

/* ---- stream: a bundle bigger than one API message, through a daemon ---- */

/* The "NAME: N kB" line of /proc/pid/status (0: unknown). */
static long
status_kb(pid_t pid, const char *name)
{
	char path[64], line[256];
	long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, strlen(name)) == 0 && line[strlen(name)] == ':' &&
		    sscanf(line + strlen(name) + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/*
 * Runs the client next to this program with argv (NULL-terminated, argv[0]
 * ignored), stdout to /dev/null; its exit status, seconds and peak RSS.
 * The peak is the child's VmHWM read while it runs (every few ms):
 * ru_maxrss would count this process's pages, which a child holds until it
 * execs.
 */
static int
run_client_rusage(char *const argv[], double *secs, long *maxrss_kb)
{
	char exe[4096], path[4200], *slash;
	ssize_t el = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	double t0;
	pid_t pid;
	int ws = 0;

	*secs = 0;
	*maxrss_kb = 0;
	if (el < 0)
		return -1;
	exe[el] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	snprintf(path, sizeof(path), "%s/lodestone", exe);
	fflush(NULL);
	t0 = now_s();
	if ((pid = fork()) == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execv(path, argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (;;) {
		char comm[64] = "", cpath[64];
		FILE *f;
		long kb = 0;
		/* Before its exec the child is a copy of this process: skip that. */
		snprintf(cpath, sizeof(cpath), "/proc/%ld/comm", (long)pid);
		if ((f = fopen(cpath, "r")) != NULL) {
			if (fgets(comm, sizeof(comm), f) == NULL)
				comm[0] = '\0';
			fclose(f);
		}
		if (strcmp(comm, "lodestone\n") == 0)
			kb = status_kb(pid, "VmHWM");
		pid_t w = waitpid(pid, &ws, WNOHANG);
		if (w == pid)
			break;
		if (w < 0)
			return -1;
		if (kb > *maxrss_kb)
			*maxrss_kb = kb;
		usleep(2000);
	}
	*secs = now_s() - t0;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

static int
cmd_stream(int argc, char **argv)
{
	size_t n = 100000, chunk = 0, bad = 0;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *p = calloc(1, sizeof(*p));
	struct item *items = NULL;
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct ls_api *a = NULL;
	char dir[4096], data[4200], trust[4200], endpoint[4300], out[4200], lsd[4096];
	char chunk_arg[32], hex[LS_HEX_KEY_LEN + 1];
	bool have_dir = false, keep = false;
	uint8_t lot[LS_ID_LEN];
	pid_t pid = -1;
	double t_bundle = 0, t_verify = 0;
	long rss_client = 0, rss_verify = 0, rss_daemon = 0, anon_daemon = 0;
	struct stat sb;
	int c, rc, status = 1, ex;

	optind = 1;
	while ((c = getopt(argc, argv, "n:c:d:kh")) != -1) {
		switch (c) {
		case 'n':
			if (parse_size(optarg, "-n", 1, &n) != 0)
				return 2;
			break;
		case 'c':
			if (parse_size(optarg, "-c", 256, &chunk) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'k': keep = true; break;
		case 'h':
			printf(
			    "usage: lodestone-bench stream [-n ANCESTORS] [-c CHUNK] [-d DIR] "
			    "[-k]\n\n"
			    "Builds a lot with ANCESTORS ancestors (default 100000: a "
			    "registration\n"
			    "and a chain of transformations) in a store, starts lodestoned on it\n"
			    "(it logs them and signs a checkpoint), then `lodestone bundle` "
			    "streams\n"
			    "the lot's bundle with its log proof out of the daemon in chunks of\n"
			    "CHUNK bytes (default: the daemon's, 1 MiB) and `lodestone\n"
			    "verify-bundle` checks the file.\n"
			    "figures: stream_ancestors, stream_bundle_bytes, stream_over_old_cap\n"
			    "(1: over the old 16 MiB reply cap), stream_bundle_ms,\n"
			    "stream_client_rss_kb, stream_daemon_rss_kb (peak RSS of the client\n"
			    "and of the daemon), stream_verify_ms, stream_verify_exit,\n"
			    "stream_verify_rss_kb. -k keeps the directory (stream_dir).\n");
			return 0;
		default: return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	if (auth == NULL || p == NULL || (items = calloc(n + 1, sizeof(*items))) == NULL ||
	    daemon_path(lsd, sizeof(lsd)) != 0)
		goto out;
	crypto_sign_keypair(auth->pk, auth->sk);
	crypto_sign_keypair(p->pk, p->sk);
	if (make_cert_roles(auth, p, LS_ROLE_MINER | LS_ROLE_PROCESSOR, &items[0]) != 0 ||
	    make_chain(p, &items[1], n, lot) != 0)
		goto out;
	if (make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(trust, sizeof(trust), "%s/authority.pub", dir);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/api.sock", data);
	snprintf(out, sizeof(out), "%s/lot.bundle", dir);
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if (mkdir(data, 0700) != 0 || (rc = ls_store_open(data, &o, &s, &ctx)) != 0 ||
	    (rc = ingest_all(s, items, n + 1, DEFAULT_BATCH, &bad)) != 0 || bad != 0) {
		fprintf(stderr, "lodestone-bench: cannot build the chain\n");
		goto out;
	}
	ls_store_close(&s);
	if (write_pub(trust, auth->pk) != 0)
		goto out;
	snprintf(chunk_arg, sizeof(chunk_arg), "%zu", chunk);
	{
		char *dargv[] = {lsd,       "--data-dir",  data,   "--trust",
				 trust,     "--log-level", "warn", "--stream-chunk",
				 chunk_arg, NULL};
		if (chunk == 0)
			dargv[7] = NULL;
		if ((pid = spawn_daemon(lsd, dargv)) < 0 || wait_api(endpoint, &pid, &a) != 0)
			goto out;
	}
	ls_api_close(&a);
	ls_hex(lot, LS_ID_LEN, hex);
	{
		/* The client waits for the daemon's first checkpoint itself. */
		char *cargv[] = {"lodestone", "--api", endpoint, "bundle", hex, "-o", out, NULL};
		ex = run_client_rusage(cargv, &t_bundle, &rss_client);
	}
	rss_daemon = status_kb(pid, "VmHWM");
	anon_daemon = status_kb(pid, "RssAnon");
	if (ex != 0 || stat(out, &sb) != 0) {
		fprintf(stderr, "lodestone-bench: lodestone bundle exited %d\n", ex);
		goto out;
	}
	{
		char *vargv[] = {"lodestone", "verify-bundle", out, "--trust", trust, NULL};
		ex = run_client_rusage(vargv, &t_verify, &rss_verify);
	}
	printf("stream_ancestors %zu records\n", n);
	printf("stream_bundle_bytes %lld bytes\n", (long long)sb.st_size);
	printf("stream_over_old_cap %d flag\n", (size_t)sb.st_size > LS_API_RESPONSE_MAX);
	printf("stream_bundle_ms %.1f ms\n", t_bundle * 1000);
	printf("stream_client_rss_kb %ld kB\n", rss_client);
	printf("stream_daemon_rss_kb %ld kB\n", rss_daemon);
	printf("stream_daemon_anon_kb %ld kB\n", anon_daemon);
	printf("stream_verify_ms %.1f ms\n", t_verify * 1000);
	printf("stream_verify_exit %d status\n", ex);
	printf("stream_verify_rss_kb %ld kB\n", rss_verify);
	status = ex == 0 ? 0 : 1;
out:
	ls_api_close(&a);
	stop_child(&pid);
	ls_store_close(&s);
	if (have_dir && keep)
		printf("stream_dir %s\n", dir);
	else if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(items, n + 1);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (p != NULL)
		sodium_memzero(p, sizeof(*p));
	free(auth);
	free(p);
	return status;
}

/* ---- load: a fixed rate for a fixed time ---- */

static void
load_usage(FILE *fp)
{
	fprintf(fp, "usage: lodestone-bench load [-c CLIENTS] [-R RATE] [-t SECONDS] [-b BATCH] "
		    "[-d DIR]\n\n"
		    "Starts lodestoned on a new data dir; CLIENTS processes (default 4) submit\n"
		    "signed lot registrations at RATE records a second in all (default 10000),\n"
		    "BATCH per request (default 100), for SECONDS (default 300), each request\n"
		    "sent on its schedule (a client that falls behind sends at once, and stops at\n"
		    "the end all the same: the achieved rate is then the machine's). The\n"
		    "records are signed before the clock starts. The daemon's VmRSS and RssAnon\n"
		    "are sampled every second; afterwards its record count must be every\n"
		    "certificate and every acknowledged record.\n"
		    "figures: load_clients, load_rate_target, load_seconds, load_records_acked,\n"
		    "load_rate_achieved, load_errors, load_ack_p50_ms, load_ack_p99_ms,\n"
		    "load_ack_max_ms, load_rss_max_kib (VmRSS: with the file-backed map),\n"
		    "load_rss_anon_first_kib, load_rss_anon_last_kib, load_rss_anon_max_kib,\n"
		    "load_rss_anon_slope_kib_per_min (RssAnon, least squares over the second\n"
		    "half), load_records_stored, load_lost (acknowledged, not stored).\n");
}

/*
 * Client of the load run: submits items[0..n) in requests of `batch`, the
 * i-th request at start + i * interval (seconds), until `end`. Writes each
 * request's latency (ms, doubles) to lat_path, then the count of records
 * acknowledged (size_t) to ack_path. Exit 0, or 1 on an error (counted).
 */
static int
load_client(const char *endpoint, const struct item *items, size_t n, size_t batch, double start,
	    double interval, double end, const char *lat_path, const char *ack_path)
{
	struct ls_api *a = NULL;
	struct ls_err_ctx ctx = {{0}};
	const uint8_t **envs = calloc(batch, sizeof(*envs));
	size_t *lens = calloc(batch, sizeof(*lens));
	struct ls_ingest_result *res = calloc(batch, sizeof(*res));
	FILE *lat = fopen(lat_path, "wb"), *ack = NULL;
	size_t acked = 0, req = 0;
	int rc = 1;

	if (envs == NULL || lens == NULL || res == NULL || lat == NULL ||
	    ls_api_open(endpoint, 30000, &a, &ctx) != 0)
		goto out;
	for (size_t i = 0; i < n; i += batch, req++) {
		size_t m = n - i < batch ? n - i : batch;
		double due = start + (double)req * interval, t0 = now_s(), ms;
		/* the run ends at `end` also for a client that fell behind */
		if (due >= end || t0 >= end)
			break;
		if (due > t0) {
			struct timespec ts = {
			    (time_t)(due - t0),
			    (long)((due - t0 - (double)(time_t)(due - t0)) * 1e9)};
			nanosleep(&ts, NULL);
		}
		for (size_t j = 0; j < m; j++) {
			envs[j] = items[i + j].env;
			lens[j] = items[i + j].len;
		}
		t0 = now_s();
		if (ls_api_submit(a, envs, lens, m, res, &ctx) != 0)
			goto out;
		ms = (now_s() - t0) * 1000;
		if (fwrite(&ms, sizeof(ms), 1, lat) != 1)
			goto out;
		for (size_t j = 0; j < m; j++) {
			if (res[j].status != LS_INGEST_ACCEPTED) {
				fprintf(stderr, "lodestone-bench: load: %s\n", res[j].message);
				goto out;
			}
			acked++;
		}
	}
	rc = 0;
out:
	if (rc != 0 && ctx.msg[0])
		fprintf(stderr, "lodestone-bench: load: %s\n", ctx.msg);
	if (lat != NULL && fclose(lat) != 0)
		rc = 1;
	if ((ack = fopen(ack_path, "wb")) == NULL || fwrite(&acked, sizeof(acked), 1, ack) != 1 ||
	    fclose(ack) != 0)
		rc = 1;
	ls_api_close(&a);
	free(envs);
	free(lens);
	free(res);
	return rc;
}

/* Least-squares slope of y over x (per unit of x) of samples [from, n). */
static double
slope(const double *x, const double *y, size_t from, size_t n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, k = (double)(n - from);

	if (n < from + 2)
		return 0;
	for (size_t i = from; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	return (k * sxy - sx * sy) / (k * sxx - sx * sx);
}

static int
cmd_load(int argc, char **argv)
{
	size_t clients = 4, rate = 10000, seconds = 300, batch = 100, n, bad = 0, acked = 0;
	const char *parent = getenv("TMPDIR");
	struct signer *auth = calloc(1, sizeof(*auth)), *ms = NULL;
	struct item *certs = NULL, *lots = NULL;
	struct ls_api *a = NULL;
	struct ls_api_status st;
	char dir[4096], node[4200], endpoint[4300], daemon[4200], pubf[4300], lat[4300];
	pid_t dpid = -1, *pids = NULL;
	double *tx = NULL, *ry = NULL, start, end, p50 = 0, p99 = 0, maxlat = 0;
	size_t n_samples = 0, stored = 0;
	struct rss r, peak = {0};
	bool have_dir = false;
	int c, status = 1;

	optind = 1;
	while ((c = getopt(argc, argv, "c:R:t:b:d:h")) != -1) {
		switch (c) {
		case 'c':
			if (parse_range(optarg, "-c", 1, 64, &clients) != 0)
				return 2;
			break;
		case 'R':
			if (parse_range(optarg, "-R", 1, 1000000, &rate) != 0)
				return 2;
			break;
		case 't':
			if (parse_range(optarg, "-t", 1, 86400, &seconds) != 0)
				return 2;
			break;
		case 'b':
			if (parse_range(optarg, "-b", 1, LS_API_SUBMIT_MAX, &batch) != 0)
				return 2;
			break;
		case 'd': parent = optarg; break;
		case 'h': load_usage(stdout); return 0;
		default: load_usage(stderr); return 2;
		}
	}
	if (parent == NULL || *parent == '\0')
		parent = "/tmp";
	n = rate * seconds;
	if (daemon_path(daemon, sizeof(daemon)) != 0)
		goto out;
	if (auth == NULL || (ms = calloc(clients, sizeof(*ms))) == NULL ||
	    (certs = calloc(clients, sizeof(*certs))) == NULL ||
	    (lots = calloc(n, sizeof(*lots))) == NULL ||
	    (pids = calloc(clients, sizeof(*pids))) == NULL ||
	    (tx = calloc(seconds + 16, sizeof(*tx))) == NULL ||
	    (ry = calloc(seconds + 16, sizeof(*ry))) == NULL) {
		fprintf(stderr, "lodestone-bench: out of memory\n");
		goto out;
	}
	for (size_t k = 0; k < clients; k++)
		pids[k] = -1;
	if (make_feeds(auth, ms, certs, lots, clients, n) != 0 ||
	    make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	snprintf(node, sizeof(node), "%s/node", dir);
	snprintf(endpoint, sizeof(endpoint), "ipc://%s/api.sock", node);
	snprintf(pubf, sizeof(pubf), "%s/auth.pub", dir);
	snprintf(lat, sizeof(lat), "%s/lat", dir);
	if (write_pub(pubf, auth->pk) != 0)
		goto out;
	{
		char *args[] = {"lodestoned", "--data-dir",  node,    "--trust",
				pubf,         "--log-level", "error", NULL};
		if ((dpid = spawn_daemon(daemon, args)) < 0)
			goto out;
	}
	if (wait_api(endpoint, &dpid, &a) != 0 || submit_items(a, certs, clients) != 0)
		goto out;
	ls_api_close(&a); /* before the clients fork */
	fflush(NULL);
	start = now_s() + 0.5;
	end = start + (double)seconds;
	for (size_t k = 0, off = 0; k < clients; k++) {
		size_t cnt = client_share(n, clients, k);
		if ((pids[k] = fork()) == 0) {
			char lp[4400], ap[4400];
			snprintf(lp, sizeof(lp), "%s.%zu", lat, k);
			snprintf(ap, sizeof(ap), "%s/acked.%zu", dir, k);
			/* each client's requests spread evenly over its period */
			_exit(load_client(endpoint, lots + off, cnt, batch,
					  start + (double)k * (double)batch / (double)rate,
					  (double)batch * (double)clients / (double)rate, end, lp,
					  ap));
		}
		if (pids[k] < 0) {
			fprintf(stderr, "lodestone-bench: fork: %s\n", strerror(errno));
			goto out;
		}
		off += cnt;
	}
	/* RSS once a second until the clients are done */
	while (!reap_clients(pids, clients, false, &bad)) {
		double t = now_s();
		if (t >= start + (double)n_samples && n_samples < seconds + 16 &&
		    rss_read(dpid, &r) == 0) {
			tx[n_samples] = (t - start) / 60;
			/* the heap, not the file-backed map of data.mdb, which
			 * grows with the records as it must */
			ry[n_samples++] = (double)r.anon;
			rss_max(&peak, &r);
		}
		{
			struct timespec ts = {0, 20 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
	for (size_t k = 0; k < clients; k++) {
		char ap[4400];
		size_t x = 0;
		FILE *f;
		snprintf(ap, sizeof(ap), "%s/acked.%zu", dir, k);
		if ((f = fopen(ap, "rb")) != NULL) {
			if (fread(&x, sizeof(x), 1, f) == 1)
				acked += x;
			fclose(f);
		}
	}
	if (latencies(lat, clients, &p50, &p99, &maxlat) != 0)
		goto out;
	memset(&st, 0, sizeof(st));
	if (wait_api(endpoint, &dpid, &a) != 0 || ls_api_status(a, &st, NULL) != 0)
		goto out;
	stored = (size_t)st.stats.records;
	ls_api_status_release(&st);
	printf("load_clients %zu\n", clients);
	printf("load_rate_target %zu records/s\n", rate);
	printf("load_seconds %zu s\n", seconds);
	printf("load_records_acked %zu records\n", acked);
	printf("load_rate_achieved %.0f records/s\n", (double)acked / (double)seconds);
	printf("load_errors %zu clients\n", bad);
	printf("load_ack_p50_ms %.2f ms\n", p50);
	printf("load_ack_p99_ms %.2f ms\n", p99);
	printf("load_ack_max_ms %.2f ms\n", maxlat);
	printf("load_rss_max_kib %ld KiB\n", peak.total);
	printf("load_rss_anon_first_kib %.0f KiB\n", n_samples ? ry[0] : 0.0);
	printf("load_rss_anon_last_kib %.0f KiB\n", n_samples ? ry[n_samples - 1] : 0.0);
	printf("load_rss_anon_max_kib %ld KiB\n", peak.anon);
	printf("load_rss_anon_slope_kib_per_min %.1f KiB/min\n",
	       slope(tx, ry, n_samples / 2, n_samples));
	printf("load_records_stored %zu records\n", stored);
	printf("load_lost %zu records\n",
	       acked + clients > stored ? acked + clients - stored : (size_t)0);
	status = bad != 0 || stored != acked + clients ? 1 : 0;
	if (stored != acked + clients)
		fprintf(
		    stderr,
		    "lodestone-bench: load: the daemon stores %zu records, %zu certificates and "
		    "%zu acknowledged were sent\n",
		    stored, clients, acked);
out:
	ls_api_close(&a);
	for (size_t k = 0; pids != NULL && k < clients; k++)
		if (pids[k] > 0) {
			kill(pids[k], SIGTERM);
			waitpid(pids[k], NULL, 0);
		}
	stop_child(&dpid);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(certs, certs != NULL ? clients : 0);
	items_free(lots, lots != NULL ? n : 0);
	if (auth != NULL)
		sodium_memzero(auth, sizeof(*auth));
	if (ms != NULL)
		sodium_memzero(ms, clients * sizeof(*ms));
	free(auth);
	free(ms);
	free(pids);
	free(tx);
	free(ry);
	return status;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "lodestone-bench: cannot initialise libsodium\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "lodestone-bench: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}

/* ---- epcis: export and import rates against ingest ---- */

/* The import's resolver here: the id in a Lodestone URN (the records are
 * the ones just exported; a client asks its daemon instead). */
static int
epcis_same_id(void *arg, enum ls_epcis_ref kind, const char *uri, uint8_t out[LS_ID_LEN])
{
	const char *pre = kind == LS_EPCIS_REF_LOT ? "urn:lodestone:lot:" : "urn:lodestone:record:";

	(void)arg;
	if (strncmp(uri, pre, strlen(pre)) != 0 || ls_unhex(uri + strlen(pre), out, LS_ID_LEN) != 0)
		return LS_ERR_NOT_FOUND;
	return 0;
}

static void
epcis_usage(FILE *fp)
{
	fprintf(fp,
		"usage: lodestone-bench epcis [-n N] [-d DIR]\n"
		"  -n N    records of one miner's chain: a registration and N-1 transformations\n"
		"          (default 10000)\n"
		"  -d DIR  parent of the temporary store (default /tmp)\n"
		"Ingests the chain into a store, exports it as one EPCIS document (events with\n"
		"their CBV 2.0 hashes, serialized), parses the document and maps every event back\n"
		"to a record, signed (each the same record as before, checked).\n");
}

static int
cmd_epcis(int argc, char **argv)
{
	struct signer *auth = calloc(1, sizeof(*auth)), *p = calloc(1, sizeof(*p));
	struct ls_store *s = NULL;
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	struct item *items = NULL;
	const char *parent = "/tmp";
	char dir[4096], *text = NULL;
	json_t *doc = NULL, *pdoc = NULL, *events, *ev;
	size_t n = 10000, bad = 0, same = 0, i;
	uint8_t lot[LS_ID_LEN], prev[LS_ID_LEN];
	bool have_dir = false;
	double t0, t_ingest, t_export, t_import;
	int ch, status = 1, rc;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:d:h")) != -1) {
		switch (ch) {
		case 'n':
			if (parse_range(optarg, "-n", 2, 10000000, &n) != 0)
				goto out;
			break;
		case 'd': parent = optarg; break;
		case 'h':
			epcis_usage(stdout);
			status = 0;
			goto out;
		default:
			epcis_usage(stderr);
			status = 2;
			goto out;
		}
	}
	if (auth == NULL || p == NULL || (items = calloc(n + 1, sizeof(*items))) == NULL)
		goto out;
	crypto_sign_keypair(auth->pk, auth->sk);
	crypto_sign_keypair(p->pk, p->sk);
	if (make_cert_roles(auth, p, LS_ROLE_MINER | LS_ROLE_PROCESSOR, &items[0]) != 0 ||
	    make_chain(p, &items[1], n, lot) != 0 || make_tmpdir(parent, dir, sizeof(dir)) != 0)
		goto out;
	have_dir = true;
	memset(&o, 0, sizeof(o));
	o.anchors = (const uint8_t(*)[LS_KEY_LEN])auth->pk;
	o.n_anchors = 1;
	if ((rc = ls_store_open(dir, &o, &s, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: %s\n", ls_err_msg(&ctx, rc));
		goto out;
	}
	t0 = now_s();
	if (ingest_all(s, items, n + 1, DEFAULT_BATCH, &bad) != 0 || bad != 0)
		goto out;
	t_ingest = now_s() - t0;

	/* export: decode, event (with its hash), one document serialized */
	t0 = now_s();
	doc = ls_epcis_doc_new(FIXED_TIME);
	events = ls_epcis_doc_events(doc);
	for (i = 1; i <= n; i++) {
		struct ls_record *r;
		if (ls_record_decode(items[i].env, items[i].len, &r, &ctx) != 0 ||
		    ls_epcis_event_new(r, NULL, &ev, &ctx) != 0) {
			fprintf(stderr, "lodestone-bench: export: %s\n", ctx.msg);
			goto out;
		}
		ls_record_free(r);
		json_array_append_new(events, ev);
	}
	if ((text = json_dumps(doc, JSON_REAL_PRECISION(15))) == NULL)
		goto out;
	t_export = now_s() - t0;

	/* import: parse, map each event to its record, sign */
	t0 = now_s();
	if ((rc = ls_epcis_doc_parse(text, strlen(text), &pdoc, &events, &ctx)) != 0) {
		fprintf(stderr, "lodestone-bench: import: %s\n", ctx.msg);
		goto out;
	}
	memset(prev, 0, sizeof(prev));
	json_array_foreach(events, i, ev)
	{
		struct ls_epcis_import im;
		struct ls_record *orig = NULL;
		uint8_t *env = NULL;
		size_t len = 0;
		if (ls_epcis_import_event(ev, epcis_same_id, NULL, &im, &ctx) != 0) {
			fprintf(stderr, "lodestone-bench: import: event %zu: %s\n", i + 1, ctx.msg);
			goto out;
		}
		memcpy(im.r->author, p->pk, LS_KEY_LEN);
		im.r->seq = i + 1;
		im.r->has_prev = i > 0;
		memcpy(im.r->prev, prev, LS_ID_LEN);
		im.r->has_cert = true;
		memcpy(im.r->cert_id, p->cert, LS_ID_LEN);
		rc = ls_record_sign(im.r, p->sk, &ctx);
		if (rc == 0)
			rc = ls_record_envelope(im.r, &env, &len);
		free(env);
		if (rc == 0 &&
		    ls_record_decode(items[i + 1].env, items[i + 1].len, &orig, NULL) == 0 &&
		    memcmp(orig->id, im.r->id, LS_ID_LEN) == 0)
			same++;
		ls_record_free(orig);
		memcpy(prev, im.r->id, LS_ID_LEN);
		ls_epcis_import_release(&im);
		if (rc != 0)
			goto out;
	}
	t_import = now_s() - t0;
	printf("epcis_records %zu records\n", n);
	printf("epcis_document %zu bytes\n", strlen(text));
	printf("epcis_ingest %.0f records/s\n", (double)(n + 1) / t_ingest);
	printf("epcis_export %.0f events/s\n", (double)n / t_export);
	printf("epcis_import %.0f events/s\n", (double)n / t_import);
	printf("epcis_export_vs_ingest %.2f x\n",
	       ((double)n / t_export) / ((double)(n + 1) / t_ingest));
	printf("epcis_import_vs_ingest %.2f x\n",
	       ((double)n / t_import) / ((double)(n + 1) / t_ingest));
	printf("epcis_roundtrip_same %zu records\n", same);
	status = same == n ? 0 : 1;
	if (same != n)
		fprintf(stderr, "lodestone-bench: %zu of %zu records came back different\n",
			n - same, n);
out:
	json_decref(doc);
	json_decref(pdoc);
	free(text);
	ls_store_close(&s);
	if (have_dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	items_free(items, items != NULL ? n + 1 : 0);
	free(auth);
	free(p);
	return status;
}
