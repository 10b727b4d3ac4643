// gowriter - a Go program's save, the way most Go programs save a file
// (bats/seccomp.bats).
//
//	gowriter FILE CONTENT [MODE]
//
// os.WriteFile(FILE, CONTENT, MODE (octal, default 644)): Go's own
// openat, write and close, which no preload sees.  Exit status: 0; 1
// when the write fails (said on stderr); 64 on bad usage.
package main

import (
	"fmt"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 3 || len(os.Args) > 4 {
		fmt.Fprintln(os.Stderr, "usage: gowriter FILE CONTENT [MODE]")
		os.Exit(64)
	}
	mode := uint64(0o644)
	if len(os.Args) == 4 {
		m, err := strconv.ParseUint(os.Args[3], 8, 32)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gowriter: bad mode:", os.Args[3])
			os.Exit(64)
		}
		mode = m
	}
	if err := os.WriteFile(os.Args[1], []byte(os.Args[2]), os.FileMode(mode)); err != nil {
		fmt.Fprintln(os.Stderr, "gowriter:", err)
		os.Exit(1)
	}
}
