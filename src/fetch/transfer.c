/* The transfer engine: curl easy handles on one multi handle, retries with
 * exponential back-off, Range resumes and throttled progress reports. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "transfer.h"

#define DEFAULT_RETRY_DELAY_MS 500
#define DEFAULT_STALL_SECONDS 30
#define CONNECT_TIMEOUT_SECONDS 30
#define PROGRESS_INTERVAL_MS 200

/* The engine's next step for a transfer after an attempt ends. */
enum next_step {
	NEXT_DONE = 0,    /* finished and, for files, renamed into place */
	NEXT_RETRY = 1,   /* try again after t->not_before */
	NEXT_RESTART = 2, /* try again now from byte 0, not counted as a retry */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a non-negative integer from the environment (tests shorten delays
 * and timeouts this way); unset or invalid values give fallback. */
static long env_long(const char *name, long fallback)
{
	const char *value = getenv(name);
	char *end;
	long n;

	if (!value || !*value)
		return fallback;
	errno = 0;
	n = strtol(value, &end, 10);
	if (errno || *end || n < 0)
		return fallback;
	return n;
}

static const char *label_of(const struct transfer *t)
{
	return t->label ? t->label : t->url;
}

bool sha256_hex_valid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return i == SHA256_HEX_LEN;
}

void transfer_init(struct transfer *t)
{
	memset(t, 0, sizeof(*t));
	strbuf_init(&t->body);
	t->fd = -1;
	t->range_start = -1;
}

void transfer_release(struct transfer *t)
{
	if (t->easy)
		curl_easy_cleanup(t->easy);
	t->easy = NULL;

	/* A later run cannot find a private .part, so it is deleted. */
	if (t->part_private)
		part_discard(t);
	part_close(t);
	free(t->part);
	t->part = NULL;
	free(t->prefix);
	t->prefix = NULL;
	strbuf_release(&t->body);
}

static void callback_fail(struct transfer *t, int code, const char *fmt, ...)
	REPACK_PRINTF(3, 4);

static void callback_fail(struct transfer *t, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->callback_error, sizeof(t->callback_error), fmt, ap);
	va_end(ap);
	t->callback_rc = code;
}

/* Record the start offset of each response's Content-Range. The status
 * line of every response, redirects included, resets it. */
static size_t header_cb(char *buffer, size_t size, size_t count, void *user)
{
	struct transfer *t = user;
	size_t len = size * count;
	char line[128];
	const char *p;

	if (len >= 5 && memcmp(buffer, "HTTP/", 5) == 0) {
		t->range_start = -1;
		return len;
	}
	if (len < 14 || len >= sizeof(line) ||
	    strncasecmp(buffer, "content-range:", 14) != 0)
		return len;

	memcpy(line, buffer, len);
	line[len] = '\0';
	p = line + 14;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "bytes ", 6) == 0 && isdigit((unsigned char)p[6]))
		t->range_start = strtoll(p + 6, NULL, 10);
	return len;
}

/* Decide what the first body byte of a response means: an error page to
 * drop, the rest of a resumed file, or the whole file again. Returns -1
 * when the transfer must stop. */
static int body_begin(struct transfer *t)
{
	long status = 0;

	t->body_started = true;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300) {
		t->discard = true;
		return 0;
	}
	if (!t->dest || t->offset == 0)
		return 0;

	/* A 200 response to a Range request is the whole file again. */
	if (status == 200) {
		repack_log(t->ctx, REPACK_LOG_DEBUG,
			   "%s ignored the Range request; downloading from the start",
			   t->url);
		if (part_truncate(t->ctx, t) < 0) {
			callback_fail(t, REPACK_EFAIL, "%s", t->ctx->error);
			return -1;
		}
		return 0;
	}
	if (status == 206 && t->range_start < 0) {
		callback_fail(t, REPACK_ENET,
			      "%sthe server answered the Range request for %s with 206 but no Content-Range",
			      t->prefix, t->url);
		return -1;
	}
	if (status == 206 && t->range_start != (int64_t)t->offset) {
		callback_fail(t, REPACK_ENET,
			      "%sthe server answered a request for bytes from %llu of %s with bytes from %lld",
			      t->prefix, (unsigned long long)t->offset, t->url,
			      (long long)t->range_start);
		return -1;
	}
	return 0;
}

