#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in `directory`, as the leader of a new process group, with SIGKILL as its
/// parent-death signal, standard input from /dev/null and standard output and error into `out_fd` and `err_fd`.
/// With `uid` other than (uid_t)-1 the child drops every supplementary group and runs as `uid`/`gid` (the host
/// must be root), with umask 077. Answers the child's pid, or -1 with errno set. Every other descriptor is closed in
/// the child.
pid_t guildhall_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                      int out_fd, int err_fd, uid_t uid, gid_t gid);

/// Marks the calling process as not dumpable: its /proc files (environment, memory) become readable by root only,
/// so a child running as the same user cannot read the host's secrets there. Answers 0, or -1 with errno.
int guildhall_protect_process(void);

/// A pipe whose two ends are closed on exec (so other children never inherit them). Answers 0, or -1 with errno.
int guildhall_pipe(int fds[2]);

#endif
