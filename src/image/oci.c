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
static json_t *tag_descriptor(const struct image *image,
			      const struct image_meta *meta, const char *tag)
{
	json_t *desc = json_pack("{s:s, s:s+, s:I, s:{s:s, s:s}, s:{s:s}}",
				 "mediaType", MEDIA_TYPE_MANIFEST,
				 "digest", "sha256:", image->manifest.digest,
				 "size", (json_int_t)image->manifest.size,
				 "platform", "architecture", meta->arch, "os", "linux",
				 "annotations", ANNOTATION_REF_NAME, tag);

	if (desc && meta->name && *meta->name) {
		char *ref = image_normalised_reference(meta->name, tag);
		json_t *name = json_string(ref);

		if (name)
			json_object_set_new(json_object_get(desc, "annotations"),
					    ANNOTATION_CONTAINERD_NAME, name);
		free(ref);
	}
	return desc;
}

/* Drop the entries whose ref.name is one of tags: a tag names one image. */
static void drop_tags(json_t *manifests, const struct strlist *tags)
{
	for (size_t i = json_array_size(manifests); i-- > 0;) {
		json_t *annotations = json_object_get(json_array_get(manifests, i),
						      "annotations");
		const char *ref = json_string_value(json_object_get(annotations,
								    ANNOTATION_REF_NAME));

		if (ref && strlist_contains(tags, ref))
			json_array_remove(manifests, i);
	}
}

/* True when tags->items[i] already appears earlier in tags. */
static bool tag_repeated(const struct strlist *tags, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(tags->items[j], tags->items[i]) == 0)
			return true;
	return false;
}

static int update_index(struct repack_ctx *ctx, const char *dir,
			const struct image *image, const struct image_meta *meta,
			const struct strlist *tags, json_t *index)
{
	char *path = xasprintf("%s/index.json", dir);
	json_t *manifests = json_object_get(index, "manifests");
	char *text;
	size_t len;
	int rc = 0;

	drop_tags(manifests, tags);
	for (size_t i = 0; i < tags->count; i++) {
		json_t *desc;

		if (tag_repeated(tags, i))
			continue;
		desc = tag_descriptor(image, meta, tags->items[i]);
		if (!desc) {
			rc = repack_fail(ctx, REPACK_EFAIL,
					 "cannot describe tag '%s' for architecture '%s' "
					 "in '%s'", tags->items[i], meta->arch, path);
			goto out;
		}
		json_array_append_new(manifests, desc);
	}
	json_object_set_new(index, "schemaVersion", json_integer(2));
	json_object_set_new(index, "mediaType", json_string(MEDIA_TYPE_INDEX));

	text = image_json_dump(index, &len);
	rc = write_file_atomic(ctx, path, text, len);
	free(text);
	if (rc == 0)
		rc = image_sync_dir(ctx, dir);
out:
	free(path);
	return rc;
}

/* Write the blobs, manifest last, so an index entry never points at a
 * manifest whose config or layer is missing. */
static int put_blobs(struct repack_ctx *ctx, const char *blobdir,
		     const struct image *image)
{
	int rc = put_blob(ctx, blobdir, &image->layer);

	if (rc == 0)
		rc = put_blob(ctx, blobdir, &image->config);
	if (rc == 0)
		rc = put_blob(ctx, blobdir, &image->manifest);
	if (rc == 0)
		rc = image_sync_dir(ctx, blobdir);
	return rc;
}

int oci_layout_write(struct repack_ctx *ctx, const char *dir,
		     const struct image *image, const struct image_meta *meta,
		     const struct strlist *tags)
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
		rc = put_blobs(ctx, blobdir, image);
	if (rc == 0)
		rc = update_index(ctx, dir, image, meta, tags, index);
	if (rc == 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "wrote sha256:%s to '%s' as %zu tag(s)",
			   image->manifest.digest, dir, tags->count);

	json_decref(index);
	if (lock_fd >= 0)
		close(lock_fd);
	free(index_path);
	free(blobdir);
	return rc;
}
