/* Booting kernel images under QEMU and comparing kernels.
 *
 * `repack boot` builds an initramfs (cpio newc) from a static busybox, a
 * small init script and the image's kernel.tar, boots the image's kernel
 * with it under QEMU, and reads the serial console. The init prints one
 * marker a line, so the console can be parsed without guessing:
 *
 *   REPACK-MARK init UPTIME       /init started (UPTIME from /proc/uptime)
 *   REPACK-UNAME RELEASE          uname -r
 *   REPACK-MODULE NAME STATUS MSG STATUS is ok, fail or builtin
 *   REPACK-WARN LINE              a warning line from dmesg
 *   REPACK-DONE UPTIME            the init finished and powers off
 *
 * `repack diff` compares two images' kernel_config and the modules their
 * kernel.tar files hold. */
#ifndef REPACK_BOOT_H
#define REPACK_BOOT_H

#include "image_read.h"
#include "repack.h"

#define BOOT_DEFAULT_TIMEOUT 120
#define BOOT_DEFAULT_MODULES "virtio_net,virtio_blk"

enum boot_accel {
	BOOT_ACCEL_AUTO, /* KVM when /dev/kvm opens and a probe boot works */
	BOOT_ACCEL_KVM,
	BOOT_ACCEL_TCG,
};

struct boot_options {
	const char *busybox;   /* static busybox; NULL: /bin/busybox, then PATH */
	enum boot_accel accel;
	/* Seconds without console output after which a guest counts as
	 * hung; a boot also stops after BOOT_TOTAL_LIMIT_FACTOR times this. */
	unsigned timeout;
	struct strlist modules; /* modules the init loads with modprobe */
	const char *log_dir;   /* console logs; NULL: <cache>/boot/logs */
	const char *arch;      /* manifest to take from an index, or NULL */
	bool gzip;             /* gzip the initramfs */
};

#define BOOT_TOTAL_LIMIT_FACTOR 5

/* Set the defaults: auto acceleration, BOOT_DEFAULT_TIMEOUT and the
 * modules of BOOT_DEFAULT_MODULES. */
void boot_options_init(struct boot_options *opts);
void boot_options_release(struct boot_options *opts);
/* Replace opts->modules with the comma-separated names in list (an empty
 * list loads nothing). Fails with REPACK_EUSAGE on a name that is not
 * [A-Za-z0-9_-], because names go into the init script. */
int boot_options_set_modules(struct repack_ctx *ctx, struct boot_options *opts,
			     const char *list);
/* Parse "kvm", "tcg" or "auto". */
int boot_accel_parse(const char *text, enum boot_accel *accel);
const char *boot_accel_name(enum boot_accel accel);

enum boot_module_status {
	BOOT_MODULE_OK,      /* modprobe succeeded */
	BOOT_MODULE_FAIL,    /* modprobe failed; message is its output */
	BOOT_MODULE_BUILTIN, /* listed in modules.builtin, not loaded */
	BOOT_MODULE_NOT_RUN, /* the init never reported it */
};

struct boot_module {
	char *name;
	enum boot_module_status status;
	char *message; /* modprobe's output on failure, or NULL */
};

const char *boot_module_status_name(enum boot_module_status status);

/* Results parsed from the serial console by boot_console_parse(). Times
 * are guest uptime in seconds, negative when the marker never came. */
struct boot_console {
	bool init_ran;           /* REPACK-MARK init seen */
	bool done;               /* REPACK-DONE seen */
	bool panic;              /* "Kernel panic" seen */
	char *panic_message;     /* text after "Kernel panic - not syncing: " */
	bool no_working_init;    /* "No working init found" seen */
	char *kernel_release;    /* from REPACK-UNAME, or NULL */
	double init_seconds;
	double last_marker_seconds;
	struct boot_module *modules;
	size_t module_count;
	struct strlist warnings; /* WARNING:, BUG:, Oops and Call Trace lines */
};

#define BOOT_MAX_WARNINGS 100

/* Parse the console text (not NUL-terminated). Markers may sit after
 * escape sequences or share a line with kernel output. Release console
 * with boot_console_release(). */
void boot_console_parse(const char *text, size_t len,
			struct boot_console *console);
void boot_console_release(struct boot_console *console);

/* The end of a QEMU run: exit status, timeouts and stderr. */
struct boot_run_outcome {
	bool started;       /* QEMU was executed */
	bool hung;          /* killed after the timeout without output */
	bool total_limit;   /* killed after the total limit while printing */
	int exit_status;    /* exit status, or -1 when killed by a signal */
	int signal;         /* the signal that ended QEMU, or 0 */
	char *qemu_stderr;  /* what QEMU wrote to stderr, at most 8 KiB */
	double wall_seconds;
	unsigned idle_timeout;  /* the limits the run had, in seconds */
	unsigned total_timeout;
};

void boot_run_outcome_release(struct boot_run_outcome *run);

enum boot_failure {
	BOOT_FAIL_NONE,
	BOOT_FAIL_PANIC,      /* the kernel panicked */
	BOOT_FAIL_HANG,       /* no output for the timeout, or no end */
	BOOT_FAIL_NO_INIT,    /* the guest stopped before /init ran */
	BOOT_FAIL_QEMU,       /* QEMU failed before the guest ran */
	BOOT_FAIL_INCOMPLETE, /* /init ran but stopped before it finished */
};

