#!/bin/bash
# repack centos against fixture repositories on 127.0.0.1. They cover CentOS
# 7's single kernel package with /boot and an xz payload (os and updates
# trees), and Stream 9's split packages with kernel-modules-core and
# kernel-devel in AppStream. Then Stream 8 without AppStream, the altarch
# tree for aarch64, signatures and bad packages.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/rpm-fixture.sh"

for tool in rpmbuild createrepo_c gpg nginx skopeo umoci; do
	need_command "$tool" "$tool" || command -v "/usr/sbin/$tool" >/dev/null ||
		{ skip centos-fixture "$tool is not installed"; exit 0; }
done

key=$WORK/key
root=$WORK/srv
centos=$root/centos
make_test_key "$key" >/dev/null && make_test_key "$WORK/otherkey" >/dev/null ||
	{ fail fixture-key "make_test_key failed"; exit 1; }

# --- fixture packages and repositories --------------------------------------
rpms=$WORK/rpms
make_kernel_rpms --boot --payload xz "$rpms/c7" 3.10.0 1160.el7 >/dev/null &&
	make_kernel_rpms --boot --payload xz --no-devel "$rpms/c7u" 3.10.0 1160.2.1.el7 >/dev/null &&
	make_kernel_rpms --boot --payload xz --no-devel --arch aarch64 "$rpms/c7-arm" 3.10.0 1160.el7 >/dev/null &&
	make_kernel_rpms --modules-core "$rpms/s9" 5.14.0 427.el9 >/dev/null &&
	make_kernel_rpms --payload xz --no-devel --no-extra "$rpms/s8" 4.18.0 500.el8 >/dev/null ||
	{ fail fixture-rpms "make_kernel_rpms failed"; exit 1; }

s9=("$rpms"/s9/kernel{,-core,-modules,-modules-core,-modules-extra}-5.14.0-427.el9.x86_64.rpm)
make_rpm_repo --compress gz "$centos/7.9.2009/os/x86_64" "$rpms"/c7/*.rpm &&
	make_rpm_repo --compress bz2 "$centos/7.9.2009/updates/x86_64" "$rpms"/c7u/*.rpm &&
	make_rpm_repo --compress gz "$centos/altarch/7.9.2009/os/aarch64" "$rpms"/c7-arm/*.rpm &&
	make_rpm_repo --compress xz "$centos/9-stream/BaseOS/x86_64/os" "${s9[@]}" &&
	make_rpm_repo --compress zstd --extra-entries "$centos/9-stream/AppStream/x86_64/os" \
		"$rpms/s9/kernel-devel-5.14.0-427.el9.x86_64.rpm" &&
	make_rpm_repo --compress xz "$centos/8-stream/BaseOS/x86_64/os" "$rpms"/s8/*.rpm &&
	sign_repomd "$centos/9-stream/BaseOS/x86_64/os" "$key" ||
	{ fail fixture-repos "make_rpm_repo failed"; exit 1; }

url=$(serve_dir "$root") || { fail fixture-server "nginx did not start"; exit 1; }
access_log=$(ls "$WORK"/nginx.*/access.log)
export XDG_CACHE_HOME=$WORK/cache
mirror=(--mirror "$url/centos")

