/* version.h - what `atomically --version` says: the version, the commit
 * it was built from, the C library it runs on, and the library it would
 * preload. */
#ifndef ATOMICALLY_VERSION_H
#define ATOMICALLY_VERSION_H

#include <stdio.h>

/* Writes the report to OUT; LIBRARY is the path find_library chose, or
 * NULL when none was found (then said so). */
void version_print(FILE *out, const char *library);

/* The library's directory as seen from the launcher's, and the one
 * compiled in (make's LIBDIR): where find_library looks. */
const char *version_libdir_from_bin(void);
const char *version_libdir(void);

/* What glibc's dynamic linker expands $LIB to, found at build time
 * (scripts/glibc_lib_token.sh). */
const char *version_glibc_lib(void);

#endif
