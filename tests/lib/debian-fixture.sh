# Debian-style fixtures built at test time with the real tools: signing keys
# (gpg), kernel packages (dpkg-deb, gcc for stand-in modules), hostile
# packages (python3 tarfile, ar) and signed mirrors (apt-ftparchive, gpg).
# Source after tests/lib/common.sh. Every function returns non-zero and
# prints "debian-fixture: ..." on stderr when a tool fails.
#
# The packages copy the names, control fields and layout of Debian 12's
# kernel packages (linux-image-6.1.0-57-cloud-amd64 6.1.192-3 and its
# headers, common headers and kbuild packages).

DEBIAN_FIXTURE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# File mtimes and SOURCE_DATE_EPOCH of fixture packages, so the same
# arguments build byte-identical .debs.
: "${DEBIAN_FIXTURE_EPOCH:=1700000000}"
DEBIAN_FIXTURE_MAINTAINER="Debian Kernel Team <debian-kernel@lists.debian.org>"
# Debian's /boot/System.map stub, byte for byte, as in linux-image-6.1.0-57-cloud-amd64.
DEBIAN_SYSTEM_MAP_STUB='ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package'

_fixture_error() {
	echo "debian-fixture: $*" >&2
	return 1
}

# _fixture_kbuild_series VERSION: print the x.y series of a Debian kernel
# version (6.1.192-3 and 6.2~rc3-1~exp1 give 6.1 and 6.2).
_fixture_kbuild_series() {
	sed -n 's/^\([0-9]*\.[0-9]*\).*/\1/p' <<<"$1"
}

# _fixture_arch_dir ARCH: print the kernel's arch/ directory for a Debian
# architecture.
_fixture_arch_dir() {
	case $1 in
	amd64) echo x86 ;;
	arm64) echo arm64 ;;
	*) echo "$1" ;;
	esac
}

# _fixture_write FILE MODE: write stdin to FILE (creating its directory)
# and set its mode.
_fixture_write() {
	mkdir -p "$(dirname "$1")"
	cat >"$1"
	chmod "$2" "$1"
}

# _fixture_doc ROOT PACKAGE [VERSION]: add usr/share/doc/PACKAGE/copyright
# and changelog.Debian.gz, as every Debian package has them.
_fixture_doc() {
	local doc=$1/usr/share/doc/$2
	_fixture_write "$doc/copyright" 644 <<EOF
This is the Debian prepackaged version of the Linux kernel, rebuilt as a
test fixture. It contains no kernel code.
EOF
	printf '%s (%s) bookworm; urgency=medium\n\n  * Test fixture.\n\n -- %s  Tue, 14 Nov 2023 22:13:20 +0000\n' \
		"$2" "${3:-1}" "$DEBIAN_FIXTURE_MAINTAINER" | gzip -n -9 >"$doc/changelog.Debian.gz"
	chmod 644 "$doc/changelog.Debian.gz"
}

# _fixture_build_deb PKGDIR OUTDIR COMPRESSOR: add md5sums and
# Installed-Size to PKGDIR/DEBIAN, build PKGDIR with dpkg-deb and print the
# path of the .deb (named PACKAGE_VERSION_ARCH.deb, epoch dropped).
_fixture_build_deb() {
	local dir=$1 out=$2 comp=$3 size package version arch deb
	(cd "$dir" && find . -path ./DEBIAN -prune -o -type f -print | LC_ALL=C sort |
		sed 's|^\./||' | xargs -r -d '\n' md5sum) >"$dir/DEBIAN/md5sums" ||
		{ _fixture_error "md5sums of $dir failed"; return 1; }
	[ -s "$dir/DEBIAN/md5sums" ] || rm -f "$dir/DEBIAN/md5sums"
	size=$(du -sk --apparent-size --exclude=DEBIAN "$dir" | cut -f1)
	sed -i "/^Maintainer: /a Installed-Size: $size" "$dir/DEBIAN/control"

	package=$(sed -n 's/^Package: //p' "$dir/DEBIAN/control")
	version=$(sed -n 's/^Version: //p' "$dir/DEBIAN/control")
	arch=$(sed -n 's/^Architecture: //p' "$dir/DEBIAN/control")
	deb=$out/${package}_${version#*:}_$arch.deb
	find "$dir" -exec touch -h -d "@$DEBIAN_FIXTURE_EPOCH" {} +
	mkdir -p "$out"
	SOURCE_DATE_EPOCH=$DEBIAN_FIXTURE_EPOCH dpkg-deb --root-owner-group -Z"$comp" \
		--build "$dir" "$deb" >/dev/null ||
		{ _fixture_error "dpkg-deb -Z$comp --build $dir failed"; return 1; }
	echo "$deb"
}

# _fixture_bzimage FILE KVER VERSION: write an 8 KiB stand-in for a bzImage
# whose x86 boot header (boot flag, "HdrS", kernel_version pointer) carries
# the banner of KVER, so `file` reports it as a bzImage of that version.
_fixture_bzimage() {
	python3 - "$1" "$2" "$3" <<'PY' || _fixture_error "cannot write stand-in kernel $1"
import hashlib, struct, sys
path, kver, version = sys.argv[1:]
buf = bytearray()
while len(buf) < 8192:
    buf += hashlib.sha256(f"{kver} {version} {len(buf)}".encode()).digest()
buf = buf[:8192]
buf[0x1f1] = 4                                  # setup_sects
buf[0x1fe:0x200] = b"\x55\xaa"                  # boot_flag
buf[0x202:0x206] = b"HdrS"
buf[0x206:0x208] = struct.pack("<H", 0x020f)    # boot protocol 2.15
banner = (f"{kver} (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC "
          f"Debian {version} (2023-11-14)").encode() + b"\0"
buf[0x20e:0x210] = struct.pack("<H", 0x400 - 0x200)  # kernel_version
buf[0x211] = 0x01                               # loadflags: LOADED_HIGH (bzImage)
buf[0x400:0x400 + len(banner)] = banner
with open(path, "wb") as f:
    f.write(buf)
PY
}

# _fixture_config ARCHDIR UPSTREAM MODCOMP: print a kernel .config that
# enables the drivers of the stand-in modules as modules.
_fixture_config() {
	local compress
	case $3 in
	xz) compress="CONFIG_MODULE_COMPRESS_XZ=y" ;;
	zstd) compress="CONFIG_MODULE_COMPRESS_ZSTD=y" ;;
	*) compress="CONFIG_MODULE_COMPRESS_NONE=y" ;;
	esac
	cat <<EOF
