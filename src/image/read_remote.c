/* Reading a registry image (docker://HOST/REPO:TAG or @sha256:HEX). The
 * manifest, and every manifest of an index, are downloaded into a
 * temporary layout. Configs and layers follow when they are read
 * (image_source_fetch_blob). The layout's index.json names the reference
 * and the other tags repack writes for the same image (TAG, TAG-ARCH,
 * TAG-HASH) that the registry has pointing at it. */
#include <stdlib.h>
#include <string.h>

#include "image_read.h"
#include "internal.h"
#include "registry.h"

#define LABEL_VERSION "org.opencontainers.image.version"
#define LABEL_PACKAGES "org.linuxkit.repack.packages"

static bool is_index_media_type(const char *media_type)
{
	return media_type && (strcmp(media_type, MEDIA_TYPE_INDEX) == 0 ||
			      strcmp(media_type, MEDIA_TYPE_DOCKER_LIST) == 0);
}

static int write_blob(struct repack_ctx *ctx, const char *layout,
		      const char *hex, const char *data, size_t len)
{
	char *path = xasprintf("%s/blobs/sha256/%s", layout, hex);
	int rc = write_file_atomic(ctx, path, data, len);

	free(path);
	return rc;
}

/* Download the manifest reference names into the layout; *doc receives
 * it parsed. */
static int fetch_manifest(struct repack_ctx *ctx, struct image_source *src,
			  const char *reference, json_t **doc,
			  char **media_type, char hex[SHA256_HEX_LEN + 1],
			  size_t *size)
{
	char *data = NULL;
	size_t len = 0;
	int rc = registry_get_manifest(src->remote, reference, &data, &len,
				       media_type, hex);

	if (rc == 0)
		rc = write_blob(ctx, src->dir, hex, data, len);
	if (rc == 0) {
		*doc = json_loadb(data, len, 0, NULL);
		if (!*doc)
			rc = repack_fail(ctx, REPACK_EFORMAT,
					 "the manifest %s of %s is not valid JSON",
					 reference, src->name);
	}
	*size = len;
	free(data);
	return rc;
}

/* Download the manifests an index lists. */
static int fetch_children(struct repack_ctx *ctx, struct image_source *src,
			  json_t *index)
{
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));
		char hex[SHA256_HEX_LEN + 1];
		char *media_type = NULL;
		json_t *doc = NULL;
		size_t size;
		int rc;

		if (!image_digest_valid(digest))
			return repack_fail(ctx, REPACK_EFORMAT,
					   "the index of %s lists an invalid digest", src->name);
		rc = fetch_manifest(ctx, src, digest, &doc, &media_type, hex, &size);
		json_decref(doc);
		free(media_type);
		if (rc)
			return rc;
	}
	return 0;
}

/* An index.json entry for the blob sha256:hex named tag (NULL: none). */
static json_t *tag_entry(const struct image_source *src, const char *media_type,
			 const char *hex, size_t size, const char *tag)
{
	json_t *desc = json_pack("{s:s, s:s+, s:I}", "mediaType", media_type,
				 "digest", "sha256:", hex, "size", (json_int_t)size);

	if (desc && tag) {
		char *ref = image_normalised_reference(src->name, tag);

		json_object_set_new(desc, "annotations",
				    json_pack("{s:s, s:s}", ANNOTATION_REF_NAME, tag,
					      ANNOTATION_CONTAINERD_NAME, ref));
		free(ref);
	}
	return desc;
}

static int write_index(struct repack_ctx *ctx, const char *layout, json_t *index)
{
	char *path = xasprintf("%s/index.json", layout);
	size_t len;
	char *text = image_json_dump(index, &len);
	int rc = write_file_atomic(ctx, path, text, len);

	free(text);
	free(path);
	return rc;
}

/* Make the temporary layout: oci-layout, the manifests, index.json.
 * *top_hex and *top_type receive the reference's digest and media type. */
