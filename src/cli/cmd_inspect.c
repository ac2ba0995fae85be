/* repack inspect IMAGE: name, tags, digests, architecture, labels and the
 * files of the layer, as text or JSON. A multi-architecture image shows
 * each architecture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "image_read.h"

#define LABEL_PREFIX "org.linuxkit.repack."

static const char inspect_usage[] =
	"usage: repack inspect IMAGE [options]\n"
	"\n"
	"IMAGE is oci:DIR[:TAG], oci:DIR@sha256:HEX, oci-archive:FILE[:TAG],\n"
	"docker-archive:FILE, docker://REGISTRY/REPO:TAG (or @sha256:HEX) or dir:DIR.\n"
	"\n"
	"options:\n"
	"  --arch A               show only this architecture of a multi-architecture image\n"
	"  --insecure-registry    allow plain HTTP to a docker:// registry\n"
	"  --json                 print the result as JSON\n"
	"  -q, --quiet            print only warnings and errors\n"
	"  -v, --verbose          print debugging messages\n";

/* The label key under repack's prefix, or NULL. */
static const char *repack_label(const struct image_source *src, const char *key)
{
	char *full = xasprintf(LABEL_PREFIX "%s", key);
	const char *value = image_source_label(src, full);

	free(full);
	return value;
}

static json_t *string_array(const struct strlist *list)
{
	json_t *array = json_array();

	for (size_t i = 0; i < list->count; i++)
		json_array_append_new(array, json_string(list->items[i]));
	return array;
}

static json_t *digest_string(const char *hex)
{
	char *text = xasprintf("sha256:%s", hex);
	json_t *value = json_string(text);

	free(text);
	return value;
}

/* Set key to value when value is not NULL or empty. */
static void set_optional(json_t *obj, const char *key, const char *value)
{
	if (value && *value)
		json_object_set_new(obj, key, json_string(value));
}

static json_t *files_json(const struct image_file_list *files)
{
	json_t *array = json_array();

	for (size_t i = 0; i < files->count; i++)
		json_array_append_new(array, json_pack("{s:s, s:I}", "name", files->items[i].name,
						       "size", (json_int_t)files->items[i].size));
	return array;
}

/* The packages label contains a JSON array of {name, sha256}. */
static json_t *packages_json(const struct image_source *src)
{
	const char *text = repack_label(src, "packages");
	json_t *packages = text ? json_loads(text, 0, NULL) : NULL;

	if (json_is_array(packages))
		return packages;
	json_decref(packages);
	return json_array();
}

/* Everything about the image src has open, with its files listed. */
static int image_json(struct repack_ctx *ctx, const struct image_source *src,
		      json_t **out)
{
	struct image_file_list files = { NULL, 0 };
	struct strlist tags = STRLIST_INIT;
	json_t *image = json_object(), *labels;
	int rc = image_extract(ctx, src, NULL, &files);

	if (rc) {
		json_decref(image);
		return rc;
	}
	set_optional(image, "arch", json_string_value(json_object_get(src->config, "architecture")));
	if (src->manifest_digest[0]) {
		json_object_set_new(image, "digest", digest_string(src->manifest_digest));
		image_source_tags(src, src->manifest_digest, &tags);
		json_object_set_new(image, "tags", string_array(&tags));
		json_object_set_new(image, "layer", json_pack("{s:o, s:o, s:I, s:s}",
			"digest", digest_string(src->layer_digest),
			"diff_id", digest_string(src->layer_diff_id),
			"size", (json_int_t)src->layer_size,
			"media_type", src->layer_media_type));
	}
	set_optional(image, "created", json_string_value(json_object_get(src->config, "created")));
	set_optional(image, "distro", repack_label(src, "distro"));
	set_optional(image, "release", repack_label(src, "release"));
	set_optional(image, "flavour", repack_label(src, "flavour"));
	set_optional(image, "version", repack_label(src, "version"));
	set_optional(image, "kernel_release", repack_label(src, "kernel-release"));
	set_optional(image, "source", image_source_label(src, "org.opencontainers.image.source"));
	json_object_set_new(image, "packages", packages_json(src));
	labels = json_object_get(json_object_get(src->config, "config"), "Labels");
	json_object_set_new(image, "labels", labels ? json_incref(labels) : json_object());
	json_object_set_new(image, "files", files_json(&files));
	strlist_release(&tags);
	image_file_list_release(&files);
	*out = image;
	return 0;
}

/* The whole report: the reference, its name, tags and digest, and one
 * entry per architecture. */
static int inspect_json(struct repack_ctx *ctx, const char *spec,
			struct image_source *src, const char *arch, json_t **out)
{
	struct strlist tags = STRLIST_INIT;
	const char *top = src->index_digest[0] ? src->index_digest : src->manifest_digest;
	json_t *root = json_pack("{s:s, s:[]}", "reference", spec, "images");
	json_t *image = NULL;
	int rc = image_json(ctx, src, &image);

