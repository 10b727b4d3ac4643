// benchfiles - many small files saved by a Go program, for `make bench`
// (tests/bench/bench.sh, benchmark 10): the seccomp supervisor making
// plain saves atomic, against the same program doing it by hand.
//
//	benchfiles plain|full DIR COUNT SIZE [FIRST]
//
// Writes DIR/fNNNN.json for NNNN in FIRST..FIRST+COUNT-1 (FIRST: 0), SIZE
// bytes each, as tests/bench/smallfiles does in C.  plain: os.WriteFile
// (O_WRONLY|O_CREATE|O_TRUNC, write, close): a program that saves
// carelessly, which atomically makes atomic when it runs under it.  full:
// what a careful program writes by hand: DIR/.fNNNN.json.tmp, its
// content, Sync, Close, os.Rename over the file, Sync of the directory
// (opened once and kept, as such a program would: the baseline is the
// best it can do).
//
// Prints "COUNT files in S s (U us each)": the loop alone, without the
// program's start.  Exit status: 0; 1 when a call fails (said); 64 on bad
// usage.
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchfiles:", err)
		os.Exit(1)
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		usage()
	}
	return n
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchfiles plain|full DIR COUNT SIZE [FIRST]")
	os.Exit(64)
}

func main() {
	args := os.Args[1:]
	if len(args) != 4 && len(args) != 5 || args[0] != "plain" && args[0] != "full" {
		usage()
	}
	dir := args[1]
	count, size, first := atoi(args[2]), atoi(args[3]), 0
	if len(args) == 5 {
		first = atoi(args[4])
	}
	content := bytes.Repeat([]byte{'x'}, size)
	var d *os.File
	if args[0] == "full" {
		var err error
		d, err = os.Open(dir)
		check(err)
	}
	start := time.Now()
	for k := first; k < first+count; k++ {
		name := filepath.Join(dir, fmt.Sprintf("f%04d.json", k))
		if d == nil {
			check(os.WriteFile(name, content, 0o644))
			continue
		}
		tmp := filepath.Join(dir, fmt.Sprintf(".f%04d.json.tmp", k))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		check(err)
		_, err = f.Write(content)
		check(err)
		check(f.Sync())
		check(f.Close())
		check(os.Rename(tmp, name))
		check(d.Sync())
	}
	took := time.Since(start)
	if d != nil {
		d.Close()
	}
	fmt.Printf("%d files in %.6f s (%.1f us each)\n", count, took.Seconds(),
		float64(took.Nanoseconds())/1e3/float64(count))
}
