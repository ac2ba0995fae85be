/* Streaming primary.xml reader. libarchive's raw format undoes the
 * compression (chosen by magic bytes) and libxml2's xmlTextReader walks the
 * decompressed XML one node at a time, so a Fedora primary.xml of 60,000
 * packages and 150 MB is read in a few megabytes of memory. Only the
 * packages a filter names are kept. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <libxml/xmlreader.h>

#include "repomd.h"

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_arg;
#else
typedef xmlErrorPtr xml_error_arg;
#endif

#define READ_BLOCK 65536

/* The fields of the <package> being read. */
struct package_fields {
	struct strbuf name, arch, epoch, version, release;
	struct strbuf checksum, checksum_type, location, size, uname_r;
};

struct primary_reader {
	struct repack_ctx *ctx;
	const char *label;
	const struct primary_filter *filter;
	const struct primary_origin *from;
	struct rpm_index *index;
	struct archive *archive;
	struct sha256_stream *hash;   /* of the decompressed text */
	const char *archive_error;    /* set when decompression failed */
	char xml_error[512];          /* first error libxml2 reported */
	struct package_fields fields;
	struct strbuf *text_target;   /* element whose text is being read */
	bool in_package, in_provides;
	bool saw_metadata;
};

static void fields_clear(struct package_fields *f)
{
	struct strbuf *all[] = { &f->name, &f->arch, &f->epoch, &f->version, &f->release,
				 &f->checksum, &f->checksum_type, &f->location, &f->size,
				 &f->uname_r };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		all[i]->len = 0;
		strbuf_add(all[i], "", 0);
	}
}

static void fields_release(struct package_fields *f)
{
	struct strbuf *all[] = { &f->name, &f->arch, &f->epoch, &f->version, &f->release,
				 &f->checksum, &f->checksum_type, &f->location, &f->size,
				 &f->uname_r };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		strbuf_release(all[i]);
}

/* xmlReaderForIO input callback: decompressed bytes, hashed on the way. */
static int read_decompressed(void *context, char *buffer, int len)
{
	struct primary_reader *r = context;
	la_ssize_t n = archive_read_data(r->archive, buffer, (size_t)len);

	if (n < 0) {
		r->archive_error = archive_error_string(r->archive);
		if (!r->archive_error)
			r->archive_error = "decompression failed";
		return -1;
	}
	if (n > 0)
		sha256_stream_update(r->hash, buffer, (size_t)n);
	return (int)n;
}

static void record_xml_error(void *user, xml_error_arg error)
{
	struct primary_reader *r = user;
	size_t n;

	if (r->xml_error[0] || !error || !error->message)
		return;
	snprintf(r->xml_error, sizeof(r->xml_error), "line %d: %s", error->line,
		 error->message);
	n = strlen(r->xml_error);
	while (n > 0 && isspace((unsigned char)r->xml_error[n - 1]))
		r->xml_error[--n] = '\0';
}

static void copy_attribute(xmlTextReaderPtr reader, const char *name, struct strbuf *out)
{
	xmlChar *value = xmlTextReaderGetAttribute(reader, (const xmlChar *)name);

	out->len = 0;
	strbuf_addstr(out, value ? (const char *)value : "");
	xmlFree(value);
}

static bool wanted_name(const struct primary_filter *filter, const char *name)
{
	for (size_t i = 0; filter->names[i]; i++)
		if (strcmp(filter->names[i], name) == 0)
			return true;
	return false;
}

/* An <rpm:entry> of <rpm:provides>: keep the kernel-uname-r value, which
 * createrepo splits at its last '-' into ver and rel. */
static void take_provide(struct primary_reader *r, xmlTextReaderPtr reader)
{
	xmlChar *name = xmlTextReaderGetAttribute(reader, (const xmlChar *)"name");
	xmlChar *ver, *rel;

	if (!name || strcmp((const char *)name, "kernel-uname-r") != 0) {
		xmlFree(name);
		return;
	}
	ver = xmlTextReaderGetAttribute(reader, (const xmlChar *)"ver");
	rel = xmlTextReaderGetAttribute(reader, (const xmlChar *)"rel");
	r->fields.uname_r.len = 0;
	if (ver) {
		strbuf_addstr(&r->fields.uname_r, (const char *)ver);
		if (rel && *rel)
			strbuf_addf(&r->fields.uname_r, "-%s", (const char *)rel);
	}
	xmlFree(name);
	xmlFree(ver);
	xmlFree(rel);
}

