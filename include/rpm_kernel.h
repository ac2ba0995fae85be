/* Kernels in RPM repositories, shared by the Fedora and CentOS backends:
 * the package names of a flavour, the kernels an index offers, the
 * packages that make one, and Koji's package tree for builds that no
 * repository carries any more. */
#ifndef REPACK_RPM_KERNEL_H
#define REPACK_RPM_KERNEL_H

#include "backend.h"
#include "repomd.h"

struct table;

/* Package names of one kernel flavour: "kernel-core" for the default
 * flavour, "kernel-debug-core" for the debug one, and so on. */
struct rpm_kernel_names {
	char *meta;          /* "kernel": the whole kernel before the
			      * kernel-core split, an empty package after it */
	char *core;          /* vmlinuz, config, System.map, core modules */
	char *modules;
	char *modules_core;  /* split out of kernel-core in later releases */
	char *modules_extra;
	char *devel;         /* usr/src/kernels/<kver>/ */
	const char *list[7]; /* the six names, NULL-terminated */
};

/* Fill names for flavour (NULL or "default" for the plain kernel). */
void rpm_kernel_names_init(struct rpm_kernel_names *names, const char *flavour);
void rpm_kernel_names_release(struct rpm_kernel_names *names);

/* Labels for the kernel entries of a list. */
struct rpm_kernel_style {
	const char *arch;      /* image arch: amd64 or arm64 */
	const char *rpm_arch;  /* rpm arch: x86_64 or aarch64 */
	const char *flavour;   /* "default" or the flavour name */
};

/* Return the rpm architecture for an image architecture (amd64 gives
 * x86_64, arm64 gives aarch64), or NULL for an unknown one. */
const char *rpm_arch_for(const char *arch);

/* Append the kernels in index to list, one entry per version, and sort the
 * list newest first by rpm ordering. */
void rpm_kernel_collect(const struct rpm_index *index, const struct rpm_kernel_names *names,
			const struct rpm_kernel_style *style, struct kernel_list *list);

/* Sort list newest first by rpm ordering. */
void rpm_kernel_sort(struct kernel_list *list);

/* Return the position of the first entry of a newest-first list that
 * matches request ("latest", a full version, an upstream version, ...),
 * or list->count when none does. */
size_t rpm_kernel_find(const struct kernel_list *list, const char *request);

/* Add the packages of the kernel build->kernel names to build: kernel-core
 * (or kernel where there is no kernel-core) as the image,
 * kernel-modules, kernel-modules-core and, unless no_extra_modules,
 * kernel-modules-extra where they exist, and kernel-devel as headers
 * unless no_headers. Sets build->source to the image package's
 * repository. */
int rpm_kernel_add_packages(struct repack_ctx *ctx, const char *distro,
			    const struct rpm_index *index,
			    const struct rpm_kernel_names *names,
			    const struct backend_options *opts, struct kernel_build *build);

/* Find the newest kernel of index that matches request, fill build with
 * it and its packages and set *found. When none matches, move the kernels
 * of index to seen for the not-found message. */
int rpm_kernel_pick(struct repack_ctx *ctx, const char *distro, const struct rpm_index *index,
		    const struct rpm_kernel_names *names, const struct rpm_kernel_style *style,
		    const struct backend_options *opts, const char *request,
		    struct kernel_build *build, bool *found, struct kernel_list *seen);

/* Fail with REPACK_ENOTFOUND, naming what was searched and the versions
 * of list nearest to request. */
int rpm_kernel_not_found(struct repack_ctx *ctx, const char *distro, const char *searched,
			 const char *request, const struct kernel_list *list);

/* Return a copy of url without trailing slashes; caller frees. */
char *rpm_trim_url(const char *url);

/* The value of a data table row "key value" without trailing slashes, or
 * NULL when the table has no such row; caller frees. */
char *rpm_conf_value(const struct table *conf, const char *key);

/* Upstream version of a request: "5.3.7" for "5.3.7-301.fc31" or
 * "1:5.3.7"; caller frees. */
char *rpm_request_version(const char *request);

/* Look a build up in a Koji package tree: the Apache index page at
 * koji/<source>/<version>/<release>/<arch>/ (when release is NULL, the
 * newest release under koji/<source>/<version>/ whose name ends with
 * release_suffix, if that is given). Koji lists no checksums, so every
 * package of the kernel is downloaded, its rpm digests checked by reading
 * it whole, and it is stored in the cache under its sha256, which the
 * package added to index carries. The kernel meta package is taken only
 * where the build has no kernel-core, because after the split it is empty.
 * REPACK_EMISSING when Koji has no such build. */
struct koji_request {
	const char *koji;            /* URL of the packages/ tree */
	const char *source;          /* source package name: "kernel" */
	const char *version;
	const char *release;         /* NULL for the newest */
	const char *release_suffix;  /* ".fc31" or NULL */
	const char *arch;            /* rpm arch: x86_64, aarch64 */
	const char *distro;          /* for messages */
};
int koji_load_build(struct repack_ctx *ctx, const struct koji_request *request,
		    const struct rpm_kernel_names *names, struct rpm_index *index);

/* Replace the mirror prefix of build->source with canonical, the default
 * tree from data/, so that the mirror used does not change the image
 * labels and digest. Does nothing when source lies elsewhere. */
void rpm_kernel_rebase_source(struct kernel_build *build, const char *mirror,
			      const char *canonical);

#endif
