/* One bounded output: what a FIFO holds, moved into a file that is rotated by
 * size at line boundaries (see output.c). Runs on the drain thread only.
 *
 * A chunk is peeked (tee into a scratch pipe, read from there), cut into runs
 * of bytes that go to the file as they are, and each run is spliced from the
 * FIFO into the file: what is consumed is exactly what was written. Between
 * runs go the timestamps, the mark of a cut line, and rotations. The file is
 * only ever rotated before a line starts. A partial line is written at once
 * (a prompt shows up) when it fits the file whatever its length turns out to
 * be; near the end of a file it is left in the FIFO until the rest of it comes
 * (or SINK_DEFER_MS have gone by: then it starts a new file). A line longer
 * than the limit (64 KiB, less for a tiny max_size) is cut: the mark ends that
 * piece and the rest goes on as the next line.
 *
 * When the file cannot be written (a full disk, a directory gone), the chunk
 * is dropped rather than left in the pipe, so that the service never blocks
 * on it; the next chunk tries again, and the first one that can be written
 * is preceded by a line saying how much was dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "output-sink.h"

#define CHUNK (64 * 1024)
#define LINE_LIMIT (64 * 1024)
#define TS_LEN 30 /* "2026-11-22T07:41:03.127+00:00 " */
static const char MARK[] = " [proclaunch: line cut]\n";
#define MARK_LEN (sizeof MARK - 1)

static char buf[CHUNK];
static int scratch[2] = {-1, -1};

static int write_all(sink_t *s, const char *text, size_t len) {
  while (len > 0) {
    ssize_t k = write(s->file, text, len);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    s->size += k, text += k, len -= (size_t)k;
    s->need_newline = text[-1] != '\n';
  }
  return 0;
}

static int stamp(sink_t *s) {
  static time_t second = -1;
  static char prefix[24], offset[8];
  char text[TS_LEN + 8];
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if (now.tv_sec != second) { /* localtime_r and strftime once a second, as the supervisor's log does */
    struct tm tm;
    localtime_r(&now.tv_sec, &tm);
    strftime(prefix, sizeof prefix, "%Y-%m-%dT%H:%M:%S", &tm);
    long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
    snprintf(offset, sizeof offset, "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+', off / 3600 % 100, off / 60 % 60);
    second = now.tv_sec;
  }
  snprintf(text, sizeof text, "%s.%03ld%s ", prefix, now.tv_nsec / 1000000, offset);
  return write_all(s, text, strlen(text));
}

static int make_parents(const char *path) {
  char dir[PATH_MAX];
  size_t len = strlen(path);
  if (len >= sizeof dir) return errno = ENAMETOOLONG, -1;
  memcpy(dir, path, len + 1);
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return 0;
}

/* The file at s->path, open; reopened when someone moved or removed it (logrotate, rm). */
static int open_file(sink_t *s) {
  struct stat st;
  char last = '\n';
  if (s->file >= 0) {
    off_t end;
    if (stat(s->path, &st) == 0 && st.st_ino == s->ino && st.st_dev == s->dev && (end = lseek(s->file, 0, SEEK_END)) >= 0) {
      s->size = end; /* someone may have truncated it: never write past the end (no hole) */
      return 0;
    }
    close(s->file);
    s->file = -1;
  }
  int fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0 && errno == ENOENT && make_parents(s->path) == 0) fd = open(s->path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0) return -1;
  off_t end = fstat(fd, &st) < 0 ? -1 : lseek(fd, 0, SEEK_END);
  if (end < 0) {
    int e = errno;
    close(fd);
    return errno = e, -1;
  }
  if (end > 0 && pread(fd, &last, 1, end - 1) != 1) last = '\n';
  s->file = fd, s->dev = st.st_dev, s->ino = st.st_ino, s->size = end, s->need_newline = last != '\n';
  return 0;
}

/* PATH -> PATH.1 -> ... -> PATH.keep (the oldest goes), then a new PATH. */
static int rotate(sink_t *s) {
  char from[PATH_MAX + 16], to[PATH_MAX + 16];
  close(s->file);
  s->file = -1;
  for (int i = s->keep - 1; i >= 0; i--) {
    if (i == 0) snprintf(from, sizeof from, "%s", s->path);
    else snprintf(from, sizeof from, "%s.%d", s->path, i);
    snprintf(to, sizeof to, "%s.%d", s->path, i + 1);
    if (rename(from, to) < 0 && errno != ENOENT) return -1;
  }
  return open_file(s);
}

