#!/bin/bash
# repack fedora against fixture repositories on 127.0.0.1. They cover zstd
# and xz payloads, gzip and zstd primary.xml, and kernel-modules-core present
# in one release and absent in another. Then the archive tree, Koji, signed
# repomd.xml, damaged and hostile packages, and last the real Debian kernel
# re-packed into Fedora-layout RPMs.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/rpm-fixture.sh"
. "$TESTS_DIR/lib/real-debian.sh"

for tool in rpmbuild createrepo_c gpg nginx skopeo umoci zstd; do
	need_command "$tool" "$tool" || command -v "/usr/sbin/$tool" >/dev/null ||
		{ skip fedora-fixture "$tool is not installed"; exit 0; }
done

key=$WORK/key
root=$WORK/srv
make_test_key "$key" >/dev/null && make_test_key "$WORK/otherkey" >/dev/null ||
	{ fail fixture-key "make_test_key failed"; exit 1; }

# --- fixture packages and repositories --------------------------------------
rpms=$WORK/rpms
make_kernel_rpms --payload xz "$rpms/f31-300" 5.3.7 300.fc31 >/dev/null &&
	make_kernel_rpms "$rpms/f31-301" 5.3.7 301.fc31 >/dev/null &&
	make_kernel_rpms "$rpms/f31-upd" 5.3.8 200.fc31 >/dev/null &&
	make_kernel_rpms --modules-core "$rpms/f38" 6.2.9 300.fc38 >/dev/null &&
	make_kernel_rpms --modules-core --no-devel "$rpms/f38-rc" 6.3.0 0.rc4.36.fc38 >/dev/null &&
	make_kernel_rpms --modules-core --no-devel --arch aarch64 "$rpms/f38-arm" 6.2.9 300.fc38 >/dev/null &&
	make_kernel_rpms --no-extra --no-devel "$rpms/f30" 5.0.9 301.fc30 >/dev/null &&
	make_kernel_rpms --no-devel "$rpms/koji" 5.3.6 300.fc31 >/dev/null ||
	{ fail fixture-rpms "make_kernel_rpms failed"; exit 1; }

main=$root/main/fedora
f31=$main/releases/31/Everything/x86_64/os
f31u=$main/updates/31/Everything/x86_64
f38=$main/releases/38/Everything/x86_64/os
make_rpm_repo --compress gz "$f31" "$rpms"/f31-300/*.rpm "$rpms"/f31-301/*.rpm &&
	make_rpm_repo --compress zstd --extra-entries "$f31u" "$rpms"/f31-upd/*.rpm &&
	make_rpm_repo --compress zstd "$f38" "$rpms"/f38/*.rpm "$rpms"/f38-rc/*.rpm &&
	make_rpm_repo --compress xz "$main/releases/38/Everything/aarch64/os" "$rpms"/f38-arm/*.rpm &&
	make_rpm_repo "$root/archive/fedora/releases/30/Everything/x86_64/os" "$rpms"/f30/*.rpm &&
	sign_repomd "$f31" "$key" && sign_repomd "$f31u" "$key" ||
	{ fail fixture-repos "make_rpm_repo failed"; exit 1; }
make_koji_tree "$root/koji" kernel 5.3.6 300.fc31 x86_64 "$rpms"/koji/*.rpm &&
	mkdir -p "$root/koji/kernel/5.3.6/400.fc30" &&
	_koji_index_page "$root/koji/kernel/5.3.6" /packages/kernel/5.3.6 ||
	{ fail fixture-koji "make_koji_tree failed"; exit 1; }

url=$(serve_dir "$root") || { fail fixture-server "nginx did not start"; exit 1; }
access_log=$(ls "$WORK"/nginx.*/access.log)
export XDG_CACHE_HOME=$WORK/cache

