/* Helpers and names shared by the files of src/image/. Not a public
 * interface: only the files in src/image include it. */
#ifndef REPACK_IMAGE_INTERNAL_H
#define REPACK_IMAGE_INTERNAL_H

#include <jansson.h>

#include "image.h"

#define MEDIA_TYPE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MEDIA_TYPE_INDEX "application/vnd.oci.image.index.v1+json"
#define MEDIA_TYPE_CONFIG "application/vnd.oci.image.config.v1+json"
#define MEDIA_TYPE_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define MEDIA_TYPE_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"
#define MEDIA_TYPE_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"
#define MEDIA_TYPE_DOCKER_MANIFEST \
	"application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_TYPE_DOCKER_LIST \
	"application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_TYPE_DOCKER_LAYER \
	"application/vnd.docker.image.rootfs.diff.tar.gzip"

#define ANNOTATION_REF_NAME "org.opencontainers.image.ref.name"
#define ANNOTATION_CONTAINERD_NAME "io.containerd.image.name"

/* Name of the config JSON in a dir: output. */
#define DIR_CONFIG_NAME "image-config.json"

/* The files of the contract, in the order they appear in the layer. */
struct image_file_slot {
	const char *name;   /* name in the layer and in a dir: output */
	const char *source; /* path of the file to store, NULL when absent */
	bool required;
};
#define IMAGE_FILE_SLOTS 5
/* Fill slots with the files in sorted name order. */
void image_file_slots(const struct layout_files *files,
		      struct image_file_slot slots[IMAGE_FILE_SLOTS]);
/* True when name is one of the five file names of the contract. */
bool image_file_name_known(const char *name);

/* Serialise compactly with sorted keys, so equal documents give equal
 * bytes; the caller frees the result. */
char *image_json_dump(const json_t *json, size_t *len);

/* Copy src to a new file dst (created with O_EXCL), fsync it, and check
 * the copy's sha256 against expect_hex unless expect_hex is NULL. On
 * failure dst is removed. */
int image_copy_file(struct repack_ctx *ctx, const char *src, const char *dst,
		    const char *expect_hex);

/* Write all len bytes to fd, retrying after EINTR and short writes.
 * Returns -1 with errno set on failure. */
int image_write_all(int fd, const void *buf, size_t len);

/* fsync a directory so renames inside it survive a crash. */
int image_sync_dir(struct repack_ctx *ctx, const char *dir);


/* Image reference in the normalised form containerd stores
 * (docker.io/library/NAME:TAG for a single-component name); caller frees. */
char *image_normalised_reference(const char *name, const char *tag);

/* Write the layer of the five files to workdir and fill blob with its
 * path (owned by blob), digest, diff_id and size. */
int image_build_layer(struct repack_ctx *ctx, const struct layout_files *files,
		      time_t mtime, enum image_compression compression,
		      const char *workdir, struct image_blob *blob);

/* The image manifest of one config and one layer. Serialised with
 * image_json_dump(), the same blobs always give the same manifest bytes,
 * so a manifest rebuilt from an archive keeps its digest. */
json_t *image_manifest_json(const struct image_blob *config,
			    const struct image_blob *layer);

/* The descriptor of image's manifest with its platform (linux/arch). */
json_t *image_manifest_descriptor(const struct image *image, const char *arch);

/* Replace the entries of the OCI index.json document index that carry
 * one of set's tags with entries for set's tags. */
int oci_index_add_tags(struct repack_ctx *ctx, const struct image_set *set,
		       json_t *index);

/* Write the set into the OCI layout at dir; tags are already checked. */
int oci_layout_write(struct repack_ctx *ctx, const char *dir,
		     const struct image_set *set);

/* Write the set as an OCI layout in one tar at path. */
int oci_archive_write(struct repack_ctx *ctx, const char *path,
		      const struct image_set *set);
/* Write the set's only image in the docker save format at path. */
int docker_archive_write(struct repack_ctx *ctx, const char *path,
			 const struct image_set *set);

/* Reading (read.c, read_archive.c, read_remote.c). */
struct image_source;

/* Split the path and the :TAG or @sha256:HEX that follow prefix in spec
 * into src->dir, src->tag and *digest (caller frees). */
int image_parse_layout_spec(struct repack_ctx *ctx, const char *spec,
			    const char *prefix, struct image_source *src,
			    char **digest);
/* Open the image of the layout src->dir by src->tag, digest or as the
 * only image; arch and any as for image_open() and image_open_any(). */
int image_open_layout(struct repack_ctx *ctx, struct image_source *src,
		      const char *digest, const char *arch, bool any);
/* Download blob sha256:hex into src's layout when src is a registry
 * image and the blob is not there yet; size < 0 when unknown. */
int image_source_fetch_blob(struct repack_ctx *ctx,
			    const struct image_source *src, const char *hex,
			    json_int_t size);
int image_open_oci_archive(struct repack_ctx *ctx, const char *spec,
			   const char *arch, bool any, struct image_source *src);
int image_open_docker_archive(struct repack_ctx *ctx, const char *spec,
			      const char *arch, bool any,
			      struct image_source *src);
struct image_open_options;
int image_open_remote(struct repack_ctx *ctx, const char *spec,
		      const struct image_open_options *opts,
		      struct image_source *src);

#endif
