/* Ubuntu mainline backend: upstream kernels built by Ubuntu's kernel team
 * and published as plain directories (https://kernel.ubuntu.com/mainline/).
 *
 * The root is an Apache index page listing one directory per version
 * (v6.1/, v6.1.5/, v6.2-rc3/). Up to v5.6.17 and v5.7-rc7 a version
 * directory contains the packages of every architecture, CHECKSUMS and
 * BUILT. Later ones contain one subdirectory per architecture (amd64/,
 * arm64/) with its packages, CHECKSUMS, CHECKSUMS.gpg and status. The
 * package checksums come from the "# Checksums-Sha256:" block of
 * CHECKSUMS, whose detached signature CHECKSUMS.gpg is checked with the
 * Kernel PPA key when a keyring is available. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "checksums.h"
#include "fetch.h"
#include "htmlindex.h"
#include "image.h"
#include "mainline.h"
#include "table.h"
#include "verify.h"

#define MAX_CHECKSUMS_SIZE (4u << 20)
#define MAX_SIGNATURE_SIZE (1u << 20)
/* How many releases "latest" tries before it reports the newest as
 * unavailable. */
#define MAX_RELEASES_TRIED 5

struct mainline_config {
	char *root;            /* without the trailing '/' */
	char *source;          /* the default root from data/, for the label */
	char *keyring;         /* NULL when none is available */
	char *flavour;
	char *default_flavour;
	const char *arch;
	bool require_signatures;
	bool no_headers;
};

struct version_list {
	struct mainline_version *items;
	size_t count;
};

static void mainline_config_release(struct mainline_config *cfg)
{
	free(cfg->root);
	free(cfg->source);
	free(cfg->keyring);
	free(cfg->flavour);
	free(cfg->default_flavour);
	memset(cfg, 0, sizeof(*cfg));
}

