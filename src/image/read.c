/* Opening an image for reading: parse the reference, find the manifest in
 * index.json, and load the manifest and config blobs, each checked
 * against its digest. Archives and registry images are first copied into
 * a temporary layout (read_archive.c, read_remote.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_read.h"
#include "internal.h"
#include "registry.h"

/* The manifests and configs repack writes are about 1 KiB. The limit
 * leaves ample room for other tools' images and bounds memory use. */
#define JSON_BLOB_MAX (16 * 1024 * 1024)

#define IMAGE_FORMS "oci:DIR:TAG, oci:DIR@sha256:HEX, oci:DIR (a layout " \
	"holding one image), oci-archive:FILE[:TAG], docker-archive:FILE, " \
	"docker://HOST/REPO:TAG or dir:DIR"

/* Split "DIR:TAG" or "DIR@ALGORITHM:HEX" after the prefix ("oci:" or
 * "oci-archive:"). A part after the last '@' or ':' that contains '/'
 * belongs to the path. */
int image_parse_layout_spec(struct repack_ctx *ctx, const char *spec,
			    const char *prefix, struct image_source *src,
			    char **digest)
{
	const char *rest = spec + strlen(prefix);
	const char *at = strrchr(rest, '@');
	const char *colon = strrchr(rest, ':');

	if (at && (!strchr(at + 1, ':') || strchr(at + 1, '/')))
		at = NULL;
	if (at) {
		if (!image_digest_valid(at + 1))
			return repack_fail(ctx, REPACK_EUSAGE,
					   "invalid image '%s': a digest is sha256: "
					   "and 64 lowercase hex digits", spec);
		src->dir = xstrndup(rest, (size_t)(at - rest));
		*digest = xstrdup(at + 1);
	} else if (colon && !strchr(colon + 1, '/')) {
		src->dir = xstrndup(rest, (size_t)(colon - rest));
		src->tag = xstrdup(colon + 1);
		if (!*src->tag)
			return repack_fail(ctx, REPACK_EUSAGE,
					   "invalid image '%s': the tag after ':' is "
					   "empty; use %s", spec, IMAGE_FORMS);
	} else {
		src->dir = xstrdup(rest);
	}
	if (!*src->dir)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid image '%s': the directory is missing; use %s",
				   spec, IMAGE_FORMS);
	return 0;
}

int image_source_fetch_blob(struct repack_ctx *ctx,
			    const struct image_source *src, const char *hex,
			    json_int_t size)
{
	char *path;
	struct stat st;
	int rc = 0;

	if (!src->remote)
		return 0;
	path = xasprintf("%s/blobs/sha256/%s", src->dir, hex);
	if (lstat(path, &st) < 0 && size >= 0)
		rc = registry_get_blob(src->remote, hex, (uint64_t)size, path);
	free(path);
	return rc;
}

/* Read blobs/sha256/HEX of src's layout, check its size (unless
 * expect_size is negative) and digest, and parse it as JSON. */
static int read_json_blob(struct repack_ctx *ctx, const struct image_source *src,
			  const char *digest, json_int_t expect_size,
			  json_t **out)
{
	const char *dir = src->dir;
	char *path = NULL, *data = NULL;
	char hex[SHA256_HEX_LEN + 1];
	json_error_t err;
	struct stat st;
	size_t len;
	int rc = 0;

	if (!image_digest_valid(digest))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "invalid digest '%s' in the layout '%s'",
				   digest ? digest : "(none)", dir);
	rc = image_source_fetch_blob(ctx, src, digest + strlen("sha256:"), expect_size);
	if (rc)
		return rc;
	path = xasprintf("%s/blobs/sha256/%s", dir, digest + strlen("sha256:"));
	if (lstat(path, &st) < 0) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "blob '%s' is missing from the layout: %s",
				 path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > JSON_BLOB_MAX) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "blob '%s' is not a regular file of at most %d bytes: "
				 "the layout is corrupt", path, JSON_BLOB_MAX);
		goto out;
	}
	if (expect_size >= 0 && st.st_size != expect_size) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "blob '%s' is %lld bytes but its descriptor says %lld: "
				 "the layout is corrupt", path, (long long)st.st_size,
				 (long long)expect_size);
		goto out;
	}
	rc = read_file(ctx, path, &data, &len);
	if (rc)
		goto out;
	sha256_buffer(data, len, hex);
	if (strcmp(hex, digest + strlen("sha256:")) != 0) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "blob '%s' has sha256 %s, not the digest in its name: "
				 "the layout is corrupt", path, hex);
		goto out;
	}
	*out = json_loadb(data, len, 0, &err);
	if (!*out)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "blob '%s' is not valid JSON (line %d: %s)",
				 path, err.line, err.text);
