/* ownfd.h - the library's own descriptors: directories, temps, lock files.
 *
 * They live at lib.fd_base and above, out of the numbers programs pick
 * (bash's `exec 3> f` dup2()s onto 3 whatever is there), and they are
 * hidden from the program: a close of one fails with EBADF as if nothing
 * were open there, close_range and closefrom pass over them, and a dup2
 * onto one first moves ours elsewhere.  A program that closes every
 * descriptor it did not open (daemons, closefrom(3)) would otherwise drop
 * our locks and lose our temps.
 *
 * Each is recorded with the variable that holds it (its slot), so that it
 * can be moved.  Only the process whose memory this is (not a vfork
 * child) changes the record.
 */
#ifndef ATOMICALLY_OWNFD_H
#define ATOMICALLY_OWNFD_H

/* Take FD (ours, just opened) into the library: moved up to lib.fd_base
 * or above where it can be (the original is closed), close-on-exec,
 * recorded with *SLOT.  Sets *SLOT and returns the descriptor; -1 (and
 * *SLOT = -1) when FD is -1. */
int ownfd_keep(int fd, int *slot);

/* A descriptor of our own for what FD is, kept as ownfd_keep does.
 * Returns it, or -1 with errno (EMFILE). */
int ownfd_dup(int fd, int *slot);

/* After exec: FD, handed over, is ours already; record it with *SLOT. */
void ownfd_adopt(int fd, int *slot);

/* Close the descriptor in *SLOT (if any) and forget it; *SLOT = -1. */
void ownfd_close(int *slot);
/* ownfd_close of each slot, in one close_range when they are consecutive
 * (sys_fd_close_n). */
void ownfd_close_n(int *const *slots, int n);

/* Is FD one of ours?  Cheap: one atomic load when the library has none. */
int ownfd_is(int fd);

/* The first of ours in [FROM, TO], or -1. */
int ownfd_first(unsigned from, unsigned to);

/* The program is about to dup2 onto FD: if it is ours, move ours to
 * another number first.  Returns 0, or -1 with errno (EMFILE). */
int ownfd_move_away(int fd);

#endif
