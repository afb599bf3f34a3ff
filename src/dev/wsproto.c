/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The text half of the WebSocket device protocol v1: one JSON message
 * (hello or vitals) to normalised observations. Each entry of "values" is
 * looked up in the clinical table (LOINC, MDC reference id or MDC numeric
 * code), its unit converted to the code's canonical UCUM unit, and its
 * value judged against the table's possible range (reject) and plausible
 * range (flag). Every error names the JSON path of the failing member;
 * nothing is quoted from the message.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mv_clock.h"
#include "mv_clin.h"
#include "mv_dev_ws.h"
#include "mv_json.h"

#define PATH_MAX_LEN 64u

bool mv_dev_ws_id_valid(const char *s, size_t len) {
  if (!s || len == 0 || len > MV_DEV_WS_PATIENT_LEN)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
  }
  return true;
}

const char *mv_dev_ws_error_code(int err) {
  switch (err) {
  case MV_ETOOBIG:
    return "too-large";
  case MV_EPERM:
  case MV_EAUTH:
    return "forbidden";
  case MV_EBUSY:
  case MV_ECLOSED:
  case MV_ENOMEM:
  case MV_EDB:
  case MV_EIO:
  case MV_ETIMEOUT:
  case MV_EINTERNAL:
    return "busy";
  default:
    return "invalid";
  }
}

/* ---- time ------------------------------------------------------------------ */

static bool digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

int mv_dev_ws_parse_time(const char *s, int64_t *out_us) {
  int y, mo, d, h, mi, se, frac_us = 0, tz = 0;
  size_t n = s ? strlen(s) : 0;
  const char *p;
  if (n < 20 || n > 40 || !digits(s, 4, &y) || s[4] != '-' ||
      !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
      (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
      s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
      !digits(s + 17, 2, &se))
    return MV_EINVAL;
  if (y < 1900 || d < 1 || d > mv_time_days_in_month(y, mo) || h > 23 ||
      mi > 59 || se > 60)
    return MV_EINVAL;
  p = s + 19;
  if (*p == '.') {
    int k = 0;
    p++;
    while (*p >= '0' && *p <= '9') {
      if (k < 6)
        frac_us = frac_us * 10 + (*p - '0');
      k++;
      p++;
    }
    if (k == 0 || k > 9)
      return MV_EINVAL;
    for (; k < 6; k++)
      frac_us *= 10;
  }
  if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
    tz = 0;
  } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
    int th, tm;
    if (!digits(p + 1, 2, &th) || !digits(p + 4, 2, &tm) || th > 23 || tm > 59)
      return MV_EINVAL;
    tz = (th * 60 + tm) * (*p == '-' ? -1 : 1);
  } else {
    return MV_EINVAL;
  }
  if (se == 60)
    se = 59; /* a leap second (RFC 3339 allows :60) counts as :59 */
  int64_t secs = mv_time_days_from_civil(y, mo, d) * 86400 + h * 3600 +
                 mi * 60 + se - (int64_t)tz * 60;
  *out_us = secs * 1000000 + frac_us;
  return MV_OK;
}

/* ---- helpers ----------------------------------------------------------------- */

static int fail(struct mv_diag *diag, int err, const char *path,
                const char *msg) {
  mv_diag_set(diag, err, "%s", msg);
  mv_diag_set_path(diag, path);
  return err;
}

/* "t" (RFC 3339) or "t_us" (integer) of obj; MV_ENOTFOUND when neither. */
static int get_time(struct json_object *obj, const char *path, int64_t *out,
                    struct mv_diag *diag) {
  const char *t = NULL;
  char p[PATH_MAX_LEN + 8];
  int rc = mv_json_get_string(obj, path, "t", false, &t, diag);
  if (rc == MV_OK) {
    if (mv_dev_ws_parse_time(t, out) != MV_OK) {
      snprintf(p, sizeof(p), "%s%st", path, *path ? "." : "");
      return fail(diag, MV_EINVAL, p, "not an RFC 3339 date-time with zone");
    }
    return MV_OK;
  }
  if (rc != MV_ENOTFOUND)
    return rc;
  rc = mv_json_get_int64(obj, path, "t_us", false, out, diag);
  if (rc == MV_OK && *out <= 0) {
    snprintf(p, sizeof(p), "%s%st_us", path, *path ? "." : "");
    return fail(diag, MV_ERANGE, p, "must be positive");
  }
  return rc;
}

