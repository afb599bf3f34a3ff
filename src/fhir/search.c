/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FHIR R4 search query parsing (FHIR R4 §3.1.1 "Search"): a raw query
 * string becomes ANDed terms of ORed values, typed by the search parameter
 * registry (registry.c), with the result controls (_count, _offset, _sort,
 * _total, _summary, _format). What we do not support is ignored with a
 * warning, or refused under `Prefer: handling=strict` (§3.1.1.3.4).
 * Issues name parameters, never values: search values may be patient data.
 */
#include <stdio.h>
#include <string.h>

#include "mv_fhir_search.h"
#include "mv_url.h"

struct parser {
  struct mv_arena *a;
  bool strict;
  struct mv_fhir_outcome *oo;
  struct mv_fhir_search s; /* built here, copied out on success */
  bool seen_count, seen_offset, seen_sort, seen_total, seen_summary,
      seen_format;
};

/* A parameter name fit for an issue's expression: the characters of FHIR
 * parameter names and modifiers only, bounded. */
static void key_expr(char *dst, size_t cap, const char *key) {
  size_t i = 0;
  for (; key[i] && i + 1 < cap && i < 64; i++) {
    char c = key[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ':' ||
              c == '.';
    dst[i] = ok ? c : '?';
  }
  dst[i] = '\0';
}

static int issue(struct parser *p, enum mv_fhir_severity sev, int err,
                 const char *code, const char *key, const char *msg) {
  char expr[80];
  /* Warnings leave the last slot free, so that many ignored parameters
   * cannot push out the error that explains a refusal. */
  if (sev == MV_FHIR_WARNING && p->oo->n + 1 >= MV_FHIR_ISSUES_MAX) {
    p->oo->truncated = true;
    return err;
  }
  key_expr(expr, sizeof(expr), key ? key : "");
  mv_fhir_outcome_add(p->oo, sev, code, expr[0] ? expr : NULL, "%s", msg);
  return err;
}

static int bad_value(struct parser *p, const char *key, const char *msg) {
  return issue(p, MV_FHIR_ERROR, MV_EINVAL, "value", key, msg);
}

/* Something we do not support: a warning and MV_OK (the caller ignores the
 * parameter), or under strict handling an error and MV_EINVAL. */
static int unsupported(struct parser *p, const char *key, const char *msg) {
  if (p->strict)
    return issue(p, MV_FHIR_ERROR, MV_EINVAL, "not-supported", key, msg);
  return issue(p, MV_FHIR_WARNING, MV_OK, "not-supported", key, msg);
}

/* ---- Values -------------------------------------------------------------- */

/* The position of the first c in s[0..n) not escaped by '\', or n. */
static size_t find_unescaped(const char *s, size_t n, char c) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n)
      i++;
    else if (s[i] == c)
      return i;
  }
  return n;
}

/* s[0..n) with FHIR's escapes (\, \| \$ \\) removed, in the arena. */
static char *unescape(struct mv_arena *a, const char *s, size_t n) {
  char *d = mv_arena_alloc(a, n + 1);
  size_t o = 0;
  if (!d)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\\' && i + 1 < n)
      i++;
    d[o++] = s[i];
  }
  d[o] = '\0';
  return d;
}

static bool type_name_valid(const char *s, size_t n) {
  if (n == 0 || n > MV_LIMIT_TYPE_LEN || s[0] < 'A' || s[0] > 'Z')
    return false;
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
      return false;
  return true;
}

static int parse_token(struct parser *p, const struct mv_fhir_search_param *sp,
                       const char *key, const char *s, size_t n,
                       struct mv_fhir_search_value *v) {
  size_t bar = find_unescaped(s, n, '|');
  if (bar == n) {
    v->system = NULL;
    v->code = unescape(p->a, s, n);
  } else {
    v->system = unescape(p->a, s, bar);
    v->code = unescape(p->a, s + bar + 1, n - bar - 1);
  }
  if (!v->code || (bar < n && !v->system))
    return MV_ENOMEM;
  if (!v->code[0]) {
    if (!v->system || !v->system[0])
      return bad_value(p, key, "a token needs a code");
    v->code = NULL; /* "system|": any code of that system */
  }
  if (sp->target == MV_FHIR_TARGET_ID || sp->target == MV_FHIR_TARGET_STATUS) {
    v->system = NULL; /* codes only */
    if (!v->code)
      return bad_value(p, key, "a code is required");
  }
  if (sp->target == MV_FHIR_TARGET_ID && !mv_fhir_id_valid(v->code))
    return bad_value(p, key, "not a valid resource id");
  return MV_OK;
}

