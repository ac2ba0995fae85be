/* OpenPGP ASCII armor (RFC 4880 section 6), private to src/verify/. */
#ifndef REPACK_VERIFY_ARMOR_H
#define REPACK_VERIFY_ARMOR_H

#include "repack.h"

/* True when data starts, after white space, with an armor line
 * ("-----BEGIN PGP "). Binary keyrings start with a packet tag byte. */
bool armor_is_armored(const char *data, size_t len);

/* Decode every "PUBLIC KEY BLOCK" in data into the binary packets gpgv
 * reads, appending them to out. name is the file shown in messages. */
int armor_decode_keys(struct repack_ctx *ctx, const char *name,
		      const char *data, size_t len, struct strbuf *out);

#endif
