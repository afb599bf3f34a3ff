/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 search, indexing and Bundles as plain computation (no I/O):
 *  - the registry of search parameters per resource type (registry.c);
 *  - search query parsing into terms the HTTP layer turns into store
 *    queries, and the canonical query of a page for self/next links
 *    (search.c, link.c);
 *  - index extraction: what a resource is found by (index.c);
 *  - references in a resource (index.c);
 *  - batch/transaction Bundles: planning, urn:uuid resolution, and the
 *    response, searchset and history Bundles (bundle.c, searchset.c);
 *  - the CapabilityStatement, generated from the registry (capability.c).
 *
 * Memory: results live in a caller-supplied arena (struct mv_arena) and are
 * valid until it is reset or freed; strings taken from json-c objects are
 * borrowed from those objects. Errors are negative enum mv_err values; the
 * detail goes into a struct mv_fhir_outcome whose diagnostics never contain
 * input values (they may be patient data), only parameter and element names.
 */
#ifndef MV_FHIR_SEARCH_H
#define MV_FHIR_SEARCH_H

#include <json-c/json.h>

#include "mv_arena.h"
#include "mv_fhir.h"
#include "mv_limits.h"

/* ---- Caps ---------------------------------------------------------------- */

/* clang-format off */
#define MV_FHIR_SEARCH_QUERY_MAX MV_LIMIT_FHIR_SEARCH_QUERY      /* bytes of one raw query string */
#define MV_FHIR_SEARCH_TERMS_MAX MV_LIMIT_FHIR_SEARCH_TERMS        /* search terms (ANDed parameters) */
#define MV_FHIR_SEARCH_VALUES_MAX MV_LIMIT_FHIR_SEARCH_VALUES       /* comma-separated values (ORed) in one term */
#define MV_FHIR_SEARCH_WORDS_MAX MV_LIMIT_FHIR_SEARCH_WORDS         /* words in one string search value */
#define MV_FHIR_SEARCH_COUNT_DEFAULT 20u    /* _count when absent */
#define MV_FHIR_SEARCH_COUNT_MAX MV_LIMIT_FHIR_SEARCH_COUNT      /* largest _count */
#define MV_FHIR_SEARCH_OFFSET_MAX MV_LIMIT_FHIR_SEARCH_OFFSET /* largest _offset */
#define MV_FHIR_INDEX_TERMS_MAX MV_LIMIT_FHIR_INDEX_TERMS        /* index terms of one resource */
#define MV_FHIR_INDEX_VALUE_MAX MV_LIMIT_FHIR_INDEX_VALUE       /* bytes of one token system or code */
#define MV_FHIR_STRING_WORDS_MAX MV_LIMIT_FHIR_STRING_WORDS        /* words taken from one string element */
#define MV_FHIR_BUNDLE_ENTRIES_MAX MV_LIMIT_FHIR_BUNDLE_ENTRIES    /* entries in one batch/transaction */
/* clang-format on */

/* "No date": the value of date_lo_us/date_hi_us and last_modified_us when
 * there is none. Same value as the store's MV_STORE_NO_DATE. */
#define MV_FHIR_NO_DATE INT64_MIN

/* ---- Search parameter registry (registry.c) ------------------------------ */

enum mv_fhir_param_type {
  MV_FHIR_PARAM_STRING,    /* starts-with on normalised words */
  MV_FHIR_PARAM_TOKEN,     /* [system|]code */
  MV_FHIR_PARAM_REFERENCE, /* Type/id (stored as a token "Type/id") */
  MV_FHIR_PARAM_DATE,      /* prefix + date range */
};

/* Where the values of a parameter are found in the store. */
enum mv_fhir_param_target {
  MV_FHIR_TARGET_TERMS,        /* index terms named after the parameter */
  MV_FHIR_TARGET_ID,           /* the resource id (_id; codes only) */
  MV_FHIR_TARGET_LAST_UPDATED, /* the version's lastUpdated (_lastUpdated) */
  MV_FHIR_TARGET_DATE,   /* the main date range (date_lo_us..date_hi_us) */
  MV_FHIR_TARGET_STATUS, /* the status column (codes only; a system given in
                          * the search is not compared) */
};

