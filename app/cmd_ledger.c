/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse ledger`: placeholder until issue 6 lands. */
#include <stdio.h>

#include "cli.h"

int cmd_ledger(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "medverse ledger: not yet available\n");
  return EXIT_USAGE;
}
