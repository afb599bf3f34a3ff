/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for the CapabilityStatement (src/fhir/capability.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mv_fhir_search.h"

static struct json_object *member(struct json_object *o, const char *key) {
  struct json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v))
    return NULL;
  return v;
}

static const char *str(struct json_object *o, const char *key) {
  struct json_object *v = member(o, key);
  return v ? json_object_get_string(v) : NULL;
}

static bool has_interaction(struct json_object *r, const char *code) {
  struct json_object *arr = member(r, "interaction");
  for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
    if (strcmp(str(json_object_array_get_idx(arr, i), "code"), code) == 0)
      return true;
  return false;
}

/* FHIR JSON: no empty arrays, objects or strings anywhere. */
static void assert_no_empty(struct json_object *o) {
  if (json_object_is_type(o, json_type_array)) {
    assert_true(json_object_array_length(o) > 0);
    for (size_t i = 0; i < json_object_array_length(o); i++)
      assert_no_empty(json_object_array_get_idx(o, i));
  } else if (json_object_is_type(o, json_type_object)) {
    assert_true(json_object_object_length(o) > 0);
    json_object_object_foreach(o, k, v) {
      (void)k;
      assert_no_empty(v);
    }
  } else if (json_object_is_type(o, json_type_string)) {
    assert_true(json_object_get_string_len(o) > 0);
  }
}

static void capability_has_required_elements(void **state) {
  (void)state;
  struct json_object *cs = NULL;
  assert_int_equal(mv_fhir_capability("https://h.example/fhir", &cs), MV_OK);
  assert_string_equal(str(cs, "resourceType"), "CapabilityStatement");
  assert_string_equal(str(cs, "status"), "active");
  assert_string_equal(str(cs, "kind"), "instance");
  assert_string_equal(str(cs, "fhirVersion"), "4.0.1");
  assert_non_null(str(cs, "date"));
  assert_int_equal(
      mv_fhir_date_parse(str(cs, "date"), MV_FHIR_DATETIME, NULL, NULL, NULL),
      MV_OK);
  struct json_object *fmt = member(cs, "format");
  assert_int_equal(json_object_array_length(fmt), 2);
  assert_string_equal(json_object_get_string(json_object_array_get_idx(fmt, 0)),
                      "application/fhir+json");
  assert_string_equal(json_object_get_string(json_object_array_get_idx(fmt, 1)),
                      "json");
  /* cpb-15: kind instance needs implementation. */
  assert_string_equal(str(member(cs, "implementation"), "url"),
                      "https://h.example/fhir");
  assert_non_null(str(member(cs, "implementation"), "description"));
  assert_string_equal(str(member(cs, "software"), "name"), "medverse");
  struct json_object *rest = json_object_array_get_idx(member(cs, "rest"), 0);
  assert_string_equal(str(rest, "mode"), "server");
  assert_true(has_interaction(rest, "transaction"));
  assert_true(has_interaction(rest, "batch"));
  assert_no_empty(cs);
  json_object_put(cs);

  /* Without a base URL the implementation still has its description. */
  assert_int_equal(mv_fhir_capability(NULL, &cs), MV_OK);
  assert_null(str(member(cs, "implementation"), "url"));
  assert_no_empty(cs);
  json_object_put(cs);
}

static void capability_lists_every_type_and_its_search_params(void **state) {
  (void)state;
  struct json_object *cs = NULL;
  assert_int_equal(mv_fhir_capability("https://h/fhir", &cs), MV_OK);
  struct json_object *rest = json_object_array_get_idx(member(cs, "rest"), 0);
  struct json_object *res = member(rest, "resource");
  size_t nt;
  const char *const *types = mv_fhir_types(&nt);
  assert_int_equal(json_object_array_length(res), nt);
  for (size_t i = 0; i < nt; i++) {
    struct json_object *r = json_object_array_get_idx(res, i);
    assert_string_equal(str(r, "type"), types[i]);
    assert_string_equal(str(r, "versioning"), "versioned");
    assert_false(json_object_get_boolean(member(r, "conditionalCreate")));
    assert_true(has_interaction(r, "read"));
    assert_true(has_interaction(r, "search-type"));
    bool audit = strcmp(types[i], "AuditEvent") == 0;
    const char *writes[] = {"create", "update",       "delete",
                            "vread",  "history-type", "history-instance"};
    for (size_t k = 0; k < MV_ARRAY_LEN(writes); k++)
      assert_int_equal(has_interaction(r, writes[k]), !audit);
    assert_int_equal(json_object_get_boolean(member(r, "updateCreate")),
                     !audit);
    assert_int_equal(json_object_get_boolean(member(r, "readHistory")), !audit);

    /* Exactly the registry's parameters, with FHIR type names. */
    size_t np;
    const struct mv_fhir_search_param *p = mv_fhir_search_params(types[i], &np);
    struct json_object *sp = member(r, "searchParam");
    assert_int_equal(json_object_array_length(sp), np);
    for (size_t k = 0; k < np; k++) {
      struct json_object *e = json_object_array_get_idx(sp, k);
      assert_string_equal(str(e, "name"), p[k].name);
      const char *t = str(e, "type");
      assert_true(strcmp(t, "string") == 0 || strcmp(t, "token") == 0 ||
                  strcmp(t, "reference") == 0 || strcmp(t, "date") == 0);
    }
  }
  json_object_put(cs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(capability_has_required_elements),
      cmocka_unit_test(capability_lists_every_type_and_its_search_params),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