#
# Automatically generated file; DO NOT EDIT.
# Linux/$1 $2 Kernel Configuration
#
CONFIG_CC_VERSION_TEXT="gcc-12 (Debian 12.2.0-14) 12.2.0"
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=120200
CONFIG_LOCALVERSION=""
# CONFIG_LOCALVERSION_AUTO is not set
CONFIG_DEFAULT_HOSTNAME="(none)"
CONFIG_SYSVIPC=y
CONFIG_MODULES=y
CONFIG_MODULE_UNLOAD=y
CONFIG_MODVERSIONS=y
CONFIG_MODULE_SIG=y
$compress
CONFIG_NET=y
CONFIG_INET=y
CONFIG_FAILOVER=m
CONFIG_NET_FAILOVER=m
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=m
CONFIG_VIRTIO_NET=m
CONFIG_VIRTIO_CONSOLE=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_EXT4_FS=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_DEVTMPFS=y
# CONFIG_DEBUG_INFO_BTF is not set
EOF
}

# _fixture_module SRCDIR OUT NAME VERMAGIC [DEFINE...]: compile
# fake-module.c (copied into SRCDIR so the object does not depend on the
# checkout path) into the module OUT.
_fixture_module() {
	local src=$1 out=$2 name=$3 vermagic=$4
	shift 4
	mkdir -p "$(dirname "$out")"
	(cd "$src" && gcc -c -O2 -o "$out" -DFAKE_NAME="\"$name\"" \
		-DFAKE_VERMAGIC="\"$vermagic\"" "$@" fake-module.c) ||
		_fixture_error "gcc failed for stand-in module $name"
}

