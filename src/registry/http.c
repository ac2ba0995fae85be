/* HTTP for the registry client. Each client has one libcurl easy handle,
 * so connections are reused. Requests send bodies from memory or a file
 * range, responses keep the headers the distribution API uses, and
 * failed requests are retried with back-off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "internal.h"

#define CONNECT_TIMEOUT_SECONDS 30L
#define DEFAULT_STALL_SECONDS 30L
#define DEFAULT_RETRY_DELAY_MS 500L

/* State of one transfer, handed to the curl callbacks. */
struct exchange {
	struct registry *reg;
	const struct registry_request *req;
	struct registry_response *resp;
	uint64_t body_sent;
	int sink_errno;
};

void registry_request_init(struct registry_request *req, const char *method,
			   const char *url)
{
	memset(req, 0, sizeof(*req));
	req->method = method;
	req->url = url;
	req->body_fd = -1;
	req->sink_fd = -1;
}

static void response_reset_headers(struct registry_response *resp)
{
	free(resp->location);
	free(resp->content_digest);
	free(resp->www_authenticate);
	free(resp->range);
	free(resp->content_type);
	resp->location = resp->content_digest = resp->www_authenticate = NULL;
	resp->range = resp->content_type = NULL;
}

void registry_response_release(struct registry_response *resp)
{
	response_reset_headers(resp);
	strbuf_release(&resp->body);
	memset(resp, 0, sizeof(*resp));
}

/* Store the value of header line "Name: value" in *slot when its name is
 * name; the value is trimmed. */
static bool take_header(const char *line, size_t len, const char *name,
			char **slot)
{
	size_t n = strlen(name);
	const char *value;
	size_t vlen;

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	value = line + n + 1;
	vlen = len - n - 1;
	while (vlen && (*value == ' ' || *value == '\t')) {
		value++;
		vlen--;
	}
	while (vlen && (value[vlen - 1] == '\r' || value[vlen - 1] == '\n' ||
			value[vlen - 1] == ' '))
		vlen--;
	free(*slot);
	*slot = xstrndup(value, vlen);
	return true;
}

static size_t on_header(char *data, size_t size, size_t count, void *user)
{
	struct exchange *ex = user;
	struct registry_response *resp = ex->resp;
	size_t len = size * count;

	/* A new status line starts the headers of a redirect's target or of
	 * the response after "100 Continue", and only the last block counts. */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		response_reset_headers(resp);
		return len;
	}
	if (!take_header(data, len, "Location", &resp->location) &&
	    !take_header(data, len, "Docker-Content-Digest", &resp->content_digest) &&
	    !take_header(data, len, "WWW-Authenticate", &resp->www_authenticate) &&
	    !take_header(data, len, "Range", &resp->range))
		take_header(data, len, "Content-Type", &resp->content_type);
	return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *user)
{
	struct exchange *ex = user;
	struct registry_response *resp = ex->resp;
	size_t len = size * count;
	long status = 0;

	curl_easy_getinfo(ex->reg->curl, CURLINFO_RESPONSE_CODE, &status);
	resp->body_bytes += len;
	/* Only a successful body goes to the file; an error body is read
	 * into memory for the message. */
	if (ex->req->sink_fd >= 0 && status >= 200 && status < 300) {
		if (registry_write_all(ex->req->sink_fd, data, len) < 0) {
			ex->sink_errno = errno;
			return 0;
		}
		if (ex->req->sink_sha)
			sha256_stream_update(ex->req->sink_sha, data, len);
		return len;
	}
	if (resp->body.len + len > REGISTRY_SMALL_BODY_MAX) {
		resp->body_too_large = true;
		return 0;
	}
	strbuf_add(&resp->body, data, len);
	return len;
}

static size_t on_read(char *buffer, size_t size, size_t count, void *user)
{
	struct exchange *ex = user;
	const struct registry_request *req = ex->req;
	uint64_t left = req->body_len - ex->body_sent;
	size_t want = size * count;
	ssize_t n;

	if (want > left)
		want = (size_t)left;
	if (want == 0)
		return 0;
	if (req->body_fd < 0) {
		memcpy(buffer, (const char *)req->body + ex->body_sent, want);
		ex->body_sent += want;
		return want;
	}
	do
		n = pread(req->body_fd, buffer, want,
			  (off_t)(req->body_offset + ex->body_sent));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return CURL_READFUNC_ABORT;
	ex->body_sent += (uint64_t)n;
	return (size_t)n;
}

