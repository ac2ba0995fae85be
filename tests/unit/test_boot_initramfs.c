/* Unit tests for the boot initramfs writer, the busybox checks and the
 * kernel header check. The initramfs is read back with libarchive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "../../src/boot/internal.h"

struct fixture {
	struct repack_ctx ctx;
	char *dir;
	char *busybox;
	char *tar;
	char *out;
	struct strlist modules;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	repack_ctx_init(&f->ctx);
	if (make_temp_dir(&f->ctx, "test-boot-initramfs", &f->dir))
		return -1;
	f->busybox = xasprintf("%s/busybox", f->dir);
	f->tar = xasprintf("%s/kernel.tar", f->dir);
	f->out = xasprintf("%s/initramfs.cpio", f->dir);
	write_file_atomic(&f->ctx, f->busybox, "BUSYBOX", 7);
	strlist_push(&f->modules, "virtio_net");
	strlist_push(&f->modules, "e1000");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rm_rf(f->dir);
	free(f->dir);
	free(f->busybox);
	free(f->tar);
	free(f->out);
	strlist_release(&f->modules);
	repack_ctx_release(&f->ctx);
	free(f);
	return 0;
}

/* One tar entry to write: type 'f' file, 'd' directory, 'l' symlink,
 * 'h' hard link, 'c' character device. */
struct tar_entry {
	char type;
	const char *path;
	const char *data; /* contents, or the link target */
};

static void write_tar(const char *path, const struct tar_entry *entries, size_t count)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
	for (size_t i = 0; i < count; i++) {
		struct archive_entry *e = archive_entry_new();
		const struct tar_entry *t = &entries[i];

		archive_entry_set_pathname(e, t->path);
		switch (t->type) {
		case 'f':
			archive_entry_set_mode(e, S_IFREG | 0644);
			archive_entry_set_size(e, (la_int64_t)strlen(t->data));
			break;
		case 'd':
			archive_entry_set_mode(e, S_IFDIR | 0755);
			break;
		case 'l':
			archive_entry_set_mode(e, S_IFLNK | 0777);
			archive_entry_set_symlink(e, t->data);
			break;
		case 'h':
			archive_entry_set_mode(e, S_IFREG | 0644);
			archive_entry_set_hardlink(e, t->data);
			break;
		case 'c':
			archive_entry_set_mode(e, S_IFCHR | 0600);
			archive_entry_set_rdev(e, makedev(1, 3));
			break;
		}
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (t->type == 'f')
			archive_write_data(a, t->data, strlen(t->data));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
}

/* What the initramfs holds, in archive order. */
struct read_entry {
	char *path;
	mode_t mode;
	dev_t rdev;
	int64_t ino;
	char *link;
	char *data;
};

struct read_list {
	struct read_entry items[512];
	size_t count;
};

static void read_cpio(const char *path, struct read_list *list)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	archive_read_support_filter_all(a);
	archive_read_support_format_cpio(a);
	assert_int_equal(archive_read_open_filename(a, path, 10240), ARCHIVE_OK);
	list->count = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct read_entry *r = &list->items[list->count++];
		struct strbuf sb = STRBUF_INIT;
		char buf[4096];
		la_ssize_t n;

		r->path = xstrdup(archive_entry_pathname(e));
		r->mode = archive_entry_mode(e);
		r->rdev = archive_entry_rdev(e);
		r->ino = archive_entry_ino64(e);
		r->link = archive_entry_symlink(e) ? xstrdup(archive_entry_symlink(e)) : NULL;
		while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
			strbuf_add(&sb, buf, (size_t)n);
		r->data = strbuf_detach(&sb, NULL);
	}
	archive_read_free(a);
}

static void read_list_release(struct read_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].path);
		free(list->items[i].link);
		free(list->items[i].data);
	}
}

static const struct read_entry *find(const struct read_list *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].path, path) == 0)
			return &list->items[i];
	return NULL;
}

static size_t position(const struct read_list *list, const char *path)
{
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->items[i].path, path) == 0)
			return i;
	return SIZE_MAX;
}

static const struct tar_entry modules_tar[] = {
	{ 'f', "./lib/modules/6.1.0-1/kernel/drivers/net/virtio_net.ko", "VIRTIO" },
	{ 'f', "lib/modules/6.1.0-1/modules.dep", "kernel/drivers/net/virtio_net.ko:\n" },
	{ 'l', "lib/modules/6.1.0-1/build", "/usr/src/linux-headers-6.1.0-1" },
	{ 'h', "lib/modules/6.1.0-1/kernel/drivers/net/copy.ko",
	  "lib/modules/6.1.0-1/kernel/drivers/net/virtio_net.ko" },
	{ 'f', "usr/share/doc/linux/copyright", "not copied" },
};

