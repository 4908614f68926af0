/*
 * api_codec.c - the API codec: requests and responses between plain C
 * structs and api.proto bytes. The only file that touches the generated
 * api.proto types; the client (api_client.c) and the daemon use it.
 *
 * Untrusted bytes are size-checked, unpacked with a budgeted allocator, every
 * field is checked and copied into plain structs, and the unpacked message is
 * freed before returning. Encoding builds the protobuf-c tree from borrowed
 * pointers in a scratch pool that is freed once the bytes are packed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "api_codec.h"
#include "api.pb-c.h"
#include "pbuf_int.h"
#include "reason.h"

/* ---- budgeted allocator for unpacking untrusted bytes ---- */

/*
 * protobuf-c copies every bytes field and allocates a struct per
 * sub-message: a few times the input, more for tiny repeated messages.
 */
#define UNPACK_BUDGET(len) (8 * (len) + 1024 * 1024)

/* ---- scratch pool for encoding ---- */

struct pool {
	void **blocks;
	size_t n, cap;
	bool failed;
};

static void *
pool_alloc(struct pool *p, size_t count, size_t size)
{
	void *m;

	if (p->failed)
		return NULL;
	if (count == 0)
		count = 1;
	if (size != 0 && count > SIZE_MAX / size)
		goto fail;
	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 16;
		void **nb = realloc(p->blocks, ncap * sizeof(*nb));
		if (nb == NULL)
			goto fail;
		p->blocks = nb;
		p->cap = ncap;
	}
	if ((m = calloc(count, size ? size : 1)) == NULL)
		goto fail;
	p->blocks[p->n++] = m;
	return m;
fail:
	p->failed = true;
	return NULL;
}

static void
pool_release(struct pool *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->blocks[i]);
	free(p->blocks);
	memset(p, 0, sizeof(*p));
}

/* Packs m into a malloc'd buffer of at most max bytes. */
static int
pack(const ProtobufCMessage *m, size_t max, uint8_t **buf, size_t *len, struct ls_err_ctx *ctx)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *b;

	if (n > max)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "message of %zu bytes is over %zu", n, max);
	if ((b = malloc(n ? n : 1)) == NULL)
		return LS_ERR_NOMEM;
	if (protobuf_c_message_pack(m, b) != n) {
		free(b);
		return ls_err_set(ctx, LS_ERR_INVALID, "message does not pack");
	}
	*buf = b;
	*len = n;
	return 0;
}

static ProtobufCBinaryData
bin(const uint8_t *p, size_t n)
{
	ProtobufCBinaryData b = {n, (uint8_t *)p};
	return b;
}

/* Optional strings are left out when empty. */
static char *
ostr(const char *s)
{
	return s != NULL && *s != '\0' ? (char *)s : NULL;
}

/* ---- checks of unpacked fields ---- */

static int
check_bin(const ProtobufCBinaryData *b, size_t want, const char *field, struct ls_err_ctx *ctx)
{
	if (b->len != want || b->data == NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is %zu bytes, not %zu", field, b->len,
				  want);
	return 0;
}

static int
copy_key(uint8_t *dst, const ProtobufCBinaryData *b, const char *field, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_bin(b, LS_KEY_LEN, field, ctx)) != 0)
		return rc;
	memcpy(dst, b->data, LS_KEY_LEN);
	return 0;
}

/* A name, label or endpoint: at most max bytes, no control characters. */
static int
check_str(const char *s, size_t max, bool required, const char *field, struct ls_err_ctx *ctx)
{
	size_t n;

	if (s == NULL || *s == '\0') {
		if (required)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is empty", field);
		return 0;
	}
	n = strlen(s);
	if (n > max)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is longer than %zu bytes", field, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has a control character",
					  field);
	return 0;
}

/* Copies a message for people into dst, truncated, control characters
 * replaced, so that it is safe to print on a terminal. */
static void
copy_msg(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < cap; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[i] = '\0';
}

/* An id prefix: 8 to 64 hex digits. */
static int
check_prefix(const char *s, const char *field, struct ls_err_ctx *ctx)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n < 8 || n > 2 * LS_ID_LEN)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is not 8 to 64 hex digits", field);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has a character not hex",
					  field);
	return 0;
}

static int
check_count(size_t n, size_t max, const char *field, struct ls_err_ctx *ctx)
{
	if (n > max)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "%s has %zu entries, over %zu", field, n,
				  max);
	return 0;
}

static int
check_grams(uint64_t g, const char *field, struct ls_err_ctx *ctx)
{
	if (g > LS_GRAMS_MAX)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s %llu is over 10^15", field,
				  (unsigned long long)g);
	return 0;
}

static int
parse_reason(const char *code, enum ls_reason *out, const char *field, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_str(code, 64, true, field, ctx)) != 0)
		return rc;
	for (int r = 0; r < LS_R_COUNT; r++)
		if (strcmp(code, ls_reason_code((enum ls_reason)r)) == 0) {
			*out = (enum ls_reason)r;
			return 0;
		}
	/* A code of a newer daemon: ls_reason_code() shows it as "unknown". */
	*out = LS_R_COUNT;
	return 0;
}

/* ---- names ---- */

static const char *const kind_names[LS_API_KIND_COUNT] = {
    [LS_API_NONE] = "none",     [LS_API_SUBMIT] = "submit",     [LS_API_HEAD] = "head",
    [LS_API_GET] = "get",       [LS_API_RESOLVE] = "resolve",   [LS_API_CERT_OF] = "cert-of",
    [LS_API_VERIFY] = "verify", [LS_API_ORIGIN] = "origin",     [LS_API_TRACE] = "trace",
    [LS_API_LOG] = "log",       [LS_API_STATUS] = "status",     [LS_API_BUNDLE] = "bundle",
    [LS_API_NEXT] = "next",     [LS_API_HOLDINGS] = "holdings", [LS_API_CHECKPOINT] = "checkpoint",
    [LS_API_PROVE] = "prove",
};

const char *
ls_api_kind_name(enum ls_api_kind k)
{
	if ((unsigned)k >= LS_API_KIND_COUNT)
		return "unknown";
	return kind_names[k];
}

/* ---- requests ---- */

int
ls_api_request_encode(const struct ls_api_request *req, uint8_t **buf, size_t *len,
		      struct ls_err_ctx *ctx)
{
	Lodestone__Api__Request m = LODESTONE__API__REQUEST__INIT;
	Lodestone__Api__SubmitRequest submit = LODESTONE__API__SUBMIT_REQUEST__INIT;
	Lodestone__Api__HeadRequest head = LODESTONE__API__HEAD_REQUEST__INIT;
	Lodestone__Api__GetRequest get = LODESTONE__API__GET_REQUEST__INIT;
	Lodestone__Api__ResolveRequest resolve = LODESTONE__API__RESOLVE_REQUEST__INIT;
	Lodestone__Api__CertOfRequest cert_of = LODESTONE__API__CERT_OF_REQUEST__INIT;
	Lodestone__Api__VerifyRequest verify = LODESTONE__API__VERIFY_REQUEST__INIT;
	Lodestone__Api__OriginRequest origin = LODESTONE__API__ORIGIN_REQUEST__INIT;
	Lodestone__Api__TraceRequest trace = LODESTONE__API__TRACE_REQUEST__INIT;
	Lodestone__Api__LogRequest log = LODESTONE__API__LOG_REQUEST__INIT;
	Lodestone__Api__StatusRequest status = LODESTONE__API__STATUS_REQUEST__INIT;
	Lodestone__Api__BundleRequest bundle = LODESTONE__API__BUNDLE_REQUEST__INIT;
	Lodestone__Api__HoldingsRequest holdings = LODESTONE__API__HOLDINGS_REQUEST__INIT;
	Lodestone__Api__CheckpointRequest checkpoint = LODESTONE__API__CHECKPOINT_REQUEST__INIT;
	Lodestone__Api__ProveRequest prove = LODESTONE__API__PROVE_REQUEST__INIT;
	Lodestone__Api__NextRequest next = LODESTONE__API__NEXT_REQUEST__INIT;
	ProtobufCBinaryData *envs = NULL;
	int rc;

