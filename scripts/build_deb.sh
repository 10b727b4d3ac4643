#!/bin/sh
# build_deb.sh OUT VERSION COMMIT - the Debian package of this tree.
#
# dpkg-buildpackage writes into the tree it builds (debian/, build/), so
# it runs in a copy under OUT: the files the build needs, packaging/debian
# as debian/, and COMMIT in a file (the copy is not a git checkout).  The
# .deb lands in OUT; lintian then checks it and fails on any warning.
set -eu
out=$1 version=$2 commit=$3
src=$out/atomically-$version

changelog_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
if [ "$changelog_version" != "$version" ]; then
	echo "build_deb: packaging/debian/changelog is at $changelog_version, the Makefile at $version" >&2
	exit 1
fi
rm -rf "$out"
mkdir -p "$src"
cp -a Makefile README.md LICENSE src conf docs scripts packaging "$src/"
cp -a packaging/debian "$src/debian"
printf '%s\n' "$commit" > "$src/COMMIT"
(cd "$src" && dpkg-buildpackage --build=binary --no-sign > ../build.log 2>&1) || {
	tail -40 "$out/build.log" >&2
	echo "build_deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
}
rm -rf "$src"
deb=$(ls "$out"/atomically_"$version"_*.deb)
lintian --fail-on warning --info "$out"/atomically_"$version"_*.changes
echo "build_deb: $deb"
