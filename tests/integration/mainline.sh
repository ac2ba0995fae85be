#!/bin/bash
# repack mainline against a fixture tree of Ubuntu mainline builds on
# 127.0.0.1 with Apache-style index pages. The tree has release, rc, legacy
# and daily/ names, the old flat layout and the per-architecture layout,
# two builds in one directory, failed builds and signed CHECKSUMS. Variants
# of it carry bad input.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"
. "$TESTS_DIR/lib/ubuntu-fixture.sh"

for tool in dpkg-deb gpg zstd gcc python3 sha1sum; do
	need_command "$tool" "$tool" || { skip mainline-fixture "$tool is not installed"; exit 0; }
done
[ -x /usr/sbin/nginx ] || need_command nginx nginx-light || { skip mainline-fixture "nginx is not installed"; exit 0; }

key=$WORK/key
site=$WORK/site
root=$site/mainline
make_test_key "$key" >/dev/null && make_test_key "$WORK/other-key" >/dev/null ||
	{ fail fixture-key "make_test_key failed"; exit 1; }

OLD=202301121031
NEW=202301141155

# --- fixture ----------------------------------------------------------------
# v4.15: flat, before linux-modules (the image contains the modules), with an
# i386 build, patch files and a signed CHECKSUMS. v5.4.1: flat with
# linux-image-unsigned and linux-modules, CHECKSUMS not signed. v6.1 and
# v6.1.5: per-architecture; v6.1.5/amd64 contains two complete builds and a
# lowlatency one in the newer. v6.2-rc3: amd64 built, arm64 failed. v6.3:
# the amd64 build failed. The rest of the names are listed only.
{
	mainline_add_build --legacy --comp xz "$root/v4.15" 4.15 amd64 generic 201801282230 &&
		mainline_add_build --legacy --comp xz --no-headers "$root/v4.15" 4.15 i386 generic 201801282230 &&
		mainline_add_build --comp xz "$root/v5.4.1" 5.4.1 amd64 generic 201911291433 &&
		mainline_add_build "$root/v6.1/amd64" 6.1 amd64 generic 202212112230 &&
		mainline_add_build --no-headers "$root/v6.1/arm64" 6.1 arm64 generic 202212112230 &&
		mainline_add_build "$root/v6.1.5/amd64" 6.1.5 amd64 generic "$OLD" &&
		mainline_add_build "$root/v6.1.5/amd64" 6.1.5 amd64 generic "$NEW" &&
		mainline_add_build "$root/v6.1.5/amd64" 6.1.5 amd64 lowlatency "$NEW" &&
		mainline_add_build --no-headers "$root/v6.2-rc3/amd64" 6.2-rc3 amd64 generic 202301081830
} >/dev/null || { fail fixture-debs "mainline_add_build failed"; exit 1; }
echo "patch" >"$root/v4.15/0001-base-packaging.patch"
echo "patch" >"$root/v4.15/0002-UBUNTU-SAUCE-add-vmlinux.strip-to-BOOT_TARGETS1-on-p.patch"
mkdir -p "$root/v6.2-rc3/arm64" "$root/v6.3/amd64"
echo 2 >"$root/v6.2-rc3/arm64/status"
echo 2 >"$root/v6.3/amd64/status"
for name in daily/2024-02-15 daily/current v2.6.27.61 v4.2-rc1-unstable v4.4-rc2+cod1 v4.4.10-xenial \
	v5.12-rc1-dontuse; do
	mkdir -p "$root/$name"
done
{
	mainline_finish_version "$root/v4.15" "$key" /mainline/v4.15/ &&
		mainline_finish_version --unsigned "$root/v5.4.1" "$key" /mainline/v5.4.1/ &&
		mainline_finish_version "$root/v6.1" "$key" /mainline/v6.1/ &&
		mainline_finish_version "$root/v6.1.5" "$key" /mainline/v6.1.5/ &&
		mainline_finish_version "$root/v6.2-rc3" "$key" /mainline/v6.2-rc3/ &&
		mainline_finish_version "$root/v6.3" "$key" /mainline/v6.3/ &&
		mainline_index_page "$root/daily" /mainline/daily/ &&
		mainline_index_page "$root" /mainline/
} >/dev/null || { fail fixture-tree "mainline_finish_version failed"; exit 1; }

# Variants of the tree for bad input, each under its own path.
for variant in badsum tampered nosums html nosum-entry empty; do
	mkdir -p "$site/$variant" && cp -r "$root" "$site/$variant/"
