/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Golden-file checker shared by the detection tests: reads a golden's JSON
 * sidecar (the R call's fully resolved control), runs mv_epi_detect on the
 * input CSV with the same control and compares every row of the golden
 * CSV: upperbound to a relative error of 1e-9 with NA and NaN kept apart,
 * alarms identical (NA distinct from 0). Header-only; include once per test.
 */
#ifndef MV_TEST_DETECT_GOLDEN_H
#define MV_TEST_DETECT_GOLDEN_H

#include <dirent.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_csv.h"
#include "mv_epi_detect.h"

#define DG_TOL 1e-9
#define DG_FN static __attribute__((unused))

static char *dg_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)n + 1);
  if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  if (b) {
    b[n] = '\0';
    *len = (size_t)n;
  }
  return b;
}

DG_FN double dg_num(json_object *o, const char *k, double dflt) {
  json_object *v;
  if (!json_object_object_get_ex(o, k, &v) ||
      json_object_is_type(v, json_type_null))
    return dflt;
  if (json_object_is_type(v, json_type_boolean))
    return json_object_get_boolean(v);
  if (json_object_is_type(v, json_type_string))
    return dflt;
  return json_object_get_double(v);
}

static const char *dg_str(json_object *o, const char *k) {
  json_object *v;
  if (!json_object_object_get_ex(o, k, &v) ||
      !json_object_is_type(v, json_type_string))
    return "";
  return json_object_get_string(v);
}

