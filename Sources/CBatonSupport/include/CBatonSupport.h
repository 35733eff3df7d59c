#ifndef BATON_SUPPORT_H
#define BATON_SUPPORT_H

#include <sys/types.h>

/// Starts `path` with `argv`/`envp` in a new process group whose leader is the child, with
/// the given descriptors as its stdin, stdout and stderr. On Linux the child also receives
/// SIGKILL when the thread that started it dies, so a SIGKILLed worker leaves no orphan
/// handler that could finish a step already handed to another worker.
/// Returns the child's pid, or -1 with errno set (also when exec fails in the child).
pid_t baton_spawn(const char *path, char *const argv[], char *const envp[],
                  int stdin_fd, int stdout_fd, int stderr_fd);

/// pipe2(fds, O_CLOEXEC): glibc declares pipe2 only under _GNU_SOURCE.
int baton_pipe_cloexec(int fds[2]);

#endif
