/* Fedora backend: finds kernels in the repodata of Fedora's release and
 * updates repositories, and in Koji for builds they no longer carry.
 *
 * Release N has two repositories, releases/N/Everything/<arch>/os/ (what N
 * shipped with) and updates/N/Everything/<arch>/ (the newest update), on
 * the main mirror while N is maintained and in the archive after that.
 * Since Fedora 21 a kernel is kernel-core (vmlinuz, config and System.map
 * in lib/modules/<kver>/) with kernel-modules, kernel-modules-core (Fedora
 * 38 on) and kernel-modules-extra; kernel-devel contains the headers. The
 * rpm arch in paths is x86_64 or aarch64 where the image uses amd64 or
 * arm64. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "rpm_kernel.h"
#include "table.h"

/* Settings resolved from the options and data/. */
struct fedora_config {
	char *mirror;          /* main tree, or the --mirror URL */
	char *archive;         /* archive tree; NULL with --mirror */
	char *koji;            /* Koji package tree */
	char *keyring;         /* NULL when none is given */
	char *flavour;         /* "default", "debug", ... */
	const char *arch;
	const char *rpm_arch;
	bool koji_enabled;
	bool require_signatures;
	struct rpm_kernel_names names;
	struct table releases;
};

static void fedora_config_release(struct fedora_config *cfg)
{
	free(cfg->mirror);
	free(cfg->archive);
	free(cfg->koji);
	free(cfg->keyring);
	free(cfg->flavour);
	rpm_kernel_names_release(&cfg->names);
	table_release(&cfg->releases);
	memset(cfg, 0, sizeof(*cfg));
}

static int read_conf(struct repack_ctx *ctx, const struct backend_options *opts,
		     struct fedora_config *cfg)
{
	struct table conf;
	char *fallback, *keyring;
	int rc = table_load(ctx, "fedora.conf", &conf);

	if (rc)
		return rc;
	if (opts->mirror) {
		/* A given mirror replaces both trees: never fall back to a host
		 * the user did not name. */
		cfg->mirror = rpm_trim_url(opts->mirror);
	} else {
		cfg->mirror = rpm_conf_value(&conf, "mirror");
		cfg->archive = rpm_conf_value(&conf, "archive-mirror");
	}
	cfg->koji = rpm_conf_value(&conf, "koji");
	fallback = rpm_conf_value(&conf, "koji-fallback");
	cfg->koji_enabled = opts->koji || (fallback && strcmp(fallback, "yes") == 0);
	keyring = rpm_conf_value(&conf, "keyring");
	if (opts->keyring)
		cfg->keyring = xstrdup(opts->keyring);
	else if (keyring && access(keyring, R_OK) == 0)
		cfg->keyring = xstrdup(keyring);
	if (!cfg->mirror)
		rc = repack_fail(ctx, REPACK_EFAIL, "%s/fedora.conf has no mirror row (or pass --mirror URL)",
				 repack_data_dir());
	else if (cfg->koji_enabled && !cfg->koji)
		rc = repack_fail(ctx, REPACK_EFAIL, "%s/fedora.conf has no koji row, which --koji needs",
				 repack_data_dir());
	free(keyring);
	free(fallback);
	table_release(&conf);
	return rc;
}

static int fedora_config_init(struct repack_ctx *ctx, const struct backend_options *opts,
			      struct fedora_config *cfg)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = opts->arch ? opts->arch : "amd64";
	cfg->rpm_arch = rpm_arch_for(cfg->arch);
	if (!cfg->rpm_arch)
		return repack_fail(ctx, REPACK_EUSAGE, "fedora: unknown architecture '%s' (use amd64 or arm64)",
				   cfg->arch);
	cfg->require_signatures = opts->require_signatures;
	cfg->flavour = xstrdup(opts->flavour ? opts->flavour : "default");
	rpm_kernel_names_init(&cfg->names, cfg->flavour);
	rc = read_conf(ctx, opts, cfg);
	if (rc == 0)
		rc = table_load(ctx, "fedora.releases", &cfg->releases);
	return rc;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The tree to try first for release: "main" or "archive". A release the
 * table does not list yet is taken to be on the main tree. */
static const char *release_tree(const struct fedora_config *cfg, const char *release)
{
	const struct table_row *row = table_find(&cfg->releases, release);

	return row ? table_cell(row, 2) : "main";
}