/* Handle an element start inside <package> at the given depth. */
static void package_element(struct primary_reader *r, xmlTextReaderPtr reader,
			    const char *name, int depth)
{
	struct package_fields *f = &r->fields;
	bool empty = xmlTextReaderIsEmptyElement(reader) == 1;

	if (depth == 2 && strcmp(name, "name") == 0) {
		r->text_target = empty ? NULL : &f->name;
	} else if (depth == 2 && strcmp(name, "arch") == 0) {
		r->text_target = empty ? NULL : &f->arch;
	} else if (depth == 2 && strcmp(name, "checksum") == 0) {
		copy_attribute(reader, "type", &f->checksum_type);
		r->text_target = empty ? NULL : &f->checksum;
	} else if (depth == 2 && strcmp(name, "version") == 0) {
		copy_attribute(reader, "epoch", &f->epoch);
		copy_attribute(reader, "ver", &f->version);
		copy_attribute(reader, "rel", &f->release);
	} else if (depth == 2 && strcmp(name, "size") == 0) {
		copy_attribute(reader, "package", &f->size);
	} else if (depth == 2 && strcmp(name, "location") == 0) {
		copy_attribute(reader, "href", &f->location);
	} else if (depth == 3 && strcmp(name, "provides") == 0) {
		r->in_provides = !empty;
	} else if (depth == 4 && r->in_provides && strcmp(name, "entry") == 0) {
		take_provide(r, reader);
	}
}

static bool sha256_valid(const char *hex)
{
	return strlen(hex) == SHA256_HEX_LEN &&
	       strspn(hex, "0123456789abcdefABCDEF") == SHA256_HEX_LEN;
}

/* At </package>: add the package when the filter keeps it. */
static int finish_package(struct primary_reader *r)
{
	struct package_fields *f = &r->fields;
	struct rpm_package *pkg;
	char *end;

	if (!wanted_name(r->filter, f->name.buf) ||
	    (r->filter->arch && strcmp(f->arch.buf, r->filter->arch) != 0))
		return 0;
	if (strcmp(f->checksum_type.buf, "sha256") != 0)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: package %s-%s-%s has a '%s' checksum; repack needs sha256 (use a mirror whose metadata lists sha256)",
				   r->label, f->name.buf, f->version.buf, f->release.buf,
				   f->checksum_type.buf);
	if (!sha256_valid(f->checksum.buf) || !f->location.len || !f->version.len ||
	    !f->release.len)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: package %s lacks a valid version, checksum or location",
				   r->label, f->name.buf);

	pkg = rpm_index_add(r->index);
	pkg->name = xstrdup(f->name.buf);
	pkg->arch = xstrdup(f->arch.buf);
	pkg->epoch = xstrdup(f->epoch.len ? f->epoch.buf : "0");
	pkg->version = xstrdup(f->version.buf);
	pkg->release = xstrdup(f->release.buf);
	pkg->location = xstrdup(f->location.buf);
	pkg->base = xstrdup(r->from->base);
	pkg->origin = xstrdup(r->from->origin);
	pkg->repo = xstrdup(r->from->repo);
	pkg->uname_r = f->uname_r.len ? xstrdup(f->uname_r.buf) : NULL;
	for (size_t i = 0; i < SHA256_HEX_LEN; i++)
		pkg->sha256[i] = (char)tolower((unsigned char)f->checksum.buf[i]);
	pkg->size = strtoull(f->size.buf, &end, 10);
	if (*end)
		pkg->size = 0;
	return 0;
}

/* Handle one node of the document. */
static int handle_node(struct primary_reader *r, xmlTextReaderPtr reader)
{
	int type = xmlTextReaderNodeType(reader);
	int depth = xmlTextReaderDepth(reader);
	const char *name = (const char *)xmlTextReaderConstLocalName(reader);

	if (type == XML_READER_TYPE_ELEMENT) {
		if (depth == 0) {
			r->saw_metadata = name && strcmp(name, "metadata") == 0;
		} else if (depth == 1 && name && strcmp(name, "package") == 0) {
			fields_clear(&r->fields);
			r->in_package = true;
			r->in_provides = false;
		} else if (r->in_package && name) {
			r->text_target = NULL;
			package_element(r, reader, name, depth);
		}
	} else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA) {
		const char *value = (const char *)xmlTextReaderConstValue(reader);

		if (r->text_target && value)
			strbuf_addstr(r->text_target, value);
	} else if (type == XML_READER_TYPE_END_ELEMENT) {
		r->text_target = NULL;
		if (depth == 3 && name && strcmp(name, "provides") == 0)
			r->in_provides = false;
		if (depth == 1 && r->in_package && name && strcmp(name, "package") == 0) {
			r->in_package = false;
			return finish_package(r);
		}
	}
	return 0;
}

