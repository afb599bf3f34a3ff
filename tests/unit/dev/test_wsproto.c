/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The WebSocket device protocol decoders (src/dev/wsproto*.c): every
 * error path names its JSON path (or "frame...") and the seq when it could
 * be read; values are converted to the code's canonical unit and judged
 * against the clinical table's ranges (taken from the table, not from
 * numbers copied here); binary frames are checked byte for byte.
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

#include "mv_clin.h"
#include "mv_dev_ws.h"

struct fx {
  struct mv_arena *a;
  struct mv_dev_ws_msg m;
  struct mv_diag d;
};

static int setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  f->a = mv_arena_new(64u * 1024u * 1024u);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  mv_arena_free(f->a);
  free(f);
  return 0;
}

#define T0 "\"t\":\"2026-11-25T04:00:00.000Z\""

static int dec(struct fx *f, const char *text, const char *pdef) {
  mv_diag_clear(&f->d);
  return mv_dev_ws_decode_text(text, strlen(text), pdef, "mon-1", f->a, &f->m,
                               &f->d);
}

/* Expect err with diag path `path`. */
static void bad(struct fx *f, const char *text, int err, const char *path) {
  int rc = dec(f, text, "p1");
  if (rc != err || strcmp(f->d.path, path) != 0)
    fail_msg("%s: got %s path '%s' (%s), want %s path '%s'", text,
             mv_err_name(rc), f->d.path, f->d.msg, mv_err_name(err), path);
  assert_int_equal(f->m.n_obs, 0);
}

static void vitals_quantity_bp_temperature_and_codes(void **state) {
  struct fx *f = *state;
  const char *msg =
      "{\"type\":\"vitals\",\"seq\":42," T0 ",\"values\":["
      "{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\"},"
      "{\"code\":\"MDC_PULS_OXIM_SAT_O2\",\"value\":97,\"unit\":\"%\"},"
      "{\"code\":\"85354-9\",\"sys\":120,\"dia\":80,\"unit\":\"mm[Hg]\"},"
      "{\"code\":\"8310-5\",\"value\":98.6,\"unit\":\"[degF]\","
      "\"t_us\":1795579200500000}]}";
  assert_int_equal(dec(f, msg, "p1"), MV_OK);
  assert_int_equal(f->m.type, MV_DEV_WS_VITALS);
  assert_int_equal(f->m.seq, 42);
  assert_int_equal(f->m.n_obs, 4);
  struct mv_dev_obs *o = f->m.obs;
  assert_string_equal(o[0].loinc, "8867-4");
  assert_string_equal(o[0].patient, "p1");
  assert_string_equal(o[0].device, "mon-1");
  assert_int_equal(o[0].kind, MV_DEV_QUANTITY);
  assert_true(fabs(o[0].value - 72) < 1e-9);
  assert_int_equal(o[0].t_us, 1795579200000000LL); /* 2026-11-25T04:00Z */
  assert_int_equal(o[0].seq, 42);
  assert_int_equal(o[0].quality, 0);
  assert_string_equal(o[1].mdc, "MDC_PULS_OXIM_SAT_O2");
  assert_int_equal(o[2].kind, MV_DEV_PANEL_BP);
  assert_true(fabs(o[2].value - 120) < 1e-9 && fabs(o[2].value2 - 80) < 1e-9);
  /* degF converted to the table's unit for body temperature */
  assert_string_equal(o[3].ucum, "Cel");
  assert_true(fabs(o[3].value - 37.0) < 1e-6);
  assert_int_equal(o[3].t_us, 1795579200500000LL); /* its own t_us */
}

static void numeric_mdc_code_is_accepted(void **state) {
  struct fx *f = *state;
  const struct mv_clin_code *c = mv_clin_by_mdc_ref("MDC_PULS_OXIM_SAT_O2");
  char msg[256];
  assert_non_null(c);
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1," T0 ",\"values\":[{\"code\":"
           "\"%u\",\"value\":97,\"unit\":\"%%\"}]}",
           c->mdc_code);
  assert_int_equal(dec(f, msg, "p1"), MV_OK);
  assert_string_equal(f->m.obs[0].loinc, c->loinc);
}

