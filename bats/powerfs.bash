# powerfs.bash - a file system that loses power: an image loop-mounted on
# ./mnt, shut down without flushing anything (`xfs_io -x -c shutdown`:
# what is not on the device by then is lost, as in a power cut), then
# unmounted and mounted again (its journal replayed).  For the suites
# that cut the power (powerloss.bats, sessioncommit.bats); they set
# LOOPS (a file listing the loop devices attached) in their setup and
# call power_fs_teardown in their teardown.

# power_fs_teardown: ./mnt unmounted and the loop devices the test
# attached detached, even when it failed, so that bats can remove the
# test's directory and no mount nor loop device is left behind.
power_fs_teardown() {
	local m l
	cd "$BATS_TEST_TMPDIR" || true
	m="$BATS_TEST_TMPDIR/mnt"
	for _ in 1 2 3; do
		mounted "$m" || break
		umount "$m" 2> /dev/null || umount -l "$m"
	done
	while IFS= read -r l; do
		losetup -d "$l" 2> /dev/null || true
	done < "$LOOPS"
}

# mounted DIR: something is mounted on DIR, by the kernel's table (not
# mountpoint(1), whose stat of a shut down file system fails).
mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts
}

# make_fs ext4|xfs: an image of FS, loop-mounted on ./mnt.  ext4 gets
# noauto_da_alloc: without it, ext4 writes out a file truncated and
# rewritten (or renamed over another) at its close, and hides the very
# loss the control must show.  xfs gets nouuid (see attach).
make_fs() {
	FS=$1
	IMG="$BATS_TEST_TMPDIR/$FS.img"
	grep -qw "$FS" /proc/filesystems || modprobe "$FS" 2> /dev/null ||
		skip "this kernel has no $FS"
	losetup -f > /dev/null 2>&1 || skip "no free loop device on this machine"
	case $FS in
	ext4)
		command -v mkfs.ext4 > /dev/null || skip "mkfs.ext4 is missing (Debian: e2fsprogs)"
		truncate -s 64M "$IMG"
		mkfs.ext4 -q -F "$IMG" || fail "mkfs.ext4 failed"
		OPTS=noauto_da_alloc
		;;
	xfs)
		command -v mkfs.xfs > /dev/null || skip "mkfs.xfs is missing (Debian: xfsprogs)"
		truncate -s 300M "$IMG"  # the smallest xfs mkfs.xfs makes
		mkfs.xfs -q -f "$IMG" || fail "mkfs.xfs failed"
		OPTS=nouuid
		;;
	esac
	mkdir -p mnt
	attach
}

# attach: $IMG on a loop device of its own, mounted on ./mnt, and proved
# alive.  A new device at every mount, never the one before: a mount
# namespace another program made meanwhile (unshare -m, as other suites
# do) holds a copy of our mount, so that the shut down file system
# outlives our umount; a mount of the same device would give that dead
# file system back.  For the same reason xfs mounts with nouuid: the dead
# one still holds the UUID.
attach() {
	LOOP=$(losetup -f --show "$IMG") || fail "cannot attach $IMG to a loop device"
	echo "$LOOP" >> "$LOOPS"
	mount -o "$OPTS" "$LOOP" mnt || fail "cannot mount $IMG ($LOOP, -o $OPTS)"
	{ touch mnt/.alive && rm mnt/.alive; } ||
		fail "$FS just mounted from $LOOP takes no write: the shut down one came back?"
}

# shut_down: the file system stops where it is, nothing flushed (xfs_io's
# shutdown without -f: XFS_FSOP_GOING_FLAGS_NOLOGFLUSH, which ext4 knows as
# EXT4_GOING_FLAGS_NOLOGFLUSH); then it is proved down: nothing can be
# made on it.  SHUTDOWN_AT: when the shutdown's ioctl was entered (ns since
# the epoch, as strace -ttt saw it: xfs_io's own start takes longer than
# many a commit).
shut_down() {
	local out
	out=$(strace -ttt -e trace=ioctl -o shutdown.trace xfs_io -x -c shutdown mnt 2>&1) ||
		skip "this kernel cannot shut $FS down: $out"
	[ -z "$out" ] || skip "xfs_io cannot shut $FS down here: $out"
	SHUTDOWN_AT=$(awk '/(SHUTDOWN|GOINGDOWN|0x58, 0x7d).* = 0$/ {
		sub(/\./, "", $1); print $1 "000"; exit }' shutdown.trace)
	[ -n "$SHUTDOWN_AT" ] || fail "no shutdown ioctl in xfs_io's trace: $(cat shutdown.trace)"
	! touch mnt/after-shutdown 2> /dev/null ||
		fail "$FS still takes writes after the shutdown"
}

# power_back: unmounted and mounted again: the journal (the log) replayed.
power_back() {
	umount mnt || fail "cannot unmount the shut down $FS"
	losetup -d "$LOOP" 2> /dev/null || true
	attach
}