/* Type/id, [Type/]id with a known type, or an absolute URL ending in
 * Type/id; an optional /_history/n is dropped. mod_type: the `:Type`
 * modifier, or NULL. */
static int parse_reference(struct parser *p,
                           const struct mv_fhir_search_param *sp,
                           const char *key, const char *mod_type, const char *s,
                           size_t n, struct mv_fhir_search_value *v) {
  char *txt = unescape(p->a, s, n);
  if (!txt)
    return MV_ENOMEM;
  n = strlen(txt);
  /* Drop a version: ".../_history/n". */
  char *h = strstr(txt, "/_history/");
  if (h) {
    *h = '\0';
    n = (size_t)(h - txt);
  }
  const char *id = txt, *type = NULL;
  size_t type_len = 0;
  const char *slash = memrchr(txt, '/', n);
  if (slash) {
    id = slash + 1;
    const char *t0 = slash;
    while (t0 > txt && t0[-1] != '/')
      t0--;
    /* Relative "Type/id" has nothing before the type; an absolute URL
     * must have a scheme. */
    if (t0 != txt && !strstr(txt, "://"))
      return bad_value(p, key, "a reference must be Type/id or an id");
    type = t0;
    type_len = (size_t)(slash - t0);
  }
  if (!mv_fhir_id_valid(id))
    return bad_value(p, key, "a reference needs a valid id");
  if (!type) {
    type = mod_type ? mod_type : sp->ref_type;
    if (!type)
      return bad_value(p, key, "a reference needs a type (Type/id)");
    type_len = strlen(type);
  }
  if (!type_name_valid(type, type_len))
    return bad_value(p, key, "a reference needs a valid type");
  if (mod_type &&
      (strlen(mod_type) != type_len || memcmp(mod_type, type, type_len) != 0))
    return bad_value(p, key, "the reference's type differs from the modifier");
  if (sp->ref_type && (strlen(sp->ref_type) != type_len ||
                       memcmp(sp->ref_type, type, type_len) != 0))
    return bad_value(p, key, "this parameter refers to another type");
  v->ref_type = mv_arena_strndup(p->a, type, type_len);
  v->ref_id = mv_arena_strdup(p->a, id);
  v->code = mv_arena_printf(p->a, "%.*s/%s", (int)type_len, type, id);
  if (!v->ref_type || !v->ref_id || !v->code)
    return MV_ENOMEM;
  return MV_OK;
}

static const struct {
  const char name[3];
  enum mv_fhir_prefix prefix;
} prefixes[] = {
    {"eq", MV_FHIR_PREFIX_EQ}, {"ne", MV_FHIR_PREFIX_NE},
    {"gt", MV_FHIR_PREFIX_GT}, {"lt", MV_FHIR_PREFIX_LT},
    {"ge", MV_FHIR_PREFIX_GE}, {"le", MV_FHIR_PREFIX_LE},
};

/* Returns 1 when the value uses a prefix we do not support (sa, eb, ap). */
static int parse_date(struct parser *p, const char *key, const char *s,
                      size_t n, struct mv_fhir_search_value *v) {
  v->prefix = MV_FHIR_PREFIX_EQ;
  if (n >= 2 && s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z') {
    size_t i = 0;
    for (; i < MV_ARRAY_LEN(prefixes); i++)
      if (memcmp(s, prefixes[i].name, 2) == 0)
        break;
    if (i == MV_ARRAY_LEN(prefixes)) {
      if (memcmp(s, "sa", 2) == 0 || memcmp(s, "eb", 2) == 0 ||
          memcmp(s, "ap", 2) == 0)
        return 1;
      return bad_value(p, key, "unknown date prefix");
    }
    v->prefix = prefixes[i].prefix;
    s += 2;
    n -= 2;
  }
  char *txt = unescape(p->a, s, n);
  if (!txt)
    return MV_ENOMEM;
  if (mv_fhir_date_parse(txt, MV_FHIR_SEARCH, &v->lo_us, &v->hi_us, &v->prec) !=
      MV_OK)
    return bad_value(p, key, "not a valid FHIR date or dateTime");
  return MV_OK;
}