# make_fake_modules MODDIR KVER [COMPRESSOR]: compile four stand-in modules
# into MODDIR (the lib/modules/KVER directory) with KVER's vermagic:
# kernel/drivers/net/virtio_net.ko needs kernel/drivers/net/net_failover.ko,
# which needs kernel/net/core/failover.ko (through exported symbols), and
# kernel/drivers/block/virtio_blk.ko needs nothing. Also writes
# modules.order, modules.builtin and modules.builtin.modinfo. COMPRESSOR xz
# or zstd compresses the modules to .ko.xz or .ko.zst.
make_fake_modules() {
	local moddir=$1 kver=$2 comp=${3:-none} src ko
	local vermagic="$kver SMP preempt mod_unload modversions "
	mkdir -p "$moddir" || return 1
	moddir=$(cd "$moddir" && pwd)
	src=$(mktemp -d "${TMPDIR:-/tmp}/fake-module.XXXXXX")
	cp "$DEBIAN_FIXTURE_DIR/fake-module.c" "$src/"

	_fixture_module "$src" "$moddir/kernel/net/core/failover.ko" failover "$vermagic" \
		-DFAKE_EXPORT=failover_register &&
		_fixture_module "$src" "$moddir/kernel/drivers/net/net_failover.ko" net_failover "$vermagic" \
			-DFAKE_DEPENDS='"failover"' -DFAKE_EXPORT=net_failover_create \
			-DFAKE_IMPORT=failover_register &&
		_fixture_module "$src" "$moddir/kernel/drivers/net/virtio_net.ko" virtio_net "$vermagic" \
			-DFAKE_DEPENDS='"net_failover"' -DFAKE_IMPORT=net_failover_create \
			-DFAKE_ALIAS='"virtio:d00000001v*"' &&
		_fixture_module "$src" "$moddir/kernel/drivers/block/virtio_blk.ko" virtio_blk "$vermagic" \
			-DFAKE_ALIAS='"virtio:d00000002v*"'
	local status=$?
	rm -rf "$src"
	[ "$status" = 0 ] || return 1

	for ko in "$moddir"/kernel/*/*.ko "$moddir"/kernel/*/*/*.ko; do
		[ -f "$ko" ] || continue
		chmod 644 "$ko"
		case $comp in
		xz) xz --check=crc32 --lzma2=dict=1MiB "$ko" ;;
		zstd) zstd -q --rm "$ko" ;;
		none | "") ;;
		*) _fixture_error "unknown module compressor '$comp' (use xz, zstd or none)"; return 1 ;;
		esac || { _fixture_error "$comp of $ko failed"; return 1; }
	done

	printf '%s\n' kernel/drivers/block/virtio_blk.ko kernel/drivers/net/net_failover.ko \
		kernel/drivers/net/virtio_net.ko kernel/net/core/failover.ko >"$moddir/modules.order"
	printf '%s\n' kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_pci.ko \
		kernel/fs/ext4/ext4.ko >"$moddir/modules.builtin"
	printf '%s\0' virtio.license=GPL virtio_pci.license=GPL \
		'virtio_pci.alias=pci:v00001AF4d*sv*sd*bc*sc*i*' ext4.license=GPL \
		'ext4.description=Fourth Extended Filesystem' ext4.alias=fs-ext4 \
		>"$moddir/modules.builtin.modinfo"
	chmod 644 "$moddir"/modules.*
}

# _fixture_control DIR: write DIR/DEBIAN/control from the field lines on
# stdin, dropping fields whose value is empty.
_fixture_control() {
	mkdir -p "$1/DEBIAN"
	grep -v '^[A-Za-z-]*: *$' >"$1/DEBIAN/control"
	chmod 644 "$1/DEBIAN/control"
}

# The _fixture_*_deb builders below read the variables make_kernel_debs
# sets: abi, flavour, kver, version, source_version, upstream, series, arch,
# archdir, moddir, modcomp, unsigned, comp, work and out.

# _fixture_image_deb: build linux-image-KVER (or linux-image-KVER-unsigned).
_fixture_image_deb() {
	local pkg=linux-image-$kver source="linux-signed-$arch ($source_version)"
	local built_using="linux (= $version)" signed=" (signed)"
	local conflicts="linux-image-$kver-unsigned" dir
	if [ "$unsigned" = 1 ]; then
		pkg=$pkg-unsigned source=linux built_using="" signed="" conflicts=""
	fi
	dir=$work/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: $source
Version: $version
Architecture: $arch
Maintainer: $DEBIAN_FIXTURE_MAINTAINER
Depends: kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
Recommends: firmware-linux-free, apparmor
Suggests: linux-doc-$series, debian-kernel-handbook, grub-pc | grub-efi-amd64 | extlinux
Conflicts: $conflicts
Breaks: fwupdate (<< 12-7), initramfs-tools (<< 0.120+deb8u2), wireless-regdb (<< 2019.06.03-1~)
Replaces: $conflicts
Built-Using: $built_using
Section: kernel
Priority: optional
Homepage: https://www.kernel.org/
Description: Linux $series for $flavour$signed
 The Linux kernel $series and modules, rebuilt as a test fixture: the kernel
 image is a stand-in that does not boot and the modules cannot be loaded.
EOF
	mkdir -p "$dir/boot"
	_fixture_bzimage "$dir/boot/vmlinuz-$kver" "$kver" "$version" || return 1
	chmod 644 "$dir/boot/vmlinuz-$kver"
	_fixture_config "$archdir" "$upstream" "$modcomp" | _fixture_write "$dir/boot/config-$kver" 644
	echo "$DEBIAN_SYSTEM_MAP_STUB" | _fixture_write "$dir/boot/System.map-$kver" 644
	make_fake_modules "$dir/$moddir/$kver" "$kver" "$modcomp" || return 1
	echo "Please include the output of 'uname -a' in your report." |
		_fixture_write "$dir/usr/share/bug/$pkg/presubj" 644
	echo '# vmlinux needs extra sections that would normally be stripped.' |
		_fixture_write "$dir/usr/share/lintian/overrides/$pkg" 644
	_fixture_doc "$dir" "$pkg" "$version"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _fixture_headers_deb: build linux-headers-KVER, whose build and source
# links point into /usr/src with absolute targets, as in Debian.
_fixture_headers_deb() {
	local pkg=linux-headers-$kver dir src
	dir=$work/$pkg
	src=$dir/usr/src/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: linux
Version: $version
Architecture: $arch
Maintainer: $DEBIAN_FIXTURE_MAINTAINER
Depends: linux-headers-$abi-common (= $version), linux-kbuild-$series (>= $version), linux-compiler-gcc-12-$archdir
Section: kernel
Priority: optional
Homepage: https://www.kernel.org/
Description: Header files for Linux $kver
 This package provides the architecture-specific kernel header files for
 Linux kernel $kver, rebuilt as a test fixture.
EOF
	# Debian's headers .config has a few lines more than boot/config.
	{
		_fixture_config "$archdir" "$upstream" "$modcomp"
		echo "CONFIG_BUILD_SALT=\"$kver\""
	} | _fixture_write "$src/.config" 644
	printf 'override ARCH = %s\noverride KERNELRELEASE = %s\nCC = $(CROSS_COMPILE)gcc-12\n' \
		"$archdir" "$kver" | _fixture_write "$src/.kernelvariables" 644
	printf 'include /usr/src/%s/.kernelvariables\ninclude /usr/src/linux-headers-%s-common/Makefile\n' \
		"$pkg" "$abi" | _fixture_write "$src/Makefile" 644
	printf '0x%08x\t%s\t%s\t%s\t\n' \
		0x4c9d28b0 phys_base vmlinux EXPORT_SYMBOL \
		0x3b8a1f42 failover_register net/core/failover EXPORT_SYMBOL_GPL \
		0x9e01c7d5 net_failover_create drivers/net/net_failover EXPORT_SYMBOL_GPL |
		_fixture_write "$src/Module.symvers" 644
	echo 'SECTIONS { /DISCARD/ : { *(.discard) } }' |
		_fixture_write "$src/arch/$archdir/module.lds" 644
	echo '#include <asm-generic/export.h>' |
		_fixture_write "$src/arch/$archdir/include/generated/asm/export.h" 644
	echo "#define UTS_RELEASE \"$kver\"" |
		_fixture_write "$src/include/generated/utsrelease.h" 644
	printf '#define CONFIG_VIRTIO_NET_MODULE 1\n#define CONFIG_MODULES 1\n' |
		_fixture_write "$src/include/generated/autoconf.h" 644
	printf 'CONFIG_VIRTIO_NET=m\nCONFIG_MODULES=y\n' |
		_fixture_write "$src/include/config/auto.conf" 644
	ln -s "../../lib/linux-kbuild-$series/scripts" "$src/scripts"
	ln -s "../../lib/linux-kbuild-$series/tools" "$src/tools"
	mkdir -p "$dir/$moddir/$kver"
	ln -s "/usr/src/$pkg" "$dir/$moddir/$kver/build"
	ln -s "/usr/src/linux-headers-$abi-common" "$dir/$moddir/$kver/source"
	_fixture_doc "$dir" "$pkg" "$version"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _fixture_common_deb: build linux-headers-ABI-common (Architecture: all).
_fixture_common_deb() {
	local pkg=linux-headers-$abi-common dir src
	dir=$work/$pkg
	src=$dir/usr/src/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: linux
Version: $version
Architecture: all
Maintainer: $DEBIAN_FIXTURE_MAINTAINER
Section: kernel
Priority: optional
Multi-Arch: foreign
Homepage: https://www.kernel.org/
Description: Common header files for Linux $abi
 This package provides the common kernel header files for Linux kernel
 version $abi, rebuilt as a test fixture.
EOF
	printf 'VERSION = %s\nPATCHLEVEL = %s\n# Top-level kernel Makefile stand-in.\n' \
		"${series%.*}" "${series#*.}" | _fixture_write "$src/Makefile" 644
	# The same for every architecture, like Debian's Architecture: all package.
	echo "# arch/x86/Makefile stand-in" | _fixture_write "$src/arch/x86/Makefile" 644
	echo "# arch/arm64/Makefile stand-in" | _fixture_write "$src/arch/arm64/Makefile" 644
	printf '#ifndef _LINUX_MODULE_H\n#define _LINUX_MODULE_H\n#define MODULE_LICENSE(x)\n#endif\n' |
		_fixture_write "$src/include/linux/module.h" 644
	echo '#define VIRTIO_NET_F_CSUM 0' |
		_fixture_write "$src/include/uapi/linux/virtio_net.h" 644
	echo '#define KEY_RESERVED 0' |
		_fixture_write "$src/include/uapi/linux/input-event-codes.h" 644
	# A relative link that stays inside the tree, as Debian ships.
	mkdir -p "$src/include/dt-bindings/input"
	ln -s ../../uapi/linux/input-event-codes.h "$src/include/dt-bindings/input/linux-event-codes.h"
	ln -s "../../lib/linux-kbuild-$series/scripts" "$src/scripts"
	ln -s "../../lib/linux-kbuild-$series/tools" "$src/tools"
	_fixture_doc "$dir" "$pkg" "$version"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _fixture_kbuild_deb: build linux-kbuild-X.Y.
_fixture_kbuild_deb() {
	local pkg=linux-kbuild-$series dir lib tool
	dir=$work/$pkg
	lib=$dir/usr/lib/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: linux
Version: $version
Architecture: $arch
Maintainer: $DEBIAN_FIXTURE_MAINTAINER
Depends: libc6 (>= 2.34), libelf1 (>= 0.142), libssl3 (>= 3.0.0)
Section: kernel
Priority: optional
Multi-Arch: foreign
Homepage: https://www.kernel.org/
Description: Kbuild infrastructure for Linux $series
 This package provides the kbuild infrastructure for the headers packages
 for Linux kernel version $series, rebuilt as a test fixture.
EOF
	echo '# Kbuild.include stand-in' | _fixture_write "$lib/scripts/Kbuild.include" 644
	echo '# Makefile.build stand-in' | _fixture_write "$lib/scripts/Makefile.build" 644
	for tool in scripts/basic/fixdep scripts/mod/modpost scripts/sign-file tools/objtool/objtool; do
		printf '#!/bin/sh\necho "%s: test fixture stand-in" >&2\nexit 1\n' "${tool##*/}" |
			_fixture_write "$lib/$tool" 755
	done
	mkdir -p "$dir/usr/src"
	ln -s "../lib/$pkg" "$dir/usr/src/$pkg"
	_fixture_doc "$dir" "$pkg" "$version"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# _fixture_meta_deb KIND TARGET: build the metapackage linux-KIND-FLAVOUR
