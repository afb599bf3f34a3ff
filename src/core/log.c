/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process logging. Each call formats one complete line into a fixed stack
 * buffer (MV_LIMIT_LOG_LINE bytes including the newline), escaping control
 * characters so a message can never forge a second line, and writes it with
 * one fwrite under one mutex so concurrent lines never interleave. Text lines
 * look like "2026-11-24T23:02:21.123Z INFO  net: message"; JSON lines are one
 * object {"ts","level","component","msg"} per line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mv_clock.h"
#include "mv_err.h"
#include "mv_limits.h"
#include "mv_log.h"

/* Level and format are read on every call, often from threads that then
 * decide not to log at all, so they are atomics rather than mutex-guarded. */
static atomic_int g_level = MV_LOG_INFO;
static atomic_bool g_json = false;
/* The output stream is only touched with g_mu held. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *g_out = NULL; /* NULL means stderr */

/* UTF-8 for U+2026 HORIZONTAL ELLIPSIS, appended to cut messages. */
static const char TRUNC_MARK[] = "\xe2\x80\xa6";

static const char *const level_text[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
static const char *const level_json[] = {"debug", "info", "warn", "error"};

void mv_log_set_level(enum mv_log_level level) {
  if (level < MV_LOG_DEBUG || level > MV_LOG_OFF)
    return;
  atomic_store(&g_level, (int)level);
}

enum mv_log_level mv_log_get_level(void) {
  return (enum mv_log_level)atomic_load(&g_level);
}

void mv_log_set_json(bool json) {
  atomic_store(&g_json, json);
}

void mv_log_set_output(FILE *out) {
  pthread_mutex_lock(&g_mu);
  g_out = out;
  pthread_mutex_unlock(&g_mu);
}

int mv_log_level_parse(const char *s, enum mv_log_level *out_level) {
  static const struct {
    const char *name;
    enum mv_log_level level;
  } names[] = {{"debug", MV_LOG_DEBUG},
               {"info", MV_LOG_INFO},
               {"warn", MV_LOG_WARN},
               {"error", MV_LOG_ERROR},
               {"off", MV_LOG_OFF}};
  if (!s || !out_level)
    return MV_EINVAL;
  for (size_t i = 0; i < MV_ARRAY_LEN(names); i++) {
    if (strcasecmp(s, names[i].name) == 0) {
      *out_level = names[i].level;
      return MV_OK;
    }
  }
  return MV_EINVAL;
}

/* A line under construction; len never passes cap. */
struct line {
  char *p;
  size_t len;
  size_t cap;
};

static void put(struct line *l, const char *s, size_t n) {
  if (n > l->cap - l->len)
    n = l->cap - l->len;
  memcpy(l->p + l->len, s, n);
  l->len += n;
}

static void puts_(struct line *l, const char *s) {
  put(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence starting at s[0] (RFC 3629 table 3:
 * no overlongs, no surrogates, nothing past U+10FFFF), or 0 if invalid or
 * cut off by the end of the input. */
static size_t utf8_seq_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else
    return 0;
  if (n < len)
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < len; i++)
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  return len;
}

/* Escaped form of one byte that must not appear raw: JSON needs \uXXXX
 * (with the short forms), text uses C-style escapes. Invalid UTF-8 becomes
 * U+FFFD in JSON so the line stays valid JSON, and \xHH in text so the
 * original byte is still visible to whoever debugs it. */
static size_t escape_byte(unsigned char c, bool json, bool invalid,
                          char out[8]) {
  switch (c) {
  case '\n':
    memcpy(out, "\\n", 2);
    return 2;
  case '\r':
    memcpy(out, "\\r", 2);
    return 2;
  case '\t':
    memcpy(out, "\\t", 2);
    return 2;
  case '\\':
    memcpy(out, "\\\\", 2);
    return 2;
  case '"':
    if (json) {
      memcpy(out, "\\\"", 2);
      return 2;
    }
    out[0] = '"';
    return 1;
  default:
    break;
  }
  if (json && invalid)
    return (size_t)snprintf(out, 8, "\\ufffd");
  if (json)
    return (size_t)snprintf(out, 8, "\\u%04x", c);
  return (size_t)snprintf(out, 8, "\\x%02x", c);
}

/* Append s[0..n) escaped, stopping before `limit` bytes of the line. Returns
 * false if some of s did not fit. Whole UTF-8 sequences and whole escapes
 * are copied or not at all, so a cut never leaves half a character. If
 * `cut_input` is set, s itself was truncated and a trailing incomplete
 * sequence is dropped instead of being shown as invalid bytes. */
static bool put_escaped(struct line *l, const char *s, size_t n, bool json,
                        size_t limit, bool cut_input) {
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    char esc[8];
    const char *piece;
    size_t plen;
    size_t seq = utf8_seq_len(u + i, n - i);
    if (seq == 0 && cut_input && u[i] >= 0xc2 && u[i] <= 0xf4 && n - i < 4)
      return true; /* the caller reports the cut via its own flag */
    if (seq == 1 &&
        (u[i] < 0x20 || u[i] == 0x7f || u[i] == '\\' || u[i] == '"')) {
      plen = escape_byte(u[i], json, false, esc);
      piece = esc;
    } else if (seq == 0) {
      plen = escape_byte(u[i], json, true, esc);
      piece = esc;
      seq = 1;
    } else if (seq == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0) {
      /* C1 controls (U+0080..U+009F): some terminals act on them (0x9b is
       * CSI) and U+0085 is a line break to some readers. */
      plen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", u[i + 1]);
      piece = esc;
    } else {
      piece = s + i;
      plen = seq;
    }
    if (l->len + plen > limit)
      return false;
    put(l, piece, plen);
    i += seq;
  }
  return true;
}

