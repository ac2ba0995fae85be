/* Pushing an image set: every layer and config blob, then the manifests
 * under their tags, then the index (which needs its manifests in the
 * repository) under its tags. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* HEAD the blob: *exists is set on 200, cleared on 404. */
static int blob_exists(struct registry *reg, const char *hex, bool *exists)
{
	char *path = xasprintf("/v2/%s/blobs/sha256:%s", reg->repo, hex);
	char *url = registry_url(reg, path);
	struct registry_request req;
	struct registry_response resp = { 0 };
	int rc;

	registry_request_init(&req, "HEAD", url);
	rc = registry_send(reg, &req, &resp, true);
	*exists = rc == 0 && resp.status == 200;
	if (rc == 0 && resp.status != 200 && resp.status != 404)
		rc = registry_fail_status(reg, "cannot look up a blob", &req, &resp);
	registry_response_release(&resp);
	free(url);
	free(path);
	return rc;
}

/* A repository this cache saw the blob pushed to, when the token (if the
 * registry uses tokens) may read from it; caller frees. */
static char *mount_source(struct registry *reg, const char *hex)
{
	char *source = registry_known_source(reg, hex);
	char *scope;

	if (!source)
		return NULL;
	scope = xasprintf("repository:%s:pull", source);
	if (registry_add_scope(reg, scope) < 0) {
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "no mount from %s: %s", source,
			   reg->ctx->error);
		free(source);
		source = NULL;
	}
	free(scope);
	return source;
}

static int push_blob(struct registry *reg, const struct image_blob *blob,
		     struct registry_push_stats *stats)
{
	char *source = NULL;
	bool exists;
	int rc = blob_exists(reg, blob->digest, &exists);

	if (rc == 0 && exists) {
		stats->blobs_present++;
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "sha256:%.12s is already in %s",
			   blob->digest, reg->repo);
	} else if (rc == 0) {
		source = mount_source(reg, blob->digest);
		rc = registry_upload_blob(reg, blob, source, stats);
	}
	if (rc == 0)
		registry_remember_blob(reg, blob->digest);
	free(source);
	return rc;
}

/* Read a manifest or index blob and check it still has its digest. */
static int read_json_blob(struct registry *reg, const struct image_blob *blob,
			  char **data, size_t *len)
{
	char hex[SHA256_HEX_LEN + 1];
	int rc = read_file(reg->ctx, blob->path, data, len);

	if (rc)
		return rc;
	sha256_buffer(*data, *len, hex);
	if (strcmp(hex, blob->digest) != 0) {
		free(*data);
		*data = NULL;
		return repack_fail(reg->ctx, REPACK_EVERIFY,
				   "'%s' has sha256 %s, not the %s it was written with; "
				   "build the image again", blob->path, hex, blob->digest);
	}
	return 0;
}

static int put_manifest(struct registry *reg, const struct image_blob *blob,
			const char *tag, struct registry_push_stats *stats)
{
	char *path = xasprintf("/v2/%s/manifests/%s", reg->repo, tag);
	char *url = registry_url(reg, path);
	struct registry_request req;
	struct registry_response resp = { 0 };
	char current[SHA256_HEX_LEN + 1];
	char *data = NULL;
	size_t len = 0;
	int rc = registry_head_manifest(reg, tag, current);

	if (rc == 0 && strcmp(current, blob->digest) == 0) {
		stats->tags_unchanged++;
		repack_log(reg->ctx, REPACK_LOG_DEBUG, "%s:%s already names sha256:%.12s",
			   reg->repo, tag, blob->digest);
		goto out;
	}
	if (rc == 0)
		rc = read_json_blob(reg, blob, &data, &len);
	if (rc)
		goto out;
	registry_request_init(&req, "PUT", url);
	req.content_type = blob->media_type;
	req.body = data;
	req.body_len = len;
	rc = registry_send(reg, &req, &resp, true);
	if (rc == 0 && resp.status != 201)
		rc = registry_fail_status(reg, "cannot put the manifest", &req, &resp);
	else if (rc == 0 && image_digest_valid(resp.content_digest) &&
		 strcmp(resp.content_digest + strlen("sha256:"), blob->digest) != 0)
		rc = repack_fail(reg->ctx, REPACK_EVERIFY,
				 "registry %s stored the manifest sha256:%s under %s as %s",
				 reg->host, blob->digest, tag, resp.content_digest);
	if (rc == 0) {
		stats->tags_updated++;
		repack_log(reg->ctx, REPACK_LOG_INFO, "tagged %s/%s:%s",
			   reg->host, reg->repo, tag);
	}
out:
	registry_response_release(&resp);
	free(data);
	free(url);
	free(path);
	return rc;
}

/* Put the tags that name an image (want_index false) or the index. */
static int put_tags(struct registry *reg, const struct image_set *set,
		    bool want_index, struct registry_push_stats *stats)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < set->tag_count; i++) {
		const struct image_tag *tag = &set->tags[i];
		bool is_index = tag->target == IMAGE_TAG_INDEX;

		if (is_index != want_index)
			continue;
		rc = put_manifest(reg, is_index ? &set->index :
				  &set->items[tag->target].image->manifest,
				  tag->name, stats);
	}
	return rc;
}

int registry_push(struct registry *reg, const struct image_set *set,
		  struct registry_push_stats *stats)
{
	int rc = 0;

	memset(stats, 0, sizeof(*stats));
	for (size_t i = 0; rc == 0 && i < set->count; i++) {
		rc = push_blob(reg, &set->items[i].image->layer, stats);
		if (rc == 0)
			rc = push_blob(reg, &set->items[i].image->config, stats);
	}
	if (rc == 0)
		rc = put_tags(reg, set, false, stats);
	if (rc == 0)
		rc = put_tags(reg, set, true, stats);
	return rc;
}
