/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The JSON layer (mv_json.h). json-c 0.16 with JSON_TOKENER_STRICT is not
 * strict enough for FHIR: it accepts NaN, Infinity and "1.", raw control
 * characters and unpaired surrogate escapes in strings, overlong and
 * surrogate UTF-8 even with JSON_TOKENER_VALIDATE_UTF8; it silently keeps the
 * last of duplicate keys, truncates keys at \u0000, saturates integers beyond
 * 64 bits and turns -0 into 0. So parsing runs in three steps: a linear
 * RFC 8259 validator written here (which also gives exact error positions),
 * json-c's tokener to build the tree, and, only when needed, a fix-up that
 * replaces the few numbers json-c would not serialise as written.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mv_json.h"
#include "mv_limits.h"
#include "core_int.h"

_Static_assert(MV_LIMIT_JSON_TEXT_MAX < INT_MAX,
               "json_tokener_parse_ex takes an int length");

#define WRITE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A key of a still open object: decoded bytes at scan.keys[off..off+len),
 * found at byte pos of the text; p is filled in just before sorting. */
struct key_ref {
  size_t off;
  size_t len;
  size_t pos;
  const char *p;
};

/* An integer json-c would not keep exactly (-0, or beyond 64 bits): its
 * ordinal among all numbers of the document and where its text is. */
struct num_fix {
  size_t ordinal;
  size_t pos;
  size_t len;
};

struct scan {
  const char *s;
  size_t len;
  size_t pos;
  struct mv_diag *diag;
  bool top_is_null;
  /* Decoded keys of the open objects, a stack popped as objects close. */
  char *keys;
  size_t keys_len, keys_cap;
  struct key_ref *refs;
  size_t n_refs, cap_refs;
  struct num_fix *fixes;
  size_t n_fixes, cap_fixes;
  size_t n_numbers;
};

/* ---- diagnostics ------------------------------------------------------ */

/* Line and column (both 1-based) of byte pos. Columns count characters
 * (UTF-8 lead bytes), so they match what an editor shows. */
static void locate(const char *s, size_t pos, int *out_line, int *out_col) {
  long line = 1, col = 1;
  for (size_t i = 0; i < pos; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\n') {
      line++;
      col = 1;
    } else if ((c & 0xC0) != 0x80) {
      col++;
    }
  }
  *out_line = line > INT_MAX ? INT_MAX : (int)line;
  *out_col = col > INT_MAX ? INT_MAX : (int)col;
}

static int fail(struct scan *sc, size_t pos, int err, const char *fmt, ...)
    MV_PRINTF(4, 5);

/* Record a parse error at byte pos. Messages name what was expected, never
 * the input itself (it may be patient data); only key names are quoted. */
static int fail(struct scan *sc, size_t pos, int err, const char *fmt, ...) {
  if (!sc->diag)
    return err;
  char msg[sizeof(sc->diag->msg)];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  mv_diag_clear(sc->diag);
  mv_diag_set(sc->diag, err, "%s", msg);
  locate(sc->s, pos, &sc->diag->line, &sc->diag->col);
  sc->diag->offset = (long)pos;
  return err;
}

static int fail_expected(struct scan *sc, const char *what) {
  if (sc->pos >= sc->len)
    return fail(sc, sc->pos, MV_EPARSE, "unexpected end of input, expected %s",
                what);
  if (sc->s[sc->pos] == '\0')
    return fail(sc, sc->pos, MV_EPARSE, "NUL byte in input");
  return fail(sc, sc->pos, MV_EPARSE, "unexpected character, expected %s",
              what);
}

/* A key fit for a message: at most cap-1 bytes, cut on a UTF-8 boundary,
 * quotes, backslashes and control characters replaced by '?'. */
static void printable_key(char *dst, size_t cap, const char *k, size_t n) {
  size_t room = cap - 4; /* keep space for "..." and the NUL */
  size_t i = 0;
  bool cut = n > room;
  size_t m = cut ? room : n;
  if (cut)
    while (m > 0 && ((unsigned char)k[m] & 0xC0) == 0x80)
      m--;
  for (; i < m; i++) {
    unsigned char c = (unsigned char)k[i];
    dst[i] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
  }
  if (cut) {
    memcpy(dst + i, "...", 3);
    i += 3;
  }
  dst[i] = '\0';
}

