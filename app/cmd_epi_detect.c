/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse epi detect`: placeholder until issue 7 lands. */
#include <stdio.h>

#include "cli.h"

int cmd_epi_detect(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "medverse epi detect: not yet available\n");
  return EXIT_USAGE;
}
