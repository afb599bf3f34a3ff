/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema tables of the administrative resources we serve, per FHIR R4
 * (4.0.1): Patient, Practitioner, CareTeam and Device, with their
 * BackboneElements and the required bindings of their coded elements.
 * DomainResource elements (id, meta, text, contained, extension, ...) are
 * added by the walker.
 */
#include "fhir_validate_int.h"

MV__VS(vs_gender, NULL, "male", "female", "other", "unknown");
MV__VS(vs_link_type, NULL, "replaced-by", "replaces", "refer", "seealso");
MV__VS(vs_care_team_status, NULL, "proposed", "active", "suspended", "inactive",
       "entered-in-error");
MV__VS(vs_device_status, NULL, "active", "inactive", "entered-in-error",
       "unknown");
MV__VS(vs_udi_entry_type, NULL, "barcode", "rfid", "manual", "card",
       "self-reported", "unknown");
MV__VS(vs_device_name_type, NULL, "udi-label-name", "user-friendly-name",
       "patient-reported-name", "manufacturer-name", "model-name", "other");

/* ---- Patient ------------------------------------------------------------ */

static const struct mv__fhir_type *const patient_deceased[] = {
    &mv__ft_boolean, &mv__ft_dateTime, NULL};
static const struct mv__fhir_type *const patient_multiple_birth[] = {
    &mv__ft_boolean, &mv__ft_integer, NULL};

static const struct mv__fhir_elem patient_contact_elems[] = {
    MV__LIST("relationship", CodeableConcept),
    MV__OPT("name", HumanName),
    MV__LIST("telecom", ContactPoint),
    MV__OPT("address", Address),
    MV__OPT_VS("gender", code, vs_gender),
    MV__OPT("organization", Reference),
    MV__OPT("period", Period),
};
static const struct mv__fhir_type patient_contact =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, patient_contact_elems,
             mv__fhir_check_patient_contact);

static const struct mv__fhir_elem patient_communication_elems[] = {
    MV__REQ("language", CodeableConcept),
    MV__OPT("preferred", boolean),
};
static const struct mv__fhir_type patient_communication = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, patient_communication_elems, NULL);

static const struct mv__fhir_elem patient_link_elems[] = {
    MV__REQ("other", Reference),
    MV__REQ_VS("type", code, vs_link_type),
};
static const struct mv__fhir_type patient_link =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, patient_link_elems, NULL);

static const struct mv__fhir_elem patient_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__OPT("active", boolean),
    MV__LIST("name", HumanName),
    MV__LIST("telecom", ContactPoint),
    MV__OPT_VS("gender", code, vs_gender),
    MV__OPT("birthDate", date),
    MV__CHOICE("deceased", patient_deceased, 0),
    MV__LIST("address", Address),
    MV__OPT("maritalStatus", CodeableConcept),
    MV__CHOICE("multipleBirth", patient_multiple_birth, 0),
    MV__LIST("photo", Attachment),
    MV__LIST_T("contact", patient_contact),
    MV__LIST_T("communication", patient_communication),
    MV__LIST("generalPractitioner", Reference),
    MV__OPT("managingOrganization", Reference),
    MV__LIST_T("link", patient_link),
};
const struct mv__fhir_type mv__ft_Patient =
    MV__TYPE("Patient", MV__FK_DOMAIN, patient_elems, NULL);

/* ---- Practitioner ------------------------------------------------------- */

static const struct mv__fhir_elem practitioner_qualification_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__REQ("code", CodeableConcept),
    MV__OPT("period", Period),
    MV__OPT("issuer", Reference),
};
static const struct mv__fhir_type practitioner_qualification = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, practitioner_qualification_elems, NULL);

static const struct mv__fhir_elem practitioner_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__OPT("active", boolean),
    MV__LIST("name", HumanName),
    MV__LIST("telecom", ContactPoint),
    MV__LIST("address", Address),
    MV__OPT_VS("gender", code, vs_gender),
    MV__OPT("birthDate", date),
    MV__LIST("photo", Attachment),
    MV__LIST_T("qualification", practitioner_qualification),
    MV__LIST("communication", CodeableConcept),
};
const struct mv__fhir_type mv__ft_Practitioner =
    MV__TYPE("Practitioner", MV__FK_DOMAIN, practitioner_elems, NULL);

