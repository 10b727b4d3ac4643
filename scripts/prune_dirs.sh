#!/bin/sh
# prune_dirs.sh DESTDIR DIR... - after `make uninstall`: remove each DIR
# (under DESTDIR) that is now empty, then its parents while they are
# empty, stopping at DESTDIR.  Without a DESTDIR, only the directories
# that are the project's own (named atomically) go: /usr/local/bin and
# its kin stay, whatever they hold.
set -u
destdir=${1%/}
shift
for dir in "$@"; do
	dir=${dir%/}
	if [ -z "$destdir" ]; then
		case $dir in
		*/atomically | */atomically/*) ;;
		*) continue ;;
		esac
	fi
	path=$destdir$dir
	while [ -n "$dir" ] && [ "$path" != "$destdir" ] && [ -d "$path" ]; do
		rmdir "$path" 2>/dev/null || break
		dir=${dir%/*}
		path=$destdir$dir
		if [ -z "$destdir" ]; then
			case $dir in
			*/atomically | */atomically/*) ;;
			*) break ;;
			esac
		fi
	done
done
exit 0
