/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Formats of the FHIR R4 primitive types (§2.24.0.1 "Primitive Types",
 * the regular expressions given for each) checked by hand on the JSON
 * value, required bindings of codes, Codings and CodeableConcepts, and the
 * reference syntax we accept. date, dateTime and instant go through
 * mv_fhir_date_parse() so the grammar lives in one place (datetime.c).
 * Messages say what was expected, never what was found.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fhir_validate_int.h"
#include "mv_limits.h"

#define FHIR_INT_MAX INT64_C(2147483647)
#define FHIR_INT_MIN (-FHIR_INT_MAX - 1)
/* FHIR R4 §2.24.0.1: strings SHALL NOT exceed 1 MB. */
#define FHIR_STRING_MAX (1024u * 1024u)

static bool is_ws(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}

static bool is_hex(char ch) {
  return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* ---- numbers ------------------------------------------------------------ */

enum int_read { INT_OK, INT_DECIMAL, INT_RANGE };

/* The value of an integer JSON number. The parser keeps the text of
 * doubles (json-c userdata); an integer-looking text there is -0 or one
 * beyond 64 bits. Doubles built in memory without text count as decimals. */
static enum int_read read_int(struct json_object *v, int64_t *out) {
  if (json_object_is_type(v, json_type_int)) {
    *out = json_object_get_int64(v);
    return INT_OK;
  }
  const char *text = json_object_get_userdata(v);
  if (!text || strpbrk(text, ".eE"))
    return INT_DECIMAL;
  errno = 0;
  long long n = strtoll(text, NULL, 10);
  if (errno == ERANGE)
    return INT_RANGE;
  *out = (int64_t)n;
  return INT_OK;
}

static void check_number(struct mv__fhir_vctx *c, const struct mv__fhir_type *t,
                         struct json_object *v) {
  if (!json_object_is_type(v, json_type_int) &&
      !json_object_is_type(v, json_type_double)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "expected a JSON number (%s)", t->name);
    return;
  }
  if (t->prim == MV__FP_DECIMAL) {
    if (json_object_is_type(v, json_type_double) &&
        !isfinite(json_object_get_double(v)))
      mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                     "decimal must be a finite number");
    return;
  }
  int64_t n = 0;
  int64_t lo = t->prim == MV__FP_INTEGER       ? FHIR_INT_MIN
               : t->prim == MV__FP_POSITIVEINT ? 1
                                               : 0;
  enum int_read r = read_int(v, &n);
  if (r == INT_DECIMAL)
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "expected an integer without fraction or exponent (%s)",
                   t->name);
  else if (r == INT_RANGE || n < lo || n > FHIR_INT_MAX)
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "%s out of range (%lld..2147483647)", t->name,
                   (long long)lo);
}

/* ---- string formats ----------------------------------------------------- */

/* code: [^\s]+(\s[^\s]+)* */
static bool code_ok(const char *s) {
  if (is_ws(s[0]))
    return false;
  for (size_t i = 1; s[i]; i++)
    if (is_ws(s[i]) && (is_ws(s[i - 1]) || s[i + 1] == '\0'))
      return false;
  return true;
}

/* uri, url, canonical: \S* */
static bool no_ws(const char *s) {
  for (; *s; s++)
    if (is_ws(*s))
      return false;
  return true;
}

/* base64: groups of four from [A-Za-z0-9+/], '=' padding only at the end,
 * whitespace allowed between characters. */
static bool base64_ok(const char *s) {
  size_t n = 0, pad = 0;
  for (; *s; s++) {
    char ch = *s;
    if (is_ws(ch))
      continue;
    if (ch == '=') {
      pad++;
    } else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
               is_digit(ch) || ch == '+' || ch == '/') {
      if (pad)
        return false;
    } else {
      return false;
    }
    n++;
  }
  return n > 0 && n % 4 == 0 && pad <= 2;
}

