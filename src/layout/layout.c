/* Builds the image files from package payloads: the kernel, its config and
 * System.map as plain files, modules staged on disk for depmod and then
 * tarred as kernel.tar, headers streamed straight into kernel-dev.tar. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>

#include "layout.h"
#include "tar_writer.h"
#include "unpack.h"

#define COPY_BLOCK 65536

void layout_init(struct layout *layout, struct repack_ctx *ctx,
		 const char *workdir, time_t mtime, bool no_headers)
{
	memset(layout, 0, sizeof(*layout));
	layout->ctx = ctx;
	layout->workdir = (char *)workdir;
	layout->staging = xasprintf("%s/modules", workdir);
	layout->mtime = mtime;
	layout->no_headers = no_headers;
}

void layout_release(struct layout *layout)
{
	if (layout->dev) {
		tar_writer_abort(layout->dev);
		free(layout->dev);
	}
	free(layout->staging);
	free(layout->kver);
	free(layout->files.kernel);
	free(layout->files.kernel_tar);
	free(layout->files.kernel_dev_tar);
	free(layout->files.kernel_config);
	free(layout->files.system_map);
	strlist_release(&layout->links);
	strlist_release(&layout->seen_dev);
	memset(layout, 0, sizeof(*layout));
}

/* State of one package walk. */
struct add_state {
	struct layout *layout;
	const char *label;
	enum layout_role role;
	struct strbuf image_path;
	struct strbuf kver;
};

/* Copy the current entry's data into a new file at path. */
static int write_entry_file(struct layout *layout, const char *label,
			    const struct unpack_entry *entry, const char *path,
			    mode_t mode)
{
	char *buffer = NULL;
	int64_t left = entry->size;
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return repack_fail(layout->ctx, REPACK_EFAIL, "%s: cannot create '%s': %s",
				   label, path, strerror(errno));
	buffer = xmalloc(COPY_BLOCK);
	while (left > 0) {
		la_ssize_t n = archive_read_data(entry->archive, buffer, COPY_BLOCK);

		if (n <= 0) {
			rc = repack_fail(layout->ctx, REPACK_EUNPACK,
					 "%s: '%s' is truncated: %s (download the package again)",
					 label, entry->path,
					 n < 0 ? archive_error_string(entry->archive) : "unexpected end of data");
			break;
		}
		if (write(fd, buffer, (size_t)n) != n) {
			rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot write '%s': %s",
					 path, strerror(errno));
			break;
		}
		left -= n;
	}
	free(buffer);
	if (close(fd) < 0 && rc == 0)
		rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot write '%s': %s",
				 path, strerror(errno));
	if (rc == 0 && fchmodat(AT_FDCWD, path, mode, 0) < 0)
		rc = repack_fail(layout->ctx, REPACK_EFAIL, "cannot chmod '%s': %s",
				 path, strerror(errno));
	return rc;
}

/* Remember the kernel release; every non-header package must agree. */
static int note_kver(struct add_state *state, const char *kver, const char *path)
{
	struct layout *layout = state->layout;

	if (!layout->kver) {
		layout->kver = xstrdup(kver);
		return 0;
	}
	if (strcmp(layout->kver, kver) == 0)
		return 0;
	return repack_fail(layout->ctx, REPACK_EUNPACK,
			   "%s: '%s' belongs to kernel %s, but the other packages hold %s",
			   state->label, path, kver, layout->kver);
}

/* Store a kernel, config or System.map entry as a plain file. */
static int store_single(struct add_state *state, const struct unpack_entry *entry,
			char **slot, const char *name)
{
	struct layout *layout = state->layout;
	int rc;

	if (entry->type != UNPACK_FILE)
		return 0; /* e.g. a vmlinuz symlink; the real file comes too */
	if (*slot)
		return repack_fail(layout->ctx, REPACK_EUNPACK,
				   "%s: second %s found at '%s'; one kernel per image",
				   state->label, name, entry->path);
	*slot = xasprintf("%s/%s", layout->workdir, name);
	rc = write_entry_file(layout, state->label, entry, *slot, 0644);
	if (rc) {
		unlink(*slot);
		free(*slot);
		*slot = NULL;
	}
	return rc;
}

