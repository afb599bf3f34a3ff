/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Observation invariant obs-6 and the FHIR R4 vital-signs profile
 * (http://hl7.org/fhir/StructureDefinition/vitalsigns and its specific
 * profiles: heart rate, respiratory rate, oxygen saturation, body
 * temperature, height, weight, BMI, head circumference, blood pressure and
 * the vital-signs panel). The profile applies to an Observation whose code
 * has one of the LOINC codes below or whose category is vital-signs: it
 * then needs the vital-signs category, a subject, effectiveDateTime or
 * effectivePeriod, a value or dataAbsentReason (vs-2), and each
 * valueQuantity a value, a unit, the UCUM system and the UCUM code the
 * profile fixes for the LOINC code.
 */
#include <stdio.h>
#include <string.h>

#include "fhir_validate_int.h"

#define LOINC "http://loinc.org"
#define UCUM "http://unitsofmeasure.org"
#define OBS_CATEGORY                                                           \
  "http://terminology.hl7.org/CodeSystem/observation-category"

enum vital_kind {
  VITAL_QUANTITY, /* valueQuantity in one of units */
  VITAL_BP,       /* components systolic + diastolic */
  VITAL_PANEL,    /* hasMember */
};

struct vital {
  const char *loinc;
  enum vital_kind kind;
  const char *units[4]; /* UCUM codes allowed, NULL-terminated */
};

static const struct vital vitals[] = {
    {"8867-4", VITAL_QUANTITY, {"/min"}},          /* heart rate */
    {"9279-1", VITAL_QUANTITY, {"/min"}},          /* respiratory rate */
    {"59408-5", VITAL_QUANTITY, {"%"}},            /* SpO2 by pulse oximetry */
    {"2708-6", VITAL_QUANTITY, {"%"}},             /* oxygen saturation */
    {"8310-5", VITAL_QUANTITY, {"Cel", "[degF]"}}, /* temperature */
    {"8302-2", VITAL_QUANTITY, {"cm", "[in_i]"}},  /* body height */
    {"29463-7", VITAL_QUANTITY, {"kg", "g", "[lb_av]"}}, /* body weight */
    {"39156-5", VITAL_QUANTITY, {"kg/m2"}},              /* BMI */
    {"9843-4", VITAL_QUANTITY, {"cm", "[in_i]"}}, /* head circumference */
    {"85354-9", VITAL_BP, {NULL}},                /* blood pressure panel */
    {"85353-1", VITAL_PANEL, {NULL}},             /* vital signs panel */
};

/* The two components a blood pressure panel must have. */
static const struct vital bp_parts[] = {
    {"8480-6", VITAL_QUANTITY, {"mm[Hg]"}}, /* systolic */
    {"8462-4", VITAL_QUANTITY, {"mm[Hg]"}}, /* diastolic */
};
static const char *const bp_names[] = {"systolic", "diastolic"};

/* The entry of table (n entries) matching a LOINC coding of concept cc. */
static const struct vital *find_vital(struct json_object *cc,
                                      const struct vital *table, size_t n) {
  struct json_object *arr = mv__fhir_get(cc, "coding", json_type_array);
  size_t m = arr ? json_object_array_length(arr) : 0;
  for (size_t i = 0; i < m; i++) {
    struct json_object *cd = json_object_array_get_idx(arr, i);
    const char *sys = mv__fhir_str(cd, "system");
    const char *code = mv__fhir_str(cd, "code");
    if (!sys || !code || strcmp(sys, LOINC) != 0)
      continue;
    for (size_t k = 0; k < n; k++)
      if (strcmp(table[k].loinc, code) == 0)
        return &table[k];
  }
  return NULL;
}

static bool has_vital_category(struct json_object *obs) {
  struct json_object *cats = mv__fhir_get(obs, "category", json_type_array);
  size_t n = cats ? json_object_array_length(cats) : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *arr = mv__fhir_get(json_object_array_get_idx(cats, i),
                                           "coding", json_type_array);
    size_t m = arr ? json_object_array_length(arr) : 0;
    for (size_t k = 0; k < m; k++) {
      struct json_object *cd = json_object_array_get_idx(arr, k);
      const char *sys = mv__fhir_str(cd, "system");
      const char *code = mv__fhir_str(cd, "code");
      if (sys && code && strcmp(sys, OBS_CATEGORY) == 0 &&
          strcmp(code, "vital-signs") == 0)
        return true;
    }
  }
  return false;
}