/* ---- growable scratch arrays ------------------------------------------ */

static int grow(void **data, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return MV_OK;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need)
    ncap *= 2;
  if (ncap > SIZE_MAX / elem)
    return MV_ENOMEM;
  void *p = realloc(*data, ncap * elem);
  if (!p)
    return MV_ENOMEM;
  *data = p;
  *cap = ncap;
  return MV_OK;
}

static int key_put(struct scan *sc, const void *p, size_t n) {
  void *data = sc->keys;
  if (grow(&data, &sc->keys_cap, sc->keys_len + n, 1))
    return fail(sc, sc->pos, MV_ENOMEM, "out of memory");
  sc->keys = data;
  memcpy(sc->keys + sc->keys_len, p, n);
  sc->keys_len += n;
  return MV_OK;
}

/* ---- the validator (RFC 8259) ----------------------------------------- */

static bool is_digit(int c) {
  return c >= '0' && c <= '9';
}

static int peek(const struct scan *sc) {
  return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static void skip_ws(struct scan *sc) {
  while (sc->pos < sc->len) {
    char c = sc->s[sc->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
      break;
    sc->pos++;
  }
}

/* Length of the well-formed UTF-8 sequence at s (n bytes available), or 0.
 * The table of RFC 3629 section 4: no overlongs, no surrogates, <= U+10FFFF. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  if (c < 0x80)
    return 1;
  if (c < 0xC2 || c > 0xF4)
    return 0;
  size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (n < need)
    return 0;
  for (size_t i = 1; i < need; i++)
    if ((s[i] & 0xC0) != 0x80)
      return 0;
  if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
      (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
    return 0;
  return need;
}

static bool hex4(const struct scan *sc, size_t at, unsigned *out) {
  if (at > sc->len || sc->len - at < 4)
    return false;
  unsigned v = 0;
  for (size_t i = 0; i < 4; i++) {
    char c = sc->s[at + i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return false;
    v = v * 16 + d;
  }
  *out = v;
  return true;
}

/* \uXXXX at sc->pos, possibly a surrogate pair. Unpaired surrogates are
 * rejected: json-c would silently turn them into U+FFFD. */
static int scan_unicode_escape(struct scan *sc, bool key) {
  size_t at = sc->pos;
  unsigned cp, lo;
  if (!hex4(sc, at + 2, &cp))
    return fail(sc, at, MV_EPARSE, "invalid \\u escape");
  sc->pos += 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF)
    return fail(sc, at, MV_EPARSE, "unpaired UTF-16 surrogate in \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    if (sc->len - sc->pos < 6 || sc->s[sc->pos] != '\\' ||
        sc->s[sc->pos + 1] != 'u' || !hex4(sc, sc->pos + 2, &lo) ||
        lo < 0xDC00 || lo > 0xDFFF)
      return fail(sc, at, MV_EPARSE, "unpaired UTF-16 surrogate in \\u escape");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    sc->pos += 6;
  }
  if (!key)
    return MV_OK;
  /* json-c keeps keys as C strings, so a \u0000 would cut the key short
   * and could silently merge two different keys. */
  if (cp == 0)
    return fail(sc, at, MV_EPARSE, "\\u0000 in an object key");
  unsigned char u[4];
  size_t n;
  if (cp < 0x80) {
    u[0] = (unsigned char)cp;
    n = 1;
  } else if (cp < 0x800) {
    u[0] = (unsigned char)(0xC0 | (cp >> 6));
    u[1] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    u[0] = (unsigned char)(0xE0 | (cp >> 12));
    u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    u[0] = (unsigned char)(0xF0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (unsigned char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  return key_put(sc, u, n);
}

static int scan_escape(struct scan *sc, bool key) {
  size_t at = sc->pos;
  if (sc->len - at < 2)
    return fail(sc, at, MV_EPARSE, "unterminated string");
  char c;
  switch (sc->s[at + 1]) {
  case '"':
  case '\\':
  case '/':
    c = sc->s[at + 1];
    break;
  case 'b':
    c = '\b';
    break;
  case 'f':
    c = '\f';
    break;
  case 'n':
    c = '\n';
    break;
  case 'r':
    c = '\r';
    break;
  case 't':
    c = '\t';
    break;
  case 'u':
    return scan_unicode_escape(sc, key);
  default:
    return fail(sc, at, MV_EPARSE, "invalid escape sequence");
  }
  sc->pos += 2;
  return key ? key_put(sc, &c, 1) : MV_OK;
}

/* A string at sc->pos (on the quote). Keys are decoded onto sc->keys. */
static int scan_string(struct scan *sc, bool key) {
  size_t start = sc->pos++;
  for (;;) {
    if (sc->pos >= sc->len)
      return fail(sc, start, MV_EPARSE, "unterminated string");
    unsigned char c = (unsigned char)sc->s[sc->pos];
    int rc;
    if (c == '"') {
      sc->pos++;
      return MV_OK;
    }
    if (c == '\\') {
      if ((rc = scan_escape(sc, key)))
        return rc;
      continue;
    }
    if (c == '\0')
      return fail(sc, sc->pos, MV_EPARSE, "NUL byte in input");
    if (c < 0x20)
      return fail(sc, sc->pos, MV_EPARSE,
                  "unescaped control character in string");
    size_t n =
        utf8_len((const unsigned char *)sc->s + sc->pos, sc->len - sc->pos);
    if (n == 0)
      return fail(sc, sc->pos, MV_EPARSE, "invalid UTF-8");
    if (key && (rc = key_put(sc, sc->s + sc->pos, n)))
      return rc;
    sc->pos += n;
  }
}

/* Whether json-c would not print integer literal t[0..n) back as written:
 * it turns -0 into 0 and saturates beyond int64 (negative) or uint64. */
static bool int_needs_fix(const char *t, size_t n) {
  bool neg = t[0] == '-';
  size_t digits = n - (neg ? 1 : 0);
  if (neg && digits == 1 && t[1] == '0')
    return true;
  if (digits < 19)
    return false;
  if (digits > 20)
    return true;
  char buf[24];
  memcpy(buf, t, n);
  buf[n] = '\0';
  errno = 0;
  if (neg)
    (void)strtoll(buf, NULL, 10);
  else
    (void)strtoull(buf, NULL, 10);
  return errno == ERANGE;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (RFC 8259 section 6). */
static int scan_number(struct scan *sc, bool *out_is_int) {
  const char *s = sc->s;
  bool is_int = true;
  if (s[sc->pos] == '-')
    sc->pos++;
  if (!is_digit(peek(sc)))
    return fail(sc, sc->pos, MV_EPARSE, "expected a digit in number");
  if (s[sc->pos++] == '0') {
    if (is_digit(peek(sc)))
      return fail(sc, sc->pos, MV_EPARSE, "leading zero in number");
  } else {
    while (is_digit(peek(sc)))
      sc->pos++;
  }
  if (peek(sc) == '.') {
    is_int = false;
    sc->pos++;
    if (!is_digit(peek(sc)))
      return fail(sc, sc->pos, MV_EPARSE,
                  "expected a digit after the decimal point");
    while (is_digit(peek(sc)))
      sc->pos++;
  }
  if (peek(sc) == 'e' || peek(sc) == 'E') {
    is_int = false;
    sc->pos++;
    if (peek(sc) == '+' || peek(sc) == '-')
      sc->pos++;
    if (!is_digit(peek(sc)))
      return fail(sc, sc->pos, MV_EPARSE, "expected a digit in exponent");
    while (is_digit(peek(sc)))
      sc->pos++;
  }
  if (out_is_int)
    *out_is_int = is_int;
  return MV_OK;
}

static int note_number(struct scan *sc, size_t start) {
  size_t ordinal = sc->n_numbers++;
  size_t n = sc->pos - start;
  if (!int_needs_fix(sc->s + start, n))
    return MV_OK;
  void *data = sc->fixes;
  if (grow(&data, &sc->cap_fixes, sc->n_fixes + 1, sizeof(*sc->fixes)))
    return fail(sc, start, MV_ENOMEM, "out of memory");
  sc->fixes = data;
  sc->fixes[sc->n_fixes++] = (struct num_fix){ordinal, start, n};
  return MV_OK;
}

static int scan_literal(struct scan *sc, const char *word) {
  size_t n = strlen(word);
  if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
    return fail(sc, sc->pos, MV_EPARSE, "invalid literal, expected %s", word);
  sc->pos += n;
  return MV_OK;
}

static int cmp_key_ref(const void *a, const void *b) {
  const struct key_ref *x = a, *y = b;
  if (x->len != y->len)
    return x->len < y->len ? -1 : 1;
  int c = memcmp(x->p, y->p, x->len);
  if (c)
    return c;
  return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Duplicate keys among refs[first..]: sort the closing object's keys and
 * compare neighbours, O(k log k) for k keys, so the whole scan stays
 * O(n log n) and holds only the keys of the objects still open. Reports the
 * earliest second occurrence among the duplicated keys. */
static int check_duplicates(struct scan *sc, size_t first) {
  size_t n = sc->n_refs - first;
  if (n < 2)
    return MV_OK;
  struct key_ref *r = sc->refs + first;
  for (size_t i = 0; i < n; i++) /* keys is NULL if every key was "" */
    r[i].p = sc->keys ? sc->keys + r[i].off : "";
  qsort(r, n, sizeof(*r), cmp_key_ref);
  const struct key_ref *dup = NULL;
  for (size_t i = 1; i < n; i++)
    if (r[i].len == r[i - 1].len && memcmp(r[i].p, r[i - 1].p, r[i].len) == 0 &&
        (!dup || r[i].pos < dup->pos))
      dup = &r[i];
  if (!dup)
    return MV_OK;
  char name[64];
  printable_key(name, sizeof(name), dup->p, dup->len);
  return fail(sc, dup->pos, MV_EPARSE, "duplicate key \"%s\"", name);
}

static int scan_value(struct scan *sc, int depth);

static int scan_array(struct scan *sc, int depth) {
  int rc;
  sc->pos++;
  skip_ws(sc);
  if (peek(sc) == ']') {
    sc->pos++;
    return MV_OK;
  }
  for (;;) {
    if ((rc = scan_value(sc, depth)))
      return rc;
    skip_ws(sc);
    int c = peek(sc);
    if (c == ']') {
      sc->pos++;
      return MV_OK;
    }
    if (c != ',')
      return fail_expected(sc, "',' or ']'");
    sc->pos++;
    skip_ws(sc);
    if (peek(sc) == ']')
      return fail(sc, sc->pos, MV_EPARSE, "trailing comma in array");
  }
}

static int scan_object(struct scan *sc, int depth) {
  size_t first = sc->n_refs, keys_mark = sc->keys_len;
  int rc;
  sc->pos++;
  skip_ws(sc);
  if (peek(sc) == '}') {
    sc->pos++;
    return MV_OK;
  }
  for (;;) {
    if (peek(sc) != '"')
      return fail_expected(sc, "a string key");
    struct key_ref ref = {.off = sc->keys_len, .pos = sc->pos};
    if ((rc = scan_string(sc, true)))
      return rc;
    ref.len = sc->keys_len - ref.off;
    void *data = sc->refs;
    if (grow(&data, &sc->cap_refs, sc->n_refs + 1, sizeof(*sc->refs)))
      return fail(sc, ref.pos, MV_ENOMEM, "out of memory");
    sc->refs = data;
    sc->refs[sc->n_refs++] = ref;
    skip_ws(sc);
    if (peek(sc) != ':')
      return fail_expected(sc, "':'");
    sc->pos++;
    if ((rc = scan_value(sc, depth)))
      return rc;
    skip_ws(sc);
    int c = peek(sc);
    if (c == '}') {
      sc->pos++;
      break;
    }
    if (c != ',')
      return fail_expected(sc, "',' or '}'");
    sc->pos++;
    skip_ws(sc);
    if (peek(sc) == '}')
      return fail(sc, sc->pos, MV_EPARSE, "trailing comma in object");
  }
  if ((rc = check_duplicates(sc, first)))
    return rc;
  sc->n_refs = first;
  sc->keys_len = keys_mark;
  return MV_OK;
}

/* One value; depth is the number of containers around it. Recursion is
 * bounded by MV_LIMIT_JSON_DEPTH. */
static int scan_value(struct scan *sc, int depth) {
  skip_ws(sc);
  size_t start = sc->pos;
  bool is_int;
  int rc;
  switch (peek(sc)) {
  case '{':
  case '[':
    if (depth + 1 > MV_LIMIT_JSON_DEPTH)
      return fail(sc, start, MV_ETOOBIG, "nesting deeper than %d levels",
                  MV_LIMIT_JSON_DEPTH);
    return peek(sc) == '{' ? scan_object(sc, depth + 1)
                           : scan_array(sc, depth + 1);
  case '"':
    return scan_string(sc, false);
  case 't':
    return scan_literal(sc, "true");
  case 'f':
    return scan_literal(sc, "false");
  case 'n':
    if ((rc = scan_literal(sc, "null")))
      return rc;
    if (depth == 0)
      sc->top_is_null = true;
    return MV_OK;
  default:
    if (peek(sc) != '-' && !is_digit(peek(sc)))
      return fail_expected(sc, "a value");
    if ((rc = scan_number(sc, &is_int)))
      return rc;
    if (is_int)
      return note_number(sc, start);
    sc->n_numbers++;
    return MV_OK;
  }
}

static int scan_document(struct scan *sc) {
  int rc = scan_value(sc, 0);
  if (rc)
    return rc;
  skip_ws(sc);
  if (sc->pos < sc->len) {
    if (sc->s[sc->pos] == '\0')
      return fail(sc, sc->pos, MV_EPARSE, "NUL byte in input");
    return fail(sc, sc->pos, MV_EPARSE, "unexpected data after the value");
  }
  return MV_OK;
}

/* ---- building and fixing the tree ------------------------------------- */

/* json-c builds the tree from text the validator accepted, so a failure
 * here means the two disagree; it is still reported as a parse error. */
static int build_tree(struct scan *sc, struct json_object **out_obj) {
  /* json-c's depth counts the innermost scalar as a level too, so
   * 64 nested arrays around a number need 65; the validator has already
   * enforced MV_LIMIT_JSON_DEPTH on containers. */
  struct json_tokener *tok = json_tokener_new_ex(MV_LIMIT_JSON_DEPTH + 1);
  struct json_object *obj = NULL;
  int rc = MV_OK;
  if (!tok)
    return fail(sc, 0, MV_ENOMEM, "out of memory");
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  obj = json_tokener_parse_ex(tok, sc->s, (int)sc->len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  if (jerr == json_tokener_continue) {
    /* A top-level number or literal only ends at a delimiter: feed a NUL. */
    obj = json_tokener_parse_ex(tok, "", 1);
    jerr = json_tokener_get_error(tok);
    end = sc->len;
  }
  if (jerr != json_tokener_success) {
    rc = fail(sc, end > sc->len ? sc->len : end,
              jerr == json_tokener_error_depth ? MV_ETOOBIG : MV_EPARSE, "%s",
              json_tokener_error_desc(jerr));
    goto out;
  }
  if (!obj && !sc->top_is_null) {
    rc = fail(sc, 0, MV_ENOMEM, "out of memory");
    goto out;
  }
  *out_obj = obj;
  obj = NULL;
out:
  json_object_put(obj);
  json_tokener_free(tok);
  return rc;
}

struct fixer {
  const struct scan *sc;
  size_t next;    /* next entry of sc->fixes */
  size_t ordinal; /* numbers seen so far in document order */
};

/* Counts one number node; *out_new is its replacement if it is the next
 * one to fix, else NULL. */
static int fix_number(struct fixer *f, struct json_object **out_new) {
  size_t ordinal = f->ordinal++;
  *out_new = NULL;
  if (f->next >= f->sc->n_fixes || f->sc->fixes[f->next].ordinal != ordinal)
    return MV_OK;
  const struct num_fix *fx = &f->sc->fixes[f->next++];
  char *text = malloc(fx->len + 1);
  if (!text)
    return MV_ENOMEM;
  memcpy(text, f->sc->s + fx->pos, fx->len);
  text[fx->len] = '\0';
  *out_new = json_object_new_double_s(strtod(text, NULL), text);
  free(text);
  return *out_new ? MV_OK : MV_ENOMEM;
}

/* Walks the tree in document order (arrays by index, objects in insertion
 * order, which json-c keeps) counting numbers, so the n-th number node is
 * the n-th number literal of the text; duplicate keys were rejected, so no
 * literal was dropped. */
static int fix_walk(struct fixer *f, struct json_object *o,
                    struct json_object **out_new) {
  struct json_object *nw = NULL;
  int rc = MV_OK;
  *out_new = NULL;
  switch (json_object_get_type(o)) {
  case json_type_int:
  case json_type_double:
    return fix_number(f, out_new);
  case json_type_array:
    for (size_t i = 0; i < json_object_array_length(o); i++) {
      if ((rc = fix_walk(f, json_object_array_get_idx(o, i), &nw)))
        return rc;
      if (nw && json_object_array_put_idx(o, i, nw) != 0)
        goto fail_put;
    }
    return MV_OK;
  case json_type_object: {
    struct lh_entry *e;
    lh_foreach(json_object_get_object(o), e) {
      if ((rc = fix_walk(f, (struct json_object *)lh_entry_v(e), &nw)))
        return rc;
      /* Replaces the value in place; the entry's key stays valid. */
      if (nw && json_object_object_add(o, (const char *)lh_entry_k(e), nw))
        goto fail_put;
    }
    return MV_OK;
  }
  default:
    return MV_OK;
  }
fail_put:
  json_object_put(nw);
  return MV_ENOMEM;
}

static int fix_numbers(struct scan *sc, struct json_object **root) {
  struct fixer f = {.sc = sc};
  struct json_object *nw = NULL;
  int rc = fix_walk(&f, *root, &nw);
  if (rc)
    return fail(sc, 0, rc, "out of memory");
  if (nw) {
    json_object_put(*root);
    *root = nw;
  }
  return MV_OK;
}

/* ---- public API -------------------------------------------------------- */

int mv_json_parse(const char *text, size_t len, struct json_object **out_obj,
                  struct mv_diag *diag) {
  struct scan sc = {.s = text ? text : "", .len = len, .diag = diag};
  struct json_object *obj = NULL;
  int rc;
  if (!out_obj || (!text && len)) {
    mv_diag_clear(diag);
    return mv_diag_set(diag, MV_EINVAL, "no text or no output");
  }
  if (len > MV_LIMIT_JSON_TEXT_MAX) {
    mv_diag_clear(diag);
    if (diag)
      diag->offset = (long)MV_LIMIT_JSON_TEXT_MAX;
    return mv_diag_set(diag, MV_ETOOBIG, "JSON text larger than %u bytes",
                       (unsigned)MV_LIMIT_JSON_TEXT_MAX);
  }
  if ((rc = scan_document(&sc)))
    goto out;
  if ((rc = build_tree(&sc, &obj)))
    goto out;
  if (sc.n_fixes && (rc = fix_numbers(&sc, &obj)))
    goto out;
  *out_obj = obj;
  obj = NULL;
out:
  json_object_put(obj);
  free(sc.keys);
  free(sc.refs);
  free(sc.fixes);
  return rc;
}

int mv_json_write(struct mv_buf *b, struct json_object *obj) {
  if (!b)
    return MV_EINVAL;
  size_t n = 0;
  const char *s = json_object_to_json_string_length(obj, WRITE_FLAGS, &n);
  if (!s)
    return MV_ENOMEM;
  return mv_buf_append(b, s, n);
}

bool mv__json_is_number(const char *s, bool *out_is_int) {
  struct scan sc = {.s = s, .len = strlen(s)};
  if (sc.len == 0 || (s[0] != '-' && !is_digit(s[0])))
    return false;
  return scan_number(&sc, out_is_int) == MV_OK && sc.pos == sc.len;
}

int mv_json_new_decimal(const char *text, struct json_object **out_obj) {
  if (!text || !out_obj || !mv__json_is_number(text, NULL))
    return MV_EINVAL;
  struct json_object *o = json_object_new_double_s(strtod(text, NULL), text);
  if (!o)
    return MV_ENOMEM;
  *out_obj = o;
  return MV_OK;
}

int mv_json_new_raw(const char *text, size_t len,
                    struct json_object **out_obj) {
  if (!text || !len || !out_obj || memchr(text, '\0', len))
    return MV_EINVAL;
  char *copy = malloc(len + 1);
  if (!copy)
    return MV_ENOMEM;
  memcpy(copy, text, len);
  copy[len] = '\0';
  /* json-c writes a double made with a string as that string, verbatim —
   * the same mechanism that keeps decimals exact (mv_json_new_decimal). */
  struct json_object *o = json_object_new_double_s(0.0, copy);
  free(copy);
  if (!o)
    return MV_ENOMEM;
  *out_obj = o;
  return MV_OK;
}
