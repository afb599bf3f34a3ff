/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 date, dateTime and instant (FHIR R4 §2.24.0.1 "Primitive Types")
 * turned into the range of microseconds since the Unix epoch they cover, and
 * instants formatted back. A partial date covers its whole period ("2020"
 * is every µs of 2020); a time zone offset is applied to reach UTC. The
 * grammar is the one of the FHIR regular expressions, checked character by
 * character, plus calendar checks the expressions cannot express (Feb 29
 * only in leap years, no April 31).
 */
#include <stdio.h>
#include <string.h>

#include "mv_clock.h"
#include "mv_fhir.h"

#define US_PER_S INT64_C(1000000)
#define US_PER_MIN (60 * US_PER_S)
#define US_PER_DAY (86400 * US_PER_S)

/* What a string holds, field by field, before any arithmetic. */
struct dt_fields {
  int year, month, day, hour, min, sec;
  int64_t frac_us; /* fraction of a second, truncated to µs */
  int frac_digits; /* 0 when no fraction */
  int zone_min;    /* offset east of UTC in minutes */
  enum mv_fhir_date_prec prec;
};

static bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Exactly n decimal digits at *p; advances p. -1 when not digits. */
static int digits(const char **p, int n) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    char c = (*p)[i];
    if (c < '0' || c > '9')
      return -1;
    v = v * 10 + (c - '0');
  }
  *p += n;
  return v;
}

/* "Z" or "+hh:mm" / "-hh:mm" with FHIR's bounds (-14:00..+14:00). */
static int parse_zone(const char **p, int *out_min) {
  const char *s = *p;
  if (*s == 'Z') {
    *out_min = 0;
    *p = s + 1;
    return MV_OK;
  }
  if (*s != '+' && *s != '-')
    return MV_EINVAL;
  int sign = *s == '-' ? -1 : 1;
  s++;
  int hh = digits(&s, 2);
  if (hh < 0 || *s != ':')
    return MV_EINVAL;
  s++;
  int mm = digits(&s, 2);
  if (mm < 0 || mm > 59 || hh > 14 || (hh == 14 && mm != 0))
    return MV_EINVAL;
  *out_min = sign * (hh * 60 + mm);
  *p = s;
  return MV_OK;
}

/* The time part after 'T': hh:mm[:ss[.f+]][zone]. Minutes-only and a
 * missing zone are allowed for search values only. */
static int parse_time(const char *s, enum mv_fhir_date_kind kind,
                      struct dt_fields *f) {
  bool search = kind == MV_FHIR_SEARCH;
  if ((f->hour = digits(&s, 2)) < 0 || f->hour > 23 || *s++ != ':')
    return MV_EINVAL;
  if ((f->min = digits(&s, 2)) < 0 || f->min > 59)
    return MV_EINVAL;
  f->prec = MV_FHIR_PREC_MINUTE;
  if (*s == ':') {
    s++;
    /* 60 is a leap second, which the FHIR expression allows. */
    if ((f->sec = digits(&s, 2)) < 0 || f->sec > 60)
      return MV_EINVAL;
    f->prec = MV_FHIR_PREC_SECOND;
    if (*s == '.') {
      s++;
      int n = 0;
      f->frac_us = 0;
      while (*s >= '0' && *s <= '9') {
        if (n < 6)
          f->frac_us = f->frac_us * 10 + (*s - '0');
        n++;
        s++;
      }
      if (n == 0 || n > 9)
        return MV_EINVAL;
      for (int i = n; i < 6; i++)
        f->frac_us *= 10;
      f->frac_digits = n;
      f->prec = MV_FHIR_PREC_FRACTION;
    }
  } else if (!search) {
    return MV_EINVAL; /* dateTime and instant need seconds */
  }
  if (*s == '\0') {
    if (!search)
      return MV_EINVAL; /* a time needs a zone outside search */
    f->zone_min = 0;
    return MV_OK;
  }
  if (parse_zone(&s, &f->zone_min) != MV_OK || *s != '\0')
    return MV_EINVAL;
  return MV_OK;
}

