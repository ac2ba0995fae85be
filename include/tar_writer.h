/* Reproducible tar writer: every entry gets uid/gid 0, no owner names and
 * one fixed modification time. */
#ifndef REPACK_TAR_WRITER_H
#define REPACK_TAR_WRITER_H

#include <sys/types.h>
#include <time.h>

#include "repack.h"

struct archive;

struct tar_writer {
	struct repack_ctx *ctx;
	struct archive *archive;
	char *path;  /* owned */
	time_t mtime;
	uint64_t entries;
};

int tar_writer_open(struct tar_writer *tw, struct repack_ctx *ctx,
		    const char *path, time_t mtime);
int tar_writer_add_dir(struct tar_writer *tw, const char *name, mode_t mode);
int tar_writer_add_symlink(struct tar_writer *tw, const char *name,
			   const char *target);
int tar_writer_add_hardlink(struct tar_writer *tw, const char *name,
			    const char *target);
/* Add a regular file whose size bytes come from the archive reader src
 * (archive_read_data) when src is not NULL, else from the file at
 * disk_path. */
int tar_writer_add_file(struct tar_writer *tw, const char *name, mode_t mode,
			int64_t size, struct archive *src, const char *disk_path);
/* Finish the archive; on failure the file is removed. */
int tar_writer_close(struct tar_writer *tw);
/* Abandon the archive and remove the partial file. */
void tar_writer_abort(struct tar_writer *tw);

#endif
