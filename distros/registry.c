/* The table of distribution backends and the containers they fill. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

extern const struct backend debian_backend;
extern const struct backend fedora_backend, centos_backend;
extern const struct backend ubuntu_backend, mainline_backend;

const struct backend *const backends[] = {
	&debian_backend,
	&ubuntu_backend,
	&mainline_backend,
	&fedora_backend,
	&centos_backend,
	NULL,
};

const struct backend *backend_find(const char *name)
{
	for (size_t i = 0; backends[i]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

void kernel_entry_release(struct kernel_entry *entry)
{
	free(entry->version);
	free(entry->tag);
	free(entry->kernel_release);
	free(entry->release);
	free(entry->flavour);
	free(entry->arch);
	memset(entry, 0, sizeof(*entry));
}

void kernel_list_push(struct kernel_list *list, struct kernel_entry *entry)
{
	if (list->count == list->alloc) {
		list->alloc = list->alloc ? list->alloc * 2 : 16;
		list->items = xrealloc(list->items, list->alloc * sizeof(*list->items));
	}
	list->items[list->count++] = *entry;
	memset(entry, 0, sizeof(*entry));
}

void kernel_list_release(struct kernel_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		kernel_entry_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

struct package_ref *kernel_build_add(struct kernel_build *build)
{
	build->packages = xrealloc(build->packages,
				   (build->package_count + 1) * sizeof(*build->packages));
	struct package_ref *ref = &build->packages[build->package_count++];
	memset(ref, 0, sizeof(*ref));
	return ref;
}

void kernel_build_release(struct kernel_build *build)
{
	kernel_entry_release(&build->kernel);
	free(build->source);
	for (size_t i = 0; i < build->package_count; i++) {
		free(build->packages[i].name);
		free(build->packages[i].version);
		free(build->packages[i].filename);
		free(build->packages[i].url);
	}
	free(build->packages);
	memset(build, 0, sizeof(*build));
}

bool version_matches_prefix(const char *version, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(version, prefix, n) != 0)
		return false;
	/* "6.1" matches "6.1.140-1" but not "6.10.2-1". */
	return version[n] == '\0' || strchr(".-+~", version[n]) != NULL;
}

void kernel_list_nearest(const struct kernel_list *list, const char *wanted,
			 int (*compare)(const char *, const char *), struct strbuf *out)
{
	size_t at = 0, from, to;

	/* The list is newest first: find where wanted would sit. */
	while (at < list->count && compare(list->items[at].version, wanted) > 0)
		at++;
	from = at >= 2 ? at - 2 : 0;
	to = at + 2 < list->count ? at + 2 : list->count;
	for (size_t i = from; i < to; i++)
		strbuf_addf(out, "%s%s", i > from ? ", " : "", list->items[i].version);
}
