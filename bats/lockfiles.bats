#!/usr/bin/env bats
# lockfiles.bats - lock files and lock directories no other user can put in
# our way (issue 13, items 3, 4, 5 and 9).  Each test plays the attacker:
# nobody plants a file, a link or a directory where the library keeps
# its locks, and the victim (root, or a user the test creates) writes.
# The victim's write must go through, atomically, without waiting for
# the attacker and without touching anything of theirs; the kernel alone
# (the same command unwrapped) is the reference.

bats_require_minimum_version 1.5.0
load helpers

VICTIM=atomically-bats-victim

setup() {
	common_setup
	require_root "another user (nobody) plays the attacker"
	# A tree nobody can reach: the tests' own directories are root's 0700.
	SHARED=$(mktemp -d /tmp/atomically-lockfiles.XXXXXX)
	chmod 755 "$SHARED"
	cd "$SHARED"
}

teardown() {
	[ -z "${SHARED:-}" ] || rm -rf "$SHARED"
	[ -z "${HELD:-}" ] || kill "$HELD" 2> /dev/null || true
	[ -z "${PREEMPTED:-}" ] || rm -rf "$PREEMPTED"
	[ -z "${SAVED:-}" ] || mv "$SAVED" /tmp/atomically-0
	if id "$VICTIM" > /dev/null 2>&1; then
		rm -rf "/tmp/atomically-$(id -u "$VICTIM")"
		userdel "$VICTIM" 2> /dev/null || true
	fi
}

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# sidecar_conf: lock files beside the file, as for NFS.
sidecar_conf() {
	printf 'lock_dir = "sidecar"\npath "*.json" { lock_timeout = 2 }\n' > "$CONF"
}

# assert_unlocked_warning: the victim was told why its lock went elsewhere.
assert_fell_back() {
	grep -q "^atomically: .*f\.json: its lock file .* cannot be used (.*); locking in the per-user directory" "$LIBLOG" ||
		fail "no warning: $(cat "$LIBLOG")"
	[[ $(locks_used) = "$LOCKS/"*-f.json.lock ]] || fail "not locked in the per-user directory: $(locks_used)"
}

@test "sidecar: a hard link planted as .NAME.lock is not written through (root's file keeps its bytes)" {
	sidecar_conf
	printf 'precious root data\n' > victim
	victim=$SHARED/victim
	mkdir shared && chmod 1777 shared && cd shared
	echo old > f.json
	# Planted: with fs.protected_hardlinks = 0 another user may link any
	# file; the test makes the link itself.
	ln "$victim" .f.json.lock
	# The control: the old library's open of the lock file (O_RDWR,
	# O_CREAT, O_NOFOLLOW) and its pid write land in the victim.
	cp "$victim" copy
	/usr/bin/python3 -c 'import os; fd = os.open(".f.json.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW); os.pwrite(fd, b"12345", 0)'
	[ "$(cat "$victim")" != "$(cat copy)" ] || fail "the control did not write the victim"
	cp copy "$victim"

	run wrapped bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.json)" new
	assert_equal "$(cat "$victim")" "precious root data"
	assert_fell_back
}

@test "sidecar: nobody's symlink as .NAME.lock neither denies the write nor is followed" {
	sidecar_conf
	mkdir shared && chmod 1777 shared && cd shared
	echo precious > ../victim
	echo old > f.json
	as_nobody ln -s ../victim .f.json.lock
	# The control: unwrapped, the write works (the link is nothing to it).
	echo plain > g.json
	run wrapped bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.json)" new
	assert_equal "$(cat ../victim)" precious
	assert_fell_back
}