int registry_write_all(int fd, const void *buf, size_t len)
{
	const char *data = buf;

	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static long env_long(const char *name, long fallback)
{
	const char *value = getenv(name);
	char *end;
	long n;

	if (!value || !*value)
		return fallback;
	n = strtol(value, &end, 10);
	return *end || n < 0 ? fallback : n;
}

/* Build the header list; the caller frees it with curl_slist_free_all. */
static struct curl_slist *request_headers(struct registry *reg,
					  const struct registry_request *req)
{
	struct curl_slist *headers = NULL;
	char *line;

	/* No "Expect: 100-continue" round trip before each upload. */
	headers = curl_slist_append(headers, "Expect:");
	if (req->accept) {
		line = xasprintf("Accept: %s", req->accept);
		headers = curl_slist_append(headers, line);
		free(line);
	}
	if (req->content_type) {
		line = xasprintf("Content-Type: %s", req->content_type);
		headers = curl_slist_append(headers, line);
		free(line);
	}
	if (req->content_range) {
		line = xasprintf("Content-Range: %s", req->content_range);
		headers = curl_slist_append(headers, line);
		free(line);
	}
	if (req->authorization || (reg->authorization && !req->no_auth &&
				   registry_same_origin(reg, req->url))) {
		line = xasprintf("Authorization: %s", req->authorization ?
				 req->authorization : reg->authorization);
		headers = curl_slist_append(headers, line);
		/* The header contains a secret: clear the copy before freeing. */
		memset(line, 0, strlen(line));
		free(line);
	}
	return headers;
}

static void set_method(CURL *curl, const struct registry_request *req)
{
	bool has_body = req->body_len > 0 || strcmp(req->method, "PUT") == 0 ||
			strcmp(req->method, "PATCH") == 0;

	if (strcmp(req->method, "HEAD") == 0) {
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		return;
	}
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(req->method, "POST") == 0 && !has_body) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
		return;
	}
	/* PUT, PATCH and a POST with a body all upload through the read
	 * callback with a known length. */
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	if (strcmp(req->method, "PUT") != 0)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
}

static void setup_handle(struct registry *reg, struct exchange *ex,
			 struct curl_slist *headers)
{
	CURL *curl = reg->curl;
	const struct registry_request *req = ex->req;

	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, ex);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, ex);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(curl, CURLOPT_READDATA, ex);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "repack/" REPACK_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_SECONDS);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
			 env_long("REPACK_STALL_TIMEOUT", DEFAULT_STALL_SECONDS));
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (req->follow_redirects) {
		/* Blob downloads may redirect to object storage; curl sends
		 * no Authorization header to another host. */
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
	}
	set_method(curl, req);
}

int registry_http(struct registry *reg, const struct registry_request *req,
		  struct registry_response *resp)
{
	struct exchange ex = { .reg = reg, .req = req, .resp = resp };
	struct curl_slist *headers = request_headers(reg, req);
	CURLcode code;
	int rc = 0;

