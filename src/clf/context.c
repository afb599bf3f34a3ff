/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context marking for triage text (mv_clf_context.h): normalise the text,
 * split it into clauses, find trigger phrases and mark their scope negated,
 * historical, family or hypothetical. The method is NegEx (Chapman et al.
 * 2001, "A simple algorithm for identifying negated findings and diseases in
 * discharge summaries", J Biomed Inform 34:301) extended with ConText's
 * historical, experiencer and hypothetical triggers (Harkema et al. 2009,
 * J Biomed Inform 42:839) and Chinese triggers; pseudo-triggers ("无明显诱因",
 * "not sure", "叫不醒") stop a negation word from negating what is really a
 * symptom. The rule lists are data below; docs/TRIAGE.md summarises them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "safety_int.h"

#define DIR_FWD MV__DIR_FWD
#define DIR_BWD MV__DIR_BWD
#define DIR_BOTH MV__DIR_BOTH
#define F_FAMREL MV__F_FAMREL
#define F_NEVER MV__F_NEVER
#define F_SOFT MV__F_SOFT
#define F_LIST MV__F_LIST
#define NEG MV_CLF_CX_NEGATED
#define HIS MV_CLF_CX_HISTORICAL
#define FAM MV_CLF_CX_FAMILY
#define HYP MV_CLF_CX_HYPOTHETICAL
#define trigs mv__cx_trigs
#define pseudo mv__cx_pseudo
#define recency mv__cx_recency
#define fam_marker mv__cx_fam_marker
#define never_cancel mv__cx_never_cancel
#define hard_words mv__cx_hard_words
#define soft_words mv__cx_soft_words

/* ---- normalisation --------------------------------------------------- */

/* Decode one UTF-8 code point at s[i] (n bytes left); returns its length
 * (1-4) with *cp set, or 0 when the bytes there are not valid UTF-8
 * (RFC 3629: no overlongs, no surrogates, at most U+10FFFF). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t need;
  uint32_t v, min;
  if ((c & 0xe0) == 0xc0) {
    need = 2, v = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    need = 3, v = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    need = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (n < need)
    return 0;
  for (size_t k = 1; k < need; k++) {
    if ((s[k] & 0xc0) != 0x80)
      return 0;
    v = (v << 6) | (s[k] & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
    return 0;
  *cp = v;
  return need;
}

static bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c >= 'A' && c <= 'Z');
}

/* Map one code point to its normalised form: an ASCII byte, 0 to drop it,
 * or -1 to copy it unchanged. */
static int fold(uint32_t cp) {
  if (cp == '\'' || cp == 0x2018 || cp == 0x2019 || cp == 0x02bc ||
      cp == 0x201c || cp == 0x201d || cp == '"' || cp == 0xfe0f ||
      cp == 0x200d || cp == 0xfeff || cp == 0x200b)
    return 0;
  if (cp >= 'A' && cp <= 'Z')
    return (int)(cp + 32);
  if (cp == '\n' || cp == '\r')
    return '\n';
  if (cp < 0x20 || cp == 0x7f || cp == 0x3000 || cp == 0xa0)
    return ' ';
  if (cp < 0x80)
    return (int)cp;
  if (cp >= 0xff01 && cp <= 0xff5e) {
    uint32_t a = cp - 0xfee0;
    if (a == '\'' || a == '"')
      return 0;
    return (int)(a >= 'A' && a <= 'Z' ? a + 32 : a);
  }
  switch (cp) {
  case 0x3002: /* 。 */
  case 0xff61:
  case 0x2026: /* … */
    return '.';
  case 0x3001: /* 、 list separator: not a clause boundary */
    return '/';
  case 0x2013:
  case 0x2014:
  case 0x2015:
    return '-';
  case 0x300c: /* 「」『』【】《》 */
  case 0x300d:
  case 0x300e:
  case 0x300f:
  case 0x3010:
  case 0x3011:
  case 0x300a:
  case 0x300b:
    return ' ';
  default:
    return -1;
  }
}

static int normalise(struct mv__cx_doc *d, const char *text, size_t len) {
  const unsigned char *s = (const unsigned char *)text;
  size_t olen = len < MV_LIMIT_CLF_CX_TEXT ? len : MV_LIMIT_CLF_CX_TEXT;
  d->olen = olen;
  d->norm = malloc(olen + 2);
  d->n2o = malloc((olen + 1) * sizeof *d->n2o);
  d->o2n = malloc((olen + 1) * sizeof *d->o2n);
  if (!d->norm || !d->n2o || !d->o2n)
    return MV_ENOMEM;
  size_t n = 0, i = 0;
  while (i < olen) {
    uint32_t cp = 0;
    size_t l = utf8_decode(s + i, olen - i, &cp);
    int f;
    if (l == 0) {
      l = 1;
      f = ' ';
    } else {
      f = fold(cp);
    }
    size_t at = n;
    if (f == ' ' &&
        (n == 0 || d->norm[n - 1] == ' ' || d->norm[n - 1] == '\n')) {
      f = 0;
    }
    if (f > 0) {
      d->norm[n] = (char)f;
      d->n2o[n++] = (uint32_t)i;
    } else if (f < 0) {
      for (size_t k = 0; k < l; k++) {
        d->norm[n] = (char)s[i + k];
        d->n2o[n++] = (uint32_t)(i + k);
      }
    }
    for (size_t k = 0; k < l; k++) {
      size_t t = at + (f < 0 ? k : 0);
      d->o2n[i + k] = (uint32_t)(t < n ? t : (n ? n - 1 : 0));
    }
    i += l;
  }
  d->norm[n] = 0;
  d->nlen = n;
  return MV_OK;
}

/* ---- matching -------------------------------------------------------- */

static bool neg_in_gap(const char *g, size_t n) {
  static const char *const cjk_neg[] = {"不", "没", "无", "未", "否", NULL};
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; cjk_neg[k]; k++) {
      size_t l = strlen(cjk_neg[k]);
      if (i + l <= n && memcmp(g + i, cjk_neg[k], l) == 0)
        return true;
    }
    if ((i == 0 || !is_alnum((unsigned char)g[i - 1])) && i + 2 <= n &&
        g[i] == 'n' && g[i + 1] == 'o' &&
        (i + 2 == n || !is_alnum((unsigned char)g[i + 2]) ||
         (g[i + 2] == 't' &&
          (i + 3 == n || !is_alnum((unsigned char)g[i + 3])))))
      return true;
  }
  return false;
}

