/* One image from one kernel: backend resolve -> fetch into the cache ->
 * unpack and lay out -> image build, for each architecture asked for ->
 * image index -> output and push (publish.c). */
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

/* The latest time an image config can state: 9999-12-31T23:59:59Z. */
#define MAX_EPOCH 253402300799LL

int repack_source_date_epoch(struct repack_ctx *ctx, bool *set, time_t *epoch)
{
	const char *text = getenv("SOURCE_DATE_EPOCH");
	long long value = 0;

	*set = text && *text;
	if (!*set)
		return 0;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9' || value > MAX_EPOCH)
			return repack_fail(ctx, REPACK_EUSAGE,
					   "SOURCE_DATE_EPOCH='%s' is not a number of seconds from 0 to %lld",
					   text, MAX_EPOCH);
		value = value * 10 + (*p - '0');
	}
	if (value > MAX_EPOCH)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "SOURCE_DATE_EPOCH='%s' is not a number of seconds from 0 to %lld",
				   text, MAX_EPOCH);
	*epoch = (time_t)value;
	return 0;
}

/* SOURCE_DATE_EPOCH when set, else the newest package build time. */
static int choose_timestamp(struct repack_ctx *ctx, const struct kernel_build *kernel,
			    const struct fetch_item *items, time_t *created)
{
	bool set;
	int rc = repack_source_date_epoch(ctx, &set, created);

	if (rc || set)
		return rc;
	*created = 0;
	for (size_t i = 0; i < kernel->package_count; i++) {
		time_t t;

		rc = unpack_build_time(ctx, items[i].path, kernel->packages[i].filename, &t);
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

/* One architecture's build: its packages, laid-out files and image. */
struct arch_build {
	struct kernel_build kernel;
	struct fetch_item *items;
	size_t item_count;        /* kernel.package_count, kept when kernel moves */
	struct layout layout;
	bool layout_ready;
	char *workdir;            /* under the run's work directory */
	struct image_input *inputs;
	struct image_meta meta;
	struct image image;
};

static void arch_build_release(struct arch_build *ab)
{
	image_release(&ab->image);
	if (ab->layout_ready)
		layout_release(&ab->layout);
	for (size_t i = 0; i < ab->item_count; i++)
		fetch_item_release(&ab->items[i]);
	free(ab->items);
	free(ab->inputs);
	free(ab->workdir);
	kernel_build_release(&ab->kernel);
	memset(ab, 0, sizeof(*ab));
}

static int make_workdir(struct repack_ctx *ctx, char **workdir)
{
	char *prefix = xasprintf(WORK_PREFIX ".%ld", (long)getpid());
	int rc;

	remove_stale_workdirs();
	rc = make_temp_dir(ctx, prefix, workdir);
	free(prefix);
	return rc;
}

/* Resolve and fetch the packages of one architecture. */
static int resolve_arch(struct repack_ctx *ctx, const struct build_request *request,
			const char *arch, const char *version, struct arch_build *ab)
{
	struct backend_options opts = request->opts;
	struct kernel_build *kernel = &ab->kernel;
	int rc;

	opts.arch = arch;
	rc = request->backend->resolve(ctx, &opts, version, kernel);
	if (rc)
		return rc;
	/* A fixed package order makes kernel-dev.tar reproducible. */
	qsort(kernel->packages, kernel->package_count, sizeof(*kernel->packages),
	      compare_packages);
	repack_log(ctx, REPACK_LOG_INFO, "%s %s (%s): %zu package%s", request->backend->name,
		   kernel->kernel.version, kernel->kernel.arch, kernel->package_count,
		   kernel->package_count == 1 ? "" : "s");
	ab->items = xcalloc(kernel->package_count, sizeof(*ab->items));
	ab->item_count = kernel->package_count;
	return fetch_packages(ctx, kernel, ab->items);
}

/* Resolve, fetch, lay out and build the image of one architecture in a
 * subdirectory of workdir. */
static int build_arch(struct repack_ctx *ctx, const struct build_request *request,
		      const char *arch, const char *version, const char *workdir,
		      struct arch_build *ab)
{
	struct kernel_build *kernel = &ab->kernel;
	time_t created;
	int rc = resolve_arch(ctx, request, arch, version, ab);

	if (rc == 0)
		rc = choose_timestamp(ctx, kernel, ab->items, &created);
	if (rc)
		return rc;
	ab->workdir = xasprintf("%s/%s", workdir, kernel->kernel.arch);
	rc = mkdir_p(ctx, ab->workdir);
	if (rc)
		return rc;
	layout_init(&ab->layout, ctx, ab->workdir, created, request->opts.no_headers);
	ab->layout_ready = true;
	rc = lay_out(ctx, request, kernel, ab->items, &ab->layout);
	if (rc)
		return rc;
	ab->inputs = xcalloc(kernel->package_count, sizeof(*ab->inputs));
	fill_meta(request, kernel, &ab->layout, ab->inputs, &ab->meta);
	ab->meta.compression = request->compression;
	return image_build(ctx, &ab->layout.files, &ab->meta, ab->workdir, &ab->image);
}

/* Build every architecture into set. The first resolves the version
 * asked for; the others take the exact version it found, so the index
 * joins one kernel version. */
static int build_all(struct repack_ctx *ctx, const struct build_request *request,
		     struct arch_build *builds, size_t count, const char *workdir,
		     struct image_set *set)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < count; i++) {
		const char *arch = request->arch_count ? request->arches[i] : request->opts.arch;
		const char *version = i == 0 ? request->version : builds[0].kernel.kernel.version;

		rc = build_arch(ctx, request, arch, version, workdir, &builds[i]);
		if (rc && i > 0)
			repack_wrap(ctx, rc, "cannot build %s %s for %s",
				    request->backend->name, version, arch);
		if (rc == 0)
			image_set_add(set, &builds[i].image, &builds[i].meta,
				      &builds[i].layout.files);
	}
	return rc;
}

