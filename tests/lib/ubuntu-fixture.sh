# Ubuntu-style fixtures built at test time with the real tools: kernel
# packages laid out as Ubuntu's (dpkg-deb), archives of them
# (make_debian_mirror from debian-fixture.sh) and trees of Ubuntu mainline
# builds with the index pages Apache's mod_autoindex writes. Source after
# tests/lib/common.sh and tests/lib/debian-fixture.sh. Every function
# returns non-zero and prints "ubuntu-fixture: ..." on stderr when a tool
# fails.
#
# The packages copy the names, control fields and file layout of Ubuntu's.
# Since 4.15 these are linux-image-5.15.0-91-generic (signed, /boot/vmlinuz
# only), linux-image-unsigned-*, linux-modules-* (/boot/config,
# /boot/System.map and the common modules), linux-modules-extra-*,
# linux-headers-* and the architecture-independent headers of the source
# (linux-headers-5.15.0-91, linux-hwe-5.15-headers-5.15.0-91). Before 4.15
# linux-image-* contains the common modules and linux-image-extra-* the
# rest.

UBUNTU_FIXTURE_MAINTAINER="Ubuntu Kernel Team <kernel-team@lists.ubuntu.com>"

_ubuntu_error() {
	echo "ubuntu-fixture: $*" >&2
	return 1
}

# _ubuntu_config KVER: print a kernel .config for the stand-in modules.
_ubuntu_config() {
	cat <<EOF
#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 $1 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="x86_64-linux-gnu-gcc-11 (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0"
CONFIG_LOCALVERSION=""
CONFIG_VERSION_SIGNATURE="Ubuntu $1 test fixture"
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODVERSIONS=y
CONFIG_NET=y
CONFIG_FAILOVER=m
CONFIG_NET_FAILOVER=m
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=m
CONFIG_VIRTIO_NET=m
CONFIG_EXT4_FS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
EOF
}

# _ubuntu_system_map: print a System.map of 400 stand-in symbols, so that
# it is larger than the stub Debian ships and counts as a real map.
_ubuntu_system_map() {
	awk 'BEGIN { printf "0000000000000000 D __per_cpu_start\n";
		for (i = 0; i < 400; i++) printf "ffffffff81%06x T fixture_symbol_%d\n", i * 64, i }'
}

# _ubuntu_doc DIR PACKAGE: add usr/share/doc/PACKAGE/copyright.
_ubuntu_doc() {
	echo "Test fixture standing in for Ubuntu's $2 package; it contains no kernel code." |
		_fixture_write "$1/usr/share/doc/$2/copyright" 644
}

# The _ubuntu_*_deb builders read the variables make_ubuntu_kernel_debs
# sets: abi, flavour, kver, version, source, signed_source, common, arch,
# comp, modules (the directory of the compiled stand-in modules),
# module_part (common, or all when there is no extra package), work and
# out.

# _ubuntu_image_deb KIND: build the image package. KIND signed gives
# linux-image-KVER with /boot/vmlinuz only, unsigned gives
# linux-image-unsigned-KVER, legacy gives the pre-4.15 linux-image-KVER
# with config, System.map and the common modules.
_ubuntu_image_deb() {
	local kind=$1 pkg=linux-image-$kver src=$source conflicts=linux-image-unsigned-$kver
	local depends="linux-base (>= 4.5ubuntu1~16.04.1), linux-modules-$kver" built_using="" dir
	case $kind in
	signed) src=$signed_source built_using="linux (= $version)" ;;
	unsigned) pkg=linux-image-unsigned-$kver conflicts=linux-image-$kver ;;
	legacy) depends="linux-base, module-init-tools | kmod, linux-firmware" conflicts="" ;;
	esac
	dir=$work/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $src
Version: $version
Architecture: $arch
Maintainer: $UBUNTU_FIXTURE_MAINTAINER
Depends: $depends
Recommends: grub-pc | grub-efi-amd64 | grub-efi-ia32 | grub | lilo, initramfs-tools | linux-initramfs-tool
Suggests: fdutils, linux-doc | linux-source-${kver%%-*}, linux-tools, linux-headers-$kver
Conflicts: $conflicts
Built-Using: $built_using
Section: kernel
Priority: optional
Provides: fuse-module, linux-image, spl-modules, virtualbox-guest-modules, wireguard-modules (= 1.0.0)
Description: Linux kernel image for version ${kver%%-*} on 64 bit x86 SMP
 This package contains the Linux kernel image for version ${kver%%-*} on
 64 bit x86 SMP, rebuilt as a test fixture: it does not boot.
