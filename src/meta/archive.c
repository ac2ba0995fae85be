/* Debian-style archive reading shared by the Debian and Ubuntu backends:
 * signed Release files, Packages indexes and Depends resolution. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debian_archive.h"
#include "fetch.h"
#include "meta.h"
#include "verify.h"

#define MAX_RELEASE_SIZE (64u << 20)

static const char *const kept_prefixes[] = {
	"linux-image-", "linux-headers-", "linux-kbuild-", "linux-modules-",
	"linux-hwe-", NULL,
};

void debian_index_release(struct debian_index *index)
{
	for (size_t i = 0; i < index->count; i++) {
		struct debian_pkg *p = &index->items[i];

		free(p->name);
		free(p->version);
		free(p->filename);
		free(p->depends);
		free(p->base);
		free(p->suite);
	}
	free(index->items);
	memset(index, 0, sizeof(*index));
}

void debian_suites_for(const char *codename, struct strlist *suites)
{
	strlist_push(suites, codename);
	strlist_push_owned(suites, xasprintf("%s-updates", codename));
	strlist_push_owned(suites, xasprintf("%s-security", codename));
}

/* Check the detached Release.gpg, or decide what an unsigned Release
 * means under the signature policy. */
static int check_release_signature(struct repack_ctx *ctx,
				   const struct archive_source *src,
				   const char *url, const char *release, size_t len)
{
	char *sig_url = xasprintf("%s.gpg", url);
	char *sig = NULL;
	size_t sig_len = 0;
	int rc = fetch_to_memory(ctx, sig_url, 1 << 20, &sig, &sig_len);

	if (rc == REPACK_EMISSING) {
		if (src->require_signatures)
			rc = repack_fail(ctx, REPACK_EVERIFY,
					 "%s: the Release file is not signed (no InRelease, no Release.gpg) and --require-signatures is set",
					 url);
		else {
			repack_log(ctx, REPACK_LOG_WARN,
				   "%s is not signed; its packages are checked against it but it is not verified",
				   url);
			rc = 0;
		}
	} else if (rc == 0 && src->keyring) {
		rc = verify_detached(ctx, src->keyring, release, len, sig, sig_len);
		if (rc)
			repack_wrap(ctx, rc, "%s", sig_url);
	} else if (rc == 0 && src->require_signatures) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "%s: no %s archive keyring found to verify it (install it or pass --keyring FILE)",
				 url, src->distro);
	}
	free(sig);
	free(sig_url);
	return rc;
}

static int verify_inrelease(struct repack_ctx *ctx, const struct archive_source *src,
			    const char *url, const char *doc, size_t len,
			    char **payload, size_t *payload_len)
{
	int rc;

	if (src->keyring) {
		rc = verify_clearsigned(ctx, src->keyring, doc, len, payload, payload_len);
		return rc ? repack_wrap(ctx, rc, "%s", url) : 0;
	}
	if (src->require_signatures)
		return repack_fail(ctx, REPACK_EVERIFY,
				   "%s: no %s archive keyring found to verify it (install it or pass --keyring FILE)",
				   url, src->distro);
	repack_log(ctx, REPACK_LOG_WARN,
		   "no %s archive keyring installed: %s is used without verifying its signature",
		   src->distro, url);
	return clearsigned_payload(ctx, doc, len, payload, payload_len);
}

/* Fetch the suite's Release text, verified as policy allows; caller frees. */
static int fetch_release(struct repack_ctx *ctx, const struct archive_source *src,
			 char **text, size_t *len)
{
	char *url = xasprintf("%s/dists/%s/InRelease", src->base, src->suite);
	char *doc = NULL;
	size_t doc_len = 0;
	int rc = fetch_to_memory(ctx, url, MAX_RELEASE_SIZE, &doc, &doc_len);

	if (rc == 0) {
		rc = verify_inrelease(ctx, src, url, doc, doc_len, text, len);
		goto out;
	}
	if (rc != REPACK_EMISSING)
		goto out;
	free(url);
	url = xasprintf("%s/dists/%s/Release", src->base, src->suite);
	rc = fetch_to_memory(ctx, url, MAX_RELEASE_SIZE, &doc, &doc_len);
	if (rc == REPACK_EMISSING) {
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "%s: suite '%s' not found at %s (no InRelease or Release; check --mirror and --release)",
				 src->distro, src->suite, src->base);
		goto out;
	}
	if (rc == 0)
		rc = check_release_signature(ctx, src, url, doc, doc_len);
	if (rc == 0) {
		*text = doc;
		*len = doc_len;
		doc = NULL;
	}
