/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for the surveillance tables (src/store/sqlite_epi.c): counts replace
 * per (site, region, disease, day) and sum over sites, alerts are raised
 * once per (series, day, method) and acknowledged once, summaries come back
 * riskiest first, and everything survives closing and reopening.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "store_fx.h"

static int setup(void **state) {
  return fx_setup(state, "mv-epi-store");
}

static struct mv_store_epi *open_epi(struct fx *f) {
  struct mv_store_epi *e = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  if (!f->s)
    f->s = fx_open_url(f->url, 0, 0, 0, NULL);
  int rc = mv_store_epi_open(f->url, &e, &d);
  if (rc != MV_OK)
    fprintf(stderr, "epi open: %s\n", d.msg);
  assert_int_equal(rc, MV_OK);
  return e;
}

static struct mv_store_epi_count count(const char *site, const char *region,
                                       int32_t day, int64_t obs, double pop) {
  struct mv_store_epi_count c;
  memset(&c, 0, sizeof(c));
  snprintf(c.site, sizeof(c.site), "%s", site);
  snprintf(c.region, sizeof(c.region), "%s", region);
  snprintf(c.disease, sizeof(c.disease), "influenza");
  c.day = day;
  c.observed = obs;
  c.population = pop;
  return c;
}

struct days {
  size_t n;
  int32_t day[16];
  int64_t obs[16];
  double pop[16];
};

static int day_visit(void *ctx, int32_t day, int64_t observed,
                     double population) {
  struct days *d = ctx;
  if (d->n < 16) {
    d->day[d->n] = day;
    d->obs[d->n] = observed;
    d->pop[d->n] = population;
    d->n++;
  }
  return 0;
}

static void counts_replace_per_site_and_sum_over_sites(void **state) {
  struct fx *f = *state;
  struct mv_store_epi *e = open_epi(f);
  struct mv_store_epi_count c[] = {
      count("a", "north", 100, 3, 1000),
      count("a", "north", 101, 5, 1000),
      count("b", "north", 101, 7, NAN),
      count("a", "south", 100, 1, NAN),
  };
  size_t replaced = 99;
  assert_int_equal(mv_store_epi_put_counts(e, c, 4, 1, &replaced), MV_OK);
  assert_int_equal(replaced, 0);
  /* The same upload again changes nothing; a corrected one replaces. */
  assert_int_equal(mv_store_epi_put_counts(e, c, 4, 2, &replaced), MV_OK);
  assert_int_equal(replaced, 0);
  c[1].observed = 6;
  assert_int_equal(mv_store_epi_put_counts(e, &c[1], 1, 3, &replaced), MV_OK);
  assert_int_equal(replaced, 1);

  struct days d = {0};
  assert_int_equal(mv_store_epi_series(e, "north", "influenza", day_visit, &d),
                   MV_OK);
  assert_int_equal(d.n, 2);
  assert_int_equal(d.day[0], 100);
  assert_int_equal(d.obs[0], 3);
  assert_int_equal(d.day[1], 101);
  assert_int_equal(d.obs[1], 6 + 7);
  assert_true(d.pop[0] == 1000);
  memset(&d, 0, sizeof(d));
  assert_int_equal(mv_store_epi_series(e, "south", "influenza", day_visit, &d),
                   MV_OK);
  assert_int_equal(d.n, 1);
  assert_true(isnan(d.pop[0]));
  memset(&d, 0, sizeof(d));
  assert_int_equal(mv_store_epi_series(e, "north", "measles", day_visit, &d),
                   MV_OK);
  assert_int_equal(d.n, 0);

  /* Bad input writes nothing. */
  struct mv_store_epi_count bad[] = {count("a", "east", 100, 2, NAN),
                                     count("a", "east", 101, -1, NAN)};
  assert_int_equal(mv_store_epi_put_counts(e, bad, 2, 4, NULL), MV_EINVAL);
  bad[1] = count("a", "ea\nst", 101, 1, NAN);
  assert_int_equal(mv_store_epi_put_counts(e, bad, 2, 4, NULL), MV_EINVAL);
  memset(&d, 0, sizeof(d));
  assert_int_equal(mv_store_epi_series(e, "east", "influenza", day_visit, &d),
                   MV_OK);
  assert_int_equal(d.n, 0);
  mv_store_epi_close(e);
}

struct keys {
  size_t n;
  char region[4][65];
  int64_t n_days[4];
};