static void implausible_is_flagged_impossible_is_rejected(void **state) {
  struct fx *f = *state;
  const struct mv_clin_code *c = mv_clin_by_loinc("8867-4");
  char msg[256];
  assert_non_null(c);
  /* between the plausible and the possible upper bounds */
  double v = (c->plausible.hi + c->possible.hi) / 2;
  assert_true(v > c->plausible.hi && v < c->possible.hi);
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1," T0 ",\"values\":[{\"code\":"
           "\"8867-4\",\"value\":%.3f,\"unit\":\"/min\"}]}",
           v);
  assert_int_equal(dec(f, msg, "p1"), MV_OK);
  assert_int_equal(f->m.obs[0].quality, MV_DEV_Q_RANGE);
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":7," T0 ",\"values\":[{\"code\":"
           "\"8867-4\",\"value\":72,\"unit\":\"/min\"},{\"code\":\"8867-4\","
           "\"value\":%.0f,\"unit\":\"/min\"}]}",
           c->possible.hi * 10 + 10);
  bad(f, msg, MV_ERANGE, "values[1].value");
  assert_int_equal(f->m.seq, 7); /* the answer can name the seq */
}

static void series_and_quality_flags(void **state) {
  struct fx *f = *state;
  assert_int_equal(
      dec(f,
          "{\"type\":\"vitals\",\"seq\":3," T0 ",\"values\":["
          "{\"code\":\"8867-4\",\"period_ms\":1000,\"unit\":\"/min\","
          "\"data\":[72,73,73,74]},"
          "{\"code\":\"59408-5\",\"value\":80,\"unit\":\"%\","
          "\"quality\":[\"noisy\",\"lead-off\",\"questionable\",\"flat\","
          "\"clipped\",\"range\"]}]}",
          "p1"),
      MV_OK);
  struct mv_dev_obs *o = f->m.obs;
  assert_int_equal(o[0].kind, MV_DEV_SERIES);
  assert_int_equal(o[0].n, 4);
  assert_true(fabs(o[0].data[3] - 74) < 1e-9);
  assert_true(fabs(o[0].period_ms - 1000) < 1e-9);
  assert_true(fabs(o[0].factor - 1) < 1e-12 && fabs(o[0].origin) < 1e-12);
  assert_int_equal(o[1].quality, MV_DEV_Q_NOISY | MV_DEV_Q_LEAD_OFF |
                                     MV_DEV_Q_DEVICE | MV_DEV_Q_FLAT |
                                     MV_DEV_Q_CLIPPED | MV_DEV_Q_RANGE);
}

static void hello_and_envelope_errors(void **state) {
  struct fx *f = *state;
  assert_int_equal(
      dec(f, "{\"type\":\"hello\",\"device\":\"monitor-7\"}", NULL), MV_OK);
  assert_int_equal(f->m.type, MV_DEV_WS_HELLO);
  assert_string_equal(f->m.device, "monitor-7");
  assert_int_equal(f->m.seq, -1);
  bad(f, "{\"type\":\"hello\"}", MV_ENOTFOUND, "device");
  bad(f, "{\"type\":\"hello\",\"device\":\"a b\"}", MV_EINVAL, "device");
  bad(f, "[1]", MV_EINVAL, "");
  bad(f, "{\"seq\":1}", MV_ENOTFOUND, "type");
  bad(f, "{\"type\":\"pizza\"}", MV_EINVAL, "type");
  bad(f, "{\"type\":\"vitals\"," T0 ",\"values\":[]}", MV_ENOTFOUND, "seq");
  bad(f, "{\"type\":\"vitals\",\"seq\":0,\"values\":[]}", MV_ERANGE, "seq");
  bad(f, "{\"type\":\"vitals\",\"seq\":\"1\"}", MV_EINVAL, "seq");
  bad(f, "{\"type\":\"vitals\",\"seq\":1.5}", MV_EINVAL, "seq");
  mv_diag_clear(&f->d);
  assert_int_equal(
      mv_dev_ws_decode_text("{\"type\":", 8, "p1", NULL, f->a, &f->m, &f->d),
      MV_EPARSE);
  assert_int_equal(f->m.seq, -1);
}

