/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for index extraction, string normalisation and reference walking
 * (src/fhir/index.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_fhir_search.h"
#include "mv_json.h"

#define S INT64_C(1000000)
#define T2020 (INT64_C(1577836800) * S)
#define DAY (86400 * S)

static struct mv_arena *arena;

static int setup(void **state) {
  (void)state;
  arena = mv_arena_new(1u << 20);
  return arena ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  mv_arena_free(arena);
  return 0;
}

static struct json_object *parse_json(const char *text) {
  struct json_object *o = NULL;
  assert_int_equal(mv_json_parse(text, strlen(text), &o, NULL), MV_OK);
  return o;
}

static bool has_term(const struct mv_fhir_index *ix, const char *param,
                     enum mv_fhir_term_kind k, const char *system,
                     const char *value) {
  for (size_t i = 0; i < ix->n_terms; i++) {
    const struct mv_fhir_index_term *t = &ix->terms[i];
    if (t->kind == k && strcmp(t->param, param) == 0 &&
        strcmp(t->system, system) == 0 && strcmp(t->value, value) == 0)
      return true;
  }
  return false;
}

#define TOKEN(ix, p, s, v)                                                     \
  assert_true(has_term(ix, p, MV_FHIR_TERM_TOKEN, s, v))
#define WORD(ix, p, v) assert_true(has_term(ix, p, MV_FHIR_TERM_STRING, "", v))

/* Every term's param must be a registry parameter of the type. */
static void terms_are_registry_params(const struct mv_fhir_index *ix) {
  for (size_t i = 0; i < ix->n_terms; i++) {
    const struct mv_fhir_search_param *p =
        mv_fhir_search_param_find(ix->type, ix->terms[i].param);
    assert_non_null(p);
    assert_int_equal(p->target, MV_FHIR_TARGET_TERMS);
    assert_int_equal(ix->terms[i].kind == MV_FHIR_TERM_STRING,
                     p->type == MV_FHIR_PARAM_STRING);
  }
}

static struct json_object *extract(const char *text, struct mv_fhir_index *ix) {
  struct json_object *o = parse_json(text);
  assert_int_equal(mv_fhir_index_extract(o, arena, ix), MV_OK);
  terms_are_registry_params(ix);
  return o;
}

static void normalize_splits_lowercases_and_keeps_utf8(void **state) {
  (void)state;
  const char **w;
  size_t n, total;
  assert_int_equal(mv_fhir_string_normalize("  O'Brien-SMITH, J\xc3\xb6rg 42 ",
                                            8, arena, &w, &n, &total),
                   MV_OK);
  assert_int_equal(n, 5);
  assert_int_equal(total, 5);
  assert_string_equal(w[0], "o");
  assert_string_equal(w[1], "brien");
  assert_string_equal(w[2], "smith");
  assert_string_equal(w[3], "j\xc3\xb6rg");
  assert_string_equal(w[4], "42");
  /* Invalid UTF-8 bytes separate words; max_words keeps the first. */
  assert_int_equal(mv_fhir_string_normalize("ab\xff"
                                            "cd\xc0\xaf"
                                            "ef\xed\xa0\x80gh",
                                            3, arena, &w, &n, &total),
                   MV_OK);
  assert_int_equal(n, 3);
  assert_int_equal(total, 4);
  assert_string_equal(w[0], "ab");
  assert_string_equal(w[1], "cd");
  assert_string_equal(w[2], "ef");
  assert_int_equal(mv_fhir_string_normalize("-- ..", 4, arena, &w, &n, NULL),
                   MV_OK);
  assert_int_equal(n, 0);
  /* 4-byte sequences are kept. */
  assert_int_equal(
      mv_fhir_string_normalize("\xf0\x9f\x98\x80X", 4, arena, &w, &n, NULL),
      MV_OK);
  assert_int_equal(n, 1);
  assert_string_equal(w[0], "\xf0\x9f\x98\x80x");
}

static void index_patient(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"gender\":\"female\","
      "\"birthDate\":\"1980-02\",\"identifier\":[{\"system\":\"urn:mrn\","
      "\"value\":\"M-1\"},{\"value\":\"X2\"}],\"name\":[{\"family\":\"Van "
      "Dyke\",\"given\":[\"Ann\",\"Marie\"],\"prefix\":[\"Dr\"]},{\"text\":"
      "\"Annie V\"}]}",
      &ix);
  assert_string_equal(ix.type, "Patient");
  assert_string_equal(ix.id, "p1");
  assert_string_equal(ix.patient_id, "p1");
  assert_null(ix.status);
  assert_int_equal(ix.date_lo_us, INT64_C(318211200) * S);
  assert_int_equal(ix.date_hi_us, ix.date_lo_us + 29 * DAY - 1);
  TOKEN(&ix, "gender", "http://hl7.org/fhir/administrative-gender", "female");
  TOKEN(&ix, "identifier", "urn:mrn", "M-1");
  TOKEN(&ix, "identifier", "", "X2");
  WORD(&ix, "family", "van");
  WORD(&ix, "family", "dyke");
  WORD(&ix, "given", "ann");
  WORD(&ix, "given", "marie");
  WORD(&ix, "name", "van");
  WORD(&ix, "name", "marie");
  WORD(&ix, "name", "dr");
  WORD(&ix, "name", "annie");
  WORD(&ix, "name", "v");
  assert_false(has_term(&ix, "family", MV_FHIR_TERM_STRING, "", "dr"));
  assert_int_equal(ix.n_dropped, 0);
  json_object_put(o);

  /* Before the server assigns an id. */
  o = extract("{\"resourceType\":\"Patient\"}", &ix);
  assert_string_equal(ix.id, "");
  assert_string_equal(ix.patient_id, "");
  assert_int_equal(ix.date_lo_us, MV_FHIR_NO_DATE);
  assert_int_equal(ix.date_hi_us, MV_FHIR_NO_DATE);
  assert_int_equal(ix.n_terms, 0);
  json_object_put(o);
}