	*buf = NULL;
	*len = 0;
	m.version = LS_API_VERSION;
	switch (req->kind) {
	case LS_API_SUBMIT:
		if (req->submit.n == 0 || req->submit.n > LS_API_SUBMIT_MAX)
			return ls_err_set(ctx, LS_ERR_INVALID,
					  "submit of %zu envelopes: 1..%d per request",
					  req->submit.n, LS_API_SUBMIT_MAX);
		if ((envs = calloc(req->submit.n, sizeof(*envs))) == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < req->submit.n; i++) {
			if (req->submit.lens[i] == 0 || req->submit.lens[i] > LS_ENVELOPE_MAX) {
				rc = ls_err_set(ctx, LS_ERR_INVALID,
						"envelope %zu is %zu bytes: 1..%d allowed", i,
						req->submit.lens[i], LS_ENVELOPE_MAX);
				goto out;
			}
			envs[i] = bin(req->submit.envs[i], req->submit.lens[i]);
		}
		submit.n_envelopes = req->submit.n;
		submit.envelopes = envs;
		if (req->submit.record_violation) {
			submit.has_record_violation = true;
			submit.record_violation = true;
		}
		m.kind_case = LODESTONE__API__REQUEST__KIND_SUBMIT;
		m.submit = &submit;
		break;
	case LS_API_HEAD:
		head.author = bin(req->head.author, LS_KEY_LEN);
		m.kind_case = LODESTONE__API__REQUEST__KIND_HEAD;
		m.head = &head;
		break;
	case LS_API_GET:
		get.id = bin(req->get.id, LS_ID_LEN);
		m.kind_case = LODESTONE__API__REQUEST__KIND_GET;
		m.get = &get;
		break;
	case LS_API_RESOLVE:
		if (req->resolve.kind < LS_RESOLVE_LOT || req->resolve.kind > LS_RESOLVE_LICENSE)
			return ls_err_set(ctx, LS_ERR_INVALID, "unknown resolve kind %d",
					  (int)req->resolve.kind);
		if (check_str(req->resolve.name, LS_STR_MAX, true, "name", ctx) != 0)
			return LS_ERR_INVALID;
		resolve.kind = (Lodestone__Api__ResolveKind)req->resolve.kind;
		resolve.name = (char *)req->resolve.name;
		m.kind_case = LODESTONE__API__REQUEST__KIND_RESOLVE;
		m.resolve = &resolve;
		break;
	case LS_API_CERT_OF:
		cert_of.key = bin(req->cert_of.key, LS_KEY_LEN);
		cert_of.has_time = req->cert_of.time != 0;
		cert_of.time = req->cert_of.time;
		m.kind_case = LODESTONE__API__REQUEST__KIND_CERT_OF;
		m.cert_of = &cert_of;
		break;
	case LS_API_VERIFY: {
		const struct ls_export_query *q = &req->verify;
		verify.lot = bin(q->lot, LS_ID_LEN);
		verify.has_from = q->has_from;
		verify.from = bin(q->from, LS_KEY_LEN);
		if (q->destination[0] != '\0') {
			if (!ls_country_valid(q->destination))
				return ls_err_set(ctx, LS_ERR_INVALID,
						  "destination '%.3s' is not a country code",
						  q->destination);
			verify.export_to = (char *)q->destination;
		}
		verify.has_end_user = q->has_end_user;
		verify.end_user = bin(q->end_user, LS_KEY_LEN);
		if (check_str(q->end_use, LS_STR_MAX, false, "end use", ctx) != 0)
			return LS_ERR_INVALID;
		verify.end_use = ostr(q->end_use);
		verify.has_time = q->time != 0;
		verify.time = q->time;
		verify.has_license = q->has_license;
		verify.license = bin(q->license, LS_ID_LEN);
		m.kind_case = LODESTONE__API__REQUEST__KIND_VERIFY;
		m.verify = &verify;
		break;
	}
	case LS_API_ORIGIN:
		origin.lot = bin(req->origin.lot, LS_ID_LEN);
		if (req->origin.has_from) {
			origin.has_from = true;
			origin.from = bin(req->origin.from, LS_KEY_LEN);
		}
		if (req->origin.stages) {
			origin.has_stages = true;
			origin.stages = true;
		}
		m.kind_case = LODESTONE__API__REQUEST__KIND_ORIGIN;
		m.origin = &origin;
		break;
	case LS_API_HOLDINGS:
		holdings.holder = bin(req->holdings.holder, LS_KEY_LEN);
		holdings.has_limit = req->holdings.limit != 0;
		holdings.limit =
		    req->holdings.limit > LS_HOLDINGS_MAX ? LS_HOLDINGS_MAX : req->holdings.limit;
		holdings.has_after = req->holdings.has_after;
		holdings.after = bin(req->holdings.after, LS_ID_LEN);
		m.kind_case = LODESTONE__API__REQUEST__KIND_HOLDINGS;
		m.holdings = &holdings;
		break;
	case LS_API_TRACE:
		trace.lot = bin(req->trace.lot, LS_ID_LEN);
		trace.has_down = req->trace.down;
		trace.down = req->trace.down;
		trace.has_stream = req->stream;
		trace.stream = req->stream;
		m.kind_case = LODESTONE__API__REQUEST__KIND_TRACE;
		m.trace = &trace;
		break;
	case LS_API_LOG: {
		const struct ls_log_filter *f = &req->log;
		log.has_author = f->has_author;
		log.author = bin(f->author, LS_KEY_LEN);
		if (f->type != LS_REC_NONE) {
			if ((unsigned)f->type >= LS_REC_TYPE_COUNT)
				return ls_err_set(ctx, LS_ERR_INVALID, "unknown record type %d",
						  (int)f->type);
			log.type = (char *)ls_rtype_name(f->type);
		}
		log.has_since = f->since != 0;
		log.since = f->since;
		log.has_limit = f->limit != 0;
		log.limit =
		    f->limit > LS_API_LOG_PAGE_MAX ? LS_API_LOG_PAGE_MAX : (uint32_t)f->limit;
		log.has_after = f->after_pos != 0;
		log.after = f->after_pos;
		log.has_newest_first = f->newest_first;
		log.newest_first = f->newest_first;
		log.has_before = f->before_pos != 0;
		log.before = f->before_pos;
		log.has_stream = req->stream;
		log.stream = req->stream;
		m.kind_case = LODESTONE__API__REQUEST__KIND_LOG;
		m.log = &log;
		break;
	}
	case LS_API_STATUS:
		m.kind_case = LODESTONE__API__REQUEST__KIND_STATUS;
		m.status = &status;
		break;
	case LS_API_BUNDLE:
		bundle.lot = bin(req->bundle.lot, LS_ID_LEN);
		bundle.has_stream = req->stream;
		bundle.stream = req->stream;
		m.kind_case = LODESTONE__API__REQUEST__KIND_BUNDLE;
		m.bundle = &bundle;
		break;
	case LS_API_CHECKPOINT:
		m.kind_case = LODESTONE__API__REQUEST__KIND_CHECKPOINT;
		m.checkpoint = &checkpoint;
		break;
	case LS_API_PROVE:
		if (req->prove.prefix != NULL) {
			if (check_prefix(req->prove.prefix, "prove prefix", ctx) != 0)
				return LS_ERR_INVALID;
			prove.prefix = (char *)req->prove.prefix;
		} else {
			prove.has_id = true;
			prove.id = bin(req->prove.id, LS_ID_LEN);
		}
		m.kind_case = LODESTONE__API__REQUEST__KIND_PROVE;
		m.prove = &prove;
		break;
	case LS_API_NEXT:
		next.token = bin(req->next.token, LS_API_TOKEN_LEN);
		next.has_cancel = req->next.cancel;
		next.cancel = req->next.cancel;
		m.kind_case = LODESTONE__API__REQUEST__KIND_NEXT;
		m.next = &next;
		break;
	default: return ls_err_set(ctx, LS_ERR_INVALID, "unknown request kind %d", (int)req->kind);
	}
	rc = pack(&m.base, LS_API_REQUEST_MAX, buf, len, ctx);
out:
	free(envs);
	return rc;
}

/* Copies the envelopes of a submit request into one block owned by req. */
static int
take_submit(struct ls_api_request *req, const Lodestone__Api__SubmitRequest *s,
	    struct ls_err_ctx *ctx)
{
	size_t total = 0, off;
	const uint8_t **envs;
	size_t *lens;
	uint8_t *data;
	int rc;

	if (s->n_envelopes == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "submit request has no envelope");
	if ((rc = check_count(s->n_envelopes, LS_API_SUBMIT_MAX, "submit request", ctx)) != 0)
		return rc;
	for (size_t i = 0; i < s->n_envelopes; i++) {
		if (s->envelopes[i].len == 0)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "envelope %zu is empty", i);
		if (s->envelopes[i].len > LS_ENVELOPE_MAX)
			return ls_err_set(ctx, LS_ERR_TOO_BIG, "envelope %zu is over %d bytes", i,
					  LS_ENVELOPE_MAX);
		total += s->envelopes[i].len;
	}
	off = s->n_envelopes * (sizeof(*envs) + sizeof(*lens));
	if ((req->owned = malloc(off + total)) == NULL)
		return LS_ERR_NOMEM;
	envs = req->owned;
	lens = (size_t *)(void *)(envs + s->n_envelopes);
	data = (uint8_t *)req->owned + off;
	for (size_t i = 0; i < s->n_envelopes; i++) {
		memcpy(data, s->envelopes[i].data, s->envelopes[i].len);
		envs[i] = data;
		lens[i] = s->envelopes[i].len;
		data += s->envelopes[i].len;
	}
	req->submit.n = s->n_envelopes;
	req->submit.envs = envs;
	req->submit.lens = lens;
	req->submit.record_violation = s->has_record_violation && s->record_violation;
	return 0;
}

static int
take_string(struct ls_api_request *req, const char *s, const char **dst)
{
	size_t n = strlen(s);

	if ((req->owned = malloc(n + 1)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(req->owned, s, n + 1);
	*dst = req->owned;
	return 0;
}

static int
from_verify_request(struct ls_api_request *req, const Lodestone__Api__VerifyRequest *v,
		    struct ls_err_ctx *ctx)
{
	struct ls_export_query *q = &req->verify;
	int rc;

	if ((rc = copy_key(q->lot, &v->lot, "verify lot", ctx)) != 0)
		return rc;
	if (v->has_from) {
		if ((rc = copy_key(q->from, &v->from, "verify from", ctx)) != 0)
			return rc;
		q->has_from = true;
	}
	if (v->export_to != NULL) {
		if (!ls_country_valid(v->export_to))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "verify export_to '%.8s' is not a country code",
					  v->export_to);
		memcpy(q->destination, v->export_to, LS_COUNTRY_LEN + 1);
	}
	if (v->has_end_user) {
		if ((rc = copy_key(q->end_user, &v->end_user, "verify end_user", ctx)) != 0)
			return rc;
		q->has_end_user = true;
	}
	if (v->has_license) {
		if ((rc = copy_key(q->license, &v->license, "verify license", ctx)) != 0)
			return rc;
		q->has_license = true;
	}
	q->time = v->has_time ? v->time : 0;
	if (v->end_use != NULL && *v->end_use != '\0') {
		if ((rc = check_str(v->end_use, LS_STR_MAX, true, "verify end_use", ctx)) != 0)
			return rc;
		if ((rc = take_string(req, v->end_use, &q->end_use)) != 0)
			return rc;
	}
	return 0;
}

static int
from_log_request(struct ls_log_filter *f, const Lodestone__Api__LogRequest *l,
		 struct ls_err_ctx *ctx)
{
	int rc;

	if (l->has_author) {
		if ((rc = copy_key(f->author, &l->author, "log author", ctx)) != 0)
			return rc;
		f->has_author = true;
	}
	f->type = LS_REC_NONE;
	if (l->type != NULL && *l->type != '\0') {
		if ((rc = check_str(l->type, 32, true, "log type", ctx)) != 0)
			return rc;
		if ((f->type = ls_rtype_parse(l->type)) == LS_REC_NONE)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "log type '%s' is unknown",
					  l->type);
	}
	f->since = l->has_since ? l->since : 0;
	f->limit = l->has_limit ? l->limit : 0;
	f->after_pos = l->has_after ? l->after : 0;
	f->newest_first = l->has_newest_first && l->newest_first;
	f->before_pos = l->has_before ? l->before : 0;
	return 0;
}

static int
from_request(struct ls_api_request *req, const Lodestone__Api__Request *m, struct ls_err_ctx *ctx)
{
	int rc;

	switch (m->kind_case) {
	case LODESTONE__API__REQUEST__KIND_SUBMIT:
		req->kind = LS_API_SUBMIT;
		return take_submit(req, m->submit, ctx);
	case LODESTONE__API__REQUEST__KIND_HEAD:
		req->kind = LS_API_HEAD;
		return copy_key(req->head.author, &m->head->author, "head author", ctx);
	case LODESTONE__API__REQUEST__KIND_GET:
		req->kind = LS_API_GET;
		return copy_key(req->get.id, &m->get->id, "get id", ctx);
	case LODESTONE__API__REQUEST__KIND_RESOLVE:
		req->kind = LS_API_RESOLVE;
		if (m->resolve->kind < LODESTONE__API__RESOLVE_KIND__RESOLVE_LOT ||
		    m->resolve->kind > LODESTONE__API__RESOLVE_KIND__RESOLVE_LICENSE)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "resolve kind %d is unknown",
					  (int)m->resolve->kind);
		req->resolve.kind = (enum ls_resolve_kind)m->resolve->kind;
		if ((rc = check_str(m->resolve->name, LS_STR_MAX, true, "resolve name", ctx)) != 0)
			return rc;
		return take_string(req, m->resolve->name, &req->resolve.name);
	case LODESTONE__API__REQUEST__KIND_CERT_OF:
		req->kind = LS_API_CERT_OF;
		req->cert_of.time = m->cert_of->has_time ? m->cert_of->time : 0;
		return copy_key(req->cert_of.key, &m->cert_of->key, "cert_of key", ctx);
	case LODESTONE__API__REQUEST__KIND_VERIFY:
		req->kind = LS_API_VERIFY;
		return from_verify_request(req, m->verify, ctx);
	case LODESTONE__API__REQUEST__KIND_ORIGIN:
		req->kind = LS_API_ORIGIN;
		req->origin.stages = m->origin->has_stages && m->origin->stages;
		if (m->origin->has_from) {
			int frc = copy_key(req->origin.from, &m->origin->from, "origin from", ctx);
			if (frc != 0)
				return frc;
			req->origin.has_from = true;
		}
		return copy_key(req->origin.lot, &m->origin->lot, "origin lot", ctx);
	case LODESTONE__API__REQUEST__KIND_HOLDINGS:
		req->kind = LS_API_HOLDINGS;
		req->holdings.limit = m->holdings->has_limit ? m->holdings->limit : 0;
		if (req->holdings.limit > LS_HOLDINGS_MAX)
			req->holdings.limit = LS_HOLDINGS_MAX;
		if (m->holdings->has_after) {
			if ((rc = copy_key(req->holdings.after, &m->holdings->after,
					   "holdings after", ctx)) != 0)
				return rc;
			req->holdings.has_after = true;
		}
		return copy_key(req->holdings.holder, &m->holdings->holder, "holdings holder", ctx);
	case LODESTONE__API__REQUEST__KIND_TRACE:
		req->kind = LS_API_TRACE;
		req->trace.down = m->trace->has_down && m->trace->down;
		req->stream = m->trace->has_stream && m->trace->stream;
		return copy_key(req->trace.lot, &m->trace->lot, "trace lot", ctx);
	case LODESTONE__API__REQUEST__KIND_LOG:
		req->kind = LS_API_LOG;
		req->stream = m->log->has_stream && m->log->stream;
		return from_log_request(&req->log, m->log, ctx);
	case LODESTONE__API__REQUEST__KIND_STATUS: req->kind = LS_API_STATUS; return 0;
	case LODESTONE__API__REQUEST__KIND_BUNDLE:
		req->kind = LS_API_BUNDLE;
		req->stream = m->bundle->has_stream && m->bundle->stream;
		return copy_key(req->bundle.lot, &m->bundle->lot, "bundle lot", ctx);
	case LODESTONE__API__REQUEST__KIND_CHECKPOINT: req->kind = LS_API_CHECKPOINT; return 0;
	case LODESTONE__API__REQUEST__KIND_PROVE:
		req->kind = LS_API_PROVE;
		if (m->prove->has_id == (m->prove->prefix != NULL))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "prove request needs exactly one of id and prefix");
		if (m->prove->has_id)
			return copy_key(req->prove.id, &m->prove->id, "prove id", ctx);
		if ((rc = check_prefix(m->prove->prefix, "prove prefix", ctx)) != 0)
			return rc;
		return take_string(req, m->prove->prefix, &req->prove.prefix);
	case LODESTONE__API__REQUEST__KIND_NEXT:
		req->kind = LS_API_NEXT;
		req->next.cancel = m->next->has_cancel && m->next->cancel;
		if (m->next->token.len != LS_API_TOKEN_LEN)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "next token is %zu bytes, not %d",
					  m->next->token.len, LS_API_TOKEN_LEN);
		memcpy(req->next.token, m->next->token.data, LS_API_TOKEN_LEN);
		return 0;
	default:
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "request has no kind this daemon knows (field %d)",
				  (int)m->kind_case);
	}
}

