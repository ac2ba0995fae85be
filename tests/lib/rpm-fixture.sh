# RPM fixtures built at test time with the real tools: kernel packages
# (rpmbuild, with the stand-in modules of debian-fixture.sh), repositories
# (createrepo_c), signed repomd.xml (gpg), Koji-style index pages, and
# damaged or hostile packages (python3). Source after tests/lib/common.sh
# and tests/lib/debian-fixture.sh. Every function returns non-zero and
# prints "rpm-fixture: ..." on stderr when a tool fails.
#
# The packages copy the names and layouts of Fedora's split kernel
# (kernel-core with vmlinuz, config and System.map in lib/modules/<kver>/,
# kernel-modules, kernel-modules-core, kernel-modules-extra, kernel-devel
# with usr/src/kernels/<kver>/, and an empty kernel package) and of CentOS
# 7's single kernel package with /boot/vmlinuz-<kver>.

# Build time of every fixture package (SOURCE_DATE_EPOCH for rpmbuild).
: "${RPM_FIXTURE_EPOCH:=1700000000}"

_rpm_error() {
	echo "rpm-fixture: $*" >&2
	return 1
}

# _rpm_payload_macro COMPRESSOR: print rpm's _binary_payload value.
_rpm_payload_macro() {
	case $1 in
	zstd) echo w19.zstdio ;;
	xz) echo w9.xzdio ;;
	gzip) echo w9.gzdio ;;
	none) echo w.ufdio ;;
	*) _rpm_error "unknown payload compressor '$1' (use zstd, xz, gzip or none)" ;;
	esac
}

# _rpm_files_list STAGE KVER: print a %files section body for everything
# under STAGE: every file and symlink, and %dir for the directories whose
# path names KVER (the package owns those; /lib/modules and /boot are
# shared).
_rpm_files_list() {
	local stage=$1 kver=$2
	(cd "$stage" && find . -mindepth 1 \( -type f -o -type l \) | LC_ALL=C sort | sed 's|^\.|"|; s|$|"|')
	(cd "$stage" && find . -mindepth 1 -type d -path "*$kver*" | LC_ALL=C sort | sed 's|^\.|%dir "|; s|$|"|')
}

# _rpm_build TOPDIR OUTDIR NAME VERSION RELEASE ARCH PAYLOAD STAGE KVER
# [PROVIDES...]: build package NAME from the tree STAGE (empty or missing
# for a package without files) with rpmbuild, and print its path.
_rpm_build() {
	local top=$1 out=$2 name=$3 version=$4 release=$5 arch=$6 payload=$7 stage=$8 kver=$9
	shift 9
	local spec=$top/SPECS/$name.spec macro provide rpm
	macro=$(_rpm_payload_macro "$payload") || return 1
	mkdir -p "$top/SPECS" "$out" "$stage" || return 1
	{
		printf 'Name: %s\nVersion: %s\nRelease: %s\nSummary: Test stand-in for %s\n' \
			"$name" "$version" "$release" "$name"
		printf 'License: GPL-2.0-only\nURL: https://www.kernel.org/\nAutoReqProv: no\n'
		for provide in "$@"; do
			printf 'Provides: %s\n' "$provide"
		done
		printf '%%description\nThe %s package of a test kernel. It contains no kernel code.\n' "$name"
		printf '%%install\nmkdir -p %%{buildroot}\ncp -a "%s/." %%{buildroot}/\n' "$stage"
		printf '%%files\n%%defattr(-,root,root,-)\n'
		_rpm_files_list "$stage" "$kver"
	} >"$spec"
	SOURCE_DATE_EPOCH=$RPM_FIXTURE_EPOCH rpmbuild -bb --quiet --target "$arch" \
		--define "_topdir $top" --define "_rpmdir $out" \
		--define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
		--define "_binary_payload $macro" \
		--define "__os_install_post %{nil}" --define "debug_package %{nil}" \
		--define "_build_id_links none" --define "_buildhost repack-test" \
		--define "use_source_date_epoch_as_buildtime 1" \
		--define "clamp_mtime_to_source_date_epoch 1" \
		"$spec" >"$top/$name.log" 2>&1 ||
		{ _rpm_error "rpmbuild of $name $version-$release failed: $(tail -n 5 "$top/$name.log")"; return 1; }
	rpm=$out/$name-$version-$release.$arch.rpm
	[ -f "$rpm" ] || { _rpm_error "rpmbuild wrote no $rpm"; return 1; }
	echo "$rpm"
}

