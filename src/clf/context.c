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

/* Traditional -> simplified folding for the Chinese characters the cue and
 * context tables use (one-to-one pairs from the 《通用规范汉字表》 (2013)
 * traditional/simplified correspondence; ambiguous ones such as 乾/幹 and
 * 甚 are left alone), so "頭痛" matches "头痛". Sorted by the first column. */
static const uint32_t trad_simp[][2] = {
    {0x4e82, 0x4e71}, {0x4f86, 0x6765}, {0x500b, 0x4e2a}, {0x5011, 0x4eec},
    {0x5074, 0x4fa7}, {0x50b3, 0x4f20}, {0x50b7, 0x4f24}, {0x5152, 0x513f},
    {0x5169, 0x4e24}, {0x524e, 0x5239}, {0x5287, 0x5267}, {0x5291, 0x5242},
    {0x52d5, 0x52a8}, {0x53b2, 0x5389}, {0x55aa, 0x4e27}, {0x55ce, 0x5417},
    {0x5614, 0x5455}, {0x5641, 0x6076}, {0x56a8, 0x5499}, {0x56b4, 0x4e25},
    {0x5831, 0x62a5}, {0x584a, 0x5757}, {0x589c, 0x5760}, {0x58ae, 0x5815},
    {0x58d3, 0x538b}, {0x5abd, 0x5988}, {0x5b30, 0x5a74}, {0x5b6b, 0x5b59},
    {0x5bf6, 0x5b9d}, {0x5c0e, 0x5bfc}, {0x5c6c, 0x5c5e}, {0x5e36, 0x5e26},
    {0x5e7e, 0x51e0}, {0x5f35, 0x5f20}, {0x5f8c, 0x540e}, {0x5f9e, 0x4ece},
    {0x5fb5, 0x5f81}, {0x60b6, 0x95f7}, {0x61c9, 0x5e94}, {0x61f7, 0x6000},
    {0x6200, 0x604b}, {0x6490, 0x6491}, {0x64b2, 0x6251}, {0x64ca, 0x51fb},
    {0x64da, 0x636e}, {0x6557, 0x8d25}, {0x65b7, 0x65ad}, {0x6642, 0x65f6},
    {0x6688, 0x6655}, {0x66a2, 0x7545}, {0x66f8, 0x4e66}, {0x6703, 0x4f1a},
    {0x689d, 0x6761}, {0x6975, 0x6781}, {0x6a13, 0x697c}, {0x6a23, 0x6837},
    {0x6b72, 0x5c81}, {0x6b77, 0x5386}, {0x6bba, 0x6740}, {0x6c23, 0x6c14},
    {0x6c92, 0x6ca1}, {0x6dbc, 0x51c9}, {0x6e6f, 0x6c64}, {0x6eab, 0x6e29},
    {0x6ec5, 0x706d}, {0x6ef7, 0x5364}, {0x70ba, 0x4e3a}, {0x7121, 0x65e0},
    {0x71b1, 0x70ed}, {0x71c8, 0x706f}, {0x71d2, 0x70e7}, {0x71d9, 0x70eb},
    {0x721b, 0x70c2}, {0x723a, 0x7237}, {0x72c0, 0x72b6}, {0x7522, 0x4ea7},
    {0x7570, 0x5f02}, {0x7613, 0x75ea}, {0x7647, 0x75eb}, {0x7662, 0x75d2},
    {0x7671, 0x762b}, {0x7672, 0x766b}, {0x767c, 0x53d1}, {0x76dc, 0x76d7},
    {0x774f, 0x56f0}, {0x798d, 0x7978}, {0x7cde, 0x7caa}, {0x7d05, 0x7ea2},
    {0x7d50, 0x7ed3}, {0x7d55, 0x7edd}, {0x7d5e, 0x7ede}, {0x7d72, 0x4e1d},
    {0x7d93, 0x7ecf}, {0x7da0, 0x7eff}, {0x7dca, 0x7d27}, {0x7dda, 0x7ebf},
    {0x807d, 0x542c}, {0x8108, 0x8109}, {0x812b, 0x8131}, {0x8166, 0x8111},
    {0x816b, 0x80bf}, {0x8173, 0x811a}, {0x81bf, 0x8113}, {0x81c9, 0x8138},
    {0x81df, 0x810f}, {0x81e5, 0x5367}, {0x85e5, 0x836f}, {0x865b, 0x865a},
    {0x8766, 0x867e}, {0x87c4, 0x86f0}, {0x8853, 0x672f}, {0x88e1, 0x91cc},
    {0x898b, 0x89c1}, {0x8996, 0x89c6}, {0x89aa, 0x4eb2}, {0x89ba, 0x89c9},
    {0x8a3a, 0x8bca}, {0x8a71, 0x8bdd}, {0x8a9e, 0x8bed}, {0x8aa4, 0x8bef},
    {0x8aaa, 0x8bf4}, {0x8b1b, 0x8bb2}, {0x8b58, 0x8bc6}, {0x8b77, 0x62a4},
    {0x8b93, 0x8ba9}, {0x8eca, 0x8f66}, {0x8edf, 0x8f6f}, {0x8f15, 0x8f7b},
    {0x8f38, 0x8f93}, {0x8f49, 0x8f6c}, {0x8fb2, 0x519c}, {0x9019, 0x8fd9},
    {0x904e, 0x8fc7}, {0x907a, 0x9057}, {0x9084, 0x8fd8}, {0x908a, 0x8fb9},
    {0x91ab, 0x533b}, {0x91dd, 0x9488}, {0x932f, 0x9519}, {0x937e, 0x949f},
    {0x9418, 0x949f}, {0x9589, 0x95ed}, {0x958b, 0x5f00}, {0x9593, 0x95f4},
    {0x95cc, 0x9611}, {0x9663, 0x9635}, {0x96b1, 0x9690}, {0x96bb, 0x53ea},
    {0x96e3, 0x96be}, {0x9806, 0x987a}, {0x982d, 0x5934}, {0x9838, 0x9888},
    {0x9846, 0x9897}, {0x98a8, 0x98ce}, {0x98f2, 0x996e}, {0x9a5a, 0x60ca},
    {0x9a5f, 0x9aa4}, {0x9ad4, 0x4f53}, {0x9b06, 0x677e}, {0x9ebc, 0x4e48},
    {0x9ebd, 0x4e48}, {0x9ede, 0x70b9}, {0x9f52, 0x9f7f},
};

