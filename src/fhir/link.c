/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The canonical query of a search page, for Bundle.link self and next
 * (FHIR R4 §3.1.1.6: the self link names the parameters actually used).
 * Terms are written back from their decoded text and percent-encoded so
 * that mv_fhir_search_parse() reads the same search again.
 */
#include <stdio.h>
#include <string.h>

#include "mv_buf.h"
#include "mv_fhir_search.h"

/* Characters left as they are: RFC 3986 unreserved, and ':' '/' ',' '@',
 * which a query may hold literally and FHIR values use often. Everything
 * else, including '+' (a space in forms), '|' and '\', is encoded. */
static bool keep(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c == '~' || c == ':' || c == '/' || c == ',' || c == '@';
}

static int put_encoded(struct mv_buf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  int rc = MV_OK;
  for (; *s && rc == MV_OK; s++) {
    unsigned char c = (unsigned char)*s;
    if (keep(c)) {
      rc = mv_buf_append(b, s, 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      rc = mv_buf_append(b, e, 3);
    }
  }
  return rc;
}

static int put_param(struct mv_buf *b, const char *key, const char *value) {
  int rc;
  if (b->len > 0 && (rc = mv_buf_append(b, "&", 1)) != MV_OK)
    return rc;
  if ((rc = put_encoded(b, key)) != MV_OK ||
      (rc = mv_buf_append(b, "=", 1)) != MV_OK)
    return rc;
  return put_encoded(b, value);
}

static int put_sort(struct mv_buf *b, const struct mv_fhir_search *s) {
  const char *key = NULL;
  bool desc = false;
  char v[80];
  switch (s->sort) {
  case MV_FHIR_SORT_DATE_DESC:
    desc = true;
    /* fall through */
  case MV_FHIR_SORT_DATE_ASC: {
    size_t n;
    const struct mv_fhir_search_param *p = mv_fhir_search_params(s->type, &n);
    key = "date";
    for (size_t i = 0; i < n; i++)
      if (p[i].target == MV_FHIR_TARGET_DATE)
        key = p[i].name;
    break;
  }
  case MV_FHIR_SORT_UPDATED_DESC:
    desc = true;
    /* fall through */
  case MV_FHIR_SORT_UPDATED_ASC:
    key = "_lastUpdated";
    break;
  case MV_FHIR_SORT_NONE:
    return MV_OK;
  }
  snprintf(v, sizeof(v), "%s%s", desc ? "-" : "", key);
  return put_param(b, "_sort", v);
}

static const char *total_text(enum mv_fhir_total t) {
  switch (t) {
  case MV_FHIR_TOTAL_NONE:
    return "none";
  case MV_FHIR_TOTAL_ESTIMATE:
    return "estimate";
  case MV_FHIR_TOTAL_ACCURATE:
    return "accurate";
  case MV_FHIR_TOTAL_DEFAULT:
    break;
  }
  return NULL;
}

static int build(struct mv_buf *b, const struct mv_fhir_search *s,
                 uint64_t offset) {
  char num[24];
  int rc = MV_OK;
  for (size_t i = 0; i < s->n_terms && rc == MV_OK; i++)
    rc = put_param(b, s->terms[i].key_text, s->terms[i].value_text);
  if (rc != MV_OK)
    return rc;
  if (s->summary_count) {
    rc = put_param(b, "_summary", "count");
  } else {
    snprintf(num, sizeof(num), "%u", s->count);
    rc = put_param(b, "_count", num);
  }
  if (rc == MV_OK && offset > 0) {
    snprintf(num, sizeof(num), "%llu", (unsigned long long)offset);
    rc = put_param(b, "_offset", num);
  }
  if (rc == MV_OK)
    rc = put_sort(b, s);
  const char *v = total_text(s->total);
  if (rc == MV_OK && v)
    rc = put_param(b, "_total", v);
  if (rc == MV_OK && s->format)
    rc = put_param(b, "_format", s->format);
  return rc;
}

int mv_fhir_search_link(const struct mv_fhir_search *s, const char *base_url,
                        uint64_t offset, struct mv_arena *arena,
                        const char **out_link) {
  struct mv_buf q;
  int rc;
  char *link;
  /* Bounded by the query the search came from, re-encoded: x3 at most. */
  mv_buf_init(&q, 3 * MV_FHIR_SEARCH_QUERY_MAX + 256);
  if ((rc = build(&q, s, offset)) != MV_OK) {
    mv_buf_release(&q);
    return rc == MV_ETOOBIG ? MV_ETOOBIG : MV_ENOMEM;
  }
  if (base_url)
    link =
        mv_arena_printf(arena, "%s/%s?%s", base_url, s->type, mv_buf_cstr(&q));
  else
    link = mv_arena_strdup(arena, mv_buf_cstr(&q));
  mv_buf_release(&q);
  if (!link)
    return MV_ENOMEM;
  *out_link = link;
  return MV_OK;
}
