/* Registry authentication. A 401 response to an anonymous request carries
 * a WWW-Authenticate challenge. Basic requires the credentials on every
 * request. Bearer names a token service (realm), which trades the
 * credentials (or nothing, for anonymous access) for a token that covers
 * the requested scopes (repository:NAME:pull,push). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "internal.h"

/* Return a quoted-string or token starting at *p and move *p past it;
 * NULL when malformed. Caller frees. */
static char *parse_value(const char **p)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = *p;

	if (*s != '"') {
		const char *start = s;

		while (*s && *s != ',' && *s != ' ' && *s != '\t')
			s++;
		if (s == start)
			return NULL;
		*p = s;
		return xstrndup(start, (size_t)(s - start));
	}
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		strbuf_add(&sb, s, 1);
	}
	if (*s != '"') {
		strbuf_release(&sb);
		return NULL;
	}
	*p = s + 1;
	if (!sb.buf)
		strbuf_addstr(&sb, "");
	return strbuf_detach(&sb, NULL);
}

static void store_param(struct registry_challenge *ch, const char *name,
			size_t name_len, char *value)
{
	char **slot = NULL;

	if (name_len == 5 && strncasecmp(name, "realm", 5) == 0)
		slot = &ch->realm;
	else if (name_len == 7 && strncasecmp(name, "service", 7) == 0)
		slot = &ch->service;
	else if (name_len == 5 && strncasecmp(name, "scope", 5) == 0)
		slot = &ch->scope;
	else if (name_len == 5 && strncasecmp(name, "error", 5) == 0)
		slot = &ch->error;
	if (slot && !*slot) {
		*slot = value;
		return;
	}
	free(value);
}

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int registry_challenge_parse(struct repack_ctx *ctx, const char *header,
			     struct registry_challenge *ch)
{
	const char *p = skip_space(header ? header : "");
	const char *start = p;

	memset(ch, 0, sizeof(*ch));
	while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
		p++;
	if (p == start)
		return repack_fail(ctx, REPACK_EFORMAT,
				   "invalid WWW-Authenticate challenge '%s': no scheme",
				   header ? header : "");
	ch->scheme = xstrndup(start, (size_t)(p - start));

	for (p = skip_space(p); *p; p = skip_space(p)) {
		const char *name = p;
		size_t name_len;
		char *value;

		while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
			p++;
		name_len = (size_t)(p - name);
		p = skip_space(p);
		/* A token and a space with no '=' starts the next challenge
		 * ("Basic realm=a, Bearer realm=b"): only the first is used. */
		if (name_len > 0 && *p != '=' && p > name + name_len)
			break;
		if (name_len == 0 || *p != '=')
			return repack_fail(ctx, REPACK_EFORMAT,
					   "invalid WWW-Authenticate challenge '%s': "
					   "expected name=value at '%s'", header, name);
		p = skip_space(p + 1);
		value = parse_value(&p);
		if (!value)
			return repack_fail(ctx, REPACK_EFORMAT,
					   "invalid WWW-Authenticate challenge '%s': "
					   "malformed value at '%s'", header, p);
		store_param(ch, name, name_len, value);
		p = skip_space(p);
		if (*p == ',')
			p++;
		else if (*p)
			break;
	}
	return 0;
}

void registry_challenge_release(struct registry_challenge *ch)
{
	free(ch->scheme);
	free(ch->realm);
	free(ch->service);
	free(ch->scope);
	free(ch->error);
	memset(ch, 0, sizeof(*ch));
}

/* base64 of "user:secret"; caller clears and frees. */
static char *basic_token(const struct registry_credentials *creds)
{
	char *plain = xasprintf("%s:%s", creds->username, creds->secret);
	size_t len = strlen(plain);
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)len);
	memset(plain, 0, len);
	free(plain);
	return out;
}

static void set_authorization(struct registry *reg, char *value)
{
	if (reg->authorization) {
		memset(reg->authorization, 0, strlen(reg->authorization));
		free(reg->authorization);
	}
	reg->authorization = value;
}

static int load_credentials(struct registry *reg)
{
	if (reg->creds_loaded)
		return 0;
	reg->creds_loaded = true;
	return registry_credentials_find(reg->ctx, reg->host, &reg->creds);
}

/* The scope of the repository, plus the extra scopes and the one the
 * challenge names, as repeated scope= query parameters. */
static void add_scopes(struct registry *reg, CURLU *url,
		       const struct registry_challenge *ch)
{
	char *own = xasprintf("scope=repository:%s:%s", reg->repo,
			      reg->push ? "pull,push" : "pull");

	curl_url_set(url, CURLUPART_QUERY, own, CURLU_APPENDQUERY | CURLU_URLENCODE);
	free(own);
	for (size_t i = 0; i < reg->scopes.count; i++) {
		char *extra = xasprintf("scope=%s", reg->scopes.items[i]);

		curl_url_set(url, CURLUPART_QUERY, extra,
			     CURLU_APPENDQUERY | CURLU_URLENCODE);
		free(extra);
	}
	if (ch->scope && !strstr(ch->scope, reg->repo)) {
		char *asked = xasprintf("scope=%s", ch->scope);

		curl_url_set(url, CURLUPART_QUERY, asked,
			     CURLU_APPENDQUERY | CURLU_URLENCODE);
		free(asked);
	}
}

