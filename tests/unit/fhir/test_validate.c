/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for mv_fhir_validate() (src/fhir/validate*.c, schema_*.c): a
 * valid example of every served type passes; each rule (unknown element,
 * JSON type, cardinality, empty values, primitive formats, value sets,
 * invariants, Bundle rules) fails with the expected IssueType code at the
 * exact FHIRPath; diagnostics never echo input. The vital-signs profile is
 * tested in test_validate_vitals.c.
 * JSON is written with single quotes (turned into double quotes) to keep
 * the examples readable.
 */
#include "validate_fx.h"

/* ---- examples ---------------------------------------------------------- */

static const char patient[] =
    "{'resourceType':'Patient','id':'p1',"
    "'meta':{'versionId':'1','lastUpdated':'2024-03-01T10:00:00.000Z'},"
    "'text':{'status':'generated','div':'<div>Example patient</div>'},"
    "'identifier':[{'use':'official','system':'urn:oid:1.2.3.4',"
    "'value':'12345'}],'active':true,"
    "'name':[{'use':'official','family':'Zyxwvut','given':['Anna','Maria']}],"
    "'telecom':[{'system':'phone','value':'+41 44 000 00 00','use':'mobile',"
    "'rank':1}],'gender':'female','birthDate':'1980-04-02',"
    "'_birthDate':{'extension':[{'url':"
    "'http://hl7.org/fhir/StructureDefinition/patient-birthTime',"
    "'valueDateTime':'1980-04-02T10:15:00+01:00'}]},"
    "'deceasedBoolean':false,"
    "'address':[{'use':'home','type':'both','line':['Street 1'],"
    "'city':'Zurich','postalCode':'8000','country':'CH'}],"
    "'maritalStatus':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus','code':'M'}]},"
    "'multipleBirthInteger':1,"
    "'contact':[{'relationship':[{'text':'sister'}],'name':{'family':'Doe'},"
    "'gender':'female'}],"
    "'communication':[{'language':{'coding':[{'system':'urn:ietf:bcp:47',"
    "'code':'de-CH'}]},'preferred':true}],"
    "'generalPractitioner':[{'reference':'Practitioner/dr1'}],"
    "'managingOrganization':{'reference':'Organization/org1',"
    "'display':'Clinic'}}";

static const char practitioner[] =
    "{'resourceType':'Practitioner','id':'dr1','identifier':[{'system':"
    "'http://example.org/gln','value':'7601000000000'}],'active':true,"
    "'name':[{'family':'House','given':['Greg'],'prefix':['Dr.']}],"
    "'telecom':[{'system':'email','value':'house@example.org','use':'work'}],"
    "'gender':'male','qualification':[{'code':{'text':'MD'},"
    "'period':{'start':'2000-01-01'}}]}";

static const char care_team[] =
    "{'resourceType':'CareTeam','id':'ct1','status':'active',"
    "'name':'Cardiology','subject':{'reference':'Patient/p1'},"
    "'period':{'start':'2024-01-01','end':'2024-12-31'},"
    "'participant':[{'role':[{'text':'attending'}],"
    "'member':{'reference':'Practitioner/dr1'}}],"
    "'managingOrganization':[{'reference':'Organization/org1'}]}";

static const char device[] =
    "{'resourceType':'Device','id':'dev1','identifier':[{'system':"
    "'urn:ietf:rfc:3986','value':"
    "'urn:uuid:1c7b6e3e-4b2f-4f4e-9d3c-0a9c2f7b1e11'}],"
    "'udiCarrier':[{'deviceIdentifier':'00844588003288',"
    "'carrierHRF':'(01)00844588003288','entryType':'barcode'}],"
    "'status':'active','manufacturer':'Acme',"
    "'deviceName':[{'name':'Pulse oximeter','type':'user-friendly-name'}],"
    "'type':{'coding':[{'system':'http://snomed.info/sct',"
    "'code':'448703006'}]},'version':[{'value':'1.2'}],"
    "'property':[{'type':{'text':'sampling rate'},'valueQuantity':[{"
    "'value':250,'unit':'Hz','system':'http://unitsofmeasure.org',"
    "'code':'Hz'}]}],'patient':{'reference':'Patient/p1'}}";

static const char encounter[] =
    "{'resourceType':'Encounter','id':'e1','status':'finished',"
    "'class':{'system':'http://terminology.hl7.org/CodeSystem/v3-ActCode',"
    "'code':'AMB'},'type':[{'text':'checkup'}],"
    "'subject':{'reference':'Patient/p1'},"
    "'participant':[{'individual':{'reference':'Practitioner/dr1'}}],"
    "'period':{'start':'2024-03-01T09:00:00+01:00',"
    "'end':'2024-03-01T09:30:00+01:00'},"
    "'length':{'value':30,'unit':'min','system':'http://unitsofmeasure.org',"
    "'code':'min'},'diagnosis':[{'condition':{'reference':'Condition/c1'},"
    "'rank':1}],'hospitalization':{'dischargeDisposition':{'text':'home'}},"
    "'location':[{'location':{'reference':'Location/l1'},"
    "'status':'completed'}]}";

