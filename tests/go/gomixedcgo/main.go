// gomixedcgo - a Go program built with cgo that writes one file from its
// C code (fopen, through libc: the preload's to see) and another from
// its Go code (os.WriteFile: past any preload), after reading the first
// from Go (bats/seccomp.bats).
//
//	gomixedcgo CFILE GOFILE
//
// Under lock = "process" the Go read takes CFILE's lock; the C write of
// it must not then wait for that lock as for another process's.  Exit
// status: 0; 1 when a write fails (said); 64 on bad usage.
package main

/*
#include <stdio.h>
#include <stdlib.h>

static int c_save(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}
*/
import "C"

import (
	"fmt"
	"os"
	"unsafe"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gomixedcgo CFILE GOFILE")
		os.Exit(64)
	}
	old, _ := os.ReadFile(os.Args[1])
	path, text := C.CString(os.Args[1]), C.CString("from C after "+string(old))
	defer C.free(unsafe.Pointer(path))
	defer C.free(unsafe.Pointer(text))
	if C.c_save(path, text) != 0 {
		fmt.Fprintln(os.Stderr, "gomixedcgo: the C save failed")
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[2], []byte("from Go\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gomixedcgo:", err)
		os.Exit(1)
	}
}
