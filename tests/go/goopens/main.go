// goopens - the cost of opens under the seccomp supervisor: N opens and
// closes of FILE, for writing (sent to the supervisor by the filter,
// which lets an unmatched one go on) or read-only (never sent), timed.
//
//	goopens [-w] N FILE
//
// Prints "N opens in S s (U us each)".  Exit status: 0; 1 when an open
// fails (said); 64 on bad usage.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	write := flag.Bool("w", false, "open for writing (O_WRONLY|O_CREATE)")
	flag.Parse()
	n, err := strconv.Atoi(flag.Arg(0))
	if flag.NArg() != 2 || err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: goopens [-w] N FILE")
		os.Exit(64)
	}
	flags := os.O_RDONLY
	if *write {
		flags = os.O_WRONLY | os.O_CREATE
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		f, err := os.OpenFile(flag.Arg(1), flags, 0o644)
		if err != nil {
			fmt.Fprintln(os.Stderr, "goopens:", err)
			os.Exit(1)
		}
		f.Close()
	}
	took := time.Since(start)
	fmt.Printf("%d opens in %.3f s (%.2f us each)\n", n, took.Seconds(),
		float64(took.Microseconds())/float64(n))
}
