#!/bin/bash
# The arm64 path end to end on a real kernel. The newest Debian 12
# cloud-arm64 kernel is fetched with apt-get on a private arm64
# configuration and served from a signed mirror on 127.0.0.1. repack
# builds it into an arm64 image, whose modules must resolve with modprobe,
# and boots it under qemu-system-aarch64 with TCG and the arm64 busybox
# from Debian's busybox-static package.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/real-debian-arm64.sh"

# unavailable NAME REASON: fail under CI, where every case must run, and
# skip elsewhere.
unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1" "$2"; else skip "$1" "$2"; fi
}

if ! need_command qemu-system-aarch64 qemu-system-arm; then
	unavailable arm64-qemu "qemu-system-aarch64 (Debian package qemu-system-arm) is missing"
	exit 0
fi
if ! real_debian_arm64 "$TEST_CACHE" "$WORK/apt"; then
	unavailable arm64-download "apt-get cannot download the Debian arm64 cloud kernel and busybox-static"
	exit 0
fi
kver=$ARM64_ABI-cloud-arm64
pass arm64-download

mkdir -p "$WORK/busybox"
dpkg-deb -x "$ARM64_DIR"/busybox-static_*_arm64.deb "$WORK/busybox"
busybox=$WORK/busybox/bin/busybox
file "$busybox" | grep -q 'ARM aarch64.*statically linked' && pass arm64-busybox-static ||
	fail arm64-busybox-static "$(file "$busybox")"

root=$WORK/mirror/debian
debs=()
for deb in "$ARM64_DIR"/linux-*.deb; do
	debs+=("$deb")
done
if ! make_test_key "$WORK/key" ||
	! make_debian_mirror --arch arm64 "$root" "$WORK/key" bookworm "${debs[@]}"; then
	fail arm64-mirror "make_debian_mirror failed"
	exit 1
fi
url=$(serve_dir "$WORK/mirror") || { fail arm64-server "nginx did not start"; exit 1; }
export XDG_CACHE_HOME=$WORK/cache

# --- the image ----------------------------------------------------------

expect_status arm64-build 0 "$REPACK" debian "$ARM64_VERSION" --arch arm64 --flavour cloud \
	--release bookworm --mirror "$url/debian" --keyring "$WORK/key/keyring.gpg" -q \
	-o "oci:$WORK/images"
tag=$(tr : ' ' <"$WORK/last.out" | awk '{print $2}')
image=oci:$WORK/images:$tag
if [ -z "$tag" ]; then
	fail arm64-tag "repack printed no image tag: $(cat "$WORK/last.out")"
	exit 1
fi

if skopeo inspect "$image" >"$WORK/inspect.json" 2>"$WORK/skopeo.err"; then
	pass arm64-skopeo-inspect
else
	fail arm64-skopeo-inspect "$(cat "$WORK/skopeo.err")"
fi
# json_field FILE EXPR: print a Python expression over the JSON in FILE
# (bound to j).
json_field() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
got=$(json_field "$WORK/inspect.json" 'j["Architecture"]')
[ "$got" = arm64 ] && pass arm64-architecture || fail arm64-architecture "Architecture is '$got'"
got=$(json_field "$WORK/inspect.json" 'j["Labels"]["org.linuxkit.repack.kernel-release"]')
[ "$got" = "$kver" ] && pass arm64-release-label || fail arm64-release-label "label is '$got', expected $kver"

if umoci unpack --image "$WORK/images:$tag" "$WORK/bundle" >/dev/null 2>"$WORK/umoci.err"; then
	pass arm64-umoci-unpack
else
	fail arm64-umoci-unpack "$(cat "$WORK/umoci.err")"
fi
rootfs=$WORK/bundle/rootfs
file "$rootfs/kernel" 2>/dev/null | grep -q 'Linux kernel ARM64 boot executable Image' &&
	pass arm64-kernel-is-image || fail arm64-kernel-is-image "$(file "$rootfs/kernel" 2>&1)"
mkdir -p "$WORK/mods"
tar -xf "$rootfs/kernel.tar" -C "$WORK/mods" 2>"$WORK/tar.err" || fail arm64-kernel-tar "$(cat "$WORK/tar.err")"
if /usr/sbin/modprobe --dry-run --show-depends -d "$WORK/mods" -S "$kver" virtio_net \
	>"$WORK/modprobe.out" 2>&1 && grep -q "/lib/modules/$kver/.*/virtio_net.ko" "$WORK/modprobe.out"; then
	pass arm64-modprobe-virtio-net
