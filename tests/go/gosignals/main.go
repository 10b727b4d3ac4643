// gosignals - a Go program whose save is interrupted by signals over and
// over (bats/seccomp.bats): the call the supervisor is serving must not
// be aborted and made again by each (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV).
//
//	gosignals FILE CONTENT
//
// While os.WriteFile(FILE, CONTENT) runs, a goroutine sends SIGUSR1 to
// each of the program's threads every 100 microseconds (tgkill, as Go's
// own SIGURG preemption does; Go's handler has SA_RESTART), so that the
// thread waiting in the open gets them too; prints "signals N" once the
// save is done.  Exit status: 0; 1 when the save fails (said); 64 on bad usage.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gosignals FILE CONTENT")
		os.Exit(64)
	}
	caught := make(chan os.Signal, 1024)
	signal.Notify(caught, syscall.SIGUSR1)
	var done atomic.Bool
	var sent int64
	go func() {
		for !done.Load() {
			tasks, _ := os.ReadDir("/proc/self/task")
			for _, t := range tasks {
				if tid, err := strconv.Atoi(t.Name()); err == nil {
					syscall.Tgkill(os.Getpid(), tid, syscall.SIGUSR1)
					atomic.AddInt64(&sent, 1)
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	go func() {
		for range caught {
		}
	}()
	err := os.WriteFile(os.Args[1], []byte(os.Args[2]), 0o644)
	done.Store(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gosignals:", err)
		os.Exit(1)
	}
	fmt.Printf("signals %d\n", atomic.LoadInt64(&sent))
}
