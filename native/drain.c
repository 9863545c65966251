/* The drain thread of bounded output: one for every service's FIFO.
 *
 * The FIFOs are watched edge-triggered, each ready one given a chunk per turn
 * (a flood cannot starve the others) until it is empty or has spent its rate
 * budget for the window (SINK_RATE: then it waits for the next one, its
 * writer blocked on the full FIFO); a partial line left waiting in one
 * (output-sink.c) is looked at again when more comes, or after SINK_DEFER_MS.
 * The sinks are this thread's alone; the main thread talks to it through a
 * queue of commands and an eventfd. (Draining on the event loop instead,
 * uv_poll per FIFO, was measured too: bench/drain-mechanisms.mjs, README.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "drain.h"
#include "output-sink.h"

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
  int64_t last_sweep;         /* ms: the last look for removed files on a full disk */
} D = {.lock = PTHREAD_MUTEX_INITIALIZER, .flushed = PTHREAD_COND_INITIALIZER};

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
    /* A full disk: what was removed but is still held open by us (a stopped service's rm'ed log) goes
       back to it, at most once a window, so that the others' output can resume. */
    if (sink_out_of_space && now - D.last_sweep >= SINK_WINDOW_MS) {
      sink_out_of_space = 0, D.last_sweep = now;
      for (sink_t *s = D.sinks; s; s = s->next) sink_let_go_if_removed(s);
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

int drain_start(void) {
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

void drain_post(command_t *c) {
  uint64_t one = 1;
  pthread_mutex_lock(&D.lock);
  if (D.tail) D.tail->next = c;
  else D.head = c;
  D.tail = c;
  pthread_mutex_unlock(&D.lock);
  if (write(D.wakefd, &one, sizeof one) < 0) {} /* the counter is already set: woken anyway */
}

int drain_started(void) { return D.started; }

uint32_t drain_new_id(void) {
  pthread_mutex_lock(&D.lock);
  uint32_t id = ++D.next_id;
  pthread_mutex_unlock(&D.lock);
  return id;
}

int drain_flush(command_t *c, double ms) {
  struct timespec deadline;
  int done;
  pthread_mutex_lock(&D.lock);
  uint64_t seq = c->seq = ++D.flush_asked;
  pthread_mutex_unlock(&D.lock);
  drain_post(c);
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += (time_t)(ms / 1000);
  deadline.tv_nsec += (long)((ms - 1000.0 * (double)(time_t)(ms / 1000)) * 1e6);
  if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
  pthread_mutex_lock(&D.lock);
  while (D.flush_done < seq && pthread_cond_timedwait(&D.flushed, &D.lock, &deadline) == 0) {}
  done = D.flush_done >= seq;
  pthread_mutex_unlock(&D.lock);
  return done;
}