static int write_file_data(struct transfer *t, const char *data, size_t len)
{
	int err;

	if (t->size && t->offset + t->received + len > t->size) {
		callback_fail(t, REPACK_EVERIFY,
			      "%s%s sent more than the expected %llu bytes (the mirror may be out of date or serving a different file; the download was removed)",
			      t->prefix, t->url, (unsigned long long)t->size);
		return -1;
	}
	err = part_write(t, data, len);
	if (err) {
		callback_fail(t, REPACK_EFAIL, "cannot write '%s': %s", t->part,
			      strerror(-err));
		return -1;
	}
	return 0;
}

static int write_memory_data(struct transfer *t, const char *data, size_t len)
{
	if (t->max_bytes && t->body.len + len > t->max_bytes) {
		callback_fail(t, REPACK_ENET,
			      "%s is larger than the limit of %zu bytes",
			      t->url, t->max_bytes);
		return -1;
	}
	strbuf_add(&t->body, data, len);
	return 0;
}

static size_t write_cb(char *data, size_t size, size_t count, void *user)
{
	struct transfer *t = user;
	size_t len = size * count;
	int rc;

	if (!t->body_started && body_begin(t) < 0)
		return 0;
	if (t->discard)
		return len;
	rc = t->dest ? write_file_data(t, data, len)
		     : write_memory_data(t, data, len);
	if (rc < 0)
		return 0;
	t->received += len;
	return len;
}

static int progress_cb(void *user, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct transfer *t = user;
	uint64_t now = now_ms(), total = t->size;

	if (!t->body_started || t->discard ||
	    now - t->last_progress < PROGRESS_INTERVAL_MS)
		return 0;
	t->last_progress = now;
	if (!total && dltotal > 0)
		total = t->offset + (uint64_t)dltotal;
	repack_progress(t->ctx, label_of(t), t->offset + t->received, total);
	return 0;
}

/* Return a configured easy handle for the next attempt, or NULL. */
static CURL *easy_new(struct transfer *t)
{
	CURL *e = curl_easy_init();
	bool https = strncasecmp(t->url, "https:", 6) == 0;
	char range[32];

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, t->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "repack/" REPACK_VERSION);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https,file");
	/* An https URL never follows a redirect down to plain http. */
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
			 https ? "https" : "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)FETCH_MAX_REDIRECTS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_SECONDS);
	/* Less than 1 byte/s over the stall time counts as a stall. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
			 env_long("REPACK_STALL_TIMEOUT", DEFAULT_STALL_SECONDS));
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	if (fetch_share_handle())
		curl_easy_setopt(e, CURLOPT_SHARE, fetch_share_handle());
	if (t->offset) {
		snprintf(range, sizeof(range), "%llu-",
			 (unsigned long long)t->offset);
		curl_easy_setopt(e, CURLOPT_RANGE, range);
	}
	return e;
}

static int attempt_start(struct repack_ctx *ctx, CURLM *multi,
			 struct transfer *t)
{
	int rc;

	t->attempt++;
	t->received = 0;
	t->body_started = false;
	t->discard = false;
	t->range_start = -1;
	t->callback_rc = 0;
	t->curl_error[0] = '\0';
	t->last_progress = 0;

	if (t->dest) {
		if (t->fd < 0 && (rc = part_open(ctx, t)) < 0)
			return rc;
		if ((rc = part_prepare(ctx, t)) < 0)
			return rc;
		if (t->attempt == 1)
			t->resumed = t->offset > 0;
	} else {
		strbuf_release(&t->body);
	}

	t->easy = easy_new(t);
	if (!t->easy)
		return repack_fail(ctx, REPACK_EFAIL,
				   "cannot create a libcurl handle for %s", t->url);
	if (curl_multi_add_handle(multi, t->easy) != CURLM_OK)
		return repack_fail(ctx, REPACK_EFAIL,
				   "cannot start the download of %s", t->url);
	return 0;
}

/* Schedule another attempt after a transient failure, or give up once
 * FETCH_MAX_ATTEMPTS have failed. */
