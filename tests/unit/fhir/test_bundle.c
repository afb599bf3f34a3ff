/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for batch/transaction planning and the response, searchset and
 * history Bundles (src/fhir/bundle.c, searchset.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_buf.h"
#include "mv_fhir_search.h"
#include "mv_json.h"

static struct mv_arena *arena;
static struct mv_fhir_outcome oo;

static int setup(void **state) {
  (void)state;
  arena = mv_arena_new(4u << 20);
  mv_fhir_outcome_init(&oo);
  return arena ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  mv_arena_free(arena);
  return 0;
}

static int reset(void **state) {
  (void)state;
  mv_fhir_outcome_init(&oo);
  return 0;
}

static struct json_object *parse_json(const char *text) {
  struct json_object *o = NULL;
  assert_int_equal(mv_json_parse(text, strlen(text), &o, NULL), MV_OK);
  return o;
}

/* Deterministic ids: id-1, id-2, ... */
static int seq_ids(void *ctx, char out[MV_LIMIT_ID_LEN + 1]) {
  int *n = ctx;
  snprintf(out, MV_LIMIT_ID_LEN + 1, "id-%d", ++*n);
  return MV_OK;
}

static int failing_ids(void *ctx, char out[MV_LIMIT_ID_LEN + 1]) {
  return MV_EIO;
}

/* The string at a dotted path ("entry.1.resource.subject.reference"). */
static const char *at(struct json_object *o, const char *path) {
  char buf[256];
  snprintf(buf, sizeof(buf), "%s", path);
  for (char *s = buf, *dot; s; s = dot) {
    dot = strchr(s, '.');
    if (dot)
      *dot++ = '\0';
    if (json_object_is_type(o, json_type_array))
      o = json_object_array_get_idx(o, (size_t)strtoul(s, NULL, 10));
    else if (!json_object_object_get_ex(o, s, &o))
      return NULL;
    if (!o)
      return NULL;
  }
  return json_object_get_string(o);
}

#define URN_A "urn:uuid:7f3c1a2e-0d0b-4f7e-9a51-3b5b0c6e9d01"
#define URN_B "urn:uuid:7f3c1a2e-0d0b-4f7e-9a51-3b5b0c6e9d02"

static const char *transaction_json =
    "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
    /* 0: GET search */
    "{\"request\":{\"method\":\"GET\",\"url\":\"Observation?code=x%7Cy\"}},"
    /* 1: Observation referring to the patient and the encounter */
    "{\"fullUrl\":\"urn:uuid:0b8e4a52-9d3c-4d7a-8f0e-1c2b3a4d5e6f\","
    "\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","
    "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"" URN_A "\"},"
    "\"encounter\":{\"reference\":\"" URN_B "\"},\"performer\":[{"
    "\"reference\":\"Practitioner/d1\"}]},"
    "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}},"
    /* 2: PUT with a urn fullUrl */
    "{\"fullUrl\":\"" URN_B "\",\"resource\":{\"resourceType\":"
    "\"Encounter\",\"id\":\"e1\",\"status\":\"finished\",\"class\":{},"
    "\"subject\":{\"reference\":\"" URN_A "\"}},\"request\":{\"method\":"
    "\"PUT\",\"url\":\"Encounter/e1\",\"ifMatch\":\"W/\\\"3\\\"\"}},"
    /* 3: the patient */
    "{\"fullUrl\":\"" URN_A "\",\"resource\":{\"resourceType\":\"Patient\","
    "\"id\":\"ignored\"},\"request\":{\"method\":\"POST\",\"url\":"
    "\"Patient\"}},"
    /* 4: DELETE */
    "{\"request\":{\"method\":\"DELETE\",\"url\":\"Flag/f1\"}},"
    /* 5: vread */
    "{\"request\":{\"method\":\"GET\",\"url\":\"/Patient/p1/_history/2\"}}"
    "]}";

static void transaction_resolves_urn_uuid_across_entries(void **state) {
  (void)state;
  struct json_object *b = parse_json(transaction_json);
  struct mv_fhir_bundle_plan plan;
  int n = 0;
  assert_int_equal(mv_fhir_bundle_plan(b, seq_ids, &n, arena, &plan, &oo),
                   MV_OK);
  assert_int_equal(oo.n, 0);
  assert_true(plan.transaction);
  assert_int_equal(plan.n, 6);
  const struct mv_fhir_bundle_entry *e = plan.entries;
  assert_int_equal(e[0].method, MV_FHIR_METHOD_GET);
  assert_string_equal(e[0].type, "Observation");
  assert_null(e[0].id);
  assert_string_equal(e[0].query, "code=x%7Cy");
  assert_int_equal(e[1].method, MV_FHIR_METHOD_POST);
  assert_string_equal(e[1].id, "id-1");
  assert_non_null(e[1].resource);
  assert_int_equal(e[2].method, MV_FHIR_METHOD_PUT);
  assert_string_equal(e[2].id, "e1");
  assert_int_equal(e[2].if_match, 3);
  assert_string_equal(e[2].full_url, URN_B);
  assert_string_equal(e[3].type, "Patient");
  assert_string_equal(e[3].id, "id-2");
  assert_int_equal(e[4].method, MV_FHIR_METHOD_DELETE);
  assert_string_equal(e[4].id, "f1");
  assert_null(e[4].resource);
  assert_string_equal(e[5].id, "p1");
  assert_int_equal(e[5].version, 2);
  assert_null(e[5].query);
  for (size_t i = 0; i < plan.n; i++) {
    assert_int_equal(e[i].index, i);
    assert_int_equal(e[i].err, MV_OK);
  }

  /* DELETE, POST, PUT, GET; document order within each. */
  const size_t want[] = {4, 1, 3, 2, 0, 5};
  for (size_t i = 0; i < 6; i++)
    assert_int_equal(plan.order[i], want[i]);

  /* References rewritten in place: POST -> new id, PUT -> its url id. */
  assert_string_equal(at(b, "entry.1.resource.subject.reference"),
                      "Patient/id-2");
  assert_string_equal(at(b, "entry.1.resource.encounter.reference"),
                      "Encounter/e1");
  assert_string_equal(at(b, "entry.1.resource.performer.0.reference"),
                      "Practitioner/d1");
  assert_string_equal(at(b, "entry.2.resource.subject.reference"),
                      "Patient/id-2");
  json_object_put(b);
}

static void unresolvable_urn_fails_transaction_with_path(void **state) {
  (void)state;
  struct json_object *b = parse_json(
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      "{\"fullUrl\":\"" URN_A "\",\"resource\":{\"resourceType\":\"Patient\""
      "},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","
      "\"code\":{},\"subject\":{\"reference\":\"" URN_A "\"},\"performer\":"
      "[{\"reference\":\"Practitioner/x\"},{\"reference\":\"" URN_B "\"}]},"
      "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}]}");
  struct mv_fhir_bundle_plan plan = {.n = 99};
  int n = 0;
  assert_int_equal(mv_fhir_bundle_plan(b, seq_ids, &n, arena, &plan, &oo),
                   MV_EINVAL);
  assert_int_equal(plan.n, 99); /* untouched */
  assert_int_equal(oo.n, 1);
  assert_int_equal(oo.issues[0].severity, MV_FHIR_ERROR);
  assert_string_equal(oo.issues[0].code, "not-found");
  assert_string_equal(oo.issues[0].expression,
                      "Bundle.entry[1].resource.performer[1].reference");
  assert_null(strstr(oo.issues[0].diagnostics, "7f3c"));
  json_object_put(b);
}

struct bad_case {
  const char *entry;
  const char *expression;
  const char *code;
};

static void structure_errors_name_the_element(void **state) {
  (void)state;
  const struct bad_case cases[] = {
      {"{}", "Bundle.entry[0].request", "required"},
      {"[]", "Bundle.entry[0]", "structure"},
      {"{\"request\":{\"url\":\"Patient\"}}", "Bundle.entry[0].request.method",
       "required"},
      {"{\"request\":{\"method\":\"PATCH\",\"url\":\"Patient/1\"}}",
       "Bundle.entry[0].request.method", "not-supported"},
      {"{\"request\":{\"method\":\"GET\"}}", "Bundle.entry[0].request.url",
       "required"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"Spaceship/1\"}}",
       "Bundle.entry[0].request.url", "not-supported"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"Bundle/1\"}}",
       "Bundle.entry[0].request.url", "not-supported"},
      {"{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient\"}}",
       "Bundle.entry[0].request.url", "invalid"},
      {"{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?name=x\"}}",
       "Bundle.entry[0].request.url", "not-supported"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1/_history\"}}",
       "Bundle.entry[0].request.url", "not-supported"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1/_history/x\"}}",
       "Bundle.entry[0].request.url", "invalid"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"Patient/a%20b\"}}",
       "Bundle.entry[0].request.url", "invalid"},
      {"{\"request\":{\"method\":\"GET\",\"url\":\"http://x/Patient/1\"}}",
       "Bundle.entry[0].request.url", "not-supported"},
      {"{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
       "Bundle.entry[0].resource", "required"},
      {"{\"request\":{\"method\":\"POST\",\"url\":\"Patient/1\"},"
       "\"resource\":{\"resourceType\":\"Patient\"}}",
       "Bundle.entry[0].request.url", "invalid"},
      {"{\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},\"resource\":"
       "{\"resourceType\":\"Observation\"}}",
       "Bundle.entry[0].resource.resourceType", "invalid"},
      {"{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\"},\"resource\":"
       "{\"resourceType\":\"Patient\",\"id\":\"2\"}}",
       "Bundle.entry[0].resource.id", "invalid"},
      {"{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\",\"ifMatch\":"
       "\"W/\\\"x\\\"\"},\"resource\":{\"resourceType\":\"Patient\",\"id\":"
       "\"1\"}}",
       "Bundle.entry[0].request.ifMatch", "value"},
      {"{\"request\":{\"method\":\"POST\",\"url\":\"Patient\",\"ifNoneExist\":"
       "\"identifier=x\"},\"resource\":{\"resourceType\":\"Patient\"}}",
       "Bundle.entry[0].request.ifNoneExist", "not-supported"},
  };
  char text[1024];
  for (size_t i = 0; i < MV_ARRAY_LEN(cases); i++) {
    snprintf(text, sizeof(text),
             "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
             "\"entry\":[%s]}",
             cases[i].entry);
    struct json_object *b = parse_json(text);
    struct mv_fhir_bundle_plan plan;
    mv_fhir_outcome_init(&oo);
    assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                     MV_EINVAL);
    assert_true(oo.n >= 1);
    if (strcmp(oo.issues[0].expression, cases[i].expression) != 0 ||
        strcmp(oo.issues[0].code, cases[i].code) != 0)
      fail_msg("case %zu: got %s (%s)", i, oo.issues[0].expression,
               oo.issues[0].code);
    json_object_put(b);
  }
}

