/* Reading from a registry: manifests by tag or digest, and blobs checked
 * against their digest. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The media type of a Content-Type value, without parameters; caller
 * frees. */
static char *bare_media_type(const char *content_type)
{
	if (!content_type)
		return xstrdup("");
	return xstrndup(content_type, strcspn(content_type, "; "));
}

int registry_get_manifest(struct registry *reg, const char *reference,
			  char **data, size_t *len, char **media_type,
			  char digest[SHA256_HEX_LEN + 1])
{
	char *path = xasprintf("/v2/%s/manifests/%s", reg->repo, reference);
	char *url = registry_url(reg, path);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	registry_request_init(&req, "GET", url);
	req.accept = REGISTRY_MANIFEST_ACCEPT;
	rc = registry_send(reg, &req, &resp, true);
	if (rc == 0 && resp.status != 200)
		rc = registry_fail_status(reg, "cannot read the manifest", &req, &resp);
	if (rc)
		goto out;

	sha256_buffer(resp.body.buf ? resp.body.buf : "", resp.body.len, digest);
	if (str_starts_with(reference, "sha256:") &&
	    strcmp(reference + strlen("sha256:"), digest) != 0) {
		rc = repack_fail(reg->ctx, REPACK_EVERIFY,
				 "registry %s sent a manifest for %s@%s whose sha256 is "
				 "%s", reg->host, reg->repo, reference, digest);
		goto out;
	}
	*media_type = bare_media_type(resp.content_type);
	if (!resp.body.buf)
		strbuf_addstr(&resp.body, "");
	*data = strbuf_detach(&resp.body, len);
out:
	registry_response_release(&resp);
	free(url);
	free(path);
	return rc;
}

int registry_head_manifest(struct registry *reg, const char *reference,
			   char digest[SHA256_HEX_LEN + 1])
{
	char *path = xasprintf("/v2/%s/manifests/%s", reg->repo, reference);
	char *url = registry_url(reg, path);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	digest[0] = '\0';
	registry_request_init(&req, "HEAD", url);
	req.accept = REGISTRY_MANIFEST_ACCEPT;
	rc = registry_send(reg, &req, &resp, true);
	if (rc == 0 && resp.status == 200 && image_digest_valid(resp.content_digest))
		snprintf(digest, SHA256_HEX_LEN + 1, "%s",
			 resp.content_digest + strlen("sha256:"));
	else if (rc == 0 && resp.status != 404 && resp.status != 200)
		rc = registry_fail_status(reg, "cannot look up the tag", &req, &resp);
	registry_response_release(&resp);
	free(url);
	free(path);
	return rc;
}

/* One download attempt into fd from offset 0. */
static int download_blob(struct registry *reg, const char *url, int fd,
			 char hex[SHA256_HEX_LEN + 1], uint64_t *size)
{
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
		return repack_fail(reg->ctx, REPACK_EFAIL, "cannot reset a download: %s",
				   strerror(errno));
	registry_request_init(&req, "GET", url);
	req.sink_fd = fd;
	req.sink_sha = sha256_stream_new();
	req.follow_redirects = true;
	/* No retry here: a retry must start over with an empty file and a
	 * fresh hash, which registry_get_blob() does. */
	rc = registry_send(reg, &req, &resp, false);
	if (rc == 0 && resp.status != 200)
		rc = registry_fail_status(reg, "cannot download a blob", &req, &resp);
	*size = resp.body_bytes;
	sha256_stream_finish(req.sink_sha, hex);
	registry_response_release(&resp);
	return rc;
}

int registry_get_blob(struct registry *reg, const char *hex, uint64_t size,
		      const char *path)
{
	char *blob_path = xasprintf("/v2/%s/blobs/sha256:%s", reg->repo, hex);
	char *url = registry_url(reg, blob_path);
	char *part = xasprintf("%s.part", path);
	char got[SHA256_HEX_LEN + 1];
	uint64_t got_size = 0;
	int fd, rc;

	fd = open(part, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = repack_fail(reg->ctx, REPACK_EFAIL, "cannot create '%s': %s", part,
				 strerror(errno));
		goto out;
	}
	for (int attempt = 0; attempt <= REGISTRY_RETRIES; attempt++) {
		if (attempt > 0) {
			repack_log(reg->ctx, REPACK_LOG_INFO, "retrying the download of "
				   "sha256:%s (%s)", hex, reg->ctx->error);
			registry_backoff(reg, attempt - 1);
		}
		rc = download_blob(reg, url, fd, got, &got_size);
		if (rc != REPACK_ENET)
			break;
	}
	if (rc == 0 && (strcmp(got, hex) != 0 || got_size != size))
		rc = repack_fail(reg->ctx, REPACK_EVERIFY,
				 "blob sha256:%s from registry %s has sha256 %s and %llu "
				 "bytes, not the %llu its descriptor says", hex, reg->host,
				 got, (unsigned long long)got_size, (unsigned long long)size);
	if (rc == 0 && close(fd) < 0)
		rc = repack_fail(reg->ctx, REPACK_EFAIL, "cannot write '%s': %s", part,
				 strerror(errno));
	else if (rc)
		close(fd);
	if (rc == 0 && rename(part, path) < 0)
		rc = repack_fail(reg->ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 part, path, strerror(errno));
	if (rc)
		unlink(part);
out:
	free(part);
	free(url);
	free(blob_path);
	return rc;
}
