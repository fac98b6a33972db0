#ifndef CSPAWN_H
#define CSPAWN_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in `directory`, as the leader of a new process group, with SIGKILL as its
/// parent-death signal, standard input from /dev/null and standard output and error into `out_fd` and `err_fd`.
/// Answers the child's pid, or -1 with errno set. Every other descriptor is closed in the child.
pid_t guildhall_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                      int out_fd, int err_fd);

/// A pipe whose two ends are closed on exec (so other children never inherit them). Answers 0, or -1 with errno.
int guildhall_pipe(int fds[2]);

#endif
