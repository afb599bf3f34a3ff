/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HL7 v2 ORU^R01 decoding and the ACK: a PCD-01 message with MDC codes, the
 * declared delimiters, escapes, segment separators, every refusal with its
 * ERR location and table 0357 code, quality from OBX-8 and the range
 * tables, TS parsing, and the ACK text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hl7_int.h"

#define MSH_26                                                                 \
  "MSH|^~\\&|MONITOR^ACDE48234567ABCD^EUI-64|ICU|MEDVERSE|HOSP|"               \
  "20261125103000+0000||ORU^R01^ORU_R01|MSG0001|P|2.6|||NE|AL"
#define PID_1 "PID|||pat-1^^^HOSP^PI||Doe^John"
#define OBR_1                                                                  \
  "OBR|1|||182777000^monitoring of patient^SNOMED-CT|||20261125102955+0000"
#define OBX_MDS                                                                \
  "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X"
#define OBX_SPO2                                                               \
  "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.0.1.1|97|"                       \
  "262688^MDC_DIM_PERCENT^MDC|90-100||||R|||20261125102956+0000"
#define OBX_HR                                                                 \
  "OBX|3|NM|147842^MDC_ECG_HEART_RATE^MDC|1.0.1.2|72|"                         \
  "264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||||||ACDE48234567ABCD^EUI-64"

struct fx {
  struct mv_arena *a;
  struct mv_hl7_result r;
  int rc;
  char msg[4096];
};

static int setup(void **state) {
  struct fx *f = calloc(1, sizeof(*f));
  f->a = mv_arena_new(1u << 20);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fx *f = *state;
  mv_arena_free(f->a);
  free(f);
  return 0;
}

/* Join the segments (NULL-terminated) with sep and decode. */
static int decode_sep(struct fx *f, const char *sep, const char *const *segs) {
  f->msg[0] = 0;
  for (size_t i = 0; segs[i]; i++) {
    strcat(f->msg, segs[i]);
    strcat(f->msg, sep);
  }
  mv_arena_reset(f->a);
  f->rc = mv_hl7_decode(f->msg, strlen(f->msg), f->a, &f->r, NULL);
  return f->rc;
}

#define DECODE(f, ...)                                                         \
  decode_sep(f, "\r", (const char *const[]){__VA_ARGS__, NULL})

/* The standard message with the second measurement OBX replaced. */
static int decode_obx(struct fx *f, const char *obx) {
  return DECODE(f, MSH_26, PID_1, OBR_1, OBX_MDS, obx);
}

static void expect_err(const struct fx *f, enum mv_hl7_ack ack, int code,
                       const char *seg, unsigned seq, unsigned field,
                       unsigned comp) {
  if (f->r.ack != ack || (int)f->r.err.code != code ||
      strcmp(f->r.err.segment, seg) != 0 || f->r.err.seq != seq ||
      f->r.err.field != field || f->r.err.comp != comp)
    fail_msg("got ack %d code %d at %s^%u^%u^%u (%s)", f->r.ack, f->r.err.code,
             f->r.err.segment, f->r.err.seq, f->r.err.field, f->r.err.comp,
             f->r.err.text);
  assert_int_equal(f->r.n_obs, 0);
}

static void pcd01_message_decodes(void **state) {
  struct fx *f = *state;
  assert_int_equal(DECODE(f, MSH_26, PID_1, "PV1||I|ICU^1^1", OBR_1, OBX_MDS,
                          OBX_SPO2, OBX_HR),
                   MV_OK);
  assert_int_equal(f->r.ack, MV_HL7_AA);
  assert_int_equal(f->r.n_obs, 2);
  assert_int_equal(f->r.n_skipped, 1);
  assert_string_equal(f->r.hdr.control_id, "MSG0001");
  assert_string_equal(f->r.hdr.sending_app, "MONITOR");
  assert_string_equal(f->r.hdr.version, "2.6");
  const struct mv_dev_obs *o = f->r.obs;
  assert_string_equal(o[0].patient, "pat-1");
  assert_string_equal(o[0].loinc, "59408-5");
  assert_string_equal(o[0].ucum, "%");
  assert_true(o[0].value == 97.0);
  assert_int_equal(o[0].quality, 0);
  /* 2026-11-25T10:29:56Z from OBX-14 */
  assert_int_equal(o[0].t_us, INT64_C(1795602596) * 1000000);
  assert_null(o[0].device);
  assert_string_equal(o[1].loinc, "8867-4");
  assert_string_equal(o[1].ucum, "/min");
  assert_true(o[1].value == 72.0);
  /* no OBX-14: OBR-7 */
  assert_int_equal(o[1].t_us, INT64_C(1795602595) * 1000000);
  assert_string_equal(o[1].device, "ACDE48234567ABCD");
  assert_int_equal(f->r.obs_obx[1], 3);
  assert_int_equal(f->r.obs_pid[1], 1);
}

