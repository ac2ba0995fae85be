/* Completes a layout: module symlinks, depmod, kernel.tar, kernel-dev.tar
 * and the checks that every required file is present. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "layout.h"
#include "tar_writer.h"

extern char **environ;

static int make_module_links(struct layout *layout)
{
	for (size_t i = 0; i < layout->links.count; i++) {
		char *path = layout->links.items[i];
		char *target = strchr(path, '\n');

		*target++ = '\0';
		if (symlink(target, path) < 0 && errno != EEXIST)
			return repack_fail(layout->ctx, REPACK_EFAIL,
					   "cannot create symlink '%s': %s", path, strerror(errno));
	}
	return 0;
}

/* Return the path of depmod; kmod installs it in /usr/sbin or /sbin, which
 * are not on an ordinary user's PATH. The caller frees the result. */
static char *find_depmod(void)
{
	static const char *const candidates[] = { "/usr/sbin/depmod", "/sbin/depmod",
						   "/usr/bin/depmod", NULL };

	for (size_t i = 0; candidates[i]; i++)
		if (access(candidates[i], X_OK) == 0)
			return xstrdup(candidates[i]);
	return NULL;
}

static int run_depmod(struct layout *layout)
{
	char *depmod = find_depmod();
	char *log_path = xasprintf("%s/depmod.log", layout->workdir);
	posix_spawn_file_actions_t actions;
	char *argv[] = { NULL, "-b", layout->staging, layout->kver, NULL };
	pid_t pid;
	int status, rc = 0;

	if (!depmod) {
		rc = repack_fail(layout->ctx, REPACK_EFAIL,
				 "depmod not found (install the kmod package)");
		goto out;
	}
	argv[0] = depmod;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, log_path,
					 O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&actions, 1, 2);
	errno = posix_spawn(&pid, depmod, &actions, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	if (errno) {
		rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot run %s: %s",
				 depmod, strerror(errno));
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *log = NULL;
		size_t len = 0;

		read_file(layout->ctx, log_path, &log, &len);
		rc = repack_fail(layout->ctx, REPACK_EFAIL,
				 "depmod failed for kernel %s: %.400s", layout->kver,
				 log ? log : "no output");
		free(log);
	}
out:
	unlink(log_path);
	free(log_path);
	free(depmod);
	return rc;
}

static int compare_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Add disk_dir's contents under the tar name prefix, sorted by name. */
static int tar_tree(struct layout *layout, struct tar_writer *tw,
		    const char *disk_dir, const char *prefix)
{
	struct dirent **names = NULL;
	int count = scandir(disk_dir, &names, skip_dots, compare_names);
	int rc = 0;

	if (count < 0)
		return repack_fail(layout->ctx, REPACK_EFAIL, "cannot read '%s': %s",
				   disk_dir, strerror(errno));
	for (int i = 0; i < count; i++) {
		char *disk = xasprintf("%s/%s", disk_dir, names[i]->d_name);
		char *name = xasprintf("%s/%s", prefix, names[i]->d_name);
		struct stat st;

		if (rc == 0 && lstat(disk, &st) < 0)
			rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot stat '%s': %s",
					 disk, strerror(errno));
		if (rc == 0 && S_ISDIR(st.st_mode)) {
			rc = tar_writer_add_dir(tw, name, st.st_mode);
			if (rc == 0)
				rc = tar_tree(layout, tw, disk, name);
		} else if (rc == 0 && S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t n = readlink(disk, target, sizeof(target) - 1);

			if (n < 0) {
				rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot read link '%s'", disk);
			} else {
				target[n] = '\0';
				rc = tar_writer_add_symlink(tw, name, target);
			}
		} else if (rc == 0 && S_ISREG(st.st_mode)) {
			rc = tar_writer_add_file(tw, name, st.st_mode, st.st_size, NULL, disk);
		}
		free(disk);
		free(name);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int write_kernel_tar(struct layout *layout)
{
	struct tar_writer tw;
	char *modules = xasprintf("%s/lib/modules", layout->staging);
	int rc;

	layout->files.kernel_tar = xasprintf("%s/kernel.tar", layout->workdir);
	rc = tar_writer_open(&tw, layout->ctx, layout->files.kernel_tar, layout->mtime);
	if (rc)
		goto out;
	rc = tar_writer_add_dir(&tw, "lib", 0755);
	if (rc == 0)
		rc = tar_writer_add_dir(&tw, "lib/modules", 0755);
	if (rc == 0)
		rc = tar_tree(layout, &tw, modules, "lib/modules");
	if (rc) {
		tar_writer_abort(&tw);
		goto out;
	}
	rc = tar_writer_close(&tw);
out:
	free(modules);
	return rc;
}

/* Drop a System.map that is Debian's stub rather than the real map. */
static int check_system_map(struct layout *layout)
{
	char *data = NULL;
	size_t len = 0;
	int rc;

	if (!layout->files.system_map)
		return 0;
	rc = read_file(layout->ctx, layout->files.system_map, &data, &len);
	if (rc)
		return rc;
	if (layout_system_map_is_stub(data, len)) {
		repack_log(layout->ctx, REPACK_LOG_INFO,
			   "leaving out System.map: the package ships a stub, not the symbol map");
		unlink(layout->files.system_map);
		free(layout->files.system_map);
		layout->files.system_map = NULL;
	}
	free(data);
	return 0;
}

static int check_required(struct layout *layout)
{
	char *dir;
	struct stat st;
	int missing;

	if (!layout->kver)
		return repack_fail(layout->ctx, REPACK_EUNPACK,
				   "the packages hold no kernel: no boot/vmlinuz-* and no lib/modules/<release>/");
	if (!layout->files.kernel)
		return repack_fail(layout->ctx, REPACK_EUNPACK,
				   "the packages of kernel %s hold no kernel binary (boot/vmlinuz-%s or lib/modules/%s/vmlinuz)",
				   layout->kver, layout->kver, layout->kver);
	if (!layout->files.kernel_config)
		return repack_fail(layout->ctx, REPACK_EUNPACK,
				   "the packages of kernel %s hold no config (boot/config-%s or lib/modules/%s/config)",
				   layout->kver, layout->kver, layout->kver);
	dir = xasprintf("%s/lib/modules/%s", layout->staging, layout->kver);
	missing = stat(dir, &st) < 0 || !S_ISDIR(st.st_mode);
	free(dir);
	if (missing)
		return repack_fail(layout->ctx, REPACK_EUNPACK,
				   "the packages of kernel %s hold no modules under lib/modules/%s",
				   layout->kver, layout->kver);
	return 0;
}

int layout_finish(struct layout *layout)
{
	int rc = check_required(layout);

	if (rc == 0)
		rc = make_module_links(layout);
	if (rc == 0)
		rc = check_system_map(layout);
	if (rc == 0) {
		repack_log(layout->ctx, REPACK_LOG_INFO, "running depmod for %s", layout->kver);
		rc = run_depmod(layout);
	}
	if (rc == 0)
		rc = write_kernel_tar(layout);
	if (rc == 0 && layout->dev) {
		rc = tar_writer_close(layout->dev);
		free(layout->dev);
		layout->dev = NULL;
		if (rc) {
			free(layout->files.kernel_dev_tar);
			layout->files.kernel_dev_tar = NULL;
		}
	}
	return rc;
}
