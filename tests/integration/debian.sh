#!/bin/bash
# repack debian against a signed fixture mirror on 127.0.0.1: builds, lists,
# version matching, signatures, reproducibility, the cache, and bad input.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"

for tool in dpkg-deb apt-ftparchive gpg nginx skopeo umoci; do
	need_command "$tool" "$tool" || command -v "/usr/sbin/$tool" >/dev/null ||
		{ skip debian-fixture "$tool is not installed"; exit 0; }
done

key=$WORK/key
root=$WORK/mirror
make_test_key "$key" >/dev/null || { fail fixture-key "make_test_key failed"; exit 1; }
make_kernel_debs "$WORK/debs-xz" 6.1.0-57 cloud-amd64 6.1.192-3 xz >/dev/null &&
	make_kernel_debs "$WORK/debs-zst" 6.1.0-58 cloud-amd64 6.1.194-1 zstd >/dev/null &&
	make_kernel_debs --no-headers "$WORK/debs-amd64" 6.1.0-57 amd64 6.1.192-3 xz >/dev/null ||
	{ fail fixture-debs "make_kernel_debs failed"; exit 1; }
make_debian_mirror "$root/debian" "$key" bookworm "$WORK"/debs-xz/*.deb "$WORK"/debs-amd64/*.deb >/dev/null &&
	make_debian_mirror "$root/debian" "$key" bookworm-updates >/dev/null &&
	make_debian_mirror "$root/debian-security" "$key" bookworm-security "$WORK"/debs-zst/*.deb >/dev/null ||
	{ fail fixture-mirror "make_debian_mirror failed"; exit 1; }
url=$(serve_dir "$root") || { fail fixture-server "nginx did not start"; exit 1; }
access_log=$(ls "$WORK"/nginx.*/access.log)

export XDG_CACHE_HOME=$WORK/cache
common=(--mirror "$url/debian" --release bookworm --keyring "$key/keyring.gpg" --flavour cloud)

# repack_debian ARGS...: run repack debian with the fixture mirror.
repack_debian() { "$REPACK" debian "$@" "${common[@]}"; }

# --- happy path: an xz-member kernel from the codename suite -------------
expect_status build-xz-kernel 0 repack_debian 6.1.192-3 -o "oci:$WORK/images"
grep -q '^linuxkit/kernel-debian:6.1.192-3-cloud sha256:[0-9a-f]\{64\}$' "$WORK/last.out" &&
	pass build-prints-reference || fail build-prints-reference "$(cat "$WORK/last.out")"
digest1=$(awk '{print $2}' "$WORK/last.out")

if skopeo inspect "oci:$WORK/images:6.1.192-3-cloud" >"$WORK/inspect.json" 2>"$WORK/skopeo.err"; then
	pass skopeo-reads-layout
else
	fail skopeo-reads-layout "$(cat "$WORK/skopeo.err")"
fi
python3 - "$WORK/inspect.json" <<'EOF' && pass image-labels || fail image-labels "labels wrong: $(head -c 800 "$WORK/inspect.json")"
import json, sys
d = json.load(open(sys.argv[1]))
labels = d["Labels"]
assert d["Architecture"] == "amd64", d
assert d["Os"] == "linux", d
assert labels["org.opencontainers.image.version"] == "6.1.192-3-cloud", labels
assert labels["org.linuxkit.repack.kernel-release"] == "6.1.0-57-cloud-amd64", labels
assert labels["org.linuxkit.repack.distro"] == "debian", labels
assert "linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb" in json.dumps(labels), labels
# linux-kbuild-6.1 (>= 6.1.192-3): the same source version wins over 6.1.194-1.
assert "linux-kbuild-6.1_6.1.192-3_amd64.deb" in json.dumps(labels), labels
EOF
skopeo inspect "oci:$WORK/images:6.1.192-3-cloud-amd64" >/dev/null 2>&1 &&
	pass arch-tag-written || fail arch-tag-written "no 6.1.192-3-cloud-amd64 tag"

