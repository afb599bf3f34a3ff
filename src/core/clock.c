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

/* Floor division for the era computations (negative years and days). */
static int64_t floor_div(int64_t a, int64_t b) {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t mv_time_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void mv_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d) {
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int mv_time_days_in_month(int64_t y, int m) {
  static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12)
    return 0;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : dm[m - 1];
}