static void bundle_level_errors(void **state) {
  (void)state;
  struct mv_fhir_bundle_plan plan;
  struct json_object *b =
      parse_json("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"}");
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_EINVAL);
  assert_string_equal(oo.issues[0].expression, "Bundle.type");
  json_object_put(b);
  b = parse_json("{\"resourceType\":\"Patient\"}");
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_EINVAL);
  json_object_put(b);
  b = parse_json("{\"resourceType\":\"Bundle\",\"type\":\"batch\"}");
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_OK);
  assert_int_equal(plan.n, 0);
  json_object_put(b);

  struct mv_buf t;
  mv_buf_init(&t, 1u << 20);
  assert_int_equal(
      mv_buf_appends(&t, "{\"resourceType\":\"Bundle\",\"type\":\"batch\","
                         "\"entry\":["),
      MV_OK);
  for (unsigned i = 0; i <= MV_FHIR_BUNDLE_ENTRIES_MAX; i++)
    assert_int_equal(mv_buf_appendf(&t, "%s{}", i ? "," : ""), MV_OK);
  assert_int_equal(mv_buf_appends(&t, "]}"), MV_OK);
  b = parse_json(mv_buf_cstr(&t));
  mv_fhir_outcome_init(&oo);
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_ETOOBIG);
  assert_string_equal(oo.issues[0].code, "too-costly");
  json_object_put(b);
  mv_buf_release(&t);
}

