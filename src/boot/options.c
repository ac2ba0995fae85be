/* Options of a boot run and their defaults. */
#include <string.h>

#include "boot.h"

void boot_options_init(struct boot_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->accel = BOOT_ACCEL_AUTO;
	opts->timeout = BOOT_DEFAULT_TIMEOUT;
	boot_options_set_modules(NULL, opts, BOOT_DEFAULT_MODULES);
}

void boot_options_release(struct boot_options *opts)
{
	strlist_release(&opts->modules);
}

static bool module_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') &&
		    !(ch >= '0' && ch <= '9') && ch != '_' && ch != '-')
			return false;
	}
	return true;
}

int boot_options_set_modules(struct repack_ctx *ctx, struct boot_options *opts,
			     const char *list)
{
	struct strlist names = STRLIST_INIT;
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (!module_name_valid(p, len)) {
			strlist_release(&names);
			if (!ctx)
				return REPACK_EUSAGE;
			return repack_fail(ctx, REPACK_EUSAGE,
					   "invalid module name '%.*s' in '%s': a name is 1 to 64 "
					   "letters, digits, '_' or '-', and names are separated by ','",
					   (int)len, p, list);
		}
		char *name = xstrndup(p, len);
		if (strlist_contains(&names, name))
			free(name);
		else
			strlist_push_owned(&names, name);
		p += len;
		if (*p == ',')
			p++;
	}
	strlist_release(&opts->modules);
	opts->modules = names;
	return 0;
}

int boot_accel_parse(const char *text, enum boot_accel *accel)
{
	if (strcmp(text, "auto") == 0)
		*accel = BOOT_ACCEL_AUTO;
	else if (strcmp(text, "kvm") == 0)
		*accel = BOOT_ACCEL_KVM;
	else if (strcmp(text, "tcg") == 0)
		*accel = BOOT_ACCEL_TCG;
	else
		return REPACK_EUSAGE;
	return 0;
}

const char *boot_accel_name(enum boot_accel accel)
{
	switch (accel) {
	case BOOT_ACCEL_AUTO: return "auto";
	case BOOT_ACCEL_KVM: return "kvm";
	case BOOT_ACCEL_TCG: return "tcg";
	}
	return "unknown";
}
