#!/bin/bash
# repack boot on a real kernel: the newest Debian 12 cloud kernel is built
# into an image from a signed mirror on 127.0.0.1 and booted under QEMU
# with TCG (KVM guests cannot be relied on everywhere these tests run).
# Broken images (no modules.dep, a kernel that is random bytes, a kernel
# that spins silently, a hostile kernel.tar) and missing tools must each
# give a clear report or error and leave no QEMU process behind.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/real-debian.sh"

if ! need_command qemu-system-x86_64 qemu-system-x86 || ! [ -x /bin/busybox ]; then
	skip boot-tools "qemu-system-x86_64 or /bin/busybox (busybox-static) is missing"
	exit 0
fi
root=$WORK/mirror
if ! resolved=$(real_debian_mirror "$TEST_CACHE" "$root/debian" "$WORK/key"); then
	if [ "${CI:-}" = true ]; then
		fail boot-kernel-download "apt-get download of the Debian cloud kernel failed"
	else
		skip boot-kernel-download "apt cannot download the Debian cloud kernel here"
	fi
	exit 0
fi
read -r abi version <<<"$resolved"
kver=$abi-cloud-amd64
url=$(serve_dir "$root") || { fail boot-server "nginx did not start"; exit 1; }
export XDG_CACHE_HOME=$WORK/cache
# Temporary files of repack land here, so the test can see them removed.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
logs=$WORK/logs

build() {
	"$REPACK" debian "$version" --flavour cloud --release bookworm --mirror "$url/debian" \
		--keyring "$WORK/key/keyring.gpg" -q -o "$1" >"$WORK/build.out" 2>"$WORK/build.err"
}
if ! build "oci:$WORK/images" || ! build "dir:$WORK/good"; then
	fail boot-image-build "$(cat "$WORK/build.err")"
	exit 1
fi
tag=$(tr : ' ' <"$WORK/build.out" | awk '{print $2}')
image=oci:$WORK/images:$tag

# json_check FILE EXPR: evaluate a Python expression over the JSON in FILE
# (bound to r, the first report, and reports); print it when false.
json_check() {
	python3 - "$1" "$2" <<'PY'
import json, sys
reports = json.load(open(sys.argv[1]))
r = reports[0] if isinstance(reports, list) and reports else reports
if not eval(sys.argv[2]):
    print(json.dumps(reports, indent=1)[:1500])
    sys.exit(1)
PY
}

# no_qemu_left TEXT: no QEMU process has TEXT in its command line.
no_qemu_left() {
	! pgrep -f -- "qemu-system[^ ]* .*$1" >/dev/null
}

# --- the real kernel boots ------------------------------------------------

expect_status boot-real 0 "$REPACK" boot "$image" --accel tcg --json --log-dir "$logs"
cp "$WORK/last.out" "$WORK/real.json"
check boot-real-booted json_check "$WORK/real.json" 'r["booted"] and r["failure"] is None and r["ok"]'
check boot-real-release json_check "$WORK/real.json" "r['kernel_release'] == '$kver'"
check boot-real-label json_check "$WORK/real.json" \
	"r['label_kernel_release'] == r['kernel_release'] and r['release_matches_label'] is True"
check boot-real-virtio-net json_check "$WORK/real.json" \
	'[m["result"] for m in r["modules"] if m["name"] == "virtio_net"] == ["ok"]'
check boot-real-module-order json_check "$WORK/real.json" \
	'[m["name"] for m in r["modules"]] == ["virtio_net", "virtio_blk"]'
check boot-real-times json_check "$WORK/real.json" \
	'0 < r["seconds_to_init"] <= r["seconds_to_last_marker"]'