static void segment_separators_lf_and_crlf(void **state) {
  struct fx *f = *state;
  const char *const segs[] = {MSH_26, PID_1, OBR_1, OBX_SPO2, NULL};
  assert_int_equal(decode_sep(f, "\n", segs), MV_OK);
  assert_int_equal(f->r.n_obs, 1);
  assert_int_equal(decode_sep(f, "\r\n", segs), MV_OK);
  assert_int_equal(f->r.n_obs, 1);
  assert_true(f->r.obs[0].value == 97.0);
}

static void declared_delimiters_are_used(void **state) {
  struct fx *f = *state;
  const char *const segs[] = {MSH_26, PID_1, OBR_1, OBX_SPO2, NULL};
  char buf[2048] = "";
  for (size_t i = 0; segs[i]; i++) {
    strcat(buf, segs[i]);
    strcat(buf, "\r");
  }
  for (char *p = buf; *p; p++) {
    switch (*p) {
    case '|':
      *p = '#';
      break;
    case '^':
      *p = '$';
      break;
    case '~':
      *p = '*';
      break;
    case '\\':
      *p = '@';
      break;
    case '&':
      *p = '%';
      break;
    default:
      break;
    }
  }
  assert_int_equal(mv_hl7_decode(buf, strlen(buf), f->a, &f->r, NULL), MV_OK);
  assert_int_equal(f->r.n_obs, 1);
  assert_string_equal(f->r.obs[0].patient, "pat-1");
  assert_string_equal(f->r.obs[0].loinc, "59408-5");
  /* v2.7+ MSH-2 with a fifth (truncation) character */
  assert_int_equal(DECODE(f,
                          "MSH|^~\\&#|A|B|C|D|20261125103000+0000||ORU^R01|"
                          "X1|P|2.7",
                          PID_1, OBR_1, OBX_SPO2),
                   MV_OK);
  assert_int_equal(f->r.n_obs, 1);
  assert_string_equal(f->r.hdr.control_id, "X1");
}

static void escapes_are_decoded(void **state) {
  struct fx *f = *state;
  struct mv_hl7_delims d = {'|', '^', '~', '\\', '&'};
  const char *in = "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X4142\\g\\H\\h\\X00\\"
                   "i\\.br\\j\\x";
  char *out = mv_hl7_unescape(&d, in, strlen(in), f->a);
  assert_string_equal(out, "a|b^c&d~e\\fABgh?ij\\x");
  /* An escaped delimiter in PID-3 is data: not a valid id. */
  assert_int_equal(DECODE(f, MSH_26, "PID|||pat\\T\\1", OBR_1, OBX_SPO2),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "PID", 1, 3, 1);
  /* \E\ etc. in a header field reach the header unescaped. */
  assert_int_equal(DECODE(f,
                          "MSH|^~\\&|MON\\E\\1|ICU|MV|H|20261125103000+0000||"
                          "ORU^R01|ID\\F\\7|P|2.5",
                          PID_1, OBR_1, OBX_SPO2),
                   MV_OK);
  assert_string_equal(f->r.hdr.sending_app, "MON\\1");
  assert_string_equal(f->r.hdr.control_id, "ID|7");
}

static void broken_headers_are_rejected(void **state) {
  struct fx *f = *state;
  assert_int_equal(DECODE(f, PID_1, OBR_1, OBX_SPO2), MV_EPARSE);
  expect_err(f, MV_HL7_AR, 100, "MSH", 1, 0, 0);
  assert_int_equal(DECODE(f,
                          "MSH|^^\\&|A|B|C|D|20261125103000+0000||ORU^R01|"
                          "X1|P|2.6",
                          PID_1),
                   MV_EPARSE);
  expect_err(f, MV_HL7_AR, 102, "MSH", 1, 2, 0);
  assert_int_equal(DECODE(f, "MSH|^~|A|B", PID_1), MV_EPARSE);
  expect_err(f, MV_HL7_AR, 102, "MSH", 1, 2, 0);
  assert_int_equal(DECODE(f, "MSHA^~\\&A", PID_1), MV_EPARSE);
  assert_int_equal(f->r.ack, MV_HL7_AR);
  assert_int_equal(
      DECODE(f, "MSH|^~\\&|A|B|C|D|20261125103000+0000||ORU^R01||P|2.6", PID_1),
      MV_EPARSE);
  expect_err(f, MV_HL7_AR, 101, "MSH", 1, 10, 0);
  assert_int_equal(DECODE(f, "", NULL), MV_EPARSE);
  assert_int_equal(f->r.ack, MV_HL7_AR);
  /* A NUL byte would cut a value short ("pat" for "pat\0x"): refused. */
  const char nul[] = "MSH|^~\\&|A|B|C|D|20261125103000+0000||ORU^R01|X1|P|2.6"
                     "\rPID|||pat\0x\r" OBR_1 "\r" OBX_SPO2 "\r";
  assert_int_equal(mv_hl7_decode(nul, sizeof(nul) - 1, f->a, &f->r, NULL),
                   MV_EPARSE);
  assert_int_equal(f->r.ack, MV_HL7_AR);
  assert_int_equal(f->r.err.code, 102);
}

