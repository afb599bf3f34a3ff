/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for src/dev/obs.c and src/dev/fhir_obs.c: every kind of device
 * observation (quantity, blood pressure, vital-sign series, ECG / pleth /
 * respiration waveforms) and every quality flag becomes an Observation that
 * mv_fhir_validate accepts; values are printed exactly; units are converted
 * to the canonical UCUM unit; bad observations are refused with a field
 * path and nothing written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_dev_fhir.h"
#include "mv_fhir.h"
#include "mv_json.h"

#define T0 1795579200000000LL /* 2026-11-25T04:00:00Z */

static struct mv_dev_obs quantity(const char *code, double v,
                                  const char *unit) {
  struct mv_dev_obs o = {.patient = "p-1", .t_us = T0, .seq = 1};
  if (strncmp(code, "MDC_", 4) == 0)
    o.mdc = code;
  else
    o.loinc = code;
  o.kind = MV_DEV_QUANTITY;
  o.value = v;
  o.ucum = unit;
  return o;
}

/* JSON of o, validated by the server's validator; caller puts it. */
static struct json_object *to_valid_json(const struct mv_dev_obs *o) {
  struct mv_buf b;
  struct mv_diag d;
  struct json_object *obj = NULL;
  struct mv_fhir_outcome oc;
  mv_buf_init(&b, 1u << 22);
  int rc = mv_dev_obs_to_fhir(o, &b, &d);
  if (rc != MV_OK)
    print_error("to_fhir: %s at %s\n", d.msg, d.path);
  assert_int_equal(rc, MV_OK);
  assert_int_equal(mv_json_parse(b.data, b.len, &obj, &d), MV_OK);
  mv_fhir_outcome_init(&oc);
  rc = mv_fhir_validate(obj, "Observation", &oc);
  if (rc != MV_OK || mv_fhir_outcome_has_errors(&oc)) {
    print_error("invalid: %s\n", b.data);
    for (size_t i = 0; i < oc.n; i++)
      print_error("  %s: %s\n", oc.issues[i].expression,
                  oc.issues[i].diagnostics);
  }
  assert_int_equal(rc, MV_OK);
  assert_false(mv_fhir_outcome_has_errors(&oc));
  mv_buf_release(&b);
  return obj;
}

static const char *text_of(struct json_object *root, const char *path) {
  /* path: keys and array indexes separated by '/', e.g. "code/coding/0". */
  char buf[128];
  snprintf(buf, sizeof(buf), "%s", path);
  struct json_object *cur = root;
  for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok && cur;
       tok = strtok_r(NULL, "/", &save)) {
    if (json_object_is_type(cur, json_type_array))
      cur = json_object_array_get_idx(cur, (size_t)strtoul(tok, NULL, 10));
    else if (!json_object_object_get_ex(cur, tok, &cur))
      cur = NULL;
  }
  return cur ? json_object_to_json_string_ext(
                   cur, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
             : NULL;
}

static void assert_at(struct json_object *o, const char *path,
                      const char *want) {
  const char *got = text_of(o, path);
  if (!got || strcmp(got, want) != 0)
    print_error("%s: got %s, want %s\n", path, got ? got : "(none)", want);
  assert_non_null(got);
  assert_string_equal(got, want);
}

