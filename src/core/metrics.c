/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Prometheus text exposition helpers (format 0.0.4, "Exposition formats" in
 * the Prometheus documentation): escaping of label values, HELP/TYPE headers
 * and histograms with cumulative buckets, so every module's /metrics output
 * follows one set of rules.
 */
#include "mv_err.h"
#include "mv_metrics.h"

void mv_hist_init(struct mv_hist *h, const double *le, size_t n_le) {
  *h = (struct mv_hist){0};
  h->le = le;
  h->n_le = n_le > MV_HIST_BUCKETS_MAX ? MV_HIST_BUCKETS_MAX : n_le;
}

void mv_hist_observe(struct mv_hist *h, double v) {
  size_t i = 0;
  while (i < h->n_le && v > h->le[i])
    i++;
  h->bucket[i]++;
  h->sum += v;
  h->count++;
}

int mv_metrics_write_header(struct mv_buf *b, const char *name,
                            const char *type, const char *help) {
  return mv_buf_appendf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                        type);
}

int mv_metrics_write_scalar(struct mv_buf *b, const char *name,
                            const char *type, const char *help, uint64_t v) {
  int rc = mv_metrics_write_header(b, name, type, help);
  if (rc == MV_OK)
    rc = mv_buf_appendf(b, "%s %llu\n", name, (unsigned long long)v);
  return rc;
}

int mv_metrics_write_label_value(struct mv_buf *b, const char *v) {
  int rc = MV_OK;
  for (const char *p = v; *p && rc == MV_OK; p++) {
    if (*p == '\\')
      rc = mv_buf_appends(b, "\\\\");
    else if (*p == '"')
      rc = mv_buf_appends(b, "\\\"");
    else if (*p == '\n')
      rc = mv_buf_appends(b, "\\n");
    else
      rc = mv_buf_append(b, p, 1);
  }
  return rc;
}

int mv_metrics_write_hist(struct mv_buf *b, const char *name,
                          const char *labels, const struct mv_hist *h) {
  const char *sep = labels && *labels ? "," : "";
  const char *lab = labels ? labels : "";
  uint64_t cum = 0;
  int rc = MV_OK;
  for (size_t i = 0; rc == MV_OK && i <= h->n_le; i++) {
    cum += h->bucket[i];
    if (i < h->n_le)
      rc = mv_buf_appendf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, lab, sep,
                          h->le[i], (unsigned long long)cum);
    else
      rc = mv_buf_appendf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lab,
                          sep, (unsigned long long)cum);
  }
  if (rc == MV_OK && *lab)
    rc = mv_buf_appendf(b, "%s_sum{%s} %.9g\n%s_count{%s} %llu\n", name, lab,
                        h->sum, name, lab, (unsigned long long)h->count);
  else if (rc == MV_OK)
    rc = mv_buf_appendf(b, "%s_sum %.9g\n%s_count %llu\n", name, h->sum, name,
                        (unsigned long long)h->count);
  return rc;
}
