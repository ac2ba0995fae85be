/* RPM repositories: repomd.xml, its detached signature and the primary
 * package list it points to. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fetch.h"
#include "repomd.h"
#include "verify.h"

/* A repomd.xml is a few kilobytes; this only guards against a server
 * that sends something else. */
#define MAX_REPOMD_SIZE (16u << 20)
#define MAX_SIGNATURE_SIZE (1u << 20)

struct rpm_package *rpm_index_add(struct rpm_index *index)
{
	struct rpm_package *pkg;

	if (index->count == index->alloc) {
		index->alloc = index->alloc ? index->alloc * 2 : 32;
		index->items = xrealloc(index->items, index->alloc * sizeof(*index->items));
	}
	pkg = &index->items[index->count++];
	memset(pkg, 0, sizeof(*pkg));
	return pkg;
}

void rpm_index_release(struct rpm_index *index)
{
	for (size_t i = 0; i < index->count; i++) {
		struct rpm_package *p = &index->items[i];

		free(p->name);
		free(p->arch);
		free(p->epoch);
		free(p->version);
		free(p->release);
		free(p->location);
		free(p->base);
		free(p->origin);
		free(p->repo);
		free(p->uname_r);
	}
	free(index->items);
	memset(index, 0, sizeof(*index));
}

void repomd_primary_release(struct repomd_primary *primary)
{
	free(primary->location);
	memset(primary, 0, sizeof(*primary));
}

static bool element_is(const xmlNode *node, const char *name)
{
	return node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, name) == 0;
}

/* Copy a <checksum type="sha256"> or <open-checksum> value into hex. */
static int take_checksum(struct repack_ctx *ctx, const char *label, xmlNode *node,
			 char hex[SHA256_HEX_LEN + 1])
{
	xmlChar *type = xmlGetProp(node, (const xmlChar *)"type");
	xmlChar *value = xmlNodeGetContent(node);
	const char *text = value ? (const char *)value : "";
	size_t start = strspn(text, " \t\r\n");
	size_t len = strspn(text + start, "0123456789abcdefABCDEF");
	int rc = 0;

	if (!type || strcmp((const char *)type, "sha256") != 0) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "%s: the primary entry has a '%s' %s; repack needs sha256 (use a mirror whose metadata lists sha256)",
				 label, type ? (const char *)type : "(untyped)", (const char *)node->name);
	} else if (len != SHA256_HEX_LEN) {
		rc = repack_fail(ctx, REPACK_EFORMAT, "%s: the primary %s '%s' is not a sha256",
				 label, (const char *)node->name, text);
	} else {
		for (size_t i = 0; i < SHA256_HEX_LEN; i++)
			hex[i] = (char)tolower((unsigned char)text[start + i]);
		hex[SHA256_HEX_LEN] = '\0';
	}
	xmlFree(type);
	xmlFree(value);
	return rc;
}

static uint64_t node_number(xmlNode *node)
{
	xmlChar *value = xmlNodeGetContent(node);
	uint64_t n = value ? strtoull((const char *)value, NULL, 10) : 0;

	xmlFree(value);
	return n;
}

/* Fill primary from the children of <data type="primary">. */
static int take_primary(struct repack_ctx *ctx, const char *label, xmlNode *data,
			struct repomd_primary *primary)
{
	int rc = 0;

	for (xmlNode *n = data->children; n && rc == 0; n = n->next) {
		if (element_is(n, "checksum")) {
			rc = take_checksum(ctx, label, n, primary->sha256);
		} else if (element_is(n, "open-checksum")) {
			rc = take_checksum(ctx, label, n, primary->open_sha256);
		} else if (element_is(n, "size")) {
			primary->size = node_number(n);
		} else if (element_is(n, "location")) {
			xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");

			free(primary->location);
			primary->location = href && *href ? xstrdup((const char *)href) : NULL;
			xmlFree(href);
		}
	}
	if (rc == 0 && (!primary->location || !primary->sha256[0]))
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "%s: the primary entry lacks a location or a checksum", label);
	return rc;
}

int repomd_parse(struct repack_ctx *ctx, const char *label, const char *text,
		 size_t len, struct repomd_primary *primary)
{
	xmlDoc *doc;
	xmlNode *root;
	int rc = REPACK_EFORMAT;

	memset(primary, 0, sizeof(*primary));
	if (len > INT32_MAX)
		return repack_fail(ctx, REPACK_EFORMAT, "%s: too large for a repomd.xml", label);
	doc = xmlReadMemory(text, (int)len, label, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *error = xmlGetLastError();

		return repack_fail(ctx, REPACK_EFORMAT, "%s: not valid XML: %s", label,
				   error && error->message ? error->message : "parse error");
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !element_is(root, "repomd")) {
		rc = repack_fail(ctx, REPACK_EFORMAT,
				 "%s: not a repomd.xml (its root element is not <repomd>)", label);
		goto out;
	}
	for (xmlNode *n = root->children; n; n = n->next) {
		xmlChar *type;
		bool is_primary;

		if (!element_is(n, "data"))
			continue;
		type = xmlGetProp(n, (const xmlChar *)"type");
		is_primary = type && strcmp((const char *)type, "primary") == 0;
		xmlFree(type);
		if (is_primary) {
			rc = take_primary(ctx, label, n, primary);
			goto out;
		}
	}
	rc = repack_fail(ctx, REPACK_EFORMAT, "%s: lists no primary metadata (<data type=\"primary\">)",
			 label);
out:
	if (rc)
		repomd_primary_release(primary);
	xmlFreeDoc(doc);
	return rc;
}