# A data directory whose trees are the fixture server, for the archive
# fallback and Koji, which --mirror does not reach.
data=$WORK/data
mkdir -p "$data" && cp "$TOP_DIR"/data/* "$data"/
sed -i -e "s|^mirror .*|mirror $url/main/fedora|" \
	-e "s|^archive-mirror .*|archive-mirror $url/archive/fedora|" \
	-e "s|^koji .*|koji $url/koji|" "$data/fedora.conf"
# Release 38 counts as maintained there, beside the real table's newest.
sed -i -e 's|^38 .*|38  6.2  main|' "$data/fedora.releases"

mirror=(--mirror "$url/main/fedora")
fedora() { "$REPACK" fedora "$@"; }

# tags_of LAYOUT: print the tags of an OCI layout, sorted, one a line.
tags_of() {
	python3 - "$1/index.json" <<'EOF' 2>/dev/null
import json, sys
index = json.load(open(sys.argv[1]))
for m in index.get("manifests", []):
    print(m.get("annotations", {}).get("org.opencontainers.image.ref.name", ""))
EOF
}

# unpack_image LAYOUT TAG DIR: unpack the image's layer into DIR/rootfs and
# its kernel.tar into DIR/mods.
unpack_image() {
	rm -rf "$3"
	umoci unpack --image "$1:$2" "$3" >/dev/null 2>"$WORK/umoci.err" || return 1
	mkdir -p "$3/mods" && tar -xf "$3/rootfs/kernel.tar" -C "$3/mods"
}

# --- the newest build of an upstream version -------------------------------
images=$WORK/images
expect_status upstream-version-build 0 fedora 5.3.7 "${mirror[@]}" --keyring "$key/keyring.gpg" -o "oci:$images"
grep -q '^linuxkit/kernel-fedora:5.3.7-301.fc31 sha256:[0-9a-f]\{64\}$' "$WORK/last.out" &&
	pass upstream-picks-newest-build || fail upstream-picks-newest-build "$(cat "$WORK/last.out")"
digest1=$(awk '{print $2}' "$WORK/last.out")
# Release 31 is the newest release whose first kernel (5.3) is not newer
# than 5.3.7, so no newer release was asked for.
grep -q '/releases/3[2-9]/\|/releases/4[0-9]/' "$access_log" &&
	fail search-skips-newer-releases "$(grep -o '/releases/[0-9]*/' "$access_log" | sort -u | tr '\n' ' ')" ||
	pass search-skips-newer-releases

if skopeo inspect "oci:$images:5.3.7-301.fc31" >"$WORK/inspect.json" 2>"$WORK/skopeo.err"; then
	pass skopeo-reads-image
else
	fail skopeo-reads-image "$(cat "$WORK/skopeo.err")"
fi
python3 - "$WORK/inspect.json" <<'EOF' && pass image-labels || fail image-labels "$(head -c 800 "$WORK/inspect.json")"
import json, sys
d = json.load(open(sys.argv[1]))
labels = d["Labels"]
assert d["Architecture"] == "amd64", d
assert d["Os"] == "linux", d
assert labels["org.opencontainers.image.version"] == "5.3.7-301.fc31", labels
assert labels["org.linuxkit.repack.kernel-release"] == "5.3.7-301.fc31.x86_64", labels
assert labels["org.linuxkit.repack.distro"] == "fedora", labels
assert labels["org.linuxkit.repack.release"] == "31", labels
assert "kernel-core-5.3.7-301.fc31.x86_64.rpm" in json.dumps(labels), labels
assert "/releases/31/Everything/x86_64/os" in labels["org.opencontainers.image.source"], labels
EOF

kver=5.3.7-301.fc31.x86_64
if unpack_image "$images" 5.3.7-301.fc31 "$WORK/b1"; then pass umoci-unpacks; else fail umoci-unpacks "$(cat "$WORK/umoci.err")"; fi
files=$(cd "$WORK/b1/rootfs" 2>/dev/null && ls | tr '\n' ' ')
[ "$files" = "System.map kernel kernel-dev.tar kernel.tar kernel_config " ] &&
	pass layer-file-set || fail layer-file-set "layer holds: $files"
