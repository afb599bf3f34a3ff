/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mv_fhir_validate(): walks a json-c tree against the schema tables of
 * schema_*.c following the FHIR R4 JSON rules (§2.6.2 of the spec): every
 * member must be a known element; repeating elements are arrays, others
 * are not; no nulls, empty objects, arrays or strings; a primitive's id and
 * extensions travel in a sibling "_name" member (arrays of them kept
 * aligned, null where absent); choice elements are named by base + type
 * (valueQuantity) and at most one may appear. Issues carry the FHIRPath of
 * the element and never any value from the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fhir_validate_int.h"

/* ---- implicit elements ------------------------------------------------- */

/* Element: id (a string, unlike Resource.id) and extension. */
static const struct mv__fhir_elem element_base[] = {
    MV__OPT("id", string),
    MV__LIST("extension", Extension),
};
static const struct mv__fhir_elem backbone_base[] = {
    MV__OPT("id", string),
    MV__LIST("extension", Extension),
    MV__LIST("modifierExtension", Extension),
};
static const struct mv__fhir_elem resource_base[] = {
    MV__OPT("id", id),
    MV__OPT("meta", Meta),
    MV__OPT("implicitRules", uri),
    MV__OPT("language", code),
};
static const struct mv__fhir_elem domain_base[] = {
    MV__OPT("id", id),
    MV__OPT("meta", Meta),
    MV__OPT("implicitRules", uri),
    MV__OPT("language", code),
    MV__OPT("text", Narrative),
    MV__LIST("contained", Resource),
    MV__LIST("extension", Extension),
    MV__LIST("modifierExtension", Extension),
};

/* The implicit elements of kind k. */
static const struct mv__fhir_elem *base_elems(enum mv__fhir_kind k,
                                              size_t *out_n) {
  switch (k) {
  case MV__FK_COMPLEX:
    *out_n = MV_ARRAY_LEN(element_base);
    return element_base;
  case MV__FK_BACKBONE:
    *out_n = MV_ARRAY_LEN(backbone_base);
    return backbone_base;
  case MV__FK_RESOURCE:
    *out_n = MV_ARRAY_LEN(resource_base);
    return resource_base;
  case MV__FK_DOMAIN:
    *out_n = MV_ARRAY_LEN(domain_base);
    return domain_base;
  case MV__FK_PRIMITIVE:
  case MV__FK_ANY:
    break;
  }
  *out_n = 0;
  return NULL;
}

/* ---- resource registry ------------------------------------------------- */

static const struct mv__fhir_type *const resources[] = {
    &mv__ft_Patient,       &mv__ft_Practitioner,     &mv__ft_CareTeam,
    &mv__ft_Device,        &mv__ft_Observation,      &mv__ft_Encounter,
    &mv__ft_Condition,     &mv__ft_DiagnosticReport, &mv__ft_Flag,
    &mv__ft_Communication, &mv__ft_Appointment,      &mv__ft_Consent,
    &mv__ft_AuditEvent,    &mv__ft_Bundle,
};

const struct mv__fhir_type *mv__fhir_resource_type(const char *name,
                                                   bool nested) {
  if (!name)
    return NULL;
  for (size_t i = 0; i < MV_ARRAY_LEN(resources); i++)
    if (strcmp(resources[i]->name, name) == 0)
      return resources[i];
  if (nested && strcmp(name, "OperationOutcome") == 0)
    return &mv__ft_OperationOutcome;
  return NULL;
}

/* ---- context ------------------------------------------------------------ */

void mv__fhir_issue(struct mv__fhir_vctx *c, enum mv_fhir_severity sev,
                    const char *code, const char *suffix, const char *fmt,
                    ...) {
  char expr[MV_FHIR_EXPR_MAX];
  va_list ap;
  /* Cut silently: a deep path keeps its start, which names the element. */
  size_t pl = c->len < sizeof(expr) - 1 ? c->len : sizeof(expr) - 1;
  memcpy(expr, c->path, pl);
  expr[pl] = '\0';
  if (suffix) {
    size_t sl = strlen(suffix);
    if (sl > sizeof(expr) - 1 - pl)
      sl = sizeof(expr) - 1 - pl;
    memcpy(expr + pl, suffix, sl);
    expr[pl + sl] = '\0';
  }
  if (sev <= MV_FHIR_ERROR)
    c->n_errors++;
  va_start(ap, fmt);
  mv_fhir_outcome_vadd(c->out, sev, code, expr, fmt, ap);
  va_end(ap);
}

