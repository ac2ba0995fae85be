/* Ubuntu archive kernels: package names, tags and the package set of one
 * kernel, read from Packages stanzas. */
#ifndef REPACK_UBUNTU_H
#define REPACK_UBUNTU_H

#include "backend.h"
#include "debian_archive.h"

/* Return the ABI ("5.15.0-91") when name is the image package of a kernel
 * of flavour: linux-image-<abi>-<flavour> (signed since 4.15, the only
 * image before) or linux-image-unsigned-<abi>-<flavour>. *unsigned_pkg
 * is set for the latter. NULL for any other name. The caller frees the
 * result. */
char *ubuntu_image_abi(const char *name, const char *flavour, bool *unsigned_pkg);

/* Return the tag of a package version: the ABI and upload number
 * ("5.15.0-91.101" from 5.15.0-91.101~20.04.1), with "-<flavour>" added
 * for a flavour other than default_flavour. The caller frees it. */
char *ubuntu_tag(const char *version, const char *flavour, const char *default_flavour);

/* Append to list one entry per kernel version of flavour in index, newest
 * first. */
void ubuntu_collect_kernels(const struct debian_index *index, const char *flavour,
			    const char *default_flavour, const char *arch,
			    struct kernel_list *list);

/* True when entry is the kernel a request names: "latest", the full
 * package version, the tag, the ABI ("5.15.0-91") or an upstream prefix
 * ("5.15"). */
bool ubuntu_entry_matches(const struct kernel_entry *entry, const char *flavour,
			  const char *request);

/* Add the packages of the kernel in build->kernel to build, following
 * Depends from the image package: the image (signed, else unsigned), the
 * linux-modules package it depends on, linux-modules-extra (or the
 * linux-image-extra package of kernels before 4.15) unless no_extra,
 * and unless no_headers linux-headers-<abi>-<flavour> with the headers
 * packages it depends on (linux-headers-<abi>, or the source's own such
 * as linux-hwe-5.15-headers-<abi>). */
int ubuntu_add_packages(struct repack_ctx *ctx, const struct debian_index *index,
			const char *flavour, bool no_headers, bool no_extra,
			struct kernel_build *build);

#endif
