/* Kernels in RPM repositories: which packages make one, how it is named
 * and listed. The Fedora and CentOS backends share this. */
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "rpm_kernel.h"
#include "table.h"

void rpm_kernel_names_init(struct rpm_kernel_names *names, const char *flavour)
{
	bool plain = !flavour || strcmp(flavour, "default") == 0;
	char *prefix = plain ? xstrdup("kernel") : xasprintf("kernel-%s", flavour);

	names->meta = xstrdup(prefix);
	names->core = xasprintf("%s-core", prefix);
	names->modules = xasprintf("%s-modules", prefix);
	names->modules_core = xasprintf("%s-modules-core", prefix);
	names->modules_extra = xasprintf("%s-modules-extra", prefix);
	names->devel = xasprintf("%s-devel", prefix);
	names->list[0] = names->meta;
	names->list[1] = names->core;
	names->list[2] = names->modules;
	names->list[3] = names->modules_core;
	names->list[4] = names->modules_extra;
	names->list[5] = names->devel;
	names->list[6] = NULL;
	free(prefix);
}

void rpm_kernel_names_release(struct rpm_kernel_names *names)
{
	free(names->meta);
	free(names->core);
	free(names->modules);
	free(names->modules_core);
	free(names->modules_extra);
	free(names->devel);
	memset(names, 0, sizeof(*names));
}

const char *rpm_arch_for(const char *arch)
{
	if (strcmp(arch, "amd64") == 0)
		return "x86_64";
	if (strcmp(arch, "arm64") == 0)
		return "aarch64";
	return NULL;
}

char *rpm_trim_url(const char *url)
{
	size_t n = strlen(url);

	while (n > 1 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

char *rpm_conf_value(const struct table *conf, const char *key)
{
	const struct table_row *row = table_find(conf, key);

	return row && row->cells.count > 1 ? rpm_trim_url(table_cell(row, 1)) : NULL;
}

char *rpm_request_version(const char *request)
{
	const char *colon = strchr(request, ':');
	const char *start = colon ? colon + 1 : request;

	return xstrndup(start, strcspn(start, "-"));
}

/* Return the package called name with exactly version evr, or NULL. */
static const struct rpm_package *find_package(const struct rpm_index *index,
					      const char *name, const char *evr)
{
	for (size_t i = 0; i < index->count; i++) {
		const struct rpm_package *p = &index->items[i];
		char *version;
		bool same;

		if (strcmp(p->name, name) != 0)
			continue;
		version = rpmver_format(p->epoch, p->version, p->release);
		same = strcmp(version, evr) == 0;
		free(version);
		if (same)
			return p;
	}
	return NULL;
}

static bool list_has(const struct kernel_list *list, const char *version)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].version, version) == 0)
			return true;
	return false;
}

static int compare_newest_first(const void *a, const void *b)
{
	const struct kernel_entry *x = a, *y = b;

	return rpmver_compare(y->version, x->version);
}

static void add_entry(const struct rpm_package *pkg, char *evr,
		      const struct rpm_kernel_style *style, struct kernel_list *list)
{
	bool plain = strcmp(style->flavour, "default") == 0;
	struct kernel_entry entry = { 0 };
	char *tag = image_tag_sanitise(evr);

	entry.version = evr;
	entry.tag = plain ? xstrdup(tag) : xasprintf("%s-%s", tag, style->flavour);
	if (pkg->uname_r)
		entry.kernel_release = xstrdup(pkg->uname_r);
	else if (plain)
		entry.kernel_release = xasprintf("%s-%s.%s", pkg->version, pkg->release, pkg->arch);
	else
		entry.kernel_release = xasprintf("%s-%s.%s+%s", pkg->version, pkg->release,
						 pkg->arch, style->flavour);
	entry.release = xstrdup(pkg->origin);
	entry.flavour = xstrdup(style->flavour);
	entry.arch = xstrdup(style->arch);
	kernel_list_push(list, &entry);
	free(tag);
}

void rpm_kernel_collect(const struct rpm_index *index, const struct rpm_kernel_names *names,
			const struct rpm_kernel_style *style, struct kernel_list *list)
{
	for (size_t i = 0; i < index->count; i++) {
		const struct rpm_package *pkg = &index->items[i];
		bool core = strcmp(pkg->name, names->core) == 0;
		char *evr;

		if (!core && strcmp(pkg->name, names->meta) != 0)
			continue;
		evr = rpmver_format(pkg->epoch, pkg->version, pkg->release);
		/* Where kernel-core exists, kernel is the empty meta package
		 * and kernel-core names the build. */
		if (list_has(list, evr) || (!core && find_package(index, names->core, evr))) {
			free(evr);
			continue;
		}
		add_entry(pkg, evr, style, list);
	}
	rpm_kernel_sort(list);
}

void rpm_kernel_sort(struct kernel_list *list)
{
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items), compare_newest_first);
}