out:
	free(data);
	free(path);
	return rc;
}

static const char *descriptor_ref(json_t *desc)
{
	json_t *annotations = json_object_get(desc, "annotations");

	return json_string_value(json_object_get(annotations, ANNOTATION_REF_NAME));
}

/* List the tags of an index for error messages; caller frees. */
static char *list_tags(json_t *manifests)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *desc;

	json_array_foreach(manifests, i, desc) {
		const char *ref = descriptor_ref(desc);

		if (!ref)
			continue;
		strbuf_addstr(&sb, sb.len ? ", " : "");
		strbuf_addstr(&sb, ref);
	}
	if (!sb.len)
		strbuf_addstr(&sb, "none");
	return strbuf_detach(&sb, NULL);
}

/* A descriptor for a digest that index.json does not list, such as one
 * manifest of a multi-architecture index, when its blob is present. */
static json_t *blob_descriptor(const char *dir, const char *digest)
{
	char *path = xasprintf("%s/blobs/sha256/%s", dir, digest + strlen("sha256:"));
	json_t *desc = NULL;
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		desc = json_pack("{s:s}", "digest", digest);
	free(path);
	return desc;
}

/* True when manifests is not empty and every entry has one digest, as
 * when one image carries several tags. */
static bool same_digest(json_t *manifests)
{
	const char *first = json_string_value(json_object_get(
		json_array_get(manifests, 0), "digest"));
	size_t i;
	json_t *d;

	if (!first)
		return false;
	json_array_foreach(manifests, i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));

		if (!digest || strcmp(digest, first) != 0)
			return false;
	}
	return true;
}

/* Pick the descriptor of index.json that src names: by tag (the last
 * entry wins, as it does for tools that append), by digest, or the only
 * image. The caller releases *desc with json_decref(). */
static int select_descriptor(struct repack_ctx *ctx, struct image_source *src,
			     json_t *index, const char *digest, json_t **desc)
{
	json_t *manifests = json_object_get(index, "manifests");
	size_t count = json_array_size(manifests);
	json_t *found = NULL;
	char *tags;
	int rc;

	for (size_t i = 0; i < count; i++) {
		json_t *d = json_array_get(manifests, i);
		const char *ref = descriptor_ref(d);
		const char *dd = json_string_value(json_object_get(d, "digest"));

		if (src->tag && ref && strcmp(ref, src->tag) == 0)
			found = d;
		if (digest && dd && strcmp(dd, digest) == 0)
			found = d;
	}
	if (!src->tag && !digest && same_digest(manifests))
		found = json_array_get(manifests, 0);
	*desc = found ? json_incref(found) : NULL;
	if (!found && digest)
		*desc = blob_descriptor(src->dir, digest);
	if (*desc)
		return 0;

	tags = list_tags(manifests);
	if (src->tag || digest)
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "no image %s%s in the layout '%s' (tags: %s)",
				 src->tag ? "tagged " : "", src->tag ? src->tag : digest,
				 src->dir, tags);
	else
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "the layout '%s' holds %zu images; name one as "
				 "oci:%s:TAG (tags: %s)", src->dir, count, src->dir, tags);
	free(tags);
	return rc;
}

static int load_index(struct repack_ctx *ctx, const char *dir, json_t **out)
{
	char *path = xasprintf("%s/index.json", dir);
	json_error_t err;
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "'%s' is not an OCI image layout: cannot read '%s': %s",
				 dir, path, strerror(errno));
		goto out;
	}
	*out = json_load_file(path, 0, &err);
	if (!*out) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' is not valid JSON (line %d, column %d: %s)",
				 path, err.line, err.column, err.text);
		goto out;
	}
	if (!json_is_array(json_object_get(*out, "manifests")))
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' is not an OCI image index: it has no "
				 "\"manifests\" array", path);
out:
	free(path);
	return rc;
}

