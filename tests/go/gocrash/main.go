// gocrash - the crash test's writer (tests/helpers/crash_writer.c) in
// Go, for the seccomp supervisor (bats/seccomp.bats, driven by
// tests/helpers/crash_kill.c).
//
//	gocrash [-l LINES] [-k CHUNKS] [-p PAUSE_US] FILE VERSION
//
// Rewrites FILE in place: os.OpenFile(O_WRONLY|O_CREATE|O_TRUNC),
// CHUNKS writes with PAUSE_US microseconds between them, Close.  The
// content is version VERSION of the text form of
// tests/helpers/crash_content.h, built here the same way, so that
// crash_kill checks it byte for byte.  One byte on the descriptor
// CRASH_STATUS_FD names at each step: 'o' before the open, 'w' after the
// last write, 'c' after the close.
//
// Exit status: 0; 1 when the open fails; 2 when a write or the close
// fails; 64 on bad usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

const lineLen = 64

// crashText is crash_text() of tests/helpers/crash_content.h.
func crashText(version, lines int64) []byte {
	buf := []byte(fmt.Sprintf("crash-writer version=%d lines=%d\n", version, lines))
	for l := int64(0); l < lines; l++ {
		line := []byte(fmt.Sprintf("%08d %06d ", version%100000000, l))
		for k := int64(len(line)); k < lineLen-1; k++ {
			line = append(line, byte('a'+(version*7+l*3+k)%26))
		}
		buf = append(append(buf, line...), '\n')
	}
	return append(buf, []byte(fmt.Sprintf("end version=%d\n", version))...)
}

var status *os.File

func mark(c byte) {
	if status != nil {
		if _, err := status.Write([]byte{c}); err != nil {
			status = nil
		}
	}
}

func main() {
	lines := flag.Int64("l", 2048, "lines of 64 bytes")
	chunks := flag.Int64("k", 8, "writes")
	pause := flag.Int64("p", 250, "microseconds between writes")
	flag.Parse()
	if flag.NArg() != 2 || *chunks < 1 || *lines < 0 {
		fmt.Fprintln(os.Stderr, "usage: gocrash [-l LINES] [-k CHUNKS] [-p PAUSE_US] FILE VERSION")
		os.Exit(64)
	}
	version, err := strconv.ParseInt(flag.Arg(1), 10, 64)
	if err != nil || version < 1 {
		fmt.Fprintln(os.Stderr, "gocrash: bad version:", flag.Arg(1))
		os.Exit(64)
	}
	if fd, err := strconv.Atoi(os.Getenv("CRASH_STATUS_FD")); err == nil {
		status = os.NewFile(uintptr(fd), "status")
	}
	buf := crashText(version, *lines)
	step := (int64(len(buf)) + *chunks - 1) / *chunks

	mark('o')
	f, err := os.OpenFile(flag.Arg(0), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gocrash:", err)
		os.Exit(1)
	}
	for off := int64(0); off < int64(len(buf)); off += step {
		end := off + step
		if end > int64(len(buf)) {
			end = int64(len(buf))
		}
		if _, err := f.Write(buf[off:end]); err != nil {
			fmt.Fprintln(os.Stderr, "gocrash:", err)
			os.Exit(2)
		}
		if end < int64(len(buf)) && *pause > 0 {
			time.Sleep(time.Duration(*pause) * time.Microsecond)
		}
	}
	mark('w')
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "gocrash:", err)
		os.Exit(2)
	}
	mark('c')
}
