#!/usr/bin/env bats
# metadata.bats - what a replacement keeps of the old file, and how the
# temp of a write without O_TRUNC gets the old content, on real file
# systems (SPEC §3 "Commit" steps 1-3 and the open table's "copy of the
# target"; issue 4 items 1, 2 and 8).  Each behaviour runs on a tmpfs and
# on loop-mounted ext4, xfs and btrfs images:
#
# - a replaced file keeps its mode (setgid included), owner and group,
#   user.* attributes, POSIX access ACL (or its lack of one) and SELinux
#   label; a new file gets the requested mode less the umask, and its
#   directory's default ACL exactly as a plain create gives it;
# - a writer that is not root cannot give a file away: the replacement is
#   its own ("owner and group (where permitted)", atomically(1)), but it
#   keeps the group where the writer is a member, and a write the writer
#   may make without the library (a sticky directory) does not fail;
# - the replacement is a new inode: new mtime, ctime and atime;
# - a write without O_TRUNC (O_RDWR, O_APPEND) starts from a copy of the
#   target: a reflink (FICLONE) that shares the old file's extents on
#   btrfs and xfs, a copy elsewhere; a sparse file stays sparse.
#
# Every run proves that the library was loaded in the program and that the
# file went through a temp (the debug log; a new inode for a replacement),
# so that no test can pass with the library absent.  Mounting needs root;
# a missing mkfs, tool or loop device skips the test with the reason.

load helpers

# ---- helpers of this file ------------------------------------------------

setup_file() {
	find_python
}

setup() {
	common_setup
	MOUNTS="$BATS_TEST_TMPDIR/.mounts"
	: > "$MOUNTS"
	MNT_ROOT=""
	declare -gA INO=()
	umask 022
}

# Unmount what the test mounted, then remove the mount points, once
# nothing is mounted below them.
teardown() {
	cd "$BATS_TEST_TMPDIR" || true
	unmount_all
	if [ -n "$MNT_ROOT" ] && [ -d "$MNT_ROOT" ] && ! grep -q " $MNT_ROOT/" /proc/mounts; then
		rm -rf "$MNT_ROOT"
	fi
}

# need_tool COMMAND PACKAGE: skip unless COMMAND is installed.
need_tool() {
	command -v "$1" > /dev/null || skip "$1 is missing (Debian: $2)"
}

# on_fs FS: a fresh FS (tmpfs, ext4, xfs, btrfs) on $MNT, entered.  The
# three on disk are sparse 300 MiB images (the least mkfs.xfs takes) in
# the test's directory, loop-mounted.  The mount point is in a directory
# of /tmp that every user can reach (the test's own directory is root's
# alone), for the tests that write as nobody.
on_fs() {
	local out img="$BATS_TEST_TMPDIR/$1.img"
	FS=$1
	require_root "mounting a $FS"
	case $FS in
	ext4) need_tool mkfs.ext4 e2fsprogs ;;
	xfs) need_tool mkfs.xfs xfsprogs ;;
	btrfs) need_tool mkfs.btrfs btrfs-progs ;;
	esac
	grep -qw "$FS" /proc/filesystems || modprobe -q "$FS" 2> /dev/null
	grep -qw "$FS" /proc/filesystems || skip "this kernel has no $FS"
	MNT_ROOT=$(mktemp -d /tmp/atomically-metadata.XXXXXX) || fail "mktemp failed"
	chmod 755 "$MNT_ROOT"
	MNT="$MNT_ROOT/$FS"
	if [ "$FS" = tmpfs ]; then
		mount_here "$MNT" -t tmpfs -o size=256m,mode=755 tmpfs
	else
		losetup -f > /dev/null 2>&1 || skip "no free loop device on this machine"
		truncate -s 300M "$img"
		case $FS in
		ext4) out=$(mkfs.ext4 -q -F "$img" 2>&1) ;;
		*) out=$("mkfs.$FS" -q -f "$img" 2>&1) ;;
		esac || fail "mkfs.$FS failed: $out"
		mount_here "$MNT" -o loop "$img"
	fi
	cd "$MNT" || fail "cannot enter $MNT"
}

# lib_run COMMAND...: COMMAND under the launcher, the library's debug log
# of this run alone in $LIBLOG.
lib_run() {
	: > "$LIBLOG"
	run wrapped "$@"
}

# (Starting a process costs tens of milliseconds here: the helpers below
# read files with the shell's own read, and stat many files at once.)

# assert_redirected NAME...: the library's debug log of the last run shows
# that it wrote each NAME through a temp (anonymous, or named).
assert_redirected() {
	local log='' n
	IFS= read -r -d '' log < "$LIBLOG" || true
	for n; do
		[[ $log == *"/$n: writing an anonymous temp"* || $log == *"/$n: writing .$n.atomically."* ]] ||
			fail "$n was not written through a temp; the log: $log"
	done
}

# assert_content FILE TEXT: FILE holds TEXT (and perhaps a newline).
assert_content() {
	local c=''
	IFS= read -r -d '' c < "$1" || true
	[ "${c%$'\n'}" = "$2" ] || fail "$1 holds '$c', not '$2'"
}

