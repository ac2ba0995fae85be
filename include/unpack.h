/* One streaming reader for .deb and .rpm packages. */
#ifndef REPACK_UNPACK_H
#define REPACK_UNPACK_H

#include <sys/types.h>
#include <time.h>

#include "repack.h"

struct archive;

enum unpack_type {
	UNPACK_FILE,
	UNPACK_DIR,
	UNPACK_SYMLINK,
	UNPACK_HARDLINK,
};

/* One entry of a package's payload, valid during the callback only. */
struct unpack_entry {
	const char *path;     /* relative, normalised: no "./", no "/" first */
	enum unpack_type type;
	mode_t mode;          /* permission bits */
	const char *link;     /* symlink target as stored, or the normalised
			       * hard link target; NULL for files and dirs */
	int64_t size;
	time_t mtime;
	struct archive *archive; /* read the file data with archive_read_data */
};

/* Called for every entry; return 0 to go on, a negative code to stop. The
 * callback need not read the data. */
typedef int (*unpack_entry_fn)(void *user, const struct unpack_entry *entry);

/* Entries larger than this are rejected as hostile (4 GiB). */
#define UNPACK_MAX_ENTRY_SIZE (4ULL << 30)

/* Stream every entry of the payload of a .deb or .rpm file to fn. The
 * package type is detected from its magic bytes; label names the package
 * in messages. Unsafe entries (absolute paths, "..", symlinks that climb
 * out of the root, device nodes, FIFOs, sockets, oversized entries) stop
 * the walk with REPACK_EUNPACK. */
int unpack_package(struct repack_ctx *ctx, const char *path,
		   const char *label, unpack_entry_fn fn, void *user);

/* Normalise an archive path into out: strip "./" and a leading "/" is an
 * error. Returns 0, or REPACK_EUNPACK with a message naming label. */
int unpack_normalise_path(struct repack_ctx *ctx, const char *label,
			  const char *path, struct strbuf *out);
/* Check that a symlink at path with this target stays inside the root.
 * Absolute targets are taken relative to the package root. */
bool unpack_symlink_is_safe(const char *path, const char *target);

/* Read a package's build time without unpacking it: the modification
 * time of a .deb's data member or an .rpm's BUILDTIME tag. */
int unpack_build_time(struct repack_ctx *ctx, const char *path,
		      const char *label, time_t *build_time);

#endif
