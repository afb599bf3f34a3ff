/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the code table and unit conversion (src/clin): every entry
 * is found by each of its keys, the MDC numeric codes agree with their
 * partition/term form, waveform leads map as PROTOCOL.md says, range
 * verdicts at their boundaries, UCUM aliases and conversions with exact
 * expected values, and clear errors for unknown or incompatible units.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mv_clin.h"

static void every_entry_is_found_by_each_key(void **state) {
  (void)state;
  size_t n;
  const struct mv_clin_code *t = mv_clin_codes(&n);
  assert_true(n >= 30);
  for (size_t i = 0; i < n; i++) {
    assert_non_null(t[i].display);
    assert_non_null(mv_clin_unit_normalize(t[i].ucum));
    assert_string_equal(mv_clin_unit_normalize(t[i].ucum), t[i].ucum);
    assert_string_equal(mv_clin_unit_by_mdc_code(t[i].mdc_unit_code),
                        t[i].ucum);
    assert_true(t[i].possible.lo <= t[i].plausible.lo);
    assert_true(t[i].plausible.hi <= t[i].possible.hi);
    if (t[i].loinc) {
      const struct mv_clin_code *p = mv_clin_by_loinc(t[i].loinc);
      assert_non_null(p);
      assert_true(p <= &t[i]); /* the first entry of a LOINC code wins */
      assert_string_equal(p->loinc, t[i].loinc);
      assert_ptr_equal(mv_clin_lookup(t[i].loinc), p);
    }
    if (t[i].mdc_ref) {
      char num[16];
      assert_ptr_equal(mv_clin_by_mdc_ref(t[i].mdc_ref), &t[i]);
      assert_ptr_equal(mv_clin_by_mdc_code(t[i].mdc_code), &t[i]);
      snprintf(num, sizeof(num), "%u", (unsigned)t[i].mdc_code);
      assert_ptr_equal(mv_clin_lookup(num), &t[i]);
      assert_ptr_equal(mv_clin_lookup(t[i].mdc_ref), &t[i]);
    }
  }
}

static void known_codes_have_their_published_values(void **state) {
  (void)state;
  /* MDC numeric code = partition 2 (SCADA) << 16 | term code. */
  static const struct {
    const char *ref;
    uint32_t term;
    const char *loinc;
  } known[] = {
      {"MDC_ECG_HEART_RATE", 16770, "8867-4"},
      {"MDC_PULS_OXIM_SAT_O2", 19384, "59408-5"},
      {"MDC_PULS_OXIM_PULS_RATE", 18458, "8889-8"},
      {"MDC_RESP_RATE", 20490, "9279-1"},
      {"MDC_PRESS_BLD_NONINV_SYS", 18949, "8480-6"},
      {"MDC_PRESS_BLD_NONINV_DIA", 18950, "8462-4"},
      {"MDC_PRESS_BLD_NONINV_MEAN", 18951, "8478-0"},
      {"MDC_TEMP_BODY", 19292, "8310-5"},
      {"MDC_MASS_BODY_ACTUAL", 57664, "29463-7"},
      {"MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD", 29112, "41653-7"},
      {"MDC_PULS_OXIM_PLETH", 19380, NULL},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(known); i++) {
    const struct mv_clin_code *c = mv_clin_by_mdc_ref(known[i].ref);
    assert_non_null(c);
    assert_int_equal(c->mdc_code, (2u << 16) | known[i].term);
    if (known[i].loinc)
      assert_string_equal(c->loinc, known[i].loinc);
    else
      assert_null(c->loinc);
  }
  assert_int_equal(mv_clin_by_mdc_ref("MDC_ECG_HEART_RATE")->mdc_unit_code,
                   264864);
  assert_string_equal(mv_clin_by_loinc("85354-9")->ucum, "mm[Hg]");
  assert_int_equal(mv_clin_by_loinc("85354-9")->kind, MV_CLIN_BP_PANEL);
  assert_null(mv_clin_lookup("1234-5"));
  assert_null(mv_clin_lookup("MDC_NOPE"));
  assert_null(mv_clin_lookup("99999999999"));
  assert_null(mv_clin_lookup(""));
  assert_null(mv_clin_lookup(NULL));
  assert_null(mv_clin_by_mdc_code(0));
}

