/* Building an image: the layer, then the config JSON with the labels that
 * record where the kernel came from, then the manifest. Every JSON
 * document is serialised compactly with sorted keys, so the same inputs
 * give the same bytes and digests on every run. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define CONFIG_NAME "oci-config.json"
#define MANIFEST_NAME "oci-manifest.json"
/* ustar stores the mtime in 11 octal digits. */
#define MTIME_LIMIT ((time_t)1 << 33)

#define LABEL_PREFIX "org.linuxkit.repack."

static void format_rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Set key to the string value; a NULL or empty value adds nothing.
 * Fails when value is not valid UTF-8, which JSON cannot carry. */
static int set_string(struct repack_ctx *ctx, json_t *obj, const char *key,
		      const char *value)
{
	json_t *str;

	if (!value || !*value)
		return 0;
	str = json_string(value);
	if (!str)
		return repack_fail(ctx, REPACK_EFAIL,
				   "the value of %s is not valid UTF-8: '%s'",
				   key, value);
	json_object_set_new(obj, key, str);
	return 0;
}

static int compare_inputs(const void *a, const void *b)
{
	const struct image_input *x = *(const struct image_input *const *)a;
	const struct image_input *y = *(const struct image_input *const *)b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->sha256, y->sha256);
}

/* The packages label contains one JSON-encoded string, an array of
 * {"name": FILE, "sha256": HEX} sorted by file name, so a single label
 * lists every input and `jq '.Labels[...] | fromjson'` reads it back. */
static int packages_label(struct repack_ctx *ctx, const struct image_meta *meta,
			  json_t *labels)
{
	const struct image_input **sorted;
	json_t *list = json_array();
	char *text;
	int rc = 0;

	sorted = xcalloc(meta->input_count, sizeof(*sorted));
	for (size_t i = 0; i < meta->input_count; i++)
		sorted[i] = &meta->inputs[i];
	qsort(sorted, meta->input_count, sizeof(*sorted), compare_inputs);

	for (size_t i = 0; rc == 0 && i < meta->input_count; i++) {
		json_t *item = json_object();

		rc = set_string(ctx, item, "name", sorted[i]->name);
		if (rc == 0)
			rc = set_string(ctx, item, "sha256", sorted[i]->sha256);
		json_array_append_new(list, item);
	}
	if (rc == 0) {
		text = image_json_dump(list, NULL);
		json_object_set_new(labels, LABEL_PREFIX "packages",
				    json_string(text));
		free(text);
	}
	json_decref(list);
	free(sorted);
	return rc;
}

static int make_labels(struct repack_ctx *ctx, const struct image_meta *meta,
		       const char *created, json_t **out)
{
	const struct { const char *key, *value; } fields[] = {
		{ "org.opencontainers.image.version", meta->tag },
		{ "org.opencontainers.image.source", meta->source },
		{ "org.opencontainers.image.created", created },
		{ LABEL_PREFIX "distro", meta->distro },
		{ LABEL_PREFIX "release", meta->release },
		{ LABEL_PREFIX "flavour", meta->flavour },
		{ LABEL_PREFIX "kernel-release", meta->kernel_release },
		{ LABEL_PREFIX "version", meta->version },
	};
	json_t *labels = json_object();
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(fields) / sizeof(fields[0]); i++)
		rc = set_string(ctx, labels, fields[i].key, fields[i].value);
	if (rc == 0)
		rc = packages_label(ctx, meta, labels);
	if (rc) {
		json_decref(labels);
		return rc;
	}
	*out = labels;
	return 0;
}

/* The image config. It has no Entrypoint or Cmd: the image is data for
 * LinuxKit, like an image built FROM scratch with no command. */
