/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Outbreak (aberration) detection on count time series, computing exactly
 * what the R package surveillance 1.20.3 computes: EARS C1/C2/C3, CUSUM, the
 * Bayes and RKI algorithms, Farrington flexible and its Noufaily (2013)
 * variants. One call handles one unit's series over a contiguous range of
 * time points; a panel reader turns the long-format CSV of the shared
 * datasets (t, [date], unit, observed, [population]) into such series.
 * Pure computation plus in-memory parsing: no sockets, no database.
 */
#ifndef MV_EPI_DETECT_H
#define MV_EPI_DETECT_H

#include "mv_err.h"

/* ---- Series ------------------------------------------------------------ */

/* One unit's counts. All arrays are borrowed for the duration of the call
 * and hold n entries. Time point t (1-based, as in R) is index t-1. */
struct mv_epi_series {
  const double *observed;   /* counts >= 0; NAN = missing (R's NA) */
  const double *population; /* > 0 denominators, or NULL (Farrington offset) */
  const int32_t *date_days; /* days since 1970-01-01 of each period, or NULL
                               for an undated series (R's epochAsDate) */
  size_t n;
  int freq;        /* periods per year: 52 weekly, 12 monthly, 365 daily */
  int start_epoch; /* epoch_in_year of t = 1 (R's start[2]; CUSUM m="glm") */
};

/* ---- Methods and their controls (R's control lists, R's defaults) ------ */

enum mv_epi_method {
  MV_EPI_EARS_C1 = 0,
  MV_EPI_EARS_C2,
  MV_EPI_EARS_C3,
  MV_EPI_CUSUM,
  MV_EPI_BAYES,
  MV_EPI_RKI,
  MV_EPI_FARRINGTON, /* farringtonFlexible, Farrington defaults */
  MV_EPI_NOUFAILY,   /* farringtonFlexible, Noufaily 2013 preset (nbPlugin) */
  MV_EPI_METHOD_COUNT
};

/* A range of time points, 1-based inclusive; first = 0 means "R's default
 * range for the method", last = 0 means "to the end of the series". */
struct mv_epi_range {
  size_t first;
  size_t last;
};

/* earsC: baseline B (>= 3), minSigma (>= 0), alpha (NAN = 0.001 for C1/C2,
 * 0.025 for C3). Default range: B+1.., B+3.., B+5.. for C1, C2, C3. */
struct mv_epi_ears_ctl {
  int baseline;     /* 7 */
  double min_sigma; /* 0 */
  double alpha;     /* NAN -> method default */
};

enum mv_epi_cusum_trans {
  MV_EPI_CUSUM_STANDARD = 0,   /* (x - m) / sqrt(m) */
  MV_EPI_CUSUM_ANSCOMBE,       /* 3/2 (x^(2/3) - m^(2/3)) / m^(1/6) */
  MV_EPI_CUSUM_ROSSI,          /* (x - 3m + 2 sqrt(x m)) / (2 sqrt(m)) */
  MV_EPI_CUSUM_ANSCOMBE2ND,    /* second-order Anscombe */
  MV_EPI_CUSUM_PEARSON_NEGBIN, /* (x - m) / sqrt(m + alpha m^2) */
  MV_EPI_CUSUM_NONE,           /* x itself; bound h - S_t */
};

/* algo.cusum. R requires a range; the default here is the second half of
 * the series (n/2 + 1 .. n). m: NAN = mean of the counts before the range
 * (y[1] when the range starts at 1, as R's 1:0 does); m_glm = Poisson GLM
 * log m = a + b cos(2 pi t/freq) + c sin(2 pi t/freq) on 1 .. first-1 with
 * t counted from start_epoch. */
struct mv_epi_cusum_ctl {
  double k;   /* 1.04 */
  double h;   /* 2.26 */
  double m;   /* NAN -> mean(y[1 .. first-1]) (ignored if m_glm) */
  bool m_glm; /* false */
  enum mv_epi_cusum_trans trans; /* standard */
  double alpha; /* 0.1: negative-binomial dispersion for pearsonNegBin */
};

/* algo.bayes: reference values y[t-w .. t-1] if act_y, plus
 * y[t-i*freq-w .. t-i*freq+w] for i = 1..b. Default range: first t whose
 * reference values all exist .. n. */