static void patient_time_and_values_errors(void **state) {
  struct fx *f = *state;
  const char *hr = "{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\"}";
  char msg[512];
  /* no patient in the message and none from the token */
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1," T0 ",\"values\":[%s]}", hr);
  mv_diag_clear(&f->d);
  assert_int_equal(
      mv_dev_ws_decode_text(msg, strlen(msg), NULL, NULL, f->a, &f->m, &f->d),
      MV_EINVAL);
  assert_string_equal(f->d.path, "patient");
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1,\"patient\":\"x/y\"," T0
           ",\"values\":[%s]}",
           hr);
  bad(f, msg, MV_EINVAL, "patient");
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1,\"patient\":7," T0
           ",\"values\":[%s]}",
           hr);
  bad(f, msg, MV_EINVAL, "patient");
  /* the message's patient wins over the token's */
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1,\"patient\":\"p2\"," T0
           ",\"values\":[%s]}",
           hr);
  assert_int_equal(dec(f, msg, "p1"), MV_OK);
  assert_string_equal(f->m.obs[0].patient, "p2");
  snprintf(msg, sizeof(msg), "{\"type\":\"vitals\",\"seq\":1,\"values\":[%s]}",
           hr);
  bad(f, msg, MV_EINVAL, "t");
  snprintf(
      msg, sizeof(msg),
      "{\"type\":\"vitals\",\"seq\":1,\"t\":\"yesterday\",\"values\":[%s]}",
      hr);
  bad(f, msg, MV_EINVAL, "t");
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1,\"t_us\":-5,\"values\":[%s]}", hr);
  bad(f, msg, MV_ERANGE, "t_us");
  bad(f, "{\"type\":\"vitals\",\"seq\":1," T0 "}", MV_ENOTFOUND, "values");
  bad(f, "{\"type\":\"vitals\",\"seq\":1," T0 ",\"values\":[]}", MV_EINVAL,
      "values");
  bad(f, "{\"type\":\"vitals\",\"seq\":1," T0 ",\"values\":[7]}", MV_EINVAL,
      "values[0]");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"value\":1,\"unit\":\"%\"}]}",
      MV_ENOTFOUND, "values[0].code");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\"},"
      "{\"code\":\"0000-0\",\"value\":1,\"unit\":\"%\"}]}",
      MV_EINVAL, "values[1].code");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72}]}",
      MV_ENOTFOUND, "values[0].unit");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72,\"unit\":\"furlong\"}]}",
      MV_EINVAL, "values[0].unit");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72,\"unit\":\"mm[Hg]\"}]}",
      MV_EINVAL, "values[0].unit");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"unit\":\"/min\"}]}",
      MV_ENOTFOUND, "values[0].value");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":\"72\",\"unit\":\"/min\"}]}",
      MV_EINVAL, "values[0].value");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\","
      "\"t\":\"2026-13-01T00:00:00Z\"}]}",
      MV_EINVAL, "values[0].t");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\","
      "\"quality\":[\"noisy\",\"haunted\"]}]}",
      MV_EINVAL, "values[0].quality[1]");
}

static void bp_and_series_errors(void **state) {
  struct fx *f = *state;
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"85354-9\",\"sys\":120,\"unit\":\"mm[Hg]\"}]}",
      MV_ENOTFOUND, "values[0].dia");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"85354-9\",\"sys\":80,\"dia\":120,"
      "\"unit\":\"mm[Hg]\"}]}",
      MV_ERANGE, "values[0].dia");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"period_ms\":1000,\"unit\":\"/min\","
      "\"data\":[72,73,\"x\"]}]}",
      MV_EINVAL, "values[0].data[2]");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"period_ms\":1000,\"unit\":\"/min\","
      "\"data\":[72,73,99999]}]}",
      MV_ERANGE, "values[0].data[2]");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"unit\":\"/min\",\"data\":[72]}]}",
      MV_ENOTFOUND, "values[0].period_ms");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"period_ms\":-1,\"unit\":\"/min\","
      "\"data\":[72]}]}",
      MV_ERANGE, "values[0].period_ms");
  bad(f,
      "{\"type\":\"vitals\",\"seq\":1," T0
      ",\"values\":[{\"code\":\"8867-4\",\"period_ms\":1,\"unit\":\"/min\","
      "\"data\":[]}]}",
      MV_EINVAL, "values[0].data");
  const struct mv_clin_code *ecg = mv_clin_by_lead(0);
  assert_non_null(ecg);
  char msg[256];
  snprintf(msg, sizeof(msg),
           "{\"type\":\"vitals\",\"seq\":1," T0
           ",\"values\":[{\"code\":\"%s\",\"value\":1,\"unit\":\"%s\"}]}",
           ecg->mdc_ref, ecg->ucum);
  bad(f, msg, MV_EINVAL, "values[0].data");
}

static void too_many_values_is_too_large(void **state) {
  struct fx *f = *state;
  size_t cap = 64u * 5000u;
  char *msg = malloc(cap);
  size_t n = (size_t)snprintf(
      msg, cap, "{\"type\":\"vitals\",\"seq\":9," T0 ",\"values\":[");
  for (unsigned i = 0; i <= MV_DEV_WS_VALUES_MAX; i++)
    n += (size_t)snprintf(
        msg + n, cap - n,
        "%s{\"code\":\"8867-4\",\"value\":72,\"unit\":\"/min\"}", i ? "," : "");
  snprintf(msg + n, cap - n, "]}");
  bad(f, msg, MV_ETOOBIG, "values");
  assert_int_equal(f->m.seq, 9);
  free(msg);
}