/* One search parameter of one resource type. Static data. */
struct mv_fhir_search_param {
  const char *name; /* "birthdate", "code", "_id" */
  enum mv_fhir_param_type type;
  enum mv_fhir_param_target target;
  /* Reference parameters: the only target type ("Patient" for `patient`,
   * so `patient=123` means Patient/123), NULL when several are allowed
   * (then a search value must name its type: `subject=Patient/123`). */
  const char *ref_type;
  /* Reference parameters whose values are exactly the compartment patient
   * id of the resource (mv_fhir_index.patient_id): a search on it may use
   * the patient column instead of the terms (both give the same answer). */
  bool compartment;
  /* FHIRPath of the indexed elements (documentation, CapabilityStatement). */
  const char *path;
};

/* The search parameters of a stored type (mv_fhir_types()), including the
 * common _id and _lastUpdated. Static array; NULL and *out_n = 0 for an
 * unknown type. */
MV_API const struct mv_fhir_search_param *
mv_fhir_search_params(const char *type, size_t *out_n);
/* One parameter by name, or NULL. Static. */
MV_API const struct mv_fhir_search_param *
mv_fhir_search_param_find(const char *type, const char *name);

/* ---- Search queries (search.c, link.c) ----------------------------------- */

enum mv_fhir_prefix {
  MV_FHIR_PREFIX_EQ, /* resource range within the value's range */
  MV_FHIR_PREFIX_NE, /* not eq */
  MV_FHIR_PREFIX_GT, /* rhi > phi */
  MV_FHIR_PREFIX_LT, /* rlo < plo */
  MV_FHIR_PREFIX_GE, /* rhi >= plo */
  MV_FHIR_PREFIX_LE, /* rlo <= phi */
};

/* One alternative of a term (values of a term are ORed). Which fields are
 * set depends on the parameter's type; strings are in the search's arena. */
struct mv_fhir_search_value {
  /* TOKEN: system NULL = any system, "" = no system ("|code");
   * code NULL = any code of that system ("system|", system non-empty).
   * REFERENCE: system NULL, code "Type/id" (the stored token).
   * Targets ID and STATUS: code only. */
  const char *system;
  const char *code;
  /* REFERENCE: the two halves of code. */
  const char *ref_type;
  const char *ref_id;
  /* STRING: normalised words (mv_fhir_string_normalize), 1..
   * MV_FHIR_SEARCH_WORDS_MAX; a resource matches when each word is a prefix
   * of one of its words (or equals it, for :exact). */
  const char *const *words;
  size_t n_words;
  /* DATE: prefix and the range [lo_us, hi_us] of the value (hi inclusive),
   * as mv_fhir_date_parse(MV_FHIR_SEARCH) gives it. */
  enum mv_fhir_prefix prefix;
  int64_t lo_us;
  int64_t hi_us;
  enum mv_fhir_date_prec prec;
};

struct mv_fhir_search_term {
  const struct mv_fhir_search_param *param; /* static registry entry */
  /* STRING only: ":exact" given, i.e. whole words must match. The store
   * keeps hashed, normalised words, so this is "every word equals a stored
   * word" (case and accents are not compared). */
  bool exact;
  struct mv_fhir_search_value *values; /* 1..MV_FHIR_SEARCH_VALUES_MAX, ORed */
  size_t n_values;
  /* Canonical key (name, ":exact") and decoded value text, for links. */
  const char *key_text;
  const char *value_text;
};

enum mv_fhir_sort {
  MV_FHIR_SORT_NONE,         /* the store's order */
  MV_FHIR_SORT_DATE_ASC,     /* _sort=date (main date, by date_lo_us) */
  MV_FHIR_SORT_DATE_DESC,    /* _sort=-date */
  MV_FHIR_SORT_UPDATED_ASC,  /* _sort=_lastUpdated */
  MV_FHIR_SORT_UPDATED_DESC, /* _sort=-_lastUpdated */
};

