// gostatlock - a Go program's stat-then-write lock (bats/seccomp.bats):
// it looks whether a claim file exists and, when not, writes its own.
// Racy by itself: only lock = "process", whose lock the stat takes and
// holds until the program exits, makes one racer the only winner.
//
//	gostatlock [-ready FILE -gate FILE] [-pause MS] CLAIM ID
//
// -ready/-gate: writes FILE READY, then waits until GATE exists, so that
// many racers started one after the other stat at once.  os.Stat(CLAIM):
// there: prints "lost".  Missing: sleeps MS milliseconds (default 100:
// the other racers stat meanwhile), writes ID into CLAIM (os.WriteFile)
// and prints "won ID".  Exit status: 0; 1 on an error (said); 64 on bad
// usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gostatlock:", err)
		os.Exit(1)
	}
}

// barrier: READY written, then wait for GATE.
func barrier(ready, gate string) {
	if ready == "" {
		return
	}
	check(os.WriteFile(ready, nil, 0o644))
	for {
		if _, err := os.Stat(gate); err == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func main() {
	ready := flag.String("ready", "", "written once started")
	gate := flag.String("gate", "", "waited for before the race")
	pause := flag.Int("pause", 100, "milliseconds between the stat and the write")
	flag.Parse()
	if flag.NArg() != 2 || (*ready == "") != (*gate == "") {
		fmt.Fprintln(os.Stderr, "usage: gostatlock [-ready FILE -gate FILE] [-pause MS] CLAIM ID")
		os.Exit(64)
	}
	barrier(*ready, *gate)
	_, err := os.Stat(flag.Arg(0))
	if err == nil {
		fmt.Println("lost")
		return
	}
	if !errors.Is(err, fs.ErrNotExist) {
		check(err)
	}
	time.Sleep(time.Duration(*pause) * time.Millisecond)
	check(os.WriteFile(flag.Arg(0), []byte(flag.Arg(1)+"\n"), 0o644))
	fmt.Println("won", flag.Arg(1))
}
