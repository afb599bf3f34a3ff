/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One normalised device observation -> one FHIR R4 Observation (JSON text).
 * Written directly into a bounded buffer (no JSON tree: a 8192-sample ECG
 * chunk is the common case and must stay cheap). The shape satisfies
 * mv_fhir_validate and the vital-signs profile; quality flags follow FHIR's
 * rule that a value and dataAbsentReason never appear together (obs-6): a
 * flagged value keeps its value and carries interpretation "questionable"
 * (ISO/IEEE 11073-10201 MeasurementStatus, as the HL7 Point-of-Care Device
 * IG does) plus one extension per flag, so that scores can skip it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mv_dev_fhir.h"

#define OBS_CATEGORY                                                           \
  "http://terminology.hl7.org/CodeSystem/observation-category"

static const struct {
  uint32_t bit;
  const char *name;
} flag_names[] = {
    {MV_DEV_Q_FLAT, "flat"},         {MV_DEV_Q_CLIPPED, "clipped"},
    {MV_DEV_Q_RANGE, "range"},       {MV_DEV_Q_NOISY, "noisy"},
    {MV_DEV_Q_LEAD_OFF, "lead-off"}, {MV_DEV_Q_DEVICE, "questionable"},
};

const char *mv_dev_quality_name(uint32_t bit) {
  for (size_t i = 0; i < MV_ARRAY_LEN(flag_names); i++)
    if (flag_names[i].bit == bit)
      return flag_names[i].name;
  return NULL;
}

/* Shortest decimal with 15 significant digits: every decimal a device sent
 * with <= 15 digits comes back unchanged, conversion noise is dropped. */
static void fmt_num(char *buf, size_t cap, double v) {
  snprintf(buf, cap, "%.15g", v);
  if (strcmp(buf, "-0") == 0)
    snprintf(buf, cap, "0");
}

static int put_num(struct mv_buf *b, double v) {
  char t[40];
  fmt_num(t, sizeof(t), v);
  return mv_buf_appends(b, t);
}

static int put_str(struct mv_buf *b, const char *s) {
  int rc = mv_buf_append(b, "\"", 1);
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(b, s, strlen(s));
  if (rc == MV_OK)
    rc = mv_buf_append(b, "\"", 1);
  return rc;
}

/* RFC 3339 UTC with milliseconds, or microseconds when they are needed. */
static void fmt_time(char *buf, size_t cap, int64_t t_us) {
  int64_t s = t_us / 1000000, us = t_us % 1000000;
  if (us < 0)
    us += 1000000, s -= 1;
  time_t tt = (time_t)s;
  struct tm tm;
  gmtime_r(&tt, &tm);
  if (us % 1000 == 0)
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(us / 1000));
  else
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)us);
}

static int put_coding(struct mv_buf *b, const char *sys, const char *code,
                      const char *display) {
  int rc = mv_buf_appendf(b, "{\"system\":\"%s\",\"code\":", sys);
  if (rc == MV_OK)
    rc = put_str(b, code);
  if (rc == MV_OK && display) {
    rc = mv_buf_appends(b, ",\"display\":");
    if (rc == MV_OK)
      rc = put_str(b, display);
  }
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

static int put_quantity(struct mv_buf *b, double v, const char *ucum) {
  int rc = mv_buf_appends(b, "{\"value\":");
  if (rc == MV_OK)
    rc = put_num(b, v);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"unit\":");
  if (rc == MV_OK)
    rc = put_str(b, ucum);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"system\":\"" MV_CLIN_UCUM_SYSTEM "\",\"code\":");
  if (rc == MV_OK)
    rc = put_str(b, ucum);
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

/* A vital-sign series cannot carry the LOINC coding: the vital-signs
 * profiles fix valueQuantity for their codes. */
static bool loinc_coded(const struct mv_dev_obs *o,
                        const struct mv_clin_code *c) {
  return c->loinc && !(o->kind == MV_DEV_SERIES && c->vital_sign);
}

