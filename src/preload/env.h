/* env.h - the environment, read and changed without getenv/setenv.
 *
 * A program may define getenv, setenv and unsetenv itself (bash does:
 * they work on its variable table, which a setenv before its main()
 * creates too early, losing the real environment).  The library runs in
 * constructors, before main: it reads and edits `environ` directly.
 */
#ifndef ATOMICALLY_ENV_H
#define ATOMICALLY_ENV_H

/* The value of NAME in environ, or NULL. */
const char *env_get(const char *name);

/* The value of NAME in ENV (an environment as execve takes it), or NULL. */
const char *env_get_in(char *const env[], const char *name);

/* Set NAME to VALUE: environ becomes a copy in memory of our own (mmap;
 * never freed: environ may be read by anyone at any time) with the entry
 * replaced or added.  Returns 0, or -1 when memory cannot be had. */
int env_set(const char *name, const char *value);

/* Remove NAME from environ, in place. */
void env_unset(const char *name);

#endif
