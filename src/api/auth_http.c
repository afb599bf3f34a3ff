/* SPDX-License-Identifier: Apache-2.0 */
/*
 * POST /auth/token (OAuth 2.0, RFC 6749 §4.3 password and §4.4
 * client_credentials grants, form-encoded) and bearer-token authentication
 * of every other request (RFC 6750). Failed logins are rate-limited per
 * account and per address; an unknown account costs the same time as a
 * wrong password, so timing does not reveal which accounts exist.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api_int.h"
#include "mv_json.h"
#include "mv_log.h"
#include "mv_url.h"

static void oauth_error(struct api_req *q, int status, const char *err,
                        const char *desc) {
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "error", json_object_new_string(err));
  json_object_object_add(o, "error_description", json_object_new_string(desc));
  api_json(q, status, o);
  q->ctype = "application/json";
  json_object_put(o);
  api_header(q, "Cache-Control", "no-store");
}

static const char *form(struct api_req *q, const char *name) {
  return mv_url_query_get(q->a, q->r->body, name);
}

/* The FHIR resource behind an account is created at first login when the
 * admin CLI could not (it runs without the FHIR layer). */
static void ensure_linked_resource(struct api_req *q,
                                   const struct mv_store_user *u) {
  const char *type = NULL;
  struct mv_store_record rec = {0};
  struct mv_fhir_outcome oo;
  struct api_write w;
  if (strcmp(u->role, "clinician") == 0 && u->fhir_id[0])
    type = "Practitioner";
  else if (strcmp(u->role, "patient") == 0 && u->fhir_id[0])
    type = "Patient";
  if (!type)
    return;
  int rc = mv_store_read(q->api->store, type, u->fhir_id, 0, &rec);
  if (rc == MV_OK || rc == MV_EGONE)
    mv_store_record_release(&rec);
  if (rc != MV_ENOTFOUND)
    return;
  struct json_object *res = json_object_new_object();
  json_object_object_add(res, "resourceType", json_object_new_string(type));
  json_object_object_add(res, "id", json_object_new_string(u->fhir_id));
  json_object_object_add(res, "active", json_object_new_boolean(1));
  struct json_object *ids = json_object_new_array();
  struct json_object *ident = json_object_new_object();
  json_object_object_add(ident, "system",
                         json_object_new_string("urn:medverse:username"));
  json_object_object_add(ident, "value", json_object_new_string(u->username));
  json_object_array_add(ids, ident);
  json_object_object_add(res, "identifier", ids);
  mv_fhir_outcome_init(&oo);
  rc = api_write_prepare(q, res, MV_STORE_CREATE, &w, &oo);
  if (rc == MV_OK) {
    rc = mv_store_write_sync(q->api->store, &w.w, NULL);
    if (rc == MV_EEXISTS)
      rc = MV_OK; /* a concurrent login made it */
  }
  json_object_put(res);
  if (rc != MV_OK)
    MV_LOG_WARN("auth", "could not create the account's %s resource: %s", type,
                mv_err_name(rc));
}

void api_token_job(struct api_req *q) {
  const char *ct = mv_http_header(q->x, "content-type");
  const char *grant, *user, *secret, *scope;
  char ukey[80], akey[80];
  struct mv_store_user u;
  struct mv_auth_principal p;
  char token[MV_AUTH_TOKEN_MAX + 1];
  int64_t now = mv_clock_now_us(q->api->clock);
  bool device;
  int rc;

  if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
    oauth_error(q, 400, "invalid_request",
                "send application/x-www-form-urlencoded");
    goto out;
  }
  grant = form(q, "grant_type");
  if (!grant) {
    oauth_error(q, 400, "invalid_request", "grant_type is required");
    goto out;
  }
  device = strcmp(grant, "client_credentials") == 0;
  if (!device && strcmp(grant, "password") != 0) {
    oauth_error(q, 400, "unsupported_grant_type",
                "use password or client_credentials");
    goto out;
  }
  user = form(q, device ? "client_id" : "username");
  secret = form(q, device ? "client_secret" : "password");
  scope = form(q, "scope");
  if (!user || !*user || !secret || strlen(user) >= sizeof(u.username)) {
    oauth_error(q, 400, "invalid_request",
                device ? "client_id and client_secret are required"
                       : "username and password are required");
    goto out;
  }
  snprintf(ukey, sizeof(ukey), "u:%s", user);
  snprintf(akey, sizeof(akey), "a:%s", q->r->remote);
  if (mv_auth_limiter_check(q->api->limiter, ukey, now) == MV_ERATE ||
      mv_auth_limiter_check(q->api->addr_limiter, akey, now) == MV_ERATE) {
    oauth_error(q, 429, "slow_down", "too many failed logins; wait a minute");
    api_header(q, "Retry-After", "60");
    goto out;
  }
  rc = mv_store_user_get(q->api->store, user, &u);
  bool ok = false;
  if (rc == MV_OK && !u.disabled &&
      (device ? strcmp(u.role, "device") == 0 : strcmp(u.role, "device") != 0))
    ok = mv_auth_password_verify(u.pw_hash, secret, strlen(secret)) == MV_OK;
  else if (rc == MV_OK || rc == MV_ENOTFOUND)
    API_IGNORE(mv_auth_password_verify_dummy(secret, strlen(secret)));
  else {
    api_fail_err(q, rc, NULL, "login");
    goto out;
  }
  if (!ok) {
    API_IGNORE(mv_auth_limiter_fail(q->api->limiter, ukey, now));
    API_IGNORE(mv_auth_limiter_fail(q->api->addr_limiter, akey, now));
    if (device)
      oauth_error(q, 401, "invalid_client", "unknown client or bad secret");
    else
      oauth_error(q, 400, "invalid_grant", "unknown user or wrong password");
    MV_LOG_INFO("auth", "login failed");
    goto out;
  }
  mv_auth_limiter_success(q->api->limiter, ukey);
  memset(&p, 0, sizeof(p));
  snprintf(p.sub, sizeof(p.sub), "%s", u.username);
  snprintf(p.fhir_id, sizeof(p.fhir_id), "%s", u.fhir_id);
  snprintf(p.org_id, sizeof(p.org_id), "%s", u.org_id);
  if (mv_auth_role_parse(u.role, &p.role) != MV_OK) {
    oauth_error(q, 400, "invalid_grant", "the account has no usable role");
    goto out;
  }
  rc = mv_auth_scopes_grant(p.role, scope, &p.scopes);
  if (rc != MV_OK) {
    oauth_error(q, 400, "invalid_scope",
                "the requested scope is malformed or not allowed");
    goto out;
  }
  rc = mv_auth_token_issue(q->api->token_key, &p, now, q->api->token_ttl_s,
                           token, sizeof(token));
  if (rc != MV_OK) {
    api_fail_err(q, rc, NULL, "token");
    goto out;
  }
  ensure_linked_resource(q, &u);
  {
    char sc[MV_AUTH_SCOPE_TEXT_MAX + 1];
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(token));
    json_object_object_add(o, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(o, "expires_in",
                           json_object_new_int64(q->api->token_ttl_s));
    if (mv_auth_scopes_format(&p.scopes, sc, sizeof(sc)) == MV_OK)
      json_object_object_add(o, "scope", json_object_new_string(sc));
    if (p.role == MV_AUTH_ROLE_PATIENT && p.fhir_id[0])
      json_object_object_add(o, "patient", json_object_new_string(p.fhir_id));
    api_json(q, 200, o);
    q->ctype = "application/json";
    api_header(q, "Cache-Control", "no-store");
    api_header(q, "Pragma", "no-cache");
    json_object_put(o);
  }
