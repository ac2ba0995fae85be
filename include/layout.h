/* Mapping of package files onto the LinuxKit kernel image contract. */
#ifndef REPACK_LAYOUT_H
#define REPACK_LAYOUT_H

#include <time.h>

#include "repack.h"

/* The part of the image a package contributes. */
enum layout_role {
	ROLE_IMAGE,   /* kernel binary, possibly modules and config */
	ROLE_MODULES, /* modules, possibly config and System.map */
	ROLE_HEADERS, /* everything goes to kernel-dev.tar */
};

enum layout_dest {
	DEST_SKIP,
	DEST_KERNEL,
	DEST_CONFIG,
	DEST_SYSTEM_MAP,
	DEST_MODULES,
	DEST_HEADERS,
};

/* Classify one normalised package path. For DEST_MODULES and DEST_HEADERS
 * *image_path receives the path inside kernel.tar or kernel-dev.tar
 * (usr/lib/modules becomes lib/modules); kver receives the kernel release
 * taken from the path when the path contains one. */
enum layout_dest layout_classify(enum layout_role role, const char *path,
				 struct strbuf *image_path, struct strbuf *kver);

/* Files of a finished layout, all inside the layout's work directory. */
struct layout_files {
	char *kernel;
	char *kernel_tar;
	char *kernel_dev_tar; /* NULL when no headers */
	char *kernel_config;
	char *system_map;     /* NULL when not shipped or a stub */
};

struct layout {
	struct repack_ctx *ctx;
	char *workdir;        /* not owned: the caller removes it */
	char *staging;        /* modules staging root (owned path) */
	char *kver;           /* kernel release found in the packages */
	time_t mtime;         /* timestamp given to every tar entry */
	struct layout_files files;
	struct tar_writer *dev; /* open kernel-dev.tar writer, or NULL */
	struct strlist links; /* module symlinks: "path\ntarget", made last */
	struct strlist seen_dev; /* kernel-dev.tar paths already written */
	bool no_headers;
};

/* Prepare a layout that writes under workdir; mtime is the fixed time of
 * every entry in the produced tars. */
void layout_init(struct layout *layout, struct repack_ctx *ctx,
		 const char *workdir, time_t mtime, bool no_headers);
/* Stream one package into the layout. Packages must be added in a fixed
 * order (the caller sorts them) for the result to be reproducible. */
int layout_add_package(struct layout *layout, const char *path,
		       const char *label, enum layout_role role);
/* Run depmod on the staged modules, write kernel.tar and close
 * kernel-dev.tar. Fails when the kernel, config or modules are missing. */
int layout_finish(struct layout *layout);
void layout_release(struct layout *layout);

/* True when a System.map is the stub Debian ships in /boot instead of the
 * real map. */
bool layout_system_map_is_stub(const char *data, size_t len);

#endif
