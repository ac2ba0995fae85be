/* Signature checks of repository metadata through gpgv. */
#ifndef REPACK_VERIFY_H
#define REPACK_VERIFY_H

#include "repack.h"

/* Verify a clear-signed document (Debian InRelease) with gpgv and the
 * keyring; on success *payload is the signed text (caller frees). The
 * document must be one clear-signed message with only white space around
 * it. The check passes when a key in the keyring made a good signature and
 * no signature is bad. Signatures by keys outside the keyring are ignored.
 * Those by expired or revoked keys do not count. keyring is a binary
 * keyring or an armored export. Every failure, a missing gpgv included,
 * returns REPACK_EVERIFY. */
int verify_clearsigned(struct repack_ctx *ctx, const char *keyring,
		       const char *document, size_t len, char **payload,
		       size_t *payload_len);

/* Verify a detached signature (binary or armored) over data with gpgv and
 * the keyring, under the same rules as verify_clearsigned. */
int verify_detached(struct repack_ctx *ctx, const char *keyring,
		    const char *data, size_t len, const char *signature,
		    size_t signature_len);

/* Strip the OpenPGP armor from a clear-signed document without checking
 * it; *payload is owned by the caller. The text matches what gpgv outputs:
 * dash-escaping undone, trailing blanks removed, line endings kept.
 * Malformed documents return REPACK_EFORMAT. */
int clearsigned_payload(struct repack_ctx *ctx, const char *document,
			size_t len, char **payload, size_t *payload_len);

#endif
