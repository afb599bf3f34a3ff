/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the vital-signs profile in mv_fhir_validate()
 * (src/fhir/validate_vitals.c): every LOINC code of the profile passes with
 * its UCUM unit and fails with another at Observation.valueQuantity.code;
 * category, subject, effective[x] and value rules; the blood pressure panel
 * and its components; the vital-signs panel; waveforms as SampledData.
 */
#include "validate_fx.h"

static const char heart_rate[] = HR_OBS;

static const char blood_pressure[] =
    "{'resourceType':'Observation','status':'final',"
    "'category':[{'coding':[{'system':"
    "'http://terminology.hl7.org/CodeSystem/observation-category',"
    "'code':'vital-signs'}]}],"
    "'code':{'coding':[{'system':'http://loinc.org','code':'85354-9'}]},"
    "'subject':{'reference':'Patient/p1'},"
    "'effectivePeriod':{'start':'2024-03-01T10:00:00Z'},"
    "'component':[" BP_COMPONENT("8480-6", "mm[Hg]") "," BP_COMPONENT(
        "8462-4", "mm[Hg]") "]}";

/* ---- vital signs --------------------------------------------------------- */

struct vital_case {
  const char *loinc;
  const char *unit;
};

static const struct vital_case vital_cases[] = {
    {"8867-4", "/min"}, {"9279-1", "/min"},     {"59408-5", "%"},
    {"2708-6", "%"},    {"8310-5", "Cel"},      {"8310-5", "[degF]"},
    {"8302-2", "cm"},   {"8302-2", "[in_i]"},   {"29463-7", "kg"},
    {"29463-7", "g"},   {"29463-7", "[lb_av]"}, {"39156-5", "kg/m2"},
    {"9843-4", "cm"},   {"9843-4", "[in_i]"},
};

static struct json_object *vital(const char *loinc, const char *unit) {
  struct json_object *obj = parse(heart_rate);
  struct json_object *code = NULL, *coding, *vq = NULL;
  json_object_object_get_ex(obj, "code", &code);
  json_object_object_get_ex(code, "coding", &coding);
  json_object_object_add(json_object_array_get_idx(coding, 0), "code",
                         json_object_new_string(loinc));
  json_object_object_get_ex(obj, "valueQuantity", &vq);
  json_object_object_add(vq, "code", json_object_new_string(unit));
  json_object_object_add(vq, "unit", json_object_new_string(unit));
  return obj;
}

static void every_vital_sign_passes_with_its_ucum_unit(void **state) {
  (void)state;
  for (size_t i = 0; i < MV_ARRAY_LEN(vital_cases); i++) {
    struct json_object *obj = vital(vital_cases[i].loinc, vital_cases[i].unit);
    assert_valid_obj(obj);
    json_object_put(obj);
  }
  assert_valid(blood_pressure);
}

static void every_vital_sign_fails_with_a_wrong_unit(void **state) {
  (void)state;
  for (size_t i = 0; i < MV_ARRAY_LEN(vital_cases); i++) {
    struct json_object *obj = vital(vital_cases[i].loinc, "mm[Hg]");
    assert_fails_obj(obj, "value", "Observation.valueQuantity.code");
    json_object_put(obj);
  }
  struct mv_fhir_outcome o;
  struct json_object *obj = vital("8867-4", "/s");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_string_equal(o.issues[0].diagnostics,
                      "UCUM unit must be /min for LOINC 8867-4");
  json_object_put(obj);
  obj = vital("29463-7", "lb");
  assert_int_equal(run(obj, NULL, &o), MV_EINVAL);
  assert_string_equal(o.issues[0].diagnostics,
                      "UCUM unit must be kg, g or [lb_av] for LOINC 29463-7");
  json_object_put(obj);
}

static void vital_signs_need_ucum_system_value_and_unit(void **state) {
  (void)state;
  assert_member_fails(heart_rate, "valueQuantity/system",
                      "'http://example.org/units'", "value",
                      "Observation.valueQuantity.system");
  assert_member_fails(heart_rate, "valueQuantity", "{'value':72,'unit':'/min'}",
                      "required", "Observation.valueQuantity.code");
  assert_member_fails(heart_rate, "valueQuantity",
                      "{'unit':'/min','system':'http://unitsofmeasure.org',"
                      "'code':'/min'}",
                      "required", "Observation.valueQuantity.value");
  assert_member_fails(heart_rate, "valueQuantity",
                      "{'value':72,'system':'http://unitsofmeasure.org',"
                      "'code':'/min'}",
                      "required", "Observation.valueQuantity.unit");
}