	for (size_t i = 1; rc == 0 && !arch && i < src->arches.count; i++) {
		json_array_append_new(json_object_get(root, "images"), image);
		image = NULL;
		rc = image_source_select(ctx, src, src->arches.items[i]);
		if (rc == 0)
			rc = image_json(ctx, src, &image);
	}
	if (image)
		json_array_append_new(json_object_get(root, "images"), image);
	if (rc) {
		json_decref(root);
		return rc;
	}
	set_optional(root, "name", src->name);
	if (top[0]) {
		json_object_set_new(root, "digest", digest_string(top));
		json_object_set_new(root, "media_type", json_string(src->index_digest[0] ?
			"application/vnd.oci.image.index.v1+json" :
			"application/vnd.oci.image.manifest.v1+json"));
		image_source_tags(src, top, &tags);
	}
	json_object_set_new(root, "tags", string_array(&tags));
	strlist_release(&tags);
	*out = root;
	return 0;
}

static const char *text_of(json_t *obj, const char *key)
{
	const char *value = json_string_value(json_object_get(obj, key));

	return value ? value : "-";
}

static void print_tags(const char *label, json_t *tags)
{
	size_t i;
	json_t *tag;

	printf("%-16s", label);
	json_array_foreach(tags, i, tag)
		printf("%s%s", i ? ", " : "", json_string_value(tag));
	printf("%s\n", json_array_size(tags) ? "" : "-");
}

static void print_image(json_t *image, bool several)
{
	json_t *layer = json_object_get(image, "layer");
	static const char *const fields[][2] = {
		{ "distro", "distro:" }, { "release", "release:" },
		{ "flavour", "flavour:" }, { "version", "version:" },
		{ "kernel_release", "kernel release:" }, { "created", "created:" },
		{ "source", "source:" },
	};
	size_t i;
	json_t *item;

	printf("\n%-16s%s\n", "arch:", text_of(image, "arch"));
	if (json_object_get(image, "digest"))
		printf("%-16s%s\n", "digest:", text_of(image, "digest"));
	if (several)
		print_tags("tags:", json_object_get(image, "tags"));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		printf("%-16s%s\n", fields[i][1], text_of(image, fields[i][0]));
	if (layer)
		printf("%-16s%s, %lld bytes, %s\n", "layer:", text_of(layer, "digest"),
		       (long long)json_integer_value(json_object_get(layer, "size")),
		       text_of(layer, "media_type"));
	printf("packages:\n");
	json_array_foreach(json_object_get(image, "packages"), i, item)
		printf("  %s  sha256:%s\n", text_of(item, "name"), text_of(item, "sha256"));
	printf("files:\n");
	json_array_foreach(json_object_get(image, "files"), i, item)
		printf("  %-16s %12lld\n", text_of(item, "name"),
		       (long long)json_integer_value(json_object_get(item, "size")));
}

static void print_text(json_t *root)
{
	json_t *images = json_object_get(root, "images");
	bool index = strstr(text_of(root, "media_type"), "index") != NULL;
	size_t i;
	json_t *image;

	printf("%-16s%s\n", "image:", text_of(root, "reference"));
	printf("%-16s%s\n", "name:", text_of(root, "name"));
	print_tags("tags:", json_object_get(root, "tags"));
	printf("%-16s%s%s\n", "digest:", text_of(root, "digest"),
	       index ? " (image index)" : "");
	json_array_foreach(images, i, image)
		print_image(image, index);
}

int cmd_inspect(int argc, char **argv)
{
	struct cli_options opts;
	struct image_open_options open_opts = { .any = true };
	struct image_source src;
	struct repack_ctx ctx;
	json_t *root = NULL;
	int rc = cli_parse_options(argc, argv, inspect_usage, &opts);

	if (rc) {
		cli_options_release(&opts);
		return rc == 1 ? 0 : 2;
	}
	if (opts.args.count != 1 || opts.arches.count > 1) {
		cli_error("inspect takes one image and at most one --arch, e.g. "
			  "'repack inspect oci:images:6.1.192-3'");
		cli_options_release(&opts);
		return 2;
	}
	cli_setup_context(&ctx, &opts);
	open_opts.arch = opts.backend.arch;
	open_opts.insecure_registry = opts.insecure_registry;
	rc = image_open_with(&ctx, opts.args.items[0], &open_opts, &src);
	if (rc == 0)
		rc = inspect_json(&ctx, opts.args.items[0], &src, opts.backend.arch, &root);
	if (rc == 0 && opts.json) {
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);

		puts(text);
		free(text);
	} else if (rc == 0) {
		print_text(root);
	}
	rc = cli_report(&ctx, rc);
	json_decref(root);
	image_source_release(&src);
	repack_ctx_release(&ctx);
	cli_options_release(&opts);
	return rc;
}
