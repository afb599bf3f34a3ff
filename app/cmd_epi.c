/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse epi`: placeholder until issue 7 lands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_epi(int argc, char **argv) {
  if (argc >= 1 && strcmp(argv[0], "detect") == 0)
    return cmd_epi_detect(argc - 1, argv + 1);
  fprintf(stderr, "usage: medverse epi detect|rt|forecast ...\n");
  return EXIT_USAGE;
}
