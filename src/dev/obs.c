/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The checks every device decoder runs on a normalised observation before
 * it is stored (mv_dev_obs_check), and the step that brings it to the code
 * table's form: table strings, canonical UCUM unit, plausible-range flag
 * (mv_dev_obs_normalize). Diagnostics name fields, never values: they are
 * patient data.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "mv_dev_fhir.h"

#define ID_MAX 64u
#define Q_KNOWN 0x3fu
/* FHIR dateTime years 0001..9999, in µs since the epoch. */
#define T_MIN_US (-62135596800LL * 1000000LL)
#define T_MAX_US (253402300799LL * 1000000LL)

static int fail(struct mv_diag *d, int err, const char *path, const char *msg) {
  mv_diag_set(d, err, "%s", msg);
  mv_diag_set_path(d, path);
  return err;
}

static bool fhir_id_ok(const char *s) {
  size_t n = 0;
  for (; s[n]; n++) {
    char c = s[n];
    if (n >= ID_MAX || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return n > 0;
}

static bool device_ok(const char *s) {
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= MV_DEV_DEVICE_LEN || (unsigned char)s[n] < 0x20 ||
        (unsigned char)s[n] > 0x7e)
      return false;
  return n > 0;
}

const struct mv_clin_code *mv_dev_obs_code(const struct mv_dev_obs *o) {
  if (!o)
    return NULL;
  if (o->mdc && *o->mdc)
    return mv_clin_lookup(o->mdc);
  return mv_clin_by_loinc(o->loinc);
}

static int check_ids(const struct mv_dev_obs *o, struct mv_diag *d) {
  if (!o->patient || !fhir_id_ok(o->patient))
    return fail(d, MV_EINVAL, "patient",
                "patient must be a FHIR id ([A-Za-z0-9-.]{1,64})");
  if (o->device && !device_ok(o->device))
    return fail(d, MV_EINVAL, "device",
                "device must be 1..64 printable ASCII characters");
  if (o->t_us < T_MIN_US || o->t_us > T_MAX_US)
    return fail(d, MV_EINVAL, "t", "time outside the years 0001..9999");
  if (o->quality & ~Q_KNOWN)
    return fail(d, MV_EINVAL, "quality", "unknown quality flag bits");
  return MV_OK;
}

static int check_code(const struct mv_dev_obs *o, const struct mv_clin_code *c,
                      struct mv_diag *d) {
  if (!c)
    return fail(d, MV_EINVAL, "code", "unknown code");
  if (o->mdc && *o->mdc && o->loinc && *o->loinc &&
      (!c->loinc || strcmp(c->loinc, o->loinc) != 0))
    return fail(d, MV_EINVAL, "code",
                "the MDC code does not match the LOINC code");
  bool ok;
  switch (o->kind) {
  case MV_DEV_QUANTITY:
    ok = c->kind == MV_CLIN_QUANTITY;
    break;
  case MV_DEV_PANEL_BP:
    ok = c->kind == MV_CLIN_BP_PANEL;
    break;
  case MV_DEV_SERIES:
    ok = c->kind == MV_CLIN_QUANTITY || c->kind == MV_CLIN_WAVEFORM;
    break;
  default:
    ok = false;
  }
  if (!ok)
    return fail(d, MV_EINVAL, "code",
                c->kind == MV_CLIN_WAVEFORM ? "a waveform must be a series"
                : c->kind == MV_CLIN_BP_PANEL
                    ? "blood pressure needs systolic and diastolic"
                    : "this code takes a single value or a series");
  return MV_OK;
}

/* Value v (device unit, affine a, b to canonical) against c. */
static int check_value(const struct mv_clin_code *c, double v, double a,
                       double b, const char *path, struct mv_diag *d) {
  if (!isfinite(v))
    return fail(d, MV_EINVAL, path, "value is not a finite number");
  if (mv_clin_range_check(c, a * v + b) == MV_CLIN_IMPOSSIBLE)
    return fail(d, MV_ERANGE, path, "value outside the possible range");
  return MV_OK;
}

static int check_bp(const struct mv_dev_obs *o, double a, double b,
                    struct mv_diag *d) {
  int rc = check_value(mv_clin_by_loinc("8480-6"), o->value, a, b, "sys", d);
  if (rc == MV_OK)
    rc = check_value(mv_clin_by_loinc("8462-4"), o->value2, a, b, "dia", d);
  return rc;
}

static int check_series(const struct mv_dev_obs *o,
                        const struct mv_clin_code *c, double a, double b,
                        struct mv_diag *d) {
  if (o->n == 0 || o->n > MV_DEV_SERIES_MAX || !o->data)
    return fail(d, MV_EINVAL, "data", "a series needs 1..8192 values");
  if (!isfinite(o->period_ms) || o->period_ms <= 0)
    return fail(d, MV_EINVAL, "period_ms", "period must be > 0 ms");
  if (!isfinite(o->factor) || o->factor == 0 || !isfinite(o->origin))
    return fail(d, MV_EINVAL, "factor",
                "origin must be finite and factor finite and non-zero");
  double end_us = (double)o->t_us + (double)(o->n - 1) * o->period_ms * 1e3;
  if (end_us > (double)T_MAX_US)
    return fail(d, MV_EINVAL, "t", "series ends after the year 9999");
  for (size_t i = 0; i < o->n; i++) {
    char path[32];
    snprintf(path, sizeof(path), "data[%zu]", i);
    if (!isfinite(o->data[i]))
      return fail(d, MV_EINVAL, path, "value is not a finite number");
    double phys = o->origin + o->factor * o->data[i];
    if (c->kind != MV_CLIN_WAVEFORM &&
        mv_clin_range_check(c, a * phys + b) == MV_CLIN_IMPOSSIBLE)
      return fail(d, MV_ERANGE, path, "value outside the possible range");
  }
  return MV_OK;
}

/* Shared by check and normalize: returns the entry and the affine map from
 * the device's unit to the canonical one. */
static int check_all(const struct mv_dev_obs *o,
                     const struct mv_clin_code **out_c, double *a, double *b,
                     struct mv_diag *d) {
  if (!o)
    return fail(d, MV_EINVAL, "", "no observation");
  int rc = check_ids(o, d);
  const struct mv_clin_code *c = mv_dev_obs_code(o);
  if (rc == MV_OK)
    rc = check_code(o, c, d);
  if (rc != MV_OK)
    return rc;
  *a = 1, *b = 0;
  if (o->ucum && mv_clin_affine_to_canonical(c, o->ucum, a, b, NULL) != MV_OK)
    return fail(d, MV_EINVAL, "unit",
                "unit not convertible to the code's "
                "UCUM unit");
  if (o->kind == MV_DEV_QUANTITY)
    rc = check_value(c, o->value, *a, *b, "value", d);
  else if (o->kind == MV_DEV_PANEL_BP)
    rc = check_bp(o, *a, *b, d);
  else
    rc = check_series(o, c, *a, *b, d);
  *out_c = c;
  return rc;
}

int mv_dev_obs_check(const struct mv_dev_obs *o, struct mv_diag *diag) {
  const struct mv_clin_code *c;
  double a, b;
  return check_all(o, &c, &a, &b, diag);
}

static bool series_implausible(const struct mv_dev_obs *o,
                               const struct mv_clin_code *c) {
  for (size_t i = 0; i < o->n; i++)
    if (mv_clin_range_check(c, o->origin + o->factor * o->data[i]) !=
        MV_CLIN_OK)
      return true;
  return false;
}

int mv_dev_obs_normalize(struct mv_dev_obs *o, struct mv_diag *diag) {
  const struct mv_clin_code *c;
  double a, b;
  int rc = check_all(o, &c, &a, &b, diag);
  if (rc != MV_OK)
    return rc;
  struct mv_dev_obs n = *o;
  n.loinc = c->loinc;
  /* Keep "no MDC code" as it was: a bare LOINC heart rate must not become
   * an ECG heart rate by normalisation. */
  n.mdc = o->mdc && *o->mdc ? c->mdc_ref : NULL;
  n.display = o->display ? o->display : c->display;
  n.ucum = c->ucum;
  if (n.kind == MV_DEV_SERIES) {
    n.origin = a * o->origin + b;
    n.factor = a * o->factor;
    if (series_implausible(&n, c))
      n.quality |= MV_DEV_Q_RANGE;
  } else {
    n.value = a * o->value + b;
    const struct mv_clin_code *sys =
        n.kind == MV_DEV_PANEL_BP ? mv_clin_by_loinc("8480-6") : c;
    if (mv_clin_range_check(sys, n.value) != MV_CLIN_OK)
      n.quality |= MV_DEV_Q_RANGE;
    if (n.kind == MV_DEV_PANEL_BP) {
      n.value2 = a * o->value2 + b;
      if (mv_clin_range_check(mv_clin_by_loinc("8462-4"), n.value2) !=
          MV_CLIN_OK)
        n.quality |= MV_DEV_Q_RANGE;
    }
  }
  *o = n;
  return MV_OK;
}
