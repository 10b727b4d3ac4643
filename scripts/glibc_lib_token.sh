#!/bin/sh
# glibc_lib_token.sh - what glibc's dynamic linker puts for $LIB in
# LD_PRELOAD: "lib/x86_64-linux-gnu" on Debian, "lib64" on Fedora.  The
# library is found through it (docs/DESIGN.md, "One LD_PRELOAD for glibc
# and musl").  Asked of the dynamic linker (--list-diagnostics, glibc
# 2.33); before that, found by preloading a probe through "$LIB" from
# each place it may stand for and seeing which one loads.  Prints nothing
# when neither tells: no guess (a wrong one would keep the library out
# of every program), and the launcher then names the library by its path.
set -u
interp=$(LC_ALL=C readelf -l /bin/sh 2> /dev/null |
	sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
if [ -n "$interp" ] && [ -x "$interp" ]; then
	token=$("$interp" --list-diagnostics 2> /dev/null | sed -n 's/^dl_dst_lib="\(.*\)"$/\1/p')
	if [ -n "$token" ]; then
		printf '%s\n' "$token"
		exit 0
	fi
fi
tmp=$(mktemp -d) || exit 0
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/probe.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
static void here(void) {}
__attribute__((constructor)) static void say(void)
{
	Dl_info i;
	if (dladdr((void *)here, &i) && i.dli_fname)
		fprintf(stderr, "probe:%s\n", i.dli_fname);
}
C
${CC:-cc} -shared -fPIC -o "$tmp/probe.so" "$tmp/probe.c" 2> /dev/null || exit 0
arch=$(${CC:-cc} -print-multiarch 2> /dev/null)
for place in ${arch:+lib/$arch} lib64 lib lib32 libx32; do
	mkdir -p "$tmp/$place"
	cp "$tmp/probe.so" "$tmp/$place/probe.so"
done
LD_PRELOAD="$tmp/\$LIB/probe.so" /bin/sh -c : 2>&1 |
	sed -n "s|^probe:$tmp/\\(.*\\)/probe\\.so\$|\\1|p" | head -n 1