out:
  sodium_memzero(token, sizeof(token));
  api_finish(q);
}

static void unauthorized(struct api_req *q, const char *err, const char *why) {
  char h[128];
  api_fail(q, 401, "login", NULL, "%s", why);
  snprintf(h, sizeof(h), "Bearer realm=\"medverse\"%s%s%s",
           err ? ", error=\"" : "", err ? err : "", err ? "\"" : "");
  api_header(q, "WWW-Authenticate", h);
}

int api_authenticate(struct api_req *q) {
  const char *h = mv_http_header(q->x, "authorization");
  struct mv_store_user u;
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
    unauthorized(q, NULL, "a bearer token is required");
    return -1;
  }
  h += 7;
  while (*h == ' ')
    h++;
  if (mv_auth_token_verify(q->api->token_key, h, strlen(h),
                           mv_clock_now_us(q->api->clock), &q->who) != MV_OK) {
    unauthorized(q, "invalid_token", "the token is invalid or expired");
    return -1;
  }
  /* A disabled account loses access at once, not when its token expires. */
  if (mv_store_user_get(q->api->store, q->who.sub, &u) != MV_OK || u.disabled) {
    unauthorized(q, "invalid_token", "the account is disabled");
    return -1;
  }
  q->authed = true;
  switch (q->who.role) {
  case MV_AUTH_ROLE_CLINICIAN:
  case MV_AUTH_ROLE_ADMIN:
  case MV_AUTH_ROLE_AUDITOR:
    q->agent_ref = q->who.fhir_id[0] ? mv_arena_printf(q->a, "Practitioner/%s",
                                                       q->who.fhir_id)
                                     : NULL;
    break;
  case MV_AUTH_ROLE_PATIENT:
    q->agent_ref = q->who.fhir_id[0]
                       ? mv_arena_printf(q->a, "Patient/%s", q->who.fhir_id)
                       : NULL;
    break;
  default:
    q->agent_ref = NULL;
    break;
  }
  return 0;
}

int api_ws_authenticate(struct mv_api *api, struct mv_ws_upgrade *u,
                        struct mv_auth_principal *out, const char **out_msg) {
  const char *h = mv_ws_upgrade_header(u, "authorization");
  const char *tok = NULL;
  struct mv_store_user user;

  if (h && strncasecmp(h, "Bearer ", 7) == 0) {
    tok = h + 7;
    while (*tok == ' ')
      tok++;
  } else {
    tok = mv_ws_upgrade_query(u, "access_token");
  }
  if (!tok || !*tok) {
    *out_msg = "a bearer token is required";
    return 401;
  }
  if (mv_auth_token_verify(api->token_key, tok, strlen(tok),
                           mv_clock_now_us(api->clock), out) != MV_OK) {
    *out_msg = "the token is invalid or expired";
    return 401;
  }
  /* As api_authenticate: a disabled account loses access at once. */
  if (mv_store_user_get(api->store, out->sub, &user) != MV_OK ||
      user.disabled) {
    *out_msg = "the account is disabled";
    return 401;
  }
  return 0;
}