static void index_practitioner(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o =
      extract("{\"resourceType\":\"Practitioner\",\"id\":\"d1\",\"name\":[{"
              "\"family\":\"House\"}],\"identifier\":[{\"system\":\"urn:npi\","
              "\"value\":\"9\"}]}",
              &ix);
  assert_string_equal(ix.patient_id, "");
  WORD(&ix, "family", "house");
  TOKEN(&ix, "identifier", "urn:npi", "9");
  json_object_put(o);
}

static void index_observation(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"category\":[{"
      "\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/"
      "observation-category\",\"code\":\"vital-signs\"}]}],\"code\":{"
      "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"},{"
      "\"system\":\"urn:local\",\"code\":\"hr\"}]},\"subject\":{\"reference\":"
      "\"Patient/p1\"},\"effectiveDateTime\":\"2020-01-01T01:00:00+01:00\","
      "\"valueQuantity\":{\"value\":72,\"unit\":\"/min\"}}",
      &ix);
  assert_string_equal(ix.patient_id, "p1");
  assert_string_equal(ix.status, "final");
  assert_int_equal(ix.date_lo_us, T2020);
  assert_int_equal(ix.date_hi_us, T2020 + S - 1);
  TOKEN(&ix, "code", "http://loinc.org", "8867-4");
  TOKEN(&ix, "code", "urn:local", "hr");
  TOKEN(&ix, "category",
        "http://terminology.hl7.org/CodeSystem/observation-category",
        "vital-signs");
  TOKEN(&ix, "subject", "", "Patient/p1");
  TOKEN(&ix, "patient", "", "Patient/p1");
  assert_int_equal(ix.n_terms, 5);
  json_object_put(o);

  /* Subject not a Patient: no compartment; a Period as effective. */
  o = extract("{\"resourceType\":\"Observation\",\"status\":\"final\","
              "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":"
              "\"Group/g1\"},\"effectivePeriod\":{\"start\":\"2020-01-01\"}}",
              &ix);
  assert_string_equal(ix.patient_id, "");
  TOKEN(&ix, "subject", "", "Group/g1");
  assert_false(has_term(&ix, "patient", MV_FHIR_TERM_TOKEN, "", "Group/g1"));
  assert_int_equal(ix.date_lo_us, T2020);
  assert_int_equal(ix.date_hi_us, INT64_MAX);
  json_object_put(o);
}