test "$(dd if="$WORK/b1/rootfs/kernel" bs=1 skip=514 count=4 2>/dev/null)" = HdrS &&
	pass kernel-from-lib-modules || fail kernel-from-lib-modules "kernel is not the bzImage"
grep -q '^CONFIG_VIRTIO_NET=m' "$WORK/b1/rootfs/kernel_config" && pass config-from-lib-modules ||
	fail config-from-lib-modules "kernel_config lacks CONFIG_VIRTIO_NET"
[ "$(wc -l <"$WORK/b1/rootfs/System.map")" = 2000 ] && pass system-map-kept || fail system-map-kept "System.map differs"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/b1/mods" -S "$kver" virtio_net >"$WORK/modprobe.out" 2>&1 &&
	grep -q 'kernel/net/core/failover.ko.xz' "$WORK/modprobe.out" &&
	grep -q 'kernel/drivers/net/net_failover.ko.xz' "$WORK/modprobe.out"; then
	pass modprobe-resolves-modules
else
	fail modprobe-resolves-modules "$(cat "$WORK/modprobe.out")"
fi
test -f "$WORK/b1/mods/lib/modules/$kver/kernel/drivers/block/virtio_blk.ko.xz" &&
	pass extra-modules-included || fail extra-modules-included "no virtio_blk from kernel-modules-extra"
tar -tf "$WORK/b1/rootfs/kernel.tar" | grep -Eq "/(vmlinuz|config|System.map|build)$" &&
	fail kernel-tar-without-boot-files "$(tar -tf "$WORK/b1/rootfs/kernel.tar" | grep -E '/(vmlinuz|config|build)$')" ||
	pass kernel-tar-without-boot-files
tar -tf "$WORK/b1/rootfs/kernel-dev.tar" | grep -qx "usr/src/kernels/$kver/Makefile" &&
	pass headers-from-kernel-devel || fail headers-from-kernel-devel "$(tar -tf "$WORK/b1/rootfs/kernel-dev.tar" | head)"

# --- an exact build; an xz payload -----------------------------------------
expect_status exact-build-xz-payload 0 fedora 5.3.7-300.fc31 "${mirror[@]}" -o "oci:$images"
grep -q ':5.3.7-300.fc31 ' "$WORK/last.out" && pass exact-build-tag || fail exact-build-tag "$(cat "$WORK/last.out")"

# --- updates: zstd primary.xml, primary_zck listed first --------------------
expect_status updates-zstd-primary 0 fedora 5.3.8 "${mirror[@]}" -o "oci:$images"
grep -q ':5.3.8-200.fc31 ' "$WORK/last.out" && pass updates-build-tag || fail updates-build-tag "$(cat "$WORK/last.out")"
grep -Eq 'primary\.xml\.zck|sqlite' "$access_log" && fail only-primary-read "$(grep -E 'zck|sqlite' "$access_log" | head -3)" ||
	pass only-primary-read

