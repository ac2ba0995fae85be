/* Unit tests for rpm version ordering and matching, repomd.xml, the
 * primary.xml filter and the choice of a kernel among RPM packages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rpm_kernel.h"

/* --- version ordering ---------------------------------------------------- */

struct order_case {
	const char *a, *b;
	int sign; /* of rpmver_compare(a, b) */
};

static int sign(int n)
{
	return (n > 0) - (n < 0);
}

static void rpmver_order(void **state)
{
	static const struct order_case cases[] = {
		{ "5.3.7-301.fc31", "5.3.7-300.fc31", 1 },
		{ "5.3.8-200.fc31", "5.3.7-301.fc31", 1 },
		{ "5.10.0-1.fc33", "5.9.16-200.fc33", 1 },
		{ "3.10.0-1160.el7", "3.10.0-957.el7", 1 },
		{ "3.10.0-1160.2.1.el7", "3.10.0-1160.el7", 1 },
		/* The epoch wins over everything else. */
		{ "1:4.0.0-1", "5.0.0-1", 1 },
		{ "0:5.0.0-1", "5.0.0-1", 0 },
		/* A '.rc1' suffix is one more segment, so newer than the release. */
		{ "6.0.rc1-1", "6.0-1", 1 },
		/* '~' sorts before everything, '^' after the base version. */
		{ "6.0~rc1-1", "6.0-1", -1 },
		{ "6.0~rc1-1", "6.0~rc2-1", -1 },
		{ "1.0^git1-1", "1.0-1", 1 },
		{ "1.0^git1-1", "1.0.1-1", -1 },
		/* Fedora's rc builds: release 0.rcN sorts before the final 1. */
		{ "6.0.0-0.rc4.20220906git53e99dd.36.fc38", "6.0.0-1.fc38", -1 },
		{ "6.0.0-0.rc4.36.fc38", "6.0.0-0.rc3.30.fc38", 1 },
		{ "6.0.0-0.rc4.36.fc38", "5.19.9-200.fc36", 1 },
		{ "5.3.7-301.fc31", "5.3.7-301.fc31", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s vs %s\n", cases[i].a, cases[i].b);
		assert_int_equal(sign(rpmver_compare(cases[i].a, cases[i].b)), cases[i].sign);
		assert_int_equal(sign(rpmver_compare(cases[i].b, cases[i].a)), -cases[i].sign);
	}
}

static void rpmver_format_epoch(void **state)
{
	char *plain = rpmver_format("0", "5.3.7", "301.fc31");
	char *epoch = rpmver_format("2", "5.3.7", "301.fc31");
	char *none = rpmver_format(NULL, "5.3.7", "301.fc31");

	(void)state;
	assert_string_equal(plain, "5.3.7-301.fc31");
	assert_string_equal(epoch, "2:5.3.7-301.fc31");
	assert_string_equal(none, "5.3.7-301.fc31");
	free(plain);
	free(epoch);
	free(none);
}

/* --- version matching ---------------------------------------------------- */

struct match_case {
	const char *epoch, *version, *release, *request;
	bool match;
};

static void rpmver_match_table(void **state)
{
	static const struct match_case cases[] = {
		/* An upstream version matches every build of it. */
		{ "0", "5.3.7", "300.fc31", "5.3.7", true },
		{ "0", "5.3.7", "301.fc31", "5.3.7", true },
		{ "0", "5.3.7", "301.fc31", "5.3", true },
		{ "0", "5.3.7", "301.fc31", "5", true },
		{ "0", "5.30.1", "1.fc33", "5.3", false },
		{ "0", "5.3.7", "301.fc31", "5.3.70", false },
		{ "0", "5.3.70", "1.fc31", "5.3.7", false },
		/* A full version matches that build only. */
		{ "0", "5.3.7", "301.fc31", "5.3.7-301.fc31", true },
		{ "0", "5.3.7", "300.fc31", "5.3.7-301.fc31", false },
		{ "0", "5.3.8", "301.fc31", "5.3.7-301.fc31", false },
		{ "0", "5.3.7.1", "301.fc31", "5.3.7-301.fc31", false },
		/* A release prefix ends at a '.'. */
		{ "0", "5.3.7", "301.fc31", "5.3.7-301", true },
		{ "0", "5.3.7", "3011.fc31", "5.3.7-301", false },
		{ "0", "3.10.0", "1160.2.1.el7", "3.10.0-1160", true },
		{ "0", "3.10.0", "1160.el7", "3.10.0-1160.el7", true },
		/* Epochs: given, they must agree; absent, any epoch matches. */
		{ "1", "5.3.7", "301.fc31", "1:5.3.7", true },
		{ "1", "5.3.7", "301.fc31", "1:5.3.7-301.fc31", true },
		{ "0", "5.3.7", "301.fc31", "1:5.3.7", false },
		{ "1", "5.3.7", "301.fc31", "0:5.3.7", false },
		{ "1", "5.3.7", "301.fc31", "5.3.7", true },
		{ NULL, "5.3.7", "301.fc31", "0:5.3.7", true },
		/* Upstream release candidates as Fedora builds them. */
		{ "0", "6.0.0", "0.rc4.20220906git53e99dd.36.fc38", "6.0-rc4", true },
		{ "0", "6.0.0", "0.rc4.36.fc38", "6.0.0-rc4", true },
		{ "0", "6.0.0", "0.rc40.1.fc38", "6.0-rc4", false },
		{ "0", "6.0.0", "1.fc38", "6.0-rc4", false },
		{ "0", "6.1.0", "0.rc4.1.fc38", "6.0-rc4", false },
		{ "0", "6.0.0", "0.rc4.36.fc38", "6.0.0-0.rc4", true },
		/* Tilde and caret versions. */
		{ "0", "6.0~rc1", "1", "6.0~rc1", true },
		{ "0", "6.0~rc1", "1", "6.0", true },
		{ "0", "6.0~rc1", "1", "6.0~rc2", false },
		{ "0", "1.0^git1", "1", "1.0", true },
		/* Nonsense never matches. */
		{ "0", "5.3.7", "301.fc31", "", false },
		{ "0", "5.3.7", "301.fc31", "1:", false },
		{ "0", "5.3.7", "301.fc31", "latest", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct match_case *c = &cases[i];

		print_message("%s:%s-%s vs '%s'\n", c->epoch ? c->epoch : "-", c->version,
			      c->release, c->request);
		assert_int_equal(rpmver_matches(c->epoch, c->version, c->release, c->request),
				 c->match);
	}
	assert_true(rpmver_matches_string("1:5.3.7-301.fc31", "5.3.7"));
	assert_true(rpmver_matches_string("1:5.3.7-301.fc31", "1:5.3.7-301.fc31"));
	assert_false(rpmver_matches_string("5.3.7-301.fc31", "5.3.7-300.fc31"));
}

/* --- choosing a kernel from an index -------------------------------------- */

static void add_package(struct rpm_index *index, const char *name, const char *epoch,
			const char *version, const char *release, const char *origin)
{
	struct rpm_package *p = rpm_index_add(index);

	p->name = xstrdup(name);
	p->arch = xstrdup("x86_64");
	p->epoch = xstrdup(epoch);
	p->version = xstrdup(version);
	p->release = xstrdup(release);
	p->location = xasprintf("Packages/k/%s-%s-%s.x86_64.rpm", name, version, release);
	p->base = xasprintf("http://mirror.test/%s", origin);
	p->origin = xstrdup(origin);
	p->repo = xstrdup("updates");
	if (strcmp(name, "kernel-core") == 0 || strcmp(name, "kernel") == 0)
		p->uname_r = xasprintf("%s-%s.x86_64", version, release);
	memset(p->sha256, 'a', SHA256_HEX_LEN);
}

static void add_split_kernel(struct rpm_index *index, const char *version, const char *release)
{
	static const char *const names[] = {
		"kernel", "kernel-core", "kernel-modules", "kernel-modules-extra", "kernel-devel",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		add_package(index, names[i], "0", version, release, "31");
}

static const struct rpm_kernel_style fedora_style = { "amd64", "x86_64", "default" };

static void kernel_choice(void **state)
{
	struct rpm_index index = { 0 };
	struct rpm_kernel_names names;
	struct kernel_list list = { 0 };

	(void)state;
	rpm_kernel_names_init(&names, NULL);
	add_split_kernel(&index, "5.3.7", "300.fc31");
	add_split_kernel(&index, "5.3.8", "200.fc31");
	add_split_kernel(&index, "5.3.7", "301.fc31");
	add_package(&index, "kernel-core", "0", "6.0.0", "0.rc4.36.fc31", "31");
	rpm_kernel_collect(&index, &names, &fedora_style, &list);

	/* One entry per build, from kernel-core: kernel is the empty package. */
	assert_int_equal(list.count, 4);
	assert_string_equal(list.items[0].version, "6.0.0-0.rc4.36.fc31");
	assert_string_equal(list.items[1].version, "5.3.8-200.fc31");
	assert_string_equal(list.items[2].version, "5.3.7-301.fc31");
	assert_string_equal(list.items[3].version, "5.3.7-300.fc31");
	assert_string_equal(list.items[2].tag, "5.3.7-301.fc31");
	assert_string_equal(list.items[2].kernel_release, "5.3.7-301.fc31.x86_64");
	assert_string_equal(list.items[2].release, "31");

	assert_int_equal(rpm_kernel_find(&list, "latest"), 0);
	assert_int_equal(rpm_kernel_find(&list, "5.3.7"), 2);
	assert_int_equal(rpm_kernel_find(&list, "5.3"), 1);
	assert_int_equal(rpm_kernel_find(&list, "5.3.7-300.fc31"), 3);
	assert_int_equal(rpm_kernel_find(&list, "5.3.7-300.fc31.x86_64"), 3);
	assert_int_equal(rpm_kernel_find(&list, "6.0-rc4"), 0);
	assert_int_equal(rpm_kernel_find(&list, "5.3.9"), list.count);
	kernel_list_release(&list);
	rpm_kernel_names_release(&names);
	rpm_index_release(&index);
}

static void kernel_choice_epoch_and_flavour(void **state)
{
	struct rpm_index index = { 0 };
	struct rpm_kernel_names names;
	struct kernel_list list = { 0 };
	struct rpm_kernel_style debug = { "amd64", "x86_64", "debug" };

	(void)state;
	rpm_kernel_names_init(&names, "debug");
	assert_string_equal(names.core, "kernel-debug-core");
	assert_string_equal(names.devel, "kernel-debug-devel");
	assert_string_equal(names.modules_core, "kernel-debug-modules-core");
	add_package(&index, "kernel-debug-core", "0", "6.1.0", "1.fc38", "38");
	add_package(&index, "kernel-debug-core", "1", "5.0.0", "1.fc38", "38");
	add_package(&index, "kernel-core", "0", "7.0.0", "1.fc38", "38");
	rpm_kernel_collect(&index, &names, &debug, &list);
	assert_int_equal(list.count, 2);
	assert_string_equal(list.items[0].version, "1:5.0.0-1.fc38");
	/* The epoch stays out of the tag; the flavour goes into it. */
	assert_string_equal(list.items[0].tag, "5.0.0-1.fc38-debug");
	assert_string_equal(list.items[1].kernel_release, "6.1.0-1.fc38.x86_64+debug");
	kernel_list_release(&list);
	rpm_kernel_names_release(&names);
	rpm_index_release(&index);
}

static bool build_has(const struct kernel_build *build, const char *name, enum layout_role role)
{
	for (size_t i = 0; i < build->package_count; i++)
		if (strcmp(build->packages[i].name, name) == 0)
			return build->packages[i].role == role;
	return false;
}

static void kernel_package_sets(void **state)
{
	struct repack_ctx ctx;
	struct rpm_index index = { 0 };
	struct rpm_kernel_names names;
	struct backend_options opts = { 0 };
	struct kernel_build build = { 0 };

	(void)state;
	repack_ctx_init(&ctx);
	rpm_kernel_names_init(&names, NULL);
	add_split_kernel(&index, "6.2.9", "300.fc38");
	add_package(&index, "kernel-modules-core", "0", "6.2.9", "300.fc38", "38");
	add_package(&index, "kernel-devel", "0", "6.2.10", "300.fc38", "38");
	build.kernel.version = xstrdup("6.2.9-300.fc38");
	assert_int_equal(rpm_kernel_add_packages(&ctx, "fedora", &index, &names, &opts, &build), 0);
	assert_int_equal(build.package_count, 5);
	assert_true(build_has(&build, "kernel-core", ROLE_IMAGE));
	assert_true(build_has(&build, "kernel-modules", ROLE_MODULES));
	assert_true(build_has(&build, "kernel-modules-core", ROLE_MODULES));
	assert_true(build_has(&build, "kernel-modules-extra", ROLE_MODULES));
	assert_true(build_has(&build, "kernel-devel", ROLE_HEADERS));
	assert_false(build_has(&build, "kernel", ROLE_IMAGE));
	assert_string_equal(build.packages[0].url,
			    "http://mirror.test/31/Packages/k/kernel-core-6.2.9-300.fc38.x86_64.rpm");
	assert_string_equal(build.packages[0].filename, "kernel-core-6.2.9-300.fc38.x86_64.rpm");
	assert_string_equal(build.source, "http://mirror.test/31");
	kernel_build_release(&build);

	opts.no_extra_modules = true;
	opts.no_headers = true;
	build.kernel.version = xstrdup("6.2.9-300.fc38");
	assert_int_equal(rpm_kernel_add_packages(&ctx, "fedora", &index, &names, &opts, &build), 0);
	assert_int_equal(build.package_count, 3);
	assert_false(build_has(&build, "kernel-modules-extra", ROLE_MODULES));
	assert_false(build_has(&build, "kernel-devel", ROLE_HEADERS));
	kernel_build_release(&build);

	/* CentOS 7: only the kernel package, which is the image. */
	rpm_index_release(&index);
	add_package(&index, "kernel", "0", "3.10.0", "1160.el7", "7.9.2009");
	add_package(&index, "kernel-devel", "0", "3.10.0", "1160.el7", "7.9.2009");
	opts.no_headers = false;
	build.kernel.version = xstrdup("3.10.0-1160.el7");
	assert_int_equal(rpm_kernel_add_packages(&ctx, "centos", &index, &names, &opts, &build), 0);
	assert_int_equal(build.package_count, 2);
	assert_true(build_has(&build, "kernel", ROLE_IMAGE));
	assert_true(build_has(&build, "kernel-devel", ROLE_HEADERS));
	kernel_build_release(&build);

	build.kernel.version = xstrdup("3.10.0-957.el7");
	assert_int_equal(rpm_kernel_add_packages(&ctx, "centos", &index, &names, &opts, &build),
			 REPACK_ENOTFOUND);
	kernel_build_release(&build);
	rpm_index_release(&index);
	rpm_kernel_names_release(&names);
	repack_ctx_release(&ctx);
}

static void not_found_names_nearest(void **state)
{
	struct repack_ctx ctx;
	struct rpm_index index = { 0 };
	struct rpm_kernel_names names;
	struct kernel_list list = { 0 };

	(void)state;
	repack_ctx_init(&ctx);
	rpm_kernel_names_init(&names, NULL);
	add_split_kernel(&index, "5.3.7", "301.fc31");
	add_split_kernel(&index, "5.3.8", "200.fc31");
	rpm_kernel_collect(&index, &names, &fedora_style, &list);
	assert_int_equal(rpm_kernel_not_found(&ctx, "fedora", "release 31", "5.3.6", &list),
			 REPACK_ENOTFOUND);
	assert_non_null(strstr(ctx.error, "no kernel 5.3.6 in release 31"));
	assert_non_null(strstr(ctx.error, "nearest: 5.3.8-200.fc31, 5.3.7-301.fc31"));
	kernel_list_release(&list);
	assert_int_equal(rpm_kernel_not_found(&ctx, "fedora", "release 31", "5.3.6", &list),
			 REPACK_ENOTFOUND);
	assert_non_null(strstr(ctx.error, "no kernels at all"));
	rpm_kernel_names_release(&names);
	rpm_index_release(&index);
	repack_ctx_release(&ctx);
}

/* --- repomd.xml ---------------------------------------------------------- */

static const char repomd_text[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<repomd xmlns=\"http://linux.duke.edu/metadata/repo\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\">\n"
	"  <revision>1700000000</revision>\n"
	"  <data type=\"primary_zck\">\n"
	"    <checksum type=\"sha256\">1111111111111111111111111111111111111111111111111111111111111111</checksum>\n"
	"    <location href=\"repodata/primary.xml.zck\"/>\n"
	"  </data>\n"
	"  <data type=\"primary_db\">\n"
	"    <checksum type=\"sha256\">2222222222222222222222222222222222222222222222222222222222222222</checksum>\n"
	"    <location href=\"repodata/primary.sqlite.bz2\"/>\n"
	"  </data>\n"
	"  <data type=\"primary\">\n"
	"    <checksum type=\"sha256\">ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789</checksum>\n"
	"    <open-checksum type=\"sha256\">\n"
	"      3333333333333333333333333333333333333333333333333333333333333333\n"
	"    </open-checksum>\n"
	"    <location href=\"repodata/abc-primary.xml.zst\"/>\n"
	"    <timestamp>1700000000</timestamp>\n"
	"    <size>1234</size>\n"
	"    <open-size>56789</open-size>\n"
	"  </data>\n"
	"</repomd>\n";

static void repomd_takes_primary_only(void **state)
{
	struct repack_ctx ctx;
	struct repomd_primary primary;

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(repomd_parse(&ctx, "repomd.xml", repomd_text, strlen(repomd_text), &primary), 0);
	assert_string_equal(primary.location, "repodata/abc-primary.xml.zst");
	assert_string_equal(primary.sha256,
			    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_string_equal(primary.open_sha256,
			    "3333333333333333333333333333333333333333333333333333333333333333");
	assert_int_equal(primary.size, 1234);
	repomd_primary_release(&primary);
	repack_ctx_release(&ctx);
}

struct bad_repomd {
	const char *text;
	const char *message;
};

static void repomd_rejects_bad(void **state)
{
	static const struct bad_repomd cases[] = {
		{ "this is not XML", "not valid XML" },
		{ "", "not valid XML" },
		{ "<metadata/>", "not a repomd.xml" },
		{ "<repomd><data type=\"filelists\"><location href=\"x\"/></data></repomd>",
		  "lists no primary metadata" },
		{ "<repomd><data type=\"primary\"><checksum type=\"sha\">0123456789012345678901234567890123456789</checksum>"
		  "<location href=\"p.xml.gz\"/></data></repomd>", "'sha' checksum; repack needs sha256" },
		{ "<repomd><data type=\"primary\"><checksum type=\"sha256\">0123</checksum>"
		  "<location href=\"p.xml.gz\"/></data></repomd>", "is not a sha256" },
		{ "<repomd><data type=\"primary\"><checksum type=\"sha256\">"
		  "1111111111111111111111111111111111111111111111111111111111111111</checksum></data></repomd>",
		  "lacks a location" },
		{ "<repomd><data type=\"primary\"><location href=\"p.xml.gz\"/></data>",
		  "not valid XML" },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct repomd_primary primary;

		print_message("case %zu: %s\n", i, cases[i].message);
		assert_int_equal(repomd_parse(&ctx, "repomd.xml", cases[i].text, strlen(cases[i].text),
					      &primary), REPACK_EFORMAT);
		assert_non_null(strstr(ctx.error, cases[i].message));
		assert_null(primary.location);
	}
	repack_ctx_release(&ctx);
}

/* --- primary.xml ---------------------------------------------------------- */

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"

static const char primary_text[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"5\">\n"
	"<package type=\"rpm\">\n"
	"  <name>kernel-tools</name><arch>x86_64</arch>\n"
	"  <version epoch=\"0\" ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"  <checksum type=\"sha1\" pkgid=\"YES\">0123456789012345678901234567890123456789</checksum>\n"
	"  <location href=\"Packages/k/kernel-tools-5.3.7-301.fc31.x86_64.rpm\"/>\n"
	"</package>\n"
	"<package type=\"rpm\">\n"
	"  <name>kernel-core</name>\n  <arch>x86_64</arch>\n"
	"  <version epoch=\"0\" ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"  <checksum type=\"sha256\" pkgid=\"YES\">" SHA_A "</checksum>\n"
	"  <summary>The Linux kernel &amp; its core</summary>\n"
	"  <description><![CDATA[Contains <name>fake</name> text]]></description>\n"
	"  <size package=\"31457280\" installed=\"70000000\" archive=\"71000000\"/>\n"
	"  <location href=\"Packages/k/kernel-core-5.3.7-301.fc31.x86_64.rpm\"/>\n"
	"  <format>\n"
	"    <rpm:provides>\n"
	"      <rpm:entry name=\"kernel-core\" flags=\"EQ\" epoch=\"0\" ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"      <rpm:entry name=\"kernel-uname-r\" flags=\"EQ\" epoch=\"0\" ver=\"5.3.7\" rel=\"301.fc31.x86_64\"/>\n"
	"    </rpm:provides>\n"
	"    <rpm:requires>\n"
	"      <rpm:entry name=\"kernel-uname-r\" flags=\"EQ\" epoch=\"0\" ver=\"9.9.9\" rel=\"wrong\"/>\n"
	"    </rpm:requires>\n"
	"    <file>/lib/modules/5.3.7-301.fc31.x86_64/vmlinuz</file>\n"
	"  </format>\n"
	"</package>\n"
	"<package type=\"rpm\">\n"
	"  <name>kernel-core</name><arch>aarch64</arch>\n"
	"  <version epoch=\"0\" ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"  <checksum type=\"sha256\" pkgid=\"YES\">" SHA_A "</checksum>\n"
	"  <location href=\"Packages/k/kernel-core-5.3.7-301.fc31.aarch64.rpm\"/>\n"
	"</package>\n"
	"<package type=\"rpm\">\n"
	"  <name>kernel-devel</name><arch>x86_64</arch>\n"
	"  <version ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"  <checksum type=\"sha256\">" SHA_B "</checksum>\n"
	"  <size package=\"12\"/>\n"
	"  <location href=\"Packages/k/kernel-devel-5.3.7-301.fc31.x86_64.rpm\"/>\n"
	"</package>\n"
	"<package type=\"rpm\">\n"
	"  <name>kernel-modules</name><arch>x86_64</arch>\n"
	"  <version epoch=\"2\" ver=\"5.3.7\" rel=\"301.fc31\"/>\n"
	"  <checksum type=\"sha256\">" SHA_B "</checksum>\n"
	"  <location href=\"Packages/k/kernel-modules-5.3.7-301.fc31.x86_64.rpm\"/>\n"
	"</package>\n"
	"</metadata>\n";

static const char *const kernel_names[] = { "kernel-core", "kernel-devel", "kernel-modules", NULL };
static const struct primary_filter x86_filter = { kernel_names, "x86_64" };
static const struct primary_origin origin = { "http://mirror.test/os", "31", "releases" };

/* Write text to a temporary file compressed with the command (NULL for
 * none) and return its path; caller frees. */
static char *write_compressed(const char *text, size_t len, const char *compressor)
{
	char *path = xstrdup("/tmp/repack-test-primary.XXXXXX");
	int fd = mkstemp(path);
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	if (compressor) {
		char *command = xasprintf("%s -c '%s' > '%s.z' && mv '%s.z' '%s'", compressor,
					  path, path, path, path);

		assert_int_equal(system(command), 0);
		free(command);
	}
	return path;
}

static void primary_filter_keeps_kernels(void **state)
{
	static const char *const compressors[] = { NULL, "gzip", "xz", "zstd -q", "bzip2" };
	char open_sha[SHA256_HEX_LEN + 1];
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	sha256_buffer(primary_text, strlen(primary_text), open_sha);
	for (size_t i = 0; i < sizeof(compressors) / sizeof(compressors[0]); i++) {
		struct rpm_index index = { 0 };
		char *path = write_compressed(primary_text, strlen(primary_text), compressors[i]);
		const struct rpm_package *core, *devel, *modules;

		print_message("compressor %s\n", compressors[i] ? compressors[i] : "none");
		assert_int_equal(primary_parse_file(&ctx, "primary.xml", path, open_sha, &x86_filter,
						    &origin, &index), 0);
		assert_int_equal(index.count, 3);
		core = &index.items[0];
		devel = &index.items[1];
		modules = &index.items[2];
		assert_string_equal(core->name, "kernel-core");
		assert_string_equal(core->arch, "x86_64");
		assert_string_equal(core->epoch, "0");
		assert_string_equal(core->version, "5.3.7");
		assert_string_equal(core->release, "301.fc31");
		assert_string_equal(core->sha256, SHA_A);
		assert_int_equal(core->size, 31457280);
		assert_string_equal(core->location, "Packages/k/kernel-core-5.3.7-301.fc31.x86_64.rpm");
		assert_string_equal(core->uname_r, "5.3.7-301.fc31.x86_64");
		assert_string_equal(core->base, "http://mirror.test/os");
		assert_string_equal(core->origin, "31");
		assert_string_equal(core->repo, "releases");
		/* No epoch attribute is epoch 0; upper-case digests are lowered. */
		assert_string_equal(devel->epoch, "0");
		assert_string_equal(devel->sha256,
				    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
		assert_null(devel->uname_r);
		assert_int_equal(devel->size, 12);
		assert_string_equal(modules->epoch, "2");
		assert_int_equal(modules->size, 0);
		rpm_index_release(&index);
		unlink(path);
		free(path);
	}
	repack_ctx_release(&ctx);
}

static void primary_open_checksum_mismatch(void **state)
{
	struct repack_ctx ctx;
	struct rpm_index index = { 0 };
	char *path = write_compressed(primary_text, strlen(primary_text), "gzip");

	(void)state;
	repack_ctx_init(&ctx);
	assert_int_equal(primary_parse_file(&ctx, "primary.xml.gz", path,
					    "3333333333333333333333333333333333333333333333333333333333333333",
					    &x86_filter, &origin, &index), REPACK_EVERIFY);
	assert_non_null(strstr(ctx.error, "does not match the open-checksum"));
	rpm_index_release(&index);
	/* Without an open-checksum only the parse counts. */
	assert_int_equal(primary_parse_file(&ctx, "primary.xml.gz", path, "", &x86_filter,
					    &origin, &index), 0);
	assert_int_equal(index.count, 3);
	rpm_index_release(&index);
	unlink(path);
	free(path);
	repack_ctx_release(&ctx);
}

struct bad_primary {
	const char *text;
	const char *compressor;
	const char *message;
	int code;
};

static void primary_rejects_bad(void **state)
{
	static const struct bad_primary cases[] = {
		{ "this is not XML at all\n", "gzip", "not a valid primary.xml, the XML parser stopped at line 1", REPACK_EFORMAT },
		{ "", NULL, "not a valid primary.xml", REPACK_EFORMAT },
		{ "<metadata><package><name>kernel-core</name>", "xz", "not a valid primary.xml",
		  REPACK_EFORMAT },
		{ "<repomd/>", NULL, "root element is not <metadata>", REPACK_EFORMAT },
		{ "<metadata><package><name>kernel-core</name><arch>x86_64</arch>"
		  "<version ver=\"1\" rel=\"1\"/><checksum type=\"sha1\">0123</checksum>"
		  "<location href=\"k.rpm\"/></package></metadata>", NULL,
		  "'sha1' checksum; repack needs sha256", REPACK_EFORMAT },
		{ "<metadata><package><name>kernel-core</name><arch>x86_64</arch>"
		  "<version ver=\"1\" rel=\"1\"/><checksum type=\"sha256\">" SHA_A "</checksum>"
		  "</package></metadata>", NULL, "lacks a valid version, checksum or location",
		  REPACK_EFORMAT },
	};
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rpm_index index = { 0 };
		char *path = write_compressed(cases[i].text, strlen(cases[i].text), cases[i].compressor);

		print_message("case %zu: %s\n", i, cases[i].message);
		assert_int_equal(primary_parse_file(&ctx, "primary.xml", path, NULL, &x86_filter,
						    &origin, &index), cases[i].code);
		assert_non_null(strstr(ctx.error, cases[i].message));
		rpm_index_release(&index);
		unlink(path);
		free(path);
	}
	repack_ctx_release(&ctx);
}

static void primary_truncated_zstd(void **state)
{
	struct repack_ctx ctx;
	struct rpm_index index = { 0 };
	struct strbuf big = STRBUF_INIT;
	char *path, *command;

	(void)state;
	repack_ctx_init(&ctx);
	strbuf_addstr(&big, "<metadata>");
	for (int i = 0; i < 4000; i++)
		strbuf_addf(&big, "<package><name>pkg-%d</name><arch>x86_64</arch>"
			    "<description>%d padding padding padding</description></package>\n", i, i * 7919);
	strbuf_addstr(&big, "</metadata>");
	path = write_compressed(big.buf, big.len, "zstd -q");
	command = xasprintf("truncate -s $(($(stat -c %%s '%s') / 2)) '%s'", path, path);
	assert_int_equal(system(command), 0);
	assert_int_equal(primary_parse_file(&ctx, "primary.xml.zst", path, NULL, &x86_filter,
					    &origin, &index), REPACK_EFORMAT);
	assert_non_null(strstr(ctx.error, "primary.xml.zst"));
	rpm_index_release(&index);
	unlink(path);
	free(path);
	free(command);
	strbuf_release(&big);
	repack_ctx_release(&ctx);
}

static void request_helpers(void **state)
{
	char *v;

	(void)state;
	v = rpm_request_version("5.3.7-301.fc31");
	assert_string_equal(v, "5.3.7");
	free(v);
	v = rpm_request_version("1:5.3.7");
	assert_string_equal(v, "5.3.7");
	free(v);
	assert_string_equal(rpm_arch_for("amd64"), "x86_64");
	assert_string_equal(rpm_arch_for("arm64"), "aarch64");
	assert_null(rpm_arch_for("riscv64"));
	v = rpm_trim_url("http://mirror.test/fedora//");
	assert_string_equal(v, "http://mirror.test/fedora");
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rpmver_order),
		cmocka_unit_test(rpmver_format_epoch),
		cmocka_unit_test(rpmver_match_table),
		cmocka_unit_test(kernel_choice),
		cmocka_unit_test(kernel_choice_epoch_and_flavour),
		cmocka_unit_test(kernel_package_sets),
		cmocka_unit_test(not_found_names_nearest),
		cmocka_unit_test(repomd_takes_primary_only),
		cmocka_unit_test(repomd_rejects_bad),
		cmocka_unit_test(primary_filter_keeps_kernels),
		cmocka_unit_test(primary_open_checksum_mismatch),
		cmocka_unit_test(primary_rejects_bad),
		cmocka_unit_test(primary_truncated_zstd),
		cmocka_unit_test(request_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