# The layer contains the contract's files; System.map is Debian's stub and
# stays out.
rm -rf "$WORK/bundle"
if umoci unpack --image "$WORK/images:6.1.192-3-cloud" "$WORK/bundle" >/dev/null 2>"$WORK/umoci.err"; then
	pass umoci-unpacks
else
	fail umoci-unpacks "$(cat "$WORK/umoci.err")"
fi
files=$(cd "$WORK/bundle/rootfs" 2>/dev/null && ls | tr '\n' ' ')
[ "$files" = "kernel kernel-dev.tar kernel.tar kernel_config " ] &&
	pass layer-file-set || fail layer-file-set "layer holds: $files"
rootfs=$WORK/bundle/rootfs
mkdir -p "$WORK/mods"
tar -xf "$rootfs/kernel.tar" -C "$WORK/mods" 2>/dev/null
kver=6.1.0-57-cloud-amd64
[ -s "$WORK/mods/lib/modules/$kver/modules.dep" ] && pass depmod-ran || fail depmod-ran "no modules.dep"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/mods" -S "$kver" virtio_net >"$WORK/modprobe.out" 2>&1 &&
	grep -q 'failover.ko' "$WORK/modprobe.out" && grep -q 'net_failover.ko' "$WORK/modprobe.out"; then
	pass modprobe-resolves-deps
else
	fail modprobe-resolves-deps "$(cat "$WORK/modprobe.out")"
fi
tar -tf "$rootfs/kernel.tar" | grep -q '^lib/modules/6.1.0-57-cloud-amd64/build' &&
	fail kernel-tar-no-build-link "build link in kernel.tar" || pass kernel-tar-no-build-link
tar -tf "$rootfs/kernel-dev.tar" >"$WORK/dev.list"
grep -q '^usr/src/linux-headers-6.1.0-57-cloud-amd64/' "$WORK/dev.list" &&
	grep -q '^usr/src/linux-headers-6.1.0-57-common/' "$WORK/dev.list" &&
	grep -q '^usr/lib/linux-kbuild-6.1/' "$WORK/dev.list" &&
	pass headers-follow-depends || fail headers-follow-depends "$(head -20 "$WORK/dev.list")"
grep -q '^usr/share/doc' "$WORK/dev.list" && fail headers-without-docs "docs in kernel-dev.tar" || pass headers-without-docs
grep -q '^CONFIG_VIRTIO_NET=m' "$rootfs/kernel_config" && pass config-copied || fail config-copied "kernel_config lacks CONFIG_VIRTIO_NET"
tar -tvf "$rootfs/kernel.tar" | awk '$2 != "root/root" && $2 != "0/0" { bad = 1 } END { exit bad }' &&
	pass kernel-tar-owned-by-root || fail kernel-tar-owned-by-root "entries not owned by 0/0"

# --- reproducible: a fresh cache and output give the same digest ---------
expect_status rebuild-fresh-cache 0 env XDG_CACHE_HOME="$WORK/cache2" "$REPACK" debian 6.1.192-3 \
	"${common[@]}" -o "oci:$WORK/images2"
digest2=$(awk '{print $2}' "$WORK/last.out")
[ -n "$digest1" ] && [ "$digest1" = "$digest2" ] && pass reproducible-digest ||
	fail reproducible-digest "$digest1 != $digest2"

# --- the cache: a second run downloads no package ------------------------
before=$(grep -c '\.deb HTTP' "$access_log")
expect_status build-from-cache 0 repack_debian 6.1.192-3 -o "oci:$WORK/images3"
after=$(grep -c '\.deb HTTP' "$access_log")
[ "$before" = "$after" ] && pass cache-avoids-downloads || fail cache-avoids-downloads "$before -> $after .deb requests"

