/* The build pipeline: resolve, fetch, unpack, lay out, write the image. */
#ifndef REPACK_BUILD_H
#define REPACK_BUILD_H

#include "backend.h"
#include "image.h"
#include "registry.h"

struct build_request {
	const struct backend *backend;
	struct backend_options opts;
	const char *version;      /* latest, 6.1, 6.1.140-1, ... */
	const struct output *output; /* NULL to write nothing locally */
	const char *repo_name;    /* NULL for the backend's image name */
	/* Architectures to build into one image index; with none, the one
	 * in opts.arch (the backend's default when that is NULL). */
	const char *const *arches;
	size_t arch_count;
	enum image_compression compression;
	const char *push;         /* REGISTRY/REPO to push to, or NULL */
	bool insecure_registry;   /* plain HTTP to the --push registry */
};

struct build_result {
	struct kernel_build kernel; /* of the first architecture */
	char *reference;          /* name:tag of the local output; owned */
	/* Digest of what the plain tag names: the manifest, or the image
	 * index when several architectures were built. */
	char manifest_digest[SHA256_HEX_LEN + 1];
	struct strlist tags;
	struct strlist arches;    /* the architectures built */
	char *pushed;             /* REGISTRY/REPO:TAG pushed to, or NULL */
	struct registry_push_stats push_stats;
};

/* Build one image, or one per architecture joined by an index. Writes it
 * to request->output and pushes it to request->push. On failure nothing
 * is left in the output. */
int repack_build(struct repack_ctx *ctx, const struct build_request *request,
		 struct build_result *result);
void build_result_release(struct build_result *result);

/* Write the finished set to request->output and push it to
 * request->push, filling the reference, pushed and push_stats fields of
 * result (publish.c). */
int build_publish(struct repack_ctx *ctx, const struct build_request *request,
		  const struct image_set *set, struct build_result *result);
/* Check before any download that the output and the push target can
 * take what request builds. */
int build_check_targets(struct repack_ctx *ctx, const struct build_request *request);

/* Read SOURCE_DATE_EPOCH into *epoch and set *set when it is set. A value
 * that is not a whole number of seconds up to the year 9999 is
 * REPACK_EUSAGE. */
int repack_source_date_epoch(struct repack_ctx *ctx, bool *set, time_t *epoch);

#endif
