/* The initramfs of a boot: a cpio newc archive with a static busybox, the
 * applet links the init uses, /dev/console, the /init script and the
 * lib/modules tree streamed from the image's kernel.tar. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"

#define CHUNK 65536

/* The busybox applets the init script runs, linked in /bin. */
static const char *const applets[] = {
	"sh", "cat", "dmesg", "grep", "head", "mount", "modprobe", "poweroff",
	"sed", "tr", "uname",
};

static const char *const top_dirs[] = { "bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules" };

/* Every line the init prints for repack starts with "REPACK-"; see
 * include/boot.h for the markers. "set -f" keeps modprobe's messages from
 * being expanded as globs when they are echoed unquoted. */
static const char init_template[] =
	"#!/bin/sh\n"
	"# Written by repack boot: report what this kernel does, then power off.\n"
	"set -f\n"
	"export PATH=/bin\n"
	"mount -t proc proc /proc\n"
	"mount -t sysfs sysfs /sys\n"
	"mount -t devtmpfs devtmpfs /dev\n"
	"uptime() { read -r up rest </proc/uptime; echo \"$up\"; }\n"
	"echo \"REPACK-MARK init $(uptime)\"\n"
	"case \" $(cat /proc/cmdline) \" in\n"
	"*\" repack.probe \"*) echo \"REPACK-DONE $(uptime)\"; poweroff -f ;;\n"
	"esac\n"
	"release=$(uname -r)\n"
	"echo \"REPACK-UNAME $release\"\n"
	"builtin=/lib/modules/$release/modules.builtin\n"
	"for m in @MODULES@; do\n"
	"\tn=$(echo \"$m\" | tr - _)\n"
	"\tif [ -f \"$builtin\" ] && sed -e 's|.*/||' -e 's|\\.ko.*||' -e 'y/-/_/' \"$builtin\" | grep -qx \"$n\"; then\n"
	"\t\techo \"REPACK-MODULE $m builtin\"\n"
	"\telif out=$(modprobe \"$m\" 2>&1); then\n"
	"\t\tif [ -d \"/sys/module/$n\" ]; then\n"
	"\t\t\techo \"REPACK-MODULE $m ok\"\n"
	"\t\telse\n"
	"\t\t\techo \"REPACK-MODULE $m fail modprobe succeeded but /sys/module/$n does not exist\"\n"
	"\t\tfi\n"
	"\telse\n"
	"\t\tstatus=$?\n"
	"\t\techo \"REPACK-MODULE $m fail $(echo ${out:-modprobe exited with status $status} | head -c 300)\"\n"
	"\tfi\n"
	"done\n"
	"dmesg | grep -E 'WARNING:|BUG:|Call Trace|Oops' | head -n 100 | while IFS= read -r line; do\n"
	"\techo \"REPACK-WARN $line\"\n"
	"done\n"
	"echo \"REPACK-DONE $(uptime)\"\n"
	"poweroff -f\n";

char *initramfs_init_script(const struct strlist *modules)
{
	const char *at = strstr(init_template, "@MODULES@");
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, init_template, (size_t)(at - init_template));
	for (size_t i = 0; i < modules->count; i++)
		strbuf_addf(&sb, "%s%s", i ? " " : "", modules->items[i]);
	strbuf_addstr(&sb, at + strlen("@MODULES@"));
	return strbuf_detach(&sb, NULL);
}

struct cpio_writer {
	struct repack_ctx *ctx;
	struct archive *a;
	const char *path;     /* the file being written, for messages */
	int64_t next_ino;
	struct strlist dirs;  /* directories already written */
	unsigned char *buf;
};

static int writer_error(struct cpio_writer *w, const char *what)
{
	return repack_fail(w->ctx, REPACK_EFAIL, "cannot write the initramfs '%s' (%s): %s",
			   w->path, what, archive_error_string(w->a));
}

/* Write the header of one entry; uid, gid and mtime are 0 so the same
 * inputs give the same archive. */
