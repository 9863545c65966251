/* peerCred(fd) -> {pid, uid, gid}: getsockopt(SO_PEERCRED) on a connected
 * Unix stream socket — who is on the other end of the control socket, as the
 * kernel saw it at connect(2) (it cannot be forged by the client). Node has
 * no API for it. Throws an errno error (ENOTSOCK, EBADF...) when it cannot.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <node_api.h>
#include <uv.h>

#include "peercred.h"

static void set_int(napi_env env, napi_value object, const char *name, int64_t value) {
  napi_value v;
  napi_create_int64(env, value, &v);
  napi_set_named_property(env, object, name, v);
}

napi_value proclaunch_peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t fd;
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "peerCred(fd)");
    return NULL;
  }
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    napi_throw_error(env, uv_err_name(-errno), strerror(errno));
    return NULL;
  }
  napi_create_object(env, &result);
  set_int(env, result, "pid", cred.pid);
  set_int(env, result, "uid", cred.uid);
  set_int(env, result, "gid", cred.gid);
  return result;
}
