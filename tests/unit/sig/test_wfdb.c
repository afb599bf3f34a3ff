/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for WFDB records and annotation files: header parsing and its
 * errors, decoding every supported format from hand-made bytes, write/read
 * round trips on generated records, checksum and truncation detection, and
 * (when ../shared/data is present) MIT-BIH records read, rewritten and
 * their annotation files rewritten byte for byte.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mv_sig_wfdb.h"
#include "mv_test.h"

static char g_dir[256];

static int setup(void **state) {
  (void)state;
  return mvt_tempdir(g_dir, sizeof(g_dir), "mv-wfdb");
}

static int teardown(void **state) {
  (void)state;
  mvt_rm_rf(g_dir);
  return 0;
}

static void write_file(const char *name, const void *buf, size_t n) {
  char p[512];
  snprintf(p, sizeof(p), "%s/%s", g_dir, name);
  FILE *f = fopen(p, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
}

static void path_of(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/%s", g_dir, name);
}

static struct mv_sig_wfdb_record *parse_ok(const char *text) {
  struct mv_sig_wfdb_record *r = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_sig_wfdb_parse_header(text, strlen(text), "t.hea", &r, &d);
  if (rc)
    fprintf(stderr, "unexpected: %s\n", d.msg);
  assert_int_equal(rc, MV_OK);
  return r;
}

static void wfdb_header_parses_every_field(void **state) {
  (void)state;
  struct mv_sig_wfdb_record *r =
      parse_ok("# leading comment\r\n"
               "rec 3 360/36(5) 1000 10:11:12 01/02/2020\r\n"
               "rec.dat 212:2+10 100(1000)/uV 11 1024 995 -22131 0 MLII lead\n"
               "rec.dat 212+10\n"
               "other.dat 16 0 16 7 3\n"
               "#  age 60\n");
  assert_string_equal(r->name, "rec");
  assert_int_equal(r->n_sig, 3);
  assert_true(r->fs == 360.0 && r->counter_freq == 36.0);
  assert_true(r->base_counter == 5.0);
  assert_int_equal(r->n_samples, 1000);
  assert_string_equal(r->base_time, "10:11:12");
  assert_string_equal(r->base_date, "01/02/2020");
  const struct mv_sig_wfdb_signal *s = &r->sig[0];
  assert_string_equal(s->file, "rec.dat");
  assert_int_equal(s->fmt, 212);
  assert_int_equal(s->skew, 2);
  assert_int_equal(s->byte_offset, 10);
  assert_true(s->gain == 100.0 && s->gain_given);
  assert_int_equal(s->baseline, 1000);
  assert_string_equal(s->units, "uV");
  assert_int_equal(s->adc_res, 11);
  assert_int_equal(s->adc_zero, 1024);
  assert_int_equal(s->init_value, 995);
  assert_true(s->has_checksum);
  assert_int_equal(s->checksum, -22131);
  assert_string_equal(s->desc, "MLII lead");
  assert_int_equal(s->line, 3);
  /* Defaults of a minimal line. */
  s = &r->sig[1];
  assert_true(s->gain == 200.0 && !s->gain_given);
  assert_string_equal(s->units, "mV");
  assert_int_equal(s->adc_res, 12);
  assert_false(s->has_checksum);
  assert_string_equal(s->desc, "signal 1");
  /* Gain 0 means uncalibrated (200 assumed); baseline defaults to zero. */
  s = &r->sig[2];
  assert_false(s->gain_given);
  assert_int_equal(s->adc_zero, 7);
  assert_int_equal(s->baseline, 7);
  assert_int_equal(s->init_value, 3);
  assert_string_equal(r->comments, " leading comment\n  age 60");
  mv_sig_wfdb_free(r);
  /* Record line alone: fs 250, unknown length. */
  r = parse_ok("x 0\n");
  assert_true(r->fs == 250.0);
  assert_int_equal(r->n_samples, -1);
  mv_sig_wfdb_free(r);
}

static void wfdb_header_errors_name_file_and_line(void **state) {
  (void)state;
  struct {
    const char *text;
    int err;
    int line;
  } cases[] = {
      {"", MV_EPARSE, 0},
      {"# only comments\n", MV_EPARSE, 1},
      {"r\n", MV_EPARSE, 1},
      {"r x\n", MV_EPARSE, 1},
      {"r 65\n", MV_ETOOBIG, 1},
      {"r -1\n", MV_EPARSE, 1},
      {"r/2 1\n", MV_EUNSUPPORTED, 1},
      {"r 1 0\n", MV_EPARSE, 1},
      {"r 1 abc\n", MV_EPARSE, 1},
      {"r 1 nan\n", MV_EPARSE, 1},
      {"r 1 360 -5\n", MV_EPARSE, 1},
      {"r 1 360 10 xx\n", MV_EPARSE, 1},
      {"r 1 360 10 1:00 1/1/2000 extra\n", MV_EPARSE, 1},
      {"r 1 360 10\n", MV_EPARSE, 1},                   /* no signal line */
      {"r 1 360 10\nr.dat\n", MV_EPARSE, 2},            /* no format */
      {"r 1 360 10\nr.dat 999\n", MV_EUNSUPPORTED, 2},  /* format */
      {"r 1 360 10\nr.dat 16x2\n", MV_EUNSUPPORTED, 2}, /* spf */
      {"r 1 360 10\nr.dat 16:\n", MV_EPARSE, 2},
      {"r 1 360 10\nr.dat 16 abc\n", MV_EPARSE, 2},
      {"r 1 360 10\nr.dat 16 200(x)\n", MV_EPARSE, 2},
      {"r 1 360 10\nr.dat 16 200/\n", MV_EPARSE, 2},
      {"r 1 360 10\nr.dat 16 200 99\n", MV_EPARSE, 2}, /* adc res */
      {"r 1 360 10\nr.dat 16 200 16 0 0 70000\n", MV_EPARSE, 2},
      {"r 1 360 10\n../etc/passwd 16\n", MV_EUNSUPPORTED, 2},
      {"r 1 360 10\n/abs.dat 16\n", MV_EUNSUPPORTED, 2},
      {"r 1 360 10\n\n# c\nr.dat 16\nr.dat 16\n", MV_EPARSE, 5},
      {"r 2 360 10\nr.dat 16\nr.dat 212\n", MV_EPARSE, 3},
      {"r 3 360 10\na.dat 16\nb.dat 16\na.dat 16\n", MV_EPARSE, 4},
      {"r 1 360 10\nr.dat 16 200/aVeryLongUnitNameThatDoesNotFit\n", MV_ETOOBIG,
       2},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mv_sig_wfdb_record *r = NULL;
    struct mv_diag d;
    mv_diag_clear(&d);
    int rc = mv_sig_wfdb_parse_header(cases[i].text, strlen(cases[i].text),
                                      "t.hea", &r, &d);
    if (rc != cases[i].err || d.line != cases[i].line)
      fprintf(stderr, "case %zu: rc %d line %d (%s)\n", i, rc, d.line, d.msg);
    assert_int_equal(rc, cases[i].err);
    assert_int_equal(d.line, cases[i].line);
    assert_string_equal(d.path, "t.hea");
    assert_true(d.msg[0] != '\0');
    assert_null(r);
  }
  /* Bounds: a long line, a NUL byte, an oversized header. */
  char big[2048];
  memset(big, 'a', sizeof(big));
  big[sizeof(big) - 1] = '\0';
  struct mv_sig_wfdb_record *r = NULL;
  assert_int_equal(mv_sig_wfdb_parse_header(big, strlen(big), "t", &r, NULL),
                   MV_ETOOBIG);
  assert_int_equal(mv_sig_wfdb_parse_header("r 1\0x", 5, "t", &r, NULL),
                   MV_EPARSE);
  char *huge = calloc(MV_SIG_WFDB_MAX_HEADER + 2, 1);
  assert_non_null(huge);
  memset(huge, '#', MV_SIG_WFDB_MAX_HEADER + 1);
  assert_int_equal(
      mv_sig_wfdb_parse_header(huge, MV_SIG_WFDB_MAX_HEADER + 1, "t", &r, NULL),
      MV_ETOOBIG);
  free(huge);
  assert_null(r);
}

/* A generated 3-signal record with extremes and invalid samples. */
static struct mv_sig_wfdb_record *gen_record(int64_t n, int32_t lo,
                                             int32_t hi) {
  struct mv_sig_wfdb_record *r = NULL;
  assert_int_equal(mv_sig_wfdb_record_new(3, n, 500.0, &r), MV_OK);
  uint64_t x = 12345;
  for (int64_t i = 0; i < n; i++)
    for (int s = 0; s < 3; s++) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      int32_t v = lo + (int32_t)((x >> 33) % (uint64_t)(hi - lo + 1));
      if (i == 5 && s == 1)
        v = MV_SIG_WFDB_INVALID;
      if (i == 6)
        v = s == 0 ? lo : hi;
      r->samples[i * 3 + s] = v;
    }
  r->sig[0].gain = 1000;
  r->sig[0].baseline = -3;
  snprintf(r->sig[0].desc, sizeof(r->sig[0].desc), "ECG lead II");
  snprintf(r->sig[1].units, sizeof(r->sig[1].units), "mmHg");
  r->sig[2].gain_given = false;
  snprintf(r->comments, sizeof(r->comments), "generated\nsecond line");
  return r;
}