static int parse_fields(const char *s, enum mv_fhir_date_kind kind,
                        struct dt_fields *f) {
  memset(f, 0, sizeof(*f));
  f->month = f->day = 1;
  if ((f->year = digits(&s, 4)) < 1)
    return MV_EINVAL; /* also rejects year 0000 */
  f->prec = MV_FHIR_PREC_YEAR;
  if (*s == '-') {
    s++;
    if ((f->month = digits(&s, 2)) < 1 || f->month > 12)
      return MV_EINVAL;
    f->prec = MV_FHIR_PREC_MONTH;
    if (*s == '-') {
      s++;
      if ((f->day = digits(&s, 2)) < 1 ||
          f->day > mv_time_days_in_month(f->year, f->month))
        return MV_EINVAL;
      f->prec = MV_FHIR_PREC_DAY;
    }
  }
  if (*s == '\0')
    return kind == MV_FHIR_INSTANT ? MV_EINVAL : MV_OK;
  if (*s != 'T' || f->prec != MV_FHIR_PREC_DAY || kind == MV_FHIR_DATE)
    return MV_EINVAL;
  return parse_time(s + 1, kind, f);
}

/* The length in µs of the period a value of this precision covers. */
static int64_t period_us(const struct dt_fields *f) {
  switch (f->prec) {
  case MV_FHIR_PREC_YEAR:
    return (is_leap(f->year) ? 366 : 365) * US_PER_DAY;
  case MV_FHIR_PREC_MONTH:
    return mv_time_days_in_month(f->year, f->month) * US_PER_DAY;
  case MV_FHIR_PREC_DAY:
    return US_PER_DAY;
  case MV_FHIR_PREC_MINUTE:
    return US_PER_MIN;
  case MV_FHIR_PREC_SECOND:
    return US_PER_S;
  case MV_FHIR_PREC_FRACTION:
    break;
  }
  /* ".5" covers 500 ms; beyond 6 digits the period is below 1 µs. */
  int64_t p = 1;
  for (int i = f->frac_digits; i < 6; i++)
    p *= 10;
  return p;
}

int mv_fhir_date_parse(const char *s, enum mv_fhir_date_kind kind,
                       int64_t *out_lo_us, int64_t *out_hi_us,
                       enum mv_fhir_date_prec *out_prec) {
  struct dt_fields f;
  if (!s || parse_fields(s, kind, &f) != MV_OK)
    return MV_EINVAL;
  int64_t lo = mv_time_days_from_civil(f.year, f.month, f.day) * US_PER_DAY +
               (int64_t)f.hour * 3600 * US_PER_S + (int64_t)f.min * US_PER_MIN +
               (int64_t)f.sec * US_PER_S + f.frac_us -
               (int64_t)f.zone_min * US_PER_MIN;
  if (out_lo_us)
    *out_lo_us = lo;
  if (out_hi_us)
    *out_hi_us = lo + period_us(&f) - 1;
  if (out_prec)
    *out_prec = f.prec;
  return MV_OK;
}

int mv_fhir_instant_format(int64_t t_us, char *out, size_t cap) {
  if (!out || cap < 25)
    return MV_EINVAL;
  /* Floor division, so times before 1970 land on the right day; written
   * without days * US_PER_DAY, which overflows near INT64_MIN. */
  int64_t days = t_us / US_PER_DAY, rem = t_us % US_PER_DAY;
  if (rem < 0) {
    rem += US_PER_DAY;
    days--;
  }
  int64_t y;
  int m, d;
  mv_time_civil_from_days(days, &y, &m, &d);
  if (y < 1 || y > 9999)
    return MV_ERANGE;
  int64_t s = rem / US_PER_S;
  snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, m, d,
           (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60),
           (int)(rem % US_PER_S / 1000));
  return MV_OK;
}
