/* Unit tests for the layout map and the unpack path rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "layout.h"
#include "unpack.h"

struct classify_case {
	enum layout_role role;
	const char *path;
	enum layout_dest dest;
	const char *image_path; /* NULL when not checked */
	const char *kver;       /* NULL when not checked */
};

static const struct classify_case classify_cases[] = {
	/* Debian and Ubuntu: kernel, config and map in /boot. */
	{ ROLE_IMAGE, "boot/vmlinuz-6.1.0-37-cloud-amd64", DEST_KERNEL, NULL, "6.1.0-37-cloud-amd64" },
	{ ROLE_IMAGE, "boot/config-6.1.0-37-cloud-amd64", DEST_CONFIG, NULL, "6.1.0-37-cloud-amd64" },
	{ ROLE_IMAGE, "boot/System.map-6.1.0-37-amd64", DEST_SYSTEM_MAP, NULL, "6.1.0-37-amd64" },
	{ ROLE_IMAGE, "boot/vmlinux-6.1.0-37-arm64", DEST_KERNEL, NULL, "6.1.0-37-arm64" },
	{ ROLE_IMAGE, "boot/initrd.img-6.1.0-37-amd64", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "boot/vmlinuz-", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "boot", DEST_SKIP, NULL, NULL },
	/* Modules, usr-merged or not. */
	{ ROLE_IMAGE, "lib/modules/6.1.0-37-amd64/kernel/drivers/net/virtio_net.ko", DEST_MODULES,
	  "lib/modules/6.1.0-37-amd64/kernel/drivers/net/virtio_net.ko", "6.1.0-37-amd64" },
	{ ROLE_MODULES, "usr/lib/modules/6.12.43+deb13-amd64/kernel/fs/ext4/ext4.ko.xz", DEST_MODULES,
	  "lib/modules/6.12.43+deb13-amd64/kernel/fs/ext4/ext4.ko.xz", "6.12.43+deb13-amd64" },
	{ ROLE_IMAGE, "lib/modules/6.1.0-37-amd64", DEST_MODULES, "lib/modules/6.1.0-37-amd64", "6.1.0-37-amd64" },
	{ ROLE_IMAGE, "lib/modules", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "lib/modules/6.1.0-37-amd64/build", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "lib/modules/6.1.0-37-amd64/source", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "lib/modules/6.1.0-37-amd64/build/Makefile", DEST_MODULES, NULL, NULL },
	/* Fedora: kernel files inside the modules directory. */
	{ ROLE_IMAGE, "lib/modules/5.3.7-301.fc31.x86_64/vmlinuz", DEST_KERNEL, NULL, "5.3.7-301.fc31.x86_64" },
	{ ROLE_IMAGE, "lib/modules/5.3.7-301.fc31.x86_64/config", DEST_CONFIG, NULL, "5.3.7-301.fc31.x86_64" },
	{ ROLE_IMAGE, "lib/modules/5.3.7-301.fc31.x86_64/System.map", DEST_SYSTEM_MAP, NULL, NULL },
	{ ROLE_IMAGE, "usr/lib/modules/6.5.6-300.fc39.aarch64/vmlinuz", DEST_KERNEL, NULL, "6.5.6-300.fc39.aarch64" },
	{ ROLE_IMAGE, "lib/modules/5.3.7-301.fc31.x86_64/symvers.gz", DEST_MODULES, NULL, NULL },
	/* Everything else in image packages is left out. */
	{ ROLE_IMAGE, "usr/share/doc/linux-image-6.1.0-37-amd64/changelog.gz", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "usr/lib/linux/triggers/foo", DEST_SKIP, NULL, NULL },
	{ ROLE_IMAGE, "etc/kernel/postinst.d/x", DEST_SKIP, NULL, NULL },
	/* Header packages go whole into kernel-dev.tar, minus docs. */
	{ ROLE_HEADERS, "usr/src/linux-headers-6.1.0-37-common/Makefile", DEST_HEADERS,
	  "usr/src/linux-headers-6.1.0-37-common/Makefile", NULL },
	{ ROLE_HEADERS, "usr/lib/linux-kbuild-6.1/scripts/mod/modpost", DEST_HEADERS,
	  "usr/lib/linux-kbuild-6.1/scripts/mod/modpost", NULL },
	{ ROLE_HEADERS, "usr/lib/modules/6.12.43+deb13-amd64/build", DEST_HEADERS,
	  "lib/modules/6.12.43+deb13-amd64/build", NULL },
	{ ROLE_HEADERS, "usr/share/doc/linux-headers-6.1.0-37-amd64/copyright", DEST_SKIP, NULL, NULL },
	{ ROLE_HEADERS, "usr/share/lintian/overrides/x", DEST_SKIP, NULL, NULL },
	{ ROLE_HEADERS, "usr/share/doc", DEST_SKIP, NULL, NULL },
	{ ROLE_HEADERS, "usr/share/docs-kept", DEST_HEADERS, "usr/share/docs-kept", NULL },
};

