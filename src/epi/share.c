/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aggregation of case reports into region x period tables (day or ISO 8601
 * week) and their preparation for sharing with other sites: small counts are
 * suppressed (primary suppression) and further cells are suppressed so that
 * published margins cannot be used to recover them (complementary or
 * secondary suppression, the cell-suppression method of statistical
 * disclosure control; Hundepool et al., Statistical Disclosure Control,
 * Wiley 2012, ch. 4). The receiving side cannot tell primary from secondary
 * cells: both are published as "suppressed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clock.h"
#include "epi_int.h"
#include "mv_limits.h"

struct mv_epi_table {
  enum mv_epi_period period;
  size_t R, P;     /* regions, periods */
  char **regions;  /* R names, sorted */
  int32_t first;   /* first period index (day, or Monday day / 7) */
  int64_t *count;  /* (R+1) x (P+1): cells, margins in row R / column P */
  uint8_t *state;  /* same shape, enum mv_epi_cell_state */
  bool suppressed; /* mv_epi_table_suppress ran */
};

/* ---- calendar -------------------------------------------------------- */

/* ISO weekday, Monday = 1 .. Sunday = 7 (1970-01-01 was a Thursday). */
static int iso_wday(int64_t day) {
  return (int)(((day + 3) % 7 + 7) % 7) + 1;
}

int32_t mv_epi_isoweek(int32_t day) {
  /* ISO 8601: the week belongs to the year of its Thursday. */
  int64_t th = (int64_t)day - iso_wday(day) + 4;
  int64_t y;
  int m, d;
  mv_time_civil_from_days(th, &y, &m, &d);
  int64_t jan1 = mv_time_days_from_civil(y, 1, 1);
  int64_t week = (th - jan1) / 7 + 1;
  return (int32_t)(y * 100 + week);
}

int mv_epi_parse_date(const char *s, int32_t *out_day) {
  if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
    return MV_EPARSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
      return MV_EPARSE;
  int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
          (s[3] - '0');
  int m = (s[5] - '0') * 10 + (s[6] - '0');
  int d = (s[8] - '0') * 10 + (s[9] - '0');
  if (d < 1 || d > mv_time_days_in_month(y, m))
    return MV_EPARSE;
  *out_day = (int32_t)mv_time_days_from_civil(y, m, d);
  return MV_OK;
}

/* Period index of a day: the day, or the day of its Monday / 7. */
static int64_t period_index(enum mv_epi_period p, int32_t day) {
  if (p == MV_EPI_PERIOD_DAY)
    return day;
  /* Mondays are 4 mod 7 (1970-01-05 is day 4): (Monday + 3) / 7 is exact. */
  return ((int64_t)day - iso_wday(day) + 1 + 3) / 7;
}

