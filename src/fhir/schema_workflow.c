/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema tables of the workflow, privacy and infrastructure resources we
 * serve, per FHIR R4 (4.0.1): Communication, Appointment, Consent (with its
 * recursive provision), AuditEvent and Bundle (a Resource, not a
 * DomainResource: no text, contained or extension).
 */
#include "fhir_validate_int.h"

MV__VS(vs_event_status, NULL, "preparation", "in-progress", "not-done",
       "on-hold", "stopped", "completed", "entered-in-error", "unknown");
MV__VS(vs_request_priority, NULL, "routine", "urgent", "asap", "stat");
MV__VS(vs_appointment_status, NULL, "proposed", "pending", "booked", "arrived",
       "fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in",
       "waitlist");
MV__VS(vs_participant_required, NULL, "required", "optional",
       "information-only");
MV__VS(vs_participation_status, NULL, "accepted", "declined", "tentative",
       "needs-action");
MV__VS(vs_consent_status, NULL, "draft", "proposed", "active", "rejected",
       "inactive", "entered-in-error");
MV__VS(vs_consent_provision_type, NULL, "deny", "permit");
MV__VS(vs_consent_data_meaning, NULL, "instance", "related", "dependents",
       "authoredby");
MV__VS(vs_audit_action, NULL, "C", "R", "U", "D", "E");
MV__VS(vs_audit_outcome, NULL, "0", "4", "8", "12");
MV__VS(vs_network_type, NULL, "1", "2", "3", "4", "5");
MV__VS(vs_bundle_type, NULL, "document", "message", "transaction",
       "transaction-response", "batch", "batch-response", "history",
       "searchset", "collection");
MV__VS(vs_http_verb, NULL, "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH");
MV__VS(vs_search_mode, NULL, "match", "include", "outcome");

/* ---- Communication ------------------------------------------------------ */

static const struct mv__fhir_type *const communication_content[] = {
    &mv__ft_string, &mv__ft_Attachment, &mv__ft_Reference, NULL};

static const struct mv__fhir_elem communication_payload_elems[] = {
    MV__CHOICE("content", communication_content, 1),
};
static const struct mv__fhir_type communication_payload = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, communication_payload_elems, NULL);

static const struct mv__fhir_elem communication_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__LIST("instantiatesCanonical", canonical),
    MV__LIST("instantiatesUri", uri),
    MV__LIST("basedOn", Reference),
    MV__LIST("partOf", Reference),
    MV__LIST("inResponseTo", Reference),
    MV__REQ_VS("status", code, vs_event_status),
    MV__OPT("statusReason", CodeableConcept),
    MV__LIST("category", CodeableConcept),
    MV__OPT_VS("priority", code, vs_request_priority),
    MV__LIST("medium", CodeableConcept),
    MV__OPT("subject", Reference),
    MV__OPT("topic", CodeableConcept),
    MV__LIST("about", Reference),
    MV__OPT("encounter", Reference),
    MV__OPT("sent", dateTime),
    MV__OPT("received", dateTime),
    MV__LIST("recipient", Reference),
    MV__OPT("sender", Reference),
    MV__LIST("reasonCode", CodeableConcept),
    MV__LIST("reasonReference", Reference),
    MV__LIST_T("payload", communication_payload),
    MV__LIST("note", Annotation),
};
const struct mv__fhir_type mv__ft_Communication =
    MV__TYPE("Communication", MV__FK_DOMAIN, communication_elems, NULL);

/* ---- Appointment -------------------------------------------------------- */

static const struct mv__fhir_elem appointment_participant_elems[] = {
    MV__LIST("type", CodeableConcept),
    MV__OPT("actor", Reference),
    MV__OPT_VS("required", code, vs_participant_required),
    MV__REQ_VS("status", code, vs_participation_status),
    MV__OPT("period", Period),
};
static const struct mv__fhir_type appointment_participant = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, appointment_participant_elems, NULL);

static const struct mv__fhir_elem appointment_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__REQ_VS("status", code, vs_appointment_status),
    MV__OPT("cancelationReason", CodeableConcept),
    MV__LIST("serviceCategory", CodeableConcept),
    MV__LIST("serviceType", CodeableConcept),
    MV__LIST("specialty", CodeableConcept),
    MV__OPT("appointmentType", CodeableConcept),
    MV__LIST("reasonCode", CodeableConcept),
    MV__LIST("reasonReference", Reference),
    MV__OPT("priority", unsignedInt),
    MV__OPT("description", string),
    MV__LIST("supportingInformation", Reference),
    MV__OPT("start", instant),
    MV__OPT("end", instant),
    MV__OPT("minutesDuration", positiveInt),
    MV__LIST("slot", Reference),
    MV__OPT("created", dateTime),
    MV__OPT("comment", string),
    MV__OPT("patientInstruction", string),
    MV__LIST("basedOn", Reference),
    MV__LIST1_T("participant", appointment_participant),
    MV__LIST("requestedPeriod", Period),
};
const struct mv__fhir_type mv__ft_Appointment =
    MV__TYPE("Appointment", MV__FK_DOMAIN, appointment_elems,
             mv__fhir_check_appointment);