static void quantity_has_loinc_ucum_and_exact_value(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("8867-4", 72, "bpm");
  o.device = "monitor-7";
  struct json_object *j = to_valid_json(&o);
  assert_at(j, "code/coding/0/code", "\"8867-4\"");
  assert_at(j, "valueQuantity",
            "{\"value\":72,\"unit\":\"/min\",\"system\":"
            "\"http://unitsofmeasure.org\",\"code\":"
            "\"/min\"}");
  assert_at(j, "subject/reference", "\"Patient/p-1\"");
  assert_at(j, "effectiveDateTime", "\"2026-11-25T04:00:00.000Z\"");
  assert_at(j, "device/display", "\"monitor-7\"");
  assert_at(j, "category/0/coding/0/code", "\"vital-signs\"");
  /* A bare LOINC heart rate does not claim an ECG source, also after a
   * decoder normalised it; normalising twice changes nothing. */
  assert_null(text_of(j, "code/coding/1"));
  json_object_put(j);
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_null(o.mdc);
  struct mv_dev_obs again = o;
  assert_int_equal(mv_dev_obs_normalize(&again, NULL), MV_OK);
  assert_memory_equal(&again, &o, sizeof(o));
  j = to_valid_json(&o);
  assert_null(text_of(j, "code/coding/1"));
  json_object_put(j);
  o = quantity("MDC_PULS_RATE_NON_INV", 61, "bpm");
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_string_equal(o.mdc, "MDC_PULS_RATE_NON_INV");
  assert_string_equal(o.loinc, "8867-4");
  assert_string_equal(o.ucum, "/min");
  j = to_valid_json(&o);
  assert_at(j, "code/coding/1/code", "\"149546\"");
  json_object_put(j);
  o = quantity("8310-5", 98.6, "[degF]");
  j = to_valid_json(&o);
  assert_at(j, "valueQuantity/value", "37");
  assert_at(j, "valueQuantity/code", "\"Cel\"");
  json_object_put(j);
  o = quantity("8310-5", 36.6, "Cel");
  j = to_valid_json(&o);
  assert_at(j, "valueQuantity/value", "36.6");
  json_object_put(j);
}

static void mdc_codes_add_the_11073_coding(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("MDC_PULS_OXIM_SAT_O2", 97, "%");
  struct json_object *j = to_valid_json(&o);
  assert_at(j, "code/coding/0/code", "\"59408-5\"");
  assert_at(j, "code/coding/1/system", "\"urn:iso:std:iso:11073:10101\"");
  assert_at(j, "code/coding/1/code", "\"150456\"");
  assert_at(j, "code/coding/1/display", "\"MDC_PULS_OXIM_SAT_O2\"");
  json_object_put(j);
  o = quantity("151578", 18, "{breaths}/min"); /* numeric MDC code */
  o.mdc = "151578";
  o.loinc = NULL;
  j = to_valid_json(&o);
  assert_at(j, "code/coding/0/code", "\"9279-1\"");
  assert_at(j, "code/coding/1/display", "\"MDC_TTHOR_RESP_RATE\"");
  json_object_put(j);
}

static void every_quantity_code_validates(void **state) {
  (void)state;
  size_t n;
  const struct mv_clin_code *t = mv_clin_codes(&n);
  for (size_t i = 0; i < n; i++) {
    if (t[i].kind != MV_CLIN_QUANTITY)
      continue;
    double mid = (t[i].plausible.lo + t[i].plausible.hi) / 2;
    struct mv_dev_obs o =
        quantity(t[i].mdc_ref ? t[i].mdc_ref : t[i].loinc, mid, t[i].ucum);
    struct json_object *j = to_valid_json(&o);
    json_object_put(j);
  }
}

static void blood_pressure_has_two_components(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("85354-9", 0, "mmHg");
  o.kind = MV_DEV_PANEL_BP;
  o.value = 120, o.value2 = 80;
  struct json_object *j = to_valid_json(&o);
  assert_at(j, "component/0/code/coding/0/code", "\"8480-6\"");
  assert_at(j, "component/0/valueQuantity/value", "120");
  assert_at(j, "component/1/code/coding/0/code", "\"8462-4\"");
  assert_at(j, "component/1/valueQuantity/value", "80");
  assert_at(j, "component/1/valueQuantity/code", "\"mm[Hg]\"");
  json_object_put(j);
  /* kPa converted: 16 kPa = 120.00942 mm[Hg]. */
  o.ucum = "kPa", o.value = 16, o.value2 = 10;
  j = to_valid_json(&o);
  double sys = atof(text_of(j, "component/0/valueQuantity/value"));
  assert_true(fabs(sys - 16 * 7.500615758456564) < 1e-9);
  json_object_put(j);
}

static const double hr_series[] = {72, 73, 73, 74};