done
image=linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.${NEW}_amd64.deb
modules=linux-modules-6.1.5-060105-generic_6.1.5-060105.${NEW}_amd64.deb
# badsum: a wrong sum for the image, signed again so the signature holds.
sed -i "s/^[0-9a-f]\{64\}  $image\$/$(printf '0%.0s' $(seq 64))  $image/" \
	"$site/badsum/mainline/v6.1.5/amd64/CHECKSUMS"
gpg --homedir "$key/gnupg" --batch --yes --quiet --detach-sign \
	--output "$site/badsum/mainline/v6.1.5/amd64/CHECKSUMS.gpg" "$site/badsum/mainline/v6.1.5/amd64/CHECKSUMS"
# tampered: the same change without a new signature.
cp "$site/badsum/mainline/v6.1.5/amd64/CHECKSUMS" "$site/tampered/mainline/v6.1.5/amd64/CHECKSUMS"
rm -f "$site/nosums/mainline/v6.1.5/amd64/CHECKSUMS" "$site/nosums/mainline/v6.1.5/amd64/CHECKSUMS.gpg"
printf '<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body><h1>Try again later</h1></body></html>\n' \
	>"$site/html/mainline/v6.1.5/amd64/$image"
sed -i "/  $modules\$/d" "$site/nosum-entry/mainline/v6.1.5/amd64/CHECKSUMS"
gpg --homedir "$key/gnupg" --batch --yes --quiet --detach-sign \
	--output "$site/nosum-entry/mainline/v6.1.5/amd64/CHECKSUMS.gpg" "$site/nosum-entry/mainline/v6.1.5/amd64/CHECKSUMS"
# empty: the root lists daily/ and files but no version directory.
rm -rf "$site/empty/mainline"/v*
mainline_index_page "$site/empty/mainline" /empty/mainline/ >/dev/null
# binary: the root index is no HTML at all.
mkdir -p "$site/binary/mainline"
head -c 4096 "$root/v6.1.5/amd64/$image" >"$site/binary/mainline/index.html"

# serve_dir runs in this shell, not in $(...), so that its at_exit hook
# stops nginx when the script ends.
serve_dir "$site" >"$WORK/url" || { fail fixture-server "nginx did not start"; exit 1; }
url=$(cat "$WORK/url")
export XDG_CACHE_HOME=$WORK/cache
base=(--mirror "$url/mainline/" --keyring "$key/keyring.gpg")

grep -q '<a href="v4.4-rc2+cod1/">v4.4-rc2+cod1/</a>' "$root/index.html" &&
	grep -q '<a href="?C=N;O=D">Name</a>' "$root/index.html" &&
	grep -q '>linux-image-unsigned..&gt;</a>' "$root/v6.1.5/amd64/index.html" &&
	pass fixture-apache-markup || fail fixture-apache-markup "index pages lack the mod_autoindex markup"

# labels DIR: print the image config labels of a dir: output as KEY=VALUE
# lines, the packages label as one "package=NAME" line per input.
labels() {
	python3 - "$1/image-config.json" <<'EOF'
import json, sys
config = json.load(open(sys.argv[1]))
labels = config["config"]["Labels"]
print("architecture=" + config["architecture"])
for key, value in sorted(labels.items()):
    key = key.replace("org.linuxkit.repack.", "").replace("org.opencontainers.image.", "")
    if key == "packages":
        for item in json.loads(value):
            print("package=" + item["name"])
    else:
        print(key + "=" + value)
EOF
}

# has_lines FILE LINE...: every LINE occurs as a whole line in FILE.
has_lines() {
	local file=$1 line
	shift
	for line in "$@"; do
		grep -qxF -- "$line" "$file" || { echo "missing: $line" >&2; return 1; }
	done
}

# --- list -----------------------------------------------------------------
expect_status list-json 0 "$REPACK" list mainline --mirror "$url/mainline" --json
python3 - "$WORK/last.out" <<'EOF' && pass list-order-and-names || fail list-order-and-names "$(cat "$WORK/last.out")"
import json, sys
d = json.load(open(sys.argv[1]))
versions = [k["version"] for k in d]
assert versions == ["6.3", "6.2-rc3", "6.1.5", "6.1", "5.12-rc1-dontuse", "5.4.1", "4.15",
                    "4.4.10-xenial", "4.4-rc2+cod1", "4.2-rc1-unstable", "2.6.27.61"], versions