	registry_response_release(resp);
	strbuf_init(&resp->body);
	setup_handle(reg, &ex, headers);
	code = curl_easy_perform(reg->curl);
	curl_easy_getinfo(reg->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	/* Drop the header list now: it may hold the Authorization value. */
	curl_easy_setopt(reg->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);

	if (code == CURLE_WRITE_ERROR && ex.sink_errno)
		rc = repack_fail(reg->ctx, REPACK_EFAIL,
				 "cannot write the download of %s: %s", req->url,
				 strerror(ex.sink_errno));
	else if (code == CURLE_WRITE_ERROR && resp->body_too_large)
		rc = repack_fail(reg->ctx, REPACK_EFORMAT,
				 "%s %s: the response is larger than %d bytes",
				 req->method, req->url, REGISTRY_SMALL_BODY_MAX);
	else if (code != CURLE_OK)
		rc = repack_fail(reg->ctx, REPACK_ENET, "%s %s failed: %s",
				 req->method, req->url, curl_easy_strerror(code));
	repack_log(reg->ctx, REPACK_LOG_DEBUG, "%s %s: %s%ld", req->method,
		   req->url, rc ? "failed, status " : "", resp->status);
	return rc;
}

bool registry_status_retryable(long status)
{
	return status >= 500 || status == 429;
}

void registry_backoff(struct registry *reg, int attempt)
{
	long delay = reg->retry_delay_ms << (attempt < 10 ? attempt : 10);
	struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One attempt plus at most one authentication round trip. */
static int send_authenticated(struct registry *reg,
			      const struct registry_request *req,
			      struct registry_response *resp)
{
	int rc = registry_http(reg, req, resp);

	if (rc || resp->status != 401 || req->no_auth || req->authorization)
		return rc;
	if (!resp->www_authenticate)
		return 0;
	rc = registry_authenticate(reg, resp->www_authenticate);
	if (rc)
		return rc;
	return registry_http(reg, req, resp);
}

int registry_send(struct registry *reg, const struct registry_request *req,
		  struct registry_response *resp, bool retry)
{
	int attempts = retry ? REGISTRY_RETRIES + 1 : 1;
	int rc = 0;

	for (int attempt = 0; attempt < attempts; attempt++) {
		if (attempt > 0) {
			repack_log(reg->ctx, REPACK_LOG_INFO,
				   "retrying %s %s (%s), attempt %d of %d",
				   req->method, req->url,
				   rc ? reg->ctx->error : "server error",
				   attempt + 1, attempts);
			registry_backoff(reg, attempt - 1);
		}
		rc = send_authenticated(reg, req, resp);
		if (rc == REPACK_ENET)
			continue;
		if (rc || !registry_status_retryable(resp->status))
			return rc;
	}
	return rc;
}

/* The first message of an OCI error document
 * {"errors":[{"code":...,"message":...}]}, or NULL; caller frees. */
static char *error_document_message(const struct registry_response *resp)
{
	json_t *doc, *first;
	const char *code, *message;
	char *text = NULL;

	if (!resp->body.len)
		return NULL;
	doc = json_loadb(resp->body.buf, resp->body.len, 0, NULL);
	first = json_array_get(json_object_get(doc, "errors"), 0);
	code = json_string_value(json_object_get(first, "code"));
	message = json_string_value(json_object_get(first, "message"));
	if (code || message)
		text = xasprintf("%s%s%s", code ? code : "", code && message ? ": " : "",
				 message ? message : "");
	json_decref(doc);
	return text;
}

/* A 401 after authenticating: the credentials are wrong or missing. */
static int fail_unauthorized(struct registry *reg, const char *what)
{
	if (reg->creds.username)
		return repack_fail(reg->ctx, REPACK_EFAIL,
				   "%s: registry %s rejected the credentials of user "
				   "'%s' from %s (401 Unauthorized); check the password "
				   "or log in again", what, reg->host,
				   reg->creds.username, reg->creds.source);
	return repack_fail(reg->ctx, REPACK_EFAIL,
			   "%s: registry %s requires authentication for %s "
			   "(401 Unauthorized); set REPACK_REGISTRY_USER and "
			   "REPACK_REGISTRY_PASSWORD or log in with docker login",
			   what, reg->host, reg->repo);
}

int registry_fail_status(struct registry *reg, const char *what,
			 const struct registry_request *req,
			 const struct registry_response *resp)
{
	char *detail;
	int code, rc;

	if (resp->status == 401)
		return fail_unauthorized(reg, what);
	detail = error_document_message(resp);
	code = resp->status == 404 ? REPACK_ENOTFOUND :
	       registry_status_retryable(resp->status) ? REPACK_ENET : REPACK_EFAIL;
	rc = repack_fail(reg->ctx, code, "%s: registry %s answered %ld to %s %s%s%s%s",
			 what, reg->host, resp->status, req->method, req->url,
			 detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
	free(detail);
	return rc;
}