# olds FILE...: each FILE holds "old FILE".
olds() {
	local f
	for f; do
		printf 'old %s\n' "$f" > "$f"
	done
}

# remember_inodes FILE...; assert_new_inodes FILE...: each FILE is another
# inode than when it was remembered.
declare -A INO
remember_inodes() {
	local f i
	while read -r f i; do
		INO[$f]=$i
	done < <(stat -c '%n %i' "$@")
}

assert_new_inodes() {
	local f i
	while read -r f i; do
		[ "$i" != "${INO[$f]:-}" ] || fail "$f is still inode $i: it was not replaced"
	done < <(stat -c '%n %i' "$@")
}

# replace_all HOW FILE...: under the library, each FILE, holding
# "old FILE", is rewritten to "new FILE" the way HOW writes:
#   python  open(FILE, "w"), all FILEs in one python process;
#   writer  the C writer, open(O_WRONLY|O_CREAT|O_TRUNC, 0644), one per
#           FILE, started by one bash;
#   rdwr    the C writer, open(O_RDWR) without O_TRUNC, "new FILE" over
#           the start of the old content.
# The library was loaded in the program, which succeeded; each FILE has
# its new content, in a new inode, written through a temp.
replace_all() {
	local how=$1 name=writer f
	shift
	remember_inodes "$@"
	case $how in
	python)
		lib_run "$PY" -c 'import sys
for f in sys.argv[1:]:
    open(f, "w").write("new " + f)' "$@"
		name=$PYNAME ;;
	writer | rdwr)
		lib_run bash -c 'how=$1 writer=$2
shift 2
for f; do "$writer" "$how" "$f" "new $f" || exit; done' bash "${how/writer/open}" "$WRITER" "$@" ;;
	*) fail "replace_all: no way $how" ;;
	esac
	assert_loaded "$name"
	assert_success
	assert_redirected "${@##*/}"
	for f; do
		assert_content "$f" "new $f"
	done
	assert_new_inodes "$@"
}

# ---- a replaced file keeps its metadata (SPEC §3 Commit, step 2) ---------

