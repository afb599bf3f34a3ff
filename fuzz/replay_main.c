/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replays a fuzz corpus without libFuzzer: feeds every regular file of the
 * directory given as argument (in name order) to LLVMFuzzerTestOneInput, so
 * the ordinary test build checks the seeds under its sanitizers. Fails when
 * the directory is missing, unreadable or holds no inputs.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file into an exact-size allocation, so that ASan catches
 * a target reading one byte past the input. */
static int read_file(const char *path, uint8_t **out_data, size_t *out_size) {
  FILE *f = fopen(path, "rb");
  uint8_t *data = NULL;
  struct stat st;
  int rc = -1;
  if (!f)
    return -1;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0)
    goto out;
  size_t size = (size_t)st.st_size;
  data = malloc(size ? size : 1);
  if (!data || fread(data, 1, size, f) != size)
    goto out;
  *out_data = data;
  *out_size = size;
  data = NULL;
  rc = 0;
out:
  free(data);
  fclose(f);
  return rc;
}

int main(int argc, char **argv) {
  struct dirent **names = NULL;
  size_t replayed = 0;
  int rc = 1;
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  int n = scandir(argv[1], &names, NULL, alphasort);
  if (n < 0) {
    perror(argv[1]);
    return 1;
  }
  for (int i = 0; i < n; i++) {
    char path[4096];
    struct stat st;
    uint8_t *data = NULL;
    size_t size = 0;
    int w = snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]->d_name);
    if (w < 0 || (size_t)w >= sizeof(path)) {
      fprintf(stderr, "path too long: %s\n", names[i]->d_name);
      goto out;
    }
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
      continue;
    if (read_file(path, &data, &size) != 0) {
      perror(path);
      goto out;
    }
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    replayed++;
  }
  printf("replayed %zu inputs\n", replayed);
  rc = replayed > 0 ? 0 : 1;
  if (replayed == 0)
    fprintf(stderr, "%s: no inputs\n", argv[1]);
out:
  for (int i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}