out:
	free(doc);
	free(url);
	return rc;
}

struct index_state {
	struct debian_index *index;
	const struct archive_source *src;
	const char *label;
	struct repack_ctx *ctx;
};

static bool kept_name(const char *name, size_t len)
{
	for (size_t i = 0; kept_prefixes[i]; i++) {
		size_t n = strlen(kept_prefixes[i]);

		if (len > n && strncmp(name, kept_prefixes[i], n) == 0)
			return true;
	}
	/* Headers of other kernel sources: linux-lowlatency-headers-<abi>. */
	return len > 6 && strncmp(name, "linux-", 6) == 0 &&
	       memmem(name, len, "-headers-", 9) != NULL;
}

static int take_package(void *user, const struct deb822_stanza *st)
{
	struct index_state *state = user;
	struct debian_index *index = state->index;
	size_t name_len, sha_len;
	const char *name = deb822_get(st, "Package", &name_len);
	const char *sha = deb822_get(st, "SHA256", &sha_len);
	char *size = NULL;

	if (!name || !kept_name(name, name_len))
		return 0;
	char *version = deb822_dup(st, "Version");
	char *filename = deb822_dup(st, "Filename");
	if (!version || !filename || !sha || sha_len != SHA256_HEX_LEN ||
	    !(size = deb822_dup(st, "Size"))) {
		free(version);
		free(filename);
		return repack_fail(state->ctx, REPACK_EFORMAT,
				   "%s: package %.*s lacks Version, Filename, Size or SHA256",
				   state->label, (int)name_len, name);
	}
	if (index->count == index->alloc) {
		index->alloc = index->alloc ? index->alloc * 2 : 64;
		index->items = xrealloc(index->items, index->alloc * sizeof(*index->items));
	}
	struct debian_pkg *p = &index->items[index->count++];
	memset(p, 0, sizeof(*p));
	p->name = xstrndup(name, name_len);
	p->version = version;
	p->filename = filename;
	p->depends = deb822_dup(st, "Depends");
	p->base = xstrdup(state->src->base);
	p->suite = xstrdup(state->src->suite);
	memcpy(p->sha256, sha, SHA256_HEX_LEN);
	p->size = strtoull(size, NULL, 10);
	free(size);
	return 0;
}

/* Fetch the best Packages index the Release lists and parse it. */
static int load_packages(struct repack_ctx *ctx, const struct archive_source *src,
			 const struct release *release, struct debian_index *index)
{
	static const char *const suffixes[] = { ".xz", ".gz", "", NULL };
	const char *component = src->component ? src->component : "main";
	int rc = REPACK_EMISSING;

	/* Debian's security archive has named its component "updates/main". */
	for (size_t i = 0; suffixes[i / 2] && rc == REPACK_EMISSING; i++) {
		char *path = xasprintf("%s%s/binary-%s/Packages%s", i % 2 ? "updates/" : "",
				       component, src->arch, suffixes[i / 2]);
		const struct release_file *file = release_find(release, path);
		char *url = xasprintf("%s/dists/%s/%s", src->base, src->suite, path);
		char *label = xasprintf("%s %s", src->suite, path);

		if (file) {
			struct fetch_item item = { .url = url, .sha256 = file->sha256,
						   .size = file->size, .label = label };
			rc = fetch_into_cache(ctx, &item, 1);
			if (rc == 0) {
				struct index_state state = { index, src, url, ctx };

				rc = deb822_parse_file(ctx, url, item.path, take_package, &state);
			}
			fetch_item_release(&item);
		}
		free(label);
		free(url);
		free(path);
	}
	if (rc == REPACK_EMISSING)
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "%s: %s/dists/%s/Release lists no %s/binary-%s/Packages index",
				 src->distro, src->base, src->suite, component, src->arch);
	return rc;
}

int archive_load_suite(struct repack_ctx *ctx, const struct archive_source *src,
		       struct debian_index *index)
{
	struct release release = { 0 };
	char *text = NULL;
	size_t len = 0;
	char *label = xasprintf("%s/dists/%s/Release", src->base, src->suite);
	int rc;

