/* session_wire.h - what a process of a session and its supervisor say.
 *
 * The supervisor (the launcher, kept alive as COMMAND's grandparent,
 * src/supervisor/) listens on an abstract Unix socket whose name is in
 * ATOMICALLY_SESSION: "PID.HEX.KEEPER", the supervisor's pid, a random
 * part, and the pid of the keeper above COMMAND (supervisor/keeper.h).  A name in the environment rather than an inherited descriptor,
 * because programs close descriptors they did not open (Python's
 * subprocess closes every one above 2 by default, daemons close them
 * all), and an environment survives that.  The value "none" says that
 * no session exists and none is expected (`atomically --env`), so that
 * the fallback is not warned about in every process.
 *
 * Each side checks the other (SO_PEERCRED): the process that answers
 * must be the pid the name gives and run as the same user; the
 * supervisor serves only processes of its user in its own tree.
 *
 * One request, one reply, over SOCK_SEQPACKET: each message whole or
 * not at all.  A request carries at most one descriptor (SCM_RIGHTS):
 * the directory of the file it is about, so that the supervisor finds
 * the file the process means, whatever its cwd or root.
 */
#ifndef ATOMICALLY_SESSION_WIRE_H
#define ATOMICALLY_SESSION_WIRE_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#define SESSION_ENV "ATOMICALLY_SESSION"
#define SESSION_NONE "none"

enum session_op {
	/* Take and keep, until the session ends, the lock of NAME in the
	 * directory sent along (lock = "session").  A session_reply. */
	SESSION_HOLD = 1,
	/* commit = "session": the pending file of NAME in the directory
	 * sent, made for an open with FLAGS and MODE if there is none.  A
	 * session_file_reply, with the directory and the temp. */
	SESSION_OPEN,
	/* commit = "session": the pending file of NAME, if the session has
	 * one.  A session_file_reply (status 1: none; -1 with ENOENT: the
	 * program deleted it). */
	SESSION_LOOKUP,
	/* commit = "session": the program renames FROM (in the second
	 * directory sent) onto NAME (in the first), with the renameat2
	 * FLAGS (0 or RENAME_NOREPLACE).  FROM_DISPLAY empty, or the path
	 * of a file no session rule keeps: the file becomes NAME's pending
	 * file.  FROM_DISPLAY a file the session keeps (its rename away):
	 * FROM's content as the tree sees it becomes NAME's, and FROM is
	 * removed, both at the session's commit.  A session_reply (EEXIST:
	 * NAME exists and FLAGS said not to replace it; ENOENT: there is no
	 * FROM as the tree sees it). */
	SESSION_RENAME,
	/* commit = "session": the program unlinks NAME: from now on the
	 * tree sees no file there, and the session's commit removes it.  A
	 * session_reply (ENOENT: there was none). */
	SESSION_UNLINK,
	/* commit = "session": how a listing of the directory sent differs
	 * for the tree from what is on disk: the names it adds (files made
	 * by the tree, not yet committed) and the names it hides (files the
	 * tree deleted, the session's own named temps).  FLAGS is the index
	 * of the first such name wanted: a directory with more than one
	 * reply holds is asked again from where the last reply stopped.  A
	 * session_list_reply. */
	SESSION_LIST,
	/* A static or Go program the asker is about to exec (the library
	 * cannot reach it): the listener of the seccomp filter the asker
	 * has just installed in itself (core/seccomp_filter.h) is the
	 * descriptor sent; FLAGS the first number of the range its filter
	 * watches (0: none); MODE the SESSION_COVER_* bits; NAME the
	 * program's name, for messages.  The supervisor serves it for the
	 * asker's pid (which the exec keeps) until no process is left under
	 * the filter.  A session_reply: 0 served (only then may the asker
	 * close the listener and exec), -1 with ERROR, 1 not served (other
	 * rules than the session's). */
	SESSION_COVER,
	/* The exec after SESSION_COVER failed: the asker goes on as itself,
	 * the library active in it, and the supervisor no longer acts for
	 * it (every call of its filter goes on in the kernel).  No
	 * descriptor.  A session_reply. */
	SESSION_UNCOVER,
};

/* SESSION_COVER's MODE: the filter sends the looks at names. */
#define SESSION_COVER_READS 1

