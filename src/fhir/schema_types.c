/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schema tables of the FHIR R4 (4.0.1) primitive types and the general
 * purpose datatypes our resources use (Extension, Meta, Narrative,
 * Identifier, HumanName, ContactPoint, Address, Coding, CodeableConcept,
 * the Quantity family, Range, Ratio, Period, Reference, Attachment,
 * Annotation, SampledData, Timing, Money, Signature), with the required
 * bindings of their coded elements. Written from the specification's
 * datatype pages; implicit id/extension are added by the walker.
 */
#include "fhir_validate_int.h"

/* ---- primitives -------------------------------------------------------- */

#define PRIM(n, p)                                                             \
  const struct mv__fhir_type mv__ft_##n = {                                    \
      .name = #n, .kind = MV__FK_PRIMITIVE, .prim = (p)}

PRIM(boolean, MV__FP_BOOLEAN);
PRIM(integer, MV__FP_INTEGER);
PRIM(positiveInt, MV__FP_POSITIVEINT);
PRIM(unsignedInt, MV__FP_UNSIGNEDINT);
PRIM(decimal, MV__FP_DECIMAL);
PRIM(string, MV__FP_STRING);
PRIM(markdown, MV__FP_MARKDOWN);
PRIM(code, MV__FP_CODE);
PRIM(id, MV__FP_ID);
PRIM(uri, MV__FP_URI);
PRIM(url, MV__FP_URL);
PRIM(canonical, MV__FP_CANONICAL);
PRIM(base64Binary, MV__FP_BASE64);
PRIM(date, MV__FP_DATE);
PRIM(dateTime, MV__FP_DATETIME);
PRIM(instant, MV__FP_INSTANT);
PRIM(time, MV__FP_TIME);
PRIM(oid, MV__FP_OID);
PRIM(uuid, MV__FP_UUID);
PRIM(xhtml, MV__FP_XHTML);

/* The abstract Resource: any resource, dispatched on its resourceType. */
const struct mv__fhir_type mv__ft_Resource = {.name = "Resource",
                                              .kind = MV__FK_ANY};

/* Element: what "_name" holds next to a primitive (id and extension). */
const struct mv__fhir_type mv__ft_Element = {.name = "Element",
                                             .kind = MV__FK_COMPLEX};

/* ---- value sets (required bindings) ------------------------------------ */

MV__VS(vs_identifier_use, NULL, "usual", "official", "temp", "secondary",
       "old");
MV__VS(vs_name_use, NULL, "usual", "official", "temp", "nickname", "anonymous",
       "old", "maiden");
MV__VS(vs_contact_system, NULL, "phone", "fax", "email", "pager", "url", "sms",
       "other");
MV__VS(vs_contact_use, NULL, "home", "work", "temp", "old", "mobile");
MV__VS(vs_address_use, NULL, "home", "work", "temp", "old", "billing");
MV__VS(vs_address_type, NULL, "postal", "physical", "both");
MV__VS(vs_narrative_status, NULL, "generated", "extensions", "additional",
       "empty");
MV__VS(vs_comparator, NULL, "<", "<=", ">=", ">");
MV__VS(vs_units_of_time, NULL, "s", "min", "h", "d", "wk", "mo", "a");
MV__VS(vs_days_of_week, NULL, "mon", "tue", "wed", "thu", "fri", "sat", "sun");
MV__VS(vs_event_timing, NULL, "MORN", "MORN.early", "MORN.late", "NOON", "AFT",
       "AFT.early", "AFT.late", "EVE", "EVE.early", "EVE.late", "NIGHT", "PHS",
       "HS", "WAKE", "C", "CM", "CD", "CV", "AC", "ACM", "ACD", "ACV", "PC",
       "PCM", "PCD", "PCV");

/* ---- Extension --------------------------------------------------------- */

/* Extension.value[x]: the R4 open type list, limited to the datatypes
 * defined here (others are reported as unknown elements). */