/* Pattern matcher. A pattern is a sequence of segments: literal bytes (a
 * trailing '*' on a word makes it a prefix), "{a|b|c}" alternatives (each a
 * literal), ".." (a gap of at most GAP bytes in the same clause, holding no
 * negation word) and a final "!x" (not directly followed by x). Word
 * boundaries are checked where a segment begins or ends next to an ASCII
 * letter or digit of the pattern at a piece edge (pattern start, end, or
 * either side of a gap). Returns the end offset of the match or 0. */
enum { GAP = 40 };

static size_t seg_len(const char *p) {
  size_t n = 0;
  while (p[n] && p[n] != '{' && p[n] != '!' &&
         !(p[n] == '.' && p[n + 1] == '.'))
    n++;
  return n;
}

static bool piece_edge(const char *rest) {
  return !*rest || *rest == '!' || (rest[0] == '.' && rest[1] == '.');
}

/* Literal lit[0..n) at pos; returns matched length or 0. */
static size_t lit_at(const struct mv__cx_doc *d, size_t pos, const char *lit,
                     size_t n, bool left, bool right) {
  if (n == 0 || pos >= d->nlen)
    return 0;
  if (left && is_alnum((unsigned char)lit[0]) && pos > 0 &&
      is_alnum((unsigned char)d->norm[pos - 1]))
    return 0;
  size_t t = pos;
  for (size_t k = 0; k < n; k++) {
    if (lit[k] == '*') { /* the rest of a word (greedy, no backtracking) */
      while (t < d->nlen && is_alnum((unsigned char)d->norm[t]))
        t++;
      continue;
    }
    if (t >= d->nlen || d->norm[t] != lit[k])
      return 0;
    t++;
  }
  if (right && lit[n - 1] != '*' && is_alnum((unsigned char)lit[n - 1]) &&
      t < d->nlen && is_alnum((unsigned char)d->norm[t]))
    return 0;
  return t - pos;
}

