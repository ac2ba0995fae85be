/* CHECKSUMS files of the Ubuntu mainline kernel builds. */
#ifndef REPACK_CHECKSUMS_H
#define REPACK_CHECKSUMS_H

#include "repack.h"

/* One "<sha256>  <file name>" line. */
struct checksum_entry {
	char *name;
	char sha256[SHA256_HEX_LEN + 1]; /* lowercase */
};

struct checksums {
	struct checksum_entry *items;
	size_t count;
};

/* Parse the "# Checksums-Sha256:" block of a CHECKSUMS file into sums.
 * The file also carries a "# Checksums-Sha1:" block, and may carry other
 * blocks, which are skipped. A file name may be preceded by '*' (binary
 * mode, as sha256sum writes it). REPACK_EFORMAT, naming label and the
 * line, when the file has no sha256 block, a line of that block is
 * malformed, or one file is listed twice with different sums. */
int checksums_parse(struct repack_ctx *ctx, const char *label, const char *text,
		    size_t len, struct checksums *sums);

/* Return the sha256 listed for name, or NULL. An entry written with a
 * directory ("amd64/x.deb") also matches its base name. */
const char *checksums_find(const struct checksums *sums, const char *name);

void checksums_release(struct checksums *sums);

#endif
