/* SPDX-License-Identifier: Apache-2.0 */
/*
 * QRS detector accuracy on the shared MIT-BIH records 100-124 and the noise
 * stress records (MV_SHARED_DATA, default ../shared/data: mitdb/, nstdb/).
 * Offline detection, EC57 comparison (150 ms, from 5 min), one parameter
 * set for every record. The default mode (both ECG leads,
 * mv_sig_qrs_detect_leads, as `medverse ecg detect` runs it) must meet the
 * issue's targets: mitdb 100-124 pooled Se >= 99.85 % and +P >= 99.85 %,
 * nstdb 118e24/e12/e00 pooled Se >= 99 % and +P >= 90 %. Signal 0 alone
 * (`--signal 0`) must also meet the mitdb target; on nstdb it is held to a
 * regression floor (it does not reach the noise target, docs/QRS.md).
 * Streaming on 105 and 108 keeps the 300 ms delay bound. Skipped with a
 * message when the data is absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mv_err.h"
#include "mv_sig_qrs.h"
#include "mv_sig_wfdb.h"

static const char *data_dir(char *buf, size_t cap, const char *sub) {
  const char *root = getenv("MV_SHARED_DATA");
  snprintf(buf, cap, "%s/%s", root && root[0] ? root : "../shared/data", sub);
  struct stat st;
  return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? buf : NULL;
}

/* two: the default two-lead mode; else signal 0 alone */
static int score_record(const char *dir, const char *name, int two,
                        struct mv_sig_ec57_result *res) {
  char path[1024];
  struct mv_diag dg;
  struct mv_sig_wfdb_record *r = NULL;
  struct mv_sig_ann *ref = NULL, *test = NULL;
  size_t nref = 0, nb = 0;
  int64_t *beats = NULL;
  int rc;
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  rc = mv_sig_wfdb_read(path, MV_SIG_WFDB_LAX_CHECKSUM, &r, &dg);
  if (rc)
    goto out;
  snprintf(path, sizeof(path), "%s/%s.atr", dir, name);
  rc = mv_sig_ann_read(path, &ref, &nref, &dg);
  if (rc)
    goto out;
  struct mv_sig_qrs_lead leads[MV_SIG_QRS_LEADS_MAX];
  size_t nl = 0;
  for (int k = 0; two && k < r->n_sig && nl < MV_SIG_QRS_LEADS_MAX; k++)
    if (mv_sig_qrs_is_ecg_lead(r->sig[k].desc, r->sig[k].units)) {
      leads[nl].offset = (size_t)k;
      leads[nl].gain_adu_per_mv = r->sig[k].gain;
      leads[nl].baseline_adu = r->sig[k].baseline;
      nl++;
    }
  if (two && nl < 2) {
    rc = MV_EINVAL; /* the shared records all have two ECG leads */
    goto out;
  }
  if (two)
    rc = mv_sig_qrs_detect_leads(r->samples, (size_t)r->n_samples,
                                 (size_t)r->n_sig, r->fs, leads, nl, &beats,
                                 &nb);
  else
    rc = mv_sig_qrs_detect(r->samples, (size_t)r->n_samples, (size_t)r->n_sig,
                           r->fs, r->sig[0].gain, r->sig[0].baseline, &beats,
                           &nb);
  if (rc)
    goto out;
  test = calloc(nb ? nb : 1, sizeof(*test));
  if (!test) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < nb; i++) {
    test[i].sample = beats[i];
    test[i].type = MV_SIG_ANN_NORMAL;
  }
  struct mv_sig_ec57_opts o;
  mv_sig_ec57_opts_default(&o, r->fs);
  o.end_sample = r->n_samples; /* bxb: score to the end of the record */
  rc = mv_sig_ec57_compare(ref, nref, test, nb, &o, res);
out:
  free(test);
  free(beats);
  mv_sig_ann_free(ref);
  mv_sig_wfdb_free(r);
  return rc;
}