/* The JSON name of o's member for choice element base ("valueQuantity"),
 * or NULL. */
static const char *choice_key(struct json_object *o, const char *base) {
  size_t bl = strlen(base);
  json_object_object_foreach(o, key, val) {
    (void)val;
    if (strncmp(key, base, bl) == 0 && key[bl] >= 'A' && key[bl] <= 'Z')
      return key;
  }
  return NULL;
}

static bool has(struct json_object *o, const char *key) {
  return json_object_object_get_ex(o, key, NULL);
}

/* "a", "a or b", "a, b or c". */
static void units_text(const struct vital *v, char *buf, size_t cap) {
  size_t n = 0, len = 0;
  while (n < MV_ARRAY_LEN(v->units) && v->units[n])
    n++;
  buf[0] = '\0';
  for (size_t i = 0; i < n && len < cap; i++) {
    const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, v->units[i]);
  }
}

static bool unit_allowed(const struct vital *v, const char *code) {
  for (size_t i = 0; i < MV_ARRAY_LEN(v->units) && v->units[i]; i++)
    if (strcmp(v->units[i], code) == 0)
      return true;
  return false;
}

/* A valueQuantity at path + prefix; v names the required unit (NULL: any
 * UCUM code). */
static void check_vital_quantity(struct mv__fhir_vctx *c, struct json_object *q,
                                 const char *prefix, const struct vital *v) {
  char sfx[96], units[64];
  if (!json_object_is_type(q, json_type_object))
    return; /* reported by the walk */
  if (!has(q, "value")) {
    snprintf(sfx, sizeof(sfx), "%s.value", prefix);
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                   "a vital-sign quantity needs a value");
  }
  if (!has(q, "unit")) {
    snprintf(sfx, sizeof(sfx), "%s.unit", prefix);
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                   "a vital-sign quantity needs a unit");
  }
  const char *sys = mv__fhir_str(q, "system");
  snprintf(sfx, sizeof(sfx), "%s.system", prefix);
  if (!has(q, "system") && !has(q, "code"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                   "a vital-sign quantity needs system " UCUM);
  else if (sys && strcmp(sys, UCUM) != 0)
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", sfx,
                   "system must be " UCUM " (UCUM)");
  const char *code = mv__fhir_str(q, "code");
  snprintf(sfx, sizeof(sfx), "%s.code", prefix);
  if (v)
    units_text(v, units, sizeof(units));
  if (!has(q, "code")) {
    if (v)
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                     "UCUM unit must be %s for LOINC %s", units, v->loinc);
    else
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                     "a vital-sign quantity needs a UCUM unit code");
  } else if (v && code && !unit_allowed(v, code)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", sfx,
                   "UCUM unit must be %s for LOINC %s", units, v->loinc);
  }
}

/* value[x] of o (the Observation or a component at path + prefix) for a
 * vital sign that must be a Quantity; dataAbsentReason replaces it. A
 * missing value is reported only when need is true (the Observation itself
 * is covered by vs-2). */
static void check_vital_value(struct mv__fhir_vctx *c, struct json_object *o,
                              const char *prefix, const struct vital *v,
                              bool need) {
  char sfx[96];
  const char *key = choice_key(o, "value");
  if (!key) {
    if (need && !has(o, "dataAbsentReason")) {
      snprintf(sfx, sizeof(sfx), "%s.value", prefix);
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", sfx,
                     "LOINC %s needs valueQuantity or dataAbsentReason",
                     v->loinc);
    }
    return;
  }
  snprintf(sfx, sizeof(sfx), "%s.%s", prefix, key);
  if (strcmp(key, "valueQuantity") != 0) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", sfx,
                   "value must be a Quantity for LOINC %s", v->loinc);
    return;
  }
  struct json_object *q = NULL;
  json_object_object_get_ex(o, key, &q);
  check_vital_quantity(c, q, sfx, v);
}