static void roundtrip(int fmt, int32_t lo, int32_t hi) {
  struct mv_sig_wfdb_record *w = gen_record(1001, lo, hi), *r = NULL;
  char rec[512];
  path_of(rec, sizeof(rec), fmt == 16 ? "g16" : "g212");
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_sig_wfdb_write(rec, w, fmt, &d), MV_OK);
  assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_OK);
  assert_true(r->checksum_ok);
  assert_int_equal(r->n_sig, 3);
  assert_int_equal(r->n_samples, 1001);
  assert_true(r->fs == 500.0);
  assert_memory_equal(r->samples, w->samples, 1001 * 3 * sizeof(int32_t));
  assert_int_equal(r->sig[0].fmt, fmt);
  assert_true(r->sig[0].gain == 1000);
  assert_int_equal(r->sig[0].baseline, -3);
  assert_string_equal(r->sig[0].desc, "ECG lead II");
  assert_string_equal(r->sig[1].units, "mmHg");
  assert_false(r->sig[2].gain_given);
  assert_string_equal(r->comments, "generated\nsecond line");
  assert_int_equal(r->samples[5 * 3 + 1], MV_SIG_WFDB_INVALID);
  assert_true(isnan(mv_sig_wfdb_phys(r, 1, r->samples[5 * 3 + 1])));
  assert_true(fabs(mv_sig_wfdb_phys(r, 0, 997) - 1.0) < 1e-12);
  mv_sig_wfdb_free(r);
  /* Out-of-range samples are refused, nothing half written. */
  w->samples[0] = hi + 1;
  assert_int_equal(mv_sig_wfdb_write(rec, w, fmt, &d), MV_ERANGE);
  mv_sig_wfdb_free(w);
}

