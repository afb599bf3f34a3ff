/* SPDX-License-Identifier: Apache-2.0 */
/* `medverse version`: our version and those of the libraries we run on. */
#include <json-c/json_c_version.h>
#include <libwebsockets.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cli.h"
#include "mv_version_gen.h"

int cmd_version(int argc, char **argv) {
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: medverse version\n\nPrint the medverse version and the "
             "versions of the libraries it uses.\n");
      return 0;
    }
    fprintf(stderr, "medverse version: unknown flag '%s'\n", argv[i]);
    return EXIT_USAGE;
  }
  printf("medverse %s\n", MV_VERSION_STRING);
  printf("  libuv %s, libwebsockets %s, json-c %s, SQLite %s, libsodium %s\n",
         uv_version_string(), lws_get_library_version(), json_c_version(),
         sqlite3_libversion(), sodium_version_string());
  printf("Not a certified medical device.\n");
  return 0;
}
