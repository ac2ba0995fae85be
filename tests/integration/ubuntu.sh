#!/bin/bash
# repack ubuntu against signed fixture archives on 127.0.0.1: the archive
# and the ports archive chosen by architecture, the package set of each
# era (linux-modules and linux-modules-extra, the HWE headers, the
# pre-4.15 linux-image-extra), flavours, version requests, signatures and
# bad input.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/ubuntu-fixture.sh"

for tool in dpkg-deb apt-ftparchive gpg zstd gcc python3; do
	need_command "$tool" "$tool" || { skip ubuntu-fixture "$tool is not installed"; exit 0; }
done
[ -x /usr/sbin/nginx ] || need_command nginx nginx-light || { skip ubuntu-fixture "nginx is not installed"; exit 0; }

key=$WORK/key
debs=$WORK/debs
archive=$WORK/archive
make_test_key "$key" >/dev/null && make_test_key "$WORK/other-key" >/dev/null ||
	{ fail fixture-key "make_test_key failed"; exit 1; }

# --- fixture: jammy (zstd members), focal with an HWE kernel, xenial before
# 4.15, and the ports archive for arm64 -----------------------------------
{
	make_ubuntu_kernel_debs "$debs/jammy-91" 5.15.0-91 generic 5.15.0-91.101 zstd &&
		make_ubuntu_kernel_debs --image unsigned --no-extra --source linux-lowlatency \
			"$debs/jammy-91-lowlatency" 5.15.0-91 lowlatency 5.15.0-91.101 zstd &&
		make_ubuntu_kernel_debs --image unsigned --no-extra --no-headers \
			"$debs/jammy-88" 5.15.0-88 generic 5.15.0-88.98 zstd &&
		make_ubuntu_kernel_debs --image signed --no-extra --no-headers \
			"$debs/jammy-25" 5.15.0-25 generic 5.15.0-25.25 zstd &&
		make_ubuntu_kernel_debs --image signed --no-extra --no-headers \
			"$debs/jammy-92" 5.15.0-92 generic 5.15.0-92.102 zstd &&
		make_ubuntu_kernel_debs --source linux-hwe-5.15 --module-compress zstd \
			"$debs/focal-hwe" 5.15.0-91 generic 5.15.0-91.101~20.04.1 xz &&
		make_ubuntu_kernel_debs --image legacy "$debs/xenial" 4.4.0-210 generic 4.4.0-210.242 xz &&
		make_ubuntu_kernel_debs --arch arm64 "$debs/ports" 5.15.0-91 generic 5.15.0-91.101 zstd
} >/dev/null || { fail fixture-debs "make_ubuntu_kernel_debs failed"; exit 1; }
# 5.15.0-92's image depends on a linux-modules package the archive lacks.
rm -f "$debs"/jammy-92/linux-modules-*