static void index_encounter_flag_and_period_types(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{"
      "\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/p2/_history/"
      "3\"},\"period\":{\"start\":\"2020-01-01\",\"end\":\"2020-01-02\"}}",
      &ix);
  assert_string_equal(ix.patient_id, "p2");
  assert_string_equal(ix.status, "finished");
  assert_int_equal(ix.date_lo_us, T2020);
  assert_int_equal(ix.date_hi_us, T2020 + 2 * DAY - 1);
  TOKEN(&ix, "subject", "", "Patient/p2");
  json_object_put(o);

  o = extract("{\"resourceType\":\"Flag\",\"status\":\"active\",\"code\":{},"
              "\"subject\":{\"reference\":\"Patient/p3\"},\"period\":{"
              "\"end\":\"2020\"}}",
              &ix);
  assert_string_equal(ix.patient_id, "p3");
  assert_string_equal(ix.status, "active");
  assert_int_equal(ix.date_lo_us, INT64_MIN + 1);
  assert_int_equal(ix.date_hi_us, T2020 + 366 * DAY - 1);
  json_object_put(o);
}

static void
index_condition_uses_clinical_status_and_recorded_date(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Condition\",\"clinicalStatus\":{\"coding\":[{"
      "\"system\":\"http://terminology.hl7.org/CodeSystem/"
      "condition-clinical\",\"code\":\"active\"}]},\"code\":{\"coding\":[{"
      "\"system\":\"http://snomed.info/sct\",\"code\":\"38341003\"}]},"
      "\"subject\":{\"reference\":\"Patient/p4\"},\"onsetDateTime\":\"2019\","
      "\"recordedDate\":\"2020-01-01\"}",
      &ix);
  assert_string_equal(ix.patient_id, "p4");
  assert_string_equal(ix.status, "active");
  assert_int_equal(ix.date_lo_us, T2020);
  TOKEN(&ix, "code", "http://snomed.info/sct", "38341003");
  json_object_put(o);
  o = extract("{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
              "\"Patient/p4\"},\"onsetDateTime\":\"2020\"}",
              &ix);
  assert_int_equal(ix.date_lo_us, T2020);
  assert_null(ix.status);
  json_object_put(o);
}

static void index_report_communication_device_careteam(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"DiagnosticReport\",\"status\":\"final\",\"code\":{"
      "\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"11524-6\"}]},"
      "\"subject\":{\"reference\":\"Patient/p5\"},\"effectiveDateTime\":"
      "\"2020-01-01\"}",
      &ix);
  assert_string_equal(ix.patient_id, "p5");
  assert_int_equal(ix.date_lo_us, T2020);
  TOKEN(&ix, "code", "http://loinc.org", "11524-6");
  json_object_put(o);

  o = extract("{\"resourceType\":\"Communication\",\"status\":\"completed\","
              "\"subject\":{\"reference\":\"Patient/p6\"},\"sent\":"
              "\"2020-01-01T00:00:00Z\"}",
              &ix);
  assert_string_equal(ix.patient_id, "p6");
  assert_string_equal(ix.status, "completed");
  assert_int_equal(ix.date_lo_us, T2020);
  json_object_put(o);

  o = extract("{\"resourceType\":\"Device\",\"status\":\"active\",\"patient\":"
              "{\"reference\":\"Patient/p7\"}}",
              &ix);
  assert_string_equal(ix.patient_id, "p7");
  assert_string_equal(ix.status, "active");
  TOKEN(&ix, "patient", "", "Patient/p7");
  assert_int_equal(ix.date_lo_us, MV_FHIR_NO_DATE);
  json_object_put(o);

  o = extract("{\"resourceType\":\"CareTeam\",\"status\":\"active\","
              "\"subject\":{\"reference\":\"Patient/p8\"},\"participant\":[{"
              "\"member\":{\"reference\":\"Practitioner/d1\"}},{\"member\":{"
              "\"reference\":\"Practitioner/d2\"}},{\"role\":[]}]}",
              &ix);
  assert_string_equal(ix.patient_id, "p8");
  TOKEN(&ix, "participant", "", "Practitioner/d1");
  TOKEN(&ix, "participant", "", "Practitioner/d2");
  TOKEN(&ix, "patient", "", "Patient/p8");
  json_object_put(o);
}

