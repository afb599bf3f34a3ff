/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the fhir module: the data-driven schema behind
 * mv_fhir_validate(). Each FHIR type (primitive, datatype, BackboneElement
 * or resource) is one constant struct mv__fhir_type listing its elements
 * with type, cardinality, choice types and required bindings; schema_*.c
 * hold the tables (written from the FHIR R4 4.0.1 definitions), validate.c
 * walks a json-c tree against them, validate_prim.c checks primitive
 * formats and validate_rules.c / validate_vitals.c the invariants and the
 * vital-signs profile that tables cannot express.
 */
#ifndef MV_FHIR_VALIDATE_INT_H
#define MV_FHIR_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mv_fhir.h"

/* Nesting cap of the walk, a second guard behind the JSON parser's depth
 * cap for trees built in memory. */
#define MV__FHIR_WALK_DEPTH 128u
/* Most elements one type may have (implicit ones included). */
#define MV__FHIR_ELEMS_MAX 64u
/* Bytes of the path buffer; expressions are cut to MV_FHIR_EXPR_MAX. */
#define MV__FHIR_PATH_CAP 512u

enum mv__fhir_kind {
  MV__FK_PRIMITIVE,
  MV__FK_COMPLEX,  /* datatype: implicit id, extension */
  MV__FK_BACKBONE, /* implicit id, extension, modifierExtension */
  MV__FK_DOMAIN,   /* DomainResource: id, meta, ..., text, contained, ... */
  MV__FK_RESOURCE, /* Resource only (Bundle): id, meta, implicitRules, ... */
  MV__FK_ANY,      /* any resource, dispatched on resourceType */
};

enum mv__fhir_prim {
  MV__FP_NONE = 0,
  MV__FP_BOOLEAN,
  MV__FP_INTEGER,
  MV__FP_POSITIVEINT,
  MV__FP_UNSIGNEDINT,
  MV__FP_DECIMAL,
  MV__FP_STRING,
  MV__FP_MARKDOWN,
  MV__FP_CODE,
  MV__FP_ID,
  MV__FP_URI,
  MV__FP_URL,
  MV__FP_CANONICAL,
  MV__FP_BASE64,
  MV__FP_DATE,
  MV__FP_DATETIME,
  MV__FP_INSTANT,
  MV__FP_TIME,
  MV__FP_OID,
  MV__FP_UUID,
  MV__FP_XHTML,
};

/* A required-binding value set. system is the code system the codes come
 * from (checked on Coding/CodeableConcept; NULL for plain code elements). */
struct mv__fhir_vs {
  const char *system;
  const char *const *codes; /* NULL-terminated */
};

struct mv__fhir_vctx;
struct mv__fhir_type;

struct mv__fhir_elem {
  /* JSON name; for a choice element the base ("value" of value[x]). */
  const char *name;
  const struct mv__fhir_type *type;           /* NULL for a choice */
  const struct mv__fhir_type *const *choices; /* NULL-terminated or NULL */
  unsigned char min;                          /* 0 or 1 */
  bool many;                                  /* max "*" */
  const struct mv__fhir_vs *vs;               /* required binding or NULL */
};

/* Extra rules run on an object after its elements were walked. obj is a
 * JSON object; the context path names it. */
typedef void (*mv__fhir_check_fn)(struct mv__fhir_vctx *c,
                                  struct json_object *obj);

struct mv__fhir_type {
  const char *name; /* FHIR type name; choice suffix is it capitalised */
  enum mv__fhir_kind kind;
  enum mv__fhir_prim prim;
  const struct mv__fhir_elem *elems;
  size_t n_elems;
  mv__fhir_check_fn check;
};

/* ---- table helpers (schema_*.c) ---------------------------------------- */