static void fill_result(struct build_result *result, struct arch_build *builds,
			size_t count, const struct image_set *set)
{
	memcpy(result->manifest_digest, image_set_top(set)->digest,
	       sizeof(result->manifest_digest));
	for (size_t i = 0; i < set->tag_count; i++)
		strlist_push(&result->tags, set->tags[i].name);
	for (size_t i = 0; i < count; i++)
		strlist_push(&result->arches, builds[i].kernel.kernel.arch);
	/* The result keeps the first architecture's kernel. */
	result->kernel = builds[0].kernel;
	memset(&builds[0].kernel, 0, sizeof(builds[0].kernel));
}

int repack_build(struct repack_ctx *ctx, const struct build_request *request,
		 struct build_result *result)
{
	size_t count = request->arch_count ? request->arch_count : 1;
	struct arch_build *builds = xcalloc(count, sizeof(*builds));
	struct image_set set;
	char *workdir = NULL;
	int rc;

	memset(result, 0, sizeof(*result));
	image_set_init(&set);
	rc = build_check_targets(ctx, request);
	if (rc == 0)
		rc = make_workdir(ctx, &workdir);
	if (rc == 0)
		rc = build_all(ctx, request, builds, count, workdir, &set);
	if (rc == 0)
		rc = image_set_finish(ctx, &set, workdir);
	if (rc == 0)
		rc = build_publish(ctx, request, &set, result);
	if (rc == 0)
		fill_result(result, builds, count, &set);

	image_set_release(&set);
	for (size_t i = 0; i < count; i++)
		arch_build_release(&builds[i]);
	free(builds);
	if (workdir) {
		rm_rf(workdir);
		free(workdir);
	}
	return rc;
}

void build_result_release(struct build_result *result)
{
	kernel_build_release(&result->kernel);
	free(result->reference);
	free(result->pushed);
	strlist_release(&result->tags);
	strlist_release(&result->arches);
	memset(result, 0, sizeof(*result));
}
