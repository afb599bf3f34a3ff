/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Bundles the server answers with: batch-response and
 * transaction-response (one entry.response per request, FHIR R4
 * §3.1.0.11), and searchset and history pages (§3.1.1.6, §3.1.0.9) with
 * their total and self/next links. JSON arrays are only created when they
 * get an element: FHIR JSON forbids empty arrays.
 */
#include <stdio.h>
#include <string.h>

#include "mv_fhir_search.h"

static const char *reason(int status) {
  switch (status) {
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 204:
    return "No Content";
  case 304:
    return "Not Modified";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Payload Too Large";
  case 415:
    return "Unsupported Media Type";
  case 422:
    return "Unprocessable Entity";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 503:
    return "Service Unavailable";
  default:
    break;
  }
  return NULL;
}

/* Adds key: value, taking val (released when obj is NULL or on failure). */
static int add(struct json_object *obj, const char *key,
               struct json_object *val) {
  if (!obj || !val) {
    json_object_put(val);
    return MV_ENOMEM;
  }
  if (json_object_object_add(obj, key, val) != 0) {
    json_object_put(val);
    return MV_ENOMEM;
  }
  return MV_OK;
}

static int add_str(struct json_object *obj, const char *key, const char *s) {
  return s ? add(obj, key, json_object_new_string(s)) : MV_OK;
}

/* Append val (taken) to the array obj[key], created when missing. */
static int push(struct json_object *obj, const char *key,
                struct json_object *val) {
  struct json_object *arr;
  int rc;
  if (!json_object_object_get_ex(obj, key, &arr)) {
    if ((rc = add(obj, key, json_object_new_array())) != MV_OK) {
      json_object_put(val);
      return rc;
    }
    json_object_object_get_ex(obj, key, &arr);
  }
  if (!val || json_object_array_add(arr, val) != 0) {
    json_object_put(val);
    return MV_ENOMEM;
  }
  return MV_OK;
}

/* entry.response: status, location, etag, lastModified. */
static int response(struct json_object *entry, int status, const char *location,
                    int64_t version, int64_t last_modified_us,
                    struct json_object *outcome) {
  struct json_object *r = json_object_new_object();
  char buf[48];
  const char *why = reason(status);
  int rc;
  if (!r) {
    json_object_put(outcome);
    return MV_ENOMEM;
  }
  if (why)
    snprintf(buf, sizeof(buf), "%d %s", status, why);
  else
    snprintf(buf, sizeof(buf), "%d", status);
  rc = add_str(r, "status", buf);
  if (rc == MV_OK)
    rc = add_str(r, "location", location);
  if (rc == MV_OK && version > 0) {
    snprintf(buf, sizeof(buf), "W/\"%lld\"", (long long)version);
    rc = add_str(r, "etag", buf);
  }
  if (rc == MV_OK && last_modified_us != MV_FHIR_NO_DATE &&
      mv_fhir_instant_format(last_modified_us, buf, sizeof(buf)) == MV_OK)
    rc = add_str(r, "lastModified", buf);
  if (outcome) {
    if (rc == MV_OK)
      rc = add(r, "outcome", outcome);
    else
      json_object_put(outcome);
  }
  if (rc != MV_OK) {
    json_object_put(r);
    return rc;
  }
  return add(entry, "response", r);
}

static struct json_object *new_bundle(const char *type) {
  struct json_object *b = json_object_new_object();
  if (add_str(b, "resourceType", "Bundle") != MV_OK ||
      add_str(b, "type", type) != MV_OK) {
    json_object_put(b);
    return NULL;
  }
  return b;
}

int mv_fhir_bundle_response(bool transaction,
                            struct mv_fhir_bundle_reply *replies, size_t n,
                            struct json_object **out) {
  struct json_object *b =
      new_bundle(transaction ? "transaction-response" : "batch-response");
  int rc = b ? MV_OK : MV_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    struct mv_fhir_bundle_reply *r = &replies[i];
    struct json_object *res = r->resource, *oo = r->outcome;
    r->resource = r->outcome = NULL;
    if (rc != MV_OK) {
      json_object_put(res);
      json_object_put(oo);
      continue;
    }
    struct json_object *e = json_object_new_object();
    rc = add_str(e, "fullUrl", r->full_url);
    if (rc == MV_OK && res)
      rc = add(e, "resource", res);
    else
      json_object_put(res);
    if (rc == MV_OK)
      rc = response(e, r->status, r->location, r->version, r->last_modified_us,
                    oo);
    else
      json_object_put(oo);
    if (rc == MV_OK)
      rc = push(b, "entry", e);
    else
      json_object_put(e);
  }
  if (rc != MV_OK) {
    json_object_put(b);
    return rc;
  }
  *out = b;
  return MV_OK;
}

