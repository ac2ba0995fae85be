/* Ubuntu backend: finds kernels in the Packages indexes of the Ubuntu
 * archive (amd64) or the ports archive (arm64).
 *
 * A release (codename) is searched in three suites of the same archive:
 * CODENAME, CODENAME-updates and CODENAME-security. The packages that
 * make a kernel are described in distros/ubuntu_kernel.c. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "debian_archive.h"
#include "meta.h"
#include "table.h"
#include "ubuntu.h"

struct ubuntu_config {
	char *codename;
	char *mirror;
	char *security_mirror;
	char *source;   /* the default archive, for the image label */
	char *keyring;          /* NULL when none is available */
	char *flavour;
	char *default_flavour;
	const char *arch;
	struct strlist suites;  /* suites to search */
	bool require_signatures;
};

static void ubuntu_config_release(struct ubuntu_config *cfg)
{
	free(cfg->codename);
	free(cfg->mirror);
	free(cfg->security_mirror);
	free(cfg->source);
	free(cfg->keyring);
	free(cfg->flavour);
	free(cfg->default_flavour);
	strlist_release(&cfg->suites);
	memset(cfg, 0, sizeof(*cfg));
}

static char *strip_slashes(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return xstrndup(url, n);
}

/* --release takes a codename or release number (all three suites) or one
 * suite name such as jammy-security. Without it the first "lts" row of the
 * table is used. */
static int choose_release(struct repack_ctx *ctx, const char *requested,
			  struct ubuntu_config *cfg)
{
	struct table releases;
	const char *dash;
	int rc = table_load(ctx, "ubuntu.releases", &releases);

	if (rc)
		return rc;
	if (!requested) {
		for (size_t i = 0; i < releases.count && !cfg->codename; i++)
			if (strcmp(table_cell(&releases.rows[i], 2), "lts") == 0)
				cfg->codename = xstrdup(table_cell(&releases.rows[i], 0));
		if (!cfg->codename)
			rc = repack_fail(ctx, REPACK_EFAIL, "%s/ubuntu.releases names no lts release",
					 repack_data_dir());
		else
			debian_suites_for(cfg->codename, &cfg->suites);
		goto out;
	}

	/* A release number ("22.04") names its codename. */
	for (size_t i = 0; i < releases.count; i++)
		if (strcmp(table_cell(&releases.rows[i], 1), requested) == 0)
			requested = table_cell(&releases.rows[i], 0);
	dash = strchr(requested, '-');
	cfg->codename = dash ? xstrndup(requested, (size_t)(dash - requested))
			     : xstrdup(requested);
	if (!table_find(&releases, cfg->codename)) {
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "ubuntu: unknown release '%s' (use a codename such as jammy or noble; known releases are in %s/ubuntu.releases)",
				 requested, repack_data_dir());
		goto out;
	}
	if (dash)
		strlist_push(&cfg->suites, requested);
	else
		debian_suites_for(cfg->codename, &cfg->suites);
out:
	table_release(&releases);
	return rc;
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

/* Mirrors, keyring and flavour from the options and data/ubuntu.conf. */
static int apply_conf(struct repack_ctx *ctx, const struct backend_options *opts,
		      const struct table *conf, struct ubuntu_config *cfg)
{
	char *key = xasprintf("mirror-%s", cfg->arch);
	const struct table_row *row = table_find(conf, key);
	int rc = 0;

	if (opts->mirror)
		cfg->mirror = strip_slashes(opts->mirror);
	else if (row)
		cfg->mirror = strip_slashes(table_cell(row, 1));
	else
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "ubuntu: no archive known for %s (add a '%s URL' row to %s/ubuntu.conf or pass --mirror)",
				 cfg->arch, key, repack_data_dir());
	/* The label names the default archive, so that the mirror used does
	 * not change the image digest. */
	if (rc == 0)
		cfg->source = row ? strip_slashes(table_cell(row, 1)) : xstrdup(cfg->mirror);
	/* The archive carries the -security suites too. */
	if (rc == 0)
		cfg->security_mirror = opts->security_mirror ? strip_slashes(opts->security_mirror)
							     : xstrdup(cfg->mirror);

	row = table_find(conf, "keyring");
	if (opts->keyring)
		cfg->keyring = xstrdup(opts->keyring);
	else if (row && access(table_cell(row, 1), R_OK) == 0)
		cfg->keyring = xstrdup(table_cell(row, 1));

	row = table_find(conf, "default-flavour");
	cfg->default_flavour = xstrdup(row ? table_cell(row, 1) : "generic");
	cfg->flavour = xstrdup(opts->flavour ? opts->flavour : cfg->default_flavour);
	if (rc == 0 && !valid_flavour(cfg->flavour))
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "ubuntu: invalid flavour '%s' (use a package-name flavour such as generic, lowlatency, aws or generic-64k)",
				 cfg->flavour);
	free(key);
	return rc;
}

