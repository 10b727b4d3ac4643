#!/usr/bin/env bats
# limits.bats - the edges of what a program may do, kept as without the
# library (issue 12, item 7): as many open files as its descriptor limit
# allows (the library's own descriptors go above that limit), O_DIRECT,
# and paths longer than the kernel gives out (PATH_MAX).
#
# Each case runs the program without the library and under it and
# compares; the library of before kept its descriptors within the
# program's limit (the program ran out at a quarter of it) and dropped
# O_DIRECT from the temp.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	common_setup
	find_python
	cat > many.py <<'PY'
import sys
n = int(sys.argv[1]); files = []
try:
    for i in range(n):
        f = open("f%d.json" % i, "w"); f.write("v%d\n" % i); files.append(f)
except OSError as e:
    print("stopped at", len(files), e.strerror)
else:
    print("opened", len(files))
for f in files:
    f.close()
PY
}

# all_whole N: f0.json ... f(N-1).json hold v0 ... v(N-1), and no more.
all_whole() {
	local i
	for ((i = 0; i < $1; i++)); do
		[ "$(cat "f$i.json")" = "v$i" ] || fail "f$i.json: $(cat "f$i.json" 2>&1)"
	done
	[ ! -e "f$1.json" ] || fail "f$1.json exists: more files than opened"
}

# The library's own descriptors first fill their zone below the limit
# (from 768 up): the program could then open only about 768 of its own,
# unless they move up once it has many (the library of before: 254).
@test "descriptors: 1,100 matched files kept open under ulimit -Sn 1024: as many open as without the library, each committed" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 1200 ] || require_root
	run bash -c 'ulimit -Hn 4096 2>/dev/null; ulimit -Sn 1024; "$0" many.py 1100' "$PY"
	assert_success
	plain=$output
	[[ $plain = "stopped at 10"* ]] || fail "the control did not run out near 1024: $plain"
	n=${plain#stopped at }; n=${n%% *}
	rm -f f*.json

	run bash -c 'ulimit -Hn 4096 2>/dev/null; ulimit -Sn 1024; "$0" "$@"' \
		"$ATOMICALLY" "$PY" many.py 1100
	assert_success
	assert_equal "$output" "$plain"
	all_whole "$n"
	assert_no_temps .
}

@test "descriptors: the library says (debug) when its own go above the limit, once" {
	hard=$(ulimit -Hn)
	[ "$hard" = unlimited ] || [ "$hard" -ge 1200 ] || require_root
	run bash -c 'ulimit -Hn 4096 2>/dev/null; ulimit -Sn 1024; ATOMICALLY_LOG="debug:$0" "$@"' \
		"$LIBLOG" "$ATOMICALLY" "$PY" many.py 600
	assert_success
	assert_output "opened 600"
	assert_loaded "$PYNAME"
	[ "$(grep -c 'the library keeps its own above its limit' "$LIBLOG")" = 1 ] ||
		fail "$(grep -v committed "$LIBLOG")"
	assert_commits 'f599\.json' 1
	all_whole 600
}

@test "descriptors: no room above the limit (soft = hard = 300): one clear warning, every file opened is committed" {
	run bash -c 'ulimit -n 300; "$0" many.py 400' "$PY"
	assert_success
	[[ $output = "stopped at "* ]] || fail "the control did not run out: $output"
	rm -f f*.json

	run bash -c 'ulimit -n 300; "$0" "$@"' "$ATOMICALLY" "$PY" many.py 400
	assert_success
	[[ ${lines[-1]} = "stopped at "* ]] || fail "$output"
	n=${lines[-1]#stopped at }; n=${n%% *}
	[ "$(grep -c 'descriptors are short' <<< "$output")" = 1 ] || fail "not one warning: $output"
	assert_output --partial "within the program's limit of 300"
	all_whole "$n"
	assert_no_temps .
}

@test "O_DIRECT: kept on the temp: the flag reads back, an aligned write passes, an unaligned one fails, as without the library" {
	cat > direct.py <<'PY'
import fcntl, mmap, os
try:
    fd = os.open("d.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_DIRECT, 0o644)
except OSError as e:
    print("open", e.strerror); raise SystemExit(0)
print("O_DIRECT", bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT))
block = mmap.mmap(-1, 4096); block.write(b"x" * 4096)
print("aligned", os.write(fd, block))
try:
    os.write(fd, b"unaligned"); print("unaligned written")
except OSError as e:
    print("unaligned", e.strerror)
os.close(fd)
PY
	printf 'old\n' > d.json
	run "$PY" direct.py
	assert_success
	plain=$output
	[[ $plain != open* ]] || skip "this file system refuses O_DIRECT: $plain"
	plain_size=$(stat -c %s d.json)

	printf 'old\n' > d.json
	old_ino=$(inode d.json)
	run wrapped "$PY" direct.py
	assert_success
	assert_loaded "$PYNAME"
	assert_equal "$output" "$plain"
	assert_line "O_DIRECT True"
	assert_equal "$(stat -c %s d.json)" "$plain_size"
	[ "$(inode d.json)" != "$old_ino" ] || fail "not replaced: written in place?"
	assert_commits 'd\.json' 1
	assert_no_temps .
}

# deep.py DIR [COMMAND...]: goes down 25 directories of 200 characters
# below DIR (an absolute path longer than PATH_MAX), writes x.json and
# y.conf there with "old", runs COMMAND bash -c '...' there, which writes
# "new" into both, and prints what bash printed and the two files.
deep_py() {
	cat > deep.py <<'PY'
import os, subprocess, sys
os.chdir(sys.argv[1])
for i in range(25):
    os.makedirs("d" * 200, exist_ok=True); os.chdir("d" * 200)
for f in ("x.json", "y.conf"):
    open(f, "w").write("old\n")
r = subprocess.run(sys.argv[2:] + ["bash", "-c", "echo new > x.json; echo new > y.conf"],
                   capture_output=True, text=True)
print("status", r.returncode)
print(r.stderr, end="")
print("x.json", open("x.json").read().strip(), "y.conf", open("y.conf").read().strip())
print("left", sorted(os.listdir(".")))
PY
}

@test "paths beyond PATH_MAX: rules that need the whole path cannot be held: written as without the library, and the library says so once" {
	deep_py
	printf 'path "*.json" { }\npath "%s/**/*.conf" { }\n' "$PWD" > "$CONF"
	run "$PY" deep.py "$PWD"
	assert_success
	plain=$output
	run "$PY" deep.py "$PWD" env ATOMICALLY_LOG=debug "$ATOMICALLY"
	assert_success
	assert_line "status 0"
	assert_line "x.json new y.conf new"
	assert_line "left ['x.json', 'y.conf']"
	[ "$(grep -c 'cannot tell its absolute path' <<< "$output")" = 1 ] ||
		fail "not one warning: $output"
	assert_line --partial "not held against the rules that need the whole path, written in place"
	refute_line --partial "committed"
	assert_equal "$(grep -v '^atomically:' <<< "$output")" "$plain"
}

@test "paths beyond PATH_MAX: rules by name alone need no path: committed atomically there" {
	deep_py
	printf 'path "*.json" { }\npath "*.conf" { }\n' > "$CONF"
	run "$PY" deep.py "$PWD" env ATOMICALLY_LOG=debug "$ATOMICALLY"
	assert_success
	assert_line "x.json new y.conf new"
	assert_line "left ['x.json', 'y.conf']"
	assert_line "atomically: x.json: committed (full)"
	assert_line "atomically: y.conf: committed (full)"
	refute_line --partial "cannot tell its absolute path"
}
