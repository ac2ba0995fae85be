/* CentOS backend: finds kernels in the repodata of CentOS 7, 8, Stream 8,
 * Stream 9 and Stream 10. Where each release's repositories are, and which
 * kernel series it carries, is in data/centos.releases; the mirrors are in
 * data/centos.conf. A release is searched in all its repositories at once
 * (os and updates on CentOS 7, BaseOS and AppStream later), because
 * kernel-devel is in AppStream on Stream 9 and 10. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "rpm_kernel.h"
#include "table.h"

/* Columns of data/centos.releases. */
enum { COL_NAME, COL_GROUP, COL_SERIES, COL_MIRROR, COL_REPOS };

struct centos_config {
	struct table conf;
	struct table releases;
	char *mirror;          /* --mirror, replacing every mirror row */
	char *keyring;         /* NULL when none is given */
	char *flavour;
	const char *arch;
	const char *rpm_arch;
	bool require_signatures;
	struct rpm_kernel_names names;
};

static void centos_config_release(struct centos_config *cfg)
{
	table_release(&cfg->conf);
	table_release(&cfg->releases);
	free(cfg->mirror);
	free(cfg->keyring);
	free(cfg->flavour);
	rpm_kernel_names_release(&cfg->names);
	memset(cfg, 0, sizeof(*cfg));
}

static int centos_config_init(struct repack_ctx *ctx, const struct backend_options *opts,
			      struct centos_config *cfg)
{
	char *keyring;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = opts->arch ? opts->arch : "amd64";
	cfg->rpm_arch = rpm_arch_for(cfg->arch);
	if (!cfg->rpm_arch)
		return repack_fail(ctx, REPACK_EUSAGE, "centos: unknown architecture '%s' (use amd64 or arm64)",
				   cfg->arch);
	cfg->require_signatures = opts->require_signatures;
	cfg->flavour = xstrdup(opts->flavour ? opts->flavour : "default");
	rpm_kernel_names_init(&cfg->names, cfg->flavour);
	if (opts->mirror)
		cfg->mirror = rpm_trim_url(opts->mirror);
	rc = table_load(ctx, "centos.conf", &cfg->conf);
	if (rc == 0)
		rc = table_load(ctx, "centos.releases", &cfg->releases);
	if (rc)
		return rc;
	keyring = rpm_conf_value(&cfg->conf, "keyring");
	if (opts->keyring)
		cfg->keyring = xstrdup(opts->keyring);
	else if (keyring && access(keyring, R_OK) == 0)
		cfg->keyring = xstrdup(keyring);
	free(keyring);
	return 0;
}

/* The mirror URL of a release row for the configured arch; caller frees. */
static int mirror_for(struct repack_ctx *ctx, const struct centos_config *cfg,
		      const struct table_row *row, char **url)
{
	const char *key = table_cell(row, COL_MIRROR);
	char *arch_key = xasprintf("%s-%s", key, cfg->rpm_arch);

	*url = cfg->mirror ? xstrdup(cfg->mirror) : rpm_conf_value(&cfg->conf, arch_key);
	if (!*url)
		*url = rpm_conf_value(&cfg->conf, key);
	free(arch_key);
	if (!*url)
		return repack_fail(ctx, REPACK_EFAIL,
				   "%s/centos.conf has no mirror row '%s' for release %s (or pass --mirror URL)",
				   repack_data_dir(), key, table_cell(row, COL_NAME));
	return 0;
}

/* Name the release's default mirror from data/centos.conf in the image
 * label in place of --mirror, so that the mirror does not change the
 * digest. */
static void rebase_source(const struct centos_config *cfg, const struct table_row *row,
			  struct kernel_build *build)
{
	const char *key = table_cell(row, COL_MIRROR);
	char *arch_key = xasprintf("%s-%s", key, cfg->rpm_arch);
	char *canonical = rpm_conf_value(&cfg->conf, arch_key);

	if (!canonical)
		canonical = rpm_conf_value(&cfg->conf, key);
	rpm_kernel_rebase_source(build, cfg->mirror, canonical);
	free(canonical);
	free(arch_key);
}

/* Replace {arch} in a repository path; caller frees. */
static char *expand_arch(const char *path, const char *arch)
{
	struct strbuf out = STRBUF_INIT;
	const char *p = path, *hit;

	while ((hit = strstr(p, "{arch}"))) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_addstr(&out, arch);
		p = hit + strlen("{arch}");
	}
	strbuf_addstr(&out, p);
	return strbuf_detach(&out, NULL);
}

/* The repository name of a path: its second directory ("updates" for
 * 7.9.2009/updates/x86_64, "AppStream" for 9-stream/AppStream/...). */
static char *repo_name(const char *path)
{
	const char *slash = strchr(path, '/');
	const char *start = slash ? slash + 1 : path;

	return xstrndup(start, strcspn(start, "/"));
}