# keeps_mode: 0640, 0604 and setgid 2664, with the group 65534, survive a
# replacement by python and by the C writer run under umask 077 (so the
# mode can come only from the old file).  chown clears the set-group-ID
# bit; the library must give it back after.
keeps_mode() {
	local how mode f want=''
	for how in python writer; do
		for mode in 640 604 2664; do
			olds "$how-$mode.yaml"
		done
	done
	chown 0:65534 ./*.yaml
	for mode in 640 604 2664; do
		chmod "$mode" ./*-"$mode".yaml
	done
	umask 077
	replace_all python python-*.yaml
	replace_all writer writer-*.yaml
	umask 022
	for f in ./*.yaml; do
		mode=${f##*-}
		want+="$f ${mode%.yaml} 0:65534"$'\n'
	done
	assert_equal "$(stat -c '%n %a %u:%g' ./*.yaml)" "${want%$'\n'}"
	assert_no_temps .
}

# keeps_owner: files given to other users keep their owner and group when
# root replaces them (the temp is root's until the commit).
keeps_owner() {
	local how ids f want=''
	for how in python writer; do
		for ids in 65534:65534 1234:4321; do
			olds "$how-${ids/:/-}.yaml"
			chown "$ids" "$how-${ids/:/-}.yaml"
		done
	done
	chmod 664 ./*.yaml
	replace_all python python-*.yaml
	replace_all writer writer-*.yaml
	for f in ./*.yaml; do
		ids=${f#*-}
		ids=${ids%.yaml}
		want+="$f ${ids/-/:} 664"$'\n'
	done
	assert_equal "$(stat -c '%n %u:%g %a' ./*.yaml)" "${want%$'\n'}"
	assert_no_temps .
}

# keeps_xattrs: user.* attributes, read back with getfattr.
keeps_xattrs() {
	local before
	need_tool setfattr attr
	need_tool getfattr attr
	olds python.yaml writer.yaml
	setfattr -n user.k -v v python.yaml writer.yaml || fail "setfattr user.k failed on $FS"
	setfattr -n user.two -v 'two words' python.yaml writer.yaml
	before=$(getfattr -d -m '^user\.' python.yaml writer.yaml)
	[[ $before == *'user.k="v"'*'user.k="v"'* ]] || fail "setfattr did not take: $before"
	replace_all python python.yaml
	replace_all writer writer.yaml
	assert_equal "$(getfattr -d -m '^user\.' python.yaml writer.yaml)" "$before"
	assert_no_temps .
}

# keeps_acl: a POSIX access ACL (named user and group entries, mask),
# read back with getfacl.  In a directory with a default ACL, which the
# temp inherits, a file keeps its own ACL, and a file without one gets
# none.
keeps_acl() {
	local before
	need_tool setfacl acl
	need_tool getfacl acl
	olds python.yaml writer.yaml
	chmod 640 python.yaml writer.yaml
	setfacl -m u:nobody:r,g:nogroup:rw python.yaml writer.yaml || fail "setfacl failed on $FS"
	before=$(getfacl python.yaml writer.yaml)
	[[ $before == *user:nobody:r--*user:nobody:r--* ]] || fail "setfacl did not take: $before"
	replace_all python python.yaml
	replace_all writer writer.yaml
	assert_equal "$(getfacl python.yaml writer.yaml)" "$before"

	mkdir d
	olds d/plain.yaml d/own.yaml
	setfacl -m u:nobody:r d/own.yaml
	setfacl -d -m g:nogroup:rwx d
	before=$(getfacl d/plain.yaml d/own.yaml)
	replace_all writer d/plain.yaml d/own.yaml
	assert_equal "$(getfacl d/plain.yaml d/own.yaml)" "$before"
	assert_no_temps .
	assert_no_temps d
}

# keeps_selinux_label: the security.selinux attribute.  Without SELinux
# the kernel keeps it as a plain security.* attribute that root may set;
# with SELinux loaded, a label the policy does not know is refused: then
# the test is skipped.
keeps_selinux_label() {
	local label=system_u:object_r:etc_t:s0 err before
	need_tool setfattr attr
	need_tool getfattr attr
	olds python.yaml writer.yaml
	err=$(setfattr -n security.selinux -v "$label" python.yaml writer.yaml 2>&1) ||
		skip "the kernel refuses security.selinux on $FS: $err"
	before=$(getfattr -n security.selinux python.yaml writer.yaml)
	[[ $before == *"$label"*"$label"* ]] || fail "setfattr did not take: $before"
	replace_all python python.yaml
	replace_all writer writer.yaml
	assert_equal "$(getfattr -n security.selinux python.yaml writer.yaml 2>&1)" "$before"
	assert_no_temps .
}

# ---- a new file -----------------------------------------------------------

# new_file_mode: the mode asked for, less the umask: python os.open (in
# one process, each file under its own umask) and the C writer (0644).
# The names say mode and umask.
new_file_mode() {
	lib_run "$PY" -c '
import os
for name, mode, umask in (("py-666-027.yaml", 0o666, 0o027),
                          ("py-660-002.yaml", 0o660, 0o002),
                          ("py-600-022.yaml", 0o600, 0o022)):
    os.umask(umask)
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, b"x")
    os.close(fd)'
	assert_loaded "$PYNAME"
	assert_success
	assert_redirected py-666-027.yaml py-660-002.yaml py-600-022.yaml
	umask 027
	lib_run "$WRITER" open w-644-027.yaml x
	umask 022
	assert_loaded writer
	assert_success
	assert_redirected w-644-027.yaml
	assert_equal "$(stat -c '%n %a' ./*.yaml)" "$(printf '%s\n' \
		'./py-600-022.yaml 600' './py-660-002.yaml 660' \
		'./py-666-027.yaml 640' './w-644-027.yaml 640')"
	assert_no_temps .
}

# new_file_default_acl: in a directory with a default ACL, a file created
# under the library has the ACL (and so the mode) that the same program
# gives it without the library: a control file beside it.  Under umask
# 077, which a default ACL overrides.
new_file_default_acl() {
	local how
	need_tool setfacl acl
	need_tool getfacl acl
	mkdir d
	setfacl -d -m u:nobody:rw,g:nogroup:r d || fail "setfacl -d failed on $FS"
	umask 077
	run "$PY" -c 'open("d/control-python.yaml", "w").write("x")'
	assert_success
	run "$WRITER" open d/control-writer.yaml x
	assert_success
	lib_run "$PY" -c 'open("d/new-python.yaml", "w").write("x")'
	assert_loaded "$PYNAME"
	assert_success
	assert_redirected new-python.yaml
	lib_run "$WRITER" open d/new-writer.yaml x
	assert_loaded writer
	assert_success
	assert_redirected new-writer.yaml
	umask 022
	for how in python writer; do
		[[ $(getfacl -c "d/control-$how.yaml") == *user:nobody:rw-* ]] ||
			fail "the control did not inherit the default ACL: $(getfacl -c "d/control-$how.yaml")"
		assert_equal "$(getfacl -c "d/new-$how.yaml")" "$(getfacl -c "d/control-$how.yaml")"
	done
	assert_no_temps d
}

# ---- a writer that is not root --------------------------------------------

# nobody_setup: what runs as nobody need, in $MNT_ROOT where nobody can
# reach them: a runtime directory of its own for the lock files, the
# config, and the library's log ($LIBLOG from now on).
nobody_setup() {
	need_tool setpriv util-linux
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$WRITER" ||
		skip "nobody cannot run $WRITER (a directory above it is closed to others)"
	mkdir -m 700 "$MNT_ROOT/run"
	chown 65534:65534 "$MNT_ROOT/run"
	cp "$CONF" "$MNT_ROOT/atomically.conf"
	chmod 644 "$MNT_ROOT/atomically.conf"
	LIBLOG="$MNT_ROOT/lib.log"
	: > "$LIBLOG"
	chown 65534:65534 "$LIBLOG"
}

# as_nobody [--groups=G] COMMAND...: COMMAND as uid and gid 65534 (nobody,
# nogroup), with no other group than G.
as_nobody() {
	local groups=--clear-groups
	case $1 in --groups=*) groups=$1; shift ;; esac
	setpriv --reuid=65534 --regid=65534 "$groups" "$@"
}

# nobody_lib_run [--groups=G] COMMAND...: as_nobody, under the launcher,
# with nobody's runtime directory, config and log.
nobody_lib_run() {
	local groups=()
	case $1 in --groups=*) groups=("$1"); shift ;; esac
	: > "$LIBLOG"
	run as_nobody "${groups[@]}" env XDG_RUNTIME_DIR="$MNT_ROOT/run" \
		ATOMICALLY_CONF="$MNT_ROOT/atomically.conf" ATOMICALLY_LOG="debug:$LIBLOG" \
		"$ATOMICALLY" "$@"
}

# root_file FILE MODE [GROUP]: FILE holds "old", belongs to root (and
# GROUP, default root), has MODE.
root_file() {
	echo old > "$1"
	chown "0:${3:-0}" "$1"
	chmod "$2" "$1"
}

# nobody_replaces_roots_file: nobody may write root's 0666 file in a 0777
# directory.  Without the library the write is in place and the file
# stays root's; under the library the file is replaced by nobody's temp,
# which nobody cannot give to root (chown needs privilege): the
# replacement belongs to nobody:nogroup, its mode kept.  What
# atomically(1) says: "given the target's owner and group (where
# permitted)".
nobody_replaces_roots_file() {
	local how before
	nobody_setup
	mkdir ww
	chmod 777 ww
	root_file ww/control.yaml 666
	run as_nobody "$WRITER" open ww/control.yaml new
	assert_success
	assert_equal "$(stat -c '%u:%g %a' ww/control.yaml)" "0:0 666"
	for how in writer bash; do
		root_file ww/f.yaml 666
		before=$(inode ww/f.yaml)
		if [ $how = writer ]; then
			nobody_lib_run "$WRITER" open ww/f.yaml new
		else
			nobody_lib_run bash -c 'echo new > ww/f.yaml'
		fi
		assert_loaded "$how"
		assert_success
		assert_redirected f.yaml
		assert_equal "$(cat ww/f.yaml)" new
		assert_not_equal "$(inode ww/f.yaml)" "$before"
		assert_equal "$(stat -c '%u:%g %a' ww/f.yaml)" "65534:65534 666"
	done
	assert_no_temps ww
}

# nobody_keeps_group: root's file of group 4242, mode 0664, written by
# nobody, a member of 4242.  Without the library the file keeps its group.
# Under the library the owner cannot be kept, but the group can (a member
# may give its own file to the group): "owner and group (where
# permitted)".  Otherwise the members of 4242 lose their write access to
# the file and nogroup gains it.
nobody_keeps_group() {
	local before
	nobody_setup
	mkdir ww
	chmod 777 ww
	root_file ww/control.yaml 664 4242
	run as_nobody --groups=4242 "$WRITER" open ww/control.yaml new
	assert_success
	assert_equal "$(stat -c '%u:%g %a' ww/control.yaml)" "0:4242 664"
	root_file ww/f.yaml 664 4242
	before=$(inode ww/f.yaml)
	nobody_lib_run --groups=4242 "$WRITER" open ww/f.yaml new
	assert_loaded writer
	assert_success
	assert_redirected f.yaml
	assert_equal "$(cat ww/f.yaml)" new
	assert_not_equal "$(inode ww/f.yaml)" "$before"
	assert_equal "$(stat -c '%u:%g %a' ww/f.yaml)" "65534:4242 664"
	assert_no_temps ww
}

# nobody_sticky_dir: root's 0666 file in a sticky 1777 directory (as
# /tmp).  nobody may write it, and without the library does; but nobody
# may not rename over another user's file there, so a replacement could
# not be committed.  The program must not fail for it: the library leaves
# another user's file in a sticky directory to the kernel (core/
# kernelrules.c, sticky.bats), which writes it in place, as unwrapped
# (before, the commit's rename failed and `fallback` wrote it in place).
nobody_sticky_dir() {
	nobody_setup
	mkdir st
	chmod 1777 st
	root_file st/control.yaml 666
	run as_nobody "$WRITER" open st/control.yaml new
	assert_success
	assert_equal "$(cat st/control.yaml)" new
	root_file st/f.yaml 666
	local ino
	ino=$(inode st/f.yaml)
	nobody_lib_run "$WRITER" open st/f.yaml new
	assert_loaded writer
	! grep "/st/f.yaml: " "$LIBLOG" || fail "the library acted on st/f.yaml"
	[ "$status" = 0 ] ||
		fail "the writer failed (status $status: $output); the library's log: $(cat "$LIBLOG")"
	assert_equal "$(cat st/f.yaml)" new
	assert_equal "$(inode st/f.yaml)" "$ino"
	assert_equal "$(stat -c %U st/f.yaml)" root
	assert_no_temps st
}

# ---- timestamps -------------------------------------------------------------

# not_before T1 T2: the time T1 is T2 or later (both as stat's %.9Y
# prints them: seconds, a point, nanoseconds).
not_before() {
	local a=$1 b=$2
	((10#${a%.*}${a#*.} >= 10#${b%.*}${b#*.}))
}

# new_times: files last touched in 2001, replaced by python 'w', the C
# writer's open(O_TRUNC) and its open(O_RDWR): mtime new as after any
# write, and atime, ctime (and birth time, where the file system keeps
# one) those of a new inode: none older than a file made just before the
# runs.  (A plain write in place would leave the atime of 2001.)
new_times() {
	local how ref n a m c w
	for how in python writer rdwr; do
		olds "t-$how.yaml"
	done
	touch -d '2001-02-03 04:05:06' t-*.yaml
	: > stamp.ref
	for how in python writer rdwr; do
		replace_all "$how" "t-$how.yaml"
	done
	{
		read -r n a ref c w
		while read -r n a m c w; do
			not_before "$m" "$ref" || fail "$n: mtime $m is older than the run ($ref)"
			not_before "$c" "$ref" || fail "$n: ctime $c is older than the run ($ref)"
			not_before "$a" "$ref" || fail "$n: atime $a is older than the run ($ref): not a new inode's"
			[ "${w%%.*}" = 0 ] || not_before "$w" "$ref" ||
				fail "$n: birth time $w is older than the run ($ref): not a new inode"
		done
	} < <(stat -c '%n %.9X %.9Y %.9Z %.9W' stamp.ref t-*.yaml)
	assert_no_temps .
}

# ---- copies: a write without O_TRUNC (SPEC §3, the open table) -------------

# traced TRACE COMMAND...: COMMAND under strace (openat, ioctl,
# copy_file_range, read; descriptors with their paths) and the launcher,
# the library's debug log of this run alone in $LIBLOG, strace's in TRACE.
traced() {
	local trace=$1
	shift
	: > "$LIBLOG"
	ATOMICALLY_LOG="debug:$LIBLOG" run strace -f -qq -y -o "$trace" \
		-e trace=openat,ioctl,copy_file_range,read "$ATOMICALLY" "$@"
}

# assert_copied_by HOW TRACE NAME: the library gave the temp the content
# of NAME by HOW: reflink (an FICLONE from a descriptor of NAME that
# succeeded) or copy (no FICLONE succeeded; copy_file_range from NAME, or
# a read of NAME, moved bytes).  strace shows FICLONE's source as a bare
# number: the openat that returned it names the file.
assert_copied_by() {
	local how=$1 trace=$2 name=$3 line cloned=0 copied=0
	local -A opened
	local open_re='^([0-9]+) +openat\(.*\) = ([0-9]+)<([^>]*)>$'
	local clone_re='^([0-9]+) +ioctl\([0-9]+<[^>]*>(\(deleted\))?, (BTRFS_IOC_CLONE or )?FICLONE, ([0-9]+)\) = 0$'
	local copy_re="^[0-9]+ +(copy_file_range|read)\\([0-9]+<[^>]*/${name//./\\.}>, .*\\) = [1-9][0-9]*\$"
	while IFS= read -r line; do
		if [[ $line =~ $open_re ]]; then
			opened["${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"]=${BASH_REMATCH[3]}
		elif [[ $line =~ $clone_re ]]; then
			[[ ${opened["${BASH_REMATCH[1]} ${BASH_REMATCH[4]}"]:-} == */"$name" ]] && cloned=1
		elif [[ $line =~ $copy_re ]]; then
			copied=1
		fi
	done < "$trace"
	if [ "$how" = reflink ]; then
		[ "$cloned" = 1 ] ||
			fail "$name was not cloned (FICLONE) into its temp on $FS: $(grep -E 'FICLONE|copy_file_range' "$trace")"
	else
		[ "$cloned" = 0 ] || fail "FICLONE of $name succeeded on $FS"
		[ "$copied" = 1 ] ||
			fail "$name was neither copied with copy_file_range nor read into its temp on $FS: $(grep -E 'FICLONE|copy_file_range' "$trace")"
	fi
}

# fixture NAME...: orig.bin, 256 KiB of random bytes (so that btrfs keeps
# it in extents, not inline), and a copy of it under each NAME, sharing no
# extent with it (cp would reflink where it can).  With reflink (HOW in
# the caller), a second name, NAME.keep, holds the first NAME's old inode.
fixture() {
	local n
	head -c 262144 /dev/urandom > orig.bin
	for n; do
		cp --reflink=never orig.bin "$n"
	done
	if [ "$how" = reflink ]; then
		ln "$1" "$1.keep"
		sync
		! filefrag -v "$1" | grep -qw shared ||
			fail "$1 shares extents before the test: $(filefrag -v "$1")"
	fi
	remember_inodes "$@"
}

# assert_shares_extents NAME: the replacement NAME shares extents with
# the old inode, still there as NAME.keep (filefrag -v: "shared"), which
# kept the old content.
assert_shares_extents() {
	cmp "$1.keep" orig.bin || fail "the old file's other name changed"
	filefrag -v "$1" | grep -qw shared ||
		fail "the replacement $1 shares no extent with the old file on $FS: $(filefrag -v "$1")"
}

# copies HOW: the C writer's open(O_RDWR) and python's open('r+b') change
# bytes of a 256 KiB file: the content is right, and the temp got the old
# content by HOW (see assert_copied_by); with reflink, the replacement
# shares its extents with the old file, which it did not before.
copies() {
	local how=$1 t=$BATS_TEST_TMPDIR
	need_tool strace strace
	[ "$how" != reflink ] || need_tool filefrag e2fsprogs
	fixture rdwr.yaml rplus.yaml
	{ printf X; tail -c +2 orig.bin; } > "$t/rdwr.want"
	{ head -c 100000 orig.bin; printf PY; tail -c +100003 orig.bin; } > "$t/rplus.want"

	traced "$t/rdwr.trace" "$WRITER" rdwr rdwr.yaml X
	assert_loaded writer
	assert_success
	assert_redirected rdwr.yaml
	cmp rdwr.yaml "$t/rdwr.want" || fail "rdwr.yaml is not the old content with X over its first byte"
	assert_copied_by "$how" "$t/rdwr.trace" rdwr.yaml
	[ "$how" != reflink ] || assert_shares_extents rdwr.yaml

	traced "$t/rplus.trace" "$PY" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100000)
    f.write(b"PY")' rplus.yaml
	assert_loaded "$PYNAME"
	assert_success
	assert_redirected rplus.yaml
	cmp rplus.yaml "$t/rplus.want" || fail "rplus.yaml is not the old content with PY at 100000"
	assert_copied_by "$how" "$t/rplus.trace" rplus.yaml

	assert_new_inodes rdwr.yaml rplus.yaml
	assert_no_temps .
}

