/* Booting one image: find the tools, write the initramfs, choose the
 * accelerator, run QEMU and turn its console into a report. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define LABEL_KERNEL_RELEASE "org.linuxkit.repack.kernel-release"
#define LABEL_VERSION "org.opencontainers.image.version"
/* A probe boot under KVM gets this long to reach REPACK-DONE. */
#define KVM_PROBE_SECONDS 10
#define GUEST_MEMORY "512"

int boot_session_begin(struct repack_ctx *ctx, const struct boot_options *opts,
		       struct boot_session *s)
{
	char stamp[32];
	time_t now = time(NULL);
	int rc;

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->opts = opts;
	s->accel[0] = s->accel[1] = -1;
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime(&now));
	if (opts->log_dir)
		s->log_dir = xstrdup(opts->log_dir);
	else
		s->log_dir = xasprintf("%s/boot/logs/%s-%ld", ctx->cache_dir ? ctx->cache_dir : ".",
				       stamp, (long)getpid());
	rc = mkdir_p(ctx, s->log_dir);
	if (rc == 0)
		rc = make_temp_dir(ctx, "repack-boot", &s->workdir);
	if (rc == 0)
		boot_signals_install();
	return rc;
}

void boot_session_end(struct boot_session *s)
{
	if (s->workdir)
		rm_rf(s->workdir);
	free(s->workdir);
	free(s->log_dir);
	boot_signals_restore();
	memset(s, 0, sizeof(*s));
}

/* Return a file name made from an image reference; the caller frees. */
static char *log_name(unsigned index, const char *spec)
{
	char *name = xasprintf("%u-%.100s.log", index, spec);

	for (char *p = name; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '.' && *p != '-')
			*p = '_';
	return name;
}

/* Fill argv with the QEMU command line; probe adds repack.probe, which
 * makes the init power off as soon as it runs. arm64 guests run on the
 * virt machine with the console on its PL011 UART, ttyAMA0. Under TCG
 * the CPU is max with pauth-impdef=on, which makes QEMU use its own
 * pointer authentication algorithm instead of emulating QARMA. With QEMU
 * 7.2 on an x86-64 host, Debian 12's cloud-arm64 kernel then reaches
 * /init in about 2 s instead of 9 s. */
static void build_argv(struct strlist *argv, const char *qemu, const char *arch,
		       enum boot_accel accel, const char *kernel, const char *initrd,
		       bool probe)
{
	bool arm = strcmp(arch, "arm64") == 0;

	strlist_push(argv, qemu);
	strlist_push(argv, "-accel");
	strlist_push(argv, accel == BOOT_ACCEL_KVM ? "kvm" : "tcg");
	if (arm) {
		strlist_push(argv, "-machine");
		strlist_push(argv, "virt");
	}
	if (accel == BOOT_ACCEL_KVM || arm) {
		strlist_push(argv, "-cpu");
		strlist_push(argv, accel == BOOT_ACCEL_KVM ? "host"
				   : arm ? "max,pauth-impdef=on" : "max");
	}
	const char *fixed[] = { "-m", GUEST_MEMORY, "-nographic", "-serial", "stdio",
				"-monitor", "none", "-nic", "none", "-no-reboot",
				"-kernel", kernel, "-initrd", initrd, "-append" };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		strlist_push(argv, fixed[i]);
	strlist_push_owned(argv, xasprintf("console=%s panic=-1 quiet%s",
					   arm ? "ttyAMA0" : "ttyS0", probe ? " repack.probe" : ""));
}

/* Run one guest and parse its console into *console; run receives how
 * QEMU ended. */
static int run_guest(struct boot_session *s, const char *const *argv, const char *log,
		     unsigned idle, unsigned total, struct boot_console *console,
		     struct boot_run_outcome *run)
{
	struct qemu_run params = { argv, log, idle, total, "REPACK-DONE" };
	char *text = NULL;
	size_t len = 0;
	int rc = qemu_run(s->ctx, &params, &text, &len, run);

	if (rc == 0)
		boot_console_parse(text, len, console);
	free(text);
	return rc;
}

/* Return how a QEMU run ended, for a message; the caller frees. */
static char *describe_end(const struct boot_run_outcome *run)
{
	const char *err = run->qemu_stderr ? run->qemu_stderr : "";
	int len = (int)strcspn(err, "\n");

	if (run->hung || run->total_limit)
		return xasprintf("no result within %u s", run->idle_timeout);
	if (run->signal)
		return xasprintf("QEMU was killed by signal %d: %.*s", run->signal, len, err);
	return xasprintf("QEMU exited with status %d: %.*s", run->exit_status, len, err);
}

