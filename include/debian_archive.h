/* Reading Debian-style archives (Debian, Ubuntu): Release, Packages and
 * the packages that make a kernel. */
#ifndef REPACK_DEBIAN_ARCHIVE_H
#define REPACK_DEBIAN_ARCHIVE_H

#include "backend.h"
#include "repack.h"

struct table;

/* One binary package stanza kept from a Packages index. */
struct debian_pkg {
	char *name;
	char *version;
	char *filename;
	char *depends;  /* NULL when absent */
	char *base;     /* mirror base URL the filename is relative to */
	char *suite;
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
};

struct debian_index {
	struct debian_pkg *items;
	size_t count;
	size_t alloc;
};

void debian_index_release(struct debian_index *index);

/* One suite of an archive to read. */
struct archive_source {
	const char *base;      /* http://host/debian */
	const char *suite;     /* bookworm-updates */
	const char *component; /* NULL for main */
	const char *arch;
	const char *keyring;   /* NULL when none is available */
	const char *distro;    /* for messages */
	bool require_signatures;
};

/* Fetch and verify the suite's InRelease (or Release and Release.gpg),
 * fetch the best compressed Packages index it lists into the cache, and
 * add its linux-image-*, linux-headers-*, linux-kbuild-*, linux-modules-*,
 * linux-hwe-* and linux-*-headers-* stanzas to index. REPACK_EMISSING when the suite does
 * not exist on the mirror. */
int archive_load_suite(struct repack_ctx *ctx, const struct archive_source *source,
		       struct debian_index *index);

/* Append CODENAME, CODENAME-updates, CODENAME-security to suites. */
void debian_suites_for(const char *codename, struct strlist *suites);

/* Choose the main and security mirrors: --mirror, else the Debian entries
 * of the host's apt sources ($REPACK_APT_DIR, default /etc/apt), else the
 * defaults in conf. Both results are owned by the caller. */
void debian_find_mirrors(struct repack_ctx *ctx, const struct backend_options *opts,
			 const struct table *conf, char **mirror, char **security);

/* Return the newest package called name whose version satisfies
 * "op wanted" (op NULL for any version), or NULL. */
const struct debian_pkg *debian_index_find(const struct debian_index *index,
					   const char *name, const char *op,
					   const char *wanted);

/* Add pkg to build with role, then follow its Depends to every package
 * whose name starts with one of prefixes (NULL-terminated), recursively. */
int archive_add_with_depends(struct repack_ctx *ctx, const struct debian_index *index,
			     const struct debian_pkg *pkg, const char *const *prefixes,
			     enum layout_role role, struct kernel_build *build);

/* Add the image package and, unless no_headers, the headers of the kernel
 * in build->kernel (Debian naming). */
int debian_add_packages(struct repack_ctx *ctx, const struct debian_index *index,
			const char *kernel_flavour, bool no_headers,
			struct kernel_build *build);

/* Fail with REPACK_ENOTFOUND naming the versions nearest to wanted. */
int debian_not_found(struct repack_ctx *ctx, const struct strlist *suites,
		     const char *kernel_flavour, const char *wanted,
		     const struct kernel_list *list);

#endif
