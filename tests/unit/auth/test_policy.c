/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for mv_auth_decide (src/auth/policy.c). The expectations are written
 * out by hand, not recomputed: for each role, action and resource type, one
 * string gives allow (A) or deny (D) in nine situations:
 *
 *   index = own*4 + care*2 + consent for 0..7, where own: the target's
 *   compartment is the principal's own fhir_id (else another patient's);
 *   care: on_care_team; consent: consent_denies. Index 8: no compartment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "mv_auth.h"

#define OWN_ID "self-1"
#define OTHER_ID "other-2"

static struct mv_auth_principal principal(enum mv_auth_role role) {
  struct mv_auth_principal p;
  memset(&p, 0, sizeof(p));
  snprintf(p.sub, sizeof(p.sub), "someone");
  p.role = role;
  snprintf(p.fhir_id, sizeof(p.fhir_id), OWN_ID);
  if (role != MV_AUTH_ROLE_NONE)
    assert_int_equal(mv_auth_scopes_default(role, &p.scopes), MV_OK);
  return p;
}

static int decide_in(const struct mv_auth_principal *p, enum mv_auth_action a,
                     const char *type, int situation, const char **why) {
  struct mv_auth_request r = {.action = a, .type = type};
  if (situation == 8) {
    r.patient_id = "";
  } else {
    r.patient_id = (situation & 4) ? OWN_ID : OTHER_ID;
    r.on_care_team = (situation & 2) != 0;
    r.consent_denies = (situation & 1) != 0;
  }
  return mv_auth_decide(p, &r, why);
}

struct row {
  enum mv_auth_role role;
  enum mv_auth_action action;
  const char *type;
  const char *expect; /* 9 chars, A or D */
};

#define ALL "AAAAAAAAA"
#define NONE "DDDDDDDDD"
#define OWN "DDDDAAAAD"  /* own compartment only */
#define CARE "DDADDDADD" /* on care team and no denying Consent */

#define PAT MV_AUTH_ROLE_PATIENT
#define CLIN MV_AUTH_ROLE_CLINICIAN
#define ADM MV_AUTH_ROLE_ADMIN
#define AUD MV_AUTH_ROLE_AUDITOR
#define DEV MV_AUTH_ROLE_DEVICE
#define PH MV_AUTH_ROLE_PUBLIC_HEALTH
#define RD MV_AUTH_ACT_READ
#define VR MV_AUTH_ACT_VREAD
#define SE MV_AUTH_ACT_SEARCH
#define HI MV_AUTH_ACT_HISTORY
#define CR MV_AUTH_ACT_CREATE
#define UP MV_AUTH_ACT_UPDATE
#define DE MV_AUTH_ACT_DELETE
#define ER MV_AUTH_ACT_ERASE
#define AR MV_AUTH_ACT_AUDIT_READ
#define LR MV_AUTH_ACT_LEDGER_READ
#define AD MV_AUTH_ACT_ADMIN
#define SR MV_AUTH_ACT_SURV_READ
#define SW MV_AUTH_ACT_SURV_WRITE

