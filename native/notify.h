/* The sd_notify socket (native/notify.c): registered by proclaunch.c's module init. */
#ifndef PROCLAUNCH_NOTIFY_H
#define PROCLAUNCH_NOTIFY_H
#include <node_api.h>

napi_value proclaunch_notify_open(napi_env env, napi_callback_info info);
napi_value proclaunch_notify_close(napi_env env, napi_callback_info info);

/* Entries for the module's napi_property_descriptor list. */
#define NOTIFY_PROPERTIES                                                                  \
  {"notifyOpen", NULL, proclaunch_notify_open, NULL, NULL, NULL, napi_enumerable, NULL},  \
  {"notifyClose", NULL, proclaunch_notify_close, NULL, NULL, NULL, napi_enumerable, NULL},

#endif