static const char condition[] =
    "{'resourceType':'Condition','id':'c1',"
    "'clinicalStatus':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/condition-clinical',"
    "'code':'active'}]},"
    "'verificationStatus':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/condition-ver-status',"
    "'code':'confirmed'}]},"
    "'category':[{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/condition-category',"
    "'code':'problem-list-item'}]}],"
    "'code':{'coding':[{'system':'http://snomed.info/sct',"
    "'code':'38341003'}],'text':'Hypertension'},"
    "'subject':{'reference':'Patient/p1'},'onsetDateTime':'2019',"
    "'recordedDate':'2019-05-02','note':[{'text':'stable',"
    "'time':'2024-01-01'}]}";

static const char report[] =
    "{'resourceType':'DiagnosticReport','id':'rep-1','status':'final',"
    "'category':[{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/v2-0074','code':'LAB'}]}],"
    "'code':{'coding':[{'system':'http://loinc.org','code':'58410-2'}]},"
    "'subject':{'reference':'Patient/p1'},"
    "'effectivePeriod':{'start':'2024-03-01T08:00:00Z'},"
    "'issued':'2024-03-01T12:00:00.123+01:00',"
    "'result':[{'reference':'Observation/hr1'}],'conclusion':'normal',"
    "'presentedForm':[{'contentType':'text/plain','data':'bm9ybWFs'}]}";

static const char flag[] =
    "{'resourceType':'Flag','id':'f1','status':'active',"
    "'category':[{'text':'clinical'}],'code':{'text':'fall risk'},"
    "'subject':{'reference':'Patient/p1'},'period':{'start':'2024-03-01'},"
    "'author':{'reference':'Practitioner/dr1'}}";

static const char communication[] =
    "{'resourceType':'Communication','id':'m1','status':'completed',"
    "'priority':'routine','subject':{'reference':'Patient/p1'},"
    "'sent':'2024-03-01T10:00:00Z',"
    "'recipient':[{'reference':'Practitioner/dr1'}],"
    "'sender':{'reference':'Patient/p1'},"
    "'payload':[{'contentString':'hello'},{'contentAttachment':{"
    "'contentType':'image/png','url':'https://example.org/x.png',"
    "'size':10}}]}";

static const char appointment[] =
    "{'resourceType':'Appointment','id':'a1','status':'booked',"
    "'serviceType':[{'text':'checkup'}],'description':'yearly',"
    "'start':'2024-04-01T09:00:00Z','end':'2024-04-01T09:30:00Z',"
    "'minutesDuration':30,'participant':[{'actor':{'reference':"
    "'Patient/p1'},'required':'required','status':'accepted'},"
    "{'actor':{'reference':'Practitioner/dr1'},'status':'tentative'}]}";

static const char consent[] =
    "{'resourceType':'Consent','id':'cs1','status':'active',"
    "'scope':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/consentscope',"
    "'code':'patient-privacy'}]},"
    "'category':[{'coding':[{'system':'http://loinc.org',"
    "'code':'59284-0'}]}],'patient':{'reference':'Patient/p1'},"
    "'dateTime':'2024-01-01','policyRule':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/v3-ActCode','code':'OPTIN'}]},"
    "'provision':{'type':'permit','provision':[{'type':'deny',"
    "'actor':[{'role':{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',"
    "'code':'PRCP'}]},'reference':{'reference':'Practitioner/dr2'}}]}]}}";

static const char audit_event[] =
    "{'resourceType':'AuditEvent','id':'ae1','type':{'system':"
    "'http://terminology.hl7.org/CodeSystem/audit-event-type',"
    "'code':'rest'},'subtype':[{'system':"
    "'http://hl7.org/fhir/restful-interaction','code':'read'}],"
    "'action':'R','recorded':'2024-03-01T10:00:00.000Z','outcome':'0',"
    "'agent':[{'who':{'reference':'Practitioner/dr1'},'requestor':true,"
    "'network':{'address':'127.0.0.1','type':'2'}}],"
    "'source':{'observer':{'display':'medverse'}},"
    "'entity':[{'what':{'reference':'Patient/p1'},'type':{'system':"
    "'http://terminology.hl7.org/CodeSystem/audit-entity-type',"
    "'code':'1'}}]}";

static const char heart_rate[] = HR_OBS;