static void check_blood_pressure(struct mv__fhir_vctx *c,
                                 struct json_object *obs) {
  struct json_object *comps = mv__fhir_get(obs, "component", json_type_array);
  size_t n = comps ? json_object_array_length(comps) : 0;
  for (size_t p = 0; p < MV_ARRAY_LEN(bp_parts); p++) {
    bool found = false;
    for (size_t i = 0; i < n; i++) {
      struct json_object *comp = json_object_array_get_idx(comps, i);
      struct json_object *code = mv__fhir_get(comp, "code", json_type_object);
      if (find_vital(code, &bp_parts[p], 1) == NULL)
        continue;
      char prefix[48];
      snprintf(prefix, sizeof(prefix), ".component[%zu]", i);
      check_vital_value(c, comp, prefix, &bp_parts[p], true);
      found = true;
    }
    if (!found)
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".component",
                     "a blood pressure panel needs a component with LOINC "
                     "%s (%s)",
                     bp_parts[p].loinc, bp_names[p]);
  }
}

/* Rules of the base vital-signs profile; v is the specific profile (NULL
 * when only the category made this a vital sign). */
static void check_vital_signs(struct mv__fhir_vctx *c, struct json_object *obs,
                              const struct vital *v) {
  if (!has_vital_category(obs))
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".category",
                   "vital signs need a category coding vital-signs from "
                   "%s",
                   OBS_CATEGORY);
  if (!has(obs, "subject"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".subject",
                   "vital signs need a subject");
  const char *eff = choice_key(obs, "effective");
  if (!eff)
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".effective",
                   "vital signs need effectiveDateTime or effectivePeriod");
  else if (strcmp(eff, "effectiveDateTime") != 0 &&
           strcmp(eff, "effectivePeriod") != 0)
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", ".effective",
                   "vital signs need effectiveDateTime or effectivePeriod");
  bool grouped = has(obs, "component") || has(obs, "hasMember");
  if (!grouped && !choice_key(obs, "value") && !has(obs, "dataAbsentReason"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".value",
                   "vital signs need value[x] or dataAbsentReason (vs-2)");

  if (v && v->kind == VITAL_QUANTITY) {
    check_vital_value(c, obs, "", v, false);
  } else if (!v) {
    struct json_object *q = NULL;
    if (json_object_object_get_ex(obs, "valueQuantity", &q))
      check_vital_quantity(c, q, ".valueQuantity", NULL);
  }
  if (v && v->kind == VITAL_BP)
    check_blood_pressure(c, obs);
  if (v && v->kind == VITAL_PANEL && !has(obs, "hasMember"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".hasMember",
                   "a vital signs panel needs hasMember");

  /* Components other than the blood pressure parts (checked above) carry
   * UCUM quantities too. */
  struct json_object *comps = mv__fhir_get(obs, "component", json_type_array);
  size_t n = comps ? json_object_array_length(comps) : 0;
  for (size_t i = 0; i < n; i++) {
    struct json_object *comp = json_object_array_get_idx(comps, i);
    struct json_object *code = mv__fhir_get(comp, "code", json_type_object);
    struct json_object *q =
        mv__fhir_get(comp, "valueQuantity", json_type_object);
    if (!q || (v && v->kind == VITAL_BP &&
               find_vital(code, bp_parts, MV_ARRAY_LEN(bp_parts))))
      continue;
    char prefix[64];
    snprintf(prefix, sizeof(prefix), ".component[%zu].valueQuantity", i);
    check_vital_quantity(c, q, prefix, NULL);
  }
}

void mv__fhir_check_observation(struct mv__fhir_vctx *c,
                                struct json_object *o) {
  if (has(o, "dataAbsentReason") && choice_key(o, "value"))
    mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", ".dataAbsentReason",
                   "dataAbsentReason is only allowed without value[x] "
                   "(obs-6)");
  const struct vital *v = find_vital(mv__fhir_get(o, "code", json_type_object),
                                     vitals, MV_ARRAY_LEN(vitals));
  if (v || has_vital_category(o))
    check_vital_signs(c, o, v);
}
