/* Reading archives. An oci-archive is unpacked into a temporary directory
 * and read as the layout it contains. A docker save archive is unpacked
 * and turned into a one-image layout: its config, its layer, an OCI
 * manifest of the two, and index.json entries for its RepoTags.
 *
 * Unpacking takes regular files and directories with relative names only;
 * links, devices, absolute names and ".." are rejected with the archive
 * and the entry named. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image_read.h"
#include "internal.h"

#define CHUNK 65536
#define DOCKER_MANIFEST_MAX (1024 * 1024)

/* Return the entry name without leading "./", or NULL when it is
 * absolute, has a ".." or empty component, or is only ".". */
static const char *safe_name(const char *name)
{
	const char *p;

	if (!name)
		return NULL;
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (!*name || name[0] == '/' || strcmp(name, ".") == 0)
		return NULL;
	for (p = name; *p;) {
		size_t len = strcspn(p, "/");

		if (len == 0 && p[0] == '/' && p[1] != '\0')
			return NULL;
		if ((len == 2 && strncmp(p, "..", 2) == 0) ||
		    (len == 1 && p[0] == '.'))
			return NULL;
		p += len;
		if (*p == '/')
			p++;
	}
	return name;
}

static int write_entry(struct repack_ctx *ctx, struct archive *a,
		       const char *file, const char *path)
{
	char buf[CHUNK];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return repack_fail(ctx, errno == EEXIST ? REPACK_EUNPACK : REPACK_EFAIL,
				   "cannot create '%s' from '%s': %s", path, file,
				   errno == EEXIST ? "the archive holds it twice" :
				   strerror(errno));
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));

		if (n == 0)
			break;
		if (n < 0) {
			rc = repack_fail(ctx, REPACK_EUNPACK, "cannot read '%s': %s",
					 file, archive_error_string(a));
			break;
		}
		if (image_write_all(fd, buf, (size_t)n) < 0) {
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot write '%s': %s",
					 path, strerror(errno));
			break;
		}
	}
	if (close(fd) < 0 && rc == 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot write '%s': %s", path,
				 strerror(errno));
	return rc;
}

/* Create the directories above name inside dest. */
static int make_parents(struct repack_ctx *ctx, const char *dest, const char *name)
{
	const char *slash = strrchr(name, '/');
	char *dir;
	int rc;

	if (!slash)
		return 0;
	dir = xasprintf("%s/%.*s", dest, (int)(slash - name), name);
	rc = mkdir_p(ctx, dir);
	free(dir);
	return rc;
}

static int unpack_entry(struct repack_ctx *ctx, struct archive *a,
			struct archive_entry *entry, const char *file,
			const char *dest)
{
	const char *raw = archive_entry_pathname(entry);
	const char *name = safe_name(raw);
	mode_t type = archive_entry_filetype(entry);
	char *path;
	int rc;

	if (raw && (strcmp(raw, ".") == 0 || strcmp(raw, "./") == 0) && type == AE_IFDIR)
		return 0;
	if (!name)
		return repack_fail(ctx, REPACK_EUNPACK,
				   "'%s' holds the entry '%s', whose name is absolute or "
				   "climbs out with '..'; it is not an image archive",
				   file, raw ? raw : "(no name)");
	if (type != AE_IFDIR && (type != AE_IFREG || archive_entry_hardlink(entry)))
		return repack_fail(ctx, REPACK_EUNPACK,
				   "'%s' holds '%s', which is not a regular file or a "
				   "directory; repack reads archives of plain files only",
				   file, name);
	path = xasprintf("%s/%s", dest, name);
	if (type == AE_IFDIR)
		rc = mkdir_p(ctx, path);
	else if ((rc = make_parents(ctx, dest, name)) == 0)
		rc = write_entry(ctx, a, file, path);
	free(path);
	return rc;
}

/* Unpack the tar (compressed or not) at file into the directory dest. */
static int unpack_tar(struct repack_ctx *ctx, const char *file, const char *dest)
{
	struct archive *a = archive_read_new();
	struct archive_entry *entry;
	int rc = 0, r;

	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_filename(a, file, CHUNK) != ARCHIVE_OK) {
		rc = repack_fail(ctx, errno == ENOENT ? REPACK_ENOTFOUND : REPACK_EUNPACK,
				 "cannot read the archive '%s': %s", file,
				 archive_error_string(a));
		goto out;
	}
	while (rc == 0 && (r = archive_read_next_header(a, &entry)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK) {
			rc = repack_fail(ctx, REPACK_EUNPACK,
					 "'%s' is not a valid tar archive: %s", file,
					 archive_error_string(a));
			break;
		}
		rc = unpack_entry(ctx, a, entry, file, dest);
	}
out:
	archive_read_free(a);
	return rc;
}

/* Create src->tmpdir and unpack file into it, or into its subdirectory
 * subdir when that is not NULL; *dest receives where (caller frees). */