static const char transaction[] =
    "{'resourceType':'Bundle','type':'transaction','entry':["
    "{'fullUrl':'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a',"
    "'resource':{'resourceType':'Patient','name':[{'family':'Doe'}]},"
    "'request':{'method':'POST','url':'Patient'}},"
    "{'fullUrl':'urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059',"
    "'resource':{'resourceType':'Observation','status':'final',"
    "'code':{'text':'note'},'subject':{'reference':"
    "'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'},"
    "'valueString':'ok'},"
    "'request':{'method':'POST','url':'Observation'}},"
    "{'request':{'method':'DELETE','url':'Flag/f1'}}]}";

/* ---- valid resources --------------------------------------------------- */

static void every_served_type_has_a_valid_example(void **state) {
  (void)state;
  const char *examples[] = {patient,     practitioner,  care_team,   device,
                            heart_rate,  encounter,     condition,   report,
                            flag,        communication, appointment, consent,
                            audit_event, transaction};
  for (size_t i = 0; i < MV_ARRAY_LEN(examples); i++)
    assert_valid(examples[i]);
  /* ... and each type is covered. */
  size_t n = 0;
  const char *const *types = mv_fhir_types(&n);
  for (size_t i = 0; i < n; i++) {
    bool seen = false;
    for (size_t k = 0; k < MV_ARRAY_LEN(examples); k++) {
      char needle[64];
      snprintf(needle, sizeof(needle), "{'resourceType':'%s'", types[i]);
      seen |= strncmp(examples[k], needle, strlen(needle)) == 0;
    }
    assert_true(seen);
  }
}

static void expected_type_must_match_resource_type(void **state) {
  (void)state;
  struct mv_fhir_outcome o;
  struct json_object *obj = parse(patient);
  assert_int_equal(run(obj, "Patient", &o), MV_OK);
  assert_int_equal(run(obj, "Observation", &o), MV_EINVAL);
  assert_issue(&o, "invalid", "resourceType");
  json_object_put(obj);
}

static void unknown_resource_type_is_unsupported(void **state) {
  (void)state;
  struct mv_fhir_outcome o;
  struct json_object *obj = parse("{'resourceType':'Medication'}");
  assert_int_equal(run(obj, NULL, &o), MV_EUNSUPPORTED);
  assert_issue(&o, "not-supported", "resourceType");
  json_object_put(obj);
  obj = parse("{'id':'x'}");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_issue(&o, "required", "resourceType");
  json_object_put(obj);
  obj = parse("[1]");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  json_object_put(obj);
  assert_int_equal(run(NULL, NULL, &o), MV_EINVAL);
  assert_int_equal(mv_fhir_validate(NULL, NULL, NULL), MV_EINVAL);
}

/* ---- structure ---------------------------------------------------------- */

static void unknown_elements_are_rejected_at_their_path(void **state) {
  (void)state;
  assert_member_fails(patient, "foo", "1", "structure", "Patient.foo");
  assert_member_fails(patient, "name/0/nickname", "'x'", "structure",
                      "Patient.name[0].nickname");
  /* A choice base alone, or with a type it does not allow. */
  assert_member_fails(heart_rate, "value", "1", "structure",
                      "Observation.value");
  assert_member_fails(heart_rate, "effectiveString", "'x'", "structure",
                      "Observation.effectiveString");
  /* "_x" only exists next to primitives. */
  assert_member_fails(patient, "_name", "{'id':'a'}", "structure",
                      "Patient._name");
  /* Bundle is a Resource, not a DomainResource: no text. */
  assert_member_fails(transaction, "text",
                      "{'status':'empty','div':'<div>x</div>'}", "structure",
                      "Bundle.text");
}

static void wrong_json_types_are_structure_errors(void **state) {
  (void)state;
  assert_member_fails(patient, "active", "'yes'", "structure",
                      "Patient.active");
  assert_member_fails(patient, "birthDate", "19800402", "structure",
                      "Patient.birthDate");
  assert_member_fails(patient, "maritalStatus", "'M'", "structure",
                      "Patient.maritalStatus");
  assert_member_fails(patient, "telecom/0/rank", "'1'", "structure",
                      "Patient.telecom[0].rank");
}

static void cardinality_is_checked(void **state) {
  (void)state;
  /* max * must be an array, max 1 must not. */
  assert_member_fails(patient, "name", "{'family':'Doe'}", "structure",
                      "Patient.name");
  assert_member_fails(patient, "gender", "['female']", "structure",
                      "Patient.gender");
  /* min 1 */
  struct json_object *obj = parse(heart_rate);
  json_object_object_del(obj, "status");
  assert_fails_obj(obj, "required", "Observation.status");
  json_object_put(obj);
  obj = parse(appointment);
  json_object_object_del(obj, "participant");
  assert_fails_obj(obj, "required", "Appointment.participant");
  json_object_put(obj);
  assert_member_fails(communication, "payload/0", "{'id':'x'}", "required",
                      "Communication.payload[0].content");
  /* Two types of one choice. */
  assert_member_fails(heart_rate, "valueString", "'72'", "structure",
                      "Observation.valueString");
}