/* Boot the image under KVM with repack.probe. On hosts where KVM guests
 * hang, this costs KVM_PROBE_SECONDS once per architecture. */
static int probe_kvm(struct boot_session *s, const char *qemu, const char *arch,
		     const char *kernel, const char *initrd, bool *works)
{
	struct strlist argv = STRLIST_INIT;
	struct boot_console console = { 0 };
	struct boot_run_outcome run = { 0 };
	char *log = xasprintf("%s/kvm-probe-%s.log", s->log_dir, arch);
	int rc;

	build_argv(&argv, qemu, arch, BOOT_ACCEL_KVM, kernel, initrd, true);
	strlist_push_owned(&argv, NULL);
	rc = run_guest(s, (const char *const *)argv.items, log, KVM_PROBE_SECONDS,
		       KVM_PROBE_SECONDS, &console, &run);
	*works = rc == 0 && console.done;
	if (rc == 0 && *works) {
		repack_log(s->ctx, REPACK_LOG_INFO, "KVM probe boot finished in %.1f s; using KVM",
			   run.wall_seconds);
	} else if (rc == 0) {
		char *why = describe_end(&run);

		repack_log(s->ctx, REPACK_LOG_INFO, "KVM probe boot failed (%s; console log %s); "
			   "using TCG", why, log);
		free(why);
	}
	boot_console_release(&console);
	boot_run_outcome_release(&run);
	strlist_release(&argv);
	free(log);
	return rc;
}

/* Check that KVM can run an arch guest here; why receives the reason it
 * cannot (the caller frees), or stays NULL. */
static void kvm_check(const char *arch, char **why)
{
	const char *host = boot_host_arch();
	int fd;

	*why = NULL;
	if (!host || strcmp(host, arch) != 0) {
		*why = xasprintf("the host is %s and KVM runs only guests of the host's "
				 "architecture, not %s", host ? host : "an unknown architecture",
				 arch);
		return;
	}
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		*why = xasprintf("/dev/kvm cannot be opened: %s", strerror(errno));
		return;
	}
	close(fd);
}

/* Decide the accelerator for arch once per session. */
static int decide_accel(struct boot_session *s, const char *qemu, const char *arch,
			const char *kernel, const char *initrd, enum boot_accel *accel)
{
	int slot = strcmp(arch, "arm64") == 0;
	bool works = false;
	char *why = NULL;
	int rc = 0;

	if (s->accel[slot] >= 0) {
		*accel = (enum boot_accel)s->accel[slot];
		return 0;
	}
	*accel = BOOT_ACCEL_TCG;
	if (s->opts->accel != BOOT_ACCEL_TCG)
		kvm_check(arch, &why);
	if (s->opts->accel == BOOT_ACCEL_KVM && why) {
		rc = repack_fail(s->ctx, REPACK_EFAIL, "--accel kvm: %s; use --accel tcg or auto", why);
	} else if (s->opts->accel == BOOT_ACCEL_KVM) {
		*accel = BOOT_ACCEL_KVM;
	} else if (s->opts->accel == BOOT_ACCEL_AUTO && why) {
		repack_log(s->ctx, REPACK_LOG_INFO, "not using KVM: %s; using TCG", why);
	} else if (s->opts->accel == BOOT_ACCEL_AUTO) {
		rc = probe_kvm(s, qemu, arch, kernel, initrd, &works);
		if (works)
			*accel = BOOT_ACCEL_KVM;
	}
	if (rc == 0)
		s->accel[slot] = (int)*accel;
	free(why);
	return rc;
}

/* Order the module results as requested and mark the modules the init
 * never reported as not run. */
static void align_modules(struct boot_console *c, const struct strlist *requested)
{
	struct boot_module *ordered = xcalloc(requested->count + c->module_count + 1,
					      sizeof(*ordered));
	size_t n = 0;

	for (size_t i = 0; i < requested->count; i++) {
		ordered[n] = (struct boot_module){ xstrdup(requested->items[i]),
						   BOOT_MODULE_NOT_RUN, NULL };
		for (size_t j = 0; j < c->module_count; j++) {
			if (!c->modules[j].name || strcmp(c->modules[j].name, ordered[n].name) != 0)
				continue;
			free(ordered[n].name);
			ordered[n] = c->modules[j];
			c->modules[j].name = NULL;
			c->modules[j].message = NULL;
		}
		n++;
	}
	for (size_t j = 0; j < c->module_count; j++)
		if (c->modules[j].name)
			ordered[n++] = c->modules[j];
	free(c->modules);
	c->modules = ordered;
	c->module_count = n;
}

