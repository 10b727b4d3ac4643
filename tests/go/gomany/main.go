// gomany - many goroutines saving files at once (bats/seccomp.bats): Go
// runs them on several threads, so the supervisor gets opens from
// several threads of one program at the same time.
//
//	gomany N DIR
//
// N goroutines; goroutine K writes DIR/fileK.json with os.WriteFile
// (content "K\n" repeated K+1 times), all started together.  Exit
// status: 0; 1 when a write fails (said); 64 on bad usage.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

func main() {
	n, err := strconv.Atoi(os.Args[len(os.Args)-2])
	if len(os.Args) != 3 || err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "usage: gomany N DIR")
		os.Exit(64)
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	failed := make(chan error, n)
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			<-start
			name := filepath.Join(os.Args[2], fmt.Sprintf("file%d.json", k))
			content := strings.Repeat(fmt.Sprintf("%d\n", k), k+1)
			if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
				failed <- err
			}
		}(k)
	}
	close(start)
	wg.Wait()
	close(failed)
	for err := range failed {
		fmt.Fprintln(os.Stderr, "gomany:", err)
		os.Exit(1)
	}
}