static size_t seq_at(const struct mv__cx_doc *d, size_t start, size_t pos,
                     const char *p, bool left, int depth) {
  if (depth > 16)
    return 0;
  if (!*p)
    return pos;
  if (*p == '!') { /* not directly followed by any of "x|y|..." */
    for (const char *a = p + 1; *a;) {
      const char *bar = strchr(a, '|');
      size_t bl = bar ? (size_t)(bar - a) : strlen(a);
      if (pos + bl <= d->nlen && memcmp(d->norm + pos, a, bl) == 0)
        return 0;
      a += bl + (bar ? 1 : 0);
    }
    return pos;
  }
  if (p[0] == '.' && p[1] == '.') {
    unsigned char f = (unsigned char)p[2];
    for (size_t q = pos; q <= pos + GAP && q < d->nlen; q++) {
      if (d->clause[q] != d->clause[start])
        break;
      unsigned char c = (unsigned char)d->norm[q];
      if ((c & 0xc0) == 0x80 || (f != '{' && c != f) ||
          (q > 0 && is_alnum(c) && is_alnum((unsigned char)d->norm[q - 1])))
        continue;
      size_t e = seq_at(d, start, q, p + 2, true, depth + 1);
      if (e) {
        if (neg_in_gap(d->norm + pos, q - pos))
          return 0;
        return e;
      }
    }
    return 0;
  }
  if (*p == '{') {
    const char *close = strchr(p, '}');
    if (!close)
      return 0;
    const char *rest = close + 1;
    for (const char *a = p + 1; a < close;) {
      const char *ae = a;
      while (ae < close && *ae != '|')
        ae++;
      size_t l =
          (unsigned char)*a != (unsigned char)d->norm[pos]
              ? 0
              : lit_at(d, pos, a, (size_t)(ae - a), left, piece_edge(rest));
      if (l) {
        size_t e = seq_at(d, start, pos + l, rest, false, depth + 1);
        if (e)
          return e;
      }
      a = ae + 1;
    }
    return 0;
  }
  if ((unsigned char)*p != (unsigned char)d->norm[pos])
    return 0; /* cheap reject before measuring the segment */
  size_t n = seg_len(p);
  size_t l = lit_at(d, pos, p, n, left, piece_edge(p + n));
  if (!l)
    return 0;
  return seq_at(d, start, pos + l, p + n, false, depth + 1);
}

size_t mv__cx_match(const struct mv__cx_doc *d, size_t pos, const char *pat) {
  if (pos >= d->nlen || (pat[0] != '{' && d->norm[pos] != pat[0]))
    return 0;
  size_t e = seq_at(d, pos, pos, pat, true, 0);
  return e > pos ? e - pos : 0;
}

bool mv__cx_contains(const struct mv__cx_doc *d, size_t from, size_t to,
                     const char *const *pats) {
  for (size_t i = from; i < to && i < d->nlen; i++)
    for (size_t k = 0; pats[k]; k++)
      if (mv__cx_match(d, i, pats[k]))
        return true;
  return false;
}

/* ---- phrase indexes (built once) ----------------------------------- */

static const char **trig_pats;
static struct mv__pset ps_trig, ps_pseudo, ps_recency, ps_fam, ps_never,
    ps_hard, ps_soft;
static pthread_once_t ps_once = PTHREAD_ONCE_INIT;
static int ps_status = MV_OK;

static size_t list_len(const char *const *l) {
  size_t n = 0;
  while (l[n])
    n++;
  return n;
}

static void ps_init(void) {
  trig_pats = malloc(mv__cx_trigs_len * sizeof *trig_pats);
  if (!trig_pats) {
    ps_status = MV_ENOMEM;
    return;
  }
  for (size_t i = 0; i < mv__cx_trigs_len; i++)
    trig_pats[i] = trigs[i].pat;
  ps_trig = (struct mv__pset){trig_pats, mv__cx_trigs_len, NULL, 0};
  ps_pseudo = (struct mv__pset){pseudo, mv__cx_pseudo_len, NULL, 0};
  ps_recency = (struct mv__pset){recency, list_len(recency), NULL, 0};
  ps_fam = (struct mv__pset){fam_marker, list_len(fam_marker), NULL, 0};
  ps_never = (struct mv__pset){never_cancel, list_len(never_cancel), NULL, 0};
  ps_hard = (struct mv__pset){hard_words, list_len(hard_words), NULL, 0};
  ps_soft = (struct mv__pset){soft_words, list_len(soft_words), NULL, 0};
  struct mv__pset *all[] = {&ps_trig,  &ps_pseudo, &ps_recency, &ps_fam,
                            &ps_never, &ps_hard,   &ps_soft};
  for (size_t i = 0; i < MV_ARRAY_LEN(all); i++)
    if (mv__pset_build(all[i]) != MV_OK)
      ps_status = MV_ENOMEM;
}