# --- kernel-modules-core, an rc build, the rpm ordering of 0.rcN -----------
expect_status latest-release-38 0 fedora latest --release 38 "${mirror[@]}" -o "oci:$images"
grep -q ':6.3.0-0.rc4.36.fc38 ' "$WORK/last.out" && pass latest-is-rc-build || fail latest-is-rc-build "$(cat "$WORK/last.out")"
expect_stderr no-devel-warns 'no kernel-devel 6.3.0-0.rc4.36.fc38'
expect_status rc-request 0 fedora 6.3-rc4 --release 38 "${mirror[@]}" -o "oci:$images"
grep -q ':6.3.0-0.rc4.36.fc38 ' "$WORK/last.out" && pass rc-request-tag || fail rc-request-tag "$(cat "$WORK/last.out")"
expect_status release-from-fc-suffix 0 fedora 6.2.9-300.fc38 "${mirror[@]}" --no-extra-modules -o "oci:$images"
if unpack_image "$images" 6.2.9-300.fc38 "$WORK/b38"; then
	k38=6.2.9-300.fc38.x86_64
	test -f "$WORK/b38/mods/lib/modules/$k38/kernel/net/core/failover.ko.xz" &&
		grep -q 'failover.ko.xz' "$WORK/b38/mods/lib/modules/$k38/modules.dep" &&
		pass modules-core-included || fail modules-core-included "no failover.ko.xz from kernel-modules-core"
	test ! -e "$WORK/b38/mods/lib/modules/$k38/kernel/drivers/block/virtio_blk.ko.xz" &&
		pass no-extra-modules-option || fail no-extra-modules-option "virtio_blk present"
else
	fail modules-core-included "$(cat "$WORK/umoci.err")"
fi
expect_status no-headers-option 0 fedora 6.2.9 --release 38 --no-headers "${mirror[@]}" -o "dir:$WORK/noheaders"
[ -s "$WORK/noheaders/kernel.tar" ] && [ ! -e "$WORK/noheaders/kernel-dev.tar" ] &&
	pass no-headers-no-dev-tar || fail no-headers-no-dev-tar "$(ls "$WORK/noheaders")"

# --- arm64: aarch64 in paths, arm64 in the image ----------------------------
expect_status arm64-build 0 fedora 6.2.9 --release 38 --arch arm64 "${mirror[@]}" -o "oci:$WORK/arm-images"
grep -q ':6.2.9-300.fc38 ' "$WORK/last.out" && grep -q '/releases/38/Everything/aarch64/os/Packages' "$access_log" &&
	pass arm64-uses-aarch64-tree || fail arm64-uses-aarch64-tree "$(cat "$WORK/last.out")"
skopeo inspect "oci:$WORK/arm-images:6.2.9-300.fc38-arm64" 2>/dev/null | grep -q '"Architecture": "arm64"' &&
	pass arm64-image-arch || fail arm64-image-arch "no arm64 image"

# --- list --------------------------------------------------------------------
expect_status list-release-31 0 "$REPACK" list fedora --release 31 "${mirror[@]}" --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [k["version"] for k in d]==["5.3.8-200.fc31","5.3.7-301.fc31","5.3.7-300.fc31"], d; assert d[0]["kernel_release"]=="5.3.8-200.fc31.x86_64", d' \
	"$WORK/last.out" && pass list-newest-first || fail list-newest-first "$(cat "$WORK/last.out")"

# --- reproducible, and the cache avoids downloads ---------------------------
expect_status rebuild-fresh-cache 0 env XDG_CACHE_HOME="$WORK/cache2" "$REPACK" fedora 5.3.7 "${mirror[@]}" \
	-o "oci:$WORK/images2"
digest2=$(awk '{print $2}' "$WORK/last.out")
[ -n "$digest1" ] && [ "$digest1" = "$digest2" ] && pass reproducible-digest || fail reproducible-digest "$digest1 != $digest2"
before=$(grep -c '\.rpm HTTP' "$access_log")
expect_status build-from-cache 0 fedora 5.3.7 "${mirror[@]}" -o "oci:$WORK/images3"
after=$(grep -c '\.rpm HTTP' "$access_log")
[ "$before" = "$after" ] && pass cache-avoids-downloads || fail cache-avoids-downloads "$before -> $after .rpm requests"

# --- errors --------------------------------------------------------------------
expect_status missing-version-exit-3 3 fedora 5.3.9 "${mirror[@]}" -o "oci:$images"
expect_stderr missing-version-nearest 'no kernel 5\.3\.9 in releases 31, 30.*nearest: .*5\.3\.8-200\.fc31'
expect_stderr missing-version-mentions-koji '--koji'
expect_status unknown-release-usage 2 fedora latest --release rawhide "${mirror[@]}"
expect_status unknown-arch-usage 2 fedora latest --arch riscv64 "${mirror[@]}"
expect_status missing-release-tree 1 fedora latest --release 39 "${mirror[@]}"
expect_stderr missing-release-message 'release 39 for x86_64 is not on'

