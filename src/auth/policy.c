/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The access policy: mv_auth_decide() is the one place where "may this
 * principal do this?" is answered, for the FHIR API, the audit views and
 * administration alike. The API layer gathers the facts (the target's
 * patient compartment, care-team membership, denying Consents) and this
 * file applies the rules, in three steps:
 *
 *  1. Fixed rules that hold for every role: AuditEvent is written by the
 *     server only, and read only by the patient it is about (own
 *     compartment), auditors and admins; $erase applies to Patient.
 *  2. The role table below (role x action -> rule, optional type list).
 *  3. The token's scopes must also allow the type and access; a patient/
 *     scope only inside the principal's own compartment. Scopes narrow a
 *     role, never widen it.
 *
 * Role table (rule names are defined under enum rule):
 *
 *   action    | patient        | clinician  | admin | auditor    | device
 *   ----------+----------------+------------+-------+------------+-------------
 *   (public-health: SURV_READ and SURV_WRITE only, every other cell -)
 *   READ      | OWN            | CARE_READ  | ANY   | AUDIT_ONLY | -
 *   VREAD     | OWN            | CARE_READ  | ANY   | AUDIT_ONLY | -
 *   SEARCH    | OWN            | CARE_READ  | ANY   | AUDIT_ONLY | -
 *   HISTORY   | OWN            | CARE_READ  | ANY   | AUDIT_ONLY | -
 *   CREATE    | OWN: Observ-   | CARE_NEW   | ANY   | -          | OWN: Observ-
 *             | ation, Commun- |            |       |            | ation
 *             | ication        |            |       |            |
 *   UPDATE    | -              | CARE       | ANY   | -          | -
 *   DELETE    | -              | CARE       | ANY   | -          | -
 *   ERASE     | -              | -          | ANY   | -          | -
 *   AUDIT_READ| -              | -          | YES   | YES        | -
 *   LEDGER_RD | -              | -          | YES   | YES        | -
 *   ADMIN     | -              | -          | YES   | -          | -
 *   SURV_RD/WR| -              | -          | YES   | -          | -
 *
 * Why these choices: a patient reads everything in their own record and
 * may add what remote care expects from them (home measurements as
 * Observations, messages as Communications) but never edits or deletes
 * the record. A device's fhir_id is the Patient it is assigned to, so OWN
 * confines it to that patient's Observations. A clinician works on the
 * patients whose CareTeam holds their Practitioner, unless a Consent denies
 * them; resources without a patient (Practitioner, Device, CareTeam with no
 * subject) are readable so the directory works, but only admins write
 * them. Epidemiologists (public-health) work on aggregated case counts
 * (surveillance) and never see a patient record. Admins are not bound by
 * Consent: their access is a deliberate break-glass path and the caller
 * audits every one.
 */
#include <string.h>

#include "auth_int.h"

enum rule {
  DENY = 0,   /* never */
  ANY,        /* any target */
  YES,        /* allowed; the action has no resource target */
  OWN,        /* target in the principal's own compartment */
  CARE,       /* target's patient on the care team, no denying Consent */
  CARE_READ,  /* CARE, or a no-compartment Practitioner/Device/CareTeam */
  CARE_NEW,   /* CARE, or a new Patient (the server adds the CareTeam) */
  AUDIT_ONLY, /* AuditEvent, any compartment */
};

struct cell {
  enum rule rule;
  const char *const *types; /* NULL-terminated allow-list; NULL = any type */
};

static const char *const patient_writes[] = {"Observation", "Communication",
                                             NULL};
static const char *const device_writes[] = {"Observation", NULL};
static const char *const directory_types[] = {"Practitioner", "Device",
                                              "CareTeam", NULL};

#define R(rule)                                                                \
  { rule, NULL }
/* Rows in enum mv_auth_role order, columns in enum mv_auth_action order. */
static const struct cell table[][MV_AUTH_ACT_COUNT] = {
    [MV_AUTH_ROLE_PATIENT] = {R(OWN),
                              R(OWN),
                              R(OWN),
                              R(OWN),
                              {OWN, patient_writes},
                              R(DENY),
                              R(DENY),
                              R(DENY),
                              R(DENY),
                              R(DENY),
                              R(DENY),
                              R(DENY),
                              R(DENY)},
    [MV_AUTH_ROLE_CLINICIAN] = {R(CARE_READ), R(CARE_READ), R(CARE_READ),
                                R(CARE_READ), R(CARE_NEW), R(CARE), R(CARE),
                                R(DENY), R(DENY), R(DENY), R(DENY), R(DENY),
                                R(DENY)},
    [MV_AUTH_ROLE_ADMIN] = {R(ANY), R(ANY), R(ANY), R(ANY), R(ANY), R(ANY),
                            R(ANY), R(ANY), R(YES), R(YES), R(YES), R(YES),
                            R(YES)},
    [MV_AUTH_ROLE_AUDITOR] = {R(AUDIT_ONLY), R(AUDIT_ONLY), R(AUDIT_ONLY),
                              R(AUDIT_ONLY), R(DENY), R(DENY), R(DENY), R(DENY),
                              R(YES), R(YES), R(DENY), R(DENY), R(DENY)},
    [MV_AUTH_ROLE_DEVICE] = {R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             {OWN, device_writes},
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY),
                             R(DENY)},
    [MV_AUTH_ROLE_PUBLIC_HEALTH] = {R(DENY), R(DENY), R(DENY), R(DENY), R(DENY),
                                    R(DENY), R(DENY), R(DENY), R(DENY), R(DENY),
                                    R(DENY), R(YES), R(YES)},
};
#undef R