static int key_visit(void *ctx, const char *region, const char *disease,
                     int64_t n_days, int32_t first, int32_t last) {
  struct keys *k = ctx;
  (void)disease;
  (void)first;
  (void)last;
  if (k->n < 4) {
    snprintf(k->region[k->n], 65, "%s", region);
    k->n_days[k->n++] = n_days;
  }
  return 0;
}

static int cell_visit(void *ctx, const char *region, int32_t day,
                      int64_t observed) {
  (void)region;
  (void)day;
  *(int64_t *)ctx += observed;
  return 0;
}

static void keys_and_cells_list_what_was_uploaded(void **state) {
  struct fx *f = *state;
  struct mv_store_epi *e = open_epi(f);
  struct mv_store_epi_count c[] = {
      count("a", "north", 10, 3, NAN), count("b", "north", 10, 4, NAN),
      count("a", "north", 11, 5, NAN), count("a", "south", 12, 1, NAN)};
  assert_int_equal(mv_store_epi_put_counts(e, c, 4, 1, NULL), MV_OK);
  struct keys k = {0};
  assert_int_equal(mv_store_epi_keys(e, "influenza", key_visit, &k), MV_OK);
  assert_int_equal(k.n, 2);
  assert_string_equal(k.region[0], "north");
  assert_int_equal(k.n_days[0], 2);
  assert_string_equal(k.region[1], "south");
  memset(&k, 0, sizeof(k));
  assert_int_equal(mv_store_epi_keys(e, "measles", key_visit, &k), MV_OK);
  assert_int_equal(k.n, 0);
  int64_t total = 0;
  assert_int_equal(
      mv_store_epi_cells(e, "influenza", 10, 11, cell_visit, &total), MV_OK);
  assert_int_equal(total, 3 + 4 + 5);
  mv_store_epi_close(e);
}

static struct mv_store_epi_alert alert(const char *region, int32_t day) {
  struct mv_store_epi_alert a;
  memset(&a, 0, sizeof(a));
  snprintf(a.region, sizeof(a.region), "%s", region);
  snprintf(a.disease, sizeof(a.disease), "influenza");
  snprintf(a.method, sizeof(a.method), "ears-c1");
  a.day = day;
  a.observed = 40;
  a.upperbound = 12.5;
  return a;
}

struct alerts {
  size_t n;
  struct mv_store_epi_alert a[4];
};

static int alert_visit(void *ctx, const struct mv_store_epi_alert *a) {
  struct alerts *l = ctx;
  if (l->n < 4)
    l->a[l->n++] = *a;
  return 0;
}

static void alerts_are_raised_once_and_acknowledged_once(void **state) {
  struct fx *f = *state;
  struct mv_store_epi *e = open_epi(f);
  struct mv_store_epi_alert a[2] = {alert("north", 50), alert("south", 50)};
  struct mv_store_epi_summary s[2] = {
      {"north", "influenza", 3.2, "{\"latest\":1}"},
      {"south", "influenza", 0.4, "{}"}};
  assert_int_equal(mv_store_epi_save_run(e, s, 2, a, 2, 1000), MV_OK);
  assert_true(a[0].id > 0);
  assert_true(a[1].id > 0 && a[1].id != a[0].id);
  /* The next run finds the same alarm: not a new alert. */
  struct mv_store_epi_alert again = alert("north", 50);
  assert_int_equal(mv_store_epi_save_run(e, NULL, 0, &again, 1, 2000), MV_OK);
  assert_int_equal(again.id, 0);

  struct alerts l = {0};
  assert_int_equal(mv_store_epi_alerts(e, true, 10, alert_visit, &l), MV_OK);
  assert_int_equal(l.n, 2);
  assert_int_equal(l.a[0].id, a[1].id); /* newest first */
  assert_true(l.a[1].upperbound == 12.5);

  struct mv_store_epi_alert got;
  assert_int_equal(mv_store_epi_alert_ack(e, a[0].id, "epi", 5000, &got),
                   MV_OK);
  assert_string_equal(got.acked_by, "epi");
  assert_int_equal(got.acked_us, 5000);
  /* A second acknowledgement keeps the first. */
  assert_int_equal(mv_store_epi_alert_ack(e, a[0].id, "other", 6000, &got),
                   MV_OK);
  assert_string_equal(got.acked_by, "epi");
  assert_int_equal(mv_store_epi_alert_ack(e, 9999, "epi", 5000, NULL),
                   MV_ENOTFOUND);
  memset(&l, 0, sizeof(l));
  assert_int_equal(mv_store_epi_alerts(e, true, 10, alert_visit, &l), MV_OK);
  assert_int_equal(l.n, 1);
  memset(&l, 0, sizeof(l));
  assert_int_equal(mv_store_epi_alerts(e, false, 10, alert_visit, &l), MV_OK);
  assert_int_equal(l.n, 2);
  mv_store_epi_close(e);
}