static int load_updates(struct repack_ctx *ctx, const struct fedora_config *cfg,
			const char *base, const char *release, const struct primary_filter *filter,
			struct rpm_index *index)
{
	struct rpm_repo repo = {
		.origin = release, .repo = "updates", .distro = "fedora",
		.keyring = cfg->keyring, .require_signatures = cfg->require_signatures,
	};
	char *url = xasprintf("%s/updates/%s/Everything/%s", base, release, cfg->rpm_arch);
	int rc;

	repo.base = url;
	rc = rpm_repo_load(ctx, &repo, filter, index);
	if (rc == REPACK_EMISSING) {
		/* Fedora 27 and older have no Everything/ level under updates/. */
		free(url);
		url = xasprintf("%s/updates/%s/%s", base, release, cfg->rpm_arch);
		repo.base = url;
		rc = rpm_repo_load(ctx, &repo, filter, index);
	}
	if (rc == REPACK_EMISSING) {
		repack_log(ctx, REPACK_LOG_WARN, "fedora: release %s has no updates repository at %s",
			   release, base);
		rc = 0;
	}
	free(url);
	return rc;
}

/* Load the release and updates repositories of release from the first
 * tree that has them. */
static int load_release(struct repack_ctx *ctx, const struct fedora_config *cfg,
			const char *release, struct rpm_index *index)
{
	const char *trees[2] = { cfg->mirror, cfg->archive };
	struct primary_filter filter = { cfg->names.list, cfg->rpm_arch };
	int rc = REPACK_EMISSING;

	if (strcmp(release_tree(cfg, release), "archive") == 0 && cfg->archive) {
		trees[0] = cfg->archive;
		trees[1] = cfg->mirror;
	}
	for (size_t i = 0; i < 2 && trees[i] && rc == REPACK_EMISSING; i++) {
		char *url = xasprintf("%s/releases/%s/Everything/%s/os", trees[i], release,
				      cfg->rpm_arch);
		struct rpm_repo repo = {
			.base = url, .origin = release, .repo = "releases", .distro = "fedora",
			.keyring = cfg->keyring, .require_signatures = cfg->require_signatures,
		};

		rc = rpm_repo_load(ctx, &repo, &filter, index);
		if (rc == 0)
			rc = load_updates(ctx, cfg, trees[i], release, &filter, index);
		free(url);
	}
	if (rc == REPACK_EMISSING)
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "fedora: release %s for %s is not on %s%s%s (check --release and --mirror)",
				 release, cfg->rpm_arch, cfg->mirror, cfg->archive ? " or " : "",
				 cfg->archive ? cfg->archive : "");
	return rc;
}

static int check_release(struct repack_ctx *ctx, const struct fedora_config *cfg,
			 const char *release)
{
	if (table_find(&cfg->releases, release) || all_digits(release))
		return 0;
	return repack_fail(ctx, REPACK_EUSAGE,
			   "fedora: unknown release '%s' (give a release number such as 31; see %s/fedora.releases)",
			   release, repack_data_dir());
}

static void style_for(const struct fedora_config *cfg, struct rpm_kernel_style *style)
{
	style->arch = cfg->arch;
	style->rpm_arch = cfg->rpm_arch;
	style->flavour = cfg->flavour;
}

/* Append the releases the table puts on the main tree, newest first. */
static void maintained_releases(const struct fedora_config *cfg, struct strlist *releases)
{
	for (size_t i = 0; i < cfg->releases.count; i++) {
		const struct table_row *row = &cfg->releases.rows[i];

		if (strcmp(table_cell(row, 2), "main") == 0)
			strlist_push(releases, table_cell(row, 0));
	}
}

/* Load every release into index. Of several, those the mirrors lack are
 * skipped with a warning; none at all is an error. */
static int load_releases(struct repack_ctx *ctx, const struct fedora_config *cfg,
			 const struct strlist *releases, struct rpm_index *index)
{
	size_t loaded = 0;
	int rc = REPACK_EMISSING;

	for (size_t i = 0; i < releases->count; i++) {
		rc = load_release(ctx, cfg, releases->items[i], index);
		if (rc == REPACK_EMISSING && releases->count > 1) {
			repack_log(ctx, REPACK_LOG_WARN, "%s", ctx->error);
			continue;
		}
		if (rc)
			return rc;
		loaded++;
	}
	if (loaded == 0 && releases->count > 1)
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "fedora: none of releases %s to %s is on %s (check --mirror, or give --release)",
				 releases->items[releases->count - 1], releases->items[0], cfg->mirror);
	return loaded ? 0 : rc;
}