static int quality_bits(struct json_object *v, const char *path, uint32_t *bits,
                        struct mv_diag *diag) {
  static const struct {
    const char *name;
    uint32_t bit;
  } names[] = {
      {"flat", MV_DEV_Q_FLAT},         {"clipped", MV_DEV_Q_CLIPPED},
      {"range", MV_DEV_Q_RANGE},       {"noisy", MV_DEV_Q_NOISY},
      {"lead-off", MV_DEV_Q_LEAD_OFF}, {"questionable", MV_DEV_Q_DEVICE}};
  struct json_object *arr = NULL;
  char p[PATH_MAX_LEN + 32];
  int rc = mv_json_get_array(v, path, "quality", false, &arr, diag);
  if (rc == MV_ENOTFOUND)
    return MV_OK;
  if (rc != MV_OK)
    return rc;
  size_t n = json_object_array_length(arr);
  if (n > 16) {
    snprintf(p, sizeof(p), "%s.quality", path);
    return fail(diag, MV_ETOOBIG, p, "too many quality flags");
  }
  for (size_t j = 0; j < n; j++) {
    struct json_object *f = json_object_array_get_idx(arr, j);
    const char *s = json_object_is_type(f, json_type_string)
                        ? json_object_get_string(f)
                        : NULL;
    size_t k = 0;
    while (s && k < MV_ARRAY_LEN(names) && strcmp(s, names[k].name) != 0)
      k++;
    if (!s || k == MV_ARRAY_LEN(names)) {
      snprintf(p, sizeof(p), "%s.quality[%zu]", path, j);
      return fail(diag, MV_EINVAL, p, "unknown quality flag");
    }
    *bits |= names[k].bit;
  }
  return MV_OK;
}

/* Convert v from unit to c's canonical unit and judge it. */
static int judge(const struct mv_clin_code *c, double v, const char *unit,
                 const char *path, const char *vkey, double *out,
                 uint32_t *quality, struct mv_diag *diag) {
  char p[PATH_MAX_LEN + 16];
  struct mv_diag d;
  mv_diag_clear(&d);
  if (mv_clin_convert_to_canonical(c, v, unit, out, &d) != MV_OK) {
    snprintf(p, sizeof(p), "%s.unit", path);
    return fail(diag, MV_EINVAL, p, "unknown unit or not convertible");
  }
  switch (mv_clin_range_check(c, *out)) {
  case MV_CLIN_OK:
    break;
  case MV_CLIN_IMPLAUSIBLE:
    *quality |= MV_DEV_Q_RANGE;
    break;
  default:
    snprintf(p, sizeof(p), "%s.%s", path, vkey);
    return fail(diag, MV_ERANGE, p, "impossible value for this code");
  }
  return MV_OK;
}

/* A regular series: "data" numbers every "period_ms", converted by an
 * affine map into the canonical unit (origin, factor of SampledData). */
static int decode_series(struct json_object *v, const char *path,
                         const struct mv_clin_code *c, const char *unit,
                         struct mv_arena *a, struct mv_dev_obs *o,
                         struct mv_diag *diag) {
  struct json_object *arr = NULL;
  double period = 0, scale = 1, offset = 0;
  char p[PATH_MAX_LEN + 32];
  int rc = mv_json_get_array(v, path, "data", true, &arr, diag);
  if (rc != MV_OK)
    return rc;
  size_t n = json_object_array_length(arr);
  if (n == 0 || n > MV_DEV_WS_SERIES_MAX) {
    snprintf(p, sizeof(p), "%s.data", path);
    return fail(diag, n ? MV_ETOOBIG : MV_EINVAL, p,
                n ? "too many data points" : "data is empty");
  }
  if ((rc = mv_json_get_number(v, path, "period_ms", true, &period, NULL,
                               diag)) != MV_OK)
    return rc;
  if (!(period > 0) || !isfinite(period) || period > 86400000.0) {
    snprintf(p, sizeof(p), "%s.period_ms", path);
    return fail(diag, MV_ERANGE, p, "must be positive");
  }
  if (mv_clin_affine_to_canonical(c, unit, &scale, &offset, NULL) != MV_OK) {
    snprintf(p, sizeof(p), "%s.unit", path);
    return fail(diag, MV_EINVAL, p, "unknown unit or not convertible");
  }
  double *data = mv_arena_alloc(a, n * sizeof(*data));
  if (!data)
    return fail(diag, MV_ENOMEM, path, "out of memory");
  for (size_t i = 0; i < n; i++) {
    struct json_object *e = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(e, json_type_int) &&
        !json_object_is_type(e, json_type_double)) {
      snprintf(p, sizeof(p), "%s.data[%zu]", path, i);
      return fail(diag, MV_EINVAL, p, "expected a number");
    }
    data[i] = json_object_get_double(e);
    double phys = scale * data[i] + offset;
    enum mv_clin_verdict vd =
        isfinite(data[i]) ? mv_clin_range_check(c, phys) : MV_CLIN_IMPOSSIBLE;
    /* an artefact in a waveform is still data: flagged, not refused
     * (mv_dev_fhir.h); a vital-sign series value must be possible */
    if (vd == MV_CLIN_IMPOSSIBLE &&
        (c->kind != MV_CLIN_WAVEFORM || !isfinite(data[i]))) {
      snprintf(p, sizeof(p), "%s.data[%zu]", path, i);
      return fail(diag, MV_ERANGE, p, "impossible value for this code");
    }
    if (vd == MV_CLIN_IMPOSSIBLE)
      o->quality |= MV_DEV_Q_RANGE;
    if (vd == MV_CLIN_IMPLAUSIBLE)
      o->quality |= MV_DEV_Q_RANGE;
  }
  o->kind = MV_DEV_SERIES;
  o->data = data;
  o->n = n;
  o->origin = offset;
  o->factor = scale;
  o->period_ms = period;
  return MV_OK;
}

