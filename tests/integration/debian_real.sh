#!/bin/bash
# End to end on a real kernel: the newest Debian 12 cloud kernel, fetched
# with apt-get download and served from a signed mirror on 127.0.0.1, is
# turned into an image that skopeo and umoci read and whose modules resolve.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/real-debian.sh"

root=$WORK/mirror
if ! resolved=$(real_debian_mirror "$TEST_CACHE" "$root/debian" "$WORK/key"); then
	if [ "${CI:-}" = true ]; then
		fail real-kernel-download "apt-get download of the Debian cloud kernel failed"
	else
		skip real-kernel-download "apt cannot download the Debian cloud kernel here"
	fi
	exit 0
fi
read -r abi version <<<"$resolved"
kver=$abi-cloud-amd64
url=$(serve_dir "$root") || { fail real-server "nginx did not start"; exit 1; }
export XDG_CACHE_HOME=$WORK/cache

expect_status real-build 0 "$REPACK" debian "$version" --flavour cloud --release bookworm \
	--mirror "$url/debian" --keyring "$WORK/key/keyring.gpg" -o "oci:$WORK/images"
tag=$(tr : ' ' <"$WORK/last.out" | awk '{print $2}')
echo "built $(cat "$WORK/last.out")"

if skopeo inspect "oci:$WORK/images:$tag" >"$WORK/inspect.json" 2>"$WORK/skopeo.err"; then
	pass real-skopeo-inspect
else
	fail real-skopeo-inspect "$(cat "$WORK/skopeo.err")"
fi
grep -q "\"org.linuxkit.repack.kernel-release\": \"$kver\"" "$WORK/inspect.json" &&
	pass real-kernel-release-label || fail real-kernel-release-label "$(grep kernel-release "$WORK/inspect.json")"

if umoci unpack --image "$WORK/images:$tag" "$WORK/bundle" >/dev/null 2>"$WORK/umoci.err"; then
	pass real-umoci-unpack
else
	fail real-umoci-unpack "$(cat "$WORK/umoci.err")"
fi
rootfs=$WORK/bundle/rootfs
files=$(cd "$rootfs" 2>/dev/null && ls | tr '\n' ' ')
[ "$files" = "kernel kernel-dev.tar kernel.tar kernel_config " ] &&
	pass real-layer-files || fail real-layer-files "layer holds: $files"
file "$rootfs/kernel" 2>/dev/null | grep -q 'Linux kernel x86 boot executable' &&
	pass real-kernel-is-bzimage || fail real-kernel-is-bzimage "$(file "$rootfs/kernel")"

mkdir -p "$WORK/mods"
tar -xf "$rootfs/kernel.tar" -C "$WORK/mods"
if /usr/sbin/modprobe --dry-run --show-depends --dirname "$WORK/mods" -S "$kver" virtio_net \
	>"$WORK/modprobe.out" 2>&1 && grep -q 'virtio_net.ko' "$WORK/modprobe.out"; then
	pass real-modprobe-virtio-net
else
	fail real-modprobe-virtio-net "$(cat "$WORK/modprobe.out")"
fi
grep -q 'net_failover.ko' "$WORK/modprobe.out" && pass real-modprobe-dependencies ||
	fail real-modprobe-dependencies "$(cat "$WORK/modprobe.out")"
tar -tf "$rootfs/kernel-dev.tar" | grep -q "^usr/src/linux-headers-$kver/Makefile" &&
	pass real-headers-present || fail real-headers-present "no headers Makefile in kernel-dev.tar"