static int unpack_to_temp(struct repack_ctx *ctx, const char *file,
			  const char *subdir, struct image_source *src,
			  char **dest)
{
	struct stat st;
	int rc;

	*dest = NULL;
	if (stat(file, &st) < 0)
		return repack_fail(ctx, REPACK_ENOTFOUND, "cannot read the archive '%s': %s",
				   file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return repack_fail(ctx, REPACK_EUSAGE, "'%s' is not a file", file);
	rc = make_temp_dir(ctx, "repack-image", &src->tmpdir);
	if (rc)
		return rc;
	*dest = subdir ? xasprintf("%s/%s", src->tmpdir, subdir) : xstrdup(src->tmpdir);
	rc = mkdir_p(ctx, *dest);
	if (rc == 0)
		rc = unpack_tar(ctx, file, *dest);
	return rc;
}

int image_open_oci_archive(struct repack_ctx *ctx, const char *spec,
			   const char *arch, bool any, struct image_source *src)
{
	char *digest = NULL, *file = NULL;
	int rc = image_parse_layout_spec(ctx, spec, "oci-archive:", src, &digest);

	if (rc)
		goto out;
	/* image_parse_layout_spec put the archive's path in src->dir. */
	file = src->dir;
	src->dir = NULL;
	rc = unpack_to_temp(ctx, file, NULL, src, &src->dir);
	if (rc == 0)
		rc = image_open_layout(ctx, src, digest, arch, any);
	if (rc && rc != REPACK_ENOTFOUND)
		repack_wrap(ctx, rc, "cannot read the OCI archive '%s'", file);
out:
	free(file);
	free(digest);
	return rc;
}

/* Move the file at path into blobs/sha256/ of layout, hashing it, and
 * describe it in blob (path not set). */
static int add_blob(struct repack_ctx *ctx, const char *layout, const char *path,
		    struct image_blob *blob)
{
	char *dest;
	int rc = sha256_file(ctx, path, blob->digest, &blob->size);

	if (rc)
		return rc;
	dest = xasprintf("%s/blobs/sha256/%s", layout, blob->digest);
	if (rename(path, dest) < 0 && errno != EEXIST)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 path, dest, strerror(errno));
	free(dest);
	return rc;
}

/* The layer media type by its first bytes: gzip, zstd, or a plain tar. */
static const char *layer_media_type(const char *layout, const char *hex)
{
	char *path = xasprintf("%s/blobs/sha256/%s", layout, hex);
	unsigned char magic[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof(magic)) : -1;

	if (fd >= 0)
		close(fd);
	free(path);
	if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		return MEDIA_TYPE_LAYER_GZIP;
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
	    magic[3] == 0xfd)
		return MEDIA_TYPE_LAYER_ZSTD;
	return MEDIA_TYPE_LAYER_TAR;
}

/* The one entry of manifest.json, with its Config and single layer. */
static int read_docker_manifest(struct repack_ctx *ctx, const char *raw,
				const char *file, json_t **entry)
{
	char *path = xasprintf("%s/manifest.json", raw);
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);
	json_t *first = json_array_get(doc, 0);
	int rc = 0;

	if (!doc)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' has no valid manifest.json (%s); it is not a "
				 "docker save archive", file, err.text);
	else if (json_array_size(doc) != 1)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' holds %zu images; repack reads docker archives "
				 "of one image", file, json_array_size(doc));
	else if (!safe_name(json_string_value(json_object_get(first, "Config"))) ||
		 json_array_size(json_object_get(first, "Layers")) != 1 ||
		 !safe_name(json_string_value(json_array_get(
			 json_object_get(first, "Layers"), 0))))
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "the manifest.json of '%s' needs a Config file and "
				 "exactly one layer, as a kernel image has", file);
	if (rc == 0)
		*entry = json_incref(first);
	json_decref(doc);
	free(path);
	return rc;
}

/* The index.json entry for one "NAME:TAG" of RepoTags, or NULL. */
static json_t *repo_tag_descriptor(const struct image *image, const char *arch,
				   const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *colon = strrchr(slash ? slash : ref, ':');
	char *name, *normalised;
	json_t *desc;

	if (!colon || !colon[1])
		return NULL;
	name = xstrndup(ref, (size_t)(colon - ref));
	normalised = image_normalised_reference(name, colon + 1);
	desc = image_manifest_descriptor(image, arch);
	if (desc)
		json_object_set_new(desc, "annotations",
				    json_pack("{s:s, s:s}", ANNOTATION_REF_NAME, colon + 1,
					      ANNOTATION_CONTAINERD_NAME, normalised));
	free(normalised);
	free(name);
	return desc;
}

/* index.json with an entry for each NAME:TAG of RepoTags, or one untagged
 * entry when there is none. */