enum mv_fhir_total {
  MV_FHIR_TOTAL_DEFAULT, /* not given: the server's choice */
  MV_FHIR_TOTAL_NONE,
  MV_FHIR_TOTAL_ESTIMATE,
  MV_FHIR_TOTAL_ACCURATE,
};

/* A parsed search. Terms are ANDed. Everything is in the arena given to
 * mv_fhir_search_parse and valid until it is reset or freed. */
struct mv_fhir_search {
  const char *type; /* the resource type (copied) */
  struct mv_fhir_search_term *terms;
  size_t n_terms;
  unsigned count;  /* page size 0..MV_FHIR_SEARCH_COUNT_MAX; 0 = total only */
  uint64_t offset; /* matches to skip (_offset), 0..MV_FHIR_SEARCH_OFFSET_MAX */
  enum mv_fhir_sort sort;
  enum mv_fhir_total total;
  bool summary_count; /* _summary=count (count is then 0) */
  const char *format; /* _format as given (an accepted one), or NULL */
};

/*
 * Parse the query string of a search on `type` (a stored type): the raw,
 * percent-encoded text after '?' (NULL or "" = no parameters). Keys and
 * values are percent-decoded ('+' is a space); repeated parameters are
 * ANDed, comma-separated values ORed ("\," is a literal comma, "\|" a
 * literal bar, "\\" a backslash). Forms:
 *   token      code | system|code | |code | system|
 *   reference  Type/id | id (when the parameter has one target type) |
 *              an absolute URL ending in Type/id; `param:Type=id`
 *   date       [eq|ne|gt|lt|ge|le]date, date per MV_FHIR_SEARCH (a space
 *              where a zone's '+' was is read as '+': clients often forget
 *              to encode it)
 *   string     words, each matched as a prefix; `param:exact`
 *   _count (0..MV_FHIR_SEARCH_COUNT_MAX, default 20), _offset (>= 0),
 *   _sort (the type's date parameter, e.g. date or birthdate, or
 *   _lastUpdated; '-' for descending; one key only), _total
 *   (none|estimate|accurate), _summary (count; false), _format (json,
 *   application/json, application/fhir+json, application/json+fhir).
 * A parameter with an empty value is ignored (FHIR R4 §3.1.1.5).
 * Unknown parameters and modifiers, unsupported prefixes (sa, eb, ap),
 * sort keys, _total and _summary values, and _count above the maximum
 * (the maximum is then used): with strict false a warning issue (code
 * "not-supported", expression = the parameter name) is added to oo and the
 * parameter ignored; with strict true an error issue and MV_EINVAL.
 * Bad values (a bad date, a non-number _count, a token with an empty code,
 * a reference without a type where one is needed) give MV_EINVAL with an
 * error issue whose expression is the parameter name; too many terms or
 * values MV_ETOOBIG ("too-costly"); an unsupported _format MV_EUNSUPPORTED;
 * a result parameter (_count, _sort, ...) given twice MV_EINVAL. Warnings
 * stop one issue short of a full outcome, so the error that explains a
 * refusal is always kept.
 * type and query are borrowed (copied into arena as needed); oo gets
 * issues appended (never input values); out is untouched on error.
 * MV_ENOMEM when the arena is full. MV_EINVAL for an unknown type.
 */
MV_API MV_NODISCARD int mv_fhir_search_parse(const char *type,
                                             const char *query, bool strict,
                                             struct mv_arena *arena,
                                             struct mv_fhir_search *out,
                                             struct mv_fhir_outcome *oo);

/*
 * The canonical link of one page of search s: the terms as parsed (ignored
 * parameters left out), then _count, _offset (when offset > 0), _sort,
 * _total, _summary and _format when set, percent-encoded so that parsing
 * it gives the same search. base_url NULL: the query string only
 * ("name=smi&_count=20"); else "<base_url>/<type>?<query>" (base_url
 * without a trailing '/'). Returned in arena (*out_link); MV_ENOMEM.
 * Encoding may make a link longer than the query it came from (up to 3x
 * for values sent unencoded); MV_ETOOBIG past 3 * MV_FHIR_SEARCH_QUERY_MAX.
 * Use offset = s->offset for `self`, s->offset + s->count for `next`.
 */
