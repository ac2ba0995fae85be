/* OCI image writing: layer, config, manifest, layouts and outputs. */
#ifndef REPACK_IMAGE_H
#define REPACK_IMAGE_H

#include <time.h>

#include "repack.h"
#include "layout.h"

/* An input package recorded in the image labels. */
struct image_input {
	char *name;     /* file name, e.g. linux-image-..._amd64.deb */
	char sha256[SHA256_HEX_LEN + 1];
};

/* Everything the config labels and the tags are made from. */
struct image_meta {
	const char *distro;         /* debian */
	const char *release;        /* bookworm */
	const char *flavour;        /* cloud */
	const char *arch;           /* OCI architecture: amd64, arm64 */
	const char *kernel_release; /* uname -r */
	const char *version;        /* package version, e.g. 6.1.192-3 */
	const char *tag;            /* sanitised tag without the arch suffix */
	const char *name;           /* repository name, linuxkit/kernel-debian */
	const char *source;         /* repository URL */
	time_t created;
	const struct image_input *inputs;
	size_t input_count;
};

/* A content-addressed blob written to disk. */
struct image_blob {
	char digest[SHA256_HEX_LEN + 1];  /* of the stored bytes */
	char diff_id[SHA256_HEX_LEN + 1]; /* of the uncompressed layer */
	uint64_t size;
	char *path;                       /* owned */
	const char *media_type;
};

/* The built image: layer, config and manifest blobs. */
struct image {
	struct image_blob layer;
	struct image_blob config;
	struct image_blob manifest;
};

/* Build the layer (tar of the five files, gzip) and the config and
 * manifest JSON in workdir. */
int image_build(struct repack_ctx *ctx, const struct layout_files *files,
		const struct image_meta *meta, const char *workdir,
		struct image *image);
void image_release(struct image *image);

/* Where an image goes, parsed from -o. */
enum output_kind {
	OUTPUT_OCI,  /* oci:DIR, one layout holding every tag */
	OUTPUT_DIR,  /* dir:DIR, the five files as plain files */
};

struct output {
	enum output_kind kind;
	char *path; /* owned */
};

int output_parse(struct repack_ctx *ctx, const char *spec,
		 struct output *out);
void output_release(struct output *out);

/* Write the built image to the output under every tag in tags. */
int image_write(struct repack_ctx *ctx, const struct output *out,
		const struct image *image, const struct image_meta *meta,
		const struct layout_files *files, const struct strlist *tags);

/* Replace characters a tag cannot hold ('+', '~', ':' and anything outside
 * [A-Za-z0-9_.-]) with '_' and drop an epoch ("1:"); caller frees. A
 * leading '.' or '-' also becomes '_'. A result over 128 characters keeps
 * its first 115 and ends in '_' and 12 hex digits of the version's
 * sha256, so long versions stay distinct. An empty version (or an epoch
 * alone) gives "", which image_tag_valid() rejects. */
char *image_tag_sanitise(const char *version);
/* True when tag matches the OCI distribution rule for tags:
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
bool image_tag_valid(const char *tag);

#endif
