# Real Debian 12 arm64 packages for end-to-end tests on any host: the
# cloud-arm64 kernel (image, headers, common headers, kbuild and the two
# metapackages) and busybox-static. Source after tests/lib/common.sh.
#
# apt-get runs on a private configuration (its own sources, lists, cache
# and keyring, APT::Architecture arm64, no dpkg status), so the host's apt
# and dpkg state stay untouched. The sources are the host's Debian
# bookworm entries, read from /etc/apt at run time, so the same mirror
# is used. The packages stay in CACHE_DIR/debian-bookworm-arm64/ between
# runs; the private configuration and package lists, which name the
# mirror, live in a directory the caller removes.

ARM64_FLAVOUR=cloud-arm64
ARM64_KBUILD=linux-kbuild-6.1
ARM64_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# _arm64_host_sources: print deb822 stanzas, one per URI, for the host's
# apt sources of the suites bookworm, bookworm-updates and
# bookworm-security (component main), read from /etc/apt/sources.list
# and /etc/apt/sources.list.d/*.{list,sources}. Prints nothing when there
# are none.
_arm64_host_sources() {
	python3 - "$ARM64_KEYRING" <<'PY'
import glob, re, sys

keyring = sys.argv[1]
wanted = {"bookworm", "bookworm-updates", "bookworm-security"}
found = []  # (uri, suite) in the order apt reads them

def add(uri, suites, components, types):
    if "deb" not in types or "main" not in components:
        return
    for suite in suites:
        if suite in wanted and (uri, suite) not in found:
            found.append((uri, suite))

def one_line(path):
    for line in open(path, errors="replace"):
        line = re.sub(r"\[[^]]*\]", " ", line.split("#", 1)[0]).split()
        if len(line) >= 4:
            add(line[1].rstrip("/"), [line[2]], line[3:], [line[0]])

def deb822(path):
    for stanza in re.split(r"\n\s*\n", open(path, errors="replace").read()):
        fields = {}
        for line in stanza.splitlines():
            m = re.match(r"([A-Za-z-]+):\s*(.*)", line)
            if m and not line.startswith("#"):
                fields[m.group(1).lower()] = m.group(2).split()
        if fields.get("enabled", ["yes"])[0] == "no":
            continue
        for uri in fields.get("uris", []):
            add(uri.rstrip("/"), fields.get("suites", []),
                fields.get("components", []), fields.get("types", []))

for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        one_line(path)
    except OSError:
        pass
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    deb822(path)
for uri, suite in found:
    print(f"Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: main\n"
          f"Architectures: arm64\nSigned-By: {keyring}\n")
PY
}

# _arm64_apt_config DIR: write a private apt configuration under DIR and
# print the path of its apt.conf. Returns 1 when the host has no Debian
# bookworm source.
_arm64_apt_config() {
	local apt=$1 sources
	sources=$(_arm64_host_sources)
	if [ -z "$sources" ]; then
		echo "real-debian-arm64: /etc/apt names no Debian bookworm source with component main" >&2
		return 1
	fi
	mkdir -p "$apt/etc/apt.conf.d" "$apt/etc/preferences.d" "$apt/etc/sources.list.d" \
		"$apt/etc/trusted.gpg.d" "$apt/state/lists/partial" "$apt/cache/archives/partial"
	printf '%s\n' "$sources" >"$apt/etc/sources.list.d/debian.sources"
	: >"$apt/etc/sources.list"
	cat >"$apt/apt.conf" <<EOF
Dir::Etc "$apt/etc";
Dir::Etc::SourceList "$apt/etc/sources.list";
Dir::Etc::SourceParts "$apt/etc/sources.list.d";
Dir::Etc::Trusted "$ARM64_KEYRING";
Dir::Etc::TrustedParts "$apt/etc/trusted.gpg.d";
Dir::State "$apt/state";
Dir::State::status "/dev/null";
Dir::Cache "$apt/cache";
APT::Sandbox::User "root";
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
Acquire::Languages "none";
EOF
	echo "$apt/apt.conf"
}

# _arm64_candidate PACKAGE: print the private apt's candidate version of
# PACKAGE, or nothing when its lists do not contain it.
_arm64_candidate() {
	apt-cache policy "$1" 2>/dev/null |
		sed -n 's/^  Candidate: \([^(].*\)$/\1/p' | head -n1
}