static void leads_map_as_the_protocol_says(void **state) {
  (void)state;
  static const char *const refs[] = {
      "MDC_ECG_ELEC_POTL_II",  "MDC_ECG_ELEC_POTL_I",   "MDC_ECG_ELEC_POTL_III",
      "MDC_ECG_ELEC_POTL_AVR", "MDC_ECG_ELEC_POTL_AVL", "MDC_ECG_ELEC_POTL_AVF",
      "MDC_ECG_ELEC_POTL_V1",  "MDC_ECG_ELEC_POTL_V2",  "MDC_ECG_ELEC_POTL_V3",
      "MDC_ECG_ELEC_POTL_V4",  "MDC_ECG_ELEC_POTL_V5",  "MDC_ECG_ELEC_POTL_V6"};
  for (unsigned l = 0; l < 12; l++) {
    const struct mv_clin_code *c = mv_clin_by_lead(l);
    assert_non_null(c);
    assert_string_equal(c->mdc_ref, refs[l]);
    assert_int_equal(c->lead, (int)l);
    assert_int_equal(c->kind, MV_CLIN_WAVEFORM);
    assert_string_equal(c->ucum, "mV");
  }
  assert_int_equal(mv_clin_by_lead(0)->mdc_code, 131330);
  assert_int_equal(mv_clin_by_lead(1)->mdc_code, 131329);
  assert_string_equal(mv_clin_by_lead(100)->mdc_ref, "MDC_PULS_OXIM_PLETH");
  assert_string_equal(mv_clin_by_lead(101)->mdc_ref, "MDC_IMPED_TTHOR");
  assert_int_equal(mv_clin_by_lead(101)->lead, 101);
  assert_null(mv_clin_by_lead(12));
  assert_null(mv_clin_by_lead(99));
  assert_null(mv_clin_by_lead(102));
}

static void range_verdicts_at_the_boundaries(void **state) {
  (void)state;
  const struct mv_clin_code *hr = mv_clin_by_loinc("8867-4");
  const struct mv_clin_code *spo2 = mv_clin_by_loinc("59408-5");
  assert_int_equal(mv_clin_range_check(hr, 72), MV_CLIN_OK);
  assert_int_equal(mv_clin_range_check(hr, 25), MV_CLIN_OK);
  assert_int_equal(mv_clin_range_check(hr, 24.9), MV_CLIN_IMPLAUSIBLE);
  assert_int_equal(mv_clin_range_check(hr, 0), MV_CLIN_IMPLAUSIBLE);
  assert_int_equal(mv_clin_range_check(hr, 350), MV_CLIN_IMPLAUSIBLE);
  assert_int_equal(mv_clin_range_check(hr, 350.1), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(hr, 5000), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(hr, -1), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(hr, NAN), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(hr, INFINITY), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(spo2, 100), MV_CLIN_OK);
  assert_int_equal(mv_clin_range_check(spo2, 140), MV_CLIN_IMPOSSIBLE);
  assert_int_equal(mv_clin_range_check(spo2, 45), MV_CLIN_IMPLAUSIBLE);
  assert_int_equal(mv_clin_range_check(NULL, 1), MV_CLIN_IMPOSSIBLE);
}

static void device_unit_spellings_normalise(void **state) {
  (void)state;
  static const char *const pairs[][2] = {
      {"bpm", "/min"},
      {"beats/min", "/min"},
      {" BPM ", "/min"},
      {"{beats}/min", "/min"},
      {"/min", "/min"},
      {"breaths/min", "/min"},
      {"mmHg", "mm[Hg]"},
      {"mm[Hg]", "mm[Hg]"},
      {"MMHG", "mm[Hg]"},
      {"degC", "Cel"},
      {"\xc2\xb0"
       "C",
       "Cel"},
      {"cel", "Cel"},
      {"degF", "[degF]"},
      {"[degF]", "[degF]"},
      {"lb", "[lb_av]"},
      {"lbs", "[lb_av]"},
      {"KG", "kg"},
      {"mg/dl", "mg/dL"},
      {"mmol/l", "mmol/L"},
      {"%", "%"},
      {"kPa", "kPa"},
      {"mV", "mV"},
      {"\xc2\xb5V", "uV"},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(pairs); i++) {
    const char *u = mv_clin_unit_normalize(pairs[i][0]);
    if (!u || strcmp(u, pairs[i][1]) != 0)
      print_error("%s -> %s\n", pairs[i][0], u ? u : "(null)");
    assert_non_null(u);
    assert_string_equal(u, pairs[i][1]);
  }
  assert_null(mv_clin_unit_normalize("furlong"));
  assert_null(mv_clin_unit_normalize(""));
  assert_null(mv_clin_unit_normalize("   "));
  assert_null(mv_clin_unit_normalize(NULL));
  assert_null(mv_clin_unit_normalize("0123456789012345678901234567890123"));
  assert_string_equal(mv_clin_unit_by_mdc_ref("MDC_DIM_PERCENT"), "%");
  assert_string_equal(mv_clin_unit_by_mdc_code(262688), "%");
  assert_string_equal(mv_clin_unit_by_mdc_code(264928), "/min");
  assert_string_equal(mv_clin_unit_by_mdc_code(266016), "mm[Hg]");
  assert_null(mv_clin_unit_by_mdc_code(1));
}