static json_t *docker_index(json_t *entry, const struct image_blob *manifest,
			    const char *arch)
{
	json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
				  "mediaType", MEDIA_TYPE_INDEX, "manifests");
	json_t *list = json_object_get(index, "manifests");
	struct image image = { .manifest = *manifest };
	size_t i;
	json_t *value;

	json_array_foreach(json_object_get(entry, "RepoTags"), i, value) {
		const char *ref = json_string_value(value);
		json_t *desc = ref ? repo_tag_descriptor(&image, arch, ref) : NULL;

		if (desc)
			json_array_append_new(list, desc);
	}
	if (json_array_size(list) == 0)
		json_array_append_new(list, image_manifest_descriptor(&image, arch));
	return index;
}

/* Serialise json into the file path. */
static int write_json(struct repack_ctx *ctx, const char *path, json_t *json)
{
	size_t len;
	char *text = image_json_dump(json, &len);
	int rc = write_file_atomic(ctx, path, text, len);

	free(text);
	return rc;
}

/* Store the OCI manifest of config and layer as a blob of layout. */
static int add_manifest(struct repack_ctx *ctx, const char *layout,
			struct image_blob *config, struct image_blob *layer,
			struct image_blob *manifest)
{
	json_t *json = image_manifest_json(config, layer);
	size_t len;
	char *text = image_json_dump(json, &len);
	char *path;
	int rc;

	sha256_buffer(text, len, manifest->digest);
	manifest->size = len;
	manifest->media_type = MEDIA_TYPE_MANIFEST;
	path = xasprintf("%s/blobs/sha256/%s", layout, manifest->digest);
	rc = write_file_atomic(ctx, path, text, len);
	free(path);
	free(text);
	json_decref(json);
	return rc;
}

/* The architecture the config blob records, or "unknown"; caller frees. */
static char *config_arch(const char *layout, const struct image_blob *config)
{
	char *path = xasprintf("%s/blobs/sha256/%s", layout, config->digest);
	json_t *doc = json_load_file(path, 0, NULL);
	const char *arch = json_string_value(json_object_get(doc, "architecture"));
	char *result = xstrdup(arch && *arch ? arch : "unknown");

	json_decref(doc);
	free(path);
	return result;
}

/* Build the layout of the unpacked docker archive raw in layout. */
static int docker_to_layout(struct repack_ctx *ctx, const char *file,
			    const char *raw, const char *layout)
{
	struct image_blob config = { .media_type = MEDIA_TYPE_CONFIG };
	struct image_blob layer = { 0 }, manifest = { 0 };
	json_t *entry = NULL, *index = NULL;
	char *blobdir = xasprintf("%s/blobs/sha256", layout);
	char *path = NULL, *arch = NULL;
	int rc = read_docker_manifest(ctx, raw, file, &entry);

	if (rc == 0)
		rc = mkdir_p(ctx, blobdir);
	if (rc == 0) {
		path = xasprintf("%s/%s", raw, json_string_value(json_object_get(entry, "Config")));
		rc = add_blob(ctx, layout, path, &config);
		free(path);
	}
	if (rc == 0) {
		path = xasprintf("%s/%s", raw, json_string_value(json_array_get(
			json_object_get(entry, "Layers"), 0)));
		rc = add_blob(ctx, layout, path, &layer);
		free(path);
	}
	if (rc)
		goto out;
	layer.media_type = layer_media_type(layout, layer.digest);
	rc = add_manifest(ctx, layout, &config, &layer, &manifest);
	if (rc)
		goto out;
	arch = config_arch(layout, &config);
	index = docker_index(entry, &manifest, arch);
	path = xasprintf("%s/index.json", layout);
	rc = write_json(ctx, path, index);
	free(path);
	if (rc == 0) {
		path = xasprintf("%s/oci-layout", layout);
		rc = write_file_atomic(ctx, path, "{\"imageLayoutVersion\":\"1.0.0\"}",
				       strlen("{\"imageLayoutVersion\":\"1.0.0\"}"));
		free(path);
	}
out:
	json_decref(index);
	json_decref(entry);
	free(arch);
	free(blobdir);
	return rc;
}

int image_open_docker_archive(struct repack_ctx *ctx, const char *spec,
			      const char *arch, bool any,
			      struct image_source *src)
{
	const char *file = spec + strlen("docker-archive:");
	char *raw = NULL, *layout = NULL;
	int rc;

	if (!*file)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image '%s': the file name is missing; use "
				   "docker-archive:FILE", spec);
	/* The archive's entries go to archive/, the layout made from them
	 * to layout/. */
	rc = unpack_to_temp(ctx, file, "archive", src, &raw);
	if (rc == 0) {
		layout = xasprintf("%s/layout", src->tmpdir);
		rc = docker_to_layout(ctx, file, raw, layout);
	}
	if (rc == 0) {
		src->dir = layout;
		layout = NULL;
		rc = image_open_layout(ctx, src, NULL, arch, any);
	}
	if (rc && rc != REPACK_ENOTFOUND)
		repack_wrap(ctx, rc, "cannot read the docker archive '%s'", file);
	free(layout);
	free(raw);
	return rc;
}