# appends HOW: O_APPEND of a line (bash >>) to a 256 KiB file of one name
# is added in place: nothing of the old content is cloned, copied or read,
# the inode stays.  An append to a file of two names (the C writer; with
# reflink, the fixture's NAME.keep) cannot be, and its temp gets the old
# content by HOW, as before.  An append larger than the rest of the page
# (8 KiB, python) fills the temp's hole with the old content (in the
# kernel: copy_file_range, which a reflink file system shares) and is
# renamed into place.
appends() {
	local how=$1 t=$BATS_TEST_TMPDIR
	need_tool strace strace
	[ "$how" != reflink ] || need_tool filefrag e2fsprogs
	fixture writer.yaml bash.yaml
	[ "$how" = reflink ] || ln writer.yaml writer.keep
	{ cat orig.bin; printf 'tail\n'; } > "$t/append.want"

	traced "$t/bash.trace" bash -c 'echo tail >> bash.yaml'
	assert_loaded bash
	assert_success
	cmp bash.yaml "$t/append.want" || fail "bash.yaml is not the old content and the appended line"
	grep -q 'bash.yaml: committed (full, 5 bytes appended in place)$' "$LIBLOG" ||
		fail "bash.yaml was not appended to in place: $(cat "$LIBLOG")"
	! grep -E "(copy_file_range|read)\([0-9]+<[^>]*/bash\.yaml>, .*\) = [1-9]|FICLONE" "$t/bash.trace" ||
		fail "the old content of bash.yaml was copied or read"
	[ "$(stat -c %i bash.yaml)" = "${INO[bash.yaml]}" ] || fail "bash.yaml was replaced"

	traced "$t/writer.trace" "$WRITER" append writer.yaml $'tail\n'
	assert_loaded writer
	assert_success
	assert_redirected writer.yaml
	cmp writer.yaml "$t/append.want" || fail "writer.yaml is not the old content and the appended line"
	assert_copied_by "$how" "$t/writer.trace" writer.yaml
	assert_new_inodes writer.yaml

	head -c 8192 /dev/urandom > "$t/big.tail"
	cat "$t/big.tail" >> "$t/append.want"
	traced "$t/big.trace" "$PY" -c '
import sys
with open("bash.yaml", "ab") as f:
    f.write(open(sys.argv[1], "rb").read())' "$t/big.tail"
	assert_loaded "$PYNAME"
	assert_success
	cmp bash.yaml "$t/append.want" || fail "bash.yaml is not the old content and the two appends"
	grep -q 'bash.yaml: committed (full)$' "$LIBLOG" || fail "bash.yaml was not committed whole: $(cat "$LIBLOG")"
	grep -qE "copy_file_range\([0-9]+<[^>]*/bash\.yaml>, .*\) = [1-9]" "$t/big.trace" ||
		fail "the old content of bash.yaml was not copied in the kernel: $(grep -E 'copy_file_range|FICLONE' "$t/big.trace")"
	assert_new_inodes bash.yaml
	assert_no_temps .
}

