/* musl.h - what the library needs of musl that glibc's headers give it:
 * included before every source of the musl build of the library
 * (make's $(B)/musl/libatomically.so, with -include), and by nothing else.
 *
 * The library is the same code for both libcs; musl differs in three
 * things its sources would otherwise trip on:
 *
 *   - musl makes the LFS64 names (open64, stat64, readdir64, ...) macros
 *     for the plain ones (under _GNU_SOURCE in 1.2.3, under
 *     _LARGEFILE64_SOURCE, which the build sets, in later ones).  A musl
 *     program's source calls open64 and gets open: it never calls them
 *     by their own names (musl keeps the symbols only for old binaries).
 *     But the library defines them as hooks, as it must for glibc: the
 *     macros of the functions are undone here, so that each is a hook of
 *     its own again; those of the types (off64_t, struct dirent64,
 *     glob64_t) stay, being the plain types as on glibc's 64-bit ABIs.
 *     struct stat64 loses its name with the function's: it is declared,
 *     incomplete, and the hooks only pass pointers to it on.
 *   - the head of the list of loaded objects, which real.c walks, is
 *     glibc's _r_debug; musl's debugger interface is _dl_debug_addr,
 *     the same structure.
 *   - a few names musl 1.2.3 lacks (close_range, closefrom, renameat2,
 *     statx, fcloseall): the library still defines their hooks (a newer
 *     musl has some, and syscall(SYS_statx) reaches the statx hook), so
 *     they are declared here; struct statx is the kernel's, and so are
 *     the flags of close_range and renameat2 and the bare O_TMPFILE bit
 *     that glibc's headers bring along.
 */
#ifndef ATOMICALLY_MUSL_H
#define ATOMICALLY_MUSL_H

/* Every header that defines an LFS64 macro, first: a later #include of
 * one would bring back what is undone below. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <linux/stat.h>

#undef open64
#undef openat64
#undef creat64
#undef fopen64
#undef freopen64
#undef pwrite64
#undef pwritev64
#undef sendfile64
#undef ftruncate64
#undef fallocate64
#undef posix_fallocate64
#undef truncate64
#undef mmap64
#undef stat64
#undef lstat64
#undef fstat64
#undef fstatat64
#undef readdir64
#undef readdir64_r
#undef scandir64
#undef nftw64
#undef ftw64
#undef glob64

struct stat64;

extern struct r_debug *_dl_debug_addr;
#define _r_debug (*_dl_debug_addr)

/* What glibc's headers bring along: the kernel's bare O_TMPFILE bit (the
 * open family reads a mode when it is set, as glibc and musl both do),
 * renameat2's flags. */
#define __O_TMPFILE (O_TMPFILE & ~O_DIRECTORY)
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)

int close_range(unsigned int first, unsigned int last, int flags);
void closefrom(int fd);
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
	      unsigned int flags);
int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *sx);
int fcloseall(void);

#endif