/* ---- clauses --------------------------------------------------------- */

void mv__cx_sentence(const struct mv__cx_doc *d, size_t pos, size_t *from,
                     size_t *to) {
  size_t a = pos, b = pos;
  while (a > 0 && !strchr(".!?\n", d->norm[a - 1]))
    a--;
  while (b < d->nlen && !strchr(".!?\n", d->norm[b]))
    b++;
  *from = a;
  *to = b;
}

static bool starts_char(const struct mv__cx_doc *d, size_t i) {
  return ((unsigned char)d->norm[i] & 0xc0) != 0x80;
}

static bool hard_punct(const struct mv__cx_doc *d, size_t i) {
  char c = d->norm[i];
  if (c == '!' || c == '?' || c == ';' || c == ',' || c == ':' || c == '\n' ||
      c == '(' || c == ')')
    return true;
  if (c == '.') /* not a decimal point */
    return !(i > 0 && i + 1 < d->nlen && d->norm[i - 1] >= '0' &&
             d->norm[i - 1] <= '9' && d->norm[i + 1] >= '0' &&
             d->norm[i + 1] <= '9');
  if (c == '-') /* a dash between spaces */
    return i > 0 && i + 1 < d->nlen && d->norm[i - 1] == ' ' &&
           d->norm[i + 1] == ' ';
  return false;
}

static size_t word_at(const struct mv__cx_doc *d, size_t i,
                      const char *const *list) {
  for (size_t k = 0; list[k]; k++) {
    size_t l = mv__cx_match(d, i, list[k]);
    if (l)
      return l;
  }
  return 0;
}

static void split_clauses(struct mv__cx_doc *d) {
  uint32_t hard = 0, soft = 0, list = 0;
  bool pending = false, comma = false;
  for (size_t i = 0; i < d->nlen; i++) {
    if (pending && starts_char(d, i) && d->norm[i] != ' ') {
      hard++, soft++;
      if (!comma)
        list++;
      pending = comma = false;
    }
    if (starts_char(d, i) && hard_punct(d, i)) {
      d->clause[i] = hard, d->sclause[i] = soft, d->lclause[i] = list;
      pending = true;
      comma = d->norm[i] == ',';
      continue;
    }
    if (starts_char(d, i)) {
      /* The clause array is provisional while matching words: gap patterns
       * in boundary lists have none. */
      d->clause[i] = hard;
      if (!pending && i > 0 && mv__pset_match(&ps_hard, d, i, NULL))
        hard++, soft++, list++;
      else if (!pending && i > 0 && mv__pset_match(&ps_soft, d, i, NULL))
        soft++;
    }
    d->clause[i] = hard, d->sclause[i] = soft, d->lclause[i] = list;
  }
}

/* ---- scopes ---------------------------------------------------------- */

static const uint8_t rank[] = {0, 4, 1, 2, 3}; /* by enum mv_clf_cx */

static void set_cx(struct mv__cx_doc *d, size_t i, uint8_t cx) {
  if (rank[cx] > rank[d->cx[i]])
    d->cx[i] = cx;
}

/* Is norm[i] the start of a counting unit (ASCII word or CJK char)? */
static bool unit_start(const struct mv__cx_doc *d, size_t i) {
  unsigned char c = (unsigned char)d->norm[i];
  if (c >= 0x80)
    return (c & 0xc0) != 0x80;
  return is_alnum(c) && (i == 0 || !is_alnum((unsigned char)d->norm[i - 1]));
}

static bool same_scope(const struct mv__cx_doc *d, const struct mv__cx_trig *t,
                       size_t a, size_t b) {
  if (t->flags & F_LIST)
    return d->lclause[a] == d->lclause[b];
  return (t->flags & F_SOFT) ? d->sclause[a] == d->sclause[b]
                             : d->clause[a] == d->clause[b];
}