/* Two digits making a number <= max; advances *p. */
static bool two_digits(const char **p, int max) {
  const char *s = *p;
  if (!is_digit(s[0]) || !is_digit(s[1]))
    return false;
  *p = s + 2;
  return (s[0] - '0') * 10 + (s[1] - '0') <= max;
}

/* time: ([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)? */
static bool time_ok(const char *s) {
  if (!two_digits(&s, 23) || *s++ != ':' || !two_digits(&s, 59) ||
      *s++ != ':' || !two_digits(&s, 60))
    return false;
  if (*s == '.') {
    s++;
    if (!is_digit(*s))
      return false;
    while (is_digit(*s))
      s++;
  }
  return *s == '\0';
}

/* oid: urn:oid:[0-2](\.(0|[1-9][0-9]*))+ */
static bool oid_ok(const char *s) {
  size_t arcs = 0;
  if (strncmp(s, "urn:oid:", 8) != 0)
    return false;
  s += 8;
  if (*s < '0' || *s > '2')
    return false;
  s++;
  while (*s == '.') {
    s++;
    if (*s == '0') {
      s++;
    } else if (*s >= '1' && *s <= '9') {
      while (is_digit(*s))
        s++;
    } else {
      return false;
    }
    arcs++;
  }
  return arcs > 0 && *s == '\0';
}

/* 8-4-4-4-12 hexadecimal digits (either case accepted). */
static bool uuid_body_ok(const char *s) {
  static const int groups[] = {8, 4, 4, 4, 12};
  for (size_t g = 0; g < MV_ARRAY_LEN(groups); g++) {
    for (int i = 0; i < groups[g]; i++)
      if (!is_hex(*s++))
        return false;
    if (g + 1 < MV_ARRAY_LEN(groups) && *s++ != '-')
      return false;
  }
  return *s == '\0';
}

/* xhtml: FHIR narrative is one XHTML div element. */
static bool xhtml_ok(const char *s) {
  size_t n = strlen(s);
  while (n > 0 && is_ws(s[n - 1]))
    n--;
  return strncmp(s, "<div", 4) == 0 && (s[4] == ' ' || s[4] == '>') &&
         n >= 10 && memcmp(s + n - 6, "</div>", 6) == 0;
}

static bool date_ok(const char *s, enum mv_fhir_date_kind kind) {
  int64_t lo = 0, hi = 0;
  enum mv_fhir_date_prec prec;
  return mv_fhir_date_parse(s, kind, &lo, &hi, &prec) == MV_OK;
}

/* The format rule of a string-based primitive, or NULL when s obeys it. */
static const char *format_error(enum mv__fhir_prim p, const char *s) {
  switch (p) {
  case MV__FP_CODE:
    return code_ok(s) ? NULL
                      : "invalid code (no leading, trailing or repeated "
                        "whitespace)";
  case MV__FP_ID:
    return mv_fhir_id_valid(s) ? NULL
                               : "invalid id (1 to 64 characters from A-Z, "
                                 "a-z, 0-9, '-' and '.')";
  case MV__FP_URI:
  case MV__FP_URL:
  case MV__FP_CANONICAL:
    return no_ws(s) ? NULL : "invalid uri (whitespace is not allowed)";
  case MV__FP_BASE64:
    return base64_ok(s) ? NULL : "invalid base64Binary";
  case MV__FP_DATE:
    return date_ok(s, MV_FHIR_DATE)
               ? NULL
               : "invalid date (expected YYYY, YYYY-MM or YYYY-MM-DD)";
  case MV__FP_DATETIME:
    return date_ok(s, MV_FHIR_DATETIME)
               ? NULL
               : "invalid dateTime (expected YYYY, YYYY-MM, YYYY-MM-DD or "
                 "YYYY-MM-DDThh:mm:ss with a time zone)";
  case MV__FP_INSTANT:
    return date_ok(s, MV_FHIR_INSTANT)
               ? NULL
               : "invalid instant (expected YYYY-MM-DDThh:mm:ss[.fff] with a "
                 "time zone)";
  case MV__FP_TIME:
    return time_ok(s) ? NULL : "invalid time (expected hh:mm:ss)";
  case MV__FP_OID:
    return oid_ok(s) ? NULL : "invalid oid (expected urn:oid:...)";
  case MV__FP_UUID:
    return strncmp(s, "urn:uuid:", 9) == 0 && uuid_body_ok(s + 9)
               ? NULL
               : "invalid uuid (expected urn:uuid:...)";
  case MV__FP_XHTML:
    return xhtml_ok(s) ? NULL : "narrative must be one XHTML div element";
  default:
    break;
  }
  return NULL;
}

