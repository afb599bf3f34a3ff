/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Epidemiology (src/epi, no I/O): the serial interval discretised as
 * EpiEstim's discr_si, the time-varying reproduction number Rt of Cori et al.
 * (2013) exactly as EpiEstim 2.2-4 estimate_R computes it, a short-term
 * renewal-equation forecast, and the aggregation of case reports into
 * region x period tables with small-count suppression for sharing across
 * sites. Outbreak detection lives in mv_epi_detect.h.
 *
 * Conventions: time t is 1-based (t = 1 is the first row of a series), as in
 * R. Counts are doubles holding non-negative integers (R's numeric vectors).
 * "NA" in R is NaN here. Results are written into caller-visible structs
 * whose arrays the library allocates; each has a release function.
 */
#ifndef MV_EPI_H
#define MV_EPI_H

#include <stddef.h>
#include <stdint.h>

#include "mv_err.h"

/* ---- Serial interval ------------------------------------------------- */

/*
 * EpiEstim discr_si: w[k] for k = 0..n-1 of the serial interval SI = 1 + G,
 * G ~ Gamma(mean mu - 1, sd sigma), discretised with the triangular kernel
 * (Cori et al. 2013, Web Appendix 11); w[0] = 0, negatives clamped to 0, not
 * renormalised. mu > 1, sigma > 0 (MV_EINVAL otherwise). out_w: n doubles,
 * caller-owned.
 */
MV_API MV_NODISCARD int mv_epi_discr_si(double mu, double sigma, size_t n,
                                        double *out_w, struct mv_diag *diag);

/* ---- Rt (Cori et al. 2013; EpiEstim estimate_R) ---------------------- */

/* Quantile levels of the output, in column order. */
#define MV_EPI_RT_NQ 7
extern MV_API const double mv_epi_rt_quantiles[MV_EPI_RT_NQ];

/* Options; zero-initialise then set. Exactly one serial-interval source:
 * si_distr (non-parametric pmf, borrowed for the call, si_distr[0] must be
 * 0, sum 1 +- 0.01) or si_mean/si_sd (parametric, mean > 1, sd > 0). */
struct mv_epi_rt_opts {
  const double *si_distr; /* NULL for parametric */
  size_t si_len;          /* entries in si_distr (k = 0..si_len-1) */
  double si_mean;         /* days; parametric only */
  double si_sd;           /* days; parametric only */
  double mean_prior;      /* prior mean of R; 0 means the default 5 */
  double std_prior;       /* prior sd of R; 0 means the default 5 */
  /* Windows (1-based, inclusive). NULL t_start: sliding windows of width
   * `window` (0 means 7): t_start = 2..T-window+1, t_end = t_start+window-1.
   * Otherwise n_windows pairs, each 2 <= t_start <= t_end <= T. Borrowed. */
  const int64_t *t_start;
  const int64_t *t_end;
  size_t n_windows;
  size_t window;
};

/* One window's posterior. All doubles NaN (R's NA) when t_end <= the mean
 * of the discretised serial interval (EpiEstim's rule). */
struct mv_epi_rt_row {
  int64_t t_start, t_end;
  double mean, sd;        /* posterior mean and sd of R */
  double q[MV_EPI_RT_NQ]; /* quantiles at mv_epi_rt_quantiles */
  double shape, scale;    /* Gamma posterior */
};

/* Result; all arrays owned by the result, freed by mv_epi_rt_release. */
struct mv_epi_rt_result {
  struct mv_epi_rt_row *rows;
  size_t n_rows;
  size_t T;         /* days of incidence */
  double *local;    /* T, after EpiEstim's preprocessing (day 1 imported) */
  double *imported; /* T */
  double *lambda;   /* T overall infectivity; lambda[0] = NaN */
  double *si;       /* si_len entries actually used (padded to T+1) */
  size_t si_len;
  double si_mean, si_sd; /* moments of si */
};

/* A memo of standard-gamma quantiles by shape, to make many Rt runs over
 * similar counts fast. Not thread-safe: one per thread. NULL is allowed
 * wherever one is taken. */
struct mv_epi_qcache;
MV_API MV_NODISCARD int mv_epi_qcache_new(struct mv_epi_qcache **out);
MV_API void mv_epi_qcache_free(struct mv_epi_qcache *c);

/*
 * Rt estimate for incidence of T days. local: T counts (borrowed);
 * imported: T counts or NULL (then local is EpiEstim's single `I` column and
 * all of day 1 is treated as imported; with imported given, a positive
 * local[0] is moved to imported, as EpiEstim does). Counts must be finite,
 * >= 0 (NaN is R's NA and counts as 0). cache may be NULL. On success *out
 * is filled (release with mv_epi_rt_release); on error it is zeroed.
 * Errors: MV_EINVAL with diag naming the problem ("si_mean", "t_start",
 * a negative count with its 1-based row in diag->line), MV_ERANGE (a window
 * holding more than 1e15 cases), MV_ETOOBIG (over MV_LIMIT_EPI_*),
 * MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_epi_rt_estimate(const double *local,
                                           const double *imported, size_t T,
                                           const struct mv_epi_rt_opts *opts,
                                           struct mv_epi_qcache *cache,
                                           struct mv_epi_rt_result *out,
                                           struct mv_diag *diag);
/* Frees the arrays of r and zeroes it. Accepts NULL and zeroed results. */
MV_API void mv_epi_rt_release(struct mv_epi_rt_result *r);

/* ---- Forecast (renewal equation) ------------------------------------- */

struct mv_epi_forecast_row {
  int64_t h;              /* 1..H */
  int64_t t;              /* T + h */
  double lambda;          /* overall infectivity at t, from the mean path */
  double mean;            /* expected incidence at t = R_mean * lambda */
  double q025, q50, q975; /* h = 1 only: NegBin predictive quantiles; NaN
                             otherwise */
  /* Every h: an approximate 95% prediction band. The renewal paths with R
   * fixed at its posterior 2.5% and 97.5% quantiles give m_lo <= m_hi;
   * band_lo = qpois(0.025, m_lo), band_hi = qpois(0.975, m_hi). It joins
   * the uncertainty of R and Poisson noise, conservatively (R varies only
   * between paths, not within one). */
  double band_lo, band_hi;
};

/*
 * Forecast H days past the end of the incidence from the posterior of the
 * last weekly window [T-6, T] (prior mean/sd as given, 0 = default 5) and a
 * parametric serial interval discr_si(0..T+H, si_mean, si_sd). Future
 * incidence is replaced by the mean path; the 1-day-ahead predictive is
 * NegBin(size = shape, prob = 1/(1 + scale * Lambda)). Same input rules as
 * mv_epi_rt_estimate; T >= 8. out_rows: H rows, caller-owned. If out_shape /
 * out_scale are non-NULL they receive the posterior used.
 */
MV_API MV_NODISCARD int
mv_epi_forecast(const double *local, const double *imported, size_t T,
                double si_mean, double si_sd, double mean_prior,
                double std_prior, size_t H,
                struct mv_epi_forecast_row *out_rows, double *out_shape,
                double *out_scale, struct mv_diag *diag);

/* ---- Aggregation and sharing ----------------------------------------- */

/* Days since 1970-01-01 (UTC) <-> ISO 8601 week, encoded yyyyww (e.g.
 * 202601 for the week of 2025-12-29). */
MV_API int32_t mv_epi_isoweek(int32_t day);
/* "YYYY-MM-DD" -> days since 1970-01-01; MV_EPARSE on a malformed or
 * impossible date. */
MV_API MV_NODISCARD int mv_epi_parse_date(const char *s, int32_t *out_day);

enum mv_epi_period {
  MV_EPI_PERIOD_DAY = 0,     /* period = day number */
  MV_EPI_PERIOD_ISOWEEK = 1, /* period = yyyyww */
};

/* One case report (a line of a site's upload). region: borrowed string of
 * at most MV_LIMIT_EPI_REGION bytes; count >= 0. */
struct mv_epi_report {
  const char *region;
  int32_t day; /* days since 1970-01-01 */
  int64_t count;
};

/* Cell states of a shared table. */
enum mv_epi_cell_state {
  MV_EPI_CELL_SHOWN = 0,
  MV_EPI_CELL_PRIMARY = 1,   /* 1 .. min_count-1: suppressed */
  MV_EPI_CELL_SECONDARY = 2, /* suppressed so that totals do not reveal a
                                primary cell */
};

/* A region x period table of counts with its margins. Opaque. */
struct mv_epi_table;

/*
 * Sum reports into a table with one row per region (sorted by name) and one
 * column per period from the first to the last period seen (gap periods are
 * zero cells). Errors: MV_EINVAL (negative count, empty region name),
 * MV_ETOOBIG (more than MV_LIMIT_EPI_REGIONS regions, MV_LIMIT_EPI_PERIODS
 * periods or MV_LIMIT_EPI_CELLS cells), MV_ENOMEM. *out: caller frees with
 * mv_epi_table_free.
 */
MV_API MV_NODISCARD int mv_epi_table_aggregate(const struct mv_epi_report *r,
                                               size_t n,
                                               enum mv_epi_period period,
                                               struct mv_epi_table **out,
                                               struct mv_diag *diag);
MV_API void mv_epi_table_free(struct mv_epi_table *t);

/*
 * Prepare the table for sharing (docs/SURVEILLANCE.md, "Sharing across
 * sites"): cells and margins with 1 <= count < min_count (use 5) are
 * suppressed (primary); then, until stable, (a) every row and column line
 * (margins included) with hidden cells gets at least two, and, when its
 * total is published, hidden cells summing to at least min_count; (b) no
 * primary cell may be determined by the published cells and margins (a
 * bridge of the graph of hidden cells): another cell closing a cycle
 * through it is hidden (secondary). Published margins stay exact.
 * Idempotent. MV_EINVAL if min_count < 1, MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_epi_table_suppress(struct mv_epi_table *t,
                                              int64_t min_count);

MV_API size_t mv_epi_table_regions(const struct mv_epi_table *t);
MV_API size_t mv_epi_table_periods(const struct mv_epi_table *t);
/* Borrowed until mv_epi_table_free. */
MV_API const char *mv_epi_table_region(const struct mv_epi_table *t, size_t i);
MV_API int32_t mv_epi_table_period(const struct mv_epi_table *t, size_t j);
/* Count and state of cell (i, j). The count is the true count: callers that
 * publish must check the state and omit suppressed counts. */
MV_API int64_t mv_epi_table_count(const struct mv_epi_table *t, size_t i,
                                  size_t j, enum mv_epi_cell_state *state);
MV_API int64_t mv_epi_table_region_total(const struct mv_epi_table *t,
                                         size_t i);
MV_API int64_t mv_epi_table_period_total(const struct mv_epi_table *t,
                                         size_t j);
MV_API int64_t mv_epi_table_total(const struct mv_epi_table *t);

/*
 * The shareable CSV of a table: header `region,period,count,suppressed`,
 * one line per cell (count empty when suppressed; period as YYYY-MM-DD or
 * YYYY-Www), then `*` rows for the margins (region totals with period `*`,
 * period totals with region `*`, and the grand total). Returns a malloc'd
 * NUL-terminated string (caller frees with free) in *out, its length in
 * *out_len. Refuses (MV_EINVAL) a table that was not suppressed.
 */
MV_API MV_NODISCARD int mv_epi_table_share_csv(const struct mv_epi_table *t,
                                               char **out, size_t *out_len);

#endif
