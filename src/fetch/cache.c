/* The download cache: files stored under <cache>/sha256/<xx>/<digest>,
 * checked again on every use and replaced when they no longer match. */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "transfer.h"

char *cache_default_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	/* The XDG Base Directory Specification requires ignoring relative paths. */
	if (xdg && xdg[0] == '/')
		return xasprintf("%s/repack", xdg);
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return xstrdup(".cache/repack");
	return xasprintf("%s/.cache/repack", home);
}

char *cache_path(struct repack_ctx *ctx, const char *sha256)
{
	char *dir = ctx->cache_dir ? NULL : cache_default_dir();
	char *digest = xstrdup(sha256);
	char *path;

	for (char *p = digest; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	path = xasprintf("%s/sha256/%.2s/%s", ctx->cache_dir ? ctx->cache_dir : dir,
			 digest, digest);
	free(digest);
	free(dir);
	return path;
}

static const char *item_label(const struct fetch_item *item)
{
	return item->label ? item->label : item->url;
}

void fetch_item_release(struct fetch_item *item)
{
	free(item->path);
	item->path = NULL;
}

/* Remove a cache entry that no longer matches its item, so it is
 * downloaded again. */
static int cache_evict(struct repack_ctx *ctx, const struct fetch_item *item,
		       const char *problem)
{
	repack_log(ctx, REPACK_LOG_WARN, "%s: cache entry '%s' %s; downloading it again",
		   item_label(item), item->path, problem);
	if (unlink(item->path) < 0 && errno != ENOENT)
		return repack_fail(ctx, REPACK_EFAIL, "cannot remove corrupt cache entry '%s': %s",
				   item->path, strerror(errno));
	return 0;
}

/* Set item->cached when the cache contains a file that matches the item,
 * and remove a file that does not match. */
static int cache_lookup(struct repack_ctx *ctx, struct fetch_item *item)
{
	char actual[SHA256_HEX_LEN + 1], problem[160];
	uint64_t size = 0;
	struct stat st;
	int rc;

	if (stat(item->path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return repack_fail(ctx, REPACK_EFAIL, "cannot stat cache entry '%s': %s",
				   item->path, strerror(errno));
	}
	if (!S_ISREG(st.st_mode))
		return repack_fail(ctx, REPACK_EFAIL,
				   "cache entry '%s' is not a regular file; remove it",
				   item->path);

	if (item->size && (uint64_t)st.st_size != item->size) {
		snprintf(problem, sizeof(problem), "has %llu bytes, expected %llu",
			 (unsigned long long)st.st_size, (unsigned long long)item->size);
		return cache_evict(ctx, item, problem);
	}
	rc = sha256_file(ctx, item->path, actual, &size);
	if (rc)
		return rc;
	if (strcasecmp(actual, item->sha256) != 0) {
		snprintf(problem, sizeof(problem), "has sha256 %s", actual);
		return cache_evict(ctx, item, problem);
	}
	item->cached = true;
	repack_progress(ctx, item_label(item), size, size);
	return 0;
}

static int cache_prepare_item(struct repack_ctx *ctx, struct fetch_item *item)
{
	char *dir;
	int rc;

	if (!sha256_hex_valid(item->sha256))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "%s: invalid sha256 '%s' for %s (expected 64 hexadecimal digits)",
				   item_label(item), item->sha256 ? item->sha256 : "(none)",
				   item->url);
	free(item->path);
	item->path = cache_path(ctx, item->sha256);
	item->cached = false;
	rc = cache_lookup(ctx, item);
	if (rc || item->cached)
		return rc;

	dir = xstrndup(item->path, (size_t)(strrchr(item->path, '/') - item->path));
	rc = mkdir_p(ctx, dir);
	free(dir);
	return rc;
}

/* True when an earlier item of the same call downloads the same file. */
static bool download_is_shared(const struct fetch_item *items, size_t index)
{
	for (size_t j = 0; j < index; j++)
		if (!items[j].cached &&
		    strcasecmp(items[j].sha256, items[index].sha256) == 0)
			return true;
	return false;
}

int fetch_into_cache(struct repack_ctx *ctx, struct fetch_item *items,
		     size_t count)
{
	struct transfer *list = xcalloc(count, sizeof(*list));
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < count; i++) {
		struct fetch_item *item = &items[i];

		rc = cache_prepare_item(ctx, item);
		if (rc)
			goto out;
		if (item->cached || download_is_shared(items, i))
			continue;
		if (ctx->offline) {
			rc = repack_fail(ctx, REPACK_ENET,
					 "%s: not in the cache ('%s') and offline mode forbids downloading %s",
					 item_label(item), item->path, item->url);
			goto out;
		}

		transfer_init(&list[n]);
		list[n].url = item->url;
		list[n].label = item_label(item);
		list[n].dest = item->path;
		list[n].sha256 = item->sha256;
		list[n].size = item->size;
		list[n].private_part_on_conflict = true;
		n++;
	}
	rc = transfer_run(ctx, list, n, ctx->jobs);

out:
	for (size_t i = 0; i < n; i++)
		transfer_release(&list[i]);
	free(list);
	return rc;
}
