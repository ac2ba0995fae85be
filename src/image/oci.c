/* The oci:DIR output: one OCI image layout that contains every tag
 * written to it. Blobs are content-addressed and written once. index.json
 * is rewritten atomically under an flock on DIR/.repack.lock, so
 * concurrent runs writing to the same layout keep each other's tags. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LOCK_NAME ".repack.lock"
#define LAYOUT_VERSION "1.0.0"

static int lock_layout(struct repack_ctx *ctx, const char *dir, int *fd_out)
{
	char *path = xasprintf("%s/%s", dir, LOCK_NAME);
	int fd, rc = 0;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot open the lock file '%s': %s",
				 path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		repack_log(ctx, REPACK_LOG_INFO,
			   "waiting for another process writing '%s'", dir);
		while (flock(fd, LOCK_EX) < 0) {
			if (errno == EINTR)
				continue;
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot lock '%s': %s",
					 path, strerror(errno));
			close(fd);
			goto out;
		}
	}
	*fd_out = fd;
out:
	free(path);
	return rc;
}

/* Create DIR/oci-layout, or check the existing one is an OCI layout file. */
static int ensure_layout_file(struct repack_ctx *ctx, const char *dir)
{
	char *path = xasprintf("%s/oci-layout", dir);
	const char *text = "{\"imageLayoutVersion\":\"" LAYOUT_VERSION "\"}";
	json_error_t err;
	json_t *json = NULL;
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		rc = write_file_atomic(ctx, path, text, strlen(text));
		goto out;
	}
	json = json_load_file(path, 0, &err);
	if (!json || !json_is_string(json_object_get(json, "imageLayoutVersion")))
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' is not a valid OCI layout file (expected %s); "
				 "repair it or choose another directory than '%s'",
				 path, text, dir);
out:
	json_decref(json);
	free(path);
	return rc;
}

/* Load DIR/index.json, or start an empty index when there is none. A file
 * that does not parse is an error: replacing it would lose its tags. */
static int load_index(struct repack_ctx *ctx, const char *path, json_t **out)
{
	json_error_t err;
	json_t *index;
	struct stat st;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		*out = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
				 "mediaType", MEDIA_TYPE_INDEX, "manifests");
		return 0;
	}
	index = json_load_file(path, 0, &err);
	if (!index)
		return repack_fail(ctx, REPACK_EFORMAT,
				   "'%s' is not valid JSON (line %d, column %d: %s); "
				   "repair it or remove it with the layout's other tags",
				   path, err.line, err.column, err.text);
	if (!json_is_object(index) ||
	    !json_is_array(json_object_get(index, "manifests"))) {
		json_decref(index);
		return repack_fail(ctx, REPACK_EFORMAT,
				   "'%s' is not an OCI image index: it has no "
				   "\"manifests\" array; repair it or remove it",
				   path);
	}
	*out = index;
	return 0;
}

/* Store one blob as blobs/sha256/HEX through a temporary name in the same
 * directory. A hard link avoids copying a large layer when the work
 * directory is on the same file system. Otherwise the blob is copied and
 * its digest checked on the way. */
static int put_blob(struct repack_ctx *ctx, const char *blobdir,
		    const struct image_blob *blob)
{
	char *dest = xasprintf("%s/%s", blobdir, blob->digest);
	char *tmp = xasprintf("%s/.%s.tmp.%ld", blobdir, blob->digest,
			      (long)getpid());
	struct stat st;
	int rc = 0;

	if (stat(dest, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size == blob->size) {
		repack_log(ctx, REPACK_LOG_DEBUG, "blob sha256:%s is already in '%s'",
			   blob->digest, blobdir);
		goto out;
	}
	unlink(tmp);
	if (link(blob->path, tmp) < 0)
		rc = image_copy_file(ctx, blob->path, tmp, blob->digest);
	if (rc == 0 && rename(tmp, dest) < 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 tmp, dest, strerror(errno));
		unlink(tmp);
	}
out:
	free(tmp);
	free(dest);
	return rc;
}

/* The index entry for one tag. ref.name is the bare tag, as the OCI
 * image layout spec and skopeo's oci:DIR:TAG expect. containerd's
 * importer (ctr import, nerdctl load) names the image after
 * io.containerd.image.name and falls back to ref.name, and its own
 * exporter writes the normalised reference there
 * (docker.io/linuxkit/kernel-debian:TAG), so that form is used. */
