# Real Debian 12 cloud kernel packages for end-to-end tests. Source after
# tests/lib/common.sh and tests/lib/debian-fixture.sh. The packages come
# from the machine's own apt configuration through `apt-get download`, and
# stay in a cache directory so that later runs do not download them again.

# The flavour and kbuild series of the kernel these tests use.
REAL_DEBIAN_FLAVOUR=cloud-amd64
REAL_DEBIAN_KBUILD=linux-kbuild-6.1

# _real_debian_candidate PACKAGE: print apt's candidate version of PACKAGE,
# or nothing when the package lists do not contain it.
_real_debian_candidate() {
	apt-cache policy "$1" 2>/dev/null |
		sed -n 's/^  Candidate: \([^(].*\)$/\1/p' | head -n1
}

# _real_debian_resolve: print "ABI VERSION" of the candidate of the
# linux-image-cloud-amd64 metapackage, from the versioned image package its
# Depends line names (linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3) gives
# "6.1.0-57 6.1.192-3"). Returns 1 when apt does not know the package.
_real_debian_resolve() {
	local meta=linux-image-$REAL_DEBIAN_FLAVOUR version depends image
	version=$(_real_debian_candidate "$meta")
	[ -n "$version" ] || return 1
	depends=$(apt-cache show "$meta=$version" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	image=$(tr ',' '\n' <<<"$depends" |
		sed -n "s/^ *linux-image-\([0-9][^ ]*\)-$REAL_DEBIAN_FLAVOUR (= .*/\1/p" | head -n1)
	[ -n "$image" ] || {
		echo "real-debian: $meta $version has no versioned image in Depends: $depends" >&2
		return 1
	}
	echo "$image $version"
}

# _real_debian_packages ABI: print the package names that make the kernel
# with that ABI, the metapackages first.
_real_debian_packages() {
	printf '%s\n' \
		"linux-image-$REAL_DEBIAN_FLAVOUR" \
		"linux-headers-$REAL_DEBIAN_FLAVOUR" \
		"linux-image-$1-$REAL_DEBIAN_FLAVOUR" \
		"linux-headers-$1-$REAL_DEBIAN_FLAVOUR" \
		"linux-headers-$1-common" \
		"$REAL_DEBIAN_KBUILD"
}

# _real_debian_cached CACHE_DIR: print "ABI VERSION" of the newest complete
# set already in CACHE_DIR/debian-bookworm (a directory with a SHA256SUMS
# that still matches), or return 1 when there is none.
_real_debian_cached() {
	local dir best="" abi version
	for dir in "$1"/debian-bookworm/*/; do
		[ -f "$dir/SHA256SUMS" ] && [ -f "$dir/ABI" ] || continue
		(cd "$dir" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1 || continue
		version=$(basename "$dir")
		if [ -z "$best" ] || dpkg --compare-versions "$version" gt "${best#* }"; then
			abi=$(cat "$dir/ABI")
			best="$abi $version"
		fi
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# _real_debian_download DIR ABI VERSION: download the kernel's packages
# into DIR through a temporary directory, so DIR appears only complete.
_real_debian_download() {
	local dir=$1 abi=$2 version=$3 tmp pkg
	local -a wanted=()
	tmp=$(mktemp -d "$(dirname "$dir")/.download.XXXXXX")
	# As root, apt-get downloads as the _apt user when that user can write
	# the directory, and warns otherwise.
	if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$tmp"
	fi
	while read -r pkg; do
		wanted+=("$pkg=$version")
	done < <(_real_debian_packages "$abi")
	if ! (cd "$tmp" && apt-get download -q "${wanted[@]}" >/dev/null); then
		echo "real-debian: apt-get download ${wanted[*]} failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	[ "$(id -u)" != 0 ] || chown -R root: "$tmp"
	chmod 755 "$tmp"
	echo "$abi" >"$tmp/ABI"
	(cd "$tmp" && sha256sum -- *.deb >SHA256SUMS)
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# real_debian_kernel CACHE_DIR: make sure the newest Debian 12 cloud kernel
# (image, headers, common headers, kbuild and the two metapackages) is in
# CACHE_DIR/debian-bookworm/VERSION/, downloading only what is missing, and
# print "ABI VERSION" (e.g. "6.1.0-57 6.1.192-3"). Also sets REAL_DEBIAN_ABI,
# REAL_DEBIAN_VERSION and REAL_DEBIAN_DIR. Returns 1 when neither apt nor
# the cache can provide the packages.
real_debian_kernel() {
	local cache=$1 resolved abi version dir
	mkdir -p "$cache/debian-bookworm"

	resolved=$(_real_debian_resolve)
	if [ -z "$resolved" ]; then
		resolved=$(_real_debian_cached "$cache")
	fi
	if [ -z "$resolved" ] && [ "$(id -u)" = 0 ]; then
		echo "real-debian: linux-image-$REAL_DEBIAN_FLAVOUR not found in apt's package lists; running apt-get update" >&2
		apt-get update -q >/dev/null 2>&1 || true
		resolved=$(_real_debian_resolve)
	fi
	if [ -z "$resolved" ]; then
		echo "real-debian: linux-image-$REAL_DEBIAN_FLAVOUR is not in apt's package lists and not in $cache" >&2
		return 1
	fi

	read -r abi version <<<"$resolved"
	dir=$cache/debian-bookworm/$version
	if ! [ -f "$dir/SHA256SUMS" ] || ! (cd "$dir" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1; then
		echo "real-debian: downloading Debian kernel $abi ($version) into $dir" >&2
		_real_debian_download "$dir" "$abi" "$version" || return 1
	fi

	REAL_DEBIAN_ABI=$abi
	REAL_DEBIAN_VERSION=$version
	REAL_DEBIAN_DIR=$dir
	echo "$abi $version"
}

# real_debian_mirror CACHE_DIR ROOT KEYDIR: build a signed Debian mirror in
# ROOT (suite bookworm, pool/main/l/...) from the real cloud kernel packages,
# signed with the key in KEYDIR (made with make_test_key when KEYDIR has
# none). Sets the same variables as real_debian_kernel and prints
# "ABI VERSION".
real_debian_mirror() {
	local cache=$1 root=$2 keydir=$3 resolved
	resolved=$(real_debian_kernel "$cache") || return 1
	# The command substitution ran in a subshell; set the variables here.
	read -r REAL_DEBIAN_ABI REAL_DEBIAN_VERSION <<<"$resolved"
	REAL_DEBIAN_DIR=$cache/debian-bookworm/$REAL_DEBIAN_VERSION
	if ! [ -f "$keydir/keyring.gpg" ]; then
		make_test_key "$keydir" || return 1
	fi
	make_debian_mirror "$root" "$keydir" bookworm "$REAL_DEBIAN_DIR"/*.deb || return 1
	echo "$resolved"
}