static int retry_or_fail(struct repack_ctx *ctx, struct transfer *t,
			 const char *reason)
{
	uint64_t delay;

	if (t->attempt >= FETCH_MAX_ATTEMPTS)
		return repack_fail(ctx, REPACK_ENET,
				   "%sdownload of %s failed after %d attempts: %s",
				   t->prefix, t->url, t->attempt, reason);

	delay = (uint64_t)env_long("REPACK_RETRY_DELAY_MS",
				   DEFAULT_RETRY_DELAY_MS) << (t->attempt - 1);
	repack_log(ctx, REPACK_LOG_WARN,
		   "%s: %s (attempt %d of %d); retrying in %.1f s",
		   t->url, reason, t->attempt, FETCH_MAX_ATTEMPTS,
		   (double)delay / 1000.0);
	t->not_before = now_ms() + delay;
	return NEXT_RETRY;
}

static bool curl_error_is_transient(CURLcode result)
{
	switch (result) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
		return true;
	default:
		return false;
	}
}

static int curl_failure(struct repack_ctx *ctx, struct transfer *t,
			CURLcode result)
{
	const char *reason = t->curl_error[0] ? t->curl_error
					      : curl_easy_strerror(result);

	if (curl_error_is_transient(result))
		return retry_or_fail(ctx, t, reason);
	if (result == CURLE_FILE_COULDNT_READ_FILE ||
	    result == CURLE_REMOTE_FILE_NOT_FOUND)
		return repack_fail(ctx, REPACK_EMISSING,
				   "%snot found on the server: %s (%s)",
				   t->prefix, t->url, reason);
	if (result == CURLE_TOO_MANY_REDIRECTS)
		return repack_fail(ctx, REPACK_ENET,
				   "%sdownload of %s failed: more than %d redirects",
				   t->prefix, t->url, FETCH_MAX_REDIRECTS);
	return repack_fail(ctx, REPACK_ENET, "%sdownload of %s failed: %s",
			   t->prefix, t->url, reason);
}

static int http_failure(struct repack_ctx *ctx, struct transfer *t,
			long status)
{
	char reason[32];

	if (status == 404 || status == 410)
		return repack_fail(ctx, REPACK_EMISSING,
				   "%snot found on the server: %s (HTTP %ld)",
				   t->prefix, t->url, status);

	/* The .part reaches past the end of the file on the server. */
	if (status == 416 && t->offset > 0) {
		repack_log(ctx, REPACK_LOG_DEBUG,
			   "%s: HTTP 416 for a resumed download; starting again",
			   t->url);
		return part_truncate(ctx, t) < 0 ? REPACK_EFAIL : NEXT_RESTART;
	}

	snprintf(reason, sizeof(reason), "HTTP %ld", status);
	if (status >= 500)
		return retry_or_fail(ctx, t, reason);
	return repack_fail(ctx, REPACK_ENET, "%sdownload of %s failed: %s",
			   t->prefix, t->url, reason);
}

/* Finish a transfer whose body arrived whole. */
static int attempt_complete(struct repack_ctx *ctx, struct transfer *t)
{
	uint64_t total = t->offset + t->received;
	int rc;

	if (t->dest) {
		rc = part_finish(ctx, t);
		/* Data from an older .part may belong to another version of
		 * the file: start once more from scratch before giving up. */
		if (rc == REPACK_EVERIFY && t->resumed) {
			repack_log(ctx, REPACK_LOG_WARN,
				   "%sresumed download failed verification (%s); downloading it again from the start",
				   t->prefix, ctx->error);
			t->resumed = false;
			return NEXT_RESTART;
		}
		if (rc < 0)
			return rc;
	}
	repack_progress(ctx, label_of(t), total, total);
	return NEXT_DONE;
}

/* Classify the end of one attempt. Returns a next_step or an error code. */
static int attempt_end(struct repack_ctx *ctx, struct transfer *t,
		       CURLcode result)
{
	long status = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (t->callback_rc) {
		if (t->callback_rc == REPACK_EVERIFY)
			part_discard(t);
		return repack_fail(ctx, t->callback_rc, "%s", t->callback_error);
	}
	if (result != CURLE_OK)
		return curl_failure(ctx, t, result);
	/* file:// transfers report status 0. */
	if (status >= 300 || (status != 0 && status < 200))
		return http_failure(ctx, t, status);
	return attempt_complete(ctx, t);
}

