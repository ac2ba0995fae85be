/* Koji's package tree: packages/<source>/<version>/<release>/<arch>/ as
 * Apache index pages. It keeps every build, also those no repository
 * carries any more, but lists no checksums: each package is downloaded,
 * checked by reading it whole (rpm header and payload digests) and stored
 * in the cache under its sha256. A small record per URL under
 * <cache>/koji/ lets later runs find it there without downloading it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "htmlindex.h"
#include "rpm_kernel.h"
#include "unpack.h"

/* Choose the newest release directory under koji/<source>/<version>/. */
static int newest_release(struct repack_ctx *ctx, const struct koji_request *req,
			  char **release)
{
	struct strlist links = STRLIST_INIT;
	char *url = xasprintf("%s/%s/%s/", req->koji, req->source, req->version);
	int rc = htmlindex_fetch(ctx, url, &links);

	*release = NULL;
	for (size_t i = 0; rc == 0 && i < links.count; i++) {
		char *name = links.items[i];
		size_t n = strlen(name);

		if (n < 2 || name[n - 1] != '/')
			continue;
		name[n - 1] = '\0';
		if (req->release_suffix && !str_ends_with(name, req->release_suffix))
			continue;
		if (!*release || rpmver_compare_evr(NULL, "0", name, NULL, "0", *release) > 0) {
			free(*release);
			*release = xstrdup(name);
		}
	}
	if (rc == 0 && !*release)
		rc = repack_fail(ctx, REPACK_EMISSING, "%s: Koji has no %s build of %s%s%s at %s",
				 req->distro, req->source, req->version,
				 req->release_suffix ? " ending in " : "",
				 req->release_suffix ? req->release_suffix : "", url);
	strlist_release(&links);
	free(url);
	return rc;
}

/* The package name of "NAME-VERSION-RELEASE.ARCH.rpm", or NULL when file
 * is not a package of that build; caller frees. */
static char *package_name(const char *file, const char *version, const char *release,
			  const char *arch)
{
	char *suffix = xasprintf("-%s-%s.%s.rpm", version, release, arch);
	size_t n = strlen(file), s = strlen(suffix);
	char *name = NULL;

	if (n > s && strcmp(file + n - s, suffix) == 0)
		name = xstrndup(file, n - s);
	free(suffix);
	return name;
}

/* True when name is a package of the kernel to download: any of names,
 * except the meta package when the build has a kernel-core. */
static bool wanted(const struct rpm_kernel_names *names, bool has_core, const char *name)
{
	if (strcmp(name, names->meta) == 0)
		return !has_core;
	for (size_t i = 0; names->list[i]; i++)
		if (strcmp(names->list[i], name) == 0)
			return true;
	return false;
}

/* True when one of links is the build's kernel-core package. */
static bool lists_core(const struct strlist *links, const struct koji_request *req,
		       const char *release, const struct rpm_kernel_names *names)
{
	char *file = xasprintf("%s-%s-%s.%s.rpm", names->core, req->version, release, req->arch);
	bool found = strlist_contains(links, file);

	free(file);
	return found;
}

static int accept_entry(void *user, const struct unpack_entry *entry)
{
	(void)user;
	(void)entry;
	return 0;
}

static char *cache_root(struct repack_ctx *ctx)
{
	return ctx->cache_dir ? xstrdup(ctx->cache_dir) : cache_default_dir();
}

/* Path of the record that maps url to its sha256; caller frees. */
static char *record_path(struct repack_ctx *ctx, const char *url)
{
	char digest[SHA256_HEX_LEN + 1];
	char *root = cache_root(ctx);
	char *path;

	sha256_buffer(url, strlen(url), digest);
	path = xasprintf("%s/koji/%s", root, digest);
	free(root);
	return path;
}

/* True when an earlier run stored url in the cache; fills sha256 and
 * size. fetch_into_cache checks the file again before it is used. */
static bool recorded(struct repack_ctx *ctx, const char *url, char sha256[SHA256_HEX_LEN + 1],
		     uint64_t *size)
{
	char *path = record_path(ctx, url);
	char *text = NULL, *cached = NULL;
	size_t len;
	unsigned long long n;
	bool found = false;

	if (access(path, R_OK) == 0 && read_file(ctx, path, &text, &len) == 0 &&
	    sscanf(text, "%64s %llu", sha256, &n) == 2 && strlen(sha256) == SHA256_HEX_LEN) {
		*size = n;
		cached = cache_path(ctx, sha256);
		found = access(cached, R_OK) == 0;
	}
	free(cached);
	free(text);
	free(path);
	return found;
}

