/* What every Node-API function of the native module does on a failed call or an errno (shared by its .c files). */
#ifndef PROCLAUNCH_NAPI_UTIL_H
#define PROCLAUNCH_NAPI_UTIL_H
#include <stdio.h>
#include <string.h>
#include <node_api.h>
#include <uv.h>

/* A failed napi_* call: throw (unless an exception is pending already) and return NULL to JS. */
#define CHECK(env, call)                                                                  \
  do {                                                                                    \
    if ((call) != napi_ok) {                                                              \
      const napi_extended_error_info *info_ = NULL;                                       \
      bool pending_ = false;                                                              \
      napi_get_last_error_info((env), &info_);                                            \
      napi_is_exception_pending((env), &pending_);                                        \
      if (!pending_)                                                                      \
        napi_throw_error((env), NULL,                                                     \
                         info_ && info_->error_message ? info_->error_message : #call);   \
      return NULL;                                                                        \
    }                                                                                     \
  } while (0)

/* An Error with .code as Node's ('ENOENT') and the message "WHAT: strerror". */
static inline void throw_errno(napi_env env, int err, const char *what) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(-err), message);
}

#endif