size_t mv__fhir_push(struct mv__fhir_vctx *c, const char *fmt, ...) {
  size_t mark = c->len;
  size_t room = sizeof(c->path) - c->len;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(c->path + c->len, room, fmt, ap);
  va_end(ap);
  if (n > 0)
    c->len += (size_t)n < room ? (size_t)n : room - 1;
  return mark;
}

void mv__fhir_pop(struct mv__fhir_vctx *c, size_t len) {
  c->len = len;
  c->path[len] = '\0';
}

const char *mv__fhir_str(struct json_object *obj, const char *key) {
  struct json_object *v = mv__fhir_get(obj, key, json_type_string);
  return v ? json_object_get_string(v) : NULL;
}

struct json_object *mv__fhir_get(struct json_object *obj, const char *key,
                                 enum json_type t) {
  struct json_object *v = NULL;
  if (!json_object_is_type(obj, json_type_object) ||
      !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, t))
    return NULL;
  return v;
}

/* Once the outcome is full and the answer is known to be "invalid", the
 * rest of the walk could only add issues nobody will see. */
static bool done(const struct mv__fhir_vctx *c) {
  return c->out->truncated && c->n_errors > 0;
}

/* ---- element lookup ----------------------------------------------------- */

struct type_view {
  const struct mv__fhir_type *t;
  const struct mv__fhir_elem *base;
  size_t n_base;
};

static size_t view_len(const struct type_view *v) {
  return v->n_base + v->t->n_elems;
}

static const struct mv__fhir_elem *view_at(const struct type_view *v,
                                           size_t i) {
  return i < v->n_base ? &v->base[i] : &v->t->elems[i - v->n_base];
}

/* Whether s is type name tn with its first letter upper-cased: the suffix
 * of a choice element's JSON name (valueQuantity, valueDateTime). */
static bool is_choice_suffix(const char *s, const char *tn) {
  char first = tn[0];
  if (first >= 'a' && first <= 'z')
    first = (char)(first - 'a' + 'A');
  return s[0] == first && strcmp(s + 1, tn + 1) == 0;
}

/* Finds the element JSON member name belongs to, and the type it holds. */
static bool resolve(const struct type_view *v, const char *name,
                    size_t *out_idx, const struct mv__fhir_type **out_type) {
  size_t n = view_len(v);
  for (size_t i = 0; i < n; i++) {
    const struct mv__fhir_elem *e = view_at(v, i);
    if (e->type) {
      if (strcmp(e->name, name) != 0)
        continue;
      *out_idx = i;
      *out_type = e->type;
      return true;
    }
    size_t bl = strlen(e->name);
    if (strncmp(name, e->name, bl) != 0 || name[bl] == '\0')
      continue;
    for (const struct mv__fhir_type *const *ch = e->choices; *ch; ch++) {
      if (is_choice_suffix(name + bl, (*ch)->name)) {
        *out_idx = i;
        *out_type = *ch;
        return true;
      }
    }
  }
  return false;
}

/* A member name safe to show in an expression: what an element name can
 * look like. Anything else could be arbitrary (patient) text. */
static bool plausible_name(const char *k) {
  size_t n = 0;
  if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') ||
        k[0] == '_'))
    return false;
  for (; k[n]; n++) {
    char ch = k[n];
    if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
          (ch >= '0' && ch <= '9') || ch == '_'))
      return false;
    if (n >= 64)
      return false;
  }
  return true;
}

static void unknown_element(struct mv__fhir_vctx *c, const char *key) {
  if (!plausible_name(key)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "unknown element (its name is not a valid element name)");
    return;
  }
  size_t mark = mv__fhir_push(c, ".%s", key);
  mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "", "unknown element");
  mv__fhir_pop(c, mark);
}

/* ---- the walk ----------------------------------------------------------- */

static void walk_object(struct mv__fhir_vctx *c, const struct mv__fhir_type *t,
                        struct json_object *obj);

/* A resource held by another one (contained, Bundle.entry.resource), typed
 * by its own resourceType. */
static void walk_resource(struct mv__fhir_vctx *c, struct json_object *obj,
                          bool contained) {
  struct json_object *rt = NULL;
  if (!json_object_object_get_ex(obj, "resourceType", &rt)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "required", ".resourceType",
                   "missing resourceType");
    return;
  }
  if (!json_object_is_type(rt, json_type_string)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", ".resourceType",
                   "expected a string");
    return;
  }
  const struct mv__fhir_type *t =
      mv__fhir_resource_type(json_object_get_string(rt), true);
  if (!t) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "not-supported", ".resourceType",
                   "resource type is not supported by this server");
    return;
  }
  if (contained)
    c->contained++;
  walk_object(c, t, obj);
  if (contained)
    c->contained--;
}