int
ls_api_request_decode(const uint8_t *buf, size_t len, struct ls_api_request *req,
		      struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__Api__Request *m;
	int rc;

	memset(req, 0, sizeof(*req));
	if (buf == NULL || len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "empty request");
	if (len > LS_API_REQUEST_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "request of %zu bytes is over %zu", len,
				  LS_API_REQUEST_MAX);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	m = lodestone__api__request__unpack(&bud.alloc, len, buf);
	if (m == NULL)
		return ls_err_set(ctx, bud.left < len ? LS_ERR_TOO_BIG : LS_ERR_MALFORMED,
				  "request does not decode");
	if (m->version != LS_API_VERSION) {
		rc = ls_err_set(ctx, LS_ERR_VERSION, "request version %u is not supported (%d is)",
				m->version, LS_API_VERSION);
		goto out;
	}
	rc = from_request(req, m, ctx);
out:
	lodestone__api__request__free_unpacked(m, &bud.alloc);
	if (rc != 0)
		ls_api_request_release(req);
	return rc;
}

void
ls_api_request_release(struct ls_api_request *req)
{
	if (req == NULL)
		return;
	free(req->owned);
	memset(req, 0, sizeof(*req));
}

/* ---- responses: release ---- */

void
ls_api_log_page_release(struct ls_api_log_page *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->entries[i].env);
	free(p->entries);
	memset(p, 0, sizeof(*p));
}

void
ls_api_status_release(struct ls_api_status *st)
{
	if (st == NULL)
		return;
	free(st->peers);
	free(st->split_views);
	free(st->trust);
	memset(st, 0, sizeof(*st));
}

void
ls_api_response_init(struct ls_api_response *resp)
{
	memset(resp, 0, sizeof(*resp));
}

void
ls_api_response_release(struct ls_api_response *resp)
{
	if (resp == NULL)
		return;
	switch (resp->kind) {
	case LS_API_SUBMIT: free(resp->submit.results); break;
	case LS_API_GET: free(resp->get.env); break;
	case LS_API_VERIFY: ls_verdict_release(&resp->verify); break;
	case LS_API_ORIGIN: ls_origin_release(&resp->origin); break;
	case LS_API_TRACE: ls_trace_release(&resp->trace); break;
	case LS_API_LOG: ls_api_log_page_release(&resp->log); break;
	case LS_API_STATUS: ls_api_status_release(&resp->status); break;
	case LS_API_BUNDLE: free(resp->bundle.bytes); break;
	case LS_API_HOLDINGS: ls_holdings_release(&resp->holdings); break;
	case LS_API_CHECKPOINT: free(resp->checkpoint.note); break;
	case LS_API_PROVE: free(resp->prove.proof); break;
	default: break;
	}
	memset(resp, 0, sizeof(*resp));
}

void
ls_api_response_error(struct ls_api_response *resp, int err, const struct ls_err_ctx *ctx)
{
	char msg[LS_ERR_MSG_MAX];

	/* Copy first: ctx may live in memory that the release frees. */
	copy_msg(msg, sizeof(msg), ls_err_msg(ctx, err));
	ls_api_response_release(resp);
	resp->error = err < 0 ? err : LS_ERR_INVALID;
	memcpy(resp->message, msg, sizeof(msg));
}

/* ---- responses: encode ---- */

static int
enc_submit(struct pool *p, const struct ls_api_response *r, Lodestone__Api__Response *m,
	   struct ls_err_ctx *ctx)
{
	Lodestone__Api__SubmitResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__SubmitOutcome *o = pool_alloc(p, r->submit.n, sizeof(*o));
	Lodestone__Api__SubmitOutcome **op = pool_alloc(p, r->submit.n, sizeof(*op));

	if (s == NULL || o == NULL || op == NULL)
		return LS_ERR_NOMEM;
	if (r->submit.n > LS_API_SUBMIT_MAX)
		return ls_err_set(ctx, LS_ERR_INVALID, "submit result of %zu outcomes",
				  r->submit.n);
	lodestone__api__submit_result__init(s);
	for (size_t i = 0; i < r->submit.n; i++) {
		const struct ls_ingest_result *x = &r->submit.results[i];
		lodestone__api__submit_outcome__init(&o[i]);
		if ((unsigned)x->status > LS_INGEST_REJECTED)
			return ls_err_set(ctx, LS_ERR_INVALID, "ingest status %d", (int)x->status);
		o[i].status = (Lodestone__Api__SubmitStatus)x->status;
		o[i].has_id = x->has_id;
		o[i].id = bin(x->id, LS_ID_LEN);
		if (x->type != LS_REC_NONE)
			o[i].type = (char *)ls_rtype_name(x->type);
		if (x->reason != LS_R_OK)
			o[i].reason = (char *)ls_reason_code(x->reason);
		o[i].message = ostr(x->message);
		o[i].has_dependency = x->has_missing;
		o[i].dependency = bin(x->missing, LS_ID_LEN);
		op[i] = &o[i];
	}
	s->n_outcomes = r->submit.n;
	s->outcomes = op;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_SUBMIT;
	m->submit = s;
	return 0;
}

