/* Parsing the serial console of a boot: the init's REPACK- markers, and
 * the kernel's own lines about panics, a missing init and warnings. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

/* Longer console lines are cut to this many bytes before parsing. */
#define LINE_MAX_LEN 4096

static const char *const warning_patterns[] = {
	"WARNING:", "BUG:", "Call Trace", "Oops",
};

const char *boot_module_status_name(enum boot_module_status status)
{
	switch (status) {
	case BOOT_MODULE_OK: return "ok";
	case BOOT_MODULE_FAIL: return "fail";
	case BOOT_MODULE_BUILTIN: return "builtin";
	case BOOT_MODULE_NOT_RUN: return "not-run";
	}
	return "unknown";
}

const char *boot_failure_name(enum boot_failure failure)
{
	switch (failure) {
	case BOOT_FAIL_NONE: return "none";
	case BOOT_FAIL_PANIC: return "panic";
	case BOOT_FAIL_HANG: return "hang";
	case BOOT_FAIL_NO_INIT: return "no-init";
	case BOOT_FAIL_QEMU: return "qemu-error";
	case BOOT_FAIL_INCOMPLETE: return "incomplete";
	}
	return "unknown";
}

/* Skip a printk timestamp such as "[    1.234567] ". */
static const char *skip_timestamp(const char *s)
{
	const char *p = s;

	if (*p != '[')
		return s;
	p++;
	while (*p == ' ' || isdigit((unsigned char)*p) || *p == '.')
		p++;
	if (*p != ']')
		return s;
	p++;
	while (*p == ' ')
		p++;
	return p;
}

/* Return a copy of s without leading and trailing blanks and control
 * characters; the caller frees. */
static char *trimmed_copy(const char *s)
{
	const char *end = s + strlen(s);

	while (*s && (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)))
		s++;
	while (end > s && (isspace((unsigned char)end[-1]) || iscntrl((unsigned char)end[-1])))
		end--;
	return xstrndup(s, (size_t)(end - s));
}

static void add_warning(struct boot_console *c, const char *line)
{
	char *text = trimmed_copy(skip_timestamp(line));

	if (!*text || c->warnings.count >= BOOT_MAX_WARNINGS ||
	    strlist_contains(&c->warnings, text)) {
		free(text);
		return;
	}
	strlist_push_owned(&c->warnings, text);
}

/* Read a number of seconds into *out, which stays unchanged when s
 * starts with no number. */
static void read_seconds(const char *s, double *out)
{
	char *end;
	double v;

	while (*s == ' ')
		s++;
	v = strtod(s, &end);
	if (end != s && v >= 0)
		*out = v;
}

/* Copy the word at *s and move *s past it and the blanks after it; the
 * caller frees. */
static char *take_word(const char **s)
{
	const char *p = *s;
	char *word;
	size_t n = 0;

	while (*p == ' ')
		p++;
	while (p[n] && p[n] != ' ')
		n++;
	word = xstrndup(p, n);
	p += n;
	while (*p == ' ')
		p++;
	*s = p;
	return word;
}

static struct boot_module *find_module(struct boot_console *c, const char *name)
{
	for (size_t i = 0; i < c->module_count; i++)
		if (strcmp(c->modules[i].name, name) == 0)
			return &c->modules[i];
	c->modules = xrealloc(c->modules, (c->module_count + 1) * sizeof(*c->modules));
	c->modules[c->module_count] = (struct boot_module){ xstrdup(name), BOOT_MODULE_NOT_RUN, NULL };
	return &c->modules[c->module_count++];
}

/* "REPACK-MODULE NAME STATUS [MESSAGE]"; a later report of the same
 * module replaces an earlier one. */
static void parse_module(struct boot_console *c, const char *rest)
{
	char *name = take_word(&rest);
	char *status = take_word(&rest);
	struct boot_module *m;
	enum boot_module_status st;

	if (strcmp(status, "ok") == 0)
		st = BOOT_MODULE_OK;
	else if (strcmp(status, "fail") == 0)
		st = BOOT_MODULE_FAIL;
	else if (strcmp(status, "builtin") == 0)
		st = BOOT_MODULE_BUILTIN;
	else
		goto out;
	if (!*name)
		goto out;
	m = find_module(c, name);
	m->status = st;
	free(m->message);
	m->message = *rest ? trimmed_copy(rest) : NULL;
out:
	free(status);
	free(name);
}

static void parse_marker(struct boot_console *c, const char *m)
{
	const char *rest;

	if (str_starts_with(m, "REPACK-MARK ")) {
		rest = m + strlen("REPACK-MARK ");
		if (str_starts_with(rest, "init ")) {
			c->init_ran = true;
			read_seconds(rest + strlen("init "), &c->init_seconds);
			read_seconds(rest + strlen("init "), &c->last_marker_seconds);
		}
	} else if (str_starts_with(m, "REPACK-UNAME ")) {
		rest = m + strlen("REPACK-UNAME ");
		free(c->kernel_release);
		c->kernel_release = take_word(&rest);
		if (!*c->kernel_release) {
			free(c->kernel_release);
			c->kernel_release = NULL;
		}
	} else if (str_starts_with(m, "REPACK-MODULE ")) {
		parse_module(c, m + strlen("REPACK-MODULE "));
	} else if (str_starts_with(m, "REPACK-WARN ")) {
		add_warning(c, m + strlen("REPACK-WARN "));
	} else if (str_starts_with(m, "REPACK-DONE")) {
		c->done = true;
		read_seconds(m + strlen("REPACK-DONE"), &c->last_marker_seconds);
	}
}

static void parse_kernel_line(struct boot_console *c, const char *line)
{
	const char *panic = strstr(line, "Kernel panic");

	if (panic && !c->panic) {
		const char *reason = strstr(panic, "not syncing:");

		c->panic = true;
		c->panic_message = trimmed_copy(reason ? reason + strlen("not syncing:") : panic);
	}
	if (strstr(line, "No working init found"))
		c->no_working_init = true;
	for (size_t i = 0; i < sizeof(warning_patterns) / sizeof(warning_patterns[0]); i++)
		if (strstr(line, warning_patterns[i])) {
			add_warning(c, line);
			break;
		}
}

static void parse_line(struct boot_console *c, const char *line)
{
	const char *marker = strstr(line, "REPACK-");

	/* The init's own lines can quote kernel text (a modprobe error, a
	 * dmesg warning), so they are never read as kernel lines. */
	if (marker)
		parse_marker(c, marker);
	else
		parse_kernel_line(c, line);
}

void boot_console_parse(const char *text, size_t len, struct boot_console *c)
{
	char line[LINE_MAX_LEN + 1];
	size_t n = 0;

	memset(c, 0, sizeof(*c));
	c->init_seconds = -1;
	c->last_marker_seconds = -1;
	for (size_t i = 0; i <= len; i++) {
		/* The serial console ends lines with "\r\n", firmware with
		 * bare '\r' as well; a NUL byte is line noise. */
		if (i == len || text[i] == '\n' || text[i] == '\r' || text[i] == '\0') {
			line[n] = '\0';
			if (n)
				parse_line(c, line);
			n = 0;
		} else if (n < LINE_MAX_LEN) {
			line[n++] = text[i];
		}
	}
}

void boot_console_release(struct boot_console *c)
{
	for (size_t i = 0; i < c->module_count; i++) {
		free(c->modules[i].name);
		free(c->modules[i].message);
	}
	free(c->modules);
	free(c->panic_message);
	free(c->kernel_release);
	strlist_release(&c->warnings);
	memset(c, 0, sizeof(*c));
}
