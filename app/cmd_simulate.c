/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse simulate`. (Placeholder: being written.) */
#include <stdio.h>

#include "cli.h"

int cmd_simulate(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "medverse simulate: not built yet\n");
  return 2;
}