static int fedora_list(struct repack_ctx *ctx, const struct backend_options *opts,
		       struct kernel_list *list)
{
	struct fedora_config cfg;
	struct strlist releases = STRLIST_INIT;
	struct rpm_index index = { 0 };
	struct rpm_kernel_style style;
	int rc = fedora_config_init(ctx, opts, &cfg);

	if (rc == 0 && opts->release) {
		rc = check_release(ctx, &cfg, opts->release);
		strlist_push(&releases, opts->release);
	} else if (rc == 0) {
		maintained_releases(&cfg, &releases);
	}
	if (rc == 0)
		rc = load_releases(ctx, &cfg, &releases, &index);
	if (rc == 0) {
		style_for(&cfg, &style);
		rpm_kernel_collect(&index, &cfg.names, &style, list);
	}
	rpm_index_release(&index);
	strlist_release(&releases);
	fedora_config_release(&cfg);
	return rc;
}

/* The N of a ".fcN" in request's release, or NULL; caller frees. */
static char *release_from_request(const char *request)
{
	const char *dash = strchr(request, '-');
	const char *fc = dash ? strstr(dash, ".fc") : NULL;
	size_t n;

	if (!fc)
		return NULL;
	n = strspn(fc + 3, "0123456789");
	if (n == 0 || (fc[3 + n] != '\0' && fc[3 + n] != '.'))
		return NULL;
	return xstrndup(fc + 3, n);
}

/* True when the kernel series a release shipped with is newer than the
 * requested upstream version, so the release cannot carry it. */
static bool shipped_newer(const char *series, const char *version)
{
	size_t n = strlen(version);

	if (strncmp(series, version, n) == 0 && (series[n] == '\0' || series[n] == '.'))
		return false; /* "5" requests any 5.x */
	return rpmver_compare_evr(NULL, version, NULL, NULL, series, NULL) < 0;
}

/* Fill releases with the releases to search for request, newest first. */
static int plan_search(struct repack_ctx *ctx, const struct fedora_config *cfg,
		       const struct backend_options *opts, const char *request,
		       struct strlist *releases)
{
	char *from_request = release_from_request(request);
	char *version;
	int rc = 0;

	if (opts->release) {
		rc = check_release(ctx, cfg, opts->release);
		if (rc == 0)
			strlist_push(releases, opts->release);
	} else if (from_request) {
		strlist_push(releases, from_request);
	} else if (strcmp(request, "latest") == 0) {
		/* The newest release that the mirror has and that has kernels. */
		maintained_releases(cfg, releases);
	} else {
		version = rpm_request_version(request);
		for (size_t i = 0; i < cfg->releases.count; i++) {
			const struct table_row *row = &cfg->releases.rows[i];

			if (!shipped_newer(table_cell(row, 1), version))
				strlist_push(releases, table_cell(row, 0));
		}
		free(version);
	}
	if (rc == 0 && releases->count == 0)
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "fedora: no release in %s/fedora.releases can carry kernel %s (give --release N)",
				 repack_data_dir(), request);
	free(from_request);
	return rc;
}

/* Search one release; on a match fill build and set *found. */
static int search_release(struct repack_ctx *ctx, const struct fedora_config *cfg,
			  const struct backend_options *opts, const char *release,
			  const char *request, struct kernel_build *build, bool *found,
			  struct kernel_list *seen)
{
	struct rpm_index index = { 0 };
	struct rpm_kernel_style style;
	int rc = load_release(ctx, cfg, release, &index);

	style_for(cfg, &style);
	if (rc == 0)
		rc = rpm_kernel_pick(ctx, "fedora", &index, &cfg->names, &style, opts, request,
				     build, found, seen);
	rpm_index_release(&index);
	return rc;
}

/* Look request up in Koji: a full version names the build, an upstream
 * version takes the newest build of it (of --release N when given). */
static int search_koji(struct repack_ctx *ctx, const struct fedora_config *cfg,
		       const struct backend_options *opts, const char *request,
		       struct kernel_build *build, bool *found)
{
	const char *colon = strchr(request, ':');
	const char *evr = colon ? colon + 1 : request;
	const char *dash = strchr(evr, '-');
	char *version = rpm_request_version(request);
	char *suffix = opts->release ? xasprintf(".fc%s", opts->release) : NULL;
	struct koji_request koji = {
		.koji = cfg->koji, .source = "kernel", .version = version,
		.release = dash ? dash + 1 : NULL, .release_suffix = suffix, .arch = cfg->rpm_arch,
		.distro = "fedora",
	};
	struct rpm_index index = { 0 };
	struct kernel_list list = { 0 };
	struct rpm_kernel_style style;
	int rc = koji_load_build(ctx, &koji, &cfg->names, &index);

