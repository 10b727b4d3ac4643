// gofiles - the cost of saving many small files (issue 15's benchmark 2,
// to come in make bench): N files of DIR saved one after the other,
// timed.
//
//	gofiles [-protocol] N DIR
//
// Plain: os.WriteFile(DIR/fileK.json) (under atomically: the supervisor
// makes it atomic).  -protocol: what a careful Go program writes by hand
// instead: a temp beside the file (os.CreateTemp), its content, Sync,
// Close, os.Rename over the file, and the directory synced.  Prints
// "N files in S s (U us each)".  Exit status: 0; 1 on an error (said);
// 64 on bad usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofiles:", err)
		os.Exit(1)
	}
}

// save writes content into name the careful way.
func save(dir, name string, content []byte) {
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	check(err)
	_, err = tmp.Write(content)
	check(err)
	check(tmp.Sync())
	check(tmp.Close())
	check(os.Rename(tmp.Name(), name))
	d, err := os.Open(dir)
	check(err)
	check(d.Sync())
	check(d.Close())
}

func main() {
	protocol := flag.Bool("protocol", false, "temp, fsync, rename, directory fsync by hand")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	if flag.NArg() != 2 || err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: gofiles [-protocol] N DIR")
		os.Exit(64)
	}
	dir := flag.Arg(1)
	start := time.Now()
	for k := 0; k < n; k++ {
		name := filepath.Join(dir, fmt.Sprintf("file%d.json", k))
		content := []byte(fmt.Sprintf("{\"k\": %d}\n", k))
		if *protocol {
			save(dir, name, content)
		} else {
			check(os.WriteFile(name, content, 0o644))
		}
	}
	took := time.Since(start)
	fmt.Printf("%d files in %.3f s (%.1f us each)\n", n, took.Seconds(),
		float64(took.Microseconds())/float64(n))
}