static int stage_module_entry(struct add_state *state,
			      const struct unpack_entry *entry)
{
	struct layout *layout = state->layout;
	char *path = xasprintf("%s/%s", layout->staging, state->image_path.buf);
	char *parent = xstrdup(path);
	int rc;

	*strrchr(parent, '/') = '\0';
	rc = mkdir_p(layout->ctx, parent);
	if (rc)
		goto out;
	switch (entry->type) {
	case UNPACK_DIR:
		rc = mkdir_p(layout->ctx, path);
		break;
	case UNPACK_FILE:
		rc = write_entry_file(layout, state->label, entry, path, entry->mode & 0755);
		break;
	case UNPACK_SYMLINK:
		/* Links are made after every file is written, so that no later
		 * entry can be written through one. */
		strlist_push_owned(&layout->links, xasprintf("%s\n%s", path, entry->link));
		break;
	case UNPACK_HARDLINK: {
		struct strbuf target = STRBUF_INIT, kver = STRBUF_INIT;
		char *target_path;

		if (layout_classify(state->role, entry->link, &target, &kver) != DEST_MODULES) {
			rc = repack_fail(layout->ctx, REPACK_EUNPACK,
					 "%s: hard link '%s' points outside the modules tree at '%s'",
					 state->label, entry->path, entry->link);
		} else {
			target_path = xasprintf("%s/%s", layout->staging, target.buf);
			if (link(target_path, path) < 0)
				rc = repack_fail(layout->ctx, REPACK_EUNPACK,
						 "%s: cannot link '%s' to '%s': %s", state->label,
						 entry->path, entry->link, strerror(errno));
			free(target_path);
		}
		strbuf_release(&target);
		strbuf_release(&kver);
		break;
	}
	}
out:
	free(parent);
	free(path);
	return rc;
}

static int open_dev_tar(struct layout *layout)
{
	int rc;

	layout->files.kernel_dev_tar = xasprintf("%s/kernel-dev.tar", layout->workdir);
	layout->dev = xmalloc(sizeof(*layout->dev));
	rc = tar_writer_open(layout->dev, layout->ctx, layout->files.kernel_dev_tar,
			     layout->mtime);
	if (rc) {
		free(layout->dev);
		layout->dev = NULL;
		free(layout->files.kernel_dev_tar);
		layout->files.kernel_dev_tar = NULL;
	}
	return rc;
}

static int add_header_entry(struct add_state *state,
			    const struct unpack_entry *entry)
{
	struct layout *layout = state->layout;
	const char *name = state->image_path.buf;
	int rc;

	if (layout->no_headers)
		return 0;
	if (!layout->dev && (rc = open_dev_tar(layout)))
		return rc;
	switch (entry->type) {
	case UNPACK_DIR:
		/* Header packages share parents such as usr/src. */
		if (strlist_contains(&layout->seen_dev, name))
			return 0;
		strlist_push(&layout->seen_dev, name);
		return tar_writer_add_dir(layout->dev, name, entry->mode);
	case UNPACK_SYMLINK:
		return tar_writer_add_symlink(layout->dev, name, entry->link);
	case UNPACK_HARDLINK:
		return tar_writer_add_hardlink(layout->dev, name, entry->link);
	case UNPACK_FILE:
		return tar_writer_add_file(layout->dev, name, entry->mode, entry->size,
					   entry->archive, NULL);
	}
	return 0;
}

static int add_entry(void *user, const struct unpack_entry *entry)
{
	struct add_state *state = user;
	struct layout *layout = state->layout;
	enum layout_dest dest;
	int rc;

	dest = layout_classify(state->role, entry->path, &state->image_path, &state->kver);
	if (dest != DEST_SKIP && dest != DEST_HEADERS) {
		rc = note_kver(state, state->kver.buf, entry->path);
		if (rc)
			return rc;
	}
	switch (dest) {
	case DEST_SKIP:
		return 0;
	case DEST_KERNEL:
		return store_single(state, entry, &layout->files.kernel, "kernel");
	case DEST_CONFIG:
		return store_single(state, entry, &layout->files.kernel_config, "kernel_config");
	case DEST_SYSTEM_MAP:
		return store_single(state, entry, &layout->files.system_map, "System.map");
	case DEST_MODULES:
		return stage_module_entry(state, entry);
	case DEST_HEADERS:
		return add_header_entry(state, entry);
	}
	return 0;
}

int layout_add_package(struct layout *layout, const char *path,
		       const char *label, enum layout_role role)
{
	struct add_state state = {
		.layout = layout,
		.label = label,
		.role = role,
		.image_path = STRBUF_INIT,
		.kver = STRBUF_INIT,
	};
	int rc;

	repack_log(layout->ctx, REPACK_LOG_INFO, "unpacking %s", label);
	rc = unpack_package(layout->ctx, path, label, add_entry, &state);
	strbuf_release(&state.image_path);
	strbuf_release(&state.kver);
	return rc;
}
