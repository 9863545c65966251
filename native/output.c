/* Bounded service output (issue 14): one drain thread for every service.
 *
 * Each service writes into a FIFO; this thread moves what it holds into the
 * service's log file, rotating it by size (PATH.1 ... PATH.keep) at line
 * boundaries. The bytes are peeked with tee(2) and then moved with splice(2),
 * which consumes from the pipe exactly what reached the file: a kill -9 of the
 * supervisor at any moment leaves every other byte in the FIFO for the next
 * one (no user-space buffer of unwritten output to lose). Nothing goes through
 * JavaScript and the event loop never waits on the disk.
 *
 *   outputAdd(fifoFd, path, maxSize, keep, timestamps) -> id   (takes the fd)
 *   outputSet(id, maxSize, keep, timestamps)
 *   outputRelease(id)          drain what is left, close
 *   outputFlush(timeoutMs) -> boolean   wait until every FIFO has been drained
 *   outputEvents(callback)     callback(id, kind, errno, dropped): 1 cannot write, 2 writing again
 *   mkfifo(path, mode), dup2(from, to)
 *
 * The FIFOs are watched edge-triggered, each ready one given a chunk per turn
 * (a flood cannot starve the others) until it is empty or has spent its rate
 * budget for the window (SINK_RATE: then it waits for the next one, its
 * writer blocked on the full FIFO); a partial line left waiting in one
 * (output-sink.c) is looked at again when more comes, or after SINK_DEFER_MS. (Draining on the event loop instead, uv_poll per FIFO, was
 * measured too: bench/drain-mechanisms.mjs, and the README.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#include "output.h"
#include "output-sink.h"

enum { CMD_ADD, CMD_SET, CMD_RELEASE, CMD_FLUSH };

typedef struct command {
  int kind;
  uint32_t id;
  int fd;
  char *path;
  int64_t max_size;
  int keep, timestamps;
  uint64_t seq;
  struct command *next;
} command_t;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t flushed;
  command_t *head, *tail;
  uint64_t flush_asked, flush_done;
  uint32_t next_id;
  int started;
  int epfd, wakefd;
  /* The drain thread's alone: */
  sink_t *sinks;
  sink_t *ready, *ready_tail; /* to be given a chunk */
  napi_threadsafe_function events;
} D = {.lock = PTHREAD_MUTEX_INITIALIZER, .flushed = PTHREAD_COND_INITIALIZER};

/* Called from the drain thread: hand an event to JS (never blocks). */
void sink_report(sink_t *s, int kind, int err, uint64_t dropped) {
  uint64_t *data;
  if (!D.events || !(data = malloc(4 * sizeof *data))) return;
  data[0] = s->id, data[1] = (uint64_t)kind, data[2] = (uint64_t)err, data[3] = dropped;
  if (napi_call_threadsafe_function(D.events, data, napi_tsfn_nonblocking) != napi_ok) free(data);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  uint64_t *e = data;
  napi_value argv[4], global;
  (void)context;
  if (env && callback && napi_get_global(env, &global) == napi_ok) {
    for (int i = 0; i < 4; i++) napi_create_double(env, (double)e[i], &argv[i]);
    if (napi_call_function(env, global, callback, 4, argv, NULL) == napi_pending_exception) {
      napi_value error;
      napi_get_and_clear_last_exception(env, &error);
      napi_fatal_exception(env, error); /* -> process 'uncaughtException', as for a watchExit callback */
    }
  }
  free(e);
}

static sink_t *find(uint32_t id) {
  for (sink_t *s = D.sinks; s; s = s->next)
    if (s->id == id) return s;
  return NULL;
}

static void make_ready(sink_t *s) {
  if (s->ready) return;
  s->ready = 1;
  s->next_ready = NULL;
  if (D.ready_tail) D.ready_tail->next_ready = s;
  else D.ready = s;
  D.ready_tail = s;
}

