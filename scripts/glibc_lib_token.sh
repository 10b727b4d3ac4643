#!/bin/sh
# glibc_lib_token.sh - what glibc's dynamic linker puts for $LIB in
# LD_PRELOAD: "lib/x86_64-linux-gnu" on Debian, "lib64" on Fedora.  The
# library is found through it (docs/DESIGN.md, "One LD_PRELOAD for glibc
# and musl").  Asked of the dynamic linker itself (--list-diagnostics,
# glibc 2.33); failing that, Debian's multiarch guess.
set -u
interp=$(LC_ALL=C readelf -l /bin/sh 2> /dev/null |
	sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
token=
if [ -n "$interp" ] && [ -x "$interp" ]; then
	token=$("$interp" --list-diagnostics 2> /dev/null | sed -n 's/^dl_dst_lib="\(.*\)"$/\1/p')
fi
if [ -z "$token" ]; then
	arch=$(${CC:-cc} -print-multiarch 2> /dev/null)
	token=lib${arch:+/$arch}
fi
printf '%s\n' "$token"
