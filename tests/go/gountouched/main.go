// gountouched - a Go program that touches no path the rules match
// (bats/seccomp.bats): under the seccomp supervisor it must run as it
// runs alone.
//
//	gountouched DIR
//
// Writes DIR/notes.txt (os.WriteFile), appends a line to it (O_APPEND),
// reads it back, creates DIR/lock.txt with O_CREATE|O_EXCL (a second run
// finds it there: "exists"), lists DIR, and prints what it saw, one fact
// a line, with the inode of notes.txt before and after the append (the
// same: written in place).  Exit status: 0; 1 on an error (said).
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gountouched:", err)
		os.Exit(1)
	}
}

func inode(path string) uint64 {
	st, err := os.Stat(path)
	check(err)
	return st.Sys().(*syscall.Stat_t).Ino
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gountouched DIR")
		os.Exit(64)
	}
	dir := os.Args[1]
	notes := filepath.Join(dir, "notes.txt")
	check(os.WriteFile(notes, []byte("first\n"), 0o600))
	before := inode(notes)
	f, err := os.OpenFile(notes, os.O_WRONLY|os.O_APPEND, 0)
	check(err)
	_, err = f.WriteString("second\n")
	check(err)
	check(f.Close())
	content, err := os.ReadFile(notes)
	check(err)
	fmt.Printf("content %q\n", content)
	fmt.Printf("same inode %v\n", before == inode(notes))
	lock, err := os.OpenFile(filepath.Join(dir, "lock.txt"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		fmt.Println("lock created")
		check(lock.Close())
	case errors.Is(err, os.ErrExist):
		fmt.Println("lock exists")
	default:
		check(err)
	}
	entries, err := os.ReadDir(dir)
	check(err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	fmt.Println("entries", names)
}