/* The MDC coding is written when the device named an MDC code, or when
 * there is no LOINC coding to write (waveforms, vital-sign series): a bare
 * LOINC heart rate must not claim to come from an ECG. */
static int put_code(struct mv_buf *b, const struct mv_dev_obs *o,
                    const struct mv_clin_code *c, bool had_mdc) {
  bool loinc = loinc_coded(o, c);
  bool mdc = c->mdc_code && (had_mdc || !loinc);
  int rc = mv_buf_appends(b, ",\"code\":{");
  if (rc == MV_OK && (loinc || mdc))
    rc = mv_buf_appends(b, "\"coding\":[");
  if (rc == MV_OK && loinc)
    rc = put_coding(b, MV_CLIN_LOINC_SYSTEM, c->loinc, c->display);
  if (rc == MV_OK && mdc) {
    char num[16];
    snprintf(num, sizeof(num), "%u", (unsigned)c->mdc_code);
    if (loinc)
      rc = mv_buf_appends(b, ",");
    if (rc == MV_OK)
      rc = put_coding(b, MV_CLIN_MDC_SYSTEM, num, c->mdc_ref);
  }
  if (rc == MV_OK && (loinc || mdc))
    rc = mv_buf_appends(b, "],");
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "\"text\":");
  if (rc == MV_OK)
    rc = put_str(b, o->display ? o->display : c->display);
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

static const char *category_of(const struct mv_clin_code *c) {
  if (c->kind == MV_CLIN_WAVEFORM)
    return "procedure";
  return c->molar_mass > 0 ? "laboratory" : "vital-signs";
}

static int put_head(struct mv_buf *b, const struct mv_dev_obs *o,
                    const struct mv_clin_code *c, bool had_mdc) {
  const char *cat = category_of(c);
  int rc = mv_buf_appendf(b,
                          "{\"resourceType\":\"Observation\",\"status\":"
                          "\"final\",\"category\":[{\"coding\":[{\"system\":"
                          "\"" OBS_CATEGORY "\",\"code\":\"%s\"}]}]",
                          cat);
  if (rc == MV_OK)
    rc = put_code(b, o, c, had_mdc);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"subject\":{\"reference\":\"Patient/");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(b, o->patient, strlen(o->patient));
  return rc == MV_OK ? mv_buf_appends(b, "\"}") : rc;
}

static int put_effective(struct mv_buf *b, const struct mv_dev_obs *o) {
  char t0[48], t1[48];
  fmt_time(t0, sizeof(t0), o->t_us);
  if (o->kind != MV_DEV_SERIES)
    return mv_buf_appendf(b, ",\"effectiveDateTime\":\"%s\"", t0);
  double span_us = (double)(o->n - 1) * o->period_ms * 1e3;
  fmt_time(t1, sizeof(t1), o->t_us + (int64_t)llround(span_us));
  return mv_buf_appendf(b,
                        ",\"effectivePeriod\":{\"start\":\"%s\",\"end\":"
                        "\"%s\"}",
                        t0, t1);
}

static int put_device(struct mv_buf *b, const struct mv_dev_obs *o) {
  if (!o->device)
    return MV_OK;
  int rc = mv_buf_appends(b, ",\"device\":{\"display\":");
  if (rc == MV_OK)
    rc = put_str(b, o->device);
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

static int put_component(struct mv_buf *b, const char *loinc, double v) {
  const struct mv_clin_code *c = mv_clin_by_loinc(loinc);
  int rc = mv_buf_appends(b, "{\"code\":{\"coding\":[");
  if (rc == MV_OK)
    rc = put_coding(b, MV_CLIN_LOINC_SYSTEM, c->loinc, c->display);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "]},\"valueQuantity\":");
  if (rc == MV_OK)
    rc = put_quantity(b, v, c->ucum);
  return rc == MV_OK ? mv_buf_appends(b, "}") : rc;
}

