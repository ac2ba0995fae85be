/* One image from one kernel: backend resolve -> fetch into the cache ->
 * unpack and lay out -> image write. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "fetch.h"
#include "layout.h"
#include "unpack.h"

#define WORK_PREFIX "repack-work"

/* Remove work directories ("repack-work.<pid>.XXXXXX") that runs killed
 * before their cleanup left behind. */
static void remove_stale_workdirs(void)
{
	const char *base = getenv("TMPDIR");
	DIR *dir;
	struct dirent *d;

	base = base && *base ? base : "/tmp";
	dir = opendir(base);
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		long pid;
		char *path;

		if (sscanf(d->d_name, WORK_PREFIX ".%ld.", &pid) != 1 || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = xasprintf("%s/%s", base, d->d_name);
		rm_rf(path);
		free(path);
	}
	closedir(dir);
}

static int compare_packages(const void *a, const void *b)
{
	const struct package_ref *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int fetch_packages(struct repack_ctx *ctx, struct kernel_build *kernel,
			  struct fetch_item *items)
{
	for (size_t i = 0; i < kernel->package_count; i++) {
		items[i].url = kernel->packages[i].url;
		items[i].sha256 = kernel->packages[i].sha256;
		items[i].size = kernel->packages[i].size;
		items[i].label = kernel->packages[i].filename;
	}
	return fetch_into_cache(ctx, items, kernel->package_count);
}

/* SOURCE_DATE_EPOCH when set, else the newest package build time. */
static int choose_timestamp(struct repack_ctx *ctx, const struct kernel_build *kernel,
			    const struct fetch_item *items, time_t *created)
{
	const char *epoch = getenv("SOURCE_DATE_EPOCH");

	*created = 0;
	if (epoch && *epoch) {
		char *end;
		long long value = strtoll(epoch, &end, 10);

		if (*end || value < 0)
			return repack_fail(ctx, REPACK_EUSAGE,
					   "SOURCE_DATE_EPOCH='%s' is not a number of seconds", epoch);
		*created = (time_t)value;
		return 0;
	}
	for (size_t i = 0; i < kernel->package_count; i++) {
		time_t t;
		int rc = unpack_build_time(ctx, items[i].path, kernel->packages[i].filename, &t);

		if (rc)
			return rc;
		if (t > *created)
			*created = t;
	}
	return 0;
}

static int lay_out(struct repack_ctx *ctx, const struct build_request *request,
		   const struct kernel_build *kernel, const struct fetch_item *items,
		   struct layout *layout)
{
	int rc = 0;

	for (size_t i = 0; i < kernel->package_count && rc == 0; i++)
		rc = layout_add_package(layout, items[i].path, kernel->packages[i].filename,
					kernel->packages[i].role);
	if (rc == 0)
		rc = layout_finish(layout);
	if (rc == 0 && strcmp(layout->kver, kernel->kernel.kernel_release) != 0)
		repack_log(ctx, REPACK_LOG_WARN,
			   "the packages hold kernel %s, the metadata names %s",
			   layout->kver, kernel->kernel.kernel_release);
	(void)request;
	return rc;
}

static void fill_meta(const struct build_request *request, const struct kernel_build *kernel,
		      const struct layout *layout, struct image_input *inputs,
		      struct image_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	for (size_t i = 0; i < kernel->package_count; i++) {
		inputs[i].name = kernel->packages[i].filename;
		memcpy(inputs[i].sha256, kernel->packages[i].sha256, sizeof(inputs[i].sha256));
	}
	meta->distro = request->backend->name;
	meta->release = kernel->kernel.release;
	meta->flavour = kernel->kernel.flavour;
	meta->arch = kernel->kernel.arch;
	meta->kernel_release = layout->kver;
	meta->version = kernel->kernel.version;
	meta->tag = kernel->kernel.tag;
	meta->name = request->repo_name ? request->repo_name : request->backend->image_name;
	meta->source = kernel->source;
	meta->created = layout->mtime;
	meta->inputs = inputs;
	meta->input_count = kernel->package_count;
}

static int make_image(struct repack_ctx *ctx, const struct build_request *request,
		      struct build_result *result, const struct layout *layout,
		      const char *workdir)
{
	struct kernel_build *kernel = &result->kernel;
	struct image_input *inputs = xcalloc(kernel->package_count, sizeof(*inputs));
	struct image_meta meta;
	struct image image;
	int rc;

	memset(&image, 0, sizeof(image));
	fill_meta(request, kernel, layout, inputs, &meta);
	strlist_push(&result->tags, kernel->kernel.tag);
	strlist_push_owned(&result->tags, xasprintf("%s-%s", kernel->kernel.tag, kernel->kernel.arch));
	rc = image_build(ctx, &layout->files, &meta, workdir, &image);
	if (rc == 0)
		rc = image_write(ctx, request->output, &image, &meta, &layout->files, &result->tags);
	if (rc == 0) {
		memcpy(result->manifest_digest, image.manifest.digest, sizeof(result->manifest_digest));
		result->reference = xasprintf("%s:%s", meta.name, kernel->kernel.tag);
	}
	image_release(&image);
	free(inputs);
	return rc;
}

int repack_build(struct repack_ctx *ctx, const struct build_request *request,
		 struct build_result *result)
{
	struct kernel_build *kernel = &result->kernel;
	struct fetch_item *items = NULL;
	struct layout layout;
	char *workdir = NULL;
	time_t created;
	int rc;

	memset(result, 0, sizeof(*result));
	memset(&layout, 0, sizeof(layout));
	rc = request->backend->resolve(ctx, &request->opts, request->version, kernel);
	if (rc)
		goto out;
	/* A fixed package order makes kernel-dev.tar reproducible. */
	qsort(kernel->packages, kernel->package_count, sizeof(*kernel->packages),
	      compare_packages);
	repack_log(ctx, REPACK_LOG_INFO, "%s %s: %zu packages", request->backend->name,
		   kernel->kernel.version, kernel->package_count);

	items = xcalloc(kernel->package_count, sizeof(*items));
	rc = fetch_packages(ctx, kernel, items);
	if (rc == 0)
		rc = choose_timestamp(ctx, kernel, items, &created);
	if (rc == 0) {
		char *prefix = xasprintf(WORK_PREFIX ".%ld", (long)getpid());

		remove_stale_workdirs();
		rc = make_temp_dir(ctx, prefix, &workdir);
		free(prefix);
	}
	if (rc)
		goto out;
	layout_init(&layout, ctx, workdir, created, request->opts.no_headers);
	rc = lay_out(ctx, request, kernel, items, &layout);
	if (rc == 0)
		rc = make_image(ctx, request, result, &layout, workdir);
out:
	layout_release(&layout);
	if (workdir) {
		rm_rf(workdir);
		free(workdir);
	}
	for (size_t i = 0; items && i < kernel->package_count; i++)
		fetch_item_release(&items[i]);
	free(items);
	return rc;
}

void build_result_release(struct build_result *result)
{
	kernel_build_release(&result->kernel);
	free(result->reference);
	strlist_release(&result->tags);
	memset(result, 0, sizeof(*result));
}