# _rpm_system_map FILE: write a System.map of a few thousand symbols, which
# is what tells a real map from Debian's one-line stub.
_rpm_system_map() {
	python3 - "$1" <<'PY' || _rpm_error "cannot write $1"
import sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(f"{0xffffffff81000000 + i * 16:016x} T test_symbol_{i}\n")
PY
}

# _rpm_kernel_files STAGE KVER VERSION: write vmlinuz, config and
# System.map of a test kernel into STAGE (a directory that becomes
# lib/modules/KVER or boot/ with names suffixed by -KVER).
_rpm_kernel_files() {
	local dir=$1 kver=$2 version=$3 suffix=${4:-}
	mkdir -p "$dir" || return 1
	_fixture_bzimage "$dir/vmlinuz$suffix" "$kver" "$version" &&
		_fixture_config x86 "${version%%-*}" xz >"$dir/config$suffix" &&
		_rpm_system_map "$dir/System.map$suffix" || return 1
	chmod 755 "$dir/vmlinuz$suffix"
	chmod 644 "$dir/config$suffix" "$dir/System.map$suffix"
}

# _rpm_devel_tree STAGE KVER: the kernel-devel tree usr/src/kernels/KVER.
_rpm_devel_tree() {
	local dir=$1/usr/src/kernels/$2
	mkdir -p "$dir/include/generated" "$dir/scripts" || return 1
	printf 'VERSION = %s\n# Test stand-in for the kernel Makefile.\n' "${2%%.*}" >"$dir/Makefile"
	_fixture_config x86 "${2%%-*}" xz >"$dir/.config"
	printf '0x00000000\tfailover_register\tnet/core/failover\tEXPORT_SYMBOL_GPL\t\n' >"$dir/Module.symvers"
	printf '#define UTS_RELEASE "%s"\n' "$2" >"$dir/include/generated/utsrelease.h"
	printf '#!/bin/sh\nexit 0\n' >"$dir/scripts/check-test.sh"
	chmod 755 "$dir/scripts/check-test.sh"
}

# make_kernel_rpms [--payload COMP] [--modules-core] [--no-extra]
# [--no-devel] [--boot] [--arch ARCH] [--extra-file PATH] OUTDIR VERSION
# RELEASE: build the RPMs
# of one test kernel into OUTDIR and print their paths, one a line. KVER is
# VERSION-RELEASE.ARCH (ARCH x86_64 unless given).
#   default layout: kernel (empty), kernel-core (vmlinuz, config, System.map
#     and failover.ko.xz in lib/modules/KVER/, the build link), kernel-modules
#     (net_failover and virtio_net), kernel-modules-extra (virtio_blk),
#     kernel-devel (usr/src/kernels/KVER/).
#   --modules-core: failover.ko.xz and modules.* move to kernel-modules-core.
#   --boot: the CentOS 7 layout, one kernel package with
#     /boot/{vmlinuz,config,System.map}-KVER and every module, plus
#     kernel-devel.
#   --payload: zstd (default), xz, gzip or none.
#   --extra-file: add a small file at lib/modules/KVER/PATH to kernel-core.
make_kernel_rpms() {
	local payload=zstd modules_core=0 extra=1 devel=1 boot=0 arch=x86_64 extra_file=""
	while [ $# -gt 0 ]; do
		case $1 in
		--payload) payload=$2; shift 2 ;;
		--modules-core) modules_core=1; shift ;;
		--no-extra) extra=0; shift ;;
		--no-devel) devel=0; shift ;;
		--boot) boot=1; shift ;;
		--arch) arch=$2; shift 2 ;;
		--extra-file) extra_file=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local out=$1 version=$2 release=$3 kver work mods
	kver=$version-$release.$arch
	mkdir -p "$out" && out=$(cd "$out" && pwd) || return 1
	work=$(mktemp -d "${TMPDIR:-/tmp}/rpm-fixture.XXXXXX")
	mods=$work/modules/lib/modules/$kver
	make_fake_modules "$mods" "$kver" xz || { rm -rf "$work"; return 1; }

	if [ "$boot" = 1 ]; then
		_rpm_boot_kernel "$work" "$out" "$version" "$release" "$arch" "$payload" "$kver"
	else
		_rpm_split_kernel "$work" "$out" "$version" "$release" "$arch" "$payload" "$kver" \
			"$modules_core" "$extra" "$extra_file"
	fi || { rm -rf "$work"; return 1; }
	if [ "$devel" = 1 ]; then
		_rpm_devel_tree "$work/devel" "$kver" &&
			_rpm_build "$work/top" "$out" kernel-devel "$version" "$release" "$arch" \
				"$payload" "$work/devel" "$kver" || { rm -rf "$work"; return 1; }
	fi
	rm -rf "$work"
}