/* ---- table ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void mv_epi_table_free(struct mv_epi_table *t) {
  if (!t)
    return;
  for (size_t i = 0; i < t->R; i++)
    free(t->regions[i]);
  free(t->regions);
  free(t->count);
  free(t->state);
  free(t);
}

static long find_region(char *const *sorted, size_t n, const char *name) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(sorted[mid], name);
    if (c == 0)
      return (long)mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

int mv_epi_table_aggregate(const struct mv_epi_report *r, size_t n,
                           enum mv_epi_period period, struct mv_epi_table **out,
                           struct mv_diag *diag) {
  struct mv_epi_table *t = NULL;
  char **names = NULL;
  int rc = MV_OK;
  if (!out || (n > 0 && !r))
    return mv_diag_set(diag, MV_EINVAL, "missing argument");
  *out = NULL;
  if (period != MV_EPI_PERIOD_DAY && period != MV_EPI_PERIOD_ISOWEEK)
    return mv_diag_set(diag, MV_EINVAL, "unknown period");
  int64_t pmin = INT64_MAX, pmax = INT64_MIN;
  for (size_t k = 0; k < n; k++) {
    size_t len = r[k].region ? strlen(r[k].region) : 0;
    if (len == 0 || len > MV_LIMIT_EPI_REGION || r[k].count < 0) {
      mv_diag_set(diag, MV_EINVAL, "report %zu: %s", k + 1,
                  r[k].count < 0 ? "negative count"
                                 : "region name empty or too long");
      if (diag)
        diag->line = (int)(k + 1);
      return MV_EINVAL;
    }
    int64_t p = period_index(period, r[k].day);
    if (p < pmin)
      pmin = p;
    if (p > pmax)
      pmax = p;
  }
  t = calloc(1, sizeof *t);
  if (!t)
    return MV_ENOMEM;
  t->period = period;
  /* distinct sorted region names */
  if (n > 0) {
    names = malloc(n * sizeof *names);
    if (!names) {
      rc = MV_ENOMEM;
      goto out;
    }
    for (size_t k = 0; k < n; k++)
      names[k] = (char *)r[k].region;
    qsort(names, n, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t k = 0; k < n; k++)
      if (u == 0 || strcmp(names[u - 1], names[k]) != 0)
        names[u++] = names[k];
    if (u > MV_LIMIT_EPI_REGIONS) {
      rc = mv_diag_set(diag, MV_ETOOBIG, "more than %u regions",
                       MV_LIMIT_EPI_REGIONS);
      goto out;
    }
    if (pmax - pmin + 1 > (int64_t)MV_LIMIT_EPI_PERIODS) {
      rc = mv_diag_set(diag, MV_ETOOBIG, "more than %u periods",
                       MV_LIMIT_EPI_PERIODS);
      goto out;
    }
    t->P = (size_t)(pmax - pmin + 1);
    if ((double)u * (double)t->P > (double)MV_LIMIT_EPI_CELLS) {
      rc = mv_diag_set(diag, MV_ETOOBIG, "more than %u cells",
                       MV_LIMIT_EPI_CELLS);
      goto out;
    }
    t->first = (int32_t)pmin;
    t->regions = calloc(u, sizeof *t->regions);
    if (!t->regions) {
      rc = MV_ENOMEM;
      goto out;
    }
    for (size_t i = 0; i < u; i++) {
      t->regions[i] = strdup(names[i]);
      if (!t->regions[i]) {
        t->R = i;
        rc = MV_ENOMEM;
        goto out;
      }
    }
    t->R = u;
  }
  size_t cells = (t->R + 1) * (t->P + 1);
  t->count = calloc(cells, sizeof *t->count);
  t->state = calloc(cells, sizeof *t->state);
  if (!t->count || !t->state) {
    rc = MV_ENOMEM;
    goto out;
  }
  size_t W = t->P + 1;
  for (size_t k = 0; k < n; k++) {
    size_t i = (size_t)find_region(t->regions, t->R, r[k].region);
    size_t j = (size_t)(period_index(period, r[k].day) - pmin);
    int64_t c = r[k].count;
    if (t->count[i * W + j] > INT64_MAX / 4 - c) {
      rc = mv_diag_set(diag, MV_ERANGE, "count overflow");
      goto out;
    }
    t->count[i * W + j] += c;
    t->count[i * W + t->P] += c;
    t->count[t->R * W + j] += c;
    t->count[t->R * W + t->P] += c;
  }
  *out = t;
  t = NULL;
out:
  free(names);
  mv_epi_table_free(t);
  return rc;
}

/* One line of the table: `n` member cells at base + k*stride and its total.
 * Returns true if it suppressed one more cell. */
static bool protect_line(struct mv_epi_table *t, size_t base, size_t stride,
                         size_t n, size_t total, int64_t min_count) {
  size_t nsup = 0;
  int64_t hidden = 0;
  for (size_t k = 0; k < n; k++) {
    size_t c = base + k * stride;
    if (t->state[c] != MV_EPI_CELL_SHOWN) {
      nsup++;
      hidden += t->count[c];
    }
  }
  bool total_hidden = t->state[total] != MV_EPI_CELL_SHOWN;
  if (total_hidden)
    nsup++;
  if (nsup == 0)
    return false;
  /* Safe when at least two cells of the line are hidden and, if the total is
   * published, what it reveals (the sum of the hidden cells) is not itself
   * a small count. */
  if (nsup >= 2 && (total_hidden || hidden >= min_count))
    return false;
  /* Candidate: the smallest published non-zero member; else the total; else
   * a published zero member. */
  size_t best = (size_t)-1;
  for (size_t k = 0; k < n; k++) {
    size_t c = base + k * stride;
    if (t->state[c] == MV_EPI_CELL_SHOWN && t->count[c] > 0 &&
        (best == (size_t)-1 || t->count[c] < t->count[best]))
      best = c;
  }
  if (best == (size_t)-1 && !total_hidden && t->count[total] > 0)
    best = total;
  if (best == (size_t)-1)
    for (size_t k = 0; k < n && best == (size_t)-1; k++)
      if (t->state[base + k * stride] == MV_EPI_CELL_SHOWN)
        best = base + k * stride;
  if (best == (size_t)-1 && !total_hidden)
    best = total;
  if (best == (size_t)-1)
    return false;
  t->state[best] = MV_EPI_CELL_SECONDARY;
  return true;
}

