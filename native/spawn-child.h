/* The native spawn (native/spawn-child.c): registered by proclaunch.c's module init. */
#ifndef PROCLAUNCH_SPAWN_CHILD_H
#define PROCLAUNCH_SPAWN_CHILD_H
#include <features.h>
#include <node_api.h>

/* posix_spawn with POSIX_SPAWN_SETSID (2.26) and addchdir_np (2.29); addclosefrom_np is 2.34. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 29))
#define HAVE_SPAWN 1
#else
#define HAVE_SPAWN 0
#endif
#ifndef HAVE_ADDCLOSEFROM /* -DHAVE_ADDCLOSEFROM=0 tests the other way */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#define HAVE_ADDCLOSEFROM 1
#else
#define HAVE_ADDCLOSEFROM 0
#endif
#endif

#if HAVE_SPAWN
napi_value proclaunch_spawn(napi_env env, napi_callback_info info);
/* An entry for the module's napi_property_descriptor list. */
#define SPAWN_PROPERTIES {"spawn", NULL, proclaunch_spawn, NULL, NULL, NULL, napi_enumerable, NULL},
#else
#define SPAWN_PROPERTIES
#endif

#endif