static bool is_index_type(const char *media_type)
{
	return media_type && (strcmp(media_type, MEDIA_TYPE_INDEX) == 0 ||
			      strcmp(media_type, MEDIA_TYPE_DOCKER_LIST) == 0);
}

static const char *platform_arch(json_t *desc)
{
	return json_string_value(json_object_get(json_object_get(desc, "platform"),
						 "architecture"));
}

/* Record the index's architectures in src->arches, sorted. */
static void list_arches(struct image_source *src, json_t *index)
{
	size_t i;
	json_t *d;

	strlist_release(&src->arches);
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *arch = platform_arch(d);

		if (arch && !strlist_contains(&src->arches, arch))
			strlist_push(&src->arches, arch);
	}
	strlist_sort(&src->arches);
}

/* Pick the manifest for arch from a multi-architecture index. With any
 * set and no arch, the first architecture in sorted order. */
static int select_platform(struct repack_ctx *ctx, const struct image_source *src,
			   json_t *index, const char *arch, bool any, json_t **desc)
{
	json_t *manifests = json_object_get(index, "manifests");
	struct strbuf arches = STRBUF_INIT;
	size_t i;
	json_t *d;
	int rc;

	*desc = NULL;
	if (!arch && json_array_size(manifests) == 1) {
		*desc = json_array_get(manifests, 0);
		return 0;
	}
	if (!arch && any && src->arches.count > 0)
		arch = src->arches.items[0];
	json_array_foreach(manifests, i, d) {
		const char *a = platform_arch(d);

		if (arch && a && strcmp(a, arch) == 0) {
			*desc = d;
			strbuf_release(&arches);
			return 0;
		}
		strbuf_addstr(&arches, arches.len ? ", " : "");
		strbuf_addstr(&arches, a ? a : "unknown");
	}
	if (arch)
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "the image in '%s' has no %s manifest (architectures: %s)",
				 src->dir, arch, arches.len ? arches.buf : "none");
	else
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "the image in '%s' is a multi-architecture index "
				 "(%s); choose one architecture",
				 src->dir, arches.len ? arches.buf : "none");
	strbuf_release(&arches);
	return rc;
}

static json_int_t descriptor_size(json_t *desc)
{
	json_t *size = json_object_get(desc, "size");

	return json_is_integer(size) ? json_integer_value(size) : -2;
}

/* Follow an index one level down to the manifest for arch; *manifest
 * is replaced by the chosen manifest. */
static int follow_index(struct repack_ctx *ctx, struct image_source *src,
			const char *index_digest, const char *arch, bool any,
			json_t **manifest, const char **digest)
{
	json_t *index = *manifest, *desc;
	const char *media_type;
	int rc;

	*manifest = NULL;
	snprintf(src->index_digest, sizeof(src->index_digest), "%s",
		 index_digest + strlen("sha256:"));
	list_arches(src, index);
	rc = select_platform(ctx, src, index, arch, any, &desc);
	if (rc == 0) {
		*digest = json_string_value(json_object_get(desc, "digest"));
		rc = read_json_blob(ctx, src, *digest, descriptor_size(desc), manifest);
	}
	media_type = json_string_value(json_object_get(*manifest, "mediaType"));
	if (rc == 0 && is_index_type(media_type))
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "'%s' is an index inside an index in '%s'; "
				 "repack reads one level only", *digest, src->dir);
	/* The digest string belongs to the index: keep a copy in src. */
	if (rc == 0)
		snprintf(src->manifest_digest, sizeof(src->manifest_digest), "%s",
			 *digest + strlen("sha256:"));
	*digest = NULL;
	json_decref(index);
	return rc;
}

/* Load the manifest src->top points at; when it is an index, follow it
 * one level down to the manifest for arch. */
static int load_manifest(struct repack_ctx *ctx, struct image_source *src,
			 const char *arch, bool any)
{
	const char *digest = json_string_value(json_object_get(src->top, "digest"));
	json_t *manifest = NULL;
	const char *media_type;
	int rc;

	src->index_digest[0] = '\0';
	rc = read_json_blob(ctx, src, digest, descriptor_size(src->top), &manifest);
	if (rc)
		return rc;
	media_type = json_string_value(json_object_get(manifest, "mediaType"));
	if (is_index_type(media_type)) {
		rc = follow_index(ctx, src, digest, arch, any, &manifest, &digest);
	} else {
		snprintf(src->manifest_digest, sizeof(src->manifest_digest), "%s",
			 digest + strlen("sha256:"));
	}
	if (rc == 0) {
		src->manifest = manifest;
		manifest = NULL;
	}
	json_decref(manifest);
	return rc;
}