/* Rotated files beyond `keep`, left by a larger keep: up to PATH.upto, or (upto 0) as far as they go. */
static void remove_beyond(sink_t *s, int upto) {
  char name[PATH_MAX + 16];
  for (int i = s->keep + 1; upto == 0 || i <= upto; i++) {
    snprintf(name, sizeof name, "%s.%d", s->path, i);
    if (unlink(name) < 0 && upto == 0) break;
  }
}

/* A whole line of ours, rotating first if it would not fit. */
static int own_line(sink_t *s, const char *text) {
  size_t len = strlen(text);
  if (s->size > 0 && s->size + (int64_t)len + (s->timestamps ? TS_LEN : 0) > s->max_size && rotate(s) < 0) return -1;
  if (s->timestamps && stamp(s) < 0) return -1;
  return write_all(s, text, len);
}

/* splice the next *run bytes of the FIFO (buf[end - *run .. end)) into the file. */
static int flush(sink_t *s, size_t end, size_t *run) {
  while (*run > 0) {
    ssize_t k = splice(s->fifo, NULL, s->file, NULL, *run, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return k == 0 ? (errno = EIO, -1) : -1;
    *run -= (size_t)k, s->size += k;
    s->need_newline = buf[end - *run - 1] != '\n';
  }
  return 0;
}

/* Consume `len` bytes of the FIFO unwritten. */
static void drop(sink_t *s, size_t len) {
  s->dropped += len;
  while (len > 0) {
    ssize_t k = read(s->fifo, buf, len < sizeof buf ? len : sizeof buf);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    len -= (size_t)k;
  }
}

int sink_out_of_space;

static void fail(sink_t *s, int err, size_t unconsumed) {
  drop(s, unconsumed);
  s->line_len = 0;
  if (err == ENOSPC || err == EDQUOT) sink_out_of_space = 1;
  if (s->failing) return;
  s->failing = 1, s->error = err;
  sink_report(s, SINK_FAILING, err, 0);
}

static int recover(sink_t *s) {
  char note[160];
  if (s->need_newline && write_all(s, "\n", 1) < 0) return -1;
  snprintf(note, sizeof note, "[proclaunch: %llu bytes of output dropped: %s]\n", (unsigned long long)s->dropped, strerror(s->error));
  if (own_line(s, note) < 0) return -1;
  s->failing = 0;
  sink_report(s, SINK_WRITING_AGAIN, 0, s->dropped);
  s->dropped = 0;
  return 0;
}

int64_t sink_now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* SINK_MORE, or SINK_DEFERRED when a partial line was left in the FIFO. */
static int write_chunk(sink_t *s, size_t n) {
  size_t pos = 0, run = 0;
  int64_t limit = s->max_size - TS_LEN - (int64_t)MARK_LEN;
  if (limit > LINE_LIMIT) limit = LINE_LIMIT;
  if (open_file(s) < 0 || (s->failing && recover(s) < 0)) goto failed;
  while (pos < n) {
    if (s->line_len == 0 && !s->timestamps && limit >= CHUNK) {
      /* Fast path (a flood of short lines would cost a loop turn each): the whole lines of the
         chunk, as many as fit. None is over the limit: none is longer than the chunk. */
      const char *last = memrchr(buf + pos, '\n', n - pos);
      int64_t fit = s->max_size - s->size - (int64_t)run;
      size_t whole = last ? (size_t)(last - (buf + pos)) + 1 : 0;
      if (whole > 0 && (int64_t)whole > fit && fit > 0) {
        last = memrchr(buf + pos, '\n', (size_t)fit);
        whole = last ? (size_t)(last - (buf + pos)) + 1 : 0;
      } else if ((int64_t)whole > fit) whole = 0;
      run += whole, pos += whole;
      if (pos == n) break;
    }
    if (s->line_len == 0) {
      /* A line starts: rotate now if it may not fit (its length unknown yet: the most it can take). */
      const char *eol = memchr(buf + pos, '\n', n - pos);
      int64_t len = eol ? eol - (buf + pos) + 1 : 0;
      int64_t need = (s->timestamps ? TS_LEN : 0) + (len > 0 && len <= limit + 1 ? len : limit + (int64_t)MARK_LEN);
      int64_t size = s->size + (int64_t)run;
      if (!eol && (int64_t)(n - pos) < limit && size + need > s->max_size &&
          size + (s->timestamps ? TS_LEN : 0) + (int64_t)(n - pos) <= s->max_size && !s->force) {
        /* A partial line that fits now but may not once whole: wait for the rest, in the FIFO. */
        if (flush(s, pos, &run) < 0) goto failed;
        if (!s->deferred_since) s->deferred_since = sink_now_ms();
        return SINK_DEFERRED;
      }
      if (size > 0 && size + need > s->max_size && (flush(s, pos, &run) < 0 || rotate(s) < 0)) goto failed;
      if (s->timestamps && (flush(s, pos, &run) < 0 || stamp(s) < 0)) goto failed;
    } else if (s->line_len >= limit) {
      if (buf[pos] == '\n') {
        run++, pos++, s->line_len = 0;
        continue;
      }
      if (flush(s, pos, &run) < 0 || write_all(s, MARK, MARK_LEN) < 0) goto failed;
      s->line_len = 0;
      continue;
    }
    size_t room = (size_t)(limit - s->line_len), left = n - pos;
    /* room + 1: the newline may come right after the last byte a line may have */
    const char *eol = memchr(buf + pos, '\n', left < room + 1 ? left : room + 1);
    size_t take = eol ? (size_t)(eol - (buf + pos)) + 1 : left < room ? left : room;
    run += take, pos += take;
    s->line_len = eol ? 0 : s->line_len + (int64_t)take;
  }
  if (flush(s, pos, &run) == 0) return SINK_MORE;
failed:
  fail(s, errno, n - (pos - run));
  return SINK_MORE;
}

/* Up to CHUNK bytes at the head of the FIFO, copied into buf without consuming them. */
static ssize_t peek(sink_t *s) {
  ssize_t n, got = 0;
  if (scratch[0] < 0 && pipe2(scratch, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
  do n = tee(s->fifo, scratch[1], CHUNK, SPLICE_F_NONBLOCK);
  while (n < 0 && errno == EINTR);
  while (got < n) {
    ssize_t k = read(scratch[0], buf + got, (size_t)(n - got));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += k;
  }
  if (got < n) { /* cannot happen; start again with an empty scratch pipe */
    close(scratch[0]), close(scratch[1]);
    scratch[0] = scratch[1] = -1;
    return -1;
  }
  return n;
}

int sink_drain(sink_t *s, int chunks) {
  int r = SINK_MORE;
  while (chunks-- > 0 && r == SINK_MORE) {
    ssize_t n = peek(s);
    if (n <= 0) return SINK_EMPTY;
    s->window_bytes += n;
    r = write_chunk(s, (size_t)n);
  }
  if (r != SINK_DEFERRED) s->deferred_since = 0;
  s->force = 0;
  return r;
}

sink_t *sink_new(uint32_t id, int fifo, char *path, int64_t max_size, int keep, int timestamps) {
  sink_t *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->id = id, s->fifo = fifo, s->file = -1, s->path = path;
  s->max_size = max_size, s->keep = keep, s->timestamps = timestamps;
  remove_beyond(s, 0);
  return s;
}

void sink_set(sink_t *s, int64_t max_size, int keep, int timestamps) {
  int old = s->keep;
  s->max_size = max_size, s->keep = keep, s->timestamps = timestamps;
  if (keep < old) remove_beyond(s, old);
}

void sink_let_go_if_removed(sink_t *s) {
  struct stat st;
  if (s->file < 0 || fstat(s->file, &st) < 0 || st.st_nlink > 0) return;
  close(s->file);
  s->file = -1;
}

void sink_free(sink_t *s) {
  if (s->file >= 0) {
    if (s->need_newline) write_all(s, "\n", 1); /* its process is gone: end its last line */
    close(s->file);
  }
  close(s->fifo);
  free(s->path);
  free(s);
}