EOF
	mkdir -p "$dir/boot"
	_fixture_bzimage "$dir/boot/vmlinuz-$kver" "$kver" "$version" || return 1
	# Ubuntu ships the kernel, its map and its config readable by root only.
	chmod 600 "$dir/boot/vmlinuz-$kver"
	if [ "$kind" = legacy ]; then
		_ubuntu_module_files "$dir" "$module_part" || return 1
	fi
	_ubuntu_doc "$dir" "$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _ubuntu_module_files DIR PART: copy the common modules (PART common:
# config, System.map, failover and virtio_blk, the modules.* lists), the
# extra ones (PART extra: virtio_net, net_failover) or both (PART all, for
# a kernel without an extra package) into the package tree DIR.
_ubuntu_module_files() {
	local dir=$1 part=$2 moddir=$1/lib/modules/$kver
	mkdir -p "$moddir"
	if [ "$part" = all ]; then
		_ubuntu_module_files "$dir" common && _ubuntu_module_files "$dir" extra
		return
	fi
	if [ "$part" = common ]; then
		_ubuntu_config "$kver" | _fixture_write "$dir/boot/config-$kver" 644
		_ubuntu_system_map | _fixture_write "$dir/boot/System.map-$kver" 600
		cp -a "$modules"/modules.order "$modules"/modules.builtin \
			"$modules"/modules.builtin.modinfo "$moddir/" &&
			mkdir -p "$moddir/kernel/net/core" "$moddir/kernel/drivers/block" &&
			cp -a "$modules"/kernel/net/core/failover.ko* "$moddir/kernel/net/core/" &&
			cp -a "$modules"/kernel/drivers/block/virtio_blk.ko* "$moddir/kernel/drivers/block/"
	else
		mkdir -p "$moddir/kernel/drivers/net" &&
			cp -a "$modules"/kernel/drivers/net/*.ko* "$moddir/kernel/drivers/net/"
	fi || _ubuntu_error "cannot copy the stand-in modules of $kver"
}

# _ubuntu_modules_deb: build linux-modules-KVER.
_ubuntu_modules_deb() {
	local pkg=linux-modules-$kver dir
	dir=$work/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $source
Version: $version
Architecture: $arch
Maintainer: $UBUNTU_FIXTURE_MAINTAINER
Section: kernel
Priority: optional
Description: Linux kernel extra modules for version ${kver%%-*} on 64 bit x86 SMP
 Contains the corresponding System.map file, the modules built by the
 packager, and scripts that try to ensure that the system is not left in an
 unbootable state after an update. Test fixture.
EOF
	_ubuntu_module_files "$dir" "$module_part" || return 1
	_ubuntu_doc "$dir" "$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _ubuntu_extra_deb KIND: build linux-modules-extra-KVER (KIND modules) or
# the pre-4.15 linux-image-extra-KVER (KIND image).
_ubuntu_extra_deb() {
	local pkg=linux-modules-extra-$kver dir
	local depends="linux-image-$kver | linux-image-unsigned-$kver, linux-modules-$kver, wireless-regdb"
	if [ "$1" = image ]; then
		pkg=linux-image-extra-$kver depends="linux-image-$kver, crda | wireless-crda"
	fi
	dir=$work/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $source
Version: $version
Architecture: $arch
Maintainer: $UBUNTU_FIXTURE_MAINTAINER
Depends: $depends
Section: kernel
Priority: optional
Description: Linux kernel extra modules for version ${kver%%-*} on 64 bit x86 SMP
 This package contains the Linux kernel extra modules for version
 ${kver%%-*}, rebuilt as a test fixture.
EOF
	_ubuntu_module_files "$dir" extra || return 1
	_ubuntu_doc "$dir" "$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _ubuntu_headers_deb: build linux-headers-KVER, whose tree links into the
# common headers as Ubuntu's does.
_ubuntu_headers_deb() {
	local pkg=linux-headers-$kver dir src
	dir=$work/$pkg
	src=$dir/usr/src/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $source
Version: $version
Architecture: $arch
Maintainer: $UBUNTU_FIXTURE_MAINTAINER
Depends: $common, libc6 (>= 2.34), libelf1 (>= 0.142), libssl3 (>= 3.0.0~~alpha1), zlib1g (>= 1:1.2.3.3)
Provides: linux-headers, linux-headers-3.0
Section: devel
Priority: optional
Description: Linux kernel headers for version ${kver%%-*} on 64 bit x86 SMP
 This package provides kernel header files for version ${kver%%-*} on 64 bit
 x86 SMP, rebuilt as a test fixture.
EOF
	_ubuntu_config "$kver" | _fixture_write "$src/.config" 644
	printf '#define UTS_RELEASE "%s"\n' "$kver" | _fixture_write "$src/include/generated/utsrelease.h" 644
	ln -s "../$common/Makefile" "$src/Makefile"
	ln -s "../../$common/include/linux" "$src/include/linux"
	mkdir -p "$dir/lib/modules/$kver"
	ln -s "/usr/src/$pkg" "$dir/lib/modules/$kver/build"
	_ubuntu_doc "$dir" "$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _ubuntu_common_headers_deb: build the architecture-independent headers
# of the source (linux-headers-ABI or linux-SOURCE-headers-ABI).
_ubuntu_common_headers_deb() {
	local pkg=$common dir src
	dir=$work/$pkg
	src=$dir/usr/src/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $source
Version: $version
Architecture: all
Maintainer: $UBUNTU_FIXTURE_MAINTAINER
Depends: coreutils | fileutils (>= 4.0)
Multi-Arch: foreign
Section: devel
Priority: optional
Description: Header files related to Linux kernel version ${kver%%-*}
 This package provides kernel header files for version ${kver%%-*}, for
 sites that want the latest kernel headers. Test fixture.
EOF
	printf 'VERSION = %s\nPATCHLEVEL = %s\n# Top-level kernel Makefile stand-in.\n' \
		"${abi%%.*}" "$(cut -d. -f2 <<<"$abi")" | _fixture_write "$src/Makefile" 644
	printf '#ifndef _LINUX_MODULE_H\n#define _LINUX_MODULE_H\n#endif\n' |
		_fixture_write "$src/include/linux/module.h" 644
	echo "# arch/x86/Makefile stand-in" | _fixture_write "$src/arch/x86/Makefile" 644
	_ubuntu_doc "$dir" "$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# make_ubuntu_kernel_debs [OPTIONS] OUTDIR ABI FLAVOUR VERSION COMPRESSOR:
# build the packages of one Ubuntu kernel with dpkg-deb -Z COMPRESSOR into
# OUTDIR and print their paths, one a line. KVER is ABI-FLAVOUR
# (5.15.0-91-generic); mainline builds use the ABI 6.1.5-060105 and the
# version 6.1.5-060105.202301121031.
# Options: --image signed|unsigned|both|legacy (default both: the signed
# and the unsigned image; legacy: the pre-4.15 image holding the common
# modules, with linux-image-extra as the extra package), --no-extra,
# --no-headers, --source NAME (default linux; linux-hwe-5.15 names the
# common headers linux-hwe-5.15-headers-ABI and the signed source
# linux-signed-hwe-5.15), --arch ARCH (control fields only: the stand-in
# modules stay host ELF objects), --module-compress xz|zstd.
make_ubuntu_kernel_debs() {
	local image=both extra=1 headers=1 source=linux arch=amd64 modcomp=none
	while [ $# -gt 0 ]; do
		case $1 in
		--image) image=$2; shift ;;
		--no-extra) extra=0 ;;
		--no-headers) headers=0 ;;
		--source) source=$2; shift ;;
		--arch) arch=$2; shift ;;
		--module-compress) modcomp=$2; shift ;;
		--*) _ubuntu_error "make_ubuntu_kernel_debs: unknown option $1"; return 1 ;;
		*) break ;;
		esac
		shift
	done
	[ $# = 5 ] || {
		_ubuntu_error "usage: make_ubuntu_kernel_debs [OPTIONS] OUTDIR ABI FLAVOUR VERSION COMPRESSOR"
		return 1
	}
	local out=$1 abi=$2 flavour=$3 version=$4 comp=$5
	local kver=$2-$3 signed_source=linux-signed${source#linux} common work modules status=0
	local module_part=common
	[ "$extra" = 1 ] || module_part=all
	common=$source-headers-$abi
	mkdir -p "$out" && out=$(cd "$out" && pwd) || return 1
	work=$(mktemp -d "${TMPDIR:-/tmp}/ubuntu-debs.XXXXXX")
	modules=$work/modules
	make_fake_modules "$modules" "$kver" "$modcomp" || { rm -rf "$work"; return 1; }

	case $image in
	signed | legacy | unsigned) _ubuntu_image_deb "$image" || status=1 ;;
	both) _ubuntu_image_deb signed && _ubuntu_image_deb unsigned || status=1 ;;
	*) _ubuntu_error "unknown --image kind '$image'"; status=1 ;;
	esac
	if [ "$status" = 0 ] && [ "$image" != legacy ]; then
		_ubuntu_modules_deb || status=1
	fi
	if [ "$status" = 0 ] && [ "$extra" = 1 ]; then
		if [ "$image" = legacy ]; then _ubuntu_extra_deb image; else _ubuntu_extra_deb modules; fi ||
			status=1
	fi
	if [ "$status" = 0 ] && [ "$headers" = 1 ]; then
		_ubuntu_headers_deb && _ubuntu_common_headers_deb || status=1
	fi
	rm -rf "$work"
	return "$status"
}

# make_ubuntu_suite [OPTIONS] ROOT KEYDIR SUITE [DEBS...]: write suite
# SUITE of an Ubuntu archive at ROOT (pool/main/<initial>/<source>/ and
# dists/SUITE, signed with KEYDIR's key) as Ubuntu lays it out: the
# -security suite shares the pool and the "main" component. OPTIONS go to
# make_debian_mirror (--arch LIST, --unsigned, ...).
make_ubuntu_suite() {
	local -a opts=()
	while [ $# -gt 0 ] && [[ $1 == --* ]]; do
		case $1 in
		--arch) opts+=("$1" "$2"); shift ;;
		*) opts+=("$1") ;;
		esac
		shift
	done
	[ $# -ge 3 ] || { _ubuntu_error "usage: make_ubuntu_suite [OPTIONS] ROOT KEYDIR SUITE [DEBS...]"; return 1; }
	make_debian_mirror "${opts[@]}" --origin Ubuntu --label Ubuntu --pool pool \
		--suite-field "$3" --components-field main "$@"
}

# --- mainline builds -------------------------------------------------------

# mainline_index_page DIR URLPATH: write DIR/index.html as Apache 2.4's
# mod_autoindex renders a directory with FancyIndexing and HTMLTable: a
# sort header, the parent link (absolute), one row per entry sorted by name
# with long names cut to 20 characters and "..>", and the contents of
# DIR/HEADER.html, when present, in place of the <h1> title. URLPATH is
# the page's path on the server ("/mainline/v6.1.5/").
mainline_index_page() {
	python3 - "$1" "$2" <<'PY' || _ubuntu_error "cannot write the index page of $1"
import html, os, sys, time, urllib.parse
d, path = sys.argv[1], sys.argv[2]

def size(n, is_dir):
    if is_dir:
        return "  - "
    if n < 1024:
        return "%3d " % n
    for unit in "KMG":
        n /= 1024.0
        if n < 9.95:
            return "%.1f%s" % (n, unit)
        if n < 1023.5 or unit == "G":
            return "%3d%s" % (round(n), unit)

def icon(name, is_dir):
    if is_dir:
        return "/icons/folder.gif", "[DIR]"
    if name.endswith((".html", ".txt")) or name in ("CHECKSUMS", "BUILT", "status", "log"):
        return "/icons/text.gif", "[TXT]"
    return "/icons/unknown.gif", "[   ]"

rows = []
for name in sorted(n for n in os.listdir(d) if n != "index.html"):
    full = os.path.join(d, name)
    is_dir = os.path.isdir(full)
    shown = name + "/" if is_dir else name
    # mod_autoindex leaves these unescaped; a colon gets a "./" prefix.
    href = urllib.parse.quote(shown, safe="/$-_.+!*'(),:@&=~")
    if ":" in shown:
        href = "./" + href
    text = shown if len(shown) <= 23 else shown[:20] + "..>"
    st = os.stat(full)
    src, alt = icon(name, is_dir)
    rows.append('<tr><td valign="top"><img src="%s" alt="%s"></td><td><a href="%s">%s</a>%s</td>'
                '<td align="right">%s  </td><td align="right">%s</td><td>&nbsp;</td></tr>'
                % (src, alt, html.escape(href), html.escape(text), " " * max(0, 23 - len(text)),
                   time.strftime("%Y-%m-%d %H:%M", time.gmtime(st.st_mtime)), size(st.st_size, is_dir)))

title = path.rstrip("/") or "/"
parent = os.path.dirname(path.rstrip("/")).rstrip("/") + "/"
header_file = os.path.join(d, "HEADER.html")
header = open(header_file).read() if os.path.exists(header_file) else "<h1>Index of %s</h1>\n" % html.escape(title)
page = ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html>\n <head>\n  <title>Index of %s</title>\n'
        ' </head>\n <body>\n%s  <table>\n'
        '   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th>'
        '<th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th>'
        '<th><a href="?C=D;O=A">Description</a></th></tr>\n'
        '   <tr><th colspan="5"><hr></th></tr>\n'
        '<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="%s">Parent Directory</a>'
        '       </td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>\n'
        '%s\n   <tr><th colspan="5"><hr></th></tr>\n</table>\n'
        '<address>Apache/2.4.52 (Ubuntu) Server at 127.0.0.1 Port 80</address>\n</body></html>\n'
        % (html.escape(title), header, html.escape(parent), "\n".join(rows)))
with open(os.path.join(d, "index.html"), "w") as f:
    f.write(page)
PY
}

# mainline_checksums DIR [KEYDIR]: write DIR/CHECKSUMS for every file of
# DIR except the index page and the build metadata, with a
# "# Checksums-Sha1:" and a "# Checksums-Sha256:" block of
# "<hex>  <name>" lines, and, with KEYDIR, the detached signature
# DIR/CHECKSUMS.gpg by KEYDIR's key.
mainline_checksums() {
	local dir=$1 keydir=${2:-} algo name
	(
		cd "$dir" || exit 1
		for algo in 1 256; do
			echo "# Checksums-Sha$algo:"
			for name in *; do
				case $name in
				index.html | HEADER.html | CHECKSUMS* | BUILT | status | log | BUILD.LOG.*) continue ;;
				esac
				[ -f "$name" ] && "sha${algo}sum" "$name"
			done
			echo
		done
	) >"$dir/CHECKSUMS.new" && mv "$dir/CHECKSUMS.new" "$dir/CHECKSUMS" ||
		{ _ubuntu_error "cannot write $dir/CHECKSUMS"; return 1; }
	rm -f "$dir/CHECKSUMS.gpg"
	[ -z "$keydir" ] ||
		gpg --homedir "$keydir/gnupg" --batch --yes --quiet --digest-algo SHA256 \
			--detach-sign --output "$dir/CHECKSUMS.gpg" "$dir/CHECKSUMS" ||
		_ubuntu_error "gpg could not sign $dir/CHECKSUMS"
}

# mainline_version_abi VERSION: print the ABI field of the packages of an
# upstream version: 061305 for 6.13.5, 060200rc3 for 6.2-rc3.
mainline_version_abi() {
	local numbers=${1%%-*} rc="" major minor patch
	[[ $1 == *-rc* ]] && rc=rc${1##*-rc}
	IFS=. read -r major minor patch <<<"$numbers"
	printf '%02d%02d%02d%s\n' "$major" "$minor" "${patch:-0}" "$rc"
}

# mainline_add_build [OPTIONS] DIR VERSION ARCH FLAVOUR TIMESTAMP: build
# the packages of one mainline build of upstream VERSION (6.1.5, 6.1,
# 6.2-rc3) into DIR and print their paths (--no-modules removes linux-modules
# after they are printed): linux-image-unsigned and
# linux-modules (4.17 and later) or linux-image (--legacy), and both
# headers packages unless --no-headers. Options: --legacy, --no-headers,
# --no-modules (an incomplete build), --comp xz|zstd (default zstd).
mainline_add_build() {
	local image=unsigned headers="" comp=zstd modules=1
	while [ $# -gt 0 ]; do
		case $1 in
		--legacy) image=legacy ;;
		--no-headers) headers=--no-headers ;;
		--no-modules) modules=0 ;;
		--comp) comp=$2; shift ;;
		--*) _ubuntu_error "mainline_add_build: unknown option $1"; return 1 ;;
		*) break ;;
		esac
		shift
	done
	local dir=$1 version=$2 arch=$3 flavour=$4 stamp=$5 numbers kver_abi
	numbers=${version%%-*}
	[[ $numbers == *.*.* ]] || numbers=$numbers.0
	kver_abi=$numbers-$(mainline_version_abi "$version")
	# shellcheck disable=SC2086
	make_ubuntu_kernel_debs --image "$image" --no-extra $headers --arch "$arch" \
		"$dir" "$kver_abi" "$flavour" "$kver_abi.$stamp" "$comp" || return 1
	[ "$modules" = 1 ] || rm -f "$dir"/linux-modules-"$kver_abi"-"$flavour"_*
}

# mainline_header_page DIR: write DIR/HEADER.html, the build report at the
# top of a version directory's page, linking the packages of every
# architecture: DIR/<arch>/*.deb for the per-architecture layout, else
# DIR/*_<arch>.deb. An architecture whose status is not 0 is reported as
# failed. NOTE: the wording is a reconstruction of the real report; repack
# reads only its links.
mainline_header_page() {
	local dir=$1 version arch deb status
	version=$(basename "$dir")
	{
		echo "<p>These binary packages represent builds of the mainline or stable Linux kernel tree at the commit below:"
		echo "<p>  <a href=\"https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/tag/?h=$version\">$version</a>"
		echo "<p>To obtain the source from which they are built fetch the commit below:"
		echo "<pre>  git://git.launchpad.net/~ubuntu-kernel-test/ubuntu/+source/linux/+git/mainline-crack cod/mainline/$version</pre>"
		for arch in amd64 arm64 armhf i386 ppc64el s390x; do
			if [ -d "$dir/$arch" ]; then
				status=$(cat "$dir/$arch/status" 2>/dev/null || echo 0)
				if [ "$status" = 0 ]; then
					echo "<p>Build for $arch succeeded (see <a href=\"$arch/log\">log</a>):<br>"
				else
					echo "<p>Build for $arch failed (see <a href=\"$arch/log\">log</a>)<br>"
				fi
				for deb in "$dir/$arch"/*.deb; do
					[ -f "$deb" ] && printf '&nbsp;&nbsp;<a href="%s/%s">%s</a><br>\n' "$arch" "${deb##*/}" "${deb##*/}"
				done
			elif compgen -G "$dir/*_$arch.deb" >/dev/null; then
				echo "<p>Build for $arch succeeded (see <a href=\"BUILD.LOG.$arch\">BUILD.LOG.$arch</a>):<br>"
				for deb in "$dir"/*_"$arch".deb "$dir"/*_all.deb; do
					[ -f "$deb" ] && printf '&nbsp;&nbsp;<a href="%s">%s</a><br>\n' "${deb##*/}" "${deb##*/}"
				done
			fi
		done
	} >"$dir/HEADER.html"
}