static int materialise(struct repack_ctx *ctx, struct image_source *src,
		       const struct registry_ref *ref, json_t **index,
		       char top_hex[SHA256_HEX_LEN + 1], char **top_type)
{
	const char *layout_text = "{\"imageLayoutVersion\":\"1.0.0\"}";
	char *blobdir, *path, *content_type = NULL;
	const char *body_type;
	json_t *top = NULL;
	size_t size = 0;
	int rc = make_temp_dir(ctx, "repack-image", &src->tmpdir);

	if (rc)
		return rc;
	src->dir = xstrdup(src->tmpdir);
	blobdir = xasprintf("%s/blobs/sha256", src->dir);
	path = xasprintf("%s/oci-layout", src->dir);
	rc = mkdir_p(ctx, blobdir);
	if (rc == 0)
		rc = write_file_atomic(ctx, path, layout_text, strlen(layout_text));
	if (rc == 0)
		rc = fetch_manifest(ctx, src, ref->digest ? ref->digest : ref->tag,
				    &top, &content_type, top_hex, &size);
	if (rc)
		goto out;

	/* The document's own mediaType wins over the Content-Type header. */
	body_type = json_string_value(json_object_get(top, "mediaType"));
	*top_type = xstrdup(body_type ? body_type : content_type);
	if (is_index_media_type(*top_type))
		rc = fetch_children(ctx, src, top);
	if (rc == 0) {
		*index = json_pack("{s:i, s:s, s:[o]}", "schemaVersion", 2,
				   "mediaType", MEDIA_TYPE_INDEX, "manifests",
				   tag_entry(src, *top_type, top_hex, size, ref->tag));
		rc = write_index(ctx, src->dir, *index);
	}
out:
	json_decref(top);
	free(content_type);
	free(path);
	free(blobdir);
	return rc;
}

/* Add the sha256 of every package the config's packages label lists. */
static void collect_inputs(const char *layout, const char *config_digest,
			   struct strlist *digests)
{
	char *path = image_digest_valid(config_digest) ?
		xasprintf("%s/blobs/sha256/%s", layout, config_digest + strlen("sha256:")) : NULL;
	json_t *config = path ? json_load_file(path, 0, NULL) : NULL;
	const char *label = json_string_value(json_object_get(json_object_get(
		json_object_get(config, "config"), "Labels"), LABEL_PACKAGES));
	json_t *packages = label ? json_loads(label, 0, NULL) : NULL;
	size_t i;
	json_t *p;

	json_array_foreach(packages, i, p) {
		const char *sha = json_string_value(json_object_get(p, "sha256"));

		if (sha && strlen(sha) == SHA256_HEX_LEN)
			strlist_push(digests, sha);
	}
	json_decref(packages);
	json_decref(config);
	free(path);
}

/* The config digests of the image: of each manifest of an index, or of
 * the one manifest. Configs of other architectures are downloaded. */
static void collect_configs(struct repack_ctx *ctx, const struct image_source *src,
			    struct strlist *configs)
{
	char *path;
	json_t *index;
	size_t i;
	json_t *d;

	if (!src->index_digest[0]) {
		strlist_push(configs, json_string_value(json_object_get(
			json_object_get(src->manifest, "config"), "digest")));
		return;
	}
	path = xasprintf("%s/blobs/sha256/%s", src->dir, src->index_digest);
	index = json_load_file(path, 0, NULL);
	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));
		char *manifest_path = image_digest_valid(digest) ?
			xasprintf("%s/blobs/sha256/%s", src->dir, digest + strlen("sha256:")) : NULL;
		json_t *manifest = manifest_path ? json_load_file(manifest_path, 0, NULL) : NULL;
		json_t *config = json_object_get(manifest, "config");
		const char *config_digest = json_string_value(json_object_get(config, "digest"));

		if (image_digest_valid(config_digest) &&
		    image_source_fetch_blob(ctx, src, config_digest + strlen("sha256:"),
					    json_integer_value(json_object_get(config, "size"))) == 0)
			strlist_push(configs, config_digest);
		json_decref(manifest);
		free(manifest_path);
	}
	json_decref(index);
	free(path);
}

/* TAG-HASH for the image's input packages, as image_inputs_hash() makes
 * it; caller frees. NULL when the configs list no packages. */
static char *hash_tag(struct repack_ctx *ctx, const struct image_source *src,
		      const char *version)
{
	struct strlist configs = STRLIST_INIT, digests = STRLIST_INIT;
	struct image_input *inputs;
	struct image_meta meta = { 0 };
	const struct image_meta *metas[1] = { &meta };
	char hash[IMAGE_INPUTS_HASH_LEN + 1];
	char *tag = NULL;

	collect_configs(ctx, src, &configs);
	for (size_t i = 0; i < configs.count; i++)
		collect_inputs(src->dir, configs.items[i], &digests);
	inputs = xcalloc(digests.count + 1, sizeof(*inputs));
	for (size_t i = 0; i < digests.count; i++)
		memcpy(inputs[i].sha256, digests.items[i], SHA256_HEX_LEN + 1);
	meta.inputs = inputs;
	meta.input_count = digests.count;
	if (digests.count) {
		image_inputs_hash(metas, 1, hash);
		tag = xasprintf("%s-%s", version, hash);
	}
	free(inputs);
	strlist_release(&digests);
	strlist_release(&configs);
	return tag;
}

/* The tags repack gives this image: TAG, TAG-ARCH for each architecture
 * and TAG-HASH, where TAG is the version label. */