/* Check repomd.xml.asc over the repomd.xml text. With a keyring the
 * signature must verify. Without one it cannot be checked, which
 * --require-signatures turns into an error, as it does a missing one. */
static int check_signature(struct repack_ctx *ctx, const struct rpm_repo *repo,
			   const char *url, const char *text, size_t len)
{
	char *sig_url = xasprintf("%s.asc", url);
	char *sig = NULL;
	size_t sig_len = 0;
	int rc = fetch_to_memory(ctx, sig_url, MAX_SIGNATURE_SIZE, &sig, &sig_len);

	if (rc == REPACK_EMISSING) {
		if (repo->require_signatures) {
			rc = repack_fail(ctx, REPACK_EVERIFY,
					 "%s is not signed (no repomd.xml.asc) and --require-signatures is set",
					 url);
		} else {
			repack_log(ctx, repo->keyring ? REPACK_LOG_WARN : REPACK_LOG_INFO,
				   "%s is not signed (no repomd.xml.asc); its packages are checked against it but it is not verified",
				   url);
			rc = 0;
		}
	} else if (rc == 0 && repo->keyring) {
		rc = verify_detached(ctx, repo->keyring, text, len, sig, sig_len);
		if (rc)
			repack_wrap(ctx, rc, "%s", sig_url);
	} else if (rc == 0 && repo->require_signatures) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "%s: no %s keyring to verify its signature (pass --keyring FILE)",
				 url, repo->distro);
	} else if (rc == 0) {
		repack_log(ctx, REPACK_LOG_WARN,
			   "no %s keyring given: the signature of %s is not checked (pass --keyring FILE)",
			   repo->distro, url);
	}
	free(sig);
	free(sig_url);
	return rc;
}

/* Fetch the repository's repomd.xml, verified as the policy allows, and
 * find its primary entry. */
static int load_repomd(struct repack_ctx *ctx, const struct rpm_repo *repo,
		       struct repomd_primary *primary)
{
	char *url = xasprintf("%s/repodata/repomd.xml", repo->base);
	char *text = NULL;
	size_t len = 0;
	int rc = fetch_to_memory(ctx, url, MAX_REPOMD_SIZE, &text, &len);

	if (rc == REPACK_EMISSING) {
		rc = repack_fail(ctx, REPACK_EMISSING,
				 "%s: no repository at %s (no repodata/repomd.xml; check --mirror and --release)",
				 repo->distro, repo->base);
		goto out;
	}
	if (rc == 0)
		rc = check_signature(ctx, repo, url, text, len);
	if (rc == 0)
		rc = repomd_parse(ctx, url, text, len, primary);
out:
	free(text);
	free(url);
	return rc;
}

int rpm_repo_load(struct repack_ctx *ctx, const struct rpm_repo *repo,
		  const struct primary_filter *filter, struct rpm_index *index)
{
	struct repomd_primary primary;
	struct fetch_item item;
	struct primary_origin from = { repo->base, repo->origin, repo->repo };
	char *url = NULL, *label = NULL;
	int rc;

	memset(&item, 0, sizeof(item));
	repack_log(ctx, REPACK_LOG_INFO, "reading %s %s %s from %s", repo->distro,
		   repo->origin, repo->repo, repo->base);
	rc = load_repomd(ctx, repo, &primary);
	if (rc)
		return rc;

	url = xasprintf("%s/%s", repo->base, primary.location);
	label = xasprintf("%s %s %s primary.xml", repo->distro, repo->origin, repo->repo);
	item.url = url;
	item.sha256 = primary.sha256;
	item.size = primary.size;
	item.label = label;
	rc = fetch_into_cache(ctx, &item, 1);
	/* The repository exists, so a missing primary file is a mirror in
	 * the middle of a sync, not a missing repository. */
	if (rc == REPACK_EMISSING)
		rc = repack_wrap(ctx, REPACK_EFAIL,
				 "%s/repodata/repomd.xml lists a primary file the server does not have (the mirror may be mid-sync; try again later)",
				 repo->base);
	if (rc == 0)
		rc = primary_parse_file(ctx, url, item.path, primary.open_sha256, filter,
					&from, index);
	fetch_item_release(&item);
	free(label);
	free(url);
	repomd_primary_release(&primary);
	return rc;
}