static void check_layout(const struct read_list *list)
{
	const struct read_entry *e;

	/* Every entry's parent directory comes before it. */
	for (size_t i = 0; i < list->count; i++) {
		char *parent = xstrdup(list->items[i].path);
		char *slash = strrchr(parent, '/');

		if (slash) {
			*slash = '\0';
			print_message("entry %s\n", list->items[i].path);
			assert_true(position(list, parent) < i);
			assert_true(S_ISDIR(find(list, parent)->mode));
		}
		for (size_t j = 0; j < i; j++)
			assert_true(list->items[j].ino != list->items[i].ino);
		free(parent);
	}
	e = find(list, "dev/console");
	assert_non_null(e);
	assert_true(S_ISCHR(e->mode));
	assert_int_equal(major(e->rdev), 5);
	assert_int_equal(minor(e->rdev), 1);
	e = find(list, "bin/busybox");
	assert_non_null(e);
	assert_string_equal(e->data, "BUSYBOX");
	assert_int_equal(e->mode & 0777, 0755);
	e = find(list, "bin/modprobe");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode));
	assert_string_equal(e->link, "busybox");
	e = find(list, "init");
	assert_non_null(e);
	assert_int_equal(e->mode & 0777, 0755);
	assert_true(str_starts_with(e->data, "#!/bin/sh\n"));
	assert_non_null(strstr(e->data, "for m in virtio_net e1000; do"));
	assert_non_null(strstr(e->data, "poweroff -f"));
}

static void check_modules(const struct read_list *list)
{
	const struct read_entry *e;

	e = find(list, "lib/modules/6.1.0-1/kernel/drivers/net/virtio_net.ko");
	assert_non_null(e);
	assert_string_equal(e->data, "VIRTIO");
	e = find(list, "lib/modules/6.1.0-1/modules.dep");
	assert_non_null(e);
	assert_string_equal(e->data, "kernel/drivers/net/virtio_net.ko:\n");
	e = find(list, "lib/modules/6.1.0-1/build");
	assert_non_null(e);
	assert_string_equal(e->link, "/usr/src/linux-headers-6.1.0-1");
	e = find(list, "lib/modules/6.1.0-1/kernel/drivers/net/copy.ko");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode));
	assert_string_equal(e->link, "/lib/modules/6.1.0-1/kernel/drivers/net/virtio_net.ko");
	assert_null(find(list, "usr/share/doc/linux/copyright"));
	assert_null(find(list, "usr"));
}

static void writes_cpio(void **state)
{
	struct fixture *f = *state;
	struct initramfs_spec spec = { f->busybox, f->tar, &f->modules, false };
	struct read_list *list = xcalloc(1, sizeof(*list));
	char *tmp = xasprintf("%s.tmp", f->out);

	write_tar(f->tar, modules_tar, sizeof(modules_tar) / sizeof(modules_tar[0]));
	assert_int_equal(initramfs_write(&f->ctx, &spec, f->out), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	read_cpio(f->out, list);
	check_layout(list);
	check_modules(list);
	read_list_release(list);
	free(list);
	free(tmp);
}

static void writes_gzip(void **state)
{
	struct fixture *f = *state;
	struct initramfs_spec spec = { f->busybox, f->tar, &f->modules, true };
	struct read_list *list = xcalloc(1, sizeof(*list));
	unsigned char magic[2] = { 0, 0 };
	FILE *in;

	write_tar(f->tar, modules_tar, sizeof(modules_tar) / sizeof(modules_tar[0]));
	assert_int_equal(initramfs_write(&f->ctx, &spec, f->out), 0);
	in = fopen(f->out, "rb");
	assert_non_null(in);
	assert_int_equal(fread(magic, 1, 2, in), 2);
	fclose(in);
	assert_int_equal(magic[0], 0x1f);
	assert_int_equal(magic[1], 0x8b);
	read_cpio(f->out, list);
	check_modules(list);
	read_list_release(list);
	free(list);
}

/* A bad kernel.tar fails with REPACK_EUNPACK and leaves no file behind. */
static void expect_rejected(struct fixture *f, const char *message_part)
{
	struct initramfs_spec spec = { f->busybox, f->tar, &f->modules, false };
	char *tmp = xasprintf("%s.tmp", f->out);

	assert_int_equal(initramfs_write(&f->ctx, &spec, f->out), REPACK_EUNPACK);
	print_message("error: %s\n", f->ctx.error);
	assert_non_null(strstr(f->ctx.error, message_part));
	assert_int_equal(access(f->out, F_OK), -1);
	assert_int_equal(access(tmp, F_OK), -1);
	free(tmp);
}

static void rejects_dotdot(void **state)
{
	static const struct tar_entry hostile[] = {
		{ 'f', "lib/modules/6.1.0-1/../../../etc/passwd", "root::0:0" },
	};
	struct fixture *f = *state;

	write_tar(f->tar, hostile, 1);
	expect_rejected(f, "'..'");
}

static void rejects_hardlink_dotdot(void **state)
{
	static const struct tar_entry hostile[] = {
		{ 'h', "lib/modules/6.1.0-1/x.ko", "lib/modules/../../etc/shadow" },
	};
	struct fixture *f = *state;

	write_tar(f->tar, hostile, 1);
	expect_rejected(f, "'..'");
}

static void rejects_device(void **state)
{
	static const struct tar_entry hostile[] = {
		{ 'c', "lib/modules/6.1.0-1/mem", NULL },
	};
	struct fixture *f = *state;

	write_tar(f->tar, hostile, 1);
	expect_rejected(f, "neither a file");
}

static void rejects_truncated_tar(void **state)
{
	struct fixture *f = *state;
	char *data = NULL;
	size_t len;

	write_tar(f->tar, modules_tar, sizeof(modules_tar) / sizeof(modules_tar[0]));
	assert_int_equal(read_file(&f->ctx, f->tar, &data, &len), 0);
	assert_int_equal(write_file_atomic(&f->ctx, f->tar, data, 700), 0);
	free(data);
	expect_rejected(f, "kernel.tar");
}

static void rejects_missing_busybox(void **state)
{
	struct fixture *f = *state;
	struct initramfs_spec spec = { "/nonexistent/busybox", f->tar, &f->modules, false };

	write_tar(f->tar, modules_tar, 1);
	assert_int_equal(initramfs_write(&f->ctx, &spec, f->out), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "/nonexistent/busybox"));
	assert_int_equal(access(f->out, F_OK), -1);
}