static void batch_marks_bad_entries_and_keeps_others(void **state) {
  (void)state;
  struct json_object *b = parse_json(
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
      "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/p1\"}},"
      "{\"request\":{\"method\":\"TRACE\",\"url\":\"Patient/p1\"}},"
      "{\"fullUrl\":\"" URN_A "\",\"resource\":{\"resourceType\":\"Patient\""
      "},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
      "{\"resource\":{\"resourceType\":\"Observation\",\"subject\":{"
      "\"reference\":\"" URN_A "\"}},\"request\":{\"method\":\"POST\","
      "\"url\":\"Observation\"}},"
      "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}},"
      "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}}]}");
  struct mv_fhir_bundle_plan plan;
  int n = 0;
  assert_int_equal(mv_fhir_bundle_plan(b, seq_ids, &n, arena, &plan, &oo),
                   MV_OK);
  assert_int_equal(oo.n, 0);
  assert_false(plan.transaction);
  assert_int_equal(plan.n, 6);
  assert_int_equal(plan.entries[0].err, MV_OK);
  assert_null(plan.entries[0].issue);
  assert_int_equal(plan.entries[1].err, MV_EUNSUPPORTED);
  assert_string_equal(plan.entries[1].issue->expression,
                      "Bundle.entry[1].request.method");
  assert_int_equal(plan.entries[2].err, MV_OK);
  assert_string_equal(plan.entries[2].id, "id-1");
  /* Batch entries must not refer to each other. */
  assert_int_equal(plan.entries[3].err, MV_EINVAL);
  assert_string_equal(plan.entries[3].issue->expression,
                      "Bundle.entry[3].resource.subject.reference");
  assert_string_equal(at(b, "entry.3.resource.subject.reference"), URN_A);
  /* A batch may delete twice (the second gets its own answer). */
  assert_int_equal(plan.entries[5].err, MV_OK);
  for (size_t i = 0; i < plan.n; i++)
    assert_int_equal(plan.order[i], i);
  json_object_put(b);
}