# (KIND is image or headers) that depends on TARGET (= VERSION).
_fixture_meta_deb() {
	local kind=$1 target=$2 pkg=linux-$1-$flavour dir
	dir=$work/$pkg
	_fixture_control "$dir" <<EOF
Package: $pkg
Source: linux-signed-$arch ($source_version)
Version: $version
Architecture: $arch
Maintainer: $DEBIAN_FIXTURE_MAINTAINER
Depends: $target (= $version)
Built-Using: linux (= $version)
Section: kernel
Priority: optional
Homepage: https://www.kernel.org/
Description: Linux $kind for $flavour (meta-package)
 This package depends on the latest Linux $kind for $flavour.
EOF
	mkdir -p "$dir/usr/share/doc"
	ln -s "$target" "$dir/usr/share/doc/$pkg"
	_fixture_build_deb "$dir" "$out" "$comp"
}

# make_kernel_debs [OPTIONS] OUTDIR ABI FLAVOUR VERSION COMPRESSOR: build
# the packages of one Debian kernel with dpkg-deb -Z COMPRESSOR (xz, zstd,
# gzip or none) into OUTDIR and print their paths, one a line. They are
# linux-image-KVER, linux-headers-KVER, linux-headers-ABI-common,
# linux-kbuild-X.Y and the metapackages linux-image-FLAVOUR and
# linux-headers-FLAVOUR. KVER is ABI-FLAVOUR, e.g. 6.1.0-57-cloud-amd64,
# and Debian's default amd64 flavour is "amd64".
# Options: --unsigned (the image is linux-image-KVER-unsigned from source
# linux, with no image metapackage), --no-headers (image packages only),
# --no-meta, --usr-merged (modules and build links under usr/lib/modules as
# in Debian 13, not lib/modules as in Debian 12), --module-compress xz|zstd,
# --arch ARCH (sets the control fields only: the stand-in modules stay
# host ELF objects).
make_kernel_debs() {
	local unsigned=0 headers=1 meta=1 moddir=lib/modules modcomp=none arch=amd64
	while [ $# -gt 0 ]; do
		case $1 in
		--unsigned) unsigned=1 ;;
		--no-headers) headers=0 ;;
		--no-meta) meta=0 ;;
		--usr-merged) moddir=usr/lib/modules ;;
		--module-compress) modcomp=$2; shift ;;
		--arch) arch=$2; shift ;;
		--*) _fixture_error "make_kernel_debs: unknown option $1"; return 1 ;;
		*) break ;;
		esac
		shift
	done
	[ $# = 5 ] || {
		_fixture_error "usage: make_kernel_debs [OPTIONS] OUTDIR ABI FLAVOUR VERSION COMPRESSOR"
		return 1
	}

	local out=$1 abi=$2 flavour=$3 version=$4 comp=$5
	local kver=$2-$3 series archdir upstream source_version work status=0
	series=$(_fixture_kbuild_series "$version")
	[ -n "$series" ] || { _fixture_error "no x.y series in version '$version'"; return 1; }
	archdir=$(_fixture_arch_dir "$arch")
	upstream=${version%-*}
	upstream=${upstream#*:}
	# linux-signed-ARCH's source version replaces the last '-' with '+'.
	source_version=${version%-*}+${version##*-}
	mkdir -p "$out" && out=$(cd "$out" && pwd) || return 1
	work=$(mktemp -d "${TMPDIR:-/tmp}/kernel-debs.XXXXXX")

	_fixture_image_deb || status=1
	if [ "$headers" = 1 ] && [ "$status" = 0 ]; then
		_fixture_headers_deb && _fixture_common_deb && _fixture_kbuild_deb || status=1
	fi
	if [ "$meta" = 1 ] && [ "$status" = 0 ] && [ "$unsigned" = 0 ]; then
		_fixture_meta_deb image "linux-image-$kver" || status=1
	fi
	if [ "$meta" = 1 ] && [ "$status" = 0 ] && [ "$headers" = 1 ]; then
		_fixture_meta_deb headers "linux-headers-$kver" || status=1
	fi
	rm -rf "$work"
	return "$status"
}

# make_hostile_deb OUTDIR [KIND [ABI FLAVOUR VERSION]]: build with python3
# and ar a linux-image-ABI-FLAVOUR package (default 6.1.0-99 cloud-amd64
# 6.1.999-1) whose data.tar.xz contains ./boot/vmlinuz-KVER and then one
# hostile entry, and print its path. KIND: dotdot (a file "../escape", the
# default), nested (a file "./boot/../../escape"), absolute (a file
# "/escape"), symlink (a link ./boot/outside -> ../../.. followed by the
# file ./boot/outside/escape), hardlink (./boot/hard linked to
# ../../etc/passwd) or device (character device ./boot/console, 5:1).
make_hostile_deb() {
	local out=$1 kind=${2:-dotdot} abi=${3:-6.1.0-99} flavour=${4:-cloud-amd64}
	local version=${5:-6.1.999-1} kver work deb
	kver=$abi-$flavour
	case $kind in
	dotdot | nested | absolute | symlink | hardlink | device) ;;
	*) _fixture_error "make_hostile_deb: unknown kind '$kind'"; return 1 ;;
	esac
	mkdir -p "$out" && out=$(cd "$out" && pwd) || return 1
	deb=$out/linux-image-${kver}_${version}_amd64.deb
	work=$(mktemp -d "${TMPDIR:-/tmp}/hostile-deb.XXXXXX")

	printf 'Package: linux-image-%s\nSource: linux-signed-amd64 (%s)\nVersion: %s\nArchitecture: amd64\nMaintainer: %s\nInstalled-Size: 16\nDepends: kmod\nSection: kernel\nPriority: optional\nDescription: Linux test kernel with a hostile archive entry\n This package must never be unpacked.\n' \
		"$kver" "${version%-*}+${version##*-}" "$version" "$DEBIAN_FIXTURE_MAINTAINER" >"$work/control"
	echo 2.0 >"$work/debian-binary"
	python3 - "$work" "$kind" "$kver" "$DEBIAN_FIXTURE_EPOCH" <<'PY' ||
