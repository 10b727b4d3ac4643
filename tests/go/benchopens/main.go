// benchopens - opens of files no rule matches, for `make bench`
// (tests/bench/bench.sh, benchmark 9): the cost of the seccomp
// supervisor to a Go program that writes or reads many files none of
// which it makes atomic.
//
//	benchopens -w|-r N DIR
//
// -w: for each of DIR/f00000.dat .. DIR/fN-1.dat, os.OpenFile(O_WRONLY|
// O_CREATE) (the call the filter sends to the supervisor), a write of 64
// bytes at the start of the file, Close.  The files are created by the
// first run; later runs open them again (no O_TRUNC: nothing is freed or
// allocated, so the work is the open itself and a write into the page
// cache).  -r: os.Open (O_RDONLY: never sent), a read of up to 64 bytes,
// Close, of the same files.
//
// Prints "N opens in S s (U us each)": the loop alone, without the
// program's start.  Exit status: 0; 1 when a call fails (said); 64 on bad
// usage.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchopens:", err)
		os.Exit(1)
	}
}

func main() {
	write := flag.Bool("w", false, "open for writing (O_WRONLY|O_CREATE), write, close")
	read := flag.Bool("r", false, "open read-only, read, close")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	if flag.NArg() != 2 || err != nil || n < 1 || *write == *read {
		fmt.Fprintln(os.Stderr, "usage: benchopens -w|-r N DIR")
		os.Exit(64)
	}
	dir := flag.Arg(1)
	names := make([]string, n)
	for k := range names {
		names[k] = filepath.Join(dir, fmt.Sprintf("f%05d.dat", k))
	}
	content := append(bytes.Repeat([]byte{'x'}, 63), '\n')
	buf := make([]byte, 64)
	start := time.Now()
	for _, name := range names {
		if *write {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o644)
			check(err)
			_, err = f.Write(content)
			check(err)
			check(f.Close())
		} else {
			f, err := os.Open(name)
			check(err)
			_, err = f.Read(buf)
			check(err)
			check(f.Close())
		}
	}
	took := time.Since(start)
	fmt.Printf("%d opens in %.6f s (%.2f us each)\n", n, took.Seconds(),
		float64(took.Nanoseconds())/1e3/float64(n))
}