#define MV__OPT(n, t)                                                          \
  { .name = (n), .type = &mv__ft_##t }
#define MV__REQ(n, t)                                                          \
  { .name = (n), .type = &mv__ft_##t, .min = 1 }
#define MV__LIST(n, t)                                                         \
  { .name = (n), .type = &mv__ft_##t, .many = true }
#define MV__LIST1(n, t)                                                        \
  { .name = (n), .type = &mv__ft_##t, .min = 1, .many = true }
#define MV__OPT_VS(n, t, v)                                                    \
  { .name = (n), .type = &mv__ft_##t, .vs = &(v) }
#define MV__REQ_VS(n, t, v)                                                    \
  { .name = (n), .type = &mv__ft_##t, .min = 1, .vs = &(v) }
#define MV__LIST_VS(n, t, v)                                                   \
  { .name = (n), .type = &mv__ft_##t, .many = true, .vs = &(v) }
#define MV__CHOICE(n, list, mn)                                                \
  { .name = (n), .choices = (list), .min = (mn) }
/* A BackboneElement or datatype member defined in the same file. */
#define MV__OPT_T(n, t)                                                        \
  { .name = (n), .type = &(t) }
#define MV__REQ_T(n, t)                                                        \
  { .name = (n), .type = &(t), .min = 1 }
#define MV__LIST_T(n, t)                                                       \
  { .name = (n), .type = &(t), .many = true }
#define MV__LIST1_T(n, t)                                                      \
  { .name = (n), .type = &(t), .min = 1, .many = true }

#define MV__TYPE(nm, k, els, fn)                                               \
  {                                                                            \
    .name = (nm), .kind = (k), .elems = (els), .n_elems = MV_ARRAY_LEN(els),   \
    .check = (fn)                                                              \
  }
#define MV__VS(nm, sys, ...)                                                   \
  static const char *const nm##_codes[] = {__VA_ARGS__, NULL};                 \
  static const struct mv__fhir_vs nm = {.system = (sys), .codes = nm##_codes}

/* Every type the tables refer to across files. */
#define MV__FHIR_TYPES(X)                                                      \
  X(boolean)                                                                   \
  X(integer)                                                                   \
  X(positiveInt)                                                               \
  X(unsignedInt)                                                               \
  X(decimal)                                                                   \
  X(string)                                                                    \
  X(markdown)                                                                  \
  X(code)                                                                      \
  X(id)                                                                        \
  X(uri)                                                                       \
  X(url)                                                                       \
  X(canonical)                                                                 \
  X(base64Binary)                                                              \
  X(date)                                                                      \
  X(dateTime)                                                                  \
  X(instant)                                                                   \
  X(time)                                                                      \
  X(oid)                                                                       \
  X(uuid)                                                                      \
  X(xhtml)                                                                     \
  X(Element)                                                                   \
  X(Extension)                                                                 \
  X(Meta)                                                                      \
  X(Narrative)                                                                 \
  X(Identifier)                                                                \
  X(HumanName)                                                                 \
  X(ContactPoint)                                                              \
  X(Address)                                                                   \
  X(CodeableConcept)                                                           \
  X(Coding)                                                                    \
  X(Quantity)                                                                  \
  X(SimpleQuantity)                                                            \
  X(Age)                                                                       \
  X(Count)                                                                     \
  X(Distance)                                                                  \
  X(Duration)                                                                  \
  X(Money)                                                                     \
  X(Range)                                                                     \
  X(Ratio)                                                                     \
  X(Period)                                                                    \
  X(Reference)                                                                 \
  X(Attachment)                                                                \
  X(Annotation)                                                                \
  X(SampledData)                                                               \
  X(Timing)                                                                    \
  X(Signature)                                                                 \
  X(Resource)                                                                  \
  X(Patient)                                                                   \
  X(Practitioner)                                                              \
  X(CareTeam)                                                                  \
  X(Device)                                                                    \
  X(Observation)                                                               \
  X(Encounter)                                                                 \
  X(Condition)                                                                 \
  X(DiagnosticReport)                                                          \
  X(Flag)                                                                      \
  X(Communication)                                                             \
  X(Appointment)                                                               \
  X(Consent)                                                                   \
  X(AuditEvent)                                                                \
  X(Bundle)                                                                    \
  X(OperationOutcome)

#define MV__FT_DECLARE(n) extern const struct mv__fhir_type mv__ft_##n;
MV__FHIR_TYPES(MV__FT_DECLARE)
#undef MV__FT_DECLARE

/* The resource type called name (a stored type, Bundle, or, when nested
 * is true, OperationOutcome), or NULL. */
const struct mv__fhir_type *mv__fhir_resource_type(const char *name,
                                                   bool nested);

/* ---- walking context (validate.c) -------------------------------------- */

struct mv__fhir_vctx {
  struct mv_fhir_outcome *out;
  char path[MV__FHIR_PATH_CAP]; /* FHIRPath of the value being checked */
  size_t len;
  unsigned depth;
  unsigned contained; /* > 0 inside a contained resource */
  size_t n_errors;    /* error issues, counted even past truncation */
};

/* Append an issue whose expression is the current path + suffix (suffix
 * "" for the current element, ".code", "[2]"...). Counts errors. */
void mv__fhir_issue(struct mv__fhir_vctx *c, enum mv_fhir_severity sev,
                    const char *code, const char *suffix, const char *fmt, ...)
    MV_PRINTF(5, 6);
/* Path stack: push appends (truncating silently past the cap), returning
 * the length to restore with mv__fhir_pop. */
size_t mv__fhir_push(struct mv__fhir_vctx *c, const char *fmt, ...)
    MV_PRINTF(2, 3);
void mv__fhir_pop(struct mv__fhir_vctx *c, size_t len);

/* ---- primitives (validate_prim.c) -------------------------------------- */

/* Check value v (not null, not an array) against primitive type t at the
 * current path; vs (may be NULL) is a required binding for codes. */
void mv__fhir_check_primitive(struct mv__fhir_vctx *c,
                              const struct mv__fhir_type *t,
                              const struct mv__fhir_vs *vs,
                              struct json_object *v);
/* Whether code is one of vs's codes. */
bool mv__fhir_vs_has(const struct mv__fhir_vs *vs, const char *code);
/* Report a code outside vs at the current path + suffix. */
void mv__fhir_vs_fail(struct mv__fhir_vctx *c, const struct mv__fhir_vs *vs,
                      const char *suffix);
/* A required binding on a Coding or CodeableConcept (obj, current path). */
void mv__fhir_check_binding(struct mv__fhir_vctx *c,
                            const struct mv__fhir_type *t,
                            const struct mv__fhir_vs *vs,
                            struct json_object *obj);
/* Whether s is a reference we accept: Type/id[/_history/vid], an absolute
 * http(s) URL, "#" or "#id", or urn:uuid:<uuid>. */
bool mv__fhir_reference_valid(const char *s);

/* String member key of obj, or NULL (absent or not a string). Borrowed. */
const char *mv__fhir_str(struct json_object *obj, const char *key);
/* Member key of obj when it has JSON type t, else NULL. Borrowed. */
struct json_object *mv__fhir_get(struct json_object *obj, const char *key,
                                 enum json_type t);

/* ---- invariants (validate_rules.c, validate_vitals.c) ------------------ */

void mv__fhir_check_extension(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_quantity(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_simple_quantity(struct mv__fhir_vctx *c,
                                    struct json_object *o);
void mv__fhir_check_period(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_reference(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_sampled_data(struct mv__fhir_vctx *c,
                                 struct json_object *o);
void mv__fhir_check_patient_contact(struct mv__fhir_vctx *c,
                                    struct json_object *o);
void mv__fhir_check_condition(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_appointment(struct mv__fhir_vctx *c, struct json_object *o);
void mv__fhir_check_audit_entity(struct mv__fhir_vctx *c,
                                 struct json_object *o);
void mv__fhir_check_bundle(struct mv__fhir_vctx *c, struct json_object *o);
/* Observation invariants and the vital-signs profile. */
void mv__fhir_check_observation(struct mv__fhir_vctx *c, struct json_object *o);

#endif