import io, sys, tarfile
work, kind, kver, epoch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def entry(name, type=tarfile.REGTYPE, data=b"", **extra):
    info = tarfile.TarInfo(name)
    info.type = type
    info.mtime = epoch
    info.uname = info.gname = "root"
    info.mode = {tarfile.DIRTYPE: 0o755, tarfile.SYMTYPE: 0o777}.get(type, 0o644)
    info.size = len(data) if type == tarfile.REGTYPE else 0
    for key, value in extra.items():
        setattr(info, key, value)
    return info, io.BytesIO(data) if type == tarfile.REGTYPE else None

def write(path, entries):
    with tarfile.open(path, "w:xz", format=tarfile.GNU_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, data)

write(f"{work}/control.tar.xz", [
    entry("./", tarfile.DIRTYPE),
    entry("./control", data=open(f"{work}/control", "rb").read()),
])

data = [
    entry("./", tarfile.DIRTYPE),
    entry("./boot/", tarfile.DIRTYPE),
    entry(f"./boot/vmlinuz-{kver}", data=b"not a kernel\n" * 64),
]
payload = b"written outside the staging directory\n"
if kind == "dotdot":
    data.append(entry("../escape", data=payload))
elif kind == "nested":
    data.append(entry("./boot/../../escape", data=payload))
