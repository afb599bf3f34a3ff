/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private interface shared by the triage safety files (context.c,
 * redflag.c, redflag_table.c, advice.c, triage.c): the normalised view of a
 * text with its per-byte context and clause ids, and the phrase matcher the
 * context rules and the red-flag table both use.
 */
#ifndef MV_CLF_SAFETY_INT_H
#define MV_CLF_SAFETY_INT_H

#include "mv_clf_context.h"
#include "mv_clf_redflag.h"

/* A text normalised for matching: ASCII lower-cased, apostrophes dropped,
 * full-width forms folded, CJK punctuation mapped to ASCII, whitespace runs
 * collapsed to one space, invalid UTF-8 bytes turned into spaces. */
struct mv__cx_doc {
  char *norm; /* NUL-terminated, nlen bytes */
  size_t nlen;
  uint32_t *n2o;     /* norm byte -> offset of its source byte */
  uint32_t *o2n;     /* source byte -> norm byte (olen entries) */
  size_t olen;       /* source bytes analysed */
  uint8_t *cx;       /* per norm byte: enum mv_clf_cx */
  uint32_t *clause;  /* per norm byte: hard clause id */
  uint32_t *sclause; /* per norm byte: clause id counting soft boundaries */
  uint32_t *lclause; /* per norm byte: clause id ignoring commas */
};

/* Build the view and mark contexts. MV_OK, MV_EINVAL, MV_ENOMEM. */
int mv__cx_doc_init(struct mv__cx_doc *d, const char *text, size_t len);
void mv__cx_doc_release(struct mv__cx_doc *d);

/*
 * Match pattern pat at norm[pos]. Pattern syntax: literal bytes; an ASCII
 * alphanumeric first byte needs a word boundary before it, an ASCII
 * alphanumeric last byte one after it unless the pattern ends in '*'
 * (prefix). "a..b" means a, then b after a gap of at most 40 bytes inside
 * the same hard clause, the gap holding no negation word; "a!b|c" means a not
 * directly followed by b or c (no gap allowed then). Returns the
 * matched length, 0 when no match.
 */
size_t mv__cx_match(const struct mv__cx_doc *d, size_t pos, const char *pat);

/* Sentence bounds [*from, *to) around norm byte pos (. ! ? newline). */
void mv__cx_sentence(const struct mv__cx_doc *d, size_t pos, size_t *from,
                     size_t *to);

/* True when any pattern of the NULL-terminated list occurs in norm[from,to). */
bool mv__cx_contains(const struct mv__cx_doc *d, size_t from, size_t to,
                     const char *const *pats);

/* A first-character index over n patterns (phrase.c). Build once; then
 * read-only. */
struct mv__pkey {
  uint32_t cp;  /* first code point an alternative of the pattern starts with */
  uint32_t pat; /* index into pats */
  uint32_t cp2; /* the literal code point after cp, 0 when not fixed */
  uint32_t cp_len; /* UTF-8 length of cp */
};
struct mv__pset {
  const char *const *pats;
  size_t n;
  struct mv__pkey *keys; /* sorted by cp; built by mv__pset_build */
  size_t nkeys;
  /* First code point -> its run [lo, hi) of keys: open addressing, linear
   * probing, hmask + 1 slots (a power of two, at most half full); an empty
   * slot has cp UINT32_MAX. Built by mv__pset_build. */
  struct mv__pslot {
    uint32_t cp, lo, hi;
  } * slots;
  size_t hmask;
  /* A one-hash Bloom filter over the first code points (fmask + 1 bits, at
   * least 32 per code point): most text positions start no pattern, and one
   * bit test rejects them before the table probe. Built by mv__pset_build. */
  uint64_t *filter;
  uint32_t fmask;
};
int mv__pset_build(struct mv__pset *s);
/* Keys [*lo, *hi) whose patterns may match at norm[pos]. */
void mv__pset_at(const struct mv__pset *s, const struct mv__cx_doc *d,
                 size_t pos, size_t *lo, size_t *hi);
/* False when key k cannot match at norm[pos] (its second code point
 * differs): a cheap reject before mv__cx_match. */
static inline bool mv__pkey_may(const struct mv__pkey *k,
                                const struct mv__cx_doc *d, size_t pos) {
  if (!k->cp2)
    return true;
  size_t q = pos + k->cp_len;
  if (q >= d->nlen)
    return false;
  const unsigned char *s = (const unsigned char *)d->norm + q;
  uint32_t c = s[0];
  if (c >= 0xe0 && c < 0xf0 && q + 2 < d->nlen)
    c = ((c & 0x0fu) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
  else if (c >= 0xc0 && c < 0xe0 && q + 1 < d->nlen)
    c = ((c & 0x1fu) << 6) | (s[1] & 0x3fu);
  else if (c >= 0x80)
    return true; /* 4-byte or invalid: let the matcher decide */
  return c == k->cp2;
}
/* Length of the first pattern matching at pos (0 if none); *which = its
 * index (which may be NULL). */
size_t mv__pset_match(const struct mv__pset *s, const struct mv__cx_doc *d,
                      size_t pos, size_t *which);
bool mv__pset_contains(const struct mv__pset *s, const struct mv__cx_doc *d,
                       size_t from, size_t to);

/* Context rules (context_rules.c). */
enum { MV__DIR_FWD = 1, MV__DIR_BWD = 2, MV__DIR_BOTH = 3 };
enum {
  MV__F_FAMREL = 1, /* a relative: family only with a family marker in clause */
  MV__F_NEVER =
      2, /* cancelled by an intensity phrase ("never had pain like this") */
  MV__F_SOFT = 4, /* scope ends at soft boundaries too ("and", "然后") */
  MV__F_LIST = 8, /* scope runs on over commas ("denies fever, chest pain") */
};

struct mv__cx_trig {
  const char *pat;
  uint8_t cx;
  uint8_t dir;
  uint8_t win; /* scope in units (ASCII words or CJK characters), 0 = clause */
  uint8_t flags;
};

extern const struct mv__cx_trig mv__cx_trigs[];
extern const size_t mv__cx_trigs_len;
extern const char *const mv__cx_pseudo[]; /* mv__cx_pseudo_len entries */
extern const size_t mv__cx_pseudo_len;
/* NULL-terminated lists */
extern const char *const mv__cx_recency[];
extern const char *const mv__cx_fam_marker[];
extern const char *const mv__cx_never_cancel[];
extern const char *const mv__cx_hard_words[];
extern const char *const mv__cx_soft_words[];

/* The red-flag rule table (redflag_table.c). */
struct mv__rf_row {
  int cat;                     /* enum mv_clf_rf_cat */
  const char *const *cues;     /* NULL-terminated; any one matches */
  const char *const *require;  /* NULL, or one of these in the same sentence */
  const char *const *suppress; /* NULL, or none of these in the sentence */
  const char *const *severe;   /* overrides suppress when in the sentence */
  const char *source;          /* citation */
};
extern const struct mv__rf_row mv__rf_table[];
extern const size_t mv__rf_table_len;

#endif