static void empty_and_null_values_are_rejected(void **state) {
  (void)state;
  assert_member_fails(patient, "name/0/given/1", "''", "value",
                      "Patient.name[0].given[1]");
  assert_member_fails(patient, "identifier", "[]", "value",
                      "Patient.identifier");
  assert_member_fails(patient, "maritalStatus", "{}", "value",
                      "Patient.maritalStatus");
  assert_member_fails(patient, "gender", NULL, "value", "Patient.gender");
  assert_member_fails(patient, "name/0/given/0", NULL, "value",
                      "Patient.name[0].given[0]");
  assert_member_fails(patient, "name/0/family", "'   '", "value",
                      "Patient.name[0].family");
}

static void primitive_extensions_are_accepted(void **state) {
  (void)state;
  /* Single value with extension, value absent but extension present,
   * and arrays aligned with null. */
  assert_valid(patient);
  assert_valid("{'resourceType':'Patient','_gender':{'extension':[{'url':"
               "'http://hl7.org/fhir/StructureDefinition/data-absent-reason',"
               "'valueCode':'unknown'}]},"
               "'name':[{'given':['Anna',null],'_given':[null,{'id':'g2',"
               "'extension':[{'url':'http://example.org/ext','valueString':"
               "'B'}]}]}]}");
  /* Required element given only as an extension. */
  assert_valid("{'resourceType':'Flag','_status':{'extension':[{'url':"
               "'http://example.org/e','valueBoolean':true}]},"
               "'code':{'text':'x'},'subject':{'reference':'Patient/p1'}}");
  assert_fails("{'resourceType':'Patient','name':[{'given':['A','B'],"
               "'_given':[null]}]}",
               "structure", "Patient.name[0]._given");
  assert_fails("{'resourceType':'Patient','name':[{'given':['A',null],"
               "'_given':[null,null]}]}",
               "value", "Patient.name[0]._given[1]");
  assert_fails("{'resourceType':'Patient','_gender':{'foo':1}}", "structure",
               "Patient._gender.foo");
}

static void extensions_need_url_and_value_or_extensions(void **state) {
  (void)state;
  assert_member_fails(patient, "extension", "[{'url':'http://x.org/e'}]",
                      "invariant", "Patient.extension[0]");
  assert_member_fails(patient, "extension", "[{'valueString':'x'}]", "required",
                      "Patient.extension[0].url");
  assert_member_fails(patient, "extension",
                      "[{'url':'http://x.org/e','valueString':'a',"
                      "'extension':[{'url':'b','valueString':'c'}]}]",
                      "invariant", "Patient.extension[0]");
  assert_member_fails(patient, "modifierExtension",
                      "[{'url':'http://x.org/e','valueFoo':'a'}]", "structure",
                      "Patient.modifierExtension[0].valueFoo");
}

static void contained_resources_are_validated(void **state) {
  (void)state;
  assert_valid("{'resourceType':'Observation','status':'final','code':{"
               "'text':'x'},'contained':[{'resourceType':'Practitioner',"
               "'id':'pr'}],'performer':[{'reference':'#pr'}]}");
  assert_fails("{'resourceType':'Observation','status':'final','code':{"
               "'text':'x'},'contained':[{'resourceType':'Practitioner',"
               "'id':'pr','gender':'x'}]}",
               "code-invalid", "Observation.contained[0].gender");
  assert_fails("{'resourceType':'Observation','status':'final','code':{"
               "'text':'x'},'contained':[{'resourceType':'Practitioner',"
               "'id':'pr','contained':[{'resourceType':'Flag'}]}]}",
               "invariant", "Observation.contained[0].contained[0]");
  assert_fails("{'resourceType':'Observation','status':'final','code':{"
               "'text':'x'},'contained':[{'resourceType':'Medication'}]}",
               "not-supported", "Observation.contained[0].resourceType");
}

/* ---- primitive formats --------------------------------------------------- */