size_t rpm_kernel_find(const struct kernel_list *list, const char *request)
{
	if (strcmp(request, "latest") == 0)
		return 0;
	for (size_t i = 0; i < list->count; i++) {
		const struct kernel_entry *k = &list->items[i];

		if (strcmp(k->kernel_release, request) == 0 ||
		    rpmver_matches_string(k->version, request))
			return i;
	}
	return list->count;
}

static void add_ref(const struct rpm_package *pkg, const char *evr, enum layout_role role,
		    struct kernel_build *build)
{
	struct package_ref *ref = kernel_build_add(build);
	const char *slash = strrchr(pkg->location, '/');

	ref->name = xstrdup(pkg->name);
	ref->version = xstrdup(evr);
	ref->filename = xstrdup(slash ? slash + 1 : pkg->location);
	ref->url = xasprintf("%s/%s", pkg->base, pkg->location);
	memcpy(ref->sha256, pkg->sha256, sizeof(ref->sha256));
	ref->size = pkg->size;
	ref->role = role;
}

/* Add name at evr with role when the index has it; return whether it did. */
static bool add_optional(const struct rpm_index *index, const char *name, const char *evr,
			 enum layout_role role, struct kernel_build *build)
{
	const struct rpm_package *pkg = find_package(index, name, evr);

	if (pkg)
		add_ref(pkg, evr, role, build);
	return pkg != NULL;
}

int rpm_kernel_add_packages(struct repack_ctx *ctx, const char *distro,
			    const struct rpm_index *index,
			    const struct rpm_kernel_names *names,
			    const struct backend_options *opts, struct kernel_build *build)
{
	const char *evr = build->kernel.version;
	const struct rpm_package *image = find_package(index, names->core, evr);
	bool split = image != NULL;

	if (!image)
		image = find_package(index, names->meta, evr);
	if (!image)
		return repack_fail(ctx, REPACK_ENOTFOUND, "%s: %s %s vanished from the index",
				   distro, names->core, evr);
	add_ref(image, evr, ROLE_IMAGE, build);
	free(build->source);
	build->source = xstrdup(image->base);

	if (!add_optional(index, names->modules, evr, ROLE_MODULES, build) && split)
		repack_log(ctx, REPACK_LOG_WARN,
			   "%s: no %s %s in the searched repositories; the image has only the modules %s ships",
			   distro, names->modules, evr, names->core);
	add_optional(index, names->modules_core, evr, ROLE_MODULES, build);
	if (!opts->no_extra_modules)
		add_optional(index, names->modules_extra, evr, ROLE_MODULES, build);
	if (!opts->no_headers && !add_optional(index, names->devel, evr, ROLE_HEADERS, build))
		repack_log(ctx, REPACK_LOG_WARN,
			   "%s: no %s %s in the searched repositories; the image has no kernel-dev.tar",
			   distro, names->devel, evr);
	return 0;
}

int rpm_kernel_pick(struct repack_ctx *ctx, const char *distro, const struct rpm_index *index,
		    const struct rpm_kernel_names *names, const struct rpm_kernel_style *style,
		    const struct backend_options *opts, const char *request,
		    struct kernel_build *build, bool *found, struct kernel_list *seen)
{
	struct kernel_list list = { 0 };
	size_t match;
	int rc = 0;

	rpm_kernel_collect(index, names, style, &list);
	match = rpm_kernel_find(&list, request);
	if (match < list.count) {
		*found = true;
		build->kernel = list.items[match];
		memset(&list.items[match], 0, sizeof(list.items[match]));
		rc = rpm_kernel_add_packages(ctx, distro, index, names, opts, build);
	} else {
		for (size_t i = 0; i < list.count; i++)
			kernel_list_push(seen, &list.items[i]);
	}
	kernel_list_release(&list);
	return rc;
}

int rpm_kernel_not_found(struct repack_ctx *ctx, const char *distro, const char *searched,
			 const char *request, const struct kernel_list *list)
{
	struct strbuf nearest = STRBUF_INIT;
	int rc;

	if (list->count == 0)
		return repack_fail(ctx, REPACK_ENOTFOUND,
				   "%s: no kernel %s in %s, which carry no kernels at all (check --release, --arch and --flavour)",
				   distro, request, searched);
	kernel_list_nearest(list, request, rpmver_compare, &nearest);
	rc = repack_fail(ctx, REPACK_ENOTFOUND,
			 "%s: no kernel %s in %s; nearest: %s (try 'repack list %s')",
			 distro, request, searched, nearest.buf, distro);
	strbuf_release(&nearest);
	return rc;
}

void rpm_kernel_rebase_source(struct kernel_build *build, const char *mirror,
			      const char *canonical)
{
	size_t n;
	char *rebased;

	if (!build->source || !mirror || !canonical)
		return;
	n = strlen(mirror);
	if (strncmp(build->source, mirror, n) != 0)
		return;
	rebased = xasprintf("%s%s", canonical, build->source + n);
	free(build->source);
	build->source = rebased;
}