# --- signatures on repomd.xml ---------------------------------------------------
expect_status signed-require-ok 0 fedora 5.3.7-301.fc31 "${mirror[@]}" --keyring "$key/keyring.gpg" \
	--require-signatures -o "dir:$WORK/signed"
expect_status wrong-key-rejected 1 fedora 5.3.7-301.fc31 "${mirror[@]}" --keyring "$WORK/otherkey/keyring.gpg" \
	-o "dir:$WORK/wrongkey"
expect_stderr wrong-key-message 'repomd\.xml\.asc'
[ ! -e "$WORK/wrongkey/kernel" ] && pass wrong-key-writes-nothing || fail wrong-key-writes-nothing "output written"
expect_status unsigned-required 1 fedora 6.2.9 --release 38 "${mirror[@]}" --keyring "$key/keyring.gpg" \
	--require-signatures -o "dir:$WORK/unsigned"
expect_stderr unsigned-required-message 'not signed.*require-signatures'
expect_status signed-without-keyring-required 1 fedora 5.3.7 "${mirror[@]}" --require-signatures -o "dir:$WORK/nokey"
expect_stderr signed-without-keyring-message 'no fedora keyring'

# --- the archive tree, both ways round ------------------------------------------
expect_status archive-fallback 0 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.0.9 -o "oci:$images"
grep -q ':5.0.9-301.fc30 ' "$WORK/last.out" && pass archive-release-found || fail archive-release-found "$(cat "$WORK/last.out")"
expect_status archive-then-main 0 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.3.7 --release 31 -o "dir:$WORK/archive-main"
grep -q 'GET /archive/fedora/releases/31/.* 404' "$access_log" && pass archive-tried-first ||
	fail archive-tried-first "no request to the archive for release 31"

# --- without --release: the maintained releases the mirror has -------------------
expect_status latest-maintained 0 env REPACK_DATA_DIR="$data" "$REPACK" fedora latest -o "dir:$WORK/latest"
grep -q ':6.3.0-0.rc4.36.fc38 ' "$WORK/last.out" && pass latest-skips-missing-releases ||
	fail latest-skips-missing-releases "$(cat "$WORK/last.out")"
expect_stderr latest-warns-missing 'release 4[23] for x86_64 is not on'
expect_status list-maintained 0 env REPACK_DATA_DIR="$data" "$REPACK" list fedora --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [k["version"] for k in d]==["6.3.0-0.rc4.36.fc38","6.2.9-300.fc38"], d' \
	"$WORK/last.out" && pass list-maintained-releases || fail list-maintained-releases "$(cat "$WORK/last.out")"
expect_status latest-none-maintained 1 fedora latest "${mirror[@]}" -o "dir:$WORK/none"
expect_stderr latest-none-message 'none of releases 42 to 43 is on'

# --- Koji ------------------------------------------------------------------------
expect_status koji-needs-option 3 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.3.6-300.fc31 -o "oci:$images"
expect_status koji-build 0 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.3.6-300.fc31 --koji -o "oci:$images"
grep -q ':5.3.6-300.fc31 ' "$WORK/last.out" && pass koji-build-tag || fail koji-build-tag "$(cat "$WORK/last.out")"
skopeo inspect "oci:$images:5.3.6-300.fc31" 2>/dev/null | grep -q '/koji/kernel/5.3.6/300.fc31/x86_64' &&
	pass koji-source-label || fail koji-source-label "source label does not name Koji"
before=$(grep -c 'GET /koji/.*\.rpm HTTP' "$access_log")
expect_status koji-newest-release 0 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.3.6 --release 31 --koji \
	-o "dir:$WORK/koji2"