static void wfdb_roundtrip_format_16(void **state) {
  (void)state;
  roundtrip(16, -32767, 32767);
}

static void wfdb_roundtrip_format_212_odd_length(void **state) {
  (void)state;
  /* 3 signals x 1001 samples: an odd count, the last pair half-filled. */
  roundtrip(212, -2047, 2047);
}

static void wfdb_read_detects_checksum_and_truncation(void **state) {
  (void)state;
  struct mv_sig_wfdb_record *w = gen_record(200, -2047, 2047), *r = NULL;
  char rec[512], dat[512];
  path_of(rec, sizeof(rec), "ck");
  path_of(dat, sizeof(dat), "ck.dat");
  assert_int_equal(mv_sig_wfdb_write(rec, w, 212, NULL), MV_OK);
  FILE *f = fopen(dat, "r+b");
  assert_non_null(f);
  fseek(f, 30, SEEK_SET);
  int c = fgetc(f);
  fseek(f, 30, SEEK_SET);
  fputc(c ^ 0x01, f);
  fclose(f);
  struct mv_diag d;
  mv_diag_clear(&d);
  assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_ECORRUPT);
  assert_null(r);
  assert_non_null(strstr(d.msg, "checksum"));
  assert_true(d.line >= 2 && d.line <= 4); /* a signal line */
  assert_int_equal(mv_sig_wfdb_read(rec, MV_SIG_WFDB_LAX_CHECKSUM, &r, &d),
                   MV_OK);
  assert_false(r->checksum_ok);
  mv_sig_wfdb_free(r);
  r = NULL;
  /* Truncate the file: fewer samples than the header says. */
  assert_int_equal(truncate(dat, 100), 0);
  mv_diag_clear(&d);
  assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_ECORRUPT);
  assert_non_null(strstr(d.msg, "holds"));
  /* Missing signal file, missing header. */
  unlink(dat);
  assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_ENOTFOUND);
  path_of(rec, sizeof(rec), "nope");
  assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_ENOTFOUND);
  assert_null(r);
  mv_sig_wfdb_free(w);
}