static void check_string(struct mv__fhir_vctx *c, const struct mv__fhir_type *t,
                         const struct mv__fhir_vs *vs, struct json_object *v) {
  if (!json_object_is_type(v, json_type_string)) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                   "expected a JSON string (%s)", t->name);
    return;
  }
  const char *s = json_object_get_string(v);
  size_t n = (size_t)json_object_get_string_len(v);
  if (n == 0) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "empty strings are not allowed in FHIR JSON");
    return;
  }
  if (strlen(s) != n) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                   "string contains a NUL character");
    return;
  }
  if (t->prim == MV__FP_STRING || t->prim == MV__FP_MARKDOWN) {
    size_t k = 0;
    while (k < n && is_ws(s[k]))
      k++;
    if (k == n)
      mv__fhir_issue(c, MV_FHIR_ERROR, "value", "",
                     "string must contain non-whitespace characters");
    else if (n > FHIR_STRING_MAX)
      mv__fhir_issue(c, MV_FHIR_ERROR, "too-long", "",
                     "string longer than 1 MB");
    else if (t->prim == MV__FP_STRING && (k > 0 || is_ws(s[n - 1])))
      mv__fhir_issue(c, MV_FHIR_WARNING, "value", "",
                     "string has leading or trailing whitespace");
    return;
  }
  const char *err = format_error(t->prim, s);
  if (err) {
    mv__fhir_issue(c, MV_FHIR_ERROR, "value", "", "%s", err);
    return;
  }
  if (vs && !mv__fhir_vs_has(vs, s))
    mv__fhir_vs_fail(c, vs, "");
}

void mv__fhir_check_primitive(struct mv__fhir_vctx *c,
                              const struct mv__fhir_type *t,
                              const struct mv__fhir_vs *vs,
                              struct json_object *v) {
  switch (t->prim) {
  case MV__FP_BOOLEAN:
    if (!json_object_is_type(v, json_type_boolean))
      mv__fhir_issue(c, MV_FHIR_ERROR, "structure", "",
                     "expected a JSON boolean (true or false)");
    return;
  case MV__FP_INTEGER:
  case MV__FP_POSITIVEINT:
  case MV__FP_UNSIGNEDINT:
  case MV__FP_DECIMAL:
    check_number(c, t, v);
    return;
  default:
    check_string(c, t, vs, v);
    return;
  }
}

/* ---- bindings ----------------------------------------------------------- */

bool mv__fhir_vs_has(const struct mv__fhir_vs *vs, const char *code) {
  for (const char *const *k = vs->codes; *k; k++)
    if (strcmp(*k, code) == 0)
      return true;
  return false;
}

/* "a | b | c", cut with "..." when it does not fit. */
static void vs_list(const struct mv__fhir_vs *vs, char *buf, size_t cap) {
  size_t len = 0;
  buf[0] = '\0';
  for (const char *const *k = vs->codes; *k; k++) {
    const char *sep = k == vs->codes ? "" : " | ";
    if (len + strlen(sep) + strlen(*k) + 8 > cap) {
      snprintf(buf + len, cap - len, " | ...");
      return;
    }
    len += (size_t)snprintf(buf + len, cap - len, "%s%s", sep, *k);
  }
}