struct session_request {
	uint32_t op;
	int32_t lock_timeout;          /* the rule's: seconds, < 0 for ever */
	int32_t flags;                 /* SESSION_OPEN: the program's open flags;
					* SESSION_RENAME: its renameat2 flags;
					* SESSION_COVER: the watched range */
	uint32_t mode;                 /* and its mode */
	uint64_t rules;                /* session_rules_id of the asker's rules */
	char lock_dir[PATH_MAX];       /* the rules' lock_dir (actor.h) */
	char name[NAME_MAX + 1];       /* a name in the directory sent */
	char from[NAME_MAX + 1];       /* SESSION_RENAME: the source's name */
	char display[PATH_MAX];        /* the file's absolute path: its rule, messages */
	char from_display[PATH_MAX];   /* SESSION_RENAME: the source's, or "" */
};

/* status: 0 done, -1 failed with ERROR, 1 not the session's to do (the
 * asker does it itself, as without a session), SESSION_ENDED: COMMAND
 * has exited and the session is over (its files are being committed):
 * the asker goes on alone from now on, as a process outside. */
#define SESSION_ENDED 2
struct session_reply {
	int32_t status;
	int32_t error;
};

#define SESSION_RECORD_MAX 16384
struct session_file_reply {
	int32_t status;
	int32_t error;
	char record[SESSION_RECORD_MAX];   /* record_encode's text (status 0) */
};

/* SESSION_LIST's reply: COUNT names packed into NAMES, each one
 *
 *   '+' INO ' ' NAME '\0'     the tree sees a file NAME (INO: its temp's inode)
 *   '-' NAME '\0'             the tree sees no NAME
 *
 * INO in decimal.  MORE: the directory has more, from the index asked
 * plus COUNT.  STATUS 0, or -1 with ERROR (the asker lists the disk). */
struct session_list_reply {
	int32_t status;
	int32_t error;
	uint32_t count;
	uint32_t more;
	char names[SESSION_RECORD_MAX];
};

/* The identity of a ruleset's text (ATOMICALLY_RULES): the session keeps
 * files only for processes that share its rules, whose records name the
 * same rules by the same numbers. */
uint64_t session_rules_id(const char *text);

/* The socket address of the session named VALUE (an ATOMICALLY_SESSION
 * value) into ADDR, and the supervisor's pid into *PID.  Returns the
 * address length, or 0 when VALUE names no session (NULL, "none", or
 * malformed). */
struct sockaddr_un;
unsigned session_address(const char *value, struct sockaddr_un *addr, pid_t *pid);

/* VALUE for a supervisor of pid PID with the random part RANDOM, into
 * OUT (at least SESSION_VALUE_MAX bytes). */
#define SESSION_VALUE_MAX 48
void session_value(char *out, pid_t pid, uint64_t random);

/* The tree sees "PID.HEX.KEEPER": VALUE with the pid of the session's
 * keeper (supervisor/keeper.h) after it, into OUT.  0, or -1 when VALUE
 * is not a session's or has a keeper already. */
int session_with_keeper(char *out, const char *value, pid_t keeper);

/* The keeper's pid in VALUE, or 0 when it names none. */
pid_t session_keeper(const char *value);

/* Connect to the session VALUE names, and check that the pid the name
 * gives answers, as our effective user.  Returns the socket (kept in
 * *SLOT, see sys.h), or -1 with errno: ENOENT (no session named),
 * ECONNREFUSED (nobody listens: the session ended), EPERM (another
 * process answers). */
int session_connect(const char *value, int *slot);

/* The same, for one exchange: a descriptor not kept in a slot (nothing
 * of the process's is changed: a vfork child may make it), close-on-exec,
 * to be closed with SYS_close. */
int session_connect_once(const char *value);

/* Send LEN bytes of MSG and, with them, the NFDS descriptors FDS (at most
 * SESSION_FDS_MAX; those that are -1 are left out).  Returns 0, or -1
 * with errno. */
#define SESSION_FDS_MAX 3
int session_send(int sock, const void *msg, size_t len, const int *fds, int nfds);

/* Receive one message of exactly LEN bytes into MSG, and the descriptors
 * sent with it into FDS (NFDS entries, -1 where none came; those beyond
 * NFDS are closed).  Returns how many descriptors came, or -1 with errno:
 * EPIPE when the other side has gone, EPROTO when the message is not LEN
 * bytes. */
int session_recv(int sock, void *msg, size_t len, int *fds, int nfds);

/* Is R a request the supervisor may act on: a known op, its strings
 * terminated, NAME (and FROM, for a rename) a file name (no '/', not
 * "." or ".."; a listing has none). */
int session_request_valid(const struct session_request *r);

#endif
