/* OpenPGP text formats: the clear-signed message framework (RFC 4880
 * section 7) and ASCII-armored public keys (section 6). */
#include <string.h>

#include "verify.h"
#include "armor.h"

#define SIGNED_BEGIN "-----BEGIN PGP SIGNED MESSAGE-----"
#define SIGNATURE_BEGIN "-----BEGIN PGP SIGNATURE-----"
#define SIGNATURE_END "-----END PGP SIGNATURE-----"
#define KEY_BEGIN "-----BEGIN PGP PUBLIC KEY BLOCK-----"
#define KEY_END "-----END PGP PUBLIC KEY BLOCK-----"

/* A cursor over the lines of a buffer that need not be NUL-terminated. */
struct line_reader {
	const char *p;
	const char *end;
};

/* One line: text without its line ending, eol the ending itself ("\n",
 * "\r\n" or "" on the last line). Trailing spaces and tabs are left out
 * of len, because OpenPGP ignores them in signed text. */
struct line {
	const char *text;
	size_t len;
	const char *eol;
};

static bool next_line(struct line_reader *r, struct line *line)
{
	const char *nl, *stop;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	stop = nl ? nl : r->end;
	line->text = r->p;
	line->eol = "";
	if (nl)
		line->eol = stop > r->p && stop[-1] == '\r' ? "\r\n" : "\n";
	if (nl && stop > r->p && stop[-1] == '\r')
		stop--;
	while (stop > r->p && (stop[-1] == ' ' || stop[-1] == '\t'))
		stop--;
	line->len = (size_t)(stop - r->p);
	r->p = nl ? nl + 1 : r->end;
	return true;
}

static bool line_is(const struct line *line, const char *s)
{
	return line->len == strlen(s) && memcmp(line->text, s, line->len) == 0;
}

static bool line_starts_with(const struct line *line, const char *s)
{
	size_t n = strlen(s);

	return line->len >= n && memcmp(line->text, s, n) == 0;
}

/* Skip blank lines; return false at the end of the buffer. */
static bool next_nonblank_line(struct line_reader *r, struct line *line)
{
	while (next_line(r, line))
		if (line->len > 0)
			return true;
	return false;
}

/* Read the armor headers up to the empty line that ends them. RFC 4880
 * allows only "Hash:" here. */
static int skip_hash_headers(struct repack_ctx *ctx, struct line_reader *r)
{
	struct line line;

	while (next_line(r, &line)) {
		if (line.len == 0)
			return 0;
		if (!line_starts_with(&line, "Hash:"))
			return repack_fail(ctx, REPACK_EFORMAT,
					   "invalid armor header '%.*s' in a clear-signed message (only 'Hash:' is allowed)",
					   (int)(line.len > 60 ? 60 : line.len), line.text);
	}
	return repack_fail(ctx, REPACK_EFORMAT,
			   "clear-signed message ends inside its armor headers");
}

/* Copy the signed text up to the signature, undoing dash-escaping. */
static int read_signed_text(struct repack_ctx *ctx, struct line_reader *r,
			    struct strbuf *out)
{
	struct line line;

	while (next_line(r, &line)) {
		if (line_is(&line, SIGNATURE_BEGIN))
			return 0;
		if (line_starts_with(&line, "-----BEGIN PGP ") ||
		    line_starts_with(&line, "-----END PGP "))
			return repack_fail(ctx, REPACK_EFORMAT,
					   "unexpected '%.*s' inside a clear-signed message",
					   (int)line.len, line.text);
		if (line_starts_with(&line, "- "))
			strbuf_add(out, line.text + 2, line.len - 2);
		else
			strbuf_add(out, line.text, line.len);
		strbuf_addstr(out, line.eol);
	}
	return repack_fail(ctx, REPACK_EFORMAT,
			   "clear-signed message has no '" SIGNATURE_BEGIN "' line");
}

/* Skip the signature block and require nothing but white space after. */
static int skip_signature(struct repack_ctx *ctx, struct line_reader *r)
{
	struct line line;
	bool found = false;

	while (!found && next_line(r, &line))
		found = line_is(&line, SIGNATURE_END);
	if (!found)
		return repack_fail(ctx, REPACK_EFORMAT,
				   "clear-signed message is truncated: no '" SIGNATURE_END "' line");
	if (next_nonblank_line(r, &line))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "text after the signature of a clear-signed message: '%.*s'",
				   (int)(line.len > 60 ? 60 : line.len), line.text);
	return 0;
}

int clearsigned_payload(struct repack_ctx *ctx, const char *document,
			size_t len, char **payload, size_t *payload_len)
{
	struct line_reader r = { document, document + len };
	struct strbuf out = STRBUF_INIT;
	struct line line;
	int rc;

	if (!next_nonblank_line(&r, &line) || !line_is(&line, SIGNED_BEGIN))
		return repack_fail(ctx, REPACK_EFORMAT,
				   "not a clear-signed OpenPGP message: it does not start with '" SIGNED_BEGIN "'");
	rc = skip_hash_headers(ctx, &r);
	if (rc == 0)
		rc = read_signed_text(ctx, &r, &out);
	if (rc == 0)
		rc = skip_signature(ctx, &r);
	if (rc) {
		strbuf_release(&out);
		return rc;
	}
	strbuf_add(&out, "", 0);
	*payload = strbuf_detach(&out, payload_len);
	return 0;
}