@test "sidecar: nobody's file as .NAME.lock, held locked by nobody: the write neither waits nor fails" {
	sidecar_conf
	mkdir shared && chmod 1777 shared && cd shared
	echo old > f.json
	as_nobody /usr/bin/python3 -c '
import fcntl, os, struct, sys, time
fd = os.open(".f.json.lock", os.O_RDWR | os.O_CREAT, 0o666)
os.write(fd, b"         1\n")   # a forged holder: pid 1
fcntl.fcntl(fd, 37, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0))  # F_OFD_SETLK
print("held", flush=True)
time.sleep(60)
' > held.out &
	HELD=$!
	for _ in $(seq 50); do grep -q held held.out && break; sleep 0.1; done
	grep -q held held.out || fail "nobody could not hold the lock"
	start=$SECONDS
	run wrapped bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	[ $((SECONDS - start)) -lt 2 ] || fail "waited for nobody's lock ($((SECONDS - start)) s)"
	assert_equal "$(cat f.json)" new
	! grep -q "locked by pid 1" "$LIBLOG" || fail "the forged pid was believed: $(cat "$LIBLOG")"
	assert_fell_back
}

@test "sidecar: a lock file of our own beside the file is used, and kept" {
	sidecar_conf
	echo old > f.json
	run wrapped bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(locks_used)" .f.json.lock
	assert_file_exists .f.json.lock
	! grep -q "cannot be used" "$LIBLOG" || fail "$(cat "$LIBLOG")"
}

@test "lock_dir = a directory others could change: not used; the per-user directory is, with a warning" {
	mkdir -m 777 open
	printf 'lock_dir = "%s/open"\npath "*.json" { }\n' "$SHARED" > "$CONF"
	echo old > f.json
	run wrapped bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.json)" new
	grep -q "^atomically: lock_dir $SHARED/open: other users could change it" "$LIBLOG" ||
		fail "no warning: $(cat "$LIBLOG")"
	[[ $(locks_used) = "$LOCKS/"*-f.json.lock ]] || fail "$(locks_used)"

	# Its parent open to others, itself fine: the same.
	mkdir -m 777 open2 && mkdir -m 755 open2/locks
	printf 'lock_dir = "%s/open2/locks"\npath "*.json" { }\n' "$SHARED" > "$CONF"
	: > "$LIBLOG"
	run wrapped bash -c 'echo newer > f.json'
	assert_success
	grep -q "^atomically: lock_dir $SHARED/open2/locks: other users could change it" "$LIBLOG" ||
		fail "no warning: $(cat "$LIBLOG")"

	# Sticky and root's, like /tmp: used.
	mkdir -m 1777 sticky
	printf 'lock_dir = "%s/sticky"\npath "*.json" { }\n' "$SHARED" > "$CONF"
	: > "$LIBLOG"
	run wrapped bash -c 'echo newest > f.json'
	assert_success
	[[ $(locks_used) = "$SHARED/sticky/"*-f.json.lock ]] || fail "$(locks_used)"
}