static void index_appointment_consent_audit_event(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Appointment\",\"status\":\"booked\",\"start\":"
      "\"2020-01-01T09:00:00Z\",\"end\":\"2020-01-01T09:30:00Z\","
      "\"participant\":[{\"actor\":{\"reference\":\"Practitioner/d1\"},"
      "\"status\":\"accepted\"},{\"actor\":{\"reference\":\"Patient/p9\"},"
      "\"status\":\"accepted\"},{\"actor\":{\"reference\":\"Patient/p10\"},"
      "\"status\":\"accepted\"}]}",
      &ix);
  assert_string_equal(ix.patient_id, "p9");
  assert_string_equal(ix.status, "booked");
  assert_int_equal(ix.date_lo_us, T2020 + 9 * 3600 * S);
  assert_int_equal(ix.date_hi_us, T2020 + 9 * 3600 * S + 1801 * S - 1);
  TOKEN(&ix, "actor", "", "Practitioner/d1");
  TOKEN(&ix, "patient", "", "Patient/p9");
  TOKEN(&ix, "patient", "", "Patient/p10");
  assert_false(
      has_term(&ix, "patient", MV_FHIR_TERM_TOKEN, "", "Practitioner/d1"));
  json_object_put(o);

  o = extract("{\"resourceType\":\"Consent\",\"status\":\"active\","
              "\"scope\":{},\"category\":[],\"patient\":{\"reference\":"
              "\"Patient/p11\"},\"dateTime\":\"2020-01-01\",\"provision\":{"
              "\"type\":\"deny\",\"actor\":[{\"role\":{},\"reference\":{"
              "\"reference\":\"Practitioner/d3\"}}]}}",
              &ix);
  assert_string_equal(ix.patient_id, "p11");
  assert_string_equal(ix.status, "active");
  assert_int_equal(ix.date_lo_us, T2020);
  TOKEN(&ix, "actor", "", "Practitioner/d3");
  TOKEN(&ix, "patient", "", "Patient/p11");
  json_object_put(o);

  o = extract("{\"resourceType\":\"AuditEvent\",\"type\":{},\"action\":\"R\","
              "\"recorded\":\"2020-01-01T00:00:00.000Z\",\"agent\":[{\"who\":"
              "{\"reference\":\"Practitioner/d4\"},\"requestor\":true}],"
              "\"source\":{\"observer\":{}},\"entity\":[{\"what\":{"
              "\"reference\":\"Observation/o1\"}},{\"what\":{\"reference\":"
              "\"Patient/p12\"}}]}",
              &ix);
  assert_string_equal(ix.patient_id, "p12");
  assert_null(ix.status);
  assert_int_equal(ix.date_lo_us, T2020);
  assert_int_equal(ix.date_hi_us, T2020 + 999);
  TOKEN(&ix, "action", "http://hl7.org/fhir/audit-event-action", "R");
  TOKEN(&ix, "agent", "", "Practitioner/d4");
  TOKEN(&ix, "entity", "", "Observation/o1");
  TOKEN(&ix, "entity", "", "Patient/p12");
  TOKEN(&ix, "patient", "", "Patient/p12");
  json_object_put(o);
}

