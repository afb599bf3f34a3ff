/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Finds lexicon concepts mentioned in current context in a patient's text.
 * Cue phrases are indexed by their first three bytes so one pass over the
 * text touches only the cues that can start at each position. A mention
 * counts only when the context rules of mv_clf_context.h (NegEx-style
 * triggers and clause scopes; Chapman et al. 2001, J Biomed Inform 34:301)
 * mark the first byte of its cue current: "no fever", "没有发烧", "my father
 * had a stroke", "十年前中风过" do not count.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "inquiry_int.h"
#include "mv_clf_context.h"
#include "mv_clf_inquiry.h"

#define IDX_BUCKETS 4096u
#define IDX_MAX_CUES 2048u

struct cue {
  const char *s;
  uint16_t concept;
  uint8_t len;
  uint8_t word; /* English: must start at a word boundary */
  uint16_t next;
};

static struct {
  uint16_t head[IDX_BUCKETS]; /* 1-based index into cues, 0 = empty */
  struct cue cues[IDX_MAX_CUES];
  size_t n;
} g_idx;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static unsigned char lower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static int is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static unsigned key3(const unsigned char *p) {
  unsigned h = (unsigned)lower(p[0]) * 31u * 31u + (unsigned)lower(p[1]) * 31u +
               (unsigned)lower(p[2]);
  return (h ^ (h >> 11)) % IDX_BUCKETS;
}

static void add_list(const char *list, uint16_t concept, uint8_t word) {
  const char *p = list;
  while (*p) {
    const char *e = strchr(p, '|');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= 3 && len < 255 && g_idx.n < IDX_MAX_CUES) {
      struct cue *c = &g_idx.cues[g_idx.n];
      c->s = p;
      c->len = (uint8_t)len;
      c->concept = concept;
      c->word = word;
      unsigned k = key3((const unsigned char *)p);
      c->next = g_idx.head[k];
      g_idx.n++;
      g_idx.head[k] = (uint16_t)g_idx.n;
    }
    if (!e)
      break;
    p = e + 1;
  }
}

static void build_index(void) {
  for (size_t i = 0; i < mv__inq_lexicon_n; i++) {
    add_list(mv__inq_lexicon[i].cues_en, (uint16_t)i, 1);
    add_list(mv__inq_lexicon[i].cues_zh, (uint16_t)i, 0);
  }
}

/* Case-insensitive (ASCII) match of needle (lower case) at t. */
static int match_at(const unsigned char *t, size_t avail, const char *needle,
                    size_t n) {
  if (n > avail)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower(t[i]) != (unsigned char)needle[i])
      return 0;
  return 1;
}

static int word_start(const unsigned char *t, size_t i) {
  return i == 0 || !is_alnum(t[i - 1]);
}

/* Mark concepts with a cue whose first byte has context want. */
static size_t detect(const char *text, size_t len, uint8_t *present,
                     uint8_t want) {
  pthread_once(&g_once, build_index);
  if (!present)
    return 0;
  memset(present, 0, mv__inq_lexicon_n);
  if (!text)
    return 0;
  if (len > MV_LIMIT_CLF_INQ_TEXT)
    len = MV_LIMIT_CLF_INQ_TEXT;
  const unsigned char *t = (const unsigned char *)text;
  uint8_t *cx = malloc(len ? len : 1);
  size_t found = 0;
  /* Without the context marks a mention cannot be trusted: report none. */
  if (!cx || mv_clf_context_mark(text, len, cx, len) != MV_OK)
    goto out;
  for (size_t i = 0; i + 3 <= len; i++) {
    if (cx[i] != want)
      continue;
    uint16_t ci = g_idx.head[key3(t + i)];
    while (ci) {
      const struct cue *c = &g_idx.cues[ci - 1];
      ci = c->next;
      if (present[c->concept])
        continue;
      if (c->word && !word_start(t, i))
        continue;
      if (!match_at(t + i, len - i, c->s, c->len))
        continue;
      present[c->concept] = 1;
      found++;
    }
  }
out:
  free(cx);
  return found;
}

size_t mv_clf_lexicon_detect(const char *text, size_t len, uint8_t *present) {
  return detect(text, len, present, MV_CLF_CX_CURRENT);
}

size_t mv_clf_lexicon_detect_negated(const char *text, size_t len,
                                     uint8_t *negated) {
  return detect(text, len, negated, MV_CLF_CX_NEGATED);
}

size_t mv_clf_lexicon_size(void) {
  return mv__inq_lexicon_n;
}

const char *mv_clf_lexicon_id(size_t i) {
  return i < mv__inq_lexicon_n ? mv__inq_lexicon[i].id : NULL;
}

const char *mv_clf_lexicon_question(size_t i, enum mv_clf_inq_lang lang) {
  if (i >= mv__inq_lexicon_n)
    return NULL;
  return lang == MV_CLF_INQ_ZH ? mv__inq_lexicon[i].q_zh
                               : mv__inq_lexicon[i].q_en;
}

const char *mv_clf_lexicon_name(size_t i, enum mv_clf_inq_lang lang) {
  if (i >= mv__inq_lexicon_n)
    return NULL;
  return lang == MV_CLF_INQ_ZH ? mv__inq_lexicon[i].name_zh
                               : mv__inq_lexicon[i].name_en;
}