static void duplicates_are_refused_in_transactions(void **state) {
  (void)state;
  struct json_object *b = parse_json(
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}},"
      "{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/p1\"},\"resource\":"
      "{\"resourceType\":\"Patient\",\"id\":\"p1\"}},"
      "{\"fullUrl\":\"" URN_A "\",\"resource\":{\"resourceType\":\"Patient\""
      "},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}},"
      "{\"fullUrl\":\"" URN_A "\",\"resource\":{\"resourceType\":\"Patient\""
      "},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]}");
  struct mv_fhir_bundle_plan plan;
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_EINVAL);
  assert_int_equal(oo.n, 2);
  assert_string_equal(oo.issues[0].expression, "Bundle.entry[1].request.url");
  assert_string_equal(oo.issues[0].code, "duplicate");
  assert_string_equal(oo.issues[1].expression, "Bundle.entry[3].fullUrl");
  json_object_put(b);
}

static void default_and_failing_id_generators(void **state) {
  (void)state;
  struct json_object *b = parse_json(
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
      "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":"
      "\"POST\",\"url\":\"Patient\"}}]}");
  struct mv_fhir_bundle_plan plan;
  assert_int_equal(mv_fhir_bundle_plan(b, NULL, NULL, arena, &plan, &oo),
                   MV_OK);
  assert_int_equal(strlen(plan.entries[0].id), 36);
  assert_true(mv_fhir_id_valid(plan.entries[0].id));
  assert_int_equal(mv_fhir_bundle_plan(b, failing_ids, NULL, arena, &plan, &oo),
                   MV_EIO);
  json_object_put(b);
}

static void response_bundle_has_one_entry_per_reply(void **state) {
  (void)state;
  struct mv_fhir_bundle_reply r[3] = {
      {.status = 201,
       .location = "Patient/p1/_history/1",
       .version = 1,
       .last_modified_us = INT64_C(1577836800) * 1000000 + 1000,
       .full_url = "https://h/fhir/Patient/p1",
       .resource = parse_json("{\"resourceType\":\"Patient\",\"id\":\"p1\"}")},
      {.status = 204, .last_modified_us = MV_FHIR_NO_DATE},
      {.status = 404,
       .last_modified_us = MV_FHIR_NO_DATE,
       .outcome = mv_fhir_outcome_single(MV_FHIR_ERROR, "not-found", NULL,
                                         "no such resource")},
  };
  struct json_object *b = NULL;
  assert_int_equal(mv_fhir_bundle_response(true, r, 3, &b), MV_OK);
  assert_null(r[0].resource);
  assert_null(r[2].outcome);
  assert_string_equal(at(b, "type"), "transaction-response");
  assert_string_equal(at(b, "entry.0.response.status"), "201 Created");
  assert_string_equal(at(b, "entry.0.response.etag"), "W/\"1\"");
  assert_string_equal(at(b, "entry.0.response.location"),
                      "Patient/p1/_history/1");
  assert_string_equal(at(b, "entry.0.response.lastModified"),
                      "2020-01-01T00:00:00.001Z");
  assert_string_equal(at(b, "entry.0.resource.id"), "p1");
  assert_string_equal(at(b, "entry.0.fullUrl"), "https://h/fhir/Patient/p1");
  assert_string_equal(at(b, "entry.1.response.status"), "204 No Content");
  assert_null(at(b, "entry.1.response.etag"));
  assert_null(at(b, "entry.1.resource"));
  assert_string_equal(at(b, "entry.2.response.status"), "404 Not Found");
  assert_string_equal(at(b, "entry.2.response.outcome.resourceType"),
                      "OperationOutcome");
  json_object_put(b);

  assert_int_equal(mv_fhir_bundle_response(false, NULL, 0, &b), MV_OK);
  assert_string_equal(at(b, "type"), "batch-response");
  assert_null(at(b, "entry"));
  json_object_put(b);
}

