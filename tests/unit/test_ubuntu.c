/* Unit tests for the Ubuntu backend: image package names, tags, version
 * requests and the package set resolved through Depends. The index
 * stanzas copy the names, versions and Depends of Ubuntu's packages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ubuntu.h"

static void add_pkg(struct debian_index *index, const char *suite, const char *name,
		    const char *version, const char *depends)
{
	struct debian_pkg *p;

	index->items = xrealloc(index->items, (index->count + 1) * sizeof(*index->items));
	p = &index->items[index->count++];
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->version = xstrdup(version);
	p->filename = xasprintf("pool/main/l/linux/%s_%s_amd64.deb", name, version);
	p->depends = depends ? xstrdup(depends) : NULL;
	p->base = xstrdup("http://127.0.0.1/ubuntu");
	p->suite = xstrdup(suite);
	memset(p->sha256, 'a', SHA256_HEX_LEN);
	p->size = 1000;
}

/* jammy: a signed 5.15.0-91 kernel with modules and modules-extra, an
 * unsigned-only 5.15.0-88, the lowlatency flavour from its own source, a
 * 5.15.0-92 whose modules package is missing, and a metapackage. */
static void jammy_index(struct debian_index *index)
{
	add_pkg(index, "jammy-updates", "linux-image-5.15.0-91-generic", "5.15.0-91.101",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-91-generic");
	add_pkg(index, "jammy-security", "linux-image-5.15.0-91-generic", "5.15.0-91.101",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-91-generic");
	add_pkg(index, "jammy-updates", "linux-image-unsigned-5.15.0-91-generic", "5.15.0-91.101",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-91-generic");
	add_pkg(index, "jammy-updates", "linux-modules-5.15.0-91-generic", "5.15.0-91.101", NULL);
	add_pkg(index, "jammy-updates", "linux-modules-extra-5.15.0-91-generic", "5.15.0-91.101",
		"linux-image-5.15.0-91-generic | linux-image-unsigned-5.15.0-91-generic, linux-modules-5.15.0-91-generic, wireless-regdb");
	add_pkg(index, "jammy-updates", "linux-headers-5.15.0-91-generic", "5.15.0-91.101",
		"linux-headers-5.15.0-91, libc6 (>= 2.34), libelf1 (>= 0.142), libssl3 (>= 3.0.0~~alpha1), zlib1g (>= 1:1.2.3.3)");
	add_pkg(index, "jammy-updates", "linux-headers-5.15.0-91", "5.15.0-91.101",
		"coreutils | fileutils (>= 4.0)");

	add_pkg(index, "jammy-security", "linux-image-unsigned-5.15.0-88-generic", "5.15.0-88.98",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-88-generic");
	add_pkg(index, "jammy-security", "linux-modules-5.15.0-88-generic", "5.15.0-88.98", NULL);

	add_pkg(index, "jammy-updates", "linux-image-unsigned-5.15.0-91-lowlatency", "5.15.0-91.101",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-91-lowlatency");
	add_pkg(index, "jammy-updates", "linux-modules-5.15.0-91-lowlatency", "5.15.0-91.101", NULL);
	add_pkg(index, "jammy-updates", "linux-headers-5.15.0-91-lowlatency", "5.15.0-91.101",
		"linux-lowlatency-headers-5.15.0-91, libc6 (>= 2.34)");
	add_pkg(index, "jammy-updates", "linux-lowlatency-headers-5.15.0-91", "5.15.0-91.101", NULL);

	add_pkg(index, "jammy-proposed", "linux-image-5.15.0-92-generic", "5.15.0-92.102",
		"linux-base, linux-modules-5.15.0-92-generic");

	add_pkg(index, "jammy-updates", "linux-image-generic", "5.15.0.91.88",
		"linux-image-5.15.0-91-generic, linux-modules-extra-5.15.0-91-generic");
	add_pkg(index, "jammy", "linux-image-5.15.0-25-generic", "5.15.0-25.25",
		"linux-modules-5.15.0-25-generic");
	add_pkg(index, "jammy", "linux-modules-5.15.0-25-generic", "5.15.0-25.25", NULL);
}

/* focal with the jammy kernel backported as HWE, next to focal's own. */
static void focal_index(struct debian_index *index)
{
	add_pkg(index, "focal-updates", "linux-image-5.15.0-91-generic", "5.15.0-91.101~20.04.1",
		"linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-5.15.0-91-generic");
	add_pkg(index, "focal-updates", "linux-modules-5.15.0-91-generic", "5.15.0-91.101~20.04.1", NULL);
	add_pkg(index, "focal-updates", "linux-modules-extra-5.15.0-91-generic", "5.15.0-91.101~20.04.1",
		"linux-image-5.15.0-91-generic | linux-image-unsigned-5.15.0-91-generic, linux-modules-5.15.0-91-generic, wireless-regdb");
	add_pkg(index, "focal-updates", "linux-headers-5.15.0-91-generic", "5.15.0-91.101~20.04.1",
		"linux-hwe-5.15-headers-5.15.0-91, libc6 (>= 2.34), libelf1 (>= 0.142)");
	add_pkg(index, "focal-updates", "linux-hwe-5.15-headers-5.15.0-91", "5.15.0-91.101~20.04.1", NULL);
	add_pkg(index, "focal-updates", "linux-image-5.4.0-169-generic", "5.4.0-169.187",
		"linux-modules-5.4.0-169-generic");
	add_pkg(index, "focal-updates", "linux-modules-5.4.0-169-generic", "5.4.0-169.187", NULL);
}

/* xenial: before 4.15 the image held the kernel and common modules and
 * linux-image-extra the rest. */
static void xenial_index(struct debian_index *index)
{
	add_pkg(index, "xenial-updates", "linux-image-4.4.0-210-generic", "4.4.0-210.242",
		"linux-base, module-init-tools | kmod, linux-firmware");
	add_pkg(index, "xenial-updates", "linux-image-extra-4.4.0-210-generic", "4.4.0-210.242",
		"linux-image-4.4.0-210-generic, crda | wireless-crda");
	add_pkg(index, "xenial-updates", "linux-headers-4.4.0-210-generic", "4.4.0-210.242",
		"linux-headers-4.4.0-210, libc6 (>= 2.14), libssl1.0.0 (>= 1.0.0)");
	add_pkg(index, "xenial-updates", "linux-headers-4.4.0-210", "4.4.0-210.242",
		"coreutils | fileutils (>= 4.0)");
}

static void image_abi_names(void **state)
{
	static const struct {
		const char *name, *flavour, *abi;
		bool unsigned_pkg;
	} cases[] = {
		{ "linux-image-5.15.0-91-generic", "generic", "5.15.0-91", false },
		{ "linux-image-unsigned-5.15.0-91-generic", "generic", "5.15.0-91", true },
		{ "linux-image-6.8.0-31-generic-64k", "generic-64k", "6.8.0-31", false },
		{ "linux-image-6.8.0-31-generic-64k", "generic", NULL, false },
		{ "linux-image-6.8.0-31-generic", "64k", NULL, false },
		{ "linux-image-5.15.0-1050-aws", "aws", "5.15.0-1050", false },
		{ "linux-image-4.4.0-210-generic", "generic", "4.4.0-210", false },
		{ "linux-image-extra-4.4.0-210-generic", "generic", NULL, false },
		{ "linux-image-generic", "generic", NULL, false },
		{ "linux-image-generic-hwe-22.04", "generic", NULL, false },
		{ "linux-image-5.15.0-generic", "generic", NULL, false },
		{ "linux-image-5.15.0-91", "generic", NULL, false },
		{ "linux-modules-5.15.0-91-generic", "generic", NULL, false },
		{ "linux-image-5.15.0-91-generic-dbgsym", "generic", NULL, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool unsigned_pkg = false;
		char *abi = ubuntu_image_abi(cases[i].name, cases[i].flavour, &unsigned_pkg);

		print_message("%s (%s)\n", cases[i].name, cases[i].flavour);
		if (!cases[i].abi) {
			assert_null(abi);
			continue;
		}
		assert_non_null(abi);
		assert_string_equal(abi, cases[i].abi);
		assert_int_equal(unsigned_pkg, cases[i].unsigned_pkg);
		free(abi);
	}
}

static void tags(void **state)
{
	static const struct {
		const char *version, *flavour, *tag;
	} cases[] = {
		{ "5.15.0-91.101", "generic", "5.15.0-91.101" },
		{ "5.15.0-91.101", "lowlatency", "5.15.0-91.101-lowlatency" },
		{ "5.15.0-91.101~20.04.1", "generic", "5.15.0-91.101" },
		{ "6.8.0-31.31+1", "generic-64k", "6.8.0-31.31-generic-64k" },
		{ "4.4.0-210.242", "generic", "4.4.0-210.242" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *tag = ubuntu_tag(cases[i].version, cases[i].flavour, "generic");

		assert_string_equal(tag, cases[i].tag);
		free(tag);
	}
}

static void collect_newest_first(void **state)
{
	struct debian_index index = { 0 };
	struct kernel_list list = { 0 };

	(void)state;
	jammy_index(&index);
	ubuntu_collect_kernels(&index, "generic", "generic", "amd64", &list);
	/* 5.15.0-91 appears in two suites and as signed and unsigned: once. */
	assert_int_equal(list.count, 4);
	assert_string_equal(list.items[0].version, "5.15.0-92.102");
	assert_string_equal(list.items[1].version, "5.15.0-91.101");
	assert_string_equal(list.items[1].tag, "5.15.0-91.101");
	assert_string_equal(list.items[1].kernel_release, "5.15.0-91-generic");
	assert_string_equal(list.items[1].release, "jammy-updates");
	assert_string_equal(list.items[1].arch, "amd64");
	assert_string_equal(list.items[2].version, "5.15.0-88.98");
	assert_string_equal(list.items[3].version, "5.15.0-25.25");
	kernel_list_release(&list);

	ubuntu_collect_kernels(&index, "lowlatency", "generic", "amd64", &list);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.items[0].tag, "5.15.0-91.101-lowlatency");
	assert_string_equal(list.items[0].flavour, "lowlatency");
	kernel_list_release(&list);
	debian_index_release(&index);
}

static void version_requests(void **state)
{
	static const struct {
		const char *request;
		const char *version; /* first match in the newest-first list */
	} cases[] = {
		{ "latest", "5.15.0-92.102" },
		{ "5.15", "5.15.0-92.102" },
		{ "5.15.0-91", "5.15.0-91.101" },
		{ "5.15.0-91.101", "5.15.0-91.101" },
		{ "5.15.0-88", "5.15.0-88.98" },
		{ "5.15.0-9", NULL },
		{ "5.1", NULL },
		{ "5.15.0-91.10", NULL },
		{ "6.1", NULL },
	};
	struct debian_index index = { 0 };
	struct kernel_list list = { 0 };

	(void)state;
	jammy_index(&index);
	ubuntu_collect_kernels(&index, "generic", "generic", "amd64", &list);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const char *found = NULL;

		for (size_t i = 0; i < list.count && !found; i++)
			if (ubuntu_entry_matches(&list.items[i], "generic", cases[c].request))
				found = list.items[i].version;
		print_message("request %s\n", cases[c].request);
		if (cases[c].version)
			assert_string_equal(found, cases[c].version);
		else
			assert_null(found);
	}
	kernel_list_release(&list);
	debian_index_release(&index);
}

/* Resolve request in index and return the built package set. */
static int resolve(struct repack_ctx *ctx, struct debian_index *index, const char *flavour,
		   const char *request, bool no_headers, bool no_extra, struct kernel_build *build)
{
	struct kernel_list list = { 0 };
	int rc = REPACK_ENOTFOUND;

	memset(build, 0, sizeof(*build));
	ubuntu_collect_kernels(index, flavour, "generic", "amd64", &list);
	for (size_t i = 0; i < list.count; i++) {
		if (!ubuntu_entry_matches(&list.items[i], flavour, request))
			continue;
		build->kernel = list.items[i];
		memset(&list.items[i], 0, sizeof(list.items[i]));
		rc = ubuntu_add_packages(ctx, index, flavour, no_headers, no_extra, build);
		break;
	}
	kernel_list_release(&list);
	return rc;
}

static const struct package_ref *find_ref(const struct kernel_build *build, const char *name)
{
	for (size_t i = 0; i < build->package_count; i++)
		if (strcmp(build->packages[i].name, name) == 0)
			return &build->packages[i];
	return NULL;
}

/* Check that build contains exactly the names, each with its role. */
static void assert_set(const struct kernel_build *build, const char *const *names,
		       const enum layout_role *roles, size_t count)
{
	assert_int_equal(build->package_count, count);
	for (size_t i = 0; i < count; i++) {
		const struct package_ref *ref = find_ref(build, names[i]);

		print_message("package %s\n", names[i]);
		assert_non_null(ref);
		assert_int_equal(ref->role, roles[i]);
		assert_string_equal(ref->version, build->kernel.version);
	}
}

static void set_signed_with_extra(void **state)
{
	static const char *const names[] = {
		"linux-image-5.15.0-91-generic", "linux-modules-5.15.0-91-generic",
		"linux-modules-extra-5.15.0-91-generic", "linux-headers-5.15.0-91-generic",
		"linux-headers-5.15.0-91",
	};
	static const enum layout_role roles[] = {
		ROLE_IMAGE, ROLE_MODULES, ROLE_MODULES, ROLE_HEADERS, ROLE_HEADERS,
	};
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	jammy_index(&index);
	assert_int_equal(resolve(&ctx, &index, "generic", "5.15.0-91", false, false, &build), 0);
	assert_set(&build, names, roles, 5);
	assert_string_equal(find_ref(&build, names[0])->url,
			    "http://127.0.0.1/ubuntu/pool/main/l/linux/linux-image-5.15.0-91-generic_5.15.0-91.101_amd64.deb");
	kernel_build_release(&build);

	assert_int_equal(resolve(&ctx, &index, "generic", "5.15.0-91.101", true, true, &build), 0);
	assert_set(&build, names, roles, 2);
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

static void set_unsigned_fallback(void **state)
{
	static const char *const names[] = {
		"linux-image-unsigned-5.15.0-88-generic", "linux-modules-5.15.0-88-generic",
	};
	static const enum layout_role roles[] = { ROLE_IMAGE, ROLE_MODULES };
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	jammy_index(&index);
	/* No modules-extra and no headers: both are reported, not fatal. */
	assert_int_equal(resolve(&ctx, &index, "generic", "5.15.0-88", false, false, &build), 0);
	assert_set(&build, names, roles, 2);
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

static void set_flavour_headers_source(void **state)
{
	static const char *const names[] = {
		"linux-image-unsigned-5.15.0-91-lowlatency", "linux-modules-5.15.0-91-lowlatency",
		"linux-headers-5.15.0-91-lowlatency", "linux-lowlatency-headers-5.15.0-91",
	};
	static const enum layout_role roles[] = {
		ROLE_IMAGE, ROLE_MODULES, ROLE_HEADERS, ROLE_HEADERS,
	};
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	jammy_index(&index);
	assert_int_equal(resolve(&ctx, &index, "lowlatency", "latest", false, false, &build), 0);
	assert_string_equal(build.kernel.kernel_release, "5.15.0-91-lowlatency");
	assert_set(&build, names, roles, 4);
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

static void set_hwe(void **state)
{
	static const char *const names[] = {
		"linux-image-5.15.0-91-generic", "linux-modules-5.15.0-91-generic",
		"linux-modules-extra-5.15.0-91-generic", "linux-headers-5.15.0-91-generic",
		"linux-hwe-5.15-headers-5.15.0-91",
	};
	static const enum layout_role roles[] = {
		ROLE_IMAGE, ROLE_MODULES, ROLE_MODULES, ROLE_HEADERS, ROLE_HEADERS,
	};
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	focal_index(&index);
	assert_int_equal(resolve(&ctx, &index, "generic", "latest", false, false, &build), 0);
	assert_string_equal(build.kernel.version, "5.15.0-91.101~20.04.1");
	assert_string_equal(build.kernel.tag, "5.15.0-91.101");
	assert_set(&build, names, roles, 5);
	kernel_build_release(&build);

	assert_int_equal(resolve(&ctx, &index, "generic", "5.4", false, false, &build), 0);
	assert_string_equal(build.kernel.kernel_release, "5.4.0-169-generic");
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

static void set_pre_415_extra(void **state)
{
	static const char *const names[] = {
		"linux-image-4.4.0-210-generic", "linux-image-extra-4.4.0-210-generic",
		"linux-headers-4.4.0-210-generic", "linux-headers-4.4.0-210",
	};
	static const enum layout_role roles[] = {
		ROLE_IMAGE, ROLE_MODULES, ROLE_HEADERS, ROLE_HEADERS,
	};
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	xenial_index(&index);
	assert_int_equal(resolve(&ctx, &index, "generic", "4.4.0-210.242", false, false, &build), 0);
	assert_set(&build, names, roles, 4);
	kernel_build_release(&build);

	assert_int_equal(resolve(&ctx, &index, "generic", "4.4", true, true, &build), 0);
	assert_set(&build, names, roles, 1);
	assert_null(find_ref(&build, "linux-image-extra-4.4.0-210-generic"));
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

static void set_missing_modules(void **state)
{
	struct repack_ctx ctx;
	struct debian_index index = { 0 };
	struct kernel_build build;

	(void)state;
	repack_ctx_init(&ctx);
	jammy_index(&index);
	assert_int_equal(resolve(&ctx, &index, "generic", "5.15.0-92", false, false, &build),
			 REPACK_ENOTFOUND);
	assert_non_null(strstr(ctx.error, "linux-modules-5.15.0-92-generic"));
	assert_non_null(strstr(ctx.error, "linux-image-5.15.0-92-generic"));
	kernel_build_release(&build);
	debian_index_release(&index);
	repack_ctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(image_abi_names),
		cmocka_unit_test(tags),
		cmocka_unit_test(collect_newest_first),
		cmocka_unit_test(version_requests),
		cmocka_unit_test(set_signed_with_extra),
		cmocka_unit_test(set_unsigned_fallback),
		cmocka_unit_test(set_flavour_headers_source),
		cmocka_unit_test(set_hwe),
		cmocka_unit_test(set_pre_415_extra),
		cmocka_unit_test(set_missing_modules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
