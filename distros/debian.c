/* Debian backend: finds kernels in a Debian mirror's Packages indexes.
 *
 * A release (codename) is searched in three suites: CODENAME,
 * CODENAME-updates and CODENAME-security, the last under its own base URL.
 * A kernel is the image package linux-image-<abi>-<flavour> (signed), or
 * linux-image-<abi>-<flavour>-unsigned where no signed one exists; its
 * headers are linux-headers-<abi>-<flavour> and the linux-headers-* and
 * linux-kbuild-* packages it depends on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "debian_archive.h"
#include "image.h"
#include "meta.h"
#include "table.h"

/* Settings resolved from the options, data/ and the host. */
struct debian_config {
	char *codename;
	char *mirror;
	char *security_mirror;
	/* The archive's default URLs from data/debian.conf, recorded in the
	 * image label so that the mirror used does not change the digest. */
	char *source;
	char *security_source;
	char *keyring;
	char *flavour;          /* as the user names it: amd64, cloud, rt */
	char *kernel_flavour;   /* as package names carry it: cloud-amd64 */
	char *default_flavour;
	const char *arch;
	struct strlist suites;  /* suites to search */
	bool require_signatures;
};

static void debian_config_release(struct debian_config *cfg)
{
	free(cfg->codename);
	free(cfg->mirror);
	free(cfg->security_mirror);
	free(cfg->source);
	free(cfg->security_source);
	free(cfg->keyring);
	free(cfg->flavour);
	free(cfg->kernel_flavour);
	free(cfg->default_flavour);
	strlist_release(&cfg->suites);
	memset(cfg, 0, sizeof(*cfg));
}

static int choose_release(struct repack_ctx *ctx, const char *requested,
			  struct debian_config *cfg)
{
	struct table releases;
	const char *dash;
	int rc = table_load(ctx, "debian.releases", &releases);

	if (rc)
		return rc;
	if (!requested) {
		for (size_t i = 0; i < releases.count && !cfg->codename; i++)
			if (strcmp(table_cell(&releases.rows[i], 2), "stable") == 0)
				cfg->codename = xstrdup(table_cell(&releases.rows[i], 0));
		if (!cfg->codename)
			rc = repack_fail(ctx, REPACK_EFAIL,
					 "data/debian.releases names no stable release");
		else
			debian_suites_for(cfg->codename, &cfg->suites);
		goto out;
	}

