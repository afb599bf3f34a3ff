/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholder until the surveillance module lands (issue 7). */
#include "mv_common.h"