static void every_type_extracts(void **state) {
  (void)state;
  size_t n;
  const char *const *types = mv_fhir_types(&n);
  char text[128];
  for (size_t i = 0; i < n; i++) {
    struct mv_fhir_index ix;
    snprintf(text, sizeof(text), "{\"resourceType\":\"%s\",\"id\":\"x\"}",
             types[i]);
    struct json_object *o = extract(text, &ix);
    assert_string_equal(ix.type, types[i]);
    json_object_put(o);
  }
  struct mv_fhir_index ix = {.n_terms = 99};
  struct json_object *o = parse_json("{\"resourceType\":\"Bundle\"}");
  assert_int_equal(mv_fhir_index_extract(o, arena, &ix), MV_EINVAL);
  assert_int_equal(ix.n_terms, 99);
  json_object_put(o);
  o = parse_json("[1]");
  assert_int_equal(mv_fhir_index_extract(o, arena, &ix), MV_EINVAL);
  json_object_put(o);
}

static void bad_dates_and_absolute_refs_are_not_indexed(void **state) {
  (void)state;
  struct mv_fhir_index ix;
  struct json_object *o = extract(
      "{\"resourceType\":\"Observation\",\"status\":\"final\",\"subject\":{"
      "\"reference\":\"http://other/fhir/Patient/p1\"},\"effectiveDateTime\":"
      "\"2020-02-30\",\"code\":{\"coding\":[{\"code\":\"c\"},{\"code\":\"c\"}"
      "]}}",
      &ix);
  assert_string_equal(ix.patient_id, "");
  assert_int_equal(ix.date_lo_us, MV_FHIR_NO_DATE);
  /* Duplicates are stored once. */
  assert_int_equal(ix.n_terms, 1);
  TOKEN(&ix, "code", "", "c");
  json_object_put(o);
}

static void term_cap_drops_the_last_terms(void **state) {
  (void)state;
  char *text = malloc(64 * 1024);
  size_t o = 0;
  assert_non_null(text);
  o += (size_t)snprintf(text + o, 64 * 1024 - o,
                        "{\"resourceType\":\"Observation\",\"code\":{"
                        "\"coding\":[");
  for (int i = 0; i < 300; i++)
    o += (size_t)snprintf(text + o, 64 * 1024 - o, "%s{\"code\":\"c%d\"}",
                          i ? "," : "", i);
  snprintf(text + o, 64 * 1024 - o, "]}}");
  struct mv_fhir_index ix;
  struct json_object *obj = extract(text, &ix);
  assert_int_equal(ix.n_terms, MV_FHIR_INDEX_TERMS_MAX);
  assert_int_equal(ix.n_dropped, 300 - MV_FHIR_INDEX_TERMS_MAX);
  assert_string_equal(ix.terms[0].value, "c0");
  assert_string_equal(ix.terms[MV_FHIR_INDEX_TERMS_MAX - 1].value, "c255");
  json_object_put(obj);
  free(text);
}

struct seen {
  char exprs[8][MV_FHIR_EXPR_MAX];
  char refs[8][64];
  size_t n;
};

static int collect(void *ctx, struct json_object *holder, const char *ref,
                   const char *expr) {
  struct seen *s = ctx;
  assert_true(json_object_is_type(holder, json_type_object));
  if (s->n < 8) {
    snprintf(s->exprs[s->n], sizeof(s->exprs[0]), "%s", expr);
    snprintf(s->refs[s->n], sizeof(s->refs[0]), "%s", ref);
  }
  s->n++;
  /* Rewriting in place is allowed. */
  if (strncmp(ref, "urn:uuid:", 9) == 0)
    json_object_object_add(holder, "reference",
                           json_object_new_string("Patient/new"));
  return 0;
}

static int stop_at_second(void *ctx, struct json_object *holder,
                          const char *ref, const char *expr) {
  int *n = ctx;
  return ++*n == 2 ? 42 : 0;
}