/* clang-format off */
static const struct row rows[] = {
    /* Clinical data: Observation. */
    {PAT, RD, "Observation", OWN},  {PAT, VR, "Observation", OWN},
    {PAT, SE, "Observation", OWN},  {PAT, HI, "Observation", OWN},
    {PAT, CR, "Observation", OWN},  {PAT, UP, "Observation", NONE},
    {PAT, DE, "Observation", NONE}, {PAT, ER, "Observation", NONE},
    {CLIN, RD, "Observation", CARE}, {CLIN, VR, "Observation", CARE},
    {CLIN, SE, "Observation", CARE}, {CLIN, HI, "Observation", CARE},
    {CLIN, CR, "Observation", CARE}, {CLIN, UP, "Observation", CARE},
    {CLIN, DE, "Observation", CARE}, {CLIN, ER, "Observation", NONE},
    {ADM, RD, "Observation", ALL},  {ADM, VR, "Observation", ALL},
    {ADM, SE, "Observation", ALL},  {ADM, HI, "Observation", ALL},
    {ADM, CR, "Observation", ALL},  {ADM, UP, "Observation", ALL},
    {ADM, DE, "Observation", ALL},  {ADM, ER, "Observation", NONE},
    {AUD, RD, "Observation", NONE}, {AUD, VR, "Observation", NONE},
    {AUD, SE, "Observation", NONE}, {AUD, HI, "Observation", NONE},
    {AUD, CR, "Observation", NONE}, {AUD, UP, "Observation", NONE},
    {AUD, DE, "Observation", NONE}, {AUD, ER, "Observation", NONE},
    {DEV, RD, "Observation", NONE}, {DEV, VR, "Observation", NONE},
    {DEV, SE, "Observation", NONE}, {DEV, HI, "Observation", NONE},
    {DEV, CR, "Observation", OWN},  {DEV, UP, "Observation", NONE},
    {DEV, DE, "Observation", NONE}, {DEV, ER, "Observation", NONE},
    /* Patient: clinicians create them (then join the CareTeam); only
     * admins erase them. */
    {PAT, RD, "Patient", OWN},       {PAT, CR, "Patient", NONE},
    {PAT, UP, "Patient", NONE},      {PAT, ER, "Patient", NONE},
    {CLIN, RD, "Patient", CARE},     {CLIN, CR, "Patient", "ADADADADA"},
    {CLIN, UP, "Patient", CARE},     {CLIN, DE, "Patient", CARE},
    {CLIN, ER, "Patient", NONE},     {ADM, CR, "Patient", ALL},
    {ADM, ER, "Patient", ALL},       {AUD, ER, "Patient", NONE},
    {DEV, CR, "Patient", NONE},      {DEV, ER, "Patient", NONE},
    /* What a patient may write: Observation (above) and Communication. */
    {PAT, CR, "Communication", OWN}, {PAT, CR, "Condition", NONE},
    {PAT, UP, "Communication", NONE}, {PAT, CR, "Consent", NONE},
    {DEV, CR, "Communication", NONE}, {CLIN, CR, "Condition", CARE},
    /* AuditEvent: written by the server only, read by its patient, auditors
     * and admins. */
    {PAT, RD, "AuditEvent", OWN},    {PAT, SE, "AuditEvent", OWN},
    {PAT, CR, "AuditEvent", NONE},   {PAT, UP, "AuditEvent", NONE},
    {CLIN, RD, "AuditEvent", NONE},  {CLIN, SE, "AuditEvent", NONE},
    {CLIN, CR, "AuditEvent", NONE},  {CLIN, DE, "AuditEvent", NONE},
    {ADM, RD, "AuditEvent", ALL},    {ADM, SE, "AuditEvent", ALL},
    {ADM, HI, "AuditEvent", ALL},    {ADM, CR, "AuditEvent", NONE},
    {ADM, UP, "AuditEvent", NONE},   {ADM, DE, "AuditEvent", NONE},
    {ADM, ER, "AuditEvent", NONE},   {AUD, RD, "AuditEvent", ALL},
    {AUD, VR, "AuditEvent", ALL},    {AUD, SE, "AuditEvent", ALL},
    {AUD, HI, "AuditEvent", ALL},    {AUD, CR, "AuditEvent", NONE},
    {AUD, UP, "AuditEvent", NONE},   {DEV, SE, "AuditEvent", NONE},
    {DEV, CR, "AuditEvent", NONE},
    /* The directory: resources without a patient. */
    {CLIN, RD, "Practitioner", "DDADDDADA"}, {CLIN, SE, "Device", "DDADDDADA"},
    {CLIN, HI, "CareTeam", "DDADDDADA"},     {CLIN, SE, "Flag", CARE},
    {CLIN, CR, "Practitioner", CARE},        {CLIN, UP, "Device", CARE},
    {PAT, RD, "Practitioner", OWN},          {AUD, RD, "Practitioner", NONE},
    {ADM, CR, "Practitioner", ALL},          {DEV, RD, "Device", NONE},
    /* Views outside FHIR (type ignored). */
    {PAT, AR, NULL, NONE}, {PAT, LR, NULL, NONE}, {PAT, AD, NULL, NONE},
    {CLIN, AR, NULL, NONE}, {CLIN, LR, NULL, NONE}, {CLIN, AD, NULL, NONE},
    {ADM, AR, NULL, ALL},  {ADM, LR, NULL, ALL},  {ADM, AD, NULL, ALL},
    {AUD, AR, NULL, ALL},  {AUD, LR, NULL, ALL},  {AUD, AD, NULL, NONE},
    {DEV, AR, NULL, NONE}, {DEV, LR, NULL, NONE}, {DEV, AD, NULL, NONE},
    /* Surveillance (aggregated counts): public-health and admins only. */
    {PH, SR, NULL, ALL},   {PH, SW, NULL, ALL},   {ADM, SR, NULL, ALL},
    {ADM, SW, NULL, ALL},  {PAT, SR, NULL, NONE}, {PAT, SW, NULL, NONE},
    {CLIN, SR, NULL, NONE}, {CLIN, SW, NULL, NONE}, {AUD, SR, NULL, NONE},
    {AUD, SW, NULL, NONE}, {DEV, SR, NULL, NONE}, {DEV, SW, NULL, NONE},
    /* Public-health never reaches a record, an audit trail or the admin. */
    {PH, RD, "Observation", NONE}, {PH, SE, "Patient", NONE},
    {PH, RD, "MeasureReport", NONE}, {PH, CR, "MeasureReport", NONE},
    {PH, SE, "AuditEvent", NONE},  {PH, AR, NULL, NONE},
    {PH, LR, NULL, NONE},          {PH, AD, NULL, NONE},
    {PAT, SW, "Observation", NONE}, {CLIN, SR, "Patient", NONE},
};
/* clang-format on */

