/* Blob uploads. A session starts with POST /v2/REPO/blobs/uploads/, whose
 * response has the session URL in Location (or status 201 when
 * ?mount=&from= could take the blob from another repository). A small
 * blob goes up in one PUT to that URL with ?digest=. A large one goes up
 * in PATCH chunks, whose responses carry the next URL and the Range
 * received so far, and then an empty PUT.
 *
 * The session URL of a chunked upload is kept in the cache after every
 * chunk (CACHE/registry/HOST/uploads/HEX). A run that dies mid-upload so
 * lets the next one ask the registry how far it got (a GET on the URL
 * returns 204 with Range) and go on from there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

struct upload {
	struct registry *reg;
	const struct image_blob *blob;
	int fd;
	char *location; /* absolute URL of the session */
	uint64_t offset; /* bytes the registry has received */
};

static char *session_path(struct registry *reg, const char *hex)
{
	char *dir = registry_cache_dir(reg);
	char *path = dir ? xasprintf("%s/uploads/%s", dir, hex) : NULL;

	free(dir);
	return path;
}

static void session_forget(struct registry *reg, const char *hex)
{
	char *path = session_path(reg, hex);

	if (path)
		unlink(path);
	free(path);
}

/* Record "REPO\nURL\n" for the blob, through a rename so a reader never
 * sees half a record. A failure only costs the resume. */
static void session_save(struct upload *up)
{
	struct registry *reg = up->reg;
	char *path = session_path(reg, up->blob->digest);
	char *dir = path ? xstrndup(path, (size_t)(strrchr(path, '/') - path)) : NULL;
	char *text;

	if (!path)
		return;
	text = xasprintf("%s\n%s\n", reg->repo, up->location);
	if (mkdir_p(reg->ctx, dir) < 0 ||
	    write_file_atomic(reg->ctx, path, text, strlen(text)) < 0)
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "cannot record the upload "
			   "session: %s", reg->ctx->error);
	free(text);
	free(dir);
	free(path);
}

/* The saved session URL for this repository, or NULL; caller frees. */
static char *session_load(struct registry *reg, const char *hex)
{
	char *path = session_path(reg, hex);
	struct repack_ctx quiet;
	char *data = NULL, *url = NULL, *newline;
	size_t len;

	repack_ctx_init(&quiet);
	if (!path || read_file(&quiet, path, &data, &len) < 0)
		goto out;
	newline = strchr(data, '\n');
	if (!newline || strncmp(data, reg->repo, (size_t)(newline - data)) != 0 ||
	    strlen(reg->repo) != (size_t)(newline - data))
		goto out;
	url = xstrndup(newline + 1, strcspn(newline + 1, "\n"));
	if (!*url || !registry_same_origin(reg, url)) {
		free(url);
		url = NULL;
	}
out:
	repack_ctx_release(&quiet);
	free(data);
	free(path);
	return url;
}

/* The offset a Range header "0-END" reports: END + 1 bytes received.
 * docker-registry also sends "0-0" for an empty upload, so "0-0" counts
 * as 1 byte only when expected (what the client sent) is 1, and as 0
 * otherwise. A missing or malformed header gives expected. */
static uint64_t range_offset(const char *range, uint64_t expected)
{
	uint64_t end;

	if (!registry_parse_range_end(range, &end))
		return expected;
	if (end == 0)
		return expected == 1 ? 1 : 0;
	return end + 1;
}

static void set_location(struct upload *up, const char *location)
{
	free(up->location);
	up->location = registry_resolve_location(up->reg, location);
}

/* POST a new session, asking to mount from mount_from when not NULL. */
static int start_session(struct upload *up, const char *mount_from, bool *mounted)
{
	struct registry *reg = up->reg;
	char *path = mount_from ?
		xasprintf("/v2/%s/blobs/uploads/?mount=sha256:%s&from=%s", reg->repo,
			  up->blob->digest, mount_from) :
		xasprintf("/v2/%s/blobs/uploads/", reg->repo);
	char *url = registry_url(reg, path);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	*mounted = false;
	registry_request_init(&req, "POST", url);
	rc = registry_send(reg, &req, &resp, false);
	if (rc == 0 && resp.status == 201 && mount_from) {
		*mounted = true;
	} else if (rc == 0 && resp.status == 202 && resp.location) {
		set_location(up, resp.location);
		up->offset = 0;
	} else if (rc == 0) {
		rc = registry_fail_status(reg, "cannot start a blob upload", &req, &resp);
	}
	registry_response_release(&resp);
	free(url);
	free(path);
	return rc;
}

/* Continue the session a failed run left, if the registry still has it. */
static bool resume_session(struct upload *up)
{
	struct registry *reg = up->reg;
	char *url = session_load(reg, up->blob->digest);
	struct registry_request req;
	struct registry_response resp = { 0 };
	bool resumed = false;

	if (!url)
		return false;
	registry_request_init(&req, "GET", url);
	if (registry_send(reg, &req, &resp, false) == 0 && resp.status == 204) {
		set_location(up, resp.location ? resp.location : url);
		up->offset = range_offset(resp.range, 0);
		resumed = up->offset <= up->blob->size;
	}
	if (resumed)
		repack_log(reg->ctx, REPACK_LOG_INFO,
			   "resuming the upload of sha256:%.12s at byte %llu of %llu",
			   up->blob->digest, (unsigned long long)up->offset,
			   (unsigned long long)up->blob->size);
	else
		session_forget(reg, up->blob->digest);
	registry_response_release(&resp);
	free(url);
	return resumed;
}

