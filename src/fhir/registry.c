/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The search parameters each stored resource type supports: one table that
 * the query parser (search.c), the index extractor (index.c) and the
 * CapabilityStatement (capability.c) all read, so what is advertised, what
 * is parsed and what is indexed cannot drift apart. Names follow the FHIR
 * R4 search parameter registry, except Condition's `status` and `date`
 * (medverse aliases of clinical-status and recorded-date/onset-date).
 */
#include <string.h>

#include "mv_fhir_search.h"

#define COMMON                                                                 \
  {"_id", MV_FHIR_PARAM_TOKEN, MV_FHIR_TARGET_ID, NULL, false, "Resource.id"}, \
  {                                                                            \
    "_lastUpdated", MV_FHIR_PARAM_DATE, MV_FHIR_TARGET_LAST_UPDATED, NULL,     \
        false, "Resource.meta.lastUpdated"                                     \
  }

#define TERMS(name, type, path)                                                \
  { name, type, MV_FHIR_TARGET_TERMS, NULL, false, path }
#define REF(name, path)                                                        \
  { name, MV_FHIR_PARAM_REFERENCE, MV_FHIR_TARGET_TERMS, NULL, false, path }
/* `patient`: references to a Patient; compartment = same as patient_id. */
#define PATIENT(compartment, path)                                             \
  {                                                                            \
    "patient", MV_FHIR_PARAM_REFERENCE, MV_FHIR_TARGET_TERMS, "Patient",       \
        compartment, path                                                      \
  }
#define STATUS(name, path)                                                     \
  { name, MV_FHIR_PARAM_TOKEN, MV_FHIR_TARGET_STATUS, NULL, false, path }
#define DATE(name, path)                                                       \
  { name, MV_FHIR_PARAM_DATE, MV_FHIR_TARGET_DATE, NULL, false, path }

static const struct mv_fhir_search_param patient[] = {
    COMMON,
    TERMS("name", MV_FHIR_PARAM_STRING, "Patient.name"),
    TERMS("family", MV_FHIR_PARAM_STRING, "Patient.name.family"),
    TERMS("given", MV_FHIR_PARAM_STRING, "Patient.name.given"),
    TERMS("identifier", MV_FHIR_PARAM_TOKEN, "Patient.identifier"),
    DATE("birthdate", "Patient.birthDate"),
    TERMS("gender", MV_FHIR_PARAM_TOKEN, "Patient.gender"),
};

static const struct mv_fhir_search_param practitioner[] = {
    COMMON,
    TERMS("name", MV_FHIR_PARAM_STRING, "Practitioner.name"),
    TERMS("family", MV_FHIR_PARAM_STRING, "Practitioner.name.family"),
    TERMS("given", MV_FHIR_PARAM_STRING, "Practitioner.name.given"),
    TERMS("identifier", MV_FHIR_PARAM_TOKEN, "Practitioner.identifier"),
};

static const struct mv_fhir_search_param care_team[] = {
    COMMON,
    PATIENT(true, "CareTeam.subject.where(resolve() is Patient)"),
    REF("subject", "CareTeam.subject"),
    STATUS("status", "CareTeam.status"),
    REF("participant", "CareTeam.participant.member"),
};

static const struct mv_fhir_search_param device[] = {
    COMMON,
    PATIENT(true, "Device.patient"),
    STATUS("status", "Device.status"),
};

static const struct mv_fhir_search_param observation[] = {
    COMMON,
    PATIENT(true, "Observation.subject.where(resolve() is Patient)"),
    REF("subject", "Observation.subject"),
    TERMS("code", MV_FHIR_PARAM_TOKEN, "Observation.code"),
    TERMS("category", MV_FHIR_PARAM_TOKEN, "Observation.category"),
    DATE("date", "Observation.effective"),
    STATUS("status", "Observation.status"),
};

static const struct mv_fhir_search_param encounter[] = {
    COMMON,
    PATIENT(true, "Encounter.subject.where(resolve() is Patient)"),
    REF("subject", "Encounter.subject"),
    STATUS("status", "Encounter.status"),
    DATE("date", "Encounter.period"),
};

