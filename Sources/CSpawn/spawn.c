#define _GNU_SOURCE
#include "cspawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

// Between fork and exec only async-signal-safe calls: the host is multi-threaded.
pid_t guildhall_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                      int out_fd, int err_fd, uid_t uid, gid_t gid) {
    pid_t parent = getpid();
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0) return -1;
    pid_t pid = fork();
    if (pid != 0) {
        int saved = errno;
        close(null_fd);
        errno = saved;
        return pid;
    }
    // The child: its own group (so a stop reaches its children too), its own user if one is given, killed when the
    // host dies (set after the change of user, which clears the parent-death signal).
    setpgid(0, 0);
    if (uid != (uid_t)-1) {
        if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
        umask(077);
    }
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(127);
    if (directory && chdir(directory) != 0) _exit(127);
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3, ~0U, 0) != 0)
#endif
    {
        for (int fd = 3; fd < 65536; fd++) close(fd);
    }
    execve(path, argv, envp);
    _exit(127);
}

int guildhall_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int guildhall_protect_process(void) { return prctl(PR_SET_DUMPABLE, 0); }