static int send_chunk(struct upload *up, uint64_t len)
{
	struct registry *reg = up->reg;
	char *range = xasprintf("%llu-%llu", (unsigned long long)up->offset,
				(unsigned long long)(up->offset + len - 1));
	char *url = xstrdup(up->location);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	registry_request_init(&req, "PATCH", url);
	req.content_type = "application/octet-stream";
	req.content_range = range;
	req.body_fd = up->fd;
	req.body_offset = up->offset;
	req.body_len = len;
	rc = registry_send(reg, &req, &resp, false);
	if (rc == 0 && resp.status == 202 && resp.location) {
		set_location(up, resp.location);
		up->offset = range_offset(resp.range, up->offset + len);
		session_save(up);
	} else if (rc == 0 && resp.status == 416) {
		/* The registry has received a different amount than
		 * assumed, so the next attempt starts a new session. */
		session_forget(reg, up->blob->digest);
		rc = repack_fail(reg->ctx, REPACK_ENET,
				 "registry %s did not take bytes %s of sha256:%.12s "
				 "(416 Range Not Satisfiable)", reg->host, range,
				 up->blob->digest);
	} else if (rc == 0) {
		rc = registry_fail_status(reg, "cannot upload a blob chunk", &req, &resp);
	}
	registry_response_release(&resp);
	free(url);
	free(range);
	return rc;
}

/* PUT URL?digest=..., with the whole blob when monolithic. */
static int finish_upload(struct upload *up, bool monolithic)
{
	struct registry *reg = up->reg;
	char *url = xasprintf("%s%cdigest=sha256:%s", up->location,
			      strchr(up->location, '?') ? '&' : '?', up->blob->digest);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	registry_request_init(&req, "PUT", url);
	req.content_type = "application/octet-stream";
	if (monolithic) {
		req.body_fd = up->fd;
		req.body_len = up->blob->size;
	}
	rc = registry_send(reg, &req, &resp, false);
	if (rc == 0 && resp.status != 201)
		rc = registry_fail_status(reg, "cannot finish a blob upload", &req, &resp);
	else if (rc == 0 && image_digest_valid(resp.content_digest) &&
		 strcmp(resp.content_digest + strlen("sha256:"), up->blob->digest) != 0)
		rc = repack_fail(reg->ctx, REPACK_EVERIFY,
				 "registry %s stored sha256:%s as %s", reg->host,
				 up->blob->digest, resp.content_digest);
	registry_response_release(&resp);
	free(url);
	return rc;
}

static int upload_chunks(struct upload *up)
{
	struct registry *reg = up->reg;
	int rc = 0;

	while (rc == 0 && up->offset < up->blob->size) {
		uint64_t left = up->blob->size - up->offset;

		rc = send_chunk(up, left < reg->chunk_size ? left : reg->chunk_size);
		repack_progress(reg->ctx, "push", up->offset, up->blob->size);
	}
	if (rc == 0)
		rc = finish_upload(up, false);
	return rc;
}

static int upload_attempt(struct upload *up, const char *mount_from, bool *mounted)
{
	bool chunked = up->blob->size > up->reg->chunk_size;
	int rc = 0;

	*mounted = false;
	if (chunked && resume_session(up))
		return upload_chunks(up);
	rc = start_session(up, mount_from, mounted);
	if (rc || *mounted)
		return rc;
	if (!chunked) {
		rc = finish_upload(up, true);
		repack_progress(up->reg->ctx, "push", up->blob->size, up->blob->size);
		return rc;
	}
	session_save(up);
	return upload_chunks(up);
}

static void count_upload(struct registry *reg, const struct image_blob *blob,
			 const char *mount_from, bool mounted,
			 struct registry_push_stats *stats)
{
	if (mounted) {
		stats->blobs_mounted++;
		repack_log(reg->ctx, REPACK_LOG_INFO, "mounted sha256:%.12s from %s",
			   blob->digest, mount_from);
		return;
	}
	stats->blobs_uploaded++;
	stats->bytes_uploaded += blob->size;
	repack_log(reg->ctx, REPACK_LOG_INFO, "pushed sha256:%.12s (%llu bytes)",
		   blob->digest, (unsigned long long)blob->size);
}

int registry_upload_blob(struct registry *reg, const struct image_blob *blob,
			 const char *mount_from, struct registry_push_stats *stats)
{
	struct upload up = { .reg = reg, .blob = blob };
	bool mounted = false;
	int rc = 0;

	up.fd = open(blob->path, O_RDONLY | O_CLOEXEC);
	if (up.fd < 0)
		return repack_fail(reg->ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   blob->path, strerror(errno));
	for (int attempt = 0; attempt <= REGISTRY_RETRIES; attempt++) {
		if (attempt > 0) {
			repack_log(reg->ctx, REPACK_LOG_INFO,
				   "retrying the upload of sha256:%.12s, attempt %d of %d (%s)",
				   blob->digest, attempt + 1, REGISTRY_RETRIES + 1,
				   reg->ctx->error);
			registry_backoff(reg, attempt - 1);
		}
		rc = upload_attempt(&up, mount_from, &mounted);
		if (rc != REPACK_ENET)
			break;
	}
	if (rc == 0) {
		session_forget(reg, blob->digest);
		count_upload(reg, blob, mount_from, mounted, stats);
	} else if (rc != REPACK_ENET) {
		session_forget(reg, blob->digest);
	} else {
		repack_wrap(reg->ctx, rc, "gave up pushing sha256:%.12s to %s/%s after "
			    "%d attempts; %s", blob->digest, reg->host, reg->repo,
			    REGISTRY_RETRIES + 1,
			    blob->size > reg->chunk_size ?
			    "the next push resumes the upload" :
			    "push again when the registry works");
	}
	free(up.location);
	close(up.fd);
	return rc;
}
