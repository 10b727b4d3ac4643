// goremove - a Go program that deletes a file while it writes it
// (bats/seccomp.bats): the supervisor must not commit it afterwards, and
// the delete must succeed as without atomically, for a file that existed
// and for one the program made.
//
//	goremove FILE
//
// os.Create(FILE), a write, os.Remove(FILE), os.Remove(FILE) again (which
// must fail: the file is gone), Close; then prints each result and
// whether FILE exists.  Exit status: 0; 1 when Create fails; 64 on bad
// usage.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goremove FILE")
		os.Exit(64)
	}
	name := os.Args[1]
	f, err := os.Create(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "goremove:", err)
		os.Exit(1)
	}
	f.WriteString("new\n")
	fmt.Println("remove:", os.Remove(name))
	fmt.Println("remove again:", os.Remove(name) != nil)
	fmt.Println("close:", f.Close())
	_, err = os.Stat(name)
	fmt.Println("exists:", err == nil)
}
