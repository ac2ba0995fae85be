/* The Ubuntu mainline kernel builds: version directory names, their
 * ordering, and the packages of one build. */
#ifndef REPACK_MAINLINE_H
#define REPACK_MAINLINE_H

#include "repack.h"

/* A version directory: v6.1/, v6.1.5/, v6.2-rc3/, or a legacy name such
 * as v4.4.10-xenial/, v4.2-rc1-unstable/, v4.4-rc2+cod1/, v2.6.27.61/. */
struct mainline_version {
	unsigned int numbers[4]; /* major, minor, patch, sublevel; missing = 0 */
	size_t count;            /* how many numbers the name gives: 2 to 4 */
	unsigned int rc;         /* 0 for a release */
	char *text;              /* the name without 'v' and '/': "6.2-rc3" */
	const char *extra;       /* into text: "xenial", "cod1"; NULL when none */
};

/* Parse a directory name, with or without the leading 'v' and trailing
 * '/'. Returns -1, leaving v empty, when name is no version ("daily/",
 * "HEADER.html"). v->text is owned: release it with
 * mainline_version_release. */
int mainline_version_parse(const char *name, struct mainline_version *v);
void mainline_version_release(struct mainline_version *v);

/* Order versions: major, minor, patch, sublevel, then a release after all
 * of its rcs, then a plain name after a legacy one with the same numbers
 * ("4.2-rc1" after "4.2-rc1-unstable"). <0, 0 or >0 like strcmp. */
int mainline_version_compare(const struct mainline_version *a,
			     const struct mainline_version *b);

/* True for a plain release: no rc and no legacy suffix. */
bool mainline_version_is_release(const struct mainline_version *v);

/* Return the ABI field of the package names: "061305" for 6.13.5,
 * "0419285" for 4.19.285, "060200rc3" for 6.2-rc3. The caller frees it. */
char *mainline_abi(const struct mainline_version *v);

/* Return "<x.y.z>-<abi>-<flavour>", the kernel release (uname -r) of the
 * packages: "6.1.0-060100-generic" for v6.1. The caller frees it. */
char *mainline_kernel_release(const struct mainline_version *v, const char *flavour);

/* Parse a package version "6.1.5-060105" or "6.1.5-060105.202301121031"
 * into the upstream version it was built from; *timestamp receives the
 * build timestamp when the version has one, else NULL (caller frees).
 * Returns -1 when text is no mainline package version. */
int mainline_version_from_package(const char *text, struct mainline_version *v,
				  char **timestamp);

/* Find the version a request names in versions (sorted newest first) and
 * return its index, or -1.
 * - "latest" is the newest release.
 * - An exact name ("6.1", "6.2-rc3", "v6.1.5", "6.1.0") is that directory.
 * - A package version ("6.1.5-060105.202301121031") is its upstream
 *   version. Its build timestamp goes to *timestamp (caller frees).
 * - "6.1.x" and any other prefix ("6.1" when no v6.1 exists) are the
 *   newest release that continues it, or the newest rc when the request
 *   contains "-rc". */
long mainline_version_find(const struct mainline_version *versions, size_t count,
			   const char *request, char **timestamp);

/* The packages of one build of one flavour for one architecture, chosen
 * from a directory listing. Names point into the listing. */
struct mainline_set {
	char *version;          /* package version of the image (owned) */
	char *kernel_release;   /* "6.1.5-060105-generic" (owned) */
	const char *image;      /* linux-image-unsigned-* or linux-image-* */
	const char *modules;    /* linux-modules-*; NULL before 4.17 */
	const char *extra;      /* linux-image-extra-*; NULL when absent */
	const char *headers;    /* linux-headers-*-<flavour>; NULL when absent */
	const char *headers_all;/* linux-headers-*_all; NULL when absent */
};

/* Choose from the .deb names in entries the newest complete build of
 * flavour for arch. A build is the set of packages sharing one timestamp.
 * It is complete when it has an image, linux-modules where the image is
 * the linux-image-unsigned kind, and both headers packages unless
 * no_headers. When no build is complete, the newest build with image and
 * modules is chosen without headers. Returns false when no build of the
 * flavour has an image with its modules. Release set with
 * mainline_set_release. */
bool mainline_choose_set(const struct strlist *entries, const char *flavour,
			 const char *arch, bool no_headers, struct mainline_set *set);
void mainline_set_release(struct mainline_set *set);

#endif
