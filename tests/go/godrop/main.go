// godrop - a Go program that drops its privileges, then saves a file
// (bats/seccomp.bats): the supervisor must not write for it where the
// kernel would refuse it.
//
//	godrop ID FILE CONTENT
//
// Sets its groups to none and its group and user ids to ID (all threads:
// Go's syscall.Setuid), then os.WriteFile(FILE, CONTENT).  Exit status:
// 0; 1 when the save fails (the error on stdout); 2 when the ids cannot
// be dropped; 64 on bad usage.
package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: godrop ID FILE CONTENT")
		os.Exit(64)
	}
	id, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "godrop: bad id:", os.Args[1])
		os.Exit(64)
	}
	if err := syscall.Setgroups(nil); err != nil {
		fmt.Fprintln(os.Stderr, "godrop: setgroups:", err)
		os.Exit(2)
	}
	if err := syscall.Setgid(id); err != nil {
		fmt.Fprintln(os.Stderr, "godrop: setgid:", err)
		os.Exit(2)
	}
	if err := syscall.Setuid(id); err != nil {
		fmt.Fprintln(os.Stderr, "godrop: setuid:", err)
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[2], []byte(os.Args[3]), 0o644); err != nil {
		fmt.Println("save:", err)
		os.Exit(1)
	}
	fmt.Println("saved")
}