const char *boot_failure_name(enum boot_failure failure);

/* The result of booting one image. */
struct boot_report {
	char *image;          /* the reference as given */
	char *tag;            /* org.opencontainers.image.version, or NULL */
	char *label_release;  /* the kernel-release label, or NULL */
	char *arch;           /* amd64 or arm64 */
	char *accel;          /* kvm or tcg */
	bool booted;          /* /init ran */
	enum boot_failure failure;
	char *detail;         /* what went wrong, or NULL */
	struct boot_console console;
	struct boot_run_outcome run;
	char *log_path;       /* the full console log */
};

void boot_report_release(struct boot_report *report);
/* Set booted, failure and detail from report->console and report->run. */
void boot_report_classify(struct boot_report *report);
/* True when the image booted, /init finished and every module loaded or
 * is built in. */
bool boot_report_ok(const struct boot_report *report);

/* A run of `repack boot` over one or more images. The session decides
 * the acceleration once per architecture and, while it lasts, catches
 * SIGINT, SIGTERM and SIGHUP so that QEMU is killed before repack stops. */
struct boot_session {
	struct repack_ctx *ctx;
	const struct boot_options *opts;
	char *log_dir;        /* owned */
	char *workdir;        /* owned temporary directory */
	int accel[2];         /* per architecture: -1 undecided, else enum boot_accel */
	unsigned image_count; /* images booted so far, numbers the logs */
};

int boot_session_begin(struct repack_ctx *ctx, const struct boot_options *opts,
		       struct boot_session *session);
/* Remove the working files and restore the signal handlers. */
void boot_session_end(struct boot_session *session);
/* Boot the image spec names and fill report. A guest that fails to boot
 * is a result, not an error: the return value is an error only when the
 * image cannot be read, a tool is missing or repack was interrupted.
 * Release report with boot_report_release() in every case. */
int boot_image(struct boot_session *session, const char *spec,
	       struct boot_report *report);
/* The signal that interrupted the session, or 0. */
int boot_interrupted(void);

/* An image's files, ready to read: the directory of a dir: image, or a
 * temporary extraction of an OCI image. */
struct boot_image_files {
	struct image_source src;
	char *dir;      /* where kernel, kernel.tar and kernel_config are */
	char *tmpdir;   /* removed by the release, or NULL */
	char *arch;     /* amd64 or arm64, from the config or the kernel */
};

/* Open spec and make its files readable, extracting an OCI image under
 * workdir. Release files with boot_image_files_release() in every case. */
int boot_image_files_open(struct repack_ctx *ctx, const char *spec,
			  const char *arch, const char *workdir,
			  struct boot_image_files *files);
void boot_image_files_release(struct boot_image_files *files);

/* One option of a kernel .config; value is "n" for "# CONFIG_X is not set"
 * and keeps the quotes of a string. */
struct kconfig_option {
	char *name;
	char *value;
};

/* A parsed .config, sorted by name, one entry a name (the last wins). */
struct kconfig {
	struct kconfig_option *items;
	size_t count;
};

/* Parse .config text. Fails with REPACK_EFORMAT, naming origin, when
 * the text contains no CONFIG_ line. Release cfg with kconfig_release(). */
int kconfig_parse(struct repack_ctx *ctx, const char *origin,
		  const char *text, size_t len, struct kconfig *cfg);
void kconfig_release(struct kconfig *cfg);
/* Return the value of name, or NULL. */
const char *kconfig_get(const struct kconfig *cfg, const char *name);

/* One difference: old_value NULL for an added option, new_value NULL for
 * a removed one. The strings belong to the two configs. */
struct kconfig_change {
	const char *name;
	const char *old_value;
	const char *new_value;
};

struct kconfig_diff {
	struct kconfig_change *items; /* sorted by name */
	size_t count;
};

void kconfig_diff(const struct kconfig *old_cfg, const struct kconfig *new_cfg,
		  struct kconfig_diff *diff);
void kconfig_diff_release(struct kconfig_diff *diff);

/* Return the module name of a path in a modules tree, such as
 * "virtio_net" for ".../virtio_net.ko.xz". Returns NULL when the path is
 * not a module. The caller frees the name. */
char *boot_module_name(const char *path);
/* Fill names with the modules kernel.tar holds, sorted, one entry a name,
 * with '-' written as '_' as the kernel does. */
int boot_tar_modules(struct repack_ctx *ctx, const char *kernel_tar,
		     struct strlist *names);

/* The differences between two images. */
struct kernel_diff {
	struct kconfig old_config;
	struct kconfig new_config;
	struct kconfig_diff config;
	struct strlist only_old;  /* modules only in the first image */
	struct strlist only_new;  /* modules only in the second image */
	size_t old_modules;       /* module counts */
	size_t new_modules;
};

int kernel_diff_images(struct repack_ctx *ctx, const char *old_spec,
		       const char *new_spec, const char *arch,
		       struct kernel_diff *diff);
void kernel_diff_release(struct kernel_diff *diff);

#endif