void mv__fhir_vs_fail(struct mv__fhir_vctx *c, const struct mv__fhir_vs *vs,
                      const char *suffix) {
  char list[160];
  vs_list(vs, list, sizeof(list));
  mv__fhir_issue(c, MV_FHIR_ERROR, "code-invalid", suffix,
                 "value is not in the required value set (%s)", list);
}

/* One Coding against vs: 1 when its code is in vs, -1 when it is from vs's
 * system (or vs has none) with a code outside (reported), 0 otherwise. */
static int coding_against(struct mv__fhir_vctx *c, const struct mv__fhir_vs *vs,
                          struct json_object *coding, const char *suffix) {
  const char *sys = mv__fhir_str(coding, "system");
  const char *code = mv__fhir_str(coding, "code");
  char sfx[64];
  if (vs->system && (!sys || strcmp(sys, vs->system) != 0))
    return 0;
  if (!code)
    return 0;
  if (mv__fhir_vs_has(vs, code))
    return 1;
  snprintf(sfx, sizeof(sfx), "%s.code", suffix);
  mv__fhir_vs_fail(c, vs, sfx);
  return -1;
}

void mv__fhir_check_binding(struct mv__fhir_vctx *c,
                            const struct mv__fhir_type *t,
                            const struct mv__fhir_vs *vs,
                            struct json_object *obj) {
  if (t == &mv__ft_Coding) {
    coding_against(c, vs, obj, "");
    return;
  }
  if (t != &mv__ft_CodeableConcept)
    return;
  struct json_object *codings = mv__fhir_get(obj, "coding", json_type_array);
  size_t n = codings ? json_object_array_length(codings) : 0;
  bool found = false, bad = false;
  for (size_t i = 0; i < n; i++) {
    char sfx[40];
    snprintf(sfx, sizeof(sfx), ".coding[%zu]", i);
    int r = coding_against(c, vs, json_object_array_get_idx(codings, i), sfx);
    found |= r > 0;
    bad |= r < 0;
  }
  if (!found && !bad) {
    char list[160];
    vs_list(vs, list, sizeof(list));
    mv__fhir_issue(c, MV_FHIR_ERROR, "code-invalid", "",
                   "needs a coding from the required value set (%s%s%s)",
                   vs->system ? vs->system : "", vs->system ? ": " : "", list);
  }
}

/* ---- references --------------------------------------------------------- */

/* An id ending at '/' or the end of s; *end is where it stopped. */
static bool id_until_slash(const char *s, const char **end) {
  char id[MV_FHIR_EXPR_MAX];
  size_t n = strcspn(s, "/");
  if (n == 0 || n >= sizeof(id))
    return false;
  memcpy(id, s, n);
  id[n] = '\0';
  *end = s + n;
  return mv_fhir_id_valid(id);
}

bool mv__fhir_reference_valid(const char *s) {
  if (s[0] == '#')
    return s[1] == '\0' || mv_fhir_id_valid(s + 1);
  if (strncmp(s, "urn:uuid:", 9) == 0)
    return uuid_body_ok(s + 9);
  if (strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0)
    return s[s[4] == 's' ? 8 : 7] != '\0' && no_ws(s);
  /* Type/id or Type/id/_history/vid */
  size_t tn = 0;
  if (!(s[0] >= 'A' && s[0] <= 'Z'))
    return false;
  while ((s[tn] >= 'A' && s[tn] <= 'Z') || (s[tn] >= 'a' && s[tn] <= 'z'))
    tn++;
  if (s[tn] != '/' || tn > MV_LIMIT_TYPE_LEN)
    return false;
  const char *p = s + tn + 1;
  if (!id_until_slash(p, &p))
    return false;
  if (*p == '\0')
    return true;
  if (strncmp(p, "/_history/", 10) != 0)
    return false;
  p += 10;
  return id_until_slash(p, &p) && *p == '\0';
}