static void primitive_formats_are_checked(void **state) {
  (void)state;
  assert_member_fails(patient, "birthDate", "'1980-13-01'", "value",
                      "Patient.birthDate");
  assert_member_fails(patient, "birthDate", "'1980-02-30'", "value",
                      "Patient.birthDate");
  assert_member_fails(patient, "meta/lastUpdated", "'2024-03-01'", "value",
                      "Patient.meta.lastUpdated");
  assert_member_fails(patient, "id", "'a b'", "value", "Patient.id");
  assert_member_fails(patient, "identifier/0/system", "'urn:a b'", "value",
                      "Patient.identifier[0].system");
  assert_member_fails(patient, "identifier/0/use", "'official '", "value",
                      "Patient.identifier[0].use");
  assert_member_fails(report, "presentedForm/0/data", "'bm9y*'", "value",
                      "DiagnosticReport.presentedForm[0].data");
  assert_member_fails(report, "presentedForm/0/data", "'bm9=ybWFs'", "value",
                      "DiagnosticReport.presentedForm[0].data");
  assert_member_fails(heart_rate, "valueTime", "'25:00:00'", "structure",
                      "Observation.valueTime");
  assert_member_fails(patient, "text/div", "'plain text'", "value",
                      "Patient.text.div");
  assert_member_fails(patient, "extension",
                      "[{'url':'http://x.org/e','valueOid':'urn:oid:1.02'}]",
                      "value", "Patient.extension[0].valueOid");
  assert_member_fails(patient, "extension",
                      "[{'url':'http://x.org/e','valueUuid':'urn:uuid:1-2'}]",
                      "value", "Patient.extension[0].valueUuid");
  assert_valid(
      "{'resourceType':'Patient','extension':[{'url':'http://x.org/"
      "e','valueOid':'urn:oid:2.16.756'},{'url':'http://x.org/f',"
      "'valueUuid':'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'}]}");
  struct json_object *obj = parse("{'resourceType':'Observation',"
                                  "'status':'final','code':{'text':'t'},"
                                  "'valueTime':'23:59:60.5'}");
  assert_valid_obj(obj);
  json_object_object_add(obj, "valueTime", json_object_new_string("24:00:00"));
  assert_fails_obj(obj, "value", "Observation.valueTime");
  json_object_put(obj);
}

static void integers_and_decimals_follow_their_ranges(void **state) {
  (void)state;
  assert_member_fails(patient, "multipleBirthInteger", "1.5", "value",
                      "Patient.multipleBirthInteger");
  assert_member_fails(patient, "multipleBirthInteger", "1e2", "value",
                      "Patient.multipleBirthInteger");
  assert_member_fails(patient, "multipleBirthInteger", "2147483648", "value",
                      "Patient.multipleBirthInteger");
  assert_member_fails(patient, "multipleBirthInteger",
                      "123456789012345678901234567890", "value",
                      "Patient.multipleBirthInteger");
  assert_member_fails(patient, "telecom/0/rank", "0", "value",
                      "Patient.telecom[0].rank");
  assert_member_fails(communication, "payload/1/contentAttachment/size", "-1",
                      "value",
                      "Communication.payload[1].contentAttachment.size");
  struct json_object *obj = parse(patient);
  json_object_object_add(obj, "multipleBirthInteger",
                         json_object_new_int(-2147483647 - 1));
  assert_valid_obj(obj);
  json_object_put(obj);
  /* Decimals: any JSON number, kept exactly; 37.10 stays valid. */
  assert_valid("{'resourceType':'Observation','status':'final','code':{"
               "'text':'t'},'valueQuantity':{'value':37.10}}");
  assert_valid("{'resourceType':'Observation','status':'final','code':{"
               "'text':'t'},'valueQuantity':{'value':-1.5e-3}}");
  assert_fails("{'resourceType':'Observation','status':'final','code':{"
               "'text':'t'},'valueQuantity':{'value':'37.1'}}",
               "structure", "Observation.valueQuantity.value");
}

/* ---- value sets ---------------------------------------------------------- */

static void required_value_sets_are_enforced(void **state) {
  (void)state;
  assert_member_fails(patient, "gender", "'woman'", "code-invalid",
                      "Patient.gender");
  assert_member_fails(heart_rate, "status", "'done'", "code-invalid",
                      "Observation.status");
  assert_member_fails(encounter, "status", "'open'", "code-invalid",
                      "Encounter.status");
  assert_member_fails(flag, "status", "'on'", "code-invalid", "Flag.status");
  assert_member_fails(communication, "status", "'sent'", "code-invalid",
                      "Communication.status");
  assert_member_fails(appointment, "participant/1/status", "'maybe'",
                      "code-invalid", "Appointment.participant[1].status");
  assert_member_fails(consent, "status", "'valid'", "code-invalid",
                      "Consent.status");
  assert_member_fails(care_team, "status", "'on'", "code-invalid",
                      "CareTeam.status");
  assert_member_fails(device, "status", "'on'", "code-invalid",
                      "Device.status");
  assert_member_fails(report, "status", "'done'", "code-invalid",
                      "DiagnosticReport.status");
  assert_member_fails(audit_event, "action", "'X'", "code-invalid",
                      "AuditEvent.action");
  assert_member_fails(audit_event, "outcome", "'1'", "code-invalid",
                      "AuditEvent.outcome");
  assert_member_fails(transaction, "type", "'bag'", "code-invalid",
                      "Bundle.type");
  assert_member_fails(transaction, "entry/0/request/method", "'GOT'",
                      "code-invalid", "Bundle.entry[0].request.method");
  assert_member_fails(patient, "name/0/use", "'formal'", "code-invalid",
                      "Patient.name[0].use");
  assert_member_fails(patient, "telecom/0/system", "'telex'", "code-invalid",
                      "Patient.telecom[0].system");
  assert_member_fails(patient, "address/0/type", "'virtual'", "code-invalid",
                      "Patient.address[0].type");
  assert_member_fails(patient, "text/status", "'done'", "code-invalid",
                      "Patient.text.status");
  assert_member_fails(heart_rate, "valueQuantity/comparator", "'=='",
                      "code-invalid", "Observation.valueQuantity.comparator");
}

