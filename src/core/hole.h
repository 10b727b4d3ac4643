/* hole.h - an append's temp, which holds a hole where the target's
 * content would be (issue 16: an append costs what is appended).
 *
 * An O_WRONLY|O_APPEND open of a file that has content gets a temp made
 * as long as the target with ftruncate: a hole, which costs nothing.  The
 * program's appends land past it, at the offsets they would have had on
 * the target, so that lseek, ftell and fstat see the sizes they would
 * have seen.  The commit then adds only what was appended to the target
 * (commit.c).
 *
 * While the hole stands for the target's content the temp carries an
 * extended attribute, HOLE_XATTR, "BASE DEV INO PATH": the target's size,
 * its identity, and its absolute path at the open.  The mark is in the
 * temp, not in a record, so that every process that holds a descriptor
 * of the temp (the writer, a fork, a program a child exec'd, which has
 * no record of the target) can tell whether it was filled, and fill it.
 *
 * Its states:
 *
 *   marked        hole_make(): size BASE, no data, the mark set
 *   appended to   the program's appends, past BASE: still marked
 *   filled        hole_fill(): the target's first BASE bytes copied in
 *                 (only its data extents, in the kernel), the mark
 *                 removed: a temp like any other.  Whatever needs the
 *                 whole file fills it first: a descriptor that may read
 *                 or write below the end, a truncation, an allocation.
 *   spoiled       something wrote below BASE without filling first (a
 *                 process without the library): hole_intact() says so,
 *                 and the file is not committed, rather than lose it.
 */
#ifndef ATOMICALLY_HOLE_H
#define ATOMICALLY_HOLE_H

#include <sys/stat.h>
#include <sys/types.h>

#define HOLE_XATTR "user.atomically.base"

/* Make the new temp TFD (empty, without O_APPEND yet) stand for the
 * target TARGET, the file NAME in the directory DFD, with a hole.
 * Returns 0, or -1 when this file system cannot keep the mark or does not
 * say where its holes are, or a block is larger than a page (the first
 * append would then take blocks below BASE): the temp is then left empty,
 * for a copy. */
int hole_make(int tfd, int dfd, const char *name, const struct stat *target);

/* Is the temp open as FD marked?  1, 0, or -1 with errno. */
int hole_marked(int fd);

/* Does the temp open as FD (readable; its offset does not move) hold
 * nothing below BASE that the program wrote?  Its appends start at BASE,
 * in a block that may begin below it, whose bytes below BASE are then
 * zeros.  1 or 0. */
int hole_intact(int fd, off_t base);

/* Fill the hole of the temp open as TFD, if it is still marked: the
 * target (NAME in DFD; DFD -1: the path the mark names) must still be
 * the file of the mark, as long as its BASE at least.  Concurrent fills
 * of one temp take turns.  Returns 0 (filled, or nothing to fill), or -1
 * with errno (ESTALE: the target is no longer that file; EIO: the temp
 * was written below its end).  Keeps errno when it succeeds. */
int hole_fill(int tfd, int dfd, const char *name);

#endif