static int parse_string(struct parser *p, const char *key, const char *s,
                        size_t n, struct mv_fhir_search_value *v) {
  char *txt = unescape(p->a, s, n);
  const char **words;
  size_t total;
  int rc;
  if (!txt)
    return MV_ENOMEM;
  if ((rc = mv_fhir_string_normalize(txt, MV_FHIR_SEARCH_WORDS_MAX, p->a,
                                     &words, &v->n_words, &total)) != MV_OK)
    return rc;
  if (total > MV_FHIR_SEARCH_WORDS_MAX)
    return issue(p, MV_FHIR_ERROR, MV_ETOOBIG, "too-costly", key,
                 "too many words in a string search value");
  if (v->n_words == 0)
    return bad_value(p, key, "a string search needs letters or digits");
  v->words = words;
  return MV_OK;
}

/* ---- Parameters ---------------------------------------------------------- */

/* A decimal integer, digits only; values past 2^40 saturate there (above
 * every maximum we check). MV_EINVAL when not digits. */
static int parse_uint(const char *s, uint64_t *out) {
  uint64_t v = 0;
  if (!*s)
    return MV_EINVAL;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return MV_EINVAL;
    if (v < (UINT64_C(1) << 40))
      v = v * 10 + (uint64_t)(*s - '0');
  }
  *out = v;
  return MV_OK;
}

static int once(struct parser *p, bool *seen, const char *key) {
  if (*seen)
    return bad_value(p, key, "given more than once");
  *seen = true;
  return MV_OK;
}

static int control_count(struct parser *p, const char *key, char *val) {
  uint64_t v;
  int rc = once(p, &p->seen_count, key);
  if (rc != MV_OK)
    return rc;
  if (parse_uint(val, &v) != MV_OK)
    return bad_value(p, key, "_count must be a non-negative integer");
  if (v > MV_FHIR_SEARCH_COUNT_MAX) {
    p->s.count = MV_FHIR_SEARCH_COUNT_MAX;
    return unsupported(p, key, "_count above the maximum page size (1000)");
  }
  p->s.count = (unsigned)v;
  return MV_OK;
}

static int control_offset(struct parser *p, const char *key, char *val) {
  uint64_t v;
  int rc = once(p, &p->seen_offset, key);
  if (rc != MV_OK)
    return rc;
  if (parse_uint(val, &v) != MV_OK || v > MV_FHIR_SEARCH_OFFSET_MAX)
    return bad_value(p, key, "_offset must be an integer from 0 to 100000000");
  p->s.offset = v;
  return MV_OK;
}

static int control_sort(struct parser *p, const char *key, char *val) {
  const char *type = p->s.type;
  int rc = once(p, &p->seen_sort, key);
  if (rc != MV_OK)
    return rc;
  bool desc = val[0] == '-';
  const char *k = desc ? val + 1 : val;
  if (strcmp(k, "_lastUpdated") == 0) {
    p->s.sort = desc ? MV_FHIR_SORT_UPDATED_DESC : MV_FHIR_SORT_UPDATED_ASC;
    return MV_OK;
  }
  const struct mv_fhir_search_param *sp = mv_fhir_search_param_find(type, k);
  if (sp && sp->target == MV_FHIR_TARGET_DATE) {
    p->s.sort = desc ? MV_FHIR_SORT_DATE_DESC : MV_FHIR_SORT_DATE_ASC;
    return MV_OK;
  }
  return unsupported(p, key,
                     "sorting is by the date parameter or _lastUpdated only");
}

static int control_total(struct parser *p, const char *key, char *val) {
  static const struct {
    const char *name;
    enum mv_fhir_total t;
  } totals[] = {{"none", MV_FHIR_TOTAL_NONE},
                {"estimate", MV_FHIR_TOTAL_ESTIMATE},
                {"accurate", MV_FHIR_TOTAL_ACCURATE}};
  int rc = once(p, &p->seen_total, key);
  if (rc != MV_OK)
    return rc;
  for (size_t i = 0; i < MV_ARRAY_LEN(totals); i++)
    if (strcmp(val, totals[i].name) == 0) {
      p->s.total = totals[i].t;
      return MV_OK;
    }
  return unsupported(p, key, "_total is none, estimate or accurate");
}