static void version_list_release(struct version_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		mainline_version_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static char *strip_slashes(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

static bool valid_flavour(const char *flavour)
{
	if (!*flavour || *flavour == '-')
		return false;
	for (const char *p = flavour; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

static const char *conf_value(const struct table *conf, const char *key)
{
	const struct table_row *row = table_find(conf, key);

	return row ? table_cell(row, 1) : "";
}

static int mainline_config_init(struct repack_ctx *ctx, const struct backend_options *opts,
				struct mainline_config *cfg)
{
	struct table conf;
	const char *keyring;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	rc = table_load(ctx, "mainline.conf", &conf);
	if (rc)
		return rc;
	cfg->arch = opts->arch ? opts->arch : "amd64";
	cfg->require_signatures = opts->require_signatures;
	cfg->no_headers = opts->no_headers;
	if (opts->release)
		repack_log(ctx, REPACK_LOG_WARN,
			   "mainline: the builds have no releases; --release %s is ignored",
			   opts->release);
	cfg->root = strip_slashes(opts->mirror ? opts->mirror : conf_value(&conf, "root"));
	cfg->source = xstrdup(conf_value(&conf, "root"));
	cfg->default_flavour = xstrdup(conf_value(&conf, "default-flavour"));
	cfg->flavour = xstrdup(opts->flavour ? opts->flavour : cfg->default_flavour);
	keyring = conf_value(&conf, "keyring");
	if (opts->keyring)
		cfg->keyring = xstrdup(opts->keyring);
	else if (*keyring && access(keyring, R_OK) == 0)
		cfg->keyring = xstrdup(keyring);

	if (!*cfg->root)
		rc = repack_fail(ctx, REPACK_EFAIL, "%s/mainline.conf sets no root URL (add a 'root URL' row)",
				 repack_data_dir());
	else if (!valid_flavour(cfg->flavour))
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "mainline: invalid flavour '%s' (use a package-name flavour such as generic, lowlatency or generic-64k)",
				 cfg->flavour);
	table_release(&conf);
	return rc;
}

static int compare_versions_newest_first(const void *a, const void *b)
{
	return mainline_version_compare(b, a);
}

/* Read the version directories of the root index, newest first. */
static int load_versions(struct repack_ctx *ctx, const struct mainline_config *cfg,
			 struct version_list *list)
{
	struct strlist entries = STRLIST_INIT;
	char *url = xasprintf("%s/", cfg->root);
	int rc;

	repack_log(ctx, REPACK_LOG_INFO, "reading the mainline index %s", url);
	rc = htmlindex_fetch(ctx, url, &entries);
	for (size_t i = 0; rc == 0 && i < entries.count; i++) {
		const char *name = entries.items[i];
		struct mainline_version v;

		/* Only "v<version>/" directories: not daily/, files or links. */
		if (name[0] != 'v' || !str_ends_with(name, "/") || strchr(name, '/') != name + strlen(name) - 1)
			continue;
		if (mainline_version_parse(name, &v) != 0)
			continue;
		list->items = xrealloc(list->items, (list->count + 1) * sizeof(*list->items));
		list->items[list->count++] = v;
	}
	if (rc == 0 && list->count == 0)
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "mainline: %s lists no version directories such as v6.1.5/ (check --mirror: it must name the mainline root)",
				 url);
	if (rc == 0 && list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items), compare_versions_newest_first);
	strlist_release(&entries);
	free(url);
	return rc;
}

static char *make_tag(const struct mainline_config *cfg, const struct mainline_version *v)
{
	char *tag = image_tag_sanitise(v->text);
	char *full;

	if (strcmp(cfg->flavour, cfg->default_flavour) == 0)
		return tag;
	full = xasprintf("%s-%s", tag, cfg->flavour);
	free(tag);
	return full;
}

/* Fill entry for v; the kernel release follows the package naming rule
 * because the packages are not read for a listing. */
static void fill_entry(const struct mainline_config *cfg, const struct mainline_version *v,
		       struct kernel_entry *entry)
{
	memset(entry, 0, sizeof(*entry));
	entry->version = xstrdup(v->text);
	entry->tag = make_tag(cfg, v);
	entry->kernel_release = mainline_kernel_release(v, cfg->flavour);
	entry->release = xstrdup("mainline");
	entry->flavour = xstrdup(cfg->flavour);
	entry->arch = xstrdup(cfg->arch);
}

static int mainline_list(struct repack_ctx *ctx, const struct backend_options *opts,
			 struct kernel_list *list)
{
	struct mainline_config cfg;
	struct version_list versions = { 0 };
	int rc = mainline_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_versions(ctx, &cfg, &versions);
	for (size_t i = 0; rc == 0 && i < versions.count; i++) {
		struct kernel_entry entry;

		fill_entry(&cfg, &versions.items[i], &entry);
		kernel_list_push(list, &entry);
	}
	version_list_release(&versions);
	mainline_config_release(&cfg);
	return rc;
}

/* Fail with REPACK_ENOTFOUND naming the versions nearest to request. */
static int not_found(struct repack_ctx *ctx, const struct mainline_config *cfg,
		     const struct version_list *versions, const char *request)
{
	struct mainline_version wanted;
	struct strbuf nearest = STRBUF_INIT;
	size_t at = 0, from, to;
	int rc;

	/* The list is newest first: find where the request would sit. */
	if (mainline_version_parse(request, &wanted) == 0) {
		while (at < versions->count &&
		       mainline_version_compare(&versions->items[at], &wanted) > 0)
			at++;
		mainline_version_release(&wanted);
	}
	from = at >= 2 ? at - 2 : 0;
	to = at + 2 < versions->count ? at + 2 : versions->count;
	for (size_t i = from; i < to; i++)
		strbuf_addf(&nearest, "%s%s", i > from ? ", " : "", versions->items[i].text);
	rc = repack_fail(ctx, REPACK_ENOTFOUND,
			 "mainline: no kernel %s in %s/; nearest: %s (try 'repack list mainline')",
			 request, cfg->root, nearest.buf ? nearest.buf : "none");
	strbuf_release(&nearest);
	return rc;
}

static bool is_arch_dir(const char *entry)
{
	static const char *const arches[] = {
		"amd64/", "arm64/", "armhf/", "i386/", "ppc64el/", "riscv64/", "s390x/", NULL,
	};

	for (size_t i = 0; arches[i]; i++)
		if (strcmp(entry, arches[i]) == 0)
			return true;
	return false;
}

/* Append to linked the entries below dir ("amd64/x.deb" gives "x.deb"):
 * the build report at the top of a version page links every package. */
static void entries_below(const struct strlist *entries, const char *dir,
			  struct strlist *linked)
{
	for (size_t i = 0; i < entries->count; i++) {
		const char *name = entries->items[i];

		if (str_starts_with(name, dir) && name[strlen(dir)] && !strchr(name + strlen(dir), '/'))
			strlist_push(linked, name + strlen(dir));
	}
}

/* List the arch subdirectory of a per-architecture version. Where its page
 * cannot be read, the packages the version page links under it stand in. */
static int list_arch_dir(struct repack_ctx *ctx, const struct mainline_config *cfg,
			 const struct mainline_version *v, const char *version_url,
			 const char *arch_dir, const char *dir_url, struct strlist *entries)
{
	struct strlist linked = STRLIST_INIT;
	int rc;

	entries_below(entries, arch_dir, &linked);
	strlist_release(entries);
	rc = htmlindex_fetch(ctx, dir_url, entries);
	if ((rc == REPACK_EMISSING || rc == REPACK_ENET) && linked.count > 0) {
		repack_log(ctx, REPACK_LOG_WARN, "%s; using the packages %s links instead",
			   ctx->error, version_url);
		strlist_release(entries);
		*entries = linked;
		memset(&linked, 0, sizeof(linked));
		rc = 0;
	} else if (rc == REPACK_EMISSING) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "mainline: %s is unavailable for %s: %s links to %s but the server has no such directory",
				 v->text, cfg->arch, version_url, arch_dir);
	}
	strlist_release(&linked);
	return rc;
}

