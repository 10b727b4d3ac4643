// goexcl - a Go program's lock by exclusive creation (bats/seccomp.bats):
// os.OpenFile(O_WRONLY|O_CREATE|O_EXCL), how programs build their own
// locks.  The supervisor must let it through to the file system, where
// one racer alone can create the file.
//
//	goexcl [-ready FILE -gate FILE] LOCK ID
//
// -ready/-gate: writes FILE READY, then waits until GATE exists, so that
// many racers started one after the other open at once.  Then creates
// LOCK exclusively and writes ID into it: prints "won ID"; LOCK was
// there already: prints "exists".  Exit status: 0 either way; 1 on any
// other error (said); 64 on bad usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "goexcl:", err)
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
	flag.Parse()
	if flag.NArg() != 2 || (*ready == "") != (*gate == "") {
		fmt.Fprintln(os.Stderr, "usage: goexcl [-ready FILE -gate FILE] LOCK ID")
		os.Exit(64)
	}
	barrier(*ready, *gate)
	f, err := os.OpenFile(flag.Arg(0), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		fmt.Println("exists")
		return
	}
	check(err)
	_, err = f.WriteString(flag.Arg(1) + "\n")
	check(err)
	check(f.Close())
	fmt.Println("won", flag.Arg(1))
}