# mainline_finish_version [--unsigned] DIR KEYDIR URLPATH: write the
# metadata and index pages of a version directory whose packages are in
# place. Per-architecture layout (DIR/<arch>/): each arch directory with
# packages gets CHECKSUMS, CHECKSUMS.gpg (unless --unsigned), a log and a
# status of 0 unless one is there already. Flat layout: DIR gets CHECKSUMS,
# CHECKSUMS.gpg (unless --unsigned), BUILT (the built architectures, one a
# line) and BUILD.LOG.<arch>. Then HEADER.html and index.html everywhere.
# URLPATH is the directory's path on the server ("/mainline/v6.1.5/").
mainline_finish_version() {
	local signed=1
	[ "$1" != --unsigned ] || { signed=0; shift; }
	local dir=$1 keydir=$2 path=$3 sub arch key="" archdir
	[ "$signed" = 0 ] || key=$keydir
	local -a arches=()
	for sub in "$dir"/*/; do
		[ -d "$sub" ] && arches+=("$(basename "$sub")")
	done
	if [ "${#arches[@]}" -gt 0 ]; then
		for arch in "${arches[@]}"; do
			archdir=$dir/$arch
			[ -e "$archdir/log" ] || echo "build log of $arch: test fixture" >"$archdir/log"
			if compgen -G "$archdir/*.deb" >/dev/null; then
				[ -e "$archdir/status" ] || echo 0 >"$archdir/status"
				mainline_checksums "$archdir" "$key" || return 1
			fi
			mainline_index_page "$archdir" "$path$arch/" || return 1
		done
	else
		: >"$dir/BUILT"
		for arch in amd64 arm64 armhf i386 ppc64el s390x; do
			compgen -G "$dir/*_$arch.deb" >/dev/null || continue
			echo "$arch" >>"$dir/BUILT"
			echo "build log of $arch: test fixture" >"$dir/BUILD.LOG.$arch"
		done
		mainline_checksums "$dir" "$key" || return 1
	fi
	mainline_header_page "$dir" && mainline_index_page "$dir" "$path"
}