/* Build the control from the sidecar. Returns 0, or -1 if unsupported. */
DG_FN int dg_control(json_object *root, struct mv_epi_detect_ctl *c, int *freq,
                     bool *dated) {
  const char *kind = dg_str(root, "kind");
  json_object *cr;
  if (!json_object_object_get_ex(root, "control_resolved", &cr))
    return -1;
  *freq = (int)dg_num(cr, "freq", 0);
  *dated = dg_num(cr, "epochAsDate", 1) != 0;
  if (!strcmp(kind, "surveillance_earsC")) {
    const char *m = dg_str(cr, "method");
    mv_epi_detect_defaults(!strcmp(m, "C2")   ? MV_EPI_EARS_C2
                           : !strcmp(m, "C3") ? MV_EPI_EARS_C3
                                              : MV_EPI_EARS_C1,
                           c);
    c->ears.baseline = (int)dg_num(cr, "baseline", 7);
    c->ears.min_sigma = dg_num(cr, "minSigma", 0);
    c->ears.alpha = dg_num(cr, "alpha", NAN);
  } else if (!strcmp(kind, "surveillance_cusum")) {
    mv_epi_detect_defaults(MV_EPI_CUSUM, c);
    c->cusum.k = dg_num(cr, "k", 1.04);
    c->cusum.h = dg_num(cr, "h", 2.26);
    static const char *const tr[] = {"standard",    "anscombe",      "rossi",
                                     "anscombe2nd", "pearsonNegBin", "none"};
    const char *t = dg_str(cr, "trans");
    c->cusum.trans = MV_EPI_CUSUM_STANDARD;
    for (int i = 0; i < 6; i++)
      if (!strcmp(t, tr[i]))
        c->cusum.trans = (enum mv_epi_cusum_trans)i;
    if (t[0] && strcmp(t, tr[c->cusum.trans]) != 0)
      return -1; /* anscombeNegBin: not supported */
    c->cusum.alpha = dg_num(cr, "alpha", 0.1);
    c->cusum.m_glm = !strcmp(dg_str(cr, "m"), "glm");
    c->cusum.m = dg_num(cr, "m", NAN);
  } else if (!strcmp(kind, "surveillance_bayes")) {
    mv_epi_detect_defaults(MV_EPI_BAYES, c);
    c->bayes.b = (int)dg_num(cr, "b", 0);
    c->bayes.w = (int)dg_num(cr, "w", 6);
    c->bayes.act_y = dg_num(cr, "actY", 1) != 0;
    c->bayes.alpha = dg_num(cr, "alpha", 0.05);
  } else if (!strcmp(kind, "surveillance_rki")) {
    mv_epi_detect_defaults(MV_EPI_RKI, c);
    c->rki.b = (int)dg_num(cr, "b", 2);
    c->rki.w = (int)dg_num(cr, "w", 4);
    c->rki.act_y = dg_num(cr, "actY", 0) != 0;
  } else if (!strcmp(kind, "surveillance_farringtonFlexible")) {
    mv_epi_detect_defaults(MV_EPI_FARRINGTON, c);
    struct mv_epi_farrington_ctl *f = &c->farrington;
    f->b = (int)dg_num(cr, "b", 5);
    f->w = (int)dg_num(cr, "w", 3);
    f->reweight = dg_num(cr, "reweight", 1) != 0;
    f->weights_threshold = dg_num(cr, "weightsThreshold", 2.58);
    f->alpha = dg_num(cr, "alpha", 0.05);
    f->trend = dg_num(cr, "trend", 1) != 0;
    f->p_threshold_trend = dg_num(cr, "pThresholdTrend", 0.05);
    json_object *l;
    if (json_object_object_get_ex(cr, "limit54", &l) &&
        json_object_array_length(l) == 2) {
      f->limit54_cases = json_object_get_int(json_object_array_get_idx(l, 0));
      f->limit54_period = json_object_get_int(json_object_array_get_idx(l, 1));
    }
    const char *pt = dg_str(cr, "powertrans");
    f->power = !strcmp(pt, "1/2")    ? MV_EPI_POWER_1_2
               : !strcmp(pt, "none") ? MV_EPI_POWER_NONE
                                     : MV_EPI_POWER_2_3;
    f->population_offset = dg_num(cr, "populationOffset", 0) != 0;
    f->no_periods = (int)dg_num(cr, "noPeriods", 1);
    f->past_weeks_not_included = (int)dg_num(cr, "pastWeeksNotIncluded", -1);
    const char *tm = dg_str(cr, "thresholdMethod");
    f->threshold = !strcmp(tm, "nbPlugin") ? MV_EPI_THRESHOLD_NBPLUGIN
                   : !strcmp(tm, "muan")   ? MV_EPI_THRESHOLD_MUAN
                                           : MV_EPI_THRESHOLD_DELTA;
  } else {
    return -1;
  }
  c->range.first = (size_t)dg_num(cr, "range_first", 0);
  c->range.last = (size_t)dg_num(cr, "range_last", 0);
  return 0;
}

DG_FN bool dg_close(double got, bool got_na, const char *want) {
  if (!strcmp(want, "NA"))
    return got_na;
  if (got_na)
    return false;
  if (!strcmp(want, "NaN"))
    return isnan(got);
  if (!strcmp(want, "Inf"))
    return isinf(got) && got > 0;
  if (!strcmp(want, "-Inf"))
    return isinf(got) && got < 0;
  double w = strtod(want, NULL);
  if (isnan(got))
    return false;
  if (w == got)
    return true;
  return fabs(got - w) <= DG_TOL * fmax(fabs(w), 1e-300);
}

struct dg_result {
  int rows;            /* golden rows compared */
  int mismatches;      /* rows with a wrong upperbound or alarm */
  int diag_mismatches; /* rows with a wrong diagnostic column */
  int diag_values;     /* diagnostic values compared */
  char first[8192];
  char first_diag[8192];
};

/* Compare one golden. dir: folder of the golden CSV/JSON; data_dir: folder
 * of the input named in the JSON. Returns 0 when the comparison ran. */