static void unready(sink_t *s) {
  sink_t **link = &D.ready, *prev = NULL;
  if (!s->ready) return;
  while (*link != s) prev = *link, link = &(*link)->next_ready;
  *link = s->next_ready;
  if (D.ready_tail == s) D.ready_tail = prev;
  s->ready = 0;
}

static void run(command_t *c) {
  sink_t *s = c->kind == CMD_FLUSH ? NULL : find(c->id), **link;
  switch (c->kind) {
  case CMD_ADD:
    if (!(s = sink_new(c->id, c->fd, c->path, c->max_size, c->keep, c->timestamps))) {
      close(c->fd);
      break;
    }
    c->path = NULL; /* the sink's now */
    s->next = D.sinks;
    D.sinks = s;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.ptr = s};
    epoll_ctl(D.epfd, EPOLL_CTL_ADD, s->fifo, &ev);
    make_ready(s); /* what waits in it already (left by the last supervisor) */
    break;
  case CMD_SET:
    if (s) sink_set(s, c->max_size, c->keep, c->timestamps);
    break;
  case CMD_RELEASE:
    if (!s) break;
    for (link = &D.sinks; *link != s; link = &(*link)->next) {}
    *link = s->next;
    unready(s);
    epoll_ctl(D.epfd, EPOLL_CTL_DEL, s->fifo, NULL);
    s->force = 1;
    sink_drain(s, 1024); /* its last words; bounded, should a process still write */
    sink_free(s);
    break;
  case CMD_FLUSH: /* a partial line waiting near the end of a file stays in its FIFO: nothing is lost */
    for (s = D.sinks; s; s = s->next) sink_drain(s, 1024);
    pthread_mutex_lock(&D.lock);
    if (c->seq > D.flush_done) D.flush_done = c->seq;
    pthread_cond_broadcast(&D.flushed);
    pthread_mutex_unlock(&D.lock);
    break;
  }
  free(c->path);
  free(c);
}

static void run_queued(void) {
  command_t *c;
  pthread_mutex_lock(&D.lock);
  c = D.head;
  D.head = D.tail = NULL;
  pthread_mutex_unlock(&D.lock);
  while (c) {
    command_t *next = c->next;
    run(c);
    c = next;
  }
}

/* When a sink needs a look without an event: a partial line due, or the end of its rate window. 0: never. */
static int64_t due(sink_t *s) {
  int64_t at = s->deferred_since ? s->deferred_since + SINK_DEFER_MS : 0;
  if (s->throttled_until && (!at || s->throttled_until < at)) at = s->throttled_until;
  return at;
}

/* How long epoll may wait: 0 with sinks ready, until the first one due, or forever. */
static int wait_ms(int64_t now) {
  int64_t first = -1;
  if (D.ready) return 0;
  for (sink_t *s = D.sinks; s; s = s->next) {
    int64_t at = due(s);
    if (at && (first < 0 || at - now < first)) first = at - now < 0 ? 0 : at - now;
  }
  return (int)first;
}

/* One chunk of a ready sink, within its rate budget; still ready after it? */
static int turn_of(sink_t *s, int64_t now) {
  if (s->throttled_until > now) return 0; /* its window's budget is spent: woken at its end */
  s->throttled_until = 0;
  if (now - s->window_start >= SINK_WINDOW_MS) s->window_start = now, s->window_bytes = 0;
  if (sink_drain(s, 1) != SINK_MORE) return 0;
  if (s->window_bytes < (int64_t)SINK_RATE / (1000 / SINK_WINDOW_MS)) return 1;
  s->throttled_until = s->window_start + SINK_WINDOW_MS;
  return 0;
}

