/* SPDX-License-Identifier: Apache-2.0 */
/* Device decoders. (Placeholder: being written.) */
#include "mv_dev.h"

int mv__dev_placeholder(void);
int mv__dev_placeholder(void) { return 0; }