/* Move the checked download at tmp into the cache and record it. */
static int store(struct repack_ctx *ctx, const char *url, const char *tmp,
		 const char sha256[SHA256_HEX_LEN + 1], uint64_t size)
{
	char *dest = cache_path(ctx, sha256);
	char *dir = xstrndup(dest, (size_t)(strrchr(dest, '/') - dest));
	char *record = record_path(ctx, url);
	char *record_dir = xstrndup(record, (size_t)(strrchr(record, '/') - record));
	char *line = xasprintf("%s %llu\n", sha256, (unsigned long long)size);
	int rc = mkdir_p(ctx, dir);

	if (rc == 0 && rename(tmp, dest) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot move '%s' to '%s': %s", tmp, dest,
				 strerror(errno));
	if (rc == 0)
		rc = mkdir_p(ctx, record_dir);
	if (rc == 0)
		rc = write_file_atomic(ctx, record, line, strlen(line));
	free(line);
	free(record_dir);
	free(record);
	free(dir);
	free(dest);
	return rc;
}

/* Download url, check it as an rpm and store it in the cache. */
static int download_checked(struct repack_ctx *ctx, const char *url, const char *file,
			    char sha256[SHA256_HEX_LEN + 1], uint64_t *size)
{
	char *root = cache_root(ctx);
	char *dir = xasprintf("%s/tmp", root);
	char *tmp = xasprintf("%s/koji-%ld-%s", dir, (long)getpid(), file);
	int rc;

	if (recorded(ctx, url, sha256, size)) {
		repack_log(ctx, REPACK_LOG_DEBUG, "%s: in the cache from an earlier run", url);
		rc = 0;
		goto out;
	}
	rc = mkdir_p(ctx, dir);
	if (rc == 0)
		rc = fetch_to_file(ctx, url, tmp, NULL, 0);
	if (rc == 0)
		rc = unpack_package(ctx, tmp, file, accept_entry, NULL);
	if (rc == 0)
		rc = sha256_file(ctx, tmp, sha256, size);
	if (rc == 0)
		rc = store(ctx, url, tmp, sha256, *size);
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	free(dir);
	free(root);
	return rc;
}

static int add_package(struct repack_ctx *ctx, const struct koji_request *req,
		       const char *dir, const char *release, const char *file,
		       char *name, struct rpm_index *index)
{
	char *escaped = htmlindex_escape(file);
	char *url = xasprintf("%s%s", dir, escaped);
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size = 0;
	struct rpm_package *pkg;
	int rc = download_checked(ctx, url, file, sha256, &size);

	free(url);
	if (rc) {
		free(escaped);
		free(name);
		return rc;
	}
	pkg = rpm_index_add(index);
	pkg->name = name;
	pkg->arch = xstrdup(req->arch);
	pkg->epoch = xstrdup("0");
	pkg->version = xstrdup(req->version);
	pkg->release = xstrdup(release);
	pkg->location = escaped; /* relative to base, as in primary.xml */
	pkg->base = xstrndup(dir, strlen(dir) - 1);
	pkg->origin = xstrdup("koji");
	pkg->repo = xstrdup("koji");
	memcpy(pkg->sha256, sha256, sizeof(pkg->sha256));
	pkg->size = size;
	return 0;
}

int koji_load_build(struct repack_ctx *ctx, const struct koji_request *req,
		    const struct rpm_kernel_names *names, struct rpm_index *index)
{
	struct strlist links = STRLIST_INIT;
	char *release = NULL, *dir = NULL;
	size_t added = 0;
	bool has_core;
	int rc = 0;

	if (req->release)
		release = xstrdup(req->release);
	else
		rc = newest_release(ctx, req, &release);
	if (rc)
		goto out;
	dir = xasprintf("%s/%s/%s/%s/%s/", req->koji, req->source, req->version, release,
			req->arch);
	repack_log(ctx, REPACK_LOG_INFO, "looking %s %s-%s up in Koji at %s", req->source,
		   req->version, release, dir);
	rc = htmlindex_fetch(ctx, dir, &links);
	has_core = rc == 0 && lists_core(&links, req, release, names);
	for (size_t i = 0; rc == 0 && i < links.count; i++) {
		char *name = package_name(links.items[i], req->version, release, req->arch);

		if (!name || !wanted(names, has_core, name)) {
			free(name);
			continue;
		}
		rc = add_package(ctx, req, dir, release, links.items[i], name, index);
		added += rc == 0;
	}
	if (rc == 0 && added == 0)
		rc = repack_fail(ctx, REPACK_EMISSING, "%s: Koji lists no %s packages at %s",
				 req->distro, names->meta, dir);
out:
	strlist_release(&links);
	free(dir);
	free(release);
	return rc;
}
