#!/bin/bash
# repack --push against Debian's docker-registry on 127.0.0.1: an open
# registry behind a fault-injecting proxy, one behind htpasswd Basic
# authentication and one behind a token service. Images are read back
# with skopeo and repack inspect, and their digests compared with the
# ones repack printed.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/registry.sh"

for tool in dpkg-deb apt-ftparchive gpg skopeo docker-registry htpasswd openssl; do
	need_command "$tool" "$tool" || { skip registry "$tool is not installed"; exit 0; }
done
[ -x /usr/sbin/nginx ] || need_command nginx nginx-light || { skip registry "nginx is not installed"; exit 0; }

key=$WORK/key
make_test_key "$key" >/dev/null || { fail fixture-key "make_test_key failed"; exit 1; }
make_kernel_debs "$WORK/debs-amd64" 6.1.0-57 cloud-amd64 6.1.192-3 xz >/dev/null &&
	make_kernel_debs --arch arm64 "$WORK/debs-arm64" 6.1.0-57 cloud-arm64 6.1.192-3 xz >/dev/null ||
	{ fail fixture-debs "make_kernel_debs failed"; exit 1; }
make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian" "$key" bookworm \
	"$WORK"/debs-amd64/*.deb "$WORK"/debs-arm64/*.deb >/dev/null &&
	make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian" "$key" bookworm-updates >/dev/null &&
	make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian-security" "$key" bookworm-security >/dev/null ||
	{ fail fixture-mirror "make_debian_mirror failed"; exit 1; }
url=$(serve_dir "$WORK/mirror") || { fail fixture-server "nginx did not start"; exit 1; }

export XDG_CACHE_HOME=$WORK/cache REPACK_RETRY_DELAY_MS=10
# The tests use no credentials from the environment they run in.
export DOCKER_CONFIG=$WORK/no-docker-config
unset REPACK_REGISTRY_USER REPACK_REGISTRY_PASSWORD
tag=6.1.192-3-cloud
common=(--mirror "$url/debian" --release bookworm --keyring "$key/keyring.gpg" --flavour cloud)
# The command that builds the fixture kernel; "${build[@]}" ARGS... runs
# it with more arguments, also after env.
build=("$REPACK" debian 6.1.192-3 "${common[@]}")
repack_push() { "${build[@]}" "$@"; }
# remote_digest IMAGE [SKOPEO OPTIONS...]: the digest skopeo reports.
remote_digest() {
	local image=$1
	shift
	skopeo inspect --tls-verify=false "$@" "docker://$image" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'
}
# json_check NAME PYTHON_EXPR: evaluate the expression over the JSON d in
# $WORK/last.out.
json_check() {
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
		"$WORK/last.out" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "$2 is false for: $(head -c 800 "$WORK/last.out")"
	fi
}

open=$(start_registry open) || { fail registry-open-start "docker-registry did not start"; exit 1; }
proxy=$(start_fault_proxy "$open" open) || { fail proxy-start "the proxy did not start"; exit 1; }
set_faults open '[]'

# --- push, then read back with skopeo -------------------------------------
expect_status push-open 0 repack_push --push "$proxy/kernel-debian"
read -r pushed digest <"$WORK/last.out"
[ "$pushed" = "$proxy/kernel-debian:$tag" ] && pass push-prints-reference ||
	fail push-prints-reference "stdout: $(cat "$WORK/last.out")"
got=$(remote_digest "$proxy/kernel-debian:$tag")
[ -n "$digest" ] && [ "$got" = "$digest" ] && pass push-digest-matches-skopeo ||
	fail push-digest-matches-skopeo "repack printed '$digest', skopeo reports '$got'"
expect_status local-build 0 repack_push -o "oci:$WORK/local"
[ "$(awk '{print $2}' "$WORK/last.out")" = "$digest" ] && pass push-equals-local-build ||
	fail push-equals-local-build "local $(cat "$WORK/last.out"), pushed $digest"