/* ---- linear audit ------------------------------------------------------
 * The extended table (cells plus margins) is a bipartite graph: one node
 * per row line (regions and the row of period totals) and per column line
 * (periods and the column of region totals); every cell is the edge between
 * its row and its column. Published cells and margins fix the signed sum of
 * the hidden edges at every node. A hidden cell can then be changed without
 * changing anything published exactly when it lies on a cycle of hidden
 * edges (alternating +1/-1 around the even cycle); it is determined by the
 * margins exactly when it is a bridge of the hidden subgraph. So every
 * primary cell must be a non-bridge (Tarjan 1974 finds bridges in linear
 * time). Non-negativity can narrow the range further; that is not audited.
 */

struct graph {
  const struct mv_epi_table *t;
  size_t R, P, W, V;
};

/* Next hidden edge of node v from position *it; returns the cell or -1 and
 * the other endpoint in *u. */
static long next_edge(const struct graph *g, size_t v, size_t *it, size_t *u) {
  if (v <= g->R) {
    for (; *it <= g->P; (*it)++) {
      size_t c = v * g->W + *it;
      if (g->t->state[c] != MV_EPI_CELL_SHOWN) {
        *u = g->R + 1 + *it;
        (*it)++;
        return (long)c;
      }
    }
  } else {
    size_t j = v - g->R - 1;
    for (; *it <= g->R; (*it)++) {
      size_t c = *it * g->W + j;
      if (g->t->state[c] != MV_EPI_CELL_SHOWN) {
        *u = *it;
        (*it)++;
        return (long)c;
      }
    }
  }
  return -1;
}

struct frame {
  size_t v, it;
  long pe; /* edge to the parent, -1 at a root */
};

/* Marks bridges of the hidden subgraph in is_bridge (one byte per cell).
 * Iterative DFS with low-links. Returns false on allocation failure. */
static bool find_bridges(const struct graph *g, uint8_t *is_bridge) {
  long *disc = malloc(g->V * sizeof *disc), *low = malloc(g->V * sizeof *low);
  struct frame *st = malloc(g->V * sizeof *st);
  if (!disc || !low || !st) {
    free(disc);
    free(low);
    free(st);
    return false;
  }
  for (size_t v = 0; v < g->V; v++)
    disc[v] = -1;
  long timer = 0;
  for (size_t root = 0; root < g->V; root++) {
    if (disc[root] >= 0)
      continue;
    size_t sp = 0;
    st[sp++] = (struct frame){root, 0, -1};
    disc[root] = low[root] = timer++;
    while (sp > 0) {
      struct frame *f = &st[sp - 1];
      size_t u;
      long e = next_edge(g, f->v, &f->it, &u);
      if (e >= 0) {
        if (e == f->pe)
          continue;
        if (disc[u] < 0) {
          disc[u] = low[u] = timer++;
          st[sp++] = (struct frame){u, 0, e};
        } else if (disc[u] < low[f->v]) {
          low[f->v] = disc[u];
        }
        continue;
      }
      struct frame done = *f;
      sp--;
      if (sp > 0) {
        size_t p = st[sp - 1].v;
        if (low[done.v] < low[p])
          low[p] = low[done.v];
        if (low[done.v] > disc[p])
          is_bridge[done.pe] = 1;
      }
    }
  }
  free(disc);
  free(low);
  free(st);
  return true;
}

/* Labels (1 or 2) the nodes reachable from `from` over hidden edges other
 * than `skip`. */
static void reach(const struct graph *g, size_t from, long skip, uint8_t *label,
                  uint8_t mark, size_t *queue) {
  size_t qh = 0, qt = 0;
  label[from] = mark;
  queue[qt++] = from;
  while (qh < qt) {
    size_t v = queue[qh++], it = 0, u;
    long e;
    while ((e = next_edge(g, v, &it, &u)) >= 0)
      if (e != skip && label[u] != mark) {
        label[u] = mark;
        queue[qt++] = u;
      }
  }
}