# --- zstd members, found in the security suite under its own base --------
expect_status build-zstd-security 0 repack_debian 6.1.0-58 -o "oci:$WORK/images"
grep -q ':6.1.194-1-cloud ' "$WORK/last.out" && pass abi-selects-version || fail abi-selects-version "$(cat "$WORK/last.out")"
expect_status latest-is-newest 0 repack_debian latest -o "dir:$WORK/latest"
grep -q ':6.1.194-1-cloud ' "$WORK/last.out" && pass latest-picks-security || fail latest-picks-security "$(cat "$WORK/last.out")"
[ -s "$WORK/latest/kernel" ] && [ -s "$WORK/latest/kernel.tar" ] && [ -s "$WORK/latest/kernel_config" ] &&
	pass dir-output-files || fail dir-output-files "$(ls "$WORK/latest")"
expect_status prefix-6.1 0 repack_debian 6.1 --no-headers -o "dir:$WORK/prefix" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["version"]=="6.1.194-1" and d["digest"].startswith("sha256:")' \
	"$WORK/last.out" && pass json-result || fail json-result "$(cat "$WORK/last.out")"
[ ! -e "$WORK/prefix/kernel-dev.tar" ] && pass no-headers-option || fail no-headers-option "kernel-dev.tar written"
both=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$WORK/images/index.json")
# Two kernels with three tags each: TAG, TAG-ARCH and TAG-HASH.
[ "$both" = 6 ] && pass layout-keeps-all-tags || fail layout-keeps-all-tags "index.json has $both manifests"

# --- the default flavour has no suffix -----------------------------------
expect_status default-flavour 0 "$REPACK" debian 6.1.192-3 --mirror "$url/debian" --release bookworm \
	--keyring "$key/keyring.gpg" -o "dir:$WORK/plain"
grep -q '^linuxkit/kernel-debian:6.1.192-3 ' "$WORK/last.out" && pass default-flavour-tag || fail default-flavour-tag "$(cat "$WORK/last.out")"
# The suite contains linux-image-6.1.0-57-amd64 and -cloud-amd64: the default
# flavour must never take the cloud kernel.
file "$WORK/plain/kernel" | grep -q '6.1.0-57-amd64 ' && pass default-flavour-kernel ||
	fail default-flavour-kernel "$(file "$WORK/plain/kernel")"
expect_status list-default-flavour 0 "$REPACK" list debian --mirror "$url/debian" --release bookworm \
	--keyring "$key/keyring.gpg" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [k["kernel_release"] for k in d]==["6.1.0-57-amd64"], d' \
	"$WORK/last.out" && pass list-only-default-flavour || fail list-only-default-flavour "$(cat "$WORK/last.out")"

