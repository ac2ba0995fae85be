/* Pieces of src/boot shared between its files. */
#ifndef REPACK_BOOT_INTERNAL_H
#define REPACK_BOOT_INTERNAL_H

#include <signal.h>

#include "boot.h"

/* Contents of the initramfs. */
struct initramfs_spec {
	const char *busybox;          /* static busybox binary */
	const char *kernel_tar;       /* lib/modules tree to copy */
	const struct strlist *modules;/* modules the init loads */
	bool gzip;
};

/* Write the initramfs to path (through path.tmp and a rename). */
int initramfs_write(struct repack_ctx *ctx, const struct initramfs_spec *spec,
		    const char *path);
/* Return the /init script for modules; the caller frees. */
char *initramfs_init_script(const struct strlist *modules);

/* Find the QEMU binary for arch: $REPACK_QEMU, else qemu-system-x86_64 or
 * qemu-system-aarch64 in PATH. The caller frees *path. */
int boot_find_qemu(struct repack_ctx *ctx, const char *arch, char **path);
/* Find a static busybox for arch: given, else /bin/busybox, else busybox
 * in PATH, and check that it is a static ELF for the guest's machine.
 * The caller frees *path. */
int boot_find_busybox(struct repack_ctx *ctx, const char *given,
		      const char *arch, char **path);
/* Return the architecture ("amd64", "arm64") the kernel image's header
 * shows, or NULL. */
const char *boot_kernel_arch(struct repack_ctx *ctx, const char *kernel);
/* Return the host's architecture as "amd64" or "arm64", or NULL. */
const char *boot_host_arch(void);

/* One QEMU run. */
struct qemu_run {
	const char *const *argv;  /* argv[0] is the binary's path */
	const char *console_path; /* the console is copied here */
	unsigned idle_timeout;    /* seconds without output before a kill */
	unsigned total_timeout;   /* seconds before a kill in any case */
	/* After this text appears, QEMU gets DONE_GRACE_SECONDS to exit. */
	const char *done_marker;
};

#define DONE_GRACE_SECONDS 10
/* The console kept in memory and written to the log, at most. */
#define CONSOLE_MAX (16 * 1024 * 1024)

/* Run QEMU and wait for it to end, kill it on a timeout or a caught
 * signal. *console receives the console output (the caller frees).
 * Returns an error only when QEMU cannot be started or a signal
 * interrupted the run; a guest that fails is recorded in out. */
int qemu_run(struct repack_ctx *ctx, const struct qemu_run *params,
	     char **console, size_t *console_len, struct boot_run_outcome *out);

/* Signals caught while a session lasts. */
void boot_signals_install(void);
void boot_signals_restore(void);
extern volatile sig_atomic_t boot_caught_signal;
/* Fail with a message naming the caught signal, when there is one. */
int boot_check_interrupt(struct repack_ctx *ctx);

#endif
