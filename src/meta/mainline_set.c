/* Choosing the packages of one mainline build from a directory listing.
 * A package is named <name>_<kver>-<abi>.<timestamp>_<arch>.deb, so the
 * packages of one build share the timestamp, and a directory rebuilt
 * later contains two builds side by side. */
#include <stdlib.h>
#include <string.h>

#include "mainline.h"

enum deb_kind {
	KIND_IMAGE_UNSIGNED,
	KIND_IMAGE,
	KIND_IMAGE_EXTRA,
	KIND_MODULES,
	KIND_HEADERS,
	KIND_HEADERS_ALL,
	KIND_COUNT,
};

/* The packages of one timestamp. */
struct build_group {
	char *timestamp;
	char *kver_abi;              /* "6.1.5-060105" */
	char *image_version;         /* package version of the image */
	const char *files[KIND_COUNT];
};

struct group_list {
	struct build_group *items;
	size_t count;
};

static void group_list_release(struct group_list *groups)
{
	for (size_t i = 0; i < groups->count; i++) {
		free(groups->items[i].timestamp);
		free(groups->items[i].kver_abi);
		free(groups->items[i].image_version);
	}
	free(groups->items);
	memset(groups, 0, sizeof(*groups));
}

void mainline_set_release(struct mainline_set *set)
{
	free(set->version);
	free(set->kernel_release);
	memset(set, 0, sizeof(*set));
}

/* True when name is prefix + kver_abi, followed by "-" + flavour when
 * flavour is not NULL. */
static bool name_is(const char *name, const char *prefix, const char *kver_abi,
		    const char *flavour)
{
	size_t p = strlen(prefix), k = strlen(kver_abi);

	if (strncmp(name, prefix, p) != 0 || strncmp(name + p, kver_abi, k) != 0)
		return false;
	name += p + k;
	if (!flavour)
		return *name == '\0';
	return name[0] == '-' && strcmp(name + 1, flavour) == 0;
}

static int classify(const char *name, const char *kver_abi, const char *flavour,
		    bool arch_all)
{
	if (arch_all)
		return name_is(name, "linux-headers-", kver_abi, NULL) ? KIND_HEADERS_ALL : -1;
	if (name_is(name, "linux-image-unsigned-", kver_abi, flavour))
		return KIND_IMAGE_UNSIGNED;
	if (name_is(name, "linux-image-extra-", kver_abi, flavour))
		return KIND_IMAGE_EXTRA;
	if (name_is(name, "linux-image-", kver_abi, flavour))
		return KIND_IMAGE;
	if (name_is(name, "linux-modules-", kver_abi, flavour))
		return KIND_MODULES;
	if (name_is(name, "linux-headers-", kver_abi, flavour))
		return KIND_HEADERS;
	return -1;
}

static struct build_group *group_for(struct group_list *groups, const char *timestamp,
				     const char *kver_abi)
{
	struct build_group *g;

	for (size_t i = 0; i < groups->count; i++) {
		g = &groups->items[i];
		if (strcmp(g->timestamp, timestamp) == 0 && strcmp(g->kver_abi, kver_abi) == 0)
			return g;
	}
	groups->items = xrealloc(groups->items, (groups->count + 1) * sizeof(*groups->items));
	g = &groups->items[groups->count++];
	memset(g, 0, sizeof(*g));
	g->timestamp = xstrdup(timestamp);
	g->kver_abi = xstrdup(kver_abi);
	return g;
}

/* Sort one "<name>_<version>_<arch>.deb" entry into its build group. */
static void add_entry(struct group_list *groups, const char *entry, const char *flavour,
		      const char *arch)
{
	const char *u1 = strchr(entry, '_');
	const char *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
	char *name, *version, *deb_arch, *dot;
	int kind;

	if (!u2 || strchr(u2 + 1, '_') || strchr(entry, '/') || !str_ends_with(entry, ".deb"))
		return;
	name = xstrndup(entry, (size_t)(u1 - entry));
	version = xstrndup(u1 + 1, (size_t)(u2 - u1 - 1));
	deb_arch = xstrndup(u2 + 1, strlen(u2 + 1) - 4);
	/* "6.1.5-060105.202301121031": the build timestamp follows the last '.'. */
	dot = strrchr(version, '.');
	if (dot && strchr(version, '-') && strchr(version, '-') < dot &&
	    (strcmp(deb_arch, arch) == 0 || strcmp(deb_arch, "all") == 0)) {
		*dot = '\0';
		kind = classify(name, version, flavour, strcmp(deb_arch, "all") == 0);
		if (kind >= 0) {
			struct build_group *g = group_for(groups, dot + 1, version);

			*dot = '.';
			g->files[kind] = entry;
			if (kind == KIND_IMAGE_UNSIGNED || kind == KIND_IMAGE) {
				free(g->image_version);
				g->image_version = xstrdup(version);
			}
		}
	}
	free(name);
	free(version);
	free(deb_arch);
}

/* Newest timestamp first; timestamps are fixed-width digit strings. */
static int compare_groups_newest_first(const void *a, const void *b)
{
	const struct build_group *x = a, *y = b;
	size_t lx = strlen(x->timestamp), ly = strlen(y->timestamp);

	if (lx != ly)
		return lx < ly ? 1 : -1;
	return strcmp(y->timestamp, x->timestamp);
}

static const char *group_image(const struct build_group *g)
{
	return g->files[KIND_IMAGE_UNSIGNED] ? g->files[KIND_IMAGE_UNSIGNED] : g->files[KIND_IMAGE];
}

/* An unsigned image ships its modules in linux-modules. */
static bool group_bootable(const struct build_group *g)
{
	if (g->files[KIND_IMAGE_UNSIGNED])
		return g->files[KIND_MODULES] != NULL;
	return g->files[KIND_IMAGE] != NULL;
}

bool mainline_choose_set(const struct strlist *entries, const char *flavour,
			 const char *arch, bool no_headers, struct mainline_set *set)
{
	struct group_list groups = { 0 };
	const struct build_group *chosen = NULL;

	memset(set, 0, sizeof(*set));
	for (size_t i = 0; i < entries->count; i++)
		add_entry(&groups, entries->items[i], flavour, arch);
	if (groups.count > 1)
		qsort(groups.items, groups.count, sizeof(*groups.items),
		      compare_groups_newest_first);

	for (size_t i = 0; i < groups.count && !chosen; i++) {
		const struct build_group *g = &groups.items[i];

		if (group_bootable(g) && (no_headers || (g->files[KIND_HEADERS] &&
							 g->files[KIND_HEADERS_ALL])))
			chosen = g;
	}
	for (size_t i = 0; i < groups.count && !chosen; i++)
		if (group_bootable(&groups.items[i]))
			chosen = &groups.items[i];
	if (chosen) {
		set->image = group_image(chosen);
		set->modules = chosen->files[KIND_MODULES];
		set->extra = chosen->files[KIND_IMAGE_EXTRA];
		if (!no_headers) {
			set->headers = chosen->files[KIND_HEADERS];
			set->headers_all = chosen->files[KIND_HEADERS_ALL];
		}
		set->version = xstrdup(chosen->image_version);
		set->kernel_release = xasprintf("%s-%s", chosen->kver_abi, flavour);
	}
	group_list_release(&groups);
	return chosen != NULL;
}
