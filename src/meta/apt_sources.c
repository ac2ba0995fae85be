/* Reader for the host's apt configuration: one-line sources.list entries
 * ("deb [options] URI SUITE COMPONENT...") and deb822 .sources files. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

static void split_words(const char *text, size_t len, struct strlist *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		while (p < end && strchr(" \t\n", *p))
			p++;
		const char *start = p;
		while (p < end && !strchr(" \t\n", *p))
			p++;
		if (p > start)
			strlist_push_owned(out, xstrndup(start, (size_t)(p - start)));
	}
}

static struct apt_source *add_source(struct apt_sources *sources)
{
	sources->items = xrealloc(sources->items,
				  (sources->count + 1) * sizeof(*sources->items));
	struct apt_source *s = &sources->items[sources->count++];
	memset(s, 0, sizeof(*s));
	return s;
}

/* One line of sources.list; anything but a "deb" entry is ignored. */
static void parse_list_line(char *line, struct apt_sources *sources)
{
	struct strlist words = STRLIST_INIT;
	size_t i = 1;

	*strchrnul(line, '#') = '\0';
	split_words(line, strlen(line), &words);
	if (words.count < 3 || strcmp(words.items[0], "deb") != 0)
		goto out;
	/* Skip "[arch=amd64 signed-by=...]" options. */
	if (words.items[i][0] == '[') {
		while (i < words.count && !strchr(words.items[i], ']'))
			i++;
		i++;
	}
	if (i + 1 >= words.count)
		goto out;
	struct apt_source *s = add_source(sources);
	s->uri = xstrdup(words.items[i]);
	strlist_push(&s->suites, words.items[i + 1]);
	for (size_t j = i + 2; j < words.count; j++)
		strlist_push(&s->components, words.items[j]);
out:
	strlist_release(&words);
}

static void read_list_file(const char *path, struct apt_sources *sources)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		parse_list_line(line, sources);
	fclose(f);
}

static int take_sources_stanza(void *user, const struct deb822_stanza *st)
{
	struct apt_sources *sources = user;
	struct strlist types = STRLIST_INIT, uris = STRLIST_INIT;
	const char *value;
	size_t len;

	value = deb822_get(st, "Types", &len);
	if (value)
		split_words(value, len, &types);
	value = deb822_get(st, "Enabled", &len);
	bool enabled = !value || !(len == 2 && strncasecmp(value, "no", 2) == 0);
	value = deb822_get(st, "URIs", &len);
	if (value)
		split_words(value, len, &uris);
	if (enabled && strlist_contains(&types, "deb")) {
		for (size_t i = 0; i < uris.count; i++) {
			struct apt_source *s = add_source(sources);
			s->uri = xstrdup(uris.items[i]);
			if ((value = deb822_get(st, "Suites", &len)))
				split_words(value, len, &s->suites);
			if ((value = deb822_get(st, "Components", &len)))
				split_words(value, len, &s->components);
		}
	}
	strlist_release(&types);
	strlist_release(&uris);
	return 0;
}

static void read_sources_file(struct repack_ctx *ctx, const char *path,
			      struct apt_sources *sources)
{
	char *text = NULL;
	size_t len;

	if (read_file(ctx, path, &text, &len))
		return;
	if (deb822_parse(ctx, path, text, len, take_sources_stanza, sources))
		repack_log(ctx, REPACK_LOG_WARN, "ignoring %s: %s", path, ctx->error);
	free(text);
}

static int compare_entries(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int apt_sources_read(struct repack_ctx *ctx, const char *etc_dir,
		     struct apt_sources *sources)
{
	char *path = xasprintf("%s/sources.list", etc_dir);
	char *dir = xasprintf("%s/sources.list.d", etc_dir);
	struct dirent **names = NULL;
	int count;

	memset(sources, 0, sizeof(*sources));
	read_list_file(path, sources);
	count = scandir(dir, &names, NULL, compare_entries);
	for (int i = 0; i < count; i++) {
		char *file = xasprintf("%s/%s", dir, names[i]->d_name);

		if (str_ends_with(names[i]->d_name, ".list"))
			read_list_file(file, sources);
		else if (str_ends_with(names[i]->d_name, ".sources"))
			read_sources_file(ctx, file, sources);
		free(file);
		free(names[i]);
	}
	free(names);
	free(dir);
	free(path);
	return 0;
}

void apt_sources_release(struct apt_sources *sources)
{
	for (size_t i = 0; i < sources->count; i++) {
		free(sources->items[i].uri);
		strlist_release(&sources->items[i].suites);
		strlist_release(&sources->items[i].components);
	}
	free(sources->items);
	memset(sources, 0, sizeof(*sources));
}
