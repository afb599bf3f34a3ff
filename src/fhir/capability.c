/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CapabilityStatement served at GET /fhir/metadata (FHIR R4 §3.1.0.12).
 * It is generated from the list of stored types and the search registry,
 * so it advertises exactly what the server parses and indexes. Invariants
 * of CapabilityStatement it must meet: cpb-1 (rest present), cpb-2 and
 * cpb-15 (kind "instance" needs implementation).
 */
#include <string.h>

#include "mv_fhir_search.h"
#include "mv_version_gen.h"

/* Publication date of this statement: change it when what is advertised
 * changes (the output stays reproducible, which tests and caches like). */
#define CAPABILITY_DATE "2026-11-25"
#define SOFTWARE_NAME "medverse"

static int add(struct json_object *obj, const char *key,
               struct json_object *val) {
  if (!obj || !val || json_object_object_add(obj, key, val) != 0) {
    json_object_put(val);
    return MV_ENOMEM;
  }
  return MV_OK;
}

static int add_str(struct json_object *obj, const char *key, const char *s) {
  return add(obj, key, json_object_new_string(s));
}

static int push(struct json_object *arr, struct json_object *val) {
  if (!arr || !val || json_object_array_add(arr, val) != 0) {
    json_object_put(val);
    return MV_ENOMEM;
  }
  return MV_OK;
}

/* [{"code": c}, ...] */
static int add_interactions(struct json_object *obj, const char *const *codes,
                            size_t n) {
  struct json_object *arr = json_object_new_array();
  int rc = arr ? MV_OK : MV_ENOMEM;
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    struct json_object *it = json_object_new_object();
    rc = add_str(it, "code", codes[i]);
    if (rc == MV_OK)
      rc = push(arr, it);
    else
      json_object_put(it);
  }
  if (rc != MV_OK) {
    json_object_put(arr);
    return rc;
  }
  return add(obj, "interaction", arr);
}

static const char *param_type(enum mv_fhir_param_type t) {
  switch (t) {
  case MV_FHIR_PARAM_STRING:
    return "string";
  case MV_FHIR_PARAM_TOKEN:
    return "token";
  case MV_FHIR_PARAM_REFERENCE:
    return "reference";
  case MV_FHIR_PARAM_DATE:
    break;
  }
  return "date";
}

static int add_search_params(struct json_object *res, const char *type) {
  size_t n;
  const struct mv_fhir_search_param *p = mv_fhir_search_params(type, &n);
  struct json_object *arr = json_object_new_array();
  int rc = arr ? MV_OK : MV_ENOMEM;
  for (size_t i = 0; i < n && rc == MV_OK; i++) {
    struct json_object *sp = json_object_new_object();
    rc = add_str(sp, "name", p[i].name);
    if (rc == MV_OK)
      rc = add_str(sp, "type", param_type(p[i].type));
    if (rc == MV_OK)
      rc = add_str(sp, "documentation", p[i].path);
    if (rc == MV_OK)
      rc = push(arr, sp);
    else
      json_object_put(sp);
  }
  if (rc != MV_OK || n == 0) {
    json_object_put(arr);
    return rc;
  }
  return add(res, "searchParam", arr);
}

static int add_resource(struct json_object *arr, const char *type) {
  static const char *const full[] = {
      "read",   "vread",       "update",           "delete",
      "create", "search-type", "history-instance", "history-type"};
  static const char *const read_only[] = {"read", "search-type"};
  /* AuditEvents are written by the server only. */
  bool audit = strcmp(type, "AuditEvent") == 0;
  struct json_object *r = json_object_new_object();
  int rc = add_str(r, "type", type);
  if (rc == MV_OK)
    rc = audit ? add_interactions(r, read_only, MV_ARRAY_LEN(read_only))
               : add_interactions(r, full, MV_ARRAY_LEN(full));
  if (rc == MV_OK)
    rc = add_str(r, "versioning", "versioned");
  if (rc == MV_OK)
    rc = add(r, "readHistory", json_object_new_boolean(!audit));
  if (rc == MV_OK)
    rc = add(r, "updateCreate", json_object_new_boolean(!audit));
  if (rc == MV_OK)
    rc = add(r, "conditionalCreate", json_object_new_boolean(0));
  if (rc == MV_OK)
    rc = add(r, "conditionalUpdate", json_object_new_boolean(0));
  if (rc == MV_OK)
    rc = add_str(r, "conditionalDelete", "not-supported");
  if (rc == MV_OK)
    rc = add_search_params(r, type);
  if (rc != MV_OK) {
    json_object_put(r);
    return rc;
  }
  return push(arr, r);
}

