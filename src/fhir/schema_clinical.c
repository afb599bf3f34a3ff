/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema tables of the clinical resources we serve, per FHIR R4 (4.0.1):
 * Observation, Encounter, Condition, DiagnosticReport and Flag, with their
 * BackboneElements, choice types and required bindings. The vital-signs
 * profile and the invariants are code (validate_vitals.c,
 * validate_rules.c), hooked in through each type's check function.
 */
#include "fhir_validate_int.h"

MV__VS(vs_observation_status, NULL, "registered", "preliminary", "final",
       "amended", "corrected", "cancelled", "entered-in-error", "unknown");
MV__VS(vs_encounter_status, NULL, "planned", "arrived", "triaged",
       "in-progress", "onleave", "finished", "cancelled", "entered-in-error",
       "unknown");
MV__VS(vs_encounter_location_status, NULL, "planned", "active", "reserved",
       "completed");
MV__VS(vs_condition_clinical,
       "http://terminology.hl7.org/CodeSystem/condition-clinical", "active",
       "recurrence", "relapse", "inactive", "remission", "resolved");
MV__VS(vs_condition_verification,
       "http://terminology.hl7.org/CodeSystem/condition-ver-status",
       "unconfirmed", "provisional", "differential", "confirmed", "refuted",
       "entered-in-error");
MV__VS(vs_report_status, NULL, "registered", "partial", "preliminary", "final",
       "amended", "corrected", "appended", "cancelled", "entered-in-error",
       "unknown");
MV__VS(vs_flag_status, NULL, "active", "inactive", "entered-in-error");

/* ---- Observation -------------------------------------------------------- */

static const struct mv__fhir_type *const observation_effective[] = {
    &mv__ft_dateTime, &mv__ft_Period, &mv__ft_Timing, &mv__ft_instant, NULL};

/* Observation.value[x] and Observation.component.value[x]. */
static const struct mv__fhir_type *const observation_values[] = {
    &mv__ft_Quantity, &mv__ft_CodeableConcept, &mv__ft_string,
    &mv__ft_boolean,  &mv__ft_integer,         &mv__ft_Range,
    &mv__ft_Ratio,    &mv__ft_SampledData,     &mv__ft_time,
    &mv__ft_dateTime, &mv__ft_Period,          NULL,
};

static const struct mv__fhir_elem observation_range_elems[] = {
    MV__OPT("low", SimpleQuantity),
    MV__OPT("high", SimpleQuantity),
    MV__OPT("type", CodeableConcept),
    MV__LIST("appliesTo", CodeableConcept),
    MV__OPT("age", Range),
    MV__OPT("text", string),
};
static const struct mv__fhir_type observation_range =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, observation_range_elems, NULL);

static const struct mv__fhir_elem observation_component_elems[] = {
    MV__REQ("code", CodeableConcept),
    MV__CHOICE("value", observation_values, 0),
    MV__OPT("dataAbsentReason", CodeableConcept),
    MV__LIST("interpretation", CodeableConcept),
    MV__LIST_T("referenceRange", observation_range),
};
static const struct mv__fhir_type observation_component = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, observation_component_elems, NULL);

static const struct mv__fhir_elem observation_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__LIST("basedOn", Reference),
    MV__LIST("partOf", Reference),
    MV__REQ_VS("status", code, vs_observation_status),
    MV__LIST("category", CodeableConcept),
    MV__REQ("code", CodeableConcept),
    MV__OPT("subject", Reference),
    MV__LIST("focus", Reference),
    MV__OPT("encounter", Reference),
    MV__CHOICE("effective", observation_effective, 0),
    MV__OPT("issued", instant),
    MV__LIST("performer", Reference),
    MV__CHOICE("value", observation_values, 0),
    MV__OPT("dataAbsentReason", CodeableConcept),
    MV__LIST("interpretation", CodeableConcept),
    MV__LIST("note", Annotation),
    MV__OPT("bodySite", CodeableConcept),
    MV__OPT("method", CodeableConcept),
    MV__OPT("specimen", Reference),
    MV__OPT("device", Reference),
    MV__LIST_T("referenceRange", observation_range),
    MV__LIST("hasMember", Reference),
    MV__LIST("derivedFrom", Reference),
    MV__LIST_T("component", observation_component),
};
const struct mv__fhir_type mv__ft_Observation =
    MV__TYPE("Observation", MV__FK_DOMAIN, observation_elems,
             mv__fhir_check_observation);

