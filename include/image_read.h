/* Reading images back from the outputs repack writes: an OCI layout
 * (oci:DIR:TAG, oci:DIR@sha256:HEX, or oci:DIR holding one image) and a
 * dir: output. Every blob read from a layout is checked against its
 * digest. */
#ifndef REPACK_IMAGE_READ_H
#define REPACK_IMAGE_READ_H

#include <jansson.h>

#include "image.h"

/* An image opened for reading. */
struct image_source {
	enum output_kind kind;
	char *dir;        /* the layout or the dir: output directory */
	char *tag;        /* the tag it was opened by, or NULL */
	/* Digest of the image manifest; empty for a dir: output. */
	char manifest_digest[SHA256_HEX_LEN + 1];
	json_t *manifest; /* the manifest; NULL for a dir: output */
	/* The image config; NULL for a dir: output without image-config.json. */
	json_t *config;
	/* The single layer: its blob digest and size, and the diff_id the
	 * config records for it. Empty for a dir: output. */
	char layer_digest[SHA256_HEX_LEN + 1];
	char layer_diff_id[SHA256_HEX_LEN + 1];
	uint64_t layer_size;
	char *layer_media_type;
};

/* A file of the image, as listed or extracted. */
struct image_file {
	char *name;
	uint64_t size;
};

struct image_file_list {
	struct image_file *items;
	size_t count;
};

/* Open the image spec names. arch picks the manifest when the reference
 * is a multi-architecture index ("amd64", "arm64"); with NULL an index
 * must hold exactly one manifest. Fails with REPACK_EUSAGE on a malformed
 * spec, REPACK_ENOTFOUND when the tag or digest is not in the layout,
 * REPACK_EVERIFY when a blob does not match its digest and
 * REPACK_EFORMAT on malformed JSON. Release src with
 * image_source_release() in every case. */
int image_open(struct repack_ctx *ctx, const char *spec, const char *arch,
	       struct image_source *src);
void image_source_release(struct image_source *src);

/* Return the config label key, or NULL; the string belongs to src. */
const char *image_source_label(const struct image_source *src,
			       const char *key);

/* Stream the image's files into dest (created if missing), or only list
 * them when dest is NULL. Only regular files at the root of the layer
 * are accepted; anything else fails with REPACK_EUNPACK. The layer's
 * digest and diff_id are checked before any file appears in dest, so a
 * corrupt layer leaves dest as it was. files, when not NULL, receives the
 * files in layer order; release it with image_file_list_release(). */
int image_extract(struct repack_ctx *ctx, const struct image_source *src,
		  const char *dest, struct image_file_list *files);
void image_file_list_release(struct image_file_list *files);

#endif
