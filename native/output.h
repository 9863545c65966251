/* The bounded-output drain (output.c), registered by proclaunch.c's module init. */
#ifndef PROCLAUNCH_OUTPUT_H
#define PROCLAUNCH_OUTPUT_H
#include <node_api.h>

napi_status output_init(napi_env env, napi_value exports);

#endif
