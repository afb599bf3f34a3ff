/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OperationOutcome: a bounded list of issues that every FHIR error answer
 * and every validation result is built from, and the list of resource types
 * the server serves. Diagnostics are written by our code only; callers must
 * not format input values into them (no patient data in errors).
 */
#include <stdio.h>
#include <string.h>

#include "mv_fhir.h"
#include "mv_limits.h"

void mv_fhir_outcome_init(struct mv_fhir_outcome *o) {
  memset(o, 0, sizeof(*o));
}

void mv_fhir_outcome_vadd(struct mv_fhir_outcome *o, enum mv_fhir_severity sev,
                          const char *code, const char *expression,
                          const char *fmt, va_list ap) {
  struct mv_fhir_issue *is;
  if (o->n >= MV_FHIR_ISSUES_MAX) {
    o->truncated = true;
    return;
  }
  is = &o->issues[o->n++];
  is->severity = sev;
  is->code = code ? code : "processing";
  vsnprintf(is->diagnostics, sizeof(is->diagnostics), fmt, ap);
  snprintf(is->expression, sizeof(is->expression), "%s",
           expression ? expression : "");
}

void mv_fhir_outcome_add(struct mv_fhir_outcome *o, enum mv_fhir_severity sev,
                         const char *code, const char *expression,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mv_fhir_outcome_vadd(o, sev, code, expression, fmt, ap);
  va_end(ap);
}

bool mv_fhir_outcome_has_errors(const struct mv_fhir_outcome *o) {
  for (size_t i = 0; i < o->n; i++)
    if (o->issues[i].severity <= MV_FHIR_ERROR)
      return true;
  return false;
}

static const char *severity_name(enum mv_fhir_severity s) {
  switch (s) {
  case MV_FHIR_FATAL:
    return "fatal";
  case MV_FHIR_ERROR:
    return "error";
  case MV_FHIR_WARNING:
    return "warning";
  case MV_FHIR_INFORMATION:
    break;
  }
  return "information";
}

static int add_issue(struct json_object *arr, enum mv_fhir_severity sev,
                     const char *code, const char *diag, const char *expr) {
  struct json_object *is = json_object_new_object();
  if (!is)
    return MV_ENOMEM;
  json_object_object_add(is, "severity",
                         json_object_new_string(severity_name(sev)));
  json_object_object_add(is, "code", json_object_new_string(code));
  if (diag && *diag)
    json_object_object_add(is, "diagnostics", json_object_new_string(diag));
  if (expr && *expr) {
    struct json_object *ex = json_object_new_array();
    json_object_array_add(ex, json_object_new_string(expr));
    json_object_object_add(is, "expression", ex);
  }
  json_object_array_add(arr, is);
  return MV_OK;
}

int mv_fhir_outcome_to_json(const struct mv_fhir_outcome *o,
                            struct json_object **out_obj) {
  struct json_object *oo = json_object_new_object();
  struct json_object *arr = json_object_new_array();
  int rc = MV_ENOMEM;
  if (!oo || !arr)
    goto out;
  json_object_object_add(oo, "resourceType",
                         json_object_new_string("OperationOutcome"));
  for (size_t i = 0; i < o->n; i++) {
    const struct mv_fhir_issue *is = &o->issues[i];
    if ((rc = add_issue(arr, is->severity, is->code, is->diagnostics,
                        is->expression)) != MV_OK)
      goto out;
  }
  if (o->truncated &&
      (rc = add_issue(arr, MV_FHIR_INFORMATION, "too-costly",
                      "further issues were found and not listed", NULL)) !=
          MV_OK)
    goto out;
  if (o->n == 0 && (rc = add_issue(arr, MV_FHIR_INFORMATION, "informational",
                                   "all OK", NULL)) != MV_OK)
    goto out;
  json_object_object_add(oo, "issue", arr);
  arr = NULL;
  *out_obj = oo;
  oo = NULL;
  rc = MV_OK;
out:
  json_object_put(arr);
  json_object_put(oo);
  return rc;
}

struct json_object *mv_fhir_outcome_single(enum mv_fhir_severity sev,
                                           const char *code,
                                           const char *expression,
                                           const char *fmt, ...) {
  struct mv_fhir_outcome o;
  struct json_object *obj = NULL;
  va_list ap;
  mv_fhir_outcome_init(&o);
  va_start(ap, fmt);
  mv_fhir_outcome_vadd(&o, sev, code, expression, fmt, ap);
  va_end(ap);
  if (mv_fhir_outcome_to_json(&o, &obj) != MV_OK)
    return NULL;
  return obj;
}

const char *mv_fhir_issue_code_for(int err) {
  switch (err) {
  case MV_ENOTFOUND:
    return "not-found";
  case MV_EGONE:
    return "deleted";
  case MV_EPERM:
    return "forbidden";
  case MV_EAUTH:
    return "login";
  case MV_EEXISTS:
    return "duplicate";
  case MV_ECONFLICT:
    return "conflict";
  case MV_ETOOBIG:
    return "too-long";
  case MV_EUNSUPPORTED:
  case MV_EMETHOD:
    return "not-supported";
  case MV_EPARSE:
    return "structure";
  case MV_EINVAL:
  case MV_EINVALID:
  case MV_ERANGE:
    return "invalid";
  case MV_ERATE:
  case MV_EBUSY:
    return "throttled";
  case MV_ETIMEOUT:
    return "timeout";
  default:
    break;
  }
  return "exception";
}

static const char *const types[] = {
    "Patient",     "Practitioner",  "CareTeam",    "Device",
    "Observation", "Encounter",     "Condition",   "DiagnosticReport",
    "Flag",        "Communication", "Appointment", "Consent",
    "AuditEvent",
};

const char *const *mv_fhir_types(size_t *out_n) {
  *out_n = MV_ARRAY_LEN(types);
  return types;
}

bool mv_fhir_type_supported(const char *type) {
  if (!type)
    return false;
  if (strcmp(type, "Bundle") == 0)
    return true;
  for (size_t i = 0; i < MV_ARRAY_LEN(types); i++)
    if (strcmp(types[i], type) == 0)
      return true;
  return false;
}

bool mv_fhir_id_valid(const char *s) {
  size_t n = 0;
  if (!s)
    return false;
  for (; s[n]; n++) {
    char c = s[n];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.'))
      return false;
    if (n >= MV_LIMIT_ID_LEN)
      return false;
  }
  return n > 0;
}