/* Load every repository of one release row. A missing first repository
 * means the release is not there; a missing later one is only a warning. */
static int load_release(struct repack_ctx *ctx, const struct centos_config *cfg,
			const struct table_row *row, struct rpm_index *index)
{
	struct primary_filter filter = { cfg->names.list, cfg->rpm_arch };
	char *mirror = NULL;
	int rc = mirror_for(ctx, cfg, row, &mirror);

	if (row->cells.count <= COL_REPOS && rc == 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "%s/centos.releases: release %s lists no repositories",
				 repack_data_dir(), table_cell(row, COL_NAME));
	for (size_t i = COL_REPOS; rc == 0 && i < row->cells.count; i++) {
		char *path = expand_arch(table_cell(row, i), cfg->rpm_arch);
		char *url = xasprintf("%s/%s", mirror, path);
		char *name = repo_name(path);
		struct rpm_repo repo = {
			.base = url, .origin = table_cell(row, COL_NAME), .repo = name,
			.distro = "centos", .keyring = cfg->keyring,
			.require_signatures = cfg->require_signatures,
		};

		rc = rpm_repo_load(ctx, &repo, &filter, index);
		if (rc == REPACK_EMISSING && i > COL_REPOS) {
			repack_log(ctx, REPACK_LOG_WARN, "%s", ctx->error);
			rc = 0;
		}
		free(name);
		free(url);
		free(path);
	}
	free(mirror);
	return rc;
}

/* Append the rows whose name or group is release to rows. */
static int rows_for_release(struct repack_ctx *ctx, const struct centos_config *cfg,
			    const char *release, const struct table_row **rows, size_t *count)
{
	for (size_t i = 0; i < cfg->releases.count; i++) {
		const struct table_row *row = &cfg->releases.rows[i];

		if (strcmp(table_cell(row, COL_NAME), release) == 0 ||
		    strcmp(table_cell(row, COL_GROUP), release) == 0)
			rows[(*count)++] = row;
	}
	if (*count == 0)
		return repack_fail(ctx, REPACK_EUSAGE,
				   "centos: unknown release '%s' (give a name such as stream9 or 7.9.2009, or a major version such as 7; see %s/centos.releases)",
				   release, repack_data_dir());
	return 0;
}

static const char *default_release(const struct centos_config *cfg)
{
	const struct table_row *row = table_find(&cfg->conf, "default-release");

	if (row && row->cells.count > 1)
		return table_cell(row, 1);
	return cfg->releases.count ? table_cell(&cfg->releases.rows[0], COL_NAME) : "";
}

/* The N of an ".elN" in request's release, or NULL; caller frees. */
static char *group_from_request(const char *request)
{
	const char *dash = strchr(request, '-');
	const char *el = dash ? strstr(dash, ".el") : NULL;
	size_t n;

	if (!el)
		return NULL;
	n = strspn(el + 3, "0123456789");
	if (n == 0 || !strchr("._", el[3 + n]))
		return NULL; /* strchr also accepts the final '\0' */
	return xstrndup(el + 3, n);
}

/* True when the requested upstream version can belong to series: one is
 * a prefix of the other ("3.10.0" and "3.10", or "3" and "3.10"). */
static bool series_fits(const char *series, const char *version)
{
	return version_matches_prefix(version, series) || version_matches_prefix(series, version);
}

/* Fill rows with the releases to search for request, newest first. */
static int plan_search(struct repack_ctx *ctx, const struct centos_config *cfg,
		       const struct backend_options *opts, const char *request,
		       const struct table_row **rows, size_t *count)
{
	char *group = group_from_request(request);
	char *version;
	int rc = 0;

	*count = 0;
	if (opts->release) {
		rc = rows_for_release(ctx, cfg, opts->release, rows, count);
	} else if (group) {
		rc = rows_for_release(ctx, cfg, group, rows, count);
	} else if (strcmp(request, "latest") == 0) {
		rc = rows_for_release(ctx, cfg, default_release(cfg), rows, count);
		*count = *count ? 1 : 0;
	} else {
		version = rpm_request_version(request);
		for (size_t i = 0; i < cfg->releases.count; i++)
			if (series_fits(table_cell(&cfg->releases.rows[i], COL_SERIES), version))
				rows[(*count)++] = &cfg->releases.rows[i];
		free(version);
		if (*count == 0)
			rc = repack_fail(ctx, REPACK_ENOTFOUND,
					 "centos: no release in %s/centos.releases carries kernel series %s",
					 repack_data_dir(), request);
	}
	free(group);
	return rc;
}

static void style_for(const struct centos_config *cfg, struct rpm_kernel_style *style)
{
	style->arch = cfg->arch;
	style->rpm_arch = cfg->rpm_arch;
	style->flavour = cfg->flavour;
}

