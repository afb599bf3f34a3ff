/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fixtures shared by the validation tests (test_validate.c,
 * test_validate_vitals.c): parsing JSON written with single quotes, running
 * mv_fhir_validate and asserting an error issue by IssueType code and
 * FHIRPath expression. Header-only; include once per test file.
 */
#ifndef MV_VALIDATE_FX_H
#define MV_VALIDATE_FX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir_validate_int.h"
#include "mv_fhir.h"
#include "mv_json.h"

/* ---- helpers ----------------------------------------------------------- */

/* Parses text with ' standing for ". Caller puts the result. */
static inline struct json_object *parse(const char *text) {
  size_t n = strlen(text);
  char *s = malloc(n + 1);
  struct json_object *obj = NULL;
  struct mv_diag d;
  assert_non_null(s);
  for (size_t i = 0; i <= n; i++)
    s[i] = text[i] == '\'' ? '"' : text[i];
  int rc = mv_json_parse(s, n, &obj, &d);
  if (rc != MV_OK)
    print_error("bad test JSON (%s at %d:%d): %s\n", d.msg, d.line, d.col, s);
  free(s);
  assert_int_equal(rc, MV_OK);
  return obj;
}

static inline void print_outcome(const struct mv_fhir_outcome *o) {
  for (size_t i = 0; i < o->n; i++)
    print_message("  issue %zu: sev=%d code=%s expr=%s diag=%s\n", i,
                  (int)o->issues[i].severity, o->issues[i].code,
                  o->issues[i].expression, o->issues[i].diagnostics);
}

static inline int run(struct json_object *obj, const char *type,
                      struct mv_fhir_outcome *o) {
  mv_fhir_outcome_init(o);
  return mv_fhir_validate(obj, type, o);
}

/* text must validate with no error (warnings allowed). */
static inline void assert_valid_obj(struct json_object *obj) {
  struct mv_fhir_outcome o;
  int rc = run(obj, NULL, &o);
  if (rc != MV_OK || mv_fhir_outcome_has_errors(&o)) {
    print_error("expected valid, got %s\n", mv_err_name(rc));
    print_outcome(&o);
  }
  assert_int_equal(rc, MV_OK);
  assert_false(mv_fhir_outcome_has_errors(&o));
}

static inline void assert_valid(const char *text) {
  struct json_object *obj = parse(text);
  assert_valid_obj(obj);
  json_object_put(obj);
}

/* An error issue with this code and expression exists in o. */
static inline void assert_issue(const struct mv_fhir_outcome *o,
                                const char *code, const char *expr) {
  for (size_t i = 0; i < o->n; i++)
    if (o->issues[i].severity <= MV_FHIR_ERROR &&
        strcmp(o->issues[i].code, code) == 0 &&
        strcmp(o->issues[i].expression, expr) == 0)
      return;
  print_error("no error issue code=%s expr=%s among:\n", code, expr);
  print_outcome(o);
  fail();
}

static inline void assert_fails_obj(struct json_object *obj, const char *code,
                                    const char *expr) {
  struct mv_fhir_outcome o;
  int rc = run(obj, NULL, &o);
  if (rc != MV_EINVAL)
    print_outcome(&o);
  assert_int_equal(rc, MV_EINVAL);
  assert_issue(&o, code, expr);
}

static inline void assert_fails(const char *text, const char *code,
                                const char *expr) {
  struct json_object *obj = parse(text);
  assert_fails_obj(obj, code, expr);
  json_object_put(obj);
}

/* Parses base, sets member key (a path of object keys separated by '/',
 * the last one replaced) to the JSON value, and expects a failure. */
static inline void assert_member_fails(const char *base, const char *where,
                                       const char *value, const char *code,
                                       const char *expr) {
  struct json_object *obj = parse(base), *cur = obj;
  char path[128];
  snprintf(path, sizeof(path), "%s", where);
  char *key = path, *slash;
  while ((slash = strchr(key, '/')) != NULL) {
    *slash = '\0';
    struct json_object *next = NULL;
    if (json_object_is_type(cur, json_type_array))
      next = json_object_array_get_idx(cur, (size_t)strtoul(key, NULL, 10));
    else
      json_object_object_get_ex(cur, key, &next);
    assert_non_null(next);
    cur = next;
    key = slash + 1;
  }
  struct json_object *val = value ? parse(value) : NULL;
  if (json_object_is_type(cur, json_type_array))
    json_object_array_put_idx(cur, (size_t)strtoul(key, NULL, 10), val);
  else
    json_object_object_add(cur, key, val);
  assert_fails_obj(obj, code, expr);
  json_object_put(obj);
}

/* A valid heart-rate vital sign. */
#define HR_OBS                                                                 \
  "{'resourceType':'Observation','id':'hr1','status':'final',"                 \
  "'category':[{'coding':[{'system':"                                          \
  "'http://terminology.hl7.org/CodeSystem/observation-category',"              \
  "'code':'vital-signs'}]}],"                                                  \
  "'code':{'coding':[{'system':'http://loinc.org','code':'8867-4',"            \
  "'display':'Heart rate'}]},'subject':{'reference':'Patient/p1'},"            \
  "'effectiveDateTime':'2024-03-01T10:00:00Z',"                                \
  "'valueQuantity':{'value':72,'unit':'beats/minute',"                         \
  "'system':'http://unitsofmeasure.org','code':'/min'}}"

/* One blood pressure component (systolic or diastolic). */
#define BP_COMPONENT(loinc, unit)                                              \
  "{'code':{'coding':[{'system':'http://loinc.org','code':'" loinc "'}]},"     \
  "'valueQuantity':{'value':120,'unit':'mmHg','system':"                       \
  "'http://unitsofmeasure.org','code':'" unit "'}}"

#endif
