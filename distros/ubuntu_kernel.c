/* Ubuntu kernel packages. Since 4.15 a kernel is linux-image-<abi>-<flavour>
 * (the signed image, or linux-image-unsigned-<abi>-<flavour> where no
 * signed one exists), which depends on linux-modules-<abi>-<flavour>;
 * linux-modules-extra-<abi>-<flavour> carries the remaining modules.
 * Before 4.15 linux-image-<abi>-<flavour> held the kernel and the common
 * modules, and linux-image-extra-<abi>-<flavour> the rest. Headers are
 * linux-headers-<abi>-<flavour> plus the architecture-independent
 * headers package it depends on. */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "meta.h"
#include "ubuntu.h"

/* Read "<digits>" at *p and advance; false when there is no digit. */
static bool skip_number(const char **p)
{
	const char *start = *p;

	while (**p >= '0' && **p <= '9')
		(*p)++;
	return *p > start;
}

char *ubuntu_image_abi(const char *name, const char *flavour, bool *unsigned_pkg)
{
	const char *abi, *p;

	if (!str_starts_with(name, "linux-image-"))
		return NULL;
	abi = name + strlen("linux-image-");
	*unsigned_pkg = str_starts_with(abi, "unsigned-");
	if (*unsigned_pkg)
		abi += strlen("unsigned-");

	/* The ABI is "<x>.<y>.<z>-<n>"; the flavour is all that follows. */
	p = abi;
	if (!skip_number(&p) || *p++ != '.' || !skip_number(&p) || *p++ != '.' ||
	    !skip_number(&p) || *p++ != '-' || !skip_number(&p) || *p != '-')
		return NULL;
	if (strcmp(p + 1, flavour) != 0)
		return NULL;
	return xstrndup(abi, (size_t)(p - abi));
}

char *ubuntu_tag(const char *version, const char *flavour, const char *default_flavour)
{
	/* A backport's "~20.04.1" or a rebuild's "+1" is not part of the tag. */
	char *base = xstrndup(version, strcspn(version, "~+"));
	char *tag = image_tag_sanitise(base);
	char *full;

	free(base);
	if (strcmp(flavour, default_flavour) == 0)
		return tag;
	full = xasprintf("%s-%s", tag, flavour);
	free(tag);
	return full;
}

static int compare_entries_newest_first(const void *a, const void *b)
{
	const struct kernel_entry *x = a, *y = b;

	return debver_compare(y->version, x->version);
}

static bool list_has_version(const struct kernel_list *list, const char *version)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].version, version) == 0)
			return true;
	return false;
}

void ubuntu_collect_kernels(const struct debian_index *index, const char *flavour,
			    const char *default_flavour, const char *arch,
			    struct kernel_list *list)
{
	for (size_t i = 0; i < index->count; i++) {
		const struct debian_pkg *pkg = &index->items[i];
		bool unsigned_pkg;
		char *abi = ubuntu_image_abi(pkg->name, flavour, &unsigned_pkg);
		struct kernel_entry entry = { 0 };

		if (!abi)
			continue;
		if (!list_has_version(list, pkg->version)) {
			entry.version = xstrdup(pkg->version);
			entry.tag = ubuntu_tag(pkg->version, flavour, default_flavour);
			entry.kernel_release = xasprintf("%s-%s", abi, flavour);
			entry.release = xstrdup(pkg->suite);
			entry.flavour = xstrdup(flavour);
			entry.arch = xstrdup(arch);
			kernel_list_push(list, &entry);
		}
		free(abi);
	}
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items),
		      compare_entries_newest_first);
}

bool ubuntu_entry_matches(const struct kernel_entry *entry, const char *flavour,
			  const char *request)
{
	size_t n = strlen(request);

	if (strcmp(request, "latest") == 0 || strcmp(entry->version, request) == 0 ||
	    strcmp(entry->tag, request) == 0)
		return true;
	/* kernel_release is "<abi>-<flavour>". */
	if (strncmp(entry->kernel_release, request, n) == 0 &&
	    entry->kernel_release[n] == '-' &&
	    strcmp(entry->kernel_release + n + 1, flavour) == 0)
		return true;
	return version_matches_prefix(entry->version, request);
}

/* Find name at exactly version, or NULL. */
static const struct debian_pkg *find_exact(const struct debian_index *index,
					   const char *prefix, const char *kernel_release,
					   const char *version)
{
	char *name = xasprintf("%s%s", prefix, kernel_release);
	const struct debian_pkg *pkg = debian_index_find(index, name, "=", version);

	free(name);
	return pkg;
}

