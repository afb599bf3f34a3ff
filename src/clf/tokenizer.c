/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The UTF-8 tokenizer of the triage classifier. Latin-script and digit runs
 * become lower-cased words (two characters or more, as scikit-learn's
 * default token pattern) plus bigrams of adjacent words; runs of CJK
 * characters become character 1-, 2- and 3-grams, which work far better
 * than word segmentation for short Chinese symptom texts. Punctuation,
 * emoji and invalid UTF-8 separate tokens; nothing here can fail on content.
 */
#include <stdlib.h>
#include <string.h>

#include "clf_int.h"
#include "mv_clf_context.h"

/* Decode one UTF-8 sequence at s (n bytes left) per RFC 3629 (no overlongs,
 * no surrogates, at most U+10FFFF). Returns its length, or 0 for an invalid
 * byte (the caller skips one byte). */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
  unsigned char c = s[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2, v = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3, v = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4, v = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0u) != 0x80u)
      return 0;
    v = (v << 6) | (s[i] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
    return 0;
  *cp = v;
  return len;
}

static bool is_cjk(uint32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x2FFFF) ||
         (c >= 0x3040 && c <= 0x30FF) || (c >= 0xAC00 && c <= 0xD7AF);
}

/* Word characters, folded: fullwidth ASCII to ASCII, simple case folding
 * for ASCII, Latin-1, Greek and Cyrillic. Returns 0 for a non-word char. */
static uint32_t word_fold(uint32_t c) {
  if (c >= 0xFF10 && c <= 0xFF5A) /* fullwidth digits and letters */
    c -= 0xFEE0;
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))
    return c;
  if (c >= 'A' && c <= 'Z')
    return c + 32;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
    return c + 32;
  if (c >= 0xDF && c <= 0xFF && c != 0xF7)
    return c;
  if (c >= 0x100 && c <= 0x24F)
    return c;
  if (c >= 0x391 && c <= 0x3A9)
    return c + 32;
  if (c >= 0x3AC && c <= 0x3CE)
    return c;
  if (c >= 0x410 && c <= 0x42F)
    return c + 32;
  if (c >= 0x430 && c <= 0x45F)
    return c;
  return 0;
}

