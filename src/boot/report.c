/* Deciding from the console and the QEMU exit how a boot went. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"

/* Return the first non-empty line of QEMU's stderr, or a stand-in; the
 * caller frees. */
static char *first_stderr_line(const char *text)
{
	const char *end;

	while (text && (*text == '\n' || *text == ' '))
		text++;
	if (!text || !*text)
		return xstrdup("nothing on stderr");
	end = strchr(text, '\n');
	return end ? xstrndup(text, (size_t)(end - text)) : xstrdup(text);
}

static char *qemu_failure_detail(const struct boot_run_outcome *run)
{
	char *line = first_stderr_line(run->qemu_stderr);
	char *detail;

	if (run->signal)
		detail = xasprintf("QEMU was killed by signal %d: %s", run->signal, line);
	else
		detail = xasprintf("QEMU exited with status %d: %s", run->exit_status, line);
	free(line);
	return detail;
}

static void classify(struct boot_report *r, enum boot_failure failure, char *detail)
{
	r->failure = failure;
	free(r->detail);
	r->detail = detail;
}

/* A panic counts only before REPACK-DONE: once the init is done, a panic
 * can only come from a failed poweroff. The kernel panics when it finds no
 * init, and that is reported as no-init. */
void boot_report_classify(struct boot_report *r)
{
	const struct boot_console *c = &r->console;
	const struct boot_run_outcome *run = &r->run;

	r->booted = c->init_ran;
	if (c->done)
		classify(r, BOOT_FAIL_NONE, NULL);
	else if (c->no_working_init && !c->init_ran)
		classify(r, BOOT_FAIL_NO_INIT, c->panic_message ?
			 xasprintf("Kernel panic: %s", c->panic_message) :
			 xstrdup("the kernel found no working init"));
	else if (c->panic)
		classify(r, BOOT_FAIL_PANIC, xasprintf("Kernel panic: %s",
			c->panic_message && *c->panic_message ? c->panic_message : "no reason given"));
	else if (run->hung)
		classify(r, BOOT_FAIL_HANG, xasprintf("no console output for %u s; QEMU was killed",
						      run->idle_timeout));
	else if (run->total_limit)
		classify(r, BOOT_FAIL_HANG, xasprintf("the guest was still running after %u s; "
						      "QEMU was killed", run->total_timeout));
	else if (!run->started)
		classify(r, BOOT_FAIL_QEMU, xstrdup("QEMU did not start"));
	else if (run->exit_status != 0 || run->signal)
		classify(r, c->init_ran ? BOOT_FAIL_INCOMPLETE : BOOT_FAIL_QEMU,
			 qemu_failure_detail(run));
	else if (!c->init_ran)
		classify(r, BOOT_FAIL_NO_INIT, xstrdup("the guest stopped before /init ran, "
						       "without a kernel panic message"));
	else
		classify(r, BOOT_FAIL_INCOMPLETE, xstrdup("/init stopped before it finished"));
}

bool boot_report_ok(const struct boot_report *r)
{
	if (!r->booted || r->failure != BOOT_FAIL_NONE)
		return false;
	for (size_t i = 0; i < r->console.module_count; i++) {
		enum boot_module_status st = r->console.modules[i].status;

		if (st != BOOT_MODULE_OK && st != BOOT_MODULE_BUILTIN)
			return false;
	}
	return true;
}

void boot_run_outcome_release(struct boot_run_outcome *run)
{
	free(run->qemu_stderr);
	memset(run, 0, sizeof(*run));
}

void boot_report_release(struct boot_report *r)
{
	free(r->image);
	free(r->tag);
	free(r->label_release);
	free(r->arch);
	free(r->accel);
	free(r->detail);
	free(r->log_path);
	boot_console_release(&r->console);
	boot_run_outcome_release(&r->run);
	memset(r, 0, sizeof(*r));
}