/* Read the config and the single layer's descriptor from the manifest. */
static int load_config(struct repack_ctx *ctx, struct image_source *src)
{
	json_t *config_desc = json_object_get(src->manifest, "config");
	json_t *layers = json_object_get(src->manifest, "layers");
	json_t *layer = json_array_get(layers, 0);
	const char *layer_digest = json_string_value(json_object_get(layer, "digest"));
	const char *layer_type = json_string_value(json_object_get(layer, "mediaType"));
	const char *diff_id;
	int rc;

	if (json_array_size(layers) != 1 || !image_digest_valid(layer_digest) ||
	    descriptor_size(layer) < 0)
		return repack_fail(ctx, REPACK_EFORMAT,
				   "manifest sha256:%s in '%s' has %zu layers; a kernel "
				   "image has exactly one, with a digest and a size",
				   src->manifest_digest, src->dir, json_array_size(layers));
	rc = read_json_blob(ctx, src,
			    json_string_value(json_object_get(config_desc, "digest")),
			    descriptor_size(config_desc), &src->config);
	if (rc)
		return rc;

	diff_id = json_string_value(json_array_get(json_object_get(
		json_object_get(src->config, "rootfs"), "diff_ids"), 0));
	if (!image_digest_valid(diff_id))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "the config of manifest sha256:%s in '%s' has no "
				   "valid rootfs.diff_ids entry", src->manifest_digest,
				   src->dir);
	snprintf(src->layer_digest, sizeof(src->layer_digest), "%s",
		 layer_digest + strlen("sha256:"));
	snprintf(src->layer_diff_id, sizeof(src->layer_diff_id), "%s",
		 diff_id + strlen("sha256:"));
	src->layer_size = (uint64_t)descriptor_size(layer);
	free(src->layer_media_type);
	src->layer_media_type = xstrdup(layer_type ? layer_type : MEDIA_TYPE_LAYER_GZIP);
	return image_source_fetch_blob(ctx, src, src->layer_digest,
				       descriptor_size(layer));
}

/* The familiar image name of a containerd name annotation
 * ("docker.io/linuxkit/kernel-debian:TAG" is linuxkit/kernel-debian);
 * caller frees. */
static char *familiar_name(const char *annotation)
{
	const char *start = annotation;
	const char *slash = strrchr(annotation, '/');
	const char *colon = strrchr(slash ? slash : annotation, ':');

	if (str_starts_with(start, "docker.io/library/"))
		start += strlen("docker.io/library/");
	else if (str_starts_with(start, "docker.io/"))
		start += strlen("docker.io/");
	return colon ? xstrndup(start, (size_t)(colon - start)) : xstrdup(start);
}

static void take_name(struct image_source *src)
{
	const char *name = json_string_value(json_object_get(
		json_object_get(src->top, "annotations"), ANNOTATION_CONTAINERD_NAME));

	if (name && !src->name)
		src->name = familiar_name(name);
}

int image_open_layout(struct repack_ctx *ctx, struct image_source *src,
		      const char *digest, const char *arch, bool any)
{
	json_t *index = NULL;
	int rc;

	src->kind = OUTPUT_OCI;
	rc = load_index(ctx, src->dir, &index);
	if (rc == 0)
		rc = select_descriptor(ctx, src, index, digest, &src->top);
	if (rc == 0) {
		take_name(src);
		rc = load_manifest(ctx, src, arch, any);
	}
	if (rc == 0)
		rc = load_config(ctx, src);
	json_decref(index);
	return rc;
}

static int open_oci(struct repack_ctx *ctx, const char *spec, const char *arch,
		    bool any, struct image_source *src)
{
	char *digest = NULL;
	int rc = image_parse_layout_spec(ctx, spec, "oci:", src, &digest);

	if (rc == 0)
		rc = image_open_layout(ctx, src, digest, arch, any);
	free(digest);
	return rc;
}

