/* Output destinations: parsing -o, and writing an image to an OCI layout
 * (oci:DIR) or as plain files (dir:DIR). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define OUTPUT_FORMS "oci:DIR (an OCI image layout, e.g. oci:images) or " \
	"dir:DIR (the image's files as plain files)"

static int parse_path(struct repack_ctx *ctx, const char *spec,
		      const char *prefix, enum output_kind kind,
		      struct output *out)
{
	const char *path = spec + strlen(prefix);

	if (!*path)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid output '%s': the directory is missing; "
				   "use %s", spec, OUTPUT_FORMS);
	out->kind = kind;
	out->path = xstrdup(path);
	return 0;
}

int output_parse(struct repack_ctx *ctx, const char *spec, struct output *out)
{
	memset(out, 0, sizeof(*out));
	if (!spec)
		spec = "";

	if (str_starts_with(spec, "oci:")) {
		/* The tags come from the kernel version, so "oci:DIR:TAG"
		 * is rejected instead of creating a directory "DIR:TAG". */
		if (strchr(spec + strlen("oci:"), ':'))
			return repack_fail(ctx, REPACK_EUSAGE,
					   "invalid output '%s': an oci: output names a "
					   "directory only, because repack tags the image "
					   "by kernel version; use oci:DIR", spec);
		return parse_path(ctx, spec, "oci:", OUTPUT_OCI, out);
	}
	if (str_starts_with(spec, "dir:"))
		return parse_path(ctx, spec, "dir:", OUTPUT_DIR, out);
	if (str_starts_with(spec, "oci-archive:") ||
	    str_starts_with(spec, "docker-archive:"))
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid output '%s': oci-archive: and "
				   "docker-archive: are not implemented yet; use %s",
				   spec, OUTPUT_FORMS);
	return repack_fail(ctx, REPACK_EUSAGE, "invalid output '%s': use %s",
			   spec, OUTPUT_FORMS);
}

void output_release(struct output *out)
{
	free(out->path);
	out->path = NULL;
}

/* A file of a dir: output, copied to tmp and renamed to final at the end. */
struct staged_file {
	char *tmp;
	char *final;
};

static void unstage_all(struct staged_file *staged, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		if (staged[i].tmp)
			unlink(staged[i].tmp);
		free(staged[i].tmp);
		free(staged[i].final);
	}
}

static int stage_file(struct repack_ctx *ctx, const char *dir,
		      const char *name, const char *src, const char *expect_hex,
		      struct staged_file *staged)
{
	char *tmp = xasprintf("%s/.%s.tmp.%ld", dir, name, (long)getpid());
	int rc;

	/* A temporary file left by a killed run with the same pid. */
	unlink(tmp);
	rc = image_copy_file(ctx, src, tmp, expect_hex);
	if (rc) {
		free(tmp);
		return rc;
	}
	staged->tmp = tmp;
	staged->final = xasprintf("%s/%s", dir, name);
	return 0;
}

/* Rename the staged files into place, then remove the optional files this
 * image lacks, so the directory never mixes two kernels' files. */
static int commit_dir(struct repack_ctx *ctx, const char *dir,
		      struct staged_file *staged, size_t count,
		      const struct image_file_slot slots[IMAGE_FILE_SLOTS])
{
	for (size_t i = 0; i < count; i++) {
		if (rename(staged[i].tmp, staged[i].final) < 0)
			return repack_fail(ctx, REPACK_EFAIL,
					   "cannot rename '%s' to '%s': %s",
					   staged[i].tmp, staged[i].final,
					   strerror(errno));
		free(staged[i].tmp);
		staged[i].tmp = NULL;
	}
	for (int i = 0; i < IMAGE_FILE_SLOTS; i++) {
		char *stale;

		if (slots[i].source)
			continue;
		stale = xasprintf("%s/%s", dir, slots[i].name);
		if (unlink(stale) == 0)
			repack_log(ctx, REPACK_LOG_INFO,
				   "removed '%s': this image has no %s", stale,
				   slots[i].name);
		free(stale);
	}
	return image_sync_dir(ctx, dir);
}

static int dir_write(struct repack_ctx *ctx, const char *dir,
		     const struct image *image, const struct layout_files *files)
{
	struct image_file_slot slots[IMAGE_FILE_SLOTS];
	struct staged_file staged[IMAGE_FILE_SLOTS + 1];
	size_t count = 0;
	int rc = mkdir_p(ctx, dir);

	if (rc)
		return rc;
	memset(staged, 0, sizeof(staged));
	image_file_slots(files, slots);
	for (int i = 0; rc == 0 && i < IMAGE_FILE_SLOTS; i++) {
		if (!slots[i].source)
			continue;
		rc = stage_file(ctx, dir, slots[i].name, slots[i].source, NULL,
				&staged[count]);
		if (rc == 0)
			count++;
	}
	if (rc == 0) {
		rc = stage_file(ctx, dir, DIR_CONFIG_NAME, image->config.path,
				image->config.digest, &staged[count]);
		if (rc == 0)
			count++;
	}
	if (rc == 0)
		rc = commit_dir(ctx, dir, staged, count, slots);
	unstage_all(staged, count);
	return rc;
}

static int check_tags(struct repack_ctx *ctx, const struct strlist *tags)
{
	if (!tags || tags->count == 0)
		return repack_fail(ctx, REPACK_EFAIL,
				   "no tag given for the image; an OCI layout names "
				   "every image by tag");
	for (size_t i = 0; i < tags->count; i++)
		if (!image_tag_valid(tags->items[i]))
			return repack_fail(ctx, REPACK_EFAIL,
					   "invalid image tag '%s': a tag is 1 to 128 "
					   "characters of [A-Za-z0-9_.-] and does not "
					   "start with '.' or '-'", tags->items[i]);
	return 0;
}

int image_write(struct repack_ctx *ctx, const struct output *out,
		const struct image *image, const struct image_meta *meta,
		const struct layout_files *files, const struct strlist *tags)
{
	int rc;

	switch (out->kind) {
	case OUTPUT_OCI:
		rc = check_tags(ctx, tags);
		if (rc == 0)
			rc = oci_layout_write(ctx, out->path, image, meta, tags);
		return rc;
	case OUTPUT_DIR:
		return dir_write(ctx, out->path, image, files);
	}
	return repack_fail(ctx, REPACK_EFAIL, "unknown output kind %d",
			   (int)out->kind);
}