grep -q ':5.3.6-300.fc31 ' "$WORK/last.out" && pass koji-release-suffix || fail koji-release-suffix "$(cat "$WORK/last.out")"
after=$(grep -c 'GET /koji/.*\.rpm HTTP' "$access_log")
[ "$before" = "$after" ] && pass koji-cache-reused || fail koji-cache-reused "$before -> $after Koji downloads"
expect_status koji-missing-build 3 env REPACK_DATA_DIR="$data" "$REPACK" fedora 5.3.5-100.fc31 --koji -o "oci:$images"

# --- bad input: each fails with exit 1 and adds nothing to the layout ------------
bad_images=$WORK/bad-images
expect_status bad-layout-seed 0 fedora 5.3.7-300.fc31 "${mirror[@]}" -o "oci:$bad_images"
tags_before=$(tags_of "$bad_images")
blobs_before=$(ls "$bad_images/blobs/sha256" | wc -l)

# bad_repo NAME RPM...: a release 31 tree of its own under $root/bad-NAME.
bad_repo() {
	local name=$1
	shift
	make_rpm_repo "$root/bad-$name/fedora/releases/31/Everything/x86_64/os" "$@"
}

# expect_bad NAME PATTERN: building 5.3.7 from bad-NAME fails with exit 1, a
# message matching PATTERN, and no change to the layout.
expect_bad() {
	local name=$1 pattern=$2
	expect_status "bad-$name" 1 env XDG_CACHE_HOME="$WORK/cache-$name" "$REPACK" fedora 5.3.7 \
		--mirror "$url/bad-$name/fedora" -o "oci:$bad_images"
	expect_stderr "bad-$name-message" "$pattern"
	[ "$(tags_of "$bad_images")" = "$tags_before" ] &&
		[ "$(ls "$bad_images/blobs/sha256" | wc -l)" = "$blobs_before" ] &&
		pass "bad-$name-no-new-tag" || fail "bad-$name-no-new-tag" "$(tags_of "$bad_images" | tr '\n' ' ')"
}

good=("$rpms"/f31-301/kernel-{,modules-,modules-extra-,devel-}5.3.7-301.fc31.x86_64.rpm)
core=$rpms/f31-301/kernel-core-5.3.7-301.fc31.x86_64.rpm

mkdir -p "$WORK/bad"
corrupt_rpm_header "$WORK/bad/kernel-core-5.3.7-301.fc31.x86_64.rpm" "$core" &&
	bad_repo corrupt-header "${good[@]}" "$WORK/bad/kernel-core-5.3.7-301.fc31.x86_64.rpm" ||
	fail bad-corrupt-header-fixture "could not build the repository"
expect_bad corrupt-header 'kernel-core-5\.3\.7-301\.fc31\.x86_64\.rpm: corrupt RPM header'

mkdir -p "$WORK/bad/trunc"
cp "$rpms/f31-301/kernel-modules-5.3.7-301.fc31.x86_64.rpm" "$WORK/bad/trunc/"
truncate -s -400 "$WORK/bad/trunc/kernel-modules-5.3.7-301.fc31.x86_64.rpm"
bad_repo truncated "$core" "$WORK/bad/trunc/kernel-modules-5.3.7-301.fc31.x86_64.rpm" ||
	fail bad-truncated-fixture "could not build the repository"
expect_bad truncated 'kernel-modules-5\.3\.7-301\.fc31\.x86_64\.rpm: corrupt or truncated payload'

bad_repo checksum "$core" "${good[@]}" &&
	cp "$rpms/f31-300/kernel-core-5.3.7-300.fc31.x86_64.rpm" \
		"$root/bad-checksum/fedora/releases/31/Everything/x86_64/os/Packages/k/kernel-core-5.3.7-301.fc31.x86_64.rpm" ||
	fail bad-checksum-fixture "could not build the repository"