static void role_action_situation_table(void **state) {
  (void)state;
  for (size_t i = 0; i < MV_ARRAY_LEN(rows); i++) {
    const struct row *w = &rows[i];
    struct mv_auth_principal p = principal(w->role);
    assert_int_equal(strlen(w->expect), 9);
    for (int s = 0; s < 9; s++) {
      const char *why = NULL;
      int rc = decide_in(&p, w->action, w->type, s, &why);
      int want = w->expect[s] == 'A' ? MV_OK : MV_EPERM;
      if (rc != want)
        fail_msg("row %zu (%s, action %d, %s) situation %d: got %s (%s)", i,
                 mv_auth_role_name(w->role), (int)w->action,
                 w->type ? w->type : "-", s, mv_err_name(rc), why ? why : "?");
      assert_non_null(why);
      assert_null(strstr(why, OWN_ID));
      assert_null(strstr(why, OTHER_ID));
    }
  }
}

/* Every role x action x situation is decided, and the fixed rules hold for
 * every type: nobody writes AuditEvents, nothing but admin erases. */
static void every_combination_respects_the_fixed_rules(void **state) {
  (void)state;
  static const char *const types[] = {
      "Patient",     "Practitioner",  "CareTeam",    "Device",
      "Observation", "Encounter",     "Condition",   "DiagnosticReport",
      "Flag",        "Communication", "Appointment", "Consent",
      "AuditEvent",  "Bundle"};
  for (int role = MV_AUTH_ROLE_PATIENT; role <= MV_AUTH_ROLE_PUBLIC_HEALTH;
       role++) {
    struct mv_auth_principal p = principal((enum mv_auth_role)role);
    for (int a = 0; a < MV_AUTH_ACT_COUNT; a++)
      for (size_t t = 0; t < MV_ARRAY_LEN(types); t++)
        for (int s = 0; s < 9; s++) {
          int rc = decide_in(&p, (enum mv_auth_action)a, types[t], s, NULL);
          assert_true(rc == MV_OK || rc == MV_EPERM);
          bool write = a == CR || a == UP || a == DE || a == ER;
          if (write && strcmp(types[t], "AuditEvent") == 0)
            assert_int_equal(rc, MV_EPERM);
          if (a == ER && role != ADM)
            assert_int_equal(rc, MV_EPERM);
          if (role == DEV && a != CR)
            assert_int_equal(rc, MV_EPERM);
          if (role == AUD && a <= ER && strcmp(types[t], "AuditEvent") != 0)
            assert_int_equal(rc, MV_EPERM);
          if (role == PH && a != SR && a != SW)
            assert_int_equal(rc, MV_EPERM);
          if ((a == SR || a == SW) && role != PH && role != ADM)
            assert_int_equal(rc, MV_EPERM);
        }
  }
}

static int decide_scoped(enum mv_auth_role role, const char *scopes,
                         enum mv_auth_action a, const char *type,
                         const char *patient) {
  struct mv_auth_principal p = principal(role);
  assert_int_equal(mv_auth_scopes_grant(role, scopes, &p.scopes), MV_OK);
  struct mv_auth_request r = {
      .action = a, .type = type, .patient_id = patient, .on_care_team = true};
  return mv_auth_decide(&p, &r, NULL);
}

