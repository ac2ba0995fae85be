/* .rpm reader. */
#include "repack.h"
#include "unpack_internal.h"

int unpack_rpm(struct repack_ctx *ctx, const char *path, const char *label,
	       unpack_entry_fn fn, void *user)
{
	(void)path;
	(void)fn;
	(void)user;
	return repack_fail(ctx, REPACK_EUNPACK, "%s: .rpm packages are not supported yet", label);
}

int rpm_build_time(struct repack_ctx *ctx, const char *path,
		   const char *label, time_t *build_time)
{
	(void)path;
	(void)build_time;
	return repack_fail(ctx, REPACK_EUNPACK, "%s: .rpm packages are not supported yet", label);
}