/* Hides one more cell so that the primary bridge `c` joins a cycle: a
 * published cell linking the two sides, the smallest non-zero if any. */
static bool break_bridge(struct mv_epi_table *t, const struct graph *g,
                         size_t c, uint8_t *label, size_t *queue) {
  size_t i = c / g->W, j = c % g->W;
  memset(label, 0, g->V);
  reach(g, i, (long)c, label, 1, queue);
  reach(g, g->R + 1 + j, (long)c, label, 2, queue);
  size_t best = (size_t)-1;
  int best_rank = 3;
  for (size_t a = 0; a <= g->R; a++) {
    if (!label[a])
      continue;
    for (size_t b = 0; b <= g->P; b++) {
      size_t cc = a * g->W + b;
      uint8_t lb = label[g->R + 1 + b];
      if (t->state[cc] != MV_EPI_CELL_SHOWN || !lb)
        continue;
      /* rank 0: links both sides, non-zero; 1: links, zero; 2: touches */
      int rank = lb != label[a] ? (t->count[cc] > 0 ? 0 : 1) : 2;
      if (rank < best_rank ||
          (rank == best_rank && t->count[cc] < t->count[best])) {
        best = cc;
        best_rank = rank;
      }
    }
  }
  if (best == (size_t)-1) {
    /* nothing touches either side: hide any published cell of row i */
    for (size_t b = 0; b <= g->P && best == (size_t)-1; b++)
      if (t->state[i * g->W + b] == MV_EPI_CELL_SHOWN)
        best = i * g->W + b;
  }
  if (best == (size_t)-1)
    return false;
  t->state[best] = MV_EPI_CELL_SECONDARY;
  return true;
}

int mv_epi_table_suppress(struct mv_epi_table *t, int64_t min_count) {
  if (!t || min_count < 1)
    return MV_EINVAL;
  size_t W = t->P + 1, cells = (t->R + 1) * W;
  struct graph g = {t, t->R, t->P, W, t->R + t->P + 2};
  uint8_t *is_bridge = NULL, *label = NULL;
  size_t *queue = NULL;
  int rc = MV_OK;
  for (size_t c = 0; c < cells; c++)
    if (t->state[c] == MV_EPI_CELL_SHOWN && t->count[c] >= 1 &&
        t->count[c] < min_count)
      t->state[c] = MV_EPI_CELL_PRIMARY;
  is_bridge = malloc(cells);
  label = malloc(g.V);
  queue = malloc(g.V * sizeof *queue);
  if (!is_bridge || !label || !queue) {
    rc = MV_ENOMEM;
    goto out;
  }
  /* Each round hides at least one more cell or ends, so it terminates. */
  for (;;) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t i = 0; i <= t->R; i++)
        changed |= protect_line(t, i * W, 1, t->P, i * W + t->P, min_count);
      for (size_t j = 0; j <= t->P; j++)
        changed |= protect_line(t, j, W, t->R, t->R * W + j, min_count);
    }
    memset(is_bridge, 0, cells);
    if (!find_bridges(&g, is_bridge)) {
      rc = MV_ENOMEM;
      goto out;
    }
    size_t c = 0;
    while (c < cells && !(is_bridge[c] && t->state[c] == MV_EPI_CELL_PRIMARY))
      c++;
    if (c == cells || !break_bridge(t, &g, c, label, queue))
      break;
  }
  t->suppressed = true;
out:
  free(is_bridge);
  free(label);
  free(queue);
  return rc;
}

size_t mv_epi_table_regions(const struct mv_epi_table *t) {
  return t->R;
}
size_t mv_epi_table_periods(const struct mv_epi_table *t) {
  return t->P;
}

const char *mv_epi_table_region(const struct mv_epi_table *t, size_t i) {
  return i < t->R ? t->regions[i] : NULL;
}

int32_t mv_epi_table_period(const struct mv_epi_table *t, size_t j) {
  int64_t idx = (int64_t)t->first + (int64_t)j;
  if (t->period == MV_EPI_PERIOD_DAY)
    return (int32_t)idx;
  /* idx*7 - 3 is that week's Monday */
  return mv_epi_isoweek((int32_t)(idx * 7 - 3));
}

