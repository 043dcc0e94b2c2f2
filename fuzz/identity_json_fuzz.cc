// The directory's JSON bodies and the token endpoint's form (docs/identity-api.md): each input
// is parsed as JSON (no exceptions; bodies that are not JSON are refused before the service, as
// identity_ops does) and passed to the IdentityService method that takes it (CreateTenant,
// CreatePrincipal, CreateGroup, AddSecret, SetPassword, AssignRole), or its string members become
// the form of Token (client_credentials, password, refresh_token and device_code grants) or of
// StartDeviceCode, or the fields of the device login page (CompleteDeviceCode); then what was
// stored is read back (List and Get methods, EffectiveRole).
//
// The service reports errors as Status: any exception escaping it is a crash. AddSecret and
// SetPassword are called only with bodies they refuse before hashing with Argon2id (64 MiB, tens
// of milliseconds a call); their one accepted shape is a whole number of days, a password of 12
// to 256 characters.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz/pipeline_fixture.h"
#include "identity/identity_service.h"

namespace {

using tarn::fuzz::PipelineFixture;
using tarn::identity::Json;

void Show(const tarn::StatusOr<Json>& j) {
  if (j.ok()) static_cast<void>(j->dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  PipelineFixture& f = PipelineFixture::Get();
  tarn::identity::IdentityService& ids = f.identity();
  const int op = in.ConsumeIntegralInRange(0, 7);
  std::string tenant = in.ConsumeBool() ? tarn::fuzz::kTenant : in.ConsumeRandomLengthString(40);
  const std::string oid = tarn::fuzz::PickOid(in, f.seeds());
  const bool seeded_client = in.ConsumeBool();
  Json body = Json::parse(in.ConsumeRemainingBytesAsString(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;

  switch (op) {
    case 0: {
      auto r = ids.CreateTenant(body);
      Show(r);
      Show(ids.ListTenants());
      if (r.ok() && (*r)["tenant_id"].is_string()) {
        Show(ids.OpenIdConfiguration((*r)["tenant_id"].get<std::string>()));
        Show(ids.Jwks((*r)["tenant_id"].get<std::string>()));
      }
      break;
    }
    case 1: {
      auto r = ids.CreatePrincipal(tenant, body);
      Show(r);
      Show(ids.ListPrincipals(tenant));
      if (r.ok() && (*r)["object_id"].is_string()) {
        Show(ids.GetPrincipal((*r)["object_id"].get<std::string>()));
        if (r->contains("upn") && (*r)["upn"].is_string()) {
          static_cast<void>(ids.OidOf((*r)["upn"].get<std::string>()));
        }
      }
      break;
    }
    case 2: {
      auto r = ids.CreateGroup(tenant, body);
      Show(r);
      Show(ids.ListGroups(tenant));
      if (r.ok() && (*r)["object_id"].is_string()) {
        ids.AddMember((*r)["object_id"].get<std::string>(), oid).IgnoreError();
      }
      break;
    }
    case 3:
      if (tarn::fuzz::AddSecretWouldHash(body)) return 0;
      Show(ids.AddSecret(oid, body));
      Show(ids.GetPrincipal(oid));
      break;
    case 4: {
      auto r = ids.AssignRole(body);
      Show(r);
      Show(ids.ListRoles());
      tarn::identity::Caller who{oid, tarn::fuzz::kTenant, "", {f.seeds().group}, 0, ""};
      std::string resource = "/devstoreaccount1/fuzz/dir";
      if (body.is_object() && body.contains("scope") && body["scope"].is_string()) {
        resource = body["scope"].get<std::string>() + "/x";
      }
      static_cast<void>(ids.EffectiveRole(who, resource));
      break;
    }
    case 5: {
      // Set Password hashes (Argon2id) a password of 12 to 256 characters: those are left out.
      if (body.is_object() && body.contains("password") && body["password"].is_string()) {
        size_t chars = 0;
        for (unsigned char ch : body["password"].get<std::string>()) chars += (ch & 0xC0) != 0x80;
        if (chars >= 12 && chars <= 256) return 0;
      }
      ids.SetPassword(oid, body).IgnoreError();
      break;
    }
    case 6: {
      // The device code flow: a code started with the body's form, then the verification
      // page's fields. A password is checked (Argon2id) only for a code that exists, which the
      // fuzzer cannot guess: the started code's own user code is submitted without one.
      std::map<std::string, std::string> form;
      if (body.is_object()) {
        for (const auto& [k, v] : body.items()) {
          if (v.is_string()) form[k] = v.get<std::string>();
        }
      }
      if (seeded_client) form["client_id"] = tarn::identity::kPublicClientId;
      tarn::identity::OAuthReply r = ids.StartDeviceCode(tenant, form, "10.0.0.1");
      static_cast<void>(r.body.dump(-1, ' ', false, Json::error_handler_t::replace));
      const std::string typed = form.count("code") ? form["code"] : "";
      auto page = ids.CompleteDeviceCode(tenant, typed, form["username"], form["password"],
                                         form.count("decline") > 0, "10.0.0.2");
      static_cast<void>(page.message.size());
      if (r.status == 200 && r.body["user_code"].is_string()) {
        ids.CompleteDeviceCode(tenant, r.body["user_code"].get<std::string>(), form["username"],
                               "", form.count("decline") > 0, "10.0.0.1");
        std::map<std::string, std::string> poll{
            {"grant_type", "urn:ietf:params:oauth:grant-type:device_code"},
            {"client_id", form["client_id"]},
            {"device_code", r.body["device_code"].get<std::string>()}};
        static_cast<void>(ids.Token(tenant, poll).status);
      }
      break;
    }
    default: {
      // The token endpoint's form: the body's string members (client_credentials and password
      // grants: their secrets are checked with Argon2id, tens of milliseconds each).
      std::map<std::string, std::string> form;
      if (body.is_object()) {
        for (const auto& [k, v] : body.items()) {
          if (v.is_string()) form[k] = v.get<std::string>();
        }
      }
      if (seeded_client) form["client_id"] = f.seeds().app_id;
      tarn::identity::OAuthReply r = ids.Token(tenant, form);
      static_cast<void>(r.body.dump(-1, ' ', false, Json::error_handler_t::replace));
      break;
    }
  }
  return 0;
}