/* ---- Consent ------------------------------------------------------------ */

static const struct mv__fhir_type *const consent_source[] = {
    &mv__ft_Attachment, &mv__ft_Reference, NULL};

static const struct mv__fhir_elem consent_policy_elems[] = {
    MV__OPT("authority", uri),
    MV__OPT("uri", uri),
};
static const struct mv__fhir_type consent_policy =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, consent_policy_elems, NULL);

static const struct mv__fhir_elem consent_verification_elems[] = {
    MV__REQ("verified", boolean),
    MV__OPT("verifiedWith", Reference),
    MV__OPT("verificationDate", dateTime),
};
static const struct mv__fhir_type consent_verification = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, consent_verification_elems, NULL);

static const struct mv__fhir_elem consent_actor_elems[] = {
    MV__REQ("role", CodeableConcept),
    MV__REQ("reference", Reference),
};
static const struct mv__fhir_type consent_actor =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, consent_actor_elems, NULL);

static const struct mv__fhir_elem consent_data_elems[] = {
    MV__REQ_VS("meaning", code, vs_consent_data_meaning),
    MV__REQ("reference", Reference),
};
static const struct mv__fhir_type consent_data =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, consent_data_elems, NULL);

/* Consent.provision nests itself (Consent.provision.provision). */
static const struct mv__fhir_type consent_provision;

static const struct mv__fhir_elem consent_provision_elems[] = {
    MV__OPT_VS("type", code, vs_consent_provision_type),
    MV__OPT("period", Period),
    MV__LIST_T("actor", consent_actor),
    MV__LIST("action", CodeableConcept),
    MV__LIST("securityLabel", Coding),
    MV__LIST("purpose", Coding),
    MV__LIST("class", Coding),
    MV__LIST("code", CodeableConcept),
    MV__OPT("dataPeriod", Period),
    MV__LIST_T("data", consent_data),
    MV__LIST_T("provision", consent_provision),
};
static const struct mv__fhir_type consent_provision =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, consent_provision_elems, NULL);

static const struct mv__fhir_elem consent_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__REQ_VS("status", code, vs_consent_status),
    MV__REQ("scope", CodeableConcept),
    MV__LIST1("category", CodeableConcept),
    MV__OPT("patient", Reference),
    MV__OPT("dateTime", dateTime),
    MV__LIST("performer", Reference),
    MV__LIST("organization", Reference),
    MV__CHOICE("source", consent_source, 0),
    MV__LIST_T("policy", consent_policy),
    MV__OPT("policyRule", CodeableConcept),
    MV__LIST_T("verification", consent_verification),
    MV__OPT_T("provision", consent_provision),
};
const struct mv__fhir_type mv__ft_Consent =
    MV__TYPE("Consent", MV__FK_DOMAIN, consent_elems, NULL);

/* ---- AuditEvent --------------------------------------------------------- */

static const struct mv__fhir_elem audit_network_elems[] = {
    MV__OPT("address", string),
    MV__OPT_VS("type", code, vs_network_type),
};
static const struct mv__fhir_type audit_network =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, audit_network_elems, NULL);

static const struct mv__fhir_elem audit_agent_elems[] = {
    MV__OPT("type", CodeableConcept),
    MV__LIST("role", CodeableConcept),
    MV__OPT("who", Reference),
    MV__OPT("altId", string),
    MV__OPT("name", string),
    MV__REQ("requestor", boolean),
    MV__OPT("location", Reference),
    MV__LIST("policy", uri),
    MV__OPT("media", Coding),
    MV__OPT_T("network", audit_network),
    MV__LIST("purposeOfUse", CodeableConcept),
};
static const struct mv__fhir_type audit_agent =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, audit_agent_elems, NULL);

static const struct mv__fhir_elem audit_source_elems[] = {
    MV__OPT("site", string),
    MV__REQ("observer", Reference),
    MV__LIST("type", Coding),
};
static const struct mv__fhir_type audit_source =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, audit_source_elems, NULL);

static const struct mv__fhir_type *const audit_detail_values[] = {
    &mv__ft_string, &mv__ft_base64Binary, NULL};

static const struct mv__fhir_elem audit_detail_elems[] = {
    MV__REQ("type", string),
    MV__CHOICE("value", audit_detail_values, 1),
};
static const struct mv__fhir_type audit_detail =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, audit_detail_elems, NULL);