static int64_t cell(const struct mv_epi_table *t, size_t i, size_t j,
                    enum mv_epi_cell_state *state) {
  size_t c = i * (t->P + 1) + j;
  if (state)
    *state = (enum mv_epi_cell_state)t->state[c];
  return t->count[c];
}

int64_t mv_epi_table_count(const struct mv_epi_table *t, size_t i, size_t j,
                           enum mv_epi_cell_state *state) {
  if (i >= t->R || j >= t->P)
    return 0;
  return cell(t, i, j, state);
}

int64_t mv_epi_table_region_total(const struct mv_epi_table *t, size_t i) {
  return i < t->R ? cell(t, i, t->P, NULL) : 0;
}

int64_t mv_epi_table_period_total(const struct mv_epi_table *t, size_t j) {
  return j < t->P ? cell(t, t->R, j, NULL) : 0;
}

int64_t mv_epi_table_total(const struct mv_epi_table *t) {
  return cell(t, t->R, t->P, NULL);
}

/* ---- CSV --------------------------------------------------------------- */

struct sbuf {
  char *p;
  size_t len, cap;
  bool fail;
};

static void sb_add(struct sbuf *b, const char *s, size_t n) {
  if (b->fail)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t nc = b->cap ? b->cap * 2 : 4096;
    while (nc < b->len + n + 1)
      nc *= 2;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->fail = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

static void period_str(const struct mv_epi_table *t, size_t j, char *buf,
                       size_t len) {
  int32_t p = mv_epi_table_period(t, j);
  if (t->period == MV_EPI_PERIOD_DAY) {
    int64_t y;
    int m, d;
    mv_time_civil_from_days(p, &y, &m, &d);
    snprintf(buf, len, "%04lld-%02d-%02d", (long long)y, m, d);
  } else {
    snprintf(buf, len, "%04d-W%02d", (int)(p / 100), (int)(p % 100));
  }
}

static void sb_row(struct sbuf *b, const char *region, const char *period,
                   int64_t count, uint8_t state) {
  char line[MV_LIMIT_EPI_REGION * 2 + 96];
  int n;
  /* Region names are written as CSV fields; quote if they need it. */
  bool q = strpbrk(region, ",\"\r\n") != NULL;
  if (q) {
    sb_add(b, "\"", 1);
    for (const char *s = region; *s; s++) {
      sb_add(b, s, 1);
      if (*s == '"')
        sb_add(b, s, 1); /* "" inside a quoted field */
    }
    sb_add(b, "\"", 1);
  } else {
    sb_add(b, region, strlen(region));
  }
  if (state == MV_EPI_CELL_SHOWN)
    n = snprintf(line, sizeof line, ",%s,%lld,0\n", period, (long long)count);
  else
    n = snprintf(line, sizeof line, ",%s,,1\n", period);
  if (n > 0)
    sb_add(b, line, (size_t)n);
}

int mv_epi_table_share_csv(const struct mv_epi_table *t, char **out,
                           size_t *out_len) {
  if (!t || !out || !t->suppressed)
    return MV_EINVAL;
  struct sbuf b = {0};
  char per[32];
  size_t W = t->P + 1;
  sb_add(&b, "region,period,count,suppressed\n", 31);
  for (size_t i = 0; i < t->R; i++)
    for (size_t j = 0; j < t->P; j++) {
      period_str(t, j, per, sizeof per);
      sb_row(&b, t->regions[i], per, t->count[i * W + j], t->state[i * W + j]);
    }
  for (size_t i = 0; i < t->R; i++)
    sb_row(&b, t->regions[i], "*", t->count[i * W + t->P],
           t->state[i * W + t->P]);
  for (size_t j = 0; j < t->P; j++) {
    period_str(t, j, per, sizeof per);
    sb_row(&b, "*", per, t->count[t->R * W + j], t->state[t->R * W + j]);
  }
  sb_row(&b, "*", "*", t->count[t->R * W + t->P], t->state[t->R * W + t->P]);
  if (b.fail || !b.p) {
    free(b.p);
    return MV_ENOMEM;
  }
  *out = b.p;
  if (out_len)
    *out_len = b.len;
  return MV_OK;
}
