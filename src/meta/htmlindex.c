/* Directory index pages: every <a href> of the document, walked in the
 * tree libxml2's HTML parser builds, so the markup of Apache's
 * mod_autoindex (a <table> or a <pre> listing), nginx's autoindex and
 * hand-written pages all read the same way. */
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "fetch.h"
#include "htmlindex.h"

/* Index pages of large trees run to a few MiB at most. */
#define MAX_INDEX_SIZE (32u << 20)

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX escapes; return NULL when an escape is malformed or decodes
 * to a control character. The caller frees the result. */
static char *percent_decode(const char *text)
{
	size_t n = strlen(text);
	char *out = xmalloc(n + 1), *o = out;

	for (const char *p = text; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi >= 0 ? hex_value(p[2]) : -1;

			if (hi < 0 || lo < 0)
				goto bad;
			c = (unsigned char)(hi * 16 + lo);
			p += 2;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* True when a decoded link target names something inside this directory. */
static bool relative_entry(const char *name)
{
	const char *segment = name;

	if (*name == '\0' || *name == '/' || strcmp(name, "./") == 0)
		return false;
	/* Each segment is checked, so "a/../../b" is rejected as well. */
	while (*segment) {
		size_t len = strcspn(segment, "/");

		if (len == 2 && strncmp(segment, "..", 2) == 0)
			return false;
		segment += len;
		if (*segment == '/')
			segment++;
	}
	return true;
}

/* Turn one href into an entry name, or NULL when it is not an entry. */
static char *entry_from_href(const char *href)
{
	const char *colon = strchr(href, ':');
	char *name;

	/* Sort links and fragments, and anything with a query. */
	if (*href == '\0' || strchr(href, '?') || strchr(href, '#'))
		return NULL;
	/* Apache writes "./a:b" for a name with a colon, so that it does not
	 * read as a scheme. Any other colon before the first '/' is a scheme. */
	if (str_starts_with(href, "./") && href[2] != '\0')
		href += 2;
	else if (colon && colon < href + strcspn(href, "/"))
		return NULL;
	name = percent_decode(href);
	if (name && !relative_entry(name)) {
		free(name);
		name = NULL;
	}
	return name;
}

/* Visit every element below root in document order without recursion,
 * so a deeply nested page cannot exhaust the stack. */
static void collect_links(xmlNode *root, struct strlist *entries)
{
	xmlNode *node = root;

	while (node) {
		if (node->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(node->name, BAD_CAST "a") == 0) {
			xmlChar *href = xmlGetProp(node, BAD_CAST "href");
			char *name = href ? entry_from_href((const char *)href) : NULL;

			if (name && !strlist_contains(entries, name))
				strlist_push_owned(entries, name);
			else
				free(name);
			xmlFree(href);
		}
		if (node->children && node->type == XML_ELEMENT_NODE) {
			node = node->children;
			continue;
		}
		while (node && !node->next && node != root)
			node = node->parent;
		if (!node || node == root)
			break;
		node = node->next;
	}
}

int htmlindex_parse(struct repack_ctx *ctx, const char *url, const char *html,
		    size_t len, struct strlist *entries)
{
	const int options = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
			    HTML_PARSE_NOWARNING | HTML_PARSE_NONET;
	htmlDocPtr doc;
	xmlNode *root;

	if (len > (size_t)INT32_MAX)
		return repack_fail(ctx, REPACK_EFORMAT, "%s: index page of %zu bytes is too large",
				   url, len);
	doc = htmlReadMemory(html, (int)len, url, NULL, options);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		if (doc)
			xmlFreeDoc(doc);
		return repack_fail(ctx, REPACK_EFORMAT,
				   "%s: the server returned no HTML index page (%zu bytes); check the URL",
				   url, len);
	}
	collect_links(root, entries);
	xmlFreeDoc(doc);
	return 0;
}

int htmlindex_fetch(struct repack_ctx *ctx, const char *url,
		    struct strlist *entries)
{
	char *page = NULL;
	size_t len = 0;
	int rc = fetch_to_memory(ctx, url, MAX_INDEX_SIZE, &page, &len);

	if (rc == 0)
		rc = htmlindex_parse(ctx, url, page, len, entries);
	free(page);
	return rc;
}

char *htmlindex_escape(const char *name)
{
	static const char safe[] = "-._~+/";
	struct strbuf sb = STRBUF_INIT;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || strchr(safe, *p);

		if (plain)
			strbuf_add(&sb, p, 1);
		else
			strbuf_addf(&sb, "%%%02X", *p);
	}
	if (!sb.buf)
		strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}