static const struct mv__fhir_type *const extension_values[] = {
    &mv__ft_base64Binary, &mv__ft_boolean,      &mv__ft_canonical,
    &mv__ft_code,         &mv__ft_date,         &mv__ft_dateTime,
    &mv__ft_decimal,      &mv__ft_id,           &mv__ft_instant,
    &mv__ft_integer,      &mv__ft_markdown,     &mv__ft_oid,
    &mv__ft_positiveInt,  &mv__ft_string,       &mv__ft_time,
    &mv__ft_unsignedInt,  &mv__ft_uri,          &mv__ft_url,
    &mv__ft_uuid,         &mv__ft_Address,      &mv__ft_Age,
    &mv__ft_Annotation,   &mv__ft_Attachment,   &mv__ft_CodeableConcept,
    &mv__ft_Coding,       &mv__ft_ContactPoint, &mv__ft_Count,
    &mv__ft_Distance,     &mv__ft_Duration,     &mv__ft_HumanName,
    &mv__ft_Identifier,   &mv__ft_Money,        &mv__ft_Period,
    &mv__ft_Quantity,     &mv__ft_Range,        &mv__ft_Ratio,
    &mv__ft_Reference,    &mv__ft_SampledData,  &mv__ft_Signature,
    &mv__ft_Timing,       &mv__ft_Meta,         NULL,
};

static const struct mv__fhir_elem extension_elems[] = {
    MV__REQ("url", uri),
    MV__CHOICE("value", extension_values, 0),
};
const struct mv__fhir_type mv__ft_Extension = MV__TYPE(
    "Extension", MV__FK_COMPLEX, extension_elems, mv__fhir_check_extension);

/* ---- Meta, Narrative --------------------------------------------------- */

static const struct mv__fhir_elem meta_elems[] = {
    MV__OPT("versionId", id),     MV__OPT("lastUpdated", instant),
    MV__OPT("source", uri),       MV__LIST("profile", canonical),
    MV__LIST("security", Coding), MV__LIST("tag", Coding),
};
const struct mv__fhir_type mv__ft_Meta =
    MV__TYPE("Meta", MV__FK_COMPLEX, meta_elems, NULL);

static const struct mv__fhir_elem narrative_elems[] = {
    MV__REQ_VS("status", code, vs_narrative_status),
    MV__REQ("div", xhtml),
};
const struct mv__fhir_type mv__ft_Narrative =
    MV__TYPE("Narrative", MV__FK_COMPLEX, narrative_elems, NULL);

/* ---- identification and contact ---------------------------------------- */

static const struct mv__fhir_elem identifier_elems[] = {
    MV__OPT_VS("use", code, vs_identifier_use),
    MV__OPT("type", CodeableConcept),
    MV__OPT("system", uri),
    MV__OPT("value", string),
    MV__OPT("period", Period),
    MV__OPT("assigner", Reference),
};
const struct mv__fhir_type mv__ft_Identifier =
    MV__TYPE("Identifier", MV__FK_COMPLEX, identifier_elems, NULL);

static const struct mv__fhir_elem human_name_elems[] = {
    MV__OPT_VS("use", code, vs_name_use),
    MV__OPT("text", string),
    MV__OPT("family", string),
    MV__LIST("given", string),
    MV__LIST("prefix", string),
    MV__LIST("suffix", string),
    MV__OPT("period", Period),
};
const struct mv__fhir_type mv__ft_HumanName =
    MV__TYPE("HumanName", MV__FK_COMPLEX, human_name_elems, NULL);

static const struct mv__fhir_elem contact_point_elems[] = {
    MV__OPT_VS("system", code, vs_contact_system),
    MV__OPT("value", string),
    MV__OPT_VS("use", code, vs_contact_use),
    MV__OPT("rank", positiveInt),
    MV__OPT("period", Period),
};
const struct mv__fhir_type mv__ft_ContactPoint =
    MV__TYPE("ContactPoint", MV__FK_COMPLEX, contact_point_elems, NULL);