@test "XDG_RUNTIME_DIR of another user (su without -): not used; root locks in /run/atomically" {
	mkdir -m 700 theirs
	chown nobody theirs
	echo old > f.json
	run env XDG_RUNTIME_DIR="$SHARED/theirs" ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.json)" new
	grep -q "^atomically: XDG_RUNTIME_DIR=$SHARED/theirs: owner 65534, .*not used for locks" "$LIBLOG" ||
		fail "no note: $(cat "$LIBLOG")"
	assert_equal "$(ls -A theirs)" ""
	if [ -d "/run/user/0" ]; then
		[[ $(locks_used) = /run/user/0/atomically/* ]] || fail "$(locks_used)"
	else
		[[ $(locks_used) = /run/atomically/* ]] || fail "$(locks_used)"
	fi
}

@test "XDG_RUNTIME_DIR of our own under a directory others can write: not used" {
	mkdir -m 777 open
	mkdir -m 700 open/run
	echo old > f.json
	run env XDG_RUNTIME_DIR="$SHARED/open/run" ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	grep -q "^atomically: $SHARED/open/run/atomically: a directory above it is open to other users" "$LIBLOG" ||
		fail "no warning: $(cat "$LIBLOG")"
	[[ $(locks_used) != "$SHARED/open/run/"* ]] || fail "$(locks_used)"
	assert_equal "$(cat f.json)" new
}

@test "no XDG_RUNTIME_DIR, /tmp/atomically-UID made first by nobody: the victim's write goes through, with a warning" {
	useradd -M -r -s /usr/sbin/nologin "$VICTIM" 2> /dev/null || id "$VICTIM" > /dev/null
	vuid=$(id -u "$VICTIM")
	[ ! -e "/run/user/$vuid" ] || skip "the victim has a runtime directory"
	rm -rf "/tmp/atomically-$vuid"
	as_nobody mkdir -m 777 "/tmp/atomically-$vuid"
	mkdir -m 777 work
	echo old > work/f.json
	chown "$VICTIM" work/f.json
	printf 'path "*.json" { }\n' > work/atomically.conf
	# The control: unwrapped, the victim writes its file.
	setpriv --reuid="$VICTIM" --regid=nogroup --clear-groups bash -c 'echo plain > work/g.json'
	assert_equal "$(cat work/g.json)" plain

	run setpriv --reuid="$VICTIM" --regid=nogroup --clear-groups env -u XDG_RUNTIME_DIR \
		ATOMICALLY_CONF="$SHARED/work/atomically.conf" ATOMICALLY_LOG=warn \
		"$ATOMICALLY" bash -c 'echo new > work/f.json'
	assert_success
	assert_equal "$(cat work/f.json)" new
	assert_output --partial "/tmp/atomically-$vuid: lock directory not ours (owner 65534, mode 0777): not used"
	assert_output --partial "files are written without locks"
	assert_equal "$(ls -A "/tmp/atomically-$vuid")" ""
}

@test "no XDG_RUNTIME_DIR, root: /tmp/atomically-0 made first by nobody does not matter: /run/atomically" {
	[ ! -d /run/user/0 ] || skip "root has a runtime directory: /run/user/0 is used"
	# One the machine had (an older library's) is put back afterwards.
	if [ -e /tmp/atomically-0 ]; then
		SAVED=/tmp/atomically-0.bats-saved-$$
		mv /tmp/atomically-0 "$SAVED"
	fi
	PREEMPTED=/tmp/atomically-0
	as_nobody mkdir -m 777 /tmp/atomically-0
	echo old > f.json
	run env -u XDG_RUNTIME_DIR ATOMICALLY_LOG="debug:$LIBLOG" "$ATOMICALLY" bash -c 'echo new > f.json'
	assert_success
	assert_loaded bash
	assert_equal "$(cat f.json)" new
	[[ $(locks_used) = /run/atomically/*-f.json.lock ]] || fail "$(locks_used)"
	! grep -q "atomically-0" "$LIBLOG" || fail "$(cat "$LIBLOG")"
	[ "$(stat -c '%U %a' /run/atomically)" = "root 700" ] || fail "$(stat -c '%U %a' /run/atomically)"
}

@test "lock files do not pile up: 16 threads x 200 files each leave none behind" {
	printf 'path "*.json" { durability = "none" }\n' > "$CONF"
	mkdir many
	run wrapped python3 -c '
import threading
def write(t):
    for i in range(200):
        with open("many/t%d-%d.json" % (t, i), "w") as f:
            f.write("%d %d\n" % (t, i))
threads = [threading.Thread(target=write, args=(t,)) for t in range(16)]
for t in threads: t.start()
for t in threads: t.join()
'
	assert_success
	assert_loaded python3
	assert_equal "$(ls many | wc -l)" 3200
	assert_equal "$(cat many/t15-199.json)" "15 199"
	assert_equal "$(locks_used | sort -u | wc -l)" 3200
	assert_equal "$(ls -A "$LOCKS" | wc -l)" 0
}
