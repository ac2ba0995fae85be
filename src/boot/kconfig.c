/* Kernel .config files: parse "CONFIG_X=value" and "# CONFIG_X is not
 * set" lines, and list the options that differ between two configs. */
#include <stdlib.h>
#include <string.h>

#include "boot.h"

/* Option names are CONFIG_ followed by [A-Za-z0-9_]. */
static size_t option_name_len(const char *s, size_t len)
{
	size_t n = strlen("CONFIG_");

	if (len <= n || strncmp(s, "CONFIG_", n) != 0)
		return 0;
	while (n < len && (s[n] == '_' || (s[n] >= 'A' && s[n] <= 'Z') ||
			   (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9')))
		n++;
	return n > strlen("CONFIG_") ? n : 0;
}

struct parsed_option {
	struct kconfig_option option;
	size_t line; /* for keeping the last of repeated names */
};

static int compare_parsed(const void *a, const void *b)
{
	const struct parsed_option *x = a, *y = b;
	int c = strcmp(x->option.name, y->option.name);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Parse one line into *out; returns false for comments, blank lines and
 * anything else that is not an option. */
static bool parse_line(const char *s, size_t len, struct kconfig_option *out)
{
	static const char not_set[] = " is not set";
	size_t name;

	while (len && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len > 2 && s[0] == '#' && s[1] == ' ') {
		name = option_name_len(s + 2, len - 2);
		if (!name || len - 2 - name != strlen(not_set) ||
		    strncmp(s + 2 + name, not_set, strlen(not_set)) != 0)
			return false;
		out->name = xstrndup(s + 2, name);
		out->value = xstrdup("n");
		return true;
	}
	name = option_name_len(s, len);
	if (!name || name >= len || s[name] != '=')
		return false;
	out->name = xstrndup(s, name);
	out->value = xstrndup(s + name + 1, len - name - 1);
	return true;
}

/* Sort by name and keep the last line of each name, as Kconfig does. */
static void sort_unique(struct parsed_option *opts, size_t count, struct kconfig *cfg)
{
	qsort(opts, count, sizeof(*opts), compare_parsed);
	cfg->items = xcalloc(count ? count : 1, sizeof(*cfg->items));
	cfg->count = 0;
	for (size_t i = 0; i < count; i++) {
		if (i + 1 < count && strcmp(opts[i].option.name, opts[i + 1].option.name) == 0) {
			free(opts[i].option.name);
			free(opts[i].option.value);
			continue;
		}
		cfg->items[cfg->count++] = opts[i].option;
	}
}

int kconfig_parse(struct repack_ctx *ctx, const char *origin, const char *text,
		  size_t len, struct kconfig *cfg)
{
	struct parsed_option *opts = NULL;
	size_t count = 0, alloc = 0, line = 0;
	const char *p = text, *end = text + len;

	memset(cfg, 0, sizeof(*cfg));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct kconfig_option option;

		if (parse_line(p, n, &option)) {
			if (count == alloc) {
				alloc = alloc ? alloc * 2 : 1024;
				opts = xrealloc(opts, alloc * sizeof(*opts));
			}
			opts[count++] = (struct parsed_option){ option, line };
		}
		line++;
		p += n + 1;
	}
	if (count == 0) {
		free(opts);
		return repack_fail(ctx, REPACK_EFORMAT, "'%s' contains no CONFIG_ lines; it is "
				   "not a kernel configuration", origin);
	}
	sort_unique(opts, count, cfg);
	free(opts);
	return 0;
}

void kconfig_release(struct kconfig *cfg)
{
	for (size_t i = 0; i < cfg->count; i++) {
		free(cfg->items[i].name);
		free(cfg->items[i].value);
	}
	free(cfg->items);
	memset(cfg, 0, sizeof(*cfg));
}

static int compare_option_name(const void *key, const void *item)
{
	return strcmp(key, ((const struct kconfig_option *)item)->name);
}

const char *kconfig_get(const struct kconfig *cfg, const char *name)
{
	const struct kconfig_option *o = bsearch(name, cfg->items, cfg->count,
						 sizeof(*cfg->items), compare_option_name);

	return o ? o->value : NULL;
}

/* Both configs are sorted, so one merge pass finds every difference. */
void kconfig_diff(const struct kconfig *a, const struct kconfig *b, struct kconfig_diff *diff)
{
	size_t i = 0, j = 0;

	diff->items = xcalloc(a->count + b->count + 1, sizeof(*diff->items));
	diff->count = 0;
	while (i < a->count || j < b->count) {
		int c = i == a->count ? 1 : j == b->count ? -1
			: strcmp(a->items[i].name, b->items[j].name);
		struct kconfig_change *ch = &diff->items[diff->count];

		if (c < 0) {
			*ch = (struct kconfig_change){ a->items[i].name, a->items[i].value, NULL };
			i++;
		} else if (c > 0) {
			*ch = (struct kconfig_change){ b->items[j].name, NULL, b->items[j].value };
			j++;
		} else {
			*ch = (struct kconfig_change){ a->items[i].name, a->items[i].value,
						       b->items[j].value };
			i++;
			j++;
			if (strcmp(ch->old_value, ch->new_value) == 0)
				continue;
		}
		diff->count++;
	}
}

void kconfig_diff_release(struct kconfig_diff *diff)
{
	free(diff->items);
	memset(diff, 0, sizeof(*diff));
}