static void condition_status_codes_are_checked_in_their_system(void **state) {
  (void)state;
  assert_member_fails(condition, "clinicalStatus/coding/0/code", "'ongoing'",
                      "code-invalid",
                      "Condition.clinicalStatus.coding[0].code");
  /* Codes of another system are not judged, but one from the required
   * system must be there. */
  assert_member_fails(condition, "verificationStatus",
                      "{'coding':[{'system':'http://snomed.info/sct',"
                      "'code':'410605003'}]}",
                      "code-invalid", "Condition.verificationStatus");
  assert_member_fails(condition, "clinicalStatus", "{'text':'active'}",
                      "code-invalid", "Condition.clinicalStatus");
}

static void value_set_diagnostics_list_the_allowed_codes(void **state) {
  (void)state;
  struct mv_fhir_outcome o;
  struct json_object *obj = parse(patient);
  json_object_object_add(obj, "gender", json_object_new_string("woman"));
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_int_equal(o.n, 1);
  assert_string_equal(o.issues[0].diagnostics,
                      "value is not in the required value set "
                      "(male | female | other | unknown)");
  json_object_put(obj);
}

/* ---- references and invariants ----------------------------------------- */

static void references_must_have_an_accepted_form(void **state) {
  (void)state;
  const char *good[] = {"Patient/p1",
                        "Patient/p1/_history/2",
                        "https://example.org/fhir/Patient/p1",
                        "#c1",
                        "#",
                        "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"};
  const char *bad[] = {"p1",          "Patient/",     "patient/p1",
                       "Patient/a b", "Patient/p1/x", "urn:uuid:xyz",
                       "http://",     "#a b",         "Patient/p1/_history/"};
  for (size_t i = 0; i < MV_ARRAY_LEN(good); i++)
    assert_true(mv__fhir_reference_valid(good[i]));
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    assert_false(mv__fhir_reference_valid(bad[i]));
    char v[96];
    snprintf(v, sizeof(v), "'%s'", bad[i]);
    assert_member_fails(heart_rate, "subject/reference", v, "value",
                        "Observation.subject.reference");
  }
}

static void datatype_invariants_are_checked(void **state) {
  (void)state;
  assert_member_fails(care_team, "period/end", "'2023-12-31'", "invariant",
                      "CareTeam.period");
  assert_member_fails(heart_rate, "valueQuantity", "{'value':1,'code':'/min'}",
                      "invariant", "Observation.valueQuantity.system");
  assert_fails("{'resourceType':'Observation','status':'final','code':{"
               "'text':'t'},'referenceRange':[{'low':{'value':1,"
               "'comparator':'<'}}]}",
               "invariant", "Observation.referenceRange[0].low.comparator");
}

static void resource_invariants_are_checked(void **state) {
  (void)state;
  assert_member_fails(patient, "contact", "[{'gender':'male'}]", "invariant",
                      "Patient.contact[0]");
  struct json_object *obj = parse(appointment);
  json_object_object_del(obj, "end");
  assert_fails_obj(obj, "invariant", "Appointment.end");
  json_object_object_del(obj, "start");
  assert_fails_obj(obj, "invariant", "Appointment.start");
  json_object_object_add(obj, "status", json_object_new_string("proposed"));
  assert_valid_obj(obj);
  json_object_put(obj);
  assert_member_fails(condition, "abatementDateTime", "'2024'", "invariant",
                      "Condition.clinicalStatus");
  assert_member_fails(condition, "verificationStatus/coding/0/code",
                      "'entered-in-error'", "invariant",
                      "Condition.clinicalStatus");
  assert_member_fails(audit_event, "entity/0",
                      "{'what':{'reference':'Patient/p1'},'name':'n',"
                      "'query':'bm9ybWFs'}",
                      "invariant", "AuditEvent.entity[0]");
}

