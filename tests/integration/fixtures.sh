#!/bin/bash
# Checks that the Debian fixture builders in tests/lib produce what they
# promise, using the tools that read Debian archives: dpkg-deb, gpgv,
# depmod, modprobe and apt itself (on a private configuration that reads
# only the test mirrors through file: URIs). repack is not run here.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/real-debian.sh"

ABI=6.1.0-57
FLAVOUR=cloud-amd64
KVER=$ABI-$FLAVOUR
VERSION=6.1.192-3

# members DEB: print the ar member names of DEB on one line.
members() {
	ar t "$1" | tr '\n' ' ' | sed 's/ $//'
}

# listing DEB: print the data.tar paths of DEB, one a line, without "./".
listing() {
	dpkg-deb --fsys-tarfile "$1" | tar -t | sed 's|^\./||'
}

# has_lines FILE LINE...: every LINE occurs as a whole line in FILE, which
# may be a pipe and is read once.
has_lines() {
	local content line
	content=$(cat "$1")
	shift
	for line in "$@"; do
		grep -qxF -- "$line" <<<"$content" || { echo "missing line: $line" >&2; return 1; }
	done
}

# private_apt SOURCE_LINE...: write an apt configuration under $WORK/apt
# whose sources.list has the given "deb ..." lines, and run apt-get update.
# It fails when apt-get fails or prints a warning.
private_apt() {
	local apt=$WORK/apt
	rm -rf "$apt"
	mkdir -p "$apt/etc/apt.conf.d" "$apt/etc/preferences.d" "$apt/etc/sources.list.d" \
		"$apt/state/lists/partial" "$apt/cache/archives/partial"
	cat >"$apt/apt.conf" <<EOF
Dir::Etc "$apt/etc";
Dir::State "$apt/state";
Dir::State::status "/dev/null";
Dir::Cache "$apt/cache";
APT::Sandbox::User "root";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
EOF
	printf '%s\n' "$@" >"$apt/etc/sources.list"
	APT_CONFIG=$apt/apt.conf apt-get update -q >"$WORK/apt-update.log" 2>&1 &&
		! grep -Eq '^(W|E):' "$WORK/apt-update.log"
}

# --- signing key ---------------------------------------------------------

make_test_key "$WORK/key" || { fail "test key" "make_test_key failed"; exit 1; }
make_test_key "$WORK/other-key" || { fail "other test key" "make_test_key failed"; exit 1; }
echo "signed text" >"$WORK/text"
gpg --homedir "$WORK/key/gnupg" --batch --quiet --detach-sign -o "$WORK/text.sig" "$WORK/text"
check "test key verifies with gpgv" gpgv --keyring "$WORK/key/keyring.gpg" "$WORK/text.sig" "$WORK/text"
expect_status "other key fails gpgv" 2 \
	gpgv --keyring "$WORK/other-key/keyring.gpg" "$WORK/text.sig" "$WORK/text"
check "fingerprint recorded" grep -Eqx '[0-9A-F]{40}' "$WORK/key/fingerprint"

# --- kernel packages -----------------------------------------------------

make_kernel_debs "$WORK/xz" "$ABI" "$FLAVOUR" "$VERSION" xz >"$WORK/xz.list" ||
	fail "kernel debs xz" "make_kernel_debs failed"
check "six packages built" test "$(wc -l <"$WORK/xz.list")" = 6

IMAGE=$WORK/xz/linux-image-${KVER}_${VERSION}_amd64.deb
HEADERS=$WORK/xz/linux-headers-${KVER}_${VERSION}_amd64.deb
COMMON=$WORK/xz/linux-headers-${ABI}-common_${VERSION}_all.deb
KBUILD=$WORK/xz/linux-kbuild-6.1_${VERSION}_amd64.deb
META=$WORK/xz/linux-image-cloud-amd64_${VERSION}_amd64.deb

check "xz members in dpkg order" test "$(members "$IMAGE")" = "debian-binary control.tar.xz data.tar.xz"
check "image package name" test "$(dpkg-deb -f "$IMAGE" Package)" = "linux-image-$KVER"
check "image source field" test "$(dpkg-deb -f "$IMAGE" Source)" = "linux-signed-amd64 (6.1.192+3)"
check "image depends field" test "$(dpkg-deb -f "$IMAGE" Depends)" = \
	"kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool"
check "headers depends field" test "$(dpkg-deb -f "$HEADERS" Depends)" = \
	"linux-headers-$ABI-common (= $VERSION), linux-kbuild-6.1 (>= $VERSION), linux-compiler-gcc-12-x86"