/* ---- Encounter ---------------------------------------------------------- */

static const struct mv__fhir_elem encounter_status_history_elems[] = {
    MV__REQ_VS("status", code, vs_encounter_status),
    MV__REQ("period", Period),
};
static const struct mv__fhir_type encounter_status_history = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_status_history_elems, NULL);

static const struct mv__fhir_elem encounter_class_history_elems[] = {
    MV__REQ("class", Coding),
    MV__REQ("period", Period),
};
static const struct mv__fhir_type encounter_class_history = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_class_history_elems, NULL);

static const struct mv__fhir_elem encounter_participant_elems[] = {
    MV__LIST("type", CodeableConcept),
    MV__OPT("period", Period),
    MV__OPT("individual", Reference),
};
static const struct mv__fhir_type encounter_participant = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_participant_elems, NULL);

static const struct mv__fhir_elem encounter_diagnosis_elems[] = {
    MV__REQ("condition", Reference),
    MV__OPT("use", CodeableConcept),
    MV__OPT("rank", positiveInt),
};
static const struct mv__fhir_type encounter_diagnosis = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_diagnosis_elems, NULL);

static const struct mv__fhir_elem encounter_hospitalization_elems[] = {
    MV__OPT("preAdmissionIdentifier", Identifier),
    MV__OPT("origin", Reference),
    MV__OPT("admitSource", CodeableConcept),
    MV__OPT("reAdmission", CodeableConcept),
    MV__LIST("dietPreference", CodeableConcept),
    MV__LIST("specialCourtesy", CodeableConcept),
    MV__LIST("specialArrangement", CodeableConcept),
    MV__OPT("destination", Reference),
    MV__OPT("dischargeDisposition", CodeableConcept),
};
static const struct mv__fhir_type encounter_hospitalization = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_hospitalization_elems, NULL);

static const struct mv__fhir_elem encounter_location_elems[] = {
    MV__REQ("location", Reference),
    MV__OPT_VS("status", code, vs_encounter_location_status),
    MV__OPT("physicalType", CodeableConcept),
    MV__OPT("period", Period),
};
static const struct mv__fhir_type encounter_location = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, encounter_location_elems, NULL);

static const struct mv__fhir_elem encounter_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__REQ_VS("status", code, vs_encounter_status),
    MV__LIST_T("statusHistory", encounter_status_history),
    MV__REQ("class", Coding),
    MV__LIST_T("classHistory", encounter_class_history),
    MV__LIST("type", CodeableConcept),
    MV__OPT("serviceType", CodeableConcept),
    MV__OPT("priority", CodeableConcept),
    MV__OPT("subject", Reference),
    MV__LIST("episodeOfCare", Reference),
    MV__LIST("basedOn", Reference),
    MV__LIST_T("participant", encounter_participant),
    MV__LIST("appointment", Reference),
    MV__OPT("period", Period),
    MV__OPT("length", Duration),
    MV__LIST("reasonCode", CodeableConcept),
    MV__LIST("reasonReference", Reference),
    MV__LIST_T("diagnosis", encounter_diagnosis),
    MV__LIST("account", Reference),
    MV__OPT_T("hospitalization", encounter_hospitalization),
    MV__LIST_T("location", encounter_location),
    MV__OPT("serviceProvider", Reference),
    MV__OPT("partOf", Reference),
};
const struct mv__fhir_type mv__ft_Encounter =
    MV__TYPE("Encounter", MV__FK_DOMAIN, encounter_elems, NULL);

