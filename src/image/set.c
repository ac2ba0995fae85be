/* Image sets: the images of one build (one per architecture), the image
 * index that joins several of them, and the tags that name each. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define INDEX_NAME "oci-index.json"

bool image_compression_parse(const char *name, enum image_compression *out)
{
	if (name && strcmp(name, "gzip") == 0) {
		*out = IMAGE_COMPRESSION_GZIP;
		return true;
	}
	if (name && strcmp(name, "zstd") == 0) {
		*out = IMAGE_COMPRESSION_ZSTD;
		return true;
	}
	return false;
}

void image_set_init(struct image_set *set)
{
	memset(set, 0, sizeof(*set));
}

void image_set_release(struct image_set *set)
{
	for (size_t i = 0; i < set->tag_count; i++)
		free(set->tags[i].name);
	free(set->tags);
	free(set->items);
	free(set->index.path);
	memset(set, 0, sizeof(*set));
}

void image_set_add(struct image_set *set, const struct image *image,
		   const struct image_meta *meta,
		   const struct layout_files *files)
{
	set->items = xrealloc(set->items, (set->count + 1) * sizeof(*set->items));
	set->items[set->count].image = image;
	set->items[set->count].meta = meta;
	set->items[set->count].files = files;
	set->count++;
}

void image_set_add_tag(struct image_set *set, const char *name, int target)
{
	for (size_t i = 0; i < set->tag_count; i++)
		if (strcmp(set->tags[i].name, name) == 0)
			return;
	set->tags = xrealloc(set->tags, (set->tag_count + 1) * sizeof(*set->tags));
	set->tags[set->tag_count].name = xstrdup(name);
	set->tags[set->tag_count].target = target;
	set->tag_count++;
}

const struct image_blob *image_set_top(const struct image_set *set)
{
	if (set->count == 1)
		return &set->items[0].image->manifest;
	return &set->index;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void image_inputs_hash(const struct image_meta *const *metas, size_t count,
		       char hex[IMAGE_INPUTS_HASH_LEN + 1])
{
	struct strbuf text = STRBUF_INIT;
	char full[SHA256_HEX_LEN + 1];
	const char **digests;
	size_t total = 0, n = 0;

	for (size_t i = 0; i < count; i++)
		total += metas[i]->input_count;
	digests = xcalloc(total ? total : 1, sizeof(*digests));
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < metas[i]->input_count; j++)
			digests[n++] = metas[i]->inputs[j].sha256;
	qsort(digests, n, sizeof(*digests), compare_strings);

	/* A package shared by several architectures (Debian's _all.deb
	 * header packages) counts once. */
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(digests[i], digests[i - 1]) == 0)
			continue;
		strbuf_addstr(&text, digests[i]);
		strbuf_addstr(&text, "\n");
	}
	sha256_buffer(text.buf ? text.buf : "", text.len, full);
	memcpy(hex, full, IMAGE_INPUTS_HASH_LEN);
	hex[IMAGE_INPUTS_HASH_LEN] = '\0';
	strbuf_release(&text);
	free(digests);
}

json_t *image_manifest_descriptor(const struct image *image, const char *arch)
{
	return json_pack("{s:s, s:s+, s:I, s:{s:s, s:s}}",
			 "mediaType", MEDIA_TYPE_MANIFEST,
			 "digest", "sha256:", image->manifest.digest,
			 "size", (json_int_t)image->manifest.size,
			 "platform", "architecture", arch, "os", "linux");
}

static int compare_items(const void *a, const void *b)
{
	const struct image_set_item *x = a, *y = b;

	return strcmp(x->meta->arch, y->meta->arch);
}

/* Write the image index of the set's manifests, sorted by architecture so
 * the same images give the same index digest in any build order. */
static int write_index(struct repack_ctx *ctx, struct image_set *set,
		       const char *workdir)
{
	struct image_set_item *sorted = xcalloc(set->count, sizeof(*sorted));
	json_t *index = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2,
				  "mediaType", MEDIA_TYPE_INDEX, "manifests");
	json_t *manifests = json_object_get(index, "manifests");
	char *path = xasprintf("%s/%s", workdir, INDEX_NAME);
	char *text;
	size_t len;
	int rc;

	memcpy(sorted, set->items, set->count * sizeof(*sorted));
	qsort(sorted, set->count, sizeof(*sorted), compare_items);
	for (size_t i = 0; i < set->count; i++)
		json_array_append_new(manifests,
				      image_manifest_descriptor(sorted[i].image,
								sorted[i].meta->arch));
	text = image_json_dump(index, &len);
	rc = write_file_atomic(ctx, path, text, len);
	if (rc == 0) {
		sha256_buffer(text, len, set->index.digest);
		set->index.diff_id[0] = '\0';
		set->index.size = len;
		set->index.media_type = MEDIA_TYPE_INDEX;
		set->index.path = path;
		path = NULL;
	}
	free(text);
	free(path);
	json_decref(index);
	free(sorted);
	return rc;
}

/* Every item must carry the same tag and a different architecture. */
static int check_items(struct repack_ctx *ctx, const struct image_set *set)
{
	if (set->count == 0)
		return repack_fail(ctx, REPACK_EFAIL, "the image set is empty");
	for (size_t i = 0; i < set->count; i++) {
		const struct image_meta *a = set->items[i].meta;

		if (!a->tag || !a->arch)
			return repack_fail(ctx, REPACK_EFAIL,
					   "an image of the set has no tag or architecture");
		for (size_t j = 0; j < i; j++) {
			const struct image_meta *b = set->items[j].meta;

			if (strcmp(a->tag, b->tag) != 0)
				return repack_fail(ctx, REPACK_EFAIL,
						   "the %s image is tagged %s but the %s image %s; "
						   "a multi-architecture image needs one version "
						   "for every architecture", a->arch, a->tag,
						   b->arch, b->tag);
			if (strcmp(a->arch, b->arch) == 0)
				return repack_fail(ctx, REPACK_EFAIL,
						   "architecture %s appears twice in one build",
						   a->arch);
		}
	}
	return 0;
}

int image_set_finish(struct repack_ctx *ctx, struct image_set *set,
		     const char *workdir)
{
	const struct image_meta **metas;
	char hash[IMAGE_INPUTS_HASH_LEN + 1];
	const char *tag;
	int top = set->count == 1 ? 0 : IMAGE_TAG_INDEX;
	char *name;
	int rc = check_items(ctx, set);

	if (rc)
		return rc;
	if (set->count > 1) {
		rc = write_index(ctx, set, workdir);
		if (rc)
			return rc;
	}

	metas = xcalloc(set->count, sizeof(*metas));
	for (size_t i = 0; i < set->count; i++)
		metas[i] = set->items[i].meta;
	image_inputs_hash(metas, set->count, hash);
	free(metas);

	tag = set->items[0].meta->tag;
	image_set_add_tag(set, tag, top);
	for (size_t i = 0; i < set->count; i++) {
		name = xasprintf("%s-%s", tag, set->items[i].meta->arch);
		image_set_add_tag(set, name, (int)i);
		free(name);
	}
	name = xasprintf("%s-%s", tag, hash);
	image_set_add_tag(set, name, top);
	free(name);
	return 0;
}
