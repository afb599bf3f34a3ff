/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UCUM unit normalisation and conversion: the one place where a device's
 * "bpm" or "degF" becomes the canonical UCUM code of the code table. Every
 * unit is an affine map onto its dimension's base unit
 * (base = scale * value + offset). Factors are the UCUM definitions:
 * [degF] = 5/9 K with 32 [degF] = 0 Cel; mm[Hg] = 133.322387415 Pa
 * (13.5951 g/cm3 * 9.80665 m/s2 * 1 mm); [lb_av] = 0.45359237 kg;
 * [in_i] = 2.54 cm.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mv_clin.h"

enum dim {
  DIM_RATE,  /* base /min */
  DIM_FRAC,  /* base % */
  DIM_PRESS, /* base mm[Hg] */
  DIM_TEMP,  /* base Cel */
  DIM_MASS,  /* base kg */
  DIM_LEN,   /* base cm */
  DIM_MASSC, /* mass concentration, base mg/dL */
  DIM_MOLC,  /* substance concentration, base mmol/L */
  DIM_POTL,  /* electric potential, base mV */
  DIM_IMPED, /* base Ohm */
  DIM_ONE,   /* dimensionless, base 1 */
};

struct unit {
  const char *ucum;
  enum dim dim;
  double scale, offset;
  const char *mdc_ref;
  uint32_t mdc_code;
};

#define MMHG_KPA (1000.0 / 133.322387415) /* mm[Hg] per kPa */

static const struct unit units[] = {
    {"/min", DIM_RATE, 1, 0, "MDC_DIM_BEAT_PER_MIN", 264864u},
    {"/s", DIM_RATE, 60, 0, NULL, 0},
    {"%", DIM_FRAC, 1, 0, "MDC_DIM_PERCENT", 262688u},
    {"mm[Hg]", DIM_PRESS, 1, 0, "MDC_DIM_MMHG", 266016u},
    {"kPa", DIM_PRESS, MMHG_KPA, 0, "MDC_DIM_KILO_PASCAL", 265987u},
    {"Cel", DIM_TEMP, 1, 0, "MDC_DIM_DEGC", 268192u},
    {"[degF]", DIM_TEMP, 5.0 / 9.0, -32.0 * 5.0 / 9.0, "MDC_DIM_FAHR", 266560u},
    {"K", DIM_TEMP, 1, -273.15, "MDC_DIM_KELVIN", 266528u},
    {"kg", DIM_MASS, 1, 0, "MDC_DIM_KILO_G", 263875u},
    {"g", DIM_MASS, 0.001, 0, "MDC_DIM_X_G", 263872u},
    {"[lb_av]", DIM_MASS, 0.45359237, 0, "MDC_DIM_LB", 263904u},
    {"cm", DIM_LEN, 1, 0, "MDC_DIM_CENTI_M", 263441u},
    {"m", DIM_LEN, 100, 0, NULL, 0},
    {"[in_i]", DIM_LEN, 2.54, 0, "MDC_DIM_INCH", 263520u},
    {"mg/dL", DIM_MASSC, 1, 0, "MDC_DIM_MILLI_G_PER_DL", 264274u},
    {"mmol/L", DIM_MOLC, 1, 0, "MDC_DIM_MILLI_MOLE_PER_L", 266866u},
    {"mV", DIM_POTL, 1, 0, "MDC_DIM_MILLI_VOLT", 266418u},
    {"uV", DIM_POTL, 0.001, 0, "MDC_DIM_MICRO_VOLT", 266419u},
    {"V", DIM_POTL, 1000, 0, "MDC_DIM_VOLT", 266400u},
    {"Ohm", DIM_IMPED, 1, 0, "MDC_DIM_OHM", 266432u},
    {"1", DIM_ONE, 1, 0, "MDC_DIM_DIMLESS", 262656u},
};

/* Device spellings -> UCUM. Compared case-insensitively, after the exact
 * UCUM codes above (so "mV" is never read as megavolt: we have none). */
static const struct {
  const char *alias, *ucum;
} aliases[] = {
    {"bpm", "/min"},
    {"beats/min", "/min"},
    {"beat/min", "/min"},
    {"{beats}/min", "/min"},
    {"{beat}/min", "/min"},
    {"1/min", "/min"},
    {"min-1", "/min"},
    {"/min", "/min"},
    {"breaths/min", "/min"},
    {"{breaths}/min", "/min"},
    {"{breath}/min", "/min"},
    {"brpm", "/min"},
    {"rpm", "/min"},
    {"per min", "/min"},
    {"percent", "%"},
    {"mmhg", "mm[Hg]"},
    {"mm hg", "mm[Hg]"},
    {"torr", "mm[Hg]"},
    {"degc", "Cel"},
    {"\xc2\xb0"
     "c",
     "Cel"},
    {"\xc2\xb0"
     "C",
     "Cel"},
    {"c", "Cel"},
    {"celsius", "Cel"},
    {"degf", "[degF]"},
    {"\xc2\xb0"
     "f",
     "[degF]"},
    {"\xc2\xb0"
     "F",
     "[degF]"},
    {"f", "[degF]"},
    {"fahrenheit", "[degF]"},
    {"kelvin", "K"},
    {"lb", "[lb_av]"},
    {"lbs", "[lb_av]"},
    {"[lb_av]", "[lb_av]"},
    {"in", "[in_i]"},
    {"inch", "[in_i]"},
    {"mg/dl", "mg/dL"},
    {"mmol/l", "mmol/L"},
    {"\xc2\xb5"
     "v",
     "uV"},
    {"\xc2\xb5"
     "V",
     "uV"},
    {"ohm", "Ohm"},
    {"ohms", "Ohm"},
};

