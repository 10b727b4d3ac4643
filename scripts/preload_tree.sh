#!/bin/sh
# preload_tree.sh DIR TOKEN - the directories beside DIR/libatomically.so
# (the glibc build) that let one LD_PRELOAD value, DIR/$LIB/libatomically.so
# with a literal "$LIB", serve programs of both C libraries:
#
#   DIR/TOKEN/  what glibc's dynamic linker expands $LIB to (TOKEN, from
#               scripts/glibc_lib_token.sh): links to DIR's libraries;
#   DIR/$LIB/   a directory of that very name, since musl's dynamic linker
#               expands nothing: a link to DIR/musl/libatomically.so, the
#               musl build, when there is one; else no such directory,
#               and a musl program finds no library and runs unwrapped
#               (musl skips a preload it cannot find, silently).
#
# Run again after each build or install: it puts the tree as it should
# be.  docs/DESIGN.md, "One LD_PRELOAD for glibc and musl".
set -eu
dir=$1 token=${2-}
case $token in
'')
	# glibc_lib_token.sh could not tell: no tree, and the launcher names
	# the library by its path (musl programs are then not served).
	echo "preload_tree: what glibc expands \$LIB to is unknown: the library is named by its path" >&2
	exit 0 ;;
/* | *..* | *' '* | *:*) echo "preload_tree: bad \$LIB expansion: '$token'" >&2; exit 1 ;;
esac
up=$(printf '%s\n' "$token" | sed 's|[^/]*|..|g')
mkdir -p "$dir/$token"
for lib in libatomically.so libatomically-conf.so; do
	ln -sfn "$up/$lib" "$dir/$token/$lib"
done
musl_dir="$dir/\$LIB"
if [ -f "$dir/musl/libatomically.so" ]; then
	mkdir -p "$musl_dir"
	ln -sfn ../musl/libatomically.so "$musl_dir/libatomically.so"
else
	rm -f "$musl_dir/libatomically.so"
	rmdir "$musl_dir" 2> /dev/null || true
fi