static void qrs_mitdb_pooled_targets(void **st) {
  (void)st;
  static const char *const recs[] = {"100", "101", "102", "103", "104", "105",
                                     "106", "107", "108", "109", "111", "112",
                                     "113", "114", "115", "116", "117", "118",
                                     "119", "121", "122", "123", "124"};
  char buf[1024];
  const char *dir = data_dir(buf, sizeof(buf), "mitdb");
  if (!dir) {
    printf("SKIP: shared MIT-BIH data absent (MV_SHARED_DATA/mitdb)\n");
    skip();
  }
  struct mv_sig_ec57_result g = {0}, g1 = {0};
  for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
    struct mv_sig_ec57_result r = {0}, r1 = {0};
    int rc = score_record(dir, recs[i], 1, &r);
    if (!rc)
      rc = score_record(dir, recs[i], 0, &r1);
    if (rc)
      print_error("record %s: %s\n", recs[i], mv_strerror(rc));
    assert_int_equal(rc, MV_OK);
    mv_sig_ec57_add(&g, &r);
    mv_sig_ec57_add(&g1, &r1);
  }
  print_message("mitdb pooled, two leads: TP=%lld FN=%lld FP=%lld Se=%.3f%% "
                "+P=%.3f%% DER=%.3f%%\n",
                (long long)g.tp, (long long)g.fn, (long long)g.fp, g.se_pct,
                g.ppv_pct, g.der_pct);
  print_message("mitdb pooled, signal 0: TP=%lld FN=%lld FP=%lld Se=%.3f%% "
                "+P=%.3f%% DER=%.3f%%\n",
                (long long)g1.tp, (long long)g1.fn, (long long)g1.fp, g1.se_pct,
                g1.ppv_pct, g1.der_pct);
  assert_true(g.tp > 30000); /* the comparison really ran on all records */
  assert_true(g.se_pct >= 99.85);
  assert_true(g.ppv_pct >= 99.85);
  assert_true(g1.tp > 30000);
  assert_true(g1.se_pct >= 99.85);
  assert_true(g1.ppv_pct >= 99.85);
}

static void qrs_nstdb_pooled(void **st) {
  (void)st;
  static const char *const recs[] = {"118e24", "118e12", "118e00"};
  char buf[1024];
  const char *dir = data_dir(buf, sizeof(buf), "nstdb");
  if (!dir) {
    printf("SKIP: shared noise stress data absent (MV_SHARED_DATA/nstdb)\n");
    skip();
  }
  struct mv_sig_ec57_result g = {0}, g1 = {0};
  for (size_t i = 0; i < 3; i++) {
    struct mv_sig_ec57_result r = {0}, r1 = {0};
    assert_int_equal(score_record(dir, recs[i], 1, &r), MV_OK);
    assert_int_equal(score_record(dir, recs[i], 0, &r1), MV_OK);
    print_message("nstdb %s: two leads Se=%.2f%% +P=%.2f%%; signal 0 Se=%.2f%% "
                  "+P=%.2f%%\n",
                  recs[i], r.se_pct, r.ppv_pct, r1.se_pct, r1.ppv_pct);
    mv_sig_ec57_add(&g, &r);
    mv_sig_ec57_add(&g1, &r1);
  }
  print_message("nstdb pooled: two leads Se=%.3f%% +P=%.3f%%; signal 0 "
                "Se=%.3f%% +P=%.3f%%\n",
                g.se_pct, g.ppv_pct, g1.se_pct, g1.ppv_pct);
  assert_true(g.tp > 5000);
  assert_true(g.se_pct >= 99.0); /* the target, default mode */
  assert_true(g.ppv_pct >= 90.0);
  /* signal 0 alone: regression floors under the measured 96.7 % / 89.8 % */
  assert_true(g1.se_pct >= 96.0);
  assert_true(g1.ppv_pct >= 88.0);
}

/* Streaming, one sample per push, on the noisiest records: every beat is
 * reported within MV_SIG_QRS_DELAY_MAX_S of the R peak it reports. */
static void qrs_mitdb_streaming_delay(void **st) {
  (void)st;
  static const char *const recs[] = {"105", "108"};
  char buf[1024], path[1100];
  const char *dir = data_dir(buf, sizeof(buf), "mitdb");
  if (!dir) {
    printf("SKIP: shared MIT-BIH data absent (MV_SHARED_DATA/mitdb)\n");
    skip();
  }
  for (size_t k = 0; k < 2; k++) {
    struct mv_diag dg;
    struct mv_sig_wfdb_record *r = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, recs[k]);
    assert_int_equal(mv_sig_wfdb_read(path, MV_SIG_WFDB_LAX_CHECKSUM, &r, &dg),
                     MV_OK);
    struct mv_sig_qrs *q = NULL;
    assert_int_equal(mv_sig_qrs_new(r->fs, &q), MV_OK);
    int64_t bound = (int64_t)(MV_SIG_QRS_DELAY_MAX_S * r->fs + 1e-9), maxd = 0;
    size_t nb = 0;
    for (int64_t i = 0; i < r->n_samples; i++) {
      int64_t b[4];
      size_t m = mv_sig_qrs_push(q, r->samples + i * r->n_sig, 1,
                                 r->sig[0].gain, r->sig[0].baseline, b, 4);
      for (size_t j = 0; j < m; j++)
        if (i + 1 - b[j] > maxd)
          maxd = i + 1 - b[j];
      nb += m;
    }
    print_message("record %s streaming: %zu beats, max delay %.1f ms\n",
                  recs[k], nb, 1000.0 * (double)maxd / r->fs);
    assert_true(nb > 1000);
    assert_true(maxd <= bound);
    mv_sig_qrs_free(q);
    mv_sig_wfdb_free(r);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(qrs_mitdb_pooled_targets),
      cmocka_unit_test(qrs_nstdb_pooled),
      cmocka_unit_test(qrs_mitdb_streaming_delay),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
