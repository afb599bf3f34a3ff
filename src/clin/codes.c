/* SPDX-License-Identifier: Apache-2.0 */
/* Clinical code tables. (Placeholder: being written.) */
#include "mv_common.h"

int mv__clin_placeholder(void);
int mv__clin_placeholder(void) { return 0; }
