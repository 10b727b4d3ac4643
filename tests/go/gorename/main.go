// gorename - a Go program's own atomic save (bats/seccomp.bats): a temp
// of its own beside FILE, then os.Rename over FILE.  The supervisor must
// guard that rename as the library guards a program's rename onto a
// matched path: under the target's lock, the source synced.
//
//	gorename [-sync] [-mark FILE] TARGET CONTENT
//
// os.CreateTemp in TARGET's directory (".gorename-*", a name no rule
// matches), CONTENT written, synced with -sync (else left to the
// supervisor), closed; -mark: FILE written just before the rename, so
// that a test knows the rename is under way; then os.Rename(temp,
// TARGET).  Exit status: 0; 1 on an error (said; the temp removed); 64
// on bad usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

var temp string

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gorename:", err)
		if temp != "" {
			os.Remove(temp)
		}
		os.Exit(1)
	}
}

func main() {
	sync := flag.Bool("sync", false, "fsync the temp before the rename")
	mark := flag.String("mark", "", "written just before the rename")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: gorename [-sync] [-mark FILE] TARGET CONTENT")
		os.Exit(64)
	}
	target := flag.Arg(0)
	f, err := os.CreateTemp(filepath.Dir(target), ".gorename-*")
	check(err)
	temp = f.Name()
	_, err = f.WriteString(flag.Arg(1))
	check(err)
	if *sync {
		check(f.Sync())
	}
	check(f.Close())
	if *mark != "" {
		check(os.WriteFile(*mark, nil, 0o644))
	}
	check(os.Rename(temp, target))
}
