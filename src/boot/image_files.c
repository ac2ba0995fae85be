/* Making an image's files readable for boot and diff: a dir: image is
 * read in place, an OCI image is extracted to a temporary directory. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

/* Return "amd64" or "arm64" for the OCI or kernel name of an
 * architecture, or NULL. */
static const char *known_arch(const char *name)
{
	if (!name)
		return NULL;
	if (strcmp(name, "amd64") == 0 || strcmp(name, "x86_64") == 0)
		return "amd64";
	if (strcmp(name, "arm64") == 0 || strcmp(name, "aarch64") == 0)
		return "arm64";
	return NULL;
}

/* The config's "architecture" wins; a dir: image without a config takes
 * the requested architecture, else its kernel's header decides. An
 * architecture repack cannot boot is kept as written, so the boot can
 * name it. */
static void find_arch(struct repack_ctx *ctx, struct boot_image_files *files,
		      const char *requested)
{
	const char *config_arch = json_string_value(json_object_get(files->src.config,
								      "architecture"));
	char *kernel;
	const char *arch;

	if (config_arch) {
		arch = known_arch(config_arch);
		files->arch = xstrdup(arch ? arch : config_arch);
		return;
	}
	if (requested) {
		files->arch = xstrdup(requested);
		return;
	}
	kernel = xasprintf("%s/kernel", files->dir);
	arch = boot_kernel_arch(ctx, kernel);
	free(kernel);
	if (arch)
		files->arch = xstrdup(arch);
}

int boot_image_files_open(struct repack_ctx *ctx, const char *spec,
			  const char *arch, const char *workdir,
			  struct boot_image_files *files)
{
	int rc;

	memset(files, 0, sizeof(*files));
	rc = image_open(ctx, spec, arch, &files->src);
	if (rc)
		return rc;
	if (files->src.kind == OUTPUT_DIR) {
		files->dir = xstrdup(files->src.dir);
	} else {
		files->tmpdir = xasprintf("%s/image.XXXXXX", workdir);
		if (!mkdtemp(files->tmpdir)) {
			rc = repack_fail(ctx, REPACK_EFAIL, "cannot create a directory '%s': %s",
					 files->tmpdir, strerror(errno));
			free(files->tmpdir);
			files->tmpdir = NULL;
			return rc;
		}
		rc = image_extract(ctx, &files->src, files->tmpdir, NULL);
		if (rc)
			return repack_wrap(ctx, rc, "cannot read the files of '%s'", spec);
		files->dir = xstrdup(files->tmpdir);
	}
	find_arch(ctx, files, arch);
	return 0;
}

void boot_image_files_release(struct boot_image_files *files)
{
	if (files->tmpdir)
		rm_rf(files->tmpdir);
	free(files->tmpdir);
	free(files->dir);
	free(files->arch);
	image_source_release(&files->src);
	memset(files, 0, sizeof(*files));
}