elif kind == "absolute":
    data.append(entry("/escape", data=payload))
elif kind == "symlink":
    data.append(entry("./boot/outside", tarfile.SYMTYPE, linkname="../../.."))
    data.append(entry("./boot/outside/escape", data=payload))
elif kind == "hardlink":
    data.append(entry("./boot/hard", tarfile.LNKTYPE, linkname="../../etc/passwd"))
elif kind == "device":
    data.append(entry("./boot/console", tarfile.CHRTYPE, devmajor=5, devminor=1))
write(f"{work}/data.tar.xz", data)
PY
		{ rm -rf "$work"; _fixture_error "python3 could not write the hostile tar members"; return 1; }

	rm -f "$deb"
	# dpkg reads the members in this order: debian-binary, control, data.
	(cd "$work" && ar rc "$deb" debian-binary control.tar.xz data.tar.xz) ||
		{ rm -rf "$work"; _fixture_error "ar could not assemble $deb"; return 1; }
	rm -rf "$work"
	echo "$deb"
}

# make_test_key DIR: make a passphrase-less ed25519 signing key in the
# private GNUPGHOME DIR/gnupg and write DIR/keyring.gpg (binary public
# keyring for gpgv --keyring), DIR/key.asc (armored) and DIR/fingerprint.
# The gpg-agent it starts is stopped when the test script exits.
make_test_key() {
	local dir=$1 home
	mkdir -p "$dir" && dir=$(cd "$dir" && pwd) || return 1
	home=$dir/gnupg
	mkdir -p -m 700 "$home"
	if declare -F at_exit >/dev/null; then
		at_exit "gpgconf --homedir '$home' --kill gpg-agent >/dev/null 2>&1"
	fi
	gpg --homedir "$home" --batch --quiet --generate-key 2>"$dir/gpg.log" <<'EOF' ||
%no-protection
Key-Type: eddsa
Key-Curve: ed25519
Key-Usage: sign
Name-Real: repack test archive signing key
Name-Email: archive@test.invalid
Expire-Date: 0
%commit
EOF
		{ _fixture_error "gpg --generate-key failed: $(cat "$dir/gpg.log")"; return 1; }
	gpg --homedir "$home" --batch --quiet --export >"$dir/keyring.gpg" 2>>"$dir/gpg.log" &&
		gpg --homedir "$home" --batch --quiet --armor --export >"$dir/key.asc" 2>>"$dir/gpg.log" &&
		gpg --homedir "$home" --batch --quiet --with-colons --list-keys 2>>"$dir/gpg.log" |
		awk -F: '$1 == "fpr" { print $10; exit }' >"$dir/fingerprint" ||
		{ _fixture_error "gpg --export from $home failed: $(cat "$dir/gpg.log")"; return 1; }
	[ -s "$dir/keyring.gpg" ] || { _fixture_error "gpg exported an empty keyring from $home"; return 1; }
	rm -f "$dir/gpg.log"
}

