/* The build pipeline: resolve, fetch, unpack, lay out, write the image. */
#ifndef REPACK_BUILD_H
#define REPACK_BUILD_H

#include "backend.h"
#include "image.h"

struct build_request {
	const struct backend *backend;
	struct backend_options opts;
	const char *version;      /* latest, 6.1, 6.1.140-1, ... */
	const struct output *output;
	const char *repo_name;    /* NULL for the backend's image name */
};

struct build_result {
	struct kernel_build kernel;
	char *reference;          /* name:tag; owned */
	char manifest_digest[SHA256_HEX_LEN + 1];
	struct strlist tags;
};

/* Build one image. On failure nothing is left in the output. */
int repack_build(struct repack_ctx *ctx, const struct build_request *request,
		 struct build_result *result);
void build_result_release(struct build_result *result);

#endif