struct mv_epi_bayes_ctl {
  int b;        /* 0 */
  int w;        /* 6 */
  bool act_y;   /* true */
  double alpha; /* 0.05 */
};

/* algo.rki: same reference values as bayes; fixed CI table for mean <= 20. */
struct mv_epi_rki_ctl {
  int b;      /* 2 */
  int w;      /* 4 */
  bool act_y; /* false */
};

enum mv_epi_powertrans {
  MV_EPI_POWER_2_3 = 0, /* "2/3" */
  MV_EPI_POWER_1_2,     /* "1/2" */
  MV_EPI_POWER_NONE,    /* "none" */
};

enum mv_epi_threshold {
  MV_EPI_THRESHOLD_DELTA = 0, /* Farrington 1996 delta method */
  MV_EPI_THRESHOLD_NBPLUGIN,  /* Noufaily 2013 negative-binomial plug-in */
  MV_EPI_THRESHOLD_MUAN,      /* plug-in at the upper mean quantile */
};

/* farringtonFlexible. Default range: freq*b + w + 1 .. n. */
struct mv_epi_farrington_ctl {
  int b;                           /* 5 (Noufaily 5) */
  int w;                           /* 3 */
  bool reweight;                   /* true */
  double weights_threshold;        /* 2.58 */
  double alpha;                    /* 0.05 */
  bool trend;                      /* true */
  double p_threshold_trend;        /* 0.05 (Noufaily 1) */
  int limit54_cases;               /* 5 */
  int limit54_period;              /* 4 */
  enum mv_epi_powertrans power;    /* 2/3 */
  bool population_offset;          /* false */
  int no_periods;                  /* 1 (Noufaily 10) */
  int past_weeks_not_included;     /* -1 -> w (Noufaily 26) */
  enum mv_epi_threshold threshold; /* delta (Noufaily nbPlugin) */
};

/* Everything one detection run needs. Fill with mv_epi_detect_defaults,
 * then override fields; only the member of `method` is read. */
struct mv_epi_detect_ctl {
  enum mv_epi_method method;
  struct mv_epi_range range;
  struct mv_epi_ears_ctl ears;
  struct mv_epi_cusum_ctl cusum;
  struct mv_epi_bayes_ctl bayes;
  struct mv_epi_rki_ctl rki;
  struct mv_epi_farrington_ctl farrington;
};

/* R's defaults for method (and for every other member too). */
MV_API void mv_epi_detect_defaults(enum mv_epi_method method,
                                   struct mv_epi_detect_ctl *out);

/* Method names: "ears-c1", "ears-c2", "ears-c3", "cusum", "bayes", "rki",
 * "farrington", "noufaily". MV_ENOTFOUND for an unknown name. */
MV_API MV_NODISCARD int mv_epi_method_parse(const char *name,
                                            enum mv_epi_method *out);
/* Static name of a method ("?" when out of range). */
MV_API const char *mv_epi_method_name(enum mv_epi_method method);

/* ---- Results ----------------------------------------------------------- */

enum mv_epi_alarm {
  MV_EPI_ALARM_NA = -1, /* R's NA: bound not computable (e.g. 0/0) */
  MV_EPI_ALARM_NO = 0,
  MV_EPI_ALARM_YES = 1,
};

/* One monitored time point. upperbound is NAN either because R reports NA
 * (not computed: upperbound_na true) or because R computed NaN (0/0:
 * upperbound_na false); the CSV writer prints "NA" and "NaN" accordingly.
 * Diagnostic fields are NAN when the method does not produce them. */
struct mv_epi_detect_point {
  size_t t;          /* 1-based time index */
  double observed;   /* y_t (NAN if missing) */
  double upperbound; /* threshold; alarm iff observed > upperbound (CUSUM:
                        iff the CUSUM statistic >= h) */
  bool upperbound_na;
  enum mv_epi_alarm alarm;
  /* diagnostics (names as in surveillance's output) */
  double cusum;      /* CUSUM statistic S_t */
  double cusum_m;    /* CUSUM reference value m_t */
  double expected;   /* Farrington: predictive mean */
  double score;      /* Farrington: exceedance score */
  double pvalue;     /* Farrington */
  double mu0;        /* Farrington: surveillance's mu0Vector */
  double phi;        /* Farrington: dispersion of the final fit */
  double trend_coef; /* Farrington: time-trend coefficient if kept */
};