static void conv(double v, const char *from, const char *to, double want,
                 double tol) {
  double out = NAN;
  struct mv_diag d;
  int rc = mv_clin_unit_convert(v, from, to, &out, &d);
  if (rc != MV_OK || fabs(out - want) > tol)
    print_error("%g %s -> %s: %g (want %g) %s\n", v, from, to, out, want,
                rc ? d.msg : "");
  assert_int_equal(rc, MV_OK);
  assert_true(fabs(out - want) <= tol);
}

static void conversions_are_exact(void **state) {
  (void)state;
  conv(98.6, "[degF]", "Cel", 37, 1e-12);
  conv(32, "degF", "Cel", 0, 1e-12);
  conv(212, "degF", "Cel", 100, 1e-12);
  conv(37, "Cel", "[degF]", 98.6, 1e-12);
  conv(0, "Cel", "K", 273.15, 1e-12);
  conv(310.15, "K", "Cel", 37, 1e-12);
  conv(1, "kPa", "mm[Hg]", 7.500615758456564, 1e-12);
  conv(760, "mmHg", "kPa", 101.3250144354, 1e-9);
  conv(1, "lb", "kg", 0.45359237, 1e-15);
  conv(154, "[lb_av]", "kg", 69.85322498, 1e-7);
  conv(500, "g", "kg", 0.5, 1e-15);
  conv(1, "[in_i]", "cm", 2.54, 1e-15);
  conv(1, "/s", "/min", 60, 1e-12);
  conv(72, "bpm", "/min", 72, 0);
  conv(1000, "uV", "mV", 1, 1e-12);
  double out;
  const struct mv_clin_code *glu = mv_clin_by_loinc("2339-0");
  assert_int_equal(mv_clin_convert_to_canonical(glu, 5.5, "mmol/L", &out, NULL),
                   MV_OK);
  assert_true(fabs(out - 99.0858) < 1e-9);
  assert_int_equal(mv_clin_convert_to_canonical(glu, 90, "mg/dl", &out, NULL),
                   MV_OK);
  assert_true(out == 90);
}

static void bad_units_fail_clearly(void **state) {
  (void)state;
  double out = 42;
  struct mv_diag d;
  assert_int_equal(mv_clin_unit_convert(1, "furlong", "kg", &out, &d),
                   MV_EINVAL);
  assert_string_equal(d.path, "from");
  assert_non_null(strstr(d.msg, "unknown unit"));
  assert_int_equal(mv_clin_unit_convert(1, "kg", "parsec", &out, &d),
                   MV_EINVAL);
  assert_string_equal(d.path, "to");
  assert_int_equal(mv_clin_unit_convert(1, "kg", "mm[Hg]", &out, &d),
                   MV_EINVAL);
  assert_string_equal(d.msg, "cannot convert kg to mm[Hg]");
  /* Substance to mass needs the analyte. */
  assert_int_equal(mv_clin_unit_convert(5, "mmol/L", "mg/dL", &out, &d),
                   MV_EINVAL);
  assert_int_equal(mv_clin_unit_convert(NAN, "kg", "g", &out, &d), MV_EINVAL);
  assert_true(out == 42); /* untouched on error */
  const struct mv_clin_code *hr = mv_clin_by_loinc("8867-4");
  assert_int_equal(mv_clin_convert_to_canonical(hr, 5, "mmol/L", &out, &d),
                   MV_EINVAL);
  assert_string_equal(d.path, "unit");
  assert_int_equal(mv_clin_convert_to_canonical(NULL, 5, "/min", &out, &d),
                   MV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_entry_is_found_by_each_key),
      cmocka_unit_test(known_codes_have_their_published_values),
      cmocka_unit_test(leads_map_as_the_protocol_says),
      cmocka_unit_test(range_verdicts_at_the_boundaries),
      cmocka_unit_test(device_unit_spellings_normalise),
      cmocka_unit_test(conversions_are_exact),
      cmocka_unit_test(bad_units_fail_clearly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
