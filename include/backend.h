/* The interface every distribution backend implements. */
#ifndef REPACK_BACKEND_H
#define REPACK_BACKEND_H

#include "repack.h"
#include "layout.h"

/* Options a backend reads; every pointer may be NULL for the default. */
struct backend_options {
	const char *release;
	const char *flavour;
	const char *arch;     /* normalised: amd64 or arm64 */
	const char *mirror;
	const char *security_mirror;
	const char *keyring;
	bool require_signatures;
	bool no_headers;
	bool no_extra_modules;
	bool koji;
};

/* One package of a kernel: where it is and what it must hash to. */
struct package_ref {
	char *name;      /* package name */
	char *version;   /* package version */
	char *filename;  /* file name of the package */
	char *url;       /* full download URL */
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
	enum layout_role role;
};

/* One kernel offered by a repository, as `repack list` shows it. */
struct kernel_entry {
	char *version;        /* full package version, e.g. 6.1.192-3 */
	char *tag;            /* image tag, flavour suffix included */
	char *kernel_release; /* uname -r, e.g. 6.1.0-57-cloud-amd64 */
	char *release;        /* suite or release it was found in */
	char *flavour;
	char *arch;
};

struct kernel_list {
	struct kernel_entry *items;
	size_t count;
	size_t alloc;
};

/* The result of resolve: one kernel and every package that makes it. */
struct kernel_build {
	struct kernel_entry kernel;
	char *source;          /* repository URL for the image label */
	struct package_ref *packages;
	size_t package_count;
};

struct backend {
	const char *name;       /* command-line name, e.g. "debian" */
	const char *image_name; /* default repository, linuxkit/kernel-debian */
	/* Fill list with every kernel the repositories offer, newest first. */
	int (*list)(struct repack_ctx *ctx, const struct backend_options *opts,
		    struct kernel_list *list);
	/* Find the packages of the kernel matching version ("latest", an
	 * upstream prefix or a full version). REPACK_ENOTFOUND when none. */
	int (*resolve)(struct repack_ctx *ctx, const struct backend_options *opts,
		       const char *version, struct kernel_build *build);
};

/* Return the backend registered under name, or NULL. */
const struct backend *backend_find(const char *name);
/* NULL-terminated table of all backends. */
extern const struct backend *const backends[];

void kernel_entry_release(struct kernel_entry *entry);
void kernel_list_push(struct kernel_list *list, struct kernel_entry *entry);
void kernel_list_release(struct kernel_list *list);
/* Append to out, comma-separated, the up to four versions of the
 * newest-first list nearest to wanted in the order compare defines. */
void kernel_list_nearest(const struct kernel_list *list, const char *wanted,
			 int (*compare)(const char *, const char *), struct strbuf *out);
struct package_ref *kernel_build_add(struct kernel_build *build);
void kernel_build_release(struct kernel_build *build);

/* True when version equals prefix or continues it at a '.', '-', '+' or
 * '~' boundary: "6.1" matches "6.1.140-1" but not "6.10.2-1". */
bool version_matches_prefix(const char *version, const char *prefix);

/* Return the data directory ($REPACK_DATA_DIR or the built-in one). */
const char *repack_data_dir(void);

#endif
