// gowriter - a Go program's save, the way most Go programs save a file
// (bats/seccomp.bats).
//
//	gowriter [-r] FILE CONTENT [MODE]
//
// os.WriteFile(FILE, CONTENT, MODE (octal, default 644)): Go's own
// openat, write and close, which no preload sees.  -r: then read FILE
// back (os.ReadFile) and print it, before exiting.  Exit status: 0; 1
// when the write or the read fails (said on stderr); 64 on bad usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
)

func main() {
	readBack := flag.Bool("r", false, "read the file back and print it")
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 || len(args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: gowriter [-r] FILE CONTENT [MODE]")
		os.Exit(64)
	}
	mode := uint64(0o644)
	if len(args) == 3 {
		m, err := strconv.ParseUint(args[2], 8, 32)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gowriter: bad mode:", args[2])
			os.Exit(64)
		}
		mode = m
	}
	if err := os.WriteFile(args[0], []byte(args[1]), os.FileMode(mode)); err != nil {
		fmt.Fprintln(os.Stderr, "gowriter:", err)
		os.Exit(1)
	}
	if *readBack {
		got, err := os.ReadFile(args[0])
		if err != nil {
			fmt.Fprintln(os.Stderr, "gowriter:", err)
			os.Exit(1)
		}
		fmt.Printf("read back: %s\n", got)
	}
}
