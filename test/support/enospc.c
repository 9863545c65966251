/* LD_PRELOAD shim: inotify_add_watch fails with ENOSPC after ENOSPC_AFTER
 * successful calls, exactly as the kernel does at fs.inotify.max_user_watches.
 * Lets a test hit the watch limit without lowering the machine-wide sysctl
 * (a user namespace does not isolate it on every kernel). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int inotify_add_watch(int fd, const char *path, uint32_t mask) {
  static int (*real)(int, const char *, uint32_t);
  static int calls;
  const char *after = getenv("ENOSPC_AFTER");
  if (!real) real = (int (*)(int, const char *, uint32_t))dlsym(RTLD_NEXT, "inotify_add_watch");
  if (after && calls++ >= atoi(after)) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, path, mask);
}