	repack_log(ctx, REPACK_LOG_INFO, "reading %s %s from %s", src->distro,
		   src->suite, src->base);
	rc = fetch_release(ctx, src, &text, &len);
	if (rc == 0)
		rc = release_parse(ctx, label, text, len, &release);
	if (rc == 0)
		rc = load_packages(ctx, src, &release, index);
	release_release(&release);
	free(text);
	free(label);
	return rc;
}

const struct debian_pkg *debian_index_find(const struct debian_index *index,
					   const char *name, const char *op,
					   const char *wanted)
{
	const struct debian_pkg *best = NULL;

	for (size_t i = 0; i < index->count; i++) {
		const struct debian_pkg *p = &index->items[i];

		if (strcmp(p->name, name) != 0)
			continue;
		if (op && !debver_satisfies(p->version, op, wanted))
			continue;
		if (!best || debver_compare(p->version, best->version) > 0)
			best = p;
	}
	return best;
}

static bool has_prefix(const char *name, const char *const *prefixes)
{
	for (size_t i = 0; prefixes[i]; i++)
		if (str_starts_with(name, prefixes[i]))
			return true;
	return false;
}

static bool build_has(const struct kernel_build *build, const char *name)
{
	for (size_t i = 0; i < build->package_count; i++)
		if (strcmp(build->packages[i].name, name) == 0)
			return true;
	return false;
}

static void add_ref(const struct debian_pkg *pkg, enum layout_role role,
		    struct kernel_build *build)
{
	struct package_ref *ref = kernel_build_add(build);
	const char *slash = strrchr(pkg->filename, '/');

	ref->name = xstrdup(pkg->name);
	ref->version = xstrdup(pkg->version);
	ref->filename = xstrdup(slash ? slash + 1 : pkg->filename);
	ref->url = xasprintf("%s/%s", pkg->base, pkg->filename);
	memcpy(ref->sha256, pkg->sha256, sizeof(ref->sha256));
	ref->size = pkg->size;
	ref->role = role;
}

/* Parse one alternative "name[:arch] (op version)" into its parts. */
static void parse_relation(const char *text, char *name, size_t name_size,
			   char *op, char *version)
{
	op[0] = version[0] = name[0] = '\0';
	sscanf(text, " %255[^ (:|]", name);
	name[name_size - 1] = '\0';
	const char *paren = strchr(text, '(');
	if (paren)
		sscanf(paren + 1, " %3[<>=] %255[^ )]", op, version);
}

int archive_add_with_depends(struct repack_ctx *ctx, const struct debian_index *index,
			     const struct debian_pkg *pkg, const char *const *prefixes,
			     enum layout_role role, struct kernel_build *build)
{
	char *depends, *save = NULL;
	int rc = 0;

	if (build_has(build, pkg->name))
		return 0;
	add_ref(pkg, role, build);
	if (!pkg->depends)
		return 0;
	depends = xstrdup(pkg->depends);
	for (char *group = strtok_r(depends, ",", &save); group && rc == 0;
	     group = strtok_r(NULL, ",", &save)) {
		char name[256], op[4], version[256];
		const struct debian_pkg *dep = NULL;

		/* The first alternative that this archive carries wins. */
		for (char *alt = group; alt && !dep; alt = strchr(alt, '|') ? strchr(alt, '|') + 1 : NULL) {
			parse_relation(alt, name, sizeof(name), op, version);
			if (!has_prefix(name, prefixes))
				break;
			/* The build of the same source version wins over a newer
			 * one, so that a kernel's image does not change when a
			 * later kernel's packages are published. */
			dep = debian_index_find(index, name, "=", pkg->version);
			if (dep && op[0] && !debver_satisfies(dep->version, op, version))
				dep = NULL;
			if (!dep)
				dep = debian_index_find(index, name, op[0] ? op : NULL, version);
		}
		if (dep)
			rc = archive_add_with_depends(ctx, index, dep, prefixes, role, build);
		else if (has_prefix(name, prefixes))
			rc = repack_fail(ctx, REPACK_ENOTFOUND,
					 "%s %s depends on %s%s%s%s%s%s, which no searched suite carries",
					 pkg->name, pkg->version, name, op[0] ? " (" : "", op,
					 op[0] ? " " : "", version, op[0] ? ")" : "");
	}
	free(depends);
	return rc;
}