	/* A suite name such as bookworm-security searches that suite only. */
	dash = strchr(requested, '-');
	cfg->codename = dash ? xstrndup(requested, (size_t)(dash - requested))
			     : xstrdup(requested);
	if (!table_find(&releases, cfg->codename)) {
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "debian: unknown release '%s' (known: see %s/debian.releases)",
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

/* Map the user's flavour onto the package-name flavour: "amd64" stays,
 * "cloud" becomes "cloud-amd64". */
static int choose_flavour(struct repack_ctx *ctx, const struct table *conf,
			  const char *requested, struct debian_config *cfg)
{
	char *key = xasprintf("flavours-%s", cfg->arch);
	const struct table_row *row = table_find(conf, key);
	const char *flavour;
	int rc = 0;

	if (!row || row->cells.count < 2) {
		rc = repack_fail(ctx, REPACK_EUSAGE, "debian: no flavours known for architecture %s",
				 cfg->arch);
		goto out;
	}
	cfg->default_flavour = xstrdup(table_cell(row, 1));
	flavour = requested ? requested : cfg->default_flavour;
	if (str_ends_with(flavour, cfg->arch) && strcmp(flavour, cfg->arch) != 0) {
		/* "cloud-amd64" given in full. */
		cfg->flavour = xstrndup(flavour, strlen(flavour) - strlen(cfg->arch) - 1);
	} else {
		cfg->flavour = xstrdup(flavour);
	}
	bool known = false;
	for (size_t i = 1; i < row->cells.count; i++)
		known |= strcmp(row->cells.items[i], cfg->flavour) == 0;
	if (!known) {
		rc = repack_fail(ctx, REPACK_EUSAGE,
				 "debian: unknown flavour '%s' for %s (choose one of the flavours listed in %s/debian.conf)",
				 cfg->flavour, cfg->arch, repack_data_dir());
		goto out;
	}
	cfg->kernel_flavour = strcmp(cfg->flavour, cfg->arch) == 0
		? xstrdup(cfg->arch) : xasprintf("%s-%s", cfg->flavour, cfg->arch);
out:
	free(key);
	return rc;
}

static int debian_config_init(struct repack_ctx *ctx,
			      const struct backend_options *opts,
			      struct debian_config *cfg)
{
	struct table conf;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->arch = opts->arch ? opts->arch : "amd64";
	cfg->require_signatures = opts->require_signatures;
	rc = choose_release(ctx, opts->release, cfg);
	if (rc)
		return rc;
	rc = table_load(ctx, "debian.conf", &conf);
	if (rc)
		return rc;
	rc = choose_flavour(ctx, &conf, opts->flavour, cfg);
	if (rc == 0)
		debian_find_mirrors(ctx, opts, &conf, &cfg->mirror, &cfg->security_mirror);
	if (rc == 0) {
		const struct table_row *main_row = table_find(&conf, "mirror");
		const struct table_row *security_row = table_find(&conf, "security-mirror");

		cfg->source = xstrdup(main_row ? table_cell(main_row, 1) : cfg->mirror);
		cfg->security_source = xstrdup(security_row ? table_cell(security_row, 1)
						   : cfg->security_mirror);
	}
	if (rc == 0) {
		const struct table_row *row = table_find(&conf, "keyring");

		if (opts->keyring)
			cfg->keyring = xstrdup(opts->keyring);
		else if (row && access(table_cell(row, 1), R_OK) == 0)
			cfg->keyring = xstrdup(table_cell(row, 1));
	}
	table_release(&conf);
	return rc;
}

/* Every linux-image/headers/kbuild stanza of the searched suites. */
static int load_index(struct repack_ctx *ctx, const struct debian_config *cfg,
		      struct debian_index *index)
{
	struct archive_source source = {
		.keyring = cfg->keyring,
		.require_signatures = cfg->require_signatures,
		.arch = cfg->arch,
		.distro = "debian",
	};

	for (size_t i = 0; i < cfg->suites.count; i++) {
		const char *suite = cfg->suites.items[i];
		bool security = str_ends_with(suite, "-security");
		bool required = cfg->suites.count == 1 || i == 0;
		int rc;

		source.base = security ? cfg->security_mirror : cfg->mirror;
		source.suite = suite;
		rc = archive_load_suite(ctx, &source, index);
		if (rc == 0)
			continue;
		if (required || (rc != REPACK_EMISSING && rc != REPACK_ENET))
			return rc;
		repack_log(ctx, REPACK_LOG_WARN, "skipping suite %s: %s", suite, ctx->error);
	}
	return 0;
}

/* The image package name's ABI part, or NULL when name is not an image
 * package of this flavour. *unsigned_pkg is set for the -unsigned variant. */
static char *image_abi(const char *name, const char *kernel_flavour,
		       bool *unsigned_pkg)
{
	size_t n = strlen(name), f = strlen(kernel_flavour);
	const char *abi = name + strlen("linux-image-");
	size_t abi_len;

	if (!str_starts_with(name, "linux-image-") || !(*abi >= '0' && *abi <= '9'))
		return NULL;
	*unsigned_pkg = str_ends_with(name, "-unsigned");
	if (*unsigned_pkg)
		n -= strlen("-unsigned");
	if (n < f + 1 || strncmp(name + n - f, kernel_flavour, f) != 0 ||
	    name[n - f - 1] != '-')
		return NULL;
	abi_len = (size_t)(name + n - f - 1 - abi);
	if (abi_len == 0)
		return NULL;
	/* ABIs are "6.1.0-57" or "6.12.43+deb13": every part after a '-'
	 * starts with a digit. A letter means another flavour's name, as in
	 * linux-image-6.1.0-57-cloud-amd64 seen from the "amd64" flavour. */
	for (size_t i = 0; i + 1 < abi_len; i++)
		if (abi[i] == '-' && !(abi[i + 1] >= '0' && abi[i + 1] <= '9'))
			return NULL;
	return xstrndup(abi, abi_len);
}

static int compare_entries_newest_first(const void *a, const void *b)
{
	const struct kernel_entry *x = a, *y = b;

	return debver_compare(y->version, x->version);
}

/* Fill list with the kernels of cfg's flavour in index, newest first, one
 * entry per version; a signed image wins over an unsigned one. */
static void collect_kernels(const struct debian_config *cfg,
			    const struct debian_index *index, struct kernel_list *list)
{
	for (size_t i = 0; i < index->count; i++) {
		const struct debian_pkg *pkg = &index->items[i];
		bool unsigned_pkg, duplicate = false;
		char *abi = image_abi(pkg->name, cfg->kernel_flavour, &unsigned_pkg);

		if (!abi)
			continue;
		for (size_t j = 0; j < list->count; j++)
			duplicate |= strcmp(list->items[j].version, pkg->version) == 0;
		if (!duplicate) {
			struct kernel_entry entry = { 0 };
			char *tag = image_tag_sanitise(pkg->version);

			entry.version = xstrdup(pkg->version);
			entry.kernel_release = xasprintf("%s-%s", abi, cfg->kernel_flavour);
			entry.tag = strcmp(cfg->flavour, cfg->default_flavour) == 0
				? xstrdup(tag) : xasprintf("%s-%s", tag, cfg->flavour);
			entry.release = xstrdup(pkg->suite);
			entry.flavour = xstrdup(cfg->flavour);
			entry.arch = xstrdup(cfg->arch);
			kernel_list_push(list, &entry);
			free(tag);
		}
		free(abi);
	}
	if (list->count > 1)
		qsort(list->items, list->count, sizeof(*list->items),
		      compare_entries_newest_first);
}

static int debian_list(struct repack_ctx *ctx, const struct backend_options *opts,
		       struct kernel_list *list)
{
	struct debian_config cfg;
	struct debian_index index = { 0 };
	int rc = debian_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_index(ctx, &cfg, &index);
	if (rc == 0)
		collect_kernels(&cfg, &index, list);
	debian_index_release(&index);
	debian_config_release(&cfg);
	return rc;
}

/* Return true when entry matches the requested version: "latest", the
 * full package version, the ABI (6.1.0-57) or an upstream prefix (6.1). */
static bool entry_matches(const struct kernel_entry *entry, const char *flavour,
			  const char *wanted)
{
	size_t n = strlen(wanted);

	if (strcmp(wanted, "latest") == 0 || strcmp(entry->version, wanted) == 0)
		return true;
	/* kernel_release is "<abi>-<flavour>". */
	if (strncmp(entry->kernel_release, wanted, n) == 0 &&
	    entry->kernel_release[n] == '-' &&
	    str_ends_with(entry->kernel_release + n + 1, flavour))
		return true;
	return version_matches_prefix(entry->version, wanted);
}

static int debian_resolve(struct repack_ctx *ctx, const struct backend_options *opts,
			  const char *version, struct kernel_build *build)
{
	struct debian_config cfg;
	struct debian_index index = { 0 };
	struct kernel_list list = { 0 };
	int rc = debian_config_init(ctx, opts, &cfg);

	if (rc == 0)
		rc = load_index(ctx, &cfg, &index);
	if (rc)
		goto out;
	collect_kernels(&cfg, &index, &list);

	size_t match = list.count;
	for (size_t i = 0; i < list.count && match == list.count; i++)
		if (entry_matches(&list.items[i], cfg.kernel_flavour, version))
			match = i;
	if (match == list.count) {
		rc = debian_not_found(ctx, &cfg.suites, cfg.kernel_flavour, version, &list);
		goto out;
	}
	build->kernel = list.items[match];
	memset(&list.items[match], 0, sizeof(list.items[match]));
	rc = debian_add_packages(ctx, &index, cfg.kernel_flavour, opts->no_headers, build);
	/* The label names the archive the image package comes from: the
	 * security archive for a security update. */
	if (rc == 0)
		build->source = xstrdup(str_ends_with(build->kernel.release, "-security")
					? cfg.security_source : cfg.source);
out:
	kernel_list_release(&list);
	debian_index_release(&index);
	debian_config_release(&cfg);
	return rc;
}

const struct backend debian_backend = {
	.name = "debian",
	.image_name = "linuxkit/kernel-debian",
	.list = debian_list,
	.resolve = debian_resolve,
};