static size_t clause_from(const struct mv__cx_doc *d, size_t i) {
  while (i > 0 && d->clause[i - 1] == d->clause[i])
    i--;
  return i;
}
static size_t clause_to(const struct mv__cx_doc *d, size_t i) {
  while (i + 1 < d->nlen && d->clause[i + 1] == d->clause[i])
    i++;
  return i + 1;
}

static void apply(struct mv__cx_doc *d, const struct mv__cx_trig *t, size_t s,
                  size_t e) {
  size_t c = e;
  while (c < d->nlen && d->norm[c] == ' ')
    c++;
  if (c < d->nlen && d->norm[c] == ':' && (t->dir & DIR_FWD)) {
    /* A heading ("family history: ...", "既往史：...") covers the rest of
     * its sentence. */
    size_t a, b;
    mv__cx_sentence(d, c, &a, &b);
    for (size_t i = e; i < b; i++)
      set_cx(d, i, t->cx);
    return;
  }
  if (t->dir & DIR_FWD) {
    unsigned units = 0;
    for (size_t i = e; i < d->nlen && same_scope(d, t, s, i); i++) {
      if (unit_start(d, i) && t->win && ++units > t->win)
        break;
      set_cx(d, i, t->cx);
    }
  }
  if (t->dir & DIR_BWD) {
    unsigned units = 0;
    for (size_t i = s; i-- > 0 && same_scope(d, t, s, i);) {
      set_cx(d, i, t->cx);
      if (unit_start(d, i) && t->win && ++units >= t->win)
        break;
    }
  }
  if (t->dir == DIR_BOTH)
    for (size_t i = s; i < e; i++)
      set_cx(d, i, t->cx);
}

static bool in_pseudo(const struct mv__cx_doc *d, size_t s) {
  /* A pseudo-trigger starting at most 12 bytes before s that covers s. */
  size_t lo = s > 12 ? s - 12 : 0;
  for (size_t p = lo; p <= s; p++) {
    size_t a, b;
    mv__pset_at(&ps_pseudo, d, p, &a, &b);
    for (size_t k = a; k < b; k++) {
      size_t l = mv__cx_match(d, p, pseudo[ps_pseudo.keys[k].pat]);
      if (l && p + l > s)
        return true;
    }
  }
  return false;
}

/* The "过" aspect suffix ("中风过" = has had a stroke): marks the preceding
 * word historical unless it is part of 过去/过来/过敏/过量/喘不过气 etc. */
static void guo_suffix(struct mv__cx_doc *d, size_t i) {
  static const char *const not_after[] = {
      "去", "来", "度", "敏", "量", "多", "于", "猛", "快", "高", "低",
      "大", "重", "热", "冷", "劳", "期", "程", "夜", "年", "了", "一会",
      "气", "后", "分", "长", "饱", "饿", "早", "晚", "头", NULL};
  size_t e = i + 3;
  if (e < d->nlen && word_at(d, e, not_after))
    return;
  if (i >= 3 && memcmp(d->norm + i - 3, "不", 3) == 0)
    return;
  size_t cs = clause_from(d, i);
  if (mv__pset_contains(&ps_recency, d, cs, clause_to(d, i)))
    return;
  unsigned units = 0;
  for (size_t k = i; k-- > cs;) {
    if (d->sclause[k] != d->sclause[i])
      break;
    set_cx(d, k, MV_CLF_CX_HISTORICAL);
    if (unit_start(d, k) && ++units >= 4)
      break;
  }
}

static void mark(struct mv__cx_doc *d) {
  for (size_t i = 0; i < d->nlen; i++) {
    if (!starts_char(d, i))
      continue;
    if (memcmp(d->norm + i, "过", 3) == 0 && i + 3 <= d->nlen && i > 0)
      guo_suffix(d, i);
    size_t a, b;
    mv__pset_at(&ps_trig, d, i, &a, &b);
    for (size_t k = a; k < b; k++) {
      const struct mv__cx_trig *t = &trigs[ps_trig.keys[k].pat];
      size_t l = mv__cx_match(d, i, t->pat);
      if (l == 0)
        continue;
      if ((t->cx == NEG || t->cx == HYP) && in_pseudo(d, i))
        continue;
      size_t cs = clause_from(d, i), ce = clause_to(d, i);
      if ((t->flags & F_NEVER) && mv__pset_contains(&ps_never, d, cs, ce))
        continue;
      if ((t->cx == HIS || t->cx == FAM) &&
          mv__pset_contains(&ps_recency, d, cs, ce))
        continue;
      if ((t->flags & F_FAMREL) && !mv__pset_contains(&ps_fam, d, cs, ce))
        continue;
      apply(d, t, i, i + l);
    }
  }
}