/* ---- binary frames --------------------------------------------------------- */

static size_t frame(unsigned char *b, int64_t seq, uint32_t fs_mhz,
                    uint16_t lead, uint16_t n, float gain, int16_t baseline,
                    uint16_t flags, const char *patient, const int16_t *x) {
  size_t p = patient ? strlen(patient) : 0, o = 0;
  uint64_t useq = (uint64_t)seq, t0 = 1795579200000000ULL;
  uint32_t g;
  memcpy(&g, &gain, 4);
  memcpy(b, "MVW1", 4);
  for (int i = 0; i < 8; i++)
    b[4 + i] = (unsigned char)(useq >> (8 * i));
  for (int i = 0; i < 8; i++)
    b[12 + i] = (unsigned char)(t0 >> (8 * i));
  for (int i = 0; i < 4; i++)
    b[20 + i] = (unsigned char)(fs_mhz >> (8 * i));
  b[24] = (unsigned char)lead;
  b[25] = (unsigned char)(lead >> 8);
  b[26] = (unsigned char)n;
  b[27] = (unsigned char)(n >> 8);
  for (int i = 0; i < 4; i++)
    b[28 + i] = (unsigned char)(g >> (8 * i));
  b[32] = (unsigned char)(uint16_t)baseline;
  b[33] = (unsigned char)((uint16_t)baseline >> 8);
  b[34] = (unsigned char)flags;
  b[35] = (unsigned char)(flags >> 8);
  b[36] = (unsigned char)p;
  if (p)
    memcpy(b + 37, patient, p);
  o = 37 + p;
  for (size_t i = 0; i < n; i++) {
    b[o + 2 * i] = (unsigned char)(uint16_t)x[i];
    b[o + 2 * i + 1] = (unsigned char)((uint16_t)x[i] >> 8);
  }
  return o + 2u * n;
}

static int decf(struct fx *f, const unsigned char *b, size_t len,
                const char *pdef) {
  mv_diag_clear(&f->d);
  return mv_dev_ws_decode_frame(b, len, pdef, NULL, f->a, &f->m, &f->d);
}

static void badf(struct fx *f, const unsigned char *b, size_t len, int err,
                 const char *path, int64_t seq) {
  int rc = decf(f, b, len, "p1");
  if (rc != err || strcmp(f->d.path, path) != 0)
    fail_msg("frame: got %s path '%s' (%s), want %s '%s'", mv_err_name(rc),
             f->d.path, f->d.msg, mv_err_name(err), path);
  assert_int_equal(f->m.seq, seq);
  assert_int_equal(f->m.n_obs, 0);
}

static void frame_decodes_to_sampled_data(void **state) {
  struct fx *f = *state;
  unsigned char b[37 + 16 + 2 * 4];
  int16_t x[4] = {1024, 1224, -200, 1023};
  size_t len = frame(b, 5, 250000, 0, 4, 200.0f, 1024, 0x1, "pat-9", x);
  assert_int_equal(decf(f, b, len, "p1"), MV_OK);
  assert_int_equal(f->m.type, MV_DEV_WS_WAVE);
  assert_int_equal(f->m.seq, 5);
  assert_int_equal(f->m.n_obs, 1);
  struct mv_dev_obs *o = f->m.obs;
  assert_string_equal(o->patient, "pat-9");
  assert_int_equal(o->kind, MV_DEV_SERIES);
  assert_int_equal(o->n, 4);
  assert_true(fabs(o->data[0]) < 1e-12 && fabs(o->data[1] - 200) < 1e-12 &&
              fabs(o->data[2] + 1224) < 1e-12);
  assert_true(fabs(o->factor - 1.0 / 200) < 1e-12);
  assert_true(fabs(o->period_ms - 4.0) < 1e-12);
  assert_int_equal(o->t_us, 1795579200000000LL);
  assert_int_equal(o->quality, MV_DEV_Q_LEAD_OFF);
  assert_string_equal(o->ucum, mv_clin_by_lead(0)->ucum);
  assert_int_equal(f->m.frame.x[2], -200);
  assert_true(fabs(f->m.frame.fs_hz - 250) < 1e-12);
  /* the token's patient when the frame names none */
  len = frame(b, 6, 250000, 0, 4, 200.0f, 0, 0x2, NULL, x);
  assert_int_equal(decf(f, b, len, "p1"), MV_OK);
  assert_string_equal(f->m.obs->patient, "p1");
  assert_int_equal(f->m.obs->quality, MV_DEV_Q_DEVICE);
}

