/* Directory index pages (Apache mod_autoindex, nginx autoindex): the
 * entries a page links to, read with libxml2's HTML parser. */
#ifndef REPACK_HTMLINDEX_H
#define REPACK_HTMLINDEX_H

#include "repack.h"

/* Parse an index page and append to entries every relative link target
 * it contains, percent-decoded, in page order and without duplicates.
 * Directory entries keep their trailing '/'. Sort links ("?C=N;O=D"),
 * fragments, absolute paths (the parent directory link), links with a
 * scheme, "./", "../" and names with a ".." component are left out.
 * url names the page in messages. REPACK_EFORMAT when the text is not a
 * document at all; a page without links leaves entries unchanged. */
int htmlindex_parse(struct repack_ctx *ctx, const char *url, const char *html,
		    size_t len, struct strlist *entries);

/* Fetch the index page at url and parse it as htmlindex_parse does.
 * REPACK_EMISSING when the server returns 404 or 410. */
int htmlindex_fetch(struct repack_ctx *ctx, const char *url,
		    struct strlist *entries);

/* Return name percent-encoded for use as one URL path segment or a
 * relative path ('/' is kept); the caller frees it. */
char *htmlindex_escape(const char *name);

#endif