else
	fail arm64-modprobe-virtio-net "$(cat "$WORK/modprobe.out")"
fi
grep -q 'net_failover.ko' "$WORK/modprobe.out" && pass arm64-modprobe-dependencies ||
	fail arm64-modprobe-dependencies "$(cat "$WORK/modprobe.out")"
tar -tf "$rootfs/kernel-dev.tar" 2>/dev/null | grep -q "^usr/src/linux-headers-$kver/Makefile" &&
	pass arm64-headers-present || fail arm64-headers-present "no headers Makefile in kernel-dev.tar"

# --- the boot -------------------------------------------------------------

# report_check FILE EXPR: evaluate a Python expression over the first
# report in FILE (bound to r); print the reports when it is false.
report_check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
reports = json.load(open(sys.argv[1]))
r = reports[0]
if not eval(sys.argv[2]):
    print(json.dumps(reports, indent=1)[:1500])
    sys.exit(1)
PY
}

start=$(date +%s.%N)
expect_status arm64-boot 0 "$REPACK" boot "$image" --accel tcg --busybox "$busybox" \
	--timeout 120 --json --log-dir "$WORK/logs"
wall=$(echo "$(date +%s.%N) - $start" | bc)
cp "$WORK/last.out" "$WORK/boot.json"
check arm64-booted report_check "$WORK/boot.json" 'r["booted"] and r["failure"] is None and r["ok"]'
check arm64-boot-arch report_check "$WORK/boot.json" 'r["arch"] == "arm64" and r["accel"] == "tcg"'
check arm64-boot-release report_check "$WORK/boot.json" \
	"r['kernel_release'] == '$kver' and r['release_matches_label'] is True"
check arm64-boot-virtio-net report_check "$WORK/boot.json" \
	'[m["result"] for m in r["modules"] if m["name"] == "virtio_net"] == ["ok"]'
check arm64-boot-no-warnings report_check "$WORK/boot.json" 'r["warnings"] == []'
echo "arm64 TCG boot: $(json_field "$WORK/boot.json" \
	'"%s s to /init, %s s to the last marker" % (j[0]["seconds_to_init"], j[0]["seconds_to_last_marker"])')," \
	"$(printf '%.1f' "$wall") s wall time for repack boot"

# --- guards ---------------------------------------------------------------

# The host's busybox is an x86-64 binary and cannot be the arm64 init.
if [ "$(uname -m)" = x86_64 ] && [ -x /bin/busybox ]; then
	expect_status arm64-host-busybox 1 "$REPACK" boot "$image" --accel tcg \
		--busybox /bin/busybox --log-dir "$WORK/logs"
	expect_stderr arm64-host-busybox-message "built for amd64 but the image is arm64"
	# KVM runs only guests of the host's architecture.
	expect_status arm64-kvm-refused 1 "$REPACK" boot "$image" --accel kvm \
		--busybox "$busybox" --log-dir "$WORK/logs"
	expect_stderr arm64-kvm-refused-message "the host is amd64 .* not arm64; use --accel tcg"
fi
# An arm64 kernel module is an ELF relocatable object, not a program, so
# repack rejects it before QEMU starts.
ko=$(find "$WORK/mods" -name '*.ko' -print -quit)
expect_status arm64-module-as-busybox 1 "$REPACK" boot "$image" --accel tcg \
	--busybox "$ko" --log-dir "$WORK/logs"
expect_stderr arm64-module-as-busybox-message "busybox '.*\.ko' is an ELF file of type 1, not an executable"
# So is a busybox cut short inside its ELF header.
head -c 40 "$busybox" >"$WORK/short-busybox"
chmod 755 "$WORK/short-busybox"
expect_status arm64-short-busybox 1 "$REPACK" boot "$image" --accel tcg \
	--busybox "$WORK/short-busybox" --log-dir "$WORK/logs"
expect_stderr arm64-short-busybox-message "busybox '.*short-busybox' is not a 64-bit ELF executable"
pgrep -f -- "qemu-system-aarch64 .*$WORK" >/dev/null &&
	fail arm64-no-qemu-left "a QEMU process is still running" || pass arm64-no-qemu-left