static struct mv_sig_wfdb_record *read_ok(const char *name) {
  char rec[512];
  path_of(rec, sizeof(rec), name);
  struct mv_sig_wfdb_record *r = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_sig_wfdb_read(rec, 0, &r, &d);
  if (rc)
    fprintf(stderr, "read %s: %s\n", name, d.msg);
  assert_int_equal(rc, MV_OK);
  assert_true(r->checksum_ok);
  return r;
}

static void wfdb_reads_other_formats_and_layouts(void **state) {
  (void)state;
  /* Format 80 and 61 in separate files, 3 samples each; 61 has a skew of
   * 1 and a 2-byte offset. Checksums sum the raw values: 80: -128 + 0 +
   * 127 = -1 (-128 is the invalid code); 61: 258 - 2 + 32767 = 33023,
   * -32513 as a 16-bit signed value. */
  const uint8_t d80[] = {0x00, 0x80, 0xff};
  const uint8_t d61[] = {0xaa, 0xbb, 0x00, 0x05, 0x01,
                         0x02, 0xff, 0xfe, 0x7f, 0xff};
  write_file("m80.dat", d80, sizeof(d80));
  write_file("m61.dat", d61, sizeof(d61));
  const char *hea = "m 2 100 3\n"
                    "m80.dat 80 1 8 0 0 -1 0 a\n"
                    "m61.dat 61:1+2 1 16 0 0 -32513 0 b\n";
  write_file("m.hea", hea, strlen(hea));
  struct mv_sig_wfdb_record *r = read_ok("m");
  assert_int_equal(r->n_samples, 3);
  assert_int_equal(r->samples[0], MV_SIG_WFDB_INVALID); /* byte 0 = -128 */
  assert_int_equal(r->samples[2], 0);
  assert_int_equal(r->samples[4], 127);
  /* 61 stream: 5, 258, -2, 32767; skew 1 drops the first. */
  assert_int_equal(r->samples[1], 258);
  assert_int_equal(r->samples[3], -2);
  assert_int_equal(r->samples[5], 32767);
  mv_sig_wfdb_free(r);

  /* 310: words w0 = s0<<1 | (s2 low 5)<<11, w1 = s1<<1 | (s2 high 5)<<11.
   * s0 = 5, s1 = -1 (0x3ff), s2 = -512 + 33 = 0x221. */
  uint32_t s0 = 5, s1 = 0x3ff, s2 = 0x221;
  uint32_t w0 = (s0 << 1) | ((s2 & 0x1f) << 11);
  uint32_t w1 = (s1 << 1) | ((s2 >> 5) << 11);
  uint8_t d310[] = {(uint8_t)w0, (uint8_t)(w0 >> 8), (uint8_t)w1,
                    (uint8_t)(w1 >> 8)};
  write_file("p.dat", d310, sizeof(d310));
  uint32_t w = 7 | (0x3feu << 10) | (0x200u << 20);
  uint8_t d311[] = {(uint8_t)w, (uint8_t)(w >> 8), (uint8_t)(w >> 16),
                    (uint8_t)(w >> 24)};
  write_file("q.dat", d311, sizeof(d311));
  /* 160 offset binary, 24 and 32 little-endian, 8 first differences. */
  const uint8_t d160[] = {0x00, 0x80, 0xff, 0xff, 0x00, 0x00};
  const uint8_t d24[] = {0xff, 0xff, 0xff, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00};
  const uint8_t d32[] = {0x01, 0x00, 0x00, 0x80, 0xfe, 0xff,
                         0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
  const uint8_t d8[] = {0x01, 0xff, 0x7f};
  write_file("u.dat", d160, sizeof(d160));
  write_file("v.dat", d24, sizeof(d24));
  write_file("w.dat", d32, sizeof(d32));
  write_file("x.dat", d8, sizeof(d8));
  const char *hea2 = "n 6 100\n"
                     "p.dat 310\nq.dat 311\nu.dat 160\nv.dat 24\nw.dat 32\n"
                     "x.dat 8 200 8 0 10\n";
  write_file("n.hea", hea2, strlen(hea2));
  r = read_ok("n");
  assert_int_equal(r->n_samples, 3); /* from the file sizes */
  /* Columns: 310, 311, 160, 24, 32, 8. Each format's own invalid code
   * (311: -512, 160: 0x0000, 24: -2^23) becomes MV_SIG_WFDB_INVALID. */
  const int32_t want[3][6] = {
      {5, 7, 0, -1, INT32_MIN + 1, 11},
      {-1, -2, 32767, MV_SIG_WFDB_INVALID, -2, 10},
      {0x221 - 1024, MV_SIG_WFDB_INVALID, MV_SIG_WFDB_INVALID, 1, 0, 137},
  };
  for (int i = 0; i < 3; i++)
    for (int s = 0; s < 6; s++) {
      if (r->samples[i * 6 + s] != want[i][s])
        fprintf(stderr, "sample %d signal %d: %d\n", i, s,
                r->samples[i * 6 + s]);
      assert_int_equal(r->samples[i * 6 + s], want[i][s]);
    }
  mv_sig_wfdb_free(r);
}

static int rnd(uint64_t *x, int m) {
  *x = *x * 6364136223846793005ull + 1442695040888963407ull;
  return (int)((*x >> 33) % (uint64_t)m);
}

/* Random but well-formed headers over random signal files of random length:
 * every read ends in MV_OK or a clean error (ASan/UBSan watch the rest). */
static void wfdb_read_survives_random_layouts(void **state) {
  (void)state;
  static const int fmts[] = {8, 16, 24, 32, 61, 80, 160, 212, 310, 311};
  uint64_t x = 99;
#define RND(m) rnd(&x, m)
  int ok = 0, failed = 0;
  for (int iter = 0; iter < 300; iter++) {
    int n_files = 1 + RND(3);
    char hea[2048];
    int nsig = 0;
    size_t hl = 0;
    int declared = RND(4) == 0 ? 0 : RND(200);
    char lines[1536] = "";
    size_t ll = 0;
    for (int f = 0; f < n_files; f++) {
      int fmt = fmts[RND(10)], per = 1 + RND(3), off = RND(3) ? 0 : RND(8);
      char name[32];
      snprintf(name, sizeof(name), "rf%d.dat", f);
      for (int k = 0; k < per; k++, nsig++) {
        int skew = RND(4) ? 0 : RND(5);
        int gain = 1 + RND(500), zero = RND(9) - 4, init = RND(9) - 4;
        int ck = RND(3) ? RND(65536) - 32768 : 0;
        ll += (size_t)snprintf(lines + ll, sizeof(lines) - ll,
                               "%s %d:%d+%d %d 16 %d %d %d 0 s\n", name, fmt,
                               skew, off, gain, zero, init, ck);
      }
      size_t n = (size_t)RND(700);
      uint8_t buf[700];
      for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)RND(256);
      write_file(name, buf, n);
    }
    hl = (size_t)snprintf(hea, sizeof(hea), "rr %d 250 %d\n%s", nsig, declared,
                          lines);
    write_file("rr.hea", hea, hl);
    struct mv_sig_wfdb_record *r = NULL;
    struct mv_diag d;
    mv_diag_clear(&d);
    char rec[512];
    path_of(rec, sizeof(rec), "rr");
    int rc = mv_sig_wfdb_read(rec, MV_SIG_WFDB_LAX_CHECKSUM, &r, &d);
    if (rc == MV_OK) {
      assert_non_null(r);
      assert_int_equal(r->n_sig, nsig);
      assert_true(r->n_samples >= 0);
      ok++;
    } else {
      assert_null(r);
      assert_true(rc == MV_ECORRUPT || rc == MV_EPARSE);
      assert_true(d.msg[0] != '\0');
      failed++;
    }
    mv_sig_wfdb_free(r);
  }
#undef RND
  /* Both outcomes occur, so the loop exercises decoding and rejection. */
  assert_true(ok > 20 && failed > 20);
}