/* Reasons of v, the first max of them. */
static int
enc_reasons(struct pool *p, const struct ls_verdict *v, size_t max, size_t *n_out,
	    Lodestone__Api__VerdictReason ***out)
{
	size_t n = v->n < max ? v->n : max;
	Lodestone__Api__VerdictReason *rs = pool_alloc(p, n, sizeof(*rs));
	Lodestone__Api__VerdictReason **rp = pool_alloc(p, n, sizeof(*rp));

	if (rs == NULL || rp == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ls_verdict_reason *x = &v->reasons[i];
		size_t n_ids = x->n_ids > LS_REASON_IDS_MAX ? LS_REASON_IDS_MAX : x->n_ids;
		ProtobufCBinaryData *ids = pool_alloc(p, n_ids, sizeof(*ids));
		if (ids == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__verdict_reason__init(&rs[i]);
		rs[i].code = (char *)ls_reason_code(x->code);
		rs[i].message = ostr(x->message);
		for (size_t j = 0; j < n_ids; j++)
			ids[j] = bin(x->ids[j], LS_ID_LEN);
		rs[i].n_records = n_ids;
		rs[i].records = ids;
		if (x->warning) {
			rs[i].has_warning = true;
			rs[i].warning = true;
		}
		rp[i] = &rs[i];
	}
	*n_out = n;
	*out = rp;
	return 0;
}

static int
enc_verify(struct pool *p, const struct ls_verdict *v, Lodestone__Api__Response *m,
	   struct ls_err_ctx *ctx)
{
	Lodestone__Api__VerifyResult *s = pool_alloc(p, 1, sizeof(*s));
	size_t n_parts = v->n_parts < LS_VERDICT_PARTS_MAX ? v->n_parts : LS_VERDICT_PARTS_MAX;
	Lodestone__Api__VerdictPart *ps = pool_alloc(p, n_parts, sizeof(*ps));
	Lodestone__Api__VerdictPart **pp = pool_alloc(p, n_parts, sizeof(*pp));
	int rc;

	(void)ctx;
	if (s == NULL || ps == NULL || pp == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__verify_result__init(s);
	s->verdict = (char *)ls_verdict_name(v->kind);
	/* A verdict with more reasons than a reply carries keeps the first. */
	if ((rc = enc_reasons(p, v, LS_API_REASONS_MAX, &s->n_reasons, &s->reasons)) != 0)
		return rc;
	for (size_t i = 0; i < n_parts; i++) {
		const struct ls_verdict_part *x = &v->parts[i];
		lodestone__api__verdict_part__init(&ps[i]);
		ps[i].holder = bin(x->holder, LS_KEY_LEN);
		if (x->in_transit) {
			ps[i].has_transfer = true;
			ps[i].transfer = bin(x->transfer, LS_ID_LEN);
		}
		ps[i].grams = x->grams;
		ps[i].verdict = (char *)ls_verdict_name(x->v.kind);
		if ((rc = enc_reasons(p, &x->v, LS_API_PART_REASONS, &ps[i].n_reasons,
				      &ps[i].reasons)) != 0)
			return rc;
		if (x->v.n > ps[i].n_reasons) {
			ps[i].has_reasons_more = true;
			ps[i].reasons_more = x->v.n - ps[i].n_reasons;
		}
		pp[i] = &ps[i];
	}
	s->n_parts = n_parts;
	s->parts = pp;
	if (v->parts_more > 0 || v->n_parts > n_parts) {
		s->has_parts_more = true;
		s->parts_more = v->parts_more + (v->n_parts - n_parts);
	}
	s->has_ancestors = true;
	s->ancestors = v->ancestors;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_VERIFY;
	m->verify = s;
	return 0;
}

static int
enc_parts(struct pool *p, const struct ls_origin_part *parts, size_t n, size_t *n_out,
	  Lodestone__Api__OriginPart ***out)
{
	Lodestone__Api__OriginPart *ps = pool_alloc(p, n, sizeof(*ps));
	Lodestone__Api__OriginPart **pp = pool_alloc(p, n, sizeof(*pp));

	if (ps == NULL || pp == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		lodestone__api__origin_part__init(&ps[i]);
		ps[i].name = (char *)parts[i].name;
		ps[i].grams = parts[i].grams;
		pp[i] = &ps[i];
	}
	*n_out = n;
	*out = pp;
	return 0;
}

static int
enc_stages(struct pool *p, const struct ls_origin_elem *x, Lodestone__Api__OriginElement *e)
{
	Lodestone__Api__OriginStage *ss = pool_alloc(p, x->n_stages, sizeof(*ss));
	Lodestone__Api__OriginStage **sp = pool_alloc(p, x->n_stages, sizeof(*sp));

	if (x->n_stages == 0)
		return 0;
	if (ss == NULL || sp == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < x->n_stages; i++) {
		const struct ls_origin_stage *st = &x->stages[i];
		Lodestone__Api__OriginPlace *ps = pool_alloc(p, st->n_places, sizeof(*ps));
		Lodestone__Api__OriginPlace **pp = pool_alloc(p, st->n_places, sizeof(*pp));
		if (ps == NULL || pp == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__origin_stage__init(&ss[i]);
		ss[i].stage = (char *)ls_stage_name(st->stage);
		ss[i].grams = st->grams;
		for (size_t k = 0; k < st->n_places; k++) {
			const struct ls_stage_place *pl = &st->places[k];
			lodestone__api__origin_place__init(&ps[k]);
			ps[k].country = ostr(pl->country);
			ps[k].site = ostr(pl->site);
			ps[k].org = ostr(pl->org);
			ps[k].record = bin(pl->record, LS_ID_LEN);
			ps[k].grams = pl->grams;
			pp[k] = &ps[k];
		}
		ss[i].n_places = st->n_places;
		ss[i].places = pp;
		sp[i] = &ss[i];
	}
	e->n_stages = x->n_stages;
	e->stages = sp;
	return 0;
}

static int
enc_origin(struct pool *p, const struct ls_origin *o, Lodestone__Api__Response *m)
{
	Lodestone__Api__OriginResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__OriginElement *es = pool_alloc(p, o->n, sizeof(*es));
	Lodestone__Api__OriginElement **ep = pool_alloc(p, o->n, sizeof(*ep));

	if (s == NULL || es == NULL || ep == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__origin_result__init(s);
	s->lot = bin(o->lot, LS_ID_LEN);
	if (o->has_holder) {
		s->has_holder = true;
		s->holder = bin(o->holder, LS_KEY_LEN);
	}
	s->has_grams = true;
	s->grams = o->grams;
	s->category = ostr(o->category);
	for (size_t i = 0; i < o->n; i++) {
		const struct ls_origin_elem *x = &o->elems[i];
		lodestone__api__origin_element__init(&es[i]);
		es[i].z = x->z;
		es[i].grams = x->grams;
		if (enc_parts(p, x->by_country, x->n_country, &es[i].n_by_country,
			      &es[i].by_country) != 0 ||
		    enc_parts(p, x->by_mine, x->n_mine, &es[i].n_by_mine, &es[i].by_mine) != 0 ||
		    enc_parts(p, x->by_processing, x->n_processing, &es[i].n_by_processing_country,
			      &es[i].by_processing_country) != 0 ||
		    enc_stages(p, x, &es[i]) != 0)
			return LS_ERR_NOMEM;
		ep[i] = &es[i];
	}
	s->n_elements = o->n;
	s->elements = ep;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_ORIGIN;
	m->origin = s;
	return 0;
}

static int
enc_trace(struct pool *p, const struct ls_trace *t, Lodestone__Api__Response *m)
{
	Lodestone__Api__TraceResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__TraceNode *ns = pool_alloc(p, t->n_nodes, sizeof(*ns));
	Lodestone__Api__TraceNode **np = pool_alloc(p, t->n_nodes, sizeof(*np));
	Lodestone__Api__TraceEdge *es = pool_alloc(p, t->n_edges, sizeof(*es));
	Lodestone__Api__TraceEdge **ep = pool_alloc(p, t->n_edges, sizeof(*ep));
	Lodestone__Api__TraceTransfer *ts = pool_alloc(p, t->n_transfers, sizeof(*ts));
	Lodestone__Api__TraceTransfer **tp = pool_alloc(p, t->n_transfers, sizeof(*tp));

	if (s == NULL || ns == NULL || np == NULL || es == NULL || ep == NULL || ts == NULL ||
	    tp == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__trace_result__init(s);
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct ls_trace_node *x = &t->nodes[i];
		lodestone__api__trace_node__init(&ns[i]);
		ns[i].id = bin(x->id, LS_ID_LEN);
		ns[i].label = ostr(x->label);
		ns[i].category = ostr(x->category);
		ns[i].has_grams = true;
		ns[i].grams = x->grams;
		ns[i].country = ostr(x->country);
		ns[i].has_holder = true;
		ns[i].holder = bin(x->holder, LS_KEY_LEN);
		ns[i].has_record = true;
		ns[i].record = bin(x->record, LS_ID_LEN);
		ns[i].has_transformed = x->transformed;
		ns[i].transformed = x->transformed;
		np[i] = &ns[i];
	}
	for (size_t i = 0; i < t->n_edges; i++) {
		const struct ls_trace_edge *x = &t->edges[i];
		lodestone__api__trace_edge__init(&es[i]);
		es[i].from = bin(x->from, LS_ID_LEN);
		es[i].to = bin(x->to, LS_ID_LEN);
		es[i].record = bin(x->record, LS_ID_LEN);
		es[i].has_grams = true;
		es[i].grams = x->grams;
		es[i].has_by = true;
		es[i].by = bin(x->by, LS_KEY_LEN);
		es[i].has_held = x->held;
		es[i].held = x->held;
		es[i].has_repeat = x->repeat;
		es[i].repeat = x->repeat;
		ep[i] = &es[i];
	}
	for (size_t i = 0; i < t->n_transfers; i++) {
		const struct ls_trace_transfer *x = &t->transfers[i];
		lodestone__api__trace_transfer__init(&ts[i]);
		ts[i].lot = bin(x->lot, LS_ID_LEN);
		ts[i].record = bin(x->record, LS_ID_LEN);
		ts[i].from = bin(x->from, LS_KEY_LEN);
		ts[i].to = bin(x->to, LS_KEY_LEN);
		ts[i].has_grams = true;
		ts[i].grams = x->grams;
		ts[i].has_received = true;
		ts[i].received = x->received;
		ts[i].has_from_maker = x->from_maker;
		ts[i].from_maker = x->from_maker;
		ts[i].from_country = ostr(x->from_country);
		ts[i].to_country = ostr(x->to_country);
		if (x->has_license) {
			ts[i].has_license = true;
			ts[i].license = bin(x->license, LS_ID_LEN);
			ts[i].license_number = ostr(x->license_number);
		}
		if (x->received) {
			ts[i].has_receipt = true;
			ts[i].receipt = bin(x->receipt, LS_ID_LEN);
			ts[i].has_received_grams = true;
			ts[i].received_grams = x->received_grams;
			ts[i].has_returned_grams = x->returned_grams != 0;
			ts[i].returned_grams = x->returned_grams;
			ts[i].reason = ostr(x->reason);
			ts[i].has_taken_back = x->taken_back;
			ts[i].taken_back = x->taken_back;
			ts[i].has_taken_back_grams = x->taken_back;
			ts[i].taken_back_grams = x->taken_back_grams;
			ts[i].loss_reason = ostr(x->loss_reason);
		}
		tp[i] = &ts[i];
	}
	s->n_nodes = t->n_nodes;
	s->nodes = np;
	s->n_edges = t->n_edges;
	s->edges = ep;
	s->n_transfers = t->n_transfers;
	s->transfers = tp;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_TRACE;
	m->trace = s;
	return 0;
}

static int
enc_flows(struct pool *p, const struct ls_flow *f, size_t n, size_t *n_out,
	  Lodestone__Api__Flow ***out)
{
	Lodestone__Api__Flow *fs = pool_alloc(p, n, sizeof(*fs));
	Lodestone__Api__Flow **fp = pool_alloc(p, n, sizeof(*fp));

	if (fs == NULL || fp == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		lodestone__api__flow__init(&fs[i]);
		fs[i].id = bin(f[i].id, LS_ID_LEN);
		fs[i].lot = bin(f[i].lot, LS_ID_LEN);
		fs[i].label = ostr(f[i].label);
		fs[i].party = bin(f[i].party, LS_KEY_LEN);
		fs[i].grams = f[i].grams;
		fs[i].has_is_return = f[i].is_return;
		fs[i].is_return = f[i].is_return;
		fs[i].reason = ostr(f[i].reason);
		fs[i].has_transfer = f[i].is_return;
		fs[i].transfer = bin(f[i].transfer, LS_ID_LEN);
		fp[i] = &fs[i];
	}
	*n_out = n;
	*out = fp;
	return 0;
}

static int
enc_holdings(struct pool *p, const struct ls_holdings *h, Lodestone__Api__Response *m)
{
	Lodestone__Api__HoldingsResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__Holding *hs = pool_alloc(p, h->n_holds, sizeof(*hs));
	Lodestone__Api__Holding **hp = pool_alloc(p, h->n_holds, sizeof(*hp));

	if (s == NULL || hs == NULL || hp == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__holdings_result__init(s);
	s->holder = bin(h->holder, LS_KEY_LEN);
	for (size_t i = 0; i < h->n_holds; i++) {
		lodestone__api__holding__init(&hs[i]);
		hs[i].lot = bin(h->holds[i].lot, LS_ID_LEN);
		hs[i].label = ostr(h->holds[i].label);
		hs[i].category = ostr(h->holds[i].category);
		hs[i].grams = h->holds[i].grams;
		hp[i] = &hs[i];
	}
	s->n_holds = h->n_holds;
	s->holds = hp;
	if (enc_flows(p, h->in, h->n_in, &s->n_incoming, &s->incoming) != 0 ||
	    enc_flows(p, h->out, h->n_out, &s->n_outgoing, &s->outgoing) != 0)
		return LS_ERR_NOMEM;
	s->has_more_holds = h->more_holds;
	s->more_holds = h->more_holds;
	s->has_more_incoming = h->more_in;
	s->more_incoming = h->more_in;
	s->has_more_outgoing = h->more_out;
	s->more_outgoing = h->more_out;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_HOLDINGS;
	m->holdings = s;
	return 0;
}

static int
enc_log(struct pool *p, const struct ls_api_log_page *l, Lodestone__Api__Response *m)
{
	Lodestone__Api__LogResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__LogEntry *es = pool_alloc(p, l->n, sizeof(*es));
	Lodestone__Api__LogEntry **ep = pool_alloc(p, l->n, sizeof(*ep));

	if (s == NULL || es == NULL || ep == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__log_result__init(s);
	for (size_t i = 0; i < l->n; i++) {
		lodestone__api__log_entry__init(&es[i]);
		es[i].position = l->entries[i].pos;
		es[i].envelope = bin(l->entries[i].env, l->entries[i].len);
		ep[i] = &es[i];
	}
	s->n_entries = l->n;
	s->entries = ep;
	s->has_more = true;
	s->more = l->more;
	m->kind_case = LODESTONE__API__RESPONSE__KIND_LOG;
	m->log = s;
	return 0;
}

static int
enc_status(struct pool *p, const struct ls_api_status *st, Lodestone__Api__Response *m)
{
	Lodestone__Api__StatusResult *s = pool_alloc(p, 1, sizeof(*s));
	Lodestone__Api__Peer *ps = pool_alloc(p, st->n_peers, sizeof(*ps));
	Lodestone__Api__Peer **pp = pool_alloc(p, st->n_peers, sizeof(*pp));

	if (s == NULL || ps == NULL || pp == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__status_result__init(s);
	s->records = st->stats.records;
	s->has_pending = s->has_equivocations = s->has_authors = s->has_map_size = true;
	s->pending = st->stats.pending;
	s->equivocations = st->stats.equivocations;
	s->authors = st->stats.authors;
	s->map_size = st->stats.map_size;
	s->has_set_digest = true;
	s->set_digest = bin(st->stats.set_digest, LS_ID_LEN);
	s->node_key = bin(st->node_key, LS_KEY_LEN);
	s->api = ostr(st->api);
	s->listen = ostr(st->listen);
	for (size_t i = 0; i < st->n_peers; i++) {
		const struct ls_api_peer *x = &st->peers[i];
		lodestone__api__peer__init(&ps[i]);
		ps[i].has_key = x->has_key;
		ps[i].key = bin(x->key, LS_KEY_LEN);
		ps[i].endpoint = (char *)x->endpoint;
		ps[i].has_connected = ps[i].has_last_sync = true;
		ps[i].has_received = ps[i].has_rejected = true;
		ps[i].connected = x->connected;
		ps[i].last_sync = x->last_sync;
		ps[i].received = x->received;
		ps[i].rejected = x->rejected;
		ps[i].log_vkey = ostr(x->log_vkey);
		ps[i].witness_vkey = ostr(x->witness_vkey);
		ps[i].has_cosigned_size = ps[i].has_cosigned_time = true;
		ps[i].cosigned_size = x->cosigned_size;
		ps[i].cosigned_time = x->cosigned_time;
		ps[i].has_refused_ours = true;
		ps[i].refused_ours = x->refused_ours;
		ps[i].refusal = ostr(x->refusal);
		ps[i].has_witnessed_size = ps[i].has_witnessed_time = true;
		ps[i].witnessed_size = x->witnessed_size;
		ps[i].witnessed_time = x->witnessed_time;
		ps[i].has_cosigned_theirs = ps[i].has_refused_theirs = true;
		ps[i].cosigned_theirs = x->cosigned_theirs;
		ps[i].refused_theirs = x->refused_theirs;
		ps[i].refused_reason = ostr(x->refused_reason);
		ps[i].has_distrusted = true;
		ps[i].distrusted = x->distrusted;
		ps[i].has_cosign_rtt_us = x->cosign_rtt_us != 0;
		ps[i].cosign_rtt_us = x->cosign_rtt_us;
		ps[i].has_dropped = x->dropped != 0;
		ps[i].dropped = x->dropped;
		ps[i].has_throttled = x->throttled != 0;
		ps[i].throttled = x->throttled;
		pp[i] = &ps[i];
	}
	s->n_peers = st->n_peers;
	s->peers = pp;
	s->has_log_size = s->has_log_sealed = true;
	s->log_size = st->log_size;
	s->log_sealed = st->log_sealed;
	s->log_origin = ostr(st->log_origin);
	s->log_vkey = ostr(st->log_vkey);
	s->witness_vkey = ostr(st->witness_vkey);
	s->has_checkpoint_size = st->checkpoint_size != 0;
	s->checkpoint_size = st->checkpoint_size;
	s->has_checkpoint_time = st->checkpoint_time != 0;
	s->checkpoint_time = st->checkpoint_time;
	if (st->n_split_views > 0) {
		Lodestone__Api__SplitViewInfo *vs = pool_alloc(p, st->n_split_views, sizeof(*vs));
		Lodestone__Api__SplitViewInfo **vp = pool_alloc(p, st->n_split_views, sizeof(*vp));
		if (vs == NULL || vp == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < st->n_split_views; i++) {
			lodestone__api__split_view_info__init(&vs[i]);
			vs[i].origin = (char *)st->split_views[i].origin;
			vs[i].size_a = st->split_views[i].size_a;
			vs[i].size_b = st->split_views[i].size_b;
			vp[i] = &vs[i];
		}
		s->n_split_views = st->n_split_views;
		s->split_views = vp;
	}
	s->has_witnesses = s->has_witness_quorum = true;
	s->witnesses = st->witnesses;
	s->witness_quorum = st->witness_quorum;
	s->has_quorum_size = st->quorum_size != 0;
	s->quorum_size = st->quorum_size;
	s->has_streams_open = true;
	s->streams_open = st->streams_open;
	s->has_stream_bytes = true;
	s->stream_bytes = st->stream_bytes;
	s->has_api_connections = s->has_api_connections_max = true;
	s->api_connections = st->api_connections;
	s->api_connections_max = st->api_connections_max;
	s->has_api_queued_bytes = s->has_api_busy = true;
	s->api_queued_bytes = st->api_queued_bytes;
	s->api_busy = st->api_busy;
	if (st->n_trust > 0) {
		size_t n = st->n_trust > LS_API_TRUST_MAX ? LS_API_TRUST_MAX : st->n_trust;
		ProtobufCBinaryData *tv = pool_alloc(p, n, sizeof(*tv));
		if (tv == NULL)
			return LS_ERR_NOMEM;
		for (size_t i = 0; i < n; i++)
			tv[i] = bin(st->trust[i], LS_KEY_LEN);
		s->n_trust = n;
		s->trust = tv;
	}
	m->kind_case = LODESTONE__API__RESPONSE__KIND_STATUS;
	m->status = s;
	return 0;
}

static int
enc_result(struct pool *p, const struct ls_api_response *r, Lodestone__Api__Response *m,
	   struct ls_err_ctx *ctx)
{
	switch (r->kind) {
	case LS_API_SUBMIT: return enc_submit(p, r, m, ctx);
	case LS_API_HEAD: {
		Lodestone__Api__HeadResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__head_result__init(s);
		s->seq = r->head.seq;
		s->has_id = s->has_timestamp = r->head.seq != 0;
		s->id = bin(r->head.id, LS_ID_LEN);
		s->timestamp = r->head.timestamp;
		m->kind_case = LODESTONE__API__RESPONSE__KIND_HEAD;
		m->head = s;
		return 0;
	}
	case LS_API_GET: {
		Lodestone__Api__GetResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__get_result__init(s);
		s->envelope = bin(r->get.env, r->get.len);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_GET;
		m->get = s;
		return 0;
	}
	case LS_API_RESOLVE: {
		Lodestone__Api__ResolveResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__resolve_result__init(s);
		s->id = bin(r->resolve.id, LS_ID_LEN);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_RESOLVE;
		m->resolve = s;
		return 0;
	}
	case LS_API_CERT_OF: {
		Lodestone__Api__CertOfResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__cert_of_result__init(s);
		s->cert = bin(r->cert_of.cert, LS_ID_LEN);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_CERT_OF;
		m->cert_of = s;
		return 0;
	}
	case LS_API_VERIFY: return enc_verify(p, &r->verify, m, ctx);
	case LS_API_ORIGIN: return enc_origin(p, &r->origin, m);
	case LS_API_TRACE: return enc_trace(p, &r->trace, m);
	case LS_API_HOLDINGS: return enc_holdings(p, &r->holdings, m);
	case LS_API_LOG: return enc_log(p, &r->log, m);
	case LS_API_STATUS: return enc_status(p, &r->status, m);
	case LS_API_BUNDLE: {
		Lodestone__Api__BundleResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		lodestone__api__bundle_result__init(s);
		s->bundle = bin(r->bundle.bytes, r->bundle.len);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_BUNDLE;
		m->bundle = s;
		return 0;
	}
	case LS_API_CHECKPOINT: {
		Lodestone__Api__CheckpointResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		if (r->checkpoint.len == 0 || r->checkpoint.len > LS_NOTE_MAX)
			return ls_err_set(ctx, LS_ERR_INVALID, "checkpoint note of %zu bytes",
					  r->checkpoint.len);
		lodestone__api__checkpoint_result__init(s);
		s->size = r->checkpoint.size;
		s->note = bin((const uint8_t *)r->checkpoint.note, r->checkpoint.len);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_CHECKPOINT;
		m->checkpoint = s;
		return 0;
	}
	case LS_API_PROVE: {
		Lodestone__Api__ProveResult *s = pool_alloc(p, 1, sizeof(*s));
		if (s == NULL)
			return LS_ERR_NOMEM;
		if (r->prove.len == 0 || r->prove.len > LS_API_PROOF_MAX)
			return ls_err_set(ctx, LS_ERR_INVALID, "proof of %zu bytes", r->prove.len);
		lodestone__api__prove_result__init(s);
		s->id = bin(r->prove.id, LS_ID_LEN);
		s->index = r->prove.index;
		s->size = r->prove.size;
		s->proof = bin((const uint8_t *)r->prove.proof, r->prove.len);
		m->kind_case = LODESTONE__API__RESPONSE__KIND_PROVE;
		m->prove = s;
		return 0;
	}
	default: return ls_err_set(ctx, LS_ERR_INVALID, "unknown response kind %d", (int)r->kind);
	}
}

/* A chunk's Stream message, on the result enc_result made. */
static int
enc_stream(struct pool *p, const struct ls_api_response *r, Lodestone__Api__Response *m,
	   struct ls_err_ctx *ctx)
{
	Lodestone__Api__Stream *st;

	if (!r->stream.on)
		return 0;
	if ((st = pool_alloc(p, 1, sizeof(*st))) == NULL)
		return LS_ERR_NOMEM;
	lodestone__api__stream__init(st);
	if (!r->stream.done) {
		st->has_token = true;
		st->token = bin(r->stream.token, LS_API_TOKEN_LEN);
	}
	st->has_done = true;
	st->done = r->stream.done;
	st->has_total = r->stream.total != 0;
	st->total = r->stream.total;
	st->has_seq = true;
	st->seq = r->stream.seq;
	switch (r->kind) {
	case LS_API_BUNDLE: m->bundle->stream = st; return 0;
	case LS_API_TRACE: m->trace->stream = st; return 0;
	case LS_API_LOG: m->log->stream = st; return 0;
	default:
		return ls_err_set(ctx, LS_ERR_INVALID, "a %s result is not streamed",
				  ls_api_kind_name(r->kind));
	}
}

int
ls_api_response_encode(const struct ls_api_response *resp, uint8_t **buf, size_t *len,
		       struct ls_err_ctx *ctx)
{
	Lodestone__Api__Response m = LODESTONE__API__RESPONSE__INIT;
	struct pool p = {0};
	char msg[LS_ERR_MSG_MAX];
	int rc = 0;

	*buf = NULL;
	*len = 0;
	m.version = LS_API_VERSION;
	if (resp->error != 0) {
		if (resp->error > 0)
			return ls_err_set(ctx, LS_ERR_INVALID, "error code %d is positive",
					  resp->error);
		m.has_error = true;
		m.error = resp->error;
		copy_msg(msg, sizeof(msg),
			 resp->message[0] != '\0' ? resp->message : ls_strerror(resp->error));
		m.message = msg;
	} else if ((rc = enc_result(&p, resp, &m, ctx)) != 0 ||
		   (rc = enc_stream(&p, resp, &m, ctx)) != 0) {
		goto out;
	}
	rc = pack(&m.base, LS_API_RESPONSE_MAX, buf, len, ctx);
	if (rc == LS_ERR_TOO_BIG)
		ls_err_set(ctx, rc, "%s result is over %zu bytes", ls_api_kind_name(resp->kind),
			   LS_API_RESPONSE_MAX);
out:
	pool_release(&p);
	return rc;
}

/* ---- responses: decode ---- */

static int
dec_submit(struct ls_api_response *r, const Lodestone__Api__SubmitResult *s, struct ls_err_ctx *ctx)
{
	struct ls_ingest_result *res;
	int rc;

	if ((rc = check_count(s->n_outcomes, LS_API_SUBMIT_MAX, "submit result", ctx)) != 0)
		return rc;
	if ((res = calloc(s->n_outcomes ? s->n_outcomes : 1, sizeof(*res))) == NULL)
		return LS_ERR_NOMEM;
	r->kind = LS_API_SUBMIT;
	r->submit.results = res;
	r->submit.n = s->n_outcomes;
	for (size_t i = 0; i < s->n_outcomes; i++) {
		const Lodestone__Api__SubmitOutcome *o = s->outcomes[i];
		if ((unsigned)o->status > LODESTONE__API__SUBMIT_STATUS__SUBMIT_REJECTED)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "submit status %d is unknown",
					  (int)o->status);
		res[i].status = (enum ls_ingest_status)o->status;
		if (o->has_id) {
			if ((rc = copy_key(res[i].id, &o->id, "submit id", ctx)) != 0)
				return rc;
			res[i].has_id = true;
		}
		res[i].type = LS_REC_NONE;
		if (o->type != NULL) {
			if ((rc = check_str(o->type, 32, false, "submit type", ctx)) != 0)
				return rc;
			res[i].type = ls_rtype_parse(o->type);
		}
		res[i].reason = LS_R_OK;
		if (o->reason != NULL &&
		    (rc = parse_reason(o->reason, &res[i].reason, "submit reason", ctx)) != 0)
			return rc;
		if (res[i].status == LS_INGEST_REJECTED && res[i].reason == LS_R_OK)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "submit outcome %zu is rejected without a reason", i);
		copy_msg(res[i].message, sizeof(res[i].message), o->message);
		if (o->has_dependency) {
			if ((rc = copy_key(res[i].missing, &o->dependency, "submit dependency",
					   ctx)) != 0)
				return rc;
			res[i].has_missing = true;
		}
	}
	return 0;
}

static int
dec_kind(const char *name, enum ls_verdict_kind *out, struct ls_err_ctx *ctx)
{
	int k;

	for (k = LS_V_VALID; k <= LS_V_DENIED; k++)
		if (name != NULL && strcmp(name, ls_verdict_name(k)) == 0)
			break;
	if (k > LS_V_DENIED)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "verdict '%.32s' is unknown",
				  name ? name : "");
	*out = (enum ls_verdict_kind)k;
	return 0;
}

static int
dec_reasons(struct ls_verdict *v, Lodestone__Api__VerdictReason *const *in, size_t n, size_t max,
	    struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_count(n, max, "verdict", ctx)) != 0)
		return rc;
	if (n != 0 && (v->reasons = calloc(n, sizeof(*v->reasons))) == NULL)
		return LS_ERR_NOMEM;
	v->n = n;
	for (size_t i = 0; i < n; i++) {
		const Lodestone__Api__VerdictReason *x = in[i];
		struct ls_verdict_reason *y = &v->reasons[i];
		if ((rc = parse_reason(x->code, &y->code, "verdict reason code", ctx)) != 0)
			return rc;
		copy_msg(y->message, sizeof(y->message), x->message);
		if ((rc = check_count(x->n_records, LS_REASON_IDS_MAX, "verdict reason records",
				      ctx)) != 0)
			return rc;
		for (size_t j = 0; j < x->n_records; j++)
			if ((rc = copy_key(y->ids[j], &x->records[j], "verdict reason record",
					   ctx)) != 0)
				return rc;
		y->n_ids = x->n_records;
		y->warning = x->has_warning && x->warning;
	}
	return 0;
}

static int
dec_verify(struct ls_api_response *r, const Lodestone__Api__VerifyResult *s, struct ls_err_ctx *ctx)
{
	struct ls_verdict *v = &r->verify;
	int rc;

	ls_verdict_init(v);
	r->kind = LS_API_VERIFY;
	if ((rc = dec_kind(s->verdict, &v->kind, ctx)) != 0 ||
	    (rc = dec_reasons(v, s->reasons, s->n_reasons, LS_API_REASONS_MAX, ctx)) != 0 ||
	    (rc = check_count(s->n_parts, LS_VERDICT_PARTS_MAX, "verdict parts", ctx)) != 0)
		return rc;
	v->ancestors = s->has_ancestors ? s->ancestors : 0;
	v->parts_more = s->has_parts_more ? s->parts_more : 0;
	if (s->n_parts != 0 && (v->parts = calloc(s->n_parts, sizeof(*v->parts))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < s->n_parts; i++) {
		const Lodestone__Api__VerdictPart *x = s->parts[i];
		struct ls_verdict_part *y = &v->parts[i];
		v->n_parts++;
		if ((rc = copy_key(y->holder, &x->holder, "verdict part holder", ctx)) != 0 ||
		    (x->has_transfer && (rc = copy_key(y->transfer, &x->transfer,
						       "verdict part transfer", ctx)) != 0) ||
		    (rc = check_grams(x->grams, "verdict part grams", ctx)) != 0 ||
		    (rc = dec_kind(x->verdict, &y->v.kind, ctx)) != 0 ||
		    (rc = dec_reasons(&y->v, x->reasons, x->n_reasons, LS_API_PART_REASONS, ctx)) !=
			0)
			return rc;
		y->in_transit = x->has_transfer;
		y->grams = x->grams;
		y->v.reasons_more = x->has_reasons_more ? x->reasons_more : 0;
	}
	return 0;
}

#define ORIGIN_PLACES_MAX 65536

/* The stages of one element: known names in stage order, places that add
 * up to each stage's grams, no more than the element's. */
static int
dec_stages(const Lodestone__Api__OriginElement *x, struct ls_origin_elem *y, struct ls_err_ctx *ctx)
{
	int rc, last = -1;

	if (x->n_stages == 0)
		return 0;
	if ((rc = check_count(x->n_stages, LS_STAGE_COUNT, "origin stages", ctx)) != 0)
		return rc;
	if ((y->stages = calloc(x->n_stages, sizeof(*y->stages))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < x->n_stages; i++) {
		const Lodestone__Api__OriginStage *s = x->stages[i];
		struct ls_origin_stage *st = &y->stages[i];
		uint64_t sum = 0;
		int k = s->stage ? ls_stage_parse(s->stage) : -1;
		y->n_stages = i + 1;
		if (k <= last)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "origin stage '%.16s' is unknown or out of order",
					  s->stage ? s->stage : "");
		last = k;
		st->stage = k;
		if (s->grams > y->grams)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "origin stage %s has more grams than the element",
					  ls_stage_name(k));
		st->grams = s->grams;
		if ((rc = check_count(s->n_places, ORIGIN_PLACES_MAX, "origin stage places",
				      ctx)) != 0)
			return rc;
		if (s->n_places > 0 &&
		    (st->places = calloc(s->n_places, sizeof(*st->places))) == NULL)
			return LS_ERR_NOMEM;
		for (size_t j = 0; j < s->n_places; j++) {
			const Lodestone__Api__OriginPlace *pi = s->places[j];
			struct ls_stage_place *po = &st->places[j];
			st->n_places = j + 1;
			if (pi->country != NULL && *pi->country != '\0' &&
			    !ls_country_valid(pi->country))
				return ls_err_set(
				    ctx, LS_ERR_MALFORMED,
				    "origin place country '%.8s' is not a country code",
				    pi->country);
			if ((pi->site && (rc = check_str(pi->site, LS_STR_MAX, true, "origin site",
							 ctx)) != 0) ||
			    (pi->org &&
			     (rc = check_str(pi->org, LS_STR_MAX, true, "origin org", ctx)) != 0) ||
			    (rc = copy_key(po->record, &pi->record, "origin place record", ctx)) !=
				0 ||
			    (rc = check_grams(pi->grams, "origin place grams", ctx)) != 0)
				return rc;
			snprintf(po->country, sizeof(po->country), "%s",
				 pi->country ? pi->country : "");
			snprintf(po->site, sizeof(po->site), "%s", pi->site ? pi->site : "");
			snprintf(po->org, sizeof(po->org), "%s", pi->org ? pi->org : "");
			po->grams = pi->grams;
			sum += pi->grams;
			if (sum > st->grams)
				break;
		}
		if (sum != st->grams)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "origin stage %s places do not add up to its grams",
					  ls_stage_name(k));
		if ((rc = ls_origin_stage_countries(st)) != 0)
			return rc;
	}
	return 0;
}

static int
dec_parts(Lodestone__Api__OriginPart **in, size_t n, uint64_t grams, const char *field,
	  struct ls_origin_part **out, size_t *n_out, struct ls_err_ctx *ctx)
{
	uint64_t sum = 0;
	int rc;

	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL)
		return LS_ERR_NOMEM;
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		if ((rc = check_str(in[i]->name, LS_STR_MAX, true, field, ctx)) != 0)
			return rc;
		if ((rc = check_grams(in[i]->grams, field, ctx)) != 0)
			return rc;
		memcpy((*out)[i].name, in[i]->name, strlen(in[i]->name) + 1);
		(*out)[i].grams = in[i]->grams;
		sum += in[i]->grams; /* no overflow: n * 10^15 < 2^64 for n < 18000 */
		if (sum > grams)
			break;
	}
	if (sum != grams)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "origin %s parts do not add up to the element's grams", field);
	return 0;
}

