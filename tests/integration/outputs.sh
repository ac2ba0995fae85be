#!/bin/bash
# Image outputs from a fixture Debian mirror on 127.0.0.1: oci-archive:,
# docker-archive:, zstd layers, two architectures in one index, the tags,
# and repack inspect on each form. skopeo and umoci read the results back.
# Bad outputs and hostile archives end in clear errors.
. "$(dirname "$0")/../lib/common.sh"
. "$TESTS_DIR/lib/debian-fixture.sh"

for tool in dpkg-deb apt-ftparchive gpg skopeo umoci; do
	need_command "$tool" "$tool" || { skip outputs "$tool is not installed"; exit 0; }
done
[ -x /usr/sbin/nginx ] || need_command nginx nginx-light || { skip outputs "nginx is not installed"; exit 0; }

key=$WORK/key
make_test_key "$key" >/dev/null || { fail fixture-key "make_test_key failed"; exit 1; }
make_kernel_debs "$WORK/debs-amd64" 6.1.0-57 cloud-amd64 6.1.192-3 xz >/dev/null &&
	make_kernel_debs --arch arm64 "$WORK/debs-arm64" 6.1.0-57 cloud-arm64 6.1.192-3 xz >/dev/null ||
	{ fail fixture-debs "make_kernel_debs failed"; exit 1; }
make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian" "$key" bookworm \
	"$WORK"/debs-amd64/*.deb "$WORK"/debs-arm64/*.deb >/dev/null &&
	make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian" "$key" bookworm-updates >/dev/null &&
	make_debian_mirror --arch "amd64 arm64" "$WORK/mirror/debian-security" "$key" bookworm-security >/dev/null ||
	{ fail fixture-mirror "make_debian_mirror failed"; exit 1; }
url=$(serve_dir "$WORK/mirror") || { fail fixture-server "nginx did not start"; exit 1; }

export XDG_CACHE_HOME=$WORK/cache
# repack's temporary directories go here, where the test can count them.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
tag=6.1.192-3-cloud
common=(--mirror "$url/debian" --release bookworm --keyring "$key/keyring.gpg" --flavour cloud)
build=("$REPACK" debian 6.1.192-3 "${common[@]}")
out=$WORK/out
mkdir -p "$out"

# skopeo_digest IMAGE: the manifest digest skopeo reads from IMAGE.
skopeo_digest() {
	skopeo inspect "$1" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'
}
# json_check NAME PYTHON_EXPR: the expression over the JSON d in last.out.
json_check() {
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
		"$WORK/last.out" 2>/dev/null; then
		pass "$1"
	else
		fail "$1" "$2 is false for: $(head -c 800 "$WORK/last.out")"
	fi
}

# --- the reference image: an OCI layout ------------------------------------
expect_status build-oci 0 "${build[@]}" -o "oci:$out/layout"
digest=$(awk '{print $2}' "$WORK/last.out")
python3 - "$out/layout/index.json" "$tag" <<'EOF' && pass layout-three-tags || fail layout-three-tags "$(cat "$out/layout/index.json")"
import json, re, sys
refs = [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(open(sys.argv[1]))["manifests"]]
tag = sys.argv[2]
assert len(refs) == 3, refs
assert refs[0] == tag, refs
assert refs[1] == tag + "-amd64", refs
assert re.fullmatch(re.escape(tag) + "-[0-9a-f]{12}", refs[2]), refs
EOF

# TAG-HASH is the start of a sha256 over the sorted package sha256s.
python3 - "$out/layout" "$tag" <<'EOF' && pass hash-tag-from-packages || fail hash-tag-from-packages "hash tag does not match the packages label"
import hashlib, json, sys
layout, tag = sys.argv[1], sys.argv[2]
index = json.load(open(layout + "/index.json"))
entry = index["manifests"][0]
manifest = json.load(open(layout + "/blobs/sha256/" + entry["digest"][7:]))
config = json.load(open(layout + "/blobs/sha256/" + manifest["config"]["digest"][7:]))
packages = json.loads(config["config"]["Labels"]["org.linuxkit.repack.packages"])
text = "".join(s + "\n" for s in sorted({p["sha256"] for p in packages}))
want = tag + "-" + hashlib.sha256(text.encode()).hexdigest()[:12]
refs = [m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]]
assert want in refs, (want, refs)
EOF