bool armor_is_armored(const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
			   data[i] == '\n'))
		i++;
	return len - i >= 15 && memcmp(data + i, "-----BEGIN PGP ", 15) == 0;
}

/* The CRC-24 of RFC 4880 section 6.1. */
static uint32_t crc24(const unsigned char *data, size_t len)
{
	uint32_t crc = 0xB704CEu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint32_t)data[i] << 16;
		for (int bit = 0; bit < 8; bit++) {
			crc <<= 1;
			if (crc & 0x1000000u)
				crc ^= 0x1864CFBu;
		}
	}
	return crc & 0xFFFFFFu;
}

static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode base64 text (no white space inside) and append it to out;
 * returns -1 on a character outside the alphabet or bad padding. */
static int base64_decode(const char *text, size_t len, struct strbuf *out)
{
	uint32_t bits = 0;
	int count = 0;
	size_t i;

	for (i = 0; i < len && text[i] != '='; i++) {
		int v = base64_value(text[i]);

		if (v < 0)
			return -1;
		bits = bits << 6 | (uint32_t)v;
		if (++count == 4) {
			unsigned char bytes[3] = { bits >> 16, bits >> 8, bits };

			strbuf_add(out, bytes, 3);
			bits = 0;
			count = 0;
		}
	}
	if (count == 1)
		return -1;
	if (count == 2) {
		unsigned char byte = (unsigned char)(bits >> 4);

		strbuf_add(out, &byte, 1);
	} else if (count == 3) {
		unsigned char bytes[2] = { bits >> 10, bits >> 2 };

		strbuf_add(out, bytes, 2);
	}
	for (; i < len; i++)
		if (text[i] != '=')
			return -1;
	return 0;
}

/* Decode one key block whose base64 text and optional "=XXXX" checksum
 * line were collected; append the packets to out. */
static int decode_block(struct repack_ctx *ctx, const char *name,
			const struct strbuf *text, const char *checksum,
			struct strbuf *out)
{
	struct strbuf packets = STRBUF_INIT, crc = STRBUF_INIT;
	int rc = 0;

	if (base64_decode(text->buf ? text->buf : "", text->len, &packets) < 0 ||
	    packets.len == 0) {
		rc = repack_fail(ctx, REPACK_EVERIFY,
				 "keyring '%s' holds an armored key block that is not valid base64",
				 name);
		goto out;
	}
	if (checksum) {
		const unsigned char *c;

		if (base64_decode(checksum, strlen(checksum), &crc) < 0 || crc.len != 3) {
			rc = repack_fail(ctx, REPACK_EVERIFY,
					 "keyring '%s' has an invalid armor checksum line '=%s'",
					 name, checksum);
			goto out;
		}
		c = (const unsigned char *)crc.buf;
		if (crc24((const unsigned char *)packets.buf, packets.len) !=
		    ((uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2])) {
			rc = repack_fail(ctx, REPACK_EVERIFY,
					 "keyring '%s' is corrupt: an armored key block fails its CRC-24 checksum",
					 name);
			goto out;
		}
	}
	strbuf_add(out, packets.buf, packets.len);
out:
	strbuf_release(&crc);
	strbuf_release(&packets);
	return rc;
}

/* Collect the base64 lines of one block after its BEGIN line and decode
 * them. Armor headers ("Comment: ...") before the empty line are skipped. */
static int read_key_block(struct repack_ctx *ctx, const char *name,
			  struct line_reader *r, struct strbuf *out)
{
	struct strbuf text = STRBUF_INIT;
	char checksum[8] = "";
	bool in_headers = true;
	struct line line;
	int rc;

	while (next_line(r, &line)) {
		if (line_is(&line, KEY_END)) {
			rc = decode_block(ctx, name, &text, checksum[0] ? checksum : NULL,
					  out);
			strbuf_release(&text);
			return rc;
		}
		if (in_headers && memchr(line.text, ':', line.len))
			continue;
		in_headers = false;
		if (line.len == 5 && line.text[0] == '=') {
			memcpy(checksum, line.text + 1, 4);
			checksum[4] = '\0';
			continue;
		}
		for (size_t i = 0; i < line.len; i++)
			if (line.text[i] != ' ' && line.text[i] != '\t')
				strbuf_add(&text, &line.text[i], 1);
	}
	strbuf_release(&text);
	return repack_fail(ctx, REPACK_EVERIFY,
			   "keyring '%s' is truncated: no '" KEY_END "' line", name);
}

int armor_decode_keys(struct repack_ctx *ctx, const char *name,
		      const char *data, size_t len, struct strbuf *out)
{
	struct line_reader r = { data, data + len };
	struct line line;
	int blocks = 0;

	while (next_line(&r, &line)) {
		int rc;

		if (!line_is(&line, KEY_BEGIN))
			continue;
		rc = read_key_block(ctx, name, &r, out);
		if (rc)
			return rc;
		blocks++;
	}
	if (blocks == 0)
		return repack_fail(ctx, REPACK_EVERIFY,
				   "keyring '%s' is armored but holds no '" KEY_BEGIN "'",
				   name);
	return 0;
}