static int put_sampled(struct mv_buf *b, const struct mv_dev_obs *o) {
  int rc = mv_buf_appends(b, ",\"valueSampledData\":{\"origin\":");
  if (rc == MV_OK)
    rc = put_quantity(b, o->origin, o->ucum);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"period\":");
  if (rc == MV_OK)
    rc = put_num(b, o->period_ms);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"factor\":");
  if (rc == MV_OK)
    rc = put_num(b, o->factor);
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"dimensions\":1,\"data\":\"");
  for (size_t i = 0; rc == MV_OK && i < o->n; i++) {
    char t[48];
    t[0] = ' ';
    fmt_num(t + 1, sizeof(t) - 1, o->data[i]);
    rc = mv_buf_appends(b, i ? t : t + 1);
  }
  return rc == MV_OK ? mv_buf_appends(b, "\"}") : rc;
}

static int put_value(struct mv_buf *b, const struct mv_dev_obs *o) {
  int rc;
  switch (o->kind) {
  case MV_DEV_QUANTITY:
    rc = mv_buf_appends(b, ",\"valueQuantity\":");
    return rc == MV_OK ? put_quantity(b, o->value, o->ucum) : rc;
  case MV_DEV_PANEL_BP:
    rc = mv_buf_appends(b, ",\"component\":[");
    if (rc == MV_OK)
      rc = put_component(b, "8480-6", o->value);
    if (rc == MV_OK)
      rc = mv_buf_appends(b, ",");
    if (rc == MV_OK)
      rc = put_component(b, "8462-4", o->value2);
    return rc == MV_OK ? mv_buf_appends(b, "]") : rc;
  default:
    return put_sampled(b, o);
  }
}

static int put_quality(struct mv_buf *b, uint32_t q) {
  if (!q)
    return MV_OK;
  char text[128] = "signal quality:";
  size_t len = strlen(text);
  int rc = mv_buf_appends(b, ",\"extension\":[");
  bool first = true;
  for (size_t i = 0; rc == MV_OK && i < MV_ARRAY_LEN(flag_names); i++) {
    if (!(q & flag_names[i].bit))
      continue;
    rc = mv_buf_appendf(
        b, "%s{\"url\":\"" MV_DEV_QUALITY_EXT "\",\"valueCode\":\"%s\"}",
        first ? "" : ",", flag_names[i].name);
    len += (size_t)snprintf(text + len, sizeof(text) - len, "%s %s",
                            first ? "" : ",", flag_names[i].name);
    first = false;
  }
  if (rc == MV_OK)
    rc = mv_buf_appendf(b,
                        "],\"interpretation\":[{\"coding\":[{\"system\":"
                        "\"" MV_DEV_MEAS_STATUS_SYSTEM
                        "\",\"code\":\"questionable\",\"display\":"
                        "\"Questionable\"}],\"text\":\"%s\"}]",
                        text);
  return rc;
}

int mv_dev_obs_to_fhir(const struct mv_dev_obs *o, struct mv_buf *out,
                       struct mv_diag *diag) {
  if (!o || !out)
    return mv_diag_set(diag, MV_EINVAL, "no observation or buffer");
  struct mv_dev_obs n = *o;
  int rc = mv_dev_obs_normalize(&n, diag);
  if (rc != MV_OK)
    return rc;
  const struct mv_clin_code *c = mv_dev_obs_code(&n);
  rc = put_head(out, &n, c, o->mdc && *o->mdc);
  if (rc == MV_OK)
    rc = put_effective(out, &n);
  if (rc == MV_OK)
    rc = put_device(out, &n);
  if (rc == MV_OK)
    rc = put_value(out, &n);
  if (rc == MV_OK)
    rc = put_quality(out, n.quality);
  if (rc == MV_OK)
    rc = mv_buf_appends(out, "}");
  if (rc != MV_OK)
    mv_diag_set(diag, rc, "Observation does not fit the output buffer");
  return rc;
}