int image_source_select(struct repack_ctx *ctx, struct image_source *src,
			const char *arch)
{
	char *wanted;
	int rc;

	if (!src->index_digest[0] || !src->top)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "the image in '%s' is not a multi-architecture index",
				   src->dir);
	/* arch may be an item of src->arches, which loading rebuilds. */
	wanted = xstrdup(arch);
	json_decref(src->manifest);
	json_decref(src->config);
	src->manifest = src->config = NULL;
	rc = load_manifest(ctx, src, wanted, false);
	if (rc == 0)
		rc = load_config(ctx, src);
	free(wanted);
	return rc;
}

static int open_dir(struct repack_ctx *ctx, const char *spec,
		    struct image_source *src)
{
	char *kernel, *config_path;
	json_error_t err;
	struct stat st;
	int rc = 0;

	src->kind = OUTPUT_DIR;
	src->dir = xstrdup(spec + strlen("dir:"));
	kernel = xasprintf("%s/kernel", src->dir);
	config_path = xasprintf("%s/%s", src->dir, DIR_CONFIG_NAME);
	if (stat(kernel, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "'%s' holds no kernel image: '%s' is missing",
				 src->dir, kernel);
		goto out;
	}
	/* A dir: output has no digests, so there is nothing to verify. */
	if (stat(config_path, &st) == 0) {
		src->config = json_load_file(config_path, 0, &err);
		if (!src->config)
			rc = repack_fail(ctx, REPACK_EFORMAT,
					 "'%s' is not valid JSON (line %d: %s)",
					 config_path, err.line, err.text);
	}
out:
	free(config_path);
	free(kernel);
	return rc;
}

int image_open_with(struct repack_ctx *ctx, const char *spec,
		    const struct image_open_options *opts,
		    struct image_source *src)
{
	const char *arch = opts->arch;
	bool any = opts->any && !arch;

	memset(src, 0, sizeof(*src));
	if (!spec)
		spec = "";
	if (str_starts_with(spec, "oci:"))
		return open_oci(ctx, spec, arch, any, src);
	if (str_starts_with(spec, "oci-archive:"))
		return image_open_oci_archive(ctx, spec, arch, any, src);
	if (str_starts_with(spec, "docker-archive:"))
		return image_open_docker_archive(ctx, spec, arch, any, src);
	if (str_starts_with(spec, "docker://"))
		return image_open_remote(ctx, spec, opts, src);
	if (str_starts_with(spec, "dir:") && spec[4])
		return open_dir(ctx, spec, src);
	return repack_fail(ctx, REPACK_EUSAGE, "invalid image '%s': use %s",
			   spec, IMAGE_FORMS);
}

int image_open(struct repack_ctx *ctx, const char *spec, const char *arch,
	       struct image_source *src)
{
	struct image_open_options opts = { .arch = arch };

	return image_open_with(ctx, spec, &opts, src);
}

int image_open_any(struct repack_ctx *ctx, const char *spec,
		   struct image_source *src)
{
	struct image_open_options opts = { .any = true };

	return image_open_with(ctx, spec, &opts, src);
}

void image_source_release(struct image_source *src)
{
	if (src->tmpdir)
		rm_rf(src->tmpdir);
	registry_close(src->remote);
	free(src->tmpdir);
	free(src->dir);
	free(src->tag);
	free(src->name);
	free(src->layer_media_type);
	strlist_release(&src->arches);
	json_decref(src->top);
	json_decref(src->manifest);
	json_decref(src->config);
	memset(src, 0, sizeof(*src));
}

void image_source_tags(const struct image_source *src, const char *hex,
		       struct strlist *tags)
{
	char *path = xasprintf("%s/index.json", src->dir);
	json_t *index = src->kind == OUTPUT_OCI ? json_load_file(path, 0, NULL) : NULL;
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));
		const char *ref = descriptor_ref(d);

		if (ref && digest && str_starts_with(digest, "sha256:") &&
		    strcmp(digest + strlen("sha256:"), hex) == 0 &&
		    !strlist_contains(tags, ref))
			strlist_push(tags, ref);
	}
	json_decref(index);
	free(path);
}

const char *image_source_label(const struct image_source *src, const char *key)
{
	json_t *labels = json_object_get(json_object_get(src->config, "config"),
					 "Labels");

	return json_string_value(json_object_get(labels, key));
}