by = {k["version"]: k for k in d}
assert by["6.1"]["kernel_release"] == "6.1.0-060100-generic", by["6.1"]
assert by["6.2-rc3"]["kernel_release"] == "6.2.0-060200rc3-generic", by["6.2-rc3"]
assert by["6.2-rc3"]["tag"] == "6.2-rc3", by["6.2-rc3"]
assert by["4.4-rc2+cod1"]["tag"] == "4.4-rc2_cod1", by["4.4-rc2+cod1"]
EOF
expect_status list-lowlatency 0 "$REPACK" list mainline --mirror "$url/mainline" --flavour lowlatency
grep -q '^6.1.5 *6.1.5-lowlatency *6.1.5-060105-lowlatency ' "$WORK/last.out" &&
	pass list-flavour-tag || fail list-flavour-tag "$(cat "$WORK/last.out")"

# --- latest: the newest release, its newest complete build, signed --------
out=$WORK/out/latest
# v6.3 is the newest release but its build failed: latest skips it.
expect_status build-latest 0 "$REPACK" mainline latest "${base[@]}" -o "dir:$out"
grep -q '^linuxkit/kernel-mainline:6.1.5 ' "$WORK/last.out" && pass latest-is-newest-built-release ||
	fail latest-is-newest-built-release "$(cat "$WORK/last.out")"
expect_stderr latest-reports-skipped '6.3 is unavailable for amd64.*trying the next older release'
grep -q 'without verifying\|not signed' "$WORK/last.err" && fail latest-signature-checked "$(cat "$WORK/last.err")" ||
	pass latest-signature-checked
labels "$out" >"$WORK/labels"
# The source label is the default root, whatever mirror served the build.
has_lines "$WORK/labels" architecture=amd64 version=6.1.5-060105.$NEW kernel-release=6.1.5-060105-generic \
	distro=mainline flavour=generic "source=https://kernel.ubuntu.com/mainline/" \
	"package=$image" "package=$modules" \
	"package=linux-headers-6.1.5-060105-generic_6.1.5-060105.${NEW}_amd64.deb" \
	"package=linux-headers-6.1.5-060105_6.1.5-060105.${NEW}_all.deb" &&
	[ "$(grep -c '^package=' "$WORK/labels")" = 4 ] &&
	pass newest-build-chosen || fail newest-build-chosen "$(cat "$WORK/labels")"
tar -tf "$out/kernel.tar" | grep -q '^lib/modules/6.1.5-060105-generic/kernel/drivers/net/virtio_net.ko$' &&
	tar -tf "$out/kernel.tar" | grep -q '^lib/modules/6.1.5-060105-generic/modules.dep$' &&
	pass modules-from-linux-modules || fail modules-from-linux-modules "kernel.tar lacks the modules"
tar -tf "$out/kernel-dev.tar" | grep -q '^usr/src/linux-headers-6.1.5-060105/Makefile$' &&
	pass headers-all-in-dev-tar || fail headers-all-in-dev-tar "kernel-dev.tar lacks the _all headers"

# A package version pins the older build of the same directory.
expect_status build-pinned-build 0 "$REPACK" mainline "6.1.5-060105.$OLD" "${base[@]}" --no-headers \
	-o "dir:$WORK/out/pinned"
labels "$WORK/out/pinned" >"$WORK/labels"
has_lines "$WORK/labels" "version=6.1.5-060105.$OLD" \
	"package=linux-image-unsigned-6.1.5-060105-generic_6.1.5-060105.${OLD}_amd64.deb" &&
	pass pinned-older-build || fail pinned-older-build "$(cat "$WORK/labels")"

# --- v6.1: a .0 release, for arm64 --------------------------------------
expect_status build-dot-zero-arm64 0 "$REPACK" mainline 6.1 --arch arm64 "${base[@]}" -o "dir:$WORK/out/arm64"
labels "$WORK/out/arm64" >"$WORK/labels"
grep -q '^linuxkit/kernel-mainline:6.1 ' "$WORK/last.out" &&
	has_lines "$WORK/labels" architecture=arm64 kernel-release=6.1.0-060100-generic &&
	pass dot-zero-arm64 || fail dot-zero-arm64 "$(cat "$WORK/last.out" "$WORK/labels")"
expect_stderr arm64-no-headers-warned 'no complete headers'

