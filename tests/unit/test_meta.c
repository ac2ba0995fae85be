/* Unit tests for control-file parsing, Release files, apt sources and
 * Debian version ordering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend.h"
#include "meta.h"

struct collected {
	struct strlist names;
	struct strlist depends;
};

static int collect(void *user, const struct deb822_stanza *st)
{
	struct collected *c = user;
	char *name = deb822_dup(st, "Package");
	char *depends = deb822_dup(st, "Depends");

	strlist_push_owned(&c->names, name ? name : xstrdup("(none)"));
	strlist_push_owned(&c->depends, depends ? depends : xstrdup(""));
	return 0;
}

static const char packages_text[] =
	"Package: linux-image-6.1.0-37-cloud-amd64\n"
	"Version: 6.1.140-1\n"
	"Depends: kmod,\n"
	" linux-base (>= 4.3~)\n"
	"Description: Linux for cloud\n"
	" continued\n"
	" .\n"
	"\n"
	"\n"
	"# a comment between stanzas\n"
	"Package: linux-headers-6.1.0-37-common\r\n"
	"Version: 6.1.140-1\r\n"
	"\r\n"
	"Package: last-without-newline\n"
	"Version: 1";

static void deb822_stanzas(void **state)
{
	struct repack_ctx ctx;
	struct collected c = { STRLIST_INIT, STRLIST_INIT };

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(deb822_parse(&ctx, "Packages", packages_text, strlen(packages_text),
				      collect, &c), 0);
	assert_int_equal(c.names.count, 3);
	assert_string_equal(c.names.items[0], "linux-image-6.1.0-37-cloud-amd64");
	assert_string_equal(c.depends.items[0], "kmod,\n linux-base (>= 4.3~)");
	assert_string_equal(c.names.items[1], "linux-headers-6.1.0-37-common");
	assert_string_equal(c.names.items[2], "last-without-newline");
	strlist_release(&c.names);
	strlist_release(&c.depends);
	repack_ctx_release(&ctx);
}

static void deb822_malformed(void **state)
{
	static const char *const bad[] = {
		" continuation first\n",
		"Package linux-image\n",
		": no name\n",
		"<html><body>404</body></html>\n",
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct collected c = { STRLIST_INIT, STRLIST_INIT };

		assert_int_equal(deb822_parse(&ctx, "Packages", bad[i], strlen(bad[i]), collect, &c),
				 REPACK_EFORMAT);
		assert_non_null(strstr(ctx.error, "Packages:1"));
		strlist_release(&c.names);
		strlist_release(&c.depends);
	}
	repack_ctx_release(&ctx);
}

/* Write text to a temporary file, compressed with the given command. */
static char *write_compressed(const char *text, const char *compressor)
{
	char *path = xstrdup("/tmp/repack-test-meta.XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	char *command;

	fputs(text, f);
	fclose(f);
	if (compressor) {
		command = xasprintf("%s -c '%s' > '%s.z' && mv '%s.z' '%s'", compressor, path, path, path, path);
		assert_int_equal(system(command), 0);
		free(command);
	}
	return path;
}

static void deb822_compressed_files(void **state)
{
	static const char *const compressors[] = { NULL, "xz", "gzip", "zstd -q", "bzip2" };
	struct strbuf big = STRBUF_INIT;
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	/* Large enough that stanzas cross the reader's 64 KiB chunks. */
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&big, "Package: pkg-%d\nVersion: 1.%d\nDescription: padding\n some text\n\n", i, i);
	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		struct collected c = { STRLIST_INIT, STRLIST_INIT };
		char *path = write_compressed(big.buf, compressors[i]);

		print_message("compressor %s\n", compressors[i] ? compressors[i] : "none");
		assert_int_equal(deb822_parse_file(&ctx, "Packages", path, collect, &c), 0);
		assert_int_equal(c.names.count, 5000);
		assert_string_equal(c.names.items[4999], "pkg-4999");
		unlink(path);
		free(path);
		strlist_release(&c.names);
		strlist_release(&c.depends);
	}
	strbuf_release(&big);
	repack_ctx_release(&ctx);
}

