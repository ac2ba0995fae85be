/* Unit tests for parsing a boot's serial console and for deciding from it
 * and the QEMU exit how the boot went. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot.h"

/* A console, the QEMU outcome and the expected report. Module results
 * are written as "name=status" joined by ' '. */
struct console_case {
	const char *name;
	const char *console;
	bool hung;
	int exit_status;
	const char *qemu_stderr;
	bool booted;
	enum boot_failure failure;
	const char *detail_part;  /* text the detail contains, or NULL for none */
	const char *release;
	double init_seconds;
	double last_seconds;
	const char *modules;
	size_t warnings;
};

static const struct console_case cases[] = {
	{ "clean boot",
	  "\033c\033[?7l\033[2J\033[0mSeaBIOS (version 1.16.2-debian-1.16.2-1)\r\n"
	  "Booting from ROM...\r\n"
	  "\033c\033[?7l\033[2JREPACK-MARK init 2.37\r\n"
	  "REPACK-UNAME 6.1.0-57-cloud-amd64\r\n"
	  "REPACK-MODULE virtio_net ok\r\n"
	  "REPACK-MODULE virtio_blk builtin\r\n"
	  "REPACK-DONE 2.53\r\n"
	  "[    2.571706] reboot: Power down\r\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, "6.1.0-57-cloud-amd64", 2.37, 2.53,
	  "virtio_net=ok virtio_blk=builtin", 0 },
	{ "module failure with message",
	  "REPACK-MARK init 1.5\n"
	  "REPACK-UNAME 6.1.0-1-amd64\n"
	  "REPACK-MODULE virtio_net fail modprobe: can't open 'modules.dep': No such file or directory\n"
	  "REPACK-DONE 1.75\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, "6.1.0-1-amd64", 1.5, 1.75,
	  "virtio_net=fail", 0 },
	{ "panic before init",
	  "[    0.912345] VFS: Cannot open root device \"(null)\" or unknown-block(0,0): error -6\n"
	  "[    0.912400] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n"
	  "[    0.912500] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-1-amd64 #1\n"
	  "[    0.912600] Call Trace:\n",
	  false, 0, "", false, BOOT_FAIL_PANIC, "VFS: Unable to mount root fs", NULL, -1, -1, "", 1 },
	{ "no working init",
	  "[    1.0] Kernel panic - not syncing: No working init found.  Try passing init= option to kernel.\n",
	  false, 0, "", false, BOOT_FAIL_NO_INIT, "No working init found", NULL, -1, -1, "", 0 },
	{ "no working init without panic line",
	  "[    1.0] No working init found.\n",
	  false, 0, "", false, BOOT_FAIL_NO_INIT, "no working init", NULL, -1, -1, "", 0 },
	{ "silent guest killed",
	  "SeaBIOS (version 1.16.2)\r\nBooting from ROM...\r\n",
	  true, -1, "qemu-system-x86_64: terminating on signal 15\n", false, BOOT_FAIL_HANG,
	  "no console output for 7 s", NULL, -1, -1, "", 0 },
	{ "hang after init",
	  "REPACK-MARK init 3.0\nREPACK-UNAME 6.1.0-1-amd64\n",
	  true, -1, "", true, BOOT_FAIL_HANG, "7 s", "6.1.0-1-amd64", 3.0, 3.0, "", 0 },
	{ "qemu rejects the kernel",
	  "",
	  false, 1, "qemu: linux kernel too old to load a ram disk\n", false, BOOT_FAIL_QEMU,
	  "status 1: qemu: linux kernel too old to load a ram disk", NULL, -1, -1, "", 0 },
	{ "guest reset before init",
	  "SeaBIOS\r\nBooting from ROM...\r\n",
	  false, 0, "", false, BOOT_FAIL_NO_INIT, "before /init ran", NULL, -1, -1, "", 0 },
	{ "init stopped early",
	  "REPACK-MARK init 2.0\nREPACK-UNAME 6.1.0-1-amd64\nREPACK-MODULE virtio_net ok\n",
	  false, 0, "", true, BOOT_FAIL_INCOMPLETE, "before it finished", "6.1.0-1-amd64", 2.0, 2.0,
	  "virtio_net=ok", 0 },
	{ "panic after init while loading",
	  "REPACK-MARK init 2.0\n"
	  "[    2.5] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
	  "[    2.5] Oops: 0000 [#1] PREEMPT SMP NOPTI\n"
	  "[    2.6] Kernel panic - not syncing: Fatal exception\n",
	  false, 0, "", true, BOOT_FAIL_PANIC, "Fatal exception", NULL, 2.0, 2.0, "", 2 },
	{ "panic after done is ignored",
	  "REPACK-MARK init 2.0\nREPACK-DONE 2.2\n"
	  "[    2.3] Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, NULL, 2.0, 2.2, "", 0 },
	{ "warnings from the console and dmesg counted once",
	  "REPACK-MARK init 1.0\n"
	  "[    1.2] WARNING: CPU: 0 PID: 1 at mm/slab.c:1 f+0x1/0x2\n"
	  "REPACK-WARN [    1.2] WARNING: CPU: 0 PID: 1 at mm/slab.c:1 f+0x1/0x2\n"
	  "REPACK-WARN [    1.3] Call Trace:\n"
	  "REPACK-DONE 1.4\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, NULL, 1.0, 1.4, "", 2 },
	{ "marker after kernel text on one line",
	  "[    0.5] random: crng init doneREPACK-MARK init 0.90\n"
	  "REPACK-UNAME 6.1.0-1-arm64\rREPACK-DONE 1.10\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, "6.1.0-1-arm64", 0.90, 1.10, "", 0 },
	{ "module message quoting a BUG is not a warning",
	  "REPACK-MARK init 1.0\nREPACK-MODULE foo fail BUG: something\nREPACK-DONE 1.1\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, NULL, 1.0, 1.1, "foo=fail", 0 },
	{ "later module report wins and bad statuses are ignored",
	  "REPACK-MARK init 1.0\nREPACK-MODULE foo fail x\nREPACK-MODULE foo ok\n"
	  "REPACK-MODULE bar maybe\nREPACK-MODULE\nREPACK-DONE 1.1\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, NULL, 1.0, 1.1, "foo=ok", 0 },
	{ "malformed times are unknown",
	  "REPACK-MARK init soon\nREPACK-DONE\n",
	  false, 0, "", true, BOOT_FAIL_NONE, NULL, NULL, -1, -1, "", 0 },
};

static char *module_summary(const struct boot_console *console)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < console->module_count; i++)
		strbuf_addf(&sb, "%s%s=%s", i ? " " : "", console->modules[i].name,
			    boot_module_status_name(console->modules[i].status));
	return strbuf_detach(&sb, NULL);
}

static void check_case(const struct console_case *c)
{
	struct boot_report r;
	char *modules;

	memset(&r, 0, sizeof(r));
	boot_console_parse(c->console, strlen(c->console), &r.console);
	r.run.started = true;
	r.run.hung = c->hung;
	r.run.exit_status = c->exit_status;
	r.run.signal = c->exit_status < 0 ? 15 : 0;
	r.run.qemu_stderr = xstrdup(c->qemu_stderr);
	r.run.idle_timeout = 7;
	r.run.total_timeout = 35;
	boot_report_classify(&r);

	print_message("case: %s\n", c->name);
	assert_int_equal(r.booted, c->booted);
	assert_string_equal(boot_failure_name(r.failure), boot_failure_name(c->failure));
	if (c->detail_part) {
		assert_non_null(r.detail);
		assert_non_null(strstr(r.detail, c->detail_part));
	} else {
		assert_null(r.detail);
	}
	if (c->release)
		assert_string_equal(r.console.kernel_release, c->release);
	else
		assert_null(r.console.kernel_release);
	assert_float_equal(r.console.init_seconds, c->init_seconds, 1e-9);
	assert_float_equal(r.console.last_marker_seconds, c->last_seconds, 1e-9);
	modules = module_summary(&r.console);
	assert_string_equal(modules, c->modules);
	free(modules);
	assert_int_equal(r.console.warnings.count, c->warnings);
	boot_report_release(&r);
}

static void console_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void module_message_kept(void **state)
{
	static const char text[] = "REPACK-MODULE virtio_net fail modprobe: module virtio_net not found in modules.dep  \r\n";
	struct boot_console c;

	(void)state;
	boot_console_parse(text, strlen(text), &c);
	assert_int_equal(c.module_count, 1);
	assert_string_equal(c.modules[0].message, "modprobe: module virtio_net not found in modules.dep");
	boot_console_release(&c);
}

static void warning_text_without_timestamp(void **state)
{
	static const char text[] = "[   12.345678] WARNING: CPU: 1 PID: 9 at kernel/x.c:5 y+0x1/0x2\n";
	struct boot_console c;

	(void)state;
	boot_console_parse(text, strlen(text), &c);
	assert_int_equal(c.warnings.count, 1);
	assert_string_equal(c.warnings.items[0], "WARNING: CPU: 1 PID: 9 at kernel/x.c:5 y+0x1/0x2");
	boot_console_release(&c);
}

static void nul_bytes_and_empty_fields(void **state)
{
	static const char text[] = "REPACK-MARK init 1.0\n\0\0REPACK-UNAME \nREPACK-DONE 1.2\n";
	struct boot_console c;

	(void)state;
	boot_console_parse(text, sizeof(text) - 1, &c);
	assert_true(c.init_ran);
	assert_true(c.done);
	assert_null(c.kernel_release);
	assert_float_equal(c.last_marker_seconds, 1.2, 1e-9);
	boot_console_release(&c);
}

static void warnings_capped(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct boot_console c;

	(void)state;
	for (int i = 0; i < BOOT_MAX_WARNINGS + 50; i++)
		strbuf_addf(&sb, "BUG: number %d\n", i);
	boot_console_parse(sb.buf, sb.len, &c);
	assert_int_equal(c.warnings.count, BOOT_MAX_WARNINGS);
	boot_console_release(&c);
	strbuf_release(&sb);
}

static void long_line_cut(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct boot_console c;

	(void)state;
	strbuf_addstr(&sb, "REPACK-UNAME ");
	for (int i = 0; i < 10000; i++)
		strbuf_addstr(&sb, "x");
	strbuf_addstr(&sb, "\nREPACK-MARK init 1.0\n");
	boot_console_parse(sb.buf, sb.len, &c);
	assert_true(c.init_ran);
	assert_non_null(c.kernel_release);
	assert_true(strlen(c.kernel_release) < 5000);
	boot_console_release(&c);
	strbuf_release(&sb);
}

static void report_ok_needs_every_module(void **state)
{
	static const char good[] = "REPACK-MARK init 1\nREPACK-MODULE a ok\nREPACK-MODULE b builtin\nREPACK-DONE 2\n";
	static const char bad[] = "REPACK-MARK init 1\nREPACK-MODULE a ok\nREPACK-MODULE b fail x\nREPACK-DONE 2\n";
	struct boot_report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	boot_console_parse(good, strlen(good), &r.console);
	r.run.started = true;
	boot_report_classify(&r);
	assert_true(boot_report_ok(&r));
	boot_report_release(&r);

	memset(&r, 0, sizeof(r));
	boot_console_parse(bad, strlen(bad), &r.console);
	r.run.started = true;
	boot_report_classify(&r);
	assert_true(r.booted);
	assert_false(boot_report_ok(&r));
	boot_report_release(&r);
}

static void module_option_names(void **state)
{
	struct repack_ctx ctx;
	struct boot_options opts;

	(void)state;
	repack_ctx_init(&ctx);
	boot_options_init(&opts);
	assert_int_equal(opts.modules.count, 2);
	assert_string_equal(opts.modules.items[0], "virtio_net");
	assert_int_equal(boot_options_set_modules(&ctx, &opts, "e1000,virtio-net,e1000"), 0);
	assert_int_equal(opts.modules.count, 2);
	assert_string_equal(opts.modules.items[1], "virtio-net");
	assert_int_equal(boot_options_set_modules(&ctx, &opts, ""), 0);
	assert_int_equal(opts.modules.count, 0);
	assert_int_equal(boot_options_set_modules(&ctx, &opts, "a,,b"), REPACK_EUSAGE);
	assert_int_equal(boot_options_set_modules(&ctx, &opts, "$(reboot)"), REPACK_EUSAGE);
	assert_non_null(strstr(ctx.error, "$(reboot)"));
	assert_int_equal(boot_options_set_modules(&ctx, &opts, "a b"), REPACK_EUSAGE);
	assert_int_equal(opts.modules.count, 0);
	boot_options_release(&opts);
	repack_ctx_release(&ctx);
}

static void accel_names(void **state)
{
	enum boot_accel a;

	(void)state;
	assert_int_equal(boot_accel_parse("kvm", &a), 0);
	assert_int_equal(a, BOOT_ACCEL_KVM);
	assert_int_equal(boot_accel_parse("tcg", &a), 0);
	assert_int_equal(a, BOOT_ACCEL_TCG);
	assert_int_equal(boot_accel_parse("auto", &a), 0);
	assert_int_equal(a, BOOT_ACCEL_AUTO);
	assert_int_equal(boot_accel_parse("KVM", &a), REPACK_EUSAGE);
	assert_string_equal(boot_accel_name(BOOT_ACCEL_TCG), "tcg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(console_table),
		cmocka_unit_test(module_message_kept),
		cmocka_unit_test(warning_text_without_timestamp),
		cmocka_unit_test(nul_bytes_and_empty_fields),
		cmocka_unit_test(warnings_capped),
		cmocka_unit_test(long_line_cut),
		cmocka_unit_test(report_ok_needs_every_module),
		cmocka_unit_test(module_option_names),
		cmocka_unit_test(accel_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