static void vital_series_uses_sampled_data_without_loinc(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("8867-4", 0, "/min");
  o.kind = MV_DEV_SERIES;
  o.data = hr_series, o.n = 4, o.period_ms = 1000, o.factor = 1;
  struct json_object *j = to_valid_json(&o);
  assert_at(j, "valueSampledData/data", "\"72 73 73 74\"");
  assert_at(j, "valueSampledData/period", "1000");
  assert_at(j, "valueSampledData/dimensions", "1");
  assert_at(j, "effectivePeriod/end", "\"2026-11-25T04:00:03.000Z\"");
  assert_at(j, "code/coding/0/code", "\"147842\"");
  assert_null(text_of(j, "code/coding/1"));
  json_object_put(j);
}

static void waveforms_validate_for_every_lead(void **state) {
  (void)state;
  static const unsigned leads[] = {0, 1, 2, 3,  4,  5,   6,
                                   7, 8, 9, 10, 11, 100, 101};
  double data[250];
  for (size_t i = 0; i < 250; i++)
    data[i] = (double)((int)(i * 37 % 401) - 200);
  for (size_t k = 0; k < MV_ARRAY_LEN(leads); k++) {
    const struct mv_clin_code *c = mv_clin_by_lead(leads[k]);
    assert_non_null(c);
    struct mv_dev_obs o = {.patient = "p-1", .t_us = T0 + 1, .seq = 3};
    o.mdc = c->mdc_ref, o.kind = MV_DEV_SERIES, o.ucum = c->ucum;
    o.data = data, o.n = 250, o.period_ms = 4, o.factor = 1.0 / 200;
    struct json_object *j = to_valid_json(&o);
    assert_at(j, "category/0/coding/0/code", "\"procedure\"");
    assert_at(j, "valueSampledData/factor", "0.005");
    assert_at(j, "effectivePeriod/start", "\"2026-11-25T04:00:00.000001Z\"");
    if (leads[k] == 0)
      assert_at(j, "code/coding/0/code", "\"131330\"");
    json_object_put(j);
  }
}

static void every_quality_flag_is_visible_and_valid(void **state) {
  (void)state;
  static const char *const names[] = {"flat",  "clipped",  "range",
                                      "noisy", "lead-off", "questionable"};
  static const double wave[] = {0, 10, -10, 5};
  for (unsigned bit = 0; bit < 6; bit++) {
    char want[32];
    snprintf(want, sizeof(want), "\"%s\"", names[bit]);
    struct mv_dev_obs o = quantity("59408-5", 97, "%");
    o.quality = 1u << bit;
    struct json_object *j = to_valid_json(&o);
    assert_at(j, "extension/0/valueCode", want);
    assert_string_equal(mv_dev_quality_name(1u << bit), names[bit]);
    assert_at(j, "interpretation/0/coding/0/code", "\"questionable\"");
    assert_at(j, "valueQuantity/value", "97");
    assert_null(text_of(j, "dataAbsentReason"));
    json_object_put(j);
    /* The same on a waveform and on a blood pressure panel. */
    o = (struct mv_dev_obs){.patient = "p",
                            .mdc = "MDC_ECG_ELEC_POTL_II",
                            .kind = MV_DEV_SERIES,
                            .data = wave,
                            .n = 4,
                            .period_ms = 2,
                            .factor = 0.01,
                            .quality = 1u << bit};
    j = to_valid_json(&o);
    assert_at(j, "extension/0/valueCode", want);
    json_object_put(j);
    o = quantity("85354-9", 0, "mm[Hg]");
    o.kind = MV_DEV_PANEL_BP, o.value = 118, o.value2 = 76;
    o.quality = 1u << bit;
    j = to_valid_json(&o);
    assert_at(j, "extension/0/valueCode", want);
    json_object_put(j);
  }
  assert_null(mv_dev_quality_name(1u << 6));
  assert_null(mv_dev_quality_name(3));
  /* All flags at once: one extension each, in bit order. */
  struct mv_dev_obs o = quantity("8867-4", 72, "/min");
  o.quality = 0x3f;
  struct json_object *j = to_valid_json(&o);
  assert_at(j, "extension/5/valueCode", "\"questionable\"");
  assert_at(j, "interpretation/0/text",
            "\"signal quality: flat, clipped, range, noisy, lead-off, "
            "questionable\"");
  json_object_put(j);
}