# --- oci-archive -------------------------------------------------------------
expect_status build-oci-archive 0 "${build[@]}" -o "oci-archive:$out/kernel.tar"
[ "$(awk '{print $2}' "$WORK/last.out")" = "$digest" ] && pass oci-archive-same-digest ||
	fail oci-archive-same-digest "$(cat "$WORK/last.out") vs $digest"
[ ! -e "$out/kernel.tar.part" ] && pass oci-archive-no-part-left || fail oci-archive-no-part-left "kernel.tar.part left"
[ "$(skopeo_digest "oci-archive:$out/kernel.tar:$tag")" = "$digest" ] && pass skopeo-inspects-oci-archive ||
	fail skopeo-inspects-oci-archive "skopeo reports another digest"
if skopeo copy "oci-archive:$out/kernel.tar:$tag-amd64" "oci:$out/from-archive:copy" >/dev/null 2>"$WORK/skopeo.err" &&
	[ "$(skopeo_digest "oci:$out/from-archive:copy")" = "$digest" ]; then
	pass skopeo-copies-oci-archive
else
	fail skopeo-copies-oci-archive "$(cat "$WORK/skopeo.err")"
fi
tar -tvf "$out/kernel.tar" | awk '$2 != "0/0" && $2 != "root/root" { bad = 1 } END { exit bad }' &&
	pass oci-archive-owned-by-root || fail oci-archive-owned-by-root "$(tar -tvf "$out/kernel.tar" | head -3)"
mkdir -p "$out/unpacked-archive"
tar -xf "$out/kernel.tar" -C "$out/unpacked-archive"
if umoci unpack --image "$out/unpacked-archive:$tag" "$out/bundle-archive" >/dev/null 2>"$WORK/umoci.err"; then
	files=$(cd "$out/bundle-archive/rootfs" && ls | tr '\n' ' ')
	[ "$files" = "kernel kernel-dev.tar kernel.tar kernel_config " ] && pass umoci-unpacks-oci-archive ||
		fail umoci-unpacks-oci-archive "rootfs holds: $files"
else
	fail umoci-unpacks-oci-archive "$(cat "$WORK/umoci.err")"
fi
if umoci unpack --image "$out/layout:$tag" "$out/bundle-layout" >/dev/null 2>"$WORK/umoci.err"; then
	pass umoci-unpacks-layout
else
	fail umoci-unpacks-layout "$(cat "$WORK/umoci.err")"
fi
expect_status rebuild-oci-archive 0 env XDG_CACHE_HOME="$WORK/cache2" "${build[@]}" -o "oci-archive:$out/kernel2.tar"
cmp -s "$out/kernel.tar" "$out/kernel2.tar" && pass oci-archive-reproducible ||
	fail oci-archive-reproducible "two builds gave different archives"