static int add_link(struct json_object *b, const char *relation,
                    const char *url) {
  struct json_object *l;
  if (!url)
    return MV_OK;
  l = json_object_new_object();
  int rc = add_str(l, "relation", relation);
  if (rc == MV_OK)
    rc = add_str(l, "url", url);
  if (rc != MV_OK) {
    json_object_put(l);
    return rc;
  }
  return push(b, "link", l);
}

int mv_fhir_bundle_page_new(const char *bundle_type, int64_t total,
                            const char *self_url, const char *next_url,
                            struct json_object **out) {
  struct json_object *b;
  int rc = MV_OK;
  if (!bundle_type || (strcmp(bundle_type, "searchset") != 0 &&
                       strcmp(bundle_type, "history") != 0))
    return MV_EINVAL;
  if (!(b = new_bundle(bundle_type)))
    return MV_ENOMEM;
  if (total >= 0)
    rc = add(b, "total", json_object_new_int64(total));
  if (rc == MV_OK)
    rc = add_link(b, "self", self_url);
  if (rc == MV_OK)
    rc = add_link(b, "next", next_url);
  if (rc != MV_OK) {
    json_object_put(b);
    return rc;
  }
  *out = b;
  return MV_OK;
}

int mv_fhir_bundle_add_match(struct json_object *bundle, const char *full_url,
                             struct json_object *resource,
                             enum mv_fhir_search_mode mode) {
  static const char *const modes[] = {"match", "include", "outcome"};
  struct json_object *e = json_object_new_object(), *s = NULL;
  int rc = add_str(e, "fullUrl", full_url);
  if (rc == MV_OK) {
    rc = add(e, "resource", resource);
    resource = NULL;
  }
  if (rc == MV_OK) {
    s = json_object_new_object();
    rc = add_str(s, "mode", modes[(unsigned)mode < 3 ? mode : 0]);
    if (rc == MV_OK) {
      rc = add(e, "search", s);
      s = NULL;
    }
  }
  json_object_put(s);
  json_object_put(resource);
  if (rc != MV_OK) {
    json_object_put(e);
    return rc;
  }
  return push(bundle, "entry", e);
}

int mv_fhir_bundle_add_history(struct json_object *bundle, const char *full_url,
                               struct json_object *resource,
                               enum mv_fhir_method method,
                               const char *request_url, int status,
                               int64_t version, int64_t last_modified_us) {
  static const char *const names[] = {"", "GET", "POST", "PUT", "DELETE"};
  struct json_object *e = NULL, *req = NULL;
  int rc = MV_EINVAL;
  if ((unsigned)method < MV_FHIR_METHOD_GET ||
      (unsigned)method > MV_FHIR_METHOD_DELETE || !request_url)
    goto out;
  rc = MV_ENOMEM;
  if (!(e = json_object_new_object()) || !(req = json_object_new_object()))
    goto out;
  if ((rc = add_str(e, "fullUrl", full_url)) != MV_OK)
    goto out;
  if (resource) {
    rc = add(e, "resource", resource);
    resource = NULL;
    if (rc != MV_OK)
      goto out;
  }
  if ((rc = add_str(req, "method", names[method])) != MV_OK ||
      (rc = add_str(req, "url", request_url)) != MV_OK)
    goto out;
  rc = add(e, "request", req);
  req = NULL;
  if (rc != MV_OK || (rc = response(e, status, NULL, version, last_modified_us,
                                    NULL)) != MV_OK)
    goto out;
  rc = push(bundle, "entry", e);
  e = NULL;
out:
  json_object_put(resource);
  json_object_put(req);
  json_object_put(e);
  return rc;
}