# --- rc, flavour, flat layouts --------------------------------------------
expect_status build-rc 0 "$REPACK" mainline 6.2-rc3 "${base[@]}" -o "dir:$WORK/out/rc"
grep -q '^linuxkit/kernel-mainline:6.2-rc3 ' "$WORK/last.out" && pass rc-tag || fail rc-tag "$(cat "$WORK/last.out")"
expect_status build-lowlatency 0 "$REPACK" mainline 6.1.5 --flavour lowlatency "${base[@]}" -o "dir:$WORK/out/ll"
grep -q '^linuxkit/kernel-mainline:6.1.5-lowlatency ' "$WORK/last.out" && pass lowlatency-tag ||
	fail lowlatency-tag "$(cat "$WORK/last.out")"

expect_status build-flat-legacy 0 "$REPACK" mainline 4.15 "${base[@]}" -o "dir:$WORK/out/4.15"
labels "$WORK/out/4.15" >"$WORK/labels"
has_lines "$WORK/labels" package=linux-image-4.15.0-041500-generic_4.15.0-041500.201801282230_amd64.deb \
	package=linux-headers-4.15.0-041500_4.15.0-041500.201801282230_all.deb &&
	[ "$(grep -c '^package=' "$WORK/labels")" = 3 ] &&
	tar -tf "$WORK/out/4.15/kernel.tar" | grep -q 'kernel/net/core/failover.ko$' &&
	pass flat-legacy-image-with-modules || fail flat-legacy-image-with-modules "$(cat "$WORK/labels")"
grep -q 'without verifying\|not signed' "$WORK/last.err" && fail flat-signature-checked "$(cat "$WORK/last.err")" ||
	pass flat-signature-checked

expect_status build-flat-unsigned-sums 0 "$REPACK" mainline 5.4.1 "${base[@]}" -o "dir:$WORK/out/5.4.1"
expect_stderr flat-unsigned-warns 'CHECKSUMS is not signed'
labels "$WORK/out/5.4.1" >"$WORK/labels"
has_lines "$WORK/labels" package=linux-modules-5.4.1-050401-generic_5.4.1-050401.201911291433_amd64.deb &&
	pass flat-modules-era || fail flat-modules-era "$(cat "$WORK/labels")"
expect_status flat-unsigned-required 1 "$REPACK" mainline 5.4.1 "${base[@]}" --require-signatures \
	-o "dir:$WORK/out/5.4.1-required"
expect_stderr flat-unsigned-required-message 'v5.4.1/CHECKSUMS is not signed .*require-signatures'
[ ! -e "$WORK/out/5.4.1-required" ] && pass required-writes-nothing || fail required-writes-nothing "output written"

# No keyring: a warning, or an error with --require-signatures.
expect_status no-keyring-warns 0 "$REPACK" mainline 6.2-rc3 --mirror "$url/mainline" -o "dir:$WORK/out/nokey"
expect_stderr no-keyring-warning 'no Kernel PPA keyring'
expect_status no-keyring-required 1 "$REPACK" mainline 6.2-rc3 --mirror "$url/mainline" --require-signatures \
	-o "dir:$WORK/out/nokey-required"
expect_stderr no-keyring-required-message 'no Kernel PPA keyring.*--keyring'

# --- versions that do not exist or did not build ---------------------------
expect_status missing-version-exit-3 3 "$REPACK" mainline 6.1.99 "${base[@]}" -o "dir:$WORK/out/missing"
expect_stderr missing-version-nearest 'no kernel 6.1.99 in .*nearest: 6.3, 6.2-rc3, 6.1.5, 6.1'
expect_status release-without-dir-exit-3 3 "$REPACK" mainline 6.2 "${base[@]}"
expect_status failed-arch-exit-3 3 "$REPACK" mainline 6.2-rc3 --arch arm64 "${base[@]}" -o "dir:$WORK/out/failed"
expect_stderr failed-arch-message '6.2-rc3 is unavailable for arm64'
[ ! -e "$WORK/out/failed" ] && pass failed-writes-nothing || fail failed-writes-nothing "output written"
expect_status failed-build-exit-3 3 "$REPACK" mainline 6.3 "${base[@]}"
expect_stderr failed-build-message '6.3 is unavailable for amd64'
expect_status arch-not-built-exit-3 3 "$REPACK" mainline 6.1.5 --arch arm64 "${base[@]}"
expect_stderr arch-not-built-message '6.1.5 is unavailable for arm64: .*has no arm64/ directory'
expect_status flat-arch-missing-exit-3 3 "$REPACK" mainline 4.15 --arch arm64 "${base[@]}"
expect_status absent-flavour-exit-3 3 "$REPACK" mainline 6.1 --flavour lowlatency "${base[@]}"
expect_status invalid-flavour-usage 2 "$REPACK" mainline 6.1 --flavour '../x' "${base[@]}"

