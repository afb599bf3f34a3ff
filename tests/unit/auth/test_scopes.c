/* SPDX-License-Identifier: Apache-2.0 */
/* Tests for roles and SMART-style scopes (src/auth/scopes.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mv_auth.h"

static int parse(const char *text, struct mv_auth_scopes *out) {
  return mv_auth_scopes_parse(text, strlen(text), out);
}

static const char *fmt(const struct mv_auth_scopes *sc) {
  static char buf[MV_AUTH_SCOPE_TEXT_MAX + 1];
  assert_int_equal(mv_auth_scopes_format(sc, buf, sizeof(buf)), MV_OK);
  return buf;
}

static void role_names_round_trip(void **state) {
  (void)state;
  const char *names[] = {"patient", "clinician", "admin",
                         "auditor", "device",    "public-health"};
  for (size_t i = 0; i < MV_ARRAY_LEN(names); i++) {
    enum mv_auth_role r = MV_AUTH_ROLE_NONE;
    assert_int_equal(mv_auth_role_parse(names[i], &r), MV_OK);
    assert_int_equal(r, (enum mv_auth_role)(i + 1));
    assert_string_equal(mv_auth_role_name(r), names[i]);
  }
  enum mv_auth_role r = MV_AUTH_ROLE_ADMIN;
  const char *bad[] = {"", "Admin", "admin ", "root", "none"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(mv_auth_role_parse(bad[i], &r), MV_EINVAL);
  assert_int_equal(r, MV_AUTH_ROLE_ADMIN); /* untouched */
  assert_null(mv_auth_role_name(MV_AUTH_ROLE_NONE));
  assert_null(mv_auth_role_name((enum mv_auth_role)99));
}

static void parse_reads_v1_scopes_and_merges_duplicates(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  assert_int_equal(
      parse("patient/*.read user/Observation.write system/*.*", &sc), MV_OK);
  assert_int_equal(sc.n, 3);
  assert_int_equal(sc.s[0].ctx, MV_AUTH_CTX_PATIENT);
  assert_string_equal(sc.s[0].type, "*");
  assert_int_equal(sc.s[0].access, MV_AUTH_ACCESS_READ);
  assert_int_equal(sc.s[1].ctx, MV_AUTH_CTX_USER);
  assert_string_equal(sc.s[1].type, "Observation");
  assert_int_equal(sc.s[1].access, MV_AUTH_ACCESS_WRITE);
  assert_int_equal(sc.s[2].access, MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE);
  /* Runs of spaces, identity scopes ignored, duplicates merged. */
  assert_int_equal(parse("  openid fhirUser user/Patient.read   launch/patient "
                         "user/Patient.write offline_access user/Patient.read ",
                         &sc),
                   MV_OK);
  assert_int_equal(sc.n, 1);
  assert_string_equal(fmt(&sc), "user/Patient.*");
  assert_int_equal(parse("", &sc), MV_OK);
  assert_int_equal(sc.n, 0);
  assert_string_equal(fmt(&sc), "");
}

static void parse_maps_v2_permissions(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  assert_int_equal(parse("patient/Observation.rs", &sc), MV_OK);
  assert_int_equal(sc.s[0].access, MV_AUTH_ACCESS_READ);
  assert_int_equal(parse("user/Observation.c", &sc), MV_OK);
  assert_int_equal(sc.s[0].access, MV_AUTH_ACCESS_WRITE);
  assert_int_equal(parse("user/*.cruds", &sc), MV_OK);
  assert_int_equal(sc.s[0].access, MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE);
  assert_int_equal(parse("user/*.sr", &sc), MV_EINVAL); /* out of order */
  assert_int_equal(parse("user/*.rr", &sc), MV_EINVAL);
  assert_int_equal(parse("user/*.x", &sc), MV_EINVAL);
}

static void parse_rejects_malformed_scopes(void **state) {
  (void)state;
  const char *bad[] = {
      "patient",
      "foo/Observation.read",
      "patient/observation.read",
      "patient/Observation",
      "patient/Observation.",
      "patient/.read",
      "patient/Obs-x.read",
      "Patient/*.read",
      "patient/*.readx",
      "user/Obs*.read",
      "patient/*.read\tuser/*.read",
      "user/*.read extra",
      "/*.read",
      "user/*.read.read",
  };
  struct mv_auth_scopes sc = {.n = 7};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++)
    assert_int_equal(parse(bad[i], &sc), MV_EINVAL);
  assert_int_equal(sc.n, 7); /* untouched */
  assert_int_equal(mv_auth_scopes_parse(NULL, 0, &sc), MV_EINVAL);
}

static void parse_is_bounded(void **state) {
  (void)state;
  char text[2 * MV_AUTH_SCOPE_TEXT_MAX];
  size_t used = 0;
  static const char *const types[] = {
      "Patient",     "Practitioner",  "CareTeam",     "Device",
      "Observation", "Encounter",     "Condition",    "DiagnosticReport",
      "Flag",        "Communication", "Appointment",  "Consent",
      "AuditEvent",  "Bundle",        "Organization", "Location",
      "Medication"};
  for (size_t i = 0; i < MV_ARRAY_LEN(types); i++)
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%suser/%s.read",
                             i ? " " : "", types[i]);
  struct mv_auth_scopes sc;
  assert_int_equal(mv_auth_scopes_parse(text, used, &sc), MV_ETOOBIG);
  /* 16 distinct scopes fit. */
  char *last = strrchr(text, ' ');
  assert_int_equal(mv_auth_scopes_parse(text, (size_t)(last - text), &sc),
                   MV_OK);
  assert_int_equal(sc.n, MV_AUTH_SCOPES_MAX);
  memset(text, ' ', sizeof(text));
  assert_int_equal(mv_auth_scopes_parse(text, MV_AUTH_SCOPE_TEXT_MAX, &sc),
                   MV_OK);
  assert_int_equal(mv_auth_scopes_parse(text, MV_AUTH_SCOPE_TEXT_MAX + 1, &sc),
                   MV_ETOOBIG);
}