check boot-real-no-warnings json_check "$WORK/real.json" 'r["warnings"] == []'
log=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["console_log"])' "$WORK/real.json")
case $log in
"$logs"/*) grep -q "REPACK-UNAME $kver" "$log" && pass boot-real-console-log ||
	fail boot-real-console-log "no REPACK-UNAME line in '$log'" ;;
*) fail boot-real-console-log "console log '$log' is not under $logs" ;;
esac

# A module that is built into this kernel is reported as such, and one
# that does not exist as a failure that names it.
expect_status boot-builtin-and-missing 1 "$REPACK" boot "dir:$WORK/good" --accel tcg --json \
	--log-dir "$logs" --modprobe ext4,no_such_module
check boot-builtin-reported json_check "$WORK/last.out" \
	'[m["result"] for m in r["modules"]] == ["builtin" if "CONFIG_EXT4_FS=y" in open("'"$WORK/good/kernel_config"'").read() else "ok", "fail"]'
check boot-missing-module-message json_check "$WORK/last.out" \
	'"no_such_module" in r["modules"][1]["message"]'

# --- modules.dep removed: the kernel boots, modprobe fails -------------------

cp -r "$WORK/good" "$WORK/nodep"
tar --delete -f "$WORK/nodep/kernel.tar" "lib/modules/$kver/modules.dep" 2>"$WORK/tar.err" ||
	fail boot-nodep-setup "$(cat "$WORK/tar.err")"
expect_status boot-compare 1 "$REPACK" boot --compare "$image" "dir:$WORK/nodep" --accel tcg \
	--log-dir "$logs"
out=$WORK/last.out
grep -Eq '^  booted +yes +yes$' "$out" && pass boot-compare-both-booted ||
	fail boot-compare-both-booted "$(cat "$out")"
grep -Eq '^  failure +- +-$' "$out" && pass boot-nodep-no-failure ||
	fail boot-nodep-no-failure "$(cat "$out")"
grep -Eq "^  kernel release +$kver +$kver\$" "$out" && pass boot-compare-release-row ||
	fail boot-compare-release-row "$(cat "$out")"
grep -Eq '^\* module virtio_net +ok +fail$' "$out" && pass boot-nodep-module-failed ||
	fail boot-nodep-module-failed "$(cat "$out")"
grep -Eq "^  module virtio_net: .*modules\.dep" "$out" && pass boot-nodep-message ||
	fail boot-nodep-message "$(cat "$out")"
grep -Eq "^  image +oci:.* +dir:$WORK/nodep\$" "$out" && pass boot-compare-columns ||
	fail boot-compare-columns "$(cat "$out")"

# --- a kernel that is random bytes ----------------------------------------

cp -r "$WORK/good" "$WORK/random"
head -c 4000000 /dev/urandom >"$WORK/random/kernel"
expect_status boot-random-kernel 1 "$REPACK" boot "dir:$WORK/random" --accel tcg --timeout 10 \
	--json --log-dir "$logs"
check boot-random-not-booted json_check "$WORK/last.out" \
	'not r["booted"] and r["failure"] in ("qemu-error", "no-init", "hang", "panic")'
check boot-random-no-qemu no_qemu_left "$WORK/random/kernel"

# --- a kernel that spins without output: killed after --timeout -------------

# A multiboot image (a.out kludge, loaded at 1 MiB) whose code is "jmp $".
cp -r "$WORK/good" "$WORK/spin"
python3 - "$WORK/spin/kernel" <<'PY'
import struct, sys
magic, flags, load = 0x1BADB002, 0x00010000, 0x100000
code = b"\xeb\xfe"
end = load + 32 + len(code)
header = struct.pack("<8I", magic, flags, -(magic + flags) & 0xffffffff,
                     load, load, end, end, load + 32)
open(sys.argv[1], "wb").write(header + code)
PY
expect_status boot-spin 1 "$REPACK" boot "dir:$WORK/spin" --accel tcg --timeout 3 --json \
	--log-dir "$logs"
check boot-spin-hang json_check "$WORK/last.out" \
	'r["failure"] == "hang" and not r["booted"] and "3 s" in r["detail"]'
check boot-spin-no-qemu no_qemu_left "$WORK/spin/kernel"

# SIGTERM while the guest spins: QEMU is stopped, repack dies of the signal.
"$REPACK" boot "dir:$WORK/spin" --accel tcg --timeout 60 --log-dir "$logs" \
	>"$WORK/term.out" 2>"$WORK/term.err" &
pid=$!
for _ in $(seq 1 300); do
	pgrep -f -- "$WORK/spin/kernel" >/dev/null && break
	sleep 0.1
done
if pgrep -f -- "$WORK/spin/kernel" >/dev/null; then
	kill -TERM "$pid"
	wait "$pid"
	status=$?
	[ "$status" = 143 ] && pass boot-sigterm-status ||
		fail boot-sigterm-status "exit status $status, expected 143: $(cat "$WORK/term.err")"
	grep -q 'interrupted by signal 15' "$WORK/term.err" && pass boot-sigterm-message ||
		fail boot-sigterm-message "$(cat "$WORK/term.err")"
	check boot-sigterm-no-qemu no_qemu_left "$WORK/spin/kernel"
else
	kill "$pid" 2>/dev/null
	wait "$pid"
	fail boot-sigterm-qemu-started "QEMU never started: $(cat "$WORK/term.err")"
fi

# --- acceleration auto falls back to TCG where KVM does not work ------------

expect_status boot-auto 0 "$REPACK" boot "dir:$WORK/good" --accel auto --gzip --json \
	--log-dir "$logs" --modprobe virtio_net
check boot-auto-booted json_check "$WORK/last.out" 'r["booted"] and r["accel"] in ("kvm", "tcg")'
grep -Eq 'KVM probe|not using KVM' "$WORK/last.err" && pass boot-auto-decision-logged ||
	fail boot-auto-decision-logged "$(cat "$WORK/last.err")"

# --- images repack cannot boot, and missing tools ---------------------------

cp -r "$WORK/good" "$WORK/hostile"
python3 - "$WORK/hostile/kernel.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"x"
    info = tarfile.TarInfo("lib/modules/6.1.0/../../../etc/passwd")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
expect_status boot-hostile-tar 1 "$REPACK" boot "dir:$WORK/hostile" --accel tcg --log-dir "$logs"
expect_stderr boot-hostile-tar-message "'\.\.' component"

cp -r "$WORK/good" "$WORK/notar"
rm "$WORK/notar/kernel.tar"
expect_status boot-no-kernel-tar 1 "$REPACK" boot "dir:$WORK/notar" --accel tcg --log-dir "$logs"
expect_stderr boot-no-kernel-tar-message "has no kernel.tar"

expect_status boot-no-qemu 1 env PATH=/nonexistent "$REPACK" boot "dir:$WORK/good" --accel tcg \
	--log-dir "$logs"
expect_stderr boot-no-qemu-message "qemu-system-x86_64 is not installed.*install the Debian package qemu-system-x86"
expect_status boot-bad-qemu-override 1 env REPACK_QEMU=/nonexistent "$REPACK" boot "dir:$WORK/good" \
	--accel tcg --log-dir "$logs"
expect_stderr boot-bad-qemu-override-message "REPACK_QEMU is '/nonexistent'"
expect_status boot-no-busybox 1 "$REPACK" boot "dir:$WORK/good" --busybox /nonexistent --accel tcg \
	--log-dir "$logs"
expect_stderr boot-no-busybox-message "busybox '/nonexistent'.*install the Debian package busybox-static"
expect_status boot-dynamic-busybox 1 "$REPACK" boot "dir:$WORK/good" --busybox /bin/ls --accel tcg \
	--log-dir "$logs"
expect_stderr boot-dynamic-busybox-message "dynamically linked"

expect_status boot-bad-module-name 2 "$REPACK" boot "dir:$WORK/good" --modprobe 'virtio_net;reboot'
expect_status boot-compare-one-image 2 "$REPACK" boot --compare "dir:$WORK/good"
expect_status boot-bad-accel 2 "$REPACK" boot "dir:$WORK/good" --accel fast
expect_status boot-missing-image 3 "$REPACK" boot "oci:$WORK/images:no-such-tag" --accel tcg

# --- repack diff on two real images -----------------------------------------

expect_status boot-diff-same-kernel 0 "$REPACK" diff "$image" "dir:$WORK/nodep"
grep -qx 'options: 0 added, 0 removed, 0 changed; modules: 0 only in the first (of [0-9]*), 0 only in the second (of [0-9]*)' \
	"$WORK/last.out" && pass boot-diff-same-kernel-rows || fail boot-diff-same-kernel-rows "$(cat "$WORK/last.out")"

check boot-no-qemu-at-end no_qemu_left "$WORK/"
leftover=$(cd "$TMPDIR" && ls -d repack-boot.* repack-diff.* 2>/dev/null)
[ -z "$leftover" ] && pass boot-temp-files-removed || fail boot-temp-files-removed "left in TMPDIR: $leftover"