static void frame_errors_name_the_field(void **state) {
  struct fx *f = *state;
  unsigned char b[37 + 16 + 2 * 8];
  int16_t x[8] = {0};
  size_t len = frame(b, 11, 250000, 0, 8, 200.0f, 0, 0, NULL, x);
  /* truncated by one byte, extended by one byte: "frame", seq known */
  badf(f, b, len - 1, MV_EINVAL, "frame", 11);
  badf(f, b, len + 1, MV_EINVAL, "frame", 11);
  badf(f, b, 20, MV_EINVAL, "frame", 11);
  badf(f, b, 8, MV_EINVAL, "frame", -1);
  memcpy(b, "MVW2", 4);
  badf(f, b, len, MV_EINVAL, "frame.magic", -1);
  len = frame(b, 0, 250000, 0, 8, 200.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.seq", -1);
  len = frame(b, 11, 0, 0, 8, 200.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.fs_mhz", 11);
  len = frame(b, 11, 2000001, 0, 8, 200.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.fs_mhz", 11);
  len = frame(b, 11, 250000, 0, 0, 200.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.n", 11);
  len = frame(b, 11, 250000, 0, 8, 0.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.gain", 11);
  len = frame(b, 11, 250000, 0, 8, NAN, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.gain", 11);
  len = frame(b, 11, 250000, 0, 8, -1.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_ERANGE, "frame.gain", 11);
  len = frame(b, 11, 250000, 0, 8, 200.0f, 0, 0x4, NULL, x);
  badf(f, b, len, MV_EINVAL, "frame.flags", 11);
  len = frame(b, 11, 250000, 99, 8, 200.0f, 0, 0, NULL, x);
  badf(f, b, len, MV_EINVAL, "frame.lead", 11);
  len = frame(b, 11, 250000, 0, 8, 200.0f, 0, 0, "a/b", x);
  badf(f, b, len, MV_EINVAL, "frame.patient", 11);
  len = frame(b, 11, 250000, 0, 8, 200.0f, 0, 0, NULL, x);
  mv_diag_clear(&f->d);
  assert_int_equal(
      mv_dev_ws_decode_frame(b, len, NULL, NULL, f->a, &f->m, &f->d),
      MV_EINVAL);
  assert_string_equal(f->d.path, "frame.patient");
}

static void times_and_error_words(void **state) {
  int64_t us = 0;
  (void)state;
  assert_int_equal(mv_dev_ws_parse_time("1970-01-01T00:00:00Z", &us), MV_OK);
  assert_int_equal(us, 0);
  assert_int_equal(mv_dev_ws_parse_time("2026-11-25T05:00:00.25+01:00", &us),
                   MV_OK);
  assert_int_equal(us, 1795579200250000LL);
  assert_int_equal(mv_dev_ws_parse_time("2024-02-29T00:00:00Z", &us), MV_OK);
  assert_int_equal(mv_dev_ws_parse_time("2023-02-29T00:00:00Z", &us),
                   MV_EINVAL);
  assert_int_equal(mv_dev_ws_parse_time("2026-11-25T04:00:00", &us), MV_EINVAL);
  assert_int_equal(mv_dev_ws_parse_time("2026-11-25 04:00:00Z", &us),
                   MV_EINVAL);
  assert_int_equal(mv_dev_ws_parse_time("2026-11-25T04:00:00.Z", &us),
                   MV_EINVAL);
  assert_int_equal(mv_dev_ws_parse_time("2026-11-25T24:00:00Z", &us),
                   MV_EINVAL);
  assert_string_equal(mv_dev_ws_error_code(MV_ETOOBIG), "too-large");
  assert_string_equal(mv_dev_ws_error_code(MV_EPERM), "forbidden");
  assert_string_equal(mv_dev_ws_error_code(MV_EBUSY), "busy");
  assert_string_equal(mv_dev_ws_error_code(MV_ERANGE), "invalid");
  assert_true(mv_dev_ws_id_valid("abc-1.2", 7));
  assert_false(mv_dev_ws_id_valid("", 0));
  assert_false(mv_dev_ws_id_valid("a_b", 3));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(vitals_quantity_bp_temperature_and_codes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(numeric_mdc_code_is_accepted, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          implausible_is_flagged_impossible_is_rejected, setup, teardown),
      cmocka_unit_test_setup_teardown(series_and_quality_flags, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(hello_and_envelope_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(patient_time_and_values_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(bp_and_series_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(too_many_values_is_too_large, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(frame_decodes_to_sampled_data, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(frame_errors_name_the_field, setup,
                                      teardown),
      cmocka_unit_test(times_and_error_words),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