/* ---- Bundle ------------------------------------------------------------- */

static void bundle_entries_are_validated_recursively(void **state) {
  (void)state;
  assert_member_fails(transaction, "entry/1/resource/status", "'done'",
                      "code-invalid", "Bundle.entry[1].resource.status");
  assert_member_fails(transaction, "entry/0/resource/name/0/foo", "1",
                      "structure", "Bundle.entry[0].resource.name[0].foo");
  assert_member_fails(transaction, "entry/1/resource/resourceType",
                      "'Medication'", "not-supported",
                      "Bundle.entry[1].resource.resourceType");
  assert_member_fails(transaction, "entry/1/resource/subject/reference",
                      "'urn:uuid:nope'", "value",
                      "Bundle.entry[1].resource.subject.reference");
}

static void transaction_entries_need_a_request(void **state) {
  (void)state;
  struct json_object *obj = parse(transaction);
  struct json_object *entries = NULL, *e0;
  assert_true(json_object_object_get_ex(obj, "entry", &entries));
  e0 = json_object_array_get_idx(entries, 0);
  json_object_object_del(e0, "request");
  assert_fails_obj(obj, "required", "Bundle.entry[0].request");
  /* A searchset does not need one. */
  json_object_object_add(obj, "type", json_object_new_string("searchset"));
  struct json_object *e1 = json_object_array_get_idx(entries, 1);
  json_object_object_del(e1, "request");
  json_object_array_del_idx(entries, 2, 1);
  assert_valid_obj(obj);
  json_object_put(obj);
  assert_member_fails(transaction, "entry/0/request", "{'method':'POST'}",
                      "required", "Bundle.entry[0].request.url");
}

static void bundle_invariants_are_checked(void **state) {
  (void)state;
  assert_member_fails(transaction, "total", "3", "invariant", "Bundle.total");
  assert_member_fails(transaction, "entry/1/fullUrl",
                      "'urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a'",
                      "invariant", "Bundle.entry[1].fullUrl");
  assert_member_fails(transaction, "entry/1/search", "{'mode':'match'}",
                      "invariant", "Bundle.entry[1].search");
  assert_member_fails(transaction, "entry/2", "{'fullUrl':'urn:x'}",
                      "invariant", "Bundle.entry[2]");
  assert_member_fails(transaction, "entry/0/fullUrl",
                      "'https://x.org/Patient/1/_history/2'", "invariant",
                      "Bundle.entry[0].fullUrl");
  /* Response Bundles may carry OperationOutcomes. */
  assert_valid("{'resourceType':'Bundle','type':'batch-response','entry':[{"
               "'response':{'status':'400','outcome':{'resourceType':"
               "'OperationOutcome','issue':[{'severity':'error',"
               "'code':'invalid','expression':['Patient.gender']}]}}}]}");
}

/* ---- privacy and limits -------------------------------------------------- */

static void diagnostics_never_echo_input_values(void **state) {
  (void)state;
  const char *secret = "Zyxwvut";
  struct mv_fhir_outcome o;
  struct json_object *obj =
      parse("{'resourceType':'Patient','id':'Zyxwvut x','name':[{'family':"
            "'Zyxwvut','given':['Zyxwvut',''],'use':'Zyxwvut'}],"
            "'gender':'Zyxwvut','birthDate':'Zyxwvut','active':'Zyxwvut',"
            "'telecom':[{'value':'Zyxwvut','rank':'Zyxwvut'}],"
            "'identifier':[{'system':'Zyxwvut Zyxwvut','value':'Zyxwvut'}],"
            "'managingOrganization':{'reference':'Zyxwvut Zyxwvut'},"
            "'extension':[{'url':'Zyxwvut','valueZyxwvut':'Zyxwvut'}],"
            "'Zyxwvut':'Zyxwvut','Zyxwvut Zyxwvut':1,"
            "'contact':[{'gender':'Zyxwvut'}],"
            "'photo':[{'data':'Zyxwvut'}],'deceasedDateTime':'Zyxwvut'}");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_true(o.n >= 12);
  for (size_t i = 0; i < o.n; i++) {
    if (strstr(o.issues[i].diagnostics, secret)) {
      print_outcome(&o);
      fail_msg("issue %zu echoes input", i);
    }
    /* Expressions name elements; a key that is not an element name (it
     * could be anything) is never shown. */
    assert_null(strstr(o.issues[i].expression, "Zyxwvut Zyxwvut"));
  }
  json_object_put(obj);
  /* Same inside vital signs and Bundles. */
  obj = parse("{'resourceType':'Bundle','type':'Zyxwvut','entry':[{"
              "'resource':{'resourceType':'Observation','status':'Zyxwvut',"
              "'code':{'coding':[{'system':'http://loinc.org',"
              "'code':'8867-4'}]},'valueQuantity':{'value':1,"
              "'system':'Zyxwvut','code':'Zyxwvut'}}}]}");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  for (size_t i = 0; i < o.n; i++)
    assert_null(strstr(o.issues[i].diagnostics, secret));
  json_object_put(obj);
}