static int write_header(struct cpio_writer *w, const char *name, mode_t mode,
			int64_t size, const char *symlink, dev_t rdev)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, size);
	archive_entry_set_ino64(e, w->next_ino++);
	archive_entry_set_nlink(e, S_ISDIR(mode) ? 2 : 1);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	if (rdev)
		archive_entry_set_rdev(e, rdev);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	return r == ARCHIVE_OK ? 0 : writer_error(w, name);
}

static int write_data(struct cpio_writer *w, const void *data, size_t len)
{
	if (archive_write_data(w->a, data, len) != (la_ssize_t)len)
		return writer_error(w, "data");
	return 0;
}

/* Write dir and every missing parent, parents first: the kernel's cpio
 * unpacker does not create directories on its own. */
static int add_dir(struct cpio_writer *w, const char *dir)
{
	const char *slash = strrchr(dir, '/');
	int rc;

	if (!*dir || strlist_contains(&w->dirs, dir))
		return 0;
	if (slash) {
		char *parent = xstrndup(dir, (size_t)(slash - dir));

		rc = add_dir(w, parent);
		free(parent);
		if (rc)
			return rc;
	}
	strlist_push(&w->dirs, dir);
	return write_header(w, dir, S_IFDIR | 0755, 0, NULL, 0);
}

static int add_parent(struct cpio_writer *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *parent;
	int rc;

	if (!slash)
		return 0;
	parent = xstrndup(path, (size_t)(slash - path));
	rc = add_dir(w, parent);
	free(parent);
	return rc;
}

static int add_buffer(struct cpio_writer *w, const char *name, const void *data,
		      size_t len, mode_t perm)
{
	int rc = write_header(w, name, S_IFREG | perm, (int64_t)len, NULL, 0);

	return rc ? rc : write_data(w, data, len);
}

static int add_host_file(struct cpio_writer *w, const char *name, const char *src)
{
	char *data = NULL;
	size_t len;
	int rc = read_file(w->ctx, src, &data, &len);

	if (rc == 0)
		rc = add_buffer(w, name, data, len, 0755);
	free(data);
	return rc;
}

static int add_base(struct cpio_writer *w, const struct initramfs_spec *spec)
{
	char *init = initramfs_init_script(spec->modules);
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < sizeof(top_dirs) / sizeof(top_dirs[0]); i++)
		rc = add_dir(w, top_dirs[i]);
	/* The kernel opens /dev/console for init's stdin, stdout and stderr
	 * before devtmpfs is mounted. */
	if (rc == 0)
		rc = write_header(w, "dev/console", S_IFCHR | 0600, 0, NULL, makedev(5, 1));
	if (rc == 0)
		rc = add_host_file(w, "bin/busybox", spec->busybox);
	for (size_t i = 0; rc == 0 && i < sizeof(applets) / sizeof(applets[0]); i++) {
		char *link = xasprintf("bin/%s", applets[i]);

		rc = write_header(w, link, S_IFLNK | 0777, 0, "busybox", 0);
		free(link);
	}
	if (rc == 0)
		rc = add_buffer(w, "init", init, strlen(init), 0755);
	free(init);
	return rc;
}

/* Return name without a leading "./" or "/"; the result points into name. */
static const char *strip_root(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (name[0] == '/')
		name++;
	return name;
}

static bool has_dotdot(const char *path)
{
	const char *p = path;

	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		if (!p[len])
			return false;
		p += len + 1;
	}
}

static int copy_file_data(struct cpio_writer *w, struct archive *in, const char *tar,
			  const char *name)
{
	for (;;) {
		la_ssize_t n = archive_read_data(in, w->buf, CHUNK);

		if (n == 0)
			return 0;
		if (n < 0)
			return repack_fail(w->ctx, REPACK_EUNPACK, "cannot read '%s' from '%s': %s",
					   name, tar, archive_error_string(in));
		if (write_data(w, w->buf, (size_t)n))
			return REPACK_EFAIL;
	}
}

/* Copy one kernel.tar entry. A hard link becomes a symbolic link to its
 * target, which reads the same and needs no inode bookkeeping. */
static int copy_entry(struct cpio_writer *w, struct archive *in,
		      struct archive_entry *e, const char *tar, const char *name)
{
	const char *hardlink = archive_entry_hardlink(e);
	mode_t perm = archive_entry_perm(e) & 07777;
	int rc;