_Static_assert(MV_AUTH_ACT_COUNT == 13, "update the policy table");
_Static_assert(MV_ARRAY_LEN(table) == MV_AUTH_ROLE_PUBLIC_HEALTH + 1,
               "one row per role");

static const char AUDIT_TYPE[] = "AuditEvent";
/* The scope type that stands for surveillance data (aggregated counts). */
static const char SURV_TYPE[] = "MeasureReport";

static bool in_list(const char *const *list, const char *s) {
  for (; *list; list++)
    if (strcmp(*list, s) == 0)
      return true;
  return false;
}

static bool is_read(enum mv_auth_action a) {
  return a == MV_AUTH_ACT_READ || a == MV_AUTH_ACT_VREAD ||
         a == MV_AUTH_ACT_SEARCH || a == MV_AUTH_ACT_HISTORY ||
         a == MV_AUTH_ACT_AUDIT_READ || a == MV_AUTH_ACT_LEDGER_READ ||
         a == MV_AUTH_ACT_SURV_READ;
}

static bool has_resource(enum mv_auth_action a) {
  return a <= MV_AUTH_ACT_ERASE;
}

static int deny(const char **out_reason, const char *why) {
  if (out_reason)
    *out_reason = why;
  return MV_EPERM;
}

/* Step 2: the role table. */
static const char *apply_rule(const struct cell *c,
                              const struct mv_auth_request *r, bool own,
                              bool has_patient) {
  if (c->types && !in_list(c->types, r->type))
    return "resource type not allowed for this role and action";
  switch (c->rule) {
  case ANY:
  case YES:
    return NULL;
  case OWN:
    return own ? NULL : "outside the principal's own compartment";
  case AUDIT_ONLY:
    return strcmp(r->type, AUDIT_TYPE) == 0 ? NULL
                                            : "auditors read audit events only";
  case CARE_NEW:
    if (strcmp(r->type, "Patient") == 0 && !r->consent_denies)
      return NULL;
    break;
  case CARE_READ:
    if (!has_patient && in_list(directory_types, r->type))
      return NULL;
    break;
  case CARE:
    break;
  case DENY:
  default:
    return "action not allowed for this role";
  }
  /* CARE and the fall-throughs above. */
  if (!has_patient)
    return "resource has no patient compartment";
  if (r->consent_denies)
    return "a Consent denies this access";
  if (!r->on_care_team)
    return "patient is not on the clinician's care team";
  return NULL;
}

/* Step 3: scopes. ADMIN needs a user/ or system/ scope on "*". */
static bool scopes_ok(const struct mv_auth_principal *p,
                      const struct mv_auth_request *r, bool own) {
  unsigned access =
      is_read(r->action) ? MV_AUTH_ACCESS_READ : MV_AUTH_ACCESS_WRITE;
  const char *type = has_resource(r->action) ? r->type
                     : (r->action == MV_AUTH_ACT_SURV_READ ||
                        r->action == MV_AUTH_ACT_SURV_WRITE)
                         ? SURV_TYPE
                         : AUDIT_TYPE;
  bool admin = r->action == MV_AUTH_ACT_ADMIN;
  if (p->scopes.n > MV_AUTH_SCOPES_MAX)
    return false;
  for (unsigned i = 0; i < p->scopes.n; i++) {
    const struct mv_auth_scope *s = &p->scopes.s[i];
    if ((s->access & access) != access)
      continue;
    bool star = strcmp(s->type, "*") == 0;
    if (admin ? !star : !(star || strcmp(s->type, type) == 0))
      continue;
    if (s->ctx == MV_AUTH_CTX_PATIENT && (admin || !own))
      continue;
    return true;
  }
  return false;
}

int mv_auth_decide(const struct mv_auth_principal *p,
                   const struct mv_auth_request *r, const char **out_reason) {
  if (!p || !r)
    return deny(out_reason, "no principal or request");
  if (!mv_auth_role_name(p->role))
    return deny(out_reason, "unknown role");
  if ((unsigned)r->action >= MV_AUTH_ACT_COUNT)
    return deny(out_reason, "unknown action");
  bool resource = has_resource(r->action);
  if (resource &&
      (!r->type || !mv__auth_type_ok(r->type, strnlen(r->type, 65))))
    return deny(out_reason, "no resource type");
  bool has_patient = r->patient_id && r->patient_id[0];
  bool own = has_patient && p->fhir_id[0] &&
             strncmp(r->patient_id, p->fhir_id, sizeof(p->fhir_id)) == 0;

  /* Step 1: rules for every role. */
  if (resource && strcmp(r->type, AUDIT_TYPE) == 0) {
    if (!is_read(r->action))
      return deny(out_reason, "AuditEvent is written by the server only");
    if (p->role == MV_AUTH_ROLE_CLINICIAN || p->role == MV_AUTH_ROLE_DEVICE)
      return deny(out_reason, "audit events are not readable by this role");
  }
  if (r->action == MV_AUTH_ACT_ERASE && strcmp(r->type, "Patient") != 0)
    return deny(out_reason, "erase applies to Patient only");

  const char *why = apply_rule(&table[p->role][r->action], r, own, has_patient);
  if (why)
    return deny(out_reason, why);
  if (!scopes_ok(p, r, own))
    return deny(out_reason, "token scopes do not allow this access");
  if (out_reason)
    *out_reason = "allowed";
  return MV_OK;
}