# --- only an unsigned image package; Packages.xz listed but missing ------
make_kernel_debs --unsigned --no-headers "$WORK/debs-unsigned" 6.1.0-60 cloud-amd64 6.1.200-1 xz >/dev/null
make_debian_mirror --formats "gz plain" "$root/unsigned-image" "$key" bookworm "$WORK"/debs-unsigned/*.deb >/dev/null
expect_status unsigned-image-fallback 0 "$REPACK" debian 6.1.200-1 --mirror "$url/unsigned-image" \
	--release bookworm --flavour cloud --keyring "$key/keyring.gpg" -o "dir:$WORK/unsigned-image" --json
grep -q '"kernel_release": "6.1.0-60-cloud-amd64"' "$WORK/last.out" && [ -s "$WORK/unsigned-image/kernel" ] &&
	pass unsigned-image-package || fail unsigned-image-package "$(cat "$WORK/last.out")"
grep -q 'Packages.gz HTTP/1.1" 200' "$access_log" && pass packages-gz-fallback ||
	fail packages-gz-fallback "Packages.gz was never fetched"

# --- list -----------------------------------------------------------------
expect_status list-json 0 "$REPACK" list debian "${common[@]}" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [k["version"] for k in d]==["6.1.194-1","6.1.192-3"], d' \
	"$WORK/last.out" && pass list-newest-first || fail list-newest-first "$(cat "$WORK/last.out")"

# --- errors ---------------------------------------------------------------
expect_status missing-version-exit-3 3 repack_debian 6.1.193 -o "oci:$WORK/images"
expect_stderr missing-version-nearest 'nearest: .*6\.1\.194-1.*6\.1\.192-3'
expect_status unknown-flavour-usage 2 "$REPACK" debian latest --mirror "$url/debian" --flavour gaming
expect_status unknown-release-usage 2 "$REPACK" debian latest --mirror "$url/debian" --release nosuch
expect_status missing-suite 1 "$REPACK" debian latest --mirror "$url/debian" --release trixie --keyring "$key/keyring.gpg"
expect_stderr missing-suite-message "suite 'trixie' not found"
expect_status bad-output-spec 2 repack_debian latest -o "tarball:$WORK/x"
expect_status no-arguments 2 "$REPACK" debian

# Another key signed the archive: verification fails.
make_test_key "$WORK/otherkey" >/dev/null
expect_status wrong-key-rejected 1 "$REPACK" debian latest --mirror "$url/debian" --release bookworm \
	--keyring "$WORK/otherkey/keyring.gpg" --flavour cloud -o "oci:$WORK/images"

# Unsigned archive: a warning, or an error with --require-signatures.
make_debian_mirror --unsigned "$root/unsigned" "$key" bookworm "$WORK"/debs-xz/*.deb >/dev/null
expect_status unsigned-allowed 0 "$REPACK" debian 6.1.192-3 --mirror "$url/unsigned" --release bookworm \
	--flavour cloud --keyring "$key/keyring.gpg" -o "dir:$WORK/unsigned-out"
expect_stderr unsigned-warns 'not signed'
unsigned_digest=$(awk '{print $2}' "$WORK/last.out")
[ "$unsigned_digest" = "$digest1" ] && pass digest-independent-of-mirror ||
	fail digest-independent-of-mirror "$digest1 from $url/debian, $unsigned_digest from $url/unsigned"
expect_status unsigned-required 1 "$REPACK" debian 6.1.192-3 --mirror "$url/unsigned" --release bookworm \
	--flavour cloud --keyring "$key/keyring.gpg" --require-signatures -o "dir:$WORK/unsigned-out2"
expect_stderr unsigned-required-message 'require-signatures'
[ ! -e "$WORK/unsigned-out2/kernel" ] && pass unsigned-required-writes-nothing || fail unsigned-required-writes-nothing "output written"

# A corrupt package: the sha256 check fails, nothing is cached or written.
cp -r "$root/debian" "$root/corrupt"
image_deb=$(find "$root/corrupt/pool" -name 'linux-image-6.1.0-57-cloud-amd64_*.deb')
printf 'garbage' | dd of="$image_deb" bs=1 seek=2000 conv=notrunc 2>/dev/null
tags_before=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$WORK/images/index.json")
expect_status checksum-mismatch 1 env XDG_CACHE_HOME="$WORK/cache-corrupt" "$REPACK" debian 6.1.192-3 \
	--mirror "$url/corrupt" --release bookworm --flavour cloud --keyring "$key/keyring.gpg" -o "oci:$WORK/images" --repo test/corrupt
expect_stderr checksum-mismatch-message 'sha256|SHA-256|checksum'
tags_after=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["manifests"]))' "$WORK/images/index.json")
[ "$tags_before" = "$tags_after" ] && pass checksum-mismatch-no-image || fail checksum-mismatch-no-image "$tags_before -> $tags_after"
cached_bad=$(find "$WORK/cache-corrupt" -type f -name "$(sha256sum "$image_deb" | cut -c1-64)*" | wc -l)
[ "$cached_bad" = 0 ] && pass checksum-mismatch-not-cached || fail checksum-mismatch-not-cached "bad file cached"

# A truncated package on the server.
cp -r "$root/debian" "$root/truncated"
image_deb=$(find "$root/truncated/pool" -name 'linux-image-6.1.0-57-cloud-amd64_*.deb')
truncate -s 3000 "$image_deb"
expect_status truncated-package 1 env XDG_CACHE_HOME="$WORK/cache-trunc" "$REPACK" debian 6.1.192-3 \
	--mirror "$url/truncated" --release bookworm --flavour cloud --keyring "$key/keyring.gpg" -o "dir:$WORK/trunc-out"
[ ! -e "$WORK/trunc-out/kernel" ] && pass truncated-writes-nothing || fail truncated-writes-nothing "output written"

# A package with a ../ entry, listed with its true checksum.
hostile=$(make_hostile_deb "$WORK/hostile" dotdot 6.1.0-99 cloud-amd64 6.1.999-1)
make_debian_mirror "$root/hostile" "$key" bookworm "$hostile" >/dev/null
expect_status hostile-dotdot 1 "$REPACK" debian 6.1.999-1 --mirror "$url/hostile" --release bookworm \
	--flavour cloud --keyring "$key/keyring.gpg" -o "oci:$WORK/hostile-images"
expect_stderr hostile-dotdot-message "linux-image-6.1.0-99-cloud-amd64.*unsafe entry '\.\./escape'"
[ ! -e "$WORK/escape" ] && [ ! -e "$WORK/hostile-images/index.json" ] && pass hostile-writes-nothing ||
	fail hostile-writes-nothing "files written"
for kind in absolute symlink device; do
	hostile=$(make_hostile_deb "$WORK/hostile-$kind" "$kind" 6.1.0-99 cloud-amd64 6.1.999-1)
	make_debian_mirror "$root/hostile-$kind" "$key" bookworm "$hostile" >/dev/null
	expect_status "hostile-$kind" 1 "$REPACK" debian 6.1.999-1 --mirror "$url/hostile-$kind" --release bookworm \
		--flavour cloud --keyring "$key/keyring.gpg" -o "dir:$WORK/hostile-$kind-out"
	expect_stderr "hostile-$kind-message" 'unsafe entry'
done

# --- an interrupted run leaves no half image, and the next run cleans up --
mkdir -p "$WORK/tmp"
# The pid of a process that has exited on its own belongs to no process.
# Killing a fresh child instead could run this script's traps in the
# forked shell before it execs.
true & dead_pid=$!
wait "$dead_pid"
mkdir -p "$WORK/tmp/repack-work.$dead_pid.stale/modules"
TMPDIR=$WORK/tmp XDG_CACHE_HOME=$WORK/cache-kill "$REPACK" debian 6.1.192-3 "${common[@]}" \
	-o "oci:$WORK/killed" >/dev/null 2>&1 &
victim=$!
sleep 0.3
kill -9 "$victim" 2>/dev/null; wait "$victim" 2>/dev/null
if [ -e "$WORK/killed/index.json" ]; then
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/killed/index.json" &&
		pass killed-run-index-valid || fail killed-run-index-valid "index.json is broken"
else
	pass killed-run-index-valid
fi
expect_status after-killed-run 0 env TMPDIR="$WORK/tmp" XDG_CACHE_HOME="$WORK/cache-kill" "$REPACK" debian \
	6.1.192-3 "${common[@]}" -o "oci:$WORK/killed"
skopeo inspect "oci:$WORK/killed:6.1.192-3-cloud" >/dev/null 2>&1 && pass after-killed-run-image ||
	fail after-killed-run-image "skopeo cannot read the image"
leftover=$(ls "$WORK/tmp")
[ -z "$leftover" ] && pass stale-workdirs-removed || fail stale-workdirs-removed "left in TMPDIR: $leftover"

# --- mirror from the host's apt sources -----------------------------------
mkdir -p "$WORK/etc-apt/sources.list.d"
cat >"$WORK/etc-apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $url/debian
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: $url/debian-security
Suites: bookworm-security
Components: main
EOF
echo "deb http://127.0.0.1:9/other nodistro main" >"$WORK/etc-apt/sources.list.d/other.list"
expect_status mirror-from-apt-sources 0 env REPACK_APT_DIR="$WORK/etc-apt" "$REPACK" list debian \
	--release bookworm --flavour cloud --keyring "$key/keyring.gpg"
grep -q '6.1.194-1' "$WORK/last.out" && pass apt-sources-security-mirror || fail apt-sources-security-mirror "$(cat "$WORK/last.out")"
