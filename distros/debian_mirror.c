/* Debian backend support: where the mirrors are, which packages make a
 * kernel, and the error for a version that does not exist. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debian_archive.h"
#include "meta.h"
#include "table.h"

static char *strip_slash(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

/* A suite belongs to Debian when its codename is in debian.releases. */
static bool debian_suite(const struct table *releases, const char *suite)
{
	size_t n = strcspn(suite, "-/");
	char *codename = xstrndup(suite, n);
	bool known = table_find(releases, codename) != NULL;

	free(codename);
	return known;
}

static bool security_suite(const char *suite)
{
	return str_ends_with(suite, "-security") || str_ends_with(suite, "/updates");
}

/* Take the mirrors from the Debian entries of the host's apt sources. */
static void mirrors_from_apt(struct repack_ctx *ctx, char **mirror, char **security)
{
	const char *dir = getenv("REPACK_APT_DIR");
	struct apt_sources sources;
	struct table releases;

	if (table_load(ctx, "debian.releases", &releases))
		return;
	apt_sources_read(ctx, dir && *dir ? dir : "/etc/apt", &sources);
	for (size_t i = 0; i < sources.count; i++) {
		const struct apt_source *s = &sources.items[i];

		for (size_t j = 0; j < s->suites.count; j++) {
			const char *suite = s->suites.items[j];

			if (!debian_suite(&releases, suite))
				continue;
			if (security_suite(suite) && !*security)
				*security = strip_slash(s->uri);
			else if (!security_suite(suite) && !*mirror)
				*mirror = strip_slash(s->uri);
		}
	}
	apt_sources_release(&sources);
	table_release(&releases);
}

void debian_find_mirrors(struct repack_ctx *ctx, const struct backend_options *opts,
			 const struct table *conf, char **mirror, char **security)
{
	const struct table_row *row;

	*mirror = *security = NULL;
	if (opts->security_mirror)
		*security = strip_slash(opts->security_mirror);
	if (opts->mirror) {
		*mirror = strip_slash(opts->mirror);
		/* A given mirror keeps the security suite beside it, never on a
		 * host the user did not name. */
		if (!*security)
			*security = str_ends_with(*mirror, "/debian")
				? xasprintf("%s-security", *mirror) : xstrdup(*mirror);
		return;
	}
	mirrors_from_apt(ctx, mirror, security);
	if (!*mirror && (row = table_find(conf, "mirror")))
		*mirror = strip_slash(table_cell(row, 1));
	if (!*security && (row = table_find(conf, "security-mirror")))
		*security = strip_slash(table_cell(row, 1));
	repack_log(ctx, REPACK_LOG_DEBUG, "debian mirror %s, security mirror %s",
		   *mirror, *security);
}

int debian_add_packages(struct repack_ctx *ctx, const struct debian_index *index,
			const char *kernel_flavour, bool no_headers,
			struct kernel_build *build)
{
	static const char *const header_prefixes[] = { "linux-headers-", "linux-kbuild-", NULL };
	static const char *const no_prefixes[] = { NULL };
	const char *version = build->kernel.version;
	const char *kver = build->kernel.kernel_release;
	char *name = xasprintf("linux-image-%s", kver);
	char *unsigned_name = xasprintf("linux-image-%s-unsigned", kver);
	char *headers_name = xasprintf("linux-headers-%s", kver);
	const struct debian_pkg *image, *headers;
	int rc;

	(void)kernel_flavour;
	image = debian_index_find(index, name, "=", version);
	if (!image)
		image = debian_index_find(index, unsigned_name, "=", version);
	if (!image) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND, "debian: %s %s vanished from the index",
				 name, version);
		goto out;
	}
	rc = archive_add_with_depends(ctx, index, image, no_prefixes, ROLE_IMAGE, build);
	if (rc || no_headers)
		goto out;
	headers = debian_index_find(index, headers_name, "=", version);
	if (!headers) {
		repack_log(ctx, REPACK_LOG_WARN,
			   "debian: no %s %s in the searched suites; the image has no kernel-dev.tar",
			   headers_name, version);
		goto out;
	}
	rc = archive_add_with_depends(ctx, index, headers, header_prefixes, ROLE_HEADERS, build);
out:
	free(name);
	free(unsigned_name);
	free(headers_name);
	return rc;
}

int debian_not_found(struct repack_ctx *ctx, const struct strlist *suites,
		     const char *kernel_flavour, const char *wanted,
		     const struct kernel_list *list)
{
	struct strbuf nearest = STRBUF_INIT;
	struct strbuf searched = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < suites->count; i++)
		strbuf_addf(&searched, "%s%s", i ? ", " : "", suites->items[i]);
	if (list->count == 0) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "debian: no %s kernels at all in %s (check --flavour and --arch)",
				 kernel_flavour, searched.buf);
		goto out;
	}
	kernel_list_nearest(list, wanted, debver_compare, &nearest);
	rc = repack_fail(ctx, REPACK_ENOTFOUND,
			 "debian: no %s kernel %s in %s; nearest: %s (try 'repack list debian --release %s', or another --release)",
			 kernel_flavour, wanted, searched.buf, nearest.buf, suites->items[0]);
out:
	strbuf_release(&nearest);
	strbuf_release(&searched);
	return rc;
}
