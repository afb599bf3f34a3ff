/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse admin`: accounts, devices and the site key, from the command
 * line, with the server stopped or running on the same data directory (the
 * store serialises with the server through SQLite's locks). Passwords and
 * device secrets are read from standard input, never from arguments (which
 * other users can see in the process list), hashed with Argon2id, and wiped
 * from memory after use.
 *
 * Each subcommand is one row of a table: its words, its one positional
 * argument, the flags it accepts and the function that runs it. Flags come
 * through cli_load_config(), so --data-dir can also come from a config file
 * or MEDVERSE_DATA_DIR as for the other commands.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "mv_auth.h"
#include "mv_rand.h"
#include "mv_store.h"

/* Values of the subcommand flags (borrowed from argv). */
struct admin_opts {
  const char *role, *password_stdin, *fhir_id, *org, *patient;
};

enum {
  F_ROLE = 1 << 0,
  F_PASSWORD_STDIN = 1 << 1,
  F_FHIR_ID = 1 << 2,
  F_ORG = 1 << 3,
  F_PATIENT = 1 << 4,
};

struct flag_def {
  unsigned bit;
  struct cli_flag f; /* out_value is filled in per run */
  const char *label; /* "--role ROLE" for the help */
};

static const struct flag_def flag_defs[] = {
    {F_ROLE,
     {"role", true,
      "patient, clinician, admin, auditor or public-health (required)", NULL},
     "role ROLE"},
    {F_PASSWORD_STDIN,
     {"password-stdin", false, "read the password from stdin (required)", NULL},
     "password-stdin"},
    {F_FHIR_ID,
     {"fhir-id", true, "Patient or Practitioner id (default: a new UUID)",
      NULL},
     "fhir-id ID"},
    {F_ORG, {"org", true, "Organization id of the account", NULL}, "org ID"},
    {F_PATIENT,
     {"patient", true, "the Patient the device reports for (required)", NULL},
     "patient ID"},
};

struct admin_run {
  const char *cmd; /* "admin user add", for messages */
  const char *arg; /* the positional argument, or NULL */
  struct admin_opts o;
  struct mv_store *store;
};

struct subcommand {
  const char *group, *verb;
  const char *arg_name; /* "USERNAME", "NAME" or NULL */
  unsigned flags;       /* accepted F_* flags */
  const char *brief;    /* one line for the command list */
  const char *summary;
  int (*run)(struct admin_run *r);
};

static int run_user_add(struct admin_run *r);
static int run_user_list(struct admin_run *r);
static int run_user_disable(struct admin_run *r);
static int run_user_passwd(struct admin_run *r);
static int run_device_add(struct admin_run *r);
static int run_key_rotate(struct admin_run *r);

static const struct subcommand subcommands[] = {
    {"user", "add", "USERNAME", F_ROLE | F_PASSWORD_STDIN | F_FHIR_ID | F_ORG,
     "create an account",
     "Create an account. The password is one line on standard input (8 to\n"
     "1024 bytes; the trailing newline is removed). --fhir-id links the\n"
     "account to its Patient (role patient) or Practitioner (clinician); when\n"
     "it is left out for those roles a new id is generated, and the server\n"
     "creates the matching FHIR resource when the account first logs in.\n"
     "Fails with 'user exists' if USERNAME is taken.",
     run_user_add},
    {"user", "list", NULL, 0, "list the accounts",
     "List the accounts: username, role and whether it is disabled (never\n"
     "password hashes).",
     run_user_list},
    {"user", "disable", "USERNAME", 0, "disable an account",
     "Disable an account: it can no longer obtain tokens. Tokens issued\n"
     "before stay valid until they expire.",
     run_user_disable},
    {"user", "passwd", "USERNAME", F_PASSWORD_STDIN,
     "set an account's password",
     "Set a new password (or device secret) for an existing account. The\n"
     "password is one line on standard input (8 to 1024 bytes; the trailing\n"
     "newline is removed).",
     run_user_passwd},
    {"device", "add", "NAME", F_PATIENT,
     "register a device and print its client id and secret",
     "Register a device that may only create Observations for one patient.\n"
     "Prints its client id (NAME) and a new random client secret, once: the\n"
     "secret is stored only as an Argon2id hash. Devices log in with\n"
     "POST /auth/token grant_type=client_credentials.",
     run_device_add},
    {"key", "rotate", NULL, 0, "replace the site key",
     "Replace the site key in the key file and re-wrap every patient key\n"
     "under the new one. Data and tokens stay valid. Back up the new key\n"
     "file with the database.",
     run_key_rotate},
};

static const char admin_note[] =
    "Works with the server stopped or running on the same data directory.";

/* ---- Help ----------------------------------------------------------------
 */

static void print_group_help(FILE *out, const char *group) {
  fprintf(out, "usage: medverse admin %s <command> [flags]\n\ncommands:\n",
          group ? group : "<user|device|key>");
  for (size_t i = 0; i < MV_ARRAY_LEN(subcommands); i++) {
    const struct subcommand *c = &subcommands[i];
    if (group && strcmp(group, c->group) != 0)
      continue;
    char words[64];
    snprintf(words, sizeof(words), "%s %s%s%s", c->group, c->verb,
             c->arg_name ? " " : "", c->arg_name ? c->arg_name : "");
    fprintf(out, "  %-26s %s\n", words, c->brief);
  }
  fprintf(out,
          "\n%s\nRun 'medverse admin %s <command> --help' for its flags.\n",
          admin_note, group ? group : "<group>");
}

static void print_help(const struct subcommand *c) {
  struct mv_config defaults;
  mv_config_init(&defaults);
  printf("usage: medverse admin %s %s%s%s", c->group, c->verb,
         c->arg_name ? " " : "", c->arg_name ? c->arg_name : "");
  for (size_t i = 0; i < MV_ARRAY_LEN(flag_defs); i++)
    if ((c->flags & flag_defs[i].bit) &&
        strstr(flag_defs[i].f.help, "(required)"))
      printf(" --%s", flag_defs[i].label);
  printf(" [--data-dir DIR]\n\n%s\n\nflags:\n", c->summary);
  for (size_t i = 0; i < MV_ARRAY_LEN(flag_defs); i++)
    if (c->flags & flag_defs[i].bit)
      printf("  --%-20s %s\n", flag_defs[i].label, flag_defs[i].f.help);
  printf("  --%-20s %s (default: %s)\n", "data-dir DIR",
         "the data directory of the server", defaults.data_dir);
  printf("  --%-20s %s\n", "config FILE",
         "read configuration from FILE (also MEDVERSE_CONFIG)");
  printf("  --%-20s %s\n", "help", "show this help");
  printf("\n%s\nOther configuration keys (see 'medverse serve --help') are "
         "accepted and ignored.\n",
         admin_note);
}

/* ---- Input checks and password input -------------------------------------
 */

static bool username_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MV_AUTH_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789._@+-",
                s[i]))
      return false;
  return true;
}

/* FHIR id syntax: [A-Za-z0-9\-.]{1,64}. */
static bool fhir_id_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > MV_AUTH_ID_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                "0123456789-.",
                s[i]))
      return false;
  return true;
}

static int usage_error(const struct admin_run *r, const char *msg) {
  fprintf(stderr, "medverse %s: %s (see 'medverse %s --help')\n", r->cmd, msg,
          r->cmd);
  return EXIT_USAGE;
}

static int fail(const struct admin_run *r, const char *msg) {
  fprintf(stderr, "medverse %s: %s\n", r->cmd, msg);
  return 1;
}

static int store_fail(const struct admin_run *r, const char *what, int rc) {
  if (rc == MV_EBUSY)
    fprintf(stderr,
            "medverse %s: %s: the store stayed locked by another process; "
            "try again\n",
            r->cmd, what);
  else
    fprintf(stderr, "medverse %s: %s: %s\n", r->cmd, what, mv_strerror(rc));
  return 1;
}

/* Read one line from standard input into buf (raw read(2), so no stdio
 * buffer keeps a copy). The trailing "\n" (and a "\r" before it) is
 * removed. With a terminal, prompts on stderr and turns echo off.
 * Returns the length, or -1 (nothing read, too long, or a read error). */
static long read_password(char *buf, size_t cap) {
  struct termios saved, quiet;
  bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    fprintf(stderr, "Password: ");
    quiet = saved;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  size_t n = 0;
  bool line = false;
  while (n < cap) {
    ssize_t got = read(STDIN_FILENO, buf + n, 1);
    if (got <= 0)
      break;
    if (buf[n] == '\n') {
      line = true;
      break;
    }
    n++;
  }
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fprintf(stderr, "\n");
  }
  if (!line && n == cap)
    return -1; /* longer than cap */
  if (n > 0 && buf[n - 1] == '\r')
    n--;
  return (long)n;
}

/* The password from stdin, hashed into out. 0, or an exit code. */
static int password_hash_from_stdin(const struct admin_run *r,
                                    char out[MV_AUTH_HASH_LEN]) {
  char pw[MV_AUTH_PASSWORD_MAX + 2];
  long n = read_password(pw, sizeof(pw));
  int code = 0;
  if (n < (long)MV_AUTH_PASSWORD_MIN || n > (long)MV_AUTH_PASSWORD_MAX) {
    code = usage_error(r, "the password on standard input must be one line "
                          "of 8 to 1024 bytes");
  } else {
    int rc = mv_auth_password_hash(pw, (size_t)n, out);
    if (rc != MV_OK)
      code = fail(r, mv_strerror(rc));
  }
  sodium_memzero(pw, sizeof(pw));
  return code;
}

/* ---- Subcommands ---------------------------------------------------------
 */

static int get_user(struct admin_run *r, struct mv_store_user *u) {
  int rc = mv_store_user_get(r->store, r->arg, u);
  if (rc == MV_ENOTFOUND)
    return fail(r, "no such user");
  if (rc != MV_OK)
    return store_fail(r, "cannot read the account", rc);
  return 0;
}

/* 0 if USERNAME is free, else an exit code. */
static int check_free(struct admin_run *r) {
  struct mv_store_user u;
  int rc = mv_store_user_get(r->store, r->arg, &u);
  sodium_memzero(u.pw_hash, sizeof(u.pw_hash));
  if (rc == MV_OK)
    return fail(r, "user exists");
  if (rc != MV_ENOTFOUND)
    return store_fail(r, "cannot read the account", rc);
  return 0;
}

static int put_user(struct admin_run *r, struct mv_store_user *u) {
  int rc = mv_store_user_put(r->store, u);
  sodium_memzero(u->pw_hash, sizeof(u->pw_hash));
  return rc == MV_OK ? 0 : store_fail(r, "cannot save the account", rc);
}

static int run_user_add(struct admin_run *r) {
  struct mv_store_user u;
  enum mv_auth_role role;
  int code;
  memset(&u, 0, sizeof(u));
  if (!r->o.role)
    return usage_error(r, "--role is required");
  if (mv_auth_role_parse(r->o.role, &role) != MV_OK ||
      role == MV_AUTH_ROLE_DEVICE)
    return usage_error(r, role == MV_AUTH_ROLE_DEVICE
                              ? "devices are added with 'medverse admin "
                                "device add'"
                              : "--role must be patient, clinician, admin, "
                                "auditor or public-health");
  if (!r->o.password_stdin)
    return usage_error(r, "--password-stdin is required");
  if (r->o.fhir_id && !fhir_id_ok(r->o.fhir_id))
    return usage_error(r, "--fhir-id must be 1 to 64 of A-Z a-z 0-9 - .");
  if (r->o.org && !fhir_id_ok(r->o.org))
    return usage_error(r, "--org must be 1 to 64 of A-Z a-z 0-9 - .");
  if ((code = check_free(r)) != 0)
    return code;

  snprintf(u.username, sizeof(u.username), "%s", r->arg);
  snprintf(u.role, sizeof(u.role), "%s", mv_auth_role_name(role));
  if (r->o.fhir_id)
    snprintf(u.fhir_id, sizeof(u.fhir_id), "%s", r->o.fhir_id);
  else if ((role == MV_AUTH_ROLE_PATIENT || role == MV_AUTH_ROLE_CLINICIAN) &&
           mv_uuid4(u.fhir_id) != MV_OK)
    return fail(r, "no randomness for a new id");
  if (r->o.org)
    snprintf(u.org_id, sizeof(u.org_id), "%s", r->o.org);
  if ((code = password_hash_from_stdin(r, u.pw_hash)) != 0)
    return code;
  if ((code = put_user(r, &u)) != 0)
    return code;
  const char *type = role == MV_AUTH_ROLE_PATIENT     ? "Patient/"
                     : role == MV_AUTH_ROLE_CLINICIAN ? "Practitioner/"
                                                      : "";
  if (u.fhir_id[0])
    printf("user %s added (role %s, %s%s)\n", u.username, u.role, type,
           u.fhir_id);
  else
    printf("user %s added (role %s)\n", u.username, u.role);
  return 0;
}

static int print_user(void *ctx, const struct mv_store_user *u) {
  (void)ctx;
  printf("%-32s %-10s %s\n", u->username, u->role,
         u->disabled ? "disabled" : "active");
  return 0;
}

static int run_user_list(struct admin_run *r) {
  printf("%-32s %-10s %s\n", "USERNAME", "ROLE", "STATUS");
  int rc = mv_store_user_list(r->store, print_user, NULL);
  return rc == MV_OK ? 0 : store_fail(r, "cannot list the accounts", rc);
}

static int run_user_disable(struct admin_run *r) {
  struct mv_store_user u;
  int code = get_user(r, &u);
  if (code != 0)
    return code;
  if (u.disabled) {
    sodium_memzero(u.pw_hash, sizeof(u.pw_hash));
    printf("user %s is already disabled\n", u.username);
    return 0;
  }
  u.disabled = true;
  if ((code = put_user(r, &u)) != 0)
    return code;
  printf("user %s disabled\n", u.username);
  return 0;
}

static int run_user_passwd(struct admin_run *r) {
  struct mv_store_user u;
  if (!r->o.password_stdin)
    return usage_error(r, "--password-stdin is required");
  int code = get_user(r, &u);
  if (code != 0)
    return code;
  if ((code = password_hash_from_stdin(r, u.pw_hash)) != 0 ||
      (code = put_user(r, &u)) != 0) {
    sodium_memzero(u.pw_hash, sizeof(u.pw_hash));
    return code;
  }
  printf("password changed for %s\n", u.username);
  return 0;
}

static int run_device_add(struct admin_run *r) {
  struct mv_store_user u;
  uint8_t raw[32];
  char secret[64];
  int code;
  memset(&u, 0, sizeof(u));
  if (!r->o.patient)
    return usage_error(r, "--patient is required");
  if (!fhir_id_ok(r->o.patient))
    return usage_error(r, "--patient must be 1 to 64 of A-Z a-z 0-9 - .");
  if ((code = check_free(r)) != 0)
    return code;
  if (mv_random_bytes(raw, sizeof(raw)) != MV_OK)
    return fail(r, "no randomness for a secret");
  sodium_bin2base64(secret, sizeof(secret), raw, sizeof(raw),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof(raw));
  snprintf(u.username, sizeof(u.username), "%s", r->arg);
  snprintf(u.role, sizeof(u.role), "%s",
           mv_auth_role_name(MV_AUTH_ROLE_DEVICE));
  snprintf(u.fhir_id, sizeof(u.fhir_id), "%s", r->o.patient);
  int rc = mv_auth_password_hash(secret, strlen(secret), u.pw_hash);
  if (rc != MV_OK)
    code = fail(r, mv_strerror(rc));
  else if ((code = put_user(r, &u)) == 0) {
    printf("client_id: %s\nclient_secret: %s\n", u.username, secret);
    fflush(stdout);
    fprintf(stderr, "Store the client secret now: it cannot be shown again.\n");
  }
  sodium_memzero(secret, sizeof(secret));
  return code;
}

static int run_key_rotate(struct admin_run *r) {
  struct mv_diag d;
  char msg[512];
  mv_diag_clear(&d);
  int rc = mv_store_rotate_site_key(r->store, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse %s: cannot rotate the site key: %s\n", r->cmd,
            d.msg[0] ? mv_diag_format(&d, msg, sizeof(msg)) : mv_strerror(rc));
    return 1;
  }
  printf("site key rotated\n");
  return 0;
}

/* ---- Dispatch ------------------------------------------------------------
 */

static bool is_help(const char *a) {
  return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
         strcmp(a, "help") == 0;
}

/* Does flag argument `a` ("--name" without "=") consume the next argument
 * as its value? The subcommand's own flags say; configuration keys all take
 * a value except log-json. */
static bool takes_value(const char *a) {
  const char *name = a + 2;
  if (strchr(name, '='))
    return false;
  for (size_t i = 0; i < MV_ARRAY_LEN(flag_defs); i++)
    if (strcmp(name, flag_defs[i].f.name) == 0)
      return flag_defs[i].f.takes_value;
  return strcmp(name, "log-json") != 0;
}

static int run_subcommand(const struct subcommand *c, int argc, char **argv) {
  char cmd[64];
  snprintf(cmd, sizeof(cmd), "admin %s %s", c->group, c->verb);
  struct admin_run r = {.cmd = cmd};
  struct cli_flag extra[MV_ARRAY_LEN(flag_defs)];
  size_t n_extra = 0;
  const char **outs[] = {&r.o.role, &r.o.password_stdin, &r.o.fhir_id, &r.o.org,
                         &r.o.patient};
  _Static_assert(MV_ARRAY_LEN(outs) == MV_ARRAY_LEN(flag_defs),
                 "one output per flag");
  for (size_t i = 0; i < MV_ARRAY_LEN(flag_defs); i++)
    if (c->flags & flag_defs[i].bit) {
      extra[n_extra] = flag_defs[i].f;
      extra[n_extra++].out_value = outs[i];
    }

  /* Take the positional argument out; the rest are flags for the loader. */
  char **rest = calloc((size_t)argc + 1, sizeof(*rest));
  int n_rest = 0, code;
  if (!rest)
    return fail(&r, "out of memory");
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      print_help(c);
      free(rest);
      return 0;
    }
    if (strncmp(a, "--", 2) == 0 && a[2]) {
      rest[n_rest++] = argv[i];
      if (takes_value(a) && i + 1 < argc)
        rest[n_rest++] = argv[++i];
    } else if (c->arg_name && !r.arg) {
      r.arg = a;
    } else {
      rest[n_rest++] = argv[i]; /* the loader reports it */
    }
  }
  struct mv_config cfg;
  bool help = false;
  code = cli_load_config(cmd, n_rest, rest, &cfg, extra, n_extra, c->summary,
                         &help);
  free(rest);
  if (code || help)
    return code;
  if (c->arg_name && !r.arg) {
    char msg[64];
    snprintf(msg, sizeof(msg), "missing %s", c->arg_name);
    return usage_error(&r, msg);
  }
  if (r.arg && !username_ok(r.arg)) {
    char msg[128];
    snprintf(msg, sizeof(msg), "%s must be 1 to 64 of A-Z a-z 0-9 . _ @ + -",
             c->arg_name);
    return usage_error(&r, msg);
  }
  cli_apply_logging(&cfg);
  if (sodium_init() < 0)
    return fail(&r, "libsodium failed to initialise");

  struct mv_store_opts so = {
      .url = cfg.data_dir,
      .key_file = cfg.site_key_file[0] ? cfg.site_key_file : NULL};
  struct mv_diag d;
  char msg[512];
  mv_diag_clear(&d);
  int rc = mv_store_open(&so, &r.store, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse %s: cannot open the store in %s: %s\n", cmd,
            cfg.data_dir, mv_diag_format(&d, msg, sizeof(msg)));
    return 1;
  }
  code = c->run(&r);
  mv_store_close(r.store);
  return code;
}

int cmd_admin(int argc, char **argv) {
  if (argc < 1 || is_help(argv[0])) {
    print_group_help(argc < 1 ? stderr : stdout, NULL);
    return argc < 1 ? EXIT_USAGE : 0;
  }
  const char *group = argv[0];
  bool group_known = false;
  for (size_t i = 0; i < MV_ARRAY_LEN(subcommands); i++)
    group_known |= strcmp(subcommands[i].group, group) == 0;
  if (!group_known) {
    fprintf(stderr,
            "medverse admin: unknown command '%s' (see 'medverse admin "
            "--help')\n",
            group);
    return EXIT_USAGE;
  }
  if (argc < 2 || is_help(argv[1])) {
    print_group_help(argc < 2 ? stderr : stdout, group);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  for (size_t i = 0; i < MV_ARRAY_LEN(subcommands); i++)
    if (strcmp(subcommands[i].group, group) == 0 &&
        strcmp(subcommands[i].verb, argv[1]) == 0)
      return run_subcommand(&subcommands[i], argc - 2, argv + 2);
  fprintf(stderr,
          "medverse admin %s: unknown command '%s' (see 'medverse admin %s "
          "--help')\n",
          group, argv[1], group);
  return EXIT_USAGE;
}
