/* Comparing two images: their kernel_config options and the modules in
 * their kernel.tar files. */
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

static const char *const module_suffixes[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

char *boot_module_name(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	for (size_t i = 0; i < sizeof(module_suffixes) / sizeof(module_suffixes[0]); i++) {
		size_t blen = strlen(base), slen = strlen(module_suffixes[i]);
		char *name;

		if (blen <= slen || strcmp(base + blen - slen, module_suffixes[i]) != 0)
			continue;
		name = xstrndup(base, blen - slen);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		return name;
	}
	return NULL;
}

/* Sort list and drop repeated strings. */
static void sort_unique(struct strlist *list)
{
	size_t n = 0;

	strlist_sort(list);
	for (size_t i = 0; i < list->count; i++) {
		if (n && strcmp(list->items[n - 1], list->items[i]) == 0) {
			free(list->items[i]);
			continue;
		}
		list->items[n++] = list->items[i];
	}
	list->count = n;
}

int boot_tar_modules(struct repack_ctx *ctx, const char *kernel_tar, struct strlist *names)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	int r, rc = 0;

	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	if (archive_read_open_filename(in, kernel_tar, 65536) != ARCHIVE_OK) {
		rc = repack_fail(ctx, REPACK_EUNPACK, "cannot read kernel.tar '%s': %s",
				 kernel_tar, archive_error_string(in));
		goto out;
	}
	while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		char *name;

		if (archive_entry_filetype(e) != AE_IFREG || !path || !strstr(path, "lib/modules/"))
			continue;
		name = boot_module_name(path);
		if (name)
			strlist_push_owned(names, name);
	}
	if (r != ARCHIVE_EOF)
		rc = repack_fail(ctx, REPACK_EUNPACK, "kernel.tar '%s' is corrupt: %s",
				 kernel_tar, archive_error_string(in));
	sort_unique(names);
out:
	archive_read_free(in);
	return rc;
}

/* Put the strings of a that are not in b into only_a; both are sorted. */
static void sorted_difference(const struct strlist *a, const struct strlist *b,
			      struct strlist *only_a)
{
	size_t j = 0;

	for (size_t i = 0; i < a->count; i++) {
		while (j < b->count && strcmp(b->items[j], a->items[i]) < 0)
			j++;
		if (j == b->count || strcmp(b->items[j], a->items[i]) != 0)
			strlist_push(only_a, a->items[i]);
	}
}

/* Read and parse one image's kernel_config and list its modules. */
static int read_image(struct repack_ctx *ctx, const char *spec, const char *arch,
		      const char *workdir, struct kconfig *cfg, struct strlist *modules)
{
	struct boot_image_files files;
	char *config = NULL, *tar = NULL, *text = NULL;
	size_t len;
	int rc;

	rc = boot_image_files_open(ctx, spec, arch, workdir, &files);
	if (rc)
		goto out;
	config = xasprintf("%s/kernel_config", files.dir);
	tar = xasprintf("%s/kernel.tar", files.dir);
	rc = read_file(ctx, config, &text, &len);
	if (rc) {
		rc = repack_wrap(ctx, REPACK_EFORMAT, "'%s' has no readable kernel_config", spec);
		goto out;
	}
	rc = kconfig_parse(ctx, config, text, len, cfg);
	if (rc == 0)
		rc = boot_tar_modules(ctx, tar, modules);
out:
	free(text);
	free(tar);
	free(config);
	boot_image_files_release(&files);
	return rc;
}

int kernel_diff_images(struct repack_ctx *ctx, const char *old_spec,
		       const char *new_spec, const char *arch,
		       struct kernel_diff *diff)
{
	struct strlist old_modules = STRLIST_INIT, new_modules = STRLIST_INIT;
	char *workdir = NULL;
	int rc;

	memset(diff, 0, sizeof(*diff));
	rc = make_temp_dir(ctx, "repack-diff", &workdir);
	if (rc == 0)
		rc = read_image(ctx, old_spec, arch, workdir, &diff->old_config, &old_modules);
	if (rc == 0)
		rc = read_image(ctx, new_spec, arch, workdir, &diff->new_config, &new_modules);
	if (rc == 0) {
		kconfig_diff(&diff->old_config, &diff->new_config, &diff->config);
		sorted_difference(&old_modules, &new_modules, &diff->only_old);
		sorted_difference(&new_modules, &old_modules, &diff->only_new);
		diff->old_modules = old_modules.count;
		diff->new_modules = new_modules.count;
	}
	if (workdir)
		rm_rf(workdir);
	free(workdir);
	strlist_release(&old_modules);
	strlist_release(&new_modules);
	return rc;
}

void kernel_diff_release(struct kernel_diff *diff)
{
	kconfig_diff_release(&diff->config);
	kconfig_release(&diff->old_config);
	kconfig_release(&diff->new_config);
	strlist_release(&diff->only_old);
	strlist_release(&diff->only_new);
	memset(diff, 0, sizeof(*diff));
}