static void candidate_tags(struct repack_ctx *ctx, const struct image_source *src,
			   struct strlist *tags)
{
	const char *version = image_source_label(src, LABEL_VERSION);
	const char *arch = json_string_value(json_object_get(src->config, "architecture"));
	char *tag;

	if (!version || !image_tag_valid(version))
		return;
	strlist_push(tags, version);
	for (size_t i = 0; i < src->arches.count; i++)
		strlist_push_owned(tags, xasprintf("%s-%s", version, src->arches.items[i]));
	if (!src->arches.count && arch)
		strlist_push_owned(tags, xasprintf("%s-%s", version, arch));
	tag = hash_tag(ctx, src, version);
	if (tag)
		strlist_push_owned(tags, tag);
}

/* The descriptor of the blob sha256:hex among the index's manifests. */
static json_t *child_descriptor(const struct image_source *src, const char *hex)
{
	char *path = xasprintf("%s/blobs/sha256/%s", src->dir, src->index_digest);
	json_t *index = src->index_digest[0] ? json_load_file(path, 0, NULL) : NULL;
	json_t *found = NULL;
	size_t i;
	json_t *d;

	json_array_foreach(json_object_get(index, "manifests"), i, d) {
		const char *digest = json_string_value(json_object_get(d, "digest"));

		if (digest && strcmp(digest + strcspn(digest, ":") + 1, hex) == 0)
			found = json_incref(d);
	}
	json_decref(index);
	free(path);
	return found;
}

/* Add to the layout's index.json the candidate tags that the registry
 * has pointing at this image or one of its manifests. Failures only
 * shorten the list. */
static void discover_tags(struct repack_ctx *ctx, struct image_source *src,
			  const char *top_hex, const char *top_type,
			  json_t *index)
{
	json_t *list = json_object_get(index, "manifests");
	json_int_t top_size = json_integer_value(json_object_get(json_array_get(list, 0), "size"));
	struct strlist tags = STRLIST_INIT;

	candidate_tags(ctx, src, &tags);
	for (size_t i = 0; i < tags.count; i++) {
		char digest[SHA256_HEX_LEN + 1];
		json_t *child;

		if ((src->tag && strcmp(tags.items[i], src->tag) == 0) ||
		    registry_head_manifest(src->remote, tags.items[i], digest) < 0 ||
		    !digest[0])
			continue;
		if (strcmp(digest, top_hex) == 0) {
			json_array_append_new(list, tag_entry(src, top_type, top_hex,
							      (size_t)top_size, tags.items[i]));
			continue;
		}
		child = child_descriptor(src, digest);
		if (child)
			json_array_append_new(list, tag_entry(src,
				json_string_value(json_object_get(child, "mediaType")) ?
				json_string_value(json_object_get(child, "mediaType")) :
				MEDIA_TYPE_MANIFEST, digest,
				(size_t)json_integer_value(json_object_get(child, "size")),
				tags.items[i]));
		json_decref(child);
	}
	if (write_index(ctx, src->dir, index) < 0)
		repack_log(ctx, REPACK_LOG_DEBUG, "cannot list the tags: %s", ctx->error);
	strlist_release(&tags);
}

/* The familiar name of the repository: docker.io's prefix dropped. */
static char *familiar_name(const struct registry_ref *ref)
{
	if (strcmp(ref->host, "docker.io") != 0)
		return xasprintf("%s/%s", ref->host, ref->repo);
	if (str_starts_with(ref->repo, "library/"))
		return xstrdup(ref->repo + strlen("library/"));
	return xstrdup(ref->repo);
}

int image_open_remote(struct repack_ctx *ctx, const char *spec,
		      const struct image_open_options *opts,
		      struct image_source *src)
{
	struct registry_options ropts = { .insecure = opts->insecure_registry };
	struct registry_ref ref;
	char top_hex[SHA256_HEX_LEN + 1];
	char *top_type = NULL;
	json_t *index = NULL;
	int rc = registry_ref_parse(ctx, spec, &ref);

	src->kind = OUTPUT_OCI;
	if (rc == 0 && !ref.tag && !ref.digest)
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "invalid image '%s': name a tag or a digest, as in "
				 "docker://HOST/REPO:TAG", spec);
	if (rc)
		goto out;
	src->name = familiar_name(&ref);
	src->tag = ref.tag ? xstrdup(ref.tag) : NULL;
	rc = registry_open(ctx, &ref, &ropts, false, &src->remote);
	if (rc == 0)
		rc = materialise(ctx, src, &ref, &index, top_hex, &top_type);
	if (rc == 0)
		rc = image_open_layout(ctx, src, ref.digest, opts->arch,
				       opts->any && !opts->arch);
	if (rc == 0)
		discover_tags(ctx, src, top_hex, top_type, index);
out:
	json_decref(index);
	free(top_type);
	registry_ref_release(&ref);
	return rc;
}