/* Find the directory holding the version's packages for cfg->arch and
 * list it: the arch subdirectory where the version has them, else the
 * version directory itself. *dir_url ends with '/'; caller frees. */
static int list_build_dir(struct repack_ctx *ctx, const struct mainline_config *cfg,
			  const struct mainline_version *v, char **dir_url,
			  struct strlist *entries)
{
	char *escaped = htmlindex_escape(v->text);
	char *version_url = xasprintf("%s/v%s/", cfg->root, escaped);
	char *arch_dir = xasprintf("%s/", cfg->arch);
	bool per_arch = false, other_arches = false;
	int rc = htmlindex_fetch(ctx, version_url, entries);

	for (size_t i = 0; rc == 0 && i < entries->count; i++) {
		per_arch |= str_starts_with(entries->items[i], arch_dir);
		other_arches |= is_arch_dir(entries->items[i]);
	}
	if (rc == 0 && per_arch) {
		*dir_url = xasprintf("%s%s", version_url, arch_dir);
		rc = list_arch_dir(ctx, cfg, v, version_url, arch_dir, *dir_url, entries);
	} else if (rc == 0 && other_arches) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "mainline: %s is unavailable for %s: %s has no %s directory (the build was not made for this architecture)",
				 v->text, cfg->arch, version_url, arch_dir);
	} else if (rc == 0) {
		*dir_url = xstrdup(version_url);
	}
	free(arch_dir);
	free(version_url);
	free(escaped);
	return rc;
}

/* Verify CHECKSUMS with CHECKSUMS.gpg when a keyring is available; without
 * one, or without a signature, warn, or fail under --require-signatures. */