DG_FN int dg_check(const char *dir, const char *name, const char *data_dir,
                   struct dg_result *res) {
  char path[4096];
  size_t len;
  int ret = -1;
  char *js = NULL, *csv = NULL, *gtext = NULL;
  json_object *root = NULL;
  struct mv_epi_panel *panel = NULL;
  struct mv_csv *g = NULL;
  struct mv_epi_detect_point *pts = NULL;
  memset(res, 0, sizeof(*res));
  snprintf(path, sizeof(path), "%s/%s.json", dir, name);
  js = dg_slurp(path, &len);
  if (!js || !(root = json_tokener_parse(js))) {
    snprintf(res->first, sizeof(res->first), "cannot read %s", path);
    goto out;
  }
  struct mv_epi_detect_ctl ctl;
  int freq;
  bool dated;
  if (dg_control(root, &ctl, &freq, &dated) != 0) {
    snprintf(res->first, sizeof(res->first), "unsupported kind in %s", path);
    goto out;
  }
  snprintf(path, sizeof(path), "%s/%s", data_dir, dg_str(root, "input"));
  csv = dg_slurp(path, &len);
  struct mv_diag d = {0};
  if (!csv || mv_epi_panel_parse(csv, len, path, &panel, &d) != MV_OK) {
    snprintf(res->first, sizeof(res->first), "cannot parse %s: %d %s", path,
             d.line, d.msg);
    goto out;
  }
  snprintf(path, sizeof(path), "%s/%s.csv", dir, name);
  gtext = dg_slurp(path, &len);
  if (!gtext || mv_csv_open_mem(gtext, len, &g) != MV_OK)
    goto out;
  char **f;
  size_t nf;
  if (mv_csv_next(g, &f, &nf, NULL) != MV_OK)
    goto out;
  long ct = mv_csv_find(f, nf, "t"), cu = mv_csv_find(f, nf, "unit");
  long cub = mv_csv_find(f, nf, "upperbound"), ca = mv_csv_find(f, nf, "alarm");
  long co = mv_csv_find(f, nf, "observed");
  static const char *const dnames[] = {
      "cusum", "m", "expected", "score", "pvalue", "mu0", "phi", "trend_coef"};
  long dcol[8];
  for (int i = 0; i < 8; i++)
    dcol[i] = mv_csv_find(f, nf, dnames[i]);
  if (ct < 0 || cu < 0 || cub < 0 || ca < 0 || co < 0)
    goto out;
  char cur_unit[256] = "";
  size_t np = 0, first_t = 0;
  while (mv_csv_next(g, &f, &nf, NULL) == MV_OK) {
    if (strcmp(cur_unit, f[cu]) != 0) {
      snprintf(cur_unit, sizeof(cur_unit), "%s", f[cu]);
      long ui = mv_epi_panel_find(panel, cur_unit);
      struct mv_epi_series s;
      if (ui < 0 || mv_epi_panel_series(panel, (size_t)ui, &s) != MV_OK) {
        snprintf(res->first, sizeof(res->first), "unit %s missing", cur_unit);
        goto out;
      }
      if (freq)
        s.freq = freq;
      if (!dated)
        s.date_days = NULL;
      free(pts);
      pts = malloc(s.n * sizeof(*pts));
      mv_diag_clear(&d);
      int rc = mv_epi_detect(&s, &ctl, pts, &np, &d);
      if (rc != MV_OK) {
        snprintf(res->first, sizeof(res->first), "detect failed: %s: %s",
                 d.path, d.msg);
        goto out;
      }
      first_t = np ? pts[0].t : 0;
    }
    size_t t = (size_t)strtoul(f[ct], NULL, 10);
    res->rows++;
    if (t < first_t || t - first_t >= np) {
      res->mismatches++;
      if (!res->first[0])
        snprintf(res->first, sizeof(res->first), "%s t=%zu not computed",
                 cur_unit, t);
      continue;
    }
    const struct mv_epi_detect_point *p = &pts[t - first_t];
    const char *wa = f[ca];
    const char *ga = p->alarm == MV_EPI_ALARM_NA    ? "NA"
                     : p->alarm == MV_EPI_ALARM_YES ? "1"
                                                    : "0";
    bool ok_a = !strcmp(wa, ga) || (!strcmp(wa, "TRUE") && p->alarm == 1) ||
                (!strcmp(wa, "FALSE") && p->alarm == 0);
    bool ok_u = dg_close(p->upperbound, p->upperbound_na, f[cub]);
    const double dv[8] = {p->cusum,  p->cusum_m, p->expected, p->score,
                          p->pvalue, p->mu0,     p->phi,      p->trend_coef};
    for (int i = 0; i < 8; i++) {
      if (dcol[i] < 0 || (size_t)dcol[i] >= nf)
        continue;
      bool na = isnan(dv[i]) && strcmp(f[dcol[i]], "NaN") != 0;
      res->diag_values++;
      if (!dg_close(dv[i], na, f[dcol[i]])) {
        res->diag_mismatches++;
        if (!res->first_diag[0])
          snprintf(res->first_diag, sizeof(res->first_diag),
                   "%s t=%zu: %s %.17g (want %s)", cur_unit, t, dnames[i],
                   dv[i], f[dcol[i]]);
        break;
      }
    }
    if (!ok_a || !ok_u) {
      res->mismatches++;
      if (!res->first[0])
        snprintf(res->first, sizeof(res->first),
                 "%s t=%zu: upperbound %.17g%s (want %s), alarm %s (want %s)",
                 cur_unit, t, p->upperbound, p->upperbound_na ? " NA" : "",
                 f[cub], ga, wa);
    }
  }
  ret = 0;
out:
  free(pts);
  mv_csv_free(g);
  free(gtext);
  mv_epi_panel_free(panel);
  free(csv);
  if (root)
    json_object_put(root);
  free(js);
  return ret;
}

