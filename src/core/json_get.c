/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed member access for the JSON layer (mv_json.h): each getter checks
 * presence and type and, on failure, names the exact JSON path of the member
 * (e.g. "Observation.valueQuantity.code") so callers can build path-exact
 * FHIR OperationOutcomes. Messages name types and paths, never values.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_int.h"
#include "mv_json.h"

/* ---- typed access ------------------------------------------------------ */

static int access_fail(struct mv_diag *diag, int err, const char *path,
                       const char *key, const char *fmt, ...) MV_PRINTF(5, 6);

/* Records an access error with diag->path = path + "." + key (or either
 * alone when the other is empty). Never quotes the value. */
static int access_fail(struct mv_diag *diag, int err, const char *path,
                       const char *key, const char *fmt, ...) {
  if (!diag)
    return err;
  char msg[sizeof(diag->msg)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  mv_diag_clear(diag);
  mv_diag_set(diag, err, "%s", msg);
  const char *p = path ? path : "";
  const char *k = key ? key : "";
  snprintf(diag->path, sizeof(diag->path), "%s%s%s", p, *p && *k ? "." : "", k);
  return err;
}

enum want { WANT_STRING, WANT_OBJECT, WANT_ARRAY, WANT_NUMBER, WANT_BOOL };

static const char *want_name(enum want w) {
  static const char *const names[] = {"a string", "an object", "an array",
                                      "a number", "a boolean"};
  return names[w];
}

static bool type_matches(struct json_object *v, enum want w) {
  enum json_type t = json_object_get_type(v);
  switch (w) {
  case WANT_STRING:
    return t == json_type_string;
  case WANT_OBJECT:
    return t == json_type_object;
  case WANT_ARRAY:
    return t == json_type_array;
  case WANT_NUMBER:
    return t == json_type_int || t == json_type_double;
  case WANT_BOOL:
    return t == json_type_boolean;
  }
  return false;
}

/* The member key of obj, checked to be of kind w. JSON null counts as
 * present with the wrong type: FHIR forbids null members. */
static int member(struct json_object *obj, const char *path, const char *key,
                  bool required, enum want w, struct json_object **out_v,
                  struct mv_diag *diag) {
  struct json_object *v = NULL;
  if (!json_object_is_type(obj, json_type_object))
    return access_fail(diag, MV_EINVAL, path, NULL, "expected an object");
  if (!key)
    return access_fail(diag, MV_EINVAL, path, NULL, "no member name given");
  if (!json_object_object_get_ex(obj, key, &v)) {
    if (required)
      return access_fail(diag, MV_ENOTFOUND, path, key,
                         "required member is missing");
    return MV_ENOTFOUND;
  }
  if (!type_matches(v, w))
    return access_fail(diag, MV_EINVAL, path, key, "expected %s, found %s",
                       want_name(w),
                       json_type_to_name(json_object_get_type(v)));
  *out_v = v;
  return MV_OK;
}

int mv_json_get_string(struct json_object *obj, const char *path,
                       const char *key, bool required, const char **out_str,
                       struct mv_diag *diag) {
  struct json_object *v = NULL;
  int rc = member(obj, path, key, required, WANT_STRING, &v, diag);
  if (rc)
    return rc;
  const char *s = json_object_get_string(v);
  /* A C string cannot carry \u0000; refuse rather than silently cut. */
  if (strlen(s) != (size_t)json_object_get_string_len(v))
    return access_fail(diag, MV_EINVAL, path, key,
                       "string contains a NUL character");
  if (out_str)
    *out_str = s;
  return MV_OK;
}

int mv_json_get_object(struct json_object *obj, const char *path,
                       const char *key, bool required,
                       struct json_object **out_obj, struct mv_diag *diag) {
  struct json_object *v = NULL;
  int rc = member(obj, path, key, required, WANT_OBJECT, &v, diag);
  if (!rc && out_obj)
    *out_obj = v;
  return rc;
}

int mv_json_get_array(struct json_object *obj, const char *path,
                      const char *key, bool required,
                      struct json_object **out_arr, struct mv_diag *diag) {
  struct json_object *v = NULL;
  int rc = member(obj, path, key, required, WANT_ARRAY, &v, diag);
  if (!rc && out_arr)
    *out_arr = v;
  return rc;
}

/* The exact text of number node v, borrowed from v. For doubles made by the
 * tokener or json_object_new_double_s json-c keeps it as the node's
 * userdata (documented in json_object.h), read without touching the node.
 * Other numbers are formatted by json-c into the node's own print buffer,
 * which writes to v: fine for one thread, not for readers sharing a tree. */
static const char *number_text(struct json_object *v) {
  if (json_object_is_type(v, json_type_double)) {
    const char *t = json_object_get_userdata(v);
    if (t)
      return t;
  }
  return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

int mv_json_get_number(struct json_object *obj, const char *path,
                       const char *key, bool required, double *out_value,
                       const char **out_text, struct mv_diag *diag) {
  struct json_object *v = NULL;
  const char *text = NULL;
  int rc = member(obj, path, key, required, WANT_NUMBER, &v, diag);
  if (rc)
    return rc;
  if (out_text && !(text = number_text(v)))
    return access_fail(diag, MV_ENOMEM, path, key, "out of memory");
  if (out_value)
    *out_value = json_object_get_double(v);
  if (out_text)
    *out_text = text;
  return MV_OK;
}

int mv_json_get_int64(struct json_object *obj, const char *path,
                      const char *key, bool required, int64_t *out_value,
                      struct mv_diag *diag) {
  struct json_object *v = NULL;
  int rc = member(obj, path, key, required, WANT_NUMBER, &v, diag);
  if (rc)
    return rc;
  long long val;
  if (json_object_is_type(v, json_type_int)) {
    /* Parsed integers that json-c could not hold exactly were turned into
     * doubles with text; what is left is exact, except that json-c
     * saturates uint64 values above INT64_MAX when read as int64. */
    val = json_object_get_int64(v);
    if (val == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX)
      return access_fail(diag, MV_EINVAL, path, key,
                         "integer out of the 64-bit range");
  } else {
    /* Decide on the text, not the value: 1.0 and 1e2 are decimals even
     * though they hold whole values. */
    const char *text = number_text(v);
    bool is_int = false;
    if (!text)
      return access_fail(diag, MV_ENOMEM, path, key, "out of memory");
    if (!mv__json_is_number(text, &is_int) || !is_int)
      return access_fail(diag, MV_EINVAL, path, key,
                         "expected an integer, found a decimal");
    errno = 0;
    val = strtoll(text, NULL, 10);
    if (errno == ERANGE)
      return access_fail(diag, MV_EINVAL, path, key,
                         "integer out of the 64-bit range");
  }
  if (out_value)
    *out_value = (int64_t)val;
  return MV_OK;
}

int mv_json_get_bool(struct json_object *obj, const char *path, const char *key,
                     bool required, bool *out_value, struct mv_diag *diag) {
  struct json_object *v = NULL;
  int rc = member(obj, path, key, required, WANT_BOOL, &v, diag);
  if (!rc && out_value)
    *out_value = json_object_get_boolean(v) != 0;
  return rc;
}