# debian_sign_release ROOT SUITE KEYDIR: sign ROOT/dists/SUITE/Release with
# the key of make_test_key into InRelease (clearsigned) and Release.gpg
# (detached, armored), as Debian's archive does.
debian_sign_release() {
	local dists=$1/dists/$2 home=$3/gnupg
	rm -f "$dists/InRelease" "$dists/Release.gpg"
	gpg --homedir "$home" --batch --yes --quiet --digest-algo SHA256 \
		--clearsign --output "$dists/InRelease" "$dists/Release" &&
		gpg --homedir "$home" --batch --yes --quiet --digest-algo SHA256 \
			--armor --detach-sign --output "$dists/Release.gpg" "$dists/Release" ||
		_fixture_error "gpg could not sign $dists/Release with the key in $home"
}

# _fixture_pool_add ROOT POOL COMPONENT DEB: copy DEB to
# ROOT/POOL/COMPONENT/<initial>/<source>/ and print its path relative to
# ROOT. A different file of the same name already there is an error, as in
# Debian's archive.
_fixture_pool_add() {
	local root=$1 pool=$2 component=$3 deb=$4 source initial rel
	[ -f "$deb" ] || { _fixture_error "no package file $deb"; return 1; }
	source=$(dpkg-deb --field "$deb" Source | sed 's/ .*//')
	[ -n "$source" ] || source=$(dpkg-deb --field "$deb" Package)
	[ -n "$source" ] || { _fixture_error "dpkg-deb cannot read the control fields of $deb"; return 1; }
	case $source in
	lib?*) initial=${source:0:4} ;;
	*) initial=${source:0:1} ;;
	esac
	rel=$pool/$component/$initial/$source/$(basename "$deb")
	if [ -e "$root/$rel" ]; then
		cmp -s "$deb" "$root/$rel" ||
			{ _fixture_error "$root/$rel exists with other content"; return 1; }
	else
		mkdir -p "$(dirname "$root/$rel")" && cp "$deb" "$root/$rel" || return 1
	fi
	echo "$rel"
}

# _fixture_hash_options HASHES: print apt-ftparchive -o options that enable
# exactly the checksums in HASHES (md5, sha1, sha256, sha512).
_fixture_hash_options() {
	local name key
	for name in md5 sha1 sha256 sha512; do
		key=${name^^}
		if [[ " $1 " == *" $name "* ]]; then
			echo "-o APT::FTPArchive::$key=true"
		else
			echo "-o APT::FTPArchive::$key=false"
		fi
	done
}

# _fixture_packages_index ROOT BINDIR ARCH HASHES REL...: write
# BINDIR/Packages{,.gz,.xz} for the pool files REL (relative to ROOT) whose
# Architecture is ARCH or all.
_fixture_packages_index() {
	local root=$1 bindir=$2 arch=$3 hashes=$4 rel deb_arch
	shift 4
	mkdir -p "$bindir"
	: >"$bindir/Packages"
	for rel in "$@"; do
		deb_arch=$(dpkg-deb --field "$root/$rel" Architecture)
		[ "$deb_arch" = "$arch" ] || [ "$deb_arch" = all ] || continue
		# shellcheck disable=SC2046
		(cd "$root" && apt-ftparchive -q $(_fixture_hash_options "$hashes") packages "$rel") \
			>>"$bindir/Packages" ||
			{ _fixture_error "apt-ftparchive packages $rel failed"; return 1; }
	done
	gzip -n -9 -k -f "$bindir/Packages" && xz -k -f "$bindir/Packages"
}

# _fixture_release_file DISTS: write DISTS/Release with apt-ftparchive
# release from the variables of make_debian_mirror.
_fixture_release_file() {
	local dists=$1
	local -a opts
	opts=(-o "APT::FTPArchive::Release::Origin=$origin"
		-o "APT::FTPArchive::Release::Label=$label"
		-o "APT::FTPArchive::Release::Suite=$suite_field"
		-o "APT::FTPArchive::Release::Codename=$suite"
		-o "APT::FTPArchive::Release::Architectures=$arches"
		-o "APT::FTPArchive::Release::Components=$components_field"
		-o "APT::FTPArchive::Release::Description=Debian test archive $suite")
	[ -z "$date" ] || opts+=(-o "APT::FTPArchive::Release::Date=$date")
	# shellcheck disable=SC2207
	opts+=($(_fixture_hash_options "$hashes"))
	# Written beside dists/SUITE first, so the scan does not list it.
	(cd "$dists" && apt-ftparchive -q "${opts[@]}" release .) >"$dists.Release.new" ||
		{ rm -f "$dists.Release.new"; _fixture_error "apt-ftparchive release $dists failed"; return 1; }
	# apt-ftparchive computes Valid-Until only from the current time
	# (ValidTime), so a fixed value is inserted after Date instead.
	if [ -n "$valid_until" ]; then
		sed -i "/^Date: /a Valid-Until: $valid_until" "$dists.Release.new"
	fi
	mv "$dists.Release.new" "$dists/Release"
}