static const char *shared_data(void) {
  const char *d = getenv("MV_SHARED_DATA");
  return d && *d ? d : "../shared/data";
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void wfdb_mitdb_100_reads_and_round_trips(void **state) {
  (void)state;
  char rec[512], atr[512];
  snprintf(rec, sizeof(rec), "%s/mitdb/100", shared_data());
  snprintf(atr, sizeof(atr), "%s.hea", rec);
  if (access(atr, R_OK) != 0) {
    printf("SKIP: MIT-BIH record 100 absent (MV_SHARED_DATA/mitdb)\n");
    return;
  }
  struct mv_sig_wfdb_record *r = NULL, *b = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  /* Best of 5 reads (the machine may be shared); the figure in
   * docs/ECG.md comes from the release build of this test. */
  double best = 1e9;
  for (int k = 0; k < 5; k++) {
    mv_sig_wfdb_free(r);
    r = NULL;
    double t0 = now_ms();
    assert_int_equal(mv_sig_wfdb_read(rec, 0, &r, &d), MV_OK);
    double dt = now_ms() - t0;
    best = dt < best ? dt : best;
  }
  printf("read mitdb/100 (650000 x 2 samples, format 212): best of 5 "
         "%.2f ms\n",
         best);
  assert_true(r->checksum_ok);
  assert_int_equal(r->n_sig, 2);
  assert_int_equal(r->n_samples, 650000);
  assert_true(r->fs == 360.0);
  assert_int_equal(r->samples[0], 995); /* header init values */
  assert_int_equal(r->samples[1], 1011);
  assert_string_equal(r->sig[0].desc, "MLII");
  assert_int_equal(r->sig[0].baseline, 1024);
  char out[512];
  path_of(out, sizeof(out), "m100");
  assert_int_equal(mv_sig_wfdb_write(out, r, 212, &d), MV_OK);
  assert_int_equal(mv_sig_wfdb_read(out, 0, &b, &d), MV_OK);
  assert_int_equal(b->n_samples, r->n_samples);
  assert_memory_equal(b->samples, r->samples,
                      (size_t)r->n_samples * 2 * sizeof(int32_t));
  for (int s = 0; s < 2; s++) /* our checksums equal PhysioNet's */
    assert_int_equal(b->sig[s].checksum, r->sig[s].checksum);
  /* The rewritten .dat is byte-identical to the original. */
  char p1[600], p2[600];
  snprintf(p1, sizeof(p1), "%s.dat", rec);
  snprintf(p2, sizeof(p2), "%s.dat", out);
  FILE *f1 = fopen(p1, "rb"), *f2 = fopen(p2, "rb");
  assert_non_null(f1);
  assert_non_null(f2);
  int c1, c2;
  do {
    c1 = fgetc(f1);
    c2 = fgetc(f2);
    assert_int_equal(c1, c2);
  } while (c1 != EOF);
  fclose(f1);
  fclose(f2);
  mv_sig_wfdb_free(r);
  mv_sig_wfdb_free(b);
}

/* ---- Annotations ---- */

static void ann_round_trip_generated(void **state) {
  (void)state;
  struct mv_sig_ann a[7] = {
      {.sample = 0, .type = MV_SIG_ANN_RHYTHM, .aux = "(N", .aux_len = 2},
      {.sample = 18, .type = MV_SIG_ANN_NORMAL},
      {.sample = 1041, .type = MV_SIG_ANN_PVC, .sub = -1}, /* 1023 gap */
      {.sample = 1042 + 5000000, .type = MV_SIG_ANN_NORMAL, .chan = 1},
      {.sample = 1042 + 5000000, .type = MV_SIG_ANN_NOISE, .num = 3},
      {.sample = 6000000, .type = MV_SIG_ANN_NOTE, .aux = "odd", .aux_len = 3},
      {.sample = 6000001, .type = MV_SIG_ANN_NORMAL, .chan = 1, .num = 3},
  };
  char p[512];
  path_of(p, sizeof(p), "g.atr");
  assert_int_equal(mv_sig_ann_write(p, a, 7, NULL), MV_OK);
  struct mv_sig_ann *b = NULL;
  size_t n = 0;
  assert_int_equal(mv_sig_ann_read(p, &b, &n, NULL), MV_OK);
  assert_int_equal(n, 7);
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(b[i].sample, a[i].sample);
    assert_int_equal(b[i].type, a[i].type);
    assert_int_equal(b[i].sub, a[i].sub);
    assert_int_equal(b[i].chan, a[i].chan);
    assert_int_equal(b[i].num, a[i].num);
    assert_int_equal(b[i].aux_len, a[i].aux_len);
    if (a[i].aux)
      assert_memory_equal(b[i].aux, a[i].aux, a[i].aux_len);
    else
      assert_null(b[i].aux);
  }
  mv_sig_ann_free(b);
  /* Unsorted input is refused. */
  struct mv_sig_ann bad[2] = {{.sample = 5, .type = 1},
                              {.sample = 4, .type = 1}};
  assert_int_equal(mv_sig_ann_write(p, bad, 2, NULL), MV_EINVAL);
}

