/* Archive outputs. oci-archive:FILE is an OCI image layout in one tar,
 * the form skopeo's oci-archive: transport and docker load on Docker 25
 * and later read. docker-archive:FILE is the docker save format:
 * manifest.json with RepoTags, the config as HEX.json and the layer as
 * HEX/layer.tar.
 *
 * Both are ustar archives with every entry owned by 0:0, stamped with the
 * image's creation time and in a fixed order, so the same image gives the
 * same archive. The tar is written to FILE.part and renamed to FILE only
 * when complete. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

#define COPY_CHUNK 65536
#define LAYOUT_FILE_TEXT "{\"imageLayoutVersion\":\"1.0.0\"}"

struct archive_out {
	struct repack_ctx *ctx;
	struct archive *tar;
	char *path;  /* the final name */
	char *part;  /* path.part, renamed to path at the end */
	int fd;
	time_t mtime;
};

static int archive_out_open(struct archive_out *ao, struct repack_ctx *ctx,
			    const char *path, time_t mtime)
{
	memset(ao, 0, sizeof(*ao));
	ao->ctx = ctx;
	ao->path = xstrdup(path);
	ao->part = xasprintf("%s.part", path);
	ao->mtime = mtime;
	ao->fd = open(ao->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ao->fd < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot create '%s': %s",
				   ao->part, strerror(errno));
	ao->tar = archive_write_new();
	if (archive_write_set_format_ustar(ao->tar) != ARCHIVE_OK ||
	    archive_write_add_filter_none(ao->tar) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(ao->tar, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(ao->tar, ao->fd) != ARCHIVE_OK)
		return repack_fail(ctx, REPACK_EFAIL, "cannot start the tar '%s': %s",
				   ao->part, archive_error_string(ao->tar));
	return 0;
}

/* Remove the partial file and free everything; safe after a close. */
static void archive_out_release(struct archive_out *ao)
{
	if (ao->tar)
		archive_write_free(ao->tar);
	if (ao->fd >= 0)
		close(ao->fd);
	if (ao->part)
		unlink(ao->part);
	free(ao->part);
	free(ao->path);
	memset(ao, 0, sizeof(*ao));
	ao->fd = -1;
}

static int archive_out_header(struct archive_out *ao, const char *name,
			      mode_t type, uint64_t size)
{
	struct archive_entry *entry = archive_entry_new();
	int rc = 0;

	archive_entry_set_pathname(entry, name);
	archive_entry_set_filetype(entry, type);
	archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(entry, type == AE_IFDIR ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(entry, ao->mtime, 0);
	archive_entry_set_uid(entry, 0);
	archive_entry_set_gid(entry, 0);
	if (archive_write_header(ao->tar, entry) != ARCHIVE_OK)
		rc = repack_fail(ao->ctx, REPACK_EFAIL, "cannot add '%s' to '%s': %s",
				 name, ao->part, archive_error_string(ao->tar));
	archive_entry_free(entry);
	return rc;
}

static int archive_out_dir(struct archive_out *ao, const char *name)
{
	return archive_out_header(ao, name, AE_IFDIR, 0);
}

static int archive_out_bytes(struct archive_out *ao, const char *name,
			     const void *data, size_t len)
{
	int rc = archive_out_header(ao, name, AE_IFREG, len);

	if (rc == 0 && archive_write_data(ao->tar, data, len) != (la_ssize_t)len)
		rc = repack_fail(ao->ctx, REPACK_EFAIL, "cannot write '%s' into '%s': %s",
				 name, ao->part, archive_error_string(ao->tar));
	return rc;
}

/* Add the blob file under name, checking it still has the size the image
 * records. */
static int archive_out_blob(struct archive_out *ao, const char *name,
			    const struct image_blob *blob)
{
	unsigned char *buf = NULL;
	uint64_t left = blob->size;
	int fd, rc;

	fd = open(blob->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return repack_fail(ao->ctx, REPACK_EFAIL, "cannot open '%s': %s",
				   blob->path, strerror(errno));
	rc = archive_out_header(ao, name, AE_IFREG, blob->size);
	buf = xmalloc(COPY_CHUNK);
	while (rc == 0 && left > 0) {
		size_t want = left < COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = repack_fail(ao->ctx, REPACK_EFAIL,
					 "'%s' ended %llu bytes before its recorded size: %s; "
					 "build the image again", blob->path,
					 (unsigned long long)left,
					 n < 0 ? strerror(errno) : "end of file");
			break;
		}
		if (archive_write_data(ao->tar, buf, (size_t)n) != n)
			rc = repack_fail(ao->ctx, REPACK_EFAIL,
					 "cannot write '%s' into '%s': %s", name,
					 ao->part, archive_error_string(ao->tar));
		left -= (uint64_t)n;
	}
	free(buf);
	close(fd);
	return rc;
}

/* Finish the tar, sync it and rename FILE.part to FILE. */
static int archive_out_close(struct archive_out *ao)
{
	char *copy;
	int rc = 0;

	if (archive_write_close(ao->tar) != ARCHIVE_OK)
		return repack_fail(ao->ctx, REPACK_EFAIL, "cannot finish '%s': %s",
				   ao->part, archive_error_string(ao->tar));
	if (fsync(ao->fd) < 0)
		return repack_fail(ao->ctx, REPACK_EFAIL, "cannot sync '%s': %s",
				   ao->part, strerror(errno));
	if (rename(ao->part, ao->path) < 0)
		return repack_fail(ao->ctx, REPACK_EFAIL,
				   "cannot rename '%s' to '%s': %s", ao->part,
				   ao->path, strerror(errno));
	free(ao->part);
	ao->part = NULL;
	copy = xstrdup(ao->path);
	rc = image_sync_dir(ao->ctx, dirname(copy));
	free(copy);
	return rc;
}

static int compare_blobs(const void *a, const void *b)
{
	const struct image_blob *x = *(const struct image_blob *const *)a;
	const struct image_blob *y = *(const struct image_blob *const *)b;

	return strcmp(x->digest, y->digest);
}

/* Every blob of the set, sorted by digest, each once; caller frees the
 * array (the blobs belong to the set). */
static const struct image_blob **collect_blobs(const struct image_set *set,
					       size_t *count)
{
	const struct image_blob **blobs = xcalloc(set->count * 3 + 1, sizeof(*blobs));
	size_t n = 0, kept = 0;

	for (size_t i = 0; i < set->count; i++) {
		blobs[n++] = &set->items[i].image->layer;
		blobs[n++] = &set->items[i].image->config;
		blobs[n++] = &set->items[i].image->manifest;
	}
	if (set->count > 1)
		blobs[n++] = &set->index;
	qsort(blobs, n, sizeof(*blobs), compare_blobs);
	for (size_t i = 0; i < n; i++)
		if (kept == 0 || strcmp(blobs[kept - 1]->digest, blobs[i]->digest) != 0)
			blobs[kept++] = blobs[i];
	*count = kept;
	return blobs;
}

static int write_oci_entries(struct archive_out *ao, const struct image_set *set)
{
	json_t *index = json_pack("{s:[]}", "manifests");
	const struct image_blob **blobs = NULL;
	size_t count, len;
	char *text = NULL;
	int rc = oci_index_add_tags(ao->ctx, set, index);

	if (rc)
		goto out;
	text = image_json_dump(index, &len);
	rc = archive_out_bytes(ao, "oci-layout", LAYOUT_FILE_TEXT,
			       strlen(LAYOUT_FILE_TEXT));
	if (rc == 0)
		rc = archive_out_bytes(ao, "index.json", text, len);
	if (rc == 0)
		rc = archive_out_dir(ao, "blobs/");
	if (rc == 0)
		rc = archive_out_dir(ao, "blobs/sha256/");

	blobs = collect_blobs(set, &count);
	for (size_t i = 0; rc == 0 && i < count; i++) {
		char *name = xasprintf("blobs/sha256/%s", blobs[i]->digest);

		rc = archive_out_blob(ao, name, blobs[i]);
		free(name);
	}
out:
	free(blobs);
	free(text);
	json_decref(index);
	return rc;
}

int oci_archive_write(struct repack_ctx *ctx, const char *path,
		      const struct image_set *set)
{
	struct archive_out ao;
	int rc = archive_out_open(&ao, ctx, path, set->items[0].meta->created);

	if (rc == 0)
		rc = write_oci_entries(&ao, set);
	if (rc == 0)
		rc = archive_out_close(&ao);
	if (rc == 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "wrote sha256:%s to '%s' as %zu tag(s)",
			   image_set_top(set)->digest, path, set->tag_count);
	archive_out_release(&ao);
	return rc;
}

/* manifest.json of the docker save format: one image with its config,
 * its layer and every tag as NAME:TAG in RepoTags. */
static json_t *docker_manifest(const struct image_set *set, const char *config_name,
			       const char *layer_name)
{
	const char *name = set->items[0].meta->name;
	json_t *tags = json_array();

	for (size_t i = 0; i < set->tag_count; i++) {
		char *ref = xasprintf("%s:%s", name && *name ? name : "repack",
				      set->tags[i].name);

		json_array_append_new(tags, json_string(ref));
		free(ref);
	}
	return json_pack("[{s:s, s:o, s:[s]}]", "Config", config_name,
			 "RepoTags", tags, "Layers", layer_name);
}

static int write_docker_entries(struct archive_out *ao, const struct image_set *set)
{
	const struct image *image = set->items[0].image;
	char *config_name = xasprintf("%s.json", image->config.digest);
	char *layer_dir = xasprintf("%s/", image->layer.digest);
	char *layer_name = xasprintf("%s/layer.tar", image->layer.digest);
	json_t *manifest = docker_manifest(set, config_name, layer_name);
	char *text = NULL;
	size_t len;
	int rc;

	if (!manifest) {
		rc = repack_fail(ao->ctx, REPACK_EFAIL,
				 "cannot build manifest.json for '%s'", ao->path);
		goto out;
	}
	text = image_json_dump(manifest, &len);
	rc = archive_out_bytes(ao, "manifest.json", text, len);
	if (rc == 0)
		rc = archive_out_blob(ao, config_name, &image->config);
	if (rc == 0)
		rc = archive_out_dir(ao, layer_dir);
	if (rc == 0)
		rc = archive_out_blob(ao, layer_name, &image->layer);
out:
	free(text);
	json_decref(manifest);
	free(layer_name);
	free(layer_dir);
	free(config_name);
	return rc;
}

int docker_archive_write(struct repack_ctx *ctx, const char *path,
			 const struct image_set *set)
{
	struct archive_out ao;
	int rc;

	if (set->count != 1)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "a docker-archive: output holds one architecture, "
				   "not %zu", set->count);
	rc = archive_out_open(&ao, ctx, path, set->items[0].meta->created);
	if (rc == 0)
		rc = write_docker_entries(&ao, set);
	if (rc == 0)
		rc = archive_out_close(&ao);
	if (rc == 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "wrote sha256:%s to '%s' as %zu tag(s)",
			   set->items[0].image->manifest.digest, path, set->tag_count);
	archive_out_release(&ao);
	return rc;
}