static int start_ready(struct repack_ctx *ctx, CURLM *multi,
		       struct transfer *list, size_t count, size_t jobs,
		       size_t *active)
{
	uint64_t now = now_ms();

	for (size_t i = 0; i < count && *active < jobs; i++) {
		struct transfer *t = &list[i];
		int rc;

		if (t->finished || t->easy || t->not_before > now)
			continue;
		rc = attempt_start(ctx, multi, t);
		if (rc < 0)
			return rc;
		(*active)++;
	}
	return 0;
}

static int collect_done(struct repack_ctx *ctx, CURLM *multi, size_t *active,
			size_t *left)
{
	CURLMsg *msg;
	int queued;

	while ((msg = curl_multi_info_read(multi, &queued))) {
		struct transfer *t = NULL;
		CURLcode result = msg->data.result;
		int next;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(multi, t->easy);
		(*active)--;

		next = attempt_end(ctx, t, result);
		curl_easy_cleanup(t->easy);
		t->easy = NULL;
		if (next < 0)
			return next;
		if (next == NEXT_RESTART) {
			t->attempt--;
			t->not_before = 0;
		}
		if (next == NEXT_DONE) {
			t->finished = true;
			(*left)--;
		}
	}
	return 0;
}

/* Return how long to wait for socket activity: not at all when a free
 * slot can start a transfer, else until the next scheduled retry, at most
 * a second. */
static int poll_timeout(const struct transfer *list, size_t count,
			bool slot_free)
{
	uint64_t now = now_ms(), wait = 1000;

	for (size_t i = 0; i < count; i++) {
		const struct transfer *t = &list[i];

		if (t->finished || t->easy)
			continue;
		if (t->not_before <= now) {
			if (slot_free)
				return 0;
			continue;
		}
		if (t->not_before - now < wait)
			wait = t->not_before - now;
	}
	return (int)wait;
}

static void stop_all(CURLM *multi, struct transfer *list, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct transfer *t = &list[i];

		if (t->easy) {
			curl_multi_remove_handle(multi, t->easy);
			curl_easy_cleanup(t->easy);
			t->easy = NULL;
		}
		part_close_keep_data(t);
	}
}

static int check_offline(struct repack_ctx *ctx, struct transfer *list,
			 size_t count)
{
	if (!ctx->offline)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (strncasecmp(list[i].url, "file:", 5) != 0)
			return repack_fail(ctx, REPACK_ENET,
					   "%soffline mode forbids downloading %s",
					   list[i].prefix, list[i].url);
	return 0;
}

int transfer_run(struct repack_ctx *ctx, struct transfer *list, size_t count,
		 int jobs)
{
	size_t slots = jobs > 0 ? (size_t)jobs : 1;
	size_t active = 0, left = count;
	CURLM *multi = NULL;
	int rc;

	for (size_t i = 0; i < count; i++) {
		list[i].ctx = ctx;
		free(list[i].prefix);
		list[i].prefix = list[i].label ? xasprintf("%s: ", list[i].label)
					       : xstrdup("");
	}
	rc = check_offline(ctx, list, count);
	if (rc || count == 0)
		return rc;
	multi = curl_multi_init();
	if (!multi)
		return repack_fail(ctx, REPACK_EFAIL, "cannot create a libcurl multi handle");

	while (left > 0) {
		CURLMcode mc;
		int running;

		rc = start_ready(ctx, multi, list, count, slots, &active);
		if (rc < 0)
			break;
		mc = curl_multi_perform(multi, &running);
		if (mc == CURLM_OK)
			rc = collect_done(ctx, multi, &active, &left);
		else
			rc = repack_fail(ctx, REPACK_ENET, "libcurl failed: %s",
					 curl_multi_strerror(mc));
		if (rc < 0 || left == 0)
			break;
		mc = curl_multi_poll(multi, NULL, 0,
				     poll_timeout(list, count, active < slots), NULL);
		if (mc != CURLM_OK) {
			rc = repack_fail(ctx, REPACK_ENET, "libcurl failed: %s",
					 curl_multi_strerror(mc));
			break;
		}
	}

	stop_all(multi, list, count);
	curl_multi_cleanup(multi);
	return rc;
}
