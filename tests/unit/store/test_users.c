/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Accounts in the store: the FHIR links (fhir_id, org_id), role checks,
 * listing in username order, and account changes made by a second process
 * (the admin CLI) while the first (the server) keeps writing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mv_store.h"
#include "store_fx.h"

static int setup(void **state) {
  return fx_setup(state, "mv-users-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static struct mv_store *open_at(const char *url) {
  return fx_open_url(url, 0, 500, 0, NULL);
}

static struct mv_store_user user(const char *name, const char *role,
                                 const char *fhir_id, const char *org_id) {
  struct mv_store_user u;
  memset(&u, 0, sizeof(u));
  snprintf(u.username, sizeof(u.username), "%s", name);
  snprintf(u.role, sizeof(u.role), "%s", role);
  snprintf(u.pw_hash, sizeof(u.pw_hash), "$argon2id$v=19$m=65536,t=2,p=1$x$y");
  snprintf(u.fhir_id, sizeof(u.fhir_id), "%s", fhir_id);
  snprintf(u.org_id, sizeof(u.org_id), "%s", org_id);
  return u;
}

static void users_keep_fhir_and_org_links(void **state) {
  struct fx *f = *state;
  f->s = open_at(f->url);
  struct mv_store_user u = user("pat1", "patient", "pat-1", "org-a"), got;
  assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  u = user("dev1", "device", "pat-1", "");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  assert_int_equal(mv_store_user_get(f->s, "pat1", &got), MV_OK);
  assert_string_equal(got.role, "patient");
  assert_string_equal(got.fhir_id, "pat-1");
  assert_string_equal(got.org_id, "org-a");
  assert_int_equal(mv_store_user_get(f->s, "dev1", &got), MV_OK);
  assert_string_equal(got.role, "device");
  assert_string_equal(got.fhir_id, "pat-1");
  assert_string_equal(got.org_id, "");
  /* Replacing clears a link. */
  u = user("pat1", "patient", "", "");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  assert_int_equal(mv_store_user_get(f->s, "pat1", &got), MV_OK);
  assert_string_equal(got.fhir_id, "");
  assert_string_equal(got.org_id, "");
}

static void users_reject_bad_role_and_ids(void **state) {
  struct fx *f = *state;
  f->s = open_at(f->url);
  struct mv_store_user u = user("x", "superuser", "", "");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_EINVAL);
  const char *roles[] = {"patient", "clinician", "admin", "auditor", "device"};
  for (size_t i = 0; i < 5; i++) {
    u = user("x", roles[i], "", "");
    assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  }
  u = user("x", "patient", "bad/id", "");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_EINVAL);
  u = user("x", "patient", "", "has space");
  assert_int_equal(mv_store_user_put(f->s, &u), MV_EINVAL);
  u = user("x", "patient", "", "");
  memset(u.fhir_id, 'a', sizeof(u.fhir_id)); /* no NUL */
  assert_int_equal(mv_store_user_put(f->s, &u), MV_EINVAL);
}

struct seen {
  int n, stop_after;
  char names[80][65];
};

static int collect_user(void *ctx, const struct mv_store_user *u) {
  struct seen *s = ctx;
  if (s->n < 80)
    snprintf(s->names[s->n], sizeof(s->names[0]), "%s", u->username);
  s->n++;
  return s->stop_after && s->n >= s->stop_after;
}

static void users_list_in_username_order(void **state) {
  struct fx *f = *state;
  f->s = open_at(f->url);
  struct seen seen = {0};
  assert_int_equal(mv_store_user_list(f->s, collect_user, &seen), MV_OK);
  assert_int_equal(seen.n, 0);
  /* More accounts than one internal page, inserted out of order. */
  char name[32];
  for (int i = 69; i >= 0; i--) {
    snprintf(name, sizeof(name), "user%02d", i);
    struct mv_store_user u = user(name, "clinician", "", "");
    assert_int_equal(mv_store_user_put(f->s, &u), MV_OK);
  }
  assert_int_equal(mv_store_user_list(f->s, collect_user, &seen), MV_OK);
  assert_int_equal(seen.n, 70);
  for (int i = 0; i < 70; i++) {
    snprintf(name, sizeof(name), "user%02d", i);
    assert_string_equal(seen.names[i], name);
  }
  memset(&seen, 0, sizeof(seen));
  seen.stop_after = 3;
  assert_int_equal(mv_store_user_list(f->s, collect_user, &seen), MV_OK);
  assert_int_equal(seen.n, 3);
}

/* A second store on the same directory (what `medverse admin user add` does
 * beside a running server) adds accounts while the first keeps committing
 * writes; both see each other's changes. The child is forked before the
 * parent starts any thread (forking a threaded process leaves locks of
 * other threads, e.g. the sanitizer allocator's, held forever in the
 * child), and starts when the parent's store is up. */
static void users_put_from_second_store_while_first_writes(void **state) {
  struct fx *f = *state;
  int go[2];
  pid_t pid = fx_fork_second(go);
  if (pid == 0) {
    /* The "admin CLI": a separate process, as in production. */
    struct mv_store_opts o = {.url = f->url};
    struct mv_store *s2 = NULL;
    if (mv_store_open(&o, &s2, NULL) != MV_OK)
      _exit(2);
    char name[32];
    for (int i = 0; i < 20; i++) {
      snprintf(name, sizeof(name), "cli%02d", i);
      struct mv_store_user u = user(name, "clinician", "prac-1", "");
      if (mv_store_user_put(s2, &u) != MV_OK)
        _exit(3);
    }
    struct mv_store_record rec;
    if (mv_store_read(s2, "Observation", "w0", 0, &rec) != MV_OK)
      _exit(4); /* the server's data is readable from the CLI's store */
    mv_store_record_release(&rec);
    mv_store_close(s2);
    _exit(0);
  }
  f->s = open_at(f->url);
  struct mv_store_write w = {.op = MV_STORE_CREATE,
                             .type = "Observation",
                             .body = "{\"x\":1}",
                             .body_len = 7,
                             .patient_id = "p1",
                             .date_us = MV_STORE_NO_DATE};
  w.id = "w0";
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  fx_second_go(go);
  int wst = 0;
  bool reaped = false;
  char id[16];
  for (int i = 1; i < 400; i++) {
    snprintf(id, sizeof(id), "w%d", i);
    w.id = id;
    assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
    if (waitpid(pid, &wst, WNOHANG) == pid) {
      reaped = true;
      break;
    }
  }
  fx_second_ok(pid, reaped, wst);
  struct mv_store_user got;
  assert_int_equal(mv_store_user_get(f->s, "cli19", &got), MV_OK);
  assert_string_equal(got.fhir_id, "prac-1");
  struct seen seen = {0};
  assert_int_equal(mv_store_user_list(f->s, collect_user, &seen), MV_OK);
  assert_int_equal(seen.n, 20);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(users_keep_fhir_and_org_links),
      T(users_reject_bad_role_and_ids),
      T(users_list_in_username_order),
      T(users_put_from_second_store_while_first_writes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