static int verify_checksums(struct repack_ctx *ctx, const struct mainline_config *cfg,
			    const char *url, const char *text, size_t len)
{
	char *sig_url = xasprintf("%s.gpg", url);
	char *sig = NULL;
	size_t sig_len = 0;
	int rc = 0;

	if (!cfg->keyring) {
		if (cfg->require_signatures)
			rc = repack_fail(ctx, REPACK_EVERIFY,
					 "%s: no Kernel PPA keyring to verify it with (pass --keyring FILE)",
					 url);
		else
			repack_log(ctx, REPACK_LOG_WARN,
				   "no Kernel PPA keyring: %s is used without verifying its signature",
				   url);
		goto out;
	}
	rc = fetch_to_memory(ctx, sig_url, MAX_SIGNATURE_SIZE, &sig, &sig_len);
	if (rc == REPACK_EMISSING && !cfg->require_signatures) {
		repack_log(ctx, REPACK_LOG_WARN,
			   "%s is not signed (no CHECKSUMS.gpg); its sums are used unverified", url);
		rc = 0;
		goto out;
	}
	if (rc == REPACK_EMISSING)
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "%s is not signed (no %s) and --require-signatures is set",
				 url, sig_url);
	if (rc == 0) {
		rc = verify_detached(ctx, cfg->keyring, text, len, sig, sig_len);
		if (rc)
			repack_wrap(ctx, rc, "%s", sig_url);
	}
out:
	free(sig);
	free(sig_url);
	return rc;
}

/* Fetch, verify and parse the CHECKSUMS of the build directory. */
static int load_checksums(struct repack_ctx *ctx, const struct mainline_config *cfg,
			  const char *dir_url, struct checksums *sums)
{
	char *url = xasprintf("%sCHECKSUMS", dir_url);
	char *text = NULL;
	size_t len = 0;
	int rc = fetch_to_memory(ctx, url, MAX_CHECKSUMS_SIZE, &text, &len);

	if (rc == REPACK_EMISSING)
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "mainline: %s is missing, so the packages cannot be checked (the build may be incomplete; try another version)",
				 url);
	if (rc == 0)
		rc = verify_checksums(ctx, cfg, url, text, len);
	if (rc == 0)
		rc = checksums_parse(ctx, url, text, len, sums);
	free(text);
	free(url);
	return rc;
}

static int add_package(struct repack_ctx *ctx, const char *dir_url, const char *file,
		       const struct checksums *sums, enum layout_role role,
		       struct kernel_build *build)
{
	const char *sha256 = checksums_find(sums, file);
	struct package_ref *ref;
	char *escaped;

	if (!sha256)
		return repack_fail(ctx, REPACK_EVERIFY,
				   "mainline: %sCHECKSUMS lists no sha256 for %s, so it cannot be checked",
				   dir_url, file);
	ref = kernel_build_add(build);
	escaped = htmlindex_escape(file);
	ref->filename = xstrdup(file);
	ref->name = xstrndup(file, strcspn(file, "_"));
	ref->version = xstrndup(file + strlen(ref->name) + 1,
				strcspn(file + strlen(ref->name) + 1, "_"));
	ref->url = xasprintf("%s%s", dir_url, escaped);
	memcpy(ref->sha256, sha256, sizeof(ref->sha256));
	ref->role = role;
	free(escaped);
	return 0;
}

static int add_packages(struct repack_ctx *ctx, const char *dir_url,
			const struct mainline_set *set, const struct checksums *sums,
			struct kernel_build *build)
{
	int rc = add_package(ctx, dir_url, set->image, sums, ROLE_IMAGE, build);

	if (rc == 0 && set->modules)
		rc = add_package(ctx, dir_url, set->modules, sums, ROLE_MODULES, build);
	if (rc == 0 && set->extra)
		rc = add_package(ctx, dir_url, set->extra, sums, ROLE_MODULES, build);
	if (rc == 0 && set->headers)
		rc = add_package(ctx, dir_url, set->headers, sums, ROLE_HEADERS, build);
	if (rc == 0 && set->headers_all)
		rc = add_package(ctx, dir_url, set->headers_all, sums, ROLE_HEADERS, build);
	return rc;
}

/* Drop the entries of builds other than timestamp from entries. */
static void keep_build(struct strlist *entries, const char *timestamp)
{
	char *needle = xasprintf(".%s_", timestamp);
	size_t kept = 0;

	for (size_t i = 0; i < entries->count; i++) {
		if (strstr(entries->items[i], needle))
			entries->items[kept++] = entries->items[i];
		else
			free(entries->items[i]);
	}
	entries->count = kept;
	free(needle);
}