static void *drain_main(void *arg) {
  struct epoll_event events[64];
  (void)arg;
  for (;;) {
    int n = epoll_wait(D.epfd, events, 64, wait_ms(sink_now_ms())), woken = 0;
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; i++) {
      if (events[i].data.ptr) make_ready(events[i].data.ptr);
      else woken = 1;
    }
    int64_t now = sink_now_ms();
    for (sink_t *s = D.sinks; s; s = s->next) {
      int64_t at = due(s);
      if (!at || at > now) continue;
      if (s->deferred_since && now - s->deferred_since >= SINK_DEFER_MS) s->force = 1;
      make_ready(s);
    }
    /* One chunk each per turn: a flood cannot starve the others. */
    sink_t *turn = D.ready;
    D.ready = D.ready_tail = NULL;
    while (turn) {
      sink_t *s = turn;
      turn = s->next_ready;
      s->ready = 0;
      if (turn_of(s, now)) make_ready(s);
    }
    /* Commands last: a release in them frees a sink that this turn may have pointed at. */
    if (woken) {
      uint64_t value;
      if (read(D.wakefd, &value, sizeof value) < 0) {} /* EAGAIN: another turn took it */
      run_queued();
    }
  }
  return NULL;
}

static int start(void) {
  pthread_t thread;
  pthread_attr_t attr;
  sigset_t all, old;
  if (D.started) return 0;
  tzset(); /* localtime_r in the thread reads TZ once, here */
  if ((D.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) return errno;
  if ((D.wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) return errno;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(D.epfd, EPOLL_CTL_ADD, D.wakefd, &ev) < 0) return errno;
  /* No signal for this thread: they are Node's business. Small stack: it calls nothing deep. */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&thread, &attr, drain_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (r != 0) return r;
  D.started = 1;
  return 0;
}

/* Queue a command for the drain thread. */
static void post(command_t *c) {
  uint64_t one = 1;
  pthread_mutex_lock(&D.lock);
  if (D.tail) D.tail->next = c;
  else D.head = c;
  D.tail = c;
  pthread_mutex_unlock(&D.lock);
  if (write(D.wakefd, &one, sizeof one) < 0) {} /* the counter is already set: woken anyway */
}

static command_t *command(napi_env env, int kind) {
  command_t *c = calloc(1, sizeof *c);
  if (!c) napi_throw_error(env, "ENOMEM", "output: out of memory");
  else c->kind = kind;
  return c;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, "ERR_MISSING_ARGS", "output: missing arguments");
    return 0;
  }
  return 1;
}

/* maxSize, keep, timestamps at argv[0..2]. */
static int get_bounds(napi_env env, napi_value *argv, command_t *c) {
  bool ts = false;
  double max = 0;
  int32_t keep = 0;
  if (napi_get_value_double(env, argv[0], &max) != napi_ok || napi_get_value_int32(env, argv[1], &keep) != napi_ok ||
      napi_get_value_bool(env, argv[2], &ts) != napi_ok || !(max >= SINK_MIN_SIZE) || keep < 1) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "output: maxSize >= 4096, keep >= 1, timestamps boolean");
    return 0;
  }
  c->max_size = (int64_t)max, c->keep = keep, c->timestamps = ts;
  return 1;
}

static napi_value output_add(napi_env env, napi_callback_info info) {
  napi_value argv[5], result;
  command_t *c;
  size_t len;
  int32_t fd;
  if (!get_args(env, info, 5, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0 ||
      napi_get_value_string_utf8(env, argv[1], NULL, 0, &len) != napi_ok || len == 0 || len > PATH_MAX) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "outputAdd(fd, path, maxSize, keep, timestamps)");
    return NULL;
  }
  if (!(c = command(env, CMD_ADD))) return NULL;
  if (!get_bounds(env, argv + 2, c) || !(c->path = malloc(len + 1))) {
    free(c);
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[1], c->path, len + 1, &len);
  int r = start();
  if (r != 0) {
    free(c->path);
    free(c);
    napi_throw_error(env, uv_err_name(-r), "output: cannot start the drain thread");
    return NULL;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  pthread_mutex_lock(&D.lock);
  c->id = ++D.next_id;
  pthread_mutex_unlock(&D.lock);
  c->fd = fd;
  uint32_t id = c->id;
  post(c);
  napi_create_uint32(env, id, &result);
  return result;
}