static void classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		const struct classify_case *c = &classify_cases[i];
		struct strbuf image_path = STRBUF_INIT, kver = STRBUF_INIT;
		enum layout_dest dest = layout_classify(c->role, c->path, &image_path, &kver);

		print_message("%s\n", c->path);
		assert_int_equal(dest, c->dest);
		if (c->image_path)
			assert_string_equal(image_path.buf, c->image_path);
		if (c->kver)
			assert_string_equal(kver.buf, c->kver);
		strbuf_release(&image_path);
		strbuf_release(&kver);
	}
}

static void system_map_stub(void **state)
{
	const char *stub = "ffffffffffffffff B The real System.map is in the linux-image-6.1.0-37-amd64-dbg package\n";
	struct strbuf real = STRBUF_INIT;

	(void)state;
	assert_true(layout_system_map_is_stub(stub, strlen(stub)));
	for (int i = 0; i < 1000; i++)
		strbuf_addf(&real, "ffffffff81%06x T symbol_%d\n", i * 16, i);
	assert_false(layout_system_map_is_stub(real.buf, real.len));
	strbuf_release(&real);
}

struct path_case {
	const char *path;
	int rc;
	const char *normal;
};

static const struct path_case path_cases[] = {
	{ "./usr/lib/modules/x.ko", 0, "usr/lib/modules/x.ko" },
	{ "usr//lib/./x", 0, "usr/lib/x" },
	{ "./", 0, "" },
	{ "boot/", 0, "boot" },
	{ "/etc/passwd", REPACK_EUNPACK, NULL },
	{ "../escape", REPACK_EUNPACK, NULL },
	{ "./usr/../../etc/shadow", REPACK_EUNPACK, NULL },
	{ "usr/lib/..", REPACK_EUNPACK, NULL },
	{ "usr/..hidden/x", 0, "usr/..hidden/x" },
};

static void normalise_paths(void **state)
{
	struct repack_ctx ctx;

	(void)state;
	repack_ctx_init(&ctx);
	for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		struct strbuf out = STRBUF_INIT;
		int rc = unpack_normalise_path(&ctx, "pkg.deb", path_cases[i].path, &out);

		print_message("%s\n", path_cases[i].path);
		assert_int_equal(rc, path_cases[i].rc);
		if (rc == 0)
			assert_string_equal(out.buf, path_cases[i].normal);
		else
			assert_non_null(strstr(ctx.error, "pkg.deb"));
		strbuf_release(&out);
	}
	repack_ctx_release(&ctx);
}

static void symlink_safety(void **state)
{
	(void)state;
	assert_true(unpack_symlink_is_safe("lib/modules/6.1/build", "/usr/src/linux-headers-6.1"));
	assert_true(unpack_symlink_is_safe("usr/src/linux-headers-6.1/scripts",
					   "../../lib/linux-kbuild-6.1/scripts"));
	assert_true(unpack_symlink_is_safe("boot/vmlinuz", "vmlinuz-6.1"));
	assert_true(unpack_symlink_is_safe("a/b", "./c/../d"));
	assert_false(unpack_symlink_is_safe("a", "../etc/passwd"));
	assert_false(unpack_symlink_is_safe("usr/src/x", "../../../etc"));
	assert_false(unpack_symlink_is_safe("x", ""));
	assert_false(unpack_symlink_is_safe("a/b", "/../../etc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify_table),
		cmocka_unit_test(system_map_stub),
		cmocka_unit_test(normalise_paths),
		cmocka_unit_test(symlink_safety),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