struct sums {
  size_t n;
  char region[4][65];
  char json[4][32];
};

static int sum_visit(void *ctx, const char *region, const char *disease,
                     double risk, int64_t run_us, const char *json) {
  struct sums *s = ctx;
  (void)disease;
  (void)risk;
  (void)run_us;
  if (s->n < 4) {
    snprintf(s->region[s->n], 65, "%s", region);
    snprintf(s->json[s->n++], 32, "%s", json);
  }
  return 0;
}

static void everything_survives_a_reopen(void **state) {
  struct fx *f = *state;
  struct mv_store_epi *e = open_epi(f);
  struct mv_store_epi_count c = count("a", "west", 7, 9, NAN);
  assert_int_equal(mv_store_epi_put_counts(e, &c, 1, 1, NULL), MV_OK);
  struct mv_store_epi_summary s[2] = {{"low", "influenza", 0.1, "{\"a\":1}"},
                                      {"high", "influenza", 5, "{\"b\":2}"}};
  assert_int_equal(mv_store_epi_save_run(e, s, 2, NULL, 0, 10), MV_OK);
  assert_int_equal(mv_store_epi_disease_put(e, "influenza", 2.6, 1.5, 10),
                   MV_OK);
  mv_store_epi_close(e);
  mv_store_close(f->s);
  f->s = NULL;

  e = open_epi(f);
  struct days d = {0};
  assert_int_equal(mv_store_epi_series(e, "west", "influenza", day_visit, &d),
                   MV_OK);
  assert_int_equal(d.n, 1);
  assert_int_equal(d.obs[0], 9);
  struct sums l = {0};
  assert_int_equal(mv_store_epi_summaries(e, "influenza", sum_visit, &l),
                   MV_OK);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.region[0], "high");
  assert_string_equal(l.json[0], "{\"b\":2}");
  double m = 0, sd = 0;
  assert_int_equal(mv_store_epi_disease_get(e, "influenza", &m, &sd), MV_OK);
  assert_true(m == 2.6 && sd == 1.5);
  assert_int_equal(mv_store_epi_disease_get(e, "measles", &m, &sd),
                   MV_ENOTFOUND);
  assert_int_equal(mv_store_epi_disease_put(e, "measles", -1, 1, 10),
                   MV_EINVAL);
  mv_store_epi_close(e);
}

static void names_are_bounded_and_printable(void **state) {
  (void)state;
  char long_name[MV_STORE_EPI_NAME + 2];
  memset(long_name, 'x', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  assert_false(mv_store_epi_name_ok(long_name));
  long_name[MV_STORE_EPI_NAME] = '\0';
  assert_true(mv_store_epi_name_ok(long_name));
  assert_false(mv_store_epi_name_ok(""));
  assert_false(mv_store_epi_name_ok(NULL));
  assert_false(mv_store_epi_name_ok("a\tb"));
  assert_true(mv_store_epi_name_ok("Île-de-France"));
}

static void open_needs_a_migrated_store(void **state) {
  struct fx *f = *state;
  struct mv_store_epi *e = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  /* No database yet. */
  assert_int_not_equal(mv_store_epi_open(f->url, &e, &d), MV_OK);
  assert_null(e);
  assert_int_equal(mv_store_epi_open("postgres:x", &e, &d), MV_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          counts_replace_per_site_and_sum_over_sites, setup, fx_teardown),
      cmocka_unit_test_setup_teardown(keys_and_cells_list_what_was_uploaded,
                                      setup, fx_teardown),
      cmocka_unit_test_setup_teardown(
          alerts_are_raised_once_and_acknowledged_once, setup, fx_teardown),
      cmocka_unit_test_setup_teardown(everything_survives_a_reopen, setup,
                                      fx_teardown),
      cmocka_unit_test(names_are_bounded_and_printable),
      cmocka_unit_test_setup_teardown(open_needs_a_migrated_store, setup,
                                      fx_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