static void vital_signs_need_category_subject_effective_and_value(void **s) {
  (void)s;
  static const char *const drop[][2] = {
      {"category", "Observation.category"},
      {"subject", "Observation.subject"},
      {"effectiveDateTime", "Observation.effective"},
      {"valueQuantity", "Observation.value"},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(drop); i++) {
    struct json_object *obj = parse(heart_rate);
    json_object_object_del(obj, drop[i][0]);
    assert_fails_obj(obj, "required", drop[i][1]);
    json_object_put(obj);
  }
  /* dataAbsentReason replaces the value. */
  struct json_object *obj = parse(heart_rate);
  json_object_object_del(obj, "valueQuantity");
  json_object_object_add(obj, "dataAbsentReason", parse("{'text':'asleep'}"));
  assert_valid_obj(obj);
  /* ... but not next to a value (obs-6). */
  json_object_object_add(obj, "valueQuantity",
                         parse("{'value':72,'unit':'/min','system':"
                               "'http://unitsofmeasure.org','code':'/min'}"));
  assert_fails_obj(obj, "invariant", "Observation.dataAbsentReason");
  json_object_put(obj);
  /* effectiveInstant is not allowed for vital signs. */
  obj = parse(heart_rate);
  json_object_object_del(obj, "effectiveDateTime");
  json_object_object_add(obj, "effectiveInstant",
                         json_object_new_string("2024-03-01T10:00:00Z"));
  assert_fails_obj(obj, "value", "Observation.effective");
  json_object_put(obj);
  /* The value must be a Quantity. */
  obj = parse(heart_rate);
  json_object_object_del(obj, "valueQuantity");
  json_object_object_add(obj, "valueString", json_object_new_string("72"));
  assert_fails_obj(obj, "value", "Observation.valueString");
  json_object_put(obj);
  /* The category alone makes an Observation a vital sign. */
  assert_fails("{'resourceType':'Observation','status':'final',"
               "'category':[{'coding':[{'system':"
               "'http://terminology.hl7.org/CodeSystem/observation-category',"
               "'code':'vital-signs'}]}],'code':{'text':'pulse'},"
               "'subject':{'reference':'Patient/p1'},"
               "'effectiveDateTime':'2024',"
               "'valueQuantity':{'value':1,'unit':'x','system':"
               "'http://unitsofmeasure.org'}}",
               "required", "Observation.valueQuantity.code");
}

static void blood_pressure_needs_both_components_in_mmhg(void **state) {
  (void)state;
  struct json_object *obj = parse(blood_pressure), *comps = NULL;
  json_object_object_get_ex(obj, "component", &comps);
  json_object_array_del_idx(comps, 1, 1);
  assert_fails_obj(obj, "required", "Observation.component");
  struct mv_fhir_outcome o;
  (void)run(obj, NULL, &o);
  assert_non_null(strstr(o.issues[0].diagnostics, "8462-4"));
  json_object_put(obj);
  assert_fails("{'resourceType':'Observation','status':'final',"
               "'category':[{'coding':[{'system':"
               "'http://terminology.hl7.org/CodeSystem/observation-category',"
               "'code':'vital-signs'}]}],"
               "'code':{'coding':[{'system':'http://loinc.org',"
               "'code':'85354-9'}]},'subject':{'reference':'Patient/p1'},"
               "'effectiveDateTime':'2024-03-01T10:00:00Z',"
               "'component':[" BP_COMPONENT(
                   "8480-6", "mm[Hg]") "," BP_COMPONENT("8462-4", "kPa") "]}",
               "value", "Observation.component[1].valueQuantity.code");
  /* A component may give a dataAbsentReason instead. */
  obj = parse(blood_pressure);
  json_object_object_get_ex(obj, "component", &comps);
  struct json_object *c0 = json_object_array_get_idx(comps, 0);
  json_object_object_del(c0, "valueQuantity");
  assert_fails_obj(obj, "required", "Observation.component[0].value");
  json_object_object_add(c0, "dataAbsentReason", parse("{'text':'error'}"));
  assert_valid_obj(obj);
  json_object_put(obj);
}

static void vital_signs_panel_needs_members(void **state) {
  (void)state;
  struct json_object *obj = vital("85353-1", "/min");
  json_object_object_del(obj, "valueQuantity");
  assert_fails_obj(obj, "required", "Observation.hasMember");
  json_object_object_add(obj, "hasMember",
                         parse("[{'reference':'Observation/hr1'}]"));
  assert_valid_obj(obj);
  json_object_put(obj);
}

static const char waveform[] =
    "{'resourceType':'Observation','status':'final',"
    "'code':{'coding':[{'system':'urn:oid:2.16.840.1.113883.6.24',"
    "'code':'131328'}]},'subject':{'reference':'Patient/p1'},"
    "'effectiveDateTime':'2024-03-01T10:00:00.000Z',"
    "'valueSampledData':{'origin':{'value':2048},'period':4,"
    "'factor':1.612,'lowerLimit':-3300,'upperLimit':3300,'dimensions':2,"
    "'data':'2041 2043 2037 E 2047 U L -1.5e2'}}";

static void waveforms_use_sampled_data(void **state) {
  (void)state;
  assert_valid(waveform);
  assert_member_fails(waveform, "valueSampledData/data", "'1 2 x 4'", "value",
                      "Observation.valueSampledData.data");
  assert_member_fails(waveform, "valueSampledData/data", "'1 2 3'", "value",
                      "Observation.valueSampledData.data");
  assert_member_fails(waveform, "valueSampledData/data", "'1 .5'", "value",
                      "Observation.valueSampledData.data");
  assert_member_fails(waveform, "valueSampledData/period", "0", "value",
                      "Observation.valueSampledData.period");
  assert_member_fails(waveform, "valueSampledData/dimensions", "0", "value",
                      "Observation.valueSampledData.dimensions");
  assert_member_fails(waveform, "valueSampledData/origin",
                      "{'value':1,'comparator':'<'}", "invariant",
                      "Observation.valueSampledData.origin.comparator");
  struct json_object *obj = parse(waveform), *sd = NULL;
  json_object_object_get_ex(obj, "valueSampledData", &sd);
  json_object_object_del(sd, "origin");
  assert_fails_obj(obj, "required", "Observation.valueSampledData.origin");
  json_object_put(obj);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_vital_sign_passes_with_its_ucum_unit),
      cmocka_unit_test(every_vital_sign_fails_with_a_wrong_unit),
      cmocka_unit_test(vital_signs_need_ucum_system_value_and_unit),
      cmocka_unit_test(vital_signs_need_category_subject_effective_and_value),
      cmocka_unit_test(blood_pressure_needs_both_components_in_mmhg),
      cmocka_unit_test(vital_signs_panel_needs_members),
      cmocka_unit_test(waveforms_use_sampled_data),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