	if (rc)
		goto out;
	style_for(cfg, &style);
	rpm_kernel_collect(&index, &cfg->names, &style, &list);
	if (list.count == 0) {
		rc = repack_fail(ctx, REPACK_EMISSING, "fedora: Koji's build of %s has no %s or %s package for %s",
				 request, cfg->names.core, cfg->names.meta, cfg->rpm_arch);
		goto out;
	}
	*found = true;
	build->kernel = list.items[0];
	memset(&list.items[0], 0, sizeof(list.items[0]));
	rc = rpm_kernel_add_packages(ctx, "fedora", &index, &cfg->names, opts, build);
out:
	kernel_list_release(&list);
	rpm_index_release(&index);
	free(suffix);
	free(version);
	return rc;
}

static bool koji_can_find(const char *request)
{
	const char *colon = strchr(request, ':');

	return isdigit((unsigned char)*(colon ? colon + 1 : request)) && !strstr(request, "-rc");
}

/* Search the planned releases, newest first, and stop at the first one
 * that carries a match. Of several, those the mirrors lack are skipped. */
static int search_releases(struct repack_ctx *ctx, const struct fedora_config *cfg,
			   const struct backend_options *opts, const struct strlist *releases,
			   const char *request, struct kernel_build *build, bool *found,
			   struct kernel_list *seen)
{
	size_t loaded = 0;
	int rc;

	for (size_t i = 0; i < releases->count && !*found; i++) {
		rc = search_release(ctx, cfg, opts, releases->items[i], request, build, found, seen);
		if (rc == REPACK_EMISSING && releases->count > 1) {
			repack_log(ctx, REPACK_LOG_WARN, "%s", ctx->error);
			continue;
		}
		if (rc)
			return rc;
		loaded++;
	}
	if (loaded == 0 && releases->count > 1)
		return repack_fail(ctx, REPACK_EMISSING,
				   "fedora: none of releases %s to %s is on %s (check --mirror, or give --release)",
				   releases->items[releases->count - 1], releases->items[0], cfg->mirror);
	return 0;
}

static int fedora_resolve(struct repack_ctx *ctx, const struct backend_options *opts,
			  const char *version, struct kernel_build *build)
{
	struct fedora_config cfg;
	struct strlist releases = STRLIST_INIT;
	struct kernel_list seen = { 0 };
	struct strbuf searched = STRBUF_INIT;
	bool found = false;
	int rc = fedora_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = plan_search(ctx, &cfg, opts, version, &releases);
	if (rc == 0)
		rc = search_releases(ctx, &cfg, opts, &releases, version, build, &found, &seen);
	if (rc == 0 && found && opts->mirror) {
		struct table conf;

		if (table_load(ctx, "fedora.conf", &conf) == 0) {
			char *canonical = rpm_conf_value(&conf, "mirror");

			rpm_kernel_rebase_source(build, cfg.mirror, canonical);
			free(canonical);
			table_release(&conf);
		}
	}
	if (rc || found)
		goto out;
	if (cfg.koji_enabled && koji_can_find(version)) {
		rc = search_koji(ctx, &cfg, opts, version, build, &found);
		if (rc != REPACK_EMISSING)
			goto out;
		repack_log(ctx, REPACK_LOG_INFO, "%s", ctx->error);
	}
	strbuf_addstr(&searched, releases.count > 1 ? "releases " : "release ");
	for (size_t i = 0; i < releases.count; i++)
		strbuf_addf(&searched, "%s%s", i ? ", " : "", releases.items[i]);
	strbuf_addstr(&searched, cfg.koji_enabled ? " (releases and updates) and Koji"
						  : " (releases and updates; --koji also searches Koji)");
	rpm_kernel_sort(&seen);
	rc = rpm_kernel_not_found(ctx, "fedora", searched.buf, version, &seen);
out:
	strbuf_release(&searched);
	kernel_list_release(&seen);
	strlist_release(&releases);
	fedora_config_release(&cfg);
	return rc;
}

const struct backend fedora_backend = {
	.name = "fedora",
	.image_name = "linuxkit/kernel-fedora",
	.list = fedora_list,
	.resolve = fedora_resolve,
};