static void deb822_truncated_xz(void **state)
{
	struct repack_ctx ctx;
	struct collected c = { STRLIST_INIT, STRLIST_INIT };
	struct strbuf big = STRBUF_INIT;
	char *path, *command;

	(void)state;
	repack_ctx_init(&ctx);
	for (int i = 0; i < 3000; i++)
		strbuf_addf(&big, "Package: pkg-%d\nVersion: %d\n\n", i, i);
	path = write_compressed(big.buf, "xz");
	/* Cut the compressed stream in half. */
	command = xasprintf("truncate -s $(($(stat -c %%s '%s') / 2)) '%s'", path, path);
	assert_int_equal(system(command), 0);
	assert_int_equal(deb822_parse_file(&ctx, "Packages.xz", path, collect, &c), REPACK_EFORMAT);
	assert_non_null(strstr(ctx.error, "Packages.xz"));
	unlink(path);
	free(path);
	free(command);
	strbuf_release(&big);
	strlist_release(&c.names);
	strlist_release(&c.depends);

	/* An empty suite's index decompresses to nothing: no stanzas, no error. */
	path = write_compressed("", "xz");
	assert_int_equal(deb822_parse_file(&ctx, "Packages.xz", path, collect, &c), 0);
	assert_int_equal(c.names.count, 0);
	unlink(path);
	free(path);
	repack_ctx_release(&ctx);
}

static const char release_text[] =
	"Origin: Debian\n"
	"Suite: stable\n"
	"Codename: bookworm\n"
	"MD5Sum:\n"
	" 0123456789abcdef0123456789abcdef 1000 main/binary-amd64/Packages\n"
	"SHA256:\n"
	" 1111111111111111111111111111111111111111111111111111111111111111 45000000 main/binary-amd64/Packages\n"
	" 2222222222222222222222222222222222222222222222222222222222222222 9000000 main/binary-amd64/Packages.xz\n"
	" 3333333333333333333333333333333333333333333333333333333333333333 12 main/binary-arm64/Release\n";

static void release_sha256(void **state)
{
	struct repack_ctx ctx;
	struct release release;
	const struct release_file *f;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(release_parse(&ctx, "Release", release_text, strlen(release_text), &release), 0);
	assert_string_equal(release.codename, "bookworm");
	assert_string_equal(release.suite, "stable");
	assert_int_equal(release.file_count, 3);
	f = release_find(&release, "main/binary-amd64/Packages.xz");
	assert_non_null(f);
	assert_int_equal(f->size, 9000000);
	assert_string_equal(f->sha256, "2222222222222222222222222222222222222222222222222222222222222222");
	assert_null(release_find(&release, "main/binary-amd64/Packages.gz"));
	release_release(&release);

	const char *no_sha = "Origin: Debian\nSuite: stable\n";
	assert_int_equal(release_parse(&ctx, "Release", no_sha, strlen(no_sha), &release), REPACK_EFORMAT);
	const char *bad_line = "Suite: x\nSHA256:\n nothex 12 path\n";
	assert_int_equal(release_parse(&ctx, "Release", bad_line, strlen(bad_line), &release), REPACK_EFORMAT);
	repack_ctx_release(&ctx);
}

struct order_case {
	const char *older;
	const char *newer;
};

static const struct order_case order_cases[] = {
	{ "6.1.140-1", "6.1.141-1" },
	{ "6.1.99-1", "6.1.140-1" },
	{ "6.1.140-1~bpo11+1", "6.1.140-1" },
	{ "6.1.140-1", "6.1.140-1+deb12u1" },
	{ "6.12~rc4-1~exp1", "6.12-1" },
	{ "9.9-1", "1:0.1-1" },
	{ "6.1.140-1", "6.1.140-2" },
	{ "5.10.0-1", "5.10.0-1.1" },
};

