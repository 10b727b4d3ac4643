// goremove - a Go program that deletes a file while it writes it
// (bats/seccomp.bats): the supervisor must not commit it afterwards, and
// the delete must succeed as without atomically, for a file that existed
// and for one the program made.
//
//	goremove FILE
//	goremove -race ROUNDS FILE
//
// os.Create(FILE), a write, os.Remove(FILE), os.Remove(FILE) again (which
// must fail: the file is gone), Close; then prints each result and
// whether FILE exists.  -race: ROUNDS times, FILE created and 1 MiB
// written, closed by another goroutine while this one removes it after
// 0 to 1 ms; prints "remove returned nil yet the file exists: N; remove
// failed: M" (without atomically both are 0: the name is on disk from
// the create on).  Exit status: 0; 1 when Create fails; 64 on bad usage.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func race(rounds int, name string) {
	buf := make([]byte, 1<<20)
	back, failed := 0, 0
	for i := 0; i < rounds; i++ {
		f, err := os.Create(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goremove:", err)
			os.Exit(1)
		}
		f.Write(buf)
		done := make(chan struct{})
		go func() { f.Close(); close(done) }()
		time.Sleep(time.Duration(i%50) * 20 * time.Microsecond)
		if os.Remove(name) != nil {
			failed++
		} else if _, err := os.Stat(name); err == nil {
			back++
		}
		<-done
		os.Remove(name)
	}
	fmt.Printf("remove returned nil yet the file exists: %d; remove failed: %d\n", back, failed)
}

func main() {
	if len(os.Args) == 4 && os.Args[1] == "-race" {
		rounds, err := strconv.Atoi(os.Args[2])
		if err != nil || rounds <= 0 {
			fmt.Fprintln(os.Stderr, "usage: goremove -race ROUNDS FILE")
			os.Exit(64)
		}
		race(rounds, os.Args[3])
		return
	}
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goremove [-race ROUNDS] FILE")
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