static void implausible_values_are_flagged_range(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("8867-4", 20, "/min");
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_int_equal(o.quality, MV_DEV_Q_RANGE);
  o = quantity("8867-4", 25, "/min"); /* the boundary is plausible */
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_int_equal(o.quality, 0);
  o = quantity("85354-9", 0, "mm[Hg]");
  o.kind = MV_DEV_PANEL_BP, o.value = 120, o.value2 = 190;
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_int_equal(o.quality, MV_DEV_Q_RANGE);
  /* A waveform spike beyond the possible range is flagged, not refused. */
  static const double spike[] = {0, 100000};
  o = (struct mv_dev_obs){.patient = "p",
                          .mdc = "MDC_ECG_ELEC_POTL_I",
                          .kind = MV_DEV_SERIES,
                          .data = spike,
                          .n = 2,
                          .period_ms = 4,
                          .factor = 1};
  assert_int_equal(mv_dev_obs_normalize(&o, NULL), MV_OK);
  assert_int_equal(o.quality, MV_DEV_Q_RANGE);
}

struct bad_case {
  struct mv_dev_obs o;
  int err;
  const char *path;
};

static void bad_observations_are_refused_with_a_path(void **state) {
  (void)state;
  static const double nan_data[] = {1, NAN};
  static const double hr_bad[] = {72, 5000};
  struct bad_case cases[] = {
      {quantity("1234-5", 1, "/min"), MV_EINVAL, "code"},
      {quantity("8867-4", 5000, "/min"), MV_ERANGE, "value"},
      {quantity("59408-5", 140, "%"), MV_ERANGE, "value"},
      {quantity("8310-5", 212, "[degF]"), MV_ERANGE, "value"},
      {quantity("8867-4", NAN, "/min"), MV_EINVAL, "value"},
      {quantity("8867-4", 72, "furlong"), MV_EINVAL, "unit"},
      {quantity("8867-4", 72, "mm[Hg]"), MV_EINVAL, "unit"},
      {quantity("85354-9", 72, "mm[Hg]"), MV_EINVAL, "code"},
      {quantity("MDC_ECG_ELEC_POTL_II", 1, "mV"), MV_EINVAL, "code"},
  };
  cases[0].o.seq = 1;
  struct mv_dev_obs o = quantity("8867-4", 72, "/min");
  o.patient = "bad/id";
  struct bad_case more[] = {
      {o, MV_EINVAL, "patient"},
  };
  o = quantity("8867-4", 72, "/min");
  o.device = "tab	here";
  struct bad_case dev = {o, MV_EINVAL, "device"};
  o = quantity("8867-4", 0, "/min");
  o.kind = MV_DEV_SERIES, o.data = nan_data, o.n = 2, o.period_ms = 1000;
  o.factor = 1;
  struct bad_case ser = {o, MV_EINVAL, "data[1]"};
  o.data = hr_bad;
  struct bad_case ser2 = {o, MV_ERANGE, "data[1]"};
  o.period_ms = 0;
  struct bad_case ser3 = {o, MV_EINVAL, "period_ms"};
  o = quantity("8867-4", 72, "/min");
  o.mdc = "MDC_PULS_OXIM_SAT_O2";
  struct bad_case mism = {o, MV_EINVAL, "code"};
  struct bad_case *all[] = {&cases[0], &cases[1], &cases[2], &cases[3],
                            &cases[4], &cases[5], &cases[6], &cases[7],
                            &cases[8], &more[0],  &dev,      &ser,
                            &ser2,     &ser3,     &mism};
  for (size_t i = 0; i < MV_ARRAY_LEN(all); i++) {
    struct mv_diag d;
    struct mv_buf b;
    mv_buf_init(&b, 1 << 16);
    mv_diag_clear(&d);
    int rc = mv_dev_obs_to_fhir(&all[i]->o, &b, &d);
    if (rc != all[i]->err || strcmp(d.path, all[i]->path) != 0)
      print_error("case %zu: %s at %s (%s)\n", i, mv_err_name(rc), d.path,
                  d.msg);
    assert_int_equal(rc, all[i]->err);
    assert_string_equal(d.path, all[i]->path);
    assert_int_equal(b.len, 0);
    assert_int_equal(mv_dev_obs_check(&all[i]->o, NULL), all[i]->err);
    mv_buf_release(&b);
  }
}