# make_debian_mirror [OPTIONS] ROOT KEYDIR SUITE [DEBS...]: put DEBS into
# ROOT/pool/main/<initial>/<source>/ and write the index of suite SUITE:
# dists/SUITE/main/binary-ARCH/{Packages,Packages.gz,Packages.xz,Release}
# (apt-ftparchive packages), dists/SUITE/Release (apt-ftparchive release,
# with Origin, Label, Suite, Codename=SUITE, Architectures, Components,
# Description) and, signed with KEYDIR's key, InRelease and Release.gpg.
# Call it once per suite; suites of one ROOT share the pool. A SUITE ending
# in -security is laid out as Debian's security archive: pool/updates/main,
# Label Debian-Security, Components "updates/main".
# Options: --unsigned (no InRelease, no Release.gpg), --arch "LIST"
# (default amd64; Architecture: all packages go into every list),
# --component NAME (default main), --pool DIR, --origin TEXT, --label TEXT,
# --suite-field TEXT (the Suite: value, by default stable, stable-updates
# or stable-security), --components-field TEXT, --date TEXT,
# --valid-until TEXT, --hashes "LIST" (default "md5 sha256").
# --formats "LIST" names the Packages files kept on disk among plain, gz
# and xz (default all three). Release lists all three either way, as
# Debian's lists the uncompressed Packages it does not serve.
make_debian_mirror() {
	local unsigned=0 arches=amd64 component=main pool="" origin=Debian label=""
	local suite_field="" components_field="" date="" valid_until=""
	local hashes="md5 sha256" formats="plain gz xz"
	while [ $# -gt 0 ]; do
		case $1 in
		--unsigned) unsigned=1 ;;
		--arch) arches=$2; shift ;;
		--component) component=$2; shift ;;
		--pool) pool=$2; shift ;;
		--origin) origin=$2; shift ;;
		--label) label=$2; shift ;;
		--suite-field) suite_field=$2; shift ;;
		--components-field) components_field=$2; shift ;;
		--date) date=$2; shift ;;
		--valid-until) valid_until=$2; shift ;;
		--hashes) hashes=$2; shift ;;
		--formats) formats=$2; shift ;;
		--*) _fixture_error "make_debian_mirror: unknown option $1"; return 1 ;;
		*) break ;;
		esac
		shift
	done
	[ $# -ge 3 ] || {
		_fixture_error "usage: make_debian_mirror [OPTIONS] ROOT KEYDIR SUITE [DEBS...]"
		return 1
	}
	local root=$1 keydir=$2 suite=$3
	shift 3

	local suffix=""
	case $suite in
	*-security) suffix=-security ;;
	*-updates) suffix=-updates ;;
	*-backports) suffix=-backports ;;
	esac
	if [ "$suffix" = -security ]; then
		: "${pool:=pool/updates}" "${label:=Debian-Security}"
		: "${components_field:=updates/$component}"
	fi
	: "${pool:=pool}" "${label:=$origin}" "${components_field:=$component}"
	: "${suite_field:=stable$suffix}"

	mkdir -p "$root" && root=$(cd "$root" && pwd) || return 1
	local rels=() rel deb
	for deb in "$@"; do
		rel=$(_fixture_pool_add "$root" "$pool" "$component" "$deb") || return 1
		# The same file given twice (the common headers of two
		# architectures) is listed once.
		[[ " ${rels[*]} " == *" $rel "* ]] || rels+=("$rel")
	done

	local dists=$root/dists/$suite arch bindir
	rm -rf "$dists"
	for arch in $arches; do
		bindir=$dists/$component/binary-$arch
		_fixture_packages_index "$root" "$bindir" "$arch" "$hashes" "${rels[@]}" || return 1
		printf 'Archive: %s\nOrigin: %s\nLabel: %s\nComponent: %s\nArchitecture: %s\n' \
			"$suite_field" "$origin" "$label" "$component" "$arch" >"$bindir/Release"
	done

	_fixture_release_file "$dists" || return 1

	for arch in $arches; do
		bindir=$dists/$component/binary-$arch
		[[ " $formats " == *" plain "* ]] || rm -f "$bindir/Packages"
		[[ " $formats " == *" gz "* ]] || rm -f "$bindir/Packages.gz"
		[[ " $formats " == *" xz "* ]] || rm -f "$bindir/Packages.xz"
	done
	[ "$unsigned" = 1 ] || debian_sign_release "$root" "$suite" "$keydir"
}