int mv__cx_doc_init(struct mv__cx_doc *d, const char *text, size_t len) {
  memset(d, 0, sizeof *d);
  if (!text && len > 0)
    return MV_EINVAL;
  if (pthread_once(&ps_once, ps_init) != 0 || ps_status != MV_OK)
    return MV_ENOMEM;
  int rc = normalise(d, text ? text : "", len);
  if (rc != MV_OK)
    goto out;
  d->cx = calloc(d->nlen + 1, 1);
  d->clause = calloc(d->nlen + 1, sizeof *d->clause);
  d->sclause = calloc(d->nlen + 1, sizeof *d->sclause);
  d->lclause = calloc(d->nlen + 1, sizeof *d->lclause);
  if (!d->cx || !d->clause || !d->sclause || !d->lclause) {
    rc = MV_ENOMEM;
    goto out;
  }
  split_clauses(d);
  mark(d);
out:
  if (rc != MV_OK)
    mv__cx_doc_release(d);
  return rc;
}

void mv__cx_doc_release(struct mv__cx_doc *d) {
  if (!d)
    return;
  free(d->norm);
  free(d->n2o);
  free(d->o2n);
  free(d->cx);
  free(d->clause);
  free(d->sclause);
  free(d->lclause);
  memset(d, 0, sizeof *d);
}

/* ---- public ---------------------------------------------------------- */

const char *mv_clf_cx_name(int cx) {
  static const char *const names[] = {"current", "negated", "historical",
                                      "family", "hypothetical"};
  return cx >= 0 && cx < (int)MV_ARRAY_LEN(names) ? names[cx] : "?";
}

/* Context of source byte i. */
static uint8_t cx_of(const struct mv__cx_doc *d, size_t i) {
  if (i >= d->olen || d->nlen == 0)
    return MV_CLF_CX_CURRENT;
  return d->cx[d->o2n[i]];
}

int mv_clf_context_mark(const char *text, size_t len, uint8_t *out_cx,
                        size_t cap) {
  if ((!text && len > 0) || (!out_cx && cap > 0 && len > 0))
    return MV_EINVAL;
  struct mv__cx_doc d;
  int rc = mv__cx_doc_init(&d, text, len);
  if (rc != MV_OK)
    return rc;
  size_t n = len < cap ? len : cap;
  for (size_t i = 0; i < n; i++)
    out_cx[i] = cx_of(&d, i);
  mv__cx_doc_release(&d);
  return MV_OK;
}

int mv_clf_context_spans(const char *text, size_t len,
                         struct mv_clf_cx_span *out, size_t cap,
                         size_t *out_n) {
  if ((!text && len > 0) || (!out && cap > 0) || !out_n)
    return MV_EINVAL;
  struct mv__cx_doc d;
  int rc = mv__cx_doc_init(&d, text, len);
  if (rc != MV_OK)
    return rc;
  size_t n = 0;
  for (size_t i = 0; i < d.olen;) {
    uint8_t c = cx_of(&d, i);
    size_t j = i + 1;
    while (j < d.olen && cx_of(&d, j) == c)
      j++;
    if (n < cap)
      out[n++] = (struct mv_clf_cx_span){(uint32_t)i, (uint32_t)(j - i), c};
    i = j;
  }
  *out_n = n;
  mv__cx_doc_release(&d);
  return MV_OK;
}

int mv_clf_context_clauses(const char *text, size_t len, uint32_t *out,
                           size_t cap, size_t *out_n) {
  if ((!text && len > 0) || (!out && cap > 0) || !out_n)
    return MV_EINVAL;
  struct mv__cx_doc d;
  int rc = mv__cx_doc_init(&d, text, len);
  if (rc != MV_OK)
    return rc;
  size_t n = 0;
  if (cap > 0 && len > 0)
    out[n++] = 0;
  for (size_t i = 1; i < d.nlen; i++)
    if (d.clause[i] != d.clause[i - 1] && n < cap)
      out[n++] = d.n2o[i];
  *out_n = n;
  mv__cx_doc_release(&d);
  return MV_OK;
}