#define UNIT_MAX 32

static const struct unit *unit_by_ucum(const char *ucum) {
  for (size_t i = 0; i < MV_ARRAY_LEN(units); i++)
    if (strcmp(units[i].ucum, ucum) == 0)
      return &units[i];
  return NULL;
}

/* s without leading and trailing blanks into buf; false when too long. */
static bool trim(const char *s, char *buf, size_t cap) {
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    n--;
  if (n == 0 || n >= cap)
    return false;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return true;
}

const char *mv_clin_unit_normalize(const char *unit) {
  char t[UNIT_MAX];
  if (!unit || !trim(unit, t, sizeof(t)))
    return NULL;
  const struct unit *u = unit_by_ucum(t);
  if (u)
    return u->ucum;
  for (size_t i = 0; i < MV_ARRAY_LEN(units); i++)
    if (strcasecmp(units[i].ucum, t) == 0)
      return units[i].ucum;
  for (size_t i = 0; i < MV_ARRAY_LEN(aliases); i++)
    if (strcasecmp(aliases[i].alias, t) == 0)
      return aliases[i].ucum;
  return NULL;
}

const char *mv_clin_unit_by_mdc_ref(const char *ref) {
  for (size_t i = 0; ref && i < MV_ARRAY_LEN(units); i++)
    if (units[i].mdc_ref && strcmp(units[i].mdc_ref, ref) == 0)
      return units[i].ucum;
  /* Respiration and beat rates share "/min". */
  if (ref && strcmp(ref, "MDC_DIM_RESP_PER_MIN") == 0)
    return "/min";
  return NULL;
}

const char *mv_clin_unit_by_mdc_code(uint32_t code) {
  for (size_t i = 0; code && i < MV_ARRAY_LEN(units); i++)
    if (units[i].mdc_code == code)
      return units[i].ucum;
  if (code == 264928u) /* MDC_DIM_RESP_PER_MIN */
    return "/min";
  return NULL;
}

/* The table unit for what a caller passed (any accepted spelling). Names
 * the field in diag on failure. */
static const struct unit *resolve(const char *s, const char *what,
                                  struct mv_diag *d) {
  const char *ucum = mv_clin_unit_normalize(s);
  const struct unit *u = ucum ? unit_by_ucum(ucum) : NULL;
  if (!u) {
    mv_diag_set(d, MV_EINVAL,
                "unknown unit (expected a UCUM code such as "
                "/min, %%, mm[Hg], Cel, kg, mg/dL)");
    mv_diag_set_path(d, what);
  }
  return u;
}

int mv_clin_unit_affine(const char *from, const char *to, double *out_scale,
                        double *out_offset, struct mv_diag *diag) {
  const struct unit *f = resolve(from, "from", diag);
  if (!f)
    return MV_EINVAL;
  const struct unit *t = resolve(to, "to", diag);
  if (!t)
    return MV_EINVAL;
  if (f->dim != t->dim)
    return mv_diag_set(diag, MV_EINVAL, "cannot convert %s to %s", f->ucum,
                       t->ucum);
  /* base = f.scale * v + f.offset = t.scale * w + t.offset */
  *out_scale = f->scale / t->scale;
  *out_offset = (f->offset - t->offset) / t->scale;
  return MV_OK;
}

int mv_clin_unit_convert(double v, const char *from, const char *to,
                         double *out, struct mv_diag *diag) {
  double a, b;
  if (!isfinite(v))
    return mv_diag_set(diag, MV_EINVAL, "value is not a finite number");
  int rc = mv_clin_unit_affine(from, to, &a, &b, diag);
  if (rc != MV_OK)
    return rc;
  *out = a * v + b;
  return MV_OK;
}

int mv_clin_affine_to_canonical(const struct mv_clin_code *c, const char *from,
                                double *out_scale, double *out_offset,
                                struct mv_diag *diag) {
  if (!c)
    return mv_diag_set(diag, MV_EINVAL, "unknown code");
  const struct unit *f = resolve(from, "unit", diag);
  if (!f)
    return MV_EINVAL;
  const struct unit *t = unit_by_ucum(c->ucum);
  if (c->molar_mass > 0 && f->dim == DIM_MOLC && t && t->dim == DIM_MASSC) {
    /* mmol/L * g/mol = mg/L; / 10 -> mg/dL. */
    *out_scale = f->scale * c->molar_mass / 10.0 / t->scale;
    *out_offset = 0;
    return MV_OK;
  }
  int rc = mv_clin_unit_affine(f->ucum, c->ucum, out_scale, out_offset, diag);
  if (rc != MV_OK)
    mv_diag_set_path(diag, "unit");
  return rc;
}

int mv_clin_convert_to_canonical(const struct mv_clin_code *c, double v,
                                 const char *from, double *out,
                                 struct mv_diag *diag) {
  double a, b;
  if (!isfinite(v))
    return mv_diag_set(diag, MV_EINVAL, "value is not a finite number");
  int rc = mv_clin_affine_to_canonical(c, from, &a, &b, diag);
  if (rc != MV_OK)
    return rc;
  *out = a * v + b;
  return MV_OK;
}