static json_t *tag_descriptor(const struct image_set *set,
			      const struct image_tag *tag)
{
	const char *name = set->items[0].meta->name;
	json_t *desc;

	if (tag->target == IMAGE_TAG_INDEX)
		desc = json_pack("{s:s, s:s+, s:I}", "mediaType", MEDIA_TYPE_INDEX,
				 "digest", "sha256:", set->index.digest,
				 "size", (json_int_t)set->index.size);
	else
		desc = image_manifest_descriptor(set->items[tag->target].image,
						 set->items[tag->target].meta->arch);
	if (!desc)
		return NULL;
	json_object_set_new(desc, "annotations",
			    json_pack("{s:s}", ANNOTATION_REF_NAME, tag->name));
	if (name && *name) {
		char *ref = image_normalised_reference(name, tag->name);
		json_t *value = json_string(ref);

		if (value)
			json_object_set_new(json_object_get(desc, "annotations"),
					    ANNOTATION_CONTAINERD_NAME, value);
		free(ref);
	}
	return desc;
}

/* Drop the entries whose ref.name is one of the set's tags: a tag names
 * one image. */
static void drop_tags(json_t *manifests, const struct image_set *set)
{
	for (size_t i = json_array_size(manifests); i-- > 0;) {
		json_t *annotations = json_object_get(json_array_get(manifests, i),
						      "annotations");
		const char *ref = json_string_value(json_object_get(annotations,
								    ANNOTATION_REF_NAME));

		for (size_t j = 0; ref && j < set->tag_count; j++) {
			if (strcmp(set->tags[j].name, ref) == 0) {
				json_array_remove(manifests, i);
				break;
			}
		}
	}
}

int oci_index_add_tags(struct repack_ctx *ctx, const struct image_set *set,
		       json_t *index)
{
	json_t *manifests = json_object_get(index, "manifests");

	drop_tags(manifests, set);
	for (size_t i = 0; i < set->tag_count; i++) {
		json_t *desc = tag_descriptor(set, &set->tags[i]);

		if (!desc)
			return repack_fail(ctx, REPACK_EFAIL,
					   "cannot describe tag '%s' in the image index",
					   set->tags[i].name);
		json_array_append_new(manifests, desc);
	}
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(MEDIA_TYPE_INDEX));
	return 0;
}

static int update_index(struct repack_ctx *ctx, const char *dir,
			const struct image_set *set, json_t *index)
{
	char *path = xasprintf("%s/index.json", dir);
	char *text;
	size_t len;
	int rc = oci_index_add_tags(ctx, set, index);

	if (rc)
		goto out;
	text = image_json_dump(index, &len);
	rc = write_file_atomic(ctx, path, text, len);
	free(text);
	if (rc == 0)
		rc = image_sync_dir(ctx, dir);
out:
	free(path);
	return rc;
}

/* Write the blobs, each manifest after its config and layer and the
 * index last, so an index entry never points at a missing blob. */
static int put_blobs(struct repack_ctx *ctx, const char *blobdir,
		     const struct image_set *set)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < set->count; i++) {
		const struct image *image = set->items[i].image;

		rc = put_blob(ctx, blobdir, &image->layer);
		if (rc == 0)
			rc = put_blob(ctx, blobdir, &image->config);
		if (rc == 0)
			rc = put_blob(ctx, blobdir, &image->manifest);
	}
	if (rc == 0 && set->count > 1)
		rc = put_blob(ctx, blobdir, &set->index);
	if (rc == 0)
		rc = image_sync_dir(ctx, blobdir);
	return rc;
}

int oci_layout_write(struct repack_ctx *ctx, const char *dir,
		     const struct image_set *set)
{
	char *blobdir = xasprintf("%s/blobs/sha256", dir);
	char *index_path = xasprintf("%s/index.json", dir);
	json_t *index = NULL;
	int lock_fd = -1;
	int rc;

	rc = mkdir_p(ctx, blobdir);
	if (rc == 0)
		rc = lock_layout(ctx, dir, &lock_fd);
	if (rc == 0)
		rc = ensure_layout_file(ctx, dir);
	if (rc == 0)
		rc = load_index(ctx, index_path, &index);
	if (rc == 0)
		rc = put_blobs(ctx, blobdir, set);
	if (rc == 0)
		rc = update_index(ctx, dir, set, index);
	if (rc == 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "wrote sha256:%s to '%s' as %zu tag(s)",
			   image_set_top(set)->digest, dir, set->tag_count);

	json_decref(index);
	if (lock_fd >= 0)
		close(lock_fd);
	free(index_path);
	free(blobdir);
	return rc;
}
