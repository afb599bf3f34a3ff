/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads the long-format count tables of the surveillance datasets (one row
 * per time point and unit: t, [date], unit, observed, [population]) into
 * per-unit series for mv_epi_detect, rejecting what would make a detection
 * silently wrong: negative or fractional counts, gaps or repeats in t,
 * unsorted rows, malformed dates. Also the civil-date arithmetic the dated
 * Farrington reference weeks need (days since 1970-01-01, proleptic
 * Gregorian; the algorithm of H. Hinnant, "chrono-compatible low-level date
 * algorithms").
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_int.h"
#include "mv_csv.h"
#include "mv_limits.h"

struct unit {
  char *name;
  double *obs;
  double *pop;
  int32_t *date;
  size_t n, cap;
  long long last_t;
  int start_epoch;
};

struct mv_epi_panel {
  struct unit *units;
  size_t n, cap;
  size_t *hash; /* open addressing: unit index + 1, 0 = empty */
  size_t hcap;
  bool dated, has_pop;
  int freq;
};

/* ---- dates ---------------------------------------------------------------
 */

static int32_t days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return (int32_t)(era * 146097 + (long long)doe - 719468);
}

static void civil_from_days(int32_t z0, long long *y, unsigned *m,
                            unsigned *d) {
  long long z = (long long)z0 + 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long yy = (long long)yoe + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

static bool leap(long long y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int mv_epi_date_parse(const char *s, int32_t *out_days) {
  if (!s || !out_days || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return MV_EPARSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
      return MV_EPARSE;
  long long y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
                (s[3] - '0');
  unsigned m = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
  unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
  static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1)
    return MV_EPARSE;
  unsigned maxd = mdays[m - 1] + (m == 2 && leap(y));
  if (d > maxd)
    return MV_EPARSE;
  *out_days = days_from_civil(y, m, d);
  return MV_OK;
}

void mv_epi_date_format(int32_t days, char *buf, size_t len) {
  long long y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  snprintf(buf, len, "%04lld-%02u-%02u", y, m, d);
}

/* R's seq(date, by = "-1 year") element i: the year field decremented by
 * i, the day normalised as mktime does (29 Feb -> 1 Mar). */
int32_t mv__epi_date_minus_years(int32_t days, int years) {
  long long y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  y -= years;
  if (m == 2 && d == 29 && !leap(y))
    return days_from_civil(y, 3, 1);
  return days_from_civil(y, m, d);
}

/* ---- panel ---------------------------------------------------------------
 */

void mv_epi_panel_free(struct mv_epi_panel *p) {
  if (!p)
    return;
  for (size_t i = 0; i < p->n; i++) {
    free(p->units[i].name);
    free(p->units[i].obs);
    free(p->units[i].pop);
    free(p->units[i].date);
  }
  free(p->units);
  free(p->hash);
  free(p);
}

size_t mv_epi_panel_count(const struct mv_epi_panel *p) {
  return p ? p->n : 0;
}

const char *mv_epi_panel_unit(const struct mv_epi_panel *p, size_t i) {
  return p && i < p->n ? p->units[i].name : NULL;
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ull;
  }
  return h;
}

long mv_epi_panel_find(const struct mv_epi_panel *p, const char *name) {
  if (!p || !name || !p->hcap)
    return -1;
  size_t mask = p->hcap - 1;
  for (size_t h = hash_str(name) & mask;; h = (h + 1) & mask) {
    size_t v = p->hash[h];
    if (!v)
      return -1;
    if (strcmp(p->units[v - 1].name, name) == 0)
      return (long)(v - 1);
  }
}

int mv_epi_panel_series(const struct mv_epi_panel *p, size_t i,
                        struct mv_epi_series *out) {
  if (!p || !out || i >= p->n)
    return MV_EINVAL;
  const struct unit *u = &p->units[i];
  out->observed = u->obs;
  out->population = p->has_pop ? u->pop : NULL;
  out->date_days = p->dated ? u->date : NULL;
  out->n = u->n;
  out->freq = p->freq;
  out->start_epoch = u->start_epoch;
  return MV_OK;
}

static int rehash(struct mv_epi_panel *p) {
  size_t ncap = p->hcap ? p->hcap * 2 : 64;
  size_t *nh = calloc(ncap, sizeof(*nh));
  if (!nh)
    return MV_ENOMEM;
  for (size_t i = 0; i < p->n; i++) {
    size_t h = hash_str(p->units[i].name) & (ncap - 1);
    while (nh[h])
      h = (h + 1) & (ncap - 1);
    nh[h] = i + 1;
  }
  free(p->hash);
  p->hash = nh;
  p->hcap = ncap;
  return MV_OK;
}

static int add_unit(struct mv_epi_panel *p, const char *name, size_t *out) {
  if (p->n >= MV_LIMIT_EPI_UNITS)
    return MV_ETOOBIG;
  if (p->n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 8;
    struct unit *nu = realloc(p->units, nc * sizeof(*nu));
    if (!nu)
      return MV_ENOMEM;
    p->units = nu;
    p->cap = nc;
  }
  struct unit *u = &p->units[p->n];
  memset(u, 0, sizeof(*u));
  u->name = strdup(name);
  if (!u->name)
    return MV_ENOMEM;
  u->start_epoch = 1;
  p->n++;
  if ((p->n * 2 > p->hcap) && rehash(p) != MV_OK)
    return MV_ENOMEM;
  size_t mask = p->hcap - 1, h = hash_str(name) & mask;
  while (p->hash[h] && p->hash[h] != p->n)
    h = (h + 1) & mask;
  p->hash[h] = p->n;
  *out = p->n - 1;
  return MV_OK;
}

static int push(struct unit *u, double obs, double pop, int32_t date) {
  if (u->n >= MV_LIMIT_EPI_POINTS)
    return MV_ETOOBIG;
  if (u->n == u->cap) {
    size_t nc = u->cap ? u->cap * 2 : 64;
    double *no = realloc(u->obs, nc * sizeof(*no));
    if (!no)
      return MV_ENOMEM;
    u->obs = no;
    double *np = realloc(u->pop, nc * sizeof(*np));
    if (!np)
      return MV_ENOMEM;
    u->pop = np;
    int32_t *nd = realloc(u->date, nc * sizeof(*nd));
    if (!nd)
      return MV_ENOMEM;
    u->date = nd;
    u->cap = nc;
  }
  u->obs[u->n] = obs;
  u->pop[u->n] = pop;
  u->date[u->n] = date;
  u->n++;
  return MV_OK;
}

/* A whole-field number; "NA" (and empty) -> NAN with *na set. */
static bool parse_num(const char *f, double *out, bool *na) {
  *na = false;
  if (f[0] == '\0' || strcmp(f, "NA") == 0) {
    *na = true;
    *out = NAN;
    return true;
  }
  char *end;
  errno = 0;
  double v = strtod(f, &end);
  if (end == f || *end != '\0' || errno == ERANGE || isnan(v) || isinf(v))
    return false;
  *out = v;
  return true;
}

static int perr(struct mv_diag *diag, const char *name, size_t line,
                const char *msg) {
  mv_diag_set(diag, MV_EPARSE, "%s", msg);
  mv_diag_set_path(diag, name);
  if (diag)
    diag->line = (int)line;
  return MV_EPARSE;
}

static int infer_freq(struct mv_epi_panel *p, long max_epoch) {
  if (p->dated && p->n > 0 && p->units[0].n >= 2) {
    int32_t d = p->units[0].date[1] - p->units[0].date[0];
    if (d == 1)
      return 365;
    if (d == 7)
      return 52;
    if (d >= 28 && d <= 31)
      return 12;
    return 52;
  }
  return max_epoch > 53 ? 365 : 52;
}

/* Column positions of the header (-1 = absent) and parsing state. */
struct reader {
  const char *name;
  long t, unit, obs, date, pop, epoch, need;
  long max_epoch;
  size_t last_unit;
};

static int read_header(struct reader *r, char **f, size_t nf, size_t line,
                       struct mv_diag *diag) {
  r->t = mv_csv_find(f, nf, "t");
  r->unit = mv_csv_find(f, nf, "unit");
  r->obs = mv_csv_find(f, nf, "observed");
  if (r->obs < 0) /* campyDE's `case`, EpiEstim's `I` */
    r->obs = mv_csv_find(f, nf, "case");
  if (r->obs < 0)
    r->obs = mv_csv_find(f, nf, "I");
  r->date = mv_csv_find(f, nf, "date");
  r->pop = mv_csv_find(f, nf, "population");
  r->epoch = mv_csv_find(f, nf, "epoch_in_year");
  if (r->t < 0 || r->obs < 0)
    return perr(diag, r->name, line,
                "header must name the columns t and observed");
  const long cols[] = {r->t, r->unit, r->obs, r->date, r->pop, r->epoch};
  r->need = 0;
  for (size_t i = 0; i < MV_ARRAY_LEN(cols); i++)
    if (cols[i] > r->need)
      r->need = cols[i];
  r->last_unit = (size_t)-1;
  return MV_OK;
}

/* The unit a row belongs to (created on first sight). */
static int row_unit(struct mv_epi_panel *p, struct reader *r, char **f,
                    size_t line, size_t *out, struct mv_diag *diag) {
  const char *uname = r->unit >= 0 ? f[r->unit] : "observed1";
  if (strlen(uname) >= MV_LIMIT_EPI_UNIT_NAME || uname[0] == '\0')
    return perr(diag, r->name, line, "unit: empty or too long name");
  if (r->last_unit != (size_t)-1 &&
      strcmp(p->units[r->last_unit].name, uname) == 0) {
    *out = r->last_unit;
    return MV_OK;
  }
  long found = mv_epi_panel_find(p, uname);
  if (found >= 0) {
    *out = r->last_unit = (size_t)found;
    return MV_OK;
  }
  int rc = add_unit(p, uname, out);
  if (rc == MV_ETOOBIG) {
    mv_diag_set(diag, rc, "more than %u units", MV_LIMIT_EPI_UNITS);
    mv_diag_set_path(diag, r->name);
    if (diag)
      diag->line = (int)line;
  }
  r->last_unit = *out;
  return rc;
}

/* One data row: validate t (sorted, no gaps), the count, population and
 * date, then append to its unit. */
static int read_row(struct mv_epi_panel *p, struct reader *r, char **f,
                    size_t nf, size_t line, struct mv_diag *diag) {
  const char *name = r->name;
  if ((long)nf <= r->need)
    return perr(diag, name, line, "row has too few fields");
  size_t ui;
  int rc = row_unit(p, r, f, line, &ui, diag);
  if (rc != MV_OK)
    return rc;
  struct unit *u = &p->units[ui];
  double tv, obs, pop = NAN;
  bool na;
  if (!parse_num(f[r->t], &tv, &na) || na || tv != floor(tv) || tv < 1 ||
      tv > 1e12)
    return perr(diag, name, line, "t: not a positive integer");
  long long t = (long long)tv;
  if (t <= u->last_t)
    return perr(diag, name, line,
                "t: rows are not sorted by t within the unit (or t is "
                "repeated)");
  if (t != u->last_t + 1)
    return perr(diag, name, line,
                u->last_t == 0 ? "t: a unit's series must start at t = 1"
                               : "t: gap in time (a time point is missing)");
  if (!parse_num(f[r->obs], &obs, &na) ||
      (!na && (obs < 0 || obs != floor(obs))))
    return perr(diag, name, line,
                "observed: count must be a non-negative integer or NA");
  if (!na && obs > MV_LIMIT_EPI_COUNT)
    return perr(diag, name, line,
                "observed: count above the limit of 1000000000");
  if (r->pop >= 0 && (!parse_num(f[r->pop], &pop, &na) || (!na && pop < 0)))
    return perr(diag, name, line,
                "population: must be a non-negative number or NA");
  int32_t date = 0;
  if (r->date >= 0) {
    if (mv_epi_date_parse(f[r->date], &date) != MV_OK)
      return perr(diag, name, line, "date: expected YYYY-MM-DD");
    if (u->n > 0 && date <= u->date[u->n - 1])
      return perr(diag, name, line,
                  "date: dates must increase with t within a unit");
  }
  double ev;
  if (r->epoch >= 0 && parse_num(f[r->epoch], &ev, &na) && !na &&
      ev == floor(ev) && ev >= 1 && ev <= 1000) {
    if ((long)ev > r->max_epoch)
      r->max_epoch = (long)ev;
    if (u->n == 0)
      u->start_epoch = (int)ev;
  }
  rc = push(u, obs, pop, date);
  if (rc == MV_ETOOBIG) {
    mv_diag_set(diag, rc, "more than %u time points in one unit",
                MV_LIMIT_EPI_POINTS);
    mv_diag_set_path(diag, name);
    if (diag)
      diag->line = (int)line;
  }
  if (rc == MV_OK)
    u->last_t = t;
  return rc;
}

int mv_epi_panel_parse(const char *text, size_t len, const char *name,
                       struct mv_epi_panel **out, struct mv_diag *diag) {
  struct mv_csv *c = NULL;
  struct mv_epi_panel *p = NULL;
  struct reader r = {.name = name ? name : "input"};
  int rc;
  char **f;
  size_t nf;
  if (!out || (!text && len))
    return MV_EINVAL;
  p = calloc(1, sizeof(*p));
  if (!p)
    return MV_ENOMEM;
  rc = mv_csv_open_mem(text ? text : "", len, &c);
  if (rc != MV_OK)
    goto out;
  rc = mv_csv_next(c, &f, &nf, diag);
  if (rc == MV_ENOTFOUND) {
    rc = perr(diag, r.name, 1, "empty file: no header");
    goto out;
  }
  if (rc == MV_OK)
    rc = read_header(&r, f, nf, mv_csv_line(c), diag);
  if (rc != MV_OK)
    goto out;
  p->dated = r.date >= 0;
  p->has_pop = r.pop >= 0;
  while ((rc = mv_csv_next(c, &f, &nf, diag)) == MV_OK) {
    rc = read_row(p, &r, f, nf, mv_csv_line(c), diag);
    if (rc != MV_OK)
      goto out;
  }
  if (rc != MV_ENOTFOUND)
    goto out;
  if (p->n == 0) {
    rc = perr(diag, r.name, 1, "no data rows");
    goto out;
  }
  p->freq = infer_freq(p, r.max_epoch);
  rc = MV_OK;
out:
  if (rc != MV_OK && diag && !diag->path[0])
    mv_diag_set_path(diag, r.name);
  mv_csv_free(c);
  if (rc != MV_OK) {
    mv_epi_panel_free(p);
    return rc;
  }
  *out = p;
  return MV_OK;
}