# A data directory whose mirrors are the fixture server, for the aarch64
# tree of CentOS 7, which --mirror does not tell apart.
data=$WORK/data
mkdir -p "$data" && cp "$TOP_DIR"/data/* "$data"/
sed -i -e "s|^vault .*|vault $url/centos|" -e "s|^vault-el7 .*|vault-el7 $url/centos|" \
	-e "s|^vault-el7-aarch64 .*|vault-el7-aarch64 $url/centos/altarch|" \
	-e "s|^stream .*|stream $url/centos|" "$data/centos.conf"

tags_of() {
	python3 - "$1/index.json" <<'EOF' 2>/dev/null
import json, sys
for m in json.load(open(sys.argv[1])).get("manifests", []):
    print(m.get("annotations", {}).get("org.opencontainers.image.ref.name", ""))
EOF
}

unpack_image() {
	rm -rf "$3"
	umoci unpack --image "$1:$2" "$3" >/dev/null 2>"$WORK/umoci.err" || return 1
	mkdir -p "$3/mods" && tar -xf "$3/rootfs/kernel.tar" -C "$3/mods"
}

# --- CentOS 7: one kernel package, /boot, xz payload -------------------------
images=$WORK/images
expect_status el7-build 0 "$REPACK" centos 3.10.0-1160.el7 "${mirror[@]}" -o "oci:$images"
grep -q '^linuxkit/kernel-centos:3.10.0-1160.el7 sha256:[0-9a-f]\{64\}$' "$WORK/last.out" &&
	pass el7-tag || fail el7-tag "$(cat "$WORK/last.out")"
# The .el7 suffix limits the search to the CentOS 7 trees.
grep -Eq 'GET /centos/(9-stream|8-stream|8\.)' "$access_log" &&
	fail el7-searches-7-only "$(grep -Eo 'GET /centos/[^/]*' "$access_log" | sort -u | tr '\n' ' ')" ||
	pass el7-searches-7-only
skopeo inspect "oci:$images:3.10.0-1160.el7" >"$WORK/inspect.json" 2>"$WORK/skopeo.err" ||
	fail el7-skopeo "$(cat "$WORK/skopeo.err")"
python3 - "$WORK/inspect.json" <<'EOF' && pass el7-labels || fail el7-labels "$(head -c 800 "$WORK/inspect.json")"
import json, sys
labels = json.load(open(sys.argv[1]))["Labels"]
assert labels["org.linuxkit.repack.distro"] == "centos", labels
assert labels["org.linuxkit.repack.release"] == "7.9.2009", labels
assert labels["org.linuxkit.repack.kernel-release"] == "3.10.0-1160.el7.x86_64", labels
assert "kernel-3.10.0-1160.el7.x86_64.rpm" in json.dumps(labels), labels
EOF
kver=3.10.0-1160.el7.x86_64
if unpack_image "$images" 3.10.0-1160.el7 "$WORK/b7"; then pass el7-unpacks; else fail el7-unpacks "$(cat "$WORK/umoci.err")"; fi
files=$(cd "$WORK/b7/rootfs" 2>/dev/null && ls | tr '\n' ' ')
[ "$files" = "System.map kernel kernel-dev.tar kernel.tar kernel_config " ] &&
	pass el7-layer-file-set || fail el7-layer-file-set "layer holds: $files"
test "$(dd if="$WORK/b7/rootfs/kernel" bs=1 skip=514 count=4 2>/dev/null)" = HdrS &&
	pass el7-kernel-from-boot || fail el7-kernel-from-boot "kernel is not the bzImage"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/b7/mods" -S "$kver" virtio_net >"$WORK/modprobe.out" 2>&1 &&
	grep -q 'kernel/net/core/failover.ko.xz' "$WORK/modprobe.out"; then
	pass el7-modprobe-resolves
else
	fail el7-modprobe-resolves "$(cat "$WORK/modprobe.out")"
fi
tar -tf "$WORK/b7/rootfs/kernel.tar" | grep -q '^boot/' && fail el7-no-boot-in-kernel-tar "boot/ in kernel.tar" ||
	pass el7-no-boot-in-kernel-tar
tar -tf "$WORK/b7/rootfs/kernel-dev.tar" | grep -qx "usr/src/kernels/$kver/Module.symvers" &&
	pass el7-headers || fail el7-headers "$(tar -tf "$WORK/b7/rootfs/kernel-dev.tar" | head -5)"

# An upstream version takes the newest build: the one in updates, whose
# primary.xml is bzip2-compressed.
expect_status el7-upstream 0 "$REPACK" centos 3.10.0 "${mirror[@]}" -o "oci:$images"
grep -q ':3.10.0-1160.2.1.el7 ' "$WORK/last.out" && pass el7-upstream-newest || fail el7-upstream-newest "$(cat "$WORK/last.out")"
expect_stderr el7-updates-no-devel 'no kernel-devel 3\.10\.0-1160\.2\.1\.el7'

expect_status el7-list 0 "$REPACK" list centos --release 7 "${mirror[@]}" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [k["version"] for k in d]==["3.10.0-1160.2.1.el7","3.10.0-1160.el7"], d; assert {k["release"] for k in d}=={"7.9.2009"}, d' \
	"$WORK/last.out" && pass el7-list-newest-first || fail el7-list-newest-first "$(cat "$WORK/last.out")"
expect_stderr el7-list-warns-missing-trees '7\.8\.2003/os/x86_64'

# --- aarch64: the altarch tree ------------------------------------------------
expect_status el7-arm64 0 env REPACK_DATA_DIR="$data" "$REPACK" centos 3.10.0-1160.el7 --arch arm64 \
	-o "oci:$WORK/arm-images"
grep -q 'GET /centos/altarch/7.9.2009/os/aarch64/Packages/k/kernel-3.10.0-1160.el7.aarch64.rpm' "$access_log" &&
	pass el7-arm64-altarch || fail el7-arm64-altarch "no download from altarch"
skopeo inspect "oci:$WORK/arm-images:3.10.0-1160.el7-arm64" 2>/dev/null | grep -q '"Architecture": "arm64"' &&
	pass el7-arm64-image || fail el7-arm64-image "no arm64 image"

# --- Stream 9: split packages, kernel-devel in AppStream ----------------------
expect_status stream9-build 0 "$REPACK" centos 5.14.0-427.el9 "${mirror[@]}" -o "oci:$images"
grep -q ':5.14.0-427.el9 ' "$WORK/last.out" && pass stream9-tag || fail stream9-tag "$(cat "$WORK/last.out")"
k9=5.14.0-427.el9.x86_64
if unpack_image "$images" 5.14.0-427.el9 "$WORK/b9"; then
	tar -tf "$WORK/b9/rootfs/kernel-dev.tar" | grep -qx "usr/src/kernels/$k9/Makefile" &&
		pass stream9-devel-from-appstream || fail stream9-devel-from-appstream "no kernel-devel files"
	grep -q 'failover.ko.xz' "$WORK/b9/mods/lib/modules/$k9/modules.dep" &&
		pass stream9-modules-core || fail stream9-modules-core "no modules from kernel-modules-core"
else
	fail stream9-devel-from-appstream "$(cat "$WORK/umoci.err")"
fi
grep -Eq 'primary\.xml\.zck|sqlite' "$access_log" && fail only-primary-read "$(grep -E 'zck|sqlite' "$access_log" | head -3)" ||
	pass only-primary-read
expect_status latest-default-release 0 "$REPACK" centos latest "${mirror[@]}" -o "dir:$WORK/latest"
grep -q ':5.14.0-427.el9 ' "$WORK/last.out" && pass latest-is-stream9 || fail latest-is-stream9 "$(cat "$WORK/last.out")"

# --- Stream 8 without an AppStream repository -----------------------------------
expect_status stream8-build 0 "$REPACK" centos 4.18.0 --release stream8 "${mirror[@]}" -o "dir:$WORK/s8"
expect_stderr stream8-warns-appstream '8-stream/AppStream/x86_64/os'
[ -s "$WORK/s8/kernel.tar" ] && [ ! -e "$WORK/s8/kernel-dev.tar" ] && pass stream8-without-headers ||
	fail stream8-without-headers "$(ls "$WORK/s8")"

# --- errors ---------------------------------------------------------------------
expect_status missing-build-exit-3 3 "$REPACK" centos 3.10.0-1062.el7 "${mirror[@]}" -o "oci:$images"
expect_stderr missing-build-nearest 'no kernel 3\.10\.0-1062\.el7 in releases 7\.9\.2009, .*nearest: 3\.10\.0-1160\.2\.1\.el7, 3\.10\.0-1160\.el7'
expect_status unknown-release-usage 2 "$REPACK" centos latest --release 6 "${mirror[@]}"
expect_stderr unknown-release-message "unknown release '6'"
expect_status unknown-series-exit-3 3 "$REPACK" centos 2.6.32 "${mirror[@]}"

# --- signatures -----------------------------------------------------------------
expect_status signed-baseos-unsigned-appstream 1 "$REPACK" centos 5.14.0-427.el9 "${mirror[@]}" \
	--keyring "$key/keyring.gpg" --require-signatures -o "dir:$WORK/signed"
expect_stderr appstream-not-signed '9-stream/AppStream/x86_64/os/repodata/repomd\.xml is not signed'
expect_status wrong-key-rejected 1 "$REPACK" centos 5.14.0-427.el9 "${mirror[@]}" \
	--keyring "$WORK/otherkey/keyring.gpg" -o "dir:$WORK/wrongkey"
[ ! -e "$WORK/wrongkey/kernel" ] && [ ! -e "$WORK/signed/kernel" ] && pass signature-failures-write-nothing ||
	fail signature-failures-write-nothing "output written"

# --- bad packages: exit 1, nothing added to the layout ---------------------------
tags_before=$(tags_of "$images")
blobs_before=$(ls "$images/blobs/sha256" | wc -l)

# expect_bad NAME VERSION PATTERN: building VERSION from the tree bad-NAME
# fails with exit 1 and PATTERN, and leaves the layout as it was.
expect_bad() {
	expect_status "bad-$1" 1 env XDG_CACHE_HOME="$WORK/cache-$1" "$REPACK" centos "$2" \
		--mirror "$url/bad-$1" --release 7.9.2009 -o "oci:$images"
	expect_stderr "bad-$1-message" "$3"
	[ "$(tags_of "$images")" = "$tags_before" ] && [ "$(ls "$images/blobs/sha256" | wc -l)" = "$blobs_before" ] &&
		pass "bad-$1-no-new-tag" || fail "bad-$1-no-new-tag" "$(tags_of "$images" | tr '\n' ' ')"
}

mkdir -p "$WORK/bad/trunc"
cp "$rpms/c7/kernel-3.10.0-1160.el7.x86_64.rpm" "$WORK/bad/trunc/"
truncate -s -1000 "$WORK/bad/trunc/kernel-3.10.0-1160.el7.x86_64.rpm"
make_rpm_repo "$root/bad-truncated/7.9.2009/os/x86_64" "$WORK/bad/trunc/kernel-3.10.0-1160.el7.x86_64.rpm" ||
	fail bad-truncated-fixture "createrepo_c failed"
# Where the cut falls decides who notices: the payload reader or the
# layout reading a file's data.
expect_bad truncated 3.10.0-1160.el7 'kernel-3\.10\.0-1160\.el7\.x86_64\.rpm: (corrupt or truncated payload|.* is truncated)'

# A kernel package whose payload contains no files must not become an image
# with an empty kernel.tar.
empty=$(_rpm_build "$WORK/bad/top" "$WORK/bad/empty" kernel 3.10.0 1160.99.1.el7 x86_64 xz \
	"$WORK/bad/empty-stage" 3.10.0-1160.99.1.el7.x86_64) &&
	make_rpm_repo "$root/bad-empty/7.9.2009/os/x86_64" "$empty" ||
	fail bad-empty-fixture "rpmbuild or createrepo_c failed"
expect_bad empty 3.10.0-1160.99.1.el7 'kernel-3\.10\.0-1160\.99\.1\.el7\.x86_64\.rpm: the payload holds no files'

corrupt_rpm_header "$WORK/bad/kernel-3.10.0-1160.el7.x86_64.rpm" "$rpms/c7/kernel-3.10.0-1160.el7.x86_64.rpm" &&
	make_rpm_repo "$root/bad-header/7.9.2009/os/x86_64" "$WORK/bad/kernel-3.10.0-1160.el7.x86_64.rpm" ||
	fail bad-header-fixture "could not build the repository"
expect_bad header 3.10.0-1160.el7 'kernel-3\.10\.0-1160\.el7\.x86_64\.rpm: corrupt RPM header'

# --- no release of the search on the mirror -------------------------------------
expect_status no-release-on-mirror 1 "$REPACK" centos 3.10.0 --mirror "$url/bad-empty" --arch arm64 -o "dir:$WORK/none"
expect_stderr no-release-message 'none of releases 7\.0\.1406 to 7\.9\.2009 is on the mirror'