static int
dec_origin(struct ls_api_response *r, const Lodestone__Api__OriginResult *s, struct ls_err_ctx *ctx)
{
	struct ls_origin *o = &r->origin;
	int rc;

	if ((rc = check_count(s->n_elements, 118, "origin", ctx)) != 0)
		return rc;
	r->kind = LS_API_ORIGIN;
	if ((rc = copy_key(o->lot, &s->lot, "origin lot", ctx)) != 0 ||
	    (s->has_holder && (rc = copy_key(o->holder, &s->holder, "origin holder", ctx)) != 0) ||
	    (rc = check_grams(s->has_grams ? s->grams : 0, "origin grams", ctx)) != 0)
		return rc;
	o->has_holder = s->has_holder;
	o->grams = s->has_grams ? s->grams : 0;
	if (s->category != NULL) {
		if (!ls_category_valid(s->category))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "origin category '%.16s' is unknown", s->category);
		snprintf(o->category, sizeof(o->category), "%s", s->category);
	}
	if (s->n_elements != 0 && (o->elems = calloc(s->n_elements, sizeof(*o->elems))) == NULL)
		return LS_ERR_NOMEM;
	o->n = s->n_elements;
	for (size_t i = 0; i < s->n_elements; i++) {
		const Lodestone__Api__OriginElement *x = s->elements[i];
		struct ls_origin_elem *y = &o->elems[i];
		if (ls_element_symbol(x->z) == NULL || (i > 0 && x->z <= s->elements[i - 1]->z))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "origin element %u is unknown or out of order", x->z);
		if ((rc = check_grams(x->grams, "origin grams", ctx)) != 0)
			return rc;
		y->z = x->z;
		y->grams = x->grams;
		if ((rc = dec_parts(x->by_country, x->n_by_country, x->grams, "by_country",
				    &y->by_country, &y->n_country, ctx)) != 0 ||
		    (rc = dec_parts(x->by_mine, x->n_by_mine, x->grams, "by_mine", &y->by_mine,
				    &y->n_mine, ctx)) != 0 ||
		    (rc = dec_parts(x->by_processing_country, x->n_by_processing_country, x->grams,
				    "by_processing_country", &y->by_processing, &y->n_processing,
				    ctx)) != 0 ||
		    (rc = dec_stages(x, y, ctx)) != 0)
			return rc;
	}
	return 0;
}