static void small_buffer_fails_with_toobig(void **state) {
  (void)state;
  struct mv_dev_obs o = quantity("8867-4", 72, "/min");
  struct mv_buf b;
  mv_buf_init(&b, 64);
  assert_int_equal(mv_dev_obs_to_fhir(&o, &b, NULL), MV_ETOOBIG);
  mv_buf_release(&b);
}

/* ---- property: whatever is accepted validates ---------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17; /* xorshift64 */
  return rng;
}

static double any_value(void) {
  static const double special[] = {0,    -0.0, 1e-300, -1e-300, 1e300,
                                   NAN,  72.5, -40,    37.25,   98.6,
                                   1e15, 1e-7, 350,    350.0001};
  if (next() % 4 == 0)
    return special[next() % MV_ARRAY_LEN(special)];
  return ((double)(next() % 2000001) - 1000000) / (double)(1 + next() % 1000);
}

static void accepted_observations_always_validate(void **state) {
  (void)state;
  static const char *const units[] = {
      "/min", "bpm", "%",   "mmHg", "kPa", "Cel",   "degF",   "K",
      "kg",   "lb",  "g",   "cm",   "in",  "mg/dL", "mmol/L", "mV",
      "uV",   "1",   "Ohm", NULL,   "xyz", " bpm "};
  static const char *const devices[] = {NULL, "m-7", "a \"quoted\" name",
                                        "back\\slash"};
  size_t n_codes, accepted = 0;
  const struct mv_clin_code *t = mv_clin_codes(&n_codes);
  double data[16];
  for (int iter = 0; iter < 3000; iter++) {
    const struct mv_clin_code *c = &t[next() % n_codes];
    struct mv_dev_obs o = {.patient = next() % 50 ? "p.1-x" : "p/1"};
    if (c->mdc_ref && (next() % 2 || !c->loinc))
      o.mdc = c->mdc_ref;
    else
      o.loinc = c->loinc;
    o.device = devices[next() % MV_ARRAY_LEN(devices)];
    o.ucum = next() % 3 ? c->ucum : units[next() % MV_ARRAY_LEN(units)];
    o.kind = (enum mv_dev_kind)(next() % 3);
    o.t_us = (int64_t)(next() % 4000000000000000ULL) - 100000000000000LL;
    o.value =
        next() % 2 ? any_value() : (c->plausible.lo + c->plausible.hi) / 2;
    o.value2 = next() % 2 ? any_value() : 70;
    o.n = 1 + next() % 16;
    for (size_t i = 0; i < o.n; i++)
      data[i] = next() % 8 ? (double)(int)(next() % 400) - 200 : any_value();
    o.data = data;
    o.period_ms = next() % 8 ? 4 : any_value();
    o.factor = next() % 8 ? 0.005 : any_value();
    o.origin = next() % 8 ? 0 : any_value();
    o.quality = (uint32_t)(next() % 64);
    struct mv_buf b;
    mv_buf_init(&b, 1u << 20);
    int rc = mv_dev_obs_to_fhir(&o, &b, NULL);
    assert_true(rc == MV_OK || rc == MV_EINVAL || rc == MV_ERANGE);
    if (rc == MV_OK) {
      accepted++;
      struct json_object *j = to_valid_json(&o);
      json_object_put(j);
    } else {
      assert_int_equal(b.len, 0);
    }
    mv_buf_release(&b);
  }
  print_message("random observations: %zu of 3000 accepted, all valid\n",
                accepted);
  assert_true(accepted > 300);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(quantity_has_loinc_ucum_and_exact_value),
      cmocka_unit_test(mdc_codes_add_the_11073_coding),
      cmocka_unit_test(every_quantity_code_validates),
      cmocka_unit_test(blood_pressure_has_two_components),
      cmocka_unit_test(vital_series_uses_sampled_data_without_loinc),
      cmocka_unit_test(waveforms_validate_for_every_lead),
      cmocka_unit_test(every_quality_flag_is_visible_and_valid),
      cmocka_unit_test(implausible_values_are_flagged_range),
      cmocka_unit_test(bad_observations_are_refused_with_a_path),
      cmocka_unit_test(small_buffer_fails_with_toobig),
      cmocka_unit_test(accepted_observations_always_validate),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