/* The token request URL: realm?service=...&scope=...; caller frees. */
static int token_url(struct registry *reg, const struct registry_challenge *ch,
		     char **out)
{
	CURLU *url = curl_url();
	char *service = NULL, *text = NULL;
	int rc = 0;

	if (curl_url_set(url, CURLUPART_URL, ch->realm, 0) != CURLUE_OK) {
		rc = repack_fail(reg->ctx, REPACK_EFORMAT,
				 "registry %s names the token service '%s', which is "
				 "not a URL", reg->host, ch->realm);
		goto out;
	}
	if (ch->service) {
		service = xasprintf("service=%s", ch->service);
		curl_url_set(url, CURLUPART_QUERY, service,
			     CURLU_APPENDQUERY | CURLU_URLENCODE);
	}
	add_scopes(reg, url, ch);
	if (curl_url_get(url, CURLUPART_URL, &text, 0) != CURLUE_OK) {
		rc = repack_fail(reg->ctx, REPACK_EFORMAT,
				 "cannot build the token request for '%s'", ch->realm);
		goto out;
	}
	*out = xstrdup(text);
out:
	curl_free(text);
	free(service);
	curl_url_cleanup(url);
	return rc;
}

static int token_rejected(struct registry *reg, const char *realm, long status)
{
	if (reg->creds.username)
		return repack_fail(reg->ctx, REPACK_EFAIL,
				   "the token service %s of registry %s rejected the "
				   "credentials of user '%s' from %s (HTTP %ld); check "
				   "the password or log in again", realm, reg->host,
				   reg->creds.username, reg->creds.source, status);
	return repack_fail(reg->ctx, REPACK_EFAIL,
			   "the token service %s of registry %s refused anonymous "
			   "access (HTTP %ld); set REPACK_REGISTRY_USER and "
			   "REPACK_REGISTRY_PASSWORD or log in with docker login",
			   realm, reg->host, status);
}

/* Parse the token service's response and keep its token. */
static int take_token(struct registry *reg, const struct registry_challenge *ch,
		      const struct registry_response *resp)
{
	json_t *doc = json_loadb(resp->body.buf ? resp->body.buf : "",
				 resp->body.len, 0, NULL);
	const char *token = json_string_value(json_object_get(doc, "token"));
	int rc = 0;

	if (!token || !*token)
		token = json_string_value(json_object_get(doc, "access_token"));
	if (token && *token)
		set_authorization(reg, xasprintf("Bearer %s", token));
	else
		rc = repack_fail(reg->ctx, REPACK_EFORMAT,
				 "the token service %s of registry %s answered without "
				 "a token", ch->realm, reg->host);
	json_decref(doc);
	return rc;
}

/* Ask the token service for a token, sending the credentials (when there
 * are any) with Basic authentication. */
static int fetch_token(struct registry *reg, const struct registry_challenge *ch)
{
	struct registry_request req;
	struct registry_response resp = { 0 };
	char *url = NULL, *basic = NULL;
	int rc;

	if (reg->creds.identity_token)
		return repack_fail(reg->ctx, REPACK_EFAIL,
				   "the credentials for registry %s from %s are an "
				   "identity token, which repack cannot use; give a "
				   "user name and password instead", reg->host,
				   reg->creds.source);
	rc = token_url(reg, ch, &url);
	if (rc)
		return rc;
	registry_request_init(&req, "GET", url);
	req.no_auth = true;
	if (reg->creds.username) {
		char *token = basic_token(&reg->creds);

		basic = xasprintf("Basic %s", token);
		memset(token, 0, strlen(token));
		free(token);
		req.authorization = basic;
	}
	rc = registry_send(reg, &req, &resp, true);
	if (rc == 0 && (resp.status == 401 || resp.status == 403))
		rc = token_rejected(reg, ch->realm, resp.status);
	else if (rc == 0 && resp.status != 200)
		rc = registry_fail_status(reg, "cannot get a token", &req, &resp);
	else if (rc == 0)
		rc = take_token(reg, ch, &resp);

	if (resp.body.buf)
		memset(resp.body.buf, 0, resp.body.len);
	registry_response_release(&resp);
	if (basic) {
		memset(basic, 0, strlen(basic));
		free(basic);
	}
	free(url);
	return rc;
}

int registry_authenticate(struct registry *reg, const char *header)
{
	struct registry_challenge ch;
	int rc = registry_challenge_parse(reg->ctx, header, &ch);

	if (rc == 0)
		rc = load_credentials(reg);
	if (rc)
		goto out;
	free(reg->last_challenge);
	reg->last_challenge = xstrdup(header);

	if (strcasecmp(ch.scheme, "Basic") == 0) {
		if (!reg->creds.username) {
			rc = repack_fail(reg->ctx, REPACK_EFAIL,
					 "registry %s requires a user name and password; "
					 "set REPACK_REGISTRY_USER and REPACK_REGISTRY_PASSWORD "
					 "or log in with docker login", reg->host);
			goto out;
		}
		char *token = basic_token(&reg->creds);

		set_authorization(reg, xasprintf("Basic %s", token));
		memset(token, 0, strlen(token));
		free(token);
	} else if (strcasecmp(ch.scheme, "Bearer") == 0 && ch.realm) {
		rc = fetch_token(reg, &ch);
	} else {
		rc = repack_fail(reg->ctx, REPACK_EFAIL,
				 "registry %s asks for %s authentication, which repack "
				 "does not support (it supports Bearer and Basic)",
				 reg->host, ch.scheme);
	}
out:
	registry_challenge_release(&ch);
	return rc;
}

int registry_add_scope(struct registry *reg, const char *scope)
{
	struct registry_challenge ch;
	int rc;

	if (strlist_contains(&reg->scopes, scope))
		return 0;
	strlist_push(&reg->scopes, scope);
	if (!reg->last_challenge)
		return 0;
	rc = registry_challenge_parse(reg->ctx, reg->last_challenge, &ch);
	if (rc == 0 && strcasecmp(ch.scheme, "Bearer") == 0 && ch.realm)
		rc = fetch_token(reg, &ch);
	registry_challenge_release(&ch);
	return rc;
}
