#!/bin/sh
# check_hooks.sh LIBRARY SYS_H SRC - hold the build to the rule of
# src/core/sys.h: no module but the library's entry points calls a name
# the library interposes.  Run by make after each link of the library;
# fails (and names what is wrong) when
#
#   1. the library exports a function that SYS_H does not refuse to the
#      core (a hook was added without its name in the poison list: a
#      module could then call it and land in the library's own hook);
#   2. a .c file of SRC/core or SRC/preload does not include sys.h, so
#      that the poison would not reach it (the entry points, hook_*.c,
#      and the two implementations of sys.h excepted);
#   3. a file other than the entry points and the implementation of
#      sys.h on the real functions includes real.h;
#   4. a file of SRC/core includes a header of another folder: the core
#      is linked into every process and knows none of them.
set -eu
lib=$1 sys_h=$2 src=$3
status=0

# The names refused: the words of the poison pragmas, and the macros
# that refuse the names of structures ("#define stat(...)").
refused=$(sed -n -e 's/^#pragma GCC poison //p' \
	-e 's/^#define \([a-z0-9_]*\)(\.\.\.) sys_h_refuses.*/\1/p' "$sys_h" | tr ' ' '\n' | sort -u)

# 1. Exported functions (code, weak or strong), but for what every
#    shared object exports.
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TWi]$/ { print $3 }' |
	sed 's/@.*//' | grep -v -e '^_init$' -e '^_fini$' | sort -u)
missing=$(printf '%s\n' "$exported" | comm -23 - "$(printf '%s\n' "$refused" > "$lib.refused"; echo "$lib.refused")")
rm -f "$lib.refused"
if [ -n "$missing" ]; then
	echo "check_hooks: $lib exports hooks that $sys_h does not refuse to the core:" >&2
	printf '  %s\n' $missing >&2
	status=1
fi

# The entry points and the implementations of sys.h.
doors="$src/preload/real.c $src/preload/sys_real.c $src/core/sys_libc.c"
is_door() {
	case $1 in "$src"/preload/hook_*.c) return 0 ;; esac
	for d in $doors; do [ "$1" = "$d" ] && return 0; done
	return 1
}

for f in "$src"/core/*.c "$src"/preload/*.c; do
	is_door "$f" && continue
	# 2.
	grep -Eq '^#include "(core/)?sys\.h"' "$f" ||
		{ echo "check_hooks: $f does not include sys.h" >&2; status=1; }
	# 3.
	grep -q '^#include "real\.h"' "$f" &&
		{ echo "check_hooks: $f includes real.h: call sys_* (core/sys.h)" >&2; status=1; }
done

# 4.
bad=$(grep -l '^#include "[a-z]*/' "$src"/core/*.[ch] || true)
if [ -n "$bad" ]; then
	echo "check_hooks: the core includes headers of other folders:" >&2
	grep -n '^#include "[a-z]*/' $bad >&2
	status=1
fi
exit $status