static void versions_and_message_types(void **state) {
  struct fx *f = *state;
  const char *bad[] = {"2.2", "2.9", "3.0", "2.31", ""};
  const char *good[] = {"2.3", "2.3.1", "2.4", "2.5.1", "2.7.1", "2.8.2"};
  char msh[256];
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    snprintf(msh, sizeof(msh),
             "MSH|^~\\&|A|B|C|D|20261125103000+0000||ORU^R01|X1|P|%s", bad[i]);
    assert_int_equal(DECODE(f, msh, PID_1, OBR_1, OBX_SPO2), MV_EUNSUPPORTED);
    expect_err(f, MV_HL7_AR, 203, "MSH", 1, 12, 1);
  }
  for (size_t i = 0; i < MV_ARRAY_LEN(good); i++) {
    snprintf(msh, sizeof(msh),
             "MSH|^~\\&|A|B|C|D|20261125103000+0000||ORU^R01|X1|P|%s", good[i]);
    assert_int_equal(DECODE(f, msh, PID_1, OBR_1, OBX_SPO2), MV_OK);
  }
  assert_int_equal(DECODE(f,
                          "MSH|^~\\&|A|B|C|D|20261125103000+0000||ADT^A01|X1|"
                          "P|2.6",
                          PID_1),
                   MV_EUNSUPPORTED);
  expect_err(f, MV_HL7_AR, 200, "MSH", 1, 9, 1);
  assert_int_equal(DECODE(f,
                          "MSH|^~\\&|A|B|C|D|20261125103000+0000||ORU^R30|X1|"
                          "P|2.6",
                          PID_1),
                   MV_EUNSUPPORTED);
  expect_err(f, MV_HL7_AR, 200, "MSH", 1, 9, 2);
}

static void segment_sequence_errors(void **state) {
  struct fx *f = *state;
  assert_int_equal(DECODE(f, MSH_26, PID_1, OBX_SPO2), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 100, "OBX", 1, 0, 0);
  assert_int_equal(DECODE(f, MSH_26, OBR_1, OBX_SPO2), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 100, "OBR", 1, 0, 0);
  assert_int_equal(DECODE(f, MSH_26), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "PID", 1, 3, 1);
  assert_int_equal(DECODE(f, MSH_26, PID_1, OBR_1, MSH_26), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 100, "MSH", 2, 0, 0);
  assert_int_equal(DECODE(f, MSH_26, PID_1, "ob|x"), MV_EINVALID);
  assert_int_equal(f->r.err.code, 100);
}

static void patient_errors(void **state) {
  struct fx *f = *state;
  assert_int_equal(DECODE(f, MSH_26, "PID|||^^^HOSP", OBR_1, OBX_SPO2),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "PID", 1, 3, 1);
  assert_int_equal(DECODE(f, MSH_26, "PID|||a b", OBR_1, OBX_SPO2),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "PID", 1, 3, 1);
  /* Two patients in one message: each OBX belongs to the PID before it. */
  assert_int_equal(
      DECODE(f, MSH_26, PID_1, OBR_1, OBX_SPO2, "PID|||pat-2", OBR_1, OBX_HR),
      MV_OK);
  assert_int_equal(f->r.n_obs, 2);
  assert_string_equal(f->r.obs[0].patient, "pat-1");
  assert_string_equal(f->r.obs[1].patient, "pat-2");
  assert_int_equal(f->r.obs_pid[1], 2);
}