static int make_config(struct repack_ctx *ctx, const struct image_meta *meta,
		       const char *diff_id, json_t **out)
{
	char created[32];
	json_t *labels, *config;
	int rc;

	format_rfc3339(meta->created, created);
	rc = make_labels(ctx, meta, created, &labels);

	if (rc)
		return rc;

	config = json_pack("{s:s, s:s, s:s, s:{s:o}, s:{s:s, s:[s+]}, s:[{s:s, s:s}]}",
			   "architecture", meta->arch,
			   "os", "linux",
			   "created", created,
			   "config", "Labels", labels,
			   "rootfs", "type", "layers", "diff_ids", "sha256:", diff_id,
			   "history", "created", created, "created_by", "repack");
	if (!config)
		return repack_fail(ctx, REPACK_EFAIL,
				   "cannot build the image config for architecture '%s'",
				   meta->arch);
	*out = config;
	return 0;
}

static json_t *descriptor_json(const struct image_blob *blob)
{
	return json_pack("{s:s, s:s+, s:I}",
			 "mediaType", blob->media_type,
			 "digest", "sha256:", blob->digest,
			 "size", (json_int_t)blob->size);
}

json_t *image_manifest_json(const struct image_blob *config,
			    const struct image_blob *layer)
{
	return json_pack("{s:i, s:s, s:o, s:[o]}",
			 "schemaVersion", 2,
			 "mediaType", MEDIA_TYPE_MANIFEST,
			 "config", descriptor_json(config),
			 "layers", descriptor_json(layer));
}

/* Serialise json into workdir/name and describe it in blob. */
static int write_json_blob(struct repack_ctx *ctx, const json_t *json,
			   const char *workdir, const char *name,
			   const char *media_type, struct image_blob *blob)
{
	size_t len;
	char *text = image_json_dump(json, &len);
	char *path = xasprintf("%s/%s", workdir, name);
	int rc = write_file_atomic(ctx, path, text, len);

	if (rc == 0) {
		sha256_buffer(text, len, blob->digest);
		blob->diff_id[0] = '\0';
		blob->size = len;
		blob->media_type = media_type;
		blob->path = path;
		path = NULL;
	}
	free(path);
	free(text);
	return rc;
}

static int check_meta(struct repack_ctx *ctx, const struct image_meta *meta)
{
	if (!meta->arch || !*meta->arch)
		return repack_fail(ctx, REPACK_EFAIL,
				   "cannot build an image without an architecture");
	if (meta->created < 0 || meta->created >= MTIME_LIMIT)
		return repack_fail(ctx, REPACK_EFAIL,
				   "image creation time %lld is outside the range a "
				   "tar header can store (0 to %lld); check SOURCE_DATE_EPOCH",
				   (long long)meta->created, (long long)MTIME_LIMIT - 1);
	return 0;
}

int image_build(struct repack_ctx *ctx, const struct layout_files *files,
		const struct image_meta *meta, const char *workdir,
		struct image *image)
{
	json_t *config = NULL, *manifest = NULL;
	int rc;

	memset(image, 0, sizeof(*image));
	rc = check_meta(ctx, meta);
	if (rc)
		goto out;
	rc = image_build_layer(ctx, files, meta->created, meta->compression,
			       workdir, &image->layer);
	if (rc)
		goto out;
	repack_log(ctx, REPACK_LOG_DEBUG, "layer sha256:%s, %llu bytes, diff_id sha256:%s",
		   image->layer.digest, (unsigned long long)image->layer.size,
		   image->layer.diff_id);

	rc = make_config(ctx, meta, image->layer.diff_id, &config);
	if (rc == 0)
		rc = write_json_blob(ctx, config, workdir, CONFIG_NAME,
				     MEDIA_TYPE_CONFIG, &image->config);
	if (rc)
		goto out;

	manifest = image_manifest_json(&image->config, &image->layer);
	if (!manifest) {
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot build the image manifest");
		goto out;
	}
	rc = write_json_blob(ctx, manifest, workdir, MANIFEST_NAME,
			     MEDIA_TYPE_MANIFEST, &image->manifest);
out:
	json_decref(manifest);
	json_decref(config);
	if (rc)
		image_release(image);
	return rc;
}

void image_release(struct image *image)
{
	free(image->layer.path);
	free(image->config.path);
	free(image->manifest.path);
	memset(image, 0, sizeof(*image));
}
