/* Shared between the files of src/registry/. Not a public interface. */
#ifndef REPACK_REGISTRY_INTERNAL_H
#define REPACK_REGISTRY_INTERNAL_H

#include <curl/curl.h>

#include "registry.h"

/* Retries after a server error (5xx, 429) or a dropped connection, with
 * a delay that doubles from $REPACK_RETRY_DELAY_MS (default 500 ms). */
#define REGISTRY_RETRIES 3
#define REGISTRY_DEFAULT_CHUNK_SIZE (16 * 1024 * 1024)
/* Manifests and token responses are small; this bounds memory use. */
#define REGISTRY_SMALL_BODY_MAX (4 * 1024 * 1024)

struct registry {
	struct repack_ctx *ctx;
	CURL *curl;
	char *host;       /* as the reference wrote it, for messages */
	char *api_host;   /* the host[:port] of the API: registry-1.docker.io */
	char *base;       /* scheme://api_host */
	char *repo;
	bool push;        /* authenticate for pull and push */
	/* The Authorization header value for the registry; secret, never
	 * logged. NULL while anonymous. */
	char *authorization;
	struct registry_credentials creds;
	bool creds_loaded;
	/* Extra token scopes, e.g. repository:OTHER:pull for a mount. */
	struct strlist scopes;
	char *last_challenge; /* the last WWW-Authenticate value seen */
	uint64_t chunk_size;
	long retry_delay_ms;
};

/* A request: method, URL, headers and where the body comes from. */
struct registry_request {
	const char *method;       /* GET, HEAD, POST, PUT, PATCH */
	const char *url;          /* absolute */
	const char *accept;       /* Accept header, or NULL */
	const char *content_type; /* Content-Type of the body, or NULL */
	const char *content_range;/* Content-Range of a PATCH, or NULL */
	/* Body from memory, or from body_fd at body_offset when body_fd >= 0. */
	const void *body;
	int body_fd;
	uint64_t body_offset;
	uint64_t body_len;
	/* Response body: into sink_fd when >= 0 (hashed into sink_sha when
	 * set), else into memory up to REGISTRY_SMALL_BODY_MAX. */
	int sink_fd;
	struct sha256_stream *sink_sha;
	bool follow_redirects;
	/* Authorization value for this request alone (the token service's
	 * Basic credentials). With it or no_auth set, a 401 response goes
	 * back to the caller instead of starting authentication. */
	const char *authorization;
	bool no_auth;             /* send no Authorization header */
};

struct registry_response {
	long status;
	char *location;
	char *content_digest;     /* Docker-Content-Digest */
	char *www_authenticate;
	char *range;
	char *content_type;
	struct strbuf body;
	uint64_t body_bytes;      /* bytes received, also when sunk to a file */
	bool body_too_large;
};

void registry_request_init(struct registry_request *req, const char *method,
			   const char *url);
void registry_response_release(struct registry_response *resp);

/* Perform req once. Returns 0 when a response arrived, whatever its
 * status, and REPACK_ENET with a message when the transfer failed. */
int registry_http(struct registry *reg, const struct registry_request *req,
		  struct registry_response *resp);

/* Perform req with authentication: after a 401 response the client
 * authenticates with the scheme of its WWW-Authenticate header and tries
 * once more. With retry set, 5xx and 429 responses and failed transfers
 * are retried. Returns 0 when a response arrived, whatever its status. */
int registry_send(struct registry *reg, const struct registry_request *req,
		  struct registry_response *resp, bool retry);

/* Authenticate for the challenge in header (a WWW-Authenticate value). */
int registry_authenticate(struct registry *reg, const char *header);
/* Add scope to the scopes of the next token and, when the registry uses
 * tokens, fetch one now. */
int registry_add_scope(struct registry *reg, const char *scope);

/* Sleep before retry number attempt (0 for the first). */
void registry_backoff(struct registry *reg, int attempt);
/* True for statuses worth another try: 5xx and 429. */
bool registry_status_retryable(long status);
/* Fail with a message naming the request and the response status and,
 * when the body is an OCI error document, its first error. */
int registry_fail_status(struct registry *reg, const char *what,
			 const struct registry_request *req,
			 const struct registry_response *resp);

/* URL of path under the API base (path starts with '/'); caller frees. */
char *registry_url(const struct registry *reg, const char *path);
/* Resolve a Location header against the base; caller frees. */
char *registry_resolve_location(const struct registry *reg, const char *location);
/* True when url is under the registry's base URL, so it may carry the
 * Authorization header. */
bool registry_same_origin(const struct registry *reg, const char *url);

/* Write all len bytes to fd, retrying after EINTR and short writes.
 * Returns -1 with errno set on failure. */
int registry_write_all(int fd, const void *buf, size_t len);

/* Parse a Range header "0-N" (also "bytes=0-N") into the end N. */
bool registry_parse_range_end(const char *range, uint64_t *end);

/* Blob uploads (upload.c). */
int registry_upload_blob(struct registry *reg, const struct image_blob *blob,
			 const char *mount_from, struct registry_push_stats *stats);

/* The cache's record of which repositories hold which blobs, for mounts:
 * CACHE/registry/HOST/blobs, lines "sha256:HEX REPO". */
char *registry_known_source(struct registry *reg, const char *digest_hex);
void registry_remember_blob(struct registry *reg, const char *digest_hex);
/* Directory for the registry's records in the cache; caller frees, NULL
 * without a cache directory. */
char *registry_cache_dir(const struct registry *reg);

#endif