{
	make_ubuntu_suite "$archive/ubuntu" "$key" jammy "$debs"/jammy-25/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" jammy-updates "$debs"/jammy-91/*.deb \
			"$debs"/jammy-91-lowlatency/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" jammy-security "$debs"/jammy-88/*.deb \
			"$debs"/jammy-91/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" jammy-backports "$debs"/jammy-92/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" focal &&
		make_ubuntu_suite "$archive/ubuntu" "$key" focal-updates "$debs"/focal-hwe/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" xenial &&
		make_ubuntu_suite "$archive/ubuntu" "$key" xenial-updates "$debs"/xenial/*.deb &&
		make_ubuntu_suite "$archive/ubuntu" "$key" xenial-security &&
		make_ubuntu_suite --arch arm64 "$archive/ubuntu-ports" "$key" jammy &&
		make_ubuntu_suite --arch arm64 "$archive/ubuntu-ports" "$key" jammy-updates "$debs"/ports/*.deb &&
		make_ubuntu_suite --arch arm64 "$archive/ubuntu-ports" "$key" jammy-security
} >/dev/null || { fail fixture-archive "make_ubuntu_suite failed"; exit 1; }
# A second path to the same archive, to check that --mirror replaces the base.
ln -s ubuntu "$archive/mirror2"
# serve_dir runs in this shell, not in $(...), so that its at_exit hook
# stops nginx when the script ends.
serve_dir "$archive" >"$WORK/url" || { fail fixture-server "nginx did not start"; exit 1; }
url=$(cat "$WORK/url")

# data/ with the fixture archives as the defaults and the test key as the
# installed Ubuntu keyring.
data=$WORK/data
cp -r "$TOP_DIR/data" "$data"
sed -i -e "s|^mirror-amd64 .*|mirror-amd64 $url/ubuntu|" -e "s|^mirror-arm64 .*|mirror-arm64 $url/ubuntu-ports|" \
	-e "s|^keyring .*|keyring $key/keyring.gpg|" "$data/ubuntu.conf"
export REPACK_DATA_DIR=$data XDG_CACHE_HOME=$WORK/cache

ar t "$debs/jammy-91/linux-modules-5.15.0-91-generic_5.15.0-91.101_amd64.deb" | grep -qx data.tar.zst &&
	pass fixture-zstd-members || fail fixture-zstd-members "jammy debs lack data.tar.zst"

# labels DIR: print the image config labels of a dir: output as KEY=VALUE
# lines, the packages label as one "package=NAME" line per input.
labels() {
	python3 - "$1/image-config.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
labels = config["config"]["Labels"]
print("architecture=" + config["architecture"])
for key, value in sorted(labels.items()):
    key = key.replace("org.linuxkit.repack.", "").replace("org.opencontainers.image.", "")
    if key == "packages":
        for item in json.loads(value):
            print("package=" + item["name"])
    else:
        print(key + "=" + value)
EOF
}

# has_lines FILE LINE...: every LINE occurs as a whole line in FILE.
has_lines() {
	local file=$1 line
	shift
	for line in "$@"; do
		grep -qxF -- "$line" "$file" || { echo "missing: $line" >&2; return 1; }
	done
}

# modules_of DIR: list kernel.tar of a dir: output.
modules_of() {
	tar -tf "$1/kernel.tar"
}

# --- list -----------------------------------------------------------------
expect_status list-jammy 0 "$REPACK" list ubuntu --release jammy --json
python3 - "$WORK/last.out" <<'EOF' && pass list-newest-first || fail list-newest-first "$(cat "$WORK/last.out")"
import json, sys
d = json.load(open(sys.argv[1]))
got = [(k["version"], k["tag"], k["kernel_release"], k["release"]) for k in d]
assert ("5.15.0-91.101", "5.15.0-91.101", "5.15.0-91-generic", "jammy-updates") in got, got
assert [g[0] for g in got] == ["5.15.0-91.101", "5.15.0-88.98", "5.15.0-25.25"], got
assert got[1][3] == "jammy-security", got
assert got[2][3] == "jammy", got
assert all(k["arch"] == "amd64" and k["flavour"] == "generic" for k in d), d
EOF
expect_status list-release-number 0 "$REPACK" list ubuntu --release 16.04
grep -q '^4.4.0-210.242 .* xenial-updates$' "$WORK/last.out" && pass release-number-is-codename ||
	fail release-number-is-codename "$(cat "$WORK/last.out")"
expect_status list-lowlatency 0 "$REPACK" list ubuntu --release jammy --flavour lowlatency
grep -q '^5.15.0-91.101 *5.15.0-91.101-lowlatency *5.15.0-91-lowlatency ' "$WORK/last.out" &&
	pass list-flavour-tag || fail list-flavour-tag "$(cat "$WORK/last.out")"

# --- jammy: signed image, linux-modules, linux-modules-extra, headers ----
out=$WORK/out/jammy-91
expect_status build-jammy-abi 0 "$REPACK" ubuntu 5.15.0-91 --release jammy -o "dir:$out"
grep -q '^linuxkit/kernel-ubuntu:5.15.0-91.101 ' "$WORK/last.out" &&
	pass build-prints-tag || fail build-prints-tag "$(cat "$WORK/last.out")"
labels "$out" >"$WORK/labels" 2>&1
has_lines "$WORK/labels" architecture=amd64 version=5.15.0-91.101 kernel-release=5.15.0-91-generic \
	distro=ubuntu release=jammy-updates flavour=generic "source=$url/ubuntu" \
	package=linux-image-5.15.0-91-generic_5.15.0-91.101_amd64.deb \
	package=linux-modules-5.15.0-91-generic_5.15.0-91.101_amd64.deb \
	package=linux-modules-extra-5.15.0-91-generic_5.15.0-91.101_amd64.deb \
	package=linux-headers-5.15.0-91-generic_5.15.0-91.101_amd64.deb \
	package=linux-headers-5.15.0-91_5.15.0-91.101_all.deb &&
	[ "$(grep -c '^package=' "$WORK/labels")" = 5 ] &&
	pass jammy-package-set || fail jammy-package-set "$(cat "$WORK/labels")"
modules_of "$out" >"$WORK/kernel.list"
has_lines "$WORK/kernel.list" lib/modules/5.15.0-91-generic/kernel/net/core/failover.ko \
	lib/modules/5.15.0-91-generic/kernel/drivers/net/virtio_net.ko \
	lib/modules/5.15.0-91-generic/modules.dep &&
	pass modules-and-extra-merged || fail modules-and-extra-merged "$(cat "$WORK/kernel.list")"
mkdir -p "$WORK/mods" && tar -xf "$out/kernel.tar" -C "$WORK/mods"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/mods" -S 5.15.0-91-generic virtio_net \
	>"$WORK/modprobe.out" 2>&1 && grep -q 'kernel/net/core/failover.ko' "$WORK/modprobe.out"; then
	pass depends-across-packages
else
	fail depends-across-packages "$(cat "$WORK/modprobe.out")"
fi
dpkg-deb --fsys-tarfile "$debs/jammy-91/linux-image-5.15.0-91-generic_5.15.0-91.101_amd64.deb" |
	tar -xO ./boot/vmlinuz-5.15.0-91-generic >"$WORK/vmlinuz"
cmp -s "$WORK/vmlinuz" "$out/kernel" && pass kernel-from-signed-image || fail kernel-from-signed-image "kernel differs"
[ "$(stat -c %s "$out/System.map" 2>/dev/null || echo 0)" -gt 4096 ] &&
	grep -q 'fixture_symbol_399' "$out/System.map" &&
	pass system-map-from-modules || fail system-map-from-modules "no real System.map"
grep -q '^CONFIG_VIRTIO_NET=m' "$out/kernel_config" && pass config-from-modules || fail config-from-modules "no kernel_config"
tar -tf "$out/kernel-dev.tar" >"$WORK/dev.list"
has_lines "$WORK/dev.list" usr/src/linux-headers-5.15.0-91/Makefile \
	usr/src/linux-headers-5.15.0-91-generic/.config &&
	pass headers-common-followed || fail headers-common-followed "$(cat "$WORK/dev.list")"

expect_status build-full-version 0 "$REPACK" ubuntu 5.15.0-91.101 --release jammy -o "dir:$WORK/out/full"
cmp -s "$out/kernel.tar" "$WORK/out/full/kernel.tar" && pass full-version-same-kernel ||
	fail full-version-same-kernel "kernel.tar differs"
expect_status build-series 0 "$REPACK" ubuntu 5.15 --release jammy --no-headers -o "dir:$WORK/out/series"
grep -q ':5.15.0-91.101 ' "$WORK/last.out" && pass series-picks-newest || fail series-picks-newest "$(cat "$WORK/last.out")"

expect_status build-no-extra 0 "$REPACK" ubuntu latest --release jammy-updates --no-extra-modules \
	--no-headers -o "dir:$WORK/out/no-extra"
modules_of "$WORK/out/no-extra" >"$WORK/no-extra.list"
grep -q 'virtio_net' "$WORK/no-extra.list" && fail no-extra-drops-extra "virtio_net in kernel.tar" ||
	pass no-extra-drops-extra
grep -q 'kernel/net/core/failover.ko' "$WORK/no-extra.list" && pass no-extra-keeps-modules ||
	fail no-extra-keeps-modules "$(cat "$WORK/no-extra.list")"
[ ! -e "$WORK/out/no-extra/kernel-dev.tar" ] && pass no-headers-no-dev-tar || fail no-headers-no-dev-tar "kernel-dev.tar written"

# --- the unsigned image where no signed one exists ---------------------
expect_status build-unsigned 0 "$REPACK" ubuntu 5.15.0-88 --release jammy -o "dir:$WORK/out/unsigned"
labels "$WORK/out/unsigned" >"$WORK/labels"
has_lines "$WORK/labels" release=jammy-security \
	package=linux-image-unsigned-5.15.0-88-generic_5.15.0-88.98_amd64.deb \
	package=linux-modules-5.15.0-88-generic_5.15.0-88.98_amd64.deb &&
	pass unsigned-fallback || fail unsigned-fallback "$(cat "$WORK/labels")"
expect_stderr unsigned-warns-no-headers 'no linux-headers-5.15.0-88-generic'

# --- a flavour with its own source: linux-lowlatency-headers ------------
expect_status build-lowlatency 0 "$REPACK" ubuntu latest --release jammy --flavour lowlatency \
	-o "dir:$WORK/out/lowlatency"
grep -q '^linuxkit/kernel-ubuntu:5.15.0-91.101-lowlatency ' "$WORK/last.out" &&
	pass lowlatency-tag || fail lowlatency-tag "$(cat "$WORK/last.out")"
tar -tf "$WORK/out/lowlatency/kernel-dev.tar" | grep -q '^usr/src/linux-lowlatency-headers-5.15.0-91/Makefile' &&
	pass lowlatency-headers-source || fail lowlatency-headers-source "no linux-lowlatency-headers in kernel-dev.tar"

# --- focal: the HWE kernel, xz members, a missing -security suite -------
expect_status build-hwe 0 "$REPACK" ubuntu 5.15 --release focal -o "dir:$WORK/out/hwe"
grep -q '^linuxkit/kernel-ubuntu:5.15.0-91.101 ' "$WORK/last.out" && pass hwe-tag || fail hwe-tag "$(cat "$WORK/last.out")"
expect_stderr hwe-skips-missing-suite 'skipping suite focal-security'
labels "$WORK/out/hwe" >"$WORK/labels"
has_lines "$WORK/labels" version=5.15.0-91.101~20.04.1 release=focal-updates \
	package=linux-hwe-5.15-headers-5.15.0-91_5.15.0-91.101~20.04.1_all.deb &&
	pass hwe-headers || fail hwe-headers "$(cat "$WORK/labels")"
modules_of "$WORK/out/hwe" | grep -q 'kernel/drivers/net/virtio_net.ko.zst' &&
	pass hwe-zstd-modules-kept || fail hwe-zstd-modules-kept "no virtio_net.ko.zst"

# --- xenial: before 4.15, linux-image and linux-image-extra -------------
expect_status build-pre-4.15 0 "$REPACK" ubuntu 4.4.0-210.242 --release xenial -o "dir:$WORK/out/xenial"
labels "$WORK/out/xenial" >"$WORK/labels"
has_lines "$WORK/labels" package=linux-image-4.4.0-210-generic_4.4.0-210.242_amd64.deb \
	package=linux-image-extra-4.4.0-210-generic_4.4.0-210.242_amd64.deb \
	package=linux-headers-4.4.0-210_4.4.0-210.242_all.deb &&
	pass pre-4.15-package-set || fail pre-4.15-package-set "$(cat "$WORK/labels")"
modules_of "$WORK/out/xenial" >"$WORK/xenial.list"
has_lines "$WORK/xenial.list" lib/modules/4.4.0-210-generic/kernel/drivers/net/virtio_net.ko \
	lib/modules/4.4.0-210-generic/kernel/net/core/failover.ko &&
	pass pre-4.15-extra-modules || fail pre-4.15-extra-modules "$(cat "$WORK/xenial.list")"

# --- arm64 from the ports archive; --mirror replaces the archive --------
expect_status build-arm64-ports 0 "$REPACK" ubuntu latest --release jammy --arch aarch64 --no-headers \
	-o "dir:$WORK/out/arm64"
labels "$WORK/out/arm64" >"$WORK/labels"
has_lines "$WORK/labels" architecture=arm64 "source=$url/ubuntu-ports" &&
	pass arm64-uses-ports || fail arm64-uses-ports "$(cat "$WORK/labels")"
expect_status mirror-replaces-base 0 "$REPACK" list ubuntu --release jammy --mirror "$url/mirror2/" --json
grep -q '"5.15.0-91.101"' "$WORK/last.out" && grep -q "mirror2/dists/jammy/InRelease" "$WORK"/nginx.*/access.log &&
	pass mirror-option-used || fail mirror-option-used "no request under mirror2"

# --- errors ---------------------------------------------------------------
expect_status missing-version-exit-3 3 "$REPACK" ubuntu 5.15.0-99 --release jammy -o "dir:$WORK/out/missing"
expect_stderr missing-version-nearest 'no generic kernel 5.15.0-99 in jammy, jammy-updates, jammy-security; nearest: 5.15.0-91.101'
[ ! -e "$WORK/out/missing" ] && pass missing-writes-nothing || fail missing-writes-nothing "output written"
expect_status unknown-release-usage 2 "$REPACK" ubuntu latest --release jammmy
expect_stderr unknown-release-message "unknown release 'jammmy'"
expect_status invalid-flavour-usage 2 "$REPACK" ubuntu latest --release jammy --flavour 'Generic!'
expect_status absent-flavour-exit-3 3 "$REPACK" ubuntu latest --release jammy --flavour aws
expect_stderr absent-flavour-message 'no aws kernels at all'
expect_status missing-modules-dependency 3 "$REPACK" ubuntu 5.15.0-92 --release jammy-backports -o "dir:$WORK/out/92"
expect_stderr missing-modules-message 'depends on linux-modules-5.15.0-92-generic'

expect_status wrong-keyring 1 "$REPACK" ubuntu latest --release jammy --keyring "$WORK/other-key/keyring.gpg" \
	-o "dir:$WORK/out/wrong-key"
expect_stderr wrong-keyring-names-inrelease 'dists/jammy/InRelease'
[ ! -e "$WORK/out/wrong-key" ] && pass wrong-keyring-writes-nothing || fail wrong-keyring-writes-nothing "output written"

# No Ubuntu keyring installed: a warning, or an error with --require-signatures.
cp -r "$data" "$WORK/data-nokey"
sed -i "s|^keyring .*|keyring $WORK/no-such-keyring.gpg|" "$WORK/data-nokey/ubuntu.conf"
expect_status no-keyring-warns 0 env REPACK_DATA_DIR="$WORK/data-nokey" "$REPACK" list ubuntu --release jammy
expect_stderr no-keyring-warning 'no ubuntu archive keyring installed'
expect_status no-keyring-required 1 env REPACK_DATA_DIR="$WORK/data-nokey" "$REPACK" list ubuntu \
	--release jammy --require-signatures
expect_stderr no-keyring-required-message 'no ubuntu archive keyring found'

# An HTML page where a package should be: the download fails its check and
# nothing is cached or written.
cp -rL "$archive/ubuntu" "$archive/html"
modules_deb=$(find "$archive/html/pool" -name 'linux-modules-5.15.0-91-generic_5.15.0-91.101_amd64.deb')
printf '<!DOCTYPE html>\n<html><head><title>Mirror maintenance</title></head><body>Try again later.</body></html>\n' \
	>"$modules_deb"
expect_status html-instead-of-deb 1 env XDG_CACHE_HOME="$WORK/cache-html" "$REPACK" ubuntu 5.15.0-91 \
	--release jammy --mirror "$url/html" -o "dir:$WORK/out/html"
expect_stderr html-instead-of-deb-message 'linux-modules-5.15.0-91-generic_5.15.0-91.101_amd64.deb.*(size|sha256) mismatch|(size|sha256) mismatch.*linux-modules-5.15.0-91-generic'
[ ! -e "$WORK/out/html" ] && pass html-writes-nothing || fail html-writes-nothing "output written"
cached=$(find "$WORK/cache-html" -type f -name "$(sha256sum "$modules_deb" | cut -c1-64)*" | wc -l)
[ "$cached" = 0 ] && pass html-not-cached || fail html-not-cached "the HTML page was cached"
