/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A first-character index over a list of phrase patterns (safety_int.h), so
 * that the context rules and the red-flag table try at each position only
 * the few patterns that can start there instead of all of them. Built once
 * per process; read-only afterwards, so lookups are thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "safety_int.h"

/* The first code point of s (ASCII byte or a UTF-8 sequence; 0 if none). */
static uint32_t first_cp(const unsigned char *s, size_t n) {
  if (n == 0)
    return 0;
  unsigned char c = s[0];
  if (c < 0x80)
    return c;
  size_t need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
  uint32_t v = c & (need == 2 ? 0x1f : need == 3 ? 0x0f : 0x07);
  for (size_t k = 1; k < need; k++) {
    if (k >= n || (s[k] & 0xc0) != 0x80)
      return c; /* invalid: the lead byte stands for itself */
    v = (v << 6) | (s[k] & 0x3f);
  }
  return v;
}

static size_t cp_bytes(unsigned char c) {
  return c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
}

/* The key of the alternative a[0..n) of pattern index i: its first code
 * point and, when the next one is a plain literal (not a gap, choice,
 * prefix or exclusion), that one too. */
static struct mv__pkey key_of(const char *a, size_t n, uint32_t i) {
  const unsigned char *u = (const unsigned char *)a;
  struct mv__pkey k = {first_cp(u, n), i, 0, 0};
  size_t l = n ? cp_bytes(u[0]) : 0;
  k.cp_len = (uint32_t)l;
  if (l < n && !strchr("{}|.!*", a[l]) && (l + 1 >= n || a[l + 1] != '*')) {
    size_t l2 = cp_bytes(u[l]);
    if (l + l2 <= n && (u[l] >= 0x80 || l2 == 1)) {
      bool ok = true;
      for (size_t j = l; j < l + l2; j++)
        ok &= !strchr("{}|.!*", a[j]);
      if (ok)
        k.cp2 = first_cp(u + l, l2);
    }
  }
  return k;
}

static uint32_t filter_bit(uint32_t cp, uint32_t fmask) {
  return ((cp * 2246822519u) >> 7) & fmask;
}

static int cmp_key(const void *a, const void *b) {
  const struct mv__pkey *x = a, *y = b;
  if (x->cp != y->cp)
    return x->cp < y->cp ? -1 : 1;
  if (x->pat != y->pat)
    return x->pat < y->pat ? -1 : 1;
  return x->cp2 < y->cp2 ? -1 : x->cp2 > y->cp2;
}

/* Same first code point and pattern: one key suffices, without the
 * second-code-point filter when the two alternatives differ there. */
static bool same_pat(const struct mv__pkey *x, const struct mv__pkey *y) {
  return x->cp == y->cp && x->pat == y->pat;
}