/* ---- Condition ---------------------------------------------------------- */

static const struct mv__fhir_type *const condition_onset[] = {
    &mv__ft_dateTime, &mv__ft_Age,    &mv__ft_Period,
    &mv__ft_Range,    &mv__ft_string, NULL,
};

static const struct mv__fhir_elem condition_stage_elems[] = {
    MV__OPT("summary", CodeableConcept),
    MV__LIST("assessment", Reference),
    MV__OPT("type", CodeableConcept),
};
static const struct mv__fhir_type condition_stage =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, condition_stage_elems, NULL);

static const struct mv__fhir_elem condition_evidence_elems[] = {
    MV__LIST("code", CodeableConcept),
    MV__LIST("detail", Reference),
};
static const struct mv__fhir_type condition_evidence = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, condition_evidence_elems, NULL);

static const struct mv__fhir_elem condition_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__OPT_VS("clinicalStatus", CodeableConcept, vs_condition_clinical),
    MV__OPT_VS("verificationStatus", CodeableConcept,
               vs_condition_verification),
    MV__LIST("category", CodeableConcept),
    MV__OPT("severity", CodeableConcept),
    MV__OPT("code", CodeableConcept),
    MV__LIST("bodySite", CodeableConcept),
    MV__REQ("subject", Reference),
    MV__OPT("encounter", Reference),
    MV__CHOICE("onset", condition_onset, 0),
    MV__CHOICE("abatement", condition_onset, 0),
    MV__OPT("recordedDate", dateTime),
    MV__OPT("recorder", Reference),
    MV__OPT("asserter", Reference),
    MV__LIST_T("stage", condition_stage),
    MV__LIST_T("evidence", condition_evidence),
    MV__LIST("note", Annotation),
};
const struct mv__fhir_type mv__ft_Condition = MV__TYPE(
    "Condition", MV__FK_DOMAIN, condition_elems, mv__fhir_check_condition);

/* ---- DiagnosticReport --------------------------------------------------- */

static const struct mv__fhir_type *const report_effective[] = {
    &mv__ft_dateTime, &mv__ft_Period, NULL};

static const struct mv__fhir_elem report_media_elems[] = {
    MV__OPT("comment", string),
    MV__REQ("link", Reference),
};
static const struct mv__fhir_type report_media =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, report_media_elems, NULL);

static const struct mv__fhir_elem report_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__LIST("basedOn", Reference),
    MV__REQ_VS("status", code, vs_report_status),
    MV__LIST("category", CodeableConcept),
    MV__REQ("code", CodeableConcept),
    MV__OPT("subject", Reference),
    MV__OPT("encounter", Reference),
    MV__CHOICE("effective", report_effective, 0),
    MV__OPT("issued", instant),
    MV__LIST("performer", Reference),
    MV__LIST("resultsInterpreter", Reference),
    MV__LIST("specimen", Reference),
    MV__LIST("result", Reference),
    MV__LIST("imagingStudy", Reference),
    MV__LIST_T("media", report_media),
    MV__OPT("conclusion", string),
    MV__LIST("conclusionCode", CodeableConcept),
    MV__LIST("presentedForm", Attachment),
};
const struct mv__fhir_type mv__ft_DiagnosticReport =
    MV__TYPE("DiagnosticReport", MV__FK_DOMAIN, report_elems, NULL);

/* ---- Flag --------------------------------------------------------------- */

static const struct mv__fhir_elem flag_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__REQ_VS("status", code, vs_flag_status),
    MV__LIST("category", CodeableConcept),
    MV__REQ("code", CodeableConcept),
    MV__REQ("subject", Reference),
    MV__OPT("period", Period),
    MV__OPT("encounter", Reference),
    MV__OPT("author", Reference),
};
const struct mv__fhir_type mv__ft_Flag =
    MV__TYPE("Flag", MV__FK_DOMAIN, flag_elems, NULL);