# stays_sparse: a 64 MiB file with four 64 KiB blocks of data (at 0, 16,
# 40 and 63 MiB), opened O_RDWR by the C writer, which changes its first
# byte: after the commit its content is right and it still has about the
# blocks it had (1 MiB of slack: a copy-on-write file system may copy
# more than the changed block), not 64 MiB of written zeros.
stays_sparse() {
	local off before after t=$BATS_TEST_TMPDIR
	truncate -s 64M s.yaml
	for off in 0 16 40 63; do
		dd if=/dev/urandom of=s.yaml bs=64K count=1 seek=$((off * 16)) conv=notrunc status=none
	done
	sync
	cp --sparse=always s.yaml "$t/s.want"
	# bs=4096: dd's buffer of a size that is not a multiple of the page
	# is refused by AddressSanitizer (make check-asan preloads it).
	printf X | dd of="$t/s.want" bs=4096 conv=notrunc status=none
	before=$(($(stat -c '%b * %B' s.yaml)))
	[ "$before" -lt 1048576 ] || skip "$FS made no holes in s.yaml ($before bytes allocated)"
	remember_inodes s.yaml
	lib_run "$WRITER" rdwr s.yaml X
	assert_loaded writer
	assert_success
	assert_redirected s.yaml
	assert_new_inodes s.yaml
	cmp s.yaml "$t/s.want" || fail "s.yaml is not the old content with X over its first byte"
	after=$(($(stat -c '%b * %B' s.yaml)))
	[ "$after" -le $((before + 1048576)) ] ||
		fail "s.yaml is no longer sparse on $FS: $before bytes allocated before, $after after (size 64 MiB)"
	assert_no_temps .
}