static const struct mv__fhir_elem address_elems[] = {
    MV__OPT_VS("use", code, vs_address_use),
    MV__OPT_VS("type", code, vs_address_type),
    MV__OPT("text", string),
    MV__LIST("line", string),
    MV__OPT("city", string),
    MV__OPT("district", string),
    MV__OPT("state", string),
    MV__OPT("postalCode", string),
    MV__OPT("country", string),
    MV__OPT("period", Period),
};
const struct mv__fhir_type mv__ft_Address =
    MV__TYPE("Address", MV__FK_COMPLEX, address_elems, NULL);

/* ---- codes -------------------------------------------------------------- */

static const struct mv__fhir_elem coding_elems[] = {
    MV__OPT("system", uri),
    MV__OPT("version", string),
    MV__OPT("code", code),
    MV__OPT("display", string),
    MV__OPT("userSelected", boolean),
};
const struct mv__fhir_type mv__ft_Coding =
    MV__TYPE("Coding", MV__FK_COMPLEX, coding_elems, NULL);

static const struct mv__fhir_elem codeable_concept_elems[] = {
    MV__LIST("coding", Coding),
    MV__OPT("text", string),
};
const struct mv__fhir_type mv__ft_CodeableConcept =
    MV__TYPE("CodeableConcept", MV__FK_COMPLEX, codeable_concept_elems, NULL);

/* ---- quantities --------------------------------------------------------- */

static const struct mv__fhir_elem quantity_elems[] = {
    MV__OPT("value", decimal), MV__OPT_VS("comparator", code, vs_comparator),
    MV__OPT("unit", string),   MV__OPT("system", uri),
    MV__OPT("code", code),
};
const struct mv__fhir_type mv__ft_Quantity = MV__TYPE(
    "Quantity", MV__FK_COMPLEX, quantity_elems, mv__fhir_check_quantity);
/* SimpleQuantity is a Quantity without comparator (sqty-1). */
const struct mv__fhir_type mv__ft_SimpleQuantity =
    MV__TYPE("SimpleQuantity", MV__FK_COMPLEX, quantity_elems,
             mv__fhir_check_simple_quantity);
/* Age, Count, Distance, Duration: Quantity profiles; their UCUM-specific
 * invariants are not checked. */
const struct mv__fhir_type mv__ft_Age =
    MV__TYPE("Age", MV__FK_COMPLEX, quantity_elems, mv__fhir_check_quantity);
const struct mv__fhir_type mv__ft_Count =
    MV__TYPE("Count", MV__FK_COMPLEX, quantity_elems, mv__fhir_check_quantity);
const struct mv__fhir_type mv__ft_Distance = MV__TYPE(
    "Distance", MV__FK_COMPLEX, quantity_elems, mv__fhir_check_quantity);
const struct mv__fhir_type mv__ft_Duration = MV__TYPE(
    "Duration", MV__FK_COMPLEX, quantity_elems, mv__fhir_check_quantity);

static const struct mv__fhir_elem money_elems[] = {
    MV__OPT("value", decimal),
    MV__OPT("currency", code),
};
const struct mv__fhir_type mv__ft_Money =
    MV__TYPE("Money", MV__FK_COMPLEX, money_elems, NULL);

static const struct mv__fhir_elem range_elems[] = {
    MV__OPT("low", SimpleQuantity),
    MV__OPT("high", SimpleQuantity),
};
const struct mv__fhir_type mv__ft_Range =
    MV__TYPE("Range", MV__FK_COMPLEX, range_elems, NULL);

static const struct mv__fhir_elem ratio_elems[] = {
    MV__OPT("numerator", Quantity),
    MV__OPT("denominator", Quantity),
};
const struct mv__fhir_type mv__ft_Ratio =
    MV__TYPE("Ratio", MV__FK_COMPLEX, ratio_elems, NULL);

static const struct mv__fhir_elem sampled_data_elems[] = {
    MV__REQ("origin", SimpleQuantity), MV__REQ("period", decimal),
    MV__OPT("factor", decimal),        MV__OPT("lowerLimit", decimal),
    MV__OPT("upperLimit", decimal),    MV__REQ("dimensions", positiveInt),
    MV__OPT("data", string),
};
const struct mv__fhir_type mv__ft_SampledData =
    MV__TYPE("SampledData", MV__FK_COMPLEX, sampled_data_elems,
             mv__fhir_check_sampled_data);

