/*
 * helper_fixture.c - see helper_fixture.h.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "api.h"
#include "helper_fixture.h"
#include "util.h"

/* ---- time and programs ---- */

unsigned
fx_time_scale(void)
{
	const char *v = getenv("LS_TEST_TIME_SCALE");
	char *end;
	unsigned long n;

	if (v != NULL && *v != '\0') {
		errno = 0;
		n = strtoul(v, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 1 && n <= 1000)
			return (unsigned)n;
		fprintf(stderr,
			"fx_time_scale: LS_TEST_TIME_SCALE '%s' is not 1 to 1000: using 1\n", v);
		return 1;
	}
	return RUNNING_ON_VALGRIND ? 20 : 1;
}

uint64_t
fx_scaled_ms(uint64_t ms)
{
	return ms * fx_time_scale();
}

static char bin_dir[PATH_MAX];
static pthread_once_t bin_dir_once = PTHREAD_ONCE_INIT;

static void
bin_dir_init(void)
{
	const char *b = getenv("LODESTONE_BIN");
	char exe[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(bin_dir, sizeof(bin_dir), "build/bin");
	if (b != NULL && *b != '\0') {
		if ((size_t)snprintf(bin_dir, sizeof(bin_dir), "%s", b) >= sizeof(bin_dir))
			snprintf(bin_dir, sizeof(bin_dir), "build/bin");
		return;
	}
	/* BUILD/tests/NAME -> BUILD/bin */
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return;
	exe[n] = '\0';
	for (int i = 0; i < 2; i++) {
		if ((slash = strrchr(exe, '/')) == NULL)
			return;
		*slash = '\0';
	}
	if ((size_t)snprintf(bin_dir, sizeof(bin_dir), "%s/bin", exe) >= sizeof(bin_dir))
		snprintf(bin_dir, sizeof(bin_dir), "build/bin");
}

const char *
fx_bin_dir(void)
{
	pthread_once(&bin_dir_once, bin_dir_init);
	return bin_dir;
}

bool
fx_program(const char *name, char *out, size_t cap)
{
	if ((size_t)snprintf(out, cap, "%s/%s", fx_bin_dir(), name) >= cap) {
		fprintf(stderr, "fx_program: path of %s too long\n", name);
		return false;
	}
	if (access(out, X_OK) != 0) {
		fprintf(stderr, "fx_program: no %s: %s\n", out, strerror(errno));
		return false;
	}
	return true;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool
fx_daemon_ready(const char *endpoint)
{
	uint64_t end = mono_ms() + fx_scaled_ms(5000);

	do {
		struct ls_api *a = NULL;
		struct ls_api_status st;
		int rc = ls_api_open(endpoint, (int)fx_scaled_ms(500), &a, NULL);
		if (rc == 0)
			rc = ls_api_status(a, &st, NULL);
		ls_api_close(&a);
		if (rc == 0) {
			ls_api_status_release(&st);
			return true;
		}
		usleep(25000);
	} while (mono_ms() < end);
	return false;
}

/* ---- temporary directories ---- */

char *
fx_tmpdir(void)
{
	const char *tmp = getenv("TMPDIR");
	size_t n;
	char *p;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	n = strlen(tmp) + sizeof("/lodestone-test.XXXXXX");
	if ((p = malloc(n)) == NULL)
		return NULL;
	snprintf(p, n, "%s/lodestone-test.XXXXXX", tmp);
	if (mkdtemp(p) == NULL) {
		fprintf(stderr, "fx_tmpdir: cannot make '%s': %s\n", p, strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int
fx_rmtree(const char *path)
{
	if (path == NULL)
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- actors ---- */

struct fx_actor *
fx_actor_new(const char *country)
{
	struct fx_actor *a;

	if (sodium_init() < 0)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	if (ls_key_generate(&a->kp) != 0) {
		free(a);
		return NULL;
	}
	a->ts = FX_T0;
	snprintf(a->country, sizeof(a->country), "%s", country != NULL ? country : "CN");
	return a;
}

void
fx_actor_free(struct fx_actor **a)
{
	if (a == NULL || *a == NULL)
		return;
	ls_key_free(&(*a)->kp);
	free(*a);
	*a = NULL;
}

struct fx_mark
fx_mark(const struct fx_actor *a)
{
	struct fx_mark m;

	m.seq = a->seq;
	memcpy(m.head, a->head, sizeof(m.head));
	m.ts = a->ts;
	return m;
}

void
fx_rewind(struct fx_actor *a, const struct fx_mark *m)
{
	a->seq = m->seq;
	memcpy(a->head, m->head, sizeof(a->head));
	a->ts = m->ts;
}

/* ---- envelopes ---- */

void
fx_env_release(struct fx_env *e)
{
	if (e == NULL)
		return;
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

int
fx_sign(struct fx_actor *a, struct ls_record *r, struct fx_env *out)
{
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(r->author, a->kp->pk, LS_KEY_LEN);
	r->seq = a->seq + 1;
	r->has_prev = r->seq > 1;
	if (r->has_prev)
		memcpy(r->prev, a->head, LS_ID_LEN);
	r->timestamp = a->ts;
	r->has_cert = a->has_cert;
	if (a->has_cert)
		memcpy(r->cert_id, a->cert_id, LS_ID_LEN);
	if ((rc = ls_record_sign(r, a->kp->sk, &ctx)) != 0) {
		fprintf(stderr, "fx_sign: %s record: %s\n", ls_rtype_name(r->type),
			ls_err_msg(&ctx, rc));
		return rc;
	}
	if ((rc = ls_record_envelope(r, &out->buf, &out->len)) != 0) {
		fprintf(stderr, "fx_sign: envelope: %s\n", ls_strerror(rc));
		return rc;
	}
	memcpy(out->id, r->id, LS_ID_LEN);
	out->type = r->type;
	out->seq = r->seq;
	a->seq = r->seq;
	memcpy(a->head, r->id, LS_ID_LEN);
	a->ts += a->ts_step;
	return 0;
}

/* Signs r as a and frees r: the tail of every builder. */
static struct fx_env
sign_free(struct fx_actor *a, struct ls_record *r)
{
	struct fx_env e;

	memset(&e, 0, sizeof(e));
	if (r != NULL)
		fx_sign(a, r, &e);
	ls_record_free(r);
	return e;
}

static struct ls_record *
new_record(enum ls_rtype type)
{
	struct ls_record *r = ls_record_new(type);

	if (r == NULL)
		fprintf(stderr, "fx: out of memory\n");
	return r;
}

/* Splits "a,b,c" into r's arena. false when out of memory or too many. */
static bool
split_list(struct ls_record *r, const char *s, struct ls_strlist *l)
{
	const char **v;
	size_t n = 0;
	const char *p;

	l->n = 0;
	l->v = NULL;
	if (s == NULL || *s == '\0')
		return true;
	for (p = s; *p != '\0'; p++)
		n += *p == ',';
	n++;
	if ((v = ls_record_alloc(r, n * sizeof(*v))) == NULL)
		return false;
	n = 0;
	for (p = s;; p++) {
		size_t k = strcspn(p, ",");
		char *item = ls_record_alloc(r, k + 1);
		if (item == NULL)
			return false;
		memcpy(item, p, k);
		item[k] = '\0';
		v[n++] = item;
		p += k;
		if (*p != ',')
			break;
	}
	l->n = n;
	l->v = v;
	return true;
}

static struct ls_keylist
keylist(const uint8_t (*v)[32], size_t n)
{
	struct ls_keylist l = {n, v};
	return l;
}

static bool
set_comp(struct ls_comp *c, const char *s)
{
	struct ls_err_ctx ctx = {{0}};

	memset(c, 0, sizeof(*c));
	if (s == NULL || *s == '\0')
		return true;
	if (ls_comp_parse(s, c, &ctx) != 0) {
		fprintf(stderr, "fx: %s\n", ctx.msg);
		return false;
	}
	return true;
}

/* ---- builders ---- */

struct fx_env
fx_cert_key(struct fx_actor *authority, const uint8_t subject[32], const char *org,
	    const char *country, uint32_t roles, uint64_t from, uint64_t until)
{
	struct ls_record *r = new_record(LS_REC_CERTIFICATE);

	if (r != NULL) {
		memcpy(r->certificate.subject, subject, LS_KEY_LEN);
		r->certificate.org = ls_record_strdup(r, org != NULL ? org : "Test Org");
		snprintf(r->certificate.country, sizeof(r->certificate.country), "%s",
			 country != NULL ? country : "CN");
		r->certificate.roles = roles;
		r->certificate.valid_from = from;
		r->certificate.valid_until = until;
	}
	return sign_free(authority, r);
}

struct fx_env
fx_cert(struct fx_actor *authority, struct fx_actor *subject, const char *org, const char *country,
	uint32_t roles, uint64_t from, uint64_t until)
{
	struct fx_env e =
	    fx_cert_key(authority, subject->kp->pk, org,
			country != NULL ? country : subject->country, roles, from, until);

	if (e.buf != NULL) {
		memcpy(subject->cert_id, e.id, LS_ID_LEN);
		subject->has_cert = true;
	}
	return e;
}

struct fx_env
fx_revoke(struct fx_actor *author, const uint8_t subject[32], uint64_t effective)
{
	struct ls_record *r = new_record(LS_REC_REVOCATION);

	if (r != NULL) {
		memcpy(r->revocation.subject, subject, 32);
		r->revocation.effective = effective;
		r->revocation.reason = ls_record_strdup(r, "test revocation");
	}
	return sign_free(author, r);
}

struct fx_env
fx_lot(struct fx_actor *miner, const char *label, const char *site, const char *country,
       const char *category, uint64_t grams, const char *comp)
{
	return fx_lot_value(miner, label, site, country, category, grams, comp, 0);
}

struct fx_env
fx_lot_value(struct fx_actor *miner, const char *label, const char *site, const char *country,
	     const char *category, uint64_t grams, const char *comp, uint64_t value)
{
	struct ls_record *r = new_record(LS_REC_LOT);

	if (r != NULL) {
		struct ls_lot_registration *l = &r->lot;
		l->lot.label = ls_record_strdup(r, label);
		l->lot.category = ls_record_strdup(r, category);
		l->lot.grams = grams;
		l->lot.value = value;
		l->site = ls_record_strdup(r, site != NULL ? site : "test site");
		snprintf(l->country, sizeof(l->country), "%s",
			 country != NULL ? country : miner->country);
		if (!set_comp(&l->lot.comp, comp)) {
			ls_record_free(r);
			r = NULL;
		}
	}
	return sign_free(miner, r);
}

/* Parses "label:category:grams:composition" into d (strings in r's arena). */
static bool
parse_output(struct ls_record *r, const char *spec, struct ls_lotdef *d)
{
	char buf[512], *label, *cat, *grams, *comp, *end;

	if (strlen(spec) >= sizeof(buf))
		return false;
	strcpy(buf, spec);
	label = buf;
	if ((cat = strchr(label, ':')) == NULL)
		return false;
	*cat++ = '\0';
	if ((grams = strchr(cat, ':')) == NULL)
		return false;
	*grams++ = '\0';
	if ((comp = strchr(grams, ':')) != NULL)
		*comp++ = '\0';
	d->label = ls_record_strdup(r, label);
	d->category = ls_record_strdup(r, cat);
	d->grams = strtoull(grams, &end, 10);
	if (*end != '\0' || d->label == NULL || d->category == NULL)
		return false;
	return set_comp(&d->comp, comp);
}

struct fx_env
fx_transform(struct fx_actor *p, const struct ls_lot_input *inputs, size_t n_inputs,
	     const char *const *outputs, size_t n_outputs)
{
	return fx_transform_value(p, inputs, n_inputs, outputs, NULL, n_outputs);
}

struct fx_env
fx_transform_value(struct fx_actor *p, const struct ls_lot_input *inputs, size_t n_inputs,
		   const char *const *outputs, const uint64_t *values, size_t n_outputs)
{
	struct ls_record *r = new_record(LS_REC_TRANSFORMATION);
	struct ls_lot_input *in;
	struct ls_lotdef *out;

	if (r == NULL)
		return sign_free(p, r);
	in = ls_record_alloc(r, n_inputs * sizeof(*in));
	out = ls_record_alloc(r, n_outputs * sizeof(*out));
	if (in == NULL || out == NULL)
		goto fail;
	memcpy(in, inputs, n_inputs * sizeof(*in));
	for (size_t i = 0; i < n_outputs; i++) {
		if (!parse_output(r, outputs[i], &out[i])) {
			fprintf(stderr, "fx_transform: bad output '%s'\n", outputs[i]);
			goto fail;
		}
		if (values != NULL)
			out[i].value = values[i];
	}
	r->transformation.n_inputs = n_inputs;
	r->transformation.inputs = in;
	r->transformation.n_outputs = n_outputs;
	r->transformation.outputs = out;
	r->transformation.site = ls_record_strdup(r, "test plant");
	return sign_free(p, r);
fail:
	ls_record_free(r);
	return sign_free(p, NULL);
}

static struct ls_record *
transfer_record(const struct fx_actor *receiver, const uint8_t *license, const char *end_use)
{
	struct ls_record *r = new_record(LS_REC_TRANSFER);

	if (r == NULL)
		return NULL;
	memcpy(r->transfer.to, receiver->kp->pk, LS_KEY_LEN);
	memcpy(r->transfer.to_cert, receiver->cert_id, LS_ID_LEN);
	r->transfer.has_license = license != NULL;
	if (license != NULL)
		memcpy(r->transfer.license, license, LS_ID_LEN);
	r->transfer.end_use = ls_record_strdup(r, end_use != NULL ? end_use : "");
	r->transfer.description = ls_record_strdup(r, "");
	r->transfer.tech = ls_record_strdup(r, "");
	return r;
}

/*
 * The dates of the transfers built here, so that a receipt is never dated
 * before the transfer it receives (a consensus rule): fx_receipt moves the
 * receiver's clock up to the transfer's date when it is behind.
 */
#define SENT_MAX 4096
static struct {
	uint8_t id[LS_ID_LEN];
	uint64_t ts;
} sent[SENT_MAX];
static size_t n_sent;

/* ts: the sender's clock after signing (it moved by ts_step at most); the
 * transfer is dated at or before it. */
static struct fx_env
note_sent(struct fx_env e, uint64_t ts)
{
	if (e.buf != NULL) {
		memcpy(sent[n_sent % SENT_MAX].id, e.id, LS_ID_LEN);
		sent[n_sent % SENT_MAX].ts = ts;
		n_sent++;
	}
	return e;
}

static void
not_before_sent(struct fx_actor *receiver, const uint8_t transfer_id[LS_ID_LEN])
{
	for (size_t i = 0; i < SENT_MAX && i < n_sent; i++)
		if (memcmp(sent[i].id, transfer_id, LS_ID_LEN) == 0 && receiver->ts < sent[i].ts)
			receiver->ts = sent[i].ts;
}

struct fx_env
fx_transfer(struct fx_actor *sender, const uint8_t lot[32], uint64_t grams,
	    const struct fx_actor *receiver, const uint8_t *license, const char *end_use)
{
	struct ls_record *r = transfer_record(receiver, license, end_use);

	if (r != NULL) {
		r->transfer.has_lot = true;
		memcpy(r->transfer.lot, lot, LS_ID_LEN);
		r->transfer.grams = grams;
	}
	return note_sent(sign_free(sender, r), sender->ts);
}

struct fx_env
fx_transfer_tech(struct fx_actor *sender, const char *tech, const struct fx_actor *receiver,
		 const uint8_t *license, const char *end_use)
{
	struct ls_record *r = transfer_record(receiver, license, end_use);

	if (r != NULL)
		r->transfer.tech = ls_record_strdup(r, tech);
	return note_sent(sign_free(sender, r), sender->ts);
}

struct fx_env
fx_receipt(struct fx_actor *receiver, const uint8_t transfer_id[32], uint64_t grams)
{
	struct ls_record *r = new_record(LS_REC_RECEIPT);

	if (r != NULL) {
		memcpy(r->receipt.transfer, transfer_id, LS_ID_LEN);
		r->receipt.grams = grams;
	}
	not_before_sent(receiver, transfer_id);
	return sign_free(receiver, r);
}

struct fx_env
fx_receipt_why(struct fx_actor *author, const uint8_t named[32], uint64_t grams, const char *reason)
{
	struct ls_record *r = new_record(LS_REC_RECEIPT);

	if (r != NULL) {
		memcpy(r->receipt.transfer, named, LS_ID_LEN);
		r->receipt.grams = grams;
		if (reason != NULL && (r->receipt.reason = ls_record_strdup(r, reason)) == NULL) {
			ls_record_free(r);
			r = NULL;
		}
	}
	not_before_sent(author, named);
	return sign_free(author, r);
}

struct fx_env
fx_license(struct fx_actor *authority, const struct fx_license_spec *spec)
{
	struct ls_record *r = new_record(LS_REC_LICENSE);
	struct ls_license *l;

	if (r == NULL)
		return sign_free(authority, r);
	l = &r->license;
	l->number = ls_record_strdup(r, spec->number != NULL ? spec->number : "LIC-1");
	if (spec->licensee != NULL)
		memcpy(l->licensee, spec->licensee, LS_KEY_LEN);
	l->general = spec->general;
	l->max_grams = spec->max_grams;
	l->has_end_user = spec->end_user != NULL;
	if (spec->end_user != NULL)
		memcpy(l->end_user, spec->end_user, LS_KEY_LEN);
	l->end_use = ls_record_strdup(r, spec->end_use != NULL ? spec->end_use : "civilian");
	l->valid_from = spec->valid_from;
	l->valid_until = spec->valid_until;
	l->no_military = spec->no_military;
	if (!split_list(r, spec->items, &l->items) ||
	    !split_list(r, spec->destinations, &l->destinations) ||
	    !split_list(r, spec->no_reexport_to, &l->no_reexport_to)) {
		ls_record_free(r);
		r = NULL;
	}
	return sign_free(authority, r);
}

struct fx_env
fx_policy(struct fx_actor *authority, const struct fx_policy_spec *spec)
{
	struct ls_record *r = new_record(LS_REC_POLICY);
	struct ls_strlist els = {0, NULL};
	struct ls_policy *p;

	if (r == NULL)
		return sign_free(authority, r);
	p = &r->policy;
	snprintf(p->jurisdiction, sizeof(p->jurisdiction), "%s",
		 spec->jurisdiction != NULL ? spec->jurisdiction : authority->country);
	p->name = ls_record_strdup(r, spec->name != NULL ? spec->name : "test policy");
	p->effective_from = spec->effective_from;
	p->effective_until = spec->effective_until;
	p->de_minimis_ppm = spec->de_minimis_ppm;
	p->de_minimis_basis = spec->basis_value ? LS_BASIS_VALUE : LS_BASIS_MASS;
	p->applies_to_reexport = spec->applies_to_reexport;
	p->applies_to_foreign_tech = spec->applies_to_foreign_tech;
	p->denied_end_user_keys = keylist(spec->denied_end_user_keys, spec->n_denied_end_user_keys);
	p->supersedes = keylist(spec->supersedes, spec->n_supersedes);
	if (!split_list(r, spec->elements, &els) ||
	    !split_list(r, spec->controlled_categories, &p->controlled_categories) ||
	    !split_list(r, spec->controlled_tech, &p->controlled_tech) ||
	    !split_list(r, spec->exempt_categories, &p->exempt_categories) ||
	    !split_list(r, spec->denied_end_uses, &p->denied_end_uses) ||
	    !split_list(r, spec->denied_end_user_names, &p->denied_end_user_names) ||
	    els.n > LS_LIST_MAX)
		goto fail;
	for (size_t i = 0; i < els.n; i++) {
		p->elements[i] = ls_element_z(els.v[i]);
		if (p->elements[i] == 0) {
			fprintf(stderr, "fx_policy: unknown element '%s'\n", els.v[i]);
			goto fail;
		}
	}
	p->n_elements = els.n;
	return sign_free(authority, r);
fail:
	ls_record_free(r);
	return sign_free(authority, NULL);
}

/* ---- stores and ingest ---- */

int
fx_store_open(const char *dir, const struct fx_actor *anchor, size_t map_size,
	      struct ls_store **out)
{
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memset(&o, 0, sizeof(o));
	if (anchor != NULL) {
		o.anchors = (const uint8_t(*)[LS_KEY_LEN])anchor->kp->pk;
		o.n_anchors = 1;
	}
	o.map_size = map_size;
	if ((rc = ls_store_open(dir, &o, out, &ctx)) != 0)
		fprintf(stderr, "fx_store_open: %s\n", ls_err_msg(&ctx, rc));
	return rc;
}

int
fx_bundle_store_open(const char *dir, const struct fx_actor *anchor, struct ls_store **out)
{
	struct ls_store_opts o;
	struct ls_err_ctx ctx = {{0}};
	int rc;

	memset(&o, 0, sizeof(o));
	if (anchor != NULL) {
		o.anchors = (const uint8_t(*)[LS_KEY_LEN])anchor->kp->pk;
		o.n_anchors = 1;
	}
	o.bundle_check = true;
	if ((rc = ls_store_open(dir, &o, out, &ctx)) != 0)
		fprintf(stderr, "fx_bundle_store_open: %s\n", ls_err_msg(&ctx, rc));
	return rc;
}

int
fx_ingest_one(struct ls_store *s, const uint8_t *env, size_t len, struct ls_ingest_result *res)
{
	const uint8_t *envs[1] = {env};
	size_t lens[1] = {len};
	struct ls_ingest_result tmp;

	return ls_store_ingest(s, envs, lens, 1, res != NULL ? res : &tmp, NULL);
}

int
fx_submit_one(struct ls_store *s, const uint8_t *env, size_t len, struct ls_ingest_result *res)
{
	const uint8_t *envs[1] = {env};
	size_t lens[1] = {len};
	uint8_t admit[1] = {LS_ADMIT_LOCAL};
	struct ls_ingest_result tmp;

	return ls_store_ingest_admit(s, envs, lens, admit, 1, res != NULL ? res : &tmp, NULL);
}

int
fx_ingest(struct ls_store *s, const struct fx_env *envs, size_t n, struct ls_ingest_result *res)
{
	const uint8_t **e = calloc(n ? n : 1, sizeof(*e));
	size_t *l = calloc(n ? n : 1, sizeof(*l));
	struct ls_ingest_result *r = res != NULL ? res : calloc(n ? n : 1, sizeof(*r));
	int rc = LS_ERR_NOMEM;

	if (e != NULL && l != NULL && r != NULL) {
		for (size_t i = 0; i < n; i++) {
			e[i] = envs[i].buf;
			l[i] = envs[i].len;
		}
		rc = ls_store_ingest(s, e, l, n, r, NULL);
	}
	if (r != res)
		free(r);
	free(e);
	free(l);
	return rc;
}

const char *
fx_status_name(enum ls_ingest_status st)
{
	switch (st) {
	case LS_INGEST_ACCEPTED: return "accepted";
	case LS_INGEST_KNOWN: return "known";
	case LS_INGEST_PENDING: return "pending";
	case LS_INGEST_REJECTED: return "rejected";
	}
	return "unknown";
}

int
fx_idset_add(void *arg, uint64_t pos, const struct ls_record *r, const uint8_t *env, size_t len)
{
	struct fx_idset *set = arg;
	uint8_t(*nv)[LS_ID_LEN] = realloc(set->v, (set->n + 1) * LS_ID_LEN);

	(void)pos;
	(void)env;
	(void)len;
	if (nv == NULL)
		return LS_ERR_NOMEM;
	set->v = nv;
	memcpy(set->v[set->n++], r->id, LS_ID_LEN);
	return 0;
}

int
fx_id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, LS_ID_LEN);
}

int
fx_stored_set(struct ls_store *s, struct fx_idset *out)
{
	int rc;

	out->v = NULL;
	out->n = 0;
	if ((rc = ls_store_log(s, NULL, fx_idset_add, out)) != 0) {
		free(out->v);
		out->v = NULL;
		out->n = 0;
		return rc;
	}
	qsort(out->v, out->n, LS_ID_LEN, fx_id_cmp);
	return 0;
}
