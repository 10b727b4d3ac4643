// gorun - a Go program that runs another program as its child
// (bats/seccomp.bats): the child inherits the Go program's seccomp
// filter, so an atomically inside it finds the notification slot taken.
//
//	gorun PROGRAM [ARG...]
//
// Runs PROGRAM with ARGs (os/exec: fork and exec by Go's own calls),
// standard streams shared, and exits with its status (1 when it could
// not be run; 128+N when a signal N killed it).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gorun PROGRAM [ARG...]")
		os.Exit(64)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		if st, ok := exit.Sys().(syscall.WaitStatus); ok && st.Signaled() {
			os.Exit(128 + int(st.Signal()))
		}
		os.Exit(exit.ExitCode())
	default:
		fmt.Fprintln(os.Stderr, "gorun:", err)
		os.Exit(1)
	}
}