static int control_summary(struct parser *p, const char *key, char *val) {
  int rc = once(p, &p->seen_summary, key);
  if (rc != MV_OK)
    return rc;
  if (strcmp(val, "count") == 0) {
    p->s.summary_count = true;
    return MV_OK;
  }
  if (strcmp(val, "false") == 0)
    return MV_OK;
  return unsupported(p, key, "_summary supports count and false only");
}

static int control_format(struct parser *p, const char *key, char *val) {
  static const char *const ok[] = {"json", "application/json",
                                   "application/fhir+json",
                                   "application/json+fhir"};
  int rc = once(p, &p->seen_format, key);
  if (rc != MV_OK)
    return rc;
  /* A parameter such as "; fhirVersion=4.0" may follow the media type;
   * "application/fhir+json" sent unencoded arrives with a space for '+'. */
  size_t n = strcspn(val, ";");
  for (size_t i = 0; i < n; i++)
    if (val[i] == ' ' && i > 0 && val[i - 1] != ' ' && val[i + 1] != ' ' &&
        val[i + 1] != ';' && val[i + 1] != '\0')
      val[i] = '+';
  while (n > 0 && val[n - 1] == ' ')
    n--;
  for (size_t i = 0; i < MV_ARRAY_LEN(ok); i++)
    if (strlen(ok[i]) == n && memcmp(val, ok[i], n) == 0) {
      p->s.format = mv_arena_strdup(p->a, val);
      return p->s.format ? MV_OK : MV_ENOMEM;
    }
  return issue(p, MV_FHIR_ERROR, MV_EUNSUPPORTED, "not-supported", key,
               "only JSON is supported (_format)");
}

/* One registry parameter with its modifier and (non-empty) value. */
static int add_term(struct parser *p, const struct mv_fhir_search_param *sp,
                    const char *key, const char *mod, char *val) {
  struct mv_fhir_search_term t = {.param = sp};
  const char *mod_type = NULL;
  if (mod) {
    if (strcmp(mod, "exact") == 0 && sp->type == MV_FHIR_PARAM_STRING)
      t.exact = true;
    else if (sp->type == MV_FHIR_PARAM_REFERENCE &&
             type_name_valid(mod, strlen(mod)))
      mod_type = mod;
    else
      return unsupported(p, key, "unsupported search modifier");
  }
  if (sp->type == MV_FHIR_PARAM_DATE)
    for (char *c = val; *c; c++)
      if (*c == ' ')
        *c = '+'; /* an unencoded '+' of a zone, decoded as a space */

  /* Count the alternatives first to size the array. */
  size_t n = strlen(val), nv = 1;
  for (size_t i = find_unescaped(val, n, ','); i < n;
       i += 1 + find_unescaped(val + i + 1, n - i - 1, ','))
    nv++;
  if (nv > MV_FHIR_SEARCH_VALUES_MAX)
    return issue(p, MV_FHIR_ERROR, MV_ETOOBIG, "too-costly", key,
                 "too many comma-separated values");
  t.values = mv_arena_zalloc(p->a, nv * sizeof(*t.values));
  if (!t.values)
    return MV_ENOMEM;

  bool ignore = false;
  for (size_t at = 0; at <= n;) {
    size_t len = find_unescaped(val + at, n - at, ',');
    struct mv_fhir_search_value *v = &t.values[t.n_values++];
    int rc;
    if (len == 0)
      return bad_value(p, key, "empty value in a comma-separated list");
    switch (sp->type) {
    case MV_FHIR_PARAM_TOKEN:
      rc = parse_token(p, sp, key, val + at, len, v);
      break;
    case MV_FHIR_PARAM_REFERENCE:
      rc = parse_reference(p, sp, key, mod_type, val + at, len, v);
      break;
    case MV_FHIR_PARAM_DATE:
      rc = parse_date(p, key, val + at, len, v);
      break;
    case MV_FHIR_PARAM_STRING:
    default:
      rc = parse_string(p, key, val + at, len, v);
      break;
    }
    if (rc < 0)
      return rc;
    ignore |= rc > 0;
    at += len + 1;
  }
  if (ignore)
    return unsupported(p, key, "date prefixes sa, eb and ap are not supported");

  if (p->s.n_terms >= MV_FHIR_SEARCH_TERMS_MAX)
    return issue(p, MV_FHIR_ERROR, MV_ETOOBIG, "too-costly", key,
                 "too many search parameters");
  t.key_text = mod ? mv_arena_printf(p->a, "%s:%s", sp->name, mod) : sp->name;
  t.value_text = val;
  if (!t.key_text)
    return MV_ENOMEM;
  p->s.terms[p->s.n_terms++] = t;
  return MV_OK;
}