/* linux-modules-* and linux-image-extra-* carry modules, whatever role
 * the Depends walk that reached them gave. */
static void assign_module_roles(struct kernel_build *build, size_t from)
{
	for (size_t i = from; i < build->package_count; i++) {
		const char *name = build->packages[i].name;

		if (str_starts_with(name, "linux-modules-") ||
		    str_starts_with(name, "linux-image-extra-"))
			build->packages[i].role = ROLE_MODULES;
	}
}

static int add_image(struct repack_ctx *ctx, const struct debian_index *index,
		     bool no_extra, struct kernel_build *build)
{
	static const char *const module_prefixes[] = { "linux-modules-", NULL };
	const char *kver = build->kernel.kernel_release;
	const char *version = build->kernel.version;
	const struct debian_pkg *image, *extra;
	size_t from = build->package_count;
	int rc;

	image = find_exact(index, "linux-image-", kver, version);
	if (!image)
		image = find_exact(index, "linux-image-unsigned-", kver, version);
	if (!image)
		return repack_fail(ctx, REPACK_ENOTFOUND,
				   "ubuntu: neither linux-image-%s nor linux-image-unsigned-%s is at version %s in the searched suites",
				   kver, kver, version);
	rc = archive_add_with_depends(ctx, index, image, module_prefixes, ROLE_IMAGE, build);
	if (rc == 0 && !no_extra) {
		extra = find_exact(index, "linux-modules-extra-", kver, version);
		if (!extra)
			extra = find_exact(index, "linux-image-extra-", kver, version);
		if (extra)
			rc = archive_add_with_depends(ctx, index, extra, module_prefixes,
						      ROLE_MODULES, build);
		else
			repack_log(ctx, REPACK_LOG_INFO,
				   "ubuntu: %s %s has no linux-modules-extra or linux-image-extra package",
				   kver, version);
	}
	assign_module_roles(build, from);
	return rc;
}

/* Return the names Depends may lead to from the headers of abi:
 * "linux-headers-" and every "linux-*-headers-<abi>" in the index (the
 * common headers of sources such as linux-hwe-5.15 or linux-lowlatency),
 * NULL-terminated. The caller frees the array and its strings. */
static char **header_prefixes(const struct debian_index *index, const char *abi)
{
	struct strlist names = STRLIST_INIT;
	char *suffix = xasprintf("-headers-%s", abi);
	char **prefixes;

	strlist_push(&names, "linux-headers-");
	for (size_t i = 0; i < index->count; i++) {
		const char *name = index->items[i].name;

		if (str_starts_with(name, "linux-") && str_ends_with(name, suffix) &&
		    !strlist_contains(&names, name))
			strlist_push(&names, name);
	}
	prefixes = xrealloc(names.items, (names.count + 1) * sizeof(*prefixes));
	prefixes[names.count] = NULL;
	free(suffix);
	return prefixes;
}

static void free_prefixes(char **prefixes)
{
	for (size_t i = 0; prefixes[i]; i++)
		free(prefixes[i]);
	free(prefixes);
}

static int add_headers(struct repack_ctx *ctx, const struct debian_index *index,
		       const char *flavour, struct kernel_build *build)
{
	const char *kver = build->kernel.kernel_release;
	const char *version = build->kernel.version;
	const struct debian_pkg *headers = find_exact(index, "linux-headers-", kver, version);
	char *abi, **prefixes;
	int rc;

	if (!headers) {
		repack_log(ctx, REPACK_LOG_WARN,
			   "ubuntu: no linux-headers-%s %s in the searched suites; the image has no kernel-dev.tar",
			   kver, version);
		return 0;
	}
	abi = xstrndup(kver, strlen(kver) - strlen(flavour) - 1);
	prefixes = header_prefixes(index, abi);
	rc = archive_add_with_depends(ctx, index, headers, (const char *const *)prefixes,
				      ROLE_HEADERS, build);
	free_prefixes(prefixes);
	free(abi);
	return rc;
}

int ubuntu_add_packages(struct repack_ctx *ctx, const struct debian_index *index,
			const char *flavour, bool no_headers, bool no_extra,
			struct kernel_build *build)
{
	int rc = add_image(ctx, index, no_extra, build);

	if (rc == 0 && !no_headers)
		rc = add_headers(ctx, index, flavour, build);
	return rc;
}