static void scopes_narrow_what_a_role_may_do(void **state) {
  (void)state;
  /* A patient token limited to Observation reads. */
  assert_int_equal(
      decide_scoped(PAT, "patient/Observation.read", RD, "Observation", OWN_ID),
      MV_OK);
  assert_int_equal(
      decide_scoped(PAT, "patient/Observation.read", RD, "Condition", OWN_ID),
      MV_EPERM);
  assert_int_equal(
      decide_scoped(PAT, "patient/Observation.read", CR, "Observation", OWN_ID),
      MV_EPERM);
  /* A read-only clinician token. */
  assert_int_equal(
      decide_scoped(CLIN, "user/*.read", RD, "Observation", OTHER_ID), MV_OK);
  assert_int_equal(
      decide_scoped(CLIN, "user/*.read", CR, "Observation", OTHER_ID),
      MV_EPERM);
  /* A clinician token in patient context reaches no other patient. */
  assert_int_equal(
      decide_scoped(CLIN, "patient/*.read", RD, "Observation", OTHER_ID),
      MV_EPERM);
  /* Administration needs a wildcard user/ or system/ write scope. */
  assert_int_equal(decide_scoped(ADM, NULL, AD, NULL, NULL), MV_OK);
  assert_int_equal(decide_scoped(ADM, "user/Patient.*", AD, NULL, NULL),
                   MV_EPERM);
  assert_int_equal(decide_scoped(ADM, "patient/*.*", AD, NULL, NULL), MV_EPERM);
  assert_int_equal(decide_scoped(ADM, "user/*.read", AD, NULL, NULL), MV_EPERM);
  assert_int_equal(
      decide_scoped(ADM, "user/Patient.write", ER, "Patient", OTHER_ID), MV_OK);
  assert_int_equal(
      decide_scoped(ADM, "user/Patient.read", ER, "Patient", OTHER_ID),
      MV_EPERM);
  /* Audit views need AuditEvent read. */
  assert_int_equal(decide_scoped(ADM, "user/Patient.*", AR, NULL, NULL),
                   MV_EPERM);
  assert_int_equal(decide_scoped(AUD, NULL, LR, NULL, NULL), MV_OK);
  /* Surveillance needs MeasureReport read (views) or write (uploads). */
  assert_int_equal(decide_scoped(PH, "user/MeasureReport.read", SR, NULL, NULL),
                   MV_OK);
  assert_int_equal(decide_scoped(PH, "user/MeasureReport.read", SW, NULL, NULL),
                   MV_EPERM);
  assert_int_equal(decide_scoped(ADM, "user/Patient.*", SR, NULL, NULL),
                   MV_EPERM);
  assert_int_equal(decide_scoped(ADM, NULL, SW, NULL, NULL), MV_OK);

  /* No scopes at all: nothing, whatever the role. */
  struct mv_auth_principal p = principal(ADM);
  p.scopes.n = 0;
  struct mv_auth_request r = {.action = RD, .type = "Patient"};
  const char *why = NULL;
  assert_int_equal(mv_auth_decide(&p, &r, &why), MV_EPERM);
  assert_string_equal(why, "token scopes do not allow this access");
}

static void it_fails_closed(void **state) {
  (void)state;
  const char *why = NULL;
  struct mv_auth_principal p = principal(ADM);
  struct mv_auth_request r = {.action = RD, .type = "Patient"};
  assert_int_equal(mv_auth_decide(&p, &r, &why), MV_OK);
  assert_string_equal(why, "allowed");
  assert_int_equal(mv_auth_decide(NULL, &r, &why), MV_EPERM);
  assert_int_equal(mv_auth_decide(&p, NULL, NULL), MV_EPERM);
  struct mv_auth_principal zero;
  memset(&zero, 0, sizeof(zero));
  assert_int_equal(mv_auth_decide(&zero, &r, &why), MV_EPERM);
  assert_string_equal(why, "unknown role");
  p.role = (enum mv_auth_role)77;
  assert_int_equal(mv_auth_decide(&p, &r, &why), MV_EPERM);
  p = principal(ADM);
  r.action = MV_AUTH_ACT_COUNT;
  assert_int_equal(mv_auth_decide(&p, &r, &why), MV_EPERM);
  assert_string_equal(why, "unknown action");
  r.action = RD;
  const char *bad_types[] = {NULL, "", "patient", "Pat ient", "Patient/1"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad_types); i++) {
    r.type = bad_types[i];
    assert_int_equal(mv_auth_decide(&p, &r, &why), MV_EPERM);
    assert_string_equal(why, "no resource type");
  }
  /* An empty fhir_id never matches an empty compartment. */
  struct mv_auth_principal dev = principal(DEV);
  dev.fhir_id[0] = '\0';
  struct mv_auth_request obs = {.action = CR, .type = "Observation"};
  assert_int_equal(mv_auth_decide(&dev, &obs, &why), MV_EPERM);
  obs.patient_id = "";
  assert_int_equal(mv_auth_decide(&dev, &obs, &why), MV_EPERM);
  /* A longer id sharing the principal's id as prefix is another patient. */
  struct mv_auth_principal pat = principal(PAT);
  struct mv_auth_request rd = {
      .action = RD, .type = "Observation", .patient_id = OWN_ID "0"};
  assert_int_equal(mv_auth_decide(&pat, &rd, &why), MV_EPERM);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(role_action_situation_table),
      cmocka_unit_test(every_combination_respects_the_fixed_rules),
      cmocka_unit_test(scopes_narrow_what_a_role_may_do),
      cmocka_unit_test(it_fails_closed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