static int ubuntu_config_init(struct repack_ctx *ctx, const struct backend_options *opts,
			      struct ubuntu_config *cfg)
{
	struct table conf;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = opts->arch ? opts->arch : "amd64";
	cfg->require_signatures = opts->require_signatures;
	rc = choose_release(ctx, opts->release, cfg);
	if (rc)
		return rc;
	rc = table_load(ctx, "ubuntu.conf", &conf);
	if (rc)
		return rc;
	rc = apply_conf(ctx, opts, &conf, cfg);
	table_release(&conf);
	return rc;
}

/* Read every kernel stanza of the searched suites. The first suite must
 * exist; a missing -updates or -security suite is skipped with a warning. */
static int load_index(struct repack_ctx *ctx, const struct ubuntu_config *cfg,
		      struct debian_index *index)
{
	struct archive_source source = {
		.keyring = cfg->keyring,
		.require_signatures = cfg->require_signatures,
		.arch = cfg->arch,
		.distro = "ubuntu",
	};

	for (size_t i = 0; i < cfg->suites.count; i++) {
		const char *suite = cfg->suites.items[i];
		int rc;

		source.base = str_ends_with(suite, "-security") ? cfg->security_mirror : cfg->mirror;
		source.suite = suite;
		rc = archive_load_suite(ctx, &source, index);
		if (rc == 0)
			continue;
		if (i == 0 || (rc != REPACK_EMISSING && rc != REPACK_ENET))
			return rc;
		repack_log(ctx, REPACK_LOG_WARN, "skipping suite %s: %s", suite, ctx->error);
	}
	return 0;
}

static int ubuntu_list(struct repack_ctx *ctx, const struct backend_options *opts,
		       struct kernel_list *list)
{
	struct ubuntu_config cfg;
	struct debian_index index = { 0 };
	int rc = ubuntu_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_index(ctx, &cfg, &index);
	if (rc == 0)
		ubuntu_collect_kernels(&index, cfg.flavour, cfg.default_flavour, cfg.arch, list);
	debian_index_release(&index);
	ubuntu_config_release(&cfg);
	return rc;
}

/* Fail with REPACK_ENOTFOUND naming the versions nearest to request. */
static int not_found(struct repack_ctx *ctx, const struct ubuntu_config *cfg,
		     const char *request, const struct kernel_list *list)
{
	struct strbuf nearest = STRBUF_INIT;
	struct strbuf searched = STRBUF_INIT;
	int rc;

	for (size_t i = 0; i < cfg->suites.count; i++)
		strbuf_addf(&searched, "%s%s", i ? ", " : "", cfg->suites.items[i]);
	if (list->count == 0) {
		rc = repack_fail(ctx, REPACK_ENOTFOUND,
				 "ubuntu: no %s kernels at all in %s for %s (check --flavour and --arch)",
				 cfg->flavour, searched.buf, cfg->arch);
		goto out;
	}
	kernel_list_nearest(list, request, debver_compare, &nearest);
	rc = repack_fail(ctx, REPACK_ENOTFOUND,
			 "ubuntu: no %s kernel %s in %s; nearest: %s (try 'repack list ubuntu --release %s')",
			 cfg->flavour, request, searched.buf, nearest.buf, cfg->codename);
out:
	strbuf_release(&nearest);
	strbuf_release(&searched);
	return rc;
}

static int ubuntu_resolve(struct repack_ctx *ctx, const struct backend_options *opts,
			  const char *version, struct kernel_build *build)
{
	struct ubuntu_config cfg;
	struct debian_index index = { 0 };
	struct kernel_list list = { 0 };
	size_t match;
	int rc = ubuntu_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_index(ctx, &cfg, &index);
	if (rc)
		goto out;
	ubuntu_collect_kernels(&index, cfg.flavour, cfg.default_flavour, cfg.arch, &list);

	for (match = 0; match < list.count; match++)
		if (ubuntu_entry_matches(&list.items[match], cfg.flavour, version))
			break;
	if (match == list.count) {
		rc = not_found(ctx, &cfg, version, &list);
		goto out;
	}
	build->kernel = list.items[match];
	memset(&list.items[match], 0, sizeof(list.items[match]));
	rc = ubuntu_add_packages(ctx, &index, cfg.flavour, opts->no_headers,
				 opts->no_extra_modules, build);
	if (rc == 0)
		build->source = xstrdup(cfg.source);
out:
	kernel_list_release(&list);
	debian_index_release(&index);
	ubuntu_config_release(&cfg);
	return rc;
}

const struct backend ubuntu_backend = {
	.name = "ubuntu",
	.image_name = "linuxkit/kernel-ubuntu",
	.list = ubuntu_list,
	.resolve = ubuntu_resolve,
};