static void obx_code_and_unit_errors(void **state) {
  struct fx *f = *state;
  assert_int_equal(decode_obx(f, "OBX|2|NM|999999^MDC_NOT_A_CODE^MDC||97|"
                                 "262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 103, "OBX", 2, 3, 1);
  assert_int_equal(decode_obx(f, "OBX|2|NM|||97|%^^UCUM|||||F"), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "OBX", 2, 3, 1);
  assert_int_equal(decode_obx(f, "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "97||||||F"),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "OBX", 2, 6, 1);
  assert_int_equal(decode_obx(f, "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "97|furlong^^UCUM|||||F"),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 103, "OBX", 2, 6, 1);
  /* a known unit of the wrong dimension */
  assert_int_equal(decode_obx(f, "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC||72|"
                                 "262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 103, "OBX", 2, 6, 1);
}

static void obx_value_status_and_time_errors(void **state) {
  struct fx *f = *state;
  const char *pre = "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||";
  char obx[256];
#define OBX_WITH(val, st, ts)                                                  \
  (snprintf(obx, sizeof(obx), "%s%s|262688^MDC_DIM_PERCENT^MDC|||||%s|||%s",   \
            pre, val, st, ts),                                                 \
   decode_obx(f, obx))
  assert_int_equal(OBX_WITH("abc", "F", ""), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "OBX", 2, 5, 1);
  assert_int_equal(OBX_WITH("", "F", ""), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "OBX", 2, 5, 1);
  assert_int_equal(OBX_WITH("140", "F", ""), MV_EINVALID); /* impossible */
  expect_err(f, MV_HL7_AE, 102, "OBX", 2, 5, 1);
  assert_int_equal(OBX_WITH("97", "D", ""), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 103, "OBX", 2, 11, 1);
  assert_int_equal(OBX_WITH("97", "", ""), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "OBX", 2, 11, 1);
  assert_int_equal(OBX_WITH("97", "F", "20261125"), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "OBX", 2, 14, 1);
  assert_int_equal(OBX_WITH("97", "F", "202611251030"), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "OBX", 2, 14, 1); /* no UTC offset */
  /* no OBX-14 and no OBR-7 */
  assert_int_equal(DECODE(f, MSH_26, PID_1, "OBR|1", OBX_HR), MV_EINVALID);
  expect_err(f, MV_HL7_AE, 101, "OBX", 1, 14, 1);
  assert_int_equal(DECODE(f, MSH_26, PID_1, "OBR|1|||x|||2026", OBX_HR),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "OBR", 1, 7, 1);
  /* status X: skipped, nothing stored, still accepted */
  assert_int_equal(OBX_WITH("97", "X", ""), MV_OK);
  assert_int_equal(f->r.n_obs, 0);
  assert_int_equal(f->r.n_skipped, 2);
  assert_int_equal(OBX_WITH("97", "C", ""), MV_OK);
  assert_int_equal(f->r.n_obs, 1);
#undef OBX_WITH
}

static void values_units_and_quality(void **state) {
  struct fx *f = *state;
  /* LOINC code and UCUM units */
  assert_int_equal(decode_obx(f, "OBX|2|NM|8867-4^Heart rate^LN||+72.5|"
                                 "/min^^UCUM|||||F"),
                   MV_OK);
  assert_string_equal(f->r.obs[0].loinc, "8867-4");
  assert_true(f->r.obs[0].value == 72.5);
  /* degF converted to Cel */
  assert_int_equal(decode_obx(f, "OBX|2|NM|150364^MDC_TEMP_BODY^MDC||98.6|"
                                 "[degF]^^UCUM|||||F"),
                   MV_OK);
  assert_string_equal(f->r.obs[0].ucum, "Cel");
  assert_true(f->r.obs[0].value > 36.99 && f->r.obs[0].value < 37.01);
  /* implausible but possible: flagged, not refused */
  assert_int_equal(decode_obx(f, "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "40|262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_OK);
  assert_int_equal(f->r.obs[0].quality, MV_DEV_Q_RANGE);
  /* measurement status marks it; a clinical flag (H) does not */
  assert_int_equal(decode_obx(f, "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "97|262688^MDC_DIM_PERCENT^MDC||H~questionable"
                                 "|||F"),
                   MV_OK);
  assert_int_equal(f->r.obs[0].quality, MV_DEV_Q_DEVICE);
  assert_int_equal(decode_obx(f, "OBX|2|NM|147842^MDC_ECG_HEART_RATE^MDC||"
                                 "150|264864^MDC_DIM_BEAT_PER_MIN^MDC||HH|||F"),
                   MV_OK);
  assert_int_equal(f->r.obs[0].quality, 0);
  /* SN with "=" or no comparator; a comparator is refused */
  assert_int_equal(decode_obx(f, "OBX|2|SN|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "=^98|262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_OK);
  assert_true(f->r.obs[0].value == 98.0);
  assert_int_equal(decode_obx(f, "OBX|2|SN|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 ">^98|262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_EINVALID);
  expect_err(f, MV_HL7_AE, 102, "OBX", 2, 5, 1);
  /* text OBX rows are not measurements */
  assert_int_equal(decode_obx(f, "OBX|2|ST|150456^MDC_PULS_OXIM_SAT_O2^MDC||"
                                 "fine||||||F"),
                   MV_OK);
  assert_int_equal(f->r.n_obs, 0);
}

static void ts_parse(void **state) {
  (void)state;
  int64_t t = 0;
  assert_int_equal(mv_hl7_ts_parse("20261125103000+0100", 19, &t), MV_OK);
  assert_int_equal(t, INT64_C(1795599000) * 1000000);
  assert_int_equal(mv_hl7_ts_parse("202611251030-0500", 17, &t), MV_OK);
  assert_int_equal(t, INT64_C(1795620600) * 1000000);
  assert_int_equal(mv_hl7_ts_parse("20261125103000.1234+0000", 24, &t), MV_OK);
  assert_int_equal(t, INT64_C(1795602600) * 1000000 + 123400);
  assert_int_equal(mv_hl7_ts_parse("20240229000000+0000", 19, &t), MV_OK);
  const char *bad[] = {"20250229000000+0000",  "20261325103000+0000",
                       "20261125246000+0000",  "20261125103000",
                       "20261125103000.+0000", "2026112510+0000",
                       "20261125103000+00",    "2026112510300x+0000"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(mv_hl7_ts_parse(bad[i], strlen(bad[i]), &t), MV_EPARSE);
}

static void ack_text(void **state) {
  struct fx *f = *state;
  struct mv_buf b;
  mv_buf_init(&b, 4096);
  assert_int_equal(DECODE(f, MSH_26, PID_1, OBR_1, OBX_SPO2), MV_OK);
  assert_int_equal(mv_hl7_ack_write(&f->r.hdr, MV_HL7_AA, NULL, "MV1",
                                    INT64_C(1795602600) * 1000000, &b),
                   MV_OK);
  assert_string_equal(b.data, "MSH|^~\\&|MEDVERSE|HOSP|MONITOR|ICU|"
                              "20261125103000.0000+0000||ACK^R01^ACK|MV1|P|"
                              "2.6\rMSA|AA|MSG0001\r");
  mv_buf_reset(&b);
  assert_int_equal(decode_obx(f, "OBX|2|NM|999999^MDC_NOT_A_CODE^MDC||97|"
                                 "262688^MDC_DIM_PERCENT^MDC|||||F"),
                   MV_EINVALID);
  assert_int_equal(
      mv_hl7_ack_write(&f->r.hdr, f->r.ack, &f->r.err, "MV2", 0, &b), MV_OK);
  assert_non_null(strstr(b.data, "\rMSA|AE|MSG0001\rERR||OBX^2^3^1^1|"
                                 "103^Table value not found^HL70357|E||||"));
  /* Echoed values are escaped; a broken header still gets an answer. */
  struct mv_hl7_header h = {.sending_app = "A|B^C", .control_id = "x&y"};
  mv_buf_reset(&b);
  struct mv_hl7_error e;
  mv_hl7_error_set(&e, MV_HL7_E_SEQUENCE, "MSH", 1, 0, 0, "no MSH");
  assert_int_equal(mv_hl7_ack_write(&h, MV_HL7_AR, &e, "MV3", 0, &b), MV_OK);
  assert_non_null(strstr(b.data, "|A\\F\\B\\S\\C|"));
  assert_non_null(strstr(b.data, "\rMSA|AR|x\\T\\y\rERR||MSH^1|100^"));
  assert_non_null(strstr(b.data, "|2.5\r")); /* default version */
  mv_buf_release(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(pcd01_message_decodes, setup, teardown),
      cmocka_unit_test_setup_teardown(segment_separators_lf_and_crlf, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(declared_delimiters_are_used, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(escapes_are_decoded, setup, teardown),
      cmocka_unit_test_setup_teardown(broken_headers_are_rejected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(versions_and_message_types, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(segment_sequence_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(patient_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(obx_code_and_unit_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(obx_value_status_and_time_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(values_units_and_quality, setup,
                                      teardown),
      cmocka_unit_test(ts_parse),
      cmocka_unit_test_setup_teardown(ack_text, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