static void format_reports_small_buffers(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  char small[10];
  assert_int_equal(parse("user/Observation.read", &sc), MV_OK);
  assert_int_equal(mv_auth_scopes_format(&sc, small, sizeof(small)),
                   MV_ETOOBIG);
  assert_string_equal(small, "");
  char exact[sizeof("user/Observation.read")];
  assert_int_equal(mv_auth_scopes_format(&sc, exact, sizeof(exact)), MV_OK);
  assert_string_equal(exact, "user/Observation.read");
}

static void allow_checks_type_and_access(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  assert_int_equal(parse("user/Observation.write patient/*.read", &sc), MV_OK);
  assert_true(mv_auth_scopes_allow(&sc, "Observation", MV_AUTH_ACCESS_WRITE));
  assert_true(mv_auth_scopes_allow(&sc, "Observation", MV_AUTH_ACCESS_READ));
  assert_true(mv_auth_scopes_allow(&sc, "Condition", MV_AUTH_ACCESS_READ));
  assert_false(mv_auth_scopes_allow(&sc, "Condition", MV_AUTH_ACCESS_WRITE));
  assert_false(mv_auth_scopes_allow(
      &sc, "Observation", MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE));
  assert_false(mv_auth_scopes_allow(&sc, NULL, MV_AUTH_ACCESS_READ));
  assert_false(mv_auth_scopes_allow(NULL, "Patient", MV_AUTH_ACCESS_READ));
  assert_false(mv_auth_scopes_allow(&sc, "Patient", 0));
}

static void defaults_per_role(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  const struct {
    enum mv_auth_role role;
    const char *want;
  } cases[] = {
      {MV_AUTH_ROLE_PATIENT, "patient/*.read patient/Observation.write "
                             "patient/Communication.write"},
      {MV_AUTH_ROLE_CLINICIAN, "user/*.*"},
      {MV_AUTH_ROLE_ADMIN, "user/*.*"},
      {MV_AUTH_ROLE_AUDITOR, "user/AuditEvent.read"},
      {MV_AUTH_ROLE_DEVICE, "user/Observation.write"},
      {MV_AUTH_ROLE_PUBLIC_HEALTH, "user/MeasureReport.*"},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(cases); i++) {
    assert_int_equal(mv_auth_scopes_default(cases[i].role, &sc), MV_OK);
    assert_string_equal(fmt(&sc), cases[i].want);
  }
  assert_int_equal(mv_auth_scopes_default(MV_AUTH_ROLE_NONE, &sc), MV_EINVAL);
  assert_int_equal(mv_auth_scopes_default((enum mv_auth_role)42, &sc),
                   MV_EINVAL);
}

static void intersect_takes_the_narrower_of_each_pair(void **state) {
  (void)state;
  struct mv_auth_scopes a, b, out;
  assert_int_equal(parse("system/*.* patient/Observation.read", &a), MV_OK);
  assert_int_equal(parse("user/Observation.write patient/*.read", &b), MV_OK);
  assert_int_equal(mv_auth_scopes_intersect(&a, &b, &out), MV_OK);
  assert_string_equal(fmt(&out), "user/Observation.write patient/*.read "
                                 "patient/Observation.read");
  assert_int_equal(parse("user/Patient.read", &a), MV_OK);
  assert_int_equal(parse("user/Observation.*", &b), MV_OK);
  assert_int_equal(mv_auth_scopes_intersect(&a, &b, &out), MV_OK);
  assert_int_equal(out.n, 0);
}

static void grant_intersects_the_request_with_the_role(void **state) {
  (void)state;
  struct mv_auth_scopes sc;
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_DEVICE, NULL, &sc), MV_OK);
  assert_string_equal(fmt(&sc), "user/Observation.write");
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_DEVICE, "", &sc), MV_OK);
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_DEVICE, "system/*.*", &sc),
                   MV_OK);
  assert_string_equal(fmt(&sc), "user/Observation.write");
  assert_int_equal(
      mv_auth_scopes_grant(MV_AUTH_ROLE_PATIENT, "user/*.read openid", &sc),
      MV_OK);
  assert_string_equal(fmt(&sc), "patient/*.read");
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_CLINICIAN,
                                        "user/Observation.read", &sc),
                   MV_OK);
  assert_string_equal(fmt(&sc), "user/Observation.read");

  struct mv_auth_scopes keep = sc;
  assert_int_equal(
      mv_auth_scopes_grant(MV_AUTH_ROLE_DEVICE, "user/Patient.read", &sc),
      MV_EPERM);
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_AUDITOR, "openid", &sc),
                   MV_EPERM);
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_ADMIN, "user/x.read", &sc),
                   MV_EINVAL);
  assert_int_equal(mv_auth_scopes_grant(MV_AUTH_ROLE_NONE, NULL, &sc),
                   MV_EINVAL);
  assert_memory_equal(&sc, &keep, sizeof(sc));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(role_names_round_trip),
      cmocka_unit_test(parse_reads_v1_scopes_and_merges_duplicates),
      cmocka_unit_test(parse_maps_v2_permissions),
      cmocka_unit_test(parse_rejects_malformed_scopes),
      cmocka_unit_test(parse_is_bounded),
      cmocka_unit_test(format_reports_small_buffers),
      cmocka_unit_test(allow_checks_type_and_access),
      cmocka_unit_test(defaults_per_role),
      cmocka_unit_test(intersect_takes_the_narrower_of_each_pair),
      cmocka_unit_test(grant_intersects_the_request_with_the_role),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
