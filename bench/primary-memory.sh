#!/bin/bash
# Peak memory of `repack list fedora` reading a primary.xml the size of
# Fedora's Everything repository: 60,000 packages, about 190 MB of XML,
# zstd-compressed, served from 127.0.0.1. A baseline run against a
# repository of 10 packages shows what the process needs without the big
# document.
#
# Usage: bench/primary-memory.sh [REPACK]  (default: ./repack)
# Prints one line per run and a summary line "primary-memory: ...".
set -eu

repack=${1:-${REPACK:-./repack}}
repack=$(cd "$(dirname "$repack")" && pwd)/$(basename "$repack")
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/repack-bench.XXXXXX")
server=""
cleanup() {
	# The server ends by SIGTERM; its status must not become the script's.
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

for tool in python3 zstd /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "primary-memory: $tool is required" >&2; exit 1; }
done

# make_repo DIR PACKAGES: write DIR/repodata/{primary.xml.zst,repomd.xml}
# listing PACKAGES generated packages; every 1000th is a kernel-core.
make_repo() {
	mkdir -p "$1/repodata"
	python3 - "$2" <<'PY' | zstd -q -3 -o "$1/repodata/primary.xml.zst"
import sys
n = int(sys.argv[1])
out = sys.stdout
out.write('<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" '
          f'xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="{n}">\n')
description = "".join(f"Line {i} of a long description &amp; text that a real package carries. "
                      for i in range(12))
for i in range(n):
    name = "kernel-core" if i % 1000 == 0 else "python3-example"
    ver, rel = f"6.{i // 1000}.{i % 7}", f"{200 + i % 3}.fc42"
    requires = "".join(f'      <rpm:entry name="libdependency{d}.so.{i % 9}()(64bit)"/>\n' for d in range(14))
    files = "".join(f"    <file>/usr/bin/generated-tool-{i}-{f}</file>\n" for f in range(8))
    out.write(f"""<package type="rpm">
  <name>{name}</name>
  <arch>x86_64</arch>
  <version epoch="0" ver="{ver}" rel="{rel}"/>
  <checksum type="sha256" pkgid="YES">{i:064x}</checksum>
  <summary>Package number {i} of a generated repository</summary>
  <description>{description}</description>
  <packager>Fedora Project</packager>
  <url>https://example.org/{i}</url>
  <time file="1700000000" build="1699999999"/>
  <size package="{10000 + i}" installed="{40000 + i}" archive="{41000 + i}"/>
  <location href="Packages/p/{name}-{ver}-{rel}.x86_64.rpm"/>
  <format>
    <rpm:license>MIT</rpm:license>
    <rpm:vendor>Fedora Project</rpm:vendor>
    <rpm:group>Unspecified</rpm:group>
    <rpm:buildhost>buildvm-x86-{i % 40}.fedoraproject.org</rpm:buildhost>
    <rpm:sourcerpm>{name}-{ver}-{rel}.src.rpm</rpm:sourcerpm>
    <rpm:header-range start="4504" end="{9000 + i}"/>
    <rpm:provides>
      <rpm:entry name="{name}" flags="EQ" epoch="0" ver="{ver}" rel="{rel}"/>
      <rpm:entry name="kernel-uname-r" flags="EQ" epoch="0" ver="{ver}" rel="{rel}.x86_64"/>
    </rpm:provides>
    <rpm:requires>
{requires}    </rpm:requires>
{files}  </format>
</package>
""")
out.write("</metadata>\n")
PY
	python3 - "$1" <<'PY'
import hashlib, os, subprocess, sys
repo = sys.argv[1]
path = os.path.join(repo, "repodata", "primary.xml.zst")
packed = open(path, "rb").read()
plain = subprocess.run(["zstd", "-q", "-dc", path], check=True, capture_output=True).stdout
open(os.path.join(repo, "repodata", "repomd.xml"), "w").write(f"""<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo">
  <revision>1700000000</revision>
  <data type="primary">
    <checksum type="sha256">{hashlib.sha256(packed).hexdigest()}</checksum>
    <open-checksum type="sha256">{hashlib.sha256(plain).hexdigest()}</open-checksum>
    <location href="repodata/primary.xml.zst"/>
    <size>{len(packed)}</size>
    <open-size>{len(plain)}</open-size>
  </data>
</repomd>
""")
print(len(plain), len(packed))
PY
}

echo "primary-memory: generating the repositories in $work" >&2
read -r big_plain big_packed < <(make_repo "$work/srv/big/fedora/releases/99/Everything/x86_64/os" 60000)
make_repo "$work/srv/small/fedora/releases/99/Everything/x86_64/os" 10 >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
python3 -m http.server --bind 127.0.0.1 --directory "$work/srv" "$port" >/dev/null 2>&1 &
server=$!
for _ in $(seq 1 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done

# peak_rss NAME: run repack list against the named repository with a fresh
# cache and print its peak resident set size in KiB.
peak_rss() {
	XDG_CACHE_HOME=$work/cache-$1 REPACK_DATA_DIR=$top/data /usr/bin/time -f '%M' -o "$work/$1.rss" \
		"$repack" list fedora --release 99 --mirror "http://127.0.0.1:$port/$1/fedora" -q \
		>"$work/$1.out" 2>"$work/$1.err" ||
		{ echo "primary-memory: repack list failed: $(tail -n 3 "$work/$1.err")" >&2; exit 1; }
	tail -n 1 "$work/$1.rss"
}

small=$(peak_rss small)
big=$(peak_rss big)
kernels=$(grep -c 'fc42' "$work/big.out" || true)
echo "baseline (10 packages): peak RSS $small KiB"
echo "60000 packages, $((big_plain / 1000000)) MB XML ($((big_packed / 1000000)) MB zstd), $kernels kernels listed: peak RSS $big KiB"
echo "primary-memory: peak RSS $big KiB for 60000 packages ($((big_plain / 1000000)) MB of XML); baseline $small KiB"