static void full_outcome_is_truncated_not_overrun(void **state) {
  (void)state;
  struct mv_fhir_outcome o;
  struct json_object *obj = parse("{'resourceType':'Patient'}");
  for (int i = 0; i < 100; i++) {
    char k[16];
    snprintf(k, sizeof(k), "bad%d", i);
    json_object_object_add(obj, k, json_object_new_int(i));
  }
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_int_equal(o.n, MV_FHIR_ISSUES_MAX);
  assert_true(o.truncated);
  json_object_put(obj);
}

static void deep_nesting_is_bounded(void **state) {
  (void)state;
  /* Extensions nested deeper than the walk allows (built in memory, so the
   * parser's depth cap does not apply). */
  struct json_object *obj = parse("{'resourceType':'Patient'}");
  struct json_object *cur = obj;
  for (int i = 0; i < 400; i++) {
    struct json_object *ext = json_object_new_object();
    struct json_object *arr = json_object_new_array();
    json_object_object_add(ext, "url", json_object_new_string("http://x/e"));
    json_object_array_add(arr, ext);
    json_object_object_add(cur, "extension", arr);
    cur = ext;
  }
  json_object_object_add(cur, "valueString", json_object_new_string("x"));
  struct mv_fhir_outcome o;
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_int_equal(o.n, 1);
  assert_string_equal(o.issues[0].code, "too-costly");
  json_object_put(obj);
}

/* Every table fits the walker's per-object bookkeeping. */
static void check_type_fits(const struct mv__fhir_type *t, int depth) {
  if (depth > 8 || t->kind == MV__FK_PRIMITIVE)
    return;
  assert_true(t->n_elems + 8 <= MV__FHIR_ELEMS_MAX);
  for (size_t i = 0; i < t->n_elems; i++) {
    const struct mv__fhir_elem *e = &t->elems[i];
    assert_true(e->type || e->choices);
    if (e->type)
      check_type_fits(e->type, depth + 1);
  }
}

static void schema_tables_fit_the_walker(void **state) {
  (void)state;
  size_t n = 0;
  const char *const *types = mv_fhir_types(&n);
  for (size_t i = 0; i < n; i++) {
    const struct mv__fhir_type *t = mv__fhir_resource_type(types[i], false);
    assert_non_null(t);
    check_type_fits(t, 0);
  }
  assert_non_null(mv__fhir_resource_type("Bundle", false));
  assert_null(mv__fhir_resource_type("OperationOutcome", false));
  assert_non_null(mv__fhir_resource_type("OperationOutcome", true));
}
int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_served_type_has_a_valid_example),
      cmocka_unit_test(expected_type_must_match_resource_type),
      cmocka_unit_test(unknown_resource_type_is_unsupported),
      cmocka_unit_test(unknown_elements_are_rejected_at_their_path),
      cmocka_unit_test(wrong_json_types_are_structure_errors),
      cmocka_unit_test(cardinality_is_checked),
      cmocka_unit_test(empty_and_null_values_are_rejected),
      cmocka_unit_test(primitive_extensions_are_accepted),
      cmocka_unit_test(extensions_need_url_and_value_or_extensions),
      cmocka_unit_test(contained_resources_are_validated),
      cmocka_unit_test(primitive_formats_are_checked),
      cmocka_unit_test(integers_and_decimals_follow_their_ranges),
      cmocka_unit_test(required_value_sets_are_enforced),
      cmocka_unit_test(condition_status_codes_are_checked_in_their_system),
      cmocka_unit_test(value_set_diagnostics_list_the_allowed_codes),
      cmocka_unit_test(references_must_have_an_accepted_form),
      cmocka_unit_test(datatype_invariants_are_checked),
      cmocka_unit_test(resource_invariants_are_checked),
      cmocka_unit_test(bundle_entries_are_validated_recursively),
      cmocka_unit_test(transaction_entries_need_a_request),
      cmocka_unit_test(bundle_invariants_are_checked),
      cmocka_unit_test(diagnostics_never_echo_input_values),
      cmocka_unit_test(full_outcome_is_truncated_not_overrun),
      cmocka_unit_test(deep_nesting_is_bounded),
      cmocka_unit_test(schema_tables_fit_the_walker),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
