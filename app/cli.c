/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration loading for the subcommands and the usage text generated
 * from the configuration keys, so `--help` and the accepted flags can never
 * disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mv_log.h"

extern char **environ;

static void print_key(void *ctx, const char *key, const char *value,
                      const char *help) {
  FILE *out = ctx;
  fprintf(out, "  --%-22s %s (default: %s)\n", key, help,
          *value ? value : "none");
}

static void usage(const char *cmd, const char *summary,
                  const struct cli_flag *extra, size_t n_extra) {
  struct mv_config defaults;
  mv_config_init(&defaults);
  printf("usage: medverse %s [flags]\n\n%s\n\nflags:\n", cmd, summary);
  printf("  --%-22s %s\n", "config FILE",
         "read configuration from FILE (also MEDVERSE_CONFIG)");
  for (size_t i = 0; i < n_extra; i++)
    printf("  --%-22s %s\n", extra[i].name, extra[i].help);
  mv_config_each(&defaults, print_key, stdout);
  printf("  --%-22s %s\n", "help", "show this help");
  printf("\nPrecedence: defaults < config file < MEDVERSE_<KEY> environment "
         "variables < flags.\nEvery key can be set in each of them, e.g. "
         "data-dir = ./var, MEDVERSE_DATA_DIR=./var, --data-dir ./var.\n");
}

static const struct cli_flag *find_extra(const struct cli_flag *extra, size_t n,
                                         const char *name, size_t name_len) {
  for (size_t i = 0; i < n; i++)
    if (strlen(extra[i].name) == name_len &&
        strncmp(extra[i].name, name, name_len) == 0)
      return &extra[i];
  return NULL;
}

/* Boolean configuration keys may be given without a value. */
static bool is_bool_key(const char *key, size_t len) {
  return len == 8 && strncmp(key, "log-json", 8) == 0;
}

/* TLS needs both files, readable: say so now rather than fail to listen. */
static int check_tls(const char *cmd, const struct mv_config *cfg) {
  if (!cfg->tls_cert[0] && !cfg->tls_key[0])
    return 0;
  if (!cfg->tls_cert[0] || !cfg->tls_key[0]) {
    fprintf(stderr,
            "medverse %s: --%s: tls-cert and tls-key must be set "
            "together\n",
            cmd, cfg->tls_cert[0] ? "tls-key" : "tls-cert");
    return EXIT_USAGE;
  }
  const char *files[2][2] = {{"tls-cert", cfg->tls_cert},
                             {"tls-key", cfg->tls_key}};
  for (int i = 0; i < 2; i++)
    if (access(files[i][1], R_OK) != 0) {
      fprintf(stderr, "medverse %s: --%s: cannot read %s\n", cmd, files[i][0],
              files[i][1]);
      return EXIT_USAGE;
    }
  return 0;
}

int cli_load_config(const char *cmd, int argc, char **argv,
                    struct mv_config *cfg, const struct cli_flag *extra,
                    size_t n_extra, const char *summary, bool *out_help_shown) {
  struct mv_diag d;
  char msg[512];
  const char *config_file = getenv("MEDVERSE_CONFIG");
  *out_help_shown = false;
  mv_config_init(cfg);

  /* First pass: --help and --config, so the file is applied before flags. */
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(cmd, summary, extra, n_extra);
      *out_help_shown = true;
      return 0;
    }
    if (strcmp(argv[i], "--config") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "medverse %s: --config: missing value\n", cmd);
        return EXIT_USAGE;
      }
      config_file = argv[++i];
    } else if (strncmp(argv[i], "--config=", 9) == 0) {
      config_file = argv[i] + 9;
    }
  }
  if (config_file && *config_file) {
    mv_diag_clear(&d);
    if (mv_config_load_file(cfg, config_file, &d) != MV_OK) {
      fprintf(stderr, "medverse %s: %s\n", cmd,
              mv_diag_format(&d, msg, sizeof(msg)));
      return EXIT_USAGE;
    }
  }
  mv_diag_clear(&d);
  if (mv_config_load_env(cfg, environ, &d) != MV_OK) {
    fprintf(stderr, "medverse %s: %s\n", cmd,
            mv_diag_format(&d, msg, sizeof(msg)));
    return EXIT_USAGE;
  }

  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
      fprintf(stderr,
              "medverse %s: unexpected argument '%s' (see 'medverse %s "
              "--help')\n",
              cmd, a, cmd);
      return EXIT_USAGE;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const char *value = eq ? eq + 1 : NULL;
    if (name_len == 6 && strncmp(name, "config", 6) == 0) {
      if (!eq)
        i++;
      continue;
    }
    const struct cli_flag *ef = find_extra(extra, n_extra, name, name_len);
    bool boolean = ef ? !ef->takes_value : is_bool_key(name, name_len);
    if (!value) {
      if (boolean)
        value = ef ? "" : "true";
      else if (i + 1 < argc)
        value = argv[++i];
      else {
        fprintf(stderr, "medverse %s: --%.*s: missing value\n", cmd,
                (int)name_len, name);
        return EXIT_USAGE;
      }
    }
    if (ef) {
      *ef->out_value = value;
      continue;
    }
    char key[64];
    if (name_len >= sizeof(key)) {
      fprintf(
          stderr,
          "medverse %s: unknown flag '--%.40s...' (see 'medverse %s --help')\n",
          cmd, name, cmd);
      return EXIT_USAGE;
    }
    memcpy(key, name, name_len);
    key[name_len] = '\0';
    mv_diag_clear(&d);
    int rc = mv_config_set(cfg, key, value, &d);
    if (rc == MV_ENOTFOUND) {
      fprintf(stderr,
              "medverse %s: unknown flag '--%s' (see 'medverse %s --help')\n",
              cmd, key, cmd);
      return EXIT_USAGE;
    }
    if (rc != MV_OK) {
      fprintf(stderr, "medverse %s: --%s: %s\n", cmd, key,
              d.msg[0] ? d.msg : mv_strerror(rc));
      return EXIT_USAGE;
    }
  }
  return check_tls(cmd, cfg);
}

void cli_apply_logging(const struct mv_config *cfg) {
  mv_log_set_level(cfg->log_level);
  mv_log_set_json(cfg->log_json);
}
