/* Unit tests for the mainline backend's parsers: version directory names
 * and their order, CHECKSUMS files, index pages and the choice of one
 * build from a directory listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checksums.h"
#include "htmlindex.h"
#include "mainline.h"

/* --- version names --------------------------------------------------- */

struct parse_case {
	const char *name;
	int ok;
	unsigned int major, minor, patch, sub;
	unsigned int rc;
	const char *text;
	const char *extra;
};

static void version_parse_table(void **state)
{
	static const struct parse_case cases[] = {
		{ "v6.1/", 1, 6, 1, 0, 0, 0, "6.1", NULL },
		{ "v6.1.5/", 1, 6, 1, 5, 0, 0, "6.1.5", NULL },
		{ "v6.2-rc3/", 1, 6, 2, 0, 0, 3, "6.2-rc3", NULL },
		{ "v6.0", 1, 6, 0, 0, 0, 0, "6.0", NULL },
		{ "6.13.5", 1, 6, 13, 5, 0, 0, "6.13.5", NULL },
		{ "v4.19.285/", 1, 4, 19, 285, 0, 0, "4.19.285", NULL },
		{ "v2.6.27.61/", 1, 2, 6, 27, 61, 0, "2.6.27.61", NULL },
		{ "v4.4.10-xenial/", 1, 4, 4, 10, 0, 0, "4.4.10-xenial", "xenial" },
		{ "v4.2-rc1-unstable/", 1, 4, 2, 0, 0, 1, "4.2-rc1-unstable", "unstable" },
		{ "v4.4-rc2+cod1/", 1, 4, 4, 0, 0, 2, "4.4-rc2+cod1", "cod1" },
		{ "v5.12-rc1-dontuse/", 1, 5, 12, 0, 0, 1, "5.12-rc1-dontuse", "dontuse" },
		{ "v4.2.8-ckt7-wily/", 1, 4, 2, 8, 0, 0, "4.2.8-ckt7-wily", "ckt7-wily" },
		{ "daily/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "HEADER.html", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6./", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6.1-rc0/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6.1-/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6.1 5/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6.1.5.3.2/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v99999999.1/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "v6.1-x_y/", 0, 0, 0, 0, 0, 0, NULL, NULL },
		{ "", 0, 0, 0, 0, 0, 0, NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct mainline_version v;
		int rc = mainline_version_parse(c->name, &v);

		print_message("case %s\n", c->name);
		if (!c->ok) {
			assert_int_equal(rc, -1);
			assert_null(v.text);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(v.numbers[0], c->major);
		assert_int_equal(v.numbers[1], c->minor);
		assert_int_equal(v.numbers[2], c->patch);
		assert_int_equal(v.numbers[3], c->sub);
		assert_int_equal(v.rc, c->rc);
		assert_string_equal(v.text, c->text);
		if (c->extra)
			assert_string_equal(v.extra, c->extra);
		else
			assert_null(v.extra);
		mainline_version_release(&v);
	}
}

/* Each name sorts strictly before the next one. */
static void version_order_table(void **state)
{
	static const char *const ascending[] = {
		"v2.6.27.61/", "v3.0/", "v4.2-rc1-unstable/", "v4.2-rc1/", "v4.2/",
		"v4.4-rc2+cod1/", "v4.4-rc2/", "v4.4/", "v4.4.10-xenial/", "v4.4.10/",
		"v4.19.285/", "v5.12-rc1-dontuse/", "v5.12-rc1/", "v5.12-rc9/",
		"v5.12-rc10/", "v5.12/", "v6.1-rc8/", "v6.1/", "v6.1.5/", "v6.1.10/",
		"v6.2-rc3/", "v6.2/", "v6.10/", "v6.13.5/",
	};
	size_t n = sizeof(ascending) / sizeof(ascending[0]);

	(void)state;
	for (size_t i = 0; i + 1 < n; i++) {
		struct mainline_version a, b;

		assert_int_equal(mainline_version_parse(ascending[i], &a), 0);
		assert_int_equal(mainline_version_parse(ascending[i + 1], &b), 0);
		print_message("%s < %s\n", ascending[i], ascending[i + 1]);
		assert_true(mainline_version_compare(&a, &b) < 0);
		assert_true(mainline_version_compare(&b, &a) > 0);
		assert_int_equal(mainline_version_compare(&a, &a), 0);
		mainline_version_release(&a);
		mainline_version_release(&b);
	}
}

static void version_dot_zero_equal(void **state)
{
	struct mainline_version a, b;

	(void)state;
	assert_int_equal(mainline_version_parse("v6.1/", &a), 0);
	assert_int_equal(mainline_version_parse("6.1.0", &b), 0);
	assert_int_equal(mainline_version_compare(&a, &b), 0);
	assert_true(mainline_version_is_release(&a));
	mainline_version_release(&a);
	mainline_version_release(&b);
}

static void abi_and_kernel_release(void **state)
{
	static const struct {
		const char *name, *flavour, *abi, *release;
	} cases[] = {
		{ "v6.13.5/", "generic", "061305", "6.13.5-061305-generic" },
		{ "v6.1/", "generic", "060100", "6.1.0-060100-generic" },
		{ "v6.2-rc3/", "lowlatency", "060200rc3", "6.2.0-060200rc3-lowlatency" },
		{ "v4.19.285/", "generic", "0419285", "4.19.285-0419285-generic" },
		{ "v5.4.1/", "generic-64k", "050401", "5.4.1-050401-generic-64k" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mainline_version v;
		char *abi, *release;

		assert_int_equal(mainline_version_parse(cases[i].name, &v), 0);
		abi = mainline_abi(&v);
		release = mainline_kernel_release(&v, cases[i].flavour);
		assert_string_equal(abi, cases[i].abi);
		assert_string_equal(release, cases[i].release);
		free(abi);
		free(release);
		mainline_version_release(&v);
	}
}

static void version_from_package(void **state)
{
	static const struct {
		const char *package, *upstream, *timestamp;
	} good[] = {
		{ "6.1.5-060105.202301121031", "6.1.5", "202301121031" },
		{ "6.1.0-060100.202212112230", "6.1", "202212112230" },
		{ "6.2.0-060200rc3-generic", NULL, NULL },
		{ "6.2.0-060200rc3.202301081830", "6.2-rc3", "202301081830" },
		{ "4.19.285-0419285", "4.19.285", NULL },
		{ "6.1.5-060106.202301121031", NULL, NULL },
		{ "6.1.5-060105.", NULL, NULL },
		{ "6.1.5-060105.2023x", NULL, NULL },
		{ "5.15.0-91.101", NULL, NULL },
		{ "6.1.5", NULL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct mainline_version v;
		char *timestamp = (char *)"unset";
		int rc = mainline_version_from_package(good[i].package, &v, &timestamp);

		print_message("package version %s\n", good[i].package);
		if (!good[i].upstream) {
			assert_int_equal(rc, -1);
			assert_null(timestamp);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(v.text, good[i].upstream);
		if (good[i].timestamp)
			assert_string_equal(timestamp, good[i].timestamp);
		else
			assert_null(timestamp);
		free(timestamp);
		mainline_version_release(&v);
	}
}

static void version_find_requests(void **state)
{
	/* Newest first, as the backend sorts the root index. */
	static const char *const names[] = {
		"v6.2-rc3/", "v6.1.10/", "v6.1.5/", "v6.1/", "v6.1-rc8/",
		"v5.12-rc1-dontuse/", "v4.4.10/", "v4.4.10-xenial/",
	};
	static const struct {
		const char *request;
		long index;
		const char *timestamp;
	} cases[] = {
		{ "latest", 1, NULL },
		{ "6.1", 3, NULL },
		{ "v6.1", 3, NULL },
		{ "6.1.0", 3, NULL },
		{ "6.1.5", 2, NULL },
		{ "6.1.x", 1, NULL },
		{ "6.2-rc3", 0, NULL },
		{ "6.2", -1, NULL },
		{ "6", 1, NULL },
		{ "6.1-rc", -1, NULL },
		{ "6.1-rc8", 4, NULL },
		{ "4.4.10-xenial", 7, NULL },
		{ "4.4.10", 6, NULL },
		{ "5.12-rc1-dontuse", 5, NULL },
		{ "5.12", -1, NULL },
		{ "6.1.5-060105.202301121031", 2, "202301121031" },
		{ "6.1.5-060105", 2, NULL },
		{ "6.1.6-060106.202301121031", -1, NULL },
		{ "6.1.7", -1, NULL },
		{ "7.x", -1, NULL },
		{ "garbage", -1, NULL },
	};
	struct mainline_version versions[sizeof(names) / sizeof(names[0])];
	size_t n = sizeof(names) / sizeof(names[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mainline_version_parse(names[i], &versions[i]), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *timestamp = NULL;
		long found = mainline_version_find(versions, n, cases[i].request, &timestamp);

		print_message("request %s\n", cases[i].request);
		assert_int_equal(found, cases[i].index);
		if (cases[i].timestamp)
			assert_string_equal(timestamp, cases[i].timestamp);
		else
			assert_null(timestamp);
		free(timestamp);
	}
	for (size_t i = 0; i < n; i++)
		mainline_version_release(&versions[i]);
}

/* --- CHECKSUMS ------------------------------------------------------- */

#define SHA_A "3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed"
#define SHA_B "89e6c98d92887913cadf06b2adb97f26cde4849b89e6c98d92887913cadf06b2"
#define SHA_C "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

static const char checksums_text[] =
	"# Checksums-Sha1:\n"
	"da39a3ee5e6b4b0d3255bfef95601890afd80709  linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb\n"
	"da39a3ee5e6b4b0d3255bfef95601890afd80709  0001-base-packaging.patch\n"
	"\n"
	"# Checksums-Sha256:\n"
	SHA_A "  linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb\n"
	"89E6C98D92887913CADF06B2ADB97F26CDE4849B89E6C98D92887913CADF06B2  linux-modules-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb\r\n"
	SHA_C " *arm64/linux-modules-6.1.5-060105-generic_6.1.5-060105.202301121031_arm64.deb\n"
	SHA_C "  0001-base-packaging.patch   \n"
	SHA_A "  linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb\n";

static void checksums_both_blocks(void **state)
{
	struct repack_ctx ctx;
	struct checksums sums = { 0 };

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(checksums_parse(&ctx, "CHECKSUMS", checksums_text,
					 strlen(checksums_text), &sums), 0);
	assert_int_equal(sums.count, 4);
	assert_string_equal(checksums_find(&sums,
		"linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb"), SHA_A);
	/* Upper-case digits and a CRLF line end are accepted. */
	assert_string_equal(checksums_find(&sums,
		"linux-modules-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb"), SHA_B);
	/* A "*name" entry with a directory matches its base name. */
	assert_string_equal(checksums_find(&sums,
		"linux-modules-6.1.5-060105-generic_6.1.5-060105.202301121031_arm64.deb"), SHA_C);
	assert_string_equal(checksums_find(&sums, "0001-base-packaging.patch"), SHA_C);
	/* Only the sha256 block counts: the sha1 sum is never returned. */
	assert_null(checksums_find(&sums, "linux-headers-6.1.5-060105_6.1.5-060105.202301121031_all.deb"));
	checksums_release(&sums);
	repack_ctx_release(&ctx);
}

static void checksums_malformed(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
		{ "# Checksums-Sha1:\nda39a3ee5e6b4b0d3255bfef95601890afd80709  a.deb\n",
		  "no '# Checksums-Sha256:' block" },
		{ "", "no '# Checksums-Sha256:' block" },
		{ "<html><body><h1>404 Not Found</h1></body></html>\n", "no '# Checksums-Sha256:' block" },
		{ "# Checksums-Sha256:\n" SHA_A "\n", "line 2: expected" },
		{ "# Checksums-Sha256:\n" SHA_A "a.deb\n", "line 2: expected" },
		{ "# Checksums-Sha256:\n3f7868  a.deb\n", "line 2: expected" },
		{ "# Checksums-Sha256:\n" SHA_A "   \n", "line 2: expected" },
		{ "# Checksums-Sha256:\nda39a3ee5e6b4b0d3255bfef95601890afd80709  a.deb\n", "line 2: expected" },
		{ "# Checksums-Sha256:\n" SHA_A "  a.deb\n" SHA_B "  a.deb\n", "a.deb is listed twice" },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct checksums sums = { 0 };

		print_message("case %zu\n", i);
		assert_int_equal(checksums_parse(&ctx, "http://127.0.0.1/v6.1.5/amd64/CHECKSUMS",
						 cases[i].text, strlen(cases[i].text), &sums),
				 REPACK_EFORMAT);
		assert_non_null(strstr(ctx.error, cases[i].message));
		assert_non_null(strstr(ctx.error, "/v6.1.5/amd64/CHECKSUMS"));
		assert_int_equal(sums.count, 0);
		assert_null(sums.items);
	}
	repack_ctx_release(&ctx);
}

/* --- index pages ----------------------------------------------------- */

/* Apache 2.4 mod_autoindex with FancyIndexing and HTMLTable, as the
 * mainline root is served. */
static const char apache_table[] =
	"<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 3.2 Final//EN\">\n"
	"<html>\n <head>\n  <title>Index of /mainline</title>\n </head>\n <body>\n"
	"<h1>Index of /mainline</h1>\n  <table>\n"
	"   <tr><th valign=\"top\"><img src=\"/icons/blank.gif\" alt=\"[ICO]\"></th><th><a href=\"?C=N;O=D\">Name</a></th><th><a href=\"?C=M;O=A\">Last modified</a></th><th><a href=\"?C=S;O=A\">Size</a></th><th><a href=\"?C=D;O=A\">Description</a></th></tr>\n"
	"   <tr><th colspan=\"5\"><hr></th></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/back.gif\" alt=\"[PARENTDIR]\"></td><td><a href=\"/\">Parent Directory</a>       </td><td>&nbsp;</td><td align=\"right\">  - </td><td>&nbsp;</td></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/folder.gif\" alt=\"[DIR]\"></td><td><a href=\"daily/\">daily/</a>                 </td><td align=\"right\">2024-02-15 10:03  </td><td align=\"right\">  - </td><td>&nbsp;</td></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/folder.gif\" alt=\"[DIR]\"></td><td><a href=\"v4.4-rc2+cod1/\">v4.4-rc2+cod1/</a>         </td><td align=\"right\">2015-11-23 12:11  </td><td align=\"right\">  - </td><td>&nbsp;</td></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/folder.gif\" alt=\"[DIR]\"></td><td><a href=\"v6.1.5/\">v6.1.5/</a>                </td><td align=\"right\">2023-01-12 10:52  </td><td align=\"right\">  - </td><td>&nbsp;</td></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/text.gif\" alt=\"[TXT]\"></td><td><a href=\"a%20b%26c.txt\">a b&amp;c.txt</a></td><td align=\"right\">2023-01-12 10:52  </td><td align=\"right\">12 </td><td>&nbsp;</td></tr>\n"
	"<tr><td valign=\"top\"><img src=\"/icons/unknown.gif\" alt=\"[   ]\"></td><td><a href=\"./x:y\">x:y</a></td><td align=\"right\">2023-01-12 10:52  </td><td align=\"right\">12 </td><td>&nbsp;</td></tr>\n"
	"   <tr><th colspan=\"5\"><hr></th></tr>\n</table>\n"
	"<address>Apache/2.4.52 (Ubuntu) Server at 127.0.0.1 Port 80</address>\n"
	"</body></html>\n";

/* nginx autoindex: a <pre> listing. */
static const char nginx_pre[] =
	"<html>\r\n<head><title>Index of /mainline/</title></head>\r\n<body>\r\n"
	"<h1>Index of /mainline/</h1><hr><pre><a href=\"../\">../</a>\r\n"
	"<a href=\"v6.1/\">v6.1/</a>                                              12-Dec-2022 02:11       -\r\n"
	"<a href=\"v6.2-rc3/\">v6.2-rc3/</a>                                          08-Jan-2023 18:30       -\r\n"
	"</pre><hr></body>\r\n</html>\r\n";

static void index_apache_table(void **state)
{
	struct repack_ctx ctx;
	struct strlist entries = STRLIST_INIT;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(htmlindex_parse(&ctx, "http://127.0.0.1/mainline/", apache_table,
					 strlen(apache_table), &entries), 0);
	assert_int_equal(entries.count, 5);
	assert_string_equal(entries.items[0], "daily/");
	assert_string_equal(entries.items[1], "v4.4-rc2+cod1/");
	assert_string_equal(entries.items[2], "v6.1.5/");
	assert_string_equal(entries.items[3], "a b&c.txt");
	assert_string_equal(entries.items[4], "x:y");
	strlist_release(&entries);
	repack_ctx_release(&ctx);
}

static void index_nginx_pre(void **state)
{
	struct repack_ctx ctx;
	struct strlist entries = STRLIST_INIT;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(htmlindex_parse(&ctx, "http://127.0.0.1/", nginx_pre,
					 strlen(nginx_pre), &entries), 0);
	assert_int_equal(entries.count, 2);
	assert_string_equal(entries.items[0], "v6.1/");
	assert_string_equal(entries.items[1], "v6.2-rc3/");
	strlist_release(&entries);
	repack_ctx_release(&ctx);
}

static void index_hostile_links(void **state)
{
	static const char page[] =
		"<html><body>"
		"<a href=\"../\">up</a><a href=\"./\">here</a><a href=\"/etc/\">abs</a>"
		"<a href=\"//evil.invalid/x.deb\">proto</a><a href=\"http://evil.invalid/v9.9/\">scheme</a>"
		"<a href=\"javascript:alert(1)\">js</a><a href=\"a/../../b.deb\">dotdot</a>"
		"<a href=\"%2e%2e/x.deb\">encoded dotdot</a><a href=\"x%0a.deb\">newline</a>"
		"<a href=\"bad%zz.deb\">bad escape</a><a href=\"#top\">fragment</a>"
		"<a href=\"?C=M;O=A\">sort</a><a>no href</a><a href=\"\">empty</a>"
		"<A HREF=\"v6.1/\">upper-case tag</A><a href=\"v6.1/\">duplicate</a>"
		"<a href=\"amd64/linux-image.deb\">nested</a>"
		"<div><p><table><tr><td><a href=\"deep.deb\">deep</a></td></tr></table></p></div>"
		"<a href=\"unclosed.deb\">no end tag"
		"</body></html>";
	struct repack_ctx ctx;
	struct strlist entries = STRLIST_INIT;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(htmlindex_parse(&ctx, "http://127.0.0.1/", page, strlen(page), &entries), 0);
	assert_int_equal(entries.count, 4);
	assert_string_equal(entries.items[0], "v6.1/");
	assert_string_equal(entries.items[1], "amd64/linux-image.deb");
	assert_string_equal(entries.items[2], "deep.deb");
	assert_string_equal(entries.items[3], "unclosed.deb");
	strlist_release(&entries);
	repack_ctx_release(&ctx);
}

static void index_not_html(void **state)
{
	struct repack_ctx ctx;
	struct strlist entries = STRLIST_INIT;
	static const char text[] = "just some text with v6.1/ in it\n";

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(htmlindex_parse(&ctx, "http://127.0.0.1/empty/", "", 0, &entries),
			 REPACK_EFORMAT);
	assert_non_null(strstr(ctx.error, "http://127.0.0.1/empty/"));
	/* Text without links is a document without entries. */
	assert_int_equal(htmlindex_parse(&ctx, "http://127.0.0.1/", text, strlen(text), &entries), 0);
	assert_int_equal(entries.count, 0);
	strlist_release(&entries);
	repack_ctx_release(&ctx);
}

static void index_escape(void **state)
{
	char *s;

	(void)state;
	s = htmlindex_escape("v4.4-rc2+cod1");
	assert_string_equal(s, "v4.4-rc2+cod1");
	free(s);
	s = htmlindex_escape("amd64/a b&c?.deb");
	assert_string_equal(s, "amd64/a%20b%26c%3F.deb");
	free(s);
	s = htmlindex_escape("");
	assert_string_equal(s, "");
	free(s);
}

/* --- choosing a build ------------------------------------------------ */

static void push_all(struct strlist *list, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		strlist_push(list, names[i]);
}

static void set_two_builds(void **state)
{
	/* The newer build 202301131200 lacks its headers, so the older
	 * complete one wins unless headers are not wanted. */
	static const char *const names[] = {
		"CHECKSUMS", "CHECKSUMS.gpg", "status", "log",
		"linux-headers-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb",
		"linux-headers-6.1.5-060105_6.1.5-060105.202301121031_all.deb",
		"linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb",
		"linux-modules-6.1.5-060105-generic_6.1.5-060105.202301121031_amd64.deb",
		"linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.202301131200_amd64.deb",
		"linux-modules-6.1.5-060105-generic_6.1.5-060105.202301131200_amd64.deb",
		"linux-image-unsigned-6.1.5-060105-lowlatency_6.1.5-060105.202301131200_amd64.deb",
		"linux-modules-6.1.5-060105-lowlatency_6.1.5-060105.202301131200_amd64.deb",
		NULL,
	};
	struct strlist entries = STRLIST_INIT;
	struct mainline_set set;

	(void)state;
	push_all(&entries, names);
	assert_true(mainline_choose_set(&entries, "generic", "amd64", false, &set));
	assert_string_equal(set.version, "6.1.5-060105.202301121031");
	assert_string_equal(set.kernel_release, "6.1.5-060105-generic");
	assert_string_equal(set.image, names[6]);
	assert_string_equal(set.modules, names[7]);
	assert_string_equal(set.headers, names[4]);
	assert_string_equal(set.headers_all, names[5]);
	assert_null(set.extra);
	mainline_set_release(&set);

	assert_true(mainline_choose_set(&entries, "generic", "amd64", true, &set));
	assert_string_equal(set.version, "6.1.5-060105.202301131200");
	assert_string_equal(set.image, names[8]);
	assert_null(set.headers);
	assert_null(set.headers_all);
	mainline_set_release(&set);

	/* No complete lowlatency build: the newest bootable one, without headers. */
	assert_true(mainline_choose_set(&entries, "lowlatency", "amd64", false, &set));
	assert_string_equal(set.kernel_release, "6.1.5-060105-lowlatency");
	assert_string_equal(set.image, names[10]);
	assert_null(set.headers);
	mainline_set_release(&set);

	assert_false(mainline_choose_set(&entries, "generic", "arm64", false, &set));
	assert_null(set.version);
	strlist_release(&entries);
}

static void set_flat_legacy(void **state)
{
	/* A flat pre-4.17 directory with two arches and two flavours. */
	static const char *const names[] = {
		"BUILT", "CHECKSUMS", "CHECKSUMS.gpg", "BUILD.LOG.amd64",
		"0001-base-packaging.patch",
		"linux-headers-4.15.0-041500_4.15.0-041500.201801282230_all.deb",
		"linux-headers-4.15.0-041500-generic_4.15.0-041500.201801282230_amd64.deb",
		"linux-headers-4.15.0-041500-generic_4.15.0-041500.201801282230_i386.deb",
		"linux-image-4.15.0-041500-generic_4.15.0-041500.201801282230_amd64.deb",
		"linux-image-4.15.0-041500-generic_4.15.0-041500.201801282230_i386.deb",
		"linux-image-4.15.0-041500-lowlatency_4.15.0-041500.201801282230_amd64.deb",
		NULL,
	};
	struct strlist entries = STRLIST_INIT;
	struct mainline_set set;

	(void)state;
	push_all(&entries, names);
	assert_true(mainline_choose_set(&entries, "generic", "amd64", false, &set));
	assert_string_equal(set.image, names[8]);
	assert_null(set.modules);
	assert_string_equal(set.headers, names[6]);
	assert_string_equal(set.headers_all, names[5]);
	assert_string_equal(set.kernel_release, "4.15.0-041500-generic");
	mainline_set_release(&set);
	assert_false(mainline_choose_set(&entries, "generic", "arm64", false, &set));
	strlist_release(&entries);
}

static void set_incomplete_builds(void **state)
{
	static const char *const unsigned_without_modules[] = {
		"linux-image-unsigned-6.4.3-060403-generic_6.4.3-060403.202307110536_amd64.deb",
		"linux-headers-6.4.3-060403_6.4.3-060403.202307110536_all.deb",
		NULL,
	};
	static const char *const only_headers[] = {
		"linux-headers-6.4.3-060403_6.4.3-060403.202307110536_all.deb",
		"linux-headers-6.4.3-060403-generic_6.4.3-060403.202307110536_amd64.deb",
		"log", "status",
		NULL,
	};
	static const char *const similar_flavours[] = {
		"linux-image-unsigned-6.4.3-060403-generic-64k_6.4.3-060403.202307110536_arm64.deb",
		"linux-modules-6.4.3-060403-generic-64k_6.4.3-060403.202307110536_arm64.deb",
		NULL,
	};
	static const char *const odd_names[] = {
		"linux-image-unsigned-6.4.3-060403-generic_6.4.3-060403_amd64.deb",
		"linux-image-unsigned-6.4.3-060403-generic_6.4.3_060403.1_amd64.deb",
		"amd64/linux-image-unsigned-6.4.3-060403-generic_6.4.3-060403.1_amd64.deb",
		"linux-image-unsigned-6.4.3-060403-generic_6.4.3-060403.1_amd64.deb.html",
		NULL,
	};
	const char *const *cases[] = { unsigned_without_modules, only_headers, odd_names };
	struct mainline_set set;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strlist entries = STRLIST_INIT;

		print_message("case %zu\n", i);
		push_all(&entries, cases[i]);
		assert_false(mainline_choose_set(&entries, "generic", "amd64", false, &set));
		strlist_release(&entries);
	}

	/* "generic" never takes the generic-64k packages. */
	struct strlist entries = STRLIST_INIT;
	push_all(&entries, similar_flavours);
	assert_false(mainline_choose_set(&entries, "generic", "arm64", true, &set));
	assert_true(mainline_choose_set(&entries, "generic-64k", "arm64", true, &set));
	assert_string_equal(set.kernel_release, "6.4.3-060403-generic-64k");
	mainline_set_release(&set);
	strlist_release(&entries);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_parse_table),
		cmocka_unit_test(version_order_table),
		cmocka_unit_test(version_dot_zero_equal),
		cmocka_unit_test(abi_and_kernel_release),
		cmocka_unit_test(version_from_package),
		cmocka_unit_test(version_find_requests),
		cmocka_unit_test(checksums_both_blocks),
		cmocka_unit_test(checksums_malformed),
		cmocka_unit_test(index_apache_table),
		cmocka_unit_test(index_nginx_pre),
		cmocka_unit_test(index_hostile_links),
		cmocka_unit_test(index_not_html),
		cmocka_unit_test(index_escape),
		cmocka_unit_test(set_two_builds),
		cmocka_unit_test(set_flat_legacy),
		cmocka_unit_test(set_incomplete_builds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