static void ann_parse_rejects_malformed(void **state) {
  (void)state;
  struct {
    uint8_t b[8];
    size_t n;
    int err;
  } cases[] = {
      {{0x05, 0x04, 0x00}, 3, MV_EPARSE},             /* odd length */
      {{0x00, 0xec, 0x00, 0x00}, 4, MV_EPARSE},       /* truncated SKIP */
      {{0x05, 0xc8}, 2, MV_EPARSE},                   /* code 50 */
      {{0x03, 0xf0}, 2, MV_EPARSE},                   /* NUM first */
      {{0x05, 0x04, 0x04, 0xfc, 0x61}, 5, MV_EPARSE}, /* AUX truncated */
      {{0x00, 0xec, 0xff, 0xff, 0x00, 0x00, 0x01, 0x04}, 8, MV_EPARSE},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    struct mv_sig_ann *a = NULL;
    size_t n = 0;
    struct mv_diag d;
    mv_diag_clear(&d);
    int rc = mv_sig_ann_parse(cases[i].b, cases[i].n, "t.atr", &a, &n, &d);
    if (rc != cases[i].err)
      fprintf(stderr, "case %zu: rc %d\n", i, rc);
    assert_int_equal(rc, cases[i].err);
    assert_null(a);
    assert_string_equal(d.path, "t.atr");
  }
  /* A negative SKIP that takes time back before the previous annotation. */
  const uint8_t back[] = {0x05, 0x04, 0x00, 0xec, 0xff, 0xff,
                          0xfd, 0xff, 0x00, 0x04, 0x00, 0x00};
  struct mv_sig_ann *bk = NULL;
  size_t nb = 0;
  assert_int_equal(mv_sig_ann_parse(back, sizeof(back), "t", &bk, &nb, NULL),
                   MV_EPARSE);
  assert_null(bk);
  /* No end marker: the data simply ends. Data after the marker is ignored. */
  const uint8_t ok[] = {0x05, 0x04, 0x00, 0x00, 0x05, 0x04};
  struct mv_sig_ann *a = NULL;
  size_t n = 0;
  assert_int_equal(mv_sig_ann_parse(ok, 2, "t", &a, &n, NULL), MV_OK);
  assert_int_equal(n, 1);
  assert_int_equal(a[0].sample, 5);
  assert_int_equal(a[0].type, MV_SIG_ANN_NORMAL);
  mv_sig_ann_free(a);
  assert_int_equal(mv_sig_ann_parse(ok, sizeof(ok), "t", &a, &n, NULL), MV_OK);
  assert_int_equal(n, 1);
  mv_sig_ann_free(a);
}