# --- docker-archive ----------------------------------------------------------
expect_status build-docker-archive 0 "${build[@]}" -o "docker-archive:$out/docker.tar"
tar -xOf "$out/docker.tar" manifest.json >"$WORK/docker-manifest.json" 2>/dev/null
python3 - "$WORK/docker-manifest.json" "$tag" <<'EOF' && pass docker-archive-manifest || fail docker-archive-manifest "$(cat "$WORK/docker-manifest.json")"
import json, re, sys
m = json.load(open(sys.argv[1]))
tag = sys.argv[2]
assert len(m) == 1, m
assert re.fullmatch("[0-9a-f]{64}\\.json", m[0]["Config"]), m
assert len(m[0]["Layers"]) == 1, m
assert m[0]["Layers"][0].endswith("/layer.tar"), m
tags = m[0]["RepoTags"]
assert tags[:2] == ["linuxkit/kernel-debian:" + tag, "linuxkit/kernel-debian:" + tag + "-amd64"], tags
assert len(tags) == 3, tags
EOF
skopeo inspect "docker-archive:$out/docker.tar" >"$WORK/docker-inspect.json" 2>"$WORK/skopeo.err"
python3 - "$WORK/docker-inspect.json" <<'EOF' && pass skopeo-inspects-docker-archive || fail skopeo-inspects-docker-archive "$(cat "$WORK/skopeo.err")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["Architecture"] == "amd64", d
assert d["Labels"]["org.linuxkit.repack.distro"] == "debian", d
EOF
if skopeo copy "docker-archive:$out/docker.tar" "oci:$out/from-docker:copy" >/dev/null 2>"$WORK/skopeo.err" &&
	umoci unpack --image "$out/from-docker:copy" "$out/bundle-docker" >/dev/null 2>>"$WORK/skopeo.err" &&
	cmp -s "$out/bundle-docker/rootfs/kernel" "$out/bundle-layout/rootfs/kernel"; then
	pass skopeo-copies-docker-archive
else
	fail skopeo-copies-docker-archive "$(cat "$WORK/skopeo.err")"
fi

# --- zstd layers -------------------------------------------------------------
expect_status build-zstd 0 "${build[@]}" --compression zstd -o "oci-archive:$out/zstd.tar"
zstd_digest=$(awk '{print $2}' "$WORK/last.out")
skopeo inspect --raw "oci-archive:$out/zstd.tar:$tag" >"$WORK/zstd-manifest.json" 2>"$WORK/skopeo.err"
grep -q '"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd"' "$WORK/zstd-manifest.json" &&
	pass zstd-media-type || fail zstd-media-type "$(cat "$WORK/zstd-manifest.json" "$WORK/skopeo.err")"
# Recompressing to gzip makes skopeo decompress the zstd layer.
if skopeo copy --dest-compress --dest-compress-format gzip "oci-archive:$out/zstd.tar:$tag" \
	"oci:$out/from-zstd:copy" >/dev/null 2>"$WORK/skopeo.err" &&
	umoci unpack --image "$out/from-zstd:copy" "$out/bundle-zstd" >/dev/null 2>>"$WORK/skopeo.err" &&
	cmp -s "$out/bundle-zstd/rootfs/kernel.tar" "$out/bundle-layout/rootfs/kernel.tar"; then
	pass skopeo-reads-zstd-layer
else
	fail skopeo-reads-zstd-layer "$(cat "$WORK/skopeo.err")"
fi
expect_status rebuild-zstd 0 env XDG_CACHE_HOME="$WORK/cache2" "${build[@]}" --compression zstd -o "oci:$out/zstd2"
[ "$(awk '{print $2}' "$WORK/last.out")" = "$zstd_digest" ] && pass zstd-reproducible ||
	fail zstd-reproducible "$(cat "$WORK/last.out") vs $zstd_digest"
expect_status inspect-zstd 0 "$REPACK" inspect "oci-archive:$out/zstd.tar:$tag" --json
json_check inspect-zstd-files "d['images'][0]['layer']['media_type'].endswith('+zstd') and [f['name'] for f in d['images'][0]['files']] == ['kernel', 'kernel-dev.tar', 'kernel.tar', 'kernel_config']"