static const struct mv_fhir_search_param condition[] = {
    COMMON,
    PATIENT(true, "Condition.subject.where(resolve() is Patient)"),
    REF("subject", "Condition.subject"),
    TERMS("code", MV_FHIR_PARAM_TOKEN, "Condition.code"),
    STATUS("clinical-status", "Condition.clinicalStatus"),
    STATUS("status", "Condition.clinicalStatus"),
    DATE("date", "Condition.recordedDate | Condition.onset.as(dateTime)"),
};

static const struct mv_fhir_search_param diagnostic_report[] = {
    COMMON,
    PATIENT(true, "DiagnosticReport.subject.where(resolve() is Patient)"),
    REF("subject", "DiagnosticReport.subject"),
    TERMS("code", MV_FHIR_PARAM_TOKEN, "DiagnosticReport.code"),
    TERMS("category", MV_FHIR_PARAM_TOKEN, "DiagnosticReport.category"),
    STATUS("status", "DiagnosticReport.status"),
    DATE("date", "DiagnosticReport.effective"),
};

static const struct mv_fhir_search_param flag[] = {
    COMMON,
    PATIENT(true, "Flag.subject.where(resolve() is Patient)"),
    REF("subject", "Flag.subject"),
    STATUS("status", "Flag.status"),
    DATE("date", "Flag.period"),
};

static const struct mv_fhir_search_param communication[] = {
    COMMON,
    PATIENT(true, "Communication.subject.where(resolve() is Patient)"),
    REF("subject", "Communication.subject"),
    STATUS("status", "Communication.status"),
    DATE("sent", "Communication.sent"),
};

static const struct mv_fhir_search_param appointment[] = {
    COMMON,
    /* Every Patient participant; patient_id is only the first one. */
    PATIENT(false, "Appointment.participant.actor.where(resolve() is Patient)"),
    REF("actor", "Appointment.participant.actor"),
    STATUS("status", "Appointment.status"),
    DATE("date", "Appointment.start"),
};

static const struct mv_fhir_search_param consent[] = {
    COMMON,
    PATIENT(true, "Consent.patient"),
    STATUS("status", "Consent.status"),
    REF("actor", "Consent.provision.actor.reference"),
    DATE("date", "Consent.dateTime"),
};

static const struct mv_fhir_search_param audit_event[] = {
    COMMON,
    /* Agents and entities that are Patients; patient_id is only the first
     * Patient entity. */
    PATIENT(false, "AuditEvent.agent.who.where(resolve() is Patient) | "
                   "AuditEvent.entity.what.where(resolve() is Patient)"),
    REF("agent", "AuditEvent.agent.who"),
    REF("entity", "AuditEvent.entity.what"),
    TERMS("action", MV_FHIR_PARAM_TOKEN, "AuditEvent.action"),
    DATE("date", "AuditEvent.recorded"),
};

struct type_params {
  const char *type;
  const struct mv_fhir_search_param *params;
  size_t n;
};

#define T(name, arr)                                                           \
  { name, arr, MV_ARRAY_LEN(arr) }
static const struct type_params registry[] = {
    T("Patient", patient),
    T("Practitioner", practitioner),
    T("CareTeam", care_team),
    T("Device", device),
    T("Observation", observation),
    T("Encounter", encounter),
    T("Condition", condition),
    T("DiagnosticReport", diagnostic_report),
    T("Flag", flag),
    T("Communication", communication),
    T("Appointment", appointment),
    T("Consent", consent),
    T("AuditEvent", audit_event),
};

const struct mv_fhir_search_param *mv_fhir_search_params(const char *type,
                                                         size_t *out_n) {
  *out_n = 0;
  if (!type)
    return NULL;
  for (size_t i = 0; i < MV_ARRAY_LEN(registry); i++)
    if (strcmp(registry[i].type, type) == 0) {
      *out_n = registry[i].n;
      return registry[i].params;
    }
  return NULL;
}

const struct mv_fhir_search_param *mv_fhir_search_param_find(const char *type,
                                                             const char *name) {
  size_t n;
  const struct mv_fhir_search_param *p = mv_fhir_search_params(type, &n);
  if (!name)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(p[i].name, name) == 0)
      return &p[i];
  return NULL;
}