# ---- the tests: each behaviour on each file system ---------------------------

@test "tmpfs: a replaced file keeps its mode (640, 604, setgid 2664) and group: python 'w', C writer" {
	on_fs tmpfs
	keeps_mode
}

@test "ext4: a replaced file keeps its mode (640, 604, setgid 2664) and group: python 'w', C writer" {
	on_fs ext4
	keeps_mode
}

@test "xfs: a replaced file keeps its mode (640, 604, setgid 2664) and group: python 'w', C writer" {
	on_fs xfs
	keeps_mode
}

@test "btrfs: a replaced file keeps its mode (640, 604, setgid 2664) and group: python 'w', C writer" {
	on_fs btrfs
	keeps_mode
}

@test "tmpfs: a replaced file keeps its owner and group (65534:65534, 1234:4321) when root writes it" {
	on_fs tmpfs
	keeps_owner
}

@test "ext4: a replaced file keeps its owner and group (65534:65534, 1234:4321) when root writes it" {
	on_fs ext4
	keeps_owner
}

@test "xfs: a replaced file keeps its owner and group (65534:65534, 1234:4321) when root writes it" {
	on_fs xfs
	keeps_owner
}

@test "btrfs: a replaced file keeps its owner and group (65534:65534, 1234:4321) when root writes it" {
	on_fs btrfs
	keeps_owner
}