static int read_document(struct primary_reader *r, xmlTextReaderPtr reader)
{
	int ret, rc = 0;

	while (rc == 0 && (ret = xmlTextReaderRead(reader)) == 1)
		rc = handle_node(r, reader);
	if (rc)
		return rc;
	if (r->archive_error)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: corrupt or truncated file: %s (the mirror may be mid-sync; try again later)",
				   r->label, r->archive_error);
	if (ret < 0)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: not a valid primary.xml, the XML parser stopped at %s (the mirror may be mid-sync; try again later)",
				   r->label, r->xml_error[0] ? r->xml_error : "an unknown error");
	if (!r->saw_metadata)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: not a primary.xml (its root element is not <metadata>)",
				   r->label);
	return 0;
}

/* Hash whatever the XML parser left unread, then compare the digest. */
static int check_open_checksum(struct primary_reader *r, const char *expected)
{
	char chunk[READ_BLOCK];
	char actual[SHA256_HEX_LEN + 1];
	la_ssize_t n;

	while ((n = archive_read_data(r->archive, chunk, sizeof(chunk))) > 0)
		sha256_stream_update(r->hash, chunk, (size_t)n);
	sha256_stream_finish(r->hash, actual);
	r->hash = NULL;
	if (n < 0)
		return repack_fail(r->ctx, REPACK_EFORMAT, "%s: corrupt or truncated file: %s",
				   r->label, archive_error_string(r->archive));
	if (expected && *expected && strcasecmp(actual, expected) != 0)
		return repack_fail(r->ctx, REPACK_EVERIFY,
				   "%s: decompressed sha256 %s does not match the open-checksum %s in repomd.xml (the mirror may be mid-sync; try again later)",
				   r->label, actual, expected);
	return 0;
}

static int open_decompressed(struct primary_reader *r, const char *path)
{
	struct archive_entry *ae;
	struct stat st;

	/* libarchive calls an empty file an unrecognized format. */
	if (stat(path, &st) == 0 && st.st_size == 0)
		return repack_fail(r->ctx, REPACK_EFORMAT,
				   "%s: not a valid primary.xml: the file is empty", r->label);
	r->archive = archive_read_new();
	archive_read_support_filter_all(r->archive);
	archive_read_support_format_raw(r->archive);
	if (archive_read_open_filename(r->archive, path, READ_BLOCK) != ARCHIVE_OK ||
	    archive_read_next_header(r->archive, &ae) != ARCHIVE_OK)
		return repack_fail(r->ctx, REPACK_EFORMAT, "%s: cannot read '%s': %s",
				   r->label, path, archive_error_string(r->archive));
	return 0;
}

int primary_parse_file(struct repack_ctx *ctx, const char *label, const char *path,
		       const char *open_sha256, const struct primary_filter *filter,
		       const struct primary_origin *from, struct rpm_index *index)
{
	struct primary_reader r;
	xmlTextReaderPtr reader = NULL;
	char discard[SHA256_HEX_LEN + 1];
	int rc;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.label = label;
	r.filter = filter;
	r.from = from;
	r.index = index;
	r.hash = sha256_stream_new();
	rc = open_decompressed(&r, path);
	if (rc)
		goto out;

	/* No network access and no entity substitution: the file comes from
	 * a mirror and is only trusted after its checksums match. */
	reader = xmlReaderForIO(read_decompressed, NULL, &r, label, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!reader) {
		rc = repack_fail(ctx, REPACK_EFORMAT, "%s: cannot start the XML reader", label);
		goto out;
	}
	xmlTextReaderSetStructuredErrorHandler(reader, record_xml_error, &r);
	rc = read_document(&r, reader);
	if (rc == 0)
		rc = check_open_checksum(&r, open_sha256);
out:
	if (reader)
		xmlFreeTextReader(reader);
	if (r.hash)
		sha256_stream_finish(r.hash, discard);
	if (r.archive)
		archive_read_free(r.archive);
	fields_release(&r.fields);
	return rc;
}
