/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON layer over json-c, tuned for FHIR:
 *  - strict parsing (RFC 8259: no trailing commas, no comments, no single
 *    quotes, no garbage after the value), a depth cap and a size cap;
 *  - duplicate object keys are rejected (json-c silently keeps the last);
 *  - numbers keep the exact text they were written with, so 37.10 is
 *    serialised back as 37.10 and 1e2 as 1e2 (FHIR decimals are exact);
 *  - errors name the position (line, column, byte offset) and, for access
 *    errors, the JSON path (e.g. "Observation.valueQuantity.code").
 *
 * Values are json-c objects (`struct json_object`, reference counted with
 * json_object_get/json_object_put). mv_json only adds what json-c lacks.
 */
#ifndef MV_JSON_H
#define MV_JSON_H

#include <json-c/json.h>

#include "mv_buf.h"
#include "mv_err.h"

/*
 * Parse exactly len bytes of UTF-8 text holding one JSON value. On success
 * *out_obj is returned, caller releases with json_object_put(); a bare JSON
 * null parses to MV_OK with *out_obj NULL. On error *out_obj is untouched and
 * diag (may be NULL) gets line, col, offset and a message:
 * MV_EPARSE (syntax, invalid UTF-8, NUL byte, duplicate key, trailing data),
 * MV_ETOOBIG (len > MV_LIMIT_JSON_TEXT_MAX or depth > MV_LIMIT_JSON_DEPTH).
 */
MV_API MV_NODISCARD int mv_json_parse(const char *text, size_t len,
                                      struct json_object **out_obj,
                                      struct mv_diag *diag);

/* Serialise compactly (no spaces) into b, appending. Numbers parsed by
 * mv_json_parse keep their original text. MV_ETOOBIG past b->max. */
MV_API MV_NODISCARD int mv_json_write(struct mv_buf *b,
                                      struct json_object *obj);

/* A number that serialises exactly as `text` (which must be a valid JSON
 * number; MV_EINVAL otherwise). Returned, caller releases with json_object_put. */
MV_API MV_NODISCARD int mv_json_new_decimal(const char *text,
                                            struct json_object **out_obj);

/* A node that serialises as exactly `text` (len bytes, copied): JSON that
 * is already serialised — e.g. a stored resource spliced into a Bundle
 * without parsing it again. The text must be one valid JSON value; it is
 * NOT checked (only give text mv_json_write produced). The node is opaque:
 * do not read it with the typed getters. Returned, caller releases with
 * json_object_put(). MV_EINVAL for NULL/empty, MV_ENOMEM. */
MV_API MV_NODISCARD int mv_json_new_raw(const char *text, size_t len,
                                        struct json_object **out_obj);

/*
 * Typed member access with path-exact errors. `path` is the path of obj
 * itself (e.g. "Observation.valueQuantity"); on error diag->path becomes
 * path + "." + key. The returned pointers are borrowed from obj.
 * MV_ENOTFOUND when the key is absent (diag set only when required),
 * MV_EINVAL when present with the wrong type.
 */
MV_API MV_NODISCARD int mv_json_get_string(struct json_object *obj,
                                           const char *path, const char *key,
                                           bool required, const char **out_str,
                                           struct mv_diag *diag);
MV_API MV_NODISCARD int mv_json_get_object(struct json_object *obj,
                                           const char *path, const char *key,
                                           bool required,
                                           struct json_object **out_obj,
                                           struct mv_diag *diag);
MV_API MV_NODISCARD int mv_json_get_array(struct json_object *obj,
                                          const char *path, const char *key,
                                          bool required,
                                          struct json_object **out_arr,
                                          struct mv_diag *diag);
/* Any JSON number; out_text (may be NULL) gets the exact original text. */
MV_API MV_NODISCARD int mv_json_get_number(struct json_object *obj,
                                           const char *path, const char *key,
                                           bool required, double *out_value,
                                           const char **out_text,
                                           struct mv_diag *diag);
/* A JSON integer that fits int64 (no fraction, no exponent). */
MV_API MV_NODISCARD int mv_json_get_int64(struct json_object *obj,
                                          const char *path, const char *key,
                                          bool required, int64_t *out_value,
                                          struct mv_diag *diag);
MV_API MV_NODISCARD int mv_json_get_bool(struct json_object *obj,
                                         const char *path, const char *key,
                                         bool required, bool *out_value,
                                         struct mv_diag *diag);

#endif
