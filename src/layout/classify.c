/* Maps package paths onto the files of a LinuxKit kernel image. Debian and
 * Ubuntu keep the kernel, its config and System.map in /boot; Fedora and the
 * RHEL family keep them in lib/modules/<kver>/. Usr-merged packages ship
 * modules under usr/lib/modules, which the image stores as lib/modules. */
#include <string.h>

#include "layout.h"

/* Directories of header packages left out of kernel-dev.tar. */
static const char *const header_skip_dirs[] = {
	"usr/share/doc",
	"usr/share/lintian",
	"usr/share/man",
	NULL,
};

static bool in_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Split "<name>-<kver>" in boot/ into the kver when name matches. */
static bool boot_file(const char *file, const char *name, struct strbuf *kver)
{
	size_t n = strlen(name);

	if (strncmp(file, name, n) != 0 || file[n] != '-' || file[n + 1] == '\0' ||
	    strchr(file, '/'))
		return false;
	kver->len = 0;
	strbuf_addstr(kver, file + n + 1);
	return true;
}

static enum layout_dest classify_boot(const char *file, struct strbuf *kver)
{
	if (boot_file(file, "vmlinuz", kver) || boot_file(file, "vmlinux", kver) ||
	    boot_file(file, "Image", kver))
		return DEST_KERNEL;
	if (boot_file(file, "config", kver))
		return DEST_CONFIG;
	if (boot_file(file, "System.map", kver))
		return DEST_SYSTEM_MAP;
	return DEST_SKIP;
}

/* path is "lib/modules/<rest>". */
static enum layout_dest classify_modules(const char *path, const char *rest,
					 struct strbuf *image_path,
					 struct strbuf *kver)
{
	const char *slash = strchr(rest, '/');
	const char *inside = slash ? slash + 1 : "";

	if (*rest == '\0')
		return DEST_SKIP;
	kver->len = 0;
	strbuf_add(kver, rest, slash ? (size_t)(slash - rest) : strlen(rest));

	if (strcmp(inside, "vmlinuz") == 0 || strcmp(inside, "Image") == 0 ||
	    strcmp(inside, "Image.gz") == 0)
		return DEST_KERNEL;
	if (strcmp(inside, "config") == 0)
		return DEST_CONFIG;
	if (strcmp(inside, "System.map") == 0)
		return DEST_SYSTEM_MAP;
	/* build and source point at the headers, which kernel-dev.tar holds. */
	if (strcmp(inside, "build") == 0 || strcmp(inside, "source") == 0)
		return DEST_SKIP;
	image_path->len = 0;
	strbuf_addstr(image_path, path);
	return DEST_MODULES;
}

enum layout_dest layout_classify(enum layout_role role, const char *path,
				 struct strbuf *image_path, struct strbuf *kver)
{
	struct strbuf normal = STRBUF_INIT;
	enum layout_dest dest = DEST_SKIP;

	if (str_starts_with(path, "usr/lib/modules/") || strcmp(path, "usr/lib/modules") == 0)
		strbuf_addstr(&normal, path + 4);
	else
		strbuf_addstr(&normal, path);

	if (role == ROLE_HEADERS) {
		for (size_t i = 0; header_skip_dirs[i]; i++)
			if (in_dir(normal.buf, header_skip_dirs[i]))
				goto out;
		image_path->len = 0;
		strbuf_addstr(image_path, normal.buf);
		dest = DEST_HEADERS;
	} else if (str_starts_with(normal.buf, "boot/")) {
		dest = classify_boot(normal.buf + 5, kver);
	} else if (str_starts_with(normal.buf, "lib/modules/")) {
		dest = classify_modules(normal.buf, normal.buf + 12, image_path, kver);
	}
out:
	strbuf_release(&normal);
	return dest;
}

bool layout_system_map_is_stub(const char *data, size_t len)
{
	/* A real map has one line per kernel symbol: tens of thousands. */
	if (len < 4096)
		return true;
	return memmem(data, len > 4096 ? 4096 : len, "The real System.map", 19) != NULL;
}
