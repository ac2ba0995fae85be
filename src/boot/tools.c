/* Finding the host tools a boot needs (QEMU, a static busybox) and
 * telling a kernel image's architecture from its header. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_BUSYBOX "/bin/busybox"

static bool is_executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Return the full path of name in $PATH, or NULL; the caller frees. */
static char *search_path(const char *name)
{
	const char *path = getenv("PATH");
	const char *p = path ? path : "";

	while (*p) {
		size_t len = strcspn(p, ":");
		/* An empty element of PATH means the current directory. */
		char *candidate = len ? xasprintf("%.*s/%s", (int)len, p, name)
				      : xasprintf("./%s", name);

		if (is_executable_file(candidate))
			return candidate;
		free(candidate);
		p += len;
		if (*p == ':')
			p++;
	}
	return NULL;
}

int boot_find_qemu(struct repack_ctx *ctx, const char *arch, char **path)
{
	bool arm = strcmp(arch, "arm64") == 0;
	const char *binary = arm ? "qemu-system-aarch64" : "qemu-system-x86_64";
	const char *package = arm ? "qemu-system-arm" : "qemu-system-x86";
	const char *override = getenv("REPACK_QEMU");

	if (override && *override) {
		if (!is_executable_file(override))
			return repack_fail(ctx, REPACK_EFAIL,
					   "REPACK_QEMU is '%s', which is not an executable file; "
					   "point it at %s or unset it", override, binary);
		*path = xstrdup(override);
		return 0;
	}
	*path = search_path(binary);
	if (!*path)
		return repack_fail(ctx, REPACK_EFAIL,
				   "%s is not installed (not found in PATH); booting an %s "
				   "image needs it: install the Debian package %s",
				   binary, arch, package);
	return 0;
}

static const char *elf_machine_arch(uint16_t machine)
{
	switch (machine) {
	case EM_X86_64: return "amd64";
	case EM_AARCH64: return "arm64";
	default: return "an unsupported machine";
	}
}

/* Check that path is a 64-bit little-endian ELF executable for arch with
 * no program interpreter, which is what runs in an initramfs that
 * contains no C library. */
static int check_static_elf(struct repack_ctx *ctx, const char *path, const char *arch)
{
	const char *fix = "install the Debian package busybox-static or pass --busybox PATH";
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return repack_fail(ctx, REPACK_EFAIL, "cannot open busybox '%s': %s; %s",
				   path, strerror(errno), fix);
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		rc = repack_fail(ctx, REPACK_EFAIL, "busybox '%s' is not a 64-bit ELF "
				 "executable; %s", path, fix);
		goto out;
	}
	if (strcmp(elf_machine_arch(eh.e_machine), arch) != 0) {
		rc = repack_fail(ctx, REPACK_EFAIL, "busybox '%s' is built for %s but the "
				 "image is %s; pass --busybox with a static %s busybox",
				 path, elf_machine_arch(eh.e_machine), arch, arch);
		goto out;
	}
	/* A static busybox is ET_EXEC, or ET_DYN when built as a static PIE. */
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		rc = repack_fail(ctx, REPACK_EFAIL, "busybox '%s' is an ELF file of type %u, "
				 "not an executable program; %s", path, (unsigned)eh.e_type, fix);
		goto out;
	}
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		off_t off = (off_t)eh.e_phoff + (off_t)i * eh.e_phentsize;

		if (pread(fd, &ph, sizeof(ph), off) != (ssize_t)sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP) {
			rc = repack_fail(ctx, REPACK_EFAIL, "busybox '%s' is dynamically "
					 "linked and cannot run in the initramfs, which has no "
					 "C library; %s", path, fix);
			break;
		}
	}
out:
	close(fd);
	return rc;
}

int boot_find_busybox(struct repack_ctx *ctx, const char *given,
		      const char *arch, char **path)
{
	char *found = NULL;
	int rc;

	if (given)
		found = xstrdup(given);
	else if (is_executable_file(DEFAULT_BUSYBOX))
		found = xstrdup(DEFAULT_BUSYBOX);
	else
		found = search_path("busybox");
	if (!found)
		return repack_fail(ctx, REPACK_EFAIL,
				   "busybox is not installed (neither %s nor busybox in PATH); "
				   "the initramfs needs a static busybox: install the Debian "
				   "package busybox-static or pass --busybox PATH",
				   DEFAULT_BUSYBOX);
	rc = check_static_elf(ctx, found, arch);
	if (rc) {
		free(found);
		return rc;
	}
	*path = found;
	return 0;
}

/* A bzImage carries the x86 boot protocol signature "HdrS" at 0x202 (as
 * Debian's vmlinuz does). An arm64 Image has the magic "ARM\x64" at 0x38
 * (struct arm64_image_header in arch/arm64/include/asm/image.h). */
const char *boot_kernel_arch(struct repack_ctx *ctx, const char *kernel)
{
	unsigned char head[0x240];
	int fd = open(kernel, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		repack_log(ctx, REPACK_LOG_DEBUG, "cannot open '%s': %s", kernel, strerror(errno));
		return NULL;
	}
	n = pread(fd, head, sizeof(head), 0);
	close(fd);
	if (n >= 0x206 && memcmp(head + 0x202, "HdrS", 4) == 0)
		return "amd64";
	if (n >= 0x3c && memcmp(head + 0x38, "ARM\x64", 4) == 0)
		return "arm64";
	return NULL;
}

const char *boot_host_arch(void)
{
	struct utsname u;

	if (uname(&u) < 0)
		return NULL;
	if (strcmp(u.machine, "x86_64") == 0)
		return "amd64";
	if (strcmp(u.machine, "aarch64") == 0)
		return "arm64";
	return NULL;
}
