/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 resources as plain computation: the resource types we serve,
 * validation with path-exact OperationOutcome issues (validate*.c), and the
 * FHIR date/dateTime/instant grammar (datetime.c). Search, index extraction
 * and Bundles are in mv_fhir_search.h. No I/O: json-c objects in, results
 * out.
 */
#ifndef MV_FHIR_H
#define MV_FHIR_H

#include <stdarg.h>

#include <json-c/json.h>

#include "mv_common.h"
#include "mv_err.h"
#include "mv_limits.h"

/* ---- OperationOutcome ---------------------------------------------------- */

#define MV_FHIR_ISSUES_MAX MV_LIMIT_FHIR_ISSUES /* issues kept in one outcome */
#define MV_FHIR_DIAG_MAX 256u /* bytes of one diagnostics text */
#define MV_FHIR_EXPR_MAX 256u /* bytes of one expression (FHIRPath) */

enum mv_fhir_severity {
  MV_FHIR_FATAL = 0,
  MV_FHIR_ERROR = 1,
  MV_FHIR_WARNING = 2,
  MV_FHIR_INFORMATION = 3,
};

struct mv_fhir_issue {
  enum mv_fhir_severity severity;
  /* FHIR IssueType code (static string): "invalid", "structure",
   * "required", "value", "invariant", "code-invalid", "not-supported",
   * "not-found", "deleted", "forbidden", "login", "security", "processing",
   * "conflict", "duplicate", "too-costly", "too-long", "exception",
   * "informational". */
  const char *code;
  /* Human text. Never contains values taken from the input (no patient
   * data): element names, expected types and codes only. */
  char diagnostics[MV_FHIR_DIAG_MAX];
  /* FHIRPath of the failing element ("Observation.valueQuantity.code",
   * "Patient.name[0].given[1]"); empty when not about one element. */
  char expression[MV_FHIR_EXPR_MAX];
};

/* A bounded list of issues, embedded by value (no heap). */
struct mv_fhir_outcome {
  struct mv_fhir_issue issues[MV_FHIR_ISSUES_MAX];
  size_t n;
  bool truncated; /* more issues were found than fit */
};

MV_API void mv_fhir_outcome_init(struct mv_fhir_outcome *o);
/* Append an issue (dropped and `truncated` set when full). code is borrowed
 * for the outcome's life (use a static string); expression may be NULL. */
MV_API void mv_fhir_outcome_add(struct mv_fhir_outcome *o,
                                enum mv_fhir_severity sev, const char *code,
                                const char *expression, const char *fmt, ...)
    MV_PRINTF(5, 6);
MV_API void mv_fhir_outcome_vadd(struct mv_fhir_outcome *o,
                                 enum mv_fhir_severity sev, const char *code,
                                 const char *expression, const char *fmt,
                                 va_list ap) MV_PRINTF(5, 0);
/* True when an issue of severity error or fatal is present. */
MV_API bool mv_fhir_outcome_has_errors(const struct mv_fhir_outcome *o);
/* The OperationOutcome resource. Returned, caller releases with
 * json_object_put(). An empty outcome gives one "informational" issue, as
 * FHIR requires at least one. MV_ENOMEM. */
MV_API MV_NODISCARD int mv_fhir_outcome_to_json(const struct mv_fhir_outcome *o,
                                                struct json_object **out_obj);
/* One-issue OperationOutcome in one call (an error answer). Returned, caller
 * releases with json_object_put(); NULL only when out of memory. */
MV_API struct json_object *
mv_fhir_outcome_single(enum mv_fhir_severity sev, const char *code,
                       const char *expression, const char *fmt, ...)
    MV_PRINTF(4, 5);
/* The IssueType code that best describes an mv_err (e.g. MV_ENOTFOUND ->
 * "not-found", MV_EPERM -> "forbidden"). Static string. */
MV_API const char *mv_fhir_issue_code_for(int err);

/* ---- Resource types ------------------------------------------------------ */

/* True for the resource types this server stores and serves: Patient,
 * Practitioner, CareTeam, Device, Observation, Encounter, Condition,
 * DiagnosticReport, Flag, Communication, Appointment, Consent, AuditEvent
 * (and Bundle, which is processed, never stored). */
MV_API bool mv_fhir_type_supported(const char *type);
/* The stored types above, in a fixed order (Bundle excluded). Static. */
MV_API const char *const *mv_fhir_types(size_t *out_n);
/* True when s is a valid FHIR id: [A-Za-z0-9\-\.]{1,64}. */
MV_API bool mv_fhir_id_valid(const char *s);

/* ---- Validation (validate*.c) -------------------------------------------- */

/*
 * Validate one resource against the FHIR R4 base definitions of the types
 * above (elements known, JSON types, primitive formats, cardinality,
 * required elements, required-binding value sets we depend on) and, for
 * Observations, the vital-signs profile (LOINC codes and UCUM units).
 * Bundles are validated entry by entry (expressions like
 * "Bundle.entry[2].resource.status").
 * expected_type: the type the URL names (NULL: any supported type).
 * res is borrowed. Issues are appended to out (warnings too).
 * Returns MV_OK when there is no error issue, MV_EINVAL when the content is
 * invalid, MV_EUNSUPPORTED when resourceType is not one we serve.
 */
MV_API MV_NODISCARD int mv_fhir_validate(struct json_object *res,
                                         const char *expected_type,
                                         struct mv_fhir_outcome *out);

/* ---- Dates (datetime.c) -------------------------------------------------- */

enum mv_fhir_date_prec {
  MV_FHIR_PREC_YEAR,
  MV_FHIR_PREC_MONTH,
  MV_FHIR_PREC_DAY,
  MV_FHIR_PREC_MINUTE, /* search values only: "2020-01-01T10:00" */
  MV_FHIR_PREC_SECOND,
  MV_FHIR_PREC_FRACTION,
};

enum mv_fhir_date_kind {
  MV_FHIR_DATE, /* YYYY, YYYY-MM, YYYY-MM-DD */
  MV_FHIR_DATETIME, /* date, or full time with zone: YYYY-MM-DDThh:mm:ss(.s+)?(Z|+hh:mm) */
  MV_FHIR_INSTANT, /* dateTime with seconds and zone required */
  MV_FHIR_SEARCH,  /* search values: like dateTime, also minutes and no zone */
};

/* Parse a FHIR date/dateTime/instant (per kind) into the range of
 * microseconds since the epoch it covers: [*out_lo_us, *out_hi_us], hi
 * inclusive ("2020" covers the whole year). Missing zone (allowed for SEARCH
 * only and for a bare date) means UTC. Outputs untouched on error. MV_EINVAL
 * on bad syntax or an impossible date (Feb 30, hour 24, ...). Years
 * 0001-9999. */
MV_API MV_NODISCARD int mv_fhir_date_parse(const char *s,
                                           enum mv_fhir_date_kind kind,
                                           int64_t *out_lo_us,
                                           int64_t *out_hi_us,
                                           enum mv_fhir_date_prec *out_prec);
/* Format µs since the epoch as a FHIR instant in UTC with millisecond
 * precision ("2026-11-25T01:02:03.456Z"). cap >= 25. */
MV_API MV_NODISCARD int mv_fhir_instant_format(int64_t t_us, char *out,
                                               size_t cap);

#endif
