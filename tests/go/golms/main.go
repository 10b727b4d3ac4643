// golms - a Go program's load-modify-save of a JSON list, the way the
// bug reports' containers.yaml tools do it (bats/seccomp.bats).
//
//	golms FILE ENTRY
//
// Reads FILE (a JSON array of strings; missing: empty), appends ENTRY,
// and saves the whole list back with os.WriteFile.  GOLMS_PAUSE_MS: a
// pause between the read and the save (a program that does some work
// there; the races of the tests then do not depend on how fast the
// programs start).  Exit status: 0; 1 on an error (said); 64 on bad
// usage.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: golms FILE ENTRY")
		os.Exit(64)
	}
	var list []string
	data, err := os.ReadFile(os.Args[1])
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		fmt.Fprintln(os.Stderr, "golms:", err)
		os.Exit(1)
	default:
		if err := json.Unmarshal(data, &list); err != nil {
			fmt.Fprintln(os.Stderr, "golms:", os.Args[1], err)
			os.Exit(1)
		}
	}
	if ms, err := strconv.Atoi(os.Getenv("GOLMS_PAUSE_MS")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	list = append(list, os.Args[2])
	out, _ := json.MarshalIndent(list, "", "  ")
	if err := os.WriteFile(os.Args[1], append(out, '\n'), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "golms:", err)
		os.Exit(1)
	}
}