@test "tmpfs: a replaced file keeps its user.* extended attributes (getfattr)" {
	on_fs tmpfs
	keeps_xattrs
}

@test "ext4: a replaced file keeps its user.* extended attributes (getfattr)" {
	on_fs ext4
	keeps_xattrs
}

@test "xfs: a replaced file keeps its user.* extended attributes (getfattr)" {
	on_fs xfs
	keeps_xattrs
}

@test "btrfs: a replaced file keeps its user.* extended attributes (getfattr)" {
	on_fs btrfs
	keeps_xattrs
}

@test "tmpfs: a replaced file keeps its POSIX access ACL, or its lack of one under a default ACL (getfacl)" {
	on_fs tmpfs
	keeps_acl
}

@test "ext4: a replaced file keeps its POSIX access ACL, or its lack of one under a default ACL (getfacl)" {
	on_fs ext4
	keeps_acl
}

@test "xfs: a replaced file keeps its POSIX access ACL, or its lack of one under a default ACL (getfacl)" {
	on_fs xfs
	keeps_acl
}

@test "btrfs: a replaced file keeps its POSIX access ACL, or its lack of one under a default ACL (getfacl)" {
	on_fs btrfs
	keeps_acl
}

@test "tmpfs: a replaced file keeps its security.selinux label" {
	on_fs tmpfs
	keeps_selinux_label
}

@test "ext4: a replaced file keeps its security.selinux label" {
	on_fs ext4
	keeps_selinux_label
}

@test "xfs: a replaced file keeps its security.selinux label" {
	on_fs xfs
	keeps_selinux_label
}

@test "btrfs: a replaced file keeps its security.selinux label" {
	on_fs btrfs
	keeps_selinux_label
}

@test "tmpfs: a new file gets the requested mode less the umask (0666 & ~027, 0644 & ~027, 0660 & ~002)" {
	on_fs tmpfs
	new_file_mode
}

@test "ext4: a new file gets the requested mode less the umask (0666 & ~027, 0644 & ~027, 0660 & ~002)" {
	on_fs ext4
	new_file_mode
}

@test "xfs: a new file gets the requested mode less the umask (0666 & ~027, 0644 & ~027, 0660 & ~002)" {
	on_fs xfs
	new_file_mode
}

@test "btrfs: a new file gets the requested mode less the umask (0666 & ~027, 0644 & ~027, 0660 & ~002)" {
	on_fs btrfs
	new_file_mode
}

@test "tmpfs: a new file inherits the directory's default ACL exactly as without the library" {
	on_fs tmpfs
	new_file_default_acl
}

