/* Signature checks of repository metadata through gpgv. */
#ifndef REPACK_VERIFY_H
#define REPACK_VERIFY_H

#include "repack.h"

/* Verify a clear-signed document (Debian InRelease) with gpgv and the
 * keyring; on success *payload is the signed text (caller frees). */
int verify_clearsigned(struct repack_ctx *ctx, const char *keyring,
		       const char *document, size_t len, char **payload,
		       size_t *payload_len);

/* Verify a detached signature over data with gpgv and the keyring. */
int verify_detached(struct repack_ctx *ctx, const char *keyring,
		    const char *data, size_t len, const char *signature,
		    size_t signature_len);

/* Strip the OpenPGP armour from a clear-signed document without checking
 * it; *payload is owned by the caller. */
int clearsigned_payload(struct repack_ctx *ctx, const char *document,
			size_t len, char **payload, size_t *payload_len);

#endif
