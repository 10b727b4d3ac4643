# commit.bats - the program's own rename onto a matched path, and
# commit = "exit" (SPEC section 3: Processes; issue 3).

load helpers

setup() {
	common_setup
	PY=/usr/bin/python3
	[ -x "$PY" ] || PY=$(command -v python3)
}

# renamed_after_fsync TRACE TARGET: in strace -f -y output, the source of
# the rename onto TARGET was fsynced before it, and a directory after.
renamed_after_fsync() {
	"$PY" - "$1" "$2" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
target = sys.argv[2]
ren = [i for i, l in enumerate(lines)
       if re.search(r'rename(at2?)?\(.*"(\./)?%s"' % re.escape(target), l) and "= 0" in l]
if not ren:
    sys.exit("no rename onto %s" % target)
i = ren[-1]
src = re.search(r'rename(?:at2?)?\((?:[^,]*, )?"([^"]+)"', lines[i]).group(1).split("/")[-1]
before = [l for l in lines[:i] if re.match(r'\d+\s+f(data)?sync\(\d+<[^>]*%s>' % re.escape(src), l)]
after = [l for l in lines[i + 1:] if re.match(r'\d+\s+fsync\(\d+<[^>]*>\) = 0', l)]
if not before:
    sys.exit("%s was not fsynced before the rename" % src)
if not after:
    sys.exit("no directory fsync after the rename")
PY
}

@test "sed -i on a matched file: its temp is fsynced before the rename, the directory after" {
	printf 'a: old\n' > f.yaml
	run strace -f -y -o trace -e trace=fsync,fdatasync,rename,renameat,renameat2 \
		env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" sed -i 's/old/new/' f.yaml
	assert_success
	assert_loaded sed
	assert_equal "$(cat f.yaml)" "a: new"
	run renamed_after_fsync trace f.yaml
	assert_success
}

@test "control: sed -i without the library renames without an fsync" {
	printf 'a: old\n' > f.yaml
	strace -f -y -o trace -e trace=fsync,fdatasync,rename,renameat,renameat2 sed -i 's/old/new/' f.yaml
	run renamed_after_fsync trace f.yaml
	assert_failure
}

@test "perl -i on a matched file: synced before the rename" {
	printf 'a: old\n' > f.yaml
	run strace -f -y -o trace -e trace=fsync,fdatasync,rename,renameat,renameat2 \
		env ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" perl -pi -e 's/old/new/' f.yaml
	assert_success
	assert_loaded perl
	assert_equal "$(cat f.yaml)" "a: new"
	run renamed_after_fsync trace f.yaml
	assert_success
}

@test "a rename onto a matched file waits for its lock" {
	printf 'path "f.yaml" { lock_timeout = 0 }\n' > "$CONF"
	echo old > f.yaml
	echo mine > mine.tmp
	wrapped "$WRITER" open f.yaml "slow new content" 10 200 &
	local writer=$!
	wait_for_temp .
	run wrapped "$PY" -c 'import os; os.rename("mine.tmp", "f.yaml")'
	assert_failure
	assert_output --partial "Resource temporarily unavailable"
	assert_file_exists mine.tmp
	wait "$writer"
	assert_equal "$(cat f.yaml)" "slow new content"
}

@test "commit = exit: a closed file is committed when the process exits, not before" {
	printf 'path "f.yaml" { commit = "exit" }\n' > "$CONF"
	echo old > f.yaml
	# Before the exit the writer reads its own pending content
	# (read-your-writes), and another process (cat) still the old one.
	run wrapped "$PY" -c '
import subprocess
with open("f.yaml", "w") as f:
    f.write("new")
print(open("f.yaml").read().strip())
print(subprocess.run(["cat", "f.yaml"], capture_output=True, text=True).stdout.strip())'
	assert_success
	assert_loaded python3
	assert_equal "${lines[0]}" new
	assert_equal "${lines[1]}" old
	assert_equal "${#lines[@]}" 2
	assert_equal "$(cat f.yaml)" new
	assert_no_temps .
}

@test "commit = exit: a process killed before it exits leaves the old content" {
	printf 'path "f.yaml" { commit = "exit" }\n' > "$CONF"
	echo old > f.yaml
	run wrapped "$PY" -c '
import os, signal
with open("f.yaml", "w") as f:
    f.write("new")
os.kill(os.getpid(), signal.SIGKILL)'
	assert_loaded python3
	assert_equal "$status" 137
	assert_equal "$(cat f.yaml)" old
}