static size_t utf8_encode(uint32_t c, unsigned char *o) {
  if (c < 0x80) {
    o[0] = (unsigned char)c;
    return 1;
  }
  if (c < 0x800) {
    o[0] = (unsigned char)(0xC0 | (c >> 6));
    o[1] = (unsigned char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (c >> 12));
    o[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (c & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (c >> 18));
  o[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (c & 0x3F));
  return 4;
}

/* 64-bit FNV-1a (Fowler, Noll, Vo) over the bytes, then the splitmix64
 * finaliser (Steele et al. 2014) so that the low and high bits both mix;
 * kind and context are folded in first so "NEG fever" != "fever". */
uint64_t mv__clf_hash(const void *bytes, size_t len, unsigned kind,
                      unsigned ctx) {
  const unsigned char *p = bytes;
  uint64_t h = 0xcbf29ce484222325ull;
  h = (h ^ (kind & 0xFFu)) * 0x100000001b3ull;
  h = (h ^ (ctx & 0xFFu)) * 0x100000001b3ull;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  /* bit 0 tells word features (kept from one document up) from CJK n-grams
   * (which need min_df documents) without storing the kind */
  h = (h & ~1ull) | (kind == MV_CLF_TOK_WORD || kind == MV_CLF_TOK_BIGRAM);
  return h ? h : 2;
}

#define WORD_MAX 64u /* bytes of a folded word used for hashing */

struct tok_state {
  struct mv_clf_token *out;
  size_t cap, n;
  /* previous word, for bigrams */
  unsigned char prev[WORD_MAX];
  size_t prev_len;
  uint32_t prev_start;
  bool have_prev;
};

static void emit(struct tok_state *st, uint64_t h, uint32_t start, uint32_t len,
                 unsigned kind) {
  if (st->n >= st->cap)
    return;
  struct mv_clf_token *t = &st->out[st->n++];
  t->hash = h;
  t->start = start;
  t->len = len;
  t->kind = (uint8_t)kind;
  t->ctx = MV_CLF_CTX_CURRENT;
}

/* Context of each token (mv_clf_context.h: negated, historical, family,
 * hypothetical spans), recorded in tok->ctx. A negated or family-history
 * token becomes a different feature by mixing the context into its hash,
 * so "no fever" adds the feature NEGATED:fever instead of fever. A token
 * takes the context of its first byte. */
static int mark_context(const char *text, size_t len, struct mv_clf_token *tok,
                        size_t n) {
  uint8_t small[2048], *cx = small;
  if (n == 0)
    return MV_OK;
  if (len > sizeof small && !(cx = malloc(len)))
    return MV_ENOMEM;
  int rc = mv_clf_context_mark(text, len, cx, len);
  if (rc == MV_OK) {
    for (size_t i = 0; i < n; i++) {
      uint8_t c = tok[i].start < len ? cx[tok[i].start] : 0;
      if (c == MV_CLF_CX_CURRENT || c > MV_CLF_CTX_HYPOTHETICAL)
        continue;
      tok[i].ctx = c;
      /* Only negated and family-history mentions become separate features.
       * Re-keying historical and hypothetical spans as well cost 0.3-2.6
       * points of dev accuracy on toyhom_im and dxy, whose texts are
       * dialogues full of "before"/"if" clauses (docs/TRIAGE.md). */
      if (c != MV_CLF_CX_NEGATED && c != MV_CLF_CX_FAMILY)
        continue;
      /* re-key: fold the context into the finished hash (splitmix64
       * increment), keeping bit 0 (word vs CJK) */
      uint64_t h = tok[i].hash ^ (0x9e3779b97f4a7c15ull * c);
      h ^= h >> 31;
      h *= 0xbf58476d1ce4e5b9ull;
      h ^= h >> 29;
      h = (h & ~1ull) | (tok[i].hash & 1);
      tok[i].hash = h ? h : 2;
    }
  }
  if (cx != small)
    free(cx);
  return rc;
}

int mv_clf_tokenize(const char *text, size_t len, struct mv_clf_token *out,
                    size_t cap, size_t *out_n) {
  if ((!text && len) || (!out && cap) || !out_n)
    return MV_EINVAL;
  if (len > MV_LIMIT_CLF_TEXT)
    len = MV_LIMIT_CLF_TEXT;
  const unsigned char *s = (const unsigned char *)text;
  struct tok_state st = {.out = out, .cap = cap};
  /* CJK window: the last three code points with their starts. */
  uint32_t cjk[3], cjk_at[3], cjk_end = 0;
  size_t cjk_run = 0;
  size_t i = 0;
  while (i < len && st.n < cap) {
    uint32_t c;
    size_t l = utf8_decode(s + i, len - i, &c);
    if (l == 0) { /* invalid byte: a separator */
      st.have_prev = false;
      cjk_run = 0;
      i++;
      continue;
    }
    if (is_cjk(c)) {
      st.have_prev = false;
      cjk[0] = cjk[1], cjk[1] = cjk[2], cjk[2] = c;
      cjk_at[0] = cjk_at[1], cjk_at[1] = cjk_at[2], cjk_at[2] = (uint32_t)i;
      cjk_end = (uint32_t)(i + l);
      cjk_run++;
      unsigned char b[12];
      size_t bl = 0;
      for (size_t g = 1; g <= 3 && g <= cjk_run; g++) {
        /* the g-gram ending here: cjk[3-g .. 2] */
        bl = 0;
        for (size_t k = 3 - g; k < 3; k++)
          bl += utf8_encode(cjk[k], b + bl);
        emit(&st, mv__clf_hash(b, bl, MV_CLF_TOK_CJK1 + (unsigned)g - 1, 0),
             cjk_at[3 - g], cjk_end - cjk_at[3 - g],
             MV_CLF_TOK_CJK1 + (unsigned)g - 1);
      }
      i += l;
      continue;
    }
    cjk_run = 0;
    uint32_t f = word_fold(c);
    if (!f) {
      /* whitespace keeps the bigram chain; punctuation breaks it */
      if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x3000))
        st.have_prev = false;
      i += l;
      continue;
    }
    /* a word: fold and collect until a non-word char ('.' and ',' between
     * digits stay inside, as in "38.5") */
    unsigned char w[WORD_MAX + 4];
    size_t wl = 0, nch = 0;
    uint32_t start = (uint32_t)i;
    while (i < len) {
      size_t l2 = utf8_decode(s + i, len - i, &c);
      if (l2 == 0)
        break;
      uint32_t f2 = word_fold(c);
      if (!f2 && (c == '.' || c == ',') && wl > 0 && w[wl - 1] >= '0' &&
          w[wl - 1] <= '9' && i + 1 < len && s[i + 1] >= '0' && s[i + 1] <= '9')
        f2 = '.';
      if (!f2 || is_cjk(c))
        break;
      if (wl + 4 <= WORD_MAX)
        wl += utf8_encode(f2, w + wl);
      nch++;
      i += l2;
    }
    uint32_t wlen = (uint32_t)i - start;
    if (nch < 2) {
      st.have_prev = false;
      continue;
    }
    emit(&st, mv__clf_hash(w, wl, MV_CLF_TOK_WORD, 0), start, wlen,
         MV_CLF_TOK_WORD);
    if (st.have_prev) {
      unsigned char bg[2 * WORD_MAX + 1];
      memcpy(bg, st.prev, st.prev_len);
      bg[st.prev_len] = ' ';
      memcpy(bg + st.prev_len + 1, w, wl);
      emit(&st, mv__clf_hash(bg, st.prev_len + 1 + wl, MV_CLF_TOK_BIGRAM, 0),
           st.prev_start, (uint32_t)i - st.prev_start, MV_CLF_TOK_BIGRAM);
    }
    memcpy(st.prev, w, wl);
    st.prev_len = wl;
    st.prev_start = start;
    st.have_prev = true;
  }
  *out_n = st.n;
  return mark_context(text, len, out, st.n);
}

int mv_clf_detect_lang(const char *text, size_t len) {
  if (!text)
    return MV_CLF_LANG_EN;
  if (len > MV_LIMIT_CLF_TEXT)
    len = MV_LIMIT_CLF_TEXT;
  const unsigned char *s = (const unsigned char *)text;
  size_t cjk = 0, letters = 0, i = 0;
  while (i < len) {
    uint32_t c;
    size_t l = utf8_decode(s + i, len - i, &c);
    if (l == 0) {
      i++;
      continue;
    }
    if (is_cjk(c))
      cjk++, letters++;
    else if (word_fold(c) && !(c >= '0' && c <= '9'))
      letters++;
    i += l;
  }
  /* a CJK character carries about as much as a short Latin word, so weigh
   * it 3x against single letters */
  return (letters && cjk * 3 * 10 >= (letters - cjk + cjk * 3) * 3)
             ? MV_CLF_LANG_ZH
             : MV_CLF_LANG_EN;
}