static const struct mv__fhir_elem audit_entity_elems[] = {
    MV__OPT("what", Reference),
    MV__OPT("type", Coding),
    MV__OPT("role", Coding),
    MV__OPT("lifecycle", Coding),
    MV__LIST("securityLabel", Coding),
    MV__OPT("name", string),
    MV__OPT("description", string),
    MV__OPT("query", base64Binary),
    MV__LIST_T("detail", audit_detail),
};
static const struct mv__fhir_type audit_entity =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, audit_entity_elems,
             mv__fhir_check_audit_entity);

static const struct mv__fhir_elem audit_event_elems[] = {
    MV__REQ("type", Coding),
    MV__LIST("subtype", Coding),
    MV__OPT_VS("action", code, vs_audit_action),
    MV__OPT("period", Period),
    MV__REQ("recorded", instant),
    MV__OPT_VS("outcome", code, vs_audit_outcome),
    MV__OPT("outcomeDesc", string),
    MV__LIST("purposeOfEvent", CodeableConcept),
    MV__LIST1_T("agent", audit_agent),
    MV__REQ_T("source", audit_source),
    MV__LIST_T("entity", audit_entity),
};
const struct mv__fhir_type mv__ft_AuditEvent =
    MV__TYPE("AuditEvent", MV__FK_DOMAIN, audit_event_elems, NULL);

/* ---- Bundle ------------------------------------------------------------- */

static const struct mv__fhir_elem bundle_link_elems[] = {
    MV__REQ("relation", string),
    MV__REQ("url", uri),
};
static const struct mv__fhir_type bundle_link =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, bundle_link_elems, NULL);

static const struct mv__fhir_elem bundle_search_elems[] = {
    MV__OPT_VS("mode", code, vs_search_mode),
    MV__OPT("score", decimal),
};
static const struct mv__fhir_type bundle_search =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, bundle_search_elems, NULL);

static const struct mv__fhir_elem bundle_request_elems[] = {
    MV__REQ_VS("method", code, vs_http_verb),
    MV__REQ("url", uri),
    MV__OPT("ifNoneMatch", string),
    MV__OPT("ifModifiedSince", instant),
    MV__OPT("ifMatch", string),
    MV__OPT("ifNoneExist", string),
};
static const struct mv__fhir_type bundle_request =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, bundle_request_elems, NULL);

static const struct mv__fhir_elem bundle_response_elems[] = {
    MV__REQ("status", string),    MV__OPT("location", uri),
    MV__OPT("etag", string),      MV__OPT("lastModified", instant),
    MV__OPT("outcome", Resource),
};
static const struct mv__fhir_type bundle_response =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, bundle_response_elems, NULL);

static const struct mv__fhir_elem bundle_entry_elems[] = {
    MV__LIST_T("link", bundle_link),
    MV__OPT("fullUrl", uri),
    MV__OPT("resource", Resource),
    MV__OPT_T("search", bundle_search),
    MV__OPT_T("request", bundle_request),
    MV__OPT_T("response", bundle_response),
};
static const struct mv__fhir_type bundle_entry =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, bundle_entry_elems, NULL);

static const struct mv__fhir_elem bundle_elems[] = {
    MV__OPT("identifier", Identifier), MV__REQ_VS("type", code, vs_bundle_type),
    MV__OPT("timestamp", instant),     MV__OPT("total", unsignedInt),
    MV__LIST_T("link", bundle_link),   MV__LIST_T("entry", bundle_entry),
    MV__OPT("signature", Signature),
};
const struct mv__fhir_type mv__ft_Bundle =
    MV__TYPE("Bundle", MV__FK_RESOURCE, bundle_elems, mv__fhir_check_bundle);

/* ---- OperationOutcome --------------------------------------------------- */

/* Not stored or accepted on its own, but Bundles we are given may carry
 * one (entry.response.outcome, a searchset entry in mode "outcome"). */
MV__VS(vs_issue_severity, NULL, "fatal", "error", "warning", "information");
MV__VS(vs_issue_type, NULL, "invalid", "structure", "required", "value",
       "invariant", "security", "login", "unknown", "expired", "forbidden",
       "suppressed", "processing", "not-supported", "duplicate",
       "multiple-matches", "not-found", "deleted", "too-long", "code-invalid",
       "extension", "too-costly", "business-rule", "conflict", "transient",
       "lock-error", "no-store", "exception", "timeout", "incomplete",
       "throttled", "informational");

static const struct mv__fhir_elem outcome_issue_elems[] = {
    MV__REQ_VS("severity", code, vs_issue_severity),
    MV__REQ_VS("code", code, vs_issue_type),
    MV__OPT("details", CodeableConcept),
    MV__OPT("diagnostics", string),
    MV__LIST("location", string),
    MV__LIST("expression", string),
};
static const struct mv__fhir_type outcome_issue =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, outcome_issue_elems, NULL);

static const struct mv__fhir_elem outcome_elems[] = {
    MV__LIST1_T("issue", outcome_issue),
};
const struct mv__fhir_type mv__ft_OperationOutcome =
    MV__TYPE("OperationOutcome", MV__FK_DOMAIN, outcome_elems, NULL);