expect_bad checksum 'kernel-core-5\.3\.7-301\.fc31\.x86_64\.rpm.*(sha256|size)'
find "$WORK/cache-checksum" -type f -path '*/sha256/*' 2>/dev/null |
	xargs -r sha256sum | awk '{print $1}' | grep -qx "$(sha256sum "$rpms/f31-300/kernel-core-5.3.7-300.fc31.x86_64.rpm" | cut -c1-64)" &&
	fail bad-checksum-not-cached "the mismatching package is in the cache" || pass bad-checksum-not-cached

printf 'this is not a primary.xml\n<<<\n' >"$WORK/bad/not-xml"
bad_repo not-xml "$core" && repomd_replace_primary "$root/bad-not-xml/fedora/releases/31/Everything/x86_64/os" "$WORK/bad/not-xml" ||
	fail bad-not-xml-fixture "could not build the repository"
expect_bad not-xml 'primary\.xml\.gz: not a valid primary\.xml'

bad_repo open-checksum "$core" &&
	_repomd_edit "$root/bad-open-checksum/fedora/releases/31/Everything/x86_64/os" \
		'entry("primary").find("r:open-checksum", ns).text = "0" * 64' ||
	fail bad-open-checksum-fixture "could not build the repository"
expect_bad open-checksum 'does not match the open-checksum'