static void vlog(enum mv_log_level level, const char *component,
                 const char *fmt, va_list ap) MV_PRINTF(3, 0);

static void vlog(enum mv_log_level level, const char *component,
                 const char *fmt, va_list ap) {
  char msg[MV_LIMIT_LOG_LINE];
  char buf[MV_LIMIT_LOG_LINE];
  char ts[40];
  struct line l = {buf, 0, sizeof(buf)};
  bool json = atomic_load(&g_json);
  /* Room kept back for the marker, the JSON closing `"}` and the newline. */
  const size_t tail = (sizeof(TRUNC_MARK) - 1) + 2 + 1;
  const size_t limit = sizeof(buf) - tail;

  int w = vsnprintf(msg, sizeof(msg), fmt, ap);
  bool cut = false;
  size_t msg_len;
  if (w < 0) {
    /* An encoding error in the arguments; log that rather than nothing. */
    snprintf(msg, sizeof(msg), "(unformattable log message)");
    msg_len = strlen(msg);
  } else if ((size_t)w >= sizeof(msg)) {
    msg_len = sizeof(msg) - 1;
    cut = true;
  } else {
    msg_len = (size_t)w;
  }
  if (!component)
    component = "-";
  /* Components are short static names; the bound only keeps a misuse from
   * crowding out the message (and the JSON framing) entirely. */
  const size_t comp_room = 128;

  mv_time_format_rfc3339(mv_clock_now_us(mv_clock_system()), ts, sizeof(ts));
  if (json) {
    puts_(&l, "{\"ts\":\"");
    puts_(&l, ts);
    puts_(&l, "\",\"level\":\"");
    puts_(&l, level_json[level]);
    puts_(&l, "\",\"component\":\"");
    if (!put_escaped(&l, component, strlen(component), true, l.len + comp_room,
                     false))
      cut = true;
    puts_(&l, "\",\"msg\":\"");
  } else {
    puts_(&l, ts);
    puts_(&l, " ");
    puts_(&l, level_text[level]);
    puts_(&l, " ");
    if (!put_escaped(&l, component, strlen(component), false, l.len + comp_room,
                     false))
      cut = true;
    puts_(&l, ": ");
  }
  if (!put_escaped(&l, msg, msg_len, json, limit, cut))
    cut = true;
  if (cut)
    puts_(&l, TRUNC_MARK);
  if (json)
    puts_(&l, "\"}");
  puts_(&l, "\n");

  pthread_mutex_lock(&g_mu);
  FILE *out = g_out ? g_out : stderr;
  fwrite(l.p, 1, l.len, out);
  fflush(out);
  pthread_mutex_unlock(&g_mu);
}

void mv_log(enum mv_log_level level, const char *component, const char *fmt,
            ...) {
  if (level < MV_LOG_DEBUG || level >= MV_LOG_OFF || !fmt)
    return;
  if ((int)level < atomic_load(&g_level))
    return;
  /* Logging from an error path must not disturb the errno being reported. */
  int saved_errno = errno;
  va_list ap;
  va_start(ap, fmt);
  vlog(level, component, fmt, ap);
  va_end(ap);
  errno = saved_errno;
}
