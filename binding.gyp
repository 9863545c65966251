{
  "targets": [
    {
      "target_name": "proclaunch_native",
      "sources": ["native/proclaunch.c", "native/output.c", "native/drain.c", "native/output-sink.c", "native/notify.c", "native/extra-fds.c", "native/peercred.c", "native/spawn-child.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11"]
    }
  ]
}