static void ann_codes_and_beats(void **state) {
  (void)state;
  const char *beats = "NLRaVFJASEj/QBen?fr";
  char m[2] = {0};
  for (const char *c = beats; *c; c++) {
    m[0] = *c;
    int code = mv_sig_ann_code(m);
    assert_true(code > 0);
    assert_true(mv_sig_ann_is_beat((uint8_t)code));
    assert_string_equal(mv_sig_ann_mnemonic((uint8_t)code), m);
  }
  const char *non = "~|sT*D\"=pt+u![]x()@^";
  for (const char *c = non; *c; c++) {
    m[0] = *c;
    int code = mv_sig_ann_code(m);
    assert_true(code > 0);
    assert_false(mv_sig_ann_is_beat((uint8_t)code));
  }
  assert_int_equal(mv_sig_ann_code("Z"), -1);
  assert_string_equal(mv_sig_ann_mnemonic(200), "");
  assert_string_equal(mv_sig_ann_mnemonic(15), "");
}

static void ann_mitdb_files_rewrite_byte_identical(void **state) {
  (void)state;
  const int recs[] = {100, 101, 102, 103, 104, 105, 106, 107,
                      108, 109, 111, 112, 113, 114, 115, 116,
                      117, 118, 119, 121, 122, 123, 124};
  int done = 0;
  long beats_100 = -1;
  for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
    char p[512], q[512];
    snprintf(p, sizeof(p), "%s/mitdb/%d.atr", shared_data(), recs[i]);
    if (access(p, R_OK) != 0)
      continue;
    struct mv_sig_ann *a = NULL;
    size_t n = 0;
    struct mv_diag d;
    mv_diag_clear(&d);
    assert_int_equal(mv_sig_ann_read(p, &a, &n, &d), MV_OK);
    if (recs[i] == 100) {
      beats_100 = 0;
      for (size_t k = 0; k < n; k++)
        beats_100 += mv_sig_ann_is_beat(a[k].type);
    }
    path_of(q, sizeof(q), "re.atr");
    assert_int_equal(mv_sig_ann_write(q, a, n, &d), MV_OK);
    char *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    x = malloc(1 << 20);
    nx = fread(x, 1, 1 << 20, f);
    fclose(f);
    f = fopen(q, "rb");
    assert_non_null(f);
    y = malloc(1 << 20);
    ny = fread(y, 1, 1 << 20, f);
    fclose(f);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    free(x);
    free(y);
    mv_sig_ann_free(a);
    done++;
  }
  if (done == 0) {
    printf("SKIP: MIT-BIH annotations absent (MV_SHARED_DATA/mitdb)\n");
    return;
  }
  printf("%d annotation files rewritten byte-identical\n", done);
  /* The MIT-BIH directory lists 2273 beats for record 100. */
  if (beats_100 >= 0)
    assert_int_equal(beats_100, 2273);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(wfdb_header_parses_every_field),
      cmocka_unit_test(wfdb_header_errors_name_file_and_line),
      cmocka_unit_test(wfdb_roundtrip_format_16),
      cmocka_unit_test(wfdb_roundtrip_format_212_odd_length),
      cmocka_unit_test(wfdb_read_detects_checksum_and_truncation),
      cmocka_unit_test(wfdb_reads_other_formats_and_layouts),
      cmocka_unit_test(wfdb_read_survives_random_layouts),
      cmocka_unit_test(wfdb_mitdb_100_reads_and_round_trips),
      cmocka_unit_test(ann_round_trip_generated),
      cmocka_unit_test(ann_parse_rejects_malformed),
      cmocka_unit_test(ann_codes_and_beats),
      cmocka_unit_test(ann_mitdb_files_rewrite_byte_identical),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