/* A transfer's country: absent, empty or a country code. */
static int
trace_country(const char *in, char out[LS_COUNTRY_LEN + 1], const char *which,
	      struct ls_err_ctx *ctx)
{
	if (in == NULL || *in == '\0')
		return 0;
	if (!ls_country_valid(in))
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "trace transfer %s_country '%.8s' is not a country code", which,
				  in);
	memcpy(out, in, LS_COUNTRY_LEN + 1);
	return 0;
}

static int
dec_trace(struct ls_api_response *r, const Lodestone__Api__TraceResult *s, struct ls_err_ctx *ctx)
{
	struct ls_trace *t = &r->trace;
	int rc;

	r->kind = LS_API_TRACE;
	if ((s->n_nodes && (t->nodes = calloc(s->n_nodes, sizeof(*t->nodes))) == NULL) ||
	    (s->n_edges && (t->edges = calloc(s->n_edges, sizeof(*t->edges))) == NULL) ||
	    (s->n_transfers &&
	     (t->transfers = calloc(s->n_transfers, sizeof(*t->transfers))) == NULL))
		return LS_ERR_NOMEM;
	t->n_nodes = s->n_nodes;
	t->n_edges = s->n_edges;
	t->n_transfers = s->n_transfers;
	for (size_t i = 0; i < s->n_nodes; i++) {
		const Lodestone__Api__TraceNode *x = s->nodes[i];
		struct ls_trace_node *y = &t->nodes[i];
		if ((rc = copy_key(y->id, &x->id, "trace node id", ctx)) != 0 ||
		    (rc = check_str(x->label, LS_STR_MAX, false, "trace node label", ctx)) != 0 ||
		    (rc = check_str(x->category, sizeof(y->category) - 1, false,
				    "trace node category", ctx)) != 0 ||
		    (rc = check_grams(x->grams, "trace node grams", ctx)) != 0)
			return rc;
		if (x->country != NULL && *x->country != '\0' && !ls_country_valid(x->country))
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "trace node country '%.8s' is not a country code",
					  x->country);
		if (x->has_holder &&
		    (rc = copy_key(y->holder, &x->holder, "trace node holder", ctx)) != 0)
			return rc;
		if (x->has_record &&
		    (rc = copy_key(y->record, &x->record, "trace node record", ctx)) != 0)
			return rc;
		y->transformed = x->has_transformed && x->transformed;
		if (x->label != NULL)
			memcpy(y->label, x->label, strlen(x->label) + 1);
		if (x->category != NULL)
			memcpy(y->category, x->category, strlen(x->category) + 1);
		if (x->country != NULL && *x->country != '\0')
			memcpy(y->country, x->country, LS_COUNTRY_LEN + 1);
		y->grams = x->grams;
	}
	for (size_t i = 0; i < s->n_edges; i++) {
		const Lodestone__Api__TraceEdge *x = s->edges[i];
		struct ls_trace_edge *y = &t->edges[i];
		if ((rc = copy_key(y->from, &x->from, "trace edge from", ctx)) != 0 ||
		    (rc = copy_key(y->to, &x->to, "trace edge to", ctx)) != 0 ||
		    (rc = copy_key(y->record, &x->record, "trace edge record", ctx)) != 0 ||
		    (rc = check_grams(x->grams, "trace edge grams", ctx)) != 0 ||
		    (x->has_by && (rc = copy_key(y->by, &x->by, "trace edge by", ctx)) != 0))
			return rc;
		y->grams = x->grams;
		y->held = x->has_held && x->held;
		y->repeat = x->has_repeat && x->repeat;
	}
	for (size_t i = 0; i < s->n_transfers; i++) {
		const Lodestone__Api__TraceTransfer *x = s->transfers[i];
		struct ls_trace_transfer *y = &t->transfers[i];
		if ((rc = copy_key(y->lot, &x->lot, "trace transfer lot", ctx)) != 0 ||
		    (rc = copy_key(y->record, &x->record, "trace transfer record", ctx)) != 0 ||
		    (rc = copy_key(y->from, &x->from, "trace transfer from", ctx)) != 0 ||
		    (rc = copy_key(y->to, &x->to, "trace transfer to", ctx)) != 0 ||
		    (rc = check_grams(x->grams, "trace transfer grams", ctx)) != 0)
			return rc;
		y->grams = x->grams;
		y->received = x->has_received && x->received;
		y->from_maker = x->has_from_maker && x->from_maker;
		if ((rc = trace_country(x->from_country, y->from_country, "from", ctx)) != 0 ||
		    (rc = trace_country(x->to_country, y->to_country, "to", ctx)) != 0 ||
		    (rc = check_str(x->license_number, LS_STR_MAX, false,
				    "trace transfer license_number", ctx)) != 0)
			return rc;
		if (x->has_license) {
			if ((rc = copy_key(y->license, &x->license, "trace transfer license",
					   ctx)) != 0)
				return rc;
			y->has_license = true;
			snprintf(y->license_number, sizeof(y->license_number), "%s",
				 x->license_number ? x->license_number : "");
		}
		if ((x->has_receipt && (rc = copy_key(y->receipt, &x->receipt,
						      "trace transfer receipt", ctx)) != 0) ||
		    (rc = check_grams(x->received_grams, "trace transfer received_grams", ctx)) !=
			0 ||
		    (rc = check_grams(x->returned_grams, "trace transfer returned_grams", ctx)) !=
			0 ||
		    (rc = check_grams(x->taken_back_grams, "trace transfer taken_back_grams",
				      ctx)) != 0 ||
		    (rc = check_str(x->reason, LS_STR_MAX, false, "trace transfer reason", ctx)) !=
			0 ||
		    (rc = check_str(x->loss_reason, LS_STR_MAX, false, "trace transfer loss_reason",
				    ctx)) != 0)
			return rc;
		y->received_grams = x->received_grams;
		y->returned_grams = x->returned_grams;
		y->taken_back = x->has_taken_back && x->taken_back;
		y->taken_back_grams = x->taken_back_grams;
		snprintf(y->reason, sizeof(y->reason), "%s", x->reason ? x->reason : "");
		snprintf(y->loss_reason, sizeof(y->loss_reason), "%s",
			 x->loss_reason ? x->loss_reason : "");
	}
	return 0;
}