static void busybox_checks(void **state)
{
	struct fixture *f = *state;
	char *found = NULL;

	assert_int_equal(boot_find_busybox(&f->ctx, f->busybox, "amd64", &found), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "not a 64-bit ELF"));
	assert_int_equal(boot_find_busybox(&f->ctx, "/bin/ls", "amd64", &found), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "dynamically linked"));
	assert_non_null(strstr(f->ctx.error, "busybox-static"));
	assert_int_equal(boot_find_busybox(&f->ctx, "/nonexistent", "amd64", &found), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "busybox-static"));
	if (access("/bin/busybox", X_OK) != 0 || strcmp(boot_host_arch(), "amd64") != 0) {
		print_message("no /bin/busybox for amd64 here; static checks skipped\n");
		return;
	}
	assert_int_equal(boot_find_busybox(&f->ctx, NULL, "amd64", &found), 0);
	assert_string_equal(found, "/bin/busybox");
	free(found);
	assert_int_equal(boot_find_busybox(&f->ctx, NULL, "arm64", &found), REPACK_EFAIL);
	assert_non_null(strstr(f->ctx.error, "built for amd64 but the image is arm64"));
}

static void kernel_headers(void **state)
{
	struct fixture *f = *state;
	unsigned char head[0x300];
	char *path = xasprintf("%s/kernel", f->dir);

	memset(head, 0, sizeof(head));
	memcpy(head + 0x202, "HdrS", 4);
	assert_int_equal(write_file_atomic(&f->ctx, path, head, sizeof(head)), 0);
	assert_string_equal(boot_kernel_arch(&f->ctx, path), "amd64");
	memset(head, 0, sizeof(head));
	memcpy(head + 0x38, "ARM\x64", 4);
	assert_int_equal(write_file_atomic(&f->ctx, path, head, sizeof(head)), 0);
	assert_string_equal(boot_kernel_arch(&f->ctx, path), "arm64");
	memset(head, 0xaa, sizeof(head));
	assert_int_equal(write_file_atomic(&f->ctx, path, head, sizeof(head)), 0);
	assert_null(boot_kernel_arch(&f->ctx, path));
	assert_int_equal(write_file_atomic(&f->ctx, path, "MZ", 2), 0);
	assert_null(boot_kernel_arch(&f->ctx, path));
	assert_null(boot_kernel_arch(&f->ctx, "/nonexistent/kernel"));
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(writes_cpio, setup, teardown),
		cmocka_unit_test_setup_teardown(writes_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects_hardlink_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects_device, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects_truncated_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(rejects_missing_busybox, setup, teardown),
		cmocka_unit_test_setup_teardown(busybox_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(kernel_headers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