int mv__pset_build(struct mv__pset *s) {
  size_t cap = 0;
  for (size_t i = 0; i < s->n; i++)
    cap += 1 + (s->pats[i][0] == '{' ? strlen(s->pats[i]) : 0);
  s->keys = malloc((cap ? cap : 1) * sizeof *s->keys);
  if (!s->keys)
    return MV_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < s->n; i++) {
    const char *p = s->pats[i];
    if (p[0] != '{') {
      s->keys[k++] = key_of(p, strlen(p), (uint32_t)i);
      continue;
    }
    const char *close = strchr(p, '}');
    for (const char *a = p + 1; close && a < close;) {
      const char *bar = memchr(a, '|', (size_t)(close - a));
      const char *ae = bar ? bar : close;
      /* inside a choice only the alternative itself is known */
      s->keys[k++] = key_of(a, (size_t)(ae - a), (uint32_t)i);
      a = ae + 1;
    }
  }
  qsort(s->keys, k, sizeof *s->keys, cmp_key);
  size_t w = 0; /* drop duplicates (two alternatives, one first letter) */
  for (size_t i = 0; i < k; i++) {
    if (w > 0 && same_pat(&s->keys[w - 1], &s->keys[i])) {
      if (s->keys[w - 1].cp2 != s->keys[i].cp2)
        s->keys[w - 1].cp2 = 0;
      continue;
    }
    s->keys[w++] = s->keys[i];
  }
  s->nkeys = w;
  /* The per-position lookup is the hot path of context marking (every
   * character of every text): index each first code point's run of keys
   * in a small hash table instead of a binary search per character. */
  size_t slots = 16;
  while (slots < 2 * w + 2)
    slots *= 2;
  s->slots = malloc(slots * sizeof *s->slots);
  if (!s->slots)
    return MV_ENOMEM;
  for (size_t i = 0; i < slots; i++)
    s->slots[i].cp = UINT32_MAX;
  s->hmask = slots - 1;
  size_t fbits = 256;
  while (fbits < 32 * w)
    fbits *= 2;
  s->filter = calloc(fbits / 64, sizeof *s->filter);
  if (!s->filter)
    return MV_ENOMEM;
  s->fmask = (uint32_t)(fbits - 1);
  for (size_t i = 0; i < w; i++) {
    uint32_t b = filter_bit(s->keys[i].cp, s->fmask);
    s->filter[b / 64] |= (uint64_t)1 << (b % 64);
  }
  for (size_t i = 0; i < w;) {
    size_t e = i;
    while (e < w && s->keys[e].cp == s->keys[i].cp)
      e++;
    size_t h = (s->keys[i].cp * 2654435761u) & s->hmask;
    while (s->slots[h].cp != UINT32_MAX)
      h = (h + 1) & s->hmask;
    s->slots[h] = (struct mv__pslot){s->keys[i].cp, (uint32_t)i, (uint32_t)e};
    i = e;
  }
  return MV_OK;
}

void mv__pset_at(const struct mv__pset *s, const struct mv__cx_doc *d,
                 size_t pos, size_t *lo, size_t *hi) {
  *lo = *hi = 0;
  if (pos >= d->nlen || !s->keys)
    return;
  unsigned char c = (unsigned char)d->norm[pos],
                prev = pos ? (unsigned char)d->norm[pos - 1] : ' ';
  bool an = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  bool pan = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
  if (an && pan) /* patterns starting with a letter need a word start */
    return;
  uint32_t cp = first_cp((const unsigned char *)d->norm + pos, d->nlen - pos);
  if (!s->slots)
    return;
  uint32_t fb = filter_bit(cp, s->fmask);
  if (!(s->filter[fb / 64] >> (fb % 64) & 1))
    return;
  for (size_t h = (cp * 2654435761u) & s->hmask;; h = (h + 1) & s->hmask) {
    if (s->slots[h].cp == cp) {
      *lo = s->slots[h].lo;
      *hi = s->slots[h].hi;
      return;
    }
    if (s->slots[h].cp == UINT32_MAX) /* no pattern starts with cp */
      return;
  }
}

size_t mv__pset_match(const struct mv__pset *s, const struct mv__cx_doc *d,
                      size_t pos, size_t *which) {
  size_t lo, hi;
  mv__pset_at(s, d, pos, &lo, &hi);
  for (size_t i = lo; i < hi; i++) {
    if (!mv__pkey_may(&s->keys[i], d, pos))
      continue;
    size_t l = mv__cx_match(d, pos, s->pats[s->keys[i].pat]);
    if (l) {
      if (which)
        *which = s->keys[i].pat;
      return l;
    }
  }
  return 0;
}

bool mv__pset_contains(const struct mv__pset *s, const struct mv__cx_doc *d,
                       size_t from, size_t to) {
  for (size_t i = from; i < to && i < d->nlen; i++)
    if (((unsigned char)d->norm[i] & 0xc0) != 0x80 &&
        mv__pset_match(s, d, i, NULL))
      return true;
  return false;
}