static int
dec_flows(Lodestone__Api__Flow *const *v, size_t n, const char *what, struct ls_flow **out,
	  size_t *n_out, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_count(n, LS_HOLDINGS_MAX, what, ctx)) != 0)
		return rc;
	if (n != 0 && (*out = calloc(n, sizeof(**out))) == NULL)
		return LS_ERR_NOMEM;
	*n_out = n;
	for (size_t i = 0; i < n; i++) {
		const Lodestone__Api__Flow *x = v[i];
		struct ls_flow *y = &(*out)[i];
		if ((rc = copy_key(y->id, &x->id, "holdings flow id", ctx)) != 0 ||
		    (rc = copy_key(y->lot, &x->lot, "holdings flow lot", ctx)) != 0 ||
		    (rc = copy_key(y->party, &x->party, "holdings flow party", ctx)) != 0 ||
		    (rc = check_grams(x->grams, "holdings flow grams", ctx)) != 0 ||
		    (rc = check_str(x->label, LS_STR_MAX, false, "holdings flow label", ctx)) !=
			0 ||
		    (rc = check_str(x->reason, LS_STR_MAX, false, "holdings flow reason", ctx)) !=
			0)
			return rc;
		y->grams = x->grams;
		y->is_return = x->has_is_return && x->is_return;
		memcpy(y->transfer, y->id, LS_ID_LEN);
		if (x->has_transfer &&
		    (rc = copy_key(y->transfer, &x->transfer, "holdings flow transfer", ctx)) != 0)
			return rc;
		snprintf(y->label, sizeof(y->label), "%s", x->label ? x->label : "");
		snprintf(y->reason, sizeof(y->reason), "%s", x->reason ? x->reason : "");
	}
	return 0;
}

static int
dec_holdings(struct ls_api_response *r, const Lodestone__Api__HoldingsResult *s,
	     struct ls_err_ctx *ctx)
{
	struct ls_holdings *h = &r->holdings;
	int rc;

	if ((rc = check_count(s->n_holds, LS_HOLDINGS_MAX, "holdings holds", ctx)) != 0)
		return rc;
	r->kind = LS_API_HOLDINGS;
	if ((rc = copy_key(h->holder, &s->holder, "holdings holder", ctx)) != 0)
		return rc;
	if (s->n_holds != 0 && (h->holds = calloc(s->n_holds, sizeof(*h->holds))) == NULL)
		return LS_ERR_NOMEM;
	h->n_holds = s->n_holds;
	for (size_t i = 0; i < s->n_holds; i++) {
		const Lodestone__Api__Holding *x = s->holds[i];
		struct ls_holding *y = &h->holds[i];
		if ((rc = copy_key(y->lot, &x->lot, "holdings lot", ctx)) != 0 ||
		    (rc = check_grams(x->grams, "holdings grams", ctx)) != 0 ||
		    (rc = check_str(x->label, LS_STR_MAX, false, "holdings label", ctx)) != 0 ||
		    (rc = check_str(x->category, sizeof(y->category) - 1, false,
				    "holdings category", ctx)) != 0)
			return rc;
		y->grams = x->grams;
		snprintf(y->label, sizeof(y->label), "%s", x->label ? x->label : "");
		snprintf(y->category, sizeof(y->category), "%s", x->category ? x->category : "");
	}
	if ((rc = dec_flows(s->incoming, s->n_incoming, "holdings incoming", &h->in, &h->n_in,
			    ctx)) != 0 ||
	    (rc = dec_flows(s->outgoing, s->n_outgoing, "holdings outgoing", &h->out, &h->n_out,
			    ctx)) != 0)
		return rc;
	h->more_holds = s->has_more_holds && s->more_holds;
	h->more_in = s->has_more_incoming && s->more_incoming;
	h->more_out = s->has_more_outgoing && s->more_outgoing;
	return 0;
}

/* A chunk's Stream message (NULL: the result is whole). */
static int
dec_stream(struct ls_api_response *r, const Lodestone__Api__Stream *st, struct ls_err_ctx *ctx)
{
	if (st == NULL)
		return 0;
	r->stream.on = true;
	r->stream.done = st->has_done && st->done;
	r->stream.total = st->has_total ? st->total : 0;
	r->stream.seq = st->has_seq ? st->seq : 0;
	if (r->stream.done)
		return 0;
	if (!st->has_token || st->token.len != LS_API_TOKEN_LEN)
		return ls_err_set(ctx, LS_ERR_MALFORMED,
				  "a stream chunk that is not the last has %s",
				  st->has_token ? "a token of the wrong size" : "no token");
	memcpy(r->stream.token, st->token.data, LS_API_TOKEN_LEN);
	return 0;
}

static int
dec_log(struct ls_api_response *r, const Lodestone__Api__LogResult *s, struct ls_err_ctx *ctx)
{
	struct ls_api_log_page *p = &r->log;
	int rc;

	if ((rc = check_count(s->n_entries, LS_API_LOG_PAGE_MAX, "log page", ctx)) != 0)
		return rc;
	r->kind = LS_API_LOG;
	if (s->n_entries != 0 && (p->entries = calloc(s->n_entries, sizeof(*p->entries))) == NULL)
		return LS_ERR_NOMEM;
	p->more = s->has_more && s->more;
	for (size_t i = 0; i < s->n_entries; i++) {
		const Lodestone__Api__LogEntry *x = s->entries[i];
		if (x->envelope.len == 0 || x->envelope.len > LS_ENVELOPE_MAX)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "log envelope %zu is %zu bytes", i,
					  x->envelope.len);
		/* store order, forwards or (newest first) backwards, never both */
		if (i > 0 &&
		    (x->position == s->entries[i - 1]->position ||
		     (i > 1 && (x->position > s->entries[i - 1]->position) !=
				   (s->entries[i - 1]->position > s->entries[i - 2]->position))))
			return ls_err_set(ctx, LS_ERR_MALFORMED, "log positions are out of order");
		if ((p->entries[i].env = malloc(x->envelope.len)) == NULL)
			return LS_ERR_NOMEM;
		memcpy(p->entries[i].env, x->envelope.data, x->envelope.len);
		p->entries[i].len = x->envelope.len;
		p->entries[i].pos = x->position;
		p->n = i + 1;
	}
	return 0;
}