check "common is arch all" test "$(dpkg-deb -f "$COMMON" Architecture)" = all
check "metapackage depends" test "$(dpkg-deb -f "$META" Depends)" = "linux-image-$KVER (= $VERSION)"
check "installed size set" test -n "$(dpkg-deb -f "$IMAGE" Installed-Size)"

listing "$IMAGE" >"$WORK/image.lst"
check "image lists boot files" has_lines "$WORK/image.lst" \
	"boot/vmlinuz-$KVER" "boot/config-$KVER" "boot/System.map-$KVER"
check "image lists modules" has_lines "$WORK/image.lst" \
	"lib/modules/$KVER/kernel/drivers/net/virtio_net.ko" \
	"lib/modules/$KVER/kernel/drivers/net/net_failover.ko" \
	"lib/modules/$KVER/kernel/net/core/failover.ko" \
	"lib/modules/$KVER/modules.order" "lib/modules/$KVER/modules.builtin" \
	"lib/modules/$KVER/modules.builtin.modinfo" \
	"usr/share/doc/linux-image-$KVER/copyright"
check "image ships no modules.dep" bash -c "! grep -q 'modules.dep' '$WORK/image.lst'"

dpkg-deb --fsys-tarfile "$HEADERS" | tar -tv >"$WORK/headers.lst"
check "headers build link absolute" grep -q \
	"\./lib/modules/$KVER/build -> /usr/src/linux-headers-$KVER\$" "$WORK/headers.lst"
check "headers scripts link" grep -q \
	"\./usr/src/linux-headers-$KVER/scripts -> \.\./\.\./lib/linux-kbuild-6.1/scripts\$" "$WORK/headers.lst"
check "headers config and symvers" has_lines <(listing "$HEADERS") \
	"usr/src/linux-headers-$KVER/.config" "usr/src/linux-headers-$KVER/Module.symvers" \
	"usr/src/linux-headers-$KVER/include/generated/utsrelease.h"
check "common headers tree" has_lines <(listing "$COMMON") \
	"usr/src/linux-headers-$ABI-common/Makefile" \
	"usr/src/linux-headers-$ABI-common/include/linux/module.h"
check "kbuild scripts" has_lines <(listing "$KBUILD") \
	"usr/lib/linux-kbuild-6.1/scripts/basic/fixdep" "usr/lib/linux-kbuild-6.1/scripts/mod/modpost"

mkdir -p "$WORK/image"
dpkg-deb -x "$IMAGE" "$WORK/image"
check "system map stub text" test "$(cat "$WORK/image/boot/System.map-$KVER")" = \
	"ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package"
check "config names virtio_net" grep -qx 'CONFIG_VIRTIO_NET=m' "$WORK/image/boot/config-$KVER"
check "vmlinuz has bzImage header" test "$(dd if="$WORK/image/boot/vmlinuz-$KVER" bs=1 skip=514 count=4 2>/dev/null)" = HdrS
check "vmlinuz carries kernel release" grep -qa "$KVER (debian-kernel@lists.debian.org)" "$WORK/image/boot/vmlinuz-$KVER"
check "module is ELF relocatable" test "$(od -An -tx1 -j16 -N1 "$WORK/image/lib/modules/$KVER/kernel/drivers/net/virtio_net.ko" | tr -d ' ')" = 01
check "modinfo reads vermagic" test "$(modinfo -F vermagic "$WORK/image/lib/modules/$KVER/kernel/drivers/net/virtio_net.ko")" = \
	"$KVER SMP preempt mod_unload modversions "

depmod -b "$WORK/image" "$KVER" 2>"$WORK/depmod.err"
check "depmod accepts modules" test ! -s "$WORK/depmod.err"
check "depmod dependency chain" grep -qx \
	"kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko" \
	"$WORK/image/lib/modules/$KVER/modules.dep"
check "depmod alias from modinfo" grep -qx 'alias virtio:d00000001v\* virtio_net' \
	"$WORK/image/lib/modules/$KVER/modules.alias"
modprobe -v --dry-run -d "$WORK/image" -S "$KVER" virtio_net >"$WORK/modprobe.out" 2>&1
check "modprobe loads three in order" test "$(sed -n 's|^insmod .*/kernel/\([^ ]*\).*|\1|p' "$WORK/modprobe.out" | tr '\n' ' ')" = \
	"net/core/failover.ko drivers/net/net_failover.ko drivers/net/virtio_net.ko "

