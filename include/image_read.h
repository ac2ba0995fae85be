/* Reading images back: from an OCI layout (oci:DIR:TAG, oci:DIR@sha256:HEX,
 * or oci:DIR holding one image), an OCI archive (oci-archive:FILE, with
 * the same :TAG and @sha256:HEX forms), a docker save archive
 * (docker-archive:FILE), a registry (docker://HOST/REPO:TAG or
 * docker://HOST/REPO@sha256:HEX) and a dir: output. Archives and
 * registry images are read through a temporary OCI layout. Every blob
 * read is checked against its digest. */
#ifndef REPACK_IMAGE_READ_H
#define REPACK_IMAGE_READ_H

#include <jansson.h>

#include "image.h"

struct registry;

/* An image opened for reading. */
struct image_source {
	/* OUTPUT_OCI for every form read through an OCI layout, OUTPUT_DIR
	 * for a dir: output. */
	enum output_kind kind;
	char *dir;        /* the layout or the dir: output directory */
	char *tag;        /* the tag it was opened by, or NULL */
	/* Temporary layout holding an archive's or a registry's image;
	 * removed by image_source_release(). NULL otherwise. */
	char *tmpdir;
	/* Image name from the layout's io.containerd.image.name annotation,
	 * the archive's RepoTags or the registry reference; NULL if none. */
	char *name;
	/* Digest of the image index the reference named, and its
	 * architectures; "" and empty when it named a manifest. */
	char index_digest[SHA256_HEX_LEN + 1];
	struct strlist arches;
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
	json_t *top;              /* the descriptor the reference named */
	struct registry *remote;  /* docker:// only: fetches blobs on demand */
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
/* Like image_open() with no architecture, except that a multi-architecture
 * index opens its first architecture in sorted order; src->arches lists
 * them all, for image_source_select(). */
int image_open_any(struct repack_ctx *ctx, const char *spec,
		   struct image_source *src);

struct image_open_options {
	const char *arch;       /* as for image_open() */
	bool any;               /* as for image_open_any() */
	bool insecure_registry; /* plain HTTP to a docker:// registry */
};
/* image_open() and image_open_any() with every option. */
int image_open_with(struct repack_ctx *ctx, const char *spec,
		    const struct image_open_options *opts,
		    struct image_source *src);
/* Switch src to the manifest for arch of the index it was opened from.
 * REPACK_ENOTFOUND when the index has no such architecture. */
int image_source_select(struct repack_ctx *ctx, struct image_source *src,
			const char *arch);
void image_source_release(struct image_source *src);

/* Add to tags every tag of src's layout that names the blob sha256:hex;
 * a registry image lists the tags repack writes that name it. */
void image_source_tags(const struct image_source *src, const char *hex,
		       struct strlist *tags);

/* Return the config label key, or NULL; the string belongs to src. */
const char *image_source_label(const struct image_source *src,
			       const char *key);

/* A file of the image, as listed or extracted. */
struct image_file {
	char *name;
	uint64_t size;
};

struct image_file_list {
	struct image_file *items;
	size_t count;
};

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
