#!/bin/bash
# repack diff on two dir: images built here: kernel_config options added,
# removed and changed, modules in only one kernel.tar (whatever their
# compression, '-' and '_' alike), the JSON form, and broken inputs.
. "$(dirname "$0")/../lib/common.sh"

# make_image DIR CONFIG MODULE...: write a dir: image whose kernel.tar
# contains the given module paths (under lib/modules/6.1.0-1/kernel/) and
# modules.dep.
make_image() {
	local dir=$1 config=$2 module tree
	shift 2
	tree=$WORK/tree-$(basename "$dir")
	mkdir -p "$dir" "$tree/lib/modules/6.1.0-1/kernel"
	printf '%s' "$config" >"$dir/kernel_config"
	for module in "$@"; do
		mkdir -p "$(dirname "$tree/lib/modules/6.1.0-1/kernel/$module")"
		echo "module $module" >"$tree/lib/modules/6.1.0-1/kernel/$module"
	done
	: >"$tree/lib/modules/6.1.0-1/modules.dep"
	tar -C "$tree" -cf "$dir/kernel.tar" lib
	echo "not a kernel" >"$dir/kernel"
}

make_image "$WORK/old" '#
# Automatically generated file; DO NOT EDIT.
#
CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14) 12.2.0"
CONFIG_VIRTIO_NET=m
CONFIG_EXT4_FS=y
# CONFIG_DEBUG_INFO_BTF is not set
CONFIG_NR_CPUS=64
CONFIG_OLD_ONLY=y
' drivers/net/virtio_net.ko fs/ext4/ext4.ko.xz drivers/hid/hid-generic.ko.zst old/gone.ko

make_image "$WORK/new" 'CONFIG_CC_VERSION_TEXT="gcc-13 (Debian 13.2.0-25) 13.2.0"
CONFIG_VIRTIO_NET=y
CONFIG_EXT4_FS=y
CONFIG_DEBUG_INFO_BTF=y
CONFIG_NR_CPUS=64
CONFIG_NEW_ONLY=m
' drivers/net/virtio_net.ko.zst fs/ext4/ext4.ko drivers/hid/hid_generic.ko new/fresh.ko.xz

expect_status diff-text 0 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/new"
cat >"$WORK/expected" <<EOF
--- dir:$WORK/old
+++ dir:$WORK/new
~ CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14) 12.2.0" -> "gcc-13 (Debian 13.2.0-25) 13.2.0"
~ CONFIG_DEBUG_INFO_BTF=n -> y
+ CONFIG_NEW_ONLY=m
- CONFIG_OLD_ONLY=y
~ CONFIG_VIRTIO_NET=m -> y
- module gone
+ module fresh
options: 1 added, 1 removed, 3 changed; modules: 1 only in the first (of 4), 1 only in the second (of 4)
EOF
if diff -u "$WORK/expected" "$WORK/last.out" >"$WORK/diff.out"; then
	pass diff-text-rows
else
	fail diff-text-rows "$(cat "$WORK/diff.out")"
fi

expect_status diff-reversed 0 "$REPACK" diff "dir:$WORK/new" "dir:$WORK/old"
grep -qx -- '- CONFIG_NEW_ONLY=m' "$WORK/last.out" && grep -qx -- '+ module gone' "$WORK/last.out" &&
	pass diff-reversed-rows || fail diff-reversed-rows "$(cat "$WORK/last.out")"

expect_status diff-same-image 0 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/old"
[ "$(wc -l <"$WORK/last.out")" = 3 ] &&
	grep -qx 'options: 0 added, 0 removed, 0 changed; modules: 0 only in the first (of 4), 0 only in the second (of 4)' \
		"$WORK/last.out" && pass diff-same-image-empty || fail diff-same-image-empty "$(cat "$WORK/last.out")"

expect_status diff-json 0 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/new" --json
if python3 - "$WORK/last.out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config"]["added"] == {"CONFIG_NEW_ONLY": "m"}, d["config"]["added"]
assert d["config"]["removed"] == {"CONFIG_OLD_ONLY": "y"}, d["config"]["removed"]
assert d["config"]["changed"]["CONFIG_VIRTIO_NET"] == {"old": "m", "new": "y"}, d["config"]["changed"]
assert d["config"]["changed"]["CONFIG_DEBUG_INFO_BTF"] == {"old": "n", "new": "y"}
assert len(d["config"]["changed"]) == 3, d["config"]["changed"]
assert d["modules"] == {"only_old": ["gone"], "only_new": ["fresh"], "old_count": 4, "new_count": 4}, d["modules"]
PY
then pass diff-json-fields; else fail diff-json-fields "$(cat "$WORK/last.out")"; fi

# --- broken inputs -----------------------------------------------------------

cp -r "$WORK/new" "$WORK/binary-config"
head -c 4096 /dev/urandom | tr -d '\n' >"$WORK/binary-config/kernel_config"
expect_status diff-binary-config 1 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/binary-config"
expect_stderr diff-binary-config-message "binary-config/kernel_config' contains no CONFIG_ lines"

cp -r "$WORK/new" "$WORK/no-config"
rm "$WORK/no-config/kernel_config"
expect_status diff-missing-config 1 "$REPACK" diff "dir:$WORK/no-config" "dir:$WORK/old"
expect_stderr diff-missing-config-message "no-config' has no readable kernel_config"

cp -r "$WORK/new" "$WORK/corrupt-tar"
head -c 3000 /dev/urandom >"$WORK/corrupt-tar/kernel.tar"
expect_status diff-corrupt-tar 1 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/corrupt-tar"
expect_stderr diff-corrupt-tar-message "corrupt-tar/kernel.tar"

cp -r "$WORK/new" "$WORK/truncated-tar"
head -c 1500 "$WORK/new/kernel.tar" >"$WORK/truncated-tar/kernel.tar"
expect_status diff-truncated-tar 1 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/truncated-tar"
expect_stderr diff-truncated-tar-message "truncated-tar/kernel.tar' is corrupt"

expect_status diff-one-image 2 "$REPACK" diff "dir:$WORK/old"
expect_status diff-three-images 2 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/new" "dir:$WORK/new"
expect_status diff-missing-image 3 "$REPACK" diff "dir:$WORK/old" "dir:$WORK/nonexistent"
expect_status diff-bad-reference 2 "$REPACK" diff "dir:$WORK/old" "$WORK/new"
