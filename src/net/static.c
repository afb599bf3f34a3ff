/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Static files from web_root for GET and HEAD: "/" and directories serve
 * their index.html, content types come from the extension, and a request
 * can only ever reach a file whose real path (symlinks resolved) lies
 * inside the real path of web_root. Files are streamed from their fd in
 * chunks by http.c, never loaded whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_int.h"

static const struct {
  const char *ext;
  const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".svg", "image/svg+xml"},
    {".wasm", "application/wasm"},
    {".ico", "image/x-icon"},
    {".glb", "model/gltf-binary"},
    {".gltf", "model/gltf+json"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".tflite", "application/octet-stream"},
    {".binarypb", "application/octet-stream"},
};

const char *mv__static_content_type(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  if (dot)
    for (size_t i = 0; i < MV_ARRAY_LEN(types); i++)
      if (strcasecmp(dot, types[i].ext) == 0)
        return types[i].type;
  return "application/octet-stream";
}

static bool has_dotdot_segment(const char *p) {
  for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
    bool start = s == p || s[-1] == '/';
    bool end = s[2] == '\0' || s[2] == '/';
    if (start && end)
      return true;
  }
  return false;
}

int mv__static_resolve(const char *root, const char *path, char *out) {
  char joined[MV_LIMIT_PATH_MAX];
  char real[PATH_MAX];
  size_t root_len = strlen(root);
  struct stat st;

  /* lws already collapses "..", but this check does not rely on it. */
  if (path[0] != '/' || has_dotdot_segment(path) || strchr(path, '\\'))
    return MV_ENOTFOUND;
  int n = snprintf(joined, sizeof(joined), "%s%s%s", root, path,
                   path[strlen(path) - 1] == '/' ? "index.html" : "");
  if (n < 0 || (size_t)n >= sizeof(joined))
    return MV_ENOTFOUND;
  if (!realpath(joined, real))
    return MV_ENOTFOUND;
  if (stat(real, &st) != 0)
    return MV_ENOTFOUND;
  if (S_ISDIR(st.st_mode)) {
    size_t l = strlen(real);
    if (l + sizeof("/index.html") > sizeof(joined))
      return MV_ENOTFOUND;
    memcpy(joined, real, l);
    memcpy(joined + l, "/index.html", sizeof("/index.html"));
    if (!realpath(joined, real))
      return MV_ENOTFOUND;
  }
  /* A symlink may point anywhere; only its target's real path counts. */
  if (strncmp(real, root, root_len) != 0 ||
      (real[root_len] != '/' && real[root_len] != '\0'))
    return MV_ENOTFOUND;
  size_t real_len = strlen(real);
  if (real_len >= MV_LIMIT_PATH_MAX)
    return MV_ENOTFOUND;
  memcpy(out, real, real_len + 1);
  return MV_OK;
}

void mv__static_serve(struct mv_http_exchange *x) {
  char *real = NULL;
  struct stat st;
  int fd = -1;

  real = mv_arena_alloc(x->arena, MV_LIMIT_PATH_MAX);
  if (!real) {
    mv__http_respond_status(x, 503, MV_ENOMEM, "out of memory");
    return;
  }
  if (mv__static_resolve(x->srv->web_root, x->req.path, real) != MV_OK)
    goto notfound;
  fd = open(real, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    goto notfound;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    goto notfound;
  if ((uint64_t)st.st_size > MV_LIMIT_HTTP_RESP_MAX) {
    close(fd);
    mv__http_respond_status(x, 500, MV_ETOOBIG, "file too large");
    return;
  }
  /* no-cache: the browser revalidates, so a redeployed front end shows up */
  if (mv_http_add_header(x, "cache-control", "no-cache") != MV_OK ||
      mv_http_add_header(x, "x-content-type-options", "nosniff") != MV_OK)
    goto notfound;
  mv__http_respond_fd(x, 200, mv__static_content_type(real), fd,
                      (uint64_t)st.st_size);
  return;
notfound:
  if (fd >= 0)
    close(fd);
  mv__http_respond_status(x, 404, MV_ENOTFOUND, "no such file");
}