sha256sum "$WORK"/xz/*.deb >"$WORK/xz.sums"
make_kernel_debs "$WORK/xz" "$ABI" "$FLAVOUR" "$VERSION" xz >/dev/null
check "kernel debs reproducible" sha256sum --quiet -c "$WORK/xz.sums"

make_kernel_debs --usr-merged --module-compress zstd "$WORK/zst" 6.1.0-58 amd64 6.1.200-1 zstd >"$WORK/zst.list" ||
	fail "kernel debs zstd" "make_kernel_debs failed"
ZIMAGE=$WORK/zst/linux-image-6.1.0-58-amd64_6.1.200-1_amd64.deb
check "zstd members in dpkg order" test "$(members "$ZIMAGE")" = "debian-binary control.tar.zst data.tar.zst"
check "default flavour names" test -f "$WORK/zst/linux-image-amd64_6.1.200-1_amd64.deb"
check "usr-merged zstd modules" has_lines <(listing "$ZIMAGE") \
	"usr/lib/modules/6.1.0-58-amd64/kernel/drivers/net/virtio_net.ko.zst"
mkdir -p "$WORK/zimage/lib"
dpkg-deb -x "$ZIMAGE" "$WORK/zimage"
mv "$WORK/zimage/usr/lib/modules" "$WORK/zimage/lib/modules"
depmod -b "$WORK/zimage" 6.1.0-58-amd64 2>/dev/null
check "depmod reads zstd modules" grep -qx \
	"kernel/drivers/net/virtio_net.ko.zst: kernel/drivers/net/net_failover.ko.zst kernel/net/core/failover.ko.zst" \
	"$WORK/zimage/lib/modules/6.1.0-58-amd64/modules.dep"

make_kernel_debs --unsigned --no-headers --no-meta "$WORK/unsigned" "$ABI" "$FLAVOUR" "$VERSION" gzip >"$WORK/unsigned.list"
check "unsigned builds one package" test "$(wc -l <"$WORK/unsigned.list")" = 1
check "unsigned package name" test "$(dpkg-deb -f "$(cat "$WORK/unsigned.list")" Package)" = "linux-image-$KVER-unsigned"
check "unsigned gzip members" test "$(members "$(cat "$WORK/unsigned.list")")" = "debian-binary control.tar.gz data.tar.gz"

# --- hostile packages ----------------------------------------------------

# tar_names DEB: print the raw data.tar member names (and link targets).
tar_names() {
	dpkg-deb --fsys-tarfile "$1" | python3 -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tar:
    for m in tar:
        print(m.name + (" -> " + m.linkname if m.linkname else "") + (" chr" if m.ischr() else ""))'
}

declare -A hostile=(
	[dotdot]="../escape"
	[nested]="./boot/../../escape"
	[absolute]="/escape"
	[symlink]="./boot/outside -> ../../.."
	[hardlink]="./boot/hard -> ../../etc/passwd"
	[device]="./boot/console chr"
)
for kind in dotdot nested absolute symlink hardlink device; do
	deb=$(make_hostile_deb "$WORK/hostile-$kind" "$kind") || { fail "hostile $kind" "make_hostile_deb failed"; continue; }
	check "hostile $kind members" test "$(members "$deb")" = "debian-binary control.tar.xz data.tar.xz"
	check "hostile $kind control" test "$(dpkg-deb -f "$deb" Package)" = "linux-image-6.1.0-99-cloud-amd64"
	check "hostile $kind entry" has_lines <(tar_names "$deb") "${hostile[$kind]}"
done
check "hostile symlink then file" has_lines <(tar_names "$WORK/hostile-symlink/"*.deb) "./boot/outside/escape"
expect_status "hostile unknown kind" 1 make_hostile_deb "$WORK/hostile-x" nonsense

# --- mirrors -------------------------------------------------------------

make_debian_mirror "$WORK/mirror" "$WORK/key" bookworm $(cat "$WORK/xz.list") ||
	fail "mirror bookworm" "make_debian_mirror failed"
make_debian_mirror "$WORK/mirror" "$WORK/key" bookworm-updates $(cat "$WORK/zst.list") ||
	fail "mirror updates" "make_debian_mirror failed"
make_debian_mirror --formats "gz xz" "$WORK/mirror-security" "$WORK/key" bookworm-security \
	$(cat "$WORK/zst.list") || fail "mirror security" "make_debian_mirror failed"
make_debian_mirror --unsigned "$WORK/unsigned-mirror" "$WORK/key" bookworm $(cat "$WORK/xz.list") ||
	fail "mirror unsigned" "make_debian_mirror failed"

DISTS=$WORK/mirror/dists/bookworm
check "InRelease verifies" gpgv --keyring "$WORK/key/keyring.gpg" "$DISTS/InRelease"
check "Release.gpg verifies" gpgv --keyring "$WORK/key/keyring.gpg" "$DISTS/Release.gpg" "$DISTS/Release"
expect_status "InRelease wrong key fails" 2 gpgv --keyring "$WORK/other-key/keyring.gpg" "$DISTS/InRelease"
check "release fields" has_lines "$DISTS/Release" "Origin: Debian" "Label: Debian" \
	"Suite: stable" "Codename: bookworm" "Architectures: amd64" "Components: main"
check "release sha256 matches files" bash -c "cd '$DISTS' &&
	sed -n '/^SHA256:/,/^[A-Z]/p' Release | awk 'NF == 3 { print \$1 \"  \" \$3 }' | sha256sum --quiet -c -"
check "pool path by source" test -f \
	"$WORK/mirror/pool/main/l/linux-signed-amd64/linux-image-${KVER}_${VERSION}_amd64.deb"
check "pool path for linux" test -f "$WORK/mirror/pool/main/l/linux/linux-kbuild-6.1_${VERSION}_amd64.deb"
check "packages has six stanzas" test "$(grep -c '^Package: ' "$DISTS/main/binary-amd64/Packages")" = 6
check "packages xz matches plain" cmp -s <(xz -dc "$DISTS/main/binary-amd64/Packages.xz") "$DISTS/main/binary-amd64/Packages"
check "updates suite codename" grep -qx "Codename: bookworm-updates" "$WORK/mirror/dists/bookworm-updates/Release"

SEC=$WORK/mirror-security/dists/bookworm-security
check "security release fields" has_lines "$SEC/Release" "Label: Debian-Security" \
	"Suite: stable-security" "Codename: bookworm-security" "Components: updates/main"
check "security pool path" test -f \
	"$WORK/mirror-security/pool/updates/main/l/linux-signed-amd64/linux-image-6.1.0-58-amd64_6.1.200-1_amd64.deb"
check "security lists absent Packages" bash -c "grep -q ' main/binary-amd64/Packages\$' '$SEC/Release' &&
	test ! -e '$SEC/main/binary-amd64/Packages' && test -f '$SEC/main/binary-amd64/Packages.xz'"
check "unsigned mirror has no signatures" bash -c "test -f '$WORK/unsigned-mirror/dists/bookworm/Release' &&
	test ! -e '$WORK/unsigned-mirror/dists/bookworm/InRelease' &&
	test ! -e '$WORK/unsigned-mirror/dists/bookworm/Release.gpg'"
make_kernel_debs --arch arm64 --no-meta "$WORK/arm64" "$ABI" cloud-arm64 "$VERSION" xz >"$WORK/arm64.list" ||
	fail "kernel debs arm64" "make_kernel_debs failed"
make_debian_mirror --arch "amd64 arm64" --hashes sha256 --date "Tue, 14 Nov 2023 22:13:20 UTC" \
	--valid-until "Tue, 21 Nov 2023 22:13:20 UTC" "$WORK/multi" "$WORK/key" bookworm \
	$(cat "$WORK/xz.list" "$WORK/arm64.list") || fail "mirror two arches" "make_debian_mirror failed"
MULTI=$WORK/multi/dists/bookworm
check "two arches release fields" has_lines "$MULTI/Release" "Architectures: amd64 arm64" \
	"Date: Tue, 14 Nov 2023 22:13:20 UTC" "Valid-Until: Tue, 21 Nov 2023 22:13:20 UTC"
check "sha256 only release" bash -c "! grep -q '^MD5Sum:' '$MULTI/Release' && grep -q '^SHA256:' '$MULTI/Release'"
check "arm64 list has arch all" has_lines <(sed -n 's/^Package: //p' "$MULTI/main/binary-arm64/Packages") \
	"linux-image-$ABI-cloud-arm64" "linux-headers-$ABI-common"
check "arch all listed once" test "$(grep -c "^Package: linux-headers-$ABI-common\$" "$MULTI/main/binary-amd64/Packages")" = 1
check "amd64 list lacks arm64" bash -c "! grep -q 'cloud-arm64' '$MULTI/main/binary-amd64/Packages'"
check "two arches InRelease verifies" gpgv --keyring "$WORK/key/keyring.gpg" "$MULTI/InRelease"

# The same file name with other bytes (another build time) must not replace
# a pool file.
clash=$(DEBIAN_FIXTURE_EPOCH=1700000001 make_kernel_debs --no-headers --no-meta \
	"$WORK/clash" "$ABI" "$FLAVOUR" "$VERSION" xz)
expect_status "pool name clash rejected" 1 \
	make_debian_mirror "$WORK/mirror" "$WORK/key" bookworm-proposed-updates "$clash"
check "pool file kept after clash" cmp -s "$IMAGE" \
	"$WORK/mirror/pool/main/l/linux-signed-amd64/linux-image-${KVER}_${VERSION}_amd64.deb"

# apt itself reads and verifies the three suites, and fetches a package
# whose Filename and SHA256 it checks.
keyring=$WORK/key/keyring.gpg
if private_apt \
	"deb [signed-by=$keyring] file:$WORK/mirror bookworm main" \
	"deb [signed-by=$keyring] file:$WORK/mirror bookworm-updates main" \
	"deb [signed-by=$keyring] file:$WORK/mirror-security bookworm-security main"; then
	pass "apt reads the mirrors"
else
	fail "apt reads the mirrors" "$(tail -n 5 "$WORK/apt-update.log")"
fi
check "apt sees cloud kernel" bash -c "APT_CONFIG='$WORK/apt/apt.conf' apt-cache policy linux-image-cloud-amd64 | grep -q 'Candidate: $VERSION'"
mkdir -p "$WORK/apt-download"
check "apt downloads from pool" bash -c "cd '$WORK/apt-download' &&
	APT_CONFIG='$WORK/apt/apt.conf' apt-get download -q linux-image-$KVER >/dev/null 2>&1 &&
	cmp -s linux-image-${KVER}_${VERSION}_amd64.deb '$IMAGE'"
if private_apt "deb [signed-by=$WORK/other-key/keyring.gpg] file:$WORK/mirror bookworm main"; then
	fail "apt rejects wrong key" "apt-get update accepted a mirror signed by another key"
else
	pass "apt rejects wrong key"
fi

# --- the real Debian kernel ----------------------------------------------

if ! command -v apt-get >/dev/null || ! real_debian_mirror "$TEST_CACHE" "$WORK/real" "$WORK/key" >"$WORK/real.out"; then
	skip "real debian mirror" "the Debian 12 cloud kernel could not be fetched with apt-get"
	exit 0
fi
read -r real_abi real_version <"$WORK/real.out"
real_kver=$real_abi-cloud-amd64
REAL=$WORK/real/dists/bookworm
check "real abi and version" bash -c "[[ '$real_abi' =~ ^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+\$ ]] && [[ '$real_version' =~ ^[0-9] ]]"
check "real InRelease verifies" gpgv --keyring "$WORK/key/keyring.gpg" "$REAL/InRelease"
check "real packages listed" has_lines <(sed -n 's/^Package: //p' "$REAL/main/binary-amd64/Packages") \
	"linux-image-$real_kver" "linux-headers-$real_kver" "linux-headers-$real_abi-common" \
	"linux-kbuild-${real_version%%.*}.$(cut -d. -f2 <<<"$real_version")" "linux-image-cloud-amd64"
check "real image in signed pool" test -f \
	"$WORK/real/pool/main/l/linux-signed-amd64/linux-image-${real_kver}_${real_version}_amd64.deb"

REAL_IMAGE=$WORK/real/pool/main/l/linux-signed-amd64/linux-image-${real_kver}_${real_version}_amd64.deb
mkdir -p "$WORK/real-image"
dpkg-deb -x "$REAL_IMAGE" "$WORK/real-image"
check "real system map is the stub" test "$(cat "$WORK/real-image/boot/System.map-$real_kver")" = "$DEBIAN_SYSTEM_MAP_STUB"
check "real modules under lib/modules" test -f "$WORK/real-image/lib/modules/$real_kver/kernel/drivers/net/virtio_net.ko"
# The stand-in modules copy this chain. The real virtio_net also needs
# virtio.ko and virtio_ring.ko, listed after it.
depmod -b "$WORK/real-image" "$real_kver" 2>/dev/null
check "real virtio_net chain" grep -q \
	"^kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko" \
	"$WORK/real-image/lib/modules/$real_kver/modules.dep"