static napi_value output_set(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  command_t *c;
  if (!get_args(env, info, 4, argv) || !(c = command(env, CMD_SET))) return NULL;
  if (napi_get_value_uint32(env, argv[0], &c->id) != napi_ok || !get_bounds(env, argv + 1, c)) {
    free(c);
    return NULL;
  }
  post(c);
  return NULL;
}

static napi_value output_release(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  command_t *c;
  if (!get_args(env, info, 1, argv) || !(c = command(env, CMD_RELEASE))) return NULL;
  napi_get_value_uint32(env, argv[0], &c->id);
  post(c);
  return NULL;
}

static napi_value output_flush(napi_env env, napi_callback_info info) {
  napi_value argv[1], result;
  double ms = 0;
  command_t *c;
  struct timespec deadline;
  int done = 1;
  if (!get_args(env, info, 1, argv)) return NULL;
  napi_get_value_double(env, argv[0], &ms);
  if (D.started && (c = command(env, CMD_FLUSH))) {
    pthread_mutex_lock(&D.lock);
    uint64_t seq = c->seq = ++D.flush_asked;
    pthread_mutex_unlock(&D.lock);
    post(c);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(ms / 1000);
    deadline.tv_nsec += (long)((ms - 1000.0 * (double)(time_t)(ms / 1000)) * 1e6);
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&D.lock);
    while (D.flush_done < seq && pthread_cond_timedwait(&D.flushed, &D.lock, &deadline) == 0) {}
    done = D.flush_done >= seq;
    pthread_mutex_unlock(&D.lock);
  }
  napi_get_boolean(env, done, &result);
  return result;
}

static napi_value output_events(napi_env env, napi_callback_info info) {
  napi_value argv[1], name;
  if (!get_args(env, info, 1, argv)) return NULL;
  if (D.events) return NULL; /* one listener per process */
  napi_create_string_utf8(env, "proclaunch.output", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[0], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &D.events) != napi_ok) return NULL;
  napi_unref_threadsafe_function(env, D.events); /* never keeps the process alive */
  return NULL;
}

static napi_value make_fifo(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  char path[PATH_MAX + 1];
  size_t len;
  int32_t mode;
  if (!get_args(env, info, 2, argv)) return NULL;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok || len == 0 || len >= PATH_MAX ||
      napi_get_value_int32(env, argv[1], &mode) != napi_ok) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_VALUE", "mkfifo(path, mode)");
    return NULL;
  }
  if (mkfifo(path, (mode_t)mode) != 0) {
    char message[PATH_MAX + 64];
    snprintf(message, sizeof message, "mkfifo %s: %s", path, strerror(errno));
    napi_throw_error(env, uv_err_name(-errno), message);
  }
  return NULL;
}

static napi_value dup_to(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t from, to;
  if (!get_args(env, info, 2, argv)) return NULL;
  napi_get_value_int32(env, argv[0], &from);
  napi_get_value_int32(env, argv[1], &to);
  if (dup2(from, to) < 0) napi_throw_error(env, uv_err_name(-errno), strerror(errno));
  return NULL;
}

napi_status output_init(napi_env env, napi_value exports) {
  napi_property_descriptor properties[] = {
      {"outputAdd", NULL, output_add, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputSet", NULL, output_set, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputRelease", NULL, output_release, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputFlush", NULL, output_flush, NULL, NULL, NULL, napi_enumerable, NULL},
      {"outputEvents", NULL, output_events, NULL, NULL, NULL, napi_enumerable, NULL},
      {"mkfifo", NULL, make_fifo, NULL, NULL, NULL, napi_enumerable, NULL},
      {"dup2", NULL, dup_to, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
}