/* Check every golden DIR/<prefix>*__<func>__*.json (inputs in data_dir);
 * prints one PASS/FAIL line each. Returns the number of failures, or -1
 * when there is no such golden. */
DG_FN int dg_family(const char *dir, const char *data_dir, const char *prefix,
                    const char *func) {
  DIR *dh = opendir(dir);
  if (!dh)
    return -1;
  char needle[128];
  snprintf(needle, sizeof(needle), "__%s__", func);
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(dh)) != NULL) {
    size_t l = strlen(e->d_name);
    if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || l < 6 ||
        strcmp(e->d_name + l - 5, ".json") != 0 || !strstr(e->d_name, needle))
      continue;
    char **nn = realloc(names, (n + 1) * sizeof(*names));
    if (!nn)
      break;
    names = nn;
    names[n++] = strndup(e->d_name, l - 5);
  }
  closedir(dh);
  int failed = 0, passed = 0;
  for (size_t i = 0; i < n; i++) {
    struct dg_result r;
    int rc = dg_check(dir, names[i], data_dir, &r);
    bool ok =
        rc == 0 && r.mismatches == 0 && r.diag_mismatches == 0 && r.rows > 0;
    printf("%s %s: %d rows, %d mismatches, %d diagnostic values%s%s\n",
           ok ? "PASS" : "FAIL", names[i], r.rows, r.mismatches, r.diag_values,
           r.first[0] ? "; first: " : "", r.first);
    if (r.diag_mismatches)
      printf("  (diagnostic columns: %d rows differ; first: %s)\n",
             r.diag_mismatches, r.first_diag);
    if (ok)
      passed++;
    else
      failed++;
    free(names[i]);
  }
  free(names);
  printf("%s%s: %d of %d goldens pass\n", prefix, func, passed,
         passed + failed);
  return n == 0 ? -1 : failed;
}

/* The repository's own fixtures (tests/data/epi/detect). */
DG_FN int dg_fixtures(const char *func) {
  const char *src = getenv("MV_SOURCE_DIR");
  char dir[2048];
  snprintf(dir, sizeof(dir), "%s/tests/data/epi/detect", src ? src : ".");
  return dg_family(dir, dir, "fx_", func);
}

#endif