bad_repo missing-primary "$core" &&
	rm "$root"/bad-missing-primary/fedora/releases/31/Everything/x86_64/os/repodata/*-primary.xml.gz ||
	fail bad-missing-primary-fixture "could not build the repository"
expect_bad missing-primary 'repomd\.xml lists a primary file the server does not have'

make_kernel_rpms --payload xz --no-devel --no-extra --extra-file zz/escape "$WORK/bad/escape-src" 5.3.7 301.fc31 >/dev/null &&
	make_hostile_rpm "$WORK/bad/kernel-core-5.3.7-301.fc31.x86_64.rpm.hostile" \
		"$WORK/bad/escape-src/kernel-core-5.3.7-301.fc31.x86_64.rpm" &&
	mkdir -p "$WORK/bad/hostile" &&
	mv "$WORK/bad/kernel-core-5.3.7-301.fc31.x86_64.rpm.hostile" "$WORK/bad/hostile/kernel-core-5.3.7-301.fc31.x86_64.rpm" &&
	rpm -qpl "$WORK/bad/hostile/kernel-core-5.3.7-301.fc31.x86_64.rpm" 2>/dev/null | grep -q '/zz/escape$' &&
	bad_repo hostile "$WORK/bad/hostile/kernel-core-5.3.7-301.fc31.x86_64.rpm" \
		"$WORK/bad/escape-src/kernel-modules-5.3.7-301.fc31.x86_64.rpm" ||
	fail bad-hostile-fixture "could not build the hostile package"
expect_bad hostile "kernel-core-5\.3\.7-301\.fc31\.x86_64\.rpm: unsafe entry '\./lib/modules/5\.3\.7-301\.fc31\.x86_64/\.\./escape'"
find "$WORK" -name escape | grep -q . &&
	fail bad-hostile-nothing-escaped "$(find "$WORK" -name escape)" || pass bad-hostile-nothing-escaped

# --- end to end: the real Debian kernel in Fedora-layout RPMs ---------------------
if ! command -v apt-get >/dev/null || ! real_debian_kernel "$TEST_CACHE" >"$WORK/real.out" 2>"$WORK/real.err"; then
	skip real-kernel-fedora-layout "the Debian cloud kernel could not be fetched: $(tail -n 1 "$WORK/real.err")"
	exit 0
fi
read -r real_abi real_version <"$WORK/real.out"
real_kver=$real_abi-$REAL_DEBIAN_FLAVOUR
real_deb=linux-image-${real_kver}_${real_version}_amd64.deb
upstream=${real_version%%-*}
rel=${real_version#*-}.fc41
stage=$WORK/real
rm -rf "$stage" && mkdir -p "$stage/deb"
# Work on a checked copy: other test runs may refresh the shared cache.
cp "$TEST_CACHE/debian-bookworm/$real_version/$real_deb" "$stage/" &&
	grep " $real_deb\$" "$TEST_CACHE/debian-bookworm/$real_version/SHA256SUMS" |
	(cd "$stage" && sha256sum --quiet -c -) &&
	dpkg-deb -x "$stage/$real_deb" "$stage/deb" ||
	{ fail real-kernel-rpms-built "cannot copy and unpack $real_deb"; exit 0; }
# kernel-core: the kernel, its config and the net/ modules in
# lib/modules/<kver>/; kernel-modules: everything else.
core_dir=$stage/core/lib/modules/$real_kver
mods_dir=$stage/modules/lib/modules/$real_kver
mkdir -p "$core_dir/kernel" "$mods_dir"
cp "$stage/deb/boot/vmlinuz-$real_kver" "$stage/vmlinuz.debian"
cp "$stage/deb/boot/vmlinuz-$real_kver" "$core_dir/vmlinuz"
cp "$stage/deb/boot/config-$real_kver" "$core_dir/config"
mv "$stage/deb/lib/modules/$real_kver/kernel/net" "$core_dir/kernel/"
mv "$stage/deb/lib/modules/$real_kver"/modules.* "$core_dir/"
mv "$stage/deb/lib/modules/$real_kver/kernel" "$mods_dir/"
if _rpm_build "$stage/top" "$stage/rpms" kernel-core "$upstream" "$rel" x86_64 zstd "$stage/core" "$real_kver" >/dev/null &&
	_rpm_build "$stage/top" "$stage/rpms" kernel-modules "$upstream" "$rel" x86_64 zstd "$stage/modules" "$real_kver" >/dev/null &&
	make_rpm_repo --compress zstd "$root/real/fedora/releases/41/Everything/x86_64/os" "$stage"/rpms/*.rpm; then
	pass real-kernel-rpms-built
else
	fail real-kernel-rpms-built "rpmbuild or createrepo_c failed"
	exit 0
fi
rm -rf "$stage/deb" "$stage/core" "$stage/modules"
expect_status real-kernel-build 0 fedora "$upstream-$rel" --mirror "$url/real/fedora" -o "oci:$WORK/real-images"
# The packages carry no kernel-uname-r provide (rpm rejects the Debian
# name), so the kernel release comes from the modules directory.
skopeo inspect "oci:$WORK/real-images:$upstream-$rel" 2>/dev/null |
	grep -q "\"org.linuxkit.repack.kernel-release\": \"$real_kver\"" &&
	pass real-kernel-release-label || fail real-kernel-release-label "label is not $real_kver"
if unpack_image "$WORK/real-images" "$upstream-$rel" "$WORK/breal"; then
	pass real-kernel-unpacks
else
	fail real-kernel-unpacks "$(cat "$WORK/umoci.err")"
fi
cmp -s "$stage/vmlinuz.debian" "$WORK/breal/rootfs/kernel" &&
	pass real-kernel-binary-intact || fail real-kernel-binary-intact "kernel differs from the Debian vmlinuz"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/breal/mods" -S "$real_kver" virtio_net \
	>"$WORK/real-modprobe.out" 2>&1 &&
	grep -q 'kernel/net/core/failover.ko' "$WORK/real-modprobe.out" &&
	grep -q 'kernel/drivers/net/net_failover.ko' "$WORK/real-modprobe.out" &&
	grep -q 'kernel/drivers/net/virtio_net.ko' "$WORK/real-modprobe.out"; then
	pass real-kernel-modprobe-resolves
else
	fail real-kernel-modprobe-resolves "$(head -c 600 "$WORK/real-modprobe.out")"
fi