/* Which CJK unified ideographs (U+4E00..U+9FFF, where every traditional
 * form above lies) have a row: one bit each, set once by ps_init, so the
 * common case (a character with no row) costs one load instead of a binary
 * search per character. */
#define TRAD_LO 0x4e00u
#define TRAD_HI 0x9fffu
static uint64_t trad_bits[(TRAD_HI - TRAD_LO + 64) / 64];

static void trad_bits_init(void) {
  for (size_t i = 0; i < MV_ARRAY_LEN(trad_simp); i++) {
    uint32_t off = trad_simp[i][0] - TRAD_LO;
    trad_bits[off / 64] |= (uint64_t)1 << (off % 64);
  }
}

static uint32_t trad_to_simp(uint32_t cp) {
  if (cp < TRAD_LO || cp > TRAD_HI)
    return cp;
  uint32_t off = cp - TRAD_LO;
  if (!(trad_bits[off / 64] >> (off % 64) & 1))
    return cp;
  size_t lo = 0, hi = MV_ARRAY_LEN(trad_simp);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (trad_simp[mid][0] == cp)
      return trad_simp[mid][1];
    if (trad_simp[mid][0] < cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  return cp;
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
      uint32_t sc = l == 3 ? trad_to_simp(cp) : cp;
      unsigned char enc[3] = {(unsigned char)(0xe0 | (sc >> 12)),
                              (unsigned char)(0x80 | ((sc >> 6) & 0x3f)),
                              (unsigned char)(0x80 | (sc & 0x3f))};
      for (size_t k = 0; k < l; k++) {
        d->norm[n] = (char)(sc != cp ? enc[k] : s[i + k]);
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
  trad_bits_init();
  trig_pats = malloc(mv__cx_trigs_len * sizeof *trig_pats);
  if (!trig_pats) {
    ps_status = MV_ENOMEM;
    return;
  }
  for (size_t i = 0; i < mv__cx_trigs_len; i++)
    trig_pats[i] = trigs[i].pat;
  ps_trig = (struct mv__pset){.pats = trig_pats, .n = mv__cx_trigs_len};
  ps_pseudo = (struct mv__pset){.pats = pseudo, .n = mv__cx_pseudo_len};
  ps_recency = (struct mv__pset){.pats = recency, .n = list_len(recency)};
  ps_fam = (struct mv__pset){.pats = fam_marker, .n = list_len(fam_marker)};
  ps_never =
      (struct mv__pset){.pats = never_cancel, .n = list_len(never_cancel)};
  ps_hard = (struct mv__pset){.pats = hard_words, .n = list_len(hard_words)};
  ps_soft = (struct mv__pset){.pats = soft_words, .n = list_len(soft_words)};
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
    /* Coordination carries a negation over its conjuncts: "I don't have any
     * chest pain or shortness of breath" negates both (NegEx scopes end at
     * termination terms, not at "or"; Chapman et al. 2001), so an "or" /
     * "nor" / "或" restarts the word window. A comma still ends the scope,
     * even in a list closed by "or": "no fever, severe chest pain or
     * pressure" and "没有发烧，胸口剧痛或者压迫感" are read as a current
     * symptom. Carrying the negation over the list would miss those
     * emergencies, and recall comes first (a false alarm costs a phone
     * call). The list scan below is kept off for that reason. */
    static const char *const coord[] = {"or", "nor",  "或者",
                                        "或", "也没", NULL};
    static const char *const pron[] = {"i",   "im",  "my",  "me", "he",
                                       "she", "his", "her", "we", "我",
                                       "他",  "她",  NULL};
    bool list = false;
    const bool carry_over_lists = false; /* see above: safety first */
    if (carry_over_lists && t->cx == NEG && !(t->flags & F_LIST)) {
      unsigned n = 0;
      for (size_t i = e; i < d->nlen && d->lclause[i] == d->lclause[s]; i++) {
        if (!unit_start(d, i))
          continue;
        if (word_at(d, i, coord)) {
          list = d->sclause[i] != d->sclause[s];
          break;
        }
        if (word_at(d, i, pron) || ++n > 8)
          break;
      }
    }
    unsigned units = 0;
    for (size_t i = e; i < d->nlen && (list ? d->lclause[i] == d->lclause[s]
                                            : same_scope(d, t, s, i));
         i++) {
      if (unit_start(d, i) && t->cx == NEG && word_at(d, i, coord))
        units = 0;
      else if (unit_start(d, i) && t->win && ++units > t->win)
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
    if (((unsigned char)d->norm[p] & 0xc0) == 0x80)
      continue; /* patterns start at a character, never inside one */
    size_t a, b;
    mv__pset_at(&ps_pseudo, d, p, &a, &b);
    for (size_t k = a; k < b; k++) {
      if (!mv__pkey_may(&ps_pseudo.keys[k], d, p))
        continue;
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
  /* 过 inside a compound verb or preposition, not the aspect suffix:
   * 透过/渗过 (through: "血透过绷带" is bleeding now), 通过, 经过, 超过, 穿过,
   * 难过, 越过, 跨过, 错过, 路过, 绕过, 闪过 */
  static const char *const not_before[] = {"透", "渗", "通", "经", "超",
                                           "穿", "难", "越", "跨", "错",
                                           "路", "绕", "闪", NULL};
  for (size_t k = 0; i >= 3 && not_before[k]; k++)
    if (memcmp(d->norm + i - 3, not_before[k], 3) == 0)
      return;
  size_t cs = clause_from(d, i);
  if (mv__pset_contains(&ps_recency, d, cs, clause_to(d, i)))
    return;
  /* "从没这么头疼过" (never had a headache like this): with an intensity
   * word the 过 belongs to the "never ... like this" frame, which says the
   * symptom is present now (see mv__cx_never_cancel). */
  static const char *const like_this[] = {"这么", "这样", "如此", "这种", NULL};
  if (mv__cx_contains(d, cs, clause_to(d, i), like_this))
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
      if (!mv__pkey_may(&ps_trig.keys[k], d, i))
        continue;
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