# --- two architectures ---------------------------------------------------------
expect_status build-multiarch 0 "${build[@]}" --arch amd64,arm64 -o "oci:$out/multi" --json
json_check multiarch-result "d['arches'] == ['amd64', 'arm64'] and '$tag-arm64' in d['tags']"
index_digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["digest"])' "$WORK/last.out")
skopeo inspect --raw "oci:$out/multi:$tag" >"$WORK/multi-index.json" 2>"$WORK/skopeo.err"
python3 - "$WORK/multi-index.json" "$index_digest" <<'EOF' && pass multiarch-index || fail multiarch-index "$(cat "$WORK/multi-index.json" "$WORK/skopeo.err")"
import hashlib, json, sys
raw = open(sys.argv[1], "rb").read()
assert "sha256:" + hashlib.sha256(raw).hexdigest() == sys.argv[2]
index = json.loads(raw)
assert index["mediaType"] == "application/vnd.oci.image.index.v1+json"
assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"], index
EOF
for arch in amd64 arm64; do
	skopeo inspect "oci:$out/multi:$tag-$arch" 2>/dev/null |
		python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["Architecture"] != sys.argv[1])' "$arch" &&
		pass "multiarch-$arch-config" || fail "multiarch-$arch-config" "$tag-$arch is not $arch"
done
[ "$(skopeo_digest "oci:$out/multi:$tag-amd64")" = "$digest" ] && pass multiarch-amd64-same-image ||
	fail multiarch-amd64-same-image "the amd64 manifest differs from the single-architecture build"
expect_status build-multiarch-archive 0 "${build[@]}" --arch amd64,arm64 -o "oci-archive:$out/multi.tar"
[ "$(awk '{print $2}' "$WORK/last.out")" = "$index_digest" ] && pass multiarch-archive-same-index ||
	fail multiarch-archive-same-index "$(cat "$WORK/last.out") vs $index_digest"
expect_status inspect-multiarch 0 "$REPACK" inspect "oci-archive:$out/multi.tar:$tag" --json
json_check inspect-multiarch-images "d['digest'] == '$index_digest' and [i['arch'] for i in d['images']] == ['amd64', 'arm64'] and d['images'][1]['kernel_release'] == '6.1.0-57-cloud-arm64'"
expect_status inspect-multiarch-one 0 "$REPACK" inspect "oci:$out/multi:$tag" --arch arm64 --json
json_check inspect-multiarch-one-arch "[i['arch'] for i in d['images']] == ['arm64']"