MV_API MV_NODISCARD int mv_fhir_search_link(const struct mv_fhir_search *s,
                                            const char *base_url,
                                            uint64_t offset,
                                            struct mv_arena *arena,
                                            const char **out_link);

/*
 * The words of a string for string search, normalised (DESIGN-issue3.md):
 * ASCII letters lower-cased, ASCII letters and digits kept, every other
 * ASCII character a separator, non-ASCII UTF-8 sequences kept as they are
 * (invalid UTF-8 bytes are separators). At most max_words words are kept
 * (the first ones); *out_total (may be NULL) gets how many there were.
 * Index and search use this one function, so they always agree.
 * Words and array in arena; *out_n may be 0. MV_ENOMEM.
 */
MV_API MV_NODISCARD int
mv_fhir_string_normalize(const char *s, size_t max_words,
                         struct mv_arena *arena, const char ***out_words,
                         size_t *out_n, size_t *out_total);

/* ---- Index extraction (index.c) ------------------------------------------ */

enum mv_fhir_term_kind {
  MV_FHIR_TERM_TOKEN,  /* token and reference parameters */
  MV_FHIR_TERM_STRING, /* one normalised word of a string parameter */
};

struct mv_fhir_index_term {
  const char *param; /* registry name (static) */
  enum mv_fhir_term_kind kind;
  const char *system; /* TOKEN: "" when absent; STRING: "" */
  /* TOKEN: the code ("Type/id" for references); STRING: the word. */
  const char *value;
};

struct mv_fhir_index {
  const char *type; /* resourceType, borrowed from the resource */
  const char *id;   /* id, borrowed; "" when absent */
  /* Compartment patient id (DESIGN-issue3.md): a Patient's own id ("" when
   * not yet assigned: the caller fills it), else the id of the first
   * Patient/<id> reference of the type's patient element; "" when none. */
  const char *patient_id;
  const char *status; /* status code, NULL when none */
  /* Main date (registry target MV_FHIR_TARGET_DATE) as [lo, hi], hi
   * inclusive; both MV_FHIR_NO_DATE when none. A Period without end
   * (ongoing) has hi INT64_MAX, one without start lo INT64_MIN + 1. */
  int64_t date_lo_us, date_hi_us;
  struct mv_fhir_index_term *terms; /* deduplicated, document order */
  size_t n_terms;                   /* <= MV_FHIR_INDEX_TERMS_MAX */
  /* Terms left out: beyond MV_FHIR_INDEX_TERMS_MAX (the last ones in
   * document order are dropped) or longer than MV_FHIR_INDEX_VALUE_MAX. */
  size_t n_dropped;
};

/*
 * What res (a resource of a stored type, borrowed) is found by: the
 * compartment patient, the status, the main date and the index terms of
 * every token, reference and string parameter of its type (registry).
 * References are stored as tokens with system "" and code "Type/id" (only
 * relative references; urn:uuid references must have been rewritten).
 * An element with a malformed date is treated as absent (validation
 * reports it). Strings point into res or arena. MV_EINVAL when res is not
 * an object of a stored type; MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_fhir_index_extract(struct json_object *res,
                                              struct mv_arena *arena,
                                              struct mv_fhir_index *out);

/* ---- References (index.c) ------------------------------------------------ */

/* Called for every Reference.reference string. holder is the Reference
 * object (borrowed: the callback may replace its "reference" member, e.g.
 * with json_object_object_add, but must not touch anything else);
 * reference is the string (borrowed for the call); expression its FHIRPath
 * ("Observation.subject.reference", "CareTeam.participant[1].member
 * .reference"). Return 0 to go on, anything else to stop: it is returned
 * by mv_fhir_references_each. */
typedef int (*mv_fhir_ref_fn)(void *ctx, struct json_object *holder,
                              const char *reference, const char *expression);

/* Visit every Reference.reference string of res (borrowed), contained
 * resources included, in document order. The root of the expressions is
 * res's resourceType. MV_OK, or the first non-zero callback result. */
MV_API MV_NODISCARD int mv_fhir_references_each(struct json_object *res,
                                                mv_fhir_ref_fn fn, void *ctx);