static void debver_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(order_cases) / sizeof(order_cases[0]); i++) {
		print_message("%s < %s\n", order_cases[i].older, order_cases[i].newer);
		assert_true(debver_compare(order_cases[i].older, order_cases[i].newer) < 0);
		assert_true(debver_compare(order_cases[i].newer, order_cases[i].older) > 0);
	}
	assert_int_equal(debver_compare("1:6.1-1", "1:6.1-1"), 0);
	assert_true(debver_valid("6.1.140-1"));
	assert_false(debver_valid(""));
	assert_false(debver_valid("a:1"));
}

static void debver_relations(void **state)
{
	(void)state;
	assert_true(debver_satisfies("6.1.140-1", "=", "6.1.140-1"));
	assert_false(debver_satisfies("6.1.140-2", "=", "6.1.140-1"));
	assert_true(debver_satisfies("6.1.140-2", ">=", "6.1.140-1"));
	assert_true(debver_satisfies("6.1.140-1", "<=", "6.1.140-1"));
	assert_true(debver_satisfies("6.1.139-1", "<<", "6.1.140-1"));
	assert_true(debver_satisfies("6.1.141-1", ">>", "6.1.140-1"));
	assert_false(debver_satisfies("6.1.140-1", ">>", "6.1.140-1"));
	assert_false(debver_satisfies("6.1.140-1", "!=", "6.1.140-1"));
}

static void prefix_matching(void **state)
{
	(void)state;
	assert_true(version_matches_prefix("6.1.140-1", "6.1"));
	assert_true(version_matches_prefix("6.1.140-1", "6.1.140"));
	assert_true(version_matches_prefix("6.1.140-1", "6.1.140-1"));
	assert_true(version_matches_prefix("6.12.43+deb13-1", "6.12.43"));
	assert_false(version_matches_prefix("6.10.2-1", "6.1"));
	assert_false(version_matches_prefix("6.1.140-1", "6.1.14"));
	assert_false(version_matches_prefix("6.1", "6.1.140"));
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void apt_sources_both_formats(void **state)
{
	struct repack_ctx ctx;
	struct apt_sources sources;
	char dir[] = "/tmp/repack-apt.XXXXXX";
	char *path;

	(void)state;
	repack_ctx_init(&ctx);
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/sources.list", dir);
	write_text(path, "# comment\n"
		   "deb [arch=amd64 signed-by=/k.gpg] http://mirror.test/debian bookworm main contrib\n"
		   "deb-src http://mirror.test/debian bookworm main\n");
	free(path);
	path = xasprintf("%s/sources.list.d", dir);
	assert_int_equal(mkdir_p(&ctx, path), 0);
	free(path);
	path = xasprintf("%s/sources.list.d/debian.sources", dir);
	write_text(path, "Types: deb deb-src\n"
		   "URIs: http://security.test/debian-security\n"
		   "Suites: bookworm-security\n"
		   "Components: main\n"
		   "\n"
		   "Types: deb\n"
		   "URIs: http://disabled.test/debian\n"
		   "Suites: trixie\n"
		   "Enabled: no\n");
	free(path);
	path = xasprintf("%s/sources.list.d/other.list.disabled", dir);
	write_text(path, "deb http://ignored.test/x stable main\n");
	free(path);

	assert_int_equal(apt_sources_read(&ctx, dir, &sources), 0);
	assert_int_equal(sources.count, 2);
	assert_string_equal(sources.items[0].uri, "http://mirror.test/debian");
	assert_string_equal(sources.items[0].suites.items[0], "bookworm");
	assert_int_equal(sources.items[0].components.count, 2);
	assert_string_equal(sources.items[1].uri, "http://security.test/debian-security");
	assert_string_equal(sources.items[1].suites.items[0], "bookworm-security");
	apt_sources_release(&sources);
	rm_rf(dir);
	repack_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deb822_stanzas),
		cmocka_unit_test(deb822_malformed),
		cmocka_unit_test(deb822_compressed_files),
		cmocka_unit_test(deb822_truncated_xz),
		cmocka_unit_test(release_sha256),
		cmocka_unit_test(debver_order),
		cmocka_unit_test(debver_relations),
		cmocka_unit_test(prefix_matching),
		cmocka_unit_test(apt_sources_both_formats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
