/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition (format 0.0.4) helpers shared by every module
 * that exports metrics, and a fixed-bucket histogram. Not thread-safe: the
 * owner of a histogram guards it with its own lock (or keeps it on one
 * thread) and writes a copy.
 */
#ifndef MV_METRICS_H
#define MV_METRICS_H

#include "mv_buf.h"

#define MV_HIST_BUCKETS_MAX 16

/* A histogram with per-bucket (not cumulative) counts; bucket[n_le] is +Inf.
 * Value type: copy it to take a snapshot. */
struct mv_hist {
  const double *le; /* ascending upper bounds, borrowed (static storage) */
  size_t n_le;      /* 1..MV_HIST_BUCKETS_MAX */
  uint64_t bucket[MV_HIST_BUCKETS_MAX + 1];
  double sum;
  uint64_t count;
};

/* le is borrowed for the histogram's life; n_le is clamped to
 * MV_HIST_BUCKETS_MAX. */
MV_API void mv_hist_init(struct mv_hist *h, const double *le, size_t n_le);
/* Count v in the first bucket whose bound is >= v (Prometheus "le"). */
MV_API void mv_hist_observe(struct mv_hist *h, double v);

/* "# HELP name help\n# TYPE name type\n". type: counter, gauge, histogram. */
MV_API MV_NODISCARD int mv_metrics_write_header(struct mv_buf *b,
                                                const char *name,
                                                const char *type,
                                                const char *help);
/* Header plus one unlabelled sample "name v". */
MV_API MV_NODISCARD int mv_metrics_write_scalar(struct mv_buf *b,
                                                const char *name,
                                                const char *type,
                                                const char *help, uint64_t v);
/* A label value with backslash, double quote and newline escaped. */
MV_API MV_NODISCARD int mv_metrics_write_label_value(struct mv_buf *b,
                                                     const char *v);
/* The samples of a histogram (no header): cumulative name_bucket lines,
 * name_sum and name_count. labels is NULL or preformatted label pairs
 * without braces (`route="/healthz"`), already escaped. */
MV_API MV_NODISCARD int mv_metrics_write_hist(struct mv_buf *b,
                                              const char *name,
                                              const char *labels,
                                              const struct mv_hist *h);

#endif