/* One value (not an array) of element e, of type ct. */
static void walk_value(struct mv__fhir_vctx *c, const struct mv__fhir_elem *e,
                       const struct mv__fhir_type *ct, struct json_object *v) {
  if (!v) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "null is not allowed in FHIR JSON");
    return;
  }
  switch (ct->kind) {
  case MV__FK_PRIMITIVE:
    mv__fhir_check_primitive(c, ct, e->vs, v);
    return;
  case MV__FK_ANY:
    if (!json_object_is_type(v, json_type_object)) {
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "expected a resource (a JSON object)");
      return;
    }
    if (c->contained && strcmp(e->name, "contained") == 0) {
      mv__fhir_issue(c, MV_FHIR_ERROR, "invariant", "",
                     "a contained resource must not contain resources "
                     "(dom-2)");
      return;
    }
    walk_resource(c, v, strcmp(e->name, "contained") == 0);
    return;
  case MV__FK_COMPLEX:
  case MV__FK_BACKBONE:
  case MV__FK_DOMAIN:
  case MV__FK_RESOURCE:
    break;
  }
  if (!json_object_is_type(v, json_type_object)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "", "expected an object (%s)",
                   ct->name);
    return;
  }
  walk_object(c, ct, v);
  if (e->vs && !done(c))
    mv__fhir_check_binding(c, ct, e->vs, v);
}

/* The "_name" sibling of primitive member key in parent, or NULL. */
static struct json_object *sibling_ext(struct json_object *parent,
                                       const char *key) {
  char k[80];
  struct json_object *x = NULL;
  if ((size_t)snprintf(k, sizeof(k), "_%s", key) >= sizeof(k) ||
      !json_object_object_get_ex(parent, k, &x))
    return NULL;
  return x;
}

/* Member key (element e, type ct) of parent, holding v. */
static void walk_member(struct mv__fhir_vctx *c, const struct mv__fhir_elem *e,
                        const struct mv__fhir_type *ct, const char *key,
                        struct json_object *v, struct json_object *parent) {
  size_t mark = mv__fhir_push(c, ".%s", key);
  if (!e->many) {
    if (json_object_is_type(v, json_type_array))
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "expected a single value, not an array");
    else
      walk_value(c, e, ct, v);
    goto out;
  }
  if (!v) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "null is not allowed in FHIR JSON");
    goto out;
  }
  if (!json_object_is_type(v, json_type_array)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "expected an array (the element repeats)");
    goto out;
  }
  size_t n = json_object_array_length(v);
  if (n == 0) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "empty arrays are not allowed in FHIR JSON");
    goto out;
  }
  struct json_object *ext = NULL;
  if (ct->kind == MV__FK_PRIMITIVE) {
    ext = sibling_ext(parent, key);
    if (!json_object_is_type(ext, json_type_array))
      ext = NULL;
  }
  for (size_t i = 0; i < n && !done(c); i++) {
    struct json_object *item = json_object_array_get_idx(v, i);
    size_t m2 = mv__fhir_push(c, "[%zu]", i);
    /* A null item is a primitive with only extensions, in "_name". */
    if (item || !ext ||
        !json_object_is_type(json_object_array_get_idx(ext, i),
                             json_type_object))
      walk_value(c, e, ct, item);
    mv__fhir_pop(c, m2);
  }
out:
  mv__fhir_pop(c, mark);
}

/* The "_name" member key (id and extensions of primitive element e). */
static void walk_primitive_ext(struct mv__fhir_vctx *c,
                               const struct mv__fhir_elem *e, const char *key,
                               struct json_object *v,
                               struct json_object *parent) {
  size_t mark = mv__fhir_push(c, ".%s", key);
  if (!e->many) {
    if (!json_object_is_type(v, json_type_object))
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "expected an object (id and extension of a primitive)");
    else
      walk_object(c, &mv__ft_Element, v);
    goto out;
  }
  if (!json_object_is_type(v, json_type_array)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "expected an array aligned with the values");
    goto out;
  }
  struct json_object *vals = NULL;
  size_t n = json_object_array_length(v);
  if (n == 0) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "empty arrays are not allowed in FHIR JSON");
    goto out;
  }
  if (json_object_object_get_ex(parent, key + 1, &vals) &&
      json_object_is_type(vals, json_type_array) &&
      json_object_array_length(vals) != n) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "must have as many items as the values it extends");
    goto out;
  }
  if (!json_object_is_type(vals, json_type_array))
    vals = NULL;
  for (size_t i = 0; i < n && !done(c); i++) {
    struct json_object *item = json_object_array_get_idx(v, i);
    size_t m2 = mv__fhir_push(c, "[%zu]", i);
    if (!item) {
      if (!vals || !json_object_array_get_idx(vals, i))
        mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                       "null here and in the values: the item is empty");
    } else if (!json_object_is_type(item, json_type_object)) {
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "expected an object or null");
    } else {
      walk_object(c, &mv__ft_Element, item);
    }
    mv__fhir_pop(c, m2);
  }
