#!/bin/bash
# Command-line checks that fail before any download. Every call names a
# closed port on 127.0.0.1 as its mirror, so a check that wrongly passes
# validation still reaches no other host.
. "$(dirname "$0")/../lib/common.sh"

closed=http://127.0.0.1:9/debian
touch "$WORK/afile"

expect_status unknown-long-option 2 "$REPACK" debian latest --mirror "$closed" --bogus
expect_stderr unknown-long-option-message "^repack: error: unknown option '--bogus'"
expect_status unknown-short-option 2 "$REPACK" debian latest --mirror "$closed" -x
expect_stderr unknown-short-option-message "unknown option '-x'"
expect_status missing-option-value 2 "$REPACK" debian latest --mirror "$closed" -j
expect_stderr missing-option-value-message "option '-j' needs a value"
expect_status list-unknown-option 2 "$REPACK" list debian --mirror "$closed" --bogus
expect_stderr list-unknown-option-message "^repack: error: unknown option '--bogus'"

for url in ftp://127.0.0.1/debian nourl 'http://127.0.0.1:99999/debian'; do
	expect_status "mirror-rejected-${url%%:*}" 2 "$REPACK" debian latest --mirror "$url"
	expect_stderr "mirror-rejected-${url%%:*}-message" "is not a valid http://, https:// or file:// URL"
done
expect_status keyring-unreadable 2 "$REPACK" debian latest --mirror "$closed" --keyring "$WORK/none.gpg"
expect_stderr keyring-unreadable-message "--keyring '.*none.gpg' cannot be read"
for repo in UPPER/case 'a:b' 'a//b' 'a-' '-a' 'a/'; do
	expect_status "repo-rejected-$repo" 2 "$REPACK" debian latest --mirror "$closed" --repo "$repo"
done
expect_stderr repo-rejected-message "is not a valid image name"
expect_status empty-version 2 "$REPACK" debian "" --mirror "$closed"
expect_stderr empty-version-message 'the version is empty'
for epoch in abc -5 ' 12' 99999999999999 1e9; do
	expect_status "epoch-rejected-$epoch" 2 env SOURCE_DATE_EPOCH="$epoch" "$REPACK" debian latest --mirror "$closed"
done
expect_stderr epoch-rejected-message 'SOURCE_DATE_EPOCH=.* is not a number of seconds'
expect_status output-is-a-file 1 "$REPACK" debian latest --mirror "$closed" -o "dir:$WORK/afile"
expect_stderr output-is-a-file-message "'.*afile' is not a directory"
expect_status output-under-a-file 1 "$REPACK" debian latest --mirror "$closed" -o "oci:$WORK/afile/images"
expect_status cache-unusable 1 "$REPACK" debian latest --mirror "$closed" --cache "$WORK/afile/cache"
expect_stderr cache-unusable-message 'cannot use the cache directory .*--cache DIR or XDG_CACHE_HOME'
expect_status list-cache-unusable 1 "$REPACK" list debian --mirror "$closed" --cache "$WORK/afile/cache"
expect_status unknown-distribution 2 "$REPACK" build gentoo latest
expect_stderr unknown-distribution-message "unknown distribution 'gentoo'; known: debian"
expect_status no-command 2 "$REPACK"
expect_status help-exits-0 0 "$REPACK" --help
expect_status version-exits-0 0 "$REPACK" --version
grep -q "^repack [0-9]" "$WORK/last.out" && pass version-printed || fail version-printed "$(cat "$WORK/last.out")"

# A mirror that is down: retried, then a clear error naming the URL.
expect_status mirror-down 1 env REPACK_RETRY_DELAY_MS=10 "$REPACK" debian latest --mirror "$closed" \
	--cache "$WORK/cache"
expect_stderr mirror-down-message '127.0.0.1:9/debian/dists/.*/InRelease'
