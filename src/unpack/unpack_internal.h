/* Interfaces between the package readers inside src/unpack/. */
#ifndef REPACK_UNPACK_INTERNAL_H
#define REPACK_UNPACK_INTERNAL_H

#include "unpack.h"

enum package_format {
	PACKAGE_DEB,
	PACKAGE_RPM,
};

/* Walk every entry of an opened libarchive reader through fn, applying
 * the path safety rules. An archive without entries is an error. */
int unpack_walk_archive(struct repack_ctx *ctx, const char *label,
			struct archive *a, unpack_entry_fn fn, void *user);

int unpack_deb(struct repack_ctx *ctx, const char *path, const char *label,
	       unpack_entry_fn fn, void *user);
int unpack_rpm(struct repack_ctx *ctx, const char *path, const char *label,
	       unpack_entry_fn fn, void *user);
int deb_build_time(struct repack_ctx *ctx, const char *path,
		   const char *label, time_t *build_time);
int rpm_build_time(struct repack_ctx *ctx, const char *path,
		   const char *label, time_t *build_time);

#endif