# _rpm_move SRC DEST PATH...: move PATH (relative to lib/modules/KVER) from
# the module tree SRC to the stage DEST.
_rpm_move() {
	local src=$1 dest=$2 path
	shift 2
	for path in "$@"; do
		mkdir -p "$dest/$(dirname "$path")" && mv "$src/$path" "$dest/$path" || return 1
	done
}

_rpm_split_kernel() {
	local work=$1 out=$2 version=$3 release=$4 arch=$5 payload=$6 kver=$7
	local modules_core=$8 extra=$9 extra_file=${10}
	local mods=$work/modules/lib/modules/$kver core=$work/core/lib/modules/$kver
	local uname="kernel-uname-r = $kver" stage
	_rpm_kernel_files "$core" "$kver" "$version-$release" || return 1
	if [ -n "$extra_file" ]; then
		mkdir -p "$core/$(dirname "$extra_file")" &&
			echo "written outside the staging directory" >"$core/$extra_file" || return 1
	fi
	ln -s "/usr/src/kernels/$kver" "$core/build"
	stage=$core
	[ "$modules_core" = 1 ] && stage=$work/modules-core/lib/modules/$kver
	_rpm_move "$mods" "$stage" kernel/net/core/failover.ko.xz modules.order modules.builtin \
		modules.builtin.modinfo || return 1
	_rpm_move "$mods" "$work/modules-only/lib/modules/$kver" \
		kernel/drivers/net/net_failover.ko.xz kernel/drivers/net/virtio_net.ko.xz || return 1
	_rpm_move "$mods" "$work/extra/lib/modules/$kver" kernel/drivers/block/virtio_blk.ko.xz || return 1

	_rpm_build "$work/top" "$out" kernel "$version" "$release" "$arch" "$payload" \
		"$work/empty" "$kver" &&
		_rpm_build "$work/top" "$out" kernel-core "$version" "$release" "$arch" "$payload" \
			"$work/core" "$kver" "$uname" "kernel-core-uname-r = $kver" &&
		_rpm_build "$work/top" "$out" kernel-modules "$version" "$release" "$arch" "$payload" \
			"$work/modules-only" "$kver" "kernel-modules-$arch = $version-$release" || return 1
	if [ "$modules_core" = 1 ]; then
		_rpm_build "$work/top" "$out" kernel-modules-core "$version" "$release" "$arch" \
			"$payload" "$work/modules-core" "$kver" || return 1
	fi
	if [ "$extra" = 1 ]; then
		_rpm_build "$work/top" "$out" kernel-modules-extra "$version" "$release" "$arch" \
			"$payload" "$work/extra" "$kver" || return 1
	fi
}

_rpm_boot_kernel() {
	local work=$1 out=$2 version=$3 release=$4 arch=$5 payload=$6 kver=$7
	local stage=$work/boot-kernel
	_rpm_kernel_files "$stage/boot" "$kver" "$version-$release" "-$kver" || return 1
	mkdir -p "$stage/lib/modules" && mv "$work/modules/lib/modules/$kver" "$stage/lib/modules/" &&
		ln -s "/usr/src/kernels/$kver" "$stage/lib/modules/$kver/build" || return 1
	_rpm_build "$work/top" "$out" kernel "$version" "$release" "$arch" "$payload" "$stage" \
		"$kver" "kernel-uname-r = $kver"
}

# make_rpm_repo [--compress gz|xz|bz2|zstd] [--extra-entries] DIR RPM...:
# copy the RPMs into DIR/Packages/k/ and run createrepo_c on DIR.
#   --compress: how primary.xml and the other metadata are compressed.
#     createrepo_c 0.17 writes no zstd, so for zstd it writes gzip and the
#     files are then recompressed with zstd and repomd.xml updated.
#   --extra-entries: also list a primary_zck entry (a zchunk file repack
#     must never read) beside the primary_db sqlite entry createrepo_c
#     writes.
make_rpm_repo() {
	local compress=gz extra=0
	while [ $# -gt 0 ]; do
		case $1 in
		--compress) compress=$2; shift 2 ;;
		--extra-entries) extra=1; shift ;;
		*) break ;;
		esac
	done
	local dir=$1 rpm type
	shift
	mkdir -p "$dir/Packages/k" || return 1
	for rpm in "$@"; do
		cp "$rpm" "$dir/Packages/k/" || return 1
	done
	type=$compress
	[ "$compress" = zstd ] && type=gz
	rm -rf "$dir/repodata"
	createrepo_c --general-compress-type "$type" --database "$dir" >"$dir.createrepo.log" 2>&1 ||
		{ _rpm_error "createrepo_c $dir failed: $(tail -n 5 "$dir.createrepo.log")"; return 1; }
	rm -f "$dir.createrepo.log"
	if [ "$compress" = zstd ]; then
		repomd_recompress_zstd "$dir" || return 1
	fi
	if [ "$extra" = 1 ]; then
		repomd_add_zck_entry "$dir" || return 1
	fi
}