enum mv_fhir_ref_kind {
  MV_FHIR_REF_INVALID,   /* none of the forms below */
  MV_FHIR_REF_RELATIVE,  /* Type/id or Type/id/_history/n */
  MV_FHIR_REF_CONTAINED, /* #id */
  MV_FHIR_REF_URN,       /* urn:uuid:... or urn:oid:... */
  MV_FHIR_REF_ABSOLUTE,  /* another absolute URL */
};

struct mv_fhir_ref {
  enum mv_fhir_ref_kind kind;
  char type[MV_LIMIT_TYPE_LEN + 1]; /* RELATIVE: the type */
  char id[MV_LIMIT_ID_LEN + 1];     /* RELATIVE: the id */
  int64_t version;                  /* RELATIVE: n, else 0 */
};

/* Classify a reference string; for RELATIVE ones (type a stored type or any
 * capitalised name of letters, id valid per mv_fhir_id_valid) split it.
 * ref borrowed; out filled (kind INVALID when ref is NULL). */
MV_API enum mv_fhir_ref_kind mv_fhir_reference_split(const char *ref,
                                                     struct mv_fhir_ref *out);

/* ---- Bundles (bundle.c, searchset.c) ------------------------------------- */

enum mv_fhir_method {
  MV_FHIR_METHOD_GET = 1,
  MV_FHIR_METHOD_POST = 2,
  MV_FHIR_METHOD_PUT = 3,
  MV_FHIR_METHOD_DELETE = 4,
};

/* One entry of a batch or transaction, as it must be executed. */
struct mv_fhir_bundle_entry {
  size_t index; /* position in Bundle.entry */
  enum mv_fhir_method method;
  const char *type; /* resource type from request.url */
  /* PUT, DELETE, GET read/vread: the id in request.url; POST: the newly
   * assigned id; GET search: NULL. */
  const char *id;
  int64_t version;      /* GET "Type/id/_history/n": n; else 0 */
  const char *query;    /* GET search ("Type?query"): raw query, else NULL */
  int64_t if_match;     /* request.ifMatch W/"n": n; 0 when absent */
  const char *full_url; /* entry.fullUrl (borrowed), NULL when absent */
  struct json_object *resource; /* POST/PUT: borrowed from the Bundle */
  /* Batch only: MV_OK, or why this entry cannot be executed (MV_EINVAL,
   * MV_EUNSUPPORTED) with the first problem found in *issue (arena;
   * expression rooted at "Bundle.entry[i]"), for the entry's response
   * outcome. In a transaction every problem fails the whole plan instead,
   * and err is always MV_OK. */
  int err;
  const struct mv_fhir_issue *issue; /* NULL when err is MV_OK */
};

struct mv_fhir_bundle_plan {
  bool transaction;                     /* else batch */
  struct mv_fhir_bundle_entry *entries; /* Bundle.entry order */
  size_t n;
  /* Processing order (indices into entries): transactions DELETE, POST,
   * PUT, GET (FHIR R4 §3.1.0.11.2); batches document order. */
  size_t *order;
};

/* Makes a new resource id (NUL-terminated, valid per mv_fhir_id_valid)
 * into out. Return MV_OK or an error, which the plan returns. */
typedef int (*mv_fhir_id_gen_fn)(void *ctx, char out[MV_LIMIT_ID_LEN + 1]);

/*
 * Plan a batch or transaction Bundle (borrowed; resources in it are
 * modified in place: references "urn:uuid:X" to an entry whose fullUrl is
 * "urn:uuid:X" are rewritten to "Type/id" of that entry, the new id for a
 * POST, the request.url id for a PUT).
 * gen: id generator for POST entries; NULL = mv_uuid4().
 * Checks: Bundle.type batch|transaction, request.method and request.url
 * forms (Type, Type/id, Type/id/_history/n, Type?query for GET), types
 * served, resource present for POST/PUT with a matching resourceType (and
 * id, for PUT), ifMatch W/"n", unique fullUrls, no two writes of one
 * Type/id (transactions), every urn:uuid reference resolvable
 * (transactions; in a batch, entries must not refer to each other, so a
 * urn:uuid reference is an error of that entry).
 * Issues: expressions "Bundle.type", "Bundle.entry[i].request.method",
 * "Bundle.entry[i].resource.subject.reference", ...
 * Returns MV_OK (a batch may still have entries with err set), MV_EINVAL
 * (not a batch/transaction, or a transaction with an error: issues in oo;
 * out untouched), MV_ETOOBIG (more than MV_FHIR_BUNDLE_ENTRIES_MAX
 * entries), MV_ENOMEM, or the generator's error. Plan in arena.
 */
