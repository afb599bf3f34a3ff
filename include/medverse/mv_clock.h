/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Injectable clock. Code that needs time takes a `const struct mv_clock *`,
 * so tests can drive alert timers, watchdogs and group-commit deadlines with
 * a fake clock instead of sleeping.
 */
#ifndef MV_CLOCK_H
#define MV_CLOCK_H

#include "mv_common.h"

struct mv_clock {
  /* Wall-clock time in microseconds since the Unix epoch (UTC). */
  int64_t (*now_us)(const struct mv_clock *c);
  /* Monotonic time in microseconds from an arbitrary origin. */
  int64_t (*mono_us)(const struct mv_clock *c);
  void *ctx;
};

/* The process-wide system clock (static, never freed). */
MV_API const struct mv_clock *mv_clock_system(void);

static inline int64_t mv_clock_now_us(const struct mv_clock *c) {
  return c->now_us(c);
}
static inline int64_t mv_clock_mono_us(const struct mv_clock *c) {
  return c->mono_us(c);
}

/* A fake clock for tests: both readings return t_us, which only moves when
 * the test calls mv_clock_fake_advance(). Embedded in the caller's frame. */
struct mv_clock_fake {
  struct mv_clock clock;
  int64_t t_us;
};
MV_API void mv_clock_fake_init(struct mv_clock_fake *f, int64_t start_us);
MV_API void mv_clock_fake_advance(struct mv_clock_fake *f, int64_t d_us);

/* Format t_us as RFC 3339 UTC with millisecond precision
 * ("2026-11-24T23:02:21.123Z") into buf (at least 32 bytes). */
MV_API const char *mv_time_format_rfc3339(int64_t t_us, char *buf,
                                          size_t buf_len);

/* Proleptic Gregorian calendar arithmetic without time-zone state (H.
 * Hinnant, "chrono-Compatible Low-Level Date Algorithms"): days since
 * 1970-01-01 of y-m-d (m 1..12, d 1..31; any year), its inverse, and the
 * length of a month (0 when m is out of 1..12). */
MV_API int64_t mv_time_days_from_civil(int64_t y, int m, int d);
MV_API void mv_time_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
MV_API int mv_time_days_in_month(int64_t y, int m);

#endif