# _repomd_edit DIR PYTHON: run PYTHON with `root` (DIR/repodata/repomd.xml
# parsed by ElementTree), `ns`, `sha256(path)` and `save()` defined.
_repomd_edit() {
	python3 - "$1" "$2" <<'PY' || _rpm_error "cannot edit $1/repodata/repomd.xml"
import hashlib, os, sys
import xml.etree.ElementTree as ET
repo, code = sys.argv[1], sys.argv[2]
NS = "http://linux.duke.edu/metadata/repo"
ET.register_namespace("", NS)
ET.register_namespace("rpm", "http://linux.duke.edu/metadata/rpm")
ns = {"r": NS}
path = os.path.join(repo, "repodata", "repomd.xml")
tree = ET.parse(path)
root = tree.getroot()
def sha256(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()
def entry(kind):
    return root.find(f"r:data[@type='{kind}']", ns)
def set_file(data, new_path, open_path=None):
    """Point a <data> entry at new_path (relative to the repo) and update its sums."""
    full = os.path.join(repo, new_path)
    data.find("r:location", ns).set("href", new_path)
    data.find("r:checksum", ns).text = sha256(full)
    data.find("r:size", ns).text = str(os.path.getsize(full))
    if open_path is not None:
        data.find("r:open-checksum", ns).text = sha256(open_path)
        data.find("r:open-size", ns).text = str(os.path.getsize(open_path))
def save():
    tree.write(path, xml_declaration=True, encoding="UTF-8")
exec(code)
save()
PY
}

# repomd_recompress_zstd DIR: recompress DIR's primary, filelists and
# other XML from gzip to zstd and point repomd.xml at the new files.
repomd_recompress_zstd() {
	local dir=$1 gz
	for gz in "$dir"/repodata/*.xml.gz; do
		gzip -dc "$gz" | zstd -q -19 -o "${gz%.gz}.zst" || { _rpm_error "zstd of $gz failed"; return 1; }
		rm -f "$gz"
	done
	_repomd_edit "$dir" '
for kind in ("primary", "filelists", "other"):
    data = entry(kind)
    old = data.find("r:location", ns).get("href")
    set_file(data, old[:-len(".gz")] + ".zst")
'
}

# repomd_add_zck_entry DIR: add a <data type="primary_zck"> entry whose file
# is not zchunk at all, so a reader that took it would fail.
repomd_add_zck_entry() {
	local dir=$1
	printf 'not a zchunk file: repack must read <data type="primary"> only\n' \
		>"$dir/repodata/primary.xml.zck"
	_repomd_edit "$dir" '
data = ET.SubElement(root, f"{{{NS}}}data", type="primary_zck")
for tag in ("checksum", "open-checksum", "header-checksum"):
    ET.SubElement(data, f"{{{NS}}}{tag}", type="sha256").text = "0" * 64
ET.SubElement(data, f"{{{NS}}}location", href="repodata/primary.xml.zck")
ET.SubElement(data, f"{{{NS}}}size").text = "64"
# Put it first, where a careless reader would take it.
root.remove(data)
root.insert(1, data)
'
}

# repomd_replace_primary DIR FILE: make FILE (uncompressed text) DIR's
# primary metadata, gzip-compressed, with matching checksums in repomd.xml.
repomd_replace_primary() {
	local dir=$1 text=$2
	gzip -n -9 -c "$text" >"$dir/repodata/replaced-primary.xml.gz" || return 1
	_repomd_edit "$dir" "
data = entry('primary')
set_file(data, 'repodata/replaced-primary.xml.gz', '$text')
"
}

# sign_repomd DIR KEYDIR: write DIR/repodata/repomd.xml.asc, an armored
# detached signature by the key in KEYDIR (made with make_test_key).
sign_repomd() {
	local md=$1/repodata/repomd.xml
	rm -f "$md.asc"
	gpg --homedir "$2/gnupg" --batch --quiet --armor --detach-sign -o "$md.asc" "$md" ||
		_rpm_error "gpg could not sign $md"
}

# make_koji_tree ROOT SOURCE VERSION RELEASE ARCH RPM...: lay the RPMs out
# as Koji's package tree does, ROOT/SOURCE/VERSION/RELEASE/ARCH/, with
# Apache-style index.html pages in the ARCH and VERSION directories.
# VERSION's page also lists every other release directory already there.
make_koji_tree() {
	local root=$1 source=$2 version=$3 release=$4 arch=$5 rpm dir
	shift 5
	dir=$root/$source/$version/$release/$arch
	mkdir -p "$dir" || return 1
	for rpm in "$@"; do
		cp "$rpm" "$dir/" || return 1
	done
	_koji_index_page "$dir" "/packages/$source/$version/$release/$arch" &&
		_koji_index_page "$root/$source/$version" "/packages/$source/$version"
}

# _koji_index_page DIR TITLE: write DIR/index.html listing DIR's entries
# the way Apache's mod_autoindex does.
_koji_index_page() {
	python3 - "$1" "$2" <<'PY' || _rpm_error "cannot write $1/index.html"
import html, os, sys, time
d, title = sys.argv[1], sys.argv[2]
rows = []
for name in sorted(os.listdir(d)):
    if name == "index.html":
        continue
    p = os.path.join(d, name)
    isdir = os.path.isdir(p)
    href = name + ("/" if isdir else "")
    size = "-" if isdir else f"{os.path.getsize(p) // 1024 + 1}K"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(1700000000))
    icon = "/icons/folder.gif" if isdir else "/icons/unknown.gif"
    rows.append(f'<tr><td valign="top"><img src="{icon}" alt="[   ]"></td>'
                f'<td><a href="{html.escape(href)}">{html.escape(href)}</a></td>'
                f'<td align="right">{stamp}  </td><td align="right">{size}</td><td>&nbsp;</td></tr>')
page = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of {title}</title>
 </head>
 <body>
<h1>Index of {title}</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="{os.path.dirname(title.rstrip('/'))}/">Parent Directory</a></td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
{chr(10).join(rows)}
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.62 (Fedora Linux) Server at kojipkgs.test Port 443</address>
</body></html>
"""
open(os.path.join(d, "index.html"), "w").write(page)
PY
}

# rpm_payload_offset RPM: print the byte offset where RPM's payload starts
# (after the lead, the signature header and its padding, and the header).
rpm_payload_offset() {
	python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read(1 << 20)
def header_end(start):
    magic, _, count, size = struct.unpack(">3sBxxxxII", data[start:start + 16])
    if magic != b"\x8e\xad\xe8":
        sys.exit(f"no header magic at {start}")
    return start + 16 + 16 * count + size
sig_end = header_end(96)
sig_end += (8 - sig_end % 8) % 8
print(header_end(sig_end))
PY
}

# make_hostile_rpm OUT RPM: copy RPM to OUT with the payload rewritten so
# that the entry whose path contains "/zz/" has ".." in place of "zz". RPM
# must have an xz payload and such a file. The header stays untouched and
# valid, while the payload now escapes the package root.
make_hostile_rpm() {
	local out=$1 rpm=$2 offset
	offset=$(rpm_payload_offset "$rpm") || { _rpm_error "cannot find the payload of $rpm"; return 1; }
	python3 - "$rpm" "$out" "$offset" <<'PY' || _rpm_error "cannot rewrite the payload of $rpm"
import lzma, sys
src, out, offset = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
cpio = lzma.decompress(data[offset:])
if b"/zz/" not in cpio:
    sys.exit("no /zz/ entry in the payload")
cpio = cpio.replace(b"/zz/", b"/../", 1)
open(out, "wb").write(data[:offset] + lzma.compress(cpio, preset=6))
PY
}

# corrupt_rpm_header OUT RPM: copy RPM to OUT with one byte of its main
# header's description changed, so the header digest no longer matches.
corrupt_rpm_header() {
	python3 - "$2" "$1" <<'PY' || _rpm_error "cannot corrupt the header of $2"
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.find(b"It contains no kernel code.")
if at < 0:
    sys.exit("description not found")
data[at] ^= 0x20
open(sys.argv[2], "wb").write(data)
PY
}