@test "ext4: a new file inherits the directory's default ACL exactly as without the library" {
	on_fs ext4
	new_file_default_acl
}

@test "xfs: a new file inherits the directory's default ACL exactly as without the library" {
	on_fs xfs
	new_file_default_acl
}

@test "btrfs: a new file inherits the directory's default ACL exactly as without the library" {
	on_fs btrfs
	new_file_default_acl
}

@test "tmpfs: nobody replacing root's 0666 file in a 0777 directory: the replacement is nobody's, mode kept" {
	on_fs tmpfs
	nobody_replaces_roots_file
}

@test "ext4: nobody replacing root's 0666 file in a 0777 directory: the replacement is nobody's, mode kept" {
	on_fs ext4
	nobody_replaces_roots_file
}

@test "xfs: nobody replacing root's 0666 file in a 0777 directory: the replacement is nobody's, mode kept" {
	on_fs xfs
	nobody_replaces_roots_file
}

@test "btrfs: nobody replacing root's 0666 file in a 0777 directory: the replacement is nobody's, mode kept" {
	on_fs btrfs
	nobody_replaces_roots_file
}

@test "tmpfs: nobody, a member of the file's group, replacing root's 0664 file keeps the group" {
	on_fs tmpfs
	nobody_keeps_group
}

@test "ext4: nobody, a member of the file's group, replacing root's 0664 file keeps the group" {
	on_fs ext4
	nobody_keeps_group
}

@test "xfs: nobody, a member of the file's group, replacing root's 0664 file keeps the group" {
	on_fs xfs
	nobody_keeps_group
}

@test "btrfs: nobody, a member of the file's group, replacing root's 0664 file keeps the group" {
	on_fs btrfs
	nobody_keeps_group
}

@test "tmpfs: nobody writing root's 0666 file in a sticky directory succeeds, as without the library" {
	on_fs tmpfs
	nobody_sticky_dir
}

@test "ext4: nobody writing root's 0666 file in a sticky directory succeeds, as without the library" {
	on_fs ext4
	nobody_sticky_dir
}

@test "xfs: nobody writing root's 0666 file in a sticky directory succeeds, as without the library" {
	on_fs xfs
	nobody_sticky_dir
}

@test "btrfs: nobody writing root's 0666 file in a sticky directory succeeds, as without the library" {
	on_fs btrfs
	nobody_sticky_dir
}

@test "tmpfs: a replaced file has a new inode's times: mtime, ctime, atime new (python 'w', writer open, rdwr)" {
	on_fs tmpfs
	new_times
}

@test "ext4: a replaced file has a new inode's times: mtime, ctime, atime new (python 'w', writer open, rdwr)" {
	on_fs ext4
	new_times
}

@test "xfs: a replaced file has a new inode's times: mtime, ctime, atime new (python 'w', writer open, rdwr)" {
	on_fs xfs
	new_times
}

@test "btrfs: a replaced file has a new inode's times: mtime, ctime, atime new (python 'w', writer open, rdwr)" {
	on_fs btrfs
	new_times
}

@test "tmpfs: O_RDWR without O_TRUNC (writer rdwr, python 'r+b'): the temp starts as a copy (no reflink here); content right" {
	on_fs tmpfs
	copies copy
}

@test "ext4: O_RDWR without O_TRUNC (writer rdwr, python 'r+b'): the temp starts as a copy (no reflink here); content right" {
	on_fs ext4
	copies copy
}

@test "xfs: O_RDWR without O_TRUNC (writer rdwr, python 'r+b'): the temp starts as a reflink sharing the extents; content right" {
	on_fs xfs
	copies reflink
}

@test "btrfs: O_RDWR without O_TRUNC (writer rdwr, python 'r+b'): the temp starts as a reflink sharing the extents; content right" {
	on_fs btrfs
	copies reflink
}

@test "tmpfs: O_APPEND: a line added in place; a file of two names copied (no reflink here); 8 KiB: the hole filled, renamed" {
	on_fs tmpfs
	appends copy
}

@test "ext4: O_APPEND: a line added in place; a file of two names copied (no reflink here); 8 KiB: the hole filled, renamed" {
	on_fs ext4
	appends copy
}

@test "xfs: O_APPEND: a line added in place; a file of two names reflinked; 8 KiB: the hole filled, renamed" {
	on_fs xfs
	appends reflink
}

@test "btrfs: O_APPEND: a line added in place; a file of two names reflinked; 8 KiB: the hole filled, renamed" {
	on_fs btrfs
	appends reflink
}

@test "tmpfs: a sparse 64 MiB file with one byte changed through O_RDWR: content right, still sparse" {
	on_fs tmpfs
	stays_sparse
}

@test "ext4: a sparse 64 MiB file with one byte changed through O_RDWR: content right, still sparse" {
	on_fs ext4
	stays_sparse
}

@test "xfs: a sparse 64 MiB file with one byte changed through O_RDWR: content right, still sparse" {
	on_fs xfs
	stays_sparse
}

@test "btrfs: a sparse 64 MiB file with one byte changed through O_RDWR: content right, still sparse" {
	on_fs btrfs
	stays_sparse
}