static int add_rest(struct json_object *cs) {
  static const char *const system[] = {"transaction", "batch"};
  struct json_object *rest = json_object_new_array();
  struct json_object *server = json_object_new_object();
  struct json_object *resources = json_object_new_array();
  struct json_object *security = json_object_new_object();
  size_t n;
  const char *const *types = mv_fhir_types(&n);
  int rc = rest && server && resources && security ? MV_OK : MV_ENOMEM;

  if (rc == MV_OK)
    rc = add_str(server, "mode", "server");
  if (rc == MV_OK)
    rc = add_str(security, "description",
                 "Bearer tokens from POST /auth/token (password or "
                 "client_credentials grant); SMART-style scopes.");
  if (rc == MV_OK) {
    rc = add(server, "security", security);
    security = NULL;
  }
  for (size_t i = 0; i < n && rc == MV_OK; i++)
    rc = add_resource(resources, types[i]);
  if (rc == MV_OK) {
    rc = add(server, "resource", resources);
    resources = NULL;
  }
  if (rc == MV_OK)
    rc = add_interactions(server, system, MV_ARRAY_LEN(system));
  if (rc == MV_OK) {
    rc = push(rest, server);
    server = NULL;
  }
  if (rc == MV_OK) {
    rc = add(cs, "rest", rest);
    rest = NULL;
  }
  json_object_put(security);
  json_object_put(resources);
  json_object_put(server);
  json_object_put(rest);
  return rc;
}

int mv_fhir_capability(const char *base_url, struct json_object **out) {
  struct json_object *cs = json_object_new_object();
  struct json_object *software = json_object_new_object();
  struct json_object *impl = json_object_new_object();
  struct json_object *formats = json_object_new_array();
  int rc = cs && software && impl && formats ? MV_OK : MV_ENOMEM;

  if (rc == MV_OK)
    rc = add_str(cs, "resourceType", "CapabilityStatement");
  if (rc == MV_OK)
    rc = add_str(cs, "name", "MedverseCapabilityStatement");
  if (rc == MV_OK)
    rc = add_str(cs, "status", "active");
  if (rc == MV_OK)
    rc = add_str(cs, "date", CAPABILITY_DATE);
  if (rc == MV_OK)
    rc = add_str(cs, "kind", "instance");
  if (rc == MV_OK)
    rc = add_str(software, "name", SOFTWARE_NAME);
  if (rc == MV_OK)
    rc = add_str(software, "version", MV_VERSION_STRING);
  if (rc == MV_OK) {
    rc = add(cs, "software", software);
    software = NULL;
  }
  if (rc == MV_OK)
    rc = add_str(impl, "description", "medverse FHIR R4 server");
  if (rc == MV_OK && base_url && *base_url)
    rc = add_str(impl, "url", base_url);
  if (rc == MV_OK) {
    rc = add(cs, "implementation", impl);
    impl = NULL;
  }
  if (rc == MV_OK)
    rc = add_str(cs, "fhirVersion", "4.0.1");
  if (rc == MV_OK)
    rc = push(formats, json_object_new_string("application/fhir+json"));
  if (rc == MV_OK)
    rc = push(formats, json_object_new_string("json"));
  if (rc == MV_OK) {
    rc = add(cs, "format", formats);
    formats = NULL;
  }
  if (rc == MV_OK)
    rc = add_rest(cs);
  json_object_put(software);
  json_object_put(impl);
  json_object_put(formats);
  if (rc != MV_OK) {
    json_object_put(cs);
    return rc;
  }
  *out = cs;
  return MV_OK;
}
