/* A client of the OCI distribution API (registries such as Docker Hub,
 * distribution's docker-registry, Harbor, ghcr.io) over libcurl: pushing
 * image sets, reading manifests and blobs, and the authentication that
 * registries ask for (Bearer tokens and Basic). */
#ifndef REPACK_REGISTRY_H
#define REPACK_REGISTRY_H

#include "image.h"
#include "repack.h"

/* A parsed image reference: [docker://]HOST/REPO[:TAG][@sha256:HEX]. */
struct registry_ref {
	char *host;   /* registry as written: 127.0.0.1:5000, docker.io */
	char *repo;   /* repository path: linuxkit/kernel-debian */
	char *tag;    /* NULL when absent */
	char *digest; /* "sha256:HEX", NULL when absent */
};

/* Parse text into ref. A first component without '.' or ':' that is not
 * "localhost" is a Docker Hub repository ("linuxkit/kernel-debian" is
 * docker.io/linuxkit/kernel-debian, "alpine" docker.io/library/alpine).
 * Repository components are lowercase [a-z0-9] runs joined by '.', '_',
 * "__" or '-'. REPACK_EUSAGE with a message on anything else. Release
 * ref with registry_ref_release() in every case. */
int registry_ref_parse(struct repack_ctx *ctx, const char *text,
		       struct registry_ref *ref);
void registry_ref_release(struct registry_ref *ref);

/* One parsed WWW-Authenticate challenge. */
struct registry_challenge {
	char *scheme;  /* "Bearer" or "Basic", as sent */
	char *realm;
	char *service; /* Bearer only; NULL when absent */
	char *scope;   /* Bearer only; NULL when absent */
	char *error;   /* Bearer only: "invalid_token", "insufficient_scope" */
};

/* Parse the first challenge of a WWW-Authenticate value: a scheme, then
 * comma-separated name=value or name="quoted value" parameters.
 * REPACK_EFORMAT when the value has no scheme or a parameter is
 * malformed. Release with registry_challenge_release() in every case. */
int registry_challenge_parse(struct repack_ctx *ctx, const char *header,
			     struct registry_challenge *challenge);
void registry_challenge_release(struct registry_challenge *challenge);

/* Credentials for one registry. secret is a password, or an identity
 * token (an OAuth2 refresh token) when identity_token is set. */
struct registry_credentials {
	char *username;
	char *secret;
	bool identity_token;
	char *source; /* where they came from, for messages; never the secret */
};

/* Find credentials for host (as in registry_ref.host). The first source
 * that has them wins:
 * - REPACK_REGISTRY_USER and REPACK_REGISTRY_PASSWORD;
 * - in the Docker client's config.json ($DOCKER_CONFIG or ~/.docker),
 *   the helper credHelpers names for the host, then the credsStore
 *   helper, each run as docker-credential-NAME get;
 * - the base64 "auth" (or "username" and "password") under auths.
 * Returns 0 with creds->username NULL when none is configured. Release
 * creds with registry_credentials_release() in every case. */
int registry_credentials_find(struct repack_ctx *ctx, const char *host,
			      struct registry_credentials *creds);
void registry_credentials_release(struct registry_credentials *creds);

struct registry_options {
	bool insecure; /* plain HTTP to any host, not only the loopback */
};

/* A connection to one repository of one registry. */
struct registry;

/* Connect to ref's registry and repository, and authenticate for pull
 * (and push when push is set) with the scheme of the registry's
 * challenge. Plain
 * HTTP is used for localhost, 127.0.0.1 and ::1, or with opts->insecure;
 * HTTPS otherwise. Free *out with registry_close(). */
int registry_open(struct repack_ctx *ctx, const struct registry_ref *ref,
		  const struct registry_options *opts, bool push,
		  struct registry **out);
void registry_close(struct registry *reg);

/* Counts of the work a push did. */
struct registry_push_stats {
	size_t blobs_uploaded;
	size_t blobs_mounted;  /* taken from another repository by mount */
	size_t blobs_present;  /* already in the repository */
	size_t tags_updated;
	size_t tags_unchanged; /* already named the same digest */
	uint64_t bytes_uploaded;
};

/* Push every blob, manifest and index of set and put every tag. Blobs the
 * repository has are skipped. A blob this cache saw pushed to another
 * repository of the registry is mounted from there. Blobs larger than
 * the chunk size ($REPACK_PUSH_CHUNK_SIZE bytes, default 16 MiB) go up in
 * chunks, and an upload a failed run left is resumed where the registry
 * stopped. Server errors and dropped connections are retried. */
int registry_push(struct registry *reg, const struct image_set *set,
		  struct registry_push_stats *stats);

/* The accepted manifest media types, for an HTTP Accept header. */
#define REGISTRY_MANIFEST_ACCEPT \
	"application/vnd.oci.image.manifest.v1+json, " \
	"application/vnd.oci.image.index.v1+json, " \
	"application/vnd.docker.distribution.manifest.v2+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json"

/* Download the manifest or index that reference (a tag or "sha256:HEX")
 * names. *data (NUL-terminated) and *media_type are the caller's to
 * free; digest receives the sha256 of the bytes, checked against a
 * digest reference. REPACK_ENOTFOUND when the registry has no such
 * manifest. */
int registry_get_manifest(struct registry *reg, const char *reference,
			  char **data, size_t *len, char **media_type,
			  char digest[SHA256_HEX_LEN + 1]);
/* Ask for the digest a tag names without downloading the manifest;
 * digest is "" when the registry has no such tag. */
int registry_head_manifest(struct registry *reg, const char *reference,
			   char digest[SHA256_HEX_LEN + 1]);
/* Download the blob sha256:hex to path through path.part, checking its
 * size and digest before the rename. */
int registry_get_blob(struct registry *reg, const char *hex, uint64_t size,
		      const char *path);

#endif