# --- repack inspect on each form -------------------------------------------------
expect_status inspect-layout 0 "$REPACK" inspect "oci:$out/layout:$tag"
for check in "name|^name: *linuxkit/kernel-debian$" "digest|^digest: *$digest$" \
	"kernel-release|^kernel release: *6.1.0-57-cloud-amd64$" "flavour|^flavour: *cloud$" \
	"package|^  linux-image-6.1.0-57-cloud-amd64_6.1.192-3_amd64.deb  sha256:[0-9a-f]{64}$" \
	"file-size|^  kernel\.tar +[0-9]+$"; do
	name=${check%%|*} pattern=${check#*|}
	grep -Eq "$pattern" "$WORK/last.out" && pass "inspect-text-$name" ||
		fail "inspect-text-$name" "no '$pattern' in: $(head -c 600 "$WORK/last.out")"
done
expect_status inspect-docker-archive 0 "$REPACK" inspect "docker-archive:$out/docker.tar" --json
json_check inspect-docker-archive-digest "d['digest'] == '$digest' and len(d['tags']) == 3 and d['name'] == 'linuxkit/kernel-debian'"
python3 - "$WORK/last.out" "$out/bundle-layout/rootfs" <<'EOF' && pass inspect-file-sizes || fail inspect-file-sizes "sizes differ from umoci's rootfs"
import json, os, sys
d = json.load(open(sys.argv[1]))
for f in d["images"][0]["files"]:
    assert os.path.getsize(os.path.join(sys.argv[2], f["name"])) == f["size"], f
EOF
expect_status inspect-missing-tag 3 "$REPACK" inspect "oci-archive:$out/kernel.tar:no-such-tag"
expect_status diff-across-forms 0 "$REPACK" diff "oci-archive:$out/kernel.tar:$tag" "docker-archive:$out/docker.tar"
grep -q '0 added, 0 removed, 0 changed' "$WORK/last.out" &&
	pass diff-reads-archives || fail diff-reads-archives "$(cat "$WORK/last.out")"

# --- outputs that cannot work ------------------------------------------------------
expect_status missing-output-dir 1 "${build[@]}" -o "oci-archive:$WORK/no-such-dir/kernel.tar"
expect_stderr missing-output-dir-message "directory '$WORK/no-such-dir' does not exist"
[ ! -e "$WORK/no-such-dir" ] && pass missing-output-dir-nothing-written || fail missing-output-dir-nothing-written "the directory was created"
expect_status missing-docker-output-dir 1 "${build[@]}" -o "docker-archive:$WORK/no-such-dir/docker.tar"
[ ! -e "$WORK/no-such-dir" ] && pass missing-docker-dir-nothing-written || fail missing-docker-dir-nothing-written "the directory was created"
expect_status output-is-directory 1 "${build[@]}" -o "oci-archive:$out"
expect_stderr output-is-directory-message 'is a directory'
expect_status multiarch-dir-usage 2 "${build[@]}" --arch amd64,arm64 -o "dir:$out/dir"
expect_stderr multiarch-dir-message 'one architecture'
expect_status multiarch-docker-usage 2 "${build[@]}" --arch amd64,arm64 -o "docker-archive:$out/multi-docker.tar"
[ ! -e "$out/multi-docker.tar" ] && pass multiarch-docker-nothing-written || fail multiarch-docker-nothing-written "file written"
expect_status zstd-docker-usage 2 "${build[@]}" --compression zstd -o "docker-archive:$out/zstd-docker.tar"
expect_stderr zstd-docker-message 'gzip layer'
expect_status bad-compression-usage 2 "${build[@]}" --compression lz4 -o "oci:$out/x"
expect_status bad-arch-list-usage 2 "${build[@]}" --arch amd64,amd64 -o "oci:$out/x"
expect_status archive-with-tag-usage 2 "${build[@]}" -o "oci-archive:$out/k.tar:latest"

# --- archives that are broken or hostile ----------------------------------------------
head -c 9000 "$out/kernel.tar" >"$out/truncated.tar"
expect_status inspect-truncated-archive 1 "$REPACK" inspect "oci-archive:$out/truncated.tar:$tag"
expect_stderr inspect-truncated-message "truncated\.tar"
python3 - "$out" <<'EOF'
import io, sys, tarfile
out = sys.argv[1]
def add(t, name, data=b"x", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, len(data) if kind == tarfile.REGTYPE else 0, link
    t.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(out + "/escape.tar", "w") as t:
    add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add(t, "../escaped", b"evil")
with tarfile.open(out + "/symlink.tar", "w") as t:
    add(t, "index.json", kind=tarfile.SYMTYPE, link="/etc/passwd")
with tarfile.open(out + "/two-images.tar", "w") as t:
    add(t, "manifest.json", b'[{"Config":"a.json","Layers":["l.tar"]},{"Config":"b.json","Layers":["l.tar"]}]')
EOF
expect_status inspect-escaping-archive 1 "$REPACK" inspect "oci-archive:$out/escape.tar"
expect_stderr inspect-escaping-message "climbs out"
[ ! -e "$TMPDIR/escaped" ] && [ ! -e "$out/escaped" ] && pass escaping-entry-not-written ||
	fail escaping-entry-not-written "../escaped was written"
expect_status inspect-symlink-archive 1 "$REPACK" inspect "oci-archive:$out/symlink.tar"
expect_stderr inspect-symlink-message "not a regular file"
expect_status inspect-two-images 1 "$REPACK" inspect "docker-archive:$out/two-images.tar"
expect_stderr inspect-two-images-message "holds 2 images"
expect_status inspect-missing-archive 3 "$REPACK" inspect "docker-archive:$out/none.tar"
leftovers=$(ls -d "$TMPDIR"/repack-image.* 2>/dev/null | wc -l)
[ "$leftovers" = 0 ] && pass inspect-removes-temporary-layouts ||
	fail inspect-removes-temporary-layouts "$leftovers repack-image.* directories left"