/* ---- CareTeam ----------------------------------------------------------- */

static const struct mv__fhir_elem care_team_participant_elems[] = {
    MV__LIST("role", CodeableConcept),
    MV__OPT("member", Reference),
    MV__OPT("onBehalfOf", Reference),
    MV__OPT("period", Period),
};
static const struct mv__fhir_type care_team_participant = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, care_team_participant_elems, NULL);

static const struct mv__fhir_elem care_team_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__OPT_VS("status", code, vs_care_team_status),
    MV__LIST("category", CodeableConcept),
    MV__OPT("name", string),
    MV__OPT("subject", Reference),
    MV__OPT("encounter", Reference),
    MV__OPT("period", Period),
    MV__LIST_T("participant", care_team_participant),
    MV__LIST("reasonCode", CodeableConcept),
    MV__LIST("reasonReference", Reference),
    MV__LIST("managingOrganization", Reference),
    MV__LIST("telecom", ContactPoint),
    MV__LIST("note", Annotation),
};
const struct mv__fhir_type mv__ft_CareTeam =
    MV__TYPE("CareTeam", MV__FK_DOMAIN, care_team_elems, NULL);

/* ---- Device ------------------------------------------------------------- */

static const struct mv__fhir_elem device_udi_elems[] = {
    MV__OPT("deviceIdentifier", string),
    MV__OPT("issuer", uri),
    MV__OPT("jurisdiction", uri),
    MV__OPT("carrierAIDC", base64Binary),
    MV__OPT("carrierHRF", string),
    MV__OPT_VS("entryType", code, vs_udi_entry_type),
};
static const struct mv__fhir_type device_udi =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, device_udi_elems, NULL);

static const struct mv__fhir_elem device_name_elems[] = {
    MV__REQ("name", string),
    MV__REQ_VS("type", code, vs_device_name_type),
};
static const struct mv__fhir_type device_name =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, device_name_elems, NULL);

static const struct mv__fhir_elem device_specialization_elems[] = {
    MV__REQ("systemType", CodeableConcept),
    MV__OPT("version", string),
};
static const struct mv__fhir_type device_specialization = MV__TYPE(
    "BackboneElement", MV__FK_BACKBONE, device_specialization_elems, NULL);

static const struct mv__fhir_elem device_version_elems[] = {
    MV__OPT("type", CodeableConcept),
    MV__OPT("component", Identifier),
    MV__REQ("value", string),
};
static const struct mv__fhir_type device_version =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, device_version_elems, NULL);

/* Device.property has two plain lists named valueQuantity and valueCode
 * (not a choice). */
static const struct mv__fhir_elem device_property_elems[] = {
    MV__REQ("type", CodeableConcept),
    MV__LIST("valueQuantity", Quantity),
    MV__LIST("valueCode", CodeableConcept),
};
static const struct mv__fhir_type device_property =
    MV__TYPE("BackboneElement", MV__FK_BACKBONE, device_property_elems, NULL);

static const struct mv__fhir_elem device_elems[] = {
    MV__LIST("identifier", Identifier),
    MV__OPT("definition", Reference),
    MV__LIST_T("udiCarrier", device_udi),
    MV__OPT_VS("status", code, vs_device_status),
    MV__LIST("statusReason", CodeableConcept),
    MV__OPT("distinctIdentifier", string),
    MV__OPT("manufacturer", string),
    MV__OPT("manufactureDate", dateTime),
    MV__OPT("expirationDate", dateTime),
    MV__OPT("lotNumber", string),
    MV__OPT("serialNumber", string),
    MV__LIST_T("deviceName", device_name),
    MV__OPT("modelNumber", string),
    MV__OPT("partNumber", string),
    MV__OPT("type", CodeableConcept),
    MV__LIST_T("specialization", device_specialization),
    MV__LIST_T("version", device_version),
    MV__LIST_T("property", device_property),
    MV__OPT("patient", Reference),
    MV__OPT("owner", Reference),
    MV__LIST("contact", ContactPoint),
    MV__OPT("location", Reference),
    MV__OPT("url", uri),
    MV__LIST("note", Annotation),
    MV__LIST("safety", CodeableConcept),
    MV__OPT("parent", Reference),
};
const struct mv__fhir_type mv__ft_Device =
    MV__TYPE("Device", MV__FK_DOMAIN, device_elems, NULL);