MV_API MV_NODISCARD int mv_fhir_bundle_plan(struct json_object *bundle,
                                            mv_fhir_id_gen_fn gen,
                                            void *gen_ctx,
                                            struct mv_arena *arena,
                                            struct mv_fhir_bundle_plan *out,
                                            struct mv_fhir_outcome *oo);

/* One entry of a batch-response or transaction-response. */
struct mv_fhir_bundle_reply {
  int status;               /* HTTP status: 200, 201, 204, 404, ... */
  const char *location;     /* copied; NULL for none ("Patient/1/_history/1") */
  int64_t version;          /* > 0: etag W/"version" */
  int64_t last_modified_us; /* MV_FHIR_NO_DATE: none */
  const char *full_url;     /* copied; NULL for none */
  struct json_object *resource; /* taken (even on failure); NULL for none */
  struct json_object *outcome;  /* taken (even on failure); NULL for none */
};

/* A "batch-response" or "transaction-response" Bundle with one entry per
 * reply, in order. The replies' resource and outcome are taken (set to
 * NULL in the array, even on failure). Returned, caller releases with
 * json_object_put(). MV_ENOMEM. */
MV_API MV_NODISCARD int
mv_fhir_bundle_response(bool transaction, struct mv_fhir_bundle_reply *replies,
                        size_t n, struct json_object **out);

/* A "searchset" or "history" Bundle page with no entries yet: total (< 0:
 * left out), links self and next (copied; NULL: left out). bundle_type must
 * be "searchset" or "history" (else MV_EINVAL). Returned, caller releases
 * with json_object_put(). */
MV_API MV_NODISCARD int mv_fhir_bundle_page_new(const char *bundle_type,
                                                int64_t total,
                                                const char *self_url,
                                                const char *next_url,
                                                struct json_object **out);

enum mv_fhir_search_mode {
  MV_FHIR_MODE_MATCH,   /* search.mode "match" */
  MV_FHIR_MODE_INCLUDE, /* "include" */
  MV_FHIR_MODE_OUTCOME, /* "outcome" (an OperationOutcome of warnings) */
};

/* Append an entry to a searchset page: fullUrl (copied; NULL: left out),
 * resource (taken, even on failure), search.mode. MV_ENOMEM. */
MV_API MV_NODISCARD int mv_fhir_bundle_add_match(struct json_object *bundle,
                                                 const char *full_url,
                                                 struct json_object *resource,
                                                 enum mv_fhir_search_mode mode);

/* Append a version to a history page: fullUrl (copied), resource (taken,
 * even on failure; NULL for a deleted version), request method and url
 * ("Patient/1"; copied), response status (HTTP), etag W/"version" and
 * lastModified (MV_FHIR_NO_DATE: left out). MV_ENOMEM, MV_EINVAL. */
MV_API MV_NODISCARD int mv_fhir_bundle_add_history(struct json_object *bundle,
                                                   const char *full_url,
                                                   struct json_object *resource,
                                                   enum mv_fhir_method method,
                                                   const char *request_url,
                                                   int status, int64_t version,
                                                   int64_t last_modified_us);

/* ---- CapabilityStatement (capability.c) ---------------------------------- */

/*
 * The server's CapabilityStatement (FHIR R4, kind "instance"), generated
 * from mv_fhir_types() and the search registry, so it lists exactly the
 * interactions and search parameters that are supported. base_url
 * (copied) becomes implementation.url. Returned, caller releases with
 * json_object_put(). MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_fhir_capability(const char *base_url,
                                           struct json_object **out);

#endif