/* Run ctl->method on s over the resolved range, writing one point per time
 * in range to out[0 .. *out_n-1] (caller-owned, at least s->n entries; on
 * error its contents are unspecified). Errors: MV_EINVAL for bad arguments
 * or impossible parameters, MV_ERANGE when the series is too short for the
 * baseline, the range is outside it, a dated Farrington reference week is
 * missing or a count exceeds MV_LIMIT_EPI_COUNT, MV_EPARSE for negative or
 * non-integer counts, MV_ENOMEM. diag->path names the parameter (the CLI
 * flag without "--"), diag->msg says what is wrong; no count values appear
 * in messages. Missing counts (NAN) give NA where R gives NA.
 * Reentrant: runs may proceed in parallel on different series. */
MV_API MV_NODISCARD int mv_epi_detect(const struct mv_epi_series *s,
                                      const struct mv_epi_detect_ctl *ctl,
                                      struct mv_epi_detect_point *out,
                                      size_t *out_n, struct mv_diag *diag);

/* The resolved range [*first, *last] (1-based) ctl would use on s, or an
 * error as mv_epi_detect. */
MV_API MV_NODISCARD int mv_epi_detect_range(const struct mv_epi_series *s,
                                            const struct mv_epi_detect_ctl *ctl,
                                            size_t *out_first, size_t *out_last,
                                            struct mv_diag *diag);

/* ---- Long-format panels (the shared datasets' CSV layout) -------------- */

/* A parsed panel: one series per unit, units in order of first appearance.
 * Columns: t (1..n, no gaps, sorted, each t once per unit), observed
 * (non-negative integer or NA; `case` or `I` are accepted instead), optional unit (absent = one unit named
 * "observed1"), optional date (YYYY-MM-DD; makes the series dated),
 * optional population, optional epoch_in_year. Other columns are ignored.
 * freq is 52 unless dates say otherwise (1-day steps: 365, 7: 52, ~30: 12)
 * or epoch_in_year exceeds 53 (365). */
struct mv_epi_panel;

/* Parse len bytes of CSV text (borrowed for the call; copied). name is used
 * in diagnostics (diag->path = name, diag->line = the offending line).
 * Counts must be integers in 0 .. MV_LIMIT_EPI_COUNT or NA.
 * Errors: MV_EPARSE (bad value, missing column, gap, unsorted, duplicate),
 * MV_ETOOBIG (more than MV_LIMIT_EPI_UNITS units or MV_LIMIT_EPI_POINTS
 * rows per unit), MV_ENOMEM. *out returned, caller frees with
 * mv_epi_panel_free. */
MV_API MV_NODISCARD int mv_epi_panel_parse(const char *text, size_t len,
                                           const char *name,
                                           struct mv_epi_panel **out,
                                           struct mv_diag *diag);
/* Accepts NULL. */
MV_API void mv_epi_panel_free(struct mv_epi_panel *p);
MV_API size_t mv_epi_panel_count(const struct mv_epi_panel *p);
/* Name of unit i (borrowed until mv_epi_panel_free), NULL if out of range. */
MV_API const char *mv_epi_panel_unit(const struct mv_epi_panel *p, size_t i);
/* Index of the unit called name, or -1. */
MV_API long mv_epi_panel_find(const struct mv_epi_panel *p, const char *name);
/* The series of unit i, arrays borrowed until mv_epi_panel_free. */
MV_API MV_NODISCARD int mv_epi_panel_series(const struct mv_epi_panel *p,
                                            size_t i,
                                            struct mv_epi_series *out);

/* Civil date <-> days since 1970-01-01 (proleptic Gregorian). parse accepts
 * exactly YYYY-MM-DD with a valid day; MV_EPARSE otherwise. */
MV_API MV_NODISCARD int mv_epi_date_parse(const char *s, int32_t *out_days);
/* Writes YYYY-MM-DD and a NUL into buf (at least 11 bytes). */
MV_API void mv_epi_date_format(int32_t days, char *buf, size_t len);

#endif