# --- bad input -------------------------------------------------------------
# bad VARIANT: build 6.1.5 from a variant of the tree with a fresh cache.
bad() {
	XDG_CACHE_HOME=$WORK/cache-$1 "$REPACK" mainline 6.1.5 --mirror "$url/$1/mainline" \
		--keyring "$key/keyring.gpg" -o "dir:$WORK/out/$1"
}
expect_status bad-sum 1 bad badsum
expect_stderr bad-sum-message "sha256 mismatch for .*$image"
[ ! -e "$WORK/out/badsum" ] && pass bad-sum-writes-nothing || fail bad-sum-writes-nothing "output written"
[ -z "$(find "$WORK/cache-badsum" -type f -name "$(sha256sum "$root/v6.1.5/amd64/$image" | cut -c1-64)*")" ] &&
	pass bad-sum-not-cached || fail bad-sum-not-cached "a package failing its sum was cached"

expect_status tampered-sums 1 bad tampered
expect_stderr tampered-sums-message 'v6.1.5/amd64/CHECKSUMS.gpg'
expect_status tampered-sums-other-key 1 "$REPACK" mainline 6.1.5 --mirror "$url/mainline" \
	--keyring "$WORK/other-key/keyring.gpg" -o "dir:$WORK/out/other-key"
expect_status missing-sums 1 bad nosums
expect_stderr missing-sums-message 'v6.1.5/amd64/CHECKSUMS is missing'
expect_status missing-sum-entry 1 bad nosum-entry
expect_stderr missing-sum-entry-message "CHECKSUMS lists no sha256 for $modules"
expect_status html-instead-of-deb 1 bad html
expect_stderr html-instead-of-deb-message "sha256 mismatch for .*/html/mainline/v6.1.5/amd64/$image"
[ ! -e "$WORK/out/html" ] && pass html-writes-nothing || fail html-writes-nothing "output written"
# The arch page of v6.1.5 returns 403, so the packages the version page
# links under amd64/ are used in place of its listing.
python3 - "$site" >"$WORK/forbidden.port" 2>"$WORK/forbidden.err" <<'EOF' &
import functools, http.server, sys

class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/v6.1.5/amd64/"):
            self.send_error(403)
        else:
            super().do_GET()

server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                         functools.partial(Handler, directory=sys.argv[1]))
print(server.server_address[1], flush=True)
server.serve_forever()
EOF
forbidden_pid=$!
at_exit "kill $forbidden_pid 2>/dev/null"
for _ in $(seq 1 100); do
	[ -s "$WORK/forbidden.port" ] && break
	sleep 0.1
done
if [ -s "$WORK/forbidden.port" ]; then
	expect_status forbidden-arch-page 0 env XDG_CACHE_HOME="$WORK/cache-forbidden" "$REPACK" mainline 6.1.5 \
		--mirror "http://127.0.0.1:$(cat "$WORK/forbidden.port")/mainline" --keyring "$key/keyring.gpg" \
		-o "dir:$WORK/out/forbidden"
	expect_stderr forbidden-arch-page-warns 'HTTP 403.*using the packages .*/v6.1.5/ links instead'
	labels "$WORK/out/forbidden" >"$WORK/labels"
	has_lines "$WORK/labels" "version=6.1.5-060105.$NEW" "package=$image" &&
		pass forbidden-uses-linked-packages || fail forbidden-uses-linked-packages "$(cat "$WORK/labels")"
else
	fail forbidden-server "python3 server did not start: $(cat "$WORK/forbidden.err")"
fi

expect_status no-version-dirs 1 "$REPACK" list mainline --mirror "$url/empty/mainline/"
expect_stderr no-version-dirs-message 'lists no version directories'
expect_status root-not-found 1 "$REPACK" list mainline --mirror "$url/nosuch/mainline/"
expect_status root-not-html 1 "$REPACK" list mainline --mirror "$url/binary/mainline"
expect_status root-is-a-build-dir 1 "$REPACK" list mainline --mirror "$url/mainline/v6.1.5/amd64"
expect_stderr root-is-a-build-dir-message 'v6.1.5/amd64/ lists no version directories'
