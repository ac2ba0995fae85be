/* Output destinations: parsing -o, and writing an image to an OCI layout
 * (oci:DIR), as plain files (dir:DIR) or to the archives of archive.c. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define OUTPUT_FORMS "oci:DIR (an OCI image layout, e.g. oci:images), " \
	"oci-archive:FILE (that layout in one tar), docker-archive:FILE (the " \
	"docker save format) or dir:DIR (the image's files as plain files)"

static int parse_path(struct repack_ctx *ctx, const char *spec,
		      const char *prefix, enum output_kind kind,
		      struct output *out)
{
	const char *path = spec + strlen(prefix);
	bool is_file = kind == OUTPUT_OCI_ARCHIVE || kind == OUTPUT_DOCKER_ARCHIVE;

	if (!*path)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid output '%s': the %s is missing; use %s",
				   spec, is_file ? "file name" : "directory",
				   OUTPUT_FORMS);
	/* The tags come from the kernel version, so "oci:DIR:TAG" is
	 * rejected instead of creating a directory or file "NAME:TAG". */
	if (kind != OUTPUT_DIR && strchr(path, ':'))
		return repack_fail(ctx, REPACK_EUSAGE,
				   "invalid output '%s': an %.*s output names a %s "
				   "only, because repack tags the image by kernel "
				   "version; use %s%s", spec,
				   (int)strlen(prefix), prefix,
				   is_file ? "file" : "directory", prefix,
				   is_file ? "FILE" : "DIR");
	out->kind = kind;
	out->path = xstrdup(path);
	return 0;
}

int output_parse(struct repack_ctx *ctx, const char *spec, struct output *out)
{
	static const struct {
		const char *prefix;
		enum output_kind kind;
	} forms[] = {
		{ "oci:", OUTPUT_OCI },
		{ "dir:", OUTPUT_DIR },
		{ "oci-archive:", OUTPUT_OCI_ARCHIVE },
		{ "docker-archive:", OUTPUT_DOCKER_ARCHIVE },
	};

	memset(out, 0, sizeof(*out));
	if (!spec)
		spec = "";
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (str_starts_with(spec, forms[i].prefix))
			return parse_path(ctx, spec, forms[i].prefix,
					  forms[i].kind, out);
	return repack_fail(ctx, REPACK_EUSAGE, "invalid output '%s': use %s",
			   spec, OUTPUT_FORMS);
}

/* An archive is written as FILE.part beside FILE and renamed, so FILE's
 * directory must exist and FILE must not be a directory. */
static int check_archive_path(struct repack_ctx *ctx, const char *path)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	struct stat st;
	int rc = 0;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "cannot write '%s': the directory '%s' does not "
				 "exist; create it first or choose another path",
				 path, dir);
	else if (access(dir, W_OK) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "cannot write '%s': the directory '%s' is not "
				 "writable: %s", path, dir, strerror(errno));
	else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "cannot write '%s': it is a directory; an archive "
				 "output names a file", path);
	free(copy);
	return rc;
}

/* An oci: or dir: output is a directory, created when missing: the path
 * must be a directory or not exist yet, and the nearest existing parent
 * must be a writable directory. */
static int check_directory_path(struct repack_ctx *ctx, const char *path)
{
	char *copy = xstrdup(path);
	struct stat st;
	int rc = 0;

	int found;

	while ((found = stat(copy, &st)) < 0 && strcmp(copy, "/") != 0 &&
	       strcmp(copy, ".") != 0) {
		char *parent = xstrdup(dirname(copy));

		free(copy);
		copy = parent;
	}
	if (found < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot write the output directory '%s': %s",
				 path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "cannot write the output directory '%s': '%s' is not a directory",
				 path, copy);
	else if (access(copy, W_OK) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL,
				 "cannot write the output directory '%s': '%s' is not writable: %s",
				 path, copy, strerror(errno));
	free(copy);
	return rc;
}

int output_check(struct repack_ctx *ctx, const struct output *out,
		 size_t arch_count, enum image_compression compression)
{
	if (arch_count > 1 && out->kind == OUTPUT_DIR)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "a dir: output holds the files of one architecture; "
				   "build one --arch at a time or use oci:DIR or "
				   "oci-archive:FILE");
	if (arch_count > 1 && out->kind == OUTPUT_DOCKER_ARCHIVE)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "the docker save format has no image index, so a "
				   "docker-archive: output holds one architecture; "
				   "build one --arch at a time or use oci-archive:FILE");
	/* docker load before Docker 25 and podman read gzip or plain
	 * layers, so docker-archive: keeps gzip. */
	if (compression == IMAGE_COMPRESSION_ZSTD &&
	    out->kind == OUTPUT_DOCKER_ARCHIVE)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "a docker-archive: output takes a gzip layer, which "
				   "every docker load reads; drop --compression zstd or "
				   "use oci-archive:FILE");
	if (out->kind == OUTPUT_OCI_ARCHIVE || out->kind == OUTPUT_DOCKER_ARCHIVE)
		return check_archive_path(ctx, out->path);
	return check_directory_path(ctx, out->path);
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

static int check_tags(struct repack_ctx *ctx, const struct image_set *set)
{
	if (set->tag_count == 0)
		return repack_fail(ctx, REPACK_EFAIL,
				   "no tag given for the image; an OCI layout names "
				   "every image by tag");
	for (size_t i = 0; i < set->tag_count; i++)
		if (!image_tag_valid(set->tags[i].name))
			return repack_fail(ctx, REPACK_EFAIL,
					   "invalid image tag '%s': a tag is 1 to 128 "
					   "characters of [A-Za-z0-9_.-] and does not "
					   "start with '.' or '-'", set->tags[i].name);
	return 0;
}

int image_set_write(struct repack_ctx *ctx, const struct output *out,
		    const struct image_set *set)
{
	int rc;

	if (set->count == 0)
		return repack_fail(ctx, REPACK_EFAIL, "the image set is empty");
	rc = output_check(ctx, out, set->count, set->items[0].meta->compression);
	if (rc)
		return rc;
	if (out->kind == OUTPUT_DIR)
		return dir_write(ctx, out->path, set->items[0].image,
				 set->items[0].files);
	rc = check_tags(ctx, set);
	if (rc)
		return rc;
	switch (out->kind) {
	case OUTPUT_OCI:
		return oci_layout_write(ctx, out->path, set);
	case OUTPUT_OCI_ARCHIVE:
		return oci_archive_write(ctx, out->path, set);
	case OUTPUT_DOCKER_ARCHIVE:
		return docker_archive_write(ctx, out->path, set);
	case OUTPUT_DIR:
		break;
	}
	return repack_fail(ctx, REPACK_EFAIL, "unknown output kind %d",
			   (int)out->kind);
}

int image_write(struct repack_ctx *ctx, const struct output *out,
		const struct image *image, const struct image_meta *meta,
		const struct layout_files *files, const struct strlist *tags)
{
	struct image_set set;
	int rc;

	image_set_init(&set);
	image_set_add(&set, image, meta, files);
	for (size_t i = 0; tags && i < tags->count; i++)
		image_set_add_tag(&set, tags->items[i], 0);
	rc = image_set_write(ctx, out, &set);
	image_set_release(&set);
	return rc;
}
