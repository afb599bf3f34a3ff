/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The medverse binary: dispatches to one cmd_<name>.c per subcommand. Thin
 * by design: parsing, wiring and mapping errors to exit codes live in the
 * subcommands; the work lives in libmedverse.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
    {"serve", cmd_serve,
     "run the server (HTTP, WebSocket) on an embedded store"},
    {"demo", cmd_demo,
     "run the server with demo accounts and simulated patients"},
    {"admin", cmd_admin,
     "manage accounts, devices and the site key (server running or not)"},
    {"epi", cmd_epi, "surveillance on CSV: outbreak detection, Rt, forecasts"},
    {"ledger", cmd_ledger,
     "the tamper-evident log: verify, prove, export, witness"},
    {"triage", cmd_triage,
     "symptom triage: train, evaluate, predict (red flags first)"},
    {"simulate", cmd_simulate,
     "simulated patients: ECG and vital signs over ws, mllp or http"},
    {"ecg", cmd_ecg, "WFDB records: QRS detection, scoring, filtering, info"},
    {"version", cmd_version, "print version and library versions"},
};

static void usage(FILE *out) {
  fprintf(out,
          "usage: medverse <command> [flags]\n\n"
          "medverse is a self-hosted remote-care platform.\n"
          "It is NOT a certified medical device: do not use it for clinical "
          "decisions.\n\ncommands:\n");
  for (size_t i = 0; i < MV_ARRAY_LEN(commands); i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'medverse <command> --help' for the flags of a "
               "command.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
      strcmp(cmd, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0)
    return cmd_version(0, NULL);
  for (size_t i = 0; i < MV_ARRAY_LEN(commands); i++)
    if (strcmp(commands[i].name, cmd) == 0)
      return commands[i].fn(argc - 2, argv + 2);
  fprintf(stderr, "medverse: unknown command '%s' (see 'medverse --help')\n",
          cmd);
  return EXIT_USAGE;
}