static int check_image(struct repack_ctx *ctx, const char *spec,
		       const struct boot_image_files *files, char **kernel, char **tar)
{
	struct stat st;

	if (!files->arch)
		return repack_fail(ctx, REPACK_EFORMAT, "cannot tell the architecture of '%s': "
				   "it has no image config and its kernel has neither an x86 "
				   "bzImage nor an arm64 Image header; pass --arch", spec);
	if (strcmp(files->arch, "amd64") != 0 && strcmp(files->arch, "arm64") != 0)
		return repack_fail(ctx, REPACK_EFAIL, "'%s' is a %s image; repack boot "
				   "boots amd64 and arm64 images", spec, files->arch);
	*kernel = xasprintf("%s/kernel", files->dir);
	*tar = xasprintf("%s/kernel.tar", files->dir);
	if (stat(*tar, &st) < 0 || !S_ISREG(st.st_mode))
		return repack_fail(ctx, REPACK_EFORMAT, "'%s' has no kernel.tar, which holds "
				   "the modules the boot loads; rebuild the image", spec);
	return 0;
}

static void fill_labels(struct boot_report *report, const struct boot_image_files *files)
{
	const char *tag = image_source_label(&files->src, LABEL_VERSION);
	const char *release = image_source_label(&files->src, LABEL_KERNEL_RELEASE);

	report->tag = tag ? xstrdup(tag) : NULL;
	report->label_release = release ? xstrdup(release) : NULL;
	report->arch = files->arch ? xstrdup(files->arch) : NULL;
}

/* Write the initramfs for one image; the caller frees *initrd. */
static int make_initramfs(struct boot_session *s, const char *busybox, const char *tar,
			  char **initrd)
{
	struct initramfs_spec spec = { busybox, tar, &s->opts->modules, s->opts->gzip };

	*initrd = xasprintf("%s/initramfs-%u.cpio%s", s->workdir, s->image_count,
			    s->opts->gzip ? ".gz" : "");
	repack_log(s->ctx, REPACK_LOG_DEBUG, "writing the initramfs '%s'", *initrd);
	return initramfs_write(s->ctx, &spec, *initrd);
}

static int boot_files(struct boot_session *s, const char *spec,
		      const struct boot_image_files *files, struct boot_report *report)
{
	char *kernel = NULL, *tar = NULL, *qemu = NULL, *busybox = NULL, *initrd = NULL;
	char *name = NULL;
	struct strlist argv = STRLIST_INIT;
	enum boot_accel accel;
	unsigned t = s->opts->timeout;
	int rc;

	rc = check_image(s->ctx, spec, files, &kernel, &tar);
	if (rc == 0)
		rc = boot_find_qemu(s->ctx, files->arch, &qemu);
	if (rc == 0)
		rc = boot_find_busybox(s->ctx, s->opts->busybox, files->arch, &busybox);
	if (rc == 0)
		rc = make_initramfs(s, busybox, tar, &initrd);
	if (rc == 0)
		rc = decide_accel(s, qemu, files->arch, kernel, initrd, &accel);
	if (rc)
		goto out;

	name = log_name(s->image_count, spec);
	report->log_path = xasprintf("%s/%s", s->log_dir, name);
	report->accel = xstrdup(boot_accel_name(accel));
	build_argv(&argv, qemu, files->arch, accel, kernel, initrd, false);
	strlist_push_owned(&argv, NULL);
	repack_log(s->ctx, REPACK_LOG_INFO, "booting %s (%s, %s); console log %s", spec,
		   files->arch, report->accel, report->log_path);
	rc = run_guest(s, (const char *const *)argv.items, report->log_path, t,
		       t * BOOT_TOTAL_LIMIT_FACTOR, &report->console, &report->run);
	if (rc == 0) {
		align_modules(&report->console, &s->opts->modules);
		boot_report_classify(report);
	}
out:
	if (initrd)
		unlink(initrd);
	strlist_release(&argv);
	free(name);
	free(initrd);
	free(busybox);
	free(qemu);
	free(tar);
	free(kernel);
	return rc;
}

int boot_image(struct boot_session *s, const char *spec, struct boot_report *report)
{
	struct boot_image_files files;
	int rc;

	memset(report, 0, sizeof(*report));
	report->image = xstrdup(spec);
	report->console.init_seconds = -1;
	report->console.last_marker_seconds = -1;
	s->image_count++;
	rc = boot_check_interrupt(s->ctx);
	if (rc)
		return rc;
	rc = boot_image_files_open(s->ctx, spec, s->opts->arch, s->workdir, &files);
	if (rc == 0) {
		fill_labels(report, &files);
		rc = boot_files(s, spec, &files, report);
	}
	boot_image_files_release(&files);
	return rc;
}
