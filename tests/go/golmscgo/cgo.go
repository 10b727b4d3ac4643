// golmscgo - golms (tests/go/golms) built with cgo (bats/seccomp.bats):
// the Makefile builds golms's main.go together with this file, whose
// import "C" makes the program link against libc dynamically, as a Go
// program that uses cgo anywhere is.  Its files are still written by Go's
// own system calls, past libc and so past the library: atomically must
// still take it for a Go program and cover it with the supervisor.
package main

// #include <unistd.h>
import "C"

import (
	"fmt"
	"os"
)

// A call into libc, so that cgo is used and not only imported.
func init() {
	if pid := int(C.getpid()); pid != os.Getpid() {
		fmt.Fprintln(os.Stderr, "golmscgo: libc's getpid says", pid, "Go's", os.Getpid())
		os.Exit(1)
	}
}