static int
copy_endpoint(char *dst, const char *s, bool required, const char *field, struct ls_err_ctx *ctx)
{
	int rc;

	if ((rc = check_str(s, LS_API_ENDPOINT_MAX - 1, required, field, ctx)) != 0)
		return rc;
	if (s != NULL)
		memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* An optional one-line string into dst (cap bytes with the NUL). */
static int
copy_bounded(char *dst, size_t cap, const char *s, const char *field, struct ls_err_ctx *ctx)
{
	int rc;

	dst[0] = '\0';
	if ((rc = check_str(s, cap - 1, false, field, ctx)) != 0)
		return rc;
	if (s != NULL)
		memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Text in a bytes field (a note, a proof): 1..max bytes, no NUL, copied
 * NUL-terminated. */
static int
dec_text(const ProtobufCBinaryData *b, size_t max, char **out, size_t *len, const char *field,
	 struct ls_err_ctx *ctx)
{
	if (b->len == 0 || b->len > max)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is %zu bytes", field, b->len);
	if (memchr(b->data, '\0', b->len) != NULL)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s has a NUL byte", field);
	if ((*out = malloc(b->len + 1)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(*out, b->data, b->len);
	(*out)[b->len] = '\0';
	*len = b->len;
	return 0;
}

static int
dec_status(struct ls_api_response *r, const Lodestone__Api__StatusResult *s, struct ls_err_ctx *ctx)
{
	struct ls_api_status *st = &r->status;
	int rc;

	if ((rc = check_count(s->n_peers, 4096, "status peers", ctx)) != 0)
		return rc;
	r->kind = LS_API_STATUS;
	if ((rc = copy_key(st->node_key, &s->node_key, "status node_key", ctx)) != 0 ||
	    (rc = copy_endpoint(st->api, s->api, false, "status api", ctx)) != 0 ||
	    (rc = copy_endpoint(st->listen, s->listen, false, "status listen", ctx)) != 0)
		return rc;
	st->stats.records = s->records;
	st->stats.pending = s->pending;
	st->stats.equivocations = s->equivocations;
	st->stats.authors = s->authors;
	st->stats.map_size = s->map_size;
	if (s->has_set_digest) {
		if ((rc = check_bin(&s->set_digest, LS_ID_LEN, "status set_digest", ctx)) != 0)
			return rc;
		memcpy(st->stats.set_digest, s->set_digest.data, LS_ID_LEN);
	}
	st->log_size = s->log_size;
	st->log_sealed = s->log_sealed;
	st->checkpoint_size = s->checkpoint_size;
	st->checkpoint_time = s->checkpoint_time;
	if ((rc = copy_bounded(st->log_origin, sizeof(st->log_origin), s->log_origin,
			       "status log_origin", ctx)) != 0 ||
	    (rc = copy_bounded(st->log_vkey, sizeof(st->log_vkey), s->log_vkey, "status log_vkey",
			       ctx)) != 0 ||
	    (rc = copy_bounded(st->witness_vkey, sizeof(st->witness_vkey), s->witness_vkey,
			       "status witness_vkey", ctx)) != 0)
		return rc;
	if (s->n_peers != 0 && (st->peers = calloc(s->n_peers, sizeof(*st->peers))) == NULL)
		return LS_ERR_NOMEM;
	st->n_peers = s->n_peers;
	for (size_t i = 0; i < s->n_peers; i++) {
		const Lodestone__Api__Peer *x = s->peers[i];
		struct ls_api_peer *y = &st->peers[i];
		if ((rc = copy_endpoint(y->endpoint, x->endpoint, true, "peer endpoint", ctx)) != 0)
			return rc;
		if (x->has_key) {
			if ((rc = copy_key(y->key, &x->key, "peer key", ctx)) != 0)
				return rc;
			y->has_key = true;
		}
		y->connected = x->has_connected && x->connected;
		y->last_sync = x->last_sync;
		y->received = x->received;
		y->rejected = x->rejected;
		if ((rc = copy_bounded(y->log_vkey, sizeof(y->log_vkey), x->log_vkey,
				       "peer log_vkey", ctx)) != 0 ||
		    (rc = copy_bounded(y->witness_vkey, sizeof(y->witness_vkey), x->witness_vkey,
				       "peer witness_vkey", ctx)) != 0 ||
		    (rc = copy_bounded(y->refusal, sizeof(y->refusal), x->refusal, "peer refusal",
				       ctx)) != 0 ||
		    (rc = copy_bounded(y->refused_reason, sizeof(y->refused_reason),
				       x->refused_reason, "peer refused_reason", ctx)) != 0)
			return rc;
		y->cosigned_size = x->cosigned_size;
		y->cosigned_time = x->cosigned_time;
		y->refused_ours = x->refused_ours;
		y->witnessed_size = x->witnessed_size;
		y->witnessed_time = x->witnessed_time;
		y->cosigned_theirs = x->cosigned_theirs;
		y->refused_theirs = x->refused_theirs;
		y->distrusted = x->has_distrusted && x->distrusted;
		y->cosign_rtt_us = x->cosign_rtt_us;
		y->dropped = x->dropped;
		y->throttled = x->throttled;
	}
	if ((rc = check_count(s->n_split_views, LS_API_SPLITS_MAX, "status split views", ctx)) != 0)
		return rc;
	if (s->n_split_views != 0 &&
	    (st->split_views = calloc(s->n_split_views, sizeof(*st->split_views))) == NULL)
		return LS_ERR_NOMEM;
	st->n_split_views = s->n_split_views;
	for (size_t i = 0; i < s->n_split_views; i++) {
		const Lodestone__Api__SplitViewInfo *x = s->split_views[i];
		struct ls_api_splitview *y = &st->split_views[i];
		if ((rc = copy_bounded(y->origin, sizeof(y->origin), x->origin, "split view origin",
				       ctx)) != 0)
			return rc;
		y->size_a = x->size_a;
		y->size_b = x->size_b;
	}
	st->witnesses = s->witnesses;
	st->witness_quorum = s->witness_quorum;
	st->quorum_size = s->quorum_size;
	st->streams_open = s->streams_open;
	st->stream_bytes = s->stream_bytes;
	st->api_connections = s->api_connections;
	st->api_connections_max = s->api_connections_max;
	st->api_queued_bytes = s->api_queued_bytes;
	st->api_busy = s->api_busy;
	if ((rc = check_count(s->n_trust, LS_API_TRUST_MAX, "status trust keys", ctx)) != 0)
		return rc;
	if (s->n_trust != 0 && (st->trust = calloc(s->n_trust, sizeof(*st->trust))) == NULL)
		return LS_ERR_NOMEM;
	for (size_t i = 0; i < s->n_trust; i++) {
		if ((rc = copy_key(st->trust[i], &s->trust[i], "status trust key", ctx)) != 0)
			return rc;
		st->n_trust++;
	}
	return 0;
}

static int
dec_bytes(const ProtobufCBinaryData *b, size_t max, uint8_t **out, size_t *len, const char *field,
	  struct ls_err_ctx *ctx)
{
	if (b->len == 0 || b->len > max)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "%s is %zu bytes", field, b->len);
	if ((*out = malloc(b->len)) == NULL)
		return LS_ERR_NOMEM;
	memcpy(*out, b->data, b->len);
	*len = b->len;
	return 0;
}

static int
from_response(struct ls_api_response *r, const Lodestone__Api__Response *m, struct ls_err_ctx *ctx)
{
	int rc;

	if (m->has_error && m->error != 0) {
		if (m->error > 0 || m->error < -999)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "error code %d is out of range",
					  m->error);
		if (m->kind_case != LODESTONE__API__RESPONSE__KIND__NOT_SET)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "error response carries a result");
		r->error = m->error;
		copy_msg(r->message, sizeof(r->message),
			 m->message != NULL && *m->message != '\0' ? m->message
								   : ls_strerror(m->error));
		return 0;
	}
	switch (m->kind_case) {
	case LODESTONE__API__RESPONSE__KIND_SUBMIT: return dec_submit(r, m->submit, ctx);
	case LODESTONE__API__RESPONSE__KIND_HEAD:
		r->kind = LS_API_HEAD;
		r->head.seq = m->head->seq;
		if (m->head->seq == 0)
			return 0;
		if (!m->head->has_id)
			return ls_err_set(ctx, LS_ERR_MALFORMED, "head result has no id");
		r->head.timestamp = m->head->timestamp;
		return copy_key(r->head.id, &m->head->id, "head id", ctx);
	case LODESTONE__API__RESPONSE__KIND_GET:
		if ((rc = dec_bytes(&m->get->envelope, LS_ENVELOPE_MAX, &r->get.env, &r->get.len,
				    "get envelope", ctx)) != 0)
			return rc;
		r->kind = LS_API_GET;
		return 0;
	case LODESTONE__API__RESPONSE__KIND_RESOLVE:
		r->kind = LS_API_RESOLVE;
		return copy_key(r->resolve.id, &m->resolve->id, "resolve id", ctx);
	case LODESTONE__API__RESPONSE__KIND_CERT_OF:
		r->kind = LS_API_CERT_OF;
		return copy_key(r->cert_of.cert, &m->cert_of->cert, "cert_of cert", ctx);
	case LODESTONE__API__RESPONSE__KIND_VERIFY: return dec_verify(r, m->verify, ctx);
	case LODESTONE__API__RESPONSE__KIND_ORIGIN: return dec_origin(r, m->origin, ctx);
	case LODESTONE__API__RESPONSE__KIND_TRACE:
		if ((rc = dec_trace(r, m->trace, ctx)) != 0)
			return rc;
		return dec_stream(r, m->trace->stream, ctx);
	case LODESTONE__API__RESPONSE__KIND_HOLDINGS: return dec_holdings(r, m->holdings, ctx);
	case LODESTONE__API__RESPONSE__KIND_LOG:
		if ((rc = dec_log(r, m->log, ctx)) != 0)
			return rc;
		return dec_stream(r, m->log->stream, ctx);
	case LODESTONE__API__RESPONSE__KIND_STATUS: return dec_status(r, m->status, ctx);
	case LODESTONE__API__RESPONSE__KIND_BUNDLE:
		/* A stream's last chunk may be empty (a cancelled stream). */
		if (m->bundle->stream != NULL && m->bundle->bundle.len == 0)
			r->bundle.len = 0;
		else if ((rc = dec_bytes(&m->bundle->bundle, LS_API_RESPONSE_MAX, &r->bundle.bytes,
					 &r->bundle.len, "bundle", ctx)) != 0)
			return rc;
		r->kind = LS_API_BUNDLE;
		return dec_stream(r, m->bundle->stream, ctx);
	case LODESTONE__API__RESPONSE__KIND_CHECKPOINT:
		if ((rc = dec_text(&m->checkpoint->note, LS_NOTE_MAX, &r->checkpoint.note,
				   &r->checkpoint.len, "checkpoint note", ctx)) != 0)
			return rc;
		r->checkpoint.size = m->checkpoint->size;
		r->kind = LS_API_CHECKPOINT;
		return 0;
	case LODESTONE__API__RESPONSE__KIND_PROVE:
		if ((rc = copy_key(r->prove.id, &m->prove->id, "prove id", ctx)) != 0)
			return rc;
		if (m->prove->index >= m->prove->size)
			return ls_err_set(ctx, LS_ERR_MALFORMED,
					  "prove index %llu is not below size %llu",
					  (unsigned long long)m->prove->index,
					  (unsigned long long)m->prove->size);
		if ((rc = dec_text(&m->prove->proof, LS_API_PROOF_MAX, &r->prove.proof,
				   &r->prove.len, "proof", ctx)) != 0)
			return rc;
		r->prove.index = m->prove->index;
		r->prove.size = m->prove->size;
		r->kind = LS_API_PROVE;
		return 0;
	default: return ls_err_set(ctx, LS_ERR_MALFORMED, "response has neither error nor result");
	}
}

int
ls_api_response_decode(const uint8_t *buf, size_t len, struct ls_api_response *resp,
		       struct ls_err_ctx *ctx)
{
	struct ls_pb_budget bud;
	Lodestone__Api__Response *m;
	int rc;

	ls_api_response_init(resp);
	if (buf == NULL || len == 0)
		return ls_err_set(ctx, LS_ERR_MALFORMED, "empty response");
	if (len > LS_API_RESPONSE_MAX)
		return ls_err_set(ctx, LS_ERR_TOO_BIG, "response of %zu bytes is over %zu", len,
				  LS_API_RESPONSE_MAX);
	ls_pb_budget_init(&bud, UNPACK_BUDGET(len));
	m = lodestone__api__response__unpack(&bud.alloc, len, buf);
	if (m == NULL)
		return ls_err_set(ctx, bud.left < len ? LS_ERR_TOO_BIG : LS_ERR_MALFORMED,
				  "response does not decode");
	if (m->version != LS_API_VERSION) {
		rc = ls_err_set(ctx, LS_ERR_VERSION, "response version %u is not supported (%d is)",
				m->version, LS_API_VERSION);
		goto out;
	}
	if ((rc = from_response(resp, m, ctx)) != 0) {
		if (rc == LS_ERR_NOMEM)
			ls_err_set(ctx, rc, "out of memory decoding a response");
	}
out:
	lodestone__api__response__free_unpacked(m, &bud.alloc);
	if (rc != 0)
		ls_api_response_release(resp);
	return rc;
}