/* ---- time --------------------------------------------------------------- */

static const struct mv__fhir_elem period_elems[] = {
    MV__OPT("start", dateTime),
    MV__OPT("end", dateTime),
};
const struct mv__fhir_type mv__ft_Period =
    MV__TYPE("Period", MV__FK_COMPLEX, period_elems, mv__fhir_check_period);

static const struct mv__fhir_type *const timing_bounds[] = {
    &mv__ft_Duration, &mv__ft_Range, &mv__ft_Period, NULL};

static const struct mv__fhir_elem timing_repeat_elems[] = {
    MV__CHOICE("bounds", timing_bounds, 0),
    MV__OPT("count", positiveInt),
    MV__OPT("countMax", positiveInt),
    MV__OPT("duration", decimal),
    MV__OPT("durationMax", decimal),
    MV__OPT_VS("durationUnit", code, vs_units_of_time),
    MV__OPT("frequency", positiveInt),
    MV__OPT("frequencyMax", positiveInt),
    MV__OPT("period", decimal),
    MV__OPT("periodMax", decimal),
    MV__OPT_VS("periodUnit", code, vs_units_of_time),
    MV__LIST_VS("dayOfWeek", code, vs_days_of_week),
    MV__LIST("timeOfDay", time),
    MV__LIST_VS("when", code, vs_event_timing),
    MV__OPT("offset", unsignedInt),
};
static const struct mv__fhir_type timing_repeat =
    MV__TYPE("Element", MV__FK_COMPLEX, timing_repeat_elems, NULL);

static const struct mv__fhir_elem timing_elems[] = {
    MV__LIST("event", dateTime),
    MV__OPT_T("repeat", timing_repeat),
    MV__OPT("code", CodeableConcept),
};
/* Timing is a BackboneElement-derived datatype (has modifierExtension). */
const struct mv__fhir_type mv__ft_Timing =
    MV__TYPE("Timing", MV__FK_BACKBONE, timing_elems, NULL);

/* ---- references and content --------------------------------------------- */

static const struct mv__fhir_elem reference_elems[] = {
    MV__OPT("reference", string),
    MV__OPT("type", uri),
    MV__OPT("identifier", Identifier),
    MV__OPT("display", string),
};
const struct mv__fhir_type mv__ft_Reference = MV__TYPE(
    "Reference", MV__FK_COMPLEX, reference_elems, mv__fhir_check_reference);

static const struct mv__fhir_elem attachment_elems[] = {
    MV__OPT("contentType", code),  MV__OPT("language", code),
    MV__OPT("data", base64Binary), MV__OPT("url", url),
    MV__OPT("size", unsignedInt),  MV__OPT("hash", base64Binary),
    MV__OPT("title", string),      MV__OPT("creation", dateTime),
};
const struct mv__fhir_type mv__ft_Attachment =
    MV__TYPE("Attachment", MV__FK_COMPLEX, attachment_elems, NULL);

static const struct mv__fhir_type *const annotation_authors[] = {
    &mv__ft_Reference, &mv__ft_string, NULL};

static const struct mv__fhir_elem annotation_elems[] = {
    MV__CHOICE("author", annotation_authors, 0),
    MV__OPT("time", dateTime),
    MV__REQ("text", markdown),
};
const struct mv__fhir_type mv__ft_Annotation =
    MV__TYPE("Annotation", MV__FK_COMPLEX, annotation_elems, NULL);

static const struct mv__fhir_elem signature_elems[] = {
    MV__LIST1("type", Coding),     MV__REQ("when", instant),
    MV__REQ("who", Reference),     MV__OPT("onBehalfOf", Reference),
    MV__OPT("targetFormat", code), MV__OPT("sigFormat", code),
    MV__OPT("data", base64Binary),
};
const struct mv__fhir_type mv__ft_Signature =
    MV__TYPE("Signature", MV__FK_COMPLEX, signature_elems, NULL);
