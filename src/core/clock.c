/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The system clock (CLOCK_REALTIME / CLOCK_MONOTONIC) and a fake clock for
 * tests, behind one struct so time-dependent code can be driven precisely.
 */
#include <stdio.h>
#include <time.h>

#include "mv_clock.h"

static int64_t ts_us(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t sys_now(const struct mv_clock *c) {
  (void)c;
  return ts_us(CLOCK_REALTIME);
}

static int64_t sys_mono(const struct mv_clock *c) {
  (void)c;
  return ts_us(CLOCK_MONOTONIC);
}

static const struct mv_clock system_clock = {sys_now, sys_mono, NULL};

const struct mv_clock *mv_clock_system(void) {
  return &system_clock;
}

static int64_t fake_now(const struct mv_clock *c) {
  return ((const struct mv_clock_fake *)c->ctx)->t_us;
}

void mv_clock_fake_init(struct mv_clock_fake *f, int64_t start_us) {
  f->clock.now_us = fake_now;
  f->clock.mono_us = fake_now;
  f->clock.ctx = f;
  f->t_us = start_us;
}

void mv_clock_fake_advance(struct mv_clock_fake *f, int64_t d_us) {
  f->t_us += d_us;
}

const char *mv_time_format_rfc3339(int64_t t_us, char *buf, size_t buf_len) {
  int64_t secs = t_us / 1000000;
  int64_t rem = t_us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    secs -= 1;
  }
  time_t tt = (time_t)secs;
  struct tm tm;
  if (!gmtime_r(&tt, &tm)) {
    snprintf(buf, buf_len, "invalid-time");
    return buf;
  }
  snprintf(buf, buf_len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
           tm.tm_sec, (int)(rem / 1000));
  return buf;
}
