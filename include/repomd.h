/* RPM repositories: repodata/repomd.xml, the primary.xml package list and
 * rpm version ordering. */
#ifndef REPACK_REPOMD_H
#define REPACK_REPOMD_H

#include "repack.h"

/* One package kept from a primary.xml. */
struct rpm_package {
	char *name;
	char *arch;
	char *epoch;     /* "0" when the metadata gives none */
	char *version;
	char *release;
	char *location;  /* location href, relative to base */
	char *base;      /* URL of the repository the location is relative to */
	char *origin;    /* release that carries it: "31", "7.9.2009", "stream9" */
	char *repo;      /* repository inside that release: "updates", "BaseOS" */
	char *uname_r;   /* value of the kernel-uname-r provide, or NULL */
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
};

struct rpm_index {
	struct rpm_package *items;
	size_t count;
	size_t alloc;
};

/* Append an empty package to index and return it; the index owns it. */
struct rpm_package *rpm_index_add(struct rpm_index *index);
void rpm_index_release(struct rpm_index *index);

/* The packages primary_parse_file keeps: name in names and arch equal to
 * arch. Everything else in the file is skipped as it streams past. */
struct primary_filter {
	const char *const *names; /* NULL-terminated */
	const char *arch;         /* x86_64, aarch64 */
};

/* Origin of the kept packages, copied into every package added. */
struct primary_origin {
	const char *base;
	const char *origin;
	const char *repo;
};

/* The <data type="primary"> entry of a repomd.xml. */
struct repomd_primary {
	char *location;                          /* repodata/...-primary.xml.zst */
	char sha256[SHA256_HEX_LEN + 1];         /* of the file as stored */
	char open_sha256[SHA256_HEX_LEN + 1];    /* of the decompressed XML; "" when absent */
	uint64_t size;                           /* 0 when absent */
};

/* Find the primary entry in a repomd.xml document. Other entries
 * (filelists, primary_db, primary_zck, ...) are ignored. A checksum type
 * other than sha256 is REPACK_EFORMAT. */
int repomd_parse(struct repack_ctx *ctx, const char *label, const char *text,
		 size_t len, struct repomd_primary *primary);
void repomd_primary_release(struct repomd_primary *primary);

/* Stream the primary.xml at path, compressed with gzip, xz, zstd or bzip2
 * or not at all (found from its magic bytes), and add the packages filter
 * keeps to index. Memory use does not grow with the size of the file.
 * When open_sha256 is neither NULL nor "", the decompressed text must
 * hash to it (REPACK_EVERIFY otherwise). */
int primary_parse_file(struct repack_ctx *ctx, const char *label, const char *path,
		       const char *open_sha256, const struct primary_filter *filter,
		       const struct primary_origin *from, struct rpm_index *index);

/* One repository to read: base is the URL of the directory that contains
 * repodata/. */
struct rpm_repo {
	const char *base;
	const char *origin;    /* release name, e.g. "31" */
	const char *repo;      /* repository name, e.g. "updates" */
	const char *distro;    /* for messages */
	const char *keyring;   /* NULL when none is available */
	bool require_signatures;
};

/* Fetch repo's repomd.xml, check repomd.xml.asc under the signature
 * policy, fetch the primary file into the cache by its checksum and add the
 * packages filter keeps to index. REPACK_EMISSING when the repository
 * has no repomd.xml. */
int rpm_repo_load(struct repack_ctx *ctx, const struct rpm_repo *repo,
		  const struct primary_filter *filter, struct rpm_index *index);

/* Compare two versions with librpm's rpmvercmp, epoch first (a missing or
 * empty epoch is 0), then version, then release: <0, 0, >0. */
int rpmver_compare_evr(const char *epoch_a, const char *version_a,
		       const char *release_a, const char *epoch_b,
		       const char *version_b, const char *release_b);
/* Compare two "[EPOCH:]VERSION[-RELEASE]" strings the same way. */
int rpmver_compare(const char *a, const char *b);
/* Return "VERSION-RELEASE", with "EPOCH:" in front when the epoch is not
 * 0; the caller frees it. */
char *rpmver_format(const char *epoch, const char *version, const char *release);
/* True when the package version matches a request. A request is the full
 * version ("5.3.7-301.fc31", "1:5.3.7-301.fc31") or a release prefix
 * ending at a '.' ("5.3.7-301"). It can also be an upstream version, or a
 * prefix of one ending at a '.', '~', '^' or '+' ("5.3.7", "5.3"). An
 * upstream release candidate ("6.0-rc4") matches release 0.rc4.*, the way
 * Fedora names rc builds. */
bool rpmver_matches(const char *epoch, const char *version, const char *release,
		    const char *request);
/* rpmver_matches for a version given as one "[EPOCH:]VERSION-RELEASE"
 * string. */
bool rpmver_matches_string(const char *evr, const char *request);

#endif