/* Load the releases of rows into index. Of several, those the mirror
 * lacks are skipped with a warning; none at all is an error. */
static int load_rows(struct repack_ctx *ctx, const struct centos_config *cfg,
		     const struct table_row **rows, size_t count, struct rpm_index *index)
{
	size_t loaded = 0;
	int rc = REPACK_EMISSING;

	for (size_t i = 0; i < count; i++) {
		rc = load_release(ctx, cfg, rows[i], index);
		if (rc == REPACK_EMISSING && count > 1) {
			repack_log(ctx, REPACK_LOG_WARN, "%s", ctx->error);
			continue;
		}
		if (rc)
			return rc;
		loaded++;
	}
	if (loaded == 0 && count > 1)
		return repack_fail(ctx, REPACK_EMISSING,
				   "centos: none of releases %s to %s is on the mirror (check --mirror, or give --release)",
				   table_cell(rows[count - 1], COL_NAME), table_cell(rows[0], COL_NAME));
	return loaded ? 0 : rc;
}

static int centos_list(struct repack_ctx *ctx, const struct backend_options *opts,
		       struct kernel_list *list)
{
	struct centos_config cfg;
	struct rpm_index index = { 0 };
	struct rpm_kernel_style style;
	const struct table_row **rows = NULL;
	size_t count = 0;
	int rc = centos_config_init(ctx, opts, &cfg);

	if (rc == 0) {
		rows = xcalloc(cfg.releases.count + 1, sizeof(*rows));
		rc = rows_for_release(ctx, &cfg, opts->release ? opts->release : default_release(&cfg),
				      rows, &count);
	}
	if (rc == 0)
		rc = load_rows(ctx, &cfg, rows, count, &index);
	if (rc == 0) {
		style_for(&cfg, &style);
		rpm_kernel_collect(&index, &cfg.names, &style, list);
	}
	free(rows);
	rpm_index_release(&index);
	centos_config_release(&cfg);
	return rc;
}

/* Search rows newest first and stop at the first release with a match.
 * Of several, those the mirror lacks are skipped; none at all is an error. */
static int search_rows(struct repack_ctx *ctx, const struct centos_config *cfg,
		       const struct backend_options *opts, const struct table_row **rows,
		       size_t count, const char *request, struct kernel_build *build,
		       bool *found, struct kernel_list *seen)
{
	struct rpm_kernel_style style;
	size_t loaded = 0;
	int rc = 0;

	style_for(cfg, &style);
	for (size_t i = 0; rc == 0 && i < count && !*found; i++) {
		struct rpm_index index = { 0 };

		rc = load_release(ctx, cfg, rows[i], &index);
		if (rc == 0) {
			loaded++;
			rc = rpm_kernel_pick(ctx, "centos", &index, &cfg->names, &style, opts,
					     request, build, found, seen);
			if (rc == 0 && *found && cfg->mirror)
				rebase_source(cfg, rows[i], build);
		} else if (rc == REPACK_EMISSING && count > 1) {
			repack_log(ctx, REPACK_LOG_WARN, "%s", ctx->error);
			rc = 0;
		}
		rpm_index_release(&index);
	}
	if (rc == 0 && loaded == 0 && count > 1)
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "centos: none of releases %s to %s is on the mirror (check --mirror, or give --release)",
				 table_cell(rows[count - 1], COL_NAME), table_cell(rows[0], COL_NAME));
	return rc;
}

static int centos_resolve(struct repack_ctx *ctx, const struct backend_options *opts,
			  const char *version, struct kernel_build *build)
{
	struct centos_config cfg;
	struct kernel_list seen = { 0 };
	struct strbuf searched = STRBUF_INIT;
	const struct table_row **rows = NULL;
	size_t count = 0;
	bool found = false;
	int rc = centos_config_init(ctx, opts, &cfg);

	if (rc == 0) {
		rows = xcalloc(cfg.releases.count + 1, sizeof(*rows));
		rc = plan_search(ctx, &cfg, opts, version, rows, &count);
	}
	if (rc == 0)
		rc = search_rows(ctx, &cfg, opts, rows, count, version, build, &found, &seen);
	if (rc || found)
		goto out;
	strbuf_addstr(&searched, count > 1 ? "releases " : "release ");
	for (size_t i = 0; i < count; i++)
		strbuf_addf(&searched, "%s%s", i ? ", " : "", table_cell(rows[i], COL_NAME));
	rpm_kernel_sort(&seen);
	rc = rpm_kernel_not_found(ctx, "centos", searched.buf, version, &seen);
out:
	strbuf_release(&searched);
	kernel_list_release(&seen);
	free(rows);
	centos_config_release(&cfg);
	return rc;
}

const struct backend centos_backend = {
	.name = "centos",
	.image_name = "linuxkit/kernel-centos",
	.list = centos_list,
	.resolve = centos_resolve,
};
