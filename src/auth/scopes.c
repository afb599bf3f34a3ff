/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Roles and SMART-style scopes (HL7 SMART App Launch 1.0 "Scopes and
 * Launch Context"; 2.0 permission letters are accepted and folded into
 * read/write). A scope set is a small fixed array: parsing is bounded by
 * MV_AUTH_SCOPE_TEXT_MAX bytes and MV_AUTH_SCOPES_MAX distinct scopes.
 */
#include <stdio.h>
#include <string.h>

#include "auth_int.h"

/* The canonical form of any set (longest: patient/TYPE.write, 16 times)
 * parses again, so a set survives a trip through a token. */
_Static_assert(MV_AUTH_SCOPE_TEXT_MAX >=
                   MV_AUTH_SCOPES_MAX *
                       (sizeof("patient/.write ") - 1 + MV_AUTH_ID_LEN),
               "scope text cap below the longest canonical set");

static const char *const role_names[] = {
    [MV_AUTH_ROLE_PATIENT] = "patient",
    [MV_AUTH_ROLE_CLINICIAN] = "clinician",
    [MV_AUTH_ROLE_ADMIN] = "admin",
    [MV_AUTH_ROLE_AUDITOR] = "auditor",
    [MV_AUTH_ROLE_DEVICE] = "device",
    [MV_AUTH_ROLE_PUBLIC_HEALTH] = "public-health",
};

const char *mv_auth_role_name(enum mv_auth_role role) {
  if ((unsigned)role >= MV_ARRAY_LEN(role_names))
    return NULL;
  return role_names[role];
}

int mv_auth_role_parse(const char *name, enum mv_auth_role *out_role) {
  if (!name || !out_role)
    return MV_EINVAL;
  for (unsigned i = 1; i < MV_ARRAY_LEN(role_names); i++)
    if (strcmp(name, role_names[i]) == 0) {
      *out_role = (enum mv_auth_role)i;
      return MV_OK;
    }
  return MV_EINVAL;
}

/* Scopes that grant no resource access; accepted so standard clients can
 * ask for them. */
static const char *const ignored_scopes[] = {
    "openid",         "fhirUser",       "profile",       "launch",
    "launch/patient", "offline_access", "online_access",
};