static int control_pretty(struct parser *p, const char *key, char *val) {
  return MV_OK; /* output layout only: nothing to do */
}

static const struct {
  const char *name;
  int (*fn)(struct parser *p, const char *key, char *val);
} controls[] = {
    {"_count", control_count},     {"_offset", control_offset},
    {"_sort", control_sort},       {"_total", control_total},
    {"_summary", control_summary}, {"_format", control_format},
    {"_pretty", control_pretty},
};

/* key and val are decoded and in the arena (val may be changed). */
static int param(struct parser *p, const char *key, char *val) {
  const char *type = p->s.type;
  for (size_t i = 0; i < MV_ARRAY_LEN(controls); i++)
    if (strcmp(key, controls[i].name) == 0)
      return val[0] ? controls[i].fn(p, key, val) : MV_OK;

  const char *colon = strchr(key, ':');
  char *name =
      colon ? mv_arena_strndup(p->a, key, (size_t)(colon - key)) : (char *)key;
  if (!name)
    return MV_ENOMEM;
  const struct mv_fhir_search_param *sp = mv_fhir_search_param_find(type, name);
  if (!sp)
    return unsupported(p, key, "unknown search parameter");
  if (!val[0])
    return MV_OK; /* empty values are ignored */
  return add_term(p, sp, key, colon ? colon + 1 : NULL, val);
}

int mv_fhir_search_parse(const char *type, const char *query, bool strict,
                         struct mv_arena *arena, struct mv_fhir_search *out,
                         struct mv_fhir_outcome *oo) {
  struct parser p = {.a = arena, .strict = strict, .oo = oo};
  size_t n_params;
  if (!mv_fhir_search_params(type, &n_params)) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "not-supported", NULL,
                        "searching this resource type is not supported");
    return MV_EINVAL;
  }
  if (!query)
    query = "";
  size_t qlen = strlen(query);
  if (qlen > MV_FHIR_SEARCH_QUERY_MAX) {
    mv_fhir_outcome_add(oo, MV_FHIR_ERROR, "too-long", NULL,
                        "the search query is too long");
    return MV_ETOOBIG;
  }
  p.s.type = mv_arena_strdup(arena, type);
  p.s.terms = mv_arena_zalloc(arena, MV_FHIR_SEARCH_TERMS_MAX *
                                         sizeof(struct mv_fhir_search_term));
  if (!p.s.type || !p.s.terms)
    return MV_ENOMEM;
  p.s.count = MV_FHIR_SEARCH_COUNT_DEFAULT;

  for (const char *seg = query; *seg;) {
    const char *amp = strchr(seg, '&');
    size_t len = amp ? (size_t)(amp - seg) : strlen(seg);
    const char *eq = memchr(seg, '=', len);
    size_t klen = eq ? (size_t)(eq - seg) : len;
    size_t vlen = eq ? len - klen - 1 : 0;
    char *key = mv_arena_alloc(arena, klen + 1);
    char *val = mv_arena_alloc(arena, vlen + 1);
    int rc;
    if (!key || !val)
      return MV_ENOMEM;
    if (len > 0) {
      size_t kdec = mv_url_decode(key, seg, klen, true);
      size_t vdec = mv_url_decode(val, eq ? eq + 1 : "", vlen, true);
      if (kdec != strlen(key))
        rc = unsupported(&p, key, "unknown search parameter");
      else if (vdec != strlen(val))
        rc = bad_value(&p, key, "a value holds a NUL character");
      else
        rc = param(&p, key, val);
      if (rc != MV_OK)
        return rc;
    }
    seg = amp ? amp + 1 : seg + len;
  }
  if (p.s.summary_count)
    p.s.count = 0;
  *out = p.s;
  return MV_OK;
}
