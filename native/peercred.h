/* The credentials of a Unix socket's peer (native/peercred.c): registered by proclaunch.c's module init. */
#ifndef PROCLAUNCH_PEERCRED_H
#define PROCLAUNCH_PEERCRED_H
#include <node_api.h>

napi_value proclaunch_peer_cred(napi_env env, napi_callback_info info);

/* Entries for the module's napi_property_descriptor list. */
#define PEERCRED_PROPERTIES \
  {"peerCred", NULL, proclaunch_peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},

#endif
