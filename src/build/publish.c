/* The end of a build: the image set goes to the local output (-o) and
 * to the registry (--push). */
#include <stdlib.h>
#include <string.h>

#include "build.h"

static size_t arch_count(const struct build_request *request)
{
	return request->arch_count ? request->arch_count : 1;
}

/* Parse --push: a repository without tag or digest, since the tags come
 * from the kernel version. */
static int parse_push(struct repack_ctx *ctx, const char *push,
		      struct registry_ref *ref)
{
	int rc = registry_ref_parse(ctx, push, ref);

	if (rc)
		return repack_wrap(ctx, rc, "invalid --push '%s'", push);
	if (ref->tag || ref->digest)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid --push '%s': name a repository without a "
				   "tag or digest, because repack tags the image by "
				   "kernel version", push);
	return 0;
}

int build_check_targets(struct repack_ctx *ctx, const struct build_request *request)
{
	struct registry_ref ref;
	int rc = 0;

	if (request->output)
		rc = output_check(ctx, request->output, arch_count(request),
				  request->compression);
	if (rc == 0 && request->push) {
		rc = parse_push(ctx, request->push, &ref);
		registry_ref_release(&ref);
	}
	return rc;
}

static void log_push(struct repack_ctx *ctx, const char *target,
		     const struct registry_push_stats *stats)
{
	if (stats->blobs_uploaded == 0 && stats->blobs_mounted == 0 &&
	    stats->tags_updated == 0) {
		repack_log(ctx, REPACK_LOG_INFO,
			   "%s: nothing changed, the registry already had every "
			   "blob and tag", target);
		return;
	}
	repack_log(ctx, REPACK_LOG_INFO,
		   "%s: uploaded %zu blob(s) (%llu bytes), mounted %zu, skipped %zu "
		   "already present; set %zu tag(s), %zu unchanged", target,
		   stats->blobs_uploaded, (unsigned long long)stats->bytes_uploaded,
		   stats->blobs_mounted, stats->blobs_present, stats->tags_updated,
		   stats->tags_unchanged);
}

static int push_set(struct repack_ctx *ctx, const struct build_request *request,
		    const struct image_set *set, struct build_result *result)
{
	struct registry_options opts = { .insecure = request->insecure_registry };
	struct registry *reg = NULL;
	struct registry_ref ref;
	char *target;
	int rc = parse_push(ctx, request->push, &ref);

	if (rc)
		goto out;
	target = xasprintf("%s/%s", ref.host, ref.repo);
	rc = registry_open(ctx, &ref, &opts, true, &reg);
	if (rc == 0)
		rc = registry_push(reg, set, &result->push_stats);
	if (rc == 0) {
		log_push(ctx, target, &result->push_stats);
		result->pushed = xasprintf("%s:%s", target, set->tags[0].name);
	} else {
		/* A 404 during a push is a failed push, not a missing kernel. */
		if (rc == REPACK_ENOTFOUND)
			rc = REPACK_EFAIL;
		repack_wrap(ctx, rc, "cannot push to %s", target);
	}
	free(target);
out:
	registry_close(reg);
	registry_ref_release(&ref);
	return rc;
}

int build_publish(struct repack_ctx *ctx, const struct build_request *request,
		  const struct image_set *set, struct build_result *result)
{
	const struct image_meta *meta = set->items[0].meta;
	int rc = 0;

	if (request->output) {
		rc = image_set_write(ctx, request->output, set);
		if (rc == 0)
			result->reference = xasprintf("%s:%s", meta->name, meta->tag);
	}
	if (rc == 0 && request->push)
		rc = push_set(ctx, request, set, result);
	return rc;
}