skopeo list-tags --tls-verify=false "docker://$proxy/kernel-debian" >"$WORK/tags.json" 2>&1
python3 - "$WORK/tags.json" "$tag" <<'EOF' && pass push-sets-all-tags || fail push-sets-all-tags "$(cat "$WORK/tags.json")"
import json, re, sys
tags = json.load(open(sys.argv[1]))["Tags"]
tag = sys.argv[2]
assert tag in tags, tags
assert tag + "-amd64" in tags, tags
assert any(re.fullmatch(re.escape(tag) + "-[0-9a-f]{12}", t) for t in tags), tags
EOF
if skopeo copy --src-tls-verify=false "docker://$proxy/kernel-debian:$tag" "oci:$WORK/copied:$tag" \
	>/dev/null 2>"$WORK/skopeo.err"; then
	got=$(skopeo inspect "oci:$WORK/copied:$tag" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
	[ "$got" = "$digest" ] && pass skopeo-copy-keeps-digest ||
		fail skopeo-copy-keeps-digest "copy has $got, pushed $digest"
else
	fail skopeo-copy-keeps-digest "$(cat "$WORK/skopeo.err")"
fi

# --- a second push uploads nothing ----------------------------------------
mark=$(proxy_log_mark open)
expect_status push-again 0 repack_push --push "$proxy/kernel-debian" --json
json_check second-push-json-unchanged \
	'd["pushed"]["blobs_uploaded"] == 0 and d["pushed"]["tags_updated"] == 0 and not d["pushed"]["changed"]'
expect_stderr second-push-says-nothing-changed 'nothing changed'
writes=$(proxy_log_since open "$mark" | grep -Ec '^(POST|PATCH|PUT) ')
[ "$writes" = 0 ] && pass second-push-sends-no-writes ||
	fail second-push-sends-no-writes "$writes POST/PATCH/PUT requests: $(proxy_log_since open "$mark" | head -5)"

# --- a blob pushed to another repository is mounted -----------------------
mark=$(proxy_log_mark open)
expect_status push-mount 0 repack_push --push "$proxy/kernel-copy" --json
json_check mount-counts 'd["pushed"]["blobs_mounted"] == 2 and d["pushed"]["blobs_uploaded"] == 0'
proxy_log_since open "$mark" | grep -q '^POST /v2/kernel-copy/blobs/uploads/?mount=sha256:[0-9a-f]*&from=kernel-debian ' &&
	pass mount-request-sent || fail mount-request-sent "$(proxy_log_since open "$mark" | head -8)"
[ "$(remote_digest "$proxy/kernel-copy:$tag")" = "$digest" ] && pass mounted-image-readable ||
	fail mounted-image-readable "skopeo cannot read $proxy/kernel-copy:$tag"

# --- two architectures: one index, a manifest per architecture ------------
expect_status push-multiarch 0 repack_push --arch amd64,arm64 --push "$proxy/kernel-multi"
read -r _ index_digest <"$WORK/last.out"
skopeo inspect --raw --tls-verify=false "docker://$proxy/kernel-multi:$tag" >"$WORK/index.json" 2>&1
python3 - "$WORK/index.json" "$index_digest" <<'EOF' && pass multiarch-index || fail multiarch-index "$(head -c 600 "$WORK/index.json")"
import hashlib, json, sys
raw = open(sys.argv[1], "rb").read()
assert "sha256:" + hashlib.sha256(raw).hexdigest() == sys.argv[2], "digest differs"
index = json.loads(raw)
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json", index
assert sorted(m["platform"]["architecture"] for m in index["manifests"]) == ["amd64", "arm64"], index
EOF
for arch in amd64 arm64; do
	skopeo inspect --tls-verify=false "docker://$proxy/kernel-multi:$tag-$arch" 2>/dev/null |
		python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(d["Architecture"] != sys.argv[1])' "$arch" &&
		pass "multiarch-$arch-manifest" || fail "multiarch-$arch-manifest" "$tag-$arch is not an $arch image"
done

# --- repack inspect docker:// ----------------------------------------------
expect_status inspect-remote 0 "$REPACK" inspect "docker://$proxy/kernel-multi:$tag" --json
json_check inspect-remote-index "d['digest'] == '$index_digest' and [i['arch'] for i in d['images']] == ['amd64', 'arm64']"
json_check inspect-remote-tags "'$tag' in d['tags'] and len(d['tags']) == 2 and d['images'][1]['tags'] == ['$tag-arm64']"
json_check inspect-remote-files "all({'kernel', 'kernel.tar', 'kernel_config'} <= {f['name'] for f in i['files']} for i in d['images'])"
json_check inspect-remote-labels "d['images'][0]['kernel_release'] == '6.1.0-57-cloud-amd64' and any(p['name'].startswith('linux-image-6.1.0-57-cloud-arm64') for p in d['images'][1]['packages'])"
expect_status inspect-remote-missing-tag 3 "$REPACK" inspect "docker://$proxy/kernel-multi:no-such-tag"
expect_stderr inspect-remote-missing-tag-message 'no-such-tag.*404|404.*no-such-tag'

# --- faults: a server error once is retried -------------------------------
# Small chunks: the layer (about 14 KB) goes up in four PATCH requests.
# Each fault case has its own cache, which has no record of earlier
# pushes, so its blobs are uploaded instead of mounted.
export REPACK_PUSH_CHUNK_SIZE=4096
export XDG_CACHE_HOME=$WORK/cache-retry
set_faults open '[{"method": "PATCH", "times": 1, "action": "status", "status": 503}]'
expect_status push-retries-5xx 0 repack_push --push "$proxy/retry-once"
expect_stderr push-retry-logged 'retrying the upload of sha256:'
[ "$(remote_digest "$proxy/retry-once:$tag")" = "$digest" ] && pass retried-push-complete ||
	fail retried-push-complete "skopeo reports another digest"

# --- faults: server errors that persist end in a clear error --------------
export XDG_CACHE_HOME=$WORK/cache-500
set_faults open '[{"method": "PATCH", "action": "status", "status": 500}]'
mark=$(proxy_log_mark open)
expect_status push-5xx-fails 1 repack_push --push "$proxy/always-500"
expect_stderr push-5xx-message 'gave up pushing sha256:[0-9a-f]{12} to .*always-500 after 4 attempts.*answered 500'
patches=$(proxy_log_since open "$mark" | grep -c '^PATCH ')
[ "$patches" = 4 ] && pass push-5xx-attempts || fail push-5xx-attempts "$patches PATCH requests, expected 4"

# --- an interrupted upload is resumed by the next push --------------------
# Two chunks get through; every later PATCH loses its connection.
export XDG_CACHE_HOME=$WORK/cache-resume
set_faults open '[{"method": "PATCH", "skip": 2, "action": "drop"}]'
expect_status push-interrupted 1 repack_push --push "$proxy/resume"
set_faults open '[]'
mark=$(proxy_log_mark open)
expect_status push-after-interrupt 0 repack_push --push "$proxy/resume"
expect_stderr resume-logged 'resuming the upload of sha256:[0-9a-f]{12} at byte 8192'
first_patch=$(proxy_log_since open "$mark" | grep -m1 '^PATCH ')
[[ "$first_patch" == *" range=8192-"* ]] && ! proxy_log_since open "$mark" | grep -q '^PATCH .* range=0-' &&
	pass upload-resumed-at-offset || fail upload-resumed-at-offset "first PATCH: $first_patch"
if skopeo copy --src-tls-verify=false "docker://$proxy/resume:$tag" "oci:$WORK/resumed:$tag" >/dev/null 2>"$WORK/skopeo.err" &&
	[ "$(remote_digest "$proxy/resume:$tag")" = "$digest" ]; then
	pass resumed-image-intact
else
	fail resumed-image-intact "$(cat "$WORK/skopeo.err")"
fi

# --- a connection cut in the middle of a chunk ----------------------------
export XDG_CACHE_HOME=$WORK/cache-cut
set_faults open '[{"method": "PATCH", "skip": 1, "action": "cut"}]'
expect_status push-cut 1 repack_push --push "$proxy/cut"
set_faults open '[]'
expect_status push-after-cut 0 repack_push --push "$proxy/cut"
if skopeo copy --src-tls-verify=false "docker://$proxy/cut:$tag" "oci:$WORK/cut:$tag" >/dev/null 2>"$WORK/skopeo.err" &&
	[ "$(remote_digest "$proxy/cut:$tag")" = "$digest" ]; then
	pass cut-upload-completed
else
	fail cut-upload-completed "$(cat "$WORK/skopeo.err")"
fi
unset REPACK_PUSH_CHUNK_SIZE
export XDG_CACHE_HOME=$WORK/cache

# --- bad --push values ------------------------------------------------------
expect_status push-with-tag-usage 2 repack_push --push "$proxy/kernel-debian:latest"
expect_stderr push-with-tag-message 'without a tag'
expect_status push-uppercase-repo-usage 2 repack_push --push "$proxy/Kernel"
expect_status push-unreachable 1 repack_push --push "127.0.0.1:$(free_port)/kernel-debian"
expect_stderr push-unreachable-message 'cannot reach registry 127\.0\.0\.1'

# --- Basic authentication --------------------------------------------------
basic=$(start_registry basic) || { fail registry-basic-start "docker-registry did not start"; exit 1; }
creds=(REPACK_REGISTRY_USER="$REGISTRY_USER" REPACK_REGISTRY_PASSWORD="$REGISTRY_PASSWORD")
basic_auth=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASSWORD" | base64 -w0)
expect_status basic-anonymous-fails 1 repack_push --push "$basic/kernel-debian"
expect_stderr basic-anonymous-message 'requires .*REPACK_REGISTRY_USER'
expect_status basic-wrong-password 1 env REPACK_REGISTRY_USER="$REGISTRY_USER" \
	REPACK_REGISTRY_PASSWORD=not-the-password "${build[@]}" --push "$basic/kernel-debian" -v
expect_stderr basic-wrong-password-message "rejected the credentials of user '$REGISTRY_USER'"
grep -q not-the-password "$WORK/last.err" "$WORK/last.out" &&
	fail basic-wrong-password-hidden "the password appears in the output" || pass basic-wrong-password-hidden
expect_status basic-env-credentials 0 env "${creds[@]}" "${build[@]}" --push "$basic/kernel-debian" -v
if grep -qF -e "$REGISTRY_PASSWORD" -e "$basic_auth" "$WORK/last.err" "$WORK/last.out"; then
	fail verbose-output-hides-credentials "a credential appears in the -v output"
else
	pass verbose-output-hides-credentials
fi
[ "$(remote_digest "$basic/kernel-debian:$tag" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD")" = "$digest" ] &&
	pass basic-digest-matches-skopeo || fail basic-digest-matches-skopeo "skopeo reports another digest"

# Credentials from a Docker config: auths, credsStore, credHelpers.
mkdir -p "$WORK/docker-auths" "$WORK/docker-store" "$WORK/docker-helpers" "$WORK/bin"
printf '{"auths": {"http://%s/v1/": {"auth": "%s"}}}\n' "$basic" "$basic_auth" >"$WORK/docker-auths/config.json"
expect_status docker-config-auths 0 env DOCKER_CONFIG="$WORK/docker-auths" "${build[@]}" --push "$basic/from-auths"
cat >"$WORK/bin/docker-credential-repacktest" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 2
cat >"$WORK/helper.in"
printf '{"ServerURL": "%s", "Username": "%s", "Secret": "%s"}\n' "$basic" "$REGISTRY_USER" "$REGISTRY_PASSWORD"
EOF
cat >"$WORK/bin/docker-credential-empty" <<'EOF'
#!/bin/sh
echo "credentials not found in native keychain"
exit 1
EOF
chmod +x "$WORK/bin/docker-credential-repacktest" "$WORK/bin/docker-credential-empty"
printf '{"credsStore": "repacktest"}\n' >"$WORK/docker-store/config.json"
expect_status docker-config-creds-store 0 env PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/docker-store" \
	"${build[@]}" --push "$basic/from-store"
[ "$(tr -d '\n' <"$WORK/helper.in")" = "$basic" ] && pass creds-store-gets-server ||
	fail creds-store-gets-server "the helper read '$(cat "$WORK/helper.in")'"
printf '{"credsStore": "empty", "credHelpers": {"%s": "repacktest"}}\n' "$basic" >"$WORK/docker-helpers/config.json"
rm -f "$WORK/helper.in"
expect_status docker-config-cred-helpers 0 env PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/docker-helpers" \
	"${build[@]}" --push "$basic/from-helpers"
[ -s "$WORK/helper.in" ] && pass cred-helper-used || fail cred-helper-used "docker-credential-repacktest was not run"
printf '{"credsStore": "empty", "auths": {"%s": {"auth": "%s"}}}\n' "$basic" "$basic_auth" >"$WORK/docker-store/config.json"
expect_status creds-store-falls-back-to-auths 0 env PATH="$WORK/bin:$PATH" DOCKER_CONFIG="$WORK/docker-store" \
	"${build[@]}" --push "$basic/from-fallback"

# --- Bearer tokens from a token service ------------------------------------
token=$(start_registry token) || { fail registry-token-start "docker-registry did not start"; exit 1; }
token_log=$WORK/registry-token/token.log
expect_status token-push 0 env "${creds[@]}" "${build[@]}" --push "$token/kernel-debian"
grep -q "^user=$REGISTRY_USER scopes=repository:kernel-debian:pull,push status=200" "$token_log" &&
	pass token-flow-used || fail token-flow-used "token log: $(cat "$token_log")"
[ "$(remote_digest "$token/kernel-debian:$tag" --creds "$REGISTRY_USER:$REGISTRY_PASSWORD")" = "$digest" ] &&
	pass token-digest-matches-skopeo || fail token-digest-matches-skopeo "skopeo reports another digest"
expect_status token-mount 0 env "${creds[@]}" "${build[@]}" --push "$token/kernel-other" --json
json_check token-mount-counts 'd["pushed"]["blobs_mounted"] == 2'
grep -q 'repository:kernel-debian:pull' <(grep 'kernel-other' "$token_log") && pass token-mount-scope ||
	fail token-mount-scope "no token asked for pull on kernel-debian: $(cat "$token_log")"
expect_status token-wrong-password 1 env REPACK_REGISTRY_USER="$REGISTRY_USER" \
	REPACK_REGISTRY_PASSWORD=not-the-password "${build[@]}" --push "$token/kernel-debian"
expect_stderr token-wrong-password-message "token service .* rejected the credentials of user '$REGISTRY_USER'"
expect_status token-anonymous-fails 1 repack_push --push "$token/kernel-debian"
expect_stderr token-anonymous-message 'requires authentication'
expect_status token-inspect 0 env "${creds[@]}" "$REPACK" inspect "docker://$token/kernel-debian:$tag" --json
json_check token-inspect-digest "d['digest'] == '$digest'"