static bool equals(const char *s, size_t len, const char *lit) {
  return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* SMART v2 permissions: a non-empty in-order subset of "cruds". */
static unsigned v2_access(const char *s, size_t len) {
  static const char order[] = "cruds";
  unsigned access = 0;
  size_t k = 0;
  for (size_t i = 0; i < len; i++) {
    while (k < 5 && order[k] != s[i])
      k++;
    if (k == 5)
      return 0;
    access |= (s[i] == 'r' || s[i] == 's') ? MV_AUTH_ACCESS_READ
                                           : MV_AUTH_ACCESS_WRITE;
    k++;
  }
  return access;
}

/* One scope token. MV_OK with *out filled, MV_ENOTFOUND for an ignored
 * non-resource scope, MV_EINVAL for anything malformed. */
static int parse_one(const char *s, size_t len, struct mv_auth_scope *out) {
  for (size_t i = 0; i < MV_ARRAY_LEN(ignored_scopes); i++)
    if (equals(s, len, ignored_scopes[i]))
      return MV_ENOTFOUND;
  const char *slash = memchr(s, '/', len);
  if (!slash)
    return MV_EINVAL;
  size_t ctx_len = (size_t)(slash - s);
  enum mv_auth_scope_ctx ctx;
  if (equals(s, ctx_len, "patient"))
    ctx = MV_AUTH_CTX_PATIENT;
  else if (equals(s, ctx_len, "user"))
    ctx = MV_AUTH_CTX_USER;
  else if (equals(s, ctx_len, "system"))
    ctx = MV_AUTH_CTX_SYSTEM;
  else
    return MV_EINVAL;
  const char *type = slash + 1;
  const char *end = s + len;
  const char *dot = memchr(type, '.', (size_t)(end - type));
  if (!dot)
    return MV_EINVAL;
  size_t type_len = (size_t)(dot - type);
  if (!equals(type, type_len, "*") && !mv__auth_type_ok(type, type_len))
    return MV_EINVAL;
  const char *acc = dot + 1;
  size_t acc_len = (size_t)(end - acc);
  unsigned access;
  if (equals(acc, acc_len, "read"))
    access = MV_AUTH_ACCESS_READ;
  else if (equals(acc, acc_len, "write"))
    access = MV_AUTH_ACCESS_WRITE;
  else if (equals(acc, acc_len, "*"))
    access = MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE;
  else if ((access = v2_access(acc, acc_len)) == 0)
    return MV_EINVAL;
  memset(out, 0, sizeof(*out));
  out->ctx = ctx;
  out->access = access;
  memcpy(out->type, type, type_len);
  out->type[type_len] = '\0';
  return MV_OK;
}

/* Add sc to set, merging the access bits into an existing scope with the
 * same context and type. MV_ETOOBIG when the set is full. */
static int add_scope(struct mv_auth_scopes *set,
                     const struct mv_auth_scope *sc) {
  for (unsigned i = 0; i < set->n; i++) {
    struct mv_auth_scope *e = &set->s[i];
    if (e->ctx == sc->ctx && strcmp(e->type, sc->type) == 0) {
      e->access |= sc->access;
      return MV_OK;
    }
  }
  if (set->n >= MV_AUTH_SCOPES_MAX)
    return MV_ETOOBIG;
  set->s[set->n++] = *sc;
  return MV_OK;
}

int mv_auth_scopes_parse(const char *text, size_t len,
                         struct mv_auth_scopes *out) {
  if (!text || !out)
    return MV_EINVAL;
  if (len > MV_AUTH_SCOPE_TEXT_MAX)
    return MV_ETOOBIG;
  struct mv_auth_scopes set = {0};
  size_t i = 0;
  while (i < len) {
    if (text[i] == ' ') {
      i++;
      continue;
    }
    size_t start = i;
    while (i < len && text[i] != ' ')
      i++;
    struct mv_auth_scope sc;
    int rc = parse_one(text + start, i - start, &sc);
    if (rc == MV_ENOTFOUND)
      continue;
    if (rc != MV_OK)
      return rc;
    if ((rc = add_scope(&set, &sc)) != MV_OK)
      return rc;
  }
  *out = set;
  return MV_OK;
}

int mv_auth_scopes_format(const struct mv_auth_scopes *sc, char *out,
                          size_t cap) {
  static const char *const ctx_names[] = {[MV_AUTH_CTX_PATIENT] = "patient",
                                          [MV_AUTH_CTX_USER] = "user",
                                          [MV_AUTH_CTX_SYSTEM] = "system"};
  if (!sc || !out || cap == 0 || sc->n > MV_AUTH_SCOPES_MAX)
    return MV_EINVAL;
  size_t used = 0;
  out[0] = '\0';
  for (unsigned i = 0; i < sc->n; i++) {
    const struct mv_auth_scope *s = &sc->s[i];
    if ((unsigned)s->ctx < MV_AUTH_CTX_PATIENT ||
        (unsigned)s->ctx > MV_AUTH_CTX_SYSTEM || s->access == 0 ||
        s->access > (MV_AUTH_ACCESS_READ | MV_AUTH_ACCESS_WRITE))
      return MV_EINVAL;
    const char *acc = s->access == MV_AUTH_ACCESS_READ    ? "read"
                      : s->access == MV_AUTH_ACCESS_WRITE ? "write"
                                                          : "*";
    int n = snprintf(out + used, cap - used, "%s%s/%.*s.%s", i ? " " : "",
                     ctx_names[s->ctx], (int)MV_AUTH_ID_LEN, s->type, acc);
    if (n < 0 || (size_t)n >= cap - used) {
      out[0] = '\0';
      return MV_ETOOBIG;
    }
    used += (size_t)n;
  }
  return MV_OK;
}

static bool type_matches(const char *scope_type, const char *type) {
  return strcmp(scope_type, "*") == 0 || strcmp(scope_type, type) == 0;
}

bool mv_auth_scopes_allow(const struct mv_auth_scopes *sc, const char *type,
                          unsigned access) {
  if (!sc || !type || access == 0 || sc->n > MV_AUTH_SCOPES_MAX)
    return false;
  for (unsigned i = 0; i < sc->n; i++)
    if ((sc->s[i].access & access) == access &&
        type_matches(sc->s[i].type, type))
      return true;
  return false;
}

int mv_auth_scopes_default(enum mv_auth_role role, struct mv_auth_scopes *out) {
  /* The table of mv_auth.h; kept as text so it reads like the docs. */
  static const char *const defaults[] = {
      [MV_AUTH_ROLE_PATIENT] = "patient/*.read patient/Observation.write "
                               "patient/Communication.write",
      [MV_AUTH_ROLE_CLINICIAN] = "user/*.read user/*.write",
      [MV_AUTH_ROLE_ADMIN] = "user/*.*",
      [MV_AUTH_ROLE_AUDITOR] = "user/AuditEvent.read",
      [MV_AUTH_ROLE_DEVICE] = "user/Observation.write",
      [MV_AUTH_ROLE_PUBLIC_HEALTH] = "user/MeasureReport.read "
                                     "user/MeasureReport.write",
  };
  if (!out || role <= MV_AUTH_ROLE_NONE ||
      (unsigned)role >= MV_ARRAY_LEN(defaults))
    return MV_EINVAL;
  return mv_auth_scopes_parse(defaults[role], strlen(defaults[role]), out);
}

int mv_auth_scopes_intersect(const struct mv_auth_scopes *a,
                             const struct mv_auth_scopes *b,
                             struct mv_auth_scopes *out) {
  if (!a || !b || !out || a->n > MV_AUTH_SCOPES_MAX ||
      b->n > MV_AUTH_SCOPES_MAX)
    return MV_EINVAL;
  struct mv_auth_scopes set = {0};
  for (unsigned i = 0; i < a->n; i++)
    for (unsigned j = 0; j < b->n; j++) {
      const struct mv_auth_scope *x = &a->s[i], *y = &b->s[j];
      unsigned access = x->access & y->access;
      const char *type;
      if (strcmp(x->type, "*") == 0)
        type = y->type;
      else if (strcmp(y->type, "*") == 0 || strcmp(x->type, y->type) == 0)
        type = x->type;
      else
        continue;
      if (access == 0)
        continue;
      struct mv_auth_scope sc = {
          .ctx = x->ctx < y->ctx ? x->ctx : y->ctx,
          .access = access,
      };
      snprintf(sc.type, sizeof(sc.type), "%s", type);
      int rc = add_scope(&set, &sc);
      if (rc != MV_OK)
        return rc;
    }
  *out = set;
  return MV_OK;
}

int mv_auth_scopes_grant(enum mv_auth_role role, const char *requested,
                         struct mv_auth_scopes *out) {
  struct mv_auth_scopes defaults, req, got;
  int rc = mv_auth_scopes_default(role, &defaults);
  if (rc != MV_OK || !out)
    return MV_EINVAL;
  if (!requested || !*requested) {
    *out = defaults;
    return MV_OK;
  }
  size_t len = strnlen(requested, MV_AUTH_SCOPE_TEXT_MAX + 1);
  if ((rc = mv_auth_scopes_parse(requested, len, &req)) != MV_OK)
    return rc;
  if ((rc = mv_auth_scopes_intersect(&req, &defaults, &got)) != MV_OK)
    return rc;
  if (got.n == 0)
    return MV_EPERM;
  *out = got;
  return MV_OK;
}