out:
  mv__fhir_pop(c, mark);
}

/* An object of complex type t (datatype, BackboneElement or resource). */
static void walk_object(struct mv__fhir_vctx *c, const struct mv__fhir_type *t,
                        struct json_object *obj) {
  const struct mv__fhir_type *chosen[MV__FHIR_ELEMS_MAX] = {0};
  struct type_view view = {.t = t};
  bool is_resource = t->kind == MV__FK_DOMAIN || t->kind == MV__FK_RESOURCE;
  if (done(c))
    return;
  if (c->depth >= MV__FHIR_WALK_DEPTH) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "too-costly", "",
                   "content is nested too deeply");
    return;
  }
  c->depth++;
  view.base = base_elems(t->kind, &view.n_base);
  if (json_object_object_length(obj) == 0) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "empty objects are not allowed in FHIR JSON");
    goto out;
  }
  json_object_object_foreach(obj, key, val) {
    size_t idx = 0;
    const struct mv__fhir_type *ct = NULL;
    bool ext = key[0] == '_';
    if (done(c))
      goto out;
    if (is_resource && strcmp(key, "resourceType") == 0)
      continue;
    if (!resolve(&view, ext ? key + 1 : key, &idx, &ct) ||
        (ext && ct->kind != MV__FK_PRIMITIVE) || idx >= MV__FHIR_ELEMS_MAX) {
      unknown_element(c, key);
      continue;
    }
    const struct mv__fhir_elem *e = view_at(&view, idx);
    if (chosen[idx] && chosen[idx] != ct) {
      size_t mark = mv__fhir_push(c, ".%s", key);
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "only one type of %s[x] may be present", e->name);
      mv__fhir_pop(c, mark);
      continue;
    }
    chosen[idx] = ct;
    if (ext)
      walk_primitive_ext(c, e, key, val, obj);
    else
      walk_member(c, e, ct, key, val, obj);
  }
  for (size_t i = 0; i < view_len(&view) && i < MV__FHIR_ELEMS_MAX; i++) {
    const struct mv__fhir_elem *e = view_at(&view, i);
    if (e->min && !chosen[i]) {
      size_t mark = mv__fhir_push(c, ".%s", e->name);
      mv__fhir_issue(c, MV_FHIR_ERROR, "required", "",
                     e->choices ? "missing required element %s[x]"
                                : "missing required element %s",
                     e->name);
      mv__fhir_pop(c, mark);
    }
  }
  if (t->check && !done(c))
    t->check(c, obj);
out:
  c->depth--;
}

/* ---- entry point -------------------------------------------------------- */

int mv_fhir_validate(struct json_object *res, const char *expected_type,
                     struct mv_fhir_outcome *out) {
  struct mv__fhir_vctx c = {.out = out};
  struct json_object *rt = NULL;
  if (!out)
    return MV_EINVAL;
  if (expected_type && !mv_fhir_type_supported(expected_type)) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "not-supported", "",
                   "resource type is not supported by this server");
    return MV_EUNSUPPORTED;
  }
  if (!json_object_is_type(res, json_type_object)) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "structure", "",
                   "expected a JSON object holding a FHIR resource");
    return MV_EINVAL;
  }
  if (!json_object_object_get_ex(res, "resourceType", &rt)) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "required", "resourceType",
                   "missing resourceType");
    return MV_EINVAL;
  }
  if (!json_object_is_type(rt, json_type_string)) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "structure", "resourceType",
                   "expected a string");
    return MV_EINVAL;
  }
  const struct mv__fhir_type *t =
      mv__fhir_resource_type(json_object_get_string(rt), false);
  if (!t) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "not-supported", "resourceType",
                   "resource type is not supported by this server");
    return MV_EUNSUPPORTED;
  }
  if (expected_type && strcmp(expected_type, t->name) != 0) {
    mv__fhir_issue(&c, MV_FHIR_ERROR, "invalid", "resourceType",
                   "resourceType must be %s, the type named in the URL",
                   expected_type);
    return MV_EINVAL;
  }
  (void)mv__fhir_push(&c, "%s", t->name);
  walk_object(&c, t, res);
  return c.n_errors ? MV_EINVAL : MV_OK;
}