static int decode_value(struct json_object *v, size_t i, int64_t msg_t,
                        struct mv_arena *a, struct mv_dev_obs *o,
                        struct mv_diag *diag) {
  char path[PATH_MAX_LEN];
  const char *code = NULL, *unit = NULL;
  const struct mv_clin_code *c;
  struct json_object *tmp;
  double x;
  int rc;

  snprintf(path, sizeof(path), "values[%zu]", i);
  if (!json_object_is_type(v, json_type_object))
    return fail(diag, MV_EINVAL, path, "expected an object");
  if ((rc = mv_json_get_string(v, path, "code", true, &code, diag)) != MV_OK)
    return rc;
  if (!(c = mv_clin_lookup(code))) {
    char p[PATH_MAX_LEN + 8];
    snprintf(p, sizeof(p), "%s.code", path);
    return fail(diag, MV_EINVAL, p, "unknown code");
  }
  o->loinc = c->loinc;
  o->mdc = c->mdc_ref;
  o->display = c->display;
  o->ucum = c->ucum;
  rc = get_time(v, path, &o->t_us, diag);
  if (rc == MV_ENOTFOUND) {
    if (msg_t <= 0)
      return fail(diag, MV_EINVAL, "t", "a time is required (t or t_us)");
    o->t_us = msg_t;
  } else if (rc != MV_OK) {
    return rc;
  }
  if ((rc = quality_bits(v, path, &o->quality, diag)) != MV_OK)
    return rc;
  if ((rc = mv_json_get_string(v, path, "unit", true, &unit, diag)) != MV_OK)
    return rc;
  if (json_object_object_get_ex(v, "data", &tmp))
    return decode_series(v, path, c, unit, a, o, diag);
  if (c->kind == MV_CLIN_BP_PANEL) {
    double sys, dia;
    if ((rc = mv_json_get_number(v, path, "sys", true, &x, NULL, diag)) !=
            MV_OK ||
        (rc = judge(c, x, unit, path, "sys", &sys, &o->quality, diag)) !=
            MV_OK ||
        (rc = mv_json_get_number(v, path, "dia", true, &x, NULL, diag)) !=
            MV_OK ||
        (rc = judge(c, x, unit, path, "dia", &dia, &o->quality, diag)) != MV_OK)
      return rc;
    if (dia > sys) {
      char p[PATH_MAX_LEN + 8];
      snprintf(p, sizeof(p), "%s.dia", path);
      return fail(diag, MV_ERANGE, p, "diastolic above systolic");
    }
    o->kind = MV_DEV_PANEL_BP;
    o->value = sys;
    o->value2 = dia;
    return MV_OK;
  }
  if (c->kind == MV_CLIN_WAVEFORM) {
    char p[PATH_MAX_LEN + 8];
    snprintf(p, sizeof(p), "%s.data", path);
    return fail(diag, MV_EINVAL, p, "a waveform code needs data");
  }
  if ((rc = mv_json_get_number(v, path, "value", true, &x, NULL, diag)) !=
      MV_OK)
    return rc;
  o->kind = MV_DEV_QUANTITY;
  return judge(c, x, unit, path, "value", &o->value, &o->quality, diag);
}