	if (archive_entry_filetype(e) == AE_IFDIR)
		return add_dir(w, name);
	rc = add_parent(w, name);
	if (rc)
		return rc;
	if (hardlink) {
		char *target = xasprintf("/%s", strip_root(hardlink));

		rc = write_header(w, name, S_IFLNK | 0777, 0, target, 0);
		free(target);
		return rc;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		rc = write_header(w, name, S_IFREG | perm, archive_entry_size(e), NULL, 0);
		return rc ? rc : copy_file_data(w, in, tar, name);
	case AE_IFLNK:
		return write_header(w, name, S_IFLNK | 0777, 0, archive_entry_symlink(e), 0);
	default:
		return repack_fail(w->ctx, REPACK_EUNPACK, "'%s' in '%s' is neither a file, "
				   "a directory nor a link; kernel.tar holds only those",
				   name, tar);
	}
}

static int copy_modules(struct cpio_writer *w, const char *tar)
{
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	struct stat st;
	size_t copied = 0;
	int r, rc = 0;

	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	if (archive_read_open_filename(in, tar, CHUNK) != ARCHIVE_OK) {
		rc = repack_fail(w->ctx, REPACK_EUNPACK, "cannot read kernel.tar '%s': %s",
				 tar, archive_error_string(in));
		goto out;
	}
	while (rc == 0 && (r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		const char *name = strip_root(archive_entry_pathname(e));

		if (!str_starts_with(name, "lib/modules/"))
			continue;
		if (has_dotdot(name) || (archive_entry_hardlink(e) &&
					 has_dotdot(archive_entry_hardlink(e)))) {
			rc = repack_fail(w->ctx, REPACK_EUNPACK, "'%s' in kernel.tar '%s' has a "
					 "'..' component; the image is corrupt or hostile", name, tar);
			break;
		}
		rc = copy_entry(w, in, e, tar, name);
		copied++;
		if (rc == 0 && copied % 256 == 0) {
			rc = boot_check_interrupt(w->ctx);
			if (stat(tar, &st) == 0)
				repack_progress(w->ctx, "initramfs", (uint64_t)archive_filter_bytes(in, -1),
						(uint64_t)st.st_size);
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = repack_fail(w->ctx, REPACK_EUNPACK, "kernel.tar '%s' is corrupt: %s",
				 tar, archive_error_string(in));
	if (rc == 0 && copied == 0)
		repack_log(w->ctx, REPACK_LOG_WARN, "kernel.tar '%s' holds nothing under "
			   "lib/modules/; module loads will fail", tar);
out:
	archive_read_free(in);
	return rc;
}

static int open_writer(struct cpio_writer *w, const char *tmp, bool gzip)
{
	w->a = archive_write_new();
	if (archive_write_set_format_cpio_newc(w->a) != ARCHIVE_OK ||
	    (gzip && archive_write_add_filter_gzip(w->a) != ARCHIVE_OK) ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open_filename(w->a, tmp) != ARCHIVE_OK)
		return writer_error(w, "open");
	return 0;
}

int initramfs_write(struct repack_ctx *ctx, const struct initramfs_spec *spec,
		    const char *path)
{
	char *tmp = xasprintf("%s.tmp", path);
	struct cpio_writer w = { ctx, NULL, path, 1, STRLIST_INIT, xmalloc(CHUNK) };
	int rc;

	rc = open_writer(&w, tmp, spec->gzip);
	if (rc == 0)
		rc = add_base(&w, spec);
	if (rc == 0)
		rc = copy_modules(&w, spec->kernel_tar);
	if (rc == 0 && archive_write_close(w.a) != ARCHIVE_OK)
		rc = writer_error(&w, "close");
	archive_write_free(w.a);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = repack_fail(ctx, REPACK_EFAIL, "cannot rename '%s' to '%s': %s",
				 tmp, path, strerror(errno));
	if (rc)
		unlink(tmp);
	strlist_release(&w.dirs);
	free(w.buf);
	free(tmp);
	return rc;
}