static void searchset_page_with_links_and_modes(void **state) {
  (void)state;
  struct json_object *b = NULL;
  assert_int_equal(mv_fhir_bundle_page_new("searchset", 42, "https://h/s1",
                                           "https://h/s2", &b),
                   MV_OK);
  assert_string_equal(at(b, "resourceType"), "Bundle");
  assert_string_equal(at(b, "type"), "searchset");
  assert_string_equal(at(b, "total"), "42");
  assert_string_equal(at(b, "link.0.relation"), "self");
  assert_string_equal(at(b, "link.0.url"), "https://h/s1");
  assert_string_equal(at(b, "link.1.relation"), "next");
  assert_null(at(b, "entry"));
  assert_int_equal(
      mv_fhir_bundle_add_match(b, "https://h/Patient/1",
                               parse_json("{\"resourceType\":\"Patient\"}"),
                               MV_FHIR_MODE_MATCH),
      MV_OK);
  assert_int_equal(mv_fhir_bundle_add_match(
                       b, NULL,
                       mv_fhir_outcome_single(MV_FHIR_WARNING, "not-supported",
                                              "foo", "ignored"),
                       MV_FHIR_MODE_OUTCOME),
                   MV_OK);
  assert_string_equal(at(b, "entry.0.search.mode"), "match");
  assert_string_equal(at(b, "entry.0.fullUrl"), "https://h/Patient/1");
  assert_string_equal(at(b, "entry.1.search.mode"), "outcome");
  assert_null(at(b, "entry.1.fullUrl"));
  json_object_put(b);

  /* No total, no next. */
  assert_int_equal(mv_fhir_bundle_page_new("searchset", -1, "s", NULL, &b),
                   MV_OK);
  assert_null(at(b, "total"));
  assert_null(at(b, "link.1"));
  json_object_put(b);
  assert_int_equal(mv_fhir_bundle_page_new("batch", 1, NULL, NULL, &b),
                   MV_EINVAL);
}

static void history_page_entries(void **state) {
  (void)state;
  struct json_object *b = NULL;
  assert_int_equal(mv_fhir_bundle_page_new("history", 2, "s", NULL, &b), MV_OK);
  assert_int_equal(mv_fhir_bundle_add_history(b, "https://h/Patient/1", NULL,
                                              MV_FHIR_METHOD_DELETE,
                                              "Patient/1", 204, 2, 0),
                   MV_OK);
  assert_int_equal(
      mv_fhir_bundle_add_history(
          b, "https://h/Patient/1",
          parse_json("{\"resourceType\":\"Patient\",\"id\":\"1\"}"),
          MV_FHIR_METHOD_POST, "Patient", 201, 1, MV_FHIR_NO_DATE),
      MV_OK);
  assert_string_equal(at(b, "entry.0.request.method"), "DELETE");
  assert_string_equal(at(b, "entry.0.request.url"), "Patient/1");
  assert_string_equal(at(b, "entry.0.response.status"), "204 No Content");
  assert_string_equal(at(b, "entry.0.response.etag"), "W/\"2\"");
  assert_string_equal(at(b, "entry.0.response.lastModified"),
                      "1970-01-01T00:00:00.000Z");
  assert_null(at(b, "entry.0.resource"));
  assert_string_equal(at(b, "entry.1.resource.id"), "1");
  assert_null(at(b, "entry.1.response.lastModified"));
  assert_int_equal(mv_fhir_bundle_add_history(b, NULL, parse_json("{}"),
                                              (enum mv_fhir_method)9, "x", 200,
                                              1, 0),
                   MV_EINVAL); /* the resource is released, not leaked */
  json_object_put(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(transaction_resolves_urn_uuid_across_entries,
                             reset),
      cmocka_unit_test_setup(unresolvable_urn_fails_transaction_with_path,
                             reset),
      cmocka_unit_test_setup(structure_errors_name_the_element, reset),
      cmocka_unit_test_setup(bundle_level_errors, reset),
      cmocka_unit_test_setup(batch_marks_bad_entries_and_keeps_others, reset),
      cmocka_unit_test_setup(duplicates_are_refused_in_transactions, reset),
      cmocka_unit_test_setup(default_and_failing_id_generators, reset),
      cmocka_unit_test_setup(response_bundle_has_one_entry_per_reply, reset),
      cmocka_unit_test_setup(searchset_page_with_links_and_modes, reset),
      cmocka_unit_test_setup(history_page_entries, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