static int decode_vitals(struct json_object *root, const char *patient_default,
                         const char *device, struct mv_arena *a,
                         struct mv_dev_ws_msg *out, struct mv_diag *diag) {
  const char *patient = patient_default;
  struct json_object *values = NULL;
  int64_t msg_t = 0;
  int rc;

  rc = mv_json_get_string(root, "", "patient", false, &patient, diag);
  if (rc == MV_ENOTFOUND)
    patient = patient_default;
  else if (rc != MV_OK)
    return rc;
  if (!patient || !*patient)
    return fail(diag, MV_EINVAL, "patient",
                "a patient is required for this token");
  if (!mv_dev_ws_id_valid(patient, strlen(patient)))
    return fail(diag, MV_EINVAL, "patient", "not a FHIR id");
  if (!(patient = mv_arena_strdup(a, patient)))
    return fail(diag, MV_ENOMEM, "", "out of memory");
  rc = get_time(root, "", &msg_t, diag);
  if (rc != MV_OK && rc != MV_ENOTFOUND)
    return rc;
  if ((rc = mv_json_get_array(root, "", "values", true, &values, diag)) !=
      MV_OK)
    return rc;
  size_t n = json_object_array_length(values);
  if (n == 0)
    return fail(diag, MV_EINVAL, "values", "no values");
  if (n > MV_DEV_WS_VALUES_MAX)
    return fail(diag, MV_ETOOBIG, "values", "more than 4096 values");
  out->obs = mv_arena_zalloc(a, n * sizeof(*out->obs));
  if (!out->obs)
    return fail(diag, MV_ENOMEM, "", "out of memory");
  for (size_t i = 0; i < n; i++) {
    struct mv_dev_obs *o = &out->obs[i];
    o->patient = patient;
    o->device = device;
    o->seq = out->seq;
    if ((rc = decode_value(json_object_array_get_idx(values, i), i, msg_t, a, o,
                           diag)) != MV_OK)
      return rc;
  }
  out->n_obs = n;
  return MV_OK;
}

int mv_dev_ws_decode_text(const char *text, size_t len,
                          const char *patient_default, const char *device,
                          struct mv_arena *a, struct mv_dev_ws_msg *out,
                          struct mv_diag *diag) {
  struct json_object *root = NULL;
  const char *type = NULL;
  int rc;

  memset(out, 0, sizeof(*out));
  out->seq = -1;
  if (!text || !a)
    return fail(diag, MV_EINVAL, "", "no message");
  if ((rc = mv_json_parse(text, len, &root, diag)) != MV_OK)
    return rc;
  if (!json_object_is_type(root, json_type_object)) {
    rc = fail(diag, MV_EINVAL, "", "message must be a JSON object");
    goto out;
  }
  if ((rc = mv_json_get_string(root, "", "type", true, &type, diag)) != MV_OK)
    goto out;
  if (strcmp(type, "hello") == 0) {
    const char *dev = NULL;
    out->type = MV_DEV_WS_HELLO;
    rc = mv_json_get_string(root, "", "device", true, &dev, diag);
    if (rc == MV_OK && (strlen(dev) > MV_DEV_WS_DEVICE_LEN ||
                        !mv_dev_ws_id_valid(dev, strlen(dev))))
      rc = fail(diag, MV_EINVAL, "device", "1-48 characters of [A-Za-z0-9-.]");
    if (rc == MV_OK && !(out->device = mv_arena_strdup(a, dev)))
      rc = fail(diag, MV_ENOMEM, "", "out of memory");
    goto out;
  }
  if (strcmp(type, "vitals") != 0) {
    rc = fail(diag, MV_EINVAL, "type", "unknown message type");
    goto out;
  }
  out->type = MV_DEV_WS_VITALS;
  if ((rc = mv_json_get_int64(root, "", "seq", true, &out->seq, diag)) !=
      MV_OK) {
    out->seq = -1;
    goto out;
  }
  if (out->seq < 1) {
    out->seq = -1;
    rc = fail(diag, MV_ERANGE, "seq", "must be >= 1");
    goto out;
  }
  rc = decode_vitals(root, patient_default, device, a, out, diag);
out:
  json_object_put(root);
  if (rc != MV_OK) {
    out->obs = NULL;
    out->n_obs = 0;
  }
  return rc;
}
