/* SPDX-License-Identifier: Apache-2.0 */
/* OperationOutcome building and the resource-type registry. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "mv_fhir.h"
#include "mv_json.h"

static const char *issue_field(struct json_object *oo, size_t i,
                               const char *key) {
  struct json_object *arr, *is, *v;
  if (!json_object_object_get_ex(oo, "issue", &arr))
    return NULL;
  is = json_object_array_get_idx(arr, i);
  if (!is || !json_object_object_get_ex(is, key, &v))
    return NULL;
  if (json_object_is_type(v, json_type_array))
    v = json_object_array_get_idx(v, 0);
  return json_object_get_string(v);
}

static void outcome_lists_issues_with_expression(void **state) {
  struct mv_fhir_outcome o;
  struct json_object *oo = NULL;
  (void)state;
  mv_fhir_outcome_init(&o);
  assert_false(mv_fhir_outcome_has_errors(&o));
  mv_fhir_outcome_add(&o, MV_FHIR_WARNING, "not-supported", "foo",
                      "unknown search parameter");
  assert_false(mv_fhir_outcome_has_errors(&o));
  mv_fhir_outcome_add(&o, MV_FHIR_ERROR, "value",
                      "Observation.valueQuantity.code", "UCUM unit must be %s",
                      "/min");
  assert_true(mv_fhir_outcome_has_errors(&o));
  assert_int_equal(mv_fhir_outcome_to_json(&o, &oo), MV_OK);
  assert_string_equal(
      json_object_get_string(json_object_object_get(oo, "resourceType")),
      "OperationOutcome");
  assert_string_equal(issue_field(oo, 0, "severity"), "warning");
  assert_string_equal(issue_field(oo, 1, "severity"), "error");
  assert_string_equal(issue_field(oo, 1, "code"), "value");
  assert_string_equal(issue_field(oo, 1, "expression"),
                      "Observation.valueQuantity.code");
  assert_string_equal(issue_field(oo, 1, "diagnostics"),
                      "UCUM unit must be /min");
  json_object_put(oo);
}

static void empty_outcome_still_has_one_issue(void **state) {
  struct mv_fhir_outcome o;
  struct json_object *oo = NULL;
  (void)state;
  mv_fhir_outcome_init(&o);
  assert_int_equal(mv_fhir_outcome_to_json(&o, &oo), MV_OK);
  assert_string_equal(issue_field(oo, 0, "severity"), "information");
  assert_null(issue_field(oo, 0, "expression"));
  json_object_put(oo);
}

static void full_outcome_is_truncated_not_overflowed(void **state) {
  struct mv_fhir_outcome o;
  struct json_object *oo = NULL, *arr;
  (void)state;
  mv_fhir_outcome_init(&o);
  for (int i = 0; i < (int)MV_FHIR_ISSUES_MAX + 10; i++)
    mv_fhir_outcome_add(&o, MV_FHIR_ERROR, "value", NULL, "issue %d", i);
  assert_int_equal(o.n, MV_FHIR_ISSUES_MAX);
  assert_true(o.truncated);
  assert_int_equal(mv_fhir_outcome_to_json(&o, &oo), MV_OK);
  assert_true(json_object_object_get_ex(oo, "issue", &arr));
  assert_int_equal(json_object_array_length(arr), MV_FHIR_ISSUES_MAX + 1);
  json_object_put(oo);
}

static void single_and_issue_codes(void **state) {
  struct json_object *oo;
  (void)state;
  oo = mv_fhir_outcome_single(MV_FHIR_ERROR, mv_fhir_issue_code_for(MV_EGONE),
                              NULL, "resource deleted");
  assert_non_null(oo);
  assert_string_equal(issue_field(oo, 0, "code"), "deleted");
  json_object_put(oo);
  assert_string_equal(mv_fhir_issue_code_for(MV_EPERM), "forbidden");
  assert_string_equal(mv_fhir_issue_code_for(MV_EAUTH), "login");
  assert_string_equal(mv_fhir_issue_code_for(MV_ENOTFOUND), "not-found");
  assert_string_equal(mv_fhir_issue_code_for(MV_EIO), "exception");
}

static void types_and_ids(void **state) {
  size_t n = 0;
  const char *const *t = mv_fhir_types(&n);
  (void)state;
  assert_int_equal(n, 13);
  for (size_t i = 0; i < n; i++)
    assert_true(mv_fhir_type_supported(t[i]));
  assert_true(mv_fhir_type_supported("Bundle"));
  assert_false(mv_fhir_type_supported("Medication"));
  assert_false(mv_fhir_type_supported("patient"));
  assert_false(mv_fhir_type_supported(NULL));
  assert_true(mv_fhir_id_valid("a-B.9"));
  assert_false(mv_fhir_id_valid(""));
  assert_false(mv_fhir_id_valid("a/b"));
  assert_false(mv_fhir_id_valid("a_b"));
  char id[80];
  memset(id, 'a', 64);
  id[64] = '\0';
  assert_true(mv_fhir_id_valid(id));
  id[64] = 'a';
  id[65] = '\0';
  assert_false(mv_fhir_id_valid(id));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(outcome_lists_issues_with_expression),
      cmocka_unit_test(empty_outcome_still_has_one_issue),
      cmocka_unit_test(full_outcome_is_truncated_not_overflowed),
      cmocka_unit_test(single_and_issue_codes),
      cmocka_unit_test(types_and_ids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