# _arm64_resolve: print "ABI VERSION BUSYBOX_VERSION" from the private
# lists: the kernel the linux-image-cloud-arm64 metapackage's candidate
# depends on (linux-image-6.1.0-57-cloud-arm64 (= 6.1.192-3) gives
# 6.1.0-57 6.1.192-3) and busybox-static's candidate.
_arm64_resolve() {
	local meta=linux-image-$ARM64_FLAVOUR version depends image busybox
	version=$(_arm64_candidate "$meta")
	busybox=$(_arm64_candidate busybox-static)
	[ -n "$version" ] && [ -n "$busybox" ] || return 1
	depends=$(apt-cache show "$meta=$version" 2>/dev/null | sed -n 's/^Depends: //p' | head -n1)
	image=$(tr ',' '\n' <<<"$depends" |
		sed -n "s/^ *linux-image-\([0-9][^ ]*\)-$ARM64_FLAVOUR (= .*/\1/p" | head -n1)
	[ -n "$image" ] || {
		echo "real-debian-arm64: $meta $version has no versioned image in Depends: $depends" >&2
		return 1
	}
	echo "$image $version $busybox"
}

# _arm64_complete DIR: DIR contains a downloaded set whose SHA256SUMS still
# matches.
_arm64_complete() {
	[ -f "$1/SHA256SUMS" ] && [ -f "$1/ABI" ] &&
		(cd "$1" && sha256sum --quiet -c SHA256SUMS) >/dev/null 2>&1
}

# _arm64_cached TOP: print "ABI VERSION" of the newest complete set in
# TOP, or return 1 when there is none.
_arm64_cached() {
	local dir best="" version
	for dir in "$1"/*/; do
		dir=${dir%/}
		_arm64_complete "$dir" || continue
		version=$(basename "$dir")
		if [ -z "$best" ] || dpkg --compare-versions "$version" gt "${best#* }"; then
			best="$(cat "$dir/ABI") $version"
		fi
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# _arm64_download DIR ABI VERSION BUSYBOX_VERSION: download the kernel's
# packages and busybox-static into DIR through a temporary directory, so
# DIR appears only complete.
_arm64_download() {
	local dir=$1 abi=$2 version=$3 busybox=$4 tmp pkg
	local -a packages=("busybox-static=$busybox")
	for pkg in "linux-image-$ARM64_FLAVOUR" "linux-headers-$ARM64_FLAVOUR" \
		"linux-image-$abi-$ARM64_FLAVOUR" "linux-headers-$abi-$ARM64_FLAVOUR" \
		"linux-headers-$abi-common" "$ARM64_KBUILD"; do
		packages+=("$pkg=$version")
	done
	tmp=$(mktemp -d "$(dirname "$dir")/.download.XXXXXX")
	if ! (cd "$tmp" && apt-get download -q "${packages[@]}" >/dev/null); then
		echo "real-debian-arm64: apt-get download ${packages[*]} failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	chmod 755 "$tmp"
	echo "$abi" >"$tmp/ABI"
	(cd "$tmp" && sha256sum -- *.deb >SHA256SUMS)
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# real_debian_arm64 CACHE_DIR APT_DIR: make sure the newest Debian 12 cloud-arm64
# kernel and busybox-static (arm64) are in
# CACHE_DIR/debian-bookworm-arm64/VERSION/, downloading them with a
# private apt configuration written to APT_DIR when missing, and set
# ARM64_ABI, ARM64_VERSION and ARM64_DIR. When `apt-get update` fails, the
# newest complete set already cached is used. Returns 1 when neither apt
# nor the cache can provide the packages. APT_CONFIG is set for the apt
# commands only.
real_debian_arm64() {
	local top=$1/debian-bookworm-arm64 conf log=$2/update.log resolved="" abi version busybox
	mkdir -p "$top"
	conf=$(_arm64_apt_config "$2") || return 1
	if APT_CONFIG=$conf apt-get update -q >"$log" 2>&1 && ! grep -q '^E:' "$log"; then
		resolved=$(APT_CONFIG=$conf _arm64_resolve)
	else
		# The mirror's host name is left out of the message.
		echo "real-debian-arm64: apt-get update on the private arm64 configuration failed:" \
			"$(grep -E '^(W|E):' "$log" | sed 's|://[^/ ]*|://<mirror>|g' | head -n3)" >&2
	fi
	if [ -z "$resolved" ]; then
		resolved=$(_arm64_cached "$top") || {
			echo "real-debian-arm64: apt cannot resolve linux-image-$ARM64_FLAVOUR and busybox-static for arm64, and $top contains no complete set" >&2
			return 1
		}
	fi
	read -r abi version busybox <<<"$resolved"
	if ! _arm64_complete "$top/$version"; then
		echo "real-debian-arm64: downloading Debian arm64 kernel $abi ($version) and busybox-static $busybox into $top/$version" >&2
		APT_CONFIG=$conf _arm64_download "$top/$version" "$abi" "$version" "$busybox" || return 1
	fi
	ARM64_ABI=$abi
	ARM64_VERSION=$version
	ARM64_DIR=$top/$version
}