/* Choose the build in dir_url and add its packages to build. */
static int resolve_build(struct repack_ctx *ctx, const struct mainline_config *cfg,
			 const struct mainline_version *v, const char *timestamp,
			 const char *dir_url, struct strlist *entries,
			 struct kernel_build *build)
{
	struct mainline_set set;
	struct checksums sums = { 0 };
	int rc;

	if (timestamp)
		keep_build(entries, timestamp);
	if (!mainline_choose_set(entries, cfg->flavour, cfg->arch, cfg->no_headers, &set))
		return repack_fail(ctx, REPACK_ENOTFOUND,
				   "mainline: %s%s%s is unavailable for %s: %s holds no %s build with its image and modules (the build failed or was not made)",
				   v->text, timestamp ? " build " : "", timestamp ? timestamp : "",
				   cfg->arch, dir_url, cfg->flavour);
	if (!cfg->no_headers && (!set.headers || !set.headers_all))
		repack_log(ctx, REPACK_LOG_WARN,
			   "mainline: %s %s has no complete headers in %s; the image has no kernel-dev.tar",
			   set.kernel_release, set.version, dir_url);
	rc = load_checksums(ctx, cfg, dir_url, &sums);
	if (rc == 0)
		rc = add_packages(ctx, dir_url, &set, &sums, build);
	if (rc == 0) {
		fill_entry(cfg, v, &build->kernel);
		free(build->kernel.version);
		free(build->kernel.kernel_release);
		build->kernel.version = xstrdup(set.version);
		build->kernel.kernel_release = xstrdup(set.kernel_release);
		/* The default root, so that a mirror does not change the digest. */
		build->source = xstrdup(cfg->source);
	}
	checksums_release(&sums);
	mainline_set_release(&set);
	return rc;
}

/* List the build directory of v and resolve its packages into build. */
static int resolve_version(struct repack_ctx *ctx, const struct mainline_config *cfg,
			   const struct mainline_version *v, const char *timestamp,
			   struct kernel_build *build)
{
	struct strlist entries = STRLIST_INIT;
	char *dir_url = NULL;
	int rc = list_build_dir(ctx, cfg, v, &dir_url, &entries);

	if (rc == 0)
		rc = resolve_build(ctx, cfg, v, timestamp, dir_url, &entries, build);
	free(dir_url);
	strlist_release(&entries);
	return rc;
}

/* "latest" and "X.Y.x" name the newest release that has a build for the
 * architecture: a version directory appears before its builds finish, and
 * some builds fail. */
static bool request_skips_unavailable(const char *request)
{
	return strcmp(request, "latest") == 0 || str_ends_with(request, ".x");
}

static int mainline_resolve(struct repack_ctx *ctx, const struct backend_options *opts,
			    const char *version, struct kernel_build *build)
{
	struct mainline_config cfg;
	struct version_list versions = { 0 };
	char *timestamp = NULL;
	long found;
	int rc = mainline_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_versions(ctx, &cfg, &versions);
	if (rc)
		goto out;
	found = mainline_version_find(versions.items, versions.count, version, &timestamp);
	if (found < 0) {
		rc = not_found(ctx, &cfg, &versions, version);
		goto out;
	}
	rc = resolve_version(ctx, &cfg, &versions.items[found], timestamp, build);
	for (int tries = 1; rc == REPACK_ENOTFOUND && request_skips_unavailable(version) &&
	     tries < MAX_RELEASES_TRIED; tries++) {
		size_t next = (size_t)found + 1;
		char *unused = NULL;
		long older = mainline_version_find(versions.items + next, versions.count - next,
						   version, &unused);

		free(unused);
		if (older < 0)
			break;
		repack_log(ctx, REPACK_LOG_WARN, "%s; trying the next older release", ctx->error);
		kernel_build_release(build);
		found = (long)next + older;
		rc = resolve_version(ctx, &cfg, &versions.items[found], NULL, build);
	}
out:
	free(timestamp);
	version_list_release(&versions);
	mainline_config_release(&cfg);
	return rc;
}

const struct backend mainline_backend = {
	.name = "mainline",
	.image_name = "linuxkit/kernel-mainline",
	.list = mainline_list,
	.resolve = mainline_resolve,
};
