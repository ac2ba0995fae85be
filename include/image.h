/* OCI image writing: layer, config, manifest, layouts and outputs. */
#ifndef REPACK_IMAGE_H
#define REPACK_IMAGE_H

#include <time.h>

#include "repack.h"
#include "layout.h"

/* The compression of the layer blob. */
enum image_compression {
	IMAGE_COMPRESSION_GZIP = 0, /* application/vnd.oci.image.layer.v1.tar+gzip */
	IMAGE_COMPRESSION_ZSTD,     /* application/vnd.oci.image.layer.v1.tar+zstd */
};

/* Parse "gzip" or "zstd"; returns false for any other name. */
bool image_compression_parse(const char *name, enum image_compression *out);

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
	enum image_compression compression; /* of the layer; gzip when zero */
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

/* Build the layer (tar of the five files, compressed with
 * meta->compression) and the config and manifest JSON in workdir. */
int image_build(struct repack_ctx *ctx, const struct layout_files *files,
		const struct image_meta *meta, const char *workdir,
		struct image *image);
void image_release(struct image *image);

/* The destination of an image, parsed from -o. */
enum output_kind {
	OUTPUT_OCI,            /* oci:DIR, one layout holding every tag */
	OUTPUT_DIR,            /* dir:DIR, the five files as plain files */
	OUTPUT_OCI_ARCHIVE,    /* oci-archive:FILE, an OCI layout in one tar */
	OUTPUT_DOCKER_ARCHIVE, /* docker-archive:FILE, the docker save format */
};

struct output {
	enum output_kind kind;
	char *path; /* owned */
};

int output_parse(struct repack_ctx *ctx, const char *spec,
		 struct output *out);
void output_release(struct output *out);

/* Check, before any work starts, that out can take a build of arch_count
 * architectures with this compression: an archive's directory must exist,
 * and dir: and docker-archive: hold one architecture. REPACK_EUSAGE for
 * a combination no output of that kind can hold, REPACK_EFAIL for a
 * missing directory. */
int output_check(struct repack_ctx *ctx, const struct output *out,
		 size_t arch_count, enum image_compression compression);

/* Write the built image to the output under every tag in tags. */
int image_write(struct repack_ctx *ctx, const struct output *out,
		const struct image *image, const struct image_meta *meta,
		const struct layout_files *files, const struct strlist *tags);

/* The target of a tag that names the index of an image set. */
#define IMAGE_TAG_INDEX (-1)

/* A tag and what it names: an image of the set, or its index. */
struct image_tag {
	char *name;
	int target; /* position in the set's items, or IMAGE_TAG_INDEX */
};

/* One architecture's image in a set; the pointers are not owned. */
struct image_set_item {
	const struct image *image;
	const struct image_meta *meta;
	const struct layout_files *files;
};

/* The images of one build, one per architecture, with the tags that name
 * them. With several images, image_set_finish() writes an image index
 * and the plain tag names the index. */
struct image_set {
	struct image_set_item *items;
	size_t count;
	struct image_blob index;  /* the index when count > 1; path owned */
	struct image_tag *tags;
	size_t tag_count;
};

void image_set_init(struct image_set *set);
void image_set_release(struct image_set *set);
void image_set_add(struct image_set *set, const struct image *image,
		   const struct image_meta *meta,
		   const struct layout_files *files);
/* Add a tag; a name already in the set is not added twice. */
void image_set_add_tag(struct image_set *set, const char *name, int target);
/* Write the index into workdir when the set has several images and add
 * the standard tags: TAG and TAG-HASH for the index or the only image,
 * TAG-ARCH for each image, where TAG is the items' common meta->tag and
 * HASH comes from image_inputs_hash(). Fails when the items disagree on
 * the tag or repeat an architecture. */
int image_set_finish(struct repack_ctx *ctx, struct image_set *set,
		     const char *workdir);
/* The blob the plain tag names: the index, or the only image's manifest. */
const struct image_blob *image_set_top(const struct image_set *set);
/* Write every image, the index and every tag of set to out. */
int image_set_write(struct repack_ctx *ctx, const struct output *out,
		    const struct image_set *set);

/* Write into hex the first 12 hex digits of a sha256 over the distinct
 * sha256s of every input package of metas, sorted, each followed by a
 * newline. The same packages give the same hash in any order. */
#define IMAGE_INPUTS_HASH_LEN 12
void image_inputs_hash(const struct image_meta *const *metas, size_t count,
		       char hex[IMAGE_INPUTS_HASH_LEN + 1]);

/* True for "sha256:" followed by 64 lowercase hex digits. */
bool image_digest_valid(const char *digest);

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