static void references_each_visits_every_reference(void **state) {
  (void)state;
  struct json_object *o = parse_json(
      "{\"resourceType\":\"CareTeam\",\"subject\":{\"reference\":\"urn:uuid:"
      "0d2f6e1c-8c1a-4c55-9d46-0bde1c9a1c11\"},\"participant\":[{\"member\":"
      "{\"display\":\"x\"}},{\"member\":{\"reference\":\"Practitioner/d1\"},"
      "\"onBehalfOf\":{\"reference\":\"#org\"}}],\"contained\":[{"
      "\"resourceType\":\"Organization\",\"id\":\"org\",\"partOf\":{"
      "\"reference\":\"Organization/o2\"}}],\"note\":[{\"text\":\"reference\"}"
      "],\"identifier\":[{\"system\":\"reference\",\"value\":\"Patient/x\"}]"
      "}");
  struct seen s = {0};
  assert_int_equal(mv_fhir_references_each(o, collect, &s), MV_OK);
  assert_int_equal(s.n, 4);
  assert_string_equal(s.exprs[0], "CareTeam.subject.reference");
  assert_string_equal(s.exprs[1], "CareTeam.participant[1].member.reference");
  assert_string_equal(s.refs[1], "Practitioner/d1");
  assert_string_equal(s.exprs[2],
                      "CareTeam.participant[1].onBehalfOf.reference");
  assert_string_equal(s.refs[2], "#org");
  assert_string_equal(s.exprs[3], "CareTeam.contained[0].partOf.reference");
  struct json_object *subj;
  assert_true(json_object_object_get_ex(o, "subject", &subj));
  assert_string_equal(
      json_object_get_string(json_object_object_get(subj, "reference")),
      "Patient/new");
  int n = 0;
  assert_int_equal(mv_fhir_references_each(o, stop_at_second, &n), 42);
  assert_int_equal(n, 2);
  json_object_put(o);
}

static void reference_split_classifies(void **state) {
  (void)state;
  struct mv_fhir_ref r;
  assert_int_equal(mv_fhir_reference_split("Patient/p-1.2", &r),
                   MV_FHIR_REF_RELATIVE);
  assert_string_equal(r.type, "Patient");
  assert_string_equal(r.id, "p-1.2");
  assert_int_equal(r.version, 0);
  assert_int_equal(mv_fhir_reference_split("Observation/o/_history/12", &r),
                   MV_FHIR_REF_RELATIVE);
  assert_int_equal(r.version, 12);
  assert_int_equal(mv_fhir_reference_split("#c1", &r), MV_FHIR_REF_CONTAINED);
  assert_int_equal(mv_fhir_reference_split("urn:uuid:abc", &r),
                   MV_FHIR_REF_URN);
  assert_int_equal(mv_fhir_reference_split("https://x/fhir/Patient/1", &r),
                   MV_FHIR_REF_ABSOLUTE);
  const char *bad[] = {"",
                       "Patient",
                       "Patient/",
                       "patient/1",
                       "Patient/a b",
                       "Patient/1/_history/",
                       "Patient/1/_history/0",
                       "Patient/1/x",
                       "Pat1ent/1",
                       "Patient/"
                       "12345678901234567890123456789012345678901234567890"
                       "123456789012345"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(mv_fhir_reference_split(bad[i], &r), MV_FHIR_REF_INVALID);
  assert_int_equal(mv_fhir_reference_split(NULL, &r), MV_FHIR_REF_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(normalize_splits_lowercases_and_keeps_utf8),
      cmocka_unit_test(index_patient),
      cmocka_unit_test(index_practitioner),
      cmocka_unit_test(index_observation),
      cmocka_unit_test(index_encounter_flag_and_period_types),
      cmocka_unit_test(index_condition_uses_clinical_status_and_recorded_date),
      cmocka_unit_test(index_report_communication_device_careteam),
      cmocka_unit_test(index_appointment_consent_audit_event),
      cmocka_unit_test(every_type_extracts),
      cmocka_unit_test(bad_dates_and_absolute_refs_are_not_indexed),
      cmocka_unit_test(term_cap_drops_the_last_terms),
      cmocka_unit_test(references_each_visits_every_reference),
      cmocka_unit_test(reference_split_classifies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
